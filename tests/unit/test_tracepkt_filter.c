// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_tracepkt_filter.c: unit tests of tracepkt's filter compiler
 * (lib/trace/filter.c): every primitive, pcap's precedence (not first,
 * then and/or equal and left to right), parentheses, errors that name the
 * bad token and its column, the size limits, and a randomized check of
 * compiled programs against a reference evaluation of the same
 * expressions (forward jumps only, same verdicts). Also the --summary
 * statistics (lib/trace/summary.c), the other pure part of tracepkt.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sysflow/tracepkt.h>
#include "trace/filter.h"

/* ---- packets ---- */

static struct sf_pktfilter_pkt pkt(uint8_t proto, const char *src,
				   const char *dst, uint16_t sport,
				   uint16_t dport)
{
	struct sf_pktfilter_pkt p = { .proto = proto,
				      .sport = sport,
				      .dport = dport };

	if (inet_pton(AF_INET, src, p.saddr) == 1) {
		assert_int_equal(inet_pton(AF_INET, dst, p.daddr), 1);
		p.family = 4;
	} else {
		assert_int_equal(inet_pton(AF_INET6, src, p.saddr), 1);
		assert_int_equal(inet_pton(AF_INET6, dst, p.daddr), 1);
		p.family = 6;
	}
	p.has_ports = proto == 6 || proto == 17;
	return p;
}

#define TCP(s, d, sp, dp) pkt(6, s, d, sp, dp)
#define UDP(s, d, sp, dp) pkt(17, s, d, sp, dp)
#define ICMP(s, d) pkt(1, s, d, 7, 8 << 8)
#define ICMP6(s, d) pkt(58, s, d, 7, 128 << 8)

static bool match(const char *expr, struct sf_pktfilter_pkt p)
{
	struct sf_pktfilter f;
	struct sf_pktfilter_error err;
	int rc = sf_pktfilter_compile(expr, &f, &err);

	if (rc)
		fail_msg("'%s' did not compile: column %d: %s", expr,
			 err.column, err.msg);
	return sf_pktfilter_match(&f, &p);
}

#define YES(expr, p) assert_true(match(expr, p))
#define NO(expr, p) assert_false(match(expr, p))

/* ---- primitives ---- */

static void test_empty_matches_everything(void **state)
{
	struct sf_pktfilter f;
	struct sf_pktfilter_pkt arp = {};

	(void)state;
	assert_int_equal(sf_pktfilter_compile(NULL, &f, NULL), 0);
	assert_int_equal(f.len, 0);
	assert_int_equal(sf_pktfilter_compile("  \t ", &f, NULL), 0);
	assert_int_equal(f.len, 0);
	assert_true(sf_pktfilter_match(&f, &arp));
	YES("", TCP("1.2.3.4", "5.6.7.8", 1, 2));
}

static void test_hosts_and_nets(void **state)
{
	struct sf_pktfilter_pkt p = UDP("10.0.0.1", "192.168.7.9", 1000, 53);

	(void)state;
	YES("host 10.0.0.1", p);
	YES("host 192.168.7.9", p);
	NO("host 10.0.0.2", p);
	YES("src host 10.0.0.1", p);
	NO("dst host 10.0.0.1", p);
	YES("dst host 192.168.7.9", p);
	YES("src 10.0.0.1", p); /* host implied after a direction */
	YES("192.168.7.9", p); /* and with none */
	YES("net 192.168.7.0/24", p);
	YES("net 192.168.0.0/16", p);
	NO("net 192.168.8.0/24", p);
	YES("dst net 192.168.7.0/24", p);
	NO("src net 192.168.7.0/24", p);
	YES("net 0.0.0.0/0", p);
	YES("net 10.0.0.1/32", p);
	YES("net 192.168.7.8/31", p);
	NO("net 192.168.7.10/31", p);
	NO("host fd00::1", p); /* family mismatch never matches */

	p = TCP("fd77::1", "fd00:1:2::9", 4000, 443);
	YES("host fd77::1", p);
	YES("dst host fd00:1:2::9", p);
	NO("src host fd00:1:2::9", p);
	YES("net fd00::/16", p);
	YES("dst net fd00:1:2::/48", p);
	NO("net fd00:1:3::/48", p);
	YES("net fd77::/127", p);
	NO("host 10.0.0.1", p);
}

