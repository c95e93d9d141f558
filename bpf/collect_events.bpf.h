/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* collect_events.bpf.h: building events in the per-CPU heap and sending
 * them with their exact size, and the first use of an fd by a thread
 * (CEV_TOUCH), which creates its counters. Included by collect.bpf.c.
 */
#ifndef __COLLECT_EVENTS_BPF_H
#define __COLLECT_EVENTS_BPF_H

#define DATA_MASK (COLLECT_DATA_MAX - 1)

static __always_inline struct collect_event *ev_start(__u32 type,
						      __u64 pid_tgid, long ret)
{
	__u32 zero = 0;
	struct heap *h = bpf_map_lookup_elem(&heap, &zero);
	struct collect_event *ev;

	if (!h)
		return NULL;
	ev = &h->ev;
	__builtin_memset(ev, 0, offsetof(struct collect_event, data));
	ev->h.ts = bpf_ktime_get_boot_ns();
	ev->h.type = type;
	ev->h.tgid = pid_tgid >> 32;
	ev->h.tid = (__u32)pid_tgid;
	ev->h.ret = ret;
	return ev;
}

/* The string appenders are global functions: the verifier checks each
 * once instead of once per combination of earlier string lengths.
 */

/* Append a NUL-terminated string from user memory as string slot. */
__noinline __u32 put_ustr_g(struct heap *h, __u32 off, __u32 slot, __u64 s)
{
	struct collect_event *ev;
	long n;

	if (!h)
		return off;
	ev = &h->ev;
	if (off >= COLLECT_DATA_MAX) {
		STAT_INC(truncated);
		return off;
	}
	n = bpf_probe_read_user_str(&ev->data[off & DATA_MASK], COLLECT_STR_MAX,
				    (const void *)s);
	if (n <= 0) {
		ev->data[off & DATA_MASK] = 0;
		n = 1;
	} else if (n == COLLECT_STR_MAX) {
		STAT_INC(truncated);
	}
	ev->h.slen[slot & 3] = n;
	return off + n;
}

/* Append user memory [start, end) (args or environment, NUL separated). */
__noinline __u32 put_urange_g(struct heap *h, __u32 off, __u32 slot,
			      __u64 start, __u64 end)
{
	struct collect_event *ev;
	__u64 len = end - start;

	if (!h)
		return off;
	ev = &h->ev;
	if (off >= COLLECT_DATA_MAX || end < start) {
		STAT_INC(truncated);
		return off;
	}
	if (len > COLLECT_STR_MAX - 1) {
		len = COLLECT_STR_MAX - 1;
		STAT_INC(truncated);
	}
	off &= DATA_MASK;
	if (bpf_probe_read_user(&ev->data[off], len & (COLLECT_STR_MAX - 1),
				(void *)start))
		len = 0;
	len &= COLLECT_STR_MAX - 1;
	ev->data[off + len] = 0;
	ev->h.slen[slot & 3] = len + 1;
	return off + len + 1;
}

/* Append the absolute path of a struct path (a kernel pointer). */
__noinline __u32 put_kpath_g(struct heap *h, __u32 off, __u32 slot, __u64 kp)
{
	struct collect_event *ev;
	__u32 trunc = 0, start, len;

	if (!h)
		return off;
	ev = &h->ev;
	if (off >= COLLECT_DATA_MAX) {
		STAT_INC(truncated);
		return off;
	}
	start = walk_path(h, (const struct path *)kp, &trunc) & (PATH_BUF - 1);
	if (trunc)
		STAT_INC(truncated);
	len = PATH_BUF + 1 - start;
	if (len > COLLECT_STR_MAX)
		len = COLLECT_STR_MAX;
	off &= DATA_MASK;
	bpf_probe_read_kernel(&ev->data[off], len, &h->path[start]);
	ev->h.slen[slot & 3] = len;
	return off + len;
}

/* The directory a relative path is resolved against: dirfd or the cwd. */
static __always_inline __u32 put_base(struct heap *h, __u32 off, __u32 slot,
				      int dfd)
{
	struct task_struct *t = (void *)bpf_get_current_task();
	struct fs_struct *fs;
	struct file *f;

	if (dfd == AT_FDCWD) {
		fs = BPF_CORE_READ(t, fs);
		return put_kpath_g(
			h, off, slot,
			(__u64)__builtin_preserve_access_index(&fs->pwd));
	}
	f = fd_file(t, dfd);
	if (!f)
		return off;
	return put_kpath_g(h, off, slot,
			   (__u64)__builtin_preserve_access_index(&f->f_path));
}

/* A path argument, plus its base directory when it is relative and
 * dfd >= AT_FDCWD (dfd -1 keeps a relative path as it is).
 */
__noinline __u32 put_upath_g(struct heap *h, __u32 off, __u32 slot, __u64 s,
			     int dfd)
{
	__u32 start = off & DATA_MASK;

	if (!h)
		return off;
	off = put_ustr_g(h, off, slot, s);
	if (h->ev.data[start] != '/' && (dfd == AT_FDCWD || dfd >= 0))
		off = put_base(h, off, slot + 1, dfd);
	return off;
}

