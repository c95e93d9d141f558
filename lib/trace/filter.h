/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* filter.h: the packet filter compiler of `sysflow tracepkt`. A
 * pcap-filter-like expression becomes a list of tests with true and false
 * targets (bpf/tracepkt.h) that the BPF side runs for each packet. Pure
 * code: no BPF, no I/O.
 *
 * Grammar (precedence as in pcap-filter(7): 'not' binds tightest, 'and'
 * and 'or' have equal precedence and associate left to right):
 *
 *   expr    := unary { ('and' | '&&' | 'or' | '||') unary }
 *   unary   := ('not' | '!') unary | '(' expr ')' | term
 *   term    := [dir] 'host' ADDR | [dir] 'net' ADDR/LEN | [dir] 'port' N
 *            | dir ADDR | 'proto' (NAME | N) | NAME [term] | 'ip' | 'ip6'
 *   dir     := 'src' | 'dst'          (none: source or destination)
 *   NAME    := 'tcp' | 'udp' | 'icmp' | 'icmp6'
 *
 * "NAME term" and "ip term" are shorthands for "NAME and term" (tcpdump's
 * "tcp port 80").
 */
#ifndef __SYSFLOW_TRACE_FILTER_H
#define __SYSFLOW_TRACE_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "tracepkt.h"

struct sf_pktfilter {
	struct tracepkt_insn insns[TRACEPKT_MAX_INSNS];
	unsigned int len; /* 0: every packet matches */
};

struct sf_pktfilter_error {
	int column; /* 1-based column of the offending token */
	int width; /* its length, at least 1 */
	char msg[192]; /* names the token and what was expected */
};

/* Compile expr (NULL or blank: match everything). Returns 0, or -EINVAL
 * with err filled in.
 */
int sf_pktfilter_compile(const char *expr, struct sf_pktfilter *out,
			 struct sf_pktfilter_error *err);

/* The fields of a packet that tests look at; the BPF side fills the same. */
struct sf_pktfilter_pkt {
	uint32_t saddr[4]; /* network order; IPv4 in word 0 */
	uint32_t daddr[4];
	uint16_t sport; /* host order */
	uint16_t dport;
	uint8_t family; /* 4, 6, or 0 for a packet that is not IP */
	uint8_t proto;
	bool has_ports; /* TCP or UDP */
};

/* Run a compiled filter in user space, exactly as the BPF side does. */
bool sf_pktfilter_match(const struct sf_pktfilter *f,
			const struct sf_pktfilter_pkt *p);

#endif /* __SYSFLOW_TRACE_FILTER_H */
