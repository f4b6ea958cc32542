/* SPF301 memoizable-pure-function: a module-level function that is side-effect free and
 * deterministic, proven on the tree (it reads only constants, its parameters and locals,
 * immutable module constants, and calls only allow-listed pure callables and other proven-pure
 * functions of the module) and cross-checked on the bytecode (no store to a global, attribute
 * or subscript, no import, no yield, no call the tree did not prove, no global read other than
 * those). Proposed only when its body costs clearly more than an lru_cache hit (a static cost
 * estimate, below). Fix: @functools.lru_cache(maxsize=1) without parameters, maxsize=None with;
 * safe only when the result is immutable and every call site passes hashable constants.
 *
 * The cost estimate, in units of about one simple bytecode instruction (~1.5 ns on CPython
 * 3.11): a name, constant or attribute 1; an operator or subscript 2; a call 20 (the frame)
 * plus its arguments, plus the callee's own estimate for a function of the module, plus 2 per
 * item when an allow-listed builtin consumes range(N) or a constant display; a loop or
 * comprehension multiplies its body by its trip count (range(N) or a constant display; 10 when
 * unknown). A cache hit costs 25-30 ns, about 20 units, so a function is proposed only from
 * SPF301_MIN_COST units on (about twice a hit): below that, memoizing saves too little or makes
 * it slower (`return 1` is faster than an lru_cache lookup). */
#include <string.h>

#include "bridge.h"
#include "imports.h"
#include "module.h"
#include "pass.h"
#include "purity.h"
#include "scope.h"

#define SPF301_MIN_COST 60
#define COST_UNKNOWN_TRIPS 10
#define COST_CAP 100000000L

enum { FN_UNKNOWN, FN_BUSY, FN_PURE, FN_IMPURE };

struct fn {
	TSNode def;
	struct code_info *code;
	int state;
	const char *why;     /* FN_IMPURE: the first reason */
	long cost;
	TSNode *calls;       /* the call and comprehension nodes proven pure */
	size_t ncalls;
};

struct memo {
	struct fn *v;
	size_t n;
};

static const char *text_of(struct unit *u, TSNode n)
{
	return arena_strndup(&u->arena, u->src + ts_node_start_byte(n), syn_len(n));
}

static bool is_module_def(const struct unit *u, TSNode n)
{
	return syn_is(n, "function_definition") && ts_node_is_null(scope_parent(u, n)) &&
	       !syn_is(ts_node_parent(n), "decorated_definition");
}

static struct memo *memo_of(struct unit *u)
{
	if (u->pass_state)
		return u->pass_state;
	struct memo *m = arena_alloc(&u->arena, sizeof *m);
	if (!m)
		return NULL;
	size_t n = 0;
	for (size_t i = 0; i < u->ncands; i++)
		n += is_module_def(u, u->cands[i]);
	m->v = arena_alloc(&u->arena, (n + 1) * sizeof *m->v);
	if (!m->v)
		return NULL;
	for (size_t i = 0; i < u->ncands; i++)
		if (is_module_def(u, u->cands[i]))
			m->v[m->n++].def = u->cands[i];
	u->pass_state = m;
	return m;
}

/* Is the code object c the function's or nested in it? */
static bool in_fn(const struct code_info *c, const struct code_info *fcode)
{
	for (; c; c = c->parent)
		if (c == fcode)
			return true;
	return false;
}

/* The code objects of the function: u->codes is in pre-order, so they are the ones from its
 * own up to the first that is not nested in it (not every code object of the file). */
static size_t fn_codes_end(const struct unit *u, const struct code_info *fcode)
{
	size_t c = (size_t)(fcode - u->codes);
	while (c < u->ncodes && in_fn(&u->codes[c], fcode))
		c++;
	return c;
}

/* The memo entry of a module-level def (m->v is in source order: looked up by position). */
static struct fn *fn_of(struct memo *m, TSNode def)
{
	uint32_t st = ts_node_start_byte(def);
	size_t lo = 0, hi = m->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (ts_node_start_byte(m->v[mid].def) < st)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < m->n && ts_node_start_byte(m->v[i].def) == st; i++)
		if (ts_node_eq(m->v[i].def, def))
			return &m->v[i];
	return NULL;
}

/* The undecorated module-level def that the global `name` is bound to, once. */
static struct fn *module_fn(struct unit *u, struct memo *m, const char *name)
{
	struct global_ref ref;
	if (module_resolve(u, name, &ref) < 0 || ref.kind != GK_OTHER || !syn_is(ref.stmt, "function_definition"))
		return NULL;
	return fn_of(m, ref.stmt);
}

/* The first instruction positioned exactly on node n, in the function's code objects. */
static const struct insn *insn_at(struct unit *u, const struct fn *f, TSNode n, const struct code_info **where)
{
	if (!f->code)
		return NULL;
	for (size_t c = (size_t)(f->code - u->codes), end = fn_codes_end(u, f->code); c < end; c++) {
		int i = bridge_next_insn_in(&u->codes[c], 0, ts_node_start_point(n), ts_node_end_point(n));
		if (i >= 0) {
			*where = &u->codes[c];
			return &u->codes[c].insns[i];
		}
	}
	return NULL;
}

static const char *const str_methods[] = {
	"join", "format", "upper", "lower", "strip", "lstrip", "rstrip", "replace", "startswith",
	"endswith", "encode", "decode", "zfill", "center", "ljust", "rjust", "count", "find", "rfind",
	"title", "capitalize", "casefold", "isdigit", "isalpha", "isalnum", "isspace", "partition",
	"rpartition", "split", "rsplit", "splitlines", "translate", NULL,
};

