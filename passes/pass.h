/* The pass interface: tree-sitter proposes (query + find), the bytecode decides (check), and
 * rewrite turns a checked finding into byte-range edits. The registry lists every pass once. */
#ifndef SPIPFIX_PASS_H
#define SPIPFIX_PASS_H

#include <stdbool.h>
#include <stddef.h>

#include "unit.h"

/* What `spipfix rule CODE` prints. The example's `after` is what `spipfix --fix` makes of its
 * `before` (tests/cli_test.py checks it). */
struct pass_doc {
	const char *what, *why, *fix;
	const char *before, *after;
};

/* What `spipfix bench` times for a pass's fix. */
enum bench_strategy {
	/* The code at the fix's one edit inside a function body, before and after: a lift's def
	 * statement or lambda against what is left in its place; a hoisted call against the load
	 * of the module-level name it became. */
	BENCH_SITE = 1,
	/* A call of the function at one of its call sites in the module, the plain function (its
	 * body) against the rewritten one (the lru_cache wrapper, warmed first: a cache hit). */
	BENCH_CALL,
};

struct pass {
	const char *code;    /* "SPF101" */
	const char *name;    /* "closure-free-nested-def" */
	const char *summary; /* one line for --help / rule listings */
	const char *query;   /* tree-sitter query; every @candidate capture is handed to find */
	/* Propose findings for one candidate node (unit_add_finding). Returns 0 / -1 (error). */
	int (*find)(struct unit *u, const struct pass *self, TSNode candidate);
	/* Cross-check one proposed finding against the bytecode and decide its applicability.
	 * Returns 1 to keep it, 0 to drop it (a disagreement, shown under --debug), -1 on error. */
	int (*check)(struct unit *u, struct finding *f);
	/* Emit the edits of a finding whose applicability is not FIX_NONE. Returns 0 / -1; a
	 * rewrite that cannot be built demotes the finding to FIX_NONE with a reason instead. */
	int (*rewrite)(struct unit *u, struct finding *f);
	struct pass_doc doc;
	enum bench_strategy bench;
};

extern const struct pass pass_spf101;
extern const struct pass pass_spf102;
extern const struct pass pass_spf201;
extern const struct pass pass_spf301;

/* The registry, in the order passes run and their fixes are preferred. NULL-terminated. */
extern const struct pass *const pass_registry[];
/* The pass with this code or name (codes in any case), or NULL. */
const struct pass *pass_lookup(const char *code_or_name);
/* Does a rule selector name the pass: ALL, a code or a prefix of it (any case), or its name? */
bool pass_matches(const struct pass *p, const char *selector);
/* Is the selector known: does it name at least one pass? */
bool pass_selector_known(const char *selector);
/* Index of p in pass_registry. */
size_t pass_index(const struct pass *p);

#endif
