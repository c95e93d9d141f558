// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_xsk_echo.c: unit tests of the echo responder (lib/xsk/echo.c), the
 * pure function behind `sysflow echo` and the AF_PACKET baseline: crafted
 * ARP, ICMP, ICMPv6, NDP and UDP requests in, answers checked field by
 * field with every checksum verified by an independent byte-wise sum;
 * frames it must not answer stay untouched; every truncation is refused.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "xsk/echo.h"

#define ROOM 2048

static const uint8_t our_mac[6] = { 0x02, 0, 0, 0, 0, 0x05 };
static const uint8_t peer_mac[6] = { 0x02, 0, 0, 0, 0, 0x04 };
static const uint8_t our4[4] = { 10, 0, 0, 5 };
static const uint8_t peer4[4] = { 10, 0, 0, 4 };
static const uint8_t our6[16] = { 0xfd, [15] = 5 };
static const uint8_t peer6[16] = { 0xfd, [15] = 4 };
static const uint8_t unspec6[16];

static struct sf_echo_cfg cfg;

static int setup(void **state)
{
	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	memcpy(cfg.mac, our_mac, 6);
	assert_int_equal(sf_echo_cfg_set_addrs(&cfg, "10.0.0.5,fd00::5,"
						     "fe80::5"),
			 0);
	return 0;
}

/* ---- an independent checksum: 16-bit big-endian words, byte by byte ---- */

static uint32_t ref_sum(const uint8_t *b, size_t n, uint32_t sum)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)b[i] << 8 | b[i + 1];
	if (n & 1)
		sum += (uint32_t)b[n - 1] << 8;
	return sum;
}

static uint16_t ref_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum & 0xffff;
}

static uint32_t ref_pseudo4(const uint8_t *ip, uint16_t len, uint8_t proto)
{
	return ref_sum(ip + 12, 8, 0) + len + proto;
}

static uint32_t ref_pseudo6(const uint8_t *ip, uint32_t len, uint8_t proto)
{
	return ref_sum(ip + 8, 32, 0) + (len >> 16) + (len & 0xffff) + proto;
}

static uint16_t get16(const uint8_t *b)
{
	return b[0] << 8 | b[1];
}

static void put16(uint8_t *b, uint16_t v)
{
	b[0] = v >> 8;
	b[1] = v;
}

/* ---- request builders ---- */

static size_t eth(uint8_t *f, const uint8_t *dst, uint16_t type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, peer_mac, 6);
	put16(f + 12, type);
	return 14;
}

static size_t arp_request(uint8_t *f, const uint8_t *target, uint16_t op)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint8_t *a = f + eth(f, bcast, 0x0806);

	put16(a, 1);
	put16(a + 2, 0x0800);
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, op);
	memcpy(a + 8, peer_mac, 6);
	memcpy(a + 14, peer4, 4);
	memset(a + 18, 0, 6);
	memcpy(a + 24, target, 4);
	return 42;
}

/* IPv4 + L4 of l4len bytes; the IP checksum is filled in. */
static uint8_t *ip4(uint8_t *f, const uint8_t *dst, uint8_t proto, size_t l4len,
		    size_t *len)
{
	uint8_t *ip = f + eth(f, our_mac, 0x0800);

	memset(ip, 0, 20);
	ip[0] = 0x45;
	put16(ip + 2, 20 + l4len);
	put16(ip + 4, 0x1234);
	put16(ip + 6, 0x4000); /* DF */
	ip[8] = 17;
	ip[9] = proto;
	memcpy(ip + 12, peer4, 4);
	memcpy(ip + 16, dst, 4);
	put16(ip + 10, ref_fold(ref_sum(ip, 20, 0)));
	*len = 14 + 20 + l4len;
	return ip + 20;
}

static size_t icmp4_echo(uint8_t *f, const uint8_t *dst, size_t payload)
{
	size_t len;
	uint8_t *h = ip4(f, dst, 1, 8 + payload, &len);

	h[0] = 8;
	h[1] = 0;
	put16(h + 2, 0);
	put16(h + 4, 0x77);
	put16(h + 6, 3);
	for (size_t i = 0; i < payload; i++)
		h[8 + i] = i;
	put16(h + 2, ref_fold(ref_sum(h, 8 + payload, 0)));
	return len;
}

enum csum_kind { CSUM_FULL, CSUM_PARTIAL, CSUM_NONE };

static size_t udp4(uint8_t *f, uint16_t dport, size_t payload,
		   enum csum_kind ck)
{
	size_t len;
	uint8_t *h = ip4(f, our4, 17, 8 + payload, &len);
	uint8_t *ip = h - 20;

