/* The measuring subcommands (`spipfix profile`, `spipfix trace`) and the hooks that let the
 * check/fix path order its diagnostics by a recorded trace (`--trace-profile FILE`). */
#ifndef SPIPFIX_TOOLS_H
#define SPIPFIX_TOOLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "unit.h"

/* profile.c: `spipfix profile PACKAGE_OR_PATH...`; argv[0] is "profile". Returns the exit status. */
int cmd_profile(int argc, char **argv);

/* trace.c: `spipfix trace [OPTIONS] SCRIPT [ARGS...]` or `-m MODULE`; argv[0] is "trace". Returns
 * the script's exit status (2 on a usage error). */
int cmd_trace(int argc, char **argv);

/* trace.c, the check path's hooks for a trace recorded by `spipfix trace --format json`:
 *
 * trace_profile_option: remove `--trace-profile FILE` (or `--trace-profile=FILE`) from argv
 *   (scanning stops at `--`) and load FILE. Returns 0 (also when the option is absent) or -1 with
 *   an error on stderr.
 * trace_profile_defer: with a profile loaded, hold back the diagnostic of f instead of printing it
 *   (returns true); it is printed by trace_profile_flush with its execution count.
 * trace_profile_list: with a profile loaded, analyse buf and defer each finding's diagnostic to
 *   stderr (used by --diff, whose stdout carries only the diff).
 * trace_profile_flush: print the held-back diagnostics, most executed first, then free them. */
int trace_profile_option(int *argc, char **argv);
bool trace_profile_defer(FILE *out, const struct unit *u, const struct finding *f);
void trace_profile_list(const char *path, const char *buf, size_t len, const char *const *select);
void trace_profile_flush(void);

/* The loaded profile itself, for tests and other callers. */
struct trace_profile;
/* Load a JSON trace. Returns NULL with a message in *err (static or malloc'd: free with free()). */
struct trace_profile *trace_profile_load(const char *path, char **err);
void trace_profile_free(struct trace_profile *tp);
/* How often the tracked instruction `op` (an opcode name, or NULL for the most executed tracked
 * instruction of the line) executed at path:line. -1 when the file was not traced, or when `op`
 * was not tracked. */
long long trace_profile_count(struct trace_profile *tp, const char *path, int line, const char *op);

#endif
