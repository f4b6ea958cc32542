/* `spipfix check` (also what `spipfix PATH...` runs): the command line and the configuration
 * merged into the options, the files found, each one through the engine (on worker processes,
 * answered from the cache where it can), their outputs joined in file order, the summary. */
#define _GNU_SOURCE /* sched_getaffinity */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bridge.h"
#include "cache.h"
#include "check.h"
#include "config.h"
#include "pass.h"
#include "render.h"
#include "trace.h"

/* The default number of workers: the CPUs this process may run on (taskset, cpusets), else
 * the online ones. */
static int available_cpus(void)
{
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
		return CPU_COUNT(&set);
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (int)n : 1;
}

static void usage(FILE *out)
{
	fputs("Usage: spipfix [check] [OPTIONS] PATH...\n"
	      "       spipfix [check] [OPTIONS] --stdin-filename PATH [-]\n"
	      "       spipfix COMMAND ...   (`spipfix help` lists the commands)\n"
	      "\n"
	      "Find closure-free nested functions and other per-call waste in Python files, prove each\n"
	      "finding on the bytecode CPython compiles from the same source, and fix it. Folders are\n"
	      "searched for *.py without excluded and git-ignored files; paths named explicitly are\n"
	      "always analysed (unless --force-exclude). `-` reads the source from stdin. The analysed code\n"
	      "is only compiled, never run; SPF201 evaluates one allow-listed pure call (re.compile(\"a+\"),\n"
	      "...) once before it proposes to hoist it.\n"
	      "\n"
	      "Options:\n"
	      "      --fix                    Apply the safe fixes in place (stdin: print the fixed source)\n"
	      "      --diff                   Print a unified diff of the fixes; write nothing\n"
	      "      --check                  Print only the findings; exit 1 if there are any\n"
	      "      --fix-only               Apply the safe fixes, but report nothing else; exit 0 unless a file failed\n"
	      "      --show-fixes             List the fixes applied (with --diff: that would be) per file and rule\n"
	      "      --add-noqa               Add `# noqa: CODE` to each line with a finding (keeps its comments)\n"
	      "      --unsafe-fixes           Also apply (or show) fixes that may change behaviour\n"
	      "      --no-unsafe-fixes        Do not, whatever the configuration says\n"
	      "      --select CODES           Rules to run: comma-separated codes, prefixes or ALL (replaces select and ignore)\n"
	      "      --extend-select CODES    Rules to run in addition\n"
	      "      --ignore CODES           Rules not to run\n"
	      "      --per-file-ignores PAT:CODES  Rules not to run on files matching PAT (replaces the configured table)\n"
	      "      --exclude PATTERNS       Files and folders to skip (replaces exclude and the defaults)\n"
	      "      --extend-exclude PATTERNS  More files and folders to skip\n"
	      "      --force-exclude          Apply the exclusions to paths named explicitly too\n"
	      "      --no-force-exclude       Analyse paths named explicitly even when excluded\n"
	      "      --no-respect-gitignore   Walk files that git ignores too\n"
	      "      --include-tests          Analyse test code too (tests/, test/, test_*.py, *_test.py, conftest.py; skipped by default)\n"
	      "      --no-include-tests       Do not, whatever the configuration says (the default)\n"
	      "      --line-length N          Fixes write lines up to N characters (default: [tool.black] or [tool.ruff] line-length, else 88)\n"
	      "      --config FILE            Read [tool.spipfix] from this file instead of the nearest pyproject.toml\n"
	      "      --isolated               Read no configuration file\n"
	      "      --stdin-filename PATH    Read the source from stdin; PATH names it (messages, config, excludes)\n"
	      "      --format FORMAT          Findings as text, concise, json, jsonl, github or sarif (alias --output-format)\n"
	      "      --statistics             Print a count of findings per rule instead of each finding\n"
	      "      --color WHEN             Colours: auto (on a terminal, unless NO_COLOR; FORCE_COLOR forces), always, never\n"
	      "      --exit-zero              Exit 0 even when findings remain (errors still exit 2)\n"
	      "      --exit-non-zero-on-fix   Exit 1 when a fix was applied, even if no finding remains\n"
	      "      --no-cache               Neither read nor write the cache (.spipfix_cache in the project root)\n"
	      "      --cache-dir DIR          Keep the cache in DIR (also: SPIPFIX_CACHE_DIR)\n"
	      "  -j, --jobs N                 Worker processes (default: one per core)\n"
	      "      --target-version VERSION  Prove on this CPython: py311, py312, py313 (default: target-version, requires-python, py311)\n"
	      "      --max-file-size SIZE     Skip larger files, with an error (default 4M; K, M, G suffixes)\n"
	      "      --max-nesting N          Skip files nesting brackets or indentation deeper (default 200)\n"
	      "      --trace-profile FILE     Order the findings by how often their site ran in a `spipfix trace --format json` trace\n"
	      "      --min-executions N       With --trace-profile: fix only findings whose site ran at least N times\n"
	      "      --debug=CODE             Show one rule's candidates, cross-check verdicts and edits on stderr\n"
	      "  -q, --quiet                  Print findings but no summary\n"
	      "  -s, --silent                 Print no findings and no summary (diffs and stdin --fix output stay)\n"
	      "      --version                Print the version\n"
	      "  -h, --help                   Print this help\n"
	      "\n"
	      "Rules (`spipfix rule CODE` explains one):\n",
	      out);
	for (const struct pass *const *p = pass_registry; *p; p++)
		fprintf(out, "  %s %-26s %s\n", (*p)->code, (*p)->name, (*p)->summary);
	fputs("\nExit status: 0 nothing found (or all fixed), 1 findings remain or the diff is not empty,\n"
	      "2 usage error, configuration error, or a file that could not be read or analysed.\n",
	      out);
}

