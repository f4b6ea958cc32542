/* The renderers: one table, one small file each (text, concise, json, jsonl, github, sarif,
 * and the diff and statistics outputs). Every renderer reads a finding's edits in the order the
 * applier applies them (the engine sorts them), so none can disagree with --fix.
 *
 * A run writes begin, then the findings of each file (the renderer's separator between any
 * two, across files too: files may be rendered apart, by workers or from the cache, and joined
 * in file order), then end. */
#ifndef SPIPFIX_RENDER_H
#define SPIPFIX_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "unit.h"

struct totals;

/* What a renderer may read about the run. */
struct render_run {
	const struct renderer *r;
	bool traced;               /* a trace was given: findings carry execution counts */
	size_t findings;           /* end: how many findings were written */
	const struct totals *t;    /* end: the run's counts */
	size_t npasses;            /* statistics: registry entries enabled */
	bool color;                /* --color: ANSI colours in the findings */
};

/* ANSI styles for --color: render_sgr(on, SGR_BOLD) is the style, or "" when colours are off. */
#define SGR_BOLD "\033[1m"
#define SGR_CODE "\033[1;31m"  /* a rule code: bold red, as Ruff prints it */
#define SGR_SEP "\033[36m"     /* the `:` separators and the `*` of [*]: cyan */
#define SGR_ADD "\033[32m"     /* a diff's added lines */
#define SGR_DEL "\033[31m"     /* a diff's removed lines */
#define SGR_HUNK "\033[36m"    /* a diff's @@ lines */
#define SGR_RESET "\033[0m"
static inline const char *render_sgr(bool on, const char *sgr) { return on ? sgr : ""; }

struct renderer {
	const char *name;          /* --format value */
	const char *alias;         /* another accepted name, or NULL */
	const char *separator;     /* between two findings; "" when each ends its own line */
	bool machine;              /* for programs: no summary line on stdout */
	bool document;             /* one JSON document or JSON lines: never mixed into messages */
	void (*begin)(FILE *out, const struct render_run *run);  /* NULL: nothing */
	void (*finding)(FILE *out, const struct render_run *run, const struct unit *u, const struct finding *f);
	void (*end)(FILE *out, const struct render_run *run);    /* NULL: nothing */
};

/* --format values, NULL-terminated. */
extern const struct renderer *const render_formats[];
/* The renderer called `name` (or its alias), or NULL. */
const struct renderer *render_lookup(const char *name);
extern const struct renderer render_text, render_concise, render_json, render_jsonl, render_github, render_sarif;

/* diff.c: unified diff of old -> new with headers `--- path` / `+++ path`, coloured when color.
 * Returns 0 / -1. */
int render_diff(FILE *out, const char *path, const char *old, size_t oldlen, const char *new_, size_t newlen,
		bool color);

/* statistics.c: Ruff's --statistics, as text or (for json/jsonl) a JSON array. */
void render_statistics(FILE *out, const struct render_run *run, bool json);

/* render.c: shared pieces. */
/* 1-based column in Unicode characters of a 0-based byte column on line `row`. */
unsigned render_char_column(const char *src, size_t len, unsigned row, unsigned bytecol);
/* level: "error" (counts for exit 2) or "warning" */
void render_error(FILE *err, const char *level, const char *path, const char *msg, bool has_pos, unsigned row,
		  unsigned col);
/* The failure of an analysis: "error" or, for syntax newer than the embedded Python, "warning". */
void render_unit_error(FILE *err, const struct unit *u);
/* What a diagnostic says of its fix: " [*]", " (unsafe fix: why)", " (no fix: why)" or nothing. */
void render_fix_note(FILE *out, const struct render_run *run, const struct finding *f);
/* Only the reason: " (unsafe fix: why)", " (no fix: why)" or nothing (a safe fix). */
void render_fix_reason(FILE *out, const struct finding *f);
/* `path:row:col: CODE ` as the text formats begin a finding (row, col 1-based). */
void render_location(FILE *out, const struct render_run *run, const char *path, unsigned row, unsigned col,
		     const char *code);
/* " (executed N times)", " (executed once)", " (not traced)", or nothing without a trace. */
void render_executions(FILE *out, const struct render_run *run, const struct finding *f);
/* Is the finding's fix safe and present? */
bool render_safe(const struct finding *f);

#endif
