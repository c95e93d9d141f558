// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* flowmon.c: `sysflow flowmon`: options, outputs and the main loop of the
 * XDP flow monitor. The monitor itself is lib/flow/.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sysflow/sysflow.h>
#include "core/core.h"
#include "core/grow.h"
#include "export/ipfix.h"
#include "export/json.h"
#include "export/outerr.h"
#include "export/rotfile.h"
#include "flow/flow_json.h"
#include "cmds.h"

#define DEFAULT_PIN_DIR SF_PIN_ROOT "/flowmon"
#define VIEW_TOP 10
#define TICK_US 100000

struct flowmon_cfg {
	struct sf_flowmon_opts o; /* what the options set directly */
	const char *devs;
	const char *modes;
	const char *protocols;
	const char *out_dir;
	const char *log_file;
	const char *pin_dir; /* o.pin_dir when maps are pinned */
	uint32_t interval;
	bool json;
	uint32_t test_secs;
	const char *pcap;
	const char *ipfix;
	uint32_t ipfix_domain;
	uint32_t ipfix_refresh;
	bool force;
	char pinned_flows[PATH_MAX]; /* -i 0 without -M: -F DIR/flows */
};

static const char *const pipeline_names[] = { "single", "tail-meta", "tail-map",
					      NULL };

/* --pipeline is an OPT_ENUM: it writes an int */
_Static_assert(sizeof(enum sf_pipeline) == sizeof(int), "pipeline size");

static const struct flowmon_cfg defaults_flowmon = {
	.pin_dir = DEFAULT_PIN_DIR,
	.interval = 1,
	.ipfix_domain = 1,
	.ipfix_refresh = 600,
};

static void init_flowmon(void *cfg)
{
	sf_flowmon_opts_init(&((struct flowmon_cfg *)cfg)->o);
}

#define OFF(m) offsetof(struct flowmon_cfg, m)

