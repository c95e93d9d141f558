// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* agent.c: the SysFlow agent: one event loop over the controller session,
 * the fanotify queue and the BPF ring buffer. The session is a state
 * machine (connect, TLS, HELLO, up) with ECHO keepalives, a dead-peer
 * timeout and reconnects with capped exponential backoff forever (back to
 * the start after a session that ended, growing while the controller
 * refuses this host's FEATURES_REPLY); messages go through a dispatch
 * table that checks state and length before any handler runs. While the
 * controller is away the fail mode decides what a table miss does;
 * installed rules stay in force either way. Under the "ask" miss policy a
 * file operation is held (hold.c) until the controller's VERDICT, its
 * timeout or the end of the session; then the fallback decides: deny in
 * fail mode secure, allow in open.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <linux/magic.h>
#include "core/core.h"
#include "guard_int.h"
#include "proto/conn.h"
#include "proto/session.h"

#define BACKOFF_MIN_MS 100
#define TICK_MS 100
#define STATS_PER_MSG 32

enum agent_state {
	AG_IDLE = 0, /* disconnected, waiting for the next try */
	AG_CONNECTING, /* TCP connect in progress */
	AG_TLS, /* TLS handshake */
	AG_HELLO, /* HELLO sent, waiting for the controller's */
	AG_UP, /* versions agreed: the session is up */
};

struct agent {
	const struct sf_agent_opts *o; /* &opts */
	struct sf_agent_opts opts; /* the caller's, zeros made defaults */
	struct guard_kern *b;
	bool restored; /* b's pins are an earlier agent's */
	struct guard_table *t;
	struct guard_fan *fan;
	struct guard_caps caps;
	struct sf_tls *tls;
	struct sf_conn conn;
	struct sf_session sess; /* HELLO, ECHO, ERROR, inactivity */
	enum agent_state state;
	int epfd;
	bool out_armed; /* EPOLLOUT is in the session's epoll mask */
	uint64_t next_tick_ms;
	uint32_t backoff_ms;
	uint64_t next_try_ms;
	uint8_t miss[SF_CLASS_COUNT];
	/* events to the controller: token bucket */
	double tokens;
	uint64_t refill_ms;
	uint64_t events_sent, events_dropped;
	uint64_t sessions;
	bool warned; /* "cannot reach" said once per outage */
	bool refused; /* the controller refused our FEATURES_REPLY */
	/* "ask": file operations held for the controller's VERDICT */
	struct guard_holds *holds;
	bool verdicts; /* the controller's HELLO offers VERDICT */
	bool stopping; /* draining at exit: nothing is held any more */
	bool warned_timeout; /* said once per session */
	struct {
		uint64_t held, answered, timed_out, overflowed, released, late;
	} ask;
	uint8_t host_id[16];
	char hostname[64];
	char kernel[64];
	uint32_t cores;
	int64_t mono_to_real_ns;
};

/* ---- the table-miss policy in force ---- */

static bool connected(const struct agent *a)
{
	return a->state == AG_UP;
}

static uint8_t effective_miss(const struct agent *a, int cls)
{
	if (!connected(a) && a->o->fail_mode == SF_FAIL_OPEN)
		return SF_MISS_ALLOW;
	return a->miss[cls];
}

static void apply_miss(struct agent *a)
{
	guard_bpf_set_miss_socket(a->b, effective_miss(a, SF_CLASS_SOCKET));
}

/* What a held operation gets when the controller does not answer. */
static bool ask_fallback_deny(const struct agent *a)
{
	return a->o->fail_mode == SF_FAIL_SECURE;
}

/* Answer every held operation by the fallback (session lost, exit). */
static void release_holds(struct agent *a, const char *why)
{
	uint32_t n = guard_holds_count(a->holds);
	int fd;

	while ((fd = guard_holds_take_any(a->holds)) >= 0) {
		guard_fan_answer(a->fan, fd, ask_fallback_deny(a));
		a->ask.released++;
	}
	if (n)
		pr_warn("%u held file operations %s (%s)\n", n,
			ask_fallback_deny(a) ? "denied" : "allowed", why);
}

static void expire_holds(struct agent *a)
{
	uint64_t now = sf_now_ms();
	int fd;

	while ((fd = guard_holds_take_expired(a->holds, now)) >= 0) {
		guard_fan_answer(a->fan, fd, ask_fallback_deny(a));
		a->ask.timed_out++;
		if (!a->warned_timeout)
			pr_warn("no VERDICT within %u ms for a held file "
				"operation: %s by the fallback (fail mode %s); "
				"later timeouts are only counted\n",
				a->o->ask_timeout_ms,
				ask_fallback_deny(a) ? "denied" : "allowed",
				a->o->fail_mode == SF_FAIL_OPEN ? "open" :
								  "secure");
		a->warned_timeout = true;
	}
}

/* ---- sending ---- */

static void session_down(struct agent *a, const char *why);

static void send_msg(struct agent *a, struct sfp_msg *m)
{
	int64_t rc;

	if (a->state < AG_HELLO && m->h.type != SFP_HELLO)
		return;
	rc = sf_conn_send(&a->conn, m);
	if (rc < 0 && rc != -EAGAIN)
		session_down(a, strerror((int)-rc));
}

static bool take_token(struct agent *a)
{
	uint64_t now = sf_now_ms();
	double rate = a->o->event_rate;

	a->tokens += (now - a->refill_ms) * rate / 1000.0;
	if (a->tokens > rate)
		a->tokens = rate;
	a->refill_ms = now;
	if (!connected(a) || a->tokens < 1) {
		a->events_dropped++;
		return false;
	}
	a->tokens -= 1;
	a->events_sent++;
	return true;
}

static void send_event(struct agent *a, uint8_t type, struct sfp_event *e)
{
	struct sfp_msg m = { .h = { .type = type } };

	if (!take_token(a))
		return;
	m.event = *e;
	send_msg(a, &m);
}

static void on_removed(void *ctx, const struct guard_rule *r, uint8_t reason,
		       uint64_t hits)
{
	struct agent *a = ctx;
	struct sfp_msg m = { .h = { .type = SFP_FLOW_REMOVED } };

	pr_info("rule %u (cookie %llu) removed: %s, %llu hits\n", r->slot,
		(unsigned long long)r->fm.cookie,
		reason == SFP_RR_IDLE_TIMEOUT ? "idle timeout" :
		reason == SFP_RR_HARD_TIMEOUT ? "hard timeout" :
						"deleted",
		(unsigned long long)hits);
	if (!connected(a))
		return;
	m.removed.cookie = r->fm.cookie;
	m.removed.priority = r->fm.priority;
	m.removed.reason = reason;
	m.removed.duration_sec = guard_rule_duration(r, sf_now_ms());
	m.removed.idle_timeout = r->fm.idle_timeout;
	m.removed.hard_timeout = r->fm.hard_timeout;
	m.removed.hits = hits;
	m.removed.match = r->fm.match;
	send_msg(a, &m);
}

/* ---- handlers ---- */

static int on_hello(struct agent *a, const struct sfp_msg *m,
		    const uint8_t *raw, size_t len)
{
	if (sf_session_hello(&a->sess, m, raw, len)) {
		sf_conn_flush(&a->conn);
		pr_err("controller speaks no version we do (bitmap 0x%x)\n",
		       m->hello_versions);
		return -EPROTO;
	}
	a->verdicts = a->sess.peer_features & SFP_HELLO_VERDICT;
	if (a->state != AG_UP) {
		a->state = AG_UP;
		a->sessions++;
		a->warned = false;
		apply_miss(a);
		a->warned_timeout = false;
		pr_info("connected to controller %s%s%s (protocol %d, %u "
			"rules installed%s)\n",
			a->conn.peer, a->conn.ssl ? " over TLS as " : "",
			a->conn.ssl ? a->conn.peer_cn : "", a->conn.version,
			guard_table_count(a->t),
			a->verdicts ? ", answers held operations" : "");
	}
	return 0;
}

static int on_features_request(struct agent *a, const struct sfp_msg *m,
			       const uint8_t *raw, size_t len)
{
	struct sfp_msg r = { .h = { .type = SFP_FEATURES_REPLY,
				    .xid = m->h.xid } };
	struct sfp_features *f = &r.features;

	(void)raw;
	(void)len;
	memcpy(f->host_id, a->host_id, 16);
	snprintf(f->hostname, sizeof(f->hostname), "%s", a->hostname);
	snprintf(f->kernel, sizeof(f->kernel), "%s", a->kernel);
	f->cores = a->cores;
	f->max_rules = GUARD_MAX_SLOTS - 1;
	f->n_rules = guard_table_count(a->t);
	f->fail_mode = a->o->fail_mode;
	memcpy(f->miss, a->miss, sizeof(f->miss));
	for (int op = 0; op < SF_OP_COUNT && f->n_ops < SFP_MAX_OPS; op++) {
		if (!a->caps.mechanism[op])
			continue;
		f->ops[f->n_ops].op = op;
		f->ops[f->n_ops].mechanism = a->caps.mechanism[op];
		f->ops[f->n_ops].actions = a->caps.actions[op];
		f->n_ops++;
	}
	send_msg(a, &r);
	return 0;
}

static int on_flow_mod(struct agent *a, const struct sfp_msg *m,
		       const uint8_t *raw, size_t len)
{
	int err = guard_table_flow_mod(a->t, &m->flow_mod, on_removed, a);
	char name[48];

	if (!err)
		return 0;
	pr_warn("FLOW_MOD xid %u refused: %s\n", m->h.xid,
		sfp_err_name(SFP_ERR_TYPE(err), SFP_ERR_CODE(err), name,
			     sizeof(name)));
	sf_conn_send_error(&a->conn, m->h.xid, err, raw, len);
	return 0;
}

struct stats_ctx {
	struct agent *a;
	uint32_t xid;
	struct sfp_flow_stats e[STATS_PER_MSG];
	uint32_t n;
	uint64_t now_ms;
};

static void stats_flush(struct stats_ctx *s, bool more)
{
	struct sfp_msg m = { .h = { .type = SFP_FLOW_STATS_REPLY,
				    .xid = s->xid } };

	m.stats_reply.flags = more ? SFP_STATS_MORE : 0;
	m.stats_reply.count = s->n;
	m.stats_reply.entries = s->e;
	send_msg(s->a, &m);
	s->n = 0;
}

static int stats_one(void *ctx, struct guard_rule *r)
{
	struct stats_ctx *s = ctx;
	struct sfp_flow_stats *e;

	if (s->n == STATS_PER_MSG)
		stats_flush(s, true);
	e = &s->e[s->n++];
	memset(e, 0, sizeof(*e));
	e->priority = r->fm.priority;
	e->idle_timeout = r->fm.idle_timeout;
	e->hard_timeout = r->fm.hard_timeout;
	e->flags = r->fm.flags;
	e->duration_sec = guard_rule_duration(r, s->now_ms);
	e->cookie = r->fm.cookie;
	e->hits = guard_rule_hits(s->a->t, r);
	e->match = r->fm.match;
	e->n_actions = r->fm.n_actions;
	memcpy(e->actions, r->fm.actions, sizeof(e->actions));
	return 0;
}

static int on_stats_request(struct agent *a, const struct sfp_msg *m,
			    const uint8_t *raw, size_t len)
{
	struct stats_ctx *s = calloc(1, sizeof(*s));

	(void)raw;
	(void)len;
	if (!s)
		return -ENOMEM;
	s->a = a;
	s->xid = m->h.xid;
	s->now_ms = sf_now_ms();
	guard_table_walk(a->t, m->stats_req.cookie, m->stats_req.cookie_mask,
			 stats_one, s);
	stats_flush(s, false);
	free(s);
	return 0;
}

static int on_echo(struct agent *a, const struct sfp_msg *m, const uint8_t *raw,
		   size_t len)
{
	(void)raw;
	(void)len;
	sf_session_echo(&a->sess, m);
	return 0;
}

/* An ERROR about our FEATURES_REPLY (its header is the ERROR's data):
 * the controller will not take this host up. The session ends here, an
 * older controller that leaves it open included, and the backoff keeps
 * growing (session_down()).
 */
static bool refuses_features(const struct sfp_msg *m)
{
	struct sfp_header about;

	if (m->error.data_len < SFP_HEADER_LEN)
		return false;
	sfp_header_read(m->error.data, &about);
	return about.type == SFP_FEATURES_REPLY;
}

static int on_error(struct agent *a, const struct sfp_msg *m,
		    const uint8_t *raw, size_t len)
{
	(void)raw;
	(void)len;
	sf_session_log_error(m, "controller");
	if (!refuses_features(m))
		return 0;
	a->refused = true;
	return -ECONNREFUSED;
}

static int on_barrier(struct agent *a, const struct sfp_msg *m,
		      const uint8_t *raw, size_t len)
{
	(void)raw;
	(void)len;
	/* messages are applied in order as they are read: all before this
	 * one are in force
	 */
	return sf_conn_send_simple(&a->conn, SFP_BARRIER_REPLY, m->h.xid);
}

static int on_set_config(struct agent *a, const struct sfp_msg *m,
			 const uint8_t *raw, size_t len)
{
	(void)raw;
	(void)len;
	memcpy(a->miss, m->config.miss, sizeof(a->miss));
	apply_miss(a);
	pr_info("miss policy: file %s, socket %s\n",
		sf_miss_name(a->miss[SF_CLASS_FILE]),
		sf_miss_name(a->miss[SF_CLASS_SOCKET]));
	return 0;
}

/* The controller's answer to a held operation. A late or unknown id is
 * an ERROR that leaves the session up: the timeout already answered.
 */
static int on_verdict(struct agent *a, const struct sfp_msg *m,
		      const uint8_t *raw, size_t len)
{
	int fd = guard_holds_take(a->holds, m->verdict.hold_id);

	if (fd < 0) {
		a->ask.late++;
		pr_debug("VERDICT for hold %u: not held (answered by the "
			 "timeout?)\n",
			 m->verdict.hold_id);
		sf_conn_send_error(&a->conn, m->h.xid,
				   SFP_ERR(SFP_ET_VERDICT_FAILED,
					   SFP_EC_UNKNOWN_HOLD),
				   raw, len);
		return 0;
	}
	guard_fan_answer(a->fan, fd, m->verdict.verdict == SF_ACT_DENY);
	a->ask.answered++;
	return 0;
}

#define H_UP 1 /* only once HELLO has been exchanged */

static const struct agent_handler {
	uint8_t type;
	int (*fn)(struct agent *a, const struct sfp_msg *m, const uint8_t *raw,
		  size_t len);
	uint8_t flags;
} handlers[] = {
	{ SFP_HELLO, on_hello, 0 },
	{ SFP_FEATURES_REQUEST, on_features_request, H_UP },
	{ SFP_FLOW_MOD, on_flow_mod, H_UP },
	{ SFP_FLOW_STATS_REQUEST, on_stats_request, H_UP },
	{ SFP_ECHO_REQUEST, on_echo, 0 },
	{ SFP_ECHO_REPLY, on_echo, 0 },
	{ SFP_ERROR, on_error, 0 },
	{ SFP_BARRIER_REQUEST, on_barrier, H_UP },
	{ SFP_SET_CONFIG, on_set_config, H_UP },
	{ SFP_VERDICT, on_verdict, H_UP },
};

/* Check, decode and dispatch one message. A negative return closes the
 * session (after the ERROR went out).
 */
static int dispatch(struct agent *a, const uint8_t *raw, size_t len)
{
	const struct agent_handler *h = NULL;
	struct sfp_header hdr;
	struct sfp_msg m;
	int err;

	sfp_header_read(raw, &hdr);
	err = sf_session_check_header(&a->sess, &hdr, len);
	/* state before contents: a FLOW_MOD before HELLO is BAD_STATE
	 * whatever its body says
	 */
	for (size_t i = 0; !err && i < ARRAY_SIZE(handlers); i++)
		if (handlers[i].type == hdr.type)
			h = &handlers[i];
	if (!err && !h) /* a known type the agent does not take */
		err = SFP_ERR(SFP_ET_BAD_REQUEST, SFP_EC_BAD_TYPE);
	if (!err && (h->flags & H_UP) && a->state != AG_UP)
		err = SFP_ERR(SFP_ET_BAD_REQUEST, SFP_EC_BAD_STATE);
	if (!err)
		err = sf_session_decode(raw, len, &hdr, &m);
	if (err) {
		char name[48];

		if (sf_session_reject(&a->sess, hdr.xid, err, raw, len, name,
				      sizeof(name))) {
			pr_warn("controller sent a bad message (%s): closing "
				"the session\n",
				name);
			return -EPROTO;
		}
		return 0;
	}
	err = h->fn(a, &m, raw, len);
	sfp_msg_free(&m);
	return err;
}

/* ---- connection management ---- */

static void epoll_set(struct agent *a, int fd, uint32_t events, bool add)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };

	epoll_ctl(a->epfd, add ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &ev);
}

