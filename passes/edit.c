#include "edit.h"

#include <stdlib.h>
#include <string.h>

bool edit_same(const struct edit *a, const struct edit *b)
{
	return a->start == b->start && a->end == b->end && a->len == b->len && a->trailing == b->trailing &&
	       (a->len == 0 || !memcmp(a->text, b->text, a->len));
}

bool edit_overlaps(const struct edit *a, const struct edit *b)
{
	size_t lo = a->start > b->start ? a->start : b->start;
	size_t hi = a->end < b->end ? a->end : b->end;
	if (lo < hi)
		return true;
	if (a->start == a->end && b->start < a->start && a->start < b->end)
		return true;
	if (b->start == b->end && a->start < b->start && b->start < a->end)
		return true;
	return false;
}

/* (start, end), then separators last, then the order they were taken in */
static int cmp_edit(const void *pa, const void *pb)
{
	const struct edit *a = pa, *b = pb;
	if (a->start != b->start)
		return a->start < b->start ? -1 : 1;
	if (a->end != b->end)
		return a->end < b->end ? -1 : 1;
	if (a->trailing != b->trailing)
		return a->trailing ? 1 : -1;
	if (a->seq != b->seq)
		return a->seq < b->seq ? -1 : 1;
	return 0;
}

void edits_sort(struct edit *e, size_t n)
{
	if (n > 1)
		qsort(e, n, sizeof *e, cmp_edit);
}

bool edits_ordered(const struct edit *e, size_t n, size_t srclen)
{
	for (size_t i = 0; i < n; i++) {
		if (e[i].start > e[i].end || e[i].end > srclen)
			return false;
		if (i > 0 && (cmp_edit(&e[i - 1], &e[i]) > 0 || edit_overlaps(&e[i - 1], &e[i])))
			return false;
	}
	return true;
}

int edits_sort_check(struct edit *e, size_t n, size_t srclen)
{
	edits_sort(e, n);
	return edits_ordered(e, n, srclen) ? 0 : -1;
}

char *edits_apply(const char *src, size_t srclen, const struct edit *e, size_t n, size_t *outlen)
{
	size_t total = srclen;
	for (size_t i = 0; i < n; i++)
		total = total - (e[i].end - e[i].start) + e[i].len;
	char *out = malloc(total + 1);
	if (!out)
		return NULL;
	size_t at = 0, o = 0;
	for (size_t i = 0; i < n; i++) {
		memcpy(out + o, src + at, e[i].start - at);
		o += e[i].start - at;
		if (e[i].len)
			memcpy(out + o, e[i].text, e[i].len);
		o += e[i].len;
		at = e[i].end;
	}
	memcpy(out + o, src + at, srclen - at);
	o += srclen - at;
	out[o] = 0;
	*outlen = o;
	return out;
}
