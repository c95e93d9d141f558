// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* capture.c: the kernel side of the telemetry driver: open the collect
 * skeleton, set its knobs, size its tables and ring buffers, fill the
 * per-syscall prog arrays for the collection mode, attach, and hand the
 * events to the driver in timestamp order.
 *
 * Events of several ring buffers (one per CPU) arrive out of order; they
 * wait in a min-heap and are delivered once every buffer has been drained
 * past their timestamp (a watermark a little behind "now").
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "core/core.h"
#include "core/grow.h"
#include "telemetry_int.h"
#include "collect.skel.h"

#define WATERMARK_NS (10 * 1000 * 1000LL) /* event stamped, not yet written */
#define HEAP_MAX 50000 /* events waiting: deliver early beyond this */
#define POLL_BUDGET 20000 /* events copied per poll before the loop runs */

enum { M_FLOW = 1, M_CONSUMER = 2, M_NOFILES = 4, M_ALL = 7 };

enum prog_id {
	P_READ,
	P_WRITE,
	P_RECVFROM,
	P_SENDTO,
	P_RECVMSG,
	P_SENDMSG,
	P_RECVMMSG,
	P_SENDMMSG,
	P_MMAP,
	P_SHUTDOWN,
	P_SETNS,
	P_OPEN,
	P_OPENAT,
	P_OPENAT2,
	P_CREAT,
	P_OPEN_BY_HANDLE_AT,
	P_ACCEPT,
	P_CONNECT,
	P_MKDIR,
	P_MKDIRAT,
	P_RMDIR,
	P_LINK,
	P_LINKAT,
	P_UNLINK,
	P_UNLINKAT,
	P_SYMLINK,
	P_SYMLINKAT,
	P_RENAME,
	P_RENAMEAT,
	P_SETUID,
	P_SETREUID,
	P_CLONE_EXIT,
	P_EXEC_EXIT,
	P_DUP,
	P_FCNTL,
	P_SENDFILE,
	P_SPLICE,
	P_TEE,
	P_VMSPLICE,
	P_MAX
};

/* The operation each handler reports, which the filter's evt.type names
 * (NULL: none of its own, or two).
 */
static const char *const prog_ops[P_MAX] = {
	[P_READ] = "read",	   [P_WRITE] = "write",
	[P_RECVFROM] = "read",	   [P_SENDTO] = "write",
	[P_RECVMSG] = "read",	   [P_SENDMSG] = "write",
	[P_RECVMMSG] = "read",	   [P_SENDMMSG] = "write",
	[P_MMAP] = "mmap",	   [P_SHUTDOWN] = "shutdown",
	[P_SETNS] = "setns",	   [P_OPEN] = "open",
	[P_OPENAT] = "open",	   [P_OPENAT2] = "open",
	[P_CREAT] = "open",	   [P_OPEN_BY_HANDLE_AT] = "open",
	[P_ACCEPT] = "accept",	   [P_CONNECT] = "connect",
	[P_MKDIR] = "mkdir",	   [P_MKDIRAT] = "mkdir",
	[P_RMDIR] = "rmdir",	   [P_LINK] = "link",
	[P_LINKAT] = "link",	   [P_UNLINK] = "unlink",
	[P_UNLINKAT] = "unlink",   [P_SYMLINK] = "symlink",
	[P_SYMLINKAT] = "symlink", [P_RENAME] = "rename",
	[P_RENAMEAT] = "rename",   [P_SETUID] = "setuid",
	[P_SETREUID] = "setuid",   [P_CLONE_EXIT] = "clone",
	[P_EXEC_EXIT] = "execve",
};

