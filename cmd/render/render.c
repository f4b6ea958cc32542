/* The renderer table and what renderers share. */
#include "render.h"
#include "trace.h"

#include <stdio.h>
#include <string.h>

const struct renderer *const render_formats[] = {
	&render_text, &render_concise, &render_json, &render_jsonl, &render_github, &render_sarif, NULL,
};

const struct renderer *render_lookup(const char *name)
{
	for (const struct renderer *const *r = render_formats; *r; r++)
		if (!strcmp((*r)->name, name) || ((*r)->alias && !strcmp((*r)->alias, name)))
			return *r;
	return NULL;
}

unsigned render_char_column(const char *src, size_t len, unsigned row, unsigned bytecol)
{
	size_t i = 0;
	for (unsigned r = 0; r < row && i < len; i++)
		if (src[i] == '\n')
			r++;
	unsigned col = 1;
	for (size_t k = 0; k < bytecol && i + k < len; k++)
		if (((unsigned char)src[i + k] & 0xC0) != 0x80)
			col++;
	return col;
}

void render_error(FILE *err, const char *level, const char *path, const char *msg, bool has_pos, unsigned row,
		  unsigned col)
{
	if (has_pos)
		fprintf(err, "%s: %s:%u:%u: %s\n", level, path, row + 1, col + 1, msg);
	else
		fprintf(err, "%s: %s: %s\n", level, path, msg);
}

void render_unit_error(FILE *err, const struct unit *u)
{
	render_error(err, u->error_kind == UE_NEWER ? "warning" : "error", u->path, u->error ? u->error : "cannot analyse",
		     u->error_has_pos, u->error_row, u->error_col);
}

bool render_safe(const struct finding *f) { return f->applicability == FIX_SAFE && f->nedits; }

void render_fix_reason(FILE *out, const struct finding *f)
{
	if (render_safe(f))
		return;
	if (f->applicability == FIX_UNSAFE && f->nedits)
		fprintf(out, " (unsafe fix: %s)", f->reason ? f->reason : "behaviour may change");
	else if (f->reason)
		fprintf(out, " (no fix: %s)", f->reason);
}

void render_fix_note(FILE *out, const struct render_run *run, const struct finding *f)
{
	if (render_safe(f))
		fprintf(out, " [%s*%s]", render_sgr(run->color, SGR_SEP), render_sgr(run->color, SGR_RESET));
	else
		render_fix_reason(out, f);
}

void render_location(FILE *out, const struct render_run *run, const char *path, unsigned row, unsigned col,
		     const char *code)
{
	const char *b = render_sgr(run->color, SGR_BOLD), *s = render_sgr(run->color, SGR_SEP),
		   *c = render_sgr(run->color, SGR_CODE), *r = render_sgr(run->color, SGR_RESET);
	fprintf(out, "%s%s%s%s:%s%u%s:%s%u%s:%s %s%s%s ", b, path, r, s, r, row, s, r, col, s, r, c, code, r);
}

void render_executions(FILE *out, const struct render_run *run, const struct finding *f)
{
	if (!run->traced)
		return;
	double est = trace_estimate_ns(f);
	if (est > 0) {
		fputs(" (fix saves ~", out);
		trace_print_duration(out, est);
		fputs(" over the trace)", out);
	}
	if (f->executions < 0)
		fputs(" (not traced)", out);
	else if (f->executions == 1)
		fputs(" (executed once)", out);
	else
		fprintf(out, " (executed %lld times)", f->executions);
}
