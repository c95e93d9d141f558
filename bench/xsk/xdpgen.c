// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* xdpgen.c: the load generator and echo counter of bench/xsk/run.sh.
 *
 * Sending: one 60-byte UDP frame to port 7 (real checksums), again and
 * again, with BPF_PROG_TEST_RUN in live-frames mode: a two-instruction XDP
 * program returns XDP_TX, so every frame leaves through IFACE (a veth) as
 * an xdp_frame, with no socket or skb on this side. One thread does many
 * times what the echo can take, so the echo is the bottleneck.
 *
 * Each BPF_PROG_TEST_RUN with a repeat count puts the program into the
 * kernel's XDP dispatcher and takes it out again, and each change waits
 * for an RCU grace period: measured here, the sender spent about nine
 * tenths of its time in synchronize_rcu() and sent in bursts, 8192 frames
 * at several Mpps and then nothing for about 20 ms; no echo can take a
 * burst beyond the veth's ring of 256 frames, and then idles. The program
 * is therefore also attached (generic mode, bpf_link) to this namespace's
 * loopback, which carries no traffic: the dispatcher keeps it, and the
 * frames flow without pauses.
 *
 * Counting: veth counts every echo that reaches IFACE in rx_packets, read
 * here before and after the window that follows the warm-up. How IFACE
 * receives them (RPS, its own NAPI) is run.sh's choice (SINK); they carry
 * a destination MAC that is not IFACE's, so the stack drops them.
 *
 * With -p PID,..., the CPU time those threads used in the window (user
 * plus system; softirq work done in their context is charged to them here,
 * without IRQ time accounting) gives echoes per CPU-second, a figure that
 * discounts the time other load took from them.
 *
 * Prints "xdpgen: sending" on stderr when ready, and on stdout:
 *   offered N echoed M in S s: R pps echoed[, C CPU-s: E per CPU-s]
 * Exit 0, 1 on a runtime failure, 2 on bad usage, 249 when run alone by
 * bench/run (it is a helper, driven by run.sh).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <bpf/bpf.h>
#include "bench.h"
#include "xsk/echo.h"

#define FRAME_LEN 60
#define REPEAT 8192 /* frames per BPF_PROG_TEST_RUN call */
#define BATCH 64

static struct {
	const char *ifname;
	uint8_t dst_mac[6];
	struct in_addr src, dst;
	double secs;
	double warmup;
	int pids[8]; /* threads whose CPU time the window measures */
	int npids;
} env = { .secs = 3, .warmup = 0.5 };

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void put16(uint8_t *b, uint16_t v)
{
	b[0] = v >> 8;
	b[1] = v;
}

static void build(uint8_t *f, const uint8_t *src_mac)
{
	uint8_t *ip = f + 14, *udp = ip + 20;
	uint16_t csum;
	uint32_t sum;

	memset(f, 0, FRAME_LEN);
	memcpy(f, env.dst_mac, 6);
	memcpy(f + 6, src_mac, 6);
	put16(f + 12, 0x0800);
	ip[0] = 0x45;
	put16(ip + 2, FRAME_LEN - 14);
	ip[8] = 64;
	ip[9] = 17;
	memcpy(ip + 12, &env.src, 4);
	memcpy(ip + 16, &env.dst, 4);
	csum = sf_csum_fold(sf_csum_partial(ip, 20, 0));
	memcpy(ip + 10, &csum, 2);
	put16(udp, 10000);
	put16(udp + 2, 7);
	put16(udp + 4, FRAME_LEN - 34);
	memcpy(udp + 8, "sysflow xsk bench.", FRAME_LEN - 42);
	sum = sf_csum_partial(ip + 12, 8, 0);
	sum = sf_csum_partial(&(uint16_t){ htons(17) }, 2, sum);
	sum = sf_csum_partial(&(uint16_t){ htons(FRAME_LEN - 34) }, 2, sum);
	csum = sf_csum_fold(sf_csum_partial(udp, FRAME_LEN - 34, sum));
	memcpy(udp + 6, &csum, 2);
}

/* CPU time (user + system, softirq work done in their context included)
 * of the -p threads, in seconds.
 */
static double cpu_s(void)
{
	unsigned long long ut, st, sum = 0;
	char path[64], buf[1024], *p;
	FILE *f;

	for (int i = 0; i < env.npids; i++) {
		snprintf(path, sizeof(path), "/proc/%d/stat", env.pids[i]);
		f = fopen(path, "r");
		if (!f)
			continue;
		p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
		fclose(f);
		/* after "pid (comm)": state is field 3, utime 14, stime 15 */
		if (p && sscanf(p + 2,
				"%*c %*d %*d %*d %*d %*d %*u %*u %*u "
				"%*u %*u %llu %llu",
				&ut, &st) == 2)
			sum += ut + st;
	}
	return (double)sum / sysconf(_SC_CLK_TCK);
}

/* r0 = action; exit */
static int load_action(int action)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K,
		  .dst_reg = 0,
		  .imm = action },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "xdpgen", "GPL", insns, 2,
			       NULL);

	if (fd < 0)
		fprintf(stderr, "xdpgen: cannot load an XDP program: %s\n",
			strerror(errno));
	return fd;
}

/* Attach prog to the loopback (generic mode): see the top of the file.
 * Returns the link, or -1 with a warning: the sender then pauses.
 */
static int hold_in_dispatcher(int prog)
{
	LIBBPF_OPTS(bpf_link_create_opts, lo, .flags = XDP_FLAGS_SKB_MODE);
	int link = bpf_link_create(prog, if_nametoindex("lo"), BPF_XDP, &lo);

	if (link < 0)
		fprintf(stderr,
			"xdpgen: warning: cannot attach to lo (%s): every "
			"run waits for RCU, the load comes in bursts\n",
			strerror(errno));
	return link;
}

