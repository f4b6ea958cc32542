/* `spipfix profile`: the bytecode footprint of installed packages or folders, computed from the
 * code objects that the embedded CPython compiles from their sources: instructions, .pyc bytes,
 * memory after unmarshalling, findings of every registered pass, redundant opcode sequences,
 * test-code share, what -OO would save and what annotations take. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <marshal.h>
#include <opcode.h>

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

/* The redundant opcode sequences, in the order ties are broken. Definitions in the --help text. */
enum { SEQ_STORE_RELOAD, SEQ_ATTR_RELOAD, SEQ_GLOBAL_RELOAD_IN_LOOP, SEQ_CONSTANT_DISPLAY, SEQ_CONSTANT_DISCARD,
       SEQ_SELF_ASSIGN, NSEQ };
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
	PyObject *helpers;   /* the helper module's globals (new reference) */
	PyObject *getsizeof; /* sys.getsizeof (new reference) */
	bool progress;
	double last_progress;
};

/* ---- Python helpers: package lookup, annotation stripping -------------------------------- */

static const char helper_src[] =
	"import ast, os, site, sys\n"
	"from importlib.machinery import PathFinder\n"
	"for _p in site.getsitepackages():\n"
	"    if os.path.isdir(_p) and _p not in sys.path:\n"
	"        sys.path.append(_p)\n"
	"def locate(name):\n"
	"    path, spec = None, None\n"
	"    for i, part in enumerate(name.split('.')):\n"
	"        if i and path is None:\n"
	"            return None\n"
	"        spec = PathFinder.find_spec(part, path)\n"
	"        if spec is None:\n"
	"            return None\n"
	"        path = spec.submodule_search_locations\n"
	"    if path is not None:\n"
	"        return [str(p) for p in path]\n"
	"    return [spec.origin] if spec.origin and spec.origin.endswith('.py') else []\n"
	"class _Strip(ast.NodeTransformer):\n"
	"    def generic_visit(self, node):\n"
	"        body = isinstance(getattr(node, 'body', None), list) and bool(node.body)\n"
	"        final = bool(getattr(node, 'finalbody', None))\n"
	"        super().generic_visit(node)\n"
	"        if body and not node.body and not isinstance(node, ast.Module):\n"
	"            node.body = [ast.copy_location(ast.Pass(), node)]\n"
	"        if final and not node.finalbody and not node.handlers:\n"
	"            node.finalbody = [ast.copy_location(ast.Pass(), node)]\n"
	"        return node\n"
	"    def visit_FunctionDef(self, node):\n"
	"        a = node.args\n"
	"        for x in a.posonlyargs + a.args + a.kwonlyargs + [a.vararg, a.kwarg]:\n"
	"            if x is not None:\n"
	"                x.annotation = None\n"
	"        node.returns = None\n"
	"        return self.generic_visit(node)\n"
	"    visit_AsyncFunctionDef = visit_FunctionDef\n"
	"    def visit_AnnAssign(self, node):\n"
	"        if node.value is None:\n"
	"            return None\n"
	"        return ast.copy_location(ast.Assign(targets=[node.target], value=node.value), node)\n"
	"def compile_stripped(src, filename):\n"
	"    tree = _Strip().visit(ast.parse(src, filename))\n"
	"    return compile(tree, filename, 'exec', dont_inherit=True, optimize=0)\n";

/* Run helper_src once; pr->helpers (its globals) and pr->getsizeof become new references.
 * Returns 0 / -1. */
static int helpers_init(struct profiler *pr)
{
	PyObject *g = PyDict_New();                        /* new reference */
	PyObject *b = PyImport_ImportModule("builtins");   /* new reference */
	PyObject *r = NULL;
	if (g && b && PyDict_SetItemString(g, "__builtins__", b) == 0)
		r = PyRun_String(helper_src, Py_file_input, g, g); /* new reference */
	Py_XDECREF(b);
	if (!r) {
		PyErr_Print();
		Py_XDECREF(g);
		return -1;
	}
	Py_DECREF(r);
	pr->helpers = g;
	pr->getsizeof = PySys_GetObject("getsizeof"); /* borrowed */
	Py_XINCREF(pr->getsizeof);
	return pr->getsizeof ? 0 : -1;
}

/* ---- per code object measures ------------------------------------------------------------ */

