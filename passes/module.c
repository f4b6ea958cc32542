#include "module.h"

#include <string.h>

#include "bridge.h"

static bool is_import(TSNode n)
{
	return syn_is(n, "import_statement") || syn_is(n, "import_from_statement") ||
	       syn_is(n, "future_import_statement");
}

/* "a.b.c" from a dotted_name (identifiers joined by dots, whatever the spacing). */
static const char *dotted(struct unit *u, TSNode d)
{
	if (!syn_is(d, "dotted_name"))
		return NULL;
	const char *s = "";
	uint32_t n = ts_node_named_child_count(d);
	for (uint32_t i = 0; i < n; i++) {
		TSNode id = ts_node_named_child(d, i);
		s = arena_printf(&u->arena, "%s%s%.*s", s, i ? "." : "", (int)syn_len(id), u->src + ts_node_start_byte(id));
		if (!s)
			return NULL;
	}
	return s;
}

/* Does the import statement bind `name`? Fills module/qualified when it does. */
static bool import_binds(struct unit *u, TSNode stmt, const char *name, struct global_ref *out)
{
	bool from = syn_is(stmt, "import_from_statement");
	const char *base = NULL;
	if (from) {
		TSNode m = syn_field(stmt, "module_name");
		base = dotted(u, m); /* NULL for a relative import */
	}
	uint32_t n = ts_node_named_child_count(stmt);
	for (uint32_t i = 0; i < n; i++) {
		TSNode c = ts_node_named_child(stmt, i);
		if (from && ts_node_eq(c, syn_field(stmt, "module_name")))
			continue;
		const char *target, *bound;
		if (syn_is(c, "aliased_import")) {
			target = dotted(u, syn_field(c, "name"));
			TSNode al = syn_field(c, "alias");
			bound = arena_strndup(&u->arena, u->src + ts_node_start_byte(al), syn_len(al));
		} else if (syn_is(c, "dotted_name")) {
			target = dotted(u, c);
			TSNode first = ts_node_named_child(c, 0);
			bound = arena_strndup(&u->arena, u->src + ts_node_start_byte(first), syn_len(first));
			if (!from && target && bound) /* `import a.b` binds `a` to module a */
				target = bound;
		} else {
			continue;
		}
		if (!target || !bound || strcmp(bound, name) != 0)
			continue;
		if (from) {
			if (!base)
				return false; /* relative import: not a known module */
			out->module = base;
			out->qualified = arena_printf(&u->arena, "%s.%s", base, target);
		} else {
			out->module = target;
			out->qualified = target;
		}
		return out->qualified != NULL;
	}
	return false;
}

static bool assigns(struct unit *u, TSNode stmt, const char *name, TSNode *value)
{
	if (!syn_is(stmt, "expression_statement") || ts_node_named_child_count(stmt) != 1)
		return false;
	TSNode a = ts_node_named_child(stmt, 0);
	if (!syn_is(a, "assignment"))
		return false;
	TSNode left = syn_field(a, "left"), right = syn_field(a, "right");
	if (!syn_is(left, "identifier") || !syn_text_eq(left, u->src, name) || ts_node_is_null(right))
		return false;
	*value = right;
	return true;
}

int module_resolve(struct unit *u, const char *name, struct global_ref *out)
{
	memset(out, 0, sizeof *out);
	int line;
	int n = bridge_global_bindings(u, name, &line);
	out->bindings = n;
	if (n < 0) {
		out->kind = GK_STAR;
		return 0;
	}
	if (n == 0) {
		out->kind = bridge_is_builtin(name) ? GK_BUILTIN : GK_UNBOUND;
		return 0;
	}
	if (n > 1) {
		out->kind = GK_REBOUND;
		return 0;
	}
	out->kind = GK_CONDITIONAL;
	if (!line) /* only a `global` store inside a function */
		return 0;
	uint32_t row = (uint32_t)line - 1, k = ts_node_named_child_count(u->root);
	for (uint32_t i = 0; i < k; i++) {
		TSNode s = ts_node_named_child(u->root, i);
		if (ts_node_start_point(s).row > row || ts_node_end_point(s).row < row)
			continue;
		if (is_import(s)) {
			if (import_binds(u, s, name, out)) {
				out->kind = GK_IMPORT;
				out->stmt = s;
				return 0;
			}
			continue;
		}
		TSNode v;
		if (assigns(u, s, name, &v)) {
			out->kind = module_is_constant_expr(u, v) ? GK_CONSTANT : GK_OTHER;
			out->stmt = s;
			out->value = v;
			return 0;
		}
		const char *t = ts_node_type(s);
		if (!strcmp(t, "function_definition") || !strcmp(t, "class_definition") ||
		    !strcmp(t, "decorated_definition") || !strcmp(t, "expression_statement")) {
			out->kind = GK_OTHER;
			out->stmt = s;
			return 0;
		}
		/* if/try/for/while/with at module level: bound conditionally */
	}
	return 0;
}

static bool string_is_constant(TSNode s)
{
	uint32_t n = ts_node_named_child_count(s);
	for (uint32_t i = 0; i < n; i++)
		if (syn_is(ts_node_named_child(s, i), "interpolation"))
			return false;
	return true;
}

