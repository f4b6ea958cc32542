/* Diagnostics held back in a traced run (--trace-profile with text output) and printed at the
 * end, most executed first: a trace ranks the findings worth fixing. One process runs them. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "vec.h"

struct held {
	FILE *to;
	char *text;
	long long count; /* -1: not traced */
	size_t seq;
};

struct held_lines {
	VEC(struct held) v;
};

struct held_lines *held_new(void) { return calloc(1, sizeof(struct held_lines)); }

void held_add(struct held_lines *h, FILE *to, const char *text, size_t len, long long executions)
{
	char *copy = malloc(len + 1);
	if (copy) {
		memcpy(copy, text, len);
		copy[len] = 0;
	}
	if (!copy || vec_push(&h->v, ((struct held){to, copy, executions, h->v.n})) < 0) {
		free(copy);
		fwrite(text, 1, len, to); /* unordered rather than lost */
	}
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
	if (h->v.n > 1)
		qsort(h->v.v, h->v.n, sizeof *h->v.v, cmp_held);
	for (size_t i = 0; i < h->v.n; i++) {
		fflush(h->v.v[i].to == stderr ? stdout : stderr);
		fputs(h->v.v[i].text, h->v.v[i].to);
		free(h->v.v[i].text);
	}
	vec_free(&h->v);
	free(h);
}
