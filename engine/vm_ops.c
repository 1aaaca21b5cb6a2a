/* vm_ops.c - VMs in motion: start (lock, caps against the running total, type 0 table,
 * accel, argv, daemonized QEMU, wait for QMP and optionally the agent) and stop (ACPI
 * power-down, pressed again every few seconds, or force). Called through pvm.h. */
#include "internal.h"
#include "qemu/qemu.h"
#include "qemu/qmp.h"
#include "vm_internal.h"
#include "../db/store.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PVM_START_TIMEOUT_MS 30000
#define PVM_DEFAULT_STOP_S 60
#define PVM_POWERDOWN_EVERY_MS 3000 /* a press before the guest's ACPI is up is lost */

static void pvm_vm_event(pvm_engine *e, const pvm_vm *vm, const char *kind, const char *detail)
{
    pvm_error ignored = {0};
    pvm_db_event_add(e->store, vm->id, kind, detail, &ignored);
}

/* ----------------------------------------------------------------- caps */

static const char *pvm_cpus_word(int n)
{
    return n == 1 ? "vCPU" : "vCPUs";
}

/* The VM alone over the caps (they may have been lowered since create). */
static int pvm_vm_caps_alone(const pvm_config *cfg, const pvm_vm *vm, pvm_error *err)
{
    char mem[32], cap[32];
    return pvm_error_set(err, PVM_E_LIMIT,
                         "cannot start VM '%s' (%d %s, %s): over the caps of %d %s and %s that "
                         "one VM may use (max_cpus, max_memory in the config file)",
                         vm->name, vm->cpus, pvm_cpus_word(vm->cpus),
                         pvm_size_format(vm->memory_bytes, mem, sizeof mem), cfg->max_cpus,
                         pvm_cpus_word(cfg->max_cpus),
                         pvm_size_format(cfg->max_memory, cap, sizeof cap));
}

/* Refuses a start that would push the running VMs' total past the caps; the
 * message gives every figure (each from its own buffer). */
static int pvm_vm_check_running_caps(pvm_engine *e, const pvm_config *cfg, const pvm_vm *vm,
                                     pvm_error *err)
{
    pvm_error cap = {0};
    if (pvm_caps_check(cfg, "start", vm->cpus, vm->memory_bytes, &cap) < 0)
        return pvm_vm_caps_alone(cfg, vm, err);
    pvm_vm *all = NULL;
    size_t n = 0;
    if (pvm_vm_list(e, &all, &n, err) < 0)
        return -1;
    int cpus = 0, others = 0;
    uint64_t mem = 0;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(all[i].id, vm->id) == 0 ||
            (all[i].state != PVM_VM_RUNNING && all[i].state != PVM_VM_PAUSED))
            continue;
        cpus += all[i].cpus;
        mem += all[i].memory_bytes;
        others++;
    }
    free(all);
    if (pvm_caps_check(cfg, "start", cpus + vm->cpus, mem + vm->memory_bytes, &cap) == 0)
        return 0;
    char own[32], used[32], total[32], capm[32];
    return pvm_error_set(err, PVM_E_LIMIT,
                         "cannot start VM '%s' (%d %s, %s): %d running VM%s already use%s %d %s "
                         "and %s; together %d %s and %s are over the caps of %d %s and %s that "
                         "all running VMs may use (max_cpus, max_memory in the config file)",
                         vm->name, vm->cpus, pvm_cpus_word(vm->cpus),
                         pvm_size_format(vm->memory_bytes, own, sizeof own), others,
                         others == 1 ? "" : "s", others == 1 ? "s" : "", cpus,
                         pvm_cpus_word(cpus), pvm_size_format(mem, used, sizeof used),
                         cpus + vm->cpus, pvm_cpus_word(cpus + vm->cpus),
                         pvm_size_format(mem + vm->memory_bytes, total, sizeof total),
                         cfg->max_cpus, pvm_cpus_word(cfg->max_cpus),
                         pvm_size_format(cfg->max_memory, capm, sizeof capm));
}

/* ---------------------------------------------------------------- start */

static int pvm_vm_truncate(const char *path, pvm_error *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return pvm_error_set(err, PVM_E_IO, "%s: cannot write: %s", path, strerror(errno));
    close(fd);
    return 0;
}

/* Fresh runtime folder and logs for this boot. */
static int pvm_vm_prepare_files(const pvm_vm_files *f, pvm_error *err)
{
    char base[64];
    pvm_proc_runtime_base(base, sizeof base);
    pvm_vm_runtime_clean(f);
    if (pvm_proc_private_dir(base, err) < 0 || pvm_proc_private_dir(f->run_dir, err) < 0)
        return -1;
    if (pvm_vm_truncate(f->serial_log, err) < 0 || pvm_vm_truncate(f->qemu_log, err) < 0)
        return -1;
    return 0;
}

