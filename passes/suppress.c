/* Suppression comments, as in Ruff:
 *   x = f()  # noqa                    every finding reported on this line
 *   x = f()  # noqa: SPF101, SPF102    these rules on this line
 *   x = f()  # spipfix: ignore[SPF101] the same, spipfix's own spelling
 *   # spipfix: noqa                    on a line of its own: the whole file
 *   # spipfix: noqa: SPF102            on a line of its own: these rules in the whole file
 * A directive counts only inside a real comment node of the tree: a `# noqa` inside a string
 * literal is text, not a comment. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pass.h"
#include "unit.h"
#include "vec.h"

struct directive {
	uint32_t row;      /* 0-based line; UINT32_MAX for the whole file */
	const char *codes; /* the code list's text, NULL = every rule */
	size_t codeslen;
};

/* In file order, so by row: a finding's directives are found by binary search; the whole-file
 * ones (row UINT32_MAX) are kept apart. */
typedef VEC(struct directive) directives;
struct directives {
	directives rows, file;
};

static int add(struct directives *d, uint32_t row, const char *codes, size_t len)
{
	return vec_push(row == UINT32_MAX ? &d->file : &d->rows, ((struct directive){row, codes, len}));
}

/* Does a directive on row `row` or for the whole file name pass p? */
static bool suppressed(const struct directives *d, uint32_t row, const struct pass *p);

static const char *skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

/* Length of a code list such as `SPF101, SPF102` starting at p (codes are letters then digits,
 * separated by commas and/or spaces). */
static size_t code_list(const char *p, const char *end)
{
	const char *q = p, *last = p;
	for (;;) {
		const char *c = q;
		while (c < end && isalpha((unsigned char)*c))
			c++;
		const char *digits = c;
		while (c < end && isdigit((unsigned char)*c))
			c++;
		if (digits == q || c == digits)
			break;
		last = q = c;
		while (q < end && (*q == ',' || *q == ' ' || *q == '\t'))
			q++;
	}
	return (size_t)(last - p);
}

/* Parse the directive starting at the `#` at p (inside a comment ending at end). */
static int parse(struct directives *d, const char *p, const char *end, uint32_t row, bool own_line)
{
	p = skip_ws(p + 1, end);
	if (end - p >= 4 && !strncasecmp(p, "noqa", 4)) {
		p += 4;
		if (p < end && *p == ':') {
			p = skip_ws(p + 1, end);
			size_t n = code_list(p, end);
			return n ? add(d, row, p, n) : add(d, row, NULL, 0);
		}
		return add(d, row, NULL, 0);
	}
	if (end - p < 8 || strncmp(p, "spipfix:", 8) != 0)
		return 0;
	p = skip_ws(p + 8, end);
	if (end - p >= 7 && !strncmp(p, "ignore[", 7)) {
		p += 7;
		size_t n = code_list(p, end);
		const char *close = skip_ws(p + n, end);
		return n && close < end && *close == ']' ? add(d, row, p, n) : 0;
	}
	if (own_line && end - p >= 4 && !strncasecmp(p, "noqa", 4)) {
		p += 4;
		if (p < end && *p == ':') {
			p = skip_ws(p + 1, end);
			size_t n = code_list(p, end);
			return n ? add(d, UINT32_MAX, p, n) : 0;
		}
		return skip_ws(p, end) == end ? add(d, UINT32_MAX, NULL, 0) : 0;
	}
	return 0;
}

/* Does a directive's code list name this rule? */
static bool names(const struct directive *dv, const struct pass *p)
{
	if (!dv->codes)
		return true;
	size_t cl = strlen(p->code);
	const char *s = dv->codes, *end = dv->codes + dv->codeslen;
	while (s < end) {
		const char *e = s;
		while (e < end && *e != ',' && *e != ' ' && *e != '\t')
			e++;
		if ((size_t)(e - s) == cl && !strncasecmp(s, p->code, cl))
			return true;
		s = e;
		while (s < end && (*s == ',' || *s == ' ' || *s == '\t'))
			s++;
	}
	return false;
}

