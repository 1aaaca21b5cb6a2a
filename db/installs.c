/* installs.c - the installs table: one row per complete, successful `install` into a
 * VM (the file, where it went, its size and SHA-256, the installer run and its result).
 * Called by engine/install.c; rows go with their VM (ON DELETE CASCADE). */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

static const char pvm_sql_install_insert[] =
    "INSERT INTO installs (id, vm_id, file, guest_path, bytes, sha256, command, status, output, at)"
    " VALUES (:id, :vm_id, :file, :guest_path, :bytes, :sha256, :command, :status, :output, :at)";
static const char pvm_sql_install_list[] =
    "SELECT id, vm_id, file, guest_path, bytes, sha256, command, status, output, at"
    " FROM installs WHERE vm_id = :vm_id ORDER BY at, rowid";

int pvm_db_install_insert(pvm_store *s, const pvm_install *in, pvm_error *err)
{
    sqlite3_stmt *st = NULL;
    if (pvm_db_prepare(s, pvm_sql_install_insert, &st, err) < 0)
        return -1;
    int rc = 0;
    if (pvm_db_bind_text(st, ":id", in->id, err) < 0 ||
        pvm_db_bind_text(st, ":vm_id", in->vm_id, err) < 0 ||
        pvm_db_bind_text(st, ":file", in->file, err) < 0 ||
        pvm_db_bind_text(st, ":guest_path", in->guest_path, err) < 0 ||
        pvm_db_bind_int64(st, ":bytes", (int64_t)in->bytes, err) < 0 ||
        pvm_db_bind_text(st, ":sha256", in->sha256, err) < 0 ||
        pvm_db_bind_text(st, ":command", in->command, err) < 0 ||
        pvm_db_bind_int64(st, ":status", in->status, err) < 0 ||
        pvm_db_bind_text(st, ":output", in->output, err) < 0 ||
        pvm_db_bind_int64(st, ":at", in->at, err) < 0)
        rc = -1;
    if (rc == 0)
        rc = pvm_db_step_done(s, st, "store: recording an install", err);
    sqlite3_finalize(st);
    return rc;
}

static int pvm_install_read(sqlite3_stmt *st, pvm_install *in, pvm_error *err)
{
    memset(in, 0, sizeof *in);
    if (pvm_db_copy_text(st, 0, in->id, sizeof in->id, "installs.id", err) < 0 ||
        pvm_db_copy_text(st, 1, in->vm_id, sizeof in->vm_id, "installs.vm_id", err) < 0 ||
        pvm_db_copy_text(st, 2, in->file, sizeof in->file, "installs.file", err) < 0 ||
        pvm_db_copy_text(st, 3, in->guest_path, sizeof in->guest_path, "installs.guest_path",
                         err) < 0 ||
        pvm_db_copy_text(st, 5, in->sha256, sizeof in->sha256, "installs.sha256", err) < 0 ||
        pvm_db_copy_text(st, 6, in->command, sizeof in->command, "installs.command", err) < 0 ||
        pvm_db_copy_text(st, 8, in->output, sizeof in->output, "installs.output", err) < 0)
        return -1;
    in->bytes = (uint64_t)sqlite3_column_int64(st, 4);
    in->status = sqlite3_column_int(st, 7);
    in->at = sqlite3_column_int64(st, 9);
    return 0;
}

int pvm_db_install_list(pvm_store *s, const char *vm_id, pvm_install **out, size_t *count,
                        pvm_error *err)
{
    *out = NULL;
    *count = 0;
    sqlite3_stmt *st = NULL;
    if (pvm_db_prepare(s, pvm_sql_install_list, &st, err) < 0)
        return -1;
    if (pvm_db_bind_text(st, ":vm_id", vm_id, err) < 0) {
        sqlite3_finalize(st);
        return -1;
    }
    size_t n = 0, cap = 0;
    pvm_install *v = NULL;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            v = pvm_xrealloc(v, cap * sizeof *v);
        }
        if (pvm_install_read(st, &v[n], err) < 0) {
            free(v);
            sqlite3_finalize(st);
            return -1;
        }
        n++;
    }
    if (rc != SQLITE_DONE) {
        free(v);
        pvm_db_fail(s->db, rc, "store: listing installs", err);
        sqlite3_finalize(st);
        return -1;
    }
    sqlite3_finalize(st);
    *out = v;
    *count = n;
    return 0;
}
