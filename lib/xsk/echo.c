// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* echo.c: the echo responder (see echo.h), a pure function over a frame;
 * its addresses come from echo_cfg.c. Headers are packed structs: a
 * frame's IP header sits at offset 14, so 32-bit fields are unaligned.
 * Every length is checked against the frame before it is read.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "echo.h"

#define ETH_HLEN_ 14
#define ETH_P_IP_ 0x0800
#define ETH_P_ARP_ 0x0806
#define ETH_P_IPV6_ 0x86DD
#define PROTO_ICMP 1
#define PROTO_UDP 17
#define PROTO_ICMPV6 58
#define TTL_DEFAULT 64
#define ND_HOP_LIMIT 255
#define ICMP6_ECHO_REQUEST 128
#define ICMP6_ECHO_REPLY 129
#define ND_SOLICIT 135
#define ND_ADVERT 136
#define ND_OPT_SLLA 1
#define ND_OPT_TLLA 2
#define NA_FLAG_SOLICITED 0x40
#define NA_FLAG_OVERRIDE 0x20

struct eth_h {
	uint8_t dst[6];
	uint8_t src[6];
	uint16_t proto;
} __attribute__((packed));

struct arp_h {
	uint16_t hrd;
	uint16_t pro;
	uint8_t hln;
	uint8_t pln;
	uint16_t op;
	uint8_t sha[6];
	uint8_t spa[4];
	uint8_t tha[6];
	uint8_t tpa[4];
} __attribute__((packed));

struct ip4_h {
	uint8_t ver_ihl;
	uint8_t tos;
	uint16_t tot_len;
	uint16_t id;
	uint16_t frag_off;
	uint8_t ttl;
	uint8_t proto;
	uint16_t csum;
	uint8_t saddr[4];
	uint8_t daddr[4];
} __attribute__((packed));

struct ip6_h {
	uint32_t ver_tc_flow;
	uint16_t payload_len;
	uint8_t nexthdr;
	uint8_t hop_limit;
	uint8_t saddr[16];
	uint8_t daddr[16];
} __attribute__((packed));

struct icmp_h { /* ICMP and ICMPv6 echo */
	uint8_t type;
	uint8_t code;
	uint16_t csum;
	uint16_t id;
	uint16_t seq;
} __attribute__((packed));

struct udp_h {
	uint16_t sport;
	uint16_t dport;
	uint16_t len;
	uint16_t csum;
} __attribute__((packed));

struct nd_h { /* neighbour solicitation and advertisement */
	uint8_t type;
	uint8_t code;
	uint16_t csum;
	uint8_t flags;
	uint8_t reserved[3];
	uint8_t target[16];
} __attribute__((packed));

struct nd_opt_lla {
	uint8_t type;
	uint8_t len; /* in 8-byte units */
	uint8_t mac[6];
} __attribute__((packed));

_Static_assert(sizeof(struct arp_h) == 28, "arp header");
_Static_assert(sizeof(struct ip6_h) == 40, "ipv6 header");
_Static_assert(ETH_HLEN_ + sizeof(struct ip6_h) + sizeof(struct nd_h) +
			       sizeof(struct nd_opt_lla) ==
		       SF_ECHO_NA_LEN,
	       "NA length");

static const uint8_t all_nodes_mac[6] = { 0x33, 0x33, 0, 0, 0, 1 };
static const uint8_t all_nodes_ip6[16] = { 0xff, 0x02, [15] = 1 };

/* ---- checksums (RFC 1071) ---- */

uint32_t sf_csum_partial(const void *buf, size_t len, uint32_t sum)
{
	const uint8_t *p = buf;
	uint64_t acc = sum;
	uint32_t w32;
	uint16_t w16;

	for (; len >= 4; p += 4, len -= 4) {
		memcpy(&w32, p, 4);
		acc += w32;
	}
	if (len >= 2) {
		memcpy(&w16, p, 2);
		acc += w16;
		p += 2;
		len -= 2;
	}
	if (len) { /* the odd byte is the high half of a network word */
		w16 = 0;
		memcpy(&w16, p, 1);
		acc += w16;
	}
	while (acc >> 32)
		acc = (acc & 0xffffffff) + (acc >> 32);
	return acc;
}

