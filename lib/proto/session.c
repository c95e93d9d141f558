// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* session.c: what the agent's and the controller's SysFlow sessions have
 * in common (session.h): checks before dispatch, HELLO, ECHO, ERROR and
 * the inactivity timer. docs/protocol.md, "Session", is the contract.
 */
#include <errno.h>
#include <string.h>
#include <sysflow/log.h>
#include "core/core.h"
#include "session.h"

void sf_session_init(struct sf_session *s, struct sf_conn *conn,
		     uint32_t echo_ms, uint32_t dead_ms)
{
	memset(s, 0, sizeof(*s));
	s->conn = conn;
	s->echo_ms = echo_ms ?: SFP_ECHO_INTERVAL_MS;
	s->dead_ms = dead_ms ?: SFP_DEAD_INTERVAL_MS;
}

void sf_session_reset(struct sf_session *s)
{
	s->echo_sent_ms = 0;
	s->peer_features = 0;
}

int sf_session_check_header(const struct sf_session *s,
			    const struct sfp_header *h, size_t len)
{
	if (h->type >= SFP_TYPE_MAX)
		return SFP_ERR(SFP_ET_BAD_REQUEST, SFP_EC_BAD_TYPE);
	if (len - SFP_HEADER_LEN < (size_t)sfp_min_body(h->type))
		return SFP_ERR(SFP_ET_BAD_REQUEST, SFP_EC_BAD_LEN);
	if (h->type == SFP_HELLO && h->version >= 1)
		return 0;
	if (h->version != (s->conn->version ?: SFP_VERSION))
		return SFP_ERR(SFP_ET_BAD_REQUEST, SFP_EC_BAD_VERSION);
	return 0;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

int sf_session_decode(const uint8_t *raw, size_t len,
		      const struct sfp_header *h, struct sfp_msg *m)
{
	if (h->type != SFP_HELLO)
		return sfp_decode(raw, len, m);
	memset(m, 0, sizeof(*m));
	m->h = *h;
	m->hello_versions = be32(raw + SFP_HEADER_LEN);
	if (len >= SFP_HEADER_LEN + 8)
		m->hello_features = be32(raw + SFP_HEADER_LEN + 4);
	return 0;
}

bool sf_session_reject(struct sf_session *s, uint32_t xid, int err,
		       const uint8_t *raw, size_t len, char *name,
		       size_t name_len)
{
	sfp_err_name(SFP_ERR_TYPE(err), SFP_ERR_CODE(err), name, name_len);
	sf_conn_send_error(s->conn, xid, err, raw, len);
	return SFP_ERR_TYPE(err) == SFP_ET_BAD_REQUEST;
}

int sf_session_hello(struct sf_session *s, const struct sfp_msg *m,
		     const uint8_t *raw, size_t len)
{
	uint32_t common = m->hello_versions & SFP_VERSIONS_SUPPORTED;
	int v;

	if (!common) {
		sf_conn_send_error(s->conn, m->h.xid,
				   SFP_ERR(SFP_ET_HELLO_FAILED,
					   SFP_EC_INCOMPATIBLE),
				   raw, len);
		return -EPROTO;
	}
	for (v = 31; !(common & (1u << v)); v--)
		;
	s->conn->version = v;
	s->peer_features = m->hello_features;
	return 0;
}

bool sf_session_echo(struct sf_session *s, const struct sfp_msg *m)
{
	struct sfp_msg r = { .h = { .type = SFP_ECHO_REPLY, .xid = m->h.xid } };

	switch (m->h.type) {
	case SFP_ECHO_REQUEST:
		r.echo = m->echo;
		sf_conn_send(s->conn, &r);
		return true;
	case SFP_ECHO_REPLY:
		s->echo_sent_ms = 0;
		return true;
	}
	return false;
}

void sf_session_log_error(const struct sfp_msg *m, const char *who)
{
	char name[48];

	pr_warn("%s sent ERROR %s for xid %u\n", who,
		sfp_err_name(m->error.type, m->error.code, name, sizeof(name)),
		m->h.xid);
}

int sf_session_tick(struct sf_session *s, uint64_t now_ms, bool up)
{
	uint8_t stamp[8];

	if (now_ms - s->conn->last_rx_ms >= s->dead_ms)
		return -ETIMEDOUT;
	if (!up || now_ms - s->conn->last_rx_ms < s->echo_ms)
		return 0;
	if (s->echo_sent_ms && now_ms - s->echo_sent_ms < s->echo_ms)
		return 0;
	for (int i = 0; i < 8; i++)
		stamp[i] = now_ms >> (56 - 8 * i);
	sf_conn_send_echo(s->conn, stamp);
	s->echo_sent_ms = now_ms;
	return 0;
}
