/* qemu/backend.c - the QEMU backend of hv.h: the runtime folder (two QMP monitors, agent
 * and console sockets, pid file), start (type 0 table, accel, argv, daemonized QEMU, up to
 * the COMMAND monitor answering), the live state from the process, QMP and qemu.log,
 * shutdown, console, guest agent wait, and disks through qemu-img. Called through hv.h. */
#include "hv.h"
#include "qemu/ctx.h"
#include "qemu/qemu.h"
#include "qemu/qmp.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define PVM_START_TIMEOUT_MS 30000
#define PVM_POWERDOWN_EVERY_MS 3000 /* a press before the guest's ACPI is up is lost */
/* A short command waits at most this long for the COMMAND monitor: connect, greeting
 * (queued behind another short command), capabilities and one reply. */
#define PVM_QMP_SHORT_MS 2000
#define PVM_QMP_READY_POLL_MS 5


/* ------------------------------------------------------------- runtime files */

static int pvm_run_fit(char *dst, const char *a, const char *b, pvm_error *err)
{
    int n = snprintf(dst, PVM_RUN_PATH_MAX, "%s/%s", a, b);
    if (n < 0 || n >= PVM_RUN_PATH_MAX)
        return pvm_error_set(err, PVM_E_IO, "path %s/%s: longer than %d bytes", a, b,
                             PVM_RUN_PATH_MAX - 1);
    return 0;
}

int pvm_qemu_run_init(const char *home, const char *id, pvm_qemu_run *r, pvm_error *err)
{
    memset(r, 0, sizeof *r);
    size_t n = strlen(id);
    if (n != 36 || strspn(id, "0123456789abcdef-") != n)
        return pvm_error_set(err, PVM_E_INVALID, "VM id '%.40s': must be a lower-case UUID", id);
    char base[64], short_id[13], token[16];
    pvm_proc_runtime_base(base, sizeof base);
    if (pvm_home_token(home, token, sizeof token, err) < 0)
        return -1;
    size_t k = 0; /* the first 12 hex digits of the id */
    for (const char *c = id; *c && k < 12; c++)
        if (*c != '-')
            short_id[k++] = *c;
    short_id[k] = '\0';
    char run_name[32]; /* <home token>-<12 hex of the id> */
    snprintf(run_name, sizeof run_name, "%s-%s", token, short_id);
    if (pvm_run_fit(r->dir, base, run_name, err) < 0 ||
        pvm_run_fit(r->qmp_sock, r->dir, "qmp.sock", err) < 0 ||
        pvm_run_fit(r->owner_sock, r->dir, "qmp-owner.sock", err) < 0 ||
        pvm_run_fit(r->qga_sock, r->dir, "qga.sock", err) < 0 ||
        pvm_run_fit(r->serial_sock, r->dir, "serial.sock", err) < 0 ||
        pvm_run_fit(r->pidfile, r->dir, "qemu.pid", err) < 0 ||
        pvm_run_fit(r->vnc_sock, r->dir, "vnc.sock", err) < 0 ||
        pvm_run_fit(r->tpm_sock, r->dir, "swtpm.sock", err) < 0 ||
        pvm_run_fit(r->tpm_pid, r->dir, "swtpm.pid", err) < 0 ||
        pvm_run_fit(r->agent_lock, r->dir, PVM_QGA_LOCK_NAME, err) < 0 ||
        pvm_run_fit(r->agent_seen, r->dir, PVM_QGA_SEEN_NAME, err) < 0)
        return -1;
    return 0;
}

static void pvm_qemu_run_clean(const pvm_qemu_run *r)
{
    unlink(r->qmp_sock);
    unlink(r->owner_sock);
    unlink(r->qga_sock);
    unlink(r->serial_sock);
    unlink(r->pidfile);
    unlink(r->vnc_sock);
    pvm_qemu_tpm_stop(r->tpm_pid, r->dir);
    unlink(r->tpm_sock);
    unlink(r->agent_lock);
    unlink(r->agent_seen);
    rmdir(r->dir); /* the run folder goes with its last file */
}

static void pvm_qemu_cleanup(void *ctx, const pvm_vm *vm, const pvm_vm_files *f)
{
    pvm_qemu_ctx *c = ctx;
    (void)f;
    pvm_qemu_run r;
    if (pvm_qemu_run_init(c->base.home, vm->id, &r, NULL) == 0)
        pvm_qemu_run_clean(&r);
}

/* ---------------------------------------------------------------- processes */

/* A pidfd for pid (Linux >= 5.3), -1 where the kernel has none: waits then poll. */
static int pvm_pidfd(int pid)
{
#ifdef SYS_pidfd_open
    return (int)syscall(SYS_pidfd_open, pid, 0);
#else
    (void)pid;
    return -1;
#endif
}

/* True when pid lives and is this home's QEMU of this VM: its command line names this
 * VM's runtime folder, which holds the home's token (pid reuse, and a copied home whose
 * marker names the original's QEMU). */
static bool pvm_qemu_ours(const pvm_qemu_run *r, int pid)
{
    return pid > 0 && pvm_proc_alive(pid) && pvm_proc_cmdline_has(pid, r->dir);
}

/* The QEMU of this VM: the pid in the pid file (or the intent marker) when it is ours. */
static int pvm_qemu_live_pid(const pvm_qemu_run *r, int intent_pid)
{
    int pids[2] = {pvm_proc_pid_read(r->pidfile), intent_pid > 0 ? intent_pid : 0};
    for (int i = 0; i < 2; i++)
        if (pvm_qemu_ours(r, pids[i]))
            return pids[i];
    return 0;
}

