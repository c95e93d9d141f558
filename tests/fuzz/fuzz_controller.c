// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* fuzz_controller.c: libFuzzer target for what an agent's bytes reach in
 * the controller past the session layer: the per-session dispatch of
 * lib/controller/controller.c (HELLO, FEATURES_REPLY, ECHO, ERROR, the
 * events, FLOW_STATS_REPLY, FLOW_REMOVED, BARRIER_REPLY) and the apps it
 * hands them to (app_policy.c with rules, a miss section and "ask"
 * answers, app_dlp.c, app_acl.c with a window open all day), through
 * ctrl_offline_* over a socketpair. The input is the byte stream of a
 * session from the agent's side; it is played twice, on two sessions one
 * after the other, as an agent that reconnects.
 *
 * Checked: every answer decodes; a session closes only after an ERROR
 * that says why, and an ERROR BAD_REQUEST always closes it, as does an
 * ERROR about a FEATURES_REPLY (docs/protocol.md, "Session"); a VERDICT goes only to a host that offered
 * VERDICT in its HELLO, for a hold id it sent in a held EVENT_IN; an
 * established host's id is the hex of its FEATURES_REPLY's, no two open
 * sessions share one (the second replaced the first) and the session
 * counters agree with the hosts; the apps hear of each host's connection
 * and departure once, and of messages either way only in between (an app
 * first in line checks). SIGHUP's reload and the timer run at the end.
 * ASan finds what a closed session leaks.
 */
#include <sys/socket.h>
#include <sysflow/controller.h>
#include <sysflow/proto.h>
#include "fuzz.h"
#include "controller/ctrl_int.h"

#define MAX_HOLDS 64

static const char policy[] =
	"{\"miss\": {\"file\": \"ask\", \"socket\": \"deny\"},"
	" \"rules\": [{\"hosts\": \"*\", \"op\": \"connect\", \"port\": 25,"
	"             \"actions\": [\"deny\"]},"
	"            {\"hosts\": [\"web1\"], \"op\": \"file_open\","
	"             \"path\": \"/etc/shadow\", \"actions\": [\"report\"]}],"
	" \"ask\": {\"answers\": [{\"path_prefix\": \"/srv/pub\","
	"                        \"verdict\": \"allow\"},"
	"                       {\"op\": \"exec\", \"uid\": 0,"
	"                        \"verdict\": \"allow\"}],"
	"         \"default\": \"deny\"}}";

static const char acl[] =
	"{\"windows\": [{\"hosts\": \"*\", \"from\": \"12:00\","
	" \"to\": \"11:59:59\", \"rule\": {\"op\": \"connect\", \"port\": 22,"
	" \"actions\": [\"deny\"]}}]}";

/* The apps' files, as memfds kept open for the process's life */
static const struct sf_ctrl_opts *ctrl_opts(void)
{
	static struct sf_ctrl_opts o;
	static char policy_path[64], acl_path[64];
	static bool done;

	if (done)
		return &o;
	fuzz_file((const uint8_t *)policy, strlen(policy), policy_path,
		  sizeof(policy_path));
	fuzz_file((const uint8_t *)acl, strlen(acl), acl_path,
		  sizeof(acl_path));
	sf_ctrl_opts_init(&o);
	o.policy_file = policy_path;
	o.dlp_file = "/srv/secret";
	o.acl_file = acl_path;
	done = true;
	return &o;
}

/* An app first in line that checks what the apps are told: a host is
 * connected once, disconnected once, and only a connected, established
 * host's messages reach the apps, either way.
 */
#define MAX_HOSTS 4

struct tracker {
	const struct sf_host *up[MAX_HOSTS];
	int n;
};

static int tracked(struct tracker *t, const struct sf_host *h)
{
	for (int i = 0; i < t->n; i++)
		if (t->up[i] == h)
			return i;
	return -1;
}

static void tracker_connect(void *st, struct sf_host *h)
{
	struct tracker *t = st;

	if (tracked(t, h) >= 0 || h->state != HS_UP || t->n == MAX_HOSTS)
		fuzz_fail("apps told of a host connecting twice, or not up");
	t->up[t->n++] = h;
}

static void tracker_disconnect(void *st, struct sf_host *h)
{
	struct tracker *t = st;
	int i = tracked(t, h);

	if (i < 0)
		fuzz_fail("apps told of a host leaving that never connected");
	t->up[i] = t->up[--t->n];
}

static void tracker_message(void *st, struct sf_host *h,
			    const struct sfp_msg *m)
{
	if (tracked(st, h) < 0 || h->state != HS_UP)
		fuzz_fail("apps got a message of type %u for a host not "
			  "connected",
			  m->h.type);
}

static const struct sf_app tracker_app = {
	.name = "fuzz-tracker",
	.on_connect = tracker_connect,
	.on_message = tracker_message,
	.on_message_out = tracker_message,
	.on_disconnect = tracker_disconnect,
};

static void add_tracker(struct sf_ctrl *c, struct tracker *t)
{
	if (c->n_apps == MAX_APPS)
		fuzz_fail("no room for the tracker app");
	memmove(&c->apps[1], &c->apps[0], c->n_apps * sizeof(c->apps[0]));
	c->apps[0] = (struct loaded_app){ &tracker_app, t, NULL };
	c->n_apps++;
}

/* What one session was sent and answered */
struct peer {
	int fd;
	struct sfp_stream answers;
	bool holds; /* its HELLO offered VERDICT (the controller's view) */
	uint32_t held[MAX_HOLDS]; /* hold ids of its held EVENT_INs */
	int n_held;
};

