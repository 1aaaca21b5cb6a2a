/* store.c - opening the SQLite store: file creation (0600), refusal of a newer
 * schema without touching the file, pragmas (WAL, foreign keys, busy timeout),
 * the migrations, transactions and the helpers db/ shares. Called by the engine. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/stat.h>
#include <unistd.h>

#define PVM_BUSY_TIMEOUT_MS 5000

/* ------------------------------------------------------------ shared helpers */

/* The store's file system has no free block left (a full disk, or a guest that
 * filled its sparse disk on the same file system). */
static bool pvm_db_disk_full(sqlite3 *db, const char **path)
{
    const char *f = db ? sqlite3_db_filename(db, "main") : NULL;
    struct statvfs v;
    *path = f && *f ? f : "the data folder";
    return f && *f && statvfs(f, &v) == 0 && v.f_bavail == 0;
}

int pvm_db_fail(sqlite3 *db, int rc, const char *what, pvm_error *err)
{
    int primary = rc & 0xff;
    const char *msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    const char *path;
    bool full = pvm_db_disk_full(db, &path);
    if (primary == SQLITE_FULL || (full && (primary == SQLITE_IOERR || primary == SQLITE_READONLY ||
                                            primary == SQLITE_CANTOPEN)))
        return pvm_error_set(err, PVM_E_IO, "%s: no space left on device (%s): free space "
                             "there, then retry (reading commands keep working)", what, path);
    if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED)
        return pvm_error_set(err, PVM_E_BUSY,
                             "%s: the store is busy (another session holds it): %s", what, msg);
    return pvm_error_set(err, PVM_E_STORE, "%s: %s", what, msg);
}

int pvm_db_prepare(pvm_store *s, const char *sql, sqlite3_stmt **st, pvm_error *err)
{
    int rc = sqlite3_prepare_v2(s->db, sql, -1, st, NULL);
    if (rc != SQLITE_OK) {
        *st = NULL;
        return pvm_db_fail(s->db, rc, "store: preparing a statement", err);
    }
    /* A write on its own (no pvm_store_begin around it) meets the same full-disk refusal
     * as a transaction: every write of the store comes through here. */
    const char *path;
    if (!sqlite3_stmt_readonly(*st) && sqlite3_get_autocommit(s->db) &&
        pvm_db_disk_full(s->db, &path)) {
        sqlite3_finalize(*st);
        *st = NULL;
        return pvm_db_fail(s->db, SQLITE_FULL, "store: writing", err);
    }
    return 0;
}

static int pvm_db_param(sqlite3_stmt *st, const char *param, pvm_error *err)
{
    int idx = sqlite3_bind_parameter_index(st, param);
    if (idx == 0)
        pvm_error_set(err, PVM_E_SCHEMA, "store: statement has no parameter %s", param);
    return idx;
}

int pvm_db_bind_text(sqlite3_stmt *st, const char *param, const char *value, pvm_error *err)
{
    int idx = pvm_db_param(st, param, err);
    if (idx == 0)
        return -1;
    int rc = value ? sqlite3_bind_text(st, idx, value, -1, SQLITE_TRANSIENT)
                   : sqlite3_bind_null(st, idx);
    if (rc != SQLITE_OK)
        return pvm_db_fail(sqlite3_db_handle(st), rc, param, err);
    return 0;
}

int pvm_db_bind_int64(sqlite3_stmt *st, const char *param, int64_t value, pvm_error *err)
{
    int idx = pvm_db_param(st, param, err);
    if (idx == 0)
        return -1;
    int rc = sqlite3_bind_int64(st, idx, value);
    if (rc != SQLITE_OK)
        return pvm_db_fail(sqlite3_db_handle(st), rc, param, err);
    return 0;
}

