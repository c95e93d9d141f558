// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* controller.c: `sysflow controller`: options and the call into the
 * controller (lib/controller/).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysflow/sysflow.h>
#include <sysflow/controller.h>
#include "core/core.h"
#include "cmds.h"

#define DEFAULT_CTL "/run/sysflow/controller.sock"
#define MAX_SO 8

struct controller_cfg {
	struct sf_ctrl_opts o; /* what the options set directly */
	const char *ctl; /* "": none */
	const char *log_file;
	const char *apps;
};

static const struct controller_cfg defaults_controller = {
	.ctl = DEFAULT_CTL,
};

static void init_controller(void *cfg)
{
	sf_ctrl_opts_init(&((struct controller_cfg *)cfg)->o);
}

#define OFF(m) offsetof(struct controller_cfg, m)

/* clang-format off */
static const struct opt_def controller_options[] = {
	{ .name = "listen", .short_name = 'l', .type = OPT_STRING,
	  .offset = OFF(o.listen_host),
	  .metavar = "ADDR", .help = "listen on this "
	  "address (default: all)" },
	{ .name = "port", .short_name = 'p', .type = OPT_PORT,
	  .offset = OFF(o.port), .metavar = "PORT", .help = "TCP port "
	  "(default " SF_CTRL_PORT ")" },
	{ .name = "ctl", .short_name = 'C', .type = OPT_STRING,
	  .offset = OFF(ctl), .metavar = "PATH", .help = "control socket for "
	  "sysflow ctl (default " DEFAULT_CTL ")" },
	{ .name = "log", .short_name = 'L', .type = OPT_STRING,
	  .offset = OFF(log_file), .metavar = "FILE", .help = "log to FILE "
	  "instead of stderr" },
	{ .name = "tls-cert", .type = OPT_STRING, .offset = OFF(o.tls_cert),
	  .together = "TLS", .metavar = "PEM", .help = "controller certificate "
	  "(mutual TLS)" },
	{ .name = "tls-key", .type = OPT_STRING, .offset = OFF(o.tls_key),
	  .together = "TLS", .metavar = "PEM", .help = "its private key" },
	{ .name = "tls-ca", .type = OPT_STRING, .offset = OFF(o.tls_ca),
	  .together = "TLS", .metavar = "PEM", .help = "CA that signs agent "
	  "certificates" },
	{ .name = "echo-interval", .type = OPT_U32,
	  .offset = OFF(o.echo_interval_ms),
	  .metavar = "MS", .min = 100, .max = 3600000, .help = "ECHO after "
	  "this much silence (default " DEFAULT_STR(SFP_ECHO_INTERVAL_MS) ")" },
	{ .name = "dead-interval", .type = OPT_U32,
	  .offset = OFF(o.dead_interval_ms),
	  .metavar = "MS", .min = 200, .max = 3600000, .help = "drop a host "
	  "silent this long (default " DEFAULT_STR(SFP_DEAD_INTERVAL_MS) ")" },
	{ .name = "policy", .short_name = 'P', .type = OPT_STRING,
	  .offset = OFF(o.policy_file),
	  .metavar = "FILE", .help = "app policy: "
	  "push this JSON rules file (SIGHUP reloads)" },
	{ .name = "dlp", .type = OPT_STRING, .offset = OFF(o.dlp_file),
	  .metavar = "PATH", .help = "app dlp: who reads PATH loses the "
	  "network" },
	{ .name = "dlp-action", .type = OPT_STRING, .offset = OFF(o.dlp_action),
	  .metavar = "ACTION", .help = "dlp: isolate (default) or encode "
	  "(DSCP 10)" },
	{ .name = "acl", .type = OPT_STRING, .offset = OFF(o.acl_file),
	  .metavar = "FILE", .help = "app acl: rules in force in time "
	  "windows" },
	{ .name = "app", .short_name = 'a', .type = OPT_STRING,
	  .offset = OFF(apps), .metavar = "SO[,SO]", .help = "load "
	  "applications from shared objects" },
	{ .name = "app-args", .type = OPT_STRING, .offset = OFF(o.app_args),
	  .metavar = "TEXT", .help = "argument given to --app applications" },
	OPT_END,
};
/* clang-format on */

static int do_controller(void *arg)
{
	struct controller_cfg *cfg = arg;
	const char *paths[MAX_SO];
	char *apps = NULL, *save = NULL, *tok;
	int n = 0, err;

	if (strcmp(cfg->o.dlp_action, "isolate") &&
	    strcmp(cfg->o.dlp_action, "encode")) {
		fprintf(stderr, "sysflow controller: --dlp-action is isolate "
				"or encode\n");
		return EXIT_USAGE;
	}
	if (cmd_check_intervals("controller", cfg->o.echo_interval_ms,
				cfg->o.dead_interval_ms))
		return EXIT_USAGE;
	if (cfg->log_file && (err = sf_log_set_file(cfg->log_file))) {
		pr_err("cannot open log file %s: %s\n", cfg->log_file,
		       strerror(-err));
		return 1;
	}
	if (cfg->apps) {
		apps = strdup(cfg->apps);
		for (tok = strtok_r(apps, ",", &save); tok && n < MAX_SO;
		     tok = strtok_r(NULL, ",", &save))
			paths[n++] = tok;
	}
	if (sf_signals_install()) {
		free(apps);
		return 1;
	}
	cfg->o.ctl_path = cfg->ctl[0] ? cfg->ctl : NULL;
	cfg->o.app_paths = n ? paths : NULL;
	cfg->o.n_app_paths = n;
	err = sf_controller_run(&cfg->o);
	free(apps);
	return err ? 1 : 0;
}

const struct cmd_def cmd_controller = {
	.name = "controller",
	.run = do_controller,
	.opts = controller_options,
	.defaults = &defaults_controller,
	.init = init_controller,
	.cfg_size = sizeof(struct controller_cfg),
	.summary = "serve SysFlow agents and run policy applications",
	.doc = "Listens for agents (TCP, or mutual TLS with --tls-*), keeps "
	       "each alive with\nECHO and identifies it by its host id: a "
	       "host that reconnects replaces its\nold session. "
	       "Applications program the hosts: the built-in policy, dlp "
	       "and\nacl, or shared objects (--app, see "
	       "docs/extending.md). `sysflow ctl` talks\nto it through "
	       "the control socket. SIGHUP reloads the applications.\n",
	.examples =
		"  sysflow controller -P /etc/sysflow/policy.json\n"
		"  sysflow controller --dlp /tmp/monitored/w2\n"
		"  sysflow controller --tls-cert c.pem --tls-key c.key "
		"--tls-ca ca.pem\n"
		"  # an application of your own (make does not build this one):\n"
		"  gcc -shared -fPIC -Iinclude examples/app_sample.c -o "
		"build/app_sample.so\n"
		"  sysflow controller -a build/app_sample.so --app-args 2323\n",
};