/* Ends a QEMU of this VM that may have started (only when it names its runtime folder). */
static void pvm_qemu_kill_started(const pvm_qemu_run *r, const pvm_vm *vm)
{
    (void)vm;
    int pid = pvm_qemu_live_pid(r, 0);
    if (pid && pvm_proc_signal_checked(pid, r->dir, SIGKILL) == 1)
        pvm_proc_wait_gone(pid, 5000, NULL, NULL, NULL);
}

/* One short command on the COMMAND monitor; 0 when QEMU answered. */
static int pvm_qemu_command(const pvm_qemu_run *r, const char *cmd, pvm_error *err)
{
    pvm_qmp *q = NULL;
    int rc = pvm_qmp_connect(r->qmp_sock, PVM_QMP_SHORT_MS, &q, err);
    if (rc == 0)
        rc = pvm_qmp_execute(q, cmd, NULL, NULL, PVM_QMP_SHORT_MS, err);
    if (q)
        pvm_qmp_close(q);
    return rc;
}

/* -------------------------------------------------------------------- start */

static void pvm_qemu_step(const pvm_progress *progress, const char *step)
{
    if (progress && progress->report)
        progress->report(progress->ctx, step, -1);
}

static int pvm_qemu_truncate(const char *path, pvm_error *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return pvm_error_set(err, PVM_E_IO, "%s: cannot write: %s", path, strerror(errno));
    close(fd);
    return 0;
}

/* Fresh runtime folder and logs for this boot. */
static int pvm_qemu_prepare(const pvm_vm_files *f, const pvm_qemu_run *r, pvm_error *err)
{
    char base[64];
    pvm_proc_runtime_base(base, sizeof base);
    pvm_qemu_run_clean(r);
    if (pvm_proc_private_dir(base, err) < 0 || pvm_proc_private_dir(r->dir, err) < 0)
        return -1;
    if (pvm_qemu_truncate(f->serial_log, err) < 0 || pvm_qemu_truncate(f->qemu_log, err) < 0)
        return -1;
    return 0;
}

static int pvm_qemu_build(const char *home, const pvm_hv_start *s, const pvm_qemu_run *r,
                          pvm_argv *argv, pvm_error *err)
{
    const pvm_vm_files *f = s->files;
    const char *code = NULL, *vars = NULL;
    if (pvm_qemu_firmware_check(f->efivars, s->vm->firmware, err) < 0 ||
        (s->vm->net == PVM_NET_BRIDGE && pvm_qemu_bridge_check(s->vm->bridge, err) < 0))
        return -1;
    pvm_qemu_firmware_files(s->vm->firmware, &code, &vars);
    pvm_qemu_step(s->progress, "writing the SMBIOS tables");
    if (pvm_smbios_type0_write(&s->profile->hw, f->smbios, err) < 0 ||
        pvm_smbios_tables_write(s->profile, s->vm, f->dir, err) < 0)
        return -1;
    pvm_accel accel;
    char reason[256];
    pvm_qemu_step(s->progress, "choosing the accelerator");
    if (pvm_accel_resolve(home, s->cfg, &accel, reason, sizeof reason, err) < 0)
        return -1;
    pvm_qemu_step(s->progress, "choosing the QEMU binary");
    const char *qemu;
    char stealth[PVM_PATH_MAX];
    int picked = pvm_qemu_stealth_pick(s->cfg, s->profile->hide_hypervisor, &qemu, stealth,
                                       sizeof stealth, s->note, s->note_size, err);
    if (picked < 0)
        return -1;
    pvm_qemu_step(s->progress, "building the QEMU command line");
    pvm_qemu_paths paths = {
        .qemu = qemu, .stealth = picked == 1,
        .agent_channel = pvm_qemu_agent_channel(s->cfg->agent_channel), .disk = f->disk, .qmp_sock = r->qmp_sock,
        .qmp_owner_sock = r->owner_sock, .qga_sock = r->qga_sock,
        .serial_sock = r->serial_sock, .serial_log = f->serial_log, .pidfile = r->pidfile,
        .smbios_type0 = f->smbios, .smbios_dir = f->dir, .qemu_log = f->qemu_log, .vnc_sock = r->vnc_sock,
        .ovmf_code = code, .ovmf_vars = f->efivars, .tpm_sock = r->tpm_sock,
    };
    if (pvm_qemu_build_argv(s->profile, s->vm, &paths, accel, argv, err) < 0)
        return -1;
    char devices[PVM_SNAP_DEVICES_MAX]; /* what this boot's memory state will depend on */
    pvm_qemu_devices(s->profile, s->vm, paths.stealth, paths.agent_channel, devices,
                     sizeof devices);
    if (pvm_hv_devices_record(f, devices, err) < 0)
        return -1;
    if (s->paused) /* vCPUs stopped until a snapshot's memory state is loaded */
        pvm_argv_add(argv, "-S");
    return 0;
}

static int pvm_qemu_start_failed(const pvm_vm_files *f, const pvm_qemu_run *r,
                                 const pvm_vm *vm, const char *what, pvm_error *err)
{
    /* QEMU's last lines, whole, in the room the message leaves */
    char head[sizeof err->msg], tail[sizeof err->msg];
    int h = snprintf(head, sizeof head, "VM '%s': %s; QEMU said: ", vm->name, what);
    size_t room = h > 0 && (size_t)h + 16 < sizeof head ? sizeof head - (size_t)h : 16;
    pvm_proc_tail(f->qemu_log, 3, tail, room);
    pvm_qemu_kill_started(r, vm);
    pvm_qemu_run_clean(r);
    return pvm_error_set(err, PVM_E_QEMU, "VM '%s': %s%s%s", vm->name, what,
                         tail[0] ? "; QEMU said: " : "", tail);
}

