/* One file through the engine in the selected mode: analyse and report, or fix in rounds and
 * show the diff, write the file atomically or print the fixed buffer. A file that cannot be
 * handled is reported and left byte for byte as it was. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache.h"
#include "check.h"
#include "pass.h"
#include "render.h"
#include "trace.h"

/* Atomic replace: temp file in the same folder, fsync, keep the mode, refuse when the file
 * changed on disk since it was read. Returns 0 / -1 with a message on err. */
static int write_atomic(FILE *err, const char *path, const char *old, size_t oldlen, const struct stat *st0,
			const char *text, size_t len)
{
	struct stat st;
	size_t curlen;
	char *cur = read_whole_file(path, &curlen, &st);
	bool same = cur && curlen == oldlen && !memcmp(cur, old, oldlen) && st.st_ino == st0->st_ino;
	free(cur);
	if (!same) {
		fprintf(err, "error: %s: changed on disk while spipfix was working; not written\n", path);
		return -1;
	}
	size_t plen = strlen(path);
	char *tmp = malloc(plen + 32);
	if (!tmp)
		return -1;
	snprintf(tmp, plen + 32, "%s.spipfix-XXXXXX", path);
	sigset_t held; /* a signal now acts once the temp file is renamed or removed */
	cli_signals_hold(&held);
	int fd = mkstemp(tmp);
	if (fd < 0) {
		fprintf(err, "error: %s: cannot create a temporary file: %s\n", path, strerror(errno));
		cli_signals_restore(&held);
		free(tmp);
		return -1;
	}
	bool ok = fchmod(fd, st0->st_mode & 07777) == 0;
	ok = ok && fd_write_all(fd, text, len) == 0;
	ok = ok && fsync(fd) == 0;
	ok = (close(fd) == 0) && ok;
	ok = ok && rename(tmp, path) == 0;
	if (!ok) {
		fprintf(err, "error: %s: cannot write: %s\n", path, strerror(errno));
		unlink(tmp);
	}
	cli_signals_restore(&held);
	free(tmp);
	return ok ? 0 : -1;
}

struct engine_config check_engine_config(const struct options *o, const char **sel)
{
	return (struct engine_config){.select = sel, .unsafe = o->unsafe_fixes, .debug = o->debug, .counts = o->counts,
				      .min_executions = o->min_executions,
				      .include_tests = o->include_tests, .line_length = o->line_length,
				      .lift_name = o->lift_name,
				      .max_bytes = o->max_bytes, .max_nesting = o->max_nesting};
}

/* Render one finding in the run's format: after the format's separator when the file already
 * has one, or held back until the end of a traced run. */
static void render_one(const struct options *o, const struct renderer *fmt, FILE *dest, bool to_err,
		       struct totals *t, const struct unit *u, const struct finding *f)
{
	struct render_run run = {.r = fmt, .traced = o->counts != NULL,
				 .color = !fmt->machine && (to_err ? o->color_err : o->color_out)};
	if (o->held && fmt == &render_text) {
		char *text = NULL;
		size_t len = 0;
		FILE *m = open_memstream(&text, &len);
		if (m) {
			fmt->finding(m, &run, u, f);
			if (fclose(m) == 0 && text) {
				held_add(o->held, to_err ? stderr : stdout, text, len, f->executions);
				free(text);
				return;
			}
			free(text);
		}
	}
	if (t->rendered && *fmt->separator)
		fputs(fmt->separator, dest);
	fmt->finding(dest, &run, u, f);
	t->rendered++;
}

/* Where findings go: nowhere (only counted), with the file's output, with its messages. */
enum dest { TO_NONE, TO_OUT, TO_ERR };

