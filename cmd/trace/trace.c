/* `spipfix trace`: run a Python script in the embedded interpreter with a tracer written against
 * the C trace API (PyEval_SetTrace, PyTrace_OPCODE events) and count how often chosen
 * instructions execute, per instruction and per source line. The loader of the JSON it writes is
 * trace_file.c. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <opcode.h>

#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "bridge.h"
#include "cli.h"
#include "trace.h"

static const char *const default_ops[] = {"MAKE_FUNCTION", "BUILD_TUPLE", "BUILD_LIST",
					  "BUILD_SET",     "BUILD_MAP",   "LOAD_DEREF"};

/* ---- the tracer ------------------------------------------------------------------------ */

struct file_entry {
	char *name;     /* co_filename */
	char *path;     /* its real path when it names a file (at first sight), else NULL */
	bool counted;   /* matches a -f pattern, or no pattern was given */
	uint64_t total; /* instructions executed in this file (filled at the end) */
};

struct code_entry {
	PyObject *code;          /* strong reference while tracing; NULL once released */
	struct file_entry *file;
	uint64_t total;          /* opcode events in frames of this code object */
	int nunits;              /* code units of co_code */
	int32_t *slot;           /* per code unit: index of its tracked instruction, or -1 */
	int nslots;
	int *ops, *lines;        /* per slot: base opcode, 1-based line (0 when unknown) */
	uint64_t *counts;        /* per slot */
};

struct tracer {
	bool tracked[256];
	char *const *patterns;
	int npatterns;
	struct code_entry **codes; /* open addressing on the code object's address */
	size_t ncodes, capcodes;
	struct file_entry **files; /* open addressing on the file name */
	size_t nfiles, capfiles;
	struct code_entry *last;   /* the entry of the previous event: most events repeat it */
	PyObject *s_opcodes, *s_lines;
	bool failed;               /* out of memory while tracing: counts are incomplete */
	bool stopped;
};

static size_t hash_ptr(const void *p)
{
	uint64_t x = (uint64_t)(uintptr_t)p;
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return (size_t)x;
}

static size_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return (size_t)h;
}

static bool pattern_matches(const char *pat, const char *name, const char *path)
{
	if (!strchr(pat, '/')) {
		const char *base = strrchr(name, '/');
		return fnmatch(pat, base ? base + 1 : name, 0) == 0;
	}
	return fnmatch(pat, name, 0) == 0 || (path && fnmatch(pat, path, 0) == 0);
}

static struct file_entry *file_for(struct tracer *t, const char *name)
{
	if ((t->nfiles + 1) * 2 > t->capfiles) {
		size_t cap = t->capfiles ? t->capfiles * 2 : 64;
		struct file_entry **nv = calloc(cap, sizeof *nv);
		if (!nv)
			return NULL;
		for (size_t i = 0; i < t->capfiles; i++) {
			if (!t->files[i])
				continue;
			size_t h = hash_str(t->files[i]->name) & (cap - 1);
			while (nv[h])
				h = (h + 1) & (cap - 1);
			nv[h] = t->files[i];
		}
		free(t->files);
		t->files = nv;
		t->capfiles = cap;
	}
	size_t mask = t->capfiles - 1, h = hash_str(name) & mask;
	for (; t->files[h]; h = (h + 1) & mask)
		if (!strcmp(t->files[h]->name, name))
			return t->files[h];
	struct file_entry *f = calloc(1, sizeof *f);
	if (!f || !(f->name = strdup(name))) {
		free(f);
		return NULL;
	}
	char buf[PATH_MAX];
	if (name[0] != '<' && realpath(name, buf))
		f->path = strdup(buf);
	f->counted = t->npatterns == 0;
	for (int i = 0; i < t->npatterns && !f->counted; i++)
		f->counted = pattern_matches(t->patterns[i], f->name, f->path);
	t->files[h] = f;
	t->nfiles++;
	return f;
}

/* The instruction table of a code object, read from its deoptimised bytecode (PyCode_GetCode),
 * so that specialised forms count as their base instruction. An EXTENDED_ARG unit belongs to the
 * instruction it prefixes (the tracer reports the prefix, not the instruction). co: borrowed. */
