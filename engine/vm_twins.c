/* vm_twins.c - VMs wearing the same profile: two running at once show one UUID,
 * MAC and set of serials on one network. Called by the CLI's `vm start` (and the
 * TUI) before a start, to warn or, with --strict, refuse; and by profile edit (CLI and
 * TUI form), which warns that a running VM wears the profile until its next start. */
#include "pvm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int pvm_vm_running_twin(pvm_engine *e, const char *name_or_id, char *twin, size_t size,
                        pvm_error *err)
{
    pvm_vm me, *all = NULL;
    size_t n = 0;
    twin[0] = '\0';
    if (pvm_vm_get(e, name_or_id, &me, err) < 0 || pvm_vm_list(e, &all, &n, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const pvm_vm *o = &all[i];
        if (strcmp(o->id, me.id) != 0 && strcmp(o->profile_id, me.profile_id) == 0 &&
            (o->state == PVM_VM_RUNNING || o->state == PVM_VM_PAUSED)) {
            pvm_strlcpy(twin, o->name, size);
            break;
        }
    }
    free(all);
    return 0;
}

int pvm_profile_running_vms(pvm_engine *e, const char *profile_id, char *names, size_t size,
                            pvm_error *err)
{
    pvm_vm *all = NULL;
    size_t n = 0, used = 0;
    int count = 0;
    if (size)
        names[0] = '\0';
    if (pvm_vm_list(e, &all, &n, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const pvm_vm *o = &all[i];
        if (strcmp(o->profile_id, profile_id) != 0 ||
            (o->state != PVM_VM_RUNNING && o->state != PVM_VM_PAUSED))
            continue;
        count++;
        if (used < size) {
            int w = snprintf(names + used, size - used, "%s'%s'", used ? ", " : "", o->name);
            used = w < 0 ? size : used + (size_t)w;
        }
    }
    free(all);
    return count;
}
