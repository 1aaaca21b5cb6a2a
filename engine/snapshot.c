/* snapshot.c - the rules of snapshots: tags (generated or checked), the identity and
 * device set each remembers and their comparison on restore, the per-VM lock, the
 * reconciliation of the store's rows with the image's snapshot table, and the create /
 * list / restore / delete flows over the backend (hv.h). Called through pvm.h. */
#include "hv.h"
#include "internal.h"
#include "vm_internal.h"
#include "proc.h"
#include "../db/store.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>

/* ------------------------------------------------------------------ rules */

int pvm_snapshot_tag_check(const char *tag, pvm_error *err)
{
    if (!tag || !*tag)
        return pvm_error_set_field(err, PVM_E_INVALID, "tag", "tag: must not be empty");
    size_t n = strlen(tag);
    if (n > PVM_SNAP_TAG_MAX)
        return pvm_error_set_field(err, PVM_E_INVALID, "tag", "tag: %zu bytes, at most %d "
                                   "allowed", n, PVM_SNAP_TAG_MAX);
    bool digits = true;
    for (size_t i = 0; i < n; i++) {
        char c = tag[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum && c != '.' && c != '_' && c != '-')
            return pvm_error_set_field(err, PVM_E_INVALID, "tag", "tag: character %zu is not "
                                       "allowed: use letters, digits, '.', '_' and '-'", i + 1);
        if (i == 0 && !alnum)
            return pvm_error_set_field(err, PVM_E_INVALID, "tag", "tag: must start with a "
                                       "letter or digit");
        digits &= c >= '0' && c <= '9';
    }
    if (digits)
        return pvm_error_set_field(err, PVM_E_INVALID, "tag", "tag: must not be digits only "
                                   "(QEMU also finds snapshots by their numeric id)");
    return 0;
}

char *pvm_snapshot_identity_json(const pvm_profile *p)
{
    size_t n;
    const pvm_field *fields = pvm_profile_fields(&n);
    pvm_json_init();
    cJSON *o = cJSON_CreateObject();
    for (size_t i = 0; i < n; i++)
        cJSON_AddStringToObject(o, fields[i].key, pvm_profile_field_cptr(p, &fields[i]));
    cJSON_AddBoolToObject(o, "hideHypervisor", p->hide_hypervisor);
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return text;
}

void pvm_snapshot_devices(const pvm_vm *vm, char *out, size_t size)
{
    /* display, video, firmware and tpm came later: older rows lack them, and the diff
     * compares only the keys a row has */
    snprintf(out, size, "cpus=%d memory=%llu diskBus=%s nic=%s net=%s cdrom=%s display=%s "
             "video=%s firmware=%s tpm=%s", vm->cpus, (unsigned long long)vm->memory_bytes,
             pvm_disk_bus_name(vm->disk_bus), pvm_vm_nic_name(vm), pvm_net_mode_name(vm->net),
             vm->iso[0] ? "yes" : "no", pvm_display_name(vm->display),
             vm->display == PVM_DISPLAY_NONE ? "none" : pvm_video_name(vm->video),
             pvm_firmware_name(vm->firmware), vm->tpm ? "on" : "off");
}

static void pvm_diff_add(char *out, size_t size, const char *key)
{
    size_t len = strlen(out);
    snprintf(out + len, size - len, "%s%s", len ? ", " : "", key);
}

/* The value of KEY in a "k=v k=v" text into val; false when absent. */
static bool pvm_kv_get(const char *text, const char *key, char *val, size_t size)
{
    size_t klen = strlen(key);
    for (const char *p = text; p && *p; p = strchr(p, ' ') ? strchr(p, ' ') + 1 : NULL) {
        if (strncmp(p, key, klen) == 0 && p[klen] == '=') {
            size_t vlen = strcspn(p + klen + 1, " ");
            snprintf(val, size, "%.*s", (int)vlen, p + klen + 1);
            return true;
        }
    }
    return false;
}

/* What to do so a start gives key's value of then again (a snapshot's memory state needs
 * it), or NULL when nothing but the profile or VM settings of then bring it back. */
