// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* isolate.c: ISOLATION, QUARANTINE and ENCODE on the sockets a process
 * already has. The socket hooks only see new operations, so the agent
 * walks /proc/PID/fd (one table for all threads; children inherit the
 * same sockets), takes each IP socket with pidfd_getfd (the very socket
 * object, not a copy) and either reads its SO_COOKIE into the map whose
 * packets the cgroup_skb programs drop, or sets IP_TOS / IPV6_TCLASS on
 * it. Connections waiting in the accept queue of an isolated listener
 * are in no file table yet: sock_diag finds them. Socket cookies are
 * never reused, so a stale entry can hit nothing.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/sockios.h>
#include "core/core.h"
#include "core/grow.h"
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

static int add_cookie(struct collect *c, uint64_t cookie)
{
	struct guard_socks *s = c->s;
	int err;

	if (socks_has(s, cookie))
		return 0;
	if (grow_array(s->cookies, s->cap, s->n, 1, 8))
		return -ENOMEM;
	err = guard_bpf_iso_sock_add(c->b, cookie, c->v);
	if (err)
		return err;
	s->cookies[s->n++] = cookie;
	c->added++;
	return 0;
}

/* A NETLINK_SOCK_DIAG socket in the network namespace of socket fd. */
static int diag_socket(int fd)
{
	int ns = ioctl(fd, SIOCGSKNS), self, nl = -1, err = 0;

	if (ns < 0)
		return -errno;
	self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0 || setns(ns, CLONE_NEWNET)) {
		err = -errno;
		goto out;
	}
	nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (nl < 0)
		err = -errno;
	if (setns(self, CLONE_NEWNET))
		pr_err("cannot return to the agent's network namespace: %s\n",
		       strerror(errno));
out:
	if (self >= 0)
		close(self);
	close(ns);
	return err ?: nl;
}

/* Does a diag record name a connection queued on this listener? */
static bool queued_on(const struct inet_diag_msg *m, int family,
		      const struct sockaddr_storage *ls)
{
	const struct sockaddr_in *a4 = (const void *)ls;
	const struct sockaddr_in6 *a6 = (const void *)ls;

	if (m->idiag_inode) /* accepted: in some file table */
		return false;
	if (family == AF_INET)
		return m->id.idiag_sport == a4->sin_port &&
		       (!a4->sin_addr.s_addr ||
			!memcmp(m->id.idiag_src, &a4->sin_addr, 4));
	return m->id.idiag_sport == a6->sin6_port &&
	       (IN6_IS_ADDR_UNSPECIFIED(&a6->sin6_addr) ||
		!memcmp(m->id.idiag_src, &a6->sin6_addr, 16));
}

static uint64_t diag_cookie(const struct inet_diag_msg *m)
{
	return m->id.idiag_cookie[0] | (uint64_t)m->id.idiag_cookie[1] << 32;
}

/* Connections that completed on listener fd before it was isolated and
 * wait to be accepted: their packets are dropped from now on too (new
 * ones cannot complete: the listener's handshake ACKs are dropped).
 */
static int queued_children(struct collect *c, int fd, int family)
{
	struct {
		struct nlmsghdr h;
		struct inet_diag_req_v2 r;
	} req = { .h = { .nlmsg_len = sizeof(req),
			 .nlmsg_type = SOCK_DIAG_BY_FAMILY,
			 .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP },
		  .r = { .sdiag_family = family,
			 .sdiag_protocol = IPPROTO_TCP,
			 .idiag_states = (1 << TCP_ESTABLISHED) |
					 (1 << TCP_CLOSE_WAIT) } };
	struct sockaddr_storage ls;
	socklen_t len = sizeof(ls);
	static char buf[16384];
	int nl, err = 0;
	bool done = false;

	if (getsockname(fd, (struct sockaddr *)&ls, &len))
		return -errno;
	nl = diag_socket(fd);
	if (nl < 0)
		return nl;
	if (send(nl, &req, sizeof(req), 0) < 0)
		err = -errno;
	while (!err && !done) {
		ssize_t n = recv(nl, buf, sizeof(buf), 0);
		struct nlmsghdr *h = (struct nlmsghdr *)buf;

		if (n <= 0) {
			err = n < 0 ? -errno : -EIO;
			break;
		}
		for (; !err && NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_DONE) {
				done = true;
				break;
			}
			if (h->nlmsg_type == NLMSG_ERROR) {
				err = -EIO;
				break;
			}
			if (queued_on(NLMSG_DATA(h), family, &ls))
				err = add_cookie(c, diag_cookie(NLMSG_DATA(h)));
		}
	}
	close(nl);
	return err;
}

static bool tcp_listener(int fd)
{
	int v = 0, proto = 0;
	socklen_t l = sizeof(v);

	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &l) || !v)
		return false;
	l = sizeof(proto);
	return !getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &l) &&
	       proto == IPPROTO_TCP;
}

static int collect_one(void *ctx, int fd, uint64_t cookie, int family)
{
	struct collect *c = ctx;
	uint32_t before = c->s->n;
	int err = add_cookie(c, cookie);

	/* a listener seen for the first time: its queue, once */
	if (err || c->s->n == before || !tcp_listener(fd))
		return err;
	err = queued_children(c, fd, family);
	if (err)
		pr_warn("accept queue of an isolated listener not reached "
			"(sock_diag): %s\n",
			strerror(-err));
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
