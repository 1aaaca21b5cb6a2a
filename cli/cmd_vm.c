/* cmd_vm.c - `privarion-vm vm create|list|show|edit|start|stop|delete|log|console`
 * (edit's options and run in cmd_vm_edit.c):
 * parses flags with args.c, calls the engine's VM API, prints through out.c.
 * Called by main.c's command table. */
#include "cli.h"
#include "console.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#define PVM_N(a) (sizeof(a) / sizeof((a)[0]))

/* --------------------------------------------------------------- helpers */

static cJSON *pvm_vm_json(const pvm_vm *vm, const char *profile_name)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "id", vm->id);
    cJSON_AddStringToObject(j, "name", vm->name);
    cJSON_AddStringToObject(j, "profileId", vm->profile_id);
    cJSON_AddStringToObject(j, "profile", profile_name);
    cJSON_AddNumberToObject(j, "cpus", vm->cpus);
    cJSON_AddNumberToObject(j, "memoryBytes", (double)vm->memory_bytes);
    cJSON_AddNumberToObject(j, "diskBytes", (double)vm->disk_bytes);
    cJSON_AddStringToObject(j, "diskBus", pvm_disk_bus_name(vm->disk_bus));
    cJSON_AddStringToObject(j, "nic", pvm_vm_nic_name(vm));
    cJSON_AddStringToObject(j, "net", pvm_net_mode_name(vm->net));
    cJSON_AddStringToObject(j, "bridge", vm->bridge);
    cJSON_AddStringToObject(j, "forwards", vm->forwards);
    cJSON_AddStringToObject(j, "iso", vm->iso);
    cJSON_AddStringToObject(j, "kernel", vm->kernel);
    cJSON_AddStringToObject(j, "initrd", vm->initrd);
    cJSON_AddStringToObject(j, "append", vm->append);
    cJSON_AddStringToObject(j, "display", pvm_display_name(vm->display));
    cJSON_AddStringToObject(j, "video", pvm_video_name(vm->video));
    cJSON_AddStringToObject(j, "firmware", pvm_firmware_name(vm->firmware));
    cJSON_AddBoolToObject(j, "tpm", vm->tpm);
    cJSON_AddNumberToObject(j, "createdAt", (double)vm->created_at);
    cJSON_AddStringToObject(j, "state", pvm_vm_state_name(vm->state));
    if (vm->pid)
        cJSON_AddNumberToObject(j, "pid", vm->pid);
    else
        cJSON_AddNullToObject(j, "pid");
    cJSON_AddStringToObject(j, "stateReason", vm->state_reason);
    char bin[PVM_PATH_MAX];
    bool stealth;
    if (pvm_vm_qemu_binary(vm, bin, sizeof bin, &stealth) == 0) {
        cJSON_AddStringToObject(j, "qemuBinary", bin);
        cJSON_AddBoolToObject(j, "qemuStealth", stealth);
    } else {
        cJSON_AddNullToObject(j, "qemuBinary");
        cJSON_AddNullToObject(j, "qemuStealth");
    }
    return j;
}

/* The profile's name for display ("" when it cannot be read). */
static void pvm_profile_name_of(pvm_engine *e, const pvm_vm *vm, char *out, size_t size)
{
    pvm_profile p;
    pvm_error ignored = {0};
    out[0] = '\0';
    if (pvm_profile_get(e, vm->profile_id, &p, &ignored) == 0)
        pvm_strlcpy(out, p.name, size);
}

/* ---------------------------------------------------------------- create */

