/* details.c - the details pane (a profile's whole identity; a VM's profile,
 * state and reason, devices, accelerator, pid and uptime, the identity it wears; a running
 * VM's live sparklines) and the header line (host cores, memory and load against what
 * running VMs hold, and the caps). */
#include "internal.h"

#include <math.h>
#include <wchar.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct tui_lines {
    tui_rect r;
    int y;      /* next row */
    int label_w;
} tui_lines;

static void tui_line(tui_lines *l, const char *label, int attr, const char *value)
{
    if (l->y >= l->r.y + l->r.h - 1)
        return;
    int x = l->r.x + 2, w = l->r.w - 4, vw = w - l->label_w - 1;
    char cut[PVM_PATH_MAX + 600];
    tui_draw_text(l->y, x, l->label_w, tui_theme_attr(TUI_EL_DIM), label);
    tui_draw_text(l->y, x + l->label_w + 1, vw, attr,
                  value && value[0] ? tui_fit(value, vw, cut, sizeof cut) : "-");
    l->y++;
}

static void tui_gap(tui_lines *l)
{
    l->y++;
}

static void tui_profile_details(tui_app *app, const pvm_profile *p, tui_lines *l)
{
    int t = tui_theme_attr(TUI_EL_TEXT);
    tui_line(l, "Name", t, p->name);
    tui_line(l, "Id", t, p->id);
    tui_line(l, "Preset", t, p->preset);
    size_t n;
    const pvm_field *f = pvm_profile_fields(&n);
    for (size_t i = 0; i < n; i++)
        tui_line(l, f[i].label, t, pvm_profile_field_cptr(p, &f[i])); /* profile show's words */
    tui_line(l, "Hide hypervisor", t, p->hide_hypervisor ? "yes" : "no");
    int used = 0;
    for (size_t i = 0; i < app->nvms; i++)
        used += strcmp(app->vms[i].profile_id, p->id) == 0;
    char buf[32];
    snprintf(buf, sizeof buf, "%d", used);
    tui_line(l, "VMs using it", t, buf);
}

void tui_uptime_text(const pvm_vm *vm, char *out, size_t size)
{
    int64_t s = vm->state == PVM_VM_RUNNING || vm->state == PVM_VM_PAUSED ? pvm_vm_uptime(vm) : -1;
    if (s < 0)
        snprintf(out, size, "%s", "");
    else if (s < 60)
        snprintf(out, size, "under a minute");
    else if (s < 3600)
        snprintf(out, size, "%dm", (int)(s / 60));
    else if (s < 86400)
        snprintf(out, size, "%dh %02dm", (int)(s / 3600), (int)(s / 60 % 60));
    else
        snprintf(out, size, "%dd %02dh", (int)(s / 86400), (int)(s / 3600 % 24));
}

static int tui_state_attr(pvm_vm_state s)
{
    return tui_theme_attr(s == PVM_VM_RUNNING || s == PVM_VM_PAUSED ? TUI_EL_STATE_RUNNING
                          : s == PVM_VM_CRASHED                    ? TUI_EL_STATE_CRASHED
                                                                   : TUI_EL_STATE_STOPPED);
}

/* ------------------------------------------------------------ live usage */

#define TUI_LIVE_ROWS 7   /* the window line and six sparklines */
#define TUI_LIVE_VALUE_W 9
#define TUI_LIVE_SPARK_MAX 512

typedef struct tui_live_fig {
    const char *label;
    pvm_figure fig;
} tui_live_fig;

static const tui_live_fig tui_live_figs[] = {
    {"CPU", PVM_FIG_CPU},
    {"Memory", PVM_FIG_MEMORY},
    {"Disk read", PVM_FIG_DISK_READ},
    {"Disk write", PVM_FIG_DISK_WRITE},
    {"Net in", PVM_FIG_NET_IN},
    {"Net out", PVM_FIG_NET_OUT},
};

