// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* controller.c: the SysFlow controller: one epoll loop serves every agent
 * (TCP or mutual TLS), the local control socket and the applications.
 * Sessions are keyed by the host id from FEATURES_REPLY: a host that
 * reconnects replaces its old session (the seed kept the stale one).
 * ECHO keeps quiet sessions alive and a dead-peer timeout ends them.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include "core/core.h"
#include "ctrl_int.h"

#define TICK_MS 100

static volatile sig_atomic_t reload_requested;

static void on_sighup(int sig)
{
	(void)sig;
	reload_requested = 1;
}

void ctrl_epoll(struct sf_ctrl *c, int fd, uint32_t events, void *ptr, int op)
{
	struct epoll_event ev = { .events = events, .data.ptr = ptr };

	epoll_ctl(c->epfd, op, fd, &ev);
}

/* ---- the API handed to applications ---- */

int64_t ctrl_send(struct sf_host *h, struct sfp_msg *m)
{
	int64_t xid;

	if (h->state == HS_CLOSED)
		return -ENOTCONN;
	if (m->h.type == SFP_VERDICT && !h->holds)
		return -EOPNOTSUPP; /* its HELLO did not offer VERDICT */
	xid = sf_conn_send(&h->conn, m);
	if (xid >= 0 && m->h.type == SFP_VERDICT) {
		h->answered++;
		h->c->answered++;
	}
	if (xid >= 0)
		apps_message_out(h->c, h, m);
	return xid;
}

static int64_t api_verdict(struct sf_host *h, uint32_t hold_id, bool deny)
{
	struct sfp_msg m = { .h = { .type = SFP_VERDICT } };

	if (!hold_id)
		return -EINVAL;
	m.verdict.hold_id = hold_id;
	m.verdict.verdict = deny ? SF_ACT_DENY : SF_ACT_ALLOW;
	return ctrl_send(h, &m);
}

static bool api_host_holds(const struct sf_host *h)
{
	return h->holds;
}

static int64_t api_send_flow_mod(struct sf_host *h,
				 const struct sfp_flow_mod *fm)
{
	struct sfp_msg m = { .h = { .type = SFP_FLOW_MOD } };

	m.flow_mod = *fm;
	return ctrl_send(h, &m);
}

static bool host_is(const struct sf_host *h, const char *name)
{
	return !strcmp(name, h->features.hostname) ||
	       !strcasecmp(name, h->id_hex) || !strcmp(name, h->conn.peer);
}

struct sf_host *ctrl_find_host(struct sf_ctrl *c, const char *name)
{
	int n;

	return ctrl_find_hosts(c, name, &n);
}

struct sf_host *ctrl_find_hosts(struct sf_ctrl *c, const char *name, int *n)
{
	struct sf_host *first = NULL;

	*n = 0;
	for (struct sf_host *h = c->hosts; h; h = h->next) {
		if (h->state != HS_UP || !host_is(h, name))
			continue;
		first = first ?: h;
		(*n)++;
	}
	return first;
}

bool ctrl_host_selected(const struct sf_host *h, json_t *sel)
{
	const char *s = json_string_value(sel);
	size_t i;
	json_t *v;

	if (!sel)
		return true;
	if (s)
		return !strcmp(s, "*") || !strcmp(s, "all") || host_is(h, s);
	json_array_foreach(sel, i, v) if (ctrl_host_selected(h, v)) return true;
	return false;
}

static int api_foreach_host(struct sf_ctrl *c,
			    int (*cb)(void *ctx, struct sf_host *h), void *ctx)
{
	for (struct sf_host *h = c->hosts; h; h = h->next) {
		int rc;

		if (h->state != HS_UP)
			continue;
		rc = cb(ctx, h);
		if (rc)
			return rc;
	}
	return 0;
}

static const char *api_host_name(const struct sf_host *h)
{
	return h->features.hostname;
}

static const char *api_host_id(const struct sf_host *h)
{
	return h->id_hex;
}

static const struct sfp_features *api_host_features(const struct sf_host *h)
{
	return &h->features;
}

static void api_log(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sf_vlog(level, fmt, ap);
	va_end(ap);
}

const struct sf_ctrl_api sf_ctrl_api = {
	.version = SF_APP_API_VERSION,
	.send_flow_mod = api_send_flow_mod,
	.send = ctrl_send,
	.find_host = ctrl_find_host,
	.foreach_host = api_foreach_host,
	.host_name = api_host_name,
	.host_id = api_host_id,
	.host_features = api_host_features,
	.log = api_log,
	.verdict = api_verdict,
	.host_holds = api_host_holds,
};

