// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* htab.c: chained hash table with intrusive nodes. */
#include <errno.h>
#include <stdlib.h>
#include "htab.h"

int htab_init(struct htab *h, size_t nb)
{
	size_t n = 16;

	while (n < nb)
		n <<= 1;
	h->b = calloc(n, sizeof(*h->b));
	h->nb = h->b ? n : 0;
	h->n = 0;
	return h->b ? 0 : -ENOMEM;
}

void htab_free(struct htab *h)
{
	free(h->b);
	h->b = NULL;
	h->nb = h->n = 0;
}

static int grow(struct htab *h)
{
	size_t nb = h->nb * 2;
	struct hnode **b = calloc(nb, sizeof(*b)), *n, *next;

	if (!b)
		return -ENOMEM;
	for (size_t i = 0; i < h->nb; i++) {
		for (n = h->b[i]; n; n = next) {
			next = n->next;
			n->next = b[n->key & (nb - 1)];
			b[n->key & (nb - 1)] = n;
		}
	}
	free(h->b);
	h->b = b;
	h->nb = nb;
	return 0;
}

int htab_add(struct htab *h, struct hnode *n, uint64_t key)
{
	int err = 0;

	if (h->n >= h->nb * 2)
		err = grow(h);
	n->key = key;
	n->next = h->b[key & (h->nb - 1)];
	h->b[key & (h->nb - 1)] = n;
	h->n++;
	return err;
}

void htab_del(struct htab *h, struct hnode *n)
{
	struct hnode **p = &h->b[n->key & (h->nb - 1)];

	for (; *p; p = &(*p)->next) {
		if (*p == n) {
			*p = n->next;
			h->n--;
			return;
		}
	}
}

struct hnode *htab_find(const struct htab *h, uint64_t key)
{
	struct hnode *n = h->nb ? h->b[key & (h->nb - 1)] : NULL;

	return htab_next(n ? &(struct hnode){ .next = n } : NULL, key);
}

struct hnode *htab_next(const struct hnode *n, uint64_t key)
{
	for (n = n ? n->next : NULL; n; n = n->next)
		if (n->key == key)
			return (struct hnode *)n;
	return NULL;
}
