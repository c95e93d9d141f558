// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_core.c: unit tests of libsysflow's core and shared writers: log
 * levels, protocol lists, directories and their locks, rotated files, the
 * JSON writer and the flow's JSON form, interface lookup, exit signals.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <sysflow/sysflow.h>
#include "core/core.h"
#include "export/json.h"
#include "export/outerr.h"
#include "export/rotfile.h"
#include "flow/flow_json.h"

static void test_log_levels(void **state)
{
	enum sf_log_level l;

	(void)state;
	assert_int_equal(sf_log_parse_level("debug", &l), 0);
	assert_int_equal(l, SF_LOG_DEBUG);
	assert_int_equal(sf_log_parse_level("error", &l), 0);
	assert_int_equal(l, SF_LOG_ERROR);
	assert_int_equal(sf_log_parse_level("loud", &l), -EINVAL);
	assert_int_equal(sf_log_parse_level("", &l), -EINVAL);
}

static void test_log_file(void **state)
{
	char path[] = "/tmp/sf-log-XXXXXX", buf[256] = {};
	int fd = mkstemp(path);
	FILE *f;

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(sf_log_set_file(path), 0);
	pr_err("disk %s is full\n", "sda");
	pr_debug("hidden at the default level\n");
	assert_int_equal(sf_log_set_file(NULL), 0);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	assert_non_null(strstr(buf, "error: disk sda is full"));
	assert_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	unlink(path);
	assert_int_equal(sf_log_set_file("/nonexistent/dir/log"), -ENOENT);
}

static void test_protocols(void **state)
{
	unsigned int bits;

	(void)state;
	assert_int_equal(sf_flowmon_parse_protocols("eth,ip,tcp", &bits), 0);
	assert_int_equal(bits, SF_PROTO_ETH | SF_PROTO_IPV4 | SF_PROTO_TCP);
	assert_int_equal(sf_flowmon_parse_protocols(
				 "eth,ipv4,ipv6,tcp,udp,icmp,icmpv6", &bits),
			 0);
	assert_int_equal(bits, SF_PROTO_ALL);
	assert_int_equal(sf_flowmon_parse_protocols("tcp,sctp", &bits),
			 -EINVAL);
	assert_int_equal(sf_flowmon_parse_protocols(",", &bits), -EINVAL);
	/* what a protocol is parsed on, left out: it would count nothing */
	assert_int_equal(sf_flowmon_parse_protocols("ipv4,icmp", &bits),
			 -EINVAL);
	assert_int_equal(sf_flowmon_parse_protocols("eth,tcp", &bits), -EINVAL);
	assert_int_equal(sf_flowmon_parse_protocols("eth,ipv6,icmp", &bits),
			 -EINVAL);
	assert_int_equal(sf_flowmon_parse_protocols("eth,ipv4,icmpv6", &bits),
			 -EINVAL);
	assert_int_equal(sf_flowmon_parse_protocols("eth,ipv6,udp", &bits), 0);
	assert_int_equal(sf_flowmon_parse_protocols("eth", &bits), 0);
}

static void test_end_names(void **state)
{
	(void)state;
	assert_string_equal(sf_flow_end_name(SF_END_IDLE), "idle");
	assert_string_equal(sf_flow_end_name(SF_END_DETECTED), "end-of-flow");
	assert_string_equal(sf_flow_end_name(SF_END_LACK_OF_RESOURCES),
			    "lack-of-resources");
	assert_string_equal(sf_flow_end_name(0), "none");
	assert_string_equal(sf_flow_end_name(200), "none");
}

static void test_mkdir_p(void **state)
{
	char base[] = "/tmp/sf-mk-XXXXXX", path[256];
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(base));
	snprintf(path, sizeof(path), "%s/a/b/c", base);
	assert_int_equal(sf_mkdir_p(path, 0700), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(sf_mkdir_p(path, 0700), 0); /* idempotent */
	assert_int_equal(sf_mkdir_p("", 0700), -EINVAL);
	snprintf(path, sizeof(path), "rm -rf %s", base);
	assert_int_equal(system(path), 0);
}

