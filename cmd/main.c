/* spipfix: find work that Python code repeats on every call, prove it on the bytecode, fix it. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridge.h"
#include "cmd.h"
#include "pass.h"

static void usage(FILE *out)
{
	fputs("Usage: spipfix [check] [OPTIONS] PATH...\n"
	      "       spipfix [check] [OPTIONS] --stdin-filename PATH [-]\n"
	      "\n"
	      "Find closure-free nested functions and other per-call waste in Python files, prove each\n"
	      "finding on the bytecode CPython compiles from the same source, and fix it.\n"
	      "Folders are searched for *.py (skipping .git, virtualenvs, __pycache__, build, dist,\n"
	      "site-packages); files named explicitly are always analysed. Nothing is executed.\n"
	      "A PATH of `-` reads the source from standard input.\n"
	      "\n"
	      "Options:\n"
	      "      --diff             Print a unified diff of the fixes; write nothing\n"
	      "      --fix              Apply the safe fixes in place (stdin: print the fixed source)\n"
	      "      --unsafe-fixes     Also apply (or show) fixes that may change behaviour\n"
	      "      --check            Print only the findings; exit 1 if there are any\n"
	      "      --select CODES     Comma-separated rule codes or prefixes to run (default: all)\n"
	      "      --stdin-filename PATH  Read the source from stdin; PATH names it in messages\n"
	      "      --format FORMAT    Findings as text, concise, json, jsonl or github (alias --output-format)\n"
	      "      --debug=CODE       Show one rule's candidates, cross-check verdicts and edits on stderr\n"
	      "  -q, --quiet            Print no summary line\n"
	      "      --version          Print the version\n"
	      "  -h, --help             Print this help\n"
	      "\n"
	      "Rules:\n",
	      out);
	for (const struct pass *const *p = pass_registry; *p; p++)
		fprintf(out, "  %s %-26s %s\n", (*p)->code, (*p)->name, (*p)->summary);
	fputs("\nExit status: 0 nothing found (or all fixed), 1 findings remain or the diff is not empty,\n"
	      "2 usage error or a file that could not be read or analysed.\n",
	      out);
}

/* Split a comma-separated list into l (strings owned by l). Returns 0 / -1. */
static int split_list(const char *s, struct strlist *l)
{
	char *copy = strdup(s);
	if (!copy)
		return -1;
	for (char *save = NULL, *tok = strtok_r(copy, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
		char **nv = realloc(l->v, (l->n + 2) * sizeof *nv);
		if (!nv || !(nv[l->n] = strdup(tok))) {
			if (nv)
				l->v = nv;
			free(copy);
			return -1;
		}
		l->v = nv;
		l->n++;
		l->v[l->n] = NULL;
	}
	free(copy);
	return 0;
}

static void strlist_free(struct strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* Is `sel` a rule code, a prefix of one, a rule name or ALL? */
static bool known_selector(const char *sel)
{
	if (!strcmp(sel, "ALL"))
		return true;
	for (const struct pass *const *p = pass_registry; *p; p++)
		if (!strncmp((*p)->code, sel, strlen(sel)) || !strcmp((*p)->name, sel))
			return true;
	return false;
}

static bool selector_matches(const char *sel, const struct pass *p)
{
	return !strcmp(sel, "ALL") || !strncmp(p->code, sel, strlen(sel)) || !strcmp(p->name, sel);
}

/* Is stdout one JSON array of findings (each file's output a run of `,\n`-led elements)? */
static bool json_array_output(const struct options *o)
{
	return o->format == FMT_JSON && o->mode != MODE_DIFF && !(o->use_stdin && o->mode == MODE_FIX);
}

static bool json_started;

/* Write what one file produced, in order: its diagnostics on stderr, its output on stdout. */
static void emit(const struct options *o, const struct file_result *r)
{
	if (r->errlen) {
		fflush(stdout);
		fwrite(r->err, 1, r->errlen, stderr);
	}
	if (!r->outlen)
		return;
	if (json_array_output(o)) {
		size_t skip = json_started ? 0 : 2;
		if (!json_started)
			fputs("[\n", stdout);
		json_started = true;
		fwrite(r->out + skip, 1, r->outlen - skip, stdout);
		return;
	}
	fwrite(r->out, 1, r->outlen, stdout);
}

static void emit_end(const struct options *o)
{
	if (json_array_output(o))
		fputs(json_started ? "\n]\n" : "[]\n", stdout);
}

static int parse_format(const char *s, enum format *f)
{
	static const struct {
		const char *name;
		enum format f;
	} names[] = {{"text", FMT_TEXT},   {"full", FMT_TEXT},   {"concise", FMT_CONCISE},
		     {"json", FMT_JSON},   {"jsonl", FMT_JSONL}, {"json-lines", FMT_JSONL},
		     {"github", FMT_GITHUB}};
	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		if (!strcmp(s, names[i].name)) {
			*f = names[i].f;
			return 0;
		}
	fprintf(stderr, "error: --format: unknown format `%s` (text, concise, json, jsonl, github)\n", s);
	return -1;
}

int main(int argc, char **argv)
{
	struct options o = {.mode = MODE_REPORT, .respect_gitignore = true};
	struct strlist select = {0};
	bool have_select = false;
	enum {
		OPT_DIFF = 256,
		OPT_FIX,
		OPT_UNSAFE,
		OPT_CHECK,
		OPT_SELECT,
		OPT_DEBUG,
		OPT_VERSION,
		OPT_STDIN_FILENAME,
		OPT_FORMAT,
	};
	static const struct option longopts[] = {
		{"diff", no_argument, NULL, OPT_DIFF},
		{"fix", no_argument, NULL, OPT_FIX},
		{"unsafe-fixes", no_argument, NULL, OPT_UNSAFE},
		{"check", no_argument, NULL, OPT_CHECK},
		{"select", required_argument, NULL, OPT_SELECT},
		{"stdin-filename", required_argument, NULL, OPT_STDIN_FILENAME},
		{"format", required_argument, NULL, OPT_FORMAT},
		{"output-format", required_argument, NULL, OPT_FORMAT},
		{"debug", required_argument, NULL, OPT_DEBUG},
		{"quiet", no_argument, NULL, 'q'},
		{"version", no_argument, NULL, OPT_VERSION},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int first = 1;
	if (argc > 1 && !strcmp(argv[1], "check"))
		first = 2;
	optind = first;
	bool diff = false, fix = false, check = false;
	int rc = 2, c;
	while ((c = getopt_long(argc, argv, "qh", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_DIFF: diff = true; break;
		case OPT_FIX: fix = true; break;
		case OPT_UNSAFE: o.unsafe_fixes = true; break;
		case OPT_CHECK: check = true; break;
		case OPT_SELECT:
			strlist_free(&select);
			have_select = true;
			if (split_list(optarg, &select) < 0)
				goto out;
			for (size_t i = 0; i < select.n; i++)
				if (!known_selector(select.v[i])) {
					fprintf(stderr, "error: --select: unknown rule `%s`\n", select.v[i]);
					goto out;
				}
			break;
		case OPT_STDIN_FILENAME: o.stdin_filename = optarg; break;
		case OPT_FORMAT:
			if (parse_format(optarg, &o.format) < 0)
				goto out;
			break;
		case OPT_DEBUG: o.debug = optarg; break;
		case 'q': o.quiet = true; break;
		case OPT_VERSION: printf("spipfix %s\n", SPIPFIX_VERSION); rc = 0; goto out;
		case 'h': usage(stdout); rc = 0; goto out;
		default: fputs("Try 'spipfix --help' for more information.\n", stderr); goto out;
		}
	}
	if (diff + fix + check > 1) {
		fputs("error: --diff, --fix and --check cannot be combined\n", stderr);
		goto out;
	}
	o.mode = diff ? MODE_DIFF : fix ? MODE_FIX : check ? MODE_CHECK : MODE_REPORT;
	int npaths = argc - optind;
	char *const *paths = argv + optind;
	/* `-` alone, or no path with --stdin-filename: the buffer comes from stdin */
	o.use_stdin = (npaths == 1 && !strcmp(paths[0], "-")) || (npaths == 0 && o.stdin_filename);
	if (!o.use_stdin) {
		for (int i = 0; i < npaths; i++)
			if (!strcmp(paths[i], "-")) {
				fputs("error: `-` (standard input) cannot be combined with other paths\n", stderr);
				goto out;
			}
	}
	if (npaths == 0 && !o.use_stdin) {
		fputs("error: no paths given\nUsage: spipfix [check] [OPTIONS] PATH...\n", stderr);
		goto out;
	}

	for (o.npasses = 0; pass_registry[o.npasses] && o.npasses < MAX_PASSES; o.npasses++) {
		bool on = !have_select;
		for (size_t i = 0; i < select.n && !on; i++)
			on = selector_matches(select.v[i], pass_registry[o.npasses]);
		o.enabled[o.npasses] = on;
	}

	struct totals t = {0};
	if (bridge_init() < 0)
		goto out;
	if (o.use_stdin) {
		struct file_result r;
		if (file_result_open(&r) < 0)
			goto out;
		process_stdin(&o, &r);
		file_result_close(&r);
		emit(&o, &r);
		totals_add(&t, &r.t);
		file_result_free(&r);
	} else {
		size_t nfiles;
		char **files = discover(paths, npaths, &o, &nfiles, &t.errors);
		for (size_t i = 0; i < nfiles; i++) {
			struct file_result r;
			if (file_result_open(&r) < 0) {
				t.errors++;
				continue;
			}
			process_file(files[i], &o, &r);
			file_result_close(&r);
			emit(&o, &r);
			totals_add(&t, &r.t);
			file_result_free(&r);
		}
		files_free(files, nfiles);
	}
	emit_end(&o);
	fflush(stdout);
	/* with stdin, --fix owns stdout: the summary goes to stderr */
	render_summary(o.use_stdin && o.mode == MODE_FIX ? stderr : stdout, &o, &t);
	bridge_fini();
	if (t.errors)
		rc = 2;
	else if (o.mode == MODE_DIFF)
		rc = t.fixed ? 1 : 0;
	else
		rc = t.findings ? 1 : 0;
out:
	strlist_free(&select);
	return rc;
}