int pvm_db_copy_text(sqlite3_stmt *st, int col, char *dst, size_t size,
                     const char *what, pvm_error *err)
{
    const unsigned char *text = sqlite3_column_text(st, col);
    size_t len = (size_t)sqlite3_column_bytes(st, col);
    if (!text) {
        if (sqlite3_column_type(st, col) != SQLITE_NULL)
            return pvm_db_fail(sqlite3_db_handle(st), SQLITE_NOMEM, what, err);
        dst[0] = '\0';
        return 0;
    }
    if (len >= size)
        return pvm_error_set(err, PVM_E_SCHEMA,
                             "%s: stored value is %zu bytes, more than the %zu allowed",
                             what, len, size - 1);
    if (memchr(text, '\0', len))
        return pvm_error_set(err, PVM_E_SCHEMA, "%s: stored value holds a NUL byte", what);
    memcpy(dst, text, len);
    dst[len] = '\0';
    return 0;
}

int pvm_db_step_done(pvm_store *s, sqlite3_stmt *st, const char *what, pvm_error *err)
{
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        return pvm_db_fail(s->db, rc, what, err);
    return 0;
}

/* ---------------------------------------------------------------- migrations */

static int pvm_exec(sqlite3 *db, const char *sql, const char *what, pvm_error *err)
{
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return pvm_db_fail(db, rc, what, err);
    return 0;
}

/* 1: hardware profiles and the event log. */
static int pvm_migrate_1(sqlite3 *db, pvm_error *err)
{
    static const char sql[] =
        "CREATE TABLE profiles ("
        " id TEXT PRIMARY KEY NOT NULL,"
        " name TEXT NOT NULL UNIQUE,"
        " manufacturer TEXT NOT NULL DEFAULT '',"
        " product TEXT NOT NULL DEFAULT '',"
        " version TEXT NOT NULL DEFAULT '',"
        " family TEXT NOT NULL DEFAULT '',"
        " sku TEXT NOT NULL DEFAULT '',"
        " board_manufacturer TEXT NOT NULL DEFAULT '',"
        " board_product TEXT NOT NULL DEFAULT '',"
        " board_version TEXT NOT NULL DEFAULT '',"
        " board_serial TEXT NOT NULL DEFAULT '',"
        " chassis_manufacturer TEXT NOT NULL DEFAULT '',"
        " chassis_serial TEXT NOT NULL DEFAULT '',"
        " chassis_asset TEXT NOT NULL DEFAULT '',"
        " bios_vendor TEXT NOT NULL DEFAULT '',"
        " bios_version TEXT NOT NULL DEFAULT '',"
        " bios_date TEXT NOT NULL DEFAULT '',"
        " cpu_model TEXT NOT NULL DEFAULT '',"
        " cpu_manufacturer TEXT NOT NULL DEFAULT '',"
        " memory_manufacturer TEXT NOT NULL DEFAULT '',"
        " machine_id TEXT NOT NULL DEFAULT '',"
        " mac TEXT NOT NULL DEFAULT '',"
        " serial TEXT NOT NULL DEFAULT '',"
        " disk_serial TEXT NOT NULL DEFAULT '',"
        " hide_hypervisor INTEGER NOT NULL DEFAULT 1,"
        " preset TEXT NOT NULL DEFAULT '',"
        " created_at INTEGER NOT NULL DEFAULT 0,"
        " updated_at INTEGER NOT NULL DEFAULT 0"
        ");"
        "CREATE INDEX profiles_serial ON profiles(serial);"
        "CREATE INDEX profiles_machine_id ON profiles(lower(machine_id));"
        "CREATE INDEX profiles_mac ON profiles(lower(mac));"
        "CREATE TABLE events ("
        " id INTEGER PRIMARY KEY,"
        " at INTEGER NOT NULL,"
        " object_id TEXT,"
        " kind TEXT NOT NULL,"
        " detail TEXT"
        ");"
        "CREATE INDEX events_object ON events(object_id);";
    return pvm_exec(db, sql, "store: migration 1 (profiles, events)", err);
}

