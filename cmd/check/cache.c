/* The content cache: what one file printed and counted, keyed by a 128-bit XXH3 hash (libxxhash)
 * of its path, its bytes and the rules that ran on it, in one file per settings
 * (<cache dir>/<version>/<hash of version, build, mode, format, unsafe-fixes, cwd>.bin), so
 * that a run over an unchanged tree only reads and hashes. Entries of a path superseded by a
 * newer content are dropped when the file is written, and the files of other settings or builds
 * unused for 30 days are removed; a damaged cache file (its checksum differs, or it is cut
 * short) is ignored, so it can only cost a cold run, never change what is printed. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "bridge.h"
#include "cache.h"
#include "render.h"

#define MAGIC "SPFCACH2" /* then the size of struct totals, the entries, and an XXH3-64 of all that */

struct centry {
	uint8_t key[16];
	const char *path;
	uint32_t pathlen, outlen, errlen;
	struct totals t;
	const char *out, *err;
	bool used;     /* hit or stored in this run */
	bool owned;    /* path/out/err malloc'd (else they point into the loaded file) */
	bool occupied; /* slot of the hash table in use */
};

struct cache {
	char *dir, *file;
	uint64_t settings;
	char *loaded;          /* the cache file as read */
	struct centry *slots;  /* open addressing, power-of-two size */
	size_t nslots, n;
	bool dirty;
};

static uint64_t exe_identity(void)
{
	struct stat st;
	if (stat("/proc/self/exe", &st) < 0)
		return 0;
	return (uint64_t)st.st_size ^ ((uint64_t)st.st_mtim.tv_sec << 20) ^ (uint64_t)st.st_mtim.tv_nsec;
}

static size_t slot_of(const struct cache *c, const uint8_t key[16])
{
	uint64_t h;
	memcpy(&h, key, sizeof h);
	return (size_t)h & (c->nslots - 1);
}

static struct centry *find(struct cache *c, const uint8_t key[16])
{
	for (size_t i = slot_of(c, key);; i = (i + 1) & (c->nslots - 1)) {
		if (!c->slots[i].occupied || !memcmp(c->slots[i].key, key, 16))
			return &c->slots[i];
	}
}

static void entry_free(struct centry *e)
{
	if (e->owned) {
		free((char *)e->path);
		free((char *)e->out);
		free((char *)e->err);
	}
}

static int grow(struct cache *c)
{
	size_t old = c->nslots;
	struct centry *prev = c->slots;
	c->nslots = old ? old * 2 : 1024;
	c->slots = calloc(c->nslots, sizeof *c->slots);
	if (!c->slots) {
		c->slots = prev;
		c->nslots = old;
		return -1;
	}
	for (size_t i = 0; i < old; i++)
		if (prev[i].occupied)
			*find(c, prev[i].key) = prev[i];
	free(prev);
	return 0;
}

/* Insert (or replace) an entry; the table takes e's memory. Returns 0 / -1. */
static int insert(struct cache *c, const struct centry *e)
{
	if ((c->n + 1) * 2 > c->nslots && grow(c) < 0)
		return -1;
	struct centry *s = find(c, e->key);
	if (s->occupied)
		entry_free(s);
	else
		c->n++;
	*s = *e;
	s->occupied = true;
	return 0;
}

/* Parse the loaded file into the table; any inconsistency drops the rest. */
static void parse_loaded(struct cache *c, size_t len)
{
	const char *p = c->loaded, *end = c->loaded + len;
	uint32_t tsize;
	if (len < 12 || memcmp(p, MAGIC, 8) != 0)
		return;
	memcpy(&tsize, p + 8, 4);
	if (tsize != sizeof(struct totals))
		return;
	p += 12;
	while (end - p >= (ptrdiff_t)(16 + 12 + sizeof(struct totals))) {
		struct centry e = {0};
		memcpy(e.key, p, 16);
		memcpy(&e.pathlen, p + 16, 4);
		memcpy(&e.outlen, p + 20, 4);
		memcpy(&e.errlen, p + 24, 4);
		memcpy(&e.t, p + 28, sizeof e.t);
		p += 28 + sizeof e.t;
		if ((size_t)(end - p) < (size_t)e.pathlen + e.outlen + e.errlen)
			return;
		e.path = p;
		e.out = p + e.pathlen;
		e.err = e.out + e.outlen;
		p = e.err + e.errlen;
		if (insert(c, &e) < 0)
			return;
	}
}

