// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* replay.c: main() for a fuzz target without libFuzzer. Built with gcc,
 * ASan and UBSan against the sanitizer library as
 * build/tests/fuzz/replay_<target>, it feeds each file named on the command
 * line (each file of a directory, in name order) to the target once, so
 * `tests/run` keeps the seed corpus and every input that once broke a
 * parser (tests/fuzz/regress/<target>/) working. Prints "replayed N
 * inputs"; a crash, leak or undefined behaviour fails it, and so does an
 * input that takes over INPUT_SECS (a hang, as libFuzzer's -timeout).
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <sys/stat.h>
#include "fuzz.h"

#define INPUT_SECS 10

static const char *current;

static void on_alarm(int sig)
{
	(void)sig;
	fprintf(stderr, "replay: %s took over %d s: a hang\n", current,
		INPUT_SECS);
	_exit(1);
}

static int feed_file(const char *path)
{
	uint8_t *buf = NULL;
	struct stat st;
	FILE *f;
	size_t n;

	f = fopen(path, "rb");
	if (!f || fstat(fileno(f), &st)) {
		fprintf(stderr, "replay: cannot read %s: %s\n", path,
			strerror(errno));
		if (f)
			fclose(f);
		return -1;
	}
	/* exactly the input's size, so a read past its end is caught */
	buf = malloc(st.st_size ?: 1);
	if (!buf)
		abort();
	n = fread(buf, 1, st.st_size, f);
	fclose(f);
	fprintf(stderr, "replay: %s (%zu bytes)\n", path, n);
	current = path;
	alarm(INPUT_SECS);
	LLVMFuzzerTestOneInput(buf, n);
	alarm(0);
	free(buf);
	return 0;
}

static int feed_dir(const char *dir, int *count)
{
	struct dirent **names;
	char path[4096];
	int n, err = 0;

	n = scandir(dir, &names, NULL, alphasort);
	if (n < 0) {
		fprintf(stderr, "replay: cannot list %s: %s\n", dir,
			strerror(errno));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.') {
			snprintf(path, sizeof(path), "%s/%s", dir,
				 names[i]->d_name);
			if (feed_file(path))
				err = -1;
			else
				(*count)++;
		}
		free(names[i]);
	}
	free(names);
	return err;
}

int main(int argc, char **argv)
{
	int count = 0, err = 0;
	struct stat st;

	signal(SIGALRM, on_alarm);
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++) {
		if (stat(argv[i], &st)) {
			if (errno == ENOENT)
				continue; /* a target without regressions yet */
			err = -1;
		} else if (S_ISDIR(st.st_mode)) {
			err |= feed_dir(argv[i], &count);
		} else if (feed_file(argv[i])) {
			err = -1;
		} else {
			count++;
		}
	}
	printf("replayed %d inputs\n", count);
	return err || !count ? 1 : 0;
}
