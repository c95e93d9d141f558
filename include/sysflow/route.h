/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* route.h: the TC policy router as a library: load and validate a JSON
 * rule set (schema in docs/route.md), attach the TC program, replace the
 * rules atomically at run time, read rules with their counters, and remove
 * everything again. Functions return 0 or a negative errno and log the
 * reason through sysflow/log.h.
 */
#ifndef __SYSFLOW_ROUTE_H
#define __SYSFLOW_ROUTE_H

#include <stdbool.h>
#include <stdint.h>
#include <net/if.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SF_ROUTE_PIN_DIR "/sys/fs/bpf/sysflow/route"

struct sf_route_config;

/* Where a configuration is wrong: file, line and column (1-based; 0 when
 * unknown), the field as a path such as "rules[2].dst", and why.
 */
struct sf_route_error {
	char file[256];
	int line;
	int column;
	char field[96];
	char msg[256];
};

enum sf_route_load_flags {
	/* Do not resolve interface names (check a file on another host). */
	SF_ROUTE_NO_IFACES = 1 << 0,
};

/* Parse and validate a configuration. On error returns -EINVAL (or the
 * errno of the failed read), fills *err when given and logs
 * "FILE:LINE:COL: FIELD: MESSAGE", or "FILE: cannot read the
 * configuration: REASON" for a file that cannot be read (line 0).
 */
int sf_route_config_load(const char *path, unsigned int flags,
			 struct sf_route_config **cfg,
			 struct sf_route_error *err);
void sf_route_config_free(struct sf_route_config *cfg);

/* The number of rules in a loaded config. */
int sf_route_config_nrules(const struct sf_route_config *cfg);

/* Options of apply, update, del and show. Fill them with
 * sf_route_opts_init(), then set what differs; a field left 0 (NULL) also
 * means its default.
 */
struct sf_route_opts {
	const char *pin_dir; /* SF_ROUTE_PIN_DIR */
};

/* Fill opts with the defaults above. */
void sf_route_opts_init(struct sf_route_opts *opts);

/* Load the TC program, install cfg as generation 0, pin everything under
 * pin_dir and attach to the configured hooks. -EEXIST when pin_dir already
 * holds an instance. On failure nothing is left behind.
 */
int sf_route_apply(const struct sf_route_config *cfg,
		   const struct sf_route_opts *opts);

/* Replace the rules of a running instance: fill the inactive generation,
 * flip the active index with one map write, wait for packets in flight on
 * the old rules, then carry counters over to rules of the same name. The
 * hooks stay attached; the attach list of cfg must equal the applied one.
 */
int sf_route_update(const struct sf_route_config *cfg,
		    const struct sf_route_opts *opts);

/* Detach, destroy the clsact qdiscs this instance created (never one it
 * found), and remove the pins.
 */
int sf_route_del(const struct sf_route_opts *opts);

enum sf_route_action {
	SF_ROUTE_PASS = 0,
	SF_ROUTE_DROP,
	SF_ROUTE_REDIRECT,
	SF_ROUTE_REDIRECT_NEIGH,
	SF_ROUTE_REDIRECT_PEER,
};

/* A rule as installed, with its counters. */
struct sf_route_rule_info {
	uint32_t priority;
	char name[32];
	char tenant[32]; /* empty: any */
	char in_iface[IF_NAMESIZE]; /* empty: any */
	uint8_t family; /* 0 (any), 4 or 6 */
	uint8_t proto; /* 0: any */
	uint8_t src[16], dst[16];
	uint8_t src_len, dst_len; /* 0: any address */
	uint16_t sport_lo, sport_hi, dport_lo, dport_hi;
	enum sf_route_action action;
	char out_iface[IF_NAMESIZE];
	bool set_dmac, set_smac, dec_ttl, has_via;
	uint8_t dmac[6], smac[6];
	uint8_t via_family;
	uint8_t via[16];
	uint64_t packets;
	uint64_t bytes;
};

struct sf_route_hook {
	char iface[IF_NAMESIZE];
	bool egress;
	bool created_qdisc; /* clsact was made by apply and goes with del */
	uint32_t prog_id;
	bool gone; /* the interface was deleted: iface is "if<index>" */
};

struct sf_route_status {
	uint32_t generation; /* active one: 0 or 1 */
	uint32_t updates;
	uint32_t nrules;
	uint64_t applied_ns, updated_ns; /* CLOCK_REALTIME */
	/* program counters summed over CPUs */
	uint64_t packets, matched, unmatched, not_ip, malformed, ttl_expired,
		no_generation;
	struct sf_route_hook hooks[32];
	int nhooks;
};

typedef int (*sf_route_rule_cb)(const struct sf_route_rule_info *rule,
				void *ctx);

/* Read the instance in pin_dir: status, then each active rule in priority
 * order. -ENOENT when nothing is applied there.
 */
int sf_route_show(const struct sf_route_opts *opts, struct sf_route_status *st,
		  sf_route_rule_cb cb, void *ctx);

/* "pass", "drop", "redirect", "redirect_neigh", "redirect_peer". */
const char *sf_route_action_name(enum sf_route_action a);

#ifdef __cplusplus
}
#endif

#endif /* __SYSFLOW_ROUTE_H */
