/* The Python boundary (pyrt.h) for one CPython version: this file is compiled against the
 * headers of each version found at configure time, into that version's module spipfix-py3X.so.
 * What differs between versions is written here once, under PY_VERSION_HEX:
 *   - 3.11: LOAD_METHOD, PRECALL, POP_JUMP_BACKWARD_IF_*, IMPORT_STAR; comprehensions are code
 *     objects of their own;
 *   - 3.12: comprehensions inlined into their scope (PEP 709), LOAD_ATTR's low bit says "method",
 *     LOAD_SUPER_ATTR, `from m import *` is CALL_INTRINSIC_1 INTRINSIC_IMPORT_STAR, hidden
 *     locals, annotation scopes (PEP 695);
 *   - 3.13: MAKE_FUNCTION without an argument followed by SET_FUNCTION_ATTRIBUTE per flag,
 *     LOAD_FAST_LOAD_FAST and the other two-local instructions, a cache entry after
 *     JUMP_BACKWARD.
 * Inline cache sizes and opcode names are read from the version's own `opcode` module.
 *
 * The module's file-scope state (opcode names, cache sizes, builtins, helpers) is the state of
 * the process's one interpreter, which is a process-wide object itself: it is set by init and
 * cleared by fini. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <marshal.h>
#include <opcode.h>

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "bridge.h"
#include "bridge_py.h"
#include "budget.h"
#include "pyrt.h"
#include "unit.h"

#define PY_AT_LEAST(minor) (PY_VERSION_HEX >= (0x03000000 | ((minor) << 16)))

/* INTRINSIC_IMPORT_STAR of pycore_intrinsics.h (an internal header) */
#define SPIPFIX_INTRINSIC_IMPORT_STAR 2
/* CO_FAST_HIDDEN of pycore_code.h (3.12+), CO_FAST_FREE */
#define SPIPFIX_CO_FAST_HIDDEN 0x10
#define SPIPFIX_CO_FAST_FREE 0x80

static struct {
	char *opnames[256];
	unsigned char caches[256];  /* inline cache entries after each opcode */
	bool jrel[256];             /* opcode.hasjrel: the argument is a relative jump */
	char **builtins;
	size_t nbuiltins;
	char **stdlib;              /* sys.stdlib_module_names, sorted */
	size_t nstdlib;
	PyObject *toml_fn;          /* the TOML helper (new reference), built on first use */
} S;

/* ---- exceptions as text: the one helper ----------------------------------------------------- */

char *py_exc_text(bool with_type, size_t max_msg)
{
	PyObject *type, *value, *tb;
	PyErr_Fetch(&type, &value, &tb); /* new references (or NULL) */
	PyErr_NormalizeException(&type, &value, &tb);
	PyObject *s = value ? PyObject_Str(value) : NULL; /* new reference */
	const char *msg = s ? PyUnicode_AsUTF8(s) : NULL;
	if (!msg)
		PyErr_Clear();
	const char *tn = type ? ((PyTypeObject *)type)->tp_name : "error";
	msg = msg ? msg : "";
	size_t ml = strlen(msg);
	if (ml > max_msg)
		ml = max_msg;
	size_t need = strlen(tn) + ml + 3;
	char *r = malloc(need);
	if (r) {
		if (!with_type)
			snprintf(r, need, "%.*s", (int)ml, msg);
		else
			snprintf(r, need, "%s%s%.*s", tn, ml ? ": " : "", (int)ml, msg);
	}
	Py_XDECREF(s);
	Py_XDECREF(type);
	Py_XDECREF(value);
	Py_XDECREF(tb);
	PyErr_Clear();
	return r;
}

/* ---- the interpreter -------------------------------------------------------------------------- */

/* Borrowed opcode module attribute `name` read into S (list by opcode in 3.11/3.12, dict by name
 * in 3.13+). */