struct ins {
	int offset, op, arg;
};

/* Decode a code object's deoptimised bytecode: CACHE units skipped, EXTENDED_ARG folded into the
 * instruction it extends. co: borrowed. Returns a malloc'd array or NULL; *n receives its length
 * and *units the number of instructions as `dis` lists them (EXTENDED_ARG included). */
static struct ins *decode(PyCodeObject *co, size_t *n, uint64_t *units)
{
	PyObject *bytes = PyCode_GetCode(co); /* new reference */
	if (!bytes)
		return NULL;
	const unsigned char *b = (const unsigned char *)PyBytes_AS_STRING(bytes);
	size_t nb = (size_t)PyBytes_GET_SIZE(bytes) / 2;
	struct ins *v = malloc(sizeof *v * (nb ? nb : 1));
	size_t k = 0;
	uint64_t u = 0;
	int ext = 0;
	for (size_t i = 0; v && i < nb; i++) {
		int op = b[2 * i], arg = b[2 * i + 1] | ext;
		if (op == CACHE)
			continue;
		u++;
		if (op == EXTENDED_ARG) {
			ext = arg << 8;
			continue;
		}
		ext = 0;
		v[k++] = (struct ins){(int)(2 * i), op, arg};
	}
	Py_DECREF(bytes);
	*n = k;
	*units = u;
	return v;
}

static bool backward_jump(int op)
{
	/* JUMP_BACKWARD_NO_INTERRUPT closes the await / yield-from loop, not a loop of the source */
	return op == JUMP_BACKWARD || op == POP_JUMP_BACKWARD_IF_FALSE || op == POP_JUMP_BACKWARD_IF_TRUE ||
	       op == POP_JUMP_BACKWARD_IF_NONE || op == POP_JUMP_BACKWARD_IF_NOT_NONE;
}

static bool all_const(const struct ins *v, size_t end, size_t n)
{
	if (n > end)
		return false;
	for (size_t k = end - n; k < end; k++)
		if (v[k].op != LOAD_CONST)
			return false;
	return true;
}

/* Count the redundant sequences of one function-like code object. co: borrowed. */
static int count_sequences(PyCodeObject *co, const struct ins *v, size_t n, uint64_t seq[NSEQ])
{
	Py_ssize_t nnames = PyTuple_GET_SIZE(co->co_names);
	bool *redundant = calloc(n ? n : 1, sizeof *redundant);
	bool *seen = calloc((size_t)nnames + 1, sizeof *seen);
	struct pair {
		int local, attr;
	} *pairs = malloc(sizeof *pairs * (n ? n : 1));
	size_t npairs = 0;
	int rc = -1;
	if (!redundant || !seen || !pairs)
		goto out;
	for (size_t i = 0; i < n; i++) {
		const struct ins *in = &v[i], *next = i + 1 < n ? &v[i + 1] : NULL;
		if (next && in->op == STORE_FAST && next->op == LOAD_FAST && in->arg == next->arg)
			seq[SEQ_STORE_RELOAD]++;
		if (next && in->op == LOAD_FAST && next->op == STORE_FAST && in->arg == next->arg)
			seq[SEQ_SELF_ASSIGN]++;
		if (next && in->op == LOAD_CONST && next->op == POP_TOP)
			seq[SEQ_CONSTANT_DISCARD]++;
		/* constant-display, counted at its last instruction */
		int a = in->arg;
		if (((in->op == BUILD_LIST || in->op == BUILD_SET) && a >= 1 && all_const(v, i, (size_t)a)) ||
		    (in->op == BUILD_CONST_KEY_MAP && a >= 1 && all_const(v, i, (size_t)a + 1)) ||
		    (in->op == BUILD_MAP && a >= 1 && all_const(v, i, 2 * (size_t)a)) ||
		    ((in->op == LIST_EXTEND || in->op == SET_UPDATE) && a == 1 && i >= 2 && v[i - 1].op == LOAD_CONST &&
		     v[i - 2].op == (in->op == LIST_EXTEND ? BUILD_LIST : BUILD_SET) && v[i - 2].arg == 0))
			seq[SEQ_CONSTANT_DISPLAY]++;
		/* attr-reload: (local, attribute) pairs loaded since the local or the attribute was last
		 * stored or deleted */
		if ((in->op == STORE_FAST || in->op == DELETE_FAST) || in->op == STORE_ATTR || in->op == DELETE_ATTR) {
			bool local = in->op == STORE_FAST || in->op == DELETE_FAST;
			size_t k = 0;
			for (size_t j = 0; j < npairs; j++)
				if (local ? pairs[j].local != in->arg : pairs[j].attr != in->arg)
					pairs[k++] = pairs[j];
			npairs = k;
		}
		if (next && in->op == LOAD_FAST && next->op == LOAD_ATTR) {
			bool again = false;
			for (size_t j = 0; j < npairs && !again; j++)
				again = pairs[j].local == in->arg && pairs[j].attr == next->arg;
			if (again)
				seq[SEQ_ATTR_RELOAD]++;
			else
				pairs[npairs++] = (struct pair){in->arg, next->arg};
		}
	}
	/* global-reload-in-loop: per loop body (a backward jump's [target, jump]), every LOAD_GLOBAL
	 * of a name an earlier LOAD_GLOBAL of the same body already loaded; each instruction once */
	for (size_t j = 0; j < n; j++) {
		if (!backward_jump(v[j].op))
			continue;
		int target = v[j].offset + 2 - 2 * v[j].arg;
		memset(seen, 0, (size_t)nnames + 1);
		for (size_t i = 0; i < j; i++) {
			if (v[i].offset < target || v[i].op != LOAD_GLOBAL)
				continue;
			int name = v[i].arg >> 1;
			if (name < 0 || name >= nnames)
				continue;
			if (seen[name])
				redundant[i] = true;
			seen[name] = true;
		}
	}
	for (size_t i = 0; i < n; i++)
		seq[SEQ_GLOBAL_RELOAD_IN_LOOP] += redundant[i];
	rc = 0;
out:
	free(redundant);
	free(seen);
	free(pairs);
	return rc;
}

