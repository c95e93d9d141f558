/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* procinfo.h: process identity from /proc, shared by the guard agent and
 * telemetry: executable, arguments, uid, parent, cgroup v2 path and the
 * container id found in that path (docker, containerd, CRI-O, podman).
 * Read only what a caller asks for: each field costs a /proc read.
 * Functions return 0 or a negative errno (-ESRCH once the process is gone).
 */
#ifndef __SYSFLOW_PROCINFO_H
#define __SYSFLOW_PROCINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SF_PI_EXE (1u << 0) /* exe: readlink /proc/PID/exe */
#define SF_PI_ARGS (1u << 1) /* args: /proc/PID/cmdline, spaces between */
#define SF_PI_STAT (1u << 2) /* comm, ppid, start_time: /proc/PID/stat */
#define SF_PI_STATUS (1u << 3) /* uid, euid, tgid: /proc/PID/status */
#define SF_PI_CGROUP (1u << 4) /* cgroup, container: /proc/PID/cgroup */
#define SF_PI_PARENT_EXE (1u << 5) /* parent_exe (implies SF_PI_STAT) */
#define SF_PI_ALL 0x3f

#define SF_CONTAINER_ID_LEN 64

struct sf_procinfo {
	pid_t pid; /* as asked: a process or a thread id */
	pid_t tgid;
	pid_t ppid;
	uid_t uid; /* real */
	uid_t euid;
	uint64_t start_time; /* clock ticks after boot (stat field 22) */
	char comm[16];
	char exe[4096]; /* " (deleted)" suffix kept as the kernel shows it */
	char args[1024]; /* truncated */
	char cgroup[1024]; /* v2 path, "/" for the root */
	char container[SF_CONTAINER_ID_LEN + 1]; /* "" when not in one */
	char parent_exe[4096];
	unsigned int have; /* SF_PI_* fields filled */
};

/* Fill the fields named by what (SF_PI_*). Fields that cannot be read
 * (a kernel thread has no exe) stay empty; -ESRCH if the process is gone.
 */
int sf_procinfo_read(pid_t pid, unsigned int what, struct sf_procinfo *pi);

/* Only the executable (SF_PI_EXE): one readlink of /proc/PID/exe, for hot
 * paths. out is "" when it cannot be read (a kernel thread); -ESRCH if the
 * process is gone.
 */
int sf_procinfo_exe(pid_t pid, char *out, size_t len);

/* The container id in a cgroup path, or -ENOENT. Recognised forms, the id
 * being 64 hex digits in the last component that has one:
 *   /docker/<id>                      (docker, cgroupfs driver)
 *   /system.slice/docker-<id>.scope   (docker, systemd driver)
 *   /kubepods/.../<id>                (containerd/CRI-O, cgroupfs)
 *   .../cri-containerd-<id>.scope     (containerd, systemd)
 *   .../crio-<id>.scope               (CRI-O; crio-conmon-<id> is not one)
 *   .../libpod-<id>.scope             (podman)
 */
int sf_container_id(const char *cgroup_path, char *id, size_t len);

/* Does id (a full id or a prefix of at least 12) name container full? */
bool sf_container_match(const char *id, const char *full);

#endif /* __SYSFLOW_PROCINFO_H */
