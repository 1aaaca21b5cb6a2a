/* tui.c - the full-screen interface's main loop: terminal set-up and tear-down,
 * one poll over the keyboard and the engine thread's pipe, the once-a-second
 * change watch, redrawing only what is dirty, the application state's data
 * (profiles, VMs as brief rows, the selected VM whole, host) and the start-up trace
 * (PRIVARION_VM_TRACE). Entered from cli/main.c through pvm_tui_run. */
#include "tui.h"
#include "internal.h"

#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define TUI_WATCH_MS 1000 /* the store and live processes are looked at this often */
#define TUI_TICK_MS 500   /* an open log viewer looks for new lines this often */

static volatile sig_atomic_t tui_stop_flag;

static void tui_on_signal(int sig)
{
    (void)sig;
    tui_stop_flag = 1;
}

int64_t tui_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------ the tracer */

static double tui_clock_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000 + ts.tv_nsec / 1e6;
}

#define TUI_TRACE_MAX 65536 /* start-up is what it is for: a long session stops adding */

void tui_trace(tui_app *app, const char *step)
{
    if (!app->trace_text || app->trace_len > TUI_TRACE_MAX)
        return;
    char line[240];
    int n = snprintf(line, sizeof line, "trace: %8.2f ms  %s\n", tui_clock_ms() - app->trace_t0_ms,
                     step);
    size_t len = n < 0 ? 0 : (size_t)n >= sizeof line ? sizeof line - 1 : (size_t)n;
    app->trace_text = pvm_xrealloc(app->trace_text, app->trace_len + len + 1);
    memcpy(app->trace_text + app->trace_len, line, len + 1);
    app->trace_len += len;
}

static void tui_trace_report(void *ctx, const char *step, double fraction)
{
    (void)fraction;
    tui_trace(ctx, step);
}

/* The engine's steps on the UI thread join the TUI's own. */
static void tui_trace_start(tui_app *app, const pvm_tui_opts *opts)
{
    if (!opts->trace)
        return;
    app->trace_t0_ms = opts->t0_ms;
    app->trace_text = pvm_xcalloc(1, 1);
    app->tracer = (pvm_progress){.cancel_fd = -1, .report = tui_trace_report, .ctx = app};
}

/* After the screen is left: the steps, as the command line prints its own. */
static void tui_trace_end(tui_app *app)
{
    if (app->trace_text)
        fputs(app->trace_text, stderr);
    free(app->trace_text);
    app->trace_text = NULL;
}

/* ------------------------------------------------------------ messages */

/* The rows the message needs at the terminal's width (1 .. TUI_MESSAGE_MAX_ROWS). */
static int tui_message_need(const tui_app *app)
{
    size_t starts[1], lens[1];
    size_t n = tui_wrap(app->message, app->layout.cols - 2, starts, lens, 0);
    return n < 1 ? 1 : n > TUI_MESSAGE_MAX_ROWS ? TUI_MESSAGE_MAX_ROWS : (int)n;
}

void tui_relayout(tui_app *app)
{
    tui_layout_compute(COLS, LINES, app->focus, &app->layout);
    app->message_rows = tui_message_need(app);
    tui_layout_message_rows(&app->layout, app->message_rows);
    app->dirty |= TUI_DIRTY_ALL;
}

void tui_message(tui_app *app, tui_element el, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(app->message, sizeof app->message, fmt, ap);
    va_end(ap);
    app->message_el = el;
    app->message_seq++;
    app->dirty |= TUI_DIRTY_MESSAGE;
    /* a message that needs another number of rows moves the hints and the panes */
    if (app->layout.cols && tui_message_need(app) != app->message_rows)
        tui_relayout(app);
}

void tui_message_error(tui_app *app, const pvm_error *err)
{
    tui_message(app, TUI_EL_ERROR, "%s", err->msg[0] ? err->msg : "failed (no reason given)");
}

/* ------------------------------------------------------------ data */

