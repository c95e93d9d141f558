// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_ipfix.c: the IPFIX exporter's bytes, sequence numbers, template
 * refresh, MTU splitting, send failures and destination errors.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <cmocka.h>
#include "export/ipfix.h"

#define BE16(v) (uint8_t)((v) >> 8), (uint8_t)(v)
#define BE32(v) BE16((uint32_t)(v) >> 16), BE16(v)
#define BE64(v) BE32((uint64_t)(v) >> 32), BE32(v)

#define T0 1700000000u
#define MAX_MSGS 16
#define MSG_SIZE 2048

#define SPEC(ie, len) BE16(ie), BE16(len)
#define IP4(a, b, c, d) a, b, c, d
#define DOC6(last) 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, last

/* Field specifiers after the addresses, the same in both templates. */
#define FLOW_SPECS                                                    \
	SPEC(7, 2), SPEC(11, 2), SPEC(4, 1), SPEC(5, 1), SPEC(6, 2),  \
		SPEC(1, 8), SPEC(2, 8), SPEC(152, 8), SPEC(153, 8),   \
		SPEC(10, 4), SPEC(58, 2), SPEC(245, 2), SPEC(136, 1), \
		SPEC(52, 1), SPEC(53, 1), SPEC(25, 8), SPEC(26, 8),   \
		SPEC(218, 8), SPEC(220, 8)

static const uint8_t template_set[] = {
	BE16(2),      BE16(180), /* set ID 2, length */
	BE16(256),    BE16(21), /* IPv4 template, field count */
	SPEC(8, 4),   SPEC(12, 4),  FLOW_SPECS,
	BE16(257),    BE16(21), /* IPv6 template */
	SPEC(27, 16), SPEC(28, 16), FLOW_SPECS,
};

static const uint8_t record_v4[] = {
	IP4(192, 0, 2, 1), /* sourceIPv4Address */
	IP4(198, 51, 100, 2), /* destinationIPv4Address */
	BE16(40000), /* sourceTransportPort */
	BE16(443), /* destinationTransportPort */
	6, /* protocolIdentifier */
	0x10, /* ipClassOfService */
	BE16(0x1b), /* tcpControlBits */
	BE64(123456), /* octetDeltaCount */
	BE64(100), /* packetDeltaCount */
	BE64(1700000000123ull), /* flowStartMilliseconds */
	BE64(1700000004690ull), /* flowEndMilliseconds */
	BE32(3), /* ingressInterface */
	BE16(100), /* vlanId */
	BE16(200), /* dot1qCustomerVlanId */
	3, /* flowEndReason: end of flow detected */
	60, /* minimumTTL */
	64, /* maximumTTL */
	BE64(40), /* minimumIpTotalLength */
	BE64(1500), /* maximumIpTotalLength */
	BE64(2), /* tcpSynTotalCount */
	BE64(1), /* tcpRstTotalCount */
};

/* An ICMPv6 echo request: type 128 code 0 in the destination port. */
static const uint8_t record_v6[] = {
	DOC6(1), /* sourceIPv6Address 2001:db8::1 */
	DOC6(2), /* destinationIPv6Address 2001:db8::2 */
	BE16(0), /* the echo identifier (0x1234) is not sent, see ipfix.c */
	BE16(0x8000), /* type << 8 | code */
	58, /* protocolIdentifier */
	0, /* traffic class */
	BE16(0), /* tcpControlBits */
	BE64(336), /* octetDeltaCount */
	BE64(4), /* packetDeltaCount */
	BE64(1700000001000ull), /* flowStartMilliseconds */
	BE64(1700000004000ull), /* flowEndMilliseconds */
	BE32(0), /* ingressInterface: read from a pcap */
	BE16(0), /* vlanId */
	BE16(0), /* dot1qCustomerVlanId */
	1, /* flowEndReason: idle */
	64, /* minimum hop limit */
	64, /* maximum hop limit */
	BE64(84), /* minimumIpTotalLength */
	BE64(84), /* maximumIpTotalLength */
	BE64(0), /* tcpSynTotalCount */
	BE64(0), /* tcpRstTotalCount */
};

