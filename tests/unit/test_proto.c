// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_proto.c: unit tests of the SysFlow protocol codec (lib/proto): every
 * message type round-trips through encode/decode, byte layouts of the
 * header and a FLOW_MOD are pinned, malformed input (short header, wrong
 * length, unknown type, oversized, bad version, bad TLVs) gives the right
 * ERROR code, the stream decoder handles split and coalesced reads, and
 * the rule JSON form round-trips. The "ask" messages (HELLO feature bits,
 * held EVENT_IN, VERDICT) are pinned byte by byte.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sysflow/proto.h>
#include "proto/proto_json.h"

static void sample_match(struct sfp_match *m)
{
	memset(m, 0, sizeof(*m));
	m->op = SF_OP_SOCKET_CONNECT;
	m->fields = SFP_F(SFP_F_PID) | SFP_F(SFP_F_EXE) | SFP_F(SFP_F_COMM) |
		    SFP_F(SFP_F_UID) | SFP_F(SFP_F_CGROUP) |
		    SFP_F(SFP_F_CONTAINER) | SFP_F(SFP_F_PARENT_EXE) |
		    SFP_F(SFP_F_PATH_PREFIX) | SFP_F(SFP_F_ADDR) |
		    SFP_F(SFP_F_PORT) | SFP_F(SFP_F_PROTO);
	m->pid = 4242;
	m->uid = 1000;
	strcpy(m->exe, "/usr/bin/curl");
	strcpy(m->comm, "curl");
	strcpy(m->cgroup, "/system.slice/x.service");
	strcpy(m->container, "0123456789ab");
	strcpy(m->parent_exe, "/bin/bash");
	strcpy(m->path, "/tmp/monitored");
	m->family = 6;
	m->prefix_len = 64;
	m->addr[0] = 0xfd;
	m->addr[1] = 0x77;
	m->port_lo = 7000;
	m->port_hi = 7100;
	m->proto = 6;
}

/* Encode m, decode it back into out; the buffer is returned for checks. */
static struct sfp_buf roundtrip(const struct sfp_msg *m, struct sfp_msg *out)
{
	struct sfp_buf b = {};

	assert_int_equal(sfp_encode(&b, m), 0);
	assert_int_equal(sfp_decode(b.data, b.len, out), 0);
	assert_int_equal(out->h.type, m->h.type);
	assert_int_equal(out->h.xid, m->h.xid);
	assert_int_equal(out->h.version, SFP_VERSION);
	assert_int_equal(out->h.length, b.len);
	return b;
}

static void test_header_bytes(void **state)
{
	struct sfp_buf b = {};
	const uint8_t want[] = { 1, 11, 0,    0,    0,	  0,
				 0, 12, 0xde, 0xad, 0xbe, 0xef };

	(void)state;
	assert_int_equal(sfp_encode_simple(&b, SFP_BARRIER_REQUEST, 0xdeadbeef),
			 0);
	assert_int_equal(b.len, 12);
	assert_memory_equal(b.data, want, 12);
	sfp_buf_free(&b);
}

static void test_hello_and_simple(void **state)
{
	static const uint8_t types[] = { SFP_FEATURES_REQUEST,
					 SFP_BARRIER_REQUEST,
					 SFP_BARRIER_REPLY };
	struct sfp_msg m = { .h = { .type = SFP_HELLO, .xid = 7 } }, out;
	uint8_t raw[SFP_ERROR_DATA + 8];
	struct sfp_buf b;

	(void)state;
	m.hello_versions = SFP_VERSIONS_SUPPORTED;
	b = roundtrip(&m, &out);
	assert_int_equal(out.hello_versions, SFP_VERSIONS_SUPPORTED);
	assert_int_equal(b.len, 16);
	sfp_buf_free(&b);
	for (size_t i = 0; i < sizeof(types); i++) {
		struct sfp_msg s = { .h = { .type = types[i], .xid = i } };

		b = roundtrip(&s, &out);
		assert_int_equal(b.len, 12);
		sfp_buf_free(&b);
	}
	/* the builders both encoders and sessions use */
	sfp_msg_simple(&m, SFP_HELLO, 9);
	assert_int_equal(m.h.xid, 9);
	assert_int_equal(m.hello_versions, SFP_VERSIONS_SUPPORTED);
	assert_int_equal(m.hello_features, SFP_HELLO_FEATURES);
	memset(raw, 0x5a, sizeof(raw));
	sfp_msg_error(&m, 3, SFP_ET_BAD_REQUEST, SFP_EC_BAD_TYPE, raw,
		      sizeof(raw));
	assert_int_equal(m.h.type, SFP_ERROR);
	assert_int_equal(m.error.data_len, SFP_ERROR_DATA);
	assert_int_equal(m.error.data[SFP_ERROR_DATA - 1], 0x5a);
}