/* 2: virtual machines. Enums are stored as their integer values. */
static int pvm_migrate_2(sqlite3 *db, pvm_error *err)
{
    static const char sql[] =
        "CREATE TABLE vms ("
        " id TEXT PRIMARY KEY NOT NULL,"
        " name TEXT NOT NULL UNIQUE,"
        " profile_id TEXT NOT NULL REFERENCES profiles(id) ON DELETE RESTRICT,"
        " cpus INTEGER NOT NULL,"
        " memory_bytes INTEGER NOT NULL,"
        " disk_bytes INTEGER NOT NULL,"
        " disk_bus INTEGER NOT NULL,"
        " nic INTEGER NOT NULL,"
        " net INTEGER NOT NULL,"
        " iso TEXT NOT NULL DEFAULT '',"
        " kernel TEXT NOT NULL DEFAULT '',"
        " initrd TEXT NOT NULL DEFAULT '',"
        " append TEXT NOT NULL DEFAULT '',"
        " created_at INTEGER NOT NULL DEFAULT 0"
        ");"
        "CREATE INDEX vms_profile ON vms(profile_id);";
    return pvm_exec(db, sql, "store: migration 2 (vms)", err);
}

/* 3: snapshots, one row per internal snapshot of a VM's disk image; deleting the VM
 * deletes them (foreign keys are on). */
static int pvm_migrate_3(sqlite3 *db, pvm_error *err)
{
    static const char sql[] =
        "CREATE TABLE snapshots ("
        " id TEXT PRIMARY KEY NOT NULL,"
        " vm_id TEXT NOT NULL REFERENCES vms(id) ON DELETE CASCADE,"
        " tag TEXT NOT NULL,"
        " created_at INTEGER NOT NULL,"
        " memory INTEGER NOT NULL,"
        " vmstate_bytes INTEGER NOT NULL DEFAULT 0,"
        " vm_clock_ns INTEGER NOT NULL DEFAULT 0,"
        " profile_id TEXT NOT NULL DEFAULT '',"
        " identity TEXT NOT NULL DEFAULT '',"
        " fingerprint TEXT NOT NULL DEFAULT '',"
        " devices TEXT NOT NULL DEFAULT '',"
        " adopted INTEGER NOT NULL DEFAULT 0,"
        " UNIQUE (vm_id, tag)"
        ");";
    return pvm_exec(db, sql, "store: migration 3 (snapshots)", err);
}

/* 4: real guests (issue 12): display, video adapter, firmware, TPM, port forwards and
 * the host bridge of each VM. The defaults are what a VM had before. */
static int pvm_migrate_4(sqlite3 *db, pvm_error *err)
{
    static const char sql[] =
        "ALTER TABLE vms ADD COLUMN display INTEGER NOT NULL DEFAULT 0;"
        "ALTER TABLE vms ADD COLUMN video INTEGER NOT NULL DEFAULT 0;"
        "ALTER TABLE vms ADD COLUMN firmware INTEGER NOT NULL DEFAULT 0;"
        "ALTER TABLE vms ADD COLUMN tpm INTEGER NOT NULL DEFAULT 0;"
        "ALTER TABLE vms ADD COLUMN forwards TEXT NOT NULL DEFAULT '';"
        "ALTER TABLE vms ADD COLUMN bridge TEXT NOT NULL DEFAULT '';";
    return pvm_exec(db, sql, "store: migration 4 (vm display, firmware, tpm, network)", err);
}

/* 5: installs (engine/install.c): one row per complete, successful install. */
static int pvm_migrate_5(sqlite3 *db, pvm_error *err)
{
    static const char sql[] =
        "CREATE TABLE installs ("
        " id TEXT PRIMARY KEY NOT NULL,"
        " vm_id TEXT NOT NULL REFERENCES vms(id) ON DELETE CASCADE,"
        " file TEXT NOT NULL,"
        " guest_path TEXT NOT NULL,"
        " bytes INTEGER NOT NULL,"
        " sha256 TEXT NOT NULL,"
        " command TEXT NOT NULL DEFAULT '',"
        " status INTEGER NOT NULL DEFAULT 0,"
        " output TEXT NOT NULL DEFAULT '',"
        " at INTEGER NOT NULL"
        ");"
        "CREATE INDEX installs_vm ON installs(vm_id);";
    return pvm_exec(db, sql, "store: migration 5 (installs)", err);
}

/* 6: the profile's CPU topology and identity numbers and its chassis type (issue 13);
 * '' (not set) for the profiles stored before. */
