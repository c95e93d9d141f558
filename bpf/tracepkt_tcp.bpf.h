/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* tracepkt_tcp.bpf.h: the packet path tracer's TCP deliveries, included by
 * tracepkt.bpf.c after its tracking and event helpers.
 *
 * A TCP segment is not always handed to its socket in the softirq that
 * received it: when the socket's owner holds it, the segment waits in the
 * socket's backlog until release_sock, where tcp_add_backlog may already
 * have merged it into the segment before it (the skb is freed without a
 * tracepoint); an out-of-order segment waits in the out-of-order queue; and
 * an in-order one may be merged into the receive queue's tail. Followed
 * data segments are noted per connection: on arrival (netif_receive_skb)
 * and when TCP processes them (tcp_probe, also from the backlog). A
 * segment whose sequence range lies inside the one of a segment tcp_probe
 * sees from a backlog, without having been seen itself, was merged into
 * it: its trace ends there. A processed segment is delivered when
 * sk_data_ready runs and rcv_nxt has passed its end.
 */
#ifndef __TRACEPKT_TCP_BPF_H
#define __TRACEPKT_TCP_BPF_H

struct tcp_conn_key {
	__u32 netns;
	__u32 raddr[4]; /* remote: the packet's source, network order */
	__u32 laddr[4];
	__u16 rport; /* host order */
	__u16 lport;
	__u8 family; /* 4 or 6 */
	__u8 _pad[3];
};

enum seg_state {
	SEG_FREE = 0,
	SEG_ARRIVED, /* seen at netif_receive_skb */
	SEG_AT_SOCKET, /* seen at tcp_probe: waits for rcv_nxt */
};

struct tcp_seg {
	__u64 skbaddr;
	__u32 id; /* trace id; 0: slot free (claimed before state is set) */
	__u32 state; /* enum seg_state */
	__u32 seq; /* host order */
	__u32 end_seq;
};

struct tcp_conn {
	struct tcp_seg seg[TRACEPKT_TCP_SEGS];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, TRACEPKT_TCP_CONNS);
	__type(key, struct tcp_conn_key);
	__type(value, struct tcp_conn);
} tcp_conns SEC(".maps");

static const struct tcp_conn tcp_conn_empty = {};

static __always_inline bool seq_before(__u32 a, __u32 b)
{
	return (__s32)(a - b) < 0;
}

/* The connection of a received packet, in the namespace it arrived in. */
static __always_inline void conn_key_pkt(struct tcp_conn_key *k,
					 const struct pkt_meta *m, __u32 netns)
{
	k->netns = netns;
	k->family = m->family;
	__builtin_memcpy(k->raddr, m->saddr, 16);
	__builtin_memcpy(k->laddr, m->daddr, 16);
	k->rport = m->sport;
	k->lport = m->dport;
}

/* The same key from the receiving socket; an IPv6 socket talking to an
 * IPv4 peer (::ffff:a.b.c.d) gets the IPv4 key its packets have.
 */
static __always_inline bool conn_key_sk(struct tcp_conn_key *k, struct sock *sk)
{
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
	__u32 a[4] = {};

	k->netns = sk_netns(sk, false);
	k->rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	k->lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	if (family == AF_INET6) {
		BPF_CORE_READ_INTO(&a, sk, __sk_common.skc_v6_daddr);
		if (a[0] || a[1] || a[2] != bpf_htonl(0xffff)) {
			k->family = 6;
			__builtin_memcpy(k->raddr, a, 16);
			BPF_CORE_READ_INTO(&a, sk,
					   __sk_common.skc_v6_rcv_saddr);
			__builtin_memcpy(k->laddr, a, 16);
			return true;
		}
	} else if (family != AF_INET) {
		return false;
	}
	k->family = 4;
	k->raddr[0] = BPF_CORE_READ(sk, __sk_common.skc_daddr);
	k->laddr[0] = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
	return true;
}

static __always_inline struct tcp_conn *conn_get(struct tcp_conn_key *k)
{
	struct tcp_conn *c = bpf_map_lookup_elem(&tcp_conns, k);

	if (c)
		return c;
	bpf_map_update_elem(&tcp_conns, k, &tcp_conn_empty, BPF_NOEXIST);
	return bpf_map_lookup_elem(&tcp_conns, k);
}

