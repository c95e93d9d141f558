/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* proto.h: the SysFlow protocol between `sysflow agent` and `sysflow
 * controller`: message, operation, action and error numbers, the decoded
 * form of every message, the codec (struct <-> big-endian bytes) and the
 * stream decoder that cuts a byte stream into messages. docs/protocol.md
 * documents every byte. Functions return 0 or a negative errno; decoders
 * return a negative SFP_ERR() code that names the ERROR to send back.
 */
#ifndef __SYSFLOW_PROTO_H
#define __SYSFLOW_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SFP_VERSION 1 /* the highest version this code speaks */
#define SFP_VERSIONS_SUPPORTED (1u << 1) /* bit n: speaks version n */
#define SFP_HEADER_LEN 12
#define SFP_MAX_MSG 65536 /* default maximum message size, header included */
#define SFP_MIN_MAX_MSG 1024 /* a peer may not lower the limit below this */
#define SFP_DEFAULT_PORT 6653
#define SFP_ECHO_INTERVAL_MS 5000 /* default: ECHO after this much silence */
#define SFP_DEAD_INTERVAL_MS 15000 /* default: the peer is dead after this */
#define SFP_MAX_STR 256 /* strings in a match or event, NUL included */
#define SFP_MAX_ACTIONS 8
#define SFP_MAX_OPS 64
#define SFP_ERROR_DATA 64 /* offending bytes copied into an ERROR */
/* HELLO feature bits (the u32 after the versions bitmap; absent: 0) */
#define SFP_HELLO_VERDICT (1u << 0) /* holds "ask" operations / sends VERDICT */
#define SFP_HELLO_FEATURES SFP_HELLO_VERDICT /* what this code speaks */

/* Message types. 0-8 keep the seed's numbers (INFO_* became FEATURES_*,
 * FLOW_STATE_* became FLOW_STATS_*); 9 and up are new.
 */
enum sfp_type {
	SFP_HELLO = 0,
	SFP_FEATURES_REQUEST = 1,
	SFP_FEATURES_REPLY = 2,
	SFP_FLOW_MOD = 3,
	SFP_FLOW_STATS_REQUEST = 4,
	SFP_FLOW_STATS_REPLY = 5,
	SFP_ECHO_REQUEST = 6,
	SFP_ECHO_REPLY = 7,
	SFP_ACTION_REPORT = 8,
	SFP_ERROR = 9,
	SFP_FLOW_REMOVED = 10,
	SFP_BARRIER_REQUEST = 11,
	SFP_BARRIER_REPLY = 12,
	SFP_EVENT_IN = 13,
	SFP_SET_CONFIG = 14,
	SFP_VERDICT = 15, /* the controller's answer to a held EVENT_IN */
	SFP_TYPE_MAX,
};

/* System operations: the seed's numbers (sysflow_event.h), plus
 * SOCKET_BIND (45), which the seed folded into LISTEN.
 */
