/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* flowmon.h: the XDP network flow monitor as a library: load the XDP
 * program, attach it to interfaces, replay pcaps through it, and sweep the
 * flow table for flows that ended. Functions return 0 or a negative errno
 * and log the reason through sysflow/log.h.
 */
#ifndef __SYSFLOW_FLOWMON_H
#define __SYSFLOW_FLOWMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct sf_flowmon;

/* How the parsers are chained (see docs/flowmon.md and bench/flowmon). */
enum sf_pipeline {
	SF_PIPELINE_SINGLE = 0, /* one program, parsers as static functions */
	SF_PIPELINE_TAIL_META, /* tail calls, state in data_meta */
	SF_PIPELINE_TAIL_MAP, /* tail calls, state in a per-CPU map */
};

enum sf_xdp_mode {
	SF_XDP_SKB = 0, /* generic mode, works on every interface */
	SF_XDP_NATIVE, /* driver mode */
};

/* Protocol selection bits (-p); same order as the BPF side's enum. */
enum sf_proto {
	SF_PROTO_ETH = 1 << 0,
	SF_PROTO_IPV4 = 1 << 1,
	SF_PROTO_IPV6 = 1 << 2,
	SF_PROTO_TCP = 1 << 3,
	SF_PROTO_UDP = 1 << 4,
	SF_PROTO_ICMP = 1 << 5,
	SF_PROTO_ICMPV6 = 1 << 6,
	SF_PROTO_ALL = (1 << 7) - 1,
};

/* IPFIX flowEndReason values (RFC 5102, IE 136). */
enum sf_flow_end {
	SF_END_IDLE = 1,
	SF_END_ACTIVE = 2,
	SF_END_DETECTED = 3, /* FIN or RST seen */
	SF_END_FORCED = 4, /* shutdown or end of pcap */
	SF_END_LACK_OF_RESOURCES = 5, /* evicted from a nearly full table */
};

enum sf_dpi_kind {
	SF_DPI_NONE = 0,
	SF_DPI_DNS,
	SF_DPI_HTTP,
	SF_DPI_TLS,
	SF_DPI_SSH,
	SF_DPI_MAX, /* the number of kinds */
};

/* One unidirectional flow, as exported. */
struct sf_flow {
	uint8_t ip_version; /* 4 or 6 */
	uint8_t proto;
	uint8_t saddr[16]; /* IPv4 in the first 4 bytes, network order */
	uint8_t daddr[16];
	uint16_t sport; /* ICMP: echo identifier or 0 */
	uint16_t dport; /* ICMP: type << 8 | code */
	uint32_t ifindex; /* 0 for flows read from a pcap */
	uint16_t vlan_id;
	uint16_t inner_vlan_id;
	uint64_t packets;
	uint64_t bytes; /* IP total lengths */
	uint64_t start_ms; /* epoch milliseconds */
	uint64_t end_ms;
	uint8_t tcp_flags;
	uint8_t tos;
	uint8_t min_ttl;
	uint8_t max_ttl;
	uint16_t min_ip_len;
	uint16_t max_ip_len;
	uint16_t min_tcp_window;
	uint16_t max_tcp_window;
	uint8_t end_reason; /* enum sf_flow_end; 0 for a live snapshot */
	uint8_t dpi_kind; /* enum sf_dpi_kind */
	uint8_t dns_rcode;
	uint16_t dns_qtype;
	char http_method[8];
	char name[64]; /* DNS query name, HTTP Host, TLS SNI or SSH ident */
	uint32_t tcp_syns; /* TCP segments with SYN (more than one: retries) */
	uint32_t tcp_rsts; /* TCP segments with RST */
};

/* Counters: the first block is the BPF side's per-CPU counters summed over
 * CPUs, in the order of enum flowmon_stat; the rest is kept in user space.
 */
struct sf_flowmon_stats {
	uint64_t packets; /* packets the program saw */
	uint64_t accounted; /* packets added to a flow */
	uint64_t flows_created;
	uint64_t table_full; /* dropped from accounting: table full */
	uint64_t truncated; /* ... a header was cut short */
	uint64_t malformed; /* ... a header field was invalid */
	uint64_t not_ip; /* ... neither IPv4 nor IPv6 */
	uint64_t proto_skipped; /* ... protocol not selected with -p */
	uint64_t flow_race; /* ... flow removed while being inserted */
	uint64_t meta_failed; /* ... no room for data_meta */
	uint64_t fragments; /* non-first fragments (accounted) */
	uint64_t frag_unmatched; /* ... whose first fragment was not seen */
	uint64_t dpi_done;
	uint64_t dpi_failed;
	/* user side */
	uint64_t flows_exported;
	uint64_t flows_active; /* entries in the table at the last sweep */
};

/* Defaults of struct sf_flowmon_opts. */
#define SF_FLOWMON_MAX_FLOWS 65536
#define SF_FLOWMON_IDLE_TIMEOUT_S 15
#define SF_FLOWMON_ACTIVE_TIMEOUT_S 1800

/* Options of sf_flowmon_open(). Fill them with sf_flowmon_opts_init(),
 * then set what differs; a field left 0 also means its default.
 */
