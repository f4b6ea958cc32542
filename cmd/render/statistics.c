/* Ruff's --statistics: count, code and name per rule, most frequent first, with Ruff's marker of
 * fixability (ruff#21513): `[*]` when every finding of the rule has a fix `--fix` applies, `[~]`
 * when some have, `[ ]` when none has. JSON formats print an array of {code, name, count,
 * fixable_count} (Ruff's keys), with `fixable` (every finding fixable) kept for older readers. */
#include "check.h"
#include "pass.h"
#include "render.h"

void render_statistics(FILE *out, const struct render_run *run, bool json)
{
	const struct totals *t = run->t;
	size_t idx[MAX_PASSES], n = 0;
	for (size_t i = 0; i < run->npasses && i < MAX_PASSES; i++)
		if (t->by_pass[i])
			idx[n++] = i;
	for (size_t i = 1; i < n; i++) /* insertion sort: count descending, then registry order */
		for (size_t k = i; k > 0 && t->by_pass[idx[k]] > t->by_pass[idx[k - 1]]; k--) {
			size_t x = idx[k];
			idx[k] = idx[k - 1];
			idx[k - 1] = x;
		}
	if (json)
		fputs(n ? "[\n" : "[]\n", out);
	int width = 1;
	for (size_t i = 0; i < n; i++) {
		int w = snprintf(NULL, 0, "%zu", t->by_pass[idx[i]]);
		width = w > width ? w : width;
	}
	for (size_t i = 0; i < n; i++) {
		const struct pass *p = pass_registry[idx[i]];
		size_t count = t->by_pass[idx[i]];
		size_t fixable = t->fixable_by_pass[idx[i]];
		const char *mark = fixable == count ? "[*] " : fixable ? "[~] " : "[ ] ";
		if (json)
			fprintf(out,
				"  {\"code\": \"%s\", \"name\": \"%s\", \"count\": %zu, \"fixable_count\": %zu, "
				"\"fixable\": %s}%s\n",
				p->code, p->name, count, fixable, fixable == count ? "true" : "false", i + 1 < n ? "," : "");
		else
			fprintf(out, "%*zu\t%s\t%s%s\n", width, count, p->code, mark, p->name);
	}
	if (json && n)
		fputs("]\n", out);
}
