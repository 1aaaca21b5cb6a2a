/* help.c - the help screen (? or F1): every key of tui/keymap.c's table with
 * where it acts and what it does, scrollable. Opened by actions.c. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct tui_help {
    tui_modal m;
    int top;
} tui_help;

#define TUI_HELP_WHERE_W 15 /* tui_keymap_where: "Profiles, Snaps" */

/* The rows each key needs: its help wrapped to w columns (at most 4 rows). */
static int tui_help_rows(const tui_binding *k, int w)
{
    size_t starts[4], lens[4];
    size_t n = tui_wrap(k->help, w, starts, lens, 4);
    return n < 1 ? 1 : n > 4 ? 4 : (int)n;
}

static void tui_help_draw(tui_modal *m, tui_app *app)
{
    tui_help *h = (tui_help *)m;
    size_t n;
    const tui_binding *b = tui_keymap(&n);
    int dw = COLS < 100 ? COLS : 100;
    int tw = dw - 21 - TUI_HELP_WHERE_W - 1; /* the help text's column */
    tw = tw < 10 ? 10 : tw;
    int total = 0;
    for (size_t i = 0; i < n; i++)
        total += tui_help_rows(&b[i], tw);
    tui_rect r = tui_draw_dialog(app, total + 6, 100, "Keys (the man page lists the same)");
    if (!r.h)
        return;
    tw = r.w - 21 - TUI_HELP_WHERE_W - 1;
    tw = tw < 10 ? 10 : tw;
    int rows = r.h - 4;
    /* h->top counts keys; the last page starts where the remaining keys fill the rows */
    int max = (int)n, fill = 0;
    while (max > 0 && fill + tui_help_rows(&b[max - 1], tw) <= rows)
        fill += tui_help_rows(&b[--max], tw);
    h->top = h->top > max ? max : h->top;
    int y = r.y + 1;
    for (size_t i = (size_t)h->top; i < n; i++) {
        const tui_binding *k = &b[i];
        size_t starts[4], lens[4];
        size_t lines = tui_wrap(k->help, tw, starts, lens, 4);
        lines = lines > 4 ? 4 : lines;
        if (y + (int)(lines ? lines : 1) > r.y + 1 + rows)
            break;
        char names[64], line[256];
        tui_keymap_names(k, names, sizeof names);
        tui_draw_text(y, r.x + 2, 16, tui_theme_attr(TUI_EL_KEY_HINT), names);
        tui_draw_text(y, r.x + 19, TUI_HELP_WHERE_W, tui_theme_attr(TUI_EL_DIM),
                      tui_keymap_where(k->where));
        for (size_t l = 0; l < lines; l++) {
            snprintf(line, sizeof line, "%.*s", (int)lens[l], k->help + starts[l]);
            tui_draw_text(y + (int)l, r.x + 19 + TUI_HELP_WHERE_W + 1, tw,
                          tui_theme_attr(TUI_EL_TEXT), line);
        }
        y += lines ? (int)lines : 1;
    }
    const char *hints[] = {"Up/Down", "scroll", "q/Esc/?", "close"};
    tui_draw_hints(r.y + r.h - 2, r.x + 2, r.w - 4, hints, 2);
}

static tui_modal_result tui_help_key(tui_modal *m, tui_app *app, int ch)
{
    tui_help *h = (tui_help *)m;
    app->dirty |= TUI_DIRTY_MODAL;
    if (ch == KEY_UP || ch == 'k')
        h->top = h->top > 0 ? h->top - 1 : 0;
    else if (ch == KEY_DOWN || ch == 'j' || ch == ' ')
        h->top++;
    else if (ch == 'q' || ch == 27 || ch == '?' || ch == KEY_F(1) || ch == '\n')
        return TUI_MODAL_CLOSE;
    return TUI_MODAL_KEEP;
}

static void tui_help_free(tui_modal *m)
{
    free(m);
}

void tui_help_open(tui_app *app)
{
    tui_help *h = pvm_xcalloc(1, sizeof *h);
    h->m = (tui_modal){tui_help_draw, tui_help_key, NULL, tui_help_free, false};
    tui_modal_open(app, &h->m);
}
