// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* install_lat.c: latency from FLOW_MOD sent to rule in force. It plays
 * the controller for one agent: after the handshake it sends, N times, a
 * FLOW_MOD that denies UDP connect() to a fresh port, then spins on
 * connect() to that port until it fails with EPERM (run.sh puts this
 * process in the agent's cgroup). The time from the send() to the first
 * EPERM is the install latency; FLOW_MOD to BARRIER_REPLY is printed too.
 *   install_lat PORT N    (listens on 127.0.0.1:PORT for the agent)
 * Prints "p50_us p99_us barrier_p50_us barrier_p99_us".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sysflow/proto.h>
#include "bench.h"

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int send_msg(int fd, struct sfp_msg *m)
{
	struct sfp_buf b = {};
	int rc = sfp_encode(&b, m);

	if (!rc && write(fd, b.data, b.len) != (ssize_t)b.len)
		rc = -EIO;
	sfp_buf_free(&b);
	return rc;
}

/* Read until a message of type want arrives (answering ECHO). */
static int wait_type(int fd, struct sfp_stream *s, uint8_t want)
{
	for (;;) {
		const uint8_t *p;
		size_t len;
		uint8_t buf[65536];
		ssize_t n;

		while (sfp_stream_next(s, &p, &len) == 1) {
			struct sfp_header h;

			sfp_header_read(p, &h);
			if (h.type == SFP_ECHO_REQUEST) {
				struct sfp_msg r = {
					.h = { .type = SFP_ECHO_REPLY,
					       .xid = h.xid }
				};
				send_msg(fd, &r);
			}
			if (h.type == SFP_ERROR) {
				fprintf(stderr, "agent sent ERROR\n");
				return -1;
			}
			if (h.type == want)
				return 0;
		}
		n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			return -1;
		sfp_stream_feed(s, buf, n);
	}
}

static const char usage[] = "usage: install_lat PORT N\n";

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int n, ls, fd, udp, one = 1;
	struct sfp_stream s;
	double *lat, *bar;

	if (bench_help(argc, argv, usage))
		return 0;
	if (argc != 3) {
		fputs(usage, stderr);
		return 2;
	}
	n = atoi(argv[2]);
	lat = calloc(n, sizeof(*lat));
	bar = calloc(n, sizeof(*bar));
	ls = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	sa.sin_port = htons(atoi(argv[1]));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(ls, (struct sockaddr *)&sa, sizeof(sa)) || listen(ls, 1))
		return perror("listen"), 1;
	printf("listening\n");
	fflush(stdout);
	fd = accept(ls, NULL, NULL);
	if (fd < 0)
		return 1;
	setsockopt(fd, IPPROTO_TCP, 1 /* TCP_NODELAY */, &one, sizeof(one));
	sfp_stream_init(&s, 0);
	{
		struct sfp_msg h = { .h = { .type = SFP_HELLO, .xid = 1 } };
		struct sfp_msg f = { .h = { .type = SFP_FEATURES_REQUEST,
					    .xid = 2 } };

		h.hello_versions = SFP_VERSIONS_SUPPORTED;
		send_msg(fd, &h);
		if (wait_type(fd, &s, SFP_HELLO))
			return 1;
		send_msg(fd, &f);
		if (wait_type(fd, &s, SFP_FEATURES_REPLY))
			return 1;
	}
	udp = socket(AF_INET, SOCK_DGRAM, 0);
	for (int i = 0; i < n; i++) {
		struct sfp_msg m = { .h = { .type = SFP_FLOW_MOD,
					    .xid = 100 + 2 * i } };
		struct sfp_msg b = { .h = { .type = SFP_BARRIER_REQUEST,
					    .xid = 101 + 2 * i } };
		struct sockaddr_in d = sa;
		double t0;

		d.sin_port = htons(40000 + i);
		m.flow_mod.command = SFP_FM_ADD;
		m.flow_mod.priority = 100;
		m.flow_mod.cookie = i + 1;
		m.flow_mod.match.op = SF_OP_SOCKET_CONNECT;
		m.flow_mod.match.fields = SFP_F(SFP_F_PORT);
		m.flow_mod.match.port_lo = m.flow_mod.match.port_hi = 40000 + i;
		m.flow_mod.n_actions = 1;
		m.flow_mod.actions[0].type = SF_ACT_DENY;
		t0 = now_us();
		send_msg(fd, &m);
		send_msg(fd, &b);
		while (!connect(udp, (struct sockaddr *)&d, sizeof(d)) ||
		       errno != EPERM) {
			if (now_us() - t0 > 2e6)
				return fprintf(stderr,
					       "rule %d never in "
					       "force\n",
					       i),
				       1;
		}
		lat[i] = now_us() - t0;
		if (wait_type(fd, &s, SFP_BARRIER_REPLY))
			return 1;
		bar[i] = now_us() - t0;
	}
	qsort(lat, n, sizeof(*lat), cmp);
	qsort(bar, n, sizeof(*bar), cmp);
	printf("%.0f %.0f %.0f %.0f\n", lat[n / 2], lat[n * 99 / 100],
	       bar[n / 2], bar[n * 99 / 100]);
	return 0;
}
