// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* ctlsock.c: the controller's local control socket, used by `sysflow ctl`.
 * A client sends one JSON request per line and reads JSON lines back; the
 * last line of an answer is {"ok":true,...} or {"error":"..."}. Requests:
 *   {"cmd":"hosts"}                       sessions
 *   {"cmd":"rules","host":H}              FLOW_STATS of host H
 *   {"cmd":"add","host":H,"rule":{...}}   FLOW_MOD + BARRIER
 *   {"cmd":"del","host":H,"rule":{...}}   FLOW_MOD DELETE + BARRIER
 *   {"cmd":"miss","host":H,"miss":{"file":"deny",...}}  SET_CONFIG
 *   {"cmd":"events"}                      stream of reports and events
 *   {"cmd":"stats"}                       controller counters (sessions
 *                                         replaced and refused, the held
 *                                         operations asked, answered and
 *                                         answered too late)
 * Each line is checked whole by ctlreq.c before anything is looked up or
 * sent. The socket is created mode 0600: only root talks to the controller.
 * One controller per socket path: it holds PATH.lock (flock) for its life.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "core/core.h"
#include "core/grow.h"
#include "ctrl_int.h"
#include "proto/proto_json.h"

#define CTL_TIMEOUT_MS 5000

enum pending_kind { P_NONE = 0, P_RULES, P_MOD };

struct ctl_client {
	int kind; /* EP_CTL_CLIENT */
	int fd;
	char in[65536];
	size_t in_len;
	struct grow_buf out;
	bool events; /* streaming */
	bool closing; /* close once out is written */
	enum pending_kind pending;
	struct sf_host *host;
	uint32_t xid, barrier_xid;
	bool set_miss; /* P_MOD of a miss policy: take miss once it is done */
	uint8_t miss[SF_CLASS_COUNT];
	uint64_t deadline_ms;
	uint32_t count;
	struct ctl_client *next;
};

static void out_json(struct ctl_client *cl, json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	size_t n;

	json_decref(o);
	if (!s)
		return;
	n = strlen(s);
	/* the whole line or nothing */
	if (!grow_buf_reserve(&cl->out, n + 1)) {
		grow_buf_put(&cl->out, s, n);
		grow_buf_put(&cl->out, "\n", 1);
	}
	free(s);
}