static bool directive_start(const char *p, const char *end)
{
	p = skip_ws(p + 1, end);
	return (end - p >= 4 && !strncasecmp(p, "noqa", 4)) || (end - p >= 8 && !strncmp(p, "spipfix:", 8));
}

int unit_suppress(struct unit *u)
{
	if (!u->nfindings)
		return 0;
	struct directives d = {0};
	const char *src = u->src, *end = u->src + u->len;
	for (const char *h = memchr(src, '#', u->len); h; h = memchr(h + 1, '#', (size_t)(end - h - 1))) {
		if (!directive_start(h, end))
			continue;
		size_t off = (size_t)(h - src);
		TSNode n = ts_node_descendant_for_byte_range(u->root, (uint32_t)off, (uint32_t)off + 1);
		if (!syn_is(n, "comment"))
			continue; /* inside a string, or not a comment at all */
		const char *cend = src + ts_node_end_byte(n);
		size_t cstart = ts_node_start_byte(n);
		size_t ls = unit_line_start(u, cstart);
		bool own_line = cstart == off;
		for (size_t k = ls; k < cstart && own_line; k++)
			own_line = src[k] == ' ' || src[k] == '\t' || src[k] == '\f';
		if (parse(&d, h, cend, ts_node_start_point(n).row, own_line) < 0) {
			vec_free(&d.rows);
			vec_free(&d.file);
			u->error = "out of memory";
			u->error_kind = UE_INTERNAL;
			return -1;
		}
	}
	size_t keep = 0;
	for (size_t i = 0; i < u->nfindings; i++) {
		struct finding *f = &u->findings[i];
		bool hidden = suppressed(&d, f->row, f->pass);
		if (hidden)
			unit_debug(u, f->pass, "%u:%u: suppressed by a comment", f->row + 1, f->col + 1);
		else
			u->findings[keep++] = *f;
	}
	u->nfindings = keep;
	vec_free(&d.rows);
	vec_free(&d.file);
	return 0;
}

static bool suppressed(const struct directives *d, uint32_t row, const struct pass *p)
{
	for (size_t k = 0; k < d->file.n; k++)
		if (names(&d->file.v[k], p))
			return true;
	size_t lo = 0, hi = d->rows.n;
	while (lo < hi) { /* the first directive on row or after it */
		size_t mid = lo + (hi - lo) / 2;
		if (d->rows.v[mid].row < row)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t k = lo; k < d->rows.n && d->rows.v[k].row == row; k++)
		if (names(&d->rows.v[k], p))
			return true;
	return false;
}

/* ---- writing a directive (--add-noqa, the editor's "disable for this line") ----------------- */

