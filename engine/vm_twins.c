/* vm_twins.c - VMs showing one identity: two running at once with the same UUID, MAC or
 * serials (what each wears: a running VM the identity of its start), and where that shows
 * twice by their network modes (one LAN only on one bridge). Called by the CLI's `vm start`
 * (and the TUI) before a start, to warn or, with --strict, refuse; and by profile edit (CLI
 * and TUI form), which warns that a running VM wears the profile until its next start. */
#include "pvm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The values that make one machine: two VMs showing one of them are twins. */
static const struct {
    const char *key, *words;
} pvm_twin_keys[] = {
    {"machineIdentifier", "UUID"},     {"macAddress", "MAC"},
    {"serialNumber", "serial number"}, {"boardSerial", "board serial"},
    {"chassisSerial", "chassis serial"}, {"diskSerial", "disk serial"},
};

/* What a and b both show, in words joined by ", " into out; 0 when nothing. no_nic: one of
 * the two VMs has no network card, so neither shows its MAC to the other's world. */
static int pvm_twin_shared(const pvm_profile *a, const pvm_profile *b, bool no_nic, char *out,
                           size_t size)
{
    int n = 0;
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof pvm_twin_keys / sizeof pvm_twin_keys[0]; i++) {
        const pvm_field *f = pvm_profile_field_by_key(pvm_twin_keys[i].key);
        const char *x = pvm_profile_field_cptr(a, f), *y = pvm_profile_field_cptr(b, f);
        if (!x[0] || strcasecmp(x, y) != 0 || used >= size ||
            (no_nic && strcmp(pvm_twin_keys[i].key, "macAddress") == 0))
            continue;
        int w = snprintf(out + used, size - used, "%s%s", n ? ", " : "", pvm_twin_keys[i].words);
        used = w < 0 ? size : used + (size_t)w;
        n++;
    }
    return n;
}

int pvm_vm_running_twin(pvm_engine *e, const char *name_or_id, pvm_vm_twin *twin,
                        pvm_error *err)
{
    pvm_vm me, *all = NULL;
    pvm_profile mine, theirs, worn;
    size_t n = 0;
    memset(twin, 0, sizeof *twin);
    if (pvm_vm_get(e, name_or_id, &me, err) < 0 ||
        pvm_profile_get_id(e, me.profile_id, &mine, err) < 0 ||
        pvm_vm_list(e, &all, &n, err) < 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < n && !twin->name[0]; i++) {
        const pvm_vm *o = &all[i];
        if (strcmp(o->id, me.id) == 0 || (o->state != PVM_VM_RUNNING && o->state != PVM_VM_PAUSED))
            continue;
        if ((rc = pvm_profile_get_id(e, o->profile_id, &theirs, err)) < 0)
            break;
        pvm_vm_identity_worn(e, o, &theirs, &worn); /* what it shows: its start's identity */
        bool no_nic = me.net == PVM_NET_NONE || o->net == PVM_NET_NONE;
        if (pvm_twin_shared(&mine, &worn, no_nic, twin->shared, sizeof twin->shared)) {
            pvm_strlcpy(twin->name, o->name, sizeof twin->name);
            twin->same_profile = strcmp(o->profile_id, me.profile_id) == 0;
            twin->net = me.net; /* a running VM cannot be edited: its stored mode is its own */
            twin->twin_net = o->net;
            pvm_strlcpy(twin->bridge, me.bridge, sizeof twin->bridge);
            pvm_strlcpy(twin->twin_bridge, o->bridge, sizeof twin->twin_bridge);
        }
    }
    free(all);
    return rc;
}

/* Where the two VMs show their one identity, by their networks: one LAN only when both are
 * on one bridge; under user-mode NAT each VM has a private network of its own, so what
 * matters is the sites and services both reach; without a network nothing joins them. */
static void pvm_twin_where(const char *name, const pvm_vm_twin *t, char *out, size_t size)
{
    bool none = t->net == PVM_NET_NONE, twin_none = t->twin_net == PVM_NET_NONE;
    if (none && twin_none)
        snprintf(out, size, ", though neither has a network (only what is carried out of them "
                 "shows it)");
    else if (none || twin_none)
        snprintf(out, size, ", though no network joins them (VM '%s' has none)",
                 none ? name : t->name);
    else if (t->net == PVM_NET_BRIDGE && t->twin_net == PVM_NET_BRIDGE &&
             strcmp(t->bridge, t->twin_bridge) == 0)
        snprintf(out, size, " on one LAN (bridge %s)", t->bridge);
    else if (t->net == PVM_NET_BRIDGE && t->twin_net == PVM_NET_BRIDGE)
        snprintf(out, size, " on bridges %s and %s (one LAN if they meet)", t->bridge,
                 t->twin_bridge);
    else if (t->net == PVM_NET_USER && t->twin_net == PVM_NET_USER)
        snprintf(out, size, " to the sites and services both reach (each is on its own "
                 "user-mode NAT network: no LAN sees both)");
    else
        snprintf(out, size, " to the sites and services both reach (VM '%s' is behind "
                 "user-mode NAT: no LAN sees both)", t->net == PVM_NET_USER ? name : t->name);
}

void pvm_vm_twin_text(const char *name, const pvm_vm_twin *t, char *out, size_t size)
{
    char where[PVM_NAME_MAX + 120];
    pvm_twin_where(name, t, where, sizeof where);
    if (t->same_profile)
        snprintf(out, size, "VM '%s' wears the same profile as the running VM '%s': both would "
                 "show the same %s%s", name, t->name, t->shared, where);
    else
        snprintf(out, size, "VM '%s' would show the same %s as the running VM '%s'%s", name,
                 t->shared, t->name, where);
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
