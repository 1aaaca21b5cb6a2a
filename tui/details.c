/* details.c - the details pane (a profile's whole identity; a VM's profile,
 * state and reason, devices, accelerator, pid and uptime) and the header line
 * (host cores and memory against what running VMs hold, and the caps). */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct tui_lines {
    tui_rect r;
    int y;      /* next row */
    int label_w;
} tui_lines;

static void tui_line(tui_lines *l, const char *label, int attr, const char *value)
{
    if (l->y >= l->r.y + l->r.h - 1)
        return;
    int x = l->r.x + 2, w = l->r.w - 4;
    tui_draw_text(l->y, x, l->label_w, tui_theme_attr(TUI_EL_DIM), label);
    tui_draw_text(l->y, x + l->label_w + 1, w - l->label_w - 1, attr,
                  value && value[0] ? value : "-");
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
        tui_line(l, f[i].flag, t, pvm_profile_field_cptr(p, &f[i]));
    tui_line(l, "hypervisor", t, p->hide_hypervisor ? "hidden" : "visible");
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

static void tui_vm_details(tui_app *app, const pvm_vm *vm, tui_lines *l)
{
    int t = tui_theme_attr(TUI_EL_TEXT);
    char buf[PVM_PATH_MAX + 64], a[32], b[32];
    const pvm_profile *p = tui_profile_by_id(app, vm->profile_id);
    tui_line(l, "Name", t, vm->name);
    tui_line(l, "Id", t, vm->id);
    tui_line(l, "Profile", t, p ? p->name : vm->profile_id);
    tui_line(l, "State", tui_state_attr(vm->state), pvm_vm_state_name(vm->state));
    if (vm->state_reason[0])
        tui_line(l, "Reason", t, vm->state_reason);
    snprintf(buf, sizeof buf, vm->pid ? "%d" : "", vm->pid);
    tui_line(l, "Pid", t, buf);
    tui_uptime_text(vm, buf, sizeof buf);
    pvm_strlcpy(app->uptime_shown, buf, sizeof app->uptime_shown);
    tui_line(l, "Uptime", t, buf);
    if (pvm_vm_accel(vm, buf, sizeof buf) < 0)
        snprintf(buf, sizeof buf, "chosen at start (see privarion-vm doctor)");
    tui_line(l, "Accelerator", t, buf);
    tui_gap(l);
    snprintf(buf, sizeof buf, "%d", vm->cpus);
    tui_line(l, "vCPUs", t, buf);
    tui_line(l, "Memory", t, pvm_size_format(vm->memory_bytes, a, sizeof a));
    snprintf(buf, sizeof buf, "%s on %s", pvm_size_format(vm->disk_bytes, b, sizeof b),
             pvm_disk_bus_name(vm->disk_bus));
    tui_line(l, "Disk", t, buf);
    tui_line(l, "NIC", t, pvm_nic_model_name(vm->nic));
    tui_line(l, "Net", t, pvm_net_mode_name(vm->net));
    tui_line(l, "ISO", t, vm->iso);
    tui_line(l, "Kernel", t, vm->kernel);
    tui_line(l, "Initrd", t, vm->initrd);
    tui_line(l, "Append", t, vm->append);
    if (p) {
        tui_gap(l);
        tui_line(l, "MAC", t, p->mac);
        tui_line(l, "UUID", t, p->machine_id);
        tui_line(l, "Product", t, p->hw.product);
    }
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
    tui_draw_box(app, r, title, false);
    tui_lines l = {r, r.y + 1, 20}; /* "chassis-manufacturer" whole */
    app->uptime_shown[0] = '\0';
    if (p)
        tui_profile_details(app, p, &l);
    else if (vm)
        tui_vm_details(app, vm, &l);
    else
        tui_draw_text(r.y + 1, r.x + 2, r.w - 4, tui_theme_attr(TUI_EL_DIM),
                      app->focus == TUI_PANE_SNAPSHOTS
                          ? "no snapshots of the selected VM yet - p takes one"
                          : "nothing selected");
}

void tui_header_draw(tui_app *app)
{
    tui_rect r = app->layout.header;
    if (!r.h)
        return;
    int cpus = 0, running = 0;
    uint64_t mem = 0;
    for (size_t i = 0; i < app->nvms; i++) {
        const pvm_vm *vm = &app->vms[i];
        if (vm->state != PVM_VM_RUNNING && vm->state != PVM_VM_PAUSED)
            continue;
        running++;
        cpus += vm->cpus;
        mem += vm->memory_bytes;
    }
    char m1[32], m2[32], m3[32], lines[4][256];
    const pvm_host_info *h = &app->host;
    const char *hm = pvm_size_format(h->memory, m1, sizeof m1);
    const char *rm = mem ? pvm_size_format(mem, m2, sizeof m2) : "0";
    const char *cm = pvm_size_format(h->max_memory, m3, sizeof m3);
    /* the longest form that fits: the theme goes first, then the words get short */
    snprintf(lines[0], sizeof lines[0],
             " privarion-vm   host: %d cores, %s   running: %d VM%s, %d vCPU%s, %s   "
             "caps: %d vCPU%s, %s   theme: %s",
             h->cores, hm, running, running == 1 ? "" : "s", cpus, cpus == 1 ? "" : "s", rm,
             h->max_cpus, h->max_cpus == 1 ? "" : "s", cm, tui_theme_name());
    snprintf(lines[1], sizeof lines[1],
             " privarion-vm   host: %d cores, %s   running: %d VM%s, %d vCPU%s, %s   "
             "caps: %d vCPU%s, %s",
             h->cores, hm, running, running == 1 ? "" : "s", cpus, cpus == 1 ? "" : "s", rm,
             h->max_cpus, h->max_cpus == 1 ? "" : "s", cm);
    snprintf(lines[2], sizeof lines[2],
             " privarion-vm  host %d cores %s  running %d VM%s %d vCPU%s %s  caps %d vCPU%s %s",
             h->cores, hm, running, running == 1 ? "" : "s", cpus, cpus == 1 ? "" : "s", rm,
             h->max_cpus, h->max_cpus == 1 ? "" : "s", cm);
    snprintf(lines[3], sizeof lines[3], " host %dc %s | running %d: %dc %s | caps %dc %s",
             h->cores, hm, running, cpus, rm, h->max_cpus, cm);
    size_t pick = 0;
    while (pick < 3 && (int)strlen(lines[pick]) > r.w)
        pick++;
    int a = tui_theme_attr(TUI_EL_HEADER);
    tui_draw_fill(r.y, r.x, r.w, a);
    tui_draw_text(r.y, r.x, r.w, a, lines[pick]);
}
