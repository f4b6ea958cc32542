/* _spipfix_trace: the counter of `spipfix trace`, an extension module built once per CPython
 * version found at configure time and loaded into the user's own interpreter (by
 * sitecustomize.py beside it, when `spipfix trace` runs the program).
 *
 * What it counts is what an opcode event of the C trace API (3.11) or an INSTRUCTION event of
 * sys.monitoring (3.12+) would count: every instruction the main thread executes in code of the
 * counted files, an EXTENDED_ARG prefix counted with the instruction it extends, named by its
 * base (deoptimised) opcode. It gets there without a callback per instruction:
 *
 *   - every frame is evaluated through a PEP 523 frame-evaluation hook, which counts the code
 *     object's entries (its calls) and its resumptions, and keeps per-frame state;
 *   - a code object without jumps and exception handlers ("linear") runs untraced: each entry
 *     starts a segment that runs straight to its first return, yield or raise, and an exception
 *     that leaves the frame early takes back the rest of the segment;
 *   - other code ("branchy") is observed where control can fork. On 3.12+ with sys.monitoring
 *     local BRANCH events (and INSTRUCTION events at the end of a `yield from`, which SEND
 *     reaches without a BRANCH event), RAISE and EXCEPTION_HANDLED: between two observations
 *     execution is straight-line, following unconditional jumps. On 3.11 with the C trace API's
 *     line events, enabled only while such a frame runs: the path between two line events is
 *     derived from the bytecode where it is unique, and where it is not (a branch inside one
 *     line) the frame takes opcode events until its next line event.
 *
 * Per-instruction counts are expanded from the segment and path counts when tracing stops. The
 * hook has no context argument, so the one tracer lives in a file-scope pointer, set by start().
 */
#define PY_SSIZE_T_CLEAN
#ifndef Py_BUILD_CORE
#define Py_BUILD_CORE 1
#endif
#include <Python.h>
#include <frameobject.h>
#include <opcode.h>
#include <internal/pycore_frame.h>
#if PY_VERSION_HEX < 0x030C0000
#include <internal/pycore_pystate.h>
#define SPF_TRACE_API 1 /* 3.11: the C trace API */
#endif

/* uthash (Debian's uthash-dev), with a cheap hash: the keys are code object addresses and small
 * tuples of instruction indices, looked up on every frame entry and line event */
#define HASH_FUNCTION(keyptr, keylen, hashv)                                                        \
	do {                                                                                         \
		uint64_t h_ = 0x9e3779b97f4a7c15ULL;                                                 \
		const unsigned char *k_ = (const unsigned char *)(keyptr);                           \
		for (unsigned i_ = 0; i_ + 8 <= (unsigned)(keylen); i_ += 8) {                       \
			uint64_t w_;                                                                 \
			memcpy(&w_, k_ + i_, 8);                                                     \
			h_ = (h_ ^ w_) * 0xff51afd7ed558ccdULL;                                      \
			h_ ^= h_ >> 33;                                                              \
		}                                                                                    \
		for (unsigned i_ = (unsigned)(keylen) & ~7u; i_ < (unsigned)(keylen); i_++)          \
			h_ = (h_ ^ k_[i_]) * 0x100000001b3ULL;                                       \
		(hashv) = (unsigned)(h_ ^ (h_ >> 32));                                               \
	} while (0)
#include <uthash.h>

#include <fnmatch.h>
#include <stdarg.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if PY_VERSION_HEX >= 0x030D0000
#define FRAME_CODE(fr) ((PyCodeObject *)(fr)->f_executable)
#else
#define FRAME_CODE(fr) ((fr)->f_code)
#endif

/* ---- instructions ------------------------------------------------------------------------- */

enum { K_PLAIN, K_COND, K_JUMP, K_EXIT, K_SEND };

struct insn {
	int unit;    /* first code unit, EXTENDED_ARG prefixes included */
	int opunit;  /* the unit of the instruction itself */
	int op;      /* base opcode */
	int arg;     /* its full argument */
	int target;  /* jump target (instruction index), -1 */
	int line;    /* 3.11: the line of its first unit, -1 when it has none */
	int slot;    /* index among the tracked instructions, -1 */
	int handler; /* 3.11: the exception handler covering it (instruction index), -1 */
	uint8_t kind;
	bool counted;  /* an opcode event fires for it */
	bool observed; /* 3.12+: an INSTRUCTION event starts a segment here (a SEND's target) */
};

static int op_kind(int op)
{
	switch (op) {
#ifdef JUMP_FORWARD
	case JUMP_FORWARD:
#endif
#ifdef JUMP_BACKWARD
	case JUMP_BACKWARD:
#endif
#ifdef JUMP_BACKWARD_NO_INTERRUPT
	case JUMP_BACKWARD_NO_INTERRUPT:
#endif
		return K_JUMP;
#ifdef POP_JUMP_FORWARD_IF_FALSE
	case POP_JUMP_FORWARD_IF_FALSE:
	case POP_JUMP_FORWARD_IF_TRUE:
	case POP_JUMP_FORWARD_IF_NONE:
	case POP_JUMP_FORWARD_IF_NOT_NONE:
	case POP_JUMP_BACKWARD_IF_FALSE:
	case POP_JUMP_BACKWARD_IF_TRUE:
	case POP_JUMP_BACKWARD_IF_NONE:
	case POP_JUMP_BACKWARD_IF_NOT_NONE:
#endif
#ifdef POP_JUMP_IF_FALSE
	case POP_JUMP_IF_FALSE:
	case POP_JUMP_IF_TRUE:
	case POP_JUMP_IF_NONE:
	case POP_JUMP_IF_NOT_NONE:
#endif
#ifdef JUMP_IF_FALSE_OR_POP
	case JUMP_IF_FALSE_OR_POP:
	case JUMP_IF_TRUE_OR_POP:
#endif
	case FOR_ITER:
		return K_COND;
	case SEND:
#ifdef SPF_TRACE_API
		return K_COND;
#else
		return K_SEND;
#endif
	case RETURN_VALUE:
#ifdef RETURN_CONST
	case RETURN_CONST:
#endif
	case RAISE_VARARGS:
	case RERAISE:
	case YIELD_VALUE:
	case RETURN_GENERATOR:
		return K_EXIT;
	default:
		return K_PLAIN;
	}
}

