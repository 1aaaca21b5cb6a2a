/* actions.c - what each key of tui/keymap.c does on the main screen: moving,
 * the profile and VM operations (quick ones on the UI thread's engine handle,
 * long ones queued on the engine thread), export/import, console, quit.
 * Called by tui.c's key dispatch. */
#include "internal.h"
#include "../cli/console.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <term.h>
#include <unistd.h>

#define TUI_IMPORT_MAX (16u << 20) /* the CLI's import limit */

/* ------------------------------------------------------------ new profile */

static bool tui_profile_name_taken(const tui_app *app, const char *name)
{
    for (size_t i = 0; i < app->nprofiles; i++)
        if (strcmp(app->profiles[i].name, name) == 0)
            return true;
    return false;
}

static void tui_profile_create_named(tui_app *app, const char *name, const char *preset_key)
{
    pvm_error err = {0};
    pvm_profile p;
    const pvm_preset *preset = preset_key[0] ? pvm_preset_find(preset_key) : NULL;
    pvm_profile_init(&p);
    if (pvm_profile_set_name(&p, name, &err) < 0) {
        tui_message_error(app, &err);
        return;
    }
    if (preset)
        pvm_preset_apply(preset, &p);
    if (pvm_profile_randomize_unique(app->engine, &p, preset, &err) < 0 ||
        pvm_profile_create(app->engine, &p, NULL, &err) < 0) {
        tui_message_error(app, &err);
        return;
    }
    tui_reload(app);
    tui_list *l = &app->lists[TUI_PANE_PROFILES];
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(app->profiles[l->rows[i]].id, p.id) == 0)
            l->sel = (int)i;
    tui_message(app, TUI_EL_OK, "profile '%s' created%s%s with a random identity%s%s%s; "
                "e edits it", p.name, preset ? " from " : "", preset ? preset->key : "",
                !preset && p.preset[0] ? " (model of " : "", !preset ? p.preset : "",
                !preset && p.preset[0] ? ")" : "");
    app->dirty |= TUI_DIRTY_ALL;
}

static void tui_new_profile_picked(tui_app *app, const pvm_preset *preset)
{
    char name[PVM_NAME_MAX + 1];
    const char *base = preset ? preset->key : "profile";
    pvm_strlcpy(name, base, sizeof name);
    for (int i = 2; tui_profile_name_taken(app, name) && i < 1000; i++) {
        char tmp[PVM_NAME_MAX + 16];
        snprintf(tmp, sizeof tmp, "%.56s-%d", base, i);
        pvm_strlcpy(name, tmp, sizeof name);
    }
    tui_prompt(app, "New profile", "name of the new profile:", name, tui_profile_create_named,
               preset ? preset->key : "");
}

/* ------------------------------------------------------------ deletes */

static void tui_profile_delete_yes(tui_app *app, const char *id)
{
    pvm_error err = {0};
    pvm_profile p;
    if (pvm_profile_get(app->engine, id, &p, &err) < 0 ||
        pvm_profile_delete(app->engine, id, &err) < 0) {
        tui_message_error(app, &err);
        return;
    }
    tui_message(app, TUI_EL_OK, "profile '%s' deleted", p.name);
    tui_reload(app);
}

static void tui_vm_delete_yes(tui_app *app, const char *name)
{
    tui_submit(app, PVM_JOB_DELETE, name);
}

static void tui_vm_force_yes(tui_app *app, const char *name)
{
    tui_submit(app, PVM_JOB_FORCE_STOP, name);
}

/* ------------------------------------------------------------ snapshots
 * Taken, restored and deleted on the engine thread (a save stops the guest for a
 * moment; the screen keeps answering); arg is "VMID TAG" (TAG empty: a new one). */

/* A restore; its last note (a stopped VM's boot on stock QEMU comes last) becomes the done
 * event's warning, with a count of the others. */
