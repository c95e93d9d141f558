// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* summary.c: per-hop latency statistics for `sysflow tracepkt --summary`:
 * the delays between consecutive hops, grouped by (hook, interface,
 * namespace) pairs, with count, min, median, p99 and max. Pure code.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sysflow/tracepkt.h>
#include "core/grow.h"

/* Samples kept per pair for the percentiles; count, min and max stay exact
 * beyond it.
 */
#define MAX_SAMPLES (1 << 20)

struct pair {
	struct sf_tracepkt_hop_stats st;
	uint64_t *v;
	size_t n, cap;
	bool sorted;
};

struct sf_tracepkt_summary {
	struct pair *pairs;
	size_t n, cap;
};

struct sf_tracepkt_summary *sf_tracepkt_summary_new(void)
{
	return calloc(1, sizeof(struct sf_tracepkt_summary));
}

static bool same_pair(const struct sf_tracepkt_hop_stats *st,
		      const struct sf_tracepkt_hop *h)
{
	/* hook names are the tracer's constants: compare by pointer */
	return st->from == h->prev_hook && st->to == h->hook &&
	       st->from_netns == h->prev_netns && st->to_netns == h->netns &&
	       !strcmp(st->from_ifname, h->prev_ifname) &&
	       !strcmp(st->to_ifname, h->ifname);
}

static struct pair *find_pair(struct sf_tracepkt_summary *s,
			      const struct sf_tracepkt_hop *h)
{
	struct pair *p;

	for (size_t i = 0; i < s->n; i++)
		if (same_pair(&s->pairs[i].st, h))
			return &s->pairs[i];
	if (grow_array(s->pairs, s->cap, s->n, 1, 16))
		return NULL;
	p = &s->pairs[s->n++];
	memset(p, 0, sizeof(*p));
	p->st.from = h->prev_hook;
	p->st.to = h->hook;
	p->st.from_netns = h->prev_netns;
	p->st.to_netns = h->netns;
	memcpy(p->st.from_ifname, h->prev_ifname, sizeof(p->st.from_ifname));
	memcpy(p->st.to_ifname, h->ifname, sizeof(p->st.to_ifname));
	p->st.from_ifname[SF_TRACEPKT_IFNAMSIZ - 1] = 0;
	p->st.to_ifname[SF_TRACEPKT_IFNAMSIZ - 1] = 0;
	return p;
}

int sf_tracepkt_summary_add(struct sf_tracepkt_summary *s,
			    const struct sf_tracepkt_hop *hop)
{
	struct pair *p;
	uint64_t d = hop->delta_ns;

	if (!hop->seq || !hop->prev_hook)
		return 0;
	p = find_pair(s, hop);
	if (!p)
		return -ENOMEM;
	if (!p->st.count || d < p->st.min_ns)
		p->st.min_ns = d;
	if (d > p->st.max_ns)
		p->st.max_ns = d;
	p->st.count++;
	if (p->n == MAX_SAMPLES)
		return 0;
	if (grow_array(p->v, p->cap, p->n, 1, 64))
		return -ENOMEM;
	p->v[p->n++] = d;
	p->sorted = false;
	return 0;
}

size_t sf_tracepkt_summary_len(const struct sf_tracepkt_summary *s)
{
	return s->n;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest rank: the smallest sample with at least pct% at or below it. */
static uint64_t rank(const uint64_t *v, size_t n, unsigned int pct)
{
	size_t r = (n * pct + 99) / 100;

	return v[r ? r - 1 : 0];
}

int sf_tracepkt_summary_get(struct sf_tracepkt_summary *s, size_t i,
			    struct sf_tracepkt_hop_stats *out)
{
	struct pair *p;

	if (i >= s->n)
		return -ENOENT;
	p = &s->pairs[i];
	if (!p->sorted && p->n) {
		qsort(p->v, p->n, sizeof(*p->v), cmp_u64);
		p->sorted = true;
	}
	if (p->n) {
		p->st.median_ns = rank(p->v, p->n, 50);
		p->st.p99_ns = rank(p->v, p->n, 99);
	}
	*out = p->st;
	return 0;
}

void sf_tracepkt_summary_free(struct sf_tracepkt_summary *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		free(s->pairs[i].v);
	free(s->pairs);
	free(s);
}
