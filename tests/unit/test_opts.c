// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_opts.c: the option structs' _init() functions fill every field with
 * the default the headers and docs/library.md give (the numbers are written
 * out here, as in the docs), and an open with nothing else set behaves as
 * documented: the flow monitor's table size, timeouts and protocols, the
 * UMEM's chunks and rings (root only, skipped otherwise), the sessions'
 * timers. A zeroed struct resolves to the same values.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <sysflow/sysflow.h>
#include <sysflow/controller.h>
#include "flow/flowmon_int.h"
#include "proto/session.h"
#include "xsk/xsk_int.h"

/* Garbage first, so that a field init() forgets shows. */
#define SCRIBBLE(o) memset(&(o), 0xa5, sizeof(o))

/* ---- init() fills the documented defaults ---- */

static void test_flowmon_init(void **state)
{
	struct sf_flowmon_opts o;

	(void)state;
	SCRIBBLE(o);
	sf_flowmon_opts_init(&o);
	assert_int_equal(o.pipeline, SF_PIPELINE_SINGLE);
	assert_int_equal(o.protocols, SF_PROTO_ALL);
	assert_false(o.dpi);
	assert_int_equal(o.max_flows, 65536);
	assert_null(o.pin_dir);
	assert_null(o.reuse_map);
	assert_false(o.offline);
	assert_int_equal(o.idle_timeout_s, 15);
	assert_int_equal(o.active_timeout_s, 1800);
}

static void test_route_init(void **state)
{
	struct sf_route_opts o;

	(void)state;
	SCRIBBLE(o);
	sf_route_opts_init(&o);
	assert_string_equal(o.pin_dir, "/sys/fs/bpf/sysflow/route");
}

static void test_tracepkt_init(void **state)
{
	struct sf_tracepkt_opts o;

	(void)state;
	SCRIBBLE(o);
	sf_tracepkt_opts_init(&o);
	assert_null(o.filter);
	assert_null(o.ifname);
	assert_int_equal(o.netns, 0);
	assert_false(o.match_mark);
	assert_int_equal(o.mark, 0);
	assert_int_equal(o.mark_mask, UINT32_MAX);
	assert_int_equal(o.max_packets, 0);
	assert_false(o.no_btf);
	assert_int_equal(o.hooks, 0);
}

static void assert_umem_defaults(const struct sf_xsk_umem_opts *u)
{
	assert_int_equal(u->chunk_size, 2048);
	assert_int_equal(u->chunk_count, 4096); /* the four rings' stock */
	assert_int_equal(u->fill_size, 1024);
	assert_int_equal(u->comp_size, 1024);
}

static void test_xsk_init(void **state)
{
	struct sf_xsk_umem_opts u;
	struct sf_xsk_opts o;

	(void)state;
	SCRIBBLE(u);
	sf_xsk_umem_opts_init(&u);
	assert_umem_defaults(&u);
	SCRIBBLE(o);
	sf_xsk_opts_init(&o);
	assert_int_equal(o.queue, 0);
	assert_null(o.umem);
	assert_umem_defaults(&o.umem_opts);
	assert_int_equal(o.rx_size, 1024);
	assert_int_equal(o.tx_size, 1024);
	assert_int_equal(sf_xsk_chunks_needed(&o), o.umem_opts.chunk_count);
	assert_int_equal(o.attach, SF_XSK_ATTACH_AUTO);
	assert_int_equal(o.copy, SF_XSK_COPY_AUTO);
	assert_false(o.no_need_wakeup);
	assert_false(o.busy_poll);
	assert_int_equal(o.busy_poll_budget, 64);
	assert_null(o.filters);
	assert_int_equal(o.n_filters, 0);
}

static void test_agent_init(void **state)
{
	struct sf_agent_opts o;

	(void)state;
	SCRIBBLE(o);
	sf_agent_opts_init(&o);
	assert_null(o.host);
	assert_null(o.port);
	assert_string_equal(o.pin_dir, "/sys/fs/bpf/sysflow/guard");
	assert_null(o.cgroup);
	assert_null(o.watch);
	assert_int_equal(o.n_watch, 0);
	assert_int_equal(o.fail_mode, SF_FAIL_SECURE);
	for (int i = 0; i < SF_CLASS_COUNT; i++)
		assert_int_equal(o.miss[i], SF_MISS_ALLOW);
	assert_int_equal(o.echo_interval_ms, 5000);
	assert_int_equal(o.dead_interval_ms, 15000);
	assert_int_equal(o.backoff_max_ms, 30000);
	assert_int_equal(o.event_rate, 1000);
	assert_int_equal(o.ask_timeout_ms, 100);
	assert_int_equal(o.ask_max, 1024);
	assert_null(o.tls_cert);
	assert_null(o.tls_key);
	assert_null(o.tls_ca);
	assert_null(o.host_id);
	assert_false(o.unload_on_exit);
}