uint16_t sf_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum & 0xffff;
}

/* Pseudo header sum, network order representation. */
static uint32_t pseudo4(const struct ip4_h *ip, uint16_t len, uint8_t proto)
{
	uint32_t sum = sf_csum_partial(ip->saddr, 8, 0);

	return sf_csum_partial(&(uint16_t){ htons(proto) }, 2,
			       sf_csum_partial(&(uint16_t){ htons(len) }, 2,
					       sum));
}

static uint32_t pseudo6(const struct ip6_h *ip, uint32_t len, uint8_t proto)
{
	uint32_t sum = sf_csum_partial(ip->saddr, 32, 0);

	sum = sf_csum_partial(&(uint32_t){ htonl(len) }, 4, sum);
	return sf_csum_partial(&(uint32_t){ htonl(proto) }, 4, sum);
}

/* ---- addresses ---- */

static bool ours4(const struct sf_echo_cfg *c, const uint8_t *a)
{
	for (unsigned int i = 0; i < c->n_ip4; i++)
		if (!memcmp(&c->ip4[i], a, 4))
			return true;
	return false;
}

static bool ours6(const struct sf_echo_cfg *c, const uint8_t *a)
{
	for (unsigned int i = 0; i < c->n_ip6; i++)
		if (!memcmp(&c->ip6[i], a, 16))
			return true;
	return false;
}

static void swap_bytes(uint8_t *a, uint8_t *b, size_t n)
{
	uint8_t t[16];

	memcpy(t, a, n);
	memcpy(a, b, n);
	memcpy(b, t, n);
}

/* Back to the sender, from us (whichever of our MACs it asked). */
static void eth_reply(const struct sf_echo_cfg *c, struct eth_h *eth)
{
	memcpy(eth->dst, eth->src, 6);
	memcpy(eth->src, c->mac, 6);
}

/* ---- ARP ---- */

static enum sf_echo_kind do_arp(const struct sf_echo_cfg *c, uint8_t *f,
				uint32_t len)
{
	struct eth_h *eth = (struct eth_h *)f;
	struct arp_h *a = (struct arp_h *)(f + ETH_HLEN_);

	if (len < ETH_HLEN_ + sizeof(*a))
		return SF_ECHO_NONE;
	if (a->hrd != htons(1) || a->pro != htons(ETH_P_IP_) || a->hln != 6 ||
	    a->pln != 4 || a->op != htons(1) || !ours4(c, a->tpa))
		return SF_ECHO_NONE;
	eth_reply(c, eth);
	a->op = htons(2);
	memcpy(a->tha, a->sha, 6);
	swap_bytes(a->spa, a->tpa, 4); /* spa: the address asked for */
	memcpy(a->sha, c->mac, 6);
	return SF_ECHO_ARP;
}

/* ---- IPv4 ---- */

static enum sf_echo_kind icmp4_reply(uint8_t *l4, uint32_t l4len)
{
	struct icmp_h *h = (struct icmp_h *)l4;

	if (l4len < sizeof(*h) || h->type != 8 || h->code != 0)
		return SF_ECHO_NONE;
	h->type = 0;
	h->csum = 0;
	h->csum = sf_csum_fold(sf_csum_partial(h, l4len, 0));
	return SF_ECHO_ICMP;
}

static enum sf_echo_kind udp4_reply(const struct sf_echo_cfg *c,
				    const struct ip4_h *ip, uint8_t *l4,
				    uint32_t l4len)
{
	struct udp_h *h = (struct udp_h *)l4;
	uint16_t ulen;

	if (l4len < sizeof(*h))
		return SF_ECHO_NONE;
	ulen = ntohs(h->len);
	if (h->dport != htons(c->udp_port ?: SF_ECHO_PORT) ||
	    ulen < sizeof(*h) || ulen > l4len)
		return SF_ECHO_NONE;
	swap_bytes((uint8_t *)&h->sport, (uint8_t *)&h->dport, 2);
	/* Computed afresh, not kept: a veth peer with checksum offload sends
	 * a partial one. The pseudo header sum does not change with the
	 * swap of addresses.
	 */
	if (h->csum) {
		h->csum = 0;
		h->csum = sf_csum_fold(
			sf_csum_partial(h, ulen, pseudo4(ip, ulen, PROTO_UDP)));
		if (!h->csum)
			h->csum = 0xffff;
	}
	return SF_ECHO_UDP;
}