const pvm_profile_brief *tui_profile_by_id(const tui_app *app, const char *id)
{
    for (size_t i = 0; i < app->nprofiles; i++)
        if (strcmp(app->profiles[i].id, id) == 0)
            return &app->profiles[i];
    return NULL;
}

const pvm_profile_brief *tui_selected_brief(const tui_app *app)
{
    long i = tui_list_selected(app, TUI_PANE_PROFILES);
    return i >= 0 ? &app->profiles[i] : NULL;
}

const pvm_profile *tui_profile_full(tui_app *app, const char *id)
{
    if (strcmp(app->profile.id, id) != 0) {
        pvm_error err = {0};
        if (pvm_profile_get_id(app->engine, id, &app->profile, &err) < 0) {
            app->profile.id[0] = '\0';
            return NULL;
        }
    }
    return &app->profile;
}

const pvm_profile *tui_selected_profile(tui_app *app)
{
    const pvm_profile_brief *b = tui_selected_brief(app);
    return b ? tui_profile_full(app, b->id) : NULL;
}

const pvm_vm_brief *tui_selected_vm_brief(const tui_app *app)
{
    long i = tui_list_selected(app, TUI_PANE_VMS);
    return i >= 0 ? &app->vms[i] : NULL;
}

const pvm_vm *tui_selected_vm(tui_app *app)
{
    const pvm_vm_brief *b = tui_selected_vm_brief(app);
    if (!b)
        return NULL;
    if (strcmp(app->vm.id, b->id) != 0) {
        pvm_error err = {0};
        if (pvm_vm_get_brief(app->engine, b, &app->vm, &err) < 0) {
            app->vm.id[0] = '\0';
            /* deleted by another session: the next change watch drops its row; any other
             * error is said once, not at every redraw */
            if (err.code != PVM_E_NOTFOUND && strcmp(app->vm_failed, b->id) != 0)
                tui_message_error(app, &err);
            pvm_strlcpy(app->vm_failed, b->id, sizeof app->vm_failed);
            return NULL;
        }
    }
    return &app->vm;
}

void tui_reload(tui_app *app)
{
    pvm_error err = {0};
    char pid[PVM_UUID_LEN + 1] = "", vid[PVM_UUID_LEN + 1] = "";
    const pvm_profile_brief *p = tui_selected_brief(app);
    const pvm_vm_brief *v = tui_selected_vm_brief(app);
    if (p)
        pvm_strlcpy(pid, p->id, sizeof pid);
    if (v)
        pvm_strlcpy(vid, v->id, sizeof vid);
    pvm_profile_brief *profiles = NULL;
    pvm_vm_brief *vms = NULL;
    size_t np = 0, nv = 0;
    tui_trace(app, "reading profiles");
    int rc = pvm_profile_list_brief(app->engine, &profiles, &np, &err);
    tui_trace(app, "reading VMs");
    if (rc < 0 || pvm_vm_list_brief(app->engine, &vms, &nv, &err) < 0) {
        free(profiles);
        tui_message_error(app, &err);
        return;
    }
    free(app->profiles);
    free(app->vms);
    app->profiles = profiles;
    app->nprofiles = np;
    app->profile.id[0] = '\0'; /* the selected one is read again: it may have changed */
    app->vms = vms;
    app->nvms = nv;
    app->vm.id[0] = '\0'; /* the selected VM too: its settings and state may have changed */
    app->vm_failed[0] = '\0';
    long keep[TUI_PANE_COUNT] = {-1, -1, -1};
    for (size_t i = 0; i < np; i++)
        if (strcmp(profiles[i].id, pid) == 0)
            keep[TUI_PANE_PROFILES] = (long)i;
    for (size_t i = 0; i < nv; i++)
        if (strcmp(vms[i].id, vid) == 0)
            keep[TUI_PANE_VMS] = (long)i;
    tui_lists_rebuild(app, keep);
    app->snaps_loaded = false; /* the Snapshots pane reads them again when drawn */
    app->snaps_checked_vm[0] = '\0'; /* and has them checked against the image again */
    pvm_engine_data_version(app->engine, &app->data_version, &err);
    app->dirty |= TUI_DIRTY_HEADER | TUI_DIRTY_LISTS | TUI_DIRTY_DETAILS | TUI_DIRTY_HINTS;
    tui_monitor_sync(app);
}

