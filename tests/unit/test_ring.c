/* test_ring.c - unit tests of engine/ring.c: empty ring, filling, wrap-around,
 * unknown values kept distinct from 0, tails shorter and longer than the history. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>

#include "../../engine/ring.h"

static void test_empty(void **state)
{
    (void)state;
    pvm_ring r;
    pvm_ring_init(&r, 4);
    assert_int_equal(r.count, 0);
    assert_false(pvm_known(pvm_ring_last(&r)));
    assert_false(pvm_known(pvm_ring_at(&r, 0)));
    double out[3] = {1, 2, 3};
    assert_int_equal(pvm_ring_tail(&r, out, 3), 0);
    for (int i = 0; i < 3; i++)
        assert_false(pvm_known(out[i]));
    pvm_ring_free(&r);
}

static void test_fill_and_wrap(void **state)
{
    (void)state;
    pvm_ring r;
    pvm_ring_init(&r, 3);
    pvm_ring_push(&r, 1);
    pvm_ring_push(&r, 2);
    assert_int_equal(r.count, 2);
    assert_true(pvm_ring_at(&r, 0) == 1.0);
    assert_true(pvm_ring_last(&r) == 2.0);
    for (int v = 3; v <= 7; v++)
        pvm_ring_push(&r, v);
    /* capacity 3: the newest three remain, oldest first */
    assert_int_equal(r.count, 3);
    assert_true(pvm_ring_at(&r, 0) == 5.0);
    assert_true(pvm_ring_at(&r, 1) == 6.0);
    assert_true(pvm_ring_at(&r, 2) == 7.0);
    assert_false(pvm_known(pvm_ring_at(&r, 3)));
    assert_true(pvm_ring_last(&r) == 7.0);
    pvm_ring_free(&r);
}

static void test_unknown_is_not_zero(void **state)
{
    (void)state;
    pvm_ring r;
    pvm_ring_init(&r, 8);
    pvm_ring_push(&r, 0.0);
    pvm_ring_push(&r, PVM_UNKNOWN);
    pvm_ring_push(&r, 0.5);
    assert_true(pvm_known(pvm_ring_at(&r, 0)));
    assert_true(pvm_ring_at(&r, 0) == 0.0);
    assert_false(pvm_known(pvm_ring_at(&r, 1)));
    assert_true(pvm_ring_at(&r, 2) == 0.5);
    pvm_ring_free(&r);
}

static void test_tail(void **state)
{
    (void)state;
    pvm_ring r;
    pvm_ring_init(&r, 5);
    for (int v = 1; v <= 7; v++) /* holds 3 4 5 6 7 */
        pvm_ring_push(&r, v);
    double out[8];
    /* shorter than the history: the newest n */
    assert_int_equal(pvm_ring_tail(&r, out, 2), 2);
    assert_true(out[0] == 6.0 && out[1] == 7.0);
    /* longer: padded at the front with unknowns, newest last */
    assert_int_equal(pvm_ring_tail(&r, out, 8), 5);
    for (int i = 0; i < 3; i++)
        assert_false(pvm_known(out[i]));
    for (int i = 0; i < 5; i++)
        assert_true(out[3 + i] == (double)(3 + i));
    assert_int_equal(pvm_ring_tail(&r, out, 0), 0);
    pvm_ring_clear(&r);
    assert_int_equal(r.count, 0);
    assert_false(pvm_known(pvm_ring_last(&r)));
    pvm_ring_free(&r);
}

/* 10 minutes at 500 ms: 1200 slots, the 1201st push drops exactly the oldest. */
static void test_ten_minutes(void **state)
{
    (void)state;
    pvm_ring r;
    pvm_ring_init(&r, 1200);
    for (int i = 0; i < 1201; i++)
        pvm_ring_push(&r, i);
    assert_int_equal(r.count, 1200);
    assert_true(pvm_ring_at(&r, 0) == 1.0);
    assert_true(pvm_ring_last(&r) == 1200.0);
    pvm_ring_free(&r);
}

static void test_zero_capacity(void **state)
{
    (void)state;
    pvm_ring r;
    pvm_ring_init(&r, 0);
    pvm_ring_push(&r, 4);
    pvm_ring_push(&r, 9);
    assert_int_equal(r.count, 1);
    assert_true(pvm_ring_last(&r) == 9.0);
    pvm_ring_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_fill_and_wrap),
        cmocka_unit_test(test_unknown_is_not_zero),
        cmocka_unit_test(test_tail),
        cmocka_unit_test(test_ten_minutes),
        cmocka_unit_test(test_zero_capacity),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
