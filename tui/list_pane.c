/* list_pane.c - the Profiles, VMs and Snapshots lists: which rows pass the
 * filter, selection and scrolling, drawing one pane (or the narrow layout's
 * tab row), and the filter prompt. Called by tui.c and actions.c. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static const char *const tui_pane_titles[TUI_PANE_COUNT] = {"Profiles", "VMs", "Snapshots"};

static size_t tui_pane_total(const tui_app *app, tui_pane pane)
{
    switch (pane) {
    case TUI_PANE_PROFILES:
        return app->nprofiles;
    case TUI_PANE_VMS:
        return app->nvms;
    default:
        return app->nsnaps;
    }
}

static bool tui_row_matches(const tui_app *app, tui_pane pane, size_t i, const char *filter)
{
    if (!filter[0])
        return true;
    if (pane == TUI_PANE_PROFILES) {
        const pvm_profile_brief *p = &app->profiles[i];
        return strcasestr(p->name, filter) || strcasestr(p->product, filter) ||
               strcasestr(p->manufacturer, filter);
    }
    if (pane == TUI_PANE_VMS)
        return strcasestr(app->vms[i].name, filter) != NULL;
    return strcasestr(app->snaps[i].tag, filter) != NULL;
}

/* Rebuilds one list's rows; keeps the selected data row when it still passes. */
static void tui_list_rebuild(tui_app *app, tui_pane pane, long keep)
{
    tui_list *l = &app->lists[pane];
    size_t total = tui_pane_total(app, pane);
    free(l->rows);
    l->rows = total ? pvm_xcalloc(total, sizeof *l->rows) : NULL;
    l->n = 0;
    int sel = -1;
    for (size_t i = 0; i < total; i++) {
        if (!tui_row_matches(app, pane, i, l->filter))
            continue;
        if ((long)i == keep)
            sel = (int)l->n;
        l->rows[l->n++] = i;
    }
    if (sel < 0)
        sel = l->sel < 0 ? 0 : l->sel;
    if (sel >= (int)l->n)
        sel = (int)l->n - 1;
    l->sel = sel;
}

void tui_lists_rebuild(tui_app *app, const long *keep)
{
    for (int p = 0; p < TUI_PANE_COUNT; p++)
        tui_list_rebuild(app, (tui_pane)p, keep ? keep[p] : -2);
}

void tui_snaps_sync(tui_app *app)
{
    const pvm_vm_brief *vm = tui_selected_vm_brief(app);
    const char *id = vm ? vm->id : "";
    if (app->snaps_loaded && strcmp(id, app->snaps_vm) == 0)
        return;
    pvm_snapshot_brief *list = NULL;
    size_t n = 0;
    pvm_error err = {0};
    if (vm && pvm_snapshot_briefs(app->engine, vm->id, &list, &n, &err) < 0) {
        tui_message_error(app, &err);
        list = NULL;
        n = 0;
    }
    free(app->snaps);
    app->snaps = list;
    app->nsnaps = n;
    app->snaps_loaded = true;
    pvm_strlcpy(app->snaps_vm, id, sizeof app->snaps_vm);
    tui_list_rebuild(app, TUI_PANE_SNAPSHOTS, -1);
    app->dirty |= TUI_DIRTY_LISTS | TUI_DIRTY_MESSAGE;
}

/* The check's box: whose snapshots, and the reconciliation's notes (written by the engine
 * thread, read by the UI thread after the job's done event). */
struct tui_snaps_check {
    char vm_id[PVM_UUID_LEN + 1];
    pvm_snapshot_notes notes;
};

static int tui_snaps_check_job(pvm_engine *e, void *arg, const pvm_progress *p, pvm_error *err)
{
    (void)p;
    struct tui_snaps_check *c = arg;
    pvm_snapshot *rows = NULL;
    size_t n = 0;
    int rc = pvm_snapshot_list(e, c->vm_id, &rows, &n, &c->notes, err);
    free(rows);
    return rc;
}

