/* Nested function-likes, shared by SPF101 and SPF102: a def or lambda whose scope parent is
 * function-like, matched to exactly one code object whose facts agree with the tree. */
#ifndef SPIPFIX_NESTED_H
#define SPIPFIX_NESTED_H

#include "bridge.h"

struct nested {
	TSNode node;          /* function_definition or lambda */
	TSNode parent;        /* its scope parent (def, lambda or comprehension) */
	TSNode outer_def;     /* nearest enclosing def, or null (lambda in lambda at best) */
	const char *qualname;
	struct code_info *code;
};

/* Resolve a candidate node. Returns 1 with *out filled when the node is a nested function-like
 * proven by the bytecode, 0 when it is not nested or the proof failed (the reason goes to
 * --debug under `pass`), -1 on error. */
int nested_resolve(struct unit *u, const struct pass *pass, TSNode node, struct nested *out);

/* Name of a def, the assignment target of `name = lambda ...`, or "lambda" (arena string). */
const char *nested_short_name(struct unit *u, TSNode node);

/* SPF101's lift, shared with SPF102 (whose fix, for a closure-free function, is the same lift):
 * lift_new makes the finding data (f->data) from a resolved nested function; lift_check runs
 * the design's checks 2-7 and sets the applicability; lift_rewrite emits the edits. */
void *lift_new(struct unit *u, const struct nested *n);
int lift_check(struct unit *u, struct finding *f);
int lift_rewrite(struct unit *u, struct finding *f);

#endif
