/* store.h - the SQLite store: open, pragmas, migrations, and the prepared
 * statements for each table. Only db/ runs SQL; the engine calls these.
 * Every function returns 0 or -1 and fills the pvm_error given last. */
#ifndef PVM_STORE_H
#define PVM_STORE_H

#include "../engine/pvm.h"

typedef struct pvm_store pvm_store;

/* The schema version this build writes (PRAGMA user_version). */
int pvm_store_latest_version(void);

/* Opens path (created 0600 when missing), refuses a newer schema without
 * touching the file, then sets WAL, foreign_keys=ON, busy_timeout >= 5000 ms
 * and applies each pending migration inside its own transaction. */
int pvm_store_open(const char *path, pvm_store **out, pvm_error *err);
/* As pvm_store_open, but migrates only up to `version` (tests of upgrades). */
int pvm_store_open_at(const char *path, int version, pvm_store **out, pvm_error *err);
void pvm_store_close(pvm_store *s);
int pvm_store_version(pvm_store *s, int *version, pvm_error *err);
/* PRAGMA data_version: a number that changes whenever another connection (another
 * session, the TUI's engine thread) commits to the file; this connection's own
 * commits leave it as is. A cheap "did anything change?" for front ends. */
int pvm_store_data_version(pvm_store *s, int64_t *out, pvm_error *err);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK: read-check-write sequences (uniqueness
 * checks) run inside one of these so two sessions cannot interleave. */
int pvm_store_begin(pvm_store *s, pvm_error *err);
int pvm_store_commit(pvm_store *s, pvm_error *err);
void pvm_store_rollback(pvm_store *s);
/* Ends the transaction: commits when rc is 0, else (or when the commit fails)
 * rolls back. Returns 0 when committed, else -1 (err holds the first failure). */
int pvm_store_end(pvm_store *s, int rc, pvm_error *err);

/* ---- profiles (db/profiles.c) */
int pvm_db_profile_insert(pvm_store *s, const pvm_profile *p, pvm_error *err);
int pvm_db_profile_update(pvm_store *s, const pvm_profile *p, pvm_error *err);
/* By exact name first, then by exact id. PVM_E_NOTFOUND when neither. */
int pvm_db_profile_get(pvm_store *s, const char *name_or_id, pvm_profile *out, pvm_error *err);
int pvm_db_profile_list(pvm_store *s, pvm_profile **out, size_t *count, pvm_error *err);
/* Every profile's id, name, manufacturer and product, in pvm_db_profile_list's order. */
int pvm_db_profile_list_brief(pvm_store *s, pvm_profile_brief **out, size_t *count,
                              pvm_error *err);
/* One profile by its id only. */
int pvm_db_profile_get_id(pvm_store *s, const char *id, pvm_profile *out, pvm_error *err);
int pvm_db_profile_delete(pvm_store *s, const char *id, pvm_error *err);
/* Looks for another profile (id != p->id) with the same serial, machine_id or
 * mac (case-insensitive for mac and uuid). *found is set to true and `field`
 * (JSON key: serialNumber, machineIdentifier, macAddress) and `other_name`
 * are filled when one exists. Empty values never clash. */
int pvm_db_profile_find_clash(pvm_store *s, const pvm_profile *p, bool *found,
                              char field[32], char other_name[PVM_NAME_MAX + 1],
                              pvm_error *err);
/* How many VMs use the profile (deletion is refused while > 0). */
int pvm_db_profile_vm_count(pvm_store *s, const char *profile_id, int *count, pvm_error *err);

/* ---- VMs (db/vms.c) */
int pvm_db_vm_insert(pvm_store *s, const pvm_vm *vm, pvm_error *err);
/* Rewrites the row with vm->id; PVM_E_NOTFOUND when there is none. */
int pvm_db_vm_update(pvm_store *s, const pvm_vm *vm, pvm_error *err);
int pvm_db_vm_get(pvm_store *s, const char *name_or_id, pvm_vm *out, pvm_error *err);
int pvm_db_vm_list(pvm_store *s, pvm_vm **out, size_t *count, pvm_error *err);
/* Every VM's id, name, profile_id, cpus and memory_bytes, in pvm_db_vm_list's order; the
 * state fields are left zero. */
int pvm_db_vm_list_brief(pvm_store *s, pvm_vm_brief **out, size_t *count, pvm_error *err);
/* One VM by its id only; PVM_E_NOTFOUND when none has it. */
int pvm_db_vm_get_id(pvm_store *s, const char *id, pvm_vm *out, pvm_error *err);
int pvm_db_vm_delete(pvm_store *s, const char *id, pvm_error *err);

/* ---- snapshots (db/snapshots.c): rows of pvm_snapshot, unique per (vm_id, tag). */
int pvm_db_snapshot_insert(pvm_store *s, const pvm_snapshot *snap, pvm_error *err);
/* The VM's rows, oldest first (created_at, then tag); *out malloc'd (free()). */
/* The same rows with tag, created_at, memory and adopted only (a front end's list). */
int pvm_db_snapshot_briefs(pvm_store *s, const char *vm_id, pvm_snapshot_brief **out,
                           size_t *count, pvm_error *err);
int pvm_db_snapshot_list(pvm_store *s, const char *vm_id, pvm_snapshot **out, size_t *count,
                         pvm_error *err);
/* Updates the figures the image holds (vmstate_bytes, vm_clock_ns) of row id. */
int pvm_db_snapshot_figures(pvm_store *s, const char *id, uint64_t vmstate_bytes,
                            uint64_t vm_clock_ns, pvm_error *err);
int pvm_db_snapshot_delete(pvm_store *s, const char *id, pvm_error *err);

/* ---- installs (db/installs.c): complete, successful installs only. */
int pvm_db_install_insert(pvm_store *s, const pvm_install *in, pvm_error *err);
/* The VM's rows, oldest first: *out malloc'd (free()). */
int pvm_db_install_list(pvm_store *s, const char *vm_id, pvm_install **out, size_t *count,
                        pvm_error *err);

/* ---- event log (db/events.c): an append-only audit trail. */
int pvm_db_event_add(pvm_store *s, const char *object_id, const char *kind,
                     const char *detail, pvm_error *err);

#endif