static void reply_error(struct ctl_client *cl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void reply_error(struct ctl_client *cl, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	out_json(cl, ctl_error_json(buf));
	cl->pending = P_NONE;
	cl->closing = true;
}

static void reply_ok(struct ctl_client *cl, json_t *extra)
{
	json_t *o = json_pack("{s:b}", "ok", 1);

	if (extra)
		json_object_update(o, extra);
	json_decref(extra);
	out_json(cl, o);
	cl->pending = P_NONE;
	cl->closing = true;
}

json_t *ctl_host_json(const struct sf_host *h)
{
	const struct sfp_features *f = &h->features;
	json_t *o = json_object(), *ops = json_array();

	json_object_set_new(o, "host", json_string(f->hostname));
	json_object_set_new(o, "host_id", json_string(h->id_hex));
	json_object_set_new(o, "peer", json_string(h->conn.peer));
	json_object_set_new(o, "transport",
			    json_string(h->conn.ssl ? "tls" : "tcp"));
	if (h->conn.peer_cn[0])
		json_object_set_new(o, "cert_cn", json_string(h->conn.peer_cn));
	json_object_set_new(o, "kernel", json_string(f->kernel));
	json_object_set_new(o, "cores", json_integer(f->cores));
	json_object_set_new(o, "rules_at_connect", json_integer(f->n_rules));
	json_object_set_new(o, "fail_mode",
			    json_string(f->fail_mode ? "open" : "secure"));
	json_object_set_new(o, "up_sec",
			    json_integer((sf_now_ms() - h->since_ms) / 1000));
	json_object_set_new(o, "messages_in", json_integer(h->msgs_in));
	json_object_set_new(o, "events_in", json_integer(h->events_in));
	json_object_set_new(o, "holds", json_boolean(h->holds));
	json_object_set_new(o, "asked", json_integer(h->asked));
	json_object_set_new(o, "answered", json_integer(h->answered));
	json_object_set_new(o, "late", json_integer(h->late));
	for (int i = 0; i < f->n_ops; i++)
		json_array_append_new(
			ops,
			json_pack("{s:s,s:s}", "op",
				  sf_op_name(f->ops[i].op) ?: "?", "mechanism",
				  sf_mech_name(f->ops[i].mechanism)));
	json_object_set_new(o, "enforces", ops);
	return o;
}

static struct sf_host *req_host(struct sf_ctrl *c, struct ctl_client *cl,
				const struct ctl_request *r)
{
	int n;
	struct sf_host *h = ctrl_find_hosts(c, r->host, &n);

	if (!h) {
		reply_error(cl, "no host '%s' is connected", r->host);
	} else if (n > 1) { /* never a silent pick of one of them */
		reply_error(cl,
			    "'%s' names %d connected hosts; name one by its "
			    "host id (sysflow ctl hosts lists them)",
			    r->host, n);
		h = NULL;
	}
	return h;
}

/* Send m and a BARRIER_REQUEST: the reply waits for the BARRIER_REPLY,
 * or for an ERROR about m when wait_error is set.
 */
static void send_with_barrier(struct ctl_client *cl, struct sf_host *h,
			      struct sfp_msg *m, bool wait_error)
{
	int64_t xid = ctrl_send(h, m);

	if (xid < 0) {
		reply_error(cl, "cannot send to %s: %s", h->features.hostname,
			    strerror((int)-xid));
		return;
	}
	cl->xid = wait_error ? xid : 0;
	cl->barrier_xid = ctrl_send(
		h, &(struct sfp_msg){ .h = { .type = SFP_BARRIER_REQUEST } });
	cl->pending = P_MOD;
	cl->host = h;
	cl->deadline_ms = sf_now_ms() + CTL_TIMEOUT_MS;
}

static void req_mod(struct sf_ctrl *c, struct ctl_client *cl,
		    const struct ctl_request *r)
{
	struct sfp_msg m = { .h = { .type = SFP_FLOW_MOD } };
	struct sf_host *h = req_host(c, cl, r);

	if (!h)
		return;
	m.flow_mod = r->fm;
	send_with_barrier(cl, h, &m, true);
}

static void req_miss(struct sf_ctrl *c, struct ctl_client *cl,
		     const struct ctl_request *r)
{
	struct sfp_msg m = { .h = { .type = SFP_SET_CONFIG } };
	struct sf_host *h = req_host(c, cl, r);

	if (!h)
		return;
	memcpy(m.config.miss, h->features.miss, sizeof(m.config.miss));
	for (int cls = 0; cls < SF_CLASS_COUNT; cls++)
		if (r->miss[cls] >= 0)
			m.config.miss[cls] = r->miss[cls];
	send_with_barrier(cl, h, &m, false);
	/* the host's policy changes when the agent has taken it (barrier) */
	cl->set_miss = cl->pending == P_MOD;
	memcpy(cl->miss, m.config.miss, sizeof(cl->miss));
}

static void req_rules(struct sf_ctrl *c, struct ctl_client *cl,
		      const struct ctl_request *r)
{
	struct sfp_msg m = { .h = { .type = SFP_FLOW_STATS_REQUEST } };
	struct sf_host *h = req_host(c, cl, r);
	int64_t xid;

	if (!h)
		return;
	xid = ctrl_send(h, &m);
	if (xid < 0) {
		reply_error(cl, "cannot send: %s", strerror((int)-xid));
		return;
	}
	cl->xid = xid;
	cl->pending = P_RULES;
	cl->host = h;
	cl->count = 0;
	cl->deadline_ms = sf_now_ms() + CTL_TIMEOUT_MS;
}

static void req_hosts(struct sf_ctrl *c, struct ctl_client *cl)
{
	uint32_t n = 0;

	for (struct sf_host *h = c->hosts; h; h = h->next) {
		if (h->state != HS_UP)
			continue;
		out_json(cl, ctl_host_json(h));
		n++;
	}
	reply_ok(cl, json_pack("{s:i}", "count", n));
}

static void req_stats(struct sf_ctrl *c, struct ctl_client *cl)
{
	uint32_t n = 0;

	for (struct sf_host *h = c->hosts; h; h = h->next)
		n += h->state == HS_UP;
	reply_ok(cl, json_pack("{s:i,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "hosts",
			       n, "sessions", (json_int_t)c->sessions,
			       "replaced", (json_int_t)c->replaced, "refused",
			       (json_int_t)c->refused, "messages_in",
			       (json_int_t)c->msgs_in, "events_in",
			       (json_int_t)c->events_in, "asked",
			       (json_int_t)c->asked, "answered",
			       (json_int_t)c->answered, "late",
			       (json_int_t)c->late));
}

static void handle_request(struct sf_ctrl *c, struct ctl_client *cl,
			   const char *line)
{
	struct ctl_request *r = malloc(sizeof(*r));
	char err[256];

	if (!r) {
		reply_error(cl, "out of memory");
		return;
	}
	if (ctl_request_parse(line, r, err, sizeof(err))) {
		reply_error(cl, "%s", err);
		free(r);
		return;
	}
	switch (r->cmd) {
	case CTL_HOSTS:
		req_hosts(c, cl);
		break;
	case CTL_RULES:
		req_rules(c, cl, r);
		break;
	case CTL_ADD:
	case CTL_DEL:
		req_mod(c, cl, r);
		break;
	case CTL_MISS:
		req_miss(c, cl, r);
		break;
	case CTL_EVENTS:
		cl->events = true;
		break;
	case CTL_STATS:
		req_stats(c, cl);
		break;
	}
	free(r);
}

static void client_free(struct sf_ctrl *c, struct ctl_client *cl)
{
	struct ctl_client **pp = &c->clients;

	while (*pp && *pp != cl)
		pp = &(*pp)->next;
	if (*pp)
		*pp = cl->next;
	epoll_ctl(c->epfd, EPOLL_CTL_DEL, cl->fd, NULL);
	close(cl->fd);
	grow_buf_free(&cl->out);
	free(cl);
}

static bool client_flush(struct sf_ctrl *c, struct ctl_client *cl)
{
	while (cl->out.len) {
		ssize_t n = send(cl->fd, cl->out.data, cl->out.len,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EAGAIN)
				break;
			client_free(c, cl);
			return false;
		}
		grow_buf_consume(&cl->out, n);
	}
	if (!cl->out.len && cl->closing) {
		client_free(c, cl);
		return false;
	}
	ctrl_epoll(c, cl->fd, EPOLLIN | (cl->out.len ? EPOLLOUT : 0), cl,
		   EPOLL_CTL_MOD);
	return true;
}

