/* `spipfix trace`: run a Python program in the user's own interpreter with the counter built for
 * its version (cmd/trace/tracer/: loaded by a sitecustomize put first on PYTHONPATH for that
 * process, which takes itself off sys.path again), merge the counts every counted process
 * wrote, and report how often chosen instructions executed, per instruction, per source line
 * and position, and the calls of each code object. The loader of the JSON it writes is
 * trace_file.c. */
#define _GNU_SOURCE /* environ */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <uthash.h>

#include "cli.h"
#include "trace.h"
#include "vec.h"

extern char **environ;

/* the default instructions; "?NAME" where a version lacks it (CALL_KW is 3.13's keyword call) */
static const char *const default_ops[] = {"MAKE_FUNCTION", "BUILD_TUPLE", "BUILD_LIST", "BUILD_SET",
					  "BUILD_MAP", "LOAD_DEREF", "CALL", "?CALL_KW"};

/* ---- where the counter is, which interpreters it was built for ------------------------------ */

static bool has_counter(const char *dir)
{
	char *p = xprintf("%s/sitecustomize.py", dir);
	bool ok = access(p, R_OK) == 0;
	free(p);
	return ok;
}

/* The folder with sitecustomize.py and the _spipfix_trace builds; malloc'd or NULL. */
static char *counter_dir(void)
{
	const char *env = getenv("SPIPFIX_TRACE_DIR");
	if (env && *env)
		return has_counter(env) ? xstrdup(env) : NULL;
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n > 0) {
		exe[n] = 0;
		char *slash = strrchr(exe, '/');
		if (slash) {
			*slash = 0;
			char *a = xprintf("%s/spipfix-trace", exe), *b = xprintf("%s/../lib/spipfix/trace", exe);
			char *hit = has_counter(a) ? a : has_counter(b) ? b : NULL;
			char *r = hit ? realpath(hit, NULL) : NULL;
			free(a);
			free(b);
			if (r)
				return r;
		}
	}
#ifdef SPIPFIX_TRACE_INSTALL_DIR
	if (has_counter(SPIPFIX_TRACE_INSTALL_DIR))
		return xstrdup(SPIPFIX_TRACE_INSTALL_DIR);
#endif
#ifdef SPIPFIX_TRACE_BUILD_DIR
	if (has_counter(SPIPFIX_TRACE_BUILD_DIR))
		return xstrdup(SPIPFIX_TRACE_BUILD_DIR);
#endif
	return NULL;
}

#ifndef SPIPFIX_TRACE_PYTHONS
#define SPIPFIX_TRACE_PYTHONS "3.11=/usr/bin/python3"
#endif

const char *trace_default_python(const char *version)
{
	static char found[PATH_MAX];
	const char *want = version ? version : "3.11";
	char v[16];
	/* py312 -> 3.12 */
	if (!strncmp(want, "py3", 3) && strlen(want) <= 6) {
		snprintf(v, sizeof v, "3.%s", want + 3);
		want = v;
	}
	const char *map = SPIPFIX_TRACE_PYTHONS;
	size_t wl = strlen(want);
	for (const char *p = map; *p;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len > wl && !strncmp(p, want, wl) && p[wl] == '=' && len - wl - 1 < sizeof found) {
			memcpy(found, p + wl + 1, len - wl - 1);
			found[len - wl - 1] = 0;
			return found;
		}
		p += len + (end ? 1 : 0);
	}
	fprintf(stderr, "error: no `spipfix trace` counter was built for Python %s (built: %s)\n", want, map);
	return NULL;
}

/* ---- running the program -------------------------------------------------------------------- */

static char *join(const char *const *v, size_t n, char sep)
{
	size_t len = 1;
	for (size_t i = 0; i < n; i++)
		len += strlen(v[i]) + 1;
	char *s = xcalloc(len, 1), *p = s;
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(v[i]);
		memcpy(p, v[i], l);
		p += l;
		if (i + 1 < n)
			*p++ = sep;
	}
	return s;
}

static void rm_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char *p = xprintf("%s/%s", dir, de->d_name);
		unlink(p);
		free(p);
	}
	if (d)
		closedir(d);
	rmdir(dir);
}

/* ---- merging what the processes wrote -------------------------------------------------------- */

struct loc {               /* a tracked instruction's count at one position */
	const char *file;      /* interned in the result */
	int line, col, end_line, end_col;
	const char *op;
	long long count;
};

struct codeobj {
	const char *file;
	const char *qualname;
	int firstlineno;
	long long calls, total;
};

struct fileinfo {
	const char *file;
	char *path;            /* real path, or NULL */
	long long total;
};

struct interned {
	UT_hash_handle hh;
	char s[];
};

