/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* collect_procs.bpf.h: process life cycle for sysflow collect: fork and
 * thread creation, exec (exe, args, env, cwd, credentials, container),
 * exit, setuid, and the syscall exits that report failed clones and execs.
 * Included by collect.bpf.c.
 */
#ifndef __COLLECT_PROCS_BPF_H
#define __COLLECT_PROCS_BPF_H

/* sched_process_fork(parent, child): runs in the parent before the child
 * can run, so the child's events always come after this one.
 */
SEC("tp_btf/sched_process_fork")
int sched_fork(u64 *ctx)
{
	struct task_struct *child = (void *)ctx[1];
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct collect_event *ev;
	__u32 tid, tgid;

	if (skip(pid_tgid))
		return 0;
	tid = BPF_CORE_READ(child, pid);
	tgid = BPF_CORE_READ(child, tgid);
	ev = ev_start(CEV_CLONE, pid_tgid, tid);
	if (!ev)
		return 0;
	ev->clone.child_tid = tid;
	ev->clone.child_tgid = tgid;
	ev->clone.parent_tgid = BPF_CORE_READ(child, real_parent, tgid);
	ev->clone.is_thread = tgid == pid_tgid >> 32;
	ev->clone.ctype = ev->clone.is_thread ?
				  CT_NONE :
				  task_container(child, ev->clone.cid);
	ev_submit(ev, 0);
	return 0;
}

static __always_inline bool is_pid1(struct task_struct *t)
{
	struct pid *pid = BPF_CORE_READ(t, thread_pid);
	unsigned int level = BPF_CORE_READ(pid, level);
	struct upid *nums = __builtin_preserve_access_index(&pid->numbers[0]);
	struct upid up = {};

	bpf_probe_read_kernel(&up, sizeof(up), &nums[level & 31]);
	return up.nr == 1;
}

/* ---- exec closes the close-on-exec fds ---- */

/* execve/execveat entry: which open fds are close-on-exec. */
static __always_inline int exec_snapshot(void)
{
	struct task_struct *t = (void *)bpf_get_current_task();
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = pid_tgid, n;
	struct exec_fds v = {};
	unsigned long *cloexec, *open;
	struct fdtable *fdt;
	__u64 any = 0, a, b;

	if (skip(pid_tgid))
		return 0;
	fdt = BPF_CORE_READ(t, files, fdt);
	n = BPF_CORE_READ(fdt, max_fds) / 64;
	cloexec = BPF_CORE_READ(fdt, close_on_exec);
	open = BPF_CORE_READ(fdt, open_fds);
	for (int i = 0; i < COLLECT_EXEC_WORDS && i < n; i++) {
		if (bpf_probe_read_kernel(&a, sizeof(a), &cloexec[i]) ||
		    bpf_probe_read_kernel(&b, sizeof(b), &open[i]))
			break;
		v.w[i] = a & b;
		any |= v.w[i];
	}
	if (any)
		bpf_map_update_elem(&exec_cloexec, &tid, &v, BPF_ANY);
	else
		bpf_map_delete_elem(&exec_cloexec, &tid);
	return 0;
}

SEC("tp/syscalls/sys_enter_execve")
int sys_enter_execve(struct trace_event_raw_sys_enter *ctx)
{
	return exec_snapshot();
}

SEC("tp/syscalls/sys_enter_execveat")
int sys_enter_execveat(struct trace_event_raw_sys_enter *ctx)
{
	return exec_snapshot();
}

/* fd of thread tid was closed by exec: send the final counters of its
 * flow (user space reads them later, when the new image may have opened
 * the same fd number already) and forget it.
 */
__noinline int exec_close_g(__u64 pid_tgid, __u32 tid, int fd)
{
	struct collect_fdkey tk = { tid, fd };
	struct collect_fdkey pk = { pid_tgid >> 32, fd };
	struct collect_fdstat *s = bpf_map_lookup_elem(&tracked, &tk);
	struct collect_fdinfo *fi;
	struct collect_event *ev;
	__u8 kind = CK_UNKNOWN;

	if (!s) /* no counters: user space ends its flow at the exec */
		return 0;
	fi = bpf_map_lookup_elem(&fdinfo, &pk);
	if (fi) {
		kind = fi->kind;
		bpf_map_delete_elem(&fdinfo, &pk);
	}
	if (kind != CK_IGNORE && (ev = ev_start(CEV_CLOSE, pid_tgid, 0))) {
		ev->h.tid = tid;
		ev->close.fd = fd;
		ev->close.kind = kind;
		ev->close.known = 1;
		ev->close.had_stats = 1;
		ev->close.at_exec = 1;
		ev->close.c = s->c;
		ev_submit(ev, 0);
	}
	bpf_map_delete_elem(&tracked, &tk);
	return 0;
}

struct exec_close_ctx {
	__u64 pid_tgid;
	__u32 tid;
	struct exec_fds *fds;
};

static long exec_close_word(__u64 i, void *data)
{
	struct exec_close_ctx *c = data;
	__u64 w;

	if (i >= COLLECT_EXEC_WORDS)
		return 1;
	w = c->fds->w[i];
	for (int b = 0; b < 64 && w; b++, w >>= 1)
		if (w & 1)
			exec_close_g(c->pid_tgid, c->tid, i * 64 + b);
	return 0;
}