static const char *pvm_diff_remedy(const char *key, const char *then)
{
    static const struct {
        const char *key, *then, *remedy;
    } rules[] = {
        { "qemu", "stealth", "run `privarion-vm qemu build` (qemu_stealth auto or on)" },
        { "qemu", "stock", "set qemu_stealth = off in the config" },
        { "agent", "isa-serial", "set agent_channel = isa-serial in the config" },
        { "agent", "virtio-serial", "set agent_channel = virtio in the config" },
        { "cpus", NULL, "vm edit --cpus" },         { "memory", NULL, "vm edit --memory" },
        { "nic", NULL, "vm edit --nic" },           { "net", NULL, "vm edit --net" },
        { "cdrom", NULL, "vm edit --iso" },         { "display", NULL, "vm edit --display" },
        { "video", NULL, "vm edit --video" },       { "firmware", NULL, "vm edit --firmware" },
        { "tpm", NULL, "vm edit --tpm" },
        { "e1000eMac", NULL, "profile edit PROFILE --mac with the MAC of then" },
        /* stealth.c derives them from the profile's manufacturer and product */
        { "pciSubsys", NULL, "they follow the profile's manufacturer and product: profile "
                             "edit PROFILE --manufacturer/--product with those of then" },
        { "nvmeIds", NULL, "they follow the profile's manufacturer and product: profile "
                           "edit PROFILE --manufacturer/--product with those of then" },
    };
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        if (!strcmp(rules[i].key, key) && (!rules[i].then || !strcmp(rules[i].then, then)))
            return rules[i].remedy;
    return NULL;
}

/* How pvm_diff_devices names a change: the key alone ("memory, diskBus"), with both
 * values ("agent: virtio-serial then, isa-serial now; ..."), or with the remedy too
 * ("... now (set agent_channel = virtio in the config)"). */
enum { PVM_DIFF_KEYS, PVM_DIFF_VALUES, PVM_DIFF_REMEDIES };

/* Each key of then whose value differs in now, named as how says. Only the keys both
 * have are compared: an older row lacks the later keys, and a running VM started by an
 * older privarion-vm lacks what its process does not show. */
static void pvm_diff_devices(const char *then, const char *now, int how, char *out,
                             size_t size)
{
    out[0] = '\0';
    for (const char *p = then; p && *p; p = strchr(p, ' ') ? strchr(p, ' ') + 1 : NULL) {
        char key[32], a[64], b[64];
        size_t klen = strcspn(p, "=");
        if (klen == 0 || klen >= sizeof key)
            continue;
        snprintf(key, sizeof key, "%.*s", (int)klen, p);
        pvm_kv_get(then, key, a, sizeof a);
        if (!pvm_kv_get(now, key, b, sizeof b) || strcmp(a, b) == 0)
            continue;
        if (how == PVM_DIFF_KEYS) {
            pvm_diff_add(out, size, key);
            continue;
        }
        const char *remedy = how == PVM_DIFF_REMEDIES ? pvm_diff_remedy(key, a) : NULL;
        size_t len = strlen(out);
        snprintf(out + len, size - len, "%s%s: %s then, %s now%s%s%s", len ? "; " : "", key, a,
                 b, remedy ? " (" : "", remedy ? remedy : "", remedy ? ")" : "");
    }
}

static void pvm_diff_identity(const char *then, const char *now, char *out, size_t size)
{
    cJSON *a = cJSON_Parse(then), *b = cJSON_Parse(now);
    if (!cJSON_IsObject(a) || !cJSON_IsObject(b)) {
        pvm_diff_add(out, size, "identity");
    } else {
        const cJSON *item;
        cJSON_ArrayForEach(item, b) {
            const cJSON *old = cJSON_GetObjectItemCaseSensitive(a, item->string);
            if (!old || !cJSON_Compare(old, item, true))
                pvm_diff_add(out, size, item->string);
        }
    }
    cJSON_Delete(a);
    cJSON_Delete(b);
}

void pvm_snapshot_diff(const char *then, const char *now, bool devices, char *out, size_t size)
{
    out[0] = '\0';
    pvm_json_init();
    if (devices)
        pvm_diff_devices(then, now, PVM_DIFF_KEYS, out, size);
    else
        pvm_diff_identity(then, now, out, size);
}

/* FNV-1a, 64 bits, as 16 hex digits: a short name for an identity in lists. */
static void pvm_fingerprint(const char *text, char out[17])
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        h = (h ^ *p) * 0x100000001b3ULL;
    snprintf(out, 17, "%016llx", (unsigned long long)h);
}

static void pvm_step(const pvm_progress *progress, const char *step)
{
    if (progress && progress->report)
        progress->report(progress->ctx, step, -1);
}

/* ------------------------------------------------------------------ notes */

