// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_route_prog.c: the TC policy router (bpf/route.bpf.c) run through
 * BPF_PROG_TEST_RUN with crafted packets: priorities, longest prefixes,
 * port ranges, tenants and ingress interfaces, every action's return code
 * and rewritten bytes, generations, counters. Needs root.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cmocka.h>
#include <sysflow/sysflow.h>
#include "route/route_int.h"
#include "route.skel.h"

struct env {
	struct route_bpf *skel;
	struct rt_maps maps;
	int prog_fd;
	char cfg_path[64];
};

static const uint8_t CLIENT_MAC[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t ROUTER_MAC[6] = { 0x02, 0, 0, 0, 0, 0x02 };

/* ---- packets ---- */

struct pkt {
	uint16_t _align; /* puts the IP header (b + 14) on 4 bytes */
	uint8_t b[256];
	uint32_t len;
};

static uint16_t csum(const void *data, size_t len)
{
	const uint16_t *p = data;
	uint32_t sum = 0;

	for (; len > 1; len -= 2)
		sum += *p++;
	if (len)
		sum += *(const uint8_t *)p;
	while (sum >> 16)
		sum = (sum & 0xFFFF) + (sum >> 16);
	return ~sum;
}

static struct ethhdr *put_eth(struct pkt *p, uint16_t proto)
{
	struct ethhdr *eth = (void *)p->b;

	memcpy(eth->h_dest, ROUTER_MAC, 6);
	memcpy(eth->h_source, CLIENT_MAC, 6);
	eth->h_proto = htons(proto);
	p->len = sizeof(*eth);
	return eth;
}

static void put_l4(struct pkt *p, uint8_t proto, uint16_t sport, uint16_t dport)
{
	if (proto == IPPROTO_TCP) {
		struct tcphdr *t = (void *)(p->b + p->len);

		memset(t, 0, sizeof(*t));
		t->source = htons(sport);
		t->dest = htons(dport);
		t->doff = 5;
		t->syn = 1;
		p->len += sizeof(*t);
	} else if (proto == IPPROTO_UDP) {
		struct udphdr *u = (void *)(p->b + p->len);

		u->source = htons(sport);
		u->dest = htons(dport);
		u->len = htons(sizeof(*u) + 8);
		u->check = 0;
		p->len += sizeof(*u) + 8;
	} else {
		memset(p->b + p->len, 0, 16); /* ICMP echo */
		p->b[p->len] = 8;
		p->len += 16;
	}
}

/* IPv4 packet; frag_off in host order (IP_MF, offset in 8-byte units). */
static struct pkt ip4(const char *src, const char *dst, uint8_t proto,
		      uint16_t sport, uint16_t dport, uint8_t ttl,
		      uint16_t frag_off)
{
	struct pkt p = {};
	struct iphdr *ip;

	put_eth(&p, ETH_P_IP);
	ip = (void *)(p.b + p.len);
	ip->version = 4;
	ip->ihl = 5;
	ip->ttl = ttl;
	ip->protocol = proto;
	ip->frag_off = htons(frag_off);
	inet_pton(AF_INET, src, &ip->saddr);
	inet_pton(AF_INET, dst, &ip->daddr);
	p.len += sizeof(*ip);
	if (!(frag_off & 0x1FFF))
		put_l4(&p, proto, sport, dport);
	else
		p.len += 16;
	ip->tot_len = htons(p.len - sizeof(struct ethhdr));
	ip->check = csum(ip, sizeof(*ip));
	return p;
}

static struct pkt udp4(const char *src, const char *dst, uint16_t sport,
		       uint16_t dport)
{
	return ip4(src, dst, IPPROTO_UDP, sport, dport, 64, 0);
}

static struct pkt udp6(const char *src, const char *dst, uint16_t dport)
{
	struct pkt p = {};
	struct ipv6hdr *ip6;

	put_eth(&p, ETH_P_IPV6);
	ip6 = (void *)(p.b + p.len);
	ip6->version = 6;
	ip6->hop_limit = 64;
	ip6->nexthdr = IPPROTO_UDP;
	inet_pton(AF_INET6, src, &ip6->saddr);
	inet_pton(AF_INET6, dst, &ip6->daddr);
	p.len += sizeof(*ip6);
	put_l4(&p, IPPROTO_UDP, 4000, dport);
	ip6->payload_len = htons(p.len - sizeof(struct ethhdr) - sizeof(*ip6));
	return p;
}

/* ---- running ---- */

struct result {
	int ret;
	struct pkt out;
};

static struct result run(struct env *e, const struct pkt *in,
			 uint32_t ingress_ifindex)
{
	struct __sk_buff ctx = { .ingress_ifindex = ingress_ifindex };
	struct result r = {};
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in->b,
		    .data_size_in = in->len, .data_out = r.out.b,
		    .data_size_out = sizeof(r.out.b), .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = 1);

	assert_int_equal(bpf_prog_test_run_opts(e->prog_fd, &o), 0);
	r.ret = o.retval;
	r.out.len = o.data_size_out;
	return r;
}

