/* engine.c - the engine handle (home folder + open store) and the profile operations:
 * create, import (all or nothing), get, list, update, delete, randomize_unique.
 * Called by the CLI and the TUI; every write runs in one store transaction. */
#include "internal.h"
#include "hv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <strings.h>

#define RANDOMIZE_TRIES 100

/* ------------------------------------------------------------------ engine */

int pvm_engine_open(pvm_engine **out, const char *home_flag, pvm_error *err)
{
    pvm_engine *e = pvm_xcalloc(1, sizeof *e);
    char db_path[PVM_PATH_MAX];

    *out = NULL;
    pvm_json_init();
    e->console_lock_fd = -1;
    if (pvm_home_resolve(home_flag, e->home, sizeof e->home, err) < 0)
        goto fail;
    if ((size_t)snprintf(db_path, sizeof db_path, "%s/state.db", e->home) >= sizeof db_path) {
        pvm_error_set(err, PVM_E_INVALID, "home: %s is too long a path", e->home);
        goto fail;
    }
    if (pvm_store_open(db_path, &e->store, err) < 0)
        goto fail;
    *out = e;
    return 0;
fail:
    free(e);
    return -1;
}

void pvm_engine_set_allow_vm_marks(pvm_engine *e, bool allow)
{
    e->allow_vm_marks = allow;
}

void pvm_engine_set_trace(pvm_engine *e, const pvm_progress *trace)
{
    e->trace = trace;
}

void pvm_engine_step(pvm_engine *e, const char *step)
{
    if (e->trace && e->trace->report)
        e->trace->report(e->trace->ctx, step, -1);
}

void pvm_engine_close(pvm_engine *e)
{
    if (!e)
        return;
    if (e->console_lock_fd >= 0)
        close(e->console_lock_fd);
    if (e->hv && e->hv->close)
        e->hv->close(e->hv_ctx);
    pvm_store_close(e->store);
    free(e);
}

const char *pvm_engine_home(const pvm_engine *e)
{
    return e->home;
}

/* ------------------------------------------------------ checks and writes */

/* " earlier in this import" when `name` belongs to batch[0..upto), else "".
 * An import stores its profiles one by one inside one transaction, so the
 * store's checks see the earlier ones; this only makes the message clear. */
static const char *batch_where(const pvm_profile *batch, size_t upto, const char *name)
{
    for (size_t i = 0; batch && i < upto; i++)
        if (strcmp(batch[i].name, name) == 0)
            return " earlier in this import";
    return "";
}

/* Refuses a name held by another profile: on update (self_id set) the row
 * being updated does not count. get() also matches ids, so only a row whose
 * name is exactly ours counts. */
static int name_check(pvm_store *s, const pvm_profile *p, const char *self_id,
                      const pvm_profile *batch, size_t upto, pvm_error *err)
{
    pvm_profile other;
    pvm_error e2 = {0};
    if (pvm_db_profile_get(s, p->name, &other, &e2) < 0) {
        if (e2.code == PVM_E_NOTFOUND)
            return 0;
        if (err)
            *err = e2;
        return -1;
    }
    if (strcmp(other.name, p->name) != 0 || (self_id && strcmp(other.id, self_id) == 0))
        return 0;
    return pvm_error_set_field(err, PVM_E_EXISTS, "name",
                               "name: a profile named '%s' already exists%s", p->name,
                               batch_where(batch, upto, p->name));
}

/* Refuses a serial, system UUID or MAC another profile uses. */
static int clash_check(pvm_store *s, const pvm_profile *p, const pvm_profile_opts *opts,
                       const pvm_profile *batch, size_t upto, pvm_error *err)
{
    bool found = false;
    char field[32] = "", other[PVM_NAME_MAX + 1] = "";

    if (opts && opts->allow_duplicate)
        return 0;
    if (pvm_db_profile_find_clash(s, p, &found, field, other, err) < 0)
        return -1;
    if (!found)
        return 0;
    const pvm_field *f = pvm_profile_field_by_key(field);
    const char *value = f ? pvm_profile_field_cptr(p, f) : "";
    return pvm_error_set_field(err, PVM_E_EXISTS, field,
                               "%s: %s is already used by profile '%s'%s (use --allow-duplicate "
                               "to accept)",
                               field, value, other, batch_where(batch, upto, other));
}

/* The checks, the insert and the event of one new profile, inside the
 * caller's transaction; batch[0..upto) are stored earlier in it (or NULL). */
