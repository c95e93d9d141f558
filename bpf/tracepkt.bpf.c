// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* tracepkt.bpf.c: the packet path tracer. Programs on net, skb, fib,
 * qdisc, sock and tcp tracepoints match packets against a filter compiled
 * in user space (filter_prog), follow the matched ones by skb address
 * (tracked) across devices, namespaces and NAT, and write one event per
 * hop to a ring buffer. TCP deliveries (backlog, merged and out-of-order
 * segments) are in tracepkt_tcp.bpf.h.
 *
 * Each skb hook has two programs: tp_btf (typed skb, plain loads) and a
 * plain tracepoint (skb fields read with bpf_probe_read_kernel) for kernels
 * that refuse tp_btf; the loader keeps one per hook. Packets that do not
 * match must stay cheap: only start hooks (HF_START) look at an untracked
 * packet, and the others return after one global load while nothing is
 * tracked. (The twin program sets are why this file is long: the shared
 * logic is the first half.)
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "parse.bpf.h"
#include "tracepkt.h"

#define AF_INET 2
#define AF_INET6 10

#define STATS_MAX STAT_MAX
#include "stats.bpf.h"

/* Hook properties. */
#define HF_START (1 << 0) /* an untracked packet may start a trace here */
/* HF_START for the hooks in TRACEPKT_START_HOOKS (tracepkt.h), none else */
#define HOOK_START_FLAG(hook) \
	((TRACEPKT_START_HOOKS & 1U << (hook)) ? HF_START : 0)
#define HF_END (1 << 1) /* the skb is freed here: last hop */
#define HF_RX (1 << 2) /* skb->data is at L3 (eth_type_trans is done) */
#define HF_NO_SKB (1 << 3) /* the skb may be gone: use its address only */
#define HF_CUR (1 << 4) /* remember the packet for the fib lookups */
#define HF_TX (1 << 5) /* remember the device for net_dev_xmit */
#define HF_WAITED (1 << 6) /* known to have waited (TCP backlog): not stale */

/* Knobs, set through the skeleton's rodata before load. */
const volatile __u32 targ_filter_len = 0; /* 0: every packet matches */
const volatile __u32 targ_netns = 0; /* --netns inode, 0: any */
const volatile bool targ_has_ifname = false;
const volatile __u64 targ_ifname[2] = {}; /* --iface, NUL padded */
const volatile bool targ_has_mark = false;
const volatile __u32 targ_mark = 0;
const volatile __u32 targ_mark_mask = 0;
const volatile __u32 targ_max_traces = 0; /* --count, 0: no limit */
const volatile __u64 targ_stale_ns = TRACEPKT_STALE_NS;
const volatile __u64 targ_wakeup_bytes = TRACEPKT_WAKEUP_BYTES;

__u32 next_id = 0; /* trace ids handed out */
__s64 n_tracked = 0; /* entries in tracked; may overcount (LRU evictions) */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, TRACEPKT_RINGBUF_BYTES); /* --buffer-size */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, TRACEPKT_MAX_TRACKED);
	__type(key, __u64); /* skb address */
	__type(value, struct tracepkt_track);
} tracked SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TRACEPKT_MAX_INSNS);
	__type(key, __u32);
	__type(value, struct tracepkt_insn);
} filter_prog SEC(".maps");

/* A copy of the headers, parsed with parse.bpf.h. Only the first
 * TRACEPKT_COPY_BYTES are ever written; the rest lets the verifier bound
 * the parsers' reads (see PARSE_L3_MAX_SPAN).
 */
struct pkt_buf {
	__u8 data[PARSE_L3_MAX_SPAN];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pkt_buf);
} scratch SEC(".maps");

/* The packet this CPU is receiving: fib tracepoints carry no skb, and the
 * input route lookup runs right after netif_receive_skb on the same CPU.
 */
struct rx_cur {
	__u64 skbaddr;
	__u32 id; /* 0: the packet being received is not traced */
	__u32 netns;
	__u8 family;
	__u8 proto;
	__u8 has_ports;
	__u8 _pad;
	__u16 sport; /* host order */
	__u16 dport;
	__u32 tcp_len; /* TCP payload bytes */
	__u32 saddr[4];
	__u32 daddr[4];
	/* The skb (and device) that netif_rx or napi_gro_receive_entry just
	 * found not matching: netif_receive_skb, which follows on the same
	 * CPU with the packet unchanged, need not run the filter again.
	 */
	__u64 rejected_skb;
	__u64 rejected_dev;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rx_cur);
} rx_cur SEC(".maps");

struct pkt_meta {
	__u32 saddr[4]; /* network order; IPv4 in word 0 */
	__u32 daddr[4];
	__u16 sport;
	__u16 dport;
	__u8 family; /* 0: not IP, or headers unreadable */
	__u8 proto;
	__u8 has_ports; /* TCP or UDP header read */
	__u8 has_icmp; /* ICMP or ICMPv6 header read */
	__u32 tcp_seq; /* TCP: host order */
	__u32 tcp_ack; /* TCP: host order */
	__u32 tcp_end; /* TCP: seq + payload (+ 1 for SYN, FIN) */
	__u32 tcp_len; /* TCP: payload bytes */
};

