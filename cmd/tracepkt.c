// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* tracepkt.c: `sysflow tracepkt`: options, the terminal and JSON output and
 * the main loop of the packet path tracer. The tracer itself is
 * lib/trace/.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/nsfs.h>
#include <sysflow/sysflow.h>
#include <sysflow/tracepkt.h>
#include "core/core.h"
#include "export/json.h"
#include "trace/hop_json.h"
#include "trace/hop_text.h"
#include "cmds.h"

#define POLL_MS 50
#define GRACE_MS 1000 /* --count: wait this long for the last hops */
#define WIDTH SF_HOP_TEXT_WIDTH
#define IDLE_NS 1000000000ULL /* print a packet idle this long */

struct tracepkt_cfg {
	/* filter, ifname, max_packets (--count), no_btf, buffer_size; the
	 * rest is parsed into it by do_tracepkt()
	 */
	struct sf_tracepkt_opts o;
	const char *netns;
	const char *mark;
	uint32_t duration;
	bool json;
	bool summary;
	const char *hooks;
};

static const struct tracepkt_cfg defaults_tracepkt = {};

static void init_tracepkt(void *cfg)
{
	sf_tracepkt_opts_init(&((struct tracepkt_cfg *)cfg)->o);
}

#define OFF(m) offsetof(struct tracepkt_cfg, m)

/* clang-format off */
static const struct opt_def tracepkt_options[] = {
	{ .name = "filter", .type = OPT_STRING, .offset = OFF(o.filter),
	  .metavar = "'FILTER'", .positional = true,
	  .help = "pcap-like expression, quoted as one argument" },
	{ .name = "iface", .short_name = 'i', .type = OPT_STRING,
	  .offset = OFF(o.ifname), .metavar = "IFNAME",
	  .help = "only packets first seen on IFNAME (any netns)" },
	{ .name = "netns", .short_name = 'n', .type = OPT_STRING,
	  .offset = OFF(netns), .metavar = "NS",
	  .help = "only packets first seen in NS (name, path, inode)" },
	{ .name = "mark", .short_name = 'm', .type = OPT_STRING,
	  .offset = OFF(mark), .metavar = "MARK[/MASK]",
	  .help = "only packets with (skb mark & MASK) == MARK" },
	{ .name = "count", .short_name = 'c', .type = OPT_U32,
	  .offset = OFF(o.max_packets),
	  .metavar = "N", .min = 1, .max = 1000000000,
	  .help = "stop after N packets were traced to their end" },
	{ .name = "duration", .short_name = 'd', .type = OPT_U32,
	  .offset = OFF(duration), .metavar = "SEC", .min = 1,
	  .max = 31536000, .help = "stop after SEC seconds" },
	{ .name = "json", .short_name = 'j', .type = OPT_FLAG,
	  .offset = OFF(json),
	  .help = "JSON lines: one object per hop, then counters" },
	{ .name = "summary", .short_name = 's', .type = OPT_FLAG,
	  .offset = OFF(summary),
	  .help = "per-hop latency statistics instead of hops" },
	{ .name = "hooks", .type = OPT_STRING, .offset = OFF(hooks),
	  .metavar = "LIST",
	  .help = "attach only these tracepoints (comma list)" },
	{ .name = "no-btf", .type = OPT_FLAG, .offset = OFF(o.no_btf),
	  .help = "plain tracepoints even where tp_btf works" },
	OPT_BUFFER_SIZE(OFF(o.buffer_size)),
	OPT_END,
};
/* clang-format on */

/* ---- run state ---- */

struct run {
	const struct tracepkt_cfg *cfg;
	struct sf_tracepkt_summary *summary; /* --summary */
	struct sf_hop_text *text; /* terminal output */
	uint64_t start_ns; /* CLOCK_MONOTONIC at attach */
	uint64_t last_hop_ns; /* when the last hop arrived */
	uint64_t ended; /* packets whose last hop was seen */
	int out_err; /* first error writing stdout */
};

static int on_hop(const struct sf_tracepkt_hop *h, void *ctx)
{
	struct run *r = ctx;

	r->last_hop_ns = sf_clock_ns(CLOCK_MONOTONIC);
	if (h->end)
		r->ended++;
	if (r->summary)
		return sf_tracepkt_summary_add(r->summary, h);
	if (r->text)
		return sf_hop_text_add(r->text, h, r->last_hop_ns);
	if (!r->out_err && sf_json_write_line(stdout, sf_tracepkt_hop_json(h)))
		r->out_err = errno ?: EIO;
	return 0;
}

/* ---- summary and counters ---- */

static void print_summary_json(struct sf_tracepkt_summary *s)
{
	struct sf_tracepkt_hop_stats st;

	for (size_t i = 0; !sf_tracepkt_summary_get(s, i, &st); i++)
		sf_json_write_line(stdout, sf_tracepkt_hop_stats_json(&st));
}

