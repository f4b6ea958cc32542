/* spipfix bench: for every finding with a fix, time the code as written against the code as
 * rewritten, in the user's interpreter (--python; by default the target version's python3.X),
 * with the module's own globals and imports.
 *
 * The rewritten text is the fix engine's own: each finding's edits, applied with edits_apply
 * (findings whose edits do not overlap share one rewritten text). Both texts are executed as the
 * module in a scratch module object (cmd/bench/bench_harness.py, run by that interpreter as a child
 * process that answers JSON requests on a pipe), and the code the fix changes is
 * compiled, from each text's syntax tree, into a timing loop whose globals are that namespace.
 * What is timed depends on the pass (see `strategies`). Before and after alternate round by round;
 * the report gives medians, the spread of the paired differences, and flags results within it. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "bench_stats.h"
#include "bridge.h"
#include "check.h"
#include "cli.h"
#include "engine.h"
#include "render.h"
#include "pass.h"
#include "scope.h"

extern const char bench_harness_py[]; /* cmd/bench_harness.py, embedded at build time */

/* ---- collected work ------------------------------------------------------------------------ */

struct bfile {
	char *path;
	char *buf;             /* as read, BOM included */
	const char *src;       /* buf past the BOM: what is compiled */
	size_t len;
	char **texts;          /* rewritten src, one per group of non-overlapping fixes */
	size_t ntexts;
};

struct job {
	size_t file, group;
	size_t a_start, a_end; /* in the original src */
	size_t b_start, b_end; /* in texts[group] */
	bool warm;
};

struct ctx {
	const struct bench_options *o;
	struct bfile *files;
	size_t nfiles;
	struct bench_report rep;
	struct job *jobs;
	size_t cap;
};

/* Two findings with one fix: their edits change the same places (SPF102 proposes SPF101's lift
 * of the same def; only the reserved name may differ, and the fix engine applies one of them). */
static bool same_places(const struct finding *a, const struct finding *b)
{
	if (a->nedits != b->nedits)
		return false;
	for (size_t i = 0; i < a->nedits; i++)
		if (a->edits[i].start != b->edits[i].start || a->edits[i].end != b->edits[i].end)
			return false;
	return true;
}

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f'; }

/* First byte of [start, end) that is not white space (start when there is none). */
static size_t probe(const struct unit *u, size_t start, size_t end)
{
	size_t p = start;
	while (p < end && p < u->len && is_space(u->src[p]))
		p++;
	return p < end ? p : start;
}

static TSNode node_at(const struct unit *u, size_t off)
{
	uint32_t o = (uint32_t)(off < u->len ? off : (u->len ? u->len - 1 : 0));
	return ts_node_descendant_for_byte_range(u->root, o, o + 1);
}

/* How many times the code at `off` runs per call of its function: 1 outside loops, the product
 * of constant loop lengths, or 0 when a loop's length is not known. */
static long runs_per_call(const struct unit *u, size_t off)
{
	TSNode n = node_at(u, off);
	if (syn_is_comprehension(scope_parent(u, n)))
		return 0;
	/* the function whose body holds the code */
	TSNode fn = {{0}, 0, 0};
	for (TSNode c = n, p = ts_node_parent(c); !ts_node_is_null(p); c = p, p = ts_node_parent(p))
		if (syn_is_function(p) && ts_node_eq(c, syn_field(p, "body"))) {
			fn = p;
			break;
		}
	long long k = scope_runs_per_call(u, n, fn);
	return k < 0 ? 0 : (long)k;
}

/* Does the edit change code inside the body of a def or lambda (not at module level)? */
static bool in_function_body(const struct unit *u, const struct edit *e)
{
	size_t p = probe(u, e->start, e->end);
	if (p >= u->len)
		return false;
	for (TSNode c = node_at(u, p); !ts_node_is_null(c); c = ts_node_parent(c)) {
		TSNode par = ts_node_parent(c);
		if (!ts_node_is_null(par) && syn_is_function(par) && ts_node_eq(c, syn_field(par, "body")))
			return true;
	}
	return false;
}

/* Does the edit rename a use of a name (a lift's direct reference: a global load where a local
 * load was, not what the fix saves)? */
static bool is_rename(const struct unit *u, const struct edit *e)
{
	if (e->end <= e->start || !e->len)
		return false;
	for (size_t i = e->start; i < e->end; i++)
		if (!(u->src[i] == '_' || isalnum((unsigned char)u->src[i])))
			return false;
	for (size_t i = 0; i < e->len; i++)
		if (!(e->text[i] == '_' || isalnum((unsigned char)e->text[i])))
			return false;
	return true;
}

/* Where [s, e) (s < e) of the original lands in a text rewritten with sorted edits `ed`, when no
 * edit touches it. Returns false when one does. */
static bool map_range(const struct edit *ed, size_t n, size_t s, size_t e, size_t *ns, size_t *ne)
{
	long delta = 0;
	for (size_t i = 0; i < n; i++) {
		if (ed[i].end <= s)
			delta += (long)ed[i].len - (long)(ed[i].end - ed[i].start);
		else if (ed[i].start >= e)
			continue;
		else
			return false;
	}
	*ns = (size_t)((long)s + delta);
	*ne = (size_t)((long)e + delta);
	return true;
}

struct call_scan {
	struct unit *u;
	const char *name;
	TSNode def;
	const struct edit *ed;
	size_t ned;
	TSNode best;
	bool best_outside;
};