/* Count the findings of an analysed unit into t, and render them where `to` says. */
static void report_unit(const struct unit *u, const struct options *o, const struct renderer *fmt,
			struct file_result *r, struct totals *t, enum dest to)
{
	for (size_t i = 0; i < u->nfindings; i++) {
		const struct finding *f = &u->findings[i];
		if (to != TO_NONE)
			render_one(o, fmt, to == TO_ERR ? r->errf : r->outf, to == TO_ERR, &r->t, u, f);
		size_t k = pass_index(f->pass);
		k = k < MAX_PASSES ? k : MAX_PASSES - 1;
		t->findings++;
		t->by_pass[k]++;
		if (o->counts && engine_wants(f, o->unsafe_fixes))
			t->saving_ns += trace_estimate_ns(f);
		if (f->nedits && f->applicability == FIX_SAFE) {
			t->fixable++;
			t->fixable_by_pass[k]++;
		} else if (f->nedits && f->applicability == FIX_UNSAFE) {
			t->unsafe_fixable++;
			if (o->unsafe_fixes) /* --statistics: fixable is what --fix would apply */
				t->fixable_by_pass[k]++;
		}
	}
}

/* An analysis that failed: its error, counted. */
static void report_error(const struct unit *u, struct file_result *r)
{
	render_unit_error(r->errf, u);
	if (u->error_kind == UE_NEWER)
		r->t.notes++;
	else
		r->t.errors++;
	if (u->error_kind == UE_INTERNAL)
		r->cacheable = false;
}

/* Analyse a text (what --fix left, when the fix engine could not say what remains) and report
 * its findings. */
static void report_text(const struct engine_config *ec, const char *path, const char *text, size_t len,
			const struct options *o, const struct renderer *fmt, struct file_result *r, enum dest to)
{
	struct unit u;
	if (engine_analyse(ec, &u, path, text, len) < 0)
		report_error(&u, r);
	else
		report_unit(&u, o, fmt, r, &r->t, to);
	unit_free(&u);
}

/* The fixes engine_fix applied, counted per rule (for --show-fixes). */
static void count_fixed(struct totals *t, const struct fix_result *fr)
{
	t->fixed += fr->applied;
	t->changed_files++;
	for (size_t k = 0; k < MAX_PASSES && k < ENGINE_MAX_PASSES; k++)
		t->fixed_by_pass[k] += fr->applied_by_pass[k];
}

/* --add-noqa: a `# noqa: CODE` for each line with findings, merged into the line's existing
 * directive; the result must analyse (parse cleanly and compile) before it is written. */
static void add_noqa(const char *path, const char *buf, size_t len, const struct stat *st, struct unit *u,
		     const struct engine_config *ec, struct file_result *r)
{
	struct edit *edits = calloc(u->nfindings + 1, sizeof *edits);
	const char **codes = calloc(u->nfindings + 1, sizeof *codes);
	size_t n = 0;
	char *text = NULL;
	if (!edits || !codes)
		goto oom;
	/* findings come in position order: one directive per line */
	for (size_t i = 0; i < u->nfindings;) {
		size_t j = i, ncodes = 0;
		for (; j < u->nfindings && u->findings[j].row == u->findings[i].row; j++)
			codes[ncodes++] = u->findings[j].pass->code;
		const char *why = NULL;
		int rc = unit_noqa_edit(u, u->findings[i].start, codes, ncodes, &edits[n], &why);
		if (rc > 0)
			n++;
		else if (rc < 0) {
			char msg[256];
			snprintf(msg, sizeof msg, "cannot add `# noqa: %s`: %s", codes[0], why);
			render_error(r->errf, "warning", path, msg, true, u->findings[i].row, u->findings[i].col);
		}
		i = j;
	}
	if (!n)
		goto out;
	size_t tlen;
	if (edits_sort_check(edits, n, u->len) < 0 || !(text = engine_apply(u, edits, n, &tlen)))
		goto oom;
	/* the safety net: the commented text must analyse as cleanly as the original */
	struct unit check;
	int arc = engine_analyse(ec, &check, path, text, tlen);
	unit_free(&check);
	r->cacheable = false;
	if (arc < 0) {
		render_error(r->errf, "error", path, "refusing to add noqa directives: the result does not analyse", false, 0, 0);
		r->t.errors++;
	} else if (write_atomic(r->errf, path, buf, len, st, text, tlen) == 0) {
		r->t.noqa_added += n;
		r->t.changed_files++;
	} else {
		r->t.errors++;
	}
	goto out;
oom:
	fprintf(r->errf, "error: %s: out of memory\n", path);
	r->t.errors++;
out:
	free(text);
	free(edits);
	free(codes);
}

