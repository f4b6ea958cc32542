/* `spipfix check` (the default subcommand): options, file discovery, per-file processing on the
 * engine, worker processes and the cache. */
#ifndef SPIPFIX_CHECK_H
#define SPIPFIX_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "cli.h"
#include "engine.h"
#include "unit.h"
#include "vec.h"

#define MAX_PASSES 32

struct cache;
struct config;
struct renderer;
struct held_lines;

enum mode { MODE_REPORT, MODE_CHECK, MODE_DIFF, MODE_FIX, MODE_ADD_NOQA };

/* per-file-ignores: files matching `pattern` do not run the rules in `codes` */
struct per_file_ignore {
	char *pattern;
	struct strlist codes;
};

struct options {
	enum mode mode;
	const struct renderer *format; /* --format */
	bool unsafe_fixes;
	bool quiet, silent, statistics;
	bool exit_zero, exit_non_zero_on_fix;
	bool force_exclude, respect_gitignore;
	bool no_cache;
	bool fix_only;              /* --fix-only: fix, report nothing else */
	bool show_fixes;            /* --show-fixes: list the fixes applied per file and rule */
	bool color_out, color_err;  /* --color: ANSI colours on stdout / stderr */
	bool include_tests;         /* findings in test code too */
	int line_length;            /* fixes write lines up to this width (0: 88) */
	const char *lift_name;      /* template of lifted names, or NULL for the default */
	const struct engine_counts *counts; /* --trace-profile: execution counts for the engine */
	long long min_executions;   /* --min-executions: with counts, fix only what ran that often */
	struct held_lines *held;    /* --trace-profile with text output: diagnostics held back and
				     * printed at the end, most executed first (one process) */
	int jobs;                   /* worker processes; 0 = one per core */
	size_t max_bytes;           /* --max-file-size / max-file-size; 0 = the engine's default */
	unsigned max_nesting;       /* --max-nesting / max-nesting; 0 = the engine's default */
	const char *debug;
	const char *stdin_filename; /* name used for the buffer read from stdin, or NULL */
	bool use_stdin;
	/* resolved rule selection: enabled[i] for pass_registry[i] */
	bool enabled[MAX_PASSES];
	size_t npasses;
	/* file selection: patterns matched against names and root-relative paths */
	struct strlist exclude, extend_exclude;
	struct per_file_ignore *pfi;
	size_t npfi;
	char *root;                 /* absolute project root: the config file's folder, else cwd */
	char *config_path;          /* the pyproject.toml in use, or NULL */
	const char *cache_dir;      /* --cache-dir, or NULL for $SPIPFIX_CACHE_DIR or <root>/.spipfix_cache */
	struct cache *cache;        /* NULL: no cache (--no-cache, --debug, stdin) */
};

/* Counts of one file or of the whole run; files are summed into the run's totals. */
struct totals {
	size_t findings;     /* remaining, as reported */
	size_t fixable;      /* safe fixes available */
	size_t unsafe_fixable;
	size_t fixed;        /* applied (fix) or would apply (diff) */
	size_t rendered;     /* findings written by the renderer (its separator goes between them) */
	size_t files, changed_files;
	int errors;          /* files that could not be read or analysed */
	int notes;           /* files skipped for a reason that is not an error (newer syntax) */
	size_t by_pass[MAX_PASSES];      /* remaining findings per registry index */
	size_t fixable_by_pass[MAX_PASSES];
	size_t fixed_by_pass[MAX_PASSES]; /* fixes applied (or, with --diff, that would be) per rule */
	size_t noqa_added;   /* --add-noqa: directives written */
	double saving_ns;    /* with a trace: the estimated saving of the fixes available */
};

void totals_add(struct totals *into, const struct totals *t);

/* The output of one file, kept apart so that files processed out of order (workers, cache) are
 * printed in the order of the sequential run. */
struct file_result {
	struct totals t;
	char *out, *err;     /* malloc'd bytes for stdout / stderr */
	size_t outlen, errlen;
	bool cacheable;      /* a pure function of the file's bytes and the settings */
	bool have_key;       /* key holds the cache key of the bytes processed */
	unsigned char key[16];
	FILE *outf, *errf;   /* open while processing */
};

