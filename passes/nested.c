#include "nested.h"

#include <string.h>

#include "pass.h"
#include "scope.h"

/* What the tree says MAKE_FUNCTION must build: 1 positional defaults, 2 keyword-only defaults,
 * 4 annotations. */
static int tree_make_flags(TSNode fn)
{
	TSNode params = syn_field(fn, "parameters");
	int flags = 0;
	bool kwonly = false;
	if (!ts_node_is_null(params)) {
		uint32_t n = ts_node_named_child_count(params);
		for (uint32_t i = 0; i < n; i++) {
			TSNode p = ts_node_named_child(params, i);
			const char *t = ts_node_type(p);
			if (!strcmp(t, "keyword_separator") || !strcmp(t, "list_splat_pattern") ||
			    (!strcmp(t, "typed_parameter") && syn_is(ts_node_named_child(p, 0), "list_splat_pattern")))
				kwonly = true;
			if (!strcmp(t, "default_parameter") || !strcmp(t, "typed_default_parameter"))
				flags |= kwonly ? 2 : 1;
			if (!strcmp(t, "typed_parameter") || !strcmp(t, "typed_default_parameter"))
				flags |= 4;
		}
	}
	if (!ts_node_is_null(syn_field(fn, "return_type")))
		flags |= 4;
	return flags;
}

const char *nested_short_name(struct unit *u, TSNode node)
{
	if (syn_is(node, "function_definition")) {
		TSNode nm = syn_field(node, "name");
		return arena_strndup(&u->arena, u->src + ts_node_start_byte(nm), syn_len(nm));
	}
	TSNode p = ts_node_parent(node);
	if (syn_is(p, "assignment") && ts_node_eq(syn_field(p, "right"), node)) {
		TSNode left = syn_field(p, "left");
		if (syn_is(left, "identifier"))
			return arena_strndup(&u->arena, u->src + ts_node_start_byte(left), syn_len(left));
	}
	return "lambda";
}

int nested_resolve(struct unit *u, const struct pass *pass, TSNode node, struct nested *out)
{
	memset(out, 0, sizeof *out);
	out->node = node;
	out->parent = scope_parent(u, node);
	if (!scope_is_function_like(u, out->parent))
		return 0;
	out->outer_def = scope_enclosing_def(u, node);
	out->qualname = scope_qualname(u, node);
	TSPoint at = ts_node_start_point(node);
	int first = scope_firstlineno(node);
	struct code_info *ci = bridge_find(u, out->qualname, first, (int)at.row + 1, (int)at.column);
	if (!ci) {
		unit_debug(u, pass, "%u:%u: dropped %s (line %d): not exactly one code object", at.row + 1,
			   at.column + 1, out->qualname, first);
		return 0;
	}
	const char *why = NULL;
	int tf = tree_make_flags(node);
	if (ci->kind != CK_FUNCTION && ci->kind != CK_LAMBDA)
		why = "code object is not a function";
	else if (!ci->parent || (ci->parent->kind != CK_FUNCTION && ci->parent->kind != CK_LAMBDA &&
				 ci->parent->kind != CK_COMPREHENSION))
		why = "parent code object is not function-like";
	else if (ci->site < 0)
		why = "no MAKE_FUNCTION site in the parent";
	else if ((ci->make_flags & 7) != tf)
		why = "MAKE_FUNCTION flags disagree with the tree's defaults/annotations";
	else if (((ci->make_flags & 8) != 0) != (ci->nfreevars != 0))
		why = "closure flag disagrees with co_freevars";
	else if (ci->site_line != (int)at.row + 1 || ci->site_col != (int)at.column)
		why = "MAKE_FUNCTION site position disagrees with the tree";
	if (why) {
		unit_debug(u, pass, "%u:%u: dropped %s: %s (flags=%d tree=%d site=%d:%d)", at.row + 1, at.column + 1,
			   out->qualname, why, ci->make_flags, tf, ci->site_line, ci->site_col);
		return 0;
	}
	ci->matched++;
	out->code = ci;
	return 1;
}
