/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* pkt.h: a builder of Ethernet frames for tests: VLAN tags, IPv4 with
 * options and fragment fields, IPv6 with extension headers, TCP, UDP, ICMP,
 * ICMPv6, raw protocols and payloads (DNS, TLS ClientHello).
 *
 * Headers are appended in wire order. Each one records where its protocol
 * number must go, and the next header appended fills it in. pkt_finish()
 * then sets the IPv4 total length and checksum, the IPv6 payload length and
 * the UDP length from what was appended; a test that wants a wrong value
 * patches it afterwards with pkt_set16(). L4 checksums are left 0: no
 * parser under test reads them. Header-only, no libc beyond string.h.
 */
#ifndef __TESTS_PKT_H
#define __TESTS_PKT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define PKT_MAX 4096

#define PKT_ETH_IP 0x0800
#define PKT_ETH_ARP 0x0806
#define PKT_ETH_IPV6 0x86DD
#define PKT_ETH_8021Q 0x8100
#define PKT_ETH_8021AD 0x88A8

enum pkt_proto {
	PKT_HOPOPTS = 0,
	PKT_ICMP = 1,
	PKT_TCP = 6,
	PKT_UDP = 17,
	PKT_ROUTING = 43,
	PKT_FRAGMENT = 44,
	PKT_GRE = 47,
	PKT_ICMPV6 = 58,
	PKT_DSTOPTS = 60,
	PKT_SCTP = 132,
};

#define PKT_FIN 0x01
#define PKT_SYN 0x02
#define PKT_RST 0x04
#define PKT_PSH 0x08
#define PKT_ACK 0x10

struct pkt {
	uint8_t b[PKT_MAX];
	size_t len;
	size_t l3_off; /* IP header; 0 if none */
	size_t l4_off; /* TCP/UDP/ICMP header; 0 if none */
	size_t next_off; /* protocol byte the next header fills; 0 if none */
	uint8_t ip_version;
	uint8_t l4_proto;
};

/* IPv4 header fields; PKT_IP4 gives 192.0.2.1 -> 198.51.100.2, TTL 64. */
struct pkt_ip4 {
	uint8_t saddr[4];
	uint8_t daddr[4];
	uint8_t ttl;
	uint8_t tos;
	uint16_t id;
	uint16_t frag_off; /* in 8-byte units */
	bool mf; /* more fragments */
	uint8_t opt_len; /* option bytes, a multiple of 4, at most 40 */
	uint8_t proto; /* set it for a fragment without an L4 header */
};

#define PKT_IP4                                                          \
	{                                                                \
		.saddr = { 192, 0, 2, 1 }, .daddr = { 198, 51, 100, 2 }, \
		.ttl = 64,                                               \
	}

/* IPv6 header fields; PKT_IP6 gives 2001:db8::1 -> 2001:db8::2, hop
 * limit 64.
 */
struct pkt_ip6 {
	uint8_t saddr[16];
	uint8_t daddr[16];
	uint8_t hlim;
	uint8_t tclass;
	uint32_t flow_label;
};

#define PKT_IP6_DOC(last)                             \
	{                                             \
		0x20, 0x01, 0x0d, 0xb8, [15] = (last) \
	}
#define PKT_IP6                                                               \
	{                                                                     \
		.saddr = PKT_IP6_DOC(1), .daddr = PKT_IP6_DOC(2), .hlim = 64, \
	}

struct pkt_tcp {
	uint16_t sport;
	uint16_t dport;
	uint8_t flags;
	uint16_t window;
	uint8_t opt_len; /* option bytes, a multiple of 4: MSS then NOPs */
};

/* ---- raw bytes ---- */

static inline size_t pkt_put(struct pkt *p, const void *data, size_t n)
{
	size_t off = p->len;

	if (p->len + n > PKT_MAX)
		abort(); /* a test built a frame larger than PKT_MAX */
	if (data)
		memcpy(p->b + off, data, n);
	else
		memset(p->b + off, 0, n);
	p->len += n;
	return off;
}

static inline size_t pkt_u8(struct pkt *p, uint8_t v)
{
	return pkt_put(p, &v, 1);
}

static inline size_t pkt_be16(struct pkt *p, uint16_t v)
{
	uint8_t b[2] = { v >> 8, v };

	return pkt_put(p, b, 2);
}

static inline size_t pkt_be32(struct pkt *p, uint32_t v)
{
	size_t off = pkt_be16(p, v >> 16);

	pkt_be16(p, v);
	return off;
}

static inline void pkt_set16(struct pkt *p, size_t off, uint16_t v)
{
	p->b[off] = v >> 8;
	p->b[off + 1] = v;
}

static inline uint16_t pkt_get16(const struct pkt *p, size_t off)
{
	return p->b[off] << 8 | p->b[off + 1];
}