static bool op_backward(int op)
{
	switch (op) {
#ifdef JUMP_BACKWARD
	case JUMP_BACKWARD:
#endif
#ifdef JUMP_BACKWARD_NO_INTERRUPT
	case JUMP_BACKWARD_NO_INTERRUPT:
#endif
#ifdef POP_JUMP_BACKWARD_IF_FALSE
	case POP_JUMP_BACKWARD_IF_FALSE:
	case POP_JUMP_BACKWARD_IF_TRUE:
	case POP_JUMP_BACKWARD_IF_NONE:
	case POP_JUMP_BACKWARD_IF_NOT_NONE:
#endif
		return true;
	default:
		return false;
	}
}

/* ---- the tracer's tables -------------------------------------------------------------------- */

struct file_entry {
	char *name;   /* co_filename */
	bool counted;
	struct file_entry *next;
};

/* one pair of observations of the 3.11 line-event path */
struct pathkey {
	int a, b;     /* instruction indices */
	int end;      /* 0: a to the line event at b; 1: a..b inclusive (the frame left at b); 2: a to
		       * the RERAISE that left the frame with the lasti b */
};

struct pathcount {
	struct pathkey k;
	int64_t n;
	UT_hash_handle hh;
};

enum { C_UNCOUNTED, C_LINEAR, C_BRANCHY };

struct code_entry {
	PyObject *code;          /* strong reference */
	struct file_entry *file;
	int cls;
	uint64_t calls;          /* entries at the first instruction */
	int nunits, ninsns, nslots;
	int *unit2insn;          /* per code unit */
	struct insn *insns;
	int64_t *seg;            /* per instruction: segments started there (3.12+, linear code) */
	uint64_t *opc;           /* per instruction: opcode events (3.11) */
	int8_t *exact;           /* 3.11 per instruction: 0 unknown, 1 the path from here is unique, 2 not */
	struct pathcount *paths; /* 3.11: a uthash table on (a, b, end) */
	struct pathcount *lastpath;
	bool full;               /* 3.12+: a cycle of unconditional jumps: JUMP events too */
	bool has_send;
	UT_hash_handle hh;       /* in tracer.codes, on the code object's address */
};

struct frame_state {
	struct frame_state *up;
	_PyInterpreterFrame *frame;
	struct code_entry *e;
	int mode;                /* 3.11: M_START, M_FIRST, M_DEFERRED (at a), M_OPCODE */
	int a;
	int first;               /* the first instruction of a call that starts the code, -1 */
};

/* M_FIRST: started, the line event of the first instruction is next */
enum { M_START, M_FIRST, M_DEFERRED, M_OPCODE };

struct tracer {
	PyThreadState *main;     /* only this thread is counted */
	bool tracked[256];
	char **patterns;
	int npatterns;
	char **roots;            /* counted by default: files under these folders */
	int nroots;
	bool all;
	struct code_entry *codes; /* uthash on the code object's address */
	struct code_entry *last;
	struct file_entry *files;
	struct frame_state *top;
	_PyFrameEvalFunction prev_eval;
	bool failed;             /* out of memory, or another tracer took over: counts incomplete */
	const char *why;
	bool running;
#ifdef SPF_TRACE_API
	bool tracing;            /* our trace function is installed on the main thread */
#else
	int tool;
	PyObject *monitoring;    /* sys.monitoring */
#endif
};

static struct tracer *T; /* the one tracer (the hook has no context argument) */

static void fail(struct tracer *t, const char *why)
{
	if (!t->failed) {
		t->failed = true;
		t->why = why;
	}
}

/* ---- which files are counted ---------------------------------------------------------------- */

static bool under(const char *path, const char *root)
{
	size_t n = strlen(root);
	return !strncmp(path, root, n) && (path[n] == '/' || (n && root[n - 1] == '/'));
}

static bool file_counted(const struct tracer *t, const char *name)
{
	char rp[PATH_MAX];
	const char *real = name[0] != '<' && realpath(name, rp) ? rp : NULL;
	if (t->npatterns) {
		for (int i = 0; i < t->npatterns; i++) {
			const char *pat = t->patterns[i];
			if (!strchr(pat, '/')) {
				const char *base = strrchr(name, '/');
				if (fnmatch(pat, base ? base + 1 : name, 0) == 0)
					return true;
			} else if (fnmatch(pat, name, 0) == 0 || (real && fnmatch(pat, real, 0) == 0)) {
				return true;
			}
		}
		return false;
	}
	if (t->all)
		return true;
	if (!real || strstr(real, "/site-packages/") || strstr(real, "/dist-packages/"))
		return false;
	for (int i = 0; i < t->nroots; i++)
		if (under(real, t->roots[i]))
			return true;
	return false;
}

static struct file_entry *file_for(struct tracer *t, PyObject *filename)
{
	const char *name = PyUnicode_Check(filename) ? PyUnicode_AsUTF8(filename) : NULL;
	if (!name) {
		PyErr_Clear();
		name = "<unknown>";
	}
	for (struct file_entry *f = t->files; f; f = f->next)
		if (!strcmp(f->name, name))
			return f;
	struct file_entry *f = calloc(1, sizeof *f);
	if (!f || !(f->name = strdup(name))) {
		free(f);
		return NULL;
	}
	f->counted = file_counted(t, name);
	f->next = t->files;
	t->files = f;
	return f;
}

/* ---- the instruction table of a code object ------------------------------------------------ */

