// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_xsk.c: unit tests of libsysflow's AF_XDP part that need no network
 * device: option checks of sf_xsk_open() and sf_xsk_umem_create() (they
 * fail before anything is bound or attached), the pool's LIFO stack, and
 * the XDP redirect program run with BPF_PROG_TEST_RUN on crafted frames
 * (which filter selects what; root only, skipped otherwise).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sysflow/sysflow.h>
#include "xsk/xsk_int.h"
#include "xsk_redirect.skel.h"

/* ---- sf_xsk_open() and sf_xsk_umem_create() refuse bad options ---- */

static void test_open_checks(void **state)
{
	struct sf_xsk_filter f[SF_XSK_MAX_FILTERS + 1] = {};
	struct sf_xsk_opts o = {};
	int err = 0;

	(void)state;
	assert_null(sf_xsk_open("nosuch0", &o, &err));
	assert_int_equal(err, -ENODEV);
	assert_null(sf_xsk_open(NULL, &o, &err));
	assert_int_equal(err, -EINVAL);
	o.queue = 5; /* lo has one queue */
	assert_null(sf_xsk_open("lo", &o, &err));
	assert_int_equal(err, -EINVAL);
	o.queue = 0;
	o.rx_size = 1000;
	assert_null(sf_xsk_open("lo", &o, &err));
	assert_int_equal(err, -EINVAL);
	o.rx_size = 0;
	o.tx_size = 3;
	assert_null(sf_xsk_open("lo", &o, &err));
	assert_int_equal(err, -EINVAL);
	o.tx_size = 0;
	o.filters = f;
	o.n_filters = SF_XSK_MAX_FILTERS + 1;
	assert_null(sf_xsk_open("lo", &o, &err));
	assert_int_equal(err, -EINVAL);
	o.filters = NULL;
	o.n_filters = 1;
	assert_null(sf_xsk_open("lo", &o, &err));
	assert_int_equal(err, -EINVAL);
	o.n_filters = 0;
	o.umem_opts.fill_size = 1000;
	assert_null(sf_xsk_open("lo", &o, &err));
	assert_int_equal(err, -EINVAL);
}

static void test_umem_checks(void **state)
{
	const struct sf_xsk_umem_opts bad[] = {
		{ .chunk_size = 3000 },	   { .chunk_size = 1024 },
		{ .chunk_size = 1 << 16 }, { .fill_size = 1000 },
		{ .comp_size = 6 },	   { .chunk_count = 1U << 30 },
	};
	int err = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_null(sf_xsk_umem_create(&bad[i], &err));
		assert_int_equal(err, -EINVAL);
	}
	assert_int_equal(sf_xsk_umem_destroy(NULL), 0);
}

/* The stock a socket's rings need: each ring's size, 0 its default. */
static void test_chunks_needed(void **state)
{
	struct sf_xsk_opts o = {};

	(void)state;
	assert_int_equal(sf_xsk_chunks_needed(&o), 4 * SF_XSK_RING_SIZE);
	o.rx_size = 4096;
	o.tx_size = 16;
	o.umem_opts.fill_size = 2048;
	o.umem_opts.comp_size = 32;
	assert_int_equal(sf_xsk_chunks_needed(&o), 4096 + 16 + 2048 + 32);
	o.tx_size = 0;
	assert_int_equal(sf_xsk_chunks_needed(&o),
			 4096 + SF_XSK_RING_SIZE + 2048 + 32);
}

/* A UMEM registers with the kernel (an AF_XDP socket: CAP_NET_RAW). */
static void test_umem_create(void **state)
{
	struct sf_xsk_umem_opts o = { .chunk_count = 64,
				      .fill_size = 32,
				      .comp_size = 32 };
	struct sf_xsk_umem *u;
	int err = 0;

	(void)state;
	if (geteuid())
		skip();
	u = sf_xsk_umem_create(&o, &err);
	assert_non_null(u);
	assert_int_equal(sf_xsk_umem_free_count(u), 64);
	assert_int_equal(sf_xsk_umem_size(u), 64);
	assert_int_equal(sf_xsk_umem_destroy(u), 0);
}

/* The free stack: last in, first out; any address of a chunk frees it;
 * a push onto a full stack is refused and counted.
 */
