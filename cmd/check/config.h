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
	size_t max_bytes;       /* max-file-size, 0 unset */
	unsigned max_nesting;   /* max-nesting, 0 unset */
};

/* Load explicit_path (which must have a [tool.spipfix] table), or else the nearest
 * pyproject.toml with a [tool.spipfix] table in start or a folder above it. Returns 0 (c->found
 * says whether one was found) or -1 after printing an error that names the file and key. */
int config_load(const char *explicit_path, const char *start, struct config *c);
void config_free(struct config *c);

#endif