static void session_down(struct agent *a, const char *why)
{
	bool was_up = a->state == AG_UP;

	if (a->state == AG_IDLE)
		return;
	if (a->conn.fd >= 0) {
		epoll_ctl(a->epfd, EPOLL_CTL_DEL, a->conn.fd, NULL);
		sf_conn_close(&a->conn);
	}
	a->state = AG_IDLE;
	a->verdicts = false;
	release_holds(a, "controller session lost");
	if (was_up && !a->refused) /* a session ended: start over */
		a->backoff_ms = BACKOFF_MIN_MS;
	a->refused = false;
	a->next_try_ms = sf_now_ms() + a->backoff_ms;
	if (was_up) {
		pr_warn("controller session lost (%s); fail mode %s: %s; "
			"reconnecting in %u ms\n",
			why,
			a->o->fail_mode == SF_FAIL_OPEN ? "open" : "secure",
			a->o->fail_mode == SF_FAIL_OPEN ?
				"table misses are allowed" :
				"rules and miss policy stay",
			a->backoff_ms);
		apply_miss(a);
	} else if (!a->warned) {
		pr_warn("cannot reach controller %s port %s: %s; retrying "
			"with backoff up to %u ms\n",
			a->o->host, a->o->port, why, a->o->backoff_max_ms);
		a->warned = true;
	} else {
		pr_debug("cannot reach controller: %s; next try in %u ms\n",
			 why, a->backoff_ms);
	}
	a->backoff_ms *= 2;
	if (a->backoff_ms > a->o->backoff_max_ms)
		a->backoff_ms = a->o->backoff_max_ms;
}

