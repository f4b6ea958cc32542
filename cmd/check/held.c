/* Diagnostics held back in a traced run (--trace-profile with text output) and printed at the
 * end, most executed first: a trace ranks the findings worth fixing. One process runs them. */
#include <stdlib.h>
#include <string.h>

#include "check.h"

struct held {
	FILE *to;
	char *text;
	long long count; /* -1: not traced */
	size_t seq;
};

struct held_lines {
	struct held *v;
	size_t n, cap;
};

struct held_lines *held_new(void) { return calloc(1, sizeof(struct held_lines)); }

void held_add(struct held_lines *h, FILE *to, const char *text, size_t len, long long executions)
{
	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 64;
		struct held *nv = realloc(h->v, cap * sizeof *nv);
		if (!nv) {
			fwrite(text, 1, len, to); /* unordered rather than lost */
			return;
		}
		h->v = nv;
		h->cap = cap;
	}
	char *copy = malloc(len + 1);
	if (!copy) {
		fwrite(text, 1, len, to);
		return;
	}
	memcpy(copy, text, len);
	copy[len] = 0;
	h->v[h->n] = (struct held){to, copy, executions, h->n};
	h->n++;
}

static int cmp_held(const void *pa, const void *pb)
{
	const struct held *a = pa, *b = pb;
	if (a->count != b->count)
		return a->count > b->count ? -1 : 1; /* not traced (-1) last */
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

void held_flush(struct held_lines *h)
{
	if (!h)
		return;
	if (h->n > 1)
		qsort(h->v, h->n, sizeof *h->v, cmp_held);
	for (size_t i = 0; i < h->n; i++) {
		fflush(h->v[i].to == stderr ? stdout : stderr);
		fputs(h->v[i].text, h->v[i].to);
		free(h->v[i].text);
	}
	free(h->v);
	free(h);
}