/* Lengths as the arrays above state them: a new field changes the arrays
 * only.
 */
#define TMPL_LEN sizeof(template_set)
#define REC4 sizeof(record_v4)
#define REC6 sizeof(record_v6)
#define MTU 1400 /* the default */
/* Records of template 256 in a message of MTU bytes, after the
 * templates or not.
 */
#define FIRST4 ((MTU - 16 - TMPL_LEN - 4) / REC4)
#define FULL4 ((MTU - 16 - 4) / REC4)

struct capture {
	uint8_t msgs[MAX_MSGS][MSG_SIZE];
	size_t lens[MAX_MSGS];
	int nr;
	uint64_t now;
	int fail_next; /* -errno for the next send, then 0 */
};

static int capture_send(void *ctx, const void *msg, size_t len)
{
	struct capture *c = ctx;
	int err = c->fail_next;

	c->fail_next = 0;
	if (err)
		return err;
	assert_true(c->nr < MAX_MSGS);
	assert_true(len <= MSG_SIZE);
	memcpy(c->msgs[c->nr], msg, len);
	c->lens[c->nr++] = len;
	return 0;
}

static uint64_t capture_now(void *ctx)
{
	return ((struct capture *)ctx)->now;
}

static struct sf_ipfix *open_capture(struct capture *c,
				     const struct sf_ipfix_opts *o)
{
	struct sf_ipfix_io io = {
		.send = capture_send,
		.now = capture_now,
		.ctx = c,
	};
	struct sf_ipfix *x;
	int err = 1;

	memset(c, 0, sizeof(*c));
	c->now = T0;
	x = sf_ipfix_open_io(o, &io, &err);
	assert_non_null(x);
	assert_int_equal(err, 0);
	return x;
}

static void make_v4(struct sf_flow *f)
{
	static const uint8_t s[4] = { 192, 0, 2, 1 },
			     d[4] = { 198, 51, 100, 2 };

	memset(f, 0, sizeof(*f));
	f->ip_version = 4;
	f->proto = 6;
	memcpy(f->saddr, s, 4);
	memcpy(f->daddr, d, 4);
	f->sport = 40000;
	f->dport = 443;
	f->ifindex = 3;
	f->vlan_id = 100;
	f->inner_vlan_id = 200;
	f->packets = 100;
	f->bytes = 123456;
	f->start_ms = 1700000000123ull;
	f->end_ms = 1700000004690ull;
	f->tcp_flags = 0x1b;
	f->tcp_syns = 2;
	f->tcp_rsts = 1;
	f->tos = 0x10;
	f->min_ttl = 60;
	f->max_ttl = 64;
	f->min_ip_len = 40;
	f->max_ip_len = 1500;
	f->end_reason = SF_END_DETECTED;
}