/* Does stdout carry the run's findings, framed by the renderer's begin and end? */
static bool findings_on_stdout(const struct options *o)
{
	return o->mode != MODE_DIFF && o->mode != MODE_ADD_NOQA && !o->fix_only && !(o->use_stdin && o->mode == MODE_FIX) &&
	       !o->statistics && !o->silent;
}

static const struct renderer *parse_format(const char *s)
{
	const struct renderer *r = render_lookup(s);
	if (r)
		return r;
	const char *names[16];
	size_t n = 0;
	for (const struct renderer *const *f = render_formats; *f && n < 16; f++)
		names[n++] = (*f)->name;
	const char *near = cli_nearest(s, names, n);
	fprintf(stderr, "error: --format: unknown format `%s`", s);
	if (near)
		fprintf(stderr, " (did you mean `%s`?)", near);
	fputs(" (", stderr);
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, "%s%s", i ? ", " : "", names[i]);
	fputs(")\n", stderr);
	return NULL;
}

static void pfi_free(struct per_file_ignore *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].pattern);
		strlist_free(&v[i].codes);
	}
	free(v);
}

void cli_free(struct cli *c)
{
	strlist_free(&c->select);
	strlist_free(&c->extend_select);
	strlist_free(&c->ignore);
	strlist_free(&c->exclude);
	strlist_free(&c->extend_exclude);
	pfi_free(c->pfi, c->npfi);
}

/* --per-file-ignores PATTERN:CODES */
static int add_pfi(struct cli *c, const char *arg)
{
	const char *colon = strrchr(arg, ':');
	if (!colon || colon == arg) {
		fprintf(stderr, "error: --per-file-ignores: expected PATTERN:CODES, got `%s`\n", arg);
		return -1;
	}
	struct per_file_ignore *nv = realloc(c->pfi, (c->npfi + 1) * sizeof *nv);
	if (!nv)
		return -1;
	c->pfi = nv;
	struct per_file_ignore *e = &c->pfi[c->npfi];
	memset(e, 0, sizeof *e);
	if (!(e->pattern = strndup(arg, (size_t)(colon - arg))))
		return -1;
	c->npfi++;
	c->have_pfi = true;
	return cli_rule_list("--per-file-ignores", colon + 1, &e->codes);
}

static void apply_selectors(bool *on, const struct strlist *l, bool value)
{
	for (size_t i = 0; i < l->n; i++)
		for (size_t k = 0; pass_registry[k] && k < MAX_PASSES; k++)
			if (pass_matches(pass_registry[k], l->v[i]))
				on[k] = value;
}

/* Join two lists of borrowed strings into a new array (strings not copied). */
static int join_lists(struct strlist *out, const struct strlist *a, const struct strlist *b)
{
	out->n = 0;
	out->v = calloc(a->n + b->n + 1, sizeof *out->v);
	if (!out->v)
		return -1;
	for (size_t i = 0; i < a->n; i++)
		out->v[out->n++] = a->v[i];
	for (size_t i = 0; i < b->n; i++)
		out->v[out->n++] = b->v[i];
	return 0;
}

int options_resolve(struct options *o, const struct cli *c, const struct config *cfg)
{
	bool on[MAX_PASSES];
	for (o->npasses = 0; pass_registry[o->npasses] && o->npasses < MAX_PASSES; o->npasses++)
		on[o->npasses] = true;
	if (cfg->has_select) {
		memset(on, 0, sizeof on);
		apply_selectors(on, &cfg->select, true);
	}
	apply_selectors(on, &cfg->ignore, false);
	if (c->have_select) {
		memset(on, 0, sizeof on);
		apply_selectors(on, &c->select, true);
	}
	apply_selectors(on, &c->extend_select, true);
	apply_selectors(on, &c->ignore, false);
	memcpy(o->enabled, on, sizeof on);

	o->unsafe_fixes = c->unsafe_fixes >= 0 ? c->unsafe_fixes : cfg->unsafe_fixes > 0;
	o->respect_gitignore = c->respect_gitignore >= 0 ? c->respect_gitignore : cfg->respect_gitignore != 0;
	o->force_exclude = c->force_exclude >= 0 ? c->force_exclude : cfg->force_exclude > 0;
	o->include_tests = c->include_tests >= 0 ? c->include_tests : cfg->include_tests > 0;
	o->line_length = c->line_length > 0 ? c->line_length : cfg->line_length;
	o->lift_name = cfg->lift_name;
	const struct strlist none = {0};
	const struct strlist *ex = c->have_exclude ? &c->exclude : cfg->has_exclude ? &cfg->exclude : NULL;
	if (ex && join_lists(&o->exclude, ex, &none) < 0)
		return -1;
	if (join_lists(&o->extend_exclude, &cfg->extend_exclude, &c->extend_exclude) < 0)
		return -1;
	if (c->have_pfi) {
		o->pfi = c->pfi;
		o->npfi = c->npfi;
	} else {
		o->pfi = cfg->pfi;
		o->npfi = cfg->npfi;
	}
	char cwd[4096];
	o->root = cfg->found ? strdup(cfg->dir) : getcwd(cwd, sizeof cwd) ? strdup(cwd) : NULL;
	o->config_path = cfg->path;
	if (!o->max_bytes)
		o->max_bytes = cfg->max_bytes;
	if (!o->max_nesting)
		o->max_nesting = cfg->max_nesting;
	return o->root ? 0 : -1;
}

