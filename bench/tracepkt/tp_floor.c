// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* tp_floor.c: the floor under tracepkt's cost: an empty tp_btf program
 * ("r0 = 0; exit") on each tracepoint tracepkt attaches to, so that
 * bench/tracepkt/run.sh can show how much of the tracer's overhead is the
 * kernel calling BPF programs at all, and how much is the tracer's own
 * work. Prints "ready" once attached and exits on SIGINT or SIGTERM.
 *
 *   tp_floor [TRACEPOINT...]   (default: tracepkt's twelve)
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "bench.h"

static const char *const defaults[] = {
	"napi_gro_receive_entry",
	"netif_rx",
	"netif_receive_skb",
	"fib_table_lookup",
	"fib6_table_lookup",
	"net_dev_queue",
	"qdisc_enqueue",
	"qdisc_dequeue",
	"net_dev_start_xmit",
	"net_dev_xmit",
	"kfree_skb",
	"consume_skb",
	"sk_data_ready",
	NULL,
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int attach_empty(const struct btf *vmlinux, const char *tp)
{
	static const struct bpf_insn ret0[] = {
		{ .code = 0xb7, .dst_reg = 0, .imm = 0 }, /* r0 = 0 */
		{ .code = 0x95 }, /* exit */
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts,
		    .expected_attach_type = BPF_TRACE_RAW_TP);
	char name[96];
	int id, fd, link;

	snprintf(name, sizeof(name), "btf_trace_%s", tp);
	id = btf__find_by_name_kind(vmlinux, name, BTF_KIND_TYPEDEF);
	if (id < 0) {
		fprintf(stderr, "tp_floor: no tracepoint %s in BTF\n", tp);
		return -ENOENT;
	}
	opts.attach_btf_id = id;
	fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, "tp_floor", "GPL", ret0, 2,
			   &opts);
	if (fd < 0) {
		fprintf(stderr, "tp_floor: load for %s: %s\n", tp,
			strerror(errno));
		return -errno;
	}
	link = bpf_raw_tracepoint_open(NULL, fd);
	if (link < 0) {
		fprintf(stderr, "tp_floor: attach to %s: %s\n", tp,
			strerror(errno));
		return -errno;
	}
	return 0; /* both fds stay open until exit */
}

int main(int argc, char **argv)
{
	const char *const *tps = argc > 1 ? (const char *const *)argv + 1 :
					    defaults;
	struct btf *vmlinux;

	if (bench_help(argc, argv,
		       "usage: tp_floor [TRACEPOINT...]   "
		       "(default: tracepkt's twelve)\n"))
		return 0;
	vmlinux = btf__load_vmlinux_btf();
	if (!vmlinux) {
		fprintf(stderr, "tp_floor: no kernel BTF\n");
		return 1;
	}
	for (int i = 0; tps[i]; i++)
		if (attach_empty(vmlinux, tps[i]))
			return 1;
	btf__free(vmlinux);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	printf("ready\n");
	fflush(stdout);
	while (!stop)
		pause();
	return 0;
}