/* clang-format off */
static const struct opt_def flowmon_options[] = {
	{ .name = "dev", .short_name = 'd', .type = OPT_STRING, .offset = OFF(devs),
	  .metavar = "DEV[,DEV]", .help = "interfaces to monitor" },
	{ .name = "mode", .short_name = 'm', .type = OPT_STRING, .offset = OFF(modes),
	  .metavar = "MODE[,MODE]", .help = "per device: skb (generic) or "
	  "native (driver); default skb" },
	{ .name = "protocols", .short_name = 'p', .type = OPT_STRING,
	  .offset = OFF(protocols), .metavar = "LIST", .help = "parse only "
	  "these: eth,ipv4,ipv6,tcp,udp,icmp,icmpv6" },
	{ .name = "dpi", .short_name = 'D', .type = OPT_FLAG,
	  .offset = OFF(o.dpi),
	  .help = "inspect DNS, HTTP, TLS and SSH payloads" },
	{ .name = "output", .short_name = 'O', .type = OPT_STRING,
	  .offset = OFF(out_dir), .metavar = "DIR", .help = "write ended flows "
	  "as JSON lines, one file per hour" },
	{ .name = "log", .short_name = 'L', .type = OPT_STRING,
	  .offset = OFF(log_file), .metavar = "FILE", .help = "log messages "
	  "to FILE instead of stderr" },
	{ .name = "map", .short_name = 'M', .type = OPT_STRING,
	  .offset = OFF(o.reuse_map), .metavar = "PATH", .help = "reuse a "
	  "pinned flow map (e.g. after kill -9)" },
	{ .name = "folder", .short_name = 'F', .type = OPT_STRING,
	  .offset = OFF(pin_dir), .metavar = "DIR", .help = "pin maps here; "
	  "default " DEFAULT_PIN_DIR },
	{ .name = "interval", .short_name = 'i', .type = OPT_U32,
	  .offset = OFF(interval), .metavar = "SEC", .max = 86400,
	  .help = "sweep and refresh period (default 1); 0 prints the "
	  "pinned table (-M, or -F's) once" },
	{ .name = "json", .short_name = 'j', .type = OPT_FLAG, .offset = OFF(json),
	  .help = "ended flows as JSON lines on stdout" },
	{ .name = "test", .short_name = 't', .type = OPT_U32,
	  .offset = OFF(test_secs), .metavar = "SEC", .min = 1, .max = 86400,
	  .help = "attach, count packets for SEC, print the count, detach" },
	{ .name = "read", .short_name = 'r', .type = OPT_STRING,
	  .offset = OFF(pcap), .metavar = "FILE", .help = "read packets from "
	  "a pcap file instead of interfaces" },
	{ .name = "ipfix", .type = OPT_STRING, .offset = OFF(ipfix),
	  .metavar = "HOST[:PORT]", .help = "export ended flows over IPFIX/UDP "
	  "(port 4739)" },
	{ .name = "ipfix-domain", .type = OPT_U32, .offset = OFF(ipfix_domain),
	  .metavar = "ID", .max = UINT32_MAX, .help = "IPFIX observation "
	  "domain id (default 1)" },
	{ .name = "ipfix-template-refresh", .type = OPT_U32,
	  .offset = OFF(ipfix_refresh), .metavar = "SEC", .min = 1,
	  .max = 86400, .help = "resend IPFIX templates every SEC (default "
	  "600)" },
	{ .name = "idle-timeout", .type = OPT_U32,
	  .offset = OFF(o.idle_timeout_s),
	  .metavar = "SEC", .min = 1, .max = 86400, .help = "end flows idle "
	  "this long (default " DEFAULT_STR(SF_FLOWMON_IDLE_TIMEOUT_S) ")" },
	{ .name = "active-timeout", .type = OPT_U32,
	  .offset = OFF(o.active_timeout_s), .metavar = "SEC", .min = 1,
	  .max = 604800, .help = "end flows older than this (default "
	  DEFAULT_STR(SF_FLOWMON_ACTIVE_TIMEOUT_S) ")" },
	{ .name = "entries", .short_name = 'n', .type = OPT_U32,
	  .offset = OFF(o.max_flows), .metavar = "N", .min = 16,
	  .max = 16777216, .help = "flow table size (default "
	  DEFAULT_STR(SF_FLOWMON_MAX_FLOWS) ")" },
	{ .name = "pipeline", .type = OPT_ENUM, .offset = OFF(o.pipeline),
	  .metavar = "KIND", .names = pipeline_names, .help = "how parsers "
	  "are chained (default single)" },
	{ .name = "force", .type = OPT_FLAG, .offset = OFF(force),
	  .help = "replace an XDP program already on a device" },
	OPT_END,
};
/* clang-format on */

/* ---- outputs: every ended flow goes to each enabled sink ---- */

struct flow_out {
	bool json;
	bool to_files;
	struct sf_rotfile files;
	struct sf_ipfix *ipfix;
	uint64_t write_errors; /* -j to stdout */
	bool stdout_warned; /* its first failure was logged */
	bool reader_gone; /* -j was the only output and its pipe closed */
	struct sf_outerr files_err; /* -O: full disk, ... */
};

/* A line to the file of this hour; while writes fail, tried once a second
 * and counted (lib/export/outerr.c).
 */
static void out_file(struct flow_out *o, const struct sf_flow *f)
{
	time_t now = time(NULL);
	FILE *file;
	int err;

	if (sf_outerr_wait(&o->files_err, now)) {
		sf_outerr_lost(&o->files_err, 1);
		return;
	}
	file = sf_rotfile_get(&o->files, now);
	err = file ? sf_json_write_line(file, sf_flow_json(f)) : -errno;
	if (err)
		sf_outerr_fail(&o->files_err, "flows", o->files.dir, -err, 1);
	else
		sf_outerr_ok(&o->files_err, "flows", o->files.dir);
}

/* Whether stdout (-j or the view) is the only output: when its reader
 * leaves (flowmon | head), flowmon stops.
 */
static bool stdout_only(const struct flow_out *o)
{
	return !o->to_files && !o->ipfix;
}

/* A line to stdout (-j). flowmon -j | head: when the reader leaves and
 * nothing else is written, stop; other failures are counted and said once.
 */
