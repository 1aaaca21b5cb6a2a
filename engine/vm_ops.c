/* vm_ops.c - VMs in motion: start (locks, caps against the running total, the intent
 * marker, then the backend up to its monitor answering, optionally the agent) and stop
 * (the backend's ACPI power-down or force) and resume (a VM its hypervisor paused, e.g.
 * on a full disk), with events. The backend (hv.h) does the
 * hypervisor's part. Called through pvm.h. */
#include "hv.h"
#include "internal.h"
#include "vm_internal.h"
#include "../db/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PVM_START_LOCK_WAIT_MS 60000
#define PVM_DEFAULT_STOP_S 60

static void pvm_vm_event(pvm_engine *e, const pvm_vm *vm, const char *kind, const char *detail)
{
    pvm_error ignored = {0};
    pvm_db_event_add(e->store, vm->id, kind, detail, &ignored);
}

/* ----------------------------------------------------------------- caps */

/* The VM alone over the memory cap (it may have been lowered since create). */
static int pvm_vm_caps_alone(const pvm_config *cfg, const pvm_vm *vm, pvm_error *err)
{
    char mem[32], cap[32];
    return pvm_error_set(err, PVM_E_LIMIT,
                         "cannot start VM '%s' (%s): over the cap of %s that one VM may use "
                         "(max_memory in the config file)",
                         vm->name, pvm_size_format(vm->memory_bytes, mem, sizeof mem),
                         pvm_size_format(cfg->max_memory, cap, sizeof cap));
}

/* Refuses a start that would push the running VMs' memory past the cap; the message
 * gives every figure (each from its own buffer). vCPUs are never refused: every VM runs
 * on the same max_cpus host cores (pvm_host_pin), so together they use at most those. */
static int pvm_vm_check_running_caps(pvm_engine *e, const pvm_config *cfg, const pvm_vm *vm,
                                     pvm_error *err)
{
    pvm_error cap = {0};
    if (pvm_caps_check(cfg, "memory", vm->memory_bytes, &cap) < 0)
        return pvm_vm_caps_alone(cfg, vm, err);
    pvm_vm *all = NULL;
    size_t n = 0;
    if (pvm_vm_list(e, &all, &n, err) < 0)
        return -1;
    int others = 0;
    uint64_t mem = 0;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(all[i].id, vm->id) == 0 ||
            (all[i].state != PVM_VM_RUNNING && all[i].state != PVM_VM_PAUSED))
            continue;
        mem += all[i].memory_bytes;
        others++;
    }
    free(all);
    if (pvm_caps_check(cfg, "memory", mem + vm->memory_bytes, &cap) == 0)
        return 0;
    char own[32], used[32], total[32], capm[32];
    return pvm_error_set(err, PVM_E_LIMIT,
                         "cannot start VM '%s' (%s): %d running VM%s already use%s %s; together "
                         "%s are over the cap of %s that all running VMs may use (max_memory in "
                         "the config file)",
                         vm->name, pvm_size_format(vm->memory_bytes, own, sizeof own), others,
                         others == 1 ? "" : "s", others == 1 ? "s" : "",
                         pvm_size_format(mem, used, sizeof used),
                         pvm_size_format(mem + vm->memory_bytes, total, sizeof total),
                         pvm_size_format(cfg->max_memory, capm, sizeof capm));
}

/* ---------------------------------------------------------------- start */

static void pvm_report(const pvm_progress *progress, const char *step)
{
    if (progress && progress->report)
        progress->report(progress->ctx, step, -1);
}

/* The backend, and the profile checked against it (and the marks table): a refused
 * start changes nothing. */
static int pvm_vm_start_checks(pvm_engine *e, const pvm_config *cfg, const pvm_vm *vm,
                               pvm_profile *p, const pvm_hv_ops **hv, void **ctx,
                               pvm_error *err)
{
    if (pvm_engine_hv(e, cfg, hv, ctx, err) < 0 ||
        pvm_profile_get(e, vm->profile_id, p, err) < 0 ||
        pvm_profile_marks_check(p, e->allow_vm_marks, err) < 0)
        return -1;
    return (*hv)->check(*ctx, p, vm, err);
}