static void test_features(void **state)
{
	struct sfp_msg m = { .h = { .type = SFP_FEATURES_REPLY, .xid = 2 } },
		       out;
	struct sfp_features *f = &m.features;
	struct sfp_buf b;

	(void)state;
	memset(f->host_id, 0xab, 16);
	strcpy(f->hostname, "host-a");
	strcpy(f->kernel, "6.18.0");
	f->cores = 2;
	f->max_rules = 4096;
	f->n_rules = 3;
	f->fail_mode = SF_FAIL_OPEN;
	f->miss[SF_CLASS_SOCKET] = SF_MISS_ASK;
	f->n_ops = 2;
	f->ops[0] = (struct sfp_op_cap){ SF_OP_SOCKET_CONNECT, SF_MECH_CGROUP,
					 0x2406 };
	f->ops[1] =
		(struct sfp_op_cap){ SF_OP_FILE_OPEN, SF_MECH_FANOTIFY, 0x606 };
	b = roundtrip(&m, &out);
	assert_int_equal(b.len, 12 + 164 + 16);
	assert_memory_equal(&out.features, f,
			    offsetof(struct sfp_features, ops));
	assert_int_equal(out.features.ops[1].mechanism, SF_MECH_FANOTIFY);
	assert_int_equal(out.features.ops[0].actions, 0x2406);
	sfp_buf_free(&b);
}

static void test_flow_mod(void **state)
{
	struct sfp_msg m = { .h = { .type = SFP_FLOW_MOD, .xid = 99 } }, out;
	struct sfp_flow_mod *fm = &m.flow_mod;
	struct sfp_buf b;

	(void)state;
	fm->command = SFP_FM_MODIFY_STRICT;
	fm->flags = SFP_FF_SEND_FLOW_REM | SFP_FF_CHECK_OVERLAP;
	fm->priority = 300;
	fm->idle_timeout = 5;
	fm->hard_timeout = 60;
	fm->cookie = 0x1122334455667788ULL;
	fm->cookie_mask = ~0ULL;
	sample_match(&fm->match);
	fm->n_actions = 3;
	fm->actions[0] = (struct sfp_action){ SF_ACT_DENY, 0 };
	fm->actions[1] = (struct sfp_action){ SF_ACT_KILL, 15 };
	fm->actions[2] = (struct sfp_action){ SF_ACT_ENCODE, 10 };
	b = roundtrip(&m, &out);
	assert_int_equal(out.flow_mod.command, fm->command);
	assert_int_equal(out.flow_mod.flags, fm->flags);
	assert_int_equal(out.flow_mod.priority, 300);
	assert_int_equal(out.flow_mod.idle_timeout, 5);
	assert_int_equal(out.flow_mod.hard_timeout, 60);
	assert_true(out.flow_mod.cookie == fm->cookie);
	assert_true(sfp_match_equal(&out.flow_mod.match, &fm->match));
	assert_int_equal(out.flow_mod.n_actions, 3);
	assert_int_equal(out.flow_mod.actions[1].arg, 15);
	assert_int_equal(out.flow_mod.actions[2].type, SF_ACT_ENCODE);
	/* fixed part: command at 12, priority at 16, cookie at 24 */
	assert_int_equal(b.data[12], SFP_FM_MODIFY_STRICT);
	assert_int_equal(b.data[16] << 8 | b.data[17], 300);
	assert_int_equal(b.data[24], 0x11);
	assert_int_equal(b.data[40 + 2], SF_OP_SOCKET_CONNECT);
	sfp_buf_free(&b);
}

