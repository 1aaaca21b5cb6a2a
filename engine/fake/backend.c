/* fake/backend.c - the fake backend of hv.h: VMs that exist only as a state file in
 * their folder (no process, no QEMU), so unit tests exercise the engine's start, stop,
 * state and caps logic fast and deterministically. Used only when the config names it
 * (backend = fake); tests steer it through fake/fake.h. */
#include "fake/fake.h"
#include "hv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PVM_FAKE_START_MS 30000

typedef pvm_hv_home pvm_fake_ctx; /* hv.c's open/close/check */

/* ------------------------------------------------------------------ files */

/* Replaces path with text atomically (a unique temporary file, then rename), 0600. */
static int pvm_fake_write(const char *path, const char *text, pvm_error *err)
{
    char *tmp = pvm_xasprintf("%s.XXXXXX", path);
    int fd = mkostemp(tmp, O_CLOEXEC);
    int rc = -1;
    if (fd >= 0) {
        size_t n = strlen(text);
        bool ok = write(fd, text, n) == (ssize_t)n;
        ok &= close(fd) == 0;
        if (ok && rename(tmp, path) == 0)
            rc = 0;
        else
            unlink(tmp);
    }
    if (rc < 0)
        pvm_error_set(err, PVM_E_IO, "%s: cannot write: %s", path, strerror(errno));
    free(tmp);
    return rc;
}

/* The first line of path (without its newline) into out; "" when missing. */
static void pvm_fake_read(const char *path, char *out, size_t size)
{
    out[0] = '\0';
    FILE *fp = fopen(path, "re");
    if (!fp)
        return;
    if (!fgets(out, (int)size, fp))
        out[0] = '\0';
    out[strcspn(out, "\n")] = '\0';
    fclose(fp);
}

static char *pvm_fake_op_path(const char *home, const char *op)
{
    return pvm_xasprintf("%s/fake.%s", home, op);
}

int pvm_fake_behave(const char *home, const char *op, const char *how, pvm_error *err)
{
    char *path = pvm_fake_op_path(home, op);
    int rc = 0;
    if (how)
        rc = pvm_fake_write(path, how, err);
    else
        unlink(path);
    free(path);
    return rc;
}

/* "fail ...", "hang" or "" for op. */
static void pvm_fake_how(const pvm_fake_ctx *c, const char *op, char *out, size_t size)
{
    char *path = pvm_fake_op_path(c->home, op);
    pvm_fake_read(path, out, size);
    free(path);
}

/* -1 with the injected failure when op is told to fail. */
static int pvm_fake_injected(const pvm_fake_ctx *c, const char *op, pvm_error *err)
{
    char how[256];
    pvm_fake_how(c, op, how, sizeof how);
    if (strncmp(how, "fail", 4) == 0)
        return pvm_error_set(err, PVM_E_QEMU, "fake %s: %s", op, how[4] ? how + 5 : "failed");
    return 0;
}

/* state word on line 1, reason on line 2. */
typedef struct pvm_fake_state {
    char state[16];
    char reason[200];
} pvm_fake_state;

static char *pvm_fake_state_path(const char *dir)
{
    return pvm_xasprintf("%s/fake.state", dir);
}

static void pvm_fake_state_read(const char *dir, pvm_fake_state *st)
{
    memset(st, 0, sizeof *st);
    char *path = pvm_fake_state_path(dir);
    FILE *fp = fopen(path, "re");
    free(path);
    if (!fp)
        return;
    if (fgets(st->state, sizeof st->state, fp) && fgets(st->reason, sizeof st->reason, fp))
        st->reason[strcspn(st->reason, "\n")] = '\0';
    st->state[strcspn(st->state, "\n")] = '\0';
    fclose(fp);
}

static int pvm_fake_state_write(const char *dir, const char *state, const char *reason,
                                pvm_error *err)
{
    char *path = pvm_fake_state_path(dir);
    int rc = 0;
    if (state) {
        char *text = pvm_xasprintf("%s\n%s\n", state, reason ? reason : "");
        rc = pvm_fake_write(path, text, err);
        free(text);
    } else {
        unlink(path);
    }
    free(path);
    return rc;
}

int pvm_fake_set_state(const char *home, const char *vm_id, const char *state,
                       const char *reason, pvm_error *err)
{
    pvm_vm_files f;
    if (pvm_vm_files_init(home, vm_id, &f, err) < 0)
        return -1;
    return pvm_fake_state_write(f.dir, state, reason, err);
}

/* ---------------------------------------------------------- the operations */

