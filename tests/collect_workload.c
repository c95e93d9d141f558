// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* collect_workload.c: known syscalls for the sysflow collect tests. Each
 * mode does an exact sequence (byte counts, paths, ports) and prints one
 * JSON line with what a test needs to find the records (pid, tids, fds,
 * ports). Built by tests/netns/test_collect.sh when missing:
 *	cc -O2 -Wall -o collect_workload tests/collect_workload.c -lpthread
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define die(...)                                          \
	do {                                              \
		fprintf(stderr, "collect_workload: " __VA_ARGS__); \
		fprintf(stderr, ": %s\n", strerror(errno)); \
		exit(1);                                  \
	} while (0)

static char buf[65536];

static long tid(void)
{
	return syscall(SYS_gettid);
}

/* write 1000 bytes in 3 writes, read them back, then rename, link,
 * symlink, unlink, mkdir(at), rmdir
 */
static int do_files(const char *dir)
{
	char a[512], b[512], c[512], d[512], e[512], sub[512];
	int fd, dfd, wfd, rfd;
	ssize_t n, total = 0;

	snprintf(a, sizeof(a), "%s/a.txt", dir);
	snprintf(b, sizeof(b), "%s/b.txt", dir);
	snprintf(c, sizeof(c), "%s/c.txt", dir);
	snprintf(d, sizeof(d), "%s/d.txt", dir);
	snprintf(e, sizeof(e), "%s/e.txt", dir);
	snprintf(sub, sizeof(sub), "%s/sub", dir);
	memset(buf, 'x', 1000);
	fd = open(a, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		die("open %s", a);
	wfd = fd;
	if (write(fd, buf, 100) != 100 || write(fd, buf, 400) != 400 ||
	    write(fd, buf, 500) != 500)
		die("write");
	close(fd);
	fd = open(a, O_RDONLY);
	if (fd < 0)
		die("open");
	rfd = fd;
	while ((n = read(fd, buf, sizeof(buf))) > 0) /* 1000, then 0 */
		total += n;
	close(fd);
	if (total != 1000)
		die("read %zd", total);
	if (rename(a, b))
		die("rename");
	if (link(b, c))
		die("link");
	if (syscall(SYS_symlink, "b.txt", d)) /* target as given */
		die("symlink");
	if (symlinkat("b.txt", AT_FDCWD, e))
		die("symlinkat");
	if (unlink(c) || unlink(d) || unlink(e) || unlink(b))
		die("unlink");
	if (mkdir(sub, 0755) || rmdir(sub))
		die("mkdir/rmdir");
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	if (dfd < 0 || mkdirat(dfd, "sub2", 0755) ||
	    unlinkat(dfd, "sub2", AT_REMOVEDIR))
		die("mkdirat");
	close(dfd);
	if (mkdir(sub, 0755) == 0 && mkdir(sub, 0755) == 0) /* EEXIST */
		die("mkdir twice");
	rmdir(sub);
	printf("{\"pid\": %d, \"tid\": %ld, \"wfd\": %d, \"rfd\": %d}\n",
	       getpid(), tid(), wfd, rfd);
	return 0;
}

static int listener(int family, int type, int *port)
{
	struct sockaddr_storage ss = {};
	socklen_t len = sizeof(ss);
	int fd = socket(family, type, 0), one = 1;

	if (fd < 0)
		die("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET) {
		struct sockaddr_in *in = (void *)&ss;

		in->sin_family = AF_INET;
		in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (void *)&ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_addr = in6addr_loopback;
		len = sizeof(*in6);
	}
	if (bind(fd, (void *)&ss, len))
		die("bind");
	if (type == SOCK_STREAM && listen(fd, 8))
		die("listen");
	len = sizeof(ss);
	getsockname(fd, (void *)&ss, &len);
	*port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port :
			((struct sockaddr_in6 *)&ss)->sin6_port);
	return fd;
}

static void sockaddr_of(int family, int port, struct sockaddr_storage *ss,
			socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *in = (void *)ss;

		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		*len = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (void *)ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		in6->sin6_addr = in6addr_loopback;
		*len = sizeof(*in6);
	}
}

/* A TCP connection over loopback: the listener on *port, the client and
 * the accepted socket. Returns the client's port.
 */
