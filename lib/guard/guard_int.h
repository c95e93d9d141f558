/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* guard_int.h: the agent's internals. bpf.c owns the BPF object, its pins
 * and maps; table.c the rule table and how rules become kernel entries or
 * fanotify decisions; isolate.c the subject actions on sockets a process
 * already has; fan.c the fanotify permission listener; agent.c the
 * controller session and the event loop. Functions return 0 or -errno.
 */
#ifndef __SYSFLOW_GUARD_INT_H
#define __SYSFLOW_GUARD_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/types.h>
#include <sysflow/guard.h>
#include <sysflow/proto.h>
#include "guard.h"
#include "core/procinfo.h"

/* ---- bpf.c: programs, pinned maps, links ---- */

struct guard_kern;

/* Open the programs with maps reused from pin_dir (or pinned there when
 * new), attach the cgroup hooks to cgroup_path and the tracepoints, and
 * pin the links so enforcement survives the agent. *restored is true when
 * pinned state from an earlier agent was found. On failure, pins it made
 * in a folder without an earlier agent's are removed again.
 */
struct guard_kern *guard_bpf_open(const char *pin_dir, const char *cgroup_path,
				  bool *restored, int *err);
/* The same object loaded but attached nowhere and pinned nowhere: maps
 * that only this process holds (the agent's fuzz target). cgroup_path is
 * what the table takes as the hooks' cgroup.
 */
struct guard_kern *guard_bpf_open_unattached(const char *cgroup_path, int *err);
/* unload: detach everything and remove the pins; else leave them. */
void guard_bpf_close(struct guard_kern *b, bool unload);
/* Remove the pins under pin_dir without loading anything: -ENOENT when
 * nothing is there, -EBUSY under a running agent (said), -ENOTEMPTY when
 * files that are not the agent's remain.
 */
int guard_bpf_unload_pins(const char *pin_dir);

int guard_bpf_entry_set(struct guard_kern *b, const struct guard_key *k,
			const struct guard_value *v);
int guard_bpf_entry_del(struct guard_kern *b, const struct guard_key *k);
int guard_bpf_mask_set(struct guard_kern *b, uint32_t slot,
		       const struct guard_mask *m);
int guard_bpf_mask_read(struct guard_kern *b, uint32_t slot,
			struct guard_mask *m);
void guard_bpf_set_n_masks(struct guard_kern *b, uint32_t n);
void guard_bpf_set_miss_socket(struct guard_kern *b, uint8_t miss);
void guard_bpf_set_need(struct guard_kern *b, uint8_t need);
void guard_bpf_set_n_exes(struct guard_kern *b, uint32_t n);
/* Sum of the per-CPU counters of a slot; last hit in monotonic ns. */
int guard_bpf_counter(struct guard_kern *b, uint32_t slot, uint64_t *hits,
		      uint64_t *last_ns);
int guard_bpf_counter_reset(struct guard_kern *b, uint32_t slot);
int guard_bpf_exe_set(struct guard_kern *b, const char *path, uint32_t id);
int guard_bpf_exe_del(struct guard_kern *b, const char *path);
/* Label a running process (found by a /proc scan). */
int guard_bpf_label(struct guard_kern *b, uint32_t tgid, uint32_t exe_id,
		    uint32_t pexe_id);
int guard_bpf_get_label(struct guard_kern *b, uint32_t tgid,
			struct guard_proc *p);
/* Queue sig for tgid; the exit tracepoint of its syscall sends it. */
int guard_bpf_kill(struct guard_kern *b, uint32_t tgid, uint32_t sig);
/* Open flags of process tgid's last open (GUARD_O_*); -ENOENT if none. */
int guard_bpf_open_flags(struct guard_kern *b, uint32_t tgid, uint32_t *flags);
/* Walk the kernel's exe ids and rule entries (restore after a restart). */
typedef void (*guard_exe_cb)(void *ctx, const char *path, uint32_t id);
void guard_bpf_exe_walk(struct guard_kern *b, guard_exe_cb cb, void *ctx);
typedef bool (*guard_entry_keep_cb)(void *ctx, const struct guard_key *k);
/* Delete every kernel entry for which keep() says false. */
void guard_bpf_entries_prune(struct guard_kern *b, guard_entry_keep_cb keep,
			     void *ctx);
void guard_bpf_stats(struct guard_kern *b, uint64_t out[GS_MAX]);
/* How many entries a map holds now (tests check what a rule left). */
enum guard_bpf_counted {
	GUARD_COUNT_RULES, /* kernel rule entries */
	GUARD_COUNT_EXES, /* exe_ids */
	GUARD_COUNT_ISO_SOCKS,
	GUARD_COUNT_STORE, /* the pinned rule store */
};
uint32_t guard_bpf_count(struct guard_kern *b, enum guard_bpf_counted what);
/* The cgroup the socket hooks act on, as given (a path). */
const char *guard_bpf_cgroup_path(struct guard_kern *b);
/* The cgroup_skb programs that drop isolated sockets' packets attached. */
bool guard_bpf_skb_drop(struct guard_kern *b);
int guard_bpf_iso_sock_add(struct guard_kern *b, uint64_t cookie,
			   const struct guard_iso_sock *v);
