/* vm_identity.c - the identity a VM wears (a running VM's of its start, whatever `profile edit`
 * did since), kept in VMDIR/identity: written by vm_ops.c at start and snapshot.c after a memory
 * restore; read by snapshots, the audit, the twin check and the TUI's details (pvm.h). */
#include "hv.h"
#include "internal.h"
#include "vm_internal.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PVM_IDENTITY_FILE_MAX (64u * 1024u)

#define PVM_IDENTITY_FILE "identity" /* in the VM's folder */

static char *pvm_identity_path(const pvm_vm_files *f)
{
    return pvm_xasprintf("%s/" PVM_IDENTITY_FILE, f->dir);
}

int pvm_vm_identity_record_json(const pvm_vm_files *f, const char *profile_id,
                                const char *identity, int pid, pvm_error *err)
{
    pvm_json_init();
    cJSON *id = cJSON_Parse(identity);
    if (!cJSON_IsObject(id)) {
        cJSON_Delete(id);
        return pvm_error_set(err, PVM_E_INVALID, "identity to record: not a JSON object");
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "profileId", profile_id);
    cJSON_AddItemToObject(o, "identity", id);
    unsigned long long ticks; /* the run it describes: its process, pid and start time */
    if (pid == 0 || (pid > 0 && pvm_proc_start_ticks(pid, &ticks) == 0))
        cJSON_AddNumberToObject(o, "qemuPid", pid);
    if (pid > 0 && cJSON_GetObjectItemCaseSensitive(o, "qemuPid"))
        cJSON_AddNumberToObject(o, "qemuStart", (double)ticks);
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    int rc = pvm_vm_file_write_line(f, PVM_IDENTITY_FILE, text, err);
    free(text);
    return rc;
}

int pvm_vm_identity_record(const pvm_vm_files *f, const pvm_profile *p, int pid,
                           pvm_error *err)
{
    char *identity = pvm_snapshot_identity_json(p);
    int rc = pvm_vm_identity_record_json(f, p->id, identity, pid, err);
    free(identity);
    return rc;
}

/* The record's text (malloc'd), NULL when there is none or it cannot be read. */
static char *pvm_identity_read(const pvm_vm_files *f)
{
    char *path = pvm_identity_path(f);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    free(path);
    char *buf = NULL;
    size_t len;
    if (fd >= 0 && pvm_read_all(fd, PVM_IDENTITY_FILE_MAX, &buf, &len) < 0)
        buf = NULL;
    if (fd >= 0)
        close(fd);
    return buf;
}

/* Sets the identity fields of id (a JSON object as pvm_snapshot_identity_json writes) over
 * p, all or nothing: false, p untouched, when a value is not of its type or its field's rules
 * refuse it, or (need_all) a field is missing. */
static bool pvm_identity_overlay(const cJSON *id, pvm_profile *p, bool need_all)
{
    pvm_profile scratch = *p;
    size_t n;
    const pvm_field *fields = pvm_profile_fields(&n);
    for (size_t i = 0; i < n; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(id, fields[i].key);
        pvm_error ignored = {0};
        if (!v && !need_all)
            continue;
        if (!cJSON_IsString(v) || pvm_profile_set(&scratch, &fields[i], v->valuestring,
                                                  &ignored) < 0)
            return false;
    }
    const cJSON *hide = cJSON_GetObjectItemCaseSensitive(id, "hideHypervisor");
    if (hide || need_all) {
        if (!cJSON_IsBool(hide))
            return false;
        scratch.hide_hypervisor = cJSON_IsTrue(hide);
    }
    *p = scratch;
    return true;
}

/* True when the record names the QEMU run pid is now: its pid and start time (pid 0: a
 * backend that runs no process, the fake). */
static bool pvm_identity_this_run(const cJSON *o, int pid)
{
    const cJSON *rp = cJSON_GetObjectItemCaseSensitive(o, "qemuPid");
    const cJSON *rs = cJSON_GetObjectItemCaseSensitive(o, "qemuStart");
    unsigned long long ticks;
    if (!cJSON_IsNumber(rp) || rp->valuedouble != pid || pid < 0)
        return false;
    return pid == 0 || (cJSON_IsNumber(rs) && pvm_proc_start_ticks(pid, &ticks) == 0 &&
                        rs->valuedouble == (double)ticks);
}

