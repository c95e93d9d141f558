// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* echo.c: `sysflow echo`: answer ARP, ICMP and ICMPv6 echo, IPv6 neighbour
 * solicitations and UDP port 7 from user space through AF_XDP sockets
 * (lib/xsk). The packet logic is the pure function of lib/xsk/echo.c.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sysflow/sysflow.h>
#include "core/core.h"
#include "xsk/echo.h"
#include "cmds.h"

#define MAX_QUEUES 16
#define MAX_BATCH 256
#define SEND_TRIES 64 /* sends of one batch before the rest is dropped */
#define IDLE_WAIT_MS 500
#define FLUSH_MS 500 /* on exit: wait for the last completions */

struct echo_cfg {
	/* rings, UMEM (chunks per queue), need_wakeup, busy polling; the
	 * rest is set per queue by open_queues()
	 */
	struct sf_xsk_opts o;
	const char *ifname;
	const char *addrs;
	uint32_t queue;
	uint32_t queues;
	int mode;
	bool copy;
	bool zerocopy;
	bool shared_umem;
	bool all;
	uint32_t batch;
	bool json;
};

/* clang-format off */
static const char *const mode_names[] = { "auto", "native", "generic", "skb",
					  "driver", NULL };
static const enum sf_xsk_attach mode_attach[] = {
	SF_XSK_ATTACH_AUTO, SF_XSK_ATTACH_NATIVE, SF_XSK_ATTACH_GENERIC,
	SF_XSK_ATTACH_GENERIC, SF_XSK_ATTACH_NATIVE,
};
/* clang-format on */

static const struct echo_cfg defaults_echo = {
	.queues = 1,
	.batch = 64,
};

static void init_echo(void *cfg)
{
	struct sf_xsk_opts *o = &((struct echo_cfg *)cfg)->o;

	sf_xsk_opts_init(o);
	/* 0: --chunks not given, what the rings hold (sf_xsk_chunks_needed()) */
	o->umem_opts.chunk_count = 0;
}

#define OFF(m) offsetof(struct echo_cfg, m)

/* clang-format off */
static const struct opt_def echo_options[] = {
	{ .name = "iface", .positional = true, .required = true,
	  .type = OPT_STRING, .offset = OFF(ifname), .metavar = "IFACE" },
	{ .name = "ip", .type = OPT_STRING, .offset = OFF(addrs),
	  .metavar = "ADDR[,ADDR]", .help = "answer for these addresses "
	  "(default: IFACE's)" },
	{ .name = "queue", .short_name = 'Q', .type = OPT_U32,
	  .offset = OFF(queue), .metavar = "N", .max = 255,
	  .help = "first queue to bind (default 0)" },
	{ .name = "queues", .short_name = 'n', .type = OPT_U32,
	  .offset = OFF(queues), .metavar = "COUNT", .min = 1,
	  .max = MAX_QUEUES, .help = "bind COUNT queues from --queue "
	  "(default 1)" },
	{ .name = "mode", .short_name = 'm', .type = OPT_ENUM,
	  .offset = OFF(mode), .metavar = "MODE", .names = mode_names,
	  .help = "XDP mode (default auto: native, else generic)" },
	{ .name = "copy", .short_name = 'c', .type = OPT_FLAG,
	  .offset = OFF(copy), .help = "force copy mode" },
	{ .name = "zero-copy", .short_name = 'z', .type = OPT_FLAG,
	  .offset = OFF(zerocopy), .help = "force zero-copy (default: the "
	  "best available)" },
	{ .name = "shared-umem", .type = OPT_FLAG, .offset = OFF(shared_umem),
	  .help = "one UMEM for all queues" },
	{ .name = "all", .type = OPT_FLAG, .offset = OFF(all),
	  .help = "steer every frame, not only requests" },
	{ .name = "busy-poll", .type = OPT_FLAG, .offset = OFF(o.busy_poll),
	  .help = "preferred busy polling (spins a CPU)" },
	{ .name = "no-need-wakeup", .type = OPT_FLAG,
	  .offset = OFF(o.no_need_wakeup),
	  .help = "do not use the need_wakeup flag" },
	{ .name = "batch", .short_name = 'b', .type = OPT_U32,
	  .offset = OFF(batch), .metavar = "N", .min = 1, .max = MAX_BATCH,
	  .help = "frames per receive (default 64)" },
	{ .name = "chunks", .type = OPT_U32,
	  .offset = OFF(o.umem_opts.chunk_count),
	  .metavar = "N", .min = 64, .max = 1U << 22, .help = "UMEM chunks "
	  "per queue, at least what the four rings hold (default: that, "
	  "4096)" },
	{ .name = "chunk-size", .type = OPT_U32,
	  .offset = OFF(o.umem_opts.chunk_size),
	  .pow2 = true, .metavar = "BYTES", .min = 2048, .max = 4096,
	  .help = "2048 or 4096 (default " DEFAULT_STR(SF_XSK_CHUNK_SIZE) ")" },
	{ .name = "rx-size", .type = OPT_U32, .offset = OFF(o.rx_size),
	  .pow2 = true, .metavar = "N", .min = 1, .max = 1U << 20,
	  .help = "rx ring entries, a power of two (default "
	  DEFAULT_STR(SF_XSK_RING_SIZE) ")" },
	{ .name = "tx-size", .type = OPT_U32, .offset = OFF(o.tx_size),
	  .pow2 = true, .metavar = "N", .min = 1, .max = 1U << 20,
	  .help = "tx ring entries (default "
	  DEFAULT_STR(SF_XSK_RING_SIZE) ")" },
	{ .name = "fill-size", .type = OPT_U32,
	  .offset = OFF(o.umem_opts.fill_size),
	  .pow2 = true, .metavar = "N", .min = 1, .max = 1U << 20,
	  .help = "fill ring entries (default "
	  DEFAULT_STR(SF_XSK_RING_SIZE) ")" },
	{ .name = "comp-size", .type = OPT_U32,
	  .offset = OFF(o.umem_opts.comp_size),
	  .pow2 = true, .metavar = "N", .min = 1, .max = 1U << 20,
	  .help = "completion ring entries (default "
	  DEFAULT_STR(SF_XSK_RING_SIZE) ")" },
	{ .name = "json", .short_name = 'j', .type = OPT_FLAG,
	  .offset = OFF(json), .help = "statistics as one JSON object" },
	OPT_END,
};
/* clang-format on */

