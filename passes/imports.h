/* Where a new `import M` goes so that isort (profile black) would leave it there: in the
 * standard-library section of the module's leading imports, among the straight `import` lines
 * in alphabetical order, before the `from` imports of the section; a new section (after the
 * `from __future__` imports, before the third-party ones) when the module imports nothing of
 * the standard library; after the docstring when it imports nothing at all. */
#ifndef SPIPFIX_IMPORTS_H
#define SPIPFIX_IMPORTS_H

#include <stddef.h>

#include "unit.h"

/* The edits that insert `import <module>` (a standard-library module) with the blank lines
 * isort and black want around it. Writes at most 4 edits to out[] and returns their number;
 * identical for every fix that adds the same import, so a fix engine applies them once. */
size_t imports_insert(struct unit *u, const char *module, struct edit *out);

/* Is `name` the top-level name of a standard-library module (sys.stdlib_module_names of the
 * embedded interpreter)? */
bool imports_is_stdlib(const char *name);

#endif