static int ret_of(struct env *e, struct pkt p, uint32_t ingress_ifindex)
{
	return run(e, &p, ingress_ifindex).ret;
}

static uint64_t stat_of(struct env *e, uint32_t k)
{
	uint64_t v[512] = {}, sum = 0;

	assert_true(e->maps.ncpus <= 512);
	assert_int_equal(bpf_map_lookup_elem(e->maps.fd[RT_MAP_STATS], &k, v),
			 0);
	for (int i = 0; i < e->maps.ncpus; i++)
		sum += v[i];
	return sum;
}

static struct route_counter counter_of(struct env *e, uint32_t gen,
				       uint32_t slot)
{
	struct route_counter c;

	assert_int_equal(rt_maps_rule_counter(&e->maps,
					      gen * ROUTE_MAX_RULES + slot, &c),
			 0);
	return c;
}

static void set_active(struct env *e, uint32_t gen)
{
	uint32_t zero = 0;

	assert_int_equal(bpf_map_update_elem(e->maps.fd[RT_MAP_ACTIVE], &zero,
					     &gen, BPF_ANY),
			 0);
}

static struct rt_rule *rule_named(struct sf_route_config *c, const char *n)
{
	for (int i = 0; i < c->nrules; i++)
		if (!strcmp(c->rules[i].name, n))
			return &c->rules[i];
	fail_msg("no rule %s", n);
	return NULL;
}

/* Load a JSON rule set without resolving interfaces; fix lets the test
 * give interfaces the indexes it wants, then generation gen is written
 * and made active.
 */
static void install(struct env *e, uint32_t gen, const char *json,
		    void (*fix)(struct sf_route_config *))
{
	struct sf_route_config *cfg;
	struct rt_tables *t;
	FILE *f = fopen(e->cfg_path, "w");

	assert_non_null(f);
	fputs(json, f);
	fclose(f);
	assert_int_equal(sf_route_config_load(e->cfg_path, SF_ROUTE_NO_IFACES,
					      &cfg, NULL),
			 0);
	if (fix)
		fix(cfg);
	assert_int_equal(rt_compile(cfg, &t), 0);
	assert_int_equal(rt_maps_write_gen(&e->maps, gen, t), 0);
	rt_tables_free(t);
	sf_route_config_free(cfg);
	set_active(e, gen);
}

#define HOOKS "\"attach\": [{\"iface\": \"lo\"}], "

/* ---- tests ---- */

