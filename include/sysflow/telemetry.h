/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* telemetry.h: system telemetry as a library (LibSysFlow in C): a driver
 * that traces processes, files and sockets with eBPF and writes SysFlow v5
 * records to Avro files, a unix socket, JSON lines and/or a callback.
 *
 *	struct sysflow_config cfg;
 *	struct sysflow_error err;
 *	struct sysflow_driver *d;
 *
 *	sysflow_config_init(&cfg);
 *	cfg.callback = my_callback;
 *	d = sysflow_driver_create(&cfg, &err);	// NULL: err.code, err.message
 *	sysflow_driver_run(d, &err);		// until sysflow_driver_exit()
 *	sysflow_driver_destroy(d);
 *
 * Strings and arrays handed to the callback belong to the library and are
 * valid only during the call.
 */
#ifndef __SYSFLOW_TELEMETRY_H
#define __SYSFLOW_TELEMETRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SYSFLOW_SCHEMA_VERSION 5

/* ---- errors: the SysFlowError list of LibSysFlow, with 0 for success ---- */

enum sysflow_error_code {
	SYSFLOW_OK = 0,
	SYSFLOW_LIBS_ERROR, /* a library call failed (libbpf, libavro, ...) */
	SYSFLOW_PROBE_ACCESS_DENIED, /* no CAP_BPF/CAP_SYS_ADMIN, or lockdown */
	SYSFLOW_PROBE_NOT_EXIST, /* a tracepoint or BTF is missing */
	SYSFLOW_ERROR_READING_FILESYSTEM, /* /proc, tracefs, an output path */
	SYSFLOW_NAME_TOO_LONG, /* a path in the config is too long */
	SYSFLOW_PROBE_CHECK_ERROR, /* a kernel feature probe failed */
	SYSFLOW_PROBE_NOT_LOADED, /* the BPF programs did not load or attach */
	SYSFLOW_DRIVER_LIBS_MISMATCH,
	SYSFLOW_EVENT_PARSING_ERROR, /* a bad filter expression or event */
	SYSFLOW_PROC_RESOURCE_NOT_FOUND,
	SYSFLOW_OPERATION_NOT_SUPPORTED, /* kmod/scap/k8s/CRI, bad buffer size */
};

struct sysflow_error {
	enum sysflow_error_code code;
	char message[512];
};

/* Name of an error code, e.g. "OperationNotSupported". */
const char *sysflow_error_name(enum sysflow_error_code code);

/* ---- records handed to the callback (SysFlow v5, plain C) ---- */

enum sysflow_rec_type { /* the union index of the SysFlow schema */
			SYSFLOW_REC_HEADER = 0,
			SYSFLOW_REC_CONTAINER = 1,
			SYSFLOW_REC_PROCESS = 2,
			SYSFLOW_REC_FILE = 3,
			SYSFLOW_REC_PROCESS_EVENT = 4,
			SYSFLOW_REC_NETWORK_FLOW = 5,
			SYSFLOW_REC_FILE_FLOW = 6,
			SYSFLOW_REC_FILE_EVENT = 7,
			SYSFLOW_REC_NETWORK_EVENT = 8,
			SYSFLOW_REC_PROCESS_FLOW = 9,
};

enum sysflow_state {
	SYSFLOW_STATE_CREATED = 0,
	SYSFLOW_STATE_MODIFIED = 1,
	SYSFLOW_STATE_REUP = 2,
};

enum sysflow_container_type { /* ContainerType symbols, in schema order */
			      SYSFLOW_CT_DOCKER = 0,
			      SYSFLOW_CT_LXC,
			      SYSFLOW_CT_LIBVIRT_LXC,
			      SYSFLOW_CT_MESOS,
			      SYSFLOW_CT_RKT,
			      SYSFLOW_CT_CUSTOM,
			      SYSFLOW_CT_CRI,
			      SYSFLOW_CT_CONTAINERD,
			      SYSFLOW_CT_CRIO,
			      SYSFLOW_CT_BPM,
};