#define HEAP(ev) container_of(ev, struct heap, ev)
#define put_ustr(ev, off, slot, s) put_ustr_g(HEAP(ev), off, slot, (__u64)(s))
#define put_urange(ev, off, slot, a, b) put_urange_g(HEAP(ev), off, slot, a, b)
#define put_kpath(ev, off, slot, p) put_kpath_g(HEAP(ev), off, slot, (__u64)(p))
#define put_upath(ev, off, slot, s, dfd) \
	put_upath_g(HEAP(ev), off, slot, (__u64)(s), dfd)

static __always_inline void ev_submit(struct collect_event *ev, __u32 off)
{
	__u32 idx = bpf_get_smp_processor_id(), size;
	__u64 flags = BPF_RB_NO_WAKEUP;
	void *rb;

	if (off > COLLECT_DATA_MAX)
		off = COLLECT_DATA_MAX;
	size = offsetof(struct collect_event, data) + off;
	ev->h.size = size;
	idx = targ_nbufs > 1 ? idx % targ_nbufs : 0;
	rb = bpf_map_lookup_elem(&ringbufs, &idx);
	/* Waking the reader costs more than the event: it polls every 100 ms
	 * anyway, so wake it only when a quarter of the buffer is used.
	 */
	if (rb && bpf_ringbuf_query(rb, BPF_RB_AVAIL_DATA) >= targ_wakeup_bytes)
		flags = BPF_RB_FORCE_WAKEUP;
	if (!rb || bpf_ringbuf_output(rb, ev, size, flags))
		STAT_INC(lost);
	else
		STAT_INC(sent);
}

/* First op of this thread on fd: find out what the fd is (fdinfo, else
 * the file itself), create its counters and tell user space. Returns the
 * counters, or NULL for fds that are not tracked.
 */
static __always_inline struct collect_fdstat *touch(__u64 pid_tgid, int fd,
						    struct peer *p, __u8 op)
{
	struct collect_fdkey tk = { (__u32)pid_tgid, fd };
	struct collect_fdkey pk = { pid_tgid >> 32, fd };
	struct collect_fdinfo *fi = bpf_map_lookup_elem(&fdinfo, &pk);
	struct collect_fdinfo nfi = {};
	struct collect_fdstat zero = {};
	struct collect_sock sock = {};
	struct collect_event *ev;
	struct file *f = NULL;
	__u8 kind = CK_UNKNOWN, udp = 0, k, known = fi != NULL;
	__u32 off = 0;

	if (fi) {
		kind = fi->kind;
		udp = fi->udp;
		if (kind == CK_IGNORE) {
			STAT_INC(ignored);
			return NULL;
		}
	}
	if (!fi || kind == CK_SOCK4 || kind == CK_SOCK6) {
		f = fd_file((void *)bpf_get_current_task(), fd);
		if (!f)
			return NULL;
		k = classify(f, &sock, &udp);
		if (!fi) {
			kind = k;
			nfi.kind = k;
			nfi.udp = udp;
		}
		if (kind == CK_IGNORE) {
			bpf_map_update_elem(&fdinfo, &pk, &nfi, BPF_ANY);
			STAT_INC(ignored);
			return NULL;
		}
	}
	ev = ev_start(CEV_TOUCH, pid_tgid, 0);
	if (!ev)
		return NULL;
	if (!fi) {
		nfi.gen = ev->h.ts;
		bpf_map_update_elem(&fdinfo, &pk, &nfi, BPF_ANY);
	}
	zero.udp = udp;
	zero.gen = ev->h.ts;
	if (udp && p && p->family) {
		__builtin_memcpy(zero.peer, p->addr, 16);
		zero.peer_port = p->port;
		zero.peer_family = p->family;
	}
	if (bpf_map_update_elem(&tracked, &tk, &zero, BPF_NOEXIST)) {
		STAT_INC(table_full);
		return NULL;
	}
	ev->touch.fd = fd;
	ev->touch.kind = kind;
	ev->touch.known = known;
	ev->touch.udp = udp;
	ev->touch.op = op;
	ev->touch.s = sock;
	if (udp && p && p->family) {
		__builtin_memcpy(ev->touch.s.raddr, p->addr, 16);
		ev->touch.s.rport = p->port;
	}
	if (f)
		ev->touch.ino = BPF_CORE_READ(f, f_inode, i_ino);
	if (!known && f && (kind == CK_FILE || kind == CK_DIR))
		off = put_kpath(ev, 0, 0,
				__builtin_preserve_access_index(&f->f_path));
	ev_submit(ev, off);
	return bpf_map_lookup_elem(&tracked, &tk);
}

static __always_inline struct collect_fdstat *
fdstat_get(__u64 pid_tgid, int fd, struct peer *p, __u8 op)
{
	struct collect_fdkey k = { (__u32)pid_tgid, fd };
	struct collect_fdstat *s = bpf_map_lookup_elem(&tracked, &k);

	return s ? s : touch(pid_tgid, fd, p, op);
}

#endif /* __COLLECT_EVENTS_BPF_H */
