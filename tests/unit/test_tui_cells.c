/* test_tui_cells.c - unit tests of tui/cells.c, the columns text takes as the TUI draws
 * it: UTF-8 letters with accents are 1 column in 2 bytes, CJK 2 columns, bad bytes and
 * controls 1 ('?'); padding and cutting go by columns, so the audit window's cells line
 * up whatever the guest's values hold; without a UTF-8 locale every byte is a column.
 * Run by tests/run (plain and ASan+UBSan). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "../../tui/cells.h"

static int utf8_locale(void **state)
{
    (void)state;
    return setlocale(LC_ALL, "C.UTF-8") ? 0 : -1; /* a missing locale fails the group */
}

static void test_width_counts_columns_not_bytes(void **state)
{
    (void)state;
    assert_int_equal(tui_text_width(""), 0);
    assert_int_equal(tui_text_width("Dell Inc."), 9);
    assert_int_equal(tui_text_width("Soci\xc3\xa9t\xc3\xa9 G\xc3\xa9n\xc3\xa9rale"), 16); /* 20 bytes */
    assert_int_equal(tui_text_width("\xe6\x97\xa5\xe6\x9c\xac"), 4);       /* two CJK: 2 each */
    assert_int_equal(tui_text_width("\xe2\x80\xa6"), 1);                   /* the ellipsis */
    assert_int_equal(tui_text_width("a\x01" "b"), 3);                      /* control: '?' */
    assert_int_equal(tui_text_width("a\xff" "b"), 3);                      /* bad byte: '?' */
    assert_int_equal(tui_text_width("a\xc3"), 2);                          /* cut sequence */
    assert_int_equal(tui_text_width("e\xcc\x81"), 2); /* a combining accent is drawn as '?' */
}

static void test_cell_next_says_what_is_drawn(void **state)
{
    (void)state;
    mbstate_t st;
    memset(&st, 0, sizeof st);
    wchar_t wc;
    size_t len;
    assert_int_equal(tui_cell_next("\xc3\xa9x", true, &st, &wc, &len), 1);
    assert_int_equal(len, 2);
    assert_int_equal(wc, 0xe9);
    assert_int_equal(tui_cell_next("\xe6\x97\xa5", true, &st, &wc, &len), 2);
    assert_int_equal(len, 3);
    assert_int_equal(tui_cell_next("\x1b[", true, &st, &wc, &len), 1);
    assert_int_equal(wc, L'?');
    assert_int_equal(len, 1);
    assert_int_equal(tui_cell_next("\xc3\xa9", false, &st, &wc, &len), 1); /* no UTF-8 */
    assert_int_equal(wc, L'?');
    assert_int_equal(len, 1);
}

static void test_pad_goes_by_columns(void **state)
{
    (void)state;
    char out[64];
    assert_string_equal(tui_pad("Soci\xc3\xa9t\xc3\xa9", 10, out, sizeof out),
                        "Soci\xc3\xa9t\xc3\xa9   "); /* 7 columns + 3 blanks, 12 bytes */
    assert_string_equal(tui_pad("abc", 3, out, sizeof out), "abc");
    assert_string_equal(tui_pad("abcdef", 3, out, sizeof out), "abcdef"); /* wider: whole */
    assert_string_equal(tui_pad("\xe6\x97\xa5", 3, out, sizeof out), "\xe6\x97\xa5 ");
    char small[4];
    assert_string_equal(tui_pad("\xc3\xa9\xc3\xa9", 5, small, sizeof small), "\xc3\xa9 ");
    /* never half a character: 3 bytes of room hold one é and a blank */
}

