/* vm.c - VMs at rest: the per-VM file layout, create (folder, sparse qcow2 disk via qemu-img,
 * row last), get/list with the state read from the live process and QMP, delete, console.
 * Start and stop live in vm_ops.c. Called by the front ends through pvm.h. */
#include "internal.h"
#include "qemu/qemu.h"
#include "qemu/qmp.h"
#include "vm_internal.h"
#include "../db/store.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define PVM_GIB (1024ULL * 1024 * 1024)
#define PVM_DEFAULT_DISK (50 * PVM_GIB)
#define PVM_DEFAULT_MEMORY PVM_GIB
/* --kernel without --append: the kernel talks on the serial line, the VM's only
 * console, so `vm log` shows the boot. */
#define PVM_DEFAULT_APPEND "console=ttyS0"

/* ----------------------------------------------------------- file layout */

static int pvm_fit(char *dst, size_t size, pvm_error *err, const char *fmt, const char *a,
                   const char *b)
{
    int n = snprintf(dst, size, fmt, a, b);
    if (n < 0 || (size_t)n >= size)
        return pvm_error_set(err, PVM_E_IO, "path %s/%s: longer than %zu bytes", a, b, size - 1);
    return 0;
}

/* Ids become folder names: only the UUID shape we generate is accepted, so a
 * tampered store cannot point a delete outside HOME/vms. */
static bool pvm_vm_id_ok(const char *id)
{
    size_t n = 0;
    for (; id[n]; n++)
        if (!((id[n] >= '0' && id[n] <= '9') || (id[n] >= 'a' && id[n] <= 'f') || id[n] == '-'))
            return false;
    return n == 36;
}

int pvm_vm_files_init(const char *home, const char *id, pvm_vm_files *f, pvm_error *err)
{
    memset(f, 0, sizeof *f);
    if (!pvm_vm_id_ok(id))
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
    if (pvm_fit(f->dir, sizeof f->dir, err, "%s/vms/%s", home, id) < 0 ||
        pvm_fit(f->disk, sizeof f->disk, err, "%s/%s", f->dir, "disk.qcow2") < 0 ||
        pvm_fit(f->serial_log, sizeof f->serial_log, err, "%s/%s", f->dir, "serial.log") < 0 ||
        pvm_fit(f->qemu_log, sizeof f->qemu_log, err, "%s/%s", f->dir, "qemu.log") < 0 ||
        pvm_fit(f->smbios, sizeof f->smbios, err, "%s/%s", f->dir, "smbios-type0.bin") < 0 ||
        pvm_fit(f->lock, sizeof f->lock, err, "%s/%s", f->dir, "lock") < 0 ||
        pvm_fit(f->marker, sizeof f->marker, err, "%s/%s", f->dir, "running") < 0 ||
        pvm_fit(f->run_dir, sizeof f->run_dir, err, "%s/%s", base, run_name) < 0 ||
        pvm_fit(f->qmp_sock, sizeof f->qmp_sock, err, "%s/%s", f->run_dir, "qmp.sock") < 0 ||
        pvm_fit(f->qga_sock, sizeof f->qga_sock, err, "%s/%s", f->run_dir, "qga.sock") < 0 ||
        pvm_fit(f->serial_sock, sizeof f->serial_sock, err, "%s/%s", f->run_dir, "serial.sock") < 0 ||
        pvm_fit(f->pidfile, sizeof f->pidfile, err, "%s/%s", f->run_dir, "qemu.pid") < 0)
        return -1;
    return 0;
}

int pvm_vm_path(pvm_engine *e, const pvm_vm *vm, pvm_vm_path_kind kind, char *out, size_t size,
                pvm_error *err)
{
    pvm_vm_files f;
    if (pvm_vm_files_init(pvm_engine_home(e), vm->id, &f, err) < 0)
        return -1;
    const char *p = NULL;
    switch (kind) {
    case PVM_VM_PATH_DIR: p = f.dir; break;
    case PVM_VM_PATH_DISK: p = f.disk; break;
    case PVM_VM_PATH_SERIAL_LOG: p = f.serial_log; break;
    case PVM_VM_PATH_QEMU_LOG: p = f.qemu_log; break;
    case PVM_VM_PATH_SERIAL_SOCK: p = f.serial_sock; break;
    case PVM_VM_PATH_QMP_SOCK: p = f.qmp_sock; break;
    case PVM_VM_PATH_QGA_SOCK: p = f.qga_sock; break;
    case PVM_VM_PATH_PIDFILE: p = f.pidfile; break;
    }
    if (!p)
        return pvm_error_set(err, PVM_E_INVALID, "path kind %d: unknown", (int)kind);
    if (pvm_strlcpy(out, p, size) >= size)
        return pvm_error_set(err, PVM_E_IO, "path %s: longer than %zu bytes", p, size - 1);
    return 0;
}

