/* snapshots.c - the snapshots table: insert, list one VM's rows, update the figures the
 * image holds, delete. Rows go with their VM (ON DELETE CASCADE). Called by
 * engine/snapshot.c, and engine/vm_info.c for the brief rows a front end lists. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#define PVM_SNAP_COLUMNS                                                                  \
    "id, vm_id, tag, created_at, memory, vmstate_bytes, vm_clock_ns, profile_id, "        \
    "identity, fingerprint, devices, adopted"

enum {
    SN_ID, SN_VM, SN_TAG, SN_CREATED, SN_MEMORY, SN_VMSTATE, SN_CLOCK, SN_PROFILE,
    SN_IDENTITY, SN_FINGERPRINT, SN_DEVICES, SN_ADOPTED, SN_COUNT
};

static const char pvm_sql_insert[] =
    "INSERT INTO snapshots (" PVM_SNAP_COLUMNS ") VALUES (:id, :vm_id, :tag, :created_at, "
    ":memory, :vmstate_bytes, :vm_clock_ns, :profile_id, :identity, :fingerprint, :devices, "
    ":adopted)";

static const char pvm_sql_list[] =
    "SELECT " PVM_SNAP_COLUMNS " FROM snapshots WHERE vm_id = :vm_id "
    "ORDER BY created_at, tag";

/* The brief rows: columns in pvm_read_brief's order, the list's order. */
static const char pvm_sql_briefs[] =
    "SELECT tag, created_at, memory, adopted FROM snapshots WHERE vm_id = :vm_id "
    "ORDER BY created_at, tag";

static const char pvm_sql_figures[] =
    "UPDATE snapshots SET vmstate_bytes = :vmstate_bytes, vm_clock_ns = :vm_clock_ns "
    "WHERE id = :id";

static const char pvm_sql_delete[] = "DELETE FROM snapshots WHERE id = :id";

static int pvm_bind_u64(sqlite3_stmt *st, const char *param, uint64_t v, pvm_error *err)
{
    if (v > (uint64_t)INT64_MAX)
        return pvm_error_set(err, PVM_E_INVALID, "%s: too large for the store", param + 1);
    return pvm_db_bind_int64(st, param, (int64_t)v, err);
}

static int pvm_bind_snapshot(sqlite3_stmt *st, const pvm_snapshot *s, pvm_error *err)
{
    if (pvm_db_bind_text(st, ":id", s->id, err) < 0 ||
        pvm_db_bind_text(st, ":vm_id", s->vm_id, err) < 0 ||
        pvm_db_bind_text(st, ":tag", s->tag, err) < 0 ||
        pvm_db_bind_int64(st, ":created_at", s->created_at, err) < 0 ||
        pvm_db_bind_int64(st, ":memory", s->memory ? 1 : 0, err) < 0 ||
        pvm_bind_u64(st, ":vmstate_bytes", s->vmstate_bytes, err) < 0 ||
        pvm_bind_u64(st, ":vm_clock_ns", s->vm_clock_ns, err) < 0 ||
        pvm_db_bind_text(st, ":profile_id", s->profile_id, err) < 0 ||
        pvm_db_bind_text(st, ":identity", s->identity, err) < 0 ||
        pvm_db_bind_text(st, ":fingerprint", s->fingerprint, err) < 0 ||
        pvm_db_bind_text(st, ":devices", s->devices, err) < 0 ||
        pvm_db_bind_int64(st, ":adopted", s->adopted ? 1 : 0, err) < 0)
        return -1;
    return 0;
}

static int pvm_read_snapshot(sqlite3_stmt *st, pvm_snapshot *s, pvm_error *err)
{
    memset(s, 0, sizeof *s);
    if (sqlite3_column_count(st) != SN_COUNT)
        return pvm_error_set(err, PVM_E_SCHEMA, "snapshots: a row has %d columns, expected %d",
                             sqlite3_column_count(st), SN_COUNT);
    if (pvm_db_copy_text(st, SN_ID, s->id, sizeof s->id, "snapshots.id", err) < 0 ||
        pvm_db_copy_text(st, SN_VM, s->vm_id, sizeof s->vm_id, "snapshots.vm_id", err) < 0 ||
        pvm_db_copy_text(st, SN_TAG, s->tag, sizeof s->tag, "snapshots.tag", err) < 0 ||
        pvm_db_copy_text(st, SN_PROFILE, s->profile_id, sizeof s->profile_id,
                         "snapshots.profile_id", err) < 0 ||
        pvm_db_copy_text(st, SN_IDENTITY, s->identity, sizeof s->identity,
                         "snapshots.identity", err) < 0 ||
        pvm_db_copy_text(st, SN_FINGERPRINT, s->fingerprint, sizeof s->fingerprint,
                         "snapshots.fingerprint", err) < 0 ||
        pvm_db_copy_text(st, SN_DEVICES, s->devices, sizeof s->devices, "snapshots.devices",
                         err) < 0)
        return -1;
    int64_t vmstate = sqlite3_column_int64(st, SN_VMSTATE);
    int64_t clock = sqlite3_column_int64(st, SN_CLOCK);
    if (vmstate < 0 || clock < 0)
        return pvm_error_set(err, PVM_E_SCHEMA, "snapshots: a stored size is negative");
    s->created_at = sqlite3_column_int64(st, SN_CREATED);
    s->memory = sqlite3_column_int64(st, SN_MEMORY) != 0;
    s->vmstate_bytes = (uint64_t)vmstate;
    s->vm_clock_ns = (uint64_t)clock;
    s->adopted = sqlite3_column_int64(st, SN_ADOPTED) != 0;
    return 0;
}

