// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* procinfo.c: process identity from /proc (see procinfo.h), with the
 * container id taken from the cgroup v2 path.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "procinfo.h"

/* Read a small /proc file into buf (NUL terminated); bytes read or -errno. */
static ssize_t read_small(pid_t pid, const char *name, char *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return errno == ESRCH ? -ESRCH : -errno;
	buf[n] = 0;
	return n;
}

int sf_procinfo_exe(pid_t pid, char *out, size_t len)
{
	char path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	n = readlink(path, out, len - 1);
	if (n < 0) {
		int err = errno;

		out[0] = 0;
		/* a kernel thread has a /proc entry but no exe to read */
		snprintf(path, sizeof(path), "/proc/%d", pid);
		return err == ENOENT && access(path, F_OK) ? -ESRCH : 0;
	}
	out[n] = 0;
	return 0;
}

/* /proc/PID/stat: "pid (comm) state ppid ... starttime(22)". comm may hold
 * spaces and parentheses: parse from the last ')'.
 */
static int read_stat(pid_t pid, struct sf_procinfo *pi)
{
	char buf[1024], *open_p, *close_p, *p;
	ssize_t n = read_small(pid, "stat", buf, sizeof(buf));
	size_t clen;

	if (n < 0)
		return n;
	open_p = strchr(buf, '(');
	close_p = strrchr(buf, ')');
	if (!open_p || !close_p || close_p < open_p)
		return -EINVAL;
	clen = close_p - open_p - 1;
	if (clen >= sizeof(pi->comm))
		clen = sizeof(pi->comm) - 1;
	memcpy(pi->comm, open_p + 1, clen);
	pi->comm[clen] = 0;
	p = close_p + 2; /* state */
	for (int field = 3; p && *p; field++) {
		if (field == 4)
			pi->ppid = strtol(p, NULL, 10);
		if (field == 22) {
			pi->start_time = strtoull(p, NULL, 10);
			break;
		}
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	return 0;
}

static int read_status(pid_t pid, struct sf_procinfo *pi)
{
	char buf[4096], *l;
	ssize_t n = read_small(pid, "status", buf, sizeof(buf));

	if (n < 0)
		return n;
	l = strstr(buf, "\nTgid:");
	if (l)
		pi->tgid = strtol(l + 6, NULL, 10);
	l = strstr(buf, "\nUid:");
	if (l) {
		char *end;

		pi->uid = strtoul(l + 5, &end, 10);
		pi->euid = strtoul(end, NULL, 10);
	}
	return 0;
}

static int read_args(pid_t pid, struct sf_procinfo *pi)
{
	ssize_t n = read_small(pid, "cmdline", pi->args, sizeof(pi->args));

	if (n < 0)
		return n;
	while (n > 0 && pi->args[n - 1] == 0)
		n--;
	for (ssize_t i = 0; i < n; i++)
		if (pi->args[i] == 0)
			pi->args[i] = ' ';
	pi->args[n] = 0;
	return 0;
}

/* The "0::/path" line of /proc/PID/cgroup (the v2 hierarchy). */
static int read_cgroup(pid_t pid, struct sf_procinfo *pi)
{
	char buf[4096], *l;
	ssize_t n = read_small(pid, "cgroup", buf, sizeof(buf));

	if (n < 0)
		return n;
	for (l = buf; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		if (strncmp(l, "0::", 3))
			continue;
		l += 3;
		size_t len = strcspn(l, "\n");

		if (len >= sizeof(pi->cgroup))
			len = sizeof(pi->cgroup) - 1;
		memcpy(pi->cgroup, l, len);
		pi->cgroup[len] = 0;
		break;
	}
	if (sf_container_id(pi->cgroup, pi->container, sizeof(pi->container)))
		pi->container[0] = 0;
	return 0;
}

int sf_procinfo_read(pid_t pid, unsigned int what, struct sf_procinfo *pi)
{
	int err = 0;

	memset(pi, 0, offsetof(struct sf_procinfo, comm));
	pi->comm[0] = pi->exe[0] = pi->args[0] = pi->cgroup[0] = 0;
	pi->container[0] = pi->parent_exe[0] = 0;
	pi->have = 0;
	pi->pid = pi->tgid = pid;
	if (what & SF_PI_PARENT_EXE)
		what |= SF_PI_STAT;
	if (what & SF_PI_STAT)
		err = read_stat(pid, pi);
	if (!err && (what & SF_PI_STATUS))
		err = read_status(pid, pi);
	if (!err && (what & SF_PI_EXE))
		err = sf_procinfo_exe(pid, pi->exe, sizeof(pi->exe));
	if (!err && (what & SF_PI_ARGS))
		err = read_args(pid, pi);
	if (!err && (what & SF_PI_CGROUP))
		err = read_cgroup(pid, pi);
	if (!err && (what & SF_PI_PARENT_EXE) && pi->ppid > 0)
		sf_procinfo_exe(pi->ppid, pi->parent_exe,
				sizeof(pi->parent_exe));
	if (!err)
		pi->have = what;
	return err;
}

static bool is_hex64(const char *s)
{
	for (int i = 0; i < SF_CONTAINER_ID_LEN; i++)
		if (!isxdigit((unsigned char)s[i]) ||
		    isupper((unsigned char)s[i]))
			return false;
	return true;
}

int sf_container_id(const char *path, char *id, size_t len)
{
	static const char *const prefixes[] = { "docker-", "cri-containerd-",
						"crio-", "libpod-", "" };
	const char *comp = path, *end;
	const char *found = NULL;

	while (comp && *comp) {
		while (*comp == '/')
			comp++;
		end = strchr(comp, '/');
		size_t clen = end ? (size_t)(end - comp) : strlen(comp);

		for (size_t k = 0; k < sizeof(prefixes) / sizeof(*prefixes);
		     k++) {
			size_t pl = strlen(prefixes[k]);
			const char *idp = comp + pl;
			size_t rest;

			if (strncmp(comp, prefixes[k], pl))
				continue;
			rest = clen - pl;
			if (clen < pl + SF_CONTAINER_ID_LEN || !is_hex64(idp))
				continue;
			/* exactly the id, or the id then ".scope" */
			if (rest == SF_CONTAINER_ID_LEN ||
			    (rest == SF_CONTAINER_ID_LEN + 6 &&
			     !strncmp(idp + SF_CONTAINER_ID_LEN, ".scope",
				      6))) {
				found = idp;
				break;
			}
		}
		comp = end;
	}
	if (!found || len <= SF_CONTAINER_ID_LEN)
		return -ENOENT;
	memcpy(id, found, SF_CONTAINER_ID_LEN);
	id[SF_CONTAINER_ID_LEN] = 0;
	return 0;
}

bool sf_container_match(const char *id, const char *full)
{
	size_t n = strlen(id);

	return n >= 12 && n <= SF_CONTAINER_ID_LEN && full[0] &&
	       !strncmp(id, full, n);
}
