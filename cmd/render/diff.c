/* Unified diffs through libgit2 (git_patch_from_buffers): a well-kept Myers/histogram diff
 * instead of a hand-written one. We print our own `---`/`+++` header, like Ruff's --diff. */
#include <git2.h>
#include <string.h>

#include "render.h"

struct printer {
	FILE *out;
	bool color;
};

static int print_line(const git_diff_delta *d, const git_diff_hunk *h, const git_diff_line *l, void *payload)
{
	(void)d;
	const struct printer *p = payload;
	FILE *out = p->out;
	const char *style = l->origin == GIT_DIFF_LINE_ADDITION ? SGR_ADD : l->origin == GIT_DIFF_LINE_DELETION ? SGR_DEL : NULL;
	switch (l->origin) {
	case GIT_DIFF_LINE_HUNK_HDR:
		fputs(render_sgr(p->color, SGR_HUNK), out);
		/* plain `@@ -a,b +c,d @@`, without git's function-context suffix; a count of 1 is
		 * left out, as GNU diff does */
		fprintf(out, "@@ -%d", h->old_start);
		if (h->old_lines != 1)
			fprintf(out, ",%d", h->old_lines);
		fprintf(out, " +%d", h->new_start);
		if (h->new_lines != 1)
			fprintf(out, ",%d", h->new_lines);
		fprintf(out, " @@%s\n", render_sgr(p->color, SGR_RESET));
		break;
	case GIT_DIFF_LINE_CONTEXT:
	case GIT_DIFF_LINE_ADDITION:
	case GIT_DIFF_LINE_DELETION: {
		/* the colour ends before the line's newline, as git prints it */
		size_t n = l->content_len;
		bool nl = n && l->content[n - 1] == '\n';
		if (style && p->color)
			fputs(style, out);
		fputc(l->origin, out);
		fwrite(l->content, 1, n - nl, out);
		if (style && p->color)
			fputs(SGR_RESET, out);
		if (nl)
			fputc('\n', out);
		break;
	}
	case GIT_DIFF_LINE_CONTEXT_EOFNL:
	case GIT_DIFF_LINE_ADD_EOFNL:
	case GIT_DIFF_LINE_DEL_EOFNL:
		fwrite(l->content, 1, l->content_len, out);
		break;
	default: /* file headers: ours are printed by render_diff */
		break;
	}
	return 0;
}

int render_diff(FILE *out, const char *path, const char *old, size_t oldlen, const char *new_, size_t newlen,
		bool color)
{
	static bool inited;
	if (!inited) {
		git_libgit2_init();
		inited = true;
	}
	git_patch *patch = NULL;
	git_diff_options opts;
	git_diff_options_init(&opts, GIT_DIFF_OPTIONS_VERSION);
	opts.context_lines = 3;
	opts.flags |= GIT_DIFF_FORCE_TEXT;
	if (git_patch_from_buffers(&patch, old, oldlen, path, new_, newlen, path, &opts) < 0)
		return -1;
	if (git_patch_num_hunks(patch) > 0) {
		const char *b = render_sgr(color, SGR_BOLD), *r = render_sgr(color, SGR_RESET);
		fprintf(out, "%s--- %s%s\n%s+++ %s%s\n", b, path, r, b, path, r);
		struct printer p = {out, color};
		git_patch_print(patch, print_line, &p);
	}
	git_patch_free(patch);
	return 0;
}