static void pvm_note(pvm_snapshot_notes *notes, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void pvm_note(pvm_snapshot_notes *notes, const char *fmt, ...)
{
    if (!notes)
        return;
    if (notes->n == PVM_SNAP_NOTES) {
        notes->dropped++;
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(notes->line[notes->n++], sizeof notes->line[0], fmt, ap);
    va_end(ap);
}

/* --------------------------------------------------------- one VM, locked */

typedef struct pvm_snap_vm {
    pvm_vm vm;
    pvm_vm_files f;
    const pvm_hv_ops *hv;
    void *ctx;
    int lock_fd;
} pvm_snap_vm;

/* hv op hold: one connection to the VM's monitor for the probe, the list and the job, let go
 * right after the last QEMU exchange (before the store is written): other sessions' probes
 * (vm list, show, the TUI's reloads, a start's twin and caps checks) do not take the VM's
 * lock and wait for the monitor (up to PVM_QMP_SHORT_MS) while it is held. */
static void pvm_snap_hold(const pvm_snap_vm *s, bool on)
{
    if (s->hv && s->hv->hold)
        s->hv->hold(s->ctx, on);
}

static void pvm_snap_close(pvm_snap_vm *s)
{
    pvm_snap_hold(s, false);
    pvm_vm_unlock(s->lock_fd);
    s->lock_fd = -1;
}

/* The VM, its backend and (lock) its lock; a held lock is PVM_E_BUSY naming the VM. */
static int pvm_snap_open(pvm_engine *e, const char *name, bool lock,
                         const pvm_progress *progress, pvm_snap_vm *s, pvm_error *err)
{
    memset(s, 0, sizeof *s);
    s->lock_fd = -1;
    if (pvm_vm_row(e, name, &s->vm, err) < 0 ||
        pvm_vm_files_init(pvm_engine_home(e), s->vm.id, &s->f, err) < 0 ||
        pvm_engine_hv_load(e, &s->hv, &s->ctx, err) < 0)
        return -1;
    if (!s->hv->snapshot || !s->hv->snapshot_list)
        return pvm_error_set(err, PVM_E_STATE, "VM '%s': the %s backend has no snapshots",
                             s->vm.name, s->hv->name);
    pvm_step(progress, "taking the VM's lock");
    if (lock && pvm_vm_lock(&s->f, s->vm.name, &s->lock_fd, err) < 0) {
        if (err && err->code == PVM_E_BUSY)
            pvm_error_set(err, PVM_E_BUSY, "VM '%s' is busy: another privarion-vm session is "
                          "working on it (a start, stop or snapshot); try again when it is "
                          "done", s->vm.name);
        return -1;
    }
    if (lock) /* the lock keeps other snapshot, start and stop commands away; probes of
               * other sessions wait for the monitor until the hold is let go */
        pvm_snap_hold(s, true);
    pvm_step(progress, "checking the VM's state");
    pvm_vm_probe(e, &s->vm);
    return 0;
}

static bool pvm_snap_live(const pvm_vm *vm)
{
    return vm->state == PVM_VM_RUNNING || vm->state == PVM_VM_PAUSED;
}

static const pvm_hv_snap *pvm_img_find(const pvm_hv_snap *img, size_t n, const char *tag)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(img[i].tag, tag) == 0)
            return &img[i];
    return NULL;
}

static pvm_snapshot *pvm_row_find(pvm_snapshot *rows, size_t n, const char *tag)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(rows[i].tag, tag) == 0)
            return &rows[i];
    return NULL;
}

/* A row for a snapshot found in the image, made outside privarion-vm. */
static int pvm_adopt(pvm_engine *e, const pvm_snap_vm *s, const pvm_hv_snap *h,
                     pvm_snapshot_notes *notes, pvm_error *err)
{
    pvm_error bad = {0};
    if (pvm_snapshot_tag_check(h->tag, &bad) < 0) {
        pvm_note(notes, "the disk image holds a snapshot named '%.64s' that privarion-vm "
                 "cannot manage (%.80s); left alone", h->tag, bad.msg);
        return 0;
    }
    pvm_snapshot *row = pvm_xcalloc(1, sizeof *row);
    pvm_uuid_v4(row->id);
    pvm_strlcpy(row->vm_id, s->vm.id, sizeof row->vm_id);
    pvm_strlcpy(row->tag, h->tag, sizeof row->tag);
    row->created_at = h->date;
    row->memory = h->vmstate_bytes > 0;
    row->vmstate_bytes = h->vmstate_bytes;
    row->vm_clock_ns = h->vm_clock_ns;
    row->adopted = true;
    int rc = pvm_db_snapshot_insert(e->store, row, err);
    if (rc == 0)
        pvm_note(notes, "snapshot '%s' was found in the disk image (made outside "
                 "privarion-vm): added to the list, its identity unknown", h->tag);
    free(row);
    return rc;
}

/* Makes the rows agree with the image: rows whose snapshot is gone are dropped, the
 * image's other snapshots adopted, figures refreshed. One transaction. */