/* what for a start that ran out of its 30 s: with detail (may be ""), the host's load
 * when it is above its core count (the likely cause), and the next step. */
static void pvm_qemu_timeout_what(char *what, size_t size, const char *base, const char *detail)
{
    double load[1] = {0};
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    char busy[96] = "";
    if (getloadavg(load, 1) == 1 && cores > 0 && load[0] > (double)cores)
        snprintf(busy, sizeof busy, "; the host is busy (load average %.1f on %ld cores)",
                 load[0], cores);
    snprintf(what, size, "%s within 30 s%s%.200s%s%s; try again (vm start), and see qemu.log in "
             "the VM's folder (vm show) if it recurs", base, detail[0] ? " (" : "", detail,
             detail[0] ? ")" : "", busy);
}

/* A cancel (or a bad cancel descriptor) ends what started; err already says why. */
static int pvm_qemu_start_abandoned(const pvm_qemu_run *r, const pvm_vm *vm)
{
    pvm_qemu_kill_started(r, vm);
    pvm_qemu_run_clean(r);
    return -1;
}

/* Runs QEMU; its first process returns once the daemon is set up (monitors listen). */
static int pvm_qemu_spawn(const pvm_hv_start *s, const pvm_qemu_run *r, pvm_argv *argv,
                          int64_t end, pvm_error *err)
{
    pid_t child;
    int status = 0;
    pvm_error spawn = {0};
    pvm_qemu_step(s->progress, "spawning QEMU");
    if (pvm_proc_spawn(argv->v, s->files->qemu_log, &child, &spawn) < 0) {
        char what[300];
        snprintf(what, sizeof what, "%.200s (is QEMU installed? apt-get install qemu-system-x86)",
                 spawn.msg);
        return pvm_qemu_start_failed(s->files, r, s->vm, what, err);
    }
    int left = (int)(end - pvm_proc_now_ms());
    int rc = pvm_proc_wait_child(child, left > 0 ? left : 0, s->progress,
                                 "waiting for QEMU to daemonize", &status, err);
    if (rc != 1) {
        kill(child, SIGKILL); /* our own unreaped child: its pid cannot be reused yet */
        pvm_proc_wait_child(child, 5000, NULL, NULL, &status, NULL);
        if (rc < 0)
            return pvm_qemu_start_abandoned(r, s->vm);
        char what[400];
        pvm_qemu_timeout_what(what, sizeof what, "QEMU did not finish starting", "");
        return pvm_qemu_start_failed(s->files, r, s->vm, what, err);
    }
    if (status == 127)
        return pvm_qemu_start_failed(s->files, r, s->vm, "cannot run QEMU (install it: "
                                     "apt-get install qemu-system-x86)", err);
    if (status != 0) {
        char what[64];
        snprintf(what, sizeof what, "QEMU exited with status %d while starting", status);
        return pvm_qemu_start_failed(s->files, r, s->vm, what, err);
    }
    return 0;
}

typedef struct pvm_ready_wait {
    const pvm_qemu_run *r;
    int pid;
    bool died;
    pvm_error last;
} pvm_ready_wait;

/* Done when the COMMAND monitor answers query-status, or QEMU died. */
static bool pvm_ready_done(void *ctx)
{
    pvm_ready_wait *w = ctx;
    if (!w->pid)
        w->pid = pvm_proc_pid_read(w->r->pidfile);
    if (w->pid && !pvm_proc_alive(w->pid))
        return w->died = true;
    if (!w->pid)
        return false;
    pvm_qmp *q = NULL;
    char status[64];
    int rc = pvm_qmp_connect(w->r->qmp_sock, 1000, &q, &w->last);
    if (rc == 0)
        rc = pvm_qmp_status(q, status, sizeof status, &w->last);
    if (q)
        pvm_qmp_close(q);
    return rc == 0;
}

static int pvm_qemu_wait_ready(const pvm_hv_start *s, const pvm_qemu_run *r, int64_t end,
                               int *pid, pvm_error *err)
{
    pvm_ready_wait w = {.r = r};
    int left = (int)(end - pvm_proc_now_ms());
    int rc = pvm_wait_until(pvm_ready_done, &w, left > 0 ? left : 0, PVM_QMP_READY_POLL_MS,
                            s->progress, "waiting for QMP", err);
    if (rc < 0)
        return pvm_qemu_start_abandoned(r, s->vm);
    if (w.died)
        return pvm_qemu_start_failed(s->files, r, s->vm, "QEMU exited right after starting",
                                     err);
    if (rc == 0) {
        char what[400];
        pvm_qemu_timeout_what(what, sizeof what, "QMP did not answer",
                              w.last.msg[0] ? w.last.msg : "no pid file");
        return pvm_qemu_start_failed(s->files, r, s->vm, what, err);
    }
    *pid = w.pid;
    return 0;
}

/* The caps on host use: QEMU's threads on the max_cpus host cores all VMs share. */
static int pvm_qemu_share(const pvm_hv_start *s, const pvm_qemu_run *r, int pid, pvm_error *err)
{
    pvm_qemu_step(s->progress, "pinning QEMU to its share of host cores");
    pvm_error why = {0};
    if (pvm_host_pin(pid, s->cfg->max_cpus, NULL, 0, &why) == 0)
        return 0;
    return pvm_qemu_start_failed(s->files, r, s->vm, why.msg, err);
}

/* The VM's swtpm, before QEMU connects to it (--tpm). */
static int pvm_qemu_tpm(const pvm_hv_start *s, const pvm_qemu_run *r, pvm_error *err)
{
    if (!s->vm->tpm)
        return 0;
    pvm_qemu_step(s->progress, "starting swtpm");
    char *log = pvm_xasprintf("%s/swtpm.log", s->files->dir);
    int rc = pvm_qemu_tpm_start(s->files->tpm_dir, r->tpm_sock, r->tpm_pid, log, err);
    free(log);
    if (rc < 0)
        pvm_qemu_run_clean(r);
    return rc;
}

