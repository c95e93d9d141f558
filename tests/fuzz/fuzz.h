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
#include <sysflow/proto.h>

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

/* Read what a peer under test sent on the non-blocking fd into st and
 * call each(ctx, m) for every whole message; fail when one does not
 * decode or the bytes are not a stream of messages.
 */
static inline void fuzz_read_msgs(int fd, struct sfp_stream *st,
				  void (*each)(void *ctx,
					       const struct sfp_msg *m),
				  void *ctx)
{
	uint8_t buf[65536];
	const uint8_t *msg;
	struct sfp_msg m;
	ssize_t n;
	size_t len;
	int rc;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (sfp_stream_feed(st, buf, n))
			fuzz_fail("out of memory");
	while ((rc = sfp_stream_next(st, &msg, &len)) == 1) {
		if (sfp_decode(msg, len, &m))
			fuzz_fail("an answer of type %u does not decode",
				  msg[1]);
		each(ctx, &m);
		sfp_msg_free(&m);
	}
	if (rc < 0)
		fuzz_fail("the answers are not a stream of messages");
}

#endif /* __SYSFLOW_FUZZ_H */
