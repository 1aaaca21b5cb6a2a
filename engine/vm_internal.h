/* vm_internal.h - what the VM files of the engine share: the per-VM file
 * layout (vm.c), process and runtime-folder helpers (proc.c) and the per-VM
 * operation lock (lock.c). Included only by engine/vm*.c, proc.c, lock.c, guest.c. */
#ifndef PVM_VM_INTERNAL_H
#define PVM_VM_INTERNAL_H

#include "pvm.h"
#include "proc.h"
#include "qemu/qemu.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The files of one VM in its folder. Names never become paths: only the id does.
 * The runtime files (sockets, pid file) belong to the backend (qemu/backend.c). */
typedef struct pvm_vm_files {
    char dir[PVM_PATH_MAX];        /* HOME/vms/<id> */
    char disk[PVM_PATH_MAX];       /* disk.qcow2 */
    char serial_log[PVM_PATH_MAX]; /* serial.log: the console, from this boot */
    char qemu_log[PVM_PATH_MAX];   /* qemu.log: the backend's own log of this boot */
    char smbios[PVM_PATH_MAX];     /* smbios-type0.bin */
    char lock[PVM_PATH_MAX];       /* lock: flock'd by start/stop/delete */
    char marker[PVM_PATH_MAX];     /* running: intent marker, holds the pid */
    char efivars[PVM_PATH_MAX];    /* efivars.fd: the VM's UEFI variables (--firmware uefi*) */
    char tpm_dir[PVM_PATH_MAX];    /* tpm/: swtpm's state (--tpm) */
} pvm_vm_files;

/* This home's token (home.c): 12 hex, random, kept in HOME/home-id and bound to
 * the folder's device and inode, so a copied data folder gets its own. Part of
 * every runtime folder's name: two homes never share one, even with equal ids. */
int pvm_home_token(const char *home, char *out, size_t size, pvm_error *err);

/* Fills f for the VM with this id under home; -1 when a path would not fit. */
int pvm_vm_files_init(const char *home, const char *id, pvm_vm_files *f, pvm_error *err);

/* ------------------------------------------------------------- proc.c */

/* Creates (0700) or checks path: a real directory (lstat, not a symlink),
 * owned by us, no group/other access. */
int pvm_proc_private_dir(const char *path, pvm_error *err);
/* Base of the runtime folders: /tmp/pvm-<uid> (not $XDG_RUNTIME_DIR, which
 * logind removes at logout while QEMU must outlive the session). */
void pvm_proc_runtime_base(char *out, size_t size);
/* Reads a decimal pid from a file; 0 when missing or malformed. */
int pvm_proc_pid_read(const char *path);
/* Writes the pid as text (0 allowed: "starting"), 0600, atomically. */
int pvm_proc_pid_write(const char *path, int pid, pvm_error *err);
/* True when pid exists and is not a zombie. */
bool pvm_proc_alive(int pid);
/* Field 22 of /proc/PID/stat: when pid started, in clock ticks after boot (with the pid, it
 * names one process across pid reuse); -1 when pid is gone (proc.c). */
int pvm_proc_start_ticks(int pid, unsigned long long *ticks);
/* proc.c: the first size-1 bytes of /proc/PID/NAME into buf, NUL-terminated (NUL bytes
 * inside, as cmdline has, are kept); the bytes read, -1 when it cannot be opened. */
long pvm_proc_read(int pid, const char *name, char *buf, size_t size);
/* True when one of the process's arguments contains needle. */
bool pvm_proc_cmdline_has(int pid, const char *needle);
/* The last non-empty line of a text file (or "" when none), trimmed. */
void pvm_proc_last_line(const char *path, char *out, size_t size);
/* The last max bytes of a file, NUL-terminated and malloc'd; NULL when unreadable. */
char *pvm_proc_read_end(const char *path, size_t max);
/* The last non-empty lines of a file (at most `lines`, clamped to 0..16; at most size-1
 * bytes), trimmed and joined by "; "; "" when lines < 1 or the file is unreadable. */