/* ---- sessions ---- */

static void host_close(struct sf_host *h, const char *why)
{
	struct sf_ctrl *c = h->c;

	if (h->state == HS_CLOSED)
		return;
	if (h->state == HS_UP) {
		pr_info("host %s (%s) disconnected: %s\n", h->features.hostname,
			h->conn.peer, why);
		apps_disconnect(c, h);
		ctl_host_gone(c, h);
	} else {
		pr_debug("connection from %s closed: %s\n", h->conn.peer, why);
	}
	epoll_ctl(c->epfd, EPOLL_CTL_DEL, h->conn.fd, NULL);
	sf_conn_flush(&h->conn);
	sf_conn_close(&h->conn);
	h->state = HS_CLOSED;
}

static int on_hello(struct sf_host *h, const struct sfp_msg *m,
		    const uint8_t *raw, size_t len)
{
	if (sf_session_hello(&h->sess, m, raw, len)) {
		pr_warn("%s speaks no version we do (0x%x)\n", h->conn.peer,
			m->hello_versions);
		return -EPROTO;
	}
	h->holds = h->sess.peer_features & SFP_HELLO_VERDICT;
	if (h->state == HS_HELLO) {
		h->state = HS_FEATURES;
		sf_conn_send_simple(&h->conn, SFP_FEATURES_REQUEST, 0);
	}
	return 0;
}

static int on_features(struct sf_host *h, const struct sfp_msg *m,
		       const uint8_t *raw, size_t len)
{
	struct sf_ctrl *c = h->c;

	(void)raw;
	(void)len;
	if (h->state != HS_FEATURES)
		return 0; /* an unsolicited refresh: keep the first */
	h->features = m->features;
	for (int i = 0; i < 16; i++)
		sprintf(h->id_hex + 2 * i, "%02x", m->features.host_id[i]);
	for (struct sf_host *o = c->hosts; o; o = o->next) {
		if (o == h || o->state != HS_UP || strcmp(o->id_hex, h->id_hex))
			continue;
		pr_info("host %s reconnected from %s: replacing its old "
			"session from %s\n",
			h->features.hostname, h->conn.peer, o->conn.peer);
		c->replaced++;
		host_close(o, "replaced by a new session");
	}
	h->state = HS_UP;
	h->since_ms = sf_now_ms();
	c->sessions++;
	pr_info("host %s (id %s, %s, kernel %s, %u rules) connected from "
		"%s%s%s\n",
		h->features.hostname, h->id_hex, h->conn.ssl ? "TLS" : "TCP",
		h->features.kernel, h->features.n_rules, h->conn.peer,
		h->conn.ssl ? " as " : "", h->conn.ssl ? h->conn.peer_cn : "");
	apps_connect(c, h);
	return 0;
}

static int on_echo(struct sf_host *h, const struct sfp_msg *m,
		   const uint8_t *raw, size_t len)
{
	(void)raw;
	(void)len;
	sf_session_echo(&h->sess, m);
	return 0;
}

static int on_error(struct sf_host *h, const struct sfp_msg *m,
		    const uint8_t *raw, size_t len)
{
	char who[96];

	(void)raw;
	(void)len;
	if (m->error.type == SFP_ET_VERDICT_FAILED &&
	    m->error.code == SFP_EC_UNKNOWN_HOLD) {
		/* the agent's timeout answered first: counted, not logged */
		h->late++;
		h->c->late++;
		return 0;
	}
	snprintf(who, sizeof(who), "host %s",
		 h->features.hostname[0] ? h->features.hostname : h->conn.peer);
	sf_session_log_error(m, who);
	return 0;
}

static int on_event(struct sf_host *h, const struct sfp_msg *m,
		    const uint8_t *raw, size_t len)
{
	(void)raw;
	(void)len;
	h->events_in++;
	h->c->events_in++;
	if (m->h.type == SFP_EVENT_IN && m->event.reason == SFP_EV_HELD) {
		h->asked++;
		h->c->asked++;
	}
	return 0;
}

static int on_other(struct sf_host *h, const struct sfp_msg *m,
		    const uint8_t *raw, size_t len)
{
	(void)h;
	(void)m;
	(void)raw;
	(void)len;
	return 0; /* replies and notifications: for ctl and the apps */
}

