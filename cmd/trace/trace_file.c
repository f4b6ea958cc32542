/* The loader of a JSON trace written by `spipfix trace --format json`, and the execution count
 * of a finding's own instruction in it: what `--trace-profile FILE` gives the engine. */
#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "bridge.h"
#include "pass.h"
#include "trace.h"

/* ---- the loader of a JSON trace ---------------------------------------------------------- */

struct tp_file {
	char *file, *path;
};

struct tp_row {
	size_t file;
	int line, op;
	long long count;
};

struct tp_pos {            /* by_position: an instruction's whole position */
	size_t file;
	int line, col, end_line, end_col, op;
	long long count;
};

struct tp_code {           /* code_objects */
	size_t file;
	char *qualname;
	int firstlineno;
	long long calls;
};

struct trace_profile {
	char **ops;
	size_t nops;
	struct tp_file *files; /* sorted by file */
	size_t nfiles;
	struct tp_row *rows;   /* sorted by (file, line, op) */
	size_t nrows;
	struct tp_pos *pos;    /* sorted by (file, line, col) */
	size_t npos;
	bool has_pos;          /* the trace records positions and calls (newer traces) */
	struct tp_code *codes;
	size_t ncodes;
	char python[32];       /* the run: its Python version, processes and instructions */
	int processes;
	long long instructions;
	char *last_query;      /* the previous lookup's path and its file index */
	long last_file;
};

void trace_profile_free(struct trace_profile *tp)
{
	if (!tp)
		return;
	for (size_t i = 0; i < tp->nops; i++)
		free(tp->ops[i]);
	free(tp->ops);
	for (size_t i = 0; i < tp->nfiles; i++) {
		free(tp->files[i].file);
		free(tp->files[i].path);
	}
	free(tp->files);
	free(tp->rows);
	free(tp->pos);
	for (size_t i = 0; i < tp->ncodes; i++)
		free(tp->codes[i].qualname);
	free(tp->codes);
	free(tp->last_query);
	free(tp);
}

void trace_profile_summary(const struct trace_profile *tp, char *python, size_t cap, int *processes,
			   long long *instructions)
{
	snprintf(python, cap, "%s", tp->python);
	*processes = tp->processes;
	*instructions = tp->instructions;
}

static int cmp_tp_file(const void *a, const void *b)
{
	return strcmp(((const struct tp_file *)a)->file, ((const struct tp_file *)b)->file);
}

static int cmp_tp_row(const void *pa, const void *pb)
{
	const struct tp_row *a = pa, *b = pb;
	if (a->file != b->file)
		return a->file < b->file ? -1 : 1;
	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	return a->op - b->op;
}

static int cmp_tp_pos(const void *pa, const void *pb)
{
	const struct tp_pos *a = pa, *b = pb;
	if (a->file != b->file)
		return a->file < b->file ? -1 : 1;
	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	return a->col < b->col ? -1 : a->col > b->col;
}

/* The index of a file named in the trace, or NULL when it is not listed. */
static struct tp_file *tp_file_named(struct trace_profile *tp, const char *name)
{
	struct tp_file key = {(char *)name, NULL};
	return tp->nfiles ? bsearch(&key, tp->files, tp->nfiles, sizeof *tp->files, cmp_tp_file) : NULL;
}

static int tp_op(const struct trace_profile *tp, const char *name)
{
	for (size_t k = 0; k < tp->nops; k++)
		if (!strcmp(tp->ops[k], name))
			return (int)k;
	return -1;
}

static void fail(char **err, const char *path, const char *what)
{
	size_t n = strlen(path) + strlen(what) + 64;
	char *m = malloc(n);
	if (m)
		snprintf(m, n, "%s: not a trace written by `spipfix trace --format json`: %s", path, what);
	*err = m;
}

