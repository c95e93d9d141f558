// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* fan_floor.c: the least a fanotify permission decision can cost: a
 * listener that allows every open at once, no path, no rules. run.sh
 * measures open() under it, so the agent's own share of the fanotify
 * cost can be told apart from the mechanism's (two context switches and
 * an event file the kernel opens for the listener).
 *   fan_floor DIR     (marks the mount of DIR; prints "ready")
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/fanotify.h>
#include <unistd.h>
#include "bench.h"

int main(int argc, char **argv)
{
	static const char usage[] = "usage: fan_floor DIR\n";
	char buf[8192] __attribute__((aligned(8)));
	int fd;

	if (bench_help(argc, argv, usage))
		return 0;
	if (argc != 2) {
		fputs(usage, stderr);
		return 1;
	}
	fd = fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC,
			   O_RDONLY | O_LARGEFILE);
	if (fd < 0 || fanotify_mark(fd, FAN_MARK_ADD | FAN_MARK_MOUNT,
				    FAN_OPEN_PERM, AT_FDCWD, argv[1]))
		return 1;
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		const struct fanotify_event_metadata *md = (void *)buf;
		ssize_t len = read(fd, buf, sizeof(buf));

		if (len <= 0)
			return 0;
		for (; FAN_EVENT_OK(md, len); md = FAN_EVENT_NEXT(md, len)) {
			struct fanotify_response r = { .fd = md->fd,
						       .response = FAN_ALLOW };

			if (write(fd, &r, sizeof(r)) != sizeof(r))
				return 1;
			close(md->fd);
		}
	}
}