static void test_stats_reply(void **state)
{
	struct sfp_flow_stats e[2] = {};
	struct sfp_msg m = { .h = { .type = SFP_FLOW_STATS_REPLY, .xid = 5 } },
		       out;
	struct sfp_buf b;

	(void)state;
	sample_match(&e[0].match);
	e[0].priority = 10;
	e[0].hits = 123456789012ULL;
	e[0].cookie = 77;
	e[0].n_actions = 1;
	e[0].actions[0].type = SF_ACT_REPORT;
	e[1].match.op = SF_OP_FILE_OPEN;
	e[1].match.fields = SFP_F(SFP_F_PATH);
	strcpy(e[1].match.path, "/etc/shadow");
	e[1].duration_sec = 42;
	m.stats_reply.count = 2;
	m.stats_reply.flags = SFP_STATS_MORE;
	m.stats_reply.entries = e;
	b = roundtrip(&m, &out);
	assert_int_equal(out.stats_reply.count, 2);
	assert_int_equal(out.stats_reply.flags, SFP_STATS_MORE);
	assert_true(out.stats_reply.entries[0].hits == 123456789012ULL);
	assert_true(sfp_match_equal(&out.stats_reply.entries[0].match,
				    &e[0].match));
	assert_string_equal(out.stats_reply.entries[1].match.path,
			    "/etc/shadow");
	assert_int_equal(out.stats_reply.entries[1].duration_sec, 42);
	sfp_msg_free(&out);
	sfp_buf_free(&b);
	/* stats request */
	m = (struct sfp_msg){ .h = { .type = SFP_FLOW_STATS_REQUEST,
				     .xid = 6 } };
	m.stats_req.cookie = 5;
	m.stats_req.cookie_mask = 0xff;
	b = roundtrip(&m, &out);
	assert_true(out.stats_req.cookie_mask == 0xff);
	sfp_buf_free(&b);
}

static void test_events_and_errors(void **state)
{
	struct sfp_msg m = { .h = { .type = SFP_ACTION_REPORT, .xid = 1 } },
		       out;
	struct sfp_buf b;
	uint8_t echo[5] = "hello";

	(void)state;
	m.event.cookie = 9;
	m.event.op = SF_OP_FILE_READ;
	m.event.verdict = SF_ACT_ALLOW;
	m.event.action = SF_ACT_REPORT;
	m.event.reason = SFP_RS_REPORT_TO_CONTROLLER | SFP_RS_MATCH_HIT;
	m.event.pid = 77;
	m.event.time_ns = 1700000000123456789ULL;
	strcpy(m.event.exe, "/usr/bin/cat");
	strcpy(m.event.object, "/tmp/monitored/w2");
	b = roundtrip(&m, &out);
	assert_memory_equal(&out.event, &m.event, sizeof(m.event));
	sfp_buf_free(&b);
	m.h.type = SFP_EVENT_IN;
	b = roundtrip(&m, &out);
	assert_string_equal(out.event.object, "/tmp/monitored/w2");
	sfp_buf_free(&b);

	b = (struct sfp_buf){};
	assert_int_equal(sfp_encode_error(&b, 33, SFP_ET_BAD_ACTION,
					  SFP_EC_UNSUPPORTED, echo, 5),
			 0);
	assert_int_equal(sfp_decode(b.data, b.len, &out), 0);
	assert_int_equal(out.h.xid, 33);
	assert_int_equal(out.error.type, SFP_ET_BAD_ACTION);
	assert_int_equal(out.error.code, SFP_EC_UNSUPPORTED);
	assert_int_equal(out.error.data_len, 5);
	sfp_buf_free(&b);

	assert_int_equal(sfp_encode_echo(&b, SFP_ECHO_REQUEST, 4, echo, 5), 0);
	assert_int_equal(sfp_decode(b.data, b.len, &out), 0);
	assert_int_equal(out.echo.len, 5);
	assert_memory_equal(out.echo.data, "hello", 5);
	sfp_buf_free(&b);

	m = (struct sfp_msg){ .h = { .type = SFP_FLOW_REMOVED, .xid = 0 } };
	m.removed.cookie = 3;
	m.removed.reason = SFP_RR_IDLE_TIMEOUT;
	m.removed.hits = 12;
	m.removed.duration_sec = 9;
	sample_match(&m.removed.match);
	b = roundtrip(&m, &out);
	assert_int_equal(out.removed.reason, SFP_RR_IDLE_TIMEOUT);
	assert_true(out.removed.hits == 12);
	sfp_buf_free(&b);

	m = (struct sfp_msg){ .h = { .type = SFP_SET_CONFIG, .xid = 8 } };
	m.config.miss[SF_CLASS_FILE] = SF_MISS_DENY;
	b = roundtrip(&m, &out);
	assert_int_equal(out.config.miss[SF_CLASS_FILE], SF_MISS_DENY);
	sfp_buf_free(&b);
}

