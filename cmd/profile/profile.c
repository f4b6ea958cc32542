/* `spipfix profile`: the bytecode footprint of installed packages or folders, computed from the
 * code objects that the target version's CPython compiles from their sources: instructions,
 * .pyc bytes, memory after unmarshalling, findings of every registered pass, redundant opcode
 * sequences, test-code share, what -OO would save and what annotations take. The measures of a
 * file come through the Python boundary (pyrt.h profile_measure, passes/bridge_measure.c). */
#define _GNU_SOURCE /* qsort_r */
#include <errno.h>
#include <fts.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bridge.h"
#include "cli.h"
#include "engine.h"
#include "pass.h"

/* The redundant opcode sequences (pyrt.h SEQ_*), in the order ties are broken. Definitions in
 * the --help text. */
static const char *const seq_names[NSEQ] = {"store-reload",     "attr-reload",      "global-reload-in-loop",
					    "constant-display", "constant-discard", "self-assign"};

#define PYC_HEADER 16 /* magic, flags, mtime, size: what importlib writes before the marshal data */

struct stats {
	uint64_t files;       /* .py files found */
	uint64_t errors;      /* could not be read or compiled: in no other count */
	uint64_t unanalysed;  /* compiled and measured, but the passes could not run on them */
	uint64_t instructions, test_instructions, pyc_bytes, oo_saved, memory, annotation_memory;
	uint64_t *findings;   /* per registered pass */
	uint64_t seq[NSEQ];
};

struct package {
	const char *arg;  /* as given */
	char *name;
	char **roots;     /* folders (several for a namespace package) or one .py file */
	size_t nroots;
	bool found;
	struct stats s;
};

struct profiler {
	size_t npasses;
	const struct pyrt_ops *py; /* the target version's boundary */
	bool progress;
	double last_progress;
};

/* ---- files ------------------------------------------------------------------------------- */

/* Test code: a folder named tests or test below the package root, or a file test_*.py. */
static bool is_test(const char *rel)
{
	const char *base = strrchr(rel, '/');
	base = base ? base + 1 : rel;
	if (!strncmp(base, "test_", 5))
		return true;
	for (const char *p = rel; p < base;) {
		const char *slash = strchr(p, '/');
		size_t len = (size_t)(slash - p);
		if ((len == 5 && !strncmp(p, "tests", 5)) || (len == 4 && !strncmp(p, "test", 4)))
			return true;
		p = slash + 1;
	}
	return false;
}

static void profile_file(struct profiler *pr, struct package *p, const char *path, const char *rel)
{
	struct stats *s = &p->s;
	s->files++;
	size_t len;
	char *buf = read_whole_file(path, &len, NULL);
	if (!buf) {
		fprintf(stderr, "error: %s: %s; not counted\n", path,
			errno == EFBIG ? "larger than 64 MiB" : strerror(errno));
		s->errors++;
		return;
	}
	struct pyrt_measures m;
	char *err = NULL;
	if (memchr(buf, 0, len)) {
		fprintf(stderr, "error: %s: contains NUL bytes; not counted\n", path);
		s->errors++;
		goto out;
	}
	if (pr->py->profile_measure(buf, len, path, &m, &err) < 0) {
		fprintf(stderr, "error: %s: %s; not counted\n", path, err ? err : "cannot be measured");
		s->errors++;
		goto out;
	}
	s->instructions += m.instructions;
	if (is_test(rel))
		s->test_instructions += m.instructions;
	s->pyc_bytes += PYC_HEADER + m.marshal;
	s->oo_saved += m.marshal > m.marshal_oo ? m.marshal - m.marshal_oo : 0;
	s->memory += m.memory;
	s->annotation_memory += m.memory > m.memory_stripped ? m.memory - m.memory_stripped : 0;
	for (int k = 0; k < NSEQ; k++)
		s->seq[k] += m.seq[k];
	/* the passes, as `spipfix check` runs them, on what check accepts (UTF-8 text) */
	if (!m.utf8) {
		fprintf(stderr, "warning: %s: not valid UTF-8; measured, but the rules were not run\n", path);
		s->unanalysed++;
		goto out;
	}
	struct unit u;
	if (engine_analyse(&(struct engine_config){0}, &u, path, buf, len) < 0) {
		fprintf(stderr, "warning: %s: measured, but the rules were not run: %s\n", path, u.error);
		s->unanalysed++;
	} else {
		for (size_t i = 0; i < u.nfindings; i++)
			for (size_t k = 0; k < pr->npasses; k++)
				if (u.findings[i].pass == pass_registry[k])
					s->findings[k]++;
	}
	unit_free(&u);
out:
	free(err);
	free(buf);
}