static int fill_slots(struct tracer *t, struct code_entry *e, PyCodeObject *co)
{
	PyObject *bytes = PyCode_GetCode(co); /* new reference */
	if (!bytes)
		return -1;
	int rc = -1;
	const unsigned char *b = (const unsigned char *)PyBytes_AS_STRING(bytes);
	size_t n = (size_t)PyBytes_GET_SIZE(bytes) / 2;
	size_t nslots = 0;
	for (size_t i = 0; i < n; i++)
		nslots += b[2 * i] != CACHE && b[2 * i] != EXTENDED_ARG && t->tracked[b[2 * i]];
	if (n > INT_MAX / 2)
		goto out;
	e->nunits = (int)n;
	e->slot = malloc(sizeof *e->slot * (n ? n : 1));
	e->ops = malloc(sizeof *e->ops * (nslots ? nslots : 1));
	e->lines = malloc(sizeof *e->lines * (nslots ? nslots : 1));
	e->counts = calloc(nslots ? nslots : 1, sizeof *e->counts);
	if (!e->slot || !e->ops || !e->lines || !e->counts)
		goto out;
	int run = -1; /* first unit of a pending EXTENDED_ARG run */
	for (int i = 0; i < (int)n; i++) {
		int op = b[2 * i];
		e->slot[i] = -1;
		if (op == CACHE)
			continue;
		if (op == EXTENDED_ARG) {
			if (run < 0)
				run = i;
			continue;
		}
		if (t->tracked[op]) {
			int s = e->nslots++;
			e->ops[s] = op;
			int line = PyCode_Addr2Line(co, 2 * i);
			e->lines[s] = line > 0 ? line : 0;
			e->slot[i] = s;
			for (int k = run < 0 ? i : run; k < i; k++)
				e->slot[k] = s;
		}
		run = -1;
	}
	rc = 0;
out:
	Py_DECREF(bytes);
	return rc;
}

static void entry_free(struct code_entry *e)
{
	if (!e)
		return;
	free(e->slot);
	free(e->ops);
	free(e->lines);
	free(e->counts);
	free(e);
}

/* The entry of a code object, created on first sight (co: borrowed; the entry keeps a strong
 * reference so that the address stays unique while tracing). NULL when out of memory. */
static struct code_entry *entry_for(struct tracer *t, PyCodeObject *co)
{
	if (t->last && t->last->code == (PyObject *)co)
		return t->last;
	if ((t->ncodes + 1) * 2 > t->capcodes) {
		size_t cap = t->capcodes ? t->capcodes * 2 : 1024;
		struct code_entry **nv = calloc(cap, sizeof *nv);
		if (!nv)
			return NULL;
		for (size_t i = 0; i < t->capcodes; i++) {
			if (!t->codes[i])
				continue;
			size_t h = hash_ptr(t->codes[i]->code) & (cap - 1);
			while (nv[h])
				h = (h + 1) & (cap - 1);
			nv[h] = t->codes[i];
		}
		free(t->codes);
		t->codes = nv;
		t->capcodes = cap;
	}
	size_t mask = t->capcodes - 1, h = hash_ptr(co) & mask;
	for (; t->codes[h]; h = (h + 1) & mask)
		if (t->codes[h]->code == (PyObject *)co)
			return t->last = t->codes[h];
	struct code_entry *e = calloc(1, sizeof *e);
	if (!e)
		return NULL;
	const char *fname = PyUnicode_Check(co->co_filename) ? PyUnicode_AsUTF8(co->co_filename) : NULL;
	if (!fname)
		PyErr_Clear();
	e->file = file_for(t, fname ? fname : "<unknown>");
	if (!e->file || (e->file->counted && fill_slots(t, e, co) < 0)) {
		PyErr_Clear();
		entry_free(e);
		return NULL;
	}
	Py_INCREF(co);
	e->code = (PyObject *)co;
	t->codes[h] = e;
	t->ncodes++;
	return t->last = e;
}

/* The trace function. obj: borrowed capsule holding the tracer; frame: borrowed. Never raises
 * into the traced program: on failure it marks the counts incomplete and stops tracing. */
