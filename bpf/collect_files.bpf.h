/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* collect_files.bpf.h: handlers of the syscalls that create, name or end
 * an fd (open family, accept, connect, close) and of the file namespace
 * operations (mkdir, rmdir, link, unlink, symlink, rename). Included by
 * collect.bpf.c.
 */
#ifndef __COLLECT_FILES_BPF_H
#define __COLLECT_FILES_BPF_H

/* Read-only flows under these prefixes are noise for fileReadMode 2
 * (sf-collector readonly.h).
 */
static __always_inline bool noisy_path(const char *p)
{
	return has_prefix(p, "/proc/", 6) || has_prefix(p, "/dev/", 5) ||
	       has_prefix(p, "/sys/", 5) || has_prefix(p, "//sys/", 6) ||
	       has_prefix(p, "/lib/", 5) || has_prefix(p, "/lib64/", 7) ||
	       has_prefix(p, "/usr/lib/", 9) ||
	       has_prefix(p, "/usr/lib64/", 11);
}

/* ---- open, openat, openat2, creat, open_by_handle_at ---- */

/* The name of what an open returned: the path argument (path, resolved
 * against dfd), or with no path the file the new fd refers to.
 */
static __always_inline __u32 put_open_path(struct collect_event *ev,
					   const char *path, int dfd, int fd)
{
	struct file *f;

	if (path)
		return put_upath(ev, 0, 0, path, dfd);
	f = fd_file((void *)bpf_get_current_task(), fd);
	if (!f)
		return 0;
	return put_kpath(ev, 0, 0, __builtin_preserve_access_index(&f->f_path));
}

static __always_inline int do_open(u64 *ctx, int dfd, const char *path,
				   __u32 flags, __u32 mode)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	long fd = RET(ctx);
	struct collect_fdkey tk = { (__u32)pid_tgid, fd };
	struct collect_fdkey pk = { pid_tgid >> 32, fd };
	struct collect_fdinfo fi = { .kind = CK_FILE, .open_flags = flags };
	struct collect_fdstat zero = {};
	__u32 acc = flags & O_ACCMODE, off;
	/* SysFlow tests the PPM_O_RDONLY bit, which O_RDWR has too */
	bool rd = acc == O_RDONLY || acc == O_RDWR;
	struct collect_event *ev;

	if (fd < 0 || skip(pid_tgid))
		return 0;
	if (flags & O_DIRECTORY)
		fi.kind = CK_DIR;
	if (targ_no_files || (targ_file_only && fi.kind == CK_DIR) ||
	    (rd && targ_read_mode == 1))
		goto ignore;
	ev = ev_start(CEV_OPEN, pid_tgid, fd);
	if (!ev)
		goto ignore;
	off = put_open_path(ev, path, dfd, fd);
	if (rd && targ_read_mode == 2 && noisy_path(ev->data))
		goto ignore;
	ev->open.fd = fd;
	ev->open.flags = flags;
	ev->open.mode = mode;
	ev->open.kind = fi.kind;
	fi.gen = zero.gen = ev->h.ts;
	bpf_map_update_elem(&fdinfo, &pk, &fi, BPF_ANY);
	if (!targ_consumer &&
	    bpf_map_update_elem(&tracked, &tk, &zero, BPF_ANY))
		STAT_INC(table_full);
	ev_submit(ev, off);
	return 0;
ignore:
	fi.kind = CK_IGNORE;
	bpf_map_update_elem(&fdinfo, &pk, &fi, BPF_ANY);
	bpf_map_delete_elem(&tracked, &tk);
	STAT_INC(ignored);
	return 0;
}

/* open(path, flags, mode) */
SEC("tp_btf/sys_exit")
int h_open(u64 *ctx)
{
	struct pt_regs *r = REGS(ctx);

	return do_open(ctx, AT_FDCWD, (void *)ARG1(r), ARG2(r), ARG3(r));
}

/* openat(dfd, path, flags, mode) */
SEC("tp_btf/sys_exit")
int h_openat(u64 *ctx)
{
	struct pt_regs *r = REGS(ctx);

	return do_open(ctx, ARG1(r), (void *)ARG2(r), ARG3(r), ARG4(r));
}

