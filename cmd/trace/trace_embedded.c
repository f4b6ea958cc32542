/* `spipfix trace` runs the traced program in an embedded CPython 3.11: cmd/trace/trace.c is built
 * into its own module, spipfix-trace-py311.so (linked against libpython3.11), loaded here, so
 * that the program itself links no libpython (passes/pyrt.h). */
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>

#include "bridge.h"
#include "cli.h"

int trace_main(int argc, char **argv)
{
	if (!bridge_built(11)) {
		fprintf(stderr, "error: spipfix trace runs programs in Python 3.11, which this spipfix was not built for "
				"(built: %s)\n",
			bridge_built_list());
		return 2;
	}
	char path[PATH_MAX + 80];
	void *h = bridge_dlopen("spipfix-trace-py311.so", path, sizeof path);
	int (*run)(int, char **) = h ? (int (*)(int, char **))dlsym(h, "spipfix_trace_main") : NULL;
	if (!run) {
		if (h)
			fprintf(stderr, "spipfix: %s has no spipfix_trace_main\n", path);
		return 2;
	}
	return run(argc, argv);
}