/* A literal constant, or a tuple of them (what a call site may pass to be timed alone). */
static bool constant_expr(TSNode n)
{
	static const char *const lit[] = {"integer", "float", "true", "false", "none", "ellipsis"};
	if (syn_is(n, "string") || syn_is(n, "concatenated_string")) {
		/* an f-string with a replacement field reads variables */
		for (uint32_t i = 0; i < ts_node_named_child_count(n); i++)
			if (syn_is(ts_node_named_child(n, i), "interpolation") ||
			    (syn_is(ts_node_named_child(n, i), "string") && !constant_expr(ts_node_named_child(n, i))))
				return false;
		return true;
	}
	for (size_t i = 0; i < sizeof lit / sizeof *lit; i++)
		if (syn_is(n, lit[i]))
			return true;
	if (syn_is(n, "unary_operator"))
		return constant_expr(ts_node_named_child(n, ts_node_named_child_count(n) - 1));
	if (syn_is(n, "tuple") || syn_is(n, "parenthesized_expression")) {
		for (uint32_t i = 0; i < ts_node_named_child_count(n); i++)
			if (!syn_is(ts_node_named_child(n, i), "comment") && !constant_expr(ts_node_named_child(n, i)))
				return false;
		return true;
	}
	return false;
}

static bool constant_arguments(TSNode call)
{
	TSNode args = syn_field(call, "arguments");
	if (!syn_is(args, "argument_list"))
		return false;
	for (uint32_t i = 0; i < ts_node_named_child_count(args); i++) {
		TSNode a = ts_node_named_child(args, i);
		if (syn_is(a, "keyword_argument"))
			a = syn_field(a, "value");
		if (!syn_is(a, "comment") && !constant_expr(a))
			return false;
	}
	return true;
}

static int find_call(TSNode n, void *vctx)
{
	struct call_scan *c = vctx;
	if (!syn_is(n, "call") || !syn_text_eq(syn_field(n, "function"), c->u->src, c->name) || !constant_arguments(n))
		return 1;
	size_t s = ts_node_start_byte(n), e = ts_node_end_byte(n), ns, ne;
	if (!map_range(c->ed, c->ned, s, e, &ns, &ne))
		return 1;
	bool outside = s >= ts_node_end_byte(c->def) || e <= ts_node_start_byte(c->def);
	if (ts_node_is_null(c->best) || (outside && !c->best_outside)) {
		c->best = n;
		c->best_outside = outside;
	}
	return c->best_outside ? -1 : 1;
}

static struct bench_row *add_row(struct ctx *c)
{
	if (c->rep.nrows == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 32;
		struct bench_row *nr = realloc(c->rep.rows, cap * sizeof *nr);
		struct job *nj = nr ? realloc(c->jobs, cap * sizeof *nj) : NULL;
		if (nr)
			c->rep.rows = nr;
		if (!nr || !nj) {
			fputs("spipfix: out of memory\n", stderr);
			exit(2);
		}
		c->jobs = nj;
		c->cap = cap;
	}
	struct bench_row *r = &c->rep.rows[c->rep.nrows];
	memset(r, 0, sizeof *r);
	memset(&c->jobs[c->rep.nrows], 0, sizeof c->jobs[0]);
	c->rep.nrows++;
	return r;
}

static const char *finding_qualname(struct unit *u, const struct finding *f)
{
	if (f->code)
		return f->code->qualname;
	TSNode n = f->node;
	if (!syn_is_scope(n))
		n = scope_parent(u, n);
	return ts_node_is_null(n) ? "<module>" : scope_qualname(u, n);
}

/* One finding with a fix, while its file is analysed. */
struct pending {
	struct finding *f;
	enum bench_strategy st;
	const struct edit *site; /* BENCH_SITE: the one edit inside a function body */
	size_t group;
	bool skip;
};

/* Work out where the row's code is in the original and in its group's rewritten text `ed` (n
 * sorted edits, out[i]: where edit i's text starts in the rewritten text). */
static void place(struct unit *u, struct pending *p, const struct edit *ed, const size_t *out, size_t n,
		  struct bench_row *r, struct job *jb)
{
	if (p->st == BENCH_SITE) {
		size_t i = 0;
		while (i < n && !edit_same(&ed[i], p->site))
			i++;
		if (i == n) {
			r->skip = xstrdup("the fix's edit is not in the rewritten text (internal error)");
			return;
		}
		jb->a_start = ed[i].start;
		jb->a_end = ed[i].end;
		jb->b_start = out[i];
		jb->b_end = out[i] + ed[i].len;
		r->per_call = runs_per_call(u, probe(u, ed[i].start, ed[i].end));
		return;
	}
	TSNode def = p->f->node;
	TSNode nm = syn_field(def, "name");
	struct call_scan cs = {u, arena_strndup(&u->arena, u->src + ts_node_start_byte(nm), syn_len(nm)), def, ed, n,
			       {{0}, 0, 0}, false};
	syn_walk(u->root, find_call, &cs);
	if (ts_node_is_null(cs.best)) {
		r->skip = xprintf("no call of `%s` with constant arguments in the module to time", cs.name);
		return;
	}
	jb->a_start = ts_node_start_byte(cs.best);
	jb->a_end = ts_node_end_byte(cs.best);
	map_range(ed, n, jb->a_start, jb->a_end, &jb->b_start, &jb->b_end);
	jb->warm = true;
	r->per_call = 1;
}

/* One row per finding with a fix, in source order; a second finding of the same fix (SPF102
 * next to SPF101) joins the first one's row. Fills ps (one per row). Returns the row count. */
