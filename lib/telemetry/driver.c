// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* driver.c: libsysflow's telemetry API (sysflow/telemetry.h): the config
 * with LibSysFlow's defaults, driver create/run/exit/destroy, statistics.
 * run() is the main loop: poll the ring buffers, every second export and
 * expire flows and flush the file, rotate every rotateInterval, and at the
 * end truncate every open flow and close the outputs.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sysflow/sysflow.h>
#include "core/core.h"
#include "telemetry_int.h"

#define POLL_MS 100
#define DEFAULT_BUF_SIZE (8u << 20)
#define SAMPLING_MAX 1000000000u

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

struct sysflow_driver {
	struct tel_driver t;
};

static const char *const error_names[] = {
	[SYSFLOW_OK] = "OK",
	[SYSFLOW_LIBS_ERROR] = "LibsError",
	[SYSFLOW_PROBE_ACCESS_DENIED] = "ProbeAccessDenied",
	[SYSFLOW_PROBE_NOT_EXIST] = "ProbeNotExist",
	[SYSFLOW_ERROR_READING_FILESYSTEM] = "ErrorReadingFileSystem",
	[SYSFLOW_NAME_TOO_LONG] = "NameTooLong",
	[SYSFLOW_PROBE_CHECK_ERROR] = "ProbeCheckError",
	[SYSFLOW_PROBE_NOT_LOADED] = "ProbeNotLoaded",
	[SYSFLOW_DRIVER_LIBS_MISMATCH] = "DriverLibsMismatch",
	[SYSFLOW_EVENT_PARSING_ERROR] = "EventParsingError",
	[SYSFLOW_PROC_RESOURCE_NOT_FOUND] = "ProcResourceNotFound",
	[SYSFLOW_OPERATION_NOT_SUPPORTED] = "OperationNotSupported",
};

const char *sysflow_error_name(enum sysflow_error_code code)
{
	if ((unsigned int)code < ARRAY_SIZE(error_names))
		return error_names[code];
	return "Unknown";
}

void tel_set_error(struct sysflow_error *err, enum sysflow_error_code code,
		   const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
}

void sysflow_config_init(struct sysflow_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->rotate_interval = 300;
	cfg->sampling_ratio = 1;
	cfg->enable_process_flow = true;
	cfg->file_only = true;
	cfg->file_read_mode = 2;
	cfg->drop_mode = true;
	cfg->collection_mode = SYSFLOW_MODE_FLOW;
	cfg->app_name = "sysflowlibs";
	cfg->single_buffer_dimension = DEFAULT_BUF_SIZE;
	cfg->module_checks = true;
	cfg->driver_type = SYSFLOW_DRIVER_CORE_EBPF;
	cfg->compress_level = 1;
}

const char *sysflow_driver_version(void)
{
	return sf_version();
}

/* ---- checks before anything is loaded ---- */

static int check_config(const struct sysflow_config *c,
			struct sysflow_error *err)
{
	static const char *const drivers[] = { "CORE_EBPF", "EBPF", "KMOD",
					       "NO_DRIVER" };
	const char *paths[] = { c->file_path, c->socket_path };

	if (c->driver_type != SYSFLOW_DRIVER_CORE_EBPF) {
		tel_set_error(err, SYSFLOW_OPERATION_NOT_SUPPORTED,
			      "driverType %s is not supported: libsysflow "
			      "traces with its own CO-RE eBPF programs only",
			      (unsigned int)c->driver_type < 4 ?
				      drivers[c->driver_type] :
				      "?");
		return -EOPNOTSUPP;
	}
	if (c->scap_input_path) {
		tel_set_error(err, SYSFLOW_OPERATION_NOT_SUPPORTED,
			      "scapInputPath is not supported: there is no "
			      "offline (scap file) input, only live capture");
		return -EOPNOTSUPP;
	}
	if (c->cri_path || c->k8s_api_url || c->k8s_api_cert) {
		tel_set_error(
			err, SYSFLOW_OPERATION_NOT_SUPPORTED,
			"CRI and Kubernetes metadata (criPath, k8sAPIURL, "
			"k8sAPICert) are not supported");
		return -EOPNOTSUPP;
	}
	if (!c->file_path && !c->socket_path && !c->json_out && !c->callback) {
		tel_set_error(err, SYSFLOW_OPERATION_NOT_SUPPORTED,
			      "no output: set filePath, socketPath, json_out "
			      "or a callback");
		return -EINVAL;
	}
	if (c->rotate_interval <= 0 || c->sampling_ratio < 1 ||
	    c->sampling_ratio > SAMPLING_MAX || c->file_read_mode < 0 ||
	    c->file_read_mode > 2 ||
	    c->collection_mode > SYSFLOW_MODE_NOFILES ||
	    c->compress_level < 0 || c->compress_level > 9) {
		tel_set_error(
			err, SYSFLOW_OPERATION_NOT_SUPPORTED,
			"invalid setting: rotateInterval %d (>0), "
			"samplingRatio %u (1..%u), fileReadMode %d (0..2), "
			"collectionMode %d (0..2), compress_level %d (0..9)",
			c->rotate_interval, c->sampling_ratio, SAMPLING_MAX,
			c->file_read_mode, c->collection_mode,
			c->compress_level);
		return -EINVAL;
	}
	for (size_t i = 0; i < ARRAY_SIZE(paths); i++) {
		if (paths[i] && strlen(paths[i]) >= PATH_MAX - 32) {
			tel_set_error(err, SYSFLOW_NAME_TOO_LONG,
				      "path too long: %.64s...", paths[i]);
			return -ENAMETOOLONG;
		}
	}
	return 0;
}

