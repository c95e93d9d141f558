// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* fuzz_agent.c: libFuzzer target for what the controller's bytes reach in
 * the agent past the session layer: the dispatch table and each handler of
 * lib/guard/agent.c (FLOW_MOD, FLOW_STATS_REQUEST, BARRIER, SET_CONFIG,
 * VERDICT, FEATURES_REQUEST) and the rule table of lib/guard/table.c,
 * writing to real BPF maps: the guard object is loaded once per process,
 * attached nowhere and pinned nowhere (guard_bpf_open_unattached), and its
 * hooks' cgroup is one that does not exist, so a rule that names
 * processes acts on none. The input is the byte stream of a session from
 * the controller's side; the agent starts with its HELLO sent.
 *
 * Checked: every answer decodes; a FLOW_MOD answered by an ERROR left the
 * table, the kernel's rule entries, exe ids and the rule store as they
 * were (no rule half applied); after each FLOW_MOD every rule holds only
 * actions its operations take, with the kernel entries and file index
 * they need (guard_table_check), and an empty table leaves nothing in the
 * kernel; a FLOW_STATS_REQUEST for every cookie lists every rule; deleting
 * every rule at the end leaves all of them empty, so no input leaves state
 * for the next. Needs root.
 */
#include <sys/socket.h>
#include <sysflow/guard.h>
#include <sysflow/proto.h>
#include "fuzz.h"
#include "core/core.h"
#include "guard/guard_int.h"

struct kstate {
	uint32_t table, entries, exes, store, iso;
};

static struct kstate kstate(struct guard_kern *b, struct guard_table *t)
{
	return (struct kstate){
		.table = guard_table_count(t),
		.entries = guard_bpf_count(b, GUARD_COUNT_RULES),
		.exes = guard_bpf_count(b, GUARD_COUNT_EXES),
		.store = guard_bpf_count(b, GUARD_COUNT_STORE),
		.iso = guard_bpf_count(b, GUARD_COUNT_ISO_SOCKS),
	};
}

static void check_same(const struct kstate *x, const struct kstate *y,
		       const char *what)
{
	if (x->table != y->table || x->entries != y->entries ||
	    x->exes != y->exes || x->store != y->store || x->iso != y->iso)
		fuzz_fail("%s: rules %u->%u, kernel entries %u->%u, exe ids "
			  "%u->%u, stored %u->%u, isolated sockets %u->%u",
			  what, x->table, y->table, x->entries, y->entries,
			  x->exes, y->exes, x->store, y->store, x->iso, y->iso);
}

/* What the agent enforces, probed once. The socket operations also take
 * ISOLATION and QUARANTINE, as where the cgroup_skb programs attach (an
 * unattached object has none): their rules reach the table too.
 */
static const struct guard_caps *agent_caps(struct guard_kern *b)
{
	static struct guard_caps caps;
	static bool done;
	const uint32_t iso = (1u << SF_ACT_ISOLATION) |
			     (1u << SF_ACT_QUARANTINE);

	if (done)
		return &caps;
	guard_agent_probe_caps(b, &caps);
	for (int op = 0; op < SF_OP_COUNT; op++)
		if (caps.mechanism[op] == SF_MECH_CGROUP)
			caps.actions[op] |= iso;
	done = true;
	return &caps;
}

static struct guard_kern *guard_object(void)
{
	static struct guard_kern *b;
	char cg[512], root[256];
	int err;

	if (b)
		return b;
	if (sf_find_mount("cgroup2", root, sizeof(root)))
		fuzz_fail("no cgroup2 mount");
	snprintf(cg, sizeof(cg), "%s/sysflow-fuzz-%d-none", root, getpid());
	b = guard_bpf_open_unattached(cg, &err);
	if (!b)
		fuzz_fail("cannot load the guard BPF object (root?): %s",
			  strerror(-err));
	return b;
}

/* What the agent answered to one message */
struct answers {
	bool error; /* an ERROR about it */
	uint32_t stats; /* FLOW_STATS_REPLY entries for it */
	bool stats_end; /* the last FLOW_STATS_REPLY for it */
};

struct drain_ctx {
	struct answers ans;
	uint32_t xid;
};

