/* mouse.c - the mouse, which is never needed: a click focuses a pane (or a tab)
 * and selects the row under it, the wheel scrolls the list under the pointer,
 * or a modal (the log viewer, pickers) as Up/Down. Where the terminal has no
 * mouse (vt100, linux) ncurses reports none and nothing changes. Called by tui.c. */
#include "internal.h"

#define TUI_WHEEL_ROWS 3

void tui_mouse_start(void)
{
    /* presses, not clicks: ncurses would wait mouseinterval() to tell them apart */
    mousemask(BUTTON1_PRESSED | BUTTON4_PRESSED | BUTTON5_PRESSED, NULL);
    mouseinterval(0);
}

static void tui_focus(tui_app *app, tui_pane pane)
{
    if (app->focus == pane)
        return;
    app->focus = pane;
    tui_relayout(app);
}

static int tui_wheel(mmask_t b)
{
    if (b & BUTTON4_PRESSED)
        return -1;
#ifdef BUTTON5_PRESSED
    if (b & BUTTON5_PRESSED)
        return 1;
#endif
    return 0;
}

void tui_mouse_event(tui_app *app)
{
    MEVENT ev;
    if (getmouse(&ev) != OK || app->layout.mode == TUI_LAYOUT_TOO_SMALL)
        return;
    int wheel = tui_wheel(ev.bstate);
    if (app->modal) {
        int key = wheel < 0 ? KEY_UP : KEY_DOWN;
        for (int i = 0; wheel && app->modal && i < TUI_WHEEL_ROWS; i++)
            if (app->modal->key(app->modal, app, key) == TUI_MODAL_CLOSE)
                tui_modal_open(app, NULL);
        return;
    }
    tui_hit hit = tui_layout_hit(&app->layout, ev.y, ev.x);
    if (wheel) {
        if (hit.kind == TUI_HIT_PANE)
            tui_focus(app, hit.pane);
        tui_list_move(app, wheel * TUI_WHEEL_ROWS);
        return;
    }
    if (!(ev.bstate & BUTTON1_PRESSED))
        return;
    if (hit.kind == TUI_HIT_TABS) {
        int p = tui_tab_at(app, ev.x);
        if (p >= 0)
            tui_focus(app, (tui_pane)p);
    } else if (hit.kind == TUI_HIT_PANE) {
        tui_focus(app, hit.pane);
        tui_list_select_row(app, hit.pane, hit.row);
    }
}
