/* Thin helpers over tree-sitter for the Python grammar: parsing, node text, field access and
 * an iterative pre-order walk (no recursion, so deeply nested input cannot overflow the stack). */
#ifndef SPIPFIX_SYNTAX_H
#define SPIPFIX_SYNTAX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <tree_sitter/api.h>

const TSLanguage *syn_language(void);

/* Parse `len` bytes of UTF-8. Returns a new tree (free with ts_tree_delete) or NULL. */
TSTree *syn_parse(const char *src, size_t len);
/* The same, reusing `old` (the tree of the previous text, already told of every edit with
 * ts_tree_edit) for the parts that did not change. */
TSTree *syn_reparse(const char *src, size_t len, const TSTree *old);

/* First ERROR or MISSING node in pre-order, or a null node when the tree is clean. */
TSNode syn_first_error(TSNode root);

bool syn_is(TSNode n, const char *type);
TSNode syn_field(TSNode n, const char *field);
/* Compare the text of `n` in `src` with a NUL-terminated string. */
bool syn_text_eq(TSNode n, const char *src, const char *s);
size_t syn_len(TSNode n);

/* Pre-order walk over `root` and its descendants. The callback returns 1 to descend into the
 * node's children, 0 to skip them, -1 to stop the walk. Returns -1 when stopped, else 0. */
typedef int (*syn_visit_fn)(TSNode n, void *ctx);
int syn_walk(TSNode root, syn_visit_fn fn, void *ctx);

/* True for nodes that open a new Python scope: function_definition, lambda, class_definition,
 * and the comprehensions / generator expression. */
bool syn_is_scope(TSNode n);
bool syn_is_comprehension(TSNode n);
bool syn_is_function(TSNode n); /* function_definition or lambda */


/* The node names at the roots of a query's patterns (into names/lens, at most cap). Returns
 * their number, or -1 when some pattern's root is not a plain node name (a wildcard, a string):
 * then every node can start a match. */
int syn_query_roots(const char *query, const char **names, size_t *lens, size_t cap);
/* Mark in marks[symbol] every regular (named) symbol of the grammar called `name` (aliases
 * included: several symbols can share a name). Returns whether any was found. */
bool syn_symbols_named(bool *marks, size_t nmarks, const char *name, size_t len);

/* Queries from the .scm files in grammar/queries, embedded at build time. */
extern const char syn_query_nested_function[];
extern const char syn_query_constant_call[];

#endif