/* One hook invocation. */
struct hop {
	struct sk_buff *skb;
	struct net_device *dev; /* NULL: take skb->dev */
	struct sock *sk; /* the socket processing it (tcp_probe), or NULL */
	const void *name; /* HF_NO_SKB without dev: name in the record */
	__u32 len; /* HF_NO_SKB: length given by the tracepoint */
	__u32 reason;
	__s32 result;
	__u32 aux;
	__u32 evflags; /* EV_SOCK, EV_BACKLOG, EV_COALESCED */
	__u64 peer; /* EV_COALESCED: the skb that took the payload */
	__u8 hook;
	__u8 flags;
};

/* tp_btf programs read kernel memory with plain (fault-safe) loads, the
 * tracepoint programs with bpf_probe_read_kernel; btf is a constant, so
 * each program keeps one branch.
 */
#define RD(btf, p, f) ((btf) ? (p)->f : BPF_CORE_READ(p, f))

/* ---- where the packet is ---- */

static __always_inline __u32 dev_netns(struct net_device *dev, const bool btf)
{
	struct net *net;

	if (!dev)
		return 0;
	if (!btf)
		return BPF_CORE_READ(dev, nd_net.net, ns.inum);
	net = dev->nd_net.net;
	return net ? net->ns.inum : 0;
}

static __always_inline __u32 sk_netns(struct sock *sk, const bool btf)
{
	struct net *net;

	if (!sk)
		return 0;
	if (!btf)
		return BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
	net = sk->__sk_common.skc_net.net;
	return net ? net->ns.inum : 0;
}

/* The device of a hop. Once an skb is queued to a socket, skb->dev shares
 * its storage with dev_scratch (UDP) or is cleared, so a freed skb that
 * has an owner socket is placed by the socket's namespace instead, and so
 * is a hop that names the socket processing the skb (tcp_probe).
 */
static __always_inline void hop_where(struct hop *h, const bool btf,
				      struct net_device **dev, struct sock **sk)
{
	struct sk_buff *skb = h->skb;

	*dev = h->dev;
	*sk = h->sk;
	if (*dev || *sk || (h->flags & HF_NO_SKB))
		return;
	if (h->flags & HF_END) {
		*sk = RD(btf, skb, sk);
		if (*sk)
			return;
	}
	*dev = RD(btf, skb, dev);
}

static __always_inline __u32 hop_netns(struct net_device *dev, struct sock *sk,
				       const bool btf)
{
	return dev ? dev_netns(dev, btf) : sk_netns(sk, btf);
}

/* ---- headers ---- */

/* TCP payload bytes: the IP length past the end of the TCP header. */
static __always_inline __u32 tcp_payload(__u32 ip_len, __u32 hdrs)
{
	return ip_len > hdrs ? ip_len - hdrs : 0;
}

static __always_inline int pkt_parse(struct pkt_buf *b, __u32 len, __be16 proto,
				     struct pkt_meta *m)
{
	struct hdr_cursor c = { .pos = b->data };
	void *end = b->data + len;
	struct l3_info l3 = {};
	struct icmphdr *ih;
	struct tcphdr *th;
	struct udphdr *uh;
	int next;

	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *iph = (void *)b->data;

		next = parse_ipv4(&c, end, &l3);
		if (next < 0)
			return next;
		m->family = 4;
		m->saddr[0] = iph->saddr;
		m->daddr[0] = iph->daddr;
	} else {
		struct ipv6hdr *ip6h = (void *)b->data;

		next = parse_ipv6(&c, end, &l3);
		if (next < 0)
			return next;
		m->family = 6;
		__builtin_memcpy(m->saddr, &ip6h->saddr, 16);
		__builtin_memcpy(m->daddr, &ip6h->daddr, 16);
	}
	m->proto = next;
	if (l3.frag == FRAG_LATER)
		return 0;
	if (next == IPPROTO_TCP) {
		if (parse_tcp(&c, end, &th))
			return 0;
		m->sport = bpf_ntohs(th->source);
		m->dport = bpf_ntohs(th->dest);
		m->has_ports = 1;
		m->tcp_seq = bpf_ntohl(th->seq);
		m->tcp_ack = bpf_ntohl(th->ack_seq);
		m->tcp_len = tcp_payload(l3.ip_len, c.pos - (void *)b->data);
		m->tcp_end = m->tcp_seq + th->syn + th->fin + m->tcp_len;
	} else if (next == IPPROTO_UDP) {
		if (parse_udp(&c, end, &uh))
			return 0;
		m->sport = bpf_ntohs(uh->source);
		m->dport = bpf_ntohs(uh->dest);
		m->has_ports = 1;
	} else if (next == IPPROTO_ICMP || next == IPPROTO_ICMPV6_NR) {
		if (parse_icmp_common(&c, end, &ih))
			return 0;
		m->sport = bpf_ntohs(ih->un.echo.id);
		m->dport = ih->type << 8 | ih->code;
		m->has_icmp = 1;
	}
	return 0;
}