/* Decode co's deoptimised bytecode into e->insns. Returns 0 / -1. co: borrowed. */
static int decode(struct tracer *t, struct code_entry *e, PyCodeObject *co)
{
	PyObject *bytes = PyCode_GetCode(co); /* new reference */
	if (!bytes)
		return -1;
	int rc = -1;
	const unsigned char *b = (const unsigned char *)PyBytes_AS_STRING(bytes);
	Py_ssize_t n = PyBytes_GET_SIZE(bytes) / 2;
	if (n > INT_MAX / 4)
		goto out;
	e->nunits = (int)n;
	e->unit2insn = malloc(sizeof *e->unit2insn * (size_t)(n ? n : 1));
	e->insns = calloc((size_t)(n ? n : 1), sizeof *e->insns);
	if (!e->unit2insn || !e->insns)
		goto out;
	int first = -1; /* first unit of a pending EXTENDED_ARG run */
	int arg = 0;
	for (int i = 0; i < (int)n; i++) {
		int op = b[2 * i];
		if (op == CACHE && e->ninsns && first < 0) {
			e->unit2insn[i] = e->ninsns - 1;
			continue;
		}
		e->unit2insn[i] = e->ninsns;
		if (op == EXTENDED_ARG) {
			if (first < 0)
				first = i;
			arg = (arg << 8) | b[2 * i + 1];
			continue;
		}
		arg = (arg << 8) | b[2 * i + 1];
		struct insn *in = &e->insns[e->ninsns];
		in->unit = first < 0 ? i : first;
		in->opunit = i;
		in->op = op;
		in->arg = arg;
		in->target = arg; /* resolved below: the argument for now */
		in->kind = (uint8_t)op_kind(op);
		in->slot = -1;
		in->line = -1;
#ifdef SPF_TRACE_API
		in->counted = in->unit >= co->_co_firsttraceable && op != RESUME;
#else
		in->counted = op != RESUME && in->unit >= co->_co_firsttraceable;
#endif
		if (t->tracked[op] && in->counted)
			in->slot = e->nslots++;
		e->ninsns++;
		first = -1;
		arg = 0;
	}
	/* jump targets: relative to the unit after the instruction and its caches */
	for (int k = 0; k < e->ninsns; k++) {
		struct insn *in = &e->insns[k];
		int oparg = in->target;
		in->target = -1;
		if (in->kind != K_JUMP && in->kind != K_COND && in->kind != K_SEND)
			continue;
		int next = k + 1 < e->ninsns ? e->insns[k + 1].unit : e->nunits;
		int unit = op_backward(in->op) ? next - oparg : next + oparg;
		if (unit >= 0 && unit < e->nunits)
			in->target = e->unit2insn[unit];
		else
			in->kind = K_EXIT; /* malformed: never walk past it */
	}
	rc = 0;
out:
	Py_DECREF(bytes);
	return rc;
}

#ifdef SPF_TRACE_API
/* One varint of the exception table (6 bits a byte, 0x40: more follow). */
static int table_varint(const unsigned char *p, Py_ssize_t n, Py_ssize_t *at)
{
	if (*at >= n)
		return -1;
	unsigned char b = p[(*at)++];
	int v = b & 63;
	while (b & 64) {
		if (*at >= n || v > (INT_MAX >> 6))
			return -1;
		b = p[(*at)++];
		v = (v << 6) | (b & 63);
	}
	return v;
}

/* Each instruction's exception handler, from co_exceptiontable (start, length, target, depth
 * and lasti, in code units). co: borrowed. */
static void find_handlers(struct code_entry *e, PyCodeObject *co)
{
	for (int k = 0; k < e->ninsns; k++)
		e->insns[k].handler = -1;
	if (!PyBytes_Check(co->co_exceptiontable))
		return;
	const unsigned char *p = (const unsigned char *)PyBytes_AS_STRING(co->co_exceptiontable);
	Py_ssize_t n = PyBytes_GET_SIZE(co->co_exceptiontable), at = 0;
	while (at < n) {
		int start = table_varint(p, n, &at), len = table_varint(p, n, &at);
		int target = table_varint(p, n, &at), dl = table_varint(p, n, &at);
		if (start < 0 || len < 0 || target < 0 || dl < 0 || target >= e->nunits)
			return;
		for (int u = start; u < start + len && u < e->nunits; u++) {
			struct insn *in = &e->insns[e->unit2insn[u]];
			if (in->handler < 0)
				in->handler = e->unit2insn[target];
		}
	}
}

#endif

static bool has_handlers(PyCodeObject *co)
{
	return PyBytes_Check(co->co_exceptiontable) && PyBytes_GET_SIZE(co->co_exceptiontable) > 0;
}

static int next_of(const struct code_entry *e, int k) { return k + 1 < e->ninsns ? k + 1 : -1; }

/* ---- counting ---------------------------------------------------------------------------------- */

/* The segment that starts at k: straight on, through unconditional jumps (not in full mode),
 * up to and including a conditional branch, a SEND or an exit, or up to (not including) an
 * observed instruction. fn(e, k, ctx) for each instruction. Returns false on a cycle. */
static bool walk(const struct code_entry *e, int k, void (*fn)(struct code_entry *, int, void *), void *ctx,
		 bool first_observed_ok)
{
	int steps = 0;
	for (bool first = true; k >= 0 && k < e->ninsns; first = false) {
		const struct insn *in = &e->insns[k];
		if (in->observed && !(first && first_observed_ok))
			return true;
		if (++steps > e->ninsns)
			return false;
		if (fn)
			fn((struct code_entry *)e, k, ctx);
		if (in->kind == K_COND || in->kind == K_EXIT || in->kind == K_SEND)
			return true;
		if (in->kind == K_JUMP) {
			if (e->full)
				return true;
			k = in->target;
		} else {
			k = next_of(e, k);
		}
	}
	return true;
}

/* Where the rest of a segment continues after instruction p raised: -1 when p ended it. */
static int rest_after(const struct code_entry *e, int p)
{
	const struct insn *in = &e->insns[p];
	if (in->kind == K_COND || in->kind == K_EXIT || in->kind == K_SEND)
		return -1;
	if (in->kind == K_JUMP)
		return e->full ? -1 : in->target;
	return next_of(e, p);
}

static void seg_add(struct code_entry *e, int k, int64_t n)
{
	if (k >= 0 && k < e->ninsns)
		e->seg[k] += n;
}

#ifdef SPF_TRACE_API
/* ---- 3.11: paths between line events --------------------------------------------------------- */

static int line_of(const struct code_entry *e, int k) { return e->insns[k].line; }

/* Does the transition p -> q fire a line event? (as maybe_call_line_trace decides) */
static bool line_event(const struct code_entry *e, int p, int q)
{
	int lq = line_of(e, q);
	if (lq < 0)
		return false;
	if (lq != line_of(e, p))
		return true;
	return e->insns[q].unit < e->insns[p].unit && e->insns[q].op != SEND;
}

#define MAX_TREE 512

