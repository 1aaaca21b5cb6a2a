/* events.c - the append-only event log (who did what to which object, when).
 * Called by the engine after each change it makes. */
#include "internal.h"

static const char pvm_sql_event[] =
    "INSERT INTO events (at, object_id, kind, detail) VALUES (:at, :object_id, :kind, :detail)";

int pvm_db_event_add(pvm_store *s, const char *object_id, const char *kind,
                     const char *detail, pvm_error *err)
{
    sqlite3_stmt *st = NULL;
    if (!kind || !kind[0])
        return pvm_error_set(err, PVM_E_INVALID, "kind: an event needs a kind");
    if (pvm_db_prepare(s, pvm_sql_event, &st, err) < 0)
        return -1;
    int ret = 0;
    if (pvm_db_bind_int64(st, ":at", pvm_now(), err) < 0 ||
        pvm_db_bind_text(st, ":object_id", object_id, err) < 0 ||
        pvm_db_bind_text(st, ":kind", kind, err) < 0 ||
        pvm_db_bind_text(st, ":detail", detail, err) < 0)
        ret = -1;
    if (ret == 0)
        ret = pvm_db_step_done(s, st, "store: recording an event", err);
    sqlite3_finalize(st);
    return ret;
}