static int pvm_qemu_start(void *ctx, const pvm_hv_start *s, int *pid, pvm_error *err)
{
    pvm_qemu_ctx *c = ctx;
    pvm_qemu_run r;
    pvm_argv argv;
    pvm_argv_init(&argv);
    int64_t end = pvm_proc_now_ms() + PVM_START_TIMEOUT_MS;
    int rc = -1;
    *pid = 0;
    if (pvm_qemu_run_init(c->base.home, s->vm->id, &r, err) == 0 &&
        pvm_qemu_build(c->base.home, s, &r, &argv, err) == 0 &&
        (pvm_qemu_step(s->progress, "preparing the runtime folder"), 1) &&
        pvm_qemu_prepare(s->files, &r, err) == 0 && pvm_qemu_tpm(s, &r, err) == 0 &&
        pvm_qemu_spawn(s, &r, &argv, end, err) == 0 &&
        pvm_qemu_wait_ready(s, &r, end, pid, err) == 0 && pvm_qemu_share(s, &r, *pid, err) == 0)
        rc = 0;
    pvm_qemu_step(s->progress, rc == 0 ? "QMP answers" : "start failed");
    pvm_argv_free(&argv);
    return rc;
}

/* ------------------------------------------- the COMMAND connection held (hv hold) */

int pvm_qemu_cmd_connect(pvm_qemu_ctx *c, const char *sock, int timeout_ms, pvm_qmp **q,
                         pvm_error *err)
{
    *q = NULL;
    if (c->held && strcmp(c->held_sock, sock) == 0) {
        *q = c->held;
        return 0;
    }
    if (pvm_qmp_connect(sock, timeout_ms, q, err) < 0)
        return -1;
    if (c->hold && pvm_strlcpy(c->held_sock, sock, sizeof c->held_sock) < sizeof c->held_sock) {
        pvm_qmp_close(c->held); /* another VM's: one held at a time */
        c->held = *q;
    }
    return 0;
}

void pvm_qemu_cmd_done(pvm_qemu_ctx *c, pvm_qmp *q, bool ok)
{
    if (!q || (q == c->held && ok))
        return;
    if (q == c->held)
        c->held = NULL; /* a failed exchange leaves the stream in doubt: a new one next */
    pvm_qmp_close(q);
}

static void pvm_qemu_hold(void *ctx, bool on)
{
    pvm_qemu_ctx *c = ctx;
    c->hold = on;
    if (!on) {
        pvm_qmp_close(c->held);
        c->held = NULL;
    }
}

static int pvm_qemu_open(const char *home, void **ctx, pvm_error *err)
{
    pvm_qemu_ctx *c = pvm_xcalloc(1, sizeof *c);
    if (pvm_strlcpy(c->base.home, home, sizeof c->base.home) >= sizeof c->base.home) {
        free(c);
        return pvm_error_set(err, PVM_E_INVALID, "home: %s is too long a path", home);
    }
    *ctx = c;
    return 0;
}

static void pvm_qemu_close(void *ctx)
{
    pvm_qemu_hold(ctx, false);
    free(ctx);
}

/* -------------------------------------------------------------------- probe */

/* query-block's "io-status" of the first device that has one other than "ok"
 * ("nospace", "failed"; qapi/block.json BlockDeviceIoStatus) into out, else "". */
static void pvm_qemu_io_status(pvm_qmp *q, char *out, size_t size)
{
    cJSON *ret = NULL;
    pvm_error ignored = {0};
    out[0] = '\0';
    if (pvm_qmp_execute(q, "query-block", NULL, &ret, PVM_QMP_SHORT_MS, &ignored) < 0)
        return;
    const cJSON *dev;
    cJSON_ArrayForEach(dev, ret) {
        const cJSON *io = cJSON_GetObjectItemCaseSensitive(dev, "io-status");
        if (cJSON_IsString(io) && strcmp(io->valuestring, "ok") != 0) {
            pvm_strlcpy(out, io->valuestring, size);
            break;
        }
    }
    cJSON_Delete(ret);
}

static void pvm_qemu_probe_qmp(pvm_qemu_ctx *c, const pvm_qemu_run *r, const pvm_vm_files *f,
                               pvm_vm *vm)
{
    pvm_qmp *q = NULL;
    pvm_error err = {0};
    char status[64] = "", io[32] = "";
    bool ok = pvm_qemu_cmd_connect(c, r->qmp_sock, PVM_QMP_SHORT_MS, &q, &err) == 0 &&
              pvm_qmp_status(q, status, sizeof status, &err) == 0;
    if (!ok) {
        snprintf(vm->state_reason, sizeof vm->state_reason,
                 "QEMU process %d is alive; QMP did not answer: %.180s", vm->pid, err.msg);
    } else {
        if (strcmp(status, "io-error") == 0)
            pvm_qemu_io_status(q, io, sizeof io);
        pvm_vm_state_from_status(vm, f, status, io);
    }
    pvm_qemu_cmd_done(c, q, ok);
}

/* Why QEMU last ended, from the qemu_system_shutdown_request trace event that
 * QEMU itself writes to qemu.log (QEMU's ShutdownCause numbers); -1 when QEMU
 * recorded none, as after SIGKILL. The guest cannot write there. */
enum { PVM_CAUSE_QMP_QUIT = 2, PVM_CAUSE_GUEST_OFF = 6 };