static const pvm_opt pvm_create_opts[] = {
    {"profile", 'p', true, "PROFILE", "hardware profile (name or id) the VM wears (required)"},
    {"cpus", 0, true, "N", "virtual CPUs, 1 to 255 (default: the profile CPU's cores x threads, else "
                          "1, this default at most 64; a count that contradicts it is warned about)"},
    {"memory", 0, true, "SIZE", "memory, e.g. 512M, 4G (default 1G, or the cap when lower)"},
    {"disk", 0, true, "SIZE", "disk size, e.g. 20G (default 50G; sparse qcow2)"},
    {"disk-bus", 0, true, "BUS", "virtio (default, fastest; Red Hat PCI ids), nvme (its model "
                                 "reads \"QEMU NVMe Ctrl\") or sata (fewest QEMU marks)"},
    {"nic", 0, true, "MODEL", "network card: virtio (default; Red Hat PCI ids) or e1000e (Intel)"},
    {"net", 0, true, "MODE", "user (default, NAT), none, or bridge=BR (a tap on host bridge "
                             "BR through qemu-bridge-helper)"},
    {"forward", 0, true, "LIST", "user networking's port forwards, comma-separated "
                                 "[tcp|udp:][ADDR:]HOSTPORT:GUESTPORT (host side 127.0.0.1 "
                                 "unless ADDR; another ADDR is warned about: other machines "
                                 "reach it), e.g. 2222:22,8080:80"},
    {"iso", 0, true, "FILE", "attach an installer/live ISO as a CD-ROM (boots first); an ISO "
                           "9660 or UDF image, else refused"},
    {"image", 0, true, "FILE", "start the disk from an existing image (see --image-mode)"},
    {"image-mode", 0, true, "MODE", "copy (default: an independent qcow2 copy) or overlay "
                                    "(a qcow2 overlay backed by FILE, which must stay)"},
    {"kernel", 0, true, "FILE", "boot this Linux kernel directly (a bzImage or ELF file)"},
    {"initrd", 0, true, "FILE", "initramfs for --kernel"},
    {"append", 0, true, "STR", "kernel command line for --kernel (default: console=ttyS0, so "
                               "'vm log' shows the boot; a given STR is used as is)"},
    {"display", 0, true, "MODE", "none (serial console only) or vnc (a screen on a private "
                                 "unix socket; see 'vm display'); default vnc with --iso"},
    {"video", 0, true, "ADAPTER", "with a display: ramfb (no PCI device; the default with uefi), "
                                  "cirrus (PCI 1013:00b8 Cirrus Logic, a real VGA, subsystem "
                                  "1af4:1100 Red Hat on stock QEMU; the default with bios; vm "
                                  "audit marks it), vga (PCI 1234:1111 \"Bochs\") or virtio "
                                  "(PCI 1af4:1050 Red Hat); vga and virtio warn on a profile "
                                  "that hides the hypervisor"},
    {"firmware", 0, true, "FW", "bios (default, SeaBIOS), uefi (OVMF) or uefi-secure (OVMF, "
                               "Secure Boot with Microsoft's keys, SMM)"},
    {"tpm", 0, false, NULL, "a TPM 2.0 (swtpm, one per VM, its state in the VM's folder)"},
    {"allow-vm-marks", 0, false, NULL, "accept a profile that hides the hypervisor but carries "
                                       "a known VM mark (e.g. a 52:54:00 MAC)"},
    {"json", 0, false, NULL, "print the new VM as JSON"},
};

static int pvm_create_enums(const pvm_args *a, pvm_vm_opts *o, pvm_error *err)
{
    const char *v;
    if ((v = pvm_args_value(a, "disk-bus")) && pvm_disk_bus_parse(v, &o->disk_bus, err) < 0)
        return -1;
    if ((v = pvm_args_value(a, "nic")) && pvm_nic_model_parse(v, &o->nic, err) < 0)
        return -1;
    if ((v = pvm_args_value(a, "net")) && pvm_net_mode_parse(v, &o->net, &o->bridge, err) < 0)
        return -1;
    o->forwards = pvm_args_value(a, "forward");
    if (o->net == PVM_NET_NONE && pvm_args_given(a, "nic")) /* also --nic virtio */
        return pvm_error_set_field(err, PVM_E_INVALID, "nic", "nic: --net none gives the VM "
                                   "no network card; drop --nic, or choose --net user");
    if ((v = pvm_args_value(a, "display"))) {
        if (pvm_display_parse(v, &o->display, err) < 0)
            return -1;
        o->display_set = true;
    }
    if ((v = pvm_args_value(a, "video"))) {
        if (pvm_video_parse(v, &o->video, err) < 0)
            return -1;
        o->video_set = true;
    }
    if ((v = pvm_args_value(a, "firmware")) && pvm_firmware_parse(v, &o->firmware, err) < 0)
        return -1;
    o->tpm = pvm_args_given(a, "tpm");
    if ((v = pvm_args_value(a, "image-mode"))) {
        if (strcmp(v, "copy") == 0)
            o->image_mode = PVM_IMAGE_COPY;
        else if (strcmp(v, "overlay") == 0)
            o->image_mode = PVM_IMAGE_OVERLAY;
        else
            return pvm_error_set_field(err, PVM_E_INVALID, "imageMode",
                                       "imageMode: must be copy or overlay, not '%s'", v);
        if (!pvm_args_given(a, "image"))
            return pvm_error_set_field(err, PVM_E_USAGE, "imageMode", "imageMode: needs --image");
    }
    return 0;
}

static int pvm_create_opts_from(const pvm_args *a, pvm_vm_opts *o, pvm_error *err)
{
    const char *v;
    memset(o, 0, sizeof *o);
    if ((v = pvm_args_value(a, "cpus")) && pvm_int_parse("cpus", v, 1, 255, &o->cpus, err) < 0)
        return -1;
    if ((v = pvm_args_value(a, "memory")) && pvm_memory_parse("memory", v, &o->memory, err) < 0)
        return -1;
    if ((v = pvm_args_value(a, "disk")) && pvm_disk_parse("disk", v, &o->disk, err) < 0)
        return -1;
    if (pvm_create_enums(a, o, err) < 0)
        return -1;
    o->iso = pvm_args_value(a, "iso");
    o->image = pvm_args_value(a, "image");
    o->kernel = pvm_args_value(a, "kernel");
    o->initrd = pvm_args_value(a, "initrd");
    o->append = pvm_args_value(a, "append");
    const char *paths[] = {"iso", "image", "kernel", "initrd"};
    for (size_t i = 0; i < PVM_N(paths); i++)
        if ((v = pvm_args_value(a, paths[i])) && !*v)
            return pvm_error_set_field(err, PVM_E_INVALID, paths[i], "%s: must not be empty",
                                       paths[i]);
    if (!pvm_args_value(a, "profile"))
        return pvm_error_set_field(err, PVM_E_USAGE, "profile", "vm create: --profile is required");
    return 0;
}