bool tui_vm_frozen(const tui_app *app, const char *vm_name)
{
    return app->job && app->job_kind == PVM_JOB_CUSTOM && vm_name &&
           strcmp(app->job_target, vm_name) == 0 &&
           (strcmp(app->job_state, "saving") == 0 || strcmp(app->job_state, "restoring") == 0);
}

/* Once a second: another session's commit, a QEMU that ended, the uptime shown. */
static void tui_watch(tui_app *app)
{
    pvm_error err = {0};
    int64_t v;
    app->last_watch_ms = tui_now_ms();
    bool changed = pvm_engine_data_version(app->engine, &v, &err) == 0 && v != app->data_version;
    for (size_t i = 0; !changed && i < app->nvms; i++)
        changed = app->vms[i].pid > 0 && !pvm_vm_brief_alive(&app->vms[i]);
    if (changed)
        tui_reload(app);
    const pvm_vm *vm = app->focus != TUI_PANE_PROFILES ? tui_selected_vm(app) : NULL;
    if (vm) {
        char up[32];
        tui_uptime_text(vm, up, sizeof up);
        if (strcmp(up, app->uptime_shown) != 0)
            app->dirty |= TUI_DIRTY_DETAILS;
    }
}

/* ------------------------------------------------------------ the engine thread */

void tui_submit(tui_app *app, pvm_job_kind kind, const char *vm)
{
    pvm_error err = {0};
    if (app->job) {
        tui_message(app, TUI_EL_ERROR, "wait for the %s of '%s' to end (Esc cancels it)",
                    pvm_job_kind_name(app->job_kind), app->job_target);
        return;
    }
    unsigned id;
    if (pvm_worker_submit(app->worker, kind, vm, &id, &err) < 0) {
        tui_message_error(app, &err);
        return;
    }
    app->job = id;
    app->job_kind = kind;
    pvm_strlcpy(app->job_target, vm, sizeof app->job_target);
    app->job_step[0] = '\0';
    tui_message(app, TUI_EL_TEXT, "%s of '%s' ...", pvm_job_kind_name(kind), vm);
    app->dirty |= TUI_DIRTY_LISTS | TUI_DIRTY_HINTS;
}

int tui_submit_fn(tui_app *app, const char *label, pvm_job_fn fn, void *arg,
                  void (*free_arg)(void *), pvm_error *err)
{
    if (app->job) {
        if (free_arg)
            free_arg(arg);
        return pvm_error_set(err, PVM_E_BUSY, "wait for the %s of '%s' to end (Esc cancels it)",
                             pvm_job_kind_name(app->job_kind), app->job_target);
    }
    unsigned id;
    if (pvm_worker_submit_fn(app->worker, label, fn, arg, free_arg, &id, err) < 0) {
        if (free_arg)
            free_arg(arg);
        return -1;
    }
    app->job = id;
    app->job_kind = PVM_JOB_CUSTOM;
    app->job_done[0] = '\0';
    app->job_state[0] = '\0';
    app->job_verb[0] = '\0';
    pvm_strlcpy(app->job_target, label, sizeof app->job_target);
    app->job_step[0] = '\0';
    app->dirty |= TUI_DIRTY_LISTS | TUI_DIRTY_HINTS;
    return 0;
}

