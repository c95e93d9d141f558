// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_flowmon_prog.c: the XDP flow monitor program run on hand-crafted
 * frames with BPF_PROG_TEST_RUN (libsysflow's offline mode). Every case
 * runs in each pipeline (single, tail_meta, tail_map) and asserts the exact
 * flow records (key, packets, bytes = IP total lengths, TTL, IP length and
 * TCP window ranges, TCP flags, ToS, first/last seen, DPI fields) and every
 * per-CPU counter.
 *
 * Covered:
 *  - TCP and UDP over IPv4 and IPv6; ICMP echo (sport = identifier) and
 *    non-echo (sport 0); ICMPv6 echo and neighbour solicitation; GRE and
 *    SCTP counted with ports 0.
 *  - 802.1Q, QinQ (802.1ad outer, 802.1Q inner), four tags (accounted),
 *    five tags (malformed); ARP and another EtherType (not IP).
 *  - IPv4 options (ihl 6 and 15). IPv4 fragments: the first teaches the
 *    ports, later ones borrow them (two interleaved datagrams); a later
 *    fragment whose first was not seen gets ports 0 (frag_unmatched).
 *  - IPv6 hop-by-hop, routing, destination-options and fragment headers
 *    chained in several orders; 8 headers accounted, 9 malformed; IPv6
 *    fragments, matched and not.
 *  - Every prefix of six frames (TCP/IPv4, UDP/IPv6 with extension
 *    headers, QinQ, IPv4 options, ICMPv6 over 802.1Q, GRE), shorter than
 *    an Ethernet header included: truncated, or the right flow.
 *  - Malformed: IPv4 version, ihl < 5, total length < header (with and
 *    without options), IPv6 version, TCP doff < 5, UDP length < 8.
 *  - -p eth,ipv4,tcp: UDP, ICMP, IPv6 and both fragments of a UDP datagram
 *    count as proto_skipped and make no flow.
 *  - A 16-entry table and 40 flows: table_full counts the rest exactly.
 *  - DPI: DNS query and NXDOMAIN answer, HTTP GET and POST with Host, TLS
 *    ClientHello with SNI, SSH identification of client and server, a ClientHello cut at every byte, names longer
 *    than 63 bytes cut to 63.
 *  - One flow hit 1000 times counts exactly.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>
#include <sysflow/flowmon.h>
#include "flow/flowmon_int.h"
#include "pkt.h"

#define T0 1700000000123456789ULL /* epoch ns of the first packet */
#define T0_MS 1700000000123ULL
#define NS_PER_MS 1000000ULL
#define FLOWS_MAX 64
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Expected flow fields shared by many cases. */
#define V4_KEY \
	.ip_version = 4, .saddr = { 192, 0, 2, 1 }, .daddr = { 198, 51, 100, 2 }
#define V6_KEY .ip_version = 6, .saddr = PKT_IP6_DOC(1), .daddr = PKT_IP6_DOC(2)
/* One packet of IP total length len, TTL 64, seen at T0. */
#define ONE_PKT(len)                                                          \
	.packets = 1, .bytes = (len), .min_ip_len = (len),                    \
	.max_ip_len = (len), .min_ttl = 64, .max_ttl = 64, .start_ms = T0_MS, \
	.end_ms = T0_MS

struct fx {
	enum sf_pipeline pipeline;
	struct sf_flowmon *fm;
};

struct flows {
	struct sf_flow f[FLOWS_MAX];
	int n;
};

static enum sf_pipeline pipelines[] = {
	SF_PIPELINE_SINGLE,
	SF_PIPELINE_TAIL_META,
	SF_PIPELINE_TAIL_MAP,
};

static const char *const stat_names[] = {
	"packets",   "accounted",   "flows_created", "table_full",
	"truncated", "malformed",   "not_ip",	     "proto_skipped",
	"flow_race", "meta_failed", "fragments",     "frag_unmatched",
	"dpi_done",  "dpi_failed",
};

_Static_assert(offsetof(struct sf_flowmon_stats, flows_exported) ==
		       ARRAY_SIZE(stat_names) * sizeof(uint64_t),
	       "stat_names must name every BPF counter");

/* ---- fixture: one monitor per case, in the case's pipeline ---- */

static int fx_setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	fx->pipeline = *(enum sf_pipeline *)*state;
	*state = fx;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *fx = *state;

	sf_flowmon_close(fx->fm);
	free(fx);
	return 0;
}

static struct sf_flowmon *fm_open(void **state, struct sf_flowmon_opts opts)
{
	struct fx *fx = *state;
	int err;

	opts.offline = true;
	opts.pipeline = fx->pipeline;
	fx->fm = sf_flowmon_open(&opts, &err);
	if (!fx->fm && err == -EPERM)
		skip(); /* needs root (CAP_BPF and CAP_NET_ADMIN) */
	if (!fx->fm)
		fail_msg("sf_flowmon_open: %s", strerror(-err));
	return fx->fm;
}

static struct sf_flowmon *fm_default(void **state)
{
	return fm_open(state, (struct sf_flowmon_opts){ 0 });
}

static struct sf_flowmon *fm_dpi(void **state)
{
	return fm_open(state, (struct sf_flowmon_opts){ .dpi = true });
}

/* ---- running frames ---- */

static void run_cut(struct sf_flowmon *fm, const struct pkt *p, size_t len,
		    uint64_t ts)
{
	int err = sf_flowmon_run_packet(fm, p->b, len, ts);

	if (err)
		fail_msg("run_packet(%zu bytes): %s", len, strerror(-err));
}

static void run(struct sf_flowmon *fm, const struct pkt *p, uint64_t ts)
{
	run_cut(fm, p, p->len, ts);
}

/* ---- expectations ---- */

static void expect_stats(struct sf_flowmon *fm, struct sf_flowmon_stats want)
{
	uint64_t g[ARRAY_SIZE(stat_names)], w[ARRAY_SIZE(stat_names)];
	struct sf_flowmon_stats got;
	int bad = 0;

	assert_int_equal(sf_flowmon_get_stats(fm, &got), 0);
	memcpy(g, &got, sizeof(g));
	memcpy(w, &want, sizeof(w));
	for (size_t i = 0; i < ARRAY_SIZE(stat_names); i++) {
		if (g[i] == w[i])
			continue;
		print_error("stats.%s = %" PRIu64 ", want %" PRIu64 "\n",
			    stat_names[i], g[i], w[i]);
		bad++;
	}
	assert_int_equal(bad, 0);
}

static void print_flow(const char *what, const struct sf_flow *f)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
	int af = f->ip_version == 6 ? AF_INET6 : AF_INET;

	inet_ntop(af, f->saddr, s, sizeof(s));
	inet_ntop(af, f->daddr, d, sizeof(d));
	print_error("%s: v%u proto %u %s:%u -> %s:%u vlan %u/%u if %u, "
		    "%" PRIu64 " pkts %" PRIu64 " bytes\n",
		    what, f->ip_version, f->proto, s, f->sport, d, f->dport,
		    f->vlan_id, f->inner_vlan_id, f->ifindex, f->packets,
		    f->bytes);
}

static bool same_key(const struct sf_flow *a, const struct sf_flow *b)
{
	return a->ip_version == b->ip_version && a->proto == b->proto &&
	       !memcmp(a->saddr, b->saddr, sizeof(a->saddr)) &&
	       !memcmp(a->daddr, b->daddr, sizeof(a->daddr)) &&
	       a->sport == b->sport && a->dport == b->dport &&
	       a->ifindex == b->ifindex && a->vlan_id == b->vlan_id &&
	       a->inner_vlan_id == b->inner_vlan_id;
}

#define FIELD_EQ(got, want, field)                                         \
	do {                                                               \
		if ((got)->field != (want)->field) {                       \
			print_error("flow.%s = %" PRIu64 ", want %" PRIu64 \
				    "\n",                                  \
				    #field, (uint64_t)(got)->field,        \
				    (uint64_t)(want)->field);              \
			bad++;                                             \
		}                                                          \
	} while (0)

#define STR_EQ(got, want, field)                                               \
	do {                                                                   \
		if (strcmp((got)->field, (want)->field)) {                     \
			print_error("flow.%s = \"%s\", want \"%s\"\n", #field, \
				    (got)->field, (want)->field);              \
			bad++;                                                 \
		}                                                              \
	} while (0)

static int flow_diff_counters(const struct sf_flow *g, const struct sf_flow *w)
{
	int bad = 0;

	FIELD_EQ(g, w, packets);
	FIELD_EQ(g, w, bytes);
	FIELD_EQ(g, w, start_ms);
	FIELD_EQ(g, w, end_ms);
	FIELD_EQ(g, w, tcp_flags);
	FIELD_EQ(g, w, tos);
	FIELD_EQ(g, w, min_ttl);
	FIELD_EQ(g, w, max_ttl);
	FIELD_EQ(g, w, min_ip_len);
	FIELD_EQ(g, w, max_ip_len);
	FIELD_EQ(g, w, min_tcp_window);
	FIELD_EQ(g, w, max_tcp_window);
	FIELD_EQ(g, w, tcp_syns);
	FIELD_EQ(g, w, tcp_rsts);
	FIELD_EQ(g, w, end_reason);
	return bad;
}