int pvm_db_snapshot_insert(pvm_store *s, const pvm_snapshot *snap, pvm_error *err)
{
    sqlite3_stmt *st;
    if (pvm_db_prepare(s, pvm_sql_insert, &st, err) < 0)
        return -1;
    int rc = -1;
    if (pvm_bind_snapshot(st, snap, err) == 0) {
        int r = sqlite3_step(st);
        if ((r & 0xff) == SQLITE_CONSTRAINT)
            pvm_error_set_field(err, PVM_E_EXISTS, "tag", "tag: the VM already has a "
                                "snapshot '%s'", snap->tag);
        else if (r != SQLITE_DONE)
            pvm_db_fail(s->db, r, "store: adding a snapshot", err);
        else
            rc = 0;
    }
    sqlite3_finalize(st);
    return rc;
}

static int pvm_read_brief(sqlite3_stmt *st, pvm_snapshot_brief *b, pvm_error *err)
{
    if (pvm_db_copy_text(st, 0, b->tag, sizeof b->tag, "snapshots.tag", err) < 0)
        return -1;
    b->created_at = sqlite3_column_int64(st, 1);
    b->memory = sqlite3_column_int64(st, 2) != 0;
    b->adopted = sqlite3_column_int64(st, 3) != 0;
    return 0;
}

/* Reads one row of a list query into row (a pvm_snapshot or a pvm_snapshot_brief). */
typedef int (*pvm_snap_reader)(sqlite3_stmt *st, void *row, pvm_error *err);

static int pvm_snap_read_full(sqlite3_stmt *st, void *row, pvm_error *err)
{
    return pvm_read_snapshot(st, row, err);
}

static int pvm_snap_read_brief(sqlite3_stmt *st, void *row, pvm_error *err)
{
    return pvm_read_brief(st, row, err);
}

/* The one list loop: sql (bound to :vm_id) read row by row through read into a malloc'd
 * array of row_size-byte rows (*out, never NULL on success; *count rows). */
static int pvm_snap_rows(pvm_store *s, const char *sql, const char *vm_id, pvm_snap_reader read,
                         size_t row_size, void **out, size_t *count, pvm_error *err)
{
    sqlite3_stmt *st;
    if (pvm_db_prepare(s, sql, &st, err) < 0)
        return -1;
    unsigned char *list = NULL;
    size_t n = 0, cap = 0;
    int rc = pvm_db_bind_text(st, ":vm_id", vm_id, err);
    while (rc == 0) {
        int r = sqlite3_step(st);
        if (r == SQLITE_DONE)
            break;
        if (r != SQLITE_ROW) {
            rc = pvm_db_fail(s->db, r, "store: listing snapshots", err);
            break;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            list = pvm_xrealloc(list, cap * row_size);
        }
        rc = read(st, list + n * row_size, err);
        if (rc == 0)
            n++;
    }
    sqlite3_finalize(st);
    if (rc < 0) {
        free(list);
        return -1;
    }
    *out = list ? (void *)list : pvm_xcalloc(1, row_size);
    *count = n;
    return 0;
}

int pvm_db_snapshot_briefs(pvm_store *s, const char *vm_id, pvm_snapshot_brief **out,
                           size_t *count, pvm_error *err)
{
    void *list = NULL;
    int rc = pvm_snap_rows(s, pvm_sql_briefs, vm_id, pvm_snap_read_brief, sizeof **out, &list,
                           count, err);
    if (rc == 0)
        *out = list;
    return rc;
}

int pvm_db_snapshot_list(pvm_store *s, const char *vm_id, pvm_snapshot **out, size_t *count,
                         pvm_error *err)
{
    void *list = NULL;
    int rc = pvm_snap_rows(s, pvm_sql_list, vm_id, pvm_snap_read_full, sizeof **out, &list,
                           count, err);
    if (rc == 0)
        *out = list;
    return rc;
}

int pvm_db_snapshot_figures(pvm_store *s, const char *id, uint64_t vmstate_bytes,
                            uint64_t vm_clock_ns, pvm_error *err)
{
    sqlite3_stmt *st;
    if (pvm_db_prepare(s, pvm_sql_figures, &st, err) < 0)
        return -1;
    int rc = -1;
    if (pvm_db_bind_text(st, ":id", id, err) == 0 &&
        pvm_bind_u64(st, ":vmstate_bytes", vmstate_bytes, err) == 0 &&
        pvm_bind_u64(st, ":vm_clock_ns", vm_clock_ns, err) == 0)
        rc = pvm_db_step_done(s, st, "store: updating a snapshot", err);
    sqlite3_finalize(st);
    return rc;
}

int pvm_db_snapshot_delete(pvm_store *s, const char *id, pvm_error *err)
{
    sqlite3_stmt *st;
    if (pvm_db_prepare(s, pvm_sql_delete, &st, err) < 0)
        return -1;
    int rc = -1;
    if (pvm_db_bind_text(st, ":id", id, err) == 0)
        rc = pvm_db_step_done(s, st, "store: deleting a snapshot", err);
    sqlite3_finalize(st);
    return rc;
}