/* Every syscall SysFlow maps to an operation, and which handler gets it. */
static const struct syscall_hook {
	const char *name;
	long nr;
	enum prog_id prog;
	unsigned int modes;
	bool needs_mmap; /* only when dropMode is off */
} hooks[] = {
	{ "read", SYS_read, P_READ, M_FLOW },
	{ "pread64", SYS_pread64, P_READ, M_FLOW },
	{ "readv", SYS_readv, P_READ, M_FLOW },
	{ "preadv", SYS_preadv, P_READ, M_FLOW },
	{ "preadv2", SYS_preadv2, P_READ, M_FLOW },
	{ "write", SYS_write, P_WRITE, M_FLOW },
	{ "pwrite64", SYS_pwrite64, P_WRITE, M_FLOW },
	{ "writev", SYS_writev, P_WRITE, M_FLOW },
	{ "pwritev", SYS_pwritev, P_WRITE, M_FLOW },
	{ "pwritev2", SYS_pwritev2, P_WRITE, M_FLOW },
	{ "recvfrom", SYS_recvfrom, P_RECVFROM, M_ALL },
	{ "sendto", SYS_sendto, P_SENDTO, M_ALL },
	{ "recvmsg", SYS_recvmsg, P_RECVMSG, M_ALL },
	{ "sendmsg", SYS_sendmsg, P_SENDMSG, M_ALL },
	{ "recvmmsg", SYS_recvmmsg, P_RECVMMSG, M_ALL },
	{ "sendmmsg", SYS_sendmmsg, P_SENDMMSG, M_ALL },
	{ "mmap", SYS_mmap, P_MMAP, M_FLOW, true },
	{ "shutdown", SYS_shutdown, P_SHUTDOWN, M_FLOW },
	{ "setns", SYS_setns, P_SETNS, M_FLOW },
	{ "open", SYS_open, P_OPEN, M_FLOW | M_CONSUMER },
	{ "openat", SYS_openat, P_OPENAT, M_FLOW | M_CONSUMER },
	{ "openat2", SYS_openat2, P_OPENAT2, M_FLOW | M_CONSUMER },
	{ "creat", SYS_creat, P_CREAT, M_FLOW | M_CONSUMER },
	{ "open_by_handle_at", SYS_open_by_handle_at, P_OPEN_BY_HANDLE_AT,
	  M_FLOW | M_CONSUMER },
	{ "accept", SYS_accept, P_ACCEPT, M_ALL },
	{ "accept4", SYS_accept4, P_ACCEPT, M_ALL },
	{ "connect", SYS_connect, P_CONNECT, M_ALL },
	{ "mkdir", SYS_mkdir, P_MKDIR, M_FLOW | M_CONSUMER },
	{ "mkdirat", SYS_mkdirat, P_MKDIRAT, M_FLOW | M_CONSUMER },
	{ "rmdir", SYS_rmdir, P_RMDIR, M_FLOW | M_CONSUMER },
	{ "link", SYS_link, P_LINK, M_FLOW | M_CONSUMER },
	{ "linkat", SYS_linkat, P_LINKAT, M_FLOW | M_CONSUMER },
	{ "unlink", SYS_unlink, P_UNLINK, M_FLOW | M_CONSUMER },
	{ "unlinkat", SYS_unlinkat, P_UNLINKAT, M_FLOW | M_CONSUMER },
	{ "symlink", SYS_symlink, P_SYMLINK, M_FLOW | M_CONSUMER },
	{ "symlinkat", SYS_symlinkat, P_SYMLINKAT, M_FLOW | M_CONSUMER },
	{ "rename", SYS_rename, P_RENAME, M_FLOW | M_CONSUMER },
	{ "renameat", SYS_renameat, P_RENAMEAT, M_FLOW | M_CONSUMER },
	{ "renameat2", SYS_renameat2, P_RENAMEAT, M_FLOW | M_CONSUMER },
	{ "setuid", SYS_setuid, P_SETUID, M_ALL },
	{ "setreuid", SYS_setreuid, P_SETREUID, M_ALL },
	{ "setresuid", SYS_setresuid, P_SETREUID, M_ALL },
	{ "clone", SYS_clone, P_CLONE_EXIT, M_ALL },
	{ "clone3", SYS_clone3, P_CLONE_EXIT, M_ALL },
	{ "fork", SYS_fork, P_CLONE_EXIT, M_ALL },
	{ "vfork", SYS_vfork, P_CLONE_EXIT, M_ALL },
	{ "execve", SYS_execve, P_EXEC_EXIT, M_ALL },
	{ "execveat", SYS_execveat, P_EXEC_EXIT, M_ALL },
	{ "dup", SYS_dup, P_DUP, M_ALL },
	{ "dup2", SYS_dup2, P_DUP, M_ALL },
	{ "dup3", SYS_dup3, P_DUP, M_ALL },
	{ "fcntl", SYS_fcntl, P_FCNTL, M_ALL },
	{ "sendfile", SYS_sendfile, P_SENDFILE, M_FLOW },
	{ "splice", SYS_splice, P_SPLICE, M_FLOW },
	{ "copy_file_range", SYS_copy_file_range, P_SPLICE, M_FLOW },
	{ "tee", SYS_tee, P_TEE, M_FLOW },
	{ "vmsplice", SYS_vmsplice, P_VMSPLICE, M_FLOW },
};

