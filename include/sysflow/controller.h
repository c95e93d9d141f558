/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* controller.h: the SysFlow controller and its application interface. An
 * application is a struct sf_app of callbacks; the controller calls them
 * on session events and messages, and the application acts through the
 * struct sf_ctrl_api it is handed (a table of functions, so a shared
 * object loaded with --app needs no symbols from the sysflow binary).
 * docs/extending.md shows how to write one; examples/app_sample.c is one.
 */
#ifndef __SYSFLOW_CONTROLLER_H
#define __SYSFLOW_CONTROLLER_H

#include <stdbool.h>
#include <stdint.h>
#include <sysflow/proto.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SF_APP_API_VERSION 2 /* 2: verdict(), host_holds() */
#define SF_APP_SYMBOL "sysflow_app" /* const struct sf_app sysflow_app */

struct sf_ctrl; /* the controller */
struct sf_host; /* one agent's session */

struct sf_ctrl_api {
	uint32_t version; /* SF_APP_API_VERSION */
	/* Send a FLOW_MOD; returns its xid or a negative errno. */
	int64_t (*send_flow_mod)(struct sf_host *h,
				 const struct sfp_flow_mod *fm);
	/* Send any message (xid 0 takes the next); xid or -errno. */
	int64_t (*send)(struct sf_host *h, struct sfp_msg *m);
	/* A host by hostname, host id (hex) or peer address; NULL. */
	struct sf_host *(*find_host)(struct sf_ctrl *c, const char *name);
	/* Call cb for each established host; a non-zero return stops. */
	int (*foreach_host)(struct sf_ctrl *c,
			    int (*cb)(void *ctx, struct sf_host *h), void *ctx);
	const char *(*host_name)(const struct sf_host *h);
	const char *(*host_id)(const struct sf_host *h); /* 32 hex digits */
	const struct sfp_features *(*host_features)(const struct sf_host *h);
	/* Levelled log line (SF_LOG_ERROR..SF_LOG_DEBUG of sysflow/log.h). */
	void (*log)(int level, const char *fmt, ...)
		__attribute__((format(printf, 2, 3)));
	/* Version 2. Answer a held operation: an EVENT_IN whose reason is
	 * SFP_EV_HELD, by its event.hold_id (a FLOW_MOD sent before makes
	 * the answer permanent). Returns the VERDICT's xid or -errno.
	 */
	int64_t (*verdict)(struct sf_host *h, uint32_t hold_id, bool deny);
	/* Version 2. The host holds "ask" operations for a VERDICT. */
	bool (*host_holds)(const struct sf_host *h);
};

struct sf_app {
	const char *name;
	/* args: the text given with --app-args (or the app's own option);
	 * returns the app's state, or NULL to refuse to start.
	 */
	void *(*init)(struct sf_ctrl *c, const struct sf_ctrl_api *api,
		      const char *args);
	void (*fini)(void *state);
	/* The host answered FEATURES: the session is usable. */
	void (*on_connect)(void *state, struct sf_host *h);
	/* Every message from an established host, after the controller's
	 * own handling (echo, errors in the log).
	 */
	void (*on_message)(void *state, struct sf_host *h,
			   const struct sfp_msg *m);
	/* Every message the controller sends to a host. */
	void (*on_message_out)(void *state, struct sf_host *h,
			       const struct sfp_msg *m);
	void (*on_disconnect)(void *state, struct sf_host *h);
	/* About once a second. */
	void (*on_timer)(void *state, uint64_t now_ms);
	/* SIGHUP: reread configuration; sessions stay up. */
	void (*on_reload)(void *state);
};

/* What an application's shared object exports under SF_APP_SYMBOL. The
 * declaration gives the definition external C linkage in C++ too, where a
 * const object would otherwise be internal and invisible to dlsym().
 */
extern const struct sf_app sysflow_app;

#define SF_CTRL_PORT "6653" /* SFP_DEFAULT_PORT, the default port */

/* Options of sf_controller_run(). Fill them with sf_ctrl_opts_init(), then
 * set what differs; a field left 0 (NULL) also means its default.
 */
struct sf_ctrl_opts {
	const char *listen_host; /* NULL: every address */
	const char *port; /* SF_CTRL_PORT */
	const char *ctl_path; /* local control socket; NULL: none */
	const char *tls_cert, *tls_key, *tls_ca; /* all three: mutual TLS */
	uint32_t echo_interval_ms; /* SFP_ECHO_INTERVAL_MS */
	uint32_t dead_interval_ms; /* SFP_DEAD_INTERVAL_MS */
	const char *policy_file; /* built-in app "policy" */
	const char *dlp_file; /* built-in app "dlp": the sensitive file */
	const char *dlp_action; /* "isolate" (NULL means it too) or "encode" */
	const char *acl_file; /* built-in app "acl" */
	const char *const *app_paths; /* shared objects to load */
	int n_app_paths;
	const char *app_args;
};

/* Fill opts with the defaults above: the built-in apps off, none loaded. */
void sf_ctrl_opts_init(struct sf_ctrl_opts *opts);

/* Serve until sf_exiting is set (SIGINT/SIGTERM); SIGHUP reloads apps. */
int sf_controller_run(const struct sf_ctrl_opts *opts);

#ifdef __cplusplus
}
#endif

#endif /* __SYSFLOW_CONTROLLER_H */
