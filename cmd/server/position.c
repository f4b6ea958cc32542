/* LSP positions <-> byte offsets (position.h). */
#include "position.h"

#include <stdlib.h>

int lsp_lines_build(struct lsp_lines *l, const char *text, size_t len)
{
	size_t n = 1;
	for (size_t i = 0; i < len; i++)
		if (text[i] == '\n' || (text[i] == '\r' && (i + 1 == len || text[i + 1] != '\n')))
			n++;
	size_t *s = malloc(n * sizeof *s);
	if (!s)
		return -1;
	size_t k = 0;
	s[k++] = 0;
	for (size_t i = 0; i < len; i++)
		if (text[i] == '\n' || (text[i] == '\r' && (i + 1 == len || text[i + 1] != '\n')))
			s[k++] = i + 1;
	free(l->start);
	l->start = s;
	l->n = n;
	return 0;
}

void lsp_lines_free(struct lsp_lines *l)
{
	free(l->start);
	l->start = NULL;
	l->n = 0;
}

/* Where line i's content ends: before its line break. */
static size_t content_end(const struct lsp_lines *l, const char *text, size_t len, size_t i)
{
	if (i + 1 >= l->n)
		return len;
	size_t e = l->start[i + 1];
	if (e > 0 && text[e - 1] == '\n')
		e--;
	if (e > l->start[i] && text[e - 1] == '\r')
		e--;
	return e;
}

/* Length of the UTF-8 sequence led by byte c (1 for a stray continuation byte). */
static size_t seq_len(unsigned char c) { return c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1; }

/* Code units of one character (led by byte c) in the encoding. */
static size_t units(unsigned char c, enum lsp_encoding enc)
{
	if (enc == LSP_UTF8)
		return seq_len(c);
	if (enc == LSP_UTF16)
		return c >= 0xF0 ? 2 : 1;
	return 1;
}

size_t lsp_offset(const struct lsp_lines *l, const char *text, size_t len, unsigned long line, unsigned long character,
		  enum lsp_encoding enc)
{
	if (!l->n || line >= l->n)
		return len;
	size_t off = l->start[line], end = content_end(l, text, len, line);
	unsigned long have = 0;
	while (off < end) {
		size_t n = seq_len((unsigned char)text[off]), u = units((unsigned char)text[off], enc);
		if (have + u > character)
			break;
		have += u;
		off += n <= end - off ? n : end - off;
	}
	return off;
}

void lsp_position(const struct lsp_lines *l, const char *text, size_t len, size_t off, enum lsp_encoding enc,
		  unsigned long *line, unsigned long *character)
{
	if (off > len)
		off = len;
	size_t lo = 0, hi = l->n;
	while (hi - lo > 1) { /* the last line starting at or before off */
		size_t mid = lo + (hi - lo) / 2;
		if (l->start[mid] <= off)
			lo = mid;
		else
			hi = mid;
	}
	size_t ls = l->n ? l->start[lo] : 0;
	unsigned long c = 0;
	if (enc == LSP_UTF8)
		c = (unsigned long)(off - ls);
	else
		for (size_t i = ls; i < off;) {
			c += units((unsigned char)text[i], enc);
			i += seq_len((unsigned char)text[i]);
		}
	*line = lo;
	*character = c;
}
