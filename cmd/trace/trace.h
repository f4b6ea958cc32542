/* `spipfix trace` and the traces it writes. */
#ifndef SPIPFIX_TRACE_H
#define SPIPFIX_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "unit.h"

/* ---- running a program under the counter (trace.c) ---------------------------------------- */

/* What to run and what to count. The program runs in the user's interpreter with the counter
 * (cmd/trace/tracer/) loaded through a sitecustomize on PYTHONPATH. */
struct trace_request {
	const char *python;              /* interpreter; NULL: trace_default_python(NULL) */
	char *const *argv;               /* SCRIPT ARGS... or -m MODULE ARGS... (after the interpreter) */
	int argc;
	const char *shell;               /* instead of argv: a /bin/sh command; every Python process it
					  * starts (that reads PYTHONPATH) is counted */
	const char *const *instructions; /* names; NULL: the default set */
	size_t ninstructions;
	const char *const *patterns;     /* -f: count only files matching these */
	size_t npatterns;
	const char *const *roots;        /* count files under these folders (no -f, no --all) */
	size_t nroots;
	bool all;                        /* count every file */
	bool children;                   /* count child Python processes too (a shell command: always) */
	bool quiet;                      /* the program's stdout and stderr to /dev/null */
	bool stdout_to_stderr;           /* the program's stdout to stderr (stdout carries a report) */
};

struct trace_result;

/* The interpreter of a target version ("py311", "3.12", ...; NULL: the default, Debian's
 * /usr/bin/python3), among those the counter was built for; NULL with a message on stderr when
 * none was built for it. */
const char *trace_default_python(const char *version);
/* Run the request and merge the counts of every counted process. Returns 0 with *out and the
 * program's wait status in *status, or -1 after a message on stderr (a usage or setup error:
 * the program did not run, or ran without being counted). */
int trace_run(const struct trace_request *rq, struct trace_result **out, int *status);
void trace_result_free(struct trace_result *r);
/* The report: JSON (spipfix-trace/1, the input of --trace-profile) or the text tables
 * (`limit` rows of locations, 0 = all). `cmd` is what ran, as the report records it. */
int trace_result_json(const struct trace_result *r, FILE *out, char *const *cmd, int ncmd,
		      const struct trace_request *rq);
void trace_result_text(const struct trace_result *r, FILE *out, long limit);
/* Write the JSON report to a new temporary file; returns its malloc'd path or NULL. */
char *trace_result_tempfile(const struct trace_result *r, const struct trace_request *rq);

/* ---- a loaded JSON trace (trace_file.c) ---------------------------------------------------- */

struct trace_profile;
/* Load a JSON trace. Returns NULL with a message in *err (static or malloc'd: free with free()). */
struct trace_profile *trace_profile_load(const char *path, char **err);
void trace_profile_free(struct trace_profile *tp);
/* What the trace says of its run: the Python version (into python[cap]), the processes counted
 * and the instructions they ran in the counted files (0 and "?" for an older trace). */
void trace_profile_summary(const struct trace_profile *tp, char *python, size_t cap, int *processes,
			   long long *instructions);
/* How often the tracked instruction `op` (an opcode name, or NULL for the most executed tracked
 * instruction of the line) executed at path:line. -1 when the file was not traced, or when `op`
 * was not tracked. */
long long trace_profile_count(struct trace_profile *tp, const char *path, int line, const char *op);
/* How often instruction `op` (NULL: any tracked one) that starts at path:line:col (col a 0-based
 * UTF-8 byte column; end_line < 0: any end) executed. -1 when the file was not traced, or the
 * trace has no positions (an older trace), or `op` was not tracked. */
long long trace_profile_at(struct trace_profile *tp, const char *path, int line, int col, int end_line,
			   int end_col, const char *op);
/* How often the code object (qualname, firstlineno) of path was entered from its start; -1 when
 * the file was not traced or the trace does not record calls. */
long long trace_profile_calls(struct trace_profile *tp, const char *path, const char *qualname, int firstlineno);
/* The count of the finding's own instruction (what engine_counts.lookup answers), -1 when its
 * file was not traced: SPF101/SPF102 the MAKE_FUNCTION of the def at its position, SPF201 the
 * call at the call's position, SPF301 the calls of the function. */
long long trace_profile_finding(struct trace_profile *tp, const struct unit *u, const struct finding *f);

/* ---- the estimated saving (saving.c) ---------------------------------------------------- */

/* What the finding's fix saves per execution of its site, from a per-rule table (ns). */
double trace_saving_ns(const struct finding *f);
/* executions x trace_saving_ns for a finding with a fix that ran; 0 otherwise. */
double trace_estimate_ns(const struct finding *f);
/* "12 ns", "3.4 us", "5.6 ms", "1.23 s" */
void trace_print_duration(FILE *out, double ns);

#endif
