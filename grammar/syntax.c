#include "syntax.h"

#include <string.h>

const TSLanguage *tree_sitter_python(void);

const TSLanguage *syn_language(void) { return tree_sitter_python(); }

TSTree *syn_parse(const char *src, size_t len) { return syn_reparse(src, len, NULL); }

TSTree *syn_reparse(const char *src, size_t len, const TSTree *old)
{
	TSParser *p = ts_parser_new();
	if (!p)
		return NULL;
	TSTree *t = NULL;
	if (ts_parser_set_language(p, tree_sitter_python()) && len <= UINT32_MAX)
		t = ts_parser_parse_string(p, old, src, (uint32_t)len);
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

/* Node names at the root of each pattern of a query source: `(name ...)` gives name, a
 * top-level alternation `[(a ...) (b ...)]` gives a and b. Returns the number of names, or -1
 * when a pattern's root is anything else (a wildcard, an anonymous node, a string). */
static const char *skip_space(const char *s)
{
	for (;;) {
		while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
			s++;
		if (*s != ';')
			return s;
		while (*s && *s != '\n')
			s++;
	}
}

/* s at an opening ( or [: past its matching closer (strings and comments skipped), or NULL */
static const char *skip_group(const char *s)
{
	int depth = 0;
	for (; *s; s++) {
		if (*s == ';') {
			while (*s && *s != '\n')
				s++;
			if (!*s)
				return NULL;
		} else if (*s == '"') {
			for (s++; *s && *s != '"'; s++)
				if (*s == '\\' && s[1])
					s++;
			if (!*s)
				return NULL;
		} else if (*s == '(' || *s == '[') {
			depth++;
		} else if (*s == ')' || *s == ']') {
			if (--depth == 0)
				return s + 1;
		}
	}
	return NULL;
}

static bool name_char(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'; }

/* s at "(name": the name's length, or 0 when it is not a plain node name */
static size_t root_name(const char *s, const char **name)
{
	s = skip_space(s + 1);
	size_t n = 0;
	while (name_char(s[n]))
		n++;
	*name = s;
	return n == 1 && *s == '_' ? 0 : n;
}

int syn_query_roots(const char *query, const char **names, size_t *lens, size_t cap)
{
	size_t n = 0;
	for (const char *s = skip_space(query); *s; s = skip_space(s)) {
		if (*s == '(') {
			if (n == cap || !(lens[n] = root_name(s, &names[n])))
				return -1;
			n++;
		} else if (*s == '[') {
			for (const char *e = skip_space(s + 1); *e != ']'; e = skip_space(e)) {
				if (*e != '(' || n == cap || !(lens[n] = root_name(e, &names[n])))
					return -1;
				n++;
				if (!(e = skip_group(e)))
					return -1;
			}
		} else {
			return -1;
		}
		if (!(s = skip_group(s)))
			return -1;
		/* captures and quantifiers after the pattern */
		for (s = skip_space(s); *s == '@' || *s == '*' || *s == '+' || *s == '?'; s = skip_space(s)) {
			s++;
			while (name_char(*s) || *s == '.' || *s == '-')
				s++;
		}
	}
	return (int)n;
}

bool syn_symbols_named(bool *marks, size_t nmarks, const char *name, size_t len)
{
	const TSLanguage *l = syn_language();
	uint32_t count = ts_language_symbol_count(l);
	bool any = false;
	for (uint32_t s = 0; s < count && s < nmarks; s++) {
		const char *sn = ts_language_symbol_name(l, (TSSymbol)s);
		if (sn && strlen(sn) == len && !memcmp(sn, name, len) &&
		    ts_language_symbol_type(l, (TSSymbol)s) == TSSymbolTypeRegular)
			marks[s] = any = true;
	}
	return any;
}