struct trace_profile *trace_profile_load(const char *path, char **err)
{
	*err = NULL;
	json_error_t je;
	json_t *root = json_load_file(path, 0, &je);
	if (!root) {
		size_t n = strlen(path) + strlen(je.text) + 64;
		if ((*err = malloc(n)))
			snprintf(*err, n, "%s:%d: %s", path, je.line, je.text);
		return NULL;
	}
	struct trace_profile *tp = calloc(1, sizeof *tp);
	json_t *fmt = json_object_get(root, "format"), *ops = json_object_get(root, "instructions");
	json_t *files = json_object_get(root, "files"), *rows = json_object_get(root, "by_location");
	const char *bad = NULL;
	if (!tp)
		bad = "out of memory";
	else if (!json_is_string(fmt) || strcmp(json_string_value(fmt), "spipfix-trace/1") != 0)
		bad = "\"format\" is not \"spipfix-trace/1\"";
	else if (!json_is_array(ops) || !json_is_array(files) || !json_is_array(rows))
		bad = "\"instructions\", \"files\" and \"by_location\" must be arrays";
	if (bad)
		goto bad;
	tp->ops = calloc(json_array_size(ops) + 1, sizeof *tp->ops);
	tp->files = calloc(json_array_size(files) + 1, sizeof *tp->files);
	tp->rows = calloc(json_array_size(rows) + 1, sizeof *tp->rows);
	if (!tp->ops || !tp->files || !tp->rows) {
		bad = "out of memory";
		goto bad;
	}
	size_t i;
	json_t *v;
	json_array_foreach(ops, i, v)
	{
		if (!json_is_string(v) || !(tp->ops[tp->nops++] = strdup(json_string_value(v)))) {
			bad = "an instruction name is not a string";
			goto bad;
		}
	}
	json_array_foreach(files, i, v)
	{
		json_t *f = json_object_get(v, "file"), *p = json_object_get(v, "path");
		if (!json_is_string(f) || !(json_is_string(p) || json_is_null(p))) {
			bad = "an entry of \"files\" lacks \"file\" or \"path\"";
			goto bad;
		}
		struct tp_file *tf = &tp->files[tp->nfiles++];
		tf->file = strdup(json_string_value(f));
		tf->path = json_is_string(p) ? strdup(json_string_value(p)) : NULL;
		if (!tf->file || (json_is_string(p) && !tf->path)) {
			bad = "out of memory";
			goto bad;
		}
	}
	if (tp->nfiles > 1)
		qsort(tp->files, tp->nfiles, sizeof *tp->files, cmp_tp_file);
	json_array_foreach(rows, i, v)
	{
		json_t *f = json_object_get(v, "file"), *l = json_object_get(v, "line");
		json_t *o = json_object_get(v, "instruction"), *n = json_object_get(v, "count");
		if (!json_is_string(f) || !json_is_integer(l) || !json_is_string(o) || !json_is_integer(n) ||
		    json_integer_value(n) < 0) {
			bad = "an entry of \"by_location\" lacks \"file\", \"line\", \"instruction\" or \"count\"";
			goto bad;
		}
		struct tp_file key = {(char *)json_string_value(f), NULL};
		struct tp_file *hit = tp->nfiles ? bsearch(&key, tp->files, tp->nfiles, sizeof *tp->files, cmp_tp_file)
						 : NULL;
		int op = -1;
		for (size_t k = 0; k < tp->nops && op < 0; k++)
			if (!strcmp(tp->ops[k], json_string_value(o)))
				op = (int)k;
		if (!hit || op < 0) {
			bad = "a location names a file or an instruction that the trace does not list";
			goto bad;
		}
		tp->rows[tp->nrows++] = (struct tp_row){(size_t)(hit - tp->files), (int)json_integer_value(l), op,
							 (long long)json_integer_value(n)};
	}
	if (tp->nrows > 1)
		qsort(tp->rows, tp->nrows, sizeof *tp->rows, cmp_tp_row);
	json_t *pos = json_object_get(root, "by_position"), *codes = json_object_get(root, "code_objects");
	if (json_is_array(pos) && json_is_array(codes)) {
		tp->has_pos = true;
		tp->pos = calloc(json_array_size(pos) + 1, sizeof *tp->pos);
		tp->codes = calloc(json_array_size(codes) + 1, sizeof *tp->codes);
		if (!tp->pos || !tp->codes) {
			bad = "out of memory";
			goto bad;
		}
		json_array_foreach(pos, i, v)
		{
			json_t *f = json_object_get(v, "file"), *o = json_object_get(v, "instruction");
			json_t *n = json_object_get(v, "count");
			const char *keys[] = {"line", "column", "end_line", "end_column"};
			int val[4];
			bool ok = json_is_string(f) && json_is_string(o) && json_is_integer(n) && json_integer_value(n) >= 0;
			for (int k = 0; k < 4 && ok; k++) {
				json_t *x = json_object_get(v, keys[k]);
				ok = json_is_integer(x) && json_integer_value(x) >= INT_MIN && json_integer_value(x) <= INT_MAX;
				val[k] = ok ? (int)json_integer_value(x) : 0;
			}
			struct tp_file *hit = ok ? tp_file_named(tp, json_string_value(f)) : NULL;
			int op = ok ? tp_op(tp, json_string_value(o)) : -1;
			if (!ok || !hit || op < 0) {
				bad = "an entry of \"by_position\" lacks a field, or names a file or an instruction that "
				      "the trace does not list";
				goto bad;
			}
			tp->pos[tp->npos++] = (struct tp_pos){(size_t)(hit - tp->files), val[0], val[1], val[2], val[3],
							       op, (long long)json_integer_value(n)};
		}
		if (tp->npos > 1)
			qsort(tp->pos, tp->npos, sizeof *tp->pos, cmp_tp_pos);
		json_array_foreach(codes, i, v)
		{
			json_t *f = json_object_get(v, "file"), *q = json_object_get(v, "qualname");
			json_t *l = json_object_get(v, "firstlineno"), *n = json_object_get(v, "calls");
			struct tp_file *hit = json_is_string(f) ? tp_file_named(tp, json_string_value(f)) : NULL;
			if (!json_is_string(q) || !json_is_integer(l) || !json_is_integer(n) || json_integer_value(n) < 0) {
				bad = "an entry of \"code_objects\" lacks \"file\", \"qualname\", \"firstlineno\" or "
				      "\"calls\"";
				goto bad;
			}
			if (!hit)
				continue; /* a code object of a file that executed nothing counted */
			struct tp_code *c = &tp->codes[tp->ncodes++];
			c->file = (size_t)(hit - tp->files);
			c->qualname = strdup(json_string_value(q));
			c->firstlineno = (int)json_integer_value(l);
			c->calls = (long long)json_integer_value(n);
			if (!c->qualname) {
				bad = "out of memory";
				goto bad;
			}
		}
	}
	json_t *py = json_object_get(root, "python"), *np = json_object_get(root, "processes");
	snprintf(tp->python, sizeof tp->python, "%s", json_is_string(py) ? json_string_value(py) : "?");
	tp->processes = json_is_integer(np) ? (int)json_integer_value(np) : 1;
	tp->instructions = json_integer_value(json_object_get(root, "total_instructions"));
	tp->last_file = -1;
	json_decref(root);
	return tp;
bad:
	json_decref(root);
	trace_profile_free(tp);
	fail(err, path, bad);
	return NULL;
}