/* openat2(dfd, path, how, size) */
SEC("tp_btf/sys_exit")
int h_openat2(u64 *ctx)
{
	struct pt_regs *r = REGS(ctx);
	struct open_how how = {};

	bpf_probe_read_user(&how, sizeof(how), (void *)ARG3(r));
	return do_open(ctx, ARG1(r), (void *)ARG2(r), how.flags, how.mode);
}

/* creat(path, mode) */
SEC("tp_btf/sys_exit")
int h_creat(u64 *ctx)
{
	struct pt_regs *r = REGS(ctx);

	return do_open(ctx, AT_FDCWD, (void *)ARG1(r),
		       O_CREAT | O_WRONLY | O_TRUNC, ARG2(r));
}

/* open_by_handle_at(mount_fd, handle, flags): a file handle from
 * name_to_handle_at instead of a path (CAP_DAC_READ_SEARCH), so the path
 * is the opened file's own.
 */
SEC("tp_btf/sys_exit")
int h_open_by_handle_at(u64 *ctx)
{
	return do_open(ctx, -1, NULL, ARG3(REGS(ctx)), 0);
}

/* ---- accept, accept4, connect ---- */

static __always_inline int sock_event(u64 *ctx, __u32 type, int fd)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct collect_fdkey tk = { (__u32)pid_tgid, fd };
	struct collect_fdkey pk = { pid_tgid >> 32, fd };
	struct collect_fdinfo fi = {};
	struct collect_fdstat zero = {}, *s;
	struct collect_sock sock = {};
	struct collect_event *ev;
	struct file *f;
	__u8 udp = 0;

	if (skip(pid_tgid))
		return 0;
	f = fd_file((void *)bpf_get_current_task(), fd);
	if (!f)
		return 0;
	fi.kind = classify(f, &sock, &udp);
	if (fi.kind != CK_SOCK4 && fi.kind != CK_SOCK6 && fi.kind != CK_UNIX) {
		fi.kind = CK_IGNORE;
		bpf_map_update_elem(&fdinfo, &pk, &fi, BPF_ANY);
		return 0;
	}
	ev = ev_start(type, pid_tgid, RET(ctx));
	if (!ev)
		return 0;
	fi.udp = udp;
	fi.gen = zero.gen = ev->h.ts;
	bpf_map_update_elem(&fdinfo, &pk, &fi, BPF_ANY);
	s = type == CEV_CONNECT ? bpf_map_lookup_elem(&tracked, &tk) : NULL;
	if (s) /* keeps its counters and gen */
		s->udp = udp;
	else if (bpf_map_update_elem(&tracked, &tk, &zero, BPF_ANY)) {
		STAT_INC(table_full);
	}
	ev->sock.fd = fd;
	ev->sock.s = sock;
	if (fi.kind == CK_UNIX)
		ev->sock.s.family = 0;
	ev_submit(ev, 0);
	return 0;
}

SEC("tp_btf/sys_exit")
int h_accept(u64 *ctx)
{
	if (RET(ctx) < 0)
		return 0;
	return sock_event(ctx, CEV_ACCEPT, RET(ctx));
}

SEC("tp_btf/sys_exit")
int h_connect(u64 *ctx)
{
	if (RET(ctx) != 0 && RET(ctx) != -EINPROGRESS)
		return 0;
	return sock_event(ctx, CEV_CONNECT, ARG1(REGS(ctx)));
}

/* ---- close: at entry, while the fd still names its file ---- */

/* The fd is about to be closed (close, dup2/dup3 onto it, close_range):
 * send its final counters, or a one-shot close record when it was never
 * seen, and forget it.
 */
