// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* ctl.c: `sysflow ctl`: talk to a running controller over its local
 * socket: list hosts, list rules with counters, add and delete rules,
 * change miss policies, tail events. -j prints the controller's JSON
 * lines as they are; otherwise a table.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <jansson.h>
#include <sysflow/sysflow.h>
#include "core/core.h"
#include "cmds.h"

#define DEFAULT_CTL "/run/sysflow/controller.sock"

struct ctl_cfg {
	const char *action;
	const char *host;
	const char *rule;
	const char *sock;
	bool json;
};

static const struct ctl_cfg defaults_ctl = { .sock = DEFAULT_CTL };

#define OFF(m) offsetof(struct ctl_cfg, m)

/* clang-format off */
static const struct opt_def ctl_options[] = {
	{ .name = "action", .positional = true, .required = true,
	  .type = OPT_STRING, .offset = OFF(action), .metavar = "ACTION" },
	{ .name = "host", .positional = true, .type = OPT_STRING,
	  .offset = OFF(host), .metavar = "HOST" },
	{ .name = "rule", .positional = true, .type = OPT_STRING,
	  .offset = OFF(rule), .metavar = "JSON" },
	{ .name = "socket", .short_name = 'S', .type = OPT_STRING,
	  .offset = OFF(sock), .metavar = "PATH", .help = "controller "
	  "socket (default " DEFAULT_CTL ")" },
	{ .name = "json", .short_name = 'j', .type = OPT_FLAG,
	  .offset = OFF(json), .help = "JSON lines instead of a table" },
	OPT_END,
};
/* clang-format on */

static int connect_ctl(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* The hosts and rules tables get a header before their first row; an
 * empty one says so instead of printing nothing.
 */
static void print_header(const char *action, int *rows)
{
	if ((*rows)++)
		return;
	if (!strcmp(action, "hosts"))
		printf("%-14s %-32s %-21s %-3s %s\n", "HOST", "HOST ID", "PEER",
		       "VIA", "STATE");
	else
		printf("%8s %5s %s\n", "HITS", "PRIO", "RULE");
}

static void print_empty(const char *action, int rows)
{
	if (rows)
		return;
	if (!strcmp(action, "hosts"))
		printf("no agent is connected\n");
	else if (!strcmp(action, "rules"))
		printf("no rules\n");
}

static void print_text(const char *action, json_t *o, int *rows)
{
	const char *s;

	if (json_object_get(o, "error")) {
		fprintf(stderr, "sysflow ctl: %s\n",
			json_string_value(json_object_get(o, "error")));
		return;
	}
	if (json_object_get(o, "ok")) {
		if (!strcmp(action, "stats")) {
			printf("hosts %lld, sessions %lld (replaced %lld), "
			       "messages %lld, events %lld\n",
			       json_integer_value(json_object_get(o, "hosts")),
			       json_integer_value(
				       json_object_get(o, "sessions")),
			       json_integer_value(
				       json_object_get(o, "replaced")),
			       json_integer_value(
				       json_object_get(o, "messages_in")),
			       json_integer_value(
				       json_object_get(o, "events_in")));
			printf("held operations: asked %lld, answered %lld, "
			       "answered too late %lld\n",
			       json_integer_value(json_object_get(o, "asked")),
			       json_integer_value(
				       json_object_get(o, "answered")),
			       json_integer_value(json_object_get(o, "late")));
		} else if (!strcmp(action, "add") || !strcmp(action, "del") ||
			   !strcmp(action, "miss")) {
			printf("done\n");
		} else {
			print_empty(action, *rows);
		}
		return;
	}
	if (!strcmp(action, "hosts")) {
		print_header(action, rows);
		printf("%-14s %-32s %-21s %-3s %s\n",
		       json_string_value(json_object_get(o, "host")),
		       json_string_value(json_object_get(o, "host_id")),
		       json_string_value(json_object_get(o, "peer")),
		       json_string_value(json_object_get(o, "transport")),
		       json_integer_value(json_object_get(o, "up_sec")) ?
			       "up" :
			       "new");
	} else if (!strcmp(action, "rules")) {
		json_t *copy = json_copy(o);
		char *m;

		print_header(action, rows);
		json_object_del(copy, "host");
		json_object_del(copy, "hits");
		json_object_del(copy, "priority");
		json_object_del(copy, "duration_sec");
		json_object_del(copy, "idle_timeout");
		json_object_del(copy, "hard_timeout");
		m = json_dumps(copy, JSON_COMPACT | JSON_PRESERVE_ORDER);
		printf("%8lld %5lld %s\n",
		       json_integer_value(json_object_get(o, "hits")),
		       json_integer_value(json_object_get(o, "priority")),
		       m ? m : "");
		free(m);
		json_decref(copy);
	} else {
		char *m = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);

		s = m ? m : "";
		printf("%s\n", s);
		free(m);
	}
}

