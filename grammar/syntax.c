#include "syntax.h"

#include <string.h>

const TSLanguage *tree_sitter_python(void);

const TSLanguage *syn_language(void) { return tree_sitter_python(); }

TSTree *syn_parse(const char *src, size_t len)
{
	TSParser *p = ts_parser_new();
	if (!p)
		return NULL;
	TSTree *t = NULL;
	if (ts_parser_set_language(p, tree_sitter_python()) && len <= UINT32_MAX)
		t = ts_parser_parse_string(p, NULL, src, (uint32_t)len);
	ts_parser_delete(p);
	return t;
}

struct err_ctx {
	TSNode found;
	bool have;
};

static int find_err(TSNode n, void *vctx)
{
	struct err_ctx *c = vctx;
	if (ts_node_is_error(n) || ts_node_is_missing(n)) {
		c->found = n;
		c->have = true;
		return -1;
	}
	return ts_node_has_error(n) ? 1 : 0;
}

TSNode syn_first_error(TSNode root)
{
	struct err_ctx c = {.have = false};
	syn_walk(root, find_err, &c);
	if (c.have)
		return c.found;
	TSNode null = {{0}, 0, 0};
	return null;
}

bool syn_is(TSNode n, const char *type)
{
	return !ts_node_is_null(n) && strcmp(ts_node_type(n), type) == 0;
}

TSNode syn_field(TSNode n, const char *field)
{
	return ts_node_child_by_field_name(n, field, (uint32_t)strlen(field));
}

size_t syn_len(TSNode n) { return ts_node_end_byte(n) - ts_node_start_byte(n); }

bool syn_text_eq(TSNode n, const char *src, const char *s)
{
	size_t l = strlen(s);
	return !ts_node_is_null(n) && syn_len(n) == l && memcmp(src + ts_node_start_byte(n), s, l) == 0;
}

int syn_walk(TSNode root, syn_visit_fn fn, void *ctx)
{
	TSTreeCursor c = ts_tree_cursor_new(root);
	int rc = 0;
	for (;;) {
		int r = fn(ts_tree_cursor_current_node(&c), ctx);
		if (r < 0) {
			rc = -1;
			break;
		}
		if (r > 0 && ts_tree_cursor_goto_first_child(&c))
			continue;
		/* climb until a sibling exists, never above root */
		for (;;) {
			if (ts_node_eq(ts_tree_cursor_current_node(&c), root))
				goto done;
			if (ts_tree_cursor_goto_next_sibling(&c))
				break;
			if (!ts_tree_cursor_goto_parent(&c))
				goto done;
		}
	}
done:
	ts_tree_cursor_delete(&c);
	return rc;
}

bool syn_is_comprehension(TSNode n)
{
	const char *t = ts_node_type(n);
	return !strcmp(t, "list_comprehension") || !strcmp(t, "set_comprehension") ||
	       !strcmp(t, "dictionary_comprehension") || !strcmp(t, "generator_expression");
}

bool syn_is_function(TSNode n)
{
	const char *t = ts_node_type(n);
	return !strcmp(t, "function_definition") || !strcmp(t, "lambda");
}

bool syn_is_scope(TSNode n)
{
	return syn_is_function(n) || syn_is(n, "class_definition") || syn_is_comprehension(n);
}