	put16(h, 40000);
	put16(h + 2, dport);
	put16(h + 4, 8 + payload);
	put16(h + 6, 0);
	for (size_t i = 0; i < payload; i++)
		h[8 + i] = 'a' + i % 26;
	if (ck == CSUM_FULL)
		put16(h + 6,
		      ref_fold(ref_sum(h, 8 + payload,
				       ref_pseudo4(ip, 8 + payload, 17))));
	else if (ck == CSUM_PARTIAL) /* what a veth with offload sends */
		put16(h + 6, ~ref_fold(ref_pseudo4(ip, 8 + payload, 17)));
	return len;
}

static uint8_t *ip6(uint8_t *f, const uint8_t *emac, const uint8_t *src,
		    const uint8_t *dst, uint8_t nh, uint8_t hops, size_t l4len,
		    size_t *len)
{
	uint8_t *ip = f + eth(f, emac, 0x86dd);

	memset(ip, 0, 40);
	ip[0] = 0x60;
	put16(ip + 4, l4len);
	ip[6] = nh;
	ip[7] = hops;
	memcpy(ip + 8, src, 16);
	memcpy(ip + 24, dst, 16);
	*len = 14 + 40 + l4len;
	return ip + 40;
}

static void l4_csum6(uint8_t *l4, size_t l4len, size_t off, uint8_t nh)
{
	put16(l4 + off, 0);
	put16(l4 + off,
	      ref_fold(ref_sum(l4, l4len, ref_pseudo6(l4 - 40, l4len, nh))));
}

static size_t icmp6_echo(uint8_t *f, const uint8_t *dst)
{
	size_t len;
	uint8_t *h = ip6(f, our_mac, peer6, dst, 58, 64, 8 + 32, &len);

	h[0] = 128;
	h[1] = 0;
	put16(h + 4, 0x99);
	put16(h + 6, 7);
	memset(h + 8, 0xab, 32);
	l4_csum6(h, 40, 2, 58);
	return len;
}

static size_t udp6(uint8_t *f, uint16_t dport, size_t payload)
{
	size_t len;
	uint8_t *h = ip6(f, our_mac, peer6, our6, 17, 64, 8 + payload, &len);

	put16(h, 40001);
	put16(h + 2, dport);
	put16(h + 4, 8 + payload);
	memset(h + 8, 'z', payload);
	l4_csum6(h, 8 + payload, 6, 17);
	return len;
}

/* A neighbour solicitation for target, from src (:: for DAD), to the
 * solicited-node group, with a source link-layer option unless DAD or
 * with_opt is false.
 */
static size_t ns(uint8_t *f, const uint8_t *src, const uint8_t *target,
		 bool with_opt)
{
	uint8_t snm[16] = { 0xff, 0x02, [11] = 1, [12] = 0xff };
	const uint8_t snm_mac[6] = { 0x33,	 0x33,	     0xff,
				     target[13], target[14], target[15] };
	size_t len, l4len = 24 + (with_opt ? 8 : 0);
	uint8_t *h;

	memcpy(snm + 13, target + 13, 3);
	h = ip6(f, snm_mac, src, snm, 58, 255, l4len, &len);
	memset(h, 0, l4len);
	h[0] = 135;
	memcpy(h + 8, target, 16);
	if (with_opt) {
		h[24] = 1;
		h[25] = 1;
		memcpy(h + 26, peer_mac, 6);
	}
	l4_csum6(h, l4len, 2, 58);
	return len;
}

/* ---- checks ---- */

static void assert_eth_reply(const uint8_t *f, const uint8_t *dst)
{
	assert_memory_equal(f, dst, 6);
	assert_memory_equal(f + 6, our_mac, 6);
}

static void assert_ip4_ok(const uint8_t *ip)
{
	assert_int_equal(ref_fold(ref_sum(ip, 20, 0)), 0);
	assert_memory_equal(ip + 12, our4, 4);
	assert_memory_equal(ip + 16, peer4, 4);
	assert_int_equal(ip[8], 64);
}

static void assert_l4_csum6(const uint8_t *l4, size_t l4len, uint8_t nh)
{
	assert_int_equal(
		ref_fold(ref_sum(l4, l4len, ref_pseudo6(l4 - 40, l4len, nh))),
		0);
}

/* NONE, and not a byte changed. */
static void assert_ignored(uint8_t *f, size_t len, uint32_t room)
{
	uint8_t copy[ROOM];
	uint32_t l = len;

	memcpy(copy, f, len);
	assert_int_equal(sf_echo_frame(&cfg, f, &l, room), SF_ECHO_NONE);
	assert_int_equal(l, len);
	assert_memory_equal(f, copy, len);
}

