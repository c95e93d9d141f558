// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* collect.c: `sysflow collect`: SysFlow telemetry of processes, files and
 * sockets to Avro files, a unix socket or JSON lines. The collector itself
 * is the library's driver (lib/telemetry, sysflow/telemetry.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sysflow/sysflow.h>
#include "core/core.h"
#include "cmds.h"

struct collect_cfg {
	const char *write;
	const char *socket;
	bool json;
	const char *output;
	uint32_t rotate;
	uint32_t compress;
	const char *exporter;
	const char *node_ip;
	bool containers;
	const char *filter;
	uint32_t sampling;
	int mode;
	uint32_t read_mode;
	uint32_t duration;
	bool stats;
	uint32_t stats_interval;
	bool no_process_flow;
	bool no_drop_mode;
	bool all_fds;
	uint32_t buffer;
	uint32_t cpu_buffers;
};

static const char *const mode_names[] = { "flow", "consumer", "nofiles", NULL };

static const struct collect_cfg defaults_collect = {
	.stats_interval = 10,
};

/* The options that are sysflow_config fields start as its defaults. */
static void init_collect(void *arg)
{
	struct collect_cfg *c = arg;
	struct sysflow_config s;

	sysflow_config_init(&s);
	c->rotate = s.rotate_interval;
	c->compress = s.compress_level;
	c->sampling = s.sampling_ratio;
	c->mode = s.collection_mode;
	c->read_mode = s.file_read_mode;
	c->no_process_flow = !s.enable_process_flow;
	c->no_drop_mode = !s.drop_mode;
	c->all_fds = !s.file_only;
	c->buffer = s.single_buffer_dimension;
	c->cpu_buffers = s.cpu_buffers;
}

#define OFF(m) offsetof(struct collect_cfg, m)

/* clang-format off */
static const struct opt_def collect_options[] = {
	{ .name = "write", .short_name = 'w', .type = OPT_STRING,
	  .offset = OFF(write), .metavar = "PATH", .help = "Avro files "
	  "PATH.<epoch>, or <epoch> files in PATH if it ends in '/'" },
	{ .name = "socket", .short_name = 'u', .type = OPT_STRING,
	  .offset = OFF(socket), .metavar = "PATH", .help = "to a "
	  "SOCK_SEQPACKET unix socket" },
	{ .name = "json", .short_name = 'j', .type = OPT_FLAG,
	  .offset = OFF(json), .help = "flattened JSON lines" },
	{ .name = "output", .short_name = 'o', .type = OPT_STRING,
	  .offset = OFF(output), .metavar = "FILE", .help = "with -j: JSON "
	  "lines to FILE, not stdout" },
	{ .name = "rotate", .short_name = 'G', .type = OPT_U32,
	  .offset = OFF(rotate), .metavar = "SEC", .min = 1, .max = 86400 * 7,
	  .help = "new file and header every SEC (300)" },
	{ .name = "compress-level", .type = OPT_U32, .offset = OFF(compress),
	  .metavar = "N", .max = 9, .help = "deflate level of Avro files, "
	  "0-9 (1)" },
	{ .name = "exporter", .short_name = 'e', .type = OPT_STRING,
	  .offset = OFF(exporter), .metavar = "ID", .help = "exporter id "
	  "(default: host name)" },
	{ .name = "node-ip", .type = OPT_IP, .offset = OFF(node_ip),
	  .metavar = "IP", .help = "node ip (default $NODE_IP)" },
	{ .name = "containers", .short_name = 'c', .type = OPT_FLAG,
	  .offset = OFF(containers), .help = "container processes only" },
	{ .name = "filter", .short_name = 'f', .type = OPT_STRING,
	  .offset = OFF(filter), .metavar = "EXPR", .help = "Falco-style "
	  "filter (see sysflow-collect(8))" },
	{ .name = "sampling", .short_name = 's', .type = OPT_U32,
	  .offset = OFF(sampling), .metavar = "N", .min = 1,
	  .max = 1000000000, .help = "count reads/writes 1/N of the "
	  "time (1)" },
	{ .name = "mode", .type = OPT_ENUM, .offset = OFF(mode),
	  .metavar = "MODE", .names = mode_names, .help = "collection mode "
	  "(default flow)" },
	{ .name = "file-read-mode", .type = OPT_U32, .offset = OFF(read_mode),
	  .metavar = "N", .max = 2, .help = "read-only file flows: 0 all, "
	  "1 none, 2 (default) not under /proc, /dev, /sys, /lib..." },
	{ .name = "duration", .type = OPT_U32, .offset = OFF(duration),
	  .metavar = "SEC", .min = 1, .max = 86400 * 365, .help = "stop "
	  "after SEC seconds" },
	{ .name = "stats", .type = OPT_FLAG, .offset = OFF(stats),
	  .help = "events seen, sent, lost per CPU at "
	  "exit" },
	{ .name = "stats-interval", .type = OPT_U32,
	  .offset = OFF(stats_interval), .metavar = "SEC", .min = 1,
	  .max = 86400, .help = "with -v, log stats every SEC (10)" },
	{ .name = "no-process-flow", .type = OPT_FLAG,
	  .offset = OFF(no_process_flow), .help = "process events for "
	  "threads, not ProcessFlows" },
	{ .name = "no-drop-mode", .type = OPT_FLAG,
	  .offset = OFF(no_drop_mode), .help = "also trace mmap of files" },
	{ .name = "all-fds", .type = OPT_FLAG, .offset = OFF(all_fds),
	  .help = "also pipes, unix sockets, dirs" },
	OPT_BUFFER_SIZE(OFF(buffer)),
	{ .name = "cpu-buffers", .type = OPT_U32, .offset = OFF(cpu_buffers),
	  .metavar = "N", .max = 128, .help = "ring buffers, 0: one per CPU" },
	OPT_END,
};
/* clang-format on */

