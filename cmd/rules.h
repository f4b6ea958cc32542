/* Rule explanations for `spipfix rule`. */
#ifndef SPIPFIX_RULES_H
#define SPIPFIX_RULES_H

struct rule_doc {
	const char *code, *name;
	const char *what, *why, *fix;
	const char *before, *after; /* an example and its fixed form */
};

/* The explanation of a rule by code or name, or NULL. */
const struct rule_doc *rule_doc(const char *code_or_name);
/* `spipfix rule CODE | --all [--format json]`; argv[0] is "rule". Returns the exit status. */
int rule_main(int argc, char **argv);

#endif
