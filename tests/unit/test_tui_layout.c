/* test_tui_layout.c - unit tests of tui/layout.c: every size from below the
 * minimum to very wide gives rectangles inside the screen that never overlap,
 * the wide/narrow switch, and list scrolling; the start-up's leave-and-resume is for
 * ncurses 6.4 only. Run by tests/run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "../../tui/layout.h"

static bool inside(tui_rect r, int cols, int rows)
{
    if (!r.h && !r.w)
        return true;
    return r.y >= 0 && r.x >= 0 && r.h > 0 && r.w > 0 && r.y + r.h <= rows && r.x + r.w <= cols;
}

static int all_rects(const tui_layout *l, tui_rect *out)
{
    int n = 0;
    out[n++] = l->header;
    out[n++] = l->tabs;
    for (int i = 0; i < TUI_PANE_COUNT; i++)
        out[n++] = l->panes[i];
    out[n++] = l->details;
    out[n++] = l->hints;
    out[n++] = l->message;
    return n;
}

static void test_too_small_is_empty(void **state)
{
    (void)state;
    tui_layout l;
    int sizes[][2] = {{0, 0}, {1, 1}, {TUI_MIN_COLS - 1, 40}, {200, TUI_MIN_ROWS - 1}, {-5, -5}};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        tui_layout_compute(sizes[i][0], sizes[i][1], TUI_PANE_VMS, &l);
        assert_int_equal(l.mode, TUI_LAYOUT_TOO_SMALL);
        tui_rect r[8];
        int n = all_rects(&l, r);
        for (int k = 0; k < n; k++)
            assert_true(r[k].h == 0 && r[k].w == 0);
    }
}

static void test_every_size_fits_without_overlap(void **state)
{
    (void)state;
    for (int cols = TUI_MIN_COLS; cols <= 400; cols += 7)
        for (int rows = TUI_MIN_ROWS; rows <= 120; rows += 5)
            for (int f = 0; f < TUI_PANE_COUNT; f++) {
                tui_layout l;
                tui_layout_compute(cols, rows, (tui_pane)f, &l);
                assert_int_not_equal(l.mode, TUI_LAYOUT_TOO_SMALL);
                tui_rect r[8];
                int n = all_rects(&l, r);
                for (int a = 0; a < n; a++) {
                    assert_true(inside(r[a], cols, rows));
                    for (int b = a + 1; b < n; b++)
                        assert_false(tui_rect_overlap(r[a], r[b]));
                }
                /* the focused list, the details and the three lines always show */
                assert_true(l.panes[f].h >= 3 && l.panes[f].w >= 20);
                assert_true(l.details.h >= 3 && l.details.w >= 30);
                assert_int_equal(l.header.y, 0);
                assert_int_equal(l.message.y, rows - 1);
                assert_int_equal(l.hints.y, rows - 2);
                assert_int_equal(l.message.w, cols);
            }
}

static void test_wide_shows_all_panes_side_by_side(void **state)
{
    (void)state;
    tui_layout l;
    tui_layout_compute(200, 60, TUI_PANE_PROFILES, &l);
    assert_int_equal(l.mode, TUI_LAYOUT_WIDE);
    assert_int_equal(l.tabs.h, 0);
    for (int i = 0; i < TUI_PANE_COUNT; i++) {
        assert_int_equal(l.panes[i].y, 1);
        assert_int_equal(l.panes[i].h, 57);
        if (i)
            assert_int_equal(l.panes[i].x, l.panes[i - 1].x + l.panes[i - 1].w);
    }
    assert_int_equal(l.details.x + l.details.w, 200);
}

