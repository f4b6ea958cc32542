/* SPF102 function-built-in-loop: a def or lambda whose MAKE_FUNCTION runs inside a loop of its
 * function (a backward jump's range in the parent code object). Reported only; when the function
 * is closure-free, SPF101's lift on the same def is the fix. */
#include "nested.h"
#include "pass.h"

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
	f->message = n.code->nfreevars
			     ? arena_printf(&u->arena, "%s is built on every iteration of a loop (captures %s)", what,
					    n.code->freevars)
			     : arena_printf(&u->arena, "%s is built on every iteration of a loop (closure-free: see SPF101)",
					    what);
	f->facts = arena_printf(&u->arena, "code=%s MAKE_FUNCTION inside a backward jump's range of %s",
				n.code->qualname, n.code->parent->qualname);
	f->applicability = FIX_NONE;
	return 0;
}

const struct pass pass_spf102 = {
	.code = "SPF102",
	.name = "function-built-in-loop",
	.summary = "a def or lambda built inside a loop is rebuilt on every iteration",
	.query = syn_query_nested_function,
	.find = find,
	.check = NULL,
	.rewrite = NULL,
};