/* Copy up to TRACEPKT_COPY_BYTES from the L3 header on and parse them.
 * Receive hooks run after eth_type_trans, with skb->data at L3; elsewhere
 * the network header offset is set.
 */
static __always_inline int pkt_read(struct hop *h, const bool btf,
				    struct pkt_meta *m)
{
	struct sk_buff *skb = h->skb;
	unsigned char *head, *l3;
	struct pkt_buf *b;
	__u32 zero = 0, off, tail, avail;
	__be16 proto;

	proto = RD(btf, skb, protocol);
	if (proto != bpf_htons(ETH_P_IP) && proto != bpf_htons(ETH_P_IPV6))
		return -1;
	head = RD(btf, skb, head);
	tail = RD(btf, skb, tail);
	if (h->flags & HF_RX) {
		l3 = RD(btf, skb, data);
		off = l3 - head;
	} else {
		off = RD(btf, skb, network_header);
		l3 = head + off;
	}
	if (tail <= off)
		return -1;
	avail = tail - off;
	if (avail > TRACEPKT_COPY_BYTES)
		avail = TRACEPKT_COPY_BYTES;
	b = bpf_map_lookup_elem(&scratch, &zero);
	if (!b || bpf_probe_read_kernel(b->data, avail, l3))
		return -1;
	return pkt_parse(b, avail, proto, m);
}

/* ---- the filter ---- */

static __always_inline bool addr_match(const __u32 *a,
				       const struct tracepkt_insn *in)
{
	return (a[0] & in->mask[0]) == in->addr[0] &&
	       (a[1] & in->mask[1]) == in->addr[1] &&
	       (a[2] & in->mask[2]) == in->addr[2] &&
	       (a[3] & in->mask[3]) == in->addr[3];
}

static __always_inline bool insn_test(const struct tracepkt_insn *in,
				      const struct pkt_meta *m)
{
	switch (in->op) {
	case TP_OP_FAMILY:
		return m->family == in->family;
	case TP_OP_PROTO:
		return m->family && m->proto == in->proto;
	case TP_OP_PORT:
		if (!m->has_ports)
			return false;
		if (in->dir != TP_DIR_DST && m->sport == in->port)
			return true;
		return in->dir != TP_DIR_SRC && m->dport == in->port;
	case TP_OP_ADDR:
		if (m->family != in->family)
			return false;
		if (in->dir != TP_DIR_DST && addr_match(m->saddr, in))
			return true;
		return in->dir != TP_DIR_SRC && addr_match(m->daddr, in);
	}
	return false;
}

struct filter_state {
	const struct pkt_meta *m;
	__u32 pc;
	bool match;
};

/* One step of the filter: 1 when it has decided (fs->match) or failed. */
static __always_inline long filter_next(struct filter_state *fs)
{
	struct tracepkt_insn *in = bpf_map_lookup_elem(&filter_prog, &fs->pc);

	if (!in)
		return 1;
	fs->pc = insn_test(in, fs->m) ? in->jt : in->jf;
	if (fs->pc == TRACEPKT_ACCEPT) {
		fs->match = true;
		return 1;
	}
	return fs->pc >= targ_filter_len; /* rejected, or a bad target */
}

/* A step run by bpf_loop, so that the verifier checks it once instead of
 * once per possible step.
 */
static long filter_step(__u32 i, void *ctx)
{
	return filter_next(ctx);
}

/* Steps run in line before bpf_loop takes over: enough for a filter such
 * as 'host A' or 'host A and port P'.
 */
#define FILTER_INLINE_STEPS 2

/* Targets only move forward, so TRACEPKT_MAX_INSNS steps always suffice.
 * The verifier inlines bpf_loop (5.19+) but its callback stays a call, and
 * where returns go through a return thunk (x86 with the retbleed or SRSO
 * mitigations, "Safe RET") each return costs: with the first steps in
 * line a start hook's run on a packet the filter rejects fell from about
 * 155 to 125 ns (docs/performance.md). The verifier checks them once more
 * each.
 */
static __always_inline bool filter_run(const struct pkt_meta *m)
{
	struct filter_state fs = { .m = m };

#pragma unroll
	for (int i = 0; i < FILTER_INLINE_STEPS; i++)
		if (filter_next(&fs))
			return fs.match;
	bpf_loop(TRACEPKT_MAX_INSNS - FILTER_INLINE_STEPS, filter_step, &fs, 0);
	return fs.match;
}

/* --netns, --iface and --mark: fields of the skb, no header copy. */
static __always_inline bool prefilter(struct hop *h, struct net_device *dev,
				      struct sock *sk, const bool btf)
{
	struct sk_buff *skb = h->skb; /* CO-RE reads need a plain pointer */
	__u64 name[2] = {};

	if (targ_has_mark && (RD(btf, skb, mark) & targ_mark_mask) != targ_mark)
		return false;
	if (targ_netns && hop_netns(dev, sk, btf) != targ_netns)
		return false;
	if (targ_has_ifname) {
		if (!dev ||
		    bpf_probe_read_kernel(name, sizeof(name), &dev->name))
			return false;
		if (name[0] != targ_ifname[0] || name[1] != targ_ifname[1])
			return false;
	}
	return true;
}