/* flock is per open file, so one process can play both instances. */
static void test_path_lock(void **state)
{
	char base[] = "/tmp/sf-lock-XXXXXX", lock[PATH_MAX], link[PATH_MAX];
	struct stat st;
	int fd, dir;

	(void)state;
	assert_non_null(mkdtemp(base));
	snprintf(lock, sizeof(lock), "%s/ctl.sock.lock", base);
	fd = sf_path_lock(lock, true);
	assert_true(fd >= 0);
	assert_int_equal(stat(lock, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(sf_path_lock(lock, true), -EBUSY);
	/* the holder's exit: unlink while held, then let go */
	assert_int_equal(unlink(lock), 0);
	close(fd);
	fd = sf_path_lock(lock, true);
	assert_true(fd >= 0);
	close(fd);
	/* a lock file the holder did not remove (kill -9) is taken over */
	fd = sf_path_lock(lock, true);
	assert_true(fd >= 0);
	close(fd);
	snprintf(link, sizeof(link), "%s/link.lock", base);
	assert_int_equal(symlink(lock, link), 0);
	assert_int_equal(sf_path_lock(link, true), -ELOOP);
	/* a directory, as sf_dir_lock() takes it */
	dir = sf_path_lock(base, false);
	assert_true(dir >= 0);
	assert_int_equal(sf_path_lock(base, false), -EBUSY);
	assert_int_equal(sf_dir_lock(base, "test", "-F"), -EBUSY);
	close(dir);
	assert_int_equal(sf_path_lock(lock, false), -ENOTDIR);
	snprintf(link, sizeof(link), "rm -rf %s", base);
	assert_int_equal(system(link), 0);
}

/* Shared holders coexist and keep an exclusive one out; a wait is
 * bounded; a directory removed under a waiter is not locked.
 */
static void test_path_lock_wait(void **state)
{
	char base[] = "/tmp/sf-lockw-XXXXXX";
	uint64_t t0;
	int a, b;

	(void)state;
	assert_non_null(mkdtemp(base));
	a = sf_path_lock_wait(base, false, true, 0);
	assert_true(a >= 0);
	b = sf_path_lock_wait(base, false, true, 0);
	assert_true(b >= 0);
	close(b);
	t0 = sf_clock_ns(CLOCK_MONOTONIC);
	assert_int_equal(sf_path_lock_wait(base, false, false, 200), -EBUSY);
	t0 = sf_clock_ns(CLOCK_MONOTONIC) - t0;
	assert_true(t0 >= 200000000ULL && t0 < 2000000000ULL);
	close(a);
	a = sf_path_lock_wait(base, false, false, 200);
	assert_true(a >= 0);
	assert_int_equal(sf_path_lock_wait(base, false, true, 0), -EBUSY);
	/* the holder removes the directory, then lets go */
	assert_int_equal(rmdir(base), 0);
	close(a);
	assert_int_equal(sf_path_lock_wait(base, false, false, 200), -ENOENT);
}

/* lo is in every namespace; a name in none is found nowhere (the netns
 * test covers a name that only a named namespace holds).
 */
static void test_iface_exists_anywhere(void **state)
{
	(void)state;
	assert_true(sf_iface_exists_anywhere("lo"));
	assert_false(sf_iface_exists_anywhere("sfnosuch9q"));
}

static void test_rotfile(void **state)
{
	char base[] = "/tmp/sf-rot-XXXXXX", first[PATH_MAX];
	struct sf_rotfile r;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(base));
	assert_int_equal(sf_rotfile_init(&r, base, "flows", ".json", 3600), 0);
	f = sf_rotfile_get(&r, 1795360000); /* 2026-11-22T... */
	assert_non_null(f);
	snprintf(first, sizeof(first), "%s", r.path);
	assert_ptr_equal(sf_rotfile_get(&r, 1795360000 + 60), f);
	assert_non_null(sf_rotfile_get(&r, 1795360000 + 3600));
	assert_string_not_equal(first, r.path); /* next hour, next file */
	assert_non_null(strstr(r.path, "/flows-20261122T"));
	sf_rotfile_close(&r);
	assert_int_equal(access(first, F_OK), 0);
	assert_int_equal(access(r.path, F_OK), 0);
	unlink(first);
	unlink(r.path);
	rmdir(base);
	/* a file where a directory should be */
	assert_int_not_equal(sf_rotfile_init(&r, "/etc/hostname/x", "f", "",
					     60), 0);
}

static void test_json_write(void **state)
{
	char buf[128] = {};
	FILE *f = fmemopen(buf, sizeof(buf), "w");
	FILE *full;

	(void)state;
	assert_non_null(f);
	assert_int_equal(sf_json_write_line(f, json_pack("{s:i, s:s}", "b", 2,
							 "a", "x")),
			 0);
	fclose(f);
	assert_string_equal(buf, "{\"b\":2,\"a\":\"x\"}\n");
	full = fopen("/dev/full", "w");
	assert_non_null(full);
	assert_int_equal(sf_json_write_line(full, json_pack("{s:i}", "a", 1)),
			 -ENOSPC);
	fclose(full);
	assert_int_equal(sf_json_write_line(stdout, NULL), -ENOMEM);
}

/* A line that hits the file size limit (EFBIG, as ENOSPC would) is cut off
 * where it began: the file keeps whole lines and the next one follows them.
 */
static void test_json_partial_line(void **state)
{
	char path[] = "/tmp/sf-json-XXXXXX", buf[256];
	struct rlimit old, lim;
	json_t *line = json_pack("{s:s}", "k", "0123456789012345678901234");
	FILE *f;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_IGN);
	lim = old;
	lim.rlim_cur = 80; /* two lines of 34 bytes and part of a third */
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(sf_json_write_line(f, json_incref(line)), 0);
	assert_int_equal(sf_json_write_line(f, json_incref(line)), -EFBIG);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);
	assert_int_equal(sf_json_write_line(f, line), 0);
	fclose(f);
	f = fopen(path, "r");
	assert_non_null(f);
	for (int i = 0; i < 3; i++) {
		assert_non_null(fgets(buf, sizeof(buf), f));
		assert_string_equal(buf, "{\"k\":\"0123456789012345678901234\"}\n");
	}
	assert_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	unlink(path);
}

