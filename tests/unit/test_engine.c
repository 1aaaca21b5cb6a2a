/* test_engine.c - unit tests of engine/home.c and engine/engine.c on a real
 * store in a mkdtemp home: folder and file modes, home precedence, profile
 * create/get/list/update/delete, uniqueness refusals that store nothing,
 * and randomize_unique. Run by tests/run (plain and ASan+UBSan builds). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../db/store.h"
#include "../../engine/pvm.h"
#include "fixture.h"

/* A valid profile from a preset with a fresh random identity. */
static pvm_profile make_profile(const char *name, const char *preset_key)
{
    pvm_profile p;
    pvm_error err = {0};
    const pvm_preset *pr = pvm_preset_find(preset_key);
    pvm_profile_init(&p);
    assert_non_null(pr);
    assert_int_equal(pvm_profile_set_name(&p, name, &err), 0);
    pvm_preset_apply(pr, &p);
    pvm_identity_randomize(&p, pr);
    return p;
}

static size_t profile_count(pvm_engine *e)
{
    pvm_profile *all = NULL;
    size_t n = 0;
    pvm_error err = {0};
    assert_int_equal(pvm_profile_list(e, &all, &n, &err), 0);
    free(all);
    return n;
}

static void create_ok(pvm_engine *e, pvm_profile *p)
{
    pvm_error err = {0};
    if (pvm_profile_create(e, p, NULL, &err) < 0)
        fail_msg("create %s: %s", p->name, err.msg);
}

/* ------------------------------------------------------------------- home */

