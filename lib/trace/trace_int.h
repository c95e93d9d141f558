/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* trace_int.h: the packet path tracer's private pieces, shared by the
 * loader and reader (tracepkt.c) and the drop reason table (reasons.c).
 */
#ifndef __SYSFLOW_TRACE_INT_H
#define __SYSFLOW_TRACE_INT_H

#include <stdint.h>
#include <bpf/btf.h>

/* Names of enum skb_drop_reason, read from kernel BTF at start-up so that
 * they follow the running kernel (the enum grows with every release).
 */
struct sf_drop_reasons {
	char **names; /* by code; NULL where BTF has no name */
	uint32_t n;
};

/* Fill r from vmlinux; -ENOENT when BTF has no skb_drop_reason enum. */
int sf_drop_reasons_load(struct sf_drop_reasons *r, const struct btf *vmlinux);

/* "NETFILTER_DROP" for SKB_DROP_REASON_NETFILTER_DROP; NULL if unknown. */
const char *sf_drop_reason_name(const struct sf_drop_reasons *r, uint32_t code);

void sf_drop_reasons_free(struct sf_drop_reasons *r);

#endif /* __SYSFLOW_TRACE_INT_H */
