// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* guard.bpf.c: in-kernel enforcement of the agent's socket rules. cgroup
 * hooks (connect, bind, UDP sendmsg, socket create) build a key from the
 * calling process and the address, look it up in a tuple-space table (one
 * hash lookup per mask in use, highest priority wins), count the hit,
 * apply DENY/ENCODE and queue KILL; cgroup_skb programs drop the packets
 * of sockets an isolated process already had (by socket cookie, in both
 * directions, accepted sockets and UDP receive included); tracepoints
 * label processes by executable at exec (so names match processes as
 * they start) and deliver queued signals with bpf_send_signal on the way
 * out of the syscall. Every map is pinned by the agent, so rules keep
 * working while it restarts.
 * BPF LSM would hook the same operations, but lockdown refuses it here.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "guard.h"

#define STATS_MAX GS_MAX
#include "stats.bpf.h"

#define AF_INET 2
#define AF_INET6 10
#define SOL_IP 0
#define SOL_IPV6 41
#define IP_TOS 1
#define IPV6_TCLASS 67

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GUARD_MAX_ENTRIES);
	__type(key, struct guard_key);
	__type(value, struct guard_value);
} rules SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, GUARD_MAX_MASKS);
	__type(key, __u32);
	__type(value, struct guard_mask);
} masks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, GUARD_MAX_SLOTS);
	__type(key, __u32);
	__type(value, struct guard_counter);
} counters SEC(".maps");

/* mmap()ed by the agent, which updates kill_pending atomically too */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct guard_config);
} guard_cfg SEC(".maps");

/* Open flags of each thread's last open/openat/openat2/creat/exec: a
 * fanotify permission event carries no access mode, so the agent reads it
 * here (by process id, as fanotify reports it) to tell file_read from
 * file_write. Two threads of one process opening at the same instant may
 * see each other's flags: the price of not reading /proc per event.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, __u32);
} open_flags SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GUARD_MAX_EXES);
	__type(key, struct guard_path);
	__type(value, __u32);
} exe_ids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GUARD_MAX_PROCS);
	__type(key, __u32);
	__type(value, struct guard_proc);
} procs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u32);
} pending_kill SEC(".maps");

/* socket cookie -> why: filled by the agent from the isolated process's
 * file table (pidfd_getfd, SO_COOKIE); cookies are never reused
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GUARD_MAX_ISO_SOCKS);
	__type(key, __u64);
	__type(value, struct guard_iso_sock);
} iso_socks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

/* Scratch space: keys and paths are too big for the 512-byte stack. */
struct scratch {
	struct guard_key key;
	struct guard_key masked;
	char buf[GUARD_PATH_MAX * 2];
	struct guard_path path;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch SEC(".maps");

static __always_inline struct guard_config *get_config(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&guard_cfg, &zero);
}

/* ---- the lookup ---- */

struct verdict {
	struct guard_value val;
	bool hit;
};

/* Tuple-space search: for each mask used by this op, AND the key with the
 * mask and look it up; the highest priority among the hits wins, ties go
 * to the lower slot (the older rule).
 */
static __always_inline void classify(struct scratch *s, struct verdict *v,
				     __u32 n_masks)
{
	__u64 *k = (__u64 *)&s->key, *o = (__u64 *)&s->masked;
	__u64 opbit = 1ULL << (s->key.op & 63);

	v->hit = false;
	for (__u32 i = 0; i < GUARD_MAX_MASKS && i < n_masks; i++) {
		struct guard_mask *m;
		struct guard_value *r;
		__u64 *mb;
		__u32 idx = i;

		m = bpf_map_lookup_elem(&masks, &idx);
		if (!m || !(m->ops & opbit))
			continue;
		mb = (__u64 *)&m->bits;
		for (int w = 0; w < GUARD_KEY_WORDS; w++)
			o[w] = k[w] & mb[w];
		s->masked.mask_id = i;
		r = bpf_map_lookup_elem(&rules, &s->masked);
		if (!r)
			continue;
		if (!v->hit || r->priority > v->val.priority ||
		    (r->priority == v->val.priority && r->slot < v->val.slot)) {
			v->val = *r;
			v->hit = true;
		}
	}
}