static bool str_method(const char *name, bool *immutable)
{
	for (const char *const *m = str_methods; *m; m++)
		if (!strcmp(*m, name)) {
			/* split() and friends return a new list; the others str, bool, int or tuple */
			*immutable = strcmp(name, "split") && strcmp(name, "rsplit") && strcmp(name, "splitlines");
			return true;
		}
	return false;
}

static int analyse(struct unit *u, struct memo *m, struct fn *f);

/* ---- the proof: every call of the body is a known pure callable ------------------------- */

struct walk {
	struct unit *u;
	struct memo *m;
	struct fn *f;
	const char *why;
	size_t cap;
};

static void impure(struct walk *w, const char *why)
{
	if (!w->why)
		w->why = why;
}

static int approve(struct walk *w, TSNode n)
{
	struct fn *f = w->f;
	if (f->ncalls == w->cap) {
		w->cap = w->cap ? w->cap * 2 : 16;
		TSNode *nv = arena_grow(&w->u->arena, f->calls, sizeof *nv, f->ncalls, w->cap);
		if (!nv)
			return -1;
		f->calls = nv;
	}
	f->calls[f->ncalls++] = n;
	return 0;
}

/* What a call's callee is: 1 proven pure (approved), 0 not, -1 error. *immutable tells
 * whether its result is immutable; *callee the module function it calls, if any. */
static int classify_call(struct walk *w, TSNode call, bool *immutable, struct fn **callee)
{
	struct unit *u = w->u;
	TSNode fnode = syn_field(call, "function"), root;
	const char *rest;
	*immutable = false;
	*callee = NULL;
	if (syn_is(fnode, "attribute")) {
		TSNode obj = syn_field(fnode, "object");
		if (syn_is(obj, "string") && module_is_constant_expr(u, obj)) {
			const char *attr = text_of(u, syn_field(fnode, "attribute"));
			if (attr && str_method(attr, immutable))
				return 1;
			impure(w, "calls a str method that is not known to be pure");
			return 0;
		}
	}
	if (!module_name_chain(u, fnode, &root, &rest)) {
		impure(w, "calls something that is not a name (a computed callee)");
		return 0;
	}
	const struct code_info *where;
	const struct insn *in = insn_at(u, w->f, root, &where);
	const char *name = text_of(u, root);
	if (!in || !name)
		return in ? -1 : 0;
	if (!bridge_op_is_global_load(in->op)) {
		impure(w, arena_printf(&u->arena, "calls `%s`, a local whose value is not known", name));
		return 0;
	}
	struct global_ref ref;
	if (module_resolve(u, name, &ref) < 0)
		return -1;
	const char *qualified = NULL;
	if (ref.kind == GK_IMPORT)
		qualified = *rest ? arena_printf(&u->arena, "%s.%s", ref.qualified, rest) : ref.qualified;
	else if (ref.kind == GK_BUILTIN)
		qualified = arena_printf(&u->arena, "builtins.%s%s%s", name, *rest ? "." : "", rest);
	if (qualified) {
		const struct pure_callable *pc = purity_lookup(qualified);
		if (pc && (pc->flags & PURE_CALL)) {
			*immutable = (pc->flags & PURE_IMMUTABLE) != 0;
			return 1;
		}
		impure(w, arena_printf(&u->arena, "calls `%s`, which is not on the allow-list of pure callables",
				       qualified));
		return 0;
	}
	struct fn *g = *rest ? NULL : module_fn(u, w->m, name);
	if (g) {
		if (g != w->f && analyse(u, w->m, g) < 0)
			return -1;
		if (g == w->f || g->state == FN_PURE) {
			*callee = g;
			return 1;
		}
		impure(w, arena_printf(&u->arena, "calls `%s`, which is not proven pure", name));
		return 0;
	}
	impure(w, arena_printf(&u->arena, "calls `%s%s%s`, which is not known to be pure", name, *rest ? "." : "", rest));
	return 0;
}

static int visit(TSNode n, void *vctx)
{
	struct walk *w = vctx;
	const char *t = ts_node_type(n);
	if (!strcmp(t, "global_statement") || !strcmp(t, "nonlocal_statement")) {
		impure(w, "declares a name global or nonlocal");
		return 0;
	}
	if (syn_is_comprehension(n))
		return approve(w, n) < 0 ? -1 : 1;
	if (!strcmp(t, "call")) {
		bool imm;
		struct fn *g;
		int r = classify_call(w, n, &imm, &g);
		if (r < 0)
			return -1;
		if (r > 0 && approve(w, n) < 0)
			return -1;
	}
	return 1;
}


static bool inside(const struct insn *in, TSNode n)
{
	TSPoint s = ts_node_start_point(n), e = ts_node_end_point(n);
	int sl = (int)s.row + 1, el = (int)e.row + 1;
	return (in->line > sl || (in->line == sl && in->col >= (int)s.column)) &&
	       (in->end_line < el || (in->end_line == el && in->end_col <= (int)e.column));
}

/* The bytecode's word on every code object of the function. Returns the reason it is not
 * pure, or NULL. */
