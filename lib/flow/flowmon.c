// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* flowmon.c: load, pin, attach and detach the XDP flow monitor. The flow
 * table walk lives in flow_table.c and pcap replay in pcap_replay.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "core/core.h"
#include "flowmon_int.h"
#include "replay_int.h"

static const char *const proto_names[FPROTO_MAX] = {
	[FPROTO_ETH] = "eth",	    [FPROTO_IPV4] = "ipv4",
	[FPROTO_IPV6] = "ipv6",	    [FPROTO_TCP] = "tcp",
	[FPROTO_UDP] = "udp",	    [FPROTO_ICMP] = "icmp",
	[FPROTO_ICMPV6] = "icmpv6",
};

#define PBIT(p) (1U << FPROTO_##p)

/* Each protocol is parsed only on top of one below it (eth, then ipv4 or
 * ipv6): a list that leaves every carrier of one out counts none of it.
 */
static int check_layers(const char *list, unsigned int bits)
{
	const struct {
		unsigned int has, needs;
		const char *what;
	} rules[] = {
		{ FPROTO_ALL, PBIT(ETH),
		  "eth, which every other protocol is parsed on: nothing "
		  "would be counted" },
		{ PBIT(TCP) | PBIT(UDP), PBIT(IPV4) | PBIT(IPV6),
		  "both ipv4 and ipv6, which tcp and udp are parsed on: no "
		  "tcp or udp would be counted" },
		{ PBIT(ICMP), PBIT(IPV4),
		  "ipv4, which icmp is parsed on: no icmp would be counted" },
		{ PBIT(ICMPV6), PBIT(IPV6),
		  "ipv6, which icmpv6 is parsed on: no icmpv6 would be "
		  "counted" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(rules); i++) {
		if ((bits & rules[i].has) && !(bits & rules[i].needs)) {
			pr_err("-p %s leaves out %s\n", list, rules[i].what);
			return -EINVAL;
		}
	}
	return 0;
}

int sf_flowmon_parse_protocols(const char *list, unsigned int *bits)
{
	char *copy = strdup(list), *tok, *save = NULL;
	int err = 0;

	if (!copy)
		return -ENOMEM;
	*bits = 0;
	for (tok = strtok_r(copy, ",", &save); tok && !err;
	     tok = strtok_r(NULL, ",", &save)) {
		int i;

		if (!strcmp(tok, "ip"))
			tok = "ipv4";
		for (i = 0; i < FPROTO_MAX; i++)
			if (!strcmp(tok, proto_names[i]))
				break;
		if (i == FPROTO_MAX) {
			pr_err("unknown protocol '%s' in -p; valid: eth, ipv4 "
			       "(or ip), ipv6, tcp, udp, icmp, icmpv6\n",
			       tok);
			err = -EINVAL;
		}
		*bits |= 1U << i;
	}
	free(copy);
	if (!err && !*bits)
		err = -EINVAL;
	return err ?: check_layers(list, *bits);
}

const char *sf_flow_end_name(uint8_t reason)
{
	static const char *const names[] = {
		[SF_END_IDLE] = "idle",
		[SF_END_ACTIVE] = "active",
		[SF_END_DETECTED] = "end-of-flow",
		[SF_END_FORCED] = "forced",
		[SF_END_LACK_OF_RESOURCES] = "lack-of-resources",
	};

	if (reason < ARRAY_SIZE(names) && names[reason])
		return names[reason];
	return "none";
}

/* ---- pinning: one live instance per pin directory ---- */

static int pins_lock(struct sf_flowmon *fm, const char *dir)
{
	int err = sf_make_pin_dir(dir, "-F");

	if (err)
		return err;
	fm->lock_fd = sf_dir_lock(dir, "flowmon", "-F");
	return fm->lock_fd < 0 ? fm->lock_fd : 0;
}

/* Pins left by an instance that was killed: reuse only when asked (-M). */
static void pins_remove_stale(struct sf_flowmon *fm, const char *dir)
{
	char path[PATH_MAX];
	const char *names[] = { "flows", "stats" };

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (fm->opts.reuse_map && !strcmp(path, fm->opts.reuse_map))
			continue;
		if (unlink(path) == 0)
			pr_info("removed stale pinned map %s left by an earlier "
				"run%s\n",
				path,
				i == 0 ? " (next time, reuse "
					 "its flows with -M)" :
					 "");
	}
}

