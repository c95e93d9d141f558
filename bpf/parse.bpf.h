/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* parse.bpf.h: bounds-checked packet header parsers, the one parser shared
 * by every sysflow BPF program (XDP and TC alike).
 *
 * Each parse_*() takes a cursor and data_end, checks every byte it reads
 * against data_end, moves the cursor past its header and returns the next
 * protocol (>= 0) or a negative PARSE_* error. They touch no maps and call
 * no helpers, so any program type can use them.
 */
#ifndef __PARSE_BPF_H
#define __PARSE_BPF_H

#ifndef ETH_P_ARP
#define ETH_P_ARP 0x0806
#endif
#ifndef ETH_P_IP
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define ETH_P_8021Q 0x8100
#define ETH_P_8021AD 0x88A8
#endif

#ifndef EEXIST
#define EEXIST 17
#endif
#define IPPROTO_ICMPV6_NR 58

#define IP_MF 0x2000
#define IP_OFFSET 0x1FFF

#define VLAN_MAX_DEPTH 4 /* tags walked; the first two are recorded */
#define IPV6_EXT_MAX 8 /* extension headers walked before giving up */
#define VLAN_VID_MASK 0x0FFF

/* How far past the start of the L3 header parse_ipv4()/parse_ipv6() and one
 * L4 parser may read: a 40-byte IPv6 header, IPV6_EXT_MAX extension headers
 * of at most 2048 bytes each, then a TCP header with options (60). Tracing
 * programs have no packet pointers: they copy headers into a map value and
 * parse the copy, and the verifier, which cannot use data_end there, proves
 * each read in bounds only if the value is at least this large.
 */
#define PARSE_L3_MAX_SPAN (40 + IPV6_EXT_MAX * 2048 + 60)

enum parse_error {
	PARSE_TRUNCATED = 1, /* header runs past the end of the packet */
	PARSE_MALFORMED = 2, /* header is complete but invalid */
};

enum parse_frag {
	FRAG_NONE = 0,
	FRAG_FIRST, /* offset 0, more fragments follow: L4 header present */
	FRAG_LATER, /* offset > 0: no L4 header in this packet */
};

struct hdr_cursor {
	void *pos;
};

struct vlan_tag_hdr {
	__be16 tci;
	__be16 proto;
};

struct ipv6_opt_hdr_min {
	__u8 nexthdr;
	__u8 hdrlen; /* in 8-byte units, not counting the first 8 bytes */
};

struct ipv6_frag_hdr_min {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off; /* offset << 3 | M flag */
	__be32 identification;
};

/* What parse_eth() found besides the EtherType. */
struct l2_info {
	__u16 vlan_outer;
	__u16 vlan_inner;
};

/* What parse_ipv4()/parse_ipv6() found besides the next protocol. */
struct l3_info {
	__u16 ip_len; /* IPv4 total length; IPv6 payload length + 40 */
	__u8 ttl;
	__u8 tos;
	__u8 frag; /* enum parse_frag */
	__u32 frag_id;
};

static __always_inline int proto_is_vlan(__u16 h_proto)
{
	return h_proto == bpf_htons(ETH_P_8021Q) ||
	       h_proto == bpf_htons(ETH_P_8021AD);
}

/* Ethernet with up to VLAN_MAX_DEPTH 802.1Q/802.1ad tags.
 * Returns the EtherType in host order.
 */
static __always_inline int parse_eth(struct hdr_cursor *c, void *data_end,
				     struct l2_info *l2)
{
	struct ethhdr *eth = c->pos;
	struct vlan_tag_hdr *vh;
	__u16 h_proto;
	int i;

	if ((void *)(eth + 1) > data_end)
		return -PARSE_TRUNCATED;
	c->pos = eth + 1;
	h_proto = eth->h_proto;

#pragma unroll
	for (i = 0; i < VLAN_MAX_DEPTH; i++) {
		if (!proto_is_vlan(h_proto))
			break;
		vh = c->pos;
		if ((void *)(vh + 1) > data_end)
			return -PARSE_TRUNCATED;
		if (i == 0)
			l2->vlan_outer = bpf_ntohs(vh->tci) & VLAN_VID_MASK;
		else if (i == 1)
			l2->vlan_inner = bpf_ntohs(vh->tci) & VLAN_VID_MASK;
		h_proto = vh->proto;
		c->pos = vh + 1;
	}
	if (proto_is_vlan(h_proto))
		return -PARSE_MALFORMED; /* deeper than VLAN_MAX_DEPTH */
	return bpf_ntohs(h_proto);
}

/* IPv4 with options. Returns the protocol; later fragments leave the
 * cursor at the fragment's payload with l3->frag set to FRAG_LATER.
 */
static __always_inline int parse_ipv4(struct hdr_cursor *c, void *data_end,
				      struct l3_info *l3)
{
	struct iphdr *iph = c->pos;
	__u32 hdrsize;
	__u16 frag_off;

	if ((void *)(iph + 1) > data_end)
		return -PARSE_TRUNCATED;
	if (iph->version != 4 || iph->ihl < 5)
		return -PARSE_MALFORMED;
	hdrsize = iph->ihl * 4;
	if (c->pos + hdrsize > data_end)
		return -PARSE_TRUNCATED;
	l3->ip_len = bpf_ntohs(iph->tot_len);
	if (l3->ip_len < hdrsize)
		return -PARSE_MALFORMED;
	l3->ttl = iph->ttl;
	l3->tos = iph->tos;
	frag_off = bpf_ntohs(iph->frag_off);
	if (frag_off & IP_OFFSET)
		l3->frag = FRAG_LATER;
	else if (frag_off & IP_MF)
		l3->frag = FRAG_FIRST;
	l3->frag_id = bpf_ntohs(iph->id);
	c->pos += hdrsize;
	return iph->protocol;
}