static void test_priority_beats_prefix_length(void **state)
{
	struct env *e = *state;

	install(e, 0,
		"{" HOOKS "\"rules\": ["
		"{\"priority\": 20, \"name\": \"pass16\", \"dst\": \"10.1.0.0/16\", "
		"\"action\": \"pass\"},"
		"{\"priority\": 10, \"name\": \"drop8\", \"dst\": \"10.0.0.0/8\", "
		"\"proto\": \"udp\", \"dport\": 53, \"action\": \"drop\"}]}",
		NULL);
	/* the /8 rule has the lower priority value: it wins over the /16 */
	assert_int_equal(ret_of(e, udp4("1.1.1.1", "10.1.2.3", 5, 53), 1),
			 TC_ACT_SHOT);
	assert_int_equal(ret_of(e, udp4("1.1.1.1", "10.1.2.3", 5, 54), 1),
			 TC_ACT_OK);
	assert_int_equal(counter_of(e, 0, 0).packets, 1); /* drop8 */
	assert_int_equal(counter_of(e, 0, 1).packets, 1); /* pass16 */
	/* swapped priorities in the other generation */
	install(e, 1,
		"{" HOOKS "\"rules\": ["
		"{\"priority\": 5, \"name\": \"pass16\", \"dst\": \"10.1.0.0/16\", "
		"\"action\": \"pass\"},"
		"{\"priority\": 10, \"name\": \"drop8\", \"dst\": \"10.0.0.0/8\", "
		"\"proto\": \"udp\", \"dport\": 53, \"action\": \"drop\"}]}",
		NULL);
	assert_int_equal(ret_of(e, udp4("1.1.1.1", "10.1.2.3", 5, 53), 1),
			 TC_ACT_OK);
	assert_int_equal(ret_of(e, udp4("1.1.1.1", "10.2.2.3", 5, 53), 1),
			 TC_ACT_SHOT);
}

static void test_longest_prefix_and_source(void **state)
{
	struct env *e = *state;
	uint64_t unmatched;

	install(e, 0,
		"{" HOOKS "\"rules\": ["
		"{\"priority\": 10, \"name\": \"src-net\", \"src\": \"192.168.7.0/24\", "
		"\"dst\": \"10.0.0.0/8\", \"action\": \"drop\"},"
		"{\"priority\": 20, \"name\": \"host\", \"dst\": \"10.1.1.5/32\", "
		"\"action\": \"pass\"},"
		"{\"priority\": 30, \"name\": \"net24\", \"dst\": \"10.1.1.0/24\", "
		"\"action\": \"drop\"}]}",
		NULL);
	/* the /8 of src-net must be in the bitmaps of the longer /24 and /32 */
	assert_int_equal(ret_of(e, udp4("192.168.7.9", "10.1.1.5", 1, 2), 1),
			 TC_ACT_SHOT);
	assert_int_equal(counter_of(e, 0, 0).packets, 1);
	assert_int_equal(ret_of(e, udp4("192.168.8.9", "10.1.1.5", 1, 2), 1),
			 TC_ACT_OK);
	assert_int_equal(counter_of(e, 0, 1).packets, 1);
	assert_int_equal(ret_of(e, udp4("192.168.8.9", "10.1.1.6", 1, 2), 1),
			 TC_ACT_SHOT);
	assert_int_equal(counter_of(e, 0, 2).packets, 1);
	unmatched = stat_of(e, RSTAT_UNMATCHED);
	assert_int_equal(ret_of(e, udp4("192.168.8.9", "10.1.2.6", 1, 2), 1),
			 TC_ACT_OK);
	assert_int_equal(stat_of(e, RSTAT_UNMATCHED), unmatched + 1);
	/* an IPv4 rule never matches IPv6, a rule without addresses does */
	assert_int_equal(ret_of(e, udp6("fd00::1", "fd00::2", 53), 1),
			 TC_ACT_OK);
	assert_int_equal(stat_of(e, RSTAT_UNMATCHED), unmatched + 2);
}

static void test_ipv6(void **state)
{
	struct env *e = *state;

	install(e, 0,
		"{" HOOKS "\"rules\": ["
		"{\"priority\": 1, \"src\": \"fd00:1::/32\", \"dst\": \"fd00:2::/64\", "
		"\"action\": \"drop\"},"
		"{\"priority\": 2, \"proto\": \"udp\", \"dport\": 53, "
		"\"action\": \"drop\"}]}",
		NULL);
	assert_int_equal(ret_of(e, udp6("fd00:1:5::1", "fd00:2::9", 80), 1),
			 TC_ACT_SHOT);
	assert_int_equal(ret_of(e, udp6("fd00:3::1", "fd00:2::9", 80), 1),
			 TC_ACT_OK);
	assert_int_equal(ret_of(e, udp6("fd00:3::1", "fd00:2::9", 53), 1),
			 TC_ACT_SHOT);
	assert_int_equal(ret_of(e, udp4("10.0.0.1", "10.0.0.2", 1, 53), 1),
			 TC_ACT_SHOT);
}