static int pvm_fake_disk_info(void *ctx, const char *path, char fmt[32], uint64_t *bytes,
                              pvm_error *err)
{
    (void)ctx;
    struct stat st;
    if (stat(path, &st) < 0)
        return pvm_error_set(err, PVM_E_INVALID, "image: %s: %s", path, strerror(errno));
    pvm_strlcpy(fmt, "raw", 32);
    *bytes = (uint64_t)st.st_size;
    return 0;
}

/* A sparse file of the disk's size stands for the disk. */
static int pvm_fake_disk_create(void *ctx, const pvm_vm_files *f, const pvm_hv_disk *d,
                                pvm_error *err)
{
    if (pvm_fake_injected(ctx, "disk_create", err) < 0)
        return -1;
    int fd = open(f->disk, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return pvm_error_set(err, PVM_E_IO, "%s: %s", f->disk, strerror(errno));
    int rc = ftruncate(fd, (off_t)d->bytes);
    close(fd);
    if (rc < 0)
        return pvm_error_set(err, PVM_E_IO, "%s: %s", f->disk, strerror(errno));
    return 0;
}

/* The sparse file grows to the new size. */
static int pvm_fake_disk_resize(void *ctx, const pvm_vm_files *f, uint64_t bytes, pvm_error *err)
{
    if (pvm_fake_injected(ctx, "disk_resize", err) < 0)
        return -1;
    if (truncate(f->disk, (off_t)bytes) < 0)
        return pvm_error_set(err, PVM_E_IO, "%s: %s", f->disk, strerror(errno));
    return 0;
}

static bool pvm_fake_never(void *ctx)
{
    (void)ctx;
    return false;
}

static int pvm_fake_start(void *ctx, const pvm_hv_start *s, int *pid, pvm_error *err)
{
    pvm_fake_ctx *c = ctx;
    char how[256];
    *pid = 0;
    if (pvm_fake_injected(c, "start", err) < 0)
        return -1;
    pvm_fake_how(c, "start", how, sizeof how);
    if (strcmp(how, "hang") == 0) { /* a VM that never gets ready: only a cancel ends it */
        int rc = pvm_wait_until(pvm_fake_never, NULL, PVM_FAKE_START_MS, 10, s->progress,
                                "waiting for the fake VM", err);
        if (rc == 0)
            pvm_error_set(err, PVM_E_QEMU, "VM '%s': the fake VM never got ready", s->vm->name);
        return -1;
    }
    FILE *logs[2] = {fopen(s->files->serial_log, "we"), fopen(s->files->qemu_log, "we")};
    for (int i = 0; i < 2; i++)
        if (logs[i])
            fclose(logs[i]);
    char devices[PVM_SNAP_DEVICES_MAX]; /* QEMU's device set, as stock QEMU would run it */
    pvm_qemu_devices(s->profile, s->vm, false, pvm_qemu_agent_channel(s->cfg->agent_channel),
                     devices, sizeof devices);
    if (pvm_hv_devices_record(s->files, devices, err) < 0)
        return -1;
    return pvm_fake_state_write(s->files->dir, s->paused ? "paused" : "running", "", err);
}

static void pvm_fake_probe(void *ctx, const pvm_vm_files *f, int intent_pid, pvm_vm *vm)
{
    (void)ctx;
    pvm_fake_state st;
    pvm_fake_state_read(f->dir, &st);
    vm->state = PVM_VM_STOPPED;
    vm->pid = 0;
    vm->state_reason[0] = '\0';
    if (strcmp(st.state, "running") == 0 || strcmp(st.state, "paused") == 0 ||
        strcmp(st.state, "io-error") == 0) {
        pvm_vm_state_from_status(vm, f, st.state, st.reason); /* reason: the io-status */
    } else if (intent_pid < 0) {
        return;
    } else if (strcmp(st.state, "off") == 0) {
        snprintf(vm->state_reason, sizeof vm->state_reason, "the guest powered itself off");
    } else {
        vm->state = PVM_VM_CRASHED;
        snprintf(vm->state_reason, sizeof vm->state_reason, "%s",
                 st.reason[0] ? st.reason : "a start was interrupted before the VM ran");
    }
}

typedef struct pvm_fake_off_wait {
    const char *dir;
} pvm_fake_off_wait;

/* Done when the test has set the VM off (the guest got around to powering off). */
static bool pvm_fake_off_done(void *ctx)
{
    pvm_fake_state st;
    pvm_fake_state_read(((pvm_fake_off_wait *)ctx)->dir, &st);
    return strcmp(st.state, "running") != 0;
}

static int pvm_fake_shutdown(void *ctx, const pvm_vm *vm, const pvm_vm_files *f,
                             pvm_hv_stop_how how, int timeout_ms, const pvm_progress *progress,
                             pvm_error *err)
{
    char behave[256];
    if (pvm_fake_injected(ctx, "shutdown", err) < 0)
        return -1;
    pvm_fake_how(ctx, "shutdown", behave, sizeof behave);
    if (how == PVM_HV_STOP_ACPI && strcmp(behave, "hang") == 0) {
        pvm_fake_off_wait w = {f->dir};
        int rc = pvm_wait_until(pvm_fake_off_done, &w, timeout_ms, 10, progress,
                                "waiting for the guest to power off", err);
        if (rc < 0)
            return -1;
        if (rc == 0)
            return pvm_error_set(err, PVM_E_STATE,
                                 "VM '%s': guest did not power off within %d s; use --force",
                                 vm->name, timeout_ms / 1000);
    }
    return pvm_fake_state_write(f->dir, NULL, NULL, err);
}

/* A paused fake VM runs again; "fail MESSAGE" (pvm_fake_behave "resume") refuses. */
static int pvm_fake_resume(void *ctx, const pvm_vm *vm, const pvm_vm_files *f, pvm_error *err)
{
    (void)vm;
    if (pvm_fake_injected(ctx, "resume", err) < 0)
        return -1;
    return pvm_fake_state_write(f->dir, "running", "", err);
}

static void pvm_fake_cleanup(void *ctx, const pvm_vm *vm, const pvm_vm_files *f)
{
    (void)ctx;
    (void)vm;
    pvm_fake_state_write(f->dir, NULL, NULL, NULL);
}

static int pvm_fake_agent_wait(void *ctx, const pvm_vm *vm, int timeout_ms,
                               const pvm_progress *progress, pvm_error *err)
{
    (void)ctx;
    (void)vm;
    (void)timeout_ms;
    (void)progress;
    (void)err;
    return 0; /* the fake guest's agent answers at once */
}

/* ---------------------------------------------------------------- snapshots
 * HOME/vms/<id>/fake.snaps: one line per snapshot, "TAG VMSTATE_BYTES DATE CLOCK_NS". */

static char *pvm_fake_snaps_path(const char *dir)
{
    return pvm_xasprintf("%s/fake.snaps", dir);
}

static int pvm_fake_snaps_read(const char *dir, pvm_hv_snap **out, size_t *n)
{
    char *path = pvm_fake_snaps_path(dir);
    FILE *fp = fopen(path, "re");
    free(path);
    size_t cap = 16, k = 0;
    pvm_hv_snap *list = pvm_xcalloc(cap, sizeof *list);
    char line[256];
    while (fp && fgets(line, sizeof line, fp)) {
        unsigned long long vmstate = 0, clock = 0;
        long long date = 0;
        char tag[PVM_SNAP_TAG_MAX + 1];
        if (sscanf(line, "%64s %llu %lld %llu", tag, &vmstate, &date, &clock) != 4)
            continue;
        if (k == cap)
            list = pvm_xrealloc(list, (cap *= 2) * sizeof *list);
        pvm_strlcpy(list[k].tag, tag, sizeof list[k].tag);
        list[k].vmstate_bytes = vmstate;
        list[k].date = date;
        list[k].vm_clock_ns = clock;
        k++;
    }
    if (fp)
        fclose(fp);
    *out = list;
    *n = k;
    return 0;
}

static int pvm_fake_snaps_write(const char *dir, const pvm_hv_snap *list, size_t n,
                                pvm_error *err)
{
    char *text = pvm_xstrdup("");
    for (size_t i = 0; i < n; i++) {
        char *next = pvm_xasprintf("%s%s %llu %lld %llu\n", text, list[i].tag,
                                   (unsigned long long)list[i].vmstate_bytes,
                                   (long long)list[i].date,
                                   (unsigned long long)list[i].vm_clock_ns);
        free(text);
        text = next;
    }
    char *path = pvm_fake_snaps_path(dir);
    int rc = pvm_fake_write(path, text, err);
    free(path);
    free(text);
    return rc;
}

static ssize_t pvm_fake_snap_find(const pvm_hv_snap *list, size_t n, const char *tag)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i].tag, tag) == 0)
            return (ssize_t)i;
    return -1;
}

