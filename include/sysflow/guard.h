/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* guard.h: the SysFlow agent as a library: enforce the rules a controller
 * programs (cgroup hooks for sockets, fanotify permission events for
 * files, tracepoints for process labels and KILL), with pinned state that
 * survives a restart. See docs/guard.md. Returns 0 or a negative errno.
 */
#ifndef __SYSFLOW_GUARD_H
#define __SYSFLOW_GUARD_H

#include <stdbool.h>
#include <stdint.h>
#include <sysflow/proto.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SF_GUARD_PIN_DIR "/sys/fs/bpf/sysflow/guard"

struct sf_agent_opts {
	const char *host; /* controller */
	const char *port;
	const char *pin_dir; /* NULL: SF_GUARD_PIN_DIR */
	const char *cgroup; /* attach the socket hooks here; NULL: the
			     * cgroup2 mount's root (every process)
			     */
	const char *const *watch; /* mounts whose opens and execs are decided
				   * by fanotify; NULL: none
				   */
	int n_watch;
	enum sf_fail_mode fail_mode;
	uint8_t miss[SF_CLASS_COUNT]; /* enum sf_miss per class */
	uint32_t echo_interval_ms; /* ECHO after this much silence; 0: 5000 */
	uint32_t dead_interval_ms; /* peer dead after this; 0: 15000 */
	uint32_t backoff_max_ms; /* reconnect backoff cap; 0: 30000 */
	uint32_t event_rate; /* events/s to the controller; 0: 1000 */
	uint32_t ask_timeout_ms; /* "ask": wait this long for a VERDICT;
				  * 0: 100; then deny (fail mode secure)
				  * or allow (open)
				  */
	uint32_t ask_max; /* operations held at most; 0: 1024 */
	const char *tls_cert, *tls_key, *tls_ca; /* all three: mutual TLS */
	const char *host_id; /* 32 hex digits; NULL: /etc/machine-id */
	bool unload_on_exit; /* remove programs and pins when stopping */
};

/* Connect, handshake and enforce until sf_exiting is set (SIGINT/SIGTERM).
 * Reconnects forever with capped exponential backoff.
 */
int sf_agent_run(const struct sf_agent_opts *opts);

/* Detach and remove everything a previous agent pinned under pin_dir. */
int sf_agent_unload(const char *pin_dir);

#ifdef __cplusplus
}
#endif

#endif /* __SYSFLOW_GUARD_H */