static enum sf_echo_kind do_ip4(const struct sf_echo_cfg *c, uint8_t *f,
				uint32_t len)
{
	struct ip4_h *ip = (struct ip4_h *)(f + ETH_HLEN_);
	enum sf_echo_kind kind = SF_ECHO_NONE;
	uint32_t ihl, tot;

	if (len < ETH_HLEN_ + sizeof(*ip))
		return SF_ECHO_NONE;
	ihl = (ip->ver_ihl & 0xf) * 4;
	tot = ntohs(ip->tot_len);
	if (ip->ver_ihl >> 4 != 4 || ihl < sizeof(*ip) || tot < ihl ||
	    ETH_HLEN_ + tot > len || (ntohs(ip->frag_off) & 0x3fff) ||
	    sf_csum_fold(sf_csum_partial(ip, ihl, 0)) != 0 ||
	    !ours4(c, ip->daddr))
		return SF_ECHO_NONE;
	if (ip->proto == PROTO_ICMP)
		kind = icmp4_reply((uint8_t *)ip + ihl, tot - ihl);
	else if (ip->proto == PROTO_UDP)
		kind = udp4_reply(c, ip, (uint8_t *)ip + ihl, tot - ihl);
	if (kind == SF_ECHO_NONE)
		return kind;
	swap_bytes(ip->saddr, ip->daddr, 4);
	ip->ttl = TTL_DEFAULT;
	ip->csum = 0;
	ip->csum = sf_csum_fold(sf_csum_partial(ip, ihl, 0));
	eth_reply(c, (struct eth_h *)f);
	return kind;
}

/* ---- IPv6 ---- */

static bool solicited_node(const uint8_t *dst, const uint8_t *target)
{
	static const uint8_t prefix[13] = { 0xff, 0x02, [11] = 1, [12] = 0xff };

	return !memcmp(dst, prefix, 13) && !memcmp(dst + 13, target + 13, 3);
}

/* Neighbour solicitation -> advertisement (RFC 4861 7.2.4). */
static enum sf_echo_kind do_ns(const struct sf_echo_cfg *c, uint8_t *f,
			       uint32_t *len, uint32_t room, uint32_t plen)
{
	struct eth_h *eth = (struct eth_h *)f;
	struct ip6_h *ip = (struct ip6_h *)(f + ETH_HLEN_);
	struct nd_h *nd = (struct nd_h *)(ip + 1);
	struct nd_opt_lla *opt = (struct nd_opt_lla *)(nd + 1);
	static const uint8_t unspec[16];
	bool dad;

	if (plen < sizeof(*nd) || nd->code != 0 ||
	    ip->hop_limit != ND_HOP_LIMIT || !ours6(c, nd->target) ||
	    room < SF_ECHO_NA_LEN)
		return SF_ECHO_NONE;
	if (!ours6(c, ip->daddr) && !solicited_node(ip->daddr, nd->target))
		return SF_ECHO_NONE;
	dad = !memcmp(ip->saddr, unspec, 16);
	if (dad) { /* duplicate address detection: tell all nodes */
		memcpy(ip->daddr, all_nodes_ip6, 16);
		memcpy(eth->dst, all_nodes_mac, 6);
	} else {
		memcpy(ip->daddr, ip->saddr, 16);
		memcpy(eth->dst, eth->src, 6);
	}
	memcpy(eth->src, c->mac, 6);
	memcpy(ip->saddr, nd->target, 16);
	ip->payload_len = htons(sizeof(*nd) + sizeof(*opt));
	ip->hop_limit = ND_HOP_LIMIT;
	nd->type = ND_ADVERT;
	nd->flags = NA_FLAG_OVERRIDE | (dad ? 0 : NA_FLAG_SOLICITED);
	memset(nd->reserved, 0, sizeof(nd->reserved));
	opt->type = ND_OPT_TLLA;
	opt->len = 1;
	memcpy(opt->mac, c->mac, 6);
	nd->csum = 0;
	nd->csum = sf_csum_fold(sf_csum_partial(
		nd, sizeof(*nd) + sizeof(*opt),
		pseudo6(ip, sizeof(*nd) + sizeof(*opt), PROTO_ICMPV6)));
	*len = SF_ECHO_NA_LEN;
	return SF_ECHO_NDP;
}

