// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* flowmon.bpf.c: the XDP flow monitor. Parses L2-L4, keeps per-flow
 * statistics in a hash map updated in place, and always returns XDP_PASS:
 * monitoring must never drop a packet.
 *
 * The same parse steps are built two ways:
 *   - xdp_flowmon: one program that calls every step in turn;
 *   - flowmon_start -> l2 -> l3 -> l4 -> end: the seed's pipeline, one
 *     program per layer chained through the jmp_table prog array, with the
 *     parser state passed per CPU (data_meta or a per-CPU scratch map).
 * Both may tail call an L5 inspector (flowmon_dpi.bpf.h) after accounting.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "parse.bpf.h"
#include "flowmon.h"

#define STATS_MAX STAT_MAX
#include "stats.bpf.h"

#define MAX_L3_OFF 128 /* L2 header with VLAN_MAX_DEPTH tags fits */
#define MAX_L4_OFF 1024

/* Knobs, set through the skeleton's rodata before load. */
const volatile bool targ_state_in_meta = false;
const volatile bool targ_offline = false; /* clock from offline_clock_ns */
const volatile bool targ_dpi = false;
const volatile __u32 targ_protocols = FPROTO_ALL; /* single program only */

/* Written by user space before each BPF_PROG_TEST_RUN in offline mode. */
__u64 offline_clock_ns = 0;

/* Parser state handed from one layer to the next; 32 bytes so that it fits
 * the data_meta area on every kernel.
 */
struct pkt_state {
	__u16 l3_off;
	__u16 l4_off;
	__u16 payload_off;
	__u16 l3_proto; /* EtherType, host order */
	__u16 vlan_outer;
	__u16 vlan_inner;
	__u16 ip_len;
	__u16 sport;
	__u16 dport;
	__u16 tcp_window;
	__u8 l4_proto;
	__u8 ttl;
	__u8 tos;
	__u8 tcp_flags;
	__u8 frag; /* enum parse_frag */
	__u8 _pad;
	__u32 frag_id;
};

_Static_assert(sizeof(struct pkt_state) == 32, "pkt_state must fit data_meta");

/* Ports of a fragmented datagram, learnt from its first fragment. */
struct frag_key {
	__u8 saddr[16];
	__u8 daddr[16];
	__u32 id;
	__u8 proto;
	__u8 _pad[3];
};

struct frag_ports {
	__u16 sport;
	__u16 dport;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FLOWMON_DEFAULT_ENTRIES); /* resized by -n */
	__type(key, struct flowmon_key);
	__type(value, struct flowmon_rec);
} flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, SLOT_MAX);
	__type(key, __u32);
	__type(value, __u32);
} jmp_table SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pkt_state);
} scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, FLOWMON_FRAG_ENTRIES);
	__type(key, struct frag_key);
	__type(value, struct frag_ports);
} frags SEC(".maps");

/* The coarse clock costs a fraction of the precise one per packet (about
 * 30 ns less here); flow times then have the kernel tick's resolution
 * (1-4 ms), as NetFlow/IPFIX exporters commonly do.
 */
static __always_inline __u64 clock_now(void)
{
	return targ_offline ? offline_clock_ns : bpf_ktime_get_coarse_ns();
}

static __always_inline int count_error(int err)
{
	stat_inc(err == -PARSE_TRUNCATED ? STAT_TRUNCATED : STAT_MALFORMED);
	return XDP_PASS;
}

/* The pipeline's per-CPU state: data_meta or the scratch map. The single
 * program hands its state to an inspector through scratch as well.
 */
static __always_inline struct pkt_state *state_get(struct xdp_md *ctx)
{
	__u32 zero = 0;

	if (targ_state_in_meta) {
		void *meta = (void *)(long)ctx->data_meta;
		void *data = (void *)(long)ctx->data;

		if (meta + sizeof(struct pkt_state) > data)
			return NULL;
		return meta;
	}
	return bpf_map_lookup_elem(&scratch, &zero);
}

/* ---- parse steps: each returns the next slot or a negative error ---- */

static __always_inline int step_l2(void *data, void *data_end,
				   struct pkt_state *st)
{
	struct hdr_cursor c = { .pos = data };
	struct l2_info l2 = {};
	int proto;

