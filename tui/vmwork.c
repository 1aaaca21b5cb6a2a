/* vmwork.c - the guest work keys of the VMs pane: i installs a host file into the
 * running VM (pvm_app_install on the engine thread, bytes and percent on the message
 * line, Esc cancels through the job's cancel descriptor, the result in a text view),
 * A audits the identity from inside the guest (pvm_vm_audit on the engine thread, the
 * side-by-side table in a text view) and D shows vm display's instructions. Called by
 * actions.c (keys), form.c (the install form's submit) and tui.c (job ends). */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef enum { TUI_WORK_INSTALL = 1, TUI_WORK_AUDIT } tui_work_kind;

/* One job's input and result: written by the engine thread while it runs, read by the
 * UI thread after the job's done event (the worker's queue orders the two). The UI
 * thread frees it (the worker is given no free_arg). */
struct tui_work {
    tui_work_kind kind;
    unsigned job;
    char vm[PVM_NAME_MAX + 1];
    char file[PVM_PATH_MAX], to[PVM_PATH_MAX], run[PVM_PATH_MAX];
    uint64_t size;               /* the file's bytes, for the progress text */
    const pvm_progress *outer;   /* the worker's, while the job runs */
    pvm_install rec;
    pvm_exec_result out;
    pvm_audit audit;
};

static void tui_work_free1(tui_work *w)
{
    if (!w)
        return;
    pvm_exec_result_free(&w->out);
    pvm_audit_free(&w->audit);
    free(w);
}

void tui_work_free(tui_app *app)
{
    tui_work_free1(app->work);
    app->work = NULL;
}

static const pvm_vm *tui_work_vm(tui_app *app, const char *what)
{
    const pvm_vm *vm = tui_selected_vm(app);
    if (!vm) {
        tui_message(app, TUI_EL_ERROR, "no VM selected: pick one in the VMs pane");
        return NULL;
    }
    if (vm->state != PVM_VM_RUNNING) {
        tui_message(app, TUI_EL_ERROR, "VM '%s' is %s: %s needs it running (s starts it)",
                    vm->name, pvm_vm_state_name(vm->state), what);
        return NULL;
    }
    return vm;
}

/* ------------------------------------------------------------ install */

/* The engine's report with the bytes copied so far: "copying into the guest: 3.0M of 12M". */
static void tui_install_report(void *ctx, const char *step, double fraction)
{
    tui_work *w = ctx;
    char text[160], a[32], b[32];
    if (fraction >= 0 && w->size && strncmp(step, "copying", 7) == 0)
        snprintf(text, sizeof text, "%s: %s of %s", step,
                 pvm_size_format((uint64_t)(fraction * (double)w->size), a, sizeof a),
                 pvm_size_format(w->size, b, sizeof b));
    else
        snprintf(text, sizeof text, "%s", step);
    if (w->outer && w->outer->report)
        w->outer->report(w->outer->ctx, text, fraction);
}

static int tui_install_job(pvm_engine *e, void *arg, const pvm_progress *progress,
                           pvm_error *err)
{
    tui_work *w = arg;
    pvm_install_opts o = {w->to[0] ? w->to : NULL, w->run[0] ? w->run : NULL, 0};
    pvm_progress p = {progress->cancel_fd, tui_install_report, w};
    w->outer = progress;
    int rc = pvm_app_install(e, w->vm, w->file, &o, &p, &w->rec, &w->out, err);
    w->outer = NULL;
    return rc;
}

int tui_install_submit(tui_app *app, const char *vm, const char *file, const char *to,
                       const char *run, pvm_error *err)
{
    pvm_install_opts o = {to[0] ? to : NULL, run[0] ? run : NULL, 0};
    if (pvm_install_check(file, &o, err) < 0)
        return -1;
    tui_work *w = pvm_xcalloc(1, sizeof *w);
    w->kind = TUI_WORK_INSTALL;
    pvm_strlcpy(w->vm, vm, sizeof w->vm);
    pvm_strlcpy(w->file, file, sizeof w->file);
    pvm_strlcpy(w->to, to, sizeof w->to);
    pvm_strlcpy(w->run, run, sizeof w->run);
    struct stat st;
    w->size = stat(file, &st) == 0 ? (uint64_t)st.st_size : 0;
    if (tui_submit_fn(app, vm, tui_install_job, w, NULL, err) < 0) {
        tui_work_free1(w);
        return -1;
    }
    tui_work_free(app); /* an earlier job's result, long shown */
    app->work = w;
    w->job = app->job;
    pvm_strlcpy(app->job_verb, "install", sizeof app->job_verb);
    tui_message(app, TUI_EL_TEXT, "install of %s into '%s' ...   Esc cancels", file, vm);
    return 0;
}