static void test_narrow_shows_focused_pane_and_tabs(void **state)
{
    (void)state;
    tui_layout l;
    tui_layout_compute(80, 24, TUI_PANE_VMS, &l);
    assert_int_equal(l.mode, TUI_LAYOUT_NARROW);
    assert_int_equal(l.tabs.y, 1);
    assert_int_equal(l.tabs.w, 80);
    assert_int_equal(l.panes[TUI_PANE_PROFILES].h, 0);
    assert_int_equal(l.panes[TUI_PANE_SNAPSHOTS].h, 0);
    assert_int_equal(l.panes[TUI_PANE_VMS].y, 2);
    assert_int_equal(l.panes[TUI_PANE_VMS].h, 20);
    assert_int_equal(l.details.x, l.panes[TUI_PANE_VMS].w);
    /* a bad focus falls back to the first pane instead of reading past the array */
    tui_layout_compute(80, 24, (tui_pane)7, &l);
    assert_int_equal(l.panes[TUI_PANE_PROFILES].y, 2);
}

static void test_scroll_keeps_selection_visible(void **state)
{
    (void)state;
    assert_int_equal(tui_layout_scroll(0, 0, 0, 10), 0);
    assert_int_equal(tui_layout_scroll(0, 5, 100, 10), 0);
    assert_int_equal(tui_layout_scroll(0, 10, 100, 10), 1);
    assert_int_equal(tui_layout_scroll(50, 40, 100, 10), 40);
    assert_int_equal(tui_layout_scroll(95, 99, 100, 10), 90);
    assert_int_equal(tui_layout_scroll(90, 5, 8, 10), 0);   /* list shrank */
    assert_int_equal(tui_layout_scroll(3, 500, 20, 10), 10); /* selection past the end */
    assert_int_equal(tui_layout_scroll(3, 2, 20, 0), 0);
}

/* The wrapped line i of s, as a string. */
static const char *wrapped(const char *s, int width, size_t i, size_t *count)
{
    static char out[256];
    size_t starts[16], lens[16];
    *count = tui_wrap(s, width, starts, lens, 16);
    if (i >= *count || i >= 16)
        return "(none)";
    snprintf(out, sizeof out, "%.*s", (int)lens[i], s + starts[i]);
    return out;
}

static void test_wrap_breaks_at_blanks_and_keeps_every_word(void **state)
{
    (void)state;
    size_t n;
    const char *msg = "start of 'box' failed: QEMU exited: could not open disk image";
    assert_string_equal(wrapped(msg, 20, 0, &n), "start of 'box'");
    assert_string_equal(wrapped(msg, 20, 1, &n), "failed: QEMU exited:");
    assert_string_equal(wrapped(msg, 20, 2, &n), "could not open disk");
    assert_string_equal(wrapped(msg, 20, 3, &n), "image");
    assert_int_equal(n, 4);
    /* every line fits, and nothing but blanks is lost */
    size_t starts[16], lens[16], total = 0;
    n = tui_wrap(msg, 20, starts, lens, 16);
    for (size_t i = 0; i < n; i++) {
        assert_true(lens[i] <= 20);
        total += lens[i];
    }
    size_t letters = 0;
    for (const char *p = msg; *p; p++)
        letters += *p != ' ';
    assert_true(total >= letters);
}

static void test_wrap_cuts_long_words_and_honours_newlines(void **state)
{
    (void)state;
    size_t n;
    assert_string_equal(wrapped("abcdefghij", 4, 0, &n), "abcd");
    assert_string_equal(wrapped("abcdefghij", 4, 2, &n), "ij");
    assert_int_equal(n, 3);
    assert_string_equal(wrapped("one\ntwo", 40, 1, &n), "two");
    assert_int_equal(n, 2);
    assert_string_equal(wrapped("a\n\nb", 40, 1, &n), "");
    assert_int_equal(n, 3);
    wrapped("", 10, 0, &n);
    assert_int_equal(n, 0);
    wrapped("exactly10!", 10, 0, &n);
    assert_int_equal(n, 1);
    assert_string_equal(wrapped("x", 0, 0, &n), "x"); /* width < 1 counts as 1 */
    size_t starts[1], lens[1];
    assert_int_equal(tui_wrap("aa bb cc dd", 2, starts, lens, 1), 4); /* counts past max */
}

