/* layout.h - where each part of the TUI's screen goes for a terminal size:
 * pure arithmetic, no curses (tests/unit/test_tui_layout.c checks it).
 * tui.c computes a layout on start and on every resize and draws into it. */
#ifndef PVM_TUI_LAYOUT_H
#define PVM_TUI_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>

/* The three list panes, in Tab order. */
typedef enum { TUI_PANE_PROFILES = 0, TUI_PANE_VMS, TUI_PANE_SNAPSHOTS, TUI_PANE_COUNT } tui_pane;

/* A rectangle in screen cells: rows y..y+h-1, columns x..x+w-1. h or w 0: not shown. */
typedef struct tui_rect {
    int y, x, h, w;
} tui_rect;

typedef enum {
    TUI_LAYOUT_WIDE = 0,  /* the three lists side by side, details at the right */
    TUI_LAYOUT_NARROW,    /* a tab row; the focused list at the left, details at the right */
    TUI_LAYOUT_TOO_SMALL, /* only a message saying the size needed */
} tui_layout_mode;

#define TUI_MIN_COLS 60
#define TUI_MIN_ROWS 15
#define TUI_WIDE_COLS 160 /* at least this wide: the wide layout */
#define TUI_WIDE_ROWS 24

typedef struct tui_layout {
    tui_layout_mode mode;
    int cols, rows;                 /* the terminal's size it was computed for */
    tui_rect header;                /* row 0: host and caps */
    tui_rect tabs;                  /* narrow only: the pane tabs */
    tui_rect panes[TUI_PANE_COUNT]; /* a hidden pane has h == w == 0 */
    tui_rect details;
    tui_rect hints;                 /* the key hints of the focused pane */
    tui_rect message;               /* the last row: progress and errors */
} tui_layout;

/* Computes the layout of a cols x rows terminal with pane `focus` focused
 * (narrow layouts show only that list). Sizes below TUI_MIN_COLS x
 * TUI_MIN_ROWS give TUI_LAYOUT_TOO_SMALL with every rectangle empty. */
void tui_layout_compute(int cols, int rows, tui_pane focus, tui_layout *out);

/* Gives the message line `rows` rows (a long message wraps instead of being cut):
 * the hint line moves up above them and the panes, tabs and details end above the
 * hints. rows is capped at TUI_MESSAGE_MAX_ROWS and so the panes keep 5 rows;
 * nothing changes for rows <= 1 or a TOO_SMALL layout. */
#define TUI_MESSAGE_MAX_ROWS 4
void tui_layout_message_rows(tui_layout *l, int rows);

/* What a mouse click at (y, x) lands on: a list pane (its row inside the box,
 * -1 on the border or title), the details, the tab row, or nothing. */
typedef enum { TUI_HIT_NONE = 0, TUI_HIT_PANE, TUI_HIT_DETAILS, TUI_HIT_TABS } tui_hit_kind;
typedef struct tui_hit {
    tui_hit_kind kind;
    tui_pane pane; /* TUI_HIT_PANE */
    int row;       /* TUI_HIT_PANE: 0 = the first row shown, -1 = the border */
} tui_hit;
tui_hit tui_layout_hit(const tui_layout *l, int y, int x);

/* True when a and b share at least one cell. */
bool tui_rect_overlap(tui_rect a, tui_rect b);

/* The first visible row of a list of n rows shown in `height` rows so that
 * row `sel` is visible, moving as little as possible from `top`. */
int tui_layout_scroll(int top, int sel, int n, int height);

/* Word wrap: splits the NUL-terminated s into lines of at most width bytes,
 * breaking after a blank where one is in reach (a longer word is cut), blanks
 * at a break dropped and '\n' always breaking. Line i is s[starts[i]] for lens[i]
 * bytes; only the first max are stored. Returns how many lines s needs (0 for "",
 * at least 1 otherwise); width < 1 counts as 1. */
size_t tui_wrap(const char *s, int width, size_t *starts, size_t *lens, size_t max);

/* The audit table's columns in a view `width` columns wide, two blanks between columns:
 * WHAT keeps ww; GUEST SEES (*gw) and PROFILE (*pw) come in at their widest value and
 * leave at most TUI_AUDIT_COL_MAX each; VERDICT gets the rest, and when that is under
 * TUI_AUDIT_VERDICT_MIN the wider of guest and profile gives up a column at a time, down
 * to TUI_AUDIT_COL_MIN (never below what it holds). *vw gets the verdict's width: at
 * least TUI_AUDIT_VERDICT_MIN (wider than the view when nothing more could give: the
 * view then scrolls sideways). vmwork.c wraps a longer verdict within *vw. */
#define TUI_AUDIT_COL_MAX 48
#define TUI_AUDIT_COL_MIN 16
#define TUI_AUDIT_VERDICT_MIN 24
void tui_audit_widths(int width, int ww, int *gw, int *pw, int *vw);

/* True when the curses library that runs (curses_version()'s text, e.g. "ncurses
 * 6.4.20221231") is one the start-up's leave-and-resume was checked on: ncurses 6.4 (any
 * patch date). That trick relies on how 6.4 flushes cursor moves before the screen was
 * left once; on another version it may do nothing or harm, so tui.c draws plainly there. */
bool tui_curses_resume_checked(const char *version);

/* Which of n items of widths[i] columns (gap included) a line of w columns shows:
 * every one when they fit, else the least important go first: items that are not
 * essential[i], from the last one back, until the rest fits (essential ones only
 * go when they alone do not fit, again from the last). show[i] gets the verdict;
 * returns the columns used. */
int tui_fit_items(const int *widths, const bool *essential, size_t n, int w, bool *show);

#endif
