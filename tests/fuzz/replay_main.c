/* replay_main.c - runs a fuzz target over seed corpora without libFuzzer (make test replays them). */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Feed one file to the target; -1 when it cannot be read. */
static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		perror(path);
		return -1;
	}
	struct stat st;
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
		fprintf(stderr, "%s: not a regular file\n", path);
		fclose(f);
		return -1;
	}
	size_t n = (size_t)st.st_size;
	/* An exact-size heap copy, so ASan sees any read past the input. */
	uint8_t *buf = malloc(n > 0 ? n : 1);
	size_t got = n > 0 ? fread(buf, 1, n, f) : 0;
	fclose(f);
	if (got != n) {
		fprintf(stderr, "%s: short read\n", path);
		free(buf);
		return -1;
	}
	LLVMFuzzerTestOneInput(buf, got);
	free(buf);
	return 0;
}

/* Usage: replay_fuzz_NAME FILE_OR_DIR... Runs every file (directories one
 * level deep, dot files skipped); exit 1 if any could not be read. */
int main(int argc, char **argv)
{
	int count = 0, bad = 0;
	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) != 0) {
			perror(argv[i]);
			return 1;
		}
		if (!S_ISDIR(st.st_mode)) {
			if (run_file(argv[i]) == 0)
				count++;
			else
				bad++;
			continue;
		}
		DIR *d = opendir(argv[i]);
		if (!d) {
			perror(argv[i]);
			return 1;
		}
		struct dirent *e;
		while ((e = readdir(d))) {
			if (e->d_name[0] == '.')
				continue;
			char path[4096];
			snprintf(path, sizeof(path), "%s/%s", argv[i], e->d_name);
			if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
				continue;
			if (run_file(path) == 0)
				count++;
			else
				bad++;
		}
		closedir(d);
	}
	printf("replayed %d inputs\n", count);
	return bad ? 1 : 0;
}
