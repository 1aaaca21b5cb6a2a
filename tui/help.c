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

static const char *tui_help_where(unsigned where)
{
    switch (where) {
    case TUI_IN_PROFILES:
        return "Profiles";
    case TUI_IN_VMS:
        return "VMs";
    case TUI_IN_PROFILES | TUI_IN_VMS:
        return "Profiles, VMs";
    default:
        return "";
    }
}

static void tui_help_draw(tui_modal *m, tui_app *app)
{
    tui_help *h = (tui_help *)m;
    size_t n;
    const tui_binding *b = tui_keymap(&n);
    tui_rect r = tui_draw_dialog(app, (int)n + 6, 100, "Keys (the man page lists the same)");
    if (!r.h)
        return;
    int rows = r.h - 4;
    int max = (int)n - rows;
    h->top = h->top > max ? (max > 0 ? max : 0) : h->top;
    for (int i = 0; i < rows && (size_t)(h->top + i) < n; i++) {
        const tui_binding *k = &b[h->top + i];
        char names[64], line[256];
        tui_keymap_names(k, names, sizeof names);
        snprintf(line, sizeof line, "%-14s %s", tui_help_where(k->where), k->help);
        tui_draw_text(r.y + 1 + i, r.x + 2, 16, tui_theme_attr(TUI_EL_KEY_HINT), names);
        tui_draw_text(r.y + 1 + i, r.x + 19, r.w - 21, tui_theme_attr(TUI_EL_TEXT), line);
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
