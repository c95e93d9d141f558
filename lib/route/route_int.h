/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* route_int.h: the policy router's private types, shared by the config
 * loader (config.c, config_rule.c, jpos.c, value.c), the rule compiler
 * (compile.c), the map writer and attach code (route.c, maps.c) and the
 * reader (show.c).
 */
#ifndef __SYSFLOW_ROUTE_INT_H
#define __SYSFLOW_ROUTE_INT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <net/if.h>
#include <linux/types.h>
#include <sysflow/route.h>
#include "route.h"

/* ---- configuration (config.c) ---- */

struct rt_prefix {
	uint8_t family; /* 0: not given */
	uint8_t len;
	uint8_t addr[16];
};

struct rt_device {
	char device[IF_NAMESIZE]; /* interface */
	char name[ROUTE_NAME_LEN];
	int ifindex;
	struct rt_prefix addr; /* host prefix, family 0 when absent */
	uint8_t mac[6];
	bool has_mac;
};

struct rt_subnet {
	char name[ROUTE_NAME_LEN];
	struct rt_prefix prefix;
};

struct rt_tenant {
	char name[ROUTE_NAME_LEN];
	struct rt_device *devices;
	int ndevices;
	struct rt_subnet *subnets;
	int nsubnets;
};

struct rt_hook {
	char iface[IF_NAMESIZE];
	int ifindex;
	bool egress;
};

/* One validated rule: the match, then the action in BPF form. */
struct rt_rule {
	char name[ROUTE_NAME_LEN];
	uint32_t priority;
	int line; /* where it starts in the file */
	int tenant; /* index into cfg->tenants, -1: any */
	int in_ifindex; /* 0: any */
	uint8_t family; /* enum route_family */
	uint8_t proto; /* 0: any */
	struct rt_prefix src, dst; /* len 0 or family 0: any */
	uint16_t sport_lo, sport_hi, dport_lo, dport_hi;
	char out_iface[IF_NAMESIZE];
	struct route_rule act;
};

struct sf_route_config {
	char path[PATH_MAX];
	struct rt_hook hooks[ROUTE_MAX_ATTACH];
	int nhooks;
	struct rt_tenant *tenants;
	int ntenants;
	struct rt_rule *rules; /* sorted by priority, lowest value first */
	int nrules;
};

/* ---- JSON positions (jpos.c) ---- */

/* Line and column of every member and element of a JSON text, keyed by
 * path ("rules[2].dst"), so that errors in a valid document can name
 * where the offending field is. jansson keeps no positions of values.
 */
struct jpos_entry {
	char *path;
	int line, column;
};

struct jpos {
	struct jpos_entry *v;
	size_t n, cap;
};

#define JPOS_MAX_DEPTH 64

/* Index a text that jansson has already accepted. -E2BIG for a text nested
 * deeper than JPOS_MAX_DEPTH, with *line and *col where it went too deep.
 */
int jpos_build(struct jpos *jp, const char *text, size_t len, int *line,
	       int *col);
/* 0 and the position of path, or -ENOENT. */
int jpos_find(const struct jpos *jp, const char *path, int *line, int *col);
void jpos_free(struct jpos *jp);

/* ---- compiled tables of one generation (compile.c) ---- */

struct rt_lpm_entry {
	struct rt_prefix prefix; /* len 0: the generation's default entry */
	struct route_bitmap bits;
};

struct rt_ingress_entry {
	uint32_t ifindex; /* 0: default */
	struct route_bitmap bits;
};

struct rt_tables {
	int nrules;
	struct route_rule rules[ROUTE_MAX_RULES];
	struct route_rule_meta meta[ROUTE_MAX_RULES];
	struct rt_lpm_entry *lpm[4]; /* src4, dst4, src6, dst6 */
	int nlpm[4];
	struct rt_ingress_entry *ingress;
	int ningress;
	struct route_bitmap protos[ROUTE_PROTO_SLOTS];
	struct route_bitmap *sports; /* ROUTE_PORTS entries */
	struct route_bitmap *dports;
};

enum { RT_SRC4 = 0, RT_DST4, RT_SRC6, RT_DST6 };

int rt_compile(const struct sf_route_config *cfg, struct rt_tables **out);
void rt_tables_free(struct rt_tables *t);

/* ---- maps of an instance (maps.c) ---- */

enum rt_map_id {
	RT_MAP_ACTIVE = 0,
	RT_MAP_RULES,
	RT_MAP_SRC4,
	RT_MAP_DST4,
	RT_MAP_SRC6,
	RT_MAP_DST6,
	RT_MAP_INGRESS,
	RT_MAP_PROTOS,
	RT_MAP_SPORTS,
	RT_MAP_DPORTS,
	RT_MAP_COUNTERS,
	RT_MAP_STATS,
	RT_MAP_META,
	RT_MAP_CARRIED,
	RT_MAP_ATTACH,
	RT_MAP_STATE,
	RT_MAP_MAX,
};

/* Map names, as in route.bpf.c and as pinned. */
extern const char *const rt_map_names[RT_MAP_MAX];

struct rt_maps {
	int fd[RT_MAP_MAX];
	int ncpus;
};

/* Where the instance is pinned: opts->pin_dir or SF_ROUTE_PIN_DIR
 * (route.c).
 */
const char *rt_pin_dir(const struct sf_route_opts *opts);
/* Open every pinned map of the instance in dir; -ENOENT if none. */
int rt_maps_open(struct rt_maps *m, const char *dir);
/* Say why dir or its maps could not be opened: err -ENOENT is "no route
 * rules are applied in dir".
 */
void rt_maps_explain_open(const char *dir, int err);
void rt_maps_close(struct rt_maps *m);

/* Write generation gen: remove whatever it held, then fill it from t. */
int rt_maps_write_gen(struct rt_maps *m, uint32_t gen,
		      const struct rt_tables *t);
/* Remove every entry of generation gen and zero its counters. */
int rt_maps_clear_gen(struct rt_maps *m, uint32_t gen);
/* Packets and bytes of slot idx (gen * ROUTE_MAX_RULES + slot), summed
 * over CPUs plus what earlier generations carried over.
 */
int rt_maps_rule_counter(struct rt_maps *m, uint32_t idx,
			 struct route_counter *out);
int rt_maps_get_state(struct rt_maps *m, struct route_state *st);
int rt_maps_set_state(struct rt_maps *m, const struct route_state *st);
int rt_maps_get_active(struct rt_maps *m, uint32_t *gen);

/* Wait until no program still runs with the generation it read before
 * the last flip (an RCU grace period, through membarrier()).
 */
void rt_wait_grace(void);

/* ---- value syntax (value.c) ---- */

struct rt_proto_name {
	const char *name;
	uint8_t nr;
};

extern const struct rt_proto_name rt_protos[];
extern const size_t rt_nprotos;
extern const char *const rt_action_names[ROUTE_ACT_MAX];

int rt_parse_prefix(const char *s, struct rt_prefix *p);
int rt_parse_mac(const char *s, uint8_t mac[6]);
const char *rt_prefix_str(const struct rt_prefix *p, char *buf, size_t len);
const char *rt_mac_str(const uint8_t mac[6], char *buf, size_t len);
const char *rt_proto_name(uint8_t proto, char *buf, size_t len);

#endif /* __SYSFLOW_ROUTE_INT_H */