static void test_ports_and_protocols(void **state)
{
	struct sf_pktfilter_pkt t = TCP("10.0.0.1", "10.0.0.2", 40000, 80);
	struct sf_pktfilter_pkt u = UDP("10.0.0.1", "10.0.0.2", 53, 5353);
	struct sf_pktfilter_pkt i = ICMP("10.0.0.1", "10.0.0.2");
	struct sf_pktfilter_pkt i6 = ICMP6("fd77::1", "fd77::2");

	(void)state;
	YES("port 80", t);
	YES("port 40000", t);
	YES("dst port 80", t);
	NO("src port 80", t);
	YES("src port 53", u);
	NO("dst port 53", u);
	YES("port 5353", u);
	NO("port 8", i); /* ICMP has no ports: type/code do not count */
	NO("port 7", i);
	YES("tcp", t);
	YES("proto tcp", t);
	YES("proto 6", t);
	NO("udp", t);
	YES("udp", u);
	YES("proto 17", u);
	YES("icmp", i);
	YES("proto icmp", i);
	NO("icmp6", i);
	YES("icmp6", i6);
	YES("proto icmp6", i6);
	YES("proto 58", i6);
	NO("icmp", i6);
	YES("ip", t);
	NO("ip6", t);
	YES("ip6", i6);
	YES("tcp port 80", t); /* tcpdump shorthand: tcp and port 80 */
	NO("udp port 80", t);
	YES("udp src port 53", u);
	NO("udp dst port 53", u);
	YES("ip host 10.0.0.2", t);
	YES("ip6 net fd77::/64", i6);
	YES("proto 0", pkt(0, "10.0.0.1", "10.0.0.2", 0, 0));
	YES("port 0", TCP("10.0.0.1", "10.0.0.2", 0, 1));
	YES("port 65535", TCP("10.0.0.1", "10.0.0.2", 65535, 1));
}

static void test_not_ip(void **state)
{
	struct sf_pktfilter_pkt arp = {};

	(void)state;
	NO("host 10.0.0.1", arp);
	YES("not host 10.0.0.1", arp); /* as in pcap */
	NO("ip or ip6", arp);
	YES("not tcp", arp);
	NO("proto 0", arp);
	NO("port 0", arp);
}

/* ---- precedence and parentheses ---- */

static void test_precedence(void **state)
{
	struct sf_pktfilter_pkt t80 = TCP("10.0.0.1", "10.0.0.2", 1, 80);
	struct sf_pktfilter_pkt t53 = TCP("10.0.0.1", "10.0.0.2", 1, 53);
	struct sf_pktfilter_pkt u53 = UDP("10.0.0.1", "10.0.0.2", 1, 53);
	struct sf_pktfilter_pkt u80 = UDP("10.0.0.1", "10.0.0.2", 1, 80);
	struct sf_pktfilter_pkt ic = ICMP("10.0.0.1", "10.0.0.2");

	(void)state;
	/* and/or are equal and group left to right:
	 * "tcp or udp and port 53" is "(tcp or udp) and port 53"
	 */
	NO("tcp or udp and port 53", t80);
	YES("tcp or udp and port 53", t53);
	YES("tcp or udp and port 53", u53);
	NO("tcp or udp and port 53", ic);
	/* "icmp or tcp and port 80" is "(icmp or tcp) and port 80": an ICMP
	 * packet fails, where C-like precedence would take it
	 */
	NO("icmp or tcp and port 80", ic);
	YES("icmp or tcp and port 80", t80);
	YES("icmp or (tcp and port 80)", ic);
	/* "tcp and port 80 or icmp" is "(tcp and port 80) or icmp" */
	YES("tcp and port 80 or icmp", ic);
	YES("tcp and port 80 or icmp", t80);
	NO("tcp and port 80 or icmp", u80);
	/* not binds tightest */
	YES("not tcp and udp", u53);
	NO("not tcp and udp", t53);
	NO("not tcp and udp", ic);
	YES("not (tcp and port 53)", t80);
	NO("not (tcp and port 53)", t53);
	YES("not not tcp", t53);
	NO("not not not tcp", t53);
	/* "tcp or udp and not port 53" is "(tcp or udp) and not port 53" */
	YES("tcp or udp and not port 53", t80);
	NO("tcp or udp and not port 53", u53);
	NO("tcp or udp and not port 53", ic);
	/* symbols mean the same */
	YES("! tcp && udp || icmp", ic);
	YES("!tcp&&udp||icmp", u53);
	NO("!tcp&&udp||icmp", t53);
	YES("tcp&&port 80", t80);
}

