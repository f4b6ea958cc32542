/* `spipfix optimize COMMAND PATH`: the whole loop in one command. COMMAND runs once under the
 * counter (`spipfix trace`, every Python process it starts) counting the code under PATH; the
 * findings whose own instruction ran at least --min-executions times are the hot ones, each
 * timed by `spipfix bench` (what its fix saves per execution) for an estimate; their fixes are
 * applied to a copy of PATH and COMMAND is timed against the original and the fixed copy in
 * alternation (`bench --run`'s A/B). The table shows each hot site, its executions and its
 * estimated saving, with the measured ratio and its spread; the diff of the hot fixes follows
 * (or, with --fix, is applied to PATH). */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "bridge.h"
#include "check.h"
#include "cli.h"
#include "engine.h"
#include "optimize.h"
#include "pass.h"
#include "render.h"
#include "trace.h"

/* ---- the hot findings --------------------------------------------------------------------- */

static long long lookup(void *ctx, const struct unit *u, const struct finding *f)
{
	return trace_profile_finding(ctx, u, f);
}

static int cmp_site(const void *pa, const void *pb)
{
	const struct opt_site *a = pa, *b = pb;
	if (a->executions != b->executions)
		return a->executions > b->executions ? -1 : 1;
	int c = strcmp(a->path, b->path);
	return c ? c : (a->line > b->line) - (a->line < b->line);
}

/* Analyse every Python file under path with the counts: the hot findings with a fix the engine
 * takes, and how many were cold. Returns 0 / -1. */
static int hot_sites(const char *path, const struct engine_config *ec, struct opt_report *rep)
{
	int errors = 0;
	size_t nfiles;
	char *paths[] = {(char *)path};
	struct options dopt = {.mode = MODE_FIX};
	char **files = discover(paths, 1, &dopt, &nfiles, &errors, NULL);
	for (size_t i = 0; i < nfiles; i++) {
		size_t len;
		char *buf = read_whole_file(files[i], &len, NULL);
		struct unit u;
		if (!buf || engine_analyse(ec, &u, files[i], buf, len) < 0) {
			if (buf)
				unit_free(&u);
			free(buf);
			continue;
		}
		for (size_t k = 0; k < u.nfindings; k++) {
			const struct finding *f = &u.findings[k];
			if (!f->nedits)
				continue;
			if (!engine_wants(f, ec->unsafe)) {
				rep->cold += f->reason && !strncmp(f->reason, "cold", 4);
				continue;
			}
			rep->sites = realloc(rep->sites, (rep->nsites + 1) * sizeof *rep->sites);
			if (!rep->sites) {
				fputs("error: out of memory\n", stderr);
				exit(2);
			}
			struct opt_site *s = &rep->sites[rep->nsites++];
			memset(s, 0, sizeof *s);
			s->path = xstrdup(files[i]);
			s->line = f->row + 1;
			s->col = render_char_column(u.src, u.len, f->row, f->col);
			s->code = f->pass->code;
			s->qualname = xstrdup(f->code && f->code->qualname ? f->code->qualname : "");
			s->message = xstrdup(f->message);
			s->executions = f->executions;
			s->saved_ns = NAN;
		}
		unit_free(&u);
		free(buf);
	}
	files_free(files, nfiles);
	if (rep->nsites > 1)
		qsort(rep->sites, rep->nsites, sizeof *rep->sites, cmp_site);
	return errors ? -1 : 0;
}

/* ---- what each hot fix saves per execution: `spipfix bench` on the files that hold them ------ */

static char *self_exe(void)
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
	if (n <= 0)
		return NULL;
	buf[n] = 0;
	return xstrdup(buf);
}

/* Run argv, its stdout into a malloc'd string (*out), stderr passed through. Returns the wait
 * status or -1. */
