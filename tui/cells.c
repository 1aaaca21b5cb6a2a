/* cells.c - the columns text takes on the terminal (see cells.h): one rule for
 * draw.c's drawing, details.c's cutting, vmwork.c's table padding and textview.c's
 * sideways scroll. No curses here. */
#include "cells.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wctype.h>

int tui_cell_next(const char *s, bool utf8, mbstate_t *st, wchar_t *wc, size_t *len)
{
    unsigned char c = (unsigned char)*s;
    *len = 1;
    if (c < 0x80 || !utf8) {
        *wc = c >= 0x20 && c < 0x7f ? (wchar_t)c : L'?';
        return 1;
    }
    size_t n = mbrtowc(wc, s, strnlen(s, MB_LEN_MAX), st);
    bool ok = n != (size_t)-1 && n != (size_t)-2 && n > 0;
    int cw = ok && iswprint((wint_t)*wc) ? wcwidth(*wc) : -1;
    if (cw < 1) { /* drawn as '?'; the state is undefined after a bad sequence */
        memset(st, 0, sizeof *st);
        *wc = L'?';
        *len = ok ? n : 1;
        return 1;
    }
    *len = n;
    return cw;
}

bool tui_cells_utf8(void)
{
    return MB_CUR_MAX > 1;
}

int tui_text_width(const char *s)
{
    bool utf8 = tui_cells_utf8();
    mbstate_t st;
    memset(&st, 0, sizeof st);
    int cols = 0;
    while (*s) {
        wchar_t wc;
        size_t len;
        cols += tui_cell_next(s, utf8, &st, &wc, &len);
        s += len;
    }
    return cols;
}

const char *tui_pad(const char *s, int w, char *out, size_t size)
{
    if (!size)
        return out;
    bool utf8 = tui_cells_utf8();
    mbstate_t st;
    memset(&st, 0, sizeof st);
    size_t at = 0;
    int cols = 0;
    while (s[at]) { /* whole characters that fit in out */
        wchar_t wc;
        size_t len;
        int cw = tui_cell_next(s + at, utf8, &st, &wc, &len);
        if (at + len >= size)
            break;
        at += len;
        cols += cw;
    }
    memcpy(out, s, at);
    while (cols < w && at + 1 < size) {
        out[at++] = ' ';
        cols++;
    }
    out[at] = '\0';
    return out;
}

const char *tui_skip_cols(const char *s, int cols)
{
    bool utf8 = tui_cells_utf8();
    mbstate_t st;
    memset(&st, 0, sizeof st);
    while (*s && cols > 0) {
        wchar_t wc;
        size_t len;
        cols -= tui_cell_next(s, utf8, &st, &wc, &len);
        s += len;
    }
    return s;
}

const char *tui_fit(const char *value, int w, char *out, size_t size)
{
    bool utf8 = tui_cells_utf8();
    if (tui_text_width(value) <= w || w < 4)
        return value;
    const char *dots = utf8 ? "\xe2\x80\xa6" : "...";
    int keep = w - (utf8 ? 1 : 3), used = 0;
    size_t at = 0;
    mbstate_t st;
    memset(&st, 0, sizeof st);
    while (value[at] && used < keep) { /* whole characters, as wide as drawn */
        wchar_t wc;
        size_t k;
        int cw = tui_cell_next(value + at, utf8, &st, &wc, &k);
        if (used + cw > keep)
            break;
        used += cw;
        at += k;
    }
    snprintf(out, size, "%.*s%s", (int)at, value, dots);
    return out;
}

const char *tui_audit_cells(const char *what, const char *guest, const char *want, int ww,
                            int gw, int pw, char *out, size_t size)
{
    const char *in[3] = {what, guest, want};
    int w[3] = {ww, gw, pw};
    size_t at = 0;
    if (size)
        out[0] = '\0';
    for (int i = 0; i < 3 && at < size; i++) {
        char cut[1024], cell[1024 + 256];
        tui_pad(tui_fit(in[i], w[i], cut, sizeof cut), w[i], cell, sizeof cell);
        int n = snprintf(out + at, size - at, "%s  ", cell);
        at = n < 0 ? size : at + (size_t)n;
    }
    return out;
}