void pvm_cli_forwards_warn(const pvm_vm *vm)
{
    char open[PVM_FORWARDS_MAX];
    if (pvm_forwards_exposed(vm->forwards, open, sizeof open) > 0)
        pvm_out_warning("VM '%s' forwards %s on an address other machines can reach: anyone "
                        "who reaches this host reaches those guest ports; leave the address "
                        "out (127.0.0.1) to keep them to this machine", vm->name, open);
}

static int pvm_vm_create_cmd(pvm_cli *cli, const pvm_args *a, pvm_error *err)
{
    pvm_vm_opts o;
    pvm_vm vm;
    pvm_engine *e;
    if (pvm_create_opts_from(a, &o, err) < 0 || !(e = pvm_cli_engine(cli, err)))
        return -1;
    pvm_engine_set_allow_vm_marks(e, pvm_args_given(a, "allow-vm-marks"));
    pvm_cli_trace(cli, "create: reading the profile");
    if (pvm_vm_create(e, a->pos[0], pvm_args_value(a, "profile"), &o, &vm, err) < 0)
        return -1;
    pvm_cli_trace(cli, "create: output");
    pvm_cli_forwards_warn(&vm);
    pvm_profile prof;
    pvm_error ignored = {0};
    char note[512];
    bool have = pvm_profile_get(e, vm.profile_id, &prof, &ignored) == 0;
    if (have && pvm_profile_vcpus_note(&prof, vm.cpus, note, sizeof note))
        pvm_out_warning("VM '%s': %s", vm.name, note);
    if (have && pvm_video_mark_note(&prof, vm.display, vm.video, note, sizeof note))
        pvm_out_warning("VM '%s': %s", vm.name, note);
    if (pvm_args_given(a, "json")) {
        char pname[PVM_NAME_MAX + 1];
        pvm_profile_name_of(e, &vm, pname, sizeof pname);
        cJSON *j = pvm_vm_json(&vm, pname);
        int rc = pvm_out_json(stdout, j, err);
        cJSON_Delete(j);
        return rc;
    }
    char m[32], d[32];
    printf("Created VM '%s' (%s): %d vCPU, %s memory, %s %s disk, %s%s\n", vm.name, vm.id,
           vm.cpus, pvm_size_format(vm.memory_bytes, m, sizeof m),
           pvm_size_format(vm.disk_bytes, d, sizeof d), pvm_disk_bus_name(vm.disk_bus),
           vm.net == PVM_NET_NONE ? "no" : pvm_vm_nic_name(&vm),
           vm.net == PVM_NET_NONE ? " NIC (--net none)" : " NIC");
    return 0;
}

/* ------------------------------------------------------------ list, show */

static const pvm_opt pvm_json_opt[] = {
    {"json", 0, false, NULL, "print JSON instead of text"},
};

static void pvm_list_row(pvm_engine *e, pvm_table *t, const pvm_vm *vm)
{
    char m[32], d[32], cpus[16], pid[16], pname[PVM_NAME_MAX + 1];
    snprintf(cpus, sizeof cpus, "%d", vm->cpus);
    snprintf(pid, sizeof pid, vm->pid ? "%d" : "", vm->pid);
    pvm_profile_name_of(e, vm, pname, sizeof pname);
    const char *cells[] = {vm->name, pvm_vm_state_name(vm->state), cpus,
                           pvm_size_format(vm->memory_bytes, m, sizeof m),
                           pvm_size_format(vm->disk_bytes, d, sizeof d),
                           pvm_disk_bus_name(vm->disk_bus), pvm_vm_nic_name(vm), pname,
                           pid, vm->state_reason};
    pvm_table_add(t, cells);
}

static int pvm_list_json(pvm_engine *e, const pvm_vm *list, size_t n, pvm_error *err)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++) {
        char pname[PVM_NAME_MAX + 1];
        pvm_profile_name_of(e, &list[i], pname, sizeof pname);
        cJSON_AddItemToArray(arr, pvm_vm_json(&list[i], pname));
    }
    int rc = pvm_out_json(stdout, arr, err);
    cJSON_Delete(arr);
    return rc;
}

