/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* hop_text.h: tracepkt's terminal output, narrower than 80 columns. Hops
 * arrive interleaved when packets overlap in time (a ping's request is
 * freed after its reply was sent); they are grouped per packet and each
 * packet is printed as one block when its last hop arrives, when it has
 * been idle for a while, or at the end.
 */
#ifndef __SYSFLOW_HOP_TEXT_H
#define __SYSFLOW_HOP_TEXT_H

#include <stdint.h>
#include <stdio.h>
#include <sysflow/tracepkt.h>

#define SF_HOP_TEXT_WIDTH 79

struct sf_hop_text;

/* Times are printed in seconds since start_ns (CLOCK_MONOTONIC). */
struct sf_hop_text *sf_hop_text_new(FILE *out, uint64_t start_ns);

/* The column header line. */
void sf_hop_text_header(struct sf_hop_text *t);

/* Add a hop; prints its packet when this is the packet's last hop. */
int sf_hop_text_add(struct sf_hop_text *t, const struct sf_tracepkt_hop *h,
		    uint64_t now_ns);

/* Print packets without a hop since idle_ns before now_ns. */
void sf_hop_text_flush_idle(struct sf_hop_text *t, uint64_t now_ns,
			    uint64_t idle_ns);

/* Print every packet still open, by trace id, and free t. */
void sf_hop_text_free(struct sf_hop_text *t);

/* The --summary table. */
void sf_hop_text_summary(FILE *out, struct sf_tracepkt_summary *s,
			 uint64_t packets);

#endif /* __SYSFLOW_HOP_TEXT_H */