/* The index of the traced file that is `path` (by real path, else by name), or -1. */
static long tp_file_of(struct trace_profile *tp, const char *path)
{
	long fi = -1;
	if (tp->last_query && !strcmp(tp->last_query, path)) {
		fi = tp->last_file;
	} else {
		char rp[PATH_MAX];
		bool real = realpath(path, rp) != NULL;
		for (size_t i = 0; i < tp->nfiles && fi < 0; i++)
			if ((real && tp->files[i].path && !strcmp(tp->files[i].path, rp)) || !strcmp(tp->files[i].file, path))
				fi = (long)i;
		free(tp->last_query);
		tp->last_query = strdup(path);
		tp->last_file = fi;
	}
	return fi;
}

long long trace_profile_count(struct trace_profile *tp, const char *path, int line, const char *op)
{
	long fi = tp_file_of(tp, path);
	if (fi < 0)
		return -1;
	int want = -1;
	if (op) {
		for (size_t k = 0; k < tp->nops && want < 0; k++)
			if (!strcmp(tp->ops[k], op))
				want = (int)k;
		if (want < 0)
			return -1;
	}
	/* first row of (file, line) */
	size_t lo = 0, hi = tp->nrows;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct tp_row *r = &tp->rows[mid];
		if (r->file < (size_t)fi || (r->file == (size_t)fi && r->line < line))
			lo = mid + 1;
		else
			hi = mid;
	}
	long long best = 0;
	for (size_t i = lo; i < tp->nrows && tp->rows[i].file == (size_t)fi && tp->rows[i].line == line; i++)
		if ((want < 0 || tp->rows[i].op == want) && tp->rows[i].count > best)
			best = tp->rows[i].count;
	return best;
}

