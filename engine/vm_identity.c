/* vm_identity.c - the identity a VM wears (a running VM's of its start, whatever `profile edit`
 * did since), kept in VMDIR/identity: written by vm_ops.c at start and snapshot.c after a memory
 * restore; read by snapshots, the audit, the twin check and the TUI's details (pvm.h). */
#include "internal.h"
#include "vm_internal.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PVM_IDENTITY_FILE_MAX (64u * 1024u)

static char *pvm_identity_path(const pvm_vm_files *f)
{
    return pvm_xasprintf("%s/identity", f->dir);
}

int pvm_vm_identity_record_json(const pvm_vm_files *f, const char *profile_id,
                                const char *identity, pvm_error *err)
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
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    char *path = pvm_identity_path(f);
    char *line = pvm_xasprintf("%s\n", text);
    int rc = pvm_write_file_atomic(path, line);
    if (rc < 0)
        pvm_error_set(err, PVM_E_IO, "%s: cannot write: %s", path, strerror(errno));
    free(line);
    free(path);
    free(text);
    return rc;
}

int pvm_vm_identity_record(const pvm_vm_files *f, const pvm_profile *p, pvm_error *err)
{
    char *identity = pvm_snapshot_identity_json(p);
    int rc = pvm_vm_identity_record_json(f, p->id, identity, err);
    free(identity);
    return rc;
}

/* The record's text (malloc'd), NULL when there is none or it cannot be read. */
static char *pvm_identity_read(const pvm_vm_files *f)
{
    char *path = pvm_identity_path(f);
    FILE *fp = fopen(path, "re");
    free(path);
    if (!fp)
        return NULL;
    char *buf = pvm_xmalloc(PVM_IDENTITY_FILE_MAX + 1);
    size_t n = fread(buf, 1, PVM_IDENTITY_FILE_MAX, fp);
    fclose(fp);
    buf[n] = '\0';
    return buf;
}

/* Sets every identity field the record names over worn; false when the record does not
 * hold an identity of this profile. A value the field's rules refuse is left as worn had it
 * (the record was written from a valid profile; a hand-edited one changes nothing). */
static bool pvm_identity_apply(const char *text, pvm_profile *worn)
{
    cJSON *o = cJSON_Parse(text);
    const cJSON *pid = cJSON_GetObjectItemCaseSensitive(o, "profileId");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "identity");
    bool ok = cJSON_IsString(pid) && cJSON_IsObject(id) && strcmp(pid->valuestring, worn->id) == 0;
    size_t n;
    const pvm_field *fields = pvm_profile_fields(&n);
    for (size_t i = 0; ok && i < n; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(id, fields[i].key);
        pvm_error ignored = {0};
        if (cJSON_IsString(v))
            (void)pvm_profile_set(worn, &fields[i], v->valuestring, &ignored);
    }
    const cJSON *hide = cJSON_GetObjectItemCaseSensitive(id, "hideHypervisor");
    if (ok && cJSON_IsBool(hide))
        worn->hide_hypervisor = cJSON_IsTrue(hide);
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
    bool ok = text && pvm_identity_apply(text, worn);
    free(text);
    if (!ok)
        *worn = *now;
    return ok ? 1 : 0;
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