static const char *cross_check(struct unit *u, struct fn *f)
{
	if (!f->code)
		return NULL;
	for (size_t c = (size_t)(f->code - u->codes), end = fn_codes_end(u, f->code); c < end; c++) {
		const struct code_info *ci = &u->codes[c];
		for (size_t i = 0; i < ci->ninsns; i++) {
			const struct insn *in = &ci->insns[i];
			const char *bad = bridge_op_impure(in->op);
			/* a generator expression yields to the call that consumes it */
			if (bad && !(ci->kind == CK_COMPREHENSION && !strcmp(bad, "YIELD_VALUE")))
				return arena_printf(&u->arena, "its bytecode has %s", bad);
			if (bridge_op_is_call(in->op)) {
				bool ok = false;
				for (size_t k = 0; k < f->ncalls && !ok; k++)
					ok = bridge_insn_ends_at(in, f->calls[k]);
				if (!ok)
					return "its bytecode makes a call the tree did not prove pure";
			} else if (bridge_op_is_global_load(in->op) || bridge_op_is_attr_load(in->op)) {
				bool ok = false;
				for (size_t k = 0; k < f->ncalls && !ok; k++)
					ok = syn_is(f->calls[k], "call") && inside(in, syn_field(f->calls[k], "function"));
				if (!ok && bridge_op_is_global_load(in->op)) {
					const char *name = bridge_insn_name(u, ci, in);
					struct global_ref ref;
					/* an immutable module constant, or a builtin the module never binds
					 * (`int` passed to map): the same object on every call */
					ok = name && module_resolve(u, name, &ref) == 0 &&
					     (ref.kind == GK_CONSTANT || ref.kind == GK_BUILTIN);
					if (!ok)
						return arena_printf(&u->arena, "reads the global `%s`, which is not an "
									   "immutable module constant or a builtin", name ? name : "?");
				}
				if (!ok)
					return arena_printf(&u->arena, "reads the attribute `%s`", bridge_insn_name(u, ci, in));
			}
		}
	}
	return NULL;
}

/* ---- the cost estimate (see the top of the file) ----------------------------------------- */

static long add(long a, long b) { return a + b > COST_CAP ? COST_CAP : a + b; }
static long mul(long a, long b) { return a && b > COST_CAP / a ? COST_CAP : a * b; }

static long trips(const struct unit *u, TSNode it)
{
	long long n = scope_trip_count(u, it);
	return n < 0 ? COST_UNKNOWN_TRIPS : (long)n;
}

static long cost(struct unit *u, struct memo *m, const struct fn *self, TSNode n, int depth);

static long children_cost(struct unit *u, struct memo *m, const struct fn *self, TSNode n, int depth)
{
	long c = 0;
	uint32_t k = ts_node_named_child_count(n);
	for (uint32_t i = 0; i < k; i++)
		c = add(c, cost(u, m, self, ts_node_named_child(n, i), depth + 1));
	return c;
}

/* Does the subtree hold a call, a comprehension or a function (what the bytecode count of an
 * expression cannot price)? */
static int find_costly(TSNode n, void *vctx)
{
	bool *found = vctx;
	if (syn_is(n, "call") || syn_is_comprehension(n) || syn_is(n, "lambda")) {
		*found = true;
		return -1;
	}
	return 1;
}

/* The cost of a call-free expression on the bytecode: its instructions in the function's code
 * object, an operator or subscript 2, anything else 1. A display or operation of constants that
 * CPython folded is one LOAD_CONST: 1, however long its source. -1 when no instruction lies in
 * the expression (the caller then prices the tree). */
static long bytecode_cost(struct unit *u, const struct fn *self, TSNode n)
{
	const struct code_info *ci = self->code;
	long c = 0;
	bool any = false;
	for (int i = 0; (i = bridge_next_insn_in(ci, i, ts_node_start_point(n), ts_node_end_point(n))) >= 0; i++) {
		const char *op = bridge_opname(ci->insns[i].op);
		any = true;
		c += op && (!strncmp(op, "BINARY_", 7) || !strcmp(op, "COMPARE_OP") || !strncmp(op, "UNARY_", 6)) ? 2 : 1;
	}
	(void)u;
	return any ? c : -1;
}

static long cost(struct unit *u, struct memo *m, const struct fn *self, TSNode n, int depth)
{
	if (depth > 100)
		return COST_CAP;
	const char *t = ts_node_type(n);
	if (strstr(t, "statement") == NULL && strcmp(t, "block") && strcmp(t, "assignment") &&
	    strcmp(t, "augmented_assignment") && strcmp(t, "comment")) {
		bool costly = false;
		syn_walk(n, find_costly, &costly);
		long bc = costly ? -1 : bytecode_cost(u, self, n);
		if (bc >= 0)
			return bc;
	}
	if (!strcmp(t, "comment") || !strcmp(t, "function_definition") || !strcmp(t, "lambda") ||
	    !strcmp(t, "decorated_definition") || !strcmp(t, "class_definition"))
		return !strcmp(t, "comment") ? 0 : 2; /* building a function; its body runs when called */
	if (!strcmp(t, "identifier") || !strcmp(t, "integer") || !strcmp(t, "float") || !strcmp(t, "string") ||
	    !strcmp(t, "true") || !strcmp(t, "false") || !strcmp(t, "none"))
		return 1;
	if (!strcmp(t, "attribute"))
		return add(1, cost(u, m, self, syn_field(n, "object"), depth + 1));
	if (!strcmp(t, "for_statement")) {
		long body = add(2, cost(u, m, self, syn_field(n, "body"), depth + 1));
		return add(cost(u, m, self, syn_field(n, "right"), depth + 1), mul(trips(u, syn_field(n, "right")), body));
	}
	if (!strcmp(t, "while_statement"))
		return mul(COST_UNKNOWN_TRIPS, children_cost(u, m, self, n, depth));
	if (syn_is_comprehension(n)) {
		long per = 2, times = 1, first = 0;
		uint32_t k = ts_node_named_child_count(n);
		for (uint32_t i = 0; i < k; i++) {
			TSNode c = ts_node_named_child(n, i);
			if (syn_is(c, "for_in_clause")) {
				TSNode right = syn_field(c, "right");
				times = mul(times, trips(u, right));
				if (!first)
					first = cost(u, m, self, right, depth + 1);
			} else {
				per = add(per, cost(u, m, self, c, depth + 1));
			}
		}
		return add(20, add(first, mul(times, per)));
	}
	if (!strcmp(t, "call")) {
		long c = add(20, children_cost(u, m, self, n, depth));
		TSNode fnode = syn_field(n, "function");
		if (syn_is(fnode, "identifier")) {
			const char *name = text_of(u, fnode);
			struct fn *g = name ? module_fn(u, m, name) : NULL;
			if (g && g != self && g->state == FN_PURE)
				c = add(c, g->cost);
			/* an allow-listed builtin consuming a known number of items */
			TSNode args = syn_field(n, "arguments");
			if (!g && syn_is(args, "argument_list") && ts_node_named_child_count(args) >= 1) {
				TSNode a = ts_node_named_child(args, 0);
				long long items = scope_trip_count(u, a);
				if (syn_is(a, "generator_expression")) {
					items = 1;
					uint32_t k = ts_node_named_child_count(a);
					for (uint32_t i = 0; i < k && items >= 0; i++) {
						TSNode cl = ts_node_named_child(a, i);
						if (syn_is(cl, "for_in_clause"))
							items = items * trips(u, syn_field(cl, "right"));
					}
				}
				if (items > 0)
					c = add(c, mul(2, (long)items));
			}
		}
		return c;
	}
	if (!strcmp(t, "binary_operator") || !strcmp(t, "comparison_operator") || !strcmp(t, "boolean_operator") ||
	    !strcmp(t, "unary_operator") || !strcmp(t, "not_operator") || !strcmp(t, "subscript"))
		return add(2, children_cost(u, m, self, n, depth));
	long c = children_cost(u, m, self, n, depth);
	return strstr(t, "statement") || !strcmp(t, "assignment") || !strcmp(t, "augmented_assignment") ? add(c, 1) : c;
}