	proto = parse_eth(&c, data_end, &l2);
	if (proto < 0)
		return proto;
	st->vlan_outer = l2.vlan_outer;
	st->vlan_inner = l2.vlan_inner;
	st->l3_off = c.pos - data;
	st->l3_proto = proto;
	if (proto == ETH_P_IP)
		return SLOT_IPV4;
	if (proto == ETH_P_IPV6)
		return SLOT_IPV6;
	stat_inc(STAT_NOT_IP);
	return SLOT_MAX;
}

static __always_inline int l4_slot(__u8 proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return SLOT_TCP;
	case IPPROTO_UDP:
		return SLOT_UDP;
	case IPPROTO_ICMP:
		return SLOT_ICMP;
	case IPPROTO_ICMPV6_NR:
		return SLOT_ICMPV6;
	}
	return SLOT_END; /* other protocols: counted with ports 0 */
}

static __always_inline int step_l3(void *data, void *data_end,
				   struct pkt_state *st, bool v6)
{
	struct hdr_cursor c;
	struct l3_info l3 = {};
	__u32 off = st->l3_off;
	int proto;

	barrier_var(off); /* bound the stored offset, not its origin */
	if (off > MAX_L3_OFF)
		return -PARSE_MALFORMED;
	c.pos = data + off;
	proto = v6 ? parse_ipv6(&c, data_end, &l3) :
		     parse_ipv4(&c, data_end, &l3);
	if (proto < 0)
		return proto;
	st->ip_len = l3.ip_len;
	st->ttl = l3.ttl;
	st->tos = l3.tos;
	st->frag = l3.frag;
	st->frag_id = l3.frag_id;
	st->l4_proto = proto;
	st->l4_off = c.pos - data;
	st->payload_off = st->l4_off;
	return l4_slot(proto);
}

/* Returns 0, a negative error, or SLOT_END for a later fragment: it has no
 * L4 header, but still passes its protocol's slot so that -p applies.
 */
static __always_inline int l4_cursor(void *data, struct pkt_state *st,
				     struct hdr_cursor *c)
{
	__u32 off = st->l4_off;

	if (st->frag == FRAG_LATER)
		return SLOT_END;
	barrier_var(off);
	if (off > MAX_L4_OFF)
		return -PARSE_MALFORMED;
	c->pos = data + off;
	return 0;
}

static __always_inline int step_tcp(void *data, void *data_end,
				    struct pkt_state *st)
{
	struct hdr_cursor c;
	struct tcphdr *th;
	int err;

	err = l4_cursor(data, st, &c) ?: parse_tcp(&c, data_end, &th);
	if (err)
		return err;
	st->sport = bpf_ntohs(th->source);
	st->dport = bpf_ntohs(th->dest);
	st->tcp_window = bpf_ntohs(th->window);
	st->tcp_flags = ((__u8 *)th)[13];
	st->payload_off = c.pos - data;
	return SLOT_END;
}

static __always_inline int step_udp(void *data, void *data_end,
				    struct pkt_state *st)
{
	struct hdr_cursor c;
	struct udphdr *uh;
	int err;

	err = l4_cursor(data, st, &c) ?: parse_udp(&c, data_end, &uh);
	if (err)
		return err;
	st->sport = bpf_ntohs(uh->source);
	st->dport = bpf_ntohs(uh->dest);
	st->payload_off = c.pos - data;
	return SLOT_END;
}

static __always_inline bool icmp_is_echo(__u8 type, bool v6)
{
	return v6 ? type == 128 || type == 129 : type == 0 || type == 8;
}

static __always_inline int step_icmp(void *data, void *data_end,
				     struct pkt_state *st, bool v6)
{
	struct hdr_cursor c;
	struct icmphdr *ih;
	int err;

	err = l4_cursor(data, st, &c) ?: parse_icmp_common(&c, data_end, &ih);
	if (err)
		return err;
	st->dport = ih->type << 8 | ih->code;
	if (icmp_is_echo(ih->type, v6))
		st->sport = bpf_ntohs(ih->un.echo.id);
	st->payload_off = c.pos - data;
	return SLOT_END;
}

/* ---- accounting ---- */

static __always_inline int build_key(void *data, void *data_end,
				     struct pkt_state *st,
				     struct flowmon_key *key, __u32 ifindex)
{
	__u32 off = st->l3_off;
	void *l3;

	barrier_var(off);
	if (off > MAX_L3_OFF)
		return -PARSE_MALFORMED;
	l3 = data + off;

