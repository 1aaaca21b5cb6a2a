/* cmd_vm_edit.c - `privarion-vm vm edit NAME [OPTIONS]`: changes a stopped VM through
 * pvm_vm_edit, whose per-field checks are vm create's. Called through cmd_vm.c's table
 * (pvm_vm_edit_options, pvm_vm_edit_run). */
#include "cli.h"

#include <string.h>

#define PVM_N(a) (sizeof(a) / sizeof((a)[0]))

static const pvm_opt pvm_edit_opts[] = {
    {"cpus", 0, true, "N", "virtual CPUs (any count: max_cpus caps the host cores QEMU runs on, not vCPUs)"},
    {"memory", 0, true, "SIZE", "memory, e.g. 512M, 4G (at most the max_memory cap)"},
    {"disk", 0, true, "SIZE", "grow the disk to SIZE (qemu-img resize; never shrinks; the "
                              "guest's partitions are left to you)"},
    {"iso", 0, true, "FILE", "attach FILE (an ISO 9660 or UDF image) as the CD-ROM (boots "
                             "first); 'none' detaches it"},
    {"nic", 0, true, "MODEL", "network card: virtio or e1000e"},
    {"profile", 'p', true, "PROFILE", "wear another hardware profile (the guest sees a new "
                                      "machine: new UUID, serials, MAC)"},
    {"display", 0, true, "MODE", "none or vnc (see 'vm create --help')"},
    {"video", 0, true, "ADAPTER", "ramfb, cirrus, vga or virtio (see 'vm create --help'); "
                                  "left out, the old firmware's default (cirrus under bios, ramfb "
                                  "under uefi), chosen or not, follows a --firmware change"},
    {"net", 0, true, "MODE", "user, none or bridge=BR"},
    {"forward", 0, true, "LIST", "replace the port forwards (see 'vm create --help'); 'none' "
                                 "drops them"},
    {"firmware", 0, true, "FW", "bios, uefi or uefi-secure; leaving UEFI needs --force"},
    {"tpm", 0, true, "on|off", "a TPM 2.0 through swtpm, or none"},
    {"force", 0, false, NULL, "with --firmware: drop the VM's UEFI variables (boot entries, "
                              "keys) and start from a fresh store"},
    {"allow-vm-marks", 0, false, NULL, "accept a profile that hides the hypervisor but carries "
                                       "a known VM mark"},
};

static int pvm_edit_changes(const pvm_args *a, pvm_vm_changes *c, pvm_error *err)
{
    const char *v;
    memset(c, 0, sizeof *c);
    if ((v = pvm_args_value(a, "cpus")) && pvm_int_parse("cpus", v, 1, 255, &c->cpus, err) < 0)
        return -1;
    if ((v = pvm_args_value(a, "memory")) && pvm_memory_parse("memory", v, &c->memory, err) < 0)
        return -1;
    if ((v = pvm_args_value(a, "disk")) && pvm_disk_parse("disk", v, &c->disk, err) < 0)
        return -1;
    if ((v = pvm_args_value(a, "nic"))) {
        if (pvm_nic_model_parse(v, &c->nic, err) < 0)
            return -1;
        c->nic_set = true;
    }
    if ((v = pvm_args_value(a, "display"))) {
        if (pvm_display_parse(v, &c->display, err) < 0)
            return -1;
        c->display_set = true;
    }
    if ((v = pvm_args_value(a, "video"))) {
        if (pvm_video_parse(v, &c->video, err) < 0)
            return -1;
        c->video_set = true;
    }
    if ((v = pvm_args_value(a, "net"))) {
        if (pvm_net_mode_parse(v, &c->net, &c->bridge, err) < 0)
            return -1;
        c->net_set = true;
    }
    c->forwards = pvm_args_value(a, "forward");
    if ((v = pvm_args_value(a, "firmware"))) {
        if (pvm_firmware_parse(v, &c->firmware, err) < 0)
            return -1;
        c->firmware_set = true;
    }
    c->force = pvm_args_given(a, "force");
    if (c->force && !c->firmware_set)
        return pvm_error_set_field(err, PVM_E_USAGE, "force", "force: goes with --firmware");
    if ((v = pvm_args_value(a, "tpm"))) {
        if (strcmp(v, "on") != 0 && strcmp(v, "off") != 0)
            return pvm_error_set_field(err, PVM_E_INVALID, "tpm", "tpm: must be on or off");
        c->tpm_set = true;
        c->tpm = strcmp(v, "on") == 0;
    }
    if ((v = pvm_args_value(a, "iso")) && !*v)
        return pvm_error_set_field(err, PVM_E_INVALID, "iso", "iso: must not be empty (use "
                                   "'none' to detach the ISO)");
    c->iso = pvm_args_value(a, "iso");
    c->profile = pvm_args_value(a, "profile");
    if (c->profile && !*c->profile)
        return pvm_error_set_field(err, PVM_E_INVALID, "profile", "profile: must not be empty");
    bool any = false;
    for (size_t i = 0; i < a->nopts; i++)
        if (a->given[i] && strcmp(a->opts[i].name, "allow-vm-marks") != 0 &&
            strcmp(a->opts[i].name, "force") != 0)
            any = true;
    if (!any)
        return pvm_error_set(err, PVM_E_USAGE, "vm edit: nothing to change (see 'vm edit "
                             "--help')");
    return 0;
}