int guard_bpf_iso_sock_del(struct guard_kern *b, uint64_t cookie);
/* Visit every isolated socket; the ones for which cb says false go. */
typedef bool (*guard_iso_sock_cb)(void *ctx, uint64_t cookie,
				  const struct guard_iso_sock *v);
void guard_bpf_iso_socks_walk(struct guard_kern *b, guard_iso_sock_cb cb,
			      void *ctx);

typedef int (*guard_event_cb)(void *ctx, const struct guard_event *e);
int guard_bpf_events_fd(struct guard_kern *b);
int guard_bpf_poll_events(struct guard_kern *b, guard_event_cb cb, void *ctx);

/* The rule store: each rule's FLOW_MOD bytes, pinned, so a restarted
 * agent rebuilds its table. installed_ns is CLOCK_REALTIME.
 */
int guard_bpf_store_put(struct guard_kern *b, uint32_t slot, const void *msg,
			size_t len, uint64_t installed_ns);
int guard_bpf_store_del(struct guard_kern *b, uint32_t slot);
typedef int (*guard_store_cb)(void *ctx, uint32_t slot, const void *msg,
			      size_t len, uint64_t installed_ns);
int guard_bpf_store_walk(struct guard_kern *b, guard_store_cb cb, void *ctx);

/* ---- table.c: the rule table ---- */

struct guard_table;

struct guard_rule {
	uint32_t slot;
	struct sfp_flow_mod fm; /* command ADD; match, actions, timeouts */
	uint64_t installed_ms; /* monotonic */
	uint64_t installed_real_ns;
	uint64_t last_hit_ms; /* monotonic, user-space hits */
	uint64_t user_hits; /* decided in user space (fanotify) */
	uint64_t hits_base; /* kernel hits at the last reset */
	uint16_t kflags; /* GF_* */
	bool kernel; /* some operation is enforced in the kernel */
	bool file; /* some operation is decided through fanotify */
	/* kernel entries this rule produced */
	struct guard_key *keys;
	uint32_t n_keys;
	uint32_t exe_id, pexe_id;
	uint64_t *cgroup_ids; /* resolved for CGROUP/CONTAINER */
	uint32_t n_cgroup_ids;
	struct guard_rule *next_path; /* exact-path index chain */
};

/* What the agent enforces, per operation, on this kernel. */
struct guard_caps {
	uint8_t mechanism[SF_OP_COUNT]; /* SF_MECH_* */
	uint32_t actions[SF_OP_COUNT]; /* bit n: action n */
};

struct guard_table *guard_table_new(struct guard_kern *b,
				    const struct guard_caps *caps,
				    const char *cgroup_root);
void guard_table_free(struct guard_table *t);

/* Rebuild from the pinned rule store (after an agent restart). */
int guard_table_restore(struct guard_table *t);

/* Callback for rules that go away (timeouts, deletes). */
typedef void (*guard_removed_cb)(void *ctx, const struct guard_rule *r,
				 uint8_t reason, uint64_t hits);

/* Apply a FLOW_MOD. Returns 0 or an SFP_ERR() code (the ERROR to send). */
int guard_table_flow_mod(struct guard_table *t, const struct sfp_flow_mod *fm,
			 guard_removed_cb cb, void *ctx);
/* Expire rules past their idle or hard timeout; refresh names that map
 * to cgroups; drop isolation entries of processes that exited.
 */
void guard_table_tick(struct guard_table *t, uint64_t now_ms,
		      guard_removed_cb cb, void *ctx);
uint32_t guard_table_count(struct guard_table *t);
/* Is every rule one this kernel enforces, with the kernel entries and
 * file index of the operations its actions allow? 0, or -(slot + 1) of
 * the first that is not (the fuzz target's invariant).
 */
int guard_table_check(struct guard_table *t);
uint64_t guard_rule_hits(struct guard_table *t, const struct guard_rule *r);
uint32_t guard_rule_duration(const struct guard_rule *r, uint64_t now_ms);
struct guard_rule *guard_table_slot(struct guard_table *t, uint32_t slot);
/* Visit rules whose cookie matches (cookie_mask 0: all). */
typedef int (*guard_rule_cb)(void *ctx, struct guard_rule *r);
int guard_table_walk(struct guard_table *t, uint64_t cookie,
		     uint64_t cookie_mask, guard_rule_cb cb, void *ctx);

/* A file operation seen by fanotify. */
struct guard_file_event {
	pid_t pid; /* process that opens (tgid) */
	uint8_t op;
	const char *path; /* NULL until guard_file_path() resolves it */
	char *path_buf; /* PATH_MAX bytes for it */
	int fd_dir; /* /proc/self/fd, to resolve the path from fd */
	struct sf_procinfo *pi; /* filled lazily by the matcher */
	unsigned int pi_have;
	int fd; /* the fanotify event's descriptor */
	bool held; /* set by the decider: it answers later (hold.c) */
};

