/* Test code: where spipfix reports nothing unless asked (the include-tests setting). Tests
 * introspect names, frames and line numbers (`__name__`, `co_name`, `inspect.stack()`, settrace
 * offsets) that a lift changes, and they are not where a program spends its time. */
#ifndef SPIPFIX_TESTCODE_H
#define SPIPFIX_TESTCODE_H

#include <stdbool.h>

/* Is the file test code by its path: a folder `tests` or `test` on it, or a file named
 * `test_*.py`, `*_test.py` or `conftest.py`? */
bool testcode_path(const char *path);

#endif