static int pin_map(struct bpf_map *map, const char *dir, const char *name,
		   char *path, size_t len)
{
	int err;

	snprintf(path, len, "%s/%s", dir, name);
	err = bpf_obj_pin(bpf_map__fd(map), path);
	if (err) {
		err = -errno;
		pr_err("cannot pin %s map at %s: %s\n", name, path,
		       strerror(-err));
		path[0] = 0;
	}
	return err;
}

/* A table reused (-M) from this directory's own pin is this instance's
 * now: unpinned at close, as one it pinned itself. A pin elsewhere is
 * left alone.
 */
static void adopt_reused_pin(struct sf_flowmon *fm, const char *dir)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/flows", dir);
	if (!strcmp(path, fm->opts.reuse_map))
		snprintf(fm->pin_flows, sizeof(fm->pin_flows), "%s", path);
}

static int pins_create(struct sf_flowmon *fm)
{
	const char *dir = fm->opts.pin_dir;
	int err = 0;

	if (!fm->opts.reuse_map)
		err = pin_map(fm->skel->maps.flows, dir, "flows", fm->pin_flows,
			      sizeof(fm->pin_flows));
	else
		adopt_reused_pin(fm, dir);
	return err   ?:
		       pin_map(fm->skel->maps.stats, dir, "stats",
			       fm->pin_stats, sizeof(fm->pin_stats));
}

/* libbpf would adopt any map and leave the verifier to refuse the
 * program: compare the pinned map's shape with the flow table's first.
 */
static int check_flow_map(const struct bpf_map *flows, int fd, const char *path)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	if (info.type == bpf_map__type(flows) &&
	    info.key_size == bpf_map__key_size(flows) &&
	    info.value_size == bpf_map__value_size(flows))
		return 0;
	pr_err("pinned map %s is not a flowmon flow table: a %s map with "
	       "%u-byte keys and %u-byte values (a flow table: %s, %u and "
	       "%u)\n",
	       path, libbpf_bpf_map_type_str(info.type), info.key_size,
	       info.value_size, libbpf_bpf_map_type_str(bpf_map__type(flows)),
	       bpf_map__key_size(flows), bpf_map__value_size(flows));
	return -EINVAL;
}

static int reuse_flow_map(struct sf_flowmon *fm)
{
	const char *path = fm->opts.reuse_map;
	int fd = bpf_obj_get(path), err;

	if (fd < 0) {
		err = -errno;
		pr_err("cannot open pinned flow map %s: %s\n", path,
		       strerror(-err));
		return err;
	}
	err = check_flow_map(fm->skel->maps.flows, fd, path);
	if (!err) {
		err = bpf_map__reuse_fd(fm->skel->maps.flows, fd);
		if (err)
			pr_err("cannot reuse pinned map %s: %s\n", path,
			       strerror(-err));
	}
	close(fd);
	return err;
}

/* ---- load ---- */

struct fm_slot {
	__u32 slot;
	struct bpf_program *prog;
};

/* The L5 inspectors (-D): each program and the jump-table slot that
 * dpi_slot() in bpf/flowmon.bpf.c picks for its ports. Fills out (room
 * for SLOT_MAX) and returns how many there are.
 */
static size_t inspectors(struct flowmon_bpf *s, struct fm_slot *out)
{
	const struct fm_slot all[] = {
		{ SLOT_DNS, s->progs.flowmon_dns },
		{ SLOT_HTTP, s->progs.flowmon_http },
		{ SLOT_TLS, s->progs.flowmon_tls },
		{ SLOT_SSH, s->progs.flowmon_ssh },
	};

	memcpy(out, all, sizeof(all));
	return ARRAY_SIZE(all);
}