static __always_inline void count_hit(__u32 slot)
{
	struct guard_counter *c = bpf_map_lookup_elem(&counters, &slot);

	if (c) {
		c->hits++;
		c->last_ns = bpf_ktime_get_ns();
	}
}

static __always_inline void send_event(struct guard_key *key, __u32 slot,
				       __u16 flags, __u8 verdict)
{
	struct guard_event *e;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		stat_inc(GS_RINGBUF_DROPS);
		return;
	}
	e->ts_ns = bpf_ktime_get_ns();
	e->pid = key->pid;
	e->uid = key->uid;
	e->slot = slot;
	e->flags = flags;
	e->op = key->op;
	e->verdict = verdict;
	e->proto = key->proto;
	e->family = key->family;
	e->port = key->port;
	__builtin_memcpy(e->addr, key->addr, sizeof(e->addr));
	__builtin_memcpy(e->comm, key->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
}

/* Queue a signal for the current process; the exit tracepoint of the
 * syscall sends it (cgroup programs may not call bpf_send_signal).
 */
static __always_inline void queue_kill(struct guard_config *cfg, __u32 pid,
				       __u32 sig)
{
	if (bpf_map_update_elem(&pending_kill, &pid, &sig, BPF_ANY) == 0)
		__sync_fetch_and_add(&cfg->kill_pending, 1);
}

/* Fill the subject part of the key from the current task; fields no
 * mask compares are left zero (they would be masked away anyway).
 */
static __always_inline void fill_subject(struct guard_key *k, __u8 op)
{
	struct guard_config *cfg = get_config();
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u8 need = cfg ? cfg->need : 0xff;
	struct guard_proc *p;
	__u32 tgid = pid_tgid >> 32;

	__builtin_memset(k, 0, sizeof(*k));
	k->op = op;
	k->pid = tgid;
	k->uid = (__u32)bpf_get_current_uid_gid();
	if (need & GUARD_NEED_CGROUP)
		k->cgroup_id = bpf_get_current_cgroup_id();
	if (need & GUARD_NEED_COMM)
		bpf_get_current_comm(k->comm, sizeof(k->comm));
	if (need & GUARD_NEED_PROCS) {
		p = bpf_map_lookup_elem(&procs, &tgid);
		if (p) {
			k->exe_id = p->exe_id;
			k->pexe_id = p->pexe_id;
		}
	}
}

/* Decide for the key in scratch: 1 allow, 0 deny. *dscp is set when the
 * winning rule has ENCODE.
 */
static __always_inline int decide(struct scratch *s, int *dscp)
{
	struct guard_config *cfg = get_config();
	struct verdict v;
	__u16 ev;
	int allow;

	stat_inc(GS_EVENTS);
	if (!cfg)
		return 1;
	classify(s, &v, cfg->n_masks);
	if (!v.hit) {
		stat_inc(GS_MISSES);
		if (cfg->miss_socket == GUARD_MISS_ASK)
			send_event(&s->key, ~0U, GE_MISS, 1);
		if (cfg->miss_socket == GUARD_MISS_DENY) {
			stat_inc(GS_DENIED);
			return 0;
		}
		return 1;
	}
	stat_inc(GS_MATCHED);
	count_hit(v.val.slot);
	allow = !(v.val.flags & (GF_DENY | GF_ISOLATE));
	if (!allow)
		stat_inc(GS_DENIED);
	if (v.val.flags & GF_KILL)
		queue_kill(cfg, s->key.pid, v.val.signal ?: 9);
	if (v.val.flags & GF_ENCODE)
		*dscp = v.val.dscp;
	ev = v.val.flags & (GF_REPORT | GF_LOG | GF_MESSAGE | GF_ISOLATE);
	if (v.val.flags & GF_KILL)
		ev |= GE_KILLED;
	if (ev)
		send_event(&s->key, v.val.slot, ev, allow ? 1 : 2);
	return allow;
}