/* Reserves the live rows of a running VM's details and remembers where they are. */
static void tui_live_place(tui_app *app, const pvm_vm *vm, tui_lines *l)
{
    int bottom = l->r.y + l->r.h - 1;
    if (l->y + 1 + TUI_LIVE_ROWS > bottom)
        return; /* no room: the pane is too short */
    tui_gap(l);
    app->live = (tui_rect){l->y, l->r.x + 2, TUI_LIVE_ROWS, l->r.w - 4};
    pvm_strlcpy(app->live_vm, vm->id, sizeof app->live_vm);
    l->y += TUI_LIVE_ROWS;
}

/* The newest value of fig as text with its unit; "-" when unknown. */
static const char *tui_live_value(const pvm_usage *u, bool have, pvm_figure fig, char *buf,
                                  size_t size)
{
    char b[32];
    static const unsigned bits[PVM_FIG_COUNT] = {
        [PVM_FIG_CPU] = PVM_U_CPU,           [PVM_FIG_MEMORY] = PVM_U_MEMORY,
        [PVM_FIG_DISK] = PVM_U_DISK,         [PVM_FIG_DISK_READ] = PVM_U_DISK_RATE,
        [PVM_FIG_DISK_WRITE] = PVM_U_DISK_RATE, [PVM_FIG_NET_IN] = PVM_U_NET_RATE,
        [PVM_FIG_NET_OUT] = PVM_U_NET_RATE,
    };
    if (!have || !(u->known & bits[fig]))
        return "-";
    double v = fig == PVM_FIG_DISK_READ    ? u->disk_read_rate
               : fig == PVM_FIG_DISK_WRITE ? u->disk_write_rate
               : fig == PVM_FIG_NET_IN     ? u->network_in_rate
                                           : u->network_out_rate;
    if (fig == PVM_FIG_CPU)
        snprintf(buf, size, "%.0f%%", u->cpu_usage * 100);
    else if (fig == PVM_FIG_MEMORY)
        snprintf(buf, size, "%s", pvm_size_format(u->memory_usage, b, sizeof b));
    else
        snprintf(buf, size, "%s/s", pvm_size_format((uint64_t)llround(v), b, sizeof b));
    return buf;
}

/* The top of fig's scale: CPU 0..1, memory up to the VM's RAM (or more), rates automatic. */
static double tui_live_top(const pvm_vm *vm, pvm_figure fig, const double *v, size_t n)
{
    if (fig == PVM_FIG_CPU)
        return 1;
    if (fig != PVM_FIG_MEMORY)
        return NAN;
    double top = (double)vm->memory_bytes;
    for (size_t i = 0; i < n; i++)
        if (!isnan(v[i]) && v[i] > top)
            top = v[i];
    return top;
}

/* Draws a sparkline's text (ASCII, or UTF-8 cells of three bytes each, as sparkline.c
 * writes them) one cell a character. */
static void tui_spark_draw(int y, int x, const char *s, int attr)
{
    wchar_t w[TUI_LIVE_SPARK_MAX + 1];
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p && n < TUI_LIVE_SPARK_MAX;) {
        if (*p < 0x80) {
            w[n++] = *p++;
        } else if ((p[0] & 0xf0) == 0xe0 && (p[1] & 0xc0) == 0x80 && (p[2] & 0xc0) == 0x80) {
            w[n++] = (wchar_t)(((p[0] & 0x0f) << 12) | ((p[1] & 0x3f) << 6) | (p[2] & 0x3f));
            p += 3;
        } else {
            w[n++] = '?';
            p++;
        }
    }
    w[n] = 0;
    if (y < 0 || y >= LINES || x < 0 || x >= COLS)
        return;
    attrset(attr);
    mvaddnwstr(y, x, w, COLS - x < (int)n ? COLS - x : (int)n);
    attrset(A_NORMAL);
}

