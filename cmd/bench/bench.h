/* spipfix bench: what each fix saves, timed in the user's interpreter (--python) on the real
 * module and the real rewritten text (bench.c), and what all safe fixes do to a workload (bench_run.c);
 * reports as a table, JSON or one self-contained HTML page (bench_html.c); the statistics of both
 * are bench_stats.h's. */
#ifndef SPIPFIX_BENCH_H
#define SPIPFIX_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "cli.h"
#include "engine.h"


struct bench_options {
	size_t rounds;
	double round_ms;        /* target time of one snippet round */
	bool json;
	const char *html;       /* write the HTML report here, or NULL */
	bool unsafe_fixes;
	const char *const *select;
	const char *run;        /* --run COMMAND, or NULL */
	bool keep;              /* --run: keep the temporary copy */
	/* --run from `spipfix optimize`: the fixes of the copy are those the trace shows hot (the
	 * engine's min-executions stage, with the copy's paths mapped back to PATH's) */
	const struct engine_counts *counts;
	long long min_executions;
	struct bench_run_report *result; /* when set: the report is kept here (caller frees with
					  * bench_run_report_free), not printed */
	const char *python;     /* --python: the interpreter that times the snippets */
};

/* One finding with a fix, and what its timing gave. */
struct bench_row {
	char *path;
	unsigned line, col;     /* 1-based; col counted in characters */
	char *qualname;         /* CPython's __qualname__ of the function the finding is about */
	char *codes;            /* "SPF101", or "SPF101,SPF102" when two findings share one fix */
	char *title;            /* what the fix does */
	const char *applicability; /* "safe" or "unsafe" */
	const char *strategy;   /* what is timed: "site" or "call" */
	long per_call;          /* executions per call of the enclosing function; 0 = unknown (a loop) */
	char *skip;             /* why it was not timed, or NULL */
	char *before_code, *after_code; /* the code timed, as the interpreter's ast.unparse prints it */
	char *before_src, *after_src;   /* the changed lines as written in the file and in the fixed
					 * text, shortened (bench_excerpt) */
	long long executions;   /* of the finding's own instruction in a trace; -1: no trace */
	unsigned long long loops; /* iterations per round */
	size_t rounds;
	double *before, *after; /* ns per iteration, one per round */
	double before_ns, after_ns, saved_ns, spread_ns; /* medians; spread: MAD of before-after */
	bool noise;             /* |saved| within 3 spreads */
};

struct bench_report {
	struct bench_row *rows;
	size_t nrows;
	size_t rounds;
	double round_ms;
	size_t not_fixable;     /* findings without a (selected) fix: not measured */
	int errors;             /* files that could not be read or analysed */
	char *python;           /* sys.version of the interpreter that timed (malloc'd), or NULL */
	char *interpreter;      /* its path (malloc'd), or NULL */
};

/* What --run measured: seconds per run of the command against the original and the fixed copy. */
struct bench_run_report {
	const char *command, *path;
	size_t rounds, fixes, files_changed, files_refused;
	double *original, *fixed;
	double original_s, fixed_s, original_spread_s, fixed_spread_s;
	double ratio, ratio_min, ratio_max, saved_s, saved_spread_s;
	bool noise;
	/* the same in CPU time (user + system of the command's processes): less disturbed by what
	 * else the machine runs */
	double *original_cpu, *fixed_cpu;
	double original_cpu_s, fixed_cpu_s, cpu_ratio, cpu_saved_s, cpu_saved_spread_s;
	bool output_differs;
};

/* bench_html.c: the lines of text that hold [start, end), as written, at most 6 lines of at most
 * 64 characters ("..." where cut, then how many lines were left out). malloc'd. */
char *bench_excerpt(const char *text, size_t len, size_t start, size_t end);

/* bench_run.c: the counts of a JSON trace for --trace-profile into *counts (zeroed, or counts
 * of an earlier trace, which it replaces). Returns 0, or -1 after a message on stderr. */
int bench_trace_counts(const char *path, struct engine_counts *counts);
/* The trace that bench_trace_counts loaded, freed. */
void bench_trace_counts_free(struct engine_counts *counts);
/* bench_run.c: returns the exit status (0, or 2 after a message) */
int bench_run(const struct bench_options *o, const char *path);
void bench_run_report_free(struct bench_run_report *r);

/* bench_html.c: one self-contained page (inline SVG, no scripts, no network). Returns 0 / -1. */
int bench_html_snippets(FILE *out, const struct bench_report *r);
int bench_html_run(FILE *out, const struct bench_run_report *r);
/* The same, written to `path`. Returns 0 / -1 with a message on stderr. */
int bench_html_snippets_file(const char *path, const struct bench_report *r);
int bench_html_run_file(const char *path, const struct bench_run_report *r);

#endif