/* A slot whose trace has ended (dropped, expired, evicted). */
static __always_inline bool seg_dead(struct tcp_seg *s)
{
	__u64 skbaddr = s->skbaddr;
	struct tracepkt_track *t = bpf_map_lookup_elem(&tracked, &skbaddr);

	return !t || t->id != s->id;
}

static __always_inline void seg_fill(struct tcp_seg *s, __u64 skbaddr,
				     __u32 seq, __u32 end, __u32 state)
{
	s->skbaddr = skbaddr;
	s->seq = seq;
	s->end_seq = end;
	barrier();
	s->state = state; /* last: readers look at claimed slots only */
}

/* Note (or update) segment skbaddr of trace id in c. Slots are claimed
 * with a compare-and-swap on id: receptions on other CPUs note segments
 * of the same connection while its socket's owner reads them.
 */
static __always_inline void seg_note(struct tcp_conn *c, __u64 skbaddr,
				     __u32 id, __u32 seq, __u32 end,
				     __u32 state)
{
	struct tcp_seg *s;
	int i;

	for (i = 0; i < TRACEPKT_TCP_SEGS; i++) {
		s = &c->seg[i];
		if (s->id == id && s->skbaddr == skbaddr && s->state) {
			seg_fill(s, skbaddr, seq, end, state);
			return;
		}
	}
	for (i = 0; i < TRACEPKT_TCP_SEGS; i++) {
		s = &c->seg[i];
		if (!s->id && !__sync_val_compare_and_swap(&s->id, 0, id)) {
			seg_fill(s, skbaddr, seq, end, state);
			return;
		}
	}
	for (i = 0; i < TRACEPKT_TCP_SEGS; i++) {
		__u32 old_id, old_state;

		s = &c->seg[i];
		old_id = s->id;
		old_state = s->state;
		if (!old_state || !seg_dead(s) ||
		    __sync_val_compare_and_swap(&s->state, old_state,
						SEG_FREE) != old_state)
			continue;
		if (__sync_val_compare_and_swap(&s->id, old_id, id) == old_id) {
			seg_fill(s, skbaddr, seq, end, state);
			return;
		}
	}
	stat_inc(STAT_TCP_FULL);
}

/* A followed TCP segment with data reached netif_receive_skb in netns. */
static __always_inline void tcp_arrived(const struct pkt_meta *m, __u32 netns,
					__u64 skbaddr, __u32 id)
{
	struct tcp_conn_key k = {};
	struct tcp_conn *c;

	if (m->proto != IPPROTO_TCP || m->tcp_end == m->tcp_seq)
		return;
	conn_key_pkt(&k, m, netns);
	c = conn_get(&k);
	if (c)
		seg_note(c, skbaddr, id, m->tcp_seq, m->tcp_end, SEG_ARRIVED);
}

static __always_inline bool sk_owned(struct sock *sk)
{
	return BPF_CORE_READ(sk, sk_lock.owned);
}

/* Last hop of the segment in slot s, taken from state `from` by this
 * caller (one winner when two contexts look at the slot), and the slot
 * freed. Returns whether the segment's trace was still followed.
 */
static __always_inline bool seg_end(struct tcp_seg *s, __u32 from,
				    const struct tcp_conn_key *k, struct hop *h,
				    const bool btf)
{
	__u64 skbaddr = s->skbaddr;
	__u32 id = s->id, len = s->end_seq - s->seq;
	struct pkt_meta m = {};
	struct tracepkt_track *t;

	if (__sync_val_compare_and_swap(&s->state, from, SEG_FREE) != from)
		return false;
	s->id = 0;
	t = bpf_map_lookup_elem(&tracked, &skbaddr);
	if (!t || t->id != id)
		return false;
	h->skb = (struct sk_buff *)(long)skbaddr;
	h->len = len;
	m.family = k->family;
	m.proto = IPPROTO_TCP;
	m.has_ports = 1;
	m.sport = k->rport;
	m.dport = k->lport;
	__builtin_memcpy(m.saddr, k->raddr, 16);
	__builtin_memcpy(m.daddr, k->laddr, 16);
	emit(h, t, NULL, k->netns, btf, &m, true);
	untrack(skbaddr);
	return true;
}

/* sk_data_ready on a TCP socket: every processed segment that rcv_nxt has
 * passed is in the receive queue (or merged into its tail): delivered.
 */
