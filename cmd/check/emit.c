/* The run's output, file by file in file order (the sequential run's, the workers' and the
 * cache's alike): a file's diagnostics on stderr, its output on stdout with the renderer's
 * separator between the findings of two files, and what --show-fixes lists. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "render.h"

void emit_result(struct emitter *e, const struct options *o, const char *path, const struct file_result *r)
{
	if (o->show_fixes && r->t.fixed) {
		struct fixed_file f = {.path = xstrdup(path)};
		memcpy(f.by_pass, r->t.fixed_by_pass, sizeof f.by_pass);
		if (vec_push(&e->fixed, f) < 0)
			free(f.path);
	}
	/* the stdin filter: the buffer first, then what went wrong (an editor that merges stderr
	 * into the buffer gets the line after the code, not before it) */
	bool filter = o->use_stdin && o->mode == MODE_FIX;
	if (r->errlen && !filter) {
		fflush(stdout);
		fwrite(r->err, 1, r->errlen, stderr);
	}
	/* stdout carries findings unless it carries a diff or the fixed stdin buffer */
	bool findings = o->mode != MODE_DIFF && !filter;
	if (r->outlen && !(findings && (o->statistics || o->silent))) {
		if (findings && e->findings && r->t.rendered)
			fputs(o->format->separator, stdout);
		if (findings)
			e->findings += r->t.rendered;
		fwrite(r->out, 1, r->outlen, stdout);
	}
	if (ferror(stdout) && errno == EPIPE) {
		/* the reader went away (`| head`): stop as a pipeline expects */
		signal(SIGPIPE, SIG_DFL);
		raise(SIGPIPE);
	}
	if (r->errlen && filter) {
		fflush(stdout);
		fwrite(r->err, 1, r->errlen, stderr);
	}
}

void emitter_free(struct emitter *e)
{
	for (size_t i = 0; i < e->fixed.n; i++)
		free(e->fixed.v[i].path);
	vec_free(&e->fixed);
}