/* ---- tracking ---- */

static __always_inline void untrack(__u64 key)
{
	if (!bpf_map_delete_elem(&tracked, &key))
		__sync_fetch_and_add(&n_tracked, -1);
}

static __always_inline struct tracepkt_track *
start_trace(struct hop *h, struct net_device *dev, struct sock *sk,
	    const bool btf, struct pkt_meta *m, bool *have_m)
{
	struct tracepkt_track t = {};
	__u64 key = (__u64)(long)h->skb;
	__u32 id;

	if (!prefilter(h, dev, sk, btf))
		return NULL;
	if (targ_filter_len) {
		if (!*have_m && pkt_read(h, btf, m))
			__builtin_memset(m, 0,
					 sizeof(*m)); /* not IP: tests fail */
		*have_m = true;
		if (!filter_run(m))
			return NULL;
	}
	if (targ_max_traces && next_id >= targ_max_traces) {
		stat_inc(STAT_OVER_COUNT);
		return NULL;
	}
	id = __sync_fetch_and_add(&next_id, 1) + 1;
	if (targ_max_traces && id > targ_max_traces) {
		stat_inc(STAT_OVER_COUNT);
		return NULL;
	}
	t.id = id;
	if (bpf_map_update_elem(&tracked, &key, &t, BPF_NOEXIST)) {
		stat_inc(STAT_TRACK_FULL);
		return NULL;
	}
	__sync_fetch_and_add(&n_tracked, 1);
	stat_inc(STAT_MATCHED);
	return bpf_map_lookup_elem(&tracked, &key);
}

static __always_inline long wakeup_flags(void)
{
	/* Wake the reader per batch, not per event; it also polls. */
	return bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >=
			       targ_wakeup_bytes ?
		       BPF_RB_FORCE_WAKEUP :
		       BPF_RB_NO_WAKEUP;
}

/* Write one hop of t and advance t. m holds the headers when have_m. */
static __always_inline void emit(struct hop *h, struct tracepkt_track *t,
				 struct net_device *dev, __u32 netns,
				 const bool btf, struct pkt_meta *m,
				 bool have_m)
{
	__u64 now = bpf_ktime_get_ns();
	struct sk_buff *skb = h->skb;
	struct tracepkt_event *e;

	if (!have_m && !(h->flags & HF_NO_SKB) && !pkt_read(h, btf, m))
		have_m = true;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		stat_inc(STAT_LOST);
		goto advance;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->ts_ns = now;
	e->delta_ns = t->seq ? now - t->last_ts : 0;
	e->skbaddr = (__u64)(long)skb;
	e->trace_id = t->id;
	e->seq = t->seq;
	e->hook = h->hook;
	e->prev_hook = t->last_hook;
	e->netns = netns;
	e->prev_netns = t->last_netns;
	e->reason = h->reason;
	e->result = h->result;
	e->aux = h->aux;
	e->cpu = bpf_get_smp_processor_id();
	if (h->flags & HF_END)
		e->flags |= EV_END;
	e->flags |= h->evflags;
	e->peer_skb = h->peer;
	if (h->flags & HF_NO_SKB) {
		e->len = h->len;
		e->mark = t->last_mark;
	} else {
		e->len = RD(btf, skb, len);
		e->mark = RD(btf, skb, mark);
	}
	if (dev) {
		e->ifindex = RD(btf, dev, ifindex);
		bpf_probe_read_kernel(e->ifname, sizeof(e->ifname), &dev->name);
	} else if (h->name) {
		/* net_dev_xmit without tp_btf: same device as start_xmit */
		bpf_probe_read_kernel_str(e->ifname, sizeof(e->ifname),
					  h->name);
		e->ifindex = t->tx_ifindex;
	}
	if (h->flags & HF_TX) {
		t->tx_netns = netns;
		t->tx_ifindex = e->ifindex;
	}
	if (have_m && m->family) {
		e->flags |= EV_ADDRS;
		if (m->has_ports || m->has_icmp)
			e->flags |= EV_L4;
		e->family = m->family;
		e->proto = m->proto;
		e->sport = m->sport;
		e->dport = m->dport;
		__builtin_memcpy(e->saddr, m->saddr, 16);
		__builtin_memcpy(e->daddr, m->daddr, 16);
	}
	__builtin_memcpy(e->prev_ifname, t->last_ifname,
			 sizeof(e->prev_ifname));
	__builtin_memcpy(t->last_ifname, e->ifname, sizeof(t->last_ifname));
	t->last_mark = e->mark;
	bpf_ringbuf_submit(e, wakeup_flags());
	stat_inc(STAT_HOPS);
advance:
	t->last_ts = now;
	t->last_hook = h->hook;
	t->last_netns = netns;
	t->seq++;
}

