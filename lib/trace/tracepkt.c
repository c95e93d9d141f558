// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* tracepkt.c: load, configure and attach the packet path tracer, and read
 * its ring buffer into struct sf_tracepkt_hop. The filter compiler lives in
 * filter.c, drop reason names in reasons.c, latency statistics in
 * summary.c. Nothing here prints data: the caller's callback does.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <sysflow/tracepkt.h>
#include "core/core.h"
#include "filter.h"
#include "trace_int.h"
#include "tracepkt.skel.h"

struct hook_def {
	const char *category;
	const char *name;
};

/* Indexed by enum tracepkt_hook. Each hook has the BPF programs
 * tp_btf__<name> and tracepoint__<category>__<name> (either may be absent).
 */
static const struct hook_def hook_defs[HOOK_MAX] = {
	[HOOK_NAPI_GRO_RECEIVE_ENTRY] = { "net", "napi_gro_receive_entry" },
	[HOOK_NETIF_RX] = { "net", "netif_rx" },
	[HOOK_NETIF_RECEIVE_SKB] = { "net", "netif_receive_skb" },
	[HOOK_FIB_TABLE_LOOKUP] = { "fib", "fib_table_lookup" },
	[HOOK_FIB6_TABLE_LOOKUP] = { "fib6", "fib6_table_lookup" },
	[HOOK_NET_DEV_QUEUE] = { "net", "net_dev_queue" },
	[HOOK_QDISC_ENQUEUE] = { "qdisc", "qdisc_enqueue" },
	[HOOK_QDISC_DEQUEUE] = { "qdisc", "qdisc_dequeue" },
	[HOOK_NET_DEV_START_XMIT] = { "net", "net_dev_start_xmit" },
	[HOOK_NET_DEV_XMIT] = { "net", "net_dev_xmit" },
	[HOOK_KFREE_SKB] = { "skb", "kfree_skb" },
	[HOOK_CONSUME_SKB] = { "skb", "consume_skb" },
	[HOOK_SK_DATA_READY] = { "sock", "sk_data_ready" },
	[HOOK_TCP_PROBE] = { "tcp", "tcp_probe" },
};

struct sf_tracepkt {
	struct tracepkt_bpf *skel;
	struct ring_buffer *rb;
	struct bpf_link *links[HOOK_MAX];
	struct sf_drop_reasons reasons;
	int n_hooks;
	char mechanism[24];
	sf_tracepkt_cb cb;
	void *cb_ctx;
	int ncpus;
};

static const char *hook_name(unsigned int hook)
{
	if (hook == HOOK_NONE)
		return NULL;
	return hook < HOOK_MAX ? hook_defs[hook].name : "unknown";
}

int sf_tracepkt_filter_check(const char *expr, char *msg, size_t len,
			     int *column)
{
	struct sf_pktfilter_error ferr;
	struct sf_pktfilter *f = malloc(sizeof(*f));
	int err;

	if (!f)
		return -ENOMEM;
	err = sf_pktfilter_compile(expr, f, &ferr);
	free(f);
	if (err == -EINVAL) {
		if (msg)
			snprintf(msg, len, "column %d: %s", ferr.column,
				 ferr.msg);
		if (column)
			*column = ferr.column;
	}
	return err;
}

int sf_tracepkt_parse_hooks(const char *list, uint32_t *mask)
{
	char *copy = strdup(list), *tok, *save = NULL, valid[320] = "";
	int err = 0, h;

	if (!copy)
		return -ENOMEM;
	*mask = 0;
	for (tok = strtok_r(copy, ",", &save); tok && !err;
	     tok = strtok_r(NULL, ",", &save)) {
		for (h = HOOK_NONE + 1; h < HOOK_MAX; h++)
			if (!strcmp(tok, hook_defs[h].name))
				break;
		if (h < HOOK_MAX) {
			*mask |= 1U << h;
			continue;
		}
		for (h = HOOK_NONE + 1; h < HOOK_MAX; h++) {
			size_t n = strlen(valid);

			snprintf(valid + n, sizeof(valid) - n, "%s%s",
				 h > HOOK_NONE + 1 ? ", " : "",
				 hook_defs[h].name);
		}
		pr_err("unknown tracepoint '%s' in the hook list; valid: %s\n",
		       tok, valid);
		err = -EINVAL;
	}
	free(copy);
	if (!err && !(*mask & TRACEPKT_START_HOOKS)) {
		pr_err("none of the listed tracepoints can start a trace; add "
		       "one of net_dev_queue, netif_rx, napi_gro_receive_entry, "
		       "netif_receive_skb or kfree_skb\n");
		err = -EINVAL;
	}
	return err;
}

