// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* route.bpf.c: the TC policy router (sysflow route). Matches each packet
 * against the active generation's rules (ingress interface or tenant,
 * source and destination prefixes, protocol, port ranges, by priority) and
 * runs the first matching rule's action: redirect with MAC rewrite,
 * bpf_redirect_neigh, bpf_redirect_peer, drop or pass. Anything it cannot
 * or need not route goes on through the kernel unchanged (TC_ACT_OK).
 * The table layout and the matching scheme are described in route.h.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "parse.bpf.h"
#include "route.h"

#define STATS_MAX RSTAT_MAX
#include "stats.bpf.h"

#define TC_ACT_OK 0
#define TC_ACT_SHOT 2
#define AF_INET 2
#define AF_INET6 10
#define PULL_LEN 128 /* headers a rule looks at, VLAN-free */
#define ETH_ALEN 6

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} active SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, ROUTE_GENS *ROUTE_MAX_RULES);
	__type(key, __u32);
	__type(value, struct route_rule);
} rules SEC(".maps");

#define LPM_MAP(name, key_t)                                         \
	struct {                                                     \
		__uint(type, BPF_MAP_TYPE_LPM_TRIE);                 \
		__uint(max_entries, ROUTE_GENS *ROUTE_MAX_PREFIXES); \
		__uint(map_flags, BPF_F_NO_PREALLOC);                \
		__type(key, key_t);                                  \
		__type(value, struct route_bitmap);                  \
	} name SEC(".maps")

LPM_MAP(src4, struct route_lpm4);
LPM_MAP(dst4, struct route_lpm4);
LPM_MAP(src6, struct route_lpm6);
LPM_MAP(dst6, struct route_lpm6);

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ROUTE_GENS *ROUTE_MAX_IFACES);
	__type(key, struct route_ingress_key);
	__type(value, struct route_bitmap);
} ingress SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, ROUTE_GENS *ROUTE_PROTO_SLOTS);
	__type(key, __u32);
	__type(value, struct route_bitmap);
} protos SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, ROUTE_GENS *ROUTE_PORTS);
	__type(key, __u32);
	__type(value, struct route_bitmap);
} sports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, ROUTE_GENS *ROUTE_PORTS);
	__type(key, __u32);
	__type(value, struct route_bitmap);
} dports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ROUTE_GENS *ROUTE_MAX_RULES);
	__type(key, __u32);
	__type(value, struct route_counter);
} counters SEC(".maps");

/* User space only: kept here so that they are created and pinned with the
 * rest and `show`, `update` and `del` find everything in one folder.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, ROUTE_GENS *ROUTE_MAX_RULES);
	__type(key, __u32);
	__type(value, struct route_rule_meta);
} rule_meta SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, ROUTE_GENS *ROUTE_MAX_RULES);
	__type(key, __u32);
	__type(value, struct route_counter);
} carried SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, ROUTE_MAX_ATTACH);
	__type(key, __u32);
	__type(value, struct route_attach);
} attachments SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct route_state);
} state SEC(".maps");

/* Count the packet's outcome and let it go on through the kernel. */
static __always_inline int pass_counted(__u32 idx)
{
	stat_inc(idx);
	return TC_ACT_OK;
}

/* Index of the lowest set bit of a non-zero word. */
static __always_inline __u32 low_bit(__u64 x)
{
	__u32 n = 0;

	if (!(x & 0xFFFFFFFFULL)) {
		n += 32;
		x >>= 32;
	}
	if (!(x & 0xFFFF)) {
		n += 16;
		x >>= 16;
	}
	if (!(x & 0xFF)) {
		n += 8;
		x >>= 8;
	}
	if (!(x & 0xF)) {
		n += 4;
		x >>= 4;
	}
	if (!(x & 0x3)) {
		n += 2;
		x >>= 2;
	}
	return n + !(x & 1);
}

