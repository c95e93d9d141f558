// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* collect.bpf.c: kernel side of sysflow collect (SysFlow telemetry).
 *
 * The BTF tracepoint sys_exit tail calls a handler per syscall number
 * (exit_progs: user space fills only the slots of the syscalls the
 * collection mode needs; arguments are still in pt_regs at exit; the
 * hottest syscalls through direct jumps, see sys_exit); close is
 * seen at entry, where its fd still names a file, through the syscall
 * tracepoint sys_enter_close (not raw sys_enter: that would run on every
 * syscall); sched_process_fork, _exec and _exit give process life cycles.
 * Reads, writes, sends, receives, mmaps, shutdowns and setns are folded
 * into per-(thread, fd) counters in the tracked table and never cross the
 * ring buffer; only opens, accepts,
 * connects, closes, first use of an fd by a thread, file namespace
 * operations and process events do. Every event that cannot be written is
 * counted in the per-CPU stats; nothing is dropped silently.
 *
 * Ordering: fdinfo (per process) tells what an fd is; tracked (per thread)
 * holds its counters. A handler that misses tracked looks at fdinfo, then
 * at the file itself, and sends CEV_TOUCH so user space can name the flow.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "collect.h"

#ifndef __TARGET_ARCH_x86
#error "sysflow collect reads syscall arguments from x86_64 pt_regs"
#endif

#define AT_FDCWD -100
#define O_ACCMODE 3
#define O_RDONLY 0
#define O_RDWR 2
#define O_WRONLY 1
#define O_CREAT 0100
#define O_TRUNC 01000
#define O_DIRECTORY 0200000
#define O_CLOEXEC 02000000
#define F_DUPFD 0
#define F_DUPFD_CLOEXEC 1030
#define CLOSE_RANGE_UNSHARE (1U << 1)
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#define FMODE_WRITE 0x2
#define NR_DUP3 292 /* x86_64 */
#define MAP_ANONYMOUS 0x20
#define EINPROGRESS 115
#define NSEC_PER_SEC 1000000000ULL

/* Knobs, set through the skeleton's rodata before load. */
const volatile __u32 targ_self_tgid = 0; /* the collector itself */
const volatile bool filter_containers = false;
const volatile bool targ_file_only = true; /* no pipes, unix sockets, dirs */
const volatile bool targ_no_files = false; /* collection mode nofiles */
const volatile bool targ_consumer = false; /* collection mode consumer */
const volatile __u32 targ_read_mode = 2; /* fileReadMode */
const volatile __u64 targ_sample_ns = 0; /* keep ops in this part of each s */
const volatile __u32 targ_nbufs = 1;
const volatile __u64 targ_wakeup_bytes = 0; /* wake the reader past this */

struct ringbuf_inner {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, COLLECT_MAX_BUFS);
	__type(key, __u32);
	__array(values, struct ringbuf_inner);
} ringbufs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, COLLECT_MAX_SYSCALLS);
	__type(key, __u32);
	__type(value, __u32);
} exit_progs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct collect_fdkey);
	__type(value, struct collect_fdstat);
} tracked SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct collect_fdkey);
	__type(value, struct collect_fdinfo);
} fdinfo SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 32768);
	__type(key, __u32);
	__type(value, struct collect_task);
} tasks SEC(".maps");

/* The close-on-exec fds of a thread in execve (by tid), taken at entry:
 * exec closes them without a close syscall.
 */
struct exec_fds {
	__u64 w[COLLECT_EXEC_WORDS];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct exec_fds);
} exec_cloexec SEC(".maps");

/* Scratch space per CPU: an event is built here, then copied to a ring
 * buffer with its exact size; path holds a path while it is walked.
 */
struct heap {
	struct collect_event ev;
	char path[2 * COLLECT_STR_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct heap);
} heap SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct collect_stats);
} stats SEC(".maps");

#include "collect_task.bpf.h"
#include "collect_sock.bpf.h"

/* tp_btf/sys_exit(struct pt_regs *regs, long ret): regs is a BTF pointer,
 * so the syscall arguments saved at entry are read with plain loads.
 */
#define REGS(ctx) ((struct pt_regs *)(ctx)[0])
#define RET(ctx) ((long)(ctx)[1])
#define ARG1(r) ((r)->di)
#define ARG2(r) ((r)->si)
#define ARG3(r) ((r)->dx)
#define ARG4(r) ((r)->r10) /* the syscall ABI passes arg 4 in r10 */
#define ARG5(r) ((r)->r8)

