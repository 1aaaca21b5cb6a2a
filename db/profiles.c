/* profiles.c - the profiles table: insert, update, get, list, delete, the serial/UUID/MAC
 * clash check and the VM count; identity columns bound and read by name through the
 * field table (pvm_profile_fields), never by position. Called by the engine. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Every column of a profile row; the SQL below is literal text. */
#define PVM_PROFILE_COLUMNS                                                              \
    "id, name, manufacturer, product, version, family, sku, board_manufacturer, "       \
    "board_product, board_version, board_serial, chassis_manufacturer, chassis_serial, " \
    "chassis_asset, bios_vendor, bios_version, bios_date, cpu_model, cpu_manufacturer, " \
    "memory_manufacturer, chassis_type, cpu_cores, cpu_threads, cpu_family, "               \
    "cpu_model_number, cpu_stepping, cpu_microcode, "                                      \
    "machine_id, mac, serial, disk_serial, hide_hypervisor, preset, "                      \
    "created_at, updated_at"

static const char pvm_sql_insert[] =
    "INSERT INTO profiles (" PVM_PROFILE_COLUMNS ") VALUES ("
    ":id, :name, :manufacturer, :product, :version, :family, :sku, :board_manufacturer, "
    ":board_product, :board_version, :board_serial, :chassis_manufacturer, :chassis_serial, "
    ":chassis_asset, :bios_vendor, :bios_version, :bios_date, :cpu_model, :cpu_manufacturer, "
    ":memory_manufacturer, :chassis_type, :cpu_cores, :cpu_threads, :cpu_family, "
    ":cpu_model_number, :cpu_stepping, :cpu_microcode, :machine_id, :mac, :serial, :disk_serial, :hide_hypervisor, :preset, "
    ":created_at, :updated_at)";

static const char pvm_sql_update[] =
    "UPDATE profiles SET name = :name, manufacturer = :manufacturer, product = :product, "
    "version = :version, family = :family, sku = :sku, "
    "board_manufacturer = :board_manufacturer, board_product = :board_product, "
    "board_version = :board_version, board_serial = :board_serial, "
    "chassis_manufacturer = :chassis_manufacturer, chassis_serial = :chassis_serial, "
    "chassis_asset = :chassis_asset, bios_vendor = :bios_vendor, "
    "bios_version = :bios_version, bios_date = :bios_date, cpu_model = :cpu_model, "
    "cpu_manufacturer = :cpu_manufacturer, memory_manufacturer = :memory_manufacturer, "
    "chassis_type = :chassis_type, cpu_cores = :cpu_cores, cpu_threads = :cpu_threads, "
    "cpu_family = :cpu_family, cpu_model_number = :cpu_model_number, "
    "cpu_stepping = :cpu_stepping, cpu_microcode = :cpu_microcode, "
    "machine_id = :machine_id, mac = :mac, serial = :serial, disk_serial = :disk_serial, "
    "hide_hypervisor = :hide_hypervisor, preset = :preset, updated_at = :updated_at "
    "WHERE id = :id";

static const char pvm_sql_get[] =
    "SELECT " PVM_PROFILE_COLUMNS " FROM profiles WHERE name = :key OR id = :key "
    "ORDER BY name = :key DESC LIMIT 1";

static const char pvm_sql_list[] =
    "SELECT " PVM_PROFILE_COLUMNS " FROM profiles ORDER BY name COLLATE NOCASE, name";

static const char pvm_sql_get_id[] =
    "SELECT " PVM_PROFILE_COLUMNS " FROM profiles WHERE id = :key";

/* The brief list: its columns in pvm_read_brief's order, the list's order; read from the
 * covering index profiles_list (store migration 8) alone, already in that order. */
static const char pvm_sql_list_brief[] =
    "SELECT id, name, manufacturer, product FROM profiles ORDER BY name COLLATE NOCASE, name";

static const char pvm_sql_delete[] = "DELETE FROM profiles WHERE id = :id";

/* The column of the first clash: serial, then machine_id, then mac. */
static const char pvm_sql_clash[] =
    "SELECT 1 AS k, 'serial', name FROM profiles"
    " WHERE :serial <> '' AND serial = :serial AND id <> :id"
    " UNION ALL SELECT 2 AS k, 'machine_id', name FROM profiles"
    " WHERE :machine_id <> '' AND lower(machine_id) = lower(:machine_id) AND id <> :id"
    " UNION ALL SELECT 3 AS k, 'mac', name FROM profiles"
    " WHERE :mac <> '' AND lower(mac) = lower(:mac) AND id <> :id"
    " ORDER BY k LIMIT 1";