static size_t add_rows(struct ctx *c, struct bfile *bf, struct unit *u, struct pending *ps)
{
	size_t first = c->rep.nrows, np = 0;
	for (size_t i = 0; i < u->nfindings; i++) {
		struct finding *f = &u->findings[i];
		if (!engine_wants(f, c->o->unsafe_fixes)) {
			c->rep.not_fixable++;
			continue;
		}
		size_t k = 0;
		while (k < np && !same_places(ps[k].f, f))
			k++;
		if (k < np) {
			struct bench_row *r = &c->rep.rows[first + k];
			char *codes = xprintf("%s,%s", r->codes, f->pass->code);
			free(r->codes);
			r->codes = codes;
			continue;
		}
		struct pending *p = &ps[np++];
		p->f = f;
		struct bench_row *r = add_row(c);
		c->jobs[first + np - 1].file = (size_t)(bf - c->files);
		r->path = xstrdup(bf->path);
		r->line = f->row + 1;
		r->col = render_char_column(u->src, u->len, f->row, f->col);
		r->qualname = xstrdup(finding_qualname(u, f));
		r->codes = xstrdup(f->pass->code);
		r->title = xstrdup(f->fix_title ? f->fix_title : "fix");
		r->applicability = f->applicability == FIX_SAFE ? "safe" : "unsafe";
		r->executions = f->executions;
		p->st = f->pass->bench;
		bool known = p->st != 0;
		r->strategy = p->st == BENCH_CALL ? "call" : "site";
		if (p->st != BENCH_CALL) {
			size_t nsite = 0;
			for (size_t e = 0; e < f->nedits; e++)
				if (in_function_body(u, &f->edits[e]) && !is_rename(u, &f->edits[e])) {
					nsite++;
					p->site = &f->edits[e];
				}
			if (nsite != 1)
				r->skip = nsite ? xprintf("the fix changes %zu places inside functions", nsite)
						: xprintf("%s%s: the fix changes nothing inside a function",
							  known ? "" : "no timing for ", f->pass->code);
		} else if (!syn_is(f->node, "function_definition")) {
			r->skip = xstrdup("the finding is not about a def");
		}
		p->skip = r->skip != NULL;
	}
	return np;
}

/* Group g's rewritten text, and where each of its rows' code is before and after: the edits
 * taken (ed, n, sorted as the applier applies them) and, for each, where its text starts in the
 * rewritten text. */
static void build_group(struct ctx *c, struct bfile *bf, struct unit *u, struct pending *ps, size_t np,
			size_t first, size_t g, struct edit *ed, size_t n)
{
	size_t outlen = 0;
	size_t *out = xcalloc(n, sizeof *out);
	bf->texts[g] = edits_apply(u->src, u->len, ed, n, &outlen);
	long delta = 0;
	for (size_t i = 0; i < n; i++) {
		out[i] = (size_t)((long)ed[i].start + delta);
		delta += (long)ed[i].len - (long)(ed[i].end - ed[i].start);
	}
	for (size_t j = 0; j < np; j++) {
		if (ps[j].group != g + 1)
			continue;
		struct bench_row *r = &c->rep.rows[first + j];
		c->jobs[first + j].group = g;
		if (!bf->texts[g]) {
			r->skip = xstrdup("out of memory");
			continue;
		}
		place(u, &ps[j], ed, out, n, r, &c->jobs[first + j]);
		/* the source as written, for the report: the site, or for a call (SPF301) the def */
		const struct job *jb = &c->jobs[first + j];
		size_t as = jb->a_start, ae = jb->a_end, bs = jb->b_start, be = jb->b_end;
		if (ps[j].st == BENCH_CALL) {
			as = unit_line_start(u, ts_node_start_byte(ps[j].f->node));
			ae = ts_node_end_byte(ps[j].f->node);
			if (!map_range(ed, n, as, ae, &bs, &be))
				bs = be = 0;
			/* with the decorator the fix put above the def */
			const char *t = bf->texts[g];
			while (bs > 0) {
				size_t p = bs - 1;
				while (p > 0 && t[p - 1] != '\n')
					p--;
				size_t q = p;
				while (t[q] == ' ' || t[q] == '\t')
					q++;
				if (t[q] != '@')
					break;
				bs = p;
			}
		}
		if (!r->skip) {
			r->before_src = bench_excerpt(u->src, u->len, as, ae);
			r->after_src = bench_excerpt(bf->texts[g], strlen(bf->texts[g]), bs, be);
		}
	}
	free(out);
}

/* Analyse one file and add a row (and its job) per finding with a fix. The fixes are grouped
 * as the fix engine takes them (engine_pick): group 1 is what its first round applies, each
 * further group what the findings left over give; each group is one rewritten text. Returns
 * 0 / -1 (the file could not be analysed: reported on stderr). */
static int collect(struct ctx *c, struct bfile *bf)
{
	int rc = -1;
	struct pending *ps = NULL;
	bool *skip = NULL, *taken = NULL;
	size_t *row_of = NULL;
	struct unit u;
	struct engine_config ec = {.select = c->o->select, .unsafe = c->o->unsafe_fixes, .counts = c->o->counts};
	if (engine_analyse(&ec, &u, bf->path, bf->buf, bf->len) < 0) {
		render_unit_error(stderr, &u);
		goto out;
	}
	bf->src = u.src;
	bf->len = u.len;
	size_t first = c->rep.nrows;
	ps = xcalloc(u.nfindings, sizeof *ps);
	size_t np = add_rows(c, bf, &u, ps);
	/* only the findings that are a row of their own, and can be timed, are picked */
	skip = xcalloc(u.nfindings, sizeof *skip);
	taken = xcalloc(u.nfindings, sizeof *taken);
	row_of = xcalloc(u.nfindings, sizeof *row_of);
	for (size_t i = 0; i < u.nfindings; i++) {
		skip[i] = true;
		for (size_t j = 0; j < np; j++)
			if (ps[j].f == &u.findings[i] && !ps[j].skip) {
				skip[i] = false;
				row_of[i] = j;
			}
	}
	bf->texts = xcalloc(np, sizeof *bf->texts);
	for (size_t g = 0; g < np; g++) {
		struct edit *ed;
		size_t n;
		memset(taken, 0, u.nfindings * sizeof *taken);
		int k = engine_pick(&u, c->o->unsafe_fixes, skip, taken, &ed, &n);
		if (k < 0) {
			fputs("spipfix: out of memory\n", stderr);
			exit(2);
		}
		if (k == 0) {
			free(ed);
			break;
		}
		for (size_t i = 0; i < u.nfindings; i++)
			if (taken[i]) {
				ps[row_of[i]].group = g + 1;
				skip[i] = true;
			}
		bf->ntexts = g + 1;
		build_group(c, bf, &u, ps, np, first, g, ed, n);
		free(ed);
	}
	rc = 0;
out:
	free(ps);
	free(skip);
	free(taken);
	free(row_of);
	unit_free(&u);
	return rc;
}

