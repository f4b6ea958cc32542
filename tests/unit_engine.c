/* Unit tests for the engine (passes/engine.h): its safety net (a rewritten text that does not
 * parse cleanly or does not compile is refused and nothing is returned to write), what remains
 * after the fix rounds, and the edit order every renderer shares with the applier. */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "bridge.h"
#include "edit.h"
#include "engine.h"
#include "pass.h"

static void setup(void) { cr_assert_eq(bridge_init(), 0, "bridge_init failed"); }
static void teardown(void) { bridge_fini(); }

TestSuite(engine, .init = setup, .fini = teardown);

static const char SRC[] = "def outer(xs):\n"
			  "    def key(x):\n"
			  "        return -x\n"
			  "    return sorted(xs, key=key)\n";

static char *append(const char *text, size_t len, size_t *outlen, const char *tail)
{
	size_t tl = strlen(tail);
	char *m = malloc(len + tl + 1);
	cr_assert_not_null(m);
	memcpy(m, text, len);
	memcpy(m + len, tail, tl + 1);
	*outlen = len + tl;
	return m;
}

/* tree-sitter accepts a module-level return; CPython does not compile it */
static char *no_compile(const char *text, size_t len, size_t *outlen)
{
	return append(text, len, outlen, "return 1\n");
}

static char *no_parse(const char *text, size_t len, size_t *outlen)
{
	return append(text, len, outlen, "def (:\n");
}

/* Analyse and fix src; returns engine_fix's result (the analysis is released). */
static int fix_text(const struct engine_config *c, const char *src, struct fix_result *r)
{
	struct unit u;
	memset(r, 0, sizeof *r);
	int rc = engine_analyse(c, &u, "t.py", src, strlen(src));
	cr_assert_eq(rc, 0, "analysis failed: %s", u.error ? u.error : "?");
	rc = engine_fix(c, &u, r);
	if (r->final) /* what remains must not point into the first analysis */
		cr_assert_neq(r->final->src, u.src);
	unit_free(&u);
	return rc;
}

static int calls;
static char *count_only(const char *text, size_t len, size_t *outlen)
{
	(void)text, (void)len, (void)outlen;
	calls++;
	return NULL;
}

Test(engine, clean_rewrite_is_returned)
{
	struct engine_config o = {.mangle = count_only};
	struct fix_result r;
	calls = 0;
	cr_assert_eq(fix_text(&o, SRC, &r), 0, "%s", r.error ? r.error : "");
	cr_assert_not_null(r.text, "the lift was not applied");
	cr_assert_eq(r.applied, 1);
	cr_assert_eq(calls, 1, "one round applied fixes, the next confirmed: %d", calls);
	cr_assert_str_eq(r.text, "def _outer_key(x):\n"
				 "    return -x\n"
				 "\n"
				 "\n"
				 "def outer(xs):\n"
				 "    return sorted(xs, key=_outer_key)\n");
	fix_result_free(&r);
}

Test(engine, rewrite_that_does_not_compile_is_refused)
{
	struct engine_config o = {.mangle = no_compile};
	struct fix_result r;
	cr_assert_eq(fix_text(&o, SRC, &r), -1);
	cr_assert_null(r.text);
	cr_assert_not_null(r.error);
	cr_assert_not_null(strstr(r.error, "refusing to fix: the rewritten text does not compile"), "%s", r.error);
	cr_assert_not_null(strstr(r.error, "'return' outside function"), "%s", r.error);
	fix_result_free(&r);
}

Test(engine, rewrite_that_does_not_parse_is_refused)
{
	struct engine_config o = {.mangle = no_parse};
	struct fix_result r;
	cr_assert_eq(fix_text(&o, SRC, &r), -1);
	cr_assert_null(r.text);
	cr_assert_not_null(r.error);
	cr_assert_str_eq(r.error, "refusing to fix: the rewritten text does not parse cleanly");
	fix_result_free(&r);
}

/* Later rounds reparse incrementally from the edited tree of the round before: the tree must be
 * the one a fresh parse gives (check_reparse turns any difference into a refusal). Several
 * rounds (the hoist inside the lifted def waits for the lift), insertions at one offset, a lift,
 * hoists and decorators. */