static void test_open_creates_home(void **state)
{
    fixture *f = *state;
    char deep[PATH_MAX + 32], db[PATH_MAX + 64];
    struct stat st;
    pvm_engine *e = NULL;
    pvm_error err = {0};

    snprintf(deep, sizeof deep, "%s/a/b/home", f->dir); /* missing parents too */
    assert_int_equal(pvm_engine_open(&e, deep, &err), 0);
    assert_string_equal(pvm_engine_home(e), deep);
    assert_int_equal(stat(deep, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0700);
    snprintf(db, sizeof db, "%s/state.db", deep);
    assert_int_equal(stat(db, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0600);
    pvm_engine_close(e);

    /* opening again reuses the folder and the store */
    assert_int_equal(pvm_engine_open(&e, deep, &err), 0);
    assert_int_equal(profile_count(e), 0);
    pvm_engine_close(e);
}

static void expect_resolve(const char *flag, const char *want)
{
    char out[PVM_PATH_MAX];
    pvm_error err = {0};
    if (pvm_home_resolve(flag, out, sizeof out, &err) < 0)
        fail_msg("resolve failed: %s", err.msg);
    assert_string_equal(out, want);
}

static void test_home_precedence(void **state)
{
    fixture *f = *state;
    char flag[PATH_MAX + 16], env[PATH_MAX + 16], xdg[PATH_MAX + 16], home[PATH_MAX + 16];
    char want[PATH_MAX + 64];
    char *saved_home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;

    snprintf(flag, sizeof flag, "%s/flag", f->dir);
    snprintf(env, sizeof env, "%s/env", f->dir);
    snprintf(xdg, sizeof xdg, "%s/xdg", f->dir);
    snprintf(home, sizeof home, "%s/user", f->dir);
    setenv("PRIVARION_VM_HOME", env, 1);
    setenv("XDG_DATA_HOME", xdg, 1);
    setenv("HOME", home, 1);

    expect_resolve(flag, flag);                       /* flag wins */
    expect_resolve(NULL, env);                        /* then PRIVARION_VM_HOME */
    setenv("PRIVARION_VM_HOME", "", 1);               /* empty counts as unset */
    snprintf(want, sizeof want, "%s/privarion-vm", xdg);
    expect_resolve(NULL, want);                       /* then XDG_DATA_HOME */
    unsetenv("PRIVARION_VM_HOME");
    expect_resolve(NULL, want);
    setenv("XDG_DATA_HOME", "", 1);
    snprintf(want, sizeof want, "%s/.local/share/privarion-vm", home);
    expect_resolve(NULL, want);                       /* then HOME */
    setenv("XDG_DATA_HOME", "relative/xdg", 1);       /* relative XDG is ignored */
    expect_resolve(NULL, want);
    unsetenv("XDG_DATA_HOME");
    expect_resolve(NULL, want);

    struct stat st;
    assert_int_equal(stat(want, &st), 0);             /* created with parents */
    assert_int_equal(st.st_mode & 0777, 0700);

    char out[PVM_PATH_MAX];
    pvm_error err = {0};
    unsetenv("HOME");
    assert_int_equal(pvm_home_resolve(NULL, out, sizeof out, &err), -1);
    assert_non_null(strstr(err.msg, "--home"));
    setenv("HOME", "", 1);
    assert_int_equal(pvm_home_resolve(NULL, out, sizeof out, &err), -1);

    if (saved_home)
        setenv("HOME", saved_home, 1);
    free(saved_home);
}

static void test_home_relative_flag(void **state)
{
    fixture *f = *state;
    char old[PATH_MAX], cwd[PATH_MAX], want[PATH_MAX + 32];
    assert_non_null(getcwd(old, sizeof old));
    assert_int_equal(chdir(f->dir), 0);
    assert_non_null(getcwd(cwd, sizeof cwd));
    snprintf(want, sizeof want, "%s/rel/h", cwd);
    expect_resolve("rel/h/", want); /* absolute, trailing slash dropped */
    struct stat st;
    assert_int_equal(stat(want, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(chdir(old), 0);
}

static void test_home_refuses_file(void **state)
{
    fixture *f = *state;
    char path[PATH_MAX + 16], out[PVM_PATH_MAX];
    pvm_error err = {0};
    snprintf(path, sizeof path, "%s/file", f->dir);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fclose(fp);
    assert_int_equal(pvm_home_resolve(path, out, sizeof out, &err), -1);
    assert_int_equal(err.code, PVM_E_IO);
    assert_non_null(strstr(err.msg, "not a folder"));

    pvm_engine *e = NULL;
    assert_int_equal(pvm_engine_open(&e, path, &err), -1);
    assert_null(e);
    /* a file in the middle of the path is refused too */
    snprintf(path, sizeof path, "%s/file/below", f->dir);
    assert_int_equal(pvm_home_resolve(path, out, sizeof out, &err), -1);
    /* an empty --home is a usage error, not "unset" */
    assert_int_equal(pvm_home_resolve("", out, sizeof out, &err), -1);
    assert_int_equal(err.code, PVM_E_USAGE);
}

/* --------------------------------------------------------------- profiles */

static void test_create_get_list(void **state)
{
    fixture *f = *state;
    pvm_error err = {0};
    pvm_profile b = make_profile("bravo", "dell-latitude-7520");
    pvm_profile a = make_profile("alpha", "apple-macbookpro15-1");
    int64_t before = pvm_now();

    create_ok(f->e, &b);
    create_ok(f->e, &a);
    assert_int_equal(pvm_validate_uuid("id", a.id, NULL), 0);
    assert_true(a.id[0] != '\0');
    assert_string_not_equal(a.id, b.id);
    assert_true(a.created_at >= before && a.updated_at == a.created_at);

    pvm_profile got;
    assert_int_equal(pvm_profile_get(f->e, "alpha", &got, &err), 0);
    assert_memory_equal(&got.hw, &a.hw, sizeof a.hw);
    assert_string_equal(got.hw.product, "MacBookPro15,1");
    assert_string_equal(got.mac, a.mac);
    assert_string_equal(got.serial, a.serial);
    assert_string_equal(got.preset, "apple-macbookpro15-1");
    assert_int_equal(pvm_profile_get(f->e, b.id, &got, &err), 0); /* by id */
    assert_string_equal(got.name, "bravo");

    assert_int_equal(pvm_profile_get(f->e, "charlie", &got, &err), -1);
    assert_int_equal(err.code, PVM_E_NOTFOUND);

    pvm_profile *all = NULL;
    size_t n = 0;
    assert_int_equal(pvm_profile_list(f->e, &all, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_string_equal(all[0].name, "alpha"); /* sorted by name */
    assert_string_equal(all[1].name, "bravo");
    free(all);
}

static void test_create_keeps_given_id(void **state)
{
    fixture *f = *state;
    pvm_profile p = make_profile("with-id", "hp-elitebook-840-g8");
    strcpy(p.id, "0b8f4f36-6c1e-4d2a-9a57-2f9d3c1e8b10");
    create_ok(f->e, &p);
    pvm_profile got;
    pvm_error err = {0};
    assert_int_equal(pvm_profile_get(f->e, "0b8f4f36-6c1e-4d2a-9a57-2f9d3c1e8b10", &got, &err),
                     0);
    assert_string_equal(got.name, "with-id");
}

static void test_update(void **state)
{
    fixture *f = *state;
    pvm_error err = {0};
    pvm_profile p = make_profile("edit-me", "lenovo-thinkpad-x1c9");
    create_ok(f->e, &p);

    pvm_profile q = p;
    strcpy(q.hw.product, "20XXS00000");
    strcpy(q.name, "edited");
    q.created_at = 1; /* update keeps the stored creation time */
    assert_int_equal(pvm_profile_update(f->e, &q, NULL, &err), 0);
    assert_int_equal(q.created_at, p.created_at);
    assert_true(q.updated_at >= p.updated_at);

    pvm_profile got;
    assert_int_equal(pvm_profile_get(f->e, "edited", &got, &err), 0);
    assert_string_equal(got.hw.product, "20XXS00000");
    assert_string_equal(got.id, p.id);
    assert_int_equal(pvm_profile_get(f->e, "edit-me", &got, &err), -1);

    /* updating with its own serial/MAC/UUID is not a clash */
    assert_int_equal(pvm_profile_update(f->e, &q, NULL, &err), 0);

    /* an unknown id */
    pvm_profile ghost = make_profile("ghost", "lenovo-thinkpad-x1c9");
    pvm_uuid_v4(ghost.id);
    assert_int_equal(pvm_profile_update(f->e, &ghost, NULL, &err), -1);
    assert_int_equal(err.code, PVM_E_NOTFOUND);
    assert_int_equal(profile_count(f->e), 1);
}

static void test_update_refuses_clash_and_invalid(void **state)
{
    fixture *f = *state;
    pvm_error err = {0};
    pvm_profile a = make_profile("one", "hp-elitedesk-800-g6-mini");
    pvm_profile b = make_profile("two", "hp-elitedesk-800-g6-mini");
    create_ok(f->e, &a);
    create_ok(f->e, &b);

    pvm_profile q = b;
    strcpy(q.mac, a.mac);
    assert_int_equal(pvm_profile_update(f->e, &q, NULL, &err), -1);
    assert_int_equal(err.code, PVM_E_EXISTS);
    assert_non_null(strstr(err.msg, "macAddress"));
    assert_string_equal(err.field, "macAddress");
    assert_string_equal(q.mac, a.mac); /* caller's copy untouched on failure */

    q = b;
    strcpy(q.name, "one");
    assert_int_equal(pvm_profile_update(f->e, &q, NULL, &err), -1);
    assert_int_equal(err.code, PVM_E_EXISTS);
    assert_string_equal(err.field, "name");

    q = b;
    strcpy(q.hw.bios_date, "13/45/2020");
    assert_int_equal(pvm_profile_update(f->e, &q, NULL, &err), -1);
    assert_int_equal(err.code, PVM_E_INVALID);

    pvm_profile got;
    assert_int_equal(pvm_profile_get(f->e, "two", &got, &err), 0);
    assert_string_equal(got.mac, b.mac);
    assert_string_equal(got.hw.bios_date, b.hw.bios_date);

    q = b;
    strcpy(q.mac, a.mac);
    pvm_profile_opts allow = {.allow_duplicate = true};
    assert_int_equal(pvm_profile_update(f->e, &q, &allow, &err), 0);
    assert_int_equal(pvm_profile_get(f->e, "two", &got, &err), 0);
    assert_string_equal(got.mac, a.mac);
}

/* A duplicate accepted earlier with allow_duplicate blocks neither profile's
 * unrelated edits; only an identity value the edit changes is checked. */
static void test_update_checks_only_changed_identity(void **state)
{
    fixture *f = *state;
    pvm_error err = {0};
    pvm_profile a = make_profile("first", "dell-latitude-7520");
    pvm_profile b = make_profile("second", "dell-latitude-7520");
    pvm_profile c = make_profile("third", "dell-latitude-7520");
    create_ok(f->e, &a);
    create_ok(f->e, &c);
    strcpy(b.serial, a.serial);
    pvm_profile_opts allow = {.allow_duplicate = true};
    assert_int_equal(pvm_profile_create(f->e, &b, &allow, &err), 0);

    pvm_profile q = a; /* unrelated edits of either side pass */
    strcpy(q.hw.sku, "0A99");
    assert_int_equal(pvm_profile_update(f->e, &q, NULL, &err), 0);
    q = b;
    strcpy(q.name, "second-renamed");
    assert_int_equal(pvm_profile_update(f->e, &q, NULL, &err), 0);

    q = a; /* changing the MAC to c's is still refused, naming the MAC */
    strcpy(q.hw.sku, "0A98");
    strcpy(q.mac, c.mac);
    assert_int_equal(pvm_profile_update(f->e, &q, NULL, &err), -1);
    assert_int_equal(err.code, PVM_E_EXISTS);
    assert_non_null(strstr(err.msg, "macAddress"));
    assert_null(strstr(err.msg, "serialNumber"));
    pvm_profile got;
    assert_int_equal(pvm_profile_get(f->e, "first", &got, &err), 0);
    assert_string_equal(got.hw.sku, "0A99");
    assert_string_equal(got.mac, a.mac);
}

/* Creates a second profile sharing one identity field with the first and
 * checks: refused with PVM_E_EXISTS naming the field and the owner, nothing
 * stored; accepted with allow_duplicate. */
static void check_duplicate(pvm_engine *e, const char *field_key, const char *field_json,
                            void (*copy)(pvm_profile *to, const pvm_profile *from))
{
    pvm_error err = {0};
    char name_a[32], name_b[32];
    snprintf(name_a, sizeof name_a, "orig-%s", field_key);
    snprintf(name_b, sizeof name_b, "copy-%s", field_key);
    pvm_profile a = make_profile(name_a, "asus-zenbook-14-ux425ea");
    pvm_profile b = make_profile(name_b, "asus-zenbook-14-ux425ea");
    create_ok(e, &a);
    size_t before = profile_count(e);
    copy(&b, &a);

    pvm_profile tried = b;
    assert_int_equal(pvm_profile_create(e, &tried, NULL, &err), -1);
    assert_int_equal(err.code, PVM_E_EXISTS);
    if (!strstr(err.msg, field_json) || !strstr(err.msg, name_a) ||
        !strstr(err.msg, "--allow-duplicate"))
        fail_msg("unexpected message: %s", err.msg);
    assert_string_equal(err.field, field_json);
    assert_string_equal(tried.id, ""); /* p untouched on failure */
    assert_int_equal(profile_count(e), before);

    pvm_profile_opts allow = {.allow_duplicate = true};
    tried = b;
    assert_int_equal(pvm_profile_create(e, &tried, &allow, &err), 0);
    assert_int_equal(profile_count(e), before + 1);
}

static void copy_serial(pvm_profile *to, const pvm_profile *from)
{
    strcpy(to->serial, from->serial);
}

/* Upper case: the clash check ignores the case of UUIDs. */
static void copy_uuid_upper(pvm_profile *to, const pvm_profile *from)
{
    strcpy(to->machine_id, from->machine_id);
    for (char *c = to->machine_id; *c; c++)
        *c = (char)toupper((unsigned char)*c);
}

static void copy_mac(pvm_profile *to, const pvm_profile *from)
{
    strcpy(to->mac, from->mac);
}

static void test_duplicate_identity_refused(void **state)
{
    fixture *f = *state;
    check_duplicate(f->e, "serial", "serialNumber", copy_serial);
    check_duplicate(f->e, "uuid", "machineIdentifier", copy_uuid_upper);
    check_duplicate(f->e, "mac", "macAddress", copy_mac);
}

static void test_empty_identity_never_clashes(void **state)
{
    fixture *f = *state;
    pvm_profile a, b;
    pvm_error err = {0};
    pvm_profile_init(&a);
    pvm_profile_init(&b);
    assert_int_equal(pvm_profile_set_name(&a, "blank a", &err), 0);
    assert_int_equal(pvm_profile_set_name(&b, "blank b", &err), 0);
    create_ok(f->e, &a);
    create_ok(f->e, &b);
    assert_int_equal(profile_count(f->e), 2);
}

static void test_duplicate_name_refused(void **state)
{
    fixture *f = *state;
    pvm_error err = {0};
    pvm_profile a = make_profile("same", "microsoft-surface-pro-7");
    pvm_profile b = make_profile("same", "microsoft-surface-laptop-3");
    create_ok(f->e, &a);
    pvm_profile_opts allow = {.allow_duplicate = true}; /* does not cover names */
    assert_int_equal(pvm_profile_create(f->e, &b, &allow, &err), -1);
    assert_int_equal(err.code, PVM_E_EXISTS);
    assert_non_null(strstr(err.msg, "name"));
    assert_int_equal(profile_count(f->e), 1);
    pvm_profile got;
    assert_int_equal(pvm_profile_get(f->e, "same", &got, &err), 0);
    assert_string_equal(got.hw.product, "Surface Pro 7");
}

static void test_invalid_refused(void **state)
{
    fixture *f = *state;
    pvm_error err = {0};

    pvm_profile p = make_profile("bad-mac", "dell-xps-15-9510");
    strcpy(p.mac, "zz:11:22:33:44:55");
    assert_int_equal(pvm_profile_create(f->e, &p, NULL, &err), -1);
    assert_int_equal(err.code, PVM_E_INVALID);
    assert_non_null(strstr(err.msg, "macAddress"));

    p = make_profile("bad-serial", "dell-xps-15-9510");
    strcpy(p.serial, "ABC\nDEF");
    assert_int_equal(pvm_profile_create(f->e, &p, NULL, &err), -1);
    assert_int_equal(err.code, PVM_E_INVALID);

    p = make_profile("ok-name", "dell-xps-15-9510");
    p.name[0] = '\0';
    assert_int_equal(pvm_profile_create(f->e, &p, NULL, &err), -1);
    assert_int_equal(err.code, PVM_E_INVALID);

    p = make_profile("bad-id", "dell-xps-15-9510");
    strcpy(p.id, "not-a-uuid");
    assert_int_equal(pvm_profile_create(f->e, &p, NULL, &err), -1);
    assert_int_equal(err.code, PVM_E_INVALID);

    assert_int_equal(profile_count(f->e), 0);
}

static void test_import_keeps_id_and_times(void **state)
{
    fixture *f = *state;
    pvm_error err = {0};
    pvm_profile p = make_profile("imported", "apple-imac20-1");
    strcpy(p.id, "5d0c4a8e-1f7b-4c36-8e2d-9b1a7f3c6e42");
    p.created_at = 1600000000;
    p.updated_at = 1600000500;
    assert_int_equal(pvm_profile_import_many(f->e, &p, 1, NULL, &err), 0);

    pvm_profile got;
    assert_int_equal(pvm_profile_get(f->e, "imported", &got, &err), 0);
    assert_string_equal(got.id, p.id);
    assert_int_equal(got.created_at, 1600000000);
    assert_int_equal(got.updated_at, 1600000500);

    /* the same id again, under another name and identity: refused */
    pvm_profile again = make_profile("imported-2", "apple-imac20-1");
    strcpy(again.id, p.id);
    assert_int_equal(pvm_profile_import_many(f->e, &again, 1, NULL, &err), -1);
    assert_int_equal(err.code, PVM_E_EXISTS);
    assert_int_equal(profile_count(f->e), 1);
}

/* import_many: the second profile clashes with the first -> nothing stored. */
static void test_import_many_all_or_nothing(void **state)
{
    fixture *f = *state;
    pvm_error err = {0};
    pvm_profile batch[3];
    batch[0] = make_profile("batch-a", "dell-latitude-7520");
    batch[1] = make_profile("batch-b", "dell-latitude-7520");
    batch[2] = make_profile("batch-c", "dell-latitude-7520");
    strcpy(batch[1].mac, batch[0].mac);
    assert_int_equal(pvm_profile_import_many(f->e, batch, 3, NULL, &err), -1);
    assert_int_equal(err.code, PVM_E_EXISTS);
    assert_non_null(strstr(err.msg, "[1].macAddress"));
    assert_string_equal(err.field, "macAddress"); /* the index stays in the message */
    assert_non_null(strstr(err.msg, "batch-a"));
    assert_non_null(strstr(err.msg, "earlier in this import"));
    assert_int_equal(profile_count(f->e), 0);
    assert_string_equal(batch[0].id, ""); /* p[] untouched on error */

    /* a name twice in one batch: nothing stored either */
    batch[1] = make_profile("batch-a", "dell-latitude-7520");
    assert_int_equal(pvm_profile_import_many(f->e, batch, 2, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "[1].name"));
    assert_int_equal(profile_count(f->e), 0);

    /* the last one invalid: the first two are rolled back */
    batch[1] = make_profile("batch-b", "dell-latitude-7520");
    strcpy(batch[2].hw.bios_date, "13/40/2020");
    assert_int_equal(pvm_profile_import_many(f->e, batch, 3, NULL, &err), -1);
    assert_int_equal(err.code, PVM_E_INVALID);
    assert_non_null(strstr(err.msg, "[2].hardwareModel.biosDate: "));
    assert_int_equal(profile_count(f->e), 0);
}

/* import_many: clashes with stored profiles, --allow-duplicate, ids filled. */
static void test_import_many_store_clash(void **state)
{
    fixture *f = *state;
    pvm_error err = {0};
    pvm_profile stored = make_profile("stored", "lenovo-thinkpad-x1c9");
    create_ok(f->e, &stored);

    pvm_profile batch[2];
    batch[0] = make_profile("new-a", "lenovo-thinkpad-x1c9");
    batch[1] = make_profile("new-b", "lenovo-thinkpad-x1c9");
    strcpy(batch[1].serial, stored.serial);
    assert_int_equal(pvm_profile_import_many(f->e, batch, 2, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "[1].serialNumber"));
    assert_null(strstr(err.msg, "earlier in this import"));
    assert_int_equal(profile_count(f->e), 1);

    /* a stored id: refused, nothing stored */
    strcpy(batch[1].id, stored.id);
    assert_int_equal(pvm_profile_import_many(f->e, batch, 2, NULL, &err), -1);
    assert_int_equal(err.code, PVM_E_EXISTS);
    assert_int_equal(profile_count(f->e), 1);

    batch[1].id[0] = '\0';
    pvm_profile_opts allow = {.allow_duplicate = true};
    assert_int_equal(pvm_profile_import_many(f->e, batch, 2, &allow, &err), 0);
    assert_int_equal(profile_count(f->e), 3);
    for (size_t i = 0; i < 2; i++) {
        pvm_profile got;
        assert_int_equal(strlen(batch[i].id), PVM_UUID_LEN);
        assert_true(batch[i].created_at > 0 && batch[i].updated_at == batch[i].created_at);
        assert_int_equal(pvm_profile_get(f->e, batch[i].id, &got, &err), 0);
        assert_string_equal(got.name, batch[i].name);
    }
}

static void test_delete(void **state)
{
    fixture *f = *state;
    pvm_error err = {0};
    pvm_profile a = make_profile("gone", "dell-precision-5560");
    pvm_profile b = make_profile("stays", "dell-precision-5560");
    create_ok(f->e, &a);
    create_ok(f->e, &b);
    assert_int_equal(pvm_profile_delete(f->e, "gone", &err), 0);
    pvm_profile got;
    assert_int_equal(pvm_profile_get(f->e, "gone", &got, &err), -1);
    assert_int_equal(err.code, PVM_E_NOTFOUND);
    assert_int_equal(pvm_profile_delete(f->e, b.id, &err), 0); /* by id */
    assert_int_equal(profile_count(f->e), 0);
    assert_int_equal(pvm_profile_delete(f->e, "gone", &err), -1);
    assert_int_equal(err.code, PVM_E_NOTFOUND);
}

static void add_vm(const char *db_path, const char *name, const char *profile_id)
{
    pvm_store *s = NULL;
    pvm_error err = {0};
    pvm_vm vm;
    memset(&vm, 0, sizeof vm);
    pvm_uuid_v4(vm.id);
    strcpy(vm.name, name);
    strcpy(vm.profile_id, profile_id);
    vm.cpus = 1;
    vm.memory_bytes = 256ull << 20;
    vm.disk_bytes = 1ull << 30;
    vm.created_at = pvm_now();
    if (pvm_store_open(db_path, &s, &err) < 0)
        fail_msg("store open: %s", err.msg);
    if (pvm_db_vm_insert(s, &vm, &err) < 0)
        fail_msg("vm insert: %s", err.msg);
    pvm_store_close(s);
}

static void test_delete_refused_while_used(void **state)
{
    fixture *f = *state;
    pvm_error err = {0};
    char db[PATH_MAX + 16];
    pvm_profile p = make_profile("in-use", "lenovo-thinkpad-t480");
    create_ok(f->e, &p);
    snprintf(db, sizeof db, "%s/state.db", pvm_engine_home(f->e));
    add_vm(db, "vm-one", p.id);
    add_vm(db, "vm-two", p.id);

    assert_int_equal(pvm_profile_delete(f->e, "in-use", &err), -1);
    assert_int_equal(err.code, PVM_E_STATE);
    if (!strstr(err.msg, "'in-use' is used by 2 VMs") || !strstr(err.msg, "vm-one") ||
        !strstr(err.msg, "vm-two"))
        fail_msg("unexpected message: %s", err.msg);
    pvm_profile got;
    assert_int_equal(pvm_profile_get(f->e, "in-use", &got, &err), 0);
}

static void test_randomize_unique(void **state)
{
    fixture *f = *state;
    pvm_error err = {0};
    const pvm_preset *pr = pvm_preset_find("lenovo-thinkpad-t14s-g1-amd");
    assert_non_null(pr);
    for (int i = 0; i < 200; i++) {
        pvm_profile p;
        char name[32];
        pvm_profile_init(&p);
        snprintf(name, sizeof name, "rand-%03d", i);
        assert_int_equal(pvm_profile_set_name(&p, name, &err), 0);
        pvm_preset_apply(pr, &p);
        if (pvm_profile_randomize_unique(f->e, &p, pr, &err) < 0)
            fail_msg("randomize_unique: %s", err.msg);
        if (pvm_profile_create(f->e, &p, NULL, &err) < 0)
            fail_msg("profile %d collided: %s", i, err.msg);
    }
    assert_int_equal(profile_count(f->e), 200);

    /* no preset but a model of its own: generic serial and a locally administered MAC */
    pvm_profile p;
    pvm_profile_init(&p);
    assert_int_equal(pvm_profile_set_name(&p, "no-preset", &err), 0);
    strcpy(p.hw.cpu_model, "Intel(R) Core(TM) i5-8250U CPU @ 1.60GHz");
    assert_int_equal(pvm_profile_randomize_unique(f->e, &p, NULL, &err), 0);
    assert_int_equal(strtoul((char[]){p.mac[0], p.mac[1], 0}, NULL, 16) & 3, 2);
    assert_string_equal(p.preset, "");
    create_ok(f->e, &p);

    /* no model at all: a random preset's model comes with the identity (a whole machine),
     * and the MAC is from that vendor's OUIs, not locally administered */
    pvm_profile q;
    pvm_profile_init(&q);
    assert_int_equal(pvm_profile_set_name(&q, "no-model", &err), 0);
    assert_int_equal(pvm_profile_randomize_unique(f->e, &q, NULL, &err), 0);
    assert_non_null(pvm_preset_find(q.preset));
    assert_true(q.hw.cpu_model[0] != '\0');
    assert_int_equal(strtoul((char[]){q.mac[0], q.mac[1], 0}, NULL, 16) & 3, 0);
    create_ok(f->e, &q);
}

/* The brief list (the TUI's Profiles pane) has the full list's rows in its order, with
 * their id, name, manufacturer and product; get_id finds the whole profile by id, never
 * by name. */
static void test_list_brief_and_get_id(void **state)
{
    fixture *f = *state;
    pvm_error err = {0};
    pvm_profile a = make_profile("bravo", "dell-latitude-7520");
    pvm_profile b = make_profile("Alpha", "apple-macbookpro15-1");
    create_ok(f->e, &a);
    create_ok(f->e, &b);
    pvm_profile c = make_profile("charlie", "hp-elitebook-840-g8");
    create_ok(f->e, &c);
    pvm_profile *all = NULL;
    pvm_profile_brief *brief = NULL;
    size_t n = 0, nb = 0;
    assert_int_equal(pvm_profile_list(f->e, &all, &n, &err), 0);
    assert_int_equal(pvm_profile_list_brief(f->e, &brief, &nb, &err), 0);
    assert_int_equal(n, 3);
    assert_int_equal(nb, n);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(brief[i].id, all[i].id);
        assert_string_equal(brief[i].name, all[i].name);
        assert_string_equal(brief[i].manufacturer, all[i].hw.manufacturer);
        assert_string_equal(brief[i].product, all[i].hw.product);
    }
    assert_string_equal(brief[0].name, "Alpha"); /* the list's order: by name, any case */
    free(all);
    free(brief);

    pvm_profile got;
    assert_int_equal(pvm_profile_get_id(f->e, a.id, &got, &err), 0);
    assert_string_equal(got.id, a.id);
    assert_string_equal(got.name, "bravo");
    assert_string_equal(got.serial, a.serial);
    assert_int_equal(pvm_profile_get_id(f->e, "bravo", &got, &err), -1); /* no name lookup */
    assert_int_equal(err.code, PVM_E_NOTFOUND);
}

/* A test in a fresh folder, with or without an engine opened on its home. */
#define DIR_TEST(t) cmocka_unit_test_setup_teardown(t, fixture_setup, fixture_teardown)
#define ENGINE_TEST(t) cmocka_unit_test_setup_teardown(t, fixture_setup_engine, fixture_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        DIR_TEST(test_open_creates_home),
        DIR_TEST(test_home_precedence),
        DIR_TEST(test_home_relative_flag),
        DIR_TEST(test_home_refuses_file),
        ENGINE_TEST(test_create_get_list),
        ENGINE_TEST(test_create_keeps_given_id),
        ENGINE_TEST(test_update),
        ENGINE_TEST(test_update_refuses_clash_and_invalid),
        ENGINE_TEST(test_update_checks_only_changed_identity),
        ENGINE_TEST(test_duplicate_identity_refused),
        ENGINE_TEST(test_empty_identity_never_clashes),
        ENGINE_TEST(test_duplicate_name_refused),
        ENGINE_TEST(test_invalid_refused),
        ENGINE_TEST(test_import_keeps_id_and_times),
        ENGINE_TEST(test_import_many_all_or_nothing),
        ENGINE_TEST(test_import_many_store_clash),
        ENGINE_TEST(test_delete),
        ENGINE_TEST(test_delete_refused_while_used),
        ENGINE_TEST(test_randomize_unique),
        ENGINE_TEST(test_list_brief_and_get_id),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
