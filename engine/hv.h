/* hv.h - the hypervisor backend contract: one table of operations per backend
 * (engine/qemu/backend.c, engine/fake/backend.c), chosen at run time by the config's
 * `backend` key (hv.c). vm.c and vm_ops.c call through it and keep the locks, caps,
 * store rows, events and the intent marker; a backend never touches the store. */
#ifndef PVM_HV_H
#define PVM_HV_H

#include "pvm.h"
#include "vm_internal.h"

#include <stdbool.h>
#include <stdint.h>

typedef enum { PVM_HV_STOP_ACPI = 0, PVM_HV_STOP_FORCE } pvm_hv_stop_how;

/* A disk to make at files->disk (the VM's folder exists). */
typedef struct pvm_hv_disk {
    uint64_t bytes;          /* virtual size, > 0 */
    const char *image;       /* NULL: an empty disk; else start from this image ... */
    const char *image_fmt;   /* ... of this format (from disk_info) ... */
    uint64_t image_bytes;    /* ... and this virtual size ... */
    pvm_image_mode mode;     /* ... as a full copy or an overlay on top of it */
} pvm_hv_disk;

/* Everything a start needs; all borrowed. */
typedef struct pvm_hv_start {
    const pvm_vm *vm;
    const pvm_vm_files *files;
    const pvm_profile *profile;
    const pvm_config *cfg;
    const pvm_progress *progress; /* may be NULL */
    bool paused;                  /* start with the vCPUs stopped (a snapshot restore loads
                                   * its memory state, then the load resumes it) */
    char *note;                   /* out, may be NULL: one line for the user ("" none), e.g.
                                   * a hidden hypervisor on stock QEMU (pvm_vm_start_noted) */
    size_t note_size;
} pvm_hv_start;

/* Snapshots (internal, inside the VM's qcow2). A running or paused VM (state as probed)
 * goes through the COMMAND monitor: SAVE is QMP snapshot-save with the memory state,
 * SAVE_DISK blockdev-snapshot-internal-sync, LOAD snapshot-load, DELETE snapshot-delete,
 * each job waited for (progress reported, cancel honoured while it runs) and dismissed.
 * A stopped VM goes through qemu-img snapshot: SAVE_DISK -c, LOAD -a, DELETE -d (SAVE
 * is refused: a stopped VM has no memory). */
typedef enum {
    PVM_HV_SNAP_SAVE = 0,
    PVM_HV_SNAP_SAVE_DISK,
    PVM_HV_SNAP_LOAD,
    PVM_HV_SNAP_DELETE,
} pvm_hv_snap_op;

struct pvm_hv_snap;

typedef struct pvm_hv_snap_req {
    pvm_hv_snap_op op;
    const char *tag;      /* checked by pvm_snapshot_tag_check */
    bool resume;          /* LOAD into a VM started paused: resume it after the load */
    const pvm_progress *progress; /* may be NULL */
    /* SAVE/SAVE_DISK: when not NULL, the new snapshot's entry of the image's table, read
     * over the same connection as the save (no second one); its tag stays "" when the
     * backend could not read it (the caller may ask snapshot_list). */
    struct pvm_hv_snap *made;
} pvm_hv_snap_req;

/* One snapshot as the image holds it. */
typedef struct pvm_hv_snap {
    char tag[PVM_SNAP_TAG_MAX + 1];
    uint64_t vmstate_bytes; /* size of the memory state, 0: disk only */
    int64_t date;           /* seconds since the epoch */
    uint64_t vm_clock_ns;   /* the guest clock at the snapshot */
} pvm_hv_snap;

/* Which of a VM's two monitors (QEMU serves one client per monitor at a time):
 * OWNER is held for a long time by one client, the engine thread of a front end
 * (sampler, event listener), through the backend's sample/events operations;
 * COMMAND serves short request-reply exchanges (probe, stop, start's ready check)
 * and is connected per call with a bounded wait, so a held OWNER never slows them. */
typedef enum { PVM_HV_MON_COMMAND = 0, PVM_HV_MON_OWNER } pvm_hv_monitor;

/* One backend. ctx is the backend's own state for one engine handle (opaque);
 * like the handle, it belongs to one thread. Every operation that can fail
 * returns 0 / -1 and fills err. A NULL member is an operation this backend does
 * not have: callers check and refuse with PVM_E_STATE naming the backend. */