void tui_snaps_check(tui_app *app)
{
    if (app->snaps_check_job || !app->snaps_loaded || !app->snaps_vm[0] ||
        strcmp(app->snaps_vm, app->snaps_checked_vm) == 0)
        return;
    struct tui_snaps_check *c = pvm_xcalloc(1, sizeof *c);
    pvm_strlcpy(c->vm_id, app->snaps_vm, sizeof c->vm_id);
    pvm_error err = {0};
    unsigned id = 0;
    if (pvm_worker_submit_fn(app->worker, "snapshot check", tui_snaps_check_job, c, NULL, &id,
                             &err) < 0) {
        free(c);
        pvm_strlcpy(app->snaps_checked_vm, app->snaps_vm, sizeof app->snaps_checked_vm);
        tui_message_error(app, &err);
        return;
    }
    app->snaps_check = c;
    app->snaps_check_job = id;
}

bool tui_snaps_check_event(tui_app *app, const pvm_worker_event *ev)
{
    if (!app->snaps_check_job || ev->job != app->snaps_check_job)
        return false;
    if (!ev->done)
        return true;
    struct tui_snaps_check *c = app->snaps_check;
    app->snaps_check = NULL;
    app->snaps_check_job = 0;
    pvm_strlcpy(app->snaps_checked_vm, c->vm_id, sizeof app->snaps_checked_vm);
    /* not found: the VM was deleted meanwhile, nothing is left to check */
    if (ev->rc < 0 && ev->err.code != PVM_E_CANCELLED && ev->err.code != PVM_E_NOTFOUND) {
        tui_message_error(app, &ev->err);
    } else if (c->notes.n) {
        if (!app->job) /* a job's progress keeps the message line */
            tui_message(app, TUI_EL_TEXT, "%s%s", c->notes.line[0],
                        c->notes.n > 1 ? " (and more)" : "");
        if (strcmp(c->vm_id, app->snaps_vm) == 0)
            app->snaps_loaded = false; /* rows adopted or dropped: read them again */
        app->dirty |= TUI_DIRTY_LISTS | TUI_DIRTY_DETAILS | TUI_DIRTY_MESSAGE;
    }
    free(c);
    return true;
}

void tui_snaps_check_free(tui_app *app)
{
    free(app->snaps_check);
    app->snaps_check = NULL;
    app->snaps_check_job = 0;
}

const pvm_snapshot_brief *tui_selected_snapshot(tui_app *app)
{
    tui_snaps_sync(app);
    long i = tui_list_selected(app, TUI_PANE_SNAPSHOTS);
    return i >= 0 && (size_t)i < app->nsnaps ? &app->snaps[i] : NULL;
}

long tui_list_selected(const tui_app *app, tui_pane pane)
{
    const tui_list *l = &app->lists[pane];
    return (l->sel >= 0 && (size_t)l->sel < l->n) ? (long)l->rows[l->sel] : -1;
}

void tui_list_move(tui_app *app, int delta)
{
    tui_list *l = &app->lists[app->focus];
    if (!l->n)
        return;
    long s = (long)l->sel + delta;
    s = s < 0 ? 0 : s >= (long)l->n ? (long)l->n - 1 : s;
    if (s != l->sel) {
        l->sel = (int)s;
        app->dirty |= TUI_DIRTY_LISTS | TUI_DIRTY_DETAILS | TUI_DIRTY_HINTS;
    }
}

void tui_list_select_row(tui_app *app, tui_pane pane, int row)
{
    tui_list *l = &app->lists[pane];
    int idx = l->top + row;
    if (row < 0 || idx >= (int)l->n || idx == l->sel)
        return;
    l->sel = idx;
    app->dirty |= TUI_DIRTY_LISTS | TUI_DIRTY_DETAILS | TUI_DIRTY_HINTS;
}

void tui_list_home_end(tui_app *app, bool end)
{
    tui_list *l = &app->lists[app->focus];
    tui_list_move(app, end ? (int)l->n : -(int)l->n);
}