Test(engine, incremental_reparse_equals_fresh_parse)
{
	static const char src[] =
		"\"\"\"Doc.\"\"\"\n"
		"import re\n"
		"\n"
		"\n"
		"def tokenize(text):\n"
		"    def split_words(s):\n"
		"        return re.compile(r\"\\w+\").findall(s)\n"
		"\n"
		"    return [w.lower() for w in split_words(text)]\n"
		"\n"
		"\n"
		"def _vowel_table():\n"
		"    return tuple(sum(1 for ch in w if ch in frozenset(\"aeiou\")) for w in (\"ab\", \"cd\"))\n"
		"\n"
		"\n"
		"def vowels():\n"
		"    return _vowel_table()\n";
	struct engine_config o = {.check_reparse = true};
	struct fix_result r;
	cr_assert_eq(fix_text(&o, src, &r), 0, "%s", r.error ? r.error : "");
	cr_assert_not_null(r.text);
	/* the lift, two hoists, the cache of _vowel_table (vowels() itself is never called) */
	cr_assert_eq(r.applied, 4, "applied %zu", r.applied);
	cr_assert_not_null(strstr(r.text, "@functools.lru_cache(maxsize=1)\ndef _vowel_table():"), "%s", r.text);
	fix_result_free(&r);
}

/* What remains after the rounds is the analysis of the returned text: here, nothing fixable. */
Test(engine, remaining_is_the_analysis_of_the_result)
{
	struct engine_config o = {0};
	struct fix_result r;
	cr_assert_eq(fix_text(&o, SRC, &r), 0);
	cr_assert_not_null(r.final);
	cr_assert_eq(r.final->buflen, r.len);
	cr_assert_eq(memcmp(r.final->buf, r.text, r.len), 0);
	for (size_t i = 0; i < r.final->nfindings; i++)
		cr_assert(!engine_wants(&r.final->findings[i], false), "a fixable finding remains");
	fix_result_free(&r);
}

/* Each finding's edits come in the order the applier applies them: applied one after the other
 * in that order (as a client of the JSON does), they give the text --fix writes. An SPF301 fix at
 * the top of a file inserts the import, a blank-line separator and the decorator at one offset. */
Test(engine, finding_edits_in_applier_order)
{
	static const char src[] = "def table():\n"
				  "    return tuple(i * i for i in range(1000))\n"
				  "\n"
				  "\n"
				  "def user():\n"
				  "    return table()\n";
	struct engine_config o = {.select = (const char *const[]){"SPF301", NULL}};
	struct unit u;
	cr_assert_eq(engine_analyse(&o, &u, "t.py", src, strlen(src)), 0, "%s", u.error ? u.error : "");
	const struct finding *f = NULL;
	for (size_t i = 0; i < u.nfindings; i++)
		if (engine_wants(&u.findings[i], false))
			f = &u.findings[i];
	cr_assert_not_null(f, "no safe SPF301 fix");
	cr_assert_geq(f->nedits, 2);
	cr_assert(edits_ordered(f->edits, f->nedits, u.len));
	/* apply in listed order, each edit at its original offset shifted by what came before */
	char out[4096];
	size_t o_len = 0, at = 0;
	for (size_t k = 0; k < f->nedits; k++) {
		memcpy(out + o_len, src + at, f->edits[k].start - at);
		o_len += f->edits[k].start - at;
		memcpy(out + o_len, f->edits[k].text, f->edits[k].len);
		o_len += f->edits[k].len;
		at = f->edits[k].end;
	}
	memcpy(out + o_len, src + at, strlen(src) - at);
	o_len += strlen(src) - at;
	out[o_len] = 0;
	/* the applier, given the same edits in any order, sorts them the same way */
	struct edit rev[16];
	cr_assert_leq(f->nedits, 16);
	for (size_t k = 0; k < f->nedits; k++) {
		rev[k] = f->edits[f->nedits - 1 - k];
		rev[k].seq = (unsigned)(f->nedits - 1 - k);
	}
	cr_assert_eq(edits_sort_check(rev, f->nedits, u.len), 0);
	size_t alen;
	char *applied = edits_apply(u.src, u.len, rev, f->nedits, &alen);
	cr_assert_str_eq(out, applied);
	free(applied);
	cr_assert_not_null(strstr(out, "import functools\n"));
	cr_assert(strstr(out, "import functools") < strstr(out, "@functools.lru_cache"));
	unit_free(&u);
}