static int flow_diff_dpi(const struct sf_flow *g, const struct sf_flow *w)
{
	int bad = 0;

	FIELD_EQ(g, w, dpi_kind);
	FIELD_EQ(g, w, dns_rcode);
	FIELD_EQ(g, w, dns_qtype);
	STR_EQ(g, w, http_method);
	STR_EQ(g, w, name);
	return bad;
}

static void expect_flow_equal(const struct sf_flow *got,
			      const struct sf_flow *want)
{
	int bad = flow_diff_counters(got, want) + flow_diff_dpi(got, want);

	if (bad)
		print_flow("in flow", got);
	assert_int_equal(bad, 0);
}

static int collect(const struct sf_flow *f, void *ctx)
{
	struct flows *fl = ctx;

	if (fl->n == FLOWS_MAX)
		return -E2BIG;
	fl->f[fl->n++] = *f;
	return 0;
}

static const struct sf_flow *find_flow(const struct flows *fl,
				       const struct sf_flow *key)
{
	for (int i = 0; i < fl->n; i++)
		if (same_key(&fl->f[i], key))
			return &fl->f[i];
	print_flow("missing flow", key);
	for (int i = 0; i < fl->n; i++)
		print_flow("table has", &fl->f[i]);
	fail();
	return NULL;
}

static void expect_flow_set(const struct flows *got, const struct sf_flow *want,
			    int n)
{
	if (got->n != n) {
		for (int i = 0; i < got->n; i++)
			print_flow("table has", &got->f[i]);
	}
	assert_int_equal(got->n, n);
	for (int i = 0; i < n; i++)
		expect_flow_equal(find_flow(got, &want[i]), &want[i]);
}

/* The table holds exactly these flows (a live snapshot). */
static void expect_flows(struct sf_flowmon *fm, const struct sf_flow *want,
			 int n)
{
	struct flows got = { .n = 0 };

	assert_int_equal(sf_flowmon_snapshot(fm, collect, &got), 0);
	expect_flow_set(&got, want, n);
}

static void expect_flow(struct sf_flowmon *fm, struct sf_flow want)
{
	expect_flows(fm, &want, 1);
}

static void expect_no_flows(struct sf_flowmon *fm)
{
	expect_flows(fm, NULL, 0);
}

/* ---- frames ---- */

static void frame_v4(struct pkt *p, const struct pkt_ip4 *ip)
{
	pkt_init(p);
	pkt_eth(p, PKT_ETH_IP);
	pkt_ipv4(p, ip);
}

static void frame_v6(struct pkt *p, const struct pkt_ip6 *ip)
{
	pkt_init(p);
	pkt_eth(p, PKT_ETH_IPV6);
	pkt_ipv6(p, ip);
}

static void tcp4(struct pkt *p, const struct pkt_ip4 *ip, struct pkt_tcp t,
		 const char *payload)
{
	frame_v4(p, ip);
	pkt_tcp(p, &t);
	pkt_str(p, payload);
	pkt_finish(p);
}

static void tcp6(struct pkt *p, const struct pkt_ip6 *ip, struct pkt_tcp t,
		 const char *payload)
{
	frame_v6(p, ip);
	pkt_tcp(p, &t);
	pkt_str(p, payload);
	pkt_finish(p);
}

static void udp4(struct pkt *p, uint16_t sport, uint16_t dport, size_t n)
{
	struct pkt_ip4 ip = PKT_IP4;

	frame_v4(p, &ip);
	pkt_udp(p, sport, dport);
	pkt_fill(p, 0xab, n);
	pkt_finish(p);
}

static void udp6(struct pkt *p, uint16_t sport, uint16_t dport, size_t n)
{
	struct pkt_ip6 ip = PKT_IP6;

	frame_v6(p, &ip);
	pkt_udp(p, sport, dport);
	pkt_fill(p, 0xab, n);
	pkt_finish(p);
}

/* A plain TCP segment 192.0.2.1:sport -> 198.51.100.2:dport. */
static void tcp4_simple(struct pkt *p, uint16_t sport, uint16_t dport,
			uint8_t flags, const char *payload)
{
	struct pkt_ip4 ip = PKT_IP4;

	tcp4(p, &ip, (struct pkt_tcp){ sport, dport, flags, 1024 }, payload);
}

/* ================================================================ */
/* L4 protocols                                                      */
/* ================================================================ */

/* SYN (with MSS), data, FIN: flags OR, windows, TTLs, ToS of the first
 * packet, IP lengths, first and last seen.
 */
static void test_tcp_v4(void **state)
{
	struct sf_flowmon *fm = fm_default(state);
	struct pkt_ip4 ip = PKT_IP4;
	struct pkt p;

	ip.tos = 0x10;
	tcp4(&p, &ip, (struct pkt_tcp){ 40000, 22, PKT_SYN, 64240, 4 }, "");
	run(fm, &p, T0); /* 44 bytes */
	ip.tos = 0x20;
	ip.ttl = 60;
	tcp4(&p, &ip, (struct pkt_tcp){ 40000, 22, PKT_PSH | PKT_ACK, 502 },
	     "hello");
	run(fm, &p, T0 + 1500000); /* 45 bytes, 1.5 ms later */
	ip.ttl = 64;
	tcp4(&p, &ip, (struct pkt_tcp){ 40000, 22, PKT_FIN | PKT_ACK, 501 },
	     "");
	run(fm, &p, T0 + 2000 * NS_PER_MS); /* 40 bytes */

	expect_flow(fm, (struct sf_flow){
				V4_KEY, .proto = 6, .sport = 40000, .dport = 22,
				.packets = 3, .bytes = 129, .start_ms = T0_MS,
				.end_ms = T0_MS + 2000, .tcp_flags = 0x1b,
				.tos = 0x10, .min_ttl = 60, .max_ttl = 64,
				.min_ip_len = 40, .max_ip_len = 45,
				.min_tcp_window = 501, .max_tcp_window = 64240,
				.tcp_syns = 1 });
	expect_stats(fm, (struct sf_flowmon_stats){ .packets = 3,
						    .accounted = 3,
						    .flows_created = 1 });
}

/* A handshake over IPv6: two unidirectional flows; the traffic class is
 * the ToS, the flow label does not leak into it.
 */
static void test_tcp_v6(void **state)
{
	struct sf_flowmon *fm = fm_default(state);
	struct pkt_ip6 c2s = PKT_IP6, s2c = PKT_IP6;
	struct pkt p;

	c2s.tclass = 0xb8;
	c2s.flow_label = 0xfffff;
	memcpy(s2c.saddr, c2s.daddr, 16);
	memcpy(s2c.daddr, c2s.saddr, 16);
	s2c.hlim = 57;
	tcp6(&p, &c2s, (struct pkt_tcp){ 40000, 443, PKT_SYN, 65535, 8 }, "");
	run(fm, &p, T0); /* 40 + 28 */
	tcp6(&p, &s2c, (struct pkt_tcp){ 443, 40000, PKT_SYN | PKT_ACK, 65160 },
	     "");
	run(fm, &p, T0 + NS_PER_MS); /* 40 + 20 */
	tcp6(&p, &c2s, (struct pkt_tcp){ 40000, 443, PKT_ACK, 512 }, "");
	run(fm, &p, T0 + 2 * NS_PER_MS);

	expect_flows(fm,
		     (struct sf_flow[]){
			     { V6_KEY, .proto = 6, .sport = 40000, .dport = 443,
			       .packets = 2, .bytes = 128, .start_ms = T0_MS,
			       .end_ms = T0_MS + 2, .tcp_flags = 0x12,
			       .tos = 0xb8, .min_ttl = 64, .max_ttl = 64,
			       .min_ip_len = 60, .max_ip_len = 68,
			       .min_tcp_window = 512, .max_tcp_window = 65535,
			       .tcp_syns = 1 },
			     { .ip_version = 6,
			       .saddr = PKT_IP6_DOC(2),
			       .daddr = PKT_IP6_DOC(1),
			       .proto = 6,
			       .sport = 443,
			       .dport = 40000,
			       .packets = 1,
			       .bytes = 60,
			       .start_ms = T0_MS + 1,
			       .end_ms = T0_MS + 1,
			       .tcp_flags = 0x12,
			       .min_ttl = 57,
			       .max_ttl = 57,
			       .min_ip_len = 60,
			       .max_ip_len = 60,
			       .min_tcp_window = 65160,
			       .max_tcp_window = 65160,
			       .tcp_syns = 1 } },
		     2);
	expect_stats(fm, (struct sf_flowmon_stats){ .packets = 3,
						    .accounted = 3,
						    .flows_created = 2 });
}

