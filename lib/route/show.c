// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* show.c: read a running policy router back from its pinned maps: the
 * active generation's rules with their counters, the program's outcome
 * counters and the hooks it is attached to.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <bpf/bpf.h>
#include "core/core.h"
#include "route_int.h"

static int read_stats(struct rt_maps *m, struct sf_route_status *st)
{
	uint64_t sum[RSTAT_MAX] = {};
	int err = sf_percpu_sum(m->fd[RT_MAP_STATS], sum, RSTAT_MAX);

	for (int k = 0; k < RSTAT_MAX; k++)
		st->packets += sum[k]; /* one outcome per packet */
	st->matched = sum[RSTAT_MATCHED];
	st->unmatched = sum[RSTAT_UNMATCHED];
	st->not_ip = sum[RSTAT_NOT_IP];
	st->malformed = sum[RSTAT_MALFORMED];
	st->ttl_expired = sum[RSTAT_TTL_EXPIRED];
	st->no_generation = sum[RSTAT_NO_GEN];
	return err;
}

static void read_hooks(struct rt_maps *m, struct sf_route_status *st)
{
	struct route_attach a;

	for (uint32_t i = 0; i < ROUTE_MAX_ATTACH; i++) {
		struct sf_route_hook *h = &st->hooks[st->nhooks];

		if (bpf_map_lookup_elem(m->fd[RT_MAP_ATTACH], &i, &a) ||
		    !a.ifindex)
			continue;
		h->gone = !if_indextoname(a.ifindex, h->iface);
		sf_iface_name(a.ifindex, h->iface);
		h->egress = a.egress;
		h->created_qdisc = a.created_hook;
		h->prog_id = a.prog_id;
		st->nhooks++;
	}
}

static void rule_info(const struct route_rule *r,
		      const struct route_rule_meta *mt,
		      struct sf_route_rule_info *ri)
{
	memset(ri, 0, sizeof(*ri));
	ri->priority = r->priority;
	memcpy(ri->name, mt->name, sizeof(ri->name));
	ri->name[sizeof(ri->name) - 1] = 0;
	memcpy(ri->tenant, mt->tenant, sizeof(ri->tenant));
	ri->tenant[sizeof(ri->tenant) - 1] = 0;
	if (mt->in_ifindex)
		sf_iface_name(mt->in_ifindex, ri->in_iface);
	ri->family = mt->family;
	ri->proto = mt->proto;
	memcpy(ri->src, mt->src, 16);
	memcpy(ri->dst, mt->dst, 16);
	ri->src_len = mt->src_len;
	ri->dst_len = mt->dst_len;
	ri->sport_lo = mt->sport_lo;
	ri->sport_hi = mt->sport_hi;
	ri->dport_lo = mt->dport_lo;
	ri->dport_hi = mt->dport_hi;
	ri->action = r->action;
	if (r->action >= ROUTE_ACT_REDIRECT)
		sf_iface_name(r->out_ifindex, ri->out_iface);
	ri->set_dmac = r->flags & ROUTE_F_DMAC;
	ri->set_smac = r->flags & ROUTE_F_SMAC;
	ri->dec_ttl = r->flags & ROUTE_F_TTL;
	ri->has_via = r->flags & ROUTE_F_VIA;
	memcpy(ri->dmac, r->dmac, 6);
	memcpy(ri->smac, r->smac, 6);
	ri->via_family = r->via_family;
	memcpy(ri->via, r->via, 16);
}

static int walk_rules(struct rt_maps *m, uint32_t gen, uint32_t n,
		      sf_route_rule_cb cb, void *ctx)
{
	struct sf_route_rule_info ri;
	struct route_rule_meta mt;
	struct route_counter c;
	struct route_rule r;
	int err = 0;

	for (uint32_t i = 0; i < n && i < ROUTE_MAX_RULES && !err; i++) {
		uint32_t idx = gen * ROUTE_MAX_RULES + i;

		if (bpf_map_lookup_elem(m->fd[RT_MAP_RULES], &idx, &r) ||
		    bpf_map_lookup_elem(m->fd[RT_MAP_META], &idx, &mt))
			return -errno;
		err = rt_maps_rule_counter(m, idx, &c);
		if (err)
			return err;
		rule_info(&r, &mt, &ri);
		ri.packets = c.packets;
		ri.bytes = c.bytes;
		err = cb ? cb(&ri, ctx) : 0;
	}
	return err < 0 ? err : 0;
}

int sf_route_show(const struct sf_route_opts *opts, struct sf_route_status *st,
		  sf_route_rule_cb cb, void *ctx)
{
	const char *dir = rt_pin_dir(opts);
	struct route_state rs;
	struct rt_maps m;
	int lock, err;

	memset(st, 0, sizeof(*st));
	/* shared: an update (exclusive) is never seen half done */
	lock = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (lock >= 0)
		flock(lock, LOCK_SH);
	err = rt_maps_open(&m, dir);
	if (err) {
		if (lock >= 0)
			close(lock);
		rt_maps_explain_open(dir, err);
		return err;
	}
	err = rt_maps_get_state(&m, &rs)		      ?:
		      rt_maps_get_active(&m, &st->generation) ?:
		      read_stats(&m, st);
	if (!err && (rs.abi != ROUTE_ABI || st->generation >= ROUTE_GENS))
		err = -EPROTO;
	if (!err) {
		st->updates = rs.updates;
		st->nrules = rs.nrules[st->generation];
		st->applied_ns = rs.applied_ns;
		st->updated_ns = rs.updated_ns;
		read_hooks(&m, st);
		err = walk_rules(&m, st->generation, st->nrules, cb, ctx);
	}
	if (err)
		pr_err("cannot read the route maps in %s: %s\n", dir,
		       strerror(-err));
	rt_maps_close(&m);
	close(lock);
	return err;
}
