/* [tool.spipfix] in pyproject.toml: what the file says, before the command line overrides it. */
#ifndef SPIPFIX_CONFIG_H
#define SPIPFIX_CONFIG_H

#include "check.h"

struct config {
	bool found;
	char *path, *dir;       /* absolute: the file, its folder (the project root) */
	bool has_select, has_exclude, has_pfi;
	struct strlist select, ignore, exclude, extend_exclude; /* keep this order (config_free) */
	struct per_file_ignore *pfi;
	size_t npfi;
	int unsafe_fixes, respect_gitignore, force_exclude; /* -1 unset, else 0 / 1 */
	long long min_executions; /* min-executions: -1 unset */
	int include_tests;      /* -1 unset, else 0 / 1 */
	int line_length;        /* [tool.black] or [tool.ruff] line-length; 0 unset */
	char *lift_name;        /* lift-name template, or NULL */
	int target_minor;       /* target-version = "py3X": X; 0 unset */
	/* [project] requires-python of the nearest pyproject.toml up to the one in use (NULL when
	 * none), the file it is in, and the minor version of its lower bound (0: none; 99: past
	 * Python 3) */
	char *requires_python, *requires_path;
	int requires_minor;
	size_t max_bytes;       /* max-file-size, 0 unset */
	unsigned max_nesting;   /* max-nesting, 0 unset */
};

/* The lower bound of a PEP 440 specifier set (">=3.12", ">=3.10,<4", "~=3.11.2", "==3.12.*"):
 * *minor receives the minor version of the highest lower bound when its major is 3 (0 when
 * there is none or it is below 3, 99 above 3). Returns 0, or -1 when spec is not a specifier. */
int config_requires_minor(const char *spec, int *minor);

/* Load explicit_path (which must have a [tool.spipfix] table), or else the nearest
 * pyproject.toml with a [tool.spipfix] table in start or a folder above it. Returns 0 (c->found
 * says whether one was found) or -1 after printing an error that names the file and key. */
int config_load(const char *explicit_path, const char *start, struct config *c);
void config_free(struct config *c);

#endif