/* The picker: identical edits once, a clash deferred, skip[] honoured, taken[] marked. */
Test(engine, pick_marks_and_skips)
{
	struct engine_config o = {0};
	struct unit u;
	cr_assert_eq(engine_analyse(&o, &u, "t.py", SRC, strlen(SRC)), 0);
	cr_assert_geq(u.nfindings, 1);
	bool *skip = calloc(u.nfindings, sizeof *skip), *taken = calloc(u.nfindings, sizeof *taken);
	struct edit *e;
	size_t n;
	int k = engine_pick(&u, false, NULL, taken, &e, &n);
	cr_assert_geq(k, 1);
	cr_assert(edits_ordered(e, n, u.len));
	free(e);
	size_t marked = 0;
	for (size_t i = 0; i < u.nfindings; i++)
		marked += taken[i];
	cr_assert_eq(marked, (size_t)k);
	for (size_t i = 0; i < u.nfindings; i++)
		skip[i] = true;
	cr_assert_eq(engine_pick(&u, false, skip, NULL, &e, &n), 0);
	cr_assert_eq(n, 0);
	free(e);
	free(skip);
	free(taken);
	unit_free(&u);
}

/* The text stage: NUL bytes, invalid UTF-8 and a foreign coding cookie are refused with a reason
 * and no tree. */
