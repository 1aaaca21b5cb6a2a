/* starter.c - the first-run starter: on a first start with an empty store the TUI
 * offers a profile from a preset with a random identity and a VM that boots the
 * small test guest wearing it (one vCPU, the profile's CPU one core of one thread to agree); the work (guest build, profile, VM, start) runs on
 * the engine thread, then the VM's serial log opens at the identity the guest
 * reports. Declining writes HOME/starter-declined, so it is asked once. Called by tui.c. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TUI_STARTER_MARKER "starter-declined"
#define TUI_STARTER_MEMORY (256ull << 20)
/* One vCPU boots the small guest quickly even under TCG; the profile's CPU says one core of
 * one thread to agree, so the guest counts what the profile says (no audit mark). */
#define TUI_STARTER_CPUS 1
#define TUI_STARTER_DISK (1ull << 30)
/* The first line of the identity report the starter guest prints (tests/guest/README.md). */
#define TUI_STARTER_ANCHOR "PVM sys_vendor="

/* ------------------------------------------------------------ the job (engine thread) */

typedef struct tui_starter_job {
    char profile[PVM_NAME_MAX + 1];
    char vm[PVM_NAME_MAX + 1];
    char preset[PVM_NAME_MAX + 1];
} tui_starter_job;

static void tui_starter_step(const pvm_progress *p, const char *step)
{
    if (p && p->report)
        p->report(p->ctx, step, -1);
}

static bool tui_starter_cancelled(const pvm_progress *p, pvm_error *err)
{
    struct pollfd pfd = {.fd = p ? p->cancel_fd : -1, .events = POLLIN};
    if (pfd.fd <= 0 || poll(&pfd, 1, 0) <= 0)
        return false;
    pvm_error_set(err, PVM_E_CANCELLED, "starter: cancelled");
    return true;
}

static int tui_starter_profile(pvm_engine *e, const tui_starter_job *j, pvm_error *err)
{
    pvm_profile p;
    const pvm_preset *preset = pvm_preset_find(j->preset);
    pvm_profile_init(&p);
    if (pvm_profile_set_name(&p, j->profile, err) < 0)
        return -1;
    if (preset)
        pvm_preset_apply(preset, &p);
    if (pvm_profile_randomize_unique(e, &p, preset, err) < 0)
        return -1;
    char n[16];
    snprintf(n, sizeof n, "%d", TUI_STARTER_CPUS);
    if (pvm_profile_set(&p, pvm_profile_field_by_key("cpuCores"), n, err) < 0 ||
        pvm_profile_set(&p, pvm_profile_field_by_key("cpuThreads"), "1", err) < 0)
        return -1;
    return pvm_profile_create(e, &p, NULL, err);
}

/* Runs on the worker's thread with the worker's engine handle (no curses here). */
static int tui_starter_run(pvm_engine *e, void *arg, const pvm_progress *progress,
                           pvm_error *err)
{
    const tui_starter_job *j = arg;
    pvm_guest g;
    tui_starter_step(progress, "the starter guest (built from Debian's archive once, then cached)");
    if (pvm_guest_build(e, false, progress, &g, err) < 0 || tui_starter_cancelled(progress, err))
        return -1;
    tui_starter_step(progress, "profile with a random identity");
    if (tui_starter_profile(e, j, err) < 0)
        return -1;
    tui_starter_step(progress, "VM");
    pvm_vm_opts o = {.cpus = TUI_STARTER_CPUS, .memory = TUI_STARTER_MEMORY, .disk = TUI_STARTER_DISK,
                     .kernel = g.kernel, .initrd = g.initrd, .append = "console=ttyS0 quiet"};
    if (pvm_vm_create(e, j->vm, j->profile, &o, NULL, err) < 0 ||
        tui_starter_cancelled(progress, err))
        return -1;
    char note[PVM_START_NOTE_MAX];
    if (pvm_vm_start_noted(e, j->vm, 0, progress, note, sizeof note, err) < 0)
        return -1;
    pvm_worker_note(progress, note); /* stock QEMU for a hidden hypervisor: said on the line */
    return 0;
}

/* ------------------------------------------------------------ the UI side */

static void tui_starter_marker(const tui_app *app, char *out, size_t size)
{
    snprintf(out, size, "%s/%s", pvm_engine_home(app->engine), TUI_STARTER_MARKER);
}

static bool tui_starter_declined(const tui_app *app)
{
    char path[PVM_PATH_MAX + 32];
    tui_starter_marker(app, path, sizeof path);
    return access(path, F_OK) == 0;
}

static void tui_starter_decline(tui_app *app)
{
    char path[PVM_PATH_MAX + 32];
    static const char text[] = "The first-run starter was declined; delete this file to be "
                               "offered it again on a start with no profiles and no VMs.\n";
    tui_starter_marker(app, path, sizeof path);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0 || pvm_write_all(fd, text, sizeof text - 1) < 0)
        tui_message(app, TUI_EL_ERROR, "could not remember the answer (%s: %s); "
                    "the starter is offered again next time", path, strerror(errno));
    else
        tui_message(app, TUI_EL_TEXT, "no starter (not asked again). Profiles: n makes a "
                    "profile; ? shows every key");
    if (fd >= 0)
        close(fd);
}

