/* The CPython bridge, on this side of the Python boundary (pyrt.h): which version runs, its
 * module loaded with dlopen, the facts of the compiled code objects, and the classification of
 * the version's opcodes by name. No Python.h here. */
#define _GNU_SOURCE /* RTLD_* and readlink under the strict feature macros */
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bridge.h"
#include "budget.h"
#include "scope.h"

/* ---- the process's one CPython ---------------------------------------------------------------
 * A process holds at most one interpreter (pyrt.h says why), so its handle is process state
 * here, as the interpreter's own is inside libpython: the version chosen, the module's table,
 * and what is read from it once (opcode classes by name, the builtins). */

enum {
	OC_READS_LOCAL = 1 << 0,
	OC_GLOBAL_LOAD = 1 << 1,
	OC_CALL = 1 << 2,
	OC_CONST_LOAD = 1 << 3,
	OC_LOCAL_LOAD = 1 << 4,
	OC_ATTR_LOAD = 1 << 5,
	OC_CALL_SETUP = 1 << 6,
	OC_IMPURE = 1 << 7,
	OC_NAMES = 1 << 8,        /* the argument indexes co_names */
	OC_MODULE_STORE = 1 << 9, /* STORE_NAME, DELETE_NAME */
	OC_GLOBAL_STORE = 1 << 10, /* STORE_GLOBAL, DELETE_GLOBAL */
};

static struct {
	int minor;                      /* selected; 0 until bridge_select or first use */
	void *handle;                   /* dlopen of the module */
	const struct pyrt_ops *ops;     /* NULL until loaded */
	bool started;                   /* ops->init succeeded */
	const char *const *opnames;
	unsigned short cls[PYRT_NOPS];
	const char *const *builtins;
	size_t nbuiltins;
	const char *const *stdlib;
	size_t nstdlib;
	bool env_warned;                /* a wrong $SPIPFIX_TARGET_VERSION was said once */
} R;

/* The opcode classes, by the names CPython gives the opcodes (each version has a subset). */
static const struct {
	const char *name;
	unsigned short cls;
} op_classes[] = {
	{"LOAD_FAST", OC_READS_LOCAL | OC_LOCAL_LOAD},
	{"LOAD_FAST_CHECK", OC_READS_LOCAL | OC_LOCAL_LOAD},          /* 3.12+ */
	{"LOAD_FAST_AND_CLEAR", OC_READS_LOCAL | OC_LOCAL_LOAD},      /* 3.12+: inlined comprehensions */
	{"STORE_FAST", OC_READS_LOCAL},
	{"DELETE_FAST", OC_READS_LOCAL},
	{"LOAD_DEREF", OC_READS_LOCAL | OC_LOCAL_LOAD},
	{"STORE_DEREF", OC_READS_LOCAL},
	{"DELETE_DEREF", OC_READS_LOCAL},
	{"LOAD_CLOSURE", OC_READS_LOCAL | OC_LOCAL_LOAD},
	{"LOAD_CLASSDEREF", OC_READS_LOCAL | OC_LOCAL_LOAD},          /* 3.11 */
	{"LOAD_FROM_DICT_OR_DEREF", OC_READS_LOCAL | OC_LOCAL_LOAD},  /* 3.12+ */
	{"MAKE_CELL", OC_READS_LOCAL},
	{"LOAD_GLOBAL", OC_GLOBAL_LOAD | OC_NAMES},
	{"LOAD_NAME", OC_GLOBAL_LOAD | OC_NAMES},
	{"LOAD_FROM_DICT_OR_GLOBALS", OC_GLOBAL_LOAD | OC_NAMES},     /* 3.12+ */
	{"CALL", OC_CALL | OC_CALL_SETUP},
	{"CALL_KW", OC_CALL | OC_CALL_SETUP},                         /* 3.13+ */
	{"CALL_FUNCTION_EX", OC_CALL},
	{"LOAD_CONST", OC_CONST_LOAD},
	{"LOAD_ATTR", OC_ATTR_LOAD | OC_NAMES},
	{"LOAD_METHOD", OC_ATTR_LOAD | OC_NAMES},                     /* 3.11 */
	{"LOAD_SUPER_ATTR", OC_ATTR_LOAD | OC_NAMES},                 /* 3.12+ */
	{"PUSH_NULL", OC_CALL_SETUP},
	{"KW_NAMES", OC_CALL_SETUP},                                  /* 3.11, 3.12 */
	{"PRECALL", OC_CALL_SETUP},                                   /* 3.11 */
	{"STORE_NAME", OC_NAMES | OC_IMPURE | OC_MODULE_STORE},
	{"DELETE_NAME", OC_NAMES | OC_IMPURE | OC_MODULE_STORE},
	{"STORE_GLOBAL", OC_NAMES | OC_IMPURE | OC_GLOBAL_STORE},
	{"DELETE_GLOBAL", OC_NAMES | OC_IMPURE | OC_GLOBAL_STORE},
	{"STORE_ATTR", OC_NAMES | OC_IMPURE},
	{"IMPORT_NAME", OC_NAMES | OC_IMPURE},
	{"IMPORT_FROM", OC_NAMES | OC_IMPURE},
	{"DELETE_ATTR", OC_IMPURE},
	{"STORE_SUBSCR", OC_IMPURE},
	{"DELETE_SUBSCR", OC_IMPURE},
	{"STORE_SLICE", OC_IMPURE},                                   /* 3.12+ */
	{"IMPORT_STAR", OC_IMPURE},                                   /* 3.11 */
	{"YIELD_VALUE", OC_IMPURE},
	{"GET_AWAITABLE", OC_IMPURE},
	{"SEND", OC_IMPURE},
	{"BEFORE_WITH", OC_IMPURE},
	{"BEFORE_ASYNC_WITH", OC_IMPURE},
	{"LOAD_BUILD_CLASS", OC_IMPURE},
	{"SETUP_ANNOTATIONS", OC_IMPURE},
	{"PRINT_EXPR", OC_IMPURE},                                    /* 3.11 */
	{"GET_AITER", OC_IMPURE},
	{"GET_ANEXT", OC_IMPURE},
	{"ASYNC_GEN_WRAP", OC_IMPURE},                                /* 3.11 */
};

