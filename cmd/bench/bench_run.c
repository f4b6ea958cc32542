/* spipfix bench --run COMMAND PATH: what all safe fixes do to a real workload. PATH is copied to
 * a temporary folder, the copy gets the fix engine's safe fixes (engine_fix, as --fix would apply
 * them), and COMMAND is timed against a pristine copy and the fixed one in alternation. The
 * original tree is only read. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <fts.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "bench_stats.h"
#include "check.h"
#include "engine.h"
#include "trace.h"

/* ---- copying and removing a tree ----------------------------------------------------------- */

static int copy_file(const char *from, const char *to, mode_t mode)
{
	int in = open(from, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -1;
	int out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, (mode & 0777) | 0600);
	if (out < 0) {
		close(in);
		return -1;
	}
	char buf[1 << 16];
	ssize_t n;
	int rc = 0;
	while ((n = read(in, buf, sizeof buf)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || write(out, buf, (size_t)n) != n) {
			rc = -1;
			break;
		}
	}
	close(in);
	return close(out) == 0 ? rc : -1;
}

/* caches and version control: nothing a workload imports, and possibly large */
static bool skipped_dir(const char *name)
{
	static const char *const skip[] = {"__pycache__", ".git", ".hg", ".svn", ".tox", ".nox", ".mypy_cache",
					   ".pytest_cache", ".spipfix_cache", "node_modules"};
	for (size_t i = 0; i < sizeof skip / sizeof *skip; i++)
		if (!strcmp(name, skip[i]))
			return true;
	return false;
}

/* One entry of the walk of `from`, made at the same place under `to`: folders, symbolic links
 * (as links) and regular files; other kinds are left out. Returns 0 / -1 after a message. */
static int copy_entry(FTS *fts, FTSENT *e, const char *from, const char *to)
{
	if (e->fts_info == FTS_D && e->fts_level > FTS_ROOTLEVEL && skipped_dir(e->fts_name)) {
		fts_set(fts, e, FTS_SKIP);
		return 0;
	}
	char *dst = xprintf("%s%s", to, e->fts_path + strlen(from));
	int rc = 0;
	switch (e->fts_info) {
	case FTS_D: rc = mkdir(dst, (e->fts_statp->st_mode & 0777) | 0700); break;
	case FTS_SL:
	case FTS_SLNONE: {
		char target[4096];
		ssize_t n = readlink(e->fts_path, target, sizeof target - 1);
		if (n >= 0) {
			target[n] = 0;
			rc = symlink(target, dst);
		} else {
			rc = -1;
		}
		break;
	}
	case FTS_F: rc = copy_file(e->fts_path, dst, e->fts_statp->st_mode); break;
	case FTS_DNR:
	case FTS_NS:
	case FTS_ERR:
		errno = e->fts_errno;
		rc = -1;
		break;
	default: break; /* a folder left (FTS_DP), a device, a fifo, a socket */
	}
	if (rc < 0)
		fprintf(stderr, "error: cannot copy %s to %s: %s\n", e->fts_path, dst, strerror(errno));
	free(dst);
	return rc;
}

/* Copy the file or folder `from` to `to`, which does not exist yet. Returns 0 / -1. */
static int copy_tree(const char *from, const char *to)
{
	struct stat st;
	if (lstat(from, &st) < 0)
		return -1;
	if (!S_ISDIR(st.st_mode))
		return copy_file(from, to, st.st_mode);
	char *roots[] = {(char *)from, NULL};
	FTS *fts = fts_open(roots, FTS_PHYSICAL | FTS_NOCHDIR, NULL);
	if (!fts)
		return -1;
	int errors = 0;
	FTSENT *e;
	errno = 0;
	while ((e = fts_read(fts)))
		if (copy_entry(fts, e, from, to) < 0)
			errors++;
	if (errno) /* the walk itself failed */
		errors++;
	fts_close(fts);
	return errors ? -1 : 0;
}