static void test_outerr(void **state)
{
	struct sf_outerr e = {};
	char name[PATH_MAX];
	FILE *f;

	(void)state;
	sf_outerr_ok(&e, "JSON lines", "/x"); /* no episode to end */
	assert_false(sf_outerr_failing(&e));
	sf_outerr_fail(&e, "JSON lines", "/x", ENOSPC, 1); /* logs */
	sf_outerr_fail(&e, "JSON lines", "/x", ENOSPC, 2); /* does not */
	sf_outerr_lost(&e, 3);
	assert_true(sf_outerr_failing(&e));
	assert_int_equal(e.err, ENOSPC);
	assert_int_equal(e.not_written, 6);
	assert_int_equal(e.episode, 6);
	assert_true(sf_outerr_wait(&e, e.last_fail)); /* tried this second */
	assert_false(sf_outerr_wait(&e, e.last_fail + 1));
	sf_outerr_ok(&e, "JSON lines", "/x");
	assert_false(sf_outerr_failing(&e));
	assert_false(sf_outerr_wait(&e, e.last_fail));
	assert_int_equal(e.not_written, 6);
	assert_int_equal(e.episode, 0);
	f = fopen("/dev/null", "w");
	assert_non_null(f);
	assert_string_equal(sf_stream_name(f, name, sizeof(name)), "/dev/null");
	fclose(f);
}

static void test_flow_json_v4(void **state)
{
	struct sf_flow f = {
		.ip_version = 4, .proto = 17, .saddr = { 10, 0, 0, 1 },
		.daddr = { 10, 0, 0, 2 }, .sport = 1234, .dport = 53,
		.packets = 3, .bytes = 300, .start_ms = 1000, .end_ms = 2000,
		.end_reason = SF_END_IDLE, .min_ttl = 63, .max_ttl = 64,
		.dpi_kind = SF_DPI_DNS, .dns_qtype = 28, .name = "a.example",
	};
	json_t *o = sf_flow_json(&f);

	(void)state;
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(
				    o, "sourceIPv4Address")), "10.0.0.1");
	assert_string_equal(json_string_value(json_object_get(
				    o, "destinationIPv4Address")), "10.0.0.2");
	assert_int_equal(json_integer_value(json_object_get(
				 o, "packetDeltaCount")), 3);
	assert_int_equal(json_integer_value(json_object_get(
				 o, "octetDeltaCount")), 300);
	assert_int_equal(json_integer_value(json_object_get(
				 o, "flowEndReason")), SF_END_IDLE);
	assert_string_equal(json_string_value(json_object_get(
				    o, "dnsQueryName")), "a.example");
	assert_int_equal(json_integer_value(json_object_get(
				 o, "dnsQueryType")), 28);
	assert_null(json_object_get(o, "sourceIPv6Address"));
	assert_null(json_object_get(o, "minimumTcpWindow")); /* not TCP */
	json_decref(o);
}