static __always_inline int ipv6_ext_is_walked(__u8 nexthdr)
{
	return nexthdr == 0 /* hop-by-hop */ || nexthdr == 43 /* routing */ ||
	       nexthdr == 44 /* fragment */ || nexthdr == 60 /* dst opts */;
}

/* One IPv6 extension header; returns the next header or an error. */
static __always_inline int parse_ipv6_ext(struct hdr_cursor *c, void *data_end,
					  __u8 nexthdr, struct l3_info *l3)
{
	struct ipv6_opt_hdr_min *opt = c->pos;
	struct ipv6_frag_hdr_min *fh = c->pos;
	__u16 frag_off;

	if (nexthdr != 44) {
		if ((void *)(opt + 1) > data_end)
			return -PARSE_TRUNCATED;
		if (c->pos + (opt->hdrlen + 1) * 8 > data_end)
			return -PARSE_TRUNCATED;
		c->pos += (opt->hdrlen + 1) * 8;
		return opt->nexthdr;
	}
	if ((void *)(fh + 1) > data_end)
		return -PARSE_TRUNCATED;
	frag_off = bpf_ntohs(fh->frag_off);
	if (frag_off & 0xFFF8)
		l3->frag = FRAG_LATER;
	else if (frag_off & 1)
		l3->frag = FRAG_FIRST;
	l3->frag_id = bpf_ntohl(fh->identification);
	c->pos = fh + 1;
	return fh->nexthdr;
}

/* IPv6 with a bounded walk over hop-by-hop, routing, fragment and
 * destination-options headers. Returns the upper-layer protocol.
 */
static __always_inline int parse_ipv6(struct hdr_cursor *c, void *data_end,
				      struct l3_info *l3)
{
	struct ipv6hdr *ip6h = c->pos;
	int nexthdr, i;

	if ((void *)(ip6h + 1) > data_end)
		return -PARSE_TRUNCATED;
	if (ip6h->version != 6)
		return -PARSE_MALFORMED;
	l3->ip_len = bpf_ntohs(ip6h->payload_len) + sizeof(*ip6h);
	l3->ttl = ip6h->hop_limit;
	l3->tos = ip6h->priority << 4 | ip6h->flow_lbl[0] >> 4;
	c->pos = ip6h + 1;
	nexthdr = ip6h->nexthdr;

	for (i = 0; i < IPV6_EXT_MAX; i++) {
		if (!ipv6_ext_is_walked(nexthdr) || l3->frag == FRAG_LATER)
			return nexthdr;
		nexthdr = parse_ipv6_ext(c, data_end, nexthdr, l3);
		if (nexthdr < 0)
			return nexthdr;
	}
	if (ipv6_ext_is_walked(nexthdr) && l3->frag != FRAG_LATER)
		return -PARSE_MALFORMED; /* chain longer than IPV6_EXT_MAX */
	return nexthdr;
}

static __always_inline int parse_tcp(struct hdr_cursor *c, void *data_end,
				     struct tcphdr **tcph)
{
	struct tcphdr *h = c->pos;

	if ((void *)(h + 1) > data_end)
		return -PARSE_TRUNCATED;
	if (h->doff < 5)
		return -PARSE_MALFORMED;
	if (c->pos + h->doff * 4 > data_end)
		return -PARSE_TRUNCATED;
	c->pos += h->doff * 4;
	*tcph = h;
	return 0;
}

static __always_inline int parse_udp(struct hdr_cursor *c, void *data_end,
				     struct udphdr **udph)
{
	struct udphdr *h = c->pos;

	if ((void *)(h + 1) > data_end)
		return -PARSE_TRUNCATED;
	if (bpf_ntohs(h->len) < sizeof(*h))
		return -PARSE_MALFORMED;
	c->pos = h + 1;
	*udph = h;
	return 0;
}

/* ICMP and ICMPv6 share the type/code/checksum/id/sequence layout. */
static __always_inline int
parse_icmp_common(struct hdr_cursor *c, void *data_end, struct icmphdr **icmph)
{
	struct icmphdr *h = c->pos;

	if ((void *)(h + 1) > data_end)
		return -PARSE_TRUNCATED;
	c->pos = h + 1;
	*icmph = h;
	return 0;
}

/* ARP for IPv4 over Ethernet (RFC 826). Returns the opcode (1 request,
 * 2 reply); other hardware or protocol types are malformed here.
 */
static __always_inline int parse_arp(struct hdr_cursor *c, void *data_end)
{
	struct arphdr *h = c->pos;

	if ((void *)(h + 1) > data_end)
		return -PARSE_TRUNCATED;
	if (h->ar_hrd != bpf_htons(1) || h->ar_pro != bpf_htons(ETH_P_IP) ||
	    h->ar_hln != 6 || h->ar_pln != 4)
		return -PARSE_MALFORMED;
	c->pos = h + 1;
	return bpf_ntohs(h->ar_op);
}

#endif /* __PARSE_BPF_H */