static int tui_snap_restore(pvm_engine *e, const char *vm, const char *tag,
                            const pvm_progress *progress, pvm_error *err)
{
    pvm_snapshot_notes *notes = pvm_xcalloc(1, sizeof *notes);
    int rc = pvm_snapshot_restore(e, vm, tag, NULL, progress, notes, err);
    size_t more = notes->n ? notes->n - 1 + notes->dropped : 0;
    if (rc == 0 && notes->n) {
        char text[PVM_START_NOTE_MAX];
        if (more)
            snprintf(text, sizeof text, "%s (and %zu more)", notes->line[notes->n - 1], more);
        else
            snprintf(text, sizeof text, "%s", notes->line[notes->n - 1]);
        pvm_worker_note(progress, text);
    }
    free(notes);
    return rc;
}

static int tui_snap_job(pvm_engine *e, void *arg, const pvm_progress *progress, pvm_error *err)
{
    char *vm = arg, *op = strchr(vm, ' '), *tag;
    *op++ = '\0';
    tag = strchr(op, ' ');
    *tag++ = '\0';
    if (strcmp(op, "take") == 0)
        return pvm_snapshot_create(e, vm, *tag ? tag : NULL, NULL, progress, NULL, NULL, err);
    if (strcmp(op, "restore") == 0)
        return tui_snap_restore(e, vm, tag, progress, err);
    return pvm_snapshot_delete(e, vm, tag, progress, NULL, err);
}

static void tui_snap_submit(tui_app *app, const char *vm_id, const char *vm_name,
                            const char *op, const char *tag)
{
    pvm_error err = {0};
    if (app->job) {
        tui_message(app, TUI_EL_ERROR, "wait for the %s of '%s' to end (Esc cancels it)",
                    pvm_job_kind_name(app->job_kind), app->job_target);
        return;
    }
    char label[PVM_NAME_MAX + 1];
    snprintf(label, sizeof label, "%s", vm_name);
    char *arg = pvm_xasprintf("%s %s %s", vm_id, op, tag);
    unsigned id;
    if (pvm_worker_submit_fn(app->worker, label, tui_snap_job, arg, free, &id, &err) < 0) {
        tui_message_error(app, &err);
        return;
    }
    app->job = id;
    app->job_kind = PVM_JOB_CUSTOM;
    snprintf(app->job_target, sizeof app->job_target, "%s", label);
    snprintf(app->job_state, sizeof app->job_state, "%s",
             strcmp(op, "take") == 0 ? "saving" : strcmp(op, "restore") == 0 ? "restoring" : "");
    if (strcmp(op, "take") == 0)
        snprintf(app->job_done, sizeof app->job_done,
                 "snapshot '%s' of VM '%s' taken (listed in the Snapshots pane)", tag, vm_name);
    else if (strcmp(op, "restore") == 0)
        snprintf(app->job_done, sizeof app->job_done, "VM '%s' restored to snapshot '%s'",
                 vm_name, tag);
    else
        snprintf(app->job_done, sizeof app->job_done, "snapshot '%s' of VM '%s' deleted", tag,
                 vm_name);
    app->job_step[0] = '\0';
    tui_message(app, TUI_EL_TEXT, "snapshot %s of VM '%s' ...", op, vm_name);
    app->dirty |= TUI_DIRTY_LISTS | TUI_DIRTY_DETAILS | TUI_DIRTY_HINTS | TUI_DIRTY_MESSAGE;
}

/* The tag prompt's Enter (the tag passed pvm_snapshot_tag_check); arg: the VM's id. */
static void tui_snap_tagged(tui_app *app, const char *tag, const char *id)
{
    const pvm_vm *vm = tui_selected_vm(app);
    tui_snap_submit(app, id, vm && strcmp(vm->id, id) == 0 ? vm->name : id, "take", tag);
}