static __always_inline struct scratch *get_scratch(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&scratch, &zero);
}

/* ---- cgroup hooks ---- */

static __always_inline int sock_addr_hook(struct bpf_sock_addr *ctx, __u8 op,
					  bool v6)
{
	struct scratch *s = get_scratch();
	int dscp = -1, allow, tos;

	if (!s)
		return 1;
	fill_subject(&s->key, op);
	s->key.proto = ctx->protocol;
	s->key.port = (__u16)ctx->user_port;
	/* user_ip6 may not be read by a v4 program: the family is fixed
	 * per program, not read from ctx
	 */
	if (!v6) {
		__u32 a = ctx->user_ip4;

		s->key.family = 4;
		__builtin_memcpy(s->key.addr, &a, 4);
	} else {
		__u32 a0 = ctx->user_ip6[0], a1 = ctx->user_ip6[1],
		      a2 = ctx->user_ip6[2], a3 = ctx->user_ip6[3];

		s->key.family = 6;
		__builtin_memcpy(s->key.addr, &a0, 4);
		__builtin_memcpy(s->key.addr + 4, &a1, 4);
		__builtin_memcpy(s->key.addr + 8, &a2, 4);
		__builtin_memcpy(s->key.addr + 12, &a3, 4);
	}
	allow = decide(s, &dscp);
	if (allow && dscp >= 0) {
		tos = dscp << 2;
		if (!v6)
			bpf_setsockopt(ctx, SOL_IP, IP_TOS, &tos, sizeof(tos));
		else
			bpf_setsockopt(ctx, SOL_IPV6, IPV6_TCLASS, &tos,
				       sizeof(tos));
	}
	return allow;
}

SEC("cgroup/connect4")
int cgroup__connect4(struct bpf_sock_addr *ctx)
{
	return sock_addr_hook(ctx, GUARD_OP_SOCKET_CONNECT, false);
}

SEC("cgroup/connect6")
int cgroup__connect6(struct bpf_sock_addr *ctx)
{
	return sock_addr_hook(ctx, GUARD_OP_SOCKET_CONNECT, true);
}

SEC("cgroup/bind4")
int cgroup__bind4(struct bpf_sock_addr *ctx)
{
	return sock_addr_hook(ctx, GUARD_OP_SOCKET_BIND, false);
}

SEC("cgroup/bind6")
int cgroup__bind6(struct bpf_sock_addr *ctx)
{
	return sock_addr_hook(ctx, GUARD_OP_SOCKET_BIND, true);
}

SEC("cgroup/sendmsg4")
int cgroup__sendmsg4(struct bpf_sock_addr *ctx)
{
	return sock_addr_hook(ctx, GUARD_OP_SOCKET_WRITE, false);
}

SEC("cgroup/sendmsg6")
int cgroup__sendmsg6(struct bpf_sock_addr *ctx)
{
	return sock_addr_hook(ctx, GUARD_OP_SOCKET_WRITE, true);
}

SEC("cgroup/sock_create")
int cgroup__sock_create(struct bpf_sock *ctx)
{
	struct scratch *s = get_scratch();
	int dscp = -1;

	if (!s)
		return 1;
	/* only IP sockets: unix and netlink sockets are left alone */
	if (ctx->family != AF_INET && ctx->family != AF_INET6)
		return 1;
	fill_subject(&s->key, GUARD_OP_SOCKET_CREATE);
	s->key.proto = ctx->protocol;
	s->key.family = ctx->family == AF_INET ? 4 : 6;
	return decide(s, &dscp);
}

/* ---- isolated sockets: drop their packets both ways ---- */

/* 1 pass, 0 drop. With nothing isolated this is one array lookup and a
 * compare; otherwise one hash lookup by socket cookie per packet.
 */
static __always_inline int iso_skb(struct __sk_buff *skb)
{
	struct guard_config *cfg = get_config();
	struct guard_iso_sock *v;
	__u64 cookie;

	if (!cfg || !cfg->iso_socks)
		return 1;
	cookie = bpf_get_socket_cookie(skb);
	v = bpf_map_lookup_elem(&iso_socks, &cookie);
	if (!v)
		return 1;
	count_hit(v->slot);
	stat_inc(GS_ISO_DROPS);
	return 0;
}

