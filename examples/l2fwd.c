// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* l2fwd.c: a two-port Ethernet forwarder on libsysflow's AF_XDP sockets,
 * an example of the public API (<sysflow/xsk.h>) only. Every frame that
 * arrives on a queue of IFACE_A leaves through IFACE_B, and back, like a
 * wire between them.
 *
 * By default both sockets share one UMEM, so a frame leaves from the very
 * chunk it arrived in: no copy. With -p each socket has its own UMEM and
 * each frame is copied into a chunk of the other (sf_xsk_alloc()).
 *
 * Build (from the tree):  make examples   or
 *   cc -Iinclude examples/l2fwd.c build/libsysflow.a \
 *      $(pkg-config --libs libbpf libxdp jansson libpcap) -lelf -lz -lm
 * Run:  sudo scripts/lab up && sudo build/examples/l2fwd veth0 veth2
 *       then test1 (10.0.0.5) and test2 (10.0.0.7) reach each other.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysflow/log.h>
#include <sysflow/xsk.h>

#define BATCH 64
#define SEND_TRIES 64

struct port {
	const char *ifname;
	struct sf_xsk *xsk;
	uint64_t forwarded; /* frames received here and sent on the other */
	uint64_t dropped; /* ... that the other port could not take */
};

static volatile sig_atomic_t stop;
static bool copy_mode;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(FILE *out)
{
	fprintf(out, "Usage: l2fwd [-q QUEUE] [-m auto|native|generic] [-c] "
		     "[-p] [-v] IFACE_A IFACE_B\n"
		     "Forward every frame between IFACE_A and IFACE_B through "
		     "AF_XDP sockets.\n"
		     "  -q QUEUE  queue of both interfaces (default 0)\n"
		     "  -m MODE   XDP mode (default auto)\n"
		     "  -c        force copy mode\n"
		     "  -p        private UMEMs: copy each frame between them\n"
		     "  -v        debug messages\n");
}

/* Copy frames into chunks of dst's UMEM; src's chunks go back at once. */
static unsigned int copy_over(struct port *src, struct port *dst,
			      struct sf_xsk_pkt *pkts, unsigned int n)
{
	struct sf_xsk_pkt out[BATCH];
	unsigned int k = sf_xsk_alloc(dst->xsk, out, n);

	for (unsigned int i = 0; i < k; i++) {
		out[i].len = pkts[i].len <= out[i].room ? pkts[i].len :
							  out[i].room;
		memcpy(out[i].data, pkts[i].data, out[i].len);
	}
	sf_xsk_free(src->xsk, pkts, n);
	src->dropped += n - k;
	memcpy(pkts, out, k * sizeof(*out));
	return k;
}

static unsigned int forward(struct port *src, struct port *dst)
{
	struct sf_xsk_pkt pkts[BATCH];
	unsigned int n, sent = 0;

	n = sf_xsk_recv(src->xsk, pkts, BATCH);
	if (!n)
		return 0;
	if (copy_mode)
		n = copy_over(src, dst, pkts, n);
	for (int i = 0; sent < n && i < SEND_TRIES; i++) {
		sent += sf_xsk_send(dst->xsk, pkts + sent, n - sent);
		if (sent < n)
			sf_xsk_complete(dst->xsk);
	}
	/* Shared UMEM: either socket may free; private: dst owns them. */
	sf_xsk_free(dst->xsk, pkts + sent, n - sent);
	src->forwarded += sent;
	src->dropped += n - sent;
	return n;
}

static void print_port(const struct port *p)
{
	struct sf_xsk_stats s;

	if (sf_xsk_get_stats(p->xsk, &s))
		return;
	printf("%s: forwarded %llu, dropped %llu; rx %llu, tx %llu, rx ring "
	       "full %llu, fill ring empty %llu; pool %u of %u free\n",
	       p->ifname, (unsigned long long)p->forwarded,
	       (unsigned long long)p->dropped, (unsigned long long)s.rx,
	       (unsigned long long)s.tx, (unsigned long long)s.rx_ring_full,
	       (unsigned long long)s.fill_ring_empty, s.pool_free, s.pool_size);
}

static enum sf_xsk_attach parse_mode(const char *s)
{
	if (!strcmp(s, "native"))
		return SF_XSK_ATTACH_NATIVE;
	if (!strcmp(s, "generic") || !strcmp(s, "skb"))
		return SF_XSK_ATTACH_GENERIC;
	if (strcmp(s, "auto")) {
		fprintf(stderr, "l2fwd: unknown mode '%s'\n", s);
		usage(stderr);
		exit(2);
	}
	return SF_XSK_ATTACH_AUTO;
}

int main(int argc, char **argv)
{
	struct sf_xsk_opts o;
	struct sf_xsk_umem *umem = NULL;
	struct port a = {}, b = {};
	struct sigaction sa = { .sa_handler = on_signal };
	struct pollfd pfd[2];
	int c, err = 0;

	sf_log_init();
	sf_xsk_opts_init(&o);
	while ((c = getopt(argc, argv, "q:m:cpvh")) != -1) {
		switch (c) {
		case 'q':
			o.queue = strtoul(optarg, NULL, 10);
			break;
		case 'm':
			o.attach = parse_mode(optarg);
			break;
		case 'c':
			o.copy = SF_XSK_COPY;
			break;
		case 'p':
			copy_mode = true;
			break;
		case 'v':
			sf_log_set_level(SF_LOG_DEBUG);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (argc - optind != 2) {
		usage(stderr);
		return 2;
	}
	a.ifname = argv[optind];
	b.ifname = argv[optind + 1];
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	if (!copy_mode) {
		/* Chunks for the four rings of both sockets. */
		struct sf_xsk_umem_opts uo;

		sf_xsk_umem_opts_init(&uo);
		uo.chunk_count = 2 * sf_xsk_chunks_needed(&o);
		umem = o.umem = sf_xsk_umem_create(&uo, &err);
		if (!umem)
			return 1;
	}
	a.xsk = sf_xsk_open(a.ifname, &o, &err);
	if (a.xsk)
		b.xsk = sf_xsk_open(b.ifname, &o, &err);
	if (!a.xsk || !b.xsk)
		goto out;
	pfd[0] = (struct pollfd){ .fd = sf_xsk_fd(a.xsk), .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = sf_xsk_fd(b.xsk), .events = POLLIN };
	fprintf(stderr, "l2fwd: %s <-> %s queue %u, %s; Ctrl-C to end\n",
		a.ifname, b.ifname, o.queue,
		copy_mode ? "copying between UMEMs" : "one shared UMEM");

	while (!stop) {
		if (forward(&a, &b) + forward(&b, &a))
			continue;
		if (sf_xsk_complete(a.xsk) + sf_xsk_complete(b.xsk))
			poll(pfd, 2, 1); /* completions due: check again soon */
		else
			poll(pfd, 2, 500);
	}
	sf_xsk_flush(a.xsk, 200);
	sf_xsk_flush(b.xsk, 200);
	print_port(&a);
	print_port(&b);
out:
	sf_xsk_close(b.xsk);
	sf_xsk_close(a.xsk);
	sf_xsk_umem_destroy(umem);
	return err ? 1 : 0;
}
