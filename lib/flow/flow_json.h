/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* flow_json.h: JSON form of an exported flow (IPFIX element names). */
#ifndef __SYSFLOW_FLOW_JSON_H
#define __SYSFLOW_FLOW_JSON_H

#include <jansson.h>
#include <sysflow/flowmon.h>

/* A new object describing f; NULL when out of memory. */
json_t *sf_flow_json(const struct sf_flow *f);

#endif /* __SYSFLOW_FLOW_JSON_H */