/* ---- signals: the driver's exit() is async-signal-safe ---- */

static struct sysflow_driver *volatile running;

static void stop_driver(void)
{
	sysflow_driver_exit(running);
}

/* ---- statistics ---- */

static void print_stats(struct sysflow_driver *d, FILE *out)
{
	struct sysflow_stats *s = calloc(1, sizeof(*s));
	const struct sysflow_cpu_stats *t;

	if (!s || sysflow_driver_get_stats(d, s)) {
		free(s);
		return;
	}
	t = &s->total;
	fprintf(out,
		"syscalls %llu, events sent %llu, lost %llu; ops "
		"aggregated in the kernel %llu\n",
		(unsigned long long)t->syscalls, (unsigned long long)t->sent,
		(unsigned long long)t->lost, (unsigned long long)t->aggregated);
	fprintf(out, "%4s %12s %10s %8s %12s %9s %9s %9s\n", "cpu", "syscalls",
		"sent", "lost", "aggregated", "filtered", "sampled", "ignored");
	for (int i = 0; i < s->ncpus; i++) {
		const struct sysflow_cpu_stats *c = &s->cpu[i];

		fprintf(out,
			"%4d %12llu %10llu %8llu %12llu %9llu %9llu %9llu\n", i,
			(unsigned long long)c->syscalls,
			(unsigned long long)c->sent,
			(unsigned long long)c->lost,
			(unsigned long long)c->aggregated,
			(unsigned long long)c->filtered,
			(unsigned long long)c->sampled_out,
			(unsigned long long)c->ignored);
	}
	fprintf(out,
		"records %llu, events read %llu, filtered out %llu, IPv6 "
		"flows not in Avro %llu,\n  records not written %llu (file "
		"%llu, socket %llu, JSON %llu), socket reconnects %llu,\n  "
		"table full %llu, strings cut %llu\n",
		(unsigned long long)s->records,
		(unsigned long long)s->events_received,
		(unsigned long long)s->filtered_out,
		(unsigned long long)s->ipv6_skipped,
		(unsigned long long)s->output_errors,
		(unsigned long long)s->file_not_written,
		(unsigned long long)s->socket_not_written,
		(unsigned long long)s->json_not_written,
		(unsigned long long)s->socket_reconnects,
		(unsigned long long)t->table_full,
		(unsigned long long)t->truncated);
	free(s);
}

/* Records a file output (-w, -o) could not take make the exit status 1:
 * collected data was lost, though the collector kept running.
 */
static int check_lost(struct sysflow_driver *d)
{
	struct sysflow_stats *s = calloc(1, sizeof(*s));
	unsigned long long f, j;

	if (!s || sysflow_driver_get_stats(d, s)) {
		free(s);
		return 0;
	}
	f = s->file_not_written;
	j = s->json_not_written;
	free(s);
	if (!f && !j)
		return 0;
	pr_err("records not written: %llu to the SysFlow file, %llu as JSON "
	       "lines (see the errors above)\n",
	       f, j);
	return 1;
}

