// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* hold.c: file operations held for the controller's verdict (the "ask"
 * miss policy). Each held operation is an unanswered fanotify permission
 * event: its event descriptor, the id sent in EVENT_IN and a deadline. The
 * table has a fixed number of slots (at most 65536); an id is a 16-bit
 * sequence number over the 16-bit slot, so a VERDICT finds its operation
 * at once and a stale or forged id finds nothing. The
 * caller answers what it takes out (verdict, timeout or release).
 */
#include <errno.h>
#include <stdlib.h>
#include "guard_int.h"

struct hold {
	uint32_t id; /* 0: free */
	int fd; /* fanotify event descriptor, answered by the caller */
	uint64_t deadline_ms;
};

struct guard_holds {
	struct hold *slots;
	uint32_t max, count;
	uint16_t seq; /* ids: seq << 16 | slot, seq never 0 */
	uint32_t free_hint;
};

struct guard_holds *guard_holds_new(uint32_t max)
{
	struct guard_holds *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	if (max > 65536)
		max = 65536;
	h->slots = calloc(max, sizeof(*h->slots));
	if (!h->slots) {
		free(h);
		return NULL;
	}
	h->max = max;
	return h;
}

void guard_holds_free(struct guard_holds *h)
{
	if (!h)
		return;
	free(h->slots);
	free(h);
}

uint32_t guard_holds_count(const struct guard_holds *h)
{
	return h ? h->count : 0;
}

uint32_t guard_holds_add(struct guard_holds *h, int fd, uint64_t deadline_ms)
{
	uint32_t slot, id;

	if (!h || h->count == h->max)
		return 0;
	for (slot = h->free_hint; h->slots[slot].id;)
		slot = (slot + 1) % h->max;
	/* an id comes back after 65535 holds: at the default event rate
	 * (1000/s) that is past any --ask-timeout
	 */
	if (!++h->seq)
		h->seq = 1;
	id = (uint32_t)h->seq << 16 | slot;
	h->slots[slot] = (struct hold){ id, fd, deadline_ms };
	h->free_hint = (slot + 1) % h->max;
	h->count++;
	return id;
}

static int take_slot(struct guard_holds *h, struct hold *s)
{
	int fd = s->fd;

	s->id = 0;
	s->fd = -1;
	h->count--;
	return fd;
}

int guard_holds_take(struct guard_holds *h, uint32_t id)
{
	struct hold *s;

	if (!h || !id || (id & 0xffff) >= h->max)
		return -ENOENT;
	s = &h->slots[id & 0xffff];
	return s->id == id ? take_slot(h, s) : -ENOENT;
}

uint64_t guard_holds_next_deadline(const struct guard_holds *h)
{
	uint64_t next = UINT64_MAX;

	for (uint32_t i = 0; h && h->count && i < h->max; i++)
		if (h->slots[i].id && h->slots[i].deadline_ms < next)
			next = h->slots[i].deadline_ms;
	return next;
}

int guard_holds_take_expired(struct guard_holds *h, uint64_t now_ms)
{
	for (uint32_t i = 0; h && h->count && i < h->max; i++)
		if (h->slots[i].id && h->slots[i].deadline_ms <= now_ms)
			return take_slot(h, &h->slots[i]);
	return -ENOENT;
}

int guard_holds_take_any(struct guard_holds *h)
{
	return guard_holds_take_expired(h, UINT64_MAX);
}
