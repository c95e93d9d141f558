// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* route.c: `sysflow route apply|update|show|del|check`: the TC policy
 * router's CLI. The router itself is lib/route/.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysflow/sysflow.h>
#include <sysflow/route.h>
#include "core/core.h"
#include "core/grow.h"
#include "route/route_json.h"
#include "cmds.h"

enum route_verb { VERB_APPLY, VERB_UPDATE, VERB_SHOW, VERB_DEL, VERB_CHECK };

static const char *const verb_names[] = { "apply", "update", "show",
					  "del",   "check",  NULL };

struct route_cfg {
	struct sf_route_opts o; /* --pin-dir */
	int verb;
	const char *config;
	bool json;
	bool no_ifaces;
};

static const struct route_cfg defaults_route = {};

static void init_route(void *cfg)
{
	sf_route_opts_init(&((struct route_cfg *)cfg)->o);
}

static const struct opt_def route_options[] = {
	{ .name = "command",
	  .positional = true,
	  .required = true,
	  .type = OPT_ENUM,
	  .names = verb_names,
	  .offset = offsetof(struct route_cfg, verb),
	  .metavar = "apply|update|show|del|check" },
	{ .name = "config",
	  .positional = true,
	  .type = OPT_STRING,
	  .offset = offsetof(struct route_cfg, config),
	  .metavar = "CONFIG" },
	{ .name = "pin-dir",
	  .type = OPT_STRING,
	  .offset = offsetof(struct route_cfg, o.pin_dir),
	  .metavar = "DIR",
	  .help = "pin folder; default " SF_ROUTE_PIN_DIR },
	{ .name = "json",
	  .short_name = 'j',
	  .type = OPT_FLAG,
	  .offset = offsetof(struct route_cfg, json),
	  .help = "show: JSON lines (status, then one line per rule)" },
	{ .name = "no-ifaces",
	  .type = OPT_FLAG,
	  .offset = offsetof(struct route_cfg, no_ifaces),
	  .help = "check: do not look interfaces up (a config for "
		  "another host or namespace)" },
	OPT_END,
};

static int usage_error(const char *what)
{
	fprintf(stderr, "sysflow route: %s\n", what);
	params_usage(&cmd_route, stderr, false);
	return EXIT_USAGE;
}

/* ---- show ---- */

/* name_w: the NAME column's width, the longest name's (16 at least) */
static int print_rule(const struct sf_route_rule_info *r, bool json, int name_w)
{
	char match[160], action[96];

	if (json)
		return cmd_print_json(sf_route_rule_json(r));
	sf_route_match_str(r, match, sizeof(match));
	sf_route_action_str(r, action, sizeof(action));
	printf("%-10u %-*s %12llu %14llu  %s\n", r->priority, name_w, r->name,
	       (unsigned long long)r->packets, (unsigned long long)r->bytes,
	       action);
	printf("%-10s %s\n", "", match);
	return 0;
}

static void print_status(const struct sf_route_status *st, int name_w)
{
	printf("generation %u, %u rules, %u updates; hooks:", st->generation,
	       st->nrules, st->updates);
	for (int i = 0; i < st->nhooks; i++)
		printf(" %s/%s%s", st->hooks[i].iface,
		       st->hooks[i].egress ? "egress" : "ingress",
		       st->hooks[i].gone ? " (deleted)" : "");
	printf("\npackets %llu: matched %llu, unmatched %llu, not IP %llu, "
	       "malformed %llu,\n  TTL expired %llu, no generation %llu\n",
	       (unsigned long long)st->packets, (unsigned long long)st->matched,
	       (unsigned long long)st->unmatched,
	       (unsigned long long)st->not_ip,
	       (unsigned long long)st->malformed,
	       (unsigned long long)st->ttl_expired,
	       (unsigned long long)st->no_generation);
	printf("%-10s %-*s %12s %14s  %s\n", "PRIORITY", name_w, "NAME",
	       "PACKETS", "BYTES", "ACTION / MATCH");
}

/* Status first, then the rules: read once, so that both agree. */
struct show_buf {
	struct sf_route_rule_info *v;
	size_t n, cap;
};