static void print_stats(struct sf_tracepkt *tp, const struct run *r)
{
	struct sf_tracepkt_stats st = {};
	uint64_t lost[256] = {};
	char per_cpu[256] = "";
	int ncpu = sf_tracepkt_lost_per_cpu(tp, lost, ARRAY_SIZE(lost));
	json_t *arr;

	sf_tracepkt_get_stats(tp, &st);
	if (ncpu > (int)ARRAY_SIZE(lost))
		ncpu = ARRAY_SIZE(lost);
	if (r->cfg->json) {
		arr = json_array();
		for (int c = 0; c < ncpu; c++)
			json_array_append_new(arr, json_integer(lost[c]));
		sf_json_write_line(
			stdout,
			json_pack(
				"{s:s, s:I, s:I, s:I, s:I, s:o, s:I, s:I, s:I, s:I, "
				"s:I, s:s, s:i}",
				"type", "stats", "matched",
				(json_int_t)st.matched, "ended",
				(json_int_t)r->ended, "hops",
				(json_int_t)st.hops, "lost",
				(json_int_t)st.lost, "lost_per_cpu", arr,
				"track_full", (json_int_t)st.track_full,
				"over_count", (json_int_t)st.over_count,
				"stale", (json_int_t)st.stale, "coalesced",
				(json_int_t)st.coalesced, "tcp_full",
				(json_int_t)st.tcp_full, "mechanism",
				sf_tracepkt_mechanism(tp), "hooks",
				sf_tracepkt_hook_count(tp)));
	}
	for (int c = 0; c < ncpu; c++) {
		size_t n = strlen(per_cpu);

		if (lost[c])
			snprintf(per_cpu + n, sizeof(per_cpu) - n,
				 ", cpu%d %llu", c,
				 (unsigned long long)lost[c]);
	}
	pr_info("%llu packets traced, %llu hops; %llu hop events lost to a "
		"full ring buffer%s\n",
		(unsigned long long)st.matched, (unsigned long long)st.hops,
		(unsigned long long)st.lost, per_cpu);
	if (st.track_full || st.stale)
		pr_info("not followed: %llu (tracking table full); expired: "
			"%llu (freed without a tracepoint)\n",
			(unsigned long long)st.track_full,
			(unsigned long long)st.stale);
	if (st.coalesced || st.tcp_full)
		pr_info("TCP segments merged into another in a socket backlog: "
			"%llu; not followed to their socket (too many "
			"waiting on one connection): %llu\n",
			(unsigned long long)st.coalesced,
			(unsigned long long)st.tcp_full);
}

/* ---- options ---- */

/* MARK[/MASK] into o: -EINVAL when it does not parse, -EDOM for a MASK of
 * 0 (it compares no bit), -ERANGE when MARK has bits outside MASK (no
 * packet could match).
 */
static int parse_mark(const char *s, struct sf_tracepkt_opts *o)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || v > UINT32_MAX || (*end && *end != '/'))
		return -EINVAL;
	o->mark = v;
	o->mark_mask = UINT32_MAX;
	if (*end == '/') {
		s = end + 1;
		v = strtoull(s, &end, 0);
		if (errno || end == s || *end || v > UINT32_MAX)
			return -EINVAL;
		o->mark_mask = v;
	}
	if (!o->mark_mask)
		return -EDOM;
	if (o->mark & ~o->mark_mask)
		return -ERANGE;
	o->match_mark = true;
	return 0;
}

/* 0 if path is the file of a network namespace, -EINVAL if it is another
 * file (which has an inode number too, that no packet would match), or
 * the error that kept it from being opened.
 */
static int check_netns_file(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), type;

	if (fd < 0)
		return -errno;
	type = ioctl(fd, NS_GET_NSTYPE);
	close(fd);
	return type == CLONE_NEWNET ? 0 : -EINVAL;
}

/* A name from `ip netns`, a path, or an inode number. */
static int resolve_netns(const char *ns, uint32_t *ino)
{
	char path[PATH_MAX], *end;
	unsigned long long v;
	struct stat st;
	int err;

	errno = 0;
	v = strtoull(ns, &end, 10);
	if (!errno && end != ns && !*end && v && v <= UINT32_MAX) {
		*ino = v;
		return 0;
	}
	if (strchr(ns, '/'))
		snprintf(path, sizeof(path), "%s", ns);
	else
		snprintf(path, sizeof(path), "/run/netns/%s", ns);
	err = stat(path, &st) ? -errno : check_netns_file(path);
	if (err == -ENOENT)
		pr_err("unknown network namespace '%s' (%s: %s); give a name "
		       "from 'ip netns', a path such as /proc/PID/ns/net or an "
		       "inode number\n",
		       ns, path, strerror(-err));
	else if (err == -EINVAL)
		pr_err("'%s' is not a network namespace (%s is another kind of "
		       "file); give a name from 'ip netns', a path such as "
		       "/proc/PID/ns/net or an inode number\n",
		       ns, path);
	else if (err)
		pr_err("cannot open network namespace '%s' (%s: %s)\n", ns,
		       path, strerror(-err));
	if (err)
		return err;
	*ino = st.st_ino;
	return 0;
}

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "sysflow tracepkt: ");
	fprintf(stderr, fmt, arg);
	params_usage(&cmd_tracepkt, stderr, false);
	return EXIT_USAGE;
}