/* ingress runs on the receiving socket: a listener's SYNs and handshake
 * ACKs, an accepted connection's data, UDP datagrams
 */
SEC("cgroup_skb/ingress")
int cgroup_skb__ingress(struct __sk_buff *skb)
{
	return iso_skb(skb);
}

SEC("cgroup_skb/egress")
int cgroup_skb__egress(struct __sk_buff *skb)
{
	return iso_skb(skb);
}

/* ---- process labels: exec, fork, exit ---- */

/* The full path of the executed file, built from the dentry chain across
 * mounts, into s->path (zero padded). Returns 0, or -1 when it is longer
 * than GUARD_PATH_MAX - 1 or deeper than GUARD_PATH_DEPTH components.
 */
static __always_inline int exe_path(struct linux_binprm *bprm,
				    struct scratch *s)
{
	struct file *file = BPF_CORE_READ(bprm, file);
	struct dentry *d = BPF_CORE_READ(file, f_path.dentry);
	struct vfsmount *vm = BPF_CORE_READ(file, f_path.mnt);
	struct mount *mnt = container_of(vm, struct mount, mnt);
	__u32 pos = GUARD_PATH_MAX, len;
	int i;

	for (i = 0; i < GUARD_PATH_DEPTH; i++) {
		struct dentry *root = BPF_CORE_READ(vm, mnt_root);
		struct dentry *parent = BPF_CORE_READ(d, d_parent);
		struct mount *mparent;
		const unsigned char *name;

		if (d == root) {
			mparent = BPF_CORE_READ(mnt, mnt_parent);
			if (mparent == mnt)
				break; /* the root of the namespace */
			d = BPF_CORE_READ(mnt, mnt_mountpoint);
			mnt = mparent;
			vm = &mnt->mnt;
			continue;
		}
		if (d == parent)
			break;
		len = BPF_CORE_READ(d, d_name.len);
		name = BPF_CORE_READ(d, d_name.name);
		if (len + 2 > pos)
			return -1;
		pos -= len;
		if (bpf_probe_read_kernel(&s->buf[pos & (GUARD_PATH_MAX - 1)],
					  len & (GUARD_PATH_MAX - 1), name))
			return -1;
		pos -= 1;
		s->buf[pos & (GUARD_PATH_MAX - 1)] = '/';
		d = parent;
	}
	if (i == GUARD_PATH_DEPTH)
		return -1;
	__builtin_memset(&s->path, 0, sizeof(s->path));
	if (pos == GUARD_PATH_MAX) { /* "/" itself */
		s->path.path[0] = '/';
		return 0;
	}
	len = GUARD_PATH_MAX - pos;
	if (pos < 1 || len >= GUARD_PATH_MAX)
		return -1;
	bpf_probe_read_kernel(s->path.path, len & (GUARD_PATH_MAX - 1),
			      &s->buf[pos & (GUARD_PATH_MAX - 1)]);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(tp_btf__sched_process_exec, struct task_struct *p, pid_t old_pid,
	     struct linux_binprm *bprm)
{
	struct guard_config *cfg = get_config();
	struct scratch *s = get_scratch();
	__u32 tgid = p->tgid, *id;
	struct guard_proc *cur, np = {};

	if (!cfg || !s)
		return 0;
	cur = bpf_map_lookup_elem(&procs, &tgid);
	if (cur)
		np.pexe_id = cur->pexe_id;
	if (cfg->n_exes) {
		if (exe_path(bprm, s) == 0) {
			id = bpf_map_lookup_elem(&exe_ids, &s->path);
			if (id)
				np.exe_id = *id;
		} else {
			stat_inc(GS_PATH_TOO_LONG);
		}
	}
	if (np.exe_id || np.pexe_id) {
		bpf_map_update_elem(&procs, &tgid, &np, BPF_ANY);
		stat_inc(GS_EXEC_LABELLED);
	} else if (cur) {
		bpf_map_delete_elem(&procs, &tgid);
	}
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(tp_btf__sched_process_fork, struct task_struct *parent,
	     struct task_struct *child)
{
	__u32 ptgid = parent->tgid, ctgid = child->tgid;
	struct guard_proc *pp, np;

