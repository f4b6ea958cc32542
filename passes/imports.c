#include "imports.h"

#include <string.h>
#include <strings.h>

#include "bridge.h"
#include "module.h"

bool imports_is_stdlib(const char *name)
{
	/* sys.stdlib_module_names of the target version, through the Python boundary */
	return bridge_is_stdlib_module(name);
}

enum section { SEC_NONE, SEC_FUTURE, SEC_STDLIB, SEC_OTHER };

/* The module an import statement imports ("os.path" for `import os.path`, "" for a relative
 * import), and whether it is a straight `import`. */
static const char *imported(struct unit *u, TSNode s, bool *straight)
{
	*straight = syn_is(s, "import_statement");
	TSNode m = *straight ? ts_node_named_child(s, 0) : syn_field(s, "module_name");
	if (syn_is(m, "aliased_import"))
		m = syn_field(m, "name");
	if (!syn_is(m, "dotted_name"))
		return "";
	return module_excerpt(u, m, 200);
}

static enum section section_of(struct unit *u, TSNode s, const char **mod, bool *straight)
{
	if (syn_is(s, "future_import_statement"))
		return SEC_FUTURE;
	if (!syn_is(s, "import_statement") && !syn_is(s, "import_from_statement"))
		return SEC_NONE;
	*mod = imported(u, s, straight);
	if (!*mod || !**mod)
		return SEC_OTHER;
	char top[128];
	size_t n = strcspn(*mod, ".");
	if (n >= sizeof top)
		return SEC_OTHER;
	memcpy(top, *mod, n);
	top[n] = 0;
	return imports_is_stdlib(top) ? SEC_STDLIB : SEC_OTHER;
}

/* The first line of the whole-line comments right above top-level statement s. */
static size_t with_comments(struct unit *u, TSNode s)
{
	size_t at = unit_line_start(u, ts_node_start_byte(s));
	for (TSNode p = ts_node_prev_named_sibling(s); syn_is(p, "comment"); p = ts_node_prev_named_sibling(p)) {
		size_t ps = unit_line_start(u, ts_node_start_byte(p)), c = ps;
		while (c < ts_node_start_byte(p) && (u->src[c] == ' ' || u->src[c] == '\t'))
			c++;
		/* a comment of its own line, right above */
		if (c != ts_node_start_byte(p) || unit_line_end(u, ts_node_end_byte(p)) != at)
			break;
		at = ps;
	}
	return at;
}

size_t imports_insert(struct unit *u, const char *module, struct edit *out)
{
	const char *line = arena_printf(&u->arena, "import %s%s", module, u->nl);
	if (!line)
		return 0;
	/* the leading run of imports (comments between them belong to it) */
	TSNode before = {{0}, 0, 0}, last_straight = {{0}, 0, 0}, first_from = {{0}, 0, 0};
	TSNode first_other = {{0}, 0, 0};
	uint32_t k = ts_node_named_child_count(u->root);
	bool docstring = true;
	for (uint32_t i = 0; i < k; i++) {
		TSNode s = ts_node_named_child(u->root, i);
		if (syn_is(s, "comment"))
			continue;
		bool is_doc = syn_is(s, "expression_statement") && ts_node_named_child_count(s) == 1 &&
			      syn_is(ts_node_named_child(s, 0), "string");
		if (docstring && is_doc) {
			docstring = false;
			continue;
		}
		docstring = false;
		const char *mod = NULL;
		bool straight = false;
		enum section sec = section_of(u, s, &mod, &straight);
		if (sec == SEC_NONE)
			break;
		if (sec == SEC_OTHER && ts_node_is_null(first_other))
			first_other = s;
		if (sec != SEC_STDLIB)
			continue;
		if (straight && ts_node_is_null(first_from)) {
			if (ts_node_is_null(before) && strcasecmp(mod, module) > 0)
				before = s;
			last_straight = s;
		} else if (!straight && ts_node_is_null(first_from)) {
			first_from = s;
		}
	}
	size_t n = 0;
	if (!ts_node_is_null(before)) {
		size_t at = with_comments(u, before);
		out[n++] = (struct edit){at, at, line, strlen(line), 0, false};
	} else if (!ts_node_is_null(first_from)) {
		size_t at = with_comments(u, first_from);
		out[n++] = (struct edit){at, at, line, strlen(line), 0, false};
	} else if (!ts_node_is_null(last_straight)) {
		size_t at = unit_line_end(u, ts_node_end_byte(last_straight) - 1);
		out[n++] = (struct edit){at, at, line, strlen(line), 0, false};
	} else if (!ts_node_is_null(first_other)) {
		/* a new section before the third-party and local imports, a blank line after it */
		size_t at = with_comments(u, first_other);
		const char *t = arena_printf(&u->arena, "%s%s", line, u->nl);
		if (t)
			out[n++] = (struct edit){at, at, t, strlen(t), 0, false};
	} else {
		/* no import: after the docstring and the future imports, as module_insertion places a
		 * line (a blank line before it, two before a def that follows) */
		size_t at = module_head_end(u, false);
		n = module_insertion(u, at, line, out);
		/* isort puts one blank line after the imports when code follows */
		TSNode next = {{0}, 0, 0};
		for (uint32_t i = 0; i < k; i++) {
			TSNode s = ts_node_named_child(u->root, i);
			if (ts_node_start_byte(s) >= at) {
				next = s;
				break;
			}
		}
		if (!ts_node_is_null(next) && unit_line_start(u, ts_node_start_byte(next)) == at &&
		    !syn_is(next, "function_definition") && !syn_is(next, "class_definition") &&
		    !syn_is(next, "decorated_definition") && !syn_is(next, "comment"))
			out[n++] = (struct edit){at, at, u->nl, strlen(u->nl), 0, true};
	}
	return n;
}