/* p: asks for the tag, prefilled with the one the engine would choose (Enter takes it). */
static void tui_snap_take(tui_app *app)
{
    const pvm_vm *vm = tui_selected_vm(app);
    if (!vm) {
        tui_message(app, TUI_EL_ERROR, "no VM selected: pick one in the VMs pane");
        return;
    }
    if (app->job) { /* say it now, not after the tag was typed */
        tui_message(app, TUI_EL_ERROR, "wait for the %s of '%s' to end (Esc cancels it)",
                    pvm_job_kind_name(app->job_kind), app->job_target);
        return;
    }
    char tag[PVM_SNAP_TAG_MAX + 1], title[64], label[160];
    pvm_error err = {0};
    if (pvm_snapshot_tag_default(app->engine, vm->id, tag, sizeof tag, &err) < 0) {
        tui_message_error(app, &err);
        return;
    }
    snprintf(title, sizeof title, "Snapshot of %.40s", vm->name);
    snprintf(label, sizeof label, "Tag (letters, digits, '.', '_', '-'; %s):",
             vm->state == PVM_VM_RUNNING || vm->state == PVM_VM_PAUSED
                 ? "with its memory state" : "disk only");
    tui_prompt_checked(app, title, label, tag, pvm_snapshot_tag_check, tui_snap_tagged, vm->id);
}

/* arg: "VMID TAG" of the confirmed snapshot. */
static void tui_snap_confirmed(tui_app *app, const char *arg, const char *op)
{
    char id[PVM_UUID_LEN + 1];
    snprintf(id, sizeof id, "%.*s", (int)strcspn(arg, " "), arg);
    const char *tag = strchr(arg, ' ') ? strchr(arg, ' ') + 1 : "";
    const pvm_vm *vm = tui_selected_vm(app);
    tui_snap_submit(app, id, vm && strcmp(vm->id, id) == 0 ? vm->name : id, op, tag);
}

static void tui_snap_restore_yes(tui_app *app, const char *arg)
{
    tui_snap_confirmed(app, arg, "restore");
}

static void tui_snap_delete_yes(tui_app *app, const char *arg)
{
    tui_snap_confirmed(app, arg, "delete");
}

/* Restore (restore true) or delete the selected snapshot, after asking. */
static void tui_snap_ask(tui_app *app, bool restore)
{
    const pvm_vm *vm = tui_selected_vm(app);
    const pvm_snapshot_brief *s = tui_selected_snapshot(app);
    if (!vm || !s) {
        tui_message(app, TUI_EL_ERROR, "no snapshot selected");
        return;
    }
    char q[256], arg[PVM_UUID_LEN + PVM_SNAP_TAG_MAX + 2];
    snprintf(arg, sizeof arg, "%s %s", vm->id, s->tag);
    if (restore) {
        snprintf(q, sizeof q, "Restore VM '%s' to snapshot '%s'? Its state since then is lost.",
                 vm->name, s->tag);
        tui_confirm(app, "Restore snapshot", q, tui_snap_restore_yes, arg);
    } else {
        snprintf(q, sizeof q, "Delete snapshot '%s' of VM '%s'?", s->tag, vm->name);
        tui_confirm(app, "Delete snapshot", q, tui_snap_delete_yes, arg);
    }
}

/* What d on a VM takes with it, said before it is done: the disk (its size) with the
 * snapshots inside it (the store's count, pvm_snapshot_briefs as the Snapshots pane reads
 * it) and the folder. A count that cannot be read is said as "any snapshots". */
static void tui_vm_delete_question(tui_app *app, const pvm_vm *vm, char *q, size_t size)
{
    char disk[32], snaps[64] = "";
    pvm_snapshot_brief *list = NULL;
    size_t n = 0;
    pvm_error err = {0};
    pvm_size_format(vm->disk_bytes, disk, sizeof disk);
    if (pvm_snapshot_briefs(app->engine, vm->id, &list, &n, &err) < 0)
        pvm_strlcpy(snaps, ", any snapshots in it", sizeof snaps);
    else if (n)
        snprintf(snaps, sizeof snaps, ", its %zu snapshot%s", n, n == 1 ? "" : "s");
    free(list);
    snprintf(q, size, "Delete VM '%s'? Its %s disk%s and its folder go for good.", vm->name,
             disk, snaps);
}