static __always_inline void cur_set(__u64 key, struct tracepkt_track *t,
				    __u32 netns, struct pkt_meta *m)
{
	__u32 zero = 0;
	struct rx_cur *c = bpf_map_lookup_elem(&rx_cur, &zero);

	if (!c)
		return;
	if (!t || !m->family) {
		if (c->id)
			c->id = 0;
		return;
	}
	c->skbaddr = key;
	c->id = t->id;
	c->netns = netns;
	c->family = m->family;
	c->proto = m->proto;
	c->has_ports = m->has_ports;
	c->sport = m->sport;
	c->dport = m->dport;
	c->tcp_len = m->tcp_len;
	__builtin_memcpy(c->saddr, m->saddr, 16);
	__builtin_memcpy(c->daddr, m->daddr, 16);
}

/* Remember (at netif_rx, napi_gro_receive_entry) or consume (at
 * netif_receive_skb) a packet that did not match, on this CPU.
 */
static __always_inline bool rx_rejected(__u64 key, struct net_device *dev,
					bool set)
{
	__u32 zero = 0;
	struct rx_cur *c = bpf_map_lookup_elem(&rx_cur, &zero);
	bool hit;

	if (!c)
		return false;
	if (set) {
		c->rejected_skb = key;
		c->rejected_dev = (__u64)(long)dev;
		return false;
	}
	hit = c->rejected_skb == key && c->rejected_dev == (__u64)(long)dev;
	c->rejected_skb = 0; /* one use: the address may be reused later */
	return hit;
}

/* Is the tracked skb t, seen again at a start hook in netns, another
 * packet now? TCP frees some segments without a tracepoint (merged into
 * another in a socket backlog, a SYN-ACK at a socket in SYN_SENT), and the
 * next skb at the address would continue their trace. A segment keeps its
 * sequence and ack numbers all along its path (NAT rewrites addresses and
 * ports, not these), so other numbers are another segment. Headers that
 * are not TCP (a tunnel's outer ones) tell nothing by themselves; but a
 * segment that reached the stack of its namespace (netif_receive_skb, its
 * route lookup, tcp_probe) leaves it only through a start hook there
 * (net_dev_queue when forwarded), so a start hook in another namespace is
 * another packet, whatever it carries (a retransmission of the segment
 * from its sender, too).
 */
static __always_inline bool tcp_reused(struct hop *h, const bool btf,
				       const struct tracepkt_track *t,
				       __u32 netns, struct pkt_meta *m,
				       bool *have_m)
{
	if (!t->tcp_known)
		return false;
	if ((t->last_hook == HOOK_NETIF_RECEIVE_SKB ||
	     t->last_hook == HOOK_FIB_TABLE_LOOKUP ||
	     t->last_hook == HOOK_FIB6_TABLE_LOOKUP ||
	     t->last_hook == HOOK_TCP_PROBE) &&
	    netns && netns != t->last_netns)
		return true;
	if (pkt_read(h, btf, m)) {
		__builtin_memset(m, 0, sizeof(*m));
		return false;
	}
	*have_m = true;
	return m->has_ports && m->proto == IPPROTO_TCP &&
	       (m->tcp_seq != t->tcp_seq || m->tcp_ack != t->tcp_ack);
}

/* The TCP numbers of t's segment, from headers read at this hop. */
static __always_inline void tcp_remember(struct tracepkt_track *t,
					 const struct pkt_meta *m)
{
	if (!m->has_ports || m->proto != IPPROTO_TCP)
		return;
	t->tcp_seq = m->tcp_seq;
	t->tcp_ack = m->tcp_ack;
	t->tcp_known = 1;
}

/* tcp_probe's own hop goes through on_hop (below) */
static __always_inline int on_hop(struct hop *h, const bool btf);

#include "tracepkt_tcp.bpf.h"

static __always_inline int on_hop(struct hop *h, const bool btf)
{
	__u64 key = (__u64)(long)h->skb;
	struct tracepkt_track *t = NULL;
	struct pkt_meta m = {};
	struct net_device *dev;
	bool have_m = false;
	struct sock *sk;
	__u32 netns;

	if (n_tracked > 0) {
		t = bpf_map_lookup_elem(&tracked, &key);
		if (t && !(h->flags & HF_WAITED) &&
		    bpf_ktime_get_ns() - t->last_ts > targ_stale_ns) {
			untrack(key);
			stat_inc(STAT_STALE);
			t = NULL;
		}
	}
	if (!t && !(h->flags & HF_START))
		return 0;
	hop_where(h, btf, &dev, &sk);
	/* a start hook that frees nothing: a new packet may begin */
	if (t && (h->flags & (HF_START | HF_END)) == HF_START &&
	    tcp_reused(h, btf, t, hop_netns(dev, sk, btf), &m, &have_m)) {
		untrack(key);
		stat_inc(STAT_STALE);
		t = NULL;
	}
	if (!t && (h->flags & HF_CUR) && rx_rejected(key, dev, false)) {
		cur_set(key, NULL, 0, &m);
		return 0;
	}
	if (!t)
		t = start_trace(h, dev, sk, btf, &m, &have_m);
	if (!t) {
		if (h->flags & HF_CUR)
			cur_set(key, NULL, 0, &m);
		else if (h->flags & HF_RX)
			rx_rejected(key, dev, true);
		return 0;
	}
	netns = h->name ? t->tx_netns : t->last_netns;
	barrier_var(netns); /* keep the two loads apart (one insn, two types) */
	if (dev || sk)
		netns = hop_netns(dev, sk, btf);
	emit(h, t, dev, netns, btf, &m, have_m);
	tcp_remember(t, &m);
	if (h->flags & HF_CUR) {
		cur_set(key, t, netns, &m);
		if (m.family)
			tcp_arrived(&m, netns, key, t->id);
	}
	if (h->flags & HF_END)
		untrack(key);
	return 0;
}

