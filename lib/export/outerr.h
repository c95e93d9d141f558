/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* outerr.h: write errors of one output (a file, a directory of files),
 * reported once per episode: the first failed write logs one error line
 * naming the output and the reason (strerror of the real errno), records
 * are counted as not written until a write works again, which logs one line
 * with the count of the episode. While it fails, an output tries again
 * once a second, not at every record: a nearly full disk that takes a short
 * record now and then does not flood the log.
 */
#ifndef __SYSFLOW_OUTERR_H
#define __SYSFLOW_OUTERR_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

struct sf_outerr {
	int err; /* errno of the current episode; 0: writing */
	time_t last_fail;
	uint64_t not_written; /* records lost, in total */
	uint64_t episode; /* records lost in the current episode */
};

/* A write of what ("SysFlow", "JSON lines") to name failed with errno err
 * and n records are lost; logs only when an episode begins.
 */
void sf_outerr_fail(struct sf_outerr *e, const char *what, const char *name,
		    int err, uint64_t n);

/* n records are lost to the current episode (e.g. dropped meanwhile). */
void sf_outerr_lost(struct sf_outerr *e, uint64_t n);

/* A write worked: ends an episode with one line, if there was one. */
void sf_outerr_ok(struct sf_outerr *e, const char *what, const char *name);

static inline bool sf_outerr_failing(const struct sf_outerr *e)
{
	return e->err != 0;
}

/* Failing, and the last try was less than a second ago: do not write. */
static inline bool sf_outerr_wait(const struct sf_outerr *e, time_t now)
{
	return e->err && now == e->last_fail;
}

/* The path a stream writes to, for messages: its fd's link in /proc
 * ("/var/log/x.json", "pipe:[123]"); "stdout" or "?" when unknown.
 */
const char *sf_stream_name(FILE *f, char *buf, size_t len);

#endif /* __SYSFLOW_OUTERR_H */