static void tui_state_cell(const pvm_vm_brief *vm, const char **text, int *attr)
{
    *text = pvm_vm_state_name(vm->state);
    switch (vm->state) {
    case PVM_VM_RUNNING:
    case PVM_VM_PAUSED:
        *attr = tui_theme_attr(TUI_EL_STATE_RUNNING);
        break;
    case PVM_VM_CRASHED:
        *attr = tui_theme_attr(TUI_EL_STATE_CRASHED);
        break;
    default:
        *attr = tui_theme_attr(TUI_EL_STATE_STOPPED);
    }
}

#define TUI_CPU_W 5 /* "100%" and a space */

static void tui_cpu_cell(tui_app *app, const pvm_vm_brief *vm, int y, int x, int w, int attr);

/* A snapshot row: its tag, then "mem"/"disk" and the time taken (UTC). */
static void tui_snap_row(const pvm_snapshot_brief *s, int y, int x, int w, int base, int dim)
{
    char when[32] = "";
    time_t t = (time_t)s->created_at;
    struct tm tm;
    if (gmtime_r(&t, &tm))
        strftime(when, sizeof when, "%m-%d %H:%M", &tm);
    int rw = w > 36 ? 16 : w > 16 ? 4 : 0; /* "mem  11-30 00:33", or "mem" alone */
    tui_draw_text(y, x + 1, w - rw - 2, base, s->tag);
    if (rw) {
        char right[48];
        snprintf(right, sizeof right, "%-4s %s", s->memory ? "mem" : "disk", when);
        tui_draw_text(y, x + w - rw - 1, rw, dim, right);
    }
}

static void tui_list_row(tui_app *app, tui_pane pane, size_t i, int y, int x, int w, bool sel)
{
    int base = tui_theme_attr(sel ? TUI_EL_SELECTED : TUI_EL_TEXT);
    tui_draw_fill(y, x, w, base);
    if (pane == TUI_PANE_SNAPSHOTS) {
        tui_snap_row(&app->snaps[i], y, x, w, base, sel ? base : tui_theme_attr(TUI_EL_DIM));
        return;
    }
    if (pane == TUI_PANE_PROFILES) {
        const pvm_profile_brief *p = &app->profiles[i];
        int nw = w > 40 ? w / 2 : w;
        tui_draw_text(y, x + 1, nw - 2, base, p->name);
        if (nw < w)
            tui_draw_text(y, x + nw, w - nw - 1, sel ? base : tui_theme_attr(TUI_EL_DIM),
                          p->product[0] ? p->product : "-");
        return;
    }
    const pvm_vm_brief *vm = &app->vms[i];
    const char *st;
    int sa;
    tui_state_cell(vm, &st, &sa);
    int sw = 8, cw = w >= 24 ? TUI_CPU_W : 0;
    const char *busy = tui_vm_busy_word(app, vm->name);
    if (busy)
        st = busy;
    tui_draw_text(y, x + 1, w - sw - cw - 3, base, vm->name);
    if (cw)
        tui_cpu_cell(app, vm, y, x + w - sw - cw - 2, cw, base);
    tui_draw_text(y, x + w - sw - 1, sw, sel ? base : sa, st);
}

/* The VM's CPU usage from its newest reading, right-aligned in w columns: "37%", "-"
 * while running but unknown (never 0), "..." while a snapshot freezes it, blank when
 * it does not run. */
static void tui_cpu_cell(tui_app *app, const pvm_vm_brief *vm, int y, int x, int w, int attr)
{
    char t[16] = "";
    pvm_usage u;
    if (vm->state == PVM_VM_RUNNING || vm->state == PVM_VM_PAUSED) {
        if (tui_vm_frozen(app, vm->name))
            snprintf(t, sizeof t, "...");
        else if (tui_monitor_last(app, vm->id, vm->pid, &u) && (u.known & PVM_U_CPU))
            snprintf(t, sizeof t, "%.0f%%", u.cpu_usage * 100);
        else
            snprintf(t, sizeof t, "-");
    }
    int len = (int)strlen(t);
    tui_draw_fill(y, x, w, attr);
    tui_draw_text(y, x + w - len, len, attr, t);
}