static int insert_one(pvm_store *s, const pvm_profile *p, const pvm_profile_opts *opts,
                      const char *event, const pvm_profile *batch, size_t upto, pvm_error *err)
{
    int rc = name_check(s, p, NULL, batch, upto, err);
    if (rc == 0)
        rc = clash_check(s, p, opts, batch, upto, err);
    if (rc == 0)
        rc = pvm_db_profile_insert(s, p, err);
    if (rc == 0)
        rc = pvm_db_event_add(s, p->id, event, p->name, err);
    return rc;
}

/* One profile of create or import, in its own transaction. */
static int profile_insert(pvm_engine *e, const pvm_profile *p, const pvm_profile_opts *opts,
                          const char *event, pvm_error *err)
{
    if (pvm_store_begin(e->store, err) < 0)
        return -1;
    return pvm_store_end(e->store, insert_one(e->store, p, opts, event, NULL, 0, err), err);
}

/* ---------------------------------------------------------------- profiles */

int pvm_profile_create(pvm_engine *e, pvm_profile *p, const pvm_profile_opts *opts,
                       pvm_error *err)
{
    pvm_profile q = *p;
    if (!q.id[0])
        pvm_uuid_v4(q.id);
    q.created_at = q.updated_at = pvm_now();
    if (pvm_profile_validate(&q, err) < 0)
        return -1;
    if (profile_insert(e, &q, opts, "profile.create", err) < 0)
        return -1;
    *p = q;
    return 0;
}

/* Gives an id-less profile a new id and missing timestamps, then validates. */
static int import_prepare(pvm_profile *p, int64_t now, pvm_error *err)
{
    if (!p->id[0])
        pvm_uuid_v4(p->id);
    if (p->created_at == 0)
        p->created_at = now;
    if (p->updated_at == 0)
        p->updated_at = p->created_at;
    return pvm_profile_validate(p, err);
}

/* Runs step on each of q[0..n); an error of a batch names the index. */
static int import_each(pvm_store *s, pvm_profile *q, size_t n, const pvm_profile_opts *opts,
                       bool store, pvm_error *err)
{
    int64_t now = pvm_now();
    for (size_t i = 0; i < n; i++) {
        int rc = store ? insert_one(s, &q[i], opts, "profile.import", q, i, err)
                       : import_prepare(&q[i], now, err);
        if (rc < 0) {
            if (n > 1)
                pvm_error_prefix_index(err, i, false);
            return -1;
        }
    }
    return 0;
}

int pvm_profile_import_many(pvm_engine *e, pvm_profile *p, size_t n,
                            const pvm_profile_opts *opts, pvm_error *err)
{
    if (n == 0)
        return pvm_error_set(err, PVM_E_INVALID, "import: no profiles to store");
    pvm_profile *q = pvm_xcalloc(n, sizeof *q);
    memcpy(q, p, n * sizeof *q);
    /* Validate all before the write lock is taken, then store all or none. */
    int rc = import_each(e->store, q, n, opts, false, err);
    if (rc == 0)
        rc = pvm_store_begin(e->store, err);
    if (rc == 0)
        rc = pvm_store_end(e->store, import_each(e->store, q, n, opts, true, err), err);
    if (rc == 0)
        memcpy(p, q, n * sizeof *q);
    free(q);
    return rc;
}

int pvm_profile_get(pvm_engine *e, const char *name_or_id, pvm_profile *out, pvm_error *err)
{
    return pvm_db_profile_get(e->store, name_or_id, out, err);
}

int pvm_profile_list(pvm_engine *e, pvm_profile **out, size_t *count, pvm_error *err)
{
    return pvm_db_profile_list(e->store, out, count, err);
}

int pvm_profile_list_brief(pvm_engine *e, pvm_profile_brief **out, size_t *count,
                           pvm_error *err)
{
    return pvm_db_profile_list_brief(e->store, out, count, err);
}

int pvm_profile_get_id(pvm_engine *e, const char *id, pvm_profile *out, pvm_error *err)
{
    return pvm_db_profile_get_id(e->store, id, out, err);
}

/* q with the serial, UUID and MAC it shares with old blanked: an edit is only
 * checked for clashes in the identity values it changes, so a duplicate accepted
 * earlier with --allow-duplicate does not block unrelated edits. */
static pvm_profile changed_identity(const pvm_profile *q, const pvm_profile *old)
{
    pvm_profile c = *q;
    if (strcmp(c.serial, old->serial) == 0)
        c.serial[0] = '\0';
    if (strcasecmp(c.machine_id, old->machine_id) == 0)
        c.machine_id[0] = '\0';
    if (strcasecmp(c.mac, old->mac) == 0)
        c.mac[0] = '\0';
    return c;
}