void pvm_vm_runtime_clean(const pvm_vm_files *f)
{
    char *lock = pvm_xasprintf("%s/console.lock", f->run_dir); /* vm console's guard */
    unlink(lock);
    free(lock);
    unlink(f->marker);
    unlink(f->qmp_sock);
    unlink(f->qga_sock);
    unlink(f->serial_sock);
    unlink(f->pidfile);
    rmdir(f->run_dir);
}

/* ----------------------------------------------------------------- state */

static bool pvm_file_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* The QEMU of this VM: the pid in the pid file (or the marker) when that
 * process lives and its command line names this VM's id (pid reuse guard). */
bool pvm_vm_qemu_ours(const pvm_vm_files *f, int pid)
{
    return pid > 0 && pvm_proc_alive(pid) && pvm_proc_cmdline_has(pid, f->run_dir);
}

static int pvm_vm_live_pid(const pvm_vm_files *f, const char *id)
{
    (void)id;
    int pids[2] = {pvm_proc_pid_read(f->pidfile), pvm_proc_pid_read(f->marker)};
    for (int i = 0; i < 2; i++)
        if (pvm_vm_qemu_ours(f, pids[i]))
            return pids[i];
    return 0;
}

static void pvm_vm_probe_qmp(const pvm_vm_files *f, pvm_vm *vm)
{
    pvm_qmp *q = NULL;
    pvm_error err = {0};
    char status[64] = "";
    if (pvm_qmp_connect(f->qmp_sock, 1000, &q, &err) < 0 ||
        pvm_qmp_status(q, status, sizeof status, &err) < 0) {
        snprintf(vm->state_reason, sizeof vm->state_reason,
                 "QEMU process %d is alive; QMP did not answer: %.180s", vm->pid, err.msg);
    } else if (strcmp(status, "running") != 0) {
        vm->state = PVM_VM_PAUSED;
        snprintf(vm->state_reason, sizeof vm->state_reason, "QMP status: %s", status);
    }
    if (q)
        pvm_qmp_close(q);
}

/* Why QEMU last ended, from the qemu_system_shutdown_request trace event that
 * QEMU itself writes to qemu.log (QEMU's ShutdownCause numbers); -1 when QEMU
 * recorded none, as after SIGKILL. The guest cannot write there. */
enum { PVM_CAUSE_QMP_QUIT = 2, PVM_CAUSE_GUEST_OFF = 6 };

static int pvm_vm_shutdown_cause(const char *qemu_log)
{
    static const char key[] = "qemu_system_shutdown_request reason=";
    char *buf = pvm_proc_read_end(qemu_log, 65536);
    int cause = -1;
    for (char *p = buf ? strstr(buf, key) : NULL; p; p = strstr(p + 1, key))
        cause = atoi(p + sizeof key - 1);
    free(buf);
    return cause;
}

/* The kernel's boot id, recorded in the VM folder at start: a different one
 * now means the host restarted under the VM (not a crash). */
#define PVM_BOOT_ID "/proc/sys/kernel/random/boot_id"

static void pvm_boot_id_read(const char *path, char out[64])
{
    out[0] = '\0';
    FILE *fp = fopen(path, "re");
    if (!fp)
        return;
    if (!fgets(out, 64, fp))
        out[0] = '\0';
    fclose(fp);
    out[strcspn(out, "\n")] = '\0';
}

void pvm_vm_boot_id_record(const pvm_vm_files *f)
{
    char id[64];
    pvm_boot_id_read(PVM_BOOT_ID, id);
    char *path = pvm_xasprintf("%s/boot-id", f->dir);
    FILE *fp = fopen(path, "we");
    if (fp) {
        fprintf(fp, "%s\n", id);
        fclose(fp);
    }
    free(path);
}