/* Requests only: the host's stack keeps ARP replies, NDP adverts, echo
 * replies to its own pings and everything else.
 */
/* clang-format off */
static const struct sf_xsk_filter echo_filters[] = {
	{ .eth_proto = ETH_P_ARP, .match_port = true, .port = 1 },
	{ .eth_proto = ETH_P_IP, .ip_proto = IPPROTO_ICMP, .match_port = true,
	  .port = 8 },
	{ .eth_proto = ETH_P_IPV6, .ip_proto = IPPROTO_ICMPV6,
	  .match_port = true, .port = 128 },
	{ .eth_proto = ETH_P_IPV6, .ip_proto = IPPROTO_ICMPV6,
	  .match_port = true, .port = 135 },
	{ .ip_proto = IPPROTO_UDP, .match_port = true, .port = SF_ECHO_PORT },
};
/* clang-format on */

struct echo_queue {
	struct sf_xsk *xsk;
	uint32_t pool_start;
	uint64_t tx_dropped;
};

struct echo_run {
	const char *ifname;
	struct sf_echo_cfg ecfg;
	struct sf_xsk_umem *umem; /* --shared-umem */
	struct echo_queue q[MAX_QUEUES];
	unsigned int n;
	uint32_t batch;
	bool verbose;
	bool busy_poll;
	uint64_t answered[SF_ECHO_KIND_MAX]; /* [SF_ECHO_NONE]: ignored */
};

/* ---- the data path ---- */

static void send_all(struct echo_queue *q, struct sf_xsk_pkt *p, unsigned int n)
{
	unsigned int sent = 0;

	for (int i = 0; sent < n && i < SEND_TRIES; i++) {
		sent += sf_xsk_send(q->xsk, p + sent, n - sent);
		if (sent < n)
			sf_xsk_complete(q->xsk);
	}
	if (sent < n) {
		sf_xsk_free(q->xsk, p + sent, n - sent);
		q->tx_dropped += n - sent;
	}
}

static void answer(struct echo_run *r, struct echo_queue *q,
		   struct sf_xsk_pkt *pkts, unsigned int n)
{
	struct sf_xsk_pkt out[MAX_BATCH];
	unsigned int k = 0, drop = 0;
	enum sf_echo_kind kind;
	char line[160];