static void test_ctrl_init(void **state)
{
	struct sf_ctrl_opts o;

	(void)state;
	SCRIBBLE(o);
	sf_ctrl_opts_init(&o);
	assert_null(o.listen_host);
	assert_string_equal(o.port, "6653");
	assert_int_equal(atoi(SF_CTRL_PORT), SFP_DEFAULT_PORT);
	assert_null(o.ctl_path);
	assert_null(o.tls_cert);
	assert_null(o.tls_key);
	assert_null(o.tls_ca);
	assert_int_equal(o.echo_interval_ms, 5000);
	assert_int_equal(o.dead_interval_ms, 15000);
	assert_null(o.policy_file);
	assert_null(o.dlp_file);
	assert_string_equal(o.dlp_action, "isolate");
	assert_null(o.acl_file);
	assert_null(o.app_paths);
	assert_int_equal(o.n_app_paths, 0);
	assert_null(o.app_args);
}

/* ---- open with the defaults, and with zeros ---- */

/* The table, timeouts and protocols a flow monitor opened with opts got. */
static void assert_flowmon_opened(const struct sf_flowmon_opts *opts)
{
	struct sf_flowmon *fm;
	int err = 0;

	fm = sf_flowmon_open(opts, &err);
	assert_non_null(fm);
	assert_int_equal(err, 0);
	assert_int_equal(bpf_map__max_entries(fm->skel->maps.flows), 65536);
	assert_int_equal(fm->skel->rodata->targ_protocols, SF_PROTO_ALL);
	assert_int_equal(fm->opts.idle_timeout_s, 15);
	assert_int_equal(fm->opts.active_timeout_s, 1800);
	assert_int_equal(fm->n_links, 0); /* nothing attached */
	assert_int_equal(fm->pin_flows[0], 0); /* nothing pinned */
	sf_flowmon_close(fm);
}

static void test_flowmon_open_defaults(void **state)
{
	struct sf_flowmon_opts o;

	(void)state;
	if (geteuid())
		skip();
	sf_flowmon_opts_init(&o);
	assert_flowmon_opened(&o);
	memset(&o, 0, sizeof(o));
	assert_flowmon_opened(&o);
}

static void assert_umem_created(const struct sf_xsk_umem_opts *opts)
{
	struct sf_xsk_umem *u;
	int err = 0;

	u = sf_xsk_umem_create(opts, &err);
	assert_non_null(u);
	assert_int_equal(sf_xsk_umem_size(u), 4096);
	assert_int_equal(sf_xsk_umem_free_count(u), 4096);
	assert_int_equal(u->chunk_size, 2048);
	assert_int_equal(u->fill_size, 1024);
	assert_int_equal(u->comp_size, 1024);
	assert_int_equal(sf_xsk_umem_destroy(u), 0);
}

static void test_umem_create_defaults(void **state)
{
	struct sf_xsk_umem_opts o;

	(void)state;
	if (geteuid())
		skip();
	sf_xsk_umem_opts_init(&o);
	assert_umem_created(&o);
	memset(&o, 0, sizeof(o));
	assert_umem_created(&o);
	assert_umem_created(NULL);
}

/* Agent and controller sessions take the timers of their options; the
 * defaults are those of a session given 0.
 */
static void test_session_timers(void **state)
{
	struct sf_agent_opts a;
	struct sf_ctrl_opts c;
	struct sf_session s, zero;
	struct sf_conn conn = { .fd = -1 };

	(void)state;
	sf_agent_opts_init(&a);
	sf_ctrl_opts_init(&c);
	sf_session_init(&zero, &conn, 0, 0);
	assert_int_equal(zero.echo_ms, 5000);
	assert_int_equal(zero.dead_ms, 15000);
	sf_session_init(&s, &conn, a.echo_interval_ms, a.dead_interval_ms);
	assert_memory_equal(&s, &zero, sizeof(s));
	sf_session_init(&s, &conn, c.echo_interval_ms, c.dead_interval_ms);
	assert_memory_equal(&s, &zero, sizeof(s));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flowmon_init),
		cmocka_unit_test(test_route_init),
		cmocka_unit_test(test_tracepkt_init),
		cmocka_unit_test(test_xsk_init),
		cmocka_unit_test(test_agent_init),
		cmocka_unit_test(test_ctrl_init),
		cmocka_unit_test(test_flowmon_open_defaults),
		cmocka_unit_test(test_umem_create_defaults),
		cmocka_unit_test(test_session_timers),
	};

	sf_log_quiet_libbpf(true);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
