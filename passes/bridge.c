#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <opcode.h>

#include "bridge.h"
#include "budget.h"
#include "scope.h"

#include <limits.h>
#include <string.h>

static char *opnames[256];

int bridge_init(void)
{
	if (Py_IsInitialized())
		return 0;
	PyConfig cfg;
	PyConfig_InitIsolatedConfig(&cfg);
	cfg.site_import = 0;
	cfg.install_signal_handlers = 0;
	cfg.write_bytecode = 0;
	cfg.user_site_directory = 0;
	PyStatus st = PyConfig_SetString(&cfg, &cfg.program_name, L"/usr/bin/python3");
	if (!PyStatus_Exception(st))
		st = PyWideStringList_Append(&cfg.warnoptions, L"ignore");
	if (!PyStatus_Exception(st))
		st = Py_InitializeFromConfig(&cfg);
	PyConfig_Clear(&cfg);
	if (PyStatus_Exception(st)) {
		fprintf(stderr, "spipfix: cannot start the embedded Python: %s\n",
			st.err_msg ? st.err_msg : "unknown error");
		return -1;
	}
	/* opcode names from the interpreter itself (new reference: mod, names) */
	PyObject *mod = PyImport_ImportModule("opcode");
	PyObject *names = mod ? PyObject_GetAttrString(mod, "opname") : NULL;
	if (names && PyList_Check(names)) {
		for (Py_ssize_t i = 0; i < PyList_GET_SIZE(names) && i < 256; i++) {
			const char *s = PyUnicode_AsUTF8(PyList_GET_ITEM(names, i));
			opnames[i] = s ? strdup(s) : NULL;
		}
	}
	Py_XDECREF(names);
	Py_XDECREF(mod);
	PyErr_Clear();
	return 0;
}

void bridge_fini(void)
{
	for (int i = 0; i < 256; i++) {
		free(opnames[i]);
		opnames[i] = NULL;
	}
	if (Py_IsInitialized())
		Py_FinalizeEx();
}

const char *bridge_opname(int op)
{
	return op >= 0 && op < 256 && opnames[op] ? opnames[op] : "?";
}

bool bridge_op_reads_local(int op)
{
	switch (op) {
	case LOAD_FAST: case STORE_FAST: case DELETE_FAST: case LOAD_DEREF: case STORE_DEREF:
	case DELETE_DEREF: case LOAD_CLOSURE: case LOAD_CLASSDEREF: case MAKE_CELL:
		return true;
	default:
		return false;
	}
}

bool bridge_op_is_global_load(int op) { return op == LOAD_GLOBAL || op == LOAD_NAME; }

bool bridge_op_is_call(int op) { return op == CALL || op == CALL_FUNCTION_EX; }

static void decref(void *p) { Py_XDECREF((PyObject *)p); }

/* Borrowed -> arena string copy of a str object, or "" */
static const char *arena_pystr(struct arena *a, PyObject *s)
{
	const char *c = s && PyUnicode_Check(s) ? PyUnicode_AsUTF8(s) : NULL;
	if (!c) {
		PyErr_Clear();
		return "";
	}
	return arena_strdup(a, c);
}

static bool is_backward_jump(int op)
{
	return op == JUMP_BACKWARD || op == POP_JUMP_BACKWARD_IF_FALSE ||
	       op == POP_JUMP_BACKWARD_IF_TRUE || op == POP_JUMP_BACKWARD_IF_NONE ||
	       op == POP_JUMP_BACKWARD_IF_NOT_NONE;
}

/* CPython 3.11's location table (co_linetable; Objects/locations.md): a sequence of entries,
 * each covering 1..8 code units, that code objects decode lazily in co_positions(). This is the
 * same decoder in C (advance_with_locations in Objects/codeobject.c), one entry at a time, with
 * co_positions()'s results: -1 where it gives None, and -1 for code units past the table's end
 * (the iterator stops there). Reads never go past the table, whatever its bytes. */
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

