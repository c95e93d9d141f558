/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* xsk.h: AF_XDP packet I/O. A UMEM is an area of fixed-size chunks with a
 * packet pool on top; a socket (struct sf_xsk) binds one queue of one
 * interface and receives what libsysflow's own XDP program steers to it,
 * while every other frame goes on to the kernel stack.
 *
 * Data path: sf_xsk_recv() and sf_xsk_send() work in batches, never block,
 * never sleep and never allocate; sf_xsk_fd() serves poll/epoll. A sent
 * frame's chunk returns to the pool only when the kernel's completion ring
 * hands it back. Control path functions return 0 or a negative errno (or
 * NULL and *err) and log the reason, naming the interface, the queue and
 * the kernel's words, through sysflow/log.h.
 *
 * Threads: a socket, and every socket sharing its UMEM, belong to one
 * thread at a time. Sockets with their own UMEMs may run on separate
 * threads.
 */
#ifndef __SYSFLOW_XSK_H
#define __SYSFLOW_XSK_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct sf_xsk;
struct sf_xsk_umem;

/* Defaults of struct sf_xsk_umem_opts and struct sf_xsk_opts, filled by
 * their _init() functions; a field left 0 also means its default.
 */
#define SF_XSK_CHUNK_SIZE 2048
#define SF_XSK_RING_SIZE 1024
/* The stock of the four default rings (sf_xsk_chunks_needed()): 8 MiB,
 * just the usual 8 MiB RLIMIT_MEMLOCK without CAP_IPC_LOCK.
 */
#define SF_XSK_CHUNK_COUNT (4 * SF_XSK_RING_SIZE)
#define SF_XSK_BUSY_POLL_BUDGET 64

#define SF_XSK_HEADROOM 256 /* offset of a frame from sf_xsk_alloc() */
#define SF_XSK_MAX_FILTERS 8

/* ---- UMEM and packet pool ---- */

struct sf_xsk_umem_opts {
	uint32_t chunk_size; /* power of two, 2048 to the page size */
	uint32_t chunk_count; /* sf_xsk_chunks_needed() for each socket */
	uint32_t fill_size; /* fill ring of each socket; power of two */
	uint32_t comp_size; /* completion ring of each socket; power of two */
};

/* Fill opts with the defaults: SF_XSK_CHUNK_SIZE, SF_XSK_CHUNK_COUNT,
 * SF_XSK_RING_SIZE for both rings.
 */
void sf_xsk_umem_opts_init(struct sf_xsk_umem_opts *opts);

/* A UMEM to share between sockets (opts.umem), on several queues or
 * interfaces: a frame received on one may be sent on another without a
 * copy. Destroy it after its sockets; it returns -EBUSY while one is open.
 * The queue of its first socket stays bound until it is destroyed.
 */
struct sf_xsk_umem *sf_xsk_umem_create(const struct sf_xsk_umem_opts *opts,
				       int *err);
/* Free a UMEM that no socket uses any more (NULL: nothing). Returns 0, or
 * -EBUSY, logged, while sockets still use it.
 */
int sf_xsk_umem_destroy(struct sf_xsk_umem *umem);

/* Chunks in the pool (neither in a ring, in flight nor held by the
 * application), and the pool's size.
 */
uint32_t sf_xsk_umem_free_count(const struct sf_xsk_umem *umem);
uint32_t sf_xsk_umem_size(const struct sf_xsk_umem *umem);

/* ---- sockets ---- */

enum sf_xsk_attach {
	SF_XSK_ATTACH_AUTO = 0, /* native if the driver has it, else generic */
	SF_XSK_ATTACH_NATIVE, /* XDP in the driver */
	SF_XSK_ATTACH_GENERIC, /* XDP on the skb path, every interface */
};

enum sf_xsk_copy {
	SF_XSK_COPY_AUTO = 0, /* zero-copy where the driver has it, else copy */
	SF_XSK_COPY,
	SF_XSK_ZEROCOPY, /* fails with EOPNOTSUPP where the driver lacks it */
};

/* What to steer into the socket. port is the UDP or TCP destination port,
 * the ICMP or ICMPv6 message type, or the ARP opcode (host order), used
 * when match_port is set. IP fragments are never steered.
 *   all UDP to port 7:  { .ip_proto = IPPROTO_UDP, .match_port = true,
 *                         .port = 7 }
 *   ARP requests:       { .eth_proto = ETH_P_ARP, .match_port = true,
 *                         .port = 1 }
 */
struct sf_xsk_filter {
	uint16_t eth_proto; /* EtherType, host order; 0: any */
	uint8_t ip_proto; /* IPPROTO_*; 0: any */
	bool match_port;
	uint16_t port;
};

struct sf_xsk_opts {
	uint32_t queue;
	struct sf_xsk_umem *umem; /* shared UMEM; NULL: a private one */
	/* for the private UMEM; chunk_count 0: sf_xsk_chunks_needed() */
	struct sf_xsk_umem_opts umem_opts;
	uint32_t rx_size; /* power of two */
	uint32_t tx_size; /* power of two */
	enum sf_xsk_attach attach;
	enum sf_xsk_copy copy;
	bool no_need_wakeup; /* need_wakeup is used unless this is set */
	bool busy_poll; /* preferred busy polling: recv/send drive the NAPI */
	uint32_t busy_poll_budget;
	/* Frames to steer to the socket; none: every frame. Every queue of
	 * an interface must be opened with the same filters and mode: there
	 * is one XDP program per interface.
	 */
	const struct sf_xsk_filter *filters;
	uint32_t n_filters;
};

