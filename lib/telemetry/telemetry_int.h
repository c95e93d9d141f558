/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* telemetry_int.h: the inside of libsysflow's telemetry driver: the
 * process, file and container tables, flows, outputs and the capture.
 *
 *   capture.c   BPF skeleton: load, attach, ring buffers, kernel tables
 *   tables.c    processes (/proc at start), files (FOID), containers, users
 *   flows.c     file and network flows: kernel counters, timers, truncation
 *   procfs.c    processes and containers from /proc
 *   events.c    ring buffer events -> process records, the dispatcher
 *   fdevents.c  fd and file events -> flows and file events
 *   out.c       entities before records, headers, fan-out to the sinks
 *   schema.c    SysFlow v5 schema, embedded from sysflow.avsc at build time
 *   avro.c      Avro encoding of the schema, rotated Avro files
 *   sock.c      SOCK_SEQPACKET client with reconnect
 *   json_out.c  flattened JSON lines
 *   filter.c    Falco-style filter expressions
 *   driver.c    the public API (sysflow/telemetry.h)
 */
#ifndef __SYSFLOW_TELEMETRY_INT_H
#define __SYSFLOW_TELEMETRY_INT_H

#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <linux/types.h>
#include <sysflow/telemetry.h>
#include "collect.h"
#include "export/outerr.h"
#include "htab.h"

#define NSEC_PER_SEC 1000000000LL
#define FLOW_EXPORT_S 30 /* SysFlow's m_nfExportInterval */
#define FLOW_EXPIRE_S 60 /* SysFlow's m_nfExpireInterval */
#define SOCK_MAX_RECORD 16384 /* sf-processor's read buffer */

struct tel_driver;
struct tel_filter;

/* ---- tables (tables.c) ---- */

struct tel_container {
	struct hnode hn;
	char id[COLLECT_CID_LEN];
	int type; /* enum sysflow_container_type */
	uint64_t written_gen;
	unsigned int refs;
};

struct tel_file {
	struct hnode hn; /* hash of cid + path */
	uint8_t foid[20];
	char *path;
	struct tel_container *cont;
	int restype;
	int64_t ts;
	int state; /* state of its next write */
	int written_state; /* of its last write: what a reader holds */
	uint64_t written_gen;
	unsigned int refs; /* flows that point here */
};

/* What one fd of a process is, as told by open/accept/connect/touch. */
struct tel_fd {
	struct hnode hn; /* key: fd */
	int fd;
	uint8_t kind; /* enum collect_kind */
	bool udp;
	bool cloexec;
	int32_t open_flags; /* PPM_O_* */
	struct tel_file *file; /* files, pipes, unix sockets */
	struct collect_sock sock; /* inet sockets */
	bool server; /* accepted: the peer is the source */
	uint64_t gen; /* of the kernel's fdinfo entry */
};

struct tel_pflow;

struct tel_proc {
	struct hnode hn; /* key: tgid */
	struct sysflow_oid oid;
	bool has_poid;
	struct sysflow_oid poid;
	int64_t ts;
	char *exe;
	char *args;
	uint32_t uid, gid;
	bool tty, entry;
	char *cwd;
	char **env;
	size_t nenv;
	struct tel_container *cont;
	int state; /* state of its next write */
	int written_state; /* of its last write: what a reader holds */
	uint64_t written_gen;
	struct htab fds;
	struct dlist flows; /* struct tel_flow.pnode */
	struct tel_pflow *pf;
	bool main_exited;
};

/* ---- flows (flows.c) ---- */

struct tel_counts {
	uint64_t rops, wops, rbytes, wbytes;
	uint32_t mmaps, shutdowns, setns;
};

struct tel_flow {
	struct hnode hn; /* key (tid, fd): only the flow the kernel feeds */
	struct dlist pnode; /* in proc->flows */
	struct dlist tnode; /* in the export queue, oldest export first */
	struct tel_proc *proc;
	uint32_t tid;
	int fd;
	bool net;
	bool attached; /* receives the kernel counters of (tid, fd) */
	struct tel_file *file;
	int ip_version;
	uint8_t sip[16], dip[16];
	uint16_t sport, dport;
	int proto;
	int32_t op_flags;
	int32_t open_flags;
	int64_t ts;
	struct tel_counts acc; /* since the last export */
	struct collect_counts base; /* kernel totals already in acc */
	uint64_t gen; /* of the kernel's tracked entry */
	time_t export_time, last_update;
};

struct tel_pflow {
	struct dlist tnode;
	struct tel_proc *proc;
	int64_t ts;
	int32_t op_flags;
	int64_t cloned, exited, errors;
	time_t export_time, last_update;
};

/* ---- outputs (out.c, avro.c, sock.c, json_out.c) ---- */