static int pvm_qemu_shutdown_cause(const char *qemu_log)
{
    static const char key[] = "qemu_system_shutdown_request reason=";
    char *buf = pvm_proc_read_end(qemu_log, 65536);
    int cause = -1;
    for (char *p = buf ? strstr(buf, key) : NULL; p; p = strstr(p + 1, key))
        cause = atoi(p + sizeof key - 1);
    free(buf);
    return cause;
}

/* An intent and no process: QEMU's recorded cause tells a clean power-off (by the
 * guest, or a QMP quit) from a crash; a signal from the host records no cause,
 * but QEMU's "terminating on signal N" line ends up in the reason. */
static void pvm_qemu_probe_gone(const pvm_vm_files *f, const pvm_qemu_run *r,
                                int intent_pid, pvm_vm *vm)
{
    char last[200];
    int cause = pvm_qemu_shutdown_cause(f->qemu_log);
    if (cause == PVM_CAUSE_GUEST_OFF || cause == PVM_CAUSE_QMP_QUIT) {
        vm->state = PVM_VM_STOPPED;
        snprintf(vm->state_reason, sizeof vm->state_reason, "%s",
                 cause == PVM_CAUSE_GUEST_OFF ? "the guest powered itself off"
                                              : "QEMU was told to quit over QMP");
        return;
    }
    int other = intent_pid;
    if (other > 0 && pvm_proc_alive(other) && pvm_proc_cmdline_has(other, vm->id)) {
        vm->state = PVM_VM_STOPPED; /* a cp -a of a home whose QEMU still runs */
        snprintf(vm->state_reason, sizeof vm->state_reason,
                 "this data folder is a copy: QEMU process %d runs the VM of the original "
                 "folder, not this one", other);
        return;
    }
    if (pvm_vm_host_restarted(f)) {
        vm->state = PVM_VM_STOPPED;
        snprintf(vm->state_reason, sizeof vm->state_reason,
                 "host restarted while the VM ran (its QEMU went down with the host)");
        return;
    }
    vm->state = PVM_VM_CRASHED;
    int pid = intent_pid > 0 ? intent_pid : pvm_proc_pid_read(r->pidfile);
    struct stat st;
    if (!pid && lstat(r->qmp_sock, &st) < 0) {
        snprintf(vm->state_reason, sizeof vm->state_reason,
                 "a start was interrupted before QEMU ran (no QEMU process); start it again");
        return;
    }
    char who[48] = "QEMU process";
    if (pid)
        snprintf(who, sizeof who, "QEMU process %d", pid);
    pvm_proc_last_line(f->qemu_log, last, sizeof last);
    if (last[0])
        snprintf(vm->state_reason, sizeof vm->state_reason,
                 "%s is gone without a clean stop; qemu.log ends: %.150s", who, last);
    else
        snprintf(vm->state_reason, sizeof vm->state_reason,
                 "%s is gone without a clean stop", who);
}

static void pvm_qemu_probe(void *ctx, const pvm_vm_files *f, int intent_pid, pvm_vm *vm)
{
    pvm_qemu_ctx *c = ctx;
    pvm_qemu_run r;
    vm->state = PVM_VM_STOPPED;
    vm->pid = 0;
    vm->state_reason[0] = '\0';
    if (pvm_qemu_run_init(c->base.home, vm->id, &r, NULL) < 0)
        return;
    vm->pid = pvm_qemu_live_pid(&r, intent_pid);
    if (vm->pid) {
        vm->state = PVM_VM_RUNNING;
        pvm_qemu_probe_qmp(c, &r, f, vm);
    } else if (intent_pid >= 0) {
        pvm_qemu_probe_gone(f, &r, intent_pid, vm);
    }
}

/* ----------------------------------------------------------------- shutdown */

typedef struct pvm_powerdown_wait {
    const pvm_qemu_run *r;
    int pid;
    int64_t next_press;
} pvm_powerdown_wait;

/* Done when QEMU is gone; presses the power button every few seconds until then:
 * right after start the guest has no ACPI yet and drops the press. */
static bool pvm_powerdown_done(void *ctx)
{
    pvm_powerdown_wait *w = ctx;
    if (!pvm_proc_alive(w->pid))
        return true;
    if (pvm_proc_now_ms() >= w->next_press) {
        pvm_error ignored = {0};
        pvm_qemu_command(w->r, "system_powerdown", &ignored);
        w->next_press = pvm_proc_now_ms() + PVM_POWERDOWN_EVERY_MS;
    }
    return false;
}

static int pvm_qemu_powerdown(const pvm_qemu_run *r, const pvm_vm *vm, int timeout_ms,
                              const pvm_progress *progress, pvm_error *err)
{
    pvm_error q = {0}; /* without QMP the button cannot be pressed: say so at once */
    char qn[PVM_NAME_MAX * 4 + 3];
    pvm_shell_word(vm->name, qn, sizeof qn);
    if (pvm_qemu_command(r, "system_powerdown", &q) < 0)
        return pvm_error_set(err, PVM_E_QEMU, "VM '%s': QMP is unreachable, so the power "
                             "button cannot be pressed (%.200s); the guest keeps running: "
                             "use --force to end QEMU (privarion-vm vm stop %s --force)",
                             vm->name, q.msg, qn);
    pvm_powerdown_wait w = {r, vm->pid, pvm_proc_now_ms() + PVM_POWERDOWN_EVERY_MS};
    int pfd = pvm_pidfd(vm->pid);
    int rc = pvm_wait_until_fd(pfd, pvm_powerdown_done, &w, timeout_ms, 50, progress,
                               "waiting for the guest to power off", err);
    if (pfd >= 0)
        close(pfd);
    if (rc < 0)
        return -1;
    if (rc == 0)
        return pvm_error_set(err, PVM_E_STATE,
                             "VM '%s': guest did not power off within %d s; use --force "
                             "(privarion-vm vm stop %s --force)", vm->name, timeout_ms / 1000, qn);
    return 0;
}

