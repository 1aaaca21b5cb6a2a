/* vms.c - the vms table: insert, update (vm edit), get (by name, then id, or by id only),
 * list (whole rows or a list's brief ones) and delete.
 * Enums are stored as integers and checked on the way back. Runtime state
 * (running, pid) is never stored. Called by the engine's VM operations. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The column order of every SELECT below; keep VM_COL_* in step with it. */
#define PVM_VM_COLUMNS                                                                  \
    "id, name, profile_id, cpus, memory_bytes, disk_bytes, disk_bus, nic, net, iso, " \
    "kernel, initrd, append, created_at, display, video, firmware, tpm, forwards, bridge"

enum {
    VM_COL_ID, VM_COL_NAME, VM_COL_PROFILE, VM_COL_CPUS, VM_COL_MEMORY, VM_COL_DISK,
    VM_COL_DISK_BUS, VM_COL_NIC, VM_COL_NET, VM_COL_ISO, VM_COL_KERNEL, VM_COL_INITRD,
    VM_COL_APPEND, VM_COL_CREATED, VM_COL_DISPLAY, VM_COL_VIDEO, VM_COL_FIRMWARE, VM_COL_TPM,
    VM_COL_FORWARDS, VM_COL_BRIDGE, VM_COL_COUNT
};

static const char pvm_sql_insert[] =
    "INSERT INTO vms (" PVM_VM_COLUMNS ") VALUES (:id, :name, :profile_id, :cpus, "
    ":memory_bytes, :disk_bytes, :disk_bus, :nic, :net, :iso, :kernel, :initrd, :append, "
    ":created_at, :display, :video, :firmware, :tpm, :forwards, :bridge)";

static const char pvm_sql_update[] =
    "UPDATE vms SET name = :name, profile_id = :profile_id, cpus = :cpus, "
    "memory_bytes = :memory_bytes, disk_bytes = :disk_bytes, disk_bus = :disk_bus, nic = :nic, "
    "net = :net, iso = :iso, kernel = :kernel, initrd = :initrd, append = :append, "
    "created_at = :created_at, display = :display, video = :video, firmware = :firmware, "
    "tpm = :tpm, forwards = :forwards, bridge = :bridge WHERE id = :id";

static const char pvm_sql_get[] =
    "SELECT " PVM_VM_COLUMNS " FROM vms WHERE name = :key OR id = :key "
    "ORDER BY name = :key DESC LIMIT 1";

static const char pvm_sql_list[] =
    "SELECT " PVM_VM_COLUMNS " FROM vms ORDER BY name COLLATE NOCASE, name";

static const char pvm_sql_get_id[] = "SELECT " PVM_VM_COLUMNS " FROM vms WHERE id = :key";

/* The brief list: its columns in pvm_read_brief's order, the list's order. */
static const char pvm_sql_list_brief[] =
    "SELECT id, name, profile_id, cpus, memory_bytes FROM vms ORDER BY name COLLATE NOCASE, name";

static const char pvm_sql_delete[] = "DELETE FROM vms WHERE id = :id";

/* ------------------------------------------------------------------ binding */

/* Text from a fixed char array: refused when not terminated inside it. */
static int pvm_bind_array(sqlite3_stmt *st, const char *param, const char *value, size_t size,
                          pvm_error *err)
{
    if (strnlen(value, size) == size)
        return pvm_error_set(err, PVM_E_INVALID, "%s: value is not terminated within %zu bytes",
                             param + 1, size);
    return pvm_db_bind_text(st, param, value, err);
}

static int pvm_bind_u64(sqlite3_stmt *st, const char *param, uint64_t value, pvm_error *err)
{
    if (value > (uint64_t)INT64_MAX)
        return pvm_error_set(err, PVM_E_INVALID, "%s: %llu is more than the store can hold",
                             param + 1, (unsigned long long)value);
    return pvm_db_bind_int64(st, param, (int64_t)value, err);
}