struct trace_result {
	struct interned *strings; /* file names, qualnames and instruction names: a uthash set */
	VEC(struct loc) locs;     /* merged by position */
	VEC(struct codeobj) codes;
	struct fileinfo *files;
	size_t nfiles;
	const char **ops;      /* the tracked instructions, in the order asked */
	size_t nops;
	long long total, tracked;
	bool complete;
	char *why;
	char *python, *executable;
	int processes;
};

static void oom(void)
{
	fputs("error: out of memory\n", stderr);
	exit(2);
}

static const char *intern(struct trace_result *r, const char *s)
{
	struct interned *hit;
	size_t n = strlen(s);
	HASH_FIND(hh, r->strings, s, n, hit);
	if (hit)
		return hit->s;
	if (!(hit = malloc(sizeof *hit + n + 1)))
		oom();
	memset(&hit->hh, 0, sizeof hit->hh);
	memcpy(hit->s, s, n + 1);
	HASH_ADD_KEYPTR(hh, r->strings, hit->s, n, hit);
	return hit->s;
}

/* One process's raw counts (sitecustomize.py's JSON). Returns 0, or -1 with a message. */
static int merge_raw(struct trace_result *r, json_t *root, const char *path)
{
	json_t *err = json_object_get(root, "error"), *skipped = json_object_get(root, "skipped");
	if (json_is_string(err)) {
		fprintf(stderr, "error: %s\n", json_string_value(err));
		return -1;
	}
	if (json_is_string(skipped)) {
		fprintf(stderr, "note: a process ran uncounted: %s\n", json_string_value(skipped));
		return 0;
	}
	json_t *names = json_object_get(root, "opnames"), *codes = json_object_get(root, "code");
	if (!json_is_array(names) || !json_is_array(codes)) {
		fprintf(stderr, "spipfix trace: %s: not a report of the counter\n", path);
		return -1;
	}
	if (!json_is_true(json_object_get(root, "complete"))) {
		r->complete = false;
		json_t *why = json_object_get(root, "why");
		if (!r->why)
			r->why = xstrdup(json_is_string(why) ? json_string_value(why) : "unknown");
	}
	if (!r->python) {
		json_t *v = json_object_get(root, "python"), *x = json_object_get(root, "executable");
		r->python = xstrdup(json_is_string(v) ? json_string_value(v) : "?");
		r->executable = xstrdup(json_is_string(x) ? json_string_value(x) : "?");
	}
	r->processes++;
	size_t i;
	json_t *c;
	json_array_foreach(codes, i, c)
	{
		/* [file, qualname, firstlineno, calls, instructions, rows] */
		json_t *f = json_array_get(c, 0), *q = json_array_get(c, 1), *rows = json_array_get(c, 5);
		if (!json_is_string(f) || !json_is_string(q) || !json_is_array(rows))
			continue;
		if (vec_reserve(&r->codes, r->codes.n + 1) < 0)
			oom();
		struct codeobj *co = &r->codes.v[r->codes.n++];
		co->file = intern(r, json_string_value(f));
		co->qualname = intern(r, json_string_value(q));
		co->firstlineno = (int)json_integer_value(json_array_get(c, 2));
		co->calls = json_integer_value(json_array_get(c, 3));
		co->total = json_integer_value(json_array_get(c, 4));
		size_t k;
		json_t *w;
		json_array_foreach(rows, k, w)
		{
			/* [offset, opcode, line, col, end_line, end_col, count] */
			json_int_t op = json_integer_value(json_array_get(w, 1));
			json_t *name = json_array_get(names, (size_t)op);
			if (!json_is_string(name))
				continue;
			struct loc l = {co->file,
							   (int)json_integer_value(json_array_get(w, 2)),
							   (int)json_integer_value(json_array_get(w, 3)),
							   (int)json_integer_value(json_array_get(w, 4)),
							   (int)json_integer_value(json_array_get(w, 5)),
							   intern(r, json_string_value(name)),
							   json_integer_value(json_array_get(w, 6))};
			if (vec_push(&r->locs, l) < 0)
				oom();
		}
	}
	return 0;
}

static int cmp_loc(const void *pa, const void *pb)
{
	const struct loc *a = pa, *b = pb;
	int c = strcmp(a->file, b->file);
	if (c)
		return c;
	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	if (a->col != b->col)
		return a->col < b->col ? -1 : 1;
	if (a->end_line != b->end_line)
		return a->end_line < b->end_line ? -1 : 1;
	if (a->end_col != b->end_col)
		return a->end_col < b->end_col ? -1 : 1;
	return strcmp(a->op, b->op);
}

static int cmp_code(const void *pa, const void *pb)
{
	const struct codeobj *a = pa, *b = pb;
	int c = strcmp(a->file, b->file);
	if (c)
		return c;
	if (a->firstlineno != b->firstlineno)
		return a->firstlineno < b->firstlineno ? -1 : 1;
	return strcmp(a->qualname, b->qualname);
}

