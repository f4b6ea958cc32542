/* `spipfix trace` and the traces it writes. */
#ifndef SPIPFIX_TRACE_H
#define SPIPFIX_TRACE_H

#include "unit.h"

/* A loaded JSON trace (`spipfix trace --format json`). */
struct trace_profile;
/* Load a JSON trace. Returns NULL with a message in *err (static or malloc'd: free with free()). */
struct trace_profile *trace_profile_load(const char *path, char **err);
void trace_profile_free(struct trace_profile *tp);
/* How often the tracked instruction `op` (an opcode name, or NULL for the most executed tracked
 * instruction of the line) executed at path:line. -1 when the file was not traced, or when `op`
 * was not tracked. */
long long trace_profile_count(struct trace_profile *tp, const char *path, int line, const char *op);
/* The count of the finding's own instruction (what engine_counts.lookup answers), -1 when its
 * file was not traced. */
long long trace_profile_finding(struct trace_profile *tp, const struct unit *u, const struct finding *f);

#endif
