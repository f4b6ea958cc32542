/* What every subcommand shares: the command table's handlers, reading files, paths, the clock,
 * allocation that cannot fail quietly, option values. One of each; no subcommand keeps its own. */
#ifndef SPIPFIX_CLI_H
#define SPIPFIX_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>

/* The subcommands (cmd/<name>/): argv[0] is the subcommand's name. Each returns the exit status. */
int check_main(int argc, char **argv);
int rule_main(int argc, char **argv);
int bench_main(int argc, char **argv);
int profile_main(int argc, char **argv);
int trace_main(int argc, char **argv);
int server_main(int argc, char **argv);

/* rule.c: the text `spipfix rule CODE` prints for one rule. */
struct pass;
void rule_print_text(FILE *out, const struct pass *p);
int optimize_main(int argc, char **argv);

/* The most a source file may hold. */
#define CLI_MAX_FILE (64L * 1024 * 1024)

/* The whole regular file at path, NUL-terminated (st filled when not NULL). Returns a malloc'd
 * buffer or NULL with errno set (EFBIG past CLI_MAX_FILE, EISDIR, EINVAL for a FIFO, socket or
 * device: never blocks on one). */
char *read_whole_file(const char *path, size_t *len, struct stat *st);
/* All of standard input, NUL-terminated; malloc'd or NULL with errno set. */
char *read_stdin(size_t *len);
/* Write all n bytes to fd, retrying on EINTR and short writes. Returns 0 / -1. */
int fd_write_all(int fd, const void *p, size_t n);
/* Read exactly n bytes from fd. Returns 0, or -1 at end of file or on error. */
int fd_read_all(int fd, void *p, size_t n);

/* Hold back the signals that end a run (SIGINT, SIGTERM, SIGHUP, SIGQUIT) while a file is being
 * replaced, so that its temporary file is renamed or removed before one acts; *old receives the
 * mask to give back to cli_signals_restore. */
void cli_signals_hold(sigset_t *old);
void cli_signals_restore(const sigset_t *old);

/* Lexically normalised absolute form of a path (symlinks not resolved); malloc'd or NULL. */
char *path_absolute(const char *path);

/* Seconds on the monotonic clock. */
double cli_now(void);

/* Allocation for bookkeeping that is small next to what it serves: out of memory ends the
 * program with status 2 and a message rather than a half result. */
char *xprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xstrdup(const char *s);
void *xcalloc(size_t n, size_t size);

/* A list of strings it owns, NULL-terminated (v[n] == NULL once it has items). */
struct strlist {
	char **v;
	size_t n;
};
/* Append the comma- or space-separated items of s. Returns 0 / -1. */
int strlist_split(struct strlist *l, const char *s);
void strlist_free(struct strlist *l);

/* A comma-separated list of rule selectors for option `opt`, each checked against the registry
 * (unknown ones are an error on stderr with the nearest known code). Returns 0 / -1. */
int cli_rule_list(const char *opt, const char *arg, struct strlist *l);

/* A size in bytes for option (or key) `opt`: digits with an optional K, M or G suffix (KiB,
 * MiB, GiB; "4M", "512KiB"), from 1 up to `max`. Returns 0, or -1 after an error on stderr
 * naming `where` (the option, or the file and key). */
int cli_size(const char *where, const char *arg, size_t max, size_t *out);
/* A count for `where`: digits, from 1 up to max. Returns 0 / -1 after an error on stderr. */
int cli_count(const char *where, const char *arg, unsigned max, unsigned *out);

/* The index of `arg` among the NULL-terminated `choices`, or -1 after an error on stderr naming
 * the option and the choices. */
int cli_choice(const char *opt, const char *arg, const char *const *choices);

/* The candidate nearest to `word` (edit distance at most a third of its length, at least 1), or
 * NULL: what "did you mean" offers. */
const char *cli_nearest(const char *word, const char *const *candidates, size_t n);
/* The registered rule code nearest to `word` (as cli_nearest), or NULL. */
const char *cli_nearest_rule(const char *word);

#endif