static int on_event(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg)
{
	(void)arg;
	if (what != PyTrace_OPCODE && what != PyTrace_CALL)
		return 0;
	struct tracer *t = PyCapsule_GetPointer(obj, NULL);
	PyCodeObject *co = PyFrame_GetCode(frame); /* new reference */
	struct code_entry *e = t ? entry_for(t, co) : NULL;
	Py_DECREF(co);
	if (!e) {
		if (t)
			t->failed = true;
		PyErr_Clear();
		PyEval_SetTrace(NULL, NULL);
		return 0;
	}
	if (!e->slot)
		return 0; /* a file the -f patterns leave out */
	if (what == PyTrace_CALL) {
		/* opcode events for this frame, line events off */
		if (PyObject_SetAttr((PyObject *)frame, t->s_opcodes, Py_True) < 0 ||
		    PyObject_SetAttr((PyObject *)frame, t->s_lines, Py_False) < 0)
			PyErr_Clear();
		return 0;
	}
	e->total++;
	int unit = PyFrame_GetLasti(frame) / 2;
	if (unit >= 0 && unit < e->nunits && e->slot[unit] >= 0)
		e->counts[e->slot[unit]]++;
	return 0;
}

/* Stop tracing and release the code objects; registered with Python's atexit first, so it runs
 * after the program's own exit handlers and before the interpreter is torn down.
 * self: borrowed capsule. Returns a new reference to None. */
static PyObject *stop_tracing(PyObject *self, PyObject *unused)
{
	(void)unused;
	struct tracer *t = PyCapsule_GetPointer(self, NULL);
	PyEval_SetTrace(NULL, NULL);
	if (t && !t->stopped) {
		t->stopped = true;
		for (size_t i = 0; i < t->capcodes; i++)
			if (t->codes[i])
				Py_CLEAR(t->codes[i]->code);
		Py_CLEAR(t->s_opcodes);
		Py_CLEAR(t->s_lines);
	}
	PyErr_Clear();
	Py_RETURN_NONE;
}

static PyMethodDef stop_def = {"_spipfix_stop_trace", stop_tracing, METH_NOARGS, NULL};

/* ---- the report ------------------------------------------------------------------------ */

struct row {
	const struct file_entry *file;
	int line, op;
	uint64_t count;
};

struct report {
	uint64_t total, tracked;
	uint64_t by_op[256];
	struct row *rows; /* aggregated by (file, line, op), most executed first */
	size_t nrows;
	const struct file_entry **files; /* counted files that executed, by name */
	size_t nfiles;
};

static int cmp_row_key(const void *pa, const void *pb)
{
	const struct row *a = pa, *b = pb;
	int c = strcmp(a->file->name, b->file->name);
	if (c)
		return c;
	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	return a->op - b->op;
}

static char *opnames[256];

static int cmp_row_count(const void *pa, const void *pb)
{
	const struct row *a = pa, *b = pb;
	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	int c = strcmp(a->file->name, b->file->name);
	if (c)
		return c;
	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	return strcmp(opnames[a->op], opnames[b->op]);
}

static int cmp_file(const void *pa, const void *pb)
{
	return strcmp((*(const struct file_entry *const *)pa)->name, (*(const struct file_entry *const *)pb)->name);
}

static int build_report(struct tracer *t, struct report *r)
{
	memset(r, 0, sizeof *r);
	size_t nslots = 0;
	for (size_t i = 0; i < t->capcodes; i++) {
		struct code_entry *e = t->codes[i];
		if (!e)
			continue;
		nslots += (size_t)e->nslots;
		r->total += e->total;
		e->file->total += e->total;
	}
	r->rows = malloc(sizeof *r->rows * (nslots ? nslots : 1));
	r->files = malloc(sizeof *r->files * (t->nfiles ? t->nfiles : 1));
	if (!r->rows || !r->files)
		return -1;
	for (size_t i = 0; i < t->capcodes; i++) {
		struct code_entry *e = t->codes[i];
		for (int s = 0; e && s < e->nslots; s++) {
			r->by_op[e->ops[s]] += e->counts[s];
			r->tracked += e->counts[s];
			if (e->counts[s])
				r->rows[r->nrows++] = (struct row){e->file, e->lines[s], e->ops[s], e->counts[s]};
		}
	}
	if (r->nrows > 1)
		qsort(r->rows, r->nrows, sizeof *r->rows, cmp_row_key);
	size_t k = 0;
	for (size_t i = 0; i < r->nrows; i++) {
		if (k && !cmp_row_key(&r->rows[k - 1], &r->rows[i]))
			r->rows[k - 1].count += r->rows[i].count;
		else
			r->rows[k++] = r->rows[i];
	}
	r->nrows = k;
	if (r->nrows > 1)
		qsort(r->rows, r->nrows, sizeof *r->rows, cmp_row_count);
	for (size_t i = 0; i < t->capfiles; i++)
		if (t->files[i] && t->files[i]->counted && t->files[i]->total)
			r->files[r->nfiles++] = t->files[i];
	if (r->nfiles > 1)
		qsort(r->files, r->nfiles, sizeof *r->files, cmp_file);
	return 0;
}

