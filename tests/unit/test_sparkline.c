/* test_sparkline.c - unit tests of tui/sparkline.c (linked from libpvmtui.a): ASCII,
 * eighth-block and braille ramps, fixed and automatic scales, empty series, unknown
 * values as gaps distinct from zero, width changes, short buffers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "../../tui/sparkline.h"

static char buf[512];

static const char *ascii(const double *v, size_t n, size_t width, double lo, double hi)
{
    pvm_sparkline(v, n, width, PVM_SPARK_ASCII, lo, hi, buf, sizeof buf);
    return buf;
}

static void test_ascii_fixed_scale(void **state)
{
    (void)state;
    const double v[] = {0, 1.0 / 7, 2.0 / 7, 3.0 / 7, 4.0 / 7, 5.0 / 7, 6.0 / 7, 1};
    assert_string_equal(ascii(v, 8, 8, 0, 1), "._-:=+*#");
    /* out of range values are clamped */
    const double w[] = {-3, 7};
    assert_string_equal(ascii(w, 2, 2, 0, 1), ".#");
}

static void test_auto_scale(void **state)
{
    (void)state;
    /* bytes: the top is the largest known sample shown */
    const double v[] = {1000, 2000, 4000};
    assert_string_equal(ascii(v, 3, 3, 0, 0), "-=#"); /* 1000/4000*7 = 1.75 -> 2: level 3, "-" */
    /* all zero: a baseline, not blanks */
    const double z[] = {0, 0, 0};
    assert_string_equal(ascii(z, 3, 3, 0, 0), "...");
    /* the scale follows the window: an old spike beyond the width no longer counts */
    const double s[] = {1e9, 10, 20};
    assert_string_equal(ascii(s, 3, 2, 0, 0), "=#");
}

static void test_empty_and_short(void **state)
{
    (void)state;
    assert_string_equal(ascii(NULL, 0, 4, 0, 1), "    ");
    const double v[] = {1};
    assert_string_equal(ascii(v, 1, 4, 0, 1), "   #"); /* newest at the right */
    assert_int_equal(pvm_sparkline(v, 1, 0, PVM_SPARK_ASCII, 0, 1, buf, sizeof buf), 0);
    assert_string_equal(buf, "");
}

static void test_unknown_is_gap_not_zero(void **state)
{
    (void)state;
    const double v[] = {0, NAN, 0, NAN, 1};
    assert_string_equal(ascii(v, 5, 5, 0, 1), ". . #");
    /* unknowns do not count for the automatic scale */
    const double w[] = {NAN, 50, 100};
    assert_string_equal(ascii(w, 3, 3, 0, 0), " =#");
    /* all unknown: all gaps */
    const double u[] = {NAN, NAN};
    assert_string_equal(ascii(u, 2, 2, 0, 0), "  ");
    pvm_sparkline(u, 2, 2, PVM_SPARK_BLOCKS, 0, 1, buf, sizeof buf);
    assert_string_equal(buf, "  ");
    pvm_sparkline(u, 2, 1, PVM_SPARK_BRAILLE, 0, 1, buf, sizeof buf);
    assert_string_equal(buf, " ");
}

static void test_width_changes(void **state)
{
    (void)state;
    double v[20];
    for (int i = 0; i < 20; i++)
        v[i] = i % 2;
    assert_string_equal(ascii(v, 20, 4, 0, 1), ".#.#");
    assert_string_equal(ascii(v, 20, 7, 0, 1), "#.#.#.#");
    assert_int_equal(strlen(ascii(v, 20, 30, 0, 1)), 30);
    assert_string_equal(ascii(v, 20, 22, 0, 1), "  .#.#.#.#.#.#.#.#.#.#");
}

static void test_blocks(void **state)
{
    (void)state;
    const double v[] = {0, 1, NAN, 0.5};
    size_t n = pvm_sparkline(v, 4, 4, PVM_SPARK_BLOCKS, 0, 1, buf, sizeof buf);
    /* U+2581 lowest, U+2588 full, a space, U+2585 (0.5*7 = 3.5 -> 4 -> level 5) */
    assert_string_equal(buf, "\xe2\x96\x81\xe2\x96\x88 \xe2\x96\x85");
    assert_int_equal(n, 10);
    assert_int_equal(pvm_spark_buf_size(4, PVM_SPARK_BLOCKS), 13);
}

static void test_braille(void **state)
{
    (void)state;
    /* two samples a cell: (0, 1) -> left bottom dot + full right column = U+28C0|0xB8 */
    const double v[] = {0, 1};
    pvm_sparkline(v, 2, 1, PVM_SPARK_BRAILLE, 0, 1, buf, sizeof buf);
    assert_string_equal(buf, "\xe2\xa3\xb8"); /* U+28F8 */
    /* (1, unknown): full left column, empty right half (not a zero dot) = U+2847 */
    const double w[] = {1, NAN};
    pvm_sparkline(w, 2, 1, PVM_SPARK_BRAILLE, 0, 1, buf, sizeof buf);
    assert_string_equal(buf, "\xe2\xa1\x87");
    /* three samples in two cells: the first half-cell is blank, newest at the right */
    const double x[] = {0, 0, 0};
    assert_int_equal(pvm_spark_samples(2, PVM_SPARK_BRAILLE), 4);
    pvm_sparkline(x, 3, 2, PVM_SPARK_BRAILLE, 0, 1, buf, sizeof buf);
    assert_string_equal(buf, "\xe2\xa2\x80\xe2\xa3\x80"); /* U+2880, U+28C0 */
}

static void test_short_buffer(void **state)
{
    (void)state;
    const double v[] = {1, 1, 1, 1};
    char small[8];
    /* blocks: 3 bytes a cell, 8 bytes hold two whole cells and the NUL */
    size_t n = pvm_sparkline(v, 4, 4, PVM_SPARK_BLOCKS, 0, 1, small, sizeof small);
    assert_int_equal(n, 6);
    assert_string_equal(small, "\xe2\x96\x88\xe2\x96\x88");
    assert_int_equal(pvm_sparkline(v, 4, 4, PVM_SPARK_ASCII, 0, 1, small, 1), 0);
    assert_string_equal(small, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ascii_fixed_scale),
        cmocka_unit_test(test_auto_scale),
        cmocka_unit_test(test_empty_and_short),
        cmocka_unit_test(test_unknown_is_gap_not_zero),
        cmocka_unit_test(test_width_changes),
        cmocka_unit_test(test_blocks),
        cmocka_unit_test(test_braille),
        cmocka_unit_test(test_short_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
