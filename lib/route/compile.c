// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* compile.c: turn a validated rule set into the tables of one generation:
 * for each field, the bitmap of the rule slots that accept each value
 * (route.h explains the scheme). Pure computation, no maps touched.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "core/core.h"
#include "route_int.h"

static void bit_set(struct route_bitmap *b, int slot)
{
	b->w[slot / 64] |= 1ULL << (slot % 64);
}

static bool prefix_contains(const struct rt_prefix *outer,
			    const struct rt_prefix *inner)
{
	int full = outer->len / 8, rest = outer->len % 8;

	if (outer->family != inner->family || outer->len > inner->len)
		return false;
	if (memcmp(outer->addr, inner->addr, full))
		return false;
	return !rest ||
	       !((outer->addr[full] ^ inner->addr[full]) & (0xFF00 >> rest));
}

static bool prefix_equal(const struct rt_prefix *a, const struct rt_prefix *b)
{
	return a->family == b->family && a->len == b->len &&
	       prefix_contains(a, b);
}

/* The rule's prefix for one field; NULL when the field is a wildcard. */
static const struct rt_prefix *field_of(const struct rt_rule *r, bool dst)
{
	const struct rt_prefix *p = dst ? &r->dst : &r->src;

	return p->family && p->len ? p : NULL;
}

/* Entries of one trie: the default (rules without this field) and one per
 * distinct prefix, carrying every rule whose prefix contains it.
 */
static int compile_lpm(const struct sf_route_config *cfg, int family, bool dst,
		       struct rt_lpm_entry **out, int *n)
{
	struct rt_lpm_entry *v = calloc(cfg->nrules + 1, sizeof(*v));
	int cnt = 1;

	if (!v)
		return -ENOMEM;
	v[0].prefix.family = family;
	for (int i = 0; i < cfg->nrules; i++) {
		const struct rt_prefix *p = field_of(&cfg->rules[i], dst);
		int k;

		if (!p || p->family != family)
			continue;
		for (k = 1; k < cnt; k++)
			if (prefix_equal(&v[k].prefix, p))
				break;
		if (k == cnt)
			v[cnt++].prefix = *p;
	}
	for (int k = 0; k < cnt; k++) {
		for (int i = 0; i < cfg->nrules; i++) {
			const struct rt_rule *r = &cfg->rules[i];
			const struct rt_prefix *p = field_of(r, dst);

			if (r->family && r->family != family)
				continue;
			if (!p || (k && prefix_contains(p, &v[k].prefix)))
				bit_set(&v[k].bits, i);
		}
	}
	*out = v;
	*n = cnt;
	return 0;
}

static bool tenant_has(const struct rt_tenant *t, int ifindex)
{
	for (int i = 0; i < t->ndevices; i++)
		if (t->devices[i].ifindex == ifindex)
			return true;
	return false;
}

static bool rule_accepts_iface(const struct sf_route_config *cfg,
			       const struct rt_rule *r, int ifindex)
{
	if (r->in_ifindex && r->in_ifindex != ifindex)
		return false;
	return r->tenant < 0 || tenant_has(&cfg->tenants[r->tenant], ifindex);
}

static int add_iface(struct rt_tables *t, int ifindex)
{
	if (!ifindex)
		return 0;
	for (int k = 0; k < t->ningress; k++)
		if (t->ingress[k].ifindex == (uint32_t)ifindex)
			return 0;
	if (t->ningress == ROUTE_MAX_IFACES) {
		pr_err("more than %d ingress interfaces in rules and tenants\n",
		       ROUTE_MAX_IFACES - 1);
		return -E2BIG;
	}
	t->ingress[t->ningress++].ifindex = ifindex;
	return 0;
}

static int compile_ingress(const struct sf_route_config *cfg,
			   struct rt_tables *t)
{
	int err = 0;