/* Drops (add false) or adds (add true, with memory state) a snapshot behind the engine's back. */
int pvm_fake_snapshot_edit(const char *home, const char *vm_id, const char *tag, bool add,
                           pvm_error *err)
{
    pvm_vm_files f;
    pvm_hv_snap *list;
    size_t n;
    if (pvm_vm_files_init(home, vm_id, &f, err) < 0)
        return -1;
    pvm_fake_snaps_read(f.dir, &list, &n);
    ssize_t at = pvm_fake_snap_find(list, n, tag);
    if (add && at < 0) {
        list = pvm_xrealloc(list, (n + 1) * sizeof *list);
        memset(&list[n], 0, sizeof list[n]);
        pvm_strlcpy(list[n].tag, tag, sizeof list[n].tag);
        list[n].vmstate_bytes = 4096;
        list[n].date = pvm_now();
        n++;
    } else if (!add && at >= 0) {
        memmove(&list[at], &list[at + 1], (n - (size_t)at - 1) * sizeof *list);
        n--;
    }
    int rc = pvm_fake_snaps_write(f.dir, list, n, err);
    free(list);
    return rc;
}

static int pvm_fake_snapshot(void *ctx, const pvm_vm *vm, const pvm_vm_files *f,
                             const pvm_hv_snap_req *req, pvm_error *err)
{
    static const char *const ops[] = {"snapshot_save", "snapshot_save", "snapshot_load",
                                      "snapshot_delete"};
    bool live = vm->state == PVM_VM_RUNNING || vm->state == PVM_VM_PAUSED;
    if (pvm_fake_injected(ctx, ops[req->op], err) < 0)
        return -1;
    if (req->op == PVM_HV_SNAP_SAVE && !live)
        return pvm_error_set(err, PVM_E_STATE, "VM '%s' is not running: no memory state",
                             vm->name);
    pvm_hv_snap *list;
    size_t n;
    pvm_fake_snaps_read(f->dir, &list, &n);
    ssize_t at = pvm_fake_snap_find(list, n, req->tag);
    int rc = 0;
    if (req->op == PVM_HV_SNAP_SAVE || req->op == PVM_HV_SNAP_SAVE_DISK) {
        if (at >= 0) {
            free(list);
            return pvm_error_set(err, PVM_E_QEMU, "fake: snapshot '%s' exists", req->tag);
        }
        list = pvm_xrealloc(list, (n + 1) * sizeof *list);
        memset(&list[n], 0, sizeof list[n]);
        pvm_strlcpy(list[n].tag, req->tag, sizeof list[n].tag);
        list[n].vmstate_bytes = req->op == PVM_HV_SNAP_SAVE ? 4096 : 0;
        list[n].date = pvm_now();
        list[n].vm_clock_ns = 1000000000ULL * (n + 1);
        rc = pvm_fake_snaps_write(f->dir, list, n + 1, err);
    } else if (at < 0) {
        rc = pvm_error_set(err, PVM_E_QEMU, "fake: no snapshot '%s'", req->tag);
    } else if (req->op == PVM_HV_SNAP_DELETE) {
        memmove(&list[at], &list[at + 1], (n - (size_t)at - 1) * sizeof *list);
        rc = pvm_fake_snaps_write(f->dir, list, n - 1, err);
    } else if (req->resume) {
        rc = pvm_fake_state_write(f->dir, "running", "", err);
    }
    free(list);
    return rc;
}

