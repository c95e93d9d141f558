// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* fan.c: file opens and execs decided in user space through fanotify
 * permission events (FAN_OPEN_PERM, FAN_OPEN_EXEC_PERM), marked per mount
 * (FAN_MARK_MOUNT) on the folders the agent is told to watch. Every event
 * is answered at once, except those the decider holds for the controller
 * (it answers them with guard_fan_answer()); on exit the queue is drained
 * and answered, and if
 * the agent dies anyway the kernel allows whatever was pending when the
 * fanotify descriptor closes (fanotify_release), so no process stays
 * blocked on a dead listener.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <unistd.h>
#include "core/core.h"
#include "guard_int.h"

struct guard_fan {
	int fd;
	int fd_dir; /* /proc/self/fd: paths by readlinkat() of one name */
	uint64_t decisions;
};

struct guard_fan *guard_fan_open(const char *const *paths, int n, int *err)
{
	struct guard_fan *f = calloc(1, sizeof(*f));

	if (!f) {
		*err = -ENOMEM;
		return NULL;
	}
	f->fd = fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC | FAN_NONBLOCK |
				      FAN_UNLIMITED_QUEUE,
			      O_RDONLY | O_LARGEFILE | O_CLOEXEC);
	if (f->fd < 0) {
		*err = -errno;
		pr_err("fanotify_init: %s; file operations cannot be "
		       "enforced (needs CAP_SYS_ADMIN and "
		       "CONFIG_FANOTIFY_ACCESS_PERMISSIONS)\n",
		       strerror(-*err));
		free(f);
		return NULL;
	}
	f->fd_dir = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	for (int i = 0; i < n; i++) {
		if (fanotify_mark(f->fd, FAN_MARK_ADD | FAN_MARK_MOUNT,
				  FAN_OPEN_PERM | FAN_OPEN_EXEC_PERM, AT_FDCWD,
				  paths[i])) {
			*err = -errno;
			pr_err("cannot watch %s with fanotify: %s\n", paths[i],
			       strerror(-*err));
			close(f->fd);
			if (f->fd_dir >= 0)
				close(f->fd_dir);
			free(f);
			return NULL;
		}
		pr_info("file opens and execs on the mount of %s are decided "
			"by fanotify\n",
			paths[i]);
	}
	*err = 0;
	return f;
}

int guard_fan_fd(struct guard_fan *f)
{
	return f ? f->fd : -1;
}

static void answer(struct guard_fan *f, int fd, bool deny)
{
	struct fanotify_response r = { .fd = fd,
				       .response = deny ? FAN_DENY :
							  FAN_ALLOW };

	if (write(f->fd, &r, sizeof(r)) != sizeof(r))
		pr_warn("fanotify response failed: %s\n", strerror(errno));
	f->decisions++;
}

void guard_fan_answer(struct guard_fan *f, int fd, bool deny)
{
	answer(f, fd, deny);
	close(fd);
}

/* The decimal digits of a descriptor number (no printf in the hot path). */
static void fd_name(int fd, char out[12])
{
	char tmp[12];
	int n = 0, i = 0;

	do
		tmp[n++] = '0' + fd % 10;
	while ((fd /= 10) && n < 11);
	while (n)
		out[i++] = tmp[--n];
	out[i] = 0;
}

const char *guard_file_path(struct guard_file_event *ev)
{
	char name[12];
	ssize_t n = -1;

	if (ev->path)
		return ev->path;
	fd_name(ev->fd, name);
	if (ev->fd_dir >= 0)
		n = readlinkat(ev->fd_dir, name, ev->path_buf, PATH_MAX - 1);
	if (n < 0) {
		char link[64];

		snprintf(link, sizeof(link), "/proc/self/fd/%s", name);
		n = readlink(link, ev->path_buf, PATH_MAX - 1);
	}
	ev->path_buf[n < 0 ? 0 : n] = 0;
	ev->path = ev->path_buf;
	return ev->path;
}

/* Decide one event: 0 allow, 1 deny, 2 held (the decider answers later).
 * The path is read only if the decider needs it (guard_file_path()).
 */
static int decide_one(struct guard_fan *f,
		      const struct fanotify_event_metadata *md,
		      guard_fan_decide decide, void *ctx)
{
	char path[PATH_MAX];
	struct guard_file_event ev = {};
	bool deny = false;

	if (!decide || md->fd < 0)
		return 0;
	ev.pid = md->pid;
	ev.path_buf = path;
	ev.fd_dir = f->fd_dir;
	ev.fd = md->fd;
	ev.op = (md->mask & FAN_OPEN_EXEC_PERM) ? SF_OP_FILE_EXECUTE :
						  SF_OP_FILE_OPEN;
	if (decide(ctx, &ev, &deny))
		return 0;
	return ev.held ? 2 : deny;
}

int guard_fan_handle(struct guard_fan *f, guard_fan_decide decide, void *ctx)
{
	char buf[8192] __attribute__((aligned(8)));
	const struct fanotify_event_metadata *md;
	ssize_t len;

	for (;;) {
		len = read(f->fd, buf, sizeof(buf));
		if (len < 0 && errno == EINTR)
			continue;
		if (len <= 0)
			return len < 0 && errno != EAGAIN ? -errno : 0;
		for (md = (void *)buf; FAN_EVENT_OK(md, len);
		     md = FAN_EVENT_NEXT(md, len)) {
			if (md->vers != FANOTIFY_METADATA_VERSION)
				return -EPROTO;
			int v = 0;

			if (md->mask & (FAN_OPEN_PERM | FAN_OPEN_EXEC_PERM)) {
				v = decide_one(f, md, decide, ctx);
				if (v != 2)
					answer(f, md->fd, v);
			}
			if (md->fd >= 0 && v != 2)
				close(md->fd);
		}
		/* a short read drained the queue: skip the EAGAIN read */
		if ((size_t)len < sizeof(buf) / 2)
			return 0;
	}
}

void guard_fan_close(struct guard_fan *f, guard_fan_decide decide, void *ctx)
{
	if (!f)
		return;
	/* stop new events, then answer what is queued */
	fanotify_mark(f->fd, FAN_MARK_FLUSH | FAN_MARK_MOUNT, 0, AT_FDCWD,
		      NULL);
	guard_fan_handle(f, decide, ctx);
	close(f->fd);
	if (f->fd_dir >= 0)
		close(f->fd_dir);
	free(f);
}

uint64_t guard_fan_decisions(struct guard_fan *f)
{
	return f ? f->decisions : 0;
}