/* ---- putting the proof together ------------------------------------------------------------ */

static int analyse(struct unit *u, struct memo *m, struct fn *f)
{
	if (f->state != FN_UNKNOWN)
		return 0;
	f->state = FN_BUSY;
	f->code = bridge_code_of(u, f->def);
	if (!f->code || f->code->kind != CK_FUNCTION) {
		f->state = FN_IMPURE;
		f->why = "no single code object";
		return 0;
	}
	/* CO_GENERATOR 0x20, CO_COROUTINE 0x80, CO_ITERABLE_COROUTINE 0x100, CO_ASYNC_GENERATOR 0x200 */
	if (f->code->flags & (0x20 | 0x80 | 0x100 | 0x200)) {
		f->state = FN_IMPURE;
		f->why = "a generator or coroutine";
		return 0;
	}
	struct walk w = {u, m, f, NULL, 0};
	if (syn_walk(syn_field(f->def, "body"), visit, &w) < 0)
		return -1;
	const char *why = w.why ? w.why : cross_check(u, f);
	if (why) {
		f->state = FN_IMPURE;
		f->why = why;
		return 0;
	}
	f->cost = cost(u, m, f, syn_field(f->def, "body"), 0);
	f->state = FN_PURE;
	return 0;
}

struct memoize {
	struct fn *f;
	bool params;
};

/* How the module calls a function: every use a call (or the def itself), with constant
 * arguments (a recursive call may pass values computed from its own arguments), and at least
 * one call that can run more than once (inside a function, not at import only). */
struct calls {
	struct unit *u;
	struct fn *f;
	const char *why;  /* why it is not a candidate */
	int calls, repeating;
};

/* The arguments of a call: an argument_list's children, or the one generator expression of
 * `f(x for x in y)`. arg_value gives the i-th one's value (a keyword argument's value), false
 * for a comment. */
static uint32_t arg_count(TSNode args)
{
	return syn_is(args, "argument_list") ? ts_node_named_child_count(args) : 1;
}

static bool arg_value(TSNode args, uint32_t i, TSNode *out)
{
	TSNode a = syn_is(args, "argument_list") ? ts_node_named_child(args, i) : args;
	if (syn_is(a, "comment"))
		return false;
	*out = syn_is(a, "keyword_argument") ? syn_field(a, "value") : a;
	return true;
}

/* A list, set or dict display whose items are constants. */
static bool constant_display(const struct unit *u, TSNode a)
{
	if (!syn_is(a, "list") && !syn_is(a, "set") && !syn_is(a, "dictionary"))
		return false;
	uint32_t k = ts_node_named_child_count(a);
	for (uint32_t i = 0; i < k; i++) {
		TSNode c = ts_node_named_child(a, i);
		if (syn_is(c, "pair")) {
			if (!module_is_constant_expr(u, syn_field(c, "key")) || !module_is_constant_expr(u, syn_field(c, "value")))
				return false;
		} else if (!syn_is(c, "comment") && !module_is_constant_expr(u, c) && !constant_display(u, c)) {
			return false;
		}
	}
	return true;
}