/* Sort and add up what several processes (or code objects of one position) counted. */
static void finish(struct trace_result *r)
{
	if (r->locs.n > 1)
		qsort(r->locs.v, r->locs.n, sizeof *r->locs.v, cmp_loc);
	size_t k = 0;
	for (size_t i = 0; i < r->locs.n; i++) {
		if (k && !cmp_loc(&r->locs.v[k - 1], &r->locs.v[i]))
			r->locs.v[k - 1].count += r->locs.v[i].count;
		else
			r->locs.v[k++] = r->locs.v[i];
	}
	r->locs.n = k;
	if (r->codes.n > 1)
		qsort(r->codes.v, r->codes.n, sizeof *r->codes.v, cmp_code);
	k = 0;
	for (size_t i = 0; i < r->codes.n; i++) {
		if (k && !cmp_code(&r->codes.v[k - 1], &r->codes.v[i])) {
			r->codes.v[k - 1].calls += r->codes.v[i].calls;
			r->codes.v[k - 1].total += r->codes.v[i].total;
		} else {
			r->codes.v[k++] = r->codes.v[i];
		}
	}
	r->codes.n = k;
	r->files = xcalloc(r->codes.n + 1, sizeof *r->files);
	for (size_t i = 0; i < r->codes.n; i++) {
		r->total += r->codes.v[i].total;
		if (!r->nfiles || strcmp(r->files[r->nfiles - 1].file, r->codes.v[i].file)) {
			struct fileinfo *f = &r->files[r->nfiles++];
			f->file = r->codes.v[i].file;
			f->path = f->file[0] != '<' ? realpath(f->file, NULL) : NULL;
		}
		r->files[r->nfiles - 1].total += r->codes.v[i].total;
	}
	for (size_t i = 0; i < r->locs.n; i++)
		r->tracked += r->locs.v[i].count;
}

void trace_result_free(struct trace_result *r)
{
	if (!r)
		return;
	struct interned *e, *tmp;
	HASH_ITER(hh, r->strings, e, tmp)
	{
		HASH_DEL(r->strings, e);
		free(e);
	}
	vec_free(&r->locs);
	vec_free(&r->codes);
	for (size_t i = 0; i < r->nfiles; i++)
		free(r->files[i].path);
	free(r->files);
	free(r->ops);
	free(r->why);
	free(r->python);
	free(r->executable);
	free(r);
}

