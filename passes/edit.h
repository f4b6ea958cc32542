/* Byte-range edits and the one applier. Passes never edit text: they emit edits, and every
 * renderer (diff, rewritten file, JSON) reads the same applied result. */
#ifndef SPIPFIX_EDIT_H
#define SPIPFIX_EDIT_H

#include <stdbool.h>
#include <stddef.h>

struct edit {
	size_t start, end; /* replace src[start, end) ... */
	const char *text;  /* ... with text[0, len) */
	size_t len;
	unsigned seq;      /* order among insertions at the same offset */
	bool trailing;     /* goes after every other insertion at its offset (a separator) */
};

/* The same change: range, text and placement (a fix engine applies identical edits once). */
bool edit_same(const struct edit *a, const struct edit *b);

/* Two edits conflict when their ranges share a byte, or when one inserts strictly inside the
 * other's range. Insertions at the same point, or touching ranges, do not conflict. */
bool edit_overlaps(const struct edit *a, const struct edit *b);

/* Sort edits in the order the applier applies them: by (start, end), separators (trailing) after
 * the other insertions at their offset, then by seq; stable for equal keys is not needed. */
void edits_sort(struct edit *e, size_t n);
/* Are the edits in that order, inside [0, srclen] and free of overlaps? */
bool edits_ordered(const struct edit *e, size_t n, size_t srclen);

/* Sort edits by (start, end, trailing, seq). Returns 0, or -1 when any two overlap or one lies outside
 * [0, srclen]. */
int edits_sort_check(struct edit *e, size_t n, size_t srclen);

/* Apply edits that passed edits_sort_check. Returns a new malloc'd buffer (NUL-terminated, length
 * in *outlen) or NULL on allocation failure. */
char *edits_apply(const char *src, size_t srclen, const struct edit *e, size_t n, size_t *outlen);

#endif