/* The start-up's leave-and-resume runs only on the ncurses it was measured on (6.4). */
static void test_curses_resume_only_on_checked_version(void **state)
{
    (void)state;
    assert_true(tui_curses_resume_checked("ncurses 6.4.20221231"));
    assert_true(tui_curses_resume_checked("ncurses 6.4.20230520"));
    assert_true(tui_curses_resume_checked("ncurses 6.4"));
    assert_false(tui_curses_resume_checked("ncurses 6.3.20211021"));
    assert_false(tui_curses_resume_checked("ncurses 6.5.20240427"));
    assert_false(tui_curses_resume_checked("ncurses 6.40.20300101"));
    assert_false(tui_curses_resume_checked("ncurses 5.4"));
    assert_false(tui_curses_resume_checked("ncurses 7.4.1"));
    assert_false(tui_curses_resume_checked("PDCurses 6.4"));
    assert_false(tui_curses_resume_checked("NetBSD-curses 6.4"));
    assert_false(tui_curses_resume_checked(""));
    assert_false(tui_curses_resume_checked(NULL));
}

static void test_audit_widths_give_the_verdict_the_rest(void **state)
{
    (void)state;
    int gw = 30, pw = 60, vw = 0;
    /* 160 columns (a 154-column view): guest and profile whole (profile capped), the
     * verdict the rest */
    tui_audit_widths(154, 20, &gw, &pw, &vw);
    assert_int_equal(gw, 30);
    assert_int_equal(pw, TUI_AUDIT_COL_MAX);
    assert_int_equal(vw, 154 - 20 - 30 - 48 - 6);
    assert_int_equal(20 + gw + pw + vw + 6, 154); /* the table fits the view exactly */
    /* 100 columns: the wider of guest and profile gives way first, the verdict gets its
     * minimum and the row still fits */
    gw = 30, pw = 60;
    tui_audit_widths(94, 20, &gw, &pw, &vw);
    assert_int_equal(vw, TUI_AUDIT_VERDICT_MIN);
    assert_int_equal(20 + gw + pw + vw + 6, 94);
    assert_true(gw >= TUI_AUDIT_COL_MIN && pw >= TUI_AUDIT_COL_MIN);
    assert_true(pw - gw <= 1);
    /* narrower than the minimum: both at their floor, the verdict at its minimum (the
     * view scrolls sideways) */
    gw = 30, pw = 60;
    tui_audit_widths(60, 20, &gw, &pw, &vw);
    assert_int_equal(gw, TUI_AUDIT_COL_MIN);
    assert_int_equal(pw, TUI_AUDIT_COL_MIN);
    assert_int_equal(vw, TUI_AUDIT_VERDICT_MIN);
    /* a column narrower than the floor keeps its width */
    gw = 10, pw = 12;
    tui_audit_widths(50, 20, &gw, &pw, &vw);
    assert_int_equal(gw, 10);
    assert_int_equal(pw, 12);
    assert_int_equal(vw, TUI_AUDIT_VERDICT_MIN);
}

static void test_fit_items_drops_least_important_first(void **state)
{
    (void)state;
    const int widths[] = {10, 10, 10, 10, 8};
    const bool essential[] = {false, false, false, true, true};
    bool show[5];
    assert_int_equal(tui_fit_items(widths, essential, 5, 60, show), 48); /* all fit */
    for (int i = 0; i < 5; i++)
        assert_true(show[i]);
    assert_int_equal(tui_fit_items(widths, essential, 5, 30, show), 28);
    assert_true(show[0]);
    assert_false(show[1]);
    assert_false(show[2]);
    assert_true(show[3]); /* "? help" and "q quit" stay */
    assert_true(show[4]);
    assert_int_equal(tui_fit_items(widths, essential, 5, 12, show), 10);
    assert_true(show[3]); /* essentials only go when they alone do not fit, last first */
    assert_false(show[4]);
    assert_false(show[0]);
}

