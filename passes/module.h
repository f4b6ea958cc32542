/* Module-level facts shared by the passes that add module-level code: what a global name is
 * bound to (an import, a builtin, something else), and where new module-level statements go. */
#ifndef SPIPFIX_MODULE_H
#define SPIPFIX_MODULE_H

#include <stdbool.h>

#include "unit.h"

enum global_kind {
	GK_IMPORT,      /* bound once, by an unconditional top-level import */
	GK_BUILTIN,     /* never bound in the module; a builtin */
	GK_CONSTANT,    /* bound once, by a top-level `NAME = <constant expression>` */
	GK_OTHER,       /* bound once by something else (def, class, assignment, ...) */
	GK_UNBOUND,     /* neither bound in the module nor a builtin */
	GK_REBOUND,     /* bound (or deleted) more than once */
	GK_CONDITIONAL, /* bound once, inside a compound statement or by a non top-level import */
	GK_STAR,        /* the module does `from ... import *`: any name may be rebound */
};

struct global_ref {
	enum global_kind kind;
	/* GK_IMPORT: the name stands for `module` (+ "." + `attr` when it came from a from-import
	 * or names a submodule's parent); qualified = module[.attr] */
	const char *module;
	const char *qualified;
	TSNode stmt;            /* the binding top-level statement (GK_IMPORT, GK_CONSTANT, GK_OTHER) */
	TSNode value;           /* GK_CONSTANT: the assigned expression */
	int bindings;           /* module-level stores and global stores of the name */
};

/* Resolve a global name of the module, on the bytecode (how often it is stored) and the tree
 * (which statement stores it). Returns 0 / -1 (allocation failure). */
int module_resolve(struct unit *u, const char *name, struct global_ref *out);

/* Is `n` a constant expression CPython folds to one constant: a literal number, string (no
 * interpolation), bytes, True/False/None/..., a tuple of constants, or a unary/binary
 * operation on constants? The bytecode has the last word (LOAD_CONST). */
bool module_is_constant_expr(const struct unit *u, TSNode n);

/* Byte offset of the line start right after the run of top-level import statements that holds
 * `import_stmt` (comments between them belong to the run). */
size_t module_after_import_block(const struct unit *u, TSNode import_stmt);

/* Byte offset of the line start after the module docstring and the `from __future__` imports
 * (and, when with_imports, the run of plain imports that directly follows them). When the
 * module starts with none of these: the start of the line of its first statement, so that the
 * comments at the top (shebang, coding cookie) stay first. */
size_t module_head_end(const struct unit *u, bool with_imports);

/* When `at` is the start of the line of a top-level def or class: the two blank lines that
 * keep new module-level lines apart from it (an edit at `at` after every other insertion there,
 * identical for every fix, so applied once). Returns false when none is needed. */
bool module_separator(struct unit *u, size_t at, struct edit *out);

/* The text to insert at `at` so that `line` (without newline) becomes a line of its own:
 * adds the file's newline before it when `at` is the end of a file that lacks a final newline.
 * Returns an arena string. */
const char *module_line_text(struct unit *u, size_t at, const char *line);

/* A name or an attribute chain of names (`re`, `os.path.join`): the root identifier node and
 * the dotted rest ("" for a bare name, an arena string). False for anything else. */
bool module_name_chain(struct unit *u, TSNode n, TSNode *root, const char **rest);

#endif