enum sf_op {
	SF_OP_FILE_IOCTL = 0,
	SF_OP_FILE_READ = 1,
	SF_OP_FILE_WRITE = 2,
	SF_OP_FILE_APPEND = 3,
	SF_OP_FILE_CREATE = 4,
	SF_OP_FILE_GETATTR = 5,
	SF_OP_FILE_SETATTR = 6,
	SF_OP_FILE_LOCK = 7,
	SF_OP_FILE_LINK = 8,
	SF_OP_FILE_EXECUTE = 9,
	SF_OP_FILE_RENAME = 10,
	SF_OP_FILE_OPEN = 11,
	SF_OP_SOCKET_IOCTL = 12,
	SF_OP_SOCKET_READ = 13,
	SF_OP_SOCKET_WRITE = 14,
	SF_OP_SOCKET_APPEND = 15,
	SF_OP_SOCKET_CREATE = 16,
	SF_OP_SOCKET_GETATTR = 17,
	SF_OP_SOCKET_SETATTR = 18,
	SF_OP_SOCKET_CONNECT = 19,
	SF_OP_SOCKET_LISTEN = 20,
	SF_OP_IPC_IOCTL = 21,
	SF_OP_IPC_READ = 22,
	SF_OP_IPC_WRITE = 23,
	SF_OP_IPC_APPEND = 24,
	SF_OP_IPC_CREATE = 25,
	SF_OP_IPC_GETATTR = 26,
	SF_OP_IPC_SETATTR = 27,
	SF_OP_INODE_CREATE = 28,
	SF_OP_SYMLINK_CREATE = 29,
	SF_OP_LINK_CREATE = 30,
	SF_OP_DIR_CREATE = 31,
	SF_OP_DEV_INODE_CREATE = 32,
	SF_OP_UNLINK = 33,
	SF_OP_DIR_REMOVE = 34,
	SF_OP_FILE_MMAP = 35,
	SF_OP_MSG_MSG_FREE = 36,
	SF_OP_MSG_MSG_ALLOC = 37,
	SF_OP_MSG_QUEUE_FREE = 38,
	SF_OP_MSG_QUEUE_ALLOC = 39,
	SF_OP_MSG_QUEUE_SND = 40,
	SF_OP_MSG_QUEUE_RCV = 41,
	SF_OP_MSG_QUEUE_CTL = 42,
	SF_OP_FILE_FCNTL = 43,
	SF_OP_DENTRY_OPEN = 44,
	SF_OP_SOCKET_BIND = 45,
	SF_OP_COUNT,
	SF_OP_ANY = 0xff, /* in a match: every operation the agent enforces */
};

/* Operation classes, each with its own table-miss policy. */
enum sf_op_class {
	SF_CLASS_FILE = 0, /* 0-11 */
	SF_CLASS_SOCKET, /* 12-20, 45 */
	SF_CLASS_IPC, /* 21-27, 36-42 */
	SF_CLASS_INODE, /* 28-35, 43, 44 */
	SF_CLASS_COUNT,
};

enum sf_miss {
	SF_MISS_ALLOW = 0,
	SF_MISS_DENY = 1,
	SF_MISS_ASK = 2, /* EVENT_IN to the controller; file ops wait for
			  * its VERDICT, socket ops are allowed
			  */
};

enum sf_fail_mode {
	SF_FAIL_SECURE = 0, /* controller lost: rules and miss policy stay */
	SF_FAIL_OPEN = 1, /* controller lost: misses allow */
};

/* Actions: the seed's numbers where the meaning is the same. */
enum sf_action {
	SF_ACT_UNKNOWN = 0,
	SF_ACT_ALLOW = 1,
	SF_ACT_DENY = 2,
	SF_ACT_REDIRECT = 3, /* not supported: refused */
	SF_ACT_QUARANTINE = 4, /* deny writes and network for the subject */
	SF_ACT_ISOLATION = 5, /* no network for the subject */
	SF_ACT_MIGRATION = 6, /* not supported: refused */
	SF_ACT_ENCODE = 7, /* IP DSCP tag on the subject's sockets; arg DSCP */
	SF_ACT_DECODE = 8, /* not supported: refused */
	SF_ACT_LOG = 9, /* a line in the agent's log */
	SF_ACT_REPORT = 10, /* ACTION_REPORT to the controller */
	SF_ACT_MESSAGE = 11, /* the whole event to the controller (EVENT_IN) */
	SF_ACT_NEXTMODULE = 12, /* not supported: refused */
	SF_ACT_KILL = 13, /* signal the process; arg signal (default 9) */
	SF_ACT_COUNT,
};

/* How an operation is enforced on this kernel (FEATURES_REPLY). */
enum sf_mechanism {
	SF_MECH_NONE = 0,
	SF_MECH_BPF_LSM = 1,
	SF_MECH_CGROUP = 2,
	SF_MECH_FANOTIFY = 3,
	SF_MECH_TRACEPOINT = 4,
};

