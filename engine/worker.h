/* worker.h - the engine thread: one thread with its own engine handle runs the
 * long operations (start, stop, delete, later guest build, snapshots, installs)
 * one after another from a queue, and reports progress and results through a
 * self-pipe that the caller polls beside its other descriptors. The TUI owns one;
 * no curses, no terminal output. Every function here is called from the owner's thread. */
#ifndef PVM_WORKER_H
#define PVM_WORKER_H

#include "pvm.h"

typedef struct pvm_worker pvm_worker;

typedef enum {
    PVM_JOB_START = 0, /* pvm_vm_start, until QMP answers */
    PVM_JOB_STOP,      /* pvm_vm_stop: ACPI power-down, default timeout */
    PVM_JOB_FORCE_STOP,/* pvm_vm_stop with force */
    PVM_JOB_DELETE,    /* pvm_vm_delete */
    PVM_JOB_CUSTOM,    /* a function given to pvm_worker_submit_fn */
    PVM_JOB_RESUME,    /* pvm_vm_resume: a VM QEMU paused (e.g. on a full disk) */
} pvm_job_kind;

/* A custom job: runs on the worker thread with the worker's engine handle;
 * reports through progress (never NULL; honour cancel_fd where it is safe). */
typedef int (*pvm_job_fn)(pvm_engine *e, void *arg, const pvm_progress *progress,
                          pvm_error *err);

typedef struct pvm_worker_event {
    unsigned job;                 /* the id pvm_worker_submit gave */
    pvm_job_kind kind;
    char target[PVM_NAME_MAX + 1];/* the VM's name, or a custom job's label */
    bool done;                    /* false: a progress report; true: the job ended */
    char step[128];               /* progress: what it does now */
    double fraction;              /* progress: 0..1, < 0 unknown */
    int rc;                       /* done: 0 or -1 */
    pvm_error err;                /* done with rc -1: why (PVM_E_CANCELLED when cancelled) */
    char note[PVM_START_NOTE_MAX];/* done with rc 0: a warning to show, "" none (a START's
                                   * pvm_vm_start_noted note, a custom job's pvm_worker_note) */
} pvm_worker_event;

/* Starts the thread, which opens its own engine handle on home_flag (as
 * pvm_engine_open) at its first job, never making the caller wait; when that
 * fails, the job ends with the open's error and the next job tries again. -1
 * only when the thread cannot start. */
int pvm_worker_new(const char *home_flag, pvm_worker **out, pvm_error *err);
/* Cancels the running job (through its cancel descriptor: a start in flight
 * ends its new QEMU, a stop leaves the VM as it is; running VMs are never
 * touched), drops queued jobs, joins the thread and closes everything. NULL ok. */
void pvm_worker_free(pvm_worker *w);
/* As pvm_worker_free, but waits at most timeout_ms for the running job to end.
 * true: everything is freed. false: the job did not end in time (it ignores its
 * cancel descriptor); the thread and w are left running and the caller is about
 * to exit the process, which ends them (the store stays consistent: SQLite's WAL),
 * or to call pvm_worker_stop again. */
bool pvm_worker_stop(pvm_worker *w, int timeout_ms);

/* Readable when events wait: poll it, then call pvm_worker_next until false. */
int pvm_worker_fd(const pvm_worker *w);

/* Queues an operation on VM `vm` (name or id); *job (may be NULL) gets its id. */
int pvm_worker_submit(pvm_worker *w, pvm_job_kind kind, const char *vm, unsigned *job,
                      pvm_error *err);
/* Queues fn(engine, arg, ...); free_arg (may be NULL) is called on arg after the
 * job ran or was dropped, on whichever thread let go of it. label names it in events. */
int pvm_worker_submit_fn(pvm_worker *w, const char *label, pvm_job_fn fn, void *arg,
                         void (*free_arg)(void *), unsigned *job, pvm_error *err);

/* Called by a custom job on the worker thread with the progress it was given: text (one
 * line, cut to PVM_START_NOTE_MAX - 1 bytes) becomes the note of its done event, a warning
 * the front end shows beside its success message (a starter's or a restore's start on stock
 * QEMU). A progress that is not a worker job's is left alone. */
void pvm_worker_note(const pvm_progress *progress, const char *text);

/* Cancels job: a queued one is dropped (its done event says PVM_E_CANCELLED),
 * a running one is told through its cancel descriptor. 0 ok, -1 unknown job. */
int pvm_worker_cancel(pvm_worker *w, unsigned job);
/* Jobs queued or running. */
size_t pvm_worker_pending(pvm_worker *w);
/* The running job's id, 0 when idle. */
unsigned pvm_worker_running(pvm_worker *w);

/* Takes the oldest event into *ev; false when none is waiting. Progress reports
 * of one job are merged (only the newest waits), done events are never merged. */
bool pvm_worker_next(pvm_worker *w, pvm_worker_event *ev);

/* "start", "stop", "force stop", "delete", "job": for messages. */
const char *pvm_job_kind_name(pvm_job_kind kind);

#endif