static __always_inline struct collect_stats *stat(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&stats, &zero);
}

#define STAT_INC(f)                                 \
	do {                                        \
		struct collect_stats *__s = stat(); \
		if (__s)                            \
			__s->f++;                   \
	} while (0)

/* ---- dispatch ---- */

/* x86_64 numbers of the syscalls most programs make most often */
#define NR_read 0
#define NR_write 1
#define NR_pread64 17
#define NR_pwrite64 18
#define NR_readv 19
#define NR_writev 20
#define NR_openat 257
#define NR_sendto 44
#define NR_recvfrom 45
#define NR_sendmsg 46
#define NR_recvmsg 47

/* A tail call with a constant index is a direct jump once the JIT patched
 * it; a variable index is an indirect jump, which is a retpoline on most
 * x86 machines. So the hottest syscalls get a call site each, in asm: the
 * compiler would merge plain bpf_tail_call calls into one call site with a
 * variable index.
 */
static __always_inline void tail_const(u64 *ctx, const __u32 nr)
{
	asm volatile("r1 = %[ctx]\n"
		     "r2 = %[map] ll\n"
		     "r3 = %[nr]\n"
		     "call %[tail_call]\n"
		     :
		     : [ctx] "r"(ctx), [map] "i"(&exit_progs), [nr] "i"(nr),
		       [tail_call] "i"(BPF_FUNC_tail_call)
		     : "r0", "r1", "r2", "r3", "r4", "r5", "memory");
}

SEC("tp_btf/sys_exit")
int sys_exit(u64 *ctx)
{
	__u32 nr = REGS(ctx)->orig_ax;

	switch (nr) {
	case NR_read:
		tail_const(ctx, NR_read);
		break;
	case NR_write:
		tail_const(ctx, NR_write);
		break;
	case NR_pread64:
		tail_const(ctx, NR_pread64);
		break;
	case NR_pwrite64:
		tail_const(ctx, NR_pwrite64);
		break;
	case NR_readv:
		tail_const(ctx, NR_readv);
		break;
	case NR_writev:
		tail_const(ctx, NR_writev);
		break;
	case NR_openat:
		tail_const(ctx, NR_openat);
		break;
	case NR_sendto:
		tail_const(ctx, NR_sendto);
		break;
	case NR_recvfrom:
		tail_const(ctx, NR_recvfrom);
		break;
	case NR_sendmsg:
		tail_const(ctx, NR_sendmsg);
		break;
	case NR_recvmsg:
		tail_const(ctx, NR_recvmsg);
		break;
	default:
		bpf_tail_call(ctx, &exit_progs, nr);
	}
	return 0;
}

/* ---- filters applied before anything else ---- */

static __always_inline bool in_container(__u32 tgid)
{
	struct collect_task *t = bpf_map_lookup_elem(&tasks, &tgid);
	struct collect_task v = {};
	char cid[COLLECT_CID_LEN];

	if (t)
		return t->in_container;
	v.ctype = task_container((void *)bpf_get_current_task(), cid);
	v.in_container = v.ctype != CT_NONE;
	bpf_map_update_elem(&tasks, &tgid, &v, BPF_ANY);
	return v.in_container;
}

static __always_inline bool skip(__u64 pid_tgid)
{
	__u32 tgid = pid_tgid >> 32;

	if (tgid == targ_self_tgid)
		return true;
	STAT_INC(syscalls);
	if (filter_containers && !in_container(tgid)) {
		STAT_INC(filtered);
		return true;
	}
	return false;
}

#include "collect_events.bpf.h"

/* ---- reads, writes, sends, receives: counters only ---- */

/* Follow the peer of an unconnected UDP socket: a new peer is a new flow,
 * so user space gets the totals so far.
 */
static __always_inline void peer_check(struct collect_fdstat *s, __u64 pid_tgid,
				       int fd, struct peer *p)
{
	struct collect_event *ev;

	if (!s->udp || !p || !p->family)
		return;
	if (s->peer_family == p->family && s->peer_port == p->port &&
	    *(__u64 *)s->peer == *(__u64 *)p->addr &&
	    *(__u64 *)&s->peer[8] == *(__u64 *)&p->addr[8])
		return;
	if (s->peer_family && (ev = ev_start(CEV_PEER, pid_tgid, 0))) {
		ev->peer.fd = fd;
		ev->peer.c = s->c;
		__builtin_memcpy(ev->peer.peer, p->addr, 16);
		ev->peer.peer_port = p->port;
		ev->peer.peer_family = p->family;
		ev_submit(ev, 0);
	}
	__builtin_memcpy(s->peer, p->addr, 16);
	s->peer_port = p->port;
	s->peer_family = p->family;
}