size_t bridge_positions(const void *code, int *out, size_t n)
{
	PyCodeObject *co = (PyCodeObject *)code;
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

/* Decode co_code (CACHE skipped, EXTENDED_ARG folded) with the positions of co_positions().
 * Returns 0 / -1. */
static int decode(struct arena *a, struct code_info *ci)
{
	PyCodeObject *co = ci->code;
	PyObject *bytes = PyCode_GetCode(co); /* new reference */
	if (!bytes)
		return -1;
	Py_ssize_t n = PyBytes_GET_SIZE(bytes);
	const unsigned char *b = (const unsigned char *)PyBytes_AS_STRING(bytes);
	ci->insns = arena_alloc(a, sizeof(struct insn) * (size_t)(n / 2 + 1));
	if (!ci->insns) {
		Py_DECREF(bytes);
		return -1;
	}
	struct loctab t;
	loctab_init(&t, co);
	int ext = 0;
	size_t k = 0;
	for (Py_ssize_t i = 0; i + 1 < n; i += 2) {
		int op = b[i], arg = b[i + 1] | ext;
		if (op == CACHE)
			continue;
		if (op == EXTENDED_ARG) {
			ext = arg << 8;
			continue;
		}
		ext = 0;
		struct insn *in = &ci->insns[k++];
		in->offset = (int)i;
		in->op = op;
		in->arg = arg;
		loctab_seek(&t, (int)(i / 2));
		in->line = t.line;
		in->end_line = t.end_line;
		in->col = t.col;
		in->end_col = t.end_col;
	}
	ci->ninsns = k;
	Py_DECREF(bytes);
	return 0;
}

static enum code_kind kind_of(PyCodeObject *co, const char *name, bool is_module)
{
	if (is_module)
		return CK_MODULE;
	if (!strcmp(name, "<lambda>"))
		return CK_LAMBDA;
	if (!strcmp(name, "<listcomp>") || !strcmp(name, "<setcomp>") || !strcmp(name, "<dictcomp>") ||
	    !strcmp(name, "<genexpr>"))
		return CK_COMPREHENSION;
	return (co->co_flags & CO_OPTIMIZED) ? CK_FUNCTION : CK_CLASS;
}

struct walk {
	struct unit *u;
	size_t cap;
};

/* Which instructions of ci lie in a backward jump's range [target, jump): one pass over the
 * jumps and a running count, instead of every jump for every site. malloc'd, NULL when out of
 * memory. */
static bool *loop_marks(const struct code_info *ci)
{
	int *delta = calloc(ci->ninsns + 1, sizeof *delta);
	bool *in = calloc(ci->ninsns + 1, sizeof *in);
	if (!delta || !in) {
		free(delta);
		free(in);
		return NULL;
	}
	for (size_t j = 0; j < ci->ninsns; j++) {
		const struct insn *jp = &ci->insns[j];
		if (!is_backward_jump(jp->op))
			continue;
		int target = jp->offset + 2 - jp->arg * 2;
		/* the first instruction at or after the target (instructions are in offset order) */
		size_t lo = 0, hi = j;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (ci->insns[mid].offset < target)
				lo = mid + 1;
			else
				hi = mid;
		}
		delta[lo]++;
		delta[j]--;
	}
	int open = 0;
	for (size_t i = 0; i < ci->ninsns; i++) {
		open += delta[i];
		in[i] = open > 0;
	}
	free(delta);
	return in;
}

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
	ci->freevars = "";
	if (ci->nfreevars) {
		PyObject *fv = PyCode_GetFreevars(co); /* new reference */
		PyObject *sep = PyUnicode_FromString(",");
		PyObject *j = fv && sep ? PyUnicode_Join(sep, fv) : NULL;
		ci->freevars = arena_pystr(&u->arena, j);
		Py_XDECREF(j);
		Py_XDECREF(sep);
		Py_XDECREF(fv);
		PyErr_Clear();
	}
	if (decode(&u->arena, ci) < 0)
		return NULL;
	/* backward jumps of this code object: [target, jump] ranges */
	bool *in_loop = NULL; /* per instruction, made at the first site */
	PyObject *consts = co->co_consts;
	for (size_t i = 0; i < ci->ninsns; i++) {
		struct insn *in = &ci->insns[i];
		if (in->op != LOAD_CONST || in->arg >= PyTuple_GET_SIZE(consts))
			continue;
		PyObject *c = PyTuple_GET_ITEM(consts, in->arg);
		if (!PyCode_Check(c))
			continue;
		/* children: recurse; then record where the parent builds the function */
		size_t site_idx = i;
		struct code_info *child = add_code(w, (PyCodeObject *)c, &u->codes[idx], depth + 1);
		if (!child) {
			free(in_loop);
			return NULL;
		}
		ci = &u->codes[idx]; /* the array may have moved */
		in = &ci->insns[site_idx];
		if (site_idx + 1 < ci->ninsns && ci->insns[site_idx + 1].op == MAKE_FUNCTION) {
			child->site = (int)site_idx + 1;
			child->make_flags = ci->insns[site_idx + 1].arg;
			child->site_line = in->line;
			child->site_col = in->col;
			if (!in_loop && !(in_loop = loop_marks(ci)))
				return NULL;
			child->site_in_loop = in_loop[site_idx + 1];
		}
	}
	free(in_loop);
	return &u->codes[idx];
}