static __always_inline int close_fd(__u64 pid_tgid, int fd)
{
	struct collect_fdkey tk = { (__u32)pid_tgid, fd };
	struct collect_fdkey pk = { pid_tgid >> 32, fd };
	struct collect_fdstat *s;
	struct collect_fdinfo *fi;
	struct collect_sock sock = {};
	struct collect_event *ev;
	struct file *f = NULL;
	__u8 kind = CK_UNKNOWN, udp = 0;
	__u32 off = 0;

	s = bpf_map_lookup_elem(&tracked, &tk);
	fi = bpf_map_lookup_elem(&fdinfo, &pk);
	if (fi) {
		kind = fi->kind;
		bpf_map_delete_elem(&fdinfo, &pk);
	}
	if (!s && !fi) { /* not seen yet: a one-shot close record */
		f = fd_file((void *)bpf_get_current_task(), fd);
		if (!f)
			return 0; /* invalid fd: dropped */
		kind = classify(f, &sock, &udp);
	}
	if (kind == CK_IGNORE ||
	    (targ_consumer && (kind == CK_FILE || kind == CK_DIR))) {
		if (s)
			bpf_map_delete_elem(&tracked, &tk);
		return 0;
	}
	ev = ev_start(CEV_CLOSE, pid_tgid, 0);
	if (ev) {
		ev->close.fd = fd;
		ev->close.kind = kind;
		ev->close.known = s || fi;
		ev->close.had_stats = s != NULL;
		if (s)
			ev->close.c = s->c;
		ev->close.s = sock;
		if (f) {
			ev->close.ino = BPF_CORE_READ(f, f_inode, i_ino);
			if (kind == CK_FILE || kind == CK_DIR)
				off = put_kpath(ev, 0, 0,
						__builtin_preserve_access_index(
							&f->f_path));
		}
	}
	if (s)
		bpf_map_delete_elem(&tracked, &tk);
	if (ev)
		ev_submit(ev, off);
	return 0;
}

SEC("tp/syscalls/sys_enter_close")
int sys_enter_close(struct trace_event_raw_sys_enter *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	if (skip(pid_tgid))
		return 0;
	return close_fd(pid_tgid, ctx->args[0]);
}

/* ---- fd aliasing: dup, dup2, dup3, fcntl(F_DUPFD, F_DUPFD_CLOEXEC) ---- */

/* dup2/dup3 close newfd first when it is open and oldfd is valid (the
 * only way they can fail then is a race with open: EBUSY); seen at entry
 * like close, while newfd still names the file it closes.
 */
static __always_inline int dup_closes(struct trace_event_raw_sys_enter *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct task_struct *t = (void *)bpf_get_current_task();
	int oldfd = ctx->args[0], newfd = ctx->args[1];

	if (oldfd == newfd || skip(pid_tgid) || !fd_file(t, oldfd) ||
	    !fd_file(t, newfd))
		return 0;
	return close_fd(pid_tgid, newfd);
}

SEC("tp/syscalls/sys_enter_dup2")
int sys_enter_dup2(struct trace_event_raw_sys_enter *ctx)
{
	return dup_closes(ctx);
}

SEC("tp/syscalls/sys_enter_dup3")
int sys_enter_dup3(struct trace_event_raw_sys_enter *ctx)
{
	return dup_closes(ctx);
}

/* newfd is oldfd's open file: it inherits what the kernel knows of oldfd
 * (kind, or that it is ignored), and user space copies its name (path,
 * or addresses and which end is the server). Its flows are its own: a
 * flow is keyed by (thread, fd), as SysFlow keys it. An oldfd nobody has
 * seen yet is left to the first use of newfd (CEV_TOUCH names it).
 */
static __always_inline int do_dup(int oldfd, long newfd, bool cloexec)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct collect_fdkey tk = { (__u32)pid_tgid, newfd };
	struct collect_fdkey pk = { pid_tgid >> 32, oldfd };
	struct collect_fdinfo *fi, nfi;
	struct collect_event *ev;

	if (newfd < 0 || newfd == oldfd || skip(pid_tgid))
		return 0;
	bpf_map_delete_elem(&tracked, &tk); /* a close missed: stale */
	fi = bpf_map_lookup_elem(&fdinfo, &pk);
	pk.fd = newfd;
	if (!fi) {
		bpf_map_delete_elem(&fdinfo, &pk);
		return 0;
	}
	nfi = *fi;
	if (nfi.kind != CK_IGNORE) {
		ev = ev_start(CEV_DUP, pid_tgid, newfd);
		if (!ev) {
			bpf_map_delete_elem(&fdinfo, &pk);
			return 0;
		}
		ev->dup.oldfd = oldfd;
		ev->dup.newfd = newfd;
		ev->dup.cloexec = cloexec;
		nfi.gen = ev->h.ts;
		bpf_map_update_elem(&fdinfo, &pk, &nfi, BPF_ANY);
		ev_submit(ev, 0);
		return 0;
	}
	bpf_map_update_elem(&fdinfo, &pk, &nfi, BPF_ANY);
	return 0;
}