/* Match fields: one TLV each on the wire; fields = 1 << SFP_F_*. */
enum sfp_field {
	SFP_F_PID = 1, /* u32 process id (tgid) */
	SFP_F_EXE = 2, /* string: executable path, exact */
	SFP_F_COMM = 3, /* string: process name (comm), up to 15 bytes */
	SFP_F_UID = 4, /* u32 real user id */
	SFP_F_CGROUP = 5, /* string: cgroup v2 path, "/a/b" */
	SFP_F_CONTAINER = 6, /* string: container id (full or a prefix >= 12) */
	SFP_F_PARENT_EXE = 7, /* string: parent's executable path */
	SFP_F_PATH = 8, /* string: file path, exact */
	SFP_F_PATH_PREFIX = 9, /* string: file path prefix (a directory) */
	SFP_F_ADDR = 10, /* u8 family (4/6), u8 prefix length, 4/16 bytes */
	SFP_F_PORT = 11, /* u16 low, u16 high (inclusive) */
	SFP_F_PROTO = 12, /* u8 IP protocol (6 tcp, 17 udp) */
	SFP_F_MAX,
};

#define SFP_F(f) (1u << (f))
#define SFP_SUBJECT_FIELDS                                                 \
	(SFP_F(SFP_F_PID) | SFP_F(SFP_F_EXE) | SFP_F(SFP_F_COMM) |         \
	 SFP_F(SFP_F_UID) | SFP_F(SFP_F_CGROUP) | SFP_F(SFP_F_CONTAINER) | \
	 SFP_F(SFP_F_PARENT_EXE))
#define SFP_FILE_FIELDS (SFP_F(SFP_F_PATH) | SFP_F(SFP_F_PATH_PREFIX))
#define SFP_NET_FIELDS \
	(SFP_F(SFP_F_ADDR) | SFP_F(SFP_F_PORT) | SFP_F(SFP_F_PROTO))

enum sfp_flow_mod_cmd {
	SFP_FM_ADD = 0, /* seed ADD */
	SFP_FM_DELETE = 1, /* seed REMOVE; non-strict */
	SFP_FM_MODIFY = 2, /* seed UPDATE; non-strict */
	SFP_FM_MODIFY_STRICT = 3,
	SFP_FM_DELETE_STRICT = 4,
};

enum sfp_flow_mod_flags {
	SFP_FF_SEND_FLOW_REM = 1 << 0,
	SFP_FF_CHECK_OVERLAP = 1 << 1,
	SFP_FF_RESET_COUNTS = 1 << 2,
};

enum sfp_removed_reason {
	SFP_RR_IDLE_TIMEOUT = 0,
	SFP_RR_HARD_TIMEOUT = 1,
	SFP_RR_DELETE = 2,
};

/* ACTION_REPORT reason bits: the seed's values. */
enum sfp_report_reason {
	SFP_RS_REPORT_TO_CONTROLLER = 1 << 1,
	SFP_RS_ALERT_TO_USER = 1 << 2,
	SFP_RS_MATCH_HIT = 1 << 3,
	SFP_RS_ACTION_SUCCESS = 1 << 4,
	SFP_RS_ACTION_FAILURE = 1 << 5,
	SFP_RS_STRING_MESSAGE = 1 << 6,
};

enum sfp_event_reason {
	SFP_EV_MISS = 0, /* table miss under the "ask" policy */
	SFP_EV_ACTION = 1, /* a rule with the MESSAGE action */
	SFP_EV_HELD = 2, /* table miss under "ask", the operation is held
			  * until a VERDICT with hold_id (or the timeout)
			  */
};

/* ERROR types and codes. */
enum sfp_err_type {
	SFP_ET_HELLO_FAILED = 0,
	SFP_ET_BAD_REQUEST = 1,
	SFP_ET_BAD_MATCH = 2,
	SFP_ET_BAD_ACTION = 3,
	SFP_ET_FLOW_MOD_FAILED = 4,
	SFP_ET_CONFIG_FAILED = 5,
	SFP_ET_VERDICT_FAILED = 6,
};

