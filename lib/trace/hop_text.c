// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* hop_text.c: tracepkt's terminal output: one block per packet (a line
 * naming the packet, then one line per hop and a line of details where a
 * hop has some), and the --summary table. Lines stay within
 * SF_HOP_TEXT_WIDTH columns.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "core/grow.h"
#include "export/json.h"
#include "hop_json.h"
#include "hop_text.h"

#define SLOTS 4096 /* packets open at once; a collision prints the older */
#define DETAIL_INDENT 22

struct open_trace {
	uint32_t id; /* 0: slot free */
	uint64_t last_ns;
	struct sf_tracepkt_hop *hops;
	size_t n, cap;
};

struct sf_hop_text {
	FILE *out;
	uint64_t start_ns;
	struct open_trace *slots;
	size_t open;
};

struct sf_hop_text *sf_hop_text_new(FILE *out, uint64_t start_ns)
{
	struct sf_hop_text *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->slots = calloc(SLOTS, sizeof(*t->slots));
	if (!t->slots) {
		free(t);
		return NULL;
	}
	t->out = out;
	t->start_ns = start_ns;
	return t;
}

void sf_hop_text_header(struct sf_hop_text *t)
{
	fprintf(t->out, "%11s %9s %-10s %-15s %-22s %5s\n", "TIME(s)",
		"DELTA(us)", "NETNS", "IFACE", "HOOK", "LEN");
}

/* ---- one packet ---- */

static void fmt_packet(const struct sf_tracepkt_hop *h, char *buf, size_t len)
{
	char s[64], d[64], p[8], what[40] = "";
	const char *proto = sf_tracepkt_proto_name(h->proto, p, sizeof(p));
	unsigned int type = h->dport >> 8, code = h->dport & 0xff;
	bool icmp = h->proto == 1 || h->proto == 58;

	if (!h->ip_version) {
		snprintf(buf, len, "(not IP)");
		return;
	}
	sf_ip_str(h->ip_version, h->saddr, s, sizeof(s));
	sf_ip_str(h->ip_version, h->daddr, d, sizeof(d));
	if (h->has_l4 && (h->proto == 6 || h->proto == 17)) {
		snprintf(buf, len, "%s %s:%u > %s:%u", proto, s, h->sport, d,
			 h->dport);
		return;
	}
	icmp = icmp && h->has_l4; /* its header cut short: addresses only */
	if (icmp && type == (h->proto == 1 ? 8 : 128))
		snprintf(what, sizeof(what), " echo request id %u", h->sport);
	else if (icmp && type == (h->proto == 1 ? 0 : 129))
		snprintf(what, sizeof(what), " echo reply id %u", h->sport);
	else if (icmp)
		snprintf(what, sizeof(what), " type %u code %u", type, code);
	snprintf(buf, len, "%s %s > %s%s", proto, s, d, what);
}

/* "#id packet", broken before the '>' when too wide. */
static void print_packet_line(FILE *out, const struct sf_tracepkt_hop *h)
{
	char pkt[200], line[220], *gt;

	fmt_packet(h, pkt, sizeof(pkt));
	snprintf(line, sizeof(line), "#%u %s", h->trace_id, pkt);
	gt = strstr(line, " > ");
	if (strlen(line) > SF_HOP_TEXT_WIDTH && gt) {
		*gt = 0;
		fprintf(out, "%s\n    %s\n", line, gt + 1);
	} else {
		fprintf(out, "%s\n", line);
	}
}

