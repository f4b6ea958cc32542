/* The default line: `path:row:col: CODE message` and what the fix is, with the execution count
 * when a trace was given. */
#include "render.h"

#include "pass.h"

static void finding(FILE *out, const struct render_run *run, const struct unit *u, const struct finding *f)
{
	render_location(out, run, u->path, f->row + 1, render_char_column(u->src, u->len, f->row, f->col), f->pass->code);
	fputs(f->message, out);
	render_fix_note(out, run, f);
	render_executions(out, run, f);
	fputc('\n', out);
}

const struct renderer render_text = {.name = "text", .alias = "full", .separator = "", .finding = finding};