static void tui_worker_event(tui_app *app, const pvm_worker_event *ev)
{
    if (tui_monitor_event(app, ev) || tui_thumb_event(app, ev) ||
        tui_snaps_check_event(app, ev))
        return;
    if (!ev->done) {
        if (ev->job == app->job) {
            if (ev->fraction >= 0)
                snprintf(app->job_step, sizeof app->job_step, "%s (%d%%)", ev->step,
                         (int)(ev->fraction * 100));
            else
                pvm_strlcpy(app->job_step, ev->step, sizeof app->job_step);
            tui_message(app, TUI_EL_TEXT, "%s of '%s': %s   Esc cancels",
                        ev->job == app->starter_job ? "starter"
                        : app->job_verb[0]          ? app->job_verb
                                                    : pvm_job_kind_name(ev->kind),
                        ev->target, app->job_step);
        }
        return;
    }
    if (ev->job == app->job) {
        app->job = 0;
        app->job_verb[0] = '\0';
        app->dirty |= TUI_DIRTY_HINTS | TUI_DIRTY_LISTS;
    }
    if (tui_starter_done(app, ev))
        return;
    if (tui_work_done(app, ev)) {
        tui_reload(app);
        return;
    }
    if (ev->rc == 0 && ev->kind == PVM_JOB_CUSTOM && app->job_done[0] && ev->note[0]) {
        tui_message(app, TUI_EL_ERROR, "%s; warning: %s", app->job_done, ev->note);
    } else if (ev->rc == 0 && ev->kind == PVM_JOB_CUSTOM && app->job_done[0]) {
        tui_message(app, TUI_EL_OK, "%s", app->job_done);
    } else if (ev->rc == 0 && ev->note[0]) { /* started, with a warning (stock QEMU ...) */
        tui_message(app, TUI_EL_ERROR, "VM '%s' started; warning: %s", ev->target, ev->note);
    } else if (ev->rc == 0) {
        static const char *const done[] = {"started", "stopped", "forced off", "deleted", "done",
                                           "resumed"};
        tui_message(app, TUI_EL_OK, "VM '%s' %s", ev->target,
                    (unsigned)ev->kind < sizeof done / sizeof done[0] ? done[ev->kind] : "done");
    } else {
        tui_message(app, TUI_EL_ERROR, "%s of '%s' failed: %s", pvm_job_kind_name(ev->kind),
                    ev->target, ev->err.msg);
    }
    tui_reload(app);
}

static void tui_worker_drain(tui_app *app)
{
    pvm_worker_event ev;
    while (pvm_worker_next(app->worker, &ev))
        tui_worker_event(app, &ev);
}

/* ------------------------------------------------------------ drawing */

void tui_modal_open(tui_app *app, tui_modal *m)
{
    if (app->modal)
        app->modal->free(app->modal);
    app->modal = m;
    app->modal_seq++;
    app->dirty |= TUI_DIRTY_ALL;
}

/* The focused pane's hints; when they do not all fit, the least important go
 * first and "? help", "q quit" (and "Esc cancel" while a job runs) stay. */
static void tui_hints_draw(tui_app *app)
{
    enum { MAX = 32 };
    tui_rect r = app->layout.hints;
    const char *keys[MAX], *labels[MAX], *pairs[2 * MAX];
    int widths[MAX];
    bool essential[MAX], show[MAX];
    size_t n = 0, count, np = 0;
    const tui_binding *b = tui_keymap(&count);
    unsigned bit = 1u << app->focus;
    if (app->job) {
        keys[n] = "Esc";
        labels[n] = "cancel";
        essential[n++] = true;
    }
    for (size_t i = 0; i < count && n < MAX; i++) {
        if (!b[i].hint[0] || !(b[i].where & bit))
            continue;
        keys[n] = b[i].keys[0].name;
        labels[n] = b[i].hint;
        essential[n++] = b[i].action == TUI_ACT_HELP || b[i].action == TUI_ACT_QUIT;
    }
    for (size_t i = 0; i < n; i++)
        widths[i] = (int)(strlen(keys[i]) + 1 + strlen(labels[i]) + 2);
    tui_fit_items(widths, essential, n, r.w - 1 + 2, show); /* the last gap is not drawn */
    for (size_t i = 0; i < n; i++) {
        if (!show[i])
            continue;
        pairs[np++] = keys[i];
        pairs[np++] = labels[i];
    }
    tui_draw_hints(r.y, r.x + 1, r.w - 1, pairs, np / 2);
}

