/* The one growable array of the program (malloc'd; arena-owned arrays use arena_grow):
 *   VEC(struct edit) edits = {0};
 *   if (vec_push(&edits, e) < 0) ...;   // 0, or -1 when memory runs out (the array is kept)
 *   vec_free(&edits);
 * Hash tables are uthash's (Debian's uthash-dev). */
#ifndef SPIPFIX_VEC_H
#define SPIPFIX_VEC_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define VEC(T)               \
	struct {             \
		T *v;        \
		size_t n, cap; \
	}

/* Make room for `want` items of `size` bytes in the array whose pointer is at *vp. */
static inline int vec_reserve_(void *vp, size_t *cap, size_t want, size_t size)
{
	if (want <= *cap)
		return 0;
	size_t ncap = *cap ? *cap : 8;
	while (ncap < want) {
		if (ncap > SIZE_MAX / 2 / size)
			return -1;
		ncap *= 2;
	}
	void *p;
	memcpy(&p, vp, sizeof p);
	void *np = realloc(p, ncap * size);
	if (!np)
		return -1;
	memcpy(vp, &np, sizeof np);
	*cap = ncap;
	return 0;
}

#define vec_reserve(a, want) vec_reserve_(&(a)->v, &(a)->cap, (want), sizeof *(a)->v)
#define vec_push(a, x) (vec_reserve((a), (a)->n + 1) < 0 ? -1 : ((a)->v[(a)->n++] = (x), 0))
#define vec_free(a) (free((a)->v), (a)->v = NULL, (a)->n = (a)->cap = 0)

#endif
