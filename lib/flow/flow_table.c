// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* flow_table.c: the flow manager. Walks the BPF flow table, decides which
 * flows ended (FIN/RST, idle, active timeout, table pressure), exports them
 * with their flowEndReason and removes them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "core/core.h"
#include "flowmon_int.h"

#define NS_PER_SEC 1000000000ULL
#define TCP_FIN 0x01
#define TCP_RST 0x04

struct fm_entry {
	struct flowmon_key key;
	struct flowmon_rec rec;
	uint8_t reason;
};

uint64_t sf_flowmon_now(struct sf_flowmon *fm)
{
	if (fm->opts.offline)
		return fm->offline_now_ns;
	return sf_clock_ns(CLOCK_MONOTONIC);
}

/* Offset from the program's clock to the epoch. */
static int64_t epoch_offset(struct sf_flowmon *fm)
{
	if (fm->opts.offline)
		return 0;
	return sf_clock_ns(CLOCK_REALTIME) - sf_clock_ns(CLOCK_MONOTONIC);
}

void fm_flow_from_map(const struct flowmon_key *key,
		      const struct flowmon_rec *rec, int64_t mono_to_epoch_ns,
		      struct sf_flow *out)
{
	memset(out, 0, sizeof(*out));
	out->ip_version = key->ip_version;
	out->proto = key->proto;
	memcpy(out->saddr, key->saddr, sizeof(out->saddr));
	memcpy(out->daddr, key->daddr, sizeof(out->daddr));
	out->sport = key->sport;
	out->dport = key->dport;
	out->ifindex = key->ifindex;
	out->vlan_id = key->vlan_id;
	out->inner_vlan_id = key->inner_vlan_id;
	out->packets = rec->packets;
	out->bytes = rec->bytes;
	out->start_ms = (rec->first_seen_ns + mono_to_epoch_ns) / 1000000;
	out->end_ms = (rec->last_seen_ns + mono_to_epoch_ns) / 1000000;
	out->tcp_flags = rec->tcp_flags;
	out->tos = rec->tos;
	out->min_ttl = rec->min_ttl;
	out->max_ttl = rec->max_ttl;
	out->min_ip_len = rec->min_ip_len;
	out->max_ip_len = rec->max_ip_len;
	if (key->proto == 6) {
		out->min_tcp_window = rec->min_tcp_window;
		out->max_tcp_window = rec->max_tcp_window;
	}
	if (rec->dpi_state != DPI_STATE_DONE)
		return;
	out->dpi_kind = rec->dpi_kind;
	out->dns_rcode = rec->dns_rcode;
	out->dns_qtype = rec->dns_qtype;
	memcpy(out->http_method, rec->http_method, sizeof(out->http_method));
	memcpy(out->name, rec->name, sizeof(out->name));
	out->http_method[sizeof(out->http_method) - 1] = 0;
	out->name[sizeof(out->name) - 1] = 0;
}

/* Read the whole table. Entries are copied under the value's spin lock. */
static int table_read(struct sf_flowmon *fm, struct fm_entry **out,
		      size_t *count)
{
	int fd = bpf_map__fd(fm->skel->maps.flows);
	size_t cap = 1024, n = 0;
	struct fm_entry *v = malloc(cap * sizeof(*v));
	struct flowmon_key key, prev;
	bool first = true;

	if (!v)
		return -ENOMEM;
	while (bpf_map_get_next_key(fd, first ? NULL : &prev, &key) == 0) {
		first = false;
		prev = key;
		if (n == cap) {
			struct fm_entry *bigger;

			cap *= 2;
			bigger = realloc(v, cap * sizeof(*v));
			if (!bigger) {
				free(v);
				return -ENOMEM;
			}
			v = bigger;
		}
		v[n].key = key;
		v[n].reason = 0;
		/* a flow removed meanwhile is simply skipped */
		if (!bpf_map_lookup_elem_flags(fd, &key, &v[n].rec, BPF_F_LOCK))
			n++;
	}
	*out = v;
	*count = n;
	return 0;
}

static uint8_t end_reason(struct sf_flowmon *fm, const struct flowmon_rec *r,
			  uint64_t now)
{
	uint64_t idle = now > r->last_seen_ns ? now - r->last_seen_ns : 0;
	uint64_t age = now > r->first_seen_ns ? now - r->first_seen_ns : 0;

	if ((r->tcp_flags & (TCP_FIN | TCP_RST)) && idle >= FM_FIN_GRACE_NS)
		return SF_END_DETECTED;
	if (idle >= fm->opts.idle_timeout_s * NS_PER_SEC)
		return SF_END_IDLE;
	if (age >= fm->opts.active_timeout_s * NS_PER_SEC)
		return SF_END_ACTIVE;
	return 0;
}