#define EXPECT_ERR(buf, len, type, code)                  \
	do {                                              \
		struct sfp_msg _m;                        \
		int _e = sfp_decode(buf, len, &_m);       \
		assert_true(SFP_IS_ERR(_e));              \
		assert_int_equal(SFP_ERR_TYPE(_e), type); \
		assert_int_equal(SFP_ERR_CODE(_e), code); \
	} while (0)

/* "ask": HELLO feature bits, a held EVENT_IN and the VERDICT, byte by
 * byte, and every way a VERDICT can be malformed.
 */
static void test_held_and_verdict(void **state)
{
	struct sfp_msg m = { .h = { .type = SFP_HELLO, .xid = 3 } }, out;
	const uint8_t verdict_bytes[] = { 1, SFP_VERDICT, 0, 0, 0, 0, 0,
					  20, 0, 0, 0, 5, /* header */
					  0, 0, 1, 2, /* hold id 0x102 */
					  2, 0, 0, 0 }; /* deny, reserved */
	struct sfp_buf b;
	size_t plain;

	(void)state;
	/* HELLO with features: versions, then the feature bits */
	m.hello_versions = SFP_VERSIONS_SUPPORTED;
	m.hello_features = SFP_HELLO_VERDICT;
	b = roundtrip(&m, &out);
	assert_int_equal(b.len, 20);
	assert_int_equal(b.data[19], SFP_HELLO_VERDICT);
	assert_int_equal(out.hello_features, SFP_HELLO_VERDICT);
	b.data[7] = 16; /* a v1 peer's HELLO: no feature bits */
	assert_int_equal(sfp_decode(b.data, 16, &out), 0);
	assert_int_equal(out.hello_features, 0);
	sfp_buf_free(&b);

	/* EVENT_IN of a held operation: the texts, then the hold id */
	m = (struct sfp_msg){ .h = { .type = SFP_EVENT_IN, .xid = 4 } };
	m.event.op = SF_OP_FILE_READ;
	m.event.verdict = SF_ACT_DENY; /* what the timeout will do */
	m.event.pid = 77;
	strcpy(m.event.exe, "/usr/bin/cat");
	strcpy(m.event.object, "/srv/x");
	b = roundtrip(&m, &out);
	plain = b.len;
	sfp_buf_free(&b);
	m.event.reason = SFP_EV_HELD;
	m.event.hold_id = 0x01020304;
	b = roundtrip(&m, &out);
	assert_int_equal(b.len, plain + 4);
	assert_memory_equal(b.data + b.len - 4, "\x01\x02\x03\x04", 4);
	assert_memory_equal(&out.event, &m.event, sizeof(m.event));
	b.data[b.len - 1] = 0;
	b.data[b.len - 2] = 0;
	b.data[b.len - 3] = 0;
	b.data[b.len - 4] = 0; /* hold id 0 */
	EXPECT_ERR(b.data, b.len, SFP_ET_VERDICT_FAILED, SFP_EC_BAD_VERDICT);
	b.data[7] -= 4; /* held without its id */
	EXPECT_ERR(b.data, b.len - 4, SFP_ET_BAD_REQUEST, SFP_EC_BAD_LEN);
	sfp_buf_free(&b);

	/* VERDICT: u32 hold id, u8 verdict, u8 + u16 reserved */
	m = (struct sfp_msg){ .h = { .type = SFP_VERDICT, .xid = 5 } };
	m.verdict.hold_id = 0x102;
	m.verdict.verdict = SF_ACT_DENY;
	b = roundtrip(&m, &out);
	assert_int_equal(b.len, sizeof(verdict_bytes));
	assert_memory_equal(b.data, verdict_bytes, sizeof(verdict_bytes));
	assert_int_equal(out.verdict.hold_id, 0x102);
	assert_int_equal(out.verdict.verdict, SF_ACT_DENY);
	assert_string_equal(sfp_type_name(SFP_VERDICT), "VERDICT");

	b.data[16] = 0; /* neither allow nor deny */
	EXPECT_ERR(b.data, b.len, SFP_ET_VERDICT_FAILED, SFP_EC_BAD_VERDICT);
	b.data[16] = 3;
	EXPECT_ERR(b.data, b.len, SFP_ET_VERDICT_FAILED, SFP_EC_BAD_VERDICT);
	b.data[16] = SF_ACT_ALLOW;
	b.data[14] = b.data[15] = 0; /* hold id 0 */
	EXPECT_ERR(b.data, b.len, SFP_ET_VERDICT_FAILED, SFP_EC_BAD_VERDICT);
	b.data[15] = 9;
	b.data[18] = 1; /* reserved */
	EXPECT_ERR(b.data, b.len, SFP_ET_BAD_REQUEST, SFP_EC_BAD_RESERVED);
	b.data[18] = 0;
	b.data[7] = 19; /* short body */
	EXPECT_ERR(b.data, 19, SFP_ET_BAD_REQUEST, SFP_EC_BAD_LEN);
	sfp_buf_free(&b);
	b = (struct sfp_buf){};
	m.verdict.hold_id = 1;
	assert_int_equal(sfp_encode(&b, &m), 0);
	assert_int_equal(sfp_encode_simple(&b, SFP_BARRIER_REQUEST, 6), 0);
	b.data[7] = 24; /* a trailing byte: eats the next header's first */
	EXPECT_ERR(b.data, 24, SFP_ET_BAD_REQUEST, SFP_EC_BAD_LEN);
	sfp_buf_free(&b);
	{
		char name[48];

		assert_string_equal(sfp_err_name(SFP_ET_VERDICT_FAILED,
						 SFP_EC_UNKNOWN_HOLD, name,
						 sizeof(name)),
				    "verdict_failed/unknown_hold");
	}
}