static const char pvm_sql_vm_count[] = "SELECT count(*) FROM vms WHERE profile_id = :id";

/* ------------------------------------------------------------------ binding */

/* Binds value (a char array of `size` bytes) to :column. A statement without
 * that parameter is fine unless `required`. */
static int pvm_bind_array(sqlite3_stmt *st, const char *column, const char *value,
                          size_t size, bool required, int *bound, pvm_error *err)
{
    char param[64];
    snprintf(param, sizeof param, ":%s", column);
    int idx = sqlite3_bind_parameter_index(st, param);
    if (idx == 0) {
        if (required)
            return pvm_error_set(err, PVM_E_SCHEMA,
                                 "profiles: the statement has no parameter for column %s", column);
        return 0;
    }
    size_t len = strnlen(value, size);
    if (len == size)
        return pvm_error_set(err, PVM_E_INVALID, "%s: value is not terminated within %zu bytes",
                             column, size);
    int rc = sqlite3_bind_text(st, idx, value, (int)len, SQLITE_TRANSIENT);
    if (rc != SQLITE_OK)
        return pvm_db_fail(sqlite3_db_handle(st), rc, column, err);
    (*bound)++;
    return 0;
}

static int pvm_bind_int_opt(sqlite3_stmt *st, const char *param, int64_t value, int *bound,
                            pvm_error *err)
{
    int idx = sqlite3_bind_parameter_index(st, param);
    if (idx == 0)
        return 0;
    int rc = sqlite3_bind_int64(st, idx, value);
    if (rc != SQLITE_OK)
        return pvm_db_fail(sqlite3_db_handle(st), rc, param, err);
    (*bound)++;
    return 0;
}

/* Binds every parameter an insert or update names; each identity field must
 * have one, and no parameter may stay unbound. */
static int pvm_bind_profile(sqlite3_stmt *st, const pvm_profile *p, pvm_error *err)
{
    size_t n = 0;
    const pvm_field *fields = pvm_profile_fields(&n);
    int bound = 0;
    for (size_t i = 0; i < n; i++) {
        const pvm_field *f = &fields[i];
        if (pvm_bind_array(st, f->column, pvm_profile_field_cptr(p, f), f->size, true, &bound,
                           err) < 0)
            return -1;
    }
    if (pvm_bind_array(st, "id", p->id, sizeof p->id, false, &bound, err) < 0 ||
        pvm_bind_array(st, "name", p->name, sizeof p->name, false, &bound, err) < 0 ||
        pvm_bind_array(st, "preset", p->preset, sizeof p->preset, false, &bound, err) < 0 ||
        pvm_bind_int_opt(st, ":hide_hypervisor", p->hide_hypervisor ? 1 : 0, &bound, err) < 0 ||
        pvm_bind_int_opt(st, ":created_at", p->created_at, &bound, err) < 0 ||
        pvm_bind_int_opt(st, ":updated_at", p->updated_at, &bound, err) < 0)
        return -1;
    if (bound != sqlite3_bind_parameter_count(st))
        return pvm_error_set(err, PVM_E_SCHEMA,
                             "profiles: the statement has %d parameters but %d were bound",
                             sqlite3_bind_parameter_count(st), bound);
    return 0;
}

/* ------------------------------------------------------------------ reading */

/* The field the column order puts at `guess` when it is stored in `column`,
 * else NULL: a whole list costs one compare per identity column. */
static const pvm_field *pvm_field_guess(const char *column, size_t guess)
{
    size_t n = 0;
    const pvm_field *fields = pvm_profile_fields(&n);
    return guess < n && strcmp(fields[guess].column, column) == 0 ? &fields[guess] : NULL;
}

static const pvm_field *pvm_field_by_column(const char *column)
{
    size_t n = 0;
    const pvm_field *fields = pvm_profile_fields(&n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(fields[i].column, column) == 0)
            return &fields[i];
    return NULL;
}

/* The error names "profiles.COLUMN"; the name is only put together when a
 * value is bad (a list of 1,000 profiles copies 25,000 values). */
static int pvm_copy_column(sqlite3_stmt *st, int col, char *dst, size_t size,
                           const char *column, pvm_error *err)
{
    if (pvm_db_copy_text(st, col, dst, size, column, err) == 0)
        return 0;
    if (err) {
        static const char table[] = "profiles.";
        size_t len = strnlen(err->msg, sizeof err->msg - sizeof table);
        memmove(err->msg + sizeof table - 1, err->msg, len);
        memcpy(err->msg, table, sizeof table - 1);
        err->msg[len + sizeof table - 1] = '\0';
    }
    return -1;
}

