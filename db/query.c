/* query.c - what every table of db/ shares: get one row by a name-or-id key,
 * list all rows, insert or update one row, delete one by id, and the error a
 * failed write or delete means to a user. Each table file describes itself in
 * a pvm_db_table (literal SQL, row reader, row binder); called from
 * db/profiles.c and db/vms.c. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int pvm_db_table_get(pvm_store *s, const pvm_db_table *t, const char *key, void *out,
                     pvm_error *err)
{
    sqlite3_stmt *st = NULL;
    if (pvm_db_prepare(s, t->get_sql, &st, err) < 0)
        return -1;
    int ret = pvm_db_bind_text(st, ":key", key, err);
    if (ret == 0) {
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            void *row = pvm_xcalloc(1, t->row_size); /* out stays untouched on error */
            ret = t->read(st, row, err);
            if (ret == 0)
                memcpy(out, row, t->row_size);
            free(row);
        } else if (rc == SQLITE_DONE) {
            ret = pvm_error_set(err, PVM_E_NOTFOUND, "%s '%s' not found", t->kind, key);
        } else {
            char what[64];
            snprintf(what, sizeof what, "store: reading a %s", t->kind);
            ret = pvm_db_fail(s->db, rc, what, err);
        }
    }
    sqlite3_finalize(st);
    return ret;
}

int pvm_db_table_list(pvm_store *s, const pvm_db_table *t, void **out, size_t *count,
                      pvm_error *err)
{
    sqlite3_stmt *st = NULL;
    char *list = NULL;
    size_t n = 0, cap = 0;
    int rc, ret = 0;
    *out = NULL;
    *count = 0;
    if (pvm_db_prepare(s, t->list_sql, &st, err) < 0)
        return -1;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            list = pvm_xrealloc(list, cap * t->row_size);
        }
        if ((ret = t->read(st, list + n * t->row_size, err)) < 0)
            break;
        n++;
    }
    if (ret == 0 && rc != SQLITE_DONE) {
        char what[64];
        snprintf(what, sizeof what, "store: listing %ss", t->kind);
        ret = pvm_db_fail(s->db, rc, what, err);
    }
    sqlite3_finalize(st);
    if (ret < 0) {
        free(list);
        return -1;
    }
    *out = list;
    *count = n;
    return 0;
}

/* A write refused by a constraint, in the words of the field it concerns. */
static int pvm_db_write_failed(pvm_store *s, const pvm_db_table *t, int rc,
                               const pvm_db_keys *k, pvm_error *err)
{
    int ext = sqlite3_extended_errcode(s->db);
    if (ext == SQLITE_CONSTRAINT_FOREIGNKEY && t->parent)
        return pvm_error_set_field(err, PVM_E_NOTFOUND, t->parent, "%s '%s' not found",
                                   t->parent, k->parent_id ? k->parent_id : "");
    if (ext == SQLITE_CONSTRAINT_PRIMARYKEY)
        return pvm_error_set_field(err, PVM_E_EXISTS, "id", "id: a %s with id '%s' already exists",
                                   t->kind, k->id);
    if (ext == SQLITE_CONSTRAINT_UNIQUE)
        return pvm_error_set_field(err, PVM_E_EXISTS, "name",
                                   "name: a %s named '%s' already exists", t->kind, k->name);
    char what[64];
    snprintf(what, sizeof what, "store: writing a %s", t->kind);
    return pvm_db_fail(s->db, rc, what, err);
}

int pvm_db_table_write(pvm_store *s, const pvm_db_table *t, const char *sql, const void *row,
                       const pvm_db_keys *k, bool update, pvm_error *err)
{
    sqlite3_stmt *st = NULL;
    if (pvm_db_prepare(s, sql, &st, err) < 0)
        return -1;
    int ret = t->bind(st, row, err);
    if (ret == 0) {
        int rc = sqlite3_step(st);
        if (rc != SQLITE_DONE)
            ret = pvm_db_write_failed(s, t, rc, k, err);
        else if (update && sqlite3_changes(s->db) == 0)
            ret = pvm_error_set(err, PVM_E_NOTFOUND, "%s '%s' not found", t->kind, k->id);
    }
    sqlite3_finalize(st);
    return ret;
}

int pvm_db_table_delete(pvm_store *s, const pvm_db_table *t, const char *id, pvm_error *err)
{
    sqlite3_stmt *st = NULL;
    if (pvm_db_prepare(s, t->delete_sql, &st, err) < 0)
        return -1;
    int ret = pvm_db_bind_text(st, ":id", id, err);
    if (ret == 0) {
        int rc = sqlite3_step(st);
        /* ON DELETE RESTRICT reports as a trigger constraint, NO ACTION as FK. */
        int ext = rc == SQLITE_DONE ? SQLITE_OK : sqlite3_extended_errcode(s->db);
        char what[64];
        if ((ext == SQLITE_CONSTRAINT_FOREIGNKEY || ext == SQLITE_CONSTRAINT_TRIGGER) &&
            t->in_use) {
            ret = pvm_error_set(err, PVM_E_STATE, "%s '%s' is used by %s", t->kind, id,
                                t->in_use);
        } else if (rc != SQLITE_DONE) {
            snprintf(what, sizeof what, "store: deleting a %s", t->kind);
            ret = pvm_db_fail(s->db, rc, what, err);
        } else if (sqlite3_changes(s->db) == 0) {
            ret = pvm_error_set(err, PVM_E_NOTFOUND, "%s '%s' not found", t->kind, id);
        }
    }
    sqlite3_finalize(st);
    return ret;
}