static int pvm_reconcile_rows(pvm_engine *e, const pvm_snap_vm *s, const pvm_hv_snap *img,
                              size_t nimg, pvm_snapshot *rows, size_t nrows,
                              pvm_snapshot_notes *notes, pvm_error *err)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < nrows; i++) {
        const pvm_hv_snap *h = pvm_img_find(img, nimg, rows[i].tag);
        if (!h) {
            rc = pvm_db_snapshot_delete(e->store, rows[i].id, err);
            if (rc == 0)
                pvm_note(notes, "snapshot '%s' is no longer in the disk image (deleted outside "
                         "privarion-vm): removed from the list", rows[i].tag);
        } else if (h->vmstate_bytes != rows[i].vmstate_bytes ||
                   h->vm_clock_ns != rows[i].vm_clock_ns) {
            rc = pvm_db_snapshot_figures(e->store, rows[i].id, h->vmstate_bytes,
                                         h->vm_clock_ns, err);
        }
    }
    for (size_t i = 0; rc == 0 && i < nimg; i++)
        if (!pvm_row_find(rows, nrows, img[i].tag))
            rc = pvm_adopt(e, s, &img[i], notes, err);
    return rc;
}

static int pvm_reconcile(pvm_engine *e, const pvm_snap_vm *s, pvm_snapshot_notes *notes,
                         pvm_error *err)
{
    pvm_hv_snap *img = NULL;
    pvm_snapshot *rows = NULL;
    size_t nimg = 0, nrows = 0;
    if (s->hv->snapshot_list(s->ctx, &s->vm, &s->f, &img, &nimg, err) < 0)
        return -1;
    int rc = pvm_store_begin(e->store, err);
    if (rc == 0) {
        rc = pvm_db_snapshot_list(e->store, s->vm.id, &rows, &nrows, err);
        if (rc == 0)
            rc = pvm_reconcile_rows(e, s, img, nimg, rows, nrows, notes, err);
        rc = pvm_store_end(e->store, rc, err);
    }
    free(img);
    free(rows);
    return rc;
}

/* The row of tag after reconciling; PVM_E_NOTFOUND naming it. */
static int pvm_snap_row(pvm_engine *e, const pvm_snap_vm *s, const char *tag, pvm_snapshot *out,
                        pvm_error *err)
{
    pvm_snapshot *rows;
    size_t n;
    if (pvm_snapshot_tag_check(tag, err) < 0 ||
        pvm_db_snapshot_list(e->store, s->vm.id, &rows, &n, err) < 0)
        return -1;
    pvm_snapshot *r = pvm_row_find(rows, n, tag);
    int rc = 0;
    char qn[PVM_NAME_MAX * 4 + 3];
    if (r)
        *out = *r;
    else
        rc = pvm_error_set_field(err, PVM_E_NOTFOUND, "tag", "VM '%s' has no snapshot '%s' "
                                 "(see: privarion-vm snapshot list %s)", s->vm.name, tag,
                                 pvm_shell_word(s->vm.name, qn, sizeof qn));
    free(rows);
    return rc;
}

static int pvm_snap_event_add(pvm_engine *e, const pvm_vm *vm, const char *kind,
                              const char *tag, pvm_error *err)
{
    char *detail = pvm_xasprintf("snapshot '%s'", tag);
    int rc = pvm_db_event_add(e->store, vm->id, kind, detail, err);
    free(detail);
    return rc;
}

/* An event on its own; a full disk or a busy store skips it (the log is best effort). */
static void pvm_snap_event(pvm_engine *e, const pvm_vm *vm, const char *kind, const char *tag)
{
    pvm_error ignored = {0};
    pvm_snap_event_add(e, vm, kind, tag, &ignored);
}

/* ------------------------------------------------------------------ create */

/* "snap-YYYYMMDD-HHMMSS" (UTC), with "-2", "-3"... when the VM has it already. */
static void pvm_snap_tag_new(pvm_engine *e, const pvm_vm *vm, char *out, size_t size)
{
    time_t now = (time_t)pvm_now();
    struct tm tm;
    char base[32];
    gmtime_r(&now, &tm);
    strftime(base, sizeof base, "snap-%Y%m%d-%H%M%S", &tm);
    pvm_snapshot *rows = NULL;
    size_t n = 0;
    pvm_error ignored = {0};
    pvm_db_snapshot_list(e->store, vm->id, &rows, &n, &ignored);
    snprintf(out, size, "%s", base);
    for (int k = 2; rows && pvm_row_find(rows, n, out); k++)
        snprintf(out, size, "%s-%d", base, k);
    free(rows);
}