/* Reads one non-field column; returns 1 when `name` was one of them. */
static int pvm_read_fixed(sqlite3_stmt *st, int col, const char *name, pvm_profile *p,
                          pvm_error *err)
{
    int rc = 1;
    if (strcmp(name, "id") == 0)
        rc = pvm_copy_column(st, col, p->id, sizeof p->id, name, err) < 0 ? -1 : 1;
    else if (strcmp(name, "name") == 0)
        rc = pvm_copy_column(st, col, p->name, sizeof p->name, name, err) < 0 ? -1 : 1;
    else if (strcmp(name, "preset") == 0)
        rc = pvm_copy_column(st, col, p->preset, sizeof p->preset, name, err) < 0 ? -1 : 1;
    else if (strcmp(name, "hide_hypervisor") == 0)
        p->hide_hypervisor = sqlite3_column_int64(st, col) != 0;
    else if (strcmp(name, "created_at") == 0)
        p->created_at = sqlite3_column_int64(st, col);
    else if (strcmp(name, "updated_at") == 0)
        p->updated_at = sqlite3_column_int64(st, col);
    else
        rc = 0;
    return rc;
}

#define PVM_FIXED_COLUMNS 6

/* Fills p from the current row, matching columns to fields by name. */
static int pvm_read_profile(sqlite3_stmt *st, pvm_profile *p, pvm_error *err)
{
    size_t n = 0, seen_fields = 0;
    int seen_fixed = 0;
    pvm_profile_fields(&n);
    memset(p, 0, sizeof *p);
    for (int col = 0; col < sqlite3_column_count(st); col++) {
        const char *name = sqlite3_column_name(st, col);
        const pvm_field *f = pvm_field_guess(name, seen_fields);
        if (!f) {
            int fixed = pvm_read_fixed(st, col, name, p, err);
            if (fixed < 0)
                return -1;
            if (fixed) {
                seen_fixed++;
                continue;
            }
            f = pvm_field_by_column(name);
        }
        if (!f)
            return pvm_error_set(err, PVM_E_SCHEMA, "profiles: unknown column %s", name);
        if (pvm_copy_column(st, col, pvm_profile_field_ptr(p, f), f->size, name, err) < 0)
            return -1;
        seen_fields++;
    }
    if (seen_fields != n || seen_fixed != PVM_FIXED_COLUMNS)
        return pvm_error_set(err, PVM_E_SCHEMA,
                             "profiles: a row gave %zu of %zu identity columns", seen_fields, n);
    return 0;
}

/* ------------------------------------------------------------------ writing */

static int pvm_profile_row(sqlite3_stmt *st, void *out, pvm_error *err)
{
    return pvm_read_profile(st, out, err);
}

static int pvm_profile_bind(sqlite3_stmt *st, const void *row, pvm_error *err)
{
    return pvm_bind_profile(st, row, err);
}

static const pvm_db_table pvm_profiles = {
    .kind = "profile",
    .get_sql = pvm_sql_get,
    .list_sql = pvm_sql_list,
    .delete_sql = pvm_sql_delete,
    .in_use = "a VM; delete that VM first",
    .read = pvm_profile_row,
    .bind = pvm_profile_bind,
    .row_size = sizeof(pvm_profile),
};

static int pvm_profile_write(pvm_store *s, const char *sql, const pvm_profile *p, bool update,
                             pvm_error *err)
{
    pvm_db_keys k = {.id = p->id, .name = p->name};
    return pvm_db_table_write(s, &pvm_profiles, sql, p, &k, update, err);
}

int pvm_db_profile_insert(pvm_store *s, const pvm_profile *p, pvm_error *err)
{
    return pvm_profile_write(s, pvm_sql_insert, p, false, err);
}

int pvm_db_profile_update(pvm_store *s, const pvm_profile *p, pvm_error *err)
{
    return pvm_profile_write(s, pvm_sql_update, p, true, err);
}

int pvm_db_profile_delete(pvm_store *s, const char *id, pvm_error *err)
{
    return pvm_db_table_delete(s, &pvm_profiles, id, err);
}

/* ------------------------------------------------------------------ queries */

