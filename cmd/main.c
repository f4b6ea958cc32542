/* spipfix: find work that Python code repeats on every call, prove it on the bytecode, fix it.
 * The command table: each subcommand lives in cmd/<name>/ and is reached from here. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

static int help_main(int argc, char **argv);

static const struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
} commands[] = {
	{"check", check_main, "find, diff or fix (the default: `spipfix PATH...` is `spipfix check PATH...`)"},
	{"rule", rule_main, "explain a rule: what it finds, why it costs, when it is fixed"},
	{"bench", bench_main, "measure what each fix saves, or A/B a workload against a fixed copy"},
	{"profile", profile_main, "the bytecode footprint of packages and the waste patterns in them"},
	{"trace", trace_main, "run a program and count how often instructions execute"},
	{"server", server_main, "a language server (LSP) for editors: diagnostics as you type, quick fixes"},
	{"optimize", optimize_main, "trace a workload, fix what it runs often, and A/B the workload"},
	{"help", help_main, "list the commands"},
};

#define NCOMMANDS (sizeof commands / sizeof *commands)

static int help_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	puts("Usage: spipfix [COMMAND] [OPTIONS] ...\n\nCommands:");
	for (size_t i = 0; i < NCOMMANDS; i++)
		printf("  %-8s %s\n", commands[i].name, commands[i].summary);
	puts("\n`spipfix COMMAND --help` describes one; `spipfix --help` the options of check.");
	return 0;
}

/* A first argument that names no command: a path (check's), unless it is a bare word that is
 * no file or folder here, which is a mistyped command. */
static bool looks_like_command(const char *arg)
{
	struct stat st;
	if (arg[0] == '-' || strchr(arg, '/') || strchr(arg, '.') || stat(arg, &st) == 0)
		return false;
	return true;
}

int main(int argc, char **argv)
{
	if (argc > 1)
		for (size_t i = 0; i < NCOMMANDS; i++)
			if (!strcmp(argv[1], commands[i].name))
				return commands[i].run(argc - 1, argv + 1);
	if (argc > 1 && looks_like_command(argv[1])) {
		const char *names[NCOMMANDS];
		for (size_t i = 0; i < NCOMMANDS; i++)
			names[i] = commands[i].name;
		const char *near = cli_nearest(argv[1], names, NCOMMANDS);
		fprintf(stderr, "error: unrecognized subcommand `%s`", argv[1]);
		if (near)
			fprintf(stderr, " (did you mean `%s`?)", near);
		fputs("\nUsage: spipfix [COMMAND] [OPTIONS] ...   (`spipfix help` lists the commands)\n", stderr);
		return 2;
	}
	/* `spipfix PATH...`: check, with argv[0] standing for the command name */
	return check_main(argc, argv);
}