/* The instructions a frame can run from k without a line event form a tree whose leaves (line
 * events at a target, exits, exceptions) tell the path apart: then the next observation
 * determines what ran since k. parent[] (may be NULL) receives each node's parent (-2 for k,
 * -1 outside the tree), leaf_from[] the node that reaches each event target. */
static bool path_tree(const struct code_entry *e, int k, int *parent, int *leaf_from, int *reraise)
{
	int stack[MAX_TREE], sp = 0, nodes = 0;
	*reraise = -1;
	for (int i = 0; i < e->ninsns; i++)
		parent[i] = -1, leaf_from[i] = -1;
	parent[k] = -2;
	stack[sp++] = k;
	while (sp) {
		int p = stack[--sp];
		if (++nodes > MAX_TREE)
			return false;
		const struct insn *in = &e->insns[p];
		if (!in->counted)
			return false;
		int succ[2], ns = 0;
		/* RERAISE reaches its handler without an exception event */
		if (in->op == RERAISE && in->handler >= 0)
			succ[ns++] = in->handler;
		if (in->kind == K_EXIT && !ns) {
			/* a RERAISE that leaves the frame puts back the lasti of the exception: the
			 * frame's exit does not name it, so there may be only one */
			if (in->op == RERAISE && in->arg) {
				if (*reraise >= 0)
					return false;
				*reraise = p;
			}
			continue;
		}
		if (in->kind != K_JUMP && in->kind != K_EXIT && next_of(e, p) >= 0)
			succ[ns++] = next_of(e, p);
		if ((in->kind == K_JUMP || in->kind == K_COND) && in->target >= 0)
			succ[ns++] = in->target;
		for (int s = 0; s < ns; s++) {
			int q = succ[s];
			if (line_event(e, p, q)) {
				if (leaf_from[q] >= 0 && leaf_from[q] != p)
					return false; /* two paths end in a line event at q */
				leaf_from[q] = p;
			} else {
				if (parent[q] != -1)
					return false; /* reached twice (or a silent cycle) */
				if (sp >= MAX_TREE)
					return false;
				parent[q] = p;
				stack[sp++] = q;
			}
		}
	}
	return true;
}

static bool exact_at(struct code_entry *e, int k)
{
	if (!e->exact[k]) {
		size_t nn = e->ninsns > 0 ? (size_t)e->ninsns : 1;
		int *buf = malloc(sizeof *buf * 2 * nn);
		int rr;
		e->exact[k] = buf && path_tree(e, k, buf, buf + e->ninsns, &rr) ? 1 : 2;
		free(buf);
	}
	return e->exact[k] == 1;
}

static void path_add(struct tracer *t, struct code_entry *e, int a, int b, int end)
{
	struct pathcount *hit = e->lastpath;
	if (hit && hit->k.a == a && hit->k.b == b && hit->k.end == end) {
		hit->n++;
		return;
	}
	struct pathkey k = {a, b, end};
	HASH_FIND(hh, e->paths, &k, sizeof k, hit);
	if (!hit) {
		if (!(hit = calloc(1, sizeof *hit))) {
			fail(t, "out of memory");
			return;
		}
		hit->k = k;
		HASH_ADD(hh, e->paths, k, sizeof k, hit);
	}
	hit->n++;
	e->lastpath = hit;
}
#endif

/* ---- code entries ------------------------------------------------------------------------------ */

static void entry_free(struct code_entry *e)
{
	free(e->unit2insn);
	free(e->insns);
	free(e->seg);
	free(e->opc);
	free(e->exact);
	struct pathcount *p, *tmp;
	HASH_ITER(hh, e->paths, p, tmp)
	{
		HASH_DEL(e->paths, p);
		free(p);
	}
	free(e);
}

#ifndef SPF_TRACE_API
static int local_events(struct tracer *t, struct code_entry *e);
#endif

/* Classify a code object seen for the first time. co: borrowed; the entry keeps a strong
 * reference so that its address stays unique. NULL when out of memory. */
static struct code_entry *entry_new(struct tracer *t, PyCodeObject *co)
{
	struct code_entry *e = calloc(1, sizeof *e);
	if (!e)
		return NULL;
	e->file = file_for(t, co->co_filename);
	if (!e->file)
		goto bad;
	e->cls = C_UNCOUNTED;
	if (e->file->counted) {
		if (decode(t, e, co) < 0)
			goto bad;
		bool branchy = has_handlers(co);
		for (int k = 0; k < e->ninsns && !branchy; k++)
			branchy = e->insns[k].kind == K_COND || e->insns[k].kind == K_JUMP || e->insns[k].kind == K_SEND;
		e->cls = branchy ? C_BRANCHY : C_LINEAR;
		size_t n = (size_t)(e->ninsns ? e->ninsns : 1);
		e->seg = calloc(n, sizeof *e->seg);
		e->opc = calloc(n, sizeof *e->opc);
		e->exact = calloc(n, sizeof *e->exact);
		if (!e->seg || !e->opc || !e->exact)
			goto bad;
#ifdef SPF_TRACE_API
		if (branchy)
			find_handlers(e, co);
		if (branchy)
			for (int k = 0; k < e->ninsns; k++) {
				int line = PyCode_Addr2Line(co, 2 * e->insns[k].unit);
				e->insns[k].line = line >= 0 ? line : -1;
			}
#else
		for (int k = 0; k < e->ninsns; k++)
			if (e->insns[k].kind == K_SEND) {
				e->has_send = true;
				if (e->insns[k].target >= 0)
					e->insns[e->insns[k].target].observed = true;
			}
		for (int k = 0; k < e->ninsns && branchy && !e->full; k++)
			e->full = !walk(e, k, NULL, NULL, true);
		e->code = (PyObject *)co;
		if (branchy && local_events(t, e) < 0) {
			e->code = NULL;
			goto bad;
		}
#endif
	}
	Py_INCREF(co);
	e->code = (PyObject *)co;
	return e;
bad:
	if (getenv("SPF_TRACER_DEBUG"))
		PyErr_Print();
	PyErr_Clear();
	entry_free(e);
	return NULL;
}

static struct code_entry *entry_for(struct tracer *t, PyCodeObject *co)
{
	if (t->last && t->last->code == (PyObject *)co)
		return t->last;
	struct code_entry *e;
	HASH_FIND_PTR(t->codes, &co, e);
	if (e)
		return t->last = e;
	if (!(e = entry_new(t, co))) {
		fail(t, "out of memory");
		return NULL;
	}
	HASH_ADD_PTR(t->codes, code, e);
	return t->last = e;
}