void pvm_proc_tail(const char *path, int lines, char *out, size_t size);
/* Removes dir and everything in it (symlinks are removed, never followed). */
int pvm_proc_remove_tree(const char *dir, pvm_error *err);

/* ------------------------------------------------------------- lock.c */

/* Takes the per-VM operation lock (flock LOCK_EX|LOCK_NB, close-on-exec so
 * QEMU never inherits it). Busy -> PVM_E_BUSY naming the VM. */
int pvm_vm_lock(const pvm_vm_files *f, const char *vm_name, int *fd, pvm_error *err);
void pvm_vm_unlock(int fd);
/* The host-wide start lock (HOME/start.lock): held from the caps check
 * until QMP answers, so two starts of different VMs cannot both pass the caps.
 * Waits up to wait_ms, then PVM_E_BUSY; progress (may be NULL) may cancel the wait
 * (PVM_E_CANCELLED). */
int pvm_start_lock(const char *home, int wait_ms, const pvm_progress *progress, int *fd,
                   pvm_error *err);
/* True when some process holds the VM's lock now (read from /proc/locks,
 * without taking it). */
bool pvm_vm_lock_busy(const pvm_vm_files *f);

/* --------------------------------------------------------------- vm_ops.c */

/* Starts the VM as pvm_vm_start_noted does, for a caller that holds its lock already (a
 * snapshot restore); paused: QEMU's vCPUs stay stopped (vm->state PAUSED). */
int pvm_vm_start_held(pvm_engine *e, pvm_vm *vm, const pvm_vm_files *f, bool paused,
                      const pvm_progress *progress, char *note, size_t note_size,
                      pvm_error *err);

/* --------------------------------------------------------------- vm.c */

/* The stored VM by name or id, state not probed; PVM_E_NOTFOUND names it. */
int pvm_vm_row(pvm_engine *e, const char *name_or_id, pvm_vm *out, pvm_error *err);

/* Fills vm->state, pid and state_reason through the backend (hv.h) and the intent marker. */
void pvm_vm_probe(pvm_engine *e, pvm_vm *vm);
/* A live VM's state from its hypervisor's run status (QMP query-status names:
 * "running", "paused", "io-error", ...; every backend speaks them): RUNNING for
 * "running", else PAUSED with the reason and its fix; "io-error" says the disk is full
 * (certainly when io_status, query-block's "io-status", is "nospace"; may be NULL) and
 * names the VM's folder f->dir and `vm resume`. */
void pvm_vm_state_from_status(pvm_vm *vm, const pvm_vm_files *f, const char *status,
                              const char *io_status);
/* The intent marker's pid: -1 without a marker, 0 while a start runs, else the pid. */
int pvm_vm_intent(const pvm_vm_files *f);
/* Removes the intent marker and the backend's runtime leftovers: the VM does not run. */
void pvm_vm_forget(pvm_engine *e, const pvm_vm *vm, const pvm_vm_files *f);
/* Writes the kernel's boot id to VMDIR/boot-id at start (vm_ops.c) ... */
void pvm_vm_boot_id_record(const pvm_vm_files *f);
/* Records in VMDIR/identity the identity a start gives (p's identity fields, as
 * pvm_snapshot_identity_json writes them; _json: that JSON text) for the QEMU run pid (its
 * pid and /proc start time are stored with it; 0: a backend that runs no process; -1 or a
 * process gone: a record no run matches, which pvm_vm_identity ignores) - vm_identity.c; read by pvm_vm_identity. */
int pvm_vm_identity_record(const pvm_vm_files *f, const pvm_profile *p, int pid,
                           pvm_error *err);
int pvm_vm_identity_record_json(const pvm_vm_files *f, const char *profile_id,
                                const char *identity, int pid, pvm_error *err);