	__builtin_memset(key, 0, sizeof(*key));
	if (st->l3_proto == ETH_P_IP) {
		struct iphdr *iph = l3;

		if ((void *)(iph + 1) > data_end)
			return -PARSE_TRUNCATED;
		__builtin_memcpy(key->saddr, &iph->saddr, 4);
		__builtin_memcpy(key->daddr, &iph->daddr, 4);
		key->ip_version = 4;
	} else {
		struct ipv6hdr *ip6h = l3;

		if ((void *)(ip6h + 1) > data_end)
			return -PARSE_TRUNCATED;
		__builtin_memcpy(key->saddr, &ip6h->saddr, 16);
		__builtin_memcpy(key->daddr, &ip6h->daddr, 16);
		key->ip_version = 6;
	}
	key->sport = st->sport;
	key->dport = st->dport;
	key->proto = st->l4_proto;
	key->vlan_id = st->vlan_outer;
	key->inner_vlan_id = st->vlan_inner;
	key->ifindex = targ_offline ? 0 : ifindex;
	return 0;
}

/* Fragments: the first one teaches the ports, later ones borrow them. */
static __always_inline void frag_track(struct pkt_state *st,
				       struct flowmon_key *key)
{
	struct frag_key fk = {};
	struct frag_ports fp, *known;

	if (st->frag == FRAG_NONE)
		return;
	__builtin_memcpy(fk.saddr, key->saddr, 16);
	__builtin_memcpy(fk.daddr, key->daddr, 16);
	fk.id = st->frag_id;
	fk.proto = key->proto;
	if (st->frag == FRAG_FIRST) {
		fp.sport = key->sport;
		fp.dport = key->dport;
		bpf_map_update_elem(&frags, &fk, &fp, BPF_ANY);
		return;
	}
	stat_inc(STAT_FRAGMENTS);
	known = bpf_map_lookup_elem(&frags, &fk);
	if (!known) {
		stat_inc(STAT_FRAG_UNMATCHED);
		return;
	}
	key->sport = known->sport;
	key->dport = known->dport;
}

/* Insert a flow seeded with its first packet; a CPU that loses the race
 * uses the winner's entry.
 */
static __always_inline struct flowmon_rec *flow_get(struct flowmon_key *key,
						    struct pkt_state *st,
						    __u64 now, bool *created)
{
	struct flowmon_rec *fs, init = {};
	long err;

	*created = false;
	fs = bpf_map_lookup_elem(&flows, key);
	if (fs)
		return fs;
	init.first_seen_ns = now;
	init.last_seen_ns = now;
	init.packets = 1;
	init.bytes = st->ip_len;
	init.min_ip_len = init.max_ip_len = st->ip_len;
	init.min_ttl = init.max_ttl = st->ttl;
	init.tos = st->tos;
	init.min_tcp_window = 0xffff;
	if (st->l4_proto == IPPROTO_TCP && st->frag != FRAG_LATER) {
		init.tcp_flags = st->tcp_flags;
		init.tcp_syns = !!(st->tcp_flags & FLOWMON_TCP_SYN);
		init.tcp_rsts = !!(st->tcp_flags & FLOWMON_TCP_RST);
		init.min_tcp_window = init.max_tcp_window = st->tcp_window;
	}
	err = bpf_map_update_elem(&flows, key, &init, BPF_NOEXIST);
	if (err == 0) {
		stat_inc(STAT_FLOWS_CREATED);
		*created = true;
	} else if (err != -EEXIST) {
		stat_inc(STAT_TABLE_FULL);
		return NULL;
	}
	fs = bpf_map_lookup_elem(&flows, key);
	if (!fs)
		stat_inc(STAT_FLOW_RACE); /* the sweeper removed it meanwhile */
	return fs;
}

static __always_inline bool flow_widens(struct flowmon_rec *fs,
					struct pkt_state *st, bool tcp)
{
	return st->ip_len < fs->min_ip_len || st->ip_len > fs->max_ip_len ||
	       st->ttl < fs->min_ttl || st->ttl > fs->max_ttl ||
	       (tcp && ((fs->tcp_flags | st->tcp_flags) != fs->tcp_flags ||
			st->tcp_window < fs->min_tcp_window ||
			st->tcp_window > fs->max_tcp_window));
}

