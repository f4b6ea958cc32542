/* Unit tests for the fix engine's safety net (passes/safety.h): a rewritten text that does not
 * parse cleanly or does not compile is refused and nothing is returned to write. */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "bridge.h"
#include "safety.h"

static void setup(void) { cr_assert_eq(bridge_init(), 0, "bridge_init failed"); }
static void teardown(void) { bridge_fini(); }

TestSuite(safety, .init = setup, .fini = teardown);

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

static int calls;
static char *count_only(const char *text, size_t len, size_t *outlen)
{
	(void)text, (void)len, (void)outlen;
	calls++;
	return NULL;
}

Test(safety, clean_rewrite_is_returned)
{
	struct fix_options o = {.mangle = count_only};
	struct fix_result r;
	calls = 0;
	cr_assert_eq(safety_fix("t.py", SRC, strlen(SRC), &o, &r), 0, "%s", r.error ? r.error : "");
	cr_assert_not_null(r.text, "the lift was not applied");
	cr_assert_eq(r.applied, 1);
	cr_assert_eq(calls, 1, "one round applied fixes, the next confirmed: %d", calls);
	cr_assert_str_eq(r.text, "def _outer_key(x):\n"
				 "    return -x\n"
				 "\n"
				 "\n"
				 "def outer(xs):\n"
				 "    key = _outer_key\n"
				 "    return sorted(xs, key=key)\n");
	fix_result_free(&r);
}

Test(safety, rewrite_that_does_not_compile_is_refused)
{
	struct fix_options o = {.mangle = no_compile};
	struct fix_result r;
	cr_assert_eq(safety_fix("t.py", SRC, strlen(SRC), &o, &r), -1);
	cr_assert_null(r.text);
	cr_assert_not_null(r.error);
	cr_assert_not_null(strstr(r.error, "refusing to fix: the rewritten text does not compile"), "%s", r.error);
	cr_assert_not_null(strstr(r.error, "'return' outside function"), "%s", r.error);
	fix_result_free(&r);
}

Test(safety, rewrite_that_does_not_parse_is_refused)
{
	struct fix_options o = {.mangle = no_parse};
	struct fix_result r;
	cr_assert_eq(safety_fix("t.py", SRC, strlen(SRC), &o, &r), -1);
	cr_assert_null(r.text);
	cr_assert_not_null(r.error);
	cr_assert_str_eq(r.error, "refusing to fix: the rewritten text does not parse cleanly");
	fix_result_free(&r);
}

/* Later rounds reparse incrementally from the edited tree of the round before: the tree must be
 * the one a fresh parse gives (check_reparse turns any difference into a refusal). Several
 * rounds (the hoist inside the lifted def waits for the lift), insertions at one offset, a lift,
 * hoists and decorators. */
Test(safety, incremental_reparse_equals_fresh_parse)
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
	struct fix_options o = {.check_reparse = true};
	struct fix_result r;
	cr_assert_eq(safety_fix("t.py", src, strlen(src), &o, &r), 0, "%s", r.error ? r.error : "");
	cr_assert_not_null(r.text);
	cr_assert_eq(r.applied, 5, "applied %zu", r.applied);
	cr_assert_not_null(strstr(r.text, "@functools.lru_cache(maxsize=1)\ndef vowels():"), "%s", r.text);
	fix_result_free(&r);
}
