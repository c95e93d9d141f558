// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* hop_json.c: tracepkt's hops and per-hop statistics as JSON objects for
 * the JSON lines writer. Keys are stable snake_case; times are
 * nanoseconds; optional keys appear only on the hops they describe.
 */
#include <stdio.h>
#include "export/json.h"
#include "hop_json.h"

const char *sf_tracepkt_proto_name(uint8_t proto, char *buf, size_t len)
{
	switch (proto) {
	case 1:
		return "icmp";
	case 6:
		return "tcp";
	case 17:
		return "udp";
	case 58:
		return "icmp6";
	}
	snprintf(buf, len, "%u", proto);
	return buf;
}

static void add_packet(json_t *o, const struct sf_tracepkt_hop *h)
{
	char a[64], p[8];
	const char *name = sf_tracepkt_proto_name(h->proto, p, sizeof(p));

	json_object_set_new(o, "ip_version", json_integer(h->ip_version));
	json_object_set_new(o, "proto", json_integer(h->proto));
	if (name != p) /* a known protocol */
		json_object_set_new(o, "proto_name", json_string(name));
	json_object_set_new(
		o, "saddr",
		json_string(sf_ip_str(h->ip_version, h->saddr, a, sizeof(a))));
	json_object_set_new(
		o, "daddr",
		json_string(sf_ip_str(h->ip_version, h->daddr, a, sizeof(a))));
	if (!h->has_l4)
		return;
	if (h->proto == 6 || h->proto == 17) {
		json_object_set_new(o, "sport", json_integer(h->sport));
		json_object_set_new(o, "dport", json_integer(h->dport));
	} else if (h->proto == 1 || h->proto == 58) {
		json_object_set_new(o, "icmp_type",
				    json_integer(h->dport >> 8));
		json_object_set_new(o, "icmp_code",
				    json_integer(h->dport & 0xff));
		json_object_set_new(o, "icmp_id", json_integer(h->sport));
	}
}

json_t *sf_tracepkt_hop_json(const struct sf_tracepkt_hop *h)
{
	json_t *o = json_object();
	char skb[24];

	if (!o)
		return NULL;
	snprintf(skb, sizeof(skb), "0x%llx", (unsigned long long)h->skbaddr);
	json_object_set_new(o, "type", json_string("hop"));
	json_object_set_new(o, "trace_id", json_integer(h->trace_id));
	json_object_set_new(o, "seq", json_integer(h->seq));
	json_object_set_new(o, "time_ns", json_integer(h->time_ns));
	json_object_set_new(o, "delta_ns", json_integer(h->delta_ns));
	json_object_set_new(o, "hook", json_string(h->hook));
	json_object_set_new(o, "netns", json_integer(h->netns));
	json_object_set_new(o, "ifindex", json_integer(h->ifindex));
	json_object_set_new(o, "ifname", json_string(h->ifname));
	json_object_set_new(o, "len", json_integer(h->len));
	json_object_set_new(o, "mark", json_integer(h->mark));
	json_object_set_new(o, "cpu", json_integer(h->cpu));
	json_object_set_new(o, "skbaddr", json_string(skb));
	if (h->ip_version)
		add_packet(o, h);
	if (h->drop_code || h->drop_reason) {
		json_object_set_new(o, "drop_reason",
				    h->drop_reason ?
					    json_string(h->drop_reason) :
					    json_null());
		json_object_set_new(o, "drop_code", json_integer(h->drop_code));
	}
	if (h->has_rc)
		json_object_set_new(o, "rc", json_integer(h->rc));
	if (h->fib) {
		json_object_set_new(o, "fib_table", json_integer(h->fib_table));
		json_object_set_new(o, "fib_err", json_integer(h->fib_err));
	}
	if (h->qdisc)
		json_object_set_new(o, "qdisc_handle",
				    json_integer(h->qdisc_handle));
	if (h->tcp_socket)
		json_object_set_new(o, "backlog", json_boolean(h->backlog));
	if (h->coalesced) {
		snprintf(skb, sizeof(skb), "0x%llx",
			 (unsigned long long)h->coalesced_into);
		json_object_set_new(o, "coalesced_into", json_string(skb));
	}
	json_object_set_new(o, "end", json_boolean(h->end));
	return o;
}

json_t *sf_tracepkt_hop_stats_json(const struct sf_tracepkt_hop_stats *st)
{
	return json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:I, s:I, s:I, s:I, "
			 "s:I, s:I}",
			 "type", "summary", "from", st->from, "from_ifname",
			 st->from_ifname, "from_netns",
			 (json_int_t)st->from_netns, "to", st->to, "to_ifname",
			 st->to_ifname, "to_netns", (json_int_t)st->to_netns,
			 "count", (json_int_t)st->count, "min_ns",
			 (json_int_t)st->min_ns, "median_ns",
			 (json_int_t)st->median_ns, "p99_ns",
			 (json_int_t)st->p99_ns, "max_ns",
			 (json_int_t)st->max_ns);
}
