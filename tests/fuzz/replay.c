/* Runs a libFuzzer harness over files without libFuzzer (any compiler, any build): each argument
 * is a file, or a folder whose files are run, in name order. What the regression tests use:
 * every crash a fuzzer found is kept as a file and replayed here. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int run_file(const char *path)
{
	size_t len;
	char *buf = read_whole_file(path, &len, NULL);
	if (!buf) {
		perror(path);
		return -1;
	}
	LLVMFuzzerTestOneInput((const uint8_t *)buf, len);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	int n = 0, bad = 0;
	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) < 0) {
			perror(argv[i]);
			bad++;
			continue;
		}
		if (!S_ISDIR(st.st_mode)) {
			bad += run_file(argv[i]) < 0;
			n++;
			continue;
		}
		struct dirent **ents;
		int k = scandir(argv[i], &ents, NULL, alphasort);
		if (k < 0) {
			perror(argv[i]);
			bad++;
			continue;
		}
		for (int j = 0; j < k; j++) {
			if (ents[j]->d_name[0] != '.') {
				char *p = xprintf("%s/%s", argv[i], ents[j]->d_name);
				bad += run_file(p) < 0;
				n++;
				free(p);
			}
			free(ents[j]);
		}
		free(ents);
	}
	printf("%d inputs replayed, %d unreadable\n", n, bad);
	return bad ? 1 : 0;
}