/* The message, wrapped over the rows it has; when even those are too few its
 * end is kept (the reason an error gives comes last) and "..." starts it. */
static void tui_message_draw(tui_app *app)
{
    tui_rect r = app->layout.message;
    size_t starts[64], lens[64];
    size_t n = tui_wrap(app->message, r.w - 2, starts, lens, 64);
    n = n > 64 ? 64 : n;
    size_t first = n > (size_t)r.h ? n - (size_t)r.h : 0;
    for (int row = 0; row < r.h; row++) {
        tui_draw_fill(r.y + row, r.x, r.w, tui_theme_attr(TUI_EL_TEXT));
        size_t i = first + (size_t)row;
        if (i >= n)
            continue;
        char line[600];
        snprintf(line, sizeof line, "%s%.*s", row == 0 && first ? "..." : "", (int)lens[i],
                 app->message + starts[i]);
        tui_draw_text(r.y + row, r.x + 1, r.w - 2, tui_theme_attr(app->message_el), line);
    }
}

/* Wrapped to the width there is, centred on the rows there are: never cut. */
static void tui_too_small(tui_app *app)
{
    char text[160];
    size_t starts[16], lens[16];
    erase();
    snprintf(text, sizeof text, "privarion-vm needs a terminal of at least %dx%d (this one is "
             "%dx%d)", TUI_MIN_COLS, TUI_MIN_ROWS, COLS, LINES);
    size_t n = tui_wrap(text, COLS, starts, lens, 16);
    n = n > 16 ? 16 : n;
    int y = (LINES - (int)n) / 2;
    for (size_t i = 0; i < n; i++) {
        char line[160];
        snprintf(line, sizeof line, "%.*s", (int)lens[i], text + starts[i]);
        tui_draw_text(y + (int)i < 0 ? 0 : y + (int)i, 0, COLS, A_NORMAL, line);
    }
    (void)app;
}

static void tui_render(tui_app *app)
{
    unsigned d = app->dirty;
    app->dirty = 0;
    /* a modal may have shrunk (an error line gone): what it covered is redrawn
     * under it; curses sends only the cells that really changed */
    if (app->modal && (d & TUI_DIRTY_MODAL))
        d |= TUI_DIRTY_HEADER | TUI_DIRTY_LISTS | TUI_DIRTY_DETAILS | TUI_DIRTY_HINTS |
             TUI_DIRTY_MESSAGE;
    if (app->layout.mode == TUI_LAYOUT_TOO_SMALL) {
        tui_too_small(app);
    } else {
        if (d == TUI_DIRTY_ALL)
            erase();
        if (d & TUI_DIRTY_HEADER)
            tui_header_draw(app);
        if (d & TUI_DIRTY_LISTS) {
            tui_tabs_draw(app);
            for (int p = 0; p < TUI_PANE_COUNT; p++)
                tui_list_draw(app, (tui_pane)p);
            if (!app->framed)
                tui_trace(app, "lists drawn");
        }
        if (d & TUI_DIRTY_DETAILS)
            tui_details_draw(app);
        if (!app->framed)
            tui_trace(app, "details drawn");
        if (d & TUI_DIRTY_HINTS)
            tui_hints_draw(app);
        if (d & TUI_DIRTY_MESSAGE)
            tui_message_draw(app);
        /* a new reading alone: the sparkline rows, the CPU cells and the host load, not
         * under a modal (nothing of it shows there) */
        if ((d & TUI_DIRTY_LIVE) && !app->modal) {
            if (!(d & TUI_DIRTY_HEADER) && app->monitor_sig)
                tui_header_draw(app); /* the load: refreshed only while VMs run */
            if (!(d & TUI_DIRTY_LISTS))
                tui_list_draw(app, TUI_PANE_VMS);
            if (!(d & TUI_DIRTY_DETAILS))
                tui_details_live_draw(app);
        }
        if (app->modal)
            app->modal->draw(app->modal, app); /* last: it sits on top and places the cursor */
    }
    curs_set(app->modal && app->modal->cursor && app->layout.mode != TUI_LAYOUT_TOO_SMALL ? 1 : 0);
    wnoutrefresh(stdscr);
    if (!app->framed)
        tui_trace(app, "frame composed; writing it");
    doupdate();
    app->framed = true;
}

