/* Inside one version's module (bridge_py.c, bridge_measure.c): what its two files share. */
#ifndef SPIPFIX_BRIDGE_PY_H
#define SPIPFIX_BRIDGE_PY_H

#include <stdbool.h>
#include <stddef.h>

#include "pyrt.h"

/* The pending exception as text, cleared: "Type: message" (with_type) or "message", the message
 * cut at max_msg bytes; malloc'd (NULL when out of memory). No reference is kept. */
char *py_exc_text(bool with_type, size_t max_msg);

/* `spipfix profile` (pyrt.h profile_*) */
int measure_init(char **err);
int measure_locate(const char *name, char ***roots, size_t *nroots, char **err);
int measure_file(const char *buf, size_t len, const char *path, struct pyrt_measures *m, char **err);
void measure_fini(void);

#endif
