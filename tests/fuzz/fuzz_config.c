/* libFuzzer harness for the pyproject.toml reader (cmd/check/config.c): any bytes named with
 * --config either load into a configuration or are refused with a message on stderr; nothing
 * else (no crash, no leak, no Python error left pending). */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "bridge.h"
#include "cli.h"
#include "config.h"

static char path[] = "/tmp/spipfix-fuzz-config-XXXXXX";
static int devnull = -1;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void cleanup(void) { unlink(path); }

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	int fd = mkstemp(path);
	if (fd < 0 || bridge_init() < 0)
		abort();
	close(fd);
	atexit(cleanup);
	devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0 || fd_write_all(fd, data, size) < 0)
		abort();
	close(fd);
	/* the reader's messages go to stderr; keep libFuzzer's own output readable */
	fflush(stderr);
	int saved = devnull >= 0 && !getenv("SPIPFIX_FUZZ_VERBOSE") ? dup(2) : -1;
	if (saved >= 0)
		dup2(devnull, 2);
	struct config c;
	int rc = config_load(path, NULL, &c);
	fflush(stderr);
	if (saved >= 0) {
		dup2(saved, 2);
		close(saved);
	}
	/* a Python error left pending inside the interpreter would surface in the next call: a
	 * valid document must still read */
	char *err = NULL, *ok = bridge_toml("a = 1\n", 6, &err);
	if (!ok || err)
		abort();
	free(ok);
	if (rc == 0 && !c.found)
		abort(); /* --config names a file that must have the table: found, or an error */
	config_free(&c);
	return 0;
}
