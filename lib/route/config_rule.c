// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* config_rule.c: the "rules" of a policy router configuration: match
 * fields (tenant, interface, prefixes or subnet and device names,
 * protocol, ports) and actions, validated one by one, then checked for
 * duplicate priorities and names and sorted by priority.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "core/core.h"
#include "config_int.h"

/* ---- rules ---- */

/* A prefix, a subnet name or a device name (its address as a host
 * prefix).
 */
static int rule_prefix(struct loader *ld, json_t *obj, const char *path,
		       const char *key, struct rt_prefix *p)
{
	const struct rt_subnet *sn;
	const struct rt_device *d;
	char field[96];
	const char *s;
	int err = cfg_get_str(ld, obj, path, key, false, &s);

	if (err || !s)
		return err;
	cfg_path(field, sizeof(field), path, key);
	if ((sn = cfg_find_subnet(ld->cfg, s))) {
		*p = sn->prefix;
		return 0;
	}
	if ((d = cfg_find_device(ld->cfg, s))) {
		if (!d->addr.family)
			return cfg_fail(ld, field, "device '%s' has no address",
					s);
		*p = d->addr;
		return 0;
	}
	err = rt_parse_prefix(s, p);
	if (err == -EDOM)
		return cfg_fail(ld, field,
				"bad prefix '%s': host bits are set "
				"beyond the prefix length",
				s);
	if (err)
		return cfg_fail(ld, field,
				"bad prefix '%s' (ADDRESS/LEN, or the "
				"name of a subnet or device)",
				s);
	return 0;
}

static int rule_port(struct loader *ld, json_t *obj, const char *path,
		     const char *key, uint16_t *lo, uint16_t *hi)
{
	json_t *v = json_object_get(obj, key);
	long long a, b;
	char field[96];

	*lo = 0;
	*hi = 0xFFFF;
	if (!v)
		return 0;
	cfg_path(field, sizeof(field), path, key);
	if (json_is_integer(v)) {
		a = b = json_integer_value(v);
	} else if (json_is_string(v)) {
		const char *str = json_string_value(v);
		char *end;

		errno = 0;
		a = b = strtoll(str, &end, 10);
		if (*end == '-' && end != str)
			b = strtoll(end + 1, &end, 10);
		if (errno || end == str || *end || !isdigit(*str) ||
		    !isdigit(end[-1]))
			return cfg_fail(ld, field,
					"bad port range '%s' (PORT or "
					"LOW-HIGH)",
					str);
	} else {
		return cfg_fail(ld, field,
				"expected a port number or a "
				"\"LOW-HIGH\" string");
	}
	if (a < 0 || b > 65535 || a > b)
		return cfg_fail(ld, field,
				"port range %lld-%lld is not within "
				"0-65535 in increasing order",
				a, b);
	*lo = a;
	*hi = b;
	return 0;
}

static int rule_proto(struct loader *ld, json_t *obj, const char *path,
		      uint8_t *proto)
{
	json_t *v = json_object_get(obj, "proto");
	char field[96];

	*proto = 0;
	if (!v)
		return 0;
	cfg_path(field, sizeof(field), path, "proto");
	if (json_is_integer(v)) {
		if (json_integer_value(v) < 0 || json_integer_value(v) > 255)
			return cfg_fail(ld, field,
					"protocol number %lld is not "
					"within 0-255",
					(long long)json_integer_value(v));
		*proto = json_integer_value(v);
		return 0;
	}
	if (json_is_string(v)) {
		if (!strcmp(json_string_value(v), "any"))
			return 0;
		for (size_t i = 0; i < rt_nprotos; i++) {
			if (!strcmp(json_string_value(v), rt_protos[i].name)) {
				*proto = rt_protos[i].nr;
				return 0;
			}
		}
	}
	return cfg_fail(ld, field,
			"unknown protocol; use tcp, udp, icmp, icmp6, "
			"sctp, gre, any or a number 0-255");
}

static int rule_family(struct loader *ld, const char *path, struct rt_rule *r,
		       const char *key, uint8_t family)
{
	char field[96];

	if (!family)
		return 0;
	if (r->family && r->family != family) {
		cfg_path(field, sizeof(field), path, key);
		return cfg_fail(ld, field, "IPv%u address in an IPv%u rule",
				family, r->family);
	}
	r->family = family;
	return 0;
}

/* The string members of a redirect action */
struct fwd_fields {
	const char *dev_name, *iface, *dmac, *smac, *via;
};