static void progress(struct profiler *pr, const struct package *p, size_t i, size_t n, const char *rel)
{
	if (!pr->progress)
		return;
	double t = cli_now();
	if (i + 1 < n && t - pr->last_progress < 0.1)
		return;
	pr->last_progress = t;
	fprintf(stderr, "\r\033[Kprofile %s: %zu/%zu %.60s", p->name, i + 1, n, rel);
	fflush(stderr);
}

static int cmp_str(const FTSENT **a, const FTSENT **b) { return strcmp((*a)->fts_name, (*b)->fts_name); }

/* Every .py file under the package's roots (symlinks not followed, __pycache__ skipped). */
static void profile_package(struct profiler *pr, struct package *p)
{
	char **files = NULL, **rels = NULL;
	size_t n = 0, cap = 0;
	for (size_t r = 0; r < p->nroots; r++) {
		char *const roots[] = {p->roots[r], NULL};
		struct stat st;
		if (stat(p->roots[r], &st) == 0 && S_ISREG(st.st_mode)) {
			const char *base = strrchr(p->roots[r], '/');
			if (n == cap) {
				cap = cap ? cap * 2 : 256;
				files = realloc(files, cap * sizeof *files);
				rels = realloc(rels, cap * sizeof *rels);
				if (!files || !rels)
					goto oom;
			}
			files[n] = strdup(p->roots[r]);
			rels[n] = strdup(base ? base + 1 : p->roots[r]);
			n++;
			continue;
		}
		FTS *fts = fts_open(roots, FTS_PHYSICAL | FTS_NOCHDIR, cmp_str);
		if (!fts) {
			fprintf(stderr, "error: %s: %s\n", p->roots[r], strerror(errno));
			p->s.errors++;
			continue;
		}
		size_t rootlen = strlen(p->roots[r]);
		for (FTSENT *e; (e = fts_read(fts));) {
			if (e->fts_info == FTS_D && e->fts_level > 0 && !strcmp(e->fts_name, "__pycache__")) {
				fts_set(fts, e, FTS_SKIP);
				continue;
			}
			if (e->fts_info == FTS_DNR || e->fts_info == FTS_ERR) {
				fprintf(stderr, "error: %s: %s\n", e->fts_path, strerror(e->fts_errno));
				p->s.errors++;
				continue;
			}
			if (e->fts_info != FTS_F || e->fts_namelen < 4 ||
			    strcmp(e->fts_name + e->fts_namelen - 3, ".py") != 0)
				continue;
			if (n == cap) {
				cap = cap ? cap * 2 : 256;
				char **nf = realloc(files, cap * sizeof *files), **nr = nf ? realloc(rels, cap * sizeof *rels) : NULL;
				if (nf)
					files = nf;
				if (nr)
					rels = nr;
				if (!nf || !nr) {
					fts_close(fts);
					goto oom;
				}
			}
			const char *rel = e->fts_path + rootlen;
			while (*rel == '/')
				rel++;
			files[n] = strdup(e->fts_path);
			rels[n] = strdup(rel);
			n++;
		}
		fts_close(fts);
	}
	for (size_t i = 0; i < n; i++) {
		if (!files[i] || !rels[i])
			goto oom;
		progress(pr, p, i, n, rels[i]);
		profile_file(pr, p, files[i], rels[i]);
	}
	goto out;
oom:
	fputs("error: out of memory\n", stderr);
	p->s.errors++;
out:
	for (size_t i = 0; i < n; i++) {
		free(files[i]);
		free(rels[i]);
	}
	free(files);
	free(rels);
}