/* The instruction names asked for, as the interpreter named them (its case), in order. */
static int cmp_str(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

static void set_ops(struct trace_result *r, const struct trace_request *rq)
{
	if (rq->instructions && rq->ninstructions == 1 && !strcmp(rq->instructions[0], "ALL")) {
		/* every instruction: those that ran, by name */
		r->ops = xcalloc(r->locs.n + 1, sizeof *r->ops);
		for (size_t i = 0; i < r->locs.n; i++) {
			bool dup = false;
			for (size_t k = 0; k < r->nops && !dup; k++)
				dup = r->ops[k] == r->locs.v[i].op;
			if (!dup)
				r->ops[r->nops++] = r->locs.v[i].op;
		}
		if (r->nops > 1)
			qsort(r->ops, r->nops, sizeof *r->ops, cmp_str);
		return;
	}
	size_t n = rq->instructions ? rq->ninstructions : sizeof default_ops / sizeof *default_ops;
	r->ops = xcalloc(n + 1, sizeof *r->ops);
	for (size_t i = 0; i < n; i++) {
		const char *want = rq->instructions ? rq->instructions[i] : default_ops[i];
		bool optional = want[0] == '?';
		want += optional;
		const char *name = NULL;
		struct interned *e, *tmp;
		HASH_ITER(hh, r->strings, e, tmp)
		{
			if (!name && !strcasecmp(e->s, want))
				name = e->s;
		}
		if (!name && optional)
			continue;
		/* an instruction that never ran in the counted code: its canonical (upper) name */
		if (!name) {
			char *up = xstrdup(want);
			for (char *p = up; *p; p++)
				*p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
			name = intern(r, up);
			free(up);
		}
		bool dup = false;
		for (size_t k = 0; k < r->nops && !dup; k++)
			dup = r->ops[k] == name;
		if (!dup)
			r->ops[r->nops++] = name;
	}
}

static int set_env(const char *k, const char *v)
{
	if (setenv(k, v, 1) < 0) {
		fprintf(stderr, "error: cannot set %s: %s\n", k, strerror(errno));
		return -1;
	}
	return 0;
}

int trace_run(const struct trace_request *rq, struct trace_result **out, int *status)
{
	*out = NULL;
	*status = 0;
	char *dir = counter_dir();
	if (!dir) {
		fputs("error: the `spipfix trace` counter is not installed (sitecustomize.py and _spipfix_trace "
		      "beside spipfix, or SPIPFIX_TRACE_DIR)\n",
		      stderr);
		return -1;
	}
	const char *python = rq->python ? rq->python : trace_default_python(NULL);
	char tmpl[] = "/tmp/spipfix-trace-XXXXXX";
	char *outdir = python ? mkdtemp(tmpl) : NULL;
	int rc = -1;
	struct trace_result *r = NULL;
	if (!outdir) {
		if (python)
			fprintf(stderr, "error: cannot create a temporary folder: %s\n", strerror(errno));
		free(dir);
		return -1;
	}
	/* the settings, in the environment of the child only */
	const char *ops[sizeof default_ops / sizeof *default_ops];
	size_t nops = 0;
	for (size_t i = 0; i < sizeof default_ops / sizeof *default_ops; i++)
		ops[nops++] = default_ops[i];
	char *instr = rq->instructions ? join(rq->instructions, rq->ninstructions, ',') : join(ops, nops, ',');
	char *files = join(rq->patterns, rq->npatterns, '\n');
	char *roots = join(rq->roots, rq->nroots, '\n');
	const char *oldpp = getenv("PYTHONPATH");
	char *pp = oldpp && *oldpp ? xprintf("%s:%s", dir, oldpp) : xstrdup(dir);

	fflush(stdout);
	fflush(stderr);
	struct sigaction ign = {.sa_handler = SIG_IGN}, oldint, oldquit;
	sigemptyset(&ign.sa_mask);
	sigaction(SIGINT, &ign, &oldint);
	sigaction(SIGQUIT, &ign, &oldquit);
	pid_t pid = fork();
	if (pid == 0) {
		sigaction(SIGINT, &oldint, NULL);
		sigaction(SIGQUIT, &oldquit, NULL);
		if (set_env("PYTHONPATH", pp) < 0 || set_env("SPIPFIX_TRACE_PYTHONPATH", oldpp ? oldpp : "") < 0 ||
		    set_env("SPIPFIX_TRACE_OUT", outdir) < 0 || set_env("SPIPFIX_TRACE_INSTRUCTIONS", instr) < 0 ||
		    set_env("SPIPFIX_TRACE_FILES", files) < 0 || set_env("SPIPFIX_TRACE_ROOTS", roots) < 0 ||
		    set_env("SPIPFIX_TRACE_ALL", rq->all ? "1" : "0") < 0 ||
		    set_env("SPIPFIX_TRACE_CHILDREN", rq->children || rq->shell ? "1" : "0") < 0)
			_exit(127);
		if (rq->stdout_to_stderr)
			dup2(2, 1);
		if (rq->quiet) {
			FILE *null = fopen("/dev/null", "w");
			if (null) {
				dup2(fileno(null), 1);
				dup2(fileno(null), 2);
			}
		}
		if (rq->shell) {
			execl("/bin/sh", "sh", "-c", rq->shell, (char *)NULL);
			fprintf(stderr, "error: /bin/sh: %s\n", strerror(errno));
			_exit(127);
		}
		char **argv = calloc((size_t)rq->argc + 2, sizeof *argv);
		if (!argv)
			_exit(127);
		argv[0] = (char *)python;
		for (int i = 0; i < rq->argc; i++)
			argv[1 + i] = rq->argv[i];
		execv(python, argv);
		fprintf(stderr, "error: %s: %s\n", python, strerror(errno));
		_exit(127);
	}
	int st = 0;
	if (pid < 0) {
		fprintf(stderr, "error: cannot start %s: %s\n", python, strerror(errno));
	} else {
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
	}
	sigaction(SIGINT, &oldint, NULL);
	sigaction(SIGQUIT, &oldquit, NULL);
	if (pid < 0)
		goto out;
	*status = st;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 127 && !rq->shell) {
		goto out; /* the exec failed: said on stderr */
	}
	r = xcalloc(1, sizeof *r);
	r->complete = true;
	DIR *d = opendir(outdir);
	struct dirent *de;
	bool bad = false;
	while (d && (de = readdir(d))) {
		size_t l = strlen(de->d_name);
		if (strncmp(de->d_name, "trace-", 6) || l < 5 || strcmp(de->d_name + l - 5, ".json"))
			continue;
		char *p = xprintf("%s/%s", outdir, de->d_name);
		json_error_t je;
		json_t *root = json_load_file(p, 0, &je);
		if (!root) {
			fprintf(stderr, "spipfix trace: %s: %s\n", p, je.text);
			bad = true;
		} else if (merge_raw(r, root, p) < 0) {
			bad = true;
		}
		json_decref(root);
		free(p);
	}
	if (d)
		closedir(d);
	if (bad)
		goto out;
	if (!r->processes) {
		fprintf(stderr, "spipfix trace: no counts were written: the program ended without its exit handlers "
				"(os._exit, a signal), or its interpreter ignored PYTHONPATH (-E, -I) or site (-S)\n");
		goto out;
	}
	finish(r);
	set_ops(r, rq);
	*out = r;
	r = NULL;
	rc = 0;
out:
	trace_result_free(r);
	rm_dir(outdir);
	free(instr);
	free(files);
	free(roots);
	free(pp);
	free(dir);
	return rc;
}