static void set_autoload(struct sf_flowmon *fm)
{
	struct flowmon_bpf *s = fm->skel;
	bool single = fm->opts.pipeline == SF_PIPELINE_SINGLE;
	struct bpf_program *pipe[] = {
		s->progs.flowmon_start, s->progs.flowmon_l2,
		s->progs.flowmon_ipv4,	s->progs.flowmon_ipv6,
		s->progs.flowmon_tcp,	s->progs.flowmon_udp,
		s->progs.flowmon_icmp,	s->progs.flowmon_icmpv6,
		s->progs.flowmon_end,
	};
	struct fm_slot dpi[SLOT_MAX];
	size_t ndpi = inspectors(s, dpi);

	bpf_program__set_autoload(s->progs.xdp_flowmon, single);
	for (size_t i = 0; i < ARRAY_SIZE(pipe); i++)
		bpf_program__set_autoload(pipe[i], !single);
	for (size_t i = 0; i < ndpi; i++)
		bpf_program__set_autoload(dpi[i].prog, fm->opts.dpi);
}

static int jmp_set(struct sf_flowmon *fm, __u32 slot, struct bpf_program *p)
{
	int fd = bpf_program__fd(p);

	if (bpf_map_update_elem(bpf_map__fd(fm->skel->maps.jmp_table), &slot,
				&fd, BPF_ANY))
		return -errno;
	return 0;
}

/* Fill the jump table; a protocol left out of -p stays unreachable. */
static int jmp_fill(struct sf_flowmon *fm)
{
	struct flowmon_bpf *s = fm->skel;
	unsigned int p = fm->opts.protocols;
	int err = 0;
	struct {
		__u32 slot;
		unsigned int proto;
		struct bpf_program *prog;
	} pipe[] = {
		{ SLOT_L2, SF_PROTO_ETH, s->progs.flowmon_l2 },
		{ SLOT_IPV4, SF_PROTO_IPV4, s->progs.flowmon_ipv4 },
		{ SLOT_IPV6, SF_PROTO_IPV6, s->progs.flowmon_ipv6 },
		{ SLOT_TCP, SF_PROTO_TCP, s->progs.flowmon_tcp },
		{ SLOT_UDP, SF_PROTO_UDP, s->progs.flowmon_udp },
		{ SLOT_ICMP, SF_PROTO_ICMP, s->progs.flowmon_icmp },
		{ SLOT_ICMPV6, SF_PROTO_ICMPV6, s->progs.flowmon_icmpv6 },
		{ SLOT_END, SF_PROTO_ALL, s->progs.flowmon_end },
	};
	struct fm_slot dpi[SLOT_MAX];
	size_t ndpi = inspectors(s, dpi);

	if (fm->opts.pipeline != SF_PIPELINE_SINGLE) {
		for (size_t i = 0; i < ARRAY_SIZE(pipe) && !err; i++)
			if (p & pipe[i].proto)
				err = jmp_set(fm, pipe[i].slot, pipe[i].prog);
	}
	for (size_t i = 0; i < ndpi && fm->opts.dpi && !err; i++)
		err = jmp_set(fm, dpi[i].slot, dpi[i].prog);
	if (err)
		pr_err("cannot fill the flowmon jump table: %s\n",
		       strerror(-err));
	return err;
}