static int pvm_vm_build(pvm_engine *e, const pvm_vm *vm, const pvm_vm_files *f,
                        const pvm_config *cfg, pvm_argv *argv, pvm_error *err)
{
    pvm_profile p;
    if (pvm_profile_get(e, vm->profile_id, &p, err) < 0 ||
        pvm_profile_marks_check(&p, e->allow_vm_marks, err) < 0)
        return -1;
    if (pvm_smbios_type0_write(&p.hw, f->smbios, err) < 0)
        return -1;
    pvm_accel accel;
    char reason[256];
    if (pvm_accel_resolve(pvm_engine_home(e), cfg, &accel, reason, sizeof reason, err) < 0)
        return -1;
    pvm_qemu_paths paths = {
        .qemu = cfg->qemu, .disk = f->disk, .qmp_sock = f->qmp_sock, .qga_sock = f->qga_sock,
        .serial_sock = f->serial_sock, .serial_log = f->serial_log, .pidfile = f->pidfile,
        .smbios_type0 = f->smbios, .qemu_log = f->qemu_log,
    };
    return pvm_qemu_build_argv(&p, vm, &paths, accel, argv, err);
}

/* Ends a QEMU of this VM that may have started (only when it names the VM). */
static void pvm_vm_kill_started(const pvm_vm_files *f, const pvm_vm *vm)
{
    int pid = pvm_proc_pid_read(f->pidfile);
    (void)vm;
    if (pvm_vm_qemu_ours(f, pid)) {
        kill(pid, SIGKILL);
        pvm_proc_wait_gone(pid, 5000, NULL, NULL, NULL);
    }
}

static int pvm_vm_start_failed(const pvm_vm_files *f, const pvm_vm *vm, const char *what,
                               pvm_error *err)
{
    /* QEMU's last lines, whole, in the room the message leaves */
    char head[sizeof err->msg], tail[sizeof err->msg];
    int h = snprintf(head, sizeof head, "VM '%s': %s; QEMU said: ", vm->name, what);
    size_t room = h > 0 && (size_t)h + 16 < sizeof head ? sizeof head - (size_t)h : 16;
    pvm_proc_tail(f->qemu_log, 3, tail, room);
    pvm_vm_kill_started(f, vm);
    pvm_vm_runtime_clean(f);
    return pvm_error_set(err, PVM_E_QEMU, "VM '%s': %s%s%s", vm->name, what,
                         tail[0] ? "; QEMU said: " : "", tail);
}

/* Runs QEMU; its first process returns once the daemon is set up. */
static int pvm_vm_spawn(const pvm_vm_files *f, const pvm_vm *vm, pvm_argv *argv, int64_t end,
                        pvm_error *err)
{
    pid_t child;
    int status = 0;
    pvm_error spawn = {0};
    if (pvm_proc_spawn(argv->v, f->qemu_log, &child, &spawn) < 0) {
        char what[300];
        snprintf(what, sizeof what, "%.200s (is QEMU installed? apt-get install qemu-system-x86)",
                 spawn.msg);
        return pvm_vm_start_failed(f, vm, what, err);
    }
    int waited = (int)(end - pvm_proc_now_ms());
    if (pvm_proc_wait_child(child, waited > 0 ? waited : 0, NULL, NULL, &status, NULL) != 1) {
        kill(child, SIGKILL);
        pvm_proc_wait_child(child, 5000, NULL, NULL, &status, NULL);
        return pvm_vm_start_failed(f, vm, "QEMU did not finish starting within 30 s", err);
    }
    if (status == 127)
        return pvm_vm_start_failed(f, vm, "cannot run QEMU (install it: apt-get install "
                                          "qemu-system-x86)", err);
    if (status != 0) {
        char what[64];
        snprintf(what, sizeof what, "QEMU exited with status %d while starting", status);
        return pvm_vm_start_failed(f, vm, what, err);
    }
    return 0;
}

/* Waits until QMP answers query-status (bounded by end). */
static int pvm_vm_wait_qmp(const pvm_vm_files *f, const pvm_vm *vm, int64_t end, int *pid,
                           pvm_error *err)
{
    pvm_error last = {0};
    for (;;) {
        *pid = pvm_proc_pid_read(f->pidfile);
        if (*pid && !pvm_proc_alive(*pid))
            return pvm_vm_start_failed(f, vm, "QEMU exited right after starting", err);
        pvm_qmp *q = NULL;
        char status[64];
        if (*pid && pvm_qmp_connect(f->qmp_sock, 1000, &q, &last) == 0) {
            int rc = pvm_qmp_status(q, status, sizeof status, &last);
            pvm_qmp_close(q);
            if (rc == 0)
                return 0;
        }
        if (pvm_proc_now_ms() >= end) {
            char what[300];
            snprintf(what, sizeof what, "QMP did not answer within 30 s (%.200s)",
                     last.msg[0] ? last.msg : "no pid file");
            return pvm_vm_start_failed(f, vm, what, err);
        }
        pvm_proc_sleep_ms(20);
    }
}