static int pvm_migrate_6(sqlite3 *db, pvm_error *err)
{
    static const char sql[] =
        "ALTER TABLE profiles ADD COLUMN chassis_type TEXT NOT NULL DEFAULT '';"
        "ALTER TABLE profiles ADD COLUMN cpu_cores TEXT NOT NULL DEFAULT '';"
        "ALTER TABLE profiles ADD COLUMN cpu_threads TEXT NOT NULL DEFAULT '';"
        "ALTER TABLE profiles ADD COLUMN cpu_family TEXT NOT NULL DEFAULT '';"
        "ALTER TABLE profiles ADD COLUMN cpu_model_number TEXT NOT NULL DEFAULT '';"
        "ALTER TABLE profiles ADD COLUMN cpu_stepping TEXT NOT NULL DEFAULT '';"
        "ALTER TABLE profiles ADD COLUMN cpu_microcode TEXT NOT NULL DEFAULT '';";
    return pvm_exec(db, sql, "store: migration 6 (profile cpu topology, chassis type)", err);
}

/* 7: no table change. vms.video gained the value 3 (cirrus), which a build that knows
 * schema 6 reads as "out of range" on every VM; the version bump makes such a build
 * refuse the whole store with the clear "written by a newer privarion-vm" message. */
static int pvm_migrate_7(sqlite3 *db, pvm_error *err)
{
    (void)db;
    (void)err;
    return 0;
}

/* 8: the Profiles pane's list (pvm_db_profile_list_brief: id, name, manufacturer and
 * product in name order, any case first) read from one covering index in its order: a
 * third of the pages the table takes and no sort (the TUI's first frame with 1,000
 * profiles; issue 8). */
static int pvm_migrate_8(sqlite3 *db, pvm_error *err)
{
    static const char sql[] = "CREATE INDEX profiles_list ON profiles"
                              "(name COLLATE NOCASE, name, id, manufacturer, product);";
    return pvm_exec(db, sql, "store: migration 8 (the profile list's index)", err);
}

/* Each entry runs in one BEGIN IMMEDIATE transaction with its version bump.
 * New migrations (snapshots, installs, ...) are appended here. */
static const struct pvm_migration {
    int version;
    int (*run)(sqlite3 *db, pvm_error *err);
    const char *set_version; /* literal: PRAGMA cannot take a bound value */
} pvm_migrations[] = {
    {1, pvm_migrate_1, "PRAGMA user_version = 1"},
    {2, pvm_migrate_2, "PRAGMA user_version = 2"},
    {3, pvm_migrate_3, "PRAGMA user_version = 3"},
    {4, pvm_migrate_4, "PRAGMA user_version = 4"},
    {5, pvm_migrate_5, "PRAGMA user_version = 5"},
    {6, pvm_migrate_6, "PRAGMA user_version = 6"},
    {7, pvm_migrate_7, "PRAGMA user_version = 7"},
    {8, pvm_migrate_8, "PRAGMA user_version = 8"},
};

#define PVM_MIGRATION_COUNT ((int)(sizeof pvm_migrations / sizeof pvm_migrations[0]))

int pvm_store_latest_version(void)
{
    return pvm_migrations[PVM_MIGRATION_COUNT - 1].version;
}

static int pvm_read_version(sqlite3 *db, int *version, pvm_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            *version = sqlite3_column_int(st, 0);
            rc = SQLITE_OK;
        }
    }
    if (rc != SQLITE_OK) {
        pvm_db_fail(db, rc, "store: reading the schema version", err);
        sqlite3_finalize(st);
        return -1;
    }
    sqlite3_finalize(st);
    return 0;
}

static int pvm_newer_schema(const char *path, int version, pvm_error *err)
{
    return pvm_error_set(err, PVM_E_SCHEMA,
                         "%s was written by a newer privarion-vm (schema %d; this build "
                         "knows up to %d); refusing to change it",
                         path, version, pvm_store_latest_version());
}

/* Applies migration m unless another session already did (the version is
 * re-read under the write lock). */