enum op_kind { OPK_READ, OPK_WRITE, OPK_MMAP, OPK_SHUTDOWN, OPK_SETNS };

static __always_inline void add_op(struct collect_fdstat *s, long ret,
				   enum op_kind op, __u64 bytes)
{
	switch (op) {
	case OPK_READ:
		s->c.rops++;
		if (ret > 0)
			s->c.rbytes += bytes;
		break;
	case OPK_WRITE:
		s->c.wops++;
		if (ret > 0)
			s->c.wbytes += bytes;
		break;
	case OPK_MMAP:
		s->c.mmaps++;
		break;
	case OPK_SHUTDOWN:
		s->c.shutdowns++;
		break;
	case OPK_SETNS:
		s->c.setns++;
		break;
	}
	STAT_INC(aggregated);
}

/* Sampling (-s): reads and writes only in the first 1/N of each second. */
static __always_inline bool sampled_out(enum op_kind op)
{
	if (targ_sample_ns && (op == OPK_READ || op == OPK_WRITE) &&
	    bpf_ktime_get_ns() % NSEC_PER_SEC >= targ_sample_ns) {
		STAT_INC(sampled_out);
		return true;
	}
	return false;
}

static __always_inline int account(int fd, long ret, enum op_kind op,
				   struct peer *p, __u64 bytes)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct collect_fdstat *s;

	if (skip(pid_tgid) || sampled_out(op))
		return 0;
	s = fdstat_get(pid_tgid, fd, p, op);
	if (!s)
		return 0;
	peer_check(s, pid_tgid, fd, p);
	add_op(s, ret, op, bytes);
	return 0;
}

SEC("tp_btf/sys_exit")
int h_read(u64 *ctx)
{
	return account(ARG1(REGS(ctx)), RET(ctx), OPK_READ, NULL, RET(ctx));
}

SEC("tp_btf/sys_exit")
int h_write(u64 *ctx)
{
	return account(ARG1(REGS(ctx)), RET(ctx), OPK_WRITE, NULL, RET(ctx));
}

/* recvfrom(fd, buf, len, flags, src_addr, addrlen) */
SEC("tp_btf/sys_exit")
int h_recvfrom(u64 *ctx)
{
	struct pt_regs *r = REGS(ctx);
	struct peer p = {};

	if (RET(ctx) >= 0)
		read_peer((void *)ARG5(r), &p);
	return account(ARG1(r), RET(ctx), OPK_READ, &p, RET(ctx));
}

/* sendto(fd, buf, len, flags, dest_addr, addrlen) */
SEC("tp_btf/sys_exit")
int h_sendto(u64 *ctx)
{
	struct pt_regs *r = REGS(ctx);
	struct peer p = {};

	read_peer((void *)ARG5(r), &p);
	return account(ARG1(r), RET(ctx), OPK_WRITE, &p, RET(ctx));
}

static __always_inline void msg_peer(const struct user_msghdr *m,
				     struct peer *p)
{
	void *name = NULL;

	if (m && !bpf_probe_read_user(&name, sizeof(name), &m->msg_name))
		read_peer(name, p);
}

/* recvmsg/sendmsg(fd, msghdr, flags) */
SEC("tp_btf/sys_exit")
int h_recvmsg(u64 *ctx)
{
	struct pt_regs *r = REGS(ctx);
	struct peer p = {};

	if (RET(ctx) >= 0)
		msg_peer((void *)ARG2(r), &p);
	return account(ARG1(r), RET(ctx), OPK_READ, &p, RET(ctx));
}

SEC("tp_btf/sys_exit")
int h_sendmsg(u64 *ctx)
{
	struct pt_regs *r = REGS(ctx);
	struct peer p = {};

	msg_peer((void *)ARG2(r), &p);
	return account(ARG1(r), RET(ctx), OPK_WRITE, &p, RET(ctx));
}

/* recvmmsg/sendmmsg(fd, vec, vlen, flags[, timeout]): the return value is
 * a message count; the bytes are the msg_len of each message.
 */
