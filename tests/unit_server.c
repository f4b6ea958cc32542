/* The language server's framing (cmd/server/message.c: bytes in -> a message, "more", or an
 * error and the bytes to drop) and its positions (cmd/server/position.c: UTF-16, UTF-8, line
 * breaks, clamping). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "message.h"
#include "position.h"

static enum lsp_frame parse(const char *s, size_t n, size_t *used, json_t **msg, struct lsp_frame_error *e)
{
	/* a copy of exactly n bytes, so that ASan sees any read past them */
	char *copy = malloc(n ? n : 1);
	memcpy(copy, s, n);
	enum lsp_frame f = lsp_frame_parse(copy, n, used, msg, e);
	free(copy);
	return f;
}

Test(frame, one_message_and_every_prefix_of_it)
{
	const char *m = "Content-Length: 15\r\n\r\n{\"method\":\"x\"} ";
	size_t n = strlen(m);
	for (size_t k = 0; k < n; k++) {
		size_t used = 99;
		json_t *msg = NULL;
		struct lsp_frame_error e;
		cr_assert_eq(parse(m, k, &used, &msg, &e), LSP_FRAME_MORE, "prefix of %zu bytes", k);
		cr_assert_eq(used, 0);
		cr_assert_null(msg);
	}
	size_t used;
	json_t *msg;
	struct lsp_frame_error e;
	cr_assert_eq(parse(m, n, &used, &msg, &e), LSP_FRAME_MESSAGE);
	cr_assert_eq(used, n);
	cr_assert_str_eq(json_string_value(json_object_get(msg, "method")), "x");
	json_decref(msg);
}

Test(frame, two_messages_other_fields_any_case_and_bare_lf)
{
	const char *m = "content-length: 2\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n{}"
			"Content-Length:3\n\n[1]";
	size_t used, n = strlen(m);
	json_t *msg;
	struct lsp_frame_error e;
	cr_assert_eq(parse(m, n, &used, &msg, &e), LSP_FRAME_MESSAGE);
	cr_assert(json_is_object(msg));
	json_decref(msg);
	size_t first = used;
	cr_assert_eq(parse(m + first, n - first, &used, &msg, &e), LSP_FRAME_MESSAGE);
	cr_assert(json_is_array(msg), "a body that is not an object is still returned: the caller answers it");
	cr_assert_eq(first + used, n);
	json_decref(msg);
}

Test(frame, malformed_headers_are_errors_that_drop_the_header)
{
	const char *bad[] = {
		"Hello there\r\n\r\n",                       /* not a field */
		"X-Other: 1\r\n\r\n",                        /* no Content-Length */
		"Content-Length: 12x\r\n\r\n",               /* not a number */
		"Content-Length: \r\n\r\n",                  /* empty */
		"Content-Length: 99999999999999999999999\r\n\r\n", /* overflow */
		"Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}", /* two values */
		"{\"jsonrpc\": \"2.0\"}",                    /* JSON without a header */
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		size_t used = 0, n = strlen(bad[i]);
		json_t *msg = NULL;
		struct lsp_frame_error e = {0};
		cr_assert_eq(parse(bad[i], n, &used, &msg, &e), LSP_FRAME_ERROR, "case %zu", i);
		cr_assert_eq(e.code, -32700, "case %zu", i);
		cr_assert(used >= 1 && used <= n, "case %zu used %zu of %zu", i, used, n);
		cr_assert_null(msg);
		cr_assert(strlen(e.message) > 0);
	}
	/* the bad header is dropped through its empty line: what follows is a message again */
	const char *m = "Content-Length: 1z\r\n\r\nContent-Length: 2\r\n\r\n{}";
	size_t used;
	json_t *msg;
	struct lsp_frame_error e;
	cr_assert_eq(parse(m, strlen(m), &used, &msg, &e), LSP_FRAME_ERROR);
	cr_assert_eq(used, strlen("Content-Length: 1z\r\n\r\n"));
	cr_assert_eq(parse(m + used, strlen(m) - used, &used, &msg, &e), LSP_FRAME_MESSAGE);
	json_decref(msg);
}

