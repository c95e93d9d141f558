// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* op_cost.c: ns per connect() or per open() as this process sees it, for
 * bench/guard/run.sh, which runs it inside the agent's cgroup with and
 * without rules. connect() is a UDP connect to 127.0.0.1:PORT: it runs the
 * cgroup connect4 hook and sends no packet, so the hook's cost is not
 * lost in a TCP handshake. open() is open+close of PATH on a mount that
 * the agent watches with fanotify.
 *   op_cost connect PORT N | op_cost open PATH N
 * Prints the median over 9 rounds of N calls, in ns per call.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "bench.h"

#define ROUNDS 9

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static const char usage[] =
	"usage: op_cost connect PORT N | op_cost open PATH N\n";

int main(int argc, char **argv)
{
	double r[ROUNDS];
	long n;
	int fd = -1;
	struct sockaddr_in sa = { .sin_family = AF_INET };

	if (bench_help(argc, argv, usage))
		return 0;
	if (argc != 4) {
		fputs(usage, stderr);
		return 2;
	}
	n = atol(argv[3]);
	if (!strcmp(argv[1], "connect")) {
		fd = socket(AF_INET, SOCK_DGRAM, 0);
		sa.sin_port = htons(atoi(argv[2]));
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (fd < 0)
			return 1;
	}
	for (int k = 0; k < ROUNDS; k++) {
		double t0 = now_ns();

		for (long i = 0; i < n; i++) {
			if (fd >= 0) {
				if (connect(fd, (struct sockaddr *)&sa,
					    sizeof(sa)))
					return perror("connect"), 1;
			} else {
				int f = open(argv[2], O_RDONLY);

				if (f < 0)
					return perror("open"), 1;
				close(f);
			}
		}
		r[k] = (now_ns() - t0) / n;
	}
	qsort(r, ROUNDS, sizeof(r[0]), cmp);
	printf("%.0f\n", r[ROUNDS / 2]);
	return 0;
}