struct tel_avro; /* schema and a reusable value */
struct tel_avro_file;
struct tel_sock;

struct tel_out {
	uint64_t gen; /* bumps with every header: entities are written again */
	struct sysflow_header hdr;
	char exporter[256];
	char ip[64];
	char filename[PATH_MAX];
	struct tel_avro *avro;
	struct tel_avro_file *file;
	struct tel_sock *sock;
	FILE *json;
	sysflow_callback cb;
	void *cb_ctx;
	uint64_t records, ipv6_skipped;
	struct sf_outerr file_err; /* -w: full disk, I/O errors */
	bool file_gap; /* records dropped: the file must start over */
	struct sf_outerr json_err; /* -j to a file */
	uint64_t sock_not_sent; /* peer gone, too large for a datagram */
};

/* ---- the driver ---- */

struct tel_driver {
	struct sysflow_config cfg;
	struct tel_capture *cap;
	struct htab procs;
	struct htab files;
	struct htab conts;
	struct htab users, groups;
	struct htab cur_flows; /* (tid, fd) -> attached flow */
	struct dlist export_q; /* flows and process flows by export time */
	struct dlist pexport_q;
	struct tel_out out;
	struct tel_filter *filter;
	int64_t boot_to_epoch; /* add to CLOCK_BOOTTIME ns */
	time_t last_check, last_rotate, last_stats;
	uint64_t events_received, filtered_out, unknown_procs;
	uint64_t reconnects_seen; /* of the socket, once it is closed */
	volatile sig_atomic_t exiting;
	struct sysflow_error *run_err;
	bool failed;
};

/* ---- capture.c ---- */

struct tel_capture;
typedef int (*tel_event_fn)(void *ctx, const struct collect_event *ev,
			    size_t size);

struct tel_capture_opts {
	uint32_t self_tgid;
	bool filter_containers;
	bool file_only;
	int mode; /* enum sysflow_collection_mode */
	int read_mode;
	unsigned int sampling_ratio;
	bool drop_mode;
	unsigned int nbufs; /* 0: one per online CPU */
	unsigned int buf_size;
	unsigned int tracked_max;
	const volatile sig_atomic_t *stop; /* stop reading when set */
};

/* The operation a traced syscall reports ("openat": "open"), NULL for a
 * name that is not traced or reports none of its own (capture.c hooks[]).
 */
const char *tel_syscall_op(const char *name);

int tel_capture_open(struct tel_capture **out, const struct tel_capture_opts *o,
		     tel_event_fn fn, void *ctx, struct sysflow_error *err);
/* Wait up to timeout_ms, then hand every available event to fn. */
int tel_capture_poll(struct tel_capture *c, int timeout_ms);
/* Detach, then deliver every event left, whatever its timestamp. */
void tel_capture_drain(struct tel_capture *c);
int tel_capture_stats(struct tel_capture *c, struct sysflow_stats *s);
/* Kernel counters of (tid, fd); -ENOENT when there are none. */
int tel_capture_counts(struct tel_capture *c, uint32_t tid, int fd,
		       struct collect_counts *out);
/* Delete the counters of (tid, fd) if they are still generation gen
 * (0: whatever they are, for threads that ended).
 */
void tel_capture_forget(struct tel_capture *c, uint32_t tid, int fd,
			uint64_t gen);
/* The filter dropped this fd: the kernel stops counting it, unless the fd
 * number was reused meanwhile (gen changed).
 */
void tel_capture_ignore(struct tel_capture *c, uint32_t tgid, uint32_t tid,
			int fd, uint64_t gen);
void tel_capture_forget_fdinfo(struct tel_capture *c, uint32_t tgid, int fd,
			       uint64_t gen);
/* Remove the counters of threads that no longer exist. */
int tel_capture_sweep(struct tel_capture *c);
void tel_capture_close(struct tel_capture *c);
unsigned int tel_capture_nbufs(const struct tel_capture *c);

/* ---- tables.c ---- */

int tel_tables_init(struct tel_driver *d);
void tel_tables_free(struct tel_driver *d);
/* Read every process in /proc (createTS 0). */
int tel_scan_proc(struct tel_driver *d);
struct tel_proc *tel_proc_get(struct tel_driver *d, uint32_t tgid);
/* The process of tgid, read from /proc when it is not in the table. */
struct tel_proc *tel_proc_lookup(struct tel_driver *d, uint32_t tgid);
struct tel_proc *tel_proc_new(struct tel_driver *d, uint32_t tgid);
void tel_proc_free(struct tel_driver *d, struct tel_proc *p);
void tel_proc_set_env(struct tel_proc *p, const char *buf, size_t len);
void tel_proc_set_args(struct tel_proc *p, const char *buf, size_t len);
struct tel_proc *tel_proc_by_oid(struct tel_driver *d,
				 const struct sysflow_oid *oid);
