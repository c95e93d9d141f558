/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* hop_json.h: JSON form of tracepkt's hops and per-hop statistics. */
#ifndef __SYSFLOW_HOP_JSON_H
#define __SYSFLOW_HOP_JSON_H

#include <jansson.h>
#include <sysflow/tracepkt.h>

/* A new object {"type":"hop", ...} describing h; NULL when out of memory. */
json_t *sf_tracepkt_hop_json(const struct sf_tracepkt_hop *h);

/* A new object {"type":"summary", ...} for one hop pair. */
json_t *sf_tracepkt_hop_stats_json(const struct sf_tracepkt_hop_stats *st);

/* Protocol name ("tcp", "udp", "icmp", "icmp6") or its number. */
const char *sf_tracepkt_proto_name(uint8_t proto, char *buf, size_t len);

#endif /* __SYSFLOW_HOP_JSON_H */
