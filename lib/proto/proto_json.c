// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* proto_json.c: SysFlow rules, statistics and events as JSON (jansson):
 * the policy app's rules file, `sysflow ctl` and JSON lines logs.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "export/json.h"
#include "proto_json.h"

#define FAIL(...)                                   \
	do {                                        \
		snprintf(err, errlen, __VA_ARGS__); \
		return -EINVAL;                     \
	} while (0)

static int copy_str(json_t *v, char *dst, size_t max, const char *key,
		    char *err, size_t errlen)
{
	const char *s = json_string_value(v);

	if (!s || !*s || strlen(s) >= max)
		FAIL("'%s' must be a string of 1 to %zu bytes", key, max - 1);
	strcpy(dst, s);
	return 0;
}

static int parse_addr(const char *s, struct sfp_match *m, char *err,
		      size_t errlen)
{
	char buf[64], *slash;
	long plen = -1;

	snprintf(buf, sizeof(buf), "%s", s);
	slash = strchr(buf, '/');
	if (slash) {
		char *end;

		*slash = 0;
		plen = strtol(slash + 1, &end, 10);
		if (*end || end == slash + 1)
			FAIL("bad prefix length in addr '%s'", s);
	}
	if (inet_pton(AF_INET, buf, m->addr) == 1) {
		m->family = 4;
		plen = plen < 0 ? 32 : plen;
		if (plen > 32)
			FAIL("prefix length above 32 in addr '%s'", s);
	} else if (inet_pton(AF_INET6, buf, m->addr) == 1) {
		m->family = 6;
		plen = plen < 0 ? 128 : plen;
		if (plen > 128)
			FAIL("prefix length above 128 in addr '%s'", s);
	} else {
		FAIL("addr '%s' is not an IPv4 or IPv6 address or prefix", s);
	}
	m->prefix_len = plen;
	return 0;
}

static int parse_port(json_t *v, struct sfp_match *m, char *err, size_t errlen)
{
	unsigned long lo, hi;
	const char *s;
	char *end;

	if (json_is_integer(v)) {
		json_int_t p = json_integer_value(v);

		if (p < 0 || p > 65535)
			FAIL("port %lld out of range", (long long)p);
		m->port_lo = m->port_hi = p;
		return 0;
	}
	s = json_string_value(v);
	if (!s)
		FAIL("'port' must be a number or \"LOW-HIGH\"");
	lo = strtoul(s, &end, 10);
	hi = lo;
	if (*end == '-')
		hi = strtoul(end + 1, &end, 10);
	if (*end || lo > hi || hi > 65535)
		FAIL("bad port range '%s'", s);
	m->port_lo = lo;
	m->port_hi = hi;
	return 0;
}

static int parse_proto(json_t *v, struct sfp_match *m, char *err, size_t errlen)
{
	const char *s = json_string_value(v);

	if (json_is_integer(v) && json_integer_value(v) >= 0 &&
	    json_integer_value(v) < 256)
		m->proto = json_integer_value(v);
	else if (s && !strcmp(s, "tcp"))
		m->proto = 6;
	else if (s && !strcmp(s, "udp"))
		m->proto = 17;
	else
		FAIL("'proto' must be tcp, udp or a number");
	return 0;
}

static int parse_u32(json_t *v, uint32_t *out, const char *key, char *err,
		     size_t errlen)
{
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > UINT32_MAX)
		FAIL("'%s' must be a number", key);
	*out = json_integer_value(v);
	return 0;
}

