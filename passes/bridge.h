/* The CPython bridge: compiles a unit with the embedded interpreter (never runs it) and indexes
 * its code objects by (qualified name, first line), with the bytecode facts the passes need. */
#ifndef SPIPFIX_BRIDGE_H
#define SPIPFIX_BRIDGE_H

#include <stdbool.h>
#include <stddef.h>

#include "unit.h"

struct bridge_globals;

enum code_kind { CK_MODULE, CK_CLASS, CK_FUNCTION, CK_LAMBDA, CK_COMPREHENSION };

/* One decoded instruction (CACHE entries skipped, EXTENDED_ARG folded in). */
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

/* Initialise the embedded interpreter, isolated and without `site`. Returns 0 / -1. */
int bridge_init(void);
void bridge_fini(void);

/* Compile u->src and fill u->codes. On a compile error returns -1 with u->error (and its
 * position) set; nothing is executed. */
int bridge_compile(struct unit *u);

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

/* Is `name` an attribute of the embedded interpreter's builtins module? */
bool bridge_is_builtin(const char *name);

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

/* Opcode classification used by the passes. */
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