#define H_UP 1

static const struct ctrl_handler {
	uint8_t type;
	int (*fn)(struct sf_host *h, const struct sfp_msg *m,
		  const uint8_t *raw, size_t len);
	uint8_t flags;
} handlers[] = {
	{ SFP_HELLO, on_hello, 0 },
	{ SFP_FEATURES_REPLY, on_features, 0 },
	{ SFP_ECHO_REQUEST, on_echo, 0 },
	{ SFP_ECHO_REPLY, on_echo, 0 },
	{ SFP_ERROR, on_error, 0 },
	{ SFP_ACTION_REPORT, on_event, H_UP },
	{ SFP_EVENT_IN, on_event, H_UP },
	{ SFP_FLOW_REMOVED, on_other, H_UP },
	{ SFP_FLOW_STATS_REPLY, on_other, H_UP },
	{ SFP_BARRIER_REPLY, on_other, H_UP },
};

/* A FEATURES_REPLY the controller cannot take (a miss policy out of
 * range: CONFIG_FAILED/BAD_CONFIG, its ERROR already sent) ends the
 * session, in whatever state: a host is up with features the controller
 * can use, or not at all. Left waiting, the agent would think itself
 * connected to a controller that never programs it. It reconnects with
 * its backoff growing (agent.c) and is refused again until it sends
 * what the controller can take.
 */
static int features_refused(struct sf_host *h, const char *err_name)
{
	char who[160];

	if (h->state == HS_UP)
		snprintf(who, sizeof(who), "host %s at %s",
			 h->features.hostname, h->conn.peer);
	else
		snprintf(who, sizeof(who), "the agent at %s", h->conn.peer);
	h->c->refused++;
	pr_warn("refusing %s: its FEATURES_REPLY cannot be taken (%s: a miss "
		"policy out of range); closing the session\n",
		who, err_name);
	return -ECONNREFUSED;
}

/* Check, decode and dispatch one message; negative closes the session. */
static int dispatch(struct sf_host *h, const uint8_t *raw, size_t len)
{
	const struct ctrl_handler *hd = NULL;
	struct sfp_header hdr;
	struct sfp_msg m;
	int err = 0;

	sfp_header_read(raw, &hdr);
	h->msgs_in++;
	h->c->msgs_in++;
	err = sf_session_check_header(&h->sess, &hdr, len);
	/* state before contents, as in the agent */
	for (size_t i = 0; !err && i < ARRAY_SIZE(handlers); i++)
		if (handlers[i].type == hdr.type)
			hd = &handlers[i];
	if (!err && !hd)
		err = SFP_ERR(SFP_ET_BAD_REQUEST, SFP_EC_BAD_TYPE);
	if (!err && (hd->flags & H_UP) && h->state != HS_UP)
		err = SFP_ERR(SFP_ET_BAD_REQUEST, SFP_EC_BAD_STATE);
	if (!err && h->state < HS_FEATURES && hdr.type != SFP_HELLO &&
	    hdr.type != SFP_ERROR)
		err = SFP_ERR(SFP_ET_BAD_REQUEST, SFP_EC_BAD_STATE);
	if (!err)
		err = sf_session_decode(raw, len, &hdr, &m);
	if (err) {
		char name[48];
		bool fatal = sf_session_reject(&h->sess, hdr.xid, err, raw, len,
					       name, sizeof(name));

		if (hdr.type == SFP_FEATURES_REPLY)
			return features_refused(h, name);
		pr_warn("%s sent a bad message (%s)%s\n", h->conn.peer, name,
			fatal ? ": closing the session" : "");
		return fatal ? -EPROTO : 0;
	}
	err = hd->fn(h, &m, raw, len);
	if (!err && h->state == HS_UP && hdr.type != SFP_FEATURES_REPLY) {
		ctl_host_message(h->c, h, &m);
		apps_message(h->c, h, &m);
	}
	sfp_msg_free(&m);
	return err;
}

/* Dispatch every whole message read; a bad one or bad framing closes. */
static void host_input(struct sf_host *h)
{
	const uint8_t *msg;
	size_t len;
	int rc, err;

	while ((rc = sfp_stream_next(&h->conn.in, &msg, &len)) == 1) {
		err = dispatch(h, msg, len);
		if (err < 0) {
			host_close(h, err == -ECONNREFUSED ?
					      "FEATURES_REPLY refused" :
					      "protocol error");
			return;
		}
		if (h->state == HS_CLOSED)
			return;
	}
	if (rc < 0) {
		sf_conn_send_error(&h->conn, 0, rc, h->conn.in.buf,
				   h->conn.in.len);
		host_close(h, "bad framing");
	}
}