static void try_connect(struct agent *a)
{
	int fd = sf_tcp_connect(a->o->host, a->o->port);

	if (fd < 0) {
		a->state = AG_CONNECTING; /* so session_down() schedules */
		a->conn.fd = -1;
		session_down(a, strerror(-fd));
		return;
	}
	sf_conn_init(&a->conn, fd, a->tls, false, a->o->host);
	sf_session_reset(&a->sess);
	a->state = AG_CONNECTING;
	epoll_set(a, fd, EPOLLOUT | EPOLLIN, true);
}

static void handle_conn(struct agent *a, uint32_t events);

static void start_session(struct agent *a, int fd)
{
	int err = sf_conn_init(&a->conn, fd, a->tls, false, a->o->host);

	if (err) {
		close(fd);
		return;
	}
	a->state = a->conn.handshaking ? AG_TLS : AG_HELLO;
	epoll_set(a, fd, EPOLLIN | EPOLLOUT, true);
	a->out_armed = true;
	if (a->state == AG_HELLO)
		sf_conn_send_simple(&a->conn, SFP_HELLO, 0);
	else
		handle_conn(a, 0); /* send the ClientHello now */
}

/* Why a message ended the session */
static const char *why_ended(const struct agent *a)
{
	return a->refused ?
		       "the controller refused this host's FEATURES_REPLY" :
		       "protocol error";
}