static void tui_live_row(tui_app *app, const pvm_vm *vm, const tui_live_fig *f, int y,
                         const pvm_usage *u, bool have)
{
    tui_rect r = app->live;
    int label_w = 11, spark_w = r.w - label_w - 1 - TUI_LIVE_VALUE_W;
    double v[2 * TUI_LIVE_SPARK_MAX];
    char spark[TUI_LIVE_SPARK_MAX * 3 + 1], val[32];
    if (spark_w > TUI_LIVE_SPARK_MAX)
        spark_w = TUI_LIVE_SPARK_MAX;
    tui_draw_text(y, r.x, label_w, tui_theme_attr(TUI_EL_DIM), f->label);
    if (spark_w >= 4) {
        size_t n = pvm_spark_samples((size_t)spark_w, app->spark_style);
        if (app->sampler)
            pvm_sampler_history(app->sampler, vm->id, f->fig, v, n);
        else
            for (size_t i = 0; i < n; i++)
                v[i] = NAN;
        pvm_sparkline(v, n, (size_t)spark_w, app->spark_style, 0, tui_live_top(vm, f->fig, v, n),
                      spark, sizeof spark);
        tui_spark_draw(y, r.x + label_w, spark, tui_theme_attr(TUI_EL_TEXT));
    }
    tui_draw_fill(y, r.x + r.w - TUI_LIVE_VALUE_W, TUI_LIVE_VALUE_W, tui_theme_attr(TUI_EL_TEXT));
    const char *text = tui_live_value(u, have, f->fig, val, sizeof val);
    int len = (int)strlen(text);
    tui_draw_text(y, r.x + r.w - (len < TUI_LIVE_VALUE_W ? len : TUI_LIVE_VALUE_W),
                  TUI_LIVE_VALUE_W, tui_theme_attr(TUI_EL_TEXT), text);
}

void tui_details_live_draw(tui_app *app)
{
    tui_rect r = app->live;
    const pvm_vm *vm = app->focus != TUI_PANE_PROFILES ? tui_selected_vm(app) : NULL;
    if (!r.h || !vm || strcmp(vm->id, app->live_vm) != 0)
        return;
    pvm_usage u;
    memset(&u, 0, sizeof u);
    bool have = tui_monitor_last(app, vm->id, vm->pid, &u);
    int label_w = 11, spark_w = r.w - label_w - 1 - TUI_LIVE_VALUE_W;
    char win[32], line[128];
    size_t samples = spark_w > 0 ? pvm_spark_samples((size_t)spark_w, app->spark_style) : 0;
    tui_monitor_window(app, samples, win, sizeof win);
    int ms = app->sampler ? pvm_sampler_interval(app->sampler) : PVM_SAMPLE_INTERVAL_DEFAULT;
    if (tui_vm_frozen(app, vm->name)) /* the figures below are from before it: say so */
        snprintf(line, sizeof line, "%s a snapshot: QEMU answers no queries until it is done",
                 strcmp(app->job_state, "saving") == 0 ? "saving" : "restoring");
    else
        snprintf(line, sizeof line, "last %s, a reading every %d ms%s", win, ms,
                 have ? "" : " (waiting for the first)");
    tui_draw_fill(r.y, r.x, r.w, tui_theme_attr(TUI_EL_TEXT));
    tui_draw_text(r.y, r.x, label_w, tui_theme_attr(TUI_EL_DIM), "Live");
    tui_draw_text(r.y, r.x + label_w, r.w - label_w, tui_theme_attr(TUI_EL_TEXT), line);
    for (size_t i = 0; i < sizeof tui_live_figs / sizeof tui_live_figs[0]; i++)
        tui_live_row(app, vm, &tui_live_figs[i], r.y + 1 + (int)i, &u, have);
}

/* The rows a VM's details need below the live rows (devices, identity, installs): the
 * thumbnail takes what is left, or a fixed size when that is too little. */
#define TUI_THUMB_REST 24
#define TUI_THUMB_ROWS 12