int bridge_parse_version(const char *s)
{
	if (!s || strncmp(s, "py3", 3) != 0)
		return -1;
	char *end;
	long m = strtol(s + 3, &end, 10);
	if (*end || end == s + 3 || m < BRIDGE_MINOR_OLDEST || m > BRIDGE_MINOR_NEWEST)
		return -1;
	return (int)m;
}

const struct bridge_build *bridge_built(int minor)
{
	for (const struct bridge_build *b = bridge_builds; b->minor; b++)
		if (b->minor == minor)
			return b;
	return NULL;
}

int bridge_default_minor(void)
{
	const char *env = getenv("SPIPFIX_TARGET_VERSION");
	if (env && *env) {
		int m = bridge_parse_version(env);
		if (m > 0)
			return m;
		if (!R.env_warned)
			fprintf(stderr, "warning: SPIPFIX_TARGET_VERSION=%s names no version (py311, py312, py313); ignored\n",
				env);
		R.env_warned = true;
	}
	if (bridge_built(11))
		return 11;
	int best = 0;
	for (const struct bridge_build *b = bridge_builds; b->minor; b++)
		if (!best || b->minor < best)
			best = b->minor;
	return best;
}

const char *bridge_built_list(void)
{
	static char buf[128];
	size_t n = 0;
	buf[0] = 0;
	for (const struct bridge_build *b = bridge_builds; b->minor && n + 8 < sizeof buf; b++)
		n += (size_t)snprintf(buf + n, sizeof buf - n, "%spy3%d", n ? ", " : "", b->minor);
	return buf;
}

int bridge_select(int minor)
{
	if (!bridge_built(minor)) {
		fprintf(stderr, "error: Python 3.%d (py3%d) is not available: this spipfix was built for %s "
				"(install Python 3.%d with its headers and shared libpython, then configure again)\n",
			minor, minor, bridge_built_list(), minor);
		return -1;
	}
	if (R.ops && R.ops->minor != minor) {
		fprintf(stderr, "spipfix: internal error: Python 3.%d already runs in this process; 3.%d cannot\n",
			R.ops->minor, minor);
		return -1;
	}
	R.minor = minor;
	return 0;
}

int bridge_target(void)
{
	if (!R.minor)
		R.minor = bridge_default_minor();
	return R.minor;
}

const char *bridge_target_name(void)
{
	static char name[8];
	snprintf(name, sizeof name, "py3%d", bridge_target() % 100);
	return name;
}

bool bridge_loaded(void) { return R.ops != NULL; }

const struct pyrt_ops *bridge_ops(void) { return R.started ? R.ops : NULL; }