static int digits(uint64_t v)
{
	int d = 1;
	while (v >= 10) {
		v /= 10;
		d++;
	}
	return d;
}

static void print_text(FILE *out, const struct report *r, const int *ops, int nops, long limit)
{
	fprintf(out, "tracked / total instructions: %llu / %llu", (unsigned long long)r->tracked,
		(unsigned long long)r->total);
	if (r->total)
		fprintf(out, " (%.2f%%)", 100.0 * (double)r->tracked / (double)r->total);
	fputs("\n\n", out);
	uint64_t maxc = 0;
	for (int i = 0; i < nops; i++)
		maxc = r->by_op[ops[i]] > maxc ? r->by_op[ops[i]] : maxc;
	for (size_t i = 0; i < r->nrows; i++)
		maxc = r->rows[i].count > maxc ? r->rows[i].count : maxc;
	int w = digits(maxc) > 5 ? digits(maxc) : 5;
	/* instructions by count, then by name */
	int order[256];
	for (int i = 0; i < nops; i++)
		order[i] = ops[i];
	for (int i = 1; i < nops; i++)
		for (int j = i; j > 0; j--) {
			uint64_t a = r->by_op[order[j - 1]], b = r->by_op[order[j]];
			if (a > b || (a == b && strcmp(opnames[order[j - 1]], opnames[order[j]]) <= 0))
				break;
			int tmp = order[j];
			order[j] = order[j - 1];
			order[j - 1] = tmp;
		}
	fprintf(out, "%*s | INSTRUCTION\n", w, "COUNT");
	for (int i = 0; i < nops; i++)
		fprintf(out, "%*llu | %s\n", w, (unsigned long long)r->by_op[order[i]], opnames[order[i]]);
	fprintf(out, "\n%*s | LOCATION\n", w, "COUNT");
	size_t shown = limit > 0 && (size_t)limit < r->nrows ? (size_t)limit : r->nrows;
	for (size_t i = 0; i < shown; i++)
		fprintf(out, "%*llu | %s:%d (%s)\n", w, (unsigned long long)r->rows[i].count, r->rows[i].file->name,
			r->rows[i].line, opnames[r->rows[i].op]);
	if (shown < r->nrows)
		fprintf(out, "%*s | ... %zu more (--limit 0 shows all)\n", w, "", r->nrows - shown);
}

static int print_json(FILE *out, const struct report *r, const int *ops, int nops, char *const *cmd, int ncmd,
		      char *const *patterns, int npatterns, bool failed)
{
	json_t *root = json_object(), *a;
	if (!root)
		return -1;
	json_object_set_new(root, "format", json_string("spipfix-trace/1"));
	json_object_set_new(root, "command", a = json_array());
	for (int i = 0; i < ncmd; i++)
		json_array_append_new(a, json_string(cmd[i]));
	json_object_set_new(root, "instructions", a = json_array());
	for (int i = 0; i < nops; i++)
		json_array_append_new(a, json_string(opnames[ops[i]]));
	json_object_set_new(root, "file_patterns", a = json_array());
	for (int i = 0; i < npatterns; i++)
		json_array_append_new(a, json_string(patterns[i]));
	json_object_set_new(root, "complete", json_boolean(!failed));
	json_object_set_new(root, "total_instructions", json_integer((json_int_t)r->total));
	json_object_set_new(root, "tracked_instructions", json_integer((json_int_t)r->tracked));
	json_object_set_new(root, "by_instruction", a = json_array());
	for (int i = 0; i < nops; i++)
		json_array_append_new(a, json_pack("{s:s, s:I}", "instruction", opnames[ops[i]], "count",
						   (json_int_t)r->by_op[ops[i]]));
	json_object_set_new(root, "by_location", a = json_array());
	for (size_t i = 0; i < r->nrows; i++) {
		const struct row *w = &r->rows[i];
		json_array_append_new(a, json_pack("{s:s, s:o, s:i, s:s, s:I}", "file", w->file->name, "path",
						   w->file->path ? json_string(w->file->path) : json_null(), "line",
						   w->line, "instruction", opnames[w->op], "count",
						   (json_int_t)w->count));
	}
	json_object_set_new(root, "files", a = json_array());
	for (size_t i = 0; i < r->nfiles; i++)
		json_array_append_new(a, json_pack("{s:s, s:o, s:I}", "file", r->files[i]->name, "path",
						   r->files[i]->path ? json_string(r->files[i]->path) : json_null(),
						   "instructions", (json_int_t)r->files[i]->total));
	int rc = json_dumpf(root, out, JSON_INDENT(1) | JSON_ENSURE_ASCII) == 0 ? 0 : -1;
	fputc('\n', out);
	json_decref(root);
	return rc;
}

