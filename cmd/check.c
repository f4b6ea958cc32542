/* One file through the pipeline: read and validate, analyse, report, and in fix/diff mode run
 * the fix engine and write atomically. A file that cannot be handled is reported and left
 * byte for byte as it was. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bridge.h"
#include "cmd.h"
#include "pass.h"
#include "safety.h"
#include "tools.h"

#define MAX_FILE (64L * 1024 * 1024)

/* Read the whole file, NUL-terminated. Returns a malloc'd buffer or NULL with errno set. */
static char *read_file(const char *path, size_t *len, struct stat *st)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	char *buf = NULL;
	if (fstat(fd, st) < 0)
		goto fail;
	if (!S_ISREG(st->st_mode)) {
		errno = S_ISDIR(st->st_mode) ? EISDIR : EINVAL;
		goto fail;
	}
	if (st->st_size > MAX_FILE) {
		errno = EFBIG;
		goto fail;
	}
	size_t cap = (size_t)st->st_size + 1, n = 0;
	buf = malloc(cap);
	if (!buf)
		goto fail;
	for (;;) {
		if (n + 1 >= cap) {
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
	close(fd);
	return buf;
fail:;
	int e = errno;
	free(buf);
	close(fd);
	errno = e;
	return NULL;
}

static bool valid_utf8(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < n;) {
		unsigned c = p[i];
		size_t k;
		unsigned min;
		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xE0) == 0xC0) {
			k = 1, min = 0x80, c &= 0x1F;
		} else if ((c & 0xF0) == 0xE0) {
			k = 2, min = 0x800, c &= 0x0F;
		} else if ((c & 0xF8) == 0xF0) {
			k = 3, min = 0x10000, c &= 0x07;
		} else {
			return false;
		}
		for (size_t j = 1; j <= k; j++) {
			if (i + j >= n || (p[i + j] & 0xC0) != 0x80)
				return false;
			c = (c << 6) | (p[i + j] & 0x3F);
		}
		if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
			return false;
		i += k + 1;
	}
	return true;
}

/* A PEP 263 coding cookie on line 1 or 2 naming anything but UTF-8 (or ASCII, a subset). */
static const char *foreign_cookie(const char *s, size_t n, char *name, size_t cap)
{
	size_t at = 0;
	for (int line = 0; line < 2 && at < n; line++) {
		size_t e = at;
		while (e < n && s[e] != '\n')
			e++;
		size_t k = at;
		while (k < e && (s[k] == ' ' || s[k] == '\t' || s[k] == '\f'))
			k++;
		if (k < e && s[k] == '#') {
			for (size_t i = k; i + 6 < e; i++) {
				if (memcmp(s + i, "coding", 6) != 0 || (s[i + 6] != ':' && s[i + 6] != '='))
					continue;
				size_t v = i + 7;
				while (v < e && (s[v] == ' ' || s[v] == '\t'))
					v++;
				size_t w = 0;
				while (v < e && w + 1 < cap &&
				       (s[v] == '-' || s[v] == '_' || s[v] == '.' || (s[v] >= '0' && s[v] <= '9') ||
					(s[v] >= 'a' && s[v] <= 'z') || (s[v] >= 'A' && s[v] <= 'Z')))
					name[w++] = s[v++];
				name[w] = 0;
				if (!strncasecmp(name, "utf-8", 5) || !strncasecmp(name, "utf_8", 5) ||
				    !strcasecmp(name, "utf8") || !strcasecmp(name, "ascii") || !strcasecmp(name, "us-ascii"))
					return NULL;
				return name;
			}
		} else if (k < e) {
			break; /* the cookie must come before any code */
		}
		at = e + 1;
	}
	return NULL;
}

static bool is_ascii(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return false;
	return true;
}

/* Atomic replace: temp file in the same folder, fsync, keep the mode, refuse when the file
 * changed on disk since it was read. Returns 0 / -1 with a message on stderr. */