static int pvm_vm_start_locked(pvm_engine *e, pvm_vm *vm, const pvm_vm_files *f,
                               int wait_agent, bool paused, const pvm_progress *progress,
                               char *note, size_t note_size, pvm_error *err)
{
    if (note && note_size)
        note[0] = '\0';
    pvm_report(progress, "checking the VM's state");
    pvm_vm_probe(e, vm);
    if (vm->state == PVM_VM_RUNNING || vm->state == PVM_VM_PAUSED)
        return pvm_error_set(err, PVM_E_STATE, "VM '%s' is already %s (pid %d)", vm->name,
                             pvm_vm_state_name(vm->state), vm->pid);
    pvm_config cfg;
    pvm_profile p;
    const pvm_hv_ops *hv;
    void *ctx;
    int start_fd = -1, pid = 0, rc = -1;
    pvm_report(progress, "reading the config and the profile");
    if (pvm_config_load(pvm_engine_home(e), &cfg, err) < 0 ||
        pvm_vm_start_checks(e, &cfg, vm, &p, &hv, &ctx, err) < 0 ||
        pvm_start_lock(pvm_engine_home(e), PVM_START_LOCK_WAIT_MS, progress, &start_fd,
                       err) < 0)
        return -1;
    pvm_report(progress, "checking the caps");
    if (pvm_vm_check_running_caps(e, &cfg, vm, err) < 0)
        goto done;
    if (pvm_proc_pid_write(f->marker, 0, err) < 0) /* intent: it should be running */
        goto done;
    pvm_report(progress, "starting the VM (backend)");
    pvm_vm_boot_id_record(f);
    /* what it wears until its next start: written first (a folder that cannot take it stops
     * the start), tied to the QEMU run once it runs */
    if (pvm_vm_identity_record(f, &p, -1, err) < 0) {
        pvm_vm_forget(e, vm, f);
        goto done;
    }
    pvm_hv_start s = {.vm = vm, .files = f, .profile = &p, .cfg = &cfg, .progress = progress,
                      .paused = paused, .note = note, .note_size = note_size};
    if (hv->start(ctx, &s, &pid, err) < 0 || pvm_proc_pid_write(f->marker, pid, err) < 0) {
        if (!pid) /* nothing runs: no intent either */
            pvm_vm_forget(e, vm, f);
        goto done;
    }
    pvm_vm_unlock(start_fd); /* it runs: it counts in the next start's caps */
    start_fd = -1;
    vm->pid = pid;
    vm->state = paused ? PVM_VM_PAUSED : PVM_VM_RUNNING;
    pvm_error unbound = {0}; /* unwritten: no run matches the record, the VM wears its
                              * profile as stored - what it started with, until an edit */
    (void)pvm_vm_identity_record(f, &p, pid, &unbound);
    pvm_vm_event(e, vm, "vm.start", paused ? "QEMU started paused" : "QEMU started");
    rc = 0;
    if (wait_agent > 0)
        rc = hv->agent_wait ? hv->agent_wait(ctx, vm, wait_agent * 1000, progress, err)
                            : pvm_error_set(err, PVM_E_STATE, "VM '%s': the %s backend has no "
                                            "guest agent", vm->name, hv->name);
done:
    pvm_vm_unlock(start_fd);
    return rc;
}

/* The VM's row, its files and its lock (pvm_vm_unlock(*fd) afterwards). */
static int pvm_vm_row_locked(pvm_engine *e, const char *name_or_id, pvm_vm *vm, pvm_vm_files *f,
                             int *fd, pvm_error *err)
{
    if (pvm_vm_row(e, name_or_id, vm, err) < 0 ||
        pvm_vm_files_init(pvm_engine_home(e), vm->id, f, err) < 0)
        return -1;
    return pvm_vm_lock(f, vm->name, fd, err);
}

int pvm_vm_start_noted(pvm_engine *e, const char *name_or_id, int wait_agent_seconds,
                       const pvm_progress *progress, char *note, size_t note_size,
                       pvm_error *err)
{
    pvm_vm vm;
    pvm_vm_files f;
    int fd = -1;
    if (note && note_size)
        note[0] = '\0';
    if (pvm_vm_row_locked(e, name_or_id, &vm, &f, &fd, err) < 0)
        return -1;
    int rc = pvm_vm_start_locked(e, &vm, &f, wait_agent_seconds, false, progress, note,
                                 note_size, err);
    pvm_vm_unlock(fd);
    return rc;
}

int pvm_vm_start(pvm_engine *e, const char *name_or_id, int wait_agent_seconds,
                 const pvm_progress *progress, pvm_error *err)
{
    return pvm_vm_start_noted(e, name_or_id, wait_agent_seconds, progress, NULL, 0, err);
}