/* ---- the report ---------------------------------------------------------------------------------- */

struct row {               /* by (file, line, instruction) */
	const char *file;
	int line;
	const char *op;
	long long count;
};

static int cmp_row_key(const void *pa, const void *pb)
{
	const struct row *a = pa, *b = pb;
	int c = strcmp(a->file, b->file);
	if (c)
		return c;
	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	return strcmp(a->op, b->op);
}

static int cmp_row_count(const void *pa, const void *pb)
{
	const struct row *a = pa, *b = pb;
	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	return cmp_row_key(pa, pb);
}

/* Rows by (file, line, instruction), most executed first; count in *n. Caller frees. */
static struct row *rows_by_line(const struct trace_result *r, size_t *n)
{
	struct row *v = xcalloc(r->locs.n + 1, sizeof *v);
	size_t k = 0;
	for (size_t i = 0; i < r->locs.n; i++)
		if (r->locs.v[i].count)
			v[k++] = (struct row){r->locs.v[i].file, r->locs.v[i].line, r->locs.v[i].op, r->locs.v[i].count};
	if (k > 1)
		qsort(v, k, sizeof *v, cmp_row_key);
	size_t m = 0;
	for (size_t i = 0; i < k; i++) {
		if (m && !cmp_row_key(&v[m - 1], &v[i]))
			v[m - 1].count += v[i].count;
		else
			v[m++] = v[i];
	}
	if (m > 1)
		qsort(v, m, sizeof *v, cmp_row_count);
	*n = m;
	return v;
}

static long long op_count(const struct trace_result *r, const char *op)
{
	long long n = 0;
	for (size_t i = 0; i < r->locs.n; i++)
		if (r->locs.v[i].op == op)
			n += r->locs.v[i].count;
	return n;
}

static const char *path_of(const struct trace_result *r, const char *file)
{
	for (size_t i = 0; i < r->nfiles; i++)
		if (r->files[i].file == file)
			return r->files[i].path;
	return NULL;
}

static int digits(long long v)
{
	int d = 1;
	while (v >= 10) {
		v /= 10;
		d++;
	}
	return d;
}

void trace_result_text(const struct trace_result *r, FILE *out, long limit)
{
	fprintf(out, "tracked / total instructions: %lld / %lld", r->tracked, r->total);
	if (r->total)
		fprintf(out, " (%.2f%%)", 100.0 * (double)r->tracked / (double)r->total);
	fputs("\n\n", out);
	size_t nrows;
	struct row *rows = rows_by_line(r, &nrows);
	long long maxc = 0, *byop = xcalloc(r->nops + 1, sizeof *byop);
	size_t *order = xcalloc(r->nops + 1, sizeof *order);
	for (size_t i = 0; i < r->nops; i++) {
		byop[i] = op_count(r, r->ops[i]);
		maxc = byop[i] > maxc ? byop[i] : maxc;
		order[i] = i;
	}
	for (size_t i = 0; i < nrows; i++)
		maxc = rows[i].count > maxc ? rows[i].count : maxc;
	int w = digits(maxc) > 5 ? digits(maxc) : 5;
	/* instructions by count, then by name */
	for (size_t i = 1; i < r->nops; i++)
		for (size_t j = i; j > 0; j--) {
			long long a = byop[order[j - 1]], b = byop[order[j]];
			if (a > b || (a == b && strcmp(r->ops[order[j - 1]], r->ops[order[j]]) <= 0))
				break;
			size_t tmp = order[j];
			order[j] = order[j - 1];
			order[j - 1] = tmp;
		}
	fprintf(out, "%*s | INSTRUCTION\n", w, "COUNT");
	for (size_t i = 0; i < r->nops; i++)
		fprintf(out, "%*lld | %s\n", w, byop[order[i]], r->ops[order[i]]);
	fprintf(out, "\n%*s | LOCATION\n", w, "COUNT");
	size_t shown = limit > 0 && (size_t)limit < nrows ? (size_t)limit : nrows;
	for (size_t i = 0; i < shown; i++)
		fprintf(out, "%*lld | %s:%d (%s)\n", w, rows[i].count, rows[i].file, rows[i].line, rows[i].op);
	if (shown < nrows)
		fprintf(out, "%*s | ... %zu more (--limit 0 shows all)\n", w, "", nrows - shown);
	free(rows);
	free(byop);
	free(order);
}