const char *tel_syscall_op(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(hooks); i++)
		if (!strcmp(name, hooks[i].name))
			return prog_ops[hooks[i].prog];
	return NULL;
}

struct pending {
	int64_t ts;
	size_t size;
	struct collect_event ev; /* size bytes of it */
};

struct tel_capture {
	struct collect_bpf *skel;
	struct bpf_program *progs[P_MAX];
	struct bpf_link *links[10];
	struct ring_buffer *rb;
	int rb_fds[COLLECT_MAX_BUFS];
	unsigned int nbufs;
	int ncpus;
	tel_event_fn fn;
	void *ctx;
	const volatile sig_atomic_t *stop;
	struct pending **heap;
	size_t n, cap;
	size_t budget;
	bool exhausted; /* a poll stopped before the buffers were empty */
};

static void prog_table(struct tel_capture *c)
{
	struct collect_bpf *s = c->skel;
	struct bpf_program *p[P_MAX] = {
		[P_READ] = s->progs.h_read,
		[P_WRITE] = s->progs.h_write,
		[P_RECVFROM] = s->progs.h_recvfrom,
		[P_SENDTO] = s->progs.h_sendto,
		[P_RECVMSG] = s->progs.h_recvmsg,
		[P_SENDMSG] = s->progs.h_sendmsg,
		[P_RECVMMSG] = s->progs.h_recvmmsg,
		[P_SENDMMSG] = s->progs.h_sendmmsg,
		[P_MMAP] = s->progs.h_mmap,
		[P_SHUTDOWN] = s->progs.h_shutdown,
		[P_SETNS] = s->progs.h_setns,
		[P_OPEN] = s->progs.h_open,
		[P_OPENAT] = s->progs.h_openat,
		[P_OPENAT2] = s->progs.h_openat2,
		[P_CREAT] = s->progs.h_creat,
		[P_OPEN_BY_HANDLE_AT] = s->progs.h_open_by_handle_at,
		[P_ACCEPT] = s->progs.h_accept,
		[P_CONNECT] = s->progs.h_connect,
		[P_MKDIR] = s->progs.h_mkdir,
		[P_MKDIRAT] = s->progs.h_mkdirat,
		[P_RMDIR] = s->progs.h_rmdir,
		[P_LINK] = s->progs.h_link,
		[P_LINKAT] = s->progs.h_linkat,
		[P_UNLINK] = s->progs.h_unlink,
		[P_UNLINKAT] = s->progs.h_unlinkat,
		[P_SYMLINK] = s->progs.h_symlink,
		[P_SYMLINKAT] = s->progs.h_symlinkat,
		[P_RENAME] = s->progs.h_rename,
		[P_RENAMEAT] = s->progs.h_renameat,
		[P_SETUID] = s->progs.h_setuid,
		[P_SETREUID] = s->progs.h_setreuid,
		[P_CLONE_EXIT] = s->progs.h_clone_exit,
		[P_EXEC_EXIT] = s->progs.h_exec_exit,
		[P_DUP] = s->progs.h_dup,
		[P_FCNTL] = s->progs.h_fcntl,
		[P_SENDFILE] = s->progs.h_sendfile,
		[P_SPLICE] = s->progs.h_splice,
		[P_TEE] = s->progs.h_tee,
		[P_VMSPLICE] = s->progs.h_vmsplice,
	};

	memcpy(c->progs, p, sizeof(p));
}