static void handle_conn(struct agent *a, uint32_t events)
{
	const uint8_t *msg;
	size_t len;
	ssize_t n;
	int rc;

	if (a->state == AG_CONNECTING) {
		int fd = a->conn.fd, soerr = 0;
		socklen_t sl = sizeof(soerr);

		getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
		if (soerr) {
			session_down(a, strerror(soerr));
			return;
		}
		/* re-init on the connected socket (peer name, TLS) */
		epoll_ctl(a->epfd, EPOLL_CTL_DEL, fd, NULL);
		a->conn.fd = -1;
		sf_conn_close(&a->conn);
		start_session(a, fd);
		return;
	}
	if (a->state == AG_TLS) {
		rc = sf_conn_handshake(&a->conn);
		if (rc == -EAGAIN)
			return;
		if (rc) {
			session_down(a, "TLS handshake failed");
			return;
		}
		a->state = AG_HELLO;
		sf_conn_send_simple(&a->conn, SFP_HELLO, 0);
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		n = sf_conn_read(&a->conn);
		if (n == 0 || (n < 0 && n != -EAGAIN)) {
			session_down(a, n == 0 ? "closed by the controller" :
						 strerror((int)-n));
			return;
		}
		while ((rc = sfp_stream_next(&a->conn.in, &msg, &len)) == 1) {
			if (dispatch(a, msg, len) < 0) {
				sf_conn_flush(&a->conn);
				session_down(a, why_ended(a));
				return;
			}
			if (a->state == AG_IDLE)
				return;
		}
		if (rc < 0) {
			sf_conn_send_error(&a->conn, 0, rc, a->conn.in.buf,
					   a->conn.in.len);
			sf_conn_flush(&a->conn);
			session_down(a, "bad framing from the controller");
			return;
		}
	}
	if (a->state != AG_IDLE && (events & EPOLLOUT)) {
		rc = sf_conn_flush(&a->conn);
		if (rc && rc != -EAGAIN)
			session_down(a, strerror(-rc));
	}
}

/* One epoll_ctl() only when the need to write changes: file decisions
 * wake this loop for every open and must stay cheap.
 */
static void update_epoll_out(struct agent *a)
{
	bool want;

	if (a->state == AG_IDLE || a->state == AG_CONNECTING || a->conn.fd < 0)
		return;
	want = sf_conn_pending(&a->conn);
	if (want == a->out_armed)
		return;
	a->out_armed = want;
	epoll_set(a, a->conn.fd, EPOLLIN | (want ? EPOLLOUT : 0), false);
}

static void tick(struct agent *a)
{
	uint64_t now = sf_now_ms();

	guard_table_tick(a->t, now, on_removed, a);
	if (a->state == AG_IDLE && now >= a->next_try_ms)
		try_connect(a);
	if (a->state >= AG_TLS &&
	    sf_session_tick(&a->sess, now, a->state == AG_UP) == -ETIMEDOUT) {
		char why[64];

		snprintf(why, sizeof(why), "controller silent for %u ms",
			 a->sess.dead_ms);
		session_down(a, why);
	}
}

/* ---- kernel events and file decisions ---- */

/* The executable of pid, or fallback when /proc cannot name it. */
static void fill_exe(pid_t pid, const char *fallback, char *out, size_t len)
{
	if (sf_procinfo_exe(pid, out, len) || !out[0])
		snprintf(out, len, "%s", fallback);
}

static int on_kernel_event(void *ctx, const struct guard_event *e)
{
	struct agent *a = ctx;
	struct guard_rule *r = e->slot < GUARD_MAX_SLOTS ?
				       guard_table_slot(a->t, e->slot) :
				       NULL;
	struct sfp_event ev = {};
	char addr[INET6_ADDRSTRLEN] = "";
	char comm[17] = {};

	memcpy(comm, e->comm, 16);
	ev.cookie = r ? r->fm.cookie : 0;
	ev.op = e->op;
	ev.verdict = e->verdict;
	ev.pid = e->pid;
	ev.uid = e->uid;
	ev.time_ns = e->ts_ns + a->mono_to_real_ns;
	if (e->family)
		inet_ntop(e->family == 6 ? AF_INET6 : AF_INET, e->addr, addr,
			  sizeof(addr));
	snprintf(ev.object, sizeof(ev.object), "%s%s%s:%u",
		 e->family == 6 ? "[" : "", addr, e->family == 6 ? "]" : "",
		 ntohs(e->port));
	fill_exe(e->pid, comm, ev.exe, sizeof(ev.exe));
	if ((e->flags & GF_ISOLATE) && r) {
		bool q = false;

		for (int i = 0; i < r->fm.n_actions; i++)
			q |= r->fm.actions[i].type == SF_ACT_QUARANTINE;
		guard_table_isolate(a->t, e->pid, r, q);
	}
	if (e->flags & GE_LOG)
		pr_info("rule %u: %s by %s (pid %u) to %s: %s\n", e->slot,
			sf_op_name(e->op), comm, e->pid, ev.object,
			e->verdict == 2 ? "denied" : "allowed");
	if (e->flags & GE_REPORT) {
		ev.action = e->verdict == 2 ? SF_ACT_DENY : SF_ACT_ALLOW;
		ev.reason = SFP_RS_REPORT_TO_CONTROLLER | SFP_RS_MATCH_HIT |
			    SFP_RS_ACTION_SUCCESS;
		if (e->flags & GE_KILLED)
			ev.action = SF_ACT_KILL;
		send_event(a, SFP_ACTION_REPORT, &ev);
	}
	if (e->flags & (GE_MESSAGE | GE_MISS)) {
		ev.reason = (e->flags & GE_MISS) ? SFP_EV_MISS : SFP_EV_ACTION;
		send_event(a, SFP_EVENT_IN, &ev);
	}
	return 0;
}