/* ------------------------------------------------------------ keys */

static void tui_resize(tui_app *app)
{
    tui_relayout(app);
}

/* Keys that only look around (move, scroll, help, redraw) leave an error standing. */
static bool tui_action_looks(tui_action act)
{
    return act == TUI_ACT_NONE || (act >= TUI_ACT_NEXT_PANE && act <= TUI_ACT_END) ||
           act == TUI_ACT_HELP || act == TUI_ACT_REDRAW;
}

/* An error stays until the next action that does something and says nothing of its
 * own went through: then it is stale, and the line goes blank. */
static void tui_message_settle(tui_app *app, bool was_error, unsigned seq)
{
    if (was_error && app->message_seq == seq && app->message_el == TUI_EL_ERROR)
        tui_message(app, TUI_EL_TEXT, "%s", "");
}

static void tui_handle_key(tui_app *app, int ch)
{
    if (ch == KEY_RESIZE) {
        tui_resize(app);
        return;
    }
    if (ch == KEY_MOUSE) {
        tui_mouse_event(app);
        return;
    }
    if (ch == 0x0c) { /* Ctrl-L works everywhere, also inside forms */
        tui_do_action(app, TUI_ACT_REDRAW);
        return;
    }
    bool was_error = app->message_el == TUI_EL_ERROR;
    unsigned seq = app->message_seq;
    if (app->modal) {
        if (app->layout.mode == TUI_LAYOUT_TOO_SMALL)
            return; /* keys wait until the form can be seen again */
        unsigned opened = app->modal_seq;
        if (app->modal->key(app->modal, app, ch) == TUI_MODAL_CLOSE)
            tui_modal_open(app, NULL);
        if (app->modal_seq != opened && !app->modal) /* it closed: what it did went through */
            tui_message_settle(app, was_error, seq);
        return;
    }
    tui_action act = tui_keymap_lookup(ch, app->focus);
    if (app->layout.mode == TUI_LAYOUT_TOO_SMALL && act != TUI_ACT_QUIT)
        return;
    tui_do_action(app, act);
    if (!tui_action_looks(act) && !app->modal)
        tui_message_settle(app, was_error, seq);
}

/* Reads every waiting key; false when the terminal is gone (read error, EOF). */
static bool tui_read_keys(tui_app *app, bool readable)
{
    int got = 0;
    for (int ch; (ch = getch()) != ERR;) {
        got++;
        tui_handle_key(app, ch);
        if (app->quit || tui_stop_flag)
            break;
    }
    /* poll said readable but curses read nothing: end of file or an I/O error */
    return !(readable && got == 0);
}

/* ------------------------------------------------------------ set-up */

void tui_suspend(tui_app *app)
{
    (void)app;
    def_prog_mode();
    endwin();
}

void tui_resume(tui_app *app)
{
    reset_prog_mode();
    clearok(curscr, TRUE);
    tui_resize(app);
    tui_reload(app);
}

/* SIGHUP, SIGTERM and SIGINT end the loop. A SIGHUP ignored by whoever started
 * us (nohup) stays ignored: losing the terminal still ends the TUI, through the
 * hang-up or read error poll() then reports on standard input. */
static void tui_signals(void)
{
    struct sigaction sa = {.sa_handler = tui_on_signal}, old; /* no SA_RESTART: poll wakes */
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGHUP, NULL, &old) == 0 && old.sa_handler != SIG_IGN)
        sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