enum sfp_err_code {
	/* HELLO_FAILED */
	SFP_EC_INCOMPATIBLE = 0,
	/* BAD_REQUEST */
	SFP_EC_BAD_VERSION = 0,
	SFP_EC_BAD_TYPE = 1,
	SFP_EC_BAD_LEN = 2,
	SFP_EC_TOO_BIG = 3,
	SFP_EC_BAD_STATE = 4, /* not allowed before the handshake ends */
	SFP_EC_BAD_RESERVED = 5, /* a reserved field is not zero */
	/* BAD_MATCH */
	SFP_EC_BAD_FIELD = 0,
	SFP_EC_BAD_FIELD_LEN = 1,
	SFP_EC_BAD_VALUE = 2,
	SFP_EC_BAD_OP = 3,
	SFP_EC_DUP_FIELD = 4,
	/* BAD_ACTION */
	SFP_EC_BAD_ACTION_TYPE = 0,
	SFP_EC_BAD_ACTION_LEN = 1,
	SFP_EC_UNSUPPORTED = 2, /* this kernel cannot enforce it for the op */
	SFP_EC_BAD_ARG = 3,
	SFP_EC_TOO_MANY = 4,
	/* FLOW_MOD_FAILED */
	SFP_EC_TABLE_FULL = 0,
	SFP_EC_OVERLAP = 1,
	SFP_EC_BAD_COMMAND = 2,
	SFP_EC_BAD_FLAGS = 3,
	SFP_EC_KERNEL = 4, /* the kernel refused a map update */
	/* CONFIG_FAILED */
	SFP_EC_BAD_CONFIG = 0,
	/* VERDICT_FAILED */
	SFP_EC_BAD_VERDICT = 0, /* verdict not allow/deny, or hold id 0 */
	SFP_EC_UNKNOWN_HOLD = 1, /* no such held operation (too late) */
};

/* A decoder failure: negative, carries the ERROR type and code. */
#define SFP_ERR(type, code) (-(0x10000 | ((type) << 8) | (code)))
#define SFP_ERR_TYPE(e) (((-(e)) >> 8) & 0xff)
#define SFP_ERR_CODE(e) ((-(e)) & 0xff)
#define SFP_IS_ERR(e) ((e) < 0 && ((-(e)) & 0x10000))

struct sfp_header {
	uint8_t version;
	uint8_t type;
	uint16_t reserved;
	uint32_t length; /* whole message, header included */
	uint32_t xid;
};

struct sfp_match {
	uint32_t fields; /* SFP_F() bits of the fields present */
	uint8_t op; /* enum sf_op or SF_OP_ANY */
	uint32_t pid;
	uint32_t uid;
	char exe[SFP_MAX_STR];
	char comm[16];
	char cgroup[SFP_MAX_STR];
	char container[72];
	char parent_exe[SFP_MAX_STR];
	char path[SFP_MAX_STR]; /* SFP_F_PATH or SFP_F_PATH_PREFIX */
	uint8_t family; /* 4 or 6 */
	uint8_t prefix_len;
	uint8_t addr[16];
	uint16_t port_lo, port_hi;
	uint8_t proto;
};

struct sfp_action {
	uint16_t type; /* enum sf_action */
	uint32_t arg; /* KILL: signal; ENCODE: DSCP (0-63) */
};

struct sfp_flow_mod {
	uint8_t command; /* enum sfp_flow_mod_cmd */
	uint16_t flags; /* enum sfp_flow_mod_flags */
	uint16_t priority; /* higher wins */
	uint16_t idle_timeout; /* seconds, 0: none */
	uint16_t hard_timeout;
	uint64_t cookie;
	uint64_t cookie_mask; /* DELETE/MODIFY: only rules with these bits */
	struct sfp_match match;
	uint16_t n_actions;
	struct sfp_action actions[SFP_MAX_ACTIONS];
};

struct sfp_op_cap {
	uint8_t op;
	uint8_t mechanism; /* enum sf_mechanism */
	uint32_t actions; /* bit n: action n is enforced for this op */
};

