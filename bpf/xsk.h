/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* xsk.h: plain types shared by the AF_XDP redirect program
 * (xsk_redirect.bpf.c) and libsysflow's xsk part (lib/xsk/). No libc or
 * kernel includes: both sides see the same layout.
 */
#ifndef __XSK_H
#define __XSK_H

#define XSK_MAX_QUEUES 256 /* XSKMAP slots at most (one per rx queue) */
#define XSK_MAX_FILTERS 8

/* Which fields of a filter must match; a filter with none matches all. */
enum xsk_match {
	XSK_MATCH_ETH = 1 << 0, /* eth_proto */
	XSK_MATCH_IP_PROTO = 1 << 1, /* ip_proto (IPv4 or IPv6) */
	XSK_MATCH_PORT = 1 << 2, /* port */
};

/* One steering rule. port is the UDP or TCP destination port, the ICMP or
 * ICMPv6 message type, or the ARP opcode, in host order. Fragments have
 * no port: they always go to the stack, which reassembles them.
 */
struct xsk_filter {
	__u16 eth_proto; /* EtherType, host order */
	__u16 port;
	__u8 ip_proto;
	__u8 match; /* enum xsk_match bits */
	__u8 _pad[2];
};

/* Per-CPU counters of the program, summed by the user side. */
enum xsk_stat {
	XSK_STAT_STEERED = 0, /* handed to the socket of the frame's queue */
	XSK_STAT_PASSED, /* no filter selected it: to the kernel stack */
	XSK_STAT_NO_SOCKET, /* selected, but its queue has no socket: stack */
	XSK_STAT_MAX,
};

#endif /* __XSK_H */
