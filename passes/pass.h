/* The pass interface: tree-sitter proposes (query + find), the bytecode decides (check), and
 * rewrite turns a checked finding into byte-range edits. The registry lists every pass once. */
#ifndef SPIPFIX_PASS_H
#define SPIPFIX_PASS_H

#include "unit.h"

struct pass {
	const char *code;    /* "SPF101" */
	const char *name;    /* "closure-free-nested-def" */
	const char *summary; /* one line for --help / rule listings */
	const char *query;   /* tree-sitter query; every @candidate capture is handed to find */
	/* Propose findings for one candidate node (unit_add_finding). Returns 0 / -1 (error). */
	int (*find)(struct unit *u, const struct pass *self, TSNode candidate);
	/* Cross-check one proposed finding against the bytecode and decide its applicability.
	 * Returns 1 to keep it, 0 to drop it (a disagreement, shown under --debug), -1 on error. */
	int (*check)(struct unit *u, struct finding *f);
	/* Emit the edits of a finding whose applicability is not FIX_NONE. Returns 0 / -1; a
	 * rewrite that cannot be built demotes the finding to FIX_NONE with a reason instead. */
	int (*rewrite)(struct unit *u, struct finding *f);
};

extern const struct pass pass_spf101;
extern const struct pass pass_spf102;
extern const struct pass pass_spf201;
extern const struct pass pass_spf301;

/* The registry, in the order passes run and their fixes are preferred. NULL-terminated. */
extern const struct pass *const pass_registry[];
const struct pass *pass_lookup(const char *code_or_name);

#endif
