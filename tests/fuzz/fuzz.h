/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* fuzz.h: what the fuzz targets share. Each tests/fuzz/fuzz_<target>.c
 * defines LLVMFuzzerTestOneInput(); libFuzzer drives it under `make fuzz`,
 * and tests/fuzz/replay.c feeds it the saved corpus and regressions under
 * `tests/run`. The helpers here turn the fuzzer's bytes into the shapes
 * the parsers take: a C string, or a file path for loaders that read one.
 */
#ifndef __SYSFLOW_FUZZ_H
#define __SYSFLOW_FUZZ_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sysflow/log.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Optional: set-up once per process, outside the per-input time limit
 * (loading a BPF object can take seconds on a busy machine).
 */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

/* The parsers explain every rejected input through sf_log: thousands of
 * lines a second that say nothing about a crash. Send them to /dev/null.
 */
static inline void fuzz_quiet(void)
{
	static int done;

	if (!done) {
		sf_log_set_file("/dev/null");
		done = 1;
	}
}

/* A property the target checks does not hold: say which, then abort so
 * that libFuzzer saves the input and the replay fails.
 */
#define fuzz_fail(...)                                 \
	do {                                           \
		fprintf(stderr, "fuzz: " __VA_ARGS__); \
		fputc('\n', stderr);                   \
		abort();                               \
	} while (0)

/* data as a NUL-terminated string (cut at its first NUL); free() it. */
static inline char *fuzz_str(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = 0;
	return s;
}

/* data as the contents of a file: an anonymous memfd, named by its
 * /proc/self/fd path in path (at least 32 bytes). Returns the fd to
 * close(), or aborts (the harness is broken, not the input).
 */
static inline int fuzz_file(const uint8_t *data, size_t size, char *path,
			    size_t len)
{
	int fd = memfd_create("fuzz-input", MFD_CLOEXEC);

	if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size))
		abort();
	snprintf(path, len, "/proc/self/fd/%d", fd);
	return fd;
}

#endif /* __SYSFLOW_FUZZ_H */
