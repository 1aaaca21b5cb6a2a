/* vm_edit.c - `vm edit`: changes a stopped VM's settings (vCPUs, memory, disk size, ISO,
 * NIC, profile ...) through the same field checks as vm create (vm_fields.c), under the
 * VM's lock (the row read again under it); the disk grows and the UEFI variables change
 * inside the store's transaction, undone on any error, so the VM stays as it was. Called by the front ends through pvm.h. */
#include "hv.h"
#include "internal.h"
#include "vm_internal.h"
#include "../db/store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Applies every given change to vm (a copy of the row); p gets the VM's profile. */
static int pvm_edit_apply(pvm_engine *e, const pvm_vm_changes *c, pvm_vm *vm, pvm_profile *p,
                          pvm_error *err)
{
    uint64_t old_disk = vm->disk_bytes;
    pvm_firmware old_fw = vm->firmware;
    if ((c->cpus && pvm_vm_field_cpus(vm, c->cpus, err) < 0) ||
        (c->memory && pvm_vm_field_memory(vm, c->memory, err) < 0) ||
        (c->disk && pvm_vm_field_disk(vm, c->disk, err) < 0) ||
        (c->nic_set && pvm_vm_field_nic(vm, c->nic, err) < 0) ||
        (c->iso && pvm_vm_field_iso(vm, c->iso, err) < 0) ||
        (c->display_set && pvm_vm_field_display(vm, c->display, err) < 0) ||
        (c->video_set && pvm_vm_field_video(vm, c->video, err) < 0) ||
        (c->firmware_set && pvm_vm_field_firmware(vm, c->firmware, err) < 0) ||
        (c->net_set && pvm_vm_field_net(vm, c->net, c->bridge, err) < 0) ||
        (c->forwards && pvm_vm_field_forwards(vm, c->forwards, err) < 0) ||
        pvm_vm_fields_agree(vm, c->video_set, err) < 0)
        return -1;
    if (vm->disk_bytes < old_disk) {
        char a[32], b[32];
        return pvm_error_set_field(err, PVM_E_INVALID, "disk", "disk: can only grow (now %s, "
                                   "%s asked): shrinking would cut off the guest's data",
                                   pvm_size_format(old_disk, a, sizeof a),
                                   pvm_size_format(vm->disk_bytes, b, sizeof b));
    }
    if (c->tpm_set)
        vm->tpm = c->tpm;
    /* an adapter equal to the old firmware's default, chosen or not, follows the firmware
     * (pvm_video_default): ramfb has no text mode under SeaBIOS, cirrus is a PCI mark
     * under OVMF; vga and virtio stay */
    if (!c->video_set && vm->firmware != old_fw && vm->video == pvm_video_default(old_fw))
        vm->video = pvm_video_default(vm->firmware);
    if (c->firmware_set && vm->firmware != old_fw && old_fw != PVM_FIRMWARE_BIOS && !c->force)
        return pvm_error_set_field(err, PVM_E_INVALID, "firmware", "firmware: the VM has UEFI "
                                   "variables (its boot entries and keys) that %s would lose; "
                                   "add --force to start from a fresh store",
                                   pvm_firmware_name(vm->firmware));
    if (c->profile)
        return pvm_vm_field_profile(e, vm, c->profile, p, err);
    if (pvm_profile_get(e, vm->profile_id, p, err) < 0)
        return -1;
    return pvm_profile_marks_check(p, e->allow_vm_marks, err);
}

static int pvm_edit_checks(pvm_engine *e, const pvm_vm *vm, const pvm_profile *p,
                           pvm_error *err)
{
    pvm_config cfg;
    const pvm_hv_ops *hv;
    void *ctx;
    if (pvm_config_load(pvm_engine_home(e), &cfg, err) < 0 ||
        pvm_caps_check(&cfg, "memory", vm->memory_bytes, err) < 0 ||
        pvm_engine_hv(e, &cfg, &hv, &ctx, err) < 0)
        return -1;
    return hv->check(ctx, p, vm, err); /* what start would refuse, refused now */
}

/* Moves the VM's UEFI variables aside (to `aside`) before the firmware changes; *moved
 * says whether there were any. */
static int pvm_edit_vars_aside(const pvm_vm_files *f, const char *aside, bool *moved,
                               pvm_error *err)
{
    *moved = rename(f->efivars, aside) == 0;
    if (!*moved && errno != ENOENT)
        return pvm_error_set_field(err, PVM_E_IO, "firmware", "firmware: %s: cannot move it "
                                   "aside: %s", f->efivars, strerror(errno));
    return 0;
}