/* ---- timing in the user's interpreter ------------------------------------------------------ */

/* The harness process: requests go to `req`, answers come from `ans`, one JSON line each. */
struct harness {
	pid_t pid;
	FILE *req, *ans;
	char *line;
	size_t cap;
};

/* Start `python -c HARNESS RFD WFD` with its stdout on our stderr (module code may print; stdout
 * carries only the report) and stdin from /dev/null. Returns 0 with the hello line read (the
 * interpreter's sys.version into rep), or -1 with a message on stderr. */
static int harness_start(struct harness *h, const char *python, struct bench_report *rep)
{
	int rq[2], an[2];
	memset(h, 0, sizeof *h);
	if (pipe(rq) < 0)
		return -1;
	if (pipe(an) < 0) {
		close(rq[0]);
		close(rq[1]);
		return -1;
	}
	fflush(stdout);
	fflush(stderr);
	h->pid = fork();
	if (h->pid == 0) {
		close(rq[1]);
		close(an[0]);
		int null = open("/dev/null", O_RDONLY);
		if (null >= 0)
			dup2(null, STDIN_FILENO);
		dup2(STDERR_FILENO, STDOUT_FILENO);
		char rfd[16], wfd[16];
		snprintf(rfd, sizeof rfd, "%d", rq[0]);
		snprintf(wfd, sizeof wfd, "%d", an[1]);
		execl(python, python, "-c", bench_harness_py, rfd, wfd, (char *)NULL);
		fprintf(stderr, "error: --python %s: %s\n", python, strerror(errno));
		_exit(127);
	}
	close(rq[0]);
	close(an[1]);
	if (h->pid < 0) {
		close(rq[1]);
		close(an[0]);
		return -1;
	}
	fcntl(rq[1], F_SETFD, FD_CLOEXEC);
	fcntl(an[0], F_SETFD, FD_CLOEXEC);
	h->req = fdopen(rq[1], "w");
	h->ans = fdopen(an[0], "r");
	json_t *hello = NULL;
	if (h->req && h->ans && getline(&h->line, &h->cap, h->ans) > 0)
		hello = json_loads(h->line, 0, NULL);
	if (!json_is_string(json_object_get(hello, "python"))) {
		fprintf(stderr, "error: the timing harness does not start under %s\n", python);
		json_decref(hello);
		return -1;
	}
	rep->python = xstrdup(json_string_value(json_object_get(hello, "python")));
	const char *exe = json_string_value(json_object_get(hello, "executable"));
	rep->interpreter = xstrdup(exe && *exe ? exe : python);
	json_decref(hello);
	return 0;
}

static void harness_stop(struct harness *h)
{
	if (h->req)
		fclose(h->req);
	if (h->ans)
		fclose(h->ans);
	if (h->pid > 0) {
		int st;
		while (waitpid(h->pid, &st, 0) < 0 && errno == EINTR) {
		}
	}
	free(h->line);
	memset(h, 0, sizeof *h);
}

/* Send a request (stolen) and read its answer: a new reference (NULL when the harness died or
 * answered nonsense); *err malloc'd when the answer is an error or there is none. */
static json_t *harness_ask(struct harness *h, json_t *req, char **err)
{
	*err = NULL;
	int w = req && h->req ? json_dumpf(req, h->req, JSON_COMPACT) : -1;
	json_decref(req);
	if (w < 0 || fputc('\n', h->req) == EOF || fflush(h->req) == EOF || getline(&h->line, &h->cap, h->ans) <= 0) {
		*err = xstrdup("the timing interpreter exited");
		return NULL;
	}
	json_t *ans = json_loads(h->line, 0, NULL);
	const char *e = json_string_value(json_object_get(ans, "error"));
	if (!ans || e)
		*err = xstrdup(e ? e : "the timing harness answered nonsense");
	return ans;
}

/* harness_ask for a request that must succeed: the answer, or NULL with *err malloc'd. */
static json_t *harness_call(struct harness *h, json_t *req, char **err)
{
	json_t *ans = harness_ask(h, req, err);
	if (*err) {
		json_decref(ans);
		return NULL;
	}
	return ans;
}

/* Execute `text` as the module at `path` into side `side`. Returns 0, or -1 with *err malloc'd. */
static int side_load(struct harness *h, const char *side, const char *path, const char *text, char **err)
{
	json_t *a = harness_call(h, json_pack("{s:s,s:s,s:s,s:s}", "op", "load", "side", side, "path", path, "text", text),
				 err);
	json_decref(a);
	return a ? 0 : -1;
}

/* 1-based line and 0-based byte column of offset `off` in `s`, as Python's ast counts them. */
static void line_col(const char *s, size_t off, long *line, long *col)
{
	long l = 1;
	size_t ls = 0;
	for (size_t i = 0; i < off && s[i]; i++)
		if (s[i] == '\n') {
			l++;
			ls = i + 1;
		}
	*line = l;
	*col = (long)(off - ls);
}

/* The harness's description of one side of a pair: the code at [start, end) of `text`. */
static json_t *side_range(const char *side, const char *text, size_t start, size_t end, bool warm)
{
	long l1, c1, l2, c2;
	line_col(text, start, &l1, &c1);
	line_col(text, end, &l2, &c2);
	return json_pack("{s:s,s:[i,i],s:[i,i],s:b}", "side", side, "start", (json_int_t)l1, (json_int_t)c1, "end",
			 (json_int_t)l2, (json_int_t)c2, "warm", warm);
}