static bool tui_utf8(void)
{
    const char *cs = nl_langinfo(CODESET);
    return cs && (strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf8") == 0);
}

/* Home and End as tmux, screen, xterm and the Linux console send them, whatever
 * TERM's terminfo says (TERM=xterm inside tmux is common over SSH). */
static void tui_define_keys(void)
{
    static const struct { const char *seq; int key; } keys[] = {
        {"\033[1~", KEY_HOME}, {"\033[4~", KEY_END}, {"\033[H", KEY_HOME},
        {"\033[F", KEY_END},   {"\033OH", KEY_HOME}, {"\033OF", KEY_END},
        {"\033[7~", KEY_HOME}, {"\033[8~", KEY_END},
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (key_defined(keys[i].seq) == 0)
            define_key(keys[i].seq, keys[i].key);
}

static SCREEN *tui_curses_start(tui_app *app, const char *theme, bool ascii)
{
    SCREEN *s = newterm(NULL, stdout, stdin);
    tui_trace(app, "terminal opened (terminfo read, screens allocated)");
    if (!s)
        return NULL;
    set_term(s);
    cbreak();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    tui_define_keys();
    tui_mouse_start();
    nodelay(stdscr, TRUE);
    set_escdelay(25);
    curs_set(0);
    leaveok(stdscr, FALSE);
    /* ncurses 6.4 sends each cursor move of a refresh as a write() of its own until the
     * screen has been left once (its mvcur flushes while the screen is still "initial"):
     * a frame went out in some 170 writes of a few bytes, each a wake-up of the terminal's
     * reader (over SSH a packet). Left and resumed once here, before anything is drawn and
     * before the colours start (a resume with colours on resets the terminal's palette), a
     * frame leaves in two or three writes. That is 6.4's internal behaviour, measured on
     * 6.4 only (bench/tui): another version may flush otherwise, and an endwin() there
     * could send the terminal's exit and init strings for nothing (a flash of the
     * alternate screen), so elsewhere the first frame is drawn plainly. */
    if (tui_curses_resume_checked(curses_version())) {
        def_prog_mode();
        endwin();
        doupdate();
        keypad(stdscr, TRUE); /* the keypad mode endwin() left, sent now, not at the first getch */
    }
    app->ascii_lines = ascii || !tui_utf8();
    app->spark_style = app->ascii_lines ? PVM_SPARK_ASCII : PVM_SPARK_BRAILLE;
    pvm_error err = {0};
    char configured[72] = "";
    if (!theme && pvm_engine_theme(app->engine, configured, sizeof configured, &err) < 0)
        tui_message_error(app, &err); /* a broken config: the default theme, and why */
    else if (!theme)
        theme = configured;           /* no --theme: HOME/config's theme */
    if (tui_theme_init(theme, &err) < 0)
        tui_message_error(app, &err);
    app->no_colour = !pvm_color_wanted() || !has_colors();
    return s;
}

static int tui_open_engine(tui_app *app)
{
    pvm_error err = {0};
    tui_trace(app, "opening the engine");
    if (pvm_engine_open(&app->engine, app->home_flag, &err) < 0) {
        tui_trace_end(app);
        fprintf(stderr, "privarion-vm: %s\n", err.msg);
        return pvm_error_exit_status(&err);
    }
    if (app->trace_text)
        pvm_engine_set_trace(app->engine, &app->tracer);
    tui_trace(app, "engine open; starting the engine thread");
    if (pvm_worker_new(app->home_flag, &app->worker, &err) < 0) {
        tui_trace_end(app);
        fprintf(stderr, "privarion-vm: %s\n", err.msg);
        pvm_engine_close(app->engine);
        return pvm_error_exit_status(&err);
    }
    tui_trace(app, "engine thread started; reading the host");
    if (pvm_host_info_get(app->engine, &app->host, &err) < 0)
        tui_message_error(app, &err);
    tui_trace(app, "host read");
    return 0;
}

static void tui_loop(tui_app *app)
{
    while (!app->quit && !tui_stop_flag) {
        bool first = !app->framed;
        if (app->dirty)
            tui_render(app);
        if (first) {
            tui_trace(app, "first frame written");
            tui_monitor_sync(app); /* the live usage of running VMs starts after it */
        }
        tui_snaps_check(app); /* after the frame is drawn, on the engine thread */
        int64_t now = tui_now_ms();
        int64_t wait = app->last_watch_ms + TUI_WATCH_MS - now;
        if (app->modal && app->modal->tick && wait > TUI_TICK_MS)
            wait = TUI_TICK_MS;
        struct pollfd fds[3] = {{.fd = 0, .events = POLLIN},
                                {.fd = pvm_worker_fd(app->worker), .events = POLLIN},
                                {.fd = tui_monitor_fd(app), .events = POLLIN}};
        int r = poll(fds, 3, wait < 0 ? 0 : (int)wait);
        if (r < 0 && errno != EINTR)
            break;
        if (r > 0 && (fds[0].revents & (POLLHUP | POLLERR | POLLNVAL)))
            break; /* the terminal hung up: SSH dropped */
        if (!tui_read_keys(app, r > 0 && (fds[0].revents & POLLIN)))
            break;
        tui_worker_drain(app);
        if (r > 0 && (fds[2].revents & POLLIN))
            tui_monitor_readings(app);
        if (tui_now_ms() - app->last_watch_ms >= TUI_WATCH_MS) {
            tui_watch(app);
            tui_thumb_tick(app);
        }
        if (app->modal && app->modal->tick)
            app->modal->tick(app->modal, app);
    }
}

int pvm_tui_run(const pvm_tui_opts *opts)
{
    if (!isatty(0) || !isatty(1)) {
        fprintf(stderr, "privarion-vm: the full-screen interface needs a terminal on standard input "
                        "and output; use a command instead (see 'privarion-vm --help')\n");
        return 2;
    }
    setlocale(LC_ALL, "");
    tui_app app = {0};
    app.home_flag = opts->home_flag;
    app.stop = &tui_stop_flag;
    app.focus = TUI_PANE_PROFILES;
    tui_trace_start(&app, opts);
    tui_trace(&app, "TUI entered");
    int rc = tui_open_engine(&app);
    if (rc)
        return rc;
    tui_signals();
    SCREEN *screen = tui_curses_start(&app, opts->theme, opts->ascii);
    tui_trace(&app, "terminal modes and theme set");
    if (!screen) {
        tui_trace_end(&app);
        const char *term = getenv("TERM");
        fprintf(stderr, "privarion-vm: cannot use the terminal (TERM=%s): not in terminfo\n",
                term ? term : "(unset)");
        pvm_worker_free(app.worker);
        pvm_engine_close(app.engine);
        return 2;
    }
    if (!app.message[0])
        tui_message(&app, TUI_EL_TEXT, "? shows every key; q quits (VMs keep running)");
    tui_reload(&app);
    tui_trace(&app, "profiles and VMs read");
    tui_resize(&app);
    tui_starter_offer(&app);
    app.last_watch_ms = tui_now_ms();
    tui_loop(&app);
    tui_modal_open(&app, NULL);
    endwin();
    delscreen(screen);
    tui_trace_end(&app);
    tui_theme_free();
    /* cancels an operation in flight; VMs keep running. A job that does not honour
     * the cancel within a second is left to the process's exit. */
    if (pvm_worker_stop(app.worker, 1000)) {
        tui_monitor_free(&app); /* the sampler's owner thread has ended: its threads join */
        tui_work_free(&app);    /* no job of theirs can run any more */
        tui_thumb_free(&app);
        tui_snaps_check_free(&app);
    }
    pvm_engine_close(app.engine);
    for (int p = 0; p < TUI_PANE_COUNT; p++)
        free(app.lists[p].rows);
    free(app.profiles);
    free(app.vms);
    free(app.snaps);
    return 0;
}
