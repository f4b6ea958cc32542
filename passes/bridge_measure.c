/* `spipfix profile`'s measures of one file, on the bytecode of the module's CPython version
 * (compiled into each version's module with bridge_py.c): code units, the redundant sequences,
 * marshal sizes with and without -OO, and the memory of the unmarshalled code with and without
 * annotations. Package lookup uses the version's own sys.path and site-packages. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <marshal.h>
#include <opcode.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bridge_py.h"

#define PY_AT_LEAST(minor) (PY_VERSION_HEX >= (0x03000000 | ((minor) << 16)))

/* The profile helpers of the process's interpreter (see bridge_py.c on module state). */
static struct {
	PyObject *helpers;   /* the helper module's globals (new reference) */
	PyObject *getsizeof; /* sys.getsizeof (new reference) */
	unsigned char caches[256];
} M;

static const char helper_src[] =
	"import ast, os, site, sys, opcode\n"
	"from importlib.machinery import PathFinder\n"
	"for _p in site.getsitepackages():\n"
	"    if os.path.isdir(_p) and _p not in sys.path:\n"
	"        sys.path.append(_p)\n"
	"def caches():\n"
	"    c = opcode._inline_cache_entries\n"
	"    if isinstance(c, dict):\n"
	"        return bytes(c.get(n, 0) if not n.startswith('<') else 0 for n in opcode.opname[:256])\n"
	"    return bytes(c[:256])\n"
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

int measure_init(char **err)
{
	if (M.helpers)
		return 0;
	*err = NULL;
	PyObject *g = PyDict_New();                      /* new reference */
	PyObject *b = PyImport_ImportModule("builtins"); /* new reference */
	PyObject *r = NULL, *c = NULL;
	if (g && b && PyDict_SetItemString(g, "__builtins__", b) == 0)
		r = PyRun_String(helper_src, Py_file_input, g, g); /* new reference */
	Py_XDECREF(b);
	PyObject *fn = r ? PyDict_GetItemString(g, "caches") : NULL; /* borrowed */
	c = fn ? PyObject_CallNoArgs(fn) : NULL;                      /* new reference */
	if (!c || !PyBytes_Check(c) || PyBytes_GET_SIZE(c) > 256) {
		*err = py_exc_text(true, 1000);
		Py_XDECREF(c);
		Py_XDECREF(r);
		Py_XDECREF(g);
		return -1;
	}
	memcpy(M.caches, PyBytes_AS_STRING(c), (size_t)PyBytes_GET_SIZE(c));
	Py_DECREF(c);
	Py_DECREF(r);
	M.helpers = g;
	M.getsizeof = PySys_GetObject("getsizeof"); /* borrowed */
	Py_XINCREF(M.getsizeof);
	if (!M.getsizeof) {
		*err = strdup("no sys.getsizeof");
		return -1;
	}
	return 0;
}

void measure_fini(void)
{
	if (Py_IsInitialized()) {
		Py_CLEAR(M.helpers);
		Py_CLEAR(M.getsizeof);
	}
}

int measure_locate(const char *name, char ***roots, size_t *nroots, char **err)
{
	*roots = NULL;
	*nroots = 0;
	*err = NULL;
	PyObject *fn = M.helpers ? PyDict_GetItemString(M.helpers, "locate") : NULL; /* borrowed */
	PyObject *r = fn ? PyObject_CallFunction(fn, "s", name) : NULL;              /* new reference */
	if (!r) {
		*err = py_exc_text(true, 1000);
		return -1;
	}
	int rc = 0;
	if (PyList_Check(r)) {
		rc = 1;
		*roots = calloc((size_t)PyList_GET_SIZE(r) + 1, sizeof **roots);
		for (Py_ssize_t i = 0; *roots && i < PyList_GET_SIZE(r); i++) {
			const char *s = PyUnicode_AsUTF8(PyList_GET_ITEM(r, i));
			if (s && ((*roots)[*nroots] = strdup(s)))
				(*nroots)++;
		}
	}
	Py_DECREF(r);
	PyErr_Clear();
	return rc;
}

/* ---- per code object measures ------------------------------------------------------------ */

struct ins {
	int offset, op, arg;
};

/* The instructions of co (borrowed) as py_decode gives them, and as the sequences read them:
 * LOAD_FAST_CHECK is the LOAD_FAST it is, 3.12's method form of LOAD_ATTR (3.11's LOAD_METHOD)
 * becomes op -1, which no sequence has, and CALL_KW's names the LOAD_CONST they are. Returns a
 * malloc'd array or NULL; *n receives its length and *units the instructions as `dis` lists
 * them (EXTENDED_ARG included). */