static void test_malformed(void **state)
{
	uint8_t h[64] = {
		1, SFP_BARRIER_REQUEST, 0, 0, 0, 0, 0, 12, 0, 0, 0, 1
	};
	struct sfp_msg m = { .h = { .type = SFP_FLOW_MOD, .xid = 1 } };
	struct sfp_buf b = {};

	(void)state;
	EXPECT_ERR(h, 11, SFP_ET_BAD_REQUEST, SFP_EC_BAD_LEN); /* short */
	h[7] = 13;
	EXPECT_ERR(h, 12, SFP_ET_BAD_REQUEST, SFP_EC_BAD_LEN); /* length */
	h[7] = 12;
	h[0] = 9;
	EXPECT_ERR(h, 12, SFP_ET_BAD_REQUEST, SFP_EC_BAD_VERSION);
	h[0] = 0;
	EXPECT_ERR(h, 12, SFP_ET_BAD_REQUEST, SFP_EC_BAD_VERSION);
	h[0] = 1;
	h[1] = 200;
	EXPECT_ERR(h, 12, SFP_ET_BAD_REQUEST, SFP_EC_BAD_TYPE);
	h[1] = SFP_BARRIER_REQUEST;
	h[3] = 1;
	EXPECT_ERR(h, 12, SFP_ET_BAD_REQUEST, SFP_EC_BAD_RESERVED);
	h[3] = 0;
	h[7] = 13; /* trailing byte on a header-only message */
	EXPECT_ERR(h, 13, SFP_ET_BAD_REQUEST, SFP_EC_BAD_LEN);
	h[1] = SFP_HELLO; /* HELLO without its bitmap */
	h[7] = 12;
	EXPECT_ERR(h, 12, SFP_ET_BAD_REQUEST, SFP_EC_BAD_LEN);

	/* FLOW_MOD: bad command, unknown field, bad action, bad op */
	m.flow_mod.match.op = SF_OP_SOCKET_CONNECT;
	m.flow_mod.match.fields = SFP_F(SFP_F_PORT);
	m.flow_mod.match.port_lo = m.flow_mod.match.port_hi = 80;
	m.flow_mod.n_actions = 1;
	m.flow_mod.actions[0].type = SF_ACT_DENY;
	assert_int_equal(sfp_encode(&b, &m), 0);
	b.data[12] = 9;
	EXPECT_ERR(b.data, b.len, SFP_ET_FLOW_MOD_FAILED, SFP_EC_BAD_COMMAND);
	b.data[12] = 0;
	b.data[40 + 2] = 100; /* op */
	EXPECT_ERR(b.data, b.len, SFP_ET_BAD_MATCH, SFP_EC_BAD_OP);
	b.data[40 + 2] = SF_OP_SOCKET_CONNECT;
	b.data[44 + 1] = 40; /* field number */
	EXPECT_ERR(b.data, b.len, SFP_ET_BAD_MATCH, SFP_EC_BAD_FIELD);
	b.data[44 + 1] = SFP_F_PORT;
	b.data[48] = 1; /* port low 256+80 > high 80 */
	EXPECT_ERR(b.data, b.len, SFP_ET_BAD_MATCH, SFP_EC_BAD_VALUE);
	b.data[48] = 0;
	b.data[52 + 1] = 99; /* action type */
	EXPECT_ERR(b.data, b.len, SFP_ET_BAD_ACTION, SFP_EC_BAD_ACTION_TYPE);
	b.data[52 + 1] = SF_ACT_DENY;
	b.data[44 + 3] = 200; /* TLV longer than the match */
	EXPECT_ERR(b.data, b.len, SFP_ET_BAD_MATCH, SFP_EC_BAD_FIELD_LEN);
	sfp_buf_free(&b);
}