/* A JSON array of numbers into a malloc'd array of n doubles; -1 when it has another length. */
static int doubles_of(const json_t *a, size_t n, double **out)
{
	if (json_array_size(a) != n)
		return -1;
	*out = calloc(n ? n : 1, sizeof **out);
	for (size_t i = 0; i < n; i++)
		(*out)[i] = json_number_value(json_array_get(a, i));
	return 0;
}

/* Time one row: the harness builds both timing functions, calibrates the loop count to about
 * --round-time per round, then alternates before/after rounds with the cyclic GC paused. Fills
 * the row's figures; returns 0, or -1 with row->skip set. */
static int time_row(const struct bench_options *o, struct harness *h, const struct bfile *bf, size_t g,
		    const struct job *jb, struct bench_row *row)
{
	char *err = NULL;
	json_t *req = json_pack("{s:s,s:o,s:o,s:I,s:f}", "op", "time", "before",
				side_range("a", bf->src, jb->a_start, jb->a_end, jb->warm), "after",
				side_range("b", bf->texts[g], jb->b_start, jb->b_end, jb->warm), "rounds",
				(json_int_t)o->rounds, "round_ms", o->round_ms);
	json_t *ans = harness_ask(h, req, &err);
	if (err) {
		bool raised = !strcmp(json_string_value(json_object_get(ans, "stage")) ? json_string_value(json_object_get(ans, "stage")) : "", "raised");
		row->skip = xprintf("%s %s", raised ? "the timed code raised" : "cannot build the timed code:", err);
		free(err);
		json_decref(ans);
		return -1;
	}
	row->loops = (unsigned long long)json_integer_value(json_object_get(ans, "loops"));
	row->rounds = o->rounds;
	if (doubles_of(json_object_get(ans, "before"), o->rounds, &row->before) < 0 ||
	    doubles_of(json_object_get(ans, "after"), o->rounds, &row->after) < 0) {
		row->skip = xstrdup("the timing harness answered nonsense");
		json_decref(ans);
		return -1;
	}
	row->before_code = xstrdup(json_string_value(json_object_get(ans, "before_code")));
	row->after_code = xstrdup(json_string_value(json_object_get(ans, "after_code")));
	json_decref(ans);
	double *d = calloc(o->rounds ? o->rounds : 1, sizeof *d);
	for (size_t i = 0; i < o->rounds; i++)
		d[i] = row->before[i] - row->after[i];
	row->before_ns = bench_median(row->before, o->rounds);
	row->after_ns = bench_median(row->after, o->rounds);
	row->saved_ns = row->before_ns - row->after_ns;
	row->spread_ns = bench_mad(d, o->rounds);
	row->noise = bench_noise(d, o->rounds);
	free(d);
	return 0;
}

static void skip_all(struct ctx *c, size_t file, long group, const char *why, const char *err)
{
	for (size_t i = 0; i < c->rep.nrows; i++)
		if (c->jobs[i].file == file && (group < 0 || c->jobs[i].group == (size_t)group) && !c->rep.rows[i].skip)
			c->rep.rows[i].skip = xprintf("%s: %s", why, err);
}

/* Has file `fi` (group `g`, or any group when g < 0) a row still to time? */
static bool pending_rows(const struct ctx *c, size_t fi, long g)
{
	for (size_t i = 0; i < c->rep.nrows; i++)
		if (c->jobs[i].file == fi && (g < 0 || c->jobs[i].group == (size_t)g) && !c->rep.rows[i].skip)
			return true;
	return false;
}

/* Time every row of one file: its text and each group's rewritten text run as the module. */
static void time_file(struct ctx *c, struct harness *h, size_t fi)
{
	struct bfile *bf = &c->files[fi];
	char *err = NULL;
	if (!pending_rows(c, fi, -1))
		return;
	if (side_load(h, "a", bf->path, bf->src, &err) < 0) {
		skip_all(c, fi, -1, "cannot import the module as written", err);
		free(err);
		return;
	}
	for (size_t g = 0; g < bf->ntexts; g++) {
		if (!pending_rows(c, fi, (long)g))
			continue;
		if (side_load(h, "b", bf->path, bf->texts[g], &err) < 0) {
			skip_all(c, fi, (long)g, "cannot import the module as rewritten", err);
			free(err);
			err = NULL;
			continue;
		}
		for (size_t i = 0; i < c->rep.nrows; i++)
			if (c->jobs[i].file == fi && c->jobs[i].group == g && !c->rep.rows[i].skip)
				time_row(c->o, h, bf, g, &c->jobs[i], &c->rep.rows[i]);
	}
	json_decref(harness_call(h, json_pack("{s:s,s:s}", "op", "drop", "side", "b"), &err));
	free(err);
	err = NULL;
	json_decref(harness_call(h, json_pack("{s:s,s:s}", "op", "drop", "side", "a"), &err));
	free(err);
}

/* Time every row of every file in one harness process. Module code runs there, never here.
 * Returns 0 / -1 (the harness failed to start). */
static int time_all(struct ctx *c)
{
	bool any = false;
	for (size_t i = 0; i < c->rep.nrows && !any; i++)
		any = !c->rep.rows[i].skip;
	if (!any)
		return 0;
	struct harness h;
	if (harness_start(&h, c->o->python, &c->rep) < 0) {
		harness_stop(&h);
		return -1;
	}
	for (size_t fi = 0; fi < c->nfiles; fi++)
		time_file(c, &h, fi);
	harness_stop(&h);
	return 0;
}

/* ---- reports ----------------------------------------------------------------------------- */