Test(engine, unreadable_text_is_refused)
{
	static const struct {
		const char *src;
		size_t len;
		const char *why;
	} cases[] = {
		{"x = 1\0\n", 7, "NUL"},
		{"x = '\xff'\n", 0, "UTF-8"},
		{"# -*- coding: latin-1 -*-\nx = '\xc3\xa9'\n", 0, "latin-1"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct unit u;
		size_t len = cases[i].len ? cases[i].len : strlen(cases[i].src);
		cr_assert_eq(engine_analyse(&(struct engine_config){0}, &u, "t.py", cases[i].src, len), -1);
		cr_assert_eq(u.error_kind, UE_INPUT);
		cr_assert_not_null(strstr(u.error, cases[i].why), "%s", u.error);
		cr_assert_null(u.tree);
		unit_free(&u);
	}
}

/* engine_pick against the definition it implements (edit_overlaps between every pair, identical
 * edits once), on random findings over a short text: the same fixes taken, the same edits. */
static int brute_pick(const struct unit *u, bool *taken)
{
	const struct edit *acc[4096];
	size_t n = 0;
	int k = 0;
	for (size_t i = 0; i < u->nfindings; i++) {
		const struct finding *f = &u->findings[i];
		bool clash = false;
		for (size_t a = 0; a < f->nedits && !clash; a++)
			for (size_t b = 0; b < n && !clash; b++)
				clash = !edit_same(&f->edits[a], acc[b]) && edit_overlaps(&f->edits[a], acc[b]);
		if (clash)
			continue;
		for (size_t a = 0; a < f->nedits; a++) {
			bool dup = false;
			for (size_t b = 0; b < n && !dup; b++)
				dup = edit_same(&f->edits[a], acc[b]);
			if (!dup)
				acc[n++] = &f->edits[a];
		}
		taken[i] = true;
		k++;
	}
	return k;
}

Test(engine, pick_equals_pairwise_definition)
{
	static const char *const texts[] = {"", "a", "bb", "\n\n"};
	srand(7);
	for (int round = 0; round < 400; round++) {
		struct unit u;
		memset(&u, 0, sizeof u);
		u.len = (size_t)(rand() % 40);
		size_t nf = (size_t)(rand() % 12) + 1;
		struct finding fs[12];
		struct edit es[12][3];
		memset(fs, 0, sizeof fs);
		for (size_t i = 0; i < nf; i++) {
			size_t ne = (size_t)(rand() % 3) + 1;
			for (size_t k = 0; k < ne; k++) {
				size_t a = (size_t)rand() % (u.len + 1), b = a + (size_t)(rand() % 3 ? 0 : rand() % 6);
				if (b > u.len)
					b = u.len;
				const char *t = texts[rand() % 4];
				es[i][k] = (struct edit){a, b, t, strlen(t), (unsigned)k, rand() % 5 == 0};
			}
			edits_sort(es[i], ne);
			if (!edits_ordered(es[i], ne, u.len))
				ne = 1; /* a finding's own edits never overlap (check_findings) */
			fs[i] = (struct finding){.pass = pass_registry[0], .applicability = FIX_SAFE, .edits = es[i], .nedits = ne,
						 .message = "m", .executions = -1};
		}
		u.findings = fs;
		u.nfindings = nf;
		bool want[12] = {0}, got[12] = {0};
		int kw = brute_pick(&u, want);
		struct edit *e;
		size_t n;
		int kg = engine_pick(&u, false, NULL, got, &e, &n);
		cr_assert_eq(kg, kw, "round %d: %d fixes taken, the definition takes %d", round, kg, kw);
		for (size_t i = 0; i < nf; i++)
			cr_assert_eq(got[i], want[i], "round %d: finding %zu", round, i);
		cr_assert(edits_ordered(e, n, u.len), "round %d: taken edits overlap or are out of order", round);
		free(e);
	}
}

/* What analysing src did: -1 / 0, and whether CPython compiled it. */
static int analysed(const char *src, bool tests, signed char *compiled)
{
	struct unit u;
	int rc = engine_analyse(&(struct engine_config){.include_tests = tests}, &u, "t.py", src, strlen(src));
	*compiled = u.compiled;
	unit_free(&u);
	return rc;
}

Test(engine, compiled_only_when_a_pass_asks)
{
	signed char c;
	/* nothing any rule looks at: parsed, not compiled */
	cr_assert_eq(analysed("import os\n\ndef f(x):\n    return os.path.join(x, 'a')\n", false, &c), 0);
	cr_assert_eq(c, 0);
	/* a constant call of a name no reported callable ends in: SPF201 does not ask */
	cr_assert_eq(analysed("import os\n\ndef f():\n    return os.getenv('HOME')\n", false, &c), 0);
	cr_assert_eq(c, 0);
	/* a nested def: proven on the bytecode, so compiled */
	cr_assert_eq(analysed(SRC, false, &c), 0);
	cr_assert_eq(c, 1);
	/* an allow-listed call under an alias: asked for */
	cr_assert_eq(analysed("from re import compile as rc\n\ndef f(s):\n    return rc('a+').match(s)\n", false, &c), 0);
	cr_assert_eq(c, 1);
}

Test(engine, an_uncompiled_file_is_still_an_error_when_the_tree_shows_it)
{
	signed char c;
	/* CPython-only errors are not looked for where nothing is proven ... */
	cr_assert_eq(analysed("return 1\n", false, &c), 0);
	cr_assert_eq(c, 0);
	/* ... and are errors where something is */
	size_t n;
	char *with = append(SRC, strlen(SRC), &n, "return 1\n");
	cr_assert_eq(analysed(with, false, &c), -1);
	free(with);
	/* Python 2 syntax, a declared encoding CPython may not know, newer syntax than the target */
	static const char *const bad[] = {
		"print 'x'\n", "exec 'x = 1'\n", "x = 0777\n", "x = 10L\n", "if 1 <> 2:\n    pass\n",
		"# -*- coding: uft-8 -*-\nx = 1\n", "def f(x):\n\tif x:\n\t\treturn 1\n        return 2\n",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		struct unit u;
		cr_assert_eq(engine_analyse(&(struct engine_config){0}, &u, "t.py", bad[i], strlen(bad[i])), -1, "%s", bad[i]);
		cr_assert_not_null(strstr(u.error, "cannot compile"), "%s: %s", bad[i], u.error);
		unit_free(&u);
	}
	if (bridge_target() < 12)
		cr_assert_eq(analysed("type X = int\n", false, &c), -1);
	/* tabs alone, or tabs and spaces the same way on every line, are fine */
	cr_assert_eq(analysed("def f(x):\n\tif x:\n\t\treturn 1\n\treturn 2\n", false, &c), 0);
	cr_assert_eq(analysed("def f(x):\n\tif x:\n\t    return 1\n\treturn 2\n", false, &c), 0);
	/* zero is zero in Python 3 too */
	cr_assert_eq(analysed("x = 00\ny = 0_0\n", false, &c), 0);
}

Test(engine, test_code_is_neither_parsed_nor_compiled_unless_asked)
{
	struct unit u;
	cr_assert_eq(engine_analyse(&(struct engine_config){0}, &u, "tests/test_x.py", SRC, strlen(SRC)), 0);
	cr_assert(u.unanalysed);
	cr_assert_null(u.tree);
	cr_assert_eq(u.nfindings, 0);
	unit_free(&u);
	cr_assert_eq(engine_analyse(&(struct engine_config){.include_tests = true}, &u, "tests/test_x.py", SRC, strlen(SRC)),
		     0);
	cr_assert_not(u.unanalysed);
	cr_assert_gt(u.nfindings, 0);
	unit_free(&u);
}