static bool was_held(const struct peer *p, uint32_t hold_id)
{
	for (int i = 0; i < p->n_held; i++)
		if (p->held[i] == hold_id)
			return true;
	return false;
}

/* What the controller answered to one message */
struct answers {
	bool error; /* an ERROR, for this message or the stream */
	bool bad_request; /* an ERROR BAD_REQUEST */
};

struct drain_ctx {
	struct peer *p;
	struct answers ans;
};

static void check_answer(void *ctx, const struct sfp_msg *m)
{
	struct drain_ctx *d = ctx;
	struct peer *p = d->p;
	struct answers *ans = &d->ans;

	if (m->h.type == SFP_ERROR) {
		ans->error = true;
		ans->bad_request |= m->error.type == SFP_ET_BAD_REQUEST;
	}
	if (m->h.type != SFP_VERDICT)
		return;
	if (!p->holds)
		fuzz_fail("VERDICT for hold %u to a host that did not offer "
			  "VERDICT in its HELLO",
			  m->verdict.hold_id);
	if (!was_held(p, m->verdict.hold_id))
		fuzz_fail("VERDICT for hold %u, which the host never sent",
			  m->verdict.hold_id);
}

/* Read what the controller sent: whole messages must decode. */
static struct answers drain(struct peer *p)
{
	struct drain_ctx d = { .p = p };

	fuzz_read_msgs(p->fd, &p->answers, check_answer, &d);
	return d.ans;
}

/* Remember the hold ids the agent sent */
static void note_sent(struct peer *p, const uint8_t *raw, size_t len)
{
	struct sfp_msg m;

	if (raw[1] != SFP_EVENT_IN || sfp_decode(raw, len, &m))
		return;
	if (m.event.reason == SFP_EV_HELD && p->n_held < MAX_HOLDS)
		p->held[p->n_held++] = m.event.hold_id;
	sfp_msg_free(&m);
}

static void check_hosts(const struct sf_ctrl *c)
{
	uint64_t up = 0;

	for (const struct sf_host *h = c->hosts; h; h = h->next) {
		char hex[33];

		if (h->state != HS_UP)
			continue;
		up++;
		for (int i = 0; i < 16; i++)
			sprintf(hex + 2 * i, "%02x", h->features.host_id[i]);
		if (strcmp(hex, h->id_hex))
			fuzz_fail("host id %s, but its FEATURES_REPLY said %s",
				  h->id_hex, hex);
		for (const struct sf_host *o = h->next; o; o = o->next)
			if (o->state == HS_UP && !strcmp(o->id_hex, h->id_hex))
				fuzz_fail("two open sessions of host %s",
					  h->id_hex);
	}
	if (up + c->replaced > c->sessions)
		fuzz_fail("%llu open sessions and %llu replaced of %llu",
			  (unsigned long long)up,
			  (unsigned long long)c->replaced,
			  (unsigned long long)c->sessions);
}

/* Bytes to the controller; the session closes only with an ERROR */
static void feed(struct sf_ctrl *c, struct sf_host *h, struct peer *p,
		 const uint8_t *data, size_t len)
{
	bool open = h->state != HS_CLOSED;
	bool features = len > 1 && data[1] == SFP_FEATURES_REPLY;
	struct answers ans;

	ctrl_offline_feed(h, data, len);
	p->holds = h->holds; /* as its last HELLO said */
	ans = drain(p);
	if (open && h->state == HS_CLOSED && !ans.error)
		fuzz_fail("session closed without an ERROR");
	if (ans.bad_request && h->state != HS_CLOSED)
		fuzz_fail("ERROR BAD_REQUEST but the session stays open");
	if (features && ans.error && h->state != HS_CLOSED)
		fuzz_fail("ERROR about a FEATURES_REPLY but the session stays "
			  "open (half open: the host never taken up)");
	check_hosts(c);
}

/* One session: each whole message on its own, then what is left. */
static void session(struct sf_ctrl *c, const uint8_t *data, size_t size)
{
	struct peer p = {};
	struct sfp_stream in;
	struct sf_host *h;
	const uint8_t *msg;
	size_t len;
	int sv[2], rc;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
		       sv))
		fuzz_fail("socketpair: %s", strerror(errno));
	h = ctrl_offline_host(c, sv[0]);
	if (!h)
		fuzz_fail("cannot make a session");
	p.fd = sv[1];
	sfp_stream_init(&p.answers, SFP_MAX_MSG);
	sfp_stream_init(&in, SFP_MAX_MSG);
	drain(&p);
	if (size && sfp_stream_feed(&in, data, size))
		fuzz_fail("out of memory");
	while ((rc = sfp_stream_next(&in, &msg, &len)) == 1) {
		note_sent(&p, msg, len);
		feed(c, h, &p, msg, len);
	}
	if (in.len) /* bad framing or a message cut short */
		feed(c, h, &p, in.buf, in.len);
	if (rc < 0 && h->state != HS_CLOSED)
		fuzz_fail("bad framing (%d) but the session stays open", rc);
	close(sv[1]);
	sfp_stream_free(&in);
	sfp_stream_free(&p.answers);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	ctrl_opts();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tracker t = {};
	struct sf_ctrl *c;
	int err;

	fuzz_quiet();
	c = ctrl_offline_new(ctrl_opts(), &err);
	if (!c)
		fuzz_fail("cannot start the controller: %s", strerror(-err));
	add_tracker(c, &t);
	session(c, data, size);
	session(c, data, size); /* the same agent again */
	apps_timer(c, sf_now_ms());
	apps_reload(c);
	ctrl_offline_sweep(c);
	check_hosts(c);
	ctrl_offline_free(c);
	if (t.n)
		fuzz_fail("%d hosts still connected for the apps", t.n);
	return 0;
}