	for (unsigned int i = 0; i < n; i++) {
		kind = sf_echo_frame(&r->ecfg, pkts[i].data, &pkts[i].len,
				     pkts[i].room);
		r->answered[kind]++;
		if (kind == SF_ECHO_NONE) {
			pkts[drop++] = pkts[i];
			continue;
		}
		if (r->verbose) {
			sf_echo_describe(pkts[i].data, pkts[i].len, kind, line,
					 sizeof(line));
			printf("%s\n", line);
		}
		out[k++] = pkts[i];
	}
	sf_xsk_free(q->xsk, pkts, drop);
	send_all(q, out, k);
}

/* Busy polling still on: sf_xsk_recv() turns it off when the socket has
 * no NAPI to poll (copy mode since Linux 6.13).
 */
static bool busy_polling(const struct echo_run *r)
{
	struct sf_xsk_info in;

	for (unsigned int i = 0; i < r->n; i++) {
		sf_xsk_get_info(r->q[i].xsk, &in);
		if (in.busy_poll)
			return true;
	}
	return false;
}

/* The interface was deleted: the kernel unbinds its AF_XDP sockets and
 * sets ENETDOWN on them (xsk_notifier(), NETDEV_UNREGISTER), but poll()
 * never wakes for it, so an idle loop asks.
 */
static bool iface_gone(const struct echo_run *r)
{
	socklen_t len;
	int err;

	for (unsigned int i = 0; i < r->n; i++) {
		err = 0;
		len = sizeof(err);
		if (!getsockopt(sf_xsk_fd(r->q[i].xsk), SOL_SOCKET, SO_ERROR,
				&err, &len) &&
		    err == ENETDOWN)
			return true;
	}
	return false;
}

/* Answer until SIGINT/SIGTERM or the reader of -v lines leaves (0), or
 * until the interface goes away (1).
 */
static int run(struct echo_run *r)
{
	struct sf_xsk_pkt pkts[MAX_BATCH];
	struct pollfd pfd[MAX_QUEUES];
	unsigned int i, n, pending;
	bool busy;

	for (i = 0; i < r->n; i++)
		pfd[i] = (struct pollfd){ .fd = sf_xsk_fd(r->q[i].xsk),
					  .events = POLLIN };
	while (!sf_exiting) {
		busy = false;
		for (i = 0; i < r->n; i++) {
			n = sf_xsk_recv(r->q[i].xsk, pkts, r->batch);
			if (n) {
				answer(r, &r->q[i], pkts, n);
				busy = true;
			}
		}
		if (busy && r->verbose && ferror(stdout) && cmd_stdout_gone(0))
			return 0; /* echo -v | head: the reader's choice */
		if (busy)
			continue;
		pending = 0;
		for (i = 0; i < r->n; i++)
			pending += sf_xsk_complete(r->q[i].xsk);
		if (r->busy_poll) /* until the library turns it off */
			r->busy_poll = busy_polling(r);
		if (!r->busy_poll) /* wait for frames, or for completions */
			poll(pfd, r->n, pending ? 1 : IDLE_WAIT_MS);
		if (iface_gone(r)) {
			pr_err("%s went away (deleted): its AF_XDP sockets are "
			       "unbound; stopping\n",
			       r->ifname);
			return 1;
		}
	}
	return 0;
}

/* ---- set up and tear down ---- */

static int open_queues(struct echo_cfg *cfg, struct echo_run *r)
{
	struct sf_xsk_opts o = cfg->o;
	int err = 0;

	o.attach = mode_attach[cfg->mode];
	o.copy = cfg->copy     ? SF_XSK_COPY :
		 cfg->zerocopy ? SF_XSK_ZEROCOPY :
				 SF_XSK_COPY_AUTO;
	o.busy_poll_budget = cfg->batch;
	o.filters = cfg->all ? NULL : echo_filters;
	o.n_filters = cfg->all ? 0 : ARRAY_SIZE(echo_filters);
	if (cfg->shared_umem) {
		if (!o.umem_opts.chunk_count)
			o.umem_opts.chunk_count = sf_xsk_chunks_needed(&o);
		o.umem_opts.chunk_count *= cfg->queues;
		r->umem = o.umem = sf_xsk_umem_create(&o.umem_opts, &err);
		if (!r->umem)
			return err;
	}
	for (r->n = 0; r->n < cfg->queues; r->n++) {
		o.queue = cfg->queue + r->n;
		r->q[r->n].xsk = sf_xsk_open(cfg->ifname, &o, &err);
		if (!r->q[r->n].xsk)
			return err;
	}
	/* The pool's level once every fill ring is full: the leak check. */
	for (unsigned int i = 0; i < r->n; i++) {
		struct sf_xsk_stats st;

		sf_xsk_get_stats(r->q[i].xsk, &st);
		r->q[i].pool_start = st.pool_free;
	}
	return 0;
}