static int fwd_get_fields(struct loader *ld, json_t *obj, const char *path,
			  struct fwd_fields *f)
{
	return cfg_get_str(ld, obj, path, "device", false, &f->dev_name) ?:
		       cfg_get_str(ld, obj, path, "out_iface", false, &f->iface) ?:
		       cfg_get_str(ld, obj, path, "dst_mac", false, &f->dmac) ?:
		       cfg_get_str(ld, obj, path, "src_mac", false, &f->smac) ?:
		       cfg_get_str(ld, obj, path, "via", false, &f->via);
}

/* pass and drop: none of the redirect members */
static int fwd_reject_fields(struct loader *ld, json_t *obj, const char *path)
{
	static const char *const only_fwd[] = { "device",  "out_iface",
						"dst_mac", "src_mac",
						"via",	   "ttl" };
	char field[96];

	for (size_t i = 0; i < ARRAY_SIZE(only_fwd); i++) {
		if (!json_object_get(obj, only_fwd[i]))
			continue;
		cfg_path(field, sizeof(field), path, only_fwd[i]);
		return cfg_fail(ld, field,
				"only redirect actions take "
				"'%s'",
				only_fwd[i]);
	}
	return 0;
}

/* The out interface: a device's, or out_iface itself */
static int fwd_out_iface(struct loader *ld, const char *path, struct rt_rule *r,
			 const struct fwd_fields *f,
			 const struct rt_device **devp, int *ifindex)
{
	const struct rt_device *dev = NULL;
	char field[96];
	int err;

	cfg_path(field, sizeof(field), path, "device");
	if (f->dev_name && !(dev = cfg_find_device(ld->cfg, f->dev_name)))
		return cfg_fail(ld, field,
				"unknown device '%s' (not in any "
				"tenant's devices)",
				f->dev_name);
	if (dev && f->iface) {
		cfg_path(field, sizeof(field), path, "out_iface");
		return cfg_fail(ld, field, "give either device or out_iface");
	}
	if (!dev && !f->iface)
		return cfg_fail(ld, path,
				"missing field 'out_iface' (or 'device')");
	cfg_path(field, sizeof(field), path, dev ? "device" : "out_iface");
	err = cfg_get_iface(ld, field, dev ? dev->device : f->iface,
			    r->out_iface, ifindex);
	if (err)
		return err;
	r->act.out_ifindex = *ifindex;
	*devp = dev;
	return 0;
}

/* dst_mac, else the device's MAC */
static int fwd_dst_mac(struct loader *ld, const char *path,
		       struct route_rule *a, const char *dmac,
		       const struct rt_device *dev)
{
	if (dmac) {
		int err = cfg_parse_mac(ld, path, "dst_mac", dmac, a->dmac);

		if (err)
			return err;
		a->flags |= ROUTE_F_DMAC;
	} else if (dev && dev->has_mac) {
		memcpy(a->dmac, dev->mac, 6);
		a->flags |= ROUTE_F_DMAC;
	}
	return 0;
}

/* src_mac, else (but for redirect_neigh) the out interface's MAC */
static int fwd_src_mac(struct loader *ld, const char *path, struct rt_rule *r,
		       const char *smac, int ifindex)
{
	struct route_rule *a = &r->act;

	if (smac) {
		int err = cfg_parse_mac(ld, path, "src_mac", smac, a->smac);

		if (err)
			return err;
		a->flags |= ROUTE_F_SMAC;
	} else if (a->action != ROUTE_ACT_NEIGH && ifindex &&
		   !cfg_iface_mac(r->out_iface, a->smac)) {
		a->flags |= ROUTE_F_SMAC; /* the out interface's own MAC */
	}
	return 0;
}

/* redirect needs a destination MAC; redirect_neigh takes none */
static int fwd_check_macs(struct loader *ld, const char *path,
			  const struct route_rule *a, const char *dmac,
			  const char *smac)
{
	char field[96];

	if (a->action == ROUTE_ACT_REDIRECT && !(a->flags & ROUTE_F_DMAC))
		return cfg_fail(ld, path,
				"missing field 'dst_mac' (redirect "
				"rewrites MACs; use redirect_neigh to let the "
				"kernel resolve it)");
	if (a->action == ROUTE_ACT_NEIGH && (dmac || smac)) {
		cfg_path(field, sizeof(field), path,
			 dmac ? "dst_mac" : "src_mac");
		return cfg_fail(ld, field,
				"redirect_neigh takes no MAC: the "
				"neighbour table fills in L2");
	}
	return 0;
}

