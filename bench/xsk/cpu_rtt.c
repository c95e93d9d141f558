// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* cpu_rtt.c: how long one cache line takes to go from CPU A to CPU B and
 * back, a helper of bench/xsk/run.sh. On this VM the figure has two
 * states that last minutes, about 80 ns and about 450 ns: the hypervisor
 * places the two vCPUs on cores that share a cache, or not. The echo
 * benchmark's generator and sink sit on the other CPU and share cache
 * lines with the echo (the socket's send-buffer count, the generator's
 * page pool), so its figures are only comparable within one state; the
 * script measures this before each round and after the last, and gives
 * each state's rounds their own ratio.
 *
 * Two threads, one on each CPU, hand a flag back and forth ROUNDS times;
 * the median of REPS such runs, in ns per round trip, goes to stdout.
 * Exit 0, 1 when a CPU cannot be used, 2 on bad usage.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "bench.h"

#define REPS 5

static struct {
	int cpu_a, cpu_b;
	long rounds;
} env = { .cpu_a = 0, .cpu_b = 1, .rounds = 200000 };

static _Alignas(64) atomic_int turn;

static int pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

/* CPU B: answers every 1 with a 0. */
static void *answer(void *arg)
{
	(void)arg;
	for (long i = 0; i < env.rounds; i++) {
		while (atomic_load_explicit(&turn, memory_order_acquire) != 1)
			;
		atomic_store_explicit(&turn, 0, memory_order_release);
	}
	return NULL;
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* One run: ns per round trip, or a negative errno. */
static double one_run(void)
{
	pthread_attr_t attr;
	pthread_t thread;
	cpu_set_t set;
	double t0, t1;
	int err;

	CPU_ZERO(&set);
	CPU_SET(env.cpu_b, &set);
	pthread_attr_init(&attr);
	pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
	err = pthread_create(&thread, &attr, answer, NULL);
	pthread_attr_destroy(&attr);
	if (err)
		return -err;
	t0 = now_ns();
	for (long i = 0; i < env.rounds; i++) {
		atomic_store_explicit(&turn, 1, memory_order_release);
		while (atomic_load_explicit(&turn, memory_order_acquire) != 0)
			;
	}
	t1 = now_ns();
	pthread_join(thread, NULL);
	return (t1 - t0) / env.rounds;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int usage(FILE *out, int rc)
{
	fprintf(out, "Usage: cpu_rtt [-a CPU] [-b CPU] [-n ROUNDS]\n"
		     "Median ns for a cache line to go from CPU A (0) to "
		     "CPU B (1) and back.\n");
	return rc;
}

static int parse(int argc, char **argv)
{
	int c;

	while ((c = bench_getopt(argc, argv, "a:b:n:h")) != -1) {
		switch (c) {
		case 'a':
			env.cpu_a = atoi(optarg);
			break;
		case 'b':
			env.cpu_b = atoi(optarg);
			break;
		case 'n':
			env.rounds = atol(optarg);
			break;
		case 'h':
			return usage(stdout, -1);
		default:
			return usage(stderr, 2);
		}
	}
	if (optind != argc || env.rounds <= 0 || env.cpu_a == env.cpu_b)
		return usage(stderr, 2);
	return 0;
}

int main(int argc, char **argv)
{
	double runs[REPS];
	int err;

	err = parse(argc, argv);
	if (err)
		return err < 0 ? 0 : err;
	err = pin(env.cpu_a);
	if (err) {
		fprintf(stderr, "cpu_rtt: cannot run on CPU %d: %s\n",
			env.cpu_a, strerror(err));
		return 1;
	}
	for (int i = 0; i < REPS; i++) {
		runs[i] = one_run();
		if (runs[i] < 0) {
			fprintf(stderr, "cpu_rtt: cannot run on CPU %d: %s\n",
				env.cpu_b, strerror((int)-runs[i]));
			return 1;
		}
	}
	qsort(runs, REPS, sizeof(runs[0]), cmp_double);
	printf("%.0f\n", runs[REPS / 2]);
	return 0;
}
