/* layout.c - the TUI's screen arithmetic (see layout.h): which rectangle each
 * pane, the header, the hint and the message lines get at a terminal size.
 * No curses here; tui.c draws into what this computes. */
#include "layout.h"

#include <stdio.h>
#include <string.h>

static tui_rect tui_rect_make(int y, int x, int h, int w)
{
    tui_rect r = {y, x, h > 0 ? h : 0, w > 0 ? w : 0};
    if (!r.h || !r.w)
        r.h = r.w = 0;
    return r;
}

bool tui_rect_overlap(tui_rect a, tui_rect b)
{
    if (!a.h || !a.w || !b.h || !b.w)
        return false;
    return a.y < b.y + b.h && b.y < a.y + a.h && a.x < b.x + b.w && b.x < a.x + a.w;
}

/* Wide: Profiles | VMs | Snapshots side by side over 55% of the width, the
 * details at the right; the rows between the header and the two last lines. */
static void tui_layout_wide(tui_layout *l, int top, int body)
{
    int lists = l->cols * 55 / 100;
    int pw = lists / 3;
    int widths[TUI_PANE_COUNT] = {pw, pw, lists - 2 * pw};
    int x = 0;
    for (int i = 0; i < TUI_PANE_COUNT; i++) {
        l->panes[i] = tui_rect_make(top, x, body, widths[i]);
        x += widths[i];
    }
    l->details = tui_rect_make(top, x, body, l->cols - x);
}

/* Narrow: a tab row, then the focused list at the left (two fifths of the
 * width, 24..50 columns) and the details beside it. */
static void tui_layout_narrow(tui_layout *l, int top, int body, tui_pane focus)
{
    l->tabs = tui_rect_make(top, 0, 1, l->cols);
    int lw = l->cols * 2 / 5;
    lw = lw < 24 ? 24 : lw > 50 ? 50 : lw;
    l->panes[focus] = tui_rect_make(top + 1, 0, body - 1, lw);
    l->details = tui_rect_make(top + 1, lw, body - 1, l->cols - lw);
}

void tui_layout_compute(int cols, int rows, tui_pane focus, tui_layout *out)
{
    memset(out, 0, sizeof *out);
    out->cols = cols;
    out->rows = rows;
    if (cols < TUI_MIN_COLS || rows < TUI_MIN_ROWS) {
        out->mode = TUI_LAYOUT_TOO_SMALL;
        return;
    }
    if ((unsigned)focus >= TUI_PANE_COUNT)
        focus = TUI_PANE_PROFILES;
    out->header = tui_rect_make(0, 0, 1, cols);
    out->hints = tui_rect_make(rows - 2, 0, 1, cols);
    out->message = tui_rect_make(rows - 1, 0, 1, cols);
    int body = rows - 3;
    if (cols >= TUI_WIDE_COLS && rows >= TUI_WIDE_ROWS) {
        out->mode = TUI_LAYOUT_WIDE;
        tui_layout_wide(out, 1, body);
    } else {
        out->mode = TUI_LAYOUT_NARROW;
        tui_layout_narrow(out, 1, body, focus);
    }
}

static void tui_rect_end_at(tui_rect *r, int bottom)
{
    if (r->h && r->y + r->h > bottom)
        *r = tui_rect_make(r->y, r->x, bottom - r->y, r->w);
}

void tui_layout_message_rows(tui_layout *l, int rows)
{
    if (l->mode == TUI_LAYOUT_TOO_SMALL || rows <= 1)
        return;
    if (rows > TUI_MESSAGE_MAX_ROWS)
        rows = TUI_MESSAGE_MAX_ROWS;
    int body_top = l->tabs.h ? l->tabs.y + 1 : l->header.y + 1;
    int max = l->rows - 1 - body_top - 5; /* the hints row and 5 rows of panes stay */
    if (rows > max)
        rows = max;
    if (rows <= 1)
        return;
    l->message = tui_rect_make(l->rows - rows, 0, rows, l->cols);
    l->hints = tui_rect_make(l->message.y - 1, 0, 1, l->cols);
    for (int i = 0; i < TUI_PANE_COUNT; i++)
        tui_rect_end_at(&l->panes[i], l->hints.y);
    tui_rect_end_at(&l->details, l->hints.y);
}

