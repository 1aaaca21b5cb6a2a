/* test_text.c - unit tests of pvm_text_lines (engine/base/util.c): how QEMU's and
 * qemu-img's output reaches an error message - whole lines joined with "; ",
 * never a cut inside a line, no newline or control byte. Run by tests/run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../engine/base/base.h"
#include "../../engine/pvm.h"

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

/* pvm_escape_ctl: a guest's string printed on a terminal carries no control byte. */
static void test_escape_ctl(void **state)
{
    (void)state;
    char out[64];
    assert_string_equal(pvm_escape_ctl("pci 0000:00:02.0", out, sizeof out), "pci 0000:00:02.0");
    assert_string_equal(pvm_escape_ctl("a\x1b[2Jb\x07\n\x7f", out, sizeof out),
                        "a\\x1b[2Jb\\x07\\x0a\\x7f");
    /* C1 as UTF-8 (CSI U+009B), a lone 8-bit CSI byte, a cut sequence, a backslash */
    assert_string_equal(pvm_escape_ctl("x\xc2\x9b" "31m\x9b\xc3", out, sizeof out),
                        "x\\u009b31m\\x9b\\xc3");
    assert_string_equal(pvm_escape_ctl("a\\b", out, sizeof out), "a\\\\b");
    /* other UTF-8 is kept: e with acute (U+00E9), NBSP (U+00A0), the euro sign */
    assert_string_equal(pvm_escape_ctl("caf\xc3\xa9\xc2\xa0\xe2\x82\xac", out, sizeof out),
                        "caf\xc3\xa9\xc2\xa0\xe2\x82\xac");
    /* never half an escape: 5 bytes of room hold "ab" and not "\x1b" */
    assert_string_equal(pvm_escape_ctl("ab\x1b", out, 5), "ab");
    assert_string_equal(pvm_escape_ctl("ab\x1b", out, 7), "ab\\x1b");
    assert_string_equal(pvm_escape_ctl(NULL, out, sizeof out), "");
}

/* Names in suggested commands: plain words as they are, others one single-quoted word. */
static void test_shell_word(void **state)
{
    (void)state;
    char out[64];
    assert_string_equal(pvm_shell_word("web-1", out, sizeof out), "web-1");
    assert_string_equal(pvm_shell_word("/tmp/a_b.c:1=2@3%4+5,6", out, sizeof out),
                        "/tmp/a_b.c:1=2@3%4+5,6");
    assert_string_equal(pvm_shell_word("my box", out, sizeof out), "'my box'");
    assert_string_equal(pvm_shell_word("it's", out, sizeof out), "'it'\\''s'");
    assert_string_equal(pvm_shell_word("$(rm -rf x)", out, sizeof out), "'$(rm -rf x)'");
    assert_string_equal(pvm_shell_word("", out, sizeof out), "''");
    assert_string_equal(pvm_shell_word("a\nb", out, sizeof out), "'a\nb'");
    char small[6];
    assert_string_equal(pvm_shell_word("ab cdef", small, sizeof small), "'ab '"); /* cut, closed */
    assert_string_equal(pvm_shell_word("x'y", small, sizeof small), "'x'"); /* never half an escape */
}

/* The umask read without changing it. */
static void test_umask_read(void **state)
{
    (void)state;
    mode_t was = umask(027);
    assert_int_equal(pvm_umask(), 027);
    assert_int_equal(pvm_umask(), 027); /* reading left it as it was */
    umask(077);
    assert_int_equal(pvm_umask(), 077);
    umask(was);
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

/* pvm_write_file_atomic: the whole new text replaces the old, no temporary file stays. */
static void test_write_file_atomic(void **state)
{
    (void)state;
    char dir[] = "/tmp/pvm-atomic-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64], buf[32] = "";
    snprintf(path, sizeof path, "%s/f", dir);
    assert_int_equal(pvm_write_file_atomic(path, "old\n"), 0);
    assert_int_equal(pvm_write_file_atomic(path, "new text\n"), 0);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    assert_non_null(fgets(buf, sizeof buf, f));
    fclose(f);
    assert_string_equal(buf, "new text\n");
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] != '.';
    closedir(d);
    assert_int_equal(n, 1); /* only f */
    char missing[80];
    snprintf(missing, sizeof missing, "%s/no/such", dir);
    assert_int_equal(pvm_write_file_atomic(missing, "x"), -1);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_join_first_and_last),
        cmocka_unit_test(test_one_long_line),
        cmocka_unit_test(test_escape_ctl),
        cmocka_unit_test(test_shell_word),
        cmocka_unit_test(test_umask_read),
        cmocka_unit_test(test_write_file_atomic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