static int tcp_connection(int family, int *lfd, int *port, int *cfd, int *sfd)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int cport;

	*lfd = listener(family, SOCK_STREAM, port);
	*cfd = socket(family, SOCK_STREAM, 0);
	sockaddr_of(family, *port, &ss, &len);
	if (*cfd < 0 || connect(*cfd, (void *)&ss, len))
		die("connect");
	len = sizeof(ss);
	getsockname(*cfd, (void *)&ss, &len);
	cport = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port :
			((struct sockaddr_in6 *)&ss)->sin6_port);
	*sfd = accept(*lfd, NULL, NULL);
	if (*sfd < 0)
		die("accept");
	return cport;
}

/* One thread: the client sends 1000 bytes in one send and receives 500
 * in one recv; the accepted socket receives 1000 and sends 500.
 */
static int do_tcp(int family)
{
	int lfd, port, cfd, sfd, cport;

	cport = tcp_connection(family, &lfd, &port, &cfd, &sfd);
	memset(buf, 'y', 1000);
	if (send(cfd, buf, 1000, 0) != 1000)
		die("send");
	if (recv(sfd, buf, 1000, MSG_WAITALL) != 1000)
		die("recv");
	if (send(sfd, buf, 500, 0) != 500)
		die("send");
	if (recv(cfd, buf, 500, MSG_WAITALL) != 500)
		die("recv");
	close(cfd);
	close(sfd);
	close(lfd);
	printf("{\"pid\": %d, \"tid\": %ld, \"port\": %d, \"cport\": %d, "
	       "\"cfd\": %d, \"sfd\": %d, \"lfd\": %d}\n", getpid(), tid(), port,
	       cport, cfd, sfd, lfd);
	return 0;
}

/* Unconnected UDP: the client sends 3 x 100 bytes to server 1 and 2 x 60
 * to server 2; server 1 receives 3 and answers 50 once.
 */
static int do_udp(void)
{
	struct sockaddr_storage s1, s2, from;
	socklen_t l1, l2, fl = sizeof(from);
	int a, b, c, pa, pb, cport;

	a = listener(AF_INET, SOCK_DGRAM, &pa);
	b = listener(AF_INET, SOCK_DGRAM, &pb);
	c = socket(AF_INET, SOCK_DGRAM, 0);
	if (c < 0)
		die("socket");
	sockaddr_of(AF_INET, pa, &s1, &l1);
	sockaddr_of(AF_INET, pb, &s2, &l2);
	for (int i = 0; i < 3; i++)
		if (sendto(c, buf, 100, 0, (void *)&s1, l1) != 100)
			die("sendto");
	for (int i = 0; i < 3; i++)
		if (recvfrom(a, buf, sizeof(buf), 0, (void *)&from, &fl) != 100)
			die("recvfrom");
	if (sendto(a, buf, 50, 0, (void *)&from, fl) != 50)
		die("sendto");
	fl = sizeof(from);
	if (recvfrom(c, buf, sizeof(buf), 0, (void *)&from, &fl) != 50)
		die("recvfrom");
	for (int i = 0; i < 2; i++)
		if (sendto(c, buf, 60, 0, (void *)&s2, l2) != 60)
			die("sendto");
	fl = sizeof(from);
	getsockname(c, (void *)&from, &fl);
	cport = ntohs(((struct sockaddr_in *)&from)->sin_port);
	close(c);
	close(a);
	close(b);
	printf("{\"pid\": %d, \"tid\": %ld, \"port1\": %d, \"port2\": %d, "
	       "\"cport\": %d, \"cfd\": %d, \"sfd\": %d}\n", getpid(), tid(),
	       pa, pb, cport, c, a);
	return 0;
}