/* ---- probes ---- */

/* tp_btf needs BTF-typed tracing programs, which a lockdown or an old
 * kernel may refuse: load a two-instruction one to find out.
 */
static bool tp_btf_loads(const struct btf *vmlinux, const char *tp)
{
	static const struct bpf_insn ret0[] = {
		{ .code = 0xb7, .dst_reg = 0, .imm = 0 }, /* r0 = 0 */
		{ .code = 0x95 }, /* exit */
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts,
		    .expected_attach_type = BPF_TRACE_RAW_TP);
	char name[64];
	int id, fd;

	snprintf(name, sizeof(name), "btf_trace_%s", tp);
	id = btf__find_by_name_kind(vmlinux, name, BTF_KIND_TYPEDEF);
	if (id < 0)
		return false;
	opts.attach_btf_id = id;
	fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, "sf_tpbtf_probe", "GPL", ret0,
			   ARRAY_SIZE(ret0), &opts);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

static bool btf_has_tp(const struct btf *vmlinux, const char *tp)
{
	char name[64];

	snprintf(name, sizeof(name), "btf_trace_%s", tp);
	return btf__find_by_name_kind(vmlinux, name, BTF_KIND_TYPEDEF) >= 0;
}

static struct bpf_program *find_prog(struct tracepkt_bpf *s, int hook, bool btf)
{
	char name[96];

	if (btf)
		snprintf(name, sizeof(name), "tp_btf__%s",
			 hook_defs[hook].name);
	else
		snprintf(name, sizeof(name), "tracepoint__%s__%s",
			 hook_defs[hook].category, hook_defs[hook].name);
	return bpf_object__find_program_by_name(s->obj, name);
}

/* ---- open ---- */

void sf_tracepkt_opts_init(struct sf_tracepkt_opts *opts)
{
	*opts = (struct sf_tracepkt_opts){
		.mark_mask = UINT32_MAX, .buffer_size = SF_TRACEPKT_BUFFER_SIZE
	};
}

/* The ring buffer: a power of two of at least one page (the kernel's
 * rule); the reader is woken a quarter full, at most every
 * TRACEPKT_WAKEUP_BYTES.
 */
static int size_ring(struct sf_tracepkt *tp, uint32_t size)
{
	uint32_t wakeup;
	char why[128];
	int err;

	if (!size)
		size = SF_TRACEPKT_BUFFER_SIZE;
	err = sf_ringbuf_size_check(size, why, sizeof(why));
	if (err) {
		pr_err("%s\n", why);
		return err;
	}
	wakeup = size / 4;
	if (wakeup > TRACEPKT_WAKEUP_BYTES)
		wakeup = TRACEPKT_WAKEUP_BYTES;
	tp->skel->rodata->targ_wakeup_bytes = wakeup;
	return bpf_map__set_max_entries(tp->skel->maps.events, size);
}

static int configure(struct sf_tracepkt *tp, const struct sf_tracepkt_opts *o,
		     const struct sf_pktfilter *f)
{
	struct tracepkt_bpf__rodata *ro = tp->skel->rodata;
	char name[TRACEPKT_IFNAMSIZ] = {};

	ro->targ_filter_len = f->len;
	ro->targ_netns = o->netns;
	ro->targ_max_traces = o->max_packets;
	if (o->ifname) {
		if (!*o->ifname || strlen(o->ifname) >= sizeof(name)) {
			pr_err("invalid interface name '%s': 1 to %d "
			       "characters\n",
			       o->ifname, TRACEPKT_IFNAMSIZ - 1);
			return -EINVAL;
		}
		strncpy(name, o->ifname, sizeof(name) - 1);
		memcpy(ro->targ_ifname, name, sizeof(ro->targ_ifname));
		ro->targ_has_ifname = true;
	}
	if (o->match_mark) {
		uint32_t mask = o->mark_mask ?: UINT32_MAX;

		ro->targ_has_mark = true;
		ro->targ_mark = o->mark & mask;
		ro->targ_mark_mask = mask;
	}
	return 0;
}

