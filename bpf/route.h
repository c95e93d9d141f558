/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* route.h: plain types shared by the TC policy router's kernel and user
 * sides (bpf/route.bpf.c, lib/route/). No libc or kernel includes.
 *
 * Every table exists twice, once per generation (0 and 1). The program
 * reads the active generation once per packet from `active` and uses only
 * that generation's entries, so an update fills the other generation and
 * flips `active` with one map write: no packet sees half of each rule set.
 *
 * Matching (bit-vector classification): slot i of a generation holds the
 * rule of i-th highest priority. For each field there is a table from the
 * packet's value to the bitmap of the slots whose rule accepts that value:
 * LPM tries for source and destination prefixes (per family; the longest
 * stored prefix carries every rule whose prefix contains it), a hash for
 * the ingress interface (tenants are compiled into their interfaces), and
 * arrays for the protocol and for each source and destination port. The
 * program ANDs the six bitmaps; the lowest set bit is the matching rule of
 * highest priority. The cost per packet does not depend on the rule count.
 */
#ifndef __ROUTE_H
#define __ROUTE_H

#define ROUTE_MAX_RULES 256 /* per generation */
#define ROUTE_WORDS (ROUTE_MAX_RULES / 64)
#define ROUTE_GENS 2
#define ROUTE_MAX_PREFIXES 1024 /* per trie and generation */
#define ROUTE_MAX_IFACES 256 /* ingress entries per generation */
#define ROUTE_PROTO_SLOTS 258 /* 0-255, then the two below */
#define ROUTE_PROTO_TCP_NOPORTS 256 /* TCP without ports: later fragment */
#define ROUTE_PROTO_UDP_NOPORTS 257 /* UDP without ports */
#define ROUTE_PORTS 65536
#define ROUTE_MAX_ATTACH 32 /* TC hooks one instance owns */
#define ROUTE_NAME_LEN 32
#define ROUTE_ABI 1 /* layout of the pinned maps; checked by update */

enum route_action {
	ROUTE_ACT_PASS = 0, /* stop matching, hand to the kernel (TC_ACT_OK) */
	ROUTE_ACT_DROP, /* TC_ACT_SHOT */
	ROUTE_ACT_REDIRECT, /* rewrite MACs, bpf_redirect to out_ifindex */
	ROUTE_ACT_NEIGH, /* bpf_redirect_neigh: the kernel fills in L2 */
	ROUTE_ACT_PEER, /* bpf_redirect_peer into the veth peer's netns */
	ROUTE_ACT_MAX,
};

enum route_rule_flag {
	ROUTE_F_DMAC = 1 << 0, /* rewrite the destination MAC */
	ROUTE_F_SMAC = 1 << 1, /* rewrite the source MAC */
	ROUTE_F_TTL = 1 << 2, /* decrement TTL / hop limit */
	ROUTE_F_VIA = 1 << 3, /* bpf_redirect_neigh with an explicit next hop */
};

/* Family of a rule: any (no prefix given), IPv4 or IPv6. */
enum route_family {
	ROUTE_FAM_ANY = 0,
	ROUTE_FAM_V4 = 4,
	ROUTE_FAM_V6 = 6,
};

/* What the program needs once a rule matched: its action. */
struct route_rule {
	__u8 action; /* enum route_action */
	__u8 flags; /* enum route_rule_flag */
	__u8 via_family; /* 4 or 6 with ROUTE_F_VIA */
	__u8 _pad;
	__u32 out_ifindex;
	__u8 dmac[6];
	__u8 smac[6];
	__u8 via[16]; /* next hop, network order */
	__u32 priority; /* for show; the slot order is what matches */
};

/* LPM keys: the generation is the first byte of the matched data, so
 * prefixlen is 8 + the address prefix length; prefixlen 8 is the
 * generation's default entry (rules without that prefix).
 */
struct route_lpm4 {
	__u32 prefixlen;
	__u8 gen;
	__u8 addr[4];
} __attribute__((packed));

struct route_lpm6 {
	__u32 prefixlen;
	__u8 gen;
	__u8 addr[16];
} __attribute__((packed));

struct route_bitmap {
	__u64 w[ROUTE_WORDS];
};

/* ifindex 0 is the generation's default entry (rules with no ingress
 * interface or tenant).
 */
struct route_ingress_key {
	__u32 gen;
	__u32 ifindex;
};

struct route_counter {
	__u64 packets;
	__u64 bytes; /* skb->len: L2 frame length */
};

/* What user space needs to print a rule; the program never reads it. */
struct route_rule_meta {
	char name[ROUTE_NAME_LEN];
	char tenant[ROUTE_NAME_LEN];
	__u32 in_ifindex; /* 0: any */
	__u8 family; /* enum route_family */
	__u8 proto; /* 0: any */
	__u8 src_len, dst_len; /* with a family; 0 and family: any address */
	__u16 sport_lo, sport_hi; /* host order, inclusive */
	__u16 dport_lo, dport_hi;
	__u8 src[16], dst[16];
};

/* One TC hook this instance attached to (user space only). */
struct route_attach {
	__u32 ifindex; /* 0: free entry */
	__u32 egress; /* 0 ingress, 1 egress */
	__u32 handle;
	__u32 priority;
	__u32 prog_id;
	__u32 created_hook; /* we created clsact: destroy it on del */
};

/* Instance state (user space only): element 0 of `state`. */
struct route_state {
	__u32 abi; /* ROUTE_ABI */
	__u32 nrules[ROUTE_GENS];
	__u32 updates; /* number of flips since apply */
	__u64 applied_ns; /* CLOCK_REALTIME of apply and last update */
	__u64 updated_ns;
};

/* Per-CPU counters: every packet lands in exactly one outcome, so their
 * sum is the number of packets the program saw.
 */
enum route_stat {
	RSTAT_MATCHED = 0, /* a rule matched (its action ran) */
	RSTAT_UNMATCHED, /* no rule matched: TC_ACT_OK */
	RSTAT_NOT_IP, /* not IPv4/IPv6, or VLAN-tagged: TC_ACT_OK */
	RSTAT_MALFORMED, /* header cut short or invalid: TC_ACT_OK */
	RSTAT_TTL_EXPIRED, /* matched a forwarding rule with TTL <= 1: OK */
	RSTAT_NO_GEN, /* no active generation: TC_ACT_OK */
	RSTAT_MAX,
};

#endif /* __ROUTE_H */