static void host_io(struct sf_host *h, uint32_t events)
{
	ssize_t n;
	int rc;

	if (h->state == HS_TLS) {
		rc = sf_conn_handshake(&h->conn);
		if (rc == -EAGAIN)
			return;
		if (rc) {
			host_close(h, "TLS handshake failed");
			return;
		}
		h->state = HS_HELLO;
		sf_conn_send_simple(&h->conn, SFP_HELLO, 0);
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		n = sf_conn_read(&h->conn);
		if (n == 0 || (n < 0 && n != -EAGAIN)) {
			host_close(h, n == 0 ? "closed by the agent" :
					       strerror((int)-n));
			return;
		}
		host_input(h);
		if (h->state == HS_CLOSED)
			return;
	}
	if (events & EPOLLOUT) {
		rc = sf_conn_flush(&h->conn);
		if (rc && rc != -EAGAIN)
			host_close(h, strerror(-rc));
	}
}

/* A session on an accepted socket, HELLO sent unless TLS comes first. */
static struct sf_host *host_add(struct sf_ctrl *c, int fd)
{
	struct sf_host *h = calloc(1, sizeof(*h));

	if (!h || sf_conn_init(&h->conn, fd, c->tls, true, NULL)) {
		free(h);
		close(fd);
		return NULL;
	}
	h->kind = EP_HOST;
	h->c = c;
	sf_session_init(&h->sess, &h->conn, c->o->echo_interval_ms,
			c->o->dead_interval_ms);
	h->state = h->conn.handshaking ? HS_TLS : HS_HELLO;
	h->next = c->hosts;
	c->hosts = h;
	ctrl_epoll(c, fd, EPOLLIN, h, EPOLL_CTL_ADD);
	pr_debug("connection from %s\n", h->conn.peer);
	if (h->state == HS_HELLO)
		sf_conn_send_simple(&h->conn, SFP_HELLO, 0);
	return h;
}

