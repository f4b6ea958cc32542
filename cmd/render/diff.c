/* Unified diffs through libgit2 (git_patch_from_buffers): a well-kept Myers/histogram diff
 * instead of a hand-written one. We print our own `---`/`+++` header, like Ruff's --diff. */
#include <git2.h>
#include <string.h>

#include "render.h"

static int print_line(const git_diff_delta *d, const git_diff_hunk *h, const git_diff_line *l, void *payload)
{
	(void)d;
	FILE *out = payload;
	switch (l->origin) {
	case GIT_DIFF_LINE_HUNK_HDR:
		/* plain `@@ -a,b +c,d @@`, without git's function-context suffix; a count of 1 is
		 * left out, as GNU diff does */
		fprintf(out, "@@ -%d", h->old_start);
		if (h->old_lines != 1)
			fprintf(out, ",%d", h->old_lines);
		fprintf(out, " +%d", h->new_start);
		if (h->new_lines != 1)
			fprintf(out, ",%d", h->new_lines);
		fputs(" @@\n", out);
		break;
	case GIT_DIFF_LINE_CONTEXT:
	case GIT_DIFF_LINE_ADDITION:
	case GIT_DIFF_LINE_DELETION:
		fputc(l->origin, out);
		fwrite(l->content, 1, l->content_len, out);
		break;
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

int render_diff(FILE *out, const char *path, const char *old, size_t oldlen, const char *new_, size_t newlen)
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
		fprintf(out, "--- %s\n+++ %s\n", path, path);
		git_patch_print(patch, print_line, out);
	}
	git_patch_free(patch);
	return 0;
}