static bool hook_wanted(const struct syscall_hook *h,
			const struct tel_capture_opts *o)
{
	unsigned int m = o->mode == SYSFLOW_MODE_CONSUMER ? M_CONSUMER :
			 o->mode == SYSFLOW_MODE_NOFILES  ? M_NOFILES :
							    M_FLOW;

	return (h->modes & m) && !(h->needs_mmap && o->drop_mode) &&
	       h->nr >= 0 && h->nr < COLLECT_MAX_SYSCALLS;
}

/* Programs no hook of this mode uses are not loaded at all. */
static void set_autoload(struct tel_capture *c,
			 const struct tel_capture_opts *o)
{
	bool used[P_MAX] = {};

	for (size_t i = 0; i < ARRAY_SIZE(hooks); i++)
		if (hook_wanted(&hooks[i], o))
			used[hooks[i].prog] = true;
	for (int i = 0; i < P_MAX; i++)
		bpf_program__set_autoload(c->progs[i], used[i]);
}

static int fill_prog_arrays(struct tel_capture *c,
			    const struct tel_capture_opts *o)
{
	int exit_ = bpf_map__fd(c->skel->maps.exit_progs);

	for (size_t i = 0; i < ARRAY_SIZE(hooks); i++) {
		const struct syscall_hook *h = &hooks[i];
		__u32 key = h->nr;
		int fd;

		if (!hook_wanted(h, o))
			continue;
		fd = bpf_program__fd(c->progs[h->prog]);
		if (bpf_map_update_elem(exit_, &key, &fd, BPF_ANY)) {
			pr_err("cannot install the %s handler: %s\n", h->name,
			       strerror(errno));
			return -errno;
		}
		pr_debug("tracing %s (%ld) at its exit\n", h->name, h->nr);
	}
	return 0;
}

static int make_ringbufs(struct tel_capture *c, unsigned int size)
{
	int outer = bpf_map__fd(c->skel->maps.ringbufs);

	for (unsigned int i = 0; i < c->nbufs; i++) {
		__u32 key = i;

		c->rb_fds[i] = bpf_map_create(BPF_MAP_TYPE_RINGBUF,
					      "collect_rb", 0, 0, size, NULL);
		if (c->rb_fds[i] < 0)
			return -errno;
		if (bpf_map_update_elem(outer, &key, &c->rb_fds[i], BPF_ANY))
			return -errno;
	}
	return 0;
}

/* ---- ordering: a min-heap on the event timestamp ---- */

static void heap_swap(struct tel_capture *c, size_t a, size_t b)
{
	struct pending *t = c->heap[a];

	c->heap[a] = c->heap[b];
	c->heap[b] = t;
}

static int heap_push(struct tel_capture *c, struct pending *p)
{
	size_t i;

	if (grow_array(c->heap, c->cap, c->n, 1, 1024))
		return -ENOMEM;
	i = c->n++;
	c->heap[i] = p;
	while (i && c->heap[(i - 1) / 2]->ts > c->heap[i]->ts) {
		heap_swap(c, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
	return 0;
}

static struct pending *heap_pop(struct tel_capture *c)
{
	struct pending *top = c->heap[0];
	size_t i = 0;

	c->heap[0] = c->heap[--c->n];
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < c->n && c->heap[l]->ts < c->heap[m]->ts)
			m = l;
		if (r < c->n && c->heap[r]->ts < c->heap[m]->ts)
			m = r;
		if (m == i)
			break;
		heap_swap(c, i, m);
		i = m;
	}
	return top;
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct tel_capture *c = ctx;
	const struct collect_event *ev = data;
	struct pending *p;

	if (size < sizeof(struct collect_hdr) || ev->h.size > size)
		return 0;
	p = malloc(offsetof(struct pending, ev) + size);
	if (!p)
		return 0;
	p->ts = ev->h.ts;
	p->size = size;
	memcpy(&p->ev, data, size);
	if (heap_push(c, p))
		free(p);
	/* A flood must not keep the reader here forever: stop after a budget
	 * or when asked to exit (this event is kept; the rest stays in the
	 * ring buffer for the next poll).
	 */
	if (--c->budget == 0 || (c->stop && *c->stop)) {
		c->exhausted = true;
		return -EAGAIN;
	}
	return 0;
}