static void on_call(TSNode id, void *vctx)
{
	struct calls *c = vctx;
	struct unit *u = c->u;
	if (c->why || ts_node_eq(id, syn_field(c->f->def, "name")))
		return;
	TSNode p = ts_node_parent(id);
	if (!syn_is(p, "call") || !ts_node_eq(syn_field(p, "function"), id)) {
		c->why = "it is used as a value, not only called with constant arguments";
		return;
	}
	bool inside_self = ts_node_start_byte(p) >= ts_node_start_byte(c->f->def) &&
			   ts_node_end_byte(p) <= ts_node_end_byte(c->f->def);
	if (!inside_self) {
		TSNode args = syn_field(p, "arguments");
		for (uint32_t i = 0, k = arg_count(args); i < k; i++) {
			TSNode a;
			if (!arg_value(args, i, &a))
				continue;
			/* a display of constants is a constant argument too; whether it is hashable is
			 * the fix's question */
			if (ts_node_is_null(a) || (!module_is_constant_expr(u, a) && !constant_display(u, a))) {
				c->why = arena_printf(&u->arena, "the call at line %u passes an argument that is not a "
								 "constant", ts_node_start_point(p).row + 1);
				return;
			}
		}
	}
	c->calls++;
	/* a call in a function (or its defaults) can repeat; one at module level or in a class
	 * body runs once, at import */
	for (TSNode s = scope_parent(u, p); !ts_node_is_null(s); s = scope_parent(u, s))
		if (syn_is_function(s)) {
			c->repeating++;
			break;
		}
}

static int find_value_return(TSNode n, void *vctx)
{
	bool *found = vctx;
	if (syn_is_scope(n))
		return 0;
	if (syn_is(n, "return_statement")) {
		TSNode v = ts_node_named_child(n, 0);
		if (!ts_node_is_null(v) && !syn_is(v, "comment") && !syn_is(v, "none")) {
			*found = true;
			return -1;
		}
		return 0;
	}
	return 1;
}

/* NULL when the module calls the function as SPF301 requires, else why not. */
static const char *called_with_constants(struct unit *u, struct fn *f)
{
	TSNode nm = syn_field(f->def, "name");
	const char *name = text_of(u, nm);
	if (!name)
		return "no name";
	struct calls c = {u, f, NULL, 0, 0};
	scope_each_use(u, u->root, name, on_call, &c);
	if (c.why)
		return c.why;
	if (!c.calls)
		return "it is never called in this module";
	if (!c.repeating)
		return "it is called only at import time: nothing repeats";
	return NULL;
}

static int find(struct unit *u, const struct pass *self, TSNode node)
{
	if (!is_module_def(u, node))
		return 0;
	struct memo *m = memo_of(u);
	if (!m)
		return -1;
	struct fn *f = fn_of(m, node);
	if (!f)
		return 0;
	TSNode nm = syn_field(node, "name");
	TSPoint at = ts_node_start_point(nm);
	/* what the tree alone rules out first: the bytecode is asked (and the file compiled) only
	 * for a function whose result a cache could keep and that the module calls as a cache
	 * needs. (The proof of a function another one calls is made when that one asks.) */
	bool gives = false;
	syn_walk(syn_field(node, "body"), find_value_return, &gives);
	/* a pure function that returns None computes nothing a cache could keep (what it does is
	 * spend time: warming caches, say) */
	const char *not_called = gives ? called_with_constants(u, f) : "it returns nothing";
	if (not_called) {
		unit_debug(u, self, "%u:%u: not a candidate: %s", at.row + 1, at.column + 1, not_called);
		return 0;
	}
	if (analyse(u, m, f) < 0)
		return -1;
	if (f->state != FN_PURE) {
		unit_debug(u, self, "%u:%u: not pure: %s", at.row + 1, at.column + 1, f->why ? f->why : "?");
		return 0;
	}
	if (f->cost < SPF301_MIN_COST) {
		unit_debug(u, self, "%u:%u: pure, but its estimated cost (%ld) is below %d: a cache hit would not pay",
			   at.row + 1, at.column + 1, f->cost, SPF301_MIN_COST);
		return 0;
	}
	struct finding *fd = unit_add_finding(u, self, nm);
	struct memoize *d = arena_alloc(&u->arena, sizeof *d);
	if (!fd || !d)
		return -1;
	d->f = f;
	fd->node = node;
	fd->code = f->code;
	fd->data = d;
	fd->message = arena_printf(&u->arena, "Function `%.*s` is pure and recomputes its result on every call "
				   "(estimated cost %ld, a cache hit about 20)",
				   (int)syn_len(nm), u->src + ts_node_start_byte(nm), f->cost);
	fd->facts = arena_printf(&u->arena, "code=%s no STORE_GLOBAL/STORE_ATTR/STORE_SUBSCR/IMPORT_NAME/YIELD_VALUE; "
				 "%zu calls, all proven pure; cost=%ld", f->code->qualname, f->ncalls, f->cost);
	return 0;
}

/* ---- check: is the cache safe? ------------------------------------------------------------ */

struct imm {
	struct unit *u;
	struct memo *m;
	struct fn *f;
	int depth;
};

static bool immutable_expr(struct imm *c, TSNode n);
static bool returns_immutable(struct imm *c);
static bool returns_iterator(struct imm *c, TSNode *what, int depth);

struct assigns {
	struct imm *c;
	const char *name;
	bool ok;
	int seen; /* bindings of the name the walk evaluated */
};

static int visit_assign(TSNode n, void *vctx)
{
	struct assigns *a = vctx;
	struct unit *u = a->c->u;
	if (syn_is_scope(n))
		return 0;
	if (syn_is(n, "assignment") || syn_is(n, "augmented_assignment")) {
		TSNode left = syn_field(n, "left"), right = syn_field(n, "right");
		if (syn_text_eq(left, u->src, a->name)) {
			a->seen++;
			a->ok &= !ts_node_is_null(right) && immutable_expr(a->c, right);
		}
	} else if (syn_is(n, "for_statement")) {
		TSNode left = syn_field(n, "left"), right = syn_field(n, "right");
		if (syn_text_eq(left, u->src, a->name)) {
			/* items of range(N) or of a constant display are immutable */
			a->seen++;
			a->ok &= scope_trip_count(u, right) >= 0 &&
				 (syn_is(right, "call") || module_is_constant_expr(u, right));
		}
	}
	return 1;
}