/* One buffer through the selected mode. st is the file's stat when it was read from disk (fix
 * writes it back), NULL for stdin (fix prints the whole result on stdout). */
static void process_buffer(const char *path, const char *buf, size_t len, const struct stat *st,
			   const struct options *o, struct file_result *r)
{
	struct totals *t = &r->t;
	const char *sel[MAX_PASSES + 1];
	select_for(o, path, sel);
	struct engine_config ec = check_engine_config(o, sel);
	bool to_stdout = st == NULL && o->mode == MODE_FIX;
	/* with stdin, --fix prints the source on stdout and the findings on stderr, as lines */
	const struct renderer *fmt = o->format;
	if (to_stdout && fmt->document)
		fmt = &render_concise;
	enum dest findings_to = to_stdout ? TO_ERR : TO_OUT;
	/* --fix-only reports nothing; -s prints no finding, in any mode (on stdout emit_result
	 * drops them, so that the cache holds what a run without -s prints) */
	if (o->fix_only || (o->silent && findings_to == TO_ERR))
		findings_to = TO_NONE;

	struct unit u;
	struct fix_result fr = {0};
	if (engine_analyse(&ec, &u, path, buf, len) < 0) {
		report_error(&u, r);
		if (to_stdout)
			fwrite(buf, 1, len, r->outf);
		goto out;
	}
	if (o->mode == MODE_REPORT || o->mode == MODE_CHECK) {
		report_unit(&u, o, fmt, r, t, findings_to);
		goto out;
	}
	if (o->mode == MODE_ADD_NOQA) {
		report_unit(&u, o, fmt, r, t, TO_NONE);
		add_noqa(path, buf, len, st, &u, &ec, r);
		goto out;
	}
	if (o->mode == MODE_DIFF && o->held && !o->silent) /* with a trace, the findings on stderr */
		report_unit(&u, o, &render_text, r, &(struct totals){0}, TO_ERR);
	ec.release_first = true; /* one analysis in memory at a time */
	if (engine_fix(&ec, &u, &fr) < 0) {
		/* report the reason; the findings themselves are still worth showing */
		if (fr.refused) {
			render_error(r->errf, "error", path, fr.error, false, 0, 0);
			t->errors++;
		}
		if (o->mode == MODE_FIX || !fr.refused) {
			enum dest to = o->mode == MODE_FIX ? findings_to : TO_NONE;
			if (fr.released)
				report_text(&ec, path, buf, len, o, fmt, r, to);
			else
				report_unit(&u, o, fmt, r, t, to);
		}
		if (to_stdout)
			fwrite(buf, 1, len, r->outf);
		goto out;
	}
	const struct unit *rest = engine_remaining(&fr, &u);
	if (o->mode == MODE_DIFF) {
		if (fr.text) {
			render_diff(r->outf, path, buf, len, fr.text, fr.len, o->color_out);
			count_fixed(t, &fr);
		}
	} else if (to_stdout) {
		fwrite(fr.text ? fr.text : buf, 1, fr.text ? fr.len : len, r->outf);
		if (fr.text)
			count_fixed(t, &fr);
		report_unit(rest, o, fmt, r, t, findings_to);
	} else {
		bool written = true;
		if (fr.text) {
			/* what happens next depends on the disk, not only on the bytes */
			r->cacheable = false;
			written = write_atomic(r->errf, path, buf, len, st, fr.text, fr.len) == 0;
			if (written) {
				count_fixed(t, &fr);
			} else {
				t->errors++;
			}
		}
		if (written)
			report_unit(rest, o, fmt, r, t, findings_to);
		else
			report_text(&ec, path, buf, len, o, fmt, r, findings_to);
	}
out:
	fix_result_free(&fr);
	unit_free(&u);
}