/* Deliver events older than the watermark (all of them when flush). */
static void deliver(struct tel_capture *c, int64_t watermark, bool flush)
{
	while (c->n &&
	       (flush || c->n > HEAP_MAX || c->heap[0]->ts <= watermark)) {
		struct pending *p = heap_pop(c);

		c->fn(c->ctx, &p->ev, p->size);
		free(p);
	}
}

static bool poll_ok(int n)
{
	return n >= 0 || n == -EINTR || n == -EAGAIN;
}

int tel_capture_poll(struct tel_capture *c, int timeout_ms)
{
	int64_t start = 0;
	int n;

	c->budget = POLL_BUDGET;
	c->exhausted = false;
	n = ring_buffer__poll(c->rb, timeout_ms);
	if (!poll_ok(n))
		return n;
	if (!c->exhausted) {
		/* all stamped before is now in the buffers */
		start = sf_clock_ns(CLOCK_BOOTTIME);
		n = ring_buffer__consume(c->rb);
		if (!poll_ok(n))
			return n;
	}
	/* when a buffer was left unread, older events may still be in it:
	 * deliver only what the heap cannot hold
	 */
	deliver(c, c->exhausted ? INT64_MIN : start - WATERMARK_NS, false);
	return 0;
}

void tel_capture_drain(struct tel_capture *c)
{
	/* no more events once detached: the drain ends */
	for (size_t i = 0; i < ARRAY_SIZE(c->links); i++) {
		bpf_link__destroy(c->links[i]);
		c->links[i] = NULL;
	}
	c->stop = NULL;
	c->budget = SIZE_MAX;
	ring_buffer__consume(c->rb);
	deliver(c, 0, true);
}

/* ---- open and close ---- */

static int check_buf_size(unsigned int size, struct sysflow_error *err)
{
	char why[128];
	int e = sf_ringbuf_size_check(size, why, sizeof(why));

	if (e)
		tel_set_error(err, SYSFLOW_OPERATION_NOT_SUPPORTED, "%s", why);
	return e;
}

static int configure(struct tel_capture *c, const struct tel_capture_opts *o)
{
	struct collect_bpf *s = c->skel;
	unsigned int r = o->sampling_ratio;

	s->rodata->targ_self_tgid = o->self_tgid;
	s->rodata->filter_containers = o->filter_containers;
	s->rodata->targ_file_only = o->file_only;
	s->rodata->targ_no_files = o->mode == SYSFLOW_MODE_NOFILES;
	s->rodata->targ_consumer = o->mode == SYSFLOW_MODE_CONSUMER;
	s->rodata->targ_read_mode = o->read_mode;
	s->rodata->targ_sample_ns = r > 1 ? (__u64)NSEC_PER_SEC / r : 0;
	s->rodata->targ_nbufs = c->nbufs;
	s->rodata->targ_wakeup_bytes = o->buf_size / 4;
	if (r > 1 && s->rodata->targ_sample_ns == 0)
		s->rodata->targ_sample_ns = 1;
	if (o->tracked_max)
		bpf_map__set_max_entries(s->maps.tracked, o->tracked_max);
	/* The ring buffers themselves are made after load (make_ringbufs):
	 * the kernel does not compare the size of inner ring buffers.
	 */
	return bpf_map__set_max_entries(s->maps.ringbufs, c->nbufs);
}

/* The plain tracepoints are found through tracefs, which a fresh /sys
 * (ip netns exec, a new machine) may not have mounted.
 */