/* Every shorter frame is refused, read in bounds (ASan watches). */
static void assert_truncations_ignored(const uint8_t *f, size_t len)
{
	for (size_t n = 0; n < len; n++) {
		uint8_t *t = malloc(n ? n : 1);
		uint32_t l = n;

		memcpy(t, f, n);
		assert_int_equal(sf_echo_frame(&cfg, t, &l, n), SF_ECHO_NONE);
		free(t);
	}
}

/* ---- tests ---- */

static void test_arp(void **state)
{
	uint8_t f[ROOM];
	size_t len = arp_request(f, our4, 1);
	uint32_t l = len;
	const uint8_t *a = f + 14;

	(void)state;
	assert_truncations_ignored(f, len);
	assert_int_equal(sf_echo_frame(&cfg, f, &l, sizeof(f)), SF_ECHO_ARP);
	assert_int_equal(l, 42);
	assert_eth_reply(f, peer_mac);
	assert_int_equal(get16(f + 12), 0x0806);
	assert_int_equal(get16(a + 6), 2);
	assert_memory_equal(a + 8, our_mac, 6);
	assert_memory_equal(a + 14, our4, 4);
	assert_memory_equal(a + 18, peer_mac, 6);
	assert_memory_equal(a + 24, peer4, 4);

	len = arp_request(f, peer4, 1); /* not ours */
	assert_ignored(f, len, sizeof(f));
	len = arp_request(f, our4, 2); /* a reply */
	assert_ignored(f, len, sizeof(f));
}

static void test_icmp_echo(void **state)
{
	uint8_t f[ROOM], req[ROOM];
	size_t len = icmp4_echo(f, our4, 56);
	uint32_t l = len;
	uint8_t *ip = f + 14, *h = f + 34;

	(void)state;
	memcpy(req, f, len);
	assert_truncations_ignored(f, len);
	assert_int_equal(sf_echo_frame(&cfg, f, &l, sizeof(f)), SF_ECHO_ICMP);
	assert_int_equal(l, len);
	assert_eth_reply(f, peer_mac);
	assert_ip4_ok(ip);
	assert_int_equal(h[0], 0);
	assert_int_equal(ref_fold(ref_sum(h, 64, 0)), 0);
	assert_memory_equal(h + 4, req + 38, 4 + 56); /* id, seq, data */

	len = icmp4_echo(f, peer4, 8); /* not ours */
	assert_ignored(f, len, sizeof(f));
	len = icmp4_echo(f, our4, 8);
	f[14 + 10] ^= 1; /* bad IP header checksum */
	assert_ignored(f, len, sizeof(f));
	len = icmp4_echo(f, our4, 8);
	f[34] = 0; /* an echo reply */
	assert_ignored(f, len, sizeof(f));
}

static void test_icmp_fragment_ignored(void **state)
{
	uint8_t f[ROOM];
	size_t len = icmp4_echo(f, our4, 8);
	uint8_t *ip = f + 14;

	(void)state;
	put16(ip + 6, 0x2000); /* more fragments */
	put16(ip + 10, 0);
	put16(ip + 10, ref_fold(ref_sum(ip, 20, 0)));
	assert_ignored(f, len, sizeof(f));
}

static void check_udp4(enum csum_kind ck, size_t payload)
{
	uint8_t f[ROOM], req[ROOM];
	size_t len = udp4(f, 7, payload, ck);
	uint32_t l = len;
	uint8_t *ip = f + 14, *h = f + 34;

	memcpy(req, f, len);
	assert_int_equal(sf_echo_frame(&cfg, f, &l, sizeof(f)), SF_ECHO_UDP);
	assert_int_equal(l, len);
	assert_eth_reply(f, peer_mac);
	assert_ip4_ok(ip);
	assert_int_equal(get16(h), 7);
	assert_int_equal(get16(h + 2), 40000);
	assert_memory_equal(h + 8, req + 42, payload);
	if (ck == CSUM_NONE)
		assert_int_equal(get16(h + 6), 0);
	else
		assert_int_equal(
			ref_fold(ref_sum(h, 8 + payload,
					 ref_pseudo4(ip, 8 + payload, 17))),
			0);
}

