#include "testcode.h"

#include <string.h>

bool testcode_path(const char *path)
{
	if (!path)
		return false;
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	size_t n = strlen(base);
	if (!strcmp(base, "conftest.py") || (n > 8 && !strncmp(base, "test_", 5) && !strcmp(base + n - 3, ".py")) ||
	    (n > 8 && !strcmp(base + n - 8, "_test.py")))
		return true;
	/* a folder component `test` or `tests` */
	for (const char *p = path; p < base;) {
		const char *slash = strchr(p, '/');
		size_t len = (size_t)(slash - p);
		if ((len == 4 && !strncmp(p, "test", 4)) || (len == 5 && !strncmp(p, "tests", 5)))
			return true;
		p = slash + 1;
	}
	return false;
}