static enum sf_echo_kind do_ip6(const struct sf_echo_cfg *c, uint8_t *f,
				uint32_t *len, uint32_t room)
{
	struct ip6_h *ip = (struct ip6_h *)(f + ETH_HLEN_);
	uint8_t *l4 = (uint8_t *)(ip + 1);
	enum sf_echo_kind kind;
	uint32_t plen, csum_off;
	uint16_t csum;

	if (*len < ETH_HLEN_ + sizeof(*ip))
		return SF_ECHO_NONE;
	plen = ntohs(ip->payload_len);
	if (ntohl(ip->ver_tc_flow) >> 28 != 6 ||
	    ETH_HLEN_ + sizeof(*ip) + plen > *len)
		return SF_ECHO_NONE;
	if (ip->nexthdr == PROTO_ICMPV6 && plen >= 1 && l4[0] == ND_SOLICIT)
		return do_ns(c, f, len, room, plen);
	if (!ours6(c, ip->daddr))
		return SF_ECHO_NONE;
	if (ip->nexthdr == PROTO_ICMPV6) {
		struct icmp_h *h = (struct icmp_h *)l4;

		if (plen < sizeof(*h) || h->type != ICMP6_ECHO_REQUEST ||
		    h->code != 0)
			return SF_ECHO_NONE;
		h->type = ICMP6_ECHO_REPLY;
		csum_off = offsetof(struct icmp_h, csum);
		kind = SF_ECHO_ICMP6;
	} else if (ip->nexthdr == PROTO_UDP) {
		struct udp_h *h = (struct udp_h *)l4;

		if (plen < sizeof(*h) ||
		    h->dport != htons(c->udp_port ?: SF_ECHO_PORT) ||
		    ntohs(h->len) != plen)
			return SF_ECHO_NONE;
		swap_bytes((uint8_t *)&h->sport, (uint8_t *)&h->dport, 2);
		csum_off = offsetof(struct udp_h, csum);
		kind = SF_ECHO_UDP6;
	} else {
		return SF_ECHO_NONE;
	}
	swap_bytes(ip->saddr, ip->daddr, 16);
	ip->hop_limit = TTL_DEFAULT;
	memset(l4 + csum_off, 0, 2);
	csum = sf_csum_fold(
		sf_csum_partial(l4, plen, pseudo6(ip, plen, ip->nexthdr)));
	if (kind == SF_ECHO_UDP6 && !csum)
		csum = 0xffff; /* 0 means "no checksum", forbidden in IPv6 */
	memcpy(l4 + csum_off, &csum, 2);
	eth_reply(c, (struct eth_h *)f);
	return kind;
}

enum sf_echo_kind sf_echo_frame(const struct sf_echo_cfg *cfg, uint8_t *frame,
				uint32_t *len, uint32_t room)
{
	const struct eth_h *eth = (const struct eth_h *)frame;

	if (*len < ETH_HLEN_ || *len > room)
		return SF_ECHO_NONE;
	switch (ntohs(eth->proto)) {
	case ETH_P_ARP_:
		return do_arp(cfg, frame, *len);
	case ETH_P_IP_:
		return do_ip4(cfg, frame, *len);
	case ETH_P_IPV6_:
		return do_ip6(cfg, frame, len, room);
	}
	return SF_ECHO_NONE;
}