static void remove_tree(const char *path)
{
	char *roots[] = {(char *)path, NULL};
	FTS *fts = fts_open(roots, FTS_PHYSICAL | FTS_NOCHDIR, NULL);
	if (!fts)
		return;
	for (FTSENT *e; (e = fts_read(fts));)
		if (e->fts_info == FTS_DP)
			rmdir(e->fts_path);
		else if (e->fts_info != FTS_D)
			unlink(e->fts_path);
	fts_close(fts);
}

/* ---- fixing the copy --------------------------------------------------------------------- */

/* The counts of the original tree for a file of the copy: its path under `orig` instead of
 * under `copy`. */
struct mapped_counts {
	const struct engine_counts *inner;
	const char *copy, *orig;
};

static long long mapped_lookup(void *ctx, const struct unit *u, const struct finding *f)
{
	const struct mapped_counts *m = ctx;
	size_t n = strlen(m->copy);
	if (strncmp(u->path, m->copy, n) != 0)
		return m->inner->lookup(m->inner->ctx, u, f);
	char *path = xprintf("%s%s", m->orig, u->path + n);
	struct unit v = *u; /* the same unit under its original name */
	v.path = path;
	long long r = m->inner->lookup(m->inner->ctx, &v, f);
	free(path);
	return r;
}

/* Apply the safe (or, with --unsafe-fixes, all) fixes to every Python file under `root`, which
 * is the temporary copy of `orig`. Returns 0 / -1. */
static int fix_copy(const struct bench_options *o, char *root, const char *orig, struct bench_run_report *rep)
{
	int errors = 0;
	size_t nfiles;
	char *paths[] = {root};
	struct options dopt = {.mode = MODE_FIX}; /* the default exclusions, no configuration */
	char **files = discover(paths, 1, &dopt, &nfiles, &errors, NULL);
	struct mapped_counts mc = {o->counts, root, orig};
	struct engine_counts counts = {mapped_lookup, &mc};
	struct engine_config ec = {.select = o->select, .unsafe = o->unsafe_fixes, .counts = o->counts ? &counts : NULL,
				   .min_executions = o->min_executions};
	for (size_t i = 0; i < nfiles; i++) {
		size_t len;
		char *buf = read_whole_file(files[i], &len, NULL);
		struct unit u;
		struct fix_result r = {0};
		if (!buf || engine_analyse(&ec, &u, files[i], buf, len) < 0) {
			if (buf)
				unit_free(&u);
			free(buf);
			continue; /* left as it is: the same in both trees */
		}
		if (engine_fix(&ec, &u, &r) < 0) {
			if (r.refused) {
				fprintf(stderr, "note: %s: %s; left unfixed in the copy\n", files[i], r.error);
				rep->files_refused++;
			}
		} else if (r.text) {
			struct stat st;
			int fd = lstat(files[i], &st) == 0 && S_ISREG(st.st_mode)
					 ? open(files[i], O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC)
					 : -1;
			bool ok = fd >= 0 && write(fd, r.text, r.len) == (ssize_t)r.len;
			if (fd >= 0)
				ok = close(fd) == 0 && ok;
			if (ok) {
				rep->fixes += r.applied;
				rep->files_changed++;
			} else {
				fprintf(stderr, "error: cannot write the fixed copy %s: %s\n", files[i], strerror(errno));
				errors++;
			}
		}
		fix_result_free(&r);
		unit_free(&u);
		free(buf);
	}
	files_free(files, nfiles);
	return errors ? -1 : 0;
}

/* ---- running the command ----------------------------------------------------------------- */

struct side_env {
	const char *name;     /* "original" or "fixed" */
	char *tree;           /* the tree under test ($SPIPFIX_TREE) */
	char *pythonpath;     /* the folder to put first on PYTHONPATH */
	char *pycache;        /* PYTHONPYCACHEPREFIX */
	char *out, *err;      /* captured stdout and stderr of the last run */
};

