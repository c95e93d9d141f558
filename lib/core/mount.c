// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* mount.c: find or mount the pseudo filesystems sysflow needs (bpffs,
 * tracefs), create directories inside them, and lock a pin directory or
 * a lock file (one live instance per directory or control socket, or
 * commands that take turns on one).
 */
#include <errno.h>
#include <fcntl.h>
#include <mntent.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>
#include "core.h"

int sf_find_mount(const char *fstype, char *path, size_t len)
{
	struct mntent *ent;
	FILE *f;
	int err = -ENOENT;

	f = setmntent("/proc/mounts", "re");
	if (!f)
		return -errno;
	while ((ent = getmntent(f))) {
		if (strcmp(ent->mnt_type, fstype))
			continue;
		if (path)
			snprintf(path, len, "%s", ent->mnt_dir);
		err = 0;
		break;
	}
	endmntent(f);
	return err;
}

static bool mounted_at(const char *fstype, const char *dir)
{
	struct mntent *ent;
	bool found = false;
	FILE *f;

	f = setmntent("/proc/mounts", "re");
	if (!f)
		return false;
	while ((ent = getmntent(f)) && !found)
		found = !strcmp(ent->mnt_type, fstype) &&
			!strcmp(ent->mnt_dir, dir);
	endmntent(f);
	return found;
}

static int mount_if_missing(const char *fstype, const char *dir)
{
	if (mounted_at(fstype, dir))
		return 0;
	if (mount(fstype, dir, fstype, 0, NULL)) {
		int err = -errno;

		pr_err("%s is not mounted at %s and mounting it failed: %s; "
		       "run 'mount -t %s %s %s' as root\n",
		       fstype, dir, strerror(-err), fstype, fstype, dir);
		return err;
	}
	pr_debug("mounted %s at %s\n", fstype, dir);
	return 0;
}

int sf_mount_bpffs(void)
{
	return mount_if_missing("bpf", SF_BPFFS);
}

int sf_mount_tracefs(void)
{
	return mount_if_missing("tracefs", SF_TRACEFS);
}

int sf_mkdir_p(const char *path, unsigned int mode)
{
	char buf[4096];
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(buf, mode) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) && errno != EEXIST)
		return -errno;
	return 0;
}

/* Is fd still the file at path? A holder that removes its lock file (or
 * its pin directory) unlinks it before it lets go; whoever locked the
 * unlinked file locked nothing and must try again on the one now there,
 * if any.
 */
static bool still_at(int fd, const char *path)
{
	struct stat a, b;

	return !fstat(fd, &a) && !stat(path, &b) && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

/* A nap between two tries of a held lock: 1 ms, doubling up to 50 ms. */
static unsigned int nap(unsigned int ms)
{
	usleep(ms * 1000);
	return ms < 25 ? ms * 2 : 50;
}

int sf_path_lock_wait(const char *path, bool create, bool shared,
		      unsigned int wait_ms)
{
	int flags = O_RDONLY | O_CLOEXEC |
		    (create ? O_CREAT | O_NOFOLLOW : O_DIRECTORY);
	uint64_t end = sf_clock_ns(CLOCK_MONOTONIC) + wait_ms * 1000000ULL;
	unsigned int ms = 1;

	for (;;) {
		int fd = open(path, flags, 0600), err;

		if (fd < 0)
			return -errno;
		if (!flock(fd, (shared ? LOCK_SH : LOCK_EX) | LOCK_NB)) {
			/* a directory removed meanwhile, or a lock file
			 * unlinked: the open fd locks nothing
			 */
			if (still_at(fd, path))
				return fd;
			close(fd);
			continue;
		}
		err = errno == EWOULDBLOCK ? -EBUSY : -errno;
		close(fd);
		if (err != -EBUSY || sf_clock_ns(CLOCK_MONOTONIC) >= end)
			return err;
		ms = nap(ms);
	}
}

int sf_path_lock(const char *path, bool create)
{
	return sf_path_lock_wait(path, create, false, 0);
}

/* The file system type of path, or of its nearest ancestor that exists. */
static int fstype_of_nearest(const char *path, long *type)
{
	char buf[4096];
	struct statfs st;
	char *slash;

	if (strlen(path) >= sizeof(buf))
		return -ENAMETOOLONG;
	snprintf(buf, sizeof(buf), "%s", path);
	while (statfs(buf, &st)) {
		if (errno != ENOENT || !strcmp(buf, ".") || !strcmp(buf, "/"))
			return -errno;
		slash = strrchr(buf, '/');
		if (!slash) /* a relative path: the current directory */
			snprintf(buf, sizeof(buf), ".");
		else if (slash == buf)
			slash[1] = 0;
		else
			*slash = 0;
	}
	*type = st.f_type;
	return 0;
}

int sf_make_pin_dir(const char *dir, const char *option)
{
	long type;
	int err = sf_mount_bpffs() ?: fstype_of_nearest(dir, &type);

	if (!err && type != BPF_FS_MAGIC) {
		pr_err("pin directory %s is not on a bpffs; choose one under "
		       "%s with %s\n",
		       dir, SF_BPFFS, option);
		return -ENOTDIR;
	}
	err = err ?: sf_mkdir_p(dir, 0700);
	if (err)
		pr_err("cannot create pin directory %s: %s\n", dir,
		       strerror(-err));
	return err;
}

void sf_remove_pin_dir(const char *dir)
{
	const char *slash = strrchr(dir, '/');

	if (rmdir(dir))
		return;
	if (slash && (size_t)(slash - dir) == strlen(SF_PIN_ROOT) &&
	    !strncmp(dir, SF_PIN_ROOT, slash - dir))
		rmdir(SF_PIN_ROOT);
}

int sf_dir_lock(const char *dir, const char *who, const char *option)
{
	int fd = sf_path_lock(dir, false);

	if (fd != -EBUSY)
		return fd;
	if (option)
		pr_err("another sysflow %s is using %s; stop it or choose "
		       "another pin directory with %s\n",
		       who, dir, option);
	else
		pr_err("a running sysflow %s is using %s; stop it first\n", who,
		       dir);
	return -EBUSY;
}