int file_result_open(struct file_result *r);
void file_result_close(struct file_result *r);
void file_result_free(struct file_result *r);

/* discover.c: expand the paths into a list of .py files (strdup'd; free with files_free), each
 * folder's files sorted, and when sizes is not NULL their sizes in bytes (*sizes malloc'd).
 * Missing paths and unreadable folders are reported on stderr and counted in *errors; the rest
 * is still returned. */
char **discover(char *const *paths, int npaths, const struct options *o, size_t *nfiles, int *errors,
		off_t **sizes);
void files_free(char **files, size_t n);
/* Is this path excluded by the exclude patterns (not .gitignore)? */
bool path_excluded(const struct options *o, const char *path);
/* Does a pattern match this path (relative to the root, absolute, or by its last component)? */
bool path_pattern_matches(const struct options *o, const char *pattern, const char *path);

/* check.c: process one file / the stdin buffer in the selected mode into r (opened by caller). */
void process_file(const char *path, const struct options *o, struct file_result *r);
void process_stdin(const struct options *o, struct file_result *r);
/* The rules to run on `path`: a NULL-terminated list of codes in sel (MAX_PASSES + 1 slots). */
void select_for(const struct options *o, const char *path, const char **sel);
/* The engine's settings for `path` (sel as select_for fills it). */
struct engine_config check_engine_config(const struct options *o, const char **sel);

/* held.c: diagnostics held back until the end of a traced run, most executed first. */
struct held_lines *held_new(void);
/* Keep the text (a rendered line, without its newline) of finding f for stream `to`. */
void held_add(struct held_lines *h, FILE *to, const char *text, size_t len, long long executions);
/* Print them, most executed first (not traced last), and free h. */
void held_flush(struct held_lines *h);

/* emit.c: the run's output so far. */
struct fixed_file {
	char *path;
	size_t by_pass[MAX_PASSES];
};
struct emitter {
	size_t findings;     /* written to stdout (the renderer's separator goes between them) */
	/* --show-fixes: the files fixed (with --diff: that would be) and their fixes per rule, in
	 * file order */
	VEC(struct fixed_file) fixed;
};
/* Write what one file (`path`) produced: its diagnostics on stderr, its output on stdout (the
 * renderer's separator between the findings of two files); with --show-fixes, keep its fixes. */
void emit_result(struct emitter *e, const struct options *o, const char *path, const struct file_result *r);
void emitter_free(struct emitter *e);

/* workers.c: the worker processes of a run that are done with their files, not yet waited for */
#define MAX_WORKERS 64
struct exiting_workers {
	pid_t pid[MAX_WORKERS];
	int n;
};
/* Process files[0..n) (process_file), answered from the cache where it can, on `jobs` worker
 * processes when there are several (the largest first, by sizes[] when not NULL); prints each
 * file's output in file order (emit_result into out) and adds its counts to *t. The workers that
 * are still exiting are left in *exiting. Returns 0 / -1. */
int run_files(char **files, const off_t *sizes, size_t n, const struct options *o, int jobs, struct emitter *out,
	      struct totals *t, struct exiting_workers *exiting);
/* Wait for the worker processes of run_files that may still be exiting: called once the cache is
 * written, so that their exit overlaps it. */
void run_files_reap(struct exiting_workers *exiting);

/* What the command line (or an editor's settings) says, before it is merged with the
 * configuration file by options_resolve. */
struct cli {
	struct strlist select, extend_select, ignore, exclude, extend_exclude;
	bool have_select, have_exclude;
	struct per_file_ignore *pfi;
	size_t npfi;
	bool have_pfi;
	int unsafe_fixes, respect_gitignore, force_exclude; /* -1 unset */
	int include_tests, line_length;                     /* -1 / 0 unset */
	const char *config;
	bool isolated;
	int target_minor; /* --target-version py3X: X, 0 unset */
};
void cli_free(struct cli *c);

/* main.c: merge the configuration file and the command line into o (the command line wins):
 * the rules enabled, unsafe fixes, exclusions, per-file-ignores, the project root. o borrows
 * from c and cfg, which must outlive it; options_release frees what it owns. Returns 0 / -1. */
int options_resolve(struct options *o, const struct cli *c, const struct config *cfg);
void options_release(struct options *o);

#endif
