/* Ruff's concise line: `path:row:col: CODE [*] message`. */
#include "render.h"

#include "pass.h"

static void finding(FILE *out, const struct render_run *run, const struct unit *u, const struct finding *f)
{
	(void)run;
	unsigned col = render_char_column(u->src, u->len, f->row, f->col);
	fprintf(out, "%s:%u:%u: %s %s%s\n", u->path, f->row + 1, col, f->pass->code, render_safe(f) ? "[*] " : "",
		f->message);
}

const struct renderer render_concise = {.name = "concise", .separator = "", .finding = finding};