static int capture(char *const *argv, char **out)
{
	*out = NULL;
	int fd[2];
	if (pipe(fd) < 0)
		return -1;
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0) {
		close(fd[0]);
		close(fd[1]);
		return -1;
	}
	if (pid == 0) {
		close(fd[0]);
		dup2(fd[1], 1);
		close(fd[1]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(fd[1]);
	size_t len = 0, cap = 1 << 16;
	char *buf = malloc(cap);
	ssize_t n;
	while (buf && (n = read(fd[0], buf + len, cap - len - 1)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		len += (size_t)n;
		if (cap - len < 2) {
			char *nb = realloc(buf, cap *= 2);
			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
		}
	}
	close(fd[0]);
	if (buf)
		buf[len] = 0;
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR) {
			free(buf);
			return -1;
		}
	*out = buf;
	return st;
}

static void measure_sites(const struct opt_options *o, struct opt_report *rep)
{
	if (!rep->nsites)
		return;
	char *exe = self_exe();
	char **argv = xcalloc(rep->nsites + 16, sizeof *argv);
	int n = 0;
	argv[n++] = exe;
	argv[n++] = "bench";
	argv[n++] = "--format";
	argv[n++] = "json";
	if (o->unsafe)
		argv[n++] = "--unsafe-fixes";
	for (size_t i = 0; i < rep->nsites; i++) {
		bool dup = false;
		for (size_t k = 0; k < i && !dup; k++)
			dup = !strcmp(rep->sites[k].path, rep->sites[i].path);
		if (!dup)
			argv[n++] = rep->sites[i].path;
	}
	char *out = NULL;
	int st = exe ? capture(argv, &out) : -1;
	json_error_t je;
	json_t *root = out && st >= 0 && WIFEXITED(st) ? json_loads(out, 0, &je) : NULL;
	json_t *rows = json_object_get(root, "results");
	size_t i;
	json_t *r;
	json_array_foreach(rows, i, r)
	{
		const char *file = json_string_value(json_object_get(r, "filename"));
		json_int_t row = json_integer_value(json_object_get(r, "row"));
		json_int_t col = json_integer_value(json_object_get(r, "column"));
		const char *codes = json_string_value(json_object_get(r, "code"));
		json_t *saved = json_object_get(r, "saved_ns"), *spread = json_object_get(r, "spread_ns");
		if (!file || !codes || !json_is_number(saved))
			continue;
		for (size_t k = 0; k < rep->nsites; k++) {
			struct opt_site *s = &rep->sites[k];
			if (strcmp(s->path, file) || s->line != (unsigned)row || !strstr(codes, s->code))
				continue;
			/* two rows on one line: the one at the site's column */
			if (!isnan(s->saved_ns) && s->col != (unsigned)col)
				continue;
			s->saved_ns = json_number_value(saved);
			const char *bsrc = json_string_value(json_object_get(r, "before_source"));
			const char *asrc = json_string_value(json_object_get(r, "after_source"));
			free(s->before_src);
			free(s->after_src);
			s->before_src = bsrc ? xstrdup(bsrc) : NULL;
			s->after_src = asrc ? xstrdup(asrc) : NULL;
			s->spread_ns = json_is_number(spread) ? json_number_value(spread) : 0;
			s->noise = json_is_true(json_object_get(r, "within_noise"));
		}
	}
	if (!root)
		fprintf(stderr, "warning: `spipfix bench` did not time the hot sites; the estimate uses the per-rule table\n");
	json_decref(root);
	free(out);
	free(argv);
	free(exe);
}

/* A coarse saving per execution by rule, for a site bench could not time: medians of `spipfix
 * bench` on bench/cases/ under /usr/bin/python3 (Python 3.11.2; see the README's table). */
static double rule_saving_ns(const char *code)
{
	if (!strcmp(code, "SPF101") || !strcmp(code, "SPF102"))
		return 60;
	if (!strcmp(code, "SPF201"))
		return 250;
	if (!strcmp(code, "SPF301"))
		return 1000;
	return 0;
}

/* ---- the report ------------------------------------------------------------------------------ */

static void report_free(struct opt_report *rep)
{
	for (size_t i = 0; i < rep->nsites; i++) {
		free(rep->sites[i].path);
		free(rep->sites[i].qualname);
		free(rep->sites[i].message);
		free(rep->sites[i].before_src);
		free(rep->sites[i].after_src);
	}
	free(rep->sites);
	bench_run_report_free(&rep->ab);
}

static void group(char *buf, size_t cap, long long v)
{
	char tmp[32];
	snprintf(tmp, sizeof tmp, "%lld", v);
	size_t n = strlen(tmp), k = 0;
	for (size_t i = 0; i < n && k + 2 < cap; i++) {
		buf[k++] = tmp[i];
		if ((n - i - 1) % 3 == 0 && i + 1 < n)
			buf[k++] = ',';
	}
	buf[k] = 0;
}

static void report_text(FILE *out, const struct opt_options *o, const struct opt_report *rep)
{
	fprintf(out, "command    %s\n", o->command);
	fprintf(out, "traced     Python %s, %d process%s; %lld instructions ran in %s\n", rep->python,
		rep->processes, rep->processes == 1 ? "" : "es", rep->instructions, o->path);
	fprintf(out, "hot        %zu finding%s with a fix ran at least %lld times; %zu cold (fix withheld)\n\n",
		rep->nsites, rep->nsites == 1 ? "" : "s", o->min_executions, rep->cold);
	size_t w = strlen("site");
	char **loc = xcalloc(rep->nsites + 1, sizeof *loc);
	for (size_t i = 0; i < rep->nsites; i++) {
		const struct opt_site *s = &rep->sites[i];
		loc[i] = xprintf("%s:%u:%u %s", s->path, s->line, s->col, s->qualname);
		w = strlen(loc[i]) > w ? strlen(loc[i]) : w;
	}
	fprintf(out, "%-*s  %-6s  %14s  %14s  %14s\n", (int)w, "site", "code", "executions", "saved / exec",
		"est. saving");
	for (size_t i = 0; i < rep->nsites; i++) {
		const struct opt_site *s = &rep->sites[i];
		char ex[32], per[40], est[40];
		group(ex, sizeof ex, s->executions);
		snprintf(per, sizeof per, "%.1f ns%s", s->per_exec_ns, s->measured ? (s->noise ? " ~" : "") : " *");
		snprintf(est, sizeof est, "%.2f ms", s->est_ms);
		fprintf(out, "%-*s  %-6s  %14s  %14s  %14s\n", (int)w, loc[i], s->code, ex, per, est);
		free(loc[i]);
	}
	free(loc);
	fprintf(out, "%-*s  %-6s  %14s  %14s  %14.2f ms per run of the command\n", (int)w, "total", "", "", "",
		rep->est_ms);
	fputs("\nsaved / exec: what `spipfix bench` measured for the site (~ within its noise); * the per-rule table "
	      "(the site could not be timed)\n",
	      out);
	if (rep->ab_done) {
		const struct bench_run_report *r = &rep->ab;
		fprintf(out, "\nA/B        %zu %s applied in %zu %s; medians of %zu alternating rounds\n", r->fixes,
			r->fixes == 1 ? "fix" : "fixes", r->files_changed, r->files_changed == 1 ? "file" : "files",
			r->rounds);
		fprintf(out, "original   %9.1f ms  +- %.1f ms\n", r->original_s * 1e3, r->original_spread_s * 1e3);
		fprintf(out, "fixed      %9.1f ms  +- %.1f ms\n", r->fixed_s * 1e3, r->fixed_spread_s * 1e3);
		fprintf(out, "ratio      %9.3f     fixed / original; per round %.3f .. %.3f\n", r->ratio, r->ratio_min,
			r->ratio_max);
		fprintf(out, "saved      %9.1f ms  +- %.1f ms per run%s\n", r->saved_s * 1e3, r->saved_spread_s * 1e3,
			r->noise ? "  (within the noise)" : "");
		fprintf(out, "cpu        %9.1f ms -> %.1f ms (ratio %.3f), saved %.1f ms +- %.1f ms\n",
			r->original_cpu_s * 1e3, r->fixed_cpu_s * 1e3, r->cpu_ratio, r->cpu_saved_s * 1e3,
			r->cpu_saved_spread_s * 1e3);
		fprintf(out, "estimated  %9.1f ms  (estimate / cpu saved: %s)\n", rep->est_ms, rep->est_vs_measured);
		if (r->output_differs)
			fputs("warning: the command printed something different against the fixed copy\n", out);
	}
}

static void report_json(FILE *out, const struct opt_options *o, const struct opt_report *rep)
{
	json_t *root = json_object(), *a = json_array();
	json_object_set_new(root, "command", json_string(o->command));
	json_object_set_new(root, "path", json_string(o->path));
	json_object_set_new(root, "python", json_string(rep->python));
	json_object_set_new(root, "processes", json_integer(rep->processes));
	json_object_set_new(root, "min_executions", json_integer(o->min_executions));
	json_object_set_new(root, "cold", json_integer((json_int_t)rep->cold));
	for (size_t i = 0; i < rep->nsites; i++) {
		const struct opt_site *s = &rep->sites[i];
		json_array_append_new(a, json_pack("{s:s,s:i,s:i,s:s,s:s,s:I,s:f,s:b,s:f}", "filename", s->path, "row",
						   (int)s->line, "column", (int)s->col, "code", s->code, "qualname",
						   s->qualname, "executions", (json_int_t)s->executions, "saved_ns_per_execution",
						   s->per_exec_ns, "measured", s->measured, "estimated_saving_ms", s->est_ms));
	}
	json_object_set_new(root, "sites", a);
	json_object_set_new(root, "estimated_saving_ms", json_real(rep->est_ms));
	if (rep->ab_done) {
		const struct bench_run_report *r = &rep->ab;
		json_t *ab = json_object();
		json_object_set_new(ab, "rounds", json_integer((json_int_t)r->rounds));
		json_object_set_new(ab, "fixes_applied", json_integer((json_int_t)r->fixes));
		json_object_set_new(ab, "original_s", json_real(r->original_s));
		json_object_set_new(ab, "original_spread_s", json_real(r->original_spread_s));
		json_object_set_new(ab, "fixed_s", json_real(r->fixed_s));
		json_object_set_new(ab, "fixed_spread_s", json_real(r->fixed_spread_s));
		json_object_set_new(ab, "ratio", json_real(r->ratio));
		json_object_set_new(ab, "ratio_min", json_real(r->ratio_min));
		json_object_set_new(ab, "ratio_max", json_real(r->ratio_max));
		json_object_set_new(ab, "saved_s", json_real(r->saved_s));
		json_object_set_new(ab, "saved_spread_s", json_real(r->saved_spread_s));
		json_object_set_new(ab, "within_noise", json_boolean(r->noise));
		json_object_set_new(ab, "output_differs", json_boolean(r->output_differs));
		json_object_set_new(ab, "cpu_original_s", json_real(r->original_cpu_s));
		json_object_set_new(ab, "cpu_fixed_s", json_real(r->fixed_cpu_s));
		json_object_set_new(ab, "cpu_ratio", json_real(r->cpu_ratio));
		json_object_set_new(ab, "cpu_saved_s", json_real(r->cpu_saved_s));
		json_object_set_new(ab, "cpu_saved_spread_s", json_real(r->cpu_saved_spread_s));
		json_t *ro = json_array(), *rf = json_array();
		for (size_t i = 0; i < r->rounds; i++) {
			json_array_append_new(ro, json_real(r->original[i]));
			json_array_append_new(rf, json_real(r->fixed[i]));
		}
		json_object_set_new(ab, "original_rounds_s", ro);
		json_object_set_new(ab, "fixed_rounds_s", rf);
		json_object_set_new(root, "ab", ab);
	}
	json_dumpf(root, out, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
	fputc('\n', out);
	json_decref(root);
}

/* ---- the subcommand ------------------------------------------------------------------------- */

static void usage(FILE *out)
{
	fputs("Usage: spipfix optimize [OPTIONS] COMMAND PATH\n"
	      "\n"
	      "Fix what a workload runs often, and measure what that does to the workload. COMMAND (a /bin/sh\n"
	      "command: a script, a test suite, a benchmark) runs once with the `spipfix trace` counter in\n"
	      "every Python process it starts (the interpreter it names must be one spipfix built a counter\n"
	      "for), counting the code under PATH. A finding is hot when its own instruction ran at least\n"
	      "--min-executions times (the MAKE_FUNCTION of a def, the call of a constant call, the calls of a\n"
	      "memoisable function). Each hot site is timed by `spipfix bench` (saved ns per execution), and\n"
	      "executions x saved is its estimated saving. Then PATH is copied twice, the hot fixes are\n"
	      "applied to one copy, and COMMAND is timed against both in alternation, as `spipfix bench --run`\n"
	      "does (PYTHONPATH puts the copy first; $SPIPFIX_TREE names it). The table shows each hot site,\n"
	      "its executions and estimated saving, and the measured ratio with its spread; then the diff of\n"
	      "the hot fixes, or with --fix they are applied to PATH.\n"
	      "\n"
	      "Options:\n"
	      "      --min-executions N   A finding is hot from N executions (default 1000)\n"
	      "  -r, --rounds N           Alternating A/B rounds (default 5; 0: no A/B)\n"
	      "      --fix                Apply the hot fixes to PATH (default: print their diff)\n"
	      "      --unsafe-fixes       Also the fixes that may change behaviour\n"
	      "      --json               The report as JSON (the diff is not printed)\n"
	      "      --html FILE          Also write the report as a self-contained HTML page\n"
	      "      --trace FILE         Use this trace (`spipfix trace --format json`) instead of running COMMAND traced\n"
	      "      --keep               Keep the temporary copies and say where they are\n"
	      "  -h, --help               Print this help\n"
	      "\n"
	      "Example:\n"
	      "  spipfix optimize '/usr/bin/python3 bench/workloads/idna_encode.py' /usr/lib/python3/dist-packages/idna\n"
	      "\n"
	      "Exit status: 0 done, 1 the diff is not empty (without --fix), 2 usage error or a failing command.\n",
	      out);
}

int optimize_main(int argc, char **argv)
{
	enum { OPT_MIN = 256, OPT_FIX, OPT_UNSAFE, OPT_JSON, OPT_HTML, OPT_KEEP, OPT_TRACE };
	static const struct option longopts[] = {
		{"min-executions", required_argument, NULL, OPT_MIN},
		{"rounds", required_argument, NULL, 'r'},
		{"fix", no_argument, NULL, OPT_FIX},
		{"unsafe-fixes", no_argument, NULL, OPT_UNSAFE},
		{"json", no_argument, NULL, OPT_JSON},
		{"html", required_argument, NULL, OPT_HTML},
		{"trace", required_argument, NULL, OPT_TRACE},
		{"keep", no_argument, NULL, OPT_KEEP},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct opt_options o = {.min_executions = 1000, .rounds = 5};
	const char *trace_file = NULL;
	int c, rc = 2;
	optind = 1;
	while ((c = getopt_long(argc, argv, "r:h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_MIN:
		case 'r': {
			char *end;
			errno = 0;
			long long v = strtoll(optarg, &end, 10);
			if (errno || *end || end == optarg || v < 0 || (c == 'r' && v > 1000)) {
				fprintf(stderr, "error: %s: expected a number >= 0%s, got `%s`\n",
					c == 'r' ? "--rounds" : "--min-executions", c == 'r' ? " (at most 1000)" : "", optarg);
				return 2;
			}
			if (c == 'r')
				o.rounds = (size_t)v;
			else
				o.min_executions = v;
			break;
		}
		case OPT_FIX: o.fix = true; break;
		case OPT_UNSAFE: o.unsafe = true; break;
		case OPT_JSON: o.json = true; break;
		case OPT_HTML: o.html = optarg; break;
		case OPT_TRACE: trace_file = optarg; break;
		case OPT_KEEP: o.keep = true; break;
		case 'h': usage(stdout); return 0;
		default: fputs("Try 'spipfix optimize --help' for more information.\n", stderr); return 2;
		}
	}
	if (argc - optind != 2) {
		fputs("error: expected COMMAND and PATH\nUsage: spipfix optimize [OPTIONS] COMMAND PATH\n", stderr);
		return 2;
	}
	o.command = argv[optind];
	o.path = argv[optind + 1];
	char *real = realpath(o.path, NULL);
	struct stat st;
	if (!real || stat(real, &st) < 0) {
		fprintf(stderr, "error: %s: %s\n", o.path, strerror(errno));
		free(real);
		return 2;
	}
	struct opt_report rep = {0};
	char *tmp_trace = NULL;
	struct trace_profile *tp = NULL;
	/* 1. the trace: COMMAND once, counting the files under PATH */
	if (!trace_file) {
		char *pat = S_ISDIR(st.st_mode) ? xprintf("%s/*", real) : xstrdup(real);
		const char *pats[] = {pat};
		struct trace_request rq = {.shell = o.command, .patterns = pats, .npatterns = 1, .children = true,
					  .stdout_to_stderr = true};
		struct trace_result *tr = NULL;
		int ws = 0;
		fprintf(stderr, "spipfix optimize: tracing `%s`\n", o.command);
		int trc = trace_run(&rq, &tr, &ws);
		if (trc == 0 && (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0)) {
			fprintf(stderr, "error: the command failed under the trace (%s %d)\n",
				WIFEXITED(ws) ? "exit status" : "signal", WIFEXITED(ws) ? WEXITSTATUS(ws) : WTERMSIG(ws));
			trc = -1;
		}
		if (trc == 0 && !(tmp_trace = trace_result_tempfile(tr, &rq))) {
			fputs("error: cannot write the trace to a temporary file\n", stderr);
			trc = -1;
		}
		trace_result_free(tr);
		free(pat);
		if (trc < 0)
			goto out;
		trace_file = tmp_trace;
	}
	char *err = NULL;
	if (!(tp = trace_profile_load(trace_file, &err))) {
		fprintf(stderr, "error: %s\n", err ? err : "out of memory");
		free(err);
		goto out;
	}
	trace_profile_summary(tp, rep.python, sizeof rep.python, &rep.processes, &rep.instructions);
	/* 2. the hot findings, and what bench measures for each */
	struct engine_counts counts = {lookup, tp};
	struct engine_config ec = {.unsafe = o.unsafe, .counts = &counts, .min_executions = o.min_executions};
	if (hot_sites(real, &ec, &rep) < 0)
		fprintf(stderr, "warning: some files under %s could not be read\n", o.path);
	measure_sites(&o, &rep);
	for (size_t i = 0; i < rep.nsites; i++) {
		struct opt_site *s = &rep.sites[i];
		s->measured = !isnan(s->saved_ns);
		s->per_exec_ns = s->measured ? s->saved_ns : rule_saving_ns(s->code);
		s->est_ms = (double)s->executions * s->per_exec_ns / 1e6;
		rep.est_ms += s->est_ms;
	}
	/* 3. the A/B of the hot fixes */
	if (o.rounds && rep.nsites) {
		struct bench_options bo = {.rounds = o.rounds, .run = o.command, .unsafe_fixes = o.unsafe, .keep = o.keep,
					   .counts = &counts, .min_executions = o.min_executions, .result = &rep.ab};
		fprintf(stderr, "spipfix optimize: timing `%s` against %s and its fixed copy (%zu rounds)\n", o.command,
			o.path, o.rounds);
		if (bench_run(&bo, real) != 0)
			goto out;
		rep.ab_done = true;
		/* against the CPU time saved: what the estimate predicts, less disturbed by the load */
		double measured = rep.ab.cpu_saved_s * 1e3;
		if (measured > 0 && rep.est_ms > 0)
			snprintf(rep.est_vs_measured, sizeof rep.est_vs_measured, "%.2f", rep.est_ms / measured);
		else
			snprintf(rep.est_vs_measured, sizeof rep.est_vs_measured, "n/a: no CPU time measured saved");
	}
	if (o.json)
		report_json(stdout, &o, &rep);
	else
		report_text(stdout, &o, &rep);
	if (o.html && optimize_html_file(o.html, &o, &rep) < 0)
		goto out;
	fflush(stdout);
	/* 4. the diff of the hot fixes, or the fixes themselves: check with the same trace and
	 * threshold, no configuration (as the copy got them) */
	char min[32];
	snprintf(min, sizeof min, "%lld", o.min_executions);
	char *cargv[] = {"check", o.fix ? "--fix" : "--diff", "--isolated", "--no-cache", "--silent", "--trace-profile",
			 (char *)trace_file, "--min-executions", min, o.unsafe ? "--unsafe-fixes" : "--no-unsafe-fixes",
			 real, NULL};
	if (!o.json) {
		if (!o.fix && rep.nsites)
			fputs("\n", stdout);
		fflush(stdout);
		int crc = check_main((int)(sizeof cargv / sizeof *cargv) - 1, cargv);
		rc = crc == 2 ? 2 : o.fix ? 0 : crc;
	} else {
		rc = 0;
	}
out:
	trace_profile_free(tp);
	if (tmp_trace) {
		unlink(tmp_trace);
		free(tmp_trace);
	}
	report_free(&rep);
	free(real);
	return rc;
}