static int check_filter(const char *expr)
{
	char msg[256];
	int col = 0;

	if (sf_tracepkt_filter_check(expr, msg, sizeof(msg), &col) != -EINVAL)
		return 0;
	fprintf(stderr, "sysflow tracepkt: bad filter: %s\n  %s\n  %*s^\n", msg,
		expr, col - 1, "");
	params_usage(&cmd_tracepkt, stderr, false);
	return EXIT_USAGE;
}

/* ---- main loop ---- */

/* "Tracing ...; Ctrl-C to end." within WIDTH columns, the filter cut
 * short if need be.
 */
static void print_banner(const struct tracepkt_cfg *cfg, struct run *r,
			 struct sf_tracepkt *tp)
{
	const char *f = cfg->o.filter && *cfg->o.filter ? cfg->o.filter : NULL;
	char what[WIDTH + 1], tail[160], line[WIDTH + 200];
	int room;

	snprintf(tail, sizeof(tail), "%s%s%s%s%s%s; Ctrl-C to end.",
		 cfg->o.ifname ? " on " : "", cfg->o.ifname ?: "",
		 cfg->netns ? " in netns " : "", cfg->netns ?: "",
		 cfg->mark ? " with mark " : "", cfg->mark ?: "");
	room = WIDTH - (int)strlen("Tracing ''") - (int)strlen(tail);
	if (!f)
		snprintf(what, sizeof(what), "all packets");
	else if ((int)strlen(f) > room && room > 8)
		snprintf(what, sizeof(what), "'%.*s...'", room - 3, f);
	else
		snprintf(what, sizeof(what), "'%s'", f);
	snprintf(line, sizeof(line), "Tracing %s%s", what, tail);
	pr_info("attached to %d tracepoints with %s\n",
		sf_tracepkt_hook_count(tp), sf_tracepkt_mechanism(tp));
	/* the banner once: stdout for hops as text, else stderr */
	if (!r->text) {
		pr_info("%s\n", line);
		return;
	}
	printf("%s\n", line);
	sf_hop_text_header(r->text);
	fflush(stdout);
}

static bool count_done(struct sf_tracepkt *tp, const struct run *r,
		       uint64_t now)
{
	struct sf_tracepkt_stats st;

	if (!r->cfg->o.max_packets || sf_tracepkt_get_stats(tp, &st))
		return false;
	if (st.matched + st.track_full < r->cfg->o.max_packets)
		return false;
	/* all traced: wait for their last hops, or a quiet GRACE_MS */
	return r->ended >= st.matched ||
	       now - r->last_hop_ns >= GRACE_MS * 1000000ULL;
}

static int trace_loop(struct sf_tracepkt *tp, struct run *r)
{
	uint64_t deadline =
		r->cfg->duration ?
			r->start_ns + r->cfg->duration * 1000000000ULL :
			UINT64_MAX;
	uint64_t now = sf_clock_ns(CLOCK_MONOTONIC);
	int n, timeout;

	while (!sf_exiting && now < deadline && !count_done(tp, r, now)) {
		timeout = POLL_MS;
		if (deadline - now < POLL_MS * 1000000ULL)
			timeout = (deadline - now) / 1000000 + 1;
		n = sf_tracepkt_poll(tp, timeout, on_hop, r);
		if (n < 0) {
			pr_err("reading hops failed: %s\n", strerror(-n));
			return 1;
		}
		now = sf_clock_ns(CLOCK_MONOTONIC);
		if (r->text)
			sf_hop_text_flush_idle(r->text, now, IDLE_NS);
		if (fflush(stdout) && !r->out_err)
			r->out_err = errno ?: EIO;
		if (r->out_err)
			break;
	}
	sf_tracepkt_poll(tp, 0, on_hop, r); /* what is already there */
	if (r->text)
		sf_hop_text_free(r->text); /* prints the packets still open */
	r->text = NULL;
	if ((fflush(stdout) || ferror(stdout)) && !r->out_err)
		r->out_err = errno ?: EIO;
	if (r->out_err && r->out_err != EPIPE) {
		pr_err("writing to stdout failed: %s\n", strerror(r->out_err));
		return 1;
	}
	return 0;
}

