// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* umem.c: the UMEM (an anonymous mapping of fixed-size chunks registered
 * with the kernel) and the packet pool on top of it: a LIFO stack of free
 * chunk addresses, O(1) with no hashing and no allocation.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include "core/core.h"
#include "xsk_int.h"

#define MAX_CHUNKS (1U << 22)

static int check_ring(const char *who, const char *ring, uint32_t size)
{
	if (xsk_is_pow2(size) && size <= (1U << 20))
		return 0;
	pr_err("%s: %s ring size %u is not a power of two from 1 to %u\n", who,
	       ring, size, 1U << 20);
	return -EINVAL;
}

void sf_xsk_umem_opts_init(struct sf_xsk_umem_opts *opts)
{
	*opts = (struct sf_xsk_umem_opts){
		.chunk_size = SF_XSK_CHUNK_SIZE,
		.chunk_count = SF_XSK_CHUNK_COUNT,
		.fill_size = SF_XSK_RING_SIZE,
		.comp_size = SF_XSK_RING_SIZE,
	};
}

int xsk_umem_opts_check(struct sf_xsk_umem_opts *o, const char *who)
{
	long page = sysconf(_SC_PAGESIZE);

	o->chunk_size = o->chunk_size ?: SF_XSK_CHUNK_SIZE;
	o->chunk_count = o->chunk_count ?: SF_XSK_CHUNK_COUNT;
	o->fill_size = o->fill_size ?: SF_XSK_RING_SIZE;
	o->comp_size = o->comp_size ?: SF_XSK_RING_SIZE;
	if (!xsk_is_pow2(o->chunk_size) || o->chunk_size < 2048 ||
	    o->chunk_size > page) {
		pr_err("%s: chunk size %u must be a power of two from 2048 to "
		       "the page size (%ld)\n",
		       who, o->chunk_size, page);
		return -EINVAL;
	}
	if (o->chunk_count > MAX_CHUNKS) {
		pr_err("%s: %u chunks are too many (at most %u)\n", who,
		       o->chunk_count, MAX_CHUNKS);
		return -EINVAL;
	}
	return check_ring(who, "fill", o->fill_size) ?:
		       check_ring(who, "completion", o->comp_size);
}

static void explain_register(const struct sf_xsk_umem *u, const char *who,
			     int err)
{
	struct rlimit rl = {};

	if (err == -EPERM || err == -EACCES) {
		pr_err("%s: cannot create an AF_XDP socket: %s; it needs "
		       "CAP_NET_RAW (run as root, or see 'make install "
		       "SETCAP=1')\n",
		       who, strerror(-err));
	} else if (err == -EAFNOSUPPORT) {
		pr_err("%s: this kernel has no AF_XDP sockets "
		       "(CONFIG_XDP_SOCKETS is off)\n",
		       who);
	} else if (err == -ENOBUFS) {
		getrlimit(RLIMIT_MEMLOCK, &rl);
		pr_err("%s: cannot register a UMEM of %llu KiB: with what "
		       "this user has locked already, it exceeds RLIMIT_MEMLOCK "
		       "(%llu KiB); use fewer chunks (and smaller rings), raise "
		       "'ulimit -l' or grant CAP_IPC_LOCK\n",
		       who, (unsigned long long)u->size >> 10,
		       (unsigned long long)rl.rlim_cur >> 10);
	} else {
		pr_err("%s: cannot register the UMEM (%u chunks of %u bytes): "
		       "%s (%d)\n",
		       who, u->chunk_count, u->chunk_size, strerror(-err), err);
	}
}

static int umem_register(struct sf_xsk_umem *u, const char *who)
{
	struct xsk_umem_config cfg = {
		.fill_size = u->fill_size,
		.comp_size = u->comp_size,
		.frame_size = u->chunk_size,
		.frame_headroom = 0,
		.flags = 0,
	};
	int err;

	memset(&u->fq0, 0, sizeof(u->fq0));
	memset(&u->cq0, 0, sizeof(u->cq0));
	err = xsk_umem__create(&u->umem, u->area, u->size, &u->fq0, &u->cq0,
			       &cfg);
	if (err) {
		u->umem = NULL;
		explain_register(u, who, err);
	}
	return err;
}

int xsk_umem_reset(struct sf_xsk_umem *u, const char *who)
{
	if (u->umem)
		xsk_umem__delete(u->umem);
	u->umem = NULL;
	u->sockets = 0;
	return umem_register(u, who);
}

struct sf_xsk_umem *xsk_umem_new(const struct sf_xsk_umem_opts *opts,
				 const char *who, int *err)
{
	struct sf_xsk_umem *u;
	void *area;

	u = calloc(1, sizeof(*u));
	if (!u) {
		*err = -ENOMEM;
		return NULL;
	}
	u->chunk_size = opts->chunk_size;
	u->chunk_count = opts->chunk_count;
	u->fill_size = opts->fill_size;
	u->comp_size = opts->comp_size;
	u->size = (uint64_t)u->chunk_size * u->chunk_count;
	u->stack = calloc(u->chunk_count, sizeof(*u->stack));
	area = mmap(NULL, u->size, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (area == MAP_FAILED) {
		*err = -errno;
		pr_err("%s: cannot map %llu KiB for the UMEM: %s\n", who,
		       (unsigned long long)u->size >> 10, strerror(errno));
		free(u->stack);
		free(u);
		return NULL;
	}
	u->area = area;
	if (!u->stack) {
		*err = -ENOMEM;
		xsk_umem_free(u);
		return NULL;
	}
	/* Lowest addresses on top: the first frames land at the start. */
	for (uint32_t i = 0; i < u->chunk_count; i++)
		u->stack[i] =
			(uint64_t)(u->chunk_count - 1 - i) * u->chunk_size;
	u->n_free = u->chunk_count;
	*err = umem_register(u, who);
	if (*err) {
		xsk_umem_free(u);
		return NULL;
	}
	return u;
}

void xsk_umem_free(struct sf_xsk_umem *u)
{
	if (!u)
		return;
	if (u->umem)
		xsk_umem__delete(u->umem);
	if (u->area)
		munmap(u->area, u->size);
	free(u->stack);
	free(u);
}

struct sf_xsk_umem *sf_xsk_umem_create(const struct sf_xsk_umem_opts *opts,
				       int *err)
{
	struct sf_xsk_umem_opts o = {};

	if (opts)
		o = *opts;
	*err = xsk_umem_opts_check(&o, "UMEM");
	if (*err)
		return NULL;
	return xsk_umem_new(&o, "UMEM", err);
}

int sf_xsk_umem_destroy(struct sf_xsk_umem *umem)
{
	if (!umem)
		return 0;
	if (umem->users) {
		pr_err("UMEM still used by %u socket(s); close them first\n",
		       umem->users);
		return -EBUSY;
	}
	xsk_umem_free(umem);
	return 0;
}

uint32_t sf_xsk_umem_free_count(const struct sf_xsk_umem *umem)
{
	return umem->n_free;
}

uint32_t sf_xsk_umem_size(const struct sf_xsk_umem *umem)
{
	return umem->chunk_count;
}