/* opFlags (identical to SysFlow's op_flags.h) */
#define SYSFLOW_OP_CLONE (1 << 0)
#define SYSFLOW_OP_EXEC (1 << 1)
#define SYSFLOW_OP_EXIT (1 << 2)
#define SYSFLOW_OP_SETUID (1 << 3)
#define SYSFLOW_OP_SETNS (1 << 4)
#define SYSFLOW_OP_ACCEPT (1 << 5)
#define SYSFLOW_OP_CONNECT (1 << 6)
#define SYSFLOW_OP_OPEN (1 << 7)
#define SYSFLOW_OP_READ_RECV (1 << 8)
#define SYSFLOW_OP_WRITE_SEND (1 << 9)
#define SYSFLOW_OP_CLOSE (1 << 10)
#define SYSFLOW_OP_TRUNCATE (1 << 11)
#define SYSFLOW_OP_SHUTDOWN (1 << 12)
#define SYSFLOW_OP_MMAP (1 << 13)
#define SYSFLOW_OP_DIGEST (1 << 14)
#define SYSFLOW_OP_MKDIR (1 << 15)
#define SYSFLOW_OP_RMDIR (1 << 16)
#define SYSFLOW_OP_LINK (1 << 17)
#define SYSFLOW_OP_UNLINK (1 << 18)
#define SYSFLOW_OP_SYMLINK (1 << 19)
#define SYSFLOW_OP_RENAME (1 << 20)

/* openFlags use libsinsp's PPM_O_* values, not the kernel's O_* */
#define SYSFLOW_O_RDONLY (1 << 0)
#define SYSFLOW_O_WRONLY (1 << 1)
#define SYSFLOW_O_RDWR (SYSFLOW_O_RDONLY | SYSFLOW_O_WRONLY)
#define SYSFLOW_O_CREAT (1 << 2)
#define SYSFLOW_O_APPEND (1 << 3)
#define SYSFLOW_O_DSYNC (1 << 4)
#define SYSFLOW_O_EXCL (1 << 5)
#define SYSFLOW_O_NONBLOCK (1 << 6)
#define SYSFLOW_O_SYNC (1 << 7)
#define SYSFLOW_O_TRUNC (1 << 8)
#define SYSFLOW_O_DIRECT (1 << 9)
#define SYSFLOW_O_DIRECTORY (1 << 10)
#define SYSFLOW_O_LARGEFILE (1 << 11)
#define SYSFLOW_O_CLOEXEC (1 << 12)

struct sysflow_oid {
	int64_t create_ts; /* ns since the epoch; 0: existed before capture */
	int64_t hpid; /* host pid of the main thread */
};

struct sysflow_header {
	int64_t version; /* 5 */
	const char *exporter;
	const char *ip;
	const char *filename;
};

struct sysflow_container {
	const char *id; /* 12 hex characters */
	const char *name;
	const char *image;
	const char *imageid;
	enum sysflow_container_type type;
	bool privileged;
	const char *pod_id; /* NULL: none */
};

struct sysflow_process {
	enum sysflow_state state;
	struct sysflow_oid oid;
	bool has_poid;
	struct sysflow_oid poid;
	int64_t ts;
	const char *exe;
	const char *exe_args; /* argv[1..] joined by spaces */
	int32_t uid;
	const char *user_name;
	int32_t gid;
	const char *group_name;
	bool tty;
	const char *container_id; /* NULL: on the host */
	bool entry; /* pid 1 of its pid namespace */
	const char *cwd;
	const char *const *env; /* "NAME=value" */
	size_t env_count;
};

struct sysflow_file {
	enum sysflow_state state;
	uint8_t oid[20]; /* SHA-1(container id + path) */
	int64_t ts;
	int32_t restype; /* 'f', 'd', 'p', 'u', '?' */
	const char *path;
	const char *container_id; /* NULL: on the host */
};

