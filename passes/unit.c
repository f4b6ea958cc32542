#define _GNU_SOURCE /* memmem */
#include "unit.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uthash.h>

#include "bridge.h"
#include "pass.h"
#include "scope.h"
#include "vec.h"

static void tree_delete(void *t) { ts_tree_delete(t); }

int unit_init(struct unit *u, const char *path, const char *buf, size_t buflen)
{
	memset(u, 0, sizeof *u);
	u->path = path;
	u->buf = buf;
	u->buflen = buflen;
	if (buflen >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
		u->bom = 3;
	u->src = buf + u->bom;
	u->len = buflen - u->bom;
	const char *lf = memchr(u->src, '\n', u->len);
	u->nl = lf && lf > u->src && lf[-1] == '\r' ? "\r\n" : "\n";
	return 0;
}

void unit_free(struct unit *u) { arena_free(&u->arena); }

static int build_line_starts(struct unit *u)
{
	size_t n = 1;
	for (const char *p = u->src, *e = u->src + u->len; (p = memchr(p, '\n', (size_t)(e - p))) != NULL; p++)
		n++;
	uint32_t *ls = arena_alloc(&u->arena, n * sizeof *ls);
	if (!ls)
		return -1;
	size_t k = 0;
	ls[k++] = 0;
	for (const char *p = u->src, *e = u->src + u->len; (p = memchr(p, '\n', (size_t)(e - p))) != NULL; p++)
		ls[k++] = (uint32_t)(p + 1 - u->src);
	u->line_starts = ls;
	u->nlines = n;
	return 0;
}

/* The line table, built on first use; false when it cannot be (the callers scan instead). */
static bool have_lines(const struct unit *u)
{
	return u->line_starts || (u->len <= UINT32_MAX && build_line_starts((struct unit *)u) == 0);
}

/* Index of the last line starting at or before off (off <= u->len; the table is built). */
static size_t line_of(const struct unit *u, size_t off)
{
	size_t lo = 0, hi = u->nlines;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (u->line_starts[mid] <= off)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

void unit_position(const struct unit *u, size_t off, uint32_t *row, uint32_t *col)
{
	if (off > u->len)
		off = u->len;
	if (!have_lines(u)) {
		uint32_t r = 0;
		size_t ls = 0;
		for (size_t i = 0; i < off; i++)
			if (u->src[i] == '\n') {
				r++;
				ls = i + 1;
			}
		*row = r;
		*col = (uint32_t)(off - ls);
		return;
	}
	size_t lo = line_of(u, off);
	*row = (uint32_t)lo;
	*col = (uint32_t)(off - u->line_starts[lo]);
}

size_t unit_line_start(const struct unit *u, size_t off)
{
	if (off > u->len)
		off = u->len;
	if (have_lines(u))
		return u->line_starts[line_of(u, off)];
	while (off > 0 && u->src[off - 1] != '\n')
		off--;
	return off;
}

size_t unit_line_end(const struct unit *u, size_t off)
{
	if (off >= u->len)
		return u->len;
	if (have_lines(u)) {
		size_t l = line_of(u, off);
		return l + 1 < u->nlines ? u->line_starts[l + 1] : u->len;
	}
	while (off < u->len && u->src[off] != '\n')
		off++;
	return off < u->len ? off + 1 : off;
}

const TSNode *unit_statements(struct unit *u, uint32_t *n)
{
	if (!u->statements) {
		uint32_t k = ts_node_named_child_count(u->root);
		TSNode *v = arena_alloc(&u->arena, ((size_t)k + 1) * sizeof *v);
		if (!v) {
			*n = 0;
			return NULL;
		}
		uint32_t i = 0;
		TSTreeCursor c = ts_tree_cursor_new(u->root);
		if (ts_tree_cursor_goto_first_child(&c)) {
			do {
				TSNode x = ts_tree_cursor_current_node(&c);
				if (ts_node_is_named(x) && i < k)
					v[i++] = x;
			} while (ts_tree_cursor_goto_next_sibling(&c));
		}
		ts_tree_cursor_delete(&c);
		u->statements = v;
		u->nstatements = i;
	}
	*n = u->nstatements;
	return u->statements;
}

uint32_t unit_statement_from(struct unit *u, size_t off)
{
	uint32_t n;
	const TSNode *s = unit_statements(u, &n);
	uint32_t lo = 0, hi = n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (ts_node_start_byte(s[mid]) < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

uint32_t unit_statement_reaching_row(struct unit *u, uint32_t row)
{
	uint32_t n;
	const TSNode *s = unit_statements(u, &n);
	uint32_t lo = 0, hi = n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (ts_node_end_point(s[mid]).row < row)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct finding *unit_add_finding(struct unit *u, const struct pass *p, TSNode at)
{
	if (u->nfindings == u->capfindings) {
		size_t cap = u->capfindings ? u->capfindings * 2 : 16;
		struct finding *nf = arena_grow(&u->arena, u->findings, sizeof *nf, u->nfindings, cap);
		if (!nf)
			return NULL;
		u->findings = nf;
		u->capfindings = cap;
	}
	struct finding *f = &u->findings[u->nfindings++];
	memset(f, 0, sizeof *f);
	f->pass = p;
	f->executions = -1;
	f->node = at;
	f->start = ts_node_start_byte(at);
	f->end = ts_node_end_byte(at);
	TSPoint s = ts_node_start_point(at), e = ts_node_end_point(at);
	f->row = s.row;
	f->col = s.column;
	f->end_row = e.row;
	f->end_col = e.column;
	return f;
}

void unit_debug(const struct unit *u, const struct pass *p, const char *fmt, ...)
{
	if (!u->debug || (strcmp(u->debug, p->code) != 0 && strcmp(u->debug, p->name) != 0 &&
			  strcmp(u->debug, "all") != 0))
		return;
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "debug %s %s:", p->code, u->path);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* (text, start): each name's identifiers together, in source order */
static int cmp_ident(const void *pa, const void *pb)
{
	const struct unit_ident *a = pa, *b = pb;
	int c = strcmp(a->text, b->text);
	if (c)
		return c;
	uint32_t x = ts_node_start_byte(a->node), y = ts_node_start_byte(b->node);
	return x < y ? -1 : x > y;
}

/* The identifier table: one cursor walk (no recursion), each identifier with whether it is a
 * use (not the attribute of `obj.attr`, not the keyword of `f(k=v)`). Returns 0 / -1. */
static int build_identifiers(struct unit *u)
{
	struct unit_ident *v = NULL;
	size_t n = 0, cap = 0;
	const TSLanguage *lang = syn_language();
	TSSymbol ident = ts_language_symbol_for_name(lang, "identifier", 10, true);
	TSFieldId f_attr = ts_language_field_id_for_name(lang, "attribute", 9);
	TSFieldId f_name = ts_language_field_id_for_name(lang, "name", 4);
	TSSymbol attr = ts_language_symbol_for_name(lang, "attribute", 9, true);
	TSSymbol kwarg = ts_language_symbol_for_name(lang, "keyword_argument", 16, true);
	TSTreeCursor c = ts_tree_cursor_new(u->root);
	/* the symbols of the open nodes: the last is the parent an identifier's field refers to */
	VEC(TSSymbol) stack = {0};
	uint32_t depth = 0;
	int rc = 0;
	for (;;) {
		TSNode x = ts_tree_cursor_current_node(&c);
		if (ts_node_symbol(x) == ident) {
			if (n == cap) {
				cap = cap ? 2 * cap : 256;
				struct unit_ident *nv = arena_grow(&u->arena, v, sizeof *nv, n, cap);
				if (!nv) {
					rc = -1;
					break;
				}
				v = nv;
			}
			TSSymbol parent = depth > 0 ? stack.v[depth - 1] : 0;
			TSFieldId field = ts_tree_cursor_current_field_id(&c);
			v[n].text = arena_strndup(&u->arena, u->src + ts_node_start_byte(x), syn_len(x));
			v[n].node = x;
			v[n].use = !((parent == attr && field == f_attr) || (parent == kwarg && field == f_name));
			if (!v[n].text) {
				rc = -1;
				break;
			}
			n++;
		} else if (ts_tree_cursor_goto_first_child(&c)) {
			stack.n = depth;
			if (vec_push(&stack, ts_node_symbol(x)) < 0) {
				rc = -1;
				break;
			}
			depth++;
			continue;
		}
		while (!ts_tree_cursor_goto_next_sibling(&c)) {
			if (depth == 0 || !ts_tree_cursor_goto_parent(&c))
				goto done;
			depth--;
		}
	}
done:
	ts_tree_cursor_delete(&c);
	vec_free(&stack);
	if (rc < 0)
		return -1;
	if (n > 1)
		qsort(v, n, sizeof *v, cmp_ident);
	u->idents = v ? v : arena_alloc(&u->arena, sizeof *v);
	u->nidents = n;
	return u->idents ? 0 : -1;
}

/* First entry of the table at or after (name, off). */
static size_t ident_lower(const struct unit *u, const char *name, uint32_t off)
{
	size_t lo = 0, hi = u->nidents;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(u->idents[mid].text, name);
		if (c < 0 || (c == 0 && ts_node_start_byte(u->idents[mid].node) < off))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

bool unit_has_identifier(struct unit *u, const char *name)
{
	if (!*name)
		return false;
	/* an identifier's text is in the source: the first few names are looked for there, which
	 * is cheaper than the table; past that, the table answers (a scan per name would cost the
	 * file's length for each of them) */
	if (!u->idents && u->ident_probes < 4) {
		u->ident_probes++;
		if (!memmem(u->src, u->len, name, strlen(name)))
			return false;
	}
	if (!u->idents && build_identifiers(u) < 0)
		return true; /* unknown: treat as taken */
	size_t i = ident_lower(u, name, 0);
	return i < u->nidents && !strcmp(u->idents[i].text, name);
}

long unit_identifiers(struct unit *u, const char *name, uint32_t from, uint32_t to, const struct unit_ident **first)
{
	*first = NULL;
	if (!u->idents && build_identifiers(u) < 0)
		return -1;
	size_t i = ident_lower(u, name, from), e = i;
	while (e < u->nidents && !strcmp(u->idents[e].text, name) && ts_node_start_byte(u->idents[e].node) < to)
		e++;
	*first = e > i ? &u->idents[i] : NULL;
	return (long)(e - i);
}

static int find_global_stmt(TSNode n, void *vctx)
{
	if (syn_is(n, "global_statement")) {
		*(bool *)vctx = true;
		return -1;
	}
	return 1;
}

bool unit_has_global_statement(struct unit *u)
{
	if (!u->globals_known) {
		/* the keyword is in the source of every global statement */
		bool found = false;
		if (memmem(u->src, u->len, "global", 6))
			syn_walk(u->root, find_global_stmt, &found);
		u->has_global_stmt = found;
		u->globals_known = true;
	}
	return u->has_global_stmt;
}

/* The reserved names: uthash entries in the arena; the table's buckets (uthash's malloc) are
 * freed by the arena. */
struct reserved_name {
	UT_hash_handle hh;
	const char *name;
};

struct reserved_names {
	struct reserved_name *set;
};

static void reserved_clear(void *p)
{
	struct reserved_names *r = p;
	HASH_CLEAR(hh, r->set);
}

static bool reserved_has(const struct unit *u, const char *name)
{
	struct reserved_name *hit = NULL;
	if (u->reserved)
		HASH_FIND_STR(u->reserved->set, name, hit);
	return hit != NULL;
}

static int reserved_add(struct unit *u, const char *name)
{
	if (!u->reserved) {
		struct reserved_names *r = arena_alloc(&u->arena, sizeof *r);
		if (!r || arena_defer(&u->arena, reserved_clear, r) < 0)
			return -1;
		u->reserved = r;
	}
	struct reserved_name *e = arena_alloc(&u->arena, sizeof *e);
	if (!e)
		return -1;
	e->name = name;
	HASH_ADD_KEYPTR(hh, u->reserved->set, e->name, strlen(e->name), e);
	return 0;
}

const char *unit_reserve_name(struct unit *u, const char *base)
{
	if (!base)
		return NULL;
	for (int k = 1; k < 10000; k++) {
		const char *cand = k == 1 ? base : arena_printf(&u->arena, "%s_%d", base, k);
		if (!cand)
			return NULL;
		if (reserved_has(u, cand) || unit_has_identifier(u, cand) || bridge_is_builtin(cand))
			continue;
		return reserved_add(u, cand) == 0 ? cand : NULL;
	}
	return NULL;
}

bool unit_selected(const struct pass *p, const char *const *select)
{
	if (!select)
		return true;
	for (; *select; select++)
		if (pass_matches(p, *select))
			return true;
	return false;
}

struct run_ctx {
	struct unit *u;
	const struct pass *p;
};

static int cmp_findings(const void *pa, const void *pb)
{
	const struct finding *a = pa, *b = pb;
	if (a->start != b->start)
		return a->start < b->start ? -1 : 1;
	return strcmp(a->pass->code, b->pass->code);
}

/* Compiled queries, one per distinct query text, kept for the life of the process, each with
 * the grammar symbols its patterns can start at (roots == NULL: any node). */
#define MAX_QUERIES 16
static struct query_entry {
	const char *text;
	TSQuery *q;
	bool *roots;
} queries[MAX_QUERIES];

static int query_index(const struct pass *p)
{
	for (int i = 0; i < MAX_QUERIES; i++) {
		if (queries[i].text == p->query)
			return i;
		if (queries[i].text)
			continue;
		uint32_t eoff;
		TSQueryError etype;
		TSQuery *q = ts_query_new(syn_language(), p->query, (uint32_t)strlen(p->query), &eoff, &etype);
		if (!q) {
			fprintf(stderr, "spipfix: internal error: query of %s does not compile at %u\n", p->code, eoff);
			return -1;
		}
		const char *names[32];
		size_t lens[32];
		int nr = syn_query_roots(p->query, names, lens, 32);
		uint32_t nsym = ts_language_symbol_count(syn_language());
		bool *roots = nr > 0 ? calloc(nsym, sizeof *roots) : NULL;
		for (int k = 0; roots && k < nr; k++)
			if (!syn_symbols_named(roots, nsym, names[k], lens[k])) {
				free(roots); /* a name the grammar does not know: match everywhere */
				roots = NULL;
			}
		queries[i] = (struct query_entry){p->query, q, roots};
		return i;
	}
	return -1;
}

/* What each grammar symbol is to the index walk. */
enum { SK_FUNCTION = 1, SK_CLASS = 2, SK_COMPREHENSION = 4, SK_GLOBAL = 8, SK_NO_CODE = 16, SK_STRING = 32 };
static unsigned char *symbol_kinds(void)
{
	static unsigned char *kinds;
	if (kinds)
		return kinds;
	uint32_t nsym = ts_language_symbol_count(syn_language());
	unsigned char *k = calloc(nsym, 1);
	bool *m = calloc(nsym, sizeof *m);
	if (!k || !m) {
		free(k);
		free(m);
		return NULL;
	}
	static const struct {
		const char *name;
		unsigned char kind;
	} tab[] = {
		{"function_definition", SK_FUNCTION}, {"lambda", SK_FUNCTION}, {"class_definition", SK_CLASS},
		{"list_comprehension", SK_COMPREHENSION}, {"set_comprehension", SK_COMPREHENSION},
		{"dictionary_comprehension", SK_COMPREHENSION}, {"generator_expression", SK_COMPREHENSION},
		{"global_statement", SK_GLOBAL},
		/* subtrees that hold no call, def, lambda, class, comprehension or global statement:
		 * the walk does not enter them (a string only when it is not an f-string) */
		{"import_statement", SK_NO_CODE}, {"import_from_statement", SK_NO_CODE},
		{"future_import_statement", SK_NO_CODE}, {"dotted_name", SK_NO_CODE}, {"string", SK_STRING},
	};
	for (size_t i = 0; i < sizeof tab / sizeof *tab; i++) {
		memset(m, 0, nsym * sizeof *m);
		syn_symbols_named(m, nsym, tab[i].name, strlen(tab[i].name));
		for (uint32_t s = 0; s < nsym; s++)
			if (m[s])
				k[s] |= tab[i].kind;
	}
	free(m);
	return kinds = k;
}

static void scope_ranges(struct unit_scope *sc, unsigned char kind)
{
	TSNode n = sc->node;
	sc->in_start = sc->in_end = 0;
	sc->comprehension = kind & SK_COMPREHENSION;
	if (!sc->comprehension) {
		TSNode body = syn_field(n, "body");
		if (!ts_node_is_null(body)) {
			sc->in_start = ts_node_start_byte(body);
			sc->in_end = ts_node_end_byte(body);
		}
		return;
	}
	/* the first for_in_clause's iterable: every child that starts after its `in` */
	uint32_t k = ts_node_named_child_count(n);
	for (uint32_t i = 0; i < k; i++) {
		TSNode c = ts_node_named_child(n, i);
		if (!syn_is(c, "for_in_clause"))
			continue;
		uint32_t m = ts_node_child_count(c);
		for (uint32_t j = 0; j < m; j++) {
			TSNode t = ts_node_child(c, j);
			if (!ts_node_is_named(t) && !strcmp(ts_node_type(t), "in")) {
				sc->in_start = ts_node_start_byte(t) + 1;
				sc->in_end = ts_node_end_byte(c);
				break;
			}
		}
		break;
	}
}

/* Index of the first scope (in pre-order, so by start) starting after st, or at st too when
 * !after. */
static size_t scopes_from(const struct unit *u, uint32_t st, bool after)
{
	size_t lo = 0, hi = u->nscopes;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (u->scopes[mid].start < st || (after && u->scopes[mid].start == st))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int unit_scope_index(const struct unit *u, TSNode n)
{
	uint32_t st = ts_node_start_byte(n);
	for (size_t i = scopes_from(u, st, false); i < u->nscopes && u->scopes[i].start == st; i++)
		if (ts_node_eq(u->scopes[i].node, n))
			return (int)i;
	return -1;
}

bool unit_scope_parent(const struct unit *u, TSNode n, TSNode *out)
{
	if (!u || !u->scopes || n.tree != u->tree)
		return false;
	uint32_t st = ts_node_start_byte(n), en = ts_node_end_byte(n);
	/* the last scope starting at or before n, then out through the enclosing ones to the
	 * first that strictly contains n */
	int i = (int)scopes_from(u, st, true) - 1;
	while (i >= 0) {
		struct unit_scope *sc = &u->scopes[i];
		if (sc->start <= st && en <= sc->end) {
			if (sc->start == st && sc->end == en) {
				if (!ts_node_eq(sc->node, n))
					return false; /* a node spanning exactly a scope node: walk the tree */
			} else {
				break;
			}
		}
		i = sc->container;
	}
	for (; i >= 0; i = u->scopes[i].container) {
		struct unit_scope *sc = &u->scopes[i];
		bool in = sc->in_start <= st && en <= sc->in_end && sc->in_start < sc->in_end;
		if (sc->comprehension ? !in : in) {
			*out = sc->node;
			return true;
		}
	}
	*out = (TSNode){{0}, 0, 0};
	return true;
}

struct grow {
	void *v;
	size_t n, cap;
};

static int push(struct arena *a, struct grow *g, const void *item, size_t size)
{
	if (g->n == g->cap) {
		size_t cap = g->cap ? g->cap * 2 : 64;
		void *nv = arena_grow(a, g->v, size, g->n, cap);
		if (!nv)
			return -1;
		g->v = nv;
		g->cap = cap;
	}
	memcpy((char *)g->v + g->n++ * size, item, size);
	return 0;
}

/* One pre-order walk: the scope table, the nodes each compiled query can start at, and whether
 * the file has a global statement. Returns 0 / -1 (out of memory). */
static int index_walk(struct unit *u, const int *qidx, int nq)
{
	unsigned char *kinds = symbol_kinds();
	if (!kinds)
		return -1;
	uint32_t nsym = ts_language_symbol_count(syn_language());
	struct grow scopes = {0}, roots[MAX_QUERIES] = {{0}};
	int stack[256];
	uint32_t depths[256];
	int top = 0;
	bool global = false, too_deep = false;
	TSTreeCursor c = ts_tree_cursor_new(u->root);
	uint32_t depth = 0;
	int rc = 0;
	for (;;) {
		TSNode n = ts_tree_cursor_current_node(&c);
		TSSymbol sym = ts_node_symbol(n);
		unsigned char k = sym < nsym ? kinds[sym] : 0;
		for (int q = 0; q < nq; q++) {
			bool *r = queries[qidx[q]].roots;
			if (r && sym < nsym && r[sym] && push(&u->arena, &roots[q], &n, sizeof n) < 0)
				rc = -1;
		}
		if (k & SK_GLOBAL)
			global = true;
		if (k & (SK_FUNCTION | SK_CLASS | SK_COMPREHENSION)) {
			struct unit_scope sc = {.node = n, .start = ts_node_start_byte(n), .end = ts_node_end_byte(n),
						.container = top > 0 ? stack[top - 1] : -1};
			scope_ranges(&sc, k);
			if (push(&u->arena, &scopes, &sc, sizeof sc) < 0)
				rc = -1;
			if (top == 256) {
				too_deep = true; /* no table: scope_parent walks the tree instead */
			} else {
				stack[top] = (int)scopes.n - 1;
				depths[top++] = depth;
			}
		}
		if (rc < 0)
			break; /* out of memory */
		bool enter = !(k & SK_NO_CODE);
		if (k & SK_STRING) {
			/* a string holds code only as an f-string: an f among the letters before its quote */
			enter = false;
			for (size_t i = ts_node_start_byte(n); i < u->len && u->src[i] != '"' && u->src[i] != '\''; i++)
				enter |= u->src[i] == 'f' || u->src[i] == 'F';
		}
		if (enter && ts_tree_cursor_goto_first_child(&c)) {
			depth++;
			continue;
		}
		while (!ts_tree_cursor_goto_next_sibling(&c)) {
			if (depth == 0 || !ts_tree_cursor_goto_parent(&c))
				goto done;
			depth--;
		}
		/* at a sibling: the scopes opened at its depth or deeper are closed */
		while (top > 0 && depths[top - 1] >= depth)
			top--;
	}
done:
	ts_tree_cursor_delete(&c);
	if (rc < 0)
		return -1;
	for (int q = 0; q < nq; q++) {
		u->roots[qidx[q]] = roots[q].v;
		u->nroots[qidx[q]] = roots[q].n;
	}
	u->globals_known = true;
	u->has_global_stmt = global;
	if (!too_deep) {
		u->scopes = scopes.v ? scopes.v : arena_alloc(&u->arena, sizeof *u->scopes);
		u->nscopes = scopes.n;
	}
	return 0;
}

static int run_pass(struct unit *u, const struct pass *p)
{
	u->pass_state = NULL;
	int qi = query_index(p);
	if (qi < 0)
		return -1;
	TSQuery *q = queries[qi].q;
	/* passes sharing a query share its matches: run each query once per unit, from each node
	 * that can start a match */
	if (u->cand_query != q) {
		TSQueryCursor *qc = ts_query_cursor_new();
		size_t cap = 0;
		u->ncands = 0;
		bool rooted = queries[qi].roots != NULL; /* else the whole tree */
		size_t nstarts = rooted ? u->nroots[qi] : 1;
		for (size_t r = 0; r < nstarts; r++) {
			if (rooted)
				ts_query_cursor_set_max_start_depth(qc, 0);
			ts_query_cursor_exec(qc, q, rooted ? u->roots[qi][r] : u->root);
			TSQueryMatch m;
			while (ts_query_cursor_next_match(qc, &m)) {
				for (uint16_t i = 0; i < m.capture_count; i++) {
					uint32_t nlen;
					const char *cname = ts_query_capture_name_for_id(q, m.captures[i].index, &nlen);
					if (nlen != 9 || memcmp(cname, "candidate", 9) != 0)
						continue;
					if (u->ncands == cap) {
						cap = cap ? cap * 2 : 64;
						TSNode *nv = arena_grow(&u->arena, u->cands, sizeof *nv, u->ncands, cap);
						if (!nv) {
							ts_query_cursor_delete(qc);
							return -1;
						}
						u->cands = nv;
					}
					u->cands[u->ncands++] = m.captures[i].node;
				}
			}
		}
		ts_query_cursor_delete(qc);
		u->cand_query = q;
	}
	int rc = 0;
	size_t first = u->nfindings;
	for (size_t i = 0; rc == 0 && i < u->ncands; i++)
		if (p->find(u, p, u->cands[i]) < 0)
			rc = -1;
	/* check, then rewrite; dropped findings are compacted away */
	size_t keep = first;
	for (size_t i = first; rc == 0 && i < u->nfindings; i++) {
		struct finding *f = &u->findings[i];
		int c = p->check ? p->check(u, f) : 1;
		if (c < 0)
			rc = -1;
		if (c <= 0)
			continue;
		if (f->applicability != FIX_NONE && p->rewrite && p->rewrite(u, f) < 0)
			rc = -1;
		u->findings[keep++] = *f;
	}
	u->nfindings = keep;
	return rc;
}

int unit_parse(struct unit *u)
{
	if (u->len > 64u * 1024 * 1024) {
		u->error = "file larger than 64 MiB; skipped";
		u->error_kind = UE_INPUT;
		return -1;
	}
	TSTree *t = syn_reparse(u->src, u->len, u->reuse);
	if (t && u->reuse && u->check_reuse) {
		TSTree *fresh = syn_parse(u->src, u->len);
		char *a = ts_node_string(ts_tree_root_node(t));
		char *b = fresh ? ts_node_string(ts_tree_root_node(fresh)) : NULL;
		bool same = a && b && !strcmp(a, b);
		free(a);
		free(b);
		if (fresh)
			ts_tree_delete(fresh);
		if (!same) {
			ts_tree_delete(t);
			u->error = "internal error: the incremental parse differs from a fresh parse";
			u->error_kind = UE_INTERNAL;
			return -1;
		}
	}
	if (!t || arena_defer(&u->arena, tree_delete, t) < 0) {
		if (t)
			ts_tree_delete(t);
		u->error = "cannot parse (out of memory?)";
		u->error_kind = UE_INTERNAL;
		return -1;
	}
	u->tree = t;
	u->root = ts_tree_root_node(t);
	return 0;
}

int unit_check_tree(struct unit *u)
{
	TSNode err = syn_first_error(u->root);
	if (ts_node_is_null(err))
		return 0;
	/* CPython accepts what tree-sitter does not: never fix from a broken tree */
	TSPoint at = ts_node_start_point(err);
	u->error = "the tree-sitter grammar cannot parse this file (a construct it does not know); no fixes";
	u->error_kind = UE_INPUT;
	u->error_row = at.row;
	u->error_col = at.column;
	u->error_has_pos = true;
	return -1;
}

int unit_index(struct unit *u, const char *const *select)
{
	int qidx[MAX_QUERIES] = {0}, nq = 0;
	for (const struct pass *const *p = pass_registry; *p; p++) {
		if (!unit_selected(*p, select))
			continue;
		int qi = query_index(*p);
		if (qi < 0) {
			u->error = "internal error while running the passes";
			u->error_kind = UE_INTERNAL;
			return -1;
		}
		bool have = false;
		for (int k = 0; k < nq; k++)
			have |= qidx[k] == qi;
		if (!have)
			qidx[nq++] = qi;
	}
	if (index_walk(u, qidx, nq) < 0) {
		u->error = "out of memory";
		u->error_kind = UE_INTERNAL;
		return -1;
	}
	return 0;
}

int unit_run_passes(struct unit *u, const char *const *select)
{
	for (const struct pass *const *p = pass_registry; *p; p++)
		if (unit_selected(*p, select) && run_pass(u, *p) < 0) {
			u->error = "internal error while running the passes";
			u->error_kind = UE_INTERNAL;
			return -1;
		}
	if (u->nfindings > 1)
		qsort(u->findings, u->nfindings, sizeof *u->findings, cmp_findings);
	return 0;
}