void *bridge_dlopen(const char *file, char *path, size_t cap)
{
	char exe[PATH_MAX], lib[PATH_MAX + 16];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	exe[n > 0 ? n : 0] = 0;
	char *slash = strrchr(exe, '/');
	if (slash)
		*slash = 0;
	snprintf(lib, sizeof lib, "%s/../lib/spipfix", exe);
	const char *dirs[] = {exe, lib, SPIPFIX_MODULE_BUILD_DIR};
	for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++) {
		snprintf(path, cap, "%s/%s", dirs[i], file);
		if (access(path, F_OK) != 0)
			continue;
		/* RTLD_GLOBAL: the version's extension modules resolve the interpreter's symbols */
		void *h = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
		if (!h)
			fprintf(stderr, "spipfix: cannot load %s: %s\n", path, dlerror());
		return h;
	}
	fprintf(stderr, "spipfix: cannot find %s next to the program (nor in ../lib/spipfix)\n", file);
	return NULL;
}

/* dlopen the module of 3.minor and take its table. Returns 0 / -1 (message on stderr). */
static int load_module(int minor)
{
	char file[64], path[PATH_MAX + 80];
	snprintf(file, sizeof file, "spipfix-py3%d.so", minor);
	if (!(R.handle = bridge_dlopen(file, path, sizeof path)))
		return -1;
	pyrt_entry entry = (pyrt_entry)dlsym(R.handle, PYRT_ENTRY);
	R.ops = entry ? entry() : NULL;
	if (!R.ops || R.ops->abi != PYRT_ABI || R.ops->minor != minor) {
		fprintf(stderr, "spipfix: %s is not this build's module for Python 3.%d\n", path, minor);
		R.ops = NULL;
		return -1;
	}
	return 0;
}

int bridge_init(void)
{
	if (R.started)
		return 0;
	int minor = bridge_target();
	if (!minor) {
		fputs("spipfix: this build has no Python\n", stderr);
		return -1;
	}
	if (!R.ops && load_module(minor) < 0)
		return -1;
	if (R.ops->init() < 0)
		return -1;
	R.opnames = R.ops->opnames();
	R.builtins = R.ops->builtins(&R.nbuiltins);
	R.stdlib = R.ops->stdlib_modules(&R.nstdlib);
	memset(R.cls, 0, sizeof R.cls);
	R.cls[PYRT_OP_KW_NAMES] = OC_CALL_SETUP;
	for (int op = 0; op < 256; op++) {
		if (!R.opnames[op])
			continue;
		for (size_t k = 0; k < sizeof op_classes / sizeof *op_classes; k++)
			if (!strcmp(op_classes[k].name, R.opnames[op]))
				R.cls[op] = op_classes[k].cls;
	}
	R.started = true;
	return 0;
}

void bridge_fini(void)
{
	/* the module stays mapped: a finalised CPython cannot be unloaded safely */
	if (R.started)
		R.ops->fini();
	R.started = false;
}

const char *bridge_python_version(void) { return R.started ? R.ops->version() : ""; }

bool bridge_inlines_comprehensions(void) { return bridge_target() >= 12; }

void bridge_before_fork(void)
{
	if (R.started)
		R.ops->before_fork();
}
void bridge_after_fork_parent(void)
{
	if (R.started)
		R.ops->after_fork_parent();
}
void bridge_after_fork_child(void)
{
	if (R.started)
		R.ops->after_fork_child();
}

char *bridge_toml(const char *buf, size_t len, char **err)
{
	*err = NULL;
	if (bridge_init() < 0) {
		*err = strdup("cannot start Python to read it");
		return NULL;
	}
	return R.ops->toml(buf, len, err);
}

int bridge_compile(struct unit *u)
{
	if (bridge_init() < 0) {
		u->error = "cannot start Python";
		u->error_kind = UE_INTERNAL;
		u->compiled = -1;
		return -1;
	}
	int rc = R.ops->compile(u);
	u->compiled = rc == 0 ? 1 : -1;
	return rc;
}

int bridge_need_code(struct unit *u)
{
	if (!u->compiled)
		bridge_compile(u);
	return u->compiled > 0 ? 0 : -1;
}

size_t bridge_positions(const void *code, int *out, size_t n)
{
	return R.started ? R.ops->positions(code, out, n) : 0;
}

enum budget_outcome budget_outcome_of(const char *err)
{
	if (err && strstr(err, ": budget: "))
		return BUDGET_EXCEEDED;
	if (err && strstr(err, ": not immutable: "))
		return BUDGET_NOT_IMMUTABLE;
	return BUDGET_CALL_FAILED;
}

int bridge_eval_call(struct unit *u, const char *module, const char *attrs, const char *args, const char **err)
{
	if (!R.started) {
		*err = "Python is not running";
		return -1;
	}
	return R.ops->eval_call(&u->arena, module, attrs, args, err);
}

/* ---- opcodes, by name ------------------------------------------------------------------------ */