/* An existing file or folder, else a package name looked up on sys.path. Returns 0 / -1. */
static int resolve(struct profiler *pr, struct package *p)
{
	struct stat st;
	if (stat(p->arg, &st) == 0) {
		char buf[PATH_MAX];
		if (!realpath(p->arg, buf))
			return -1;
		char *slash = strrchr(buf, '/');
		p->name = strdup(slash && slash[1] ? slash + 1 : buf);
		if (p->name && S_ISREG(st.st_mode) && strlen(p->name) > 3 &&
		    !strcmp(p->name + strlen(p->name) - 3, ".py"))
			p->name[strlen(p->name) - 3] = 0;
		p->roots = calloc(1, sizeof *p->roots);
		if (!p->name || !p->roots || !(p->roots[0] = strdup(buf)))
			return -1;
		p->nroots = 1;
		p->found = true;
		return 0;
	}
	if (!(p->name = strdup(p->arg)))
		return -1;
	char *err = NULL;
	int r = pr->py->profile_locate(p->arg, &p->roots, &p->nroots, &err);
	if (r < 0)
		fprintf(stderr, "warning: %s: cannot be looked up: %s\n", p->arg, err ? err : "?");
	free(err);
	p->found = r > 0;
	return 0;
}

/* ---- output ------------------------------------------------------------------------------ */

enum { K_NAME, K_FILES, K_INSTRUCTIONS, K_TESTS, K_PYC, K_OO, K_MEMORY, K_ANNOTATIONS, K_PASS, K_SEQ };

struct sortkey {
	int kind, index;
};

static uint64_t key_value(const struct stats *s, struct sortkey k)
{
	switch (k.kind) {
	case K_FILES: return s->files;
	case K_INSTRUCTIONS: return s->instructions;
	case K_TESTS: return s->test_instructions;
	case K_PYC: return s->pyc_bytes;
	case K_OO: return s->oo_saved;
	case K_MEMORY: return s->memory;
	case K_ANNOTATIONS: return s->annotation_memory;
	case K_PASS: return s->findings[k.index];
	case K_SEQ: return s->seq[k.index];
	default: return 0;
	}
}

/* qsort_r's comparison; ctx is the struct sortkey */
static int cmp_package(const void *pa, const void *pb, void *ctx)
{
	const struct package *a = pa, *b = pb;
	const struct sortkey *k = ctx;
	if (k->kind == K_NAME)
		return strcmp(a->name, b->name);
	if (k->kind == K_TESTS) {
		double x = a->s.instructions ? (double)a->s.test_instructions / (double)a->s.instructions : 0;
		double y = b->s.instructions ? (double)b->s.test_instructions / (double)b->s.instructions : 0;
		if (x != y)
			return x > y ? -1 : 1;
		return strcmp(a->name, b->name);
	}
	uint64_t x = key_value(&a->s, *k), y = key_value(&b->s, *k);
	if (x != y)
		return x > y ? -1 : 1;
	return strcmp(a->name, b->name);
}

static int parse_sort(const char *s, const struct profiler *pr, struct sortkey *k)
{
	static const char *const names[] = {"name",   "files",  "instructions", "tests",
					    "pyc",    "oo",     "memory",       "annotations"};
	for (int i = 0; i < (int)(sizeof names / sizeof *names); i++)
		if (!strcmp(s, names[i])) {
			*k = (struct sortkey){i, 0};
			return 0;
		}
	for (size_t i = 0; i < pr->npasses; i++)
		if (!strcasecmp(s, pass_registry[i]->code) || !strcmp(s, pass_registry[i]->name)) {
			*k = (struct sortkey){K_PASS, (int)i};
			return 0;
		}
	for (int i = 0; i < NSEQ; i++)
		if (!strcmp(s, seq_names[i])) {
			*k = (struct sortkey){K_SEQ, i};
			return 0;
		}
	return -1;
}

/* The three most frequent sequences (fewer when fewer occur), by count then catalogue order. */
static int top_sequences(const struct stats *s, int top[3])
{
	int n = 0;
	bool used[NSEQ] = {0};
	for (; n < 3; n++) {
		int best = -1;
		for (int k = 0; k < NSEQ; k++)
			if (!used[k] && s->seq[k] && (best < 0 || s->seq[k] > s->seq[best]))
				best = k;
		if (best < 0)
			break;
		used[best] = true;
		top[n] = best;
	}
	return n;
}