static void accept_hosts(struct sf_ctrl *c)
{
	for (;;) {
		int fd = accept4(c->listen_fd, NULL, NULL,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			return;
		host_add(c, fd);
	}
}

/* Free closed sessions; keep EPOLLOUT in step with what is pending. */
static void hosts_sweep(struct sf_ctrl *c)
{
	struct sf_host **pp = &c->hosts;

	while (*pp) {
		struct sf_host *h = *pp;

		if (h->state == HS_CLOSED) {
			*pp = h->next;
			free(h);
			continue;
		}
		ctrl_epoll(c, h->conn.fd,
			   EPOLLIN | (sf_conn_pending(&h->conn) ? EPOLLOUT : 0),
			   h, EPOLL_CTL_MOD);
		pp = &h->next;
	}
}

static void tick(struct sf_ctrl *c)
{
	uint64_t now = sf_now_ms();

	for (struct sf_host *h = c->hosts; h; h = h->next) {
		if (h->state == HS_CLOSED)
			continue;
		if (sf_session_tick(&h->sess, now, h->state == HS_UP) ==
		    -ETIMEDOUT)
			host_close(h, "silent past the dead interval");
	}
	ctl_tick(c, now);
	if (now - c->last_timer_ms >= 1000) {
		c->last_timer_ms = now;
		apps_timer(c, now);
	}
	hosts_sweep(c);
}

static void ctrl_loop(struct sf_ctrl *c)
{
	struct epoll_event evs[64];

	while (!sf_exiting) {
		int n = epoll_wait(c->epfd, evs, ARRAY_SIZE(evs), TICK_MS);

		for (int i = 0; i < n; i++) {
			int *kind = evs[i].data.ptr;

			switch (*kind) {
			case EP_LISTEN:
				accept_hosts(c);
				break;
			case EP_CTL_LISTEN:
				ctl_accept(c);
				break;
			case EP_HOST:
				host_io(evs[i].data.ptr, evs[i].events);
				break;
			case EP_CTL_CLIENT:
				ctl_client_io(c, evs[i].data.ptr,
					      evs[i].events);
				break;
			}
		}
		if (reload_requested) {
			reload_requested = 0;
			pr_info("SIGHUP: reloading applications\n");
			apps_reload(c);
		}
		tick(c);
	}
}

void sf_ctrl_opts_init(struct sf_ctrl_opts *opts)
{
	*opts = (struct sf_ctrl_opts){
		.port = SF_CTRL_PORT,
		.echo_interval_ms = SFP_ECHO_INTERVAL_MS,
		.dead_interval_ms = SFP_DEAD_INTERVAL_MS,
		.dlp_action = "isolate",
	};
}

static struct sf_ctrl *ctrl_new(const struct sf_ctrl_opts *o)
{
	struct sf_ctrl *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->o = o;
	c->listen_fd = c->ctl_fd = c->ctl_lock_fd = -1;
	c->listen_kind = EP_LISTEN;
	c->ctl_kind = EP_CTL_LISTEN;
	c->epfd = epoll_create1(EPOLL_CLOEXEC);
	return c;
}

static void hosts_free(struct sf_ctrl *c)
{
	for (struct sf_host *h = c->hosts, *n; h; h = n) {
		n = h->next;
		host_close(h, "controller stopping");
		free(h);
	}
	c->hosts = NULL;
}

int sf_controller_run(const struct sf_ctrl_opts *o)
{
	struct sf_ctrl *c = ctrl_new(o);
	struct sigaction sa = { .sa_handler = on_sighup };
	int err = 0;

	if (!c)
		return -ENOMEM;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGHUP, &sa, NULL);
	if (o->tls_cert || o->tls_key || o->tls_ca) {
		c->tls = sf_tls_new(&(struct sf_tls_opts){ o->tls_cert,
							   o->tls_key,
							   o->tls_ca },
				    true, &err);
		if (!c->tls)
			goto out;
	}
	err = apps_load(c);
	if (err)
		goto out;
	/* The port, then the control socket's lock: a controller that loses
	 * the port has not touched the control socket; had the lock come
	 * first, its holder could lose the port to a controller it had
	 * turned away, and none would run.
	 */
	c->listen_fd = sf_tcp_listen(o->listen_host, o->port ?: SF_CTRL_PORT);
	if (c->listen_fd < 0) {
		err = c->listen_fd;
		goto out;
	}
	ctrl_epoll(c, c->listen_fd, EPOLLIN, &c->listen_kind, EPOLL_CTL_ADD);
	if (o->ctl_path) {
		err = ctl_open(c, o->ctl_path);
		if (err)
			goto out;
	}
	pr_info("controller listening on %s port %s (%s), %d app(s); Ctrl-C "
		"to end\n",
		o->listen_host ?: "*", o->port ?: SF_CTRL_PORT,
		c->tls ? "mutual TLS" : "TCP", c->n_apps);
	ctrl_loop(c);
	pr_info("stopping: %llu sessions (%llu replaced, %llu refused), %llu "
		"messages, %llu events\n",
		(unsigned long long)c->sessions,
		(unsigned long long)c->replaced, (unsigned long long)c->refused,
		(unsigned long long)c->msgs_in,
		(unsigned long long)c->events_in);
out:
	hosts_free(c);
	if (o->ctl_path)
		ctl_close(c, o->ctl_path);
	apps_unload(c);
	if (c->listen_fd >= 0)
		close(c->listen_fd);
	sf_tls_free(c->tls);
	close(c->epfd);
	free(c);
	return err;
}

/* ---- sessions without the loop (tests/fuzz/fuzz_controller.c) ---- */

struct sf_ctrl *ctrl_offline_new(const struct sf_ctrl_opts *o, int *err)
{
	struct sf_ctrl *c = ctrl_new(o);

	*err = c ? apps_load(c) : -ENOMEM;
	if (*err && c) {
		ctrl_offline_free(c);
		c = NULL;
	}
	return c;
}

struct sf_host *ctrl_offline_host(struct sf_ctrl *c, int fd)
{
	return host_add(c, fd);
}

void ctrl_offline_feed(struct sf_host *h, const uint8_t *data, size_t len)
{
	if (h->state == HS_CLOSED)
		return;
	if (sfp_stream_feed(&h->conn.in, data, len)) {
		host_close(h, "out of memory");
		return;
	}
	host_input(h);
	if (h->state != HS_CLOSED)
		sf_conn_flush(&h->conn);
}

void ctrl_offline_sweep(struct sf_ctrl *c)
{
	hosts_sweep(c);
}

void ctrl_offline_free(struct sf_ctrl *c)
{
	hosts_free(c);
	apps_unload(c);
	close(c->epfd);
	free(c);
}