void options_release(struct options *o)
{
	free(o->exclude.v);
	free(o->extend_exclude.v);
	free(o->root);
	o->exclude.v = o->extend_exclude.v = NULL;
	o->root = NULL;
}

/* Where to look for pyproject.toml: the stdin file name's folder, else the first path's. */
static char *config_start(const struct options *o, char *const *paths, int npaths)
{
	const char *p = o->use_stdin ? o->stdin_filename : npaths ? paths[0] : NULL;
	if (!p)
		return strdup(".");
	struct stat st;
	if (!o->use_stdin && stat(p, &st) == 0 && S_ISDIR(st.st_mode))
		return strdup(p);
	char *abs = path_absolute(p);
	if (abs) {
		char *slash = strrchr(abs, '/');
		if (slash)
			slash[slash == abs ? 1 : 0] = 0;
	}
	return abs;
}

static const char *plural(size_t n, const char *one, const char *many) { return n == 1 ? one : many; }

/* --show-fixes, as Ruff prints it: the fixes applied per file and rule, most frequent first. */
static void print_fix_table(FILE *out, const struct options *o, const struct emitter *e, bool color, bool would)
{
	const struct fixed_file *ft = e->fixed.v;
	size_t total = 0, most = 0;
	for (size_t i = 0; i < e->fixed.n; i++)
		for (size_t k = 0; k < o->npasses; k++) {
			total += ft[i].by_pass[k];
			most = ft[i].by_pass[k] > most ? ft[i].by_pass[k] : most;
		}
	if (!total)
		return;
	const char *r = render_sgr(color, SGR_RESET), *sep = render_sgr(color, SGR_SEP), *b = render_sgr(color, SGR_BOLD);
	int width = snprintf(NULL, 0, "%zu", most);
	fprintf(out, "\n%s%s%s %zu %s:%s\n", b, render_sgr(color, SGR_ADD), would ? "Would fix" : "Fixed", total,
		plural(total, "finding", "findings"), r);
	for (size_t i = 0; i < e->fixed.n; i++) {
		fprintf(out, "%s-%s %s%s%s%s:%s\n", sep, r, b, ft[i].path, r, sep, r);
		bool done[MAX_PASSES] = {0};
		for (;;) { /* most frequent first, then in registry order */
			size_t best = MAX_PASSES;
			for (size_t k = 0; k < o->npasses; k++)
				if (!done[k] && ft[i].by_pass[k] && (best == MAX_PASSES || ft[i].by_pass[k] > ft[i].by_pass[best]))
					best = k;
			if (best == MAX_PASSES)
				break;
			done[best] = true;
			fprintf(out, "    %*zu \u00d7 %s%s%s (%s)\n", width, ft[i].by_pass[best], render_sgr(color, SGR_CODE),
				pass_registry[best]->code, r, pass_registry[best]->name);
		}
	}
	fputc('\n', out);
}

/* The last line, as Ruff prints it; never "All checks passed!" when a file could not be read or
 * analysed. */