static int pvm_qemu_force(const pvm_qemu_run *r, const pvm_vm *vm, const pvm_progress *progress,
                          pvm_error *err)
{
    pvm_error ignored = {0};
    pvm_qemu_command(r, "quit", &ignored);
    int rc = pvm_proc_wait_gone(vm->pid, 5000, progress, "waiting for QEMU to quit", err);
    if (rc != 0)
        return rc > 0 ? 0 : -1;
    pvm_proc_signal_checked(vm->pid, r->dir, SIGKILL); /* never a reused pid or a copy's */
    rc = pvm_proc_wait_gone(vm->pid, 10000, progress, "waiting for QEMU to end", err);
    if (rc != 0)
        return rc > 0 ? 0 : -1;
    return pvm_error_set(err, PVM_E_QEMU, "VM '%s': QEMU process %d survived SIGKILL", vm->name,
                         vm->pid);
}

static int pvm_qemu_shutdown(void *ctx, const pvm_vm *vm, const pvm_vm_files *f,
                             pvm_hv_stop_how how, int timeout_ms, const pvm_progress *progress,
                             pvm_error *err)
{
    pvm_qemu_ctx *c = ctx;
    (void)f;
    pvm_qemu_run r;
    if (pvm_qemu_run_init(c->base.home, vm->id, &r, err) < 0)
        return -1;
    int rc = how == PVM_HV_STOP_FORCE ? pvm_qemu_force(&r, vm, progress, err)
                                      : pvm_qemu_powerdown(&r, vm, timeout_ms, progress, err);
    if (rc == 0)
        pvm_qemu_run_clean(&r);
    return rc;
}

/* ------------------------------------------------------------------- resume */

#define PVM_RESUME_WATCH_MS 500 /* how long a resumed VM is watched for a new I/O stop */

typedef struct pvm_resume_watch {
    pvm_qmp *q;
    bool io_error, broken;
} pvm_resume_watch;

/* Done when QEMU stopped the VM again on an I/O error (or QMP failed). */
static bool pvm_resume_stopped_again(void *ctx)
{
    pvm_resume_watch *w = ctx;
    char status[64] = "";
    pvm_error ignored = {0};
    if (pvm_qmp_status(w->q, status, sizeof status, &ignored) < 0)
        return w->broken = true;
    return w->io_error = strcmp(status, "io-error") == 0;
}

/* A short-call connection to the running VM's COMMAND monitor (qmp.sock); the caller
 * closes *q. */
static int pvm_qemu_command_monitor(void *ctx, const pvm_vm *vm, pvm_qmp **q, pvm_error *err)
{
    pvm_qemu_ctx *c = ctx;
    pvm_qemu_run r;
    if (pvm_qemu_run_init(c->base.home, vm->id, &r, err) < 0)
        return -1;
    return pvm_qmp_connect(r.qmp_sock, PVM_QMP_SHORT_MS, q, err);
}

/* `cont` on the COMMAND monitor; QEMU retries the writes that failed. When they fail
 * again (the disk is still full) QEMU stops the VM again within moments: watched for
 * PVM_RESUME_WATCH_MS and said, with the fix. */
static int pvm_qemu_resume(void *ctx, const pvm_vm *vm, const pvm_vm_files *f, pvm_error *err)
{
    pvm_qmp *q = NULL;
    if (pvm_qemu_command_monitor(ctx, vm, &q, err) < 0)
        return -1;
    int rc = pvm_qmp_execute(q, "cont", NULL, NULL, PVM_QMP_SHORT_MS, err);
    pvm_resume_watch w = {.q = q};
    if (rc == 0 && pvm_wait_until(pvm_resume_stopped_again, &w, PVM_RESUME_WATCH_MS, 20, NULL,
                                  NULL, err) < 0)
        rc = -1;
    pvm_qmp_close(q);
    if (rc == 0 && w.io_error)
        return pvm_error_set(err, PVM_E_STATE, "VM '%s' paused again on an I/O error: its disk "
                             "still cannot grow; free more space under %s, then run vm resume "
                             "again", vm->name, f->dir);
    return rc;
}

/* ---------------------------------------------------------- console, agent */

static int pvm_qemu_runtime_path(void *ctx, const pvm_vm *vm, pvm_vm_path_kind kind, char *out,
                                 size_t size, pvm_error *err)
{
    pvm_qemu_ctx *c = ctx;
    pvm_qemu_run r;
    if (pvm_qemu_run_init(c->base.home, vm->id, &r, err) < 0)
        return -1;
    const char *p = NULL;
    switch (kind) {
    case PVM_VM_PATH_SERIAL_SOCK: p = r.serial_sock; break;
    case PVM_VM_PATH_QMP_SOCK: p = r.qmp_sock; break;
    case PVM_VM_PATH_QGA_SOCK: p = r.qga_sock; break;
    case PVM_VM_PATH_PIDFILE: p = r.pidfile; break;
    case PVM_VM_PATH_VNC_SOCK: p = r.vnc_sock; break;
    default: break;
    }
    if (!p)
        return pvm_error_set(err, PVM_E_INVALID, "path kind %d: not a runtime file", (int)kind);
    if (pvm_strlcpy(out, p, size) >= size)
        return pvm_error_set(err, PVM_E_IO, "path %s: longer than %zu bytes", p, size - 1);
    return 0;
}

