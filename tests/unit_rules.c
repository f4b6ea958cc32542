/* Every registered pass carries what `spipfix rule` prints and what `spipfix bench` times, and
 * rule selectors match as documented. */
#include <criterion/criterion.h>
#include <string.h>

#include "pass.h"

Test(rules, every_registered_pass_is_documented)
{
	size_t n = 0;
	for (const struct pass *const *p = pass_registry; *p; p++, n++) {
		const struct pass_doc *d = &(*p)->doc;
		cr_assert(d->what && d->why && d->fix && d->before && d->after, "%s: documentation incomplete",
			  (*p)->code);
		cr_expect(strlen(d->what) > 20 && strlen(d->why) > 20 && strlen(d->fix) > 20, "%s: explanation too short",
			  (*p)->code);
		cr_expect(strlen(d->before) > 0 && strlen(d->after) > 0 && strcmp(d->before, d->after) != 0,
			  "%s: the example needs a before and a different after", (*p)->code);
		cr_expect((*p)->bench == BENCH_SITE || (*p)->bench == BENCH_CALL, "%s: no bench strategy", (*p)->code);
		cr_expect_eq(pass_index(*p), n);
	}
	cr_assert_gt(n, 0);
}

Test(rules, lookup_by_code_in_any_case_and_by_name)
{
	cr_assert_eq(pass_lookup("closure-free-nested-def"), pass_lookup("SPF101"));
	cr_assert_eq(pass_lookup("spf101"), pass_lookup("SPF101"));
	cr_assert_null(pass_lookup("SPF999"));
}

Test(rules, selectors)
{
	const struct pass *p = pass_lookup("SPF102");
	cr_assert(pass_matches(p, "SPF1"));
	cr_assert(pass_matches(p, "spf10"));
	cr_assert(pass_matches(p, "ALL"));
	cr_assert(pass_matches(p, "function-built-in-loop"));
	cr_assert(!pass_matches(p, "SPF2"));
	cr_assert(!pass_matches(p, ""));
	cr_assert(pass_selector_known("SPF"));
	cr_assert(!pass_selector_known("SPF9"));
	cr_assert(!pass_selector_known("XYZ"));
}