/* A connect retried twice, then refused: tcpSynTotalCount 3 on the way
 * out, tcpRstTotalCount 1 on the way back. A pure ACK counts in neither.
 */
static void test_tcp_syn_rst_counts(void **state)
{
	struct sf_flowmon *fm = fm_default(state);
	struct pkt_ip4 c2s = PKT_IP4, s2c = PKT_IP4;
	struct pkt p;

	memcpy(s2c.saddr, c2s.daddr, 4);
	memcpy(s2c.daddr, c2s.saddr, 4);
	for (int i = 0; i < 3; i++) {
		tcp4(&p, &c2s, (struct pkt_tcp){ 40000, 8080, PKT_SYN, 1000 },
		     "");
		run(fm, &p, T0 + i * NS_PER_MS);
	}
	tcp4(&p, &c2s, (struct pkt_tcp){ 40000, 8080, PKT_ACK, 1000 }, "");
	run(fm, &p, T0 + 3 * NS_PER_MS);
	tcp4(&p, &s2c, (struct pkt_tcp){ 8080, 40000, PKT_RST | PKT_ACK, 0 },
	     "");
	run(fm, &p, T0 + 3 * NS_PER_MS);

	expect_flows(
		fm,
		(struct sf_flow[]){ { V4_KEY, .proto = 6, .sport = 40000,
				      .dport = 8080, .packets = 4, .bytes = 160,
				      .start_ms = T0_MS, .end_ms = T0_MS + 3,
				      .tcp_flags = 0x12, .min_ttl = 64,
				      .max_ttl = 64, .min_ip_len = 40,
				      .max_ip_len = 40, .min_tcp_window = 1000,
				      .max_tcp_window = 1000, .tcp_syns = 3 },
				    { .ip_version = 4,
				      .saddr = { 198, 51, 100, 2 },
				      .daddr = { 192, 0, 2, 1 },
				      .proto = 6,
				      .sport = 8080,
				      .dport = 40000,
				      .packets = 1,
				      .bytes = 40,
				      .start_ms = T0_MS + 3,
				      .end_ms = T0_MS + 3,
				      .tcp_flags = 0x14,
				      .min_ttl = 64,
				      .max_ttl = 64,
				      .min_ip_len = 40,
				      .max_ip_len = 40,
				      .tcp_rsts = 1 } },
		2);
}

/* Bytes are IP total lengths: Ethernet padding of a short frame is not. */
static void test_udp_v4(void **state)
{
	struct sf_flowmon *fm = fm_default(state);
	struct pkt p;

	udp4(&p, 40001, 514, 4);
	pkt_fill(&p, 0, 60 - p.len); /* pad to the Ethernet minimum */
	run(fm, &p, T0); /* IP length 32 in a 60-byte frame */
	udp4(&p, 40001, 514, 100);
	run(fm, &p, T0 + 3 * NS_PER_MS);

	expect_flow(fm,
		    (struct sf_flow){ V4_KEY, .proto = 17, .sport = 40001,
				      .dport = 514, .packets = 2, .bytes = 160,
				      .start_ms = T0_MS, .end_ms = T0_MS + 3,
				      .min_ttl = 64, .max_ttl = 64,
				      .min_ip_len = 32, .max_ip_len = 128 });
	expect_stats(fm, (struct sf_flowmon_stats){ .packets = 2,
						    .accounted = 2,
						    .flows_created = 1 });
}

static void test_udp_v6(void **state)
{
	struct sf_flowmon *fm = fm_default(state);
	struct pkt p;

	udp6(&p, 40002, 4789, 100);
	run(fm, &p, T0);

	expect_flow(fm, (struct sf_flow){ V6_KEY, .proto = 17, .sport = 40002,
					  .dport = 4789, ONE_PKT(148) });
	expect_stats(fm, (struct sf_flowmon_stats){ .packets = 1,
						    .accounted = 1,
						    .flows_created = 1 });
}

/* Echo request and reply: sport is the identifier, dport type << 8. */
static void test_icmp_echo(void **state)
{
	struct sf_flowmon *fm = fm_default(state);
	struct pkt_ip4 ip = PKT_IP4;
	struct pkt p;

	frame_v4(&p, &ip);
	pkt_icmp(&p, 8, 0, 0x12340001); /* id 0x1234, sequence 1 */
	pkt_fill(&p, 0x42, 56);
	pkt_finish(&p);
	run(fm, &p, T0);
	memcpy(ip.saddr, (uint8_t[]){ 198, 51, 100, 2 }, 4);
	memcpy(ip.daddr, (uint8_t[]){ 192, 0, 2, 1 }, 4);
	frame_v4(&p, &ip);
	pkt_icmp(&p, 0, 0, 0x12340001);
	pkt_fill(&p, 0x42, 56);
	pkt_finish(&p);
	run(fm, &p, T0);

	expect_flows(fm,
		     (struct sf_flow[]){ { V4_KEY, .proto = 1, .sport = 0x1234,
					   .dport = 0x0800, ONE_PKT(84) },
					 { .ip_version = 4,
					   .saddr = { 198, 51, 100, 2 },
					   .daddr = { 192, 0, 2, 1 },
					   .proto = 1,
					   .sport = 0x1234,
					   .dport = 0,
					   ONE_PKT(84) } },
		     2);
	expect_stats(fm, (struct sf_flowmon_stats){ .packets = 2,
						    .accounted = 2,
						    .flows_created = 2 });
}

/* Non-echo types carry other data where echo has its identifier (here a
 * parameter-problem pointer and a next-hop MTU): sport stays 0.
 */
static void test_icmp_other(void **state)
{
	struct sf_flowmon *fm = fm_default(state);
	struct pkt_ip4 ip = PKT_IP4;
	struct pkt p;

	frame_v4(&p, &ip);
	pkt_icmp(&p, 12, 0, 0x14000000); /* parameter problem, pointer 20 */
	pkt_fill(&p, 0x45, 28); /* the offending header */
	pkt_finish(&p);
	run(fm, &p, T0);
	frame_v4(&p, &ip);
	pkt_icmp(&p, 3, 4, 1400); /* fragmentation needed, MTU 1400 */
	pkt_fill(&p, 0x45, 28);
	pkt_finish(&p);
	run(fm, &p, T0);

	expect_flows(fm,
		     (struct sf_flow[]){ { V4_KEY, .proto = 1, .sport = 0,
					   .dport = 0x0c00, ONE_PKT(56) },
					 { V4_KEY, .proto = 1, .sport = 0,
					   .dport = 0x0304, ONE_PKT(56) } },
		     2);
	expect_stats(fm, (struct sf_flowmon_stats){ .packets = 2,
						    .accounted = 2,
						    .flows_created = 2 });
}

/* Echo request (sport = identifier) and a neighbour solicitation to the
 * solicited-node group (sport 0).
 */
static void test_icmpv6(void **state)
{
	static const uint8_t snm[16] = { 0xff, 0x02, [11] = 1, 0xff, [15] = 2 };
	struct sf_flowmon *fm = fm_default(state);
	struct pkt_ip6 ip = PKT_IP6;
	struct pkt p;

	frame_v6(&p, &ip);
	pkt_icmp6(&p, 128, 0, 0x42420007);
	pkt_fill(&p, 0x61, 32);
	pkt_finish(&p);
	run(fm, &p, T0);
	memcpy(ip.daddr, snm, 16);
	ip.hlim = 255;
	frame_v6(&p, &ip);
	pkt_icmp6(&p, 135, 0, 0);
	pkt_put(&p, (uint8_t[])PKT_IP6_DOC(2), 16); /* target */
	pkt_payload(&p, (uint8_t[]){ 1, 1, 2, 0, 0, 0, 0, 1 }, 8);
	pkt_finish(&p);
	run(fm, &p, T0);

	expect_flows(fm,
		     (struct sf_flow[]){ { V6_KEY, .proto = 58, .sport = 0x4242,
					   .dport = 0x8000, ONE_PKT(80) },
					 { .ip_version = 6,
					   .saddr = PKT_IP6_DOC(1),
					   .daddr = { 0xff, 0x02, [11] = 1,
						      0xff, [15] = 2 },
					   .proto = 58,
					   .sport = 0,
					   .dport = 0x8700,
					   .packets = 1,
					   .bytes = 72,
					   .min_ip_len = 72,
					   .max_ip_len = 72,
					   .min_ttl = 255,
					   .max_ttl = 255,
					   .start_ms = T0_MS,
					   .end_ms = T0_MS } },
		     2);
	expect_stats(fm, (struct sf_flowmon_stats){ .packets = 2,
						    .accounted = 2,
						    .flows_created = 2 });
}

/* GRE over IPv4 and SCTP over IPv6: counted per protocol with ports 0,
 * although SCTP has ports of its own.
 */