/* Instructions of co and every code object in its constants, and the sequences of the
 * function-like ones. co: borrowed. Returns 0 / -1. */
static int walk_code(PyCodeObject *co, uint64_t *instructions, uint64_t seq[NSEQ], int depth)
{
	if (depth > 500)
		return -1;
	size_t n;
	uint64_t units;
	struct ins *v = decode(co, &n, &units);
	if (!v)
		return -1;
	*instructions += units;
	int rc = (co->co_flags & CO_OPTIMIZED) ? count_sequences(co, v, n, seq) : 0;
	free(v);
	PyObject *consts = co->co_consts;
	for (Py_ssize_t i = 0; rc == 0 && i < PyTuple_GET_SIZE(consts); i++) {
		PyObject *c = PyTuple_GET_ITEM(consts, i);
		if (PyCode_Check(c))
			rc = walk_code((PyCodeObject *)c, instructions, seq, depth + 1);
	}
	return rc;
}

/* ---- memory: sys.getsizeof over the distinct objects of the unmarshalled code --------------- */

struct memwalk {
	PyObject *getsizeof; /* borrowed */
	const void **set;    /* open addressing on addresses */
	size_t cap, n;
	uint64_t total;
};

static size_t hash_addr(const void *p)
{
	uint64_t x = (uint64_t)(uintptr_t)p;
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return (size_t)x;
}

/* 1 when p was not in the set (and is now), 0 when it was, -1 out of memory. */
static int set_add(struct memwalk *w, const void *p)
{
	if ((w->n + 1) * 2 > w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 256;
		const void **nv = calloc(cap, sizeof *nv);
		if (!nv)
			return -1;
		for (size_t i = 0; i < w->cap; i++) {
			if (!w->set[i])
				continue;
			size_t h = hash_addr(w->set[i]) & (cap - 1);
			while (nv[h])
				h = (h + 1) & (cap - 1);
			nv[h] = w->set[i];
		}
		free(w->set);
		w->set = nv;
		w->cap = cap;
	}
	size_t h = hash_addr(p) & (w->cap - 1);
	for (; w->set[h]; h = (h + 1) & (w->cap - 1))
		if (w->set[h] == p)
			return 0;
	w->set[h] = p;
	w->n++;
	return 1;
}