/* A route lookup of the packet this CPU is receiving: src may be 0 when
 * the lookup does not know it yet.
 */
static __always_inline int on_fib(__u8 hook, __u8 family, __u8 proto,
				  const __u32 *src, const __u32 *dst,
				  __u32 table, __s32 err,
				  struct net_device *dev, const void *name,
				  const bool btf)
{
	struct hop h = { .hook = hook,
			 .flags = HF_NO_SKB,
			 .dev = dev,
			 .name = name,
			 .aux = table,
			 .result = err };
	struct tracepkt_track *t;
	struct pkt_meta m = {};
	struct rx_cur *c;
	__u32 zero = 0;
	int words = family == 4 ? 1 : 4;

	if (n_tracked <= 0)
		return 0;
	c = bpf_map_lookup_elem(&rx_cur, &zero);
	if (!c || !c->id || c->family != family)
		return 0;
	for (int i = 0; i < 4; i++) {
		if (i >= words)
			break;
		if (dst[i] != c->daddr[i] || (src[i] && src[i] != c->saddr[i]))
			return 0;
		m.saddr[i] = src[i];
		m.daddr[i] = dst[i];
	}
	/* an output lookup in another namespace (the next packet sent with
	 * the same addresses) is not this packet's
	 */
	if (dev && dev_netns(dev, btf) != c->netns)
		return 0;
	t = bpf_map_lookup_elem(&tracked, &c->skbaddr);
	if (!t || t->id != c->id)
		return 0;
	h.skb = (struct sk_buff *)(long)c->skbaddr;
	m.family = family;
	m.proto = proto;
	emit(&h, t, dev, c->netns, btf, &m, true);
	return 0;
}

/* Is sk the local end the packet in c is addressed to: same namespace,
 * protocol and local port, and a local address that is the packet's
 * destination or a wildcard?
 */
static __always_inline bool sk_is_dest(struct sock *sk, const struct rx_cur *c)
{
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
	__u32 a[4] = {};

	if (!c->has_ports || BPF_CORE_READ(sk, sk_protocol) != c->proto ||
	    BPF_CORE_READ(sk, __sk_common.skc_num) != c->dport ||
	    sk_netns(sk, false) != c->netns)
		return false;
	if (family == AF_INET) {
		a[0] = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
		return c->family == 4 && (!a[0] || a[0] == c->daddr[0]);
	}
	if (family != AF_INET6)
		return false;
	BPF_CORE_READ_INTO(&a, sk, __sk_common.skc_v6_rcv_saddr);
	if (!(a[0] | a[1] | a[2] | a[3]))
		return true; /* [::]: IPv6, and IPv4 unless V6ONLY */
	if (c->family == 4) /* ::ffff:a.b.c.d */
		return !a[0] && !a[1] && a[2] == bpf_htonl(0xffff) &&
		       a[3] == c->daddr[0];
	return a[0] == c->daddr[0] && a[1] == c->daddr[1] &&
	       a[2] == c->daddr[2] && a[3] == c->daddr[3];
}

/* A socket was handed data. When it is the destination of the traced
 * packet this CPU is receiving, that packet has been delivered: its last
 * hop (UDP and TCP free a delivered skb without a tracepoint).
 */
static __always_inline int on_sk_ready(struct sock *sk, const bool btf)
{
	struct hop h = { .hook = HOOK_SK_DATA_READY,
			 .flags = HF_NO_SKB | HF_END };
	struct tracepkt_track *t;
	struct sk_buff *skb;
	struct pkt_meta m = {};
	struct rx_cur *c;
	__u32 zero = 0;

	if (n_tracked <= 0 || !sk)
		return 0;
	if (BPF_CORE_READ(sk, sk_protocol) == IPPROTO_TCP) {
		tcp_delivered(sk, btf);
		/* the owner processing its backlog, not a softirq: the
		 * packet this CPU received last is not the one delivered
		 */
		if (sk_owned(sk))
			return 0;
	}
	c = bpf_map_lookup_elem(&rx_cur, &zero);
	if (!c || !c->id || !sk_is_dest(sk, c))
		return 0;
	t = bpf_map_lookup_elem(&tracked, &c->skbaddr);
	if (!t || t->id != c->id)
		return 0;
	skb = (struct sk_buff *)(long)c->skbaddr;
	h.skb = skb;
	/* TCP may have freed the skb by now, silently: a listener is woken
	 * after the handshake's last ACK (no payload) was freed, a segment
	 * merged into the receive queue's tail is freed before the wakeup.
	 * So TCP's length is the one read at reception; UDP's skb is queued.
	 */
	if (c->proto == IPPROTO_TCP)
		h.len = BPF_CORE_READ(sk, __sk_common.skc_state) == TCP_LISTEN ?
				0 :
				c->tcp_len;
	else
		h.len = BPF_CORE_READ(skb, len);
	m.family = c->family;
	m.proto = c->proto;
	m.has_ports = c->has_ports;
	m.sport = c->sport;
	m.dport = c->dport;
	__builtin_memcpy(m.saddr, c->saddr, 16);
	__builtin_memcpy(m.daddr, c->daddr, 16);
	emit(&h, t, NULL, c->netns, btf, &m, true);
	untrack(c->skbaddr);
	c->id = 0;
	return 0;
}