/* The operations one fanotify event stands for. */
static int file_ops(struct agent *a, const struct guard_file_event *ev,
		    uint8_t ops[3])
{
	uint32_t flags;

	if (ev->op == SF_OP_FILE_EXECUTE) {
		ops[0] = SF_OP_FILE_EXECUTE;
		return 1;
	}
	ops[0] = SF_OP_FILE_OPEN;
	if (guard_bpf_open_flags(a->b, ev->pid, &flags) ||
	    (flags & GUARD_O_EXEC)) {
		ops[1] = SF_OP_FILE_READ;
		return 2;
	}
	switch (flags & 3) {
	case 0:
		ops[1] = SF_OP_FILE_READ;
		return 2;
	case GUARD_O_WRONLY:
		ops[1] = SF_OP_FILE_WRITE;
		return 2;
	default:
		ops[1] = SF_OP_FILE_READ;
		ops[2] = SF_OP_FILE_WRITE;
		return 3;
	}
}

static void fill_file_event(struct agent *a, struct guard_file_event *fe,
			    const struct guard_rule *r, uint32_t reason,
			    bool deny, uint16_t action, struct sfp_event *out)
{
	struct sfp_event ev = {};

	(void)a;
	ev.cookie = r ? r->fm.cookie : 0;
	ev.op = fe->op;
	ev.verdict = deny ? SF_ACT_DENY : SF_ACT_ALLOW;
	ev.action = action;
	ev.reason = reason;
	ev.pid = fe->pid;
	ev.time_ns = sf_clock_ns(CLOCK_REALTIME);
	if (fe->pi_have & SF_PI_STATUS)
		ev.uid = fe->pi->uid;
	if (fe->pi_have & SF_PI_EXE)
		snprintf(ev.exe, sizeof(ev.exe), "%s", fe->pi->exe);
	else
		fill_exe(fe->pid, "?", ev.exe, sizeof(ev.exe));
	snprintf(ev.object, sizeof(ev.object), "%s", guard_file_path(fe));
	*out = ev;
}

static void file_event(struct agent *a, struct guard_file_event *fe,
		       const struct guard_rule *r, uint8_t type,
		       uint32_t reason, bool deny, uint16_t action)
{
	struct sfp_event ev;

	fill_file_event(a, fe, r, reason, deny, action, &ev);
	send_event(a, type, &ev);
}

static void apply_file_rule(struct agent *a, struct guard_file_event *fe,
			    struct guard_rule *r, bool *deny)
{
	bool op_deny = false, kill = false, report = false, msg = false,
	     log = false;
	uint32_t sig = 9;

	for (int i = 0; i < r->fm.n_actions; i++) {
		const struct sfp_action *act = &r->fm.actions[i];

		switch (act->type) {
		case SF_ACT_DENY:
			op_deny = true;
			break;
		case SF_ACT_KILL:
			kill = true;
			sig = act->arg;
			break;
		case SF_ACT_REPORT:
			report = true;
			break;
		case SF_ACT_MESSAGE:
			msg = true;
			break;
		case SF_ACT_LOG:
			log = true;
			break;
		case SF_ACT_ISOLATION:
		case SF_ACT_QUARANTINE:
			guard_table_isolate(a->t, fe->pid, r,
					    act->type == SF_ACT_QUARANTINE);
			if (act->type == SF_ACT_QUARANTINE &&
			    fe->op == SF_OP_FILE_WRITE)
				op_deny = true;
			break;
		}
	}
	if (kill && guard_bpf_kill(a->b, fe->pid, sig))
		pr_warn("cannot queue signal %u for pid %d\n", sig, fe->pid);
	*deny |= op_deny;
	if (log)
		pr_info("rule %u: %s of %s by pid %d: %s\n", r->slot,
			sf_op_name(fe->op), fe->path, fe->pid,
			op_deny ? "denied" : "allowed");
	if (report)
		file_event(a, fe, r, SFP_ACTION_REPORT,
			   SFP_RS_REPORT_TO_CONTROLLER | SFP_RS_MATCH_HIT |
				   SFP_RS_ACTION_SUCCESS,
			   op_deny,
			   kill	   ? SF_ACT_KILL :
			   op_deny ? SF_ACT_DENY :
				     SF_ACT_ALLOW);
	if (msg)
		file_event(a, fe, r, SFP_EVENT_IN, SFP_EV_ACTION, op_deny, 0);
}

/* Hold a file operation that missed under "ask": send EVENT_IN with a
 * hold id and leave the fanotify event unanswered. Without a session, with
 * every slot taken or the event rate exhausted, the fallback decides now.
 */
static void hold_file(struct agent *a, struct guard_file_event *fe, uint8_t op,
		      bool *deny)
{
	uint32_t timeout = a->o->ask_timeout_ms;
	uint64_t deadline = sf_now_ms() + timeout;
	struct sfp_msg m = { .h = { .type = SFP_EVENT_IN } };
	uint32_t id;

	if (!connected(a) || a->stopping) {
		*deny = ask_fallback_deny(a);
		return;
	}
	if (guard_holds_count(a->holds) >= a->o->ask_max) {
		a->ask.overflowed++;
		*deny = ask_fallback_deny(a);
		file_event(a, fe, NULL, SFP_EVENT_IN, SFP_EV_MISS, *deny, 0);
		return;
	}
	if (!take_token(a)) {
		*deny = ask_fallback_deny(a);
		return;
	}
	id = guard_holds_add(a->holds, fe->fd, deadline);
	if (!id) { /* --ask-max above the table: cannot happen */
		*deny = ask_fallback_deny(a);
		return;
	}
	fe->held = true;
	a->ask.held++;
	fe->op = op;
	fill_file_event(a, fe, NULL, SFP_EV_HELD, ask_fallback_deny(a), 0,
			&m.event);
	m.event.hold_id = id;
	send_msg(a, &m);
}

/* No file rule, no quarantine, a plain allow or deny miss policy: every
 * operation of the event misses alike, so neither its path nor its open
 * flags are looked up (the common case on a host without file rules).
 */