static void test_port_ranges(void **state)
{
	struct env *e = *state;
	struct pkt frag;

	install(e, 0,
		"{" HOOKS "\"rules\": ["
		"{\"priority\": 1, \"proto\": \"tcp\", \"dport\": \"1000-2000\", "
		"\"sport\": \"30000-30010\", \"action\": \"drop\"},"
		"{\"priority\": 2, \"proto\": \"udp\", \"dport\": 7, \"action\": \"drop\"},"
		"{\"priority\": 3, \"proto\": \"udp\", \"dst\": \"10.9.0.0/16\", "
		"\"action\": \"drop\"}]}",
		NULL);
	static const struct {
		uint8_t proto;
		uint16_t sport, dport;
		int ret;
	} cases[] = {
		{ IPPROTO_TCP, 30000, 999, TC_ACT_OK },
		{ IPPROTO_TCP, 30000, 1000, TC_ACT_SHOT },
		{ IPPROTO_TCP, 30010, 2000, TC_ACT_SHOT },
		{ IPPROTO_TCP, 30000, 2001, TC_ACT_OK },
		{ IPPROTO_TCP, 30011, 1500, TC_ACT_OK },
		{ IPPROTO_TCP, 29999, 1500, TC_ACT_OK },
		{ IPPROTO_UDP, 30000, 1500, TC_ACT_OK }, /* wrong protocol */
		{ IPPROTO_UDP, 1, 7, TC_ACT_SHOT },
		{ IPPROTO_UDP, 1, 8, TC_ACT_OK },
		{ IPPROTO_ICMP, 0, 0, TC_ACT_OK },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pkt p = ip4("10.0.0.1", "10.0.0.2", cases[i].proto,
				   cases[i].sport, cases[i].dport, 64, 0);

		if (run(e, &p, 1).ret != cases[i].ret)
			fail_msg("case %zu: proto %u %u->%u expected %d", i,
				 cases[i].proto, cases[i].sport, cases[i].dport,
				 cases[i].ret);
	}
	/* a later UDP fragment has no ports: only the port-less rule 3 */
	frag = ip4("10.0.0.1", "10.0.0.2", IPPROTO_UDP, 0, 0, 64, 100);
	assert_int_equal(run(e, &frag, 1).ret, TC_ACT_OK);
	frag = ip4("10.0.0.1", "10.9.0.2", IPPROTO_UDP, 0, 0, 64, 100);
	assert_int_equal(run(e, &frag, 1).ret, TC_ACT_SHOT);
	assert_int_equal(counter_of(e, 0, 2).packets, 1);
}

static void tenant_ifindexes(struct sf_route_config *c)
{
	c->tenants[0].devices[0].ifindex = 5;
	c->tenants[0].devices[1].ifindex = 6;
	c->tenants[1].devices[0].ifindex = 8;
	rule_named(c, "from-7")->in_ifindex = 7;
	rule_named(c, "t1-on-6")->in_ifindex = 6;
}

static void test_tenants_and_ingress(void **state)
{
	struct env *e = *state;

	install(e, 0,
		"{" HOOKS "\"tenants\": ["
		"{\"name\": \"t1\", \"devices\": ["
		"  {\"device\": \"a\", \"name\": \"A\"},"
		"  {\"device\": \"b\", \"name\": \"B\"}]},"
		"{\"name\": \"t2\", \"devices\": [{\"device\": \"c\", \"name\": \"C\"}]}],"
		"\"rules\": ["
		"{\"priority\": 1, \"name\": \"t1-on-6\", \"tenant\": \"t1\", "
		"\"in_iface\": \"b\", \"proto\": \"icmp\", \"action\": \"pass\"},"
		"{\"priority\": 2, \"name\": \"t1\", \"tenant\": \"t1\", "
		"\"action\": \"drop\"},"
		"{\"priority\": 3, \"name\": \"from-7\", \"in_iface\": \"x\", "
		"\"action\": \"drop\"}]}",
		tenant_ifindexes);
	assert_int_equal(ret_of(e, udp4("1.0.0.1", "2.0.0.1", 1, 2), 5),
			 TC_ACT_SHOT);
	assert_int_equal(ret_of(e, udp4("1.0.0.1", "2.0.0.1", 1, 2), 6),
			 TC_ACT_SHOT);
	assert_int_equal(ret_of(e, udp4("1.0.0.1", "2.0.0.1", 1, 2), 7),
			 TC_ACT_SHOT);
	assert_int_equal(ret_of(e, udp4("1.0.0.1", "2.0.0.1", 1, 2), 8),
			 TC_ACT_OK); /* tenant t2: no rule */
	assert_int_equal(ret_of(e, udp4("1.0.0.1", "2.0.0.1", 1, 2), 9),
			 TC_ACT_OK);
	struct pkt icmp = ip4("1.0.0.1", "2.0.0.1", IPPROTO_ICMP, 0, 0, 64, 0);

	assert_int_equal(run(e, &icmp, 6).ret, TC_ACT_OK);
	assert_int_equal(run(e, &icmp, 5).ret, TC_ACT_SHOT);
	assert_int_equal(counter_of(e, 0, 0).packets, 1);
	assert_int_equal(counter_of(e, 0, 1).packets, 3);
	assert_int_equal(counter_of(e, 0, 2).packets, 1);
}

