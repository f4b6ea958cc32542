/* File discovery: folders are walked for *.py files, skipping the exclude patterns (by default
 * the usual build, cache and virtualenv folders) and, inside a git work tree, what git ignores
 * (.gitignore, .git/info/exclude, core.excludesFile; matched by libgit2). Paths named explicitly
 * are analysed unless --force-exclude. Only regular files and folders: FIFOs, sockets and devices
 * are skipped in walks and refused when named (never opened), and symlinks inside folders are not
 * followed (no loop can trap the walk). */
#define _GNU_SOURCE
#include <errno.h>
#include <fnmatch.h>
#include <ftw.h>
#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"

/* Ruff's default exclusions, plus our own cache. */
const char *const default_excludes[] = {
	".bzr", ".direnv", ".eggs", ".git", ".git-rewrite", ".hg", ".ipynb_checkpoints", ".mypy_cache", ".nox",
	".pants.d", ".pyenv", ".pytest_cache", ".pytype", ".ruff_cache", ".spipfix_cache", ".svn", ".tox",
	".venv", ".vscode", "__pycache__", "__pypackages__", "_build", "buck-out", "build", "dist",
	"node_modules", "site-packages", "venv", NULL,
};

struct found {
	char *path;
	off_t size; /* from the walk's stat: the workers hand out large files first */
};

struct list {
	struct found *v;
	size_t n, cap;
	int errors;
};

static int push(struct list *l, const char *s, off_t size)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 256;
		struct found *nv = realloc(l->v, cap * sizeof *nv);
		if (!nv)
			return -1;
		l->v = nv;
		l->cap = cap;
	}
	if (!(l->v[l->n].path = strdup(s)))
		return -1;
	l->v[l->n].size = size;
	l->n++;
	return 0;
}

/* The part of abs below root ("" for root itself), or NULL when abs is not under root. */
static const char *below(const char *root, const char *abs)
{
	size_t n = strlen(root);
	if (n == 1 && root[0] == '/')
		return abs + 1;
	if (strncmp(abs, root, n) != 0 || (abs[n] != '/' && abs[n] != 0))
		return NULL;
	return abs[n] ? abs + n + 1 : abs + n;
}

static bool match_abs(const struct options *o, const char *pattern, const char *abs)
{
	if (!strncmp(pattern, "./", 2))
		pattern += 2;
	if (!strchr(pattern, '/')) {
		const char *base = strrchr(abs, '/');
		return fnmatch(pattern, base ? base + 1 : abs, FNM_PERIOD) == 0;
	}
	if (pattern[0] == '/')
		return fnmatch(pattern, abs, 0) == 0;
	const char *rel = o->root ? below(o->root, abs) : NULL;
	return rel && fnmatch(pattern, rel, 0) == 0;
}

bool path_pattern_matches(const struct options *o, const char *pattern, const char *path)
{
	char *abs = path_absolute(path);
	bool m = abs && match_abs(o, pattern, abs);
	free(abs);
	return m;
}

static bool excluded_abs(const struct options *o, const char *abs)
{
	if (o->exclude.v) {
		for (size_t i = 0; i < o->exclude.n; i++)
			if (match_abs(o, o->exclude.v[i], abs))
				return true;
	} else {
		for (const char *const *d = default_excludes; *d; d++)
			if (match_abs(o, *d, abs))
				return true;
	}
	for (size_t i = 0; i < o->extend_exclude.n; i++)
		if (match_abs(o, o->extend_exclude.v[i], abs))
			return true;
	return false;
}

bool path_excluded(const struct options *o, const char *path)
{
	char *abs = path_absolute(path);
	if (!abs)
		return false;
	/* the path itself or any folder above it, up to the root */
	bool ex = false;
	const char *stop = o->root && below(o->root, abs) ? o->root : "/";
	size_t stoplen = strlen(stop);
	for (;;) {
		if (strlen(abs) <= stoplen || (ex = excluded_abs(o, abs)))
			break;
		char *slash = strrchr(abs, '/');
		if (!slash || slash == abs)
			break;
		*slash = 0;
	}
	free(abs);
	return ex;
}

/* git ignore rules of the work tree holding a path (libgit2). */
struct gitinfo {
	git_repository *repo;
	char *workdir; /* absolute, no trailing slash */
};

static bool git_ignored(struct gitinfo *g, const char *abs, bool isdir)
{
	if (!g->repo)
		return false;
	const char *rel = below(g->workdir, abs);
	if (!rel || !*rel)
		return false;
	char buf[4096];
	snprintf(buf, sizeof buf, "%s%s", rel, isdir ? "/" : "");
	int ignored = 0;
	if (git_ignore_path_is_ignored(&ignored, g->repo, buf) < 0)
		return false;
	return ignored != 0;
}

static void git_open(struct gitinfo *g, const char *abs)
{
	static bool inited;
	if (!inited) {
		git_libgit2_init();
		inited = true;
	}
	memset(g, 0, sizeof *g);
	if (git_repository_open_ext(&g->repo, abs, 0, NULL) < 0 || git_repository_is_bare(g->repo)) {
		git_repository_free(g->repo);
		g->repo = NULL;
		git_error_clear();
		return;
	}
	g->workdir = path_absolute(git_repository_workdir(g->repo));
	if (!g->workdir) {
		git_repository_free(g->repo);
		g->repo = NULL;
	}
}

static void git_close(struct gitinfo *g)
{
	git_repository_free(g->repo);
	free(g->workdir);
	memset(g, 0, sizeof *g);
}

