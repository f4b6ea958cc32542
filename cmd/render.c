#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "pass.h"
#include "tools.h"

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

void render_finding(FILE *out, const struct unit *u, const struct finding *f)
{
	if (trace_profile_defer(out, u, f)) /* printed later, ordered by execution count */
		return;
	unsigned col = render_char_column(u->src, u->len, f->row, f->col);
	fprintf(out, "%s:%u:%u: %s %s", u->path, f->row + 1, col, f->pass->code, f->message);
	if (f->applicability == FIX_SAFE && f->nedits)
		fputs(" [*]", out);
	else if (f->applicability == FIX_UNSAFE && f->nedits)
		fprintf(out, " (unsafe fix: %s)", f->reason ? f->reason : "behaviour may change");
	else if (f->reason)
		fprintf(out, " (no fix: %s)", f->reason);
	fputc('\n', out);
}

void render_error(FILE *err, const char *level, const char *path, const char *msg, bool has_pos, unsigned row,
		  unsigned col)
{
	if (has_pos)
		fprintf(err, "%s: %s:%u:%u: %s\n", level, path, row + 1, col + 1, msg);
	else
		fprintf(err, "%s: %s: %s\n", level, path, msg);
}

static const char *plural(size_t n, const char *one, const char *many) { return n == 1 ? one : many; }

void render_summary(FILE *out, const struct options *o, const struct totals *t)
{
	trace_profile_flush();
	if (o->quiet || o->mode == MODE_CHECK)
		return;
	/* machine-readable formats print nothing but the findings (diffs keep their summary) */
	if (o->mode != MODE_DIFF && o->format != FMT_TEXT && o->format != FMT_CONCISE) {
		if (t->errors)
			fprintf(stderr, "%d %s could not be analysed (see the errors above).\n", t->errors,
				t->errors == 1 ? "file" : "files");
		return;
	}
	if (o->mode == MODE_DIFF) {
		if (t->fixed)
			fprintf(stderr, "Would fix %zu %s in %zu %s.\n", t->fixed, plural(t->fixed, "finding", "findings"),
				t->changed_files, plural(t->changed_files, "file", "files"));
		else
			fprintf(stderr, "No fixes available.\n");
		return;
	}
	if (o->mode == MODE_FIX) {
		if (t->findings || t->fixed)
			fprintf(out, "Found %zu %s (%zu fixed, %zu remaining).\n", t->findings + t->fixed,
				plural(t->findings + t->fixed, "finding", "findings"), t->fixed, t->findings);
		else
			fprintf(out, "All checks passed!\n");
	} else if (t->findings) {
		fprintf(out, "Found %zu %s.\n", t->findings, plural(t->findings, "finding", "findings"));
		if (t->fixable)
			fprintf(out, "[*] %zu fixable with the `--fix` option", t->fixable);
		if (t->unsafe_fixable)
			fprintf(out, "%s%zu hidden %s can be enabled with the `--unsafe-fixes` option",
				t->fixable ? " (" : "", t->unsafe_fixable, plural(t->unsafe_fixable, "fix", "fixes"));
		if (t->fixable || t->unsafe_fixable)
			fprintf(out, "%s.\n", t->fixable && t->unsafe_fixable ? ")" : "");
	} else {
		fprintf(out, "All checks passed!\n");
	}
	if (t->errors)
		fprintf(stderr, "%d %s could not be analysed (see the errors above).\n", t->errors,
			plural((size_t)t->errors, "file", "files"));
}

/* Ruff's --statistics: count, code and name per rule, most frequent first; `[*]` when every
 * finding of the rule has a safe fix. JSON formats print an array of {code, name, count,
 * fixable}. */
void render_statistics(FILE *out, const struct options *o, const struct totals *t)
{
	size_t idx[MAX_PASSES], n = 0;
	for (size_t i = 0; i < o->npasses; i++)
		if (t->by_pass[i])
			idx[n++] = i;
	for (size_t i = 1; i < n; i++) /* insertion sort: count descending, then registry order */
		for (size_t k = i; k > 0 && t->by_pass[idx[k]] > t->by_pass[idx[k - 1]]; k--) {
			size_t x = idx[k];
			idx[k] = idx[k - 1];
			idx[k - 1] = x;
		}
	bool json = o->format == FMT_JSON || o->format == FMT_JSONL;
	if (json)
		fputs(n ? "[\n" : "[]\n", out);
	int width = 1;
	for (size_t i = 0; i < n; i++) {
		int w = snprintf(NULL, 0, "%zu", t->by_pass[idx[i]]);
		width = w > width ? w : width;
	}
	for (size_t i = 0; i < n; i++) {
		const struct pass *p = pass_registry[idx[i]];
		size_t count = t->by_pass[idx[i]];
		bool fixable = t->fixable_by_pass[idx[i]] == count;
		if (json)
			fprintf(out, "  {\"code\": \"%s\", \"name\": \"%s\", \"count\": %zu, \"fixable\": %s}%s\n", p->code,
				p->name, count, fixable ? "true" : "false", i + 1 < n ? "," : "");
		else
			fprintf(out, "%*zu\t%s\t%s%s\n", width, count, p->code, fixable ? "[*] " : "[ ] ", p->name);
	}
	if (json && n)
		fputs("]\n", out);
}