static void tui_thumb_place(tui_app *app, const pvm_vm *vm, tui_lines *l)
{
    if (vm->state != PVM_VM_RUNNING || vm->display == PVM_DISPLAY_NONE) {
        tui_thumb_draw(app, NULL, (tui_rect){0, 0, 0, 0});
        return;
    }
    int bottom = l->r.y + l->r.h - 1, avail = bottom - l->y - 1;
    int h = avail - TUI_THUMB_REST;
    if (h < TUI_THUMB_ROWS)
        h = avail < TUI_THUMB_ROWS ? avail : TUI_THUMB_ROWS;
    if (h < 5) {
        tui_thumb_draw(app, NULL, (tui_rect){0, 0, 0, 0});
        return;
    }
    tui_gap(l);
    tui_thumb_draw(app, vm, (tui_rect){l->y, l->r.x + 2, h, l->r.w - 4});
    l->y += h;
}

/* What install put into the VM (install --list), newest last, as many as fit. */
static void tui_installs(tui_app *app, const pvm_vm *vm, tui_lines *l)
{
    pvm_install *in = NULL;
    size_t n = 0;
    pvm_error err = {0};
    if (pvm_install_list(app->engine, vm->id, &in, &n, &err) < 0 || n == 0) {
        free(in);
        return;
    }
    int t = tui_theme_attr(TUI_EL_TEXT);
    int room = l->r.y + l->r.h - 1 - l->y - 2;
    size_t first = room > 0 && (size_t)room < n ? n - (size_t)room : 0;
    char label[32], buf[4096], size[32], when[32];
    tui_gap(l);
    snprintf(label, sizeof label, "Installed %zu", n);
    for (size_t i = first; i < n; i++) {
        time_t at = (time_t)in[i].at;
        struct tm tm;
        strftime(when, sizeof when, "%Y-%m-%d %H:%M", localtime_r(&at, &tm));
        int w = snprintf(buf, sizeof buf, "%s -> %s  %s  %s", in[i].file, in[i].guest_path,
                         pvm_size_format(in[i].bytes, size, sizeof size), when);
        if (w > 0 && (size_t)w < sizeof buf)
            snprintf(buf + w, sizeof buf - (size_t)w, "%s%d%s%s",
                     in[i].command[0] ? "  exit " : "  copied", in[i].status,
                     in[i].command[0] ? ": " : "", in[i].command);
        if (!in[i].command[0] && w > 0 && (size_t)w < sizeof buf)
            snprintf(buf + w, sizeof buf - (size_t)w, "  copied");
        tui_line(l, i == first ? label : "", t, buf);
    }
    free(in);
}

const char *tui_vm_busy_word(const tui_app *app, const char *vm_name)
{
    if (!app->job || strcmp(app->job_target, vm_name) != 0)
        return NULL;
    return app->job_kind == PVM_JOB_START    ? "starting"
           : app->job_kind == PVM_JOB_DELETE ? "deleting"
           : app->job_kind == PVM_JOB_CUSTOM ? (app->job_state[0] ? app->job_state : "busy")
           : app->job_kind == PVM_JOB_RESUME ? "resuming"
                                             : "stopping";
}