static void note_answer(void *ctx, const struct sfp_msg *m)
{
	struct drain_ctx *d = ctx;

	d->ans.error |= m->h.type == SFP_ERROR && m->h.xid == d->xid;
	if (m->h.type == SFP_FLOW_STATS_REPLY && m->h.xid == d->xid) {
		d->ans.stats += m->stats_reply.count;
		d->ans.stats_end = !(m->stats_reply.flags & SFP_STATS_MORE);
	}
}

/* Read what the agent sent: whole messages must decode. */
static struct answers drain(int fd, struct sfp_stream *st, uint32_t xid)
{
	struct drain_ctx d = { .xid = xid };

	fuzz_read_msgs(fd, st, note_answer, &d);
	return d.ans;
}

/* A FLOW_STATS_REQUEST for every cookie lists every rule once. */
static void check_stats(const uint8_t *raw, size_t len,
			const struct answers *ans, struct guard_table *t)
{
	struct sfp_msg m;

	if (!ans->stats_end || sfp_decode(raw, len, &m))
		return;
	if (!m.stats_req.cookie_mask && ans->stats != guard_table_count(t))
		fuzz_fail("FLOW_STATS_REPLY lists %u rules of %u", ans->stats,
			  guard_table_count(t));
	sfp_msg_free(&m);
}

/* One message; a refused FLOW_MOD must change nothing. */
static int receive(struct agent *a, struct guard_kern *b, int peer,
		   struct sfp_stream *answers, const uint8_t *raw, size_t len)
{
	struct guard_table *t = guard_agent_offline_table(a);
	struct sfp_header h;
	struct kstate before = {}, after, empty = {};
	struct answers ans;
	int rc, rc2;

	sfp_header_read(raw, &h);
	if (h.type == SFP_FLOW_MOD)
		before = kstate(b, t);
	rc = guard_agent_offline_receive(a, raw, len);
	ans = drain(peer, answers, h.xid);
	if (h.type == SFP_FLOW_STATS_REQUEST)
		check_stats(raw, len, &ans, t);
	if (h.type != SFP_FLOW_MOD)
		return rc;
	after = kstate(b, t);
	rc2 = guard_table_check(t);
	if (rc2)
		fuzz_fail("rule %d holds actions its operations cannot take, "
			  "or its kernel entries or file index do not match "
			  "them",
			  -rc2 - 1);
	if (ans.error)
		check_same(&before, &after, "a refused FLOW_MOD changed state");
	if (!after.table)
		check_same(&empty, &after, "no rule left but kernel state");
	return rc;
}

/* Delete every rule: nothing may stay in the table or the maps. */
static void clear_all(struct guard_kern *b, struct guard_table *t)
{
	struct sfp_flow_mod all = { .command = SFP_FM_DELETE,
				    .match = { .op = SF_OP_ANY } };
	struct kstate empty = {}, now;
	int err = guard_table_flow_mod(t, &all, NULL, NULL);

	if (err)
		fuzz_fail("deleting every rule failed: 0x%x", err);
	now = kstate(b, t);
	check_same(&empty, &now, "left after deleting every rule");
}

/* The object's load and the probes, before any input's time starts */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	agent_caps(guard_object());
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct sf_agent_opts o = {
		.host = "fuzz",
		.port = "0",
		.host_id = "0123456789abcdef0123456789abcdef",
		.fail_mode = SF_FAIL_SECURE,
	};
	struct guard_kern *b;
	struct sfp_stream in, answers;
	const uint8_t *msg;
	struct agent *a;
	int sv[2], err, rc = 0;
	size_t len;

	fuzz_quiet();
	b = guard_object();
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
		       sv))
		fuzz_fail("socketpair: %s", strerror(errno));
	a = guard_agent_offline_new(&o, b, agent_caps(b), sv[0], &err);
	if (!a)
		fuzz_fail("cannot make the agent: %s", strerror(-err));
	sfp_stream_init(&in, SFP_MAX_MSG);
	sfp_stream_init(&answers, SFP_MAX_MSG);
	drain(sv[1], &answers, 0);
	if (size && sfp_stream_feed(&in, data, size))
		fuzz_fail("out of memory");
	while (rc == 0 && sfp_stream_next(&in, &msg, &len) == 1)
		rc = receive(a, b, sv[1], &answers, msg, len);
	clear_all(b, guard_agent_offline_table(a));
	guard_agent_offline_free(a);
	close(sv[1]);
	sfp_stream_free(&in);
	sfp_stream_free(&answers);
	return 0;
}
