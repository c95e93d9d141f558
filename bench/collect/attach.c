// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* attach.c: the loader of bench/collect/floor.sh. Loads a BPF object,
 * fills its prog array `progs` (if any) with the program `target` at each
 * syscall number given, attaches every other program, prints "attached"
 * and waits for SIGINT or SIGTERM, draining the ring buffer `events` (if
 * any) every 10 ms as a reader that is never woken would; at the end it
 * prints how many events it read.
 *
 *	attach OBJECT [SYSCALL_NR...]
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "bench.h"

static volatile sig_atomic_t done;

static void on_signal(int sig)
{
	(void)sig;
	done = 1;
}

static int fill_progs(struct bpf_object *obj, int argc, char **argv)
{
	struct bpf_map *map = bpf_object__find_map_by_name(obj, "progs");
	struct bpf_program *t = bpf_object__find_program_by_name(obj, "target");
	int fd;

	if (!map || !t)
		return 0;
	fd = bpf_program__fd(t);
	for (int i = 0; i < argc; i++) {
		__u32 key = atoi(argv[i]);

		if (bpf_map_update_elem(bpf_map__fd(map), &key, &fd, BPF_ANY))
			return -errno;
	}
	return 0;
}

static int count_event(void *ctx, void *data, size_t size)
{
	(void)data;
	(void)size;
	(*(unsigned long *)ctx)++;
	return 0;
}

/* Wait for a signal; with a ring buffer `events`, drain it meanwhile. */
static int wait_draining(struct bpf_object *obj)
{
	struct bpf_map *map = bpf_object__find_map_by_name(obj, "events");
	unsigned long n = 0;
	struct ring_buffer *rb;

	if (!map) {
		while (!done)
			pause();
		return 0;
	}
	rb = ring_buffer__new(bpf_map__fd(map), count_event, &n, NULL);
	if (!rb) {
		fprintf(stderr, "attach: cannot read events: %s\n",
			strerror(errno));
		return 1;
	}
	while (!done) {
		ring_buffer__consume(rb);
		usleep(10000);
	}
	ring_buffer__consume(rb);
	ring_buffer__free(rb);
	fprintf(stderr, "attach: %lu events read\n", n);
	return 0;
}

static const char usage[] = "usage: attach OBJECT [SYSCALL_NR...]\n";

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	struct bpf_program *p;
	int e;

	if (bench_help(argc, argv, usage))
		return 0;
	if (argc < 2) {
		fputs(usage, stderr);
		return 2;
	}
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj || bpf_object__load(obj)) {
		fprintf(stderr, "attach: cannot load %s: %s\n", argv[1],
			strerror(errno));
		return 1;
	}
	e = fill_progs(obj, argc - 2, argv + 2);
	if (e) {
		fprintf(stderr, "attach: cannot fill progs: %s\n", strerror(-e));
		return 1;
	}
	bpf_object__for_each_program(p, obj) {
		if (!strcmp(bpf_program__name(p), "target"))
			continue;
		if (!bpf_program__attach(p)) {
			fprintf(stderr, "attach: cannot attach %s: %s\n",
				bpf_program__name(p), strerror(errno));
			return 1;
		}
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	printf("attached\n");
	fflush(stdout);
	e = wait_draining(obj);
	bpf_object__close(obj);
	return e;
}