/* "outer.inner" for "outer.<locals>.inner" (malloc'd). */
static char *short_qualname(const char *q)
{
	char *s = xstrdup(q);
	char *p;
	while ((p = strstr(s, "<locals>.")) != NULL)
		memmove(p, p + 9, strlen(p + 9) + 1);
	return s;
}

static char *row_location(const struct bench_row *r)
{
	char *q = short_qualname(r->qualname);
	char *s = xprintf("%s:%u %s", r->path, r->line, q);
	free(q);
	return s;
}

static void report_text(FILE *out, const struct bench_report *rep)
{
	size_t lw = strlen("location"), cw = strlen("code");
	for (size_t i = 0; i < rep->nrows; i++) {
		char *loc = row_location(&rep->rows[i]);
		lw = strlen(loc) > lw ? strlen(loc) : lw;
		cw = strlen(rep->rows[i].codes) > cw ? strlen(rep->rows[i].codes) : cw;
		free(loc);
	}
	fprintf(out, "%-*s  %-*s  %9s  %9s  %9s  %7s  %12s  %s\n", (int)lw, "location", (int)cw, "code", "before ns",
		"after ns", "saved ns", "+- ns", "per 1M calls", "note");
	size_t timed = 0, noisy = 0, skipped = 0;
	for (size_t i = 0; i < rep->nrows; i++) {
		const struct bench_row *r = &rep->rows[i];
		char *loc = row_location(r);
		if (r->skip) {
			fprintf(out, "%-*s  %-*s  %9s  %9s  %9s  %7s  %12s  not timed: %s\n", (int)lw, loc, (int)cw, r->codes,
				"-", "-", "-", "-", "-", r->skip);
			skipped++;
			free(loc);
			continue;
		}
		timed++;
		noisy += r->noise;
		double per = r->saved_ns * (double)(r->per_call ? r->per_call : 1);
		char note[96] = "";
		if (r->per_call > 1)
			snprintf(note, sizeof note, "x%ld per call", r->per_call);
		else if (r->per_call == 0)
			snprintf(note, sizeof note, "per run; runs in a loop");
		if (r->noise)
			snprintf(note + strlen(note), sizeof note - strlen(note), "%swithin the noise", *note ? "; " : "");
		else if (r->saved_ns < 0)
			snprintf(note + strlen(note), sizeof note - strlen(note), "%sslower", *note ? "; " : "");
		char perbuf[32];
		snprintf(perbuf, sizeof perbuf, "%.1f ms", per);
		fprintf(out, "%-*s  %-*s  %9.1f  %9.1f  %9.1f  %7.1f  %12s%s%s\n", (int)lw, loc, (int)cw, r->codes,
			r->before_ns, r->after_ns, r->saved_ns, r->spread_ns, perbuf, *note ? "  " : "", note);
		free(loc);
	}
	fprintf(out,
		"\n%zu timed (%zu within the noise), %zu not timed. Medians of %zu alternating rounds, ns per run; "
		"+- is the median absolute deviation of the paired differences; within the noise: the 95%% interval of the\n"
		"median paired difference (sign test; the range below 6 rounds) holds 0.\n",
		timed, noisy, skipped, rep->rounds);
}

static json_t *doubles(const double *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_real(v[i]));
	return a;
}