struct cache *cache_open(const struct options *o)
{
	struct cache *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	const char *env = getenv("SPIPFIX_CACHE_DIR");
	const char *base = o->cache_dir ? o->cache_dir : env && *env ? env : NULL;
	size_t need = (base ? strlen(base) : strlen(o->root) + 16) + 64;
	c->dir = malloc(need);
	c->file = malloc(need + 32);
	if (!c->dir || !c->file || grow(c) < 0) {
		cache_close(c);
		return NULL;
	}
	if (base)
		snprintf(c->dir, need, "%s", base);
	else
		snprintf(c->dir, need, "%s/.spipfix_cache", strcmp(o->root, "/") ? o->root : "");
	/* what makes the same bytes print differently */
	XXH3_state_t *st = XXH3_createState();
	if (!st) {
		cache_close(c);
		return NULL;
	}
	XXH3_64bits_reset(st);
	uint64_t exe = exe_identity();
	char cwd[4096];
	if (!getcwd(cwd, sizeof cwd))
		cwd[0] = 0;
	long long fields[] = {(int)o->mode, o->unsafe_fixes, (int)sizeof(struct totals), o->color_out, o->fix_only,
			      o->include_tests, o->line_length, (long long)o->max_bytes, o->max_nesting};
	XXH3_64bits_update(st, SPIPFIX_VERSION, sizeof SPIPFIX_VERSION);
	XXH3_64bits_update(st, o->format->name, strlen(o->format->name) + 1);
	XXH3_64bits_update(st, bridge_target_name(), strlen(bridge_target_name()) + 1);
	XXH3_64bits_update(st, &exe, sizeof exe);
	XXH3_64bits_update(st, fields, sizeof fields);
	XXH3_64bits_update(st, cwd, strlen(cwd) + 1);
	if (o->lift_name)
		XXH3_64bits_update(st, o->lift_name, strlen(o->lift_name) + 1);
	c->settings = XXH3_64bits_digest(st);
	XXH3_freeState(st);
	snprintf(c->file, need + 32, "%s/%s/%016llx.bin", c->dir, SPIPFIX_VERSION, (unsigned long long)c->settings);

	/* the shared reader: a FIFO or device in the cache's place is refused, never opened for
	 * reading; a file that is not whole (its checksum differs) is ignored: a cold run */
	size_t len;
	c->loaded = read_whole_file(c->file, &len, NULL);
	if (c->loaded && len >= 20) {
		uint64_t sum;
		memcpy(&sum, c->loaded + len - 8, 8);
		if (XXH3_64bits(c->loaded, len - 8) == sum)
			parse_loaded(c, len - 8);
	}
	return c;
}

void cache_key(const struct cache *c, const char *path, const char *buf, size_t len, const char *const *sel,
	       uint8_t key[16])
{
	XXH3_state_t *st = XXH3_createState();
	XXH128_hash_t h = {0, 0};
	if (st) {
		XXH3_128bits_reset_withSeed(st, c->settings);
		XXH3_128bits_update(st, path, strlen(path) + 1);
		for (; sel && *sel; sel++)
			XXH3_128bits_update(st, *sel, strlen(*sel) + 1);
		XXH3_128bits_update(st, "", 1);
		XXH3_128bits_update(st, buf, len);
		h = XXH3_128bits_digest(st);
		XXH3_freeState(st);
	}
	XXH128_canonical_t canon;
	XXH128_canonicalFromHash(&canon, h);
	memcpy(key, canon.digest, 16);
}

bool cache_is_empty(const struct cache *c) { return c->n == 0; }

