/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* flowmon_int.h: the flow monitor's private state, shared by the loader
 * (flowmon.c), the flow table walker (flow_table.c) and the pcap replayer
 * (pcap_replay.c).
 */
#ifndef __SYSFLOW_FLOWMON_INT_H
#define __SYSFLOW_FLOWMON_INT_H

#include <limits.h>
#include <signal.h>
#include <net/if.h>
#include <linux/types.h>
#include <linux/bpf.h>
#include <sysflow/flowmon.h>
#include "flowmon.h"
#include "flowmon.skel.h"

#define FM_MAX_IFACES 16
#define FM_FIN_GRACE_NS 1000000000ULL /* TCP flow ends 1 s after FIN/RST */
#define FM_PRESSURE_PCT 90 /* start evicting above this fill level */
#define FM_PRESSURE_TARGET_PCT 80 /* ... down to this one */
#define FM_READ_BATCH 1024 /* flows a bpf_map_lookup_batch() call returns */

struct fm_link {
	int fd;
	int ifindex;
	char ifname[IF_NAMESIZE];
	bool gone; /* the kernel detached the link: interface deleted */
};

struct sf_flowmon {
	struct flowmon_bpf *skel;
	struct sf_flowmon_opts opts;
	struct fm_link links[FM_MAX_IFACES];
	int n_links;
	int entry_fd; /* xdp_flowmon or flowmon_start */
	int lock_fd; /* flock on the pin directory */
	char pin_flows[PATH_MAX]; /* pins we made, removed on close */
	char pin_stats[PATH_MAX];
	uint64_t offline_now_ns; /* clock of the last replayed packet */
	volatile sig_atomic_t stop; /* sf_flowmon_stop(): end the replay */
	sf_replay_progress_cb progress;
	void *progress_ctx;
	uint64_t exported;
	uint64_t active;
};

/* A flow as the flow manager reads it from the table. */
struct fm_entry {
	struct flowmon_key key;
	struct flowmon_rec rec;
	uint8_t reason; /* enum sf_flow_end_reason, 0 while it lasts */
};

/* flow_table.c */
/* Copy the whole flow table, each value under its spin lock: batches of
 * flows a syscall, or (by_keys, and where the kernel has no batches) one
 * key at a time. *out is the caller's to free.
 */
int fm_table_read(struct sf_flowmon *fm, bool by_keys, struct fm_entry **out,
		  size_t *count);
void fm_flow_from_map(const struct flowmon_key *key,
		      const struct flowmon_rec *rec, int64_t mono_to_epoch_ns,
		      struct sf_flow *out);

#endif /* __SYSFLOW_FLOWMON_INT_H */
