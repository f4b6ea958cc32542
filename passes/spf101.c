/* SPF101 closure-free-nested-def: a def or lambda whose code object sits directly inside a
 * function-like code object and has empty co_freevars. Fix: lift it to module level. */
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#include "engine.h"
#include "module.h"
#include "nested.h"
#include "pass.h"
#include "scope.h"

struct use_scan;

struct lift {
	struct nested n;
	const char *short_name;  /* inner name, assignment target of a lambda, or "lambda" */
	bool used;               /* the name is used elsewhere in the parent scope */
	struct use_scan *uses;   /* what lift_check found of its uses */
};

void *lift_new(struct unit *u, const struct nested *n)
{
	struct lift *l = arena_alloc(&u->arena, sizeof *l);
	if (l) {
		l->n = *n;
		l->short_name = nested_short_name(u, n->node);
	}
	return l;
}

struct buf;
static bool reflow_join(struct unit *u, TSNode n, struct buf *out);
static bool magic_comma(struct unit *u, TSNode n);
static bool magic_comma_inside(struct unit *u, TSNode n);

static int find(struct unit *u, const struct pass *self, TSNode node)
{
	struct nested n;
	int r = nested_resolve(u, self, node, &n);
	if (r <= 0)
		return r;
	struct lift *l = lift_new(u, &n);
	if (!l)
		return -1;
	if (l->n.code->nfreevars) {
		unit_debug(u, self, "%u:%u: %s captures %s: not SPF101", ts_node_start_point(node).row + 1,
			   ts_node_start_point(node).column + 1, l->n.qualname, l->n.code->freevars);
		return 0;
	}
	if (l->n.code->site_in_loop) {
		/* one finding per site: SPF102 reports it, with this lift as its fix */
		unit_debug(u, self, "%u:%u: %s is built in a loop: SPF102", ts_node_start_point(node).row + 1,
			   ts_node_start_point(node).column + 1, l->n.qualname);
		return 0;
	}
	bool is_def = syn_is(node, "function_definition");
	TSNode at = is_def ? syn_field(node, "name") : node;
	if (!is_def) /* report the `lambda` keyword: a lambda can span many lines */
		at = ts_node_child(node, 0);
	struct finding *f = unit_add_finding(u, self, at);
	if (!f)
		return -1;
	f->node = node;
	f->code = l->n.code;
	f->data = l;
	const char *outer = ts_node_is_null(l->n.outer_def) ? "lambda" : nested_short_name(u, l->n.outer_def);
	f->message = is_def ? arena_printf(&u->arena,
					   "Nested function `%s` captures nothing from `%s` but is rebuilt on every call",
					   l->short_name, outer)
			    : arena_printf(&u->arena, "Lambda in `%s` captures nothing but is rebuilt on every call", outer);
	f->facts = arena_printf(&u->arena, "code=%s firstlineno=%d co_freevars=() MAKE_FUNCTION flags=%d in_loop=%d",
				l->n.code->qualname, l->n.code->firstlineno, l->n.code->make_flags,
				l->n.code->site_in_loop);
	return 0;
}

/* ---- check: is the lift safe? ---------------------------------------------------------------
 *
 * lift_check runs the checks one by one; each demotes the fix and says why in words. */

struct verdict {
	enum applicability a;
	const char *reason;
};

static void demote(struct verdict *v, enum applicability a, const char *reason)
{
	if (a < v->a) {
		v->a = a;
		v->reason = reason;
	}
}

/* The expression spans evaluated in the parent when the function is built: decorators,
 * default values, annotations. */
#define MAX_SPANS 256
struct spans {
	TSNode n[MAX_SPANS];
	bool is_default[MAX_SPANS];
	size_t count;
	bool overflow;
	size_t ndecorators;
};

static void add_span(struct spans *s, TSNode n, bool is_default)
{
	if (ts_node_is_null(n))
		return;
	if (s->count == MAX_SPANS) {
		s->overflow = true;
		return;
	}
	s->is_default[s->count] = is_default;
	s->n[s->count++] = n;
}

static void collect_spans(TSNode fn, struct spans *s)
{
	s->ndecorators = 0;
	TSNode stmt = scope_def_statement(fn);
	if (!ts_node_eq(stmt, fn)) {
		uint32_t n = ts_node_named_child_count(stmt);
		for (uint32_t i = 0; i < n; i++) {
			TSNode c = ts_node_named_child(stmt, i);
			if (syn_is(c, "decorator")) {
				add_span(s, c, false);
				s->ndecorators++;
			}
		}
	}
	TSNode params = syn_field(fn, "parameters");
	uint32_t n = ts_node_is_null(params) ? 0 : ts_node_named_child_count(params);
	for (uint32_t i = 0; i < n; i++) {
		TSNode p = ts_node_named_child(params, i);
		add_span(s, syn_field(p, "value"), true);
		add_span(s, syn_field(p, "type"), false);
	}
	add_span(s, syn_field(fn, "return_type"), false);
}

static bool insn_in_node(const struct insn *in, TSNode n)
{
	if (in->line <= 0 || in->col < 0)
		return false;
	TSPoint s = ts_node_start_point(n), e = ts_node_end_point(n);
	int l = in->line - 1, el = in->end_line - 1;
	bool after = l > (int)s.row || (l == (int)s.row && in->col >= (int)s.column);
	bool before = el < (int)e.row || (el == (int)e.row && in->end_col <= (int)e.column);
	return after && before;
}

static bool is_immutable_literal(TSNode v)
{
	const char *t = ts_node_type(v);
	if (!strcmp(t, "integer") || !strcmp(t, "float") || !strcmp(t, "string") || !strcmp(t, "true") ||
	    !strcmp(t, "false") || !strcmp(t, "none") || !strcmp(t, "concatenated_string") ||
	    !strcmp(t, "identifier") || !strcmp(t, "attribute") || !strcmp(t, "ellipsis"))
		return true;
	if (!strcmp(t, "unary_operator"))
		return is_immutable_literal(ts_node_named_child(v, ts_node_named_child_count(v) - 1));
	if (!strcmp(t, "parenthesized_expression") || !strcmp(t, "tuple")) {
		uint32_t n = ts_node_named_child_count(v);
		for (uint32_t i = 0; i < n; i++)
			if (!is_immutable_literal(ts_node_named_child(v, i)))
				return false;
		return true;
	}
	return false;
}

/* Is the module-level statement holding line `line` (1-based) a compound statement (if, try,
 * for, while, with, match), so that a binding inside it may not happen? */
static bool bound_conditionally(struct unit *u, int line)
{
	uint32_t n;
	const TSNode *top = unit_statements(u, &n);
	for (uint32_t i = line > 0 ? unit_statement_reaching_row(u, (uint32_t)line - 1) : 0; i < n; i++) {
		TSNode c = top[i];
		if ((int)ts_node_start_point(c).row + 1 > line)
			break;
		if ((int)ts_node_end_point(c).row + 1 < line)
			continue;
		static const char *const compound[] = {"if_statement", "try_statement", "for_statement",
						       "while_statement", "with_statement", "match_statement"};
		for (size_t k = 0; k < sizeof compound / sizeof *compound; k++)
			if (syn_is(c, compound[k]))
				return true;
		return false;
	}
	return true; /* not found: assume the worst */
}

/* Is a global name read when building the function safe to read once, at import, before the
 * top-level statement at `line`? */