static int mount_tracefs(struct sysflow_error *err)
{
	int e = sf_mount_tracefs();

	if (e)
		tel_set_error(err, SYSFLOW_PROBE_NOT_EXIST,
			      "tracefs is needed for the syscall tracepoints: "
			      "%s; run 'mount -t tracefs tracefs %s'",
			      strerror(-e), SF_TRACEFS);
	return e;
}

static int attach(struct tel_capture *c, struct sysflow_error *err)
{
	struct bpf_program *p[] = {
		c->skel->progs.sys_exit,
		c->skel->progs.sys_enter_close,
		c->skel->progs.sched_fork,
		c->skel->progs.sched_exec,
		c->skel->progs.sched_exit,
		c->skel->progs.sys_enter_dup2,
		c->skel->progs.sys_enter_dup3,
		c->skel->progs.sys_enter_close_range,
		c->skel->progs.sys_enter_execve,
		c->skel->progs.sys_enter_execveat,
	};

	for (size_t i = 0; i < ARRAY_SIZE(p); i++) {
		c->links[i] = bpf_program__attach(p[i]);
		if (!c->links[i]) {
			int e = -errno;

			tel_set_error(err, SYSFLOW_PROBE_NOT_LOADED,
				      "cannot attach %s to its tracepoint: "
				      "%s (%d)%s",
				      bpf_program__name(p[i]), strerror(-e), e,
				      e == -EACCES ? "; is " SF_TRACEFS
						     " readable (root, or "
						     "CAP_DAC_READ_SEARCH)?" :
						     "");
			return e;
		}
	}
	return 0;
}

/* At most one ring buffer per online CPU (cpuBuffers) */
static int check_nbufs(const struct tel_capture *c, int online,
		       struct sysflow_error *err)
{
	if (c->nbufs > (unsigned int)online || c->nbufs > COLLECT_MAX_BUFS) {
		tel_set_error(err, SYSFLOW_OPERATION_NOT_SUPPORTED,
			      "cpuBuffers %u is more than the %d online CPUs",
			      c->nbufs, online);
		return -EINVAL;
	}
	return 0;
}

/* Open the skeleton and configure it: programs wanted, knobs, sizes */
static int open_skel(struct tel_capture *c, const struct tel_capture_opts *o,
		     struct sysflow_error *err)
{
	int e;

	c->skel = collect_bpf__open();
	if (!c->skel) {
		e = -errno;
		tel_set_error(err, SYSFLOW_LIBS_ERROR,
			      "cannot open the collect "
			      "BPF object: %s",
			      strerror(-e));
		return e;
	}
	prog_table(c);
	set_autoload(c, o);
	e = configure(c, o);
	if (e)
		tel_set_error(err, SYSFLOW_LIBS_ERROR,
			      "cannot size the collect "
			      "maps: %s",
			      strerror(-e));
	return e;
}

static int load_skel(struct tel_capture *c, struct sysflow_error *err)
{
	int e = collect_bpf__load(c->skel);

	if (e)
		tel_set_error(err,
			      e == -EPERM ? SYSFLOW_PROBE_ACCESS_DENIED :
					    SYSFLOW_PROBE_NOT_LOADED,
			      "cannot load the collect "
			      "BPF programs: %s (%d); run with -vv for the "
			      "verifier log",
			      strerror(-e), e);
	return e;
}

/* The ring buffers and the syscall prog arrays, after load */
static int fill_maps(struct tel_capture *c, const struct tel_capture_opts *o,
		     struct sysflow_error *err)
{
	int e = make_ringbufs(c, o->buf_size);

	if (e) {
		tel_set_error(err, SYSFLOW_LIBS_ERROR,
			      "cannot create %u ring "
			      "buffers of %u bytes: %s",
			      c->nbufs, o->buf_size, strerror(-e));
		return e;
	}
	e = fill_prog_arrays(c, o);
	if (e)
		tel_set_error(err, SYSFLOW_PROBE_NOT_LOADED,
			      "cannot fill the "
			      "syscall tables: %s",
			      strerror(-e));
	return e;
}

