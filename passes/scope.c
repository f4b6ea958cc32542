#define _GNU_SOURCE /* memmem */
#include "scope.h"
#include "bridge.h"

#include <stdlib.h>
#include <string.h>

static const TSNode null_node = {{0}, 0, 0};

/* Does the source text of n contain s? A tree walk looking for a name can be skipped when its
 * text is nowhere in the node's source. */
static bool text_has(const struct unit *u, TSNode n, const char *s)
{
	uint32_t a = ts_node_start_byte(n), b = ts_node_end_byte(n);
	return b <= u->len && a <= b && memmem(u->src + a, b - a, s, strlen(s)) != NULL;
}

/* Is `child` (a direct child of the for_in_clause `clause`) on the iterable side of `in`? */
static bool in_iterable(TSNode clause, TSNode child)
{
	uint32_t n = ts_node_child_count(clause);
	for (uint32_t i = 0; i < n; i++) {
		TSNode c = ts_node_child(clause, i);
		if (!ts_node_is_named(c) && !strcmp(ts_node_type(c), "in"))
			return ts_node_start_byte(child) > ts_node_start_byte(c);
	}
	return false;
}

static bool is_first_for_in(TSNode clause)
{
	TSNode comp = ts_node_parent(clause);
	uint32_t n = ts_node_named_child_count(comp);
	for (uint32_t i = 0; i < n; i++) {
		TSNode c = ts_node_named_child(comp, i);
		if (syn_is(c, "for_in_clause"))
			return ts_node_eq(c, clause);
	}
	return false;
}

TSNode scope_parent(const struct unit *u, TSNode n)
{
	TSNode p;
	if (unit_scope_parent(u, n, &p))
		return p;
	return scope_parent_walk(n);
}

TSNode scope_parent_walk(TSNode n)
{
	TSNode child = n;
	bool skip_comp = false;
	for (TSNode p = ts_node_parent(n); !ts_node_is_null(p); child = p, p = ts_node_parent(p)) {
		const char *t = ts_node_type(p);
		if (!strcmp(t, "function_definition") || !strcmp(t, "lambda") || !strcmp(t, "class_definition")) {
			if (ts_node_eq(child, syn_field(p, "body")))
				return p;
		} else if (!strcmp(t, "for_in_clause")) {
			if (in_iterable(p, child) && is_first_for_in(p))
				skip_comp = true;
		} else if (syn_is_comprehension(p)) {
			if (skip_comp)
				skip_comp = false;
			else
				return p;
		}
	}
	return null_node;
}

bool scope_is_function_like(const struct unit *u, TSNode s)
{
	while (!ts_node_is_null(s)) {
		if (syn_is_function(s))
			return true;
		if (!syn_is_comprehension(s))
			return false;
		s = scope_parent(u, s);
	}
	return false;
}

TSNode scope_enclosing_def(const struct unit *u, TSNode n)
{
	for (TSNode s = scope_parent(u, n); !ts_node_is_null(s); s = scope_parent(u, s))
		if (syn_is(s, "function_definition"))
			return s;
	return null_node;
}

static const char *own_name(struct unit *u, TSNode n)
{
	const char *t = ts_node_type(n);
	if (!strcmp(t, "lambda"))
		return "<lambda>";
	if (!strcmp(t, "list_comprehension"))
		return "<listcomp>";
	if (!strcmp(t, "set_comprehension"))
		return "<setcomp>";
	if (!strcmp(t, "dictionary_comprehension"))
		return "<dictcomp>";
	if (!strcmp(t, "generator_expression"))
		return "<genexpr>";
	TSNode nm = syn_field(n, "name");
	if (ts_node_is_null(nm))
		return "?";
	return arena_strndup(&u->arena, u->src + ts_node_start_byte(nm), syn_len(nm));
}

/* Does scope `fn` contain `global name` in its own scope? */
struct gdecl {
	struct unit *u;
	TSNode fn;
	const char *name;
	bool found;
};

static int find_global(TSNode n, void *vctx)
{
	struct gdecl *g = vctx;
	if (!ts_node_eq(n, g->fn) && syn_is_scope(n))
		return 0;
	if (syn_is(n, "global_statement")) {
		uint32_t k = ts_node_named_child_count(n);
		for (uint32_t i = 0; i < k; i++)
			if (syn_text_eq(ts_node_named_child(n, i), g->u->src, g->name)) {
				g->found = true;
				return -1;
			}
		return 0;
	}
	return 1;
}

static const char *qualname_of(struct unit *u, TSNode n);