static void check_global(struct unit *u, const char *name, int line, struct verdict *v)
{
	int first = 0;
	int n = bridge_global_bindings(u, name, &first);
	if (n < 0)
		demote(v, FIX_UNSAFE, arena_printf(&u->arena, "the module does `from ... import *`, so `%s`, which "
							      "a default, annotation or decorator reads, may be rebound",
						   name));
	else if (n == 0 && bridge_is_builtin(name))
		return;
	else if (n == 0)
		demote(v, FIX_NONE, arena_printf(&u->arena, "a default, annotation or decorator reads `%s`, which is "
							    "not bound in the module", name));
	else if (first == 0)
		demote(v, FIX_NONE, arena_printf(&u->arena,
						 "a default, annotation or decorator reads `%s`, which is bound only inside "
						 "functions (`global`); the lifted def could raise NameError at import", name));
	else if (bound_conditionally(u, first))
		demote(v, FIX_NONE, arena_printf(&u->arena,
						 "a default, annotation or decorator reads `%s`, which is bound inside a "
						 "compound statement at module level; the lifted def could raise NameError "
						 "at import", name));
	else if (first >= line)
		demote(v, FIX_NONE, arena_printf(&u->arena,
						 "a default, annotation or decorator reads `%s`, which is defined after the "
						 "enclosing function; the lifted def would raise NameError at import", name));
	else if (n > 1)
		demote(v, FIX_UNSAFE, arena_printf(&u->arena,
						   "a default, annotation or decorator reads `%s`, which is bound more than "
						   "once in the module; the lifted def would read it once at import instead of "
						   "on every call", name));
}

/* Is the callee `f` (a name or attribute chain) the module import `qualified` names? */
static bool is_import_of(struct unit *u, TSNode f, const char *qualified)
{
	TSNode root;
	const char *rest;
	if (!module_name_chain(u, f, &root, &rest))
		return false;
	const char *name = arena_strndup(&u->arena, u->src + ts_node_start_byte(root), syn_len(root));
	struct global_ref r;
	if (!name || module_resolve(u, name, &r) < 0 || r.kind != GK_IMPORT)
		return false;
	const char *q = *rest ? arena_printf(&u->arena, "%s.%s", r.qualified, rest) : r.qualified;
	return q && !strcmp(q, qualified);
}

/* Is `n` a module constant bound once to re.compile(...), or a conditional expression of such
 * constants (`(A if flag else B)`)? */
static bool is_pattern_constant(struct unit *u, TSNode n)
{
	while (syn_is(n, "parenthesized_expression"))
		n = ts_node_named_child(n, 0);
	if (syn_is(n, "conditional_expression"))
		return is_pattern_constant(u, ts_node_named_child(n, 0)) && is_pattern_constant(u, ts_node_named_child(n, 2));
	if (!syn_is(n, "identifier"))
		return false;
	const char *name = arena_strndup(&u->arena, u->src + ts_node_start_byte(n), syn_len(n));
	struct global_ref r;
	const char *type;
	return name && module_resolve(u, name, &r) == 0 && (type = module_constant_type(u, &r)) &&
	       !strcmp(type, "re.Pattern");
}

/* Known consumers: they call the function they are given and keep nothing of it. */
static bool known_consumer(struct unit *u, struct nested *nd, TSNode call, TSNode arg, bool keyword, uint32_t pos)
{
	static const char *const key_consumers[] = {"heapq.nlargest", "heapq.nsmallest", "itertools.groupby", NULL};
	static const char *const first_consumers[] = {"functools.reduce", "itertools.starmap", "itertools.filterfalse",
						      "itertools.takewhile", "itertools.dropwhile",
						      "itertools.accumulate", NULL};
	TSNode f = syn_field(call, "function");
	const char *src = u->src;
	bool builtin = false;
	if (keyword) {
		TSNode kw = syn_field(ts_node_parent(arg), "name");
		if (!syn_text_eq(kw, src, "key"))
			return false;
		if (syn_is(f, "attribute") && syn_text_eq(syn_field(f, "attribute"), src, "sort"))
			return true; /* list.sort(key=...) (any .sort(key=...) calls it, keeps nothing) */
		for (const char *const *c = key_consumers; *c; c++)
			if (is_import_of(u, f, *c))
				return true;
		builtin = syn_text_eq(f, src, "sorted") || syn_text_eq(f, src, "min") || syn_text_eq(f, src, "max");
	} else {
		if (pos == 0) {
			for (const char *const *c = first_consumers; *c; c++)
				if (is_import_of(u, f, *c))
					return true;
			builtin = syn_text_eq(f, src, "map") || syn_text_eq(f, src, "filter");
		}
		if (pos == 1 && (is_import_of(u, f, "re.sub") || is_import_of(u, f, "re.subn")))
			return true;
		/* PATTERN.sub(repl, string): a module constant bound once to re.compile(...) */
		if (pos == 0 && syn_is(f, "attribute") &&
		    (syn_text_eq(syn_field(f, "attribute"), src, "sub") || syn_text_eq(syn_field(f, "attribute"), src, "subn")) &&
		    is_pattern_constant(u, syn_field(f, "object")))
			return true;
	}
	if (!builtin)
		return false;
	/* a builtin consumer must really be the builtin: not rebound in the module or the parent */
	char name[16];
	size_t len = syn_len(f) < sizeof name - 1 ? syn_len(f) : sizeof name - 1;
	memcpy(name, src + ts_node_start_byte(f), len);
	name[len] = 0;
	int first;
	return bridge_global_bindings(u, name, &first) == 0 && bridge_local_kind(nd->code->parent, name) == 0;
}

/* How a value (an identifier use, or the lambda itself) is consumed. NULL when it is only
 * called or handed to a known consumer; otherwise a description of the escape. */
static const char *escape_of(struct unit *u, struct nested *nd, TSNode n)
{
	TSNode p = ts_node_parent(n);
	while (syn_is(p, "parenthesized_expression")) {
		n = p;
		p = ts_node_parent(p);
	}
	if (syn_is(p, "call") && ts_node_eq(syn_field(p, "function"), n))
		return NULL;
	if (syn_is(p, "keyword_argument") && ts_node_eq(syn_field(p, "value"), n)) {
		TSNode call = ts_node_parent(ts_node_parent(p));
		if (syn_is(call, "call") && known_consumer(u, nd, call, n, true, 0))
			return NULL;
		return "it is passed as a keyword argument to a callee that may keep it";
	}
	if (syn_is(p, "argument_list")) {
		uint32_t pos = 0, cnt = ts_node_named_child_count(p);
		for (uint32_t i = 0; i < cnt; i++) {
			TSNode c = ts_node_named_child(p, i);
			if (ts_node_eq(c, n))
				break;
			if (!syn_is(c, "keyword_argument") && !syn_is(c, "comment"))
				pos++;
		}
		TSNode call = ts_node_parent(p);
		if (syn_is(call, "call") && known_consumer(u, nd, call, n, false, pos))
			return NULL;
		return "it is passed to a callee that may keep it";
	}
	if (syn_is(p, "return_statement"))
		return "it is returned";
	if (syn_is(p, "yield"))
		return "it is yielded";
	if (syn_is(p, "assignment") || syn_is(p, "augmented_assignment"))
		return "it is stored";
	return "it is used as a value (stored, compared or passed on)";
}

struct use_scan {
	struct unit *u;
	struct nested *nd;
	TSNode self_name;
	size_t uses;
	const char *escape;
	bool rebound;          /* another binding of the name (def, assignment) */
	TSNode *loads;         /* the uses that only read the name */
	size_t nloads, cap;
	bool oom;
};