static void test_stream(void **state)
{
	struct sfp_buf b = {};
	struct sfp_stream s;
	const uint8_t *msg;
	size_t len, total;
	int n = 0;

	(void)state;
	for (int i = 0; i < 3; i++)
		sfp_encode_simple(&b, SFP_ECHO_REQUEST, i);
	sfp_encode_echo(&b, SFP_ECHO_REPLY, 3, "abcdef", 6);
	total = b.len;
	sfp_stream_init(&s, 0);
	/* byte by byte: messages split across every possible boundary */
	for (size_t i = 0; i < total; i++) {
		assert_int_equal(sfp_stream_feed(&s, b.data + i, 1), 0);
		while (sfp_stream_next(&s, &msg, &len) == 1) {
			struct sfp_msg m;

			assert_int_equal(sfp_decode(msg, len, &m), 0);
			assert_int_equal(m.h.xid, n);
			n++;
		}
	}
	assert_int_equal(n, 4);
	/* all at once: coalesced */
	n = 0;
	sfp_stream_feed(&s, b.data, total);
	while (sfp_stream_next(&s, &msg, &len) == 1)
		n++;
	assert_int_equal(n, 4);
	assert_int_equal(sfp_stream_next(&s, &msg, &len), 0);
	sfp_stream_free(&s);

	/* oversized and undersized lengths */
	sfp_stream_init(&s, 1024);
	b.data[4] = 0x01; /* 16 MiB + 12 */
	sfp_stream_feed(&s, b.data, 12);
	len = sfp_stream_next(&s, &msg, &len);
	assert_int_equal(SFP_ERR_CODE((int)len), SFP_EC_TOO_BIG);
	sfp_stream_free(&s);
	sfp_stream_init(&s, 0);
	b.data[4] = 0;
	b.data[7] = 4;
	sfp_stream_feed(&s, b.data, 12);
	len = sfp_stream_next(&s, &msg, &len);
	assert_int_equal(SFP_ERR_CODE((int)len), SFP_EC_BAD_LEN);
	sfp_stream_free(&s);
	sfp_buf_free(&b);
}