static void test_fit_cuts_by_columns(void **state)
{
    (void)state;
    char out[64];
    const char *v = "Soci\xc3\xa9t\xc3\xa9 G\xc3\xa9n\xc3\xa9rale";
    assert_ptr_equal(tui_fit(v, 16, out, sizeof out), v); /* fits: itself */
    assert_string_equal(tui_fit(v, 8, out, sizeof out), "Soci\xc3\xa9t\xc3\xa9\xe2\x80\xa6");
    assert_int_equal(tui_text_width(out), 8);
    /* a wide character that would straddle the edge is left out */
    assert_string_equal(tui_fit("a\xe6\x97\xa5\xe6\x9c\xac" "b", 4, out, sizeof out),
                        "a\xe6\x97\xa5\xe2\x80\xa6");
}

/* The point of it all: rows whose guest values hold UTF-8 start their verdicts at the
 * same column as ASCII rows (the audit window, vmwork.c). */
static void test_audit_cells_align(void **state)
{
    (void)state;
    const char *rows[][3] = {
        {"dmi sys_vendor", "Dell Inc.", "Dell Inc."},
        {"dmi board_vendor", "Soci\xc3\xa9t\xc3\xa9 G\xc3\xa9n\xc3\xa9rale", "Dell Inc."},
        {"dmi product_name", "\xe6\x97\xa5\xe6\x9c\xac PC", "Latitude 7520"},
        {"dmi bios_vendor", "Fabricant tr\xc3\xa8s tr\xc3\xa8s tr\xc3\xa8s long", "Dell"},
        {"dmi chassis", "bad\xff" "byte", ""},
    };
    int ww = 16, gw = 18, pw = 13;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char out[512];
        tui_audit_cells(rows[i][0], rows[i][1], rows[i][2], ww, gw, pw, out, sizeof out);
        assert_int_equal(tui_text_width(out), ww + gw + pw + 6);
        /* the guest's cell starts at ww + 2 and the profile's at ww + gw + 4, in columns */
        assert_int_equal(tui_text_width(out) - tui_text_width(tui_skip_cols(out, ww + 2)),
                         ww + 2);
        const char *profile = tui_skip_cols(out, ww + gw + 4);
        assert_int_equal(strncmp(profile, rows[i][2], strlen(rows[i][2])), 0);
    }
}

static void test_skip_cols(void **state)
{
    (void)state;
    const char *s = "\xe6\x97\xa5\xe6\x9c\xac" "x";
    assert_ptr_equal(tui_skip_cols(s, 0), s);
    assert_ptr_equal(tui_skip_cols(s, 2), s + 3);
    assert_ptr_equal(tui_skip_cols(s, 1), s + 3); /* a straddling wide character goes whole */
    assert_ptr_equal(tui_skip_cols(s, 4), s + 6);
    assert_ptr_equal(tui_skip_cols(s, 99), s + 7);
    const char *e = "\xc3\xa9t\xc3\xa9";
    assert_ptr_equal(tui_skip_cols(e, 2), e + 3);
}

/* Without a UTF-8 locale the drawing shows each byte >= 0x80 as '?': a column each. */
static void test_c_locale_counts_bytes(void **state)
{
    (void)state;
    assert_non_null(setlocale(LC_ALL, "C"));
    assert_int_equal(tui_text_width("Soci\xc3\xa9t\xc3\xa9"), 9);
    char out[32];
    assert_string_equal(tui_pad("\xc3\xa9", 3, out, sizeof out), "\xc3\xa9 ");
    assert_string_equal(tui_fit("abcdefghij", 6, out, sizeof out), "abc...");
    assert_non_null(setlocale(LC_ALL, "C.UTF-8"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_width_counts_columns_not_bytes),
        cmocka_unit_test(test_cell_next_says_what_is_drawn),
        cmocka_unit_test(test_pad_goes_by_columns),
        cmocka_unit_test(test_fit_cuts_by_columns),
        cmocka_unit_test(test_audit_cells_align),
        cmocka_unit_test(test_skip_cols),
        cmocka_unit_test(test_c_locale_counts_bytes),
    };
    return cmocka_run_group_tests(tests, utf8_locale, NULL);
}