typedef struct pvm_hv_ops {
    const char *name; /* "qemu", "fake": the config's `backend` word */

    /* Opens the backend for one engine handle on home (absolute data folder). */
    int (*open)(const char *home, void **ctx, pvm_error *err);
    void (*close)(void *ctx);

    /* Whether this profile and VM would start (no I/O): vm create calls it so the
     * user learns at create what start would refuse; start calls it first. */
    int (*check)(void *ctx, const pvm_profile *p, const pvm_vm *vm, pvm_error *err);

    /* Disks. disk_info reads an image's format (fmt, at most 31 bytes) and virtual
     * size (bytes); a file the backend cannot read is PVM_E_INVALID naming "image".
     * disk_create makes files->disk as d says (file 0600 is the caller's job). */
    int (*disk_info)(void *ctx, const char *path, char fmt[32], uint64_t *bytes,
                     pvm_error *err);
    int (*disk_create)(void *ctx, const pvm_vm_files *files, const pvm_hv_disk *d,
                       pvm_error *err);

    /* Starts the VM and returns once its COMMAND monitor answers; *pid is its
     * process (0 when the backend runs none). Truncates the VM's logs for this boot.
     * On failure nothing of this start runs any more; a cancel (s->progress) ends
     * the new VM and returns PVM_E_CANCELLED. */
    int (*start)(void *ctx, const pvm_hv_start *s, int *pid, pvm_error *err);

    /* The live state: sets vm->state, pid and state_reason. intent_pid says what
     * the engine's intent marker holds: < 0 no marker (the VM should be stopped),
     * 0 a start began, > 0 the pid the start returned. Without a live VM and with
     * intent the backend tells a clean end (STOPPED + reason) from a crash
     * (CRASHED + reason); without intent it reports STOPPED and "". */
    void (*probe)(void *ctx, const pvm_vm_files *files, int intent_pid, pvm_vm *vm);

    /* Ends a running VM (vm as probed: pid set). ACPI presses the power button
     * (again every few seconds) until the VM is gone or timeout_ms passes, then
     * PVM_E_STATE; FORCE quits it at once, killing it when it does not go.
     * Cancel (progress) -> PVM_E_CANCELLED with the VM left as it is. */
    int (*shutdown)(void *ctx, const pvm_vm *vm, const pvm_vm_files *files,
                    pvm_hv_stop_how how, int timeout_ms, const pvm_progress *progress,
                    pvm_error *err);

    /* Continues a paused VM (vm as probed: PAUSED). QEMU: `cont` on the COMMAND monitor;
     * a VM that stops again at once on the same I/O error is PVM_E_STATE saying so. */
    int (*resume)(void *ctx, const pvm_vm *vm, const pvm_vm_files *files, pvm_error *err);

    /* Forgets the runtime leftovers (sockets, pid file) of a VM that does not run. */
    void (*cleanup)(void *ctx, const pvm_vm *vm, const pvm_vm_files *files);

    /* One of the VM's runtime files (kind: PVM_VM_PATH_SERIAL_SOCK, _QMP_SOCK, _QGA_SOCK,
     * _PIDFILE) into out (size bytes), for the sampler's own connections; -1 when the
     * path does not fit or the kind is not one of those. */
    int (*runtime_path)(void *ctx, const pvm_vm *vm, pvm_vm_path_kind kind, char *out,
                        size_t size, pvm_error *err);
    /* A connected stream to the running VM's serial console; the caller closes *fd. */
    int (*console_open)(void *ctx, const pvm_vm *vm, int *fd, pvm_error *err);

    /* Waits up to timeout_ms for the guest agent to answer a ping (vm as started). */
    int (*agent_wait)(void *ctx, const pvm_vm *vm, int timeout_ms,
                      const pvm_progress *progress, pvm_error *err);

    /* Snapshots (see pvm_hv_snap_op): vm as probed (state, pid). */
    int (*snapshot)(void *ctx, const pvm_vm *vm, const pvm_vm_files *files,
                    const pvm_hv_snap_req *req, pvm_error *err);
    /* The snapshots the VM's disk image holds now (whatever their number), in the image's
     * order: *out malloc'd (free()), *n its length. */
    int (*snapshot_list)(void *ctx, const pvm_vm *vm, const pvm_vm_files *files,
                         pvm_hv_snap **out, size_t *n, pvm_error *err);
    /* on: from now on probe, snapshot and snapshot_list share one connection to a VM's
     * COMMAND monitor, made at the first of them that needs it and kept open between
     * them (a snapshot command asks QEMU three times: one connection instead of three);
     * off: closes it. The caller holds the VM's lock and turns it off before any other
     * op that talks to that monitor (start, shutdown...), which would otherwise wait in
     * the monitor's listen queue. NULL: every call connects on its own. */
    void (*hold)(void *ctx, bool on);

    /* Work inside the guest (exec, copies, installs, audit) is engine/agent.c over the
     * guest agent socket that runtime_path names (PVM_VM_PATH_QGA_SOCK), under the VM's
     * agent lock; a backend without one answers runtime_path with PVM_E_STATE.
     * Reserved for the next issues; NULL in every backend for now (callers check):
     * sample: one resource sample (pvm_usage) over the OWNER monitor, which the
     *         backend keeps connected in ctx between calls. */
    int (*sample)(void *ctx, const pvm_vm *vm, void *usage, pvm_error *err);

    /* Real guests (issue 12). disk_resize sets the stopped VM's disk to bytes (vm edit;
     * the caller has checked it grows, or undoes its own grow after a failed commit). */
    int (*disk_resize)(void *ctx, const pvm_vm_files *files, uint64_t bytes, pvm_error *err);
    /* Makes files->efivars a fresh copy of the firmware's UEFI variables (removes it for
     * bios); NULL in a backend with only one firmware. */
    int (*firmware_prepare)(void *ctx, const pvm_vm_files *files, pvm_firmware fw,
                            pvm_error *err);
    /* The running VM's screen as pixels (out is the caller's: pvm_image_free). */
    int (*screendump)(void *ctx, const pvm_vm *vm, pvm_image *out, pvm_error *err);
    /* Presses n chords in order, each "key-key-..." of checked QKeyCode names. */
    int (*send_keys)(void *ctx, const pvm_vm *vm, const char *const *chords, size_t n,
                     pvm_error *err);

    /* The device set a memory state depends on ("key=value ...": pvm_snapshot_devices'
     * keys and the backend's own, see pvm_qemu_devices), which snapshots record and
     * restore compares. live (vm as probed, running or paused): what the running process
     * was started with (start records it in files->dir/devices); else what a start with
     * p and cfg would give now. NULL: the engine uses pvm_snapshot_devices alone. */
    int (*devices)(void *ctx, const pvm_profile *p, const pvm_vm *vm,
                   const pvm_vm_files *files, const pvm_config *cfg, bool live, char *out,
                   size_t size, pvm_error *err);
} pvm_hv_ops;