const char *scope_qualname(struct unit *u, TSNode n)
{
	int i = u->scopes ? unit_scope_index(u, n) : -1;
	if (i < 0)
		return qualname_of(u, n);
	if (!u->scopes[i].qualname)
		u->scopes[i].qualname = qualname_of(u, n);
	return u->scopes[i].qualname;
}

static const char *qualname_of(struct unit *u, TSNode n)
{
	const char *name = own_name(u, n);
	TSNode p = scope_parent(u, n);
	/* 3.12+ (PEP 709): a list, set or dict comprehension is inlined into its scope and adds no
	 * component to the qualnames inside it */
	while (!ts_node_is_null(p) && syn_is_comprehension(p) && !syn_is(p, "generator_expression") &&
	       bridge_inlines_comprehensions())
		p = scope_parent(u, p);
	if (ts_node_is_null(p))
		return name;
	if (unit_has_global_statement(u) && (syn_is(p, "function_definition") || syn_is(p, "class_definition")) &&
	    (syn_is(n, "function_definition") || syn_is(n, "class_definition"))) {
		struct gdecl g = {u, p, name, false};
		TSNode body = syn_field(p, "body");
		if (!ts_node_is_null(body) && text_has(u, body, "global"))
			syn_walk(body, find_global, &g);
		if (g.found)
			return name;
	}
	const char *pq = scope_qualname(u, p);
	if (syn_is_function(p))
		return arena_printf(&u->arena, "%s.<locals>.%s", pq, name);
	return arena_printf(&u->arena, "%s.%s", pq, name);
}

TSNode scope_def_statement(TSNode def)
{
	TSNode p = ts_node_parent(def);
	if (syn_is(p, "decorated_definition"))
		return p;
	return def;
}

int scope_firstlineno(TSNode n)
{
	if (syn_is(n, "function_definition") || syn_is(n, "class_definition"))
		n = scope_def_statement(n);
	return (int)ts_node_start_point(n).row + 1;
}

TSNode scope_toplevel_statement(TSNode n)
{
	TSNode prev = n;
	for (TSNode p = ts_node_parent(n); !ts_node_is_null(p); prev = p, p = ts_node_parent(p))
		if (syn_is(p, "module"))
			return prev;
	return prev;
}

struct dyn {
	struct unit *u;
	TSNode fn;
	const char *found;
};

static int find_dynamic(TSNode n, void *vctx)
{
	struct dyn *d = vctx;
	/* nested scopes are walked too: their defaults, decorators, annotations and first
	 * iterable run in this frame; scope_parent tells which calls do */
	if (syn_is(n, "call") && ts_node_eq(scope_parent(d->u, n), d->fn)) {
		TSNode f = syn_field(n, "function");
		static const char *const names[] = {"locals", "vars", "exec", "eval"};
		for (size_t i = 0; i < sizeof names / sizeof *names; i++)
			if (syn_text_eq(f, d->u->src, names[i])) {
				d->found = names[i];
				return -1;
			}
	}
	return 1;
}

const char *scope_dynamic_call(struct unit *u, TSNode fn)
{
	struct dyn d = {u, fn, NULL};
	TSNode body = syn_field(fn, "body");
	if (!ts_node_is_null(body) && (text_has(u, body, "locals") || text_has(u, body, "vars") ||
				       text_has(u, body, "exec") || text_has(u, body, "eval")))
		syn_walk(body, find_dynamic, &d);
	return d.found;
}

struct uses {
	struct unit *u;
	const char *name;
	void (*fn)(TSNode, void *);
	void *ctx;
};

static int visit_use(TSNode n, void *vctx)
{
	struct uses *s = vctx;
	if (syn_is(n, "identifier")) {
		if (syn_text_eq(n, s->u->src, s->name))
			s->fn(n, s->ctx);
		return 0;
	}
	/* obj.attr: the attribute name is not a use of a variable */
	if (syn_is(n, "attribute")) {
		TSNode obj = syn_field(n, "object");
		if (!ts_node_is_null(obj))
			syn_walk(obj, visit_use, s);
		return 0;
	}
	/* f(name=...): the keyword is not a use */
	if (syn_is(n, "keyword_argument")) {
		TSNode v = syn_field(n, "value");
		if (!ts_node_is_null(v))
			syn_walk(v, visit_use, s);
		return 0;
	}
	return 1;
}