static int parse_match_key(const char *key, json_t *v, struct sfp_match *m,
			   char *err, size_t errlen)
{
	static const struct {
		const char *key;
		int field;
	} keys[] = {
		{ "pid", SFP_F_PID },
		{ "exe", SFP_F_EXE },
		{ "comm", SFP_F_COMM },
		{ "uid", SFP_F_UID },
		{ "cgroup", SFP_F_CGROUP },
		{ "container", SFP_F_CONTAINER },
		{ "parent_exe", SFP_F_PARENT_EXE },
		{ "path", SFP_F_PATH },
		{ "path_prefix", SFP_F_PATH_PREFIX },
		{ "addr", SFP_F_ADDR },
		{ "port", SFP_F_PORT },
		{ "proto", SFP_F_PROTO },
	};
	int f = 0, rc;

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strcmp(key, keys[i].key))
			f = keys[i].field;
	if (!f)
		return 1; /* not a match key */
	switch (f) {
	case SFP_F_PID:
		rc = parse_u32(v, &m->pid, key, err, errlen);
		break;
	case SFP_F_UID:
		rc = parse_u32(v, &m->uid, key, err, errlen);
		break;
	case SFP_F_EXE:
		rc = copy_str(v, m->exe, sizeof(m->exe), key, err, errlen);
		break;
	case SFP_F_COMM:
		rc = copy_str(v, m->comm, sizeof(m->comm), key, err, errlen);
		break;
	case SFP_F_CGROUP:
		rc = copy_str(v, m->cgroup, sizeof(m->cgroup), key, err,
			      errlen);
		break;
	case SFP_F_CONTAINER:
		rc = copy_str(v, m->container, sizeof(m->container), key, err,
			      errlen);
		break;
	case SFP_F_PARENT_EXE:
		rc = copy_str(v, m->parent_exe, sizeof(m->parent_exe), key, err,
			      errlen);
		break;
	case SFP_F_PATH:
	case SFP_F_PATH_PREFIX:
		if (m->fields & SFP_FILE_FIELDS)
			FAIL("give one of 'path' and 'path_prefix'");
		rc = copy_str(v, m->path, sizeof(m->path), key, err, errlen);
		break;
	case SFP_F_ADDR:
		if (!json_is_string(v))
			FAIL("'addr' must be a string");
		rc = parse_addr(json_string_value(v), m, err, errlen);
		break;
	case SFP_F_PORT:
		rc = parse_port(v, m, err, errlen);
		break;
	default:
		rc = parse_proto(v, m, err, errlen);
		break;
	}
	if (!rc)
		m->fields |= SFP_F(f);
	return rc;
}

static int parse_action(json_t *v, struct sfp_action *a, char *err,
			size_t errlen)
{
	const char *name = json_string_value(v);
	json_t *arg = NULL;
	int t;

	if (json_is_object(v) && json_object_size(v) == 1) {
		void *it = json_object_iter(v);

		name = json_object_iter_key(it);
		arg = json_object_iter_value(it);
	}
	if (!name)
		FAIL("an action is \"name\" or {\"name\": argument}");
	t = sf_action_parse(name);
	if (t < 0)
		FAIL("unknown action '%s'", name);
	a->type = t;
	a->arg = t == SF_ACT_KILL ? 9 : 0;
	if (arg) {
		if (!json_is_integer(arg) || json_integer_value(arg) < 0 ||
		    json_integer_value(arg) > 255)
			FAIL("the argument of '%s' must be a small number",
			     name);
		a->arg = json_integer_value(arg);
	}
	if (t == SF_ACT_ENCODE && (!arg || a->arg > 63))
		FAIL("encode needs a DSCP value 0-63: {\"encode\": 10}");
	/* what the agent's decoder takes (codec.c get_actions) */
	if (t == SF_ACT_KILL && (a->arg < 1 || a->arg > 64))
		FAIL("kill needs a signal number 1-64: {\"kill\": 9}");
	return 0;
}

static const char *const flag_names[] = { "send_flow_rem", "check_overlap",
					  "reset_counts" };
static const char *const cmd_names[] = { "add", "delete", "modify",
					 "modify_strict", "delete_strict" };

static int parse_flags(json_t *v, uint16_t *flags, char *err, size_t errlen)
{
	size_t i;
	json_t *f;

	if (!json_is_array(v))
		FAIL("'flags' must be a list of names");
	json_array_foreach(v, i, f)
	{
		const char *s = json_string_value(f);
		int bit = -1;

		for (int k = 0; k < 3 && s; k++)
			if (!strcmp(s, flag_names[k]))
				bit = k;
		if (bit < 0)
			FAIL("unknown flag '%s'", s ? s : "?");
		*flags |= 1 << bit;
	}
	return 0;
}

static int parse_u16_key(json_t *v, uint16_t *out, const char *key, char *err,
			 size_t errlen)
{
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > 65535)
		FAIL("'%s' must be a number from 0 to 65535", key);
	*out = json_integer_value(v);
	return 0;
}