static void test_other_proto(void **state)
{
	static const uint8_t gre[4] = { 0, 0, 0x08, 0x00 };
	static const uint8_t sctp[12] = { 0x13, 0x88, 0x17, 0x70, 1, 2, 3, 4 };
	struct sf_flowmon *fm = fm_default(state);
	struct pkt_ip4 ip4 = PKT_IP4;
	struct pkt_ip6 ip6 = PKT_IP6;
	struct pkt p;

	frame_v4(&p, &ip4);
	pkt_l4_raw(&p, PKT_GRE, gre, sizeof(gre));
	pkt_fill(&p, 0x45, 20);
	pkt_finish(&p);
	run(fm, &p, T0);
	frame_v6(&p, &ip6);
	pkt_l4_raw(&p, PKT_SCTP, sctp, sizeof(sctp));
	pkt_fill(&p, 0x01, 20); /* INIT chunk */
	pkt_finish(&p);
	run(fm, &p, T0);

	expect_flows(
		fm,
		(struct sf_flow[]){ { V4_KEY, .proto = 47, ONE_PKT(44) },
				    { V6_KEY, .proto = 132, ONE_PKT(72) } },
		2);
	expect_stats(fm, (struct sf_flowmon_stats){ .packets = 2,
						    .accounted = 2,
						    .flows_created = 2 });
}

/* ================================================================ */
/* VLAN tags                                                         */
/* ================================================================ */

/* Tags given as tpid, tci pairs; then IPv4 TCP 40000 -> 80 or, with
 * v6, IPv6 UDP 40000 -> 4000.
 */
static void tagged(struct pkt *p, const uint16_t *tags, int n, bool v6)
{
	struct pkt_ip4 ip4 = PKT_IP4;
	struct pkt_ip6 ip6 = PKT_IP6;

	pkt_init(p);
	pkt_eth_addrs(p);
	for (int i = 0; i < n; i++)
		pkt_vlan(p, tags[2 * i], tags[2 * i + 1]);
	pkt_ethertype(p, v6 ? PKT_ETH_IPV6 : PKT_ETH_IP);
	if (v6) {
		pkt_ipv6(p, &ip6);
		pkt_udp(p, 40000, 4000);
	} else {
		pkt_ipv4(p, &ip4);
		pkt_tcp(p, &(struct pkt_tcp){ 40000, 80, PKT_ACK, 1024 });
	}
	pkt_finish(p);
}

/* The VID is the low 12 bits of the TCI: PCP and DEI are not part of it. */
static void test_vlan_8021q(void **state)
{
	struct sf_flowmon *fm = fm_default(state);
	struct pkt p;

	tagged(&p, (uint16_t[]){ PKT_ETH_8021Q, 0xa064 }, 1, false);
	run(fm, &p, T0); /* PCP 5, VID 100 */
	tagged(&p, (uint16_t[]){ PKT_ETH_8021Q, 0x1fff }, 1, true);
	run(fm, &p, T0); /* DEI, VID 4095 */

	expect_flows(fm,
		     (struct sf_flow[]){
			     { V4_KEY, .proto = 6, .sport = 40000, .dport = 80,
			       .vlan_id = 100, ONE_PKT(40),
			       .tcp_flags = PKT_ACK, .min_tcp_window = 1024,
			       .max_tcp_window = 1024 },
			     { V6_KEY, .proto = 17, .sport = 40000,
			       .dport = 4000, .vlan_id = 4095, ONE_PKT(48) } },
		     2);
	expect_stats(fm, (struct sf_flowmon_stats){ .packets = 2,
						    .accounted = 2,
						    .flows_created = 2 });
}

/* 802.1ad outer, 802.1Q inner: vlan_id is the outer VID. */
static void test_vlan_qinq(void **state)
{
	struct sf_flowmon *fm = fm_default(state);
	struct pkt p;

	tagged(&p,
	       (uint16_t[]){ PKT_ETH_8021AD, 0x10c8, PKT_ETH_8021Q, 0x212c }, 2,
	       false);
	run(fm, &p, T0); /* outer 200 (DEI set), inner 300 (PCP 1) */

	expect_flow(fm, (struct sf_flow){ V4_KEY, .proto = 6, .sport = 40000,
					  .dport = 80, .vlan_id = 200,
					  .inner_vlan_id = 300, ONE_PKT(40),
					  .tcp_flags = PKT_ACK,
					  .min_tcp_window = 1024,
					  .max_tcp_window = 1024 });
	expect_stats(fm, (struct sf_flowmon_stats){ .packets = 1,
						    .accounted = 1,
						    .flows_created = 1 });
}

/* Four tags are walked (the first two recorded); five are malformed. */
static void test_vlan_depth(void **state)
{
	static const uint16_t tags[] = { PKT_ETH_8021AD, 10, PKT_ETH_8021Q, 20,
					 PKT_ETH_8021Q,	 30, PKT_ETH_8021Q, 40,
					 PKT_ETH_8021Q,	 50 };
	struct sf_flowmon *fm = fm_default(state);
	struct pkt p;

	tagged(&p, tags, 4, true);
	run(fm, &p, T0);
	tagged(&p, tags, 5, true);
	run(fm, &p, T0);

	expect_flow(fm, (struct sf_flow){ V6_KEY, .proto = 17, .sport = 40000,
					  .dport = 4000, .vlan_id = 10,
					  .inner_vlan_id = 20, ONE_PKT(48) });
	expect_stats(fm, (struct sf_flowmon_stats){ .packets = 2,
						    .accounted = 1,
						    .flows_created = 1,
						    .malformed = 1 });
}

/* ================================================================ */
/* IPv4 options and fragments                                        */
/* ================================================================ */

static void test_ipv4_options(void **state)
{
	struct sf_flowmon *fm = fm_default(state);
	struct pkt_ip4 ip = PKT_IP4;
	struct pkt p;

	ip.opt_len = 4; /* ihl 6: router alert */
	tcp4(&p, &ip, (struct pkt_tcp){ 40000, 179, PKT_SYN, 16384 }, "");
	run(fm, &p, T0);
	ip.opt_len = 40; /* ihl 15 */
	frame_v4(&p, &ip);
	pkt_udp(&p, 1234, 5678);
	pkt_fill(&p, 0xee, 10);
	pkt_finish(&p);
	run(fm, &p, T0);

	expect_flows(fm,
		     (struct sf_flow[]){
			     { V4_KEY, .proto = 6, .sport = 40000, .dport = 179,
			       ONE_PKT(44), .tcp_flags = PKT_SYN,
			       .min_tcp_window = 16384, .max_tcp_window = 16384,
			       .tcp_syns = 1 },
			     { V4_KEY, .proto = 17, .sport = 1234,
			       .dport = 5678, ONE_PKT(78) } },
		     2);
	expect_stats(fm, (struct sf_flowmon_stats){ .packets = 2,
						    .accounted = 2,
						    .flows_created = 2 });
}

/* A first fragment: UDP header and n payload bytes, more to come. */
static void frag4_first(struct pkt *p, uint16_t id, uint16_t sport,
			uint16_t dport, size_t n)
{
	struct pkt_ip4 ip = PKT_IP4;

	ip.id = id;
	ip.mf = true;
	frame_v4(p, &ip);
	pkt_udp(p, sport, dport);
	pkt_fill(p, 0x11, n);
	pkt_finish(p);
}

/* A later fragment of a UDP datagram. Its data would read as ports
 * 0xdead -> 0xbeef if it were parsed as a UDP header.
 */
static void frag4_later(struct pkt *p, uint16_t id, uint16_t off8, bool mf,
			size_t n)
{
	struct pkt_ip4 ip = PKT_IP4;

	ip.id = id;
	ip.frag_off = off8;
	ip.mf = mf;
	ip.proto = PKT_UDP;
	frame_v4(p, &ip);
	for (size_t i = 0; i < n; i++)
		pkt_u8(p, (uint8_t[]){ 0xde, 0xad, 0xbe, 0xef }[i % 4]);
	pkt_finish(p);
}

/* Two datagrams interleaved: each fragment goes to its datagram's flow. */
static void test_ipv4_fragments(void **state)
{
	struct sf_flowmon *fm = fm_default(state);
	struct pkt p;

	frag4_first(&p, 0x1111, 1111, 2222, 32);
	run(fm, &p, T0); /* 60 bytes */
	frag4_first(&p, 0x2222, 3333, 4444, 16);
	run(fm, &p, T0); /* 44 */
	frag4_later(&p, 0x1111, 5, true, 40);
	run(fm, &p, T0); /* 60 */
	frag4_later(&p, 0x2222, 3, false, 8);
	run(fm, &p, T0); /* 28 */
	frag4_later(&p, 0x1111, 10, false, 10);
	run(fm, &p, T0); /* 30 */

	expect_flows(
		fm,
		(struct sf_flow[]){
			{ V4_KEY, .proto = 17, .sport = 1111, .dport = 2222,
			  .packets = 3, .bytes = 150, .min_ip_len = 30,
			  .max_ip_len = 60, .min_ttl = 64, .max_ttl = 64,
			  .start_ms = T0_MS, .end_ms = T0_MS },
			{ V4_KEY, .proto = 17, .sport = 3333, .dport = 4444,
			  .packets = 2, .bytes = 72, .min_ip_len = 28,
			  .max_ip_len = 44, .min_ttl = 64, .max_ttl = 64,
			  .start_ms = T0_MS, .end_ms = T0_MS } },
		2);
	expect_stats(fm, (struct sf_flowmon_stats){ .packets = 5,
						    .accounted = 5,
						    .flows_created = 2,
						    .fragments = 3 });
}