static void read_caches(PyObject *mod)
{
	PyObject *c = PyObject_GetAttrString(mod, "_inline_cache_entries"); /* new reference */
	if (c && PyList_Check(c)) {
		for (Py_ssize_t i = 0; i < PyList_GET_SIZE(c) && i < 256; i++)
			S.caches[i] = (unsigned char)PyLong_AsLong(PyList_GET_ITEM(c, i));
	} else if (c && PyDict_Check(c)) {
		for (int i = 0; i < 256; i++) {
			PyObject *v = S.opnames[i] ? PyDict_GetItemString(c, S.opnames[i]) : NULL; /* borrowed */
			S.caches[i] = v ? (unsigned char)PyLong_AsLong(v) : 0;
		}
	}
	Py_XDECREF(c);
	PyErr_Clear();
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The str items of an iterable (borrowed) as a sorted, malloc'd array of malloc'd strings into
 * *out / *n. Returns 0 / -1. */
static int sorted_names(PyObject *it, char ***out, size_t *n)
{
	PyObject *list = it ? PySequence_List(it) : NULL; /* new reference */
	int rc = -1;
	if (!list)
		goto out;
	Py_ssize_t k = PyList_GET_SIZE(list);
	*out = calloc((size_t)k + 1, sizeof **out);
	if (!*out)
		goto out;
	for (Py_ssize_t i = 0; i < k; i++) {
		const char *s = PyUnicode_Check(PyList_GET_ITEM(list, i)) ? PyUnicode_AsUTF8(PyList_GET_ITEM(list, i)) : NULL;
		if (!s || !((*out)[*n] = strdup(s))) {
			PyErr_Clear();
			continue;
		}
		(*n)++;
	}
	qsort(*out, *n, sizeof **out, cmp_str);
	rc = 0;
out:
	Py_XDECREF(list);
	PyErr_Clear();
	return rc;
}

/* The names of the builtins module and of the standard library's modules, sorted, into S.
 * Returns 0 / -1. */
static int read_builtins(void)
{
	PyObject *mod = PyImport_ImportModule("builtins");   /* new reference */
	PyObject *names = mod ? PyObject_Dir(mod) : NULL;   /* new reference */
	int rc = sorted_names(names, &S.builtins, &S.nbuiltins);
	Py_XDECREF(names);
	Py_XDECREF(mod);
	PyObject *std = PySys_GetObject("stdlib_module_names"); /* borrowed */
	if (rc == 0)
		rc = sorted_names(std, &S.stdlib, &S.nstdlib);
	PyErr_Clear();
	return rc;
}

static int py_init(void)
{
	if (Py_IsInitialized())
		return 0;
	PyConfig cfg;
	PyConfig_InitIsolatedConfig(&cfg);
	cfg.site_import = 0;
	cfg.install_signal_handlers = 0;
	cfg.write_bytecode = 0;
	cfg.user_site_directory = 0;
	/* the interpreter's own path: its prefix, and so its standard library, follow from it */
	PyStatus st = PyConfig_SetBytesString(&cfg, &cfg.program_name, SPIPFIX_PY_EXE);
	if (!PyStatus_Exception(st))
		st = PyWideStringList_Append(&cfg.warnoptions, L"ignore");
	if (!PyStatus_Exception(st))
		st = Py_InitializeFromConfig(&cfg);
	PyConfig_Clear(&cfg);
	if (PyStatus_Exception(st)) {
		fprintf(stderr, "spipfix: cannot start Python %d.%d (%s): %s\n", PY_MAJOR_VERSION, PY_MINOR_VERSION,
			SPIPFIX_PY_EXE, st.err_msg ? st.err_msg : "unknown error");
		return -1;
	}
	/* opcode names and cache sizes from the interpreter itself (new reference: mod, names) */
	PyObject *mod = PyImport_ImportModule("opcode");
	PyObject *names = mod ? PyObject_GetAttrString(mod, "opname") : NULL;
	if (names && PyList_Check(names)) {
		for (Py_ssize_t i = 0; i < PyList_GET_SIZE(names) && i < 256; i++) {
			const char *s = PyUnicode_AsUTF8(PyList_GET_ITEM(names, i));
			S.opnames[i] = s && s[0] != '<' ? strdup(s) : NULL;
		}
	}
	if (mod) {
		read_caches(mod);
		PyObject *jr = PyObject_GetAttrString(mod, "hasjrel"); /* new reference */
		for (Py_ssize_t i = 0; jr && PyList_Check(jr) && i < PyList_GET_SIZE(jr); i++) {
			long op = PyLong_AsLong(PyList_GET_ITEM(jr, i));
			if (op >= 0 && op < 256)
				S.jrel[op] = true;
		}
		Py_XDECREF(jr);
	}
	Py_XDECREF(names);
	Py_XDECREF(mod);
	PyErr_Clear();
	if (!S.opnames[LOAD_CONST] || read_builtins() < 0) {
		fprintf(stderr, "spipfix: Python %d.%d: cannot read the opcode table or the builtins\n", PY_MAJOR_VERSION,
			PY_MINOR_VERSION);
		return -1;
	}
	return 0;
}

static void py_fini(void)
{
	for (int i = 0; i < 256; i++) {
		free(S.opnames[i]);
		S.opnames[i] = NULL;
	}
	for (size_t i = 0; i < S.nbuiltins; i++)
		free(S.builtins[i]);
	free(S.builtins);
	S.builtins = NULL;
	S.nbuiltins = 0;
	for (size_t i = 0; i < S.nstdlib; i++)
		free(S.stdlib[i]);
	free(S.stdlib);
	S.stdlib = NULL;
	S.nstdlib = 0;
	measure_fini();
	if (Py_IsInitialized()) {
		Py_CLEAR(S.toml_fn);
		Py_FinalizeEx();
	}
}

static bool py_initialized(void) { return Py_IsInitialized(); }
static const char *py_version(void) { return Py_IsInitialized() ? Py_GetVersion() : ""; }
static const char *const *py_opnames(void) { return (const char *const *)S.opnames; }

static const char *const *py_builtins(size_t *n)
{
	*n = S.nbuiltins;
	return (const char *const *)S.builtins;
}

static const char *const *py_stdlib_modules(size_t *n)
{
	*n = S.nstdlib;
	return (const char *const *)S.stdlib;
}

/* ---- the location table ---------------------------------------------------------------------- */

/* CPython's location table (co_linetable; Objects/locations.md, the same format in 3.11 to
 * 3.13): a sequence of entries, each covering 1..8 code units, that code objects decode lazily
 * in co_positions(). This is the same decoder in C (advance_with_locations in
 * Objects/codeobject.c), one entry at a time, with co_positions()'s results: -1 where it gives
 * None, and -1 for code units past the table's end (the iterator stops there). Reads never go
 * past the table, whatever its bytes. */
struct loctab {
	const unsigned char *p, *end;
	int unit_end;      /* first code unit after the current entry */
	int computed_line; /* the running line of long, no-column and one-line forms */
	int line, end_line, col, end_col;
};

static void loctab_init(struct loctab *t, PyCodeObject *co)
{
	PyObject *lt = co->co_linetable;
	memset(t, 0, sizeof *t);
	if (lt && PyBytes_Check(lt)) {
		t->p = (const unsigned char *)PyBytes_AS_STRING(lt);
		t->end = t->p + PyBytes_GET_SIZE(lt);
	}
	t->computed_line = co->co_firstlineno;
	t->line = t->end_line = t->col = t->end_col = -1;
}

static int loctab_byte(struct loctab *t) { return t->p < t->end ? *t->p++ : 0; }

/* little-endian groups of 6 bits, bit 6 set on all but the last byte */
static int loctab_varint(struct loctab *t)
{
	unsigned int b = (unsigned int)loctab_byte(t), val = b & 63, shift = 0;
	while (b & 64) {
		b = (unsigned int)loctab_byte(t);
		shift += 6;
		if (shift < 32)
			val |= (b & 63) << shift;
	}
	return (int)val;
}

/* zig-zag: bit 0 is the sign */
static int loctab_svarint(struct loctab *t)
{
	unsigned int u = (unsigned int)loctab_varint(t);
	return (u & 1) ? -(int)(u >> 1) : (int)(u >> 1);
}

/* Move to the entry covering code unit `unit` (units are visited in increasing order). */
static void loctab_seek(struct loctab *t, int unit)
{
	while (unit >= t->unit_end) {
		if (t->p >= t->end) {
			t->line = t->end_line = t->col = t->end_col = -1;
			t->unit_end = INT_MAX;
			return;
		}
		int first = *t->p++;
		int code = (first >> 3) & 15;
		t->unit_end += (first & 7) + 1;
		switch (code) {
		case 15: /* no location */
			t->line = t->end_line = t->col = t->end_col = -1;
			break;
		case 14: /* long form: line delta, end line delta, column + 1, end column + 1 */
			t->computed_line += loctab_svarint(t);
			t->line = t->computed_line;
			t->end_line = t->line + loctab_varint(t);
			t->col = loctab_varint(t) - 1;
			t->end_col = loctab_varint(t) - 1;
			break;
		case 13: /* no column */
			t->computed_line += loctab_svarint(t);
			t->line = t->end_line = t->computed_line;
			t->col = t->end_col = -1;
			break;
		case 10: case 11: case 12: /* one line, line delta code - 10: column, end column */
			t->computed_line += code - 10;
			t->line = t->end_line = t->computed_line;
			t->col = loctab_byte(t);
			t->end_col = loctab_byte(t);
			break;
		default: { /* short form, same line: column bits 3..6 in code, 0..2 and length in 2nd byte */
			int second = loctab_byte(t);
			t->line = t->end_line = t->computed_line;
			t->col = code << 3 | (second >> 4);
			t->end_col = t->col + (second & 15);
			break;
		}
		}
	}
}

static size_t py_positions(const void *code, int *out, size_t n)
{
	PyCodeObject *co = (PyCodeObject *)code; /* borrowed */
	size_t units = (size_t)Py_SIZE(co);
	struct loctab t;
	loctab_init(&t, co);
	for (size_t i = 0; i < n && i < units; i++) {
		loctab_seek(&t, (int)i);
		out[4 * i + 0] = t.line;
		out[4 * i + 1] = t.end_line;
		out[4 * i + 2] = t.col;
		out[4 * i + 3] = t.end_col;
	}
	return units;
}

/* ---- code objects as facts -------------------------------------------------------------------- */

static void decref(void *p) { Py_XDECREF((PyObject *)p); }

/* Borrowed -> C string of a str object that lives as long as the object, or "" */
static const char *str_of(PyObject *s)
{
	const char *c = s && PyUnicode_Check(s) ? PyUnicode_AsUTF8(s) : NULL;
	if (!c) {
		PyErr_Clear();
		return "";
	}
	return c;
}

/* Borrowed -> arena copy of a str object, or "" */
static const char *arena_pystr(struct arena *a, PyObject *s)
{
	const char *c = str_of(s);
	return *c ? arena_strdup(a, c) : "";
}

/* The index into co_names of a name instruction's argument: 3.11+ keep flags in low bits. */
static int name_index(int op, int arg)
{
	if (op == LOAD_GLOBAL)
		return arg >> 1;
#if PY_AT_LEAST(12)
	if (op == LOAD_ATTR)
		return arg >> 1;
	if (op == LOAD_SUPER_ATTR)
		return arg >> 2;
#endif
	return arg;
}

struct py_op *py_decode(void *code, size_t *n, uint64_t *units)
{
	PyCodeObject *co = code;              /* borrowed */
	PyObject *bytes = PyCode_GetCode(co); /* new reference */
	if (!bytes)
		return NULL;
	size_t nb = (size_t)PyBytes_GET_SIZE(bytes) / 2;
	const unsigned char *b = (const unsigned char *)PyBytes_AS_STRING(bytes);
	/* at most one instruction per code unit, two for a two-local one */
	struct py_op *v = malloc(sizeof *v * (2 * nb + 1));
	size_t k = 0;
	uint64_t u = 0;
	int ext = 0;
	for (size_t i = 0; v && i < nb; i++) {
		int op = b[2 * i], arg = b[2 * i + 1] | ext, off = (int)(2 * i);
		if (op == CACHE)
			continue;
		u++;
		if (op == EXTENDED_ARG) {
			ext = arg << 8;
			continue;
		}
		ext = 0;
#if PY_AT_LEAST(13)
		if (op == LOAD_FAST_LOAD_FAST || op == STORE_FAST_STORE_FAST || op == STORE_FAST_LOAD_FAST) {
			v[k++] = (struct py_op){off, op == LOAD_FAST_LOAD_FAST ? LOAD_FAST : STORE_FAST, arg >> 4, false};
			v[k++] = (struct py_op){off, op == STORE_FAST_STORE_FAST ? STORE_FAST : LOAD_FAST, arg & 15, false};
			continue;
		}
		if (op == CALL_KW && k && v[k - 1].op == LOAD_CONST)
			v[k - 1].op = PYRT_OP_KW_NAMES;
#endif
		bool method = false;
#if PY_AT_LEAST(12)
		method = op == LOAD_ATTR && (arg & 1);
#endif
		v[k++] = (struct py_op){off, op, name_index(op, arg), method};
	}
	Py_DECREF(bytes);
	*n = k;
	*units = u;
	return v;
}

/* Decode the code object of ci into ci->insns (arena memory) with the positions of
 * co_positions(). Returns 0 / -1. */
static int decode(struct arena *a, struct code_info *ci)
{
	size_t n;
	uint64_t units;
	struct py_op *v = py_decode(ci->code, &n, &units);
	if (!v)
		return -1;
	ci->insns = arena_alloc(a, sizeof(struct insn) * (n + 1));
	if (!ci->insns) {
		free(v);
		return -1;
	}
	struct loctab t;
	loctab_init(&t, ci->code);
	for (size_t k = 0; k < n; k++) {
		loctab_seek(&t, v[k].offset / 2);
		struct insn *in = &ci->insns[k];
		*in = (struct insn){.offset = v[k].offset, .op = v[k].op, .arg = v[k].arg, .line = t.line,
				    .end_line = t.end_line, .col = t.col, .end_col = t.end_col};
#if PY_AT_LEAST(12)
		if (in->op == CALL_INTRINSIC_1 && in->arg == SPIPFIX_INTRINSIC_IMPORT_STAR && ci->star_at < 0)
			ci->star_at = (int)k;
#else
		if (in->op == IMPORT_STAR && ci->star_at < 0)
			ci->star_at = (int)k;
#endif
	}
	ci->ninsns = n;
	free(v);
	return 0;
}

bool py_backward_jump(int op)
{
#if PY_AT_LEAST(12)
	return op == JUMP_BACKWARD;
#else
	return op == JUMP_BACKWARD || op == POP_JUMP_BACKWARD_IF_FALSE || op == POP_JUMP_BACKWARD_IF_TRUE ||
	       op == POP_JUMP_BACKWARD_IF_NONE || op == POP_JUMP_BACKWARD_IF_NOT_NONE;
#endif
}

/* The offset a relative jump goes to: from the instruction after its caches, backwards for the
 * BACKWARD jumps. */
static int jump_target(const struct insn *in)
{
	if (in->op < 0 || in->op > 255)
		return in->offset;
	int next = in->offset + 2 + 2 * S.caches[in->op];
	bool back = S.opnames[in->op] && strstr(S.opnames[in->op], "BACKWARD");
	return back ? next - 2 * in->arg : next + 2 * in->arg;
}

/* The first of ci's instructions [0, n) at or after byte offset `offset` (instructions are in
 * offset order), or n. */
static size_t insn_at_offset(const struct code_info *ci, size_t n, int offset)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (ci->insns[mid].offset < offset)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

#if PY_AT_LEAST(12)
/* Does control leave instruction `op` only by its jump (or not at all)? */
static bool no_fallthrough(int op)
{
	return op == JUMP_FORWARD || op == JUMP_BACKWARD || op == JUMP_BACKWARD_NO_INTERRUPT || op == RETURN_VALUE ||
	       op == RETURN_CONST || op == RAISE_VARARGS || op == RERAISE;
}

/* The instructions reached from the entry without an exception ("warm"; the rest is exception
 * handling, which 3.12+ moves to the end of the code object), into warm[0, ninsns). Returns 0 /
 * -1 (out of memory). */
static int warm_code(const struct code_info *ci, bool *warm)
{
	size_t n = ci->ninsns, top = 0;
	size_t *stack = malloc(sizeof *stack * (n + 1));
	if (!stack)
		return -1;
	memset(warm, 0, n);
	if (n) {
		warm[0] = true;
		stack[top++] = 0;
	}
	while (top) {
		size_t i = stack[--top];
		const struct insn *in = &ci->insns[i];
		size_t next[2];
		int nn = 0;
		if (!no_fallthrough(in->op) && i + 1 < n)
			next[nn++] = i + 1;
		if (in->op >= 0 && in->op < 256 && S.jrel[in->op]) {
			size_t lo = insn_at_offset(ci, n, jump_target(in));
			if (lo < n)
				next[nn++] = lo;
		}
		for (int k = 0; k < nn; k++)
			if (!warm[next[k]]) {
				warm[next[k]] = true;
				stack[top++] = next[k];
			}
	}
	free(stack);
	return 0;
}
#endif

static enum code_kind kind_of(PyCodeObject *co, const char *name, bool is_module)
{
	if (is_module)
		return CK_MODULE;
	if (!strcmp(name, "<lambda>"))
		return CK_LAMBDA;
	if (!strcmp(name, "<listcomp>") || !strcmp(name, "<setcomp>") || !strcmp(name, "<dictcomp>") ||
	    !strcmp(name, "<genexpr>"))
		return CK_COMPREHENSION;
	if (!strncmp(name, "<generic parameters of ", 23))
		return CK_ANNOTATION;
	return (co->co_flags & CO_OPTIMIZED) ? CK_FUNCTION : CK_CLASS;
}

/* co_names and co_localsplusnames as C strings, the local kinds normalised. co: borrowed. */
static int name_tables(struct arena *a, struct code_info *ci, PyCodeObject *co)
{
	PyObject *names = co->co_names, *locals = co->co_localsplusnames, *kinds = co->co_localspluskinds;
	ci->nnames = (int)PyTuple_GET_SIZE(names);
	ci->nlocals = (int)PyTuple_GET_SIZE(locals);
	const char **nv = arena_alloc(a, sizeof *nv * (size_t)(ci->nnames + 1));
	const char **lv = arena_alloc(a, sizeof *lv * (size_t)(ci->nlocals + 1));
	unsigned char *kv = arena_alloc(a, (size_t)ci->nlocals + 1);
	if (!nv || !lv || !kv)
		return -1;
	for (int i = 0; i < ci->nnames; i++)
		nv[i] = str_of(PyTuple_GET_ITEM(names, i));
	const unsigned char *kb = (const unsigned char *)PyBytes_AS_STRING(kinds);
	for (int i = 0; i < ci->nlocals; i++) {
		lv[i] = str_of(PyTuple_GET_ITEM(locals, i));
		kv[i] = (kb[i] & SPIPFIX_CO_FAST_FREE) ? 2 : 1;
#if PY_AT_LEAST(12)
		if (kb[i] & SPIPFIX_CO_FAST_HIDDEN)
			kv[i] = 0;
#endif
	}
	ci->names = nv;
	ci->locals = lv;
	ci->local_kinds = kv;
	return 0;
}

/* Which instructions of `pi` lie in a loop: in the range [target, jump) of a backward jump. One
 * pass over the jumps and a running count, instead of every jump for every site. 3.12+ places an
 * exception handler after the code it protects and jumps back to where the code goes on: a jump
 * from a handler (`warm` false) into code run without an exception closes no loop. malloc'd, NULL
 * when out of memory. */
static bool *loop_marks(const struct code_info *pi, const bool *warm)
{
	int *delta = calloc(pi->ninsns + 1, sizeof *delta);
	bool *in = calloc(pi->ninsns + 1, sizeof *in);
	if (!delta || !in) {
		free(delta);
		free(in);
		return NULL;
	}
	for (size_t j = 0; j < pi->ninsns; j++) {
		const struct insn *jp = &pi->insns[j];
		if (!py_backward_jump(jp->op))
			continue;
		size_t lo = insn_at_offset(pi, j, jump_target(jp));
#if PY_AT_LEAST(12)
		if (warm && !warm[j] && lo < pi->ninsns && warm[lo])
			continue;
#else
		(void)warm;
#endif
		delta[lo]++;
		delta[j]--;
	}
	int open = 0;
	for (size_t i = 0; i < pi->ninsns; i++) {
		open += delta[i];
		in[i] = open > 0;
	}
	free(delta);
	return in;
}

/* Where the parent (code_info `pi`, instruction `i` a LOAD_CONST of the child) builds the child's
 * function: MAKE_FUNCTION right after it; its flags from its argument (3.11, 3.12) or from the
 * SET_FUNCTION_ATTRIBUTE instructions that follow it (3.13+). `in_loop`: loop_marks of pi. */
static void record_site(struct code_info *pi, size_t i, struct code_info *child, const bool *in_loop)
{
	if (i + 1 >= pi->ninsns || pi->insns[i + 1].op != MAKE_FUNCTION)
		return;
	if (child->site >= 0) {
		/* another site of the same function: only the loop question is asked again */
		child->site_in_loop |= in_loop[i + 1];
		return;
	}
	child->site = (int)i + 1;
#if PY_AT_LEAST(13)
	child->make_flags = 0;
	for (size_t j = i + 2; j < pi->ninsns && pi->insns[j].op == SET_FUNCTION_ATTRIBUTE; j++)
		child->make_flags |= pi->insns[j].arg;
#else
	child->make_flags = pi->insns[i + 1].arg;
#endif
	child->site_line = pi->insns[i].line;
	child->site_col = pi->insns[i].col;
	child->site_in_loop = in_loop[i + 1];
}

struct walk {
	struct unit *u;
	size_t cap;
};

/* A child code object of the parent being indexed, by where the parent loads it. */
struct site_key {
	int arg, line, col; /* co_consts index, source position of the LOAD_CONST */
};
struct site_seen {
	struct site_key key;
	size_t child; /* index in u->codes */
	UT_hash_handle hh;
};

static void sites_free(struct site_seen **sites)
{
	struct site_seen *e, *tmp;
	HASH_ITER(hh, *sites, e, tmp) {
		HASH_DEL(*sites, e);
		free(e);
	}
}

/* co: borrowed (the module code keeps it alive). */
static struct code_info *add_code(struct walk *w, PyCodeObject *co, struct code_info *parent, int depth)
{
	struct unit *u = w->u;
	if (depth > 200)
		return NULL;
	if (u->ncodes == w->cap) {
		/* indices stay valid: children refer to parents by pointer, so grow by copying and
		 * fixing parents */
		size_t ncap = w->cap ? w->cap * 2 : 64;
		struct code_info *nv = arena_grow(&u->arena, u->codes, sizeof *nv, u->ncodes, ncap);
		if (!nv)
			return NULL;
		for (size_t i = 0; i < u->ncodes; i++)
			if (nv[i].parent)
				nv[i].parent = nv + (nv[i].parent - u->codes);
		if (parent)
			parent = nv + (parent - u->codes);
		u->codes = nv;
		w->cap = ncap;
	}
	size_t idx = u->ncodes++;
	struct code_info *ci = &u->codes[idx];
	memset(ci, 0, sizeof *ci);
	ci->code = co;
	ci->parent = parent;
	ci->qualname = arena_pystr(&u->arena, co->co_qualname);
	ci->name = arena_pystr(&u->arena, co->co_name);
	ci->firstlineno = co->co_firstlineno;
	ci->flags = co->co_flags;
	ci->kind = kind_of(co, ci->name, parent == NULL);
	ci->nfreevars = co->co_nfreevars;
	ci->site = -1;
	ci->star_at = -1;
	ci->freevars = "";
	if (ci->nfreevars) {
		PyObject *fv = PyCode_GetFreevars(co); /* new reference */
		PyObject *sep = PyUnicode_FromString(","); /* new reference */
		PyObject *j = fv && sep ? PyUnicode_Join(sep, fv) : NULL; /* new reference */
		ci->freevars = arena_pystr(&u->arena, j);
		Py_XDECREF(j);
		Py_XDECREF(sep);
		Py_XDECREF(fv);
		PyErr_Clear();
	}
	if (name_tables(&u->arena, ci, co) < 0 || decode(&u->arena, ci) < 0)
		return NULL;
	PyObject *consts = co->co_consts; /* borrowed */
	bool *in_loop = NULL; /* loop_marks of this code object, at its first child */
	struct site_seen *sites = NULL; /* the children indexed so far, by where they are loaded */
	for (size_t i = 0; i < ci->ninsns; i++) {
		struct insn *in = &ci->insns[i];
		if (in->op != LOAD_CONST || in->arg >= PyTuple_GET_SIZE(consts))
			continue;
		PyObject *c = PyTuple_GET_ITEM(consts, in->arg); /* borrowed */
		if (!PyCode_Check(c))
			continue;
		/* a code object the parent loads twice at one source position (3.12+ copies a small
		 * block that ends the code into both branches of an `if` before it) is one function:
		 * indexed once, its later sites only add whether one lies in a loop. (Two lambdas
		 * with equal code share one code object in 3.12+ too, but at two positions: two
		 * functions, indexed apart.) */
		struct code_info *child = NULL;
		struct site_key key;
		memset(&key, 0, sizeof key);
		key.arg = in->arg;
		key.line = in->line;
		key.col = in->col;
		struct site_seen *seen = NULL;
		HASH_FIND(hh, sites, &key, sizeof key, seen);
		if (seen)
			child = &u->codes[seen->child];
		/* children: recurse; then record where the parent builds the function */
		if (!child && !(child = add_code(w, (PyCodeObject *)c, &u->codes[idx], depth + 1))) {
			free(in_loop);
			sites_free(&sites);
			return NULL;
		}
		ci = &u->codes[idx]; /* the array may have moved */
		if (!seen) {
			struct site_seen *e = malloc(sizeof *e);
			if (!e) {
				free(in_loop);
				sites_free(&sites);
				return NULL;
			}
			e->key = key;
			e->child = (size_t)(child - u->codes);
			HASH_ADD(hh, sites, key, sizeof key, e);
		}
		if (!in_loop) {
			bool *warm = NULL; /* 3.12+: which instructions run without an exception */
#if PY_AT_LEAST(12)
			warm = malloc(ci->ninsns + 1);
			if (warm && warm_code(ci, warm) < 0) {
				free(warm);
				warm = NULL;
			}
#endif
			in_loop = loop_marks(ci, warm);
			free(warm);
			if (!in_loop) {
				sites_free(&sites);
				return NULL;
			}
		}
		record_site(ci, i, child, in_loop);
	}
	free(in_loop);
	sites_free(&sites);
	return &u->codes[idx];
}

static void set_compile_error(struct unit *u)
{
	PyObject *type, *value, *tb;
	PyErr_Fetch(&type, &value, &tb); /* new references (or NULL) */
	PyErr_NormalizeException(&type, &value, &tb);
	const char *tname = type ? ((PyTypeObject *)type)->tp_name : "error";
	const char *msg = NULL;
	if (value && PyErr_GivenExceptionMatches(type, PyExc_SyntaxError)) {
		PyObject *m = PyObject_GetAttrString(value, "msg");       /* new reference */
		PyObject *ln = PyObject_GetAttrString(value, "lineno");   /* new reference */
		PyObject *off = PyObject_GetAttrString(value, "offset");  /* new reference */
		msg = arena_pystr(&u->arena, m);
		if (ln && PyLong_Check(ln)) {
			long l = PyLong_AsLong(ln);
			long o = off && PyLong_Check(off) ? PyLong_AsLong(off) : 1;
			u->error_row = l > 0 ? (uint32_t)(l - 1) : 0;
			u->error_col = o > 0 ? (uint32_t)(o - 1) : 0;
			u->error_has_pos = true;
		}
		Py_XDECREF(m);
		Py_XDECREF(ln);
		Py_XDECREF(off);
	} else if (value) {
		PyObject *s = PyObject_Str(value); /* new reference */
		msg = arena_pystr(&u->arena, s);
		Py_XDECREF(s);
	}
	u->error = arena_printf(&u->arena, "Python %d.%d cannot compile this file (%s: %s); no fixes", PY_MAJOR_VERSION,
				PY_MINOR_VERSION, tname, msg ? msg : "?");
	u->error_kind = UE_INPUT;
	Py_XDECREF(type);
	Py_XDECREF(value);
	Py_XDECREF(tb);
	PyErr_Clear();
}

/* Returns a new reference to the module code object, or NULL with a Python error set. */
static PyObject *compile_text(const char *src, const char *filename)
{
	PyObject *fn = PyUnicode_DecodeFSDefault(filename); /* new reference */
	if (!fn)
		return NULL;
	PyCompilerFlags flags = _PyCompilerFlags_INIT;
	PyObject *co = Py_CompileStringObject(src, fn, Py_file_input, &flags, -1);
	Py_DECREF(fn);
	return co;
}

static int py_compile(struct unit *u)
{
	PyObject *co = compile_text(u->src, u->path); /* new reference, released by the arena */
	if (!co) {
		set_compile_error(u);
		return -1;
	}
	if (arena_defer(&u->arena, decref, co) < 0) {
		Py_DECREF(co);
		u->error = "out of memory";
		u->error_kind = UE_INTERNAL;
		return -1;
	}
	u->module_code = co;
	struct walk w = {.u = u};
	if (!add_code(&w, (PyCodeObject *)co, NULL, 0)) {
		PyErr_Clear();
		u->error = "cannot index the compiled code objects (nesting too deep?)";
		u->error_kind = UE_INPUT;
		return -1;
	}
	return 0;
}

static int py_compile_only(const char *src, const char *path)
{
	PyObject *co = Py_CompileString(src, path, Py_file_input); /* new reference */
	PyErr_Clear();
	Py_XDECREF(co);
	return co ? 0 : -1;
}

/* ---- analysis-time evaluation (SPF201) ----------------------------------------------------- */

static int py_eval_call(struct arena *a, const char *module, const char *attrs, const char *args, const char **err)
{
	int rc = -1;
	*err = NULL;
	PyObject *globals = NULL, *code = NULL, *res = NULL;
	PyObject *obj = PyImport_ImportModule(module); /* new reference */
	for (const char *p = attrs; obj && p && *p;) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		const char *name = arena_strndup(a, p, n);
		PyObject *next = name ? PyObject_GetAttrString(obj, name) : NULL; /* new reference */
		Py_DECREF(obj);
		obj = next;
		p = dot ? dot + 1 : NULL;
	}
	if (!obj)
		goto out;
	globals = PyDict_New(); /* new reference */
	if (!globals || PyDict_SetItemString(globals, "__builtins__", PyEval_GetBuiltins()) < 0 ||
	    PyDict_SetItemString(globals, "__spipfix_callee", obj) < 0)
		goto out;
	/* warnings are errors here: a call that warns (re.compile of a deprecated pattern) would
	 * warn once at import instead of on every call, so it is not hoisted */
	const char *text = arena_printf(a,
					"import warnings as __spipfix_w\n"
					"with __spipfix_w.catch_warnings():\n"
					"    __spipfix_w.simplefilter('error')\n"
					"    __spipfix_result = __spipfix_callee%s\n",
					args);
	if (!text)
		goto out;
	code = Py_CompileString(text, "<spipfix analysis>", Py_file_input); /* new reference */
	if (!code)
		goto out;
	PyObject *none = budget_eval(code, globals); /* new reference; bounded, result proven immutable */
	if (!none)
		goto out;
	Py_DECREF(none);
	res = PyDict_GetItemString(globals, "__spipfix_result"); /* borrowed */
	Py_XINCREF(res);
	if (!res || PyObject_Hash(res) == -1)
		goto out;
	/* a value unequal to itself (a NaN) compares differently once shared: [x] == [x] holds
	 * for one object and not for two */
	PyObject *eq = PyObject_RichCompare(res, res, Py_EQ); /* new reference */
	int same = eq ? PyObject_IsTrue(eq) : -1;
	Py_XDECREF(eq);
	if (same != 1) {
		if (same == 0)
			*err = "the value is not equal to itself (NaN)";
		goto out;
	}
	rc = 0;
out:
	if (rc < 0 && PyErr_Occurred()) {
		char *e = py_exc_text(true, 120);
		*err = e ? arena_strdup(a, e) : NULL;
		free(e);
		if (!*err)
			*err = "error";
	} else if (rc < 0 && !*err) {
		*err = "cannot evaluate";
	}
	Py_XDECREF(res);
	Py_XDECREF(code);
	Py_XDECREF(globals);
	Py_XDECREF(obj);
	return rc;
}