static bool pvm_vm_host_restarted(const pvm_vm_files *f)
{
    char then[64], now[64];
    char *path = pvm_xasprintf("%s/boot-id", f->dir);
    pvm_boot_id_read(path, then);
    free(path);
    pvm_boot_id_read(PVM_BOOT_ID, now);
    return then[0] && now[0] && strcmp(then, now) != 0;
}

/* A marker and no process: QEMU's recorded cause tells a clean power-off (by the
 * guest, or a QMP quit) from a crash; a signal from the host records no cause,
 * but QEMU's "terminating on signal N" line ends up in the reason. */
static void pvm_vm_probe_gone(const pvm_vm_files *f, pvm_vm *vm)
{
    char last[200];
    int cause = pvm_vm_shutdown_cause(f->qemu_log);
    if (cause == PVM_CAUSE_GUEST_OFF || cause == PVM_CAUSE_QMP_QUIT) {
        vm->state = PVM_VM_STOPPED;
        snprintf(vm->state_reason, sizeof vm->state_reason, "%s",
                 cause == PVM_CAUSE_GUEST_OFF ? "the guest powered itself off"
                                              : "QEMU was told to quit over QMP");
        return;
    }
    int other = pvm_proc_pid_read(f->marker);
    if (other && pvm_proc_alive(other) && pvm_proc_cmdline_has(other, vm->id)) {
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
    int pid = pvm_proc_pid_read(f->marker);
    if (!pid)
        pid = pvm_proc_pid_read(f->pidfile);
    if (!pid && !pvm_file_exists(f->qmp_sock)) {
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

void pvm_vm_probe(pvm_engine *e, pvm_vm *vm)
{
    pvm_vm_files f;
    vm->state = PVM_VM_STOPPED;
    vm->pid = 0;
    vm->state_reason[0] = '\0';
    if (pvm_vm_files_init(pvm_engine_home(e), vm->id, &f, NULL) < 0)
        return;
    vm->pid = pvm_vm_live_pid(&f, vm->id);
    if (vm->pid) {
        vm->state = PVM_VM_RUNNING;
        pvm_vm_probe_qmp(&f, vm);
    } else if (pvm_file_exists(f.marker)) {
        if (pvm_vm_lock_busy(&f))
            snprintf(vm->state_reason, sizeof vm->state_reason,
                     "another privarion-vm session is starting or stopping it");
        else
            pvm_vm_probe_gone(&f, vm);
    }
}

/* ------------------------------------------------------------ get / list */

int pvm_vm_row(pvm_engine *e, const char *name_or_id, pvm_vm *out, pvm_error *err)
{
    memset(out, 0, sizeof *out);
    if (!name_or_id || !*name_or_id)
        return pvm_error_set_field(err, PVM_E_INVALID, "name", "VM name: must not be empty");
    if (pvm_db_vm_get(e->store, name_or_id, out, err) < 0) {
        if (err && err->code == PVM_E_NOTFOUND)
            pvm_error_set(err, PVM_E_NOTFOUND, "VM '%s' not found (see 'vm list')", name_or_id);
        return -1;
    }
    return 0;
}

int pvm_vm_get(pvm_engine *e, const char *name_or_id, pvm_vm *out, pvm_error *err)
{
    pvm_vm vm;
    if (pvm_vm_row(e, name_or_id, &vm, err) < 0)
        return -1;
    pvm_vm_probe(e, &vm);
    *out = vm;
    return 0;
}

int pvm_vm_list(pvm_engine *e, pvm_vm **out, size_t *count, pvm_error *err)
{
    if (pvm_db_vm_list(e->store, out, count, err) < 0)
        return -1;
    for (size_t i = 0; i < *count; i++)
        pvm_vm_probe(e, &(*out)[i]);
    return 0;
}

/* ---------------------------------------------------------------- create */

/* Makes a user path absolute and checks it names an existing regular file. */
static int pvm_vm_input_file(const char *what, const char *in, char *out, size_t size,
                             pvm_error *err)
{
    out[0] = '\0';
    if (!in || !*in)
        return 0;
    char *real = realpath(in, NULL);
    if (!real)
        return pvm_error_set_field(err, PVM_E_NOTFOUND, what, "%s: %s: %s", what, in,
                                   strerror(errno));
    struct stat st;
    int rc = 0;
    if (stat(real, &st) < 0 || !S_ISREG(st.st_mode))
        rc = pvm_error_set_field(err, PVM_E_INVALID, what, "%s: %s: must be a regular file", what,
                                 in);
    else if (access(real, R_OK) < 0)
        rc = pvm_error_set_field(err, PVM_E_INVALID, what, "%s: %s: not readable: %s", what, in,
                                 strerror(errno));
    else if (pvm_strlcpy(out, real, size) >= size)
        rc = pvm_error_set_field(err, PVM_E_INVALID, what, "%s: path longer than %zu bytes", what,
                                 size - 1);
    free(real);
    return rc;
}

static int pvm_vm_check_opts(const pvm_vm_opts *o, pvm_vm *vm, pvm_error *err)
{
    vm->cpus = o->cpus ? o->cpus : 1;
    if (vm->cpus < 1 || vm->cpus > 255)
        return pvm_error_set_field(err, PVM_E_INVALID, "cpus", "cpus: must be a whole number "
                                   "from 1 to 255, not %d", o->cpus);
    vm->memory_bytes = o->memory;
    if (o->memory && pvm_memory_check("memory", o->memory, err) < 0)
        return -1;
    vm->disk_bytes = o->disk;
    if (o->disk && pvm_disk_check("disk", o->disk, err) < 0)
        return -1;
    if ((int)o->disk_bus < PVM_DISK_VIRTIO || o->disk_bus > PVM_DISK_SATA)
        return pvm_error_set_field(err, PVM_E_INVALID, "diskBus",
                                   "diskBus: must be virtio, nvme or sata");
    if ((int)o->nic < PVM_NIC_VIRTIO || o->nic > PVM_NIC_E1000E)
        return pvm_error_set_field(err, PVM_E_INVALID, "nic", "nic: must be virtio or e1000e");
    if ((int)o->net < PVM_NET_USER || o->net > PVM_NET_NONE)
        return pvm_error_set_field(err, PVM_E_INVALID, "net", "net: must be user or none");
    if (o->net == PVM_NET_NONE && o->nic != PVM_NIC_VIRTIO)
        return pvm_error_set_field(err, PVM_E_INVALID, "nic", "nic: --net none gives the VM "
                                   "no network card; drop --nic, or choose --net user");
    vm->disk_bus = o->disk_bus;
    vm->nic = o->nic;
    vm->net = o->net;
    if ((o->initrd && *o->initrd) && !(o->kernel && *o->kernel))
        return pvm_error_set_field(err, PVM_E_INVALID, "initrd", "initrd: needs --kernel");
    if ((o->append && *o->append) && !(o->kernel && *o->kernel))
        return pvm_error_set_field(err, PVM_E_INVALID, "append", "append: needs --kernel");
    if (o->append && pvm_validate_text("append", o->append, sizeof vm->append - 1, err) < 0)
        return -1;
    if (o->append)
        pvm_strlcpy(vm->append, o->append, sizeof vm->append);
    if (o->kernel && *o->kernel && !o->append) /* an explicit append, even "", is kept */
        pvm_strlcpy(vm->append, PVM_DEFAULT_APPEND, sizeof vm->append);
    if (o->image_mode != PVM_IMAGE_COPY && o->image_mode != PVM_IMAGE_OVERLAY)
        return pvm_error_set_field(err, PVM_E_INVALID, "imageMode",
                                   "imageMode: must be copy or overlay");
    return 0;
}

/* Memory default: 1G, or the cap when that is lower. Then the caps. */
static int pvm_vm_check_caps(pvm_engine *e, pvm_vm *vm, pvm_error *err)
{
    pvm_config cfg;
    if (pvm_config_load(pvm_engine_home(e), &cfg, err) < 0)
        return -1;
    if (!vm->memory_bytes) {
        vm->memory_bytes = PVM_DEFAULT_MEMORY;
        uint64_t cap = cfg.max_memory & ~(uint64_t)(1024 * 1024 - 1);
        if (cap && cap < vm->memory_bytes)
            vm->memory_bytes = cap;
    }
    return pvm_caps_check(&cfg, "vm create", vm->cpus, vm->memory_bytes, err);
}

static int pvm_vm_make_disk_from_image(const pvm_vm_files *f, const char *image,
                                       pvm_image_mode mode, pvm_vm *vm, pvm_error *err)
{
    char fmt[32], size[32], buf[32];
    uint64_t vsize = 0;
    if (pvm_img_info(image, fmt, &vsize, err) < 0)
        return -1;
    if (!vm->disk_bytes)
        vm->disk_bytes = vsize;
    if (vm->disk_bytes < vsize)
        return pvm_error_set_field(err, PVM_E_INVALID, "disk",
                                   "disk: %s is smaller than the image's %s",
                                   pvm_size_format(vm->disk_bytes, size, sizeof size),
                                   pvm_size_format(vsize, buf, sizeof buf));
    if (mode == PVM_IMAGE_OVERLAY)
        return pvm_img_create(f->disk, vm->disk_bytes, image, fmt, "image (overlay)", err);
    if (pvm_img_convert(image, fmt, f->disk, "image (copy)", err) < 0)
        return -1;
    if (vm->disk_bytes == vsize)
        return 0;
    return pvm_img_resize(f->disk, vm->disk_bytes, "disk (resize)", err);
}

static int pvm_vm_make_disk(const pvm_vm_files *f, const pvm_vm_opts *o, const char *image,
                            pvm_vm *vm, pvm_error *err)
{
    if (image[0])
        return pvm_vm_make_disk_from_image(f, image, o->image_mode, vm, err);
    if (!vm->disk_bytes)
        vm->disk_bytes = PVM_DEFAULT_DISK;
    return pvm_img_create(f->disk, vm->disk_bytes, NULL, NULL, "disk", err);
}

/* The disk holds the guest's data: only we may read it. */
static int pvm_vm_disk_private(const pvm_vm_files *f, pvm_error *err)
{
    if (chmod(f->disk, 0600) < 0)
        return pvm_error_set(err, PVM_E_IO, "%s: cannot make it 0600: %s", f->disk,
                             strerror(errno));
    return 0;
}

static int pvm_vm_mkdirs(pvm_engine *e, const pvm_vm_files *f, pvm_error *err)
{
    char *vms = pvm_xasprintf("%s/vms", pvm_engine_home(e));
    int rc = 0;
    if (mkdir(vms, 0700) < 0 && errno != EEXIST)
        rc = pvm_error_set(err, PVM_E_IO, "%s: cannot create: %s", vms, strerror(errno));
    else if (mkdir(f->dir, 0700) < 0)
        rc = pvm_error_set(err, PVM_E_IO, "%s: cannot create: %s", f->dir, strerror(errno));
    free(vms);
    return rc;
}

static int pvm_vm_name_free(pvm_engine *e, const char *name, pvm_error *err)
{
    pvm_vm other;
    pvm_error e2 = {0};
    if (pvm_db_vm_get(e->store, name, &other, &e2) == 0)
        return pvm_error_set_field(err, PVM_E_EXISTS, "name",
                                   "name: a VM named '%s' already exists", name);
    if (e2.code != PVM_E_NOTFOUND) {
        if (err)
            *err = e2;
        return -1;
    }
    return 0;
}

/* An overlay on another managed VM's disk would be corrupted the moment that VM
 * starts and writes its disk: refused. image is a realpath. */
static int pvm_vm_overlay_check(pvm_engine *e, const char *image, pvm_error *err)
{
    char *vms = pvm_xasprintf("%s/vms", pvm_engine_home(e));
    char *real = realpath(vms, NULL);
    free(vms);
    if (!real)
        return 0; /* no VM folder yet: no VM disk to clash with */
    size_t n = strlen(real);
    int rc = 0;
    if (strncmp(image, real, n) == 0 && image[n] == '/') {
        char id[PVM_UUID_LEN + 1];
        pvm_strlcpy(id, image + n + 1, sizeof id);
        pvm_vm other;
        pvm_error ignored = {0};
        bool known = pvm_vm_row(e, id, &other, &ignored) == 0;
        rc = pvm_error_set_field(err, PVM_E_INVALID, "image", "image: %s is the disk of VM "
                                 "'%s'; an overlay on it would be corrupted as soon as that VM "
                                 "runs and writes its disk: use --image-mode copy, or "
                                 "'qemu-img convert' it to an image of its own first", image,
                                 known ? other.name : id);
    }
    free(real);
    return rc;
}

/* Every check that needs no file written. */
static int pvm_vm_create_checks(pvm_engine *e, const char *name, const char *profile,
                                const pvm_vm_opts *o, pvm_vm *vm, char *image, pvm_error *err)
{
    pvm_profile p;
    if (pvm_validate_name("name", name, err) < 0 || pvm_vm_check_opts(o, vm, err) < 0)
        return -1;
    pvm_strlcpy(vm->name, name, sizeof vm->name);
    if (!profile || !*profile)
        return pvm_error_set_field(err, PVM_E_USAGE, "profile",
                                   "profile: required (--profile NAME)");
    if (pvm_profile_get(e, profile, &p, err) < 0) {
        if (err && err->code == PVM_E_NOTFOUND) /* the --profile given names none */
            pvm_strlcpy(err->field, "profile", sizeof err->field);
        return -1;
    }
    pvm_strlcpy(vm->profile_id, p.id, sizeof vm->profile_id);
    if (pvm_vm_name_free(e, name, err) < 0 || pvm_vm_check_caps(e, vm, err) < 0)
        return -1;
    if (pvm_vm_input_file("iso", o->iso, vm->iso, sizeof vm->iso, err) < 0 ||
        pvm_vm_input_file("image", o->image, image, PVM_PATH_MAX, err) < 0 ||
        pvm_vm_input_file("kernel", o->kernel, vm->kernel, sizeof vm->kernel, err) < 0 ||
        pvm_vm_input_file("initrd", o->initrd, vm->initrd, sizeof vm->initrd, err) < 0)
        return -1;
    if (pvm_profile_marks_check(&p, e->allow_vm_marks, err) < 0 ||
        (o->image_mode == PVM_IMAGE_OVERLAY && pvm_vm_overlay_check(e, image, err) < 0))
        return -1;
    return pvm_qemu_argv_check(&p, vm, err); /* what start would refuse, refused now */
}

static int pvm_vm_insert(pvm_engine *e, const pvm_vm *vm, pvm_error *err)
{
    if (pvm_store_begin(e->store, err) < 0)
        return -1;
    int rc = pvm_db_vm_insert(e->store, vm, err);
    if (rc == 0) {
        char *detail = pvm_xasprintf("created VM '%s'", vm->name);
        pvm_error ignored = {0};
        pvm_db_event_add(e->store, vm->id, "vm.create", detail, &ignored);
        free(detail);
    }
    return pvm_store_end(e->store, rc, err);
}

int pvm_vm_create(pvm_engine *e, const char *name, const char *profile_name_or_id,
                  const pvm_vm_opts *opts, pvm_vm *out, pvm_error *err)
{
    pvm_vm_opts none;
    memset(&none, 0, sizeof none);
    pvm_vm *vm = pvm_xcalloc(1, sizeof *vm);
    char *image = pvm_xcalloc(1, PVM_PATH_MAX);
    pvm_vm_files f;
    int rc = -1;
    if (pvm_vm_create_checks(e, name, profile_name_or_id, opts ? opts : &none, vm, image,
                             err) < 0)
        goto done;
    pvm_uuid_v4(vm->id);
    vm->created_at = pvm_now();
    if (pvm_vm_files_init(pvm_engine_home(e), vm->id, &f, err) < 0 ||
        pvm_vm_mkdirs(e, &f, err) < 0)
        goto done;
    if (pvm_vm_make_disk(&f, opts ? opts : &none, image, vm, err) < 0 ||
        pvm_vm_disk_private(&f, err) < 0 || pvm_vm_insert(e, vm, err) < 0) {
        pvm_proc_remove_tree(f.dir, NULL);
        goto done;
    }
    vm->state = PVM_VM_STOPPED;
    if (out)
        *out = *vm;
    rc = 0;
done:
    free(image);
    free(vm);
    return rc;
}

/* ---------------------------------------------------------------- delete */

static int pvm_vm_delete_locked(pvm_engine *e, pvm_vm *vm, const pvm_vm_files *f,
                                pvm_error *err)
{
    pvm_vm_probe(e, vm);
    if (vm->state == PVM_VM_RUNNING || vm->state == PVM_VM_PAUSED)
        return pvm_error_set(err, PVM_E_STATE,
                             "VM '%s' is %s (pid %d); stop it first: vm stop %s", vm->name,
                             pvm_vm_state_name(vm->state), vm->pid, vm->name);
    if (pvm_store_begin(e->store, err) < 0)
        return -1;
    int rc = pvm_db_vm_delete(e->store, vm->id, err);
    if (rc == 0) {
        pvm_vm_runtime_clean(f);
        rc = pvm_proc_remove_tree(f->dir, err);
    }
    return pvm_store_end(e->store, rc, err);
}

int pvm_vm_delete(pvm_engine *e, const char *name_or_id, pvm_error *err)
{
    pvm_vm vm;
    pvm_vm_files f;
    int fd = -1;
    if (pvm_vm_get(e, name_or_id, &vm, err) < 0 ||
        pvm_vm_files_init(pvm_engine_home(e), vm.id, &f, err) < 0)
        return -1;
    if (pvm_file_exists(f.dir) && pvm_vm_lock(&f, vm.name, &fd, err) < 0)
        return -1;
    int rc = pvm_vm_delete_locked(e, &vm, &f, err);
    pvm_vm_unlock(fd);
    return rc;
}

/* --------------------------------------------------------------- console */

/* QEMU serves one console client; a second would connect and read nothing.
 * The program guards it: RUN_DIR/console.lock, flock'd by the client and
 * holding its pid, so the second is told who has it. */
static int pvm_console_claim(const pvm_vm_files *f, const char *name, int *out, pvm_error *err)
{
    char *path = pvm_xasprintf("%s/console.lock", f->run_dir);
    int l = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    int rc = -1;
    if (l < 0) {
        pvm_error_set(err, PVM_E_IO, "VM '%s': cannot open %s: %s", name, path, strerror(errno));
    } else if (flock(l, LOCK_EX | LOCK_NB) < 0) {
        char buf[32] = "";
        ssize_t n = pread(l, buf, sizeof buf - 1, 0);
        buf[n > 0 ? n : 0] = '\0';
        int pid = atoi(buf);
        close(l);
        if (pid > 0)
            pvm_error_set(err, PVM_E_BUSY, "VM '%s': the console is busy: process %d is "
                          "attached to it (one client at a time; leave that one with Ctrl-] "
                          "first)", name, pid);
        else
            pvm_error_set(err, PVM_E_BUSY, "VM '%s': the console is busy: another client is "
                          "attached to it (one client at a time)", name);
    } else {
        char buf[32];
        int n = snprintf(buf, sizeof buf, "%d\n", (int)getpid());
        if (ftruncate(l, 0) == 0 && pwrite(l, buf, (size_t)n, 0) == n)
            rc = 0;
        else
            pvm_error_set(err, PVM_E_IO, "VM '%s': cannot write %s: %s", name, path,
                          strerror(errno));
        if (rc == 0)
            *out = l;
        else
            close(l);
    }
    free(path);
    return rc;
}

int pvm_vm_console_open(pvm_engine *e, const char *name_or_id, int *fd, pvm_error *err)
{
    pvm_vm vm;
    pvm_vm_files f;
    if (pvm_vm_get(e, name_or_id, &vm, err) < 0 ||
        pvm_vm_files_init(pvm_engine_home(e), vm.id, &f, err) < 0)
        return -1;
    if (vm.state != PVM_VM_RUNNING && vm.state != PVM_VM_PAUSED)
        return pvm_error_set(err, PVM_E_STATE, "VM '%s' is %s: no console to attach to",
                             vm.name, pvm_vm_state_name(vm.state));
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (pvm_strlcpy(sa.sun_path, f.serial_sock, sizeof sa.sun_path) >= sizeof sa.sun_path)
        return pvm_error_set(err, PVM_E_IO, "%s: socket path too long", f.serial_sock);
    int lock = -1;
    if (pvm_console_claim(&f, vm.name, &lock, err) < 0)
        return -1;
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0) {
        int e = errno;
        close(lock);
        return pvm_error_set(err, PVM_E_IO, "console socket: %s", strerror(e));
    }
    if (connect(s, (struct sockaddr *)&sa, sizeof sa) < 0) {
        int e2 = errno;
        close(s);
        close(lock);
        return pvm_error_set(err, PVM_E_IO, "VM '%s': cannot connect to console %s: %s",
                             vm.name, f.serial_sock, strerror(e2));
    }
    if (e->console_lock_fd >= 0)
        close(e->console_lock_fd);
    e->console_lock_fd = lock;
    *fd = s;
    return 0;
}

void pvm_vm_console_close(pvm_engine *e, int fd)
{
    if (fd >= 0)
        close(fd);
    if (e->console_lock_fd >= 0)
        close(e->console_lock_fd);
    e->console_lock_fd = -1;
}