const char *tel_user_name(struct tel_driver *d, uint32_t uid);
const char *tel_group_name(struct tel_driver *d, uint32_t gid);
struct tel_container *tel_container_get(struct tel_driver *d, const char *id,
					int type);
void tel_container_put(struct tel_driver *d, struct tel_container *c);
/* The file entity of path (absolute) in a container; refs not taken. */
struct tel_file *tel_file_get(struct tel_driver *d, const char *path,
			      struct tel_container *cont, int restype,
			      int64_t ts, int state);
void tel_file_put(struct tel_driver *d, struct tel_file *f);
/* Drop files and containers that nothing refers to (after a header). */
void tel_tables_gc(struct tel_driver *d);
struct tel_fd *tel_fd_get(struct tel_proc *p, int fd);
struct tel_fd *tel_fd_set(struct tel_proc *p, int fd);
void tel_fd_del(struct tel_driver *d, struct tel_proc *p, int fd);
/* SHA-1(container id + path) */
void tel_foid(const char *cid, const char *path, uint8_t out[20]);
/* Join base and rel and remove ".", ".." and duplicate slashes. */
char *tel_path_join(const char *base, const char *rel);
/* Container id and type from /proc/<pid>/cgroup lines. */
int tel_cgroup_container(const char *cgroup_file, char id[COLLECT_CID_LEN]);
int32_t tel_open_flags(uint32_t kflags);

/* ---- flows.c ---- */

struct tel_flow *tel_flow_cur(struct tel_driver *d, uint32_t tid, int fd);
struct tel_flow *tel_flow_new(struct tel_driver *d, struct tel_proc *p,
			      uint32_t tid, struct tel_fd *f, int64_t ts);
/* Fold the kernel totals c into the attached flow. */
void tel_flow_sync_to(struct tel_driver *d, struct tel_flow *f,
		      const struct collect_counts *c);
/* Read the kernel counters of an attached flow and fold them in. */
void tel_flow_sync(struct tel_driver *d, struct tel_flow *f);
/* Write the flow (opFlags |= extra) and drop it. */
void tel_flow_end(struct tel_driver *d, struct tel_flow *f, int32_t extra,
		  int64_t end_ts);
/* close: other threads' flows on fd first (TRUNCATE), then the closer's. */
void tel_flows_close(struct tel_driver *d, struct tel_proc *p, uint32_t tid,
		     int fd, int64_t ts);
/* Thread (tid) or process (tid 0) ended: TRUNCATE its flows. */
void tel_flows_truncate(struct tel_driver *d, struct tel_proc *p, uint32_t tid,
			int64_t ts);
/* Export flows due every 30 s, expire the idle ones (once a second). */
void tel_flows_check(struct tel_driver *d, time_t now, int64_t now_ns);
void tel_pflow_update(struct tel_driver *d, struct tel_proc *p, int32_t op,
		      int ret, bool child_side, int64_t ts);
void tel_pflow_end(struct tel_driver *d, struct tel_proc *p, int64_t ts);

/* ---- events.c, fdevents.c ---- */

int tel_handle_event(void *ctx, const struct collect_event *ev, size_t size);

struct tel_ev_strs {
	const char *s[COLLECT_MAX_STRS];
	size_t len[COLLECT_MAX_STRS];
};

/* The strings of an event; one that does not fit is NULL. */
void tel_ev_split(const struct collect_event *ev, size_t size,
		  struct tel_ev_strs *st);
/* Does the filter keep this event? Counts the ones it drops. */
bool tel_ev_pass(struct tel_driver *d, const char *type,
		 const struct tel_proc *p, const char *name, int sport,
		 int dport);
void tel_on_open(struct tel_driver *d, const struct collect_event *ev,
		 size_t size, int64_t ts);
void tel_on_sock(struct tel_driver *d, const struct collect_event *ev,
		 int64_t ts);
void tel_on_touch(struct tel_driver *d, const struct collect_event *ev,
		  size_t size, int64_t ts);
void tel_on_peer(struct tel_driver *d, const struct collect_event *ev,
		 int64_t ts);
void tel_on_close(struct tel_driver *d, const struct collect_event *ev,
		  size_t size, int64_t ts);
void tel_on_dup(struct tel_driver *d, const struct collect_event *ev);
void tel_on_cloexec(struct tel_driver *d, const struct collect_event *ev);
void tel_on_fileop(struct tel_driver *d, const struct collect_event *ev,
		   size_t size, int64_t ts);
int64_t tel_ts(struct tel_driver *d, uint64_t boot_ns);
int64_t tel_now_ns(void);

/* ---- out.c ---- */