static void test_parentheses(void **state)
{
	struct sf_pktfilter_pkt t80 = TCP("10.0.0.1", "10.0.0.2", 1, 80);
	struct sf_pktfilter_pkt u53 = UDP("10.0.0.1", "10.0.0.2", 1, 53);
	struct sf_pktfilter_pkt u99 = UDP("10.0.0.1", "10.0.0.2", 1, 99);
	struct sf_pktfilter_pkt ic = ICMP("10.0.0.1", "10.0.0.2");

	(void)state;
	YES("((tcp))", t80);
	YES("((((((((icmp))))))))", ic);
	YES("(tcp or udp) and (port 53 or port 80)", t80);
	YES("(tcp or udp) and (port 53 or port 80)", u53);
	NO("(tcp or udp) and (port 53 or port 80)", u99);
	NO("(tcp or udp) and (port 53 or port 80)", ic);
	YES("not (tcp or udp)", ic);
	NO("not (tcp or udp)", u53);
	YES("icmp or (udp and (port 53 or (tcp and port 80)))", u53);
	NO("icmp or (udp and (port 99 or (tcp and port 80)))", u53);
	YES("(host 10.0.0.1)and(port 80)", t80);
	YES("tcp and (not port 53 and not port 22)", t80);
	YES("( icmp )", ic);
}

/* ---- errors ---- */

struct bad {
	const char *expr;
	int column;
	const char *says;
};

static const struct bad bad_filters[] = {
	{ "host", 5, "expected an address, got end of expression" },
	{ "host 10.0.0.300", 6,
	  "'10.0.0.300' is not an IPv4 or IPv6 "
	  "address" },
	{ "host 10.0.0.0/8", 6,
	  "'10.0.0.0/8' is a network: use 'net "
	  "10.0.0.0/8'" },
	{ "host and", 6, "expected an address, got 'and'" },
	{ "net 10.0.0.1/8", 5,
	  "'10.0.0.1/8' has host bits set (did you "
	  "mean 10.0.0.0/8?)" },
	{ "net 10.0.0.0/33", 5,
	  "bad prefix length in '10.0.0.0/33': use 0 "
	  "to 32 for IPv4" },
	{ "net fd00::/129", 5, "use 0 to 128 for IPv6" },
	{ "net 10.0.0.0/x", 5, "bad prefix length" },
	{ "net fd00::1/64", 5, "has host bits set (did you mean fd00::/64?)" },
	{ "port 70000", 6, "'70000' is not a port number (0-65535)" },
	{ "port http", 6, "'http' is not a port number" },
	{ "port", 5,
	  "expected a port number after 'port', got end of "
	  "expression" },
	{ "proto tpc", 7,
	  "unknown protocol 'tpc': use tcp, udp, icmp, "
	  "icmp6 or a number 0-255" },
	{ "proto 256", 7, "unknown protocol '256'" },
	{ "proto", 6, "expected a protocol after 'proto', got end" },
	{ "tcp and", 8, "got end of expression" },
	{ "tcp or or udp", 8, "got 'or'" },
	{ "and tcp", 1, "got 'and'" },
	{ "(tcp", 5,
	  "expected ')' to close the '(' at column 1, got end of "
	  "expression" },
	{ "icmp or ((tcp and port 80)", 27, "to close the '(' at column 9" },
	{ "tcp)", 4, "unexpected ')' without a matching '('" },
	{ "()", 2, "got ')'" },
	{ "tcp udp", 5,
	  "expected 'and', 'or' or the end of the expression, "
	  "got 'udp'" },
	{ "tcp & udp", 5, "unexpected '&' (did you mean '&&'?)" },
	{ "tcp | udp", 5, "unexpected '|' (did you mean '||'?)" },
	{ "foo", 1, "unknown word 'foo': expected host, net, port" },
	{ "tcp and icmp7", 9, "unknown word 'icmp7'" },
	{ "src tcp", 5,
	  "'tcp' cannot follow 'src': use host, net or port "
	  "after it" },
	{ "dst", 4, "expected host, net, port or an address, got end" },
	{ "not", 4, "got end of expression" },
	{ "udp port 53 and 1.2.3", 17,
	  "'1.2.3' is not an IPv4 or IPv6 "
	  "address" },
	{ "10.1.1.1 or fe80::zz", 13, "'fe80::zz' is not an IPv4 or IPv6" },
};