static int pvm_migrate_one(sqlite3 *db, const struct pvm_migration *m, const char *path,
                           pvm_error *err)
{
    int version = 0;
    if (pvm_exec(db, "BEGIN IMMEDIATE", "store: starting a migration", err) < 0)
        return -1;
    if (pvm_read_version(db, &version, err) < 0)
        goto fail;
    if (version > pvm_store_latest_version()) {
        pvm_newer_schema(path, version, err);
        goto fail;
    }
    if (version < m->version) {
        if (m->run(db, err) < 0 ||
            pvm_exec(db, m->set_version, "store: recording the schema version", err) < 0)
            goto fail;
    }
    if (pvm_exec(db, "COMMIT", "store: committing a migration", err) < 0)
        goto fail;
    return 0;
fail:
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}

static int pvm_migrate(sqlite3 *db, int from, int to, const char *path, pvm_error *err)
{
    for (int i = 0; i < PVM_MIGRATION_COUNT; i++) {
        const struct pvm_migration *m = &pvm_migrations[i];
        if (m->version <= from || m->version > to)
            continue;
        if (pvm_migrate_one(db, m, path, err) < 0)
            return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- opening */

/* Creates the file with mode 0600 when it does not exist yet. */
static int pvm_create_file(const char *path, pvm_error *err)
{
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        if (errno == EEXIST)
            return 0;
        return pvm_error_set(err, PVM_E_IO, "%s: cannot create: %s", path, strerror(errno));
    }
    int rc = fchmod(fd, 0600);
    int saved = errno;
    close(fd);
    if (rc < 0)
        return pvm_error_set(err, PVM_E_IO, "%s: cannot set mode 0600: %s", path,
                             strerror(saved));
    return 0;
}

/* Reads user_version straight from the file header (big-endian at offset 60)
 * so a newer database is refused before SQLite opens it at all. A file that
 * is empty or not SQLite gives 0 here; SQLite itself then judges it.
 * The read goes through SQLite's own file layer, not open()/close(): closing
 * any descriptor of the file drops every POSIX lock this process holds on it,
 * so a second engine handle in one process (the TUI's engine thread) would
 * strip the first handle's locks and another process could then checkpoint
 * and delete the WAL under it. SQLite's layer defers such a close. */
static int pvm_header_version(const char *path, int *version, pvm_error *err)
{
    unsigned char h[100];
    *version = 0;
    sqlite3_vfs *vfs = sqlite3_vfs_find(NULL);
    sqlite3_file *f = vfs ? pvm_xcalloc(1, (size_t)vfs->szOsFile) : NULL;
    int out_flags = 0;
    if (!f || vfs->xOpen(vfs, path, f, SQLITE_OPEN_READONLY | SQLITE_OPEN_MAIN_DB, &out_flags) !=
                  SQLITE_OK) {
        free(f);
        return pvm_error_set(err, PVM_E_IO, "%s: cannot open: %s", path, strerror(errno));
    }
    int rc = f->pMethods->xRead(f, h, (int)sizeof h, 0);
    f->pMethods->xClose(f);
    free(f);
    ssize_t n = rc == SQLITE_OK ? (ssize_t)sizeof h : 0;
    if (n == (ssize_t)sizeof h && memcmp(h, "SQLite format 3", 16) == 0)
        *version = (int)((uint32_t)h[60] << 24 | (uint32_t)h[61] << 16 |
                         (uint32_t)h[62] << 8 | (uint32_t)h[63]);
    return 0;
}

/* Reads the schema version without writing anything. No checkpoint on close,
 * ever: a refused (newer) store must stay untouched, and closing the last
 * connection would otherwise copy the log into state.db, sync both, and delete
 * -wal and -shm, only for the next command to make them again (two flushes, a
 * folder sync and two files per command: most of what vm create cost beyond
 * qemu-img). The log stays, as after a crash of the program, which WAL is made
 * for; SQLite's automatic checkpoint at 1000 pages keeps it small. */
static int pvm_check_version(sqlite3 *db, const char *path, int *version, pvm_error *err)
{
    sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
    if (pvm_read_version(db, version, err) < 0)
        return -1;
    if (*version > pvm_store_latest_version() || *version < 0)
        return pvm_newer_schema(path, *version, err);
    return 0;
}

#define PVM_WAL_PAGES 128      /* log pages that make a commit checkpoint */
#define PVM_WAL_BUSY_MS 200     /* how long that checkpoint waits for other sessions */

/* After each commit (sqlite3_wal_hook): once the log holds PVM_WAL_PAGES pages, copies
 * it into state.db and truncates it to zero bytes (SQLITE_CHECKPOINT_TRUNCATE), so the
 * next process finds no log to read. Readers or a writer of another session keep it for
 * the next commit (busy after PVM_WAL_BUSY_MS: the log just stays a little longer). */
static int pvm_wal_hook(void *ctx, sqlite3 *db, const char *schema, int pages)
{
    (void)ctx;
    if (pages < PVM_WAL_PAGES)
        return SQLITE_OK;
    sqlite3_busy_timeout(db, PVM_WAL_BUSY_MS);
    sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    sqlite3_busy_timeout(db, PVM_BUSY_TIMEOUT_MS);
    return SQLITE_OK; /* a checkpoint that could not finish fails no commit */
}

static int pvm_set_pragmas(sqlite3 *db, pvm_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *mode = (const char *)sqlite3_column_text(st, 0);
        bool wal = mode && strcmp(mode, "wal") == 0;
        sqlite3_finalize(st);
        if (!wal)
            return pvm_error_set(err, PVM_E_STORE,
                                 "store: the file system does not allow WAL journaling");
    } else {
        pvm_db_fail(db, rc, "store: switching to WAL", err);
        sqlite3_finalize(st);
        return -1;
    }
    if (pvm_exec(db, "PRAGMA foreign_keys = ON", "store: enabling foreign keys", err) < 0)
        return -1;
    /* WAL's usual setting: a commit waits for no disk flush (the checkpoints still
     * sync), so the store stays consistent across any crash and survives a crash of
     * the program with every commit; only a power loss may take back the last
     * commits. It saves a flush per write (vm start's event, vm create's row). */
    if (pvm_exec(db, "PRAGMA synchronous = NORMAL", "store: setting synchronous", err) < 0)
        return -1;
    /* The log outlives each command (no checkpoint on close, pvm_check_version), and
     * the first connection to open it reads all of it to rebuild its index: 128 pages
     * (512 KiB; vm create writes about 6) keep that read short, and the checkpoint
     * that empties the log (two flushes) comes once every few dozen writes. SQLite's
     * own automatic checkpoint cannot keep it short across processes: it copies the
     * log but leaves it in place for the next writer of the same connection to
     * restart, and every new process rebuilds its index counting nothing as copied,
     * so a log once grown (a 1,000-profile import: 800 pages) was read whole by every
     * command and copied whole by every write. pvm_wal_hook empties it instead. */
    if (pvm_exec(db, "PRAGMA wal_autocheckpoint = 0", "store: setting the checkpoint size",
                 err) < 0)
        return -1;
    sqlite3_wal_hook(db, pvm_wal_hook, NULL);
    return 0;
}