static void out_ifindexes(struct sf_route_config *c)
{
	for (int i = 0; i < c->nrules; i++)
		c->rules[i].act.out_ifindex = 40 + i;
}

static void test_actions(void **state)
{
	struct env *e = *state;
	static const uint8_t S1[6] = { 0x0a, 0xbb, 0xcc, 0xdd, 0xee, 0x01 };
	static const uint8_t SRC[6] = { 0x0a, 0xbb, 0xcc, 0xdd, 0xee, 0xff };
	struct result r;
	struct pkt in;
	struct iphdr *ip;
	uint64_t expired;

	install(e, 0,
		"{" HOOKS "\"rules\": ["
		"{\"priority\": 1, \"dst\": \"10.0.1.0/24\", \"action\": \"redirect\", "
		"\"out_iface\": \"s1\", \"dst_mac\": \"0a:bb:cc:dd:ee:01\", "
		"\"src_mac\": \"0A:BB:CC:DD:EE:FF\"},"
		"{\"priority\": 2, \"dst\": \"10.0.2.0/24\", \"action\": \"redirect_neigh\", "
		"\"out_iface\": \"s2\", \"via\": \"10.0.9.1\"},"
		"{\"priority\": 3, \"dst\": \"10.0.3.0/24\", \"action\": \"redirect_peer\", "
		"\"out_iface\": \"s3\", \"dst_mac\": \"0a:bb:cc:dd:ee:01\", \"ttl\": false},"
		"{\"priority\": 4, \"dst\": \"fd00:1::/64\", \"action\": \"redirect\", "
		"\"out_iface\": \"s1\", \"dst_mac\": \"0a:bb:cc:dd:ee:01\"},"
		"{\"priority\": 5, \"dst\": \"10.0.5.0/24\", \"action\": \"drop\"},"
		"{\"priority\": 6, \"dst\": \"10.0.6.0/24\", \"action\": \"pass\"}]}",
		out_ifindexes);

	in = ip4("10.0.0.1", "10.0.1.7", IPPROTO_UDP, 1, 2, 64, 0);
	r = run(e, &in, 1);
	assert_int_equal(r.ret, TC_ACT_REDIRECT);
	assert_int_equal(r.out.len, in.len);
	assert_memory_equal(r.out.b, S1, 6);
	assert_memory_equal(r.out.b + 6, SRC, 6);
	ip = (void *)(r.out.b + sizeof(struct ethhdr));
	assert_int_equal(ip->ttl, 63);
	assert_int_equal(csum(ip, sizeof(*ip)), 0); /* checksum still valid */
	assert_memory_equal(r.out.b + 34, in.b + 34, in.len - 34);

	in = ip4("10.0.0.1", "10.0.2.7", IPPROTO_UDP, 1, 2, 64, 0);
	r = run(e, &in, 1);
	assert_int_equal(r.ret, TC_ACT_REDIRECT);
	assert_memory_equal(r.out.b, in.b, 12); /* the neighbour code does L2 */
	assert_int_equal(((struct iphdr *)(r.out.b + 14))->ttl, 63);

	in = ip4("10.0.0.1", "10.0.3.7", IPPROTO_UDP, 1, 2, 64, 0);
	r = run(e, &in, 1);
	assert_int_equal(r.ret, TC_ACT_REDIRECT);
	assert_memory_equal(r.out.b, S1, 6);
	assert_memory_equal(r.out.b + 14, in.b + 14,
			    in.len - 14); /* ttl: false */

	in = udp6("fd00::1", "fd00:1::7", 9);
	r = run(e, &in, 1);
	assert_int_equal(r.ret, TC_ACT_REDIRECT);
	assert_memory_equal(r.out.b, S1, 6);
	assert_int_equal(((struct ipv6hdr *)(r.out.b + 14))->hop_limit, 63);

	in = ip4("10.0.0.1", "10.0.5.7", IPPROTO_UDP, 1, 2, 64, 0);
	assert_int_equal(run(e, &in, 1).ret, TC_ACT_SHOT);
	in = ip4("10.0.0.1", "10.0.6.7", IPPROTO_UDP, 1, 2, 64, 0);
	r = run(e, &in, 1);
	assert_int_equal(r.ret, TC_ACT_OK);
	assert_memory_equal(r.out.b, in.b, in.len); /* pass: untouched */

	/* TTL 1 is not forwarded here: the kernel sends time exceeded */
	expired = stat_of(e, RSTAT_TTL_EXPIRED);
	in = ip4("10.0.0.1", "10.0.1.7", IPPROTO_UDP, 1, 2, 1, 0);
	r = run(e, &in, 1);
	assert_int_equal(r.ret, TC_ACT_OK);
	assert_memory_equal(r.out.b, in.b, in.len);
	assert_int_equal(stat_of(e, RSTAT_TTL_EXPIRED), expired + 1);
	for (int i = 0; i < 6; i++)
		assert_int_equal(counter_of(e, 0, i).packets, i == 0 ? 2 : 1);
	assert_int_equal(
		counter_of(e, 0, 4).bytes,
		ip4("10.0.0.1", "10.0.5.7", IPPROTO_UDP, 1, 2, 64, 0).len);
}