static bool decide_file_fast(struct agent *a, struct guard_file_event *fe,
			     bool *deny)
{
	uint8_t miss = effective_miss(a, SF_CLASS_FILE);

	if (miss == SF_MISS_ASK || guard_table_has_file_rules(a->t) ||
	    guard_table_quarantined(a->t, fe->pid))
		return false;
	*deny = miss == SF_MISS_DENY;
	return true;
}

static int decide_file(void *ctx, struct guard_file_event *fe, bool *deny)
{
	struct agent *a = ctx;
	struct sf_procinfo pi;
	struct guard_rule *seen[3];
	uint8_t ops[3];
	int n, n_seen = 0;
	uint64_t now;
	int ask_op = -1;

	if (decide_file_fast(a, fe, deny))
		return 0;
	n = file_ops(a, fe, ops);
	now = sf_now_ms();
	fe->pi = &pi;
	*deny = false;
	guard_file_path(fe); /* the table matches on it */
	for (int i = 0; i < n; i++) {
		struct guard_rule *r;
		bool dup = false;

		fe->op = ops[i];
		r = guard_table_match_file(a->t, fe, now);
		if (!r) {
			uint8_t miss = effective_miss(a, SF_CLASS_FILE);

			if (miss == SF_MISS_DENY)
				*deny = true;
			else if (miss == SF_MISS_ASK && a->verdicts)
				ask_op = ops[i]; /* the last: write > read */
			else if (miss == SF_MISS_ASK && connected(a))
				file_event(a, fe, NULL, SFP_EVENT_IN,
					   SFP_EV_MISS, false, 0);
			else if (miss == SF_MISS_ASK) /* nobody to ask */
				*deny |= ask_fallback_deny(a);
			continue;
		}
		for (int k = 0; k < n_seen; k++)
			dup |= seen[k] == r;
		if (dup) /* one event, one hit per rule */
			continue;
		seen[n_seen++] = r;
		r->user_hits++;
		r->last_hit_ms = now;
		apply_file_rule(a, fe, r, deny);
	}
	if (ops[n - 1] == SF_OP_FILE_WRITE &&
	    guard_table_quarantined(a->t, fe->pid))
		*deny = true;
	/* a rule's deny needs no question */
	if (ask_op >= 0 && !*deny)
		hold_file(a, fe, ask_op, deny);
	return 0;
}

/* ---- set-up ---- */

/* 32 hex digits (then the end of the line) into id: 0, or -EINVAL */
static int parse_host_id(const char *hex, uint8_t id[16])
{
	if (strspn(hex, "0123456789abcdefABCDEF") != 32 ||
	    (hex[32] && hex[32] != '\n'))
		return -EINVAL;
	for (int i = 0; i < 16; i++)
		sscanf(hex + 2 * i, "%2hhx", &id[i]);
	return 0;
}

static void read_host_identity(struct agent *a)
{
	const char *hex = a->o->host_id;
	char buf[64] = "";
	struct utsname u;
	FILE *f;

	if (!hex) {
		f = fopen("/etc/machine-id", "re");
		if (f) {
			if (!fgets(buf, sizeof(buf), f))
				buf[0] = 0;
			fclose(f);
		}
		hex = buf;
	}
	/* the controller keys sessions by host id: hosts sharing one
	 * replace each other's sessions
	 */
	if (parse_host_id(hex, a->host_id))
		pr_warn("%s holds no host id (32 hex digits): this host is "
			"00000000000000000000000000000000 to the controller, "
			"as any other without one; give --host-id\n",
			a->o->host_id ? "--host-id" : "/etc/machine-id");
	gethostname(a->hostname, sizeof(a->hostname) - 1);
	if (!uname(&u))
		snprintf(a->kernel, sizeof(a->kernel), "%s", u.release);
	a->cores = sysconf(_SC_NPROCESSORS_ONLN);
}

#define A(x) (1u << SF_ACT_##x)

static void probe_caps(struct guard_kern *b, bool fanotify,
		       struct guard_caps *caps)
{
	static const uint8_t sock_ops[] = { SF_OP_SOCKET_CONNECT,
					    SF_OP_SOCKET_BIND,
					    SF_OP_SOCKET_WRITE,
					    SF_OP_SOCKET_CREATE };
	static const uint8_t fops[] = { SF_OP_FILE_OPEN, SF_OP_FILE_READ,
					SF_OP_FILE_WRITE, SF_OP_FILE_EXECUTE };
	uint32_t common = A(ALLOW) | A(DENY) | A(LOG) | A(REPORT) | A(MESSAGE) |
			  A(KILL) | A(ISOLATION) | A(QUARANTINE);
	char detail[160];

	if (sf_probe_bpf_lsm(detail, sizeof(detail)) == SF_PROBE_YES)
		pr_info("BPF LSM loads here, but the agent enforces with "
			"cgroup hooks and fanotify (the tested paths)\n");
	else
		pr_info("BPF LSM: %s\n", detail);
	for (size_t i = 0; i < sizeof(sock_ops); i++) {
		caps->mechanism[sock_ops[i]] = SF_MECH_CGROUP;
		caps->actions[sock_ops[i]] = common;
		if (sock_ops[i] != SF_OP_SOCKET_CREATE)
			caps->actions[sock_ops[i]] |= A(ENCODE);
	}
	pr_info("socket connect, bind, UDP sendmsg, socket create: cgroup "
		"hooks (in-kernel deny)\n");
	for (size_t i = 0; fanotify && i < sizeof(fops); i++) {
		caps->mechanism[fops[i]] = SF_MECH_FANOTIFY;
		caps->actions[fops[i]] = common;
	}
	if (fanotify)
		pr_info("file open, read, write, execute: fanotify permission "
			"events\n");
	else
		pr_info("file operations: not enforced (no --watch)\n");
	guard_socks_caps(b, caps);
}

/* The hooks' cgroup (-c) must be a folder of the cgroup2 mount: any
 * other folder (a v1 hierarchy of a hybrid host, a plain directory) opens
 * fine and fails only at attach, with EBADF.
 */
static int check_cgroup2(const char *cg, const char *cgroot)
{
	struct statfs st;
	int err;

	if (statfs(cg, &st)) {
		err = -errno;
		pr_err("cannot open cgroup %s: %s\n", cg, strerror(-err));
		return err;
	}
	if (st.f_type != CGROUP2_SUPER_MAGIC) {
		pr_err("cgroup %s is not on a cgroup2 file system; give -c a "
		       "folder under the cgroup2 mount %s\n",
		       cg, cgroot);
		return -EINVAL;
	}
	return 0;
}