static void test_udp4_echo(void **state)
{
	uint8_t f[ROOM];
	size_t len;

	(void)state;
	for (size_t p = 0; p < 40; p++) /* odd and even lengths */
		check_udp4(CSUM_FULL, p);
	check_udp4(CSUM_FULL, 1472);
	check_udp4(CSUM_PARTIAL, 33);
	check_udp4(CSUM_NONE, 18);
	len = udp4(f, 7, 18, CSUM_FULL);
	assert_truncations_ignored(f, len);
	len = udp4(f, 9, 18, CSUM_FULL); /* another port */
	assert_ignored(f, len, sizeof(f));
	len = udp4(f, 7, 18, CSUM_FULL);
	put16(f + 34 + 4, 200); /* UDP length past the IP payload */
	assert_ignored(f, len, sizeof(f));
}

static void test_icmp6_echo(void **state)
{
	uint8_t f[ROOM], req[ROOM];
	size_t len = icmp6_echo(f, our6);
	uint32_t l = len;
	uint8_t *ip = f + 14, *h = f + 54;

	(void)state;
	memcpy(req, f, len);
	assert_truncations_ignored(f, len);
	assert_int_equal(sf_echo_frame(&cfg, f, &l, sizeof(f)), SF_ECHO_ICMP6);
	assert_int_equal(l, len);
	assert_eth_reply(f, peer_mac);
	assert_memory_equal(ip + 8, our6, 16);
	assert_memory_equal(ip + 24, peer6, 16);
	assert_int_equal(ip[7], 64);
	assert_int_equal(h[0], 129);
	assert_l4_csum6(h, 40, 58);
	assert_memory_equal(h + 4, req + 58, 36);

	len = icmp6_echo(f, peer6);
	assert_ignored(f, len, sizeof(f));
}

static void test_udp6_echo(void **state)
{
	uint8_t f[ROOM];
	size_t len = udp6(f, 7, 101);
	uint32_t l = len;
	uint8_t *h = f + 54;

	(void)state;
	assert_truncations_ignored(f, len);
	assert_int_equal(sf_echo_frame(&cfg, f, &l, sizeof(f)), SF_ECHO_UDP6);
	assert_eth_reply(f, peer_mac);
	assert_int_equal(get16(h), 7);
	assert_int_equal(get16(h + 2), 40001);
	assert_l4_csum6(h, 8 + 101, 17);
	len = udp6(f, 8, 10);
	assert_ignored(f, len, sizeof(f));
}

static void assert_na(const uint8_t *f, uint32_t l, const uint8_t *emac,
		      const uint8_t *dst, uint8_t flags)
{
	const uint8_t *ip = f + 14, *h = f + 54;

	assert_int_equal(l, SF_ECHO_NA_LEN);
	assert_eth_reply(f, emac);
	assert_int_equal(get16(f + 12), 0x86dd);
	assert_int_equal(get16(ip + 4), 32);
	assert_int_equal(ip[6], 58);
	assert_int_equal(ip[7], 255);
	assert_memory_equal(ip + 8, our6, 16);
	assert_memory_equal(ip + 24, dst, 16);
	assert_int_equal(h[0], 136);
	assert_int_equal(h[1], 0);
	assert_int_equal(h[4], flags);
	assert_memory_equal(h + 8, our6, 16);
	assert_int_equal(h[24], 2); /* target link-layer address */
	assert_int_equal(h[25], 1);
	assert_memory_equal(h + 26, our_mac, 6);
	assert_l4_csum6(h, 32, 58);
}

static void test_neighbour_solicitation(void **state)
{
	static const uint8_t all_nodes_mac[6] = { 0x33, 0x33, 0, 0, 0, 1 };
	static const uint8_t all_nodes[16] = { 0xff, 0x02, [15] = 1 };
	uint8_t f[ROOM];
	size_t len = ns(f, peer6, our6, true);
	uint32_t l = len;

	(void)state;
	assert_truncations_ignored(f, len);
	assert_int_equal(sf_echo_frame(&cfg, f, &l, sizeof(f)), SF_ECHO_NDP);
	assert_na(f, l, peer_mac, peer6, 0x60); /* solicited, override */

	/* No option: the answer grows, if the chunk has room. */
	len = ns(f, peer6, our6, false);
	l = len;
	assert_int_equal(len, 78);
	assert_ignored(f, len, SF_ECHO_NA_LEN - 1);
	assert_int_equal(sf_echo_frame(&cfg, f, &l, SF_ECHO_NA_LEN),
			 SF_ECHO_NDP);
	assert_na(f, l, peer_mac, peer6, 0x60);

	/* Duplicate address detection: to all nodes, not solicited. */
	len = ns(f, unspec6, our6, false);
	l = len;
	assert_int_equal(sf_echo_frame(&cfg, f, &l, sizeof(f)), SF_ECHO_NDP);
	assert_na(f, l, all_nodes_mac, all_nodes, 0x20);

	len = ns(f, peer6, peer6, true); /* someone else's address */
	assert_ignored(f, len, sizeof(f));
	len = ns(f, peer6, our6, true);
	f[14 + 7] = 64; /* hop limit must be 255 */
	assert_ignored(f, len, sizeof(f));
}