static int pvm_open_db(const char *path, int version, sqlite3 *db, pvm_error *err)
{
    int current = 0;
    int rc = sqlite3_busy_timeout(db, PVM_BUSY_TIMEOUT_MS);
    if (rc != SQLITE_OK)
        return pvm_db_fail(db, rc, "store: setting the busy timeout", err);
    sqlite3_extended_result_codes(db, 1);
    if (pvm_check_version(db, path, &current, err) < 0 || pvm_set_pragmas(db, err) < 0)
        return -1;
    return pvm_migrate(db, current, version, path, err);
}

static bool pvm_store_full(const char *path)
{
    struct statvfs v;
    return statvfs(path, &v) == 0 && v.f_bavail == 0;
}

/* Read-only for a store on a full disk: immutable (no -shm or -wal is made) only
 * when there is no write-ahead log with commits in it, since an immutable open
 * ignores the log; with one, a plain read-only open (SQLite reads the log through
 * the existing -shm). Writes then fail and pvm_db_fail says "no space left on device". */
static int pvm_store_open_readonly(const char *path, int version, sqlite3 **out,
                                   pvm_error *err)
{
    size_t n = strlen(path);
    char *uri = pvm_xmalloc(3 * n + 32), *u = uri;
    u += sprintf(u, "file:");
    for (const char *c = path; *c; c++) /* percent-escape what a URI would read */
        u += strchr("%?#", *c) || (unsigned char)*c < 0x21 ? sprintf(u, "%%%02X", (unsigned char)*c)
                                                            : sprintf(u, "%c", *c);
    char *wal = pvm_xasprintf("%s-wal", path);
    struct stat ws;
    bool log = stat(wal, &ws) == 0 && ws.st_size > 0;
    free(wal);
    sprintf(u, log ? "?mode=ro" : "?immutable=1");
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(uri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI |
                                           SQLITE_OPEN_NOMUTEX, NULL);
    free(uri);
    int current = 0;
    if (rc != SQLITE_OK) {
        pvm_db_fail(db, rc, "store: opening read-only", err);
    } else if (pvm_read_version(db, &current, err) == 0) {
        if (current == version && sqlite3_exec(db, "PRAGMA foreign_keys = ON", NULL, NULL,
                                               NULL) == SQLITE_OK) {
            *out = db;
            return 0;
        }
        pvm_error_set(err, PVM_E_IO, "%s: no space left on device, and the store needs an "
                      "upgrade (schema %d to %d): free space, then retry", path, current,
                      version);
    }
    sqlite3_close(db);
    return -1;
}