/* fork; the child execs this program in mode "noop" and exits 3 */
static int do_exec(const char *self)
{
	pid_t pid = fork();
	int st;

	if (pid < 0)
		die("fork");
	if (!pid) {
		execl(self, self, "noop", "arg1", "arg two", (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) != pid)
		die("waitpid");
	printf("{\"pid\": %d, \"tid\": %ld, \"child\": %d, \"status\": %d}\n",
	       getpid(), tid(), pid, WEXITSTATUS(st));
	return 0;
}

static int do_setuid(void)
{
	pid_t pid = fork();
	int st;

	if (pid < 0)
		die("fork");
	if (!pid)
		_exit(setuid(65534) ? 1 : 0);
	waitpid(pid, &st, 0);
	printf("{\"pid\": %d, \"child\": %d, \"status\": %d}\n", getpid(), pid,
	       WEXITSTATUS(st));
	return 0;
}

/* mmap a file, shut a TCP socket down, setns into our own network
 * namespace: the ops folded into flows besides reads and writes
 */
static int do_misc(const char *path)
{
	int fd, lfd, cfd, sfd, nfd, port;
	char *m;

	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || ftruncate(fd, 4096))
		die("open %s", path);
	m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		die("mmap");
	m[0] = 'm';
	munmap(m, 4096);
	close(fd);
	tcp_connection(AF_INET, &lfd, &port, &cfd, &sfd);
	if (shutdown(cfd, SHUT_WR))
		die("shutdown");
	close(sfd);
	close(cfd);
	close(lfd);
	nfd = open("/proc/self/ns/net", O_RDONLY);
	if (nfd < 0 || setns(nfd, CLONE_NEWNET))
		die("setns");
	close(nfd);
	printf("{\"pid\": %d, \"fd\": %d, \"cfd\": %d, \"nfd\": %d}\n",
	       getpid(), fd, cfd, nfd);
	return 0;
}