/* ---- the subcommand -------------------------------------------------------------------- */

static void trace_usage(FILE *out)
{
	fputs("Usage: spipfix trace [OPTIONS] SCRIPT [ARGS...]\n"
	      "       spipfix trace [OPTIONS] -m MODULE [ARGS...]\n"
	      "\n"
	      "Run a Python program in the interpreter embedded in spipfix (Debian's CPython, with its\n"
	      "site-packages, like /usr/bin/python3 SCRIPT) and count how often chosen instructions\n"
	      "execute, per instruction and per source line. The program gets its arguments; its stdout,\n"
	      "stderr and exit status pass through unchanged, an uncaught exception is printed as Python\n"
	      "prints it. The report follows the program's output on stdout (or goes to --output).\n"
	      "\n"
	      "Options:\n"
	      "  -i, --instructions OP  Count instruction OP (repeatable, or comma-separated). Default:\n"
	      "                         MAKE_FUNCTION, BUILD_TUPLE, BUILD_LIST, BUILD_SET, BUILD_MAP, LOAD_DEREF\n"
	      "  -f, --file PATTERN     Count only code from files matching PATTERN (repeatable): a shell\n"
	      "                         glob matched against the base name when it has no '/', else against\n"
	      "                         the file name as Python knows it (co_filename) and its real path\n"
	      "  -m MODULE              Run MODULE as `python3 -m MODULE`; what follows is its arguments\n"
	      "      --format FORMAT    text (default) or json (the input of `spipfix --trace-profile`)\n"
	      "  -o, --output FILE      Write the report to FILE instead of stdout\n"
	      "  -n, --limit N          Rows of the text location table (default 30; 0 = all)\n"
	      "  -h, --help             Print this help\n"
	      "\n"
	      "What is counted: every instruction the main thread executes in code from the counted files,\n"
	      "from the start of the program until its last exit handler, as opcode events of the C trace\n"
	      "API (frames get f_trace_opcodes on their call event). An instruction is named by its base\n"
	      "form: the opcode is read from the code object's deoptimised bytecode, so a specialised form\n"
	      "(LOAD_ATTR_INSTANCE_VALUE, ...) counts as LOAD_ATTR; an EXTENDED_ARG prefix counts as the\n"
	      "instruction it extends. \"total\" is the number of those events, \"tracked\" the events of the\n"
	      "chosen instructions. A location is file:line of the instruction (co_positions), with the\n"
	      "file named as in tracebacks. Threads other than the main one are not traced; a program that\n"
	      "calls sys.settrace replaces the tracer; one that ends with os._exit() gets no report.\n"
	      "\n"
	      "Use the JSON report to order findings by how often their site ran:\n"
	      "  spipfix trace --format json -o trace.json app.py && spipfix --diff --trace-profile trace.json src/\n"
	      "\n"
	      "Exit status: the program's, or 2 for a usage error.\n",
	      out);
}

/* Opcode names of the running interpreter (opcode.opname), copied; no reference is kept.
 * Returns 0 / -1. */
static int load_opnames(void)
{
	PyObject *mod = PyImport_ImportModule("opcode");                  /* new reference */
	PyObject *names = mod ? PyObject_GetAttrString(mod, "opname") : NULL; /* new reference */
	int rc = -1;
	if (!names || !PyList_Check(names))
		goto out;
	for (Py_ssize_t i = 0; i < PyList_GET_SIZE(names) && i < 256; i++) {
		const char *s = PyUnicode_AsUTF8(PyList_GET_ITEM(names, i));
		if (!s || !(opnames[i] = strdup(s)))
			goto out;
	}
	rc = 0;
out:
	Py_XDECREF(names);
	Py_XDECREF(mod);
	PyErr_Clear();
	return rc;
}

