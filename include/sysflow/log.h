/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* log.h: levelled logging for libsysflow and the CLI. Messages go to stderr
 * (or a log file); stdout is left for data. libbpf's own messages are routed
 * through the same printer, one level lower.
 */
#ifndef __SYSFLOW_LOG_H
#define __SYSFLOW_LOG_H

#include <stdarg.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

enum sf_log_level {
	SF_LOG_ERROR = 0,
	SF_LOG_WARN,
	SF_LOG_INFO,
	SF_LOG_DEBUG,
};

#define SF_LOG_ENV "SYSFLOW_LOG" /* error, warn, info or debug */

/* Set the level; messages above it are dropped. Default: SF_LOG_INFO, or
 * the level named by $SYSFLOW_LOG.
 */
void sf_log_set_level(enum sf_log_level level);
enum sf_log_level sf_log_get_level(void);

/* Parse "error", "warn", "info" or "debug"; returns -EINVAL otherwise. */
int sf_log_parse_level(const char *name, enum sf_log_level *level);

/* Append messages to path instead of stderr; NULL goes back to stderr. */
int sf_log_set_file(const char *path);

/* Hide libbpf's messages (before a load whose failure we explain). */
void sf_log_quiet_libbpf(bool quiet);

/* Show libbpf's debug output, the verifier's log among it (-v -v). */
void sf_log_libbpf_debug(bool on);

/* Route libbpf's output through sf_log and read $SYSFLOW_LOG. */
void sf_log_init(void);

void sf_log(enum sf_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void sf_vlog(enum sf_log_level level, const char *fmt, va_list ap);

#ifdef __cplusplus
}
#endif

#endif /* __SYSFLOW_LOG_H */
