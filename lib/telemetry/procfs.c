// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* procfs.c: processes from /proc: every process at start (createTS 0), a
 * process whose clone was missed on demand, and containers from the cgroup
 * paths in /proc/<pid>/cgroup (the same patterns as the kernel side).
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "core/core.h"
#include "telemetry_int.h"

#define PROC_READ_MAX 65536

/* ---- containers from /proc/<pid>/cgroup ---- */

/* Same patterns as the kernel side (collect_task.bpf.h cg_parse). */
static int cgroup_leaf(const char *path, char id[COLLECT_CID_LEN])
{
	static const struct {
		const char *prefix;
		int type;
	} pre[] = {
		{ "docker-", SYSFLOW_CT_DOCKER },
		{ "cri-containerd-", SYSFLOW_CT_CONTAINERD },
		{ "crio-", SYSFLOW_CT_CRIO },
		{ "libpod-", SYSFLOW_CT_CUSTOM },
	};
	const char *leaf = strrchr(path, '/'), *parent;
	int type = -1, i;
	size_t plen = 0;

	if (!leaf)
		return -1;
	for (parent = leaf; parent > path && parent[-1] != '/'; parent--)
		plen++;
	leaf++;
	for (size_t k = 0; k < ARRAY_SIZE(pre); k++) {
		if (!strncmp(leaf, pre[k].prefix, strlen(pre[k].prefix))) {
			leaf += strlen(pre[k].prefix);
			type = pre[k].type;
			break;
		}
	}
	if (type < 0)
		type = plen >= 6 && !strncmp(parent, "docker", 6) ?
			       SYSFLOW_CT_DOCKER :
		       (plen >= 8 && !strncmp(parent, "kubepods", 8)) ||
				       (plen >= 3 &&
					!strncmp(parent, "pod", 3)) ?
			       SYSFLOW_CT_CRI :
			       SYSFLOW_CT_DOCKER;
	for (i = 0; i < 64; i++)
		if (!isxdigit((unsigned char)leaf[i]) ||
		    isupper((unsigned char)leaf[i]))
			return -1;
	if (leaf[64] && leaf[64] != '.' && leaf[64] != '\n')
		return -1;
	memcpy(id, leaf, 12);
	id[12] = 0;
	return type;
}

int tel_cgroup_container(const char *cgroup_file, char id[COLLECT_CID_LEN])
{
	char line[1024], cpu[1024] = "";
	int type = -1;
	FILE *f = fopen(cgroup_file, "re");

	if (!f)
		return -1;
	while (type < 0 && fgets(line, sizeof(line), f)) {
		char *ctrl = strchr(line, ':'), *path;

		if (!ctrl)
			continue;
		*ctrl++ = 0; /* "hierarchy-id:controllers:path" */
		path = strchr(ctrl, ':');
		if (!path)
			continue;
		*path++ = 0;
		path[strcspn(path, "\n")] = 0;
		if (!strcmp(line, "0") && !*ctrl)
			type = cgroup_leaf(path, id);
		else if (!strcmp(ctrl, "cpu") || !strncmp(ctrl, "cpu,", 4))
			snprintf(cpu, sizeof(cpu), "%s", path);
	}
	fclose(f);
	if (type < 0 && cpu[0])
		type = cgroup_leaf(cpu, id);
	return type;
}

static ssize_t read_all(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n, got = 0;

	if (fd < 0)
		return -errno;
	while ((size_t)got < len && (n = read(fd, buf + got, len - got)) > 0)
		got += n;
	close(fd);
	return got;
}

static char *read_link(int pid, const char *what)
{
	char path[64], buf[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, what);
	n = readlink(path, buf, sizeof(buf) - 1);
	if (n < 0)
		return NULL;
	buf[n] = 0;
	if (n > 10 && !strcmp(buf + n - 10, " (deleted)"))
		buf[n - 10] = 0;
	return strdup(buf);
}

struct proc_stat {
	char comm[64];
	int ppid;
	int tty_nr;
	unsigned long long starttime;
};

