// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* flow_floor.bpf.c: the floor of any per-flow counter, for the flowmon
 * benchmark (bench/flowmon/prog_cost.c); not part of sysflow's data paths.
 *
 *   - xdp_floor_hash: a flowmon-sized key (struct flowmon_key), one lookup
 *     in a preallocated BPF hash map, atomic adds of packets and bytes on a
 *     hit, an insert on a miss: what every flow table in a BPF hash map
 *     does per packet, and nothing else;
 *   - xdp_floor_array: no key and no key hashing, one array slot per
 *     flow, found from the flow number prog_cost writes in the low 24 bits
 *     of the source address: one random memory access per packet. One
 *     multiplication scatters consecutive flows over the array (prog_cost
 *     sends flow 0, 1, 2, ...: slots in that order would be a sequential
 *     walk that the prefetcher hides). A slot is a cache line, room for a
 *     flow key beside the two counters, so that the array (8 MiB at
 *     131,072 slots) is as large as the least a flow table must hold.
 *
 * This is a lower bound, not a parser: it reads fixed offsets and assumes
 * prog_cost's layout (untagged Ethernet, IPv4 without options or IPv6
 * without extension headers, L4 ports first), with one bounds check. No
 * VLAN, fragment or header-length handling; sysflow parses with
 * parse.bpf.h, the one parser (included here for its constants only).
 * Frames it cannot key are counted in not_counted, which prog_cost checks.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "parse.bpf.h"
#include "flowmon.h"

/* Fixed offsets in prog_cost's frames. */
#define FLOOR_L3_OFF 14 /* untagged Ethernet */
#define FLOOR_L4_OFF_V4 (FLOOR_L3_OFF + 20) /* IPv4, ihl 5 */
#define FLOOR_L4_OFF_V6 (FLOOR_L3_OFF + 40) /* IPv6, no extension */
#define FLOOR_MIN_LEN (FLOOR_L4_OFF_V6 + 4) /* ports or ICMP type..csum */
#define FLOOR_FLOW_MASK 0xffffff /* flow number in the source address */
#define FLOOR_SCATTER 0x9e3779b1U /* odd: a permutation of the slots */

/* Slots in floor_slots minus 1 (a power of two); set before load. */
const volatile __u32 targ_slot_mask = 0;

struct floor_counts {
	__u64 packets;
	__u64 bytes; /* frame bytes */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1); /* prog_cost sizes it as flowmon's table */
	__type(key, struct flowmon_key);
	__type(value, struct floor_counts);
} floor_flows SEC(".maps");

struct floor_slot {
	struct floor_counts counts;
	__u8 key_room[sizeof(struct flowmon_key)]; /* never touched */
};

_Static_assert(sizeof(struct floor_slot) == 64, "one cache line per flow");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1); /* prog_cost sizes it as flowmon's table */
	__type(key, __u32);
	__type(value, struct floor_slot);
} floor_slots SEC(".maps");

/* Frames neither program could count (not keyed, table full). */
__u64 not_counted = 0;

static __always_inline int floor_missed(void)
{
	__sync_fetch_and_add(&not_counted, 1);
	return XDP_PASS;
}

static __always_inline void floor_add(struct floor_counts *c, __u64 len)
{
	__sync_fetch_and_add(&c->packets, 1);
	__sync_fetch_and_add(&c->bytes, len);
}

/* The key from fixed offsets; ports kept in network order. */
static __always_inline int floor_key(struct xdp_md *ctx,
				     struct flowmon_key *key)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	void *ports;

	if (data + FLOOR_MIN_LEN > end)
		return -1;
	__builtin_memset(key, 0, sizeof(*key));
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = data + FLOOR_L3_OFF;

		__builtin_memcpy(key->saddr, &ip->saddr, 4);
		__builtin_memcpy(key->daddr, &ip->daddr, 4);
		key->proto = ip->protocol;
		key->ip_version = 4;
		ports = data + FLOOR_L4_OFF_V4;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = data + FLOOR_L3_OFF;

		__builtin_memcpy(key->saddr, &ip6->saddr, 16);
		__builtin_memcpy(key->daddr, &ip6->daddr, 16);
		key->proto = ip6->nexthdr;
		key->ip_version = 6;
		ports = data + FLOOR_L4_OFF_V6;
	} else {
		return -1;
	}
	__builtin_memcpy(&key->sport, ports, 4);
	key->ifindex = ctx->ingress_ifindex;
	return 0;
}

SEC("xdp")
int xdp_floor_hash(struct xdp_md *ctx)
{
	__u64 len = ctx->data_end - ctx->data;
	struct floor_counts *c, init = { .packets = 1, .bytes = len };
	struct flowmon_key key;
	long err;

	if (floor_key(ctx, &key))
		return floor_missed();
	c = bpf_map_lookup_elem(&floor_flows, &key);
	if (c) {
		floor_add(c, len);
		return XDP_PASS;
	}
	err = bpf_map_update_elem(&floor_flows, &key, &init, BPF_NOEXIST);
	if (err == 0)
		return XDP_PASS;
	c = err == -EEXIST ? bpf_map_lookup_elem(&floor_flows, &key) : NULL;
	if (!c)
		return floor_missed();
	floor_add(c, len);
	return XDP_PASS;
}

/* The flow number: the last 4 bytes of the source address, IPv4 or 6. */
static __always_inline int floor_flow_number(struct xdp_md *ctx, __u32 *flow)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__be32 *last;

	if (data + FLOOR_MIN_LEN > end)
		return -1;
	if (eth->h_proto == bpf_htons(ETH_P_IP))
		last = &((struct iphdr *)(data + FLOOR_L3_OFF))->saddr;
	else if (eth->h_proto == bpf_htons(ETH_P_IPV6))
		last = &((struct ipv6hdr *)(data + FLOOR_L3_OFF))
				->saddr.in6_u.u6_addr32[3];
	else
		return -1;
	*flow = bpf_ntohl(*last) & FLOOR_FLOW_MASK;
	return 0;
}

static __always_inline __u32 floor_slot_of(__u32 flow)
{
	return (flow * FLOOR_SCATTER) & targ_slot_mask;
}

SEC("xdp")
int xdp_floor_array(struct xdp_md *ctx)
{
	struct floor_slot *slot;
	__u32 flow;

	if (floor_flow_number(ctx, &flow))
		return floor_missed();
	flow = floor_slot_of(flow);
	slot = bpf_map_lookup_elem(&floor_slots, &flow);
	if (!slot)
		return floor_missed(); /* mask past the array */
	floor_add(&slot->counts, ctx->data_end - ctx->data);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
