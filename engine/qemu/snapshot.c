/* qemu/snapshot.c - the QEMU backend's snapshots (hv.h snapshot, snapshot_list): QMP jobs
 * snapshot-save/-load/-delete and blockdev-snapshot-internal-sync over the COMMAND monitor
 * (the connection hv op hold keeps, when on) for a running VM, qemu-img snapshot for a
 * stopped one, and the image's snapshot table from qemu-img info's JSON or QMP
 * query-block. Called through backend.c's table. */
#include "hv.h"
#include "base/base.h"
#include "qemu/ctx.h"
#include "qemu/qemu.h"
#include "qemu/qmp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PVM_SNAP_CONNECT_MS 5000
#define PVM_SNAP_JOB_MS (10 * 60 * 1000) /* a large guest's memory to a slow disk */

static int pvm_snap_query(pvm_qmp *q, pvm_hv_snap **out, size_t *n, pvm_error *err);

static void pvm_snap_step(const pvm_progress *progress, const char *step)
{
    if (progress && progress->report)
        progress->report(progress->ctx, step, -1);
}

/* The node list ["disk0"] of the VM's one disk (argv.c names it). */
static cJSON *pvm_snap_devices(void)
{
    cJSON *a = cJSON_CreateArray();
    cJSON_AddItemToArray(a, cJSON_CreateString(PVM_QEMU_DISK_NODE));
    return a;
}

static cJSON *pvm_snap_args(const pvm_hv_snap_req *req)
{
    cJSON *args = cJSON_CreateObject();
    if (req->op == PVM_HV_SNAP_SAVE_DISK) {
        cJSON_AddStringToObject(args, "device", PVM_QEMU_DISK_NODE);
        cJSON_AddStringToObject(args, "name", req->tag);
        return args;
    }
    cJSON_AddStringToObject(args, "tag", req->tag);
    if (req->op != PVM_HV_SNAP_DELETE)
        cJSON_AddStringToObject(args, "vmstate", PVM_QEMU_DISK_NODE);
    cJSON_AddItemToObject(args, "devices", pvm_snap_devices());
    return args;
}

static const char *pvm_snap_cmd(pvm_hv_snap_op op)
{
    switch (op) {
    case PVM_HV_SNAP_SAVE: return "snapshot-save";
    case PVM_HV_SNAP_SAVE_DISK: return "blockdev-snapshot-internal-sync";
    case PVM_HV_SNAP_LOAD: return "snapshot-load";
    default: return "snapshot-delete";
    }
}

/* The new snapshot's entry into req->made, over the save's own connection; its tag
 * stays "" when QEMU does not list it. */
static void pvm_snap_made(pvm_qmp *q, const pvm_hv_snap_req *req)
{
    pvm_hv_snap *list = NULL;
    size_t n = 0;
    pvm_error ignored = {0};
    memset(req->made, 0, sizeof *req->made);
    pvm_snap_step(req->progress, "reading the snapshot's figures (QMP query-block)");
    if (pvm_snap_query(q, &list, &n, &ignored) == 0)
        for (size_t i = 0; i < n; i++)
            if (strcmp(list[i].tag, req->tag) == 0)
                *req->made = list[i];
    free(list);
}

/* A running (or paused) VM: one job, or the synchronous disk-only command, then `cont`
 * after a load into a VM started paused. */
static int pvm_snap_live(pvm_qemu_ctx *c, const pvm_qemu_run *r, const pvm_vm *vm,
                         const pvm_hv_snap_req *req, pvm_error *err)
{
    pvm_qmp *q = NULL;
    const char *cmd = pvm_snap_cmd(req->op);
    pvm_snap_step(req->progress, "connecting to the QMP monitor");
    if (pvm_qemu_cmd_connect(c, r->qmp_sock, PVM_SNAP_CONNECT_MS, &q, err) < 0)
        return -1;
    char job[48], step[64];
    snprintf(job, sizeof job, "pvm-snap-%d", (int)getpid());
    snprintf(step, sizeof step, "QEMU %s", cmd);
    pvm_snap_step(req->progress, step);
    int rc;
    if (req->op == PVM_HV_SNAP_SAVE_DISK) {
        rc = pvm_qmp_execute(q, cmd, pvm_snap_args(req), NULL, PVM_SNAP_JOB_MS, err);
    } else {
        rc = pvm_qmp_run_job_progress(q, cmd, pvm_snap_args(req), job, PVM_SNAP_JOB_MS,
                                      req->progress, err);
    }
    if (rc == 0 && req->op == PVM_HV_SNAP_LOAD && req->resume) {
        pvm_snap_step(req->progress, "resuming the guest");
        rc = pvm_qmp_execute(q, "cont", NULL, NULL, PVM_SNAP_CONNECT_MS, err);
    }
    if (rc == 0 && req->made) { /* its own step: the "QEMU snapshot-*" one times the job alone */
        pvm_snap_step(req->progress, "reading the new snapshot's figures");
        pvm_snap_made(q, req);
    }
    pvm_qemu_cmd_done(c, q, rc == 0);
    if (rc < 0 && err && err->code != PVM_E_CANCELLED) {
        char said[sizeof err->msg];
        pvm_strlcpy(said, err->msg, sizeof said);
        pvm_error_set(err, PVM_E_QEMU, "VM '%s': %.400s", vm->name, said);
    }
    return rc;
}

