/* Scope helpers over the tree: which scope evaluates a node, CPython's qualified names, the
 * names a function binds, and where a name is used. */
#ifndef SPIPFIX_SCOPE_H
#define SPIPFIX_SCOPE_H

#include <stdbool.h>

#include "unit.h"

/* The scope node (def, lambda, class, comprehension) that evaluates `n`, or a null node for the
 * module. Defaults, annotations, decorators, class bases and a comprehension's first iterable
 * belong to the enclosing scope, as in CPython. */
TSNode scope_parent(const struct unit *u, TSNode n);
/* The same answer found by walking up the tree (what scope_parent falls back to). */
TSNode scope_parent_walk(TSNode n);

/* True when code directly inside scope `s` runs in a function frame: a def, a lambda, or a
 * comprehension whose enclosing scopes reach a def/lambda before a class or the module. */
bool scope_is_function_like(const struct unit *u, TSNode s);

/* The nearest enclosing def (function_definition), or a null node. */
TSNode scope_enclosing_def(const struct unit *u, TSNode n);

/* CPython's __qualname__ for a def, lambda, class or comprehension node (arena string). */
const char *scope_qualname(struct unit *u, TSNode n);

/* The line CPython records as co_firstlineno (1-based): the first decorator's line for a
 * decorated def, else the node's own line. */
int scope_firstlineno(TSNode n);

/* The statement node that holds a def, including its decorators (decorated_definition). */
TSNode scope_def_statement(TSNode def);

/* The top-level statement (child of module) that contains n. */
TSNode scope_toplevel_statement(TSNode n);

/* Does the own scope of `fn` (not nested scopes) call locals(), vars(), exec() or eval() by
 * name? Returns the name found, or NULL. */
const char *scope_dynamic_call(struct unit *u, TSNode fn);

/* Call fn(node, ctx) for every identifier node under `root` whose text is `name`. */
void scope_each_use(struct unit *u, TSNode root, const char *name, void (*fn)(TSNode, void *), void *ctx);

/* How many items iterating over `it` yields, when the tree says: range() of integer constants,
 * or a tuple/list/set display without unpacking. -1 when unknown. */
long long scope_trip_count(const struct unit *u, TSNode it);

/* How many times one call of the function `outer` (a def or lambda node) runs the code at
 * `node`: the product of the trip counts of the loops and comprehension clauses around it up to
 * `outer`, or -1 when one of them is not known (a while loop, an if clause, an iterable that is
 * not a constant range or display). */
long long scope_runs_per_call(const struct unit *u, TSNode node, TSNode outer);

#endif
