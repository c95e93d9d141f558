// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* fuzz_flowmon.c: libFuzzer target for `sysflow flowmon -r FILE`: the pcap
 * replay (lib/flow/pcap_replay.c: libpcap, then each frame through the
 * real XDP program with BPF_PROG_TEST_RUN, DPI on), the flow table sweeps
 * and the JSON of each exported flow (lib/flow/flow_json.c), whose DNS,
 * HTTP and TLS names come from packet bytes. The input is the pcap file.
 * Needs root (it loads the BPF program once per process).
 */
#include <errno.h>
#include <sysflow/flowmon.h>
#include "fuzz.h"
#include "flow/flow_json.h"

/* The key a flow's DPI name goes to (flow_json.c), NULL for none. */
static const char *name_key(const struct sf_flow *f)
{
	if (!f->name[0])
		return NULL;
	switch (f->dpi_kind) {
	case SF_DPI_DNS:
		return "dnsQueryName";
	case SF_DPI_HTTP:
		return "httpHost";
	case SF_DPI_TLS:
		return "tlsServerName";
	}
	return NULL;
}

static int flow_to_json(const struct sf_flow *f, void *ctx)
{
	json_t *o = sf_flow_json(f);
	const char *key;
	char *s;

	(void)ctx;
	if (memchr(f->name, 0, sizeof(f->name)) == NULL ||
	    memchr(f->http_method, 0, sizeof(f->http_method)) == NULL)
		fuzz_fail("a flow's name or HTTP method is not NUL-terminated");
	s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	if (!s)
		fuzz_fail("a flow does not dump as JSON");
	key = name_key(f);
	if (key && !json_object_get(o, key))
		fuzz_fail("the flow's name '%s' is missing from its JSON",
			  f->name);
	free(s);
	json_decref(o);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sf_flowmon *fm;
	char path[64];
	long bad = 0;
	int fd, err;

	fuzz_quiet();
	if (!fm) {
		struct sf_flowmon_opts o = { .offline = true,
					     .dpi = true,
					     .max_flows = 4096 };

		fm = sf_flowmon_open(&o, &err);
		if (!fm)
			fuzz_fail(
				"cannot load the flowmon BPF program (root?): "
				"%s",
				strerror(-err));
	}
	fd = fuzz_file(data, size, path, sizeof(path));
	sf_flowmon_replay_pcap(fm, path, flow_to_json, NULL, &bad);
	close(fd);
	return 0;
}
