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
/* Binds every parameter of an insert or update from row. */
typedef int (*pvm_db_bind_fn)(sqlite3_stmt *st, const void *row, pvm_error *err);

/* A table of the store as query.c sees it: its literal SQL, its row reader and
 * binder, and the words its errors use. One static instance per table file. */
typedef struct pvm_db_table {
    const char *kind;       /* "profile", "VM": names a row in messages */
    const char *get_sql;    /* one row: ... WHERE name = :key OR id = :key */
    const char *list_sql;   /* every row, in display order */
    const char *delete_sql; /* ... WHERE id = :id */
    const char *in_use;     /* a delete blocked by a foreign key: "is used by <in_use>"; or NULL */
    const char *parent;     /* what an insert's foreign key points at ("profile"), or NULL */
    pvm_db_row_fn read;
    pvm_db_bind_fn bind;
    size_t row_size; /* sizeof the row struct */
} pvm_db_table;

/* The keys of a row being written, for the messages of a refused write. */
typedef struct pvm_db_keys {
    const char *id, *name;
    const char *parent_id; /* may be NULL */
} pvm_db_keys;

/* query.c: the row whose name or id is key into out (untouched on error).
 * No row: PVM_E_NOTFOUND "<kind> '<key>' not found". */
int pvm_db_table_get(pvm_store *s, const pvm_db_table *t, const char *key, void *out,
                     pvm_error *err);
/* query.c: every row into a malloc'd array (*out, free()) of *count rows. */
int pvm_db_table_list(pvm_store *s, const pvm_db_table *t, void **out, size_t *count,
                      pvm_error *err);
/* query.c: runs the insert or update sql with row bound by t->bind. A refused
 * write becomes the error of its field: PRIMARY KEY -> "id: a <kind> with id
 * ... already exists", UNIQUE -> "name: a <kind> named ... already exists",
 * FOREIGN KEY -> "<parent> '<parent_id>' not found"; an update that changes no
 * row -> PVM_E_NOTFOUND. */
int pvm_db_table_write(pvm_store *s, const pvm_db_table *t, const char *sql, const void *row,
                       const pvm_db_keys *k, bool update, pvm_error *err);
/* query.c: deletes the row with this id: PVM_E_NOTFOUND when there is none,
 * PVM_E_STATE "<kind> '<id>' is used by <in_use>" when a foreign key holds it. */
int pvm_db_table_delete(pvm_store *s, const pvm_db_table *t, const char *id, pvm_error *err);

/* Runs a statement that returns no rows (one sqlite3_step to SQLITE_DONE). */
int pvm_db_step_done(pvm_store *s, sqlite3_stmt *st, const char *what, pvm_error *err);

#endif