static void tui_vm_details(tui_app *app, const pvm_vm *vm, tui_lines *l)
{
    int t = tui_theme_attr(TUI_EL_TEXT);
    char buf[PVM_PATH_MAX + 64], a[32], b[32];
    const pvm_profile_brief *p = tui_profile_by_id(app, vm->profile_id);
    tui_line(l, "Name", t, vm->name);
    tui_line(l, "Id", t, vm->id);
    tui_line(l, "Profile", t, p ? p->name : vm->profile_id);
    const char *busy = tui_vm_busy_word(app, vm->name);
    if (busy) { /* the word the VMs list shows, the state QEMU is in beside it */
        snprintf(buf, sizeof buf, "%s (%s)", busy, pvm_vm_state_name(vm->state));
        tui_line(l, "State", tui_state_attr(vm->state), buf);
    } else {
        tui_line(l, "State", tui_state_attr(vm->state), pvm_vm_state_name(vm->state));
    }
    if (vm->state_reason[0])
        tui_line(l, "Reason", t, vm->state_reason);
    snprintf(buf, sizeof buf, vm->pid ? "%d" : "", vm->pid);
    tui_line(l, "Pid", t, buf);
    tui_uptime_text(vm, buf, sizeof buf);
    pvm_strlcpy(app->uptime_shown, buf, sizeof app->uptime_shown);
    tui_line(l, "Uptime", t, buf);
    if (pvm_vm_accel(vm, buf, sizeof buf) < 0)
        snprintf(buf, sizeof buf, "chosen at start (see privarion-vm%s%s doctor)",
                 app->home_flag ? " --home " : "", app->home_flag ? app->home_flag : "");
    tui_line(l, "Accelerator", t, buf);
    if (vm->state == PVM_VM_RUNNING || vm->state == PVM_VM_PAUSED)
        tui_live_place(app, vm, l);
    tui_thumb_place(app, vm, l);
    tui_gap(l);
    snprintf(buf, sizeof buf, "%d", vm->cpus);
    tui_line(l, "vCPUs", t, buf);
    tui_line(l, "Memory", t, pvm_size_format(vm->memory_bytes, a, sizeof a));
    snprintf(buf, sizeof buf, "%s on %s", pvm_size_format(vm->disk_bytes, b, sizeof b),
             pvm_disk_bus_name(vm->disk_bus));
    tui_line(l, "Disk", t, buf);
    tui_line(l, "NIC", t, pvm_nic_model_name(vm->nic));
    tui_line(l, "Net", t, pvm_net_mode_name(vm->net));
    tui_line(l, "Forwards", t, vm->forwards);
    snprintf(buf, sizeof buf, "%s%s%s", pvm_display_name(vm->display),
             vm->display != PVM_DISPLAY_NONE ? ", video " : "",
             vm->display != PVM_DISPLAY_NONE ? pvm_video_name(vm->video) : "");
    tui_line(l, "Display", t, buf);
    snprintf(buf, sizeof buf, "%s, TPM %s", pvm_firmware_name(vm->firmware),
             vm->tpm ? "2.0 (swtpm)" : "none");
    tui_line(l, "Firmware", t, buf);
    tui_line(l, "ISO", t, vm->iso);
    tui_line(l, "Kernel", t, vm->kernel);
    tui_line(l, "Initrd", t, vm->initrd);
    tui_line(l, "Append", t, vm->append);
    const pvm_profile *full = p ? tui_profile_full(app, p->id) : NULL;
    if (full) { /* a running VM wears the identity it started with (pvm_vm_identity_worn) */
        pvm_profile worn;
        char edited[512];
        pvm_vm_identity_worn(app->engine, vm, full, &worn);
        pvm_profile_identity_diff(&worn, full, edited, sizeof edited);
        tui_gap(l);
        tui_line(l, "MAC", t, worn.mac);
        tui_line(l, "UUID", t, worn.machine_id);
        tui_line(l, "Product", t, worn.hw.product);
        if (edited[0]) {
            snprintf(buf, sizeof buf, "%s (it wears its start's values until it restarts)",
                     edited);
            tui_line(l, "Edited since start", tui_theme_attr(TUI_EL_ERROR), buf);
        }
    }
    tui_installs(app, vm, l);
}

void tui_details_draw(tui_app *app)
{
    tui_rect r = app->layout.details;
    if (!r.h || !r.w)
        return;
    tui_draw_clear(r);
    const char *title = "Details";
    const pvm_profile *p = NULL;
    const pvm_vm *vm = NULL;
    if (app->focus == TUI_PANE_PROFILES && (p = tui_selected_profile(app)))
        title = "Profile";
    else if (app->focus != TUI_PANE_PROFILES && (vm = tui_selected_vm(app)))
        title = "VM";
    if (!vm)
        tui_thumb_draw(app, NULL, (tui_rect){0, 0, 0, 0}); /* not shown: no screens taken */
    tui_draw_box(app, r, title, false);
    tui_lines l = {r, r.y + 1, 20}; /* "CPU threads per core" whole */
    app->uptime_shown[0] = '\0';
    app->live = (tui_rect){0, 0, 0, 0};
    if (p)
        tui_profile_details(app, p, &l);
    else if (vm) {
        tui_vm_details(app, vm, &l);
        tui_details_live_draw(app);
    } else
        tui_draw_text(r.y + 1, r.x + 2, r.w - 4, tui_theme_attr(TUI_EL_DIM),
                      app->focus != TUI_PANE_SNAPSHOTS ? "nothing selected"
                      : tui_selected_vm_brief(app)
                          ? "no snapshots of the selected VM yet - p takes one"
                          : "select a VM to see its snapshots");
}