/* Sets the record's identity over worn when the record is whole, of this profile and of the
 * QEMU run pid; false (worn untouched) otherwise: a damaged or hand-edited record, or one
 * an earlier run (or an older privarion-vm) left, changes nothing. */
static bool pvm_identity_apply(const char *text, int pid, pvm_profile *worn)
{
    cJSON *o = cJSON_Parse(text);
    const cJSON *prof = cJSON_GetObjectItemCaseSensitive(o, "profileId");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "identity");
    bool ok = cJSON_IsString(prof) && cJSON_IsObject(id) &&
              strcmp(prof->valuestring, worn->id) == 0 && pvm_identity_this_run(o, pid) &&
              pvm_identity_overlay(id, worn, true);
    cJSON_Delete(o);
    return ok;
}

int pvm_vm_identity_worn(pvm_engine *e, const pvm_vm *vm, const pvm_profile *now,
                         pvm_profile *worn)
{
    *worn = *now;
    if (vm->state != PVM_VM_RUNNING && vm->state != PVM_VM_PAUSED)
        return 0;
    pvm_vm_files f;
    pvm_error ignored = {0};
    if (pvm_vm_files_init(pvm_engine_home(e), vm->id, &f, &ignored) < 0)
        return 0;
    char *text = pvm_identity_read(&f);
    pvm_json_init();
    bool ok = text && pvm_identity_apply(text, vm->pid, worn);
    free(text);
    return ok ? 1 : 0;
}

int pvm_vm_identity_record_loaded(pvm_engine *e, const pvm_vm *vm, const pvm_vm_files *f,
                                  const char *identity, pvm_error *err)
{
    pvm_profile worn;
    if (pvm_vm_identity(e, vm, &worn, NULL, err) < 0)
        return -1;
    pvm_profile run = worn;
    pvm_json_init();
    cJSON *id = cJSON_Parse(identity);
    bool ok = cJSON_IsObject(id) && pvm_identity_overlay(id, &worn, false);
    cJSON_Delete(id);
    if (!ok)
        return pvm_error_set(err, PVM_E_INVALID, "snapshot identity to record: not an "
                             "identity the profile's rules accept");
    /* QEMU answers the disk's serial from its device property at each request (virtio-blk
     * GET_ID; the guest's /sys/block/vda/serial asks anew): the run's, not the snapshot's */
    memcpy(worn.disk_serial, run.disk_serial, sizeof worn.disk_serial);
    return pvm_vm_identity_record(f, &worn, vm->pid, err);
}

int pvm_vm_identity(pvm_engine *e, const pvm_vm *vm, pvm_profile *worn, pvm_profile *now,
                    pvm_error *err)
{
    pvm_profile stored;
    if (pvm_profile_get_id(e, vm->profile_id, &stored, err) < 0)
        return -1;
    if (now)
        *now = stored;
    return pvm_vm_identity_worn(e, vm, &stored, worn);
}

void pvm_profile_identity_diff(const pvm_profile *worn, const pvm_profile *now, char *out,
                               size_t size)
{
    size_t n, used = 0;
    const pvm_field *fields = pvm_profile_fields(&n);
    if (size)
        out[0] = '\0';
    for (size_t i = 0; i <= n && used < size; i++) {
        const char *key = i < n ? fields[i].key : "hideHypervisor";
        bool same = i < n ? strcmp(pvm_profile_field_cptr(worn, &fields[i]),
                                   pvm_profile_field_cptr(now, &fields[i])) == 0
                          : worn->hide_hypervisor == now->hide_hypervisor;
        if (same)
            continue;
        int w = snprintf(out + used, size - used, "%s%s", used ? ", " : "", key);
        used = w < 0 ? size : used + (size_t)w;
    }
}