/* A stopped VM: qemu-img snapshot on its disk. */
static int pvm_snap_offline(const pvm_vm *vm, const pvm_vm_files *f, const pvm_hv_snap_req *req,
                            pvm_error *err)
{
    char op = req->op == PVM_HV_SNAP_SAVE_DISK ? 'c' : req->op == PVM_HV_SNAP_LOAD ? 'a' : 'd';
    if (req->op == PVM_HV_SNAP_SAVE)
        return pvm_error_set(err, PVM_E_STATE, "VM '%s' is not running: it has no memory "
                             "state to save (a disk-only snapshot can be taken)", vm->name);
    char what[128];
    snprintf(what, sizeof what, "VM '%s': snapshot '%s'", vm->name, req->tag);
    pvm_snap_step(req->progress, "qemu-img snapshot");
    return pvm_img_snapshot(f->disk, op, req->tag, what, err);
}

int pvm_qemu_snapshot(pvm_qemu_ctx *c, const pvm_vm *vm, const pvm_vm_files *f,
                      const pvm_hv_snap_req *req, pvm_error *err)
{
    pvm_qemu_run r;
    if (pvm_qemu_run_init(c->base.home, vm->id, &r, err) < 0)
        return -1;
    if (vm->state == PVM_VM_RUNNING || vm->state == PVM_VM_PAUSED)
        return pvm_snap_live(c, &r, vm, req, err);
    return pvm_snap_offline(vm, f, req, err);
}

/* ------------------------------------------------------------------ the list */

static uint64_t pvm_snap_num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) && v->valuedouble > 0 ? (uint64_t)v->valuedouble : 0;
}

/* A SnapshotInfo array (qapi/block-core.json: name, vm-state-size, date-sec,
 * vm-clock-sec/-nsec), as qemu-img info and QMP query-block give it; arr may be NULL. */
static void pvm_snap_from_array(const cJSON *arr, pvm_hv_snap **out, size_t *n)
{
    size_t count = cJSON_IsArray(arr) ? (size_t)cJSON_GetArraySize(arr) : 0;
    pvm_hv_snap *list = pvm_xcalloc(count ? count : 1, sizeof *list);
    size_t k = 0;
    const cJSON *s;
    cJSON_ArrayForEach(s, arr) {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(s, "name");
        if (!cJSON_IsString(name) || k >= count)
            continue;
        if (pvm_strlcpy(list[k].tag, name->valuestring, sizeof list[k].tag) >=
            sizeof list[k].tag)
            list[k].tag[sizeof list[k].tag - 1] = '\0'; /* an overlong name: its tag check fails */
        list[k].vmstate_bytes = pvm_snap_num(s, "vm-state-size");
        list[k].date = (int64_t)pvm_snap_num(s, "date-sec");
        list[k].vm_clock_ns = pvm_snap_num(s, "vm-clock-sec") * 1000000000ULL +
                              pvm_snap_num(s, "vm-clock-nsec");
        k++;
    }
    *out = list;
    *n = k;
}

/* The "snapshots" array of qemu-img info's JSON. */
int pvm_qemu_snapshot_parse(const char *json, pvm_hv_snap **out, size_t *n, pvm_error *err)
{
    cJSON *j = pvm_json_parse_bytes(json, strlen(json), true, NULL);
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return pvm_error_set(err, PVM_E_QEMU, "qemu-img info: its output is not JSON");
    }
    pvm_snap_from_array(cJSON_GetObjectItemCaseSensitive(j, "snapshots"), out, n);
    cJSON_Delete(j);
    return 0;
}

/* The disk's snapshot table from QMP query-block over q (QEMU's own view, no process
 * spawned). */
static int pvm_snap_query(pvm_qmp *q, pvm_hv_snap **out, size_t *n, pvm_error *err)
{
    cJSON *ret = NULL;
    if (pvm_qmp_execute(q, "query-block", NULL, &ret, PVM_SNAP_CONNECT_MS, err) < 0)
        return -1;
    const cJSON *dev, *image = NULL;
    cJSON_ArrayForEach(dev, ret) {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(dev, "device");
        if (cJSON_IsString(name) && strcmp(name->valuestring, PVM_QEMU_DRIVE_ID) == 0)
            image = cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(dev, "inserted"), "image");
    }
    if (!cJSON_IsObject(image)) {
        cJSON_Delete(ret);
        return pvm_error_set(err, PVM_E_QEMU, "QMP query-block: no image for %s",
                             PVM_QEMU_DRIVE_ID);
    }
    pvm_snap_from_array(cJSON_GetObjectItemCaseSensitive(image, "snapshots"), out, n);
    cJSON_Delete(ret);
    return 0;
}

/* A running VM: query-block over the held connection, or its own. */
static int pvm_snap_list_qmp(pvm_qemu_ctx *c, const pvm_qemu_run *r, pvm_hv_snap **out,
                             size_t *n, pvm_error *err)
{
    pvm_qmp *q = NULL;
    int rc = pvm_qemu_cmd_connect(c, r->qmp_sock, PVM_SNAP_CONNECT_MS, &q, err);
    if (rc == 0)
        rc = pvm_snap_query(q, out, n, err);
    pvm_qemu_cmd_done(c, q, rc == 0);
    return rc;
}

int pvm_qemu_snapshot_list(pvm_qemu_ctx *c, const pvm_vm *vm, const pvm_vm_files *f,
                           pvm_hv_snap **out, size_t *n, pvm_error *err)
{
    pvm_qemu_run r;
    if ((vm->state == PVM_VM_RUNNING || vm->state == PVM_VM_PAUSED) &&
        pvm_qemu_run_init(c->base.home, vm->id, &r, NULL) == 0 &&
        pvm_snap_list_qmp(c, &r, out, n, NULL) == 0)
        return 0; /* else the image itself, read from outside */
    char *json = NULL;
    if (pvm_img_info_json(f->disk, &json, err) < 0)
        return -1;
    int rc = pvm_qemu_snapshot_parse(json, out, n, err);
    free(json);
    return rc;
}