static int pvm_qemu_console_open(void *ctx, const pvm_vm *vm, int *fd, pvm_error *err)
{
    pvm_qemu_ctx *c = ctx;
    pvm_qemu_run r;
    if (pvm_qemu_run_init(c->base.home, vm->id, &r, err) < 0)
        return -1;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    pvm_strlcpy(sa.sun_path, r.serial_sock, sizeof sa.sun_path);
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return pvm_error_set(err, PVM_E_IO, "console socket: %s", strerror(errno));
    if (connect(s, (struct sockaddr *)&sa, sizeof sa) < 0) {
        int e2 = errno;
        close(s);
        return pvm_error_set(err, PVM_E_IO, "VM '%s': cannot connect to console %s: %s",
                             vm->name, r.serial_sock, strerror(e2));
    }
    *fd = s;
    return 0;
}

typedef struct pvm_agent_wait {
    const pvm_qemu_run *r;
    int pid;
    int64_t end;
    bool died;
    pvm_error last;
} pvm_agent_wait;

static bool pvm_agent_done(void *ctx)
{
    pvm_agent_wait *w = ctx;
    if (!pvm_proc_alive(w->pid))
        return w->died = true;
    int left = (int)(w->end - pvm_proc_now_ms());
    int step = left < 3000 ? left : 3000;
    if (step <= 0)
        return false;
    pvm_qga *g = NULL;
    int rc = pvm_qga_connect(w->r->qga_sock, step, &g, &w->last);
    if (rc == 0)
        rc = pvm_qga_ping(g, step, &w->last);
    if (g)
        pvm_qga_close(g);
    if (rc == 0)
        pvm_qga_mark_seen(w->r->qga_sock);
    return rc == 0;
}

static int pvm_qemu_agent_wait(void *ctx, const pvm_vm *vm, int timeout_ms,
                               const pvm_progress *progress, pvm_error *err)
{
    pvm_qemu_ctx *c = ctx;
    pvm_qemu_run r;
    if (pvm_qemu_run_init(c->base.home, vm->id, &r, err) < 0)
        return -1;
    pvm_agent_wait w = {.r = &r, .pid = vm->pid, .end = pvm_proc_now_ms() + timeout_ms};
    int rc = pvm_wait_until(pvm_agent_done, &w, timeout_ms, 200, progress,
                            "waiting for the guest agent", err);
    if (rc < 0)
        return -1;
    if (w.died)
        return pvm_error_set(err, PVM_E_QEMU, "VM '%s': QEMU exited while waiting for the "
                             "guest agent", vm->name);
    if (rc == 1)
        return 0;
    return pvm_error_set(err, PVM_E_QEMU,
                         "VM '%s': the guest agent did not answer within %d s (the VM keeps "
                         "running; is qemu-guest-agent installed in the guest?)%s%.200s",
                         vm->name, timeout_ms / 1000, w.last.msg[0] ? " last error: " : "",
                         w.last.msg);
}

/* -------------------------------------------------------------------- disks */

static int pvm_qemu_disk_info(void *ctx, const char *path, char fmt[32], uint64_t *vsize,
                              pvm_error *err)
{
    (void)ctx;
    return pvm_img_info(path, fmt, vsize, err);
}

static int pvm_qemu_disk_create(void *ctx, const pvm_vm_files *f, const pvm_hv_disk *d,
                                pvm_error *err)
{
    (void)ctx;
    if (!d->image)
        return pvm_img_create(f->disk, d->bytes, NULL, NULL, "disk", err);
    if (d->mode == PVM_IMAGE_OVERLAY)
        return pvm_img_create(f->disk, d->bytes, d->image, d->image_fmt, "image (overlay)", err);
    if (pvm_img_convert(d->image, d->image_fmt, f->disk, "image (copy)", err) < 0)
        return -1;
    if (d->bytes == d->image_bytes)
        return 0;
    return pvm_img_resize(f->disk, d->bytes, "disk (resize)", err);
}

static int pvm_qemu_disk_resize(void *ctx, const pvm_vm_files *f, uint64_t bytes,
                                pvm_error *err)
{
    (void)ctx;
    return pvm_img_resize(f->disk, bytes, "disk (resize)", err);
}

static int pvm_qemu_firmware_prep(void *ctx, const pvm_vm_files *f, pvm_firmware fw,
                                  pvm_error *err)
{
    (void)ctx;
    return pvm_qemu_firmware_prepare(f->efivars, fw, err);
}

/* ------------------------------------------------------------------- screen */

#define PVM_SCREEN_MAX_BYTES ((size_t)64 << 20)

/* QMP screendump into a file of our own in the private runtime folder, read and removed. */
static int pvm_qemu_screendump(void *ctx, const pvm_vm *vm, pvm_image *out, pvm_error *err)
{
    pvm_qemu_ctx *c = ctx;
    pvm_qemu_run r;
    if (pvm_qemu_run_init(c->base.home, vm->id, &r, err) < 0)
        return -1;
    uint32_t tag;
    pvm_random_bytes(&tag, sizeof tag);
    char *path = pvm_xasprintf("%s/screen-%d-%08x.ppm", r.dir, (int)getpid(), tag);
    cJSON *args = cJSON_CreateObject();
    cJSON_AddStringToObject(args, "filename", path);
    pvm_qmp *q = NULL;
    int rc = pvm_qmp_connect(r.qmp_sock, PVM_QMP_SHORT_MS, &q, err);
    if (rc == 0)
        rc = pvm_qmp_execute(q, "screendump", args, NULL, 10000, err);
    else
        cJSON_Delete(args);
    if (q)
        pvm_qmp_close(q);
    char *data = NULL;
    size_t len = 0;
    int fd = rc == 0 ? open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW) : -1;
    if (rc == 0 && fd < 0)
        rc = pvm_error_set(err, PVM_E_QEMU, "VM '%s': screendump wrote no %s: %s", vm->name,
                           path, strerror(errno));
    if (fd >= 0) {
        int got = pvm_read_all(fd, PVM_SCREEN_MAX_BYTES, &data, &len);
        close(fd);
        if (got != 0)
            rc = pvm_error_set(err, PVM_E_QEMU, "VM '%s': the screen image is unreadable or "
                               "over %zu bytes", vm->name, PVM_SCREEN_MAX_BYTES);
        else
            rc = pvm_ppm_parse(data, len, out, err);
    }
    unlink(path);
    free(data);
    free(path);
    return rc;
}

