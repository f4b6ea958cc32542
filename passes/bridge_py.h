/* Inside one version's module (bridge_py.c, bridge_measure.c): what its two files share. */
#ifndef SPIPFIX_BRIDGE_PY_H
#define SPIPFIX_BRIDGE_PY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pyrt.h"

/* The pending exception as text, cleared: "Type: message" (with_type) or "message", the message
 * cut at max_msg bytes; malloc'd (NULL when out of memory). No reference is kept. */
char *py_exc_text(bool with_type, size_t max_msg);

/* One instruction of a code object's deoptimised bytecode, as both decoders of the module (the
 * bridge's index, profile's measures) take it from py_decode. */
struct py_op {
	int offset, op, arg;
	bool method; /* 3.12+: LOAD_ATTR's method form (3.11's LOAD_METHOD) */
};

/* The instructions of co (a PyCodeObject*, borrowed): CACHE units skipped, EXTENDED_ARG folded
 * into the instruction it extends, 3.13's two-local instructions as their two halves (LOAD_FAST
 * / STORE_FAST at one offset), the name index of LOAD_GLOBAL, LOAD_ATTR (3.12+) and
 * LOAD_SUPER_ATTR without their flag bits, and 3.13's LOAD_CONST of CALL_KW's names as
 * PYRT_OP_KW_NAMES. Returns a malloc'd array (its length in *n; *units receives the code units
 * as `dis` lists them, EXTENDED_ARG included), or NULL with a Python error or out of memory. */
struct py_op *py_decode(void *co, size_t *n, uint64_t *units);

/* Does the opcode jump backwards (close a loop of the source)? JUMP_BACKWARD_NO_INTERRUPT is not
 * one: it closes the await / yield-from loop. */
bool py_backward_jump(int op);

/* `spipfix profile` (pyrt.h profile_*) */
int measure_init(char **err);
int measure_locate(const char *name, char ***roots, size_t *nroots, char **err);
int measure_file(const char *buf, size_t len, const char *path, struct pyrt_measures *m, char **err);
void measure_fini(void);

#endif