/* ---- tp_btf programs ---- */

#define HOP(sk_, hook_, flags_, ...)                                 \
	struct hop h = { .skb = (struct sk_buff *)(sk_),             \
			 .hook = (hook_),                            \
			 .flags = (flags_) | HOOK_START_FLAG(hook_), \
			 __VA_ARGS__ }

SEC("tp_btf/napi_gro_receive_entry")
int BPF_PROG(tp_btf__napi_gro_receive_entry, const struct sk_buff *skb)
{
	HOP(skb, HOOK_NAPI_GRO_RECEIVE_ENTRY, HF_RX);
	return on_hop(&h, true);
}

SEC("tp_btf/netif_rx")
int BPF_PROG(tp_btf__netif_rx, struct sk_buff *skb)
{
	HOP(skb, HOOK_NETIF_RX, HF_RX);
	return on_hop(&h, true);
}

SEC("tp_btf/netif_receive_skb")
int BPF_PROG(tp_btf__netif_receive_skb, struct sk_buff *skb)
{
	HOP(skb, HOOK_NETIF_RECEIVE_SKB, HF_RX | HF_CUR);
	return on_hop(&h, true);
}

SEC("tp_btf/net_dev_queue")
int BPF_PROG(tp_btf__net_dev_queue, struct sk_buff *skb)
{
	HOP(skb, HOOK_NET_DEV_QUEUE, 0);
	return on_hop(&h, true);
}

SEC("tp_btf/qdisc_enqueue")
int BPF_PROG(tp_btf__qdisc_enqueue, struct Qdisc *q,
	     const struct netdev_queue *txq, struct sk_buff *skb)
{
	HOP(skb, HOOK_QDISC_ENQUEUE, 0, .aux = q->handle);
	return on_hop(&h, true);
}

SEC("tp_btf/qdisc_dequeue")
int BPF_PROG(tp_btf__qdisc_dequeue, struct Qdisc *q,
	     const struct netdev_queue *txq, int packets, struct sk_buff *skb)
{
	HOP(skb, HOOK_QDISC_DEQUEUE, 0, .aux = q->handle);
	if (!skb)
		return 0;
	return on_hop(&h, true);
}

SEC("tp_btf/net_dev_start_xmit")
int BPF_PROG(tp_btf__net_dev_start_xmit, const struct sk_buff *skb,
	     const struct net_device *dev)
{
	HOP(skb, HOOK_NET_DEV_START_XMIT, 0, .dev = (struct net_device *)dev);
	return on_hop(&h, true);
}

/* The driver owns the skb by now (veth has already handed it to the peer):
 * only its address and the arguments are used.
 */
SEC("tp_btf/net_dev_xmit")
int BPF_PROG(tp_btf__net_dev_xmit, struct sk_buff *skb, int rc,
	     struct net_device *dev, unsigned int skb_len)
{
	HOP(skb, HOOK_NET_DEV_XMIT, HF_NO_SKB, .dev = dev, .len = skb_len,
	    .result = rc);
	return on_hop(&h, true);
}

SEC("tp_btf/kfree_skb")
int BPF_PROG(tp_btf__kfree_skb, struct sk_buff *skb, void *location,
	     enum skb_drop_reason reason)
{
	HOP(skb, HOOK_KFREE_SKB, HF_END, .reason = reason);
	return on_hop(&h, true);
}

SEC("tp_btf/consume_skb")
int BPF_PROG(tp_btf__consume_skb, struct sk_buff *skb)
{
	HOP(skb, HOOK_CONSUME_SKB, HF_END);
	return on_hop(&h, true);
}

SEC("tp_btf/sk_data_ready")
int BPF_PROG(tp_btf__sk_data_ready, const struct sock *sk)
{
	return on_sk_ready((struct sock *)sk, true);
}

SEC("tp_btf/tcp_probe")
int BPF_PROG(tp_btf__tcp_probe, struct sock *sk, const struct sk_buff *skb)
{
	return on_tcp_probe(sk, (struct sk_buff *)skb, true);
}

SEC("tp_btf/fib_table_lookup")
int BPF_PROG(tp_btf__fib_table_lookup, u32 tb_id, const struct flowi4 *flp,
	     const struct fib_nh_common *nhc, int err)
{
	__u32 src = flp->saddr, dst = flp->daddr;

	return on_fib(HOOK_FIB_TABLE_LOOKUP, 4, flp->__fl_common.flowic_proto,
		      &src, &dst, tb_id, err, nhc ? nhc->nhc_dev : NULL, NULL,
		      true);
}

/* ---- plain tracepoint programs (no tp_btf) ---- */