static inline void pkt_fill(struct pkt *p, uint8_t byte, size_t n)
{
	memset(p->b + pkt_put(p, NULL, n), byte, n);
}

static inline void pkt_payload(struct pkt *p, const void *data, size_t n)
{
	pkt_put(p, data, n);
}

static inline void pkt_str(struct pkt *p, const char *s)
{
	pkt_put(p, s, strlen(s));
}

/* Fill the pending protocol field with proto; the new header's own
 * next-protocol byte (if any) becomes the pending one.
 */
static inline void pkt_chain(struct pkt *p, uint8_t proto, size_t next_off)
{
	if (p->next_off)
		p->b[p->next_off] = proto;
	p->next_off = next_off;
}

static inline void pkt_init(struct pkt *p)
{
	memset(p, 0, sizeof(*p));
}

/* ---- L2 ---- */

/* Destination and source MAC; follow with tags and pkt_ethertype(). */
static inline void pkt_eth_addrs(struct pkt *p)
{
	static const uint8_t macs[12] = { 0x02, 0, 0, 0, 0, 0x02,
					  0x02, 0, 0, 0, 0, 0x01 };

	pkt_put(p, macs, sizeof(macs));
}

/* tci carries PCP and DEI besides the VID, as on the wire. */
static inline void pkt_vlan(struct pkt *p, uint16_t tpid, uint16_t tci)
{
	pkt_be16(p, tpid);
	pkt_be16(p, tci);
}

static inline void pkt_ethertype(struct pkt *p, uint16_t type)
{
	pkt_be16(p, type);
}

static inline void pkt_eth(struct pkt *p, uint16_t type)
{
	pkt_eth_addrs(p);
	pkt_ethertype(p, type);
}

/* An ARP request from 192.0.2.1 for 198.51.100.2 (Ethernet included). */
static inline void pkt_arp(struct pkt *p)
{
	static const uint8_t arp[28] = {
		0,    1, 0x08, 0, 6, 4,	   0,	1, /* Ethernet/IPv4, request */
		0x02, 0, 0,    0, 0, 0x01, 192, 0,  2,	 1, /* sender */
		0,    0, 0,    0, 0, 0,	   198, 51, 100, 2, /* target */
	};

	pkt_eth(p, PKT_ETH_ARP);
	pkt_put(p, arp, sizeof(arp));
}

/* ---- L3 ---- */

