// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_telemetry_tables.c: the pieces of the telemetry tables that need no
 * kernel: FOIDs, path resolution, open flag mapping, container ids from
 * cgroup files, exeArgs and env, the hash table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "telemetry/telemetry_int.h"

static void hex(const uint8_t *b, char *out)
{
	for (int i = 0; i < 20; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

/* FOID = SHA-1(containerId + path), no separator (sf-collector). */
static void test_foid(void **state)
{
	uint8_t o[20];
	char h[41];

	(void)state;
	tel_foid("", "/etc/ld.so.cache", o);
	hex(o, h);
	assert_string_equal(h, "8d57b8c634ff3c042c2d003a93f46a7bc6cc86da");
	tel_foid("c010f5a08549", "/etc/passwd", o);
	hex(o, h);
	/* sha1("c010f5a08549/etc/passwd") */
	assert_string_equal(h, "76c575a23309b5524d71812a16abb01856519151");
}

static void join_is(const char *base, const char *rel, const char *want)
{
	char *p = tel_path_join(base, rel);

	assert_non_null(p);
	assert_string_equal(p, want);
	free(p);
}

static void test_path_join(void **state)
{
	(void)state;
	join_is("/tmp", "a.txt", "/tmp/a.txt");
	join_is("/tmp/", "./a/../b//c", "/tmp/b/c");
	join_is("/tmp", "/etc//passwd", "/etc/passwd");
	join_is("/", "..", "/");
	join_is("/a/b", "../../../x", "/x");
	join_is("/a", ".", "/a");
	join_is(NULL, "rel/x", "rel/x"); /* nothing to join: as given */
}

static void test_open_flags(void **state)
{
	(void)state;
	/* O_RDONLY|O_CLOEXEC = 4097, O_WRONLY|O_CREAT|O_TRUNC = 262 */
	assert_int_equal(tel_open_flags(02000000), 4097);
	assert_int_equal(tel_open_flags(01 | 0100 | 01000), 262);
	assert_int_equal(tel_open_flags(02 | 02000), SYSFLOW_O_RDWR | SYSFLOW_O_APPEND);
	assert_int_equal(tel_open_flags(0200000 | 04000), SYSFLOW_O_RDONLY |
			 SYSFLOW_O_DIRECTORY | SYSFLOW_O_NONBLOCK);
	assert_int_equal(tel_open_flags(01 | 0200 | 0100), SYSFLOW_O_WRONLY |
			 SYSFLOW_O_EXCL | SYSFLOW_O_CREAT);
}

static int cgroup_of(const char *text, char id[COLLECT_CID_LEN])
{
	char path[] = "/tmp/sf-cgroup-XXXXXX";
	int fd = mkstemp(path), type;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	type = tel_cgroup_container(path, id);
	unlink(path);
	return type;
}

#define ID64 "c010f5a08549a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6071829ab"

static void test_cgroup_container(void **state)
{
	char id[COLLECT_CID_LEN];

	(void)state;
	assert_int_equal(cgroup_of("0::/system.slice/docker-" ID64 ".scope\n", id),
			 SYSFLOW_CT_DOCKER);
	assert_string_equal(id, "c010f5a08549");
	assert_int_equal(cgroup_of("0::/kubepods/burstable/pod1234/" ID64 "\n", id),
			 SYSFLOW_CT_CRI);
	assert_int_equal(cgroup_of("0::/system.slice/cri-containerd-" ID64
				   ".scope\n", id), SYSFLOW_CT_CONTAINERD);
	assert_int_equal(cgroup_of("0::/crio-" ID64 ".scope\n", id),
			 SYSFLOW_CT_CRIO);
	/* cgroup v1: the cpu controller's path */
	assert_int_equal(cgroup_of("5:memory:/\n4:cpu,cpuacct:/docker/" ID64
				   "\n0::/\n", id), SYSFLOW_CT_DOCKER);
	assert_string_equal(id, "c010f5a08549");
	assert_int_equal(cgroup_of("0::/user.slice/session-3.scope\n", id), -1);
	assert_int_equal(cgroup_of("0::/docker/" "C010F5A08549A1B2C3D4E5F60718293A"
				   "4B5C6D7E8F90A1B2C3D4E5F6071829AB\n", id), -1);
	assert_int_equal(cgroup_of("0::/docker/c010f5a08549\n", id), -1);
}

static void test_args_env(void **state)
{
	struct tel_proc p = {};
	static const char argv[] = "/bin/ls\0-l\0my dir\0";
	static const char env[] = "A=1\0\0B=two\0";

	(void)state;
	tel_proc_set_args(&p, argv, sizeof(argv) - 1);
	assert_string_equal(p.args, "-l my dir");
	tel_proc_set_env(&p, env, sizeof(env) - 1);
	assert_int_equal(p.nenv, 2);
	assert_string_equal(p.env[0], "A=1");
	assert_string_equal(p.env[1], "B=two");
	tel_proc_set_args(&p, "/bin/true", 9); /* not terminated */
	assert_string_equal(p.args, "");
	free(p.args);
	for (size_t i = 0; i < p.nenv; i++)
		free(p.env[i]);
	free(p.env);
}

struct item {
	struct hnode hn;
	int v;
};

static void test_htab(void **state)
{
	struct item items[1000];
	struct htab h;
	struct hnode *n;
	size_t i, count = 0;

	(void)state;
	assert_int_equal(htab_init(&h, 4), 0);
	for (i = 0; i < 1000; i++) {
		items[i].v = i;
		assert_int_equal(htab_add(&h, &items[i].hn, i % 500), 0);
	}
	assert_int_equal(h.n, 1000);
	for (n = htab_find(&h, 7); n; n = htab_next(n, 7))
		assert_int_equal(container_of(n, struct item, hn)->v % 500, 7),
			count++;
	assert_int_equal(count, 2);
	htab_del(&h, &items[7].hn);
	n = htab_find(&h, 7);
	assert_non_null(n);
	assert_int_equal(container_of(n, struct item, hn)->v, 507);
	assert_null(htab_next(n, 7));
	assert_null(htab_find(&h, 100000));
	htab_free(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_foid),
		cmocka_unit_test(test_path_join),
		cmocka_unit_test(test_open_flags),
		cmocka_unit_test(test_cgroup_container),
		cmocka_unit_test(test_args_env),
		cmocka_unit_test(test_htab),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