/* What both backends keep per engine handle, and the open/close/check they share
 * (hv.c): the home folder, copied at open; check is the QEMU argv rules (the fake
 * refuses what QEMU would, so create's refusals are the real ones). */
typedef struct pvm_hv_home {
    char home[PVM_PATH_MAX];
} pvm_hv_home;
int pvm_hv_home_open(const char *home, void **ctx, pvm_error *err);
void pvm_hv_home_close(void *ctx);
int pvm_hv_argv_check(void *ctx, const pvm_profile *p, const pvm_vm *vm, pvm_error *err);
/* Replaces files->dir/name with text and a newline, whole (pvm_write_file_atomic): 0, or
 * -1 with err naming the path. The VM's recorded files (devices, identity) use it. */
int pvm_vm_file_write_line(const pvm_vm_files *files, const char *name, const char *text,
                           pvm_error *err);
/* The device set of a boot (hv op devices), kept in files->dir/devices: record writes it
 * (at start, by rename), recorded reads it: 0, or -1 when there is none (a VM started by
 * an older privarion-vm). */
int pvm_hv_devices_record(const pvm_vm_files *files, const char *text, pvm_error *err);
int pvm_hv_devices_recorded(const pvm_vm_files *files, char *out, size_t size);

extern const pvm_hv_ops pvm_hv_qemu; /* qemu/backend.c */
extern const pvm_hv_ops pvm_hv_fake; /* fake/backend.c */

/* The backend by its config word; NULL when there is none of that name. */
const pvm_hv_ops *pvm_hv_find(const char *name);
/* Whether name is a backend word (qemu, fake) for the config's check. */
bool pvm_hv_word_ok(const char *name);

/* The engine handle's backend, as its config names it, opened on first use and
 * reopened when the config names another one (hv.c). */
int pvm_engine_hv(pvm_engine *e, const pvm_config *cfg, const pvm_hv_ops **ops, void **ctx,
                  pvm_error *err);
/* The same, loading the config first. */
int pvm_engine_hv_load(pvm_engine *e, const pvm_hv_ops **ops, void **ctx, pvm_error *err);
/* The backend for reading VMs' states only: as pvm_engine_hv_load, but a config that does
 * not load (a typo, a bad mode) still gives the default backend (qemu) with *config_err
 * saying why, so running VMs never read as stopped, and so never get stopped, cleared or
 * deleted as stopped ones, because of a config error; everything that changes a VM loads
 * the config itself and refuses. -1 only when no backend opens. */
int pvm_engine_hv_probe(pvm_engine *e, const pvm_hv_ops **ops, void **ctx, pvm_error *config_err,
                        pvm_error *err);

#endif