static int cmp_str(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

/* Is byte offset off inside a string literal of the tree? */
static bool inside_string(const struct unit *u, size_t off)
{
	TSNode n = ts_node_descendant_for_byte_range(u->root, (uint32_t)off, (uint32_t)off + 1);
	for (; !ts_node_is_null(n); n = ts_node_parent(n))
		if (syn_is(n, "string") && ts_node_start_byte(n) < off && off < ts_node_end_byte(n))
			return true;
	return false;
}

int unit_noqa_edit(struct unit *u, size_t at, const char *const *codes, size_t ncodes, struct edit *out,
		   const char **why)
{
	const char *src = u->src;
	size_t ls = unit_line_start(u, at), le = at;
	while (le < u->len && src[le] != '\n')
		le++;
	size_t ce = le > ls && src[le - 1] == '\r' ? le - 1 : le; /* the line's content ends here */
	if (le < u->len && inside_string(u, le)) {
		*why = "the line ends inside a string literal";
		return -1;
	}
	/* the line's comment (one at most: it runs to the end of the line) */
	size_t cstart = ce, cend = ce;
	for (const char *h = memchr(src + ls, '#', ce - ls); h; h = memchr(h + 1, '#', (size_t)(src + ce - h - 1))) {
		size_t off = (size_t)(h - src);
		TSNode n = ts_node_descendant_for_byte_range(u->root, (uint32_t)off, (uint32_t)off + 1);
		if (syn_is(n, "comment") && ts_node_start_byte(n) == off) {
			cstart = off;
			cend = ts_node_end_byte(n) < ce ? ts_node_end_byte(n) : ce;
			break;
		}
	}
	size_t code_end = cstart;
	while (code_end > ls && (src[code_end - 1] == ' ' || src[code_end - 1] == '\t'))
		code_end--;
	if (cstart == ce && code_end > ls && src[code_end - 1] == '\\') {
		*why = "the line ends in a backslash continuation";
		return -1;
	}
	/* the codes asked for, sorted, without repeats */
	const char **want = arena_alloc(&u->arena, (ncodes + 64) * sizeof *want);
	if (!want)
		goto oom;
	size_t nwant = 0;
	bool merge = false;
	for (size_t i = 0; i < ncodes; i++)
		want[nwant++] = codes[i];
	/* an existing `# noqa` on the line: a bare one covers every rule; codes are merged into a
	 * list, which keeps its place and whatever follows it */
	for (const char *h = cstart < cend ? memchr(src + cstart, '#', cend - cstart) : NULL; h;
	     h = memchr(h + 1, '#', (size_t)(src + cend - h - 1))) {
		const char *p = skip_ws(h + 1, src + cend);
		if (src + cend - p < 4 || strncasecmp(p, "noqa", 4) != 0)
			continue;
		p += 4;
		if (p >= src + cend || *p != ':')
			return 0; /* `# noqa`: every rule */
		p = skip_ws(p + 1, src + cend);
		size_t n = code_list(p, src + cend);
		if (!n)
			return 0; /* what unit_suppress takes for a bare `# noqa` */
		struct directive dv = {0, p, n};
		bool all = true;
		for (size_t i = 0; i < ncodes && all; i++) {
			const struct pass *ps = pass_lookup(codes[i]);
			all = ps && names(&dv, ps);
		}
		if (all)
			return 0;
		for (const char *s = p, *end = p + n; s < end && nwant < ncodes + 64;) {
			const char *e = s;
			while (e < end && *e != ',' && *e != ' ' && *e != '\t')
				e++;
			if (!(want[nwant++] = arena_strndup(&u->arena, s, (size_t)(e - s))))
				goto oom;
			s = e;
			while (s < end && (*s == ',' || *s == ' ' || *s == '\t'))
				s++;
		}
		out->start = (size_t)(p - src);
		out->end = out->start + n;
		merge = true;
		goto write;
	}
	out->start = cstart < ce ? cend : code_end; /* after the comment, or the code */
	while (cstart < ce && out->start > ls && (src[out->start - 1] == ' ' || src[out->start - 1] == '\t'))
		out->start--;
	out->end = ce;
write:
	qsort(want, nwant, sizeof *want, cmp_str);
	size_t k = 0;
	for (size_t i = 0; i < nwant; i++)
		if (k == 0 || strcmp(want[k - 1], want[i]))
			want[k++] = want[i];
	size_t cap = 16;
	for (size_t i = 0; i < k; i++)
		cap += strlen(want[i]) + 2;
	char *text = arena_alloc(&u->arena, cap), *w = text;
	if (!text)
		goto oom;
	if (!merge)
		w += sprintf(w, "  # noqa: ");
	for (size_t i = 0; i < k; i++)
		w += sprintf(w, "%s%s", i ? ", " : "", want[i]);
	out->text = text;
	out->len = (size_t)(w - text);
	out->seq = 0;
	out->trailing = false;
	return 1;
oom:
	*why = "out of memory";
	return -1;
}
