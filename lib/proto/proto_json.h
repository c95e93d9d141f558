/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* proto_json.h: the JSON form of SysFlow rules, statistics and events, as
 * used by the policy app's rules file, `sysflow ctl` and the logs. A rule
 * is one flat object (docs/guard.md, "Rule JSON"):
 *   {"op":"connect","exe":"/usr/bin/curl","port":"443","proto":"tcp",
 *    "priority":100,"cookie":7,"actions":["deny","report"]}
 */
#ifndef __SYSFLOW_PROTO_JSON_H
#define __SYSFLOW_PROTO_JSON_H

#include <jansson.h>
#include <sysflow/proto.h>

/* Fill fm (command ADD unless "command" says otherwise) from a rule
 * object. Returns 0, or -EINVAL with a message naming the key in err.
 */
int sfp_rule_from_json(json_t *obj, struct sfp_flow_mod *fm, char *err,
		       size_t errlen);

/* Add the match's fields to obj (the same keys the parser reads). */
void sfp_match_to_json(json_t *obj, const struct sfp_match *m);
json_t *sfp_actions_to_json(const struct sfp_action *a, int n);
json_t *sfp_flow_mod_to_json(const struct sfp_flow_mod *fm);
json_t *sfp_stats_to_json(const struct sfp_flow_stats *e);
json_t *sfp_removed_to_json(const struct sfp_flow_removed *r);
/* type is SFP_ACTION_REPORT or SFP_EVENT_IN. */
json_t *sfp_event_to_json(uint8_t type, const struct sfp_event *e);

#endif /* __SYSFLOW_PROTO_JSON_H */