static double share(const struct stats *s)
{
	return s->instructions ? 100.0 * (double)s->test_instructions / (double)s->instructions : 0.0;
}

static json_t *stats_json(const struct profiler *pr, const struct stats *s)
{
	json_t *o = json_object(), *f = json_object(), *q = json_object(), *top = json_array();
	json_object_set_new(o, "files", json_integer((json_int_t)s->files));
	json_object_set_new(o, "errors", json_integer((json_int_t)s->errors));
	json_object_set_new(o, "unanalysed", json_integer((json_int_t)s->unanalysed));
	json_object_set_new(o, "instructions", json_integer((json_int_t)s->instructions));
	json_object_set_new(o, "test_instructions", json_integer((json_int_t)s->test_instructions));
	json_object_set_new(o, "test_share", json_real(s->instructions ? (double)s->test_instructions /
								   (double)s->instructions
							     : 0.0));
	json_object_set_new(o, "pyc_bytes", json_integer((json_int_t)s->pyc_bytes));
	json_object_set_new(o, "oo_saved_bytes", json_integer((json_int_t)s->oo_saved));
	json_object_set_new(o, "memory_bytes", json_integer((json_int_t)s->memory));
	json_object_set_new(o, "annotation_memory_bytes", json_integer((json_int_t)s->annotation_memory));
	for (size_t k = 0; k < pr->npasses; k++)
		json_object_set_new(f, pass_registry[k]->code, json_integer((json_int_t)s->findings[k]));
	json_object_set_new(o, "findings", f);
	for (int k = 0; k < NSEQ; k++)
		json_object_set_new(q, seq_names[k], json_integer((json_int_t)s->seq[k]));
	json_object_set_new(o, "sequences", q);
	int t[3], nt = top_sequences(s, t);
	for (int k = 0; k < nt; k++)
		json_array_append_new(top, json_pack("{s:s, s:I}", "sequence", seq_names[t[k]], "count",
						     (json_int_t)s->seq[t[k]]));
	json_object_set_new(o, "top_sequences", top);
	return o;
}

static int print_json(const struct profiler *pr, const struct package *pk, size_t n, const struct stats *total)
{
	json_t *root = json_object(), *a = json_array();
	json_object_set_new(root, "format", json_string("spipfix-profile/1"));
	json_object_set_new(root, "python", json_string(bridge_python_version()));
	json_object_set_new(root, "target_version", json_string(bridge_target_name()));
	for (size_t i = 0; i < n; i++) {
		if (!pk[i].found)
			continue;
		json_t *o = stats_json(pr, &pk[i].s), *roots = json_array();
		json_object_set_new(o, "name", json_string(pk[i].name));
		for (size_t r = 0; r < pk[i].nroots; r++)
			json_array_append_new(roots, json_string(pk[i].roots[r]));
		json_object_set_new(o, "paths", roots);
		json_array_append_new(a, o);
	}
	json_object_set_new(root, "packages", a);
	json_object_set_new(root, "total", stats_json(pr, total));
	int rc = json_dumpf(root, stdout, JSON_INDENT(1) | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(6));
	fputc('\n', stdout);
	json_decref(root);
	return rc;
}

