// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* udp_flood.c: the traffic of bench/tracepkt: small UDP datagrams from one
 * network namespace to another through a veth pair, as fast as one sender
 * can push them, for a fixed time. Prints what was sent and received.
 *
 *   udp_flood SRC_NS DST_NS DST_ADDR PORT SECONDS
 *
 * SRC_NS and DST_NS are paths such as /run/netns/NAME. The receiver is a
 * child process in DST_NS on the last CPU, the sender runs in SRC_NS on
 * CPU 0: with veth the whole path (send, veth, receive softirq, socket
 * queue) runs on the sender's CPU, so tracing overhead shows in its rate.
 * Output, one line: "sent N received N seconds S pps P cpu C cpupps Q":
 * C is the sender's CPU time (user + system, which includes the receive
 * softirq run on its way out of the kernel), Q = received / C, a rate that
 * other load on the machine disturbs much less than the wall-clock one.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include "bench.h"

#define BATCH 64
#define PAYLOAD 18 /* 14 + 20 + 8 + 18 = 60-byte frames */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static int enter_netns(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), err;

	if (fd < 0) {
		fprintf(stderr, "udp_flood: cannot open %s: %s\n", path,
			strerror(errno));
		return -1;
	}
	err = setns(fd, CLONE_NEWNET);
	close(fd);
	if (err)
		fprintf(stderr, "udp_flood: setns %s: %s\n", path,
			strerror(errno));
	return err;
}

static void pin_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/* Child: count datagrams until the parent closes stop_fd, then drain. */
static int receiver(int port, int ready_fd, int stop_fd, int result_fd)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(port) };
	static char bufs[BATCH][64];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	int fd, rcvbuf = 32 << 20, n;
	unsigned long long count = 0;
	struct pollfd pfd[2];

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf));
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a))) {
		perror("udp_flood: receiver socket");
		return 1;
	}
	for (int i = 0; i < BATCH; i++) {
		iov[i] = (struct iovec){ bufs[i], sizeof(bufs[i]) };
		msgs[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i],
							 .msg_iovlen = 1 } };
	}
	if (write(ready_fd, "r", 1) != 1)
		return 1;
	pfd[0] = (struct pollfd){ .fd = fd, .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = stop_fd, .events = POLLIN };
	for (;;) {
		if (poll(pfd, 2, 1000) < 0 && errno != EINTR)
			break;
		n = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL);
		if (n > 0)
			count += n;
		if (pfd[1].revents && n <= 0)
			break; /* stopped and drained */
	}
	return write(result_fd, &count, sizeof(count)) == sizeof(count) ? 0 : 1;
}

static const char usage[] =
	"usage: udp_flood SRC_NS DST_NS DST_ADDR PORT SECONDS\n";

int main(int argc, char **argv)
{
	int ready[2], stop[2], result[2], port, fd, ncpu;
	struct sockaddr_in dst = { .sin_family = AF_INET };
	static char payload[PAYLOAD];
	struct mmsghdr msgs[BATCH];
	struct iovec iov = { payload, sizeof(payload) };
	unsigned long long sent = 0, received = 0;
	double secs, t0, t1 = 0, cpu0, cpu;
	char c;
	pid_t pid;

	if (bench_help(argc, argv, usage))
		return 0;
	if (argc != 6) {
		fputs(usage, stderr);
		return 2;
	}
	port = atoi(argv[4]);
	secs = atof(argv[5]);
	if (inet_pton(AF_INET, argv[3], &dst.sin_addr) != 1 || port <= 0 ||
	    secs <= 0) {
		fprintf(stderr, "udp_flood: bad address, port or time\n");
		return 2;
	}
	dst.sin_port = htons(port);
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	if (pipe(ready) || pipe(stop) || pipe(result))
		return 1;
	pid = fork();
	if (pid == 0) {
		close(stop[1]);
		pin_cpu(ncpu > 1 ? ncpu - 1 : 0);
		if (enter_netns(argv[2]))
			_exit(1);
		_exit(receiver(port, ready[1], stop[0], result[1]));
	}
	close(stop[0]);
	if (read(ready[0], &c, 1) != 1) {
		fprintf(stderr, "udp_flood: the receiver did not start\n");
		return 1;
	}
	pin_cpu(0);
	if (enter_netns(argv[1]))
		return 1;
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&dst, sizeof(dst))) {
		perror("udp_flood: sender socket");
		return 1;
	}
	for (int i = 0; i < BATCH; i++)
		msgs[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov,
							 .msg_iovlen = 1 } };
	cpu0 = cpu_s();
	t0 = now_s();
	do {
		int n = sendmmsg(fd, msgs, BATCH, 0);

		if (n > 0)
			sent += n;
		else if (errno != ENOBUFS && errno != EAGAIN)
			break;
		t1 = now_s();
	} while (t1 - t0 < secs);
	cpu = cpu_s() - cpu0;
	close(stop[1]);
	if (read(result[0], &received, sizeof(received)) != sizeof(received))
		fprintf(stderr, "udp_flood: no count from the receiver\n");
	waitpid(pid, NULL, 0);
	printf("sent %llu received %llu seconds %.3f pps %.0f cpu %.3f cpupps "
	       "%.0f\n",
	       sent, received, t1 - t0, received / (t1 - t0), cpu,
	       cpu > 0 ? received / cpu : 0);
	return 0;
}
