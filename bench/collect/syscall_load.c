// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* syscall_load.c: the syscall-heavy workload of bench/collect/run.sh. One
 * thread repeats: open, pread, pwrite, close of a file; send and recv both
 * ways on a loopback TCP connection; every 100 rounds a new connection
 * (socket, connect, accept, close x2); every EXEC_EVERY rounds a fork and
 * exec of /bin/true. Paced to -r syscalls per second (0: as fast as it
 * can), it prints one JSON line: syscalls made, wall and CPU seconds.
 *
 *	syscall_load -d SECONDS [-r SYSCALLS_PER_S] [-e EXEC_EVERY] -f FILE
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "bench.h"

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static double cpu_seconds(void)
{
	struct rusage s, c;

	getrusage(RUSAGE_SELF, &s);
	getrusage(RUSAGE_CHILDREN, &c);
	return s.ru_utime.tv_sec + s.ru_utime.tv_usec / 1e6 + s.ru_stime.tv_sec +
	       s.ru_stime.tv_usec / 1e6 + c.ru_utime.tv_sec +
	       c.ru_utime.tv_usec / 1e6 + c.ru_stime.tv_sec +
	       c.ru_stime.tv_usec / 1e6;
}

struct conn {
	int lfd, c, s;
	struct sockaddr_in addr;
	long syscalls;
};

static void die(const char *what)
{
	fprintf(stderr, "syscall_load: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void reconnect(struct conn *k)
{
	int one = 1;

	if (k->c >= 0) {
		close(k->c);
		close(k->s);
		k->syscalls += 2;
	}
	k->c = socket(AF_INET, SOCK_STREAM, 0);
	if (k->c < 0 || connect(k->c, (void *)&k->addr, sizeof(k->addr)))
		die("connect");
	k->s = accept(k->lfd, NULL, NULL);
	if (k->s < 0)
		die("accept");
	setsockopt(k->c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(k->s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	k->syscalls += 5;
}

static void setup(struct conn *k)
{
	socklen_t len = sizeof(k->addr);

	k->c = k->s = -1;
	k->lfd = socket(AF_INET, SOCK_STREAM, 0);
	k->addr.sin_family = AF_INET;
	k->addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (k->lfd < 0 || bind(k->lfd, (void *)&k->addr, sizeof(k->addr)) ||
	    listen(k->lfd, 16) || getsockname(k->lfd, (void *)&k->addr, &len))
		die("listen");
	reconnect(k);
}

static void run_exec(struct conn *k)
{
	pid_t pid = fork();

	if (pid < 0)
		die("fork");
	if (!pid) {
		execl("/bin/true", "true", (char *)NULL);
		_exit(127);
	}
	waitpid(pid, NULL, 0);
	k->syscalls += 3; /* fork, execve, wait4 */
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: syscall_load -d SEC [-r RATE] [-e EXEC_EVERY] "
		"[-f FILE]\n"
		"  -d  seconds to run (default 5)\n"
		"  -r  syscalls per second, 0: as fast as it can (default)\n"
		"  -e  a fork and exec every N rounds (default 2000)\n"
		"  -f  the file it reads and writes "
		"(default /tmp/syscall_load.dat)\n"
		"  -h, --help  this help\n");
}

int main(int argc, char **argv)
{
	double secs = 5, rate = 0, start, end, cpu0;
	long exec_every = 2000, rounds = 0;
	const char *file = "/tmp/syscall_load.dat";
	struct conn k = {};
	char buf[4096] = {};
	int opt, fd;

	while ((opt = bench_getopt(argc, argv, "d:r:e:f:h")) != -1) {
		switch (opt) {
		case 'd':
			secs = atof(optarg);
			break;
		case 'r':
			rate = atof(optarg);
			break;
		case 'e':
			exec_every = atol(optarg);
			break;
		case 'f':
			file = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	fd = open(file, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, buf, sizeof(buf)) != sizeof(buf))
		die(file);
	close(fd);
	setup(&k);
	k.syscalls = 0;
	cpu0 = cpu_seconds();
	start = now();
	end = start + secs;
	for (;;) {
		double t;

		fd = open(file, O_RDWR);
		if (fd < 0 || pread(fd, buf, 512, 0) != 512 ||
		    pwrite(fd, buf, 512, 512) != 512)
			die("file");
		close(fd);
		if (send(k.c, buf, 64, 0) != 64 || recv(k.s, buf, 64, 0) != 64 ||
		    send(k.s, buf, 64, 0) != 64 || recv(k.c, buf, 64, 0) != 64)
			die("socket");
		k.syscalls += 8;
		rounds++;
		if (rounds % 100 == 0)
			reconnect(&k);
		if (exec_every && rounds % exec_every == 0)
			run_exec(&k);
		if (rounds % 16)
			continue;
		t = now();
		if (t >= end)
			break;
		if (rate > 0) { /* ahead of the target rate: wait */
			double due = start + k.syscalls / rate;

			if (due > t) {
				struct timespec ts = {
					(time_t)(due - t),
					(long)((due - t - (time_t)(due - t)) * 1e9),
				};

				nanosleep(&ts, NULL);
			}
		}
	}
	end = now();
	printf("{\"syscalls\": %ld, \"wall_s\": %.4f, \"cpu_s\": %.4f, "
	       "\"rate\": %.0f, \"rounds\": %ld}\n", k.syscalls, end - start,
	       cpu_seconds() - cpu0, k.syscalls / (end - start), rounds);
	return 0;
}
