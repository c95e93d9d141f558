/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* htab.h: the small intrusive containers of the telemetry tables: a
 * chained hash table keyed by a 64-bit hash (objects embed a struct hnode
 * and compare their full key themselves) and a doubly linked list.
 */
#ifndef __SYSFLOW_HTAB_H
#define __SYSFLOW_HTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define container_of(ptr, type, member) \
	((type *)((char *)(ptr)-offsetof(type, member)))

struct hnode {
	struct hnode *next;
	uint64_t key;
};

struct htab {
	struct hnode **b;
	size_t nb; /* buckets, a power of two */
	size_t n;
};

int htab_init(struct htab *h, size_t nb);
void htab_free(struct htab *h);
/* Insert; grows the table when it gets dense. Returns 0 or -ENOMEM (the
 * node is inserted even when growing fails).
 */
int htab_add(struct htab *h, struct hnode *n, uint64_t key);
void htab_del(struct htab *h, struct hnode *n);
/* First node with this key, then htab_next() for the others. */
struct hnode *htab_find(const struct htab *h, uint64_t key);
struct hnode *htab_next(const struct hnode *n, uint64_t key);

#define htab_for_each(h, i, n)              \
	for ((i) = 0; (i) < (h)->nb; (i)++) \
		for ((n) = (h)->b[i]; (n); (n) = (n)->next)

/* 64-bit mixing of integers and FNV-1a of strings. */
static inline uint64_t hash_u64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	return x ^ (x >> 33);
}

static inline uint64_t hash_str(uint64_t h, const char *s)
{
	if (!h)
		h = 0xcbf29ce484222325ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
}

struct dlist {
	struct dlist *prev, *next;
};

static inline void dlist_init(struct dlist *l)
{
	l->prev = l->next = l;
}

static inline bool dlist_empty(const struct dlist *l)
{
	return l->next == l;
}

static inline void dlist_add_tail(struct dlist *l, struct dlist *n)
{
	n->prev = l->prev;
	n->next = l;
	l->prev->next = n;
	l->prev = n;
}

static inline void dlist_del(struct dlist *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->prev = n->next = n;
}

#endif /* __SYSFLOW_HTAB_H */