static int open_w(const char *dir, const char *name, int flags)
{
	char p[512];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	fd = open(p, flags | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		die("open %s", p);
	return fd;
}

static void put(int fd, size_t n)
{
	memset(buf, 'd', n);
	if (write(fd, buf, n) != (ssize_t)n)
		die("write %zu to fd %d", n, fd);
}

/* write 300 bytes to h.txt, then open it again by handle
 * (name_to_handle_at, open_by_handle_at: no path) and read them back
 */
static int do_handle(const char *dir)
{
	struct file_handle *h = malloc(sizeof(*h) + MAX_HANDLE_SZ);
	int fd, mfd, mount_id;
	char p[512];

	if (!h)
		die("malloc");
	fd = open_w(dir, "h.txt", O_WRONLY);
	put(fd, 300);
	close(fd);
	snprintf(p, sizeof(p), "%s/h.txt", dir);
	h->handle_bytes = MAX_HANDLE_SZ;
	if (name_to_handle_at(AT_FDCWD, p, h, &mount_id, 0))
		die("name_to_handle_at %s", p);
	mfd = open(dir, O_RDONLY | O_DIRECTORY);
	if (mfd < 0)
		die("open %s", dir);
	fd = open_by_handle_at(mfd, h, O_RDONLY);
	if (fd < 0)
		die("open_by_handle_at %s", p);
	if (read(fd, buf, sizeof(buf)) != 300)
		die("read %s", p);
	close(fd);
	close(mfd);
	free(h);
	printf("{\"pid\": %d, \"hfd\": %d}\n", getpid(), fd);
	return 0;
}

/* fd aliasing: dup.txt written through its fd (100), dup (200),
 * F_DUPFD_CLOEXEC from 50 (300), dup2 onto the open fd of dup2.txt (which
 * had 10 bytes; 400), dup3 onto 60 (500); an accepted TCP socket dup'd
 * sends 700 bytes to the client.
 */
static int do_fds(const char *dir)
{
	int fd, d1, d2, bfd, d3, lfd, cfd, sfd, sd, port, cport;

	fd = open_w(dir, "dup.txt", O_WRONLY);
	put(fd, 100);
	d1 = dup(fd);
	put(d1, 200);
	d2 = fcntl(fd, F_DUPFD_CLOEXEC, 50);
	put(d2, 300);
	bfd = open_w(dir, "dup2.txt", O_WRONLY);
	put(bfd, 10);
	if (dup2(fd, bfd) != bfd)
		die("dup2");
	put(bfd, 400);
	d3 = dup3(fd, 60, O_CLOEXEC);
	put(d3, 500);
	close(d1);
	close(d2);
	close(bfd);
	close(d3);
	close(fd);
	cport = tcp_connection(AF_INET, &lfd, &port, &cfd, &sfd);
	sd = dup(sfd);
	if (send(sd, buf, 700, 0) != 700 ||
	    recv(cfd, buf, 700, MSG_WAITALL) != 700)
		die("send/recv");
	close(sd);
	close(sfd);
	close(cfd);
	close(lfd);
	printf("{\"pid\": %d, \"tid\": %ld, \"fd\": %d, \"d1\": %d, \"d2\": %d, "
	       "\"bfd\": %d, \"d3\": %d, \"cfd\": %d, \"sfd\": %d, \"sd\": %d, "
	       "\"port\": %d, \"cport\": %d}\n", getpid(), tid(), fd, d1, d2,
	       bfd, d3, cfd, sfd, sd, port, cport);
	return 0;
}

/* close_range: r0.txt stays open below the range; r1 (10 bytes), r2 (20)
 * and r3 (never used) are closed by close_range(r1, ~0U, 0); r0 (5) is
 * closed; x1 (30, on r0's fd) and x2 (40) are marked close-on-exec by
 * CLOSE_RANGE_CLOEXEC, setfd.txt (60) by fcntl(F_SETFD) and keep.txt (50)
 * is not; then the process execs /bin/true, whose loader opens x1's fd
 * number again at once.
 */
static int do_closerange(const char *dir)
{
	int r0, r1, r2, r3, x1, x2, k, sfd;

	r0 = open_w(dir, "r0.txt", O_WRONLY);
	r1 = open_w(dir, "r1.txt", O_WRONLY);
	r2 = open_w(dir, "r2.txt", O_WRONLY);
	r3 = open_w(dir, "r3.txt", O_WRONLY);
	put(r1, 10);
	put(r2, 20);
	if (syscall(SYS_close_range, r1, ~0U, 0))
		die("close_range");
	put(r0, 5);
	close(r0);
	x1 = open_w(dir, "x1.txt", O_WRONLY);
	x2 = open_w(dir, "x2.txt", O_WRONLY);
	k = open_w(dir, "keep.txt", O_WRONLY);
	put(x1, 30);
	put(x2, 40);
	put(k, 50);
	if (syscall(SYS_close_range, x1, x2, 4 /* CLOSE_RANGE_CLOEXEC */))
		die("close_range cloexec");
	sfd = open_w(dir, "setfd.txt", O_WRONLY);
	put(sfd, 60);
	if (fcntl(sfd, F_SETFD, FD_CLOEXEC))
		die("F_SETFD");
	printf("{\"pid\": %d, \"tid\": %ld, \"r0\": %d, \"r1\": %d, "
	       "\"r2\": %d, \"r3\": %d, \"x1\": %d, \"x2\": %d, "
	       "\"keep\": %d, \"setfd\": %d}\n", getpid(), tid(), r0, r1, r2,
	       r3, x1, x2, k, sfd);
	execl("/bin/true", "true", (char *)NULL);
	die("exec /bin/true");
}

/* sendfile, copy_file_range, splice, vmsplice and tee: src.bin (4096
 * bytes) to dst.bin, directly and through pipe p; then 200 bytes
 * vmspliced into p, teed into pipe q, read from both.
 */
static int do_xfer(const char *dir)
{
	int in, out, p[2], q[2];
	struct iovec iov = { buf, 200 };
	char path[512];

	in = open_w(dir, "src.bin", O_WRONLY);
	put(in, 4096);
	close(in);
	snprintf(path, sizeof(path), "%s/src.bin", dir);
	in = open(path, O_RDONLY);
	out = open_w(dir, "dst.bin", O_WRONLY);
	if (in < 0 || pipe(p) || pipe(q))
		die("open/pipe");
	if (sendfile(out, in, NULL, 1000) != 1000)
		die("sendfile");
	if (copy_file_range(in, NULL, out, NULL, 500, 0) != 500)
		die("copy_file_range");
	if (splice(in, NULL, p[1], NULL, 300, 0) != 300 ||
	    splice(p[0], NULL, out, NULL, 300, 0) != 300)
		die("splice");
	if (vmsplice(p[1], &iov, 1, 0) != 200 || tee(p[0], q[1], 200, 0) != 200)
		die("vmsplice/tee");
	if (read(p[0], buf, 200) != 200 || read(q[0], buf, 200) != 200)
		die("read pipes");
	close(in);
	close(out);
	close(p[0]);
	close(p[1]);
	close(q[0]);
	close(q[1]);
	printf("{\"pid\": %d, \"tid\": %ld, \"in\": %d, \"out\": %d, \"p0\": %d, "
	       "\"p1\": %d, \"q0\": %d, \"q1\": %d}\n", getpid(), tid(), in, out,
	       p[0], p[1], q[0], q[1]);
	return 0;
}

static void *thread_main(void *arg)
{
	(void)arg;
	return NULL;
}

static int tasks(void)
{
	struct stat st;

	/* a directory's link count: 2 + its subdirectories (one per task) */
	if (stat("/proc/self/task", &st))
		return 1;
	return st.st_nlink - 2;
}

static int do_threads(int n)
{
	pthread_t t[64];

	for (int i = 0; i < n && i < 64; i++)
		if (pthread_create(&t[i], NULL, thread_main, NULL))
			die("pthread_create");
	for (int i = 0; i < n && i < 64; i++)
		pthread_join(t[i], NULL);
	/* pthread_join returns when a thread has released its mm, before the
	 * kernel's sched_process_exit of that thread: wait until the threads
	 * are gone so their exit events come before ours
	 */
	for (int i = 0; i < 1000 && tasks() > 1; i++)
		usleep(1000);
	printf("{\"pid\": %d, \"threads\": %d}\n", getpid(), n);
	return 0;
}

/* open/close as fast as possible for secs: every pair crosses the ring */
static int do_storm(const char *path, int secs)
{
	time_t end = time(NULL) + secs;
	long n = 0;

	while (time(NULL) < end) {
		for (int i = 0; i < 1000; i++) {
			int fd = open(path, O_RDONLY);

			if (fd >= 0)
				close(fd);
		}
		n += 1000;
	}
	printf("{\"pid\": %d, \"opens\": %ld}\n", getpid(), n);
	return 0;
}

/* write to a file that stays open, so only timers can export it */
static int do_longwrite(const char *path, int secs)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0)
		die("open");
	for (int i = 0; i < secs * 10; i++) {
		if (write(fd, "z", 1) != 1)
			die("write");
		usleep(100000);
	}
	printf("{\"pid\": %d, \"fd\": %d}\n", getpid(), fd);
	fflush(stdout);
	pause(); /* until killed: the flow ends with OP_TRUNCATE */
	return 0;
}