static bool cap_has(const struct __user_cap_data_struct *d, int cap)
{
	return d[cap / 32].effective & (1U << (cap % 32));
}

/* The plain syscall tracepoints are found by their ids in tracefs, a
 * directory only root may read (mode 0700), unless it is mounted more
 * openly or not mounted yet (mounting it needs CAP_SYS_ADMIN).
 */
static bool tracefs_readable(const struct __user_cap_data_struct *d)
{
	return cap_has(d, CAP_DAC_READ_SEARCH) ||
	       cap_has(d, CAP_DAC_OVERRIDE) ||
	       !access(SF_TRACEFS "/events", X_OK) || errno == ENOENT;
}

/* moduleChecks: what LibSysFlow checks of its driver, for eBPF. */
static int module_checks(struct sysflow_error *err)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2] = {};
	char detail[160];

	if (syscall(SYS_capget, &hdr, data)) {
		tel_set_error(err, SYSFLOW_PROBE_CHECK_ERROR, "capget: %s",
			      strerror(errno));
		return -errno;
	}
	if (!cap_has(data, CAP_SYS_ADMIN) &&
	    !(cap_has(data, CAP_BPF) && cap_has(data, CAP_PERFMON))) {
		tel_set_error(err, SYSFLOW_PROBE_ACCESS_DENIED,
			      "tracing needs CAP_SYS_ADMIN, or CAP_BPF and "
			      "CAP_PERFMON; run as root (sudo)");
		return -EPERM;
	}
	if (!tracefs_readable(data)) {
		tel_set_error(err, SYSFLOW_PROBE_ACCESS_DENIED,
			      "tracing needs CAP_DAC_READ_SEARCH too: the "
			      "syscall tracepoints are found through %s, which "
			      "only root can read; run as root (sudo)",
			      SF_TRACEFS);
		return -EACCES;
	}
	if (!cap_has(data, CAP_SYS_PTRACE))
		pr_warn("without CAP_SYS_PTRACE, processes of other users "
			"that ran before the start may lack their executable's "
			"path (their name stands in), cwd and environment\n");
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		tel_set_error(
			err, SYSFLOW_PROBE_NOT_EXIST,
			"no kernel BTF at /sys/kernel/btf/vmlinux: CO-RE "
			"needs a kernel built with CONFIG_DEBUG_INFO_BTF");
		return -ENOENT;
	}
	if (sf_probe_ringbuf(detail, sizeof(detail)) != SF_PROBE_YES) {
		tel_set_error(err, SYSFLOW_PROBE_NOT_EXIST,
			      "BPF ring buffers are not available: %s", detail);
		return -ENOTSUP;
	}
	return 0;
}

static int64_t boot_offset(void)
{
	return sf_clock_ns(CLOCK_REALTIME) - sf_clock_ns(CLOCK_BOOTTIME);
}

struct sysflow_driver *sysflow_driver_create(const struct sysflow_config *cfg,
					     struct sysflow_error *err)
{
	struct sysflow_driver *sd;
	struct tel_driver *d;
	struct tel_capture_opts o = {};
	char msg[256];
	int e;

	if (err)
		memset(err, 0, sizeof(*err));
	if (check_config(cfg, err) ||
	    (cfg->module_checks && module_checks(err)))
		return NULL;
	sd = calloc(1, sizeof(*sd));
	if (!sd) {
		tel_set_error(err, SYSFLOW_LIBS_ERROR, "out of memory");
		return NULL;
	}
	d = &sd->t;
	d->cfg = *cfg;
	dlist_init(&d->export_q);
	dlist_init(&d->pexport_q);
	d->boot_to_epoch = boot_offset();
	if (cfg->debug_mode)
		sf_log_set_level(SF_LOG_DEBUG);
	if (cfg->filter &&
	    tel_filter_compile(cfg->filter, &d->filter, msg, sizeof(msg))) {
		tel_set_error(err, SYSFLOW_EVENT_PARSING_ERROR,
			      "bad filter expression: %s", msg);
		goto fail;
	}
	if (tel_tables_init(d)) {
		tel_set_error(err, SYSFLOW_LIBS_ERROR, "out of memory");
		goto fail;
	}
	/* outputs first: a bad path fails before anything is loaded */
	if (tel_out_open(d, err))
		goto fail;
	o.self_tgid = getpid();
	o.filter_containers = cfg->filter_containers;
	o.file_only = cfg->file_only;
	o.mode = cfg->collection_mode;
	o.read_mode = cfg->file_read_mode;
	o.sampling_ratio = cfg->sampling_ratio;
	o.drop_mode = cfg->drop_mode;
	o.nbufs = cfg->cpu_buffers;
	o.buf_size = cfg->single_buffer_dimension ?
			     cfg->single_buffer_dimension :
			     DEFAULT_BUF_SIZE;
	o.stop = &d->exiting;
	e = tel_capture_open(&d->cap, &o, tel_handle_event, d, err);
	if (e)
		goto fail;
	/* after attaching: a process forked meanwhile is seen twice, and its
	 * clone event (processed later) replaces the /proc copy
	 */
	if (tel_scan_proc(d) < 0) {
		tel_set_error(err, SYSFLOW_ERROR_READING_FILESYSTEM,
			      "cannot read /proc: %s", strerror(errno));
		goto fail;
	}
	d->last_check = d->last_stats = time(NULL);
	pr_debug("%s: driver ready\n", cfg->app_name ? cfg->app_name : "");
	return sd;
fail:
	sysflow_driver_destroy(sd);
	return NULL;
}