static void report_json(FILE *out, const struct bench_report *rep)
{
	json_t *root = json_object();
	json_object_set_new(root, "mode", json_string("snippets"));
	json_object_set_new(root, "rounds", json_integer((json_int_t)rep->rounds));
	json_object_set_new(root, "round_time_ms", json_real(rep->round_ms));
	json_object_set_new(root, "python", rep->python ? json_string(rep->python) : json_null());
	json_object_set_new(root, "interpreter", rep->interpreter ? json_string(rep->interpreter) : json_null());
	json_object_set_new(root, "target_version", json_string(bridge_target_name()));
	json_object_set_new(root, "not_fixable", json_integer((json_int_t)rep->not_fixable));
	json_object_set_new(root, "errors", json_integer(rep->errors));
	json_t *rows = json_array();
	for (size_t i = 0; i < rep->nrows; i++) {
		const struct bench_row *r = &rep->rows[i];
		json_t *o = json_object();
		json_object_set_new(o, "filename", json_string(r->path));
		json_object_set_new(o, "row", json_integer(r->line));
		json_object_set_new(o, "column", json_integer(r->col));
		json_object_set_new(o, "qualname", json_string(r->qualname));
		json_object_set_new(o, "code", json_string(r->codes));
		json_object_set_new(o, "fix", json_string(r->title));
		json_object_set_new(o, "applicability", json_string(r->applicability));
		json_object_set_new(o, "timed", json_string(r->strategy ? r->strategy : "none"));
		json_object_set_new(o, "per_call", r->per_call ? json_integer(r->per_call) : json_null());
		if (r->skip) {
			json_object_set_new(o, "skipped", json_string(r->skip));
		} else {
			json_object_set_new(o, "before_code", json_string(r->before_code));
			json_object_set_new(o, "after_code", json_string(r->after_code));
			json_object_set_new(o, "before_source", r->before_src ? json_string(r->before_src) : json_null());
			json_object_set_new(o, "after_source", r->after_src ? json_string(r->after_src) : json_null());
			json_object_set_new(o, "before_ns", json_real(r->before_ns));
			json_object_set_new(o, "after_ns", json_real(r->after_ns));
			json_object_set_new(o, "saved_ns", json_real(r->saved_ns));
			json_object_set_new(o, "spread_ns", json_real(r->spread_ns));
			json_object_set_new(o, "within_noise", json_boolean(r->noise));
			json_object_set_new(o, "per_million_calls_ms",
					    json_real(r->saved_ns * (double)(r->per_call ? r->per_call : 1)));
			json_object_set_new(o, "loops", json_integer((json_int_t)r->loops));
			json_object_set_new(o, "before_rounds_ns", doubles(r->before, r->rounds));
			json_object_set_new(o, "after_rounds_ns", doubles(r->after, r->rounds));
		}
		json_array_append_new(rows, o);
	}
	json_object_set_new(root, "results", rows);
	json_dumpf(root, out, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
	fputc('\n', out);
	json_decref(root);
}

/* ---- the subcommand ---------------------------------------------------------------------- */

static void usage(FILE *out)
{
	fputs("Usage: spipfix bench [OPTIONS] PATH...\n"
	      "       spipfix bench --run COMMAND [OPTIONS] PATH\n"
	      "\n"
	      "Measure what each fix saves, in your interpreter (--python). For every finding with a fix,\n"
	      "the module is imported -- its top level runs, as `import` would run it -- into a scratch\n"
	      "module object of that interpreter, once as written and once as rewritten by the fix, with\n"
	      "the package imported first and sys.path as that interpreter has it (PYTHONPATH, the\n"
	      "package's folder, site-packages). Then the code the\n"
	      "fix changes is compiled from each text into a timing loop that runs in that module's\n"
	      "namespace (its own globals and imports):\n"
	      "  SPF101, SPF102  executing the def statement or lambda (defaults, annotations, decorators)\n"
	      "                  against the alias (or nothing) the lift leaves in its place\n"
	      "  SPF201          the constant call against a load of the hoisted module-level name\n"
	      "  SPF301          a call with a call site's arguments: the plain function (its body)\n"
	      "                  against the lru_cache-wrapped one after one call (a cache hit)\n"
	      "Before and after alternate round by round (the cyclic GC off, as timeit does). The table\n"
	      "gives medians in ns per run, saved = before - after, the spread (median absolute deviation\n"
	      "of the paired differences), and the saving per million calls of the enclosing function\n"
	      "(times the loop count when the code runs in a `for ... in range(N)` loop); a saving within\n"
	      "3 spreads is flagged `within the noise`.\n"
	      "\n"
	      "With --run, PATH is copied twice (without .git and caches) to a temporary folder, one copy\n"
	      "gets all safe fixes, and COMMAND is timed against the pristine copy (\"original\") and the\n"
	      "fixed one in alternation, so that nothing it writes reaches PATH. COMMAND runs with /bin/sh\n"
	      "in a scratch folder, with the tree under test first on PYTHONPATH and in $SPIPFIX_TREE\n"
	      "(`cd \"$SPIPFIX_TREE\"` to run its tests), $SPIPFIX_BENCH_SIDE set to original or fixed,\n"
	      "$SPIPFIX_CWD set to the folder spipfix was started in, and .pyc files written elsewhere\n"
	      "(PYTHONPYCACHEPREFIX). Each side runs once untimed first; a different stdout is a warning,\n"
	      "a failure against the fixed copy only an error. The table gives the median wall time of\n"
	      "each side, the ratio fixed / original with its range over the rounds, and the time saved.\n"
	      "\n"
	      "Options:\n"
	      "      --run COMMAND      Time COMMAND against PATH and a fixed copy of it\n"
	      "  -r, --rounds N         Alternating rounds (default 9; 5 with --run)\n"
	      "      --round-time MS    Target time of one round of a snippet (default 20)\n"
	      "      --format FORMAT    text (default) or json\n"
	      "      --html FILE        Also write a self-contained HTML page: the table and a bar chart\n"
	      "      --unsafe-fixes     Also measure (with --run: apply) the fixes that may change behaviour\n"
	      "      --select CODES     Comma-separated rule codes or prefixes (default: all)\n"
	      "      --keep             With --run: keep the temporary copy and say where it is\n"
	      "      --trace-profile FILE  Each row's executions in a `spipfix trace` JSON trace, and executions x saved\n"
	      "      --python PATH      The interpreter that times the snippets (default: the target version's,\n"
	      "                         e.g. /usr/bin/python3.11 for py311)\n"
	      "      --target-version V The CPython the fixes are proven on: py311 (default), py312, py313\n"
	      "  -h, --help             Print this help\n"
	      "\n"
	      "Exit status: 0 done, 2 usage error, a file that could not be analysed, or (--run) a command\n"
	      "that failed.\n",
	      out);
}

static void report_free(struct bench_report *rep)
{
	for (size_t i = 0; i < rep->nrows; i++) {
		struct bench_row *r = &rep->rows[i];
		free(r->path);
		free(r->qualname);
		free(r->codes);
		free(r->title);
		free(r->skip);
		free(r->before_code);
		free(r->after_code);
		free(r->before_src);
		free(r->after_src);
		free(r->before);
		free(r->after);
	}
	free(rep->rows);
	free(rep->python);
	free(rep->interpreter);
}

static int bench_snippets(const struct bench_options *o, char *const *paths, int npaths)
{
	struct ctx c = {.o = o};
	int status = 2;
	c.rep.rounds = o->rounds;
	c.rep.round_ms = o->round_ms;
	size_t nfiles;
	struct options dopt = {.mode = MODE_REPORT}; /* the default exclusions, no configuration */
	char **files = discover(paths, npaths, &dopt, &nfiles, &c.rep.errors, NULL);
	c.files = calloc(nfiles ? nfiles : 1, sizeof *c.files);
	if (!c.files)
		goto out;
	c.nfiles = nfiles;
	for (size_t i = 0; i < nfiles; i++) {
		struct bfile *bf = &c.files[i];
		bf->path = files[i];
		bf->buf = read_whole_file(files[i], &bf->len, NULL);
		if (!bf->buf) {
			fprintf(stderr, "error: %s: %s\n", files[i], strerror(errno));
			c.rep.errors++;
		} else if (collect(&c, bf) < 0) {
			c.rep.errors++;
		}
	}
	if (time_all(&c) < 0)
		goto out;
	for (size_t i = 0; i < c.rep.nrows; i++)
		if (c.rep.rows[i].skip)
			fprintf(stderr, "note: %s:%u: %s not timed: %s\n", c.rep.rows[i].path, c.rep.rows[i].line,
				c.rep.rows[i].codes, c.rep.rows[i].skip);
	if (o->json)
		report_json(stdout, &c.rep);
	else if (c.rep.nrows)
		report_text(stdout, &c.rep);
	else
		printf("No findings with a fix to measure.\n");
	if (c.rep.not_fixable && !o->json)
		fprintf(stderr, "%zu %s without a %sfix not measured%s.\n", c.rep.not_fixable,
			c.rep.not_fixable == 1 ? "finding" : "findings", o->unsafe_fixes ? "" : "safe ",
			o->unsafe_fixes ? "" : " (--unsafe-fixes measures the unsafe ones too)");
	if (o->html && bench_html_snippets_file(o->html, &c.rep) < 0)
		goto out;
	status = c.rep.errors ? 2 : 0;
out:
	report_free(&c.rep);
	free(c.jobs);
	for (size_t i = 0; c.files && i < c.nfiles; i++) {
		for (size_t g = 0; g < c.files[i].ntexts; g++)
			free(c.files[i].texts[g]);
		free(c.files[i].texts);
		free(c.files[i].buf);
	}
	free(c.files);
	files_free(files, nfiles);
	return status;
}

int bench_main(int argc, char **argv)
{
	struct bench_options o = {.rounds = 0, .round_ms = 20};
	struct engine_counts counts = {0}; /* --trace-profile */
	enum { OPT_RUN = 256, OPT_ROUND_TIME, OPT_FORMAT, OPT_HTML, OPT_UNSAFE, OPT_SELECT, OPT_KEEP, OPT_TRACE, OPT_PYTHON,
	       OPT_TARGET };
	static const struct option longopts[] = {
		{"run", required_argument, NULL, OPT_RUN},
		{"rounds", required_argument, NULL, 'r'},
		{"round-time", required_argument, NULL, OPT_ROUND_TIME},
		{"format", required_argument, NULL, OPT_FORMAT},
		{"html", required_argument, NULL, OPT_HTML},
		{"unsafe-fixes", no_argument, NULL, OPT_UNSAFE},
		{"select", required_argument, NULL, OPT_SELECT},
		{"keep", no_argument, NULL, OPT_KEEP},
		{"trace-profile", required_argument, NULL, OPT_TRACE},
		{"python", required_argument, NULL, OPT_PYTHON},
		{"target-version", required_argument, NULL, OPT_TARGET},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct strlist select = {0};
	int c, status = 2;
	long n;
	char *end;
	optind = 1;
	while ((c = getopt_long(argc, argv, "r:h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_RUN: o.run = optarg; break;
		case 'r':
			n = strtol(optarg, &end, 10);
			if (*end || n < 1 || n > 1000) {
				fprintf(stderr, "error: --rounds: expected a number from 1 to 1000, got `%s`\n", optarg);
				goto out;
			}
			o.rounds = (size_t)n;
			break;
		case OPT_ROUND_TIME:
			o.round_ms = strtod(optarg, &end);
			if (*end || !(o.round_ms > 0 && o.round_ms <= 60000)) {
				fprintf(stderr, "error: --round-time: expected milliseconds (0 < MS <= 60000), got `%s`\n", optarg);
				goto out;
			}
			break;
		case OPT_FORMAT: {
			int k = cli_choice("--format", optarg, (const char *const[]){"text", "json", NULL});
			if (k < 0)
				goto out;
			o.json = k == 1;
			break;
		}
		case OPT_HTML: o.html = optarg; break;
		case OPT_UNSAFE: o.unsafe_fixes = true; break;
		case OPT_SELECT:
			strlist_free(&select);
			if (cli_rule_list("--select", optarg, &select) < 0)
				goto out;
			break;
		case OPT_KEEP: o.keep = true; break;
		case OPT_TRACE: /* executions and the estimated saving of each row (trace_file.c) */
			if (bench_trace_counts(optarg, &counts) < 0)
				goto out;
			o.counts = &counts;
			break;
		case OPT_PYTHON: o.python = optarg; break;
		case OPT_TARGET: {
			int minor = bridge_parse_version(optarg);
			if (minor < 0) {
				fprintf(stderr, "error: --target-version: unknown version `%s` (py311, py312, py313)\n", optarg);
				goto out;
			}
			if (bridge_select(minor) < 0)
				goto out;
			break;
		}
		case 'h':
			usage(stdout);
			status = 0;
			goto out;
		default:
			fputs("Try 'spipfix bench --help' for more information.\n", stderr);
			goto out;
		}
	}
	o.select = (const char *const *)select.v;
	if (!o.rounds)
		o.rounds = o.run ? 5 : 9;
	if (optind >= argc) {
		fputs("error: no paths given\nUsage: spipfix bench [OPTIONS] PATH...\n", stderr);
	} else if (o.run && argc - optind != 1) {
		fputs("error: --run takes exactly one PATH (a folder or a file)\n", stderr);
	} else if (!o.python && !(o.python = bridge_built(bridge_target())->interpreter)) {
		fputs("error: no interpreter to time with: give --python\n", stderr);
	} else if (access(o.python, X_OK) != 0) {
		fprintf(stderr, "error: --python %s: %s\n", o.python, strerror(errno));
	} else if (bridge_init() == 0) {
		status = o.run ? bench_run(&o, argv[optind]) : bench_snippets(&o, argv + optind, argc - optind);
		bridge_fini();
	}
out:
	strlist_free(&select);
	bench_trace_counts_free(&counts);
	return status;
}