static void close_queues(struct echo_run *r)
{
	for (unsigned int i = 0; i < r->n; i++)
		sf_xsk_close(r->q[i].xsk);
	r->n = 0;
	sf_xsk_umem_destroy(r->umem);
}

static void print_start(const struct echo_cfg *cfg, const struct echo_run *r)
{
	char a[INET6_ADDRSTRLEN], list[512] = "", q[32];
	struct sf_xsk_info in;
	size_t len = 0;

	if (cfg->queues > 1)
		snprintf(q, sizeof(q), "queues %u-%u", cfg->queue,
			 cfg->queue + cfg->queues - 1);
	else
		snprintf(q, sizeof(q), "queue %u", cfg->queue);
	sf_xsk_get_info(r->q[0].xsk, &in);
	pr_info("sysflow echo: %s %s, %s XDP, %s mode%s%s%s\n", cfg->ifname, q,
		sf_xsk_attach_name(in.attach),
		in.zerocopy ? "zero-copy" : "copy",
		in.need_wakeup ? ", need_wakeup" : "",
		in.busy_poll ? ", busy poll" : "",
		in.shared_umem ? ", shared UMEM" : "");
	for (unsigned int i = 0; i < r->ecfg.n_ip4 + r->ecfg.n_ip6; i++) {
		if (i < r->ecfg.n_ip4)
			inet_ntop(AF_INET, &r->ecfg.ip4[i], a, sizeof(a));
		else
			inet_ntop(AF_INET6, &r->ecfg.ip6[i - r->ecfg.n_ip4], a,
				  sizeof(a));
		len += snprintf(list + len,
				len < sizeof(list) ? sizeof(list) - len : 0,
				"%s%s", i ? ", " : "", a);
	}
	pr_info("answering for %s\n", list);
	pr_info("ARP, ICMP echo, ICMPv6 echo, NDP and UDP port %d%s; Ctrl-C "
		"to end\n",
		SF_ECHO_PORT, cfg->all ? " (taking every frame)" : "");
}

/* ---- statistics ---- */

#define J(v) ((json_int_t)(v))

static json_t *queue_json(const struct echo_queue *q,
			  const struct sf_xsk_stats *s, uint32_t queue)
{
	return json_pack(
		"{s:i, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
		"s:I, s:I, s:I, s:i, s:i, s:i, s:i}",
		"queue", queue, "rx", J(s->rx), "tx", J(s->tx), "tx_completed",
		J(s->tx_completed), "tx_dropped", J(q->tx_dropped),
		"tx_kick_errors", J(s->tx_kick_errors), "tx_device_dropped",
		J(s->tx_device_dropped), "rx_dropped", J(s->rx_dropped),
		"rx_ring_full", J(s->rx_ring_full), "fill_ring_empty",
		J(s->fill_ring_empty), "tx_ring_empty", J(s->tx_ring_empty),
		"rx_invalid", J(s->rx_invalid), "tx_invalid", J(s->tx_invalid),
		"pool_free", s->pool_free, "pool_free_start", q->pool_start,
		"pool_size", s->pool_size, "tx_in_flight", s->tx_in_flight);
}

