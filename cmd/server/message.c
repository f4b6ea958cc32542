/* The LSP base protocol: header fields, then a JSON body (message.h). */
#include "message.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* A malformed header: dropped through its end (the empty line) when that has arrived, else
 * through the line at fault. */
static enum lsp_frame bad_header(const char *buf, size_t len, size_t line_end, struct lsp_frame_error *err, size_t *used,
				 const char *what)
{
	size_t n = line_end;
	for (size_t i = line_end; i < len; i++)
		if (buf[i] == '\n' && i > 0 && (buf[i - 1] == '\n' || (i > 1 && buf[i - 1] == '\r' && buf[i - 2] == '\n'))) {
			n = i + 1;
			break;
		}
	err->code = -32700;
	snprintf(err->message, sizeof err->message, "%s", what);
	*used = n ? n : 1;
	return LSP_FRAME_ERROR;
}

static enum lsp_frame fail(struct lsp_frame_error *err, size_t *used, size_t n, int code, const char *what)
{
	err->code = code;
	snprintf(err->message, sizeof err->message, "%s", what);
	*used = n ? n : 1;
	return LSP_FRAME_ERROR;
}

static bool token_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

enum lsp_frame lsp_frame_parse(const char *buf, size_t len, size_t *used, json_t **msg, struct lsp_frame_error *err)
{
	*used = 0;
	*msg = NULL;
	size_t at = 0, content_length = 0;
	bool have_length = false;
	/* the header: one field per line, up to an empty line (CRLF as the protocol says; a bare
	 * LF is taken too) */
	for (;;) {
		if (at >= LSP_MAX_HEADER)
			return fail(err, used, at, -32700, "the header is longer than 8192 bytes");
		const char *nl = memchr(buf + at, '\n', len - at);
		if (!nl) {
			if (len >= LSP_MAX_HEADER)
				return fail(err, used, len, -32700, "the header is longer than 8192 bytes");
			/* what has come must still be able to begin a field */
			for (size_t i = at; i < len; i++) {
				if (buf[i] == ':')
					break;
				if (!token_char((unsigned char)buf[i]) && !(i + 1 == len && buf[i] == '\r'))
					return fail(err, used, len, -32700, "expected a header field such as `Content-Length: 42`");
			}
			return LSP_FRAME_MORE;
		}
		size_t end = (size_t)(nl - buf), line_end = end > at && buf[end - 1] == '\r' ? end - 1 : end;
		size_t next = end + 1;
		if (line_end == at) { /* the empty line: the body follows */
			at = next;
			break;
		}
		const char *colon = memchr(buf + at, ':', line_end - at);
		bool name_ok = colon && colon > buf + at;
		for (const char *p = buf + at; name_ok && p < colon; p++)
			name_ok = token_char((unsigned char)*p);
		if (!name_ok)
			return bad_header(buf, len, next, err, used, "expected a header field such as `Content-Length: 42`");
		size_t name_len = (size_t)(colon - (buf + at));
		if (name_len == 14 && !strncasecmp(buf + at, "Content-Length", 14)) {
			const char *p = colon + 1, *e = buf + line_end;
			while (p < e && (*p == ' ' || *p == '\t'))
				p++;
			size_t v = 0;
			const char *digits = p;
			while (p < e && *p >= '0' && *p <= '9') {
				if (v > (SIZE_MAX - 9) / 10)
					return bad_header(buf, len, next, err, used, "Content-Length is not a number of bytes");
				v = v * 10 + (size_t)(*p++ - '0');
			}
			while (p < e && (*p == ' ' || *p == '\t'))
				p++;
			if (p == digits || p != e)
				return bad_header(buf, len, next, err, used, "Content-Length is not a number of bytes");
			if (have_length && v != content_length)
				return bad_header(buf, len, next, err, used, "two different Content-Length fields");
			content_length = v;
			have_length = true;
		}
		at = next;
	}
	if (!have_length)
		return fail(err, used, at, -32700, "the header has no Content-Length field");
	if (content_length > LSP_MAX_BODY) {
		char m[120];
		snprintf(m, sizeof m, "the message is larger than %u MiB (Content-Length: %zu); dropped", LSP_MAX_BODY >> 20,
			 content_length);
		return fail(err, used, at + content_length, -32700, m);
	}
	if (len - at < content_length)
		return LSP_FRAME_MORE;
	json_error_t je;
	json_t *v = json_loadb(buf + at, content_length, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
	if (!v) {
		char m[200];
		snprintf(m, sizeof m, "the body is not JSON: %.120s (line %d, column %d)", je.text, je.line, je.column);
		return fail(err, used, at + content_length, -32700, m);
	}
	*msg = v;
	*used = at + content_length;
	return LSP_FRAME_MESSAGE;
}

ssize_t lsp_reader_fill(struct lsp_reader *r)
{
	if (r->eof)
		return 0;
	/* room for one more chunk; what was used goes first */
	if (r->start && (r->start == r->len || r->start > r->cap / 2)) {
		memmove(r->buf, r->buf + r->start, r->len - r->start);
		r->len -= r->start;
		r->start = 0;
	}
	size_t chunk = 65536;
	if (r->cap - r->len < chunk) {
		size_t cap = r->cap ? r->cap : chunk;
		while (cap - r->len < chunk)
			cap *= 2;
		char *nb = realloc(r->buf, cap);
		if (!nb) {
			r->eof = true;
			return -1;
		}
		r->buf = nb;
		r->cap = cap;
	}
	ssize_t n;
	do
		n = read(r->fd, r->buf + r->len, r->cap - r->len);
	while (n < 0 && errno == EINTR);
	if (n <= 0) {
		r->eof = true;
		return n < 0 ? -1 : 0;
	}
	size_t got = (size_t)n;
	if (r->skip) { /* the body of a refused message: dropped as it arrives */
		size_t drop = got < r->skip ? got : r->skip;
		memmove(r->buf + r->len, r->buf + r->len + drop, got - drop);
		r->skip -= drop;
		got -= drop;
	}
	r->len += got;
	return n;
}

enum lsp_frame lsp_reader_next(struct lsp_reader *r, json_t **msg, struct lsp_frame_error *err)
{
	*msg = NULL;
	if (r->start == r->len)
		return LSP_FRAME_MORE;
	size_t used;
	enum lsp_frame f = lsp_frame_parse(r->buf + r->start, r->len - r->start, &used, msg, err);
	if (f == LSP_FRAME_MORE) {
		if (!r->eof)
			return f;
		/* the input ended inside a message */
		err->code = -32700;
		snprintf(err->message, sizeof err->message, "the input ended inside a message (%zu bytes)",
			 r->len - r->start);
		r->start = r->len;
		return LSP_FRAME_ERROR;
	}
	size_t have = r->len - r->start;
	if (used > have) {
		r->skip = used - have;
		used = have;
	}
	r->start += used;
	return f;
}

void lsp_reader_free(struct lsp_reader *r)
{
	free(r->buf);
	memset(r, 0, sizeof *r);
	r->fd = -1;
}