struct sfp_features {
	uint8_t host_id[16]; /* /etc/machine-id */
	char hostname[64];
	char kernel[64];
	uint32_t cores;
	uint32_t max_rules;
	uint32_t n_rules; /* installed now (resync after reconnect) */
	uint8_t fail_mode; /* enum sf_fail_mode */
	uint8_t miss[SF_CLASS_COUNT]; /* enum sf_miss per class */
	uint8_t n_ops;
	struct sfp_op_cap ops[SFP_MAX_OPS];
};

/* One rule in a FLOW_STATS_REPLY. */
struct sfp_flow_stats {
	uint16_t priority;
	uint16_t idle_timeout;
	uint16_t hard_timeout;
	uint16_t flags;
	uint32_t duration_sec;
	uint64_t cookie;
	uint64_t hits;
	struct sfp_match match;
	uint16_t n_actions;
	struct sfp_action actions[SFP_MAX_ACTIONS];
};

struct sfp_stats_request {
	uint64_t cookie;
	uint64_t cookie_mask; /* 0: every rule */
};

struct sfp_stats_reply {
	uint16_t flags; /* SFP_STATS_MORE: another reply follows */
	uint32_t count;
	struct sfp_flow_stats *entries; /* malloc'd by the decoder */
};
#define SFP_STATS_MORE 1

struct sfp_flow_removed {
	uint64_t cookie;
	uint16_t priority;
	uint8_t reason; /* enum sfp_removed_reason */
	uint32_t duration_sec;
	uint16_t idle_timeout;
	uint16_t hard_timeout;
	uint64_t hits;
	struct sfp_match match;
};

/* ACTION_REPORT and EVENT_IN share this body. */
struct sfp_event {
	uint64_t cookie; /* the rule's; 0 for a miss */
	uint8_t op;
	uint8_t verdict; /* SF_ACT_ALLOW or SF_ACT_DENY */
	uint16_t action; /* ACTION_REPORT: the action that fired */
	uint32_t reason; /* ACTION_REPORT: sfp_report_reason bits;
			  * EVENT_IN: enum sfp_event_reason
			  */
	uint32_t pid;
	uint32_t uid;
	uint64_t time_ns; /* CLOCK_REALTIME */
	char exe[SFP_MAX_STR];
	char object[SFP_MAX_STR]; /* file path or "addr:port" */
	char data[SFP_MAX_STR]; /* free text (the seed's message) */
	uint32_t hold_id; /* EVENT_IN with SFP_EV_HELD: answer with it */
};

struct sfp_error {
	uint16_t type;
	uint16_t code;
	uint16_t data_len;
	uint8_t data[SFP_ERROR_DATA]; /* first bytes of the offending message */
};

struct sfp_config {
	uint8_t miss[SF_CLASS_COUNT];
};

/* VERDICT: release a held operation. */
struct sfp_verdict {
	uint32_t hold_id; /* from the EVENT_IN; never 0 */
	uint8_t verdict; /* SF_ACT_ALLOW or SF_ACT_DENY */
};

struct sfp_msg {
	struct sfp_header h;
	union {
		/* anonymous: C11, but a GNU extension in C++ (g++ -pedantic) */
		__extension__ struct {
			uint32_t hello_versions;
			uint32_t hello_features; /* SFP_HELLO_* bits */
		};
		struct sfp_features features;
		struct sfp_flow_mod flow_mod;
		struct sfp_stats_request stats_req;
		struct sfp_stats_reply stats_reply;
		struct {
			const uint8_t *data; /* points into the input */
			uint32_t len;
		} echo;
		struct sfp_event event;
		struct sfp_error error;
		struct sfp_flow_removed removed;
		struct sfp_config config;
		struct sfp_verdict verdict;
	};
};

/* ---- a growable output buffer (codec.c) ---- */

struct sfp_buf {
	uint8_t *data;
	size_t len, cap;
	bool failed; /* an allocation failed; the contents are incomplete */
};

void sfp_buf_free(struct sfp_buf *b);
/* Drop the first n bytes (after a partial write). */
void sfp_buf_consume(struct sfp_buf *b, size_t n);

/* ---- encoding: append one whole message to out; 0 or -ENOMEM/-EINVAL ---- */

