/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* replay_int.h: what the pcap replayer (pcap_replay.c, which cannot have
 * libbpf's headers next to pcap.h: both define struct bpf_insn) may ask of
 * the flow monitor's private state, kept in flowmon.c.
 */
#ifndef __SYSFLOW_REPLAY_INT_H
#define __SYSFLOW_REPLAY_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sysflow/flowmon.h>

/* sf_flowmon_stop() was called. */
bool fm_stop_asked(const struct sf_flowmon *fm);

/* Hand the progress of a replay to the callback set, if any. */
void fm_progress(struct sf_flowmon *fm, uint64_t done, uint64_t size,
		 uint64_t packets);

#endif /* __SYSFLOW_REPLAY_INT_H */