/* dup(oldfd), dup2(oldfd, newfd), dup3(oldfd, newfd, flags) */
SEC("tp_btf/sys_exit")
int h_dup(u64 *ctx)
{
	struct pt_regs *r = REGS(ctx);
	bool cloexec = r->orig_ax == NR_DUP3 && (ARG3(r) & O_CLOEXEC);

	return do_dup(ARG1(r), RET(ctx), cloexec);
}

/* fcntl(fd, cmd, arg): only F_DUPFD and F_DUPFD_CLOEXEC make an fd */
SEC("tp_btf/sys_exit")
int h_fcntl(u64 *ctx)
{
	struct pt_regs *r = REGS(ctx);
	__u64 cmd = ARG2(r);

	if (cmd != F_DUPFD && cmd != F_DUPFD_CLOEXEC)
		return 0;
	return do_dup(ARG1(r), RET(ctx), cmd == F_DUPFD_CLOEXEC);
}

/* ---- close_range(first, last, flags) ---- */

struct range_ctx {
	__u64 pid_tgid;
	unsigned long *open_fds; /* the fd table's bitmap of open fds */
	__u32 first, last;
};

/* Global: verified once, not once per bit of the loop below. */
__noinline int close_fd_g(__u64 pid_tgid, int fd)
{
	return close_fd(pid_tgid, fd);
}

/* The i-th word (64 fds) of the open fds bitmap from the range's first. */
static long close_word(__u64 i, void *data)
{
	struct range_ctx *c = data;
	__u32 word = c->first / 64 + i, base = word * 64, fd;
	unsigned long w;

	if (bpf_probe_read_kernel(&w, sizeof(w), &c->open_fds[word]))
		return 1;
	for (int b = 0; b < 64 && w; b++, w >>= 1) {
		fd = base + b;
		if ((w & 1) && fd >= c->first && fd <= c->last)
			close_fd_g(c->pid_tgid, fd);
	}
	return 0;
}

/* Every open fd in the range is closed as close() would close it, seen
 * at entry through the fd table's bitmap of open fds. With
 * CLOSE_RANGE_CLOEXEC nothing closes now: user space marks the fds it
 * knows close-on-exec, and exec ends their flows.
 */
SEC("tp/syscalls/sys_enter_close_range")
int sys_enter_close_range(struct trace_event_raw_sys_enter *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct task_struct *t = (void *)bpf_get_current_task();
	struct range_ctx c = { .pid_tgid = pid_tgid };
	__u64 flags = ctx->args[2];
	struct collect_event *ev;
	struct fdtable *fdt;
	__u32 max;

	c.first = ctx->args[0];
	c.last = ctx->args[1];
	if (c.first > c.last ||
	    (flags & ~(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC)) ||
	    skip(pid_tgid))
		return 0;
	if (flags & CLOSE_RANGE_CLOEXEC) {
		ev = ev_start(CEV_CLOEXEC, pid_tgid, 0);
		if (ev) {
			ev->range.first = c.first;
			ev->range.last = c.last;
			ev_submit(ev, 0);
		}
		return 0;
	}
	fdt = BPF_CORE_READ(t, files, fdt);
	max = BPF_CORE_READ(fdt, max_fds);
	if (max > COLLECT_RANGE_FDS)
		max = COLLECT_RANGE_FDS;
	if (c.last >= max)
		c.last = max - 1;
	if (c.first > c.last)
		return 0;
	c.open_fds = BPF_CORE_READ(fdt, open_fds);
	bpf_loop(c.last / 64 + 1 - c.first / 64, close_word, &c, 0);
	return 0;
}

/* ---- file namespace operations: strings resolved in user space ---- */

