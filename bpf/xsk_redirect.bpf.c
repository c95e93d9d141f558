// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* xsk_redirect.bpf.c: steer frames into AF_XDP sockets. A frame that one
 * of the application's filters selects goes to the socket of its receive
 * queue (XSKMAP slot rx_queue_index); every other frame, and a selected one
 * whose queue has no socket, goes on to the kernel stack, so the host keeps
 * working while an application owns a queue. Never drops a frame.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "parse.bpf.h"
#include "xsk.h"

#define STATS_MAX XSK_STAT_MAX
#include "stats.bpf.h"

/* Knobs, set through the skeleton's rodata before load. */
const volatile __u32 targ_nfilters = 0; /* 0: steer every frame */
const volatile struct xsk_filter targ_filters[XSK_MAX_FILTERS] = {};

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, XSK_MAX_QUEUES); /* resized to the queue count */
	__type(key, __u32);
	__type(value, __u32);
} xsks SEC(".maps");

/* The fields filters look at; has_* say which the frame carries. */
struct frame_key {
	__u16 eth_proto;
	__u16 port;
	__u8 ip_proto;
	__u8 has_ip_proto;
	__u8 has_port;
};

/* The L4 "port": destination port, ICMP type. Fragments have none. */
static __always_inline void l4_key(struct hdr_cursor *c, void *data_end,
				   int proto, struct frame_key *k)
{
	struct icmphdr *icmph;
	struct udphdr *udph;
	struct tcphdr *tcph;

	switch (proto) {
	case IPPROTO_UDP:
		if (parse_udp(c, data_end, &udph) == 0) {
			k->port = bpf_ntohs(udph->dest);
			k->has_port = 1;
		}
		break;
	case IPPROTO_TCP:
		if (parse_tcp(c, data_end, &tcph) == 0) {
			k->port = bpf_ntohs(tcph->dest);
			k->has_port = 1;
		}
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6_NR:
		if (parse_icmp_common(c, data_end, &icmph) == 0) {
			k->port = icmph->type;
			k->has_port = 1;
		}
		break;
	}
}

static __always_inline void frame_key(struct xdp_md *ctx, struct frame_key *k)
{
	void *data_end = (void *)(long)ctx->data_end;
	struct hdr_cursor c = { .pos = (void *)(long)ctx->data };
	struct l2_info l2 = {};
	struct l3_info l3 = {};
	int proto;

	proto = parse_eth(&c, data_end, &l2);
	if (proto < 0)
		return;
	k->eth_proto = proto;
	if (proto == ETH_P_ARP) {
		proto = parse_arp(&c, data_end);
		if (proto >= 0) {
			k->port = proto;
			k->has_port = 1;
		}
		return;
	}
	if (proto == ETH_P_IP)
		proto = parse_ipv4(&c, data_end, &l3);
	else if (proto == ETH_P_IPV6)
		proto = parse_ipv6(&c, data_end, &l3);
	else
		return;
	if (proto < 0)
		return;
	k->ip_proto = proto;
	k->has_ip_proto = 1;
	if (l3.frag == FRAG_NONE)
		l4_key(&c, data_end, proto, k);
}

static __always_inline bool filter_match(const volatile struct xsk_filter *f,
					 const struct frame_key *k)
{
	__u8 m = f->match;

	if ((m & XSK_MATCH_ETH) && f->eth_proto != k->eth_proto)
		return false;
	if ((m & XSK_MATCH_IP_PROTO) &&
	    (!k->has_ip_proto || f->ip_proto != k->ip_proto))
		return false;
	if ((m & XSK_MATCH_PORT) && (!k->has_port || f->port != k->port))
		return false;
	return true;
}

static __always_inline bool selected(struct xdp_md *ctx)
{
	struct frame_key k = {};
	__u32 i;

	frame_key(ctx, &k);
	for (i = 0; i < XSK_MAX_FILTERS; i++) {
		if (i >= targ_nfilters)
			break;
		if (filter_match(&targ_filters[i], &k))
			return true;
	}
	return false;
}

SEC("xdp")
int xdp_to_xsk(struct xdp_md *ctx)
{
	long act;

	if (targ_nfilters && !selected(ctx)) {
		stat_inc(XSK_STAT_PASSED);
		return XDP_PASS;
	}
	/* The low bits of flags are the action when the slot is empty. */
	act = bpf_redirect_map(&xsks, ctx->rx_queue_index, XDP_PASS);
	stat_inc(act == XDP_REDIRECT ? XSK_STAT_STEERED : XSK_STAT_NO_SOCKET);
	return act;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