int pvm_profile_update(pvm_engine *e, pvm_profile *p, const pvm_profile_opts *opts,
                       pvm_error *err)
{
    pvm_store *s = e->store;
    pvm_profile q = *p, old;

    if (!q.id[0])
        return pvm_error_set_field(err, PVM_E_INVALID, "id", "id: must not be empty on update");
    if (pvm_store_begin(s, err) < 0)
        return -1;
    int rc = pvm_db_profile_get(s, q.id, &old, err);
    if (rc == 0 && strcmp(old.id, q.id) != 0)
        rc = pvm_error_set(err, PVM_E_NOTFOUND, "profile: no profile with id '%s'", q.id);
    if (rc == 0) /* a stored name kept as is passes under the rules it was stored with */
        rc = strncmp(q.name, old.name, sizeof q.name) == 0 ? pvm_profile_validate_stored(&q, err)
                                                            : pvm_profile_validate(&q, err);
    if (rc == 0) {
        q.created_at = old.created_at;
        q.updated_at = pvm_now();
        rc = name_check(s, &q, q.id, NULL, 0, err);
    }
    if (rc == 0) {
        pvm_profile changed = changed_identity(&q, &old);
        rc = clash_check(s, &changed, opts, NULL, 0, err);
    }
    if (rc == 0)
        rc = pvm_db_profile_update(s, &q, err);
    if (rc == 0)
        rc = pvm_db_event_add(s, q.id, "profile.update", q.name, err);
    if (pvm_store_end(s, rc, err) < 0)
        return -1;
    *p = q;
    return 0;
}

/* "a, b, c" of the VMs using profile_id, cut to fit size. */
static void vm_names(pvm_store *s, const char *profile_id, char *buf, size_t size)
{
    pvm_vm *vms = NULL;
    size_t n = 0, used = 0;
    pvm_error ignored = {0};

    buf[0] = '\0';
    if (pvm_db_vm_list(s, &vms, &n, &ignored) < 0)
        return;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(vms[i].profile_id, profile_id) != 0)
            continue;
        int w = snprintf(buf + used, size - used, "%s%s", used ? ", " : "", vms[i].name);
        if (w < 0 || (size_t)w >= size - used) {
            buf[used] = '\0';
            break;
        }
        used += (size_t)w;
    }
    free(vms);
}

/* PVM_E_STATE while VMs use the profile. */
static int delete_check(pvm_store *s, const pvm_profile *p, pvm_error *err)
{
    int count = 0;
    char names[256];

    if (pvm_db_profile_vm_count(s, p->id, &count, err) < 0)
        return -1;
    if (count == 0)
        return 0;
    vm_names(s, p->id, names, sizeof names);
    return pvm_error_set(err, PVM_E_STATE, "profile '%s' is used by %d VM%s (%s); delete %s first",
                         p->name, count, count == 1 ? "" : "s", names,
                         count == 1 ? "it" : "them");
}

int pvm_profile_delete(pvm_engine *e, const char *name_or_id, pvm_error *err)
{
    pvm_store *s = e->store;
    pvm_profile p;

    if (pvm_store_begin(s, err) < 0)
        return -1;
    int rc = pvm_db_profile_get(s, name_or_id, &p, err);
    if (rc == 0)
        rc = delete_check(s, &p, err);
    if (rc == 0)
        rc = pvm_db_profile_delete(s, p.id, err);
    if (rc == 0)
        rc = pvm_db_event_add(s, p.id, "profile.delete", p.name, err);
    return pvm_store_end(s, rc, err);
}

int pvm_profile_randomize_unique(pvm_engine *e, pvm_profile *p, const pvm_preset *preset,
                                 pvm_error *err)
{
    if (!preset && !p->preset[0] && !p->hw.cpu_model[0]) {
        /* no model yet: a whole machine needs one (vm create refuses a profile without a
         * CPU brand), so a random preset's model comes with the random identity */
        size_t n = 0;
        const pvm_preset *all = pvm_presets(&n);
        if (n) {
            preset = &all[pvm_random_below((uint32_t)n)];
            pvm_preset_apply(preset, p);
        }
    }
    pvm_profile q = *p;
    for (int i = 0; i < RANDOMIZE_TRIES; i++) {
        bool found = false;
        char field[32], other[PVM_NAME_MAX + 1];
        pvm_identity_randomize(&q, preset);
        if (pvm_db_profile_find_clash(e->store, &q, &found, field, other, err) < 0)
            return -1;
        if (!found) {
            *p = q;
            return 0;
        }
    }
    return pvm_error_set(err, PVM_E_EXISTS,
                         "identity: no unused serial, UUID and MAC found after %d tries",
                         RANDOMIZE_TRIES);
}
