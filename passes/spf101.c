/* SPF101 closure-free-nested-def: a def or lambda whose code object sits directly inside a
 * function-like code object and has empty co_freevars. Fix: lift it to module level. */
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#include "nested.h"
#include "pass.h"
#include "scope.h"

struct lift {
	struct nested n;
	const char *short_name;  /* inner name, assignment target of a lambda, or "lambda" */
	bool used;               /* the name is used elsewhere in the parent scope */
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

/* ---- check: the design's safety checks 2 to 7 ------------------------------------------ */

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

static void collect_spans(TSNode fn, struct spans *s, size_t *ndecorators)
{
	*ndecorators = 0;
	TSNode stmt = scope_def_statement(fn);
	if (!ts_node_eq(stmt, fn)) {
		uint32_t n = ts_node_named_child_count(stmt);
		for (uint32_t i = 0; i < n; i++) {
			TSNode c = ts_node_named_child(stmt, i);
			if (syn_is(c, "decorator")) {
				add_span(s, c, false);
				(*ndecorators)++;
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
	uint32_t n = ts_node_named_child_count(u->root);
	for (uint32_t i = 0; i < n; i++) {
		TSNode c = ts_node_named_child(u->root, i);
		if ((int)ts_node_start_point(c).row + 1 > line || (int)ts_node_end_point(c).row + 1 < line)
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
		demote(v, FIX_UNSAFE, arena_printf(&u->arena, "check 2: the module uses `import *`, so `%s` may be rebound", name));
	else if (n == 0 && bridge_is_builtin(name))
		return;
	else if (n == 0)
		demote(v, FIX_NONE, arena_printf(&u->arena, "check 2: `%s` is not bound in the module", name));
	else if (first == 0)
		demote(v, FIX_NONE, arena_printf(&u->arena,
						 "check 2: `%s` is bound only inside functions (`global`); the lifted def "
						 "could raise NameError at import", name));
	else if (bound_conditionally(u, first))
		demote(v, FIX_NONE, arena_printf(&u->arena,
						 "check 2: `%s` is bound inside a compound statement at module level; "
						 "the lifted def could raise NameError at import", name));
	else if (first >= line)
		demote(v, FIX_NONE, arena_printf(&u->arena,
						 "check 2: `%s` is defined after the outer function; the lifted def would "
						 "raise NameError at import", name));
	else if (n > 1)
		demote(v, FIX_UNSAFE, arena_printf(&u->arena,
						   "check 2: `%s` is bound more than once in the module; the lifted def "
						   "would read it once at import instead of on every call", name));
}

static bool known_consumer(struct unit *u, struct nested *nd, TSNode call, TSNode arg, bool keyword, uint32_t pos)
{
	TSNode f = syn_field(call, "function");
	const char *src = u->src;
	if (keyword) {
		TSNode kw = syn_field(ts_node_parent(arg), "name");
		if (!syn_text_eq(kw, src, "key"))
			return false;
		if (syn_is(f, "attribute") && syn_text_eq(syn_field(f, "attribute"), src, "sort"))
			return true;
		if (syn_text_eq(f, src, "heapq.nlargest") || syn_text_eq(f, src, "heapq.nsmallest") ||
		    syn_text_eq(f, src, "itertools.groupby"))
			return true;
		if (!syn_text_eq(f, src, "sorted") && !syn_text_eq(f, src, "min") && !syn_text_eq(f, src, "max"))
			return false;
	} else {
		bool ok = false;
		if (pos == 0 && (syn_text_eq(f, src, "map") || syn_text_eq(f, src, "filter")))
			ok = true;
		else if (pos == 0 && (syn_text_eq(f, src, "functools.reduce") || syn_text_eq(f, src, "itertools.starmap") ||
				      syn_text_eq(f, src, "itertools.filterfalse") ||
				      syn_text_eq(f, src, "itertools.takewhile") ||
				      syn_text_eq(f, src, "itertools.dropwhile")))
			return true;
		else if (pos == 1 && (syn_text_eq(f, src, "re.sub") || syn_text_eq(f, src, "re.subn")))
			return true;
		if (!ok)
			return false;
	}
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
		return "it is passed as a keyword argument to an unknown callee";
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
};

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
	if ((syn_is(p, "function_definition") || syn_is(p, "class_definition")) && ts_node_eq(syn_field(p, "name"), n))
		return;
	if (syn_is(p, "assignment") && ts_node_eq(syn_field(p, "left"), n))
		return;
	if (!s->escape)
		s->escape = escape_of(s->u, s->nd, n);
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

int lift_check(struct unit *u, struct finding *f)
{
	struct lift *l = f->data;
	struct nested *nd = &l->n;
	struct code_info *parent = nd->code->parent;
	TSNode node = nd->node;
	bool is_def = syn_is(node, "function_definition");
	struct verdict v = {FIX_SAFE, NULL};
	int top_line = (int)ts_node_start_point(scope_toplevel_statement(node)).row + 1;

	/* check 2: what builds defaults, annotations and decorators reads nothing of the parent */
	struct spans *sp = arena_alloc(&u->arena, sizeof *sp);
	if (!sp)
		return -1;
	size_t ndecorators;
	collect_spans(node, sp, &ndecorators);
	if (sp->overflow)
		demote(&v, FIX_NONE, "check 2: too many defaults and annotations to verify");
	for (size_t i = 0; i < parent->ninsns; i++) {
		const struct insn *in = &parent->insns[i];
		for (size_t k = 0; k < sp->count; k++) {
			if (!insn_in_node(in, sp->n[k]))
				continue;
			const char *name = bridge_insn_name(u, parent, in);
			if (bridge_op_reads_local(in->op))
				demote(&v, FIX_NONE, arena_printf(&u->arena,
								  "check 2: a default, annotation or decorator reads `%s` of the "
								  "enclosing function", name ? name : "?"));
			else if (bridge_op_is_global_load(in->op) && name)
				check_global(u, name, top_line, &v);
			else if (bridge_op_is_call(in->op) && sp->is_default[k])
				demote(&v, FIX_UNSAFE, "check 4: a default is computed by a call; lifted, it would be "
						       "computed once at import instead of on every call");
			break;
		}
	}
	/* the tree agrees: no identifier in those spans names a local of the parent */
	for (size_t k = 0; k < sp->count; k++) {
		struct local_scan ls = {u, parent, NULL};
		syn_walk(sp->n[k], find_local, &ls);
		if (ls.name)
			demote(&v, FIX_NONE, arena_printf(&u->arena,
							  "check 2: a default, annotation or decorator names `%s`, a local "
							  "of the enclosing function", ls.name));
	}

	/* check 3: decorators */
	if (ndecorators)
		demote(&v, FIX_UNSAFE, "check 3: the def is decorated; the decorator would run once at import "
				       "instead of on every call");
	/* check 4: mutable defaults */
	for (size_t k = 0; k < sp->count; k++)
		if (sp->is_default[k] && !is_immutable_literal(sp->n[k]))
			demote(&v, FIX_UNSAFE, arena_printf(&u->arena,
							   "check 4: the default `%.*s` is not an immutable constant; lifted, "
							   "one object would be shared by every call",
							   (int)(syn_len(sp->n[k]) > 40 ? 40 : syn_len(sp->n[k])),
							   u->src + ts_node_start_byte(sp->n[k])));

	/* check 5: the function object does not escape */
	struct use_scan us = {u, nd, is_def ? syn_field(node, "name") : (TSNode){{0}, 0, 0}, 0, NULL};
	TSNode scope_body = syn_is_comprehension(nd->parent) ? nd->parent : syn_field(nd->parent, "body");
	bool named = is_def || strcmp(l->short_name, "lambda") != 0;
	if (named)
		scope_each_use(u, scope_body, l->short_name, on_use, &us);
	if (!is_def && !named)
		us.escape = escape_of(u, nd, node);
	l->used = us.uses > 0;
	if (us.escape)
		demote(&v, FIX_UNSAFE, arena_printf(&u->arena,
						   "check 5: the function object escapes (%s); each call of the outer "
						   "function used to get a new object",
						   us.escape));

	/* check 6: dynamic access to the parent's namespace, or `global name` */
	TSNode fnscope = syn_is_comprehension(nd->parent) ? scope_enclosing_def(u, node) : nd->parent;
	const char *dyn = syn_is(fnscope, "function_definition") || syn_is(fnscope, "lambda")
				  ? scope_dynamic_call(u, fnscope) : NULL;
	if (dyn)
		l->used = true; /* eval/exec may name it in a string: keep the local */
	/* A def nobody uses is dead code: lifting it would only move it to module level, shifting
	 * every line below (tracebacks, inspect.getsource) for the cost of building it. */
	if (named && !l->used && !us.escape)
		demote(&v, FIX_NONE, arena_printf(&u->arena,
						  "`%s` is never used in the enclosing function; delete it rather than "
						  "lift it", l->short_name));
	if (dyn)
		demote(&v, FIX_UNSAFE, arena_printf(&u->arena,
						   "check 6: the enclosing function calls %s(), which can see the local "
						   "function object", dyn));
	if (named && bridge_local_kind(parent, l->short_name) == 0)
		demote(&v, FIX_UNSAFE, arena_printf(&u->arena,
						   "check 6: `%s` is not a local of the enclosing function (global or "
						   "nonlocal declaration)", l->short_name));

	/* check 7: private names inside a class would lose their mangling */
	if (inside_class(u, node)) {
		struct private_scan ps = {u, false};
		syn_walk(scope_def_statement(node), find_private, &ps);
		if (ps.found)
			demote(&v, FIX_NONE, "check 7: uses a private `__name` inside a class; name mangling would change");
	}
	if (syn_is(ts_node_parent(node), "lambda") && !ts_node_eq(syn_field(ts_node_parent(node), "body"), node))
		demote(&v, FIX_NONE, "lambda in a lambda's parameters is not supported");

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

/* The first line of the whole-line comments directly above statement `stmt` at the same
 * indentation (no blank line between): they move with it. */
static size_t attached_comments_start(struct unit *u, TSNode stmt)
{
	size_t start = unit_line_start(u, ts_node_start_byte(stmt));
	size_t indent = ts_node_start_byte(stmt) - start;
	while (start > 0) {
		size_t prev = unit_line_start(u, start - 1);
		if (start - prev <= indent || memcmp(u->src + prev, u->src + start, indent) != 0 ||
		    u->src[prev + indent] != '#')
			break;
		TSNode c = ts_node_descendant_for_byte_range(u->root, (uint32_t)(prev + indent), (uint32_t)(prev + indent + 1));
		if (!syn_is(c, "comment"))
			break;
		start = prev;
	}
	return start;
}

static int fail(struct unit *u, struct finding *f, const char *why)
{
	f->applicability = FIX_NONE;
	f->reason = why;
	f->nedits = 0;
	unit_debug(u, f->pass, "%u:%u: no fix: %s", f->row + 1, f->col + 1, why);
	return 0;
}

int lift_rewrite(struct unit *u, struct finding *f)
{
	struct lift *l = f->data;
	TSNode node = l->n.node;
	bool is_def = syn_is(node, "function_definition");
	const char *outer = ts_node_is_null(l->n.outer_def) ? "lambda" : nested_short_name(u, l->n.outer_def);
	while (*outer == '_')
		outer++;
	const char *newname = unit_reserve_name(u, arena_printf(&u->arena, "_%s_%s", outer, l->short_name));
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
	struct edit *e = arena_alloc(&u->arena, sizeof *e * 2);
	if (!e)
		return -1;

	if (is_def) {
		if (ind_end != ts_node_start_byte(stmt))
			return fail(u, f, "the def shares its line with other code");
		size_t from = attached_comments_start(u, stmt);
		size_t to = unit_line_end(u, ts_node_end_byte(stmt) > 0 ? ts_node_end_byte(stmt) - 1 : 0);
		struct strings *strs = arena_alloc(&u->arena, sizeof *strs);
		if (!strs)
			return -1;
		syn_walk(stmt, find_strings, strs);
		if (strs->count == 1024)
			return fail(u, f, "too many multi-line strings to preserve");
		TSNode nm = syn_field(node, "name");
		for (size_t at = from; at < to;) {
			size_t le = unit_line_end(u, at);
			if (le > to)
				le = to;
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
		if (l->used) {
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
		bool multi = ts_node_start_point(body).row != ts_node_end_point(body).row &&
			     !syn_is(body, "parenthesized_expression");
		if (multi)
			puts_(&lifted, "(");
		put(&lifted, u->src + ts_node_start_byte(body), syn_len(body));
		if (multi)
			puts_(&lifted, ")");
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
	f->edits = e;
	f->nedits = 2;
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
				"code object has no free variables: it uses nothing of the enclosing function.",
			.why = "Every call of the enclosing function builds a new function object from the same code\n"
			       "(MAKE_FUNCTION), evaluating its defaults and annotations again. Defined once at module\n"
			       "level, the function is built once at import.",
			.fix = "Lifted to module level as `_<outer>_<inner>` when every safety check holds (empty\n"
			       "co_freevars, defaults and annotations read nothing of the enclosing function, no\n"
			       "decorator, no mutable default, the function does not escape, no locals()/eval/exec,\n"
			       "no private name). A decorated or escaping function is an unsafe fix; otherwise the\n"
			       "finding is reported only, with the check that failed.",
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
				 "    by_length = _rank_by_length\n"
				 "\n"
				 "    return sorted(words, key=by_length)\n",
		},
	.bench = BENCH_SITE, /* the def/lambda built on every call vs what is left at the site */
};