static void free_opnames(void)
{
	for (int i = 0; i < 256; i++) {
		free(opnames[i]);
		opnames[i] = NULL;
	}
}

static int opcode_of(const char *name)
{
	for (int i = 0; i < 256; i++)
		if (opnames[i] && opnames[i][0] != '<' && !strcasecmp(opnames[i], name) && i != CACHE)
			return i;
	return -1;
}

/* One traced run; static because the report may be written from exit(3) (Python's Py_Exit ends
 * the process on SystemExit). */
static struct session {
	struct tracer t;
	int ops[256], nops;
	char **cmd;
	int ncmd;
	FILE *out;
	const char *out_path;
	bool json;
	long limit;
	bool done;
} S;

static void tracer_free(struct tracer *t)
{
	for (size_t i = 0; i < t->capcodes; i++)
		entry_free(t->codes[i]);
	free(t->codes);
	for (size_t i = 0; i < t->capfiles; i++)
		if (t->files[i]) {
			free(t->files[i]->name);
			free(t->files[i]->path);
			free(t->files[i]);
		}
	free(t->files);
	memset(t, 0, sizeof *t);
}

/* Write the report once; returns 0 / -1. */
static int emit_report(void)
{
	if (S.done)
		return 0;
	S.done = true;
	int rc = -1;
	struct report r;
	if (build_report(&S.t, &r) == 0) {
		if (S.t.failed)
			fputs("spipfix trace: out of memory while tracing; the counts are incomplete\n", stderr);
		if (S.json)
			rc = print_json(S.out, &r, S.ops, S.nops, S.cmd, S.ncmd, S.t.patterns, S.t.npatterns,
					S.t.failed);
		else {
			print_text(S.out, &r, S.ops, S.nops, S.limit);
			rc = 0;
		}
	}
	if (fflush(S.out) != 0 || ferror(S.out))
		rc = -1;
	if (S.out != stdout && fclose(S.out) != 0)
		rc = -1;
	if (rc < 0)
		fprintf(stderr, "spipfix trace: cannot write the report to %s\n", S.out_path ? S.out_path : "stdout");
	free(r.rows);
	free(r.files);
	tracer_free(&S.t);
	free_opnames();
	free(S.cmd);
	return rc;
}

static void emit_at_exit(void) { emit_report(); }