static void out_stdout(struct flow_out *o, const struct sf_flow *f)
{
	int err = sf_json_write_line(stdout, sf_flow_json(f));

	if (!err)
		return;
	o->write_errors++;
	if (err == -EPIPE && stdout_only(o))
		o->reader_gone = true;
	else if (!o->stdout_warned)
		pr_err("writing flows to stdout failed: %s\n",
		       strerror(err < 0 ? -err : EIO));
	o->stdout_warned = true;
}

static int out_flow(const struct sf_flow *f, void *ctx)
{
	struct flow_out *o = ctx;

	if (o->json)
		out_stdout(o, f);
	if (o->to_files)
		out_file(o, f);
	if (o->ipfix)
		sf_ipfix_add(o->ipfix, f);
	return 0;
}

static int outputs_open(struct flowmon_cfg *cfg, struct flow_out *o)
{
	struct sf_ipfix_opts io = {
		.dest = cfg->ipfix,
		.domain_id = cfg->ipfix_domain,
		.template_refresh_s = cfg->ipfix_refresh,
	};
	int err = 0;

	o->json = cfg->json;
	if (cfg->out_dir) {
		err = sf_rotfile_init(&o->files, cfg->out_dir, "flows", ".json",
				      3600);
		o->to_files = !err;
	}
	if (!err && cfg->ipfix)
		o->ipfix = sf_ipfix_open(&io, &err);
	return err;
}

static void outputs_close(struct flow_out *o)
{
	if (o->to_files)
		sf_rotfile_close(&o->files);
	sf_ipfix_close(o->ipfix);
}

/* IPFIX records lost to failed sends (over UDP, those the kernel reports:
 * a collector that is gone answers with ICMP port unreachable, which the
 * next send returns as ECONNREFUSED).
 */
static uint64_t ipfix_lost(const struct flow_out *o)
{
	struct sf_ipfix_stats st = {};

	if (o->ipfix)
		sf_ipfix_get_stats(o->ipfix, &st);
	return st.records_lost;
}

/* Flows that did not reach an output make the run a failure (exit 1), as
 * with collect; the closed pipe of a lone -j is its reader's choice.
 */
static int check_lost(const struct flow_out *o)
{
	unsigned long long n = o->files_err.not_written + ipfix_lost(o);

	if (!o->reader_gone)
		n += o->write_errors;
	if (!n)
		return 0;
	pr_err("flows not written: %llu (see the errors above)\n", n);
	return 1;
}

/* ---- statistics and the live view ---- */

static void print_stats(struct sf_flowmon *fm, const struct flow_out *o,
			FILE *out)
{
	struct sf_flowmon_stats s;

	if (sf_flowmon_get_stats(fm, &s))
		return;
	fprintf(out,
		"packets %llu, accounted %llu, flows active %llu, "
		"exported %llu\n",
		(unsigned long long)s.packets, (unsigned long long)s.accounted,
		(unsigned long long)s.flows_active,
		(unsigned long long)s.flows_exported);
	fprintf(out,
		"not accounted: table full %llu, truncated %llu, "
		"malformed %llu,\n  not IP %llu, not selected %llu, races %llu, "
		"no meta %llu; output errors %llu\n",
		(unsigned long long)s.table_full,
		(unsigned long long)s.truncated,
		(unsigned long long)s.malformed, (unsigned long long)s.not_ip,
		(unsigned long long)s.proto_skipped,
		(unsigned long long)s.flow_race,
		(unsigned long long)s.meta_failed,
		(unsigned long long)(o->write_errors +
				     o->files_err.not_written + ipfix_lost(o)));
	if (s.fragments || s.dpi_done || s.dpi_failed)
		fprintf(out,
			"fragments %llu (first unseen %llu), dpi decoded "
			"%llu, failed %llu\n",
			(unsigned long long)s.fragments,
			(unsigned long long)s.frag_unmatched,
			(unsigned long long)s.dpi_done,
			(unsigned long long)s.dpi_failed);
}

struct flow_list {
	struct sf_flow *v;
	size_t n, cap;
};

static int collect_flow(const struct sf_flow *f, void *ctx)
{
	struct flow_list *l = ctx;

	if (grow_array(l->v, l->cap, l->n, 1, 256))
		return -ENOMEM;
	l->v[l->n++] = *f;
	return 0;
}

