#include "unit.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bridge.h"
#include "pass.h"
#include "scope.h"

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

void unit_position(const struct unit *u, size_t off, uint32_t *row, uint32_t *col)
{
	uint32_t r = 0;
	size_t ls = 0;
	for (size_t i = 0; i < off && i < u->len; i++)
		if (u->src[i] == '\n') {
			r++;
			ls = i + 1;
		}
	*row = r;
	*col = (uint32_t)(off - ls);
}

size_t unit_line_start(const struct unit *u, size_t off)
{
	while (off > 0 && u->src[off - 1] != '\n')
		off--;
	return off;
}

size_t unit_line_end(const struct unit *u, size_t off)
{
	while (off < u->len && u->src[off] != '\n')
		off++;
	return off < u->len ? off + 1 : off;
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

static int cmp_cstr(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

struct ident_ctx {
	struct unit *u;
	const char **v;
	size_t n, cap;
	bool oom;
};

static int collect_ident(TSNode n, void *vctx)
{
	struct ident_ctx *c = vctx;
	if (!syn_is(n, "identifier"))
		return 1;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 256;
		const char **nv = arena_grow(&c->u->arena, c->v, sizeof *nv, c->n, cap);
		if (!nv) {
			c->oom = true;
			return -1;
		}
		c->v = nv;
		c->cap = cap;
	}
	c->v[c->n++] = arena_strndup(&c->u->arena, c->u->src + ts_node_start_byte(n), syn_len(n));
	return 0;
}

bool unit_has_identifier(struct unit *u, const char *name)
{
	if (!u->idents) {
		struct ident_ctx c = {u, NULL, 0, 0, false};
		syn_walk(u->root, collect_ident, &c);
		if (c.oom)
			return true; /* unknown: treat as taken */
		if (c.n > 1)
			qsort(c.v, c.n, sizeof *c.v, cmp_cstr);
		u->idents = c.v ? c.v : arena_alloc(&u->arena, sizeof *c.v);
		u->nidents = c.n;
	}
	return bsearch(&name, u->idents, u->nidents, sizeof *u->idents, cmp_cstr) != NULL;
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
		bool found = false;
		syn_walk(u->root, find_global_stmt, &found);
		u->has_global_stmt = found;
		u->globals_known = true;
	}
	return u->has_global_stmt;
}

const char *unit_reserve_name(struct unit *u, const char *base)
{
	for (int k = 1; k < 10000; k++) {
		const char *cand = k == 1 ? base : arena_printf(&u->arena, "%s_%d", base, k);
		if (!cand)
			return NULL;
		bool taken = unit_has_identifier(u, cand) || bridge_is_builtin(cand);
		for (size_t i = 0; !taken && i < u->nreserved; i++)
			taken = strcmp(u->reserved[i], cand) == 0;
		if (taken)
			continue;
		const char **nr = arena_grow(&u->arena, u->reserved, sizeof *nr, u->nreserved, u->nreserved + 1);
		if (!nr)
			return NULL;
		nr[u->nreserved++] = cand;
		u->reserved = nr;
		return cand;
	}
	return NULL;
}

static bool selected(const struct pass *p, const char *const *select)
{
	if (!select)
		return true;
	for (; *select; select++) {
		size_t n = strlen(*select);
		if (!strcmp(*select, "ALL") || !strncmp(p->code, *select, n) || !strcmp(p->name, *select))
			return true;
	}
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

/* Compiled queries, one per distinct query text, kept for the life of the process. */
static TSQuery *query_for(const struct pass *p)
{
	static struct {
		const char *text;
		TSQuery *q;
	} cache[16];
	for (size_t i = 0; i < sizeof cache / sizeof *cache; i++) {
		if (cache[i].text == p->query)
			return cache[i].q;
		if (!cache[i].text) {
			uint32_t eoff;
			TSQueryError etype;
			TSQuery *q = ts_query_new(syn_language(), p->query, (uint32_t)strlen(p->query), &eoff, &etype);
			if (!q) {
				fprintf(stderr, "spipfix: internal error: query of %s does not compile at %u\n", p->code, eoff);
				return NULL;
			}
			cache[i].text = p->query;
			cache[i].q = q;
			return q;
		}
	}
	return NULL;
}

static int run_pass(struct unit *u, const struct pass *p)
{
	u->pass_state = NULL;
	TSQuery *q = query_for(p);
	if (!q)
		return -1;
	/* passes sharing a query share its matches: run each query once per unit */
	if (u->cand_query != q) {
		TSQueryCursor *qc = ts_query_cursor_new();
		ts_query_cursor_exec(qc, q, u->root);
		TSQueryMatch m;
		size_t cap = 0;
		u->ncands = 0;
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

int unit_analyse(struct unit *u, const char *const *select)
{
	if (u->len > 64u * 1024 * 1024) {
		u->error = "file larger than 64 MiB; skipped";
		return -1;
	}
	TSTree *t = syn_parse(u->src, u->len);
	if (!t || arena_defer(&u->arena, tree_delete, t) < 0) {
		if (t)
			ts_tree_delete(t);
		u->error = "cannot parse (out of memory?)";
		return -1;
	}
	u->tree = t;
	u->root = ts_tree_root_node(t);
	TSNode err = syn_first_error(u->root);
	if (bridge_compile(u) < 0) {
		/* the grammar accepts what CPython 3.11 rejects: most likely newer syntax, which is
		 * a note, not an error of the user's */
		u->error_is_note = ts_node_is_null(err);
		return -1;
	}
	if (!ts_node_is_null(err)) {
		/* CPython accepts what tree-sitter does not: never fix from a broken tree */
		TSPoint at = ts_node_start_point(err);
		u->error = "the tree-sitter grammar cannot parse this file (a construct it does not know); no fixes";
		u->error_row = at.row;
		u->error_col = at.column;
		u->error_has_pos = true;
		return -1;
	}
	for (const struct pass *const *p = pass_registry; *p; p++)
		if (selected(*p, select) && run_pass(u, *p) < 0) {
			u->error = "internal error while running the passes";
			return -1;
		}
	if (u->nfindings > 1)
		qsort(u->findings, u->nfindings, sizeof *u->findings, cmp_findings);
	return 0;
}
