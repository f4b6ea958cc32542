/* The bridge's own decoders against independent computations, over real code:
 *   - bridge_positions (a C decoder of the location table) and the positions of the decoded
 *     instructions against CPython's co_positions() iterator, for every code unit (CACHE and
 *     EXTENDED_ARG units included);
 *   - bridge_global_bindings (an index built once per unit) against a scan of every instruction
 *     of the unit per queried name.
 * The code comes from the standard library's .py files (every 5th of them, sorted; set
 * SPIPFIX_ORACLE_STRIDE=1 for all) and from sources written to reach every entry form of the
 * location table. One executable per CPython version built (SPIPFIX_ORACLE_MINOR), linked against
 * that version's libpython, which is also the one the version's module loads: the oracle and the
 * bridge share one interpreter. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <opcode.h>

#include <criterion/criterion.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridge.h"
#include "unit.h"

#define PY_AT_LEAST(minor) (PY_VERSION_HEX >= (0x03000000 | ((minor) << 16)))

static void setup(void)
{
	cr_assert_eq(bridge_select(SPIPFIX_ORACLE_MINOR), 0);
	cr_assert_eq(bridge_init(), 0, "bridge_init failed");
	cr_assert_eq(PY_MINOR_VERSION, SPIPFIX_ORACLE_MINOR, "linked against another libpython");
}
static void teardown(void) { bridge_fini(); }

TestSuite(oracle, .init = setup, .fini = teardown);

/* ---- the oracles ------------------------------------------------------------------------- */

/* Positions of the first n code units as co_positions() yields them, None as -1, and -1 for
 * units it does not reach. */
static void positions_oracle(PyObject *co, int *out, size_t n)
{
	for (size_t i = 0; i < 4 * n; i++)
		out[i] = -1;
	PyObject *it = PyObject_CallMethod(co, "co_positions", NULL); /* new reference */
	cr_assert_not_null(it, "co_positions() failed");
	PyObject *pos;
	size_t u = 0;
	while ((pos = PyIter_Next(it)) != NULL) {
		cr_assert(u < n, "co_positions() yields more than the %zu code units", n);
		cr_assert(PyTuple_Check(pos) && PyTuple_GET_SIZE(pos) == 4);
		for (int k = 0; k < 4; k++) {
			PyObject *v = PyTuple_GET_ITEM(pos, k);
			out[u * 4 + (size_t)k] = v == Py_None ? -1 : (int)PyLong_AsLong(v);
		}
		Py_DECREF(pos);
		u++;
	}
	cr_assert_null(PyErr_Occurred());
	Py_DECREF(it);
}

/* bridge_global_bindings as a scan of every instruction for the one name. */
static int global_bindings_oracle(struct unit *u, const char *name, int *first_line)
{
	int n = 0;
	*first_line = 0;
	for (size_t c = 0; c < u->ncodes; c++) {
		struct code_info *ci = &u->codes[c];
		for (size_t i = 0; i < ci->ninsns; i++) {
			struct insn *in = &ci->insns[i];
			bool module_store = ci->kind == CK_MODULE && (in->op == STORE_NAME || in->op == DELETE_NAME ||
								      in->op == STORE_GLOBAL || in->op == DELETE_GLOBAL);
			bool global_store = in->op == STORE_GLOBAL || in->op == DELETE_GLOBAL;
#if PY_AT_LEAST(12)
			if (ci->kind == CK_MODULE && in->op == CALL_INTRINSIC_1 && in->arg == 2 /* INTRINSIC_IMPORT_STAR */)
				return -1;
#else
			if (ci->kind == CK_MODULE && in->op == IMPORT_STAR)
				return -1;
#endif
			if (!module_store && !global_store)
				continue;
			PyObject *nm = PyTuple_GET_ITEM(((PyCodeObject *)ci->code)->co_names, in->arg);
			const char *s = PyUnicode_Check(nm) ? PyUnicode_AsUTF8(nm) : NULL;
			if (!s || strcmp(s, name) != 0)
				continue;
			if (module_store && !*first_line)
				*first_line = in->line;
			n++;
		}
	}
	return n;
}

/* ---- the comparisons --------------------------------------------------------------------- */

struct tally {
	size_t files, codes, indexed, units, insns, queries;
	size_t forms[16]; /* location-table entries met, by code */
};