static void test_other_frames_ignored(void **state)
{
	uint8_t f[ROOM];
	size_t len;
	uint32_t l = 0;

	(void)state;
	assert_int_equal(sf_echo_frame(&cfg, f, &l, sizeof(f)), SF_ECHO_NONE);
	len = eth(f, our_mac, 0x88cc); /* LLDP */
	memset(f + len, 0, 46);
	assert_ignored(f, len + 46, sizeof(f));
	len = udp4(f, 7, 10, CSUM_FULL);
	assert_ignored(f, len, len - 1); /* frame longer than its room */
}

static void test_describe(void **state)
{
	uint8_t f[ROOM];
	char line[160];
	uint32_t l;

	(void)state;
	l = arp_request(f, our4, 1);
	sf_echo_frame(&cfg, f, &l, sizeof(f));
	sf_echo_describe(f, l, SF_ECHO_ARP, line, sizeof(line));
	assert_string_equal(line, "arp   reply 10.0.0.5 is-at "
				  "02:00:00:00:00:05 to 10.0.0.4");
	l = icmp4_echo(f, our4, 8);
	sf_echo_frame(&cfg, f, &l, sizeof(f));
	sf_echo_describe(f, l, SF_ECHO_ICMP, line, sizeof(line));
	assert_string_equal(line, "icmp  echo reply 10.0.0.5 > 10.0.0.4 id "
				  "119 seq 3");
	l = udp6(f, 7, 5);
	sf_echo_frame(&cfg, f, &l, sizeof(f));
	sf_echo_describe(f, l, SF_ECHO_UDP6, line, sizeof(line));
	assert_string_equal(line, "udp6  echo [fd00::5]:7 > [fd00::4]:40001, "
				  "5 bytes");
	l = ns(f, peer6, our6, true);
	sf_echo_frame(&cfg, f, &l, sizeof(f));
	sf_echo_describe(f, l, SF_ECHO_NDP, line, sizeof(line));
	assert_string_equal(line, "ndp   advert fd00::5 to fd00::4");
	assert_string_equal(sf_echo_kind_name(SF_ECHO_KIND_MAX), "none");
}

static void test_addresses(void **state)
{
	struct sf_echo_cfg c = {};

	(void)state;
	assert_int_equal(sf_echo_cfg_set_addrs(&c, "192.0.2.1,2001:db8::1,"
						   "192.0.2.2"),
			 0);
	assert_int_equal(c.n_ip4, 2);
	assert_int_equal(c.n_ip6, 1);
	assert_int_equal(sf_echo_cfg_set_addrs(&c, "192.0.2.1,bogus"), -EINVAL);
	assert_int_equal(sf_echo_cfg_set_addrs(&c, ""), -EINVAL);
	assert_int_equal(sf_echo_cfg_set_addrs(&c, ","), -EINVAL);
	assert_int_equal(sf_echo_cfg_from_iface(&c, "nosuch0"), -ENODEV);
}

/* The library's sum against the reference on every length and offset. */
static void test_checksum(void **state)
{
	uint8_t buf[300];
	uint32_t seed = 1;

	(void)state;
	for (size_t i = 0; i < sizeof(buf); i++) {
		seed = seed * 1103515245 + 12345;
		buf[i] = seed >> 16;
	}
	for (size_t off = 0; off < 4; off++) {
		for (size_t n = 0; n + off <= sizeof(buf); n++) {
			uint16_t ours =
				sf_csum_fold(sf_csum_partial(buf + off, n, 0));

			assert_int_equal(ntohs(ours),
					 ref_fold(ref_sum(buf + off, n, 0)));
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_arp, setup),
		cmocka_unit_test_setup(test_icmp_echo, setup),
		cmocka_unit_test_setup(test_icmp_fragment_ignored, setup),
		cmocka_unit_test_setup(test_udp4_echo, setup),
		cmocka_unit_test_setup(test_icmp6_echo, setup),
		cmocka_unit_test_setup(test_udp6_echo, setup),
		cmocka_unit_test_setup(test_neighbour_solicitation, setup),
		cmocka_unit_test_setup(test_other_frames_ignored, setup),
		cmocka_unit_test_setup(test_describe, setup),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_checksum),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