static void tui_delete(tui_app *app)
{
    char q[256];
    if (app->focus == TUI_PANE_SNAPSHOTS) {
        tui_snap_ask(app, false);
    } else if (app->focus == TUI_PANE_PROFILES) {
        const pvm_profile_brief *p = tui_selected_brief(app);
        if (!p)
            return;
        snprintf(q, sizeof q, "Delete profile '%s'? Its identity is gone for good.", p->name);
        tui_confirm(app, "Delete profile", q, tui_profile_delete_yes, p->id);
    } else if (app->focus == TUI_PANE_VMS) {
        const pvm_vm *vm = tui_selected_vm(app);
        if (!vm)
            return;
        if (vm->state == PVM_VM_RUNNING || vm->state == PVM_VM_PAUSED) {
            tui_message(app, TUI_EL_ERROR,
                        "VM '%s' is %s: stop it first with S (or x forces it off), then d "
                        "deletes it", vm->name, pvm_vm_state_name(vm->state));
            return;
        }
        tui_vm_delete_question(app, vm, q, sizeof q);
        tui_confirm(app, "Delete VM", q, tui_vm_delete_yes, vm->name);
    }
}

/* ------------------------------------------------------------ export, import */

static void tui_export_to(tui_app *app, const char *path, const char *id)
{
    pvm_error err = {0};
    pvm_profile p;
    if (!path[0]) {
        tui_message(app, TUI_EL_ERROR, "export: no file named");
        return;
    }
    if (pvm_profile_get(app->engine, id, &p, &err) < 0) {
        tui_message_error(app, &err);
        return;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        tui_message(app, TUI_EL_ERROR, "export: %s: %s", path,
                    errno == EEXIST ? "already exists (pick another name)" : strerror(errno));
        return;
    }
    char *json = pvm_profile_to_json(&p);
    size_t len = strlen(json);
    bool ok = write(fd, json, len) == (ssize_t)len && write(fd, "\n", 1) == 1;
    ok = close(fd) == 0 && ok;
    free(json);
    if (!ok) {
        unlink(path);
        tui_message(app, TUI_EL_ERROR, "export: %s: write failed", path);
        return;
    }
    tui_message(app, TUI_EL_OK, "profile '%s' exported to %s", p.name, path);
}

