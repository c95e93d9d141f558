// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* rotfile.c: periodically rotated output files in a directory. */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "core/core.h"
#include "rotfile.h"

int sf_rotfile_init(struct sf_rotfile *r, const char *dir, const char *prefix,
		    const char *suffix, long period_s)
{
	struct stat st;
	int err;

	memset(r, 0, sizeof(*r));
	snprintf(r->dir, sizeof(r->dir), "%s", dir);
	snprintf(r->prefix, sizeof(r->prefix), "%s", prefix);
	snprintf(r->suffix, sizeof(r->suffix), "%s", suffix);
	r->period_s = period_s > 0 ? period_s : 3600;
	err = sf_mkdir_p(dir, 0755); /* made when missing */
	if (err) {
		pr_err("cannot create output directory %s: %s\n", dir,
		       strerror(-err));
		return err;
	}
	if (stat(dir, &st) == 0 && !S_ISDIR(st.st_mode))
		err = -ENOTDIR;
	if (!err && access(dir, W_OK | X_OK))
		err = -errno;
	if (err)
		pr_err("output directory %s is not writable: %s\n", dir,
		       strerror(-err));
	return err;
}

FILE *sf_rotfile_get(struct sf_rotfile *r, time_t now)
{
	time_t slot = now - now % r->period_s;
	char stamp[32];
	struct tm tm;

	if (r->f && slot == r->slot)
		return r->f;
	sf_rotfile_close(r);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", gmtime_r(&slot, &tm));
	snprintf(r->path, sizeof(r->path), "%s/%s-%s%s", r->dir, r->prefix,
		 stamp, r->suffix);
	r->f = fopen(r->path, "ae");
	if (!r->f) {
		pr_err("cannot open %s: %s\n", r->path, strerror(errno));
		return NULL;
	}
	r->slot = slot;
	return r->f;
}

void sf_rotfile_close(struct sf_rotfile *r)
{
	if (r->f && fclose(r->f))
		pr_err("closing %s failed: %s\n", r->path, strerror(errno));
	r->f = NULL;
}