/* The video-mark warning (pvm_video_mark_note) when the edit touched the adapter, the
 * display or the profile. */
static void pvm_cli_video_warn(pvm_engine *e, const pvm_vm *vm, bool touched)
{
    pvm_profile p;
    pvm_error ignored = {0};
    char note[512];
    if (touched && pvm_profile_get(e, vm->profile_id, &p, &ignored) == 0 &&
        pvm_video_mark_note(&p, vm->display, vm->video, note, sizeof note))
        pvm_out_warning("VM '%s': %s", vm->name, note);
}

static int pvm_vm_edit_cmd(pvm_cli *cli, const pvm_args *a, pvm_error *err)
{
    pvm_vm_changes c;
    pvm_vm before, after;
    pvm_engine *e;
    if (pvm_edit_changes(a, &c, err) < 0 || !(e = pvm_cli_engine(cli, err)) ||
        pvm_vm_get(e, a->pos[0], &before, err) < 0)
        return -1;
    pvm_engine_set_allow_vm_marks(e, pvm_args_given(a, "allow-vm-marks"));
    if (pvm_vm_edit(e, before.id, &c, &after, err) < 0)
        return -1;
    if (c.forwards)
        pvm_cli_forwards_warn(&after);
    if (strcmp(before.profile_id, after.profile_id) != 0)
        pvm_out_warning("VM '%s' now wears another identity: its guest will see a new machine "
                        "(system UUID, serials, MAC); an installed OS may ask to be activated "
                        "again, and snapshots taken before show the old one", after.name);
    pvm_cli_video_warn(e, &after, c.video_set || c.display_set || c.profile);
    char m[32], d[32];
    printf("Edited VM '%s': %d vCPU, %s memory, %s %s disk, ISO %s, display %s\n", after.name,
           after.cpus, pvm_size_format(after.memory_bytes, m, sizeof m),
           pvm_size_format(after.disk_bytes, d, sizeof d), pvm_disk_bus_name(after.disk_bus),
           after.iso[0] ? after.iso : "none", pvm_display_name(after.display));
    if (after.disk_bytes > before.disk_bytes)
        printf("The disk grew; grow the guest's partition and file system from inside it\n");
    return 0;
}

const pvm_opt *pvm_vm_edit_options(size_t *n)
{
    *n = PVM_N(pvm_edit_opts);
    return pvm_edit_opts;
}

int pvm_vm_edit_run(pvm_cli *cli, const pvm_args *a, pvm_error *err)
{
    return pvm_vm_edit_cmd(cli, a, err);
}
