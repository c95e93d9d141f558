// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* names.c: text names of SysFlow message types, operations, actions,
 * mechanisms, miss policies and errors (logs, JSON, the CLI).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysflow/proto.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char *const type_names[SFP_TYPE_MAX] = {
	"HELLO",	 "FEATURES_REQUEST",   "FEATURES_REPLY",
	"FLOW_MOD",	 "FLOW_STATS_REQUEST", "FLOW_STATS_REPLY",
	"ECHO_REQUEST",	 "ECHO_REPLY",	       "ACTION_REPORT",
	"ERROR",	 "FLOW_REMOVED",       "BARRIER_REQUEST",
	"BARRIER_REPLY", "EVENT_IN",	       "SET_CONFIG",
	"VERDICT",
};

const char *sfp_type_name(uint8_t type)
{
	return type < SFP_TYPE_MAX ? type_names[type] : "UNKNOWN";
}

static const char *const op_names[SF_OP_COUNT] = {
	"file_ioctl",	   "file_read",	     "file_write",
	"file_append",	   "file_create",    "file_getattr",
	"file_setattr",	   "file_lock",	     "file_link",
	"file_execute",	   "file_rename",    "file_open",
	"socket_ioctl",	   "socket_read",    "socket_write",
	"socket_append",   "socket_create",  "socket_getattr",
	"socket_setattr",  "socket_connect", "socket_listen",
	"ipc_ioctl",	   "ipc_read",	     "ipc_write",
	"ipc_append",	   "ipc_create",     "ipc_getattr",
	"ipc_setattr",	   "inode_create",   "symlink_create",
	"link_create",	   "dir_create",     "dev_inode_create",
	"unlink",	   "dir_remove",     "file_mmap",
	"msg_msg_free",	   "msg_msg_alloc",  "msg_queue_free",
	"msg_queue_alloc", "msg_queue_snd",  "msg_queue_rcv",
	"msg_queue_ctl",   "file_fcntl",     "dentry_open",
	"socket_bind",
};

static const struct {
	const char *alias;
	int op;
} op_aliases[] = {
	{ "open", SF_OP_FILE_OPEN },
	{ "read", SF_OP_FILE_READ },
	{ "write", SF_OP_FILE_WRITE },
	{ "exec", SF_OP_FILE_EXECUTE },
	{ "connect", SF_OP_SOCKET_CONNECT },
	{ "bind", SF_OP_SOCKET_BIND },
	{ "send", SF_OP_SOCKET_WRITE },
	{ "socket", SF_OP_SOCKET_CREATE },
	{ "any", SF_OP_ANY },
};

const char *sf_op_name(uint8_t op)
{
	if (op == SF_OP_ANY)
		return "any";
	return op < SF_OP_COUNT ? op_names[op] : NULL;
}

static int parse_number(const char *s, int max)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (!*s || *end || v < 0 || v > max)
		return -1;
	return v;
}

int sf_op_parse(const char *name)
{
	for (int i = 0; i < SF_OP_COUNT; i++)
		if (!strcmp(name, op_names[i]))
			return i;
	for (size_t i = 0; i < N(op_aliases); i++)
		if (!strcmp(name, op_aliases[i].alias))
			return op_aliases[i].op;
	int v = parse_number(name, SF_OP_COUNT - 1);

	return v;
}

static const char *const action_names[SF_ACT_COUNT] = {
	"unknown",   "allow",	  "deny",	"redirect", "quarantine",
	"isolation", "migration", "encode",	"decode",   "log",
	"report",    "message",	  "nextmodule", "kill",
};

const char *sf_action_name(uint16_t a)
{
	return a < SF_ACT_COUNT ? action_names[a] : "unknown";
}

int sf_action_parse(const char *name)
{
	for (int i = 1; i < SF_ACT_COUNT; i++)
		if (!strcmp(name, action_names[i]))
			return i;
	if (!strcmp(name, "isolate"))
		return SF_ACT_ISOLATION;
	return -1;
}

static const char *const mech_names[] = { "none", "bpf_lsm", "cgroup",
					  "fanotify", "tracepoint" };

const char *sf_mech_name(uint8_t m)
{
	return m < N(mech_names) ? mech_names[m] : "unknown";
}

static const char *const miss_names[] = { "allow", "deny", "ask" };

const char *sf_miss_name(uint8_t m)
{
	return m < N(miss_names) ? miss_names[m] : "unknown";
}

int sf_miss_parse(const char *name)
{
	for (size_t i = 0; i < N(miss_names); i++)
		if (!strcmp(name, miss_names[i]))
			return i;
	return -1;
}

static const char *const class_names[SF_CLASS_COUNT] = { "file", "socket",
							 "ipc", "inode" };

const char *sf_class_name(int cls)
{
	return cls >= 0 && cls < SF_CLASS_COUNT ? class_names[cls] : "unknown";
}

int sf_class_parse(const char *name)
{
	for (int i = 0; i < SF_CLASS_COUNT; i++)
		if (!strcmp(name, class_names[i]))
			return i;
	return -1;
}

enum sf_op_class sf_op_class(uint8_t op)
{
	if (op <= SF_OP_FILE_OPEN)
		return SF_CLASS_FILE;
	if (op <= SF_OP_SOCKET_LISTEN || op == SF_OP_SOCKET_BIND)
		return SF_CLASS_SOCKET;
	if (op <= SF_OP_IPC_SETATTR ||
	    (op >= SF_OP_MSG_MSG_FREE && op <= SF_OP_MSG_QUEUE_CTL))
		return SF_CLASS_IPC;
	return SF_CLASS_INODE;
}

static const char *const bad_request_codes[] = {
	"bad_version", "bad_type",  "bad_len",
	"too_big",     "bad_state", "bad_reserved"
};
static const char *const bad_match_codes[] = { "bad_field", "bad_field_len",
					       "bad_value", "bad_op",
					       "dup_field" };
static const char *const bad_action_codes[] = { "bad_type", "bad_len",
						"unsupported", "bad_arg",
						"too_many" };
static const char *const flow_mod_codes[] = { "table_full", "overlap",
					      "bad_command", "bad_flags",
					      "kernel" };

static const char *const hello_codes[] = { "incompatible" };
static const char *const config_codes[] = { "bad_config" };
static const char *const verdict_codes[] = { "bad_verdict", "unknown_hold" };

/* Each error type's name and the names of its codes, by type. */
#define ERR_TYPE(t, name, codes) [t] = { name, codes, N(codes) }
static const struct {
	const char *name;
	const char *const *codes;
	size_t n;
} err_types[] = {
	ERR_TYPE(SFP_ET_HELLO_FAILED, "hello_failed", hello_codes),
	ERR_TYPE(SFP_ET_BAD_REQUEST, "bad_request", bad_request_codes),
	ERR_TYPE(SFP_ET_BAD_MATCH, "bad_match", bad_match_codes),
	ERR_TYPE(SFP_ET_BAD_ACTION, "bad_action", bad_action_codes),
	ERR_TYPE(SFP_ET_FLOW_MOD_FAILED, "flow_mod_failed", flow_mod_codes),
	ERR_TYPE(SFP_ET_CONFIG_FAILED, "config_failed", config_codes),
	ERR_TYPE(SFP_ET_VERDICT_FAILED, "verdict_failed", verdict_codes),
};

const char *sfp_err_name(uint16_t type, uint16_t code, char *buf, size_t len)
{
	if (type < N(err_types) && code < err_types[type].n)
		snprintf(buf, len, "%s/%s", err_types[type].name,
			 err_types[type].codes[code]);
	else
		snprintf(buf, len, "error %u/%u", type, code);
	return buf;
}
