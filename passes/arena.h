/* One arena per input file: owns findings, edits, strings and deferred releases (Python
 * references among them), all freed in one go by arena_free. */
#ifndef SPIPFIX_ARENA_H
#define SPIPFIX_ARENA_H

#include <stdarg.h>
#include <stddef.h>

struct arena_block;
struct arena_defer;

struct arena {
	struct arena_block *blocks;
	struct arena_defer *defers;
};

/* Zeroed memory that lives until arena_free. Returns NULL on allocation failure. */
void *arena_alloc(struct arena *a, size_t size);
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_strdup(struct arena *a, const char *s);
char *arena_printf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Grow an arena array: returns a new copy with room for `want` items (old contents copied). */
void *arena_grow(struct arena *a, void *old, size_t item, size_t have, size_t want);
/* Run fn(p) at arena_free, in reverse order of registration. Returns 0 / -1. */
int arena_defer(struct arena *a, void (*fn)(void *), void *p);
void arena_free(struct arena *a);

#endif
