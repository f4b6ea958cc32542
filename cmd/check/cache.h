/* The content cache (.spipfix_cache): per-file output keyed by path, bytes, rules and settings. */
#ifndef SPIPFIX_CACHE_H
#define SPIPFIX_CACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "check.h"

struct cache;

/* Open (and load) the cache for these settings. NULL only on allocation failure. */
struct cache *cache_open(const struct options *o);
/* The key of one file: its path, the rules that run on it and its bytes, under the settings. */
void cache_key(const struct cache *c, const char *path, const char *buf, size_t len, const char *const *sel,
	       uint8_t key[16]);
/* No entry at all (nothing loaded, nothing stored yet): every lookup would miss. */
bool cache_is_empty(const struct cache *c);
/* Fill r (closed, malloc'd copies) from the entry of key. Returns false when there is none. */
bool cache_get(struct cache *c, const uint8_t key[16], struct file_result *r);
/* Store what r printed and counted under key. Returns 0 / -1. */
int cache_put(struct cache *c, const uint8_t key[16], const char *path, const struct file_result *r);
/* Write the cache when something was stored (a warning when it cannot be), and free it. */
void cache_close(struct cache *c);

#endif