static int pvm_fake_snapshot_list(void *ctx, const pvm_vm *vm, const pvm_vm_files *f,
                                  pvm_hv_snap **out, size_t *n, pvm_error *err)
{
    (void)vm;
    if (pvm_fake_injected(ctx, "snapshot_list", err) < 0)
        return -1;
    return pvm_fake_snaps_read(f->dir, out, n);
}

/* hv op devices: QEMU's device set on stock QEMU (the fake runs none): the running fake
 * VM's as its start recorded, else a start's now. */
static int pvm_fake_devices(void *ctx, const pvm_profile *p, const pvm_vm *vm,
                            const pvm_vm_files *f, const pvm_config *cfg, bool live, char *out,
                            size_t size, pvm_error *err)
{
    (void)ctx;
    (void)err;
    if (live && pvm_hv_devices_recorded(f, out, size) == 0)
        return 0;
    pvm_qemu_devices(p, vm, false, pvm_qemu_agent_channel(cfg->agent_channel), out, size);
    return 0;
}

const pvm_hv_ops pvm_hv_fake = {
    .name = "fake",
    .open = pvm_hv_home_open,
    .close = pvm_hv_home_close,
    .check = pvm_hv_argv_check, /* QEMU's rules: create's refusals are the real ones */
    .disk_info = pvm_fake_disk_info,
    .disk_create = pvm_fake_disk_create,
    .start = pvm_fake_start,
    .probe = pvm_fake_probe,
    .shutdown = pvm_fake_shutdown,
    .resume = pvm_fake_resume,
    .cleanup = pvm_fake_cleanup,
    .agent_wait = pvm_fake_agent_wait,
    .disk_resize = pvm_fake_disk_resize,
    .snapshot = pvm_fake_snapshot,
    .snapshot_list = pvm_fake_snapshot_list,
    .devices = pvm_fake_devices,
    /* console_open: the fake has no console;
     * sample: the next issues */
};