void tui_list_draw(tui_app *app, tui_pane pane)
{
    tui_rect r = app->layout.panes[pane];
    if (!r.h || !r.w)
        return;
    if (pane == TUI_PANE_SNAPSHOTS)
        tui_snaps_sync(app);
    tui_list *l = &app->lists[pane];
    bool focus = app->focus == pane && !app->modal;
    char title[TUI_FILTER_MAX + 48];
    if (l->filter[0])
        snprintf(title, sizeof title, "%s /%s (%zu)", tui_pane_titles[pane], l->filter, l->n);
    else
        snprintf(title, sizeof title, "%s (%zu)", tui_pane_titles[pane], l->n);
    tui_draw_clear(r);
    tui_draw_box(app, r, title, focus);
    int inner_h = r.h - 2, inner_w = r.w - 2;
    if (!l->n) {
        const char *empty = pane == TUI_PANE_SNAPSHOTS && !tui_selected_vm_brief(app)
                                ? "select a VM to see its snapshots"
                            : l->filter[0]           ? "nothing matches the filter"
                            : pane == TUI_PANE_SNAPSHOTS ? "no snapshots of this VM - p takes one"
                            : pane == TUI_PANE_PROFILES ? "no profiles: n makes one"
                                                        : "no VMs: n makes one";
        size_t starts[4], lens[4], n = tui_wrap(empty, inner_w - 2, starts, lens, 4);
        for (size_t i = 0; i < n && i < 4 && (int)i < inner_h; i++) { /* a narrow pane wraps it */
            char line[64];
            snprintf(line, sizeof line, "%.*s", (int)lens[i], empty + starts[i]);
            tui_draw_text(r.y + 1 + (int)i, r.x + 2, inner_w - 2, tui_theme_attr(TUI_EL_DIM),
                          line);
        }
        return;
    }
    l->top = tui_layout_scroll(l->top, l->sel, (int)l->n, inner_h);
    for (int row = 0; row < inner_h && (size_t)(l->top + row) < l->n; row++) {
        int idx = l->top + row;
        tui_list_row(app, pane, l->rows[idx], r.y + 1 + row, r.x + 1, inner_w,
                     idx == l->sel && (focus || app->layout.mode == TUI_LAYOUT_WIDE));
    }
}

static int tui_tab_text(const tui_app *app, int p, char *t, size_t size)
{
    snprintf(t, size, " %s (%zu) ", tui_pane_titles[p], app->lists[p].n);
    return (int)strlen(t);
}

int tui_tab_at(const tui_app *app, int x)
{
    int at = app->layout.tabs.x + 1;
    for (int p = 0; p < TUI_PANE_COUNT; p++) {
        char t[48];
        int w = tui_tab_text(app, p, t, sizeof t);
        if (x >= at && x < at + w)
            return p;
        at += w + 1;
    }
    return -1;
}

void tui_tabs_draw(tui_app *app)
{
    tui_rect r = app->layout.tabs;
    if (!r.h)
        return;
    tui_snaps_sync(app); /* the Snapshots tab's count is of the selected VM, shown or not */
    tui_draw_fill(r.y, r.x, r.w, tui_theme_attr(TUI_EL_TEXT));
    int x = r.x + 1;
    for (int p = 0; p < TUI_PANE_COUNT; p++) {
        char t[48];
        int w = tui_tab_text(app, p, t, sizeof t);
        tui_draw_text(r.y, x, w,
                      tui_theme_attr(p == (int)app->focus ? TUI_EL_TITLE_FOCUS : TUI_EL_TITLE), t);
        x += w + 1;
    }
}

/* ------------------------------------------------------------ the filter */

static void tui_filter_done(tui_app *app, const char *text, const char *arg)
{
    (void)arg;
    tui_list *l = &app->lists[app->focus];
    long keep = tui_list_selected(app, app->focus);
    pvm_strlcpy(l->filter, text, sizeof l->filter);
    tui_list_rebuild(app, app->focus, keep);
    app->dirty |= TUI_DIRTY_ALL;
}

void tui_filter_open(tui_app *app)
{
    if (app->focus == TUI_PANE_SNAPSHOTS)
        return;
    tui_prompt(app, "Filter", "show names containing (empty: all):",
               app->lists[app->focus].filter, tui_filter_done, NULL);
}