static void append(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void append(char *buf, size_t len, const char *fmt, ...)
{
	size_t n = strlen(buf);
	va_list ap;

	if (n + 2 >= len)
		return;
	if (n)
		buf[n++] = ' ';
	va_start(ap, fmt);
	vsnprintf(buf + n, len - n, fmt, ap);
	va_end(ap);
}

static bool addrs_differ(const struct sf_tracepkt_hop *a,
			 const struct sf_tracepkt_hop *b)
{
	return a->ip_version != b->ip_version ||
	       memcmp(a->saddr, b->saddr, 16) || memcmp(a->daddr, b->daddr, 16);
}

/* What a hop adds beyond the columns: drop reason, route, mark, NAT. */
static void fmt_details(const struct sf_tracepkt_hop *h, bool nat, char *buf,
			size_t len)
{
	char s[64], d[64];

	buf[0] = 0;
	if (h->drop_reason)
		append(buf, len, "reason %s", h->drop_reason);
	else if (h->drop_code)
		append(buf, len, "reason %u", h->drop_code);
	if (h->fib) {
		append(buf, len, "table %u", h->fib_table);
		if (h->fib_err)
			append(buf, len, "error %d (%s)", h->fib_err,
			       strerror(-h->fib_err));
	}
	if (h->has_rc && h->rc)
		append(buf, len, "rc %d", h->rc);
	if (h->qdisc)
		append(buf, len, "qdisc %x:%x", h->qdisc_handle >> 16,
		       h->qdisc_handle & 0xffff);
	if (h->coalesced)
		append(buf, len, "merged into 0x%llx",
		       (unsigned long long)h->coalesced_into);
	if (h->backlog)
		append(buf, len, "from the socket backlog");
	if (h->mark)
		append(buf, len, "mark 0x%x", h->mark);
	if (nat)
		append(buf, len, "now %s > %s",
		       sf_ip_str(h->ip_version, h->saddr, s, sizeof(s)),
		       sf_ip_str(h->ip_version, h->daddr, d, sizeof(d)));
}

static void print_hop(struct sf_hop_text *t, const struct sf_tracepkt_hop *h,
		      bool nat)
{
	char delta[16] = "-", netns[16] = "-", len[16] = "-", det[160];
	double secs = (double)(int64_t)(h->time_ns - t->start_ns) / 1e9;
	int ind;

	if (h->seq)
		snprintf(delta, sizeof(delta),
			 h->delta_ns < 100000000 ? "%.3f" : "%.0f",
			 h->delta_ns / 1e3);
	if (h->netns)
		snprintf(netns, sizeof(netns), "%u", h->netns);
	if (!h->fib)
		snprintf(len, sizeof(len), "%u", h->len);
	fprintf(t->out, "%11.6f %9s %-10s %-15s %-22s %5s\n", secs, delta,
		netns, h->ifname[0] ? h->ifname : "-", h->hook, len);
	fmt_details(h, nat, det, sizeof(det));
	if (det[0]) {
		ind = SF_HOP_TEXT_WIDTH - (int)strlen(det);
		if (ind > DETAIL_INDENT)
			ind = DETAIL_INDENT;
		fprintf(t->out, "%*s%s\n", ind < 2 ? 2 : ind, "", det);
	}
}

static void print_trace(struct sf_hop_text *t, struct open_trace *o)
{
	const struct sf_tracepkt_hop *first = NULL, *addr = NULL;

	for (size_t i = 0; i < o->n && !first; i++)
		if (o->hops[i].ip_version && !o->hops[i].fib)
			first = &o->hops[i];
	print_packet_line(t->out, first ? first : &o->hops[0]);
	if (o->hops[0].seq)
		fprintf(t->out, "%*s(first %u hops lost)\n", DETAIL_INDENT, "",
			o->hops[0].seq);
	for (size_t i = 0; i < o->n; i++) {
		const struct sf_tracepkt_hop *h = &o->hops[i];
		bool ip = h->ip_version && !h->fib;

		if (i && h->seq != o->hops[i - 1].seq + 1)
			fprintf(t->out, "%*s(%u hops lost)\n", DETAIL_INDENT,
				"", h->seq - o->hops[i - 1].seq - 1);
		print_hop(t, h, ip && addr && addrs_differ(addr, h));
		if (ip)
			addr = h;
	}
	if (!o->hops[o->n - 1].end)
		fprintf(t->out, "%*s(last hop seen so far)\n", DETAIL_INDENT,
			"");
	free(o->hops);
	memset(o, 0, sizeof(*o));
	t->open--;
}

int sf_hop_text_add(struct sf_hop_text *t, const struct sf_tracepkt_hop *h,
		    uint64_t now_ns)
{
	struct open_trace *o = &t->slots[h->trace_id % SLOTS];

	if (o->id && o->id != h->trace_id)
		print_trace(t, o); /* slot taken by an older packet */
	if (!o->id) {
		o->id = h->trace_id;
		t->open++;
	}
	if (grow_array(o->hops, o->cap, o->n, 1, 16))
		return -ENOMEM;
	o->hops[o->n++] = *h;
	o->last_ns = now_ns;
	if (h->end)
		print_trace(t, o);
	return 0;
}

void sf_hop_text_flush_idle(struct sf_hop_text *t, uint64_t now_ns,
			    uint64_t idle_ns)
{
	for (size_t i = 0; i < SLOTS && t->open; i++)
		if (t->slots[i].id && now_ns - t->slots[i].last_ns >= idle_ns)
			print_trace(t, &t->slots[i]);
}

static int by_id(const void *a, const void *b)
{
	const struct open_trace *x = *(struct open_trace *const *)a;
	const struct open_trace *y = *(struct open_trace *const *)b;

	return x->id < y->id ? -1 : x->id > y->id;
}

void sf_hop_text_free(struct sf_hop_text *t)
{
	struct open_trace **left;
	size_t n = 0;

	if (!t)
		return;
	left = calloc(t->open ? t->open : 1, sizeof(*left));
	for (size_t i = 0; left && i < SLOTS; i++)
		if (t->slots[i].id)
			left[n++] = &t->slots[i];
	if (left)
		qsort(left, n, sizeof(*left), by_id);
	for (size_t i = 0; i < n; i++)
		print_trace(t, left[i]);
	for (size_t i = 0; i < SLOTS; i++)
		free(t->slots[i].hops);
	free(left);
	free(t->slots);
	free(t);
}

/* ---- --summary ---- */

void sf_hop_text_summary(FILE *out, struct sf_tracepkt_summary *s,
			 uint64_t packets)
{
	struct sf_tracepkt_hop_stats st;
	char label[80];

	fprintf(out, "Per-hop latency in microseconds over %llu packets:\n",
		(unsigned long long)packets);
	fprintf(out, "%-34s %8s %8s %8s %8s %8s\n", "FROM -> TO", "COUNT",
		"MIN", "MEDIAN", "P99", "MAX");
	for (size_t i = 0; !sf_tracepkt_summary_get(s, i, &st); i++) {
		snprintf(label, sizeof(label), "%s@%s -> %s@%s", st.from,
			 st.from_ifname[0] ? st.from_ifname : "-", st.to,
			 st.to_ifname[0] ? st.to_ifname : "-");
		if (strlen(label) > 34)
			fprintf(out, "%s\n%-34s", label, "");
		else
			fprintf(out, "%-34s", label);
		fprintf(out, " %8llu %8.1f %8.1f %8.1f %8.1f\n",
			(unsigned long long)st.count, st.min_ns / 1e3,
			st.median_ns / 1e3, st.p99_ns / 1e3, st.max_ns / 1e3);
	}
}