	t->ingress = calloc(ROUTE_MAX_IFACES, sizeof(*t->ingress));
	if (!t->ingress)
		return -ENOMEM;
	t->ningress = 1; /* [0]: ifindex 0, the default */
	for (int i = 0; i < cfg->nrules && !err; i++)
		err = add_iface(t, cfg->rules[i].in_ifindex);
	for (int k = 0; k < cfg->ntenants && !err; k++)
		for (int d = 0; d < cfg->tenants[k].ndevices && !err; d++)
			err = add_iface(t, cfg->tenants[k].devices[d].ifindex);
	if (err)
		return err;
	for (int i = 0; i < cfg->nrules; i++) {
		const struct rt_rule *r = &cfg->rules[i];

		if (!r->in_ifindex && r->tenant < 0)
			bit_set(&t->ingress[0].bits, i);
		for (int k = 1; k < t->ningress; k++)
			if (rule_accepts_iface(cfg, r, t->ingress[k].ifindex))
				bit_set(&t->ingress[k].bits, i);
	}
	return 0;
}

static bool has_ports(const struct rt_rule *r)
{
	return r->sport_lo || r->sport_hi != 0xFFFF || r->dport_lo ||
	       r->dport_hi != 0xFFFF;
}

static void compile_l4(const struct sf_route_config *cfg, struct rt_tables *t)
{
	for (int i = 0; i < cfg->nrules; i++) {
		const struct rt_rule *r = &cfg->rules[i];

		for (int p = 0; p < 256; p++)
			if (!r->proto || r->proto == p)
				bit_set(&t->protos[p], i);
		if (!has_ports(r) && (!r->proto || r->proto == 6))
			bit_set(&t->protos[ROUTE_PROTO_TCP_NOPORTS], i);
		if (!has_ports(r) && (!r->proto || r->proto == 17))
			bit_set(&t->protos[ROUTE_PROTO_UDP_NOPORTS], i);
		for (int p = r->sport_lo; p <= r->sport_hi; p++)
			bit_set(&t->sports[p], i);
		for (int p = r->dport_lo; p <= r->dport_hi; p++)
			bit_set(&t->dports[p], i);
	}
}

static void fill_meta(const struct sf_route_config *cfg,
		      const struct rt_rule *r, struct route_rule_meta *m)
{
	memcpy(m->name, r->name, sizeof(m->name));
	if (r->tenant >= 0)
		memcpy(m->tenant, cfg->tenants[r->tenant].name,
		       sizeof(m->tenant));
	m->in_ifindex = r->in_ifindex;
	m->family = r->family;
	m->proto = r->proto;
	m->src_len = r->src.family ? r->src.len : 0;
	m->dst_len = r->dst.family ? r->dst.len : 0;
	memcpy(m->src, r->src.addr, 16);
	memcpy(m->dst, r->dst.addr, 16);
	m->sport_lo = r->sport_lo;
	m->sport_hi = r->sport_hi;
	m->dport_lo = r->dport_lo;
	m->dport_hi = r->dport_hi;
}

int rt_compile(const struct sf_route_config *cfg, struct rt_tables **out)
{
	static const struct {
		int family;
		bool dst;
	} tries[4] = {
		[RT_SRC4] = { 4, false },
		[RT_DST4] = { 4, true },
		[RT_SRC6] = { 6, false },
		[RT_DST6] = { 6, true },
	};
	struct rt_tables *t = calloc(1, sizeof(*t));
	int err = 0;

	*out = NULL;
	if (!t)
		return -ENOMEM;
	t->sports = calloc(ROUTE_PORTS, sizeof(*t->sports));
	t->dports = calloc(ROUTE_PORTS, sizeof(*t->dports));
	if (!t->sports || !t->dports)
		err = -ENOMEM;
	t->nrules = cfg->nrules;
	for (int i = 0; i < cfg->nrules && !err; i++) {
		t->rules[i] = cfg->rules[i].act;
		fill_meta(cfg, &cfg->rules[i], &t->meta[i]);
	}
	for (int k = 0; k < 4 && !err; k++)
		err = compile_lpm(cfg, tries[k].family, tries[k].dst,
				  &t->lpm[k], &t->nlpm[k]);
	if (!err)
		err = compile_ingress(cfg, t);
	if (err) {
		rt_tables_free(t);
		return err;
	}
	compile_l4(cfg, t);
	*out = t;
	return 0;
}

void rt_tables_free(struct rt_tables *t)
{
	if (!t)
		return;
	for (int k = 0; k < 4; k++)
		free(t->lpm[k]);
	free(t->ingress);
	free(t->sports);
	free(t->dports);
	free(t);
}
