/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* ctrl_int.h: the controller's internals: sessions (controller.c), the
 * local control socket for `sysflow ctl` (ctlsock.c) and the applications
 * (apps.c, app_*.c).
 */
#ifndef __SYSFLOW_CTRL_INT_H
#define __SYSFLOW_CTRL_INT_H

#include <jansson.h>
#include <sysflow/controller.h>
#include "proto/conn.h"
#include "proto/session.h"

#define MAX_APPS 16

enum host_state {
	HS_TLS = 0,
	HS_HELLO, /* waiting for the agent's HELLO */
	HS_FEATURES, /* FEATURES_REQUEST sent */
	HS_UP,
	HS_CLOSED, /* to be freed at the end of the loop iteration */
};

/* epoll carries a pointer to an object whose first member is its kind */
enum ep_kind { EP_LISTEN = 1, EP_CTL_LISTEN, EP_HOST, EP_CTL_CLIENT };

struct sf_host {
	int kind; /* EP_HOST */
	struct sf_ctrl *c;
	struct sf_conn conn;
	struct sf_session sess; /* HELLO, ECHO, ERROR, inactivity */
	enum host_state state;
	struct sfp_features features;
	char id_hex[33];
	uint64_t since_ms;
	uint64_t msgs_in, events_in;
	bool holds; /* its HELLO offers VERDICT: "ask" operations wait */
	uint64_t asked, answered, late; /* held EVENT_INs, VERDICTs, late */
	struct sf_host *next;
};

struct ctl_client;

struct loaded_app {
	const struct sf_app *app;
	void *state;
	void *dl; /* dlopen handle of a shared object */
};

struct sf_ctrl {
	const struct sf_ctrl_opts *o;
	struct sf_tls *tls;
	int epfd, listen_fd, ctl_fd;
	int ctl_lock_fd; /* flock on the control socket's PATH.lock */
	int listen_kind, ctl_kind; /* EP_LISTEN, EP_CTL_LISTEN */
	struct sf_host *hosts;
	struct ctl_client *clients;
	struct loaded_app apps[MAX_APPS];
	int n_apps;
	uint64_t msgs_in, events_in, sessions, replaced;
	uint64_t refused; /* sessions closed at a FEATURES_REPLY it refused */
	uint64_t asked, answered, late;
	uint64_t last_timer_ms;
};

extern const struct sf_ctrl_api sf_ctrl_api;

/* controller.c */
int64_t ctrl_send(struct sf_host *h, struct sfp_msg *m);
struct sf_host *ctrl_find_host(struct sf_ctrl *c, const char *name);
/* The first of the *n connected hosts that name (hostname, id, address)
 * matches.
 */
struct sf_host *ctrl_find_hosts(struct sf_ctrl *c, const char *name, int *n);
void ctrl_epoll(struct sf_ctrl *c, int fd, uint32_t events, void *ptr, int op);

/* The sessions without the loop, for tests/fuzz/fuzz_controller.c: a
 * controller with o's apps and no socket of its own; a session on one end
 * of a connected socket (HELLO sent to it); bytes as if read from it
 * (whole messages dispatched, a bad one answered and the session closed,
 * as in the loop); closed sessions freed; everything freed.
 */
struct sf_ctrl *ctrl_offline_new(const struct sf_ctrl_opts *o, int *err);
struct sf_host *ctrl_offline_host(struct sf_ctrl *c, int fd);
void ctrl_offline_feed(struct sf_host *h, const uint8_t *data, size_t len);
void ctrl_offline_sweep(struct sf_ctrl *c);
void ctrl_offline_free(struct sf_ctrl *c);

/* ctlsock.c: epoll data pointers are tagged by their first member */
int ctl_open(struct sf_ctrl *c, const char *path);
void ctl_close(struct sf_ctrl *c, const char *path);
void ctl_accept(struct sf_ctrl *c);
void ctl_client_io(struct sf_ctrl *c, struct ctl_client *cl, uint32_t ev);
/* A message from a host: answer pending ctl requests, stream events. */
void ctl_host_message(struct sf_ctrl *c, struct sf_host *h,
		      const struct sfp_msg *m);
void ctl_host_gone(struct sf_ctrl *c, struct sf_host *h);
json_t *ctl_host_json(const struct sf_host *h);
void ctl_tick(struct sf_ctrl *c, uint64_t now_ms);

/* ctlreq.c: one control socket request, checked (no host looked up) */
enum ctl_cmd {
	CTL_HOSTS = 1,
	CTL_RULES,
	CTL_ADD,
	CTL_DEL,
	CTL_MISS,
	CTL_EVENTS,
	CTL_STATS,
};

struct ctl_request {
	enum ctl_cmd cmd;
	char host[128]; /* rules, add, del, miss: a name, id or peer */
	struct sfp_flow_mod fm; /* add; del: DELETE or DELETE_STRICT */
	int8_t miss[SF_CLASS_COUNT]; /* miss: SF_MISS_*, -1 unchanged */
};

/* Parse one request line (without its newline). Returns 0, or -EINVAL
 * with the text of the error reply in err.
 */
int ctl_request_parse(const char *line, struct ctl_request *r, char *err,
		      size_t len);
/* The error reply {"error": text}, for every text (NULL: out of memory) */
json_t *ctl_error_json(const char *text);

/* apps.c */
int apps_load(struct sf_ctrl *c);
void apps_unload(struct sf_ctrl *c);
void apps_connect(struct sf_ctrl *c, struct sf_host *h);
void apps_message(struct sf_ctrl *c, struct sf_host *h,
		  const struct sfp_msg *m);
void apps_message_out(struct sf_ctrl *c, struct sf_host *h,
		      const struct sfp_msg *m);
void apps_disconnect(struct sf_ctrl *c, struct sf_host *h);
void apps_timer(struct sf_ctrl *c, uint64_t now_ms);
void apps_reload(struct sf_ctrl *c);

extern const struct sf_app sf_app_policy, sf_app_dlp, sf_app_acl;

/* Host selectors shared by the apps: "*" or "all", a hostname, a host id,
 * or a JSON array of those.
 */
bool ctrl_host_selected(const struct sf_host *h, json_t *sel);

#endif /* __SYSFLOW_CTRL_INT_H */