/* Does the identifier n (whose parent is p) bind the name rather than read it? */
static bool is_binding(TSNode n, TSNode p)
{
	static const char *const binders[] = {"delete_statement", "global_statement", "nonlocal_statement",
					      "pattern_list", "tuple_pattern", "list_pattern", "as_pattern_target",
					      "import_statement", "import_from_statement", "aliased_import",
					      "dotted_name", NULL};
	for (const char *const *b = binders; *b; b++)
		if (syn_is(p, *b))
			return true;
	if (syn_is(p, "function_definition") || syn_is(p, "class_definition") || syn_is(p, "named_expression"))
		return ts_node_eq(syn_field(p, "name"), n);
	if (syn_is(p, "assignment") || syn_is(p, "augmented_assignment") || syn_is(p, "for_statement") ||
	    syn_is(p, "for_in_clause"))
		return ts_node_eq(syn_field(p, "left"), n);
	return false;
}

static void on_use(TSNode n, void *vctx)
{
	struct use_scan *s = vctx;
	if (ts_node_eq(n, s->self_name))
		return;
	TSNode p = ts_node_parent(n);
	/* the left side of `name = lambda ...` is the binding itself */
	if (syn_is(p, "assignment") && ts_node_eq(syn_field(p, "left"), n) && ts_node_eq(syn_field(p, "right"), s->nd->node))
		return;
	s->uses++;
	/* a rebinding (another def of the name, `name = ...`) is not an escape */
	if (is_binding(n, p)) {
		s->rebound = true;
		return;
	}
	if (!s->escape)
		s->escape = escape_of(s->u, s->nd, n);
	if (s->nloads == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 8;
		TSNode *nv = arena_grow(&s->u->arena, s->loads, sizeof *nv, s->nloads, s->cap);
		if (!nv) {
			s->oom = true;
			return;
		}
		s->loads = nv;
	}
	s->loads[s->nloads++] = n;
}

struct local_scan {
	struct unit *u;
	const struct code_info *parent;
	const char *name;
};

static int find_local(TSNode n, void *vctx)
{
	struct local_scan *s = vctx;
	if (syn_is(n, "identifier")) {
		const char *name = arena_strndup(&s->u->arena, s->u->src + ts_node_start_byte(n), syn_len(n));
		if (name && bridge_local_kind(s->parent, name) != 0) {
			s->name = name;
			return -1;
		}
		return 0;
	}
	if (syn_is(n, "attribute")) /* obj.attr: only obj names a variable */
		return syn_walk(syn_field(n, "object"), find_local, s) < 0 ? -1 : 0;
	if (syn_is(n, "keyword_argument"))
		return syn_walk(syn_field(n, "value"), find_local, s) < 0 ? -1 : 0;
	return 1;
}

struct private_scan {
	struct unit *u;
	bool found;
};

static int find_private(TSNode n, void *vctx)
{
	struct private_scan *s = vctx;
	if (syn_is(n, "identifier")) {
		size_t len = syn_len(n);
		const char *t = s->u->src + ts_node_start_byte(n);
		if (len > 2 && t[0] == '_' && t[1] == '_' && !(t[len - 1] == '_' && t[len - 2] == '_')) {
			s->found = true;
			return -1;
		}
		return 0;
	}
	return 1;
}

static bool inside_class(const struct unit *u, TSNode n)
{
	for (TSNode s = scope_parent(u, n); !ts_node_is_null(s); s = scope_parent(u, s))
		if (syn_is(s, "class_definition"))
			return true;
	return false;
}

/* What builds the function -- decorators, defaults, annotations -- reads nothing of the
 * enclosing function (on its instructions, then on the tree), only module names bound once
 * before the lift point, or builtins; no default is computed by a call. */
static void check_what_builds_it(struct unit *u, struct nested *nd, const struct spans *sp, int top_line, struct verdict *v)
{
	const struct code_info *parent = nd->code->parent;
	if (sp->overflow)
		demote(v, FIX_NONE, "it has too many defaults and annotations to verify");
	for (size_t i = 0; i < parent->ninsns; i++) {
		const struct insn *in = &parent->insns[i];
		for (size_t k = 0; k < sp->count; k++) {
			if (!insn_in_node(in, sp->n[k]))
				continue;
			const char *name = bridge_insn_name(u, parent, in);
			if (bridge_op_reads_local(in->op))
				demote(v, FIX_NONE, arena_printf(&u->arena, "a default, annotation or decorator reads `%s` of "
									    "the enclosing function", name ? name : "?"));
			else if (bridge_op_is_global_load(in->op) && name)
				check_global(u, name, top_line, v);
			else if (bridge_op_is_call(in->op) && sp->is_default[k])
				demote(v, FIX_UNSAFE, "a default is computed by a call; lifted, it would be computed once at "
						      "import instead of on every call");
			break;
		}
	}
	/* the tree agrees: no identifier in those spans names a local of the parent */
	for (size_t k = 0; k < sp->count; k++) {
		struct local_scan ls = {u, parent, NULL};
		syn_walk(sp->n[k], find_local, &ls);
		if (ls.name)
			demote(v, FIX_NONE, arena_printf(&u->arena, "a default, annotation or decorator names `%s`, a local "
								    "of the enclosing function", ls.name));
	}
}

/* No decorator, no default that is not an immutable constant. */
static void check_decorators_and_defaults(struct unit *u, const struct spans *sp, struct verdict *v)
{
	if (sp->ndecorators)
		demote(v, FIX_UNSAFE, "the def is decorated; the decorator would run once at import instead of on "
				      "every call");
	for (size_t k = 0; k < sp->count; k++)
		if (sp->is_default[k] && !is_immutable_literal(sp->n[k]))
			demote(v, FIX_UNSAFE, arena_printf(&u->arena, "the default `%s` is not an immutable constant; "
								      "lifted, one object would be shared by every call",
							   module_excerpt(u, sp->n[k], 40)));
}

/* The function object does not escape: it is only called, or handed to a known consumer. */
static void check_escape(struct unit *u, struct lift *l, struct use_scan *us, struct verdict *v)
{
	struct nested *nd = &l->n;
	TSNode node = nd->node;
	bool is_def = syn_is(node, "function_definition");
	TSNode scope_body = syn_is_comprehension(nd->parent) ? nd->parent : syn_field(nd->parent, "body");
	bool named = is_def || strcmp(l->short_name, "lambda") != 0;
	if (named)
		scope_each_use(u, scope_body, l->short_name, on_use, us);
	if (!is_def && !named)
		us->escape = escape_of(u, nd, node);
	l->used = us->uses > 0;
	if (us->escape)
		demote(v, FIX_UNSAFE, arena_printf(&u->arena, "the function object escapes (%s); each call of the "
							      "enclosing function used to get a new object",
						   us->escape));
}

/* No dynamic access to the enclosing function's namespace, no `global`/`nonlocal` for the name,
 * and a def nobody uses is not lifted (it is dead code). */
static void check_namespace(struct unit *u, struct lift *l, const struct use_scan *us, struct verdict *v)
{
	struct nested *nd = &l->n;
	TSNode node = nd->node;
	bool named = syn_is(node, "function_definition") || strcmp(l->short_name, "lambda") != 0;
	TSNode fnscope = syn_is_comprehension(nd->parent) ? scope_enclosing_def(u, node) : nd->parent;
	const char *dyn = syn_is(fnscope, "function_definition") || syn_is(fnscope, "lambda")
				  ? scope_dynamic_call(u, fnscope) : NULL;
	if (dyn)
		l->used = true; /* eval/exec may name it in a string: keep the local */
	/* A def nobody uses is dead code: lifting it would only move it to module level, shifting
	 * every line below (tracebacks, inspect.getsource) for the cost of building it. */
	if (named && !l->used && !us->escape)
		demote(v, FIX_NONE, arena_printf(&u->arena, "`%s` is never used in the enclosing function; delete it "
							    "rather than lift it", l->short_name));
	if (dyn)
		demote(v, FIX_UNSAFE, arena_printf(&u->arena, "the enclosing function calls %s(), which can see the "
							      "local function object", dyn));
	if (named && bridge_local_kind(nd->code->parent, l->short_name) == 0)
		demote(v, FIX_UNSAFE, arena_printf(&u->arena, "`%s` is not a local of the enclosing function (it is "
							      "declared global or nonlocal)", l->short_name));
}

