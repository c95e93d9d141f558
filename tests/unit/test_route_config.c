// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_route_config.c: unit tests of the policy router's configuration:
 * every validation error names the file, line, column and field; values
 * (prefixes, MACs, ports, protocols, names of subnets and devices) are
 * parsed right; the compiled bitmaps follow prefix containment; the
 * example in docs/ is valid.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <sysflow/sysflow.h>
#include "route/route_int.h"

static char path[] = "/tmp/sf-route-cfg-XXXXXX";

static void write_cfg(const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* Load text; expect a failure at line:column in field, with msg in it. */
static void expect_error(const char *text, int line, int col, const char *field,
			 const char *msg)
{
	struct sf_route_config *cfg = (void *)1;
	struct sf_route_error e;

	write_cfg(text);
	assert_int_not_equal(
		sf_route_config_load(path, SF_ROUTE_NO_IFACES, &cfg, &e), 0);
	assert_null(cfg);
	if (strcmp(e.file, path) || e.line != line || e.column != col ||
	    strcmp(e.field, field) || !strstr(e.msg, msg))
		fail_msg("got %s:%d:%d: %s: %s\nwant line %d col %d field %s "
			 "msg ~ %s",
			 e.file, e.line, e.column, e.field, e.msg, line, col,
			 field, msg);
}

static struct sf_route_config *expect_ok(const char *text)
{
	struct sf_route_config *cfg;
	struct sf_route_error e;

	write_cfg(text);
	if (sf_route_config_load(path, SF_ROUTE_NO_IFACES, &cfg, &e))
		fail_msg("%d:%d: %s: %s", e.line, e.column, e.field, e.msg);
	return cfg;
}

#define HDR "{\n\"attach\": [{\"iface\": \"eth0\"}],\n"

static void test_syntax_errors(void **state)
{
	(void)state;
	/* jansson's own position; no field yet */
	expect_error(HDR "\"rules\": [\n  {\"priority\": 1,, }\n]}", 4, 18, "",
		     "string or '}' expected");
	expect_error(HDR "\"rules\": [],\n\"rules\": []}", 4, 7, "",
		     "duplicate object key");
	expect_error("[1, 2]", 1, 1, "", "expected an object");
	/* cut after a newline: jansson says column 0, we count from 1 */
	expect_error(HDR "\"rules\": [\n", 4, 1, "",
		     "expected near end of file");
	/* valid JSON too deep to index: the bracket that goes too deep */
	expect_error("{\"rules\":"
		     "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
		     "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
		     1, 74, "", "nested deeper than 64 levels");
}

static void test_prefix_errors(void **state)
{
	(void)state;
	expect_error(HDR
		     "\"rules\": [\n {\"priority\": 1, \"action\": \"drop\",\n"
		     "  \"dst\": \"10.0.0.0/33\"}]}",
		     5, 3, "rules[0].dst", "bad prefix '10.0.0.0/33'");
	expect_error(
		HDR
		"\"rules\": [{\"priority\": 1, \"action\": \"drop\"},\n"
		"  {\"priority\": 2, \"action\": \"drop\", \"src\": \"10.0.0.1/24\"}]}",
		4, 37, "rules[1].src", "host bits are set");
	expect_error(HDR "\"rules\": [{\"priority\": 1, \"action\": \"drop\", "
			 "\"src\": \"C9\"}]}",
		     3, 45, "rules[0].src",
		     "or the name of a subnet or device");
	expect_error(HDR "\"tenants\": [{\"name\": \"t\", \"subnets\": [\n"
			 "  {\"name\": \"n\", \"prefix\": \"fd00::/129\"}]}],\n"
			 "\"rules\": []}",
		     4, 17, "tenants[0].subnets[0].prefix",
		     "bad prefix 'fd00::/129'");
	expect_error(HDR "\"rules\": [{\"priority\": 1, \"action\": \"drop\",\n"
			 "  \"src\": \"10.0.0.0/8\", \"dst\": \"fd00::/8\"}]}",
		     4, 24, "rules[0].dst", "IPv6 address in an IPv4 rule");
}

static void test_mac_errors(void **state)
{
	(void)state;
	expect_error(HDR "\"tenants\": [{\"name\": \"t\", \"devices\": [\n"
			 "  {\"device\": \"eth1\", \"name\": \"d\",\n"
			 "   \"mac\": \"5e:52:1f:cb:5d\"}]}],\n\"rules\": []}",
		     5, 4, "tenants[0].devices[0].mac",
		     "bad MAC address '5e:52:1f:cb:5d'");
	expect_error(
		HDR
		"\"rules\": [{\"priority\": 1, \"action\": \"redirect\",\n"
		"  \"out_iface\": \"eth1\", \"dst_mac\": \"gg:00:00:00:00:00\"}]}",
		4, 24, "rules[0].dst_mac", "bad MAC address");
	expect_error(HDR
		     "\"rules\": [{\"priority\": 1, \"action\": \"redirect\",\n"
		     "  \"out_iface\": \"eth1\"}]}",
		     3, 11, "rules[0]", "missing field 'dst_mac'");
	expect_error(
		HDR
		"\"rules\": [{\"priority\": 1, \"action\": \"redirect_neigh\",\n"
		"  \"out_iface\": \"eth1\", \"dst_mac\": \"02:00:00:00:00:01\"}]}",
		4, 24, "rules[0].dst_mac", "takes no MAC");
}

static void test_interface_errors(void **state)
{
	struct sf_route_config *cfg;
	struct sf_route_error e;

	(void)state;
	/* with interfaces resolved: names that do not exist here */
	write_cfg(
		"{\"attach\": [{\"iface\": \"lo\"}, {\"iface\": \"nosuch0\"}],\n"
		"\"rules\": []}");
	assert_int_equal(sf_route_config_load(path, 0, &cfg, &e), -EINVAL);
	assert_int_equal(e.line, 1);
	assert_int_equal(e.column, 31);
	assert_string_equal(e.field, "attach[1].iface");
	assert_non_null(strstr(e.msg, "unknown interface 'nosuch0'"));
	write_cfg("{\"attach\": [{\"iface\": \"lo\"}],\n\"rules\": [\n"
		  " {\"priority\": 3, \"action\": \"redirect_neigh\",\n"
		  "  \"out_iface\": \"nosuch1\"}]}");
	assert_int_equal(sf_route_config_load(path, 0, &cfg, &e), -EINVAL);
	assert_int_equal(e.line, 4);
	assert_string_equal(e.field, "rules[0].out_iface");
	assert_non_null(strstr(e.msg, "unknown interface 'nosuch1'"));
	write_cfg("{\"attach\": [{\"iface\": \"lo\", \"hook\": \"egress\"}],\n"
		  "\"rules\": [{\"priority\": 1, \"in_iface\": \"lo\", "
		  "\"action\": \"drop\"}]}");
	assert_int_equal(sf_route_config_load(path, 0, &cfg, &e), 0);
	assert_int_equal(cfg->hooks[0].ifindex, 1);
	assert_true(cfg->hooks[0].egress);
	assert_int_equal(cfg->rules[0].in_ifindex, 1);
	sf_route_config_free(cfg);
	expect_error("{\"attach\": [{\"iface\": \"a\"}, {\"iface\": \"a\"}],\n"
		     "\"rules\": []}",
		     1, 29, "attach[1]", "duplicate hook");
	expect_error(
		"{\"attach\": [{\"iface\": \"a\", \"hook\": \"sideways\"}],\n"
		"\"rules\": []}",
		1, 28, "attach[0].hook", "unknown hook");
	expect_error("{\"attach\": [],\n\"rules\": []}", 1, 2, "attach",
		     "at least one hook");
}

static void test_priority_and_names(void **state)
{
	(void)state;
	expect_error(HDR "\"rules\": [\n"
			 "  {\"priority\": 7, \"action\": \"drop\"},\n"
			 "  {\"priority\": 8, \"action\": \"drop\"},\n"
			 "  {\"priority\": 7, \"action\": \"pass\"}]}",
		     6, 4, "rules[2].priority",
		     "duplicate priority 7 (also rules[0] "
		     "at line 4)");
	expect_error(
		HDR
		"\"rules\": [\n"
		"  {\"priority\": 1, \"name\": \"a\", \"action\": \"drop\"},\n"
		"  {\"priority\": 2, \"name\": \"a\", \"action\": \"drop\"}]}",
		5, 19, "rules[1].name", "duplicate name 'a'");
	expect_error(HDR
		     "\"rules\": [{\"priority\": -1, \"action\": \"drop\"}]}",
		     3, 12, "rules[0].priority", "expected an integer");
	expect_error(HDR "\"rules\": [{\"action\": \"drop\"}]}", 3, 11,
		     "rules[0]", "missing field 'priority'");
	expect_error(HDR "\"rules\": [{\"priority\": 1}]}", 3, 11, "rules[0]",
		     "missing field 'action'");
	expect_error(HDR
		     "\"rules\": [{\"priority\": 1, \"action\": \"bounce\"}]}",
		     3, 27, "rules[0].action",
		     "unknown action 'bounce'; use pass, drop, redirect, "
		     "redirect_neigh or redirect_peer");
	expect_error(HDR "\"rules\": [{\"priority\": 1, \"action\": \"drop\", "
			 "\"dts\": \"10.0.0.0/8\"}]}",
		     3, 45, "rules[0].dts", "unknown field 'dts'");
	expect_error("{\"rules\": []}", 1, 1, "", "missing field 'attach'");
}

/* One rule more than the maps hold: refused by count, not cut off. */
static void test_too_many_rules(void **state)
{
	size_t len = 64 + (ROUTE_MAX_RULES + 1) * 48;
	char *text = malloc(len), *p;
	char want[64];

	(void)state;
	assert_non_null(text);
	p = text + sprintf(text, HDR "\"rules\": [");
	for (int i = 0; i <= ROUTE_MAX_RULES; i++)
		p += sprintf(p, "%s{\"priority\": %d, \"action\": \"drop\"}",
			     i ? ", " : "", i + 1);
	strcpy(p, "]}");
	snprintf(want, sizeof(want), "%d rules; at most %d fit",
		 ROUTE_MAX_RULES + 1, ROUTE_MAX_RULES);
	expect_error(text, 3, 1, "rules", want);
	free(text);
}

static void test_ports_and_protocols(void **state)
{
	struct sf_route_config *cfg;

	(void)state;
	expect_error(HDR "\"rules\": [{\"priority\": 1, \"action\": \"drop\", "
			 "\"dport\": 53}]}",
		     3, 45, "rules[0].dport", "ports need \"proto\"");
	expect_error(HDR "\"rules\": [{\"priority\": 1, \"action\": \"drop\", "
			 "\"proto\": \"udp\", \"sport\": \"2000-1000\"}]}",
		     3, 61, "rules[0].sport", "increasing order");
	expect_error(HDR "\"rules\": [{\"priority\": 1, \"action\": \"drop\", "
			 "\"proto\": \"udp\", \"sport\": 70000}]}",
		     3, 61, "rules[0].sport", "not within 0-65535");
	expect_error(HDR "\"rules\": [{\"priority\": 1, \"action\": \"drop\", "
			 "\"proto\": \"udp\", \"sport\": \"1x\"}]}",
		     3, 61, "rules[0].sport", "bad port range '1x'");
	expect_error(HDR "\"rules\": [{\"priority\": 1, \"action\": \"drop\", "
			 "\"proto\": \"quic\"}]}",
		     3, 45, "rules[0].proto", "unknown protocol");
	cfg = expect_ok(
		HDR
		"\"rules\": [{\"priority\": 1, \"action\": \"drop\", "
		"\"proto\": \"tcp\", \"sport\": \"10-20\", \"dport\": 443},"
		"{\"priority\": 2, \"action\": \"drop\", \"proto\": 132}]}");
	assert_int_equal(cfg->rules[0].proto, 6);
	assert_int_equal(cfg->rules[0].sport_lo, 10);
	assert_int_equal(cfg->rules[0].sport_hi, 20);
	assert_int_equal(cfg->rules[0].dport_lo, 443);
	assert_int_equal(cfg->rules[0].dport_hi, 443);
	assert_int_equal(cfg->rules[1].proto, 132);
	assert_int_equal(cfg->rules[1].dport_hi, 65535);
	sf_route_config_free(cfg);
}

static void test_tenant_errors(void **state)
{
	(void)state;
	expect_error(HDR
		     "\"tenants\": [{\"name\": \"t\"}, {\"name\": \"t\"}],\n"
		     "\"rules\": []}",
		     3, 29, "tenants[1].name", "duplicate tenant 't'");
	expect_error(
		HDR
		"\"tenants\": [{\"name\": \"t\", \"devices\": [\n"
		" {\"device\": \"e1\", \"name\": \"d1\"}]},\n"
		" {\"name\": \"u\", \"devices\": [\n"
		" {\"device\": \"e1\", \"name\": \"d2\"}]}],\n\"rules\": []}",
		6, 3, "tenants[1].devices[0].device",
		"already belongs to tenant 't'");
	expect_error(
		HDR
		"\"tenants\": [{\"name\": \"t\", \"subnets\": [\n"
		" {\"name\": \"x\", \"prefix\": \"10.0.0.0/8\"}], \"devices\": [\n"
		" {\"device\": \"e1\", \"name\": \"x\"}]}],\n\"rules\": []}",
		5, 19, "tenants[0].devices[0].name", "already used");
	expect_error(HDR "\"rules\": [{\"priority\": 1, \"action\": \"drop\", "
			 "\"tenant\": \"nobody\"}]}",
		     3, 45, "rules[0].tenant", "unknown tenant 'nobody'");
	expect_error(HDR
		     "\"rules\": [{\"priority\": 1, \"action\": \"redirect\", "
		     "\"device\": \"ghost\"}]}",
		     3, 49, "rules[0].device", "unknown device 'ghost'");
	expect_error(HDR "\"rules\": [{\"priority\": 1, \"action\": \"drop\", "
			 "\"out_iface\": \"e1\"}]}",
		     3, 45, "rules[0].out_iface",
		     "only redirect actions take 'out_iface'");
}

/* The example in docs/ covers the seed's tables and must stay valid. */
static void test_docs_example(void **state)
{
	struct sf_route_config *cfg;
	struct sf_route_error e;
	const struct rt_rule *r;

	(void)state;
	if (sf_route_config_load("docs/route-example.json", SF_ROUTE_NO_IFACES,
				 &cfg, &e) &&
	    sf_route_config_load("../../docs/route-example.json",
				 SF_ROUTE_NO_IFACES, &cfg, &e))
		fail_msg("%s:%d:%d: %s: %s", e.file, e.line, e.column, e.field,
			 e.msg);
	assert_int_equal(cfg->ntenants, 2);
	assert_int_equal(cfg->nhooks, 4);
	assert_int_equal(cfg->nrules, 8);
	/* sorted by priority */
	for (int i = 1; i < cfg->nrules; i++)
		assert_true(cfg->rules[i - 1].priority <
			    cfg->rules[i].priority);
	r = &cfg->rules[4]; /* priority 100 */
	assert_string_equal(r->name, "t1-to-container1");
	assert_int_equal(r->tenant, 0);
	assert_int_equal(r->dst.family, 4);
	assert_int_equal(r->dst.len, 32); /* the device's address */
	assert_memory_equal(r->dst.addr, "\x0a\x00\x28\x02", 4);
	assert_int_equal(r->act.action, ROUTE_ACT_REDIRECT);
	assert_true(r->act.flags & ROUTE_F_DMAC);
	assert_true(r->act.flags & ROUTE_F_TTL);
	/* the seed's parser reversed a-f; 5e:52:1f:cb:5d:78 stays itself */
	assert_memory_equal(r->act.dmac, "\x5e\x52\x1f\xcb\x5d\x78", 6);
	assert_string_equal(r->out_iface, "veth-br40-C1");
	assert_int_equal(cfg->rules[3].src.family, 6); /* subnet C4 */
	sf_route_config_free(cfg);
}

static void test_values(void **state)
{
	struct rt_prefix p;
	uint8_t mac[6];
	char buf[64];

	(void)state;
	assert_int_equal(rt_parse_prefix("192.168.1.0/24", &p), 0);
	assert_int_equal(p.family, 4);
	assert_int_equal(p.len, 24);
	assert_string_equal(rt_prefix_str(&p, buf, sizeof(buf)),
			    "192.168.1.0/24");
	assert_int_equal(rt_parse_prefix("10.1.2.3", &p), 0);
	assert_int_equal(p.len, 32);
	assert_int_equal(rt_parse_prefix("fd00::/8", &p), 0);
	assert_int_equal(p.family, 6);
	assert_int_equal(rt_parse_prefix("fd00::1/8", &p), -EDOM);
	assert_int_equal(rt_parse_prefix("10.0.0.0/", &p), -ERANGE);
	assert_int_equal(rt_parse_prefix("10.0.0.0/-1", &p), -ERANGE);
	assert_int_equal(rt_parse_prefix("10.0.0/8", &p), -EINVAL);
	assert_int_equal(rt_parse_mac("AA:bb:0c:0D:ee:ff", mac), 0);
	assert_memory_equal(mac, "\xaa\xbb\x0c\x0d\xee\xff", 6);
	assert_int_equal(rt_parse_mac("aa-bb-cc-dd-ee-ff", mac), -EINVAL);
	assert_int_equal(rt_parse_mac("aa:bb:cc:dd:ee:ff:00", mac), -EINVAL);
	assert_int_equal(rt_parse_mac("a:b:c:d:e:f", mac), -EINVAL);
	assert_string_equal(rt_mac_str(mac, buf, sizeof(buf)),
			    "aa:bb:0c:0d:ee:ff");
}

/* Each LPM entry carries the rules whose prefix contains it. */
static void test_compile_bitmaps(void **state)
{
	struct sf_route_config *cfg;
	struct rt_tables *t;

	(void)state;
	cfg = expect_ok(
		HDR
		"\"rules\": [\n"
		"{\"priority\": 1, \"dst\": \"10.0.0.0/8\", \"action\": \"drop\"},\n"
		"{\"priority\": 2, \"dst\": \"10.1.0.0/16\", \"action\": \"drop\"},\n"
		"{\"priority\": 3, \"action\": \"pass\"},\n"
		"{\"priority\": 4, \"dst\": \"fd00::/8\", \"proto\": \"udp\", "
		"\"dport\": \"5-6\", \"action\": \"drop\"}]}");
	assert_int_equal(rt_compile(cfg, &t), 0);
	assert_int_equal(t->nlpm[RT_DST4], 3); /* default, /8, /16 */
	assert_int_equal(t->lpm[RT_DST4][0].bits.w[0], 1 << 2);
	assert_int_equal(t->lpm[RT_DST4][1].bits.w[0], 1 << 0 | 1 << 2);
	assert_int_equal(t->lpm[RT_DST4][2].bits.w[0],
			 1 << 0 | 1 << 1 | 1 << 2);
	assert_int_equal(t->lpm[RT_SRC4][0].bits.w[0], 0x7);
	assert_int_equal(t->lpm[RT_DST6][0].bits.w[0], 1 << 2);
	assert_int_equal(t->lpm[RT_DST6][1].bits.w[0], 1 << 2 | 1 << 3);
	assert_int_equal(t->protos[6].w[0], 0x7);
	assert_int_equal(t->protos[17].w[0], 0xF);
	assert_int_equal(t->protos[ROUTE_PROTO_UDP_NOPORTS].w[0], 0x7);
	assert_int_equal(t->dports[4].w[0], 0x7);
	assert_int_equal(t->dports[5].w[0], 0xF);
	assert_int_equal(t->dports[6].w[0], 0xF);
	assert_int_equal(t->sports[6].w[0], 0xF);
	assert_int_equal(t->ningress, 1);
	assert_int_equal(t->ingress[0].bits.w[0], 0xF);
	rt_tables_free(t);
	sf_route_config_free(cfg);
}

static void test_jpos(void **state)
{
	const char *text =
		"{\n  \"a\": [1, {\"b\": \"x\\\"y\"}],\n\t\"c\": {}\n}";
	struct jpos jp;
	int line, col;

	(void)state;
	assert_int_equal(jpos_build(&jp, text, strlen(text), &line, &col), 0);
	assert_int_equal(jpos_find(&jp, "a", &line, &col), 0);
	assert_int_equal(line, 2);
	assert_int_equal(col, 3);
	assert_int_equal(jpos_find(&jp, "a[1].b", &line, &col), 0);
	assert_int_equal(col, 13);
	assert_int_equal(jpos_find(&jp, "c", &line, &col), 0);
	assert_int_equal(line, 3);
	assert_int_equal(col, 2);
	assert_int_equal(jpos_find(&jp, "d", &line, &col), -ENOENT);
	jpos_free(&jp);
	/* jansson takes a NUL byte after a number; the index used to stall
	 * on it forever (fuzz/route)
	 */
	assert_int_equal(jpos_build(&jp, "[1, 4\0]", 7, &line, &col), 0);
	assert_int_equal(jpos_find(&jp, "[1]", &line, &col), 0);
	assert_int_equal(col, 5);
	jpos_free(&jp);
}

/* The log line itself: FILE:LINE:COL: FIELD: MESSAGE. */
static void test_log_line(void **state)
{
	char log[] = "/tmp/sf-route-log-XXXXXX", buf[512] = {}, want[512];
	struct sf_route_config *cfg;
	int fd = mkstemp(log);
	FILE *f;

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	write_cfg(HDR "\"rules\": [{\"priority\": 1, \"action\": \"drop\", "
		      "\"dst\": \"1.2.3.4/40\"}]}");
	assert_int_equal(sf_log_set_file(log), 0);
	assert_int_equal(sf_route_config_load(path, SF_ROUTE_NO_IFACES, &cfg,
					      NULL),
			 -EINVAL);
	assert_int_equal(sf_log_set_file(NULL), 0);
	f = fopen(log, "r");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	unlink(log);
	snprintf(want, sizeof(want),
		 "%s:3:45: rules[0].dst: bad prefix "
		 "'1.2.3.4/40'",
		 path);
	if (!strstr(buf, want))
		fail_msg("log line '%s' lacks '%s'", buf, want);
}

/* A file that cannot be read is named with the reason and no position. */
static void test_unreadable(void **state)
{
	struct sf_route_config *cfg = NULL;
	struct sf_route_error e;

	(void)state;
	assert_int_equal(sf_route_config_load("/", SF_ROUTE_NO_IFACES, &cfg,
					      &e),
			 -EISDIR);
	assert_null(cfg);
	assert_int_equal(e.line, 0);
	assert_string_equal(e.msg, "cannot read the configuration: Is a "
				   "directory");
	assert_int_equal(sf_route_config_load("/nonexistent/route.json",
					      SF_ROUTE_NO_IFACES, &cfg, &e),
			 -ENOENT);
	assert_string_equal(e.msg, "cannot read the configuration: No such "
				   "file or directory");
}

static int setup(void **state)
{
	int fd = mkstemp(path);

	(void)state;
	if (fd < 0)
		return -1;
	close(fd);
	sf_log_set_level(SF_LOG_ERROR);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_prefix_errors),
		cmocka_unit_test(test_mac_errors),
		cmocka_unit_test(test_interface_errors),
		cmocka_unit_test(test_priority_and_names),
		cmocka_unit_test(test_ports_and_protocols),
		cmocka_unit_test(test_tenant_errors),
		cmocka_unit_test(test_docs_example),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_compile_bitmaps),
		cmocka_unit_test(test_too_many_rules),
		cmocka_unit_test(test_jpos),
		cmocka_unit_test(test_log_line),
		cmocka_unit_test(test_unreadable),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
