#include <string.h>

#include "pass.h"

/* The order passes run in and in which their fixes win when edits overlap: a lift first (it
 * moves whole functions), then hoists, then decorators. */
const struct pass *const pass_registry[] = {
	&pass_spf101,
	&pass_spf102,
	&pass_spf201,
	&pass_spf301,
	NULL,
};

const struct pass *pass_lookup(const char *code_or_name)
{
	for (const struct pass *const *p = pass_registry; *p; p++)
		if (!strcmp((*p)->code, code_or_name) || !strcmp((*p)->name, code_or_name))
			return *p;
	return NULL;
}
