// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* log.c: levelled logging to stderr or a file, shared by every part. */
#include <errno.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/libbpf.h>
#include <sysflow/log.h>
#include "core.h"

static enum sf_log_level log_level = SF_LOG_INFO;
static FILE *log_file;
static char *log_path;
static unsigned long long log_lost; /* messages the file did not take */
static int log_errno; /* why: ENOSPC, EIO, ... */
static bool libbpf_quiet;
static bool libbpf_debug;

static const char *const level_names[] = {
	[SF_LOG_ERROR] = "error",
	[SF_LOG_WARN] = "warn",
	[SF_LOG_INFO] = "info",
	[SF_LOG_DEBUG] = "debug",
};

void sf_log_set_level(enum sf_log_level level)
{
	log_level = level;
}

enum sf_log_level sf_log_get_level(void)
{
	return log_level;
}

int sf_log_parse_level(const char *name, enum sf_log_level *level)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(*level_names);
	     i++) {
		if (!strcmp(name, level_names[i])) {
			*level = i;
			return 0;
		}
	}
	return -EINVAL;
}

int sf_log_set_file(const char *path)
{
	FILE *f = NULL;

	if (path) {
		f = fopen(path, "ae");
		if (!f)
			return -errno;
		setvbuf(f, NULL, _IOLBF, 0);
	}
	if (log_file)
		fclose(log_file);
	free(log_path);
	log_path = path ? strdup(path) : NULL;
	log_file = f;
	log_lost = 0;
	return 0;
}

/* After a message to the log file: a write that failed (a full disk) is
 * said once on stderr and the messages are counted until one gets
 * through, which is then preceded by how many were lost. What a failed
 * write left in the buffer is dropped, so no half line follows later.
 */
static bool log_file_failed(void)
{
	if (fflush(log_file) == 0 && !ferror(log_file))
		return false;
	if (!log_lost++) {
		log_errno = errno ?: EIO;
		fprintf(stderr,
			"sysflow: error: writing the log to %s failed: %s; "
			"messages are counted until it works again\n",
			log_path ?: "?", strerror(log_errno));
	}
	__fpurge(log_file);
	clearerr(log_file);
	return true;
}

static void log_stamp(FILE *out, enum sf_log_level level)
{
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;

	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S",
		 localtime_r(&now, &tm));
	fprintf(out, "%s %s: ", stamp, level_names[level]);
}

static void log_to_file(enum sf_log_level level, const char *fmt, va_list ap)
{
	if (log_lost) {
		log_stamp(log_file, SF_LOG_WARN);
		fprintf(log_file, "%llu log messages were lost: %s\n", log_lost,
			strerror(log_errno));
		if (log_file_failed())
			log_lost--; /* only this line was lost, not counted */
		else
			log_lost = 0;
	}
	log_stamp(log_file, level);
	vfprintf(log_file, fmt, ap);
	log_file_failed();
}

void sf_log_quiet_libbpf(bool quiet)
{
	libbpf_quiet = quiet;
}

void sf_log_libbpf_debug(bool on)
{
	libbpf_debug = on;
}

void sf_vlog(enum sf_log_level level, const char *fmt, va_list ap)
{
	if (level > log_level)
		return;
	if (log_file) {
		log_to_file(level, fmt, ap);
		return;
	}
	if (level <= SF_LOG_WARN)
		fprintf(stderr, "sysflow: %s: ", level_names[level]);
	vfprintf(stderr, fmt, ap);
}

void sf_log(enum sf_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sf_vlog(level, fmt, ap);
	va_end(ap);
}

/* libbpf's warnings are info messages and its info our debug ones (we
 * explain failures ourselves, naming the object and the fix); its debug
 * output, the verifier's log among it, only with sf_log_libbpf_debug().
 */
static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	enum sf_log_level ours = SF_LOG_DEBUG;

	if (libbpf_quiet || (level == LIBBPF_DEBUG && !libbpf_debug))
		return 0;
	if (level == LIBBPF_WARN)
		ours = SF_LOG_INFO;
	sf_vlog(ours, fmt, ap);
	return 0;
}

void sf_log_init(void)
{
	const char *env = getenv(SF_LOG_ENV);
	enum sf_log_level level;

	if (env && sf_log_parse_level(env, &level) == 0)
		log_level = level;
	else if (env && *env)
		pr_warn("%s='%s' is not a log level (error, warn, info or "
			"debug); using info\n",
			SF_LOG_ENV, env);
	libbpf_set_print(libbpf_print);
}
