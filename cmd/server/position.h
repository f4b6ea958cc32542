/* Positions of the Language Server Protocol in a document's UTF-8 text: a line (ended by LF,
 * CRLF or CR, as the protocol counts them) and a character offset in the negotiated encoding
 * (UTF-16 code units unless the client offered UTF-8 bytes or UTF-32 code points). */
#ifndef SPIPFIX_SERVER_POSITION_H
#define SPIPFIX_SERVER_POSITION_H

#include <stddef.h>

enum lsp_encoding { LSP_UTF16, LSP_UTF8, LSP_UTF32 };

/* The start of each line of a text. */
struct lsp_lines {
	size_t *start;
	size_t n;
};

/* Index text[0, len). Returns 0 / -1 (out of memory). */
int lsp_lines_build(struct lsp_lines *l, const char *text, size_t len);
void lsp_lines_free(struct lsp_lines *l);

/* The byte offset of (line, character), as the protocol says to clamp: a character past the
 * end of its line is the line's end (before its line break), a line past the last one is the end
 * of the text; a character inside a multi-byte sequence (or between a UTF-16 surrogate pair)
 * is the start of that character. */
size_t lsp_offset(const struct lsp_lines *l, const char *text, size_t len, unsigned long line, unsigned long character,
		  enum lsp_encoding enc);
/* The (line, character) of byte offset off (clamped to the text). */
void lsp_position(const struct lsp_lines *l, const char *text, size_t len, size_t off, enum lsp_encoding enc,
		  unsigned long *line, unsigned long *character);

#endif
