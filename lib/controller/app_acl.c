// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* app_acl.c: the built-in "acl" application, the seed's time-window access
 * control (chacl): each window's rule is in force on its hosts only
 * between "from" and "to" (local time, HH:MM or HH:MM:SS; a window may
 * cross midnight). Checked every second; a host that connects inside a
 * window gets the rule at once. The file:
 *   {"windows": [{"hosts": "*", "from": "22:00", "to": "06:00",
 *                 "rule": {"op": "connect", "port": 22, "actions": ["deny"]}}]}
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sysflow/log.h>
#include "core/core.h"
#include "export/json.h"
#include "ctrl_int.h"
#include "proto/proto_json.h"

#define ACL_COOKIE (0xacULL << 48)
#define MAX_WINDOWS 64

struct window {
	int from, to; /* seconds after midnight */
	json_t *hosts;
	struct sfp_flow_mod fm;
	bool active;
};

struct acl {
	struct sf_ctrl *c;
	const struct sf_ctrl_api *api;
	json_t *doc;
	struct window w[MAX_WINDOWS];
	int n;
};

static int parse_time(const char *s, int *secs)
{
	int h, m, sec = 0, n;

	n = s ? sscanf(s, "%d:%d:%d", &h, &m, &sec) : 0;
	if (n < 2 || h < 0 || h > 23 || m < 0 || m > 59 || sec < 0 || sec > 59)
		return -EINVAL;
	*secs = h * 3600 + m * 60 + sec;
	return 0;
}

static bool in_window(const struct window *w, int now)
{
	if (w->from <= w->to)
		return now >= w->from && now < w->to;
	return now >= w->from || now < w->to;
}

static int now_secs(void)
{
	time_t t = time(NULL);
	struct tm tm;

	localtime_r(&t, &tm);
	return tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
}

static void *acl_init(struct sf_ctrl *c, const struct sf_ctrl_api *api,
		      const char *path)
{
	struct acl *a = calloc(1, sizeof(*a));
	json_t *ws, *v;
	char err[512];
	size_t i;

	if (!a)
		return NULL;
	a->c = c;
	a->api = api;
	a->doc = sf_json_load_file(path, err, sizeof(err));
	if (!a->doc) {
		pr_err("acl: %s\n", err);
		goto fail;
	}
	ws = json_object_get(a->doc, "windows");
	if (!json_is_array(ws) || json_array_size(ws) > MAX_WINDOWS) {
		pr_err("acl %s: expected {\"windows\": [...]} (at most %d)\n",
		       path, MAX_WINDOWS);
		goto fail;
	}
	json_array_foreach(ws, i, v)
	{
		struct window *w = &a->w[a->n];

		if (parse_time(json_string_value(json_object_get(v, "from")),
			       &w->from) ||
		    parse_time(json_string_value(json_object_get(v, "to")),
			       &w->to)) {
			pr_err("acl %s window %zu: from/to must be HH:MM[:SS]\n",
			       path, i);
			goto fail;
		}
		if (sfp_rule_from_json(json_object_get(v, "rule"), &w->fm, err,
				       sizeof(err))) {
			pr_err("acl %s window %zu: %s\n", path, i, err);
			goto fail;
		}
		if (!w->fm.cookie)
			w->fm.cookie = ACL_COOKIE | i;
		w->hosts = json_object_get(v, "hosts");
		a->n++;
	}
	pr_info("acl: %d time windows from %s\n", a->n, path);
	return a;
fail:
	json_decref(a->doc);
	free(a);
	return NULL;
}

static void acl_fini(void *st)
{
	struct acl *a = st;

	json_decref(a->doc);
	free(a);
}

static void apply(struct acl *a, struct window *w, struct sf_host *h, bool on)
{
	struct sfp_flow_mod fm = w->fm;

	fm.command = on ? SFP_FM_ADD : SFP_FM_DELETE_STRICT;
	if (!on)
		fm.cookie_mask = 0;
	a->api->send_flow_mod(h, &fm);
}

struct apply_ctx {
	struct acl *a;
	struct window *w;
	bool on;
};

static int apply_host(void *ctx, struct sf_host *h)
{
	struct apply_ctx *x = ctx;

	if (ctrl_host_selected(h, x->w->hosts))
		apply(x->a, x->w, h, x->on);
	return 0;
}

static void acl_connect(void *st, struct sf_host *h)
{
	struct acl *a = st;
	int now = now_secs();

	for (int i = 0; i < a->n; i++)
		if (in_window(&a->w[i], now) &&
		    ctrl_host_selected(h, a->w[i].hosts))
			apply(a, &a->w[i], h, true);
}

static void acl_timer(void *st, uint64_t now_ms)
{
	struct acl *a = st;
	int now = now_secs();

	(void)now_ms;
	for (int i = 0; i < a->n; i++) {
		struct window *w = &a->w[i];
		bool on = in_window(w, now);
		struct apply_ctx x = { a, w, on };

		if (on == w->active)
			continue;
		w->active = on;
		pr_info("acl: window %d %s\n", i, on ? "opens" : "closes");
		a->api->foreach_host(a->c, apply_host, &x);
	}
}

const struct sf_app sf_app_acl = {
	.name = "acl",
	.init = acl_init,
	.fini = acl_fini,
	.on_connect = acl_connect,
	.on_timer = acl_timer,
};