int pvm_store_open_at(const char *path, int version, pvm_store **out, pvm_error *err)
{
    int header = 0;
    *out = NULL;
    if (version < 0 || version > pvm_store_latest_version())
        return pvm_error_set(err, PVM_E_INVALID, "store: schema version %d is not between 0 and %d",
                             version, pvm_store_latest_version());
    if (pvm_create_file(path, err) < 0 || pvm_header_version(path, &header, err) < 0)
        return -1;
    if (header > pvm_store_latest_version() || header < 0)
        return pvm_newer_schema(path, header, err);
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        pvm_error_set(err, PVM_E_STORE, "%s: cannot open: %s", path,
                      db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close(db);
        return -1;
    }
    if (pvm_open_db(path, version, db, err) < 0) {
        sqlite3_close(db);
        /* A full disk: WAL needs a write even to read. Read what is there. */
        if (!pvm_store_full(path) || pvm_store_open_readonly(path, version, &db, err) < 0)
            return -1;
    }
    pvm_store *s = pvm_xcalloc(1, sizeof *s);
    s->db = db;
    *out = s;
    return 0;
}

int pvm_store_open(const char *path, pvm_store **out, pvm_error *err)
{
    return pvm_store_open_at(path, pvm_store_latest_version(), out, err);
}

void pvm_store_close(pvm_store *s)
{
    if (!s)
        return;
    sqlite3_close_v2(s->db);
    free(s);
}

int pvm_store_version(pvm_store *s, int *version, pvm_error *err)
{
    return pvm_read_version(s->db, version, err);
}

int pvm_store_data_version(pvm_store *s, int64_t *out, pvm_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, "PRAGMA data_version", -1, &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        *out = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        return 0;
    }
    sqlite3_finalize(st);
    return pvm_db_fail(s->db, rc, "store: reading data_version", err);
}

/* ------------------------------------------------------------ transactions */

/* On a file system with no block left a write is refused before it starts: the log
 * (kept between commands) would otherwise take the frames that still fit, and the
 * store's bytes would change although nothing was committed. */
int pvm_store_begin(pvm_store *s, pvm_error *err)
{
    const char *path;
    if (pvm_db_disk_full(s->db, &path))
        return pvm_db_fail(s->db, SQLITE_FULL, "store: starting a transaction", err);
    return pvm_exec(s->db, "BEGIN IMMEDIATE", "store: starting a transaction", err);
}

int pvm_store_commit(pvm_store *s, pvm_error *err)
{
    return pvm_exec(s->db, "COMMIT", "store: committing", err);
}

void pvm_store_rollback(pvm_store *s)
{
    if (s && !sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

int pvm_store_end(pvm_store *s, int rc, pvm_error *err)
{
    if (rc == 0 && pvm_store_commit(s, err) == 0)
        return 0;
    pvm_store_rollback(s);
    return -1;
}