/* ---- the main loop ---- */

static void log_stats(struct tel_driver *d)
{
	struct sysflow_stats *s = calloc(1, sizeof(*s));
	char lost[512] = "";
	size_t o = 0;

	if (!s || sysflow_driver_get_stats((struct sysflow_driver *)d, s)) {
		free(s);
		return;
	}
	for (int i = 0; i < s->ncpus && o < sizeof(lost) - 24; i++)
		o += snprintf(lost + o, sizeof(lost) - o, " %llu",
			      (unsigned long long)s->cpu[i].lost);
	pr_info("syscalls %llu, events sent %llu, lost %llu (per CPU:%s), "
		"records %llu, not written %llu, ops aggregated %llu\n",
		(unsigned long long)s->total.syscalls,
		(unsigned long long)s->total.sent,
		(unsigned long long)s->total.lost, lost,
		(unsigned long long)s->records,
		(unsigned long long)s->output_errors,
		(unsigned long long)s->total.aggregated);
	free(s);
}

static void truncate_all(struct tel_driver *d)
{
	int64_t now = tel_now_ns();
	struct hnode *n;
	size_t i;

	htab_for_each(&d->procs, i, n)
	{
		struct tel_proc *p = container_of(n, struct tel_proc, hn);

		tel_flows_truncate(d, p, 0, now);
		tel_pflow_end(d, p, now);
	}
}

int sysflow_driver_run(struct sysflow_driver *sd, struct sysflow_error *err)
{
	struct tel_driver *d = &sd->t;
	int e = 0;

	if (err)
		memset(err, 0, sizeof(*err));
	d->run_err = err;
	while (!d->exiting) {
		time_t now;

		e = tel_capture_poll(d->cap, POLL_MS);
		if (e < 0 && e != -EINTR) {
			tel_set_error(err, SYSFLOW_LIBS_ERROR,
				      "reading the ring "
				      "buffers failed: %s",
				      strerror(-e));
			break;
		}
		e = 0;
		now = time(NULL);
		if (now == d->last_check)
			continue;
		d->last_check = now;
		tel_flows_check(d, now, tel_now_ns());
		if (now - d->last_rotate >= d->cfg.rotate_interval)
			tel_out_rotate(d, now);
		e = tel_out_tick(d, now);
		if (e < 0)
			break;
		if (d->cfg.stats_interval > 0 &&
		    now - d->last_stats >= d->cfg.stats_interval) {
			d->last_stats = now;
			log_stats(d);
		}
	}
	tel_capture_drain(d->cap);
	truncate_all(d);
	tel_out_close(d);
	d->run_err = NULL;
	return e < 0 ? -1 : 0;
}

void sysflow_driver_exit(struct sysflow_driver *sd)
{
	if (sd)
		sd->t.exiting = 1;
}

void sysflow_driver_destroy(struct sysflow_driver *sd)
{
	struct tel_driver *d;

	if (!sd)
		return;
	d = &sd->t;
	if (d->procs.b)
		tel_tables_free(d);
	tel_capture_close(d->cap);
	d->cap = NULL;
	tel_out_close(d);
	tel_filter_free(d->filter);
	free(sd);
}

int sysflow_driver_get_stats(struct sysflow_driver *sd, struct sysflow_stats *s)
{
	struct tel_driver *d = &sd->t;
	int e;

	memset(s, 0, sizeof(*s));
	e = d->cap ? tel_capture_stats(d->cap, s) : -ENODEV;
	s->records = d->out.records;
	s->events_received = d->events_received;
	s->filtered_out = d->filtered_out;
	s->ipv6_skipped = d->out.ipv6_skipped;
	s->file_not_written = d->out.file_err.not_written;
	s->socket_not_written = d->out.sock_not_sent;
	s->json_not_written = d->out.json_err.not_written;
	s->output_errors = s->file_not_written + s->socket_not_written +
			   s->json_not_written;
	s->socket_reconnects = d->out.sock ? tel_sock_reconnects(d->out.sock) :
					     d->reconnects_seen;
	return e;
}