/* Fill opts with the defaults: queue 0, a private UMEM of
 * sf_xsk_umem_opts_init(), SF_XSK_RING_SIZE rings, auto attach and copy
 * modes, need_wakeup, no busy polling (budget SF_XSK_BUSY_POLL_BUDGET), no
 * filters.
 */
void sf_xsk_opts_init(struct sf_xsk_opts *opts);

/* The chunks a socket opened with opts can hold outside the pool at once,
 * so a UMEM needs them to keep its fill ring full: the fill ring's, the rx
 * ring's (received, not yet read), the tx ring's (queued) and the
 * completion ring's (taken by the kernel, not yet completed), 0 meaning
 * the default size. With fewer, chunks in flight on transmit leave the
 * fill ring short: the kernel drops frames as 'fill ring empty' while the
 * rx ring still has room. sf_xsk_open() warns then (private UMEM).
 */
uint32_t sf_xsk_chunks_needed(const struct sf_xsk_opts *opts);

/* A frame in a UMEM chunk. data may move within the chunk (to prepend a
 * header) as long as room is adjusted alike.
 */
struct sf_xsk_pkt {
	uint8_t *data; /* first byte of the frame */
	uint32_t len; /* frame length */
	uint32_t room; /* bytes from data to the end of the chunk */
};

struct sf_xsk_info {
	char ifname[16];
	int ifindex;
	uint32_t queue;
	enum sf_xsk_attach attach; /* NATIVE or GENERIC: what is attached */
	bool zerocopy;
	bool need_wakeup;
	bool busy_poll;
	bool shared_umem;
};

struct sf_xsk_stats {
	uint64_t rx; /* frames returned by sf_xsk_recv() */
	uint64_t tx; /* frames accepted by sf_xsk_send() */
	uint64_t tx_completed; /* ... handed back by the completion ring */
	uint64_t tx_kick_errors; /* sendto() wake-ups that failed */
	/* ... taken, then dropped by the device (copy mode: sendto() said
	 * EBUSY, the kernel's NET_XMIT_DROP, e.g. no carrier); counted in tx
	 * and tx_completed too, but never sent
	 */
	uint64_t tx_device_dropped;
	/* the kernel's XDP_STATISTICS for this socket */
	uint64_t rx_dropped;
	uint64_t rx_ring_full;
	uint64_t fill_ring_empty;
	uint64_t tx_ring_empty;
	uint64_t rx_invalid;
	uint64_t tx_invalid;
	/* the interface's XDP program, all queues */
	uint64_t xdp_steered;
	uint64_t xdp_passed;
	uint64_t xdp_no_socket;
	/* the pool of the socket's UMEM */
	uint32_t pool_free;
	uint32_t pool_size;
	uint32_t tx_in_flight; /* sent, not yet completed */
};

/* Bind queue opts->queue of ifname, attaching the XDP program to the
 * interface unless another socket of this process already did. On failure
 * returns NULL with *err set; nothing stays attached.
 */
struct sf_xsk *sf_xsk_open(const char *ifname, const struct sf_xsk_opts *opts,
			   int *err);

/* Unbind, detach the XDP program if this was the interface's last socket
 * and free a private UMEM. Leaves nothing attached or pinned.
 */
void sf_xsk_close(struct sf_xsk *xsk);

/* Readable (POLLIN) when frames wait in the rx ring. */
int sf_xsk_fd(const struct sf_xsk *xsk);

void sf_xsk_get_info(const struct sf_xsk *xsk, struct sf_xsk_info *info);

/* The socket's counters, the kernel's XDP_STATISTICS and the XDP
 * program's. Returns 0 or a negative errno from reading the kernel's.
 */
int sf_xsk_get_stats(const struct sf_xsk *xsk, struct sf_xsk_stats *st);

/* "native"/"generic"/"auto". */
const char *sf_xsk_attach_name(enum sf_xsk_attach attach);

/* ---- data path ---- */

/* Up to max received frames; the caller owns them until it sends or frees
 * them. Refills the fill ring from the pool first.
 */
unsigned int sf_xsk_recv(struct sf_xsk *xsk, struct sf_xsk_pkt *pkts,
			 unsigned int max);

/* Queue frames for transmission and wake the kernel. Returns how many of
 * the first n were taken (fewer when the tx ring is full, or at the first
 * frame outside this socket's UMEM); the caller still owns the rest.
 */
unsigned int sf_xsk_send(struct sf_xsk *xsk, const struct sf_xsk_pkt *pkts,
			 unsigned int n);

/* Take up to n empty chunks from the pool (frame at SF_XSK_HEADROOM). */
unsigned int sf_xsk_alloc(struct sf_xsk *xsk, struct sf_xsk_pkt *pkts,
			  unsigned int n);

/* Give frames back to the pool of the socket's UMEM. */
void sf_xsk_free(struct sf_xsk *xsk, const struct sf_xsk_pkt *pkts,
		 unsigned int n);

/* Push queued frames to the kernel and return completed chunks to the
 * pool. Returns the number of frames still in flight.
 */
unsigned int sf_xsk_complete(struct sf_xsk *xsk);

/* sf_xsk_complete() until nothing is in flight or timeout_ms passed (a
 * control path call, for shutdown). Returns the frames still in flight.
 */
unsigned int sf_xsk_flush(struct sf_xsk *xsk, int timeout_ms);

#ifdef __cplusplus
}
#endif

#endif /* __SYSFLOW_XSK_H */