static int pvm_vm_list_cmd(pvm_cli *cli, const pvm_args *a, pvm_error *err)
{
    pvm_engine *e;
    pvm_vm *list = NULL;
    size_t n = 0;
    if (!(e = pvm_cli_engine(cli, err)) || pvm_vm_list(e, &list, &n, err) < 0)
        return -1;
    int rc = 0;
    if (pvm_args_given(a, "json")) {
        rc = pvm_list_json(e, list, n, err);
    } else if (n == 0) {
        printf("No VMs yet. Make one with: " PVM_PROG " vm create NAME --profile PROFILE\n");
    } else {
        const char *h[] = {"NAME", "STATE", "CPUS", "MEMORY", "DISK", "BUS", "NIC",
                           "PROFILE", "PID", "REASON"};
        pvm_table *t = pvm_table_new(PVM_N(h), h);
        for (size_t i = 0; i < n; i++)
            pvm_list_row(e, t, &list[i]);
        pvm_table_print(t, stdout);
        pvm_table_free(t);
    }
    free(list);
    return rc;
}

static void pvm_show_text(pvm_engine *e, const pvm_vm *vm)
{
    char m[32], d[32], buf[160], pname[PVM_NAME_MAX + 1], path[PVM_PATH_MAX];
    pvm_error ignored = {0};
    const int w = 12;
    pvm_profile_name_of(e, vm, pname, sizeof pname);
    pvm_out_field(stdout, 0, w, "Name", vm->name);
    pvm_out_field(stdout, 0, w, "Id", vm->id);
    pvm_out_field(stdout, 0, w, "State", pvm_vm_state_name(vm->state));
    if (vm->state_reason[0])
        pvm_out_field(stdout, 0, w, "Reason", vm->state_reason);
    snprintf(buf, sizeof buf, vm->pid ? "%d" : "", vm->pid);
    pvm_out_field(stdout, 0, w, "Pid", buf);
    bool stealth;
    if (pvm_vm_qemu_binary(vm, path, sizeof path, &stealth) == 0) {
        snprintf(buf, sizeof buf, "%s (%.140s)", stealth ? "stealth build" : "stock", path);
        pvm_out_field(stdout, 0, w, "QEMU", buf);
    }
    snprintf(buf, sizeof buf, "%.64s (%.36s)", pname[0] ? pname : "?", vm->profile_id);
    pvm_out_field(stdout, 0, w, "Profile", buf);
    snprintf(buf, sizeof buf, "%d", vm->cpus);
    pvm_out_field(stdout, 0, w, "CPUs", buf);
    pvm_out_field(stdout, 0, w, "Memory", pvm_size_format(vm->memory_bytes, m, sizeof m));
    snprintf(buf, sizeof buf, "%s on %s", pvm_size_format(vm->disk_bytes, d, sizeof d),
             pvm_disk_bus_name(vm->disk_bus));
    pvm_out_field(stdout, 0, w, "Disk", buf);
    if (vm->net == PVM_NET_NONE)
        pvm_strlcpy(buf, "none (--net none)", sizeof buf);
    else
        snprintf(buf, sizeof buf, "%s (%s)", pvm_nic_model_name(vm->nic),
                 pvm_net_mode_name(vm->net));
    pvm_out_field(stdout, 0, w, "NIC", buf);
    if (vm->net == PVM_NET_BRIDGE)
        pvm_out_field(stdout, 0, w, "Bridge", vm->bridge);
    if (vm->forwards[0])
        pvm_out_field(stdout, 0, w, "Forwards", vm->forwards);
    if (vm->display == PVM_DISPLAY_NONE)
        pvm_strlcpy(buf, "none (serial console only)", sizeof buf);
    else
        snprintf(buf, sizeof buf, "%s, %s adapter (vm display %.64s)",
                 pvm_display_name(vm->display), pvm_video_name(vm->video), vm->name);
    pvm_out_field(stdout, 0, w, "Display", buf);
    snprintf(buf, sizeof buf, "%s%s", pvm_firmware_name(vm->firmware),
             vm->tpm ? ", TPM 2.0 (swtpm)" : "");
    pvm_out_field(stdout, 0, w, "Firmware", buf);
    pvm_out_field(stdout, 0, w, "ISO", vm->iso);
    pvm_out_field(stdout, 0, w, "Kernel", vm->kernel);
    pvm_out_field(stdout, 0, w, "Initrd", vm->initrd);
    pvm_out_field(stdout, 0, w, "Append", vm->append);
    pvm_out_field(stdout, 0, w, "Created", pvm_out_time(vm->created_at, buf, sizeof buf));
    if (pvm_vm_path(e, vm, PVM_VM_PATH_DIR, path, sizeof path, &ignored) == 0)
        pvm_out_field(stdout, 0, w, "Folder", path);
}

static int pvm_vm_show_cmd(pvm_cli *cli, const pvm_args *a, pvm_error *err)
{
    pvm_engine *e;
    pvm_vm vm;
    if (!(e = pvm_cli_engine(cli, err)) || pvm_vm_get(e, a->pos[0], &vm, err) < 0)
        return -1;
    if (!pvm_args_given(a, "json")) {
        pvm_show_text(e, &vm);
        return 0;
    }
    char pname[PVM_NAME_MAX + 1];
    pvm_profile_name_of(e, &vm, pname, sizeof pname);
    cJSON *j = pvm_vm_json(&vm, pname);
    int rc = pvm_out_json(stdout, j, err);
    cJSON_Delete(j);
    return rc;
}