static void test_not_routed(void **state)
{
	struct env *e = *state;
	struct pkt arp = {}, vlan = {}, trunc;
	uint64_t not_ip, bad;

	install(e, 0,
		"{" HOOKS
		"\"rules\": [{\"priority\": 1, \"action\": \"drop\"}]}",
		NULL);
	not_ip = stat_of(e, RSTAT_NOT_IP);
	bad = stat_of(e, RSTAT_MALFORMED);
	put_eth(&arp, ETH_P_ARP);
	arp.len = 60;
	assert_int_equal(run(e, &arp, 1).ret, TC_ACT_OK);
	put_eth(&vlan, ETH_P_8021Q);
	vlan.b[14] = 0;
	vlan.b[15] = 5;
	vlan.b[16] = 0x08;
	vlan.b[17] = 0x00;
	vlan.len = 60;
	assert_int_equal(run(e, &vlan, 1).ret, TC_ACT_OK);
	assert_int_equal(stat_of(e, RSTAT_NOT_IP), not_ip + 2);
	/* IPv4 options said to run past the end (the test run wants 20 bytes
	 * of IPv4 header at least)
	 */
	trunc = udp4("1.0.0.1", "2.0.0.1", 1, 2);
	((struct iphdr *)(trunc.b + 14))->ihl = 15;
	assert_int_equal(run(e, &trunc, 1).ret, TC_ACT_OK);
	assert_int_equal(stat_of(e, RSTAT_MALFORMED), bad + 1);
	/* the catch-all rule drops every IP packet, v4 and v6 */
	assert_int_equal(ret_of(e, udp4("1.0.0.1", "2.0.0.1", 1, 2), 1),
			 TC_ACT_SHOT);
	assert_int_equal(ret_of(e, udp6("fd00::1", "fd00::2", 2), 1),
			 TC_ACT_SHOT);
}