static json_t *path_json(const struct trace_result *r, const char *file)
{
	const char *p = path_of(r, file);
	return p ? json_string(p) : json_null();
}

int trace_result_json(const struct trace_result *r, FILE *out, char *const *cmd, int ncmd,
		      const struct trace_request *rq)
{
	json_t *root = json_object(), *a;
	if (!root)
		return -1;
	json_object_set_new(root, "format", json_string("spipfix-trace/1"));
	json_object_set_new(root, "python", json_string(r->python ? r->python : "?"));
	json_object_set_new(root, "interpreter", json_string(r->executable ? r->executable : "?"));
	json_object_set_new(root, "command", a = json_array());
	for (int i = 0; i < ncmd; i++)
		json_array_append_new(a, json_string(cmd[i]));
	json_object_set_new(root, "instructions", a = json_array());
	for (size_t i = 0; i < r->nops; i++)
		json_array_append_new(a, json_string(r->ops[i]));
	json_object_set_new(root, "file_patterns", a = json_array());
	for (size_t i = 0; i < rq->npatterns; i++)
		json_array_append_new(a, json_string(rq->patterns[i]));
	json_object_set_new(root, "roots", a = json_array());
	for (size_t i = 0; !rq->npatterns && !rq->all && i < rq->nroots; i++)
		json_array_append_new(a, json_string(rq->roots[i]));
	json_object_set_new(root, "all_files", json_boolean(rq->all && !rq->npatterns));
	json_object_set_new(root, "complete", json_boolean(r->complete));
	json_object_set_new(root, "processes", json_integer(r->processes));
	json_object_set_new(root, "total_instructions", json_integer(r->total));
	json_object_set_new(root, "tracked_instructions", json_integer(r->tracked));
	json_object_set_new(root, "by_instruction", a = json_array());
	for (size_t i = 0; i < r->nops; i++)
		json_array_append_new(a, json_pack("{s:s, s:I}", "instruction", r->ops[i], "count",
						   (json_int_t)op_count(r, r->ops[i])));
	size_t nrows;
	struct row *rows = rows_by_line(r, &nrows);
	json_object_set_new(root, "by_location", a = json_array());
	for (size_t i = 0; i < nrows; i++)
		json_array_append_new(a, json_pack("{s:s, s:o, s:i, s:s, s:I}", "file", rows[i].file, "path",
						   path_json(r, rows[i].file), "line", rows[i].line, "instruction",
						   rows[i].op, "count", (json_int_t)rows[i].count));
	free(rows);
	json_object_set_new(root, "by_position", a = json_array());
	for (size_t i = 0; i < r->locs.n; i++) {
		const struct loc *l = &r->locs.v[i];
		json_array_append_new(a, json_pack("{s:s, s:i, s:i, s:i, s:i, s:s, s:I}", "file", l->file, "line",
						   l->line, "column", l->col, "end_line", l->end_line, "end_column",
						   l->end_col, "instruction", l->op, "count", (json_int_t)l->count));
	}
	json_object_set_new(root, "code_objects", a = json_array());
	for (size_t i = 0; i < r->codes.n; i++) {
		const struct codeobj *c = &r->codes.v[i];
		json_array_append_new(a, json_pack("{s:s, s:s, s:i, s:I, s:I}", "file", c->file, "qualname",
						   c->qualname, "firstlineno", c->firstlineno, "calls",
						   (json_int_t)c->calls, "instructions", (json_int_t)c->total));
	}
	json_object_set_new(root, "files", a = json_array());
	for (size_t i = 0; i < r->nfiles; i++)
		if (r->files[i].total)
			json_array_append_new(a, json_pack("{s:s, s:o, s:I}", "file", r->files[i].file, "path",
							   path_json(r, r->files[i].file), "instructions",
							   (json_int_t)r->files[i].total));
	int rc = json_dumpf(root, out, JSON_INDENT(1) | JSON_ENSURE_ASCII) == 0 ? 0 : -1;
	fputc('\n', out);
	json_decref(root);
	return rc;
}

char *trace_result_tempfile(const struct trace_result *r, const struct trace_request *rq)
{
	char tmpl[] = "/tmp/spipfix-trace-XXXXXX.json";
	int fd = mkstemps(tmpl, 5);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	int rc = trace_result_json(r, f, NULL, 0, rq);
	if (fclose(f) != 0 || rc < 0) {
		unlink(tmpl);
		return NULL;
	}
	return xstrdup(tmpl);
}

/* ---- the subcommand ------------------------------------------------------------------------- */