	if (child->pid != child->tgid)
		return 0; /* a new thread: same process, same label */
	pp = bpf_map_lookup_elem(&procs, &ptgid);
	if (!pp || !pp->exe_id)
		return 0;
	np.exe_id = pp->exe_id;
	np.pexe_id = pp->exe_id;
	bpf_map_update_elem(&procs, &ctgid, &np, BPF_ANY);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(tp_btf__sched_process_exit, struct task_struct *p)
{
	__u32 tgid = p->tgid;

	if (p->pid == p->tgid)
		bpf_map_delete_elem(&procs, &tgid);
	return 0;
}

/* ---- open flags for the fanotify decisions ---- */

static __always_inline int note_open_flags(__u32 flags)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	bpf_map_update_elem(&open_flags, &tgid, &flags, BPF_ANY);
	return 0;
}

SEC("tp/syscalls/sys_enter_openat")
int tracepoint__syscalls__sys_enter_openat(struct trace_event_raw_sys_enter *ctx)
{
	return note_open_flags((__u32)ctx->args[2]);
}

SEC("tp/syscalls/sys_enter_open")
int tracepoint__syscalls__sys_enter_open(struct trace_event_raw_sys_enter *ctx)
{
	return note_open_flags((__u32)ctx->args[1]);
}

SEC("tp/syscalls/sys_enter_creat")
int tracepoint__syscalls__sys_enter_creat(struct trace_event_raw_sys_enter *ctx)
{
	return note_open_flags(GUARD_O_WRONLY | GUARD_O_CREAT);
}

SEC("tp/syscalls/sys_enter_openat2")
int tracepoint__syscalls__sys_enter_openat2(
	struct trace_event_raw_sys_enter *ctx)
{
	__u64 flags = 0;

	/* struct open_how starts with the u64 flags */
	bpf_probe_read_user(&flags, sizeof(flags), (void *)ctx->args[2]);
	return note_open_flags((__u32)flags);
}

SEC("tp/syscalls/sys_enter_execve")
int tracepoint__syscalls__sys_enter_execve(void *ctx)
{
	return note_open_flags(GUARD_O_EXEC);
}

SEC("tp/syscalls/sys_enter_execveat")
int tracepoint__syscalls__sys_enter_execveat(void *ctx)
{
	return note_open_flags(GUARD_O_EXEC);
}

/* ---- KILL: deliver queued signals as the syscall returns ---- */

static __always_inline int deliver_kill(void)
{
	struct guard_config *cfg = get_config();
	__u32 tgid, *sig;

	if (!cfg || !cfg->kill_pending)
		return 0;
	tgid = bpf_get_current_pid_tgid() >> 32;
	sig = bpf_map_lookup_elem(&pending_kill, &tgid);
	if (!sig)
		return 0;
	if (bpf_send_signal(*sig) == 0)
		stat_inc(GS_KILLS);
	bpf_map_delete_elem(&pending_kill, &tgid);
	__sync_fetch_and_add(&cfg->kill_pending, -1);
	return 0;
}

#define KILL_TP(name)                                        \
	SEC("tp/syscalls/sys_exit_" #name)                   \
	int tracepoint__syscalls__sys_exit_##name(void *ctx) \
	{                                                    \
		return deliver_kill();                       \
	}

KILL_TP(connect)
KILL_TP(bind)
KILL_TP(socket)
KILL_TP(sendto)
KILL_TP(sendmsg)
KILL_TP(sendmmsg)
KILL_TP(open)
KILL_TP(openat)
KILL_TP(openat2)
KILL_TP(creat)
KILL_TP(execve)
KILL_TP(execveat)

char LICENSE[] SEC("license") = "Dual BSD/GPL";
