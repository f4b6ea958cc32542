#include "module.h"

#include <string.h>

#include "bridge.h"
#include "engine.h"

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

/* Does the import statement bind `name`? Fills module/qualified when it does; a relative import
 * binds it with *relative set and no module. */
static bool import_binds(struct unit *u, TSNode stmt, const char *name, struct global_ref *out, bool *relative)
{
	*relative = false;
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
			if (!base) { /* relative import: a module of the package, not a known one */
				*relative = true;
				return true;
			}
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
	uint32_t row = (uint32_t)line - 1, k;
	const TSNode *top = unit_statements(u, &k);
	for (uint32_t i = unit_statement_reaching_row(u, row); i < k; i++) {
		TSNode s = top[i];
		if (ts_node_start_point(s).row > row)
			break;
		if (is_import(s)) {
			bool relative;
			if (import_binds(u, s, name, out, &relative)) {
				out->kind = relative ? GK_RELATIVE : GK_IMPORT;
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
	uint32_t k;
	const TSNode *top = unit_statements((struct unit *)u, &k);
	for (uint32_t i = 0; i < k; i++) {
		TSNode s = top[i];
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
	uint32_t k;
	const TSNode *top = unit_statements(u, &k);
	/* line starts grow with the statements' starts: the first statement from `at` on is the
	 * only one that can start on that line */
	for (uint32_t i = unit_statement_from(u, at); i < k; i++) {
		TSNode s = top[i];
		if (unit_line_start(u, ts_node_start_byte(s)) != at)
			return false;
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

const char *module_constant_type(struct unit *u, const struct global_ref *ref)
{
	if (ref->kind != GK_OTHER || ts_node_is_null(ref->value) || !syn_is(ref->value, "call"))
		return NULL;
	TSNode args = syn_field(ref->value, "arguments"), root;
	const char *rest;
	/* whatever the arguments: re.compile returns a re.Pattern or raises (and then the module
	 * does not import) */
	if (!syn_is(args, "argument_list") || !module_name_chain(u, syn_field(ref->value, "function"), &root, &rest))
		return NULL;
	const char *name = arena_strndup(&u->arena, u->src + ts_node_start_byte(root), syn_len(root));
	struct global_ref r;
	if (!name || module_resolve(u, name, &r) < 0 || r.kind != GK_IMPORT)
		return NULL;
	const char *q = *rest ? arena_printf(&u->arena, "%s.%s", r.qualified, rest) : r.qualified;
	if (q && !strcmp(q, "re.compile"))
		return "re.Pattern";
	if (q && !strcmp(q, "struct.Struct"))
		return "struct.Struct";
	return NULL;
}

bool module_patches(struct unit *u)
{
	return unit_has_identifier(u, "monkeypatch") ||
	       (unit_has_identifier(u, "patch") && unit_has_identifier(u, "mock"));
}

/* module.c's tables of one unit, each made on first use by one walk of the module, so that a
 * question asked for each finding costs a search, not a walk (which is quadratic in the file):
 * the statements that rebind names in bulk, and the last names of the dotted names that the
 * module's strings spell ("os.path.join" gives "join"). */
struct module_memo {
	struct module_bulk *bulk;
	const char **spelled; /* sorted */
	size_t nspelled;
	bool have_spelled;
	TSNode *imports;      /* the import statements outside functions and classes, in order */
	size_t nimports, cap;
	bool have_imports, imports_oom;
};

static struct module_memo *memo(struct unit *u)
{
	if (!u->module_memo)
		u->module_memo = arena_alloc(&u->arena, sizeof *u->module_memo);
	return u->module_memo;
}

struct spelled_scan {
	struct unit *u;
	const char **v;
	size_t n, cap;
	bool oom;
};

static int scan_spelled(TSNode n, void *vctx)
{
	struct spelled_scan *s = vctx;
	if (!syn_is(n, "string_content"))
		return 1;
	const char *t = s->u->src + ts_node_start_byte(n);
	size_t len = syn_len(n), last = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)t[i];
		if (c == '.')
			last = i + 1;
		else if (!(c == '_' || (c >= '0' && c <= '9') || ((c | 32) >= 'a' && (c | 32) <= 'z')))
			return 0; /* not a dotted name */
	}
	if (last == len)
		return 0;
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		const char **nv = arena_grow(&s->u->arena, s->v, sizeof *nv, s->n, cap);
		if (!nv) {
			s->oom = true;
			return -1;
		}
		s->v = nv;
		s->cap = cap;
	}
	if (!(s->v[s->n++] = arena_strndup(&s->u->arena, t + last, len - last)))
		s->oom = true;
	return s->oom ? -1 : 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

bool module_names_in_string(struct unit *u, const char *name)
{
	/* most files never spell the name at all: only then are the strings read */
	if (!strstr(u->src, name))
		return false;
	struct module_memo *m = memo(u);
	if (!m)
		return true; /* unknown: the cautious answer */
	if (!m->have_spelled) {
		struct spelled_scan s = {u, NULL, 0, 0, false};
		syn_walk(u->root, scan_spelled, &s);
		if (s.oom)
			return true;
		if (s.n > 1)
			qsort(s.v, s.n, sizeof *s.v, cmp_str);
		m->spelled = s.v;
		m->nspelled = s.n;
		m->have_spelled = true;
	}
	return m->nspelled && bsearch(&name, m->spelled, m->nspelled, sizeof *m->spelled, cmp_str) != NULL;
}

/* The first name a `del` statement deletes that a module-level def or class binds (a helper). */
struct helper_scan {
	struct unit *u;
	const char *name;
};

static int scan_helper(TSNode n, void *vctx)
{
	struct helper_scan *h = vctx;
	if (syn_is(n, "attribute") || syn_is(n, "subscript"))
		return 0;
	if (!syn_is(n, "identifier"))
		return 1;
	const char *name = arena_strndup(&h->u->arena, h->u->src + ts_node_start_byte(n), syn_len(n));
	struct global_ref r;
	if (name && module_resolve(h->u, name, &r) == 0 && r.kind == GK_REBOUND) {
		/* a `del` is a binding: the def/class and the del make two */
		uint32_t k;
		const TSNode *top = unit_statements(h->u, &k);
		for (uint32_t i = 0; i < k && !h->name; i++) {
			TSNode s = top[i];
			TSNode d = syn_is(s, "decorated_definition") ? syn_field(s, "definition") : s;
			if ((syn_is(d, "function_definition") || syn_is(d, "class_definition")) &&
			    syn_text_eq(syn_field(d, "name"), h->u->src, name))
				h->name = name;
		}
	}
	return h->name ? -1 : 0;
}

/* The module-level statements that rebind names in bulk (a `del` of helpers, `from ... import
 * *`), in source order, found in one walk of the module on first use: each query is a search,
 * not a walk of the module (one per fix would be quadratic in the file). */
struct bulk_stmt {
	size_t start;
	const char *what;
};

struct module_bulk {
	struct bulk_stmt *v;
	size_t n, cap;
	bool oom;
};

struct bulk_scan {
	struct unit *u;
	struct module_bulk *b;
};

static void bulk_add(struct bulk_scan *s, TSNode n, const char *what)
{
	struct module_bulk *b = s->b;
	if (!what || b->oom)
		return;
	if (b->n == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 8;
		struct bulk_stmt *nv = arena_grow(&s->u->arena, b->v, sizeof *nv, b->n, cap);
		if (!nv) {
			b->oom = true;
			return;
		}
		b->v = nv;
		b->cap = cap;
	}
	b->v[b->n++] = (struct bulk_stmt){ts_node_start_byte(n), what};
}

static int scan_bulk(TSNode n, void *vctx)
{
	struct bulk_scan *b = vctx;
	if (syn_is(n, "function_definition") || syn_is(n, "class_definition") || syn_is(n, "decorated_definition"))
		return 0; /* their bodies are not module level */
	TSPoint at = ts_node_start_point(n);
	if (syn_is(n, "delete_statement")) {
		struct helper_scan h = {b->u, NULL};
		syn_walk(n, scan_helper, &h);
		if (h.name)
			bulk_add(b, n, arena_printf(&b->u->arena, "the module deletes its helpers at line %u (`del %s`, ...)",
						    at.row + 1, h.name));
		return 0;
	}
	if (syn_is(n, "import_from_statement")) {
		uint32_t k = ts_node_named_child_count(n);
		for (uint32_t i = 0; i < k; i++)
			if (syn_is(ts_node_named_child(n, i), "wildcard_import")) {
				bulk_add(b, n, arena_printf(&b->u->arena, "the module does `from ... import *` at line %u",
							    at.row + 1));
				break;
			}
		return 0;
	}
	return syn_is(n, "expression_statement") ? 0 : 1;
}

const char *module_bulk_rebind_after(struct unit *u, size_t after)
{
	struct module_memo *m = memo(u);
	if (!m)
		return "out of memory";
	if (!m->bulk) {
		struct module_bulk *b = arena_alloc(&u->arena, sizeof *b);
		if (!b)
			return "out of memory";
		struct bulk_scan s = {u, b};
		syn_walk(u->root, scan_bulk, &s);
		if (b->oom)
			return "out of memory";
		m->bulk = b;
	}
	/* the first one starting at or after `after` */
	size_t lo = 0, hi = m->bulk->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (m->bulk->v[mid].start < after)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < m->bulk->n ? m->bulk->v[lo].what : NULL;
}

/* The import statements a guess may come from (outside functions, classes and expression
 * statements), collected once per unit. */
static int collect_imports(TSNode n, void *vctx)
{
	struct module_memo *m = ((void **)vctx)[0];
	struct unit *u = ((void **)vctx)[1];
	if (syn_is(n, "function_definition") || syn_is(n, "class_definition") || syn_is(n, "expression_statement"))
		return 0;
	if (syn_is(n, "import_statement") || syn_is(n, "import_from_statement")) {
		if (m->nimports == m->cap) {
			size_t ncap = m->cap ? 2 * m->cap : 16;
			TSNode *nv = arena_grow(&u->arena, m->imports, sizeof *nv, m->nimports, ncap);
			if (!nv) {
				m->imports_oom = true;
				return -1;
			}
			m->imports = nv;
			m->cap = ncap;
		}
		m->imports[m->nimports++] = n;
		return 0;
	}
	return 1;
}

const char *module_import_guess(struct unit *u, const char *name)
{
	struct module_memo *m = memo(u);
	if (!m)
		return NULL;
	if (!m->have_imports) {
		void *ctx[2] = {m, u};
		syn_walk(u->root, collect_imports, ctx);
		m->have_imports = true;
	}
	if (m->imports_oom)
		return NULL;
	for (size_t i = 0; i < m->nimports; i++) {
		struct global_ref r;
		bool relative;
		memset(&r, 0, sizeof r);
		if (import_binds(u, m->imports[i], name, &r, &relative) && !relative)
			return r.qualified;
	}
	return NULL;
}

const char *module_excerpt_text(struct unit *u, const char *s, size_t n, size_t max)
{
	char *out = arena_alloc(&u->arena, (max < n ? max : n) + 8);
	if (!out)
		return NULL;
	size_t len = 0, cut = 0;
	bool truncated = false;
	size_t i;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\n' || c == '\r') {
			/* a line break and the indentation after it: one space, none at a bracket's edge
			 * (`f(\n    x\n)` reads `f(x)`); other spaces are the source's own */
			while (len && (out[len - 1] == ' ' || out[len - 1] == '\t'))
				len--;
			while (i + 1 < n && (s[i + 1] == ' ' || s[i + 1] == '\t' || s[i + 1] == '\n' || s[i + 1] == '\r'))
				i++;
			char next = i + 1 < n ? s[i + 1] : 0;
			bool edge = !len || out[len - 1] == '(' || out[len - 1] == '[' || out[len - 1] == '{' || next == ')' ||
				    next == ']' || next == '}';
			if (!edge && len + 1 < max) {
				cut = len;
				out[len++] = ' ';
			}
			continue;
		}
		if (len + 1 > max) {
			truncated = true;
			break;
		}
		bool word = c == '_' || c >= 0x80 || (c >= '0' && c <= '9') || ((c | 32) >= 'a' && (c | 32) <= 'z');
		if (!word && len && cut != len)
			cut = len; /* before punctuation: a boundary */
		out[len++] = (char)c;
		if (!word)
			cut = len; /* after punctuation too */
	}
	if (truncated) {
		if (cut) {
			len = cut;
		} else { /* one long name, copied as is: cut it, but not inside a UTF-8 sequence */
			const char *next = s + i; /* the byte after out[len - 1] */
			while (len && ((unsigned char)*next & 0xC0) == 0x80) {
				len--;
				next--;
			}
		}
		while (len && out[len - 1] == ' ')
			len--;
		memcpy(out + len, "\xe2\x80\xa6", 3); /* … */
		len += 3;
	}
	out[len] = 0;
	return out;
}

const char *module_excerpt(struct unit *u, TSNode n, size_t max)
{
	return module_excerpt_text(u, u->src + ts_node_start_byte(n), syn_len(n), max);
}

int module_line_length(const struct unit *u)
{
	return u->config && u->config->line_length > 0 ? u->config->line_length : 88;
}

size_t module_width(const char *s, size_t n)
{
	size_t w = 0;
	for (size_t i = 0; i < n; i++)
		w += ((unsigned char)s[i] & 0xC0) != 0x80;
	return w;
}

/* The arguments of an argument list, each its own source text; NULL when one spans lines or
 * the list holds a comment (it is then written as it is). Sets *magic when the list ends in a
 * trailing comma. */
static const char **argument_texts(struct unit *u, TSNode args, size_t *n, bool *magic)
{
	uint32_t k = ts_node_named_child_count(args);
	const char **v = arena_alloc(&u->arena, (k + 1) * sizeof *v);
	*n = 0;
	*magic = false;
	if (!v)
		return NULL;
	for (uint32_t i = 0; i < k; i++) {
		TSNode a = ts_node_named_child(args, i);
		if (syn_is(a, "comment") || ts_node_start_point(a).row != ts_node_end_point(a).row)
			return NULL;
		v[(*n)++] = arena_strndup(&u->arena, u->src + ts_node_start_byte(a), syn_len(a));
	}
	/* a `,` right before the closing bracket */
	uint32_t c = ts_node_child_count(args);
	if (c >= 2 && syn_is(ts_node_child(args, c - 2), ","))
		*magic = *n > 0;
	return v;
}

const char *module_assignment_text(struct unit *u, const char *name, const char *callee, TSNode args)
{
	size_t n;
	bool magic;
	const char **v = argument_texts(u, args, &n, &magic);
	const char *nl = u->nl;
	size_t max = (size_t)module_line_length(u);
	if (!v) /* as written */
		return arena_printf(&u->arena, "%s = %s%.*s%s", name, callee, (int)syn_len(args),
				    u->src + ts_node_start_byte(args), nl);
	const char *body = "";
	for (size_t i = 0; i < n && body; i++)
		body = arena_printf(&u->arena, "%s%s%s", body, i ? ", " : "", v[i]);
	if (!body)
		return NULL;
	const char *one = arena_printf(&u->arena, "%s = %s(%s)", name, callee, body);
	if (!one)
		return NULL;
	if (!magic && module_width(one, strlen(one)) <= max)
		return arena_printf(&u->arena, "%s%s", one, nl);
	if (!magic && 4 + module_width(body, strlen(body)) <= max)
		return arena_printf(&u->arena, "%s = %s(%s    %s%s)%s", name, callee, nl, body, nl, nl);
	const char *t = arena_printf(&u->arena, "%s = %s(%s", name, callee, nl);
	for (size_t i = 0; i < n && t; i++)
		t = arena_printf(&u->arena, "%s    %s,%s", t, v[i], nl);
	return t ? arena_printf(&u->arena, "%s)%s", t, nl) : NULL;
}

/* Is the statement `_NAME = ...` with an upper-case name (a module constant, such as a hoisted
 * one)? */
static bool is_constant_line(const struct unit *u, TSNode s)
{
	if (!syn_is(s, "expression_statement") || ts_node_named_child_count(s) != 1)
		return false;
	TSNode a = ts_node_named_child(s, 0);
	TSNode left = syn_field(a, "left");
	if (!syn_is(a, "assignment") || !syn_is(left, "identifier"))
		return false;
	const char *t = u->src + ts_node_start_byte(left);
	size_t len = syn_len(left);
	if (len < 2 || t[0] != '_')
		return false;
	for (size_t i = 1; i < len; i++)
		if (!(t[i] == '_' || (t[i] >= 'A' && t[i] <= 'Z') || (t[i] >= '0' && t[i] <= '9')))
			return false;
	return true;
}

/* The top-level statement that ends on the line before `at`, or a null node. */
static TSNode statement_before(const struct unit *u, size_t at)
{
	TSNode last = {{0}, 0, 0};
	uint32_t k = ts_node_named_child_count(u->root);
	for (uint32_t i = 0; i < k; i++) {
		TSNode s = ts_node_named_child(u->root, i);
		if (ts_node_end_byte(s) > at)
			break;
		last = s;
	}
	return last;
}

size_t module_insertion(struct unit *u, size_t at, const char *text, struct edit *out)
{
	size_t n = 0;
	bool bare_end = at == u->len && u->len > 0 && u->src[u->len - 1] != '\n';
	TSNode prev = statement_before(u, at);
	/* the line right before `at` holds the end of `prev` (no blank line between) */
	bool adjacent = !ts_node_is_null(prev) && !bare_end && unit_line_end(u, ts_node_end_byte(prev) - 1) == at;
	if (adjacent && (is_import(prev) || is_docstring(prev))) {
		/* constants already there after the blank line: join them */
		TSNode next = ts_node_next_named_sibling(prev);
		if (!ts_node_is_null(next) && is_constant_line(u, next))
			at = unit_line_start(u, ts_node_start_byte(next));
		else
			out[n++] = (struct edit){at, at, u->nl, strlen(u->nl), 0, false};
	}
	const char *t = bare_end ? arena_printf(&u->arena, "%s%s", u->nl, text) : text;
	if (!t)
		return n;
	out[n++] = (struct edit){at, at, t, strlen(t), 0, false};
	if (module_separator(u, at, &out[n]))
		n++;
	return n;
}

struct join_scan {
	size_t rs, re;
	bool bad;
};

static int scan_join(TSNode n, void *vctx)
{
	struct join_scan *j = vctx;
	if (ts_node_start_byte(n) >= j->rs && ts_node_end_byte(n) <= j->re)
		return 0; /* replaced */
	if (syn_is(n, "comment") || (syn_is(n, "string") && ts_node_start_point(n).row != ts_node_end_point(n).row)) {
		j->bad = true;
		return -1;
	}
	return 1;
}

const char *module_joined_statement(struct unit *u, TSNode node, size_t rs, size_t re, const char *replacement,
				    size_t *start, size_t *end)
{
	TSNode stmt = node;
	while (!ts_node_is_null(stmt) && !strstr(ts_node_type(stmt), "statement"))
		stmt = ts_node_parent(stmt);
	if (ts_node_is_null(stmt) || syn_is(stmt, "if_statement") || syn_is(stmt, "for_statement") ||
	    syn_is(stmt, "while_statement") || syn_is(stmt, "with_statement") || syn_is(stmt, "try_statement") ||
	    ts_node_start_point(stmt).row == ts_node_end_point(stmt).row)
		return NULL;
	/* alone on its lines */
	size_t ls = unit_line_start(u, ts_node_start_byte(stmt)), k = ls;
	while (k < ts_node_start_byte(stmt) && (u->src[k] == ' ' || u->src[k] == '\t'))
		k++;
	size_t se = ts_node_end_byte(stmt);
	if (k != ts_node_start_byte(stmt) || (se < u->len && u->src[se] != '\n' && u->src[se] != '\r'))
		return NULL;
	struct join_scan js = {rs, re, false};
	syn_walk(stmt, scan_join, &js);
	if (js.bad)
		return NULL;
	size_t ss = ts_node_start_byte(stmt);
	size_t cap = (se - ss) + strlen(replacement) + 1;
	char *out = arena_alloc(&u->arena, cap);
	if (!out)
		return NULL;
	size_t len = 0;
	for (size_t i = ss; i < se;) {
		if (i == rs) {
			memcpy(out + len, replacement, strlen(replacement));
			len += strlen(replacement);
			i = re;
			continue;
		}
		char c = u->src[i];
		if (c == '\\')
			return NULL;
		if (c != '\n' && c != '\r') {
			out[len++] = c;
			i++;
			continue;
		}
		while (len && (out[len - 1] == ' ' || out[len - 1] == '\t'))
			len--;
		while (i < se && (u->src[i] == '\n' || u->src[i] == '\r' || u->src[i] == ' ' || u->src[i] == '\t'))
			i++;
		char prev = len ? out[len - 1] : 0, next = i < se ? u->src[i] : 0;
		bool closing = next == ')' || next == ']' || next == '}';
		if (prev == ',' && closing)
			return NULL; /* a magic trailing comma: black keeps the lines */
		if (!(prev == '(' || prev == '[' || prev == '{') && !closing)
			out[len++] = ' ';
	}
	out[len] = 0;
	if ((k - ls) + module_width(out, len) > (size_t)module_line_length(u))
		return NULL;
	*start = ss;
	*end = se;
	return out;
}
