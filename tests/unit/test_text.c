/* test_text.c - unit tests of pvm_text_lines (engine/base/util.c): how QEMU's and
 * qemu-img's output reaches an error message - whole lines joined with "; ",
 * never a cut inside a line, no newline or control byte. Run by tests/run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "../../engine/base/base.h"

static void test_join_first_and_last(void **state)
{
    (void)state;
    char out[64];
    const char *in = "qemu-img: first\n\n  second line \r\nthird\n";
    assert_string_equal(pvm_text_lines(in, false, out, sizeof out),
                        "qemu-img: first; second line; third");
    /* room for two whole lines only: the first two, or the last two */
    assert_string_equal(pvm_text_lines(in, false, out, 30), "qemu-img: first; second line");
    assert_string_equal(pvm_text_lines(in, true, out, 22), "second line; third");
    assert_string_equal(pvm_text_lines("", false, out, sizeof out), "");
    assert_string_equal(pvm_text_lines(NULL, true, out, sizeof out), "");
    assert_string_equal(pvm_text_lines("a\tb\x1b[31m\n", false, out, sizeof out), "a b [31m");
}

static void test_one_long_line(void **state)
{
    (void)state;
    char out[16];
    pvm_text_lines("0123456789abcdefghijklmnop\nshort\n", false, out, sizeof out);
    assert_string_equal(out, "0123456789ab...");
    pvm_text_lines("short\n0123456789abcdefghijklmnop\n", false, out, sizeof out);
    assert_string_equal(out, "short"); /* never half of the second line */
    assert_null(strchr(out, '\n'));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_join_first_and_last),
        cmocka_unit_test(test_one_long_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
