/* libFuzzer harness for the engine: bytes -> engine_analyse -> engine_fix (safe, then unsafe) ->
 * the safety net's promises, checked independently of the engine's own rounds:
 *   - a rewritten text analyses from a fresh parse (no ERROR/MISSING node, it compiles),
 *   - fixing it again changes nothing (idempotent),
 *   - a BOM is kept, and the text differs from the input;
 *   - an analysis that fails says why.
 * A broken promise aborts (a crash for libFuzzer). With SPIPFIX_FUZZ_REFUSALS=1 in the
 * environment, a rewrite the safety net refuses aborts too (a rule proposed a broken edit). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridge.h"
#include "engine.h"

/* Inputs larger than this are cut: the engine's cost per byte is what the harness explores,
 * and long inputs only slow each execution. */
#define MAX_INPUT 65536

static bool abort_on_refusal;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	const char *r = getenv("SPIPFIX_FUZZ_REFUSALS");
	abort_on_refusal = r && *r == '1';
	if (bridge_init() < 0)
		abort();
	return 0;
}

static void broken(const char *what, const char *detail, const char *text, size_t len)
{
	fprintf(stderr, "fuzz_engine: %s%s%s\n--- text (%zu bytes) ---\n%.*s\n---\n", what, detail ? ": " : "",
		detail ? detail : "", len, (int)(len > 4000 ? 4000 : len), text ? text : "");
	abort();
}

static void one(const char *buf, size_t len, bool unsafe)
{
	struct engine_config c = {.unsafe = unsafe};
	struct unit u;
	if (engine_analyse(&c, &u, "fuzz.py", buf, len) < 0) {
		if (!u.error || u.error_kind == UE_NONE)
			broken("an analysis failed without a reason", NULL, buf, len);
		unit_free(&u);
		return;
	}
	struct fix_result r;
	int rc = engine_fix(&c, &u, &r);
	if (rc < 0) {
		if (!r.error)
			broken("engine_fix failed without a reason", NULL, buf, len);
		if (r.refused && abort_on_refusal)
			broken("the safety net refused a rewrite", r.error, buf, len);
	} else if (r.text) {
		if (r.len == len && !memcmp(r.text, buf, len))
			broken("a rewrite returned the input unchanged", NULL, buf, len);
		if (len >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3) && (r.len < 3 || memcmp(r.text, buf, 3)))
			broken("the BOM was lost", NULL, r.text, r.len);
		/* a fresh analysis (no incremental parse) of what would be written */
		struct unit v;
		if (engine_analyse(&c, &v, "fuzz.py", r.text, r.len) < 0)
			broken("the rewritten text does not analyse", v.error, r.text, r.len);
		struct fix_result again;
		int rc2 = engine_fix(&c, &v, &again);
		if (rc2 < 0 || again.text)
			broken("fixing the rewritten text again changes it (not idempotent)",
			       rc2 < 0 ? again.error : NULL, r.text, r.len);
		fix_result_free(&again);
		unit_free(&v);
	}
	fix_result_free(&r);
	unit_free(&u);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > MAX_INPUT)
		size = MAX_INPUT;
	char *buf = malloc(size + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = 0;
	one(buf, size, false);
	one(buf, size, true);
	free(buf);
	return 0;
}