/* o: borrowed. Returns 0 / -1. */
static int mem_visit(struct memwalk *w, PyObject *o, int depth)
{
	if (!o || o == Py_None || o == Py_True || o == Py_False || o == Py_Ellipsis)
		return 0;
	if (depth > 1000)
		return -1;
	int fresh = set_add(w, o);
	if (fresh <= 0)
		return fresh;
	PyObject *sz = PyObject_CallOneArg(w->getsizeof, o); /* new reference */
	if (!sz)
		return -1;
	w->total += PyLong_AsUnsignedLongLong(sz);
	Py_DECREF(sz);
	if (PyErr_Occurred())
		return -1;
	if (PyCode_Check(o)) {
		PyCodeObject *co = (PyCodeObject *)o;
		PyObject *parts[] = {co->co_consts,  co->co_names,     co->co_localsplusnames, co->co_localspluskinds,
				     co->co_linetable, co->co_exceptiontable, co->co_filename, co->co_name,
				     co->co_qualname};
		for (size_t i = 0; i < sizeof parts / sizeof *parts; i++)
			if (mem_visit(w, parts[i], depth + 1) < 0)
				return -1;
	} else if (PyTuple_Check(o)) {
		for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(o); i++)
			if (mem_visit(w, PyTuple_GET_ITEM(o, i), depth + 1) < 0)
				return -1;
	} else if (PyFrozenSet_Check(o)) {
		Py_ssize_t pos = 0;
		PyObject *key;
		Py_hash_t hash;
		while (_PySet_NextEntry(o, &pos, &key, &hash))
			if (mem_visit(w, key, depth + 1) < 0)
				return -1;
	}
	return 0;
}

/* Marshal size and memory of a module code object. code: borrowed. Returns 0 / -1. */
static int measure(struct profiler *pr, PyObject *code, uint64_t *marshal_bytes, uint64_t *memory)
{
	PyObject *data = PyMarshal_WriteObjectToString(code, Py_MARSHAL_VERSION); /* new reference */
	if (!data)
		return -1;
	*marshal_bytes = (uint64_t)PyBytes_GET_SIZE(data);
	int rc = -1;
	PyObject *loaded = NULL;
	struct memwalk w = {.getsizeof = pr->getsizeof};
	if (memory) {
		loaded = PyMarshal_ReadObjectFromString(PyBytes_AS_STRING(data), PyBytes_GET_SIZE(data)); /* new */
		if (!loaded || mem_visit(&w, loaded, 0) < 0)
			goto out;
		*memory = w.total;
	}
	rc = 0;
out:
	free(w.set);
	Py_XDECREF(loaded);
	Py_DECREF(data);
	return rc;
}

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

/* Returns a new reference to the module code object, or NULL with a Python error set. */
static PyObject *compile_src(const char *src, const char *filename, int optimize)
{
	PyCompilerFlags flags = _PyCompilerFlags_INIT;
	return Py_CompileStringExFlags(src, filename, Py_file_input, &flags, optimize);
}