/* ------------------------------------------------------ start, stop, delete */

static const pvm_opt pvm_start_opts[] = {
    {"wait-agent", 0, true, "SECONDS", "also wait until the guest agent answers (0: do not wait)"},
    {"allow-vm-marks", 0, false, NULL, "start even if the profile hides the hypervisor but "
                                       "carries a known VM mark (e.g. a 52:54:00 MAC)"},
    {"strict", 0, false, NULL, "refuse, rather than warn, when another running VM shows the "
                               "same UUID, MAC or serials (the same profile, as it started)"},
};

/* Another running VM showing what this one would (its UUID, MAC, serials): a warning, or
 * with --strict a refusal. */
static int pvm_start_twin(pvm_engine *e, const pvm_args *a, pvm_error *err)
{
    pvm_vm_twin twin;
    if (pvm_vm_running_twin(e, a->pos[0], &twin, err) < 0)
        return -1;
    if (!twin.name[0])
        return 0;
    char what[PVM_TWIN_TEXT_MAX];
    pvm_vm_twin_text(a->pos[0], &twin, what, sizeof what);
    if (pvm_args_given(a, "strict"))
        return pvm_error_set(err, PVM_E_EXISTS, "%s (--strict)", what);
    pvm_out_warning("%s (%s; --strict refuses)", what,
                    twin.same_profile ? "give it a profile of its own"
                                      : "give one of the two profiles other values, e.g. "
                                        "profile edit NAME --random");
    return 0;
}

static int pvm_vm_start_cmd(pvm_cli *cli, const pvm_args *a, pvm_error *err)
{
    int wait = 0;
    const char *v = pvm_args_value(a, "wait-agent");
    pvm_engine *e;
    pvm_vm vm;
    if ((v && pvm_int_parse("waitAgent", v, 0, 86400, &wait, err) < 0) ||
        !(e = pvm_cli_engine(cli, err)))
        return -1;
    pvm_engine_set_allow_vm_marks(e, pvm_args_given(a, "allow-vm-marks"));
    char note[PVM_START_NOTE_MAX];
    if (pvm_start_twin(e, a, err) < 0 ||
        pvm_vm_start_noted(e, a->pos[0], wait, pvm_cli_progress(cli), note, sizeof note,
                           err) < 0)
        return -1;
    if (note[0])
        pvm_out_warning("VM '%s': %s", a->pos[0], note);
    pvm_cli_trace(cli, "started");
    if (pvm_vm_get(e, a->pos[0], &vm, err) < 0)
        return -1;
    pvm_cli_trace(cli, "state read back");
    printf("Started VM '%s' (QEMU pid %d)%s\n", vm.name, vm.pid,
           wait ? "; the guest agent answers" : "");
    return 0;
}

static const pvm_opt pvm_stop_opts[] = {
    {"timeout", 't', true, "SECONDS", "how long to wait for the guest to power off (default 60)"},
    {"force", 'f', false, NULL, "end QEMU at once (QMP quit, then SIGKILL); data not "
                                "written by the guest is lost"},
};

static int pvm_vm_stop_cmd(pvm_cli *cli, const pvm_args *a, pvm_error *err)
{
    int timeout = 0; /* the engine's default (60 s) */
    const char *v = pvm_args_value(a, "timeout");
    pvm_engine *e;
    pvm_vm vm;
    if ((v && pvm_int_parse("timeout", v, 1, 86400, &timeout, err) < 0) ||
        !(e = pvm_cli_engine(cli, err)) || pvm_vm_get(e, a->pos[0], &vm, err) < 0 ||
        pvm_vm_stop(e, vm.id, pvm_args_given(a, "force"), timeout, pvm_cli_progress(cli),
                    err) < 0)
        return -1;
    if (vm.state == PVM_VM_CRASHED)
        printf("VM '%s' was not running: it had crashed (%s); state cleared\n", vm.name,
               vm.state_reason);
    else if (vm.state == PVM_VM_STOPPED && vm.state_reason[0])
        printf("VM '%s' is already stopped (%s); state cleared\n", vm.name, vm.state_reason);
    else if (vm.state == PVM_VM_STOPPED)
        printf("VM '%s' is already stopped\n", vm.name);
    else
        printf("Stopped VM '%s'%s\n", vm.name, pvm_args_given(a, "force") ? " (forced)" : "");
    return 0;
}

static int pvm_vm_resume_cmd(pvm_cli *cli, const pvm_args *a, pvm_error *err)
{
    pvm_engine *e;
    pvm_vm vm; /* for its name when an id was given */
    if (!(e = pvm_cli_engine(cli, err)) || pvm_vm_get(e, a->pos[0], &vm, err) < 0 ||
        pvm_vm_resume(e, vm.id, err) < 0)
        return -1;
    printf("Resumed VM '%s' (QEMU pid %d)\n", vm.name, vm.pid);
    return 0;
}