static void test_pool_lifo(void **state)
{
	uint64_t stack[4], a;
	struct sf_xsk_umem u = { .chunk_size = 2048,
				 .chunk_count = 4,
				 .stack = stack };

	(void)state;
	assert_false(xsk_pool_get(&u, &a));
	xsk_pool_put(&u, 0);
	xsk_pool_put(&u, 2048 + 256); /* a frame inside chunk 1 */
	xsk_pool_put(&u, 3 * 2048 + 2047);
	assert_true(xsk_pool_get(&u, &a));
	assert_int_equal(a, 3 * 2048);
	assert_true(xsk_pool_get(&u, &a));
	assert_int_equal(a, 2048);
	for (int i = 0; i < 5; i++)
		xsk_pool_put(&u, i * 2048);
	assert_int_equal(u.n_free, 4);
	assert_int_equal(u.double_frees, 2);
}

/* ---- the XDP program under BPF_PROG_TEST_RUN ---- */

static uint8_t frame[128];

static size_t eth(uint16_t type)
{
	memset(frame, 0, sizeof(frame));
	memset(frame, 0xff, 6);
	frame[6] = 2;
	frame[12] = type >> 8;
	frame[13] = type;
	return 14;
}

static size_t arp(uint16_t op)
{
	size_t o = eth(0x0806);

	frame[o + 1] = 1; /* Ethernet */
	frame[o + 2] = 0x08; /* IPv4 */
	frame[o + 4] = 6;
	frame[o + 5] = 4;
	frame[o + 7] = op;
	return o + 28;
}

/* IPv4 (frag_off given) or IPv6, then 8 bytes of L4 whose first two
 * words are the "ports" (ICMP: type, code).
 */
static size_t ip_l4(int version, uint8_t proto, uint16_t frag_off, uint8_t b0,
		    uint8_t b1, uint16_t dport)
{
	size_t o = eth(version == 4 ? 0x0800 : 0x86dd), l4;

	if (version == 4) {
		frame[o] = 0x45;
		frame[o + 3] = 20 + 20;
		frame[o + 6] = frag_off >> 8;
		frame[o + 7] = frag_off;
		frame[o + 8] = 64;
		frame[o + 9] = proto;
		l4 = o + 20;
	} else {
		frame[o] = 0x60;
		frame[o + 5] = 20;
		frame[o + 6] = proto;
		frame[o + 7] = 64;
		l4 = o + 40;
	}
	frame[l4] = b0;
	frame[l4 + 1] = b1;
	frame[l4 + 2] = dport >> 8;
	frame[l4 + 3] = dport;
	frame[l4 + 4] = 0; /* UDP length / TCP seq */
	frame[l4 + 5] = 20;
	frame[l4 + 12] = 0x50; /* TCP data offset 5 */
	return l4 + 20;
}

static struct xsk_redirect_bpf *load(const struct sf_xsk_filter *f, uint32_t n)
{
	struct xsk_redirect_bpf *s = xsk_redirect_bpf__open();

	assert_non_null(s);
	s->rodata->targ_nfilters = n;
	for (uint32_t i = 0; i < n; i++) {
		struct xsk_filter *t =
			(struct xsk_filter *)&s->rodata->targ_filters[i];

		t->eth_proto = f[i].eth_proto;
		t->ip_proto = f[i].ip_proto;
		t->port = f[i].port;
		t->match = (f[i].eth_proto ? XSK_MATCH_ETH : 0) |
			   (f[i].ip_proto ? XSK_MATCH_IP_PROTO : 0) |
			   (f[i].match_port ? XSK_MATCH_PORT : 0);
	}
	assert_int_equal(bpf_map__set_max_entries(s->maps.xsks, 1), 0);
	assert_int_equal(xsk_redirect_bpf__load(s), 0);
	return s;
}

static uint64_t stat_sum(struct xsk_redirect_bpf *s, uint32_t k)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t vals[ncpu], sum = 0;

	assert_int_equal(
		bpf_map_lookup_elem(bpf_map__fd(s->maps.stats), &k, vals), 0);
	for (int c = 0; c < ncpu; c++)
		sum += vals[c];
	return sum;
}

/* Run the frame; return which counter moved (the action is XDP_PASS
 * either way: no socket is in the map).
 */
static int run(struct xsk_redirect_bpf *s, size_t len)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = len,
		    .repeat = 1);
	uint64_t before[XSK_STAT_MAX];
	int moved = -1;

	for (uint32_t k = 0; k < XSK_STAT_MAX; k++)
		before[k] = stat_sum(s, k);
	assert_int_equal(bpf_prog_test_run_opts(
				 bpf_program__fd(s->progs.xdp_to_xsk), &o),
			 0);
	assert_int_equal(o.retval, 2 /* XDP_PASS */);
	for (uint32_t k = 0; k < XSK_STAT_MAX; k++) {
		if (stat_sum(s, k) == before[k] + 1) {
			assert_int_equal(moved, -1);
			moved = k;
		}
	}
	assert_int_not_equal(moved, -1);
	return moved;
}

