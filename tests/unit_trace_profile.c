/* The loader of `spipfix trace --format json` output: counts at path:line, per instruction or
 * the most executed one, files matched by real path, and malformed input rejected clearly. */
#include <criterion/criterion.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "trace.h"

static char dir[] = "/tmp/spipfix-unit-trace-XXXXXX";
static char src[PATH_MAX], json[PATH_MAX];

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

static void setup(void)
{
	cr_assert_not_null(mkdtemp(dir));
	snprintf(src, sizeof src, "%s/app.py", dir);
	snprintf(json, sizeof json, "%s/t.json", dir);
	write_file(src, "def f():\n    def g():\n        pass\n    return [g, g]\n");
}

static void teardown(void)
{
	unlink(src);
	unlink(json);
	rmdir(dir);
}

/* a trace of app.py (by its real path) and of a file that no longer exists */
static void write_trace(void)
{
	static char text[10 * PATH_MAX];
	snprintf(text, sizeof text,
		 "{\"format\": \"spipfix-trace/1\", \"instructions\": [\"MAKE_FUNCTION\", \"BUILD_LIST\"],\n"
		 " \"files\": [{\"file\": \"%s\", \"path\": \"%s\", \"instructions\": 99},\n"
		 "           {\"file\": \"/gone/old.py\", \"path\": null, \"instructions\": 5}],\n"
		 " \"by_location\": [\n"
		 "  {\"file\": \"%s\", \"path\": \"%s\", \"line\": 2, \"instruction\": \"MAKE_FUNCTION\", \"count\": 7},\n"
		 "  {\"file\": \"%s\", \"path\": \"%s\", \"line\": 4, \"instruction\": \"BUILD_LIST\", \"count\": 7},\n"
		 "  {\"file\": \"%s\", \"path\": \"%s\", \"line\": 4, \"instruction\": \"MAKE_FUNCTION\", \"count\": 3},\n"
		 "  {\"file\": \"/gone/old.py\", \"path\": null, \"line\": 1, \"instruction\": \"BUILD_LIST\", \"count\": 12}]}\n",
		 src, src, src, src, src, src, src, src);
	write_file(json, text);
}

TestSuite(trace_profile, .init = setup, .fini = teardown);

Test(trace_profile, counts_per_instruction_and_most_executed)
{
	write_trace();
	char *err = NULL;
	struct trace_profile *tp = trace_profile_load(json, &err);
	cr_assert_not_null(tp, "%s", err ? err : "");
	cr_expect_eq(trace_profile_count(tp, src, 2, "MAKE_FUNCTION"), 7);
	cr_expect_eq(trace_profile_count(tp, src, 4, "MAKE_FUNCTION"), 3);
	cr_expect_eq(trace_profile_count(tp, src, 4, NULL), 7, "the most executed instruction of the line");
	cr_expect_eq(trace_profile_count(tp, src, 3, NULL), 0, "a traced file, a line that never ran");
	cr_expect_eq(trace_profile_count(tp, src, 2, "LOAD_DEREF"), -1, "an instruction that was not tracked");
	cr_expect_eq(trace_profile_count(tp, "/elsewhere/app.py", 2, NULL), -1, "a file that was not traced");
	cr_expect_eq(trace_profile_count(tp, "/gone/old.py", 1, "BUILD_LIST"), 12, "matched by name without a path");
	trace_profile_free(tp);
}

Test(trace_profile, files_match_by_real_path)
{
	write_trace();
	char *err = NULL;
	struct trace_profile *tp = trace_profile_load(json, &err);
	cr_assert_not_null(tp);
	char other[PATH_MAX];
	snprintf(other, sizeof other, "%s/../%s/./app.py", dir, strrchr(dir, '/') + 1);
	cr_expect_eq(trace_profile_count(tp, other, 2, "MAKE_FUNCTION"), 7);
	char cwd[PATH_MAX];
	cr_assert_not_null(getcwd(cwd, sizeof cwd));
	cr_assert_eq(chdir(dir), 0);
	cr_expect_eq(trace_profile_count(tp, "app.py", 2, "MAKE_FUNCTION"), 7, "a path relative to the folder");
	cr_assert_eq(chdir(cwd), 0);
	trace_profile_free(tp);
}

static void expect_rejected(const char *text, const char *needle)
{
	write_file(json, text);
	char *err = NULL;
	struct trace_profile *tp = trace_profile_load(json, &err);
	cr_expect_null(tp);
	cr_assert_not_null(err);
	cr_expect(strstr(err, needle) != NULL, "error `%s` lacks `%s`", err, needle);
	cr_expect(strstr(err, json) != NULL, "error `%s` does not name the file", err);
	free(err);
	trace_profile_free(tp);
}

Test(trace_profile, malformed_input_is_rejected)
{
	expect_rejected("{\"format\": ", "t.json:");
	expect_rejected("{\"format\": \"spipfix-profile/1\"}", "format");
	expect_rejected("{\"format\": \"spipfix-trace/1\", \"instructions\": [], \"files\": {}, \"by_location\": []}",
			"must be arrays");
	expect_rejected("{\"format\": \"spipfix-trace/1\", \"instructions\": [\"BUILD_LIST\"], \"files\": [],"
			" \"by_location\": [{\"file\": \"x.py\", \"line\": 1, \"instruction\": \"BUILD_LIST\", \"count\": 1}]}",
			"does not list");
	expect_rejected("{\"format\": \"spipfix-trace/1\", \"instructions\": [\"BUILD_LIST\"],"
			" \"files\": [{\"file\": \"x.py\", \"path\": null}],"
			" \"by_location\": [{\"file\": \"x.py\", \"line\": 1, \"instruction\": \"BUILD_LIST\", \"count\": -4}]}",
			"count");
}