/* A later fragment before its first: ports 0. The first, arriving late,
 * still teaches the ports to the fragments after it.
 */
static void test_ipv4_frag_unmatched(void **state)
{
	struct sf_flowmon *fm = fm_default(state);
	struct pkt p;

	frag4_later(&p, 0x7777, 100, true, 40);
	run(fm, &p, T0); /* 60 */
	frag4_first(&p, 0x7777, 5000, 6000, 32);
	run(fm, &p, T0); /* 60 */
	frag4_later(&p, 0x7777, 5, true, 40);
	run(fm, &p, T0); /* 60 */

	expect_flows(fm,
		     (struct sf_flow[]){ { V4_KEY, .proto = 17, .sport = 0,
					   .dport = 0, ONE_PKT(60) },
					 { V4_KEY, .proto = 17, .sport = 5000,
					   .dport = 6000, .packets = 2,
					   .bytes = 120, .min_ip_len = 60,
					   .max_ip_len = 60, .min_ttl = 64,
					   .max_ttl = 64, .start_ms = T0_MS,
					   .end_ms = T0_MS } },
		     2);
	expect_stats(fm, (struct sf_flowmon_stats){ .packets = 3,
						    .accounted = 3,
						    .flows_created = 2,
						    .fragments = 2,
						    .frag_unmatched = 1 });
}

/* ================================================================ */
/* IPv6 extension headers and fragments                              */
/* ================================================================ */

/* Extension headers given as type, units pairs (a fragment header as
 * PKT_FRAGMENT, 0: first fragment of datagram 7).
 */
static void ext6(struct pkt *p, const uint8_t *ext, int n)
{
	struct pkt_ip6 ip = PKT_IP6;

	frame_v6(p, &ip);
	for (int i = 0; i < n; i++) {
		if (ext[2 * i] == PKT_FRAGMENT)
			pkt_ipv6_frag(p, 0, true, 7);
		else
			pkt_ipv6_ext(p, ext[2 * i], ext[2 * i + 1]);
	}
}

static void ext6_udp(struct pkt *p, const uint8_t *ext, int n, uint16_t sport,
		     uint16_t dport)
{
	ext6(p, ext, n);
	pkt_udp(p, sport, dport);
	pkt_fill(p, 0x77, 8);
	pkt_finish(p);
}

static const uint8_t ext_eight[] = {
	PKT_HOPOPTS, 0, PKT_DSTOPTS, 0, PKT_ROUTING, 0,
	PKT_DSTOPTS, 0, PKT_ROUTING, 0, PKT_DSTOPTS, 0,
	PKT_ROUTING, 0, PKT_DSTOPTS, 0, PKT_DSTOPTS, 0,
};

/* Chains in several orders reach the right L4 header; a chain of 8 is
 * walked, one of 9 is malformed.
 */
static void test_ipv6_ext_chains(void **state)
{
	struct sf_flowmon *fm = fm_default(state);
	struct pkt p;

	ext6(&p, (uint8_t[]){ PKT_HOPOPTS, 0, PKT_DSTOPTS, 1, PKT_ROUTING, 0 },
	     3);
	pkt_tcp(&p, &(struct pkt_tcp){ 40000, 8443, PKT_SYN, 1000 });
	pkt_finish(&p);
	run(fm, &p, T0); /* 40 + 32 + 20 */
	ext6_udp(&p,
		 (uint8_t[]){ PKT_HOPOPTS, 2, PKT_ROUTING, 0, PKT_FRAGMENT, 0,
			      PKT_DSTOPTS, 0 },
		 4, 1000, 2000);
	run(fm, &p, T0); /* 40 + 24 + 8 + 8 + 8 + 16 */
	ext6(&p, (uint8_t[]){ PKT_DSTOPTS, 0, PKT_ROUTING, 0, PKT_DSTOPTS, 0 },
	     3);
	pkt_icmp6(&p, 128, 0, 77 << 16 | 1);
	pkt_finish(&p);
	run(fm, &p, T0); /* 40 + 24 + 8 */
	ext6_udp(&p, ext_eight, 8, 3000, 4000);
	run(fm, &p, T0); /* 40 + 64 + 16 */
	ext6_udp(&p, ext_eight, 9, 3000, 4001);
	run(fm, &p, T0);

	expect_flows(fm,
		     (struct sf_flow[]){
			     { V6_KEY, .proto = 6, .sport = 40000,
			       .dport = 8443, ONE_PKT(92), .tcp_flags = PKT_SYN,
			       .min_tcp_window = 1000, .max_tcp_window = 1000,
			       .tcp_syns = 1 },
			     { V6_KEY, .proto = 17, .sport = 1000,
			       .dport = 2000, ONE_PKT(104) },
			     { V6_KEY, .proto = 58, .sport = 77,
			       .dport = 0x8000, ONE_PKT(72) },
			     { V6_KEY, .proto = 17, .sport = 3000,
			       .dport = 4000, ONE_PKT(120) } },
		     4);
	expect_stats(fm, (struct sf_flowmon_stats){ .packets = 5,
						    .accounted = 4,
						    .flows_created = 4,
						    .malformed = 1 });
}

/* Hop-by-hop then a fragment header of datagram id at offset off8. */
static void frag6_start(struct pkt *p, uint32_t id, uint16_t off8, bool mf)
{
	struct pkt_ip6 ip = PKT_IP6;

	frame_v6(p, &ip);
	pkt_ipv6_ext(p, PKT_HOPOPTS, 0);
	pkt_ipv6_frag(p, off8, mf, id);
}

/* TCP in two fragments: the later one, whose data would read as all
 * flags and window 0xffff, leaves flags and windows alone. A later
 * fragment of an unseen datagram gets ports 0.
 */
static void test_ipv6_fragments(void **state)
{
	struct sf_flowmon *fm = fm_default(state);
	struct pkt p;

	frag6_start(&p, 0xabcdef01, 0, true);
	pkt_tcp(&p, &(struct pkt_tcp){ 40000, 5201, PKT_PSH | PKT_ACK, 1000 });
	pkt_fill(&p, 0x33, 24);
	pkt_finish(&p);
	run(fm, &p, T0); /* 40 + 16 + 20 + 24 */
	frag6_start(&p, 0xabcdef01, 6, false);
	pkt_ipv6_frag_proto(&p, PKT_TCP);
	pkt_fill(&p, 0xff, 16);
	pkt_finish(&p);
	run(fm, &p, T0 + NS_PER_MS); /* 40 + 16 + 16 */
	frag6_start(&p, 0x99, 6, false);
	pkt_ipv6_frag_proto(&p, PKT_UDP);
	pkt_fill(&p, 0xff, 16);
	pkt_finish(&p);
	run(fm, &p, T0);

	expect_flows(fm,
		     (struct sf_flow[]){
			     { V6_KEY, .proto = 6, .sport = 40000,
			       .dport = 5201, .packets = 2, .bytes = 172,
			       .start_ms = T0_MS, .end_ms = T0_MS + 1,
			       .tcp_flags = 0x18, .min_ttl = 64, .max_ttl = 64,
			       .min_ip_len = 72, .max_ip_len = 100,
			       .min_tcp_window = 1000, .max_tcp_window = 1000 },
			     { V6_KEY, .proto = 17, ONE_PKT(72) } },
		     2);
	expect_stats(fm, (struct sf_flowmon_stats){ .packets = 3,
						    .accounted = 3,
						    .flows_created = 2,
						    .fragments = 2,
						    .frag_unmatched = 1 });
}

/* ================================================================ */
/* Truncation: every prefix of valid frames                          */
/* ================================================================ */

struct cut_case {
	const char *name;
	void (*build)(struct pkt *p);
	size_t accounted_from; /* shortest prefix that reaches the flow */
	struct sf_flow key;
};

static void cut_tcp4(struct pkt *p)
{
	tcp4_simple(p, 5001, 5201, PKT_PSH | PKT_ACK, "0123456789");
}

static void cut_udp6_ext(struct pkt *p)
{
	ext6(p, (uint8_t[]){ PKT_HOPOPTS, 0, PKT_DSTOPTS, 1, PKT_ROUTING, 0 },
	     3);
	pkt_udp(p, 6000, 7000);
	pkt_fill(p, 0x5a, 20);
	pkt_finish(p);
}

static void cut_qinq(struct pkt *p)
{
	tagged(p, (uint16_t[]){ PKT_ETH_8021AD, 200, PKT_ETH_8021Q, 300 }, 2,
	       false);
}

