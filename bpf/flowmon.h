/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* flowmon.h: plain types shared by the XDP flow monitor's kernel and user
 * sides. No libc or kernel includes: both sides see the same layout.
 */
#ifndef __FLOWMON_H
#define __FLOWMON_H

#define FLOWMON_DEFAULT_ENTRIES 65536
#define FLOWMON_NAME_LEN 64
#define FLOWMON_METHOD_LEN 8
#define FLOWMON_FRAG_ENTRIES 4096
#define FLOWMON_DPI_BUF 2048 /* payload bytes an inspector may read */

/* TCP header flags (byte 13), as tcp_flags holds them. */
#define FLOWMON_TCP_FIN 0x01
#define FLOWMON_TCP_SYN 0x02
#define FLOWMON_TCP_RST 0x04

/* Slots of the tail-call jump table. A slot left empty (see -p) makes the
 * packet count as STAT_PROTO_SKIPPED instead of being parsed further.
 */
enum flowmon_slot {
	SLOT_L2 = 0,
	SLOT_IPV4,
	SLOT_IPV6,
	SLOT_TCP,
	SLOT_UDP,
	SLOT_ICMP,
	SLOT_ICMPV6,
	SLOT_END,
	SLOT_DNS,
	SLOT_HTTP,
	SLOT_TLS,
	SLOT_SSH,
	SLOT_MAX,
};

/* Protocols that -p can select; bit i is enabled when (1 << i) is set. */
enum flowmon_proto {
	FPROTO_ETH = 0,
	FPROTO_IPV4,
	FPROTO_IPV6,
	FPROTO_TCP,
	FPROTO_UDP,
	FPROTO_ICMP,
	FPROTO_ICMPV6,
	FPROTO_MAX,
};

#define FPROTO_ALL ((1U << FPROTO_MAX) - 1)

/* Per-CPU counters; every packet that is not accounted to a flow lands in
 * exactly one of the "not accounted" counters.
 */
enum flowmon_stat {
	STAT_PACKETS = 0, /* packets the program saw */
	STAT_ACCOUNTED, /* packets added to a flow */
	STAT_FLOWS_CREATED, /* flows inserted into the table */
	STAT_TABLE_FULL, /* not accounted: the flow table is full */
	STAT_TRUNCATED, /* not accounted: a header is cut short */
	STAT_MALFORMED, /* not accounted: a header field is invalid */
	STAT_NOT_IP, /* not accounted: neither IPv4 nor IPv6 (ARP, ...) */
	STAT_PROTO_SKIPPED, /* not accounted: protocol not selected (-p) */
	STAT_FLOW_RACE, /* not accounted: flow removed while inserting */
	STAT_META_FAILED, /* not accounted: no room for data_meta */
	STAT_FRAGMENTS, /* accounted: non-first fragments */
	STAT_FRAG_UNMATCHED, /* accounted with ports 0: first fragment unseen */
	STAT_DPI_DONE, /* flows whose payload an inspector decoded */
	STAT_DPI_FAILED, /* inspected payload that did not decode */
	STAT_MAX,
};

enum flowmon_dpi_kind {
	DPI_NONE = 0,
	DPI_DNS,
	DPI_HTTP,
	DPI_TLS,
	DPI_SSH,
	DPI_MAX, /* = SF_DPI_MAX: flow_table.c copies the kind as it is */
};

enum flowmon_dpi_state {
	DPI_STATE_NEW = 0,
	DPI_STATE_BUSY, /* an inspector claimed the flow */
	DPI_STATE_DONE, /* fields are valid */
	DPI_STATE_FAILED, /* payload did not decode; not retried */
};

/* Flow key. Laid out without holes; the BPF side still zeroes it whole. */
struct flowmon_key {
	__u8 saddr[16]; /* IPv4 in the first 4 bytes, network order */
	__u8 daddr[16];
	__u16 sport; /* host order; ICMP: echo identifier or 0 */
	__u16 dport; /* host order; ICMP: type << 8 | code */
	__u32 ifindex; /* ingress interface; 0 when replaying a pcap */
	__u16 vlan_id; /* outer 802.1Q/802.1ad VID, 0 if untagged */
	__u16 inner_vlan_id; /* inner VID of a QinQ frame */
	__u8 proto; /* IP protocol / IPv6 next header */
	__u8 ip_version; /* 4 or 6 */
	__u16 _pad;
};

/* Per-flow record. Counters are atomic adds; ranges and flags change under
 * the spin lock. Fields the per-packet path touches come first, next to the
 * key in the hash element; first_seen and the DPI strings follow.
 */
struct flowmon_rec {
	struct bpf_spin_lock lock;
	__u32 dpi_state; /* enum flowmon_dpi_state, set with cmpxchg */
	__u16 min_ip_len;
	__u16 max_ip_len;
	__u16 min_tcp_window; /* raw header field, unscaled */
	__u16 max_tcp_window;
	__u8 min_ttl;
	__u8 max_ttl;
	__u8 tos; /* ToS / traffic class of the first packet */
	__u8 tcp_flags; /* OR of all TCP flags seen */
	__u8 dpi_kind; /* enum flowmon_dpi_kind */
	__u8 dns_rcode;
	__u16 dns_qtype;
	__u32 tcp_syns; /* TCP segments with SYN set (retries: connect trouble) */
	__u32 tcp_rsts; /* ... with RST set */
	__u64 last_seen_ns;
	__u64 packets;
	__u64 bytes; /* sum of IP total lengths */
	__u64 first_seen_ns; /* CLOCK_MONOTONIC, or pcap epoch when offline */
	char http_method[FLOWMON_METHOD_LEN];
	char name[FLOWMON_NAME_LEN]; /* DNS query, Host, SNI or SSH ident */
};

#endif /* __FLOWMON_H */
