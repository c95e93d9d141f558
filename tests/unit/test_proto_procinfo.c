// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_proto_procinfo.c: unit tests of the process identity the agent
 * matches subjects on (lib/core/procinfo.c): container ids in docker,
 * containerd, CRI-O and podman cgroup paths, prefixes, and /proc reads of
 * this very process.
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
#include "core/procinfo.h"

#define ID "3f4e2a1b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f"

static void test_container_ids(void **state)
{
	static const char *const yes[] = {
		"/docker/" ID,
		"/system.slice/docker-" ID ".scope",
		"/kubepods/besteffort/pod1234/" ID,
		"/kubepods.slice/kubepods-pod1.slice/cri-containerd-" ID
		".scope",
		"/machine.slice/crio-" ID ".scope",
		"/user.slice/libpod-" ID ".scope/container",
	};
	static const char *const no[] = {
		"/",
		"/user.slice/user-0.slice/session-1.scope",
		"/machine.slice/crio-conmon-" ID ".scope",
		"/docker/" ID "x",
		"/docker/3F4E2A1B9C8D7E6F5A4B3C2D1E0F9A8B7C6D5E4F3A2B1C0D9E8F7A6B5C4D3E2F",
		"/docker/abc",
	};
	char id[SF_CONTAINER_ID_LEN + 1];

	(void)state;
	for (size_t i = 0; i < sizeof(yes) / sizeof(*yes); i++) {
		assert_int_equal(sf_container_id(yes[i], id, sizeof(id)), 0);
		assert_string_equal(id, ID);
	}
	for (size_t i = 0; i < sizeof(no) / sizeof(*no); i++)
		assert_int_equal(sf_container_id(no[i], id, sizeof(id)),
				 -ENOENT);
	assert_true(sf_container_match("3f4e2a1b9c8d", ID));
	assert_true(sf_container_match(ID, ID));
	assert_false(sf_container_match("3f4e2a1b9c8", ID)); /* < 12 */
	assert_false(sf_container_match("3f4e2a1b9c8e", ID));
	assert_false(sf_container_match("3f4e2a1b9c8d", ""));
}

static void test_read_self(void **state)
{
	struct sf_procinfo *pi = malloc(sizeof(*pi));
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	(void)state;
	assert_non_null(pi);
	assert_true(n > 0);
	exe[n] = 0;
	assert_int_equal(sf_procinfo_read(getpid(), SF_PI_ALL, pi), 0);
	assert_string_equal(pi->exe, exe);
	assert_int_equal(pi->ppid, getppid());
	assert_int_equal(pi->uid, getuid());
	assert_int_equal(pi->tgid, getpid());
	assert_true(pi->start_time > 0);
	assert_non_null(strstr(pi->args, "test_proto_procinfo"));
	assert_true(pi->cgroup[0] == '/');
	assert_int_equal(pi->have, SF_PI_ALL);
	assert_true(pi->parent_exe[0] == '/');
	assert_int_equal(sf_procinfo_read(0x3fffffff, SF_PI_STAT, pi), -ESRCH);
	assert_int_equal(sf_procinfo_exe(getpid(), pi->exe, sizeof(pi->exe)),
			 0);
	assert_string_equal(pi->exe, exe);
	assert_int_equal(sf_procinfo_exe(0x3fffffff, pi->exe, sizeof(pi->exe)),
			 -ESRCH);
	assert_string_equal(pi->exe, "");
	free(pi);
}

/* A kernel thread (kthreadd, pid 2 on a host) is alive with no exe. */
static void test_kernel_thread_exe(void **state)
{
	char comm[32] = "", exe[64] = "x";
	FILE *f = fopen("/proc/2/comm", "re");

	(void)state;
	if (!f || !fgets(comm, sizeof(comm), f) || strcmp(comm, "kthreadd\n")) {
		if (f)
			fclose(f);
		skip(); /* in a pid namespace pid 2 is not kthreadd */
	}
	fclose(f);
	assert_int_equal(sf_procinfo_exe(2, exe, sizeof(exe)), 0);
	assert_string_equal(exe, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_container_ids),
		cmocka_unit_test(test_read_self),
		cmocka_unit_test(test_kernel_thread_exe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