static int pvm_vm_delete_cmd(pvm_cli *cli, const pvm_args *a, pvm_error *err)
{
    pvm_engine *e;
    pvm_vm vm; /* for its name when an id was given */
    if (!(e = pvm_cli_engine(cli, err)) || pvm_vm_get(e, a->pos[0], &vm, err) < 0 ||
        pvm_vm_delete(e, vm.id, err) < 0)
        return -1;
    printf("Deleted VM '%s' and its disk\n", vm.name);
    return 0;
}

/* ------------------------------------------------------------ log, console */

static const pvm_opt pvm_log_opts[] = {
    {"qemu", 0, false, NULL, "print QEMU's own log (qemu.log) instead of the console"},
};

/* Copies a log to stdout: as is into a pipe or file; on a terminal, the guest's
 * control bytes (escape sequences could retitle, recolour or feed the terminal)
 * are shown as ^X and carriage returns dropped. Returns the bytes read. */
static size_t pvm_log_copy(FILE *fp, bool tty)
{
    char buf[8192];
    size_t n, total = 0;
    while ((n = fread(buf, 1, sizeof buf, fp)) > 0) {
        total += n;
        if (!tty) {
            fwrite(buf, 1, n, stdout);
            continue;
        }
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)buf[i];
            if (c == '\r')
                continue;
            if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
                printf("^%c", c == 0x7f ? '?' : c + '@');
            else
                putchar(c);
        }
    }
    return total;
}

static int pvm_vm_log_cmd(pvm_cli *cli, const pvm_args *a, pvm_error *err)
{
    pvm_engine *e;
    pvm_vm vm;
    char path[PVM_PATH_MAX];
    pvm_vm_path_kind k = pvm_args_given(a, "qemu") ? PVM_VM_PATH_QEMU_LOG : PVM_VM_PATH_SERIAL_LOG;
    if (!(e = pvm_cli_engine(cli, err)) || pvm_vm_get(e, a->pos[0], &vm, err) < 0 ||
        pvm_vm_path(e, &vm, k, path, sizeof path, err) < 0)
        return -1;
    FILE *fp = fopen(path, "rb");
    if (!fp && errno != ENOENT)
        return pvm_error_set(err, PVM_E_IO, "%s: %s", path, strerror(errno));
    bool empty = !fp || pvm_log_copy(fp, isatty(1)) == 0;
    if (fp)
        fclose(fp);
    if (empty && k == PVM_VM_PATH_SERIAL_LOG) /* never started, or a guest silent on ttyS0 */
        fprintf(stderr, "no console output yet from VM '%s' (a booting guest needs a few seconds; a guest "
                        "prints here only with a serial console, e.g. console=ttyS0)\n", vm.name);
    return 0;
}

static volatile sig_atomic_t pvm_console_stop;

static void pvm_console_signal(int sig)
{
    (void)sig;
    pvm_console_stop = 1;
}