static int add_ops(const char *list)
{
	char *copy = strdup(list);
	if (!copy)
		return -1;
	int rc = 0;
	for (char *save, *tok = strtok_r(copy, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
		int op = opcode_of(tok);
		if (op < 0) {
			fprintf(stderr, "error: unknown instruction `%s` (names as in the `dis` module of Python %d.%d;"
					" specialised forms count as their base instruction)\n",
				tok, PY_MAJOR_VERSION, PY_MINOR_VERSION);
			rc = -1;
			break;
		}
		if (!S.t.tracked[op] && S.nops < 256) {
			S.t.tracked[op] = true;
			S.ops[S.nops++] = op;
		}
	}
	free(copy);
	return rc;
}

int trace_main(int argc, char **argv)
{
	enum { OPT_FORMAT = 256 };
	static const struct option longopts[] = {
		{"instructions", required_argument, NULL, 'i'},
		{"file", required_argument, NULL, 'f'},
		{"format", required_argument, NULL, OPT_FORMAT},
		{"output", required_argument, NULL, 'o'},
		{"limit", required_argument, NULL, 'n'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	memset(&S, 0, sizeof S);
	S.limit = 30;
	const char *module = NULL, **opargs = NULL;
	char **patterns = NULL;
	int nopargs = 0, npatterns = 0, c, rc = 2;
	opargs = calloc((size_t)argc + 1, sizeof *opargs);
	patterns = calloc((size_t)argc + 1, sizeof *patterns);
	if (!opargs || !patterns)
		goto out;
	optind = 1;
	while (!module && (c = getopt_long(argc, argv, "+i:f:m:o:n:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'i': opargs[nopargs++] = optarg; break;
		case 'f': patterns[npatterns++] = optarg; break;
		case 'm': module = optarg; break;
		case 'o': S.out_path = optarg; break;
		case 'n': {
			char *end;
			errno = 0;
			S.limit = strtol(optarg, &end, 10);
			if (errno || *end || S.limit < 0) {
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
			S.json = !strcmp(optarg, "json");
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
	/* the program's argv: [script, args...] or ["-m", args...] as python3 sets it */
	S.ncmd = 1 + (argc - optind);
	S.cmd = calloc((size_t)S.ncmd + 2, sizeof *S.cmd);
	if (!S.cmd)
		goto out;
	S.cmd[0] = module ? "-m" : (char *)script;
	for (int i = optind; i < argc; i++)
		S.cmd[1 + i - optind] = argv[i];
	S.out = stdout;
	if (S.out_path && !(S.out = fopen(S.out_path, "w"))) {
		fprintf(stderr, "error: %s: %s\n", S.out_path, strerror(errno));
		goto out;
	}

	PyConfig cfg;
	PyConfig_InitPythonConfig(&cfg);
	cfg.parse_argv = 0;
	PyStatus st = PyConfig_SetString(&cfg, &cfg.program_name, L"/usr/bin/python3");
	if (!PyStatus_Exception(st))
		st = PyConfig_SetBytesArgv(&cfg, S.ncmd, S.cmd);
	if (!PyStatus_Exception(st))
		st = module ? PyConfig_SetBytesString(&cfg, &cfg.run_module, module)
			    : PyConfig_SetBytesString(&cfg, &cfg.run_filename, script);
	if (!PyStatus_Exception(st))
		st = Py_InitializeFromConfig(&cfg);
	PyConfig_Clear(&cfg);
	if (PyStatus_Exception(st)) {
		if (PyStatus_IsExit(st)) {
			rc = st.exitcode;
			goto out;
		}
		fprintf(stderr, "spipfix trace: cannot start the embedded Python: %s\n",
			st.err_msg ? st.err_msg : "unknown error");
		goto out;
	}
	if (load_opnames() < 0) {
		fputs("spipfix trace: cannot read the opcode names of the embedded Python\n", stderr);
		goto fini;
	}
	for (int i = 0; i < nopargs; i++)
		if (add_ops(opargs[i]) < 0)
			goto fini;
	for (size_t i = 0; !nopargs && i < sizeof default_ops / sizeof *default_ops; i++)
		if (add_ops(default_ops[i]) < 0)
			goto fini;
	S.t.patterns = patterns;
	S.t.npatterns = npatterns;
	S.t.s_opcodes = PyUnicode_InternFromString("f_trace_opcodes"); /* new reference */
	S.t.s_lines = PyUnicode_InternFromString("f_trace_lines");     /* new reference */
	PyObject *cap = PyCapsule_New(&S.t, NULL, NULL);                 /* new reference */
	PyObject *stop = cap ? PyCFunction_New(&stop_def, cap) : NULL;    /* new reference */
	PyObject *ax = PyImport_ImportModule("atexit");                    /* new reference */
	PyObject *reg = stop && ax ? PyObject_CallMethod(ax, "register", "O", stop) : NULL; /* new reference */
	bool ready = reg && S.t.s_opcodes && S.t.s_lines && atexit(emit_at_exit) == 0;
	Py_XDECREF(reg);
	Py_XDECREF(ax);
	Py_XDECREF(stop);
	if (!ready) {
		Py_XDECREF(cap);
		PyErr_Print();
		fputs("spipfix trace: cannot install the tracer\n", stderr);
		goto fini;
	}
	PyEval_SetTrace(on_event, cap); /* holds its own reference until tracing stops */
	Py_DECREF(cap);
	/* runs the program exactly as python3 does (sys.path[0], exceptions, SystemExit), then
	 * finalises the interpreter; a SystemExit ends the process in exit(3), where emit_at_exit
	 * writes the report */
	rc = Py_RunMain();
	if (emit_report() < 0 && rc == 0)
		rc = 2;
	S.out = NULL;
	goto out;
fini:
	Py_FinalizeEx();
	free_opnames();
	tracer_free(&S.t);
	free(S.cmd);
	S.done = true;
out:
	if (S.out && S.out != stdout)
		fclose(S.out);
	free(opargs);
	free(patterns);
	return rc;
}