/* The fds exec closed (taken at entry, by the tid before exec). */
static __always_inline void exec_closes(__u64 pid_tgid, __u32 old_tid)
{
	struct exec_close_ctx c = { .pid_tgid = pid_tgid, .tid = old_tid };

	c.fds = bpf_map_lookup_elem(&exec_cloexec, &old_tid);
	if (!c.fds)
		return;
	bpf_loop(COLLECT_EXEC_WORDS, exec_close_word, &c, 0);
	bpf_map_delete_elem(&exec_cloexec, &old_tid);
}

/* sched_process_exec(p, old_pid, bprm): the new image is in place. */
SEC("tp_btf/sched_process_exec")
int sched_exec(u64 *ctx)
{
	struct task_struct *t = (void *)bpf_get_current_task();
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tgid = pid_tgid >> 32, off;
	struct collect_event *ev;
	struct file *exe;
	struct fs_struct *fs;
	struct mm_struct *mm;

	if (filter_containers) /* the verdict follows the new image */
		bpf_map_delete_elem(&tasks, &tgid);
	if (skip(pid_tgid))
		return 0;
	exec_closes(pid_tgid, ctx[1]);
	ev = ev_start(CEV_EXEC, pid_tgid, 0);
	if (!ev)
		return 0;
	mm = BPF_CORE_READ(t, mm);
	exe = BPF_CORE_READ(mm, exe_file);
	off = exe ? put_kpath(ev, 0, 0,
			      __builtin_preserve_access_index(&exe->f_path)) :
		    0;
	off = put_urange(ev, off, 1, BPF_CORE_READ(mm, arg_start),
			 BPF_CORE_READ(mm, arg_end));
	off = put_urange(ev, off, 2, BPF_CORE_READ(mm, env_start),
			 BPF_CORE_READ(mm, env_end));
	fs = BPF_CORE_READ(t, fs);
	off = put_kpath(ev, off, 3, __builtin_preserve_access_index(&fs->pwd));
	ev->exec.uid = BPF_CORE_READ(t, cred, euid.val);
	ev->exec.gid = BPF_CORE_READ(t, cred, egid.val);
	ev->exec.tty = BPF_CORE_READ(t, signal, tty) != NULL;
	ev->exec.entry = is_pid1(t);
	ev->exec.ctype = task_container(t, ev->exec.cid);
	ev_submit(ev, off);
	return 0;
}

/* sched_process_exit(p[, group_dead]): one thread ends; the last one
 * ends the process (signal->live already dropped to 0).
 */
SEC("tp_btf/sched_process_exit")
int sched_exit(u64 *ctx)
{
	struct task_struct *t = (void *)bpf_get_current_task();
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tgid = pid_tgid >> 32;
	bool group_dead = BPF_CORE_READ(t, signal, live.counter) == 0;
	struct collect_event *ev;

	if (!skip(pid_tgid) && (ev = ev_start(CEV_EXIT, pid_tgid, 0))) {
		ev->exit.code = BPF_CORE_READ(t, exit_code);
		ev->exit.group_dead = group_dead;
		ev_submit(ev, 0);
	}
	if (group_dead && filter_containers)
		bpf_map_delete_elem(&tasks, &tgid);
	return 0;
}

/* ---- setuid family ---- */

static __always_inline int setuid_event(u64 *ctx, __u32 req)
{
	struct task_struct *t = (void *)bpf_get_current_task();
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct collect_event *ev;

	if (skip(pid_tgid))
		return 0;
	ev = ev_start(CEV_SETUID, pid_tgid, RET(ctx));
	if (!ev)
		return 0;
	ev->setuid.req_uid = req;
	ev->setuid.uid = BPF_CORE_READ(t, cred, euid.val);
	ev->setuid.gid = BPF_CORE_READ(t, cred, egid.val);
	ev_submit(ev, 0);
	return 0;
}

SEC("tp_btf/sys_exit")
int h_setuid(u64 *ctx)
{
	return setuid_event(ctx, ARG1(REGS(ctx)));
}

/* setreuid(ruid, euid) and setresuid(ruid, euid, suid): the uid asked for
 * is euid, or ruid when euid is -1.
 */
SEC("tp_btf/sys_exit")
int h_setreuid(u64 *ctx)
{
	struct pt_regs *r = REGS(ctx);
	__u32 e = ARG2(r);

	return setuid_event(ctx, e != (__u32)-1 ? e : (__u32)ARG1(r));
}

/* ---- failures that sched tracepoints do not see ---- */

SEC("tp_btf/sys_exit")
int h_clone_exit(u64 *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct collect_event *ev;

	if (RET(ctx) >= 0 || skip(pid_tgid))
		return 0;
	ev = ev_start(CEV_CLONE_FAIL, pid_tgid, RET(ctx));
	if (ev)
		ev_submit(ev, 0);
	return 0;
}

SEC("tp_btf/sys_exit")
int h_exec_exit(u64 *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = pid_tgid;
	struct collect_event *ev;

	if (RET(ctx) >= 0)
		return 0;
	bpf_map_delete_elem(&exec_cloexec, &tid); /* nothing was closed */
	if (skip(pid_tgid))
		return 0;
	ev = ev_start(CEV_EXEC, pid_tgid, RET(ctx));
	if (ev)
		ev_submit(ev, 0);
	return 0;
}

#endif /* __COLLECT_PROCS_BPF_H */
