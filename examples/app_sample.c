// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* app_sample.c: a SysFlow controller application as a shared object, the
 * one docs/extending.md builds. When a host connects it denies and
 * reports connect() to the port given with --app-args (default 2323), and
 * it logs every report that comes back. It uses only the API table the
 * controller hands it, so it links against nothing:
 *
 *     gcc -shared -fPIC -Wall -Werror -Iinclude examples/app_sample.c -o build/app_sample.so
 *     sysflow controller -a build/app_sample.so --app-args 2323
 */
#include <stdlib.h>
#include <string.h>
#include <sysflow/controller.h>
#include <sysflow/log.h>

struct sample {
	const struct sf_ctrl_api *api;
	uint16_t port;
	uint64_t reports;
};

static void *sample_init(struct sf_ctrl *c, const struct sf_ctrl_api *api,
			 const char *args)
{
	struct sample *s;

	(void)c;
	/* the table only grows at its end: every version from 1 has the
	 * functions this app uses
	 */
	if (api->version < 1)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->api = api;
	s->port = args && *args ? atoi(args) : 2323;
	api->log(SF_LOG_INFO, "app_sample: denying port %u\n", s->port);
	return s;
}

static void sample_fini(void *st)
{
	free(st);
}

static void sample_connect(void *st, struct sf_host *h)
{
	struct sample *s = st;
	struct sfp_flow_mod fm = {
		.command = SFP_FM_ADD,
		.priority = 500,
		.cookie = 0x5a,
	};

	s->api->log(SF_LOG_INFO, "app_sample: %s connected\n",
		    s->api->host_name(h));
	fm.match.op = SF_OP_SOCKET_CONNECT;
	fm.match.fields = SFP_F(SFP_F_PORT);
	fm.match.port_lo = fm.match.port_hi = s->port;
	fm.n_actions = 2;
	fm.actions[0].type = SF_ACT_DENY;
	fm.actions[1].type = SF_ACT_REPORT;
	s->api->send_flow_mod(h, &fm);
}

static void sample_message(void *st, struct sf_host *h, const struct sfp_msg *m)
{
	struct sample *s = st;

	if (m->h.type != SFP_ACTION_REPORT || m->event.cookie != 0x5a)
		return;
	s->reports++;
	s->api->log(SF_LOG_INFO,
		    "app_sample: report from %s: %s (pid %u) "
		    "to %s\n",
		    s->api->host_name(h), m->event.exe, m->event.pid,
		    m->event.object);
}

const struct sf_app sysflow_app = {
	.name = "app_sample",
	.init = sample_init,
	.fini = sample_fini,
	.on_connect = sample_connect,
	.on_message = sample_message,
};
