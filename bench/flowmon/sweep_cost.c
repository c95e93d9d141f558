// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* sweep_cost.c: what one read of the whole flow table costs the flow
 * manager (every sweep, flush and snapshot starts with one), one key at a
 * time (bpf_map_get_next_key + a lookup per flow, the way before
 * 2026-11-23 and the fallback) against batches (bpf_map_lookup_batch,
 * FM_READ_BATCH flows a syscall), both with BPF_F_LOCK.
 *
 * The table is filled through the library in offline mode, one UDP flow
 * per frame run through the real program; then ROUNDS rounds in which the
 * two ways take turns (the order alternates), each read timed with
 * CLOCK_MONOTONIC; medians per table size and their ratio are printed.
 *
 *	sweep_cost [-r ROUNDS]
 * Both ways must find every flow: a count that differs fails the run.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sysflow/flowmon.h>
#include <sysflow/log.h>
#include "bench.h"
#include "core/core.h"
#include "flow/flowmon_int.h"
#include "pkt.h"

#define MAX_ROUNDS 51

static const unsigned int flow_counts[] = { 10000, 60000, 240000 };

static int fill(struct sf_flowmon *fm, unsigned int flows)
{
	struct pkt_ip4 ip = PKT_IP4;
	struct pkt p;
	int err;

	for (unsigned int i = 0; i < flows; i++) {
		pkt_init(&p);
		pkt_eth(&p, PKT_ETH_IP);
		ip.saddr[1] = i >> 16;
		ip.saddr[2] = i >> 8;
		ip.saddr[3] = i;
		pkt_ipv4(&p, &ip);
		pkt_udp(&p, 1024 + i % 50000, 53);
		pkt_finish(&p);
		err = sf_flowmon_run_packet(fm, p.b, p.len,
					    1700000000000000000ULL + i);
		if (err)
			return err;
	}
	return 0;
}

/* ms for one read of the table; the number of flows read in *n. */
static double read_ms(struct sf_flowmon *fm, bool by_keys, size_t *n)
{
	uint64_t t0 = sf_clock_ns(CLOCK_MONOTONIC);
	struct fm_entry *v;

	if (fm_table_read(fm, by_keys, &v, n))
		return -1;
	free(v);
	return (sf_clock_ns(CLOCK_MONOTONIC) - t0) / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return v[n / 2];
}

static uint32_t table_size(unsigned int flows)
{
	uint32_t size = 1024;

	while (size < flows + flows / 8)
		size *= 2;
	return size;
}

static int run_size(unsigned int flows, int rounds)
{
	struct sf_flowmon_opts o = { .offline = true };
	double keys[MAX_ROUNDS], batch[MAX_ROUNDS];
	struct sf_flowmon *fm;
	size_t nk, nb;
	int err;

	o.max_flows = table_size(flows);
	fm = sf_flowmon_open(&o, &err);
	if (!fm)
		return err;
	err = fill(fm, flows);
	for (int r = 0; r < rounds && !err; r++) {
		/* the order alternates: neither way always reads a warm table */
		if (r % 2 == 0) {
			keys[r] = read_ms(fm, true, &nk);
			batch[r] = read_ms(fm, false, &nb);
		} else {
			batch[r] = read_ms(fm, false, &nb);
			keys[r] = read_ms(fm, true, &nk);
		}
		if (keys[r] < 0 || batch[r] < 0) {
			err = -EIO;
		} else if (nk != flows || nb != flows) {
			fprintf(stderr,
				"%zu flows read one key at a time, %zu in "
				"batches, %u in the table\n",
				nk, nb, flows);
			err = -EIO;
		}
	}
	if (!err) {
		double k = median(keys, rounds), b = median(batch, rounds);

		printf("%8u %10u %12.2f %12.2f %10.1f %10.1f %8.2f\n", flows,
		       o.max_flows, k, b, k * 1e6 / flows, b * 1e6 / flows,
		       k / b);
	}
	sf_flowmon_close(fm);
	return err;
}

static void usage(FILE *out, const char *prog)
{
	fprintf(out,
		"usage: %s [-r ROUNDS]\n"
		"  -r  rounds per table size, 1..%d (default 5)\n"
		"  -h, --help  this help\n",
		prog, MAX_ROUNDS);
}

int main(int argc, char **argv)
{
	int rounds = 5, c, bad = 0;

	while ((c = bench_getopt(argc, argv, "r:h")) != -1) {
		switch (c) {
		case 'r':
			rounds = atoi(optarg);
			break;
		case 'h':
			usage(stdout, argv[0]);
			return 0;
		default:
			bad = 1;
		}
	}
	if (bad || optind < argc || rounds < 1 || rounds > MAX_ROUNDS) {
		usage(stderr, argv[0]);
		return 2;
	}
	sf_log_set_level(SF_LOG_WARN);
	printf("flow table read: one key at a time against batches of %d, "
	       "median of %d rounds\n",
	       FM_READ_BATCH, rounds);
	printf("%8s %10s %12s %12s %10s %10s %8s\n", "flows", "table",
	       "keys ms", "batch ms", "keys ns/f", "batch ns/f", "ratio");
	for (size_t i = 0; i < sizeof(flow_counts) / sizeof(*flow_counts); i++)
		if (run_size(flow_counts[i], rounds)) {
			fprintf(stderr, "sweep_cost: %u flows failed\n",
				flow_counts[i]);
			return 1;
		}
	return 0;
}