/* After guard_bpf_open() the programs are attached and pinned: a failure
 * from there on is undone by agent_stop() (see agent_unload_on_stop()).
 */
static int agent_setup(struct agent *a, const char *pin_dir)
{
	char cgroot[256], cg[512];
	int err;

	if (sf_find_mount("cgroup2", cgroot, sizeof(cgroot))) {
		pr_err("no cgroup2 mount in /proc/mounts; mount one with "
		       "'mount -t cgroup2 none /sys/fs/cgroup/unified'\n");
		return -ENOENT;
	}
	snprintf(cg, sizeof(cg), "%s", a->o->cgroup ? a->o->cgroup : cgroot);
	err = check_cgroup2(cg, cgroot);
	if (err)
		return err;
	sf_mount_tracefs();
	a->b = guard_bpf_open(pin_dir, cg, &a->restored, &err);
	if (!a->b)
		return err;
	if (a->o->n_watch) {
		a->fan = guard_fan_open(a->o->watch, a->o->n_watch, &err);
		if (!a->fan)
			return err;
	}
	probe_caps(a->b, a->fan != NULL, &a->caps);
	a->t = guard_table_new(a->b, &a->caps, cgroot);
	if (!a->t)
		return -ENOMEM;
	if (a->restored) {
		int n = guard_table_restore(a->t);

		pr_info("restored %d rules pinned in %s; they were enforced "
			"while the agent was away\n",
			n, pin_dir);
	}
	pr_info("socket hooks attached to cgroup %s; pins in %s\n", cg,
		pin_dir);
	return 0;
}

int sf_agent_unload(const char *pin_dir)
{
	int err = guard_bpf_unload_pins(pin_dir ?: SF_GUARD_PIN_DIR);

	if (err == -ENOENT)
		pr_info("nothing pinned in %s\n", pin_dir ?: SF_GUARD_PIN_DIR);
	else if (err == -EBUSY)
		; /* the lock named the running agent */
	else if (err)
		pr_err("cannot remove %s: %s\n", pin_dir ?: SF_GUARD_PIN_DIR,
		       strerror(-err));
	else
		pr_info("removed the guard programs and pins in %s\n",
			pin_dir ?: SF_GUARD_PIN_DIR);
	return err == -ENOENT ? 0 : err;
}

static void agent_loop(struct agent *a)
{
	struct epoll_event evs[8];
	int rb_fd = guard_bpf_events_fd(a->b), fan_fd = guard_fan_fd(a->fan);

	epoll_set(a, rb_fd, EPOLLIN, true);
	if (fan_fd >= 0)
		epoll_set(a, fan_fd, EPOLLIN, true);
	try_connect(a);
	while (!sf_exiting) {
		uint64_t next = guard_holds_next_deadline(a->holds),
			 now = sf_now_ms();
		int wait = next <= now		? 0 :
			   next - now < TICK_MS ? (int)(next - now) :
						  TICK_MS;
		int n = epoll_wait(a->epfd, evs, ARRAY_SIZE(evs), wait);

		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;

			if (fd == fan_fd)
				guard_fan_handle(a->fan, decide_file, a);
			else if (fd == rb_fd)
				guard_bpf_poll_events(a->b, on_kernel_event, a);
			else if (a->state != AG_IDLE && fd == a->conn.fd)
				handle_conn(a, evs[i].events);
		}
		expire_holds(a);
		if (sf_now_ms() >= a->next_tick_ms) {
			tick(a);
			a->next_tick_ms = sf_now_ms() + TICK_MS;
		}
		update_epoll_out(a);
	}
}

/* What the kernel side counted (per-CPU sums): every drop is visible. */
static void log_kernel_stats(struct agent *a)
{
	uint64_t st[GS_MAX] = {};

	if (!a->b)
		return;
	guard_bpf_stats(a->b, st);
	pr_info("kernel: %llu hook runs, %llu matched, %llu denied, %llu "
		"misses, %llu kills, %llu events lost (ring buffer full), %llu "
		"execs labelled, %llu exec paths too long, %llu packets of "
		"isolated sockets dropped\n",
		(unsigned long long)st[GS_EVENTS],
		(unsigned long long)st[GS_MATCHED],
		(unsigned long long)st[GS_DENIED],
		(unsigned long long)st[GS_MISSES],
		(unsigned long long)st[GS_KILLS],
		(unsigned long long)st[GS_RINGBUF_DROPS],
		(unsigned long long)st[GS_EXEC_LABELLED],
		(unsigned long long)st[GS_PATH_TOO_LONG],
		(unsigned long long)st[GS_ISO_DROPS]);
}

/* Session, epoll set, rate limit, miss policies and the held operations */
void sf_agent_opts_init(struct sf_agent_opts *opts)
{
	*opts = (struct sf_agent_opts){
		.pin_dir = SF_GUARD_PIN_DIR,
		.fail_mode = SF_FAIL_SECURE,
		.echo_interval_ms = SFP_ECHO_INTERVAL_MS,
		.dead_interval_ms = SFP_DEAD_INTERVAL_MS,
		.backoff_max_ms = SF_AGENT_BACKOFF_MAX_MS,
		.event_rate = SF_AGENT_EVENT_RATE,
		.ask_timeout_ms = SF_AGENT_ASK_TIMEOUT_MS,
		.ask_max = SF_AGENT_ASK_MAX,
	};
}

/* The caller's options in a->opts, every field left 0 made its default. */
static void agent_opts_set(struct agent *a, const struct sf_agent_opts *o)
{
	struct sf_agent_opts def;
	struct sf_agent_opts *d = &a->opts;

	sf_agent_opts_init(&def);
	*d = *o;
	d->pin_dir = d->pin_dir ?: def.pin_dir;
	d->echo_interval_ms = d->echo_interval_ms ?: def.echo_interval_ms;
	d->dead_interval_ms = d->dead_interval_ms ?: def.dead_interval_ms;
	d->backoff_max_ms = d->backoff_max_ms ?: def.backoff_max_ms;
	d->event_rate = d->event_rate ?: def.event_rate;
	d->ask_timeout_ms = d->ask_timeout_ms ?: def.ask_timeout_ms;
	d->ask_max = d->ask_max ?: def.ask_max;
	a->o = d;
}