int pvm_snapshot_tag_default(pvm_engine *e, const char *vm, char *out, size_t size,
                             pvm_error *err)
{
    pvm_vm v;
    if (pvm_vm_get(e, vm, &v, err) < 0)
        return -1;
    pvm_snap_tag_new(e, &v, out, size);
    return 0;
}

/* The device set of now: the running VM's (as started), else a start's with today's
 * config (the backend's, or the engine's generic keys when it has none). */
static int pvm_snap_devices(pvm_engine *e, const pvm_snap_vm *s, const pvm_profile *p,
                            char *out, size_t size, pvm_error *err)
{
    if (!s->hv->devices) {
        pvm_snapshot_devices(&s->vm, out, size);
        return 0;
    }
    pvm_config cfg;
    if (pvm_config_load(pvm_engine_home(e), &cfg, err) < 0)
        return -1;
    return s->hv->devices(s->ctx, p, &s->vm, &s->f, &cfg, pvm_snap_live(&s->vm), out, size,
                          err);
}

/* Identity and device set of now into row: a running VM's as it started (a profile edited
 * since applies at its next start), a stopped VM's as its profile is. */
static int pvm_snap_fill(pvm_engine *e, const pvm_snap_vm *s, pvm_snapshot *row,
                         pvm_error *err)
{
    const pvm_vm *vm = &s->vm;
    pvm_profile p;
    if (pvm_vm_identity(e, vm, &p, NULL, err) < 0)
        return -1;
    char *id = pvm_snapshot_identity_json(&p);
    size_t n = pvm_strlcpy(row->identity, id, sizeof row->identity);
    free(id);
    if (n >= sizeof row->identity)
        return pvm_error_set(err, PVM_E_LIMIT, "profile of VM '%s': its identity is longer "
                             "than a snapshot can remember (%d bytes)", vm->name,
                             PVM_SNAP_IDENTITY_MAX - 1);
    pvm_fingerprint(row->identity, row->fingerprint);
    pvm_strlcpy(row->profile_id, p.id, sizeof row->profile_id);
    return pvm_snap_devices(e, s, &p, row->devices, sizeof row->devices, err);
}

/* After a failed save: a snapshot of that tag the image may still hold goes (best effort). */
static void pvm_snap_undo(const pvm_snap_vm *s, const char *tag)
{
    pvm_hv_snap *img = NULL;
    size_t n = 0;
    pvm_error ignored = {0};
    if (s->hv->snapshot_list(s->ctx, &s->vm, &s->f, &img, &n, &ignored) == 0 &&
        pvm_img_find(img, n, tag)) {
        pvm_hv_snap_req del = {.op = PVM_HV_SNAP_DELETE, .tag = tag};
        s->hv->snapshot(s->ctx, &s->vm, &s->f, &del, &ignored);
    }
    free(img);
}

/* A failed save on a file system with (almost) no room left says so after QEMU's words
 * (QEMU itself only says "Input/output error"). */
static void pvm_snap_space_hint(const pvm_snap_vm *s, pvm_error *err)
{
    struct statvfs v;
    if (!err || statvfs(s->f.dir, &v) < 0)
        return;
    uint64_t free_bytes = (uint64_t)v.f_bavail * v.f_frsize;
    uint64_t need = s->vm.memory_bytes < (64ULL << 20) ? (64ULL << 20) : s->vm.memory_bytes;
    if (free_bytes >= need)
        return;
    char have[32];
    size_t len = strlen(err->msg);
    snprintf(err->msg + len, sizeof err->msg - len, "; the file system of %s has only %s "
             "free (no space left on device?): free space there and retry", s->f.dir,
             pvm_size_format(free_bytes, have, sizeof have));
}

