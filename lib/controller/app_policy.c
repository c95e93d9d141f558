// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* app_policy.c: the built-in "policy" application: a JSON rules file
 * pushed to the hosts it names when they connect, and again on SIGHUP
 * (rules gone from the file are deleted, the rest re-added: an identical
 * match and priority keeps its counters). The file (docs/guard.md):
 *   {"miss": {"file": "deny"},            optional, SET_CONFIG
 *    "rules": [{"hosts": ["web1"], "op": "connect", "port": 25,
 *               "actions": ["deny"]}, ...]}
 * "hosts" is a name, host id, "*" or a list; no "hosts" means every host.
 * An optional "ask" section answers operations the hosts hold under the
 * "ask" miss policy (EVENT_IN with a hold id) with a VERDICT:
 *   "ask": {"answers": [{"path_prefix": "/srv/pub", "verdict": "allow"}],
 *           "default": "deny"}
 * The first answer whose fields (hosts, op, exe, path, path_prefix, pid,
 * uid) all match decides, else "default"; without one the app stays
 * silent and the host's --ask-timeout decides.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysflow/log.h>
#include "core/core.h"
#include "export/json.h"
#include "ctrl_int.h"
#include "proto/proto_json.h"

#define POLICY_COOKIE (0x5eULL << 48)

struct policy {
	struct sf_ctrl *c;
	const struct sf_ctrl_api *api;
	char *path;
	json_t *doc; /* the file as last loaded */
	json_t *rules; /* borrowed from doc */
};

static const char *const answer_keys[] = { "hosts", "op",	   "exe",
					   "path",  "path_prefix", "pid",
					   "uid",   "verdict" };

static int verdict_parse(json_t *v)
{
	const char *s = json_string_value(v);

	if (s && !strcasecmp(s, "allow"))
		return SF_ACT_ALLOW;
	if (s && !strcasecmp(s, "deny"))
		return SF_ACT_DENY;
	return -1;
}

static int answer_check(json_t *a, char *err, size_t len)
{
	const char *k;
	json_t *v;

	if (!json_is_object(a)) {
		snprintf(err, len, "an answer is an object");
		return -EINVAL;
	}
	json_object_foreach(a, k, v)
	{
		size_t i = 0;

		while (i < ARRAY_SIZE(answer_keys) && strcmp(k, answer_keys[i]))
			i++;
		if (i == ARRAY_SIZE(answer_keys)) {
			snprintf(err, len, "unknown key \"%s\"", k);
			return -EINVAL;
		}
	}
	if (json_object_get(a, "op") &&
	    sf_op_parse(json_string_value(json_object_get(a, "op")) ?: "") <
		    0) {
		snprintf(err, len, "bad \"op\"");
		return -EINVAL;
	}
	if (verdict_parse(json_object_get(a, "verdict")) < 0) {
		snprintf(err, len, "\"verdict\" is \"allow\" or \"deny\"");
		return -EINVAL;
	}
	return 0;
}

/* "ask": {"answers": [...], "default": "allow"|"deny"}, both optional. */
static int ask_check(const char *path, json_t *ask)
{
	json_t *answers = json_object_get(ask, "answers"), *v;
	json_t *def = json_object_get(ask, "default");
	char err[160];
	size_t i;

	if (!ask)
		return 0;
	if (!json_is_object(ask) || (answers && !json_is_array(answers)) ||
	    (def && verdict_parse(def) < 0)) {
		pr_err("policy %s: \"ask\" is {\"answers\": [...], "
		       "\"default\": \"allow\"|\"deny\"}\n",
		       path);
		return -EINVAL;
	}
	json_array_foreach(answers, i, v)
	{
		if (answer_check(v, err, sizeof(err))) {
			pr_err("policy %s: ask answer %zu: %s\n", path, i, err);
			return -EINVAL;
		}
	}
	return 0;
}

static int policy_read(struct policy *p, json_t **doc, json_t **rules)
{
	char err[512];
	json_t *d = sf_json_load_file(p->path, err, sizeof(err)), *r;
	struct sfp_flow_mod fm;
	size_t i;
	json_t *v;

	if (!d) {
		pr_err("policy: %s\n", err);
		return -EINVAL;
	}
	r = json_is_array(d) ? d : json_object_get(d, "rules");
	if (!json_is_array(r)) {
		pr_err("policy %s: expected {\"rules\": [...]} or a list\n",
		       p->path);
		json_decref(d);
		return -EINVAL;
	}
	json_array_foreach(r, i, v)
	{
		if (sfp_rule_from_json(v, &fm, err, sizeof(err))) {
			pr_err("policy %s rule %zu: %s\n", p->path, i, err);
			json_decref(d);
			return -EINVAL;
		}
	}
	if (json_is_object(d) &&
	    ask_check(p->path, json_object_get(d, "ask"))) {
		json_decref(d);
		return -EINVAL;
	}
	*doc = d;
	*rules = r;
	return 0;
}

static bool str_is(json_t *v, const char *s)
{
	return !v || (json_is_string(v) && !strcmp(json_string_value(v), s));
}

static bool int_is(json_t *v, uint32_t n)
{
	return !v || (json_is_integer(v) && json_integer_value(v) == n);
}

static bool under(const char *path, json_t *prefix)
{
	const char *d = json_string_value(prefix);
	size_t n;

	if (!prefix)
		return true;
	if (!d)
		return false;
	n = strlen(d);
	while (n > 1 && d[n - 1] == '/')
		n--;
	return !strncmp(path, d, n) &&
	       (path[n] == '/' || path[n] == 0 || (n == 1 && d[0] == '/'));
}