/* Keep one program per hook: tp_btf where it works, else the tracepoint;
 * none where the tracepoint itself is missing.
 */
static void choose_programs(struct sf_tracepkt *tp, const struct btf *vmlinux,
			    bool use_btf, uint32_t hooks,
			    bool chosen_btf[HOOK_MAX])
{
	for (int h = HOOK_NONE + 1; h < HOOK_MAX; h++) {
		struct bpf_program *pb = find_prog(tp->skel, h, true);
		struct bpf_program *pt = find_prog(tp->skel, h, false);
		bool wanted = !hooks || (hooks & (1U << h));
		bool exists = wanted &&
			      sf_probe_tracepoint(hook_defs[h].category,
						  hook_defs[h].name);

		chosen_btf[h] = exists && use_btf && pb &&
				btf_has_tp(vmlinux, hook_defs[h].name);
		if (pb)
			bpf_program__set_autoload(pb, chosen_btf[h]);
		if (pt)
			bpf_program__set_autoload(pt, exists && !chosen_btf[h]);
		if (wanted && !exists)
			pr_warn("tracepoint %s/%s is missing on this kernel; "
				"its hops are not shown\n",
				hook_defs[h].category, hook_defs[h].name);
	}
}

static int fill_filter(struct sf_tracepkt *tp, const struct sf_pktfilter *f)
{
	int fd = bpf_map__fd(tp->skel->maps.filter_prog);

	for (__u32 i = 0; i < f->len; i++) {
		if (bpf_map_update_elem(fd, &i, &f->insns[i], BPF_ANY)) {
			int err = -errno;

			pr_err("cannot write the filter into its BPF map: %s\n",
			       strerror(-err));
			return err;
		}
	}
	return 0;
}

static int attach_all(struct sf_tracepkt *tp, const bool chosen_btf[HOOK_MAX])
{
	int n_btf = 0, n_tp = 0;

	for (int h = HOOK_NONE + 1; h < HOOK_MAX; h++) {
		struct bpf_program *p = find_prog(tp->skel, h, chosen_btf[h]);
		int err;

		if (!p || !bpf_program__autoload(p))
			continue;
		tp->links[h] = bpf_program__attach(p);
		if (!tp->links[h]) {
			err = -errno;
			pr_warn("cannot attach to %s/%s (%s): %s; its hops are "
				"not shown\n",
				hook_defs[h].category, hook_defs[h].name,
				chosen_btf[h] ? "tp_btf" : "tracepoint",
				strerror(-err));
			continue;
		}
		tp->n_hooks++;
		/* the mechanism of the hooks that have a tp_btf program */
		if (find_prog(tp->skel, h, true))
			chosen_btf[h] ? n_btf++ : n_tp++;
		pr_debug("attached %s to %s/%s\n",
			 chosen_btf[h] ? "tp_btf" : "tracepoint",
			 hook_defs[h].category, hook_defs[h].name);
	}
	snprintf(tp->mechanism, sizeof(tp->mechanism), "%s",
		 n_btf && n_tp ? "tp_btf+tracepoint" :
		 n_btf	       ? "tp_btf" :
				 "tracepoint");
	if (!tp->n_hooks) {
		pr_err("no packet tracepoint could be attached; see the "
		       "messages above\n");
		return -ENOENT;
	}
	return 0;
}

static int on_event(void *ctx, void *data, size_t size);

static int compile_filter(const char *expr, struct sf_pktfilter *f)
{
	struct sf_pktfilter_error ferr;
	int err = sf_pktfilter_compile(expr, f, &ferr);

	if (err == -EINVAL)
		pr_err("bad filter at column %d: %s\n", ferr.column, ferr.msg);
	return err;
}

static int load_vmlinux_btf(struct btf **vmlinux)
{
	int err;

	*vmlinux = btf__load_vmlinux_btf();
	if (!*vmlinux) {
		err = -errno;
		pr_err("cannot read kernel BTF (/sys/kernel/btf/vmlinux): %s; "
		       "tracepkt needs a kernel built with "
		       "CONFIG_DEBUG_INFO_BTF\n",
		       strerror(-err));
		return err;
	}
	return 0;
}