static void set_compile_error(struct unit *u)
{
	PyObject *type, *value, *tb;
	PyErr_Fetch(&type, &value, &tb);
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

int bridge_compile(struct unit *u)
{
	PyObject *co = compile_text(u->src, u->path);
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

const char *bridge_insn_name(struct unit *u, const struct code_info *ci, const struct insn *in)
{
	PyCodeObject *co = ci->code;
	PyObject *tuple = NULL;
	int idx = in->arg;
	switch (in->op) {
	case LOAD_GLOBAL:
		tuple = co->co_names;
		idx >>= 1;
		break;
	case LOAD_NAME: case STORE_NAME: case LOAD_ATTR: case LOAD_METHOD: case STORE_GLOBAL:
	case STORE_ATTR: case IMPORT_NAME: case IMPORT_FROM: case DELETE_NAME: case DELETE_GLOBAL:
		tuple = co->co_names;
		break;
	default:
		if (bridge_op_reads_local(in->op))
			tuple = co->co_localsplusnames;
		break;
	}
	if (!tuple || idx < 0 || idx >= PyTuple_GET_SIZE(tuple))
		return NULL;
	return arena_pystr(&u->arena, PyTuple_GET_ITEM(tuple, idx));
}

struct code_line {
	int line;
	uint32_t idx;
};

static int cmp_code_line(const void *pa, const void *pb)
{
	const struct code_line *a = pa, *b = pb;
	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* The code objects with this first line, as a range of u->code_order (built on first use, so
 * that a lookup does not scan every code object of the file). */
static size_t codes_on_line(struct unit *u, int firstlineno, size_t *end)
{
	if (!u->code_order && u->ncodes) {
		uint32_t *o = arena_alloc(&u->arena, u->ncodes * sizeof *o);
		if (!o) {
			*end = 0;
			return 0;
		}
		struct code_line *cl = malloc(u->ncodes * sizeof *cl);
		if (!cl) {
			*end = 0;
			return 0;
		}
		for (size_t i = 0; i < u->ncodes; i++)
			cl[i] = (struct code_line){u->codes[i].firstlineno, (uint32_t)i};
		qsort(cl, u->ncodes, sizeof *cl, cmp_code_line);
		for (size_t i = 0; i < u->ncodes; i++)
			o[i] = cl[i].idx;
		free(cl);
		u->code_order = o;
	}
	size_t lo = 0, hi = u->ncodes;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (u->codes[u->code_order[mid]].firstlineno < firstlineno)
			lo = mid + 1;
		else
			hi = mid;
	}
	size_t e = lo;
	while (e < u->ncodes && u->codes[u->code_order[e]].firstlineno == firstlineno)
		e++;
	*end = e;
	return lo;
}

struct code_info *bridge_find(struct unit *u, const char *qualname, int firstlineno, int line, int col)
{
	struct code_info *hit = NULL;
	int n = 0;
	size_t end, from = codes_on_line(u, firstlineno, &end);
	for (size_t k = from; k < end; k++) {
		struct code_info *ci = &u->codes[u->code_order[k]];
		if (strcmp(ci->qualname, qualname) != 0)
			continue;
		hit = ci;
		n++;
	}
	if (n <= 1)
		return hit;
	/* several code objects share (qualname, first line): the site position decides */
	hit = NULL;
	n = 0;
	for (size_t k = from; k < end; k++) {
		struct code_info *ci = &u->codes[u->code_order[k]];
		if (strcmp(ci->qualname, qualname) != 0)
			continue;
		if (ci->site_line == line && ci->site_col == col) {
			hit = ci;
			n++;
		}
	}
	return n == 1 ? hit : NULL;
}

int bridge_local_kind(const struct code_info *ci, const char *name)
{
	PyCodeObject *co = ci->code;
	PyObject *names = co->co_localsplusnames;
	PyObject *kinds = co->co_localspluskinds;
	for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(names); i++) {
		const char *s = PyUnicode_AsUTF8(PyTuple_GET_ITEM(names, i));
		if (!s || strcmp(s, name) != 0)
			continue;
		unsigned char k = (unsigned char)PyBytes_AS_STRING(kinds)[i];
		return (k & 0x80 /* CO_FAST_FREE */) ? 2 : 1;
	}
	PyErr_Clear();
	return 0;
}

/* The module-level bindings of every name, built by the first bridge_global_bindings of a unit
 * and hung off its module code (codes[0].globals). Names are keyed by their Latin-1 bytes: the
 * comparison this index answers for, PyUnicode_CompareWithASCIIString(name, query), matches a
 * one-byte-kind str whose bytes equal the query's and never a wider one. */
struct global_binding {
	const char *key; /* PyUnicode_1BYTE_DATA of a co_names entry (the module code keeps it) */
	size_t len;
	size_t hash;
	int count;       /* module-level STORE/DELETE_NAME/GLOBAL + STORE/DELETE_GLOBAL anywhere */
	int first_line;  /* line of the first module-level store ("first" as the scan meets them) */
};

struct bridge_globals {
	struct global_binding *slots; /* open addressing, linear probing; key NULL when free */
	size_t cap, n;                /* cap a power of two, n <= cap / 2 */
	bool import_star;             /* the module code does `import *` */
};

static size_t key_hash(const char *s, size_t len)
{
	size_t h = 1469598103934665603u;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211u;
	return h;
}

static struct global_binding *globals_slot(struct global_binding *slots, size_t cap, const char *key, size_t len,
					   size_t hash)
{
	for (size_t i = hash & (cap - 1);; i = (i + 1) & (cap - 1)) {
		struct global_binding *e = &slots[i];
		if (!e->key || (e->hash == hash && e->len == len && !memcmp(e->key, key, len)))
			return e;
	}
}

/* The entry of a name, added when missing; NULL when out of memory. */
static struct global_binding *globals_add(struct arena *a, struct bridge_globals *g, const char *key, size_t len)
{
	size_t hash = key_hash(key, len);
	if (2 * (g->n + 1) > g->cap) {
		size_t ncap = g->cap ? g->cap * 2 : 64;
		struct global_binding *ns = arena_alloc(a, sizeof *ns * ncap);
		if (!ns)
			return NULL;
		for (size_t i = 0; i < g->cap; i++)
			if (g->slots[i].key)
				*globals_slot(ns, ncap, g->slots[i].key, g->slots[i].len, g->slots[i].hash) = g->slots[i];
		g->slots = ns;
		g->cap = ncap;
	}
	struct global_binding *e = globals_slot(g->slots, g->cap, key, len, hash);
	if (!e->key) {
		e->key = key;
		e->len = len;
		e->hash = hash;
		g->n++;
	}
	return e;
}

/* One pass over every instruction of the unit, in the order the per-name scan used to take:
 * codes[0] (the module) first. At the module's first IMPORT_STAR every query answers -1, with
 * the first line of the module stores met before it; later instructions no longer matter. */
static struct bridge_globals *globals_build(struct unit *u)
{
	struct bridge_globals *g = arena_alloc(&u->arena, sizeof *g);
	if (!g)
		return NULL;
	for (size_t c = 0; c < u->ncodes; c++) {
		struct code_info *ci = &u->codes[c];
		PyObject *names = ((PyCodeObject *)ci->code)->co_names;
		for (size_t i = 0; i < ci->ninsns; i++) {
			struct insn *in = &ci->insns[i];
			/* module code stores with STORE_NAME, or STORE_GLOBAL when a function of the
			 * module declares the name `global` */
			bool global_store = in->op == STORE_GLOBAL || in->op == DELETE_GLOBAL;
			bool module_store = ci->kind == CK_MODULE && (in->op == STORE_NAME || in->op == DELETE_NAME || global_store);
			if (ci->kind == CK_MODULE && in->op == IMPORT_STAR) {
				g->import_star = true;
				return g;
			}
			if (!module_store && !global_store)
				continue;
			if (in->arg < 0 || in->arg >= PyTuple_GET_SIZE(names))
				continue;
			PyObject *nm = PyTuple_GET_ITEM(names, in->arg);
			if (!PyUnicode_Check(nm) || PyUnicode_READY(nm) < 0) {
				PyErr_Clear();
				continue;
			}
			if (PyUnicode_KIND(nm) != PyUnicode_1BYTE_KIND)
				continue;
			struct global_binding *e = globals_add(&u->arena, g, (const char *)PyUnicode_1BYTE_DATA(nm),
							       (size_t)PyUnicode_GET_LENGTH(nm));
			if (!e)
				return NULL;
			if (module_store && !e->first_line)
				e->first_line = in->line;
			e->count++;
		}
	}
	return g;
}

int bridge_global_bindings(struct unit *u, const char *name, int *first_line)
{
	*first_line = 0;
	if (!u->ncodes)
		return 0;
	struct bridge_globals *g = u->codes[0].globals;
	if (!g && !(g = u->codes[0].globals = globals_build(u))) {
		/* out of memory: answer as an unknown, rebindable name would be answered */
		return -1;
	}
	struct global_binding *e = NULL;
	if (g->cap) {
		size_t len = strlen(name);
		e = globals_slot(g->slots, g->cap, name, len, key_hash(name, len));
		if (!e->key)
			e = NULL;
	}
	if (e)
		*first_line = e->first_line;
	if (g->import_star)
		return -1;
	return e ? e->count : 0;
}

bool bridge_is_builtin(const char *name)
{
	PyObject *b = PyEval_GetBuiltins(); /* borrowed; NULL outside a frame */
	if (!b) {
		PyObject *mod = PyImport_ImportModule("builtins"); /* new reference */
		if (!mod) {
			PyErr_Clear();
			return false;
		}
		int has = PyObject_HasAttrString(mod, name);
		Py_DECREF(mod);
		return has;
	}
	return PyDict_GetItemString(b, name) != NULL;
}

struct code_info *bridge_code_of(struct unit *u, TSNode scope)
{
	if (ts_node_is_null(scope))
		return u->ncodes ? &u->codes[0] : NULL;
	TSPoint at = ts_node_start_point(scope);
	return bridge_find(u, scope_qualname(u, scope), scope_firstlineno(scope), (int)at.row + 1, (int)at.column);
}

static bool pos_le(int l1, int c1, int l2, int c2) { return l1 < l2 || (l1 == l2 && c1 <= c2); }

bool bridge_insn_ends_at(const struct insn *in, TSNode n)
{
	TSPoint s = ts_node_start_point(n), e = ts_node_end_point(n);
	return in->end_line == (int)e.row + 1 && in->end_col == (int)e.column &&
	       pos_le((int)s.row + 1, (int)s.column, in->line, in->col);
}

int bridge_next_insn_in(const struct code_info *ci, int from, TSPoint start, TSPoint end)
{
	int sl = (int)start.row + 1, sc = (int)start.column, el = (int)end.row + 1, ec = (int)end.column;
	for (int i = from; i < (int)ci->ninsns; i++) {
		const struct insn *in = &ci->insns[i];
		if (in->line <= 0 || in->col < 0)
			continue;
		if (pos_le(sl, sc, in->line, in->col) && pos_le(in->end_line, in->end_col, el, ec))
			return i;
	}
	return -1;
}

/* "ExcType: message" of the pending Python error, cleared (arena string). */
static const char *fetch_error(struct arena *a)
{
	PyObject *type, *value, *tb;
	PyErr_Fetch(&type, &value, &tb);
	PyErr_NormalizeException(&type, &value, &tb);
	PyObject *s = value ? PyObject_Str(value) : NULL; /* new reference */
	const char *tn = type ? ((PyTypeObject *)type)->tp_name : "error";
	const char *msg = s ? arena_pystr(a, s) : "";
	Py_XDECREF(s);
	Py_XDECREF(type);
	Py_XDECREF(value);
	Py_XDECREF(tb);
	PyErr_Clear();
	const char *r = arena_printf(a, "%s%s%.120s", tn, *msg ? ": " : "", msg);
	return r ? r : "error";
}

int bridge_eval_call(struct unit *u, const char *module, const char *attrs, const char *args, const char **err)
{
	int rc = -1;
	*err = NULL;
	PyObject *globals = NULL, *code = NULL, *res = NULL;
	PyObject *obj = PyImport_ImportModule(module); /* new reference */
	for (const char *p = attrs; obj && p && *p;) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		const char *name = arena_strndup(&u->arena, p, n);
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
	const char *text = arena_printf(&u->arena,
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
	if (rc < 0 && PyErr_Occurred())
		*err = fetch_error(&u->arena);
	else if (rc < 0 && !*err)
		*err = "cannot evaluate";
	Py_XDECREF(res);
	Py_XDECREF(code);
	Py_XDECREF(globals);
	Py_XDECREF(obj);
	return rc;
}

bool bridge_op_is_const_load(int op) { return op == LOAD_CONST; }
bool bridge_op_is_local_load(int op)
{
	return op == LOAD_FAST || op == LOAD_DEREF || op == LOAD_CLOSURE || op == LOAD_CLASSDEREF;
}
bool bridge_op_is_attr_load(int op) { return op == LOAD_ATTR || op == LOAD_METHOD; }
bool bridge_op_is_call_setup(int op) { return op == PUSH_NULL || op == KW_NAMES || op == PRECALL || op == CALL; }

const char *bridge_op_impure(int op)
{
	switch (op) {
	case STORE_GLOBAL: case DELETE_GLOBAL: case STORE_ATTR: case DELETE_ATTR: case STORE_SUBSCR:
	case DELETE_SUBSCR: case IMPORT_NAME: case IMPORT_STAR: case IMPORT_FROM: case YIELD_VALUE:
	case GET_AWAITABLE: case SEND: case BEFORE_WITH: case BEFORE_ASYNC_WITH: case STORE_NAME:
	case DELETE_NAME: case LOAD_BUILD_CLASS: case SETUP_ANNOTATIONS: case PRINT_EXPR:
	case GET_AITER: case GET_ANEXT: case ASYNC_GEN_WRAP:
		return bridge_opname(op);
	default:
		return NULL;
	}
}
