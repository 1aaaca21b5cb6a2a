/* internal.h - what the files of db/ share and nobody else sees: the store
 * struct, SQLite error mapping, statement preparation and bounded copies of
 * text columns. Included only by the .c files of db/. */
#ifndef PVM_DB_INTERNAL_H
#define PVM_DB_INTERNAL_H

#include "store.h"

#include <sqlite3.h>

struct pvm_store {
    sqlite3 *db;
};

/* Maps an SQLite failure to a pvm_error: SQLITE_BUSY/LOCKED -> PVM_E_BUSY,
 * anything else -> PVM_E_STORE, with `what` and sqlite3_errmsg. Returns -1. */
int pvm_db_fail(sqlite3 *db, int rc, const char *what, pvm_error *err);

/* Prepares literal SQL text; on failure fills err and returns -1. */
int pvm_db_prepare(pvm_store *s, const char *sql, sqlite3_stmt **st, pvm_error *err);

/* Binds text (or NULL when value is NULL) / an integer to the named
 * parameter; a missing parameter is a programming error -> PVM_E_SCHEMA. */
int pvm_db_bind_text(sqlite3_stmt *st, const char *param, const char *value, pvm_error *err);
int pvm_db_bind_int64(sqlite3_stmt *st, const char *param, int64_t value, pvm_error *err);

/* Copies text column `col` into dst[size]. A NULL column gives "". A value
 * that does not fit (or holds a NUL byte) is refused with PVM_E_SCHEMA naming
 * `what`: the store never truncates. */
int pvm_db_copy_text(sqlite3_stmt *st, int col, char *dst, size_t size,
                     const char *what, pvm_error *err);

/* Reads the current row of st into out (a pvm_profile, pvm_vm ...). */
typedef int (*pvm_db_row_fn)(sqlite3_stmt *st, void *out, pvm_error *err);

/* query.c: runs sql with `key` bound to :key and reads the first row into
 * out (size bytes; untouched on error). No row: PVM_E_NOTFOUND
 * "<kind> '<key>' not found". */
int pvm_db_get_by_key(pvm_store *s, const char *sql, const char *key, const char *kind,
                      pvm_db_row_fn read, void *out, size_t size, pvm_error *err);
/* query.c: reads every row of sql into a malloc'd array of size-byte elements
 * (*out, free()); `what` names the query in store errors. */
int pvm_db_list_rows(pvm_store *s, const char *sql, pvm_db_row_fn read, size_t size,
                     const char *what, void **out, size_t *count, pvm_error *err);

/* Runs a statement that returns no rows (one sqlite3_step to SQLITE_DONE). */
int pvm_db_step_done(pvm_store *s, sqlite3_stmt *st, const char *what, pvm_error *err);

#endif