static int pvm_snap_save(pvm_engine *e, pvm_snap_vm *s, pvm_snapshot *row, bool disk_only,
                         const pvm_progress *progress, pvm_error *err)
{
    pvm_hv_snap made = {0};
    pvm_hv_snap_req req = {.op = pvm_snap_live(&s->vm) && !disk_only ? PVM_HV_SNAP_SAVE
                                                                    : PVM_HV_SNAP_SAVE_DISK,
                           .tag = row->tag, .progress = progress, .made = &made};
    pvm_step(progress, "saving");
    if (s->hv->snapshot(s->ctx, &s->vm, &s->f, &req, err) < 0) {
        pvm_snap_space_hint(s, err);
        pvm_snap_undo(s, row->tag);
        return -1;
    }
    if (pvm_progress_cancelled(progress)) {
        /* QEMU's job had gone past the point where it can stop: a cancel still means no
         * snapshot, so the one just made goes again */
        pvm_snap_undo(s, row->tag);
        return pvm_error_set(err, PVM_E_CANCELLED, "snapshot create: cancelled (the save had "
                             "finished; snapshot '%s' was removed again)", row->tag);
    }
    pvm_hv_snap *img = NULL;
    size_t n = 0;
    pvm_error ignored = {0};
    if (!made.tag[0]) { /* the backend did not read it on the way: the image's table */
        pvm_step(progress, "reading the snapshot's figures from the image");
        if (s->hv->snapshot_list(s->ctx, &s->vm, &s->f, &img, &n, &ignored) == 0) {
            const pvm_hv_snap *h = pvm_img_find(img, n, row->tag);
            if (h)
                made = *h;
        }
    }
    row->vmstate_bytes = made.vmstate_bytes;
    row->vm_clock_ns = made.vm_clock_ns;
    free(img);
    pvm_snap_hold(s, false); /* QEMU's part is done: probes need not wait for the store */
    row->memory = req.op == PVM_HV_SNAP_SAVE;
    row->created_at = pvm_now();
    pvm_step(progress, "recording the snapshot");
    int rc = pvm_store_begin(e->store, err); /* row and event together, or neither */
    if (rc == 0 && (rc = pvm_db_snapshot_insert(e->store, row, err)) == 0)
        rc = pvm_snap_event_add(e, &s->vm, "snapshot.create", row->tag, err);
    if (pvm_store_end(e->store, rc, err) < 0) {
        pvm_snap_undo(s, row->tag); /* no row: no snapshot either */
        return -1;
    }
    return 0;
}

static int pvm_snap_create_locked(pvm_engine *e, pvm_snap_vm *s, const char *tag,
                                  const pvm_snapshot_opts *o, const pvm_progress *progress,
                                  pvm_snapshot *row, pvm_snapshot_notes *notes, pvm_error *err)
{
    pvm_step(progress, "checking the list against the disk image");
    if (pvm_reconcile(e, s, notes, err) < 0)
        return -1;
    if (tag && *tag) {
        pvm_snapshot *rows;
        size_t n;
        if (pvm_db_snapshot_list(e->store, s->vm.id, &rows, &n, err) < 0)
            return -1;
        bool taken = pvm_row_find(rows, n, tag) != NULL;
        free(rows);
        if (taken)
            return pvm_error_set_field(err, PVM_E_EXISTS, "tag", "tag: VM '%s' already has a "
                                       "snapshot '%s'", s->vm.name, tag);
        pvm_strlcpy(row->tag, tag, sizeof row->tag);
    } else {
        pvm_snap_tag_new(e, &s->vm, row->tag, sizeof row->tag);
    }
    pvm_uuid_v4(row->id);
    pvm_strlcpy(row->vm_id, s->vm.id, sizeof row->vm_id);
    if (pvm_snap_fill(e, s, row, err) < 0)
        return -1;
    return pvm_snap_save(e, s, row, o->disk_only, progress, err);
}

int pvm_snapshot_create(pvm_engine *e, const char *vm, const char *tag,
                        const pvm_snapshot_opts *opts, const pvm_progress *progress,
                        pvm_snapshot *out, pvm_snapshot_notes *notes, pvm_error *err)
{
    pvm_snapshot_opts none = {0};
    if (tag && *tag && pvm_snapshot_tag_check(tag, err) < 0)
        return -1;
    pvm_snap_vm s;
    if (pvm_snap_open(e, vm, true, progress, &s, err) < 0) {
        pvm_snap_close(&s);
        return -1;
    }
    pvm_snapshot *row = pvm_xcalloc(1, sizeof *row);
    int rc = pvm_snap_create_locked(e, &s, tag, opts ? opts : &none, progress, row, notes, err);
    if (rc == 0 && out)
        *out = *row;
    free(row);
    pvm_snap_close(&s);
    return rc;
}

/* -------------------------------------------------------------- list, get */

int pvm_snapshot_list(pvm_engine *e, const char *vm, pvm_snapshot **out, size_t *count,
                      pvm_snapshot_notes *notes, pvm_error *err)
{
    pvm_snap_vm s;
    pvm_error busy = {0};
    int rc = pvm_snap_open(e, vm, true, NULL, &s, &busy);
    if (rc < 0 && busy.code != PVM_E_BUSY) {
        if (err)
            *err = busy;
        pvm_snap_close(&s);
        return -1;
    }
    if (rc < 0) /* another session works on it: list the rows as they are */
        pvm_note(notes, "another privarion-vm session is working on VM '%s': the list was "
                 "not checked against the disk image this time", s.vm.name);
    else if (pvm_reconcile(e, &s, notes, err) < 0) {
        pvm_snap_close(&s);
        return -1;
    }
    pvm_snap_close(&s);
    return pvm_db_snapshot_list(e->store, s.vm.id, out, count, err);
}

