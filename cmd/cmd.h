/* The program's shared declarations: options, file discovery, per-file processing, renderers. */
#ifndef SPIPFIX_CMD_H
#define SPIPFIX_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "unit.h"

enum mode { MODE_REPORT, MODE_CHECK, MODE_DIFF, MODE_FIX };

struct options {
	enum mode mode;
	bool unsafe_fixes;
	bool quiet;
	const char *debug;
	const char **select; /* NULL-terminated, NULL = all */
};

struct totals {
	size_t findings;     /* remaining, as reported */
	size_t fixable;      /* safe fixes available */
	size_t unsafe_fixable;
	size_t fixed;        /* applied (fix) or would apply (diff) */
	size_t files, changed_files;
	int errors;          /* files that could not be read or analysed */
	int notes;           /* files skipped for a reason that is not an error (newer syntax) */
};

/* discover.c: expand the paths into a sorted list of .py files (strdup'd; free with
 * files_free). Missing paths and unreadable folders are reported on stderr and counted in
 * *errors; the rest is still returned. */
char **discover(char *const *paths, int npaths, size_t *nfiles, int *errors);
void files_free(char **files, size_t n);

/* check.c: process one file in the selected mode. */
void process_file(const char *path, const struct options *o, struct totals *t);

/* render.c */
void render_finding(FILE *out, const struct unit *u, const struct finding *f);
/* level: "error" (counts for exit 2) or "warning" */
void render_error(const char *level, const char *path, const char *msg, bool has_pos, unsigned row, unsigned col);
void render_summary(FILE *out, const struct options *o, const struct totals *t);
/* 1-based column in Unicode characters of a 0-based byte column on line `row`. */
unsigned render_char_column(const char *src, size_t len, unsigned row, unsigned bytecol);

/* diff.c: unified diff of old -> new with headers `--- path` / `+++ path`. Returns 0 / -1. */
int render_diff(FILE *out, const char *path, const char *old, size_t oldlen, const char *new_, size_t newlen);

#endif
