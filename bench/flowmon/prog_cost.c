// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* prog_cost.c: ns per packet of each flowmon pipeline under
 * BPF_PROG_TEST_RUN, against a bare XDP_PASS program, for a TCP/UDP/ICMP
 * mix over 1, 1,000 and 100,000 distinct flows; beside them the floor of
 * any flow table (bpf/flow_floor.bpf.c): a hash map lookup and atomic adds
 * with no parser, and one array slot per flow.
 *
 * Method (see bench/README.md):
 *   - every packet of a round is its own frame in memory; packet j belongs
 *     to flow j % flows, so with 100,000 flows each flow is hit once per
 *     round and its table entry is cold-ish (not in cache);
 *   - one bpf_prog_test_run_opts() per frame with repeat=1. The kernel's
 *     duration leaves out the syscall and the copy of the frame, but holds
 *     one ktime_get_ns() pair, the same for every variant: compare the
 *     "+ns" column (cost over bare) as well as the ratio;
 *   - each variant and flow count starts with a fresh flow table, filled
 *     by one warm-up pass over all frames; then ROUNDS rounds in which the
 *     variants take turns (the order rotates each round), so machine
 *     noise hits all of them alike; the median round is reported;
 *   - "1 hot" runs one frame with a large repeat: the hot path, timer
 *     cost amortised.
 *
 * The pipelines are loaded through the library (sf_flowmon_open) in live
 * mode, not offline: this is the code that runs when attached (the kernel's
 * clock, key with the ingress ifindex, here test_run's loopback), run
 * through its entry program's fd with test_run's repeat and duration.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <linux/icmp.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sysflow/flowmon.h>
#include <sysflow/log.h>
#include "bench.h"
#include "flowmon.h"
#include "flow_floor.skel.h"
#include "xdp_pass.skel.h"

#define TABLE_ENTRIES 131072 /* a power of two (floor-array's mask) */
#define MIN_PACKETS 20000 /* packets per round when flows are few */
#define HOT_REPEAT 1000000
#define MAX_ROUNDS 51
#define TARGET_FLOWS 100000 /* the default pipeline ... */
#define TARGET_RATIO 2.5 /* ... costs at most this times bare there */

static const unsigned int flow_counts[] = { 1, 1000, TARGET_FLOWS };

struct frame {
	unsigned char *data;
	unsigned int len;
};

enum prog_kind { PROG_BARE, PROG_FLOWMON, PROG_FLOOR_HASH, PROG_FLOOR_ARRAY };

struct variant {
	const char *name;
	enum prog_kind kind;
	int pipeline; /* enum sf_pipeline, for PROG_FLOWMON */
	struct xdp_pass_bpf *pass;
	struct sf_flowmon *fm;
	struct flow_floor_bpf *floor;
	int fd;
	bool invalid; /* some packets took an error path */
	double ns[MAX_ROUNDS];
};

/* Rows in this order; print_target() and print_floor() use the indexes. */
enum {
	V_BARE,
	V_TAIL_META,
	V_TAIL_MAP,
	V_SINGLE,
	V_FLOOR_HASH,
	V_FLOOR_ARRAY,
	N_VARIANTS
};

static struct variant variants[N_VARIANTS] = {
	[V_BARE] = { .name = "bare", .kind = PROG_BARE },
	[V_TAIL_META] = { .name = "tail-meta",
			  .kind = PROG_FLOWMON,
			  .pipeline = SF_PIPELINE_TAIL_META },
	[V_TAIL_MAP] = { .name = "tail-map",
			 .kind = PROG_FLOWMON,
			 .pipeline = SF_PIPELINE_TAIL_MAP },
	[V_SINGLE] = { .name = "single",
		       .kind = PROG_FLOWMON,
		       .pipeline = SF_PIPELINE_SINGLE },
	[V_FLOOR_HASH] = { .name = "floor-hash", .kind = PROG_FLOOR_HASH },
	[V_FLOOR_ARRAY] = { .name = "floor-array", .kind = PROG_FLOOR_ARRAY },
};

static struct {
	int rounds;
	unsigned int max_flows; /* skip flow counts above this (quick runs) */
} env = { .rounds = 5, .max_flows = TARGET_FLOWS };

/* ---- frames: 60% TCP, 30% UDP, 10% ICMP by flow; 1 flow in 5 is IPv6 ---- */

enum flow_kind { KIND_TCP, KIND_UDP, KIND_ICMP };

static enum flow_kind flow_kind(unsigned int flow)
{
	unsigned int d = flow % 10;

	return d < 6 ? KIND_TCP : d < 9 ? KIND_UDP : KIND_ICMP;
}

/* IMIX-like 7:4:1 frame sizes for TCP and UDP; ICMP is a ping. */
static unsigned int frame_size(enum flow_kind kind, unsigned int pkt)
{
	unsigned int r = pkt % 12;

	if (kind == KIND_ICMP)
		return 98;
	return r < 7 ? 66 : r < 11 ? 594 : 1514;
}

static unsigned int put_l3(unsigned char *p, unsigned int flow, bool v6,
			   __u8 proto, unsigned int l4_len)
{
	if (v6) {
		struct ipv6hdr *h = (void *)p;

		h->version = 6;
		h->payload_len = htons(l4_len);
		h->nexthdr = proto;
		h->hop_limit = 64;
		h->saddr.s6_addr[0] = 0xfd;
		h->saddr.s6_addr32[3] = htonl(flow);
		h->daddr.s6_addr[0] = 0xfd;
		h->daddr.s6_addr[15] = 1;
		return sizeof(*h);
	}
	struct iphdr *h = (void *)p;

	h->version = 4;
	h->ihl = 5;
	h->tot_len = htons(sizeof(*h) + l4_len);
	h->id = htons(flow);
	h->ttl = 64;
	h->protocol = proto;
	h->saddr = htonl(0x0a000000 | flow); /* 10.x.y.z */
	h->daddr = htonl(0xc0000201); /* 192.0.2.1 */
	/* no checksum: nothing on the parse path checks it */
	return sizeof(*h);
}

static void put_l4(unsigned char *p, unsigned int flow, enum flow_kind kind,
		   bool v6, unsigned int l4_len)
{
	__u16 sport = htons(1024 + flow % 60000);

	if (kind == KIND_TCP) {
		struct tcphdr *t = (void *)p;

		t->source = sport;
		t->dest = htons(443);
		t->doff = 8; /* with the timestamp option's 12 bytes */
		t->ack = 1;
		t->window = htons(502);
	} else if (kind == KIND_UDP) {
		struct udphdr *u = (void *)p;

		u->source = sport;
		u->dest = htons(4789);
		u->len = htons(l4_len);
	} else {
		struct icmphdr *c = (void *)p;

		c->type = v6 ? 128 : ICMP_ECHO;
		c->un.echo.id = htons(flow);
		c->un.echo.sequence = htons(1);
	}
}

static int build_frame(struct frame *f, unsigned int flow, unsigned int pkt)
{
	static const __u8 protos[] = { IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP };
	enum flow_kind kind = flow_kind(flow);
	bool v6 = flow / 10 % 5 == 4;
	unsigned int len = frame_size(kind, pkt), l3_len, hdr;
	__u8 proto = protos[kind];
	struct ethhdr *eth;

	if (kind == KIND_ICMP && v6)
		proto = IPPROTO_ICMPV6;
	l3_len = v6 ? sizeof(struct ipv6hdr) : sizeof(struct iphdr);
	hdr = ETH_HLEN + l3_len + (kind == KIND_TCP ? 32 : 8);
	if (len < hdr)
		len = hdr;
	f->data = calloc(1, len);
	if (!f->data)
		return -ENOMEM;
	f->len = len;
	eth = (void *)f->data;
	memcpy(eth->h_dest, "\x02\0\0\0\0\x02", ETH_ALEN);
	memcpy(eth->h_source, "\x02\0\0\0\0\x01", ETH_ALEN);
	eth->h_proto = htons(v6 ? ETH_P_IPV6 : ETH_P_IP);
	put_l3(f->data + ETH_HLEN, flow, v6, proto, len - ETH_HLEN - l3_len);
	put_l4(f->data + ETH_HLEN + l3_len, flow, kind, v6,
	       len - ETH_HLEN - l3_len);
	return 0;
}

static void free_frames(struct frame *fr, unsigned int n)
{
	for (unsigned int i = 0; fr && i < n; i++)
		free(fr[i].data);
	free(fr);
}

static struct frame *build_frames(unsigned int flows, unsigned int n)
{
	struct frame *fr = calloc(n, sizeof(*fr));

	for (unsigned int j = 0; fr && j < n; j++) {
		if (build_frame(&fr[j], j % flows, j / flows)) {
			free_frames(fr, n);
			return NULL;
		}
	}
	return fr;
}

/* ---- programs ---- */

/* Load one pipeline through the library, live mode, nothing attached. */
static int fm_load(struct variant *v)
{
	struct sf_flowmon_opts opts = {
		.pipeline = v->pipeline,
		.max_flows = TABLE_ENTRIES,
	};
	int err;

	v->fm = sf_flowmon_open(&opts, &err);
	if (!v->fm)
		return err;
	v->fd = sf_flowmon_prog_fd(v->fm);
	return 0;
}

static int pass_load(struct variant *v)
{
	v->pass = xdp_pass_bpf__open_and_load();
	if (!v->pass)
		return -errno;
	v->fd = bpf_program__fd(v->pass->progs.xdp_pass);
	return 0;
}

/* One floor program, its map sized as flowmon's table; the other program
 * and its map are not created.
 */
static int floor_load(struct variant *v)
{
	bool hash = v->kind == PROG_FLOOR_HASH;
	struct flow_floor_bpf *s = flow_floor_bpf__open();
	struct bpf_program *prog, *unused;
	struct bpf_map *map, *unused_map;
	int err;

	if (!s)
		return -errno;
	v->floor = s;
	prog = hash ? s->progs.xdp_floor_hash : s->progs.xdp_floor_array;
	unused = hash ? s->progs.xdp_floor_array : s->progs.xdp_floor_hash;
	map = hash ? s->maps.floor_flows : s->maps.floor_slots;
	unused_map = hash ? s->maps.floor_slots : s->maps.floor_flows;
	s->rodata->targ_slot_mask = TABLE_ENTRIES - 1;
	err = bpf_program__set_autoload(unused, false);
	if (!err)
		err = bpf_map__set_autocreate(unused_map, false);
	if (!err)
		err = bpf_map__set_max_entries(map, TABLE_ENTRIES);
	if (!err)
		err = flow_floor_bpf__load(s);
	if (!err)
		v->fd = bpf_program__fd(prog);
	return err;
}

static int variant_load(struct variant *v)
{
	int err;

	if (v->kind == PROG_FLOWMON)
		err = fm_load(v);
	else if (v->kind == PROG_BARE)
		err = pass_load(v);
	else
		err = floor_load(v);
	if (err)
		sf_log(SF_LOG_ERROR, "cannot load the %s variant: %s\n",
		       v->name, strerror(-err));
	return err;
}

static void variant_unload(struct variant *v)
{
	sf_flowmon_close(v->fm);
	xdp_pass_bpf__destroy(v->pass);
	flow_floor_bpf__destroy(v->floor);
	v->fm = NULL;
	v->pass = NULL;
	v->floor = NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(const double *v, int n)
{
	double tmp[MAX_ROUNDS];

	memcpy(tmp, v, n * sizeof(*v));
	qsort(tmp, n, sizeof(*tmp), cmp_double);
	return tmp[n / 2];
}

/* Mean ns per packet over every frame, each run with repeat. */
static int run_frames(struct variant *v, const struct frame *fr,
		      unsigned int n, int repeat, double *ns)
{
	double total = 0;

	for (unsigned int i = 0; i < n; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = fr[i].data,
			    .data_size_in = fr[i].len, .repeat = repeat);

		if (bpf_prog_test_run_opts(v->fd, &run))
			return -errno;
		total += run.duration;
	}
	*ns = total / n;
	return 0;
}

/* Every flowmon packet must be accounted, or we measured an error path.
 * With repeat > 1 test_run keeps the xdp_buff between runs, so each
 * bpf_xdp_adjust_meta() of tail-meta grows the metadata by another 32
 * bytes until the kernel refuses it: its hot row is not measurable.
 */
static void check_flowmon(struct variant *v, const char *label)
{
	struct sf_flowmon_stats st;

	v->invalid = sf_flowmon_get_stats(v->fm, &st) ||
		     st.packets != st.accounted;
	if (v->invalid)
		sf_log(SF_LOG_WARN,
		       "%s %s: only %llu of %llu packets accounted (meta "
		       "failed %llu, table full %llu); not reported\n",
		       label, v->name, (unsigned long long)st.accounted,
		       (unsigned long long)st.packets,
		       (unsigned long long)st.meta_failed,
		       (unsigned long long)st.table_full);
}

/* Likewise every frame must reach a floor's table (keyed, not full). */
static void check_floor(struct variant *v, const char *label)
{
	__u64 missed = v->floor->bss->not_counted;

	v->invalid = missed > 0;
	if (v->invalid)
		sf_log(SF_LOG_WARN,
		       "%s %s: %llu packets not counted; "
		       "not reported\n",
		       label, v->name, (unsigned long long)missed);
}

static void check_counted(struct variant *v, const char *label)
{
	if (v->fm)
		check_flowmon(v, label);
	else if (v->floor)
		check_floor(v, label);
}

static double median_ns(int i)
{
	return median(variants[i].ns, env.rounds);
}

/* Rounds stay in variants[] after measure(). */
static void print_target(void)
{
	double ratio = median_ns(V_SINGLE) / median_ns(V_BARE);

	printf("target: single at %d flows <= %.1f x bare: %.2f, %s\n",
	       TARGET_FLOWS, TARGET_RATIO, ratio,
	       ratio <= TARGET_RATIO ? "met" : "NOT met");
}

/* How much of the target's budget (the +ns over bare that TARGET_RATIO
 * allows) each floor takes by itself.
 */
static void print_floor(void)
{
	double base = median_ns(V_BARE), budget = (TARGET_RATIO - 1) * base;

	for (int i = V_FLOOR_HASH; i <= V_FLOOR_ARRAY; i++) {
		double extra = median_ns(i) - base;

		if (variants[i].invalid)
			continue;
		printf("floor: %s at %d flows %.2f x bare, %+.1f ns = %.0f%% "
		       "of the %.1f x budget (%+.1f ns)\n",
		       variants[i].name, TARGET_FLOWS, median_ns(i) / base,
		       extra, 100 * extra / budget, TARGET_RATIO, budget);
	}
}

static void print_rows(const char *label)
{
	double base = median_ns(V_BARE), m;

	for (int i = 0; i < N_VARIANTS; i++) {
		m = median_ns(i);
		if (variants[i].invalid) {
			printf("%-8s %-11s %8s\n", label, variants[i].name,
			       "n/a");
			continue;
		}
		printf("%-8s %-11s %8.1f %7.2f %+8.1f\n", label,
		       variants[i].name, m, m / base, m - base);
	}
	fflush(stdout);
}

/* Warm-up pass, then interleaved rounds over all frames. */
static int measure(const struct frame *fr, unsigned int n, int repeat,
		   const char *label)
{
	struct variant *v;
	double ns;
	int err = 0;

	for (int i = 0; i < N_VARIANTS && !err; i++)
		err = variant_load(&variants[i]) ?:
			      run_frames(&variants[i], fr, n, 1, &ns);
	for (int r = 0; r < env.rounds && !err; r++) {
		for (int k = 0; k < N_VARIANTS && !err; k++) {
			v = &variants[(r + k) % N_VARIANTS];
			err = run_frames(v, fr, n, repeat, &v->ns[r]);
		}
	}
	if (err)
		sf_log(SF_LOG_ERROR, "test run failed: %s\n", strerror(-err));
	for (int i = 0; i < N_VARIANTS; i++) {
		if (!err)
			check_counted(&variants[i], label);
		variant_unload(&variants[i]);
	}
	if (!err)
		print_rows(label);
	return err;
}

static int bench_flows(unsigned int flows)
{
	unsigned int n = flows < MIN_PACKETS ? MIN_PACKETS : flows;
	struct frame *fr = build_frames(flows, n);
	char label[16];
	int err;

	if (!fr)
		return -ENOMEM;
	snprintf(label, sizeof(label), "%u", flows);
	err = measure(fr, n, 1, label);
	if (!err && flows == TARGET_FLOWS) {
		print_target();
		print_floor();
	}
	if (!err && flows == 1)
		err = measure(fr, 1, HOT_REPEAT, "1 hot");
	free_frames(fr, n);
	return err;
}

/* ---- main ---- */

static void usage(FILE *out, const char *prog)
{
	fprintf(out,
		"usage: %s [-r ROUNDS] [-n MAX_FLOWS]\n"
		"  -r  measured rounds per flow count, 1..%d (default 5)\n"
		"  -n  skip flow counts above N (default 100000)\n"
		"  -h, --help  this help\n",
		prog, MAX_ROUNDS);
}

/* 0 to run, -1 after --help, 64 on bad usage. */
static int parse_args(int argc, char **argv)
{
	int c, bad = 0;

	while ((c = bench_getopt(argc, argv, "r:n:h")) != -1) {
		switch (c) {
		case 'r':
			env.rounds = atoi(optarg);
			break;
		case 'n':
			env.max_flows = strtoul(optarg, NULL, 10);
			break;
		case 'h':
			usage(stdout, argv[0]);
			return -1;
		default:
			bad = 1;
		}
	}
	if (bad || optind < argc || env.rounds < 1 || env.rounds > MAX_ROUNDS) {
		usage(stderr, argv[0]);
		return 64;
	}
	return 0;
}

/* One CPU for the whole run: the last one, away from CPU 0's IRQs. */
static int pin_cpu(void)
{
	int cpu = sysconf(_SC_NPROCESSORS_ONLN) - 1;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		sf_log(SF_LOG_WARN, "cannot pin to CPU %d: %s\n", cpu,
		       strerror(errno));
	return cpu;
}

int main(int argc, char **argv)
{
	int err = parse_args(argc, argv);

	if (err)
		return err < 0 ? 0 : err;
	sf_log_init();
	printf("flowmon prog_cost: BPF_PROG_TEST_RUN, ns/packet, median of %d "
	       "rounds, CPU %d\n",
	       env.rounds, pin_cpu());
	printf("mix 60%% TCP, 30%% UDP, 10%% ICMP (flows), 20%% IPv6, "
	       "frames 66-1514 B; table %d\n",
	       TABLE_ENTRIES);
	printf("%-8s %-11s %8s %7s %8s\n", "flows", "variant", "ns/pkt",
	       "x bare", "+ns");
	for (size_t i = 0;
	     i < sizeof(flow_counts) / sizeof(flow_counts[0]) && !err; i++) {
		if (flow_counts[i] <= env.max_flows)
			err = bench_flows(flow_counts[i]);
	}
	return err ? 1 : 0;
}
