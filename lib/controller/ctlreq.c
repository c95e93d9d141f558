// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* ctlreq.c: one request line of the control socket, checked before
 * ctlsock.c acts on it: bytes in, a validated request or the error line's
 * text out, with no session, host or socket involved (the fuzz target
 * tests/fuzz/fuzz_ctlreq.c feeds it directly).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "core/core.h"
#include "ctrl_int.h"
#include "export/json.h"
#include "proto/proto_json.h"

static int req_fail(char *err, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int req_fail(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static const struct {
	const char *name;
	enum ctl_cmd cmd;
	bool host; /* needs "host" */
} ctl_cmds[] = {
	{ "hosts", CTL_HOSTS, false }, { "rules", CTL_RULES, true },
	{ "add", CTL_ADD, true },      { "del", CTL_DEL, true },
	{ "miss", CTL_MISS, true },    { "events", CTL_EVENTS, false },
	{ "stats", CTL_STATS, false },
};

static int parse_host(json_t *req, struct ctl_request *r, char *err, size_t len)
{
	const char *name = json_string_value(json_object_get(req, "host"));

	if (!name || !name[0])
		return req_fail(err, len, "this request needs \"host\"");
	if (strlen(name) >= sizeof(r->host))
		return req_fail(err, len,
				"\"host\" is longer than any host name "
				"(%zu bytes at most)",
				sizeof(r->host) - 1);
	strcpy(r->host, name);
	return 0;
}

static int parse_add(json_t *rule, struct ctl_request *r, char *err, size_t len)
{
	char why[160];

	if (sfp_rule_from_json(rule, &r->fm, why, sizeof(why)))
		return req_fail(err, len, "bad rule: %s", why);
	return 0;
}

/* A delete needs no actions and is a delete whatever "command" says:
 * DELETE_STRICT when it names a priority, with the whole cookie compared
 * when it names a cookie without a mask.
 */
static int parse_del(json_t *rule, struct ctl_request *r, char *err, size_t len)
{
	json_t *copy;
	char why[160];
	int rc;

	if (!json_is_object(rule))
		return req_fail(err, len,
				"bad rule: a rule must be a JSON "
				"object");
	copy = json_deep_copy(rule);
	if (!copy)
		return req_fail(err, len, "out of memory");
	if (!json_object_get(copy, "actions"))
		json_object_set_new(copy, "actions", json_pack("[s]", "deny"));
	rc = sfp_rule_from_json(copy, &r->fm, why, sizeof(why));
	json_decref(copy);
	if (rc)
		return req_fail(err, len, "bad rule: %s", why);
	if (r->fm.command == SFP_FM_MODIFY ||
	    r->fm.command == SFP_FM_MODIFY_STRICT ||
	    (r->fm.command == SFP_FM_ADD && json_object_get(rule, "command")))
		return req_fail(err, len,
				"bad rule: del deletes: 'command' can only "
				"be delete or delete_strict");
	r->fm.n_actions = 0;
	memset(r->fm.actions, 0, sizeof(r->fm.actions));
	if (r->fm.command == SFP_FM_ADD)
		r->fm.command = json_object_get(rule, "priority") ?
					SFP_FM_DELETE_STRICT :
					SFP_FM_DELETE;
	if (json_object_get(rule, "cookie") &&
	    !json_object_get(rule, "cookie_mask"))
		r->fm.cookie_mask = ~0ULL;
	return 0;
}

/* {"file":"deny","socket":"ask"}: r->miss[class] set, the rest -1 */
static int parse_miss(json_t *miss, struct ctl_request *r, char *err,
		      size_t len)
{
	const char *k;
	json_t *v;

	memset(r->miss, -1, sizeof(r->miss));
	if (!json_is_object(miss))
		return req_fail(err, len,
				"\"miss\" must be an object of class: "
				"policy, e.g. {\"file\":\"deny\"}");
	json_object_foreach(miss, k, v)
	{
		int cls = sf_class_parse(k);
		int pol = sf_miss_parse(json_string_value(v) ?: "");

		if (cls < 0)
			return req_fail(err, len,
					"bad miss policy %.40s: the classes "
					"are file, socket, ipc and inode",
					k);
		if (pol < 0)
			return req_fail(err, len,
					"bad miss policy %.40s: allow, deny "
					"or ask",
					k);
		r->miss[cls] = pol;
	}
	return 0;
}

/* A text cut by snprintf() may end inside a UTF-8 character, which
 * jansson refuses: sf_json_text() writes such bytes as \xHH.
 */
json_t *ctl_error_json(const char *text)
{
	json_t *s = sf_json_text(text);

	return s ? json_pack("{s:o}", "error", s) : NULL;
}

int ctl_request_parse(const char *line, struct ctl_request *r, char *err,
		      size_t len)
{
	json_t *req = json_loads(line, 0, NULL);
	const char *cmd = json_string_value(json_object_get(req, "cmd"));
	int rc = 0;
	size_t i;

	memset(r, 0, sizeof(*r));
	if (!cmd) {
		json_decref(req);
		return req_fail(err, len, "a request is {\"cmd\": ...}");
	}
	for (i = 0; i < ARRAY_SIZE(ctl_cmds); i++)
		if (!strcmp(cmd, ctl_cmds[i].name))
			break;
	if (i == ARRAY_SIZE(ctl_cmds))
		rc = req_fail(err, len, "unknown command '%.40s'", cmd);
	else
		r->cmd = ctl_cmds[i].cmd;
	if (!rc && ctl_cmds[i].host)
		rc = parse_host(req, r, err, len);
	if (!rc && r->cmd == CTL_ADD)
		rc = parse_add(json_object_get(req, "rule"), r, err, len);
	else if (!rc && r->cmd == CTL_DEL)
		rc = parse_del(json_object_get(req, "rule"), r, err, len);
	else if (!rc && r->cmd == CTL_MISS)
		rc = parse_miss(json_object_get(req, "miss"), r, err, len);
	json_decref(req);
	return rc;
}