static void tui_install_result(tui_app *app, tui_work *w, const pvm_worker_event *ev)
{
    tui_text *t = tui_text_new();
    char title[96];
    if (ev->rc == 0) {
        tui_text_add(t, TUI_EL_OK, "Installed %s into VM '%s' at %s", w->rec.file, w->vm,
                     w->rec.guest_path);
        tui_text_add(t, TUI_EL_TEXT, "%llu bytes, SHA-256 %s checked in the guest",
                     (unsigned long long)w->rec.bytes, w->rec.sha256);
        if (w->rec.command[0])
            tui_text_add(t, TUI_EL_TEXT, "Ran: %s (exit status %d)", w->rec.command,
                         w->rec.status);
        else
            tui_text_add(t, TUI_EL_TEXT, "Copied only: no installer for this kind of file");
        tui_message(app, TUI_EL_OK, "installed %s into '%s' at %s", w->rec.file, w->vm,
                    w->rec.guest_path);
    } else {
        tui_text_add(t, TUI_EL_ERROR, "The install of %s into VM '%s' failed:", w->file, w->vm);
        tui_text_add(t, TUI_EL_ERROR, "%s", ev->err.msg);
        tui_text_add(t, TUI_EL_DIM, "Nothing was recorded and the copied file was removed.");
        tui_message(app, TUI_EL_ERROR, "install into '%s' failed: %s", w->vm, ev->err.msg);
    }
    /* the output, bounded by the engine (the agent's size limits) and here */
    if (w->out.out_len || w->out.err_len) {
        tui_text_add(t, TUI_EL_TEXT, "%s", "");
        tui_text_add(t, TUI_EL_TITLE, "%s", "Output of the installer:");
        if (w->out.out_len)
            tui_text_add(t, TUI_EL_TEXT, "%.*s", w->out.out_len > 65536 ? 65536 : (int)w->out.out_len,
                         w->out.out);
        if (w->out.err_len)
            tui_text_add(t, TUI_EL_DIM, "%.*s", w->out.err_len > 65536 ? 65536 : (int)w->out.err_len,
                         w->out.err);
    }
    if (ev->err.code == PVM_E_CANCELLED) { /* a cancel needs no window: the message says it */
        tui_text_free(t);
        tui_message(app, TUI_EL_TEXT, "install into '%s' cancelled; the partial file was "
                    "removed", w->vm);
        return;
    }
    snprintf(title, sizeof title, "Install into %s", w->vm);
    tui_text_open(app, title, t);
}

/* ------------------------------------------------------------ audit */

static int tui_audit_job(pvm_engine *e, void *arg, const pvm_progress *progress, pvm_error *err)
{
    tui_work *w = arg;
    if (progress->report)
        progress->report(progress->ctx, "reading what the guest sees", -1);
    return pvm_vm_audit(e, w->vm, &w->audit, err);
}

static void tui_audit_start(tui_app *app)
{
    const pvm_vm *vm = tui_work_vm(app, "an audit");
    if (!vm)
        return;
    pvm_error err = {0};
    tui_work *w = pvm_xcalloc(1, sizeof *w);
    w->kind = TUI_WORK_AUDIT;
    pvm_strlcpy(w->vm, vm->name, sizeof w->vm);
    if (tui_submit_fn(app, vm->name, tui_audit_job, w, NULL, &err) < 0) {
        tui_work_free1(w);
        tui_message_error(app, &err);
        return;
    }
    tui_work_free(app);
    app->work = w;
    w->job = app->job;
    pvm_strlcpy(app->job_verb, "audit", sizeof app->job_verb);
    tui_message(app, TUI_EL_TEXT, "audit of '%s': reading what the guest sees ...", vm->name);
}

