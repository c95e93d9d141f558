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
/* Defaults of struct sf_agent_opts, with SFP_ECHO_INTERVAL_MS and
 * SFP_DEAD_INTERVAL_MS of <sysflow/proto.h>.
 */
#define SF_AGENT_BACKOFF_MAX_MS 30000
#define SF_AGENT_EVENT_RATE 1000
#define SF_AGENT_ASK_TIMEOUT_MS 100
#define SF_AGENT_ASK_MAX 1024

/* Options of sf_agent_run(). Fill them with sf_agent_opts_init(), then set
 * host and port and what else differs; a field left 0 (NULL) also means
 * its default.
 */
struct sf_agent_opts {
	const char *host; /* controller; no default */
	const char *port;
	const char *pin_dir; /* SF_GUARD_PIN_DIR */
	const char *cgroup; /* attach the socket hooks here; NULL: the
			     * cgroup2 mount's root (every process)
			     */
	const char *const *watch; /* mounts whose opens and execs are decided
				   * by fanotify; NULL: none
				   */
	int n_watch;
	enum sf_fail_mode fail_mode; /* SF_FAIL_SECURE */
	/* enum sf_miss per class until the controller sets it: SF_MISS_ALLOW */
	uint8_t miss[SF_CLASS_COUNT];
	/* ECHO after this much silence: SFP_ECHO_INTERVAL_MS */
	uint32_t echo_interval_ms;
	/* peer dead after this: SFP_DEAD_INTERVAL_MS */
	uint32_t dead_interval_ms;
	/* reconnect backoff cap: SF_AGENT_BACKOFF_MAX_MS */
	uint32_t backoff_max_ms;
	/* events/s to the controller: SF_AGENT_EVENT_RATE */
	uint32_t event_rate;
	/* "ask": wait this long for a VERDICT (SF_AGENT_ASK_TIMEOUT_MS), then
	 * deny (fail mode secure) or allow (open)
	 */
	uint32_t ask_timeout_ms;
	uint32_t ask_max; /* operations held at most: SF_AGENT_ASK_MAX */
	const char *tls_cert, *tls_key, *tls_ca; /* all three: mutual TLS */
	const char *host_id; /* 32 hex digits; NULL: /etc/machine-id */
	bool unload_on_exit; /* remove programs and pins when stopping */
	/* called once, when set up (programs attached, rules restored),
	 * before the first connection: a daemon's parent learns from it
	 * that the start worked
	 */
	void (*on_ready)(void *ctx);
	void *ready_ctx;
};

/* Fill opts with the defaults above. */
void sf_agent_opts_init(struct sf_agent_opts *opts);

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
