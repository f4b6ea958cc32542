/* One file through the pipeline: read and validate, analyse, report, and in fix/diff mode run
 * the fix engine and write atomically. A file that cannot be handled is reported and left
 * byte for byte as it was. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bridge.h"
#include "cache.h"
#include "cmd.h"
#include "pass.h"
#include "safety.h"
#include "tools.h"

#define MAX_FILE (64L * 1024 * 1024)

/* Read what fd holds, NUL-terminated: a regular file (st filled) or, with st NULL, a stream such
 * as stdin. Returns a malloc'd buffer or NULL with errno set. */
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
		if (st->st_size > MAX_FILE) {
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
			if (cap > MAX_FILE) {
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
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	char *buf = read_fd(fd, len, st);
	int e = errno;
	close(fd);
	errno = e;
	return buf;
}

static bool valid_utf8(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < n;) {
		/* ASCII, nearly all of most sources: eight bytes at a time */
		if (n - i >= 8) {
			uint64_t w;
			memcpy(&w, p + i, 8);
			if (!(w & 0x8080808080808080u)) {
				i += 8;
				continue;
			}
		}
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
 * changed on disk since it was read. Returns 0 / -1 with a message on err. */
static int write_atomic(FILE *err, const char *path, const char *old, size_t oldlen, const struct stat *st0,
			const char *text, size_t len)
{
	struct stat st;
	size_t curlen;
	char *cur = read_whole_file(path, &curlen, &st);
	bool same = cur && curlen == oldlen && !memcmp(cur, old, oldlen) && st.st_ino == st0->st_ino;
	free(cur);
	if (!same) {
		fprintf(err, "error: %s: changed on disk while spipfix was working; not written\n", path);
		return -1;
	}
	size_t plen = strlen(path);
	char *tmp = malloc(plen + 32);
	if (!tmp)
		return -1;
	snprintf(tmp, plen + 32, "%s.spipfix-XXXXXX", path);
	int fd = mkstemp(tmp);
	if (fd < 0) {
		fprintf(err, "error: %s: cannot create a temporary file: %s\n", path, strerror(errno));
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
		fprintf(err, "error: %s: cannot write: %s\n", path, strerror(errno));
		unlink(tmp);
	}
	free(tmp);
	return ok ? 0 : -1;
}

static size_t pass_index(const struct pass *p)
{
	size_t i = 0;
	while (pass_registry[i] && pass_registry[i] != p)
		i++;
	return i < MAX_PASSES ? i : MAX_PASSES - 1;
}

/* Analyse text (the original, or what --fix left) and render its findings on dest (NULL: count
 * them only). Errors go to r->errf. */
/* Print (to dest, NULL: count only) and count the findings of an analysed unit. */
static void report_unit(struct unit *u, const struct options *o, struct file_result *r, FILE *dest)
{
	struct totals *t = &r->t;
	for (size_t i = 0; i < u->nfindings; i++) {
		struct finding *f = &u->findings[i];
		if (dest)
			render_finding_as(dest, o, u, f);
		size_t k = pass_index(f->pass);
		t->findings++;
		t->by_pass[k]++;
		if (f->nedits && f->applicability == FIX_SAFE) {
			t->fixable++;
			t->fixable_by_pass[k]++;
		} else if (f->nedits && f->applicability == FIX_UNSAFE) {
			t->unsafe_fixable++;
		}
	}
}

static void report(const char *path, const char *text, size_t len, const struct options *o, const char *const *sel,
		   struct file_result *r, FILE *dest)
{
	struct totals *t = &r->t;
	struct unit u;
	unit_init(&u, path, text, len);
	u.debug = o->debug;
	int rc = unit_analyse(&u, sel);
	if (rc == 0 && suppress_findings(&u, NULL) < 0) {
		u.error = "out of memory";
		rc = -1;
	}
	if (rc < 0) {
		render_error(r->errf, u.error_is_note ? "warning" : "error", path, u.error, u.error_has_pos,
			     u.error_row, u.error_col);
		if (u.error_is_note)
			t->notes++;
		else
			t->errors++;
		unit_free(&u);
		return;
	}
	report_unit(&u, o, r, dest);
	unit_free(&u);
}

/* The fix engine's last round analysed the text it returns: with --fix, what remains is
 * reported from that analysis. The findings are rendered into a buffer now and printed once the
 * fixed text is written (or printed, for stdin). */
struct final_report {
	const struct options *o;
	struct file_result *r;
	char *text;
	size_t len;
	struct totals t;
	bool have;
};

static void keep_final(struct unit *u, void *vctx)
{
	struct final_report *fin = vctx;
	struct file_result tmp = {.errf = fin->r->errf};
	FILE *mem = open_memstream(&fin->text, &fin->len);
	if (!mem)
		return; /* reported by a second analysis instead */
	report_unit(u, fin->o, &tmp, mem);
	if (fclose(mem) != 0) {
		free(fin->text);
		fin->text = NULL;
		return;
	}
	fin->t = tmp.t;
	fin->have = true;
}

/* Print the findings kept by keep_final to dest and count them. */
static void emit_final(struct final_report *fin, FILE *dest)
{
	if (dest && fin->len)
		fwrite(fin->text, 1, fin->len, dest);
	totals_add(&fin->r->t, &fin->t);
}

/* Validate the bytes of a Python file. Returns NULL when they can be analysed, else why not
 * (written into why[cap]). */
static const char *unreadable_reason(const char *buf, size_t len, char *why, size_t cap)
{
	char cookie[64];
	if (memchr(buf, 0, len))
		return "contains NUL bytes; skipped";
	if (!valid_utf8(buf, len))
		return "is not valid UTF-8; skipped";
	if (foreign_cookie(buf, len, cookie, sizeof cookie) && !is_ascii(buf, len)) {
		snprintf(why, cap, "declares the encoding `%s`; only UTF-8 files are handled; skipped", cookie);
		return why;
	}
	return NULL;
}

/* One buffer through the selected mode. st is the file's stat when it was read from disk (fix
 * writes it back), NULL for stdin (fix prints the whole result on stdout). */
static void process_buffer(const char *path, const char *buf, size_t len, const struct stat *st,
			   const struct options *o, struct file_result *r)
{
	struct totals *t = &r->t;
	const char *sel[MAX_PASSES + 1];
	select_for(o, path, sel);
	bool to_stdout = st == NULL && o->mode == MODE_FIX;
	struct options text_opts;
	if (to_stdout && (o->format == FMT_JSON || o->format == FMT_JSONL)) {
		/* the remaining findings go to stderr beside other messages: as text lines */
		text_opts = *o;
		text_opts.format = FMT_CONCISE;
		o = &text_opts;
	}
	/* with stdin, --fix prints the source on stdout and the findings on stderr */
	FILE *findings_to = to_stdout ? r->errf : r->outf;
	char whybuf[160];
	const char *why = unreadable_reason(buf, len, whybuf, sizeof whybuf);
	if (why) {
		fprintf(r->errf, "error: %s: %s\n", path, why);
		t->errors++;
		if (to_stdout)
			fwrite(buf, 1, len, r->outf);
		return;
	}
	if (bridge_init() < 0) {
		fprintf(r->errf, "error: %s: cannot start the embedded Python; skipped\n", path);
		t->errors++;
		r->cacheable = false;
		if (to_stdout)
			fwrite(buf, 1, len, r->outf);
		return;
	}
	if (o->mode == MODE_REPORT || o->mode == MODE_CHECK) {
		report(path, buf, len, o, sel, r, findings_to);
		return;
	}
	if (o->mode == MODE_DIFF) /* with --trace-profile, the findings on stderr */
		trace_profile_list(path, buf, len, sel);
	struct final_report fin = {.o = o, .r = r};
	struct fix_options fo = {.select = sel, .unsafe = o->unsafe_fixes, .debug = o->debug, .filter = suppress_findings};
	if (o->mode != MODE_DIFF) {
		fo.final = keep_final;
		fo.final_ctx = &fin;
	}
	struct fix_result fr;
	if (safety_fix(path, buf, len, &fo, &fr) < 0) {
		/* report the reason; the findings themselves are still worth showing */
		if (strncmp(fr.error, "refusing", 8) == 0) {
			render_error(r->errf, "error", path, fr.error, false, 0, 0);
			t->errors++;
			if (o->mode == MODE_FIX)
				report(path, buf, len, o, sel, r, findings_to);
		} else {
			report(path, buf, len, o, sel, r, o->mode == MODE_FIX ? findings_to : NULL);
		}
		if (to_stdout)
			fwrite(buf, 1, len, r->outf);
		fix_result_free(&fr);
		return;
	}
	if (o->mode == MODE_DIFF) {
		if (fr.text) {
			render_diff(r->outf, path, buf, len, fr.text, fr.len);
			t->fixed += fr.applied;
			t->changed_files++;
		}
	} else if (to_stdout) {
		fwrite(fr.text ? fr.text : buf, 1, fr.text ? fr.len : len, r->outf);
		if (fr.text) {
			t->fixed += fr.applied;
			t->changed_files++;
		}
		if (fin.have)
			emit_final(&fin, findings_to);
		else
			report(path, fr.text ? fr.text : buf, fr.text ? fr.len : len, o, sel, r, findings_to);
	} else {
		bool written = true;
		if (fr.text) {
			/* what happens next depends on the disk, not only on the bytes */
			r->cacheable = false;
			written = write_atomic(r->errf, path, buf, len, st, fr.text, fr.len) == 0;
			if (written) {
				t->fixed += fr.applied;
				t->changed_files++;
			} else {
				t->errors++;
			}
		}
		if (fin.have && written)
			emit_final(&fin, findings_to);
		else
			report(path, written && fr.text ? fr.text : buf, written && fr.text ? fr.len : len, o, sel, r,
			       findings_to);
	}
	free(fin.text);
	fix_result_free(&fr);
}

void process_file(const char *path, const struct options *o, struct file_result *r)
{
	size_t len;
	struct stat st;
	char *buf = read_whole_file(path, &len, &st);
	r->t.files++;
	if (!buf) {
		fprintf(r->errf, "error: %s: %s\n", path,
			errno == EFBIG ? "larger than 64 MiB; skipped" : strerror(errno));
		r->t.errors++;
		r->cacheable = false;
		return;
	}
	r->cacheable = true;
	if (o->cache) {
		const char *sel[MAX_PASSES + 1];
		select_for(o, path, sel);
		cache_key(o->cache, path, buf, len, sel, r->key);
		r->have_key = true;
	}
	process_buffer(path, buf, len, &st, o, r);
	free(buf);
}

char *read_stdin(size_t *len) { return read_fd(0, len, NULL); }

void process_stdin(const struct options *o, struct file_result *r)
{
	const char *path = o->stdin_filename ? o->stdin_filename : "-";
	size_t len;
	char *buf = read_fd(0, &len, NULL);
	r->t.files++;
	r->cacheable = false;
	if (!buf) {
		fprintf(r->errf, "error: %s: cannot read standard input: %s\n", path,
			errno == EFBIG ? "larger than 64 MiB" : strerror(errno));
		r->t.errors++;
		return;
	}
	process_buffer(path, buf, len, NULL, o, r);
	free(buf);
}

void select_for(const struct options *o, const char *path, const char **sel)
{
	size_t k = 0;
	for (size_t i = 0; i < o->npasses && pass_registry[i]; i++) {
		if (!o->enabled[i])
			continue;
		bool ignored = false;
		for (size_t j = 0; j < o->npfi && !ignored; j++) {
			if (!path_pattern_matches(o, o->pfi[j].pattern, path))
				continue;
			for (size_t c = 0; c < o->pfi[j].codes.n && !ignored; c++) {
				const char *code = o->pfi[j].codes.v[c];
				ignored = !strcmp(code, "ALL") || !strncmp(pass_registry[i]->code, code, strlen(code)) ||
					  !strcmp(pass_registry[i]->name, code);
			}
		}
		if (!ignored)
			sel[k++] = pass_registry[i]->code;
	}
	sel[k] = NULL;
}

void totals_add(struct totals *into, const struct totals *t)
{
	into->findings += t->findings;
	into->fixable += t->fixable;
	into->unsafe_fixable += t->unsafe_fixable;
	into->fixed += t->fixed;
	into->files += t->files;
	into->changed_files += t->changed_files;
	into->errors += t->errors;
	into->notes += t->notes;
	for (size_t i = 0; i < MAX_PASSES; i++) {
		into->by_pass[i] += t->by_pass[i];
		into->fixable_by_pass[i] += t->fixable_by_pass[i];
	}
}

int file_result_open(struct file_result *r)
{
	memset(r, 0, sizeof *r);
	r->outf = open_memstream(&r->out, &r->outlen);
	r->errf = open_memstream(&r->err, &r->errlen);
	if (!r->outf || !r->errf) {
		file_result_close(r);
		return -1;
	}
	return 0;
}

int file_result_open_direct(struct file_result *r)
{
	memset(r, 0, sizeof *r);
	r->outf = stdout;
	r->errf = stderr;
	r->direct = true;
	return 0;
}

void file_result_close(struct file_result *r)
{
	if (r->direct) {
		r->outf = r->errf = NULL;
		return;
	}
	if (r->outf)
		fclose(r->outf);
	if (r->errf)
		fclose(r->errf);
	r->outf = r->errf = NULL;
}

void file_result_free(struct file_result *r)
{
	file_result_close(r);
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
	r->outlen = r->errlen = 0;
}