/* Stores of `name` in the function's own code object (STORE_FAST/STORE_DEREF). */
static int stores_of(struct unit *u, const struct code_info *ci, const char *name)
{
	int n = 0;
	for (size_t i = 0; i < ci->ninsns; i++) {
		const struct insn *in = &ci->insns[i];
		if (!bridge_op_reads_local(in->op) || bridge_op_is_local_load(in->op))
			continue;
		const char *nm = bridge_insn_name(u, ci, in);
		n += nm && !strcmp(nm, name);
	}
	return n;
}

static bool is_parameter(struct imm *c, const char *name)
{
	TSNode params = syn_field(c->f->def, "parameters");
	uint32_t k = ts_node_named_child_count(params);
	for (uint32_t i = 0; i < k; i++) {
		TSNode p = ts_node_named_child(params, i);
		TSNode id = syn_is(p, "identifier") ? p : syn_field(p, "name");
		if (ts_node_is_null(id) && ts_node_named_child_count(p))
			id = ts_node_named_child(p, 0);
		if (!ts_node_is_null(id) && syn_text_eq(id, c->u->src, name))
			return true;
	}
	return false;
}

static bool immutable_expr(struct imm *c, TSNode n)
{
	struct unit *u = c->u;
	if (ts_node_is_null(n) || ++c->depth > 64)
		return false;
	bool r = false;
	const char *t = ts_node_type(n);
	if (module_is_constant_expr(u, n) || !strcmp(t, "string") || !strcmp(t, "concatenated_string") ||
	    !strcmp(t, "comparison_operator") || !strcmp(t, "not_operator")) {
		r = true; /* constants, str (f-strings included) and bools */
	} else if (!strcmp(t, "parenthesized_expression")) {
		r = immutable_expr(c, ts_node_named_child(n, 0));
	} else if (!strcmp(t, "tuple") || !strcmp(t, "expression_list") || !strcmp(t, "binary_operator") ||
		   !strcmp(t, "unary_operator") ||
		   !strcmp(t, "boolean_operator") || !strcmp(t, "conditional_expression")) {
		r = true;
		uint32_t k = ts_node_named_child_count(n);
		for (uint32_t i = 0; i < k && r; i++) {
			TSNode ch = ts_node_named_child(n, i);
			r = syn_is(ch, "comment") || immutable_expr(c, ch);
		}
	} else if (!strcmp(t, "identifier")) {
		const char *name = text_of(u, n);
		struct global_ref ref;
		if (!name) {
			r = false;
		} else if (is_parameter(c, name)) {
			r = true; /* hashable arguments are immutable: the call sites decide */
		} else if (bridge_local_kind(c->f->code, name) == 1) {
			/* a local: every binding the tree sees is immutable, and the bytecode has no
			 * other store of it (unpacking, with/except targets, walrus, ...) */
			struct assigns a = {c, name, true, 0};
			syn_walk(syn_field(c->f->def, "body"), visit_assign, &a);
			r = a.ok && a.seen > 0 && a.seen == stores_of(u, c->f->code, name);
		} else {
			/* a module constant; or a builtin or an import: the same object on every call
			 * already, cached or not */
			r = module_resolve(u, name, &ref) == 0 &&
			    (ref.kind == GK_CONSTANT || ref.kind == GK_BUILTIN || ref.kind == GK_IMPORT);
		}
	} else if (!strcmp(t, "call")) {
		struct walk w = {u, c->m, c->f, NULL, 0};
		bool imm;
		struct fn *g;
		int k = classify_call(&w, n, &imm, &g);
		if (k > 0 && g == c->f)
			r = true; /* recursion: the same result as the other returns */
		else if (k > 0 && g) {
			struct imm c2 = {u, c->m, g, c->depth};
			r = returns_immutable(&c2);
		} else {
			r = k > 0 && imm;
		}
	}
	c->depth--;
	return r;
}

/* Is the value an iterator that one caller consumes: a generator expression, or a call of
 * iter, map, filter, zip, enumerate or reversed (the builtins), or of a function of the module
 * that returns one? */
static bool iterator_expr(struct imm *c, TSNode n, int depth)
{
	struct unit *u = c->u;
	while (syn_is(n, "parenthesized_expression"))
		n = ts_node_named_child(n, 0);
	if (syn_is(n, "generator_expression"))
		return true;
	if (!syn_is(n, "call") || depth > 16)
		return false;
	TSNode fn = syn_field(n, "function");
	if (!syn_is(fn, "identifier"))
		return false;
	static const char *const iterators[] = {"iter", "map", "filter", "zip", "enumerate", "reversed", NULL};
	const char *name = text_of(u, fn);
	struct global_ref ref;
	if (!name || module_resolve(u, name, &ref) < 0)
		return false;
	if (ref.kind == GK_BUILTIN) {
		for (const char *const *i = iterators; *i; i++)
			if (!strcmp(*i, name))
				return true;
		return false;
	}
	struct fn *g = module_fn(u, c->m, name);
	if (!g || g == c->f)
		return false;
	struct imm c2 = {u, c->m, g, c->depth};
	return returns_iterator(&c2, NULL, depth + 1);
}

/* The first `return` value of the function's own body (not of nested scopes) for which
 * pick(c, value, depth) holds, or a null node. */
struct return_scan {
	struct imm *c;
	int depth;
	bool (*pick)(struct imm *c, TSNode value, int depth);
	TSNode found;
};

static int visit_return(TSNode n, void *vctx)
{
	struct return_scan *s = vctx;
	if (syn_is_scope(n))
		return 0;
	if (syn_is(n, "return_statement")) {
		TSNode v = ts_node_named_child(n, 0);
		if (!ts_node_is_null(v) && !syn_is(v, "comment") && s->pick(s->c, v, s->depth)) {
			s->found = v;
			return -1;
		}
		return 0;
	}
	return 1;
}