/* Counters are atomic adds; the ranges and flags change rarely, so the
 * lock is taken only when this packet widens one of them.
 */
static __always_inline void flow_update(struct flowmon_rec *fs,
					struct pkt_state *st, __u64 now)
{
	bool tcp = st->l4_proto == IPPROTO_TCP && st->frag != FRAG_LATER;

	__sync_fetch_and_add(&fs->packets, 1);
	__sync_fetch_and_add(&fs->bytes, st->ip_len);
	if (tcp && (st->tcp_flags & FLOWMON_TCP_SYN))
		__sync_fetch_and_add(&fs->tcp_syns, 1);
	if (tcp && (st->tcp_flags & FLOWMON_TCP_RST))
		__sync_fetch_and_add(&fs->tcp_rsts, 1);
	if (now > fs->last_seen_ns)
		fs->last_seen_ns = now; /* racing CPUs differ by nanoseconds */
	if (!flow_widens(fs, st, tcp))
		return;
	bpf_spin_lock(&fs->lock);
	if (st->ip_len < fs->min_ip_len)
		fs->min_ip_len = st->ip_len;
	if (st->ip_len > fs->max_ip_len)
		fs->max_ip_len = st->ip_len;
	if (st->ttl < fs->min_ttl)
		fs->min_ttl = st->ttl;
	if (st->ttl > fs->max_ttl)
		fs->max_ttl = st->ttl;
	if (tcp) {
		fs->tcp_flags |= st->tcp_flags;
		if (st->tcp_window < fs->min_tcp_window)
			fs->min_tcp_window = st->tcp_window;
		if (st->tcp_window > fs->max_tcp_window)
			fs->max_tcp_window = st->tcp_window;
	}
	bpf_spin_unlock(&fs->lock);
}

/* Which inspector, if any, this packet's flow should get. */
static __always_inline int dpi_slot(struct pkt_state *st,
				    struct flowmon_rec *fs)
{
	if (!targ_dpi || fs->dpi_state != DPI_STATE_NEW ||
	    st->frag == FRAG_LATER ||
	    st->payload_off >= st->l3_off + st->ip_len)
		return SLOT_MAX;
	if (st->l4_proto == IPPROTO_UDP && (st->sport == 53 || st->dport == 53))
		return SLOT_DNS;
	if (st->l4_proto != IPPROTO_TCP)
		return SLOT_MAX;
	if (st->dport == 80 || st->dport == 8080)
		return SLOT_HTTP;
	if (st->dport == 443)
		return SLOT_TLS;
	if (st->dport == 22 || st->sport == 22)
		return SLOT_SSH; /* both ends send one first */
	return SLOT_MAX;
}

/* Account the packet to its flow; returns the inspector slot to call. */
static __always_inline int flow_account(struct xdp_md *ctx,
					struct pkt_state *st)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct flowmon_rec *fs;
	struct flowmon_key key;
	__u64 now = clock_now();
	bool created;
	int err;

	err = build_key(data, data_end, st, &key, ctx->ingress_ifindex);
	if (err)
		return count_error(err), SLOT_MAX;
	frag_track(st, &key);
	fs = flow_get(&key, st, now, &created);
	if (!fs)
		return SLOT_MAX;
	if (!created)
		flow_update(fs, st, now);
	stat_inc(STAT_ACCOUNTED);
	return dpi_slot(st, fs);
}

#include "flowmon_dpi.bpf.h"

/* ---- single program ---- */

static __always_inline bool proto_selected(int bit)
{
	return targ_protocols & (1U << bit);
}

static __always_inline int slot_proto(int slot)
{
	switch (slot) {
	case SLOT_IPV4:
		return FPROTO_IPV4;
	case SLOT_IPV6:
		return FPROTO_IPV6;
	case SLOT_TCP:
		return FPROTO_TCP;
	case SLOT_UDP:
		return FPROTO_UDP;
	case SLOT_ICMP:
		return FPROTO_ICMP;
	case SLOT_ICMPV6:
		return FPROTO_ICMPV6;
	}
	return FPROTO_ETH;
}

static __always_inline int single_l4(void *data, void *data_end,
				     struct pkt_state *st, int slot)
{
	switch (slot) {
	case SLOT_TCP:
		return step_tcp(data, data_end, st);
	case SLOT_UDP:
		return step_udp(data, data_end, st);
	case SLOT_ICMP:
		return step_icmp(data, data_end, st, false);
	case SLOT_ICMPV6:
		return step_icmp(data, data_end, st, true);
	}
	return slot;
}