static __always_inline __u64 mmsg_bytes(struct mmsghdr *vec, long n)
{
	__u64 sum = 0;
	__u32 len;

	for (int i = 0; i < COLLECT_MMSG_MAX; i++) {
		if (i >= n)
			break;
		if (!bpf_probe_read_user(&len, sizeof(len), &vec[i].msg_len))
			sum += len;
	}
	return sum;
}

static __always_inline int mmsg(u64 *ctx, enum op_kind op)
{
	struct pt_regs *r = REGS(ctx);
	struct mmsghdr *vec = (void *)ARG2(r);
	struct peer p = {};
	__u64 bytes = 0;

	if (RET(ctx) > 0) {
		msg_peer(&vec->msg_hdr, &p);
		bytes = mmsg_bytes(vec, RET(ctx));
	}
	return account(ARG1(r), RET(ctx), op, &p, bytes);
}

SEC("tp_btf/sys_exit")
int h_recvmmsg(u64 *ctx)
{
	return mmsg(ctx, OPK_READ);
}

SEC("tp_btf/sys_exit")
int h_sendmmsg(u64 *ctx)
{
	return mmsg(ctx, OPK_WRITE);
}

/* mmap(addr, len, prot, flags, fd, off) of a file */
SEC("tp_btf/sys_exit")
int h_mmap(u64 *ctx)
{
	struct pt_regs *r = REGS(ctx);
	long ret = RET(ctx);
	int fd = ARG5(r);

	if ((ret < 0 && ret > -4096) || fd < 0 || (ARG4(r) & MAP_ANONYMOUS))
		return 0;
	return account(fd, 0, OPK_MMAP, NULL, 0);
}

SEC("tp_btf/sys_exit")
int h_shutdown(u64 *ctx)
{
	if (RET(ctx) < 0)
		return 0;
	return account(ARG1(REGS(ctx)), 0, OPK_SHUTDOWN, NULL, 0);
}

SEC("tp_btf/sys_exit")
int h_setns(u64 *ctx)
{
	return account(ARG1(REGS(ctx)), 0, OPK_SETNS, NULL, 0);
}

/* ---- in-kernel copies: a read on one fd and a write on the other ---- */

/* sendfile, splice, copy_file_range, tee: the bytes returned are read
 * from fd_in and written to fd_out, one op on each.
 */
static __always_inline int transfer(int in, int out, long ret)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct collect_fdstat *s;

	if (skip(pid_tgid) || sampled_out(OPK_READ))
		return 0;
	s = fdstat_get(pid_tgid, in, NULL, OPK_READ);
	if (s)
		add_op(s, ret, OPK_READ, ret);
	s = fdstat_get(pid_tgid, out, NULL, OPK_WRITE);
	if (s)
		add_op(s, ret, OPK_WRITE, ret);
	return 0;
}

/* sendfile(out_fd, in_fd, offset, count) */
SEC("tp_btf/sys_exit")
int h_sendfile(u64 *ctx)
{
	struct pt_regs *r = REGS(ctx);

	return transfer(ARG2(r), ARG1(r), RET(ctx));
}

/* splice and copy_file_range(fd_in, off_in, fd_out, off_out, len, flags) */
SEC("tp_btf/sys_exit")
int h_splice(u64 *ctx)
{
	struct pt_regs *r = REGS(ctx);

	return transfer(ARG1(r), ARG3(r), RET(ctx));
}

/* tee(fd_in, fd_out, len, flags) */
SEC("tp_btf/sys_exit")
int h_tee(u64 *ctx)
{
	struct pt_regs *r = REGS(ctx);

	return transfer(ARG1(r), ARG2(r), RET(ctx));
}

/* vmsplice(fd, iov, nr_segs, flags): user memory into a pipe's write end
 * is a write, a pipe's read end into user memory a read.
 */
SEC("tp_btf/sys_exit")
int h_vmsplice(u64 *ctx)
{
	int fd = ARG1(REGS(ctx));
	struct file *f = fd_file((void *)bpf_get_current_task(), fd);
	bool wr = f && (BPF_CORE_READ(f, f_mode) & FMODE_WRITE);

	return account(fd, RET(ctx), wr ? OPK_WRITE : OPK_READ, NULL, RET(ctx));
}

#include "collect_files.bpf.h"
#include "collect_procs.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";
