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
#include "core/grow.h"
#include "flowmon_int.h"

#define NS_PER_SEC 1000000000ULL

#ifndef ENOTSUPP
#define ENOTSUPP 524 /* the kernel's "no batch operations", not in libc */
#endif

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

_Static_assert((int)DPI_MAX == (int)SF_DPI_MAX,
	       "enum flowmon_dpi_kind (bpf/flowmon.h) and enum sf_dpi_kind "
	       "must list the same inspectors in the same order");

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
		out->tcp_syns = rec->tcp_syns;
		out->tcp_rsts = rec->tcp_rsts;
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

/* One key at a time: two syscalls a flow, and a key removed meanwhile
 * makes the kernel start again from the first bucket (the same flow may
 * then be read twice). For kernels without batch lookups.
 */
static int table_read_keys(int fd, struct fm_entry **v, size_t *cap,
			   size_t *count)
{
	struct flowmon_key key, prev;
	bool first = true;
	size_t n = 0;

	while (bpf_map_get_next_key(fd, first ? NULL : &prev, &key) == 0) {
		first = false;
		prev = key;
		if (grow_array(*v, *cap, n, 1, FM_READ_BATCH))
			return -ENOMEM;
		(*v)[n].key = key;
		/* a flow removed meanwhile is simply skipped */
		if (!bpf_map_lookup_elem_flags(fd, &key, &(*v)[n].rec,
					       BPF_F_LOCK))
			n++;
	}
	*count = n;
	return 0;
}

/* Errors that mean "this kernel cannot batch this map": fall back. */
static bool batch_unsupported(int err)
{
	return err == EINVAL || err == ENOTSUPP || err == EOPNOTSUPP ||
	       err == ENOSPC; /* a bucket longer than a whole batch */
}

/* Bucket by bucket, FM_READ_BATCH flows a syscall. Returns -EOPNOTSUPP when
 * the kernel cannot (no batch operations, or none with BPF_F_LOCK).
 */
static int table_read_batch(int fd, struct fm_entry **v, size_t *cap,
			    size_t *count)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts, .elem_flags = BPF_F_LOCK);
	struct flowmon_key *keys = calloc(FM_READ_BATCH, sizeof(*keys));
	struct flowmon_rec *recs = calloc(FM_READ_BATCH, sizeof(*recs));
	__u32 in = 0, out, got;
	bool first = true;
	size_t n = 0;
	int err = keys && recs ? 0 : -ENOMEM;

	while (!err) {
		got = FM_READ_BATCH;
		err = bpf_map_lookup_batch(fd, first ? NULL : &in, &out, keys,
					   recs, &got, &opts) ?
			      -errno :
			      0;
		first = false;
		if (err && err != -ENOENT) /* ENOENT: the last batch */
			break;
		if (grow_array(*v, *cap, n, got, FM_READ_BATCH)) {
			err = -ENOMEM;
			break;
		}
		for (__u32 i = 0; i < got; i++) {
			(*v)[n + i].key = keys[i];
			(*v)[n + i].rec = recs[i];
		}
		n += got;
		in = out;
	}
	free(keys);
	free(recs);
	*count = n;
	if (err == -ENOENT)
		return 0;
	return batch_unsupported(-err) ? -EOPNOTSUPP : err; /* read again */
}

int fm_table_read(struct sf_flowmon *fm, bool by_keys, struct fm_entry **out,
		  size_t *count)
{
	int fd = bpf_map__fd(fm->skel->maps.flows);
	struct fm_entry *v = NULL;
	size_t cap = 0, n = 0;
	int err = -EOPNOTSUPP;

	if (!by_keys)
		err = table_read_batch(fd, &v, &cap, &n);
	if (err == -EOPNOTSUPP)
		err = table_read_keys(fd, &v, &cap, &n);
	if (err) {
		free(v);
		return err;
	}
	for (size_t i = 0; i < n; i++)
		v[i].reason = 0;
	*out = v;
	*count = n;
	return 0;
}

static uint8_t end_reason(struct sf_flowmon *fm, const struct flowmon_rec *r,
			  uint64_t now)
{
	uint64_t idle = now > r->last_seen_ns ? now - r->last_seen_ns : 0;
	uint64_t age = now > r->first_seen_ns ? now - r->first_seen_ns : 0;

	if ((r->tcp_flags & (FLOWMON_TCP_FIN | FLOWMON_TCP_RST)) &&
	    idle >= FM_FIN_GRACE_NS)
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

/* Move the flows that end to the front, keeping no order; returns how
 * many there are. Only those are sorted and exported.
 */
static size_t ending_first(struct fm_entry *v, size_t n)
{
	struct fm_entry t;
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		if (!v[i].reason)
			continue;
		if (i != k) {
			t = v[k];
			v[k] = v[i];
			v[i] = t;
		}
		k++;
	}
	return k;
}

static int walk(struct sf_flowmon *fm, uint64_t now, uint8_t force_reason,
		bool remove, sf_flow_cb cb, void *ctx)
{
	int64_t offset = epoch_offset(fm);
	struct fm_entry *v;
	size_t n, ending = 0, shown;
	int err, exported = 0;

	err = fm_table_read(fm, false, &v, &n);
	if (err)
		return err;
	for (size_t i = 0; i < n; i++) {
		v[i].reason = force_reason ?: end_reason(fm, &v[i].rec, now);
		ending += v[i].reason != 0;
	}
	if (remove && !force_reason)
		mark_pressure(fm, v, n, ending);
	shown = remove ? ending_first(v, n) : n;
	if (shown)
		qsort(v, shown, sizeof(*v), by_first_seen);
	for (size_t i = 0; i < shown && err >= 0; i++) {
		struct sf_flow flow;

		if (remove) {
			err = export_one(fm, &v[i], offset, cb, ctx);
			exported++;
		} else {
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