int pvm_snapshot_rows(pvm_engine *e, const char *vm, pvm_snapshot **out, size_t *count,
                      pvm_error *err)
{
    pvm_vm *row = pvm_xcalloc(1, sizeof *row);
    int rc = pvm_vm_row(e, vm, row, err);
    if (rc == 0)
        rc = pvm_db_snapshot_list(e->store, row->id, out, count, err);
    free(row);
    return rc;
}

int pvm_snapshot_get(pvm_engine *e, const char *vm, const char *tag, pvm_snapshot *out,
                     pvm_snapshot_notes *notes, pvm_error *err)
{
    pvm_snapshot *rows;
    size_t n;
    if (pvm_snapshot_tag_check(tag, err) < 0 ||
        pvm_snapshot_list(e, vm, &rows, &n, notes, err) < 0)
        return -1;
    pvm_snapshot *r = pvm_row_find(rows, n, tag);
    int rc = 0;
    char qn[PVM_NAME_MAX * 4 + 3];
    if (r)
        *out = *r;
    else
        rc = pvm_error_set_field(err, PVM_E_NOTFOUND, "tag", "VM '%s' has no snapshot '%s' "
                                 "(see: privarion-vm snapshot list %s)", vm, tag,
                                 pvm_shell_word(vm, qn, sizeof qn));
    free(rows);
    return rc;
}

/* ----------------------------------------------------------------- restore */

/* Refuses what cannot or should not be restored, naming what changed. */
static int pvm_snap_compare(pvm_engine *e, const pvm_snap_vm *s, const pvm_snapshot *row,
                            bool force, pvm_error *err)
{
    pvm_snapshot *now = pvm_xcalloc(1, sizeof *now);
    char changed[512];
    int rc = pvm_snap_fill(e, s, now, err);
    if (rc == 0 && !row->adopted) {
        bool live = pvm_snap_live(&s->vm);
        pvm_diff_devices(row->devices, now->devices,
                         row->memory ? PVM_DIFF_REMEDIES : PVM_DIFF_VALUES, changed,
                         sizeof changed);
        if (changed[0] && row->memory)
            rc = pvm_error_set(err, PVM_E_STATE, "snapshot '%s' of VM '%s' cannot load into the "
                               "devices %s, not even with --force (its memory state needs those "
                               "it was taken with): %s%s", row->tag, s->vm.name,
                               live ? "the VM runs with" : "a start would give now", changed,
                               live ? "; then stop the VM and restore" : "");
        else if (changed[0] && !force)
            rc = pvm_error_set(err, PVM_E_STATE, "snapshot '%s' of VM '%s' was taken with "
                               "other devices (%s); --force restores it anyway", row->tag,
                               s->vm.name, changed);
    }
    if (rc == 0 && !row->adopted && !force) {
        pvm_snapshot_diff(row->identity, now->identity, false, changed, sizeof changed);
        if (strcmp(row->profile_id, now->profile_id) != 0)
            pvm_strlcpy(changed, "profile", sizeof changed);
        if (changed[0])
            rc = pvm_error_set(err, PVM_E_STATE, "snapshot '%s' of VM '%s' was taken with "
                               "another identity: %s changed since; restoring brings the old "
                               "identity back into the guest; --force restores it anyway",
                               row->tag, s->vm.name, changed);
    }
    if (rc == 0 && row->adopted && !force)
        rc = pvm_error_set(err, PVM_E_STATE, "snapshot '%s' of VM '%s' was made outside "
                           "privarion-vm: the identity it was taken with is unknown; --force "
                           "restores it anyway", row->tag, s->vm.name);
    free(now);
    return rc;
}

/* A stopped VM and a memory state: start paused, load, resume; a failed load ends it. */
static int pvm_snap_boot_into(pvm_engine *e, pvm_snap_vm *s, const pvm_snapshot *row,
                              const pvm_progress *progress, pvm_snapshot_notes *notes,
                              pvm_error *err)
{
    if (s->vm.state == PVM_VM_CRASHED || s->vm.state_reason[0])
        pvm_vm_forget(e, &s->vm, &s->f);
    char note[PVM_START_NOTE_MAX];
    pvm_snap_hold(s, false); /* the start asks the monitor on its own connections */
    if (pvm_vm_start_held(e, &s->vm, &s->f, true, progress, note, sizeof note, err) < 0)
        return -1;
    if (note[0])
        pvm_note(notes, "%s", note);
    pvm_snap_hold(s, true);
    pvm_hv_snap_req req = {.op = PVM_HV_SNAP_LOAD, .tag = row->tag, .resume = true,
                           .progress = progress};
    if (s->hv->snapshot(s->ctx, &s->vm, &s->f, &req, err) == 0) {
        if (notes)
            notes->started = true;
        return 0;
    }
    pvm_snap_hold(s, false); /* and so does the shutdown */
    pvm_error ignored = {0};
    if (s->hv->shutdown(s->ctx, &s->vm, &s->f, PVM_HV_STOP_FORCE, 10000, NULL, &ignored) == 0)
        pvm_vm_forget(e, &s->vm, &s->f);
    return -1;
}