/* via: the next hop of redirect_neigh */
static int fwd_via(struct loader *ld, const char *path, struct rt_rule *r,
		   const char *via)
{
	struct route_rule *a = &r->act;
	struct rt_prefix vp;
	char field[96];
	int err;

	if (!via)
		return 0;
	cfg_path(field, sizeof(field), path, "via");
	if (a->action != ROUTE_ACT_NEIGH)
		return cfg_fail(ld, field,
				"only redirect_neigh takes a "
				"next hop");
	if (rt_parse_prefix(via, &vp) || strchr(via, '/'))
		return cfg_fail(ld, field,
				"bad next hop '%s' (an IPv4 or "
				"IPv6 address)",
				via);
	err = rule_family(ld, path, r, "via", vp.family);
	if (err)
		return err;
	a->flags |= ROUTE_F_VIA;
	a->via_family = vp.family;
	memcpy(a->via, vp.addr, 16);
	return 0;
}

/* ttl: decrement (true, the default) or not */
static int fwd_ttl(struct loader *ld, json_t *obj, const char *path,
		   struct route_rule *a)
{
	json_t *ttl = json_object_get(obj, "ttl");
	char field[96];

	cfg_path(field, sizeof(field), path, "ttl");
	if (ttl && !json_is_boolean(ttl))
		return cfg_fail(ld, field,
				"expected true (decrement TTL, the "
				"default) or false");
	if (!ttl || json_is_true(ttl))
		a->flags |= ROUTE_F_TTL;
	return 0;
}

/* Things only redirect actions have. */
static int rule_forward(struct loader *ld, json_t *obj, const char *path,
			struct rt_rule *r)
{
	const struct rt_device *dev = NULL;
	struct fwd_fields f;
	int err, ifindex;

	err = fwd_get_fields(ld, obj, path, &f);
	if (err)
		return err;
	if (r->act.action < ROUTE_ACT_REDIRECT)
		return fwd_reject_fields(ld, obj, path);
	return fwd_out_iface(ld, path, r, &f, &dev, &ifindex)		 ?:
		       fwd_dst_mac(ld, path, &r->act, f.dmac, dev)	 ?:
		       fwd_src_mac(ld, path, r, f.smac, ifindex)	 ?:
		       fwd_check_macs(ld, path, &r->act, f.dmac, f.smac) ?:
		       fwd_via(ld, path, r, f.via)			 ?:
		       fwd_ttl(ld, obj, path, &r->act);
}

/* priority: required, 0-UINT32_MAX; it names the rule until "name" does */
static int rule_priority(struct loader *ld, json_t *v, const char *path,
			 struct rt_rule *r)
{
	json_t *prio = json_object_get(v, "priority");
	char field[96];

	cfg_path(field, sizeof(field), path, "priority");
	if (!prio)
		return cfg_fail(ld, path, "missing field 'priority'");
	if (!json_is_integer(prio) || json_integer_value(prio) < 0 ||
	    json_integer_value(prio) > UINT32_MAX)
		return cfg_fail(ld, field,
				"expected an integer 0-%u (lower "
				"matches first)",
				UINT32_MAX);
	r->priority = json_integer_value(prio);
	snprintf(r->name, sizeof(r->name), "prio-%u", r->priority);
	return 0;
}

static int rule_tenant(struct loader *ld, const char *path, struct rt_rule *r,
		       const char *tenant)
{
	char field[96];

	if (!tenant)
		return 0;
	for (int t = 0; t < ld->cfg->ntenants; t++)
		if (!strcmp(ld->cfg->tenants[t].name, tenant))
			r->tenant = t;
	cfg_path(field, sizeof(field), path, "tenant");
	if (r->tenant < 0)
		return cfg_fail(ld, field, "unknown tenant '%s'", tenant);
	return 0;
}

static int rule_in_iface(struct loader *ld, const char *path, struct rt_rule *r,
			 const char *in_iface)
{
	char ifname[IF_NAMESIZE];
	char field[96];

	if (!in_iface)
		return 0;
	cfg_path(field, sizeof(field), path, "in_iface");
	return cfg_get_iface(ld, field, in_iface, ifname, &r->in_ifindex);
}

/* src, dst, proto and ports; ports only with tcp or udp */
static int rule_match(struct loader *ld, json_t *v, const char *path,
		      struct rt_rule *r)
{
	char field[96];
	int err;

	err = rule_prefix(ld, v, path, "src", &r->src)		     ?:
		      rule_family(ld, path, r, "src", r->src.family) ?:
		      rule_prefix(ld, v, path, "dst", &r->dst)	     ?:
		      rule_family(ld, path, r, "dst", r->dst.family) ?:
		      rule_proto(ld, v, path, &r->proto)	     ?:
		      rule_port(ld, v, path, "sport", &r->sport_lo, &r->sport_hi) ?:
		      rule_port(ld, v, path, "dport", &r->dport_lo,
				&r->dport_hi);
	if (err)
		return err;
	if ((json_object_get(v, "sport") || json_object_get(v, "dport")) &&
	    r->proto != 6 && r->proto != 17) {
		cfg_path(field, sizeof(field), path,
			 json_object_get(v, "sport") ? "sport" : "dport");
		return cfg_fail(ld, field,
				"ports need \"proto\": \"tcp\" or "
				"\"udp\"");
	}
	return 0;
}