/* Drop reason names from BTF; without them, numbers */
static int load_drop_reasons(struct sf_tracepkt *tp, const struct btf *vmlinux)
{
	int err = sf_drop_reasons_load(&tp->reasons, vmlinux);

	if (err == -ENOENT) {
		pr_warn("kernel BTF has no enum skb_drop_reason; drop reasons "
			"are shown as numbers\n");
		return 0;
	}
	return err;
}

static bool tp_btf_usable(const struct btf *vmlinux)
{
	bool ok = tp_btf_loads(vmlinux, "netif_receive_skb");

	if (!ok)
		pr_info("tp_btf programs are refused here; using plain "
			"tracepoints (slower)\n");
	return ok;
}

static int open_skel(struct sf_tracepkt *tp, const struct sf_tracepkt_opts *o,
		     const struct sf_pktfilter *f)
{
	int err;

	tp->skel = tracepkt_bpf__open();
	if (!tp->skel) {
		err = -errno;
		pr_err("cannot open the tracepkt BPF object: %s\n",
		       strerror(-err));
		return err;
	}
	err = configure(tp, o, f);
	return err ? err : size_ring(tp, o->buffer_size);
}

static int load_skel(struct sf_tracepkt *tp)
{
	int err = tracepkt_bpf__load(tp->skel);

	if (err)
		pr_err("loading the tracepkt BPF programs failed: %s; run "
		       "with -vv for the verifier's log\n",
		       strerror(-err));
	return err;
}

static int open_ring(struct sf_tracepkt *tp)
{
	int err;

	tp->rb = ring_buffer__new(bpf_map__fd(tp->skel->maps.events), on_event,
				  tp, NULL);
	if (!tp->rb) {
		err = -errno;
		pr_err("cannot open the tracepkt ring buffer: %s\n",
		       strerror(-err));
		return err;
	}
	return 0;
}

struct sf_tracepkt *sf_tracepkt_open(const struct sf_tracepkt_opts *opts,
				     int *errp)
{
	struct sf_pktfilter *f = calloc(1, sizeof(*f));
	struct sf_tracepkt *tp = calloc(1, sizeof(*tp));
	bool chosen_btf[HOOK_MAX] = {}, use_btf;
	struct btf *vmlinux = NULL;
	int err;

	if (!f || !tp) {
		err = -ENOMEM;
		goto fail;
	}
	err = compile_filter(opts->filter, f);
	if (err)
		goto fail;
	err = load_vmlinux_btf(&vmlinux);
	if (err)
		goto fail;
	err = load_drop_reasons(tp, vmlinux);
	if (err)
		goto fail;
	use_btf = !opts->no_btf && tp_btf_usable(vmlinux);
	tp->ncpus = libbpf_num_possible_cpus();
	err = open_skel(tp, opts, f);
	if (err)
		goto fail;
	choose_programs(tp, vmlinux, use_btf, opts->hooks, chosen_btf);
	err = load_skel(tp);
	if (err)
		goto fail;
	err = fill_filter(tp, f);
	if (err)
		goto fail;
	err = attach_all(tp, chosen_btf);
	if (err)
		goto fail;
	err = open_ring(tp);
	if (err)
		goto fail;
	btf__free(vmlinux);
	free(f);
	return tp;
fail:
	btf__free(vmlinux);
	free(f);
	sf_tracepkt_close(tp);
	*errp = err;
	return NULL;
}

const char *sf_tracepkt_mechanism(const struct sf_tracepkt *tp)
{
	return tp->mechanism;
}

int sf_tracepkt_hook_count(const struct sf_tracepkt *tp)
{
	return tp->n_hooks;
}

/* ---- reading ---- */

