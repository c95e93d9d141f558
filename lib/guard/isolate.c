// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* isolate.c: ISOLATION, QUARANTINE and ENCODE on the sockets a process
 * already has. The socket hooks only see new operations, so the agent
 * walks /proc/PID/fd (one table for all threads; children inherit the
 * same sockets), takes each IP socket with pidfd_getfd (the very socket
 * object, not a copy) and either reads its SO_COOKIE into the map whose
 * packets the cgroup_skb programs drop, or sets IP_TOS / IPV6_TCLASS on
 * it. Socket cookies are never reused, so a stale entry can hit nothing.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include "core/core.h"
#include "guard_int.h"

#ifndef SO_COOKIE
#define SO_COOKIE 57
#endif

typedef int (*sock_cb)(void *ctx, int fd, uint64_t cookie, int family);

const char *guard_pidfd_error(int err)
{
	switch (-err) {
	case ENOSYS:
		return "the kernel has no pidfd_open/pidfd_getfd (Linux 5.6 "
		       "or later needed)";
	case EPERM:
	case EACCES:
		return "pidfd_getfd refused: the agent needs ptrace access to "
		       "the process (CAP_SYS_PTRACE, Yama ptrace_scope below 3)";
	case ESRCH:
		return "the process is gone";
	default:
		return strerror(-err);
	}
}

/* Call cb for every IPv4/IPv6 socket pid has open, with a duplicate of
 * it in our table. Returns the number of sockets, or -errno.
 */
static int walk_sockets(pid_t pid, sock_cb cb, void *ctx)
{
	char path[64], link[32];
	struct dirent *de;
	int pidfd, n = 0, err = 0;
	DIR *d;

	pidfd = syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0)
		return -errno;
	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	d = opendir(path);
	if (!d) {
		err = -errno;
		close(pidfd);
		return err;
	}
	while (!err && (de = readdir(d))) {
		socklen_t l = sizeof(int);
		uint64_t cookie;
		int fd, family;
		ssize_t len;
		char *end;
		long num = strtol(de->d_name, &end, 10);

		if (de->d_name[0] == '.' || *end)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fd/%ld", pid, num);
		len = readlink(path, link, sizeof(link) - 1);
		if (len < 8 || strncmp(link, "socket:[", 8))
			continue;
		fd = syscall(SYS_pidfd_getfd, pidfd, (int)num, 0);
		if (fd < 0) {
			if (errno != EBADF) /* EBADF: closed since readdir */
				err = -errno;
			continue;
		}
		if (!getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &family, &l) &&
		    (family == AF_INET || family == AF_INET6)) {
			l = sizeof(cookie);
			if (!getsockopt(fd, SOL_SOCKET, SO_COOKIE, &cookie,
					&l)) {
				err = cb(ctx, fd, cookie, family);
				n++;
			}
		}
		close(fd);
	}
	closedir(d);
	close(pidfd);
	return err ?: n;
}

/* ---- isolation: the cookies of a process's sockets ---- */

struct collect {
	struct guard_kern *b;
	struct guard_socks *s;
	const struct guard_iso_sock *v;
	int added;
};

static bool socks_has(const struct guard_socks *s, uint64_t cookie)
{
	for (uint32_t i = 0; i < s->n; i++)
		if (s->cookies[i] == cookie)
			return true;
	return false;
}

static int collect_one(void *ctx, int fd, uint64_t cookie, int family)
{
	struct collect *c = ctx;
	struct guard_socks *s = c->s;
	int err;

	(void)fd;
	(void)family;
	if (socks_has(s, cookie))
		return 0;
	if (s->n == s->cap) {
		uint32_t cap = s->cap ? s->cap * 2 : 8;
		uint64_t *v = realloc(s->cookies, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->cookies = v;
		s->cap = cap;
	}
	err = guard_bpf_iso_sock_add(c->b, cookie, c->v);
	if (err)
		return err;
	s->cookies[s->n++] = cookie;
	c->added++;
	return 0;
}

int guard_socks_isolate(struct guard_kern *b, pid_t pid,
			const struct guard_iso_sock *v, struct guard_socks *s)
{
	struct collect c = { .b = b, .s = s, .v = v };
	int n = walk_sockets(pid, collect_one, &c);

	return n < 0 ? n : c.added;
}

void guard_socks_release(struct guard_kern *b, struct guard_socks *s)
{
	for (uint32_t i = 0; i < s->n; i++)
		guard_bpf_iso_sock_del(b, s->cookies[i]);
	free(s->cookies);
	memset(s, 0, sizeof(*s));
}

/* ---- ENCODE: the DSCP on the sockets a process has ---- */

static int encode_one(void *ctx, int fd, uint64_t cookie, int family)
{
	int tos = *(int *)ctx;

	(void)cookie;
	if (family == AF_INET6) {
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &tos,
			       sizeof(tos)))
			return -errno;
		/* a dual-stack socket may carry IPv4 too */
		setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof(tos));
		return 0;
	}
	return setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof(tos)) ? -errno :
								       0;
}

int guard_socks_encode(pid_t pid, uint8_t dscp)
{
	int tos = (dscp & 63) << 2;

	return walk_sockets(pid, encode_one, &tos);
}

/* ---- probe ---- */

/* pidfd_getfd on a child of ours, as the agent will use it on others:
 * the child blocks on a pipe whose read end we take from it.
 */
int guard_socks_probe(void)
{
	int p[2], pidfd, fd, err = 0;
	pid_t child;

	if (pipe(p))
		return -errno;
	child = fork();
	if (child < 0) {
		err = -errno;
		close(p[0]);
		close(p[1]);
		return err;
	}
	if (child == 0) {
		char c;

		close(p[1]);
		while (read(p[0], &c, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	pidfd = syscall(SYS_pidfd_open, child, 0);
	if (pidfd < 0) {
		err = -errno;
	} else {
		fd = syscall(SYS_pidfd_getfd, pidfd, p[0], 0);
		if (fd < 0)
			err = -errno;
		else
			close(fd);
		close(pidfd);
	}
	close(p[0]);
	close(p[1]); /* the child reads EOF and exits */
	while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
		;
	return err;
}

/* What the agent can promise for ISOLATION, QUARANTINE and ENCODE, said at
 * start and withdrawn from caps (so FEATURES says it and FLOW_MOD refuses
 * it) when a part is missing: an action that would only cover new sockets
 * is not offered.
 */
void guard_socks_caps(struct guard_kern *b, struct guard_caps *caps)
{
	uint32_t gone = 0;
	int err = guard_socks_probe();

	if (err) {
		pr_warn("existing sockets: %s; ISOLATION, QUARANTINE and "
			"ENCODE are refused\n",
			guard_pidfd_error(err));
		gone = (1u << SF_ACT_ISOLATION) | (1u << SF_ACT_QUARANTINE) |
		       (1u << SF_ACT_ENCODE);
	} else if (!guard_bpf_skb_drop(b)) {
		pr_warn("existing sockets: no cgroup_skb programs; ISOLATION "
			"and QUARANTINE are refused\n");
		gone = (1u << SF_ACT_ISOLATION) | (1u << SF_ACT_QUARANTINE);
	} else {
		pr_info("ISOLATION, QUARANTINE: the subject's existing sockets "
			"(pidfd_getfd, SO_COOKIE) dropped by cgroup_skb ingress "
			"and egress; ENCODE: IP_TOS/IPV6_TCLASS set on them\n");
	}
	for (int op = 0; op < SF_OP_COUNT; op++)
		caps->actions[op] &= ~gone;
}
