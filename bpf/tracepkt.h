/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* tracepkt.h: plain types shared by the packet path tracer's kernel and user
 * sides: hooks, the filter's instruction format, events and counters. No
 * libc or kernel includes: both sides see the same layout.
 */
#ifndef __TRACEPKT_H
#define __TRACEPKT_H

#define TRACEPKT_IFNAMSIZ 16
#define TRACEPKT_MAX_INSNS 64 /* filter instructions */
#define TRACEPKT_MAX_TRACKED 16384 /* packets followed at once (LRU) */
#define TRACEPKT_RINGBUF_BYTES (8 << 20)
#define TRACEPKT_WAKEUP_BYTES (256 << 10) /* wake the reader past this */
#define TRACEPKT_COPY_BYTES 128 /* bytes copied from the L3 header on */
#define TRACEPKT_TCP_CONNS 1024 /* TCP connections with segments waiting */
#define TRACEPKT_TCP_SEGS 16 /* followed segments waiting per connection */
#define TRACEPKT_STALE_NS \
	1000000000ULL /* a tracked skb idle this long is
					  * taken for a freed and reused one */

/* Where a hop was seen. Order is the order of the hook table in
 * lib/trace/tracepkt.c; names there.
 */
enum tracepkt_hook {
	HOOK_NONE = 0,
	HOOK_NAPI_GRO_RECEIVE_ENTRY,
	HOOK_NETIF_RX,
	HOOK_NETIF_RECEIVE_SKB,
	HOOK_FIB_TABLE_LOOKUP,
	HOOK_FIB6_TABLE_LOOKUP,
	HOOK_NET_DEV_QUEUE,
	HOOK_QDISC_ENQUEUE,
	HOOK_QDISC_DEQUEUE,
	HOOK_NET_DEV_START_XMIT,
	HOOK_NET_DEV_XMIT,
	HOOK_KFREE_SKB,
	HOOK_CONSUME_SKB,
	HOOK_SK_DATA_READY,
	HOOK_TCP_PROBE,
	HOOK_MAX,
};

/* Hooks where an untracked packet may start a trace: the BPF side gives
 * their hops HF_START, user space refuses a --hooks list without one.
 */
#define TRACEPKT_START_HOOKS                                       \
	(1U << HOOK_NAPI_GRO_RECEIVE_ENTRY | 1U << HOOK_NETIF_RX | \
	 1U << HOOK_NETIF_RECEIVE_SKB | 1U << HOOK_NET_DEV_QUEUE | \
	 1U << HOOK_KFREE_SKB)

/* ---- the filter: a list of tests with a true and a false target ----
 *
 * Evaluation starts at instruction 0; each test jumps to jt when it holds
 * and to jf when not. Targets are instruction indexes, always larger than
 * the current one (so a program runs at most TRACEPKT_MAX_INSNS steps), or
 * one of the two verdicts below.
 */
#define TRACEPKT_ACCEPT 0xfffe
#define TRACEPKT_REJECT 0xffff

enum tracepkt_op {
	TP_OP_ADDR = 1, /* (address & mask) == addr, per dir */
	TP_OP_PORT, /* TCP or UDP port == port, per dir */
	TP_OP_PROTO, /* IPv4 protocol or IPv6 upper-layer header == proto */
	TP_OP_FAMILY, /* IP version == family */
};

enum tracepkt_dir {
	TP_DIR_ANY = 0, /* source or destination */
	TP_DIR_SRC,
	TP_DIR_DST,
};

struct tracepkt_insn {
	__u8 op; /* enum tracepkt_op */
	__u8 dir; /* enum tracepkt_dir */
	__u8 family; /* 4 or 6: TP_OP_ADDR, TP_OP_FAMILY */
	__u8 proto; /* TP_OP_PROTO */
	__u16 port; /* TP_OP_PORT, host order */
	__u16 jt;
	__u16 jf;
	__u16 _pad;
	__u32 addr[4]; /* network order, already masked */
	__u32 mask[4]; /* network order; unused words are 0 */
};

/* ---- per-packet state and events ---- */

/* Value of the tracked map, keyed by skb address. */
struct tracepkt_track {
	__u64 last_ts;
	__u32 id;
	__u16 seq; /* number of the next hop */
	__u8 last_hook;
	__u8 tcp_known; /* tcp_seq, tcp_ack hold the segment's */
	__u32 last_netns;
	__u32 last_mark;
	__u32 tx_netns; /* of the device at net_dev_start_xmit */
	__u32 tx_ifindex;
	char last_ifname[TRACEPKT_IFNAMSIZ];
	__u32 tcp_seq; /* TCP: sequence and ack numbers, host order */
	__u32 tcp_ack;
};

enum tracepkt_event_flags {
	EV_END = 1 << 0, /* the skb was freed: last hop of this packet */
	EV_ADDRS = 1 << 1, /* family, addresses, ports are valid */
	EV_DEV = 1 << 2, /* ifindex and ifname are valid */
	EV_SOCK = 1 << 3, /* at a TCP socket: EV_BACKLOG is meaningful */
	EV_BACKLOG = 1 << 4, /* the socket's owner held it: from its backlog */
	EV_COALESCED = 1 << 5, /* payload merged into skb peer_skb: last hop */
	EV_L4 = 1 << 6, /* sport, dport are valid (ports, or ICMP fields) */
};

struct tracepkt_event {
	__u64 ts_ns; /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u64 delta_ns; /* since the previous hop of this packet */
	__u64 skbaddr;
	__u32 trace_id;
	__u16 seq; /* hop number in this packet's path, from 0 */
	__u8 hook; /* enum tracepkt_hook */
	__u8 prev_hook; /* HOOK_NONE on the first hop */
	__u32 netns; /* inode of the network namespace, 0 if unknown */
	__u32 prev_netns;
	__u32 ifindex;
	__u32 len; /* skb->len */
	__u32 mark;
	__u32 reason; /* kfree_skb: enum skb_drop_reason */
	__s32 result; /* net_dev_xmit: rc; fib lookups: err */
	__u32 aux; /* fib lookups: table id; qdisc hooks: handle */
	__u16 cpu;
	__u8 flags; /* enum tracepkt_event_flags */
	__u8 family; /* 4, 6 or 0 (not IP) */
	__u8 proto;
	__u8 _pad[3];
	__u16 sport; /* host order; ICMP: echo identifier */
	__u16 dport; /* host order; ICMP: type << 8 | code */
	__u8 saddr[16];
	__u8 daddr[16];
	char ifname[TRACEPKT_IFNAMSIZ];
	char prev_ifname[TRACEPKT_IFNAMSIZ];
	__u64 peer_skb; /* EV_COALESCED: the skb that took the payload */
};

/* Per-CPU counters. */
enum tracepkt_stat {
	STAT_MATCHED = 0, /* packets that started a trace */
	STAT_HOPS, /* events written */
	STAT_LOST, /* events lost: ring buffer full */
	STAT_TRACK_FULL, /* matched packets that could not be tracked */
	STAT_OVER_COUNT, /* matched after --count was reached: not traced */
	STAT_STALE, /* tracked skbs expired (freed without a tracepoint) */
	STAT_COALESCED, /* TCP segments merged into another in a backlog */
	STAT_TCP_FULL, /* TCP segments not noted: their connection's table full */
	STAT_MAX,
};

#endif /* __TRACEPKT_H */
