// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* fuzz_session.c: libFuzzer target for what a peer's bytes reach on top of
 * the codec, on either end of a SysFlow session: the stream decoder, the
 * header checks and decode of lib/proto/session.c (HELLO, ECHO, ERROR and
 * the ERROR answer to a bad message), and the JSON the controller makes of
 * events, statistics and removed rules for `sysflow ctl` and its logs
 * (lib/proto/proto_json.c). The first byte picks the read size. Every
 * answer the session writes must itself be a valid stream of messages.
 */
#include <sysflow/proto.h>
#include "fuzz.h"
#include "proto/proto_json.h"
#include "proto/session.h"

/* What the controller turns into JSON; each dump must succeed. */
static void to_json(const struct sfp_msg *m)
{
	json_t *o = NULL;
	char *s;

	switch (m->h.type) {
	case SFP_ACTION_REPORT:
	case SFP_EVENT_IN:
		o = sfp_event_to_json(m->h.type, &m->event);
		if (!json_object_get(o, "exe") || !json_object_get(o, "object"))
			fuzz_fail("event JSON without its exe or object");
		break;
	case SFP_FLOW_REMOVED:
		o = sfp_removed_to_json(&m->removed);
		break;
	case SFP_FLOW_MOD:
		o = sfp_flow_mod_to_json(&m->flow_mod);
		break;
	case SFP_FLOW_STATS_REPLY:
		o = json_array();
		for (uint32_t i = 0; i < m->stats_reply.count; i++)
			json_array_append_new(
				o,
				sfp_stats_to_json(&m->stats_reply.entries[i]));
		break;
	}
	if (!o)
		return;
	s = json_dumps(o, JSON_COMPACT);
	if (!s)
		fuzz_fail("type %u: JSON does not dump", m->h.type);
	free(s);
	json_decref(o);
}

/* One message, as the agent's and the controller's dispatch take it. */
static int receive(struct sf_session *s, const uint8_t *raw, size_t len)
{
	struct sfp_header h;
	struct sfp_msg m;
	char name[48];
	int err;

	sfp_header_read(raw, &h);
	err = sf_session_check_header(s, &h, len) ?:
		      sf_session_decode(raw, len, &h, &m);
	if (err)
		return sf_session_reject(s, h.xid, err, raw, len, name,
					 sizeof(name)) ?
			       -EPROTO :
			       0;
	if (m.h.type == SFP_HELLO)
		err = sf_session_hello(s, &m, raw, len);
	else if (m.h.type == SFP_ERROR)
		sf_session_log_error(&m, "peer");
	else if (!sf_session_echo(s, &m))
		to_json(&m);
	sfp_msg_free(&m);
	return err;
}

/* Everything the session sent back decodes. */
static void check_output(const struct sfp_buf *out)
{
	struct sfp_stream st;
	const uint8_t *msg;
	struct sfp_msg m;
	size_t len;
	int rc;

	sfp_stream_init(&st, SFP_MAX_MSG);
	if (out->len && sfp_stream_feed(&st, out->data, out->len))
		fuzz_fail("out of memory");
	while ((rc = sfp_stream_next(&st, &msg, &len)) == 1) {
		if (sfp_decode(msg, len, &m))
			fuzz_fail("an answer of type %u does not decode",
				  msg[1]);
		sfp_msg_free(&m);
	}
	if (rc < 0 || st.len)
		fuzz_fail("the answers are not whole messages");
	sfp_stream_free(&st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sf_conn c = { .fd = -1 }; /* answers stay in c.out */
	struct sf_session s;
	const uint8_t *msg;
	size_t len, off = 1, step;
	int rc = 0;

	if (size < 1)
		return 0;
	fuzz_quiet();
	step = (data[0] & 63) + 1;
	sfp_stream_init(&c.in, SFP_MAX_MSG);
	sf_session_init(&s, &c, 0, 0);
	while (off < size && rc == 0) {
		size_t n = size - off < step ? size - off : step;

		if (sfp_stream_feed(&c.in, data + off, n))
			break;
		off += n;
		while (rc == 0 &&
		       (rc = sfp_stream_next(&c.in, &msg, &len)) == 1)
			rc = receive(&s, msg, len);
	}
	check_output(&c.out);
	sf_conn_close(&c);
	return 0;
}