/* Count the location-table entries by form (to show that the inputs reach every form). */
static void count_forms(PyObject *co, struct tally *t)
{
	PyObject *lt = ((PyCodeObject *)co)->co_linetable;
	const unsigned char *p = (const unsigned char *)PyBytes_AS_STRING(lt);
	Py_ssize_t n = PyBytes_GET_SIZE(lt);
	for (Py_ssize_t i = 0; i < n; i++)
		if (p[i] & 0x80)
			t->forms[(p[i] >> 3) & 15]++;
}

/* Compare the positions of every code unit of co and of the decoded instructions of each entry
 * of the unit's index for co (one per site that loads it: none, one or several); then the same
 * for the code objects among its constants. */
static void check_positions(const char *path, struct unit *u, PyObject *co, struct tally *t)
{
	const char *qualname = PyUnicode_AsUTF8(((PyCodeObject *)co)->co_qualname);
	size_t n = (size_t)Py_SIZE(co);
	int *got = malloc(sizeof(int) * 4 * (n + 1));
	int *want = malloc(sizeof(int) * 4 * (n + 1));
	cr_assert(got && want);
	cr_assert_eq(bridge_positions(co, got, n), n);
	positions_oracle(co, want, n);
	PyObject *bytes = PyCode_GetCode((PyCodeObject *)co); /* new reference */
	const unsigned char *b = (const unsigned char *)PyBytes_AS_STRING(bytes);
	for (size_t i = 0; i < n; i++)
		if (memcmp(&got[4 * i], &want[4 * i], sizeof(int) * 4) != 0)
			cr_assert_fail("%s: %s, code unit %zu (%s): bridge_positions (%d, %d, %d, %d), "
				       "co_positions() (%d, %d, %d, %d)",
				       path, qualname, i, bridge_opname(b[2 * i]), got[4 * i], got[4 * i + 1],
				       got[4 * i + 2], got[4 * i + 3], want[4 * i], want[4 * i + 1], want[4 * i + 2],
				       want[4 * i + 3]);
	/* the decoded instructions carry the positions of their own code unit */
	for (size_t c = 0; c < u->ncodes; c++) {
		struct code_info *ci = &u->codes[c];
		if (ci->code != co)
			continue;
		t->indexed++;
		t->insns += ci->ninsns;
		for (size_t k = 0; k < ci->ninsns; k++) {
			const struct insn *in = &ci->insns[k];
			size_t i = (size_t)in->offset / 2;
			int op = i < n ? b[2 * i] : -1;
#if PY_AT_LEAST(13)
			/* the two halves of a two-local instruction */
			if (op == LOAD_FAST_LOAD_FAST)
				op = LOAD_FAST;
			if (op == STORE_FAST_STORE_FAST || (op == STORE_FAST_LOAD_FAST && in->op == STORE_FAST))
				op = STORE_FAST;
			if (op == STORE_FAST_LOAD_FAST)
				op = LOAD_FAST;
			/* CALL_KW's keyword names: shown as KW_NAMES */
			if (op == LOAD_CONST && in->op == PYRT_OP_KW_NAMES)
				op = PYRT_OP_KW_NAMES;
#endif
			cr_assert(i < n && op == in->op, "%s: %s: instruction %zu is not at its offset", path, qualname, k);
			if (in->line != want[4 * i] || in->end_line != want[4 * i + 1] || in->col != want[4 * i + 2] ||
			    in->end_col != want[4 * i + 3])
				cr_assert_fail("%s: %s, instruction %zu (%s at offset %d): insn (%d, %d, %d, %d), "
					       "co_positions() (%d, %d, %d, %d)",
					       path, qualname, k, bridge_opname(in->op), in->offset, in->line,
					       in->end_line, in->col, in->end_col, want[4 * i], want[4 * i + 1],
					       want[4 * i + 2], want[4 * i + 3]);
		}
	}
	Py_DECREF(bytes);
	free(got);
	free(want);
	count_forms(co, t);
	t->codes++;
	t->units += n;
	PyObject *consts = ((PyCodeObject *)co)->co_consts;
	for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(consts); i++)
		if (PyCode_Check(PyTuple_GET_ITEM(consts, i)))
			check_positions(path, u, PyTuple_GET_ITEM(consts, i), t);
}