struct sf_flowmon_opts {
	enum sf_pipeline pipeline; /* SF_PIPELINE_SINGLE */
	unsigned int protocols; /* SF_PROTO_* bits; SF_PROTO_ALL (0: all) */
	bool dpi; /* tail call the DNS/HTTP/TLS/SSH inspectors (false) */
	uint32_t max_flows; /* flow table size (SF_FLOWMON_MAX_FLOWS) */
	const char *pin_dir; /* pin maps here; NULL: no pinning */
	const char *reuse_map; /* pinned flow map to reuse (-M); NULL */
	bool offline; /* replay pcaps instead of attaching (false) */
	uint32_t idle_timeout_s; /* SF_FLOWMON_IDLE_TIMEOUT_S */
	uint32_t active_timeout_s; /* SF_FLOWMON_ACTIVE_TIMEOUT_S */
};

/* Fill opts with the defaults above. */
void sf_flowmon_opts_init(struct sf_flowmon_opts *opts);

/* Called for each exported flow; a negative return stops the walk. */
typedef int (*sf_flow_cb)(const struct sf_flow *flow, void *ctx);

/* Load the BPF program and maps. On failure returns NULL and sets *err. */
struct sf_flowmon *sf_flowmon_open(const struct sf_flowmon_opts *opts,
				   int *err);

/* Attach to an interface. force replaces a foreign XDP program. */
int sf_flowmon_attach(struct sf_flowmon *fm, const char *ifname,
		      enum sf_xdp_mode mode, bool force);

/* Export and remove flows that ended (FIN/RST, idle, active timeout, table
 * pressure), judged against now_ns on the program's clock. Returns the
 * number exported.
 */
int sf_flowmon_sweep(struct sf_flowmon *fm, uint64_t now_ns, sf_flow_cb cb,
		     void *ctx);

/* Export and remove every flow with flowEndReason "forced end". */
int sf_flowmon_flush(struct sf_flowmon *fm, sf_flow_cb cb, void *ctx);

/* Visit every live flow without removing it (end_reason 0). */
int sf_flowmon_snapshot(struct sf_flowmon *fm, sf_flow_cb cb, void *ctx);

/* The program's clock now (CLOCK_MONOTONIC ns, or the last pcap time). */
uint64_t sf_flowmon_now(struct sf_flowmon *fm);

/* Counters summed over CPUs. Returns 0 or a negative errno (the stats map
 * could not be read); st is filled either way.
 */
int sf_flowmon_get_stats(struct sf_flowmon *fm, struct sf_flowmon_stats *st);

/* Offline: run one frame through the program with ts_ns (epoch) as clock. */
int sf_flowmon_run_packet(struct sf_flowmon *fm, const void *frame, size_t len,
			  uint64_t ts_ns);

/* Offline: run every frame of a pcap file through the program, sweeping on
 * the pcap's clock, then flush. A corrupt or truncated file exports what
 * was read, then returns -EBADMSG with the offset in *bad_offset.
 */
int sf_flowmon_replay_pcap(struct sf_flowmon *fm, const char *path,
			   sf_flow_cb cb, void *ctx, long *bad_offset);

/* Progress of a replay, about once a second: bytes of the file read, its
 * size (0 when unknown, e.g. a pipe) and the packets so far.
 */
typedef void (*sf_replay_progress_cb)(uint64_t done, uint64_t size,
				      uint64_t packets, void *ctx);
void sf_flowmon_set_progress(struct sf_flowmon *fm, sf_replay_progress_cb cb,
			     void *ctx);

/* Ask a replay to end after the packet it is on (async-signal-safe, e.g.
 * from a SIGINT handler): the flows so far are flushed as at the end of
 * the file, and sf_flowmon_replay_pcap() returns -EINTR.
 */
void sf_flowmon_stop(struct sf_flowmon *fm);

/* The entry program's fd (xdp_flowmon or flowmon_start), e.g. for
 * BPF_PROG_TEST_RUN with repeat in benchmarks.
 */
int sf_flowmon_prog_fd(struct sf_flowmon *fm);

/* Packets seen by the program since open (test mode, -t). */
uint64_t sf_flowmon_packets(struct sf_flowmon *fm);

/* How many of the attached interfaces the program is still attached to.
 * The kernel detaches an XDP link when its interface is deleted (`ip link
 * del`); each interface that went away is named once (a warning). The
 * flows it saw stay in the table for the next sweep or flush.
 */
int sf_flowmon_attached(struct sf_flowmon *fm);

/* Detach, remove the pins this instance made, free everything. */
void sf_flowmon_close(struct sf_flowmon *fm);

/* Parse "eth,ipv4,tcp,..." into SF_PROTO_* bits; names the bad entry.
 * -EINVAL too for a list that leaves out what one of its protocols is
 * parsed on (eth; ipv4 or ipv6 under tcp and udp; ipv4 under icmp, ipv6
 * under icmpv6): it would count nothing of that protocol.
 */
int sf_flowmon_parse_protocols(const char *list, unsigned int *bits);

/* "idle", "active", "end-of-flow", "forced", "lack-of-resources". */
const char *sf_flow_end_name(uint8_t reason);

#ifdef __cplusplus
}
#endif

#endif /* __SYSFLOW_FLOWMON_H */
