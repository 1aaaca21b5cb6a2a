/* query.c - the two query shapes every table of db/ repeats: fetch one row by
 * a name-or-id key, and fetch all rows into a malloc'd array. Each table file
 * gives its literal SQL and its row reader; called from db/profiles.c, db/vms.c. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int pvm_db_get_by_key(pvm_store *s, const char *sql, const char *key, const char *kind,
                      pvm_db_row_fn read, void *out, size_t size, pvm_error *err)
{
    sqlite3_stmt *st = NULL;
    if (pvm_db_prepare(s, sql, &st, err) < 0)
        return -1;
    int ret = pvm_db_bind_text(st, ":key", key, err);
    if (ret == 0) {
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            void *row = pvm_xcalloc(1, size); /* out stays untouched on error */
            ret = read(st, row, err);
            if (ret == 0)
                memcpy(out, row, size);
            free(row);
        } else if (rc == SQLITE_DONE) {
            ret = pvm_error_set(err, PVM_E_NOTFOUND, "%s '%s' not found", kind, key);
        } else {
            char what[64];
            snprintf(what, sizeof what, "store: reading a %s", kind);
            ret = pvm_db_fail(s->db, rc, what, err);
        }
    }
    sqlite3_finalize(st);
    return ret;
}

int pvm_db_list_rows(pvm_store *s, const char *sql, pvm_db_row_fn read, size_t size,
                     const char *what, void **out, size_t *count, pvm_error *err)
{
    sqlite3_stmt *st = NULL;
    char *list = NULL;
    size_t n = 0, cap = 0;
    int rc, ret = 0;
    *out = NULL;
    *count = 0;
    if (pvm_db_prepare(s, sql, &st, err) < 0)
        return -1;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            list = pvm_xrealloc(list, cap * size);
        }
        if ((ret = read(st, list + n * size, err)) < 0)
            break;
        n++;
    }
    if (ret == 0 && rc != SQLITE_DONE)
        ret = pvm_db_fail(s->db, rc, what, err);
    sqlite3_finalize(st);
    if (ret < 0) {
        free(list);
        return -1;
    }
    *out = list;
    *count = n;
    return 0;
}