static __always_inline int fileop(u64 *ctx, __u32 op, int dfd1, const char *p1,
				  int dfd2, const char *p2, __u32 at)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct collect_event *ev;
	__u32 off;

	if (targ_no_files || skip(pid_tgid))
		return 0;
	ev = ev_start(CEV_FILEOP, pid_tgid, RET(ctx));
	if (!ev)
		return 0;
	ev->fileop.op = op;
	ev->fileop.at = at;
	off = put_upath(ev, 0, 0, p1, dfd1);
	if (p2)
		off = put_upath(ev, off, 2, p2, dfd2);
	ev_submit(ev, off);
	return 0;
}

SEC("tp_btf/sys_exit")
int h_mkdir(u64 *ctx)
{
	return fileop(ctx, OP_MKDIR, AT_FDCWD, (void *)ARG1(REGS(ctx)), 0, NULL,
		      0);
}

SEC("tp_btf/sys_exit")
int h_mkdirat(u64 *ctx)
{
	struct pt_regs *r = REGS(ctx);

	return fileop(ctx, OP_MKDIR, ARG1(r), (void *)ARG2(r), 0, NULL, 1);
}

SEC("tp_btf/sys_exit")
int h_rmdir(u64 *ctx)
{
	return fileop(ctx, OP_RMDIR, AT_FDCWD, (void *)ARG1(REGS(ctx)), 0, NULL,
		      0);
}

SEC("tp_btf/sys_exit")
int h_unlink(u64 *ctx)
{
	return fileop(ctx, OP_UNLINK, AT_FDCWD, (void *)ARG1(REGS(ctx)), 0,
		      NULL, 0);
}

/* unlinkat(dfd, path, flags): SysFlow records UNLINK even with
 * AT_REMOVEDIR.
 */
SEC("tp_btf/sys_exit")
int h_unlinkat(u64 *ctx)
{
	struct pt_regs *r = REGS(ctx);

	return fileop(ctx, OP_UNLINK, ARG1(r), (void *)ARG2(r), 0, NULL, 1);
}

SEC("tp_btf/sys_exit")
int h_link(u64 *ctx)
{
	struct pt_regs *r = REGS(ctx);

	return fileop(ctx, OP_LINK, AT_FDCWD, (void *)ARG1(r), AT_FDCWD,
		      (void *)ARG2(r), 0);
}

/* linkat(olddfd, old, newdfd, new, flags) */
SEC("tp_btf/sys_exit")
int h_linkat(u64 *ctx)
{
	struct pt_regs *r = REGS(ctx);

	return fileop(ctx, OP_LINK, ARG1(r), (void *)ARG2(r), ARG3(r),
		      (void *)ARG4(r), 1);
}

/* symlink(target, linkpath): SysFlow makes both absolute */
SEC("tp_btf/sys_exit")
int h_symlink(u64 *ctx)
{
	struct pt_regs *r = REGS(ctx);

	return fileop(ctx, OP_SYMLINK, AT_FDCWD, (void *)ARG1(r), AT_FDCWD,
		      (void *)ARG2(r), 0);
}

/* symlinkat(target, newdfd, linkpath): SysFlow keeps the target as given */
SEC("tp_btf/sys_exit")
int h_symlinkat(u64 *ctx)
{
	struct pt_regs *r = REGS(ctx);

	return fileop(ctx, OP_SYMLINK, -1, (void *)ARG1(r), ARG2(r),
		      (void *)ARG3(r), 1);
}

SEC("tp_btf/sys_exit")
int h_rename(u64 *ctx)
{
	struct pt_regs *r = REGS(ctx);

	return fileop(ctx, OP_RENAME, AT_FDCWD, (void *)ARG1(r), AT_FDCWD,
		      (void *)ARG2(r), 0);
}

/* renameat(olddfd, old, newdfd, new) and renameat2(..., flags) */
SEC("tp_btf/sys_exit")
int h_renameat(u64 *ctx)
{
	struct pt_regs *r = REGS(ctx);

	return fileop(ctx, OP_RENAME, ARG1(r), (void *)ARG2(r), ARG3(r),
		      (void *)ARG4(r), 1);
}

#endif /* __COLLECT_FILES_BPF_H */