static int parse_top_key(const char *key, json_t *v, struct sfp_flow_mod *fm,
			 char *err, size_t errlen)
{
	if (!strcmp(key, "op")) {
		int op = json_is_integer(v) ? (int)json_integer_value(v) :
			 json_is_string(v) ? sf_op_parse(json_string_value(v)) :
					     -1;

		if (op < 0 || (op >= SF_OP_COUNT && op != SF_OP_ANY))
			FAIL("unknown op; see docs/guard.md for the names");
		fm->match.op = op;
		return 0;
	}
	if (!strcmp(key, "priority"))
		return parse_u16_key(v, &fm->priority, key, err, errlen);
	if (!strcmp(key, "idle_timeout"))
		return parse_u16_key(v, &fm->idle_timeout, key, err, errlen);
	if (!strcmp(key, "hard_timeout"))
		return parse_u16_key(v, &fm->hard_timeout, key, err, errlen);
	if (!strcmp(key, "cookie") || !strcmp(key, "cookie_mask")) {
		if (!json_is_integer(v))
			FAIL("'%s' must be a number", key);
		*(key[6] ? &fm->cookie_mask : &fm->cookie) =
			(uint64_t)json_integer_value(v);
		return 0;
	}
	if (!strcmp(key, "flags"))
		return parse_flags(v, &fm->flags, err, errlen);
	if (!strcmp(key, "command")) {
		const char *s = json_string_value(v);

		for (int k = 0; k < 5 && s; k++) {
			if (!strcmp(s, cmd_names[k])) {
				fm->command = k;
				return 0;
			}
		}
		FAIL("'command' is add, delete, modify, modify_strict or "
		     "delete_strict");
	}
	if (!strcmp(key, "actions")) {
		size_t i;
		json_t *a;

		if (!json_is_array(v) || json_array_size(v) > SFP_MAX_ACTIONS)
			FAIL("'actions' must be a list of at most %d",
			     SFP_MAX_ACTIONS);
		json_array_foreach(v, i, a)
		{
			if (parse_action(a, &fm->actions[i], err, errlen))
				return -EINVAL;
		}
		fm->n_actions = json_array_size(v);
		return 0;
	}
	return 1;
}

int sfp_rule_from_json(json_t *obj, struct sfp_flow_mod *fm, char *err,
		       size_t errlen)
{
	const char *key;
	json_t *v;
	int rc;

	memset(fm, 0, sizeof(*fm));
	fm->match.op = SF_OP_ANY;
	fm->priority = 100;
	if (!json_is_object(obj))
		FAIL("a rule must be a JSON object");
	json_object_foreach(obj, key, v)
	{
		if (!strcmp(key, "hosts") || !strcmp(key, "comment") ||
		    !strcmp(key, "hits") || !strcmp(key, "duration_sec") ||
		    !strcmp(key, "host"))
			continue; /* app-level or read-only keys */
		rc = parse_top_key(key, v, fm, err, errlen);
		if (rc == 1)
			rc = parse_match_key(key, v, &fm->match, err, errlen);
		if (rc == 1)
			FAIL("unknown key '%s'", key);
		if (rc)
			return rc;
	}
	if (fm->command == SFP_FM_ADD && !fm->n_actions)
		FAIL("a rule needs 'actions'");
	return 0;
}

/* ---- to JSON ---- */

void sfp_match_to_json(json_t *o, const struct sfp_match *m)
{
	uint32_t f = m->fields;
	char buf[80], a[64];

	json_object_set_new(o, "op", json_string(sf_op_name(m->op) ?: "?"));
	if (f & SFP_F(SFP_F_PID))
		json_object_set_new(o, "pid", json_integer(m->pid));
	if (f & SFP_F(SFP_F_EXE))
		json_object_set_new(o, "exe", sf_json_text(m->exe));
	if (f & SFP_F(SFP_F_COMM))
		json_object_set_new(o, "comm", sf_json_text(m->comm));
	if (f & SFP_F(SFP_F_UID))
		json_object_set_new(o, "uid", json_integer(m->uid));
	if (f & SFP_F(SFP_F_CGROUP))
		json_object_set_new(o, "cgroup", sf_json_text(m->cgroup));
	if (f & SFP_F(SFP_F_CONTAINER))
		json_object_set_new(o, "container", sf_json_text(m->container));
	if (f & SFP_F(SFP_F_PARENT_EXE))
		json_object_set_new(o, "parent_exe",
				    sf_json_text(m->parent_exe));
	if (f & SFP_F(SFP_F_PATH))
		json_object_set_new(o, "path", sf_json_text(m->path));
	if (f & SFP_F(SFP_F_PATH_PREFIX))
		json_object_set_new(o, "path_prefix", sf_json_text(m->path));
	if (f & SFP_F(SFP_F_ADDR)) {
		inet_ntop(m->family == 6 ? AF_INET6 : AF_INET, m->addr, a,
			  sizeof(a));
		snprintf(buf, sizeof(buf), "%s/%u", a, m->prefix_len);
		json_object_set_new(o, "addr", json_string(buf));
	}
	if (f & SFP_F(SFP_F_PORT)) {
		if (m->port_lo == m->port_hi)
			snprintf(buf, sizeof(buf), "%u", m->port_lo);
		else
			snprintf(buf, sizeof(buf), "%u-%u", m->port_lo,
				 m->port_hi);
		json_object_set_new(o, "port", json_string(buf));
	}
	if (f & SFP_F(SFP_F_PROTO))
		json_object_set_new(o, "proto",
				    m->proto == 6  ? json_string("tcp") :
				    m->proto == 17 ? json_string("udp") :
						     json_integer(m->proto));
}

