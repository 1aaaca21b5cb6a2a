/* qemu/ctx.h - the QEMU backend's context behind hv.h's void *ctx (the held COMMAND
 * connection of hv op hold) and the calls that take it: backend.c (open, close, probe,
 * hold) and qemu/snapshot.c. Kept out of hv.h, the backend contract both backends share. */
#ifndef PVM_QEMU_CTX_H
#define PVM_QEMU_CTX_H

#include "hv.h"

/* The QEMU backend's context per engine handle (backend.c's open and close): hv.c's shared
 * part, and the COMMAND monitor connection hv op hold keeps open. */
struct pvm_qmp;
typedef struct pvm_qemu_ctx {
    pvm_hv_home base;              /* first: hv.c's check reads it through the void * */
    bool hold;                     /* hv op hold on */
    char held_sock[PVM_PATH_MAX];  /* the monitor socket held is connected to */
    struct pvm_qmp *held;          /* the connection held open, or NULL */
} pvm_qemu_ctx;

/* The QEMU backend's snapshots (qemu/snapshot.c), behind its table's snapshot and
 * snapshot_list; home is the data folder. parse reads qemu-img info's JSON text (unit
 * tests feed it 100+ snapshots). */
int pvm_qemu_snapshot(pvm_qemu_ctx *c, const pvm_vm *vm, const pvm_vm_files *f,
                      const pvm_hv_snap_req *req, pvm_error *err);
/* A running VM's list comes from QMP query-block (QEMU's own view), a stopped one's
 * from qemu-img info. */
int pvm_qemu_snapshot_list(pvm_qemu_ctx *c, const pvm_vm *vm, const pvm_vm_files *f,
                           pvm_hv_snap **out, size_t *n, pvm_error *err);
int pvm_qemu_snapshot_parse(const char *json, pvm_hv_snap **out, size_t *n, pvm_error *err);
/* A connection to the COMMAND monitor at sock for one exchange: the one held (hv op hold)
 * when it is to sock, else a new one, kept as the held one while hold is on. done after
 * the exchange: closes it unless it is the held one and ok (a failed exchange drops the
 * held one too: its stream is in doubt). The QEMU backend's probe and snapshots. */
int pvm_qemu_cmd_connect(pvm_qemu_ctx *c, const char *sock, int timeout_ms,
                         struct pvm_qmp **q, pvm_error *err);
void pvm_qemu_cmd_done(pvm_qemu_ctx *c, struct pvm_qmp *q, bool ok);

#endif