bool module_is_constant_expr(const struct unit *u, TSNode n)
{
	const char *t = ts_node_type(n);
	if (!strcmp(t, "integer") || !strcmp(t, "float") || !strcmp(t, "true") || !strcmp(t, "false") ||
	    !strcmp(t, "none") || !strcmp(t, "ellipsis"))
		return true;
	if (!strcmp(t, "string"))
		return string_is_constant(n);
	if (!strcmp(t, "concatenated_string")) {
		uint32_t k = ts_node_named_child_count(n);
		for (uint32_t i = 0; i < k; i++) {
			TSNode c = ts_node_named_child(n, i);
			if (syn_is(c, "string") && !string_is_constant(c))
				return false;
		}
		return true;
	}
	if (!strcmp(t, "tuple") || !strcmp(t, "parenthesized_expression")) {
		uint32_t k = ts_node_named_child_count(n);
		if (!strcmp(t, "parenthesized_expression") && k == 0)
			return false;
		for (uint32_t i = 0; i < k; i++) {
			TSNode c = ts_node_named_child(n, i);
			if (!syn_is(c, "comment") && !module_is_constant_expr(u, c))
				return false;
		}
		return true;
	}
	if (!strcmp(t, "unary_operator"))
		return module_is_constant_expr(u, syn_field(n, "argument"));
	if (!strcmp(t, "binary_operator"))
		return module_is_constant_expr(u, syn_field(n, "left")) &&
		       module_is_constant_expr(u, syn_field(n, "right"));
	return false;
}

size_t module_after_import_block(const struct unit *u, TSNode import_stmt)
{
	TSNode last = import_stmt;
	for (TSNode s = ts_node_next_named_sibling(import_stmt); !ts_node_is_null(s); s = ts_node_next_named_sibling(s)) {
		if (is_import(s))
			last = s;
		else if (!syn_is(s, "comment"))
			break;
	}
	return unit_line_end(u, ts_node_end_byte(last));
}

static bool is_docstring(TSNode s)
{
	return syn_is(s, "expression_statement") && ts_node_named_child_count(s) == 1 &&
	       (syn_is(ts_node_named_child(s, 0), "string") || syn_is(ts_node_named_child(s, 0), "concatenated_string"));
}

size_t module_head_end(const struct unit *u, bool with_imports)
{
	TSNode last = {{0}, 0, 0}, stop = {{0}, 0, 0};
	bool first = true, plain = false;
	uint32_t k = ts_node_named_child_count(u->root);
	for (uint32_t i = 0; i < k; i++) {
		TSNode s = ts_node_named_child(u->root, i);
		if (syn_is(s, "comment"))
			continue;
		if (first && is_docstring(s)) {
			first = false;
			last = s;
			continue;
		}
		first = false;
		if (syn_is(s, "future_import_statement") && !plain) {
			last = s;
			continue;
		}
		if (with_imports && (syn_is(s, "import_statement") || syn_is(s, "import_from_statement"))) {
			plain = true;
			last = s;
			continue;
		}
		stop = s;
		break;
	}
	if (!ts_node_is_null(last))
		return unit_line_end(u, ts_node_end_byte(last));
	/* nothing to go after: before the first statement, below the comments at the top (a
	 * shebang and a coding cookie must stay on the first lines) */
	return ts_node_is_null(stop) ? u->len : unit_line_start(u, ts_node_start_byte(stop));
}

const char *module_line_text(struct unit *u, size_t at, const char *line)
{
	bool bare_end = at == u->len && u->len > 0 && u->src[u->len - 1] != '\n';
	return arena_printf(&u->arena, "%s%s%s", bare_end ? u->nl : "", line, u->nl);
}

bool module_separator(struct unit *u, size_t at, struct edit *out)
{
	uint32_t k = ts_node_named_child_count(u->root);
	for (uint32_t i = 0; i < k; i++) {
		TSNode s = ts_node_named_child(u->root, i);
		if (unit_line_start(u, ts_node_start_byte(s)) != at)
			continue;
		if (!syn_is(s, "function_definition") && !syn_is(s, "class_definition") &&
		    !syn_is(s, "decorated_definition"))
			return false;
		const char *t = arena_printf(&u->arena, "%s%s", u->nl, u->nl);
		if (!t)
			return false;
		*out = (struct edit){at, at, t, strlen(t), 0, true};
		return true;
	}
	return false;
}

bool module_name_chain(struct unit *u, TSNode n, TSNode *root, const char **rest)
{
	if (syn_is(n, "identifier")) {
		*root = n;
		*rest = "";
		return true;
	}
	if (!syn_is(n, "attribute"))
		return false;
	const char *p;
	if (!module_name_chain(u, syn_field(n, "object"), root, &p))
		return false;
	TSNode a = syn_field(n, "attribute");
	*rest = arena_printf(&u->arena, "%s%s%.*s", p, *p ? "." : "", (int)syn_len(a), u->src + ts_node_start_byte(a));
	return *rest != NULL;
}
