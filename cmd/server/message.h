/* The base protocol of the Language Server Protocol: a header (`Content-Length: N`, other fields
 * ignored, each line ended by CRLF, the header by an empty line), then N bytes of JSON. The
 * parser is a pure function of the bytes given (the contract a fuzzer holds it to); the reader
 * feeds it from a file descriptor. */
#ifndef SPIPFIX_SERVER_MESSAGE_H
#define SPIPFIX_SERVER_MESSAGE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define LSP_MAX_HEADER 8192u          /* a longer header is refused */
#define LSP_MAX_BODY (96u << 20)      /* a longer body is refused (and dropped as it arrives) */

enum lsp_frame {
	LSP_FRAME_MESSAGE, /* a message: its JSON body */
	LSP_FRAME_MORE,    /* the bytes begin a message that has not arrived whole */
	LSP_FRAME_ERROR,   /* a malformed message, to be answered with a JSON-RPC error and dropped */
};

struct lsp_frame_error {
	int code;          /* the JSON-RPC error: -32700 (parse error) or -32600 (invalid request) */
	char message[200];
};

/* The first message of buf[0, len), which need not be NUL-terminated:
 *   LSP_FRAME_MESSAGE  *msg is its body (a new jansson reference: any JSON value, the caller
 *                      checks that it is a JSON-RPC object) and *used the bytes of its header
 *                      and body;
 *   LSP_FRAME_MORE     nothing is used; call again with more bytes;
 *   LSP_FRAME_ERROR    *err says why; *used bytes are to be dropped, at least 1 and possibly
 *                      more than len (the rest of a body too large to hold, still to arrive).
 * Reads nothing outside buf[0, len), keeps no state, and allocates only the parsed body. */
enum lsp_frame lsp_frame_parse(const char *buf, size_t len, size_t *used, json_t **msg, struct lsp_frame_error *err);

/* Reads messages from a file descriptor. */
struct lsp_reader {
	int fd;
	char *buf;         /* bytes read and not yet used: buf[start, len) */
	size_t start, len, cap;
	size_t skip;       /* bytes of a refused message still to drop as they arrive */
	bool eof;          /* the descriptor reached its end (or failed) */
};

/* Read what fd has (one read: call it when poll says fd is readable). Returns the number of bytes
 * read, 0 at the end of the input, -1 on an error (r->eof is then set too). */
ssize_t lsp_reader_fill(struct lsp_reader *r);
/* The next message among the bytes read, as lsp_frame_parse says, the bytes used dropped. At the
 * end of the input, bytes that begin a message are an error once, then LSP_FRAME_MORE. */
enum lsp_frame lsp_reader_next(struct lsp_reader *r, json_t **msg, struct lsp_frame_error *err);
void lsp_reader_free(struct lsp_reader *r);

#endif