/* A size with its unit always: pvm_size_format's "512M", and "0 B" / "100 B" for bytes. */
static const char *tui_size_unit(uint64_t bytes, char *buf, size_t size)
{
    pvm_size_format(bytes, buf, size);
    size_t n = strlen(buf);
    if (n && buf[n - 1] >= '0' && buf[n - 1] <= '9' && n + 3 <= size)
        memcpy(buf + n, " B", 3);
    return buf;
}

void tui_header_draw(tui_app *app)
{
    tui_rect r = app->layout.header;
    if (!r.h)
        return;
    int cpus = 0, running = 0;
    uint64_t mem = 0;
    for (size_t i = 0; i < app->nvms; i++) {
        const pvm_vm_brief *vm = &app->vms[i];
        if (vm->state != PVM_VM_RUNNING && vm->state != PVM_VM_PAUSED)
            continue;
        running++;
        cpus += vm->cpus;
        mem += vm->memory_bytes;
    }
    char m1[32], m2[32], m3[32], lines[4][256], load[32] = "";
    double avg[1];
    if (getloadavg(avg, 1) == 1)
        snprintf(load, sizeof load, ", load %.2f", avg[0]);
    const pvm_host_info *h = &app->host;
    const char *hm = tui_size_unit(h->memory, m1, sizeof m1);
    const char *rm = tui_size_unit(mem, m2, sizeof m2);
    const char *cm = tui_size_unit(h->max_memory, m3, sizeof m3);
    /* the longest form that fits: the theme goes first, then the words get short */
    snprintf(lines[0], sizeof lines[0],
             " privarion-vm   host: %d cores, %s%s   running: %d VM%s, %d vCPU%s, %s   "
             "caps: %d host core%s, %s   theme: %s",
             h->cores, hm, load, running, running == 1 ? "" : "s", cpus, cpus == 1 ? "" : "s", rm,
             h->max_cpus, h->max_cpus == 1 ? "" : "s", cm, tui_theme_name());
    snprintf(lines[1], sizeof lines[1],
             " privarion-vm   host: %d cores, %s%s   running: %d VM%s, %d vCPU%s, %s   "
             "caps: %d host core%s, %s",
             h->cores, hm, load, running, running == 1 ? "" : "s", cpus, cpus == 1 ? "" : "s", rm,
             h->max_cpus, h->max_cpus == 1 ? "" : "s", cm);
    snprintf(lines[2], sizeof lines[2],
             " privarion-vm  host %d cores %s  running %d VM%s %d vCPU%s %s  caps %d core%s %s",
             h->cores, hm, running, running == 1 ? "" : "s", cpus, cpus == 1 ? "" : "s", rm,
             h->max_cpus, h->max_cpus == 1 ? "" : "s", cm);
    snprintf(lines[3], sizeof lines[3], " host %dc %s | running %d: %dc %s | caps %dh %s",
             h->cores, hm, running, cpus, rm, h->max_cpus, cm);
    size_t pick = 0;
    while (pick < 3 && (int)strlen(lines[pick]) > r.w)
        pick++;
    int a = tui_theme_attr(TUI_EL_HEADER);
    tui_draw_fill(r.y, r.x, r.w, a);
    tui_draw_text(r.y, r.x, r.w, a, lines[pick]);
}
