/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* stats.bpf.h: the per-CPU __u64 counters a data path keeps in its map
 * `stats` (summed on the user side by lib/core/percpu.c sf_percpu_sum()),
 * and stat_inc() to count one. Define STATS_MAX, the number of counters,
 * before including it.
 */
#ifndef __STATS_BPF_H
#define __STATS_BPF_H

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, STATS_MAX);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

static __always_inline void stat_inc(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &idx);

	if (v)
		*v += 1; /* per-CPU slot: no other CPU writes it */
}

#endif /* __STATS_BPF_H */
