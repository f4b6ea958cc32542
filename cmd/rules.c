/* `spipfix rule CODE`: what each rule finds, why it costs, when it is fixed, with an example
 * before and after. One table for every rule of the design; every registered pass must have its
 * entry (tests/unit_rules.c checks it), and each example's `after` is what `spipfix --fix` makes of
 * its `before` (tests/cli_test.py checks it). */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "pass.h"
#include "rules.h"

static const struct rule_doc docs[] = {
	{
		.code = "SPF101",
		.name = "closure-free-nested-def",
		.what = "A `def` or `lambda` inside a function (or inside a comprehension in a function) whose\n"
			"code object has no free variables: it uses nothing of the enclosing function.",
		.why = "Every call of the enclosing function builds a new function object from the same code\n"
		       "(MAKE_FUNCTION), evaluating its defaults and annotations again. Defined once at module\n"
		       "level, the function is built once at import.",
		.fix = "Lifted to module level as `_<outer>_<inner>` when every safety check holds (empty\n"
		       "co_freevars, defaults and annotations read nothing of the enclosing function, no\n"
		       "decorator, no mutable default, the function does not escape, no locals()/eval/exec,\n"
		       "no private name). A decorated or escaping function is an unsafe fix; otherwise the\n"
		       "finding is reported only, with the check that failed.",
		.before = "def rank(words):\n"
			  "    def by_length(word):\n"
			  "        return (len(word), word)\n"
			  "\n"
			  "    return sorted(words, key=by_length)\n",
		.after = "def _rank_by_length(word):\n"
			 "    return (len(word), word)\n"
			 "\n"
			 "\n"
			 "def rank(words):\n"
			 "    by_length = _rank_by_length\n"
			 "\n"
			 "    return sorted(words, key=by_length)\n",
	},
	{
		.code = "SPF102",
		.name = "function-built-in-loop",
		.what = "A `def` or `lambda` whose MAKE_FUNCTION instruction lies inside a loop of its function:\n"
			"a new function object is built on every iteration.",
		.why = "Building a function costs an allocation and the evaluation of its defaults each time;\n"
		       "inside a loop that cost is paid once per iteration instead of once.",
		.fix = "Reported only. When the function is closure-free, SPF101's lift on the same def is the\n"
		       "fix; a function that captures loop variables must stay where it is.",
		.before = "def sort_each(groups):\n"
			  "    for g in groups:\n"
			  "        g.sort(key=lambda item: item[1])\n",
		.after = "def _sort_each_lambda(item):\n"
			 "    return item[1]\n"
			 "\n"
			 "\n"
			 "def sort_each(groups):\n"
			 "    for g in groups:\n"
			 "        g.sort(key=_sort_each_lambda)\n",
	},
	{
		.code = "SPF201",
		.name = "constant-argument-call",
		.what = "A call inside a function body whose every argument is a constant (a literal, or a tuple\n"
			"or frozenset of constants) and whose callee is a global or builtin name or attribute\n"
			"chain, such as `re.compile(\"a+\")` or `struct.Struct(\"<I\")`.",
		.why = "The same value is computed again on every call of the function although nothing it\n"
		       "depends on changes.",
		.fix = "Hoisted to a module constant only for a vetted list of pure callables whose result is\n"
		       "immutable, when the callee resolves to the module import and the call was evaluated\n"
		       "once at analysis time without error. Everything else is reported with no fix.\n"
		       "The hoisted call runs once, at import: a later replacement of the callee (a test\n"
		       "monkeypatching `re.compile`) no longer reaches that call site.",
		.before = "import re\n"
			  "\n"
			  "\n"
			  "def words(text):\n"
			  "    return re.compile(r\"\\w+\").findall(text)\n",
		.after = "import re\n"
			 "_RE_COMPILE_W = re.compile(r\"\\w+\")\n"
			 "\n"
			 "\n"
			 "def words(text):\n"
			 "    return _RE_COMPILE_W.findall(text)\n",
	},
	{
		.code = "SPF301",
		.name = "memoizable-pure-function",
		.what = "A module-level function (not a method) that is free of side effects and deterministic,\n"
			"and is called with no arguments or only constant ones.",
		.why = "Each call recomputes the same result. A cache returns it without running the body\n"
		       "again, when the body costs more than a cache lookup.",
		.fix = "`@functools.lru_cache` (maxsize=1 without parameters), with `import functools` added\n"
		       "when missing. Never on methods, generators, coroutines, or functions that read the\n"
		       "clock, random numbers, the environment, files or mutable globals; unsafe when the\n"
		       "result is mutable.",
		.before = "def default_table():\n"
			  "    return tuple(i * i for i in range(1000))\n",
		.after = "import functools\n"
			 "\n"
			 "\n"
			 "@functools.lru_cache(maxsize=1)\n"
			 "def default_table():\n"
			 "    return tuple(i * i for i in range(1000))\n",
	},
};

const struct rule_doc *rule_doc(const char *code_or_name)
{
	for (size_t i = 0; i < sizeof docs / sizeof *docs; i++)
		if (!strcmp(docs[i].code, code_or_name) || !strcmp(docs[i].name, code_or_name))
			return &docs[i];
	return NULL;
}

static void print_text(FILE *out, const struct rule_doc *d)
{
	const struct pass *p = pass_lookup(d->code);
	fprintf(out, "# %s (%s)\n\n", d->name, d->code);
	if (!p)
		fputs("Not available in this build of spipfix.\n\n", out);
	else
		fprintf(out, "%s.\n\n", p->summary);
	fprintf(out, "## What it does\n%s\n\n## Why is this bad?\n%s\n\n## Fix\n%s\n\n", d->what, d->why, d->fix);
	fprintf(out, "## Example\n```python\n%s```\n\nUse instead:\n```python\n%s```\n", d->before, d->after);
}

/* A new jansson reference, or NULL. */
static json_t *to_json(const struct rule_doc *d)
{
	return json_pack("{s:s,s:s,s:b,s:s,s:s,s:s,s:s,s:s}", "code", d->code, "name", d->name, "available",
			 pass_lookup(d->code) != NULL, "what", d->what, "why", d->why, "fix", d->fix, "before",
			 d->before, "after", d->after);
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
			     "Explain a rule: what it finds, why it costs, when it is fixed, with an example.");
			return 0;
		} else if (argv[i][0] != '-' && !which)
			which = argv[i];
		else {
			fprintf(stderr, "error: rule: unexpected argument `%s`\n", argv[i]);
			return 2;
		}
	}
	if (!all && !which) {
		fputs("error: rule: name a rule (e.g. `spipfix rule SPF101`) or give --all\n", stderr);
		return 2;
	}
	const struct rule_doc *one = which ? rule_doc(which) : NULL;
	if (which && !one) {
		fprintf(stderr, "error: rule: unknown rule `%s`\n", which);
		return 2;
	}
	size_t from = 0, to = sizeof docs / sizeof *docs;
	if (one)
		from = (size_t)(one - docs), to = from + 1;
	if (json) {
		json_t *v = one ? to_json(one) : json_array();
		for (size_t i = from; !one && v && i < to; i++)
			json_array_append_new(v, to_json(&docs[i]));
		if (!v || json_dumpf(v, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0) {
			json_decref(v);
			return 2;
		}
		fputc('\n', stdout);
		json_decref(v);
		return 0;
	}
	for (size_t i = from; i < to; i++) {
		if (i > from)
			fputc('\n', stdout);
		print_text(stdout, &docs[i]);
	}
	return 0;
}