static void summary(FILE *out, bool color, const struct options *o, const struct emitter *e, const struct totals *t)
{
	if (o->show_fixes && !o->silent && !o->format->machine && (o->mode == MODE_FIX || o->mode == MODE_DIFF))
		print_fix_table(o->mode == MODE_DIFF ? stderr : out, o, e, o->mode == MODE_DIFF ? o->color_err : color,
				o->mode == MODE_DIFF);
	if (o->quiet || o->mode == MODE_CHECK)
		return;
	if (o->mode == MODE_ADD_NOQA) {
		if (t->noqa_added)
			fprintf(stderr, "Added %zu noqa %s.\n", t->noqa_added, plural(t->noqa_added, "directive", "directives"));
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
	size_t unapplied = o->unsafe_fixes ? 0 : t->unsafe_fixable;
	const char *star = render_sgr(color, SGR_SEP), *r = render_sgr(color, SGR_RESET);
	/* machine-readable formats print nothing but the findings */
	if (o->format->machine) {
	} else if (o->fix_only) {
		/* Ruff's words for --fix-only */
		if (t->fixed && unapplied)
			fprintf(out, "Fixed %zu %s (%zu additional %s available with `--unsafe-fixes`).\n", t->fixed,
				plural(t->fixed, "finding", "findings"), unapplied, plural(unapplied, "fix", "fixes"));
		else if (unapplied)
			fprintf(out, "No findings fixed (%zu %s available with `--unsafe-fixes`).\n", unapplied,
				plural(unapplied, "fix", "fixes"));
		else if (t->fixed)
			fprintf(out, "Fixed %zu %s.\n", t->fixed, plural(t->fixed, "finding", "findings"));
	} else if (o->mode == MODE_FIX) {
		if (t->findings || t->fixed)
			fprintf(out, "Found %zu %s (%zu fixed, %zu remaining).\n", t->findings + t->fixed,
				plural(t->findings + t->fixed, "finding", "findings"), t->fixed, t->findings);
		else if (!t->errors)
			fprintf(out, "All checks passed!\n");
	} else if (t->findings) {
		fprintf(out, "Found %zu %s.\n", t->findings, plural(t->findings, "finding", "findings"));
		if (t->fixable)
			fprintf(out, "[%s*%s] %zu fixable with the `--fix` option", star, r, t->fixable);
		if (t->unsafe_fixable)
			fprintf(out, "%s%zu hidden %s can be enabled with the `--unsafe-fixes` option",
				t->fixable ? " (" : "", t->unsafe_fixable, plural(t->unsafe_fixable, "fix", "fixes"));
		if (t->fixable || t->unsafe_fixable)
			fprintf(out, "%s.\n", t->fixable && t->unsafe_fixable ? ")" : "");
	} else if (!t->errors) {
		fprintf(out, "All checks passed!\n");
	}
	if (o->counts && t->saving_ns > 0 && !o->format->machine) {
		fputs("Estimated saving of the fixes over the traced run: ", out);
		trace_print_duration(out, t->saving_ns);
		fputs(" (executions x a per-rule time; `spipfix optimize` times each site).\n", out);
	}
	if (t->errors) {
		fflush(out);
		fprintf(stderr, "%d %s could not be analysed (see the errors above).\n", t->errors,
			plural((size_t)t->errors, "file", "files"));
	}
}

/* --color WHEN (0 auto, 1 always, 2 never) for the stream fd: auto colours a terminal, unless
 * NO_COLOR is set (not empty) or TERM is dumb; FORCE_COLOR (not empty, not 0) colours any
 * stream. NO_COLOR wins over FORCE_COLOR (no-color.org). */
static bool color_wanted(int when, int fd)
{
	if (when)
		return when == 1;
	const char *no = getenv("NO_COLOR"), *force = getenv("FORCE_COLOR"), *term = getenv("TERM");
	if (no && *no)
		return false;
	if (force && *force)
		return strcmp(force, "0") != 0 && strcmp(force, "false") != 0;
	if (term && !strcmp(term, "dumb"))
		return false;
	return isatty(fd);
}

/* An option getopt_long refused (c is '?' or ':'): what was wrong, and the option meant. */
static void bad_option(int c, char **argv, const struct option *longopts)
{
	const char *arg = argv[optind - 1];
	if (c == ':') {
		for (const struct option *l = longopts; l->name; l++)
			if (l->val == optopt && optopt >= 256) {
				fprintf(stderr, "error: option `--%s` needs a value\n", l->name);
				goto tail;
			}
		fprintf(stderr, "error: option `-%c` needs a value\n", optopt);
		goto tail;
	}
	char word[64];
	if (optopt) {
		snprintf(word, sizeof word, "-%c", optopt);
	} else {
		snprintf(word, sizeof word, "%s", arg);
		char *eq = strchr(word, '=');
		if (eq)
			*eq = 0;
	}
	char names[96][40];
	const char *cand[96];
	size_t n = 0;
	for (const struct option *l = longopts; l->name && n < 96; l++) {
		snprintf(names[n], sizeof names[n], "--%s", l->name);
		cand[n] = names[n];
		n++;
	}
	const char *near = cli_nearest(word, cand, n);
	fprintf(stderr, "error: unrecognized option `%s`", word);
	if (near)
		fprintf(stderr, " (did you mean `%s`?)", near);
	fputc('\n', stderr);
tail:
	fputs("Try 'spipfix --help' for more information.\n", stderr);
}

/* --debug=CODE: a rule code in any case, a rule name, or all; NULL after an error. */
static const char *debug_rule(const char *arg)
{
	if (!strcasecmp(arg, "all"))
		return "all";
	const struct pass *p = pass_lookup(arg);
	if (p)
		return p->code;
	const char *near = cli_nearest_rule(arg);
	fprintf(stderr, "error: --debug: unknown rule `%s`", arg);
	if (near)
		fprintf(stderr, " (did you mean `%s`?)", near);
	fputc('\n', stderr);
	return NULL;
}

/* --trace-profile: the engine asks the loaded trace for each finding's count. */
static long long trace_lookup(void *ctx, const struct unit *u, const struct finding *f)
{
	return trace_profile_finding(ctx, u, f);
}

/* The target version: --target-version, else target-version, else the lower bound of
 * requires-python (the oldest supported version when it is older), else the default. When the
 * configuration was read by another version's interpreter, which cannot leave the process (see
 * passes/pyrt.h), spipfix runs itself again with the version named on the command line.
 * Returns 0, or -1 after an error message; does not return when it runs itself again. */
static int choose_target(int argc, char **argv, const struct cli *cl, const struct config *cfg)
{
	int target = cl->target_minor ? cl->target_minor : cfg->target_minor;
	if (!target && cfg->requires_python) {
		if (cfg->requires_minor > BRIDGE_MINOR_NEWEST) {
			fprintf(stderr, "error: %s: [project] `requires-python` = \"%s\" needs a Python newer than spipfix knows "
					"(py3%d); set target-version in [tool.spipfix]\n",
				cfg->requires_path, cfg->requires_python, BRIDGE_MINOR_NEWEST);
			return -1;
		}
		target = cfg->requires_minor < BRIDGE_MINOR_OLDEST ? BRIDGE_MINOR_OLDEST : cfg->requires_minor;
	}
	if (!target)
		target = bridge_default_minor();
	if (target == bridge_target() || !bridge_loaded())
		return bridge_select(target);
	if (!bridge_built(target))
		return bridge_select(target); /* the error */
	char opt[32];
	snprintf(opt, sizeof opt, "--target-version=py3%d", target);
	char **nv = calloc((size_t)argc + 3, sizeof *nv);
	if (!nv)
		return -1;
	nv[0] = program_invocation_name;
	nv[1] = "check";
	nv[2] = opt;
	for (int i = 1; i < argc; i++)
		nv[i + 2] = argv[i];
	fflush(stdout);
	fflush(stderr);
	execv("/proc/self/exe", nv);
	fprintf(stderr, "error: cannot run spipfix again for Python 3.%d: %s\n", target, strerror(errno));
	free(nv);
	return -1;
}

/* ---- the steps of check_main ----------------------------------------------------------------- */

/* One run of `spipfix check`, handed from step to step: the command line, the configuration and
 * the options they make, the run over the files, the summary. */
struct check_run {
	int argc;
	char **argv;
	/* the command line */
	struct cli cl;
	bool diff, fix, check, add_noqa;
	long long min_exec;         /* --min-executions; -1: not given */
	int color;                  /* --color: 0 auto, 1 always, 2 never */
	struct trace_profile *tp;   /* --trace-profile, or NULL */
	char *const *paths;
	int npaths;
	bool answered;              /* --help or --version: nothing else to do */
	/* the configuration, and the options of the run */
	struct config cfg;
	struct options o;
	struct engine_counts counts; /* --trace-profile: what o.counts points to */
	/* the run */
	struct render_run run;
	struct emitter out;
	struct exiting_workers exiting;
	struct totals t;
};

enum {
	OPT_DIFF = 256,
	OPT_FIX,
	OPT_UNSAFE,
	OPT_NO_UNSAFE,
	OPT_CHECK,
	OPT_SELECT,
	OPT_EXTEND_SELECT,
	OPT_IGNORE,
	OPT_EXCLUDE,
	OPT_EXTEND_EXCLUDE,
	OPT_PFI,
	OPT_FORCE_EXCLUDE,
	OPT_NO_FORCE_EXCLUDE,
	OPT_NO_GITIGNORE,
	OPT_CONFIG,
	OPT_ISOLATED,
	OPT_DEBUG,
	OPT_VERSION,
	OPT_STDIN_FILENAME,
	OPT_FORMAT,
	OPT_STATISTICS,
	OPT_EXIT_ZERO,
	OPT_EXIT_NON_ZERO_ON_FIX,
	OPT_NO_CACHE,
	OPT_CACHE_DIR,
	OPT_TRACE_PROFILE,
	OPT_COLOR,
	OPT_FIX_ONLY,
	OPT_SHOW_FIXES,
	OPT_ADD_NOQA,
	OPT_MIN_EXECUTIONS,
	OPT_INCLUDE_TESTS,
	OPT_NO_INCLUDE_TESTS,
	OPT_LINE_LENGTH,
	OPT_TARGET_VERSION,
	OPT_MAX_FILE_SIZE,
	OPT_MAX_NESTING,
};

static const struct option longopts[] = {
	{"diff", no_argument, NULL, OPT_DIFF},
	{"fix", no_argument, NULL, OPT_FIX},
	{"unsafe-fixes", no_argument, NULL, OPT_UNSAFE},
	{"no-unsafe-fixes", no_argument, NULL, OPT_NO_UNSAFE},
	{"check", no_argument, NULL, OPT_CHECK},
	{"select", required_argument, NULL, OPT_SELECT},
	{"extend-select", required_argument, NULL, OPT_EXTEND_SELECT},
	{"ignore", required_argument, NULL, OPT_IGNORE},
	{"exclude", required_argument, NULL, OPT_EXCLUDE},
	{"extend-exclude", required_argument, NULL, OPT_EXTEND_EXCLUDE},
	{"per-file-ignores", required_argument, NULL, OPT_PFI},
	{"force-exclude", no_argument, NULL, OPT_FORCE_EXCLUDE},
	{"no-force-exclude", no_argument, NULL, OPT_NO_FORCE_EXCLUDE},
	{"no-respect-gitignore", no_argument, NULL, OPT_NO_GITIGNORE},
	{"config", required_argument, NULL, OPT_CONFIG},
	{"isolated", no_argument, NULL, OPT_ISOLATED},
	{"stdin-filename", required_argument, NULL, OPT_STDIN_FILENAME},
	{"format", required_argument, NULL, OPT_FORMAT},
	{"output-format", required_argument, NULL, OPT_FORMAT},
	{"debug", required_argument, NULL, OPT_DEBUG},
	{"statistics", no_argument, NULL, OPT_STATISTICS},
	{"exit-zero", no_argument, NULL, OPT_EXIT_ZERO},
	{"exit-non-zero-on-fix", no_argument, NULL, OPT_EXIT_NON_ZERO_ON_FIX},
	{"no-cache", no_argument, NULL, OPT_NO_CACHE},
	{"cache-dir", required_argument, NULL, OPT_CACHE_DIR},
	{"trace-profile", required_argument, NULL, OPT_TRACE_PROFILE},
	{"color", required_argument, NULL, OPT_COLOR},
	{"fix-only", no_argument, NULL, OPT_FIX_ONLY},
	{"show-fixes", no_argument, NULL, OPT_SHOW_FIXES},
	{"add-noqa", no_argument, NULL, OPT_ADD_NOQA},
	{"min-executions", required_argument, NULL, OPT_MIN_EXECUTIONS},
	{"include-tests", no_argument, NULL, OPT_INCLUDE_TESTS},
	{"no-include-tests", no_argument, NULL, OPT_NO_INCLUDE_TESTS},
	{"line-length", required_argument, NULL, OPT_LINE_LENGTH},
	{"target-version", required_argument, NULL, OPT_TARGET_VERSION},
	{"max-file-size", required_argument, NULL, OPT_MAX_FILE_SIZE},
	{"max-nesting", required_argument, NULL, OPT_MAX_NESTING},
	{"jobs", required_argument, NULL, 'j'},
	{"quiet", no_argument, NULL, 'q'},
	{"silent", no_argument, NULL, 's'},
	{"version", no_argument, NULL, OPT_VERSION},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

/* One option getopt_long returned (c), with its optarg, into the command line of cr. Returns 0,
 * or -1 after an error message. */
static int take_option(struct check_run *cr, int c)
{
	struct cli *cl = &cr->cl;
	struct options *o = &cr->o;
	switch (c) {
	case OPT_DIFF: cr->diff = true; break;
	case OPT_FIX: cr->fix = true; break;
	case OPT_UNSAFE: cl->unsafe_fixes = 1; break;
	case OPT_NO_UNSAFE: cl->unsafe_fixes = 0; break;
	case OPT_CHECK: cr->check = true; break;
	case OPT_SELECT:
		strlist_free(&cl->select);
		cl->have_select = true;
		return cli_rule_list("--select", optarg, &cl->select);
	case OPT_EXTEND_SELECT: return cli_rule_list("--extend-select", optarg, &cl->extend_select);
	case OPT_IGNORE: return cli_rule_list("--ignore", optarg, &cl->ignore);
	case OPT_EXCLUDE:
		cl->have_exclude = true;
		return strlist_split(&cl->exclude, optarg);
	case OPT_EXTEND_EXCLUDE: return strlist_split(&cl->extend_exclude, optarg);
	case OPT_PFI: return add_pfi(cl, optarg);
	case OPT_FORCE_EXCLUDE: cl->force_exclude = 1; break;
	case OPT_NO_FORCE_EXCLUDE: cl->force_exclude = 0; break;
	case OPT_NO_GITIGNORE: cl->respect_gitignore = 0; break;
	case OPT_INCLUDE_TESTS: cl->include_tests = 1; break;
	case OPT_NO_INCLUDE_TESTS: cl->include_tests = 0; break;
	case OPT_LINE_LENGTH: {
		char *end;
		long n = strtol(optarg, &end, 10);
		if (*end || n < 1 || n > 320) {
			fprintf(stderr, "error: --line-length: expected a number from 1 to 320, got `%s`\n", optarg);
			return -1;
		}
		cl->line_length = (int)n;
		break;
	}
	case OPT_CONFIG: cl->config = optarg; break;
	case OPT_ISOLATED: cl->isolated = true; break;
	case OPT_STDIN_FILENAME: o->stdin_filename = optarg; break;
	case OPT_FORMAT: return (o->format = parse_format(optarg)) ? 0 : -1;
	case OPT_MAX_FILE_SIZE: return cli_size("--max-file-size", optarg, CLI_MAX_FILE, &o->max_bytes);
	case OPT_MAX_NESTING: return cli_count("--max-nesting", optarg, 100000, &o->max_nesting);
	case OPT_TRACE_PROFILE: {
		if (cr->tp) {
			fputs("error: --trace-profile given twice\n", stderr);
			return -1;
		}
		char *err = NULL;
		if (!(cr->tp = trace_profile_load(optarg, &err))) {
			fprintf(stderr, "error: --trace-profile: %s\n", err ? err : "out of memory");
			free(err);
			return -1;
		}
		break;
	}
	case OPT_DEBUG: return (o->debug = debug_rule(optarg)) ? 0 : -1;
	case OPT_COLOR: {
		static const char *const whens[] = {"auto", "always", "never", NULL};
		return (cr->color = cli_choice("--color", optarg, whens)) < 0 ? -1 : 0;
	}
	case OPT_FIX_ONLY: o->fix_only = true; break;
	case OPT_SHOW_FIXES: o->show_fixes = true; break;
	case OPT_ADD_NOQA: cr->add_noqa = true; break;
	case OPT_MIN_EXECUTIONS: {
		char *end;
		errno = 0;
		cr->min_exec = strtoll(optarg, &end, 10);
		if (errno || *end || end == optarg || cr->min_exec < 0) {
			fprintf(stderr, "error: --min-executions: expected a number >= 0, got `%s`\n", optarg);
			return -1;
		}
		break;
	}
	case OPT_TARGET_VERSION:
		if ((cl->target_minor = bridge_parse_version(optarg)) < 0) {
			fprintf(stderr, "error: --target-version: unknown version `%s` (py311, py312, py313)\n", optarg);
			return -1;
		}
		break;
	case OPT_STATISTICS: o->statistics = true; break;
	case OPT_EXIT_ZERO: o->exit_zero = true; break;
	case OPT_EXIT_NON_ZERO_ON_FIX: o->exit_non_zero_on_fix = true; break;
	case OPT_NO_CACHE: o->no_cache = true; break;
	case OPT_CACHE_DIR: o->cache_dir = optarg; break;
	case 'j': {
		char *end;
		long j = strtol(optarg, &end, 10);
		if (*end || j < 1 || j > MAX_WORKERS) {
			fprintf(stderr, "error: --jobs: expected a number from 1 to %d, got `%s`\n", MAX_WORKERS, optarg);
			return -1;
		}
		o->jobs = (int)j;
		break;
	}
	case 'q': o->quiet = true; break;
	case 's': o->silent = o->quiet = true; break;
	case OPT_VERSION: printf("spipfix %s\n", SPIPFIX_VERSION); cr->answered = true; break;
	case 'h': usage(stdout); cr->answered = true; break;
	default: bad_option(c, cr->argv, longopts); return -1;
	}
	return 0;
}

/* The options, then the mode they ask for and the paths (or stdin) it runs on. Returns 0 (with
 * cr->answered after --help or --version), or -1 after an error message. */
static int read_command_line(struct check_run *cr)
{
	optind = 1;
	opterr = 0; /* bad_option says what was meant */
	int c;
	while (!cr->answered && (c = getopt_long(cr->argc, cr->argv, ":qshj:", longopts, NULL)) != -1)
		if (take_option(cr, c) < 0)
			return -1;
	if (cr->answered)
		return 0;
	struct options *o = &cr->o;
	if (o->fix_only && !cr->diff)
		cr->fix = true; /* --fix-only is --fix that reports nothing else (with --diff: the diff) */
	if (cr->diff + cr->fix + cr->check > 1) {
		fputs("error: --diff, --fix and --check cannot be combined\n", stderr);
		return -1;
	}
	if (cr->add_noqa && (cr->diff || cr->fix || cr->check)) {
		fputs("error: --add-noqa cannot be combined with --fix, --fix-only, --diff or --check\n", stderr);
		return -1;
	}
	if (cr->min_exec >= 0 && !cr->tp) {
		fputs("error: --min-executions needs --trace-profile (the counts it compares with)\n", stderr);
		return -1;
	}
	if (cr->cl.config && cr->cl.isolated) {
		fputs("error: --config and --isolated cannot be combined\n", stderr);
		return -1;
	}
	o->mode = cr->add_noqa ? MODE_ADD_NOQA : cr->diff ? MODE_DIFF : cr->fix ? MODE_FIX : cr->check ? MODE_CHECK : MODE_REPORT;
	if (cr->diff)
		o->fix_only = false;
	cr->npaths = cr->argc - optind;
	cr->paths = cr->argv + optind;
	/* `-` alone, or no path with --stdin-filename: the buffer comes from stdin */
	o->use_stdin = (cr->npaths == 1 && !strcmp(cr->paths[0], "-")) || (cr->npaths == 0 && o->stdin_filename);
	if (!o->use_stdin) {
		for (int i = 0; i < cr->npaths; i++)
			if (!strcmp(cr->paths[i], "-")) {
				fputs("error: `-` (standard input) cannot be combined with other paths\n", stderr);
				return -1;
			}
	}
	if (cr->add_noqa && o->use_stdin) {
		fputs("error: --add-noqa writes files; it cannot read standard input\n", stderr);
		return -1;
	}
	if (cr->npaths == 0 && !o->use_stdin) {
		fputs("error: no paths given\nUsage: spipfix [check] [OPTIONS] PATH...\n", stderr);
		return -1;
	}
	return 0;
}

/* The configuration file, the target version, and the options of the run: the command line and
 * the configuration merged, the trace's counts, the colours. Returns 0, or -1 after an error
 * message. */
static int configure(struct check_run *cr)
{
	struct options *o = &cr->o;
	/* the configuration is read with the tomllib of the version named here, else the default's */
	if (cr->cl.target_minor && bridge_select(cr->cl.target_minor) < 0)
		return -1;
	if (!cr->cl.isolated) {
		char *start = config_start(o, cr->paths, cr->npaths);
		int r = start ? config_load(cr->cl.config, start, &cr->cfg) : 0;
		free(start);
		if (r < 0)
			return -1;
	}
	if (choose_target(cr->argc, cr->argv, &cr->cl, &cr->cfg) < 0)
		return -1;
	if (options_resolve(o, &cr->cl, &cr->cfg) < 0)
		return -1;
	/* a trace gives each finding its execution count; text diagnostics are held back and
	 * printed at the end, most executed first: one process, no cache */
	if (cr->tp) {
		cr->counts = (struct engine_counts){trace_lookup, cr->tp};
		o->counts = &cr->counts;
		o->min_executions = cr->min_exec >= 0 ? cr->min_exec : cr->cfg.min_executions > 0 ? cr->cfg.min_executions : 0;
		if (o->format == &render_text && !o->silent && !(o->held = held_new()))
			return -1;
	}
	o->color_out = !o->format->machine && color_wanted(cr->color, STDOUT_FILENO);
	o->color_err = color_wanted(cr->color, STDERR_FILENO);
	return 0;
}

/* The buffer read from stdin, through the engine, and its output. Returns 0 / -1. */
static int run_stdin(struct check_run *cr)
{
	const struct options *o = &cr->o;
	struct file_result r;
	if (file_result_open(&r) < 0)
		return -1;
	/* an excluded name under --force-exclude: analysed as nothing */
	if (o->force_exclude && o->stdin_filename && path_excluded(o, o->stdin_filename)) {
		size_t len;
		char *buf = o->mode == MODE_FIX ? read_stdin(&len) : NULL;
		if (buf)
			fwrite(buf, 1, len, r.outf);
		free(buf);
	} else {
		process_stdin(o, &r);
	}
	file_result_close(&r);
	emit_result(&cr->out, o, o->stdin_filename ? o->stdin_filename : "-", &r);
	totals_add(&cr->t, &r.t);
	file_result_free(&r);
	return 0;
}

/* The files found under the paths, each through the engine (on worker processes, answered from
 * the cache where it can), their outputs in file order. */
static void run_paths(struct check_run *cr)
{
	struct options *o = &cr->o;
	bool traced = cr->tp != NULL;
	size_t nfiles;
	off_t *sizes = NULL;
	char **files = discover(cr->paths, cr->npaths, o, &nfiles, &cr->t.errors, &sizes);
	if (!o->no_cache && !o->debug && !traced)
		o->cache = cache_open(o);
	/* --debug writes straight to stderr while analysing: keep it in file order */
	int jobs = o->debug || traced ? 1 : o->jobs > 0 ? o->jobs : available_cpus();
	if (run_files(files, sizes, nfiles, o, jobs, &cr->out, &cr->t, &cr->exiting) < 0) {
		fputs("error: out of memory\n", stderr);
		cr->t.errors++;
	}
	cache_close(o->cache);
	o->cache = NULL;
	run_files_reap(&cr->exiting);
	files_free(files, nfiles);
	free(sizes);
}

/* The run: the renderer's beginning, then stdin or the files. Returns 0 / -1. */
static int run(struct check_run *cr)
{
	const struct options *o = &cr->o;
	cr->run = (struct render_run){.r = o->format, .traced = cr->tp != NULL, .npasses = o->npasses};
	if (findings_on_stdout(o) && o->format->begin)
		o->format->begin(stdout, &cr->run);
	if (o->use_stdin)
		return run_stdin(cr);
	run_paths(cr);
	return 0;
}

/* The exit status of a run that got to its end. */
static int exit_status(const struct options *o, const struct totals *t)
{
	if (t->errors)
		return 2;
	if (o->exit_non_zero_on_fix && t->fixed)
		return 1;
	if (o->exit_zero || o->fix_only || o->mode == MODE_ADD_NOQA)
		return 0;
	if (o->mode == MODE_DIFF)
		return t->fixed ? 1 : 0;
	return t->findings ? 1 : 0;
}

/* What is printed once the files are done: the held diagnostics, the renderer's end, the
 * statistics and the summary. Returns the exit status. */
static int finish(struct check_run *cr)
{
	struct options *o = &cr->o;
	held_flush(o->held);
	o->held = NULL;
	cr->run.findings = cr->out.findings;
	cr->run.t = &cr->t;
	if (findings_on_stdout(o) && o->format->end)
		o->format->end(stdout, &cr->run);
	fflush(stdout);
	/* with stdin, --fix owns stdout: the summary goes to stderr */
	FILE *summary_to = o->use_stdin && o->mode == MODE_FIX ? stderr : stdout;
	if (o->statistics && !o->silent)
		render_statistics(summary_to, &cr->run, o->format == &render_json || o->format == &render_jsonl);
	summary(summary_to, summary_to == stdout ? o->color_out : o->color_err, o, &cr->out, &cr->t);
	bridge_fini();
	return exit_status(o, &cr->t);
}

int check_main(int argc, char **argv)
{
	struct check_run cr = {
		.argc = argc,
		.argv = argv,
		.cl = {.unsafe_fixes = -1, .respect_gitignore = -1, .force_exclude = -1, .include_tests = -1},
		.min_exec = -1,
		.o = {.mode = MODE_REPORT, .format = &render_text},
	};
	int rc = 2;
	if (read_command_line(&cr) < 0)
		goto out;
	if (cr.answered) {
		rc = 0;
		goto out;
	}
	if (configure(&cr) < 0 || run(&cr) < 0)
		goto out;
	rc = finish(&cr);
out:
	held_flush(cr.o.held);
	trace_profile_free(cr.tp);
	cli_free(&cr.cl);
	config_free(&cr.cfg);
	options_release(&cr.o);
	emitter_free(&cr.out);
	return rc;
}