static int pvm_bind_vm(sqlite3_stmt *st, const pvm_vm *vm, pvm_error *err)
{
    if (pvm_bind_array(st, ":id", vm->id, sizeof vm->id, err) < 0 ||
        pvm_bind_array(st, ":name", vm->name, sizeof vm->name, err) < 0 ||
        pvm_bind_array(st, ":profile_id", vm->profile_id, sizeof vm->profile_id, err) < 0 ||
        pvm_db_bind_int64(st, ":cpus", vm->cpus, err) < 0 ||
        pvm_bind_u64(st, ":memory_bytes", vm->memory_bytes, err) < 0 ||
        pvm_bind_u64(st, ":disk_bytes", vm->disk_bytes, err) < 0 ||
        pvm_db_bind_int64(st, ":disk_bus", (int64_t)vm->disk_bus, err) < 0 ||
        pvm_db_bind_int64(st, ":nic", (int64_t)vm->nic, err) < 0 ||
        pvm_db_bind_int64(st, ":net", (int64_t)vm->net, err) < 0 ||
        pvm_bind_array(st, ":iso", vm->iso, sizeof vm->iso, err) < 0 ||
        pvm_bind_array(st, ":kernel", vm->kernel, sizeof vm->kernel, err) < 0 ||
        pvm_bind_array(st, ":initrd", vm->initrd, sizeof vm->initrd, err) < 0 ||
        pvm_bind_array(st, ":append", vm->append, sizeof vm->append, err) < 0 ||
        pvm_db_bind_int64(st, ":created_at", vm->created_at, err) < 0 ||
        pvm_db_bind_int64(st, ":display", (int64_t)vm->display, err) < 0 ||
        pvm_db_bind_int64(st, ":video", (int64_t)vm->video, err) < 0 ||
        pvm_db_bind_int64(st, ":firmware", (int64_t)vm->firmware, err) < 0 ||
        pvm_db_bind_int64(st, ":tpm", vm->tpm ? 1 : 0, err) < 0 ||
        pvm_bind_array(st, ":forwards", vm->forwards, sizeof vm->forwards, err) < 0 ||
        pvm_bind_array(st, ":bridge", vm->bridge, sizeof vm->bridge, err) < 0)
        return -1;
    return 0;
}

/* ------------------------------------------------------------------ reading */

/* Reads an integer column that must lie in [min, max]. */
static int pvm_read_range(sqlite3_stmt *st, int col, int64_t min, int64_t max, int64_t *out,
                          pvm_error *err)
{
    int64_t v = sqlite3_column_int64(st, col);
    if (sqlite3_column_type(st, col) != SQLITE_INTEGER || v < min || v > max)
        return pvm_error_set(err, PVM_E_SCHEMA, "vms.%s: stored value is out of range",
                             sqlite3_column_name(st, col));
    *out = v;
    return 0;
}

static int pvm_read_numbers(sqlite3_stmt *st, pvm_vm *vm, pvm_error *err)
{
    int64_t cpus, mem, disk, bus, nic, net, display, video, firmware, tpm;
    if (pvm_read_range(st, VM_COL_CPUS, 0, INT32_MAX, &cpus, err) < 0 ||
        pvm_read_range(st, VM_COL_MEMORY, 0, INT64_MAX, &mem, err) < 0 ||
        pvm_read_range(st, VM_COL_DISK, 0, INT64_MAX, &disk, err) < 0 ||
        pvm_read_range(st, VM_COL_DISK_BUS, PVM_DISK_VIRTIO, PVM_DISK_SATA, &bus, err) < 0 ||
        pvm_read_range(st, VM_COL_NIC, PVM_NIC_VIRTIO, PVM_NIC_E1000E, &nic, err) < 0 ||
        pvm_read_range(st, VM_COL_NET, PVM_NET_USER, PVM_NET_BRIDGE, &net, err) < 0 ||
        pvm_read_range(st, VM_COL_DISPLAY, PVM_DISPLAY_NONE, PVM_DISPLAY_VNC, &display, err) < 0 ||
        pvm_read_range(st, VM_COL_VIDEO, PVM_VIDEO_RAMFB, PVM_VIDEO_LAST, &video, err) < 0 ||
        pvm_read_range(st, VM_COL_FIRMWARE, PVM_FIRMWARE_BIOS, PVM_FIRMWARE_UEFI_SECURE,
                       &firmware, err) < 0 ||
        pvm_read_range(st, VM_COL_TPM, 0, 1, &tpm, err) < 0)
        return -1;
    vm->display = (pvm_display)display;
    vm->video = (pvm_video)video;
    vm->firmware = (pvm_firmware)firmware;
    vm->tpm = tpm != 0;
    vm->cpus = (int)cpus;
    vm->memory_bytes = (uint64_t)mem;
    vm->disk_bytes = (uint64_t)disk;
    vm->disk_bus = (pvm_disk_bus)bus;
    vm->nic = (pvm_nic_model)nic;
    vm->net = (pvm_net_mode)net;
    vm->created_at = sqlite3_column_int64(st, VM_COL_CREATED);
    return 0;
}