static TSNode first_return(struct imm *c, int depth, bool (*pick)(struct imm *, TSNode, int))
{
	struct return_scan s = {c, depth, pick, {{0}, 0, 0}};
	syn_walk(syn_field(c->f->def, "body"), visit_return, &s);
	return s.found;
}

static bool returns_iterator(struct imm *c, TSNode *what, int depth)
{
	TSNode found = first_return(c, depth, iterator_expr);
	if (what)
		*what = found;
	return !ts_node_is_null(found);
}

static bool mutable_value(struct imm *c, TSNode v, int depth)
{
	(void)depth;
	return !immutable_expr(c, v);
}

/* Does every `return` of c->f give an immutable value? (A bare return gives None.) */
static bool returns_immutable_at(struct imm *c, TSNode *bad)
{
	*bad = (TSNode){{0}, 0, 0};
	if (c->depth > 32)
		return false;
	*bad = first_return(c, 0, mutable_value);
	return ts_node_is_null(*bad);
}

static bool returns_immutable(struct imm *c)
{
	TSNode bad;
	return returns_immutable_at(c, &bad);
}

struct sites {
	struct unit *u;
	struct fn *f;
	struct imm *c;
	const char *why;
	int calls;
	bool recursive;
};

/* Does a constant hold a float or complex literal? 0.0 and -0.0 are equal and hash alike, so
 * they would share a cache entry; `(1,)` and `(1.0,)` too. */
struct floats {
	const char *src;
	bool found;
};

static int find_float(TSNode n, void *vctx)
{
	struct floats *f = vctx;
	/* `2j` is an integer node ending in j: complex, like a float */
	char last = ts_node_end_byte(n) > ts_node_start_byte(n) ? f->src[ts_node_end_byte(n) - 1] : 0;
	f->found |= syn_is(n, "float") || (syn_is(n, "integer") && (last == 'j' || last == 'J'));
	return f->found ? -1 : 1;
}

static void on_site(TSNode id, void *vctx)
{
	struct sites *s = vctx;
	struct unit *u = s->u;
	if (s->why)
		return;
	TSNode p = ts_node_parent(id);
	if (ts_node_eq(id, syn_field(s->f->def, "name")))
		return;
	if (!syn_is(p, "call") || !ts_node_eq(syn_field(p, "function"), id)) {
		s->why = "the function is used as a value, so it may be called with any arguments";
		return;
	}
	s->calls++;
	TSNode args = syn_field(p, "arguments");
	bool inside_self = ts_node_start_byte(p) >= ts_node_start_byte(s->f->def) &&
			   ts_node_end_byte(p) <= ts_node_end_byte(s->f->def);
	s->recursive |= inside_self;
	for (uint32_t i = 0, k = arg_count(args); i < k; i++) {
		TSNode a;
		if (!arg_value(args, i, &a))
			continue;
		/* a recursive call passes values computed from its own (hashable) arguments */
		bool ok = !ts_node_is_null(a) && (module_is_constant_expr(u, a) || (inside_self && immutable_expr(s->c, a)));
		struct floats fl = {u->src, false};
		if (ok && !inside_self)
			syn_walk(a, find_float, &fl);
		if (fl.found) {
			TSPoint at = ts_node_start_point(p);
			s->why = arena_printf(&u->arena, "the call at line %u passes a float: equal numbers of other types "
							 "or signs (0.0 and -0.0) would share a cache entry", at.row + 1);
			return;
		}
		if (!ok) {
			TSPoint at = ts_node_start_point(p);
			s->why = arena_printf(&u->arena, "the call at line %u passes `%s`, which is not hashable: the cache "
							 "would raise TypeError",
					      at.row + 1, module_excerpt(u, a, 40));
			return;
		}
	}
}

static bool has_parameters(TSNode def, const char **variadic, bool *defaults_ok, const struct unit *u)
{
	TSNode params = syn_field(def, "parameters");
	uint32_t k = ts_node_named_child_count(params);
	bool any = false;
	*variadic = NULL;
	*defaults_ok = true;
	for (uint32_t i = 0; i < k; i++) {
		TSNode p = ts_node_named_child(params, i);
		const char *t = ts_node_type(p);
		if (!strcmp(t, "comment") || !strcmp(t, "keyword_separator") || !strcmp(t, "positional_separator"))
			continue;
		any = true;
		if (!strcmp(t, "list_splat_pattern") || !strcmp(t, "dictionary_splat_pattern"))
			*variadic = "it takes *args or **kwargs, which may carry unhashable values";
		if (!strcmp(t, "default_parameter") || !strcmp(t, "typed_default_parameter"))
			*defaults_ok &= module_is_constant_expr(u, syn_field(p, "value"));
	}
	return any;
}

