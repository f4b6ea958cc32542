/* The Python boundary: everything spipfix asks of CPython, as one table of plain C functions.
 *
 * One implementation per CPython version (passes/bridge_py.c and passes/bridge_measure.c,
 * compiled against that version's headers into the module spipfix-py3X.so, linked against its
 * shared libpython), chosen at run time: bridge.c loads the module of the target version with
 * dlopen and calls spipfix_pyrt() for this table. Nothing outside the modules includes Python.h.
 *
 * A process holds at most one CPython: the module is loaded RTLD_GLOBAL, because the version's
 * extension modules (the .so files of lib-dynload) find the interpreter's symbols in the global scope, and
 * two libpythons there would resolve each other's symbols.
 *
 * The reference rule, stated once: no PyObject crosses this table. The module turns every
 * Python value into C data before it returns (C strings borrowed from objects that the unit's
 * arena keeps alive, arena or malloc'd memory otherwise), and turns every exception into text
 * ("Type: message") with one helper. Inside the modules every function that touches a
 * PyObject* says whether it returns a new reference, borrows or steals. */
#ifndef SPIPFIX_PYRT_H
#define SPIPFIX_PYRT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct arena;
struct unit;

/* Bumped whenever this table or a struct it passes (unit.h, bridge.h) changes layout: a module
 * of another build is refused. */
#define PYRT_ABI 6

/* 3.13 passes a call's keyword names to CALL_KW with a LOAD_CONST of the names tuple, where 3.11
 * and 3.12 had KW_NAMES: the index shows that LOAD_CONST as this op, named KW_NAMES. */
#define PYRT_OP_KW_NAMES 256
#define PYRT_NOPS 257

/* The redundant opcode sequences `spipfix profile` counts, in the order ties are broken. */
enum { SEQ_STORE_RELOAD, SEQ_ATTR_RELOAD, SEQ_GLOBAL_RELOAD_IN_LOOP, SEQ_CONSTANT_DISPLAY, SEQ_CONSTANT_DISCARD,
       SEQ_SELF_ASSIGN, NSEQ };

/* What `spipfix profile` measures of one file (bridge_measure.c). */
struct pyrt_measures {
	uint64_t instructions; /* code units as `dis` lists them (EXTENDED_ARG included), all code objects */
	uint64_t seq[NSEQ];    /* redundant sequences of the function-like code objects */
	uint64_t marshal;      /* marshal bytes of the module code (a .pyc without its header) */
	uint64_t marshal_oo;   /* the same compiled with -OO */
	uint64_t memory;       /* sys.getsizeof over the distinct objects of the unmarshalled code */
	uint64_t memory_stripped; /* the same for the code compiled without annotations */
	bool utf8;             /* the text is valid UTF-8 (what the passes need) */
};

struct pyrt_ops {
	int abi;   /* PYRT_ABI of the module's build */
	int minor; /* the module's CPython is 3.minor */

	/* Start the interpreter: isolated, no `site`, warnings ignored, no bytecode written; the
	 * standard library of the version's own prefix. Returns 0, or -1 with a message on stderr. */
	int (*init)(void);
	void (*fini)(void);
	bool (*initialized)(void);
	const char *(*version)(void);  /* sys.version of the running interpreter */
	/* opname[op] for op in 0..255 (NULL for an unused number), valid after init */
	const char *const *(*opnames)(void);
	/* the names in the builtins module, sorted by strcmp, valid after init */
	const char *const *(*builtins)(size_t *n);
	/* sys.stdlib_module_names, sorted by strcmp, valid after init */
	const char *const *(*stdlib_modules)(size_t *n);

	/* Compile u->src as u->path and fill u->codes, u->ncodes, u->module_code (its release
	 * deferred to u's arena). On a compile error returns -1 with u->error ("Python 3.X cannot
	 * compile this file (SyntaxError: ...)") and its position set; nothing is executed. */
	int (*compile)(struct unit *u);
	/* Compile and drop (what bench_frontend times). Returns 0 / -1. */
	int (*compile_only)(const char *src, const char *path);
	/* The positions of the first n code units of a code object (bridge.h bridge_positions). */
	size_t (*positions)(const void *code, int *out, size_t n);
	/* bridge_eval_call (bridge.h): its contract, with the unit's arena for the strings. */
	int (*eval_call)(struct arena *a, const char *module, const char *attrs, const char *args, const char **err);

	/* tomllib.loads(text) as JSON (malloc'd): tables and arrays as objects and arrays, strings,
	 * booleans and 64-bit integers as themselves, any other value as {"\u0001type": "<its type
	 * name>"}. NULL
	 * with *err malloc'd ("invalid TOML: ...") on an error. */
	char *(*toml)(const char *buf, size_t len, char **err);

	/* around fork() while the interpreter runs (PyOS_BeforeFork and friends) */
	void (*before_fork)(void);
	void (*after_fork_parent)(void);
	void (*after_fork_child)(void);

	/* `spipfix profile` (bridge_measure.c). profile_init runs the helpers once (sys.path with
	 * the version's site-packages); 0 / -1 with *err malloc'd. */
	int (*profile_init)(char **err);
	/* The folders of package `name` (several for a namespace package) or its one .py file, on
	 * the version's sys.path: 1 found (*roots malloc'd array of malloc'd strings), 0 not found,
	 * -1 error (*err malloc'd). */
	int (*profile_locate)(const char *name, char ***roots, size_t *nroots, char **err);
	/* Measure one file. Returns 0, or -1 with *err malloc'd ("cannot be compiled (SyntaxError:
	 * ...)", "cannot be measured (...)"). */
	int (*profile_measure)(const char *buf, size_t len, const char *path, struct pyrt_measures *m, char **err);
};

/* The module's one exported symbol. */
typedef const struct pyrt_ops *(*pyrt_entry)(void);
#define PYRT_ENTRY "spipfix_pyrt"

#endif