static void cut_ip4_options(struct pkt *p)
{
	struct pkt_ip4 ip = PKT_IP4;

	ip.opt_len = 40;
	frame_v4(p, &ip);
	pkt_udp(p, 1234, 5678);
	pkt_fill(p, 0xee, 10);
	pkt_finish(p);
}

static void cut_icmp6_vlan(struct pkt *p)
{
	struct pkt_ip6 ip = PKT_IP6;

	pkt_init(p);
	pkt_eth_addrs(p);
	pkt_vlan(p, PKT_ETH_8021Q, 7);
	pkt_ethertype(p, PKT_ETH_IPV6);
	pkt_ipv6(p, &ip);
	pkt_icmp6(p, 128, 0, 0x00090001);
	pkt_fill(p, 0x61, 8);
	pkt_finish(p);
}

static void cut_gre(struct pkt *p)
{
	struct pkt_ip4 ip = PKT_IP4;

	frame_v4(p, &ip);
	pkt_l4_raw(p, PKT_GRE, (uint8_t[]){ 0, 0, 0x08, 0 }, 4);
	pkt_fill(p, 0x45, 20);
	pkt_finish(p);
}

static const struct cut_case cut_cases[] = {
	{ "tcp4",
	  cut_tcp4,
	  14 + 20 + 20,
	  { V4_KEY, .proto = 6, .sport = 5001, .dport = 5201 } },
	{ "udp6+ext",
	  cut_udp6_ext,
	  14 + 40 + 32 + 8,
	  { V6_KEY, .proto = 17, .sport = 6000, .dport = 7000 } },
	{ "qinq",
	  cut_qinq,
	  14 + 8 + 20 + 20,
	  { V4_KEY, .proto = 6, .sport = 40000, .dport = 80, .vlan_id = 200,
	    .inner_vlan_id = 300 } },
	{ "ip4opts",
	  cut_ip4_options,
	  14 + 60 + 8,
	  { V4_KEY, .proto = 17, .sport = 1234, .dport = 5678 } },
	{ "icmp6+vlan",
	  cut_icmp6_vlan,
	  14 + 4 + 40 + 8,
	  { V6_KEY, .proto = 58, .sport = 9, .dport = 0x8000, .vlan_id = 7 } },
	{ "gre", cut_gre, 14 + 20, { V4_KEY, .proto = 47 } },
};

/* The whole frame once: its flow, checked against the case's key, is
 * what every accounted prefix must give too.
 */
static void cut_reference(struct sf_flowmon *fm, const struct cut_case *c,
			  const struct pkt *p, struct sf_flow *ref)
{
	struct flows got = { .n = 0 };

	run(fm, p, T0);
	assert_int_equal(sf_flowmon_flush(fm, collect, &got), 1);
	if (!same_key(&got.f[0], &c->key)) {
		print_flow(c->name, &got.f[0]);
		fail_msg("%s: the whole frame gives the wrong flow", c->name);
	}
	*ref = got.f[0];
}

static void cut_one(struct sf_flowmon *fm, const struct cut_case *c,
		    const struct pkt *p, size_t len, const struct sf_flow *ref)
{
	struct flows got = { .n = 0 };
	int n;

	run_cut(fm, p, len, T0);
	n = sf_flowmon_flush(fm, collect, &got);
	if (n != (len >= c->accounted_from))
		print_error("%s cut at %zu: %d flows\n", c->name, len, n);
	expect_flow_set(&got, ref, len >= c->accounted_from);
}

static void cut_case_run(struct sf_flowmon *fm, const struct cut_case *c,
			 struct sf_flowmon_stats *want)
{
	struct sf_flow ref;
	struct pkt p;

	c->build(&p);
	assert_true(c->accounted_from <= p.len);
	cut_reference(fm, c, &p, &ref);
	want->packets++;
	want->accounted++;
	want->flows_created++;
	for (size_t len = 0; len < p.len; len++) {
		cut_one(fm, c, &p, len, &ref);
		want->packets++;
		if (len < c->accounted_from) {
			want->truncated++;
		} else {
			want->accounted++;
			want->flows_created++;
		}
		expect_stats(fm, *want);
	}
}

static void test_truncation(void **state)
{
	struct sf_flowmon *fm = fm_default(state);
	struct sf_flowmon_stats want = { .packets = 0 };

	for (size_t i = 0; i < ARRAY_SIZE(cut_cases); i++)
		cut_case_run(fm, &cut_cases[i], &want);
}

/* ================================================================ */
/* Malformed and non-IP frames                                       */
/* ================================================================ */

static void bad_ip_version(struct pkt *p)
{
	udp4(p, 1, 2, 8);
	p->b[p->l3_off] = 0x65; /* version 6, ihl 5, in an IPv4 EtherType */
}

static void bad_ihl(struct pkt *p)
{
	udp4(p, 1, 2, 8);
	p->b[p->l3_off] = 0x44;
}

static void bad_tot_len(struct pkt *p)
{
	udp4(p, 1, 2, 8);
	pkt_set16(p, p->l3_off + 2, 19);
}

static void bad_tot_len_options(struct pkt *p)
{
	struct pkt_ip4 ip = PKT_IP4;

	ip.opt_len = 8;
	frame_v4(p, &ip);
	pkt_udp(p, 1, 2);
	pkt_fill(p, 0, 8);
	pkt_finish(p);
	pkt_set16(p, p->l3_off + 2, 24); /* header is 28 */
}

static void bad_ip6_version(struct pkt *p)
{
	udp6(p, 1, 2, 8);
	p->b[p->l3_off] = 0x40 | (p->b[p->l3_off] & 0x0f);
}

static void bad_doff(struct pkt *p)
{
	tcp4_simple(p, 1, 2, PKT_ACK, "payload");
	p->b[p->l4_off + 12] = 4 << 4;
}

static void bad_udp_len(struct pkt *p)
{
	udp4(p, 1, 2, 8);
	pkt_set16(p, p->l4_off + 4, 7);
}

static void test_malformed(void **state)
{
	static void (*const cases[])(struct pkt * p) = {
		bad_ip_version,	 bad_ihl,  bad_tot_len, bad_tot_len_options,
		bad_ip6_version, bad_doff, bad_udp_len,
	};
	struct sf_flowmon *fm = fm_default(state);
	struct pkt p;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		cases[i](&p);
		run(fm, &p, T0);
		expect_stats(fm,
			     (struct sf_flowmon_stats){ .packets = i + 1,
							.malformed = i + 1 });
	}
	expect_no_flows(fm);
}

/* ARP, LLDP and ARP in a VLAN: not IP, no flow. */
static void test_not_ip(void **state)
{
	struct sf_flowmon *fm = fm_default(state);
	struct pkt p;

	pkt_init(&p);
	pkt_arp(&p);
	run(fm, &p, T0);
	pkt_init(&p);
	pkt_eth(&p, 0x88cc);
	pkt_fill(&p, 0x02, 32);
	run(fm, &p, T0);
	pkt_init(&p);
	pkt_eth_addrs(&p);
	pkt_vlan(&p, PKT_ETH_8021Q, 5);
	pkt_ethertype(&p, PKT_ETH_ARP);
	pkt_fill(&p, 0x01, 28);
	run(fm, &p, T0);

	expect_no_flows(fm);
	expect_stats(fm,
		     (struct sf_flowmon_stats){ .packets = 3, .not_ip = 3 });
}

/* ================================================================ */
/* Protocol selection (-p)                                           */
/* ================================================================ */

/* -p eth,ipv4,tcp: only TCP over IPv4 makes a flow. A UDP datagram's
 * fragments are UDP packets too, the later one included.
 */
static void test_proto_select(void **state)
{
	struct sf_flowmon *fm = fm_open(
		state, (struct sf_flowmon_opts){ .protocols = SF_PROTO_ETH |
							      SF_PROTO_IPV4 |
							      SF_PROTO_TCP });
	struct pkt_ip4 ip = PKT_IP4;
	struct pkt_ip6 ip6 = PKT_IP6;
	struct pkt p;

	tcp4_simple(&p, 40000, 25, PKT_SYN, "");
	run(fm, &p, T0);
	udp4(&p, 40000, 25, 8);
	run(fm, &p, T0);
	frame_v4(&p, &ip);
	pkt_icmp(&p, 8, 0, 0x00010001);
	pkt_finish(&p);
	run(fm, &p, T0);
	tcp6(&p, &ip6, (struct pkt_tcp){ 40000, 25, PKT_SYN, 1024 }, "");
	run(fm, &p, T0);
	frag4_first(&p, 0x4444, 40000, 25, 32);
	run(fm, &p, T0);
	frag4_later(&p, 0x4444, 5, false, 8);
	run(fm, &p, T0);

	expect_flow(fm, (struct sf_flow){
				V4_KEY, .proto = 6, .sport = 40000, .dport = 25,
				ONE_PKT(40), .tcp_flags = PKT_SYN,
				.min_tcp_window = 1024, .max_tcp_window = 1024,
				.tcp_syns = 1 });
	expect_stats(fm, (struct sf_flowmon_stats){ .packets = 6,
						    .accounted = 1,
						    .flows_created = 1,
						    .proto_skipped = 5 });
}

