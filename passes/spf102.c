/* SPF102 function-built-in-loop: a def or lambda whose MAKE_FUNCTION runs inside a loop of its
 * function (a backward jump's range in the parent code object). When the function is
 * closure-free its fix is SPF101's lift (same checks, same edits); the diagnostic says how many
 * times one call of the enclosing function builds it when the loop bounds are constants. */
#include <string.h>

#include "nested.h"
#include "pass.h"
#include "scope.h"

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
		long long k = scope_runs_per_call(u, node, n.outer_def);
		TSNode on = syn_field(n.outer_def, "name");
		if (k >= 0)
			times = arena_printf(&u->arena, ", %lld times per call of `%.*s`", k, (int)syn_len(on),
					     u->src + ts_node_start_byte(on));
	}
	f->message = arena_printf(&u->arena, "%s %sis built on every iteration of a loop%s", what,
				  n.code->nfreevars ? "" : "captures nothing but ", times);
	f->facts = arena_printf(&u->arena, "code=%s MAKE_FUNCTION inside a backward jump's range of %s",
				n.code->qualname, n.code->parent->qualname);
	if (n.code->nfreevars) {
		f->applicability = FIX_NONE;
		const char *names = "";
		for (const char *v = n.code->freevars; names && *v;) {
			size_t k = strcspn(v, ",");
			names = arena_printf(&u->arena, "%s%s`%.*s`", names, *names ? ", " : "", (int)k, v);
			v += k + (v[k] == ',');
		}
		f->reason = arena_printf(&u->arena, "it captures %s; only a closure-free function can be lifted",
					 names ? names : n.code->freevars);
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
	.doc =
		{
			.what = "A `def` or `lambda` whose MAKE_FUNCTION instruction lies inside a loop of its function\n"
				"(or in a comprehension): a new function object is built on every iteration. A closure-free\n"
				"one is this rule's finding alone (not also SPF101's): one finding per site, carrying both\n"
				"facts.",
			.why = "Building a function costs an allocation and the evaluation of its defaults each time;\n"
				"inside a loop that cost is paid once per iteration instead of once.",
			.fix = "When the function captures nothing: SPF101's lift, under SPF101's checks. A function that\n"
				"captures loop variables must stay where it is: reported only. The message says how many\n"
				"times one call builds it when the loop bounds are constants.",
			.before = "def sort_each(groups):\n"
				"    for g in groups:\n"
				"        g.sort(key=lambda item: item[1])\n",
			.after = "def _sort_each_key(item):\n"
				"    return item[1]\n"
				"\n"
				"\n"
				"def sort_each(groups):\n"
				"    for g in groups:\n"
				"        g.sort(key=_sort_each_key)\n",
		},
	.bench = BENCH_SITE, /* the same lift, for a def built in a loop */
};
