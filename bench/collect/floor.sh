#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# bench/collect/floor.sh: where the cost of `sysflow collect` per syscall
# comes from. Runs the workload of run.sh (syscall_load) paced at RATE
# syscalls/s under each variant in turn, ROUNDS times, and prints the
# median CPU time per syscall of the workload and its excess over none:
#   none     no tracing
#   exit     an empty BTF tracepoint program on sys_exit (the slow path of
#            every syscall plus one BPF run: the floor of any design that
#            sees syscall exits)
#   both     empty programs on sys_enter and sys_exit
#   tail     sys_exit tail calls on the syscall number (a variable index:
#            an indirect jump, a retpoline on most x86 machines) into an
#            empty program for the workload's syscalls
#   minimal  the issue's design at its barest, one sys_exit program: reads,
#            writes, sends and receives add to counters per (thread, fd) in
#            a hash map; an open sends an event with its path read from
#            user memory and a clock read, a close one with the fd's
#            counters (and deletes them) through a ring buffer that attach
#            drains every 10 ms; no process table, no filter, no file
#            classification, no tail calls. Whatever collect does, it does
#            at least this.
#   sysflow  sysflow collect -w DIR (flow mode, as run.sh)
#   base     the same with another build, SYSFLOW_BASE=path/to/sysflow
#            (before/after a change in one run)
# Also the in-kernel run time of the tracer's BPF programs per syscall
# (kernel.bpf_stats_enabled is set for the run, which adds two clock reads
# per program run to that figure and to the CPU time; tail calls count in
# their caller): it does not depend on what else the machine runs.
# BPF_STATS=0 leaves the statistics off, for CPU figures without their cost.
#   sudo BUILD=build bench/collect/floor.sh   [RATE=200000 SECS=5 ROUNDS=3
#             VARIANTS="none exit ..." SYSFLOW_BASE=... BPF_STATS=1]
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
RATE=${RATE:-200000}
SECS=${SECS:-5}
ROUNDS=${ROUNDS:-3}
VARIANTS=${VARIANTS:-none exit both tail sysflow}
SYSFLOW_BASE=${SYSFLOW_BASE:-}
BPF_STATS=${BPF_STATS:-1}
SYSFLOW=$PWD/$BUILD/sysflow
ATTACH=$PWD/$BUILD/bench/collect/attach
LOAD=$PWD/$BUILD/bench/collect/syscall_load
TMP=$(mktemp -d /tmp/sysflow-bench-floor.XXXXXX)
STATS0=$(sysctl -n kernel.bpf_stats_enabled)
. bench/collect/lib.sh
cleanup() {
	kill_jobs
	sysctl -qw kernel.bpf_stats_enabled="$STATS0"
	rm -rf "$TMP"
}
trap cleanup EXIT

[ "$(id -u)" -eq 0 ] || { echo "bench/collect: needs root" >&2; exit 1; }
[ -x "$SYSFLOW" ] || { echo "bench/collect: build $SYSFLOW first (make)" >&2; exit 1; }
if [ ! -x "$LOAD" ]; then
	LOAD=$TMP/syscall_load
	cc -O2 -Wall -o "$LOAD" bench/collect/syscall_load.c
fi
if [ ! -x "$ATTACH" ]; then
	ATTACH=$TMP/attach
	cc -O2 -Wall -o "$ATTACH" bench/collect/attach.c -lbpf
fi

cat >"$TMP/floor.bpf.c" <<'BPF'
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#ifdef TAIL
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 512);
	__type(key, __u32);
	__type(value, __u32);
} progs SEC(".maps");