/* Private names inside a class are mangled by the class; at module level they would not be. */
static void check_private_names(struct unit *u, TSNode node, struct verdict *v)
{
	if (inside_class(u, node)) {
		struct private_scan ps = {u, false};
		syn_walk(scope_def_statement(node), find_private, &ps);
		if (ps.found)
			demote(v, FIX_NONE, "it uses a private `__name` inside a class; name mangling would change");
	}
	if (syn_is(ts_node_parent(node), "lambda") && !ts_node_eq(syn_field(ts_node_parent(node), "body"), node))
		demote(v, FIX_NONE, "a lambda in a lambda's parameters is not lifted");
}

/* The module does not delete or replace module names in bulk after the lift point: the new
 * module-level name would survive a `del` of the helpers, or an `import *` could replace it. */
static void check_module_names(struct unit *u, TSNode node, struct verdict *v)
{
	size_t at = ts_node_start_byte(scope_toplevel_statement(node));
	const char *bulk = module_bulk_rebind_after(u, at);
	if (bulk)
		demote(v, FIX_UNSAFE, arena_printf(&u->arena, "%s; the lifted function would survive it as a new "
							      "module name (dir() and `import *` of the module change)",
						   bulk));
}

int lift_check(struct unit *u, struct finding *f)
{
	struct lift *l = f->data;
	struct nested *nd = &l->n;
	struct verdict v = {FIX_SAFE, NULL};
	int top_line = (int)ts_node_start_point(scope_toplevel_statement(nd->node)).row + 1;
	struct spans *sp = arena_alloc(&u->arena, sizeof *sp);
	struct use_scan *us = arena_alloc(&u->arena, sizeof *us);
	if (!sp || !us)
		return -1;
	collect_spans(nd->node, sp);
	*us = (struct use_scan){.u = u, .nd = nd};
	if (syn_is(nd->node, "function_definition"))
		us->self_name = syn_field(nd->node, "name");
	/* co_freevars is empty: find() and SPF102 took only such functions */
	check_what_builds_it(u, nd, sp, top_line, &v);
	check_decorators_and_defaults(u, sp, &v);
	check_escape(u, l, us, &v);
	if (us->oom)
		return -1;
	check_namespace(u, l, us, &v);
	check_private_names(u, nd->node, &v);
	check_module_names(u, nd->node, &v);
	l->uses = us;

	f->applicability = v.a;
	f->reason = v.reason;
	unit_debug(u, f->pass, "%u:%u: %s -> %s%s%s", f->row + 1, f->col + 1, nd->qualname,
		   v.a == FIX_SAFE ? "safe" : v.a == FIX_UNSAFE ? "unsafe" : "none", v.reason ? ": " : "",
		   v.reason ? v.reason : "");
	return 1;
}

/* ---- rewrite: the lift ------------------------------------------------------------------- */

struct buf {
	struct arena *a;
	char *p;
	size_t len, cap;
	bool oom;
};

