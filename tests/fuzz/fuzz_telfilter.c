// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* fuzz_telfilter.c: libFuzzer target for the Falco-style event filter of
 * `sysflow collect --filter` (lib/telemetry/filter.c). The input is the
 * expression. A compiled filter is run on a process event and a socket
 * event, then freed; a rejected one must say why.
 */
#include "fuzz.h"
#include "telemetry/telemetry_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tel_proc proc = { .exe = "/usr/bin/curl",
				 .args = "-s http://10.0.0.2/",
				 .uid = 1000 };
	const struct tel_filter_ctx ctx[] = {
		{ .evt_type = "execve",
		  .proc = &proc,
		  .sport = -1,
		  .dport = -1 },
		{ .evt_type = "connect",
		  .proc = &proc,
		  .fd_name = "10.0.0.1:40000->10.0.0.2:80",
		  .sport = 40000,
		  .dport = 80,
		  .container_id = "0123456789ab" },
		{ 0 },
	};
	struct tel_filter *f = NULL;
	char *expr = fuzz_str(data, size);
	char msg[256] = "";

	proc.oid.hpid = 4242;
	if (tel_filter_compile(expr, &f, msg, sizeof(msg)) == 0) {
		for (size_t i = 0; i < sizeof(ctx) / sizeof(ctx[0]); i++)
			tel_filter_match(f, &ctx[i]);
		tel_filter_free(f);
	} else if (!msg[0]) {
		fuzz_fail("refused without a message");
	}
	free(expr);
	return 0;
}
