/* Ruff's concise line: `path:row:col: CODE [*] message`, and why a fix is unsafe or missing. */
#include "render.h"

#include "pass.h"

static void finding(FILE *out, const struct render_run *run, const struct unit *u, const struct finding *f)
{
	render_location(out, run, u->path, f->row + 1, render_char_column(u->src, u->len, f->row, f->col), f->pass->code);
	if (render_safe(f))
		fprintf(out, "[%s*%s] ", render_sgr(run->color, SGR_SEP), render_sgr(run->color, SGR_RESET));
	fputs(f->message, out);
	render_fix_reason(out, f);
	fputc('\n', out);
}

const struct renderer render_concise = {.name = "concise", .separator = "", .finding = finding};