static int by_last_seen(const void *a, const void *b)
{
	const struct fm_entry *x = a, *y = b;

	if (x->rec.last_seen_ns != y->rec.last_seen_ns)
		return x->rec.last_seen_ns < y->rec.last_seen_ns ? -1 : 1;
	return 0;
}

/* Export order: oldest flow first, ties broken by key, so that the same
 * pcap always gives the same output.
 */
static int by_first_seen(const void *a, const void *b)
{
	const struct fm_entry *x = a, *y = b;

	if (x->rec.first_seen_ns != y->rec.first_seen_ns)
		return x->rec.first_seen_ns < y->rec.first_seen_ns ? -1 : 1;
	return memcmp(&x->key, &y->key, sizeof(x->key));
}

/* Above FM_PRESSURE_PCT full, end the least recently seen flows until
 * FM_PRESSURE_TARGET_PCT would remain.
 */
static void mark_pressure(struct sf_flowmon *fm, struct fm_entry *v, size_t n,
			  size_t ending)
{
	size_t max = fm->opts.max_flows, left = n - ending;
	size_t target = max * FM_PRESSURE_TARGET_PCT / 100;

	if (left * 100 < max * FM_PRESSURE_PCT)
		return;
	qsort(v, n, sizeof(*v), by_last_seen);
	for (size_t i = 0; i < n && left > target; i++) {
		if (v[i].reason)
			continue;
		v[i].reason = SF_END_LACK_OF_RESOURCES;
		left--;
	}
}

/* Remove one ended flow, taking the freshest copy of its counters. */
static int export_one(struct sf_flowmon *fm, struct fm_entry *e, int64_t offset,
		      sf_flow_cb cb, void *ctx)
{
	int fd = bpf_map__fd(fm->skel->maps.flows);
	struct sf_flow flow;

	if (bpf_map_lookup_and_delete_elem_flags(fd, &e->key, &e->rec,
						 BPF_F_LOCK)) {
		if (errno == ENOENT)
			return 0;
		/* older kernels: no atomic lookup-and-delete */
		bpf_map_delete_elem(fd, &e->key);
	}
	fm_flow_from_map(&e->key, &e->rec, offset, &flow);
	flow.end_reason = e->reason;
	fm->exported++;
	return cb ? cb(&flow, ctx) : 0;
}

static int walk(struct sf_flowmon *fm, uint64_t now, uint8_t force_reason,
		bool remove, sf_flow_cb cb, void *ctx)
{
	int64_t offset = epoch_offset(fm);
	struct fm_entry *v;
	size_t n, ending = 0;
	int err, exported = 0;

	err = table_read(fm, &v, &n);
	if (err)
		return err;
	for (size_t i = 0; i < n; i++) {
		v[i].reason = force_reason ?: end_reason(fm, &v[i].rec, now);
		ending += v[i].reason != 0;
	}
	if (remove && !force_reason)
		mark_pressure(fm, v, n, ending);
	if (n)
		qsort(v, n, sizeof(*v), by_first_seen);
	for (size_t i = 0; i < n && err >= 0; i++) {
		struct sf_flow flow;

		if (remove && v[i].reason) {
			err = export_one(fm, &v[i], offset, cb, ctx);
			exported++;
		} else if (!remove) {
			fm_flow_from_map(&v[i].key, &v[i].rec, offset, &flow);
			err = cb(&flow, ctx);
		}
	}
	fm->active = n - (remove ? exported : 0);
	free(v);
	return err < 0 ? err : exported;
}

int sf_flowmon_sweep(struct sf_flowmon *fm, uint64_t now_ns, sf_flow_cb cb,
		     void *ctx)
{
	return walk(fm, now_ns, 0, true, cb, ctx);
}

int sf_flowmon_flush(struct sf_flowmon *fm, sf_flow_cb cb, void *ctx)
{
	return walk(fm, sf_flowmon_now(fm), SF_END_FORCED, true, cb, ctx);
}

int sf_flowmon_snapshot(struct sf_flowmon *fm, sf_flow_cb cb, void *ctx)
{
	return walk(fm, sf_flowmon_now(fm), 0, false, cb, ctx);
}