void ctl_client_io(struct sf_ctrl *c, struct ctl_client *cl, uint32_t ev)
{
	if (ev & (EPOLLIN | EPOLLHUP)) {
		ssize_t n = read(cl->fd, cl->in + cl->in_len,
				 sizeof(cl->in) - 1 - cl->in_len);
		char *nl;

		if (n <= 0) {
			client_free(c, cl);
			return;
		}
		cl->in_len += n;
		cl->in[cl->in_len] = 0;
		nl = memchr(cl->in, '\n', cl->in_len);
		if (nl && cl->pending == P_NONE && !cl->events &&
		    !cl->closing) {
			*nl = 0;
			if (strlen(cl->in) < (size_t)(nl - cl->in))
				reply_error(cl, "the request holds a NUL byte");
			else
				handle_request(c, cl, cl->in);
			cl->in_len = 0;
		} else if (cl->in_len == sizeof(cl->in) - 1) {
			reply_error(cl, "request too long");
		}
	}
	client_flush(c, cl);
}

void ctl_accept(struct sf_ctrl *c)
{
	for (;;) {
		int fd = accept4(c->ctl_fd, NULL, NULL,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct ctl_client *cl;

		if (fd < 0)
			return;
		cl = calloc(1, sizeof(*cl));
		if (!cl) {
			close(fd);
			continue;
		}
		cl->kind = EP_CTL_CLIENT;
		cl->fd = fd;
		cl->next = c->clients;
		c->clients = cl;
		ctrl_epoll(c, fd, EPOLLIN, cl, EPOLL_CTL_ADD);
	}
}

static json_t *with_host(json_t *o, const struct sf_host *h)
{
	json_object_set_new(o, "host", json_string(h->features.hostname));
	return o;
}

void ctl_host_message(struct sf_ctrl *c, struct sf_host *h,
		      const struct sfp_msg *m)
{
	char name[48];
	uint64_t now = sf_now_ms();

	for (struct ctl_client *cl = c->clients, *next; cl; cl = next) {
		next = cl->next;
		if (cl->events) {
			json_t *o = NULL;

			if (m->h.type == SFP_ACTION_REPORT ||
			    m->h.type == SFP_EVENT_IN)
				o = sfp_event_to_json(m->h.type, &m->event);
			else if (m->h.type == SFP_FLOW_REMOVED) {
				o = sfp_removed_to_json(&m->removed);
				json_object_set_new(
					o, "type", json_string("flow_removed"));
			}
			if (o) {
				out_json(cl, with_host(o, h));
				client_flush(c, cl);
			}
			continue;
		}
		if (cl->host != h || cl->pending == P_NONE)
			continue;
		if (cl->pending == P_RULES &&
		    m->h.type == SFP_FLOW_STATS_REPLY && m->h.xid == cl->xid) {
			for (uint32_t i = 0; i < m->stats_reply.count; i++)
				out_json(
					cl,
					with_host(sfp_stats_to_json(
							  &m->stats_reply
								   .entries[i]),
						  h));
			cl->count += m->stats_reply.count;
			if (!(m->stats_reply.flags & SFP_STATS_MORE))
				reply_ok(cl, json_pack("{s:i}", "count",
						       cl->count));
		} else if (cl->pending == P_MOD && m->h.type == SFP_ERROR &&
			   m->h.xid == cl->xid) {
			reply_error(cl, "%s refused it: %s",
				    h->features.hostname,
				    sfp_err_name(m->error.type, m->error.code,
						 name, sizeof(name)));
		} else if (cl->pending == P_MOD &&
			   m->h.type == SFP_BARRIER_REPLY &&
			   m->h.xid == cl->barrier_xid) {
			if (cl->set_miss)
				memcpy(h->features.miss, cl->miss,
				       sizeof(cl->miss));
			reply_ok(cl, json_pack("{s:I}", "xid",
					       (json_int_t)cl->xid));
		}
		if (cl->pending == P_NONE || cl->closing)
			client_flush(c, cl);
		(void)now;
	}
}

void ctl_host_gone(struct sf_ctrl *c, struct sf_host *h)
{
	for (struct ctl_client *cl = c->clients, *next; cl; cl = next) {
		next = cl->next;
		if (cl->host == h && cl->pending != P_NONE) {
			reply_error(cl, "host %s disconnected",
				    h->features.hostname);
			client_flush(c, cl);
		} else if (cl->host == h) {
			cl->host = NULL;
		}
	}
}

static void say_in_use(const char *path)
{
	pr_err("control socket %s is in use by a running controller; stop it "
	       "or choose another path with -C\n",
	       path);
}

/* PATH.lock, held for the controller's life: of the controllers started
 * on one path at once exactly one gets it, and only the holder unlinks,
 * binds and at exit removes the socket and the lock file. A loser has
 * touched nothing. A killed holder's lock goes with it (flock).
 */
static int ctl_lock(struct sf_ctrl *c, const char *path)
{
	char lock[PATH_MAX];
	int fd;

	snprintf(lock, sizeof(lock), "%s.lock", path);
	fd = sf_path_lock(lock, true);
	if (fd == -EBUSY)
		say_in_use(path);
	else if (fd < 0)
		pr_err("cannot lock control socket %s: %s: %s\n", path, lock,
		       strerror(-fd));
	else
		c->ctl_lock_fd = fd;
	return fd < 0 ? fd : 0;
}

/* A socket file that still answers belongs to a running controller (one
 * from before the lock file): a second one must not take it over (unlink
 * it and bind its own), so that `sysflow ctl` would silently talk to the
 * wrong one.
 */
static bool ctl_in_use(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool used;

	if (fd < 0)
		return false;
	used = !connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	close(fd);
	return used;
}

int ctl_open(struct sf_ctrl *c, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[sizeof(sa.sun_path)];
	struct stat st;
	mode_t old;
	int err;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		pr_err("control socket path %s is too long\n", path);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	snprintf(dir, sizeof(dir), "%s", path);
	if (strrchr(dir, '/') && strrchr(dir, '/') != dir) {
		*strrchr(dir, '/') = 0;
		sf_mkdir_p(dir, 0755);
	}
	if (!lstat(path, &st) && !S_ISSOCK(st.st_mode)) { /* a typo'd -C */
		pr_err("control socket path %s exists and is not a socket; "
		       "remove it or choose another path with -C\n",
		       path);
		return -EEXIST;
	}
	err = ctl_lock(c, path);
	if (err)
		return err;
	if (ctl_in_use(&sa)) {
		say_in_use(path);
		return -EADDRINUSE;
	}
	c->ctl_fd =
		socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->ctl_fd < 0)
		return -errno;
	unlink(path); /* left by a controller that was killed */
	old = umask(0177); /* the socket: 0600 */
	if (bind(c->ctl_fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(c->ctl_fd, 64)) {
		err = -errno;
		umask(old);
		pr_err("cannot listen on control socket %s: %s\n", path,
		       strerror(-err));
		return err;
	}
	umask(old);
	ctrl_epoll(c, c->ctl_fd, EPOLLIN, &c->ctl_kind, EPOLL_CTL_ADD);
	return 0;
}

void ctl_close(struct sf_ctrl *c, const char *path)
{
	char lock[PATH_MAX];

	while (c->clients)
		client_free(c, c->clients);
	if (c->ctl_fd >= 0) {
		close(c->ctl_fd);
		unlink(path);
	}
	if (c->ctl_lock_fd >= 0) { /* unlinked while still held */
		snprintf(lock, sizeof(lock), "%s.lock", path);
		unlink(lock);
		close(c->ctl_lock_fd);
		c->ctl_lock_fd = -1;
	}
}

void ctl_tick(struct sf_ctrl *c, uint64_t now_ms)
{
	for (struct ctl_client *cl = c->clients, *next; cl; cl = next) {
		next = cl->next;
		if (cl->pending != P_NONE && now_ms > cl->deadline_ms) {
			reply_error(cl, "no answer from the host in %d ms",
				    CTL_TIMEOUT_MS);
			client_flush(c, cl);
		}
	}
}