struct sysflow_process_event {
	struct sysflow_oid proc_oid;
	int64_t ts;
	int64_t tid;
	int32_t op_flags;
	const char *const *args;
	size_t args_count;
	int32_t ret;
};

struct sysflow_network_flow {
	struct sysflow_oid proc_oid;
	int64_t ts;
	int64_t tid;
	int32_t op_flags;
	int64_t end_ts;
	int32_t sip; /* IPv4 s_addr (network order) read as an int */
	int32_t sport;
	int32_t dip;
	int32_t dport;
	int32_t proto;
	int32_t fd;
	int64_t num_rrecv_ops;
	int64_t num_wsend_ops;
	int64_t num_rrecv_bytes;
	int64_t num_wsend_bytes;
	int ip_version; /* 4 or 6: IPv6 flows reach JSON and callbacks only */
	uint8_t saddr[16]; /* source and destination in full */
	uint8_t daddr[16];
};

struct sysflow_file_flow {
	struct sysflow_oid proc_oid;
	int64_t ts;
	int64_t tid;
	int32_t op_flags;
	int32_t open_flags;
	int64_t end_ts;
	uint8_t file_oid[20];
	int32_t fd;
	int64_t num_rrecv_ops;
	int64_t num_wsend_ops;
	int64_t num_rrecv_bytes;
	int64_t num_wsend_bytes;
};

struct sysflow_file_event {
	struct sysflow_oid proc_oid;
	int64_t ts;
	int64_t tid;
	int32_t op_flags;
	uint8_t file_oid[20];
	int32_t ret;
	bool has_new_file_oid;
	uint8_t new_file_oid[20];
};

struct sysflow_process_flow {
	struct sysflow_oid proc_oid;
	int64_t ts;
	int64_t num_threads_cloned;
	int32_t op_flags;
	int64_t end_ts;
	int64_t num_threads_exited;
	int64_t num_clone_errors;
};

struct sysflow_record {
	enum sysflow_rec_type type;
	union {
		struct sysflow_process_event pe;
		struct sysflow_network_flow nf;
		struct sysflow_file_flow ff;
		struct sysflow_file_event fe;
		struct sysflow_process_flow pf;
	};
};

/* Called for every event and flow (entities are not passed on their own:
 * they arrive with the records that refer to them). cont is NULL on the
 * host; f1 and f2 are NULL when the record names no file (f2: the new
 * path of link, symlink and rename).
 */
typedef void (*sysflow_callback)(const struct sysflow_header *hdr,
				 const struct sysflow_container *cont,
				 const struct sysflow_process *proc,
				 const struct sysflow_file *f1,
				 const struct sysflow_file *f2,
				 const struct sysflow_record *rec, void *ctx);

/* ---- configuration ---- */

enum sysflow_collection_mode {
	SYSFLOW_MODE_FLOW = 0, /* everything SysFlow defines */
	SYSFLOW_MODE_CONSUMER, /* no read/write/close tracking of files */
	SYSFLOW_MODE_NOFILES, /* no file flows or file events */
};

enum sysflow_driver_type {
	SYSFLOW_DRIVER_CORE_EBPF = 0, /* the only one here */
	SYSFLOW_DRIVER_EBPF, /* Falco's legacy probe: not supported */
	SYSFLOW_DRIVER_KMOD, /* kernel module: not supported */
	SYSFLOW_DRIVER_NONE, /* scap file input: not supported */
};

