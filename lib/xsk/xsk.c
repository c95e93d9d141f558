// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* xsk.c: AF_XDP sockets over libxdp's xsk API: open (check, UMEM, bind,
 * steer), the batch data path and statistics. libxdp is told never to load
 * its own program (XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD): steer.c attaches
 * ours, which passes unselected frames to the kernel stack.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/if_xdp.h>
#include "core/core.h"
#include "xsk_int.h"

#ifndef SOL_XDP
#define SOL_XDP 283
#endif
#ifndef SO_PREFER_BUSY_POLL
#define SO_PREFER_BUSY_POLL 69
#endif
#ifndef SO_BUSY_POLL_BUDGET
#define SO_BUSY_POLL_BUDGET 70
#endif
#ifndef SO_INCOMING_NAPI_ID
#define SO_INCOMING_NAPI_ID 56
#endif

#define BUSY_POLL_USECS 20

const char *sf_xsk_attach_name(enum sf_xsk_attach attach)
{
	switch (attach) {
	case SF_XSK_ATTACH_NATIVE:
		return "native";
	case SF_XSK_ATTACH_GENERIC:
		return "generic";
	default:
		return "auto";
	}
}

/* ---- the data path ---- */

static inline bool in_umem(const struct sf_xsk_umem *u, const uint8_t *p)
{
	return p >= u->area && p < u->area + u->size;
}

/* Completed frames: their chunks go back to the pool. */
static uint32_t reap(struct sf_xsk *x)
{
	struct sf_xsk_umem *u = x->umem;
	uint32_t idx, n, i;

	n = xsk_ring_cons__peek(&x->cq, u->comp_size, &idx);
	if (!n)
		return 0;
	for (i = 0; i < n; i++)
		xsk_pool_put(u, *xsk_ring_cons__comp_addr(&x->cq, idx + i));
	xsk_ring_cons__release(&x->cq, n);
	x->tx_in_flight -= n < x->tx_in_flight ? n : x->tx_in_flight;
	x->tx_completed += n;
	return n;
}

/* Give the fill ring every free slot the pool can cover. */
static void fill(struct sf_xsk *x)
{
	struct sf_xsk_umem *u = x->umem;
	uint32_t idx, n, i;

	n = xsk_prod_nb_free(&x->fq, u->fill_size);
	if (n > u->n_free)
		n = u->n_free;
	if (!n || xsk_ring_prod__reserve(&x->fq, n, &idx) != n)
		return;
	for (i = 0; i < n; i++)
		*xsk_ring_prod__fill_addr(&x->fq, idx + i) =
			u->stack[--u->n_free];
	xsk_ring_prod__submit(&x->fq, n);
}

static bool tx_ring_empty(struct sf_xsk *x)
{
	return xsk_prod_nb_free(&x->tx, x->tx_size) >= x->tx_size;
}

/* Wake the kernel to send. In copy mode sendto() does the sending, 32
 * frames per call (TX_BATCH_SIZE in net/xdp/xsk.c), and says EAGAIN while
 * frames remain, or when the completion ring or the socket's send buffer
 * is full (frames not completed yet), or the device is busy; the frames
 * stay in the tx ring. EBUSY means the device dropped the frame it was
 * given (__dev_direct_xmit() said NET_XMIT_DROP: no carrier, a full peer
 * queue) and sendto() stopped there: one frame, which still completes,
 * so it is counted apart or it would pass for sent. Call again while that
 * makes progress; a device pushing back ends the loop, the frames stay
 * queued for the next call: never a busy wait.
 */
static void kick_tx(struct sf_xsk *x)
{
	uint32_t before, after;

	for (;;) {
		before = xsk_prod_nb_free(&x->tx, x->tx_size);
		if (sendto(x->fd, NULL, 0, MSG_DONTWAIT, NULL, 0) >= 0)
			return;
		if (errno == EBUSY && !x->zerocopy) {
			x->tx_device_dropped++;
		} else if (errno != EAGAIN && errno != EBUSY &&
			   errno != ENOBUFS) {
			x->tx_kick_errors++;
			return;
		}
		if (reap(x)) /* a full completion ring may have stopped it */
			continue;
		after = xsk_prod_nb_free(&x->tx, x->tx_size);
		if (after >= x->tx_size || after == before)
			return;
	}
}

