// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* app_dlp.c: the built-in "dlp" application, the seed's cross-layer data
 * leak prevention (cldlp): every host gets a rule that REPORTs reads of a
 * sensitive file; when a report arrives, the reading process is isolated
 * (no network) or its traffic is tagged with a DSCP value (ENCODE) on that
 * host. The seed parsed the pid out of free text; here it is a field.
 * args: "PATH" or "PATH,encode" (default action isolate).
 */
#include <stdlib.h>
#include <string.h>
#include <sysflow/log.h>
#include "core/core.h"
#include "ctrl_int.h"

#define DLP_COOKIE (0xd1ULL << 48)
#define DLP_DSCP 10

struct dlp {
	const struct sf_ctrl_api *api;
	char path[SFP_MAX_STR];
	bool encode;
	uint64_t reacted;
};

static void *dlp_init(struct sf_ctrl *c, const struct sf_ctrl_api *api,
		      const char *args)
{
	struct dlp *d = calloc(1, sizeof(*d));
	char *comma;

	(void)c;
	if (!d)
		return NULL;
	d->api = api;
	snprintf(d->path, sizeof(d->path), "%s", args ? args : "");
	comma = strchr(d->path, ',');
	if (comma) {
		d->encode = !strcmp(comma + 1, "encode");
		*comma = 0;
	}
	if (d->path[0] != '/') {
		pr_err("dlp: the sensitive file must be an absolute path\n");
		free(d);
		return NULL;
	}
	pr_info("dlp: reads of %s make the reader %s\n", d->path,
		d->encode ? "tag its traffic" : "lose the network");
	return d;
}

static void dlp_fini(void *st)
{
	free(st);
}

static void dlp_connect(void *st, struct sf_host *h)
{
	struct dlp *d = st;
	struct sfp_flow_mod fm = { .command = SFP_FM_ADD, .priority = 1000 };

	fm.cookie = DLP_COOKIE;
	fm.match.op = SF_OP_FILE_READ;
	fm.match.fields = SFP_F(SFP_F_PATH);
	snprintf(fm.match.path, sizeof(fm.match.path), "%s", d->path);
	fm.n_actions = 1;
	fm.actions[0].type = SF_ACT_REPORT;
	d->api->send_flow_mod(h, &fm);
}

static void dlp_message(void *st, struct sf_host *h, const struct sfp_msg *m)
{
	struct dlp *d = st;
	struct sfp_flow_mod fm = { .command = SFP_FM_ADD, .priority = 2000 };

	if (m->h.type != SFP_ACTION_REPORT || m->event.cookie != DLP_COOKIE)
		return;
	fm.cookie = DLP_COOKIE | 1;
	fm.match.op = SF_OP_ANY;
	fm.match.fields = SFP_F(SFP_F_PID);
	fm.match.pid = m->event.pid;
	fm.n_actions = 1;
	if (d->encode) {
		fm.actions[0].type = SF_ACT_ENCODE;
		fm.actions[0].arg = DLP_DSCP;
	} else {
		fm.actions[0].type = SF_ACT_ISOLATION;
	}
	d->reacted++;
	pr_info("dlp: %s (pid %u) read %s on %s: %s\n", m->event.exe,
		m->event.pid, m->event.object, d->api->host_name(h),
		d->encode ? "tagging its traffic" : "isolating it");
	d->api->send_flow_mod(h, &fm);
}

const struct sf_app sf_app_dlp = {
	.name = "dlp",
	.init = dlp_init,
	.fini = dlp_fini,
	.on_connect = dlp_connect,
	.on_message = dlp_message,
};