static int by_bytes_desc(const void *a, const void *b)
{
	const struct sf_flow *x = a, *y = b;

	return x->bytes < y->bytes ? 1 : x->bytes > y->bytes ? -1 : 0;
}

static const char *proto_name(uint8_t p, char *buf, size_t len)
{
	switch (p) {
	case 6:
		return "tcp";
	case 17:
		return "udp";
	case 1:
		return "icmp";
	case 58:
		return "icmp6";
	}
	snprintf(buf, len, "%u", p);
	return buf;
}

static void print_flow_line(const struct sf_flow *f, FILE *out)
{
	char src[INET6_ADDRSTRLEN + 8], dst[INET6_ADDRSTRLEN + 8], sa[64],
		da[64], pn[8];

	snprintf(src, sizeof(src), "%s:%u",
		 sf_ip_str(f->ip_version, f->saddr, sa, sizeof(sa)), f->sport);
	snprintf(dst, sizeof(dst), "%s:%u",
		 sf_ip_str(f->ip_version, f->daddr, da, sizeof(da)), f->dport);
	fprintf(out, "%-5s %-22s %-22s %9llu %12llu\n",
		proto_name(f->proto, pn, sizeof(pn)), src, dst,
		(unsigned long long)f->packets, (unsigned long long)f->bytes);
}

/* Top flows by bytes; prints the whole table when top is 0. */
static int print_table(struct sf_flowmon *fm, FILE *out, size_t top, bool json)
{
	struct flow_list l = {};
	int err = sf_flowmon_snapshot(fm, collect_flow, &l);

	if (err < 0)
		return err;
	if (l.n)
		qsort(l.v, l.n, sizeof(*l.v), by_bytes_desc);
	if (!json)
		fprintf(out, "%-5s %-22s %-22s %9s %12s\n", "PROTO", "SOURCE",
			"DESTINATION", "PACKETS", "BYTES");
	for (size_t i = 0; i < l.n && (!top || i < top); i++) {
		if (json) /* -i 0 -M: stdout, checked by main() */
			cmd_print_json(sf_flow_json(&l.v[i]));
		else
			print_flow_line(&l.v[i], out);
	}
	free(l.v);
	return 0;
}

/* The view on stdout; -EPIPE once its reader left (flowmon | head). */
static int print_view(struct sf_flowmon *fm, const struct flow_out *o,
		      const char *devs)
{
	time_t now = time(NULL);

	if (isatty(STDOUT_FILENO))
		printf("\033[H\033[2J");
	printf("sysflow flowmon on %s  %s", devs, ctime(&now));
	print_stats(fm, o, stdout);
	printf("\n");
	print_table(fm, stdout, VIEW_TOP, false);
	printf("\n");
	return fflush(stdout) ? -errno : 0;
}

/* ---- modes of operation ---- */

static void wait_secs(uint32_t secs)
{
	for (uint64_t t = 0; t < secs * 1000000ULL && !sf_exiting; t += TICK_US)
		usleep(TICK_US);
}

static int parse_mode(const char *s, enum sf_xdp_mode *mode)
{
	if (!strcmp(s, "skb") || !strcmp(s, "generic"))
		*mode = SF_XDP_SKB;
	else if (!strcmp(s, "native") || !strcmp(s, "driver"))
		*mode = SF_XDP_NATIVE;
	else
		return -EINVAL;
	return 0;
}

/* Attach to each of -d, with the matching entry of -m (or the only one). */
static int attach_all(struct sf_flowmon *fm, struct flowmon_cfg *cfg)
{
	char *devs = strdup(cfg->devs), *modes = strdup(cfg->modes ?: "skb");
	char *ds = NULL, *ms = NULL, *dev, *m = NULL, *last_m = "skb";
	enum sf_xdp_mode mode;
	int err = devs && modes ? 0 : -ENOMEM;

	for (dev = strtok_r(devs, ",", &ds); dev && !err;
	     dev = strtok_r(NULL, ",", &ds)) {
		m = strtok_r(m ? NULL : modes, ",", &ms) ?: last_m;
		last_m = m;
		if (parse_mode(m, &mode)) {
			pr_err("unknown XDP mode '%s' for %s; use skb or "
			       "native\n",
			       m, dev);
			err = -EINVAL;
			break;
		}
		err = sf_flowmon_attach(fm, dev, mode, cfg->force);
		if (!err)
			pr_info("attached to %s in %s mode\n", dev,
				mode == SF_XDP_NATIVE ? "native" : "skb");
	}
	free(devs);
	free(modes);
	return err;
}