static bool tui_rect_has(tui_rect r, int y, int x)
{
    return r.h && r.w && y >= r.y && y < r.y + r.h && x >= r.x && x < r.x + r.w;
}

tui_hit tui_layout_hit(const tui_layout *l, int y, int x)
{
    tui_hit h = {TUI_HIT_NONE, TUI_PANE_PROFILES, -1};
    if (l->mode == TUI_LAYOUT_TOO_SMALL)
        return h;
    if (tui_rect_has(l->tabs, y, x)) {
        h.kind = TUI_HIT_TABS;
        return h;
    }
    for (int i = 0; i < TUI_PANE_COUNT; i++) {
        tui_rect r = l->panes[i];
        if (!tui_rect_has(r, y, x))
            continue;
        h.kind = TUI_HIT_PANE;
        h.pane = (tui_pane)i;
        bool inside = y > r.y && y < r.y + r.h - 1 && x > r.x && x < r.x + r.w - 1;
        h.row = inside ? y - r.y - 1 : -1;
        return h;
    }
    if (tui_rect_has(l->details, y, x))
        h.kind = TUI_HIT_DETAILS;
    return h;
}

int tui_layout_scroll(int top, int sel, int n, int height)
{
    if (height <= 0 || n <= 0)
        return 0;
    if (sel < 0)
        sel = 0;
    if (sel >= n)
        sel = n - 1;
    if (sel < top)
        top = sel;
    if (sel >= top + height)
        top = sel - height + 1;
    if (top > n - height)
        top = n - height;
    return top < 0 ? 0 : top;
}

size_t tui_wrap(const char *s, int width, size_t *starts, size_t *lens, size_t max)
{
    size_t w = width < 1 ? 1 : (size_t)width, n = 0, i = 0, len = strlen(s);
    while (i < len) {
        size_t end = i, brk = 0; /* brk: a blank's position + 1 in reach */
        while (end < len && s[end] != '\n' && end - i < w) {
            if (s[end] == ' ')
                brk = end + 1;
            end++;
        }
        size_t next = end;
        if (end < len && s[end] != '\n' && s[end] != ' ' && brk) {
            end = brk - 1; /* break after the last blank that fits */
            next = brk;
        }
        while (end > i && s[end - 1] == ' ')
            end--;
        if (n < max) {
            starts[n] = i;
            lens[n] = end - i;
        }
        n++;
        i = next;
        if (i < len && s[i] == '\n')
            i++;
        else
            while (i < len && s[i] == ' ')
                i++;
    }
    return n;
}

void tui_audit_widths(int width, int ww, int *gw, int *pw, int *vw)
{
    *gw = *gw > TUI_AUDIT_COL_MAX ? TUI_AUDIT_COL_MAX : *gw;
    *pw = *pw > TUI_AUDIT_COL_MAX ? TUI_AUDIT_COL_MAX : *pw;
    int rest = width - ww - *gw - *pw - 6;
    while (rest < TUI_AUDIT_VERDICT_MIN && (*gw > TUI_AUDIT_COL_MIN || *pw > TUI_AUDIT_COL_MIN)) {
        if (*gw >= *pw)
            (*gw)--;
        else
            (*pw)--;
        rest++;
    }
    *vw = rest < TUI_AUDIT_VERDICT_MIN ? TUI_AUDIT_VERDICT_MIN : rest;
}

bool tui_curses_resume_checked(const char *version)
{
    int major = 0, minor = 0;
    char dot = 0;
    return version && sscanf(version, "ncurses %d.%d%c", &major, &minor, &dot) >= 2 &&
           major == 6 && minor == 4 && (dot == 0 || dot == '.');
}

int tui_fit_items(const int *widths, const bool *essential, size_t n, int w, bool *show)
{
    int used = 0;
    for (size_t i = 0; i < n; i++) {
        show[i] = true;
        used += widths[i];
    }
    for (int pass = 0; pass < 2 && used > w; pass++) {
        for (size_t i = n; i-- > 0 && used > w;) {
            if (!show[i] || (pass == 0 && essential[i]))
                continue;
            show[i] = false;
            used -= widths[i];
        }
    }
    return used;
}
