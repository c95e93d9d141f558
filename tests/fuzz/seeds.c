// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* seeds.c: write one valid message of each type into DIR (the fuzzer's
 * starting corpus). The first byte of each file is the read-split seed.
 */
#include <stdio.h>
#include <string.h>
#include <sysflow/proto.h>

static void put(const char *dir, int n, struct sfp_buf *b)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/seed-%02d", dir, n);
	f = fopen(path, "w");
	if (!f)
		return;
	fputc(7, f);
	fwrite(b->data, 1, b->len, f);
	fclose(f);
	b->len = 0;
}

int main(int argc, char **argv)
{
	struct sfp_buf b = {};
	struct sfp_msg m;
	struct sfp_flow_stats e = {};
	int n = 0;

	if (argc != 2)
		return 2;
	for (int t = 0; t < SFP_TYPE_MAX; t++) {
		memset(&m, 0, sizeof(m));
		m.h.type = t;
		m.h.xid = t;
		m.hello_versions = SFP_VERSIONS_SUPPORTED;
		if (t == SFP_FLOW_MOD || t == SFP_FLOW_REMOVED) {
			struct sfp_match *mt = t == SFP_FLOW_MOD ?
						       &m.flow_mod.match :
						       &m.removed.match;

			mt->op = SF_OP_SOCKET_CONNECT;
			mt->fields = SFP_F(SFP_F_EXE) | SFP_F(SFP_F_PORT) |
				     SFP_F(SFP_F_ADDR);
			strcpy(mt->exe, "/usr/bin/socat");
			mt->port_lo = mt->port_hi = 7777;
			mt->family = 4;
			mt->prefix_len = 8;
			mt->addr[0] = 127;
			m.flow_mod.n_actions = t == SFP_FLOW_MOD ? 2 : 0;
			m.flow_mod.actions[0].type = SF_ACT_DENY;
			m.flow_mod.actions[1].type = SF_ACT_KILL;
			m.flow_mod.actions[1].arg = 9;
		}
		if (t == SFP_FLOW_STATS_REPLY) {
			e.match.op = SF_OP_FILE_OPEN;
			e.match.fields = SFP_F(SFP_F_PATH);
			strcpy(e.match.path, "/tmp/x");
			m.stats_reply.count = 1;
			m.stats_reply.entries = &e;
		}
		if (t == SFP_ACTION_REPORT || t == SFP_EVENT_IN)
			strcpy(m.event.exe, "/bin/cat");
		if (t == SFP_FEATURES_REPLY)
			m.features.n_ops = 1;
		if (t == SFP_HELLO)
			m.hello_features = SFP_HELLO_FEATURES;
		if (t == SFP_VERDICT) {
			m.verdict.hold_id = 1;
			m.verdict.verdict = SF_ACT_DENY;
		}
		if (sfp_encode(&b, &m) == 0)
			put(argv[1], n++, &b);
	}
	/* a held EVENT_IN (its hold id follows the texts) */
	memset(&m, 0, sizeof(m));
	m.h.type = SFP_EVENT_IN;
	m.event.reason = SFP_EV_HELD;
	m.event.hold_id = 7;
	strcpy(m.event.object, "/srv/x");
	if (sfp_encode(&b, &m) == 0)
		put(argv[1], n++, &b);
	/* two messages in one input */
	sfp_encode_simple(&b, SFP_ECHO_REQUEST, 1);
	sfp_encode_simple(&b, SFP_BARRIER_REQUEST, 2);
	put(argv[1], n++, &b);
	sfp_buf_free(&b);
	return 0;
}
