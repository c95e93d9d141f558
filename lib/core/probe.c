// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* probe.c: privileges and kernel feature probes, and the kernel's rule
 * for a ring buffer's size. Each probe tries the real thing (load a
 * two-instruction program, open the fd) and explains a "no".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/fanotify.h>
#include <sys/syscall.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include "core.h"

#ifndef CAP_BPF
#define CAP_BPF 39
#endif

static bool cap_has(const struct __user_cap_data_struct *d, int cap)
{
	return d[cap / 32].effective & (1U << (cap % 32));
}

int sf_check_privileges(const char *what)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2] = {};

	if (syscall(SYS_capget, &hdr, data))
		return -errno;
	if (!cap_has(data, CAP_BPF) && !cap_has(data, CAP_SYS_ADMIN)) {
		pr_err("%s needs CAP_BPF or CAP_SYS_ADMIN for BPF programs and "
		       "maps; run it as root (sudo)\n",
		       what);
		return -EPERM;
	}
	if (!cap_has(data, CAP_NET_ADMIN)) {
		pr_err("%s needs CAP_NET_ADMIN to attach to interfaces; run it "
		       "as root (sudo)\n",
		       what);
		return -EPERM;
	}
	return 0;
}

static const struct bpf_insn ret0[] = {
	{ .code = 0xb7, .dst_reg = 0, .imm = 0 }, /* r0 = 0 */
	{ .code = 0x95 }, /* exit */
};

static int load_tiny(enum bpf_prog_type type, struct bpf_prog_load_opts *opts)
{
	int fd = bpf_prog_load(type, "sf_probe", "GPL", ret0, ARRAY_SIZE(ret0),
			       opts);

	return fd < 0 ? -errno : fd;
}

enum sf_probe_result sf_probe_xdp_native(int ifindex, char *detail, size_t len)
{
	LIBBPF_OPTS(bpf_prog_load_opts, opts);
	__u32 flags = XDP_FLAGS_DRV_MODE | XDP_FLAGS_UPDATE_IF_NOEXIST;
	int fd, err;

	fd = load_tiny(BPF_PROG_TYPE_XDP, &opts);
	if (fd < 0) {
		snprintf(detail, len, "cannot load XDP programs: %s",
			 strerror(-fd));
		return SF_PROBE_NO;
	}
	err = bpf_xdp_attach(ifindex, fd, flags, NULL);
	if (!err)
		bpf_xdp_detach(ifindex, XDP_FLAGS_DRV_MODE, NULL);
	close(fd);
	if (!err) {
		snprintf(detail, len, "driver mode attach works");
		return SF_PROBE_YES;
	}
	if (err == -EBUSY || err == -EEXIST) {
		snprintf(detail, len, "another XDP program is attached");
		return SF_PROBE_UNKNOWN;
	}
	snprintf(detail, len, "driver has no native XDP (%s); use skb mode",
		 strerror(-err));
	return SF_PROBE_NO;
}

bool sf_probe_tracepoint(const char *category, const char *name)
{
	char path[256];

	if (sf_mount_tracefs())
		return false;
	snprintf(path, sizeof(path), SF_TRACEFS "/events/%s/%s", category,
		 name);
	return access(path, F_OK) == 0;
}

enum sf_probe_result sf_probe_kprobes(char *detail, size_t len)
{
	if (access("/sys/bus/event_source/devices/kprobe/type", F_OK)) {
		snprintf(detail, len,
			 "no kprobe PMU (CONFIG_KPROBES is off); "
			 "tracepoints are used instead");
		return SF_PROBE_NO;
	}
	snprintf(detail, len, "kprobe PMU present");
	return SF_PROBE_YES;
}

/* Load a BTF-typed program against a kernel function or type. */
static int load_btf_prog(enum bpf_prog_type type, enum bpf_attach_type at,
			 const char *target, int kind)
{
	LIBBPF_OPTS(bpf_prog_load_opts, opts);
	struct btf *vmlinux = btf__load_vmlinux_btf();
	int id, fd;

	if (!vmlinux)
		return -ENOENT;
	id = btf__find_by_name_kind(vmlinux, target, kind);
	btf__free(vmlinux);
	if (id < 0)
		return -ENOENT;
	opts.expected_attach_type = at;
	opts.attach_btf_id = id;
	fd = load_tiny(type, &opts);
	if (fd >= 0)
		close(fd);
	return fd < 0 ? fd : 0;
}

static enum sf_probe_result btf_probe(int err, const char *what,
				      const char *fallback, char *detail,
				      size_t len)
{
	if (!err) {
		snprintf(detail, len, "%s programs load", what);
		return SF_PROBE_YES;
	}
	snprintf(detail, len, "%s refused: %s%s; %s", what, strerror(-err),
		 err == -EPERM ? " (kernel lockdown?)" : "", fallback);
	return SF_PROBE_NO;
}

