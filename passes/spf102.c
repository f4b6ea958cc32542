/* SPF102 function-built-in-loop: a def or lambda whose MAKE_FUNCTION runs inside a loop of its
 * function (a backward jump's range in the parent code object). When the function is
 * closure-free its fix is SPF101's lift (same checks, same edits); the diagnostic says how many
 * times one call of the enclosing function builds it when the loop bounds are constants. */
#include <string.h>

#include "nested.h"
#include "pass.h"
#include "scope.h"

/* Times one call of the enclosing def runs the code at `node`: the product of the trip counts
 * of the loops around it up to that def, or -1 when a loop's count is unknown. */
static long long builds_per_call(const struct unit *u, TSNode node, TSNode outer)
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

static int find(struct unit *u, const struct pass *self, TSNode node)
{
	struct nested n;
	int r = nested_resolve(u, self, node, &n);
	if (r <= 0)
		return r;
	if (!n.code->site_in_loop)
		return 0;
	bool is_def = syn_is(node, "function_definition");
	struct finding *f = unit_add_finding(u, self, is_def ? syn_field(node, "name") : ts_node_child(node, 0));
	if (!f)
		return -1;
	f->node = node;
	f->code = n.code;
	const char *what = is_def ? arena_printf(&u->arena, "Function `%s`", nested_short_name(u, node)) : "Lambda";
	const char *times = "";
	if (!ts_node_is_null(n.outer_def)) {
		long long k = builds_per_call(u, node, n.outer_def);
		TSNode on = syn_field(n.outer_def, "name");
		if (k >= 0)
			times = arena_printf(&u->arena, ", %lld times per call of `%.*s`", k, (int)syn_len(on),
					     u->src + ts_node_start_byte(on));
	}
	f->message = arena_printf(&u->arena, "%s is built on every iteration of a loop%s", what, times);
	f->facts = arena_printf(&u->arena, "code=%s MAKE_FUNCTION inside a backward jump's range of %s",
				n.code->qualname, n.code->parent->qualname);
	if (n.code->nfreevars) {
		f->applicability = FIX_NONE;
		f->reason = arena_printf(&u->arena, "it captures %s; only a closure-free function can be lifted",
					 n.code->freevars);
		return 0;
	}
	f->data = lift_new(u, &n);
	return f->data ? 0 : -1;
}

static int check(struct unit *u, struct finding *f)
{
	return f->data ? lift_check(u, f) : 1;
}

const struct pass pass_spf102 = {
	.code = "SPF102",
	.name = "function-built-in-loop",
	.summary = "a def or lambda built inside a loop is rebuilt on every iteration",
	.query = syn_query_nested_function,
	.find = find,
	.check = check,
	.rewrite = lift_rewrite,
};