/* "pass, drop, ... or redirect_peer", from rt_action_names */
static void action_list(char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = 0;
	for (int a = 0; a < ROUTE_ACT_MAX && n < len; a++)
		n += snprintf(buf + n, len - n, "%s%s",
			      !a		     ? "" :
			      a == ROUTE_ACT_MAX - 1 ? " or " :
						       ", ",
			      rt_action_names[a]);
}

static int rule_action(struct loader *ld, const char *path, struct rt_rule *r,
		       const char *action)
{
	char field[96], names[128];
	int a;

	for (a = 0; a < ROUTE_ACT_MAX; a++)
		if (!strcmp(action, rt_action_names[a]))
			break;
	cfg_path(field, sizeof(field), path, "action");
	if (a == ROUTE_ACT_MAX) {
		action_list(names, sizeof(names));
		return cfg_fail(ld, field, "unknown action '%s'; use %s",
				action, names);
	}
	r->act.action = a;
	r->act.priority = r->priority;
	return 0;
}

static int load_rule(struct loader *ld, json_t *v, const char *path,
		     struct rt_rule *r)
{
	static const char *const keys[] = {
		"priority", "name",	 "tenant",  "in_iface", "src",
		"dst",	    "proto",	 "sport",   "dport",	"action",
		"device",   "out_iface", "dst_mac", "src_mac",	"via",
		"ttl",	    NULL,
	};
	const char *action, *tenant, *in_iface;
	int err, col;

	err = cfg_get_object(ld, v, path) ?: cfg_check_keys(ld, v, path, keys);
	if (err)
		return err;
	jpos_find(&ld->jp, path, &r->line, &col);
	err = rule_priority(ld, v, path, r);
	if (err)
		return err;
	r->tenant = -1;
	err = cfg_get_name(ld, v, path, "name", false, r->name, sizeof(r->name)) ?:
		      cfg_get_str(ld, v, path, "tenant", false, &tenant)     ?:
		      cfg_get_str(ld, v, path, "in_iface", false, &in_iface) ?:
		      cfg_get_str(ld, v, path, "action", true, &action);
	if (err)
		return err;
	return rule_tenant(ld, path, r, tenant)		    ?:
		       rule_in_iface(ld, path, r, in_iface) ?:
		       rule_match(ld, v, path, r)	    ?:
		       rule_action(ld, path, r, action)	    ?:
		       rule_forward(ld, v, path, r);
}

static int check_unique(struct loader *ld, int i)
{
	const struct rt_rule *r = &ld->cfg->rules[i];
	char field[96];

	for (int k = 0; k < i; k++) {
		const struct rt_rule *o = &ld->cfg->rules[k];

		if (o->priority == r->priority) {
			snprintf(field, sizeof(field), "rules[%d].priority", i);
			return cfg_fail(ld, field,
					"duplicate priority %u (also "
					"rules[%d] at line %d)",
					r->priority, k, o->line);
		}
		if (!strcmp(o->name, r->name)) {
			snprintf(field, sizeof(field), "rules[%d].name", i);
			return cfg_fail(ld, field,
					"duplicate name '%s' (also "
					"rules[%d] at line %d)",
					r->name, k, o->line);
		}
	}
	return 0;
}

static int by_priority(const void *a, const void *b)
{
	const struct rt_rule *x = a, *y = b;

	return x->priority < y->priority ? -1 : x->priority > y->priority;
}

int cfg_load_rules(struct loader *ld, json_t *root)
{
	struct sf_route_config *cfg = ld->cfg;
	char path[96];
	json_t *arr, *v;
	size_t i;
	int err;

	arr = cfg_get_array(ld, root, "", "rules", &err);
	if (err)
		return err;
	if (!arr)
		return cfg_fail(ld, "", "missing field 'rules'");
	if (json_array_size(arr) > ROUTE_MAX_RULES)
		return cfg_fail(ld, "rules", "%zu rules; at most %d fit",
				json_array_size(arr), ROUTE_MAX_RULES);
	cfg->rules = calloc(json_array_size(arr) + 1, sizeof(*cfg->rules));
	if (!cfg->rules)
		return -ENOMEM;
	json_array_foreach(arr, i, v)
	{
		snprintf(path, sizeof(path), "rules[%zu]", i);
		err = load_rule(ld, v, path, &cfg->rules[i]) ?:
			      check_unique(ld, i);
		if (err)
			return err;
		cfg->nrules++;
	}
	qsort(cfg->rules, cfg->nrules, sizeof(*cfg->rules), by_priority);
	return 0;
}