Test(frame, bodies_that_are_not_json_or_too_large)
{
	const char *m = "Content-Length: 9\r\n\r\n{not json";
	size_t used;
	json_t *msg;
	struct lsp_frame_error e;
	cr_assert_eq(parse(m, strlen(m), &used, &msg, &e), LSP_FRAME_ERROR);
	cr_assert_eq(used, strlen(m), "the whole message is dropped");
	cr_assert(strstr(e.message, "not JSON"));
	char big[64];
	snprintf(big, sizeof big, "Content-Length: %u\r\n\r\n{", LSP_MAX_BODY + 1);
	cr_assert_eq(parse(big, strlen(big), &used, &msg, &e), LSP_FRAME_ERROR);
	cr_assert_eq(used, strlen(big) - 1 + LSP_MAX_BODY + 1, "the body still to come is to be dropped too");
	/* a NUL inside a string is JSON's \u0000: kept, with its length */
	const char *nul = "Content-Length: 16\r\n\r\n{\"t\":\"a\\u0000b\"}";
	cr_assert_eq(parse(nul, strlen(nul), &used, &msg, &e), LSP_FRAME_MESSAGE);
	cr_assert_eq(json_string_length(json_object_get(msg, "t")), 3);
	json_decref(msg);
}

Test(frame, a_header_that_never_ends_is_refused)
{
	size_t n = LSP_MAX_HEADER + 10;
	char *m = malloc(n);
	memset(m, 'a', n);
	memcpy(m, "X-Long: ", 8);
	size_t used;
	json_t *msg;
	struct lsp_frame_error e;
	cr_assert_eq(parse(m, n, &used, &msg, &e), LSP_FRAME_ERROR);
	cr_assert(used >= 1 && used <= n);
	free(m);
}

/* Random bytes, and random damage to a valid message: the parser answers every call, uses what
 * it says (never more than the bytes unless a body is to be skipped), and never crashes. */
Test(frame, random_input)
{
	srand(1234);
	const char *good = "Content-Length: 29\r\n\r\n{\"jsonrpc\":\"2.0\",\"id\":1,\"a\":1}";
	for (int round = 0; round < 20000; round++) {
		char buf[96];
		size_t n = (size_t)(rand() % (int)sizeof buf);
		if (round % 2) {
			size_t g = strlen(good);
			n = g < sizeof buf ? g : sizeof buf;
			memcpy(buf, good, n);
			for (int k = rand() % 4; k >= 0; k--)
				buf[rand() % (int)n] = (char)(rand() % 256);
		} else {
			for (size_t i = 0; i < n; i++)
				buf[i] = (char)(rand() % 256);
		}
		size_t used;
		json_t *msg;
		struct lsp_frame_error e;
		enum lsp_frame f = parse(buf, n, &used, &msg, &e);
		if (f == LSP_FRAME_MESSAGE) {
			cr_assert(used <= n && msg);
			json_decref(msg);
		} else if (f == LSP_FRAME_MORE) {
			cr_assert_eq(used, 0);
		} else {
			cr_assert(used >= 1);
		}
	}
}

/* A reader over a pipe: messages split across reads, an error, the end inside a message. */
Test(reader, split_messages_errors_and_the_end)
{
	int p[2];
	cr_assert_eq(pipe(p), 0);
	struct lsp_reader r = {.fd = p[0]};
	const char *a = "Content-Length: 2\r\n\r\n{}";
	cr_assert_eq(write(p[1], a, 10), 10);
	cr_assert_gt(lsp_reader_fill(&r), 0);
	json_t *msg;
	struct lsp_frame_error e;
	cr_assert_eq(lsp_reader_next(&r, &msg, &e), LSP_FRAME_MORE);
	const char *rest = a + 10;
	cr_assert_eq(write(p[1], rest, strlen(rest)), (ssize_t)strlen(rest));
	cr_assert_eq(write(p[1], "Oops\r\n\r\nContent-Le", 18), 18);
	cr_assert_gt(lsp_reader_fill(&r), 0);
	cr_assert_eq(lsp_reader_next(&r, &msg, &e), LSP_FRAME_MESSAGE);
	json_decref(msg);
	cr_assert_eq(lsp_reader_next(&r, &msg, &e), LSP_FRAME_ERROR);
	cr_assert_eq(lsp_reader_next(&r, &msg, &e), LSP_FRAME_MORE);
	close(p[1]);
	cr_assert_eq(lsp_reader_fill(&r), 0);
	cr_assert(r.eof);
	cr_assert_eq(lsp_reader_next(&r, &msg, &e), LSP_FRAME_ERROR, "the input ended inside a message");
	cr_assert(strstr(e.message, "ended"));
	cr_assert_eq(lsp_reader_next(&r, &msg, &e), LSP_FRAME_MORE);
	lsp_reader_free(&r);
	close(p[0]);
}