/* ---- pyproject.toml ------------------------------------------------------------------------- */

static const char toml_src[] =
	"import json, tomllib\n"
	"def _c(v):\n"
	"    if isinstance(v, dict):\n"
	"        return {k: _c(x) for k, x in v.items()}\n"
	"    if isinstance(v, list):\n"
	"        return [_c(x) for x in v]\n"
	"    if isinstance(v, (str, bool)) or (isinstance(v, int) and -2**63 <= v < 2**63):\n"
	"        return v\n"
	"    return {'\\x01type': type(v).__name__}\n"
	"def load(text):\n"
	"    return json.dumps(_c(tomllib.loads(text)))\n";

static char *py_toml(const char *buf, size_t len, char **err)
{
	char *r = NULL;
	*err = NULL;
	PyObject *text = NULL, *out = NULL; /* new references */
	if (!S.toml_fn) {
		PyObject *g = PyDict_New(); /* new reference */
		PyObject *b = PyImport_ImportModule("builtins"); /* new reference */
		PyObject *x = g && b && PyDict_SetItemString(g, "__builtins__", b) == 0
				      ? PyRun_String(toml_src, Py_file_input, g, g)
				      : NULL; /* new reference */
		S.toml_fn = x ? PyDict_GetItemString(g, "load") : NULL; /* borrowed, then owned */
		Py_XINCREF(S.toml_fn);
		Py_XDECREF(x);
		Py_XDECREF(b);
		Py_XDECREF(g);
		if (!S.toml_fn)
			goto out;
	}
	text = PyUnicode_DecodeUTF8(buf, (Py_ssize_t)len, "strict");
	out = text ? PyObject_CallOneArg(S.toml_fn, text) : NULL;
	const char *s = out ? PyUnicode_AsUTF8(out) : NULL;
	if (s)
		r = strdup(s);
out:
	if (!r) {
		char *e = PyErr_Occurred() ? py_exc_text(false, 1000) : NULL;
		*err = e ? e : strdup("cannot be read");
	}
	Py_XDECREF(out);
	Py_XDECREF(text);
	PyErr_Clear();
	return r;
}