static unsigned short cls_of(int op) { return op >= 0 && op < PYRT_NOPS ? R.cls[op] : 0; }

const char *bridge_opname(int op)
{
	if (op == PYRT_OP_KW_NAMES)
		return "KW_NAMES";
	return op >= 0 && op < 256 && R.opnames && R.opnames[op] ? R.opnames[op] : "?";
}
bool bridge_op_reads_local(int op) { return cls_of(op) & OC_READS_LOCAL; }
bool bridge_op_is_global_load(int op) { return cls_of(op) & OC_GLOBAL_LOAD; }
bool bridge_op_is_call(int op) { return cls_of(op) & OC_CALL; }
bool bridge_op_is_const_load(int op) { return cls_of(op) & OC_CONST_LOAD; }
bool bridge_op_is_local_load(int op) { return cls_of(op) & OC_LOCAL_LOAD; }
bool bridge_op_is_attr_load(int op) { return cls_of(op) & OC_ATTR_LOAD; }
bool bridge_op_is_call_setup(int op) { return cls_of(op) & OC_CALL_SETUP; }
const char *bridge_op_impure(int op) { return (cls_of(op) & OC_IMPURE) ? bridge_opname(op) : NULL; }

/* ---- code objects ----------------------------------------------------------------------------- */

const char *bridge_insn_name(struct unit *u, const struct code_info *ci, const struct insn *in)
{
	(void)u;
	unsigned short c = cls_of(in->op);
	if (c & OC_NAMES)
		return in->arg >= 0 && in->arg < ci->nnames ? ci->names[in->arg] : NULL;
	if (c & OC_READS_LOCAL)
		return in->arg >= 0 && in->arg < ci->nlocals ? ci->locals[in->arg] : NULL;
	return NULL;
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
	if (bridge_need_code(u) < 0)
		return NULL;
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
	for (int i = 0; i < ci->nlocals; i++)
		if (!strcmp(ci->locals[i], name))
			return ci->local_kinds[i];
	return 0;
}

/* The module-level bindings of every name, built by the first bridge_global_bindings of a unit
 * and hung off its module code (codes[0].globals), keyed by the names' UTF-8 text. */
struct global_binding {
	const char *key; /* a co_names entry (the module code keeps it) */
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
 * codes[0] (the module) first. At the module's first `import *` every query answers -1, with
 * the first line of the module stores met before it; later instructions no longer matter. */
static struct bridge_globals *globals_build(struct unit *u)
{
	struct bridge_globals *g = arena_alloc(&u->arena, sizeof *g);
	if (!g)
		return NULL;
	for (size_t c = 0; c < u->ncodes; c++) {
		struct code_info *ci = &u->codes[c];
		bool module = ci->kind == CK_MODULE;
		for (size_t i = 0; i < ci->ninsns; i++) {
			struct insn *in = &ci->insns[i];
			unsigned short cl = cls_of(in->op);
			/* module code stores with STORE_NAME, or STORE_GLOBAL when a function of the
			 * module declares the name `global` */
			bool global_store = cl & OC_GLOBAL_STORE;
			bool module_store = module && (cl & (OC_MODULE_STORE | OC_GLOBAL_STORE));
			if (module && (int)i == ci->star_at) {
				g->import_star = true;
				return g;
			}
			if (!module_store && !global_store)
				continue;
			if (in->arg < 0 || in->arg >= ci->nnames || !*ci->names[in->arg])
				continue;
			const char *nm = ci->names[in->arg];
			struct global_binding *e = globals_add(&u->arena, g, nm, strlen(nm));
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
	if (bridge_need_code(u) < 0)
		return -1; /* unknown: as a rebindable name */
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

/* Is name in the sorted array v[0, n)? */
static bool sorted_has(const char *const *v, size_t n, const char *name)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(v[mid], name);
		if (!c)
			return true;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

bool bridge_is_builtin(const char *name) { return bridge_init() == 0 && sorted_has(R.builtins, R.nbuiltins, name); }

bool bridge_is_stdlib_module(const char *name)
{
	return bridge_init() == 0 && sorted_has(R.stdlib, R.nstdlib, name);
}

struct code_info *bridge_code_of(struct unit *u, TSNode scope)
{
	if (bridge_need_code(u) < 0)
		return NULL;
	/* 3.12+: a list, set or dict comprehension runs inline, in the code of its scope */
	while (!ts_node_is_null(scope) && bridge_inlines_comprehensions() && syn_is_comprehension(scope) &&
	       !syn_is(scope, "generator_expression"))
		scope = scope_parent(u, scope);
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

