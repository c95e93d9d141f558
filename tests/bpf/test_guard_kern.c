// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_guard_kern.c: the guard's BPF object loaded the way the agent fuzz
 * target loads it (guard_bpf_open_unattached(), lib/guard/bpf.c): closing
 * it releases its own descriptors only. Needs root.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>
#include <cmocka.h>
#include "core/core.h"
#include "guard/guard_int.h"

/* An unattached object holds no pin folder lock: its close must not close
 * descriptor 0 (a calloc'ed lock_fd of 0 did, taking the caller's stdin).
 */
static void test_unattached_close_keeps_stdin(void **state)
{
	char cg[512], root[256];
	struct guard_kern *b;
	int err, fd0;

	(void)state;
	/* descriptor 0: a file of ours, whatever stdin the runner gave */
	close(0);
	fd0 = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_int_equal(fd0, 0);
	assert_int_equal(sf_find_mount("cgroup2", root, sizeof(root)), 0);
	snprintf(cg, sizeof(cg), "%s/sysflow-test-%d-none", root, getpid());
	b = guard_bpf_open_unattached(cg, &err);
	assert_non_null(b);
	guard_bpf_close(b, false);
	assert_int_not_equal(fcntl(0, F_GETFD), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unattached_close_keeps_stdin),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