static struct ins *decode(PyCodeObject *co, size_t *n, uint64_t *units)
{
	struct py_op *v = py_decode(co, n, units);
	struct ins *r = v ? malloc(sizeof *r * (*n + 1)) : NULL;
	for (size_t k = 0; r && k < *n; k++) {
		int op = v[k].op;
#if PY_AT_LEAST(12)
		if (op == LOAD_FAST_CHECK)
			op = LOAD_FAST;
#endif
		if (v[k].method)
			op = -1;
		if (op == PYRT_OP_KW_NAMES)
			op = LOAD_CONST;
		r[k] = (struct ins){v[k].offset, op, v[k].arg};
	}
	free(v);
	return r;
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
		if (!py_backward_jump(v[j].op))
			continue;
		int target = v[j].offset + 2 + 2 * M.caches[v[j].op] - 2 * v[j].arg;
		memset(seen, 0, (size_t)nnames + 1);
		for (size_t i = 0; i < j; i++) {
			if (v[i].offset < target || v[i].op != LOAD_GLOBAL)
				continue;
			int name = v[i].arg;
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
	PyObject *consts = co->co_consts; /* borrowed */
	for (Py_ssize_t i = 0; rc == 0 && i < PyTuple_GET_SIZE(consts); i++) {
		PyObject *c = PyTuple_GET_ITEM(consts, i); /* borrowed */
		if (PyCode_Check(c))
			rc = walk_code((PyCodeObject *)c, instructions, seq, depth + 1);
	}
	return rc;
}

/* ---- memory: sys.getsizeof over the distinct objects of the unmarshalled code --------------- */

struct memwalk {
	const void **set; /* open addressing on addresses */
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
	PyObject *sz = PyObject_CallOneArg(M.getsizeof, o); /* new reference */
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
		PyObject *it = PyObject_GetIter(o); /* new reference */
		if (!it)
			return -1;
		PyObject *key; /* new reference each */
		int rc = 0;
		while (rc == 0 && (key = PyIter_Next(it)) != NULL) {
			rc = mem_visit(w, key, depth + 1);
			Py_DECREF(key); /* the frozenset keeps it alive */
		}
		Py_DECREF(it);
		if (rc < 0 || PyErr_Occurred())
			return -1;
	}
	return 0;
}

/* Marshal size and memory of a module code object. code: borrowed. Returns 0 / -1. */
static int measure(PyObject *code, uint64_t *marshal_bytes, uint64_t *memory)
{
	PyObject *data = PyMarshal_WriteObjectToString(code, Py_MARSHAL_VERSION); /* new reference */
	if (!data)
		return -1;
	*marshal_bytes = (uint64_t)PyBytes_GET_SIZE(data);
	int rc = -1;
	PyObject *loaded = NULL;
	struct memwalk w = {0};
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

/* Returns a new reference to the module code object, or NULL with a Python error set. */
static PyObject *compile_src(const char *src, const char *filename, int optimize)
{
	PyCompilerFlags flags = _PyCompilerFlags_INIT;
	return Py_CompileStringExFlags(src, filename, Py_file_input, &flags, optimize);
}

/* "what (Type: message)", malloc'd, the pending exception cleared. */
static char *file_error(const char *what)
{
	char *e = py_exc_text(true, 1000);
	size_t need = strlen(what) + (e ? strlen(e) : 1) + 4;
	char *r = malloc(need);
	if (r)
		snprintf(r, need, "%s (%s)", what, e ? e : "?");
	free(e);
	return r;
}

int measure_file(const char *buf, size_t len, const char *path, struct pyrt_measures *m, char **err)
{
	int rc = -1;
	memset(m, 0, sizeof *m);
	*err = NULL;
	PyObject *code = NULL, *code2 = NULL, *stripped = NULL, *src = NULL, *text = NULL; /* new references */
	/* the file name the import system gives the code (its path on sys.path) */
	code = compile_src(buf, path, 0);
	if (!code) {
		*err = file_error("cannot be compiled");
		goto out;
	}
	code2 = compile_src(buf, path, 2);
	PyObject *fn = PyDict_GetItemString(M.helpers, "compile_stripped"); /* borrowed */
	src = PyBytes_FromStringAndSize(buf, (Py_ssize_t)len);
	stripped = fn && src ? PyObject_CallFunction(fn, "Os", src, path) : NULL;
	uint64_t ignored;
	if (!code2 || !stripped || walk_code((PyCodeObject *)code, &m->instructions, m->seq, 0) < 0 ||
	    measure(code, &m->marshal, &m->memory) < 0 || measure(code2, &m->marshal_oo, NULL) < 0 ||
	    measure(stripped, &ignored, &m->memory_stripped) < 0) {
		*err = file_error("cannot be measured");
		goto out;
	}
	/* the passes run on what check accepts (UTF-8 text) */
	text = PyUnicode_DecodeUTF8(buf, (Py_ssize_t)len, "strict");
	m->utf8 = text != NULL;
	rc = 0;
out:
	Py_XDECREF(text);
	Py_XDECREF(src);
	Py_XDECREF(code);
	Py_XDECREF(code2);
	Py_XDECREF(stripped);
	PyErr_Clear();
	return rc;
}