static void file_error(const char *path, const char *what)
{
	PyObject *type, *value, *tb;
	PyErr_Fetch(&type, &value, &tb);
	PyObject *s = value ? PyObject_Str(value) : NULL; /* new reference */
	const char *msg = s ? PyUnicode_AsUTF8(s) : NULL;
	fprintf(stderr, "error: %s: %s (%s: %s); not counted\n", path, what,
		type ? ((PyTypeObject *)type)->tp_name : "error", msg ? msg : "?");
	Py_XDECREF(s);
	Py_XDECREF(type);
	Py_XDECREF(value);
	Py_XDECREF(tb);
	PyErr_Clear();
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
	PyObject *code = NULL, *code2 = NULL, *stripped = NULL;
	uint64_t ninsn = 0, seq[NSEQ] = {0}, m0, m2, mem0, mem_stripped;
	if (memchr(buf, 0, len)) {
		fprintf(stderr, "error: %s: contains NUL bytes; not counted\n", path);
		s->errors++;
		goto out;
	}
	/* the file name the import system gives the code (its path on sys.path) */
	code = compile_src(buf, path, 0);
	if (!code) {
		file_error(path, "cannot be compiled");
		s->errors++;
		goto out;
	}
	code2 = compile_src(buf, path, 2);
	PyObject *fn = PyDict_GetItemString(pr->helpers, "compile_stripped"); /* borrowed */
	PyObject *src = PyBytes_FromStringAndSize(buf, (Py_ssize_t)len);       /* new reference */
	stripped = fn && src ? PyObject_CallFunction(fn, "Os", src, path) : NULL; /* new reference */
	Py_XDECREF(src);
	if (!code2 || !stripped || walk_code((PyCodeObject *)code, &ninsn, seq, 0) < 0 ||
	    measure(pr, code, &m0, &mem0) < 0 || measure(pr, code2, &m2, NULL) < 0 ||
	    measure(pr, stripped, &(uint64_t){0}, &mem_stripped) < 0) {
		file_error(path, "cannot be measured");
		s->errors++;
		goto out;
	}
	s->instructions += ninsn;
	if (is_test(rel))
		s->test_instructions += ninsn;
	s->pyc_bytes += PYC_HEADER + m0;
	s->oo_saved += m0 > m2 ? m0 - m2 : 0;
	s->memory += mem0;
	s->annotation_memory += mem0 > mem_stripped ? mem0 - mem_stripped : 0;
	for (int k = 0; k < NSEQ; k++)
		s->seq[k] += seq[k];
	/* the passes, as `spipfix check` runs them, on what check accepts (UTF-8 text) */
	PyObject *text = PyUnicode_DecodeUTF8(buf, (Py_ssize_t)len, "strict"); /* new reference */
	if (!text) {
		PyErr_Clear();
		fprintf(stderr, "warning: %s: not valid UTF-8; measured, but the rules were not run\n", path);
		s->unanalysed++;
		goto out;
	}
	Py_DECREF(text);
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
	Py_XDECREF(code);
	Py_XDECREF(code2);
	Py_XDECREF(stripped);
	PyErr_Clear();
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
	PyObject *fn = PyDict_GetItemString(pr->helpers, "locate"); /* borrowed */
	PyObject *r = fn ? PyObject_CallFunction(fn, "s", p->arg) : NULL; /* new reference */
	if (!r) {
		PyErr_Clear();
		return 0;
	}
	if (PyList_Check(r)) {
		p->roots = calloc((size_t)PyList_GET_SIZE(r) + 1, sizeof *p->roots);
		for (Py_ssize_t i = 0; p->roots && i < PyList_GET_SIZE(r); i++) {
			const char *s = PyUnicode_AsUTF8(PyList_GET_ITEM(r, i));
			if (s && (p->roots[p->nroots] = strdup(s)))
				p->nroots++;
		}
		p->found = true;
	}
	Py_DECREF(r);
	PyErr_Clear();
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

static struct sortkey sort_key;

static int cmp_package(const void *pa, const void *pb)
{
	const struct package *a = pa, *b = pb;
	if (sort_key.kind == K_NAME)
		return strcmp(a->name, b->name);
	if (sort_key.kind == K_TESTS) {
		double x = a->s.instructions ? (double)a->s.test_instructions / (double)a->s.instructions : 0;
		double y = b->s.instructions ? (double)b->s.test_instructions / (double)b->s.instructions : 0;
		if (x != y)
			return x > y ? -1 : 1;
		return strcmp(a->name, b->name);
	}
	uint64_t x = key_value(&a->s, sort_key), y = key_value(&b->s, sort_key);
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
	json_object_set_new(root, "python", json_string(Py_GetVersion()));
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
	      "module) name looked up on the embedded interpreter's sys.path: /usr/bin/python3's standard\n"
	      "library plus site.getsitepackages() (no .pth file is run). Every .py file under it is\n"
	      "compiled by the embedded CPython with the file's path as its name, as the import system does\n"
	      "(symlinks not followed, __pycache__ skipped); nothing is imported or executed.\n"
	      "\n"
	      "Options:\n"
	      "      --format FORMAT  table (default) or json\n"
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
	enum { OPT_FORMAT = 256, OPT_SORT };
	static const struct option longopts[] = {
		{"format", required_argument, NULL, OPT_FORMAT},
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
	if (bridge_init() < 0 || helpers_init(&pr) < 0) {
		fputs("error: cannot start the embedded Python\n", stderr);
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
			fprintf(stderr, "error: %s: no such file, folder or package on the embedded Python's sys.path\n",
				pk[i].arg);
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
	if (key.kind >= 0) {
		sort_key = key;
		qsort(pk, n, sizeof *pk, cmp_package);
	}
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
	Py_XDECREF(pr.helpers);
	Py_XDECREF(pr.getsizeof);
	bridge_fini();
	return rc;
}