static int load(struct sf_flowmon *fm)
{
	struct flowmon_bpf *s;
	int err;

	s = fm->skel = flowmon_bpf__open();
	if (!s) {
		err = -errno;
		pr_err("cannot open the flowmon BPF object: %s\n",
		       strerror(-err));
		return err;
	}
	s->rodata->targ_state_in_meta = fm->opts.pipeline ==
					SF_PIPELINE_TAIL_META;
	s->rodata->targ_offline = fm->opts.offline;
	s->rodata->targ_dpi = fm->opts.dpi;
	s->rodata->targ_protocols = fm->opts.protocols;
	set_autoload(fm);
	err = bpf_map__set_max_entries(s->maps.flows, fm->opts.max_flows);
	if (!err && fm->opts.reuse_map)
		err = reuse_flow_map(fm);
	if (err)
		return err;
	err = flowmon_bpf__load(s);
	if (err) {
		pr_err("the kernel refused the flowmon program: %s (run with "
		       "-v -v for the verifier log)\n",
		       strerror(-err));
		return err;
	}
	fm->entry_fd = bpf_program__fd(fm->opts.pipeline == SF_PIPELINE_SINGLE ?
					       s->progs.xdp_flowmon :
					       s->progs.flowmon_start);
	return jmp_fill(fm);
}

void sf_flowmon_opts_init(struct sf_flowmon_opts *opts)
{
	*opts = (struct sf_flowmon_opts){
		.pipeline = SF_PIPELINE_SINGLE,
		.protocols = SF_PROTO_ALL,
		.max_flows = SF_FLOWMON_MAX_FLOWS,
		.idle_timeout_s = SF_FLOWMON_IDLE_TIMEOUT_S,
		.active_timeout_s = SF_FLOWMON_ACTIVE_TIMEOUT_S,
	};
}

struct sf_flowmon *sf_flowmon_open(const struct sf_flowmon_opts *opts, int *err)
{
	struct sf_flowmon *fm = calloc(1, sizeof(*fm));

	*err = -ENOMEM;
	if (!fm)
		return NULL;
	fm->opts = *opts;
	fm->lock_fd = -1;
	if (!fm->opts.protocols)
		fm->opts.protocols = SF_PROTO_ALL;
	if (!fm->opts.max_flows)
		fm->opts.max_flows = SF_FLOWMON_MAX_FLOWS;
	if (!fm->opts.idle_timeout_s)
		fm->opts.idle_timeout_s = SF_FLOWMON_IDLE_TIMEOUT_S;
	if (!fm->opts.active_timeout_s)
		fm->opts.active_timeout_s = SF_FLOWMON_ACTIVE_TIMEOUT_S;
	*err = 0;
	if (fm->opts.pin_dir) {
		*err = pins_lock(fm, fm->opts.pin_dir);
		if (!*err)
			pins_remove_stale(fm, fm->opts.pin_dir);
	}
	*err = *err ?: load(fm);
	if (!*err && fm->opts.pin_dir)
		*err = pins_create(fm);
	if (*err) {
		sf_flowmon_close(fm);
		return NULL;
	}
	return fm;
}

/* ---- attach ---- */

static bool prog_is_ours(const char *name)
{
	return !strcmp(name, "xdp_flowmon") || !strcmp(name, "flowmon_start");
}

/* An XDP program already on the interface: ours from a killed run is
 * replaced; a foreign one only with force.
 */
static int clear_existing(const char *ifname, int ifindex, bool force)
{
	char name[BPF_OBJ_NAME_LEN];
	uint8_t mode;
	uint32_t id = sf_iface_xdp_prog(ifindex, name, sizeof(name), &mode);
	int err;

	if (!id)
		return 0;
	if (!name[0])
		snprintf(name, sizeof(name), "?");
	if (!force && !prog_is_ours(name)) {
		pr_err("interface %s already has XDP program '%s' (id %u) "
		       "attached; use --force to replace it\n",
		       ifname, name, id);
		return -EBUSY;
	}
	sf_log_quiet_libbpf(true); /* EBUSY is explained below */
	err = bpf_xdp_detach(ifindex,
			     mode == XDP_ATTACHED_SKB ? XDP_FLAGS_SKB_MODE :
							XDP_FLAGS_DRV_MODE,
			     NULL);
	sf_log_quiet_libbpf(false);
	if (err == -EBUSY && prog_is_ours(name))
		pr_err("interface %s is monitored by another running sysflow "
		       "flowmon (XDP program '%s', id %u, held by its link); "
		       "stop it first\n",
		       ifname, name, id);
	else if (err)
		pr_err("cannot detach XDP program '%s' from %s: %s (is it "
		       "held by a running process?)\n",
		       name, ifname, strerror(-err));
	else
		pr_info("replaced %s XDP program '%s' (id %u) on %s\n",
			force ? "existing" : "stale", name, id, ifname);
	return err;
}

