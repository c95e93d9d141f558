/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* core.h: libsysflow's internal core: mounts, kernel feature probes,
 * privileges, interfaces, clocks and clean shutdown. Every part uses these;
 * none of them prints data to stdout.
 */
#ifndef __SYSFLOW_CORE_H
#define __SYSFLOW_CORE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <net/if.h>
#include <sysflow/log.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Logging inside libsysflow and the CLI (not in the public log.h: users
 * have their own pr_* macros).
 */
#define pr_err(...) sf_log(SF_LOG_ERROR, __VA_ARGS__)
#define pr_warn(...) sf_log(SF_LOG_WARN, __VA_ARGS__)
#define pr_info(...) sf_log(SF_LOG_INFO, __VA_ARGS__)
#define pr_debug(...) sf_log(SF_LOG_DEBUG, __VA_ARGS__)

/* ---- mounts (mount.c) ---- */

#define SF_BPFFS "/sys/fs/bpf"
#define SF_PIN_ROOT SF_BPFFS "/sysflow" /* default pin dirs live here */
#define SF_TRACEFS "/sys/kernel/tracing"

/* Find where a filesystem type is mounted (first match in /proc/mounts). */
int sf_find_mount(const char *fstype, char *path, size_t len);

/* Mount bpffs at /sys/fs/bpf / tracefs at /sys/kernel/tracing unless one is
 * already there. Errors name the mount command to run by hand.
 */
int sf_mount_bpffs(void);
int sf_mount_tracefs(void);

/* mkdir -p for a directory inside bpffs or anywhere else. */
int sf_mkdir_p(const char *path, unsigned int mode);

/* The pin directory of a command (flowmon -F, route --pin-dir, agent -F):
 * bpffs mounted when missing, then mkdir -p. A directory outside bpffs
 * is refused (-ENOTDIR) before anything is made: libbpf cannot pin there.
 * Errors are logged, naming dir and option.
 */
int sf_make_pin_dir(const char *dir, const char *option);

/* Undo sf_make_pin_dir: remove dir, and its parent when that is the
 * commands' shared SF_PIN_ROOT, each only when empty (another command's
 * pins keep them).
 */
void sf_remove_pin_dir(const char *dir);

/* One live instance per pin directory: an exclusive flock on dir, held
 * until the returned fd is closed (or the process dies, kill -9 included).
 * -EBUSY when another process holds it, after one error line naming dir
 * and "another sysflow <who>" (and option, the one that chooses another
 * directory; NULL: "stop it first"); -errno if dir cannot be opened.
 */
int sf_dir_lock(const char *dir, const char *who, const char *option);

/* The lock under sf_dir_lock(), for a directory (create false) or a lock
 * file, created mode 0600 if missing (create true): an exclusive flock
 * held until the returned fd is closed or the process dies. -EBUSY when
 * another process holds it (nothing logged), -errno if path cannot be
 * opened. A lock file may be unlinked by its holder before it closes the
 * fd: a process that locked the unlinked file tries again on the new one;
 * so does one that locked a directory removed meanwhile (-ENOENT when none
 * is there).
 */
int sf_path_lock(const char *path, bool create);

/* sf_path_lock(), shared when shared is true (any number of shared
 * holders, no exclusive one), and waiting up to wait_ms for the holders to
 * let go before it returns -EBUSY (0: not at all). Commands that take
 * turns on a directory (route apply, update, del, show) use it.
 */
int sf_path_lock_wait(const char *path, bool create, bool shared,
		      unsigned int wait_ms);

/* ---- privileges and feature probes (probe.c) ---- */

/* 0 when the process may load BPF programs and attach them to the network
 * (CAP_BPF or CAP_SYS_ADMIN, and CAP_NET_ADMIN); else -EPERM after logging
 * one line that says what is missing and what to do.
 */
int sf_check_privileges(const char *what);

enum sf_probe_result {
	SF_PROBE_YES = 0,
	SF_PROBE_NO,
	SF_PROBE_UNKNOWN,
};

struct sf_probe {
	const char *name; /* e.g. "kprobes" */
	enum sf_probe_result result;
	char detail[160]; /* why, or what was used instead */
};

/* Native (driver) XDP on ifindex: attaches and detaches a bare program. */
enum sf_probe_result sf_probe_xdp_native(int ifindex, char *detail, size_t len);
/* A tracepoint such as "syscalls", "sys_enter_openat". */
bool sf_probe_tracepoint(const char *category, const char *name);
enum sf_probe_result sf_probe_kprobes(char *detail, size_t len);
enum sf_probe_result sf_probe_bpf_lsm(char *detail, size_t len);
enum sf_probe_result sf_probe_fanotify(char *detail, size_t len);
enum sf_probe_result sf_probe_ringbuf(char *detail, size_t len);

/* 0 if size fits a BPF ring buffer (a power of two of at least one page:
 * the kernel's rule); otherwise -EINVAL and why in msg.
 */
int sf_ringbuf_size_check(uint32_t size, char *msg, size_t len);

/* Run every host-wide probe; returns how many entries were filled. */
int sf_probe_all(struct sf_probe *out, int max);

/* ---- per-CPU counters (percpu.c) ---- */

/* Sum a BPF_MAP_TYPE_PERCPU_ARRAY of __u64 counters over all CPUs into
 * out[0..n-1]. A key that cannot be read stays 0 and its error is
 * returned after the others are read.
 */
int sf_percpu_sum(int map_fd, uint64_t *out, uint32_t n);

/* ---- interfaces (iface.c) ---- */

/* Interface name -> index; -ENODEV after logging "unknown interface X". */
int sf_iface_index(const char *name, int *ifindex);
/* Index -> name, or "if<N>" when the interface is gone. */
const char *sf_iface_name(int ifindex, char buf[IF_NAMESIZE]);
/* The XDP program on ifindex: its id, 0 when there is none. name gets its
 * name, "" when it cannot be read (that needs CAP_SYS_ADMIN); mode, unless
 * NULL, how it is attached (XDP_ATTACHED_*). With a program in each mode,
 * the driver one.
 */
uint32_t sf_iface_xdp_prog(int ifindex, char *name, size_t len, uint8_t *mode);

/* Whether an interface called name exists in this network namespace or in
 * one of the named ones (the files in /run/netns, those of `ip netns`),
 * each looked up from a helper thread that enters it (needs CAP_SYS_ADMIN;
 * one it cannot enter counts as not holding name).
 */
bool sf_iface_exists_anywhere(const char *name);

/* ---- clocks ---- */

/* clock_gettime(id) in nanoseconds; every part reads its clocks here. */
static inline uint64_t sf_clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* ---- clean shutdown (signal.c) ---- */

/* Set by SIGINT/SIGTERM; poll loops stop when it is non-zero. */
extern volatile sig_atomic_t sf_exiting;

/* Install SIGINT/SIGTERM handlers that set sf_exiting (no SA_RESTART, so
 * blocking calls return EINTR), and ignore SIGPIPE.
 */
int sf_signals_install(void);

/* The same, and: SIGALRM ends the process too when alarm_too (for alarm()),
 * and hook, when not NULL, runs in the handler after sf_exiting is set, so
 * it must be async-signal-safe.
 */
int sf_signals_install_hook(void (*hook)(void), bool alarm_too);

#endif /* __SYSFLOW_CORE_H */