static void print_queue(const struct echo_queue *q,
			const struct sf_xsk_stats *s, uint32_t queue)
{
	printf("queue %u: rx %llu, tx %llu (completed %llu, dropped %llu, "
	       "kick errors %llu)\n",
	       queue, (unsigned long long)s->rx, (unsigned long long)s->tx,
	       (unsigned long long)s->tx_completed,
	       (unsigned long long)q->tx_dropped,
	       (unsigned long long)s->tx_kick_errors);
	printf("  device: dropped %llu of the frames sent\n",
	       (unsigned long long)s->tx_device_dropped);
	printf("  kernel: rx dropped %llu, rx ring full %llu, fill ring empty "
	       "%llu,\n          tx ring empty %llu, invalid descriptors rx "
	       "%llu tx %llu\n",
	       (unsigned long long)s->rx_dropped,
	       (unsigned long long)s->rx_ring_full,
	       (unsigned long long)s->fill_ring_empty,
	       (unsigned long long)s->tx_ring_empty,
	       (unsigned long long)s->rx_invalid,
	       (unsigned long long)s->tx_invalid);
	printf("  pool: %u of %u chunks free (%u at start), %u in flight\n",
	       s->pool_free, s->pool_size, q->pool_start, s->tx_in_flight);
}

static void print_stats(const struct echo_cfg *cfg, struct echo_run *r)
{
	json_t *o = NULL, *ans, *queues;
	struct sf_xsk_stats s = {};
	uint64_t *a = r->answered;

	for (unsigned int i = 0; i < r->n; i++)
		sf_xsk_flush(r->q[i].xsk, FLUSH_MS);
	if (cfg->json) {
		ans = json_object();
		for (int k = SF_ECHO_NONE + 1; k < SF_ECHO_KIND_MAX; k++)
			json_object_set_new(ans, sf_echo_kind_name(k),
					    json_integer(J(a[k])));
		queues = json_array();
		o = json_pack("{s:s, s:o, s:I, s:o}", "ifname", cfg->ifname,
			      "answered", ans, "ignored", J(a[SF_ECHO_NONE]),
			      "queues", queues);
	} else {
		printf("%s: answered arp %llu, icmp %llu, icmp6 %llu, ndp %llu, "
		       "udp %llu, udp6 %llu;\n  ignored %llu\n",
		       cfg->ifname, (unsigned long long)a[SF_ECHO_ARP],
		       (unsigned long long)a[SF_ECHO_ICMP],
		       (unsigned long long)a[SF_ECHO_ICMP6],
		       (unsigned long long)a[SF_ECHO_NDP],
		       (unsigned long long)a[SF_ECHO_UDP],
		       (unsigned long long)a[SF_ECHO_UDP6],
		       (unsigned long long)a[SF_ECHO_NONE]);
	}
	for (unsigned int i = 0; i < r->n; i++) {
		if (sf_xsk_get_stats(r->q[i].xsk, &s))
			pr_warn("cannot read the statistics of queue %u\n",
				cfg->queue + i);
		if (o)
			json_array_append_new(queues,
					      queue_json(&r->q[i], &s,
							 cfg->queue + i));
		else
			print_queue(&r->q[i], &s, cfg->queue + i);
	}
	/* s holds the last queue's: the XDP counters are per interface. */
	if (o) {
		json_object_set_new(o, "xdp",
				    json_pack("{s:I, s:I, s:I}", "steered",
					      J(s.xdp_steered), "passed",
					      J(s.xdp_passed), "no_socket",
					      J(s.xdp_no_socket)));
		cmd_print_json(o);
	} else {
		printf("xdp on %s: steered %llu, passed %llu, no socket %llu\n",
		       cfg->ifname, (unsigned long long)s.xdp_steered,
		       (unsigned long long)s.xdp_passed,
		       (unsigned long long)s.xdp_no_socket);
	}
	fflush(stdout);
}

/* ---- the command ---- */

/* --ip: every entry an IPv4 or IPv6 address, checked before anything
 * is attached (a bad value is a usage error).
 */
static int check_addrs(const char *list)
{
	char tok[INET6_ADDRSTRLEN + 1];
	uint8_t a[16];

	for (const char *p = list; p && (*p || p == list); p += *p == ',') {
		size_t len = strcspn(p, ",");

		snprintf(tok, sizeof(tok), "%.*s", (int)len, p);
		if (!len || len >= sizeof(tok) ||
		    (inet_pton(AF_INET, tok, a) != 1 &&
		     inet_pton(AF_INET6, tok, a) != 1)) {
			fprintf(stderr,
				"sysflow echo: invalid value '%.*s' for --ip: "
				"not an IPv4 or IPv6 address\n",
				(int)len, p);
			params_usage(&cmd_echo, stderr, false);
			return EXIT_USAGE;
		}
		p += len;
	}
	return 0;
}

/* --chunks: at least what the rings of a queue hold, or chunks in flight
 * on transmit leave the fill ring short by design (sf_xsk_chunks_needed()).
 */
