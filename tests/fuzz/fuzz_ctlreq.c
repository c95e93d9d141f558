// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* fuzz_ctlreq.c: libFuzzer target for a request line of the controller's
 * control socket (`sysflow ctl`): ctl_request_parse() in
 * lib/controller/ctlreq.c, what ctlsock.c runs before it looks up a host
 * or sends anything. The input is the line (cut at a newline or NUL, as
 * the socket does). A refused request must have an error text that makes
 * a valid error reply; an accepted one must be complete: a host where the
 * command needs one, a FLOW_MOD that survives the wire (a del one that
 * deletes, without actions), miss policies in range.
 */
#include <sysflow/proto.h>
#include "fuzz.h"
#include "controller/ctrl_int.h"

static void check_refused(const char *err)
{
	json_t *o = ctl_error_json(err);
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;

	if (!err[0])
		fuzz_fail("request refused without a message");
	if (!s)
		fuzz_fail("the error '%s' makes no JSON reply", err);
	free(s);
	json_decref(o);
}

static void check_wire(const struct sfp_flow_mod *fm)
{
	struct sfp_msg m = { .h = { .type = SFP_FLOW_MOD, .xid = 1 } }, m2;
	struct sfp_buf b = {};

	m.flow_mod = *fm;
	if (sfp_encode(&b, &m))
		fuzz_fail("the request's FLOW_MOD does not encode");
	if (sfp_decode(b.data, b.len, &m2))
		fuzz_fail("the request's FLOW_MOD does not decode");
	if (m2.flow_mod.command != fm->command ||
	    m2.flow_mod.n_actions != fm->n_actions)
		fuzz_fail("the FLOW_MOD changed on the wire");
	sfp_msg_free(&m2);
	sfp_buf_free(&b);
}

static void check_accepted(const struct ctl_request *r)
{
	bool host = r->cmd == CTL_RULES || r->cmd == CTL_ADD ||
		    r->cmd == CTL_DEL || r->cmd == CTL_MISS;

	if (r->cmd < CTL_HOSTS || r->cmd > CTL_STATS)
		fuzz_fail("accepted command %d", r->cmd);
	if (host && !r->host[0])
		fuzz_fail("command %d accepted without a host", r->cmd);
	if (!memchr(r->host, 0, sizeof(r->host)))
		fuzz_fail("host name not terminated");
	if (r->cmd == CTL_ADD) {
		if (r->fm.command == SFP_FM_ADD && !r->fm.n_actions)
			fuzz_fail("add without actions");
		check_wire(&r->fm);
	}
	if (r->cmd == CTL_DEL) {
		if (r->fm.command != SFP_FM_DELETE &&
		    r->fm.command != SFP_FM_DELETE_STRICT)
			fuzz_fail("del sends command %u", r->fm.command);
		if (r->fm.n_actions)
			fuzz_fail("del sends actions");
		check_wire(&r->fm);
	}
	for (int i = 0; r->cmd == CTL_MISS && i < SF_CLASS_COUNT; i++)
		if (r->miss[i] < -1 || r->miss[i] > SF_MISS_ASK)
			fuzz_fail("miss policy %d for class %d", r->miss[i], i);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = fuzz_str(data, size), *nl, err[256];
	struct ctl_request r;

	fuzz_quiet();
	nl = strchr(line, '\n');
	if (nl)
		*nl = 0;
	err[0] = 0;
	if (ctl_request_parse(line, &r, err, sizeof(err)))
		check_refused(err);
	else
		check_accepted(&r);
	free(line);
	return 0;
}