static int keep_rule(const struct sf_route_rule_info *r, void *ctx)
{
	struct show_buf *b = ctx;

	if (grow_array(b->v, b->cap, b->n, 1, 64))
		return -ENOMEM;
	b->v[b->n++] = *r;
	return 0;
}

static int do_show(struct route_cfg *cfg, struct sf_route_opts *o)
{
	struct sf_route_status st;
	struct show_buf b = {};
	int err = sf_route_show(o, &st, keep_rule, &b), name_w = 16;

	for (size_t i = 0; i < b.n; i++)
		if ((int)strlen(b.v[i].name) > name_w)
			name_w = strlen(b.v[i].name);
	if (!err) { /* a failed write stops the printing; main() names it */
		if (cfg->json)
			cmd_print_json(sf_route_status_json(&st));
		else
			print_status(&st, name_w);
		for (size_t i = 0; i < b.n; i++)
			if (print_rule(&b.v[i], cfg->json, name_w))
				break;
	}
	free(b.v);
	return err ? 1 : 0;
}

/* ---- apply, update, check, del ---- */

static int do_route(void *arg)
{
	struct route_cfg *cfg = arg;
	struct sf_route_opts *o = &cfg->o;
	struct sf_route_config *rc = NULL;
	bool needs_config = cfg->verb == VERB_APPLY ||
			    cfg->verb == VERB_UPDATE || cfg->verb == VERB_CHECK;
	int err;

	if (needs_config && !cfg->config)
		return usage_error("missing CONFIG");
	if (!needs_config && cfg->config)
		return usage_error("show and del take no CONFIG");
	if (cfg->json && cfg->verb != VERB_SHOW)
		return usage_error("-j is for show");
	if (cfg->no_ifaces && cfg->verb != VERB_CHECK)
		return usage_error("--no-ifaces is for check");
	if (cfg->verb != VERB_CHECK && sf_check_privileges("sysflow route"))
		return 1;
	if (needs_config &&
	    sf_route_config_load(cfg->config,
				 cfg->no_ifaces ? SF_ROUTE_NO_IFACES : 0, &rc,
				 NULL))
		return 1;
	switch (cfg->verb) {
	case VERB_CHECK:
		printf("%s: %d rules, valid\n", cfg->config,
		       sf_route_config_nrules(rc));
		err = 0;
		break;
	case VERB_APPLY:
		err = sf_route_apply(rc, o);
		break;
	case VERB_UPDATE:
		err = sf_route_update(rc, o);
		break;
	case VERB_SHOW:
		return do_show(cfg, o);
	default:
		err = sf_route_del(o);
	}
	sf_route_config_free(rc);
	return err ? 1 : 0;
}

const struct cmd_def cmd_route = {
	.name = "route",
	.run = do_route,
	.opts = route_options,
	.defaults = &defaults_route,
	.init = init_route,
	.cfg_size = sizeof(struct route_cfg),
	.summary = "policy routing on TC clsact from a JSON rule set",
	.doc = "  apply CONFIG   load the TC program, install the rules, attach "
	       "to the\n"
	       "                 hooks listed in CONFIG, pin the maps in "
	       "--pin-dir\n"
	       "  update CONFIG  replace the rules atomically, without "
	       "detaching\n"
	       "  show [-j]      rules of the active generation with packet "
	       "and byte\n"
	       "                 counters, program counters, hooks\n"
	       "  del            detach, remove the clsact qdiscs apply "
	       "created, unpin\n"
	       "  check CONFIG   validate CONFIG only (no root needed)\n\n"
	       "Rules match ingress interface or tenant, source and "
	       "destination prefixes,\nprotocol and port ranges; the lowest "
	       "priority value wins. Actions: redirect\n(MAC rewrite), "
	       "redirect_neigh, redirect_peer, drop, pass. Unmatched packets\n"
	       "go through the kernel unchanged. Schema: docs/route.md, man "
	       "sysflow-route.\n",
	.examples =
		"  sysflow route check route.json   # validate\n"
		"  sysflow route check --no-ifaces docs/route-example.json\n"
		"  sysflow route apply route.json   # attach and load\n"
		"  sysflow route update route2.json # switch rules "
		"atomically\n"
		"  sysflow route show -j            # rules with "
		"counters\n"
		"  sysflow route del                # remove all of it\n",
};