/* QMP send-key, one call per chord: {"keys": [{"type": "qcode", "data": NAME}, ...]}. */
static int pvm_qemu_send_keys(void *ctx, const pvm_vm *vm, const char *const *chords, size_t n,
                              pvm_error *err)
{
    pvm_qmp *q = NULL;
    if (pvm_qemu_command_monitor(ctx, vm, &q, err) < 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        cJSON *args = cJSON_CreateObject(), *keys = cJSON_AddArrayToObject(args, "keys");
        char *chord = pvm_xstrdup(chords[i]), *save = NULL;
        for (char *k = strtok_r(chord, "-", &save); k; k = strtok_r(NULL, "-", &save)) {
            cJSON *key = cJSON_CreateObject();
            cJSON_AddStringToObject(key, "type", "qcode");
            cJSON_AddStringToObject(key, "data", k);
            cJSON_AddItemToArray(keys, key);
        }
        free(chord);
        rc = pvm_qmp_execute(q, "send-key", args, NULL, PVM_QMP_SHORT_MS, err);
    }
    pvm_qmp_close(q);
    return rc;
}

/* ---------------------------------------------------------------- snapshots */

static int pvm_qemu_snap(void *ctx, const pvm_vm *vm, const pvm_vm_files *f,
                         const pvm_hv_snap_req *req, pvm_error *err)
{
    return pvm_qemu_snapshot(ctx, vm, f, req, err);
}

static int pvm_qemu_snap_list(void *ctx, const pvm_vm *vm, const pvm_vm_files *f,
                              pvm_hv_snap **out, size_t *n, pvm_error *err)
{
    return pvm_qemu_snapshot_list(ctx, vm, f, out, n, err);
}

/* ---------------------------------------------------------------- the table */

int pvm_qemu_live_agent_channel(int pid)
{
    if (pid <= 0)
        return PVM_AGENT_CHANNEL_UNKNOWN;
    if (pvm_proc_cmdline_has(pid, PVM_QGA_ISA_DEVICE))
        return PVM_AGENT_CHANNEL_ISA;
    if (pvm_proc_cmdline_has(pid, PVM_QGA_VIRTIO_PORT))
        return PVM_AGENT_CHANNEL_VIRTIO;
    return PVM_AGENT_CHANNEL_UNKNOWN;
}

/* hv op devices. live: as the running QEMU's start recorded it; a VM started before that
 * was kept gives what its process shows (the binary /proc names, the agent's device on
 * its command line), a key it does not show left out (never today's config). Not live:
 * what a start would give now, never failing (a disk-only snapshot of a stopped VM needs
 * no QEMU): under qemu_stealth = on a start runs the stealth build or refuses, so
 * stealth even while it is not built. */
static int pvm_qemu_devices_op(void *ctx, const pvm_profile *p, const pvm_vm *vm,
                               const pvm_vm_files *f, const pvm_config *cfg, bool live,
                               char *out, size_t size, pvm_error *err)
{
    (void)ctx;
    (void)err;
    if (live && pvm_hv_devices_recorded(f, out, size) == 0)
        return 0;
    char path[PVM_PATH_MAX];
    int stealth, channel;
    if (live) {
        bool is_stealth = false;
        stealth = pvm_vm_qemu_binary(vm, path, sizeof path, &is_stealth) == 0 ? is_stealth
                                                                               : -1;
        channel = pvm_vm_pid_alive(vm) ? pvm_qemu_live_agent_channel(vm->pid)
                                       : PVM_AGENT_CHANNEL_UNKNOWN;
    } else {
        const char *qemu;
        pvm_error ignored = {0};
        stealth = pvm_qemu_stealth_pick(cfg, p->hide_hypervisor, &qemu, path, sizeof path,
                                        NULL, 0, &ignored) != 0;
        channel = pvm_qemu_agent_channel(cfg->agent_channel);
    }
    pvm_qemu_devices(p, vm, stealth, channel, out, size);
    return 0;
}

const pvm_hv_ops pvm_hv_qemu = {
    .name = "qemu",
    .open = pvm_qemu_open,
    .close = pvm_qemu_close,
    .check = pvm_hv_argv_check,
    .disk_info = pvm_qemu_disk_info,
    .disk_create = pvm_qemu_disk_create,
    .start = pvm_qemu_start,
    .probe = pvm_qemu_probe,
    .shutdown = pvm_qemu_shutdown,
    .resume = pvm_qemu_resume,
    .cleanup = pvm_qemu_cleanup,
    .runtime_path = pvm_qemu_runtime_path,
    .console_open = pvm_qemu_console_open,
    .agent_wait = pvm_qemu_agent_wait,
    .disk_resize = pvm_qemu_disk_resize,
    .firmware_prepare = pvm_qemu_firmware_prep,
    .screendump = pvm_qemu_screendump,
    .send_keys = pvm_qemu_send_keys,
    .snapshot = pvm_qemu_snap,
    .snapshot_list = pvm_qemu_snap_list,
    .hold = pvm_qemu_hold,
    .devices = pvm_qemu_devices_op,
    /* sample: the next issue; guest work is engine/agent.c (hv.h) */
};