/* ---- offline: a pcap replay, with progress on a terminal ---- */

static struct sf_flowmon *volatile replaying;

/* SIGINT/SIGTERM: a replay ends after the packet it is on. */
static void stop_replay(void)
{
	struct sf_flowmon *fm = replaying;

	if (fm)
		sf_flowmon_stop(fm);
}

/* "\r" line on stderr, overwritten each second, erased at the end. */
static void show_progress(uint64_t done, uint64_t size, uint64_t packets,
			  void *ctx)
{
	const char *path = ctx;

	if (size)
		fprintf(stderr, "\rreplaying %s: %3.0f%%, %llu packets", path,
			100.0 * done / size, (unsigned long long)packets);
	else
		fprintf(stderr, "\rreplaying %s: %llu packets", path,
			(unsigned long long)packets);
}

/* Progress only for a person watching: stderr a terminal, and not also
 * where the flows are printed.
 */
static bool want_progress(const struct flowmon_cfg *cfg)
{
	return !common_opts.quiet && !cfg->log_file && isatty(STDERR_FILENO) &&
	       !isatty(STDOUT_FILENO);
}

static int run_offline(struct sf_flowmon *fm, struct flowmon_cfg *cfg,
		       struct flow_out *o)
{
	bool progress = want_progress(cfg);
	long bad = 0;
	int err;

	if (progress)
		sf_flowmon_set_progress(fm, show_progress, (void *)cfg->pcap);
	replaying = fm;
	err = sf_flowmon_replay_pcap(fm, cfg->pcap, out_flow, o, &bad);
	replaying = NULL;
	if (progress)
		fprintf(stderr, "\r\033[K");
	if (err == -EINTR) {
		pr_info("replay of %s stopped after %llu packets; the flows so "
			"far were exported\n",
			cfg->pcap, (unsigned long long)sf_flowmon_packets(fm));
		err = 0;
	}
	if (o->ipfix)
		sf_ipfix_flush(o->ipfix);
	/* none of a file never read */
	if (!common_opts.quiet && (!err || sf_flowmon_packets(fm)))
		print_stats(fm, o, stderr);
	return err ? 1 : 0;
}

static int run_test_mode(struct sf_flowmon *fm, struct flowmon_cfg *cfg)
{
	uint64_t n;

	pr_info("counting packets on %s for %u s\n", cfg->devs, cfg->test_secs);
	wait_secs(cfg->test_secs);
	n = sf_flowmon_packets(fm);
	if (cfg->json)
		printf("{\"packets\":%llu}\n", (unsigned long long)n);
	else
		printf("%llu\n", (unsigned long long)n);
	return 0;
}

static int run_live(struct sf_flowmon *fm, struct flowmon_cfg *cfg,
		    struct flow_out *o)
{
	bool view = !cfg->json && !common_opts.quiet;
	bool attached = true;
	int n;

	pr_info("monitoring flows on %s; Ctrl-C to end\n", cfg->devs);
	while (!sf_exiting && !o->reader_gone && attached) {
		wait_secs(cfg->interval);
		n = sf_flowmon_sweep(fm, sf_flowmon_now(fm), out_flow, o);
		if (n < 0)
			pr_warn("flow sweep failed: %s\n", strerror(-n));
		if (o->ipfix)
			sf_ipfix_flush(o->ipfix);
		if (view && print_view(fm, o, cfg->devs) == -EPIPE) {
			view = false; /* as for -j: the reader's choice */
			o->reader_gone = stdout_only(o);
		}
		attached = sf_flowmon_attached(fm) > 0;
	}
	if (!attached)
		pr_err("no interface of %s is left to monitor; stopping\n",
		       cfg->devs);
	n = sf_flowmon_flush(fm, out_flow, o);
	if (o->ipfix) /* sent before the counters are printed */
		sf_ipfix_flush(o->ipfix);
	pr_info("flushed %d flows\n", n < 0 ? 0 : n);
	return n < 0 || !attached ? 1 : 0;
}

