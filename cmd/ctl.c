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
	  .offset = OFF(json), .help = "JSON lines instead of a table (or "
	  "of key=value lines for events)" },
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

static long long int_of(json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

static void print_stats(json_t *o)
{
	printf("hosts %lld, sessions %lld (replaced %lld), refused %lld, "
	       "messages %lld, events %lld\n",
	       int_of(o, "hosts"), int_of(o, "sessions"), int_of(o, "replaced"),
	       int_of(o, "refused"), int_of(o, "messages_in"),
	       int_of(o, "events_in"));
	printf("held operations: asked %lld, answered %lld, "
	       "answered too late %lld\n",
	       int_of(o, "asked"), int_of(o, "answered"), int_of(o, "late"));
}

/* The last line of a reply: {"ok": ...} */
static void print_ok(const char *action, json_t *o, int rows)
{
	if (!strcmp(action, "stats"))
		print_stats(o);
	else if (!strcmp(action, "add") || !strcmp(action, "del") ||
		 !strcmp(action, "miss"))
		printf("done\n");
	else
		print_empty(action, rows);
}

static void print_host(json_t *o)
{
	printf("%-14s %-32s %-21s %-3s %s\n",
	       json_string_value(json_object_get(o, "host")),
	       json_string_value(json_object_get(o, "host_id")),
	       json_string_value(json_object_get(o, "peer")),
	       json_string_value(json_object_get(o, "transport")),
	       int_of(o, "up_sec") ? "up" : "new");
}

/* hits and priority, then the rule without its counters and timers */
static void print_rule(json_t *o)
{
	json_t *copy = json_copy(o);
	char *m;

	json_object_del(copy, "host");
	json_object_del(copy, "hits");
	json_object_del(copy, "priority");
	json_object_del(copy, "duration_sec");
	json_object_del(copy, "idle_timeout");
	json_object_del(copy, "hard_timeout");
	m = json_dumps(copy, JSON_COMPACT | JSON_PRESERVE_ORDER);
	printf("%8lld %5lld %s\n", int_of(o, "hits"), int_of(o, "priority"),
	       m ? m : "");
	free(m);
	json_decref(copy);
}

static void print_json(json_t *o)
{
	char *m = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);

	printf("%s\n", m ? m : "");
	free(m);
}

/* An event as one line of key=value (strings with a space quoted,
 * objects and arrays as compact JSON), in the controller's order.
 */
static void print_event(json_t *o)
{
	const char *k, *sep = "";
	json_t *v;

	json_object_foreach(o, k, v)
	{
		char *m = json_is_string(v) ?
				  NULL :
				  json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		const char *str = json_string_value(v);

		if (str && strpbrk(str, " \t"))
			printf("%s%s=\"%s\"", sep, k, str);
		else
			printf("%s%s=%s", sep, k, str ? str : m ? m : "");
		free(m);
		sep = " ";
	}
	printf("\n");
}

static void print_text(const char *action, json_t *o, int *rows)
{
	if (json_object_get(o, "error")) {
		fprintf(stderr, "sysflow ctl: %s\n",
			json_string_value(json_object_get(o, "error")));
		return;
	}
	if (json_object_get(o, "ok")) {
		print_ok(action, o, *rows);
		return;
	}
	if (!strcmp(action, "hosts")) {
		print_header(action, rows);
		print_host(o);
	} else if (!strcmp(action, "rules")) {
		print_header(action, rows);
		print_rule(o);
	} else if (!strcmp(action, "events")) {
		print_event(o);
	} else {
		print_json(o);
	}
}

/* rules, add, del and miss name the agent they are about */
static bool needs_host(const char *a)
{
	return !strcmp(a, "rules") || !strcmp(a, "add") || !strcmp(a, "del") ||
	       !strcmp(a, "miss");
}

/* The action is known and has the arguments it takes: 0 or EXIT_USAGE */
static int check_args(const struct ctl_cfg *cfg)
{
	const char *a = cfg->action;
	const char *extra; /* an argument the action would ignore */

	if (strcmp(a, "hosts") && strcmp(a, "stats") && strcmp(a, "events") &&
	    !needs_host(a)) {
		fprintf(stderr,
			"sysflow ctl: unknown action '%s': hosts, "
			"rules, add, del, miss, events or stats\n",
			a);
		return EXIT_USAGE;
	}
	if (needs_host(a) && !cfg->host) {
		fprintf(stderr, "sysflow ctl: %s needs HOST\n", a);
		return EXIT_USAGE;
	}
	/* hosts, stats and events take no HOST, rules no JSON */
	extra = needs_host(a) ? NULL : cfg->host;
	if (!strcmp(a, "rules"))
		extra = cfg->rule;
	if (extra) {
		fprintf(stderr,
			"sysflow ctl: unexpected argument '%s': %s takes "
			"%s\n",
			extra, a, needs_host(a) ? "only HOST" : "no HOST");
		return EXIT_USAGE;
	}
	return 0;
}