/* ================================================================ */
/* Table full                                                        */
/* ================================================================ */

static void run_flows(struct sf_flowmon *fm, uint16_t first, int n)
{
	struct pkt p;

	for (int i = 0; i < n; i++) {
		udp4(&p, first + i, 9999, 4);
		run(fm, &p, T0);
	}
}

static void expect_first_16(struct sf_flowmon *fm, uint64_t packets)
{
	struct sf_flow want[16];

	for (int i = 0; i < 16; i++)
		want[i] = (struct sf_flow){ V4_KEY,
					    .proto = 17,
					    .sport = 1000 + i,
					    .dport = 9999,
					    .packets = packets,
					    .bytes = 32 * packets,
					    .min_ip_len = 32,
					    .max_ip_len = 32,
					    .min_ttl = 64,
					    .max_ttl = 64,
					    .start_ms = T0_MS,
					    .end_ms = T0_MS };
	expect_flows(fm, want, 16);
}

/* 40 flows into 16 entries: the first 16 fill the table, the other 24
 * packets count as table_full; known flows are still accounted, and a
 * flush makes room again.
 */
static void test_table_full(void **state)
{
	struct sf_flowmon *fm =
		fm_open(state, (struct sf_flowmon_opts){ .max_flows = 16 });

	run_flows(fm, 1000, 40);
	expect_first_16(fm, 1);
	expect_stats(fm, (struct sf_flowmon_stats){ .packets = 40,
						    .accounted = 16,
						    .flows_created = 16,
						    .table_full = 24 });
	run_flows(fm, 1000, 40);
	expect_first_16(fm, 2);
	expect_stats(fm, (struct sf_flowmon_stats){ .packets = 80,
						    .accounted = 32,
						    .flows_created = 16,
						    .table_full = 48 });
	assert_int_equal(sf_flowmon_flush(fm, NULL, NULL), 16);
	run_flows(fm, 2000, 1);
	expect_stats(fm, (struct sf_flowmon_stats){ .packets = 81,
						    .accounted = 33,
						    .flows_created = 17,
						    .table_full = 48 });
}

/* More flows than one batch read (FM_READ_BATCH) takes: the flow manager
 * reads each exactly once, in batches and one key at a time alike.
 */
static void test_read_many_flows(void **state)
{
	struct sf_flowmon *fm =
		fm_open(state, (struct sf_flowmon_opts){ .max_flows = 8192 });
	size_t want = 3 * FM_READ_BATCH - 100, nb, nk;
	uint8_t *seen = calloc(65536, 1);
	struct fm_entry *batch, *keys;

	assert_non_null(seen);
	run_flows(fm, 1000, want);
	assert_int_equal(fm_table_read(fm, false, &batch, &nb), 0);
	assert_int_equal(fm_table_read(fm, true, &keys, &nk), 0);
	assert_int_equal(nb, want);
	assert_int_equal(nk, want);
	for (size_t i = 0; i < nb; i++)
		assert_int_equal(seen[batch[i].key.sport]++, 0);
	for (size_t i = 0; i < nk; i++)
		assert_int_equal(seen[keys[i].key.sport]++, 1);
	free(batch);
	free(keys);
	free(seen);
	assert_int_equal(sf_flowmon_flush(fm, NULL, NULL), want);
}

/* ================================================================ */
/* DPI                                                               */
/* ================================================================ */

static void dns4(struct pkt *p, uint16_t sport, uint16_t dport, uint16_t flags,
		 const char *name, uint16_t qtype)
{
	struct pkt_ip4 ip = PKT_IP4;

	frame_v4(p, &ip);
	pkt_udp(p, sport, dport);
	pkt_dns(p, 0x1234, flags, name, qtype);
	pkt_finish(p);
}

/* A second query on the flow is not inspected again. */
static void test_dpi_dns_query(void **state)
{
	struct sf_flowmon *fm = fm_dpi(state);
	struct pkt p;

	dns4(&p, 40000, 53, 0x0100, "www.example.com", 1);
	run(fm, &p, T0); /* 20 + 8 + 12 + 17 + 4 */
	dns4(&p, 40000, 53, 0x0100, "other.example.com", 28);
	run(fm, &p, T0);

	expect_flow(fm, (struct sf_flow){
				V4_KEY, .proto = 17, .sport = 40000,
				.dport = 53, .packets = 2, .bytes = 124,
				.min_ip_len = 61, .max_ip_len = 63,
				.min_ttl = 64, .max_ttl = 64, .start_ms = T0_MS,
				.end_ms = T0_MS, .dpi_kind = SF_DPI_DNS,
				.name = "www.example.com", .dns_qtype = 1 });
	expect_stats(fm, (struct sf_flowmon_stats){ .packets = 2,
						    .accounted = 2,
						    .flows_created = 1,
						    .dpi_done = 1 });
}

static void test_dpi_dns_response(void **state)
{
	struct sf_flowmon *fm = fm_dpi(state);
	struct pkt p;

	dns4(&p, 53, 40000, 0x8183, "nxdomain.example", 28);
	run(fm, &p, T0);

	expect_flow(fm, (struct sf_flow){ V4_KEY, .proto = 17, .sport = 53,
					  .dport = 40000, ONE_PKT(62),
					  .dpi_kind = SF_DPI_DNS,
					  .name = "nxdomain.example",
					  .dns_qtype = 28, .dns_rcode = 3 });
	expect_stats(fm, (struct sf_flowmon_stats){ .packets = 1,
						    .accounted = 1,
						    .flows_created = 1,
						    .dpi_done = 1 });
}

#define HTTP_GET                                                   \
	"GET /index.html HTTP/1.1\r\nUser-Agent: sysflow-test\r\n" \
	"Host: example.org\r\nAccept: */*\r\n\r\n"
#define HTTP_POST                                        \
	"POST /api HTTP/1.1\r\nhost:api.example.org\r\n" \
	"Content-Length: 2\r\n\r\n{}"

/* The SYN has no payload and leaves the flow to the request; Host is found
 * after other headers, in any case, with or without a space.
 */
static void test_dpi_http(void **state)
{
	struct sf_flowmon *fm = fm_dpi(state);
	struct pkt p;

	tcp4_simple(&p, 40000, 80, PKT_SYN, "");
	run(fm, &p, T0);
	tcp4_simple(&p, 40000, 80, PKT_PSH | PKT_ACK, HTTP_GET);
	run(fm, &p, T0);
	tcp4_simple(&p, 40001, 8080, PKT_PSH | PKT_ACK, HTTP_POST);
	run(fm, &p, T0);

	expect_flows(
		fm,
		(struct sf_flow[]){
			{ V4_KEY, .proto = 6, .sport = 40000, .dport = 80,
			  .packets = 2, .bytes = 40 + 40 + sizeof(HTTP_GET) - 1,
			  .min_ip_len = 40,
			  .max_ip_len = 40 + sizeof(HTTP_GET) - 1,
			  .min_ttl = 64, .max_ttl = 64, .start_ms = T0_MS,
			  .end_ms = T0_MS, .tcp_flags = 0x1a,
			  .min_tcp_window = 1024, .max_tcp_window = 1024,
			  .dpi_kind = SF_DPI_HTTP, .http_method = "GET",
			  .name = "example.org", .tcp_syns = 1 },
			{ V4_KEY, .proto = 6, .sport = 40001, .dport = 8080,
			  ONE_PKT(40 + sizeof(HTTP_POST) - 1),
			  .tcp_flags = 0x18, .min_tcp_window = 1024,
			  .max_tcp_window = 1024, .dpi_kind = SF_DPI_HTTP,
			  .http_method = "POST", .name = "api.example.org" } },
		2);
	expect_stats(fm, (struct sf_flowmon_stats){ .packets = 3,
						    .accounted = 3,
						    .flows_created = 2,
						    .dpi_done = 2 });
}

/* A TCP segment to 443 carrying a ClientHello; returns the offset in
 * the frame just past the server name.
 */
static size_t tls4(struct pkt *p, uint16_t sport, const char *sni)
{
	struct pkt_ip4 ip = PKT_IP4;
	size_t sni_end;

	frame_v4(p, &ip);
	pkt_tcp(p, &(struct pkt_tcp){ sport, 443, PKT_PSH | PKT_ACK, 1024 });
	sni_end = pkt_tls_client_hello(p, sni);
	pkt_finish(p);
	return sni_end;
}

