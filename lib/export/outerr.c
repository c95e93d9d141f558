// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* outerr.c: write errors of an output, one message per episode and every
 * record not written counted (see outerr.h).
 */
#include <string.h>
#include <unistd.h>
#include "core/core.h"
#include "outerr.h"

void sf_outerr_fail(struct sf_outerr *e, const char *what, const char *name,
		    int err, uint64_t n)
{
	e->last_fail = time(NULL);
	if (!e->err) {
		pr_err("writing %s to %s failed: %s; records are counted as "
		       "not written until a write works again\n",
		       what, name, strerror(err));
		e->err = err;
		e->episode = 0;
	}
	sf_outerr_lost(e, n);
}

void sf_outerr_lost(struct sf_outerr *e, uint64_t n)
{
	e->not_written += n;
	e->episode += n;
}

void sf_outerr_ok(struct sf_outerr *e, const char *what, const char *name)
{
	if (!e->err)
		return;
	pr_info("writing %s to %s again; %llu records were not written\n", what,
		name, (unsigned long long)e->episode);
	e->err = 0;
	e->episode = 0;
}

const char *sf_stream_name(FILE *f, char *buf, size_t len)
{
	int fd = f ? fileno(f) : -1;
	char link[64];
	ssize_t n;

	if (!len)
		return buf;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = fd < 0 ? -1 : readlink(link, buf, len - 1);
	if (n > 0)
		buf[n] = 0;
	else
		snprintf(buf, len, "%s", fd == STDOUT_FILENO ? "stdout" : "?");
	return buf;
}