static void trace_usage(FILE *out)
{
	fputs("Usage: spipfix trace [OPTIONS] SCRIPT [ARGS...]\n"
	      "       spipfix trace [OPTIONS] -m MODULE [ARGS...]\n"
	      "\n"
	      "Run a Python program in your interpreter (--python, default Debian's /usr/bin/python3, with its\n"
	      "site-packages, as `python3 SCRIPT` runs it) and count how often chosen instructions execute:\n"
	      "per instruction, per source line and position, and the calls of each code object. The\n"
	      "program gets its arguments; its stdout, stderr and exit status pass through unchanged. The\n"
	      "report follows the program's output on stdout (or goes to --output).\n"
	      "\n"
	      "Options:\n"
	      "  -i, --instructions OP  Count instruction OP (repeatable, or comma-separated; ALL: every one). Default:\n"
	      "                         MAKE_FUNCTION, BUILD_TUPLE, BUILD_LIST, BUILD_SET, BUILD_MAP, LOAD_DEREF,\n"
	      "                         CALL (and CALL_KW on 3.13)\n"
	      "  -f, --file PATTERN     Count only code from files matching PATTERN (repeatable): a shell\n"
	      "                         glob matched against the base name when it has no '/', else against\n"
	      "                         the file name as Python knows it (co_filename) and its real path\n"
	      "      --all              Count code from every file (the standard library, site-packages, ...)\n"
	      "                         Default: the files under the current folder and the script's folder,\n"
	      "                         outside site-packages and dist-packages\n"
	      "  -m MODULE              Run MODULE as `python3 -m MODULE`; what follows is its arguments\n"
	      "      --python PATH      The interpreter to run the program in (3.11, 3.12 or 3.13)\n"
	      "      --target-version V py311, py312 or py313: the interpreter of that version spipfix was built with\n"
	      "      --children         Count the Python processes the program starts, too\n"
	      "      --format FORMAT    text (default) or json (the input of `spipfix --trace-profile`)\n"
	      "  -o, --output FILE      Write the report to FILE instead of stdout\n"
	      "  -n, --limit N          Rows of the text location table (default 30; 0 = all)\n"
	      "  -h, --help             Print this help\n"
	      "\n"
	      "What is counted: every instruction the main thread executes in code from the counted files,\n"
	      "from the start of the program until its last exit handler: what an opcode event of the C trace\n"
	      "API (3.11) or an INSTRUCTION event of sys.monitoring (3.12+) would count, without a callback\n"
	      "per instruction: code without branches is counted per entry, other code per branch taken\n"
	      "(3.12+) or per line event (3.11), and the instructions in between are derived from the\n"
	      "bytecode. An instruction is named by its base form (LOAD_ATTR_INSTANCE_VALUE counts as\n"
	      "LOAD_ATTR); an EXTENDED_ARG prefix counts with the instruction it extends. \"total\" is the\n"
	      "number of instructions executed, \"tracked\" those of the chosen instructions. A location is\n"
	      "file:line of the instruction, the file named as in tracebacks; the JSON report also has each\n"
	      "one's full position (by_position) and each code object's calls (code_objects). Threads other\n"
	      "than the main one are not counted; a program that calls sys.settrace (3.11) marks the counts\n"
	      "incomplete; one that ends with os._exit() gets no report.\n"
	      "\n"
	      "Use the JSON report to order findings by how often their site ran:\n"
	      "  spipfix trace --format json -o trace.json app.py && spipfix --diff --trace-profile trace.json src/\n"
	      "\n"
	      "Exit status: the program's, or 2 for a usage error.\n",
	      out);
}