json_t *sfp_actions_to_json(const struct sfp_action *a, int n)
{
	json_t *arr = json_array();

	for (int i = 0; i < n; i++) {
		const char *name = sf_action_name(a[i].type);

		if (a[i].type == SF_ACT_KILL || a[i].type == SF_ACT_ENCODE)
			json_array_append_new(arr, json_pack("{s:i}", name,
							     (int)a[i].arg));
		else
			json_array_append_new(arr, json_string(name));
	}
	return arr;
}

static json_t *flags_to_json(uint16_t flags)
{
	json_t *arr = json_array();

	for (int k = 0; k < 3; k++)
		if (flags & (1 << k))
			json_array_append_new(arr, json_string(flag_names[k]));
	return arr;
}

json_t *sfp_flow_mod_to_json(const struct sfp_flow_mod *fm)
{
	json_t *o = json_object();

	json_object_set_new(
		o, "command",
		json_string(fm->command < 5 ? cmd_names[fm->command] : "?"));
	json_object_set_new(o, "priority", json_integer(fm->priority));
	json_object_set_new(o, "cookie", json_integer((json_int_t)fm->cookie));
	sfp_match_to_json(o, &fm->match);
	json_object_set_new(o, "actions",
			    sfp_actions_to_json(fm->actions, fm->n_actions));
	if (fm->idle_timeout)
		json_object_set_new(o, "idle_timeout",
				    json_integer(fm->idle_timeout));
	if (fm->hard_timeout)
		json_object_set_new(o, "hard_timeout",
				    json_integer(fm->hard_timeout));
	if (fm->flags)
		json_object_set_new(o, "flags", flags_to_json(fm->flags));
	return o;
}

json_t *sfp_stats_to_json(const struct sfp_flow_stats *e)
{
	json_t *o = json_object();

	json_object_set_new(o, "priority", json_integer(e->priority));
	json_object_set_new(o, "cookie", json_integer((json_int_t)e->cookie));
	sfp_match_to_json(o, &e->match);
	json_object_set_new(o, "actions",
			    sfp_actions_to_json(e->actions, e->n_actions));
	json_object_set_new(o, "hits", json_integer((json_int_t)e->hits));
	json_object_set_new(o, "duration_sec", json_integer(e->duration_sec));
	json_object_set_new(o, "idle_timeout", json_integer(e->idle_timeout));
	json_object_set_new(o, "hard_timeout", json_integer(e->hard_timeout));
	if (e->flags)
		json_object_set_new(o, "flags", flags_to_json(e->flags));
	return o;
}

static const char *const removed_names[] = { "idle_timeout", "hard_timeout",
					     "delete" };

json_t *sfp_removed_to_json(const struct sfp_flow_removed *r)
{
	json_t *o = json_object();

	json_object_set_new(o, "cookie", json_integer((json_int_t)r->cookie));
	json_object_set_new(o, "priority", json_integer(r->priority));
	json_object_set_new(
		o, "reason",
		json_string(r->reason < 3 ? removed_names[r->reason] : "?"));
	json_object_set_new(o, "duration_sec", json_integer(r->duration_sec));
	json_object_set_new(o, "hits", json_integer((json_int_t)r->hits));
	sfp_match_to_json(o, &r->match);
	return o;
}

json_t *sfp_event_to_json(uint8_t type, const struct sfp_event *e)
{
	json_t *o = json_object();

	json_object_set_new(o, "type",
			    json_string(type == SFP_EVENT_IN ?
						"event_in" :
						"action_report"));
	json_object_set_new(o, "time_ns", json_integer((json_int_t)e->time_ns));
	json_object_set_new(o, "cookie", json_integer((json_int_t)e->cookie));
	json_object_set_new(o, "op", json_string(sf_op_name(e->op) ?: "?"));
	json_object_set_new(o, "verdict",
			    json_string(sf_action_name(e->verdict)));
	if (type == SFP_ACTION_REPORT) {
		json_object_set_new(o, "action",
				    json_string(sf_action_name(e->action)));
		json_object_set_new(o, "reason", json_integer(e->reason));
	} else {
		json_object_set_new(
			o, "reason",
			json_string(e->reason == SFP_EV_MISS ? "miss" :
				    e->reason == SFP_EV_HELD ? "held" :
							       "action"));
		if (e->reason == SFP_EV_HELD)
			json_object_set_new(o, "hold_id",
					    json_integer(e->hold_id));
	}
	json_object_set_new(o, "pid", json_integer(e->pid));
	json_object_set_new(o, "uid", json_integer(e->uid));
	json_object_set_new(o, "exe", sf_json_text(e->exe));
	json_object_set_new(o, "object", sf_json_text(e->object));
	sf_json_set_str_nonempty(o, "data", e->data);
	return o;
}