static void explain_attach_error(const char *ifname, enum sf_xdp_mode mode,
				 int err)
{
	if (err == -EOPNOTSUPP && mode == SF_XDP_NATIVE)
		pr_err("interface %s does not support native XDP; use -m skb "
		       "(generic mode)\n",
		       ifname);
	else if (err == -EBUSY || err == -EEXIST)
		pr_err("interface %s already has an XDP program attached by "
		       "another process\n",
		       ifname);
	else
		pr_err("cannot attach XDP to %s in %s mode: %s\n", ifname,
		       mode == SF_XDP_NATIVE ? "native" : "skb",
		       strerror(-err));
}

int sf_flowmon_attach(struct sf_flowmon *fm, const char *ifname,
		      enum sf_xdp_mode mode, bool force)
{
	LIBBPF_OPTS(bpf_link_create_opts, lo);
	struct fm_link *l;
	int ifindex, err, fd;

	if (fm->n_links == FM_MAX_IFACES) {
		pr_err("at most %d interfaces can be monitored\n",
		       FM_MAX_IFACES);
		return -E2BIG;
	}
	err = sf_iface_index(ifname, &ifindex) ?:
		      clear_existing(ifname, ifindex, force);
	if (err)
		return err;
	lo.flags = mode == SF_XDP_NATIVE ? XDP_FLAGS_DRV_MODE :
					   XDP_FLAGS_SKB_MODE;
	fd = bpf_link_create(fm->entry_fd, ifindex, BPF_XDP, &lo);
	if (fd < 0) {
		err = -errno;
		explain_attach_error(ifname, mode, err);
		return err;
	}
	l = &fm->links[fm->n_links++];
	l->fd = fd;
	l->ifindex = ifindex;
	snprintf(l->ifname, sizeof(l->ifname), "%s", ifname);
	pr_debug("attached flowmon to %s (ifindex %d) in %s mode\n", ifname,
		 ifindex, mode == SF_XDP_NATIVE ? "native" : "skb");
	return 0;
}

/* ---- offline ---- */

#define REPLAY_MAX_FRAME 3500 /* what BPF_PROG_TEST_RUN takes for XDP */
#define REPLAY_MIN_FRAME 14 /* it refuses frames shorter than ETH_HLEN */

/* Count a frame the kernel will not run the program on as the program
 * would have: seen, and truncated. Offline only, so no program updates
 * the counters meanwhile.
 */
static int count_runt(struct sf_flowmon *fm)
{
	int fd = bpf_map__fd(fm->skel->maps.stats);
	int ncpu = libbpf_num_possible_cpus();
	uint64_t vals[ncpu > 0 ? ncpu : 1];
	const __u32 idx[] = { STAT_PACKETS, STAT_TRUNCATED };

	if (ncpu <= 0)
		return ncpu;
	for (size_t i = 0; i < ARRAY_SIZE(idx); i++) {
		if (bpf_map_lookup_elem(fd, &idx[i], vals))
			return -errno;
		vals[0]++;
		if (bpf_map_update_elem(fd, &idx[i], vals, BPF_ANY))
			return -errno;
	}
	return 0;
}

