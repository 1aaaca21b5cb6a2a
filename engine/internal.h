/* internal.h - the engine's private header: struct pvm_engine and the store
 * it reaches through. Included by the engine sources only, never by cli/ or tui/.
 * Keep struct pvm_engine plain: what can be derived from home is not stored. */
#ifndef PVM_INTERNAL_H
#define PVM_INTERNAL_H

#include "pvm.h"
#include "base/base.h"
#include "../db/store.h"

struct pvm_engine {
    char home[PVM_PATH_MAX];    /* absolute data folder, no trailing slash */
    pvm_store *store;           /* open for the engine's whole life */
    const struct pvm_hv_ops *hv; /* the backend the config names, opened on first use (hv.c) */
    void *hv_ctx;               /* its per-handle state */
    bool allow_vm_marks;        /* pvm_engine_set_allow_vm_marks */
    int console_lock_fd;        /* flock on a VM's console.lock while attached, else -1 */
    const pvm_progress *trace;  /* pvm_engine_set_trace: steps of an operation, or NULL */
};

/* Reports one step of the operation under way to the handle's tracer (if any). */
void pvm_engine_step(pvm_engine *e, const char *step);
/* agent.c: a guest path is absolute (POSIX "/...", Windows "C:\\..."), under 1024 bytes;
 * on Windows it holds none of " & % ^ | < >, no ':' past the drive, no control byte and
 * no ".." component (paths reach cmd.exe). Else PVM_E_INVALID naming what. The one check
 * of every guest path (copy in/out, install --to, the files agent.c removes or moves). */
int pvm_agent_guest_path_check(const char *p, bool windows, const char *what, pvm_error *err);
/* agent.c: a file's base name put in a guest folder: 1-255 bytes, no '/', not . or ..;
 * for Windows also none of \\ : " & % ^ | < > or control bytes. Else PVM_E_INVALID
 * naming what. Used by installer.c for the name it puts in the guest's temp folder. */
int pvm_agent_guest_name_check(const char *name, bool windows, const char *what, pvm_error *err);

/* agent.c: an agent session over an already connected client g (owned from now on: freed
 * by pvm_agent_close), without the VM lookup and agent lock of pvm_agent_open. For unit
 * tests against a scripted agent. */
struct pvm_qga;
pvm_agent *pvm_agent_attach(struct pvm_qga *g, bool windows);
#endif
