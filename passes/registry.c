#include <string.h>
#include <strings.h>

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
		if (!strcasecmp((*p)->code, code_or_name) || !strcmp((*p)->name, code_or_name))
			return *p;
	return NULL;
}

bool pass_matches(const struct pass *p, const char *sel)
{
	return !strcasecmp(sel, "ALL") || (*sel && !strncasecmp(p->code, sel, strlen(sel))) || !strcmp(p->name, sel);
}

bool pass_selector_known(const char *sel)
{
	for (const struct pass *const *p = pass_registry; *p; p++)
		if (pass_matches(*p, sel))
			return true;
	return false;
}

size_t pass_index(const struct pass *p)
{
	size_t i = 0;
	while (pass_registry[i] && pass_registry[i] != p)
		i++;
	return i;
}