static void make_v6(struct sf_flow *f)
{
	memset(f, 0, sizeof(*f));
	f->ip_version = 6;
	f->proto = 58;
	inet_pton(AF_INET6, "2001:db8::1", f->saddr);
	inet_pton(AF_INET6, "2001:db8::2", f->daddr);
	f->sport = 0x1234;
	f->dport = 128 << 8;
	f->packets = 4;
	f->bytes = 336;
	f->start_ms = 1700000001000ull;
	f->end_ms = 1700000004000ull;
	f->min_ttl = 64;
	f->max_ttl = 64;
	f->min_ip_len = 84;
	f->max_ip_len = 84;
	f->end_reason = SF_END_IDLE;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

static uint16_t get16(const uint8_t *p)
{
	return p[0] << 8 | p[1];
}

static void check_header(const uint8_t *m, size_t len, uint32_t time,
			 uint32_t seq, uint32_t domain)
{
	const uint8_t want[] = { BE16(10), BE16(len), BE32(time), BE32(seq),
				 BE32(domain) };

	assert_memory_equal(m, want, sizeof(want));
}

struct walk {
	int tmpl_sets;
	int v4;
	int v6;
	int sets;
};

/* Check the framing of a message (sets fill it exactly, template set
 * first) and count its records.
 */
static struct walk walk_msg(const uint8_t *m, size_t len)
{
	struct walk w = { 0 };
	size_t off = 16;

	assert_int_equal(get16(m + 2), len);
	while (off < len) {
		uint16_t id = get16(m + off), slen = get16(m + off + 2);

		assert_true(slen >= 4 && off + slen <= len);
		if (id == 2) {
			assert_int_equal(off, 16);
			assert_memory_equal(m + off, template_set, slen);
			w.tmpl_sets++;
		} else if (id == 256) {
			assert_int_equal((slen - 4) % REC4, 0);
			w.v4 += (slen - 4) / REC4;
		} else {
			assert_int_equal(id, 257);
			assert_int_equal((slen - 4) % REC6, 0);
			w.v6 += (slen - 4) / REC6;
		}
		w.sets++;
		off += slen;
	}
	assert_int_equal(off, len);
	return w;
}

static void test_template_set(void **state)
{
	uint8_t buf[200];

	(void)state;
	assert_int_equal(sizeof(template_set), SF_IPFIX_TMPL_SET_LEN);
	assert_int_equal(sf_ipfix_encode_templates(buf, TMPL_LEN - 1), -ENOSPC);
	assert_int_equal(sf_ipfix_encode_templates(buf, sizeof(buf)), TMPL_LEN);
	assert_memory_equal(buf, template_set, sizeof(template_set));
}

static void test_records(void **state)
{
	uint8_t buf[128];
	struct sf_flow f;

	(void)state;
	make_v4(&f);
	assert_int_equal(sf_ipfix_encode_record(&f, buf, REC4 - 1), -ENOSPC);
	assert_int_equal(sf_ipfix_encode_record(&f, buf, sizeof(buf)), REC4);
	assert_memory_equal(buf, record_v4, sizeof(record_v4));
	make_v6(&f);
	assert_int_equal(sizeof(record_v6), SF_IPFIX_REC_V6_LEN);
	assert_int_equal(sf_ipfix_encode_record(&f, buf, sizeof(buf)), REC6);
	assert_memory_equal(buf, record_v6, sizeof(record_v6));
	f.ip_version = 5;
	assert_int_equal(sf_ipfix_encode_record(&f, buf, sizeof(buf)), -EINVAL);
}

/* ICMP echo request, id 1234: type/code in the destination port, 0 in the
 * source port (nfdump would read a non-zero one as the type and code).
 */
static void test_icmp_ports(void **state)
{
	const uint8_t ports[] = { BE16(0), BE16(8 << 8) };
	uint8_t buf[128];
	struct sf_flow f;

	(void)state;
	make_v4(&f);
	f.proto = 1;
	f.sport = 1234;
	f.dport = 8 << 8;
	assert_int_equal(sf_ipfix_encode_record(&f, buf, sizeof(buf)), REC4);
	assert_memory_equal(buf + 8, ports, sizeof(ports));
	assert_int_equal(f.sport, 1234); /* the caller's flow is untouched */
}

static void test_v4_message(void **state)
{
	struct sf_ipfix_opts o = { 0 };
	struct capture c;
	struct sf_ipfix *x = open_capture(&c, &o);
	const uint8_t set_hdr[] = { BE16(256), BE16(4 + REC4) };
	struct sf_flow f;
	uint8_t *m;

	(void)state;
	make_v4(&f);
	assert_int_equal(sf_ipfix_add(x, &f), 0);
	assert_int_equal(c.nr, 0);
	assert_int_equal(sf_ipfix_flush(x), 0);
	assert_int_equal(c.nr, 1);
	assert_int_equal(c.lens[0], 16 + TMPL_LEN + 4 + REC4);
	m = c.msgs[0];
	check_header(m, c.lens[0], T0, 0, 1);
	assert_memory_equal(m + 16, template_set, sizeof(template_set));
	assert_memory_equal(m + 16 + TMPL_LEN, set_hdr, sizeof(set_hdr));
	assert_memory_equal(m + 16 + TMPL_LEN + 4, record_v4,
			    sizeof(record_v4));
	sf_ipfix_close(x);
	assert_int_equal(c.nr, 1);
}

static void test_v6_message(void **state)
{
	struct sf_ipfix_opts o = { .domain_id = 7 };
	struct capture c;
	struct sf_ipfix *x = open_capture(&c, &o);
	const uint8_t set_hdr[] = { BE16(257), BE16(4 + REC6) };
	struct sf_flow f;
	uint8_t *m;

	(void)state;
	make_v6(&f);
	assert_int_equal(sf_ipfix_add(x, &f), 0);
	sf_ipfix_close(x); /* close flushes */
	assert_int_equal(c.nr, 1);
	assert_int_equal(c.lens[0], 16 + TMPL_LEN + 4 + REC6);
	m = c.msgs[0];
	check_header(m, c.lens[0], T0, 0, 7);
	assert_memory_equal(m + 16, template_set, sizeof(template_set));
	assert_memory_equal(m + 16 + TMPL_LEN, set_hdr, sizeof(set_hdr));
	assert_memory_equal(m + 16 + TMPL_LEN + 4, record_v6,
			    sizeof(record_v6));
}

static void test_bad_flow(void **state)
{
	struct sf_ipfix_opts o = { 0 };
	struct capture c;
	struct sf_ipfix *x = open_capture(&c, &o);
	struct sf_flow f;

	(void)state;
	make_v4(&f);
	f.ip_version = 0;
	assert_int_equal(sf_ipfix_add(x, &f), -EINVAL);
	assert_int_equal(sf_ipfix_flush(x), 0);
	assert_int_equal(c.nr, 0);
	sf_ipfix_close(x);
}

static void add_n(struct sf_ipfix *x, int n, int version)
{
	struct sf_flow f;

	for (int i = 0; i < n; i++) {
		if (version == 4)
			make_v4(&f);
		else
			make_v6(&f);
		f.sport = i;
		assert_int_equal(sf_ipfix_add(x, &f), 0);
	}
}

static void test_sequence(void **state)
{
	struct sf_ipfix_opts o = { 0 };
	struct capture c;
	struct sf_ipfix *x = open_capture(&c, &o);
	struct sf_ipfix_stats st;
	struct walk w;

	(void)state;
	for (int i = 1; i <= 3; i++) {
		add_n(x, i, i == 2 ? 6 : 4);
		sf_ipfix_flush(x);
	}
	sf_ipfix_flush(x); /* nothing buffered: nothing sent */
	assert_int_equal(c.nr, 3);
	check_header(c.msgs[0], c.lens[0], T0, 0, 1);
	check_header(c.msgs[1], c.lens[1], T0, 1, 1);
	check_header(c.msgs[2], c.lens[2], T0, 3, 1);
	w = walk_msg(c.msgs[0], c.lens[0]);
	assert_int_equal(w.tmpl_sets, 1);
	assert_int_equal(w.v4, 1);
	w = walk_msg(c.msgs[1], c.lens[1]);
	assert_int_equal(w.tmpl_sets, 0);
	assert_int_equal(w.v6, 2);
	assert_int_equal(c.lens[1], 16 + 4 + 2 * REC6);
	w = walk_msg(c.msgs[2], c.lens[2]);
	assert_int_equal(w.tmpl_sets, 0);
	assert_int_equal(w.v4, 3);
	sf_ipfix_get_stats(x, &st);
	assert_int_equal(st.messages, 3);
	assert_int_equal(st.records, 6);
	assert_int_equal(st.template_sets, 1);
	assert_int_equal(st.send_errors, 0);
	sf_ipfix_close(x);
}

static void test_template_refresh(void **state)
{
	struct sf_ipfix_opts o = { .template_refresh_s = 60 };
	const uint64_t at[] = { T0, T0 + 59, T0 + 60, T0 + 61, T0 + 125 };
	const int want_tmpl[] = { 1, 0, 1, 0, 1 };
	struct capture c;
	struct sf_ipfix *x = open_capture(&c, &o);

	(void)state;
	for (size_t i = 0; i < 5; i++) {
		c.now = at[i];
		add_n(x, 1, 4);
		sf_ipfix_flush(x);
		assert_int_equal(c.nr, i + 1);
		check_header(c.msgs[i], c.lens[i], at[i], i, 1);
		assert_int_equal(walk_msg(c.msgs[i], c.lens[i]).tmpl_sets,
				 want_tmpl[i]);
	}
	sf_ipfix_close(x);
}

/* The refresh falls due between buffering and sending: the check is made
 * again at send time, and the templates go in front of the data.
 */
static void test_template_due_at_send(void **state)
{
	struct sf_ipfix_opts o = { .template_refresh_s = 60 };
	struct capture c;
	struct sf_ipfix *x = open_capture(&c, &o);
	struct walk w;

	(void)state;
	add_n(x, 1, 4);
	sf_ipfix_flush(x);
	c.now = T0 + 30;
	add_n(x, 2, 6);
	c.now = T0 + 90;
	sf_ipfix_flush(x);
	assert_int_equal(c.nr, 2);
	check_header(c.msgs[1], c.lens[1], T0 + 90, 1, 1);
	w = walk_msg(c.msgs[1], c.lens[1]);
	assert_int_equal(w.tmpl_sets, 1);
	assert_int_equal(w.v6, 2);
	sf_ipfix_close(x);
}

/* ... and when they no longer fit, they are sent alone, first. */
static void test_template_alone(void **state)
{
	struct sf_ipfix_opts o = { .template_refresh_s = 60 };
	struct capture c;
	struct sf_ipfix *x = open_capture(&c, &o);
	struct walk w;

	(void)state;
	add_n(x, 1, 4);
	sf_ipfix_flush(x);
	c.now = T0 + 30;
	add_n(x, FULL4, 4); /* a full message, no room for templates */
	c.now = T0 + 90;
	add_n(x, 1, 4); /* does not fit: sends the FULL4 */
	sf_ipfix_flush(x);
	assert_int_equal(c.nr, 4);
	assert_int_equal(c.lens[1], 16 + TMPL_LEN);
	check_header(c.msgs[1], c.lens[1], T0 + 90, 1, 1);
	assert_memory_equal(c.msgs[1] + 16, template_set, TMPL_LEN);
	check_header(c.msgs[2], 16 + 4 + FULL4 * REC4, T0 + 90, 1, 1);
	w = walk_msg(c.msgs[2], c.lens[2]);
	assert_int_equal(w.tmpl_sets, 0);
	assert_int_equal(w.v4, FULL4);
	check_header(c.msgs[3], c.lens[3], T0 + 90, 1 + FULL4, 1);
	assert_int_equal(walk_msg(c.msgs[3], c.lens[3]).tmpl_sets, 0);
	sf_ipfix_close(x);
}

static void test_mtu_split(void **state)
{
	struct sf_ipfix_opts o = { 0 };
	const size_t want_len[] = { 16 + TMPL_LEN + 4 + FIRST4 * REC4,
				    16 + 4 + FULL4 * REC4,
				    16 + 4 + (40 - FIRST4 - FULL4) * REC4 };
	const uint32_t want_seq[] = { 0, FIRST4, FIRST4 + FULL4 };
	struct capture c;
	struct sf_ipfix *x = open_capture(&c, &o);

	(void)state;
	add_n(x, 40, 4);
	assert_int_equal(c.nr, 2); /* the third is still buffered */
	sf_ipfix_close(x);
	assert_int_equal(c.nr, 3);
	for (int i = 0; i < 3; i++) {
		assert_true(c.lens[i] <= MTU);
		assert_int_equal(c.lens[i], want_len[i]);
		check_header(c.msgs[i], c.lens[i], T0, want_seq[i], 1);
		walk_msg(c.msgs[i], c.lens[i]);
	}
}

/* Mixed versions: a new set whenever the template changes, and the set
 * header counts when deciding whether a record fits.
 */
static void test_mixed_sets(void **state)
{
	struct sf_ipfix_opts o = { .mtu = 512 };
	struct capture c;
	struct sf_ipfix *x = open_capture(&c, &o);
	struct walk w;

	(void)state;
	for (int i = 0; i < 6; i++)
		add_n(x, 1, i % 2 ? 6 : 4);
	sf_ipfix_flush(x);
	/* templates, v4, v6, v4 sets; one more v6 set would pass 512 */
	assert_int_equal(c.nr, 2);
	assert_int_equal(c.lens[0], 16 + TMPL_LEN + 3 * 4 + 2 * REC4 + REC6);
	assert_true(c.lens[0] + 4 + REC6 > 512);
	w = walk_msg(c.msgs[0], c.lens[0]);
	assert_int_equal(w.sets, 4);
	assert_int_equal(w.v4, 2);
	assert_int_equal(w.v6, 1);
	check_header(c.msgs[1], c.lens[1], T0, 3, 1);
	w = walk_msg(c.msgs[1], c.lens[1]);
	assert_int_equal(w.sets, 3);
	assert_int_equal(w.v4 + w.v6, 3);
	sf_ipfix_close(x);
}

/* A failed send is counted, not returned; its records count in the
 * sequence (the collector sees the gap) and templates go out again.
 */
static void test_send_failure(void **state)
{
	struct sf_ipfix_opts o = { 0 };
	struct capture c;
	struct sf_ipfix *x = open_capture(&c, &o);
	struct sf_ipfix_stats st;

	(void)state;
	add_n(x, 1, 4);
	sf_ipfix_flush(x);
	add_n(x, 2, 4);
	c.fail_next = -ECONNREFUSED;
	assert_int_equal(sf_ipfix_flush(x), 0);
	c.fail_next = -ECONNREFUSED;
	add_n(x, 1, 4);
	assert_int_equal(sf_ipfix_flush(x), 0);
	add_n(x, 1, 6);
	assert_int_equal(sf_ipfix_flush(x), 0);
	assert_int_equal(c.nr, 2);
	check_header(c.msgs[1], c.lens[1], T0, 4, 1);
	assert_int_equal(walk_msg(c.msgs[1], c.lens[1]).tmpl_sets, 1);
	sf_ipfix_get_stats(x, &st);
	assert_int_equal(st.messages, 2);
	assert_int_equal(st.records, 2);
	assert_int_equal(st.send_errors, 2);
	assert_int_equal(st.records_lost, 3);
	assert_int_equal(st.template_sets, 2);
	sf_ipfix_close(x);
}

static void test_parse_dest(void **state)
{
	static const struct {
		const char *dest, *host, *port;
	} good[] = {
		{ "127.0.0.1:9995", "127.0.0.1", "9995" },
		{ "collector", "collector", "4739" },
		{ "collector:4739", "collector", "4739" },
		{ "[::1]:2055", "::1", "2055" },
		{ "[fe80::1%eth0]", "fe80::1%eth0", "4739" },
		{ "2001:db8::7", "2001:db8::7", "4739" },
		{ "h:065535", "h", "65535" },
	};
	char host[64], port[6];

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(sf_ipfix_parse_dest(good[i].dest, host,
						     sizeof(host), port),
				 0);
		assert_string_equal(host, good[i].host);
		assert_string_equal(port, good[i].port);
	}
	assert_int_equal(sf_ipfix_parse_dest("abcdef:1", host, 4, port),
			 -ENAMETOOLONG);
}