int pvm_vm_start_held(pvm_engine *e, pvm_vm *vm, const pvm_vm_files *f, bool paused,
                      const pvm_progress *progress, char *note, size_t note_size,
                      pvm_error *err)
{
    return pvm_vm_start_locked(e, vm, f, 0, paused, progress, note, note_size, err);
}

/* ----------------------------------------------------------------- stop */

static int pvm_vm_stop_locked(pvm_engine *e, pvm_vm *vm, const pvm_vm_files *f, bool force,
                              int timeout_s, const pvm_progress *progress, pvm_error *err)
{
    const pvm_hv_ops *hv;
    void *ctx;
    pvm_vm_probe(e, vm);
    if (vm->state == PVM_VM_STOPPED && !vm->state_reason[0])
        return 0; /* already stopped: stop is idempotent */
    if (vm->state == PVM_VM_STOPPED || vm->state == PVM_VM_CRASHED) {
        pvm_vm_forget(e, vm, f); /* acknowledges a crash or a guest power-off */
        return 0;
    }
    char qn[PVM_NAME_MAX * 4 + 3];
    if (!force && vm->state == PVM_VM_PAUSED)
        return pvm_error_set(err, PVM_E_STATE, "VM '%s' is paused: a paused guest cannot power "
                             "off; use --force (privarion-vm vm stop %s --force)", vm->name,
                             pvm_shell_word(vm->name, qn, sizeof qn));
    if (pvm_engine_hv_load(e, &hv, &ctx, err) < 0 ||
        hv->shutdown(ctx, vm, f, force ? PVM_HV_STOP_FORCE : PVM_HV_STOP_ACPI,
                     timeout_s * 1000, progress, err) < 0)
        return -1; /* cancelled or timed out: the VM is left as it is */
    pvm_vm_forget(e, vm, f);
    pvm_vm_event(e, vm, "vm.stop", force ? "forced" : "ACPI power-down");
    vm->state = PVM_VM_STOPPED;
    vm->pid = 0;
    return 0;
}

int pvm_vm_stop(pvm_engine *e, const char *name_or_id, bool force, int timeout_s,
                const pvm_progress *progress, pvm_error *err)
{
    pvm_vm vm;
    pvm_vm_files f;
    int fd = -1;
    if (timeout_s <= 0)
        timeout_s = PVM_DEFAULT_STOP_S;
    if (pvm_vm_row_locked(e, name_or_id, &vm, &f, &fd, err) < 0)
        return -1;
    int rc = pvm_vm_stop_locked(e, &vm, &f, force, timeout_s, progress, err);
    pvm_vm_unlock(fd);
    return rc;
}

/* --------------------------------------------------------------- resume */

static int pvm_vm_resume_locked(pvm_engine *e, pvm_vm *vm, const pvm_vm_files *f,
                                pvm_error *err)
{
    const pvm_hv_ops *hv;
    void *ctx;
    pvm_vm_probe(e, vm);
    if (vm->state != PVM_VM_PAUSED)
        return pvm_error_set(err, PVM_E_STATE, "VM '%s' is %s, not paused: only a paused VM "
                             "can be resumed", vm->name, pvm_vm_state_name(vm->state));
    if (pvm_engine_hv_load(e, &hv, &ctx, err) < 0)
        return -1;
    if (!hv->resume)
        return pvm_error_set(err, PVM_E_STATE, "VM '%s': the %s backend cannot resume a VM",
                             vm->name, hv->name);
    char why[sizeof vm->state_reason];
    pvm_strlcpy(why, vm->state_reason, sizeof why);
    if (hv->resume(ctx, vm, f, err) < 0)
        return -1;
    pvm_vm_event(e, vm, "vm.resume", why);
    vm->state = PVM_VM_RUNNING;
    vm->state_reason[0] = '\0';
    return 0;
}

int pvm_vm_resume(pvm_engine *e, const char *name_or_id, pvm_error *err)
{
    pvm_vm vm;
    pvm_vm_files f;
    int fd = -1;
    if (pvm_vm_row_locked(e, name_or_id, &vm, &f, &fd, err) < 0)
        return -1;
    int rc = pvm_vm_resume_locked(e, &vm, &f, err);
    pvm_vm_unlock(fd);
    return rc;
}
