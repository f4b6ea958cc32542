/* GitHub Actions workflow commands: one annotation per finding, `::warning` when the finding has a
 * fix (safe or unsafe), `::notice` when it is reported only; the message says why a fix is unsafe
 * or missing. None is `::error`: a finding is waste to remove, not a broken build. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "pass.h"
#include "render.h"

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

static void finding(FILE *out, const struct render_run *run, const struct unit *u, const struct finding *f)
{
	(void)run;
	unsigned col = render_char_column(u->src, u->len, f->row, f->col);
	bool safe = render_safe(f);
	char *abs = strcmp(u->path, "-") ? path_absolute(u->path) : NULL;
	bool fixable = f->applicability != FIX_NONE && f->nedits;
	fprintf(out, "::%s title=spipfix (%s),file=", fixable ? "warning" : "notice", f->pass->code);
	gh_escape(out, abs ? abs : u->path, true);
	fprintf(out, ",line=%u,col=%u,endLine=%u,endColumn=%u::", f->row + 1, col, f->end_row + 1,
		render_char_column(u->src, u->len, f->end_row, f->end_col));
	free(abs);
	char *msg = NULL;
	size_t n = 0;
	FILE *m = open_memstream(&msg, &n);
	if (m) {
		fprintf(m, "%s:%u:%u: %s %s%s", u->path, f->row + 1, col, f->pass->code, safe ? "[*] " : "", f->message);
		render_fix_reason(m, f);
		fclose(m);
		gh_escape(out, msg, false);
	}
	free(msg);
	fputc('\n', out);
}

const struct renderer render_github = {.name = "github", .separator = "", .machine = true, .finding = finding};
