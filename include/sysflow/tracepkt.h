/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* tracepkt.h: the packet path tracer as a library. Packets that match a
 * filter are followed through the kernel's net, skb, fib and qdisc
 * tracepoints, hop by hop, across devices, namespaces and NAT. Functions
 * return 0 or a negative errno and log the reason through sysflow/log.h.
 */
#ifndef __SYSFLOW_TRACEPKT_H
#define __SYSFLOW_TRACEPKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SF_TRACEPKT_IFNAMSIZ 16
#define SF_TRACEPKT_BUFFER_SIZE (8U << 20) /* ring buffer bytes, default */

struct sf_tracepkt;

/* Options of sf_tracepkt_open(). Fill them with sf_tracepkt_opts_init(),
 * then set what differs: by default every packet is traced, with every
 * tracepoint, tp_btf where the kernel has it. A zeroed struct means the
 * same.
 */
struct sf_tracepkt_opts {
	/* pcap-filter-like expression (see sysflow-tracepkt(8)); NULL or
	 * empty traces every packet.
	 */
	const char *filter;
	/* Only packets first seen on this interface (in any namespace,
	 * unless netns is set too); NULL: any.
	 */
	const char *ifname;
	uint32_t netns; /* only packets first seen in this namespace (inode) */
	bool match_mark; /* only packets with (mark & mark_mask) == mark */
	uint32_t mark;
	uint32_t mark_mask; /* UINT32_MAX (0 too): the whole mark */
	uint32_t max_packets; /* start no trace after this many; 0: no limit */
	bool no_btf; /* plain tracepoints even where tp_btf works */
	/* Tracepoints to attach, from sf_tracepkt_parse_hooks(); 0: all.
	 * Each one costs every packet that passes it, traced or not.
	 */
	uint32_t hooks;
	/* Bytes of the ring buffer hops go through: a power of two of at
	 * least one page; 0: SF_TRACEPKT_BUFFER_SIZE. Hops that do not fit
	 * are counted as lost.
	 */
	uint32_t buffer_size;
};

/* Fill opts with the defaults: no filter, mark_mask UINT32_MAX,
 * buffer_size SF_TRACEPKT_BUFFER_SIZE.
 */
void sf_tracepkt_opts_init(struct sf_tracepkt_opts *opts);

/* One hop of a traced packet. */
struct sf_tracepkt_hop {
	uint32_t trace_id; /* from 1, in the order packets matched */
	uint32_t seq; /* hop number in this packet's path, from 0 */
	uint64_t time_ns; /* CLOCK_MONOTONIC */
	uint64_t delta_ns; /* since the previous hop; 0 on the first */
	const char *hook; /* tracepoint name, e.g. "net_dev_xmit" */
	const char *prev_hook; /* NULL on the first hop */
	uint32_t netns; /* namespace inode, 0 if unknown */
	uint32_t prev_netns;
	uint32_t ifindex; /* 0 if unknown */
	char ifname[SF_TRACEPKT_IFNAMSIZ]; /* "" if unknown */
	char prev_ifname[SF_TRACEPKT_IFNAMSIZ];
	uint32_t len; /* skb->len; 0 for route lookups */
	uint32_t mark;
	uint64_t skbaddr;
	uint32_t cpu;
	bool end; /* the skb was freed: last hop of this packet */
	/* kfree_skb: the drop reason's name from kernel BTF, such as
	 * "NETFILTER_DROP" (NULL elsewhere, or a code BTF does not name)
	 */
	const char *drop_reason;
	uint32_t drop_code; /* kfree_skb: enum skb_drop_reason */
	bool has_rc; /* net_dev_xmit: the driver's return code */
	int32_t rc;
	bool fib; /* fib_table_lookup / fib6_table_lookup */
	uint32_t fib_table;
	int32_t fib_err; /* 0, or a negative errno (-ENETUNREACH, ...) */
	bool qdisc; /* qdisc_enqueue / qdisc_dequeue */
	uint32_t qdisc_handle;
	uint8_t ip_version; /* 4, 6, or 0: headers not read at this hop */
	uint8_t proto;
	uint8_t saddr[16]; /* IPv4 in the first 4 bytes, network order */
	uint8_t daddr[16];
	/* has_l4: the TCP or UDP ports, or the ICMP fields, were read (a
	 * header cut short leaves only the addresses and protocol)
	 */
	bool has_l4;
	uint16_t sport; /* ICMP: echo identifier */
	uint16_t dport; /* ICMP: type << 8 | code */
	/* tcp_probe, and sk_data_ready on a TCP socket: the socket's owner
	 * held it, so the segment was taken from its backlog by the process
	 * (release_sock), not in the softirq that received it
	 */
	bool tcp_socket;
	bool backlog;
	/* last hop of a TCP segment that tcp_add_backlog merged into the
	 * segment queued before it (skb coalesced_into): its identity ends
	 * there, its payload goes on in that skb
	 */
	bool coalesced;
	uint64_t coalesced_into;
};

