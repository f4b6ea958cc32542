/* The engine: the whole pipeline, with one entry point per job. Every client -- check and fix
 * over files, the stdin filter, the workers, the language server, `bench`, `profile` and
 * `trace --trace-profile` -- calls these; none re-implements a stage.
 *
 *   engine_analyse  text -> tree -> bytecode -> index -> passes -> suppressions -> findings
 *   engine_fix      rounds of: pick non-overlapping fixes -> apply -> analyse the result (the
 *                   safety net: it must parse cleanly and compile) until no fix applies
 *   engine_pick     the fixes one round takes, as engine_fix takes them
 *
 * Design section 4 (the safety net) holds for every text engine_fix returns. */
#ifndef SPIPFIX_ENGINE_H
#define SPIPFIX_ENGINE_H

#include <stdbool.h>
#include <stddef.h>

#include "unit.h"

/* The most passes the registry may hold (fix_result counts per pass). */
#define ENGINE_MAX_PASSES 32

/* Execution counts of a recorded trace, attached to findings by engine_analyse. */
struct engine_counts {
	/* How often the finding's own instruction ran (see unit.h finding.executions), or -1
	 * when the file was not traced. */
	long long (*lookup)(void *ctx, const struct unit *u, const struct finding *f);
	void *ctx;
};

/* Per-file limits, below the point where memory or time get out of hand (CPython's compiler
 * alone takes 200 to 500 times a file's size in memory, and a flat 2 MiB list takes it seven
 * seconds). A file past one is refused with a message before it is parsed. */
#define ENGINE_MAX_BYTES (4u * 1024 * 1024) /* bytes in a file */
#define ENGINE_MAX_NESTING 200              /* brackets open at once, or levels of indentation */

struct engine_config {
	const char *const *select;   /* rule codes/prefixes to run, NULL = every rule */
	size_t max_bytes;            /* 0: ENGINE_MAX_BYTES */
	unsigned max_nesting;        /* 0: ENGINE_MAX_NESTING */
	bool unsafe;                 /* engine_fix applies unsafe fixes too */
	const char *debug;           /* --debug=CODE: one pass's details on stderr */
	const struct engine_counts *counts; /* NULL: no trace given */
	/* engine_fix may release the analysis it is given once a round has applied fixes
	 * (fix_result.released), so that one analysis lives at a time: the caller needs it only
	 * when nothing changed */
	bool release_first;
	/* With counts: a finding whose site ran fewer times (or whose file was not traced) is cold:
	 * reported with its count, its fix withheld (FIX_NONE with the reason). 0: no threshold. In
	 * the later rounds of engine_fix, where positions have moved, a finding is hot only when a
	 * finding of the first round with the same rule, code object and key was hot. */
	long long min_executions;
	/* How fixes write code: the project's line length ([tool.black]/[tool.ruff] line-length;
	 * 0 means 88) and the template of lifted names ("_{scope}_{name}" when NULL; see
	 * spf101.c). */
	int line_length;
	const char *lift_name;
	/* Findings in test code too (tests/, test/, test_*.py, *_test.py, conftest.py): the
	 * include-tests setting. */
	bool include_tests;
	/* Tests only: given each round's rewritten text, return a malloc'd replacement (or NULL to
	 * keep it), so that a test can prove the safety net refuses a broken result. */
	char *(*mangle)(const char *text, size_t len, size_t *outlen);
	/* Tests only: compare each round's incremental parse with a fresh parse (a difference
	 * refuses the file with an internal error). */
	bool check_reparse;
};

/* Analyse buf[0, len) (NUL-terminated at len; not copied: it must outlive u) as the file
 * `path`. Returns 0 with u->findings set (sorted by position; suppressed findings removed;
 * each finding's edits in the applier's order), or -1 with u->error (and u->error_kind) set.
 * Either way the caller releases u with unit_free. */
int engine_analyse(const struct engine_config *c, struct unit *u, const char *path, const char *buf, size_t len);

struct fix_result {
	char *text;          /* malloc'd rewritten file (BOM kept); NULL when nothing changed */
	size_t len;
	size_t applied;      /* fixes applied over all rounds */
	size_t applied_by_pass[ENGINE_MAX_PASSES]; /* the same, per pass_registry index */
	/* What remains: the analysis of `text` (owned). NULL when nothing changed (then the
	 * analysis given to engine_fix is what remains) or on error. */
	struct unit *final;
	const char *error;   /* why the file was refused (static or owned) */
	bool error_owned;
	bool refused;        /* a rewrite failed the safety net (not an error of the input) */
	bool released;       /* release_first: the analysis given was released (zeroed) */
};

/* Fix the analysed unit `first` (engine_analyse returned 0 for it) in rounds. Returns 0 (r->text
 * may be NULL: nothing to change) or -1 with r->error set, in which case nothing is to be
 * written. `first` is not changed, unless c->release_first (then see r->released). Release r
 * with fix_result_free (before first's buffer). */
int engine_fix(const struct engine_config *c, struct unit *first, struct fix_result *r);
void fix_result_free(struct fix_result *r);

/* The remaining analysis after a successful engine_fix: r->final, or first when nothing
 * changed. */
const struct unit *engine_remaining(const struct fix_result *r, const struct unit *first);

/* Does the fix engine apply this finding's fix (with or without unsafe fixes)? */
bool engine_wants(const struct finding *f, bool unsafe);

/* The fixes one round takes from an analysed unit: pass by pass in registry order, within a
 * pass in source order, skipping findings marked in skip[] (may be NULL) and those whose edits
 * overlap a fix already taken; identical edits of two fixes are applied once. Marks taken[i]
 * (may be NULL) for each finding taken. Returns a malloc'd array of the edits, sorted as the
 * applier applies them, in *out (count in *nout; caller frees) and the number of fixes taken,
 * or -1 on allocation failure. */
struct edit;
int engine_pick(const struct unit *u, bool unsafe, const bool *skip, bool *taken, struct edit **out, size_t *nout);

/* The text of u with edits (sorted, non-overlapping, as engine_pick returns them) applied, the
 * BOM kept: a malloc'd, NUL-terminated buffer (length in *len), or NULL when out of memory. */
char *engine_apply(const struct unit *u, const struct edit *edits, size_t n, size_t *len);

/* Why a buffer cannot be analysed (NUL bytes, not UTF-8, a foreign coding cookie, too large),
 * written into why[cap]; NULL when it can. */
const char *engine_unreadable(const char *buf, size_t len, char *why, size_t cap);

#endif