/* Does any rule decide file operations? None: no event needs its path
 * or its open flags to be matched.
 */
bool guard_table_has_file_rules(const struct guard_table *t);
/* Best rule for a file event, or NULL (a miss). The caller counts. The
 * event's path must be resolved (guard_file_path()).
 */
struct guard_rule *guard_table_match_file(struct guard_table *t,
					  struct guard_file_event *ev,
					  uint64_t now_ms);
/* Subject-level actions: ISOLATION (no network) and QUARANTINE (no
 * network, no file writes) for a process, until it exits.
 */
int guard_table_isolate(struct guard_table *t, uint32_t tgid,
			const struct guard_rule *why, bool quarantine);
bool guard_table_quarantined(struct guard_table *t, uint32_t tgid);
/* Label processes already running whose exe is a rule's (after adding). */
void guard_table_scan_procs(struct guard_table *t);

/* ---- isolate.c: the sockets a process already has ---- */

/* Cookies of one process's sockets put in the kernel's drop map. */
struct guard_socks {
	uint64_t *cookies;
	uint32_t n, cap;
};

/* Put pid's IP sockets not yet in s into the drop map with value v.
 * Returns how many were added, or -errno (guard_pidfd_error() explains).
 */
int guard_socks_isolate(struct guard_kern *b, pid_t pid,
			const struct guard_iso_sock *v, struct guard_socks *s);
/* Take s's sockets out of the drop map and free s. */
void guard_socks_release(struct guard_kern *b, struct guard_socks *s);
/* Set the DSCP on pid's IP sockets: their count, or -errno. */
int guard_socks_encode(pid_t pid, uint8_t dscp);
/* Does pidfd_getfd work on another process here? 0 or -errno. */
int guard_socks_probe(void);
const char *guard_pidfd_error(int err);
/* Probe and drop from caps the subject actions that cannot be kept. */
void guard_socks_caps(struct guard_kern *b, struct guard_caps *caps);

/* ---- fan.c: fanotify permission decisions ---- */

struct guard_fan;

typedef int (*guard_fan_decide)(void *ctx, struct guard_file_event *ev,
				bool *deny);

struct guard_fan *guard_fan_open(const char *const *paths, int n, int *err);
/* The event's file path, read from /proc/self/fd the first time it is
 * needed ("" if that fails).
 */
const char *guard_file_path(struct guard_file_event *ev);
int guard_fan_fd(struct guard_fan *f);
/* Read the queued permission events and answer each. */
int guard_fan_handle(struct guard_fan *f, guard_fan_decide decide, void *ctx);
/* Answer everything still queued (allow, or decide when secure) and
 * close: a dying listener leaves no process blocked.
 */
void guard_fan_close(struct guard_fan *f, guard_fan_decide decide, void *ctx);
uint64_t guard_fan_decisions(struct guard_fan *f);
/* Answer a held event (its descriptor from guard_file_event.fd) and close
 * the descriptor.
 */
void guard_fan_answer(struct guard_fan *f, int fd, bool deny);

/* ---- hold.c: file operations waiting for the controller's VERDICT ---- */

struct guard_holds;

struct guard_holds *guard_holds_new(uint32_t max);
void guard_holds_free(struct guard_holds *h);
uint32_t guard_holds_count(const struct guard_holds *h);
/* Hold fanotify event descriptor fd until deadline_ms; its id, or 0 when
 * max operations are already held.
 */
uint32_t guard_holds_add(struct guard_holds *h, int fd, uint64_t deadline_ms);
/* Take the operation of id out: its descriptor, or -ENOENT. */
int guard_holds_take(struct guard_holds *h, uint32_t id);
/* Earliest deadline (monotonic ms), UINT64_MAX when nothing is held. */
uint64_t guard_holds_next_deadline(const struct guard_holds *h);
/* Take one operation past its deadline, or any: a descriptor or -ENOENT. */
int guard_holds_take_expired(struct guard_holds *h, uint64_t now_ms);
int guard_holds_take_any(struct guard_holds *h);

/* ---- agent.c: the message handlers without the event loop ---- */

struct agent;

/* What an agent on b enforces, file operations (fanotify) included. */
void guard_agent_probe_caps(struct guard_kern *b, struct guard_caps *caps);
/* An agent over guard object b enforcing caps (its table new and empty)
 * whose controller session is socket fd (the agent takes it), HELLO
 * sent, nothing watched: what the fuzz target drives.
 */
struct agent *guard_agent_offline_new(const struct sf_agent_opts *o,
				      struct guard_kern *b,
				      const struct guard_caps *caps, int fd,
				      int *err);
/* One whole message through the agent's dispatch, as read from the
 * session: 0, or negative when the agent closes the session.
 */
int guard_agent_offline_receive(struct agent *a, const uint8_t *raw,
				size_t len);
struct guard_table *guard_agent_offline_table(struct agent *a);
/* Free the agent and its table; b stays open, its entries stay. */
void guard_agent_offline_free(struct agent *a);

#endif /* __SYSFLOW_GUARD_INT_H */
