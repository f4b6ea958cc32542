/* spipfix: find work that Python code repeats on every call, prove it on the bytecode, fix it. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "bridge.h"
#include "cmd.h"
#include "pass.h"
#include "tools.h"

static void usage(FILE *out)
{
	fputs("Usage: spipfix [check] [OPTIONS] PATH...\n"
	      "       spipfix bench|profile|trace ...   (each has its own --help)\n"
	      "\n"
	      "Find closure-free nested functions and other per-call waste in Python files, prove each\n"
	      "finding on the bytecode CPython compiles from the same source, and fix it.\n"
	      "Folders are searched for *.py (skipping .git, virtualenvs, __pycache__, build, dist,\n"
	      "site-packages); files named explicitly are always analysed. The analysed code is only\n"
	      "compiled, never run; SPF201 evaluates one allow-listed pure call (re.compile(\"a+\"), ...)\n"
	      "once before it proposes to hoist it.\n"
	      "\n"
	      "Options:\n"
	      "      --diff             Print a unified diff of the fixes; write nothing\n"
	      "      --fix              Apply the safe fixes in place\n"
	      "      --unsafe-fixes     Also apply (or show) fixes that may change behaviour\n"
	      "      --check            Print only the findings; exit 1 if there are any\n"
	      "      --select CODES     Comma-separated rule codes or prefixes to run (default: all)\n"
	      "      --debug=CODE       Show one rule's candidates, cross-check verdicts and edits on stderr\n"
	      "      --trace-profile F  Order findings by the execution counts of `spipfix trace --format json`\n"
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

static const char **split_select(char *s)
{
	size_t n = 1;
	for (char *p = s; *p; p++)
		n += *p == ',';
	const char **v = calloc(n + 1, sizeof *v);
	if (!v)
		return NULL;
	size_t k = 0;
	for (char *tok = strtok(s, ","); tok; tok = strtok(NULL, ","))
		v[k++] = tok;
	return v;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "bench"))
		return cmd_bench(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "profile"))
		return cmd_profile(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "trace"))
		return cmd_trace(argc - 1, argv + 1);
	if (trace_profile_option(&argc, argv) < 0) /* --trace-profile FILE: see tools.h */
		return 2;
	struct options o = {.mode = MODE_REPORT};
	enum { OPT_DIFF = 256, OPT_FIX, OPT_UNSAFE, OPT_CHECK, OPT_SELECT, OPT_DEBUG, OPT_VERSION };
	static const struct option longopts[] = {
		{"diff", no_argument, NULL, OPT_DIFF},
		{"fix", no_argument, NULL, OPT_FIX},
		{"unsafe-fixes", no_argument, NULL, OPT_UNSAFE},
		{"check", no_argument, NULL, OPT_CHECK},
		{"select", required_argument, NULL, OPT_SELECT},
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
	int c;
	while ((c = getopt_long(argc, argv, "qh", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_DIFF: diff = true; break;
		case OPT_FIX: fix = true; break;
		case OPT_UNSAFE: o.unsafe_fixes = true; break;
		case OPT_CHECK: check = true; break;
		case OPT_SELECT:
			o.select = split_select(optarg);
			for (const char **s = o.select; s && *s; s++) {
				bool known = false;
				for (const struct pass *const *p = pass_registry; *p; p++)
					known |= !strncmp((*p)->code, *s, strlen(*s)) || !strcmp((*p)->name, *s);
				if (!known && strcmp(*s, "ALL") != 0) {
					fprintf(stderr, "error: --select: unknown rule `%s`\n", *s);
					return 2;
				}
			}
			break;
		case OPT_DEBUG: o.debug = optarg; break;
		case 'q': o.quiet = true; break;
		case OPT_VERSION: printf("spipfix %s\n", SPIPFIX_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: fputs("Try 'spipfix --help' for more information.\n", stderr); return 2;
		}
	}
	if (diff + fix + check > 1) {
		fputs("error: --diff, --fix and --check cannot be combined\n", stderr);
		return 2;
	}
	o.mode = diff ? MODE_DIFF : fix ? MODE_FIX : check ? MODE_CHECK : MODE_REPORT;
	if (optind >= argc) {
		fputs("error: no paths given\nUsage: spipfix [check] [OPTIONS] PATH...\n", stderr);
		return 2;
	}
	struct totals t = {0};
	size_t nfiles;
	char **files = discover(argv + optind, argc - optind, &nfiles, &t.errors);
	if (bridge_init() < 0)
		return 2;
	for (size_t i = 0; i < nfiles; i++)
		process_file(files[i], &o, &t);
	fflush(stdout);
	render_summary(stdout, &o, &t);
	files_free(files, nfiles);
	free(o.select);
	bridge_fini();
	if (t.errors)
		return 2;
	if (o.mode == MODE_DIFF)
		return t.fixed ? 1 : 0;
	return t.findings ? 1 : 0;
}