/* The interface's MAC and its rx_packets (32 bits, differences wrap). */
static int iface_info(uint8_t *mac, uint32_t *rx)
{
	struct ifaddrs *ifa, *i;
	int found = -1;

	if (getifaddrs(&ifa))
		return -1;
	for (i = ifa; i; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_PACKET ||
		    strcmp(i->ifa_name, env.ifname) || !i->ifa_data)
			continue;
		if (mac)
			memcpy(mac,
			       ((struct sockaddr_ll *)i->ifa_addr)->sll_addr,
			       6);
		*rx = ((struct rtnl_link_stats *)i->ifa_data)->rx_packets;
		found = 0;
	}
	freeifaddrs(ifa);
	return found;
}

static int usage(FILE *out, int rc)
{
	fprintf(out,
		"Usage: xdpgen -i IFACE -d DST_MAC -s SRC_IP -D DST_IP "
		"[-t SECS] [-w WARMUP]\n              [-p PID,...]\n"
		"A helper of bench/xsk/run.sh: UDP to port 7 in XDP live-frames "
		"mode, echoes counted.\n");
	return rc;
}

static int parse(int argc, char **argv)
{
	unsigned int m[6];
	int c;

	char *tok, *save = NULL;

	while ((c = bench_getopt(argc, argv, "i:d:s:D:t:w:p:h")) != -1) {
		switch (c) {
		case 'i':
			env.ifname = optarg;
			break;
		case 'd':
			if (sscanf(optarg, "%x:%x:%x:%x:%x:%x", &m[0], &m[1],
				   &m[2], &m[3], &m[4], &m[5]) != 6)
				return usage(stderr, 2);
			for (int i = 0; i < 6; i++)
				env.dst_mac[i] = m[i];
			break;
		case 's':
		case 'D':
			if (inet_pton(AF_INET, optarg,
				      c == 's' ? &env.src : &env.dst) != 1)
				return usage(stderr, 2);
			break;
		case 't':
			env.secs = atof(optarg);
			break;
		case 'w':
			env.warmup = atof(optarg);
			break;
		case 'p':
			for (tok = strtok_r(optarg, ",", &save);
			     tok && env.npids < 8;
			     tok = strtok_r(NULL, ",", &save))
				env.pids[env.npids++] = atoi(tok);
			break;
		case 'h':
			return usage(stdout, -1);
		default:
			return usage(stderr, 2);
		}
	}
	if (!env.ifname || !env.src.s_addr || !env.dst.s_addr || env.secs <= 0)
		return usage(stderr, 2);
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	uint8_t frame[FRAME_LEN], mac[6];
	struct xdp_md ctx = { .data_end = FRAME_LEN };
	uint64_t offered = 0, offered0 = 0;
	uint32_t rx0 = 0, rx1 = 0;
	double cpu0 = 0, cpu1 = 0;
	double t_start, t_end, t;
	int tx_fd, hold, ifindex, err;
	bool counting = false;

	if (argc == 1)
		return usage(stderr, 249); /* run alone by bench/run */
	err = parse(argc, argv);
	if (err)
		return err < 0 ? 0 : err;
	ifindex = if_nametoindex(env.ifname);
	if (!ifindex || iface_info(mac, &rx0)) {
		fprintf(stderr, "xdpgen: unknown interface %s\n", env.ifname);
		return 1;
	}
	/* Echoes go back to this source MAC: not ours, so the stack here
	 * drops them on arrival (PACKET_OTHERHOST) and the echo's CPU, which
	 * pays for this side's receive on a veth, does little for them.
	 */
	mac[5] ^= 0xff;
	build(frame, mac);
	ctx.ingress_ifindex = ifindex;
	tx_fd = load_action(XDP_TX);
	if (tx_fd < 0)
		return 1;
	hold = hold_in_dispatcher(tx_fd);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	fprintf(stderr, "xdpgen: sending on %s\n", env.ifname);
	t = now_s();
	t_start = t + env.warmup;
	t_end = t_start + env.secs;
	while (!stop) {
		LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = frame,
			    .data_size_in = FRAME_LEN, .ctx_in = &ctx,
			    .ctx_size_in = sizeof(ctx), .repeat = REPEAT,
			    .flags = BPF_F_TEST_XDP_LIVE_FRAMES,
			    .batch_size = BATCH);

		if (bpf_prog_test_run_opts(tx_fd, &run)) {
			fprintf(stderr, "xdpgen: live frames: %s\n",
				strerror(errno));
			break;
		}
		offered += REPEAT;
		t = now_s();
		if (!counting && t >= t_start) {
			counting = true;
			iface_info(NULL, &rx0);
			cpu0 = cpu_s();
			offered0 = offered;
			t_start = t;
		} else if (counting && t >= t_end) {
			iface_info(NULL, &rx1);
			cpu1 = cpu_s();
			break;
		}
	}
	if (hold >= 0)
		close(hold);
	if (!counting || rx1 == 0)
		return 1;
	printf("offered %llu echoed %u in %.3f s: %.0f pps echoed",
	       (unsigned long long)(offered - offered0), rx1 - rx0, t - t_start,
	       (rx1 - rx0) / (t - t_start));
	if (env.npids && cpu1 > cpu0)
		printf(", %.3f CPU-s: %.0f per CPU-s", cpu1 - cpu0,
		       (rx1 - rx0) / (cpu1 - cpu0));
	printf("\n");
	return 0;
}
