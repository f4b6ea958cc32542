/* The one-line and machine-readable forms of a finding: Ruff's concise line, GitHub Actions
 * annotations, JSON (json.c); the default text line is render_finding (render.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "pass.h"

/* GitHub workflow commands escape %, CR and LF in the message, and also : and , in properties. */
static void gh_escape(FILE *out, const char *s, bool property)
{
	for (; *s; s++) {
		if (*s == '%')
			fputs("%25", out);
		else if (*s == '\r')
			fputs("%0D", out);
		else if (*s == '\n')
			fputs("%0A", out);
		else if (property && *s == ':')
			fputs("%3A", out);
		else if (property && *s == ',')
			fputs("%2C", out);
		else
			fputc(*s, out);
	}
}

void render_finding_as(FILE *out, const struct options *o, const struct unit *u, const struct finding *f)
{
	unsigned col = render_char_column(u->src, u->len, f->row, f->col);
	bool safe = f->applicability == FIX_SAFE && f->nedits;
	switch (o->format) {
	case FMT_JSON:
	case FMT_JSONL:
		if (render_json_finding(out, o, u, f) < 0)
			fprintf(stderr, "error: %s: cannot render a finding as JSON (out of memory?)\n", u->path);
		return;
	case FMT_CONCISE:
		/* Ruff's concise line: path:row:col: CODE [*] message */
		fprintf(out, "%s:%u:%u: %s %s%s\n", u->path, f->row + 1, col, f->pass->code, safe ? "[*] " : "",
			f->message);
		return;
	case FMT_GITHUB: {
		char *abs = strcmp(u->path, "-") ? path_absolute(u->path) : NULL;
		fprintf(out, "::error title=spipfix (%s),file=", f->pass->code);
		gh_escape(out, abs ? abs : u->path, true);
		fprintf(out, ",line=%u,col=%u,endLine=%u,endColumn=%u::", f->row + 1, col, f->end_row + 1,
			render_char_column(u->src, u->len, f->end_row, f->end_col));
		free(abs);
		char *msg = NULL;
		size_t n = 0;
		FILE *m = open_memstream(&msg, &n);
		if (m) {
			fprintf(m, "%s:%u:%u: %s %s%s", u->path, f->row + 1, col, f->pass->code, safe ? "[*] " : "",
				f->message);
			fclose(m);
			gh_escape(out, msg, false);
		}
		free(msg);
		fputc('\n', out);
		return;
	}
	case FMT_TEXT:
		break;
	}
	render_finding(out, u, f);
}