static bool is_venv(const char *path)
{
	char cfg[4096];
	snprintf(cfg, sizeof cfg, "%s/pyvenv.cfg", path);
	return access(cfg, F_OK) == 0;
}

/* nftw has no context pointer */
static struct walk {
	struct list *l;
	const struct options *o;
	struct gitinfo git;
	const char *arg;    /* the path as given */
	const char *argabs; /* its absolute form */
} walk;

static int visit(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	if (ftw->level == 0)
		return FTW_CONTINUE;
	const char *base = path + ftw->base;
	bool isdir = flag == FTW_D || flag == FTW_DNR;
	if (!isdir && flag != FTW_F)
		return FTW_CONTINUE;
	if (!isdir) {
		size_t n = strlen(base);
		if (n <= 3 || strcmp(base + n - 3, ".py") != 0)
			return FTW_CONTINUE;
		/* FIFOs, sockets and devices are never opened (a FIFO would block the run), as Ruff
		 * skips anything that is not a regular file */
		if (!S_ISREG(st->st_mode))
			return FTW_CONTINUE;
	}
	/* the absolute form of this entry: the argument's plus what nftw added */
	char abs[8192];
	const char *suffix = path + strlen(walk.arg);
	while (*suffix == '/')
		suffix++;
	snprintf(abs, sizeof abs, "%s/%s", strcmp(walk.argabs, "/") ? walk.argabs : "", suffix);
	/* version-control folders are never walked, whatever the exclude setting */
	bool vcs = isdir && (!strcmp(base, ".git") || !strcmp(base, ".hg") || !strcmp(base, ".svn"));
	if (vcs || excluded_abs(walk.o, abs) || (isdir && is_venv(path)) ||
	    (walk.o->respect_gitignore && git_ignored(&walk.git, abs, isdir)))
		return isdir ? FTW_SKIP_SUBTREE : FTW_CONTINUE;
	if (flag == FTW_DNR) {
		fprintf(stderr, "error: %s: cannot read folder: %s\n", path, strerror(errno ? errno : EACCES));
		walk.l->errors++;
		return FTW_CONTINUE;
	}
	if (!isdir && push(walk.l, path, st->st_size) < 0)
		return FTW_STOP;
	return FTW_CONTINUE;
}

static int cmp_found(const void *a, const void *b)
{
	return strcmp(((const struct found *)a)->path, ((const struct found *)b)->path);
}

/* Is an explicitly named path left out under --force-exclude? */
static bool force_excluded(const struct options *o, const char *path, bool isdir)
{
	if (path_excluded(o, path))
		return true;
	if (!o->respect_gitignore)
		return false;
	char *abs = path_absolute(path);
	if (!abs)
		return false;
	struct gitinfo g;
	git_open(&g, abs);
	bool ig = git_ignored(&g, abs, isdir);
	git_close(&g);
	free(abs);
	return ig;
}

char **discover(char *const *paths, int npaths, const struct options *o, size_t *nfiles, int *errors,
		off_t **sizes)
{
	struct list l = {0};
	for (int i = 0; i < npaths; i++) {
		struct stat st;
		if (stat(paths[i], &st) < 0) {
			fprintf(stderr, "error: %s: %s\n", paths[i], strerror(errno));
			l.errors++;
			continue;
		}
		bool isdir = S_ISDIR(st.st_mode);
		if (o->force_exclude && force_excluded(o, paths[i], isdir))
			continue;
		if (!isdir) {
			if (!S_ISREG(st.st_mode)) {
				fprintf(stderr, "error: %s: not a regular file (a FIFO, socket or device); skipped\n",
					paths[i]);
				l.errors++;
				continue;
			}
			/* a file named explicitly is analysed whatever its name */
			if (push(&l, paths[i], st.st_size) < 0)
				l.errors++;
			continue;
		}
		char *abs = path_absolute(paths[i]);
		if (!abs) {
			l.errors++;
			continue;
		}
		size_t from = l.n;
		walk = (struct walk){.l = &l, .o = o, .arg = paths[i], .argabs = abs};
		if (o->respect_gitignore)
			git_open(&walk.git, abs);
		/* FTW_PHYS: symlinks are not followed, so link loops cannot trap the walk */
		if (nftw(paths[i], visit, 64, FTW_PHYS | FTW_ACTIONRETVAL) < 0) {
			fprintf(stderr, "error: %s: %s\n", paths[i], strerror(errno));
			l.errors++;
		}
		git_close(&walk.git);
		free(abs);
		if (l.n - from > 1)
			qsort(l.v + from, l.n - from, sizeof *l.v, cmp_found);
	}
	char **v = malloc((l.n + 1) * sizeof *v);
	off_t *sz = sizes ? malloc((l.n + 1) * sizeof *sz) : NULL;
	if (!v || (sizes && !sz)) {
		for (size_t i = 0; i < l.n; i++)
			free(l.v[i].path);
		fputs("error: out of memory\n", stderr);
		l.errors++;
		l.n = 0;
		free(sz);
		sz = NULL;
	} else {
		for (size_t i = 0; i < l.n; i++) {
			v[i] = l.v[i].path;
			if (sz)
				sz[i] = l.v[i].size;
		}
	}
	free(l.v);
	if (sizes)
		*sizes = sz;
	*nfiles = l.n;
	*errors += l.errors;
	return v;
}

void files_free(char **files, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(files[i]);
	free(files);
}
