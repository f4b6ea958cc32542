/* `spipfix optimize`: trace a workload, fix what it runs often, A/B it (optimize.c); its HTML
 * page is drawn by cmd/bench/bench_html.c with the other reports. */
#ifndef SPIPFIX_OPTIMIZE_H
#define SPIPFIX_OPTIMIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "bench.h"

struct opt_options {
	const char *command, *path;
	long long min_executions;
	size_t rounds;
	bool fix, unsafe, json, keep;
	const char *html;
};

/* One hot finding with a fix. */
struct opt_site {
	char *path;
	unsigned line, col;    /* 1-based; col in characters */
	const char *code;
	char *qualname, *message;
	char *before_src, *after_src; /* the site as written and fixed (from bench), or NULL */
	long long executions;  /* of the finding's own instruction */
	double saved_ns, spread_ns; /* what bench measured per execution (NAN: not timed) */
	bool noise, measured;
	double per_exec_ns;    /* measured, else the per-rule table */
	double est_ms;         /* executions x per_exec_ns */
};

struct opt_report {
	char python[32];
	int processes;
	long long instructions;
	struct opt_site *sites; /* most executed first */
	size_t nsites, cold;
	double est_ms;
	bool ab_done;
	struct bench_run_report ab;
	char est_vs_measured[64];
};

/* bench_html.c: the page of the loop. Returns 0 / -1 with a message on stderr. */
int optimize_html(FILE *out, const struct opt_options *o, const struct opt_report *r);
int optimize_html_file(const char *path, const struct opt_options *o, const struct opt_report *r);

#endif