static int write_atomic(const char *path, const char *old, size_t oldlen, const struct stat *st0, const char *text,
			size_t len)
{
	struct stat st;
	size_t curlen;
	char *cur = read_file(path, &curlen, &st);
	bool same = cur && curlen == oldlen && !memcmp(cur, old, oldlen) && st.st_ino == st0->st_ino;
	free(cur);
	if (!same) {
		fprintf(stderr, "error: %s: changed on disk while spipfix was working; not written\n", path);
		return -1;
	}
	size_t plen = strlen(path);
	char *tmp = malloc(plen + 32);
	if (!tmp)
		return -1;
	snprintf(tmp, plen + 32, "%s.spipfix-XXXXXX", path);
	int fd = mkstemp(tmp);
	if (fd < 0) {
		fprintf(stderr, "error: %s: cannot create a temporary file: %s\n", path, strerror(errno));
		free(tmp);
		return -1;
	}
	size_t off = 0;
	bool ok = fchmod(fd, st0->st_mode & 07777) == 0;
	while (ok && off < len) {
		ssize_t w = write(fd, text + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		ok = w > 0;
		if (ok)
			off += (size_t)w;
	}
	ok = ok && fsync(fd) == 0;
	ok = (close(fd) == 0) && ok;
	ok = ok && rename(tmp, path) == 0;
	if (!ok) {
		fprintf(stderr, "error: %s: cannot write: %s\n", path, strerror(errno));
		unlink(tmp);
	}
	free(tmp);
	return ok ? 0 : -1;
}

/* Report the findings of text (the original, or what --fix left). */
static void report(const char *path, const char *text, size_t len, const struct options *o, struct totals *t,
		   bool print)
{
	struct unit u;
	unit_init(&u, path, text, len);
	u.debug = o->debug;
	if (unit_analyse(&u, o->select) < 0) {
		render_error(u.error_is_note ? "warning" : "error", path, u.error, u.error_has_pos, u.error_row,
			     u.error_col);
		if (u.error_is_note)
			t->notes++;
		else
			t->errors++;
		unit_free(&u);
		return;
	}
	for (size_t i = 0; i < u.nfindings; i++) {
		struct finding *f = &u.findings[i];
		if (print)
			render_finding(stdout, &u, f);
		t->findings++;
		if (f->nedits && f->applicability == FIX_SAFE)
			t->fixable++;
		else if (f->nedits && f->applicability == FIX_UNSAFE)
			t->unsafe_fixable++;
	}
	unit_free(&u);
}

void process_file(const char *path, const struct options *o, struct totals *t)
{
	size_t len;
	struct stat st;
	char *buf = read_file(path, &len, &st);
	t->files++;
	if (!buf) {
		fprintf(stderr, "error: %s: %s\n", path, errno == EFBIG ? "larger than 64 MiB; skipped" : strerror(errno));
		t->errors++;
		return;
	}
	const char *why = NULL;
	char cookie[64];
	if (memchr(buf, 0, len))
		why = "contains NUL bytes; skipped";
	else if (!valid_utf8(buf, len))
		why = "is not valid UTF-8; skipped";
	else if (foreign_cookie(buf, len, cookie, sizeof cookie) && !is_ascii(buf, len)) {
		fprintf(stderr, "error: %s: declares the encoding `%s`; only UTF-8 files are handled; skipped\n", path,
			cookie);
		t->errors++;
		free(buf);
		return;
	}
	if (why) {
		fprintf(stderr, "error: %s: %s\n", path, why);
		t->errors++;
		free(buf);
		return;
	}
	if (o->mode == MODE_REPORT || o->mode == MODE_CHECK) {
		report(path, buf, len, o, t, true);
		free(buf);
		return;
	}
	if (o->mode == MODE_DIFF) /* with --trace-profile, the findings on stderr */
		trace_profile_list(path, buf, len, (const char *const *)o->select);
	struct fix_options fo = {(const char *const *)o->select, o->unsafe_fixes, o->debug};
	struct fix_result r;
	if (safety_fix(path, buf, len, &fo, &r) < 0) {
		/* report the reason; the findings themselves are still worth showing */
		if (strncmp(r.error, "refusing", 8) == 0) {
			render_error("error", path, r.error, false, 0, 0);
			t->errors++;
			if (o->mode == MODE_FIX)
				report(path, buf, len, o, t, true);
		} else {
			report(path, buf, len, o, t, o->mode == MODE_FIX);
		}
		fix_result_free(&r);
		free(buf);
		return;
	}
	if (o->mode == MODE_DIFF) {
		if (r.text) {
			render_diff(stdout, path, buf, len, r.text, r.len);
			t->fixed += r.applied;
			t->changed_files++;
		}
	} else {
		bool written = true;
		if (r.text) {
			written = write_atomic(path, buf, len, &st, r.text, r.len) == 0;
			if (written) {
				t->fixed += r.applied;
				t->changed_files++;
			} else {
				t->errors++;
			}
		}
		report(path, written && r.text ? r.text : buf, written && r.text ? r.len : len, o, t, true);
	}
	fix_result_free(&r);
	free(buf);
}
