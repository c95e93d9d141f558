// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_telemetry_filter.c: the Falco-style filter of sysflow collect:
 * fields, operators, precedence, evt.type aliases and parse errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "telemetry/telemetry_int.h"

static struct tel_proc proc = {
	.oid = { .hpid = 4242 },
	.exe = "/usr/bin/curl",
	.args = "-s http://example.org",
	.uid = 1000,
};

static bool eval(const char *expr, const struct tel_filter_ctx *c)
{
	struct tel_filter *f;
	char msg[256];
	bool r;

	if (tel_filter_compile(expr, &f, msg, sizeof(msg)))
		fail_msg("'%s' did not compile: %s", expr, msg);
	r = tel_filter_match(f, c);
	tel_filter_free(f);
	return r;
}

static const struct tel_filter_ctx ctx_connect = {
	.evt_type = "connect", .proc = &proc,
	.fd_name = "10.0.0.1:40000->93.184.216.34:443",
	.sport = 40000, .dport = 443,
};

static const struct tel_filter_ctx ctx_open = {
	.evt_type = "open", .proc = &proc, .fd_name = "/etc/passwd",
	.sport = -1, .dport = -1, .container_id = "c010f5a08549",
};

static void test_fields_and_ops(void **state)
{
	(void)state;
	assert_true(eval("proc.name = curl", &ctx_connect));
	assert_true(eval("proc.name == curl", &ctx_connect));
	assert_false(eval("proc.name != curl", &ctx_connect));
	assert_true(eval("proc.exe = /usr/bin/curl", &ctx_connect));
	assert_true(eval("proc.args contains example.org", &ctx_connect));
	assert_true(eval("proc.cmdline = 'curl -s http://example.org'", &ctx_connect));
	assert_true(eval("proc.pid = 4242 and proc.uid >= 1000", &ctx_connect));
	assert_false(eval("proc.uid < 1000", &ctx_connect));
	assert_true(eval("fd.dport = 443 and fd.sport > 1024", &ctx_connect));
	assert_true(eval("fd.name startswith 10.0.0.1:", &ctx_connect));
	assert_true(eval("fd.name endswith :443", &ctx_connect));
	assert_true(eval("fd.name startswith /etc", &ctx_open));
	assert_true(eval("container.id = host", &ctx_connect));
	assert_true(eval("container.id = c010f5a08549", &ctx_open));
	assert_true(eval("fd.dport in (80, 443, 8443)", &ctx_connect));
	assert_false(eval("fd.dport in (80, 8080)", &ctx_connect));
	assert_true(eval("proc.name in (\"nginx\", 'curl')", &ctx_connect));
}

static void test_logic(void **state)
{
	(void)state;
	assert_true(eval("not proc.name = sshd", &ctx_connect));
	assert_true(eval("proc.name = sshd or fd.dport = 443", &ctx_connect));
	/* and binds tighter than or */
	assert_true(eval("proc.name = curl or proc.name = x and fd.dport = 1",
			 &ctx_connect));
	assert_false(eval("(proc.name = curl or proc.name = x) and fd.dport = 1",
			  &ctx_connect));
	assert_true(eval("not (evt.type = open or evt.type = close)", &ctx_connect));
	assert_true(eval("not not proc.name = curl", &ctx_connect));
}

/* syscall names fold to the operations the collector reports */
static void test_evt_type_aliases(void **state)
{
	(void)state;
	assert_true(eval("evt.type = openat", &ctx_open));
	assert_true(eval("evt.type in (open, openat2, creat)", &ctx_open));
	assert_true(eval("evt.type = open_by_handle_at", &ctx_open));
	assert_true(eval("evt.type = connect", &ctx_connect));
	assert_false(eval("evt.type = accept4", &ctx_connect));
}

static void expect_error(const char *expr, const char *what)
{
	struct tel_filter *f = (void *)1;
	char msg[256] = "";

	assert_int_not_equal(tel_filter_compile(expr, &f, msg, sizeof(msg)), 0);
	assert_null(f);
	if (!strstr(msg, what))
		fail_msg("'%s': message '%s' lacks '%s'", expr, msg, what);
}

static void test_errors(void **state)
{
	(void)state;
	expect_error("proc.nam = x", "unknown field 'proc.nam'");
	expect_error("proc.name ~ x", "unknown operator");
	expect_error("proc.name =", "missing value");
	expect_error("fd.dport = http", "not a number");
	expect_error("fd.dport contains 4", "string operator on a numeric");
	expect_error("proc.name in curl", "needs a list");
	expect_error("proc.name in (a b)", "expected ',' or ')'");
	expect_error("(proc.name = a", "missing ')'");
	expect_error("proc.name = 'a", "unterminated string");
	expect_error("proc.name = a b", "unexpected 'b'");
	expect_error("", "unknown field");
}

/* A repeated piece n times, then tail (the caller frees). */
static char *repeat(const char *piece, int n, const char *tail)
{
	size_t len = strlen(piece);
	char *s = malloc(len * n + strlen(tail) + 1);

	assert_non_null(s);
	for (int i = 0; i < n; i++)
		memcpy(s + i * len, piece, len);
	strcpy(s + len * n, tail);
	return s;
}

/* The parser, matcher and free() recurse: 40000 '(' overflowed the stack
 * (a segfault of `sysflow collect -f`). Nesting and length are bounded.
 */
static void test_limits(void **state)
{
	struct tel_filter *f;
	char msg[256], *e;

	(void)state;
	e = repeat("(", 40000, "");
	expect_error(e, "nested deeper than 64 levels");
	free(e);
	e = repeat("not ", 65, "proc.uid = 1");
	expect_error(e, "nested deeper than 64 levels");
	free(e);
	e = repeat("proc.uid = 1 or ", 1024, "proc.uid = 2");
	expect_error(e, "more than 1024 conditions");
	free(e);
	e = repeat("not ", 64, "proc.uid = 1");
	assert_int_equal(tel_filter_compile(e, &f, msg, sizeof(msg)), 0);
	tel_filter_free(f);
	free(e);
	e = repeat("proc.uid = 1 or ", 1023, "proc.uid = 2");
	assert_int_equal(tel_filter_compile(e, &f, msg, sizeof(msg)), 0);
	tel_filter_free(f);
	free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fields_and_ops),
		cmocka_unit_test(test_logic),
		cmocka_unit_test(test_evt_type_aliases),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