static char *tui_read_file(const char *path, pvm_error *err)
{
    FILE *f = fopen(path, "re");
    if (!f) {
        pvm_error_set(err, PVM_E_IO, "import: %s: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = pvm_xmalloc(TUI_IMPORT_MAX + 1);
    size_t n = fread(buf, 1, TUI_IMPORT_MAX + 1, f);
    fclose(f);
    if (n > TUI_IMPORT_MAX) {
        free(buf);
        pvm_error_set(err, PVM_E_INVALID, "import: %s: larger than 16 MiB", path);
        return NULL;
    }
    buf[n] = '\0';
    return buf;
}

static void tui_import_from(tui_app *app, const char *path, const char *arg)
{
    (void)arg;
    pvm_error err = {0};
    pvm_profile *list = NULL;
    size_t n = 0;
    char *text = path[0] ? tui_read_file(path, &err) : NULL;
    if (!path[0])
        pvm_error_set(&err, PVM_E_USAGE, "import: no file named");
    if (!text || pvm_profile_list_from_json(text, &list, &n, &err) < 0 ||
        pvm_profile_import_many(app->engine, list, n, NULL, &err) < 0) {
        tui_message_error(app, &err);
    } else {
        char mark[512] = "";
        for (size_t i = 0; i < n && !mark[0]; i++) /* the command line's warning, first one */
            pvm_profile_field_mark_text(&list[i], NULL, mark, sizeof mark);
        tui_message(app, mark[0] ? TUI_EL_ERROR : TUI_EL_OK, "imported %zu profile%s from %s%s%s",
                    n, n == 1 ? "" : "s", path, mark[0] ? "; warning: " : "", mark);
        tui_reload(app);
    }
    free(text);
    free(list);
}

/* ------------------------------------------------------------ VM keys */

static void tui_console(tui_app *app, const pvm_vm *vm)
{
    pvm_error err = {0};
    int sock;
    if (pvm_vm_console_open(app->engine, vm->name, &sock, &err) < 0) {
        tui_message_error(app, &err);
        return;
    }
    char name[PVM_NAME_MAX + 1];
    pvm_strlcpy(name, vm->name, sizeof name);
    tui_suspend(app);
    /* A clean screen: the terminal's normal screen may still hold an earlier console
     * session, which would read as if this were another VM's (terminfo "clear"). */
    const char *clear = tigetstr("clear");
    if (clear && clear != (const char *)-1) {
        putp(clear);
        fflush(stdout);
    }
    int rc = pvm_console_attach(sock, name, app->stop);
    pvm_vm_console_close(app->engine, sock); /* the socket and the one-client lock */
    tui_resume(app);
    if (rc < 0)
        *app->stop = 1; /* the terminal went away while the console ran */
    tui_message(app, TUI_EL_TEXT, "left the console of '%s' (the VM keeps running)", name);
}

/* e on a VM: the vm edit form of a stopped one; a running one is refused in the
 * engine's own words (pvm_vm_edit checks the state before anything else). */
static void tui_vm_edit_open(tui_app *app, const pvm_vm *vm)
{
    if (vm->state == PVM_VM_RUNNING || vm->state == PVM_VM_PAUSED) {
        pvm_error err = {0};
        pvm_vm_changes none;
        memset(&none, 0, sizeof none);
        if (pvm_vm_edit(app->engine, vm->id, &none, NULL, &err) < 0) {
            tui_message(app, TUI_EL_ERROR, "%s (S stops it)", err.msg);
            return;
        }
    }
    tui_vm_edit_form_open(app, vm);
}

static void tui_vm_action(tui_app *app, tui_action act)
{
    const pvm_vm *vm = tui_selected_vm(app);
    if (!vm) {
        tui_message(app, TUI_EL_TEXT, "no VM selected");
        return;
    }
    char q[160];
    switch (act) {
    case TUI_ACT_START: /* s on a paused VM continues it (vm resume) */
        tui_submit(app, vm->state == PVM_VM_PAUSED ? PVM_JOB_RESUME : PVM_JOB_START, vm->name);
        break;
    case TUI_ACT_STOP:
        tui_submit(app, PVM_JOB_STOP, vm->name);
        break;
    case TUI_ACT_FORCE_STOP:
        snprintf(q, sizeof q, "Force VM '%s' off? The guest gets no chance to shut down.",
                 vm->name);
        tui_confirm(app, "Force stop", q, tui_vm_force_yes, vm->name);
        break;
    case TUI_ACT_LOG:
        tui_log_open(app, vm);
        break;
    case TUI_ACT_EDIT:
        tui_vm_edit_open(app, vm);
        break;
    case TUI_ACT_CONSOLE:
        tui_console(app, vm);
        break;
    default:
        break;
    }
}

/* ------------------------------------------------------------ dispatch */

static void tui_cancel(tui_app *app)
{
    if (app->job) {
        pvm_worker_cancel(app->worker, app->job);
        tui_message(app, TUI_EL_TEXT, "cancelling %s of '%s' ...", pvm_job_kind_name(app->job_kind),
                    app->job_target);
    } else if (app->lists[app->focus].filter[0]) {
        app->lists[app->focus].filter[0] = '\0';
        tui_lists_rebuild(app, NULL);
        app->dirty |= TUI_DIRTY_ALL;
    }
}

static void tui_quit_yes(tui_app *app, const char *arg)
{
    (void)arg;
    app->quit = true;
}

/* The form of the selected profile, with its whole identity read now; one deleted by
 * another session since the list was read is said so, and the list read again. */
static void tui_profile_edit(tui_app *app, const pvm_profile_brief *b)
{
    char name[PVM_NAME_MAX + 1];
    pvm_strlcpy(name, b->name, sizeof name);
    const pvm_profile *p = tui_selected_profile(app);
    if (p) {
        tui_profile_form_open(app, p);
        return;
    }
    tui_reload(app);
    tui_message(app, TUI_EL_ERROR, "profile '%s' is gone (deleted by another session?)", name);
}

static void tui_open(tui_app *app, tui_action act)
{
    const pvm_profile_brief *p = tui_selected_brief(app);
    if (app->focus == TUI_PANE_PROFILES) {
        if (act == TUI_ACT_NEW)
            tui_preset_picker(app, tui_new_profile_picked);
        else if (p && act == TUI_ACT_EXPORT) {
            char path[PVM_PATH_MAX];
            snprintf(path, sizeof path, "%s.json", p->name);
            tui_prompt(app, "Export profile", "write the profile's JSON to the new file:", path,
                       tui_export_to, p->id);
        } else if (act == TUI_ACT_IMPORT)
            tui_prompt(app, "Import profiles", "read profiles (one or an array) from the file:", "",
                       tui_import_from, NULL);
        else if (p)
            tui_profile_edit(app, p);
        return;
    }
    if (app->focus != TUI_PANE_VMS)
        return;
    if (act == TUI_ACT_EDIT) {
        tui_vm_action(app, TUI_ACT_EDIT);
    } else if (act == TUI_ACT_NEW) {
        if (!app->nprofiles)
            tui_message(app, TUI_EL_ERROR, "a VM wears a profile: make one first (Profiles, n)");
        else
            tui_vm_form_open(app);
    } else {
        tui_vm_action(app, TUI_ACT_LOG);
    }
}

void tui_do_action(tui_app *app, tui_action act)
{
    tui_layout *l = &app->layout;
    int page = l->panes[app->focus].h > 3 ? l->panes[app->focus].h - 3 : 1;
    switch (act) {
    case TUI_ACT_NEXT_PANE:
    case TUI_ACT_PREV_PANE:
        app->focus = (tui_pane)((app->focus + (act == TUI_ACT_NEXT_PANE ? 1 : 2)) % TUI_PANE_COUNT);
        tui_relayout(app);
        app->dirty |= TUI_DIRTY_ALL;
        break;
    case TUI_ACT_UP:
    case TUI_ACT_DOWN:
        tui_list_move(app, act == TUI_ACT_UP ? -1 : 1);
        break;
    case TUI_ACT_PAGE_UP:
    case TUI_ACT_PAGE_DOWN:
        tui_list_move(app, act == TUI_ACT_PAGE_UP ? -page : page);
        break;
    case TUI_ACT_HOME:
    case TUI_ACT_END:
        tui_list_home_end(app, act == TUI_ACT_END);
        break;
    case TUI_ACT_OPEN:
    case TUI_ACT_NEW:
    case TUI_ACT_EDIT:
    case TUI_ACT_EXPORT:
    case TUI_ACT_IMPORT:
        tui_open(app, act);
        break;
    case TUI_ACT_DELETE:
        tui_delete(app);
        break;
    case TUI_ACT_CONSOLE:
        if (app->job)
            tui_cancel(app);
        else
            tui_vm_action(app, act);
        break;
    case TUI_ACT_START:
    case TUI_ACT_STOP:
    case TUI_ACT_FORCE_STOP:
    case TUI_ACT_LOG:
        tui_vm_action(app, act);
        break;
    case TUI_ACT_CANCEL:
        tui_cancel(app);
        break;
    case TUI_ACT_SNAP_TAKE:
        tui_snap_take(app);
        break;
    case TUI_ACT_SNAP_RESTORE:
        tui_snap_ask(app, true);
        break;
    case TUI_ACT_FILTER:
        tui_filter_open(app);
        break;
    case TUI_ACT_HELP:
        tui_help_open(app);
        break;
    case TUI_ACT_THEME: {
        pvm_error err = {0};
        if (tui_theme_cycle(&err) < 0)
            tui_message_error(app, &err);
        else
            tui_message(app, TUI_EL_TEXT, "theme: %s", tui_theme_name());
        app->dirty |= TUI_DIRTY_ALL;
        break;
    }
    case TUI_ACT_INSTALL:
    case TUI_ACT_AUDIT:
    case TUI_ACT_DISPLAY:
        tui_work_key(app, act);
        break;
    case TUI_ACT_SLOWER:
    case TUI_ACT_FASTER:
        tui_monitor_step(app, act == TUI_ACT_SLOWER ? 1 : -1);
        break;
    case TUI_ACT_REDRAW:
        clearok(curscr, TRUE);
        app->dirty |= TUI_DIRTY_ALL;
        break;
    case TUI_ACT_QUIT:
        if (app->job)
            tui_confirm(app, "Quit",
                        "An operation is running; quit and cancel it? (VMs keep running)",
                        tui_quit_yes, NULL);
        else
            app->quit = true;
        break;
    default:
        break;
    }
}