/* The JSON argument of add, del and miss: 0 or EXIT_USAGE */
static int parse_rule(const struct ctl_cfg *cfg, json_t **rule)
{
	const char *a = cfg->action;

	*rule = NULL;
	if ((!strcmp(a, "add") || !strcmp(a, "del") || !strcmp(a, "miss")) &&
	    !(cfg->rule && (*rule = json_loads(cfg->rule, 0, NULL)))) {
		fprintf(stderr,
			"sysflow ctl: %s needs a JSON %s, e.g. "
			"'{\"op\":\"connect\",\"port\":25,"
			"\"actions\":[\"deny\"]}'\n",
			a, strcmp(a, "miss") ? "rule" : "object");
		return EXIT_USAGE;
	}
	return 0;
}

/* {"cmd": ACTION, "host": HOST, "rule" or "miss": JSON} */
static json_t *make_request(const struct ctl_cfg *cfg, json_t *rule)
{
	const char *a = cfg->action;
	json_t *req = json_object();

	json_object_set_new(req, "cmd", json_string(a));
	if (cfg->host)
		json_object_set_new(req, "host", json_string(cfg->host));
	if (rule)
		json_object_set_new(req, strcmp(a, "miss") ? "rule" : "miss",
				    rule);
	return req;
}

/* Connect and send the request (taking it): the socket or -1 */
static int send_request(const struct ctl_cfg *cfg, json_t *req)
{
	char *text;
	int fd = connect_ctl(cfg->sock);

	if (fd == -EACCES) /* it runs, but its socket is mode 0600 */
		pr_err("cannot reach the controller at %s: %s; its control "
		       "socket is for root only: run sysflow ctl as root\n",
		       cfg->sock, strerror(-fd));
	else if (fd < 0)
		pr_err("cannot reach the controller at %s: %s; is `sysflow "
		       "controller` running?\n",
		       cfg->sock, strerror(-fd));
	if (fd < 0) {
		json_decref(req);
		return -1;
	}
	sf_signals_install();
	text = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	if (!text || dprintf(fd, "%s\n", text) < 0) {
		free(text);
		close(fd);
		return -1;
	}
	free(text);
	return fd;
}

/* Print the replies until the controller closes or Ctrl-C: the exit code
 * (an "error" line makes it 1, an "ok" line 0; events always end with 0)
 */
static int read_replies(const struct ctl_cfg *cfg, FILE *in)
{
	const char *a = cfg->action;
	bool events = !strcmp(a, "events"), answered = false, out_gone = false;
	char *line = NULL;
	size_t cap = 0;
	int rc = 1, rows = 0;

	if (events && !cfg->json)
		fprintf(stderr, "Tailing reports and events; Ctrl-C to end\n");
	while (in && !sf_exiting && getline(&line, &cap, in) > 0) {
		json_t *o = json_loads(line, 0, NULL);

		if (!o)
			continue;
		if (cfg->json && !json_object_get(o, "error"))
			fputs(line, stdout);
		else
			print_text(a, o, &rows);
		if (fflush(stdout)) { /* `| head` or a full disk: main() */
			json_decref(o);
			out_gone = true;
			break;
		}
		if (json_object_get(o, "ok"))
			rc = 0;
		if (json_object_get(o, "error"))
			rc = 1;
		answered |= json_object_get(o, "ok") ||
			    json_object_get(o, "error");
		json_decref(o);
	}
	free(line);
	if (out_gone || (sf_exiting && events))
		return 0;
	if (sf_exiting) /* Ctrl-C */
		return rc;
	if (events || !answered) { /* the controller went away */
		pr_err("the controller at %s closed the connection%s\n",
		       cfg->sock, events ? "" : " before answering");
		return 1;
	}
	return rc;
}

static int do_ctl(void *arg)
{
	struct ctl_cfg *cfg = arg;
	json_t *req, *rule = NULL;
	int fd, rc;
	FILE *in;

	rc = check_args(cfg) ?: parse_rule(cfg, &rule);
	if (rc)
		return rc;
	req = make_request(cfg, rule);
	fd = send_request(cfg, req);
	if (fd < 0)
		return 1;
	in = fdopen(fd, "r");
	rc = read_replies(cfg, in);
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
	       "  add HOST JSON         add a rule (docs/guard.md, "
	       "section Rules); waits until\n"
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
	       "HOST is a hostname, a host id or the agent's address:port (as hosts\n"
	       "shows them); a hostname two hosts share is refused.\n",
	.examples = "  sysflow ctl hosts\n"
		    "  sysflow ctl rules web1 -j\n"
		    "  sysflow ctl add web1 '{\"op\":\"connect\",\"port\":25,"
		    "\"actions\":[\"deny\"]}'\n"
		    "  sysflow ctl del web1 '{\"cookie\":7}'\n"
		    "  sysflow ctl events -j\n",
};