static void to_config(const struct collect_cfg *c, struct sysflow_config *s)
{
	sysflow_config_init(s);
	s->file_path = c->write;
	s->socket_path = c->socket;
	s->rotate_interval = c->rotate;
	s->compress_level = c->compress;
	s->exporter_id = c->exporter;
	s->node_ip = c->node_ip;
	s->filter_containers = c->containers;
	s->filter = c->filter;
	s->sampling_ratio = c->sampling;
	s->collection_mode = c->mode;
	s->file_read_mode = c->read_mode;
	s->enable_process_flow = !c->no_process_flow;
	s->drop_mode = !c->no_drop_mode;
	s->file_only = !c->all_fds;
	s->single_buffer_dimension = c->buffer;
	s->cpu_buffers = c->cpu_buffers;
	s->app_name = "sysflow collect";
	if (common_opts.verbose)
		s->stats_interval = c->stats_interval;
	s->debug_mode = common_opts.verbose > 1;
}

/* The JSON lines output: stdout, or PATH (*made: it did not exist). */
static FILE *open_json(const char *path, bool *made)
{
	FILE *f;

	if (!path)
		return stdout;
	*made = access(path, F_OK) && errno == ENOENT;
	f = fopen(path, "we");
	if (!f)
		pr_err("cannot open the JSON output %s: %s (%s)\n", path,
		       strerror(errno),
		       sysflow_error_name(SYSFLOW_ERROR_READING_FILESYSTEM));
	return f;
}

static int do_collect(void *arg)
{
	struct collect_cfg *cfg = arg;
	struct sysflow_config sc;
	struct sysflow_error err;
	FILE *json = NULL;
	bool made_json = false;
	int rc = 1;

	if (cfg->output && !cfg->json) {
		fprintf(stderr, "sysflow collect: -o names the JSON output; "
				"add -j\n");
		return EXIT_USAGE;
	}
	if (!cfg->write && !cfg->socket && !cfg->json) {
		fprintf(stderr,
			"sysflow collect: choose an output: -w PATH, -u "
			"SOCKET or -j\n");
		params_usage(&cmd_collect, stderr, false);
		return EXIT_USAGE;
	}
	to_config(cfg, &sc);
	if (cfg->json) {
		json = open_json(cfg->output, &made_json);
		if (!json)
			return 1;
		sc.json_out = json;
	}
	if (sf_signals_install_hook(stop_driver, true))
		goto out;
	sf_log_quiet_libbpf(common_opts.verbose < 2);
	running = sysflow_driver_create(&sc, &err);
	sf_log_quiet_libbpf(false);
	if (!running) {
		pr_err("%s (%s)\n", err.message, sysflow_error_name(err.code));
		/* -f's value is wrong: a usage error, as tracepkt's filter */
		if (err.code == SYSFLOW_EVENT_PARSING_ERROR)
			rc = EXIT_USAGE;
		if (made_json) /* a failed start leaves no file */
			unlink(cfg->output);
		goto out;
	}
	if (sf_exiting) /* a signal while the driver was being created */
		sysflow_driver_exit(running);
	pr_info("Tracing processes, files and sockets (SysFlow v%d). Ctrl-C "
		"to end.\n",
		SYSFLOW_SCHEMA_VERSION);
	if (cfg->duration)
		alarm(cfg->duration);
	rc = sysflow_driver_run(running, &err) ? 1 : 0;
	if (rc)
		pr_err("%s (%s)\n", err.message, sysflow_error_name(err.code));
	if (cfg->stats)
		print_stats(running, stderr);
	if (!rc)
		rc = check_lost(running);
	sysflow_driver_destroy(running);
	running = NULL;
out:
	if (json && json != stdout)
		fclose(json);
	return rc;
}

const struct cmd_def cmd_collect = {
	.name = "collect",
	.run = do_collect,
	.opts = collect_options,
	.defaults = &defaults_collect,
	.init = init_collect,
	.cfg_size = sizeof(struct collect_cfg),
	.summary = "system telemetry: processes, files, sockets as SysFlow v5",
	.doc = "Traces syscalls with CO-RE eBPF (tracepoints sys_exit, "
	       "sys_enter_close,\nsched_process_*) and writes SysFlow v5 records: "
	       "Process, File, Container,\nProcessEvent, FileEvent, FileFlow, "
	       "NetworkFlow, ProcessFlow. Reads and writes\nare counted in the "
	       "kernel; flows are written on close, every 30 s and with\n"
	       "OP_TRUNCATE when their thread ends or at exit. IPv6 flows go "
	       "to JSON only\n(the v5 schema holds IPv4). Needs root.\n",
	.examples =
		"  sysflow collect -w /var/lib/sysflow/        # Avro, a file "
		"per 5 min\n"
		"  sysflow collect -u /sock/sysflow.sock       # to sf-processor\n"
		"  sysflow collect -j -f \"proc.name = curl\"    # JSON lines\n"
		"  sysflow collect -w out -G 60 -c --stats     # containers only\n"
		"  sysflow collect -j --duration 10 --mode nofiles\n",
};
