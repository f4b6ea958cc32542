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
	GK_RELATIVE,    /* bound once, by a top-level relative import (`from .m import x`): a
			 * module of the package, not one whose callables are vetted */
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

/* The type of the module constant `ref` (GK_OTHER: bound once by `NAME = callee(...)`) when
 * its callee is the module's own import of `re.compile` ("re.Pattern") or `struct.Struct`
 * ("struct.Struct"), whatever the arguments (the call returns that type or raises, and then
 * the module does not import); NULL otherwise. */
const char *module_constant_type(struct unit *u, const struct global_ref *ref);

/* Does the module patch names at run time: mock's `patch`/`patch.object` (a `mock` module and
 * a `patch` name), or pytest's `monkeypatch`? A call hoisted to import time is no longer
 * reached by such a patch. */
bool module_patches(struct unit *u);

/* Does a string literal of the module name `name` as a whole, or as the last part of a dotted
 * path ("ord", "re.compile", ".ord")? Code that names a callee in a string may look it up or
 * replace it (`patch(__name__ + ".ord")`, `getattr(builtins, "ord")`). */
bool module_names_in_string(struct unit *u, const char *name);

/* A module-level statement after byte offset `after` that rebinds or deletes module names in
 * bulk: `from M import *`, or a `del` (of the module's helpers, say). Returns its description
 * (arena string) or NULL. A new module-level name added before it would survive the `del`, or
 * be replaced by the star import. */
const char *module_bulk_rebind_after(struct unit *u, size_t after);

/* For a name the module binds more than once or conditionally: what the first import statement
 * at module level (inside compound statements too) that binds it stands for ("re.compile" for
 * `from re import compile`), or NULL when no import binds it. */
const char *module_import_guess(struct unit *u, const char *name);

/* The project's line length (engine_config.line_length, 88 when unset). */
int module_line_length(const struct unit *u);

/* The width of s[0, n) in characters (UTF-8 sequences count one). */
size_t module_width(const char *s, size_t n);

/* `NAME = callee(args)` as black writes it, with the file's newline after each line: on one
 * line when it fits the line length, else split after the opening bracket (the arguments on
 * one indented line, or one per line with a trailing comma when that does not fit either, or
 * when the source had a magic trailing comma). `args` is the call's argument_list. Returns an
 * arena string. */
const char *module_assignment_text(struct unit *u, const char *name, const char *callee, TSNode args);

/* The edits that insert module-level `text` (whole lines) at line start `at`, as PEP 8 and
 * black/isort want the lines around it: a blank line before it when it follows the imports or
 * the docstring, two before a def or class that follows. Writes at most 3 edits to out[] and
 * returns their number; edits shared by every insertion at `at` are identical, so a fix engine
 * applies them once. */
size_t module_insertion(struct unit *u, size_t at, const char *text, struct edit *out);

/* When `node` lies in a simple statement that spans several lines and replacing src[rs, re)
 * with `replacement` makes it fit on one line, as black would then write it: sets *start and *end to
 * the statement's range and returns its joined text (an arena string). NULL when the statement
 * is on one line, holds a comment, a multi-line string or a backslash continuation outside the
 * replaced range, ends a bracket in a magic trailing comma, or does not fit. */
const char *module_joined_statement(struct unit *u, TSNode node, size_t rs, size_t re, const char *replacement,
				    size_t *start, size_t *end);

/* The source text of `n` for a message: whitespace runs (newlines included) shown as one space,
 * and cut with "…" after about `max` characters, at a boundary between names (an arena string). */
const char *module_excerpt(struct unit *u, TSNode n, size_t max);
/* The same for a string of text. */
const char *module_excerpt_text(struct unit *u, const char *s, size_t n, size_t max);

#endif
