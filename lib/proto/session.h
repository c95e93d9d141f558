/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* session.h: the part of a SysFlow session both ends share: the checks a
 * message passes before any handler runs, HELLO and version negotiation,
 * ECHO answered and recorded, ERROR logged, and the inactivity timer (ECHO
 * after echo_ms of silence, the peer dead after dead_ms). The agent
 * (lib/guard/agent.c) and the controller (lib/controller/controller.c)
 * each keep their own states and dispatch table on top of it.
 */
#ifndef __SYSFLOW_SESSION_H
#define __SYSFLOW_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include "conn.h"

struct sf_session {
	struct sf_conn *conn;
	uint32_t echo_ms; /* ECHO_REQUEST after this much silence */
	uint32_t dead_ms; /* the peer is dead after this much */
	uint64_t echo_sent_ms; /* 0: no ECHO_REQUEST unanswered */
	uint32_t peer_features; /* SFP_HELLO_* bits of the peer's HELLO */
};

/* echo_ms, dead_ms 0: the defaults. */
void sf_session_init(struct sf_session *s, struct sf_conn *conn,
		     uint32_t echo_ms, uint32_t dead_ms);
/* A new connection: forget the last one's echo and features. */
void sf_session_reset(struct sf_session *s);

/* Checks on the header alone, before the receiver looks for a handler:
 * a known type, a body at least its minimum, the negotiated version (any
 * version may say HELLO). 0 or the SFP_ERR() to answer with.
 */
int sf_session_check_header(const struct sf_session *s,
			    const struct sfp_header *h, size_t len);
/* Decode a message whose header passed: HELLO by hand (its body may grow
 * in later versions), the rest with sfp_decode(). 0 or an SFP_ERR().
 */
int sf_session_decode(const uint8_t *raw, size_t len,
		      const struct sfp_header *h, struct sfp_msg *m);
/* Answer a bad message with ERROR. Returns true when the session must
 * close (BAD_REQUEST: the stream cannot be trusted); name gets the
 * error's name for the caller's log.
 */
bool sf_session_reject(struct sf_session *s, uint32_t xid, int err,
		       const uint8_t *raw, size_t len, char *name,
		       size_t name_len);
/* HELLO: take the highest version both speak and note the peer's
 * features. -EPROTO after ERROR HELLO_FAILED when there is none.
 */
int sf_session_hello(struct sf_session *s, const struct sfp_msg *m,
		     const uint8_t *raw, size_t len);
/* ECHO_REQUEST is answered, ECHO_REPLY ends the wait; true when m was
 * one of them.
 */
bool sf_session_echo(struct sf_session *s, const struct sfp_msg *m);
/* Log an ERROR the peer sent; who names the peer ("controller"). */
void sf_session_log_error(const struct sfp_msg *m, const char *who);
/* The inactivity timer, about every 100 ms: -ETIMEDOUT when the peer has
 * been silent for dead_ms; once up, an ECHO_REQUEST after echo_ms of
 * silence (one per echo_ms while unanswered). 0 otherwise.
 */
int sf_session_tick(struct sf_session *s, uint64_t now_ms, bool up);

#endif /* __SYSFLOW_SESSION_H */