/* The field bitmaps of one packet, ANDed into the first matching slot. */
/* The tables a packet's fields are looked up in; the rule is the lowest
 * slot set in all of their bitmaps.
 */
enum match_table {
	MT_SRC = 0,
	MT_DST,
	MT_INGRESS,
	MT_PROTO,
	MT_SPORT,
	MT_DPORT,
	MT_MAX,
};

struct match {
	struct route_bitmap *b[MT_MAX];
};

/* Lowest slot set in every bitmap (highest priority), or -1. */
static __always_inline int first_slot(const struct match *m)
{
	__u64 word;
	int w, i;

#pragma unroll
	for (w = 0; w < ROUTE_WORDS; w++) {
		word = ~0ULL;
#pragma unroll
		for (i = 0; i < MT_MAX; i++)
			word &= m->b[i]->w[w];
		if (word)
			return w * 64 + low_bit(word);
	}
	return -1;
}

static __always_inline void ipv4_dec_ttl(struct iphdr *iph)
{
	__u32 check = iph->check;

	/* ip_decrease_ttl() in include/net/ip.h: incremental checksum. */
	check += bpf_htons(0x0100);
	iph->check = (__u16)(check + (check >= 0xFFFF));
	iph->ttl--;
}

/* Decrement TTL or hop limit; false when the packet must not be forwarded
 * (the kernel then answers with ICMP time exceeded).
 */
static __always_inline bool dec_ttl(void *l3, void *data_end, bool v6)
{
	struct ipv6hdr *ip6h = l3;
	struct iphdr *iph = l3;

	if (v6) {
		if ((void *)(ip6h + 1) > data_end || ip6h->hop_limit <= 1)
			return false;
		ip6h->hop_limit--;
		return true;
	}
	if ((void *)(iph + 1) > data_end || iph->ttl <= 1)
		return false;
	ipv4_dec_ttl(iph);
	return true;
}

static __always_inline int run_action(struct __sk_buff *skb,
				      struct route_rule *r, struct ethhdr *eth,
				      void *l3, void *data_end, bool v6,
				      bool egress)
{
	struct bpf_redir_neigh nh = {};

	switch (r->action) {
	case ROUTE_ACT_DROP:
		return TC_ACT_SHOT;
	case ROUTE_ACT_REDIRECT:
	case ROUTE_ACT_NEIGH:
	case ROUTE_ACT_PEER:
		break;
	default:
		return TC_ACT_OK;
	}
	if ((r->flags & ROUTE_F_TTL) && !dec_ttl(l3, data_end, v6))
		return -1;
	if (r->action == ROUTE_ACT_NEIGH) {
		if (!(r->flags & ROUTE_F_VIA))
			return bpf_redirect_neigh(r->out_ifindex, NULL, 0, 0);
		nh.nh_family = r->via_family == 6 ? AF_INET6 : AF_INET;
		__builtin_memcpy(nh.ipv6_nh, r->via, sizeof(nh.ipv6_nh));
		return bpf_redirect_neigh(r->out_ifindex, &nh, sizeof(nh), 0);
	}
	if (r->flags & ROUTE_F_DMAC)
		__builtin_memcpy(eth->h_dest, r->dmac, ETH_ALEN);
	if (r->flags & ROUTE_F_SMAC)
		__builtin_memcpy(eth->h_source, r->smac, ETH_ALEN);
	/* bpf_redirect_peer works from TC ingress only; from egress the
	 * host-side veth's egress reaches the same peer.
	 */
	if (r->action == ROUTE_ACT_PEER && !egress)
		return bpf_redirect_peer(r->out_ifindex, 0);
	return bpf_redirect(r->out_ifindex, 0);
}

static __always_inline void count_rule(__u32 idx, __u32 len)
{
	struct route_counter *c = bpf_map_lookup_elem(&counters, &idx);

	if (c) {
		c->packets++;
		c->bytes += len;
	}
}