static void check_query(const char *path, struct unit *u, const char *name, struct tally *t)
{
	int first = -7, first_want = -7;
	int n = bridge_global_bindings(u, name, &first);
	int want = global_bindings_oracle(u, name, &first_want);
	cr_assert(n == want && first == first_want,
		  "%s: bridge_global_bindings(\"%s\") = %d, first line %d; the scan gives %d, first line %d", path,
		  name, n, first, want, first_want);
	t->queries++;
}

/* Each name that any store could bind once: every name of the module code, every name of the
 * code objects with STORE_GLOBAL or DELETE_GLOBAL, and the first names of the others (bound
 * nowhere, mostly); then two names in no code object. */
static void check_bindings(const char *path, struct unit *u, struct tally *t)
{
	PyObject *seen = PySet_New(NULL); /* new reference */
	cr_assert_not_null(seen);
	for (size_t c = 0; c < u->ncodes; c++) {
		const struct code_info *ci = &u->codes[c];
		Py_ssize_t take = ci->kind == CK_MODULE ? PY_SSIZE_T_MAX : 4;
		for (size_t i = 0; i < ci->ninsns; i++)
			if (ci->insns[i].op == STORE_GLOBAL || ci->insns[i].op == DELETE_GLOBAL)
				take = PY_SSIZE_T_MAX;
		PyObject *names = ((PyCodeObject *)ci->code)->co_names;
		for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(names) && i < take; i++) {
			PyObject *nm = PyTuple_GET_ITEM(names, i);
			if (PySet_Contains(seen, nm))
				continue;
			cr_assert_eq(PySet_Add(seen, nm), 0);
			const char *s = PyUnicode_AsUTF8(nm);
			cr_assert_not_null(s);
			check_query(path, u, s, t);
		}
	}
	Py_DECREF(seen);
	check_query(path, u, "", t);
	check_query(path, u, "spipfix_bound_nowhere", t);
}

/* Compile src as bridge_compile does and compare; returns false when it does not compile. */
static bool check_source(const char *path, const char *src, size_t len, struct tally *t)
{
	struct unit u;
	cr_assert_eq(unit_init(&u, path, src, len), 0);
	if (bridge_compile(&u) < 0) {
		unit_free(&u);
		return false;
	}
	size_t indexed = t->indexed;
	check_positions(path, &u, u.module_code, t);
	/* every code object of the index is among those compared */
	cr_assert_eq(t->indexed - indexed, u.ncodes, "%s: %zu of the %zu indexed code objects reached", path,
		     t->indexed - indexed, u.ncodes);
	check_bindings(path, &u, t);
	t->files++;
	unit_free(&u);
	return true;
}

/* The .py files of the running version's standard library (the folder of `os`), outside
 * site-packages and dist-packages, sorted (new reference). */
static PyObject *python_files(void)
{
	static const char walker[] =
		"import os\n"
		"def files(root):\n"
		"    out = []\n"
		"    for r, ds, fs in os.walk(root):\n"
		"        ds[:] = [d for d in ds if d not in ('site-packages', 'dist-packages', '__pycache__')]\n"
		"        out += [os.path.join(r, f) for f in fs if f.endswith('.py')]\n"
		"    return sorted(out)\n"
		"result = files(os.path.dirname(os.__file__))\n";
	PyObject *g = PyDict_New(); /* new reference */
	cr_assert_not_null(g);
	PyDict_SetItemString(g, "__builtins__", PyEval_GetBuiltins());
	PyObject *none = PyRun_String(walker, Py_file_input, g, g); /* new reference */
	cr_assert_not_null(none, "cannot list the standard library");
	Py_DECREF(none);
	PyObject *files = PyDict_GetItemString(g, "result"); /* borrowed */
	cr_assert(files && PyList_Check(files));
	Py_INCREF(files);
	Py_DECREF(g);
	return files;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 1 << 16, n = 0, r;
	char *b = malloc(cap + 1);
	while (b && (r = fread(b + n, 1, cap - n, f)) > 0) {
		n += r;
		if (n == cap) {
			char *nb = realloc(b, cap * 2 + 1);
			if (!nb) {
				free(b);
				b = NULL;
				break;
			}
			b = nb;
			cap *= 2;
		}
	}
	fclose(f);
	if (b)
		b[n] = 0;
	*len = n;
	return b;
}