static int pvm_vm_console_cmd(pvm_cli *cli, const pvm_args *a, pvm_error *err)
{
    pvm_engine *e;
    int sock = -1;
    if (!(e = pvm_cli_engine(cli, err)) || pvm_vm_console_open(e, a->pos[0], &sock, err) < 0)
        return -1;
    struct sigaction sa = {.sa_handler = pvm_console_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    int rc = pvm_console_attach(sock, a->pos[0], &pvm_console_stop);
    pvm_vm_console_close(e, sock); /* the socket and the one-client lock */
    if (rc < 0)
        return pvm_error_set(err, PVM_E_IO, "console of '%s': the terminal went away",
                             a->pos[0]);
    return 0;
}

/* ------------------------------------------------------------- dispatch */

static const pvm_sub pvm_vm_subs[] = {
    {"create", "NAME --profile PROFILE [OPTIONS]", "make a VM: its folder, a sparse qcow2 disk "
     "(qemu-img) and its record",
     "NAME: letters, digits, space, '.', '_' and '-', starting with a letter or digit.\n"
     "SIZE takes K, M, G or T (powers of 1024).\n"
     "The disk is sparse: it takes space only as the guest writes. With --image the disk\n"
     "starts from FILE: '--image-mode copy' makes an independent qcow2 copy (FILE may go\n"
     "away), '--image-mode overlay' a qcow2 overlay that reads unchanged blocks from FILE\n"
     "(which must then stay where it is, unchanged). Caps on vCPUs and memory come from\n"
     "the config file (default: half the host's cores and memory).\n"
     "The profile needs a CPU brand, a MAC (unless --net none) and, for nvme and sata, a\n"
     "disk serial: QEMU would otherwise give the guest its own (\"QEMU Virtual CPU\",\n"
     "52:54:00:..., QM00001); 'profile create P --preset KEY --random' fills them all.\n"
     "What 'vm start' would refuse about the profile is refused here already. For the\n"
     "least a guest can tell, use --disk-bus sata --nic e1000e (see 'What a guest can\n"
     "still see' in the manual page).",
     pvm_create_opts, PVM_N(pvm_create_opts), NULL, 1, 1, "NAME", pvm_vm_create_cmd, NULL},
    {"list", "[--json]", "list VMs with the state read from the live QEMU process",
     "STATE is running, paused, stopped or crashed (REASON says why).",
     pvm_json_opt, 1, NULL, 0, 0, "NAME", pvm_vm_list_cmd, NULL},
    {"show", "NAME [--json]", "show one VM", NULL, pvm_json_opt, 1, NULL, 1, 1, "NAME",
     pvm_vm_show_cmd, NULL},
    {"start", "NAME [--wait-agent SECONDS]", "start the VM under QEMU (daemonized: it outlives "
     "this program and the SSH session)",
     "Returns when QEMU's monitor (QMP) answers; with --wait-agent, once the guest agent\n"
     "(qemu-guest-agent in the guest) answers too. A failed start ends what it began and\n"
     "prints QEMU's own message. Set PRIVARION_VM_ACCEL=tcg|kvm|auto to choose acceleration.\n"
     "A profile that hides the hypervisor runs the stealth QEMU when it is built; with\n"
     "qemu_stealth = auto and no usable build (missing, or stale) it starts on stock QEMU\n"
     "with a warning saying to run 'privarion-vm qemu build'.",
     pvm_start_opts, PVM_N(pvm_start_opts), NULL, 1, 1, "NAME", pvm_vm_start_cmd, NULL},
    {"stop", "NAME [--timeout SECONDS] [--force]", "power the guest off (ACPI), or end QEMU "
     "with --force",
     "The power button is pressed again every 3 s while waiting (a guest that is still\n"
     "booting drops a press). Without --force, a guest that ignores it is reported after\n"
     "--timeout (exit status 1) and keeps running. Stopping a VM that is already stopped\n"
     "succeeds (exit status 0); stopping a crashed VM clears its crashed state.",
     pvm_stop_opts, PVM_N(pvm_stop_opts), NULL, 1, 1, "NAME", pvm_vm_stop_cmd, NULL},
    {"edit", "NAME [OPTIONS]", "change a stopped VM: vCPUs, memory, disk size, ISO, NIC, "
     "display, profile",
     "Only a stopped VM can be edited (stop it first). Each value follows the rules of\n"
     "'vm create' and the caps of the config file; what 'vm start' would refuse is refused\n"
     "here. The disk only grows: the guest's partition and file system are then yours to\n"
     "grow. '--iso none' detaches the installer after the install. A new --profile gives\n"
     "the guest a new machine identity (a warning says so). On any error nothing changes.",
     NULL, 0, pvm_vm_edit_options, 1, 1, "NAME", pvm_vm_edit_run, NULL},
    {"display", "NAME [--port N]", "how to see the VM's screen (VNC on a private unix "
     "socket), or forward a loopback port to it",
     "The VNC server of a VM with --display vnc listens on a unix socket in the VM's\n"
     "runtime folder (mode 0700: no other user can reach it; never a TCP port). Without\n"
     "--port this prints the socket, the 'ssh -L' line that forwards a port of your own\n"
     "machine to it and the viewer command. With --port N the program itself listens\n"
     "on 127.0.0.1:N (loopback only) and relays each viewer to the socket until Ctrl-C\n"
     "or until the VM stops.",
     NULL, 0, pvm_vm_display_options, 1, 1, "NAME", pvm_vm_display_run, NULL},
    {"screenshot", "NAME FILE.png", "save the VM's screen as a PNG file",
     "QEMU's screendump (PPM) of the display adapter, written as PNG with libpng. A\n"
     "screen of one colour is saved too, with a note saying it is blank.",
     NULL, 0, NULL, 2, 2, "NAME FILE.png", pvm_vm_screenshot_run, NULL},
    {"sendkey", "NAME KEYS...", "press keys on the VM's keyboard (e.g. ret, esc, "
     "ctrl-alt-delete)",
     "Each argument is a chord pressed at once, key names joined by '-', pressed in\n"
     "order: 'vm sendkey box down down ret'. Names are QEMU's key codes: a-z, 0-9,\n"
     "ret, esc, tab, spc, backspace, up, down, left, right, f1-f12, ctrl, alt, shift,\n"
     "delete, home, end, pgup, pgdn ... (QEMU 7.2's QKeyCode names; another name\n"
     "exits 2 naming it). The VM needs a display (--display vnc).",
     NULL, 0, NULL, 2, 64, "NAME KEYS", pvm_vm_sendkey_run, NULL},
    {"resume", "NAME", "continue a paused VM (e.g. paused by QEMU on a full disk)",
     "QEMU pauses a VM whose disk image cannot grow (no space left on the file system\n"
     "under HOME/vms/ID): 'vm list' and 'vm show' then say \"paused: I/O error on disk\"\n"
     "with the folder to free. Once space is freed, resume retries the failed writes and\n"
     "the guest goes on. A VM that is not paused is refused (exit status 1), and so is a\n"
     "disk still full (QEMU pauses it again at once).",
     NULL, 0, NULL, 1, 1, "NAME", pvm_vm_resume_cmd, NULL},
    {"delete", "NAME", "delete a stopped VM: its folder, disk and record", NULL, NULL, 0, NULL, 1, 1,
     "NAME", pvm_vm_delete_cmd, NULL},
    {"log", "NAME [--qemu]", "print the serial console output of the current or last boot",
     "An empty console log gets a one-line note on stderr (exit status 0): a guest prints\n"
     "here only with a serial console (e.g. a kernel booted with console=ttyS0).",
     pvm_log_opts, PVM_N(pvm_log_opts), NULL, 1, 1, "NAME", pvm_vm_log_cmd, NULL},
    {"console", "NAME", "attach this terminal to the VM's serial console",
     "The escape key is Ctrl-] (0x1d): it leaves the console and restores the terminal;\n"
     "the VM keeps running. Only one console client can be attached at a time.",
     NULL, 0, NULL, 1, 1, "NAME", pvm_vm_console_cmd, NULL},
    {"exec", "NAME [-i] [--timeout SECONDS] -- CMD [ARGS...]", "run one command in the running "
     "guest (guest agent) and exit with its status",
     "CMD and ARGS reach the guest as separate arguments (no shell; use '-- sh -c TEXT' for\n"
     "one). Standard input is passed only with -i/--stdin (read to its end, up to 8 MiB);\n"
     "without it the command's standard input is empty and ours is never read. The\n"
     "command's output is printed when it ends (the agent captures it, up to 16 MiB).\n"
     "At --timeout the guest process is killed with the processes it started (exit\n"
     "status 1). Exit status: the command's own, or 1/2 when privarion-vm itself fails;\n"
     "Ctrl-C (SIGINT) or SIGTERM kills them too and ends privarion-vm by the signal\n"
     "(130 or 143).",
     pvm_cli_exec_opts, 2, NULL, 1, 4096, "NAME", pvm_cli_vm_exec, NULL},
    {"copy", "NAME:GUEST_PATH HOST_PATH | HOST_PATH NAME:GUEST_PATH [--timeout SECONDS]",
     "copy a file out of or into the running guest (guest agent), checksummed",
     "Exactly one side names the VM: an existing VM's name, ':' and an absolute guest path\n"
     "(a host path that looks like one can be written ./NAME:x). Streamed in chunks of at most 1 MiB\n"
     "with a progress bar on a terminal; written to a temporary name beside the target and\n"
     "renamed once its SHA-256 matches the guest's (sha256sum in the guest, else the file\n"
     "is read back). A failure, timeout or Ctrl-C removes the partial file (Ctrl-C exits\n"
     "130, SIGTERM 143). A HOST_PATH that is a folder gets the guest file's name.",
     pvm_cli_copy_opts, 1, NULL, 2, 2, "NAME:GUEST_PATH and HOST_PATH", pvm_cli_vm_copy, NULL},
    {"audit", "NAME [--json]", "read inside the running guest what it sees of its identity, "
     "next to the profile, with every virtualization mark",
     "Reads through the guest agent /sys/class/dmi/id/, the raw SMBIOS table (its strings\n"
     "and the type 0 virtual-machine bit), the NICs' MACs, the disks' serials and models,\n"
     "/proc/cpuinfo (brand, hypervisor flag), the ACPI tables' OEM/creator ids, the PCI\n"
     "vendor ids and each display adapter's vendor:device (QEMU's VGA 1234:1111, QXL\n"
     "1b36:0100 and virtio-gpu 1af4:1050 are marks). Marks come from the same table that\n"
     "checks profiles. Exit status 0 only when nothing differs from the profile and no mark\n"
     "is seen; stock QEMU 7.2 always leaves some (ACPI creator BXPC, the chipset's PCI\n"
     "subsystem 1af4, the agent's virtio port) that only the patched QEMU removes. Linux\n"
     "guests only. After a profile edit while the VM runs, the guest still wears the\n"
     "identity it started with: each edited value is a mismatch saying so (--json: the\n"
     "item's started value, editedSinceStart) and a warning names the edited fields.",
     pvm_cli_audit_opts, 1, NULL, 1, 1, "NAME", pvm_cli_vm_audit, NULL},
};

static void pvm_vm_help(const pvm_sub_group *g)
{
    (void)g;
    printf("usage: " PVM_PROG " vm SUBCOMMAND [ARGS...]\n\nManage virtual machines.\n\n"
           "Subcommands:\n");
    for (size_t i = 0; i < PVM_N(pvm_vm_subs); i++)
        printf("  %-11s %s\n", pvm_vm_subs[i].name, pvm_vm_subs[i].summary);
    printf("\nRun '" PVM_PROG " vm SUBCOMMAND --help' for its options.\n"
           "Exit status: 0 success, 2 bad usage or input, 1 any other failure.\n");
}

static const pvm_sub_group pvm_vm_group = {"vm", pvm_vm_subs, PVM_N(pvm_vm_subs), pvm_vm_help};

int pvm_cli_vm(pvm_cli *cli, int argc, char **argv)
{
    return pvm_sub_dispatch(cli, &pvm_vm_group, argc, argv);
}
