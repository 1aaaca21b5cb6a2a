/* test_store.c - the SQLite store on real files in a temporary folder: open,
 * pragmas, file mode, migrations and upgrade, refusal of a newer schema with
 * the file left byte-identical, profile round trips with hostile values,
 * uniqueness, identity clashes, transactions and the event log. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../db/internal.h"
#include "fixture.h"

#include <dirent.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *sibling(const fixture *fx, const char *suffix)
{
    return pvm_xasprintf("%s%s", fx->db, suffix);
}

/* The store writes nothing into its folder but its file, WAL, shared-memory
 * index and rollback journal: anything else left is a failure. */
static int teardown(void **state)
{
    fixture *fx = *state;
    static const char *const allowed[] = {"state.db", "state.db-wal", "state.db-shm",
                                          "state.db-journal"};
    int rc = 0;
    DIR *d = opendir(fx->dir);
    struct dirent *ent;
    while (d && (ent = readdir(d))) {
        bool ok = strcmp(ent->d_name, ".") == 0 || strcmp(ent->d_name, "..") == 0;
        for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
            ok = ok || strcmp(ent->d_name, allowed[i]) == 0;
        if (!ok) {
            fprintf(stderr, "store left %s/%s behind\n", fx->dir, ent->d_name);
            rc = -1;
        }
    }
    if (d)
        closedir(d);
    return fixture_teardown(state) < 0 ? -1 : rc;
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* Reads a whole file; *len gets its size. */
static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    unsigned char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 4096;
            buf = pvm_xrealloc(buf, cap);
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0)
            break;
    }
    fclose(f);
    *len = n;
    return buf;
}

static pvm_store *open_ok(const fixture *fx)
{
    pvm_store *s = NULL;
    pvm_error err = {0};
    if (pvm_store_open(fx->db, &s, &err) < 0)
        fail_msg("pvm_store_open: %s", err.msg);
    return s;
}

static int64_t pragma_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static bool has_table(sqlite3 *db, const char *name)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT count(*) FROM sqlite_master "
                                        "WHERE type = 'table' AND name = ?1",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    bool found = sqlite3_column_int(st, 0) == 1;
    sqlite3_finalize(st);
    return found;
}