Test(oracle, stdlib_positions_and_bindings_match, .timeout = 600)
{
	long stride = 5;
	const char *env = getenv("SPIPFIX_ORACLE_STRIDE");
	if (env && atol(env) > 0)
		stride = atol(env);
	PyObject *files = python_files();
	Py_ssize_t nfiles = PyList_GET_SIZE(files);
	cr_assert_gt(nfiles, 1000, "only %zd .py files in the standard library", nfiles);
	struct tally t = {0};
	size_t skipped = 0;
	for (Py_ssize_t i = 0; i < nfiles; i += stride) {
		const char *path = PyUnicode_AsUTF8(PyList_GET_ITEM(files, i));
		cr_assert_not_null(path);
		size_t len;
		char *src = slurp(path, &len);
		cr_assert_not_null(src, "cannot read %s", path);
		if (!check_source(path, src, len, &t))
			skipped++;
		free(src);
	}
	Py_DECREF(files);
	cr_log_info("%zu files (%zu do not compile), %zu code objects (%zu indexed), %zu code units, "
		    "%zu instructions, %zu binding queries",
		    t.files, skipped, t.codes, t.indexed, t.units, t.insns, t.queries);
	cr_assert_gt(t.files, (size_t)(nfiles / stride) * 9 / 10, "only %zu files compiled", t.files);
	cr_assert_gt(t.units, (size_t)(4000000 / stride));
	/* the standard library reaches every form but no-column (13), which only compiling without
	 * debug ranges (-X no_debug_ranges) produces */
	for (int f = 0; f < 16; f++)
		if (f != 13)
			cr_assert_gt(t.forms[f], 0, "no location entry of form %d in the files checked", f);
}

/* ---- sources written for the corners --------------------------------------------------------- */

/* A growable NUL-terminated string. */
struct buf {
	char *s;
	size_t n, cap;
};

static void put(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	cr_assert_geq(k, 0);
	if (b->n + (size_t)k + 1 > b->cap) {
		b->cap = (b->n + (size_t)k + 1) * 2;
		b->s = realloc(b->s, b->cap);
		cr_assert_not_null(b->s);
	}
	va_start(ap, fmt);
	vsnprintf(b->s + b->n, b->cap - b->n, fmt, ap);
	va_end(ap);
	b->n += (size_t)k;
}

Test(oracle, corner_sources_match)
{
	struct tally t = {0};
	struct buf b = {0};
	/* columns past 127 (one-line forms) and past 255 (long form), on one line */
	put(&b, "def wide(a):\n    return (");
	for (int i = 0; i < 120; i++)
		put(&b, "a + ");
	put(&b, "len(a))\n");
	/* lines far apart (long form line deltas), backward jumps to earlier lines (negative
	 * deltas), expressions over several lines (end line deltas) */
	put(&b, "def far(xs):\n    total = 0\n    for x in xs:\n");
	for (int i = 0; i < 3000; i++)
		put(&b, "\n");
	put(&b, "        total += (x *\n\n\n                  2)\n    return total\n");
	/* code without a location: the exception-handling cleanups */
	put(&b, "def handler(f):\n    try:\n        f()\n    except ValueError as e:\n        return e\n"
		"    finally:\n        f()\n");
	/* more than 256 arguments of one call: EXTENDED_ARG before the instruction, with caches */
	put(&b, "def many(f, x):\n    return f(");
	for (int i = 0; i < 300; i++)
		put(&b, "x, ");
	put(&b, ")\n");
	/* more than 256 constants: EXTENDED_ARG LOAD_CONST */
	put(&b, "def consts():\n    return [");
	for (int i = 0; i < 300; i++)
		put(&b, "%d.5, ", i);
	put(&b, "]\n");
	/* module-level bindings: rebinding, del, `global` in nested functions, non-ASCII names */
	put(&b, "a = 1\na = 2\ndel a\ncaf\xc3\xa9 = 1\n\xce\x94 = 2\n\xc3\x80" "b = 3\n"
		"def setter():\n    global g, caf\xc3\xa9\n    g = 1\n    caf\xc3\xa9 = 2\n    def inner():\n"
		"        global g\n        del g\n    return inner\n"
		"class K:\n    k = 1\n    def m(self):\n        global h\n        h = self\n");
	cr_assert(check_source("corners.py", b.s, b.n, &t), "corners.py does not compile");
	size_t corner_units = t.units;
	for (int f = 0; f < 16; f++)
		if (f != 13)
			cr_assert_gt(t.forms[f], 0, "no location entry of form %d in corners.py", f);
	/* the same with `import *` between module stores: every query answers -1, the first line
	 * from the stores before it */
	put(&b, "b = 1\nfrom os.path import *\nb = 2\nc = 3\n");
	cr_assert(check_source("corners_star.py", b.s, b.n, &t), "corners_star.py does not compile");
	struct unit u;
	cr_assert_eq(unit_init(&u, "corners_star.py", b.s, b.n), 0);
	cr_assert_eq(bridge_compile(&u), 0);
	int first = 0;
	cr_assert_eq(bridge_global_bindings(&u, "b", &first), -1);
	cr_assert_gt(first, 0);
	cr_assert_eq(bridge_global_bindings(&u, "c", &first), -1);
	cr_assert_eq(first, 0);
	unit_free(&u);
	free(b.s);
	cr_assert_gt(corner_units, 1000);
}

