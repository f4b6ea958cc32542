#define _GNU_SOURCE /* vasprintf */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pass.h"

/* What fd holds, NUL-terminated: a regular file (st filled) or, with st NULL, a stream such as
 * stdin. Returns a malloc'd buffer or NULL with errno set. */
static char *read_fd(int fd, size_t *len, struct stat *st)
{
	char *buf = NULL;
	size_t cap = 65536, n = 0;
	if (st) {
		if (fstat(fd, st) < 0)
			goto fail;
		if (!S_ISREG(st->st_mode)) {
			errno = S_ISDIR(st->st_mode) ? EISDIR : EINVAL;
			goto fail;
		}
		if (st->st_size > CLI_MAX_FILE) {
			errno = EFBIG;
			goto fail;
		}
		cap = (size_t)st->st_size + 1;
	}
	buf = malloc(cap);
	if (!buf)
		goto fail;
	for (;;) {
		if (n + 1 >= cap) {
			if (cap > CLI_MAX_FILE) {
				errno = EFBIG;
				goto fail;
			}
			char *nb = realloc(buf, cap * 2);
			if (!nb)
				goto fail;
			buf = nb;
			cap *= 2;
		}
		ssize_t r = read(fd, buf + n, cap - n - 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	buf[n] = 0;
	*len = n;
	return buf;
fail:;
	int e = errno;
	free(buf);
	errno = e;
	return NULL;
}

char *read_whole_file(const char *path, size_t *len, struct stat *st)
{
	/* O_NONBLOCK: opening a FIFO must not wait for a writer; read_fd refuses anything that is
	 * not a regular file before it reads */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return NULL;
	struct stat own;
	if (!st)
		st = &own;
	int fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	char *buf = read_fd(fd, len, st);
	int e = errno;
	close(fd);
	errno = e;
	return buf;
}

char *read_stdin(size_t *len) { return read_fd(0, len, NULL); }

int fd_write_all(int fd, const void *p, size_t n)
{
	const char *s = p;
	while (n) {
		ssize_t w = write(fd, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

int fd_read_all(int fd, void *p, size_t n)
{
	char *s = p;
	while (n) {
		ssize_t r = read(fd, s, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		s += r;
		n -= (size_t)r;
	}
	return 0;
}

void cli_signals_hold(sigset_t *old)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGQUIT);
	sigprocmask(SIG_BLOCK, &set, old);
}

void cli_signals_restore(const sigset_t *old) { sigprocmask(SIG_SETMASK, old, NULL); }

char *path_absolute(const char *path)
{
	char cwd[4096];
	size_t n = strlen(path);
	char *joined;
	if (path[0] == '/') {
		joined = strdup(path);
	} else {
		if (!getcwd(cwd, sizeof cwd))
			return NULL;
		joined = malloc(strlen(cwd) + n + 2);
		if (joined)
			sprintf(joined, "%s/%s", cwd, path);
	}
	if (!joined)
		return NULL;
	char *out = malloc(strlen(joined) + 2);
	if (!out) {
		free(joined);
		return NULL;
	}
	size_t k = 0;
	char *save = NULL;
	for (char *seg = strtok_r(joined, "/", &save); seg; seg = strtok_r(NULL, "/", &save)) {
		if (!strcmp(seg, "."))
			continue;
		if (!strcmp(seg, "..")) {
			while (k > 0 && out[k - 1] != '/')
				k--;
			if (k > 0)
				k--;
			continue;
		}
		out[k++] = '/';
		size_t sl = strlen(seg);
		memcpy(out + k, seg, sl);
		k += sl;
	}
	if (k == 0)
		out[k++] = '/';
	out[k] = 0;
	free(joined);
	return out;
}

double cli_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void oom(void)
{
	fputs("spipfix: out of memory\n", stderr);
	exit(2);
}

char *xprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = NULL;
	if (vasprintf(&s, fmt, ap) < 0)
		oom();
	va_end(ap);
	return s;
}

char *xstrdup(const char *s)
{
	char *d = strdup(s ? s : "");
	if (!d)
		oom();
	return d;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		oom();
	return p;
}

int strlist_split(struct strlist *l, const char *s)
{
	char *copy = strdup(s);
	if (!copy)
		return -1;
	for (char *save = NULL, *tok = strtok_r(copy, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
		char **nv = realloc(l->v, (l->n + 2) * sizeof *nv);
		if (!nv) {
			free(copy);
			return -1;
		}
		l->v = nv;
		if (!(nv[l->n] = strdup(tok))) {
			free(copy);
			return -1;
		}
		l->n++;
		l->v[l->n] = NULL;
	}
	free(copy);
	return 0;
}

void strlist_free(struct strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

int cli_rule_list(const char *opt, const char *arg, struct strlist *l)
{
	if (strlist_split(l, arg) < 0)
		return -1;
	for (size_t i = 0; i < l->n; i++)
		if (!pass_selector_known(l->v[i])) {
			const char *near = cli_nearest_rule(l->v[i]);
			fprintf(stderr, "error: %s: unknown rule `%s`", opt, l->v[i]);
			if (near)
				fprintf(stderr, " (did you mean `%s`?)", near);
			fputc('\n', stderr);
			return -1;
		}
	return 0;
}

int cli_size(const char *where, const char *arg, size_t max, size_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(arg, &end, 10);
	unsigned long long mul = 1;
	if (end != arg && *end) {
		char k = (char)(*end | 0x20);
		mul = k == 'k' ? 1ull << 10 : k == 'm' ? 1ull << 20 : k == 'g' ? 1ull << 30 : 0;
		end++;
		if (*end == 'i' && end[1] == 'B')
			end += 2;
		else if (*end == 'B' || *end == 'b')
			end++;
	}
	if (end == arg || *end || !mul || errno || arg[0] == '-' || v == 0 || v > max / mul) {
		fprintf(stderr, "error: %s: expected a size from 1 byte to %zu MiB (a number, optionally with K, M or G), "
			"got `%s`\n", where, max >> 20, arg);
		return -1;
	}
	*out = (size_t)(v * mul);
	return 0;
}

int cli_count(const char *where, const char *arg, unsigned max, unsigned *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(arg, &end, 10);
	if (end == arg || *end || errno || arg[0] == '-' || v == 0 || v > max) {
		fprintf(stderr, "error: %s: expected a number from 1 to %u, got `%s`\n", where, max, arg);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

int cli_choice(const char *opt, const char *arg, const char *const *choices)
{
	size_t n = 0;
	for (; choices[n]; n++)
		if (!strcmp(choices[n], arg))
			return (int)n;
	fprintf(stderr, "error: %s: unknown value `%s` (", opt, arg);
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, "%s%s", i ? ", " : "", choices[i]);
	fputs(")\n", stderr);
	return -1;
}

/* Levenshtein distance, case-insensitive, of two short strings (longer ones count as far). */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 63 || lb > 63)
		return (size_t)-1;
	size_t prev[64], cur[64];
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			char x = a[i - 1], y = b[j - 1];
			x = (char)(x >= 'A' && x <= 'Z' ? x + 32 : x);
			y = (char)(y >= 'A' && y <= 'Z' ? y + 32 : y);
			size_t sub = prev[j - 1] + (x != y), del = prev[j] + 1, ins = cur[j - 1] + 1;
			cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
		}
		memcpy(prev, cur, (lb + 1) * sizeof *prev);
	}
	return prev[lb];
}

const char *cli_nearest(const char *word, const char *const *candidates, size_t n)
{
	size_t best = (size_t)-1, limit = strlen(word) / 3;
	if (limit < 1)
		limit = 1;
	const char *pick = NULL;
	for (size_t i = 0; i < n; i++) {
		size_t d = distance(word, candidates[i]);
		if (d < best) {
			best = d;
			pick = candidates[i];
		}
	}
	return best <= limit ? pick : NULL;
}

const char *cli_nearest_rule(const char *word)
{
	const char *codes[64];
	size_t n = 0;
	for (const struct pass *const *p = pass_registry; *p && n < 64; p++)
		codes[n++] = (*p)->code;
	return cli_nearest(word, codes, n);
}