static void print_table(const struct profiler *pr, const struct package *pk, size_t n, const struct stats *total)
{
	size_t ncol = 8 + pr->npasses;
	const char *head[64] = {"PACKAGE", "FILES", "INSTRUCTIONS", "TESTS", "PYC_BYTES", "OO_SAVES", "MEMORY",
				"ANNOTATIONS"};
	for (size_t k = 0; k < pr->npasses && 8 + k < 64; k++)
		head[8 + k] = pass_registry[k]->code;
	if (ncol > 64)
		ncol = 64;
	size_t nrows = n + 1;
	char *cell = calloc(nrows * ncol, 32);
	if (!cell)
		return;
	size_t w[64];
	for (size_t c = 0; c < ncol; c++)
		w[c] = strlen(head[c]);
	size_t r = 0;
	for (size_t i = 0; i <= n; i++) {
		const struct stats *s = i < n ? &pk[i].s : total;
		if (i < n && !pk[i].found)
			continue;
		char *row = cell + r * ncol * 32;
		snprintf(row, 32, "%.31s", i < n ? pk[i].name : "total");
		snprintf(row + 32, 32, "%llu", (unsigned long long)s->files);
		snprintf(row + 64, 32, "%llu", (unsigned long long)s->instructions);
		snprintf(row + 96, 32, "%.1f%%", share(s));
		snprintf(row + 128, 32, "%llu", (unsigned long long)s->pyc_bytes);
		snprintf(row + 160, 32, "%llu", (unsigned long long)s->oo_saved);
		snprintf(row + 192, 32, "%llu", (unsigned long long)s->memory);
		snprintf(row + 224, 32, "%llu", (unsigned long long)s->annotation_memory);
		for (size_t k = 0; 8 + k < ncol; k++)
			snprintf(row + 32 * (8 + k), 32, "%llu", (unsigned long long)s->findings[k]);
		for (size_t c = 0; c < ncol; c++)
			if (strlen(row + 32 * c) > w[c])
				w[c] = strlen(row + 32 * c);
		r++;
	}
	for (size_t c = 0; c < ncol; c++)
		printf(c ? "  %*s" : "%-*s", (int)w[c], head[c]);
	putchar('\n');
	for (size_t i = 0; i < r; i++) {
		for (size_t c = 0; c < ncol; c++)
			printf(c ? "  %*s" : "%-*s", (int)w[c], cell + (i * ncol + c) * 32);
		putchar('\n');
	}
	free(cell);
	printf("\nMost frequent redundant sequences:\n");
	size_t nw = 5;
	for (size_t i = 0; i < n; i++)
		if (pk[i].found && strlen(pk[i].name) > nw)
			nw = strlen(pk[i].name);
	for (size_t i = 0; i <= n; i++) {
		const struct stats *s = i < n ? &pk[i].s : total;
		if (i < n && !pk[i].found)
			continue;
		int t[3], nt = top_sequences(s, t);
		printf("  %-*s ", (int)nw, i < n ? pk[i].name : "total");
		for (int k = 0; k < nt; k++)
			printf("%s%s %llu", k ? ", " : "", seq_names[t[k]], (unsigned long long)s->seq[t[k]]);
		printf("%s\n", nt ? "" : "-");
	}
}