Test(oracle, no_column_form_matches)
{
	/* the no-column form (13): code compiled without column information */
	static const char src[] =
		"import sys\n"
		"def f(x):\n"
		"    if x:\n"
		"        return [y\n"
		"                for y in range(x)]\n"
		"    return None\n";
	PyObject *g = PyDict_New(); /* new reference */
	PyDict_SetItemString(g, "__builtins__", PyEval_GetBuiltins());
	/* co.replace(co_linetable=...) with every entry turned into form 13, as the compiler
	 * writes it under -X no_debug_ranges */
	static const char conv[] =
		"def sv(v):\n"
		"    v = (-v << 1) | 1 if v < 0 else v << 1\n"
		"    out = bytearray()\n"
		"    while v >= 64:\n"
		"        out.append(64 | (v & 63)); v >>= 6\n"
		"    out.append(v)\n"
		"    return bytes(out)\n"
		"def nocol(co):\n"
		"    out = bytearray(); line = co.co_firstlineno; prev = None; i = 0\n"
		"    pos = list(co.co_positions())\n"
		"    while i < len(pos):\n"
		"        n = 1\n"
		"        while n < 8 and i + n < len(pos) and pos[i + n][0] == pos[i][0]: n += 1\n"
		"        ln = pos[i][0]\n"
		"        if ln is None:\n"
		"            out.append(0x80 | (15 << 3) | (n - 1))\n"
		"        else:\n"
		"            out.append(0x80 | (13 << 3) | (n - 1)); out += sv(ln - line); line = ln\n"
		"        i += n\n"
		"    consts = tuple(nocol(c) if hasattr(c, 'co_positions') else c for c in co.co_consts)\n"
		"    return co.replace(co_linetable=bytes(out), co_consts=consts)\n"
		"result = nocol(compile(src, 'nocol.py', 'exec'))\n";
	PyObject *s = PyUnicode_FromString(src); /* new reference */
	PyDict_SetItemString(g, "src", s);
	Py_DECREF(s);
	PyObject *none = PyRun_String(conv, Py_file_input, g, g); /* new reference */
	cr_assert_not_null(none, "cannot rewrite the location table");
	Py_DECREF(none);
	PyObject *co = PyDict_GetItemString(g, "result"); /* borrowed */
	cr_assert(co && PyCode_Check(co));
	struct tally t = {0};
	PyObject *stack[16];
	int sp = 0;
	stack[sp++] = co;
	while (sp) {
		PyObject *c = stack[--sp];
		size_t n = (size_t)Py_SIZE(c);
		int *got = malloc(sizeof(int) * 4 * (n + 1)), *want = malloc(sizeof(int) * 4 * (n + 1));
		cr_assert_eq(bridge_positions(c, got, n), n);
		positions_oracle(c, want, n);
		for (size_t i = 0; i < 4 * n; i++)
			cr_assert_eq(got[i], want[i], "nocol.py: code unit %zu, field %zu: %d, co_positions() %d", i / 4,
				     i % 4, got[i], want[i]);
		free(got);
		free(want);
		count_forms(c, &t);
		PyObject *consts = ((PyCodeObject *)c)->co_consts;
		for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(consts); i++)
			if (PyCode_Check(PyTuple_GET_ITEM(consts, i)) && sp < 16)
				stack[sp++] = PyTuple_GET_ITEM(consts, i);
	}
	cr_assert_gt(t.forms[13], 0);
	Py_DECREF(g);
}
