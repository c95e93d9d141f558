// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* route_json.c: JSON and text forms of the policy router's rules and
 * status, for `sysflow route show`. Written with the shared JSON writer.
 */
#include <stdio.h>
#include <string.h>
#include "export/json.h"
#include "route_int.h"
#include "route_json.h"

static const char *prefix_of(const struct sf_route_rule_info *r, bool dst,
			     char *buf, size_t len)
{
	struct rt_prefix p = { .family = r->family,
			       .len = dst ? r->dst_len : r->src_len };

	if (!r->family || !p.len)
		return NULL;
	memcpy(p.addr, dst ? r->dst : r->src, 16);
	return rt_prefix_str(&p, buf, len);
}

static const char *ports_of(uint16_t lo, uint16_t hi, char *buf, size_t len)
{
	if (lo == 0 && hi == 0xFFFF)
		return NULL;
	if (lo == hi)
		snprintf(buf, len, "%u", lo);
	else
		snprintf(buf, len, "%u-%u", lo, hi);
	return buf;
}

static void set_ports(json_t *o, const char *key, uint16_t lo, uint16_t hi)
{
	char buf[16];

	if (!ports_of(lo, hi, buf, sizeof(buf)))
		return;
	json_object_set_new(o, key,
			    lo == hi ? json_integer(lo) : json_string(buf));
}

json_t *sf_route_rule_json(const struct sf_route_rule_info *r)
{
	char buf[64], pn[8];
	json_t *o = json_object();

	if (!o)
		return NULL;
	json_object_set_new(o, "record", json_string("rule"));
	json_object_set_new(o, "priority", json_integer(r->priority));
	json_object_set_new(o, "name", json_string(r->name));
	sf_json_set_str_nonempty(o, "tenant", r->tenant);
	sf_json_set_str_nonempty(o, "in_iface", r->in_iface);
	sf_json_set_str_nonempty(o, "src",
				 prefix_of(r, false, buf, sizeof(buf)));
	sf_json_set_str_nonempty(o, "dst",
				 prefix_of(r, true, buf, sizeof(buf)));
	if (r->proto)
		json_object_set_new(
			o, "proto",
			json_string(rt_proto_name(r->proto, pn, sizeof(pn))));
	set_ports(o, "sport", r->sport_lo, r->sport_hi);
	set_ports(o, "dport", r->dport_lo, r->dport_hi);
	json_object_set_new(o, "action",
			    json_string(sf_route_action_name(r->action)));
	sf_json_set_str_nonempty(o, "out_iface", r->out_iface);
	if (r->set_dmac)
		json_object_set_new(
			o, "dst_mac",
			json_string(rt_mac_str(r->dmac, buf, sizeof(buf))));
	if (r->set_smac)
		json_object_set_new(
			o, "src_mac",
			json_string(rt_mac_str(r->smac, buf, sizeof(buf))));
	if (r->has_via)
		json_object_set_new(o, "via",
				    json_string(sf_ip_str(r->via_family, r->via,
							  buf, sizeof(buf))));
	if (r->action >= SF_ROUTE_REDIRECT)
		json_object_set_new(o, "ttl", json_boolean(r->dec_ttl));
	json_object_set_new(o, "packets", json_integer(r->packets));
	json_object_set_new(o, "bytes", json_integer(r->bytes));
	return o;
}

json_t *sf_route_status_json(const struct sf_route_status *st)
{
	json_t *o = json_object(), *hooks = json_array(), *s = json_object();

	if (!o || !hooks || !s) {
		json_decref(o);
		json_decref(hooks);
		json_decref(s);
		return NULL;
	}
	json_object_set_new(o, "record", json_string("status"));
	json_object_set_new(o, "generation", json_integer(st->generation));
	json_object_set_new(o, "updates", json_integer(st->updates));
	json_object_set_new(o, "rules", json_integer(st->nrules));
	for (int i = 0; i < st->nhooks; i++)
		json_array_append_new(
			hooks,
			json_pack("{s:s, s:s, s:b, s:i, s:b}", "iface",
				  st->hooks[i].iface, "hook",
				  st->hooks[i].egress ? "egress" : "ingress",
				  "created_qdisc", st->hooks[i].created_qdisc,
				  "prog_id", (json_int_t)st->hooks[i].prog_id,
				  "gone", st->hooks[i].gone));
	json_object_set_new(o, "hooks", hooks);
	json_object_set_new(s, "packets", json_integer(st->packets));
	json_object_set_new(s, "matched", json_integer(st->matched));
	json_object_set_new(s, "unmatched", json_integer(st->unmatched));
	json_object_set_new(s, "not_ip", json_integer(st->not_ip));
	json_object_set_new(s, "malformed", json_integer(st->malformed));
	json_object_set_new(s, "ttl_expired", json_integer(st->ttl_expired));
	json_object_set_new(s, "no_generation",
			    json_integer(st->no_generation));
	json_object_set_new(o, "stats", s);
	return o;
}

void sf_route_match_str(const struct sf_route_rule_info *r, char *buf,
			size_t len)
{
	char src[64], dst[64], sp[16], dp[16], pn[8];
	const char *s = prefix_of(r, false, src, sizeof(src));
	const char *d = prefix_of(r, true, dst, sizeof(dst));
	const char *spr = ports_of(r->sport_lo, r->sport_hi, sp, sizeof(sp));
	const char *dpr = ports_of(r->dport_lo, r->dport_hi, dp, sizeof(dp));
	int n = 0;

	buf[0] = 0;
	if (*r->tenant)
		n += snprintf(buf + n, len - n, "tenant %s ", r->tenant);
	if (*r->in_iface && (size_t)n < len)
		n += snprintf(buf + n, len - n, "in %s ", r->in_iface);
	if ((size_t)n < len)
		snprintf(buf + n, len - n, "%s %s%s%s -> %s%s%s",
			 rt_proto_name(r->proto, pn, sizeof(pn)), s ?: "any",
			 spr ? ":" : "", spr ?: "", d ?: "any", dpr ? ":" : "",
			 dpr ?: "");
}

void sf_route_action_str(const struct sf_route_rule_info *r, char *buf,
			 size_t len)
{
	char mac[24], via[64];

	switch (r->action) {
	case SF_ROUTE_REDIRECT:
	case SF_ROUTE_REDIRECT_PEER:
		snprintf(buf, len, "%s %s%s%s", sf_route_action_name(r->action),
			 r->out_iface, r->set_dmac ? " to " : "",
			 r->set_dmac ? rt_mac_str(r->dmac, mac, sizeof(mac)) :
				       "");
		break;
	case SF_ROUTE_REDIRECT_NEIGH:
		snprintf(buf, len, "redirect_neigh %s%s%s", r->out_iface,
			 r->has_via ? " via " : "",
			 r->has_via ? sf_ip_str(r->via_family, r->via, via,
						sizeof(via)) :
				      "");
		break;
	default:
		snprintf(buf, len, "%s", sf_route_action_name(r->action));
	}
}