void scope_each_use(struct unit *u, TSNode root, const char *name, void (*fn)(TSNode, void *), void *ctx)
{
	struct uses s = {u, name, fn, ctx};
	if (!*name)
		return;
	/* from the unit's identifier table when root is in its tree: the cost of the uses found,
	 * not of the subtree (a walk of the module for each name is quadratic in the file) */
	const struct unit_ident *id;
	long n = root.tree == u->tree ? unit_identifiers(u, name, ts_node_start_byte(root), ts_node_end_byte(root), &id)
				      : -1;
	if (n >= 0) {
		for (long i = 0; i < n; i++)
			if (id[i].use)
				fn(id[i].node, ctx);
		return;
	}
	if (text_has(u, root, name))
		syn_walk(root, visit_use, &s);
}

/* Value of an integer literal, possibly negated; false when n is not one (or too large). */
static bool int_const(const struct unit *u, TSNode n, long long *v)
{
	bool neg = false;
	while (syn_is(n, "parenthesized_expression"))
		n = ts_node_named_child(n, 0);
	if (syn_is(n, "unary_operator")) {
		TSNode op = ts_node_child(n, 0);
		if (syn_len(op) != 1 || u->src[ts_node_start_byte(op)] != '-')
			return false;
		neg = true;
		n = syn_field(n, "argument");
	}
	if (!syn_is(n, "integer") || syn_len(n) > 15)
		return false;
	char buf[24];
	memcpy(buf, u->src + ts_node_start_byte(n), syn_len(n));
	buf[syn_len(n)] = 0;
	char *end;
	long long x = strtoll(buf, &end, 0);
	if (*end)
		return false;
	*v = neg ? -x : x;
	return true;
}

long long scope_trip_count(const struct unit *u, TSNode it)
{
	while (syn_is(it, "parenthesized_expression"))
		it = ts_node_named_child(it, 0);
	const char *t = ts_node_type(it);
	if (!strcmp(t, "tuple") || !strcmp(t, "list") || !strcmp(t, "set")) {
		long long n = 0;
		uint32_t k = ts_node_named_child_count(it);
		for (uint32_t i = 0; i < k; i++) {
			TSNode c = ts_node_named_child(it, i);
			if (syn_is(c, "list_splat") || syn_is(c, "parenthesized_list_splat"))
				return -1;
			n += !syn_is(c, "comment");
		}
		return n;
	}
	if (strcmp(t, "call") != 0 || !syn_text_eq(syn_field(it, "function"), u->src, "range"))
		return -1;
	TSNode args = syn_field(it, "arguments");
	long long v[3] = {0, 0, 1};
	uint32_t k = ts_node_named_child_count(args), n = 0;
	for (uint32_t i = 0; i < k; i++) {
		TSNode a = ts_node_named_child(args, i);
		if (syn_is(a, "comment"))
			continue;
		if (n == 3 || !int_const(u, a, &v[n]))
			return -1;
		n++;
	}
	if (n == 0)
		return -1;
	long long start = n == 1 ? 0 : v[0], stop = n == 1 ? v[0] : v[1], step = n == 3 ? v[2] : 1;
	if (step == 0)
		return -1;
	long long len = step > 0 ? (stop - start + step - 1) / step : (start - stop - step - 1) / -step;
	return len > 0 ? len : 0;
}

long long scope_runs_per_call(const struct unit *u, TSNode node, TSNode outer)
{
	long long total = 1;
	TSNode child = node;
	for (TSNode p = ts_node_parent(node); !ts_node_is_null(p) && !ts_node_eq(p, outer);
	     child = p, p = ts_node_parent(p)) {
		long long n = 1;
		if (syn_is(p, "for_statement") && ts_node_eq(child, syn_field(p, "body")))
			n = scope_trip_count(u, syn_field(p, "right"));
		else if (syn_is(p, "while_statement") && ts_node_eq(child, syn_field(p, "body")))
			n = -1;
		else if (syn_is_comprehension(p) && !ts_node_eq(child, ts_node_named_child(p, 0)))
			n = -1; /* in a clause, not the element */
		else if (syn_is_comprehension(p)) {
			/* the element of a comprehension runs once per combination of its clauses */
			uint32_t k = ts_node_named_child_count(p);
			for (uint32_t i = 1; i < k && n >= 0; i++) {
				TSNode c = ts_node_named_child(p, i);
				if (syn_is(c, "for_in_clause")) {
					long long m = scope_trip_count(u, syn_field(c, "right"));
					n = m < 0 ? -1 : n * m;
				} else if (syn_is(c, "if_clause")) {
					n = -1;
				}
			}
		}
		if (n < 0)
			return -1;
		total *= n;
		if (total > 1000000000LL)
			return -1;
	}
	return total;
}