static void put(struct buf *b, const char *s, size_t n)
{
	if (b->oom || n > SIZE_MAX / 4 || b->len > SIZE_MAX / 4) {
		b->oom = true; /* also tells the compiler the bound of the copy */
		return;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->cap ? b->cap * 2 : 256);
		while (cap < b->len + n + 1)
			cap *= 2;
		char *np = arena_grow(b->a, b->p, 1, b->len, cap);
		if (!np) {
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = 0;
}

static void puts_(struct buf *b, const char *s) { put(b, s, strlen(s)); }

struct strings {
	TSNode n[1024];
	size_t count;
};

static int find_strings(TSNode n, void *vctx)
{
	struct strings *s = vctx;
	if (syn_is(n, "string")) {
		if (ts_node_start_point(n).row != ts_node_end_point(n).row && s->count < 1024)
			s->n[s->count++] = n;
		return 0;
	}
	return 1;
}

static bool in_multiline_string(const struct strings *s, size_t off)
{
	for (size_t i = 0; i < s->count; i++)
		if (ts_node_start_byte(s->n[i]) < off && off < ts_node_end_byte(s->n[i]))
			return true;
	return false;
}

/* ---- the lifted def as black writes it ------------------------------------------------------
 *
 * Dedented by one or more levels and renamed, a def's lines may no longer be what black makes of
 * them: a header grown past the line length is split, and a statement that black had split
 * only for want of room is joined when it now fits. */

struct reflow {
	size_t start, end; /* whole lines of the original: [start of the first, end of the last) */
	const char *text;  /* what replaces them in the lifted def (with newlines) */
};

struct reflows {
	struct reflow v[64];
	size_t n;
};

static const struct reflow *reflow_at(const struct reflows *rf, size_t at)
{
	for (size_t i = 0; i < rf->n; i++)
		if (rf->v[i].start == at)
			return &rf->v[i];
	return NULL;
}

static void add_reflow(struct reflows *rf, size_t start, size_t end, const char *text)
{
	if (text && rf->n < sizeof rf->v / sizeof *rf->v)
		rf->v[rf->n++] = (struct reflow){start, end, text};
}

/* The `:` token that ends a def's header. */
static TSNode header_colon(TSNode def)
{
	TSNode body = syn_field(def, "body");
	uint32_t k = ts_node_child_count(def);
	TSNode colon = {{0}, 0, 0};
	for (uint32_t i = 0; i < k; i++) {
		TSNode c = ts_node_child(def, i);
		if (ts_node_start_byte(c) >= ts_node_start_byte(body))
			break;
		if (syn_is(c, ":"))
			colon = c;
	}
	return colon;
}

/* The def's header with its new name: on one line when it fits (a header black split only for
 * want of room is joined); else, from one line, split as black splits it: the parameters on an
 * indented line of their own, or one per line with a trailing comma. */
static void reflow_header(struct unit *u, TSNode def, const char *newname, struct reflows *rf)
{
	TSNode colon = header_colon(def), name = syn_field(def, "name"), params = syn_field(def, "parameters");
	if (ts_node_is_null(colon) || ts_node_is_null(params))
		return;
	size_t start = unit_line_start(u, ts_node_start_byte(def)), end = unit_line_end(u, ts_node_end_byte(colon) - 1);
	/* only a header that ends its line (the body below it) */
	size_t k = ts_node_end_byte(colon);
	while (k < u->len && (u->src[k] == ' ' || u->src[k] == '\t'))
		k++;
	if (k < u->len && u->src[k] != '\n' && u->src[k] != '\r')
		return;
	size_t max = (size_t)module_line_length(u);
	bool multi = ts_node_start_point(def).row != ts_node_end_point(colon).row;
	struct buf head = {.a = &u->arena}, tail = {.a = &u->arena}, joined = {.a = &u->arena};
	put(&head, u->src + ts_node_start_byte(def), ts_node_start_byte(name) - ts_node_start_byte(def));
	puts_(&head, newname);
	/* what follows the parameters: ` -> Type:` */
	TSNode ret = syn_field(def, "return_type");
	if (!ts_node_is_null(ret)) {
		puts_(&tail, " -> ");
		struct buf r = {.a = &u->arena};
		if (!reflow_join(u, ret, &r))
			return;
		put(&tail, r.p, r.len);
	}
	puts_(&tail, ":");
	if (!reflow_join(u, params, &joined) || head.oom || tail.oom)
		return;
	size_t one = module_width(head.p, head.len) + module_width(joined.p, joined.len) + module_width(tail.p, tail.len);
	if (one <= max) {
		if (multi && !magic_comma(u, params))
			add_reflow(rf, start, end, arena_printf(&u->arena, "%s%s%s%s", head.p, joined.p, tail.p, u->nl));
		return;
	}
	if (multi)
		return; /* black's own split: its shape holds at any indentation */
	/* the inside of the parentheses, on a line of its own */
	const char *inner = arena_strndup(&u->arena, joined.p + 1, joined.len - 2);
	if (!inner)
		return;
	const char *nl = u->nl;
	if (4 + module_width(inner, strlen(inner)) <= max && strlen(inner)) {
		add_reflow(rf, start, end, arena_printf(&u->arena, "%s(%s    %s%s)%s%s", head.p, nl, inner, nl, tail.p, nl));
		return;
	}
	struct buf b = {.a = &u->arena};
	put(&b, head.p, head.len);
	puts_(&b, "(");
	puts_(&b, nl);
	uint32_t n = ts_node_named_child_count(params);
	for (uint32_t i = 0; i < n; i++) {
		TSNode p = ts_node_named_child(params, i);
		if (syn_is(p, "comment"))
			return;
		puts_(&b, "    ");
		put(&b, u->src + ts_node_start_byte(p), syn_len(p));
		puts_(&b, ",");
		puts_(&b, nl);
	}
	puts_(&b, ")");
	put(&b, tail.p, tail.len);
	puts_(&b, nl);
	if (!b.oom)
		add_reflow(rf, start, end, b.p);
}

/* Does a bracketed node end in a trailing comma on its own line before the closing bracket
 * (black's magic trailing comma: the lines stay split)? */
static bool magic_comma(struct unit *u, TSNode n)
{
	size_t e = ts_node_end_byte(n);
	if (e < 2)
		return false;
	size_t k = e - 1; /* the closing bracket */
	while (k > ts_node_start_byte(n) && (u->src[k - 1] == ' ' || u->src[k - 1] == '\t' || u->src[k - 1] == '\n' ||
					      u->src[k - 1] == '\r'))
		k--;
	return k > ts_node_start_byte(n) && u->src[k - 1] == ',';
}

struct body_scan {
	struct unit *u;
	size_t indlen;
	struct reflows *rf;
};

static int scan_body(TSNode n, void *vctx)
{
	struct body_scan *b = vctx;
	struct unit *u = b->u;
	if (syn_is(n, "block") || syn_is(n, "function_definition") || syn_is(n, "if_statement") ||
	    syn_is(n, "for_statement") || syn_is(n, "while_statement") || syn_is(n, "try_statement") ||
	    syn_is(n, "with_statement") || syn_is(n, "else_clause") || syn_is(n, "elif_clause") ||
	    syn_is(n, "except_clause") || syn_is(n, "finally_clause") || syn_is(n, "decorated_definition") ||
	    syn_is(n, "class_definition") || syn_is(n, "match_statement") || syn_is(n, "case_clause"))
		return 1; /* descend to the simple statements */
	if (!strstr(ts_node_type(n), "statement") || ts_node_start_point(n).row == ts_node_end_point(n).row)
		return 0;
	/* alone on its lines */
	size_t ls = unit_line_start(u, ts_node_start_byte(n)), k = ls;
	while (k < ts_node_start_byte(n) && (u->src[k] == ' ' || u->src[k] == '\t'))
		k++;
	size_t e = ts_node_end_byte(n);
	if (k != ts_node_start_byte(n) || (e < u->len && u->src[e] != '\n' && u->src[e] != '\r'))
		return 0;
	/* the value of `return (...)` or `x = (...)`: black drops the parentheses it added */
	TSNode value = syn_is(n, "return_statement") ? ts_node_named_child(n, 0)
		       : syn_is(n, "expression_statement") && syn_is(ts_node_named_child(n, 0), "assignment")
			       ? syn_field(ts_node_named_child(n, 0), "right")
			       : (TSNode){{0}, 0, 0};
	struct buf j = {.a = &u->arena};
	if (!reflow_join(u, n, &j) || magic_comma_inside(u, n))
		return 0;
	if (syn_is(value, "parenthesized_expression") && ts_node_start_point(value).row != ts_node_end_point(value).row &&
	    !syn_is(ts_node_named_child(value, 0), "tuple") && !syn_is(ts_node_named_child(value, 0), "yield")) {
		struct buf inner = {.a = &u->arena};
		if (!reflow_join(u, ts_node_named_child(value, 0), &inner))
			return 0;
		size_t pre = ts_node_start_byte(value) - ts_node_start_byte(n);
		struct buf r = {.a = &u->arena};
		put(&r, u->src + ts_node_start_byte(n), pre);
		put(&r, inner.p, inner.len);
		j = r;
	}
	size_t indent = k - ls;
	if (indent < b->indlen || j.oom)
		return 0;
	size_t width = indent - b->indlen + module_width(j.p, j.len);
	if (width > (size_t)module_line_length(u))
		return 0;
	add_reflow(b->rf, ls, unit_line_end(u, e),
		   arena_printf(&u->arena, "%.*s%s%s", (int)(indent - b->indlen), u->src + ls + b->indlen, j.p, u->nl));
	return 0;
}

/* Is there a magic trailing comma in any bracket of n? */
static bool magic_comma_inside(struct unit *u, TSNode n)
{
	const char *t = u->src + ts_node_start_byte(n);
	size_t len = syn_len(n);
	for (size_t i = 0; i < len; i++) {
		if (t[i] != ',')
			continue;
		size_t k = i + 1;
		bool nl = false;
		while (k < len && (t[k] == ' ' || t[k] == '\t' || t[k] == '\n' || t[k] == '\r'))
			nl |= t[k++] == '\n';
		if (nl && k < len && (t[k] == ')' || t[k] == ']' || t[k] == '}'))
			return true;
	}
	return false;
}

/* The statements of the def's body that black split only for want of room and that fit on one
 * line once dedented. */
static void reflow_body(struct unit *u, TSNode def, size_t indlen, struct reflows *rf)
{
	struct body_scan b = {u, indlen, rf};
	syn_walk(syn_field(def, "body"), scan_body, &b);
}

/* A line that must stay where it is, at the top of the file: the shebang on the first line, a
 * coding declaration on the first or second (PEP 263: `coding[:=]` in a comment there). */
static bool pinned_line(const struct unit *u, size_t at)
{
	size_t second = unit_line_end(u, 0);
	if (at != 0 && at != second)
		return false;
	if (at == 0 && u->len >= 2 && u->src[0] == '#' && u->src[1] == '!')
		return true;
	size_t end = unit_line_end(u, at);
	for (size_t i = at; i + 7 <= end; i++)
		if (!memcmp(u->src + i, "coding", 6) && (u->src[i + 6] == ':' || u->src[i + 6] == '='))
			return true;
	return false;
}

/* The first line of the whole-line comments directly above statement `stmt` at the same
 * indentation (no blank line between): they move with it -- a shebang or a coding declaration
 * at the top of the file excepted. */
static size_t attached_comments_start(struct unit *u, TSNode stmt)
{
	size_t start = unit_line_start(u, ts_node_start_byte(stmt));
	size_t indent = ts_node_start_byte(stmt) - start;
	while (start > 0) {
		size_t prev = unit_line_start(u, start - 1);
		if (start - prev <= indent || memcmp(u->src + prev, u->src + start, indent) != 0 ||
		    u->src[prev + indent] != '#' || pinned_line(u, prev))
			break;
		TSNode c = ts_node_descendant_for_byte_range(u->root, (uint32_t)(prev + indent), (uint32_t)(prev + indent + 1));
		if (!syn_is(c, "comment"))
			break;
		start = prev;
	}
	return start;
}

/* Is the line starting at `at` empty or only blanks? */
static bool blank_line(const struct unit *u, size_t at)
{
	for (size_t k = at; k < u->len && u->src[k] != '\n'; k++)
		if (u->src[k] != ' ' && u->src[k] != '\t' && u->src[k] != '\r')
			return false;
	return at < u->len;
}

static int fail(struct unit *u, struct finding *f, const char *why)
{
	f->applicability = FIX_NONE;
	f->reason = why;
	f->nedits = 0;
	unit_debug(u, f->pass, "%u:%u: no fix: %s", f->row + 1, f->col + 1, why);
	return 0;
}

/* ---- the lifted name ------------------------------------------------------------------------ */

/* A name's words for a lifted name: dunders contribute their word (`__init__` -> `init`),
 * leading and trailing underscores go, runs of underscores become one. */
static void put_word(struct buf *b, const char *s)
{
	while (*s == '_')
		s++;
	size_t n = strlen(s);
	while (n && s[n - 1] == '_')
		n--;
	for (size_t i = 0; i < n; i++)
		if (s[i] != '_' || (i + 1 < n && s[i + 1] != '_'))
			put(b, s + i, 1);
}

/* How many defs of the module (at any depth) are named `name`. */
static size_t defs_named(struct unit *u, TSNode name)
{
	size_t n = 0;
	for (size_t i = 0; i < u->nscopes; i++) {
		TSNode s = u->scopes[i].node;
		if (syn_is(s, "function_definition") &&
		    syn_len(syn_field(s, "name")) == syn_len(name) &&
		    !memcmp(u->src + ts_node_start_byte(syn_field(s, "name")), u->src + ts_node_start_byte(name), syn_len(name)))
			n++;
	}
	return n;
}

/* What a lambda is called in its lifted name: the keyword it is passed as (`key`), `repl` for
 * the replacement of a re substitution, the name it is assigned to, else `lambda`. */
static const char *lambda_word(struct unit *u, struct lift *l)
{
	TSNode node = l->n.node, p = ts_node_parent(node);
	while (syn_is(p, "parenthesized_expression"))
		p = ts_node_parent(p);
	if (syn_is(p, "keyword_argument"))
		return module_excerpt(u, syn_field(p, "name"), 40);
	if (syn_is(p, "argument_list")) {
		TSNode f = syn_field(ts_node_parent(p), "function");
		TSNode attr = syn_is(f, "attribute") ? syn_field(f, "attribute") : f;
		if (syn_text_eq(attr, u->src, "sub") || syn_text_eq(attr, u->src, "subn"))
			return "repl";
	}
	return l->short_name;
}

/* The lifted name from the template (engine_config.lift_name, default "_{scope}_{name}"):
 * {name} the function's own name (a lambda: see lambda_word), {function} the enclosing def,
 * {class} the class of that def when it is a method, {scope} the class and the def when the
 * class disambiguates (the def's name is a dunder or another def of the module has it), else
 * the def. Returns the base name (not yet reserved) or NULL when the template makes no
 * identifier. */
static const char *lift_base_name(struct unit *u, struct lift *l)
{
	TSNode outer = l->n.outer_def;
	const char *fn = ts_node_is_null(outer) ? "lambda" : nested_short_name(u, outer);
	const char *cls = "";
	bool with_class = false;
	if (!ts_node_is_null(outer)) {
		TSNode c = scope_parent(u, outer);
		if (syn_is(c, "class_definition")) {
			cls = module_excerpt(u, syn_field(c, "name"), 80);
			size_t n = strlen(fn);
			with_class = (n > 4 && !strncmp(fn, "__", 2) && !strcmp(fn + n - 2, "__")) ||
				     defs_named(u, syn_field(outer, "name")) > 1;
		}
	}
	const char *name = syn_is(l->n.node, "lambda") ? lambda_word(u, l) : l->short_name;
	const char *tmpl = u->config && u->config->lift_name ? u->config->lift_name : "_{scope}_{name}";
	struct buf b = {.a = &u->arena};
	for (const char *t = tmpl; *t;) {
		const char *close = *t == '{' ? strchr(t, '}') : NULL;
		if (!close) {
			put(&b, t++, 1);
			continue;
		}
		size_t k = (size_t)(close - t - 1);
		if (k == 4 && !strncmp(t + 1, "name", 4)) {
			put_word(&b, name);
		} else if (k == 8 && !strncmp(t + 1, "function", 8)) {
			put_word(&b, fn);
		} else if (k == 5 && !strncmp(t + 1, "class", 5)) {
			put_word(&b, cls);
		} else if (k == 5 && !strncmp(t + 1, "scope", 5)) {
			if (with_class && *cls) {
				put_word(&b, cls);
				puts_(&b, "_");
			}
			put_word(&b, fn);
		} else {
			return NULL; /* the configuration was checked: not reached */
		}
		t = close + 1;
	}
	if (b.oom || !b.p)
		return NULL;
	/* one underscore where pieces met or a piece was empty; none at the end */
	size_t w = 0;
	for (size_t i = 0; i < b.len; i++)
		if (b.p[i] != '_' || w == 0 || b.p[w - 1] != '_')
			b.p[w++] = b.p[i];
	while (w > 1 && b.p[w - 1] == '_')
		w--;
	b.p[w] = 0;
	if (!w || (b.p[0] >= '0' && b.p[0] <= '9'))
		return NULL;
	for (size_t i = 0; i < w; i++) {
		unsigned char c = (unsigned char)b.p[i];
		if (!(c == '_' || c >= 0x80 || (c >= '0' && c <= '9') || ((c | 32) >= 'a' && (c | 32) <= 'z')))
			return NULL;
	}
	return b.p;
}

/* Can the uses refer to the lifted function directly, instead of an alias kept in the
 * enclosing function? An alias costs a global load and a store per call, then a local load per
 * use; a direct reference a global load per use, a few ns more than a local load
 * (bench/alias_vs_direct.py: the alias is slower for 1 to 4 uses, and 3.4 ns per iteration
 * faster for a use inside a loop). So: directly when the def is a statement of the function's
 * own body, its name is never rebound, and every use reads it after the def, in the function's
 * own scope, outside any loop, on a line that stays within the line length. */
static bool direct_uses(struct unit *u, struct lift *l, TSNode stmt, const char *newname)
{
	const struct use_scan *us = l->uses;
	TSNode outer = l->n.outer_def;
	if (!us || us->rebound || !us->nloads || ts_node_is_null(outer) ||
	    !ts_node_eq(l->n.parent, outer) || !ts_node_eq(ts_node_parent(stmt), syn_field(outer, "body")))
		return false;
	size_t grow = strlen(newname) - strlen(l->short_name);
	size_t max = (size_t)module_line_length(u);
	for (size_t i = 0; i < us->nloads; i++) {
		TSNode n = us->loads[i];
		if (ts_node_start_byte(n) < ts_node_end_byte(stmt) || !ts_node_eq(scope_parent(u, n), outer) ||
		    scope_runs_per_call(u, n, outer) != 1)
			return false;
		size_t ls = unit_line_start(u, ts_node_start_byte(n)), le = unit_line_end(u, ts_node_start_byte(n));
		size_t width = module_width(u->src + ls, le - ls) - (le > ls && u->src[le - 1] == '\n') -
			       (le > ls + 1 && u->src[le - 2] == '\r');
		size_t same_line = 0;
		for (size_t k = 0; k < us->nloads; k++)
			same_line += unit_line_start(u, ts_node_start_byte(us->loads[k])) == ls;
		if (width + same_line * grow > max)
			return false;
	}
	return true;
}

/* ---- the lifted lambda -------------------------------------------------------------------- */

struct flow_scan {
	bool bad;
	bool comments_ok;
};

static int scan_flow(TSNode n, void *vctx)
{
	struct flow_scan *fs = vctx;
	if ((syn_is(n, "comment") && !fs->comments_ok) ||
	    (syn_is(n, "string") && ts_node_start_point(n).row != ts_node_end_point(n).row)) {
		fs->bad = true;
		return -1;
	}
	return 1;
}

/* Node n's text on one line, as black joins a split expression that fits: nothing after an
 * opening bracket or before a closing one, one space elsewhere. False when it holds a comment,
 * a multi-line string, a backslash continuation or a magic trailing comma (black keeps those
 * lines). */
static bool reflow_join(struct unit *u, TSNode n, struct buf *out)
{
	struct flow_scan fs = {false, false};
	syn_walk(n, scan_flow, &fs);
	if (fs.bad)
		return false;
	const char *t = u->src + ts_node_start_byte(n);
	size_t len = syn_len(n);
	for (size_t i = 0; i < len;) {
		if (t[i] == '\\')
			return false;
		if (t[i] != '\r' && t[i] != '\n') {
			put(out, t + i, 1);
			i++;
			continue;
		}
		while (out->len && (out->p[out->len - 1] == ' ' || out->p[out->len - 1] == '\t'))
			out->len--;
		while (i < len && (t[i] == '\r' || t[i] == '\n' || t[i] == ' ' || t[i] == '\t'))
			i++;
		char prev = out->len ? out->p[out->len - 1] : 0;
		char next = i < len ? t[i] : 0;
		bool closing = next == ')' || next == ']' || next == '}';
		if (prev == ',' && closing)
			return false; /* a magic trailing comma */
		if (!(prev == '(' || prev == '[' || prev == '{') && !closing)
			put(out, " ", 1);
	}
	if (out->p)
		out->p[out->len] = 0;
	return !out->oom;
}

/* Copy src[start, end) with every line after the first re-indented: its leading `indent`
 * (indlen bytes) becomes new_indent. False, writing nothing, when a line does not start with
 * that indentation or a multi-line string would be touched. */
static bool reindent(struct unit *u, struct buf *b, size_t start, size_t end, const char *indent, size_t indlen,
		     const char *new_indent)
{
	for (size_t at = unit_line_end(u, start); at < end; at = unit_line_end(u, at)) {
		size_t le = unit_line_end(u, at);
		bool blank = true;
		for (size_t k = at; k < le && blank; k++)
			blank = u->src[k] == ' ' || u->src[k] == '\t' || u->src[k] == '\r' || u->src[k] == '\n';
		if (!blank && (le - at < indlen || memcmp(u->src + at, indent, indlen) != 0))
			return false;
	}
	TSNode n = ts_node_descendant_for_byte_range(u->root, (uint32_t)start, (uint32_t)end);
	struct flow_scan fs = {false, true};
	syn_walk(n, scan_flow, &fs);
	if (fs.bad)
		return false;
	size_t first = unit_line_end(u, start);
	put(b, u->src + start, first - start);
	for (size_t at = first; at < end;) {
		size_t le = unit_line_end(u, at);
		if (le > end)
			le = end;
		if (le - at >= indlen && !memcmp(u->src + at, indent, indlen)) {
			puts_(b, new_indent);
			put(b, u->src + at + indlen, le - at - indlen);
		} else {
			put(b, u->src + at, le - at);
		}
		at = le;
	}
	return true;
}

/* The lambda's body as the lifted def's return value, in the form black gives it: on one line
 * when it has no comment and fits (a body split over lines by the enclosing call is joined);
 * else a bracketed body keeps its lines, re-indented from the lambda's line to the def's body;
 * else it is wrapped in parentheses. */
static void put_lambda_body(struct unit *u, struct buf *b, TSNode body, const char *unit_indent)
{
	size_t bs = ts_node_start_byte(body), be = ts_node_end_byte(body);
	const char *text = u->src + bs;
	size_t n = be - bs;
	if (ts_node_start_point(body).row == ts_node_end_point(body).row) {
		put(b, text, n);
		return;
	}
	struct buf joined = {.a = &u->arena};
	bool ok = reflow_join(u, body, &joined);
	size_t width = strlen(unit_indent) + 7 + (joined.p ? module_width(joined.p, joined.len) : 0);
	if (ok && !joined.oom && width <= (size_t)module_line_length(u)) {
		put(b, joined.p, joined.len);
		return;
	}
	char first = text[0], last = text[n - 1];
	bool bracketed = (first == '(' && last == ')') || (first == '[' && last == ']') || (first == '{' && last == '}') ||
			 syn_is(body, "call");
	if (bracketed) {
		size_t ls = unit_line_start(u, bs), ind = ls;
		while (ind < u->len && (u->src[ind] == ' ' || u->src[ind] == '\t'))
			ind++;
		if (reindent(u, b, bs, be, u->src + ls, ind - ls, unit_indent))
			return;
	}
	puts_(b, "(");
	put(b, text, n);
	puts_(b, ")");
}

int lift_rewrite(struct unit *u, struct finding *f)
{
	struct lift *l = f->data;
	TSNode node = l->n.node;
	bool is_def = syn_is(node, "function_definition");
	const char *base = lift_base_name(u, l);
	if (!base)
		return fail(u, f, "the lift-name template makes no identifier of this function's names");
	const char *newname = unit_reserve_name(u, base);
	if (!newname)
		return -1;

	/* the indentation of the line holding the node's statement */
	TSNode stmt = is_def ? scope_def_statement(node) : node;
	size_t ls = unit_line_start(u, ts_node_start_byte(stmt));
	size_t ind_end = ls;
	while (ind_end < u->len && (u->src[ind_end] == ' ' || u->src[ind_end] == '\t'))
		ind_end++;
	const char *indent = u->src + ls;
	size_t indlen = ind_end - ls;
	const char *unit_indent = indlen && indent[0] == '\t' ? "\t" : "    ";

	struct buf lifted = {.a = &u->arena};
	bool direct = is_def && l->used && direct_uses(u, l, stmt, newname);
	size_t nuses = direct ? l->uses->nloads : 0;
	struct edit *e = arena_alloc(&u->arena, sizeof *e * (2 + nuses));
	if (!e)
		return -1;

	if (is_def) {
		if (ind_end != ts_node_start_byte(stmt))
			return fail(u, f, "the def shares its line with other code");
		size_t from = attached_comments_start(u, stmt);
		size_t to = unit_line_end(u, ts_node_end_byte(stmt) > 0 ? ts_node_end_byte(stmt) - 1 : 0);
		/* one scratch table per pass run (32 KiB), not one per finding */
		struct strings *strs = u->pass_state ? u->pass_state : arena_alloc(&u->arena, sizeof *strs);
		if (!strs)
			return -1;
		u->pass_state = strs;
		strs->count = 0;
		syn_walk(stmt, find_strings, strs);
		if (strs->count == 1024)
			return fail(u, f, "too many multi-line strings to preserve");
		TSNode nm = syn_field(node, "name");
		struct reflows *rf = arena_alloc(&u->arena, sizeof *rf);
		if (!rf)
			return -1;
		rf->n = 0;
		reflow_header(u, node, newname, rf);
		reflow_body(u, node, indlen, rf);
		for (size_t at = from; at < to;) {
			size_t le = unit_line_end(u, at);
			if (le > to)
				le = to;
			const struct reflow *r = reflow_at(rf, at);
			if (r) { /* lines black would write otherwise at the new indentation */
				puts_(&lifted, r->text);
				at = r->end;
				continue;
			}
			size_t copy_from = at;
			if (!in_multiline_string(strs, at)) {
				size_t k = at;
				while (k < le && (u->src[k] == ' ' || u->src[k] == '\t'))
					k++;
				bool blank = k == le || u->src[k] == '\n' || u->src[k] == '\r';
				if (blank)
					copy_from = k;
				else if (le - at >= indlen && memcmp(u->src + at, indent, indlen) == 0)
					copy_from = at + indlen;
				else
					return fail(u, f, "inconsistent indentation inside the def");
			}
			/* copy, renaming the def itself */
			size_t nb = ts_node_start_byte(nm), ne = ts_node_end_byte(nm);
			if (nb >= copy_from && ne <= le) {
				put(&lifted, u->src + copy_from, nb - copy_from);
				puts_(&lifted, newname);
				put(&lifted, u->src + ne, le - ne);
			} else {
				put(&lifted, u->src + copy_from, le - copy_from);
			}
			at = le;
		}
		if (lifted.len && lifted.p[lifted.len - 1] != '\n')
			puts_(&lifted, u->nl);
		/* the site */
		struct buf site = {.a = &u->arena};
		TSNode block = ts_node_parent(stmt);
		/* removing the def must not leave the block empty; sibling defs may be lifted in the
		 * same round, so they do not count as statements that stay */
		uint32_t others = 0, cnt = ts_node_named_child_count(block);
		for (uint32_t i = 0; i < cnt; i++) {
			TSNode c = ts_node_named_child(block, i);
			if (!syn_is(c, "comment") && !ts_node_eq(c, stmt) && !syn_is(c, "function_definition") &&
			    !syn_is(c, "decorated_definition"))
				others++;
		}
		if (l->used && !direct) {
			put(&site, indent, indlen);
			puts_(&site, l->short_name);
			puts_(&site, " = ");
			puts_(&site, newname);
			puts_(&site, u->nl);
		} else if (others == 0) {
			put(&site, indent, indlen);
			puts_(&site, "pass");
			puts_(&site, u->nl);
		}
		if (site.oom)
			return -1;
		bool ends_nl = to > 0 && u->src[to - 1] == '\n';
		if (!ends_nl && site.len) /* the def ended the file without a newline */
			site.len -= strlen(u->nl);
		if (!site.len) {
			/* the blank lines black keeps around a nested def go with it: none may open the
			 * block or double one that stays */
			TSNode next = ts_node_next_named_sibling(stmt);
			bool first = ts_node_is_null(ts_node_prev_named_sibling(stmt)) ||
				     unit_line_start(u, ts_node_start_byte(block)) == from;
			if (!ts_node_is_null(next) && (first || (from > 0 && blank_line(u, unit_line_start(u, from - 1)))))
				while (to < u->len && blank_line(u, to))
					to = unit_line_end(u, to);
			else if (ts_node_is_null(next))
				while (from > 0 && blank_line(u, unit_line_start(u, from - 1)))
					from = unit_line_start(u, from - 1);
		}
		e[1] = (struct edit){from, to, site.p ? site.p : "", site.len, 1, false};
	} else {
		TSNode params = syn_field(node, "parameters");
		TSNode body = syn_field(node, "body");
		puts_(&lifted, "def ");
		puts_(&lifted, newname);
		puts_(&lifted, "(");
		if (!ts_node_is_null(params))
			put(&lifted, u->src + ts_node_start_byte(params), syn_len(params));
		puts_(&lifted, "):");
		puts_(&lifted, u->nl);
		puts_(&lifted, unit_indent);
		puts_(&lifted, "return ");
		put_lambda_body(u, &lifted, body, unit_indent);
		puts_(&lifted, u->nl);
		e[1] = (struct edit){ts_node_start_byte(node), ts_node_end_byte(node), newname, strlen(newname), 1, false};
	}
	puts_(&lifted, u->nl);
	puts_(&lifted, u->nl);
	if (lifted.oom)
		return -1;
	TSNode top = scope_toplevel_statement(node);
	size_t ins = attached_comments_start(u, top);
	e[0] = (struct edit){ins, ins, lifted.p, lifted.len, 0, false};
	for (size_t i = 0; i < nuses; i++) {
		TSNode n = l->uses->loads[i];
		e[2 + i] = (struct edit){ts_node_start_byte(n), ts_node_end_byte(n), newname, strlen(newname), 0, false};
	}
	f->edits = e;
	f->nedits = 2 + nuses;
	f->fix_title = arena_printf(&u->arena, "Lift `%s` to module level as `%s`", l->short_name, newname);
	return 0;
}

const struct pass pass_spf101 = {
	.code = "SPF101",
	.name = "closure-free-nested-def",
	.summary = "a nested def or lambda that captures nothing is rebuilt on every call; lift it",
	.query = syn_query_nested_function,
	.find = find,
	.check = lift_check,
	.rewrite = lift_rewrite,
	.doc =
		{
			.what = "A `def` or `lambda` inside a function (or inside a comprehension in a function) whose\n"
				"code object has no free variables: it uses nothing of the enclosing function. One built\n"
				"inside a loop is SPF102's finding (one finding per site). Test code is not analysed unless\n"
				"`include-tests` is set.",
			.why = "Every call of the enclosing function builds a new function object from the same code\n"
				"(MAKE_FUNCTION), evaluating its defaults and annotations again. Defined once at module\n"
				"level, the function is built once at import.",
			.fix = "Lifted to module level, before the top-level statement that holds the enclosing function,\n"
				"under a name from the `lift-name` template (default `_{scope}_{name}`: the enclosing def,\n"
				"with its class when the def is a dunder or its name is defined twice in the module; dunders\n"
				"give their word, no runs of underscores, a number only when two names would clash). Uses\n"
				"refer to the lifted function directly when each runs once per call; inside a loop the\n"
				"alias `name = _outer_name` is kept (a local load per iteration beats a global one). A lambda\n"
				"becomes a def, written as black writes it. Safe when every check holds: empty\n"
				"co_freevars (CPython's verdict); defaults, annotations and decorators read nothing of the\n"
				"enclosing function and only module names bound once before the lift point, or builtins;\n"
				"no decorator; no mutable or computed default; the function object is only called or handed\n"
				"to a known consumer (`sorted`, `min`, `max`, `map`, `filter`, `list.sort`, `re.sub`, the\n"
				"`.sub`/`.subn` of a module pattern bound to `re.compile`, `functools.reduce`,\n"
				"`itertools.*`, ...); no `locals()`/`vars()`/`exec`/`eval` in the enclosing function; no\n"
				"private `__name` inside a class; the module neither deletes its helpers nor does `import *`\n"
				"after the lift point. A failed check makes the fix unsafe or removes it, and the diagnostic\n"
				"says which check, in words. Besides `__name__` and `__qualname__`, a lift changes the code\n"
				"object's `co_name`/`co_qualname` (what profilers, tracebacks and `inspect.stack()` show) and\n"
				"the line numbers below the lifted def.",
			.before = "def rank(words):\n"
				"    def by_length(word):\n"
				"        return (len(word), word)\n"
				"\n"
				"    return sorted(words, key=by_length)\n",
			.after = "def _rank_by_length(word):\n"
				"    return (len(word), word)\n"
				"\n"
				"\n"
				"def rank(words):\n"
				"    return sorted(words, key=_rank_by_length)\n",
		},
	.bench = BENCH_SITE, /* the def/lambda built on every call vs what is left at the site */
};
