// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* agents_sim.c: many simulated agents against a real `sysflow
 * controller`: each connects over loopback, does the handshake with its
 * own host id, then sends EVENT_IN messages at a fixed rate, answering
 * ECHO, from one epoll loop.
 *   agents_sim PORT AGENTS EVENTS_PER_SEC_EACH SECONDS
 * Prints "sent N" when done; the controller's own count (ctl stats) is
 * what run.sh reports as handled.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <sysflow/proto.h>
#include "bench.h"

struct sim {
	int fd;
	struct sfp_stream in;
	struct sfp_buf out;
	bool up;
	int id;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void flush(struct sim *a)
{
	while (a->out.len) {
		ssize_t n = send(a->fd, a->out.data, a->out.len,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n <= 0)
			return;
		sfp_buf_consume(&a->out, n);
	}
}

static void on_msg(struct sim *a, const uint8_t *p, size_t len)
{
	struct sfp_msg m;

	if (sfp_decode(p, len, &m))
		return;
	if (m.h.type == SFP_FEATURES_REQUEST) {
		struct sfp_msg r = { .h = { .type = SFP_FEATURES_REPLY,
					    .xid = m.h.xid } };

		r.features.host_id[0] = 0x5e;
		r.features.host_id[12] = a->id >> 24;
		r.features.host_id[13] = a->id >> 16;
		r.features.host_id[14] = a->id >> 8;
		r.features.host_id[15] = a->id;
		snprintf(r.features.hostname, sizeof(r.features.hostname),
			 "sim%d", a->id);
		snprintf(r.features.kernel, sizeof(r.features.kernel), "sim");
		sfp_encode(&a->out, &r);
		a->up = true;
	} else if (m.h.type == SFP_ECHO_REQUEST) {
		sfp_encode_echo(&a->out, SFP_ECHO_REPLY, m.h.xid, m.echo.data,
				m.echo.len);
	}
	sfp_msg_free(&m);
}

static const char usage[] =
	"usage: agents_sim PORT AGENTS EVENTS_PER_SEC_EACH SECONDS\n";

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int n, rate, secs, ep = epoll_create1(0), up = 0;
	struct sim *sims;
	unsigned long long sent = 0;
	double t0, next;
	struct sfp_msg ev = { .h = { .type = SFP_EVENT_IN } };

	if (bench_help(argc, argv, usage))
		return 0;
	if (argc != 5) {
		fputs(usage, stderr);
		return 2;
	}
	n = atoi(argv[2]);
	rate = atoi(argv[3]);
	secs = atoi(argv[4]);
	sims = calloc(n, sizeof(*sims));
	sa.sin_port = htons(atoi(argv[1]));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ev.event.op = SF_OP_SOCKET_CONNECT;
	ev.event.verdict = SF_ACT_ALLOW;
	ev.event.pid = 1234;
	strcpy(ev.event.exe, "/usr/bin/simulated");
	strcpy(ev.event.object, "127.0.0.1:80");
	for (int i = 0; i < n; i++) {
		struct sfp_msg h = { .h = { .type = SFP_HELLO, .xid = 1 } };
		struct epoll_event e = { .events = EPOLLIN, .data.u32 = i };
		int one = 1;

		sims[i].id = i;
		sims[i].fd = socket(AF_INET, SOCK_STREAM, 0);
		if (connect(sims[i].fd, (struct sockaddr *)&sa, sizeof(sa)))
			return perror("connect"), 1;
		setsockopt(sims[i].fd, IPPROTO_TCP, TCP_NODELAY, &one,
			   sizeof(one));
		fcntl(sims[i].fd, F_SETFL, O_NONBLOCK);
		sfp_stream_init(&sims[i].in, 0);
		h.hello_versions = SFP_VERSIONS_SUPPORTED;
		sfp_encode(&sims[i].out, &h);
		flush(&sims[i]);
		epoll_ctl(ep, EPOLL_CTL_ADD, sims[i].fd, &e);
	}
	t0 = now_s();
	next = t0;
	while (now_s() - t0 < secs + 5) {
		struct epoll_event evs[64];
		int k = epoll_wait(ep, evs, 64, 1);

		for (int i = 0; i < k; i++) {
			struct sim *a = &sims[evs[i].data.u32];
			uint8_t buf[16384];
			ssize_t r = read(a->fd, buf, sizeof(buf));
			const uint8_t *p;
			size_t len;

			if (r <= 0)
				continue;
			sfp_stream_feed(&a->in, buf, r);
			while (sfp_stream_next(&a->in, &p, &len) == 1)
				on_msg(a, p, len);
			flush(a);
		}
		if (up < n) {
			up = 0;
			for (int i = 0; i < n; i++)
				up += sims[i].up;
			if (up == n) {
				t0 = now_s();
				next = t0;
				fprintf(stderr, "%d agents up\n", n);
			}
			continue;
		}
		if (now_s() - t0 >= secs)
			break;
		/* every 10 ms, each agent sends rate/100 events */
		if (now_s() >= next) {
			next += 0.01;
			for (int i = 0; i < n; i++) {
				for (int j = 0; j < rate / 100; j++) {
					ev.h.xid = 0;
					ev.event.time_ns = sent;
					sfp_encode(&sims[i].out, &ev);
					sent++;
				}
				flush(&sims[i]);
			}
		}
	}
	for (int i = 0; i < n; i++)
		flush(&sims[i]);
	printf("sent %llu in %.2f s\n", sent, now_s() - t0);
	fflush(stdout);
	sleep(1); /* let the controller drain before the sockets close */
	return 0;
}
