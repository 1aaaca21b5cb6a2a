/* vm.c - VMs at rest: the per-VM folder layout, create (folder, disk through the backend,
 * row last), get/list (whole or as brief rows) with the state the backend reads from the
 * live VM, delete, console.
 * Start and stop live in vm_ops.c. Called by the front ends through pvm.h. */
#include "hv.h"
#include "internal.h"
#include "vm_internal.h"
#include "../db/store.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
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
    if (pvm_fit(f->dir, sizeof f->dir, err, "%s/vms/%s", home, id) < 0 ||
        pvm_fit(f->disk, sizeof f->disk, err, "%s/%s", f->dir, "disk.qcow2") < 0 ||
        pvm_fit(f->serial_log, sizeof f->serial_log, err, "%s/%s", f->dir, "serial.log") < 0 ||
        pvm_fit(f->qemu_log, sizeof f->qemu_log, err, "%s/%s", f->dir, "qemu.log") < 0 ||
        pvm_fit(f->smbios, sizeof f->smbios, err, "%s/%s", f->dir, "smbios-type0.bin") < 0 ||
        pvm_fit(f->lock, sizeof f->lock, err, "%s/%s", f->dir, "lock") < 0 ||
        pvm_fit(f->marker, sizeof f->marker, err, "%s/%s", f->dir, "running") < 0 ||
        pvm_fit(f->efivars, sizeof f->efivars, err, "%s/%s", f->dir, "efivars.fd") < 0 ||
        pvm_fit(f->tpm_dir, sizeof f->tpm_dir, err, "%s/%s", f->dir, "tpm") < 0)
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
    default: { /* the backend's runtime files */
        const pvm_hv_ops *hv;
        void *ctx;
        if (pvm_engine_hv_load(e, &hv, &ctx, err) < 0)
            return -1;
        if (!hv->runtime_path)
            return pvm_error_set(err, PVM_E_STATE, "VM '%s': the %s backend has no runtime "
                                 "files", vm->name, hv->name);
        return hv->runtime_path(ctx, vm, kind, out, size, err);
    }
    }
    if (!p)
        return pvm_error_set(err, PVM_E_INVALID, "path kind %d: unknown", (int)kind);
    if (pvm_strlcpy(out, p, size) >= size)
        return pvm_error_set(err, PVM_E_IO, "path %s: longer than %zu bytes", p, size - 1);
    return 0;
}

void pvm_vm_forget(pvm_engine *e, const pvm_vm *vm, const pvm_vm_files *f)
{
    const pvm_hv_ops *hv;
    void *ctx;
    pvm_error ignored = {0};
    unlink(f->marker);
    if (pvm_engine_hv_load(e, &hv, &ctx, &ignored) == 0 && hv->cleanup)
        hv->cleanup(ctx, vm, f);
}

/* ----------------------------------------------------------------- state */

static bool pvm_file_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