static int pvm_read_vm(sqlite3_stmt *st, pvm_vm *vm, pvm_error *err)
{
    memset(vm, 0, sizeof *vm);
    if (sqlite3_column_count(st) != VM_COL_COUNT)
        return pvm_error_set(err, PVM_E_SCHEMA, "vms: a row has %d columns, expected %d",
                             sqlite3_column_count(st), VM_COL_COUNT);
    if (pvm_db_copy_text(st, VM_COL_ID, vm->id, sizeof vm->id, "vms.id", err) < 0 ||
        pvm_db_copy_text(st, VM_COL_NAME, vm->name, sizeof vm->name, "vms.name", err) < 0 ||
        pvm_db_copy_text(st, VM_COL_PROFILE, vm->profile_id, sizeof vm->profile_id,
                         "vms.profile_id", err) < 0 ||
        pvm_db_copy_text(st, VM_COL_ISO, vm->iso, sizeof vm->iso, "vms.iso", err) < 0 ||
        pvm_db_copy_text(st, VM_COL_KERNEL, vm->kernel, sizeof vm->kernel, "vms.kernel",
                         err) < 0 ||
        pvm_db_copy_text(st, VM_COL_INITRD, vm->initrd, sizeof vm->initrd, "vms.initrd",
                         err) < 0 ||
        pvm_db_copy_text(st, VM_COL_APPEND, vm->append, sizeof vm->append, "vms.append",
                         err) < 0 ||
        pvm_db_copy_text(st, VM_COL_FORWARDS, vm->forwards, sizeof vm->forwards,
                         "vms.forwards", err) < 0 ||
        pvm_db_copy_text(st, VM_COL_BRIDGE, vm->bridge, sizeof vm->bridge, "vms.bridge",
                         err) < 0)
        return -1;
    return pvm_read_numbers(st, vm, err);
}

/* --------------------------------------------------------------------- API */

static int pvm_vm_row(sqlite3_stmt *st, void *out, pvm_error *err)
{
    return pvm_read_vm(st, out, err);
}

static int pvm_vm_bind(sqlite3_stmt *st, const void *row, pvm_error *err)
{
    return pvm_bind_vm(st, row, err);
}

static const pvm_db_table pvm_vms = {
    .kind = "VM",
    .get_sql = pvm_sql_get,
    .list_sql = pvm_sql_list,
    .delete_sql = pvm_sql_delete,
    .parent = "profile",
    .read = pvm_vm_row,
    .bind = pvm_vm_bind,
    .row_size = sizeof(pvm_vm),
};

int pvm_db_vm_insert(pvm_store *s, const pvm_vm *vm, pvm_error *err)
{
    pvm_db_keys k = {.id = vm->id, .name = vm->name, .parent_id = vm->profile_id};
    return pvm_db_table_write(s, &pvm_vms, pvm_sql_insert, vm, &k, false, err);
}

int pvm_db_vm_update(pvm_store *s, const pvm_vm *vm, pvm_error *err)
{
    pvm_db_keys k = {.id = vm->id, .name = vm->name, .parent_id = vm->profile_id};
    return pvm_db_table_write(s, &pvm_vms, pvm_sql_update, vm, &k, true, err);
}

int pvm_db_vm_get(pvm_store *s, const char *name_or_id, pvm_vm *out, pvm_error *err)
{
    return pvm_db_table_get(s, &pvm_vms, name_or_id, out, err);
}

int pvm_db_vm_list(pvm_store *s, pvm_vm **out, size_t *count, pvm_error *err)
{
    void *list = NULL;
    int rc = pvm_db_table_list(s, &pvm_vms, &list, count, err);
    *out = list;
    return rc;
}

int pvm_db_vm_get_id(pvm_store *s, const char *id, pvm_vm *out, pvm_error *err)
{
    pvm_db_table t = pvm_vms;
    t.get_sql = pvm_sql_get_id;
    return pvm_db_table_get(s, &t, id, out, err);
}

/* One row of pvm_sql_list_brief, by position (the SQL above names the columns); the
 * numbers are checked as pvm_read_numbers checks them. */
static int pvm_read_brief(sqlite3_stmt *st, void *out, pvm_error *err)
{
    pvm_vm_brief *b = out;
    int64_t cpus, mem;
    memset(b, 0, sizeof *b);
    if (pvm_db_copy_text(st, 0, b->id, sizeof b->id, "vms.id", err) < 0 ||
        pvm_db_copy_text(st, 1, b->name, sizeof b->name, "vms.name", err) < 0 ||
        pvm_db_copy_text(st, 2, b->profile_id, sizeof b->profile_id, "vms.profile_id",
                         err) < 0 ||
        pvm_read_range(st, 3, 0, INT32_MAX, &cpus, err) < 0 ||
        pvm_read_range(st, 4, 0, INT64_MAX, &mem, err) < 0)
        return -1;
    b->cpus = (int)cpus;
    b->memory_bytes = (uint64_t)mem;
    return 0;
}

int pvm_db_vm_list_brief(pvm_store *s, pvm_vm_brief **out, size_t *count, pvm_error *err)
{
    pvm_db_table t = pvm_vms;
    t.list_sql = pvm_sql_list_brief;
    t.read = pvm_read_brief;
    t.row_size = sizeof(pvm_vm_brief);
    void *list = NULL;
    int rc = pvm_db_table_list(s, &t, &list, count, err);
    *out = list;
    return rc;
}

int pvm_db_vm_delete(pvm_store *s, const char *id, pvm_error *err)
{
    return pvm_db_table_delete(s, &pvm_vms, id, err);
}