int pvm_db_profile_get(pvm_store *s, const char *name_or_id, pvm_profile *out, pvm_error *err)
{
    return pvm_db_table_get(s, &pvm_profiles, name_or_id, out, err);
}

int pvm_db_profile_get_id(pvm_store *s, const char *id, pvm_profile *out, pvm_error *err)
{
    pvm_db_table t = pvm_profiles;
    t.get_sql = pvm_sql_get_id;
    return pvm_db_table_get(s, &t, id, out, err);
}

/* One row of pvm_sql_list_brief, by position (the SQL above names the columns). */
static int pvm_read_brief(sqlite3_stmt *st, void *out, pvm_error *err)
{
    pvm_profile_brief *b = out;
    if (pvm_copy_column(st, 0, b->id, sizeof b->id, "id", err) < 0 ||
        pvm_copy_column(st, 1, b->name, sizeof b->name, "name", err) < 0 ||
        pvm_copy_column(st, 2, b->manufacturer, sizeof b->manufacturer, "manufacturer", err) < 0 ||
        pvm_copy_column(st, 3, b->product, sizeof b->product, "product", err) < 0)
        return -1;
    return 0;
}

int pvm_db_profile_list_brief(pvm_store *s, pvm_profile_brief **out, size_t *count,
                              pvm_error *err)
{
    pvm_db_table t = pvm_profiles;
    t.list_sql = pvm_sql_list_brief;
    t.read = pvm_read_brief;
    t.row_size = sizeof(pvm_profile_brief);
    void *list = NULL;
    int rc = pvm_db_table_list(s, &t, &list, count, err);
    *out = list;
    return rc;
}

int pvm_db_profile_list(pvm_store *s, pvm_profile **out, size_t *count, pvm_error *err)
{
    void *list = NULL;
    int rc = pvm_db_table_list(s, &pvm_profiles, &list, count, err);
    *out = list;
    return rc;
}

static int pvm_bind_clash(sqlite3_stmt *st, const pvm_profile *p, pvm_error *err)
{
    int bound = 0;
    if (pvm_bind_array(st, "id", p->id, sizeof p->id, true, &bound, err) < 0 ||
        pvm_bind_array(st, "serial", p->serial, sizeof p->serial, true, &bound, err) < 0 ||
        pvm_bind_array(st, "machine_id", p->machine_id, sizeof p->machine_id, true, &bound,
                       err) < 0 ||
        pvm_bind_array(st, "mac", p->mac, sizeof p->mac, true, &bound, err) < 0)
        return -1;
    return 0;
}

/* Fills field (the JSON key of the clashing column) and other_name. */
static int pvm_read_clash(sqlite3_stmt *st, char field[32], char other_name[PVM_NAME_MAX + 1],
                          pvm_error *err)
{
    const char *column = (const char *)sqlite3_column_text(st, 1);
    const pvm_field *f = column ? pvm_field_by_column(column) : NULL;
    if (!f)
        return pvm_error_set(err, PVM_E_SCHEMA, "profiles: clash on an unknown column");
    pvm_strlcpy(field, f->key, 32);
    return pvm_copy_column(st, 2, other_name, PVM_NAME_MAX + 1, "name", err);
}

int pvm_db_profile_find_clash(pvm_store *s, const pvm_profile *p, bool *found,
                              char field[32], char other_name[PVM_NAME_MAX + 1],
                              pvm_error *err)
{
    sqlite3_stmt *st = NULL;
    *found = false;
    if (pvm_db_prepare(s, pvm_sql_clash, &st, err) < 0)
        return -1;
    int ret = pvm_bind_clash(st, p, err);
    if (ret == 0) {
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            ret = pvm_read_clash(st, field, other_name, err);
            *found = ret == 0;
        } else if (rc != SQLITE_DONE) {
            ret = pvm_db_fail(s->db, rc, "store: looking for identity clashes", err);
        }
    }
    sqlite3_finalize(st);
    return ret;
}

int pvm_db_profile_vm_count(pvm_store *s, const char *profile_id, int *count, pvm_error *err)
{
    sqlite3_stmt *st = NULL;
    *count = 0;
    if (pvm_db_prepare(s, pvm_sql_vm_count, &st, err) < 0)
        return -1;
    int ret = pvm_db_bind_text(st, ":id", profile_id, err);
    if (ret == 0) {
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
            *count = sqlite3_column_int(st, 0);
        else
            ret = pvm_db_fail(s->db, rc, "store: counting the VMs of a profile", err);
    }
    sqlite3_finalize(st);
    return ret;
}