int pvm_vm_intent(const pvm_vm_files *f)
{
    return pvm_file_exists(f->marker) ? pvm_proc_pid_read(f->marker) : -1;
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

bool pvm_vm_host_restarted(const pvm_vm_files *f)
{
    char then[64], now[64];
    char *path = pvm_xasprintf("%s/boot-id", f->dir);
    pvm_boot_id_read(path, then);
    free(path);
    pvm_boot_id_read(PVM_BOOT_ID, now);
    return then[0] && now[0] && strcmp(then, now) != 0;
}

/* Reads vm's state through the backend hv/ctx, or says why it is unknown
 * (hv NULL: loading the backend failed with hv_err). */
static void pvm_vm_probe_with(pvm_engine *e, const pvm_hv_ops *hv, void *ctx,
                              const pvm_error *hv_err, pvm_vm *vm)
{
    pvm_vm_files f;
    vm->state = PVM_VM_STOPPED;
    vm->pid = 0;
    vm->state_reason[0] = '\0';
    if (pvm_vm_files_init(pvm_engine_home(e), vm->id, &f, NULL) < 0)
        return;
    if (!hv) {
        snprintf(vm->state_reason, sizeof vm->state_reason, "state unknown: %.200s",
                 hv_err->msg);
        return;
    }
    int intent = pvm_vm_intent(&f);
    bool busy = intent >= 0 && pvm_vm_lock_busy(&f);
    /* A start or stop under way in another session: its leftovers are no crash. */
    hv->probe(ctx, &f, busy ? -1 : intent, vm);
    if (busy && vm->state == PVM_VM_STOPPED)
        snprintf(vm->state_reason, sizeof vm->state_reason,
                 "another privarion-vm session is starting or stopping it");
}

void pvm_vm_probe(pvm_engine *e, pvm_vm *vm)
{
    const pvm_hv_ops *hv = NULL;
    void *ctx = NULL;
    pvm_error err = {0}, config_err = {0};
    if (pvm_engine_hv_probe(e, &hv, &ctx, &config_err, &err) < 0)
        hv = NULL;
    pvm_vm_probe_with(e, hv, ctx, &err, vm);
}

/* ------------------------------------------------------- paused, and why */

void pvm_vm_state_from_status(pvm_vm *vm, const pvm_vm_files *f, const char *status,
                              const char *io_status)
{
    if (strcmp(status, "running") == 0) {
        vm->state = PVM_VM_RUNNING;
        vm->state_reason[0] = '\0';
        return;
    }
    vm->state = PVM_VM_PAUSED;
    if (strcmp(status, "io-error") == 0) {
        /* QEMU's default werror=enospc stops the VM on ENOSPC; another write error
         * reaches the guest, so a stop on I/O is almost always a full disk. */
        bool nospace = io_status && strcmp(io_status, "nospace") == 0;
        snprintf(vm->state_reason, sizeof vm->state_reason,
                 "paused: I/O error on disk (no space left on device%s); free space under %.200s "
                 "then run: privarion-vm vm resume %.64s", nospace ? "" : "?", f->dir, vm->name);
    } else if (strcmp(status, "paused") == 0) {
        snprintf(vm->state_reason, sizeof vm->state_reason,
                 "paused (QMP stop); privarion-vm vm resume %.64s continues it", vm->name);
    } else {
        snprintf(vm->state_reason, sizeof vm->state_reason, "QMP status: %.60s", status);
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

int pvm_vm_find(pvm_engine *e, const char *name_or_id, pvm_vm *out, pvm_error *err)
{
    return pvm_vm_row(e, name_or_id, out, err);
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

/* The backend a list of count VMs is probed with: the config and the backend are loaded
 * once for the whole list, not once per VM (the TUI's first frame with 100 VMs spent most
 * of its system time there). NULL (why in hv_err) when it cannot be loaded or count is 0. */
static const pvm_hv_ops *pvm_vm_list_hv(pvm_engine *e, size_t count, void **ctx,
                                        pvm_error *hv_err)
{
    const pvm_hv_ops *hv = NULL;
    pvm_error config_err = {0};
    if (count && pvm_engine_hv_probe(e, &hv, ctx, &config_err, hv_err) < 0)
        hv = NULL;
    return hv;
}

int pvm_vm_list(pvm_engine *e, pvm_vm **out, size_t *count, pvm_error *err)
{
    if (pvm_db_vm_list(e->store, out, count, err) < 0)
        return -1;
    void *ctx = NULL;
    pvm_error hv_err = {0};
    const pvm_hv_ops *hv = pvm_vm_list_hv(e, *count, &ctx, &hv_err);
    for (size_t i = 0; i < *count; i++)
        pvm_vm_probe_with(e, hv, ctx, &hv_err, &(*out)[i]);
    return 0;
}

int pvm_vm_list_brief(pvm_engine *e, pvm_vm_brief **out, size_t *count, pvm_error *err)
{
    if (pvm_db_vm_list_brief(e->store, out, count, err) < 0)
        return -1;
    void *ctx = NULL;
    pvm_error hv_err = {0};
    const pvm_hv_ops *hv = pvm_vm_list_hv(e, *count, &ctx, &hv_err);
    /* the probe reads a pvm_vm's id and name and fills its state: one scratch VM serves
     * every row, so the list never holds a whole VM per row */
    pvm_vm *vm = *count ? pvm_xcalloc(1, sizeof *vm) : NULL;
    for (size_t i = 0; i < *count; i++) {
        pvm_vm_brief *b = &(*out)[i];
        pvm_strlcpy(vm->id, b->id, sizeof vm->id);
        pvm_strlcpy(vm->name, b->name, sizeof vm->name);
        pvm_vm_probe_with(e, hv, ctx, &hv_err, vm);
        b->state = vm->state;
        b->pid = vm->pid;
        pvm_strlcpy(b->state_reason, vm->state_reason, sizeof b->state_reason);
    }
    free(vm);
    return 0;
}

int pvm_vm_get_brief(pvm_engine *e, const pvm_vm_brief *b, pvm_vm *out, pvm_error *err)
{
    if (pvm_db_vm_get_id(e->store, b->id, out, err) < 0) { /* out untouched */
        if (err && err->code == PVM_E_NOTFOUND)
            pvm_error_set(err, PVM_E_NOTFOUND, "VM '%s' not found (deleted meanwhile?)",
                          b->name);
        return -1;
    }
    out->state = b->state;
    out->pid = b->pid;
    pvm_strlcpy(out->state_reason, b->state_reason, sizeof out->state_reason);
    return 0;
}

/* ---------------------------------------------------------------- create */

static int pvm_vm_check_opts(const pvm_vm_opts *o, pvm_vm *vm, pvm_error *err)
{
    if (pvm_vm_field_cpus(vm, o->cpus ? o->cpus : 1, err) < 0 ||
        (o->memory && pvm_vm_field_memory(vm, o->memory, err) < 0) ||
        (o->disk && pvm_vm_field_disk(vm, o->disk, err) < 0))
        return -1;
    if ((int)o->disk_bus < PVM_DISK_VIRTIO || o->disk_bus > PVM_DISK_SATA)
        return pvm_error_set_field(err, PVM_E_INVALID, "diskBus",
                                   "diskBus: must be virtio, nvme or sata");
    vm->disk_bus = o->disk_bus;
    if (pvm_vm_field_net(vm, o->net, o->bridge, err) < 0 ||
        pvm_vm_field_nic(vm, o->nic, err) < 0 || pvm_vm_field_forwards(vm, o->forwards, err) < 0)
        return -1;
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
    return pvm_caps_check(&cfg, "memory", vm->memory_bytes, err);
}

static int pvm_vm_make_disk(pvm_engine *e, const pvm_vm_files *f, const pvm_vm_opts *o,
                            const char *image, pvm_vm *vm, pvm_error *err)
{
    const pvm_hv_ops *hv;
    void *ctx;
    if (pvm_engine_hv_load(e, &hv, &ctx, err) < 0)
        return -1;
    char fmt[32] = "";
    pvm_hv_disk d = {.bytes = vm->disk_bytes, .mode = o->image_mode};
    if (image[0]) {
        char size[32], buf[32];
        if (hv->disk_info(ctx, image, fmt, &d.image_bytes, err) < 0)
            return -1;
        if (!vm->disk_bytes)
            vm->disk_bytes = d.image_bytes;
        if (vm->disk_bytes < d.image_bytes)
            return pvm_error_set_field(err, PVM_E_INVALID, "disk",
                                       "disk: %s is smaller than the image's %s",
                                       pvm_size_format(vm->disk_bytes, size, sizeof size),
                                       pvm_size_format(d.image_bytes, buf, sizeof buf));
        d.image = image;
        d.image_fmt = fmt;
    } else if (!vm->disk_bytes) {
        vm->disk_bytes = PVM_DEFAULT_DISK;
    }
    d.bytes = vm->disk_bytes;
    return hv->disk_create(ctx, f, &d, err);
}

int pvm_vm_firmware_prepare(pvm_engine *e, const pvm_vm_files *f, pvm_firmware fw,
                            pvm_error *err)
{
    const pvm_hv_ops *hv;
    void *ctx;
    if (pvm_engine_hv_load(e, &hv, &ctx, err) < 0)
        return -1;
    if (!hv->firmware_prepare)
        return fw == PVM_FIRMWARE_BIOS ? 0 : pvm_error_set_field(err, PVM_E_STATE, "firmware",
                                   "firmware: the %s backend has only bios", hv->name);
    return hv->firmware_prepare(ctx, f, fw, err);
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
    if (pvm_vm_field_profile(e, vm, profile, &p, err) < 0)
        return -1;
    int want = pvm_profile_vcpus(&p);
    if (!o->cpus && want > 0) /* the default follows the profile's CPU (capped) */
        vm->cpus = want < PVM_VCPUS_DEFAULT_MAX ? want : PVM_VCPUS_DEFAULT_MAX;
    pvm_engine_step(e, "create: name free? config, caps");
    if (pvm_vm_name_free(e, name, err) < 0 || pvm_vm_check_caps(e, vm, err) < 0)
        return -1;
    pvm_engine_step(e, "create: input files");
    if (pvm_vm_field_iso(vm, o->iso, err) < 0 ||
        pvm_vm_field_display(vm, o->display_set ? o->display
                                 : vm->iso[0] ? PVM_DISPLAY_VNC : PVM_DISPLAY_NONE, err) < 0 ||
        pvm_vm_field_video(vm, o->video_set ? o->video : pvm_video_default(o->firmware),
                           err) < 0 ||
        pvm_vm_field_firmware(vm, o->firmware, err) < 0 ||
        (vm->tpm = o->tpm, false) ||
        pvm_vm_fields_agree(vm, o->video_set, err) < 0 ||
        pvm_vm_input_file("image", o->image, image, PVM_PATH_MAX, err) < 0 ||
        pvm_vm_field_kernel(vm, o->kernel, err) < 0 ||
        pvm_vm_input_file("initrd", o->initrd, vm->initrd, sizeof vm->initrd, err) < 0)
        return -1;
    if (o->image_mode == PVM_IMAGE_OVERLAY && pvm_vm_overlay_check(e, image, err) < 0)
        return -1;
    pvm_engine_step(e, "create: opening the backend");
    const pvm_hv_ops *hv;
    void *ctx;
    if (pvm_engine_hv_load(e, &hv, &ctx, err) < 0)
        return -1;
    pvm_engine_step(e, "create: backend check");
    int rc = hv->check(ctx, &p, vm, err); /* what start would refuse, refused now */
    pvm_engine_step(e, "create: id, VM folder");
    return rc;
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
    pvm_engine_step(e, "create: firmware, disk (qemu-img create)");
    if (pvm_vm_firmware_prepare(e, &f, vm->firmware, err) < 0 ||
        pvm_vm_make_disk(e, &f, opts ? opts : &none, image, vm, err) < 0 ||
        (pvm_engine_step(e, "create: chmod, row and event (one transaction)"),
         pvm_vm_disk_private(&f, err)) < 0 ||
        pvm_vm_insert(e, vm, err) < 0) {
        pvm_proc_remove_tree(f.dir, NULL);
        goto done;
    }
    pvm_engine_step(e, "create: done");
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
    char qn[PVM_NAME_MAX * 4 + 3];
    if (vm->state == PVM_VM_RUNNING || vm->state == PVM_VM_PAUSED)
        return pvm_error_set(err, PVM_E_STATE,
                             "VM '%s' is %s (pid %d); stop it first: vm stop %s", vm->name,
                             pvm_vm_state_name(vm->state), vm->pid,
                             pvm_shell_word(vm->name, qn, sizeof qn));
    if (pvm_store_begin(e->store, err) < 0)
        return -1;
    int rc = pvm_db_vm_delete(e->store, vm->id, err);
    if (rc == 0) {
        pvm_vm_forget(e, vm, f);
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

/* A console serves one client; a second would connect and read nothing.
 * The program guards it: VMDIR/console.lock, flock'd by the client and
 * holding its pid, so the second is told who has it. */
static int pvm_console_claim(const pvm_vm_files *f, const char *name, int *out, pvm_error *err)
{
    char *path = pvm_xasprintf("%s/console.lock", f->dir);
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
    const pvm_hv_ops *hv;
    void *ctx;
    if (pvm_vm_get(e, name_or_id, &vm, err) < 0 || pvm_engine_hv_load(e, &hv, &ctx, err) < 0)
        return -1;
    if (vm.state != PVM_VM_RUNNING && vm.state != PVM_VM_PAUSED)
        return pvm_error_set(err, PVM_E_STATE, "VM '%s' is %s: no console to attach to",
                             vm.name, pvm_vm_state_name(vm.state));
    if (!hv->console_open)
        return pvm_error_set(err, PVM_E_STATE, "VM '%s': the %s backend has no console",
                             vm.name, hv->name);
    pvm_vm_files f;
    int lock = -1;
    if (pvm_vm_files_init(pvm_engine_home(e), vm.id, &f, err) < 0 ||
        pvm_console_claim(&f, vm.name, &lock, err) < 0)
        return -1;
    if (hv->console_open(ctx, &vm, fd, err) < 0) {
        close(lock);
        return -1;
    }
    if (e->console_lock_fd >= 0)
        close(e->console_lock_fd);
    e->console_lock_fd = lock;
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