/* ---- fork ------------------------------------------------------------------------------------ */

static void py_before_fork(void)
{
	if (Py_IsInitialized())
		PyOS_BeforeFork();
}
static void py_after_fork_parent(void)
{
	if (Py_IsInitialized())
		PyOS_AfterFork_Parent();
}
static void py_after_fork_child(void)
{
	if (Py_IsInitialized())
		PyOS_AfterFork_Child();
}

/* ---- the table -------------------------------------------------------------------------------- */

static const struct pyrt_ops ops = {
	.abi = PYRT_ABI,
	.minor = PY_MINOR_VERSION,
	.init = py_init,
	.fini = py_fini,
	.initialized = py_initialized,
	.version = py_version,
	.opnames = py_opnames,
	.builtins = py_builtins,
	.stdlib_modules = py_stdlib_modules,
	.compile = py_compile,
	.compile_only = py_compile_only,
	.positions = py_positions,
	.eval_call = py_eval_call,
	.toml = py_toml,
	.before_fork = py_before_fork,
	.after_fork_parent = py_after_fork_parent,
	.after_fork_child = py_after_fork_child,
	.profile_init = measure_init,
	.profile_locate = measure_locate,
	.profile_measure = measure_file,
};

__attribute__((visibility("default"))) const struct pyrt_ops *spipfix_pyrt(void) { return &ops; }
