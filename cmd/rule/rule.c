/* `spipfix rule CODE`: what each rule finds, why it costs, when it is fixed, with an example
 * before and after, from the pass table (struct pass_doc): a rule's documentation lives in its
 * pass file. Each example's `after` is what `spipfix --fix` makes of its `before`
 * (tests/cli_test.py checks it). */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "pass.h"

void rule_print_text(FILE *out, const struct pass *p)
{
	const struct pass_doc *d = &p->doc;
	fprintf(out, "# %s (%s)\n\n%s.\n\n", p->name, p->code, p->summary);
	fprintf(out, "## What it does\n%s\n\n## Why is this bad?\n%s\n\n## Fix\n%s\n\n", d->what, d->why, d->fix);
	fprintf(out, "## Example\n```python\n%s```\n\nUse instead:\n```python\n%s```\n", d->before, d->after);
}

/* A new jansson reference, or NULL. */
static json_t *to_json(const struct pass *p)
{
	const struct pass_doc *d = &p->doc;
	return json_pack("{s:s,s:s,s:b,s:s,s:s,s:s,s:s,s:s}", "code", p->code, "name", p->name, "available", 1, "what",
			 d->what, "why", d->why, "fix", d->fix, "before", d->before, "after", d->after);
}

int rule_main(int argc, char **argv)
{
	bool all = false, json = false;
	const char *which = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--all"))
			all = true;
		else if (!strcmp(argv[i], "--format=json") || !strcmp(argv[i], "--output-format=json"))
			json = true;
		else if ((!strcmp(argv[i], "--format") || !strcmp(argv[i], "--output-format")) && i + 1 < argc)
			json = !strcmp(argv[++i], "json");
		else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			puts("Usage: spipfix rule [--format text|json] CODE | --all\n\n"
			     "Explain a rule: what it finds, why it costs, when it is fixed, with an example.\n"
			     "CODE is a rule code in any case (spf101) or a rule name.");
			return 0;
		} else if (argv[i][0] != '-' && !which)
			which = argv[i];
		else {
			static const char *const opts[] = {"--all", "--format", "--output-format", "--help"};
			const char *near = argv[i][0] == '-' ? cli_nearest(argv[i], opts, 4) : NULL;
			fprintf(stderr, "error: rule: unexpected argument `%s`", argv[i]);
			if (near)
				fprintf(stderr, " (did you mean `%s`?)", near);
			fputc('\n', stderr);
			return 2;
		}
	}
	if (!all && !which) {
		fputs("error: rule: name a rule (e.g. `spipfix rule SPF101`) or give --all\n", stderr);
		return 2;
	}
	const struct pass *one = which ? pass_lookup(which) : NULL;
	if (which && !one) {
		const char *near = cli_nearest_rule(which);
		fprintf(stderr, "error: rule: unknown rule `%s`", which);
		if (near)
			fprintf(stderr, " (did you mean `%s`?)", near);
		fputc('\n', stderr);
		return 2;
	}
	if (json) {
		json_t *v = one ? to_json(one) : json_array();
		for (const struct pass *const *p = pass_registry; !one && v && *p; p++)
			json_array_append_new(v, to_json(*p));
		if (!v || json_dumpf(v, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0) {
			json_decref(v);
			return 2;
		}
		fputc('\n', stdout);
		json_decref(v);
		return 0;
	}
	if (one) {
		rule_print_text(stdout, one);
		return 0;
	}
	for (const struct pass *const *p = pass_registry; *p; p++) {
		if (p != pass_registry)
			fputc('\n', stdout);
		rule_print_text(stdout, *p);
	}
	return 0;
}
