/* The fix engine and its safety net (design section 4): rounds of analyse -> pick
 * non-overlapping fixes -> apply, until no fix applies. Each result is parsed and compiled by
 * the next round's analysis, which must succeed; a fix proposed again for a finding already
 * fixed stops the file (not idempotent). */
#ifndef SPIPFIX_SAFETY_H
#define SPIPFIX_SAFETY_H

#include <stdbool.h>
#include <stddef.h>

struct unit;

struct fix_options {
	const char *const *select; /* pass codes/prefixes, NULL = all */
	bool unsafe;               /* apply unsafe fixes too */
	const char *debug;         /* --debug pass */
	/* Called on every analysed unit before fixes are picked (suppression comments); may drop
	 * findings. Returns 0 / -1. NULL = keep all. */
	int (*filter)(struct unit *u, void *ctx);
	void *filter_ctx;
	/* Called with the last round's unit, the analysis of the text returned (or of the input when
	 * nothing changed), when the fix engine succeeds: its findings are what remains to report,
	 * with no second analysis. NULL = not wanted. */
	void (*final)(struct unit *u, void *ctx);
	void *final_ctx;
	/* Tests only: given each round's rewritten text, return a malloc'd replacement (or NULL to
	 * keep it), so that a test can prove the safety net refuses a broken result. */
	char *(*mangle)(const char *text, size_t len, size_t *outlen);
	/* Tests only: compare each round's incremental parse with a fresh parse (a difference
	 * refuses the file with an internal error). */
	bool check_reparse;
};

struct fix_result {
	char *text;          /* malloc'd rewritten file (BOM kept); NULL when nothing changed */
	size_t len;
	size_t applied;      /* fixes applied over all rounds */
	const char *error;   /* static or malloc'd (error_owned) reason the file was refused */
	bool error_owned;
};

/* buf must be NUL-terminated at len. Returns 0 (r->text may be NULL: no change) or -1 with
 * r->error set, in which case nothing is to be written. */
int safety_fix(const char *path, const char *buf, size_t len, const struct fix_options *o, struct fix_result *r);
void fix_result_free(struct fix_result *r);

/* Pick the fixes to apply from an analysed unit: non-overlapping, pass by pass in registry
 * order, then in source order; identical edits of two fixes are applied once. Returns a
 * malloc'd array of edits in *out (count in *nout; caller frees) and the number of fixes
 * taken, or -1 on allocation failure. */
struct edit;
int safety_pick(struct unit *u, bool unsafe, struct edit **out, size_t *nout);

#endif