static void tui_audit_result(tui_app *app, tui_work *w, const pvm_worker_event *ev)
{
    if (ev->rc < 0) {
        tui_message(app, TUI_EL_ERROR, "audit of '%s' failed: %s", w->vm, ev->err.msg);
        return;
    }
    pvm_audit *au = &w->audit;
    int ww = 4, gw = 10, pw = 7;
    for (size_t i = 0; i < au->n; i++) { /* what and guest come from the guest: escaped */
        pvm_audit_item *it = &au->items[i];
        char buf[4 * sizeof it->guest];
        pvm_strlcpy(it->what, pvm_escape_ctl(it->what, buf, sizeof it->what), sizeof it->what);
        pvm_strlcpy(it->guest, pvm_escape_ctl(it->guest, buf, sizeof it->guest),
                    sizeof it->guest);
        int a = tui_text_width(it->what), g = tui_text_width(it->guest),
            p = tui_text_width(it->expected); /* columns, not bytes: "é" is 2 bytes in 1 */
        ww = a > ww ? a : ww;
        gw = g > gw ? g : gw;
        pw = p > pw ? p : pw;
    }
    int vw; /* the view's widest inner width: its dialog at COLS - 2, less 4 */
    tui_audit_widths(COLS - 6, ww, &gw, &pw, &vw);
    tui_text *t = tui_text_new();
    tui_text_add(t, au->mismatches || au->marks ? TUI_EL_ERROR : TUI_EL_OK,
                 "%d mismatch%s with the profile, %d virtualization mark%s seen inside the guest",
                 au->mismatches, au->mismatches == 1 ? "" : "es", au->marks,
                 au->marks == 1 ? "" : "s");
    if (au->edited_fields[0]) { /* wrapped to the window, as the verdicts are */
        char *line = pvm_xasprintf("the profile was edited since the VM started (%s): the VM "
                                   "wears the identity of its start until it restarts",
                                   au->edited_fields);
        size_t starts[16], lens[16], n = tui_wrap(line, COLS - 6, starts, lens, 16);
        for (size_t k = 0; k < n && k < 16; k++)
            tui_text_add(t, TUI_EL_ERROR, "%.*s", (int)lens[k], line + starts[k]);
        free(line);
    }
    tui_text_add(t, TUI_EL_TITLE, "%-*s  %-*s  %-*s  %s", ww, "WHAT", gw, "GUEST SEES", pw,
                 "PROFILE", "VERDICT");
    for (size_t i = 0; i < au->n; i++) {
        const pvm_audit_item *it = &au->items[i];
        char verdict[300];
        pvm_audit_verdict(it, verdict, sizeof verdict);
        /* the cells cut and padded by display columns (cells.c): a value with UTF-8 in
         * it ("Société", a cut one's "…") keeps the columns aligned */
        char cells[3 * 1024];
        tui_audit_cells(it->what, it->guest, it->expected, ww, gw, pw, cells, sizeof cells);
        tui_element el = it->mismatch || it->mark ? TUI_EL_ERROR : TUI_EL_TEXT;
        /* the verdict wrapped in its column, continued under it */
        size_t starts[16], lens[16]; /* 300 bytes in 24 columns: at most 13 lines */
        size_t nl = verdict[0] ? tui_wrap(verdict, vw, starts, lens, 16) : 0;
        nl = nl > 16 ? 16 : nl;
        tui_text_add(t, el, "%s%.*s", cells, nl ? (int)lens[0] : 0, nl ? verdict + starts[0] : "");
        for (size_t k = 1; k < nl; k++)
            tui_text_add(t, el, "%*s%.*s", ww + gw + pw + 6, "", (int)lens[k],
                         verdict + starts[k]);
    }
    char title[96];
    snprintf(title, sizeof title, "Audit of %s (vm audit)", w->vm);
    tui_message(app, au->mismatches || au->marks ? TUI_EL_ERROR : TUI_EL_OK,
                "audit of '%s': %d mismatch%s, %d mark%s", w->vm, au->mismatches,
                au->mismatches == 1 ? "" : "es", au->marks, au->marks == 1 ? "" : "s");
    tui_text_open(app, title, t);
}

/* ------------------------------------------------------------ display */

static void tui_display_show(tui_app *app)
{
    const pvm_vm *vm = tui_selected_vm(app);
    if (!vm) {
        tui_message(app, TUI_EL_ERROR, "no VM selected: pick one in the VMs pane");
        return;
    }
    char sock[PVM_PATH_MAX], text[4096];
    pvm_error err = {0};
    if (pvm_vm_display_socket(app->engine, vm->name, sock, sizeof sock, &err) < 0) {
        tui_message_error(app, &err);
        return;
    }
    pvm_display_howto_text(vm->name, sock, app->home_flag, text, sizeof text);
    tui_text *t = tui_text_new();
    tui_text_add(t, TUI_EL_TEXT, "%s", text);
    char title[96];
    snprintf(title, sizeof title, "Screen of %s (vm display)", vm->name);
    tui_text_open(app, title, t);
}

/* ------------------------------------------------------------ keys and ends */

void tui_work_key(tui_app *app, tui_action act)
{
    if (act == TUI_ACT_AUDIT) {
        tui_audit_start(app);
    } else if (act == TUI_ACT_DISPLAY) {
        tui_display_show(app);
    } else if (act == TUI_ACT_INSTALL) {
        const pvm_vm *vm = tui_work_vm(app, "an install");
        if (vm)
            tui_install_form_open(app, vm);
    }
}

bool tui_work_done(tui_app *app, const pvm_worker_event *ev)
{
    tui_work *w = app->work;
    if (!w || !ev->done || ev->job != w->job)
        return false;
    if (w->kind == TUI_WORK_INSTALL)
        tui_install_result(app, w, ev);
    else
        tui_audit_result(app, w, ev);
    tui_work_free(app);
    app->dirty |= TUI_DIRTY_DETAILS;
    return true;
}
