// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_proto_session.c: unit tests of the session layer the agent and the
 * controller share (lib/proto/session.c), over a socketpair: header checks
 * before dispatch, HELLO negotiation and feature bits, ECHO answered, the
 * ERROR for a bad message, and the inactivity timer's ECHO and dead peer;
 * and the TCP sockets it runs on (lib/proto/conn.c).
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>
#include "proto/session.h"

struct pair {
	struct sf_conn conn;
	struct sf_session s;
	int peer; /* the other end: what the session sent */
};

static void pair_open(struct pair *p)
{
	int sv[2];

	assert_int_equal(
		socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	assert_int_equal(sf_conn_init(&p->conn, sv[0], NULL, false, "t"), 0);
	sf_session_init(&p->s, &p->conn, 300, 1000);
	p->peer = sv[1];
}

static void pair_close(struct pair *p)
{
	sf_conn_close(&p->conn);
	close(p->peer);
}

/* The one message the session sent, decoded (an ECHO body points into a
 * static buffer, valid until the next call); 0 if none.
 */
static int sent(struct pair *p, struct sfp_msg *m)
{
	static uint8_t buf[1024];
	ssize_t n = read(p->peer, buf, sizeof(buf));

	if (n <= 0)
		return 0;
	assert_int_equal(sfp_decode(buf, n, m), 0);
	return 1;
}

static void test_checks_and_hello(void **state)
{
	struct sfp_header h = { .version = 1, .type = SFP_FLOW_MOD };
	struct sfp_msg m = { .h = { .type = SFP_HELLO, .version = 5 } }, r;
	struct pair p;
	uint8_t raw[20] = { 5, SFP_HELLO, 0, 0, 0, 0,	 0, 20, 0, 0,
			    0, 1,	  0, 0, 0, 0x22, 0, 0,	0, 1 };
	char name[48];

	(void)state;
	pair_open(&p);
	assert_int_equal(sf_session_check_header(&p.s, &h, 12),
			 SFP_ERR(SFP_ET_BAD_REQUEST, SFP_EC_BAD_LEN));
	h.type = 200;
	assert_int_equal(sf_session_check_header(&p.s, &h, 12),
			 SFP_ERR(SFP_ET_BAD_REQUEST, SFP_EC_BAD_TYPE));
	h.type = SFP_BARRIER_REQUEST;
	h.version = 2;
	assert_int_equal(sf_session_check_header(&p.s, &h, 12),
			 SFP_ERR(SFP_ET_BAD_REQUEST, SFP_EC_BAD_VERSION));
	/* any version may say HELLO; its body may be longer */
	sfp_header_read(raw, &h);
	assert_int_equal(sf_session_check_header(&p.s, &h, sizeof(raw)), 0);
	assert_int_equal(sf_session_decode(raw, sizeof(raw), &h, &m), 0);
	assert_int_equal(m.hello_versions, 0x22);
	assert_int_equal(m.hello_features, SFP_HELLO_VERDICT);
	assert_int_equal(sf_session_hello(&p.s, &m, raw, sizeof(raw)), 0);
	assert_int_equal(p.conn.version, 1);
	assert_int_equal(p.s.peer_features, SFP_HELLO_VERDICT);
	/* no common version: HELLO_FAILED */
	m.hello_versions = 1u << 5;
	assert_int_equal(sf_session_hello(&p.s, &m, raw, sizeof(raw)), -EPROTO);
	assert_int_equal(sent(&p, &r), 1);
	assert_int_equal(r.h.type, SFP_ERROR);
	assert_int_equal(r.error.type, SFP_ET_HELLO_FAILED);
	/* a bad FLOW_MOD is answered and leaves the session; a bad length
	 * closes it
	 */
	assert_false(sf_session_reject(
		&p.s, 7, SFP_ERR(SFP_ET_BAD_ACTION, SFP_EC_UNSUPPORTED), raw,
		12, name, sizeof(name)));
	assert_string_equal(name, "bad_action/unsupported");
	assert_int_equal(sent(&p, &r), 1);
	assert_int_equal(r.h.xid, 7);
	assert_true(sf_session_reject(
		&p.s, 8, SFP_ERR(SFP_ET_BAD_REQUEST, SFP_EC_BAD_LEN), raw, 12,
		name, sizeof(name)));
	pair_close(&p);
}

static void test_echo_and_timer(void **state)
{
	struct sfp_msg m = { .h = { .type = SFP_ECHO_REQUEST, .xid = 42 } }, r;
	struct pair p;
	uint64_t t0;

	(void)state;
	pair_open(&p);
	p.conn.version = 1;
	m.echo.data = (const uint8_t *)"abc";
	m.echo.len = 3;
	assert_true(sf_session_echo(&p.s, &m));
	assert_int_equal(sent(&p, &r), 1);
	assert_int_equal(r.h.type, SFP_ECHO_REPLY);
	assert_int_equal(r.h.xid, 42);
	assert_memory_equal(r.echo.data, "abc", 3);
	m.h.type = SFP_BARRIER_REQUEST;
	assert_false(sf_session_echo(&p.s, &m));

	t0 = p.conn.last_rx_ms;
	assert_int_equal(sf_session_tick(&p.s, t0 + 299, true), 0);
	assert_int_equal(sent(&p, &r), 0);
	assert_int_equal(sf_session_tick(&p.s, t0 + 300, false), 0);
	assert_int_equal(sent(&p, &r), 0); /* not up: no ECHO */
	assert_int_equal(sf_session_tick(&p.s, t0 + 300, true), 0);
	assert_int_equal(sent(&p, &r), 1);
	assert_int_equal(r.h.type, SFP_ECHO_REQUEST);
	assert_int_equal(sf_session_tick(&p.s, t0 + 500, true), 0);
	assert_int_equal(sent(&p, &r), 0); /* one per interval */
	m.h.type = SFP_ECHO_REPLY;
	assert_true(sf_session_echo(&p.s, &m));
	assert_true(p.s.echo_sent_ms == 0);
	assert_int_equal(sf_session_tick(&p.s, t0 + 1000, true), -ETIMEDOUT);
	pair_close(&p);
}

/* sf_tcp_listen and sf_tcp_connect on loopback: a port in use is refused
 * with bind's error, a service that does not resolve with -EINVAL, and a
 * connect to the listener completes.
 */
static void test_tcp_sockets(void **state)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	struct pollfd pfd = { .events = POLLOUT };
	int l, err = -1;
	char port[8];

	(void)state;
	l = sf_tcp_listen("127.0.0.1", "0");
	assert_true(l >= 0);
	assert_int_equal(getsockname(l, (struct sockaddr *)&a, &alen), 0);
	snprintf(port, sizeof(port), "%u", ntohs(a.sin_port));
	assert_int_equal(sf_tcp_listen("127.0.0.1", port), -EADDRINUSE);
	assert_int_equal(sf_tcp_connect("127.0.0.1", "no-such-service"),
			 -EINVAL);
	pfd.fd = sf_tcp_connect("127.0.0.1", port);
	assert_true(pfd.fd >= 0);
	assert_int_equal(poll(&pfd, 1, 5000), 1);
	alen = sizeof(err);
	assert_int_equal(getsockopt(pfd.fd, SOL_SOCKET, SO_ERROR, &err, &alen),
			 0);
	assert_int_equal(err, 0);
	close(pfd.fd);
	close(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_checks_and_hello),
		cmocka_unit_test(test_echo_and_timer),
		cmocka_unit_test(test_tcp_sockets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
