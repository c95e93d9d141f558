/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* rotfile.h: output files in a directory, one per period (e.g. hourly),
 * named <prefix>-YYYYmmddTHHMMSS<suffix> after the period's start (UTC).
 */
#ifndef __SYSFLOW_ROTFILE_H
#define __SYSFLOW_ROTFILE_H

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

struct sf_rotfile {
	char dir[PATH_MAX];
	char prefix[64];
	char suffix[16];
	long period_s;
	time_t slot; /* start of the open file's period */
	FILE *f;
	char path[PATH_MAX];
	uint64_t write_errors; /* records lost to failed writes */
};

/* Create dir if needed and check that it is writable; errors name it. */
int sf_rotfile_init(struct sf_rotfile *r, const char *dir, const char *prefix,
		    const char *suffix, long period_s);

/* The file for time now, rotating when a new period began; NULL on error. */
FILE *sf_rotfile_get(struct sf_rotfile *r, time_t now);

void sf_rotfile_close(struct sf_rotfile *r);

#endif /* __SYSFLOW_ROTFILE_H */