static void test_flow_json_v6_tls(void **state)
{
	struct sf_flow f = {
		.ip_version = 6, .proto = 6, .daddr = { 0xfd, [15] = 2 },
		.saddr = { 0xfd, [15] = 1 }, .dpi_kind = SF_DPI_TLS,
		.name = "sni.example", .min_tcp_window = 100,
		.max_tcp_window = 200,
	};
	json_t *o = sf_flow_json(&f);

	(void)state;
	assert_string_equal(json_string_value(json_object_get(
				    o, "sourceIPv6Address")), "fd00::1");
	assert_string_equal(json_string_value(json_object_get(
				    o, "tlsServerName")), "sni.example");
	assert_int_equal(json_integer_value(json_object_get(
				 o, "maximumTcpWindow")), 200);
	assert_null(json_object_get(o, "flowEndReason")); /* live snapshot */
	json_decref(o);
}

static void test_iface(void **state)
{
	char name[IF_NAMESIZE];
	int idx = 0;

	(void)state;
	assert_int_equal(sf_iface_index("lo", &idx), 0);
	assert_true(idx > 0);
	assert_string_equal(sf_iface_name(idx, name), "lo");
	assert_int_equal(sf_iface_index("no-such-if0", &idx), -ENODEV);
	assert_int_equal(sf_iface_index("much-too-long-interface-name", &idx),
			 -EINVAL);
	assert_string_equal(sf_iface_name(987654, name), "if987654");
	strcpy(name, "x");
	assert_int_equal(sf_iface_xdp_prog(idx, name, sizeof(name), NULL), 0);
	assert_string_equal(name, ""); /* lo: no XDP program */
}

static volatile sig_atomic_t hook_runs;

static void count_hook(void)
{
	hook_runs++;
}

/* SIGALRM ends like SIGINT when asked, and the hook runs after sf_exiting
 * is set; plain sf_signals_install leaves SIGALRM alone.
 */
static void test_signals_hook(void **state)
{
	struct sigaction sa;

	(void)state;
	assert_int_equal(sf_signals_install_hook(count_hook, true), 0);
	assert_int_equal(raise(SIGALRM), 0);
	assert_int_equal(hook_runs, 1);
	assert_int_equal(sf_exiting, 1);
	sf_exiting = 0;
	assert_int_equal(raise(SIGTERM), 0);
	assert_int_equal(hook_runs, 2);
	assert_int_equal(sf_exiting, 1);
	sf_exiting = 0;
	signal(SIGALRM, SIG_DFL);
	assert_int_equal(sf_signals_install(), 0);
	assert_int_equal(sigaction(SIGALRM, NULL, &sa), 0);
	assert_true(sa.sa_handler == SIG_DFL);
	assert_int_equal(raise(SIGINT), 0);
	assert_int_equal(hook_runs, 2);
	assert_int_equal(sf_exiting, 1);
	sf_exiting = 0;
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_log_levels),
		cmocka_unit_test(test_log_file),
		cmocka_unit_test(test_protocols),
		cmocka_unit_test(test_end_names),
		cmocka_unit_test(test_mkdir_p),
		cmocka_unit_test(test_path_lock),
		cmocka_unit_test(test_path_lock_wait),
		cmocka_unit_test(test_iface_exists_anywhere),
		cmocka_unit_test(test_rotfile),
		cmocka_unit_test(test_json_write),
		cmocka_unit_test(test_json_partial_line),
		cmocka_unit_test(test_outerr),
		cmocka_unit_test(test_flow_json_v4),
		cmocka_unit_test(test_flow_json_v6_tls),
		cmocka_unit_test(test_iface),
		cmocka_unit_test(test_signals_hook),
	};

	sf_log_set_level(SF_LOG_INFO);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