/* Waits until the guest agent answers a ping; QEMU keeps running on timeout. */
static int pvm_vm_wait_agent(const pvm_vm_files *f, const pvm_vm *vm, int seconds, int pid,
                             pvm_error *err)
{
    int64_t end = pvm_proc_now_ms() + (int64_t)seconds * 1000;
    pvm_error last = {0};
    for (;;) {
        if (!pvm_proc_alive(pid))
            return pvm_error_set(err, PVM_E_QEMU, "VM '%s': QEMU exited while waiting for the "
                                 "guest agent", vm->name);
        int left = (int)(end - pvm_proc_now_ms());
        if (left <= 0)
            break;
        pvm_qga *g = NULL;
        int step = left < 3000 ? left : 3000;
        if (pvm_qga_connect(f->qga_sock, step, &g, &last) == 0) {
            int rc = pvm_qga_ping(g, step, &last);
            pvm_qga_close(g);
            if (rc == 0)
                return 0;
        }
        pvm_proc_sleep_ms(200);
    }
    return pvm_error_set(err, PVM_E_QEMU,
                         "VM '%s': the guest agent did not answer within %d s (the VM keeps "
                         "running; is qemu-guest-agent installed in the guest?)%s%.200s",
                         vm->name, seconds, last.msg[0] ? " last error: " : "", last.msg);
}

static int pvm_vm_start_locked(pvm_engine *e, pvm_vm *vm, const pvm_vm_files *f,
                               int wait_agent, pvm_error *err)
{
    pvm_vm_probe(e, vm);
    if (vm->state == PVM_VM_RUNNING || vm->state == PVM_VM_PAUSED)
        return pvm_error_set(err, PVM_E_STATE, "VM '%s' is already %s (pid %d)", vm->name,
                             pvm_vm_state_name(vm->state), vm->pid);
    pvm_config cfg;
    int start_fd = -1;
    if (pvm_config_load(pvm_engine_home(e), &cfg, err) < 0 ||
        pvm_start_lock(pvm_engine_home(e), PVM_START_TIMEOUT_MS * 2, NULL, &start_fd, err) < 0)
        return -1;
    pvm_argv argv;
    pvm_argv_init(&argv);
    int64_t end = pvm_proc_now_ms() + PVM_START_TIMEOUT_MS;
    int pid = 0;
    int rc = -1;
    bool began = false; /* the last boot's logs and state are cleared from here on */
    if (pvm_vm_check_running_caps(e, &cfg, vm, err) < 0 ||
        pvm_vm_build(e, vm, f, &cfg, &argv, err) < 0)
        goto done;
    began = true;
    if (pvm_vm_prepare_files(f, err) < 0 ||
        pvm_proc_pid_write(f->marker, 0, err) < 0) /* intent: it should be running */
        goto done;
    pvm_vm_boot_id_record(f);
    if (pvm_vm_spawn(f, vm, &argv, end, err) < 0 || pvm_vm_wait_qmp(f, vm, end, &pid, err) < 0 ||
        pvm_proc_pid_write(f->marker, pid, err) < 0)
        goto done;
    pvm_vm_unlock(start_fd); /* QEMU runs: it counts in the next start's caps */
    start_fd = -1;
    vm->pid = pid;
    vm->state = PVM_VM_RUNNING;
    pvm_vm_event(e, vm, "vm.start", "QEMU started");
    rc = wait_agent > 0 ? pvm_vm_wait_agent(f, vm, wait_agent, pid, err) : 0;
done:
    pvm_vm_unlock(start_fd);
    if (rc < 0 && !pid && began)
        pvm_vm_runtime_clean(f);
    pvm_argv_free(&argv);
    return rc;
}

int pvm_vm_start(pvm_engine *e, const char *name_or_id, int wait_agent_seconds,
                 const pvm_progress *progress, pvm_error *err)
{
    (void)progress; /* TODO([3/11] backend): cancel and report through the one wait helper */
    pvm_vm vm;
    pvm_vm_files f;
    int fd = -1;
    if (pvm_vm_row(e, name_or_id, &vm, err) < 0)
        return -1;
    if (pvm_vm_files_init(pvm_engine_home(e), vm.id, &f, err) < 0 ||
        pvm_vm_lock(&f, vm.name, &fd, err) < 0)
        return -1;
    int rc = pvm_vm_start_locked(e, &vm, &f, wait_agent_seconds, err);
    pvm_vm_unlock(fd);
    return rc;
}

/* ----------------------------------------------------------------- stop */

