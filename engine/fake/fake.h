/* fake/fake.h - the controls of the fake backend (fake/backend.c) for unit tests: what
 * the next operations of a kind do, and a VM's simulated state. Only tests/unit include
 * this; the engine reaches the fake through hv.h when the config says backend = fake. */
#ifndef PVM_FAKE_H
#define PVM_FAKE_H

#include "pvm.h"

/* How every later `op` ("start", "shutdown", "disk_create") of the fake on home behaves:
 * "fail MESSAGE" fails it with PVM_E_QEMU and MESSAGE; "hang" makes it wait (cancellable)
 * until its timeout (for shutdown: the guest ignores the power button); NULL restores
 * the normal behaviour. Kept in HOME/fake.<op>, so every engine handle sees it. */
int pvm_fake_behave(const char *home, const char *op, const char *how, pvm_error *err);

/* Sets the simulated VM's state as its hypervisor would see it: "running", "paused",
 * "off" (the guest powered itself off), "crashed" (reason says why), or NULL (no VM).
 * Kept in HOME/vms/<id>/fake.state. */
int pvm_fake_set_state(const char *home, const char *vm_id, const char *state,
                       const char *reason, pvm_error *err);

/* Drops (add false) or adds (add true: with a memory state) the snapshot tag of the
 * VM's fake image behind the engine's back (HOME/vms/<id>/fake.snaps), as qemu-img
 * snapshot would. Ops "snapshot_save", "snapshot_load", "snapshot_delete",
 * "snapshot_list" take pvm_fake_behave's "fail MESSAGE". */
int pvm_fake_snapshot_edit(const char *home, const char *vm_id, const char *tag, bool add,
                           pvm_error *err);

#endif