static void test_message_rows_move_the_hints_and_shrink_the_panes(void **state)
{
    (void)state;
    tui_layout l;
    for (int wide = 0; wide < 2; wide++) {
        tui_layout_compute(wide ? 200 : 80, wide ? 60 : 24, TUI_PANE_VMS, &l);
        tui_layout_message_rows(&l, 3);
        int rows = l.rows;
        assert_int_equal(l.message.y, rows - 3);
        assert_int_equal(l.message.h, 3);
        assert_int_equal(l.hints.y, rows - 4);
        assert_false(tui_rect_overlap(l.details, l.hints));
        assert_false(tui_rect_overlap(l.details, l.message));
        for (int p = 0; p < TUI_PANE_COUNT; p++) {
            assert_false(tui_rect_overlap(l.panes[p], l.hints));
            assert_false(tui_rect_overlap(l.panes[p], l.message));
        }
        assert_true(l.panes[TUI_PANE_VMS].h >= 5);
    }
    tui_layout_compute(80, 24, TUI_PANE_VMS, &l);
    tui_layout_message_rows(&l, 99); /* capped */
    assert_int_equal(l.message.h, TUI_MESSAGE_MAX_ROWS);
    tui_layout_compute(60, 15, TUI_PANE_VMS, &l);
    tui_layout_message_rows(&l, 4); /* the panes keep 5 rows */
    assert_true(l.panes[TUI_PANE_VMS].h >= 5);
    assert_int_equal(l.message.y + l.message.h, 15);
}

static void test_hit_finds_pane_rows_tabs_and_details(void **state)
{
    (void)state;
    tui_layout l;
    tui_layout_compute(200, 50, TUI_PANE_PROFILES, &l);
    tui_rect v = l.panes[TUI_PANE_VMS];
    tui_hit h = tui_layout_hit(&l, v.y + 3, v.x + 2);
    assert_int_equal(h.kind, TUI_HIT_PANE);
    assert_int_equal(h.pane, TUI_PANE_VMS);
    assert_int_equal(h.row, 2);
    h = tui_layout_hit(&l, v.y, v.x + 2); /* the title border */
    assert_int_equal(h.kind, TUI_HIT_PANE);
    assert_int_equal(h.row, -1);
    h = tui_layout_hit(&l, l.details.y + 2, l.details.x + 3);
    assert_int_equal(h.kind, TUI_HIT_DETAILS);
    assert_int_equal(tui_layout_hit(&l, 0, 5).kind, TUI_HIT_NONE); /* the header */
    assert_int_equal(tui_layout_hit(&l, 49, 5).kind, TUI_HIT_NONE); /* the message line */
    tui_layout_compute(80, 24, TUI_PANE_SNAPSHOTS, &l);
    assert_int_equal(tui_layout_hit(&l, l.tabs.y, 10).kind, TUI_HIT_TABS);
    h = tui_layout_hit(&l, l.panes[TUI_PANE_SNAPSHOTS].y + 1, 3);
    assert_int_equal(h.kind, TUI_HIT_PANE);
    assert_int_equal(h.pane, TUI_PANE_SNAPSHOTS);
    assert_int_equal(h.row, 0);
    tui_layout_compute(40, 10, TUI_PANE_VMS, &l);
    assert_int_equal(tui_layout_hit(&l, 3, 3).kind, TUI_HIT_NONE); /* too small */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_too_small_is_empty),
        cmocka_unit_test(test_every_size_fits_without_overlap),
        cmocka_unit_test(test_wide_shows_all_panes_side_by_side),
        cmocka_unit_test(test_narrow_shows_focused_pane_and_tabs),
        cmocka_unit_test(test_scroll_keeps_selection_visible),
        cmocka_unit_test(test_wrap_breaks_at_blanks_and_keeps_every_word),
        cmocka_unit_test(test_wrap_cuts_long_words_and_honours_newlines),
        cmocka_unit_test(test_fit_items_drops_least_important_first),
        cmocka_unit_test(test_audit_widths_give_the_verdict_the_rest),
        cmocka_unit_test(test_curses_resume_only_on_checked_version),
        cmocka_unit_test(test_message_rows_move_the_hints_and_shrink_the_panes),
        cmocka_unit_test(test_hit_finds_pane_rows_tabs_and_details),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
