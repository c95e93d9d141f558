// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_grow.c: unit tests of the growing arrays and byte buffers
 * (lib/core/grow.c): doubling, the minimum, refusal of sizes that would
 * wrap (in size_t, in bytes, in the capacity's own type), and consuming
 * from the front.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "core/grow.h"

static void test_grow_doubles(void **state)
{
	uint64_t *v = NULL, *before;
	size_t cap = 0;

	(void)state;
	assert_int_equal(grow_array(v, cap, 0, 1, 4), 0);
	assert_int_equal(cap, 4);
	for (size_t i = 0; i < 4; i++)
		v[i] = i * 11;
	assert_int_equal(grow_array(v, cap, 4, 1, 4), 0);
	assert_int_equal(cap, 8);
	/* 8 + 20 needs two doublings */
	assert_int_equal(grow_array(v, cap, 8, 20, 4), 0);
	assert_int_equal(cap, 32);
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(v[i], i * 11);
	/* room already there: nothing moves */
	before = v;
	assert_int_equal(grow_array(v, cap, 10, 22, 4), 0);
	assert_ptr_equal(v, before);
	assert_int_equal(cap, 32);
	assert_int_equal(grow_array(v, cap, 32, 0, 4), 0);
	assert_int_equal(cap, 32);
	free(v);
}

static void test_grow_minimum(void **state)
{
	char *v = NULL;
	size_t cap = 0;

	(void)state;
	assert_int_equal(grow_array(v, cap, 0, 1, 0), 0); /* min 0: from 1 */
	assert_int_equal(cap, 1);
	assert_int_equal(grow_array(v, cap, 1, 1, 0), 0);
	assert_int_equal(cap, 2);
	free(v);
	v = NULL;
	cap = 0;
	assert_int_equal(grow_array(v, cap, 0, 300, 256), 0);
	assert_int_equal(cap, 512);
	free(v);
}

static void test_grow_refuses_overflow(void **state)
{
	uint64_t *v = NULL, *before;
	size_t cap = 0;

	(void)state;
	assert_int_equal(grow_array(v, cap, 0, 8, 8), 0);
	before = v;
	/* a count that does not fit in size_t */
	assert_int_equal(grow_array(v, cap, 0, SIZE_MAX, 8), -EOVERFLOW);
	/* len + more wraps */
	assert_int_equal(grow_array(v, cap, 5, SIZE_MAX - 2, 8), -EOVERFLOW);
	/* fits in size_t, but not once multiplied by 8 bytes */
	assert_int_equal(grow_array(v, cap, 0, SIZE_MAX / 8 + 1, 8),
			 -EOVERFLOW);
	assert_int_equal(grow_array(v, cap, 8, SIZE_MAX / 8 - 7, 8),
			 -EOVERFLOW);
	/* nothing changed: the array is still whole and usable */
	assert_ptr_equal(v, before);
	assert_int_equal(cap, 8);
	v[7] = 7;
	free(v);
}

/* A capacity held in a narrower type stops at that type's largest value. */
static void test_grow_capacity_type(void **state)
{
	uint8_t *small = NULL;
	uint8_t small_cap = 0;
	uint32_t *wide = NULL;
	uint32_t wide_cap = 0;

	(void)state;
	assert_int_equal(grow_array(small, small_cap, 0, 1, 4096), 0);
	assert_int_equal(small_cap, 255); /* the minimum, held at the type */
	free(small);
	small = NULL;
	small_cap = 0;
	assert_int_equal(grow_array(small, small_cap, 0, 100, 64), 0);
	assert_int_equal(small_cap, 128);
	assert_int_equal(grow_array(small, small_cap, 128, 1, 64), 0);
	assert_int_equal(small_cap, 255); /* not 256, which reads as 0 */
	assert_int_equal(grow_array(small, small_cap, 255, 1, 64), -EOVERFLOW);
	assert_int_equal(small_cap, 255);
	small[254] = 1;
	free(small);
	assert_int_equal(grow_array(wide, wide_cap, UINT32_MAX - 1, 2, 8),
			 -EOVERFLOW);
	assert_null(wide);
	assert_int_equal(wide_cap, 0);
}

static void test_drop_front(void **state)
{
	uint8_t b[6] = { 'a', 'b', 'c', 'd', 'e', 'f' };

	(void)state;
	assert_int_equal(grow_drop_front(b, 6, 0), 6);
	assert_memory_equal(b, "abcdef", 6);
	assert_int_equal(grow_drop_front(b, 6, 2), 4);
	assert_memory_equal(b, "cdef", 4);
	assert_int_equal(grow_drop_front(b, 4, 4), 0);
	assert_int_equal(grow_drop_front(b, 3, 10), 0);
	assert_int_equal(grow_drop_front(NULL, 0, 0), 0);
}

static void test_grow_buf(void **state)
{
	struct grow_buf b = {};
	uint8_t big[5000];

	(void)state;
	assert_int_equal(grow_buf_put(&b, "hello ", 6), 0);
	assert_int_equal(b.cap, GROW_BUF_MIN);
	assert_int_equal(grow_buf_put(&b, "world", 5), 0);
	assert_int_equal(b.len, 11);
	assert_memory_equal(b.data, "hello world", 11);
	memset(big, 'x', sizeof(big));
	assert_int_equal(grow_buf_put(&b, big, sizeof(big)), 0);
	assert_int_equal(b.len, 5011);
	assert_int_equal(b.cap, 2 * GROW_BUF_MIN);
	/* a partial write of the first 6 bytes */
	grow_buf_consume(&b, 6);
	assert_int_equal(b.len, 5005);
	assert_memory_equal(b.data, "worldxx", 7);
	assert_int_equal(grow_buf_reserve(&b, 100), 0);
	assert_int_equal(b.cap, 2 * GROW_BUF_MIN); /* there was room */
	/* a length that cannot fit leaves the buffer as it was */
	assert_int_equal(grow_buf_put(&b, big, SIZE_MAX - 10), -EOVERFLOW);
	assert_int_equal(grow_buf_reserve(&b, SIZE_MAX), -EOVERFLOW);
	assert_int_equal(b.len, 5005);
	assert_memory_equal(b.data, "world", 5);
	grow_buf_consume(&b, 9999);
	assert_int_equal(b.len, 0);
	assert_int_equal(grow_buf_put(&b, "", 0), 0);
	grow_buf_free(&b);
	assert_null(b.data);
	assert_int_equal(b.len + b.cap, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grow_doubles),
		cmocka_unit_test(test_grow_minimum),
		cmocka_unit_test(test_grow_refuses_overflow),
		cmocka_unit_test(test_grow_capacity_type),
		cmocka_unit_test(test_drop_front),
		cmocka_unit_test(test_grow_buf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