static int pvm_vm_qmp_try(const pvm_vm_files *f, const char *cmd, pvm_error *err)
{
    pvm_qmp *q = NULL;
    if (pvm_qmp_connect(f->qmp_sock, 2000, &q, err) < 0)
        return -1;
    int rc = pvm_qmp_execute(q, cmd, NULL, NULL, 2000, err);
    pvm_qmp_close(q);
    return rc;
}

static void pvm_vm_qmp_send(const pvm_vm_files *f, const char *cmd)
{
    pvm_error ignored = {0};
    pvm_vm_qmp_try(f, cmd, &ignored);
}

/* Presses the power button every few seconds until QEMU is gone or timeout_s
 * passes: right after start the guest has no ACPI yet and drops the press. */
static bool pvm_vm_powerdown_wait(const pvm_vm_files *f, int pid, int timeout_s)
{
    int64_t end = pvm_proc_now_ms() + (int64_t)timeout_s * 1000;
    for (;;) {
        pvm_vm_qmp_send(f, "system_powerdown");
        int left = (int)(end - pvm_proc_now_ms());
        if (left <= 0)
            return pvm_proc_wait_gone(pid, 0, NULL, NULL, NULL) == 1;
        if (pvm_proc_wait_gone(pid, left < PVM_POWERDOWN_EVERY_MS ? left : PVM_POWERDOWN_EVERY_MS,
                               NULL, NULL, NULL) == 1)
            return true;
    }
}

static int pvm_vm_force_end(const pvm_vm_files *f, pvm_vm *vm, pvm_error *err)
{
    pvm_vm_qmp_send(f, "quit");
    if (pvm_proc_wait_gone(vm->pid, 5000, NULL, NULL, NULL) == 1)
        return 0;
    if (pvm_vm_qemu_ours(f, vm->pid))
        kill(vm->pid, SIGKILL);
    if (pvm_proc_wait_gone(vm->pid, 10000, NULL, NULL, NULL) == 1)
        return 0;
    return pvm_error_set(err, PVM_E_QEMU, "VM '%s': QEMU process %d survived SIGKILL", vm->name,
                         vm->pid);
}

static int pvm_vm_stop_locked(pvm_engine *e, pvm_vm *vm, const pvm_vm_files *f, bool force,
                              int timeout_s, pvm_error *err)
{
    pvm_vm_probe(e, vm);
    if (vm->state == PVM_VM_STOPPED && !vm->state_reason[0])
        return 0; /* already stopped: stop is idempotent */
    if (vm->state == PVM_VM_STOPPED || vm->state == PVM_VM_CRASHED) {
        pvm_vm_runtime_clean(f); /* acknowledges a crash or a guest power-off */
        return 0;
    }
    if (!force && vm->state == PVM_VM_PAUSED)
        return pvm_error_set(err, PVM_E_STATE, "VM '%s' is paused: a paused guest cannot power "
                             "off; use --force", vm->name);
    if (force) {
        if (pvm_vm_force_end(f, vm, err) < 0)
            return -1;
    } else {
        pvm_error q = {0}; /* without QMP the button cannot be pressed: say so at once */
        if (pvm_vm_qmp_try(f, "system_powerdown", &q) < 0)
            return pvm_error_set(err, PVM_E_QEMU, "VM '%s': QMP is unreachable, so the power "
                                 "button cannot be pressed (%.200s); the guest keeps running: "
                                 "use --force to end QEMU", vm->name, q.msg);
        if (!pvm_vm_powerdown_wait(f, vm->pid, timeout_s))
            return pvm_error_set(err, PVM_E_STATE,
                                 "VM '%s': guest did not power off within %d s; use --force",
                                 vm->name, timeout_s);
    }
    pvm_vm_runtime_clean(f);
    pvm_vm_event(e, vm, "vm.stop", force ? "forced" : "ACPI power-down");
    vm->state = PVM_VM_STOPPED;
    vm->pid = 0;
    return 0;
}

int pvm_vm_stop(pvm_engine *e, const char *name_or_id, bool force, int timeout_s,
                const pvm_progress *progress, pvm_error *err)
{
    (void)progress; /* TODO([3/11] backend): cancel and report through the one wait helper */
    pvm_vm vm;
    pvm_vm_files f;
    int fd = -1;
    if (pvm_vm_row(e, name_or_id, &vm, err) < 0)
        return -1;
    if (timeout_s <= 0)
        timeout_s = PVM_DEFAULT_STOP_S;
    if (pvm_vm_files_init(pvm_engine_home(e), vm.id, &f, err) < 0 ||
        pvm_vm_lock(&f, vm.name, &fd, err) < 0)
        return -1;
    int rc = pvm_vm_stop_locked(e, &vm, &f, force, timeout_s, err);
    pvm_vm_unlock(fd);
    return rc;
}