static void test_errors_name_token_and_column(void **state)
{
	struct sf_pktfilter f;
	struct sf_pktfilter_error err;

	(void)state;
	for (size_t i = 0; i < sizeof(bad_filters) / sizeof(bad_filters[0]);
	     i++) {
		const struct bad *b = &bad_filters[i];
		int rc = sf_pktfilter_compile(b->expr, &f, &err);

		if (rc != -EINVAL)
			fail_msg("'%s' compiled (rc %d)", b->expr, rc);
		if (err.column != b->column || !strstr(err.msg, b->says))
			fail_msg("'%s': got column %d '%s', want column %d "
				 "'%s'",
				 b->expr, err.column, err.msg, b->column,
				 b->says);
		assert_true(err.width >= 1);
		assert_int_equal(f.len, 0);
	}
}

static void test_limits(void **state)
{
	char expr[4096] = "tcp";
	struct sf_pktfilter f;
	struct sf_pktfilter_error err;
	int col;

	(void)state;
	for (int i = 1; i < TRACEPKT_MAX_INSNS; i++)
		strcat(expr, " or tcp");
	assert_int_equal(sf_pktfilter_compile(expr, &f, &err), 0);
	assert_int_equal(f.len, TRACEPKT_MAX_INSNS);
	col = strlen(expr) + 5; /* the next "tcp" */
	strcat(expr, " or tcp");
	assert_int_equal(sf_pktfilter_compile(expr, &f, &err), -EINVAL);
	assert_int_equal(err.column, col);
	assert_non_null(strstr(err.msg, "more than 64 tests"));

	memset(expr, '(', 100);
	strcpy(expr + 100, "tcp");
	assert_int_equal(sf_pktfilter_compile(expr, &f, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "nested too deeply"));
	assert_int_equal(err.column, 65);
}

/* ---- compiled programs against a reference ---- */

enum ref_kind { R_TEST, R_AND, R_OR, R_NOT };

struct ref {
	enum ref_kind kind;
	const struct ref *a, *b;
	const char *text; /* R_TEST */
	bool (*eval)(const struct sf_pktfilter_pkt *p);
};

static bool is_tcp(const struct sf_pktfilter_pkt *p)
{
	return p->proto == 6;
}
static bool is_udp(const struct sf_pktfilter_pkt *p)
{
	return p->proto == 17;
}
static bool is_icmp(const struct sf_pktfilter_pkt *p)
{
	return p->proto == 1;
}
static bool port53(const struct sf_pktfilter_pkt *p)
{
	return p->has_ports && (p->sport == 53 || p->dport == 53);
}
static bool dport80(const struct sf_pktfilter_pkt *p)
{
	return p->has_ports && p->dport == 80;
}
static bool src1(const struct sf_pktfilter_pkt *p)
{
	return ntohl(p->saddr[0]) == 0x0a000001;
}
static bool dnet(const struct sf_pktfilter_pkt *p)
{
	return (ntohl(p->daddr[0]) & 0xffffff00) == 0x0a000200;
}

static const struct ref leaves[] = {
	{ R_TEST, NULL, NULL, "tcp", is_tcp },
	{ R_TEST, NULL, NULL, "udp", is_udp },
	{ R_TEST, NULL, NULL, "icmp", is_icmp },
	{ R_TEST, NULL, NULL, "port 53", port53 },
	{ R_TEST, NULL, NULL, "dst port 80", dport80 },
	{ R_TEST, NULL, NULL, "src host 10.0.0.1", src1 },
	{ R_TEST, NULL, NULL, "dst net 10.0.2.0/24", dnet },
};

static bool ref_eval(const struct ref *r, const struct sf_pktfilter_pkt *p)
{
	switch (r->kind) {
	case R_TEST:
		return r->eval(p);
	case R_AND:
		return ref_eval(r->a, p) && ref_eval(r->b, p);
	case R_OR:
		return ref_eval(r->a, p) || ref_eval(r->b, p);
	case R_NOT:
		return !ref_eval(r->a, p);
	}
	return false;
}

/* A random tree, printed fully parenthesized so that its meaning does not
 * depend on precedence.
 */
static const struct ref *gen(struct ref *pool, int *n, int depth, char *out,
			     size_t len)
{
	struct ref *r = &pool[(*n)++];
	int k = depth > 4 ? 0 : rand() % 4;
	char a[1024], b[1024];

	if (k == 0) {
		*r = leaves[rand() % (sizeof(leaves) / sizeof(leaves[0]))];
		snprintf(out, len, "%s", r->text);
		return r;
	}
	r->kind = k == 1 ? R_AND : k == 2 ? R_OR : R_NOT;
	r->a = gen(pool, n, depth + 1, a, sizeof(a));
	if (r->kind == R_NOT) {
		snprintf(out, len, "not (%s)", a);
		return r;
	}
	r->b = gen(pool, n, depth + 1, b, sizeof(b));
	snprintf(out, len, "(%s) %s (%s)", a,
		 r->kind == R_AND ? (rand() % 2 ? "and" : "&&") :
				    (rand() % 2 ? "or" : "||"),
		 b);
	return r;
}

