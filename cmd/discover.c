#define _GNU_SOURCE
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"

struct list {
	char **v;
	size_t n, cap;
	int errors;
};

static struct list *walk_list; /* nftw has no context pointer */

static int push(struct list *l, const char *s)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 256;
		char **nv = realloc(l->v, cap * sizeof *nv);
		if (!nv)
			return -1;
		l->v = nv;
		l->cap = cap;
	}
	if (!(l->v[l->n] = strdup(s)))
		return -1;
	l->n++;
	return 0;
}

static bool skipped_dir(const char *path, const char *base)
{
	static const char *const names[] = {".git", ".hg", ".svn", "__pycache__", "build", "dist",
					    "site-packages", "node_modules", ".tox", ".nox", ".venv",
					    ".mypy_cache", ".pytest_cache", ".spipfix_cache"};
	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		if (!strcmp(base, names[i]))
			return true;
	/* a virtualenv: a folder holding pyvenv.cfg */
	char cfg[4096];
	snprintf(cfg, sizeof cfg, "%s/pyvenv.cfg", path);
	return access(cfg, F_OK) == 0;
}

static int visit(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	const char *base = path + ftw->base;
	if (flag == FTW_D && ftw->level > 0 && skipped_dir(path, base))
		return FTW_SKIP_SUBTREE;
	if (flag == FTW_DNR) {
		fprintf(stderr, "error: %s: cannot read folder: %s\n", path, strerror(errno ? errno : EACCES));
		walk_list->errors++;
		return FTW_CONTINUE;
	}
	if (flag == FTW_F) {
		size_t n = strlen(base);
		if (n > 3 && !strcmp(base + n - 3, ".py") && push(walk_list, path) < 0)
			return FTW_STOP;
	}
	return FTW_CONTINUE;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

char **discover(char *const *paths, int npaths, size_t *nfiles, int *errors)
{
	struct list l = {0};
	for (int i = 0; i < npaths; i++) {
		struct stat st;
		if (stat(paths[i], &st) < 0) {
			fprintf(stderr, "error: %s: %s\n", paths[i], strerror(errno));
			l.errors++;
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			size_t from = l.n;
			walk_list = &l;
			/* FTW_PHYS: symlinks are not followed, so link loops cannot trap the walk */
			if (nftw(paths[i], visit, 64, FTW_PHYS | FTW_ACTIONRETVAL) < 0) {
				fprintf(stderr, "error: %s: %s\n", paths[i], strerror(errno));
				l.errors++;
			}
			if (l.n - from > 1)
				qsort(l.v + from, l.n - from, sizeof *l.v, cmp_str);
		} else {
			/* a file named explicitly is analysed whatever its name */
			if (push(&l, paths[i]) < 0)
				l.errors++;
		}
	}
	*nfiles = l.n;
	*errors += l.errors;
	return l.v;
}

void files_free(char **files, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(files[i]);
	free(files);
}