static void test_bad_dest(void **state)
{
	static const char *const bad[] = {
		"",	   ":4739",   "host:",	 "host:0", "host:65536",
		"host:-1", "host:+5", "host: 5", "host:x", "[::1",
		"[::1]x",  "[]:4739", "[::1]:",
	};
	struct sf_ipfix_opts o = { 0 };
	struct sf_ipfix *x;
	int err;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		o.dest = bad[i];
		err = 0;
		x = sf_ipfix_open(&o, &err);
		assert_null(x);
		assert_int_equal(err, -EINVAL);
	}
	o.dest = NULL;
	assert_null(sf_ipfix_open(&o, &err));
	assert_int_equal(err, -EINVAL);
	o.dest = "127.0.0.1:4739";
	o.mtu = 100;
	assert_null(sf_ipfix_open(&o, &err));
	assert_int_equal(err, -EINVAL);
	o.mtu = 70000;
	assert_null(sf_ipfix_open(&o, &err));
	assert_int_equal(err, -EINVAL);
}

/* RFC 6761 reserves .invalid: it never resolves. */
static void test_unresolvable(void **state)
{
	struct sf_ipfix_opts o = { .dest = "no-such-host.invalid:4739" };
	int err = 0;

	(void)state;
	assert_null(sf_ipfix_open(&o, &err));
	assert_true(err < 0 && err != -EINVAL);
}