/* One reader over all ring buffers, events to on_event */
static int open_reader(struct tel_capture *c, struct sysflow_error *err)
{
	int e;

	c->rb = ring_buffer__new(c->rb_fds[0], on_event, c, NULL);
	for (unsigned int i = 1; c->rb && i < c->nbufs; i++)
		if (ring_buffer__add(c->rb, c->rb_fds[i], on_event, c))
			break;
	if (!c->rb) {
		e = -errno;
		tel_set_error(err, SYSFLOW_LIBS_ERROR,
			      "cannot read the ring "
			      "buffers: %s",
			      strerror(-e));
		return e;
	}
	return 0;
}

static void log_hooks(const struct tel_capture *c,
		      const struct tel_capture_opts *o)
{
	/* lines within 80 columns, as all default output */
	pr_info("tracing syscalls: BTF tracepoints sys_exit and "
		"sched_process_{fork,exec,exit},\n");
	pr_info("  tracepoints "
		"sys_enter_{close,dup2,dup3,close_range,execve,execveat};\n");
	pr_info("  %u ring buffer(s) of %u KiB\n", c->nbufs,
		o->buf_size / 1024);
}

int tel_capture_open(struct tel_capture **out, const struct tel_capture_opts *o,
		     tel_event_fn fn, void *ctx, struct sysflow_error *err)
{
	/* o->stop: the driver's exit flag, checked while reading */
	struct tel_capture *c = calloc(1, sizeof(*c));
	int online = sysconf(_SC_NPROCESSORS_ONLN), e;

	*out = NULL;
	if (!c)
		return -ENOMEM;
	c->fn = fn;
	c->ctx = ctx;
	c->stop = o->stop;
	c->ncpus = libbpf_num_possible_cpus();
	c->nbufs = o->nbufs ? o->nbufs : (unsigned int)online;
	for (unsigned int i = 0; i < COLLECT_MAX_BUFS; i++)
		c->rb_fds[i] = -1; /* before any failure: close() skips them */
	e = check_nbufs(c, online, err);
	if (e)
		goto fail;
	e = check_buf_size(o->buf_size, err);
	if (e)
		goto fail;
	e = open_skel(c, o, err);
	if (e)
		goto fail;
	e = load_skel(c, err);
	if (e)
		goto fail;
	e = fill_maps(c, o, err);
	if (e)
		goto fail;
	e = open_reader(c, err);
	if (e)
		goto fail;
	e = mount_tracefs(err) ?: attach(c, err);
	if (e)
		goto fail;
	log_hooks(c, o);
	*out = c;
	return 0;
fail:
	tel_capture_close(c);
	return e;
}

void tel_capture_close(struct tel_capture *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(c->links); i++)
		bpf_link__destroy(c->links[i]);
	ring_buffer__free(c->rb);
	while (c->n)
		free(heap_pop(c));
	free(c->heap);
	for (unsigned int i = 0; i < COLLECT_MAX_BUFS; i++)
		if (c->rb_fds[i] >= 0)
			close(c->rb_fds[i]);
	collect_bpf__destroy(c->skel);
	free(c);
}

unsigned int tel_capture_nbufs(const struct tel_capture *c)
{
	return c->nbufs;
}

/* ---- kernel tables ---- */

int tel_capture_counts(struct tel_capture *c, uint32_t tid, int fd,
		       struct collect_counts *out)
{
	struct collect_fdkey k = { tid, fd };
	struct collect_fdstat v;

	if (!c)
		return -ENODEV;
	if (bpf_map_lookup_elem(bpf_map__fd(c->skel->maps.tracked), &k, &v))
		return -ENOENT;
	*out = v.c;
	return 0;
}

enum fd_change { FD_DELETE, FD_IGNORE };

/* Delete the entry (id, fd) of the tracked or fdinfo table, or mark an
 * fdinfo entry ignored, only while it is still the one user space was
 * told about: its gen (0: any entry). fd numbers are reused faster than
 * events are read.
 */