/* Test mode or the live loop, then the counters on stderr. */
static int run_attached(struct sf_flowmon *fm, struct flowmon_cfg *cfg,
			struct flow_out *o)
{
	int rc = cfg->test_secs ? run_test_mode(fm, cfg) : run_live(fm, cfg, o);

	if (!common_opts.quiet)
		print_stats(fm, o, stderr);
	return rc;
}

/* Is the name at tok already in the comma list before it? */
static bool listed_before(const char *list, const char *tok, size_t len)
{
	for (const char *p = list; p < tok; p += strcspn(p, ",") + 1)
		if (strcspn(p, ",") == len && !strncmp(p, tok, len))
			return true;
	return false;
}

/* -d: no empty or repeated names; -m: known modes, at most one per -d. */
static int check_devices(const struct flowmon_cfg *cfg)
{
	const char *d = cfg->devs, *m = cfg->modes;
	int n_devs = 0, n_modes = 0;
	enum sf_xdp_mode mode;
	char name[32];

	for (; d && *d; d += *d == ',') {
		size_t len = strcspn(d, ",");

		if (!len || listed_before(cfg->devs, d, len)) {
			fprintf(stderr, "sysflow flowmon: -d %s: %s%.*s%s\n",
				cfg->devs, len ? "interface '" : "empty name",
				(int)len, d, len ? "' is given twice" : "");
			return EXIT_USAGE;
		}
		n_devs++;
		d += len;
	}
	for (; m && *m; m += *m == ',', n_modes++) {
		size_t len = strcspn(m, ",");

		snprintf(name, sizeof(name), "%.*s", (int)len, m);
		if (parse_mode(name, &mode)) {
			fprintf(stderr,
				"sysflow flowmon: invalid value '%s' for "
				"--mode: expected skb, generic, native or "
				"driver\n",
				name);
			return EXIT_USAGE;
		}
		m += len;
	}
	if (n_modes > n_devs && cfg->devs) {
		fprintf(stderr,
			"sysflow flowmon: -m %s gives %d modes for %d "
			"interface(s)\n",
			cfg->modes, n_modes, n_devs);
		return EXIT_USAGE;
	}
	return 0;
}

/* --ipfix: its syntax is a usage matter, checked before anything opens */
static int check_ipfix_dest(const char *dest)
{
	char host[NI_MAXHOST], port[6];

	if (!dest || !sf_ipfix_parse_dest(dest, host, sizeof(host), port))
		return 0;
	fprintf(stderr,
		"sysflow flowmon: invalid value '%s' for --ipfix: expected "
		"host[:port] or [ipv6-address][:port], port 1-65535\n",
		dest);
	return EXIT_USAGE;
}

/* 0 with -p in cfg->o.protocols, or EXIT_USAGE */
static int check_cfg(struct flowmon_cfg *cfg)
{
	bool print_pinned = cfg->interval == 0;

	if (print_pinned && (cfg->pcap || cfg->devs)) {
		fprintf(stderr,
			"sysflow flowmon: -i 0 prints the table a "
			"running flowmon pinned (-F DIR or -M PATH) and "
			"attaches nothing: leave out %s\n",
			cfg->devs ? "-d" : "-r");
		return EXIT_USAGE;
	}
	if (print_pinned && !cfg->o.reuse_map) { /* the running flowmon's */
		snprintf(cfg->pinned_flows, sizeof(cfg->pinned_flows),
			 "%s/flows", cfg->pin_dir);
		cfg->o.reuse_map = cfg->pinned_flows;
	}
	if (!print_pinned && !cfg->devs == !cfg->pcap) {
		fprintf(stderr, "sysflow flowmon: give interfaces with -d or a "
				"pcap with -r (one of the two)\n");
		return EXIT_USAGE;
	}
	if (check_devices(cfg) || check_ipfix_dest(cfg->ipfix))
		return EXIT_USAGE;
	if (cfg->protocols &&
	    sf_flowmon_parse_protocols(cfg->protocols, &cfg->o.protocols))
		return EXIT_USAGE;
	return 0;
}