int main(int argc, char **argv)
{
	const char *m = argc > 1 ? argv[1] : "";

	setvbuf(stdout, NULL, _IONBF, 0);
	if (!strcmp(m, "files") && argc > 2)
		return do_files(argv[2]);
	if (!strcmp(m, "tcp"))
		return do_tcp(AF_INET);
	if (!strcmp(m, "tcp6"))
		return do_tcp(AF_INET6);
	if (!strcmp(m, "udp"))
		return do_udp();
	if (!strcmp(m, "exec"))
		return do_exec(argv[0]);
	if (!strcmp(m, "noop"))
		return 3;
	if (!strcmp(m, "misc") && argc > 2)
		return do_misc(argv[2]);
	if (!strcmp(m, "fds") && argc > 2)
		return do_fds(argv[2]);
	if (!strcmp(m, "handle") && argc > 2)
		return do_handle(argv[2]);
	if (!strcmp(m, "closerange") && argc > 2)
		return do_closerange(argv[2]);
	if (!strcmp(m, "xfer") && argc > 2)
		return do_xfer(argv[2]);
	if (!strcmp(m, "setuid"))
		return do_setuid();
	if (!strcmp(m, "threads") && argc > 2)
		return do_threads(atoi(argv[2]));
	if (!strcmp(m, "storm") && argc > 3)
		return do_storm(argv[2], atoi(argv[3]));
	if (!strcmp(m, "longwrite") && argc > 3)
		return do_longwrite(argv[2], atoi(argv[3]));
	fprintf(stderr, "usage: collect_workload files DIR | tcp | tcp6 | udp "
		"| exec | setuid | misc FILE | fds DIR | handle DIR "
		"| closerange DIR "
		"| xfer DIR | threads N | storm PATH SEC | longwrite PATH SEC\n");
	return 2;
}