/* Run the command once for one side. Returns its wait status (or -1), wall seconds in *secs and
 * the CPU seconds of its processes (user + system) in *cpu. */
static int run_once(const char *command, const char *cwd, const struct side_env *s, double *secs, double *cpu)
{
	fflush(stdout);
	fflush(stderr);
	double t0 = cli_now();
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		const char *old = getenv("PYTHONPATH");
		char *pp = old && *old ? xprintf("%s:%s", s->pythonpath, old) : xprintf("%s", s->pythonpath);
		setenv("PYTHONPATH", pp, 1);
		setenv("PYTHONPYCACHEPREFIX", s->pycache, 1);
		setenv("SPIPFIX_TREE", s->tree, 1);
		setenv("SPIPFIX_BENCH_SIDE", s->name, 1);
		char here[4096];
		if (getcwd(here, sizeof here))
			setenv("SPIPFIX_CWD", here, 1);
		int out = open(s->out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		int err = open(s->err, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (out < 0 || err < 0 || in < 0 || chdir(cwd) < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 ||
		    dup2(err, 2) < 0)
			_exit(126);
		execl("/bin/sh", "sh", "-c", command, (char *)NULL);
		_exit(127);
	}
	int status;
	struct rusage ru;
	while (wait4(pid, &status, 0, &ru) < 0)
		if (errno != EINTR)
			return -1;
	*secs = cli_now() - t0;
	*cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	       (double)ru.ru_stime.tv_usec / 1e6;
	return status;
}

/* The last lines of a captured stream, on stderr. */
static void show_tail(const char *path)
{
	size_t len;
	char *buf = read_whole_file(path, &len, NULL);
	if (!buf)
		return;
	size_t from = len, lines = 0;
	while (from > 0 && lines < 15)
		if (buf[--from] == '\n' && from + 1 < len)
			lines++;
	bool bol = true;
	for (const char *p = buf + from + (from > 0); *p; p++) {
		if (bol)
			fputs("  | ", stderr);
		fputc(*p, stderr);
		bol = *p == '\n';
	}
	if (!bol)
		fputc('\n', stderr);
	free(buf);
}

static bool same_file(const char *a, const char *b, size_t *line)
{
	size_t la, lb;
	char *x = read_whole_file(a, &la, NULL), *y = read_whole_file(b, &lb, NULL);
	bool same = x && y && la == lb && !memcmp(x, y, la);
	*line = 1;
	for (size_t i = 0; x && y && !same && i < la && i < lb && x[i] == y[i]; i++)
		*line += x[i] == '\n';
	free(x);
	free(y);
	return same;
}

static bool failed(int status) { return status < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0; }

static void describe_failure(const struct side_env *s, int status)
{
	if (status >= 0 && WIFEXITED(status))
		fprintf(stderr, "error: the command fails against the %s tree (exit status %d):\n", s->name,
			WEXITSTATUS(status));
	else if (status >= 0 && WIFSIGNALED(status))
		fprintf(stderr, "error: the command fails against the %s tree (signal %d):\n", s->name, WTERMSIG(status));
	else
		fprintf(stderr, "error: cannot run the command: %s\n", strerror(errno));
	show_tail(s->err);
}

/* ---- report ------------------------------------------------------------------------------ */

static void report_text(FILE *out, const struct bench_run_report *r)
{
	fprintf(out, "command   %s\n", r->command);
	fprintf(out, "tree      %s (%zu %s applied in %zu %s", r->path, r->fixes, r->fixes == 1 ? "fix" : "fixes",
		r->files_changed, r->files_changed == 1 ? "file" : "files");
	if (r->files_refused)
		fprintf(out, "; %zu %s left unfixed", r->files_refused, r->files_refused == 1 ? "file" : "files");
	fputs(")\n", out);
	fprintf(out, "original  %9.1f ms  +- %.1f ms\n", r->original_s * 1e3, r->original_spread_s * 1e3);
	fprintf(out, "fixed     %9.1f ms  +- %.1f ms\n", r->fixed_s * 1e3, r->fixed_spread_s * 1e3);
	fprintf(out, "ratio     %9.3f     fixed / original; per round %.3f .. %.3f\n", r->ratio, r->ratio_min,
		r->ratio_max);
	fprintf(out, "saved     %9.1f ms  +- %.1f ms per run%s\n", r->saved_s * 1e3, r->saved_spread_s * 1e3,
		r->noise ? "  (within the noise)" : "");
	fprintf(out, "cpu       %9.1f ms -> %.1f ms (ratio %.3f), saved %.1f ms +- %.1f ms\n", r->original_cpu_s * 1e3,
		r->fixed_cpu_s * 1e3, r->cpu_ratio, r->cpu_saved_s * 1e3, r->cpu_saved_spread_s * 1e3);
	fprintf(out,
		"\nMedians of %zu alternating rounds of wall time, after one untimed run of each side; +- is the median "
		"absolute deviation (for saved: of the paired differences); within the noise: the 95%% interval of the median paired difference (sign test; the range below 6 rounds) "
		"holds 0.\n",
		r->rounds);
	if (r->output_differs)
		fputs("warning: the command printed something different against the fixed copy (see stderr)\n", out);
}

static void report_json(FILE *out, const struct bench_run_report *r)
{
	json_t *root = json_object();
	json_object_set_new(root, "mode", json_string("run"));
	json_object_set_new(root, "command", json_string(r->command));
	json_object_set_new(root, "path", json_string(r->path));
	json_object_set_new(root, "rounds", json_integer((json_int_t)r->rounds));
	json_object_set_new(root, "fixes_applied", json_integer((json_int_t)r->fixes));
	json_object_set_new(root, "files_changed", json_integer((json_int_t)r->files_changed));
	json_object_set_new(root, "files_refused", json_integer((json_int_t)r->files_refused));
	for (int k = 0; k < 2; k++) {
		json_t *side = json_object();
		const double *v = k ? r->fixed : r->original;
		json_object_set_new(side, "median_s", json_real(k ? r->fixed_s : r->original_s));
		json_object_set_new(side, "spread_s", json_real(k ? r->fixed_spread_s : r->original_spread_s));
		json_t *a = json_array();
		for (size_t i = 0; i < r->rounds; i++)
			json_array_append_new(a, json_real(v[i]));
		json_object_set_new(side, "rounds_s", a);
		json_object_set_new(root, k ? "fixed" : "original", side);
	}
	json_object_set_new(root, "ratio", json_real(r->ratio));
	json_object_set_new(root, "ratio_min", json_real(r->ratio_min));
	json_object_set_new(root, "ratio_max", json_real(r->ratio_max));
	json_object_set_new(root, "saved_s", json_real(r->saved_s));
	json_object_set_new(root, "saved_spread_s", json_real(r->saved_spread_s));
	json_object_set_new(root, "within_noise", json_boolean(r->noise));
	json_object_set_new(root, "output_differs", json_boolean(r->output_differs));
	json_object_set_new(root, "cpu", json_pack("{s:f,s:f,s:f,s:f,s:f}", "original_s", r->original_cpu_s, "fixed_s",
						   r->fixed_cpu_s, "ratio", r->cpu_ratio, "saved_s", r->cpu_saved_s,
						   "saved_spread_s", r->cpu_saved_spread_s));
	json_dumpf(root, out, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
	fputc('\n', out);
	json_decref(root);
}

/* ---- the mode ---------------------------------------------------------------------------- */

static long long trace_lookup(void *ctx, const struct unit *u, const struct finding *f)
{
	return trace_profile_finding(ctx, u, f);
}

int bench_trace_counts(const char *path, struct engine_counts *counts)
{
	char *err = NULL;
	struct trace_profile *tp = trace_profile_load(path, &err);
	if (!tp) {
		fprintf(stderr, "error: --trace-profile: %s\n", err ? err : "out of memory");
		free(err);
		return -1;
	}
	trace_profile_free(counts->ctx); /* given twice: the last one counts */
	*counts = (struct engine_counts){trace_lookup, tp};
	return 0;
}

void bench_trace_counts_free(struct engine_counts *counts)
{
	trace_profile_free(counts->ctx);
	counts->ctx = NULL;
}

void bench_run_report_free(struct bench_run_report *r)
{
	free(r->original);
	free(r->fixed);
	free(r->original_cpu);
	free(r->fixed_cpu);
	r->original = r->fixed = r->original_cpu = r->fixed_cpu = NULL;
}

static bool is_package_dir(const char *dir)
{
	char *init = xprintf("%s/__init__.py", dir);
	bool yes = access(init, F_OK) == 0;
	free(init);
	return yes;
}

int bench_run(const struct bench_options *o, const char *path)
{
	struct bench_run_report rep = {.command = o->run, .path = path, .rounds = o->rounds};
	char *orig = realpath(path, NULL);
	struct stat st;
	if (!orig || stat(orig, &st) < 0) {
		fprintf(stderr, "error: %s: %s\n", path, strerror(errno));
		free(orig);
		return 2;
	}
	bool is_dir = S_ISDIR(st.st_mode);
	const char *tmpdir = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char *tmp = xprintf("%s/spipfix-bench-XXXXXX", tmpdir);
	if (!mkdtemp(tmp)) {
		fprintf(stderr, "error: cannot create a temporary folder in %s: %s\n", tmpdir, strerror(errno));
		free(tmp);
		free(orig);
		return 2;
	}
	const char *base = strrchr(orig, '/');
	base = base && base[1] ? base + 1 : "tree";
	/* both sides run against copies in the same temporary folder: the same file system for
	 * both, and nothing the command writes into its tree reaches the original */
	char *work = xprintf("%s/work", tmp);
	char *parent[2] = {xprintf("%s/original", tmp), xprintf("%s/fixed", tmp)};
	bool source_root = is_dir && !is_package_dir(orig);
	struct side_env sides[2];
	for (int k = 0; k < 2; k++) {
		const char *name = k ? "fixed" : "original";
		sides[k].name = name;
		sides[k].tree = xprintf("%s/%s", parent[k], base);
		/* on the import path: the parent of a package or module, a source root itself */
		sides[k].pythonpath = xprintf("%s", source_root ? sides[k].tree : parent[k]);
		sides[k].pycache = xprintf("%s/pycache-%s", tmp, name);
		sides[k].out = xprintf("%s/%s.out", tmp, name);
		sides[k].err = xprintf("%s/%s.err", tmp, name);
	}
	const char *fixed = sides[1].tree;
	int status = 2;
	bool keep = o->keep;
	rep.original = calloc(o->rounds, sizeof(double));
	rep.fixed = calloc(o->rounds, sizeof(double));
	rep.original_cpu = calloc(o->rounds, sizeof(double));
	rep.fixed_cpu = calloc(o->rounds, sizeof(double));
	double *d = calloc(o->rounds, sizeof(double)), *ratios = calloc(o->rounds, sizeof(double));
	double *dcpu = calloc(o->rounds, sizeof(double));
	if (!rep.original || !rep.fixed || !d || !ratios || !dcpu || !rep.original_cpu || !rep.fixed_cpu)
		goto out;
	if (mkdir(work, 0700) < 0)
		goto out;
	for (int k = 0; k < 2; k++)
		if (mkdir(parent[k], 0700) < 0 || copy_tree(orig, sides[k].tree) < 0) {
			fprintf(stderr, "error: cannot copy %s to %s\n", orig, sides[k].tree);
			goto out;
		}
	if (fix_copy(o, sides[1].tree, orig, &rep) < 0)
		goto out;
	if (!rep.fixes)
		fprintf(stderr, "note: no fix applies to %s; both sides run the same code\n", path);
	/* one untimed run of each: warms the page cache and the .pyc caches, and compares outputs */
	for (int k = 0; k < 2; k++) {
		double t, cpu;
		int ws = run_once(o->run, work, &sides[k], &t, &cpu);
		if (failed(ws)) {
			describe_failure(&sides[k], ws);
			if (k == 1) {
				fputs("error: the command passes against the original but fails against the fixed copy: a fix "
				      "changed behaviour\n",
				      stderr);
				keep = true;
			}
			goto out;
		}
	}
	size_t line;
	if (!same_file(sides[0].out, sides[1].out, &line)) {
		rep.output_differs = true;
		fprintf(stderr, "warning: the command's stdout differs between the original and the fixed copy (from "
				"line %zu)\n", line);
	}
	for (size_t i = 0; i < o->rounds; i++) {
		double t[2], cpu[2];
		for (int j = 0; j < 2; j++) {
			int k = i % 2 ? 1 - j : j; /* alternate which side goes first */
			int ws = run_once(o->run, work, &sides[k], &t[k], &cpu[k]);
			if (failed(ws)) {
				describe_failure(&sides[k], ws);
				keep = keep || k == 1;
				goto out;
			}
		}
		rep.original[i] = t[0];
		rep.fixed[i] = t[1];
		rep.original_cpu[i] = cpu[0];
		rep.fixed_cpu[i] = cpu[1];
		dcpu[i] = cpu[0] - cpu[1];
		d[i] = t[0] - t[1];
		ratios[i] = t[0] > 0 ? t[1] / t[0] : 1;
	}
	rep.original_s = bench_median(rep.original, o->rounds);
	rep.fixed_s = bench_median(rep.fixed, o->rounds);
	rep.original_spread_s = bench_mad(rep.original, o->rounds);
	rep.fixed_spread_s = bench_mad(rep.fixed, o->rounds);
	rep.ratio = rep.original_s > 0 ? rep.fixed_s / rep.original_s : 1;
	rep.ratio_min = rep.ratio_max = ratios[0];
	for (size_t i = 1; i < o->rounds; i++) {
		rep.ratio_min = ratios[i] < rep.ratio_min ? ratios[i] : rep.ratio_min;
		rep.ratio_max = ratios[i] > rep.ratio_max ? ratios[i] : rep.ratio_max;
	}
	rep.saved_s = rep.original_s - rep.fixed_s;
	rep.saved_spread_s = bench_mad(d, o->rounds);
	rep.noise = bench_noise(d, o->rounds);
	rep.original_cpu_s = bench_median(rep.original_cpu, o->rounds);
	rep.fixed_cpu_s = bench_median(rep.fixed_cpu, o->rounds);
	rep.cpu_ratio = rep.original_cpu_s > 0 ? rep.fixed_cpu_s / rep.original_cpu_s : 1;
	rep.cpu_saved_s = bench_median(dcpu, o->rounds);
	rep.cpu_saved_spread_s = bench_mad(dcpu, o->rounds);
	status = 0;
	if (o->result) {
		/* the caller reports: it gets the rounds */
		*o->result = rep;
		rep.original = rep.fixed = rep.original_cpu = rep.fixed_cpu = NULL;
		goto out;
	}
	if (o->json)
		report_json(stdout, &rep);
	else
		report_text(stdout, &rep);
	if (o->html && bench_html_run_file(o->html, &rep) < 0)
		status = 2;
out:
	if (keep)
		fprintf(stderr, "note: the fixed copy is kept in %s\n", fixed);
	else
		remove_tree(tmp);
	for (int k = 0; k < 2; k++) {
		free(parent[k]);
		free(sides[k].tree);
		free(sides[k].pythonpath);
		free(sides[k].pycache);
		free(sides[k].out);
		free(sides[k].err);
	}
	free(d);
	free(dcpu);
	free(ratios);
	free(rep.original);
	free(rep.fixed);
	free(rep.original_cpu);
	free(rep.fixed_cpu);
	free(work);
	free(tmp);
	free(orig);
	return status;
}
