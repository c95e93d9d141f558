// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* fuzz_pktfilter.c: libFuzzer target for the packet filter compiler of
 * `sysflow tracepkt` (lib/trace/filter.c). The input is the expression. A
 * compiled filter is run on a few packets, as the BPF side would; a
 * rejected one must name a column inside the expression and say why.
 */
#include <arpa/inet.h>
#include "fuzz.h"
#include "trace/filter.h"

static const struct sf_pktfilter_pkt pkts[] = {
	{ .family = 4,
	  .proto = 6,
	  .has_ports = true,
	  .sport = 40000,
	  .dport = 80,
	  .saddr = { 0x0100000a },
	  .daddr = { 0x0200000a } },
	{ .family = 6,
	  .proto = 17,
	  .has_ports = true,
	  .sport = 53,
	  .dport = 5353,
	  .saddr = { 0xfd, 0, 0, 0x01000000 },
	  .daddr = { 0xfd, 0, 0, 0x02000000 } },
	{ .family = 4, .proto = 1 },
	{ .family = 0 },
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sf_pktfilter f;
	struct sf_pktfilter_error err;
	char *expr = fuzz_str(data, size);

	memset(&err, 0, sizeof(err));
	if (sf_pktfilter_compile(expr, &f, &err) == 0) {
		if (f.len > TRACEPKT_MAX_INSNS)
			fuzz_fail("%u tests, at most %d", f.len,
				  TRACEPKT_MAX_INSNS);
		for (size_t i = 0; i < sizeof(pkts) / sizeof(pkts[0]); i++)
			sf_pktfilter_match(&f, &pkts[i]);
	} else if (!err.msg[0] || err.column < 1 || err.width < 1 ||
		   (size_t)err.column > strlen(expr) + 1) {
		fuzz_fail("rejected at column %d width %d of %zu: '%s'",
			  err.column, err.width, strlen(expr), err.msg);
	}
	free(expr);
	return 0;
}
