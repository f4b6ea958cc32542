/* Every registered pass has an explanation for `spipfix rule`, under its own name. */
#include <criterion/criterion.h>
#include <string.h>

#include "pass.h"
#include "rules.h"

Test(rules, every_registered_pass_is_explained)
{
	size_t n = 0;
	for (const struct pass *const *p = pass_registry; *p; p++, n++) {
		const struct rule_doc *d = rule_doc((*p)->code);
		cr_assert_not_null(d, "%s has no explanation in cmd/rules.c", (*p)->code);
		cr_expect_str_eq(d->name, (*p)->name, "%s: explanation names `%s`, the pass `%s`", (*p)->code, d->name,
				 (*p)->name);
		cr_expect(strlen(d->what) > 20 && strlen(d->why) > 20 && strlen(d->fix) > 20, "%s: explanation too short",
			  (*p)->code);
		cr_expect(strlen(d->before) > 0 && strlen(d->after) > 0 && strcmp(d->before, d->after) != 0,
			  "%s: the example needs a before and a different after", (*p)->code);
	}
	cr_assert_gt(n, 0);
}

Test(rules, lookup_by_name_and_unknown)
{
	cr_assert_eq(rule_doc("closure-free-nested-def"), rule_doc("SPF101"));
	cr_assert_null(rule_doc("SPF999"));
}