static int check(struct unit *u, struct finding *fd)
{
	struct memoize *d = fd->data;
	struct fn *f = d->f;
	struct memo *m = memo_of(u);
	if (!m)
		return -1;
	struct imm c = {u, m, f, 0};
	struct global_ref ref;
	if (module_resolve(u, "functools", &ref) < 0)
		return -1;
	if (ref.kind != GK_BUILTIN && ref.kind != GK_UNBOUND &&
	    !(ref.kind == GK_IMPORT && !strcmp(ref.qualified, "functools"))) {
		fd->applicability = FIX_NONE;
		fd->reason = "the name `functools` is bound to something else in this module";
		return 1;
	}
	const char *variadic;
	bool defaults_ok;
	d->params = has_parameters(f->def, &variadic, &defaults_ok, u);
	fd->applicability = FIX_SAFE;
	TSNode bad;
	const char *why = NULL;
	if (returns_iterator(&c, &bad, 0)) {
		/* cached, the second caller gets the same iterator, already consumed: not a change of
		 * identity but a wrong result */
		fd->applicability = FIX_NONE;
		fd->reason = arena_printf(&u->arena, "it returns an iterator (`%s`); cached, every later call would "
							 "get the same, already consumed one",
					  module_excerpt(u, bad, 40));
		return 1;
	}
	/* the hazards, the real one first: what callers pass, then what the cache hands back */
	TSNode nm = syn_field(f->def, "name");
	const char *name = text_of(u, nm);
	struct sites s = {u, f, &c, NULL, 0, false};
	if (name)
		scope_each_use(u, u->root, name, on_site, &s);
	if (variadic)
		why = variadic;
	else if (!defaults_ok)
		why = "a default value is not a constant";
	else if (s.why)
		why = s.why;
	else if (d->params && name && name[0] != '_')
		why = "it is public and takes arguments: callers outside this module may pass unhashable "
		      "values (TypeError under lru_cache)";
	else if (!returns_immutable_at(&c, &bad))
		why = ts_node_is_null(bad) ? "its result cannot be shown to be immutable"
		      : arena_printf(&u->arena, "it may return a mutable object (`%s`); the cache would hand "
						"every caller the same one",
				     module_excerpt(u, bad, 40));
	else if (s.recursive)
		why = "it calls itself: each level then also runs the cache wrapper, which lowers the depth the "
		      "recursion can reach before RecursionError";
	else if (d->params && !s.calls)
		why = "no call in this module shows that its arguments are hashable";
	if (why) {
		fd->applicability = FIX_UNSAFE;
		fd->reason = why;
	}
	return 1;
}

static int rewrite(struct unit *u, struct finding *fd)
{
	struct memoize *d = fd->data;
	TSNode def = d->f->def;
	size_t line = unit_line_start(u, ts_node_start_byte(def));
	/* typed: 1 and 1.0 (and True) are equal keys; with typed=True they keep their own results */
	const char *args = d->params ? "maxsize=None, typed=True" : "maxsize=1";
	const char *deco = arena_printf(&u->arena, "%.*s@functools.lru_cache(%s)%s",
					(int)(ts_node_start_byte(def) - line), u->src + line, args, u->nl);
	struct global_ref ref;
	if (!deco || module_resolve(u, "functools", &ref) < 0)
		return -1;
	bool need_import = ref.kind != GK_IMPORT;
	fd->edits = arena_alloc(&u->arena, 5 * sizeof *fd->edits);
	if (!fd->edits)
		return -1;
	fd->nedits = 0;
	if (need_import)
		fd->nedits += imports_insert(u, "functools", fd->edits);
	/* trailing: below the separator when the import goes right above this def */
	fd->edits[fd->nedits++] = (struct edit){line, line, deco, strlen(deco), 0, true};
	fd->fix_title = arena_printf(&u->arena, "Add `@functools.lru_cache(%s)`", args);
	return 0;
}

const struct pass pass_spf301 = {
	.code = "SPF301",
	.name = "memoizable-pure-function",
	.summary = "a pure module-level function recomputes the same result on every call",
	.query = syn_query_nested_function,
	.find = find,
	.check = check,
	.rewrite = rewrite,
	.doc =
		{
			.what = "A module-level, undecorated function (not a method, generator or coroutine) that is free\n"
				"of side effects and deterministic, and that the module calls with no arguments or only\n"
				"constant ones -- every use a call, at least one of them inside a function (a function called\n"
				"only at import time repeats nothing). Proven on the tree (it reads only constants, its\n"
				"parameters and locals, immutable module constants; it calls only allow-listed pure callables,\n"
				"methods of string constants and other proven-pure functions of the module) and on the\n"
				"bytecode (no store to a global, attribute or subscript, no import, no yield). Reported only\n"
				"when its body, priced on the bytecode, costs clearly more than a cache hit: a constant that\n"
				"CPython folded is one LOAD_CONST, however long its source.",
			.why = "Each call recomputes the same result. A cache returns it without running the body again,\n"
				"when the body costs more than a cache lookup (an lru_cache hit costs about 40 ns, a plain\n"
				"call of `return 1` about 30 ns: memoizing a trivial body makes it slower).",
			.fix = "`@functools.lru_cache(maxsize=1)` without parameters (`maxsize=None, typed=True` with),\n"
				"with `import functools` added where isort puts it. Safe only when every return gives an\n"
				"immutable value and, for a function with parameters, it is private (`_name`), has no\n"
				"`*args`/`**kwargs`, only constant defaults, and every call passes hashable constants.\n"
				"Unsafe, with the hazard named: a call site that passes an unhashable value (`[1, 2]`: the\n"
				"cache raises TypeError), a public function with parameters (callers elsewhere may), a\n"
				"mutable result (every caller would share one object), recursion. No fix at all for a\n"
				"function that returns an iterator or generator: cached, the second caller would get the\n"
				"same, already consumed iterator.",
			.before = "def default_table():\n"
				"    return tuple(i * i for i in range(1000))\n"
				"\n"
				"\n"
				"def lookup(i):\n"
				"    return default_table()[i]\n",
			.after = "import functools\n"
				"\n"
				"\n"
				"@functools.lru_cache(maxsize=1)\n"
				"def default_table():\n"
				"    return tuple(i * i for i in range(1000))\n"
				"\n"
				"\n"
				"def lookup(i):\n"
				"    return default_table()[i]\n",
		},
	.bench = BENCH_CALL, /* the body vs a cache hit */
};
