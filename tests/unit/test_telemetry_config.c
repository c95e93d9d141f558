// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_telemetry_config.c: the telemetry API before anything is loaded:
 * LibSysFlow's defaults, and the SysFlowError codes of settings that cannot
 * apply or are invalid.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <cmocka.h>
#include <sysflow/sysflow.h>

static void cb(const struct sysflow_header *h, const struct sysflow_container *c,
	       const struct sysflow_process *p, const struct sysflow_file *f1,
	       const struct sysflow_file *f2, const struct sysflow_record *r,
	       void *ctx)
{
	(void)h, (void)c, (void)p, (void)f1, (void)f2, (void)r, (void)ctx;
}

static void test_defaults(void **state)
{
	struct sysflow_config c;

	(void)state;
	memset(&c, 0x5a, sizeof(c));
	sysflow_config_init(&c);
	assert_false(c.filter_containers);
	assert_int_equal(c.rotate_interval, 300);
	assert_int_equal(c.sampling_ratio, 1);
	assert_true(c.enable_process_flow);
	assert_true(c.file_only);
	assert_int_equal(c.file_read_mode, 2);
	assert_true(c.drop_mode);
	assert_int_equal(c.collection_mode, SYSFLOW_MODE_FLOW);
	assert_string_equal(c.app_name, "sysflowlibs");
	assert_int_equal(c.cpu_buffers, 0);
	assert_true(c.module_checks);
	assert_int_equal(c.driver_type, SYSFLOW_DRIVER_CORE_EBPF);
	assert_int_equal(c.compress_level, 1);
	assert_null(c.file_path);
	assert_null(c.callback);
	assert_string_equal(sysflow_driver_version(), sf_version());
}

static void expect(const struct sysflow_config *c, enum sysflow_error_code code,
		   const char *what)
{
	struct sysflow_error err;

	assert_null(sysflow_driver_create(c, &err));
	assert_int_equal(err.code, code);
	if (!strstr(err.message, what))
		fail_msg("message '%s' lacks '%s'", err.message, what);
}

static void test_not_supported(void **state)
{
	struct sysflow_config c;

	(void)state;
	sysflow_config_init(&c);
	c.callback = cb;
	c.driver_type = SYSFLOW_DRIVER_KMOD;
	expect(&c, SYSFLOW_OPERATION_NOT_SUPPORTED, "driverType KMOD");
	c.driver_type = SYSFLOW_DRIVER_CORE_EBPF;
	c.scap_input_path = "/tmp/x.scap";
	expect(&c, SYSFLOW_OPERATION_NOT_SUPPORTED, "scapInputPath");
	c.scap_input_path = NULL;
	c.cri_path = "/run/crio/crio.sock";
	expect(&c, SYSFLOW_OPERATION_NOT_SUPPORTED, "CRI");
	c.cri_path = NULL;
	c.callback = NULL;
	expect(&c, SYSFLOW_OPERATION_NOT_SUPPORTED, "no output");
	assert_string_equal(sysflow_error_name(SYSFLOW_OPERATION_NOT_SUPPORTED),
			    "OperationNotSupported");
	assert_string_equal(sysflow_error_name(SYSFLOW_LIBS_ERROR), "LibsError");
}

static void test_invalid(void **state)
{
	struct sysflow_config c;
	char long_path[5000];

	(void)state;
	sysflow_config_init(&c);
	c.callback = cb;
	c.file_read_mode = 3;
	expect(&c, SYSFLOW_OPERATION_NOT_SUPPORTED, "fileReadMode 3");
	c.file_read_mode = 2;
	c.sampling_ratio = 0;
	expect(&c, SYSFLOW_OPERATION_NOT_SUPPORTED, "samplingRatio 0");
	c.sampling_ratio = 1;
	c.rotate_interval = 0;
	expect(&c, SYSFLOW_OPERATION_NOT_SUPPORTED, "rotateInterval 0");
	c.rotate_interval = 300;
	c.compress_level = 10;
	expect(&c, SYSFLOW_OPERATION_NOT_SUPPORTED, "compress_level 10");
	c.compress_level = 1;
	memset(long_path, 'a', sizeof(long_path) - 1);
	long_path[sizeof(long_path) - 1] = 0;
	c.file_path = long_path;
	expect(&c, SYSFLOW_NAME_TOO_LONG, "path too long");
}

/* More ring buffers than CPUs fails before anything is loaded, and closes
 * nothing it did not open (it used to close fd 0, the caller's stdin).
 */
static void test_cpu_buffers_keep_fds(void **state)
{
	struct sysflow_config c;
	struct sysflow_error err;
	int p[2], saved = dup(0);

	(void)state;
	if (geteuid())
		skip(); /* the privilege check would fail first */
	assert_int_equal(pipe(p), 0);
	assert_int_equal(dup2(p[0], 0), 0);
	sysflow_config_init(&c);
	c.callback = cb;
	c.cpu_buffers = sysconf(_SC_NPROCESSORS_ONLN) + 1;
	assert_null(sysflow_driver_create(&c, &err));
	if (!strstr(err.message, "cpuBuffers"))
		fail_msg("unexpected error: %s", err.message);
	assert_int_not_equal(fcntl(0, F_GETFD), -1);
	dup2(saved, 0);
	close(saved);
	close(p[0]);
	close(p[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_not_supported),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_cpu_buffers_keep_fds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
