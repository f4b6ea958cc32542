/* The unit: one input file with its tree, its compiled code objects, its findings and their
 * edits, all owned by one arena. */
#ifndef SPIPFIX_UNIT_H
#define SPIPFIX_UNIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "edit.h"
#include "syntax.h"

struct pass;
struct engine_config;
struct code_info;

enum applicability { FIX_NONE = 0, FIX_UNSAFE = 1, FIX_SAFE = 2 };

struct finding {
	const struct pass *pass;
	size_t start, end;      /* byte range reported (offsets in unit->src) */
	uint32_t row, col;      /* 0-based row, 0-based byte column of start */
	uint32_t end_row, end_col;
	const char *message;
	enum applicability applicability;
	const char *fix_title;  /* what the fix does, NULL without a fix */
	const char *reason;     /* why the fix is unsafe or missing, NULL when safe */
	struct edit *edits;
	size_t nedits;
	TSNode node;            /* the candidate node the finding is about */
	const struct code_info *code; /* the code object that proved it */
	void *data;             /* pass-private */
	const char *facts;      /* one line of bytecode facts, for --debug and JSON */
	const char *key;        /* with the code object, tells this finding apart across fix
				 * rounds (NULL: the code object alone does) */
	long long executions;   /* how often the finding's own instruction ran in the trace given
				 * to the engine; -1 when the file was not traced or none was given */
};

/* What kind of failure stopped an analysis. */
enum unit_error {
	UE_NONE,
	UE_INPUT,    /* the file itself: unreadable bytes, a syntax error, a construct of its own */
	UE_NEWER,    /* syntax the embedded Python does not know (a note, not the user's error) */
	UE_INTERNAL, /* out of memory, the embedded interpreter: not a property of the bytes */
};

/* A scope of the file (def, lambda, class, comprehension), in pre-order: what scope_parent and
 * scope_qualname answer from without walking up the tree. */
struct unit_scope {
	TSNode node;
	uint32_t start, end;       /* the node's byte range */
	uint32_t in_start, in_end; /* def/lambda/class: the body, the only part inside the scope;
				    * comprehension: its first iterable, the only part outside it
				    * (empty when there is none) */
	bool comprehension;
	int container;             /* index of the innermost scope node enclosing this one, -1 */
	const char *qualname;      /* memo of scope_qualname */
};

/* An identifier of the file (unit_identifiers): its text and node, and whether it names a
 * variable (a use, as scope_each_use counts them) rather than an attribute (`obj.name`) or a
 * keyword (`f(name=...)`). */
struct unit_ident {
	const char *text;
	TSNode node;
	bool use;
};

struct unit {
	const char *path;       /* as given by the user */
	struct arena arena;
	const char *buf;        /* whole file as read (not owned) */
	size_t buflen;
	size_t bom;             /* 3 when the file starts with a UTF-8 BOM, else 0 */
	const char *src;        /* buf + bom: what is parsed and compiled */
	size_t len;
	const char *nl;         /* "\n" or "\r\n": the file's newline */
	TSTree *tree;
	TSNode root;
	const TSTree *reuse;    /* set before unit_analyse: the edited tree of the previous text,
				 * reparsed incrementally (not owned) */
	bool check_reuse;       /* tests: compare the incremental parse with a fresh one */
	void *module_code;      /* PyObject* module code object (new reference, released by arena) */
	struct code_info *codes;
	size_t ncodes;
	uint32_t *code_order;   /* indices of codes sorted by first line (bridge_find), on first use */
	struct finding *findings;
	size_t nfindings, capfindings;
	struct unit_ident *idents; /* the file's identifiers by text, built on first use */
	size_t nidents;
	unsigned ident_probes;  /* unit_has_identifier calls answered by a scan of the text */
	struct module_memo *module_memo; /* module.c's tables of the module, made on first use */
	TSNode *statements;     /* the module's top-level named nodes, built on first use */
	uint32_t nstatements;
	bool globals_known, has_global_stmt;
	const void *cand_query; /* TSQuery whose @candidate captures are in cands */
	TSNode *cands;
	size_t ncands;
	/* built by one walk of the tree before the passes run (unit_index) */
	struct unit_scope *scopes;
	size_t nscopes;
	TSNode *roots[16];      /* per compiled query (unit.c's query table): nodes that can start
				 * a match, in pre-order */
	size_t nroots[16];
	uint32_t *line_starts;  /* byte offset of each line, built on first use */
	size_t nlines;
	struct reserved_names *reserved; /* module-level names chosen by rewrites in this unit
				 * (a uthash set in the arena), NULL until the first */
	const char *debug;      /* pass code whose details go to stderr, or NULL */
	const struct engine_config *config; /* the settings of the analysis (engine.h), or NULL */
	void *pass_state;       /* the running pass's own memo (arena memory), NULL at its start */
	bool unanalysed;        /* no rule runs on the file (test code by default): its text was
				 * checked, nothing was parsed or compiled, no finding */
	/* CPython's compile of the file (module_code, codes), made when a pass first asks for a code
	 * object (bridge_need_code): a file where no rule finds a candidate is never compiled.
	 * 0 not asked yet, 1 compiled, -1 the compile failed (error set) */
	signed char compiled;
	bool tab_dependent;     /* the text stage saw indentation CPython refuses (TabError) */
	/* the reason the unit could not be analysed (set by the failing stage) */
	const char *error;
	enum unit_error error_kind;
	uint32_t error_row, error_col; /* 0-based, when the error has a position */
	bool error_has_pos;
};

