/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* xsk_int.h: private state of the AF_XDP part, shared by the UMEM and pool
 * (umem.c), the per-interface XDP program (steer.c) and the sockets and
 * data path (xsk.c).
 */
#ifndef __SYSFLOW_XSK_INT_H
#define __SYSFLOW_XSK_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <net/if.h>
#include <linux/types.h>
#include <xdp/xsk.h>
#include <sysflow/xsk.h>
#include "xsk.h"

/* ---- UMEM and pool (umem.c) ---- */

struct sf_xsk_umem {
	uint8_t *area; /* chunk_count chunks of chunk_size bytes */
	uint64_t size;
	uint32_t chunk_size;
	uint32_t chunk_count;
	uint32_t fill_size;
	uint32_t comp_size;
	struct xsk_umem *umem;
	/* Rings libxdp maps when the UMEM is registered; libxdp copies them
	 * into the first socket's own ring structs.
	 */
	struct xsk_ring_prod fq0;
	struct xsk_ring_cons cq0;
	uint64_t *stack; /* LIFO of free chunk addresses (UMEM offsets) */
	uint32_t n_free;
	uint32_t users; /* open sockets */
	uint32_t sockets; /* sockets ever bound: the first owns the UMEM fd */
	bool need_wakeup; /* bind flag of the first socket, inherited */
	uint64_t double_frees; /* pushes onto a full stack, refused */
};

static inline bool xsk_pool_get(struct sf_xsk_umem *u, uint64_t *addr)
{
	if (!u->n_free)
		return false;
	*addr = u->stack[--u->n_free];
	return true;
}

/* Any address inside a chunk gives the chunk back (aligned mode). */
static inline void xsk_pool_put(struct sf_xsk_umem *u, uint64_t addr)
{
	if (u->n_free == u->chunk_count) {
		u->double_frees++;
		return;
	}
	u->stack[u->n_free++] = addr & ~((uint64_t)u->chunk_size - 1);
}

static inline bool xsk_is_pow2(uint32_t v)
{
	return v && !(v & (v - 1));
}

/* Check sizes and fill in defaults; who prefixes messages. */
int xsk_umem_opts_check(struct sf_xsk_umem_opts *o, const char *who);
struct sf_xsk_umem *xsk_umem_new(const struct sf_xsk_umem_opts *opts,
				 const char *who, int *err);
/* Register a fresh libxdp UMEM on the same area (after a failed first
 * bind, libxdp's UMEM cannot be bound again).
 */
int xsk_umem_reset(struct sf_xsk_umem *u, const char *who);
void xsk_umem_free(struct sf_xsk_umem *u);

/* ---- the XDP program of an interface (steer.c) ---- */

struct xsk_steer;

/* Attach (or share, when this process already attached it) the redirect
 * program to ifindex with these filters. need_native: the socket is
 * zero-copy, so generic mode would never see its frames.
 */
int xsk_steer_get(const char *who, const char *ifname, int ifindex,
		  uint32_t queues, const struct sf_xsk_opts *opts,
		  bool need_native, struct xsk_steer **out);
void xsk_steer_put(struct xsk_steer *s);
int xsk_steer_add(struct xsk_steer *s, struct xsk_socket *sock,
		  const char *who);
void xsk_steer_del(struct xsk_steer *s, uint32_t queue);
enum sf_xsk_attach xsk_steer_mode(const struct xsk_steer *s);
int xsk_steer_stats(const struct xsk_steer *s, uint64_t out[XSK_STAT_MAX]);

/* Queues of an interface (ETHTOOL_GCHANNELS; 1 when it has no channels). */
int xsk_queue_count(const char *ifname);
/* The interface's driver ("veth"), or "?". */
const char *xsk_driver_name(const char *ifname, char *buf, size_t len);

/* ---- a socket (xsk.c) ---- */

struct sf_xsk {
	struct sf_xsk_umem *umem;
	struct xsk_socket *sock;
	struct xsk_ring_cons rx;
	struct xsk_ring_prod tx;
	struct xsk_ring_prod fq;
	struct xsk_ring_cons cq;
	int fd;
	uint32_t queue;
	uint32_t tx_size;
	uint32_t tx_in_flight;
	bool need_wakeup;
	bool busy_poll;
	bool busy_poll_checked; /* the socket's NAPI id looked at */
	bool zerocopy;
	bool private_umem;
	bool in_map; /* the XSKMAP slot points at this socket */
	struct xsk_steer *steer;
	int ifindex;
	char ifname[IF_NAMESIZE];
	char who[IF_NAMESIZE + 24]; /* "veth1 queue 0" for messages */
	uint64_t rx_count;
	uint64_t tx_count;
	uint64_t tx_completed;
	uint64_t tx_kick_errors;
	uint64_t tx_device_dropped;
};

#endif /* __SYSFLOW_XSK_INT_H */