int sfp_encode(struct sfp_buf *out, const struct sfp_msg *m);
/* Fill m as a header-only message (a HELLO says which versions and
 * features this code speaks) or as the ERROR reply (offending cut to
 * SFP_ERROR_DATA bytes); the encoders below and a session's send use them.
 */
void sfp_msg_simple(struct sfp_msg *m, uint8_t type, uint32_t xid);
void sfp_msg_error(struct sfp_msg *m, uint32_t xid, uint16_t type,
		   uint16_t code, const void *offending, size_t len);
/* Shorthands for header-only messages and the ERROR reply. */
int sfp_encode_simple(struct sfp_buf *out, uint8_t type, uint32_t xid);
int sfp_encode_error(struct sfp_buf *out, uint32_t xid, uint16_t type,
		     uint16_t code, const void *offending, size_t len);
/* ECHO_REQUEST / ECHO_REPLY with an opaque body. */
int sfp_encode_echo(struct sfp_buf *out, uint8_t type, uint32_t xid,
		    const void *data, uint32_t len);

/* ---- decoding ---- */

/* Decode one whole message (buf holds exactly h.length bytes). Checks the
 * header, every length and every enum; returns 0 or an SFP_ERR() code.
 * FLOW_STATS_REPLY allocates entries: release with sfp_msg_free().
 */
int sfp_decode(const uint8_t *buf, size_t len, struct sfp_msg *m);
void sfp_msg_free(struct sfp_msg *m);

/* Read the 12-byte header (no checks). */
void sfp_header_read(const uint8_t *buf, struct sfp_header *h);

/* Minimum body length of each type; -1 for an unknown type. */
int sfp_min_body(uint8_t type);

/* ---- stream decoder (stream.c) ---- */

struct sfp_stream {
	uint8_t *buf;
	size_t len, cap;
	size_t max_msg; /* messages longer than this are an error */
	size_t consumed; /* bytes of the message last returned */
};

void sfp_stream_init(struct sfp_stream *s, size_t max_msg);
void sfp_stream_free(struct sfp_stream *s);
/* Append bytes as read from the socket: 0, -ENOMEM, or -EOVERFLOW for a
 * length that cannot fit in memory (the stream is left as it was).
 */
int sfp_stream_feed(struct sfp_stream *s, const void *data, size_t len);
/* The next whole message: 1 with msg and len set (valid until the next call),
 * 0 when more bytes are needed, or an SFP_ERR() code (BAD_LEN for a length
 * below the header, TOO_BIG above max_msg). After an error the stream is
 * unusable: send the ERROR and close.
 */
int sfp_stream_next(struct sfp_stream *s, const uint8_t **msg, size_t *len);

/* ---- names (names.c) ---- */

const char *sfp_type_name(uint8_t type);
const char *sf_op_name(uint8_t op); /* "connect", "open", ...; NULL */
int sf_op_parse(const char *name); /* name or number; -1 */
const char *sf_action_name(uint16_t action);
int sf_action_parse(const char *name);
const char *sf_mech_name(uint8_t mech);
const char *sf_miss_name(uint8_t miss);
int sf_miss_parse(const char *name);
const char *sfp_err_name(uint16_t type, uint16_t code, char *buf, size_t len);
enum sf_op_class sf_op_class(uint8_t op);
const char *sf_class_name(int cls);
int sf_class_parse(const char *name);

/* Two matches are identical (FLOW_MOD strict, CHECK_OVERLAP). */
bool sfp_match_equal(const struct sfp_match *a, const struct sfp_match *b);
/* Some event could match both (CHECK_OVERLAP at the same priority). */
bool sfp_match_overlap(const struct sfp_match *a, const struct sfp_match *b);
/* a is at least as specific as b (non-strict DELETE/MODIFY: b is the
 * request's match, a a rule's).
 */
bool sfp_match_covers(const struct sfp_match *b, const struct sfp_match *a);

#ifdef __cplusplus
}
#endif

#endif /* __SYSFLOW_PROTO_H */