/* -i 0: is there a table to print? Say where it was looked for. */
static int check_pinned(const struct flowmon_cfg *cfg)
{
	if (!access(cfg->o.reuse_map, F_OK))
		return 0;
	if (errno != ENOENT || cfg->o.reuse_map != cfg->pinned_flows)
		return 0; /* sf_flowmon_open() names the problem */
	pr_err("no flow table is pinned at %s: no sysflow flowmon is "
	       "running with -F %s; give its -F DIR, or -M PATH\n",
	       cfg->o.reuse_map, cfg->pin_dir);
	return -ENOENT;
}

static int do_flowmon(void *arg)
{
	struct flowmon_cfg *cfg = arg;
	struct flow_out out = {};
	struct sf_flowmon *fm = NULL;
	int rc, err;

	rc = check_cfg(cfg);
	if (rc) { /* each said what is wrong; then the usage, as the parser */
		params_usage(&cmd_flowmon, stderr, false);
		return rc;
	}
	if (cfg->log_file && (err = sf_log_set_file(cfg->log_file))) {
		pr_err("cannot open log file %s: %s\n", cfg->log_file,
		       strerror(-err));
		return 1;
	}
	if (sf_check_privileges("sysflow flowmon") ||
	    sf_signals_install_hook(stop_replay, false) ||
	    outputs_open(cfg, &out))
		goto fail;
	if (cfg->interval == 0 && check_pinned(cfg))
		goto fail;
	cfg->o.pin_dir = cfg->pcap || cfg->interval == 0 ? NULL : cfg->pin_dir;
	cfg->o.offline = cfg->pcap != NULL;
	fm = sf_flowmon_open(&cfg->o, &err);
	if (!fm)
		goto fail;
	if (cfg->pcap)
		rc = run_offline(fm, cfg, &out);
	else if (cfg->interval == 0) /* -M PATH: print, attach nothing */
		rc = print_table(fm, stdout, 0, cfg->json) ? 1 : 0;
	else if (attach_all(fm, cfg))
		rc = 1; /* one line said why; no counters of a run that wasn't */
	else
		rc = run_attached(fm, cfg, &out);
	rc = rc ? rc : check_lost(&out);
	sf_flowmon_close(fm);
	outputs_close(&out);
	return rc;
fail:
	outputs_close(&out);
	return 1;
}

const struct cmd_def cmd_flowmon = {
	.name = "flowmon",
	.run = do_flowmon,
	.opts = flowmon_options,
	.defaults = &defaults_flowmon,
	.init = init_flowmon,
	.cfg_size = sizeof(struct flowmon_cfg),
	.usage = "-d DEV[,DEV] | -r FILE.pcap | -i 0 [-F DIR]",
	.summary = "monitor network flows with XDP (JSON, IPFIX, pcap)",
	.doc = "Attaches an XDP program that parses Ethernet (802.1Q/802.1ad), "
	       "IPv4, IPv6,\nTCP, UDP, ICMP and ICMPv6 and keeps per-flow "
	       "counters; never drops a packet.\nEach interval the flow "
	       "manager exports flows that ended (FIN/RST, idle or\nactive "
	       "timeout, table pressure); all flows are exported on exit.\n"
	       "Without -j the terminal shows the top flows, totals and "
	       "drops.\n",
	.examples =
		"  sysflow flowmon -d lo                   # live view on lo\n"
		"  sysflow flowmon -d eth0 -m native -j    # ended flows as "
		"JSON\n"
		"  sysflow flowmon -d eth0 -p eth,ipv4,tcp -D -O /var/log/flows\n"
		"  sysflow flowmon -d eth0 --ipfix 127.0.0.1:9995\n"
		"  sysflow flowmon -r capture.pcap -j      # offline\n"
		"  sysflow flowmon -d lo -t 5              # count packets "
		"for 5 s\n",
};
