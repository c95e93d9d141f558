// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_guard_hold.c: unit tests of the table of file operations held for
 * the controller's VERDICT (lib/guard/hold.c): ids find their operation
 * once, stale and forged ids find nothing, a full table refuses, what is
 * past its deadline comes out and everything can be released.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "guard/guard_int.h"

static void test_ids(void **state)
{
	struct guard_holds *h = guard_holds_new(2);
	uint32_t a, b;

	(void)state;
	assert_non_null(h);
	a = guard_holds_add(h, 10, 100);
	b = guard_holds_add(h, 11, 200);
	assert_true(a && b && a != b);
	assert_int_equal(guard_holds_count(h), 2);
	assert_int_equal(guard_holds_add(h, 12, 300), 0); /* full */
	assert_int_equal(guard_holds_take(h, b), 11);
	assert_int_equal(guard_holds_take(h, b), -ENOENT); /* once */
	assert_int_equal(guard_holds_take(h, 0), -ENOENT);
	assert_int_equal(guard_holds_take(h, a + 2), -ENOENT); /* forged */
	assert_int_equal(guard_holds_take(h, a + (1u << 16)), -ENOENT);
	/* the freed slot gets a new id: the old one stays stale */
	assert_int_not_equal(guard_holds_add(h, 13, 400), b);
	assert_int_equal(guard_holds_take(h, b), -ENOENT);
	guard_holds_free(h);
}

/* Ids stay unique per slot across the 16-bit sequence wrapping. */
static void test_wrap(void **state)
{
	struct guard_holds *h = guard_holds_new(3);
	uint32_t id = 0;

	(void)state;
	for (int i = 0; i < 70000; i++) {
		id = guard_holds_add(h, i, 0);
		assert_int_not_equal(id, 0);
		assert_int_equal(guard_holds_take(h, id), i);
	}
	assert_int_equal(guard_holds_take(h, id), -ENOENT);
	guard_holds_free(h);
}

static void test_deadlines(void **state)
{
	struct guard_holds *h = guard_holds_new(8);

	(void)state;
	assert_true(guard_holds_next_deadline(h) == UINT64_MAX);
	guard_holds_add(h, 20, 500);
	guard_holds_add(h, 21, 300);
	guard_holds_add(h, 22, 900);
	assert_true(guard_holds_next_deadline(h) == 300);
	assert_int_equal(guard_holds_take_expired(h, 299), -ENOENT);
	assert_int_equal(guard_holds_take_expired(h, 600), 20);
	assert_int_equal(guard_holds_take_expired(h, 600), 21);
	assert_int_equal(guard_holds_take_expired(h, 600), -ENOENT);
	assert_int_equal(guard_holds_take_any(h), 22);
	assert_int_equal(guard_holds_take_any(h), -ENOENT);
	assert_int_equal(guard_holds_count(h), 0);
	guard_holds_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ids),
		cmocka_unit_test(test_deadlines),
		cmocka_unit_test(test_wrap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