SEC("tp_btf/sys_exit")
int target(u64 *ctx) { return 0; }
#endif
#ifndef MINIMAL
SEC("tp_btf/sys_exit")
int fl_exit(u64 *ctx)
{
#ifdef TAIL
	bpf_tail_call(ctx, &progs, (__u32)((struct pt_regs *)ctx[0])->orig_ax);
#endif
	return 0;
}
#endif
#ifdef BOTH
SEC("tp_btf/sys_enter")
int fl_enter(u64 *ctx) { return 0; }
#endif
#ifdef MINIMAL
struct fd_key {
	__u32 tid;
	__s32 fd;
};
struct fd_count {
	__u64 ops, bytes;
};
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct fd_key);
	__type(value, struct fd_count);
} counts SEC(".maps");
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
} events SEC(".maps");
struct ev_head {
	__u64 ts;
	__u32 tid;
	__s32 fd;
};
struct close_event {
	struct ev_head h;
	struct fd_count c;
};
struct open_event {
	struct ev_head h;
	char path[256];
};
__u64 lost;

/* An event of SIZE bytes in the ring buffer with its head filled in, or
 * NULL (counted) when the buffer is full.
 */
static __always_inline void *reserve(__u64 size, __u32 tid, __s32 fd)
{
	struct ev_head *h = bpf_ringbuf_reserve(&events, size, 0);

	if (!h) {
		__sync_fetch_and_add(&lost, 1);
		return NULL;
	}
	h->ts = bpf_ktime_get_boot_ns();
	h->tid = tid;
	h->fd = fd;
	return h;
}

static void count_op(__u32 tid, __s32 fd, long ret)
{
	struct fd_key k = { tid, fd };
	struct fd_count *c = bpf_map_lookup_elem(&counts, &k);

	if (!c) {
		struct fd_count zero = {};

		bpf_map_update_elem(&counts, &k, &zero, BPF_NOEXIST);
		c = bpf_map_lookup_elem(&counts, &k);
		if (!c)
			return;
	}
	__sync_fetch_and_add(&c->ops, 1);
	__sync_fetch_and_add(&c->bytes, ret);
}

static void send_open(__u32 tid, __s32 fd, const char *upath)
{
	struct open_event *e = reserve(sizeof(*e), tid, fd);

	if (!e)
		return;
	bpf_probe_read_user_str(e->path, sizeof(e->path), upath);
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
}

/* a close, connect or accept: the fd's counters so far go with it */
static void send_close(__u32 tid, __s32 fd)
{
	struct close_event *e = reserve(sizeof(*e), tid, fd);
	struct fd_key k = { tid, fd };
	struct fd_count *c;

	if (!e)
		return;
	c = bpf_map_lookup_elem(&counts, &k);
	if (c) {
		e->c = *c;
		bpf_map_delete_elem(&counts, &k);
	}
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
}

SEC("tp_btf/sys_exit")
int fl_exit(u64 *ctx)
{
	struct pt_regs *regs = (struct pt_regs *)ctx[0];
	long ret = ctx[1];
	__u32 tid = bpf_get_current_pid_tgid();

	if (ret < 0)
		return 0;
	switch (regs->orig_ax) {
	case 0: case 1: case 17: case 18: case 19: case 20:
	case 44: case 45: case 46: case 47:
		count_op(tid, regs->di, ret);
		break;
	case 257: /* openat */
		send_open(tid, ret, (const char *)regs->si);
		break;
	case 3: case 42: /* close, connect */
		send_close(tid, regs->di);
		break;
	case 43: case 288: /* accept, accept4 */
		send_close(tid, ret);
		break;
	}
	return 0;
}
#endif
char LICENSE[] SEC("license") = "GPL";
BPF
CFLAGS=(-g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_x86 -I"$PWD/$BUILD")
clang "${CFLAGS[@]}" -c "$TMP/floor.bpf.c" -o "$TMP/exit.o"
clang "${CFLAGS[@]}" -DBOTH -c "$TMP/floor.bpf.c" -o "$TMP/both.o"
clang "${CFLAGS[@]}" -DTAIL -c "$TMP/floor.bpf.c" -o "$TMP/tail.o"
clang "${CFLAGS[@]}" -DMINIMAL -c "$TMP/floor.bpf.c" -o "$TMP/minimal.o"
# the workload's syscalls: openat pread64 pwrite64 close sendto recvfrom
TAIL_NRS=(257 17 18 3 44 45)