/* The instruction at code unit u, or -1. */
static int insn_at(const struct code_entry *e, int u) { return u >= 0 && u < e->nunits ? e->unit2insn[u] : -1; }

/* The instruction the frame executes last (or is about to execute, at its start). */
static int last_insn(const struct code_entry *e, _PyInterpreterFrame *fr)
{
	int k = insn_at(e, _PyInterpreterFrame_LASTI(fr));
#if PY_VERSION_HEX >= 0x030D0000
	/* suspended: instr_ptr is past the YIELD_VALUE, at its RESUME */
	if (k > 0 && e->insns[k].op == RESUME && e->insns[k - 1].op == YIELD_VALUE)
		k--;
#endif
	return k;
}

/* Where the frame starts or resumes: the first instruction it runs, and whether it starts. */
static int entry_insn(const struct code_entry *e, _PyInterpreterFrame *fr, bool *start)
{
	int lasti = _PyInterpreterFrame_LASTI(fr);
#if PY_VERSION_HEX >= 0x030D0000
	*start = lasti == 0;
	return insn_at(e, lasti);
#else
	*start = lasti < 0;
	if (lasti < 0)
		return e->ninsns ? 0 : -1;
	int k = insn_at(e, lasti);
	return k >= 0 ? next_of(e, k) : -1;
#endif
}

/* ---- 3.11: the trace function, on while a branchy frame runs -------------------------------- */

#ifdef SPF_TRACE_API
static int on_trace(PyObject *obj, PyFrameObject *f, int what, PyObject *arg);

/* Install or remove the trace function on the main thread (its own fields, so that a switch
 * costs a few stores; a tracer the program installed itself is never replaced). */
static void set_tracing(struct tracer *t, PyThreadState *ts, bool on)
{
	if (t->tracing == on)
		return;
	if (ts->c_tracefunc && ts->c_tracefunc != on_trace) {
		fail(t, "the program installed its own tracer (sys.settrace)");
		return;
	}
	ts->c_tracefunc = on ? on_trace : NULL;
	ts->c_traceobj = NULL;
	_PyThreadState_UpdateTracingState(ts);
	t->tracing = on;
}

static int on_trace(PyObject *obj, PyFrameObject *f, int what, PyObject *arg)
{
	(void)obj;
	struct tracer *t = T;
	struct frame_state *st = t ? t->top : NULL;
	if (!st || st->frame != f->f_frame)
		return 0;
	struct code_entry *e = st->e;
	int k = insn_at(e, _PyInterpreterFrame_LASTI(f->f_frame));
	if (k < 0)
		return 0;
	switch (what) {
	case PyTrace_CALL:
		/* at a function's start its first instruction always gets a line event (the previous
		 * one is RESUME), unless it has no line; a resumption may not */
		if (st->first >= 0 && e->insns[st->first].line >= 0) {
			st->mode = M_FIRST;
		} else {
			st->mode = M_OPCODE;
			f->f_trace_opcodes = 1;
		}
		break;
	case PyTrace_LINE:
		if (st->mode == M_FIRST && k != st->first) {
			fail(t, "internal error: no line event at the first instruction");
			st->mode = M_START;
		}
		if (st->mode == M_DEFERRED)
			path_add(t, e, st->a, k, 0);
		if (exact_at(e, k)) {
			st->mode = M_DEFERRED;
			st->a = k;
			f->f_trace_opcodes = 0;
		} else {
			st->mode = M_OPCODE;
			f->f_trace_opcodes = 1;
		}
		break;
	case PyTrace_OPCODE:
		if (st->mode == M_OPCODE)
			e->opc[k]++;
		break;
	case PyTrace_EXCEPTION:
		if (st->mode == M_FIRST)
			fail(t, "internal error: an exception before the first instruction");
		if (st->mode == M_DEFERRED)
			path_add(t, e, st->a, k, 1);
		st->mode = M_OPCODE;
		f->f_trace_opcodes = 1;
		break;
	case PyTrace_RETURN:
		/* leaving with an exception without an exception event: a RERAISE */
		if (st->mode == M_DEFERRED && !arg)
			path_add(t, e, st->a, k, 2);
		else if (st->mode == M_DEFERRED)
			path_add(t, e, st->a, k, 1);
		st->mode = M_START;
		break;
	default:
		break;
	}
	return 0;
}
#endif

/* ---- 3.12+: sys.monitoring callbacks --------------------------------------------------------- */

#ifndef SPF_TRACE_API
/* sys.monitoring.events bit numbers (the same in 3.12 and 3.13) */
enum { EV_INSTRUCTION = 6, EV_JUMP = 7, EV_BRANCH = 8, EV_RAISE = 10, EV_EXCEPTION_HANDLED = 11 };
#define EV(name) EV_##name

static struct code_entry *event_entry(struct tracer *t, PyObject *code)
{
	if (!t || !t->running || PyThreadState_Get() != t->main || !PyCode_Check(code))
		return NULL;
	if (t->last && t->last->code == code)
		return t->last;
	struct code_entry *e;
	HASH_FIND_PTR(t->codes, &code, e);
	return e ? (t->last = e) : NULL; /* NULL: not seen by the hook, not counted */
}

static int offset_insn(const struct code_entry *e, PyObject *off)
{
	long o = PyLong_AsLong(off);
	if (o < 0 && PyErr_Occurred()) {
		PyErr_Clear();
		return -1;
	}
	return insn_at(e, (int)(o / 2));
}

/* BRANCH, JUMP (code, offset, destination): a segment starts at the destination. */
static PyObject *cb_dest(PyObject *self, PyObject *const *args, Py_ssize_t n)
{
	(void)self;
	struct code_entry *e = n == 3 ? event_entry(T, args[0]) : NULL;
	if (e && e->cls != C_UNCOUNTED)
		seg_add(e, offset_insn(e, args[2]), 1);
	Py_RETURN_NONE;
}

/* INSTRUCTION (code, offset): at an observed instruction a segment starts; elsewhere the event
 * is disabled for good. */