static int pvm_snap_restore_locked(pvm_engine *e, pvm_snap_vm *s, const char *tag,
                                   const pvm_snapshot_opts *o, const pvm_progress *progress,
                                   pvm_snapshot_notes *notes, pvm_error *err)
{
    pvm_snapshot *row = pvm_xcalloc(1, sizeof *row);
    int rc = -1;
    pvm_step(progress, "checking the list against the disk image");
    if (pvm_reconcile(e, s, notes, err) < 0 || pvm_snap_row(e, s, tag, row, err) < 0 ||
        pvm_snap_compare(e, s, row, o->force, err) < 0)
        goto done;
    if (pvm_snap_live(&s->vm) && !row->memory) {
        char qn[PVM_NAME_MAX * 4 + 3];
        pvm_error_set(err, PVM_E_STATE, "snapshot '%s' of VM '%s' holds no memory state: "
                      "restoring it needs a stopped VM (privarion-vm vm stop %s)", tag,
                      s->vm.name, pvm_shell_word(s->vm.name, qn, sizeof qn));
        goto done;
    }
    pvm_step(progress, "restoring");
    if (!pvm_snap_live(&s->vm) && row->memory) {
        rc = pvm_snap_boot_into(e, s, row, progress, notes, err);
    } else {
        pvm_hv_snap_req req = {.op = PVM_HV_SNAP_LOAD, .tag = tag, .progress = progress};
        rc = s->hv->snapshot(s->ctx, &s->vm, &s->f, &req, err);
    }
    pvm_snap_hold(s, false); /* QEMU's part is done: probes need not wait for the records */
    if (rc == 0 && row->memory && !row->adopted && row->identity[0]) {
        pvm_error ignored = {0}; /* the guest wears the snapshot's identity from now on */
        (void)pvm_vm_identity_record_loaded(e, &s->vm, &s->f, row->identity, &ignored);
    }
    if (rc == 0) {
        pvm_engine_step(e, "recording the restore (event)");
        pvm_snap_event(e, &s->vm, "snapshot.restore", tag);
    }
done:
    free(row);
    return rc;
}

int pvm_snapshot_restore(pvm_engine *e, const char *vm, const char *tag,
                         const pvm_snapshot_opts *opts, const pvm_progress *progress,
                         pvm_snapshot_notes *notes, pvm_error *err)
{
    pvm_snapshot_opts none = {0};
    if (pvm_snapshot_tag_check(tag, err) < 0)
        return -1;
    pvm_snap_vm s;
    int rc = pvm_snap_open(e, vm, true, progress, &s, err);
    if (rc == 0)
        rc = pvm_snap_restore_locked(e, &s, tag, opts ? opts : &none, progress, notes, err);
    pvm_snap_close(&s);
    return rc;
}

/* ------------------------------------------------------------------ delete */

int pvm_snapshot_delete(pvm_engine *e, const char *vm, const char *tag,
                        const pvm_progress *progress, pvm_snapshot_notes *notes,
                        pvm_error *err)
{
    if (pvm_snapshot_tag_check(tag, err) < 0)
        return -1;
    pvm_snap_vm s;
    pvm_snapshot row;
    int rc = pvm_snap_open(e, vm, true, progress, &s, err);
    if (rc == 0)
        rc = pvm_reconcile(e, &s, notes, err);
    if (rc == 0)
        rc = pvm_snap_row(e, &s, tag, &row, err);
    if (rc == 0) {
        pvm_hv_snap_req req = {.op = PVM_HV_SNAP_DELETE, .tag = tag, .progress = progress};
        rc = s.hv->snapshot(s.ctx, &s.vm, &s.f, &req, err);
    }
    if (rc == 0 && (rc = pvm_store_begin(e->store, err)) == 0) { /* row and event together */
        rc = pvm_db_snapshot_delete(e->store, row.id, err);
        if (rc == 0)
            rc = pvm_snap_event_add(e, &s.vm, "snapshot.delete", tag, err);
        rc = pvm_store_end(e->store, rc, err);
    }
    pvm_snap_close(&s);
    return rc;
}