const char *sf_echo_kind_name(enum sf_echo_kind kind)
{
	static const char *const names[SF_ECHO_KIND_MAX] = {
		[SF_ECHO_NONE] = "none", [SF_ECHO_ARP] = "arp",
		[SF_ECHO_ICMP] = "icmp", [SF_ECHO_ICMP6] = "icmp6",
		[SF_ECHO_NDP] = "ndp",	 [SF_ECHO_UDP] = "udp",
		[SF_ECHO_UDP6] = "udp6",
	};

	return kind < SF_ECHO_KIND_MAX ? names[kind] : "none";
}

/* ---- describing answers (for -v) ---- */

void sf_echo_describe(const uint8_t *f, uint32_t len, enum sf_echo_kind kind,
		      char *buf, size_t size)
{
	const struct arp_h *a = (const struct arp_h *)(f + ETH_HLEN_);
	const struct ip4_h *ip = (const struct ip4_h *)(f + ETH_HLEN_);
	const struct ip6_h *ip6 = (const struct ip6_h *)(f + ETH_HLEN_);
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
	const struct icmp_h *ih;
	const struct udp_h *uh;

	snprintf(buf, size, "%-5s", sf_echo_kind_name(kind));
	if (len < 42) /* the shortest answer: ARP, or ICMP without data */
		return;
	switch (kind) {
	case SF_ECHO_ARP:
		snprintf(buf, size,
			 "arp   reply %s is-at "
			 "%02x:%02x:%02x:%02x:%02x:%02x to %s",
			 inet_ntop(AF_INET, a->spa, s, sizeof(s)), a->sha[0],
			 a->sha[1], a->sha[2], a->sha[3], a->sha[4], a->sha[5],
			 inet_ntop(AF_INET, a->tpa, d, sizeof(d)));
		break;
	case SF_ECHO_ICMP:
		ih = (const struct icmp_h *)((const uint8_t *)ip +
					     (ip->ver_ihl & 0xf) * 4);
		snprintf(buf, size, "icmp  echo reply %s > %s id %u seq %u",
			 inet_ntop(AF_INET, ip->saddr, s, sizeof(s)),
			 inet_ntop(AF_INET, ip->daddr, d, sizeof(d)),
			 ntohs(ih->id), ntohs(ih->seq));
		break;
	case SF_ECHO_UDP:
		uh = (const struct udp_h *)((const uint8_t *)ip +
					    (ip->ver_ihl & 0xf) * 4);
		snprintf(buf, size, "udp   echo %s:%u > %s:%u, %u bytes",
			 inet_ntop(AF_INET, ip->saddr, s, sizeof(s)),
			 ntohs(uh->sport),
			 inet_ntop(AF_INET, ip->daddr, d, sizeof(d)),
			 ntohs(uh->dport), ntohs(uh->len) - 8);
		break;
	case SF_ECHO_ICMP6:
		ih = (const struct icmp_h *)(ip6 + 1);
		snprintf(buf, size, "icmp6 echo reply %s > %s id %u seq %u",
			 inet_ntop(AF_INET6, ip6->saddr, s, sizeof(s)),
			 inet_ntop(AF_INET6, ip6->daddr, d, sizeof(d)),
			 ntohs(ih->id), ntohs(ih->seq));
		break;
	case SF_ECHO_NDP:
		snprintf(buf, size, "ndp   advert %s to %s",
			 inet_ntop(AF_INET6, ip6->saddr, s, sizeof(s)),
			 inet_ntop(AF_INET6, ip6->daddr, d, sizeof(d)));
		break;
	case SF_ECHO_UDP6:
		uh = (const struct udp_h *)(ip6 + 1);
		snprintf(buf, size, "udp6  echo [%s]:%u > [%s]:%u, %u bytes",
			 inet_ntop(AF_INET6, ip6->saddr, s, sizeof(s)),
			 ntohs(uh->sport),
			 inet_ntop(AF_INET6, ip6->daddr, d, sizeof(d)),
			 ntohs(uh->dport), ntohs(uh->len) - 8);
		break;
	default:
		break;
	}
}