static PyObject *cb_insn(PyObject *self, PyObject *const *args, Py_ssize_t n)
{
	(void)self;
	struct tracer *t = T;
	if (!t || !t->running || n != 2 || !PyCode_Check(args[0]))
		Py_RETURN_NONE;
	struct code_entry *e = NULL;
	HASH_FIND_PTR(t->codes, &args[0], e);
	int k = e && e->cls != C_UNCOUNTED ? offset_insn(e, args[1]) : -1;
	if (k >= 0 && e->insns[k].observed) {
		if (PyThreadState_Get() == t->main)
			seg_add(e, k, 1);
		Py_RETURN_NONE;
	}
	PyObject *dis = PyObject_GetAttrString(t->monitoring, "DISABLE"); /* new reference */
	if (!dis) {
		PyErr_Clear();
		Py_RETURN_NONE;
	}
	return dis;
}

/* RAISE (code, offset, exception): the rest of the segment did not run. */
static PyObject *cb_raise(PyObject *self, PyObject *const *args, Py_ssize_t n)
{
	(void)self;
	struct code_entry *e = n == 3 ? event_entry(T, args[0]) : NULL;
	if (e && e->cls != C_UNCOUNTED) {
		int p = offset_insn(e, args[1]);
		if (p >= 0)
			seg_add(e, rest_after(e, p), -1);
	}
	Py_RETURN_NONE;
}

/* EXCEPTION_HANDLED (code, offset of the handler, exception): a segment starts there. */
static PyObject *cb_handled(PyObject *self, PyObject *const *args, Py_ssize_t n)
{
	(void)self;
	struct code_entry *e = n == 3 ? event_entry(T, args[0]) : NULL;
	if (e && e->cls != C_UNCOUNTED)
		seg_add(e, offset_insn(e, args[1]), 1);
	Py_RETURN_NONE;
}

static PyMethodDef cb_defs[] = {
	{"_branch", (PyCFunction)(void (*)(void))cb_dest, METH_FASTCALL, NULL},
	{"_insn", (PyCFunction)(void (*)(void))cb_insn, METH_FASTCALL, NULL},
	{"_raise", (PyCFunction)(void (*)(void))cb_raise, METH_FASTCALL, NULL},
	{"_handled", (PyCFunction)(void (*)(void))cb_handled, METH_FASTCALL, NULL},
};

static int mon_call(struct tracer *t, const char *fn, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	PyObject *args = Py_VaBuildValue(fmt, ap); /* new reference */
	va_end(ap);
	PyObject *f = args ? PyObject_GetAttrString(t->monitoring, fn) : NULL; /* new reference */
	PyObject *r = f ? PyObject_CallObject(f, args) : NULL;                   /* new reference */
	int rc = r ? 0 : -1;
	Py_XDECREF(r);
	Py_XDECREF(f);
	Py_XDECREF(args);
	return rc;
}

static int local_events(struct tracer *t, struct code_entry *e)
{
	int mask = (1 << EV(BRANCH)) | (e->full ? 1 << EV(JUMP) : 0) | (e->has_send ? 1 << EV(INSTRUCTION) : 0);
	return mon_call(t, "set_local_events", "(iOi)", t->tool, e->code, mask);
}

static int monitoring_start(struct tracer *t)
{
	PyObject *sys = PyImport_ImportModule("sys"); /* new reference */
	t->monitoring = sys ? PyObject_GetAttrString(sys, "monitoring") : NULL; /* new reference */
	Py_XDECREF(sys);
	if (!t->monitoring)
		return -1;
	t->tool = -1;
	for (int id = 4; id >= 1 && t->tool < 0; id = id == 4 ? 3 : id - 1)
		if (mon_call(t, "use_tool_id", "(is)", id, "spipfix trace") == 0)
			t->tool = id;
		else
			PyErr_Clear();
	if (t->tool < 0) {
		PyErr_SetString(PyExc_RuntimeError, "no free sys.monitoring tool id");
		return -1;
	}
	static const int events[] = {EV(BRANCH), EV(JUMP), EV(INSTRUCTION), EV(RAISE), EV(EXCEPTION_HANDLED)};
	static const int defs[] = {0, 0, 1, 2, 3};
	for (size_t i = 0; i < sizeof events / sizeof *events; i++) {
		PyObject *fn = PyCFunction_New(&cb_defs[defs[i]], NULL); /* new reference */
		int rc = fn ? mon_call(t, "register_callback", "(iiO)", t->tool, 1 << events[i], fn) : -1;
		Py_XDECREF(fn);
		if (rc < 0)
			return -1;
	}
	return mon_call(t, "set_events", "(ii)", t->tool, (1 << EV(RAISE)) | (1 << EV(EXCEPTION_HANDLED)));
}

static void monitoring_stop(struct tracer *t)
{
	if (!t->monitoring)
		return;
	if (t->tool >= 0) {
		mon_call(t, "set_events", "(ii)", t->tool, 0);
		for (struct code_entry *e = t->codes; e; e = e->hh.next)
			if (e->cls == C_BRANCHY)
				mon_call(t, "set_local_events", "(iOi)", t->tool, e->code, 0);
		mon_call(t, "free_tool_id", "(i)", t->tool);
	}
	PyErr_Clear();
	Py_CLEAR(t->monitoring);
}
#endif

/* ---- the frame-evaluation hook ---------------------------------------------------------------- */

