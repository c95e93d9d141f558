/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* echo.h: the echo responder as a pure function over an Ethernet frame:
 * ARP requests, ICMP and ICMPv6 echo requests, IPv6 neighbour
 * solicitations and UDP to the echo port (7) for the configured addresses
 * are turned into their answers in place. No I/O and no allocation: the
 * same code serves `sysflow echo` (AF_XDP), the AF_PACKET baseline of
 * bench/xsk and the unit tests.
 */
#ifndef __SYSFLOW_ECHO_H
#define __SYSFLOW_ECHO_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#define SF_ECHO_MAX_ADDRS 16
#define SF_ECHO_PORT 7 /* RFC 862 */
#define SF_ECHO_NA_LEN 86 /* Ethernet + IPv6 + NA with its option */

enum sf_echo_kind {
	SF_ECHO_NONE = 0, /* not for us, or not a request we answer */
	SF_ECHO_ARP, /* ARP request: replied */
	SF_ECHO_ICMP, /* ICMP echo request: replied */
	SF_ECHO_ICMP6, /* ICMPv6 echo request: replied */
	SF_ECHO_NDP, /* neighbour solicitation: advertisement */
	SF_ECHO_UDP, /* UDP over IPv4 to the echo port: echoed */
	SF_ECHO_UDP6, /* UDP over IPv6 to the echo port: echoed */
	SF_ECHO_KIND_MAX,
};

struct sf_echo_cfg {
	uint8_t mac[6];
	uint16_t udp_port; /* host order; 0 means SF_ECHO_PORT */
	unsigned int n_ip4;
	unsigned int n_ip6;
	struct in_addr ip4[SF_ECHO_MAX_ADDRS];
	struct in6_addr ip6[SF_ECHO_MAX_ADDRS];
};

/* Turn the request in frame[0..*len) into its answer, in place: addresses
 * and ports swapped, TTL or hop limit reset, checksums computed afresh.
 * The frame may grow up to room bytes (a neighbour advertisement); *len is
 * the answer's length. Returns SF_ECHO_NONE, frame untouched, for anything
 * else, truncated or malformed frames included.
 */
enum sf_echo_kind sf_echo_frame(const struct sf_echo_cfg *cfg, uint8_t *frame,
				uint32_t *len, uint32_t room);

/* "arp", "icmp", "icmp6", "ndp", "udp", "udp6" or "none". */
const char *sf_echo_kind_name(enum sf_echo_kind kind);

/* One line (no newline) describing an answer made by sf_echo_frame(). */
void sf_echo_describe(const uint8_t *answer, uint32_t len,
		      enum sf_echo_kind kind, char *buf, size_t size);

/* The interface's MAC address and every IPv4 and IPv6 address it has. */
int sf_echo_cfg_from_iface(struct sf_echo_cfg *cfg, const char *ifname);

/* Answer for "ADDR[,ADDR...]" (IPv4 or IPv6) instead of the interface's
 * own addresses; names the bad entry.
 */
int sf_echo_cfg_set_addrs(struct sf_echo_cfg *cfg, const char *list);

/* RFC 1071 checksum of buf, folded, in network order, starting from sum
 * (a partial sum in the same representation, e.g. a pseudo header).
 */
uint32_t sf_csum_partial(const void *buf, size_t len, uint32_t sum);
uint16_t sf_csum_fold(uint32_t sum);

#endif /* __SYSFLOW_ECHO_H */