/* ---- positions ---------------------------------------------------------------------------- */

/* "a😀b" : the emoji is 4 bytes, 2 UTF-16 units, 1 code point */
static const char text[] = "x = 1\r\na\xF0\x9F\x98\x80" "b\rlast\n";

Test(position, utf16_utf8_utf32_round_trip)
{
	struct lsp_lines l = {0};
	size_t len = strlen(text);
	cr_assert_eq(lsp_lines_build(&l, text, len), 0);
	cr_assert_eq(l.n, 4, "LF, CRLF and CR each end a line");
	size_t b = strchr(text, 'b') - text;
	unsigned long line, ch;
	lsp_position(&l, text, len, b, LSP_UTF16, &line, &ch);
	cr_assert(line == 1 && ch == 3, "UTF-16: %lu:%lu", line, ch);
	lsp_position(&l, text, len, b, LSP_UTF8, &line, &ch);
	cr_assert(line == 1 && ch == 5);
	lsp_position(&l, text, len, b, LSP_UTF32, &line, &ch);
	cr_assert(line == 1 && ch == 2);
	cr_assert_eq(lsp_offset(&l, text, len, 1, 3, LSP_UTF16), b);
	cr_assert_eq(lsp_offset(&l, text, len, 1, 5, LSP_UTF8), b);
	cr_assert_eq(lsp_offset(&l, text, len, 1, 2, LSP_UTF32), b);
	lsp_lines_free(&l);
}

Test(position, clamping)
{
	struct lsp_lines l = {0};
	size_t len = strlen(text);
	cr_assert_eq(lsp_lines_build(&l, text, len), 0);
	size_t a = strchr(text, 'a') - text;
	cr_assert_eq(lsp_offset(&l, text, len, 0, 99, LSP_UTF16), 5, "past the end of a line: before its CRLF");
	cr_assert_eq(lsp_offset(&l, text, len, 1, 2, LSP_UTF16), a + 1, "between a surrogate pair: the emoji's start");
	cr_assert_eq(lsp_offset(&l, text, len, 1, 3, LSP_UTF8), a + 1, "inside a UTF-8 sequence: its start");
	cr_assert_eq(lsp_offset(&l, text, len, 1, 99, LSP_UTF16), (size_t)(strchr(text, '\r' + 0) ? strrchr(text, '\r') - text : 0),
		     "a line ended by CR: before the CR");
	cr_assert_eq(lsp_offset(&l, text, len, 2, 99, LSP_UTF16), len - 1, "a line ended by LF: before the LF");
	cr_assert_eq(lsp_offset(&l, text, len, 3, 0, LSP_UTF16), len, "the empty last line");
	cr_assert_eq(lsp_offset(&l, text, len, 42, 0, LSP_UTF16), len, "past the last line: the end");
	unsigned long line, ch;
	lsp_position(&l, text, len, len + 10, LSP_UTF16, &line, &ch);
	cr_assert(line == 3 && ch == 0);
	lsp_lines_free(&l);
	cr_assert_eq(lsp_lines_build(&l, "", 0), 0);
	cr_assert_eq(lsp_offset(&l, "", 0, 0, 5, LSP_UTF16), 0);
	lsp_lines_free(&l);
}