long long trace_profile_at(struct trace_profile *tp, const char *path, int line, int col, int end_line,
			   int end_col, const char *op)
{
	long fi = tp_file_of(tp, path);
	if (fi < 0 || !tp->has_pos)
		return -1;
	int want = op ? tp_op(tp, op) : -1;
	if (op && want < 0)
		return -1;
	size_t lo = 0, hi = tp->npos;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct tp_pos *p = &tp->pos[mid];
		if (p->file < (size_t)fi || (p->file == (size_t)fi && (p->line < line || (p->line == line && p->col < col))))
			lo = mid + 1;
		else
			hi = mid;
	}
	long long n = 0;
	for (size_t i = lo; i < tp->npos && tp->pos[i].file == (size_t)fi && tp->pos[i].line == line &&
			    tp->pos[i].col == col;
	     i++)
		if ((want < 0 || tp->pos[i].op == want) &&
		    (end_line < 0 || (tp->pos[i].end_line == end_line && tp->pos[i].end_col == end_col)))
			n += tp->pos[i].count;
	return n;
}

long long trace_profile_calls(struct trace_profile *tp, const char *path, const char *qualname, int firstlineno)
{
	long fi = tp_file_of(tp, path);
	if (fi < 0 || !tp->has_pos)
		return -1;
	long long n = 0;
	for (size_t i = 0; i < tp->ncodes; i++)
		if (tp->codes[i].file == (size_t)fi && tp->codes[i].firstlineno == firstlineno &&
		    !strcmp(tp->codes[i].qualname, qualname))
			n += tp->codes[i].calls;
	return n;
}

/* The call instructions a call site may compile to, by version (CALL_KW: 3.13's keyword call). */
static const char *const call_ops[] = {"CALL", "CALL_KW", "CALL_FUNCTION_EX"};

long long trace_profile_finding(struct trace_profile *tp, const struct unit *u, const struct finding *f)
{
	const char *code = f->pass ? f->pass->code : "";
	if (tp->has_pos && f->code) {
		/* SPF301: the calls of the memoised function */
		if (!strcmp(code, "SPF301"))
			return trace_profile_calls(tp, u->path, f->code->qualname, f->code->firstlineno);
		/* SPF201: the call at the call's own position (its whole span, else where it starts) */
		if (!strcmp(code, "SPF201") && !ts_node_is_null(f->node)) {
			TSPoint s = ts_node_start_point(f->node), e = ts_node_end_point(f->node);
			long long n = -1;
			for (int pass = 0; pass < 2 && n <= 0; pass++)
				for (size_t k = 0; k < sizeof call_ops / sizeof *call_ops; k++) {
					long long c = trace_profile_at(tp, u->path, (int)s.row + 1, (int)s.column,
								       pass ? -1 : (int)e.row + 1, (int)e.column, call_ops[k]);
					if (c >= 0)
						n = (n < 0 ? 0 : n) + c;
				}
			if (n >= 0)
				return n;
		}
		/* a def or lambda: the MAKE_FUNCTION that builds it, at its own position */
		if (f->code->site >= 0 && f->code->parent && (size_t)f->code->site < f->code->parent->ninsns) {
			const struct insn *in = &f->code->parent->insns[f->code->site];
			long long n = trace_profile_at(tp, u->path, in->line, in->col, -1, -1, "MAKE_FUNCTION");
			if (n >= 0)
				return n;
		}
	}
	/* an older trace (lines only): a def's MAKE_FUNCTION on its line, otherwise the most
	 * executed tracked instruction of the finding's first line */
	bool site = f->code && f->code->site >= 0;
	int line = site && f->code->site_line > 0 ? f->code->site_line : (int)f->row + 1;
	long long n = trace_profile_count(tp, u->path, line, site ? "MAKE_FUNCTION" : NULL);
	if (n < 0 && site)
		n = trace_profile_count(tp, u->path, line, NULL);
	return n;
}