static PyObject *hook(PyThreadState *ts, _PyInterpreterFrame *fr, int throwflag)
{
	struct tracer *t = T;
	if (!t || !t->running || ts != t->main)
		return _PyEval_EvalFrameDefault(ts, fr, throwflag);
	struct code_entry *e = entry_for(t, FRAME_CODE(fr));
	if (!e || e->cls == C_UNCOUNTED) {
#ifdef SPF_TRACE_API
		bool was = t->tracing;
		set_tracing(t, ts, false);
		PyObject *r = _PyEval_EvalFrameDefault(ts, fr, throwflag);
		set_tracing(t, ts, was);
		return r;
#else
		return _PyEval_EvalFrameDefault(ts, fr, throwflag);
#endif
	}
	bool start;
	int k = entry_insn(e, fr, &start);
	if (start)
		e->calls++;
	PyObject *r;
#ifdef SPF_TRACE_API
	bool was = t->tracing;
	if (e->cls == C_LINEAR) {
		if (!throwflag)
			seg_add(e, k, 1);
		set_tracing(t, ts, false);
		r = _PyEval_EvalFrameDefault(ts, fr, throwflag);
		set_tracing(t, ts, was);
		if (!r) {
			int p = last_insn(e, fr);
			if (p >= 0)
				seg_add(e, rest_after(e, p), -1);
		}
		return r;
	}
	int first = -1;
	for (int i = k; start && i >= 0 && i < e->ninsns && first < 0; i = next_of(e, i))
		if (e->insns[i].counted)
			first = i;
		else if (e->insns[i].op != RESUME && e->insns[i].kind != K_PLAIN)
			break;
	struct frame_state st = {t->top, fr, e, M_START, -1, first};
	t->top = &st;
	set_tracing(t, ts, true);
	r = _PyEval_EvalFrameDefault(ts, fr, throwflag);
	set_tracing(t, ts, was);
	t->top = st.up;
	return r;
#else
	if (!throwflag)
		seg_add(e, k, 1);
	r = _PyEval_EvalFrameDefault(ts, fr, throwflag);
	if (r && e->has_send) {
		/* suspended at the YIELD_VALUE a SEND falls through to: that segment ran */
		int p = last_insn(e, fr);
		if (p > 0 && e->insns[p].op == YIELD_VALUE && e->insns[p - 1].kind == K_SEND)
			seg_add(e, p, 1);
	}
	return r;
#endif
}

/* ---- the per-instruction counts -------------------------------------------------------------- */

struct expand {
	int64_t *count; /* per instruction */
	int64_t n;
};

static void add_n(struct code_entry *e, int k, void *ctx)
{
	(void)e;
	struct expand *x = ctx;
	x->count[k] += x->n;
}

/* Per-instruction execution counts of e (caller frees). */
static int64_t *expand_counts(struct code_entry *e)
{
	int64_t *c = calloc((size_t)(e->ninsns ? e->ninsns : 1), sizeof *c);
	if (!c)
		return NULL;
	struct expand x = {c, 0};
	for (int k = 0; k < e->ninsns; k++) {
		if (e->seg[k]) {
			x.n = e->seg[k];
			walk(e, k, add_n, &x, true);
		}
		c[k] += (int64_t)e->opc[k];
	}
#ifdef SPF_TRACE_API
	size_t nn = e->ninsns > 0 ? (size_t)e->ninsns : 1;
	int *parent = malloc(sizeof *parent * 2 * nn);
	int tree_of = -1, reraise = -1;
	for (const struct pathcount *h = e->paths; parent && h; h = h->hh.next) {
		const struct pathkey *pc = &h->k;
		if (tree_of != pc->a) {
			if (!path_tree(e, pc->a, parent, parent + e->ninsns, &reraise)) {
				fail(T, "internal error: a path is not unique");
				continue;
			}
			tree_of = pc->a;
		}
		int p = pc->end ? pc->b : parent[e->ninsns + pc->b];
		/* left with an exception and no exception event: a RERAISE of the tree, the one
		 * named (RERAISE 0 keeps its own lasti) or the one that puts back an older lasti */
		if (pc->end == 2) {
			const struct insn *in = &e->insns[pc->b];
			bool own = in->op == RERAISE && !in->arg && in->handler < 0 && parent[pc->b] != -1;
			p = own ? pc->b : reraise;
		}
		if (p < 0 || (parent[p] == -1 && p != pc->a)) {
			fail(T, "internal error: an observation outside its path");
			continue;
		}
		for (; p >= 0; p = parent[p] == -2 ? -1 : parent[p])
			c[p] += h->n;
	}
	free(parent);
#endif
	for (int k = 0; k < e->ninsns; k++)
		if (!e->insns[k].counted)
			c[k] = 0;
	return c;
}

/* ---- the module ------------------------------------------------------------------------------- */

/* The tables of t; t itself stays allocated when frames evaluated through the hook may still
 * be running (stop() is called from Python code: the hook reads t when they return). */
static void tracer_clear(struct tracer *t)
{
	struct code_entry *e, *tmp;
	HASH_ITER(hh, t->codes, e, tmp)
	{
		HASH_DEL(t->codes, e);
		Py_XDECREF(e->code);
		entry_free(e);
	}
	for (struct file_entry *f = t->files, *n; f; f = n) {
		n = f->next;
		free(f->name);
		free(f);
	}
	for (int i = 0; i < t->npatterns; i++)
		free(t->patterns[i]);
	free(t->patterns);
	for (int i = 0; i < t->nroots; i++)
		free(t->roots[i]);
	free(t->roots);
	t->files = NULL;
	t->last = NULL;
	t->patterns = t->roots = NULL;
	t->npatterns = t->nroots = 0;
}

/* A list of str from a dict's key into a malloc'd array. Returns 0 / -1. d: borrowed. */
static int str_list(PyObject *d, const char *key, char ***out, int *n)
{
	PyObject *l = PyDict_GetItemString(d, key); /* borrowed */
	*out = NULL;
	*n = 0;
	if (!l)
		return 0;
	if (!PyList_Check(l)) {
		PyErr_Format(PyExc_TypeError, "%s: a list", key);
		return -1;
	}
	*out = calloc((size_t)PyList_GET_SIZE(l) + 1, sizeof **out);
	if (!*out)
		return -1;
	for (Py_ssize_t i = 0; i < PyList_GET_SIZE(l); i++) {
		const char *s = PyUnicode_AsUTF8(PyList_GET_ITEM(l, i));
		if (!s || !((*out)[*n] = strdup(s)))
			return -1;
		(*n)++;
	}
	return 0;
}