int trace_main(int argc, char **argv)
{
	enum { OPT_FORMAT = 256, OPT_PYTHON, OPT_TARGET, OPT_ALL, OPT_CHILDREN };
	static const struct option longopts[] = {
		{"instructions", required_argument, NULL, 'i'},
		{"file", required_argument, NULL, 'f'},
		{"all", no_argument, NULL, OPT_ALL},
		{"python", required_argument, NULL, OPT_PYTHON},
		{"target-version", required_argument, NULL, OPT_TARGET},
		{"children", no_argument, NULL, OPT_CHILDREN},
		{"format", required_argument, NULL, OPT_FORMAT},
		{"output", required_argument, NULL, 'o'},
		{"limit", required_argument, NULL, 'n'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct trace_request rq = {0};
	struct strlist ops = {0};
	const char *module = NULL, *out_path = NULL;
	const char **patterns = xcalloc((size_t)argc + 1, sizeof *patterns);
	size_t npatterns = 0;
	bool json = false;
	long limit = 30;
	int c, rc = 2;
	char **cmd = NULL;
	char *roots[2] = {NULL, NULL};
	optind = 1;
	while (!module && (c = getopt_long(argc, argv, "+i:f:m:o:n:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'i':
			if (strlist_split(&ops, optarg) < 0)
				goto out;
			break;
		case 'f': patterns[npatterns++] = optarg; break;
		case OPT_ALL: rq.all = true; break;
		case OPT_PYTHON: rq.python = optarg; break;
		case OPT_TARGET:
			if (!(rq.python = trace_default_python(optarg)))
				goto out;
			break;
		case OPT_CHILDREN: rq.children = true; break;
		case 'm': module = optarg; break;
		case 'o': out_path = optarg; break;
		case 'n': {
			char *end;
			errno = 0;
			limit = strtol(optarg, &end, 10);
			if (errno || *end || limit < 0) {
				fprintf(stderr, "error: --limit: expected a number >= 0, got `%s`\n", optarg);
				goto out;
			}
			break;
		}
		case OPT_FORMAT:
			if (strcmp(optarg, "json") && strcmp(optarg, "text")) {
				fprintf(stderr, "error: --format: expected text or json, got `%s`\n", optarg);
				goto out;
			}
			json = !strcmp(optarg, "json");
			break;
		case 'h': trace_usage(stdout); rc = 0; goto out;
		default: fputs("Try 'spipfix trace --help' for more information.\n", stderr); goto out;
		}
	}
	if (!module && optind >= argc) {
		fputs("error: no script given\nUsage: spipfix trace [OPTIONS] SCRIPT [ARGS...] | -m MODULE [ARGS...]\n",
		      stderr);
		goto out;
	}
	const char *script = module ? NULL : argv[optind++];
	if (script && access(script, R_OK) < 0) {
		fprintf(stderr, "error: %s: %s\n", script, strerror(errno));
		goto out;
	}
	if (rq.python && access(rq.python, X_OK) < 0) {
		fprintf(stderr, "error: --python: %s: %s\n", rq.python, strerror(errno));
		goto out;
	}
	/* what runs after the interpreter: SCRIPT ARGS or -m MODULE ARGS */
	int nargs = argc - optind;
	cmd = xcalloc((size_t)nargs + 3, sizeof *cmd);
	int ncmd = 0;
	if (module) {
		cmd[ncmd++] = "-m";
		cmd[ncmd++] = (char *)module;
	} else {
		cmd[ncmd++] = (char *)script;
	}
	for (int i = optind; i < argc; i++)
		cmd[ncmd++] = argv[i];
	rq.argv = cmd;
	rq.argc = ncmd;
	rq.instructions = ops.n ? (const char *const *)ops.v : NULL;
	rq.ninstructions = ops.n;
	rq.patterns = patterns;
	rq.npatterns = npatterns;
	/* the project: the current folder and the script's */
	roots[0] = realpath(".", NULL);
	if (script) {
		char *rp = realpath(script, NULL);
		char *slash = rp ? strrchr(rp, '/') : NULL;
		if (slash)
			*slash = 0;
		roots[1] = rp;
	}
	const char *rootv[2];
	for (int i = 0; i < 2; i++)
		if (roots[i])
			rootv[rq.nroots++] = roots[i];
	rq.roots = rootv;
	FILE *out = stdout;
	if (out_path && !(out = fopen(out_path, "w"))) {
		fprintf(stderr, "error: %s: %s\n", out_path, strerror(errno));
		goto out;
	}
	struct trace_result *r = NULL;
	int st = 0;
	if (trace_run(&rq, &r, &st) < 0) {
		if (out != stdout)
			fclose(out);
		rc = 2;
		goto out;
	}
	if (!r->complete)
		fprintf(stderr, "spipfix trace: the counts are incomplete: %s\n", r->why ? r->why : "?");
	/* the JSON records the program as the user named it: [SCRIPT, ARGS...] or [-m, ARGS...] */
	char **shown = module ? cmd + 1 : cmd;
	int nshown = module ? ncmd - 1 : ncmd;
	if (module)
		shown[0] = "-m";
	int wrc = 0;
	if (json)
		wrc = trace_result_json(r, out, shown, nshown, &rq);
	else
		trace_result_text(r, out, limit);
	if (fflush(out) != 0 || ferror(out))
		wrc = -1;
	if (out != stdout && fclose(out) != 0)
		wrc = -1;
	if (wrc < 0)
		fprintf(stderr, "spipfix trace: cannot write the report to %s\n", out_path ? out_path : "stdout");
	trace_result_free(r);
	if (WIFSIGNALED(st)) {
		/* the program was killed: so is its runner, as a shell would see it */
		signal(WTERMSIG(st), SIG_DFL);
		raise(WTERMSIG(st));
	}
	rc = WIFEXITED(st) ? WEXITSTATUS(st) : 2;
	if (wrc < 0 && rc == 0)
		rc = 2;
out:
	strlist_free(&ops);
	free(patterns);
	free(cmd);
	free(roots[0]);
	free(roots[1]);
	return rc;
}