/* Load src (not copied; must outlive the unit). Returns 0. */
int unit_init(struct unit *u, const char *path, const char *buf, size_t buflen);
void unit_free(struct unit *u);

/* The stages engine_analyse (engine.h) runs, in this order; each returns 0, or -1 with u->error
 * and u->error_kind set. */
int unit_parse(struct unit *u);      /* tree-sitter, incremental from u->reuse when set */
int unit_check_tree(struct unit *u); /* no ERROR or MISSING node */
int unit_index(struct unit *u, const char *const *select); /* scopes, query roots: one walk */
int unit_run_passes(struct unit *u, const char *const *select); /* find, check, rewrite */
/* Drop the findings a `# noqa` / `# spipfix: ...` comment suppresses (passes/suppress.c). */
int unit_suppress(struct unit *u);
/* The edit that makes the `# noqa` comment of the line holding byte offset `at` name the rule
 * codes codes[0, ncodes), as `--add-noqa` and an editor's "disable for this line" write it
 * (passes/suppress.c): the codes merged into an existing `# noqa: ...` list (sorted, which keeps
 * the rest of the comment), else `  # noqa: CODES` after the line's code and comment. Returns 1
 * with *out set (its text in u's arena), 0 when a `# noqa` of the line already covers them, -1
 * with *why set when no comment can go there (the line ends inside a string literal or in a
 * backslash continuation). */
int unit_noqa_edit(struct unit *u, size_t at, const char *const *codes, size_t ncodes, struct edit *out,
		   const char **why);

/* Is the pass chosen by a NULL-terminated list of codes, prefixes, names or ALL (NULL: all)? */
bool unit_selected(const struct pass *p, const char *const *select);

struct finding *unit_add_finding(struct unit *u, const struct pass *p, TSNode at);
/* 0-based (row, byte col) of a byte offset in unit->src. */
void unit_position(const struct unit *u, size_t off, uint32_t *row, uint32_t *col);
/* The innermost scope node whose own code holds `n` (a node of u's tree), answered from the
 * unit's scope table. Returns false when the table cannot tell (the caller walks up the tree
 * instead). */
bool unit_scope_parent(const struct unit *u, TSNode n, TSNode *out);
/* Index in u->scopes of the scope node n, or -1. */
int unit_scope_index(const struct unit *u, TSNode n);
/* Does the file contain any `global` statement? (computed once) */
bool unit_has_global_statement(struct unit *u);
/* Is `name` the text of any identifier in the file? */
bool unit_has_identifier(struct unit *u, const char *name);
/* The identifiers of the file whose text is `name` and that start in [from, to), in source
 * order, from a table made in one walk on first use: *first and the count (0 and NULL when
 * none, or -1 when the table cannot be made: the caller walks the tree). */
long unit_identifiers(struct unit *u, const char *name, uint32_t from, uint32_t to, const struct unit_ident **first);
/* A module-level name starting from `base` that no identifier of the file, no builtin and no
 * earlier reservation uses: base, base_2, base_3, ... Returns an arena string or NULL. */
const char *unit_reserve_name(struct unit *u, const char *base);
/* Start of the line holding byte offset off, and the end of that line (past its newline), from
 * the line table (no scan of the line). */
size_t unit_line_start(const struct unit *u, size_t off);
size_t unit_line_end(const struct unit *u, size_t off);
/* The module's top-level named nodes (statements and comments) in source order, built once:
 * ts_node_named_child(root, i) walks the children from the first each time, so a loop over it
 * costs the square of the module's length. Sets *n; NULL (and *n = 0) when out of memory. */
const TSNode *unit_statements(struct unit *u, uint32_t *n);
/* Index in unit_statements of the first one starting at or after byte off, or the count. */
uint32_t unit_statement_from(struct unit *u, size_t off);
/* Index in unit_statements of the first one whose last row is row (0-based) or later. */
uint32_t unit_statement_reaching_row(struct unit *u, uint32_t row);
/* Print to stderr when --debug names this pass. */
void unit_debug(const struct unit *u, const struct pass *p, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