struct sysflow_config {
	bool filter_containers; /* keep container events only */
	int rotate_interval; /* s between headers and file rotations (300) */
	const char *exporter_id; /* NULL: the host name */
	const char *node_ip; /* NULL: $NODE_IP, else "" */
	const char *file_path; /* "dir/" or a prefix; NULL: no files */
	const char *socket_path; /* SOCK_SEQPACKET server; NULL: none */
	FILE *json_out; /* flattened JSON lines; NULL: none */
	const char *filter; /* Falco-style expression; NULL: none */
	unsigned int sampling_ratio; /* 1: every read/write is counted */
	bool enable_process_flow; /* fold thread clones/exits (true) */
	bool file_only; /* regular files and sockets only (true) */
	int file_read_mode; /* 0 all, 1 none, 2 not noisy dirs (2) */
	bool drop_mode; /* drop noisy syscalls (mmap) in the kernel (true) */
	enum sysflow_collection_mode collection_mode;
	sysflow_callback callback;
	void *callback_ctx;
	bool debug_mode; /* debug logging */
	const char *app_name; /* "sysflowlibs" */
	unsigned int single_buffer_dimension; /* ring buffer bytes (8 MiB) */
	unsigned int cpu_buffers; /* ring buffers; 0: one per online CPU */
	bool module_checks; /* check privileges and tracepoints first */
	int stats_interval; /* s; >0: log statistics every interval */
	/* Fields that cannot apply to an eBPF driver in this library: set
	 * them and create() fails with SYSFLOW_OPERATION_NOT_SUPPORTED.
	 */
	enum sysflow_driver_type driver_type;
	const char *scap_input_path;
	const char *cri_path;
	const char *k8s_api_url;
	const char *k8s_api_cert;
	/* Not in LibSysFlow's config: */
	int compress_level; /* zlib level 0-9 of Avro files' deflate (1) */
};

/* Fill cfg with LibSysFlow's defaults. */
void sysflow_config_init(struct sysflow_config *cfg);

/* ---- driver ---- */

struct sysflow_driver;

/* Check the config, load and attach the BPF programs, read /proc and open
 * the outputs. Returns NULL with err filled on failure. The config's
 * strings must stay valid until the driver is destroyed.
 */
struct sysflow_driver *sysflow_driver_create(const struct sysflow_config *cfg,
					     struct sysflow_error *err);

/* Collect until sysflow_driver_exit(); flushes every open flow with
 * OP_TRUNCATE and closes the outputs validly. Returns 0, or -1 with err
 * filled (e.g. the socket peer went away for good).
 */
int sysflow_driver_run(struct sysflow_driver *d, struct sysflow_error *err);

/* Ask run() to return. Async-signal-safe. */
void sysflow_driver_exit(struct sysflow_driver *d);

void sysflow_driver_destroy(struct sysflow_driver *d);

/* The library's version, e.g. "0.1.0". */
const char *sysflow_driver_version(void);

struct sysflow_cpu_stats {
	uint64_t syscalls; /* traced syscalls and sched events */
	uint64_t sent; /* events that crossed the ring buffer */
	uint64_t lost; /* events lost: ring buffer full */
	uint64_t aggregated; /* ops folded into in-kernel counters */
	uint64_t filtered; /* left out by the container filter */
	uint64_t sampled_out; /* left out by sampling */
	uint64_t ignored; /* ops on untracked fds */
	uint64_t table_full; /* counter table full */
	uint64_t truncated; /* strings cut */
};

struct sysflow_stats {
	int ncpus;
	struct sysflow_cpu_stats cpu[256]; /* per CPU, ncpus entries */
	struct sysflow_cpu_stats total;
	uint64_t records; /* records written (all types) */
	uint64_t events_received; /* events read from the ring buffers */
	uint64_t filtered_out; /* events the filter expression dropped */
	uint64_t ipv6_skipped; /* IPv6 flows left out of Avro output */
	uint64_t output_errors; /* records an output could not take: the sum
				 * of the three *_not_written below */
	uint64_t socket_reconnects;
	/* Records (entities, events, flows, headers) not written: */
	uint64_t file_not_written; /* Avro file: full disk, I/O error */
	uint64_t socket_not_written; /* peer gone, larger than a datagram */
	uint64_t json_not_written; /* JSON lines (json_out): full disk, ... */
};

/* Current statistics; valid during and after run(). */
int sysflow_driver_get_stats(struct sysflow_driver *d, struct sysflow_stats *s);

#ifdef __cplusplus
}
#endif

#endif /* __SYSFLOW_TELEMETRY_H */