SEC("tracepoint/net/napi_gro_receive_entry")
int tracepoint__net__napi_gro_receive_entry(
	struct trace_event_raw_net_dev_rx_verbose_template *ctx)
{
	HOP(ctx->skbaddr, HOOK_NAPI_GRO_RECEIVE_ENTRY, HF_RX);
	return on_hop(&h, false);
}

SEC("tracepoint/net/netif_rx")
int tracepoint__net__netif_rx(struct trace_event_raw_net_dev_template *ctx)
{
	HOP(ctx->skbaddr, HOOK_NETIF_RX, HF_RX);
	return on_hop(&h, false);
}

SEC("tracepoint/net/netif_receive_skb")
int tracepoint__net__netif_receive_skb(
	struct trace_event_raw_net_dev_template *ctx)
{
	HOP(ctx->skbaddr, HOOK_NETIF_RECEIVE_SKB, HF_RX | HF_CUR);
	return on_hop(&h, false);
}

SEC("tracepoint/net/net_dev_queue")
int tracepoint__net__net_dev_queue(struct trace_event_raw_net_dev_template *ctx)
{
	HOP(ctx->skbaddr, HOOK_NET_DEV_QUEUE, 0);
	return on_hop(&h, false);
}

SEC("tracepoint/qdisc/qdisc_enqueue")
int tracepoint__qdisc__qdisc_enqueue(struct trace_event_raw_qdisc_enqueue *ctx)
{
	HOP(ctx->skbaddr, HOOK_QDISC_ENQUEUE, 0, .aux = ctx->handle);
	return on_hop(&h, false);
}

SEC("tracepoint/qdisc/qdisc_dequeue")
int tracepoint__qdisc__qdisc_dequeue(struct trace_event_raw_qdisc_dequeue *ctx)
{
	HOP(ctx->skbaddr, HOOK_QDISC_DEQUEUE, 0, .aux = ctx->handle);
	if (!ctx->skbaddr)
		return 0;
	return on_hop(&h, false);
}

SEC("tracepoint/net/net_dev_start_xmit")
int tracepoint__net__net_dev_start_xmit(
	struct trace_event_raw_net_dev_start_xmit *ctx)
{
	HOP(ctx->skbaddr, HOOK_NET_DEV_START_XMIT, HF_TX);
	return on_hop(&h, false);
}

SEC("tracepoint/net/net_dev_xmit")
int tracepoint__net__net_dev_xmit(struct trace_event_raw_net_dev_xmit *ctx)
{
	HOP(ctx->skbaddr, HOOK_NET_DEV_XMIT, HF_NO_SKB, .len = ctx->len,
	    .result = ctx->rc,
	    .name = (void *)ctx + (ctx->__data_loc_name & 0xffff));
	return on_hop(&h, false);
}

SEC("tracepoint/skb/kfree_skb")
int tracepoint__skb__kfree_skb(struct trace_event_raw_kfree_skb *ctx)
{
	HOP(ctx->skbaddr, HOOK_KFREE_SKB, HF_END, .reason = ctx->reason);
	return on_hop(&h, false);
}

SEC("tracepoint/skb/consume_skb")
int tracepoint__skb__consume_skb(struct trace_event_raw_consume_skb *ctx)
{
	HOP(ctx->skbaddr, HOOK_CONSUME_SKB, HF_END);
	return on_hop(&h, false);
}

SEC("tracepoint/sock/sk_data_ready")
int tracepoint__sock__sk_data_ready(struct trace_event_raw_sk_data_ready *ctx)
{
	return on_sk_ready((struct sock *)ctx->skaddr, false);
}

SEC("tracepoint/tcp/tcp_probe")
int tracepoint__tcp__tcp_probe(struct trace_event_raw_tcp_probe *ctx)
{
	return on_tcp_probe((struct sock *)ctx->skaddr,
			    (struct sk_buff *)ctx->skbaddr, false);
}

SEC("tracepoint/fib/fib_table_lookup")
int tracepoint__fib__fib_table_lookup(
	struct trace_event_raw_fib_table_lookup *ctx)
{
	__u32 src = 0, dst = 0;

	/* byte arrays in the record: read them, no ctx pointer arithmetic */
	bpf_probe_read_kernel(&src, 4, ctx->src);
	bpf_probe_read_kernel(&dst, 4, ctx->dst);
	return on_fib(HOOK_FIB_TABLE_LOOKUP, 4, ctx->proto, &src, &dst,
		      ctx->tb_id, ctx->err, NULL, ctx->name, false);
}

/* No tp_btf twin: the raw arguments hold no ready error code. */
SEC("tracepoint/fib6/fib6_table_lookup")
int tracepoint__fib6__fib6_table_lookup(
	struct trace_event_raw_fib6_table_lookup *ctx)
{
	__u32 src[4] = {}, dst[4] = {};

	bpf_probe_read_kernel(src, 16, ctx->src);
	bpf_probe_read_kernel(dst, 16, ctx->dst);
	return on_fib(HOOK_FIB6_TABLE_LOOKUP, 6, ctx->proto, src, dst,
		      ctx->tb_id, ctx->err, NULL, ctx->name, false);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