/* Counters summed over CPUs. */
struct sf_tracepkt_stats {
	uint64_t matched; /* packets that started a trace */
	uint64_t hops; /* hop events written by the kernel side */
	uint64_t lost; /* hop events lost: ring buffer full */
	uint64_t track_full; /* matched packets that could not be followed */
	uint64_t over_count; /* matched after max_packets: not traced */
	/* followed skbs freed without a tracepoint: idle for a second, or
	 * their address taken by another TCP segment
	 */
	uint64_t stale;
	uint64_t coalesced; /* TCP segments merged into another in a backlog */
	/* TCP segments whose delivery could not be followed: more than 16
	 * waiting on one connection
	 */
	uint64_t tcp_full;
};

/* Check a filter expression. Returns 0, or -EINVAL with msg set to
 * "column N: what is wrong" (the column of the offending token).
 */
int sf_tracepkt_filter_check(const char *expr, char *msg, size_t len,
			     int *column);

/* Parse a comma-separated list of tracepoint names ("net_dev_queue,
 * kfree_skb") into a mask for opts.hooks. Returns 0, or -EINVAL after
 * logging the unknown name and the valid ones, or when no listed
 * tracepoint can start a trace.
 */
int sf_tracepkt_parse_hooks(const char *list, uint32_t *mask);

/* Compile the filter, probe the tracepoints (skipping missing ones with a
 * message), load and attach. On failure returns NULL and sets *err.
 */
struct sf_tracepkt *sf_tracepkt_open(const struct sf_tracepkt_opts *opts,
				     int *err);

/* "tp_btf", "tracepoint" or "tp_btf+tracepoint": what is attached. */
const char *sf_tracepkt_mechanism(const struct sf_tracepkt *tp);

/* Number of tracepoints attached. */
int sf_tracepkt_hook_count(const struct sf_tracepkt *tp);

/* Called for each hop; a negative return stops sf_tracepkt_poll(). */
typedef int (*sf_tracepkt_cb)(const struct sf_tracepkt_hop *hop, void *ctx);

/* Wait up to timeout_ms for hops and hand each to cb. Returns the number
 * handled, or a negative errno (a signal is not an error: 0).
 */
int sf_tracepkt_poll(struct sf_tracepkt *tp, int timeout_ms, sf_tracepkt_cb cb,
		     void *ctx);

/* Counters summed over CPUs. Returns 0 or a negative errno (the stats map
 * could not be read; st is then left as it was).
 */
int sf_tracepkt_get_stats(struct sf_tracepkt *tp, struct sf_tracepkt_stats *st);

/* Lost hop events per CPU into out[0..max); returns the number of CPUs. */
int sf_tracepkt_lost_per_cpu(struct sf_tracepkt *tp, uint64_t *out, int max);

/* Detach and free everything. */
void sf_tracepkt_close(struct sf_tracepkt *tp);

/* ---- per-hop latency statistics (--summary) ---- */

struct sf_tracepkt_summary;

/* Statistics of the delay between two consecutive hops, e.g. from
 * net_dev_xmit on veth0 to netif_rx on its peer.
 */
struct sf_tracepkt_hop_stats {
	const char *from; /* hook names */
	const char *to;
	char from_ifname[SF_TRACEPKT_IFNAMSIZ];
	char to_ifname[SF_TRACEPKT_IFNAMSIZ];
	uint32_t from_netns;
	uint32_t to_netns;
	uint64_t count;
	uint64_t min_ns;
	uint64_t median_ns; /* nearest rank */
	uint64_t p99_ns; /* nearest rank */
	uint64_t max_ns;
};

struct sf_tracepkt_summary *sf_tracepkt_summary_new(void);

/* Account hop's delay from the hop before it; first hops are skipped. */
int sf_tracepkt_summary_add(struct sf_tracepkt_summary *s,
			    const struct sf_tracepkt_hop *hop);

/* Number of distinct hop pairs, in the order they were first seen. */
size_t sf_tracepkt_summary_len(const struct sf_tracepkt_summary *s);

/* Statistics of pair i (0 <= i < len). */
int sf_tracepkt_summary_get(struct sf_tracepkt_summary *s, size_t i,
			    struct sf_tracepkt_hop_stats *out);

void sf_tracepkt_summary_free(struct sf_tracepkt_summary *s);

#ifdef __cplusplus
}
#endif

#endif /* __SYSFLOW_TRACEPKT_H */
