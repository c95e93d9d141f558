/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* route_json.h: JSON form of the policy router's rules and status, with
 * the configuration's own field names (docs/route.md).
 */
#ifndef __SYSFLOW_ROUTE_JSON_H
#define __SYSFLOW_ROUTE_JSON_H

#include <jansson.h>
#include <sysflow/route.h>

/* {"record":"rule","priority":..,"name":..,<match>,"action":..,...,
 *  "packets":..,"bytes":..}; wildcard fields are left out.
 */
json_t *sf_route_rule_json(const struct sf_route_rule_info *r);

/* {"record":"status","generation":..,"updates":..,"rules":..,
 *  "hooks":[..],"stats":{..}}
 */
json_t *sf_route_status_json(const struct sf_route_status *st);

/* Text of a rule's match and action (e.g. "udp 10.0.0.0/24 -> any:53"). */
void sf_route_match_str(const struct sf_route_rule_info *r, char *buf,
			size_t len);
void sf_route_action_str(const struct sf_route_rule_info *r, char *buf,
			 size_t len);

#endif /* __SYSFLOW_ROUTE_JSON_H */