static bool answer_matches(json_t *a, struct sf_host *h,
			   const struct sfp_event *e)
{
	json_t *op = json_object_get(a, "op");

	return ctrl_host_selected(h, json_object_get(a, "hosts")) &&
	       (!op || sf_op_parse(json_string_value(op) ?: "") == e->op) &&
	       str_is(json_object_get(a, "exe"), e->exe) &&
	       str_is(json_object_get(a, "path"), e->object) &&
	       under(e->object, json_object_get(a, "path_prefix")) &&
	       int_is(json_object_get(a, "pid"), e->pid) &&
	       int_is(json_object_get(a, "uid"), e->uid);
}

/* A held operation: the first matching answer, else the default. */
static void policy_message(void *st, struct sf_host *h, const struct sfp_msg *m)
{
	struct policy *p = st;
	json_t *ask = json_is_object(p->doc) ? json_object_get(p->doc, "ask") :
					       NULL;
	json_t *verdict = json_object_get(ask, "default"), *v;
	size_t i;

	if (!ask || m->h.type != SFP_EVENT_IN || m->event.reason != SFP_EV_HELD)
		return;
	json_array_foreach(json_object_get(ask, "answers"), i, v)
	{
		if (answer_matches(v, h, &m->event)) {
			verdict = json_object_get(v, "verdict");
			break;
		}
	}
	if (verdict)
		p->api->verdict(h, m->event.hold_id,
				verdict_parse(verdict) == SF_ACT_DENY);
}

static void rule_fm(json_t *v, size_t i, struct sfp_flow_mod *fm)
{
	char err[160];

	sfp_rule_from_json(v, fm, err, sizeof(err));
	if (!json_object_get(v, "cookie"))
		fm->cookie = POLICY_COOKIE | i;
}

static void push(struct policy *p, struct sf_host *h)
{
	json_t *miss = json_is_object(p->doc) ?
			       json_object_get(p->doc, "miss") :
			       NULL,
	       *v;
	struct sfp_flow_mod fm;
	uint32_t n = 0;
	size_t i;

	if (miss) {
		struct sfp_msg m = { .h = { .type = SFP_SET_CONFIG } };
		const char *k;

		memcpy(m.config.miss, p->api->host_features(h)->miss,
		       sizeof(m.config.miss));
		json_object_foreach(miss, k, v)
		{
			int cls = sf_class_parse(k),
			    pol = sf_miss_parse(json_string_value(v) ?: "");

			if (cls >= 0 && pol >= 0)
				m.config.miss[cls] = pol;
		}
		p->api->send(h, &m);
	}
	json_array_foreach(p->rules, i, v)
	{
		if (!ctrl_host_selected(h, json_object_get(v, "hosts")))
			continue;
		rule_fm(v, i, &fm);
		fm.command = SFP_FM_ADD;
		if (p->api->send_flow_mod(h, &fm) >= 0)
			n++;
	}
	p->api->send(h,
		     &(struct sfp_msg){ .h = { .type = SFP_BARRIER_REQUEST } });
	pr_info("policy: %u rules pushed to %s\n", n, p->api->host_name(h));
}

static void *policy_init(struct sf_ctrl *c, const struct sf_ctrl_api *api,
			 const char *args)
{
	struct policy *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->c = c;
	p->api = api;
	p->path = strdup(args ? args : "");
	if (!p->path || policy_read(p, &p->doc, &p->rules)) {
		free(p->path);
		free(p);
		return NULL;
	}
	pr_info("policy: %zu rules from %s\n", json_array_size(p->rules),
		p->path);
	return p;
}

static void policy_fini(void *st)
{
	struct policy *p = st;

	json_decref(p->doc);
	free(p->path);
	free(p);
}

static void policy_connect(void *st, struct sf_host *h)
{
	push(st, h);
}

struct reload_ctx {
	struct policy *p;
	json_t *old_rules;
};

static bool still_there(json_t *rules, struct sf_host *h,
			const struct sfp_flow_mod *old)
{
	struct sfp_flow_mod fm;
	size_t i;
	json_t *v;

	json_array_foreach(rules, i, v)
	{
		if (!ctrl_host_selected(h, json_object_get(v, "hosts")))
			continue;
		rule_fm(v, i, &fm);
		if (fm.priority == old->priority &&
		    sfp_match_equal(&fm.match, &old->match))
			return true;
	}
	return false;
}

static int reload_host(void *ctx, struct sf_host *h)
{
	struct reload_ctx *r = ctx;
	struct sfp_flow_mod fm;
	size_t i;
	json_t *v;

	json_array_foreach(r->old_rules, i, v)
	{
		if (!ctrl_host_selected(h, json_object_get(v, "hosts")))
			continue;
		rule_fm(v, i, &fm);
		if (still_there(r->p->rules, h, &fm))
			continue;
		fm.command = SFP_FM_DELETE_STRICT;
		fm.cookie_mask = 0;
		r->p->api->send_flow_mod(h, &fm);
	}
	push(r->p, h);
	return 0;
}

static void policy_reload(void *st)
{
	struct policy *p = st;
	struct reload_ctx r = { .p = p };
	json_t *doc, *rules, *old_doc = p->doc;

	if (policy_read(p, &doc, &rules)) {
		pr_warn("policy: %s not reloaded; the old rules stay\n",
			p->path);
		return;
	}
	r.old_rules = p->rules;
	p->doc = doc;
	p->rules = rules;
	p->api->foreach_host(p->c, reload_host, &r);
	json_decref(old_doc);
	pr_info("policy: reloaded %zu rules from %s\n", json_array_size(rules),
		p->path);
}

const struct sf_app sf_app_policy = {
	.name = "policy",
	.init = policy_init,
	.fini = policy_fini,
	.on_connect = policy_connect,
	.on_message = policy_message,
	.on_reload = policy_reload,
};