static int read_stat(int pid, struct proc_stat *st)
{
	char path[64], buf[1024], *open_p, *close_p;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	n = read_all(path, buf, sizeof(buf) - 1);
	if (n <= 0)
		return -ENOENT;
	buf[n] = 0;
	open_p = strchr(buf, '(');
	close_p = strrchr(buf, ')');
	if (!open_p || !close_p)
		return -EINVAL;
	snprintf(st->comm, sizeof(st->comm), "%.*s",
		 (int)(close_p - open_p - 1), open_p + 1);
	/* fields after comm: state ppid pgrp session tty_nr ... starttime(22) */
	if (sscanf(close_p + 2,
		   "%*c %d %*d %*d %d %*d %*u %*u %*u %*u %*u %*u "
		   "%*u %*d %*d %*d %*d %*d %*d %llu",
		   &st->ppid, &st->tty_nr, &st->starttime) != 3)
		return -EINVAL;
	return 0;
}

/* Effective uid/gid and whether the process is pid 1 of its namespace. */
static void read_status(int pid, struct tel_proc *p)
{
	char path[64], line[512];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		unsigned int r, e;

		if (sscanf(line, "Uid:\t%u\t%u", &r, &e) == 2)
			p->uid = e;
		else if (sscanf(line, "Gid:\t%u\t%u", &r, &e) == 2)
			p->gid = e;
		else if (!strncmp(line, "NSpid:", 6)) {
			char *last = strrchr(line, '\t');

			p->entry = last && atoi(last + 1) == 1 &&
				   strchr(line, '\t') != last;
		}
	}
	fclose(f);
}

static struct tel_proc *proc_from_procfs(struct tel_driver *d, int pid,
					 bool at_start)
{
	char path[64], cid[COLLECT_CID_LEN], *buf;
	struct proc_stat st = {};
	struct tel_proc *p, *parent;
	ssize_t n;
	int type;

	if (read_stat(pid, &st))
		return NULL;
	buf = malloc(PROC_READ_MAX);
	p = buf ? tel_proc_new(d, pid) : NULL;
	if (!p) {
		free(buf);
		return NULL;
	}
	if (!at_start) /* missed its clone: take the start time from /proc */
		p->oid.create_ts =
			d->boot_to_epoch +
			st.starttime * (NSEC_PER_SEC / sysconf(_SC_CLK_TCK));
	p->ts = tel_now_ns();
	p->tty = st.tty_nr != 0;
	read_status(pid, p);
	p->exe = read_link(pid, "exe");
	if (!p->exe)
		p->exe = strdup(st.comm);
	p->cwd = read_link(pid, "cwd");
	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	n = read_all(path, buf, PROC_READ_MAX);
	tel_proc_set_args(p, buf, n > 0 ? n : 0);
	snprintf(path, sizeof(path), "/proc/%d/environ", pid);
	n = read_all(path, buf, PROC_READ_MAX);
	tel_proc_set_env(p, buf, n > 0 ? n : 0);
	free(buf);
	snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
	type = tel_cgroup_container(path, cid);
	if (type >= 0)
		p->cont = tel_container_get(d, cid, type);
	if (st.ppid > 0) {
		parent = tel_proc_get(d, st.ppid);
		p->has_poid = true;
		p->poid.hpid = st.ppid;
		p->poid.create_ts = parent ? parent->oid.create_ts : 0;
	}
	return p;
}

int tel_scan_proc(struct tel_driver *d)
{
	DIR *dir = opendir("/proc");
	struct dirent *e;
	int n = 0;

	if (!dir)
		return -errno;
	while ((e = readdir(dir))) {
		int pid = atoi(e->d_name);

		if (pid > 0 && !tel_proc_get(d, pid) &&
		    proc_from_procfs(d, pid, true))
			n++;
	}
	closedir(dir);
	pr_debug("read %d processes from /proc\n", n);
	return n;
}

struct tel_proc *tel_proc_lookup(struct tel_driver *d, uint32_t tgid)
{
	struct tel_proc *p = tel_proc_get(d, tgid);

	if (p)
		return p;
	d->unknown_procs++;
	p = proc_from_procfs(d, tgid, false);
	if (!p) { /* gone already: a bare process */
		p = tel_proc_new(d, tgid);
		if (p) {
			p->exe = strdup("");
			p->args = strdup("");
			p->cwd = strdup("");
			p->ts = tel_now_ns();
		}
	}
	return p;
}