void process_file(const char *path, const struct options *o, struct file_result *r)
{
	size_t len;
	struct stat st;
	char *buf = read_whole_file(path, &len, &st);
	r->t.files++;
	if (!buf) {
		fprintf(r->errf, "error: %s: %s\n", path,
			errno == EFBIG ? "larger than 64 MiB; skipped"
			: errno == EINVAL ? "not a regular file (a FIFO, socket or device); skipped"
					  : strerror(errno));
		r->t.errors++;
		r->cacheable = false;
		return;
	}
	r->cacheable = true;
	if (o->cache) {
		const char *sel[MAX_PASSES + 1];
		select_for(o, path, sel);
		cache_key(o->cache, path, buf, len, sel, r->key);
		r->have_key = true;
	}
	process_buffer(path, buf, len, &st, o, r);
	free(buf);
}

void process_stdin(const struct options *o, struct file_result *r)
{
	const char *path = o->stdin_filename ? o->stdin_filename : "-";
	size_t len;
	char *buf = read_stdin(&len);
	r->t.files++;
	r->cacheable = false;
	if (!buf) {
		fprintf(r->errf, "error: %s: cannot read standard input: %s\n", path,
			errno == EFBIG ? "larger than 64 MiB" : strerror(errno));
		r->t.errors++;
		return;
	}
	process_buffer(path, buf, len, NULL, o, r);
	free(buf);
}

void select_for(const struct options *o, const char *path, const char **sel)
{
	size_t k = 0;
	for (size_t i = 0; i < o->npasses && pass_registry[i]; i++) {
		if (!o->enabled[i])
			continue;
		bool ignored = false;
		for (size_t j = 0; j < o->npfi && !ignored; j++) {
			if (!path_pattern_matches(o, o->pfi[j].pattern, path))
				continue;
			for (size_t c = 0; c < o->pfi[j].codes.n && !ignored; c++)
				ignored = pass_matches(pass_registry[i], o->pfi[j].codes.v[c]);
		}
		if (!ignored)
			sel[k++] = pass_registry[i]->code;
	}
	sel[k] = NULL;
}

void totals_add(struct totals *into, const struct totals *t)
{
	into->findings += t->findings;
	into->fixable += t->fixable;
	into->unsafe_fixable += t->unsafe_fixable;
	into->fixed += t->fixed;
	into->rendered += t->rendered;
	into->files += t->files;
	into->changed_files += t->changed_files;
	into->errors += t->errors;
	into->notes += t->notes;
	into->noqa_added += t->noqa_added;
	into->saving_ns += t->saving_ns;
	for (size_t i = 0; i < MAX_PASSES; i++) {
		into->by_pass[i] += t->by_pass[i];
		into->fixable_by_pass[i] += t->fixable_by_pass[i];
		into->fixed_by_pass[i] += t->fixed_by_pass[i];
	}
}

int file_result_open(struct file_result *r)
{
	memset(r, 0, sizeof *r);
	r->outf = open_memstream(&r->out, &r->outlen);
	r->errf = open_memstream(&r->err, &r->errlen);
	if (!r->outf || !r->errf) {
		file_result_close(r);
		return -1;
	}
	return 0;
}

void file_result_close(struct file_result *r)
{
	if (r->outf)
		fclose(r->outf);
	if (r->errf)
		fclose(r->errf);
	r->outf = r->errf = NULL;
}

void file_result_free(struct file_result *r)
{
	file_result_close(r);
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
	r->outlen = r->errlen = 0;
}