static int udp_listener(uint16_t *port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int fd;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

/* Over a real socket; then the collector goes away (ECONNREFUSED). */
static void test_udp_loopback(void **state)
{
	struct sf_ipfix_opts o = { 0 };
	struct sf_ipfix_stats st;
	struct sf_ipfix *x;
	uint8_t buf[2048];
	char dest[32];
	uint16_t port;
	ssize_t n;
	int fd, err;

	(void)state;
	fd = udp_listener(&port);
	snprintf(dest, sizeof(dest), "127.0.0.1:%u", port);
	o.dest = dest;
	x = sf_ipfix_open(&o, &err);
	assert_non_null(x);
	add_n(x, 2, 4);
	sf_ipfix_flush(x);
	n = recv(fd, buf, sizeof(buf), 0);
	assert_int_equal(n, 16 + TMPL_LEN + 4 + 2 * REC4);
	assert_int_equal(get16(buf), 10);
	assert_int_equal(get32(buf + 8), 0);
	close(fd);
	for (int i = 0; i < 3; i++) {
		add_n(x, 1, 4);
		assert_int_equal(sf_ipfix_flush(x), 0);
	}
	sf_ipfix_get_stats(x, &st);
	assert_true(st.send_errors >= 1);
	assert_int_equal(st.messages + st.send_errors, 4);
	assert_int_equal(st.records + st.records_lost, 5);
	sf_ipfix_close(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_template_set),
		cmocka_unit_test(test_records),
		cmocka_unit_test(test_icmp_ports),
		cmocka_unit_test(test_v4_message),
		cmocka_unit_test(test_v6_message),
		cmocka_unit_test(test_bad_flow),
		cmocka_unit_test(test_sequence),
		cmocka_unit_test(test_template_refresh),
		cmocka_unit_test(test_template_due_at_send),
		cmocka_unit_test(test_template_alone),
		cmocka_unit_test(test_mtu_split),
		cmocka_unit_test(test_mixed_sets),
		cmocka_unit_test(test_send_failure),
		cmocka_unit_test(test_parse_dest),
		cmocka_unit_test(test_bad_dest),
		cmocka_unit_test(test_unresolvable),
		cmocka_unit_test(test_udp_loopback),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