/* Busy polling polls the NAPI whose id the socket holds. Before Linux
 * 6.13 the first received frame gave it; since then (commit "xsk: Bring
 * back busy polling support") only bind() does, and only for zero-copy
 * sockets: a copy-mode socket (veth, generic XDP) never has one, and
 * recvfrom()/sendto() would spin without polling anything. Looked at once
 * frames have arrived; without an id, busy polling is turned off and the
 * socket is woken as usual.
 */
static void check_busy_poll(struct sf_xsk *x)
{
	unsigned int id = 0;
	socklen_t len = sizeof(id);

	x->busy_poll_checked = true;
	if (getsockopt(x->fd, SOL_SOCKET, SO_INCOMING_NAPI_ID, &id, &len) ||
	    id) /* cannot tell: leave it as asked */
		return;
	x->busy_poll = false;
	pr_warn("%s: busy polling off: the socket has no NAPI to poll (%s; "
		"since Linux 6.13 only zero-copy sockets get one); woken by "
		"the kernel instead\n",
		x->who, x->zerocopy ? "zero-copy" : "copy mode");
}

unsigned int sf_xsk_recv(struct sf_xsk *x, struct sf_xsk_pkt *pkts,
			 unsigned int max)
{
	struct sf_xsk_umem *u = x->umem;
	uint32_t idx, n, i, off;

	if (x->tx_in_flight)
		reap(x);
	fill(x);
	if (x->busy_poll ||
	    (x->need_wakeup && xsk_ring_prod__needs_wakeup(&x->fq)))
		recvfrom(x->fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
	n = xsk_ring_cons__peek(&x->rx, max, &idx);
	for (i = 0; i < n; i++) {
		const struct xdp_desc *d =
			xsk_ring_cons__rx_desc(&x->rx, idx + i);

		off = d->addr & (u->chunk_size - 1);
		pkts[i].data = u->area + d->addr;
		pkts[i].len = d->len;
		pkts[i].room = u->chunk_size - off;
	}
	if (n) {
		xsk_ring_cons__release(&x->rx, n);
		x->rx_count += n;
		if (x->busy_poll && !x->busy_poll_checked)
			check_busy_poll(x);
	}
	return n;
}

unsigned int sf_xsk_send(struct sf_xsk *x, const struct sf_xsk_pkt *pkts,
			 unsigned int n)
{
	struct sf_xsk_umem *u = x->umem;
	uint32_t idx, i, ok;

	if (x->tx_in_flight)
		reap(x);
	for (ok = 0; ok < n; ok++)
		if (!in_umem(u, pkts[ok].data) || pkts[ok].len > pkts[ok].room)
			break;
	i = xsk_prod_nb_free(&x->tx, ok);
	if (ok > i)
		ok = i;
	if (!ok || xsk_ring_prod__reserve(&x->tx, ok, &idx) != ok) {
		if (n)
			kick_tx(x); /* full ring: make the kernel progress */
		return 0;
	}
	for (i = 0; i < ok; i++) {
		struct xdp_desc *d = xsk_ring_prod__tx_desc(&x->tx, idx + i);

		d->addr = pkts[i].data - u->area;
		d->len = pkts[i].len;
		d->options = 0;
	}
	xsk_ring_prod__submit(&x->tx, ok);
	x->tx_in_flight += ok;
	x->tx_count += ok;
	if (!x->need_wakeup || x->busy_poll ||
	    xsk_ring_prod__needs_wakeup(&x->tx))
		kick_tx(x);
	return ok;
}

unsigned int sf_xsk_alloc(struct sf_xsk *x, struct sf_xsk_pkt *pkts,
			  unsigned int n)
{
	struct sf_xsk_umem *u = x->umem;
	uint64_t addr;
	unsigned int i;

	for (i = 0; i < n && xsk_pool_get(u, &addr); i++) {
		pkts[i].data = u->area + addr + SF_XSK_HEADROOM;
		pkts[i].len = 0;
		pkts[i].room = u->chunk_size - SF_XSK_HEADROOM;
	}
	return i;
}

void sf_xsk_free(struct sf_xsk *x, const struct sf_xsk_pkt *pkts,
		 unsigned int n)
{
	struct sf_xsk_umem *u = x->umem;

	for (unsigned int i = 0; i < n; i++)
		if (in_umem(u, pkts[i].data))
			xsk_pool_put(u, pkts[i].data - u->area);
}

unsigned int sf_xsk_complete(struct sf_xsk *x)
{
	if (!tx_ring_empty(x))
		kick_tx(x);
	reap(x);
	return x->tx_in_flight;
}

unsigned int sf_xsk_flush(struct sf_xsk *x, int timeout_ms)
{
	uint64_t end = sf_clock_ns(CLOCK_MONOTONIC) +
		       (timeout_ms > 0 ? timeout_ms : 0) * 1000000ULL;
	struct pollfd p = { .fd = x->fd, .events = POLLOUT };

	while (sf_xsk_complete(x) && sf_clock_ns(CLOCK_MONOTONIC) < end)
		poll(&p, 1, 1);
	return x->tx_in_flight;
}

/* ---- control path ---- */

int sf_xsk_fd(const struct sf_xsk *x)
{
	return x->fd;
}

void sf_xsk_get_info(const struct sf_xsk *x, struct sf_xsk_info *info)
{
	memset(info, 0, sizeof(*info));
	snprintf(info->ifname, sizeof(info->ifname), "%s", x->ifname);
	info->ifindex = x->ifindex;
	info->queue = x->queue;
	info->attach = xsk_steer_mode(x->steer);
	info->zerocopy = x->zerocopy;
	info->need_wakeup = x->need_wakeup;
	info->busy_poll = x->busy_poll;
	info->shared_umem = !x->private_umem;
}

int sf_xsk_get_stats(const struct sf_xsk *x, struct sf_xsk_stats *st)
{
	struct xdp_statistics ks = {};
	socklen_t len = sizeof(ks);
	uint64_t xdp[XSK_STAT_MAX] = {};
	int err;

	memset(st, 0, sizeof(*st));
	st->rx = x->rx_count;
	st->tx = x->tx_count;
	st->tx_completed = x->tx_completed;
	st->tx_kick_errors = x->tx_kick_errors;
	st->tx_device_dropped = x->tx_device_dropped;
	st->tx_in_flight = x->tx_in_flight;
	st->pool_free = x->umem->n_free;
	st->pool_size = x->umem->chunk_count;
	if (getsockopt(x->fd, SOL_XDP, XDP_STATISTICS, &ks, &len))
		return -errno;
	st->rx_dropped = ks.rx_dropped;
	st->rx_invalid = ks.rx_invalid_descs;
	st->tx_invalid = ks.tx_invalid_descs;
	st->rx_ring_full = ks.rx_ring_full; /* 0 before Linux 5.9 */
	st->fill_ring_empty = ks.rx_fill_ring_empty_descs;
	st->tx_ring_empty = ks.tx_ring_empty_descs;
	err = xsk_steer_stats(x->steer, xdp);
	if (err)
		return err;
	st->xdp_steered = xdp[XSK_STAT_STEERED];
	st->xdp_passed = xdp[XSK_STAT_PASSED];
	st->xdp_no_socket = xdp[XSK_STAT_NO_SOCKET];
	return 0;
}

void sf_xsk_opts_init(struct sf_xsk_opts *opts)
{
	*opts = (struct sf_xsk_opts){
		.rx_size = SF_XSK_RING_SIZE,
		.tx_size = SF_XSK_RING_SIZE,
		.attach = SF_XSK_ATTACH_AUTO,
		.copy = SF_XSK_COPY_AUTO,
		.busy_poll_budget = SF_XSK_BUSY_POLL_BUDGET,
	};
	sf_xsk_umem_opts_init(&opts->umem_opts);
}

static uint32_t size_or_default(uint32_t size)
{
	return size ?: SF_XSK_RING_SIZE;
}

uint32_t sf_xsk_chunks_needed(const struct sf_xsk_opts *o)
{
	return size_or_default(o->umem_opts.fill_size) +
	       size_or_default(o->rx_size) + size_or_default(o->tx_size) +
	       size_or_default(o->umem_opts.comp_size);
}

static int prepare(struct sf_xsk *x, const char *ifname, struct sf_xsk_opts *o)
{
	int err, nq;

	o->rx_size = o->rx_size ?: SF_XSK_RING_SIZE;
	o->tx_size = o->tx_size ?: SF_XSK_RING_SIZE;
	o->busy_poll_budget = o->busy_poll_budget ?: SF_XSK_BUSY_POLL_BUDGET;
	err = sf_iface_index(ifname, &x->ifindex);
	if (err)
		return err;
	snprintf(x->ifname, sizeof(x->ifname), "%s", ifname);
	x->queue = o->queue;
	x->tx_size = o->tx_size;
	if (!xsk_is_pow2(o->rx_size) || !xsk_is_pow2(o->tx_size)) {
		pr_err("%s: %s ring size %u is not a power of two\n", x->who,
		       xsk_is_pow2(o->rx_size) ? "tx" : "rx",
		       xsk_is_pow2(o->rx_size) ? o->tx_size : o->rx_size);
		return -EINVAL;
	}
	if (o->n_filters > SF_XSK_MAX_FILTERS ||
	    (o->n_filters && !o->filters)) {
		pr_err("%s: %u filters%s; at most %d\n", x->who, o->n_filters,
		       o->filters ? "" : " announced but none given",
		       SF_XSK_MAX_FILTERS);
		return -EINVAL;
	}
	nq = xsk_queue_count(ifname);
	if (nq > 0 && o->queue >= (uint32_t)nq) {
		pr_err("%s: out of range, %s has %d queue%s (0 to %d)\n",
		       x->who, ifname, nq, nq == 1 ? "" : "s", nq - 1);
		return -EINVAL;
	}
	return 0;
}

static int make_umem(struct sf_xsk *x, struct sf_xsk_opts *o)
{
	struct sf_xsk_umem_opts uo = o->umem_opts;
	int err;

	if (o->umem) {
		x->umem = o->umem;
		return 0;
	}
	if (!uo.chunk_count) /* the stock of this socket's rings */
		uo.chunk_count = sf_xsk_chunks_needed(o);
	err = xsk_umem_opts_check(&uo, x->who);
	if (err)
		return err;
	if (uo.chunk_count < sf_xsk_chunks_needed(o))
		pr_warn("%s: %u chunks are fewer than the fill, rx, tx and "
			"completion rings hold (%u): chunks in flight can leave "
			"the fill ring short\n",
			x->who, uo.chunk_count, sf_xsk_chunks_needed(o));
	x->umem = xsk_umem_new(&uo, x->who, &err);
	x->private_umem = x->umem != NULL;
	return err;
}

static void explain_bind(const struct sf_xsk *x, const struct sf_xsk_opts *o,
			 int err)
{
	char drv[32];

	if (err == -EBUSY)
		pr_err("%s: the queue already has an AF_XDP socket (%s); one "
		       "socket per queue\n",
		       x->who, strerror(-err));
	else if (err == -EOPNOTSUPP && o->copy == SF_XSK_ZEROCOPY)
		pr_err("%s: zero-copy refused: %s (%d); the %s driver of %s "
		       "has no AF_XDP zero-copy support: use copy mode or "
		       "auto\n",
		       x->who, strerror(-err), err,
		       xsk_driver_name(x->ifname, drv, sizeof(drv)), x->ifname);
	else if (err == -EPERM || err == -EACCES)
		pr_err("%s: cannot create an AF_XDP socket: %s; it needs "
		       "CAP_NET_RAW\n",
		       x->who, strerror(-err));
	else if (err == -ENETDOWN || err == -ENXIO)
		pr_err("%s: cannot bind an AF_XDP socket: %s; is %s up?\n",
		       x->who, strerror(-err), x->ifname);
	else
		pr_err("%s: cannot bind an AF_XDP socket: %s (%d)\n", x->who,
		       strerror(-err), err);
}

static bool sock_zerocopy(int fd)
{
	struct xdp_options opts = {};
	socklen_t len = sizeof(opts);

	if (getsockopt(fd, SOL_XDP, XDP_OPTIONS, &opts, &len))
		return false;
	return opts.flags & XDP_OPTIONS_ZEROCOPY;
}

/* A socket closed on this queue a moment ago keeps it taken until the
 * kernel's deferred teardown of its buffer pool has run: bind says EBUSY
 * for a few ms after the process that had it exited. Wait for that, up to
 * BUSY_WAIT_MS, before saying the queue is taken.
 */
#define BUSY_WAIT_MS 1000
#define BUSY_STEP_MS 10

static int create_socket(struct sf_xsk *x, struct xsk_socket_config *cfg,
			 bool first)
{
	struct sf_xsk_umem *u = x->umem;
	int err, waited = 0;

	for (;;) {
		err = xsk_socket__create_shared(&x->sock, x->ifname, x->queue,
						u->umem, &x->rx, &x->tx, &x->fq,
						&x->cq, cfg);
		if (err != -EBUSY || waited >= BUSY_WAIT_MS)
			return err;
		/* a failed first socket leaves the UMEM's rings used up */
		if (first && xsk_umem_reset(u, "UMEM"))
			return err;
		usleep(BUSY_STEP_MS * 1000);
		waited += BUSY_STEP_MS;
	}
}

static int bind_socket(struct sf_xsk *x, const struct sf_xsk_opts *o)
{
	struct sf_xsk_umem *u = x->umem;
	struct xsk_socket_config cfg = {
		.rx_size = o->rx_size,
		.tx_size = o->tx_size,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = o->no_need_wakeup ? 0 : XDP_USE_NEED_WAKEUP,
	};
	bool first = u->sockets == 0;
	int err;

	if (o->copy == SF_XSK_COPY)
		cfg.bind_flags |= XDP_COPY;
	else if (o->copy == SF_XSK_ZEROCOPY)
		cfg.bind_flags |= XDP_ZEROCOPY;
	/* Flags 0: the kernel tries zero-copy and falls back to copy. */
	err = create_socket(x, &cfg, first);
	if (err) {
		x->sock = NULL;
		explain_bind(x, o, err);
		if (first && !x->private_umem)
			xsk_umem_reset(u, "UMEM");
		return err;
	}
	u->sockets++;
	u->users++;
	x->fd = xsk_socket__fd(x->sock);
	x->zerocopy = sock_zerocopy(x->fd);
	/* A socket sharing a UMEM inherits its first socket's bind flags. */
	if (first)
		u->need_wakeup = !o->no_need_wakeup;
	x->need_wakeup = u->need_wakeup;
	if (o->copy == SF_XSK_ZEROCOPY && !x->zerocopy) {
		pr_err("%s: zero-copy asked, but the socket shares a copy-mode "
		       "UMEM\n",
		       x->who);
		return -EINVAL;
	}
	if (o->copy == SF_XSK_COPY_AUTO)
		pr_debug("%s: %s mode chosen\n", x->who,
			 x->zerocopy ? "zero-copy" : "copy");
	fill(x);
	return 0;
}

static int busy_poll_on(struct sf_xsk *x, const struct sf_xsk_opts *o)
{
	int on = 1, usecs = BUSY_POLL_USECS, budget = o->busy_poll_budget;

	if (!o->busy_poll)
		return 0;
	if (setsockopt(x->fd, SOL_SOCKET, SO_PREFER_BUSY_POLL, &on,
		       sizeof(on)) ||
	    setsockopt(x->fd, SOL_SOCKET, SO_BUSY_POLL, &usecs,
		       sizeof(usecs)) ||
	    setsockopt(x->fd, SOL_SOCKET, SO_BUSY_POLL_BUDGET, &budget,
		       sizeof(budget))) {
		pr_err("%s: cannot enable busy polling: %s (needs Linux 5.11 "
		       "and CAP_NET_ADMIN)\n",
		       x->who, strerror(errno));
		return -errno;
	}
	x->busy_poll = true;
	return 0;
}

static int steer(struct sf_xsk *x, const struct sf_xsk_opts *o)
{
	int err, nq = xsk_queue_count(x->ifname);

	err = xsk_steer_get(x->who, x->ifname, x->ifindex, nq > 0 ? nq : 1, o,
			    x->zerocopy, &x->steer);
	if (!err)
		err = xsk_steer_add(x->steer, x->sock, x->who);
	x->in_map = !err;
	return err;
}

struct sf_xsk *sf_xsk_open(const char *ifname, const struct sf_xsk_opts *opts,
			   int *err)
{
	struct sf_xsk_opts o = {};
	struct sf_xsk *x;
	int e;

	if (opts)
		o = *opts;
	x = calloc(1, sizeof(*x));
	if (!x) {
		*err = -ENOMEM;
		return NULL;
	}
	x->fd = -1;
	snprintf(x->who, sizeof(x->who), "%.*s queue %u", IF_NAMESIZE,
		 ifname ? ifname : "", o.queue);
	e = prepare(x, ifname, &o);
	if (!e)
		e = make_umem(x, &o);
	if (!e)
		e = bind_socket(x, &o);
	if (!e)
		e = steer(x, &o);
	if (!e)
		e = busy_poll_on(x, &o);
	if (e) {
		sf_xsk_close(x);
		*err = e;
		return NULL;
	}
	*err = 0;
	return x;
}

void sf_xsk_close(struct sf_xsk *x)
{
	if (!x)
		return;
	if (x->in_map)
		xsk_steer_del(x->steer, x->queue);
	xsk_steer_put(x->steer);
	if (x->sock) {
		xsk_socket__delete(x->sock);
		x->umem->users--;
	}
	if (x->private_umem)
		xsk_umem_free(x->umem);
	free(x);
}