static int do_tracepkt(void *arg)
{
	struct tracepkt_cfg *cfg = arg;
	struct sf_tracepkt_opts *opts = &cfg->o;
	struct run r = { .cfg = cfg };
	struct sf_tracepkt *tp = NULL;
	int rc = 1, err;

	err = cfg->mark ? parse_mark(cfg->mark, opts) : 0;
	if (err == -EDOM)
		return usage_error("invalid value '%s' for --mark: a MASK of 0 "
				   "compares no bit of the mark\n",
				   cfg->mark);
	if (err == -ERANGE)
		return usage_error("invalid value '%s' for --mark: MARK has "
				   "bits outside MASK, no packet could match\n",
				   cfg->mark);
	if (err)
		return usage_error("invalid value '%s' for --mark: expected "
				   "MARK or MARK/MASK (decimal or 0x hex)\n",
				   cfg->mark);
	if (cfg->o.ifname &&
	    (!*cfg->o.ifname || strlen(cfg->o.ifname) >= IF_NAMESIZE))
		return usage_error("invalid value '%s' for --iface: an "
				   "interface name has 1 to 15 characters\n",
				   cfg->o.ifname);
	rc = check_filter(cfg->o.filter);
	if (rc)
		return rc;
	if (cfg->hooks && sf_tracepkt_parse_hooks(cfg->hooks, &opts->hooks)) {
		params_usage(&cmd_tracepkt, stderr, false);
		return EXIT_USAGE;
	}
	rc = 1;
	if (sf_check_privileges("sysflow tracepkt") || sf_signals_install())
		return 1;
	if (cfg->netns && resolve_netns(cfg->netns, &opts->netns))
		return 1;
	/* legitimate (an interface still to come), but most often a typo */
	if (cfg->o.ifname && !sf_iface_exists_anywhere(cfg->o.ifname))
		pr_warn("no interface %s in this namespace or in /run/netns/*; "
			"tracing packets on any interface that takes that "
			"name\n",
			cfg->o.ifname);
	tp = sf_tracepkt_open(opts, &err);
	if (!tp)
		return 1;
	r.start_ns = sf_clock_ns(CLOCK_MONOTONIC);
	r.last_hop_ns = r.start_ns;
	if (cfg->summary)
		r.summary = sf_tracepkt_summary_new();
	else if (!cfg->json)
		r.text = sf_hop_text_new(stdout, r.start_ns);
	if (cfg->summary ? !r.summary : !cfg->json && !r.text) {
		pr_err("out of memory\n");
		goto out;
	}
	print_banner(cfg, &r, tp);
	rc = trace_loop(tp, &r);
	if (cfg->summary && cfg->json)
		print_summary_json(r.summary);
	else if (cfg->summary)
		sf_hop_text_summary(stdout, r.summary, r.ended);
	print_stats(tp, &r);
	fflush(stdout);
out:
	sf_hop_text_free(r.text);
	sf_tracepkt_close(tp);
	sf_tracepkt_summary_free(r.summary);
	return rc;
}

const struct cmd_def cmd_tracepkt = {
	.name = "tracepkt",
	.run = do_tracepkt,
	.opts = tracepkt_options,
	.defaults = &defaults_tracepkt,
	.init = init_tracepkt,
	.cfg_size = sizeof(struct tracepkt_cfg),
	.summary = "follow packets hop by hop through the kernel",
	.doc = "Follows packets that match FILTER through the kernel's net, "
	       "skb, fib and qdisc\ntracepoints (tp_btf where the kernel "
	       "allows it) and prints each hop: time,\ndelay from the previous "
	       "hop, namespace, interface, tracepoint, length, and\nfor drops "
	       "the reason. A packet is matched once, then followed by skb "
	       "address\nacross veth pairs, bridges, namespaces and NAT. "
	       "FILTER is pcap-like:\n  host ADDR, net ADDR/LEN, port N "
	       "(each optionally after src or dst),\n  proto tcp|udp|icmp|"
	       "icmp6 (or just tcp, udp, ...), ip, ip6,\n  and, or, not, "
	       "parentheses; 'and' and 'or' have equal precedence and\n  "
	       "group left to right, as in tcpdump.\n",
	.examples =
		"  sysflow tracepkt 'icmp and host 10.0.0.2'   # follow pings\n"
		"  sysflow tracepkt -n blue 'tcp port 80' -j   # JSON lines\n"
		"  sysflow tracepkt -i veth0 -c 10 -s   # latency of 10 "
		"packets\n"
		"  sysflow tracepkt -m 0x2a/0xff -d 30  # marked packets, "
		"30 s\n",
};