bpf_ns() { # PID -> run_time_ns summed over the programs PID has open
	local id sum=0 ns
	while read -r id; do
		ns=$(bpftool prog show id "$id" | sed -n 's/.* run_time_ns \([0-9]*\) .*/\1/p')
		sum=$((sum + ${ns:-0}))
	done < <(sed -n 's/^prog_id:[[:space:]]*//p' /proc/"$1"/fdinfo/* 2>/dev/null | sort -u)
	echo $sum
}

run() { # VARIANT -> "variant cpu_s syscalls bpf_ns"
	local v=$1 pid='' out nrs=()
	case $v in
	none) ;;
	sysflow | base)
		rm -rf "$TMP/sf" && mkdir "$TMP/sf"
		"$([ "$v" = sysflow ] && echo "$SYSFLOW" || echo "$SYSFLOW_BASE")" collect -w "$TMP/sf/" >"$TMP/v.out" 2>"$TMP/v.err" &
		pid=$!
		wait_line "$TMP/v.err" "Tracing processes"
		;;
	*)
		[ "$v" = tail ] && nrs=("${TAIL_NRS[@]}")
		"$ATTACH" "$TMP/$v.o" "${nrs[@]}" \
			>"$TMP/v.out" 2>"$TMP/v.err" &
		pid=$!
		wait_line "$TMP/v.out" "^attached"
		;;
	esac
	ns0=0 ns1=0
	[ -n "$pid" ] && ns0=$(bpf_ns "$pid")
	out=$("$LOAD" -d "$SECS" -r "$RATE" -f "$TMP/load.dat")
	[ -n "$pid" ] && ns1=$(bpf_ns "$pid")
	if [ -n "$pid" ]; then
		stop "$pid"
	fi
	/usr/bin/python3 -c 'import json, sys; r = json.loads(sys.argv[2]); print(sys.argv[1], r["cpu_s"], r["syscalls"], sys.argv[3])' "$v" "$out" $((ns1 - ns0))
}

case " $VARIANTS " in
*" base "*) [ -x "$SYSFLOW_BASE" ] || { echo "bench/collect: variant base needs SYSFLOW_BASE" >&2; exit 1; } ;;
esac
sysctl -qw kernel.bpf_stats_enabled="$BPF_STATS"
echo "floor: $(nproc) CPUs, kernel $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg)"
for ((r = 0; r < ROUNDS; r++)); do
	for v in $VARIANTS; do
		run "$v" >>"$TMP/res"
	done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/python3 - "$RATE" "$TMP/res" <<'PY'
import statistics as st, sys
rows, bpf = {}, {}
for line in open(sys.argv[2]):
    v, cpu, n, ns = line.split()
    rows.setdefault(v, []).append(float(cpu) / int(n) * 1e6)
    bpf.setdefault(v, []).append(int(ns) / int(n))
base = st.median(rows["none"]) if "none" in rows else None
print("paced at %s syscalls/s, median of %d runs" % (sys.argv[1], len(next(iter(rows.values())))))
print("%-8s %12s %12s %9s %12s   %s" % ("variant", "cpu us/sysc", "excess us", "ratio", "bpf ns/sysc", "cpu runs | bpf runs"))
for v, xs in rows.items():
    m = st.median(xs)
    print("%-8s %12.3f %12s %9s %12.1f   %s" % (v, m,
          "%.3f" % (m - base) if base else "-", "%.3f" % (m / base) if base else "-",
          st.median(bpf[v]),
          " ".join("%.3f" % x for x in xs) + " | " +
          " ".join("%.0f" % x for x in bpf[v])))
PY