static void test_generations(void **state)
{
	struct env *e = *state;
	struct pkt p = udp4("1.0.0.1", "10.0.0.1", 1, 2);
	uint32_t bad = 7, zero = 0;

	install(e, 0,
		"{" HOOKS
		"\"rules\": [{\"priority\": 1, \"action\": \"drop\"}]}",
		NULL);
	install(e, 1,
		"{" HOOKS
		"\"rules\": [{\"priority\": 1, \"action\": \"pass\"}]}",
		NULL);
	assert_int_equal(run(e, &p, 1).ret, TC_ACT_OK);
	set_active(e, 0);
	assert_int_equal(run(e, &p, 1).ret, TC_ACT_SHOT);
	/* clearing the inactive generation leaves the active one intact */
	assert_int_equal(rt_maps_clear_gen(&e->maps, 1), 0);
	assert_int_equal(run(e, &p, 1).ret, TC_ACT_SHOT);
	set_active(e, 1);
	assert_int_equal(run(e, &p, 1).ret, TC_ACT_OK); /* empty: unmatched */
	assert_int_equal(bpf_map_update_elem(e->maps.fd[RT_MAP_ACTIVE], &zero,
					     &bad, BPF_ANY),
			 0);
	assert_int_equal(run(e, &p, 1).ret, TC_ACT_OK);
	assert_true(stat_of(e, RSTAT_NO_GEN) >= 1);
}

/* ns per packet through 256 rules, none of which matches until the last. */
static void test_cost(void **state)
{
	struct env *e = *state;
	char *json = malloc(64 * 1024);
	size_t n = 0;
	struct pkt p = udp4("1.0.0.1", "10.200.0.1", 1, 5000);
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = p.b, .data_size_in = p.len,
		    .repeat = 200000);

	assert_non_null(json);
	n += sprintf(json + n, "{" HOOKS "\"rules\": [");
	for (int i = 0; i < ROUTE_MAX_RULES - 1; i++)
		n += sprintf(json + n,
			     "{\"priority\": %d, \"dst\": \"10.%d.0.0/16\", "
			     "\"proto\": \"udp\", \"dport\": \"%d-%d\", "
			     "\"action\": \"drop\"},",
			     i, i % 200, i, i + 10);
	sprintf(json + n, "{\"priority\": 9999, \"dst\": \"10.200.0.0/24\", "
			  "\"action\": \"pass\"}]}");
	install(e, 0, json, NULL);
	free(json);
	assert_int_equal(bpf_prog_test_run_opts(e->prog_fd, &o), 0);
	assert_int_equal(o.retval, TC_ACT_OK);
	print_message("route program: %u ns per packet with %d rules\n",
		      o.duration, ROUTE_MAX_RULES);
	assert_int_equal(counter_of(e, 0, ROUTE_MAX_RULES - 1).packets, 200000);
}

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	int fd;

	if (!e)
		return -1;
	sf_log_set_level(SF_LOG_WARN);
	snprintf(e->cfg_path, sizeof(e->cfg_path), "/tmp/sf-route-XXXXXX");
	fd = mkstemp(e->cfg_path);
	if (fd < 0)
		return -1;
	close(fd);
	e->skel = route_bpf__open();
	if (!e->skel || route_bpf__load(e->skel)) {
		fprintf(stderr,
			"cannot load the route program (root needed)\n");
		return -1;
	}
	e->prog_fd = bpf_program__fd(e->skel->progs.tc_route_ingress);
	e->maps.ncpus = libbpf_num_possible_cpus();
	for (int i = 0; i < RT_MAP_MAX; i++)
		e->maps.fd[i] = bpf_map__fd(bpf_object__find_map_by_name(
			e->skel->obj, rt_map_names[i]));
	*state = e;
	return 0;
}

/* Each test starts from empty maps: a fresh program. */
static int teardown(void **state)
{
	struct env *e = *state;

	unlink(e->cfg_path);
	route_bpf__destroy(e->skel);
	free(e);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_priority_beats_prefix_length, setup, teardown),
		cmocka_unit_test_setup_teardown(test_longest_prefix_and_source,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipv6, setup, teardown),
		cmocka_unit_test_setup_teardown(test_port_ranges, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_tenants_and_ingress, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_actions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_routed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_generations, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_cost, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