static __always_inline void tcp_delivered(struct sock *sk, const bool btf)
{
	struct tcp_conn_key k = {};
	struct tcp_conn *c;
	__u32 rcv_nxt, flags = EV_SOCK;

	if (!conn_key_sk(&k, sk))
		return;
	c = bpf_map_lookup_elem(&tcp_conns, &k);
	if (!c)
		return;
	rcv_nxt = BPF_CORE_READ((struct tcp_sock *)sk, rcv_nxt);
	if (sk_owned(sk))
		flags |= EV_BACKLOG;
	for (int i = 0; i < TRACEPKT_TCP_SEGS; i++) {
		struct tcp_seg *s = &c->seg[i];
		struct hop h = { .hook = HOOK_SK_DATA_READY,
				 .flags = HF_NO_SKB | HF_END,
				 .evflags = flags };

		if (s->state == SEG_AT_SOCKET &&
		    !seq_before(rcv_nxt, s->end_seq))
			seg_end(s, SEG_AT_SOCKET, &k, &h, btf);
	}
}

/* tcp_probe of skb tail [seq, end) from a backlog: followed segments that
 * arrived but were never processed themselves and lie inside it were
 * merged into it by tcp_add_backlog.
 */
static __always_inline void tcp_coalesced(struct tcp_conn *c,
					  const struct tcp_conn_key *k,
					  __u64 tail, __u32 seq, __u32 end,
					  const bool btf)
{
	for (int i = 0; i < TRACEPKT_TCP_SEGS; i++) {
		struct tcp_seg *s = &c->seg[i];
		struct hop h = { .hook = HOOK_TCP_PROBE,
				 .flags = HF_NO_SKB | HF_END,
				 .evflags = EV_SOCK | EV_BACKLOG | EV_COALESCED,
				 .peer = tail };

		if (s->state != SEG_ARRIVED || s->skbaddr == tail ||
		    seq_before(s->seq, seq) || seq_before(end, s->end_seq))
			continue;
		if (seg_end(s, SEG_ARRIVED, k, &h, btf))
			stat_inc(STAT_COALESCED);
	}
}

/* Was skbaddr noted on arrival, for this connection, by its trace? */
static __always_inline bool seg_arrived(struct tcp_conn *c, __u64 skbaddr)
{
	for (int i = 0; i < TRACEPKT_TCP_SEGS; i++) {
		struct tcp_seg *s = &c->seg[i];

		if (s->state == SEG_ARRIVED && s->skbaddr == skbaddr)
			return !seg_dead(s);
	}
	return false;
}

/* TCP processes skb for sk (tcp_rcv_established), in the softirq that
 * received it or from the socket's backlog. A segment without data or FIN
 * (a pure ACK: TCP_SKB_CB's end_seq == seq; the tracepoint's data_len
 * would not count a FIN) ends here: tcp_ack takes what it says and
 * __kfree_skb frees it without a tracepoint.
 */
static __always_inline int on_tcp_probe(struct sock *sk, struct sk_buff *skb,
					const bool btf)
{
	struct hop h = { .skb = skb, .sk = sk, .hook = HOOK_TCP_PROBE };
	__u64 key = (__u64)(long)skb;
	struct tcp_conn_key k = {};
	struct tracepkt_track *t;
	struct tcp_conn *c;
	__u32 cb[2] = {}; /* TCP_SKB_CB(skb)->seq, end_seq */
	bool owned;

	if (n_tracked <= 0 || !sk || !skb || !conn_key_sk(&k, sk))
		return 0;
	owned = sk_owned(sk);
	h.evflags = EV_SOCK | (owned ? EV_BACKLOG : 0);
	if (!bpf_probe_read_kernel(cb, sizeof(cb), &skb->cb) && cb[0] == cb[1])
		h.flags |= HF_END;
	c = bpf_map_lookup_elem(&tcp_conns, &k);
	if (c && owned) {
		tcp_coalesced(c, &k, key, cb[0], cb[1], btf);
		/* however long the owner held the socket, this is the skb
		 * that arrived for it, not a new one at a freed address
		 */
		if (seg_arrived(c, key))
			h.flags |= HF_WAITED;
	}
	on_hop(&h, btf);
	if (h.flags & HF_END)
		return 0; /* a pure ACK: its trace ended at this hop */
	t = bpf_map_lookup_elem(&tracked, &key);
	if (!t || cb[0] == cb[1])
		return 0; /* not followed, or no data to deliver */
	if (!c)
		c = conn_get(&k);
	if (c)
		seg_note(c, key, t->id, cb[0], cb[1], SEG_AT_SOCKET);
	return 0;
}

#endif /* __TRACEPKT_TCP_BPF_H */
