/* draw.c - the TUI's drawing primitives on stdscr: boxes with titles (line
 * drawing, or + - | without a UTF-8 locale), clipped text that shows printable
 * ASCII and, in a UTF-8 locale, printable UTF-8 (anything else as '?'), hint lines and
 * centered dialog frames with a blank margin. Used by every pane. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>
#include <wchar.h>

static bool tui_on_screen(int y, int x)
{
    return y >= 0 && x >= 0 && y < LINES && x < COLS;
}

void tui_draw_fill(int y, int x, int w, int attr)
{
    if (!tui_on_screen(y, x))
        return;
    if (x + w > COLS)
        w = COLS - x;
    attrset(attr);
    for (int i = 0; i < w; i++)
        mvaddch(y, x + i, ' ');
    attrset(A_NORMAL);
}

void tui_draw_text(int y, int x, int w, int attr, const char *s)
{
    if (!tui_on_screen(y, x) || w <= 0 || !s)
        return;
    if (x + w > COLS)
        w = COLS - x;
    attrset(attr);
    move(y, x);
    bool utf8 = tui_cells_utf8();
    mbstate_t st;
    memset(&st, 0, sizeof st);
    for (int col = 0; col < w && *s;) {
        /* each character as cells.c counts it: printable ASCII, printable UTF-8 in a
         * UTF-8 locale as wide as it is, anything else '?' */
        wchar_t wc;
        size_t n;
        int cw = tui_cell_next(s, utf8, &st, &wc, &n);
        if (col + cw > w)
            break;
        if (wc < 0x80) {
            addch((chtype)wc);
        } else {
            wchar_t one[2] = {wc, 0};
            addnwstr(one, 1);
        }
        s += n;
        col += cw;
    }
    attrset(A_NORMAL);
}

void tui_draw_clear(tui_rect r)
{
    for (int y = r.y; y < r.y + r.h; y++)
        tui_draw_fill(y, r.x, r.w, tui_theme_attr(TUI_EL_TEXT));
}

/* ASCII lines without a UTF-8 locale; in UTF-8 the Unicode box characters
 * (WACS_*), which need no alternate character set in the terminal. */
static void tui_box_lines(const tui_app *app, tui_rect r)
{
    int bottom = r.y + r.h - 1, right = r.x + r.w - 1;
    bool last_cell = bottom == LINES - 1 && right == COLS - 1; /* addch there would scroll */
    if (app->ascii_lines) {
        mvaddch(r.y, r.x, '+');
        mvhline(r.y, r.x + 1, '-', r.w - 2);
        mvaddch(r.y, right, '+');
        mvvline(r.y + 1, r.x, '|', r.h - 2);
        mvvline(r.y + 1, right, '|', r.h - 2);
        mvaddch(bottom, r.x, '+');
        mvhline(bottom, r.x + 1, '-', r.w - 2);
        if (last_cell)
            mvinsch(bottom, right, '+');
        else
            mvaddch(bottom, right, '+');
        return;
    }
    mvadd_wch(r.y, r.x, WACS_ULCORNER);
    mvhline_set(r.y, r.x + 1, WACS_HLINE, r.w - 2);
    mvadd_wch(r.y, right, WACS_URCORNER);
    mvvline_set(r.y + 1, r.x, WACS_VLINE, r.h - 2);
    mvvline_set(r.y + 1, right, WACS_VLINE, r.h - 2);
    mvadd_wch(bottom, r.x, WACS_LLCORNER);
    mvhline_set(bottom, r.x + 1, WACS_HLINE, r.w - 2);
    if (last_cell)
        mvins_wch(bottom, right, WACS_LRCORNER);
    else
        mvadd_wch(bottom, right, WACS_LRCORNER);
}

void tui_draw_box(const tui_app *app, tui_rect r, const char *title, bool focus)
{
    if (r.h < 2 || r.w < 2 || r.y + r.h > LINES || r.x + r.w > COLS)
        return;
    attrset(tui_theme_attr(focus ? TUI_EL_BORDER_FOCUS : TUI_EL_BORDER));
    tui_box_lines(app, r);
    attrset(A_NORMAL);
    if (title && title[0]) {
        char t[128];
        snprintf(t, sizeof t, " %s ", title);
        tui_draw_text(r.y, r.x + 2, r.w - 4,
                      tui_theme_attr(focus ? TUI_EL_TITLE_FOCUS : TUI_EL_TITLE), t);
    }
}

/* A blank cell's ring around a dialog: a pane's border right beside the dialog's would
 * read as one doubled line ("┌┌", "└│"). Not on the header row (0) or the message line. */
static void tui_dialog_margin(tui_rect r)
{
    int attr = tui_theme_attr(TUI_EL_TEXT);
    int x0 = r.x > 0 ? r.x - 1 : 0, x1 = r.x + r.w < COLS ? r.x + r.w : COLS - 1;
    for (int y = r.y - 1; y <= r.y + r.h; y++) {
        if (y < 1 || y > LINES - 2)
            continue;
        if (y == r.y - 1 || y == r.y + r.h) {
            tui_draw_fill(y, x0, x1 - x0 + 1, attr);
            continue;
        }
        if (r.x > 0)
            tui_draw_fill(y, r.x - 1, 1, attr);
        if (r.x + r.w < COLS)
            tui_draw_fill(y, r.x + r.w, 1, attr);
    }
}

tui_rect tui_draw_dialog(const tui_app *app, int h, int w, const char *title)
{
    if (w > COLS - 2)
        w = COLS - 2;
    if (h > LINES - 2)
        h = LINES - 2;
    tui_rect r = {(LINES - h) / 2, (COLS - w) / 2, h, w};
    if (r.h < 3 || r.w < 10)
        return (tui_rect){0, 0, 0, 0};
    tui_dialog_margin(r);
    tui_draw_clear(r);
    tui_draw_box(app, r, title, true);
    return r;
}

void tui_draw_hints(int y, int x, int w, const char *const *pairs, size_t npairs)
{
    tui_draw_fill(y, x, w, tui_theme_attr(TUI_EL_TEXT));
    int col = x;
    for (size_t i = 0; i + 1 < npairs * 2; i += 2) {
        int kl = (int)strlen(pairs[i]), ll = (int)strlen(pairs[i + 1]);
        if (col + kl + 1 + ll > x + w)
            break;
        tui_draw_text(y, col, kl, tui_theme_attr(TUI_EL_KEY_HINT), pairs[i]);
        tui_draw_text(y, col + kl + 1, ll, tui_theme_attr(TUI_EL_DIM), pairs[i + 1]);
        col += kl + 1 + ll + 2;
    }
}