static void hop_from_event(const struct sf_tracepkt *tp,
			   const struct tracepkt_event *e,
			   struct sf_tracepkt_hop *h)
{
	memset(h, 0, sizeof(*h));
	h->trace_id = e->trace_id;
	h->seq = e->seq;
	h->time_ns = e->ts_ns;
	h->delta_ns = e->delta_ns;
	h->hook = hook_name(e->hook);
	h->prev_hook = e->seq ? hook_name(e->prev_hook) : NULL;
	h->netns = e->netns;
	h->prev_netns = e->prev_netns;
	h->ifindex = e->ifindex;
	memcpy(h->ifname, e->ifname, sizeof(h->ifname) - 1);
	memcpy(h->prev_ifname, e->prev_ifname, sizeof(h->prev_ifname) - 1);
	h->len = e->len;
	h->mark = e->mark;
	h->skbaddr = e->skbaddr;
	h->cpu = e->cpu;
	h->end = e->flags & EV_END;
	h->tcp_socket = e->flags & EV_SOCK;
	h->backlog = e->flags & EV_BACKLOG;
	h->coalesced = e->flags & EV_COALESCED;
	if (h->coalesced)
		h->coalesced_into = e->peer_skb;
	switch (e->hook) {
	case HOOK_KFREE_SKB:
		h->drop_code = e->reason;
		h->drop_reason = sf_drop_reason_name(&tp->reasons, e->reason);
		break;
	case HOOK_NET_DEV_XMIT:
		h->has_rc = true;
		h->rc = e->result;
		break;
	case HOOK_FIB_TABLE_LOOKUP:
	case HOOK_FIB6_TABLE_LOOKUP:
		h->fib = true;
		h->fib_table = e->aux;
		h->fib_err = e->result;
		break;
	case HOOK_QDISC_ENQUEUE:
	case HOOK_QDISC_DEQUEUE:
		h->qdisc = true;
		h->qdisc_handle = e->aux;
		break;
	}
	if (e->flags & EV_ADDRS) {
		h->ip_version = e->family;
		h->proto = e->proto;
		h->has_l4 = e->flags & EV_L4;
		h->sport = e->sport;
		h->dport = e->dport;
		memcpy(h->saddr, e->saddr, sizeof(h->saddr));
		memcpy(h->daddr, e->daddr, sizeof(h->daddr));
	}
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct sf_tracepkt *tp = ctx;
	struct sf_tracepkt_hop h;

	if (size < sizeof(struct tracepkt_event))
		return 0;
	hop_from_event(tp, data, &h);
	return tp->cb ? tp->cb(&h, tp->cb_ctx) : 0;
}

int sf_tracepkt_poll(struct sf_tracepkt *tp, int timeout_ms, sf_tracepkt_cb cb,
		     void *ctx)
{
	int n, m;

	tp->cb = cb;
	tp->cb_ctx = ctx;
	n = ring_buffer__poll(tp->rb, timeout_ms);
	if (n == -EINTR)
		n = 0;
	if (n < 0)
		return n;
	/* the kernel side wakes us per batch: take what is left */
	m = ring_buffer__consume(tp->rb);
	if (m == -EINTR)
		m = 0;
	return m < 0 ? m : n + m;
}

/* ---- counters ---- */

static int read_stat(struct sf_tracepkt *tp, __u32 key, uint64_t *percpu)
{
	if (bpf_map_lookup_elem(bpf_map__fd(tp->skel->maps.stats), &key,
				percpu))
		return -errno;
	return 0;
}

int sf_tracepkt_get_stats(struct sf_tracepkt *tp, struct sf_tracepkt_stats *st)
{
	uint64_t sum[STAT_MAX];
	int err =
		sf_percpu_sum(bpf_map__fd(tp->skel->maps.stats), sum, STAT_MAX);

	if (err)
		return err;
	st->matched = sum[STAT_MATCHED];
	st->hops = sum[STAT_HOPS];
	st->lost = sum[STAT_LOST];
	st->track_full = sum[STAT_TRACK_FULL];
	st->over_count = sum[STAT_OVER_COUNT];
	st->stale = sum[STAT_STALE];
	st->coalesced = sum[STAT_COALESCED];
	st->tcp_full = sum[STAT_TCP_FULL];
	return 0;
}

int sf_tracepkt_lost_per_cpu(struct sf_tracepkt *tp, uint64_t *out, int max)
{
	uint64_t *v = calloc(tp->ncpus, sizeof(*v));
	int err = v ? read_stat(tp, STAT_LOST, v) : -ENOMEM;

	for (int c = 0; !err && c < tp->ncpus && c < max; c++)
		out[c] = v[c];
	free(v);
	return err ? err : tp->ncpus;
}

void sf_tracepkt_close(struct sf_tracepkt *tp)
{
	if (!tp)
		return;
	ring_buffer__free(tp->rb);
	for (int h = 0; h < HOOK_MAX; h++)
		bpf_link__destroy(tp->links[h]);
	tracepkt_bpf__destroy(tp->skel);
	sf_drop_reasons_free(&tp->reasons);
	free(tp);
}
