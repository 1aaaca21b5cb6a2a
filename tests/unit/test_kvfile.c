/* test_kvfile.c - unit tests of engine/base/kvfile.c on real files in a mkdtemp
 * folder: BOM, CRLF, comments, duplicate keys naming both lines, overlong lines,
 * control and non-UTF-8 bytes, FILE:LINE in every error. Run by tests/run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../engine/base/kvfile.h"

typedef struct seen {
    int n;
    char text[1024]; /* "line:key=value;" for every pair */
} seen;

static char g_path[64];

static int collect(void *ctx, const char *path, int line, const char *key, const char *value,
                   pvm_error *err)
{
    seen *s = ctx;
    (void)path;
    if (!strcmp(key, "bad"))
        return pvm_error_set_field(err, PVM_E_INVALID, "bad", "bad: no good");
    s->n++;
    size_t len = strlen(s->text);
    snprintf(s->text + len, sizeof s->text - len, "%d:%s=%s;", line, key, value);
    return 0;
}

static void write_file(const char *bytes, size_t n)
{
    FILE *f = fopen(g_path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, n, f), n);
    fclose(f);
}

static int read_text(const char *text, seen *s, pvm_error *err)
{
    write_file(text, strlen(text));
    memset(s, 0, sizeof *s);
    memset(err, 0, sizeof *err);
    return pvm_kvfile_read(g_path, collect, s, err);
}

/* The error starts with "PATH:LINE: " and holds needle. */
static void assert_error_at(const pvm_error *err, int line, const char *needle)
{
    char head[128];
    snprintf(head, sizeof head, "%s:%d: ", g_path, line);
    if (strncmp(err->msg, head, strlen(head)) != 0 || !strstr(err->msg, needle)) {
        print_error("wanted [%s...%s], got [%s]\n", head, needle, err->msg);
        fail();
    }
    assert_int_equal(err->code, PVM_E_INVALID);
}

static void test_plain_bom_crlf(void **state)
{
    (void)state;
    seen s;
    pvm_error err;
    assert_int_equal(read_text("# c\n\n  a = 1 \nb=two words # kept\n", &s, &err), 0);
    assert_string_equal(s.text, "3:a=1;4:b=two words # kept;");
    assert_int_equal(read_text("\xef\xbb\xbf# written by Notepad\r\na = 1\r\n\r\nb =\r\n", &s,
                               &err), 0);
    assert_string_equal(s.text, "2:a=1;4:b=;");
    assert_int_equal(read_text("a = x", &s, &err), 0); /* no final line end */
    assert_string_equal(s.text, "1:a=x;");
    assert_int_equal(read_text("", &s, &err), 0);
    assert_int_equal(s.n, 0);
    assert_int_equal(read_text("name = caf\xc3\xa9\n", &s, &err), 0); /* UTF-8 is text */
}

static void test_duplicate(void **state)
{
    (void)state;
    seen s;
    pvm_error err;
    assert_int_equal(read_text("a = 1\n# x\nb = 2\na = 3\n", &s, &err), -1);
    assert_error_at(&err, 4, "a is given twice (also on line 1)");
    assert_int_equal(s.n, 0); /* nothing applied from a broken file */
}

static void test_refusals(void **state)
{
    (void)state;
    seen s;
    pvm_error err;
    assert_int_equal(read_text("a = 1\njust words\n", &s, &err), -1);
    assert_error_at(&err, 2, "expected \"key = value\"");
    assert_int_equal(read_text("= 1\n", &s, &err), -1);
    assert_error_at(&err, 1, "missing key");
    assert_int_equal(read_text("a b = 1\n", &s, &err), -1);
    assert_error_at(&err, 1, "may hold only");
    assert_int_equal(read_text("a = 1\nb = \x1b[31m\n", &s, &err), -1);
    assert_error_at(&err, 2, "control byte 0x1b");
    assert_int_equal(read_text("a = \xff\xfe\n", &s, &err), -1);
    assert_error_at(&err, 1, "not UTF-8");
    assert_int_equal(read_text("a = \xc0\xaf\n", &s, &err), -1); /* overlong '/' */
    assert_error_at(&err, 1, "not UTF-8");
    write_file("a = 1\nb\0 = 2\n", 13);
    assert_int_equal(pvm_kvfile_read(g_path, collect, &s, &err), -1);
    assert_error_at(&err, 2, "NUL byte");
    /* a line of exactly the limit passes; one byte more does not */
    char *line = malloc(PVM_KVFILE_LINE_MAX + 8);
    assert_non_null(line);
    memset(line, 'x', PVM_KVFILE_LINE_MAX + 2);
    memcpy(line, "k = ", 4);
    line[PVM_KVFILE_LINE_MAX] = '\n';
    line[PVM_KVFILE_LINE_MAX + 1] = '\0';
    assert_int_equal(read_text(line, &s, &err), 0);
    line[PVM_KVFILE_LINE_MAX] = 'x';
    line[PVM_KVFILE_LINE_MAX + 1] = '\r';
    line[PVM_KVFILE_LINE_MAX + 2] = '\n';
    line[PVM_KVFILE_LINE_MAX + 3] = '\0';
    assert_int_equal(read_text(line, &s, &err), -1);
    assert_error_at(&err, 1, "longer than 1024 bytes");
    free(line);
}

static void test_callback_error_and_missing(void **state)
{
    (void)state;
    seen s;
    pvm_error err;
    assert_int_equal(read_text("a = 1\r\n\r\nbad = 2\n", &s, &err), -1);
    assert_error_at(&err, 3, "bad: no good");
    assert_string_equal(err.field, "bad");
    unlink(g_path);
    assert_int_equal(pvm_kvfile_read(g_path, collect, &s, &err), -1);
    assert_int_equal(err.code, PVM_E_NOTFOUND);
    assert_non_null(strstr(err.msg, g_path));
    /* too big to be a settings file */
    size_t big = PVM_KVFILE_SIZE_MAX + 1;
    char *text = malloc(big);
    assert_non_null(text);
    memset(text, '#', big);
    write_file(text, big);
    free(text);
    assert_int_equal(pvm_kvfile_read(g_path, collect, &s, &err), -1);
    assert_non_null(strstr(err.msg, "larger than"));
}

int main(void)
{
    char dir[] = "/tmp/pvm-test-kvfile-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    snprintf(g_path, sizeof g_path, "%s/file", dir);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_bom_crlf),
        cmocka_unit_test(test_duplicate),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_callback_error_and_missing),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    unlink(g_path);
    rmdir(dir);
    return rc;
}