/* Runs literal SQL on a separate raw connection (to build odd files). */
static void raw_exec(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("raw sql failed: %s", msg);
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

/* ------------------------------------------------------------ profile data */

static const char *hostile[] = {
    "'); DROP TABLE profiles;--",
    "MacBookPro18,3",
    "a,,b,c,",
    "\"double\" and 'single' quotes",
    "back\\slash\\\\",
    "-leading-dash",
    "--uuid",
    ":name ?1 @x $y",
    "%s%n%x",
    " spaces  inside ",
    "",
};
#define NHOSTILE (sizeof hostile / sizeof hostile[0])

/* A profile with every identity field set to a hostile value (cut to fit). */
static void make_profile(pvm_profile *p, const char *id, const char *name, size_t seed)
{
    size_t n = 0;
    const pvm_field *fields = pvm_profile_fields(&n);
    memset(p, 0, sizeof *p);
    pvm_strlcpy(p->id, id, sizeof p->id);
    pvm_strlcpy(p->name, name, sizeof p->name);
    for (size_t i = 0; i < n; i++) {
        char *dst = pvm_profile_field_ptr(p, &fields[i]);
        pvm_strlcpy(dst, hostile[(i + seed) % NHOSTILE], fields[i].size);
    }
    p->hide_hypervisor = seed % 2 == 0;
    pvm_strlcpy(p->preset, "dell,latitude'7420", sizeof p->preset);
    p->created_at = 1700000000 + (int64_t)seed;
    p->updated_at = 1700000100 + (int64_t)seed;
}

static void assert_profile_equal(const pvm_profile *a, const pvm_profile *b)
{
    size_t n = 0;
    const pvm_field *fields = pvm_profile_fields(&n);
    assert_string_equal(a->id, b->id);
    assert_string_equal(a->name, b->name);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(pvm_profile_field_cptr(a, &fields[i]),
                            pvm_profile_field_cptr(b, &fields[i]));
    assert_int_equal(a->hide_hypervisor, b->hide_hypervisor);
    assert_string_equal(a->preset, b->preset);
    assert_int_equal(a->created_at, b->created_at);
    assert_int_equal(a->updated_at, b->updated_at);
}

static void insert_ok(pvm_store *s, const pvm_profile *p)
{
    pvm_error err = {0};
    if (pvm_db_profile_insert(s, p, &err) < 0)
        fail_msg("insert '%s': %s", p->name, err.msg);
}

/* ------------------------------------------------------------ open, schema */

static void test_fresh_open(void **state)
{
    fixture *fx = *state;
    umask(022);
    pvm_store *s = open_ok(fx);
    pvm_error err = {0};
    int version = -1;
    assert_int_equal(pvm_store_version(s, &version, &err), 0);
    assert_int_equal(version, pvm_store_latest_version());
    assert_true(pvm_store_latest_version() >= 2);

    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(s->db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    assert_int_equal(pragma_int(s->db, "PRAGMA foreign_keys"), 1);
    assert_true(pragma_int(s->db, "PRAGMA busy_timeout") >= 5000);
    assert_true(has_table(s->db, "profiles"));
    assert_true(has_table(s->db, "events"));
    assert_true(has_table(s->db, "vms"));

    struct stat sb;
    assert_int_equal(stat(fx->db, &sb), 0);
    assert_int_equal(sb.st_mode & 07777, 0600);
    pvm_store_close(s);

    /* Reopening an up-to-date store changes nothing and works. */
    s = open_ok(fx);
    assert_int_equal(pvm_store_version(s, &version, &err), 0);
    assert_int_equal(version, pvm_store_latest_version());
    pvm_store_close(s);
}

static void test_open_in_missing_folder_fails(void **state)
{
    fixture *fx = *state;
    char *path = pvm_xasprintf("%s/no-such-dir/state.db", fx->dir);
    pvm_store *s = NULL;
    pvm_error err = {0};
    assert_int_equal(pvm_store_open(path, &s, &err), -1);
    assert_null(s);
    assert_int_equal(err.code, PVM_E_IO);
    assert_non_null(strstr(err.msg, "no-such-dir"));
    free(path);
}

/* Inserts p with the columns of schema version 1 only (migration 6 added the number and
 * chassis fields), and clears those fields in p, as an upgraded row has them. */
static void insert_v1(const char *path, pvm_profile *p)
{
    size_t n;
    const pvm_field *f = pvm_profile_fields(&n);
    char *cols = sqlite3_mprintf("id, name, hide_hypervisor, preset, created_at, updated_at");
    char *vals = sqlite3_mprintf("%Q, %Q, %d, %Q, %lld, %lld", p->id, p->name,
                                 p->hide_hypervisor, p->preset, (long long)p->created_at,
                                 (long long)p->updated_at);
    for (size_t i = 0; i < n; i++) {
        char *v = pvm_profile_field_ptr(p, &f[i]);
        if (f[i].kind == PVM_FK_UINT || f[i].kind == PVM_FK_HEX || f[i].kind == PVM_FK_CHASSIS) {
            memset(v, 0, f[i].size);
            continue;
        }
        char *c2 = sqlite3_mprintf("%s, %s", cols, f[i].column);
        char *v2 = sqlite3_mprintf("%s, %Q", vals, v);
        sqlite3_free(cols);
        sqlite3_free(vals);
        cols = c2;
        vals = v2;
    }
    char *sql = sqlite3_mprintf("INSERT INTO profiles (%s) VALUES (%s)", cols, vals);
    raw_exec(path, sql);
    sqlite3_free(sql);
    sqlite3_free(cols);
    sqlite3_free(vals);
}

static void test_upgrade_from_1(void **state)
{
    fixture *fx = *state;
    pvm_store *s = NULL;
    pvm_error err = {0};
    int version = -1;
    assert_int_equal(pvm_store_open_at(fx->db, 1, &s, &err), 0);
    assert_int_equal(pvm_store_version(s, &version, &err), 0);
    assert_int_equal(version, 1);
    assert_true(has_table(s->db, "profiles"));
    assert_false(has_table(s->db, "vms"));
    pvm_profile p, got;
    make_profile(&p, "11111111-2222-4333-8444-555555555555", "kept across upgrade", 3);
    pvm_store_close(s);
    insert_v1(fx->db, &p); /* the columns version 1 has; the later ones read back empty */

    s = open_ok(fx);
    assert_int_equal(pvm_store_version(s, &version, &err), 0);
    assert_int_equal(version, pvm_store_latest_version());
    assert_true(has_table(s->db, "vms"));
    assert_true(has_table(s->db, "snapshots"));
    assert_true(has_table(s->db, "installs"));
    assert_int_equal(pvm_db_profile_get(s, "kept across upgrade", &got, &err), 0);
    assert_profile_equal(&p, &got);
    pvm_store_close(s);
}

/* A migration that fails is rolled back whole: version and schema unchanged. */
static void test_failed_migration_rolls_back(void **state)
{
    fixture *fx = *state;
    pvm_store *s = NULL;
    pvm_error err = {0};
    assert_int_equal(pvm_store_open_at(fx->db, 1, &s, &err), 0);
    pvm_store_close(s);
    s = NULL;
    /* The table is created, then its index collides: both must be undone. */
    raw_exec(fx->db, "CREATE INDEX vms_profile ON profiles(name)");
    assert_int_equal(pvm_store_open(fx->db, &s, &err), -1);
    assert_null(s);
    assert_int_equal(err.code, PVM_E_STORE);
    assert_non_null(strstr(err.msg, "migration 2"));
    assert_non_null(strstr(err.msg, "already exists"));

    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(fx->db, &db), SQLITE_OK);
    assert_int_equal(pragma_int(db, "PRAGMA user_version"), 1);
    assert_false(has_table(db, "vms"));
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

/* Migration 7 changes no table: it marks a store that may hold vms.video = 3 (cirrus), so a
 * build that knows schema 6 refuses it as newer instead of failing every VM read. A store
 * at 6 is upgraded to 7 with its rows kept; a file at 7 is what such a build refuses. */
/* Migration 8: the brief profile list (the TUI's Profiles pane) is read from its covering
 * index in the list's order, with no table scan and no sort; its rows and order are the
 * full list's (the query below is pvm_sql_list_brief's in db/profiles.c). */
static void test_schema_8_profile_list_index(void **state)
{
    fixture *fx = *state;
    pvm_store *s = open_ok(fx);
    pvm_error err = {0};
    const char *names[] = {"bravo", "Alpha", "charlie", "alpha"};
    for (size_t i = 0; i < 4; i++) {
        pvm_profile p;
        char id[PVM_UUID_LEN + 1];
        snprintf(id, sizeof id, "11111111-2222-4333-8444-%012zu", i);
        make_profile(&p, id, names[i], 10 + i);
        assert_int_equal(pvm_db_profile_insert(s, &p, &err), 0);
    }
    pvm_profile *all = NULL;
    pvm_profile_brief *brief = NULL;
    size_t n = 0, nb = 0;
    assert_int_equal(pvm_db_profile_list(s, &all, &n, &err), 0);
    assert_int_equal(pvm_db_profile_list_brief(s, &brief, &nb, &err), 0);
    assert_int_equal(nb, 4);
    assert_int_equal(n, nb);
    const char *order[] = {"Alpha", "alpha", "bravo", "charlie"};
    for (size_t i = 0; i < nb; i++) {
        assert_string_equal(brief[i].name, order[i]);
        assert_string_equal(brief[i].id, all[i].id);
        assert_string_equal(brief[i].manufacturer, all[i].hw.manufacturer);
        assert_string_equal(brief[i].product, all[i].hw.product);
    }
    free(all);
    free(brief);
    pvm_store_close(s);

    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open(fx->db, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "EXPLAIN QUERY PLAN SELECT id, name, manufacturer, "
                                            "product FROM profiles ORDER BY name COLLATE "
                                            "NOCASE, name", -1, &st, NULL), SQLITE_OK);
    char plan[512] = "";
    while (sqlite3_step(st) == SQLITE_ROW) {
        size_t len = strlen(plan);
        snprintf(plan + len, sizeof plan - len, "%s;", (const char *)sqlite3_column_text(st, 3));
    }
    sqlite3_finalize(st);
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
    assert_string_equal(plan, "SCAN profiles USING COVERING INDEX profiles_list;");
}

static void test_schema_7_for_cirrus(void **state)
{
    fixture *fx = *state;
    assert_int_equal(PVM_VIDEO_LAST, PVM_VIDEO_CIRRUS);
    assert_true(pvm_store_latest_version() >= 7);
    pvm_store *s = NULL;
    pvm_error err = {0};
    int version = -1;
    assert_int_equal(pvm_store_open_at(fx->db, 6, &s, &err), 0);
    assert_int_equal(pvm_store_version(s, &version, &err), 0);
    assert_int_equal(version, 6);
    pvm_profile p, got;
    make_profile(&p, "11111111-2222-4333-8444-666666666666", "kept across 7", 3);
    assert_int_equal(pvm_db_profile_insert(s, &p, &err), 0);
    pvm_store_close(s);
    s = open_ok(fx);
    assert_int_equal(pvm_store_version(s, &version, &err), 0);
    assert_int_equal(version, pvm_store_latest_version());
    assert_int_equal(pvm_db_profile_get(s, "kept across 7", &got, &err), 0);
    assert_profile_equal(&p, &got);
    pvm_store_close(s);
}

static void test_open_at_bad_version(void **state)
{
    fixture *fx = *state;
    pvm_store *s = NULL;
    pvm_error err = {0};
    assert_int_equal(pvm_store_open_at(fx->db, pvm_store_latest_version() + 1, &s, &err), -1);
    assert_int_equal(err.code, PVM_E_INVALID);
    assert_null(s);
}

/* Opens a newer file, expects PVM_E_SCHEMA and no change to its bytes. */
static void assert_refused_untouched(const fixture *fx, int version)
{
    size_t len_before = 0, len_after = 0;
    unsigned char *before = slurp(fx->db, &len_before);
    pvm_store *s = NULL;
    pvm_error err = {0};
    assert_int_equal(pvm_store_open(fx->db, &s, &err), -1);
    assert_null(s);
    assert_int_equal(err.code, PVM_E_SCHEMA);
    char *want = pvm_xasprintf("written by a newer privarion-vm (schema %d; this build knows "
                               "up to %d); refusing to change it",
                               version, pvm_store_latest_version());
    if (!strstr(err.msg, want))
        fail_msg("unexpected message: %s", err.msg);
    free(want);
    unsigned char *after = slurp(fx->db, &len_after);
    assert_int_equal(len_before, len_after);
    assert_memory_equal(before, after, len_before);
    free(before);
    free(after);
}

static void test_newer_schema_refused(void **state)
{
    fixture *fx = *state;
    raw_exec(fx->db, "CREATE TABLE future(x); INSERT INTO future VALUES (1);"
                       "PRAGMA user_version = 99;");
    assert_refused_untouched(fx, 99);
    char *wal = sibling(fx, "-wal"), *shm = sibling(fx, "-shm"), *jr = sibling(fx, "-journal");
    assert_false(exists(wal));
    assert_false(exists(shm));
    assert_false(exists(jr));
    /* A second attempt is refused the same way. */
    assert_refused_untouched(fx, 99);
    free(wal);
    free(shm);
    free(jr);
}

static void test_newer_wal_schema_refused(void **state)
{
    fixture *fx = *state;
    raw_exec(fx->db, "PRAGMA journal_mode = WAL; CREATE TABLE future(x);"
                       "PRAGMA user_version = 70;");
    assert_refused_untouched(fx, 70);
    char *wal = sibling(fx, "-wal"), *shm = sibling(fx, "-shm");
    assert_false(exists(wal));
    assert_false(exists(shm));
    free(wal);
    free(shm);
}

/* The newer version lives only in an un-checkpointed WAL: the header says 0,
 * SQLite says 42, and the main file must still not change. */
static void test_newer_schema_in_wal_refused(void **state)
{
    fixture *fx = *state;
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(fx->db, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE future(x); PRAGMA user_version = 42;",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
    char *wal = sibling(fx, "-wal");
    assert_true(exists(wal));
    size_t wal_len = 0;
    unsigned char *wal_before = slurp(wal, &wal_len);
    assert_true(wal_len > 0);

    assert_refused_untouched(fx, 42);
    size_t wal_len_after = 0;
    unsigned char *wal_after = slurp(wal, &wal_len_after);
    assert_int_equal(wal_len, wal_len_after);
    assert_memory_equal(wal_before, wal_after, wal_len);
    free(wal_before);
    free(wal_after);
    free(wal);
}

static void test_not_a_database_untouched(void **state)
{
    fixture *fx = *state;
    FILE *f = fopen(fx->db, "wb");
    assert_non_null(f);
    for (int i = 0; i < 300; i++)
        fputs("this is not an SQLite file\n", f);
    fclose(f);
    size_t len_before = 0, len_after = 0;
    unsigned char *before = slurp(fx->db, &len_before);
    pvm_store *s = NULL;
    pvm_error err = {0};
    assert_int_equal(pvm_store_open(fx->db, &s, &err), -1);
    assert_null(s);
    assert_int_equal(err.code, PVM_E_STORE);
    unsigned char *after = slurp(fx->db, &len_after);
    assert_int_equal(len_before, len_after);
    assert_memory_equal(before, after, len_before);
    free(before);
    free(after);
}

/* --------------------------------------------------------------- profiles */

static void test_profile_round_trip(void **state)
{
    fixture *fx = *state;
    pvm_store *s = open_ok(fx);
    pvm_error err = {0};
    pvm_profile a, b, got;
    make_profile(&a, "aaaaaaaa-0000-4000-8000-000000000001", "'); DROP TABLE profiles;--", 0);
    make_profile(&b, "bbbbbbbb-0000-4000-8000-000000000002", "-rm -rf, \"x\" \\ y", 5);
    insert_ok(s, &a);
    insert_ok(s, &b);

    assert_int_equal(pvm_db_profile_get(s, a.name, &got, &err), 0);
    assert_profile_equal(&a, &got);
    assert_int_equal(pvm_db_profile_get(s, b.id, &got, &err), 0);
    assert_profile_equal(&b, &got);
    assert_true(has_table(s->db, "profiles"));

    /* Update: every field changes, created_at is kept. */
    pvm_profile changed;
    make_profile(&changed, a.id, "renamed, with 'quotes'", 7);
    changed.created_at = 1;
    assert_int_equal(pvm_db_profile_update(s, &changed, &err), 0);
    assert_int_equal(pvm_db_profile_get(s, a.id, &got, &err), 0);
    changed.created_at = a.created_at;
    assert_profile_equal(&changed, &got);
    assert_int_equal(pvm_db_profile_get(s, a.name, &got, &err), -1);
    assert_int_equal(err.code, PVM_E_NOTFOUND);

    /* Delete. */
    assert_int_equal(pvm_db_profile_delete(s, a.id, &err), 0);
    assert_int_equal(pvm_db_profile_get(s, a.id, &got, &err), -1);
    assert_int_equal(err.code, PVM_E_NOTFOUND);
    assert_non_null(strstr(err.msg, "not found"));
    assert_int_equal(pvm_db_profile_delete(s, a.id, &err), -1);
    assert_int_equal(err.code, PVM_E_NOTFOUND);
    assert_int_equal(pvm_db_profile_get(s, b.name, &got, &err), 0);
    assert_profile_equal(&b, &got);
    pvm_store_close(s);
}

static void test_profile_values_survive_reopen(void **state)
{
    fixture *fx = *state;
    pvm_store *s = open_ok(fx);
    pvm_error err = {0};
    pvm_profile p[NHOSTILE], got;
    for (size_t i = 0; i < NHOSTILE; i++) {
        char id[40], name[40];
        snprintf(id, sizeof id, "cccccccc-0000-4000-8000-%012zu", i);
        snprintf(name, sizeof name, "seed %zu", i);
        make_profile(&p[i], id, name, i);
        insert_ok(s, &p[i]);
    }
    pvm_store_close(s);
    s = open_ok(fx);
    for (size_t i = 0; i < NHOSTILE; i++) {
        assert_int_equal(pvm_db_profile_get(s, p[i].id, &got, &err), 0);
        assert_profile_equal(&p[i], &got);
    }
    pvm_store_close(s);
}

static void test_profile_full_length_values(void **state)
{
    fixture *fx = *state;
    pvm_store *s = open_ok(fx);
    pvm_error err = {0};
    size_t n = 0;
    const pvm_field *fields = pvm_profile_fields(&n);
    pvm_profile p, got;
    make_profile(&p, "dddddddd-0000-4000-8000-000000000004", "", 0);
    memset(p.name, 'N', PVM_NAME_MAX);
    for (size_t i = 0; i < n; i++) {
        char *dst = pvm_profile_field_ptr(&p, &fields[i]);
        memset(dst, 'a' + (int)(i % 26), fields[i].size - 1);
        dst[fields[i].size - 1] = '\0';
    }
    insert_ok(s, &p);
    assert_int_equal(pvm_db_profile_get(s, p.id, &got, &err), 0);
    assert_profile_equal(&p, &got);
    pvm_store_close(s);
}

static void test_profile_overlong_in_db_refused(void **state)
{
    fixture *fx = *state;
    pvm_store *s = open_ok(fx);
    pvm_error err = {0};
    pvm_profile p, got;
    make_profile(&p, "eeeeeeee-0000-4000-8000-000000000005", "victim", 1);
    insert_ok(s, &p);
    assert_int_equal(sqlite3_exec(s->db,
                                  "UPDATE profiles SET disk_serial = "
                                  "'123456789012345678901'",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    memset(&got, 0x5a, sizeof got);
    assert_int_equal(pvm_db_profile_get(s, "victim", &got, &err), -1);
    assert_int_equal(err.code, PVM_E_SCHEMA);
    assert_non_null(strstr(err.msg, "disk_serial"));
    assert_int_equal((unsigned char)got.name[0], 0x5a); /* out untouched */

    pvm_profile *list = NULL;
    size_t count = 99;
    assert_int_equal(pvm_db_profile_list(s, &list, &count, &err), -1);
    assert_int_equal(err.code, PVM_E_SCHEMA);
    assert_null(list);
    assert_int_equal(count, 0);
    pvm_store_close(s);
}

static void test_profile_get_prefers_name(void **state)
{
    fixture *fx = *state;
    pvm_store *s = open_ok(fx);
    pvm_error err = {0};
    pvm_profile a, b, got;
    make_profile(&a, "f0000000-0000-4000-8000-00000000000a", "first", 0);
    /* b's name is a's id: looking up that string finds b (name first). */
    make_profile(&b, "f0000000-0000-4000-8000-00000000000b", a.id, 1);
    insert_ok(s, &a);
    insert_ok(s, &b);
    assert_int_equal(pvm_db_profile_get(s, a.id, &got, &err), 0);
    assert_string_equal(got.id, b.id);
    assert_int_equal(pvm_db_profile_get(s, "first", &got, &err), 0);
    assert_string_equal(got.id, a.id);
    assert_int_equal(pvm_db_profile_get(s, "FIRST", &got, &err), -1);
    assert_int_equal(err.code, PVM_E_NOTFOUND);
    assert_string_equal(err.msg, "profile 'FIRST' not found");
    pvm_store_close(s);
}

static void test_profile_list_sorted(void **state)
{
    fixture *fx = *state;
    pvm_store *s = open_ok(fx);
    pvm_error err = {0};
    pvm_profile *list = NULL;
    size_t count = 99;
    assert_int_equal(pvm_db_profile_list(s, &list, &count, &err), 0);
    assert_int_equal(count, 0);
    free(list);

    const char *names[] = {"zulu", "alpha", "Mike", "bravo 2", "Bravo 1"};
    const char *sorted[] = {"alpha", "Bravo 1", "bravo 2", "Mike", "zulu"};
    pvm_profile p[5];
    for (int i = 0; i < 5; i++) {
        char id[40];
        snprintf(id, sizeof id, "99999999-0000-4000-8000-%012d", i);
        make_profile(&p[i], id, names[i], (size_t)i);
        insert_ok(s, &p[i]);
    }
    assert_int_equal(pvm_db_profile_list(s, &list, &count, &err), 0);
    assert_int_equal(count, 5);
    for (int i = 0; i < 5; i++) {
        assert_string_equal(list[i].name, sorted[i]);
        for (int j = 0; j < 5; j++)
            if (strcmp(p[j].name, sorted[i]) == 0)
                assert_profile_equal(&p[j], &list[i]);
    }
    free(list);
    pvm_store_close(s);
}

static void test_profile_duplicates(void **state)
{
    fixture *fx = *state;
    pvm_store *s = open_ok(fx);
    pvm_error err = {0};
    pvm_profile a, dup, got;
    make_profile(&a, "12121212-0000-4000-8000-000000000001", "office laptop", 0);
    insert_ok(s, &a);

    make_profile(&dup, "12121212-0000-4000-8000-000000000002", "office laptop", 4);
    assert_int_equal(pvm_db_profile_insert(s, &dup, &err), -1);
    assert_int_equal(err.code, PVM_E_EXISTS);
    assert_string_equal(err.msg, "name: a profile named 'office laptop' already exists");
    assert_string_equal(err.field, "name");
    assert_int_equal(pvm_db_profile_get(s, "office laptop", &got, &err), 0);
    assert_profile_equal(&a, &got);

    make_profile(&dup, a.id, "another name", 4);
    assert_int_equal(pvm_db_profile_insert(s, &dup, &err), -1);
    assert_int_equal(err.code, PVM_E_EXISTS);
    assert_non_null(strstr(err.msg, "id: a profile with id '12121212-0000-4000-8000-000000000001'"));
    assert_string_equal(err.field, "id");
    assert_int_equal(pvm_db_profile_get(s, "another name", &got, &err), -1);
    assert_int_equal(err.code, PVM_E_NOTFOUND);

    /* Renaming a second profile onto the first name is refused too. */
    pvm_profile b;
    make_profile(&b, "12121212-0000-4000-8000-000000000003", "home desktop", 2);
    insert_ok(s, &b);
    pvm_strlcpy(b.name, "office laptop", sizeof b.name);
    assert_int_equal(pvm_db_profile_update(s, &b, &err), -1);
    assert_int_equal(err.code, PVM_E_EXISTS);
    assert_int_equal(pvm_db_profile_get(s, "home desktop", &got, &err), 0);
    assert_int_equal(pvm_db_profile_get(s, "office laptop", &got, &err), 0);
    assert_profile_equal(&a, &got);

    /* Updating a profile that does not exist. */
    make_profile(&dup, "12121212-0000-4000-8000-000000000009", "ghost", 1);
    assert_int_equal(pvm_db_profile_update(s, &dup, &err), -1);
    assert_int_equal(err.code, PVM_E_NOTFOUND);
    assert_string_equal(err.msg, "profile '12121212-0000-4000-8000-000000000009' not found");
    pvm_store_close(s);
}

/* ----------------------------------------------------------------- clashes */

static void set_identity(pvm_profile *p, const char *serial, const char *uuid, const char *mac)
{
    pvm_strlcpy(p->serial, serial, sizeof p->serial);
    pvm_strlcpy(p->machine_id, uuid, sizeof p->machine_id);
    pvm_strlcpy(p->mac, mac, sizeof p->mac);
}

static void expect_clash(pvm_store *s, const pvm_profile *p, const char *field,
                         const char *other)
{
    pvm_error err = {0};
    bool found = !field;
    char f[32] = "", name[PVM_NAME_MAX + 1] = "";
    if (pvm_db_profile_find_clash(s, p, &found, f, name, &err) < 0)
        fail_msg("find_clash: %s", err.msg);
    if (!field) {
        assert_false(found);
        return;
    }
    assert_true(found);
    assert_string_equal(f, field);
    assert_string_equal(name, other);
}

static void test_find_clash(void **state)
{
    fixture *fx = *state;
    pvm_store *s = open_ok(fx);
    pvm_profile a, blank, q;
    make_profile(&a, "abababab-0000-4000-8000-000000000001", "owner", 0);
    set_identity(&a, "C02XYZ123456", "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9", "a4:83:e7:12:34:56");
    insert_ok(s, &a);
    make_profile(&blank, "abababab-0000-4000-8000-000000000002", "blank identity", 1);
    set_identity(&blank, "", "", "");
    insert_ok(s, &blank);

    /* The profile itself never clashes with its own row. */
    expect_clash(s, &a, NULL, NULL);

    make_profile(&q, "abababab-0000-4000-8000-000000000003", "newcomer", 2);
    set_identity(&q, "C02XYZ123456", "", "");
    expect_clash(s, &q, "serialNumber", "owner");
    set_identity(&q, "c02xyz123456", "", ""); /* serials compare exactly */
    expect_clash(s, &q, NULL, NULL);

    set_identity(&q, "", "0F1E2D3C-4B5A-4978-8695-A4B3C2D1E0F9", "");
    expect_clash(s, &q, "machineIdentifier", "owner");
    set_identity(&q, "", "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9", "");
    expect_clash(s, &q, "machineIdentifier", "owner");

    set_identity(&q, "", "", "A4:83:E7:12:34:56");
    expect_clash(s, &q, "macAddress", "owner");
    set_identity(&q, "", "", "a4:83:e7:12:34:56");
    expect_clash(s, &q, "macAddress", "owner");
    set_identity(&q, "", "", "a4:83:e7:12:34:57");
    expect_clash(s, &q, NULL, NULL);

    /* Empty values never clash, not even with the blank profile. */
    set_identity(&q, "", "", "");
    expect_clash(s, &q, NULL, NULL);
    expect_clash(s, &blank, NULL, NULL);

    /* Several at once: serial is reported first. */
    set_identity(&q, "C02XYZ123456", "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9", "a4:83:e7:12:34:56");
    expect_clash(s, &q, "serialNumber", "owner");

    /* Hostile identity values are only compared, never executed. */
    set_identity(&q, "' OR '1'='1", "' OR 1=1 --", "'--");
    expect_clash(s, &q, NULL, NULL);
    pvm_store_close(s);
}

/* ------------------------------------------------------------ transactions */

static void test_rollback_leaves_nothing(void **state)
{
    fixture *fx = *state;
    pvm_store *s = open_ok(fx);
    pvm_error err = {0};
    pvm_profile p, got;
    make_profile(&p, "cdcdcdcd-0000-4000-8000-000000000001", "transient", 0);
    assert_int_equal(pvm_store_begin(s, &err), 0);
    insert_ok(s, &p);
    assert_int_equal(pvm_db_event_add(s, p.id, "profile.create", "in a rolled back tx", &err), 0);
    assert_int_equal(pvm_db_profile_get(s, "transient", &got, &err), 0);
    pvm_store_rollback(s);
    assert_int_equal(pvm_db_profile_get(s, "transient", &got, &err), -1);
    assert_int_equal(err.code, PVM_E_NOTFOUND);
    assert_int_equal(pragma_int(s->db, "SELECT count(*) FROM events"), 0);
    pvm_profile *list = NULL;
    size_t count = 99;
    assert_int_equal(pvm_db_profile_list(s, &list, &count, &err), 0);
    assert_int_equal(count, 0);
    free(list);
    pvm_store_rollback(s); /* outside a transaction: harmless */

    assert_int_equal(pvm_store_begin(s, &err), 0);
    insert_ok(s, &p);
    assert_int_equal(pvm_store_commit(s, &err), 0);
    pvm_store_close(s);
    s = open_ok(fx);
    assert_int_equal(pvm_db_profile_get(s, "transient", &got, &err), 0);
    assert_profile_equal(&p, &got);
    pvm_store_close(s);
}

static void test_second_writer_is_busy(void **state)
{
    fixture *fx = *state;
    pvm_store *a = open_ok(fx), *b = open_ok(fx);
    pvm_error err = {0};
    assert_int_equal(pvm_store_begin(a, &err), 0);
    assert_int_equal(pvm_store_begin(b, &err), -1);
    assert_int_equal(err.code, PVM_E_BUSY);
    pvm_store_rollback(a);
    assert_int_equal(pvm_store_begin(b, &err), 0);
    assert_int_equal(pvm_store_commit(b, &err), 0);
    pvm_store_close(a);
    pvm_store_close(b);
}

static void test_events(void **state)
{
    fixture *fx = *state;
    pvm_store *s = open_ok(fx);
    pvm_error err = {0};
    assert_int_equal(pvm_db_event_add(s, "some-id", "profile.create", "name='x'; --", &err), 0);
    assert_int_equal(pvm_db_event_add(s, NULL, "store.open", NULL, &err), 0);
    assert_int_equal(pvm_db_event_add(s, "x", "", NULL, &err), -1);
    assert_int_equal(err.code, PVM_E_INVALID);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(s->db,
                                        "SELECT object_id, kind, detail, at FROM events "
                                        "ORDER BY id",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "some-id");
    assert_string_equal((const char *)sqlite3_column_text(st, 1), "profile.create");
    assert_string_equal((const char *)sqlite3_column_text(st, 2), "name='x'; --");
    assert_true(sqlite3_column_int64(st, 3) > 1600000000);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_type(st, 0), SQLITE_NULL);
    assert_string_equal((const char *)sqlite3_column_text(st, 1), "store.open");
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    pvm_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fresh_open, fixture_setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_in_missing_folder_fails, fixture_setup, teardown),
        cmocka_unit_test_setup_teardown(test_upgrade_from_1, fixture_setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_at_bad_version, fixture_setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_migration_rolls_back, fixture_setup, teardown),
        cmocka_unit_test_setup_teardown(test_newer_schema_refused, fixture_setup, teardown),
        cmocka_unit_test_setup_teardown(test_schema_7_for_cirrus, fixture_setup, teardown),
        cmocka_unit_test_setup_teardown(test_schema_8_profile_list_index, fixture_setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_newer_wal_schema_refused, fixture_setup, teardown),
        cmocka_unit_test_setup_teardown(test_newer_schema_in_wal_refused, fixture_setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_a_database_untouched, fixture_setup, teardown),
        cmocka_unit_test_setup_teardown(test_profile_round_trip, fixture_setup, teardown),
        cmocka_unit_test_setup_teardown(test_profile_values_survive_reopen, fixture_setup, teardown),
        cmocka_unit_test_setup_teardown(test_profile_full_length_values, fixture_setup, teardown),
        cmocka_unit_test_setup_teardown(test_profile_overlong_in_db_refused, fixture_setup, teardown),
        cmocka_unit_test_setup_teardown(test_profile_get_prefers_name, fixture_setup, teardown),
        cmocka_unit_test_setup_teardown(test_profile_list_sorted, fixture_setup, teardown),
        cmocka_unit_test_setup_teardown(test_profile_duplicates, fixture_setup, teardown),
        cmocka_unit_test_setup_teardown(test_find_clash, fixture_setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollback_leaves_nothing, fixture_setup, teardown),
        cmocka_unit_test_setup_teardown(test_second_writer_is_busy, fixture_setup, teardown),
        cmocka_unit_test_setup_teardown(test_events, fixture_setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