/* A partial write consumes the front of an sfp_buf; a length that cannot
 * fit in memory is refused by sfp_stream_feed and leaves the stream whole.
 */
static void test_buf_consume_and_huge_feed(void **state)
{
	struct sfp_buf b = {};
	struct sfp_stream s;
	const uint8_t *msg;
	struct sfp_msg m;
	size_t len, one;

	(void)state;
	sfp_encode_simple(&b, SFP_ECHO_REQUEST, 1);
	one = b.len;
	sfp_encode_echo(&b, SFP_ECHO_REPLY, 2, "abcdef", 6);
	sfp_buf_consume(&b, one);
	assert_int_equal(b.len, one + 6);
	assert_int_equal(sfp_decode(b.data, b.len, &m), 0);
	assert_int_equal(m.h.xid, 2);
	sfp_stream_init(&s, 0);
	assert_int_equal(sfp_stream_feed(&s, b.data, 5), 0);
	assert_int_equal(sfp_stream_feed(&s, b.data, SIZE_MAX), -EOVERFLOW);
	assert_int_equal(sfp_stream_feed(&s, b.data + 5, b.len - 5), 0);
	assert_int_equal(sfp_stream_next(&s, &msg, &len), 1);
	assert_int_equal(len, b.len);
	assert_int_equal(sfp_decode(msg, len, &m), 0);
	assert_int_equal(m.h.xid, 2);
	sfp_stream_free(&s);
	sfp_buf_consume(&b, b.len + 1);
	assert_int_equal(b.len, 0);
	assert_false(b.failed);
	sfp_buf_free(&b);
}

static void test_match_relations(void **state)
{
	struct sfp_match a = {}, b = {};

	(void)state;
	a.op = b.op = SF_OP_FILE_OPEN;
	a.fields = SFP_F(SFP_F_PATH);
	strcpy(a.path, "/tmp/x/secret");
	b.fields = SFP_F(SFP_F_PATH_PREFIX);
	strcpy(b.path, "/tmp/x");
	assert_true(sfp_match_overlap(&a, &b));
	assert_true(sfp_match_covers(&b, &a));
	assert_false(sfp_match_covers(&a, &b));
	strcpy(b.path, "/tmp/xy");
	assert_false(sfp_match_overlap(&a, &b));
	a.fields = b.fields = SFP_F(SFP_F_PORT);
	a.port_lo = 10, a.port_hi = 20;
	b.port_lo = 20, b.port_hi = 30;
	assert_true(sfp_match_overlap(&a, &b));
	b.port_lo = 21;
	assert_false(sfp_match_overlap(&a, &b));
	b.op = SF_OP_ANY;
	b.fields = 0;
	assert_true(sfp_match_covers(&b, &a));
}