#define GO_ON RSTAT_MAX /* a step found no reason to pass the packet on */

/* What the rule lookup needs from a packet. */
struct route_pkt {
	void *data, *data_end, *l3h;
	__u32 proto, sport, dport;
	bool ports; /* TCP or UDP with ports (not a later fragment) */
	bool v6;
};

/* The active generation, read once: every lookup of a packet must use the
 * same one, even if user space flips it meanwhile (the compiler may not
 * reload it). ROUTE_GENS when there is none.
 */
static __always_inline __u32 active_gen(void)
{
	__u32 zero = 0, *genp = bpf_map_lookup_elem(&active, &zero);

	return genp ? *(volatile __u32 *)genp : ROUTE_GENS;
}

/* Ethernet (untagged), IPv4 or IPv6, and the TCP/UDP ports. Returns GO_ON
 * or the counter that says why the packet goes on through the kernel.
 */
static __always_inline __u32 parse_packet(struct __sk_buff *skb,
					  struct route_pkt *p)
{
	__u32 plen = skb->len < PULL_LEN ? skb->len : PULL_LEN;
	struct l2_info l2 = {};
	struct l3_info l3 = {};
	struct hdr_cursor c;
	struct tcphdr *tcph;
	struct udphdr *udph;
	int h_proto, proto;

	p->data = (void *)(long)skb->data;
	p->data_end = (void *)(long)skb->data_end;
	if (p->data + plen > p->data_end) { /* headers in paged data */
		bpf_skb_pull_data(skb, plen);
		p->data = (void *)(long)skb->data;
		p->data_end = (void *)(long)skb->data_end;
	}
	c.pos = p->data;
	h_proto = parse_eth(&c, p->data_end, &l2);
	if (h_proto < 0)
		return RSTAT_MALFORMED;
	/* VLAN tags are not routed */
	if (c.pos != p->data + sizeof(struct ethhdr) ||
	    (h_proto != ETH_P_IP && h_proto != ETH_P_IPV6))
		return RSTAT_NOT_IP;
	p->v6 = h_proto == ETH_P_IPV6;
	p->l3h = c.pos;
	proto = p->v6 ? parse_ipv6(&c, p->data_end, &l3) :
			parse_ipv4(&c, p->data_end, &l3);
	if (proto < 0)
		return RSTAT_MALFORMED;
	p->proto = proto;
	if (l3.frag == FRAG_LATER)
		return GO_ON;
	if (proto == IPPROTO_TCP) {
		if (parse_tcp(&c, p->data_end, &tcph) < 0)
			return RSTAT_MALFORMED;
		p->sport = bpf_ntohs(tcph->source);
		p->dport = bpf_ntohs(tcph->dest);
		p->ports = true;
	} else if (proto == IPPROTO_UDP) {
		if (parse_udp(&c, p->data_end, &udph) < 0)
			return RSTAT_MALFORMED;
		p->sport = bpf_ntohs(udph->source);
		p->dport = bpf_ntohs(udph->dest);
		p->ports = true;
	}
	return GO_ON;
}

/* The rule bitmaps of the source and destination prefixes (LPM tries). */
static __always_inline __u32 match_addrs(const struct route_pkt *p, __u32 gen,
					 struct match *m)
{
	struct route_lpm6 k6s, k6d;
	struct route_lpm4 k4s, k4d;