static void change_fd_entry(struct tel_capture *c, struct bpf_map *m,
			    uint32_t id, int fd, uint64_t gen,
			    enum fd_change how)
{
	struct collect_fdkey k = { id, fd };
	union {
		struct collect_fdstat s;
		struct collect_fdinfo i;
	} v;
	bool info = m == c->skel->maps.fdinfo;
	int map = bpf_map__fd(m);

	if ((gen || how == FD_IGNORE) && (bpf_map_lookup_elem(map, &k, &v) ||
					  (info ? v.i.gen : v.s.gen) != gen))
		return;
	if (how == FD_IGNORE) {
		v.i.kind = CK_IGNORE;
		bpf_map_update_elem(map, &k, &v, BPF_EXIST);
	} else {
		bpf_map_delete_elem(map, &k);
	}
}

void tel_capture_forget(struct tel_capture *c, uint32_t tid, int fd,
			uint64_t gen)
{
	if (c)
		change_fd_entry(c, c->skel->maps.tracked, tid, fd, gen,
				FD_DELETE);
}

void tel_capture_ignore(struct tel_capture *c, uint32_t tgid, uint32_t tid,
			int fd, uint64_t gen)
{
	if (!c)
		return;
	change_fd_entry(c, c->skel->maps.fdinfo, tgid, fd, gen, FD_IGNORE);
	change_fd_entry(c, c->skel->maps.tracked, tid, fd, gen, FD_DELETE);
}

void tel_capture_forget_fdinfo(struct tel_capture *c, uint32_t tgid, int fd,
			       uint64_t gen)
{
	if (c)
		change_fd_entry(c, c->skel->maps.fdinfo, tgid, fd, gen,
				FD_DELETE);
}

/* Counters of threads that are gone without user space hearing of it (an
 * exit or touch event lost): the tracked table is not an LRU, so they
 * would stay. Returns how many were removed.
 */
int tel_capture_sweep(struct tel_capture *c)
{
	int map = bpf_map__fd(c->skel->maps.tracked), n = 0, dead = 0;
	size_t cap = bpf_map__max_entries(c->skel->maps.tracked);
	struct collect_fdkey cur, next, *gone;
	bool first = true;

	/* collect first: deleting while walking restarts the walk */
	gone = calloc(cap, sizeof(*gone));
	if (!gone)
		return -ENOMEM;
	while (!bpf_map_get_next_key(map, first ? NULL : &cur, &next)) {
		first = false;
		cur = next;
		if (kill(cur.id, 0) && errno == ESRCH && (size_t)dead < cap)
			gone[dead++] = cur;
	}
	for (int i = 0; i < dead; i++)
		if (!bpf_map_delete_elem(map, &gone[i]))
			n++;
	free(gone);
	return n;
}

int tel_capture_stats(struct tel_capture *c, struct sysflow_stats *s)
{
	struct collect_stats *v = calloc(c->ncpus, sizeof(*v));
	struct sysflow_cpu_stats *t = &s->total;
	__u32 zero = 0;
	int n;

	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(bpf_map__fd(c->skel->maps.stats), &zero, v)) {
		free(v);
		return -errno;
	}
	n = c->ncpus < 256 ? c->ncpus : 256;
	memset(t, 0, sizeof(*t));
	s->ncpus = n;
	for (int i = 0; i < n; i++) {
		struct sysflow_cpu_stats *o = &s->cpu[i];

		o->syscalls = v[i].syscalls;
		o->sent = v[i].sent;
		o->lost = v[i].lost;
		o->aggregated = v[i].aggregated;
		o->filtered = v[i].filtered;
		o->sampled_out = v[i].sampled_out;
		o->ignored = v[i].ignored;
		o->table_full = v[i].table_full;
		o->truncated = v[i].truncated;
		t->syscalls += o->syscalls;
		t->sent += o->sent;
		t->lost += o->lost;
		t->aggregated += o->aggregated;
		t->filtered += o->filtered;
		t->sampled_out += o->sampled_out;
		t->ignored += o->ignored;
		t->table_full += o->table_full;
		t->truncated += o->truncated;
	}
	free(v);
	return 0;
}