static int agent_init(struct agent *a, const struct sf_agent_opts *o)
{
	agent_opts_set(a, o);
	o = a->o;
	a->conn.fd = -1;
	sf_session_init(&a->sess, &a->conn, o->echo_interval_ms,
			o->dead_interval_ms);
	a->epfd = epoll_create1(EPOLL_CLOEXEC);
	a->backoff_ms = BACKOFF_MIN_MS;
	a->refill_ms = sf_now_ms();
	memcpy(a->miss, o->miss, sizeof(a->miss));
	a->holds = guard_holds_new(o->ask_max);
	if (!a->holds)
		return -ENOMEM;
	a->mono_to_real_ns =
		sf_clock_ns(CLOCK_REALTIME) - sf_clock_ns(CLOCK_MONOTONIC);
	read_host_identity(a);
	return 0;
}

/* Mutual TLS when a certificate, key or CA is given */
static int agent_tls(struct agent *a)
{
	const struct sf_agent_opts *o = a->o;
	int err = 0;

	if (!o->tls_cert && !o->tls_key && !o->tls_ca)
		return 0;
	a->tls = sf_tls_new(&(struct sf_tls_opts){ o->tls_cert, o->tls_key,
						   o->tls_ca },
			    false, &err);
	return err;
}

static void log_start(const struct agent *a)
{
	const struct sf_agent_opts *o = a->o;

	pr_info("agent for controller %s port %s%s; fail mode %s; Ctrl-C to "
		"end\n",
		o->host, o->port, a->tls ? " (mutual TLS)" : "",
		o->fail_mode == SF_FAIL_OPEN ? "open" : "secure");
}

/* What the agent did: events, sessions, file decisions, held operations */
static void log_counts(struct agent *a)
{
	pr_info("stopping: %llu events sent, %llu dropped (rate limit or no "
		"session), %llu sessions, %llu file decisions\n",
		(unsigned long long)a->events_sent,
		(unsigned long long)a->events_dropped,
		(unsigned long long)a->sessions,
		(unsigned long long)guard_fan_decisions(a->fan));
	pr_info("ask: %llu file operations held, %llu answered by the "
		"controller, %llu timed out, %llu overflowed, %llu released at "
		"session loss, %llu late verdicts\n",
		(unsigned long long)a->ask.held,
		(unsigned long long)a->ask.answered,
		(unsigned long long)a->ask.timed_out,
		(unsigned long long)a->ask.overflowed,
		(unsigned long long)a->ask.released,
		(unsigned long long)a->ask.late);
	log_kernel_stats(a);
}

/* Unload with --cleanup, and after a failed start that pinned a new
 * folder: nothing enforces for an agent that never ran. An earlier
 * agent's pins stay, its rules in force, as when an agent stops.
 */
static bool agent_unload_on_stop(const struct agent *a, int err)
{
	return a->o->unload_on_exit || (err && !a->restored);
}

/* Answer what is held, close everything and say whether the rules stay */
static void agent_stop(struct agent *a, const char *pin_dir, int err)
{
	const struct sf_agent_opts *o = a->o;
	bool unload = agent_unload_on_stop(a, err);

	/* answer the held and queued file events before anything else goes */
	a->stopping = true;
	release_holds(a, "agent stopping");
	if (a->fan)
		guard_fan_close(
			a->fan,
			o->fail_mode == SF_FAIL_SECURE ? decide_file : NULL, a);
	if (a->conn.fd >= 0)
		sf_conn_close(&a->conn);
	guard_table_free(a->t);
	if (a->b && unload && !o->unload_on_exit)
		pr_info("start failed: programs detached, pins in %s removed\n",
			pin_dir);
	else if (a->b && unload)
		pr_info("unloading: programs detached, pins removed\n");
	else if (a->b)
		pr_info("rules stay in force in the kernel (pins in %s)\n",
			pin_dir);
	guard_bpf_close(a->b, unload);
	sf_tls_free(a->tls);
	if (a->epfd >= 0)
		close(a->epfd);
	guard_holds_free(a->holds);
	free(a);
}

int sf_agent_run(const struct sf_agent_opts *o)
{
	struct agent *a = calloc(1, sizeof(*a));
	int err;

	if (!a)
		return -ENOMEM;
	err = agent_init(a, o);
	if (err)
		goto out;
	err = agent_tls(a);
	if (err)
		goto out;
	err = agent_setup(a, a->o->pin_dir);
	if (err)
		goto out;
	apply_miss(a);
	log_start(a);
	if (o->on_ready)
		o->on_ready(o->ready_ctx);
	agent_loop(a);
	log_counts(a);
out:
	agent_stop(a, a->o->pin_dir, err);
	return err;
}

/* ---- the handlers without the loop (tests/fuzz/fuzz_agent.c) ---- */

void guard_agent_probe_caps(struct guard_kern *b, struct guard_caps *caps)
{
	memset(caps, 0, sizeof(*caps));
	probe_caps(b, true, caps);
}

struct agent *guard_agent_offline_new(const struct sf_agent_opts *o,
				      struct guard_kern *b,
				      const struct guard_caps *caps, int fd,
				      int *err)
{
	struct agent *a = calloc(1, sizeof(*a));
	char cgroot[256] = "";

	*err = a ? agent_init(a, o) : -ENOMEM;
	if (*err)
		goto fail;
	a->b = b;
	a->caps = *caps;
	sf_find_mount("cgroup2", cgroot, sizeof(cgroot));
	a->t = guard_table_new(b, &a->caps, cgroot);
	*err = a->t ? sf_conn_init(&a->conn, fd, NULL, false, "offline") :
		      -ENOMEM;
	if (*err)
		goto fail;
	a->state = AG_HELLO;
	sf_conn_send_simple(&a->conn, SFP_HELLO, 0);
	return a;
fail:
	if (!a || a->conn.fd != fd)
		close(fd);
	if (a)
		guard_agent_offline_free(a);
	return NULL;
}

int guard_agent_offline_receive(struct agent *a, const uint8_t *raw, size_t len)
{
	int rc = dispatch(a, raw, len);

	sf_conn_flush(&a->conn);
	return rc;
}

struct guard_table *guard_agent_offline_table(struct agent *a)
{
	return a->t;
}

void guard_agent_offline_free(struct agent *a)
{
	if (a->conn.fd >= 0)
		sf_conn_close(&a->conn);
	guard_table_free(a->t);
	if (a->epfd >= 0)
		close(a->epfd);
	guard_holds_free(a->holds);
	free(a);
}
