// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* fuzz_rule.c: libFuzzer target for the JSON rule of lib/proto/proto_json.c
 * (sfp_rule_from_json), the object the policy and acl apps read from their
 * files and `sysflow ctl` sends. The input is JSON text. A rule that parses
 * must survive the wire (encode, decode) and its JSON form must parse to a
 * rule again: sfp_flow_mod_to_json() writes the keys the parser reads.
 */
#include <sysflow/proto.h>
#include "fuzz.h"
#include "proto/proto_json.h"

static void check_rule(const struct sfp_flow_mod *fm)
{
	struct sfp_msg m = { .h = { .type = SFP_FLOW_MOD, .xid = 1 } }, m2;
	struct sfp_flow_mod again;
	struct sfp_buf b = {};
	char err[256];
	json_t *o;

	m.flow_mod = *fm;
	if (sfp_encode(&b, &m))
		fuzz_fail("the rule does not encode");
	if (sfp_decode(b.data, b.len, &m2))
		fuzz_fail("the encoded rule does not decode");
	sfp_msg_free(&m2);
	sfp_buf_free(&b);
	o = sfp_flow_mod_to_json(fm);
	if (!o || sfp_rule_from_json(o, &again, err, sizeof(err)))
		fuzz_fail("the rule's JSON does not parse back: %s", err);
	json_decref(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sfp_flow_mod fm;
	json_error_t jerr;
	char err[256];
	json_t *root;

	fuzz_quiet();
	root = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES,
			  &jerr);
	if (!root)
		return 0;
	err[0] = 0;
	if (sfp_rule_from_json(root, &fm, err, sizeof(err)) == 0)
		check_rule(&fm);
	else if (!err[0])
		fuzz_fail("rule refused without a message");
	json_decref(root);
	return 0;
}
