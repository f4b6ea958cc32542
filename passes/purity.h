/* The vetted allow-list of pure callables, shared by SPF201 (hoist a constant call) and SPF301
 * (memoize a pure function). One table, one comment per entry saying why it is pure and what it
 * returns. */
#ifndef SPIPFIX_PURITY_H
#define SPIPFIX_PURITY_H

#include <stdbool.h>
#include <stddef.h>

enum {
	PURE_CALL = 1,      /* no side effect, same result for the same (immutable) arguments */
	PURE_IMMUTABLE = 2, /* the result is immutable (and hashable for hashable arguments) */
	PURE_HOIST = 4,     /* SPF201 may hoist a constant call to a module constant */
	PURE_CHEAP = 8,     /* a call costs about as much as a global load (under ~40 ns): hoisting
			     * it saves nothing a reader would trade for a module constant, so SPF201
			     * does not report it */
};

struct pure_callable {
	const char *qualified; /* "re.compile", "builtins.frozenset", "math.sqrt", and methods of
				* values of a known type: "re.Pattern.sub", "struct.Struct.pack" */
	int flags;
};

/* The entry for a fully qualified callable, or NULL when it is not vetted. */
const struct pure_callable *purity_lookup(const char *qualified);

/* Is name[0, len) the last component of a callable SPF201 reports (PURE_HOIST, not PURE_CHEAP):
 * "compile" for "re.compile"? A call whose callee ends in another name is never one. */
bool purity_hoistable_name(const char *name, size_t len);
/* The whole table, NULL-terminated (for documentation and tests). */
extern const struct pure_callable purity_table[];

#endif
