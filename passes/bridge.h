/* The CPython bridge: compiles a unit with the CPython of the target version (never runs it) and
 * indexes its code objects by (qualified name, first line), with the bytecode facts the passes
 * need. The facts come through the Python boundary (pyrt.h) from the module of that version;
 * this side knows no opcode numbers, only the names the version gives them. */
#ifndef SPIPFIX_BRIDGE_H
#define SPIPFIX_BRIDGE_H

#include <stdbool.h>
#include <stddef.h>

#include "pyrt.h"
#include "unit.h"

struct bridge_globals;

/* CK_ANNOTATION: an annotation scope of PEP 695 (3.12+), `<generic parameters of X>`: the
 * function that builds a generic def or class, called once where the statement runs. */
enum code_kind { CK_MODULE, CK_CLASS, CK_FUNCTION, CK_LAMBDA, CK_COMPREHENSION, CK_ANNOTATION };

/* One decoded instruction (CACHE entries skipped, EXTENDED_ARG folded in). `op` is the
 * version's own opcode number (bridge_opname names it); for the instructions that name
 * something, `arg` is the index into the names (co_names for LOAD_GLOBAL, LOAD_ATTR, ...:
 * without the flag bits 3.11+ keep in the low bits) or into the locals (co_localsplusnames).
 * 3.13's two-local instructions (LOAD_FAST_LOAD_FAST, STORE_FAST_STORE_FAST,
 * STORE_FAST_LOAD_FAST) appear as their two halves, LOAD_FAST / STORE_FAST, at one offset. */
struct insn {
	int offset;         /* byte offset in co_code */
	int op, arg;
	int line, end_line; /* 1-based (0 on a module's RESUME); -1 when unknown */
	int col, end_col;   /* 0-based UTF-8 byte columns; -1 when unknown */
};

struct code_info {
	void *code;              /* PyCodeObject*, borrowed: the module code keeps it alive */
	struct code_info *parent;
	const char *qualname, *name;
	int firstlineno, flags;
	enum code_kind kind;
	int nfreevars;
	const char *freevars;    /* comma-separated co_freevars, "" when empty */
	/* co_names and co_localsplusnames as C strings (borrowed from the code object; "" for a
	 * name that has no UTF-8 form); local_kinds[i]: 1 local or cell, 2 free, 0 a hidden local
	 * (3.12+: an inlined comprehension's own variable, not visible to nested scopes) */
	const char *const *names;
	int nnames;
	const char *const *locals;
	const unsigned char *local_kinds;
	int nlocals;
	int star_at;             /* index into insns of the `from m import *` (IMPORT_STAR, 3.12+:
				  * CALL_INTRINSIC_1 INTRINSIC_IMPORT_STAR), -1 when none */
	struct insn *insns;
	size_t ninsns;
	/* the site in the parent that builds a function from this code object */
	int site;                /* index into parent->insns of MAKE_FUNCTION, -1 if none */
	int make_flags;          /* MAKE_FUNCTION oparg: 1 defaults, 2 kwdefaults, 4 annotations, 8 closure */
	bool site_in_loop;       /* MAKE_FUNCTION lies inside a backward jump's range */
	int site_line, site_col; /* position of the LOAD_CONST of this code object */
	int matched;             /* number of tree candidates that matched it */
	/* the module code only: names bound at module level, built by the first
	 * bridge_global_bindings (NULL until then) */
	struct bridge_globals *globals;
};

/* ---- the target version ------------------------------------------------------------------- */

/* A CPython version this build has a module for (the generated pyversions.c). */
struct bridge_build {
	int minor;               /* 3.minor; 0 ends the table */
	const char *full;        /* "3.12.1" */
	const char *interpreter; /* its python3.X, e.g. /usr/bin/python3.11 */
};
extern const struct bridge_build bridge_builds[];

/* The versions spipfix knows (py311 .. py313), whether built or not. */
#define BRIDGE_MINOR_OLDEST 11
#define BRIDGE_MINOR_NEWEST 13

/* "py312" -> 12; -1 when s names no known version. */
int bridge_parse_version(const char *s);
/* The build entry of 3.minor, or NULL when this build has none. */
const struct bridge_build *bridge_built(int minor);
/* The version used when nothing names one: $SPIPFIX_TARGET_VERSION when set (CI runs every test
 * under each version with it), else py311 (Debian's system Python and the oldest supported, as
 * Ruff defaults to its oldest) when built, else the oldest built. */
int bridge_default_minor(void);
/* "py311, py312" (static buffer): the built versions, for messages. */
const char *bridge_built_list(void);
/* Make 3.minor the version of this process: every later bridge_* call uses its CPython.
 * Returns 0, or -1 with a message on stderr: not a built version, or another version's
 * interpreter already runs in this process (one per process; see pyrt.h). */
int bridge_select(int minor);
/* The selected version (the default when none was), and its name "py311". */
int bridge_target(void);
const char *bridge_target_name(void);
/* Is the selected version's interpreter loaded into this process (by bridge_init)? */
bool bridge_loaded(void);

/* Load the selected version's module and start its interpreter, isolated and without `site`.
 * Returns 0 / -1 (a message on stderr). */
int bridge_init(void);
void bridge_fini(void);
/* The running interpreter's sys.version ("" before bridge_init). */
const char *bridge_python_version(void);
/* Does the target version compile list, set and dict comprehensions inline (PEP 709, 3.12+)?
 * Then they have no code object and no qualname component of their own. */