enum sf_probe_result sf_probe_bpf_lsm(char *detail, size_t len)
{
	int err = load_btf_prog(BPF_PROG_TYPE_LSM, BPF_LSM_MAC,
				"bpf_lsm_file_open", BTF_KIND_FUNC);

	return btf_probe(err, "BPF LSM",
			 "cgroup hooks and fanotify are used instead", detail,
			 len);
}

static enum sf_probe_result sf_probe_fentry(char *detail, size_t len)
{
	int err = load_btf_prog(BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY,
				"do_unlinkat", BTF_KIND_FUNC);

	return btf_probe(err, "fentry", "tracepoints are used instead", detail,
			 len);
}

static enum sf_probe_result sf_probe_tp_btf(char *detail, size_t len)
{
	int err = load_btf_prog(BPF_PROG_TYPE_TRACING, BPF_TRACE_RAW_TP,
				"btf_trace_sched_switch", BTF_KIND_TYPEDEF);

	return btf_probe(err, "tp_btf", "plain tracepoints are used instead",
			 detail, len);
}

enum sf_probe_result sf_probe_fanotify(char *detail, size_t len)
{
	int fd = fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC, O_RDONLY);

	if (fd < 0) {
		snprintf(detail, len, "fanotify_init(FAN_CLASS_CONTENT): %s",
			 strerror(errno));
		return SF_PROBE_NO;
	}
	close(fd);
	snprintf(detail, len, "permission events available");
	return SF_PROBE_YES;
}

enum sf_probe_result sf_probe_ringbuf(char *detail, size_t len)
{
	int ok = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL);

	snprintf(detail, len,
		 ok > 0 ? "BPF ring buffer available" :
			  "no BPF ring buffer (kernel < 5.8)");
	return ok > 0 ? SF_PROBE_YES : SF_PROBE_NO;
}

static enum sf_probe_result probe_path(const char *path, const char *yes,
				       const char *no, char *detail, size_t len)
{
	bool ok = access(path, F_OK) == 0;

	snprintf(detail, len, "%s", ok ? yes : no);
	return ok ? SF_PROBE_YES : SF_PROBE_NO;
}

static enum sf_probe_result probe_mount(const char *fstype, char *detail,
					size_t len)
{
	char where[256];

	if (sf_find_mount(fstype, where, sizeof(where))) {
		snprintf(detail, len, "not mounted");
		return SF_PROBE_NO;
	}
	snprintf(detail, len, "mounted at %s", where);
	return SF_PROBE_YES;
}

static enum sf_probe_result probe_tp(const char *cat, const char *name,
				     char *detail, size_t len)
{
	bool ok = sf_probe_tracepoint(cat, name);

	snprintf(detail, len, "%s/%s %s", cat, name,
		 ok ? "present" : "missing (is tracefs mounted?)");
	return ok ? SF_PROBE_YES : SF_PROBE_NO;
}

int sf_probe_all(struct sf_probe *out, int max)
{
	int n = 0;

#define PROBE(nm, expr)                       \
	do {                                  \
		if (n < max) {                \
			out[n].name = nm;     \
			out[n].result = expr; \
			n++;                  \
		}                             \
	} while (0)
#define D out[n].detail, sizeof(out[n].detail)
	PROBE("btf",
	      probe_path("/sys/kernel/btf/vmlinux", "kernel BTF present",
			 "no /sys/kernel/btf/vmlinux (CONFIG_DEBUG_INFO_BTF)",
			 D));
	PROBE("bpffs", probe_mount("bpf", D));
	PROBE("tracefs", probe_mount("tracefs", D));
	PROBE("cgroup2", probe_mount("cgroup2", D));
	PROBE("ringbuf", sf_probe_ringbuf(D));
	PROBE("tracepoints", probe_tp("syscalls", "sys_enter_openat", D));
	PROBE("net_tracepoints", probe_tp("net", "netif_receive_skb", D));
	PROBE("tp_btf", sf_probe_tp_btf(D));
	PROBE("kprobes", sf_probe_kprobes(D));
	PROBE("fentry", sf_probe_fentry(D));
	PROBE("bpf_lsm", sf_probe_bpf_lsm(D));
	PROBE("fanotify", sf_probe_fanotify(D));
#undef D
#undef PROBE
	return n;
}

int sf_ringbuf_size_check(uint32_t size, char *msg, size_t len)
{
	long page = sysconf(_SC_PAGESIZE);

	if (size >= (uint32_t)page && !(size & (size - 1)))
		return 0;
	snprintf(msg, len,
		 "ring buffer size %u is not a power of two of at least one "
		 "page (%ld bytes)",
		 size, page);
	return -EINVAL;
}