/* After a memory restore into vm (probed, running): records the snapshot's identity (JSON
 * text: what the guest's RAM holds - SMBIOS tables, MAC, CPU) for vm->pid; the disk serial,
 * which QEMU answers live from its command line, and fields an older snapshot lacks keep
 * what vm wore.
 * -1: a store error, or a value the field's rules refuse (PVM_E_INVALID). */
int pvm_vm_identity_record_loaded(pvm_engine *e, const pvm_vm *vm, const pvm_vm_files *f,
                                  const char *identity, pvm_error *err);
/* ... and whether it differs now: the host restarted under a VM that ran (a backend's
 * probe shows it stopped, reason "host restarted"). */
bool pvm_vm_host_restarted(const pvm_vm_files *f);

/* ---------------------------------------------------------- vm_fields.c
 * One check-and-set per VM setting, shared by vm create and vm edit: each checks the
 * value, names the field in err (pvm_error_set_field) and sets it in vm, or leaves vm
 * unchanged and returns -1. */
int pvm_vm_field_cpus(pvm_vm *vm, int cpus, pvm_error *err);          /* 1..255 */
int pvm_vm_field_memory(pvm_vm *vm, uint64_t bytes, pvm_error *err);  /* pvm_memory_check */
int pvm_vm_field_disk(pvm_vm *vm, uint64_t bytes, pvm_error *err);    /* pvm_disk_check */
int pvm_vm_field_nic(pvm_vm *vm, pvm_nic_model nic, pvm_error *err);  /* not with --net none */
/* An existing readable ISO 9660 or UDF image (its volume descriptor checked), stored as
 * its absolute real path; NULL, "" or "none" detaches the ISO. */
int pvm_vm_field_iso(pvm_vm *vm, const char *path, pvm_error *err);
/* The --kernel file: readable, and a Linux bzImage or ELF (none: no kernel). */
int pvm_vm_field_kernel(pvm_vm *vm, const char *path, pvm_error *err);
/* The profile by name or id (err->field "profile" when there is none), refused when it
 * carries a VM mark the engine's policy does not allow; fills *p and vm->profile_id. */
int pvm_vm_field_profile(pvm_engine *e, pvm_vm *vm, const char *name_or_id, pvm_profile *p,
                         pvm_error *err);
int pvm_vm_field_display(pvm_vm *vm, pvm_display display, pvm_error *err);
int pvm_vm_field_video(pvm_vm *vm, pvm_video video, pvm_error *err);
int pvm_vm_field_firmware(pvm_vm *vm, pvm_firmware fw, pvm_error *err);
/* user, none, or bridge with a bridge name ([A-Za-z0-9_.-], 1-15). */
int pvm_vm_field_net(pvm_vm *vm, pvm_net_mode net, const char *bridge, pvm_error *err);
/* Port forwards, "[tcp|udp:][ADDR:]HOSTPORT:GUESTPORT" joined by ',' ("" or "none":
 * none), stored canonical (pvm_forwards_parse in pvm.h). */
int pvm_vm_field_forwards(pvm_vm *vm, const char *spec, pvm_error *err);
/* Makes (or for bios removes) the VM's UEFI variables store through the backend
 * (vm.c; create and edit). */
int pvm_vm_firmware_prepare(pvm_engine *e, const pvm_vm_files *f, pvm_firmware fw,
                            pvm_error *err);
/* The checks across settings, once each field is set (create and edit both call it):
 * --net none has no NIC model but the default virtio; a --video given (video_given)
 * needs a display; forwards need user networking. */
int pvm_vm_fields_agree(const pvm_vm *vm, bool video_given, pvm_error *err);
/* Makes a user path absolute (realpath) into out and checks it names a readable regular
 * file; in NULL or "" gives "". Errors name `what`. */
int pvm_vm_input_file(const char *what, const char *in, char *out, size_t size,
                      pvm_error *err);

#endif