static inline uint16_t pkt_csum(const uint8_t *b, size_t n)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		sum += b[i] << 8 | b[i + 1];
	if (n & 1)
		sum += b[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

/* Router alert (RFC 2113) first, then NOPs. */
static inline void pkt_ip4_options(struct pkt *p, uint8_t n)
{
	static const uint8_t ra[4] = { 148, 4, 0, 0 };

	if (n >= 4) {
		pkt_put(p, ra, 4);
		n -= 4;
	}
	pkt_fill(p, 1, n);
}

static inline void pkt_ipv4(struct pkt *p, const struct pkt_ip4 *ip)
{
	uint16_t frag = ip->frag_off | (ip->mf ? 0x2000 : 0);
	size_t off;

	p->l3_off = off = p->len;
	p->ip_version = 4;
	pkt_u8(p, 0x40 | (5 + ip->opt_len / 4));
	pkt_u8(p, ip->tos);
	pkt_be16(p, 0); /* total length: pkt_finish() */
	pkt_be16(p, ip->id);
	pkt_be16(p, frag);
	pkt_u8(p, ip->ttl);
	pkt_u8(p, ip->proto);
	pkt_be16(p, 0); /* checksum: pkt_finish() */
	pkt_put(p, ip->saddr, 4);
	pkt_put(p, ip->daddr, 4);
	pkt_ip4_options(p, ip->opt_len);
	p->next_off = ip->proto ? 0 : off + 9;
}

static inline void pkt_ipv6(struct pkt *p, const struct pkt_ip6 *ip)
{
	uint32_t vtf = 6u << 28 | (uint32_t)ip->tclass << 20 |
		       (ip->flow_label & 0xfffff);

	p->l3_off = p->len;
	p->ip_version = 6;
	pkt_be32(p, vtf);
	pkt_be16(p, 0); /* payload length: pkt_finish() */
	p->next_off = pkt_u8(p, 0);
	pkt_u8(p, ip->hlim);
	pkt_put(p, ip->saddr, 16);
	pkt_put(p, ip->daddr, 16);
}

/* Hop-by-hop (0), routing (43) or destination options (60), 8 * (units +
 * 1) bytes. Options headers carry one PadN; routing is an empty segment
 * routing header with segments left 0.
 */
static inline void pkt_ipv6_ext(struct pkt *p, uint8_t type, uint8_t units)
{
	size_t body = 6 + 8 * (size_t)units;

	pkt_chain(p, type, pkt_u8(p, 0));
	pkt_u8(p, units);
	if (type == PKT_ROUTING) {
		pkt_u8(p, 4); /* routing type: segment routing */
		pkt_put(p, NULL, body - 1);
		return;
	}
	pkt_u8(p, 1); /* PadN */
	pkt_u8(p, body - 2);
	pkt_put(p, NULL, body - 2);
}

/* Fragment header; offset in 8-byte units. */
static inline void pkt_ipv6_frag(struct pkt *p, uint16_t offset, bool mf,
				 uint32_t id)
{
	pkt_chain(p, PKT_FRAGMENT, pkt_u8(p, 0));
	pkt_u8(p, 0);
	pkt_be16(p, offset << 3 | mf);
	pkt_be32(p, id);
}

/* The protocol of a fragment that carries no L4 header. */
static inline void pkt_ipv6_frag_proto(struct pkt *p, uint8_t proto)
{
	pkt_chain(p, proto, 0);
}

/* ---- L4 ---- */

static inline void pkt_l4_start(struct pkt *p, uint8_t proto)
{
	pkt_chain(p, proto, 0);
	p->l4_off = p->len;
	p->l4_proto = proto;
}

/* MSS 1460 first, then NOPs. */
static inline void pkt_tcp_options(struct pkt *p, uint8_t n)
{
	static const uint8_t mss[4] = { 2, 4, 0x05, 0xb4 };

	if (n >= 4) {
		pkt_put(p, mss, 4);
		n -= 4;
	}
	pkt_fill(p, 1, n);
}

static inline void pkt_tcp(struct pkt *p, const struct pkt_tcp *t)
{
	pkt_l4_start(p, PKT_TCP);
	pkt_be16(p, t->sport);
	pkt_be16(p, t->dport);
	pkt_be32(p, 0x01020304); /* sequence */
	pkt_be32(p, t->flags & PKT_ACK ? 0x0a0b0c0d : 0);
	pkt_u8(p, (5 + t->opt_len / 4) << 4);
	pkt_u8(p, t->flags);
	pkt_be16(p, t->window);
	pkt_be32(p, 0); /* checksum, urgent pointer */
	pkt_tcp_options(p, t->opt_len);
}

static inline void pkt_udp(struct pkt *p, uint16_t sport, uint16_t dport)
{
	pkt_l4_start(p, PKT_UDP);
	pkt_be16(p, sport);
	pkt_be16(p, dport);
	pkt_be32(p, 0); /* length: pkt_finish(); checksum */
}

/* ICMP (v4) or ICMPv6: type, code, checksum, then 4 bytes that are the
 * echo identifier and sequence or the type's own field (rest).
 */
static inline void pkt_icmp_any(struct pkt *p, uint8_t proto, uint8_t type,
				uint8_t code, uint32_t rest)
{
	pkt_l4_start(p, proto);
	pkt_u8(p, type);
	pkt_u8(p, code);
	pkt_be16(p, 0);
	pkt_be32(p, rest);
}

static inline void pkt_icmp(struct pkt *p, uint8_t type, uint8_t code,
			    uint32_t rest)
{
	pkt_icmp_any(p, PKT_ICMP, type, code, rest);
}

static inline void pkt_icmp6(struct pkt *p, uint8_t type, uint8_t code,
			     uint32_t rest)
{
	pkt_icmp_any(p, PKT_ICMPV6, type, code, rest);
}

/* Any other protocol: its header is opaque bytes. */
static inline void pkt_l4_raw(struct pkt *p, uint8_t proto, const void *hdr,
			      size_t n)
{
	pkt_l4_start(p, proto);
	pkt_put(p, hdr, n);
}

/* Lengths and the IPv4 header checksum from what was appended. */
static inline void pkt_finish(struct pkt *p)
{
	size_t l3 = p->l3_off;

	if (p->ip_version == 4) {
		size_t hlen = (p->b[l3] & 0x0f) * 4;

		pkt_set16(p, l3 + 2, p->len - l3);
		pkt_set16(p, l3 + 10, 0);
		pkt_set16(p, l3 + 10, pkt_csum(p->b + l3, hlen));
	} else if (p->ip_version == 6) {
		pkt_set16(p, l3 + 4, p->len - l3 - 40);
	}
	if (p->l4_off && p->l4_proto == PKT_UDP)
		pkt_set16(p, p->l4_off + 4, p->len - p->l4_off);
}

/* ---- payloads ---- */

/* A name in DNS wire format ("www.example.com" -> 3www7example3com0). */
static inline void pkt_dns_name(struct pkt *p, const char *name)
{
	while (*name) {
		size_t n = strcspn(name, ".");

		pkt_u8(p, n);
		pkt_put(p, name, n);
		name += n + (name[n] == '.');
	}
	pkt_u8(p, 0);
}

/* A DNS message with one question (class IN) and no records. flags is
 * the second header word: 0x0100 a recursive query, 0x8183 an NXDOMAIN
 * answer.
 */
static inline void pkt_dns(struct pkt *p, uint16_t id, uint16_t flags,
			   const char *qname, uint16_t qtype)
{
	pkt_be16(p, id);
	pkt_be16(p, flags);
	pkt_be16(p, 1); /* questions */
	pkt_be16(p, 0); /* answers */
	pkt_be32(p, 0); /* authority, additional */
	pkt_dns_name(p, qname);
	pkt_be16(p, qtype);
	pkt_be16(p, 1);
}

/* Reserve a big-endian length field of n bytes; pkt_tls_len() fills it. */
static inline size_t pkt_tls_len_start(struct pkt *p, size_t n)
{
	return pkt_put(p, NULL, n);
}

static inline void pkt_tls_len(struct pkt *p, size_t at, size_t n)
{
	size_t v = p->len - at - n;

	for (size_t i = 0; i < n; i++)
		p->b[at + i] = v >> (8 * (n - 1 - i));
}

static inline void pkt_tls_ext(struct pkt *p, uint16_t type, const void *body,
			       size_t n)
{
	pkt_be16(p, type);
	pkt_be16(p, n);
	pkt_put(p, body, n);
}

static inline void pkt_tls_sni(struct pkt *p, const char *sni)
{
	size_t n = strlen(sni);

	pkt_be16(p, 0); /* server_name */
	pkt_be16(p, n + 5);
	pkt_be16(p, n + 3); /* server name list */
	pkt_u8(p, 0); /* host_name */
	pkt_be16(p, n);
	pkt_put(p, sni, n);
}

static inline void pkt_tls_hello_body(struct pkt *p)
{
	static const uint8_t suites[] = { 0x13, 0x01, 0x13, 0x02, 0x13, 0x03,
					  0xc0, 0x2b, 0xc0, 0x2f, 0xc0, 0x2c,
					  0xc0, 0x30, 0xcc, 0xa9, 0xcc, 0xa8 };
	uint8_t random[32];

	for (size_t i = 0; i < sizeof(random); i++)
		random[i] = 0xa0 + i;
	pkt_be16(p, 0x0303); /* client_version: TLS 1.2 */
	pkt_put(p, random, sizeof(random));
	pkt_u8(p, 32); /* legacy session id */
	pkt_fill(p, 0x5e, 32);
	pkt_be16(p, sizeof(suites));
	pkt_put(p, suites, sizeof(suites));
	pkt_u8(p, 1); /* compression methods: null */
	pkt_u8(p, 0);
}

/* The extensions of a browser-like ClientHello, server_name third.
 * Returns the offset just past the server name.
 */
static inline size_t pkt_tls_extensions(struct pkt *p, const char *sni)
{
	size_t sni_end;

	static const uint8_t groups[] = { 0, 6, 0, 0x1d, 0, 0x17, 0, 0x18 };
	static const uint8_t points[] = { 1, 0 };
	static const uint8_t versions[] = { 4, 0x03, 0x04, 0x03, 0x03 };
	static const uint8_t sigalgs[] = { 0, 4, 0x04, 0x03, 0x08, 0x04 };

	pkt_tls_ext(p, 0x000a, groups, sizeof(groups)); /* supported_groups */
	pkt_tls_ext(p, 0x000b, points, sizeof(points)); /* ec_point_formats */
	pkt_tls_sni(p, sni);
	sni_end = p->len;
	pkt_tls_ext(p, 0x002b, versions, sizeof(versions));
	pkt_tls_ext(p, 0x000d, sigalgs, sizeof(sigalgs));
	return sni_end;
}

/* A TLS record holding a ClientHello with session id, nine cipher suites
 * and server_name between two extensions before and two after. Returns
 * the offset just past the server name.
 */
static inline size_t pkt_tls_client_hello(struct pkt *p, const char *sni)
{
	size_t rec, hs, ext, sni_end;

	pkt_u8(p, 0x16); /* handshake */
	pkt_be16(p, 0x0301);
	rec = pkt_tls_len_start(p, 2);
	pkt_u8(p, 0x01); /* client_hello */
	hs = pkt_tls_len_start(p, 3);
	pkt_tls_hello_body(p);
	ext = pkt_tls_len_start(p, 2);
	sni_end = pkt_tls_extensions(p, sni);
	pkt_tls_len(p, ext, 2);
	pkt_tls_len(p, hs, 3);
	pkt_tls_len(p, rec, 2);
	return sni_end;
}

#endif /* __TESTS_PKT_H */