int sf_flowmon_run_packet(struct sf_flowmon *fm, const void *frame, size_t len,
			  uint64_t ts_ns)
{
	LIBBPF_OPTS(bpf_test_run_opts, run);

	if (!fm->opts.offline)
		return -EINVAL;
	if (len > REPLAY_MAX_FRAME)
		len = REPLAY_MAX_FRAME; /* like a snap length: IP length counts */
	fm->skel->bss->offline_clock_ns = ts_ns;
	if (ts_ns > fm->offline_now_ns)
		fm->offline_now_ns = ts_ns;
	if (len < REPLAY_MIN_FRAME)
		return count_runt(fm); /* a runt must not stop a pcap replay */
	run.data_in = frame;
	run.data_size_in = len;
	run.repeat = 1;
	if (bpf_prog_test_run_opts(fm->entry_fd, &run))
		return -errno;
	return run.retval == 2 /* XDP_PASS */ ? 0 : -EPROTO;
}

/* ---- counters ---- */

int sf_flowmon_get_stats(struct sf_flowmon *fm, struct sf_flowmon_stats *st)
{
	int err;

	_Static_assert(offsetof(struct sf_flowmon_stats, flows_exported) ==
			       STAT_MAX * sizeof(uint64_t),
		       "sf_flowmon_stats must mirror enum flowmon_stat");
	memset(st, 0, sizeof(*st));
	err = sf_percpu_sum(bpf_map__fd(fm->skel->maps.stats), (uint64_t *)st,
			    STAT_MAX);
	st->flows_exported = fm->exported;
	st->flows_active = fm->active;
	return err;
}

int sf_flowmon_prog_fd(struct sf_flowmon *fm)
{
	return fm->entry_fd;
}

uint64_t sf_flowmon_packets(struct sf_flowmon *fm)
{
	uint64_t n[STAT_PACKETS + 1];

	if (sf_percpu_sum(bpf_map__fd(fm->skel->maps.stats), n,
			  STAT_PACKETS + 1))
		return 0;
	return n[STAT_PACKETS];
}

/* ---- replay control (see replay_int.h) ---- */

void sf_flowmon_set_progress(struct sf_flowmon *fm, sf_replay_progress_cb cb,
			     void *ctx)
{
	fm->progress = cb;
	fm->progress_ctx = ctx;
}

void sf_flowmon_stop(struct sf_flowmon *fm)
{
	fm->stop = 1;
}

bool fm_stop_asked(const struct sf_flowmon *fm)
{
	return fm->stop;
}

void fm_progress(struct sf_flowmon *fm, uint64_t done, uint64_t size,
		 uint64_t packets)
{
	if (fm->progress)
		fm->progress(done, size, packets, fm->progress_ctx);
}

/* ---- interfaces that went away ---- */

/* The kernel clears an XDP link's interface when it unregisters the
 * device (bpf_xdp_link_fill_link_info() reports ifindex 0).
 */
static bool link_detached(int fd)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);

	return !bpf_obj_get_info_by_fd(fd, &info, &len) && !info.xdp.ifindex;
}

int sf_flowmon_attached(struct sf_flowmon *fm)
{
	int n = 0;

	for (int i = 0; i < fm->n_links; i++) {
		struct fm_link *l = &fm->links[i];

		if (!l->gone && link_detached(l->fd)) {
			l->gone = true;
			pr_warn("interface %s (ifindex %d) went away: flowmon "
				"is no longer attached to it; the flows it saw "
				"are kept\n",
				l->ifname, l->ifindex);
		}
		n += !l->gone;
	}
	return n;
}

/* ---- close ---- */

void sf_flowmon_close(struct sf_flowmon *fm)
{
	if (!fm)
		return;
	for (int i = 0; i < fm->n_links; i++)
		close(fm->links[i].fd);
	if (fm->pin_flows[0])
		unlink(fm->pin_flows);
	if (fm->pin_stats[0])
		unlink(fm->pin_stats);
	if (fm->opts.pin_dir && fm->lock_fd >= 0) /* it made and locked it */
		sf_remove_pin_dir(fm->opts.pin_dir); /* when empty */
	flowmon_bpf__destroy(fm->skel);
	if (fm->lock_fd >= 0)
		close(fm->lock_fd);
	free(fm);
}