static int do_ctl(void *arg)
{
	struct ctl_cfg *cfg = arg;
	json_t *req = json_object(), *rule = NULL;
	const char *a = cfg->action;
	const char *extra; /* an argument the action would ignore */
	char *line = NULL, *text;
	size_t cap = 0;
	int fd, rc = 1, rows = 0;
	FILE *in;
	bool needs_host = !strcmp(a, "rules") || !strcmp(a, "add") ||
			  !strcmp(a, "del") || !strcmp(a, "miss");

	if (strcmp(a, "hosts") && strcmp(a, "stats") && strcmp(a, "events") &&
	    !needs_host) {
		fprintf(stderr,
			"sysflow ctl: unknown action '%s': hosts, "
			"rules, add, del, miss, events or stats\n",
			a);
		json_decref(req);
		return EXIT_USAGE;
	}
	if (needs_host && !cfg->host) {
		fprintf(stderr, "sysflow ctl: %s needs HOST\n", a);
		json_decref(req);
		return EXIT_USAGE;
	}
	/* hosts, stats and events take no HOST, rules no JSON */
	extra = needs_host ? NULL : cfg->host;
	if (!strcmp(a, "rules"))
		extra = cfg->rule;
	if (extra) {
		fprintf(stderr,
			"sysflow ctl: unexpected argument '%s': %s takes "
			"%s\n",
			extra, a, needs_host ? "only HOST" : "no HOST");
		json_decref(req);
		return EXIT_USAGE;
	}
	if ((!strcmp(a, "add") || !strcmp(a, "del") || !strcmp(a, "miss")) &&
	    !(cfg->rule && (rule = json_loads(cfg->rule, 0, NULL)))) {
		fprintf(stderr,
			"sysflow ctl: %s needs a JSON %s, e.g. "
			"'{\"op\":\"connect\",\"port\":25,"
			"\"actions\":[\"deny\"]}'\n",
			a, strcmp(a, "miss") ? "rule" : "object");
		json_decref(req);
		return EXIT_USAGE;
	}
	json_object_set_new(req, "cmd", json_string(a));
	if (cfg->host)
		json_object_set_new(req, "host", json_string(cfg->host));
	if (rule)
		json_object_set_new(req, strcmp(a, "miss") ? "rule" : "miss",
				    rule);
	fd = connect_ctl(cfg->sock);
	if (fd < 0) {
		pr_err("cannot reach the controller at %s: %s; is `sysflow "
		       "controller` running?\n",
		       cfg->sock, strerror(-fd));
		json_decref(req);
		return 1;
	}
	sf_signals_install();
	text = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	if (!text || dprintf(fd, "%s\n", text) < 0) {
		free(text);
		close(fd);
		return 1;
	}
	free(text);
	in = fdopen(fd, "r");
	if (!strcmp(a, "events") && !cfg->json)
		fprintf(stderr, "Tailing reports and events; Ctrl-C to end\n");
	while (in && !sf_exiting && getline(&line, &cap, in) > 0) {
		json_t *o = json_loads(line, 0, NULL);

		if (!o)
			continue;
		if (cfg->json && !json_object_get(o, "error"))
			fputs(line, stdout);
		else
			print_text(a, o, &rows);
		fflush(stdout);
		if (json_object_get(o, "ok"))
			rc = 0;
		if (json_object_get(o, "error"))
			rc = 1;
		json_decref(o);
	}
	if (!strcmp(a, "events"))
		rc = 0;
	free(line);
	if (in)
		fclose(in);
	return rc;
}

const struct cmd_def cmd_ctl = {
	.name = "ctl",
	.run = do_ctl,
	.opts = ctl_options,
	.defaults = &defaults_ctl,
	.cfg_size = sizeof(struct ctl_cfg),
	.summary = "talk to a running SysFlow controller",
	.doc = "ACTION is one of:\n"
	       "  hosts                 connected agents\n"
	       "  rules HOST            rules of HOST with their counters\n"
	       "  add HOST JSON         add a rule (docs/guard.md, Rule "
	       "JSON); waits until\n"
	       "                        it is in force (BARRIER)\n"
	       "  del HOST JSON         delete rules matching JSON (with "
	       "priority: strict)\n"
	       "  miss HOST JSON        table-miss policy, e.g. "
	       "'{\"file\":\"deny\"}'\n"
	       "  events                tail reports, events and removed "
	       "rules\n"
	       "  stats                 controller counters, held "
	       "operations asked and\n"
	       "                        answered (VERDICT)\n"
	       "HOST is a hostname, a host id or the agent's address.\n",
	.examples = "  sysflow ctl hosts\n"
		    "  sysflow ctl rules web1 -j\n"
		    "  sysflow ctl add web1 '{\"op\":\"connect\",\"port\":25,"
		    "\"actions\":[\"deny\"]}'\n"
		    "  sysflow ctl del web1 '{\"cookie\":7}'\n"
		    "  sysflow ctl events -j\n",
};