static void profile_usage(FILE *out)
{
	fputs("Usage: spipfix profile [OPTIONS] PACKAGE_OR_PATH...\n"
	      "\n"
	      "The bytecode footprint of installed packages or folders, per package and in total. An\n"
	      "argument that names an existing file or folder is that path; otherwise it is a package (or\n"
	      "module) name looked up on the target version's sys.path: its standard library plus\n"
	      "site.getsitepackages() (no .pth file is run). Every .py file under it is compiled by that\n"
	      "version's CPython with the file's path as its name, as the import system does\n"
	      "(symlinks not followed, __pycache__ skipped); nothing is imported or executed.\n"
	      "\n"
	      "Options:\n"
	      "      --format FORMAT  table (default) or json\n"
	      "      --target-version V  the CPython to compile and measure with: py311 (default), py312, py313\n"
	      "      --sort KEY       order packages by KEY, largest first: files, instructions, tests, pyc,\n"
	      "                       oo, memory, annotations, a rule code (SPF101, ...) or a sequence name;\n"
	      "                       `name` sorts by name. Default: the order given\n"
	      "  -q, --quiet          no progress line (it is shown only when stderr is a terminal)\n"
	      "  -h, --help           print this help\n"
	      "\n"
	      "Definitions (each reproducible from the code objects alone):\n"
	      "  INSTRUCTIONS  instructions of every code object, recursively through co_consts, as\n"
	      "                dis.get_instructions lists them: the code units of co_code that are not CACHE\n"
	      "                entries (EXTENDED_ARG counts as one).\n"
	      "  TESTS         share of INSTRUCTIONS in test code: files below a folder named tests or test\n"
	      "                (relative to the package root), or named test_*.py.\n"
	      "  PYC_BYTES     16 + len(marshal.dumps(code)) per file: the size of the .pyc the import\n"
	      "                system writes (header + marshal data).\n"
	      "  OO_SAVES      len(marshal.dumps(code)) - len(marshal.dumps(code compiled with\n"
	      "                optimize=2)) per file (never below 0): the docstrings and asserts -OO drops.\n"
	      "  MEMORY        marshal.loads(marshal.dumps(code)), then the sum of sys.getsizeof over every\n"
	      "                distinct object (by identity, within one file) reachable from it: each code\n"
	      "                object (its bytecode is stored inline) and its co_consts, co_names,\n"
	      "                co_localsplusnames, co_localspluskinds, co_linetable, co_exceptiontable,\n"
	      "                co_filename, co_name and co_qualname, and the items of tuples and frozensets\n"
	      "                among them; None, True, False and Ellipsis are not counted.\n"
	      "  ANNOTATIONS   MEMORY minus the MEMORY of the code compiled (optimize=0) from the same\n"
	      "                syntax tree with every annotation removed: parameter and return annotations\n"
	      "                dropped, `x: T = v` made `x = v`, `x: T` removed (per file, never below 0).\n"
	      "  SPFnnn        findings of each rule, from the same passes as `spipfix check` (files that are\n"
	      "                not UTF-8 or that check cannot analyse are measured but counted as\n"
	      "                `unanalysed`).\n"
	      "  Redundant sequences, in function-like code objects only (defs, lambdas, comprehensions;\n"
	      "  module and class bodies run once), over the decoded instructions (CACHE skipped,\n"
	      "  EXTENDED_ARG folded); the three most frequent are shown:\n"
	      "    store-reload           STORE_FAST x immediately followed by LOAD_FAST x.\n"
	      "    attr-reload            LOAD_FAST x immediately followed by LOAD_ATTR a, when the same\n"
	      "                           pair occurred earlier in the code object with no STORE_FAST or\n"
	      "                           DELETE_FAST of x, nor STORE_ATTR or DELETE_ATTR of a, in between\n"
	      "                           (in instruction order).\n"
	      "    global-reload-in-loop  a LOAD_GLOBAL of a name that an earlier LOAD_GLOBAL in the same loop\n"
	      "                           body loaded (a loop body: from a backward jump's target to the\n"
	      "                           jump; JUMP_BACKWARD_NO_INTERRUPT excluded); each instruction once.\n"
	      "    constant-display       a list, set or dict display of constants rebuilt each time:\n"
	      "                           BUILD_LIST/BUILD_SET n after n LOAD_CONST, BUILD_MAP n after 2n\n"
	      "                           LOAD_CONST, BUILD_CONST_KEY_MAP n after n+1 LOAD_CONST, or\n"
	      "                           BUILD_LIST/BUILD_SET 0, LOAD_CONST, LIST_EXTEND/SET_UPDATE 1 (n >= 1).\n"
	      "    constant-discard       LOAD_CONST immediately followed by POP_TOP.\n"
	      "    self-assign            LOAD_FAST x immediately followed by STORE_FAST x.\n"
	      "\n"
	      "Exit status: 0, or 2 when an argument is neither a path nor a package, or a file could not be\n"
	      "read or compiled (reported on stderr; the other files are still counted).\n",
	      out);
}

static void stats_add(struct stats *t, const struct stats *s, size_t npasses)
{
	t->files += s->files;
	t->errors += s->errors;
	t->unanalysed += s->unanalysed;
	t->instructions += s->instructions;
	t->test_instructions += s->test_instructions;
	t->pyc_bytes += s->pyc_bytes;
	t->oo_saved += s->oo_saved;
	t->memory += s->memory;
	t->annotation_memory += s->annotation_memory;
	for (size_t k = 0; k < npasses; k++)
		t->findings[k] += s->findings[k];
	for (int k = 0; k < NSEQ; k++)
		t->seq[k] += s->seq[k];
}

