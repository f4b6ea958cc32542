/* libFuzzer harness for the loader of `--trace-profile` traces (cmd/trace/trace_file.c): any
 * bytes either load or are refused with a message, and a loaded trace answers count queries. */
#define _GNU_SOURCE /* memfd_create */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cli.h"
#include "trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("trace.json", MFD_CLOEXEC);
	if (fd < 0 || fd_write_all(fd, data, size) < 0) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	char path[64];
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	char *err = NULL;
	struct trace_profile *tp = trace_profile_load(path, &err);
	if (!tp && !err)
		abort(); /* refused without a reason (out of memory aside, which fuzzing does not cause) */
	if (tp) {
		/* queries over the names a trace may hold */
		static const char *const paths[] = {"/tmp/app.py", "app.py", "", "/"};
		static const char *const ops[] = {"MAKE_FUNCTION", "BUILD_LIST", "CALL", NULL};
		for (size_t i = 0; i < sizeof paths / sizeof *paths; i++)
			for (size_t k = 0; k < sizeof ops / sizeof *ops; k++)
				for (int line = 0; line < 4; line++)
					(void)trace_profile_count(tp, paths[i], line, ops[k]);
	}
	trace_profile_free(tp);
	free(err);
	close(fd);
	return 0;
}