/* start({"tracked": [opcodes], "patterns": [...], "roots": [...], "all": bool}) */
static PyObject *start(PyObject *self, PyObject *cfg)
{
	(void)self;
	if (T) {
		PyErr_SetString(PyExc_RuntimeError, "already tracing");
		return NULL;
	}
	if (!PyDict_Check(cfg)) {
		PyErr_SetString(PyExc_TypeError, "start() takes a dict");
		return NULL;
	}
	struct tracer *t = calloc(1, sizeof *t);
	if (!t)
		return PyErr_NoMemory();
	PyObject *ops = PyDict_GetItemString(cfg, "tracked"); /* borrowed */
	for (Py_ssize_t i = 0; ops && PyList_Check(ops) && i < PyList_GET_SIZE(ops); i++) {
		long op = PyLong_AsLong(PyList_GET_ITEM(ops, i));
		if (op >= 0 && op < 256)
			t->tracked[op] = true;
	}
	PyObject *all = PyDict_GetItemString(cfg, "all"); /* borrowed */
	t->all = all && PyObject_IsTrue(all) == 1;
	if (PyErr_Occurred() || str_list(cfg, "patterns", &t->patterns, &t->npatterns) < 0 ||
	    str_list(cfg, "roots", &t->roots, &t->nroots) < 0)
		goto bad;
	t->main = PyThreadState_Get();
#ifndef SPF_TRACE_API
	if (monitoring_start(t) < 0)
		goto bad;
#endif
	PyInterpreterState *interp = PyInterpreterState_Get();
	t->prev_eval = _PyInterpreterState_GetEvalFrameFunc(interp);
	if (t->prev_eval != _PyEval_EvalFrameDefault) {
		PyErr_SetString(PyExc_RuntimeError, "another frame evaluator is installed");
		goto bad;
	}
	T = t;
	t->running = true;
	_PyInterpreterState_SetEvalFrameFunc(interp, hook);
	Py_RETURN_NONE;
bad:
	if (!PyErr_Occurred())
		PyErr_NoMemory();
#ifndef SPF_TRACE_API
	monitoring_stop(t);
#endif
	tracer_clear(t);
	free(t);
	return NULL;
}

/* stop() -> {"complete": bool, "why": str|None, "code": [(filename, qualname, firstlineno,
 * calls, instructions, [(offset, opcode, line, col, end_line, end_col, count), ...]), ...]}.
 * Only code of counted files that ran; the tracked instructions that ran. New reference. */
static PyObject *stop(PyObject *self, PyObject *unused)
{
	(void)self, (void)unused;
	struct tracer *t = T;
	if (!t) {
		PyErr_SetString(PyExc_RuntimeError, "not tracing");
		return NULL;
	}
	t->running = false;
	_PyInterpreterState_SetEvalFrameFunc(PyInterpreterState_Get(), t->prev_eval);
#ifdef SPF_TRACE_API
	set_tracing(t, t->main, false);
#else
	monitoring_stop(t);
#endif
	PyObject *codes = PyList_New(0); /* new reference */
	for (struct code_entry *e = t->codes; codes && e; e = e->hh.next) {
			if (e->cls == C_UNCOUNTED)
				continue;
			int64_t *c = expand_counts(e);
			if (!c) {
				Py_CLEAR(codes);
				break;
			}
			long long total = 0;
			for (int k = 0; k < e->ninsns; k++) {
				if (c[k] < 0)
					fail(t, "internal error: a negative count");
				total += c[k];
			}
			PyObject *rows = PyList_New(0); /* new reference */
			PyCodeObject *co = (PyCodeObject *)e->code;
			for (int k = 0; rows && k < e->ninsns; k++) {
				if (e->insns[k].slot < 0 || c[k] <= 0)
					continue;
				int sl = 0, sc = 0, el = 0, ec = 0;
				if (!PyCode_Addr2Location(co, 2 * e->insns[k].opunit, &sl, &sc, &el, &ec))
					sl = sc = el = ec = -1;
				PyObject *row = Py_BuildValue("(iiiiiiL)", 2 * e->insns[k].opunit, e->insns[k].op, sl, sc, el,
							      ec, (long long)c[k]); /* new reference */
				if (!row || PyList_Append(rows, row) < 0)
					Py_CLEAR(rows);
				Py_XDECREF(row);
			}
			free(c);
			if (!total && !e->calls && rows && !PyList_GET_SIZE(rows)) {
				Py_DECREF(rows);
				continue;
			}
			PyObject *rec = rows ? Py_BuildValue("(OOiKLN)", co->co_filename, co->co_qualname, co->co_firstlineno,
							     (unsigned long long)e->calls, total, rows)
					     : NULL; /* new reference; steals rows */
			if (!rec || PyList_Append(codes, rec) < 0)
				Py_CLEAR(codes);
			Py_XDECREF(rec);
		}
	PyObject *r = codes ? Py_BuildValue("{s:O,s:s,s:N}", "complete", t->failed ? Py_False : Py_True, "why",
					    t->why, "code", codes)
			    : NULL; /* new reference; steals codes */
	T = NULL;
	tracer_clear(t); /* t itself is never freed: see tracer_clear */
	return r;
}

/* _decode(code) -> [(offset, opcode, kind, target offset or -1, counted)]: the instruction table
 * the counts are derived from, for tests against `dis`. New reference. */
static PyObject *decode_py(PyObject *self, PyObject *code)
{
	(void)self;
	if (!PyCode_Check(code)) {
		PyErr_SetString(PyExc_TypeError, "a code object");
		return NULL;
	}
	struct tracer t = {0};
	struct code_entry e = {0};
	PyObject *r = NULL;
	if (decode(&t, &e, (PyCodeObject *)code) < 0)
		goto out;
	r = PyList_New(e.ninsns); /* new reference */
	for (int k = 0; r && k < e.ninsns; k++) {
		const struct insn *in = &e.insns[k];
		PyObject *row = Py_BuildValue("(iiiiO)", 2 * in->unit, in->op, in->kind,
					      in->target >= 0 ? 2 * e.insns[in->target].unit : -1,
					      in->counted ? Py_True : Py_False); /* new reference */
		if (!row) {
			Py_CLEAR(r);
			break;
		}
		PyList_SET_ITEM(r, k, row); /* steals row */
	}
out:
	free(e.unit2insn);
	free(e.insns);
	if (!r && !PyErr_Occurred())
		PyErr_NoMemory();
	return r;
}

static PyMethodDef methods[] = {
	{"start", start, METH_O, "Start counting (a dict of settings)."},
	{"stop", stop, METH_NOARGS, "Stop counting and return the counts."},
	{"_decode", decode_py, METH_O, "The instruction table of a code object (for tests)."},
	{NULL, NULL, 0, NULL},
};

static struct PyModuleDef moddef = {PyModuleDef_HEAD_INIT, "_spipfix_trace", NULL, -1, methods,
				    NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__spipfix_trace(void) { return PyModule_Create(&moddef); }