/* The echo's filters (cmd/echo.c). */
static const struct sf_xsk_filter echo[] = {
	{ .eth_proto = 0x0806, .match_port = true, .port = 1 },
	{ .eth_proto = 0x0800, .ip_proto = 1, .match_port = true, .port = 8 },
	{ .eth_proto = 0x86dd, .ip_proto = 58, .match_port = true, .port = 128 },
	{ .eth_proto = 0x86dd, .ip_proto = 58, .match_port = true, .port = 135 },
	{ .ip_proto = 17, .match_port = true, .port = 7 },
};

#define SELECTED XSK_STAT_NO_SOCKET /* steered, but the queue is empty */
#define PASSED XSK_STAT_PASSED

static void test_prog_filters(void **state)
{
	struct xsk_redirect_bpf *s;

	(void)state;
	if (geteuid())
		skip();
	s = load(echo, sizeof(echo) / sizeof(echo[0]));
	assert_int_equal(run(s, arp(1)), SELECTED);
	assert_int_equal(run(s, arp(2)), PASSED);
	assert_int_equal(run(s, ip_l4(4, 1, 0, 8, 0, 0)), SELECTED);
	assert_int_equal(run(s, ip_l4(4, 1, 0, 0, 0, 0)), PASSED);
	assert_int_equal(run(s, ip_l4(4, 17, 0, 0x9c, 0x40, 7)), SELECTED);
	assert_int_equal(run(s, ip_l4(6, 17, 0, 0x9c, 0x40, 7)), SELECTED);
	assert_int_equal(run(s, ip_l4(4, 17, 0, 0x9c, 0x40, 9)), PASSED);
	assert_int_equal(run(s, ip_l4(4, 6, 0, 0x9c, 0x40, 7)), PASSED);
	assert_int_equal(run(s, ip_l4(6, 58, 0, 128, 0, 0)), SELECTED);
	assert_int_equal(run(s, ip_l4(6, 58, 0, 135, 0, 0)), SELECTED);
	assert_int_equal(run(s, ip_l4(6, 58, 0, 136, 0, 0)), PASSED);
	assert_int_equal(run(s, ip_l4(6, 58, 0, 134, 0, 0)), PASSED);
	/* Fragments have no port: the stack reassembles them. */
	assert_int_equal(run(s, ip_l4(4, 17, 0x2000, 0x9c, 0x40, 7)), PASSED);
	assert_int_equal(run(s, ip_l4(4, 17, 0x0010, 0x9c, 0x40, 7)), PASSED);
	/* Truncated frames are never selected. */
	assert_int_equal(run(s, 16), PASSED);
	ip_l4(4, 17, 0, 0x9c, 0x40, 7);
	assert_int_equal(run(s, 14 + 20 + 3), PASSED);
	xsk_redirect_bpf__destroy(s);
}

static void test_prog_ethertype_and_proto(void **state)
{
	const struct sf_xsk_filter f[] = {
		{ .eth_proto = 0x88cc }, /* LLDP */
		{ .ip_proto = 6 }, /* any TCP */
	};
	struct xsk_redirect_bpf *s;

	(void)state;
	if (geteuid())
		skip();
	s = load(f, 2);
	eth(0x88cc);
	assert_int_equal(run(s, 60), SELECTED);
	assert_int_equal(run(s, ip_l4(4, 6, 0, 1, 2, 80)), SELECTED);
	assert_int_equal(run(s, ip_l4(6, 6, 0x2000, 1, 2, 443)), SELECTED);
	assert_int_equal(run(s, ip_l4(4, 17, 0, 1, 2, 80)), PASSED);
	assert_int_equal(run(s, arp(1)), PASSED);
	xsk_redirect_bpf__destroy(s);
}

/* No filters: every frame, even a runt, goes to the queue's socket. */
static void test_prog_all(void **state)
{
	struct xsk_redirect_bpf *s;

	(void)state;
	if (geteuid())
		skip();
	s = load(NULL, 0);
	assert_int_equal(run(s, arp(2)), SELECTED);
	assert_int_equal(run(s, ip_l4(4, 17, 0, 0, 0, 9)), SELECTED);
	assert_int_equal(run(s, 14), SELECTED);
	xsk_redirect_bpf__destroy(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_checks),
		cmocka_unit_test(test_umem_checks),
		cmocka_unit_test(test_chunks_needed),
		cmocka_unit_test(test_umem_create),
		cmocka_unit_test(test_pool_lifo),
		cmocka_unit_test(test_prog_filters),
		cmocka_unit_test(test_prog_ethertype_and_proto),
		cmocka_unit_test(test_prog_all),
	};

	sf_log_init();
	sf_log_quiet_libbpf(true);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