int profile_main(int argc, char **argv)
{
	enum { OPT_FORMAT = 256, OPT_SORT, OPT_TARGET };
	static const struct option longopts[] = {
		{"format", required_argument, NULL, OPT_FORMAT},
		{"target-version", required_argument, NULL, OPT_TARGET},
		{"sort", required_argument, NULL, OPT_SORT},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct profiler pr = {0};
	for (const struct pass *const *p = pass_registry; *p; p++)
		pr.npasses++;
	bool json = false, quiet = false;
	const char *sort = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "qh", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_FORMAT:
			if (strcmp(optarg, "json") && strcmp(optarg, "table")) {
				fprintf(stderr, "error: --format: expected table or json, got `%s`\n", optarg);
				return 2;
			}
			json = !strcmp(optarg, "json");
			break;
		case OPT_SORT: sort = optarg; break;
		case OPT_TARGET: {
			int minor = bridge_parse_version(optarg);
			if (minor < 0) {
				fprintf(stderr, "error: --target-version: unknown version `%s` (py311, py312, py313)\n", optarg);
				return 2;
			}
			if (bridge_select(minor) < 0)
				return 2;
			break;
		}
		case 'q': quiet = true; break;
		case 'h': profile_usage(stdout); return 0;
		default: fputs("Try 'spipfix profile --help' for more information.\n", stderr); return 2;
		}
	}
	struct sortkey key = {-1, 0};
	if (sort && parse_sort(sort, &pr, &key) < 0) {
		fprintf(stderr, "error: --sort: unknown key `%s` (see spipfix profile --help)\n", sort);
		return 2;
	}
	if (optind >= argc) {
		fputs("error: no package or path given\nUsage: spipfix profile [OPTIONS] PACKAGE_OR_PATH...\n", stderr);
		return 2;
	}
	size_t n = (size_t)(argc - optind);
	struct package *pk = calloc(n, sizeof *pk);
	struct stats total = {0};
	total.findings = calloc(pr.npasses + 1, sizeof *total.findings);
	int rc = 2;
	if (!pk || !total.findings)
		goto out;
	for (size_t i = 0; i < n; i++) {
		pk[i].arg = argv[optind + (int)i];
		if (!(pk[i].s.findings = calloc(pr.npasses + 1, sizeof *pk[i].s.findings)))
			goto out;
	}
	char *perr = NULL;
	if (bridge_init() < 0 || !(pr.py = bridge_ops()) || pr.py->profile_init(&perr) < 0) {
		fprintf(stderr, "error: cannot start Python %s%s%s\n", bridge_target_name(), perr ? ": " : "",
			perr ? perr : "");
		free(perr);
		goto out;
	}
	pr.progress = !quiet && isatty(STDERR_FILENO);
	bool missing = false;
	for (size_t i = 0; i < n; i++) {
		if (resolve(&pr, &pk[i]) < 0) {
			fprintf(stderr, "error: %s: %s\n", pk[i].arg, strerror(errno ? errno : ENOMEM));
			missing = true;
			continue;
		}
		if (!pk[i].found) {
			fprintf(stderr, "error: %s: no such file, folder or package on the sys.path of Python %s\n",
				pk[i].arg, bridge_target_name());
			missing = true;
			continue;
		}
		if (!pk[i].nroots)
			fprintf(stderr, "warning: %s: the package has no Python source (an extension module?)\n",
				pk[i].arg);
		profile_package(&pr, &pk[i]);
		stats_add(&total, &pk[i].s, pr.npasses);
	}
	if (pr.progress)
		fputs("\r\033[K", stderr);
	if (key.kind >= 0)
		qsort_r(pk, n, sizeof *pk, cmp_package, &key);
	if (json)
		print_json(&pr, pk, n, &total);
	else
		print_table(&pr, pk, n, &total);
	if (fflush(stdout) != 0) {
		fprintf(stderr, "error: cannot write the report: %s\n", strerror(errno));
		goto out;
	}
	rc = missing || total.errors ? 2 : 0;
out:
	for (size_t i = 0; pk && i < n; i++) {
		free(pk[i].name);
		for (size_t r = 0; r < pk[i].nroots; r++)
			free(pk[i].roots[r]);
		free(pk[i].roots);
		free(pk[i].s.findings);
	}
	free(pk);
	free(total.findings);
	bridge_fini();
	return rc;
}