/* Hand the state to an inspector through the same per-CPU channel the
 * pipeline uses.
 */
static __always_inline void single_dpi(struct xdp_md *ctx, struct pkt_state *st,
				       int slot)
{
	__u32 zero = 0;
	struct pkt_state *out;

	if (slot == SLOT_MAX)
		return;
	out = bpf_map_lookup_elem(&scratch, &zero);
	if (!out)
		return;
	*out = *st;
	bpf_tail_call(ctx, &jmp_table, slot);
}

SEC("xdp")
int xdp_flowmon(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct pkt_state st = {};
	int slot;

	stat_inc(STAT_PACKETS);
	if (!proto_selected(FPROTO_ETH))
		return stat_inc(STAT_PROTO_SKIPPED), XDP_PASS;
	slot = step_l2(data, data_end, &st);
	if (slot == SLOT_MAX)
		return XDP_PASS;
	if (slot < 0)
		return count_error(slot);
	if (!proto_selected(slot_proto(slot)))
		return stat_inc(STAT_PROTO_SKIPPED), XDP_PASS;
	slot = step_l3(data, data_end, &st, slot == SLOT_IPV6);
	if (slot < 0)
		return count_error(slot);
	if (slot != SLOT_END && !proto_selected(slot_proto(slot)))
		return stat_inc(STAT_PROTO_SKIPPED), XDP_PASS;
	slot = single_l4(data, data_end, &st, slot);
	if (slot < 0)
		return count_error(slot);
	single_dpi(ctx, &st, flow_account(ctx, &st));
	return XDP_PASS;
}

/* ---- tail-call pipeline ---- */

/* Go to the next layer; an empty slot means the protocol is off (-p). */
static __always_inline int pipe_next(struct xdp_md *ctx, int slot)
{
	if (slot < 0)
		return count_error(slot);
	if (slot == SLOT_MAX)
		return XDP_PASS;
	bpf_tail_call(ctx, &jmp_table, slot);
	stat_inc(STAT_PROTO_SKIPPED);
	return XDP_PASS;
}

SEC("xdp")
int flowmon_start(struct xdp_md *ctx)
{
	struct pkt_state *st;

	stat_inc(STAT_PACKETS);
	if (targ_state_in_meta &&
	    bpf_xdp_adjust_meta(ctx, -(int)sizeof(struct pkt_state)))
		return stat_inc(STAT_META_FAILED), XDP_PASS;
	st = state_get(ctx);
	if (!st)
		return stat_inc(STAT_META_FAILED), XDP_PASS;
	__builtin_memset(st, 0, sizeof(*st));
	return pipe_next(ctx, SLOT_L2);
}

#define PIPE_PROG(name, step)                                        \
	SEC("xdp")                                                   \
	int name(struct xdp_md *ctx)                                 \
	{                                                            \
		struct pkt_state *st = state_get(ctx);               \
		void *data = (void *)(long)ctx->data;                \
		void *data_end = (void *)(long)ctx->data_end;        \
                                                                     \
		if (!st)                                             \
			return stat_inc(STAT_META_FAILED), XDP_PASS; \
		return pipe_next(ctx, step);                         \
	}

PIPE_PROG(flowmon_l2, step_l2(data, data_end, st))
PIPE_PROG(flowmon_ipv4, step_l3(data, data_end, st, false))
PIPE_PROG(flowmon_ipv6, step_l3(data, data_end, st, true))
PIPE_PROG(flowmon_tcp, step_tcp(data, data_end, st))
PIPE_PROG(flowmon_udp, step_udp(data, data_end, st))
PIPE_PROG(flowmon_icmp, step_icmp(data, data_end, st, false))
PIPE_PROG(flowmon_icmpv6, step_icmp(data, data_end, st, true))

SEC("xdp")
int flowmon_end(struct xdp_md *ctx)
{
	struct pkt_state *st = state_get(ctx);
	int slot;

	if (!st)
		return stat_inc(STAT_META_FAILED), XDP_PASS;
	slot = flow_account(ctx, st);
	if (slot != SLOT_MAX)
		bpf_tail_call(ctx, &jmp_table, slot);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