Test(trace_profile, missing_file)
{
	char *err = NULL;
	cr_expect_null(trace_profile_load("/nonexistent/trace.json", &err));
	cr_assert_not_null(err);
	cr_expect(strstr(err, "/nonexistent/trace.json") != NULL, "%s", err);
	free(err);
}

/* a trace with positions and calls: two MAKE_FUNCTIONs on line 4 told apart, a call by its span */
static void write_positions(void)
{
	static char text[16 * PATH_MAX];
	snprintf(text, sizeof text,
		 "{\"format\": \"spipfix-trace/1\", \"instructions\": [\"MAKE_FUNCTION\", \"CALL\"],\n"
		 " \"files\": [{\"file\": \"%s\", \"path\": \"%s\", \"instructions\": 99}],\n"
		 " \"by_location\": [{\"file\": \"%s\", \"line\": 4, \"instruction\": \"MAKE_FUNCTION\", \"count\": 9}],\n"
		 " \"by_position\": [\n"
		 "  {\"file\": \"%s\", \"line\": 4, \"column\": 12, \"end_line\": 4, \"end_column\": 20, \"instruction\": \"MAKE_FUNCTION\", \"count\": 2},\n"
		 "  {\"file\": \"%s\", \"line\": 4, \"column\": 4, \"end_line\": 4, \"end_column\": 30, \"instruction\": \"MAKE_FUNCTION\", \"count\": 7},\n"
		 "  {\"file\": \"%s\", \"line\": 4, \"column\": 4, \"end_line\": 4, \"end_column\": 11, \"instruction\": \"CALL\", \"count\": 300},\n"
		 "  {\"file\": \"%s\", \"line\": 4, \"column\": 4, \"end_line\": 4, \"end_column\": 30, \"instruction\": \"CALL\", \"count\": 5}],\n"
		 " \"code_objects\": [{\"file\": \"%s\", \"qualname\": \"f\", \"firstlineno\": 1, \"calls\": 41},\n"
		 "                    {\"file\": \"%s\", \"qualname\": \"f.<locals>.g\", \"firstlineno\": 2, \"calls\": 3}]}\n",
		 src, src, src, src, src, src, src, src, src);
	write_file(json, text);
}

Test(trace_profile, counts_at_positions_and_calls)
{
	write_positions();
	char *err = NULL;
	struct trace_profile *tp = trace_profile_load(json, &err);
	cr_assert_not_null(tp, "%s", err ? err : "");
	cr_expect_eq(trace_profile_at(tp, src, 4, 12, -1, -1, "MAKE_FUNCTION"), 2, "the second def of the line");
	cr_expect_eq(trace_profile_at(tp, src, 4, 4, -1, -1, "MAKE_FUNCTION"), 7, "the first def of the line");
	cr_expect_eq(trace_profile_count(tp, src, 4, "MAKE_FUNCTION"), 9, "the line: both");
	cr_expect_eq(trace_profile_at(tp, src, 4, 4, 4, 11, "CALL"), 300, "the call by its whole span");
	cr_expect_eq(trace_profile_at(tp, src, 4, 4, 4, 30, "CALL"), 5, "the outer call that starts there too");
	cr_expect_eq(trace_profile_at(tp, src, 4, 4, -1, -1, "CALL"), 305, "any end: both calls");
	cr_expect_eq(trace_profile_at(tp, src, 4, 5, -1, -1, "CALL"), 0, "a traced file, a position that never ran");
	cr_expect_eq(trace_profile_at(tp, src, 4, 4, -1, -1, "LOAD_DEREF"), -1, "an instruction not tracked");
	cr_expect_eq(trace_profile_at(tp, "/elsewhere/app.py", 4, 4, -1, -1, NULL), -1, "a file not traced");
	cr_expect_eq(trace_profile_calls(tp, src, "f", 1), 41);
	cr_expect_eq(trace_profile_calls(tp, src, "f.<locals>.g", 2), 3);
	cr_expect_eq(trace_profile_calls(tp, src, "f", 2), 0, "the first line is part of the key");
	trace_profile_free(tp);
}

Test(trace_profile, an_older_trace_has_no_positions)
{
	write_trace();
	char *err = NULL;
	struct trace_profile *tp = trace_profile_load(json, &err);
	cr_assert_not_null(tp, "%s", err ? err : "");
	cr_expect_eq(trace_profile_at(tp, src, 2, 4, -1, -1, "MAKE_FUNCTION"), -1);
	cr_expect_eq(trace_profile_calls(tp, src, "f", 1), -1);
	trace_profile_free(tp);
}

Test(trace_profile, malformed_positions_are_rejected)
{
	static char text[4 * PATH_MAX];
	snprintf(text, sizeof text,
		 "{\"format\": \"spipfix-trace/1\", \"instructions\": [\"CALL\"], \"files\": [{\"file\": \"x.py\", \"path\": null}],"
		 " \"by_location\": [], \"by_position\": [{\"file\": \"x.py\", \"line\": 1, \"instruction\": \"CALL\", \"count\": 1}],"
		 " \"code_objects\": []}");
	expect_rejected(text, "by_position");
}