static void test_dpi_tls(void **state)
{
	struct sf_flowmon *fm = fm_dpi(state);
	struct pkt p;

	tls4(&p, 40000, "sni.example.net");
	run(fm, &p, T0);

	expect_flow(fm, (struct sf_flow){
				V4_KEY, .proto = 6, .sport = 40000,
				.dport = 443, ONE_PKT(p.len - 14),
				.tcp_flags = 0x18, .min_tcp_window = 1024,
				.max_tcp_window = 1024, .dpi_kind = SF_DPI_TLS,
				.name = "sni.example.net" });
	expect_stats(fm, (struct sf_flowmon_stats){ .packets = 1,
						    .accounted = 1,
						    .flows_created = 1,
						    .dpi_done = 1 });
}

#define SSH_CLIENT "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n"
#define SSH_SERVER "SSH-2.0-dropbear_2022.83\r\nkex..."

/* Either end's first line, by port 22 on either side; a payload that is
 * not an identification string fails.
 */
static void test_dpi_ssh(void **state)
{
	struct sf_flowmon *fm = fm_dpi(state);
	struct flows got = { .n = 0 };
	struct pkt p;

	tcp4_simple(&p, 40000, 22, PKT_PSH | PKT_ACK, SSH_CLIENT);
	run(fm, &p, T0);
	tcp4_simple(&p, 22, 40001, PKT_PSH | PKT_ACK, SSH_SERVER);
	run(fm, &p, T0);
	tcp4_simple(&p, 40002, 22, PKT_PSH | PKT_ACK, "HTTP/1.0 200 OK\r\n");
	run(fm, &p, T0);

	assert_int_equal(sf_flowmon_snapshot(fm, collect, &got), 0);
	assert_int_equal(got.n, 3);
	for (int i = 0; i < got.n; i++) {
		const struct sf_flow *f = &got.f[i];
		const char *want =
			f->sport == 40000 ?
				"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3" :
			f->sport == 22 ? "SSH-2.0-dropbear_2022.83" :
					 "";

		assert_int_equal(f->dpi_kind, *want ? SF_DPI_SSH : SF_DPI_NONE);
		assert_string_equal(f->name, want);
	}
	expect_stats(fm, (struct sf_flowmon_stats){ .packets = 3,
						    .accounted = 3,
						    .flows_created = 3,
						    .dpi_done = 2,
						    .dpi_failed = 1 });
}

/* One cut of the ClientHello frame, on a fresh table: the whole server
 * name is needed, anything shorter fails inspection without a name.
 */
static void tls_cut_one(struct sf_flowmon *fm, const struct pkt *p, size_t len,
			size_t sni_end)
{
	struct flows got = { .n = 0 };
	bool named = len >= sni_end;

	run_cut(fm, p, len, T0);
	assert_int_equal(sf_flowmon_flush(fm, collect, &got), 1);
	if (got.f[0].dpi_kind != (named ? SF_DPI_TLS : SF_DPI_NONE) ||
	    strcmp(got.f[0].name, named ? "sni.example.net" : ""))
		fail_msg("ClientHello cut at %zu of %zu (name ends at %zu): "
			 "dpi_kind %u name \"%s\"",
			 len, p->len, sni_end, got.f[0].dpi_kind,
			 got.f[0].name);
}

/* The ClientHello cut at every byte after the TCP header (the IP length
 * still claims all of it), then a first segment that ends before the
 * server name (the IP length says so).
 */
static void test_dpi_tls_cut(void **state)
{
	struct sf_flowmon *fm = fm_dpi(state);
	size_t sni_end, start = 14 + 20 + 20, n, done, failed;
	struct flows got = { .n = 0 };
	struct pkt p;

	sni_end = tls4(&p, 40000, "sni.example.net");
	n = p.len - start;
	done = p.len - sni_end;
	failed = sni_end - start;
	for (size_t len = start; len < p.len; len++)
		tls_cut_one(fm, &p, len, sni_end);
	expect_stats(fm, (struct sf_flowmon_stats){ .packets = n,
						    .accounted = n,
						    .flows_created = n,
						    .dpi_done = done,
						    .dpi_failed = failed });

	p.len = sni_end - 20; /* ends in the middle of the name */
	pkt_finish(&p);
	run(fm, &p, T0);
	assert_int_equal(sf_flowmon_snapshot(fm, collect, &got), 0);
	assert_int_equal(got.n, 1);
	assert_int_equal(got.f[0].dpi_kind, SF_DPI_NONE);
	assert_string_equal(got.f[0].name, "");
	expect_stats(fm, (struct sf_flowmon_stats){ .packets = n + 1,
						    .accounted = n + 1,
						    .flows_created = n + 1,
						    .dpi_done = done,
						    .dpi_failed = failed + 1 });
}

/* Names longer than 63 bytes are cut to 63, by each inspector. */
static void test_dpi_long_names(void **state)
{
	static const char dns[] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
				  "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb."
				  "example.com";
	static const char host[] = "h123456789h123456789h123456789h123456789"
				   "h123456789h123456789h1234567.example.org";
	struct sf_flowmon *fm = fm_dpi(state);
	char req[256];
	struct flows got = { .n = 0 };
	struct pkt p;

	dns4(&p, 40000, 53, 0x0100, dns, 16);
	run(fm, &p, T0);
	snprintf(req, sizeof(req), "GET / HTTP/1.0\r\nHost: %s\r\n\r\n", host);
	tcp4_simple(&p, 40000, 80, PKT_PSH | PKT_ACK, req);
	run(fm, &p, T0);
	tls4(&p, 40000, host);
	run(fm, &p, T0);

	assert_int_equal(sf_flowmon_snapshot(fm, collect, &got), 0);
	assert_int_equal(got.n, 3);
	for (int i = 0; i < got.n; i++) {
		const char *want = got.f[i].dpi_kind == SF_DPI_DNS ? dns : host;

		assert_int_equal(strlen(got.f[i].name), 63);
		assert_memory_equal(got.f[i].name, want, 63);
	}
	expect_stats(fm, (struct sf_flowmon_stats){ .packets = 3,
						    .accounted = 3,
						    .flows_created = 3,
						    .dpi_done = 3 });
}

/* ================================================================ */
/* Exactness                                                         */
/* ================================================================ */

static void test_exact_1000(void **state)
{
	struct sf_flowmon *fm = fm_default(state);
	struct pkt p;

	udp6(&p, 12345, 443, 1200);
	for (int i = 0; i < 1000; i++)
		run(fm, &p, T0 + i * NS_PER_MS);

	expect_flow(fm,
		    (struct sf_flow){ V6_KEY, .proto = 17, .sport = 12345,
				      .dport = 443, .packets = 1000,
				      .bytes = 1000 * 1248, .min_ip_len = 1248,
				      .max_ip_len = 1248, .min_ttl = 64,
				      .max_ttl = 64, .start_ms = T0_MS,
				      .end_ms = T0_MS + 999 });
	expect_stats(fm, (struct sf_flowmon_stats){ .packets = 1000,
						    .accounted = 1000,
						    .flows_created = 1 });
}

/* ================================================================ */

/* Each case once per pipeline, named "pipeline: case". */
#define PIPE_TEST(fn, i, label)                                          \
	{                                                                \
		label ": " #fn, fn, fx_setup, fx_teardown, &pipelines[i] \
	}
#define ALL_PIPES(fn)                                              \
	PIPE_TEST(fn, 0, "single"), PIPE_TEST(fn, 1, "tail_meta"), \
		PIPE_TEST(fn, 2, "tail_map")

int main(void)
{
	const struct CMUnitTest tests[] = {
		ALL_PIPES(test_tcp_v4),
		ALL_PIPES(test_tcp_v6),
		ALL_PIPES(test_tcp_syn_rst_counts),
		ALL_PIPES(test_udp_v4),
		ALL_PIPES(test_udp_v6),
		ALL_PIPES(test_icmp_echo),
		ALL_PIPES(test_icmp_other),
		ALL_PIPES(test_icmpv6),
		ALL_PIPES(test_other_proto),
		ALL_PIPES(test_vlan_8021q),
		ALL_PIPES(test_vlan_qinq),
		ALL_PIPES(test_vlan_depth),
		ALL_PIPES(test_ipv4_options),
		ALL_PIPES(test_ipv4_fragments),
		ALL_PIPES(test_ipv4_frag_unmatched),
		ALL_PIPES(test_ipv6_ext_chains),
		ALL_PIPES(test_ipv6_fragments),
		ALL_PIPES(test_truncation),
		ALL_PIPES(test_malformed),
		ALL_PIPES(test_not_ip),
		ALL_PIPES(test_proto_select),
		ALL_PIPES(test_table_full),
		PIPE_TEST(test_read_many_flows, 0, "single"),
		ALL_PIPES(test_dpi_dns_query),
		ALL_PIPES(test_dpi_dns_response),
		ALL_PIPES(test_dpi_http),
		ALL_PIPES(test_dpi_tls),
		ALL_PIPES(test_dpi_tls_cut),
		ALL_PIPES(test_dpi_ssh),
		ALL_PIPES(test_dpi_long_names),
		ALL_PIPES(test_exact_1000),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