static void test_random_against_reference(void **state)
{
	static const char *const addrs[] = { "10.0.0.1", "10.0.0.2", "10.0.2.7",
					     "10.0.3.1" };
	static const uint8_t protos[] = { 6, 17, 1 };
	static const uint16_t ports[] = { 53, 80, 1234 };
	struct sf_pktfilter f;
	struct sf_pktfilter_error err;
	struct ref pool[256];
	char expr[1024];

	(void)state;
	srand(5);
	for (int iter = 0; iter < 2000; iter++) {
		int n = 0;
		const struct ref *r = gen(pool, &n, 0, expr, sizeof(expr));

		if (sf_pktfilter_compile(expr, &f, &err))
			fail_msg("'%s': column %d: %s", expr, err.column,
				 err.msg);
		for (unsigned int i = 0; i < f.len; i++) {
			const struct tracepkt_insn *in = &f.insns[i];

			/* targets move forward or are verdicts */
			assert_true(in->jt == TRACEPKT_ACCEPT ||
				    in->jt == TRACEPKT_REJECT ||
				    (in->jt > i && in->jt < f.len));
			assert_true(in->jf == TRACEPKT_ACCEPT ||
				    in->jf == TRACEPKT_REJECT ||
				    (in->jf > i && in->jf < f.len));
		}
		for (int j = 0; j < 24; j++) {
			struct sf_pktfilter_pkt p =
				pkt(protos[rand() % 3], addrs[rand() % 4],
				    addrs[rand() % 4], ports[rand() % 3],
				    ports[rand() % 3]);

			if (ref_eval(r, &p) != sf_pktfilter_match(&f, &p))
				fail_msg("'%s' disagrees with the reference "
					 "(proto %u sport %u dport %u)",
					 expr, p.proto, p.sport, p.dport);
		}
	}
}

/* ---- --summary statistics ---- */

static void test_summary_percentiles(void **state)
{
	static const char *const xmit = "net_dev_xmit", *const rx = "netif_rx";
	struct sf_tracepkt_summary *s = sf_tracepkt_summary_new();
	struct sf_tracepkt_hop h = { .hook = xmit };
	struct sf_tracepkt_hop_stats st;

	(void)state;
	assert_non_null(s);
	assert_int_equal(sf_tracepkt_summary_add(s, &h), 0); /* first hop */
	assert_int_equal(sf_tracepkt_summary_len(s), 0);
	h.seq = 1;
	h.prev_hook = xmit;
	h.hook = rx;
	strcpy(h.prev_ifname, "veth0");
	strcpy(h.ifname, "veth1");
	for (int i = 100; i >= 1; i--) { /* 1..100 us, in reverse */
		h.delta_ns = i * 1000ULL;
		assert_int_equal(sf_tracepkt_summary_add(s, &h), 0);
	}
	strcpy(h.ifname, "veth2"); /* another pair */
	h.delta_ns = 7;
	assert_int_equal(sf_tracepkt_summary_add(s, &h), 0);
	assert_int_equal(sf_tracepkt_summary_len(s), 2);
	assert_int_equal(sf_tracepkt_summary_get(s, 0, &st), 0);
	assert_string_equal(st.from, "net_dev_xmit");
	assert_string_equal(st.to_ifname, "veth1");
	assert_int_equal(st.count, 100);
	assert_int_equal(st.min_ns, 1000);
	assert_int_equal(st.median_ns, 50000); /* nearest rank */
	assert_int_equal(st.p99_ns, 99000);
	assert_int_equal(st.max_ns, 100000);
	assert_int_equal(sf_tracepkt_summary_get(s, 1, &st), 0);
	assert_int_equal(st.count, 1);
	assert_int_equal(st.min_ns, 7);
	assert_int_equal(st.median_ns, 7);
	assert_int_equal(st.p99_ns, 7);
	assert_int_equal(sf_tracepkt_summary_get(s, 2, &st), -ENOENT);
	sf_tracepkt_summary_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_matches_everything),
		cmocka_unit_test(test_hosts_and_nets),
		cmocka_unit_test(test_ports_and_protocols),
		cmocka_unit_test(test_not_ip),
		cmocka_unit_test(test_precedence),
		cmocka_unit_test(test_parentheses),
		cmocka_unit_test(test_errors_name_token_and_column),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_random_against_reference),
		cmocka_unit_test(test_summary_percentiles),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