/* A name no profile (profiles true) or VM uses yet: "starter", "starter-2" ... */
static void tui_starter_name(const tui_app *app, bool profiles, char *out, size_t size)
{
    for (int i = 1; i < 100; i++) {
        if (i == 1)
            snprintf(out, size, "starter");
        else
            snprintf(out, size, "starter-%d", i);
        bool taken = false;
        for (size_t k = 0; profiles && k < app->nprofiles; k++)
            taken |= strcmp(app->profiles[k].name, out) == 0;
        for (size_t k = 0; !profiles && k < app->nvms; k++)
            taken |= strcmp(app->vms[k].name, out) == 0;
        if (!taken)
            return;
    }
}

static void tui_starter_accept(tui_app *app)
{
    pvm_error err = {0};
    tui_starter_job *j = pvm_xcalloc(1, sizeof *j);
    size_t n;
    const pvm_preset *presets = pvm_presets(&n);
    tui_starter_name(app, true, j->profile, sizeof j->profile);
    tui_starter_name(app, false, j->vm, sizeof j->vm);
    pvm_strlcpy(j->preset, presets[pvm_random_below((uint32_t)n)].key, sizeof j->preset);
    char preset[sizeof j->preset];
    pvm_strlcpy(preset, j->preset, sizeof preset);
    pvm_strlcpy(app->starter_vm, j->vm, sizeof app->starter_vm);
    /* j belongs to the engine thread from here on */
    if (tui_submit_fn(app, app->starter_vm, tui_starter_run, j, free, &err) < 0) {
        tui_message_error(app, &err);
        return;
    }
    app->starter_job = app->job;
    tui_message(app, TUI_EL_TEXT, "starter: making '%s' wearing a %s identity ...   Esc cancels",
                app->starter_vm, preset);
}

bool tui_starter_done(tui_app *app, const pvm_worker_event *ev)
{
    if (!app->starter_job || ev->job != app->starter_job)
        return false;
    app->starter_job = 0;
    tui_reload(app);
    if (ev->rc < 0 && ev->err.code == PVM_E_CANCELLED) {
        tui_message(app, TUI_EL_TEXT, "starter cancelled; what it had made stays in the lists");
        return true;
    }
    if (ev->rc < 0) {
        tui_message(app, TUI_EL_ERROR, "starter failed: %s (what it had made stays in the lists)",
                    ev->err.msg);
        return true;
    }
    app->focus = TUI_PANE_VMS;
    tui_relayout(app);
    tui_list *l = &app->lists[TUI_PANE_VMS];
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(app->vms[l->rows[i]].name, app->starter_vm) == 0)
            l->sel = (int)i;
    const pvm_vm *vm = tui_selected_vm(app);
    if (ev->note[0])
        tui_message(app, TUI_EL_ERROR, "starter VM '%s' runs; warning: %s", app->starter_vm,
                    ev->note);
    else
        tui_message(app, TUI_EL_OK, "starter VM '%s' runs; its serial log shows the identity "
                    "the guest sees (q closes it, c attaches the console)", app->starter_vm);
    if (vm)
        tui_log_open_at(app, vm, TUI_STARTER_ANCHOR);
    app->dirty |= TUI_DIRTY_ALL;
    return true;
}

/* ------------------------------------------------------------ the offer */

typedef struct tui_starter_modal {
    tui_modal m;
} tui_starter_modal;

static const char tui_starter_text[] =
    "Welcome to privarion-vm. This data folder has no profiles and no VMs yet.\n\n"
    "Make a starter? A profile from a hardware preset with a random identity, and a small "
    "Linux VM that boots wearing it and prints the identity it sees on its serial console. "
    "The guest is built once from Debian's package archive (a few minutes) and cached; "
    "later starters take seconds.";

static void tui_starter_draw(tui_modal *m, tui_app *app)
{
    (void)m;
    int w = COLS - 4 < 76 ? COLS - 4 : 76;
    size_t starts[16], lens[16];
    size_t n = tui_wrap(tui_starter_text, w - 4, starts, lens, 16);
    n = n > 16 ? 16 : n;
    tui_rect r = tui_draw_dialog(app, (int)n + 4, w, "First run");
    if (!r.h)
        return;
    for (size_t i = 0; i < n && (int)i < r.h - 4; i++) {
        char line[256];
        snprintf(line, sizeof line, "%.*s", (int)lens[i], tui_starter_text + starts[i]);
        tui_draw_text(r.y + 1 + (int)i, r.x + 2, r.w - 4, tui_theme_attr(TUI_EL_TEXT), line);
    }
    const char *hints[] = {"Enter/y", "yes, make it", "n/Esc", "no (not asked again)"};
    tui_draw_hints(r.y + r.h - 2, r.x + 2, r.w - 4, hints, 2);
}

static tui_modal_result tui_starter_key(tui_modal *m, tui_app *app, int ch)
{
    (void)m;
    if (ch == '\n' || ch == '\r' || ch == KEY_ENTER || ch == 'y' || ch == 'Y') {
        tui_modal_open(app, NULL); /* frees m */
        tui_starter_accept(app);
        return TUI_MODAL_KEEP;
    }
    if (ch == 'n' || ch == 'N' || ch == 27 || ch == 'q') {
        tui_modal_open(app, NULL);
        tui_starter_decline(app);
        return TUI_MODAL_KEEP;
    }
    return TUI_MODAL_KEEP;
}

static void tui_starter_free(tui_modal *m)
{
    free(m);
}

void tui_starter_offer(tui_app *app)
{
    if (app->nprofiles || app->nvms || tui_starter_declined(app))
        return;
    tui_starter_modal *s = pvm_xcalloc(1, sizeof *s);
    s->m = (tui_modal){tui_starter_draw, tui_starter_key, NULL, tui_starter_free, false};
    tui_modal_open(app, &s->m);
}