/* The row, the event, the UEFI variables and the disk in one transaction. Files change
 * in a way that can be undone until the commit: the old variables wait beside the new
 * ones (removed after the commit, put back on any failure, the commit's too), and a grown
 * disk is shrunk back to its old size on failure (nothing has written there yet). */
static int pvm_edit_store(pvm_engine *e, const pvm_vm *old, const pvm_vm *vm,
                          const pvm_vm_files *f, bool refresh_vars, pvm_error *err)
{
    const pvm_hv_ops *hv;
    void *ctx;
    if (pvm_engine_hv_load(e, &hv, &ctx, err) < 0)
        return -1;
    bool grow = vm->disk_bytes > old->disk_bytes, grown = false, moved = false;
    bool vars = vm->firmware != old->firmware || refresh_vars;
    if (grow && !hv->disk_resize)
        return pvm_error_set_field(err, PVM_E_STATE, "disk", "disk: the %s backend cannot "
                                   "resize disks", hv->name);
    char *aside = pvm_xasprintf("%s.old", f->efivars);
    int rc = pvm_store_begin(e->store, err);
    if (rc == 0 && (rc = pvm_db_vm_update(e->store, vm, err)) == 0) {
        char *detail = pvm_xasprintf("edited VM '%s'", vm->name);
        rc = pvm_db_event_add(e->store, vm->id, "vm.edit", detail, err);
        free(detail);
    }
    if (rc == 0 && vars && (rc = pvm_edit_vars_aside(f, aside, &moved, err)) == 0)
        rc = pvm_vm_firmware_prepare(e, f, vm->firmware, err);
    if (rc == 0 && grow)
        grown = (rc = hv->disk_resize(ctx, f, vm->disk_bytes, err)) == 0;
    rc = pvm_store_end(e->store, rc, err);
    if (rc < 0 && vars) {
        unlink(f->efivars);
        if (moved)
            rename(aside, f->efivars);
    } else if (moved) {
        unlink(aside);
    }
    if (rc < 0 && grown) {
        pvm_error ignored = {0};
        hv->disk_resize(ctx, f, old->disk_bytes, &ignored); /* --shrink: back as it was */
    }
    free(aside);
    return rc;
}

static int pvm_edit_locked(pvm_engine *e, pvm_vm *vm, const pvm_vm_files *f,
                           const pvm_vm_changes *c, pvm_vm *out, pvm_error *err)
{
    pvm_vm_probe(e, vm);
    char qn[PVM_NAME_MAX * 4 + 3];
    if (vm->state == PVM_VM_RUNNING || vm->state == PVM_VM_PAUSED)
        return pvm_error_set(err, PVM_E_STATE, "VM '%s' is %s (pid %d): vm edit changes a "
                             "stopped VM only; stop it first: vm stop %s", vm->name,
                             pvm_vm_state_name(vm->state), vm->pid,
                             pvm_shell_word(vm->name, qn, sizeof qn));
    pvm_vm *next = pvm_xmalloc(sizeof *next);
    pvm_profile *p = pvm_xmalloc(sizeof *p);
    *next = *vm;
    int rc = -1;
    if (pvm_edit_apply(e, c, next, p, err) == 0 && pvm_edit_checks(e, next, p, err) == 0 &&
        pvm_edit_store(e, vm, next, f, c->firmware_set && c->force, err) == 0) {
        rc = 0;
        if (out)
            *out = *next;
    }
    free(p);
    free(next);
    return rc;
}

int pvm_vm_edit(pvm_engine *e, const char *name_or_id, const pvm_vm_changes *c, pvm_vm *out,
                pvm_error *err)
{
    pvm_vm vm;
    pvm_vm_files f;
    int fd = -1;
    if (pvm_vm_row(e, name_or_id, &vm, err) < 0 ||
        pvm_vm_files_init(pvm_engine_home(e), vm.id, &f, err) < 0 ||
        pvm_vm_lock(&f, vm.name, &fd, err) < 0)
        return -1;
    /* read again under the lock: an edit that held it before us has changed the row */
    char id[sizeof vm.id];
    pvm_strlcpy(id, vm.id, sizeof id);
    int rc = pvm_vm_row(e, id, &vm, err);
    if (rc == 0)
        rc = pvm_edit_locked(e, &vm, &f, c, out, err);
    pvm_vm_unlock(fd);
    return rc;
}
