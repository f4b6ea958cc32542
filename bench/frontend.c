/* Where one cold run spends its time, stage by stage, in one process over the same files:
 * reading, tree-sitter's parse, CPython's compile (through the Python boundary: pyrt.h
 * compile_only), the first analysis
 * round (parse + compile + every pass), and the whole fix engine (safety_fix: every round).
 *
 *     find /usr/lib/python3.11 -name '*.py' -print0 | build/bench_frontend
 *     SPIPFIX_TARGET_VERSION=py312 build/bench_frontend ...   (another built version)
 *
 * Files come NUL-separated on stdin. Arguments name the stages to run (parse, compile, analyse,
 * fix, reparse-check); none runs them all; `include-tests` analyses test code too (as
 * --include-tests). The first round says how many files and bytes it compiled: a file is
 * compiled when a rule finds a candidate in it. Each stage runs over all files before the next starts;
 * figures are CPU seconds of this process (clock_gettime(CLOCK_PROCESS_CPUTIME_ID)) and MB/s.
 * Compare stages with each other within one run: the machine may be shared. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bridge.h"
#include "engine.h"
#include "syntax.h"
#include "unit.h"

struct file {
	char *path;
	char *buf;
	size_t len;
};

static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *slurp(FILE *f, size_t *len)
{
	size_t cap = 1 << 16, n = 0;
	char *b = malloc(cap + 1);
	size_t r;
	while (b && (r = fread(b + n, 1, cap - n, f)) > 0) {
		n += r;
		if (n == cap) {
			char *nb = realloc(b, cap * 2 + 1);
			if (!nb) {
				free(b);
				return NULL;
			}
			b = nb;
			cap *= 2;
		}
	}
	if (b)
		b[n] = 0;
	*len = n;
	return b;
}

static void report(const char *stage, double secs, size_t bytes, size_t nok, size_t nfiles)
{
	printf("%-34s %8.3f s %8.2f MB/s  (%zu of %zu files)\n", stage, secs, secs > 0 ? bytes / secs / 1e6 : 0.0,
	       nok, nfiles);
}

static bool want(int argc, char **argv, const char *stage)
{
	bool any = false;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "include-tests"))
			continue;
		any = true;
		if (!strcmp(argv[i], stage))
			return true;
	}
	return !any;
}

int main(int argc, char **argv)
{
	size_t listlen;
	char *list = slurp(stdin, &listlen);
	if (!list)
		return 2;
	struct file *fs = NULL;
	size_t n = 0, bytes = 0;
	double t = cpu_now();
	for (size_t off = 0; off < listlen;) {
		const char *p = list + off;
		size_t l = strlen(p);
		off += l + 1;
		if (!l)
			continue;
		FILE *f = fopen(p, "rb");
		if (!f)
			continue;
		struct file nf = {.path = strdup(p)};
		nf.buf = slurp(f, &nf.len);
		fclose(f);
		if (!nf.buf || !nf.path)
			return 2;
		struct file *nv = realloc(fs, (n + 1) * sizeof *nv);
		if (!nv)
			return 2;
		fs = nv;
		fs[n++] = nf;
		bytes += nf.len;
	}
	report("read", cpu_now() - t, bytes, n, n);
	const char *tv = getenv("SPIPFIX_TARGET_VERSION");
	if ((tv && bridge_select(bridge_parse_version(tv)) < 0) || bridge_init() < 0)
		return 2;
	const struct pyrt_ops *py = bridge_ops();

	size_t ok = 0;
	t = cpu_now();
	for (size_t i = 0; i < n && want(argc, argv, "parse"); i++) {
		TSTree *tr = syn_parse(fs[i].buf, fs[i].len);
		ok += tr != NULL;
		if (tr)
			ts_tree_delete(tr);
	}
	report("tree-sitter parse", cpu_now() - t, bytes, ok, n);

	ok = 0;
	t = cpu_now();
	for (size_t i = 0; i < n && want(argc, argv, "compile"); i++) {
		ok += py->compile_only(fs[i].buf, fs[i].path) == 0;
	}
	report("CPython compile", cpu_now() - t, bytes, ok, n);

	bool tests = false;
	for (int i = 1; i < argc; i++)
		tests |= !strcmp(argv[i], "include-tests");
	ok = 0;
	size_t nfind = 0, ncompiled = 0, bcompiled = 0, nskipped = 0, bskipped = 0;
	t = cpu_now();
	for (size_t i = 0; i < n && want(argc, argv, "analyse"); i++) {
		struct unit u;
		if (engine_analyse(&(struct engine_config){.include_tests = tests}, &u, fs[i].path, fs[i].buf, fs[i].len) == 0) {
			ok++;
			nfind += u.nfindings;
		}
		if (u.compiled) {
			ncompiled++;
			bcompiled += fs[i].len;
		}
		if (u.unanalysed) {
			nskipped++;
			bskipped += fs[i].len;
		}
		unit_free(&u);
	}
	report(tests ? "first round, test code included" : "first round (test code skipped)", cpu_now() - t, bytes,
	       ok, n);
	printf("%-34s %zu\n", "findings in the first round", nfind);
	printf("%-34s %zu files (%.1f %%), %.1f MB (%.1f %%)\n", "  compiled", ncompiled, n ? 100.0 * ncompiled / n : 0.0,
	       bcompiled / 1e6, bytes ? 100.0 * bcompiled / bytes : 0.0);
	printf("%-34s %zu files (%.1f %%), %.1f MB (%.1f %%)\n", "  test code, neither parsed nor compiled", nskipped,
	       n ? 100.0 * nskipped / n : 0.0, bskipped / 1e6, bytes ? 100.0 * bskipped / bytes : 0.0);

	ok = 0;
	size_t fixed = 0;
	t = cpu_now();
	for (size_t i = 0; i < n && want(argc, argv, "fix"); i++) {
		struct engine_config o = {.include_tests = tests};
		struct fix_result r = {0};
		struct unit u;
		if (engine_analyse(&o, &u, fs[i].path, fs[i].buf, fs[i].len) == 0 && engine_fix(&o, &u, &r) == 0) {
			ok++;
			fixed += r.text != NULL;
		}
		fix_result_free(&r);
		unit_free(&u);
	}
	report("fix engine (every round)", cpu_now() - t, bytes, ok, n);
	printf("%-34s %zu\n", "files changed", fixed);

	/* every incremental parse of a later round against a fresh parse of the same text */
	size_t differ = 0;
	ok = 0;
	t = cpu_now();
	for (size_t i = 0; i < n && want(argc, argv, "reparse-check"); i++) {
		struct engine_config o = {.check_reparse = true};
		struct fix_result r = {0};
		struct unit u;
		if (engine_analyse(&o, &u, fs[i].path, fs[i].buf, fs[i].len) == 0 && engine_fix(&o, &u, &r) == 0)
			ok++;
		else if (r.error && strstr(r.error, "incremental parse differs")) {
			differ++;
			fprintf(stderr, "%s: %s\n", fs[i].path, r.error);
		}
		fix_result_free(&r);
		unit_free(&u);
	}
	if (want(argc, argv, "reparse-check")) {
		report("fix engine, reparses checked", cpu_now() - t, bytes, ok, n);
		printf("%-34s %zu\n", "incremental parses that differ", differ);
	}

	for (size_t i = 0; i < n; i++) {
		free(fs[i].path);
		free(fs[i].buf);
	}
	free(fs);
	free(list);
	bridge_fini();
	return 0;
}
