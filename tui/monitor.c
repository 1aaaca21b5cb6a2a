/* monitor.c - live usage in the TUI: one pvm_sampler watching every running VM. Its
 * watch calls run as worker jobs on the engine thread (the sampler's owner), its readings
 * reach the UI thread through its self-pipe, polled by tui.c's loop; + and - change its
 * interval. Called by tui.c (sync, poll, events, free), actions.c (+/-), details.c and
 * list_pane.c (the newest reading). */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The intervals + and - step through, in ms (within PVM_SAMPLE_INTERVAL_MIN..MAX). */
static const int tui_intervals[] = {100, 200, 500, 1000, 2000, 5000};

/* The running VMs as one number: ids and pids (FNV-1a); 0 when none run. */
static uint64_t tui_running_sig(const tui_app *app)
{
    uint64_t h = 0;
    for (size_t i = 0; i < app->nvms; i++) {
        const pvm_vm_brief *vm = &app->vms[i];
        if (vm->state != PVM_VM_RUNNING && vm->state != PVM_VM_PAUSED)
            continue;
        if (!h)
            h = 1469598103934665603ull;
        for (const char *p = vm->id; *p; p++)
            h = (h ^ (unsigned char)*p) * 1099511628211ull;
        h = (h ^ (uint64_t)(unsigned)vm->pid) * 1099511628211ull;
    }
    return h;
}

/* The watch job (engine thread): every running VM watched, ended series forgotten. */
static int tui_monitor_job(pvm_engine *e, void *arg, const pvm_progress *p, pvm_error *err)
{
    (void)p;
    pvm_sampler *s = arg;
    int rc = pvm_sampler_watch_running(s, e, NULL, err);
    pvm_series_info *all = NULL;
    size_t n = pvm_sampler_list(s, &all);
    for (size_t i = 0; i < n; i++)
        if (all[i].ended)
            pvm_sampler_unwatch(s, all[i].id);
    free(all);
    return rc;
}

static void tui_monitor_submit(tui_app *app)
{
    pvm_error err = {0};
    unsigned id = 0;
    if (pvm_worker_submit_fn(app->worker, "live usage", tui_monitor_job, app->sampler, NULL, &id,
                             &err) < 0) {
        tui_message_error(app, &err);
        return;
    }
    app->monitor_job = id;
    app->monitor_resync = false;
}

void tui_monitor_sync(tui_app *app)
{
    if (!app->framed)
        return; /* the first frame waits for no sampler: tui_loop syncs once it is out */
    uint64_t sig = tui_running_sig(app);
    if (sig == app->monitor_sig)
        return;
    if (!app->sampler) {
        if (!sig)
            return; /* nothing runs: no sampler, no threads */
        pvm_error err = {0};
        if (pvm_sampler_new(PVM_SAMPLE_INTERVAL_DEFAULT, 0, &app->sampler, &err) < 0) {
            tui_message_error(app, &err);
            return;
        }
    }
    app->monitor_sig = sig;
    if (app->monitor_job)
        app->monitor_resync = true; /* once the queued one ended */
    else
        tui_monitor_submit(app);
}

bool tui_monitor_event(tui_app *app, const pvm_worker_event *ev)
{
    if (!app->monitor_job || ev->job != app->monitor_job)
        return false;
    if (!ev->done)
        return true;
    app->monitor_job = 0;
    if (ev->rc < 0 && ev->err.code != PVM_E_CANCELLED)
        tui_message(app, TUI_EL_ERROR, "live usage: %s", ev->err.msg);
    if (app->monitor_resync)
        tui_monitor_submit(app);
    app->dirty |= TUI_DIRTY_LIVE;
    return true;
}

int tui_monitor_fd(const tui_app *app)
{
    return app->sampler ? pvm_sampler_notify_fd(app->sampler) : -1;
}

void tui_monitor_readings(tui_app *app)
{
    if (!app->sampler)
        return;
    pvm_sampler_drain(app->sampler);
    app->dirty |= TUI_DIRTY_LIVE;
}

void tui_monitor_free(tui_app *app)
{
    pvm_sampler_free(app->sampler);
    app->sampler = NULL;
}

bool tui_monitor_last(const tui_app *app, const char *vm_id, int pid, pvm_usage *out)
{
    pvm_series_info info;
    if (!app->sampler || pvm_sampler_get(app->sampler, vm_id, &info, NULL) < 0 || info.ended ||
        info.pid != pid || info.samples == 0)
        return false;
    *out = info.last;
    return true;
}

static int tui_interval(const tui_app *app)
{
    return app->sampler ? pvm_sampler_interval(app->sampler) : PVM_SAMPLE_INTERVAL_DEFAULT;
}

void tui_monitor_window(const tui_app *app, size_t n, char *out, size_t size)
{
    long long s = (long long)n * tui_interval(app) / 1000;
    if (s < 60)
        snprintf(out, size, "%llds", s);
    else if (s < 3600)
        snprintf(out, size, "%lldm %02llds", s / 60, s % 60);
    else
        snprintf(out, size, "%lldh %02lldm", s / 3600, s / 60 % 60);
}

static void tui_interval_text(int ms, char *out, size_t size)
{
    if (ms < 1000)
        snprintf(out, size, "%d ms", ms);
    else
        snprintf(out, size, "%d s", ms / 1000);
}

void tui_monitor_step(tui_app *app, int dir)
{
    size_t n = sizeof tui_intervals / sizeof tui_intervals[0];
    int cur = tui_interval(app), next = cur;
    for (size_t i = 0; i < n; i++) {
        if (dir > 0 && tui_intervals[i] > cur) {
            next = tui_intervals[i];
            break;
        }
        if (dir < 0 && tui_intervals[n - 1 - i] < cur) {
            next = tui_intervals[n - 1 - i];
            break;
        }
    }
    if (!app->sampler) { /* nothing runs yet: the sampler starts with the chosen interval */
        pvm_error err = {0};
        if (pvm_sampler_new(next, 0, &app->sampler, &err) < 0) {
            tui_message_error(app, &err);
            return;
        }
    }
    pvm_error err = {0};
    if (pvm_sampler_set_interval(app->sampler, next, &err) < 0) {
        tui_message_error(app, &err);
        return;
    }
    char t[32];
    tui_interval_text(next, t, sizeof t);
    tui_message(app, TUI_EL_TEXT, "live usage: a reading every %s%s (+ slower, - faster)", t,
                next == cur ? (dir > 0 ? ", the longest" : ", the shortest") : "");
    app->dirty |= TUI_DIRTY_DETAILS;
}
