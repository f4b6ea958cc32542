/* libFuzzer harness for the language server's message reader (cmd/server/message.c), held to
 * its contract: the parser answers every input (a message using at most the bytes given, "more"
 * using nothing, or an error dropping at least one byte), is a pure function of the bytes (the
 * same answer twice), never finds a message in a strict prefix of one it found (every prefix
 * is "more"), and the reader over a pipe, fed the same well-formed bytes in pieces, reads the
 * same messages as the parser in one piece. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "message.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void broken(const char *what)
{
	fprintf(stderr, "fuzz_lsp_message: %s\n", what);
	abort();
}

/* Every message and error the parser finds in buf, in order, as "M<json>" / "E<code>" lines. */
static char *parse_all(const char *buf, size_t len)
{
	char *log = NULL;
	size_t loglen = 0;
	FILE *out = open_memstream(&log, &loglen);
	if (!out)
		return NULL;
	for (size_t at = 0; at < len;) {
		size_t used = 12345;
		json_t *msg = NULL;
		struct lsp_frame_error err = {0};
		enum lsp_frame f = lsp_frame_parse(buf + at, len - at, &used, &msg, &err);
		size_t used2 = 0;
		json_t *msg2 = NULL;
		struct lsp_frame_error err2 = {0};
		if (lsp_frame_parse(buf + at, len - at, &used2, &msg2, &err2) != f || (f != LSP_FRAME_MORE && used2 != used))
			broken("the same bytes gave another answer");
		if (f == LSP_FRAME_MESSAGE) {
			if (!msg || !msg2 || used == 0 || used > len - at)
				broken("a message without a body, or using bytes it was not given");
			if (!json_equal(msg, msg2))
				broken("the same bytes gave another body");
			size_t pu;
			json_t *pm = NULL;
			struct lsp_frame_error pe;
			if (lsp_frame_parse(buf + at, used - 1, &pu, &pm, &pe) == LSP_FRAME_MESSAGE)
				broken("a strict prefix of a message is a message");
			json_decref(pm);
			char *s = json_dumps(msg, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
			fprintf(out, "M%s\n", s ? s : "?");
			free(s);
			json_decref(msg);
			json_decref(msg2);
			at += used;
		} else if (f == LSP_FRAME_MORE) {
			if (msg || msg2)
				broken("\"more\" with a body");
			break;
		} else {
			if (used < 1 || (err.code != -32700 && err.code != -32600) || !err.message[0])
				broken("an error that drops nothing or says nothing");
			json_decref(msg);
			json_decref(msg2);
			fprintf(out, "E%d\n", err.code);
			if (used > len - at)
				break; /* the rest of a body too large to hold */
			at += used;
		}
	}
	fclose(out);
	return log;
}

/* The same through the reader: the bytes written into a pipe in pieces of the sizes the first
 * byte picks, messages read after each piece. */
static char *read_all(const char *buf, size_t len, unsigned piece)
{
	int p[2];
	if (pipe(p) < 0)
		return NULL;
	char *log = NULL;
	size_t loglen = 0;
	FILE *out = open_memstream(&log, &loglen);
	struct lsp_reader r = {.fd = p[0]};
	for (size_t at = 0;;) {
		size_t n = len - at < piece ? len - at : piece;
		if (n && fd_write_all(p[1], buf + at, n) < 0)
			break;
		at += n;
		if (at == len && p[1] >= 0) {
			close(p[1]);
			p[1] = -1;
		}
		if (n && lsp_reader_fill(&r) < 0)
			break;
		if (!n && !r.eof && lsp_reader_fill(&r) <= 0 && r.eof == false)
			break;
		for (;;) {
			json_t *msg = NULL;
			struct lsp_frame_error err;
			enum lsp_frame f = lsp_reader_next(&r, &msg, &err);
			if (f == LSP_FRAME_MORE)
				break;
			if (f == LSP_FRAME_MESSAGE) {
				char *s = json_dumps(msg, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
				fprintf(out, "M%s\n", s ? s : "?");
				free(s);
				json_decref(msg);
			} else {
				fprintf(out, "E%d\n", err.code);
			}
		}
		if (r.eof)
			break;
	}
	if (p[1] >= 0)
		close(p[1]);
	close(p[0]);
	lsp_reader_free(&r);
	if (out)
		fclose(out);
	return log;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 60000) /* a pipe holds 64 KiB: one thread writes and reads it */
		return 0;
	unsigned piece = 1 + data[0] % 64;
	const char *buf = (const char *)data + 1;
	size_t len = size - 1;
	char *a = parse_all(buf, len), *b = read_all(buf, len, piece);
	/* the reader reports an unfinished message at the end as one more error: compare what
	 * both found before that. Only for input without malformed messages: after one, where the
	 * parser resumes depends on how much of the bad header had arrived (it drops what it has),
	 * which is the framing's documented contract ("at least one byte"). */
	if (a && b && !strstr(a, "E-") && strncmp(a, b, strlen(a)) != 0)
		broken("the reader and the parser disagree on the messages of the same bytes");
	free(a);
	free(b);
	return 0;
}