static void test_rule_json(void **state)
{
	const char *text =
		"{\"op\":\"connect\",\"exe\":\"/usr/bin/socat\",\"port\":"
		"\"7000-7010\",\"addr\":\"127.0.0.0/8\",\"proto\":\"tcp\","
		"\"priority\":200,\"cookie\":12,\"hard_timeout\":30,"
		"\"flags\":[\"send_flow_rem\"],\"actions\":[\"deny\","
		"{\"kill\":15},\"report\"]}";
	struct sfp_flow_mod fm, fm2;
	json_t *o = json_loads(text, 0, NULL), *o2;
	char err[128];

	(void)state;
	assert_non_null(o);
	assert_int_equal(sfp_rule_from_json(o, &fm, err, sizeof(err)), 0);
	assert_int_equal(fm.match.op, SF_OP_SOCKET_CONNECT);
	assert_int_equal(fm.match.port_lo, 7000);
	assert_int_equal(fm.match.port_hi, 7010);
	assert_int_equal(fm.match.prefix_len, 8);
	assert_int_equal(fm.priority, 200);
	assert_int_equal(fm.n_actions, 3);
	assert_int_equal(fm.actions[1].arg, 15);
	assert_int_equal(fm.flags, SFP_FF_SEND_FLOW_REM);
	o2 = sfp_flow_mod_to_json(&fm);
	assert_int_equal(sfp_rule_from_json(o2, &fm2, err, sizeof(err)), 0);
	assert_true(sfp_match_equal(&fm.match, &fm2.match));
	assert_int_equal(fm2.n_actions, 3);
	json_decref(o2);
	json_decref(o);
	o = json_loads(
		"{\"op\":\"connect\",\"colour\":1,\"actions\":[\"deny\"]}", 0,
		NULL);
	assert_int_equal(sfp_rule_from_json(o, &fm, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "colour"));
	json_decref(o);
	o = json_loads("{\"op\":\"connect\",\"actions\":[\"fly\"]}", 0, NULL);
	assert_int_equal(sfp_rule_from_json(o, &fm, err, sizeof(err)), -EINVAL);
	json_decref(o);
	/* the agent refuses a KILL without a signal 1-64: so does the parser */
	o = json_loads("{\"op\":\"connect\",\"actions\":[{\"kill\":0}]}", 0,
		       NULL);
	assert_int_equal(sfp_rule_from_json(o, &fm, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "kill needs a signal number 1-64"));
	json_decref(o);
}

/* Names from the agent need not be UTF-8 (file names, packet bytes): the
 * JSON keeps them, bad bytes as \xHH, instead of dropping the key.
 */
static void test_event_json_bytes(void **state)
{
	struct sfp_event e = { .op = SF_OP_FILE_OPEN };
	json_t *o;

	(void)state;
	strcpy(e.exe, "/bin/\xff\xc3\xa9t");
	strcpy(e.object, "/srv/\xed\xa0\x80");
	o = sfp_event_to_json(SFP_EVENT_IN, &e);
	assert_string_equal(json_string_value(json_object_get(o, "exe")),
			    "/bin/\\xff\xc3\xa9t");
	assert_string_equal(json_string_value(json_object_get(o, "object")),
			    "/srv/\\xed\\xa0\\x80");
	json_decref(o);
}

static void test_names(void **state)
{
	char buf[64];

	(void)state;
	assert_int_equal(sf_op_parse("connect"), 19);
	assert_int_equal(sf_op_parse("file_open"), 11);
	assert_int_equal(sf_op_parse("45"), SF_OP_SOCKET_BIND);
	assert_int_equal(sf_op_parse("nope"), -1);
	assert_string_equal(sf_op_name(9), "file_execute");
	assert_int_equal(sf_action_parse("report"), 10);
	assert_int_equal(sf_action_parse("kill"), 13);
	assert_int_equal(sf_op_class(SF_OP_SOCKET_BIND), SF_CLASS_SOCKET);
	assert_int_equal(sf_op_class(SF_OP_UNLINK), SF_CLASS_INODE);
	assert_int_equal(sf_op_class(SF_OP_MSG_QUEUE_SND), SF_CLASS_IPC);
	assert_string_equal(sfp_err_name(3, 2, buf, sizeof(buf)),
			    "bad_action/unsupported");
	assert_string_equal(sfp_type_name(SFP_EVENT_IN), "EVENT_IN");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_bytes),
		cmocka_unit_test(test_hello_and_simple),
		cmocka_unit_test(test_features),
		cmocka_unit_test(test_flow_mod),
		cmocka_unit_test(test_stats_reply),
		cmocka_unit_test(test_events_and_errors),
		cmocka_unit_test(test_held_and_verdict),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_stream),
		cmocka_unit_test(test_buf_consume_and_huge_feed),
		cmocka_unit_test(test_match_relations),
		cmocka_unit_test(test_rule_json),
		cmocka_unit_test(test_event_json_bytes),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