	if (p->v6) {
		struct ipv6hdr *ip6h = p->l3h;

		if ((void *)(ip6h + 1) > p->data_end)
			return RSTAT_MALFORMED;
		k6s.prefixlen = k6d.prefixlen = 8 + 128;
		k6s.gen = k6d.gen = gen;
		__builtin_memcpy(k6s.addr, &ip6h->saddr, 16);
		__builtin_memcpy(k6d.addr, &ip6h->daddr, 16);
		m->b[MT_SRC] = bpf_map_lookup_elem(&src6, &k6s);
		m->b[MT_DST] = bpf_map_lookup_elem(&dst6, &k6d);
	} else {
		struct iphdr *iph = p->l3h;

		if ((void *)(iph + 1) > p->data_end)
			return RSTAT_MALFORMED;
		k4s.prefixlen = k4d.prefixlen = 8 + 32;
		k4s.gen = k4d.gen = gen;
		__builtin_memcpy(k4s.addr, &iph->saddr, 4);
		__builtin_memcpy(k4d.addr, &iph->daddr, 4);
		m->b[MT_SRC] = bpf_map_lookup_elem(&src4, &k4s);
		m->b[MT_DST] = bpf_map_lookup_elem(&dst4, &k4d);
	}
	return GO_ON;
}

/* The bitmaps of the ingress interface (or of rules for any), the
 * protocol and the ports. A TCP or UDP packet without ports (a later
 * fragment) matches only rules without port ranges; other protocols have
 * no port fields.
 */
static __always_inline void match_rest(const struct __sk_buff *skb,
				       const struct route_pkt *p, __u32 gen,
				       struct match *m)
{
	struct route_ingress_key ik = { .gen = gen,
					.ifindex = skb->ingress_ifindex };
	__u32 key;

	m->b[MT_INGRESS] = bpf_map_lookup_elem(&ingress, &ik);
	if (!m->b[MT_INGRESS]) {
		ik.ifindex = 0;
		m->b[MT_INGRESS] = bpf_map_lookup_elem(&ingress, &ik);
	}
	key = gen * ROUTE_PROTO_SLOTS + p->proto;
	if (!p->ports && p->proto == IPPROTO_TCP)
		key = gen * ROUTE_PROTO_SLOTS + ROUTE_PROTO_TCP_NOPORTS;
	else if (!p->ports && p->proto == IPPROTO_UDP)
		key = gen * ROUTE_PROTO_SLOTS + ROUTE_PROTO_UDP_NOPORTS;
	m->b[MT_PROTO] = bpf_map_lookup_elem(&protos, &key);
	key = gen * ROUTE_PORTS + p->sport;
	m->b[MT_SPORT] = bpf_map_lookup_elem(&sports, &key);
	key = gen * ROUTE_PORTS + p->dport;
	m->b[MT_DPORT] = bpf_map_lookup_elem(&dports, &key);
}

static __always_inline int route(struct __sk_buff *skb, bool egress)
{
	struct route_pkt p = {};
	struct match m = {};
	struct route_rule *r;
	__u32 gen, why, key;
	int slot, ret, i;

	gen = active_gen();
	if (gen >= ROUTE_GENS)
		return pass_counted(RSTAT_NO_GEN);
	why = parse_packet(skb, &p);
	if (why == GO_ON)
		why = match_addrs(&p, gen, &m);
	if (why != GO_ON)
		return pass_counted(why);
	match_rest(skb, &p, gen, &m);
	for (i = 0; i < MT_MAX; i++)
		if (!m.b[i])
			return pass_counted(RSTAT_UNMATCHED);
	slot = first_slot(&m);
	if (slot < 0)
		return pass_counted(RSTAT_UNMATCHED);
	key = gen * ROUTE_MAX_RULES + slot;
	r = bpf_map_lookup_elem(&rules, &key);
	if (!r)
		return pass_counted(RSTAT_UNMATCHED);
	count_rule(key, skb->len);
	ret = run_action(skb, r, p.data, p.l3h, p.data_end, p.v6, egress);
	if (ret < 0) /* TTL expired: the kernel answers */
		return pass_counted(RSTAT_TTL_EXPIRED);
	stat_inc(RSTAT_MATCHED);
	return ret;
}

SEC("tc")
int tc_route_ingress(struct __sk_buff *skb)
{
	return route(skb, false);
}

SEC("tc")
int tc_route_egress(struct __sk_buff *skb)
{
	return route(skb, true);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