int tel_out_open(struct tel_driver *d, struct sysflow_error *err);
void tel_out_close(struct tel_driver *d);
/* New header on every output (rotation) and entities written again. */
int tel_out_rotate(struct tel_driver *d, time_t now);
/* Reconnect a lost socket when its backoff is over; <0: gave up. */
int tel_out_tick(struct tel_driver *d, time_t now);
void tel_out_process(struct tel_driver *d, struct tel_proc *p);
void tel_out_record(struct tel_driver *d, struct sysflow_record *rec,
		    struct tel_proc *p, struct tel_file *f1,
		    struct tel_file *f2);
void tel_proc_view(struct tel_driver *d, const struct tel_proc *p,
		   struct sysflow_process *v);
void tel_file_view(const struct tel_file *f, struct sysflow_file *v);

/* ---- avro.c ---- */

extern const char tel_sysflow_schema[];
int tel_avro_init(struct tel_avro **out, int deflate_level);
void tel_avro_free(struct tel_avro *a);
/* Encode one record of the SysFlow union (entities and header use the
 * view structs of telemetry.h).
 */
int tel_avro_set_header(struct tel_avro *a, const struct sysflow_header *h);
int tel_avro_set_container(struct tel_avro *a,
			   const struct sysflow_container *c);
int tel_avro_set_process(struct tel_avro *a, const struct sysflow_process *p);
int tel_avro_set_file(struct tel_avro *a, const struct sysflow_file *f);
int tel_avro_set_record(struct tel_avro *a, const struct sysflow_record *r);
/* Binary encoding of the value last set; returns its size or <0. */
int tel_avro_encode(struct tel_avro *a, char *buf, size_t len);
/* Create the next file of path_spec and write its Avro header; a failed
 * write of the header leaves the file open with tel_avro_file_error() set.
 */
int tel_avro_file_open(struct tel_avro_file **out, struct tel_avro *a,
		       const char *path_spec, time_t now, char *path,
		       size_t path_len, struct sysflow_error *err);
/* Take the value last set: 0, or <0 when libavro refused it. Whether it
 * reached the file is tel_avro_file_error()'s.
 */
int tel_avro_file_append(struct tel_avro_file *f);
/* Write the open block so readers see everything so far; after a failed
 * write, try the bytes not written again. 0 or -errno of the write.
 */
int tel_avro_file_flush(struct tel_avro_file *f);
/* errno of the write that failed (ENOSPC, EIO, EDQUOT), 0 when the file
 * holds every record taken, up to the block still open.
 */
int tel_avro_file_error(const struct tel_avro_file *f);
/* Write what is left and close. Returns the records that did not reach
 * the file (err: why); the file keeps its complete blocks, and a file
 * without a record is removed.
 */
uint64_t tel_avro_file_close(struct tel_avro_file *f, int *err);
const char *tel_state_name(int state); /* "CREATED", ... */

/* ---- sock.c ---- */

int tel_sock_open(struct tel_sock **out, const char *path,
		  struct sysflow_error *err);
/* Send one datagram; -EPIPE etc. when the peer is gone (then call
 * tel_sock_reconnect when tel_sock_due says so).
 */
int tel_sock_send(struct tel_sock *s, const void *buf, size_t len);
bool tel_sock_connected(const struct tel_sock *s);
/* 1 reconnected, 0 not yet, <0 gave up (message in err). */
int tel_sock_retry(struct tel_sock *s, time_t now, struct sysflow_error *err);
uint64_t tel_sock_reconnects(const struct tel_sock *s);
uint64_t tel_sock_dropped(const struct tel_sock *s);
void tel_sock_close(struct tel_sock *s);

/* ---- json_out.c ---- */

int tel_json_record(struct tel_driver *d, FILE *out,
		    const struct sysflow_record *rec,
		    const struct sysflow_process *proc,
		    const struct sysflow_process *pproc,
		    const struct sysflow_file *f1,
		    const struct sysflow_file *f2,
		    const struct sysflow_container *cont);

/* ---- filter.c ---- */

/* What a filter expression sees of one event. */
struct tel_filter_ctx {
	const char *evt_type;
	const struct tel_proc *proc;
	const char *fd_name; /* path, or "sip:sport->dip:dport" */
	int sport, dport; /* -1: not a socket */
	const char *container_id; /* "host" on the host */
};

int tel_filter_compile(const char *expr, struct tel_filter **out, char *msg,
		       size_t msg_len);
bool tel_filter_match(const struct tel_filter *f,
		      const struct tel_filter_ctx *c);
void tel_filter_free(struct tel_filter *f);

/* ---- helpers ---- */

void tel_set_error(struct sysflow_error *err, enum sysflow_error_code code,
		   const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif /* __SYSFLOW_TELEMETRY_INT_H */
