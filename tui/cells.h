/* cells.h - how many terminal columns text takes, as tui_draw_text (draw.c) draws it:
 * the one rule behind drawing, cutting (tui_fit), padding table columns (the audit
 * window) and scrolling sideways (the text view). Pure: libc's wide-character functions
 * under the locale set at start-up, no curses; unit-tested by tests/unit/test_tui_cells.c. */
#ifndef PVM_TUI_CELLS_H
#define PVM_TUI_CELLS_H

#include <stdbool.h>
#include <stddef.h>
#include <wchar.h>

/* The character at s (s not at its NUL) as it is drawn: *len gets its bytes, *wc what is
 * drawn, and the return value its columns (1 or 2). In a UTF-8 locale (utf8) a printable
 * character is as wide as wcwidth says (an accented letter 1, a CJK ideograph 2); an ASCII
 * control, a byte of a bad or cut sequence, a non-printable or zero-width character is
 * drawn as '?' in 1 column. Without one every byte is a column (a byte >= 0x80 is '?').
 * st carries the conversion state from one call to the next (zeroed after a bad byte). */
int tui_cell_next(const char *s, bool utf8, mbstate_t *st, wchar_t *wc, size_t *len);

/* True when the locale is multibyte (UTF-8): MB_CUR_MAX > 1. */
bool tui_cells_utf8(void);

/* The columns s takes (tui_cell_next summed over it, in the current locale). */
int tui_text_width(const char *s);

/* s, then blanks up to w columns, into out (size bytes); s wider than w is copied as
 * it is (cut it first with tui_fit). A value too long for out is cut at a whole
 * character. Returns out. */
const char *tui_pad(const char *s, int w, char *out, size_t size);

/* value cut to w columns into out (size bytes), ending in an ellipsis ("…" in a UTF-8
 * locale, else "...") when it was longer, so a cut value never looks whole (an id, a
 * path); value itself when it fits or w < 4. */
const char *tui_fit(const char *value, int w, char *out, size_t size);

/* One audit table row's first three cells into out: what, guest and want each cut to
 * ww, gw and pw columns (tui_fit) and padded to them by columns, two blanks after each,
 * so the verdict that follows starts at column ww + gw + pw + 6 whatever UTF-8 the
 * guest's values hold (vmwork.c's audit window). Returns out. */
const char *tui_audit_cells(const char *what, const char *guest, const char *want, int ww,
                            int gw, int pw, char *out, size_t size);

/* The first byte of s after its first `cols` columns; a wide character that straddles
 * that edge is skipped whole (the next one starts at the edge or just after it). */
const char *tui_skip_cols(const char *s, int cols);

#endif