static int check_chunks(const struct sf_xsk_opts *o)
{
	uint32_t need = sf_xsk_chunks_needed(o);

	if (!o->umem_opts.chunk_count || o->umem_opts.chunk_count >= need)
		return 0;
	fprintf(stderr,
		"sysflow echo: --chunks %u is fewer than the rings of a queue "
		"hold: --fill-size %u + --rx-size %u + --tx-size %u + "
		"--comp-size %u = %u; chunks in flight would leave the fill "
		"ring short. Give --chunks %u or more, or smaller rings\n",
		o->umem_opts.chunk_count, o->umem_opts.fill_size, o->rx_size,
		o->tx_size, o->umem_opts.comp_size, need, need);
	params_usage(&cmd_echo, stderr, false);
	return EXIT_USAGE;
}

static int check_cfg(const struct echo_cfg *cfg)
{
	if (check_addrs(cfg->addrs) || check_chunks(&cfg->o))
		return EXIT_USAGE;
	if (cfg->copy && cfg->zerocopy) {
		fprintf(stderr, "sysflow echo: --copy and --zero-copy exclude "
				"each other\n");
		params_usage(&cmd_echo, stderr, false);
		return EXIT_USAGE;
	}
	return 0;
}

static int echo_addresses(const struct echo_cfg *cfg, struct sf_echo_cfg *e)
{
	if (sf_echo_cfg_from_iface(e, cfg->ifname))
		return -1;
	if (cfg->addrs && sf_echo_cfg_set_addrs(e, cfg->addrs))
		return -1;
	if (!e->n_ip4 && !e->n_ip6) {
		pr_err("%s has no IPv4 or IPv6 address; give one with --ip\n",
		       cfg->ifname);
		return -1;
	}
	return 0;
}

static int do_echo(void *arg)
{
	struct echo_cfg *cfg = arg;
	struct echo_run *r;
	int ifindex, rc, err;

	rc = check_cfg(cfg);
	if (rc)
		return rc;
	if (sf_check_privileges("sysflow echo") ||
	    sf_iface_index(cfg->ifname, &ifindex) || sf_signals_install())
		return 1;
	r = calloc(1, sizeof(*r));
	if (!r)
		return 1;
	r->ifname = cfg->ifname;
	r->batch = cfg->batch;
	r->verbose = common_opts.verbose > 0;
	r->busy_poll = cfg->o.busy_poll;
	if (echo_addresses(cfg, &r->ecfg)) {
		free(r);
		return 1;
	}
	if (r->verbose)
		setvbuf(stdout, NULL, _IOLBF, 0);
	sf_log_quiet_libbpf(common_opts.verbose < 2);
	err = open_queues(cfg, r);
	sf_log_quiet_libbpf(false);
	rc = 1;
	if (!err) {
		print_start(cfg, r);
		rc = run(r);
		print_stats(cfg, r);
	}
	close_queues(r);
	free(r);
	return rc;
}

const struct cmd_def cmd_echo = {
	.name = "echo",
	.run = do_echo,
	.opts = echo_options,
	.defaults = &defaults_echo,
	.init = init_echo,
	.cfg_size = sizeof(struct echo_cfg),
	.summary = "answer ARP, ping, ping -6 and UDP echo through AF_XDP",
	.doc = "Binds AF_XDP sockets to queues of IFACE and attaches an XDP "
	       "program that\nsteers ARP requests, ICMP and ICMPv6 echo "
	       "requests, neighbour\nsolicitations and UDP to port 7 into "
	       "them; everything else goes on to the\nkernel stack. Answers "
	       "are made in user space, in the received chunk, and\nsent "
	       "back. -v prints one line per answer; Ctrl-C prints the "
	       "statistics.\nNeeds root, or CAP_NET_RAW, CAP_NET_ADMIN, "
	       "CAP_BPF and CAP_PERFMON.\n",
	.examples =
		"  sysflow echo veth1                    # answer for veth1's "
		"addresses\n"
		"  sysflow echo eth0 --ip 192.0.2.7 -v   # another address, "
		"one line each\n"
		"  sysflow echo eth0 -n 4 --shared-umem  # queues 0-3, one "
		"UMEM\n"
		"  sysflow echo veth1 -m generic -j      # skb mode, JSON "
		"statistics\n",
};
