// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* udp_rr.c: UDP request/response round-trip time for the route benchmark.
 *   udp_rr server PORT             echo every datagram back
 *   udp_rr client IP PORT COUNT    one request in flight at a time
 * The client prints "rtt_us p50 P p99 P avg A n N lost L".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "bench.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int server(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(port) };
	struct sockaddr_in peer;
	socklen_t len;
	char buf[2048];
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (fd < 0 || bind(fd, (void *)&a, sizeof(a))) {
		perror("udp_rr server");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		ssize_t n;

		len = sizeof(peer);
		n = recvfrom(fd, buf, sizeof(buf), 0, (void *)&peer, &len);
		if (n > 0)
			sendto(fd, buf, n, 0, (void *)&peer, len);
	}
}

static int client(const char *ip, int port, int count)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(port) };
	uint64_t *rtt = calloc(count, sizeof(*rtt)), sum = 0;
	int fd = socket(AF_INET, SOCK_DGRAM, 0), n = 0, lost = 0;
	char buf[64] = {};

	if (fd < 0 || !rtt || inet_pton(AF_INET, ip, &a.sin_addr) != 1 ||
	    connect(fd, (void *)&a, sizeof(a))) {
		perror("udp_rr client");
		return 1;
	}
	for (int i = 0; i < count; i++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		uint64_t t0 = now_ns();

		memcpy(buf, &i, sizeof(i));
		if (send(fd, buf, 32, 0) != 32 || poll(&p, 1, 200) != 1 ||
		    recv(fd, buf, sizeof(buf), 0) <= 0) {
			lost++;
			continue;
		}
		rtt[n] = now_ns() - t0;
		sum += rtt[n++];
	}
	if (!n) {
		printf("rtt_us p50 0 p99 0 avg 0 n 0 lost %d\n", lost);
		return 1;
	}
	qsort(rtt, n, sizeof(*rtt), cmp);
	printf("rtt_us p50 %.2f p99 %.2f avg %.2f n %d lost %d\n",
	       rtt[n / 2] / 1e3, rtt[n * 99 / 100] / 1e3, sum / 1e3 / n, n,
	       lost);
	free(rtt);
	return 0;
}

static const char usage[] =
	"usage: udp_rr server PORT | udp_rr client IP PORT COUNT\n";

int main(int argc, char **argv)
{
	if (bench_help(argc, argv, usage))
		return 0;
	if (argc == 3 && !strcmp(argv[1], "server"))
		return server(atoi(argv[2]));
	if (argc == 5 && !strcmp(argv[1], "client"))
		return client(argv[2], atoi(argv[3]), atoi(argv[4]));
	fputs(usage, stderr);
	return 64;
}