bool cache_get(struct cache *c, const uint8_t key[16], struct file_result *r)
{
	struct centry *e = find(c, key);
	if (!e->occupied)
		return false;
	memset(r, 0, sizeof *r);
	r->out = malloc(e->outlen + 1);
	r->err = malloc(e->errlen + 1);
	if (!r->out || !r->err) {
		free(r->out);
		free(r->err);
		r->out = r->err = NULL;
		return false;
	}
	memcpy(r->out, e->out, e->outlen);
	memcpy(r->err, e->err, e->errlen);
	r->outlen = e->outlen;
	r->errlen = e->errlen;
	r->t = e->t;
	e->used = true;
	return true;
}

int cache_put(struct cache *c, const uint8_t key[16], const char *path, const struct file_result *r)
{
	struct centry e = {0};
	memcpy(e.key, key, 16);
	e.pathlen = (uint32_t)strlen(path);
	e.outlen = (uint32_t)r->outlen;
	e.errlen = (uint32_t)r->errlen;
	e.t = r->t;
	e.used = e.owned = true;
	char *pp = malloc(e.pathlen + 1), *out = malloc(e.outlen + 1), *err = malloc(e.errlen + 1);
	if (!pp || !out || !err) {
		free(pp);
		free(out);
		free(err);
		return -1;
	}
	memcpy(pp, path, e.pathlen);
	memcpy(out, r->out, e.outlen);
	memcpy(err, r->err, e.errlen);
	e.path = pp;
	e.out = out;
	e.err = err;
	if (insert(c, &e) < 0) {
		entry_free(&e);
		return -1;
	}
	c->dirty = true;
	return 0;
}

static int cmp_path(const void *pa, const void *pb)
{
	const struct centry *a = *(const struct centry *const *)pa, *b = *(const struct centry *const *)pb;
	uint32_t n = a->pathlen < b->pathlen ? a->pathlen : b->pathlen;
	int d = memcmp(a->path, b->path, n);
	if (d)
		return d;
	if (a->pathlen != b->pathlen)
		return a->pathlen < b->pathlen ? -1 : 1;
	return (int)b->used - (int)a->used; /* used entries first within one path */
}

static void mkdir_p(const char *dir)
{
	char tmp[8192];
	snprintf(tmp, sizeof tmp, "%s", dir);
	for (char *p = tmp + 1; *p; p++)
		if (*p == '/') {
			*p = 0;
			mkdir(tmp, 0777);
			*p = '/';
		}
	mkdir(tmp, 0777);
}

/* Remove the cache files of other settings or builds unused for 30 days. */
static void prune_old(const char *sub, const char *keep)
{
	DIR *d = opendir(sub);
	if (!d)
		return;
	time_t limit = time(NULL) - 30 * 24 * 3600;
	for (struct dirent *e; (e = readdir(d));) {
		size_t n = strlen(e->d_name);
		if (n < 5 || strcmp(e->d_name + n - 4, ".bin") != 0)
			continue;
		char f[8192];
		snprintf(f, sizeof f, "%s/%s", sub, e->d_name);
		struct stat st;
		if (strcmp(f, keep) != 0 && stat(f, &st) == 0 && st.st_atime < limit && st.st_mtime < limit)
			unlink(f);
	}
	closedir(d);
}

/* Write n bytes to f and into the running checksum. */
static void put(FILE *f, XXH3_state_t *sum, const void *p, size_t n)
{
	fwrite(p, 1, n, f);
	XXH3_64bits_update(sum, p, n);
}

/* Write the table: atomic (temp file + rename); entries of a path that has a used entry are kept
 * only when used themselves. Returns 0 / -1. */