bool bridge_inlines_comprehensions(void);

/* fork() while the interpreter may run: PyOS_BeforeFork and friends when it does, else nothing. */
void bridge_before_fork(void);
void bridge_after_fork_parent(void);
void bridge_after_fork_child(void);

/* tomllib.loads of buf as JSON (pyrt.h toml): malloc'd, or NULL with *err malloc'd. */
char *bridge_toml(const char *buf, size_t len, char **err);

/* dlopen (RTLD_NOW | RTLD_GLOBAL) the module `file` from the program's folder, its
 * ../lib/spipfix (installed) or the build tree; its path goes into path[cap]. NULL with a message
 * on stderr. */
void *bridge_dlopen(const char *file, char *path, size_t cap);

/* The boundary itself, for the clients that measure code objects (profile, bench_frontend):
 * NULL before bridge_init. */
const struct pyrt_ops *bridge_ops(void);

/* ---- code objects ----------------------------------------------------------------------------- */

/* Compile u->src and fill u->codes. On a compile error returns -1 with u->error (and its
 * position) set; nothing is executed. */
int bridge_compile(struct unit *u);

/* The code objects of u, compiled on first use (u->compiled): 0, or -1 when the file does not
 * compile (u->error set; the engine then fails the analysis). bridge_find, bridge_code_of and
 * bridge_global_bindings ask for them. */
int bridge_need_code(struct unit *u);

/* The source positions of the first n code units of a code object (PyCodeObject*), decoded from
 * its location table: out[4*i .. 4*i+3] = line, end line, column, end column of code unit i,
 * exactly what co_positions() yields with None as -1 (and -1 past the table's end). Returns the
 * number of code units of the code object. */
size_t bridge_positions(const void *code, int *out, size_t n);


/* The name an instruction refers to (LOAD_GLOBAL/NAME/ATTR/METHOD -> co_names, FAST/DEREF ops ->
 * locals-plus names), or NULL. Returned string lives in the unit's arena. */
const char *bridge_insn_name(struct unit *u, const struct code_info *ci, const struct insn *in);

/* Look up the code object for a candidate. Returns the single match or NULL (none or several). */
struct code_info *bridge_find(struct unit *u, const char *qualname, int firstlineno, int line, int col);

/* How `name` is bound in code object ci: 0 not at all, 1 local or cell, 2 free variable. */
int bridge_local_kind(const struct code_info *ci, const char *name);

/* Module-level bindings of `name`, from the bytecode: the number of STORE_NAME/DELETE_NAME in the
 * module code plus STORE_GLOBAL/DELETE_GLOBAL anywhere; -1 when the module does `import *`
 * (any name may be rebound). *first_line receives the line of the first module-level store. */
int bridge_global_bindings(struct unit *u, const char *name, int *first_line);

/* Is `name` an attribute of the target version's builtins module? */
bool bridge_is_builtin(const char *name);
/* Is `name` a top-level module of the target version's standard library
 * (sys.stdlib_module_names)? */
bool bridge_is_stdlib_module(const char *name);

/* The code object that executes code directly inside scope node `scope` (a def, lambda,
 * class or comprehension; a null node for the module), or NULL when it is not exactly one. */
struct code_info *bridge_code_of(struct unit *u, TSNode scope);

/* Evaluate `callee` + `args` once at analysis time, where callee is `module` (imported) followed
 * by the attribute path `attrs` (may be empty), and args is the source text of a call's argument
 * list, "(...)", made of constants only. Returns 0 when the call returns a hashable value, else
 * -1 with *err set to "ExcType: message" (arena string). Runs the callee: only for vetted
 * allow-listed callables. */
int bridge_eval_call(struct unit *u, const char *module, const char *attrs, const char *args, const char **err);

/* Instructions of ci positioned inside [start, end) of the source (1-based lines, byte
 * columns), in order: iterate with i = 0; (i = bridge_next_insn_in(ci, i, ...)) >= 0; i++. */
int bridge_next_insn_in(const struct code_info *ci, int from, TSPoint start, TSPoint end);

/* Does the instruction end where node n ends and start inside it? (A `with` block's __exit__
 * call ends where its last statement ends but starts at the `with`; a method call may start at
 * its attribute.) */
bool bridge_insn_ends_at(const struct insn *in, TSNode n);

/* Opcode classification used by the passes, by the names the target version gives its opcodes. */
bool bridge_op_reads_local(int op);  /* LOAD_FAST, LOAD_DEREF, LOAD_CLOSURE, STORE_FAST, ... */
bool bridge_op_is_global_load(int op);
bool bridge_op_is_call(int op);
const char *bridge_opname(int op);
bool bridge_op_is_const_load(int op);  /* LOAD_CONST */
bool bridge_op_is_local_load(int op);  /* LOAD_FAST, LOAD_DEREF, LOAD_CLOSURE, LOAD_CLASSDEREF */
bool bridge_op_is_attr_load(int op);   /* LOAD_ATTR, LOAD_METHOD */
bool bridge_op_is_call_setup(int op);  /* PUSH_NULL, KW_NAMES, PRECALL, CALL */
/* STORE_GLOBAL, DELETE_GLOBAL, STORE_ATTR, DELETE_ATTR, STORE_SUBSCR, DELETE_SUBSCR,
 * IMPORT_NAME, IMPORT_STAR, YIELD_VALUE, SETUP_WITH-like, ...: what a pure function never does;
 * returns the op's name or NULL. */
const char *bridge_op_impure(int op);

#endif