static int save(struct cache *c)
{
	char sub[4200];
	snprintf(sub, sizeof sub, "%s/%s", c->dir, SPIPFIX_VERSION);
	bool fresh = access(c->dir, F_OK) != 0;
	mkdir_p(sub);
	if (fresh) {
		/* keep the cache out of version control and backups, as Ruff does */
		char f[4200];
		snprintf(f, sizeof f, "%s/.gitignore", c->dir);
		FILE *g = fopen(f, "w");
		if (g) {
			fputs("# Automatically created by spipfix.\n*\n", g);
			fclose(g);
		}
		snprintf(f, sizeof f, "%s/CACHEDIR.TAG", c->dir);
		g = fopen(f, "w");
		if (g) {
			fputs("Signature: 8a477f597d28d172789f06886806bc55\n", g);
			fclose(g);
		}
	}
	struct centry **v = malloc((c->n + 1) * sizeof *v);
	if (!v)
		return -1;
	size_t n = 0;
	for (size_t i = 0; i < c->nslots; i++)
		if (c->slots[i].occupied)
			v[n++] = &c->slots[i];
	if (n > 1)
		qsort(v, n, sizeof *v, cmp_path);
	char tmp[4300];
	snprintf(tmp, sizeof tmp, "%s.XXXXXX", c->file);
	sigset_t held; /* a signal acts once the temp file is renamed or removed */
	cli_signals_hold(&held);
	int fd = mkstemp(tmp);
	if (fd < 0) {
		cli_signals_restore(&held);
		free(v);
		return -1;
	}
	/* through a 1 MiB buffer: a few large writes, not eight small ones per entry */
	size_t bufsize = 1 << 20;
	char *buf = malloc(bufsize);
	FILE *f = fdopen(fd, "wb");
	XXH3_state_t *sum = XXH3_createState();
	if (!f || !buf || !sum) {
		if (f)
			fclose(f);
		else
			close(fd);
		unlink(tmp);
		cli_signals_restore(&held);
		XXH3_freeState(sum);
		free(buf);
		free(v);
		return -1;
	}
	setvbuf(f, buf, _IOFBF, bufsize);
	XXH3_64bits_reset(sum);
	uint32_t tsize = sizeof(struct totals);
	put(f, sum, MAGIC, 8);
	put(f, sum, &tsize, 4);
	for (size_t i = 0; i < n && !ferror(f); i++) {
		const struct centry *e = v[i];
		/* a path with a used entry: its unused entries are older contents */
		bool superseded = !e->used && i > 0 && v[i - 1]->pathlen == e->pathlen &&
				  !memcmp(v[i - 1]->path, e->path, e->pathlen) && v[i - 1]->used;
		if (superseded) {
			v[i] = v[i - 1]; /* so that a third entry of the path compares with a used one */
			continue;
		}
		put(f, sum, e->key, 16);
		put(f, sum, &e->pathlen, 4);
		put(f, sum, &e->outlen, 4);
		put(f, sum, &e->errlen, 4);
		put(f, sum, &e->t, sizeof e->t);
		put(f, sum, e->path, e->pathlen);
		put(f, sum, e->out, e->outlen);
		put(f, sum, e->err, e->errlen);
	}
	free(v);
	uint64_t digest = XXH3_64bits_digest(sum);
	XXH3_freeState(sum);
	fwrite(&digest, 1, 8, f);
	int rc = ferror(f) ? -1 : 0;
	if (fclose(f) != 0)
		rc = -1;
	free(buf);
	int e = errno;
	if (rc == 0 && rename(tmp, c->file) < 0)
		rc = -1, e = errno;
	if (rc != 0)
		unlink(tmp);
	cli_signals_restore(&held);
	if (rc == 0)
		prune_old(sub, c->file);
	errno = e;
	return rc ? -1 : 0;
}

void cache_close(struct cache *c)
{
	if (!c)
		return;
	if (c->dirty && c->slots && save(c) < 0)
		fprintf(stderr, "warning: cannot write the cache in %s: %s (use --no-cache to skip it)\n", c->dir,
			strerror(errno ? errno : EIO));
	for (size_t i = 0; i < c->nslots; i++)
		if (c->slots[i].occupied)
			entry_free(&c->slots[i]);
	free(c->slots);
	free(c->loaded);
	free(c->dir);
	free(c->file);
	free(c);
}
