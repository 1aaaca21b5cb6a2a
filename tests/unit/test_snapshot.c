/* test_snapshot.c - unit tests of snapshots without QEMU: the tag rule, the identity and
 * device comparisons, qemu-img info's snapshot table (120 entries), and the engine's flows
 * (engine/snapshot.c) over the fake backend: create (generated and given tags, disk-only on
 * a stopped VM), a failed save leaving no row, restore refusals (identity, devices, disk-only
 * into a running VM), the identity a running VM wears after a profile edit (vm_identity.c: a
 * record of another run or a damaged one counts for nothing), restore into a stopped VM (starts paused, resumes), reconciliation of
 * snapshots dropped or added behind the engine's back, the busy lock, rows deleted with the
 * VM. Run by tests/run (plain and ASan+UBSan). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../engine/fake/fake.h"
#include "../../engine/hv.h"
#include "../../engine/qemu/ctx.h"
#include "../../engine/internal.h"
#include "../../engine/vm_internal.h"
#include "rm_rf.h"

typedef struct fixture {
    char dir[256];
    char home[PATH_MAX];
    pvm_engine *e;
    pvm_vm vm;
} fixture;

static void write_text(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static int setup(void **state)
{
    fixture *f = pvm_xcalloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/pvm-test-snap-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->home, sizeof f->home, "%s/home", f->dir);
    setenv("PRIVARION_VM_ACCEL", "tcg", 1);
    pvm_error err = {0};
    if (pvm_engine_open(&f->e, f->home, &err) < 0)
        return -1;
    char *cfg = pvm_xasprintf("%s/config", f->home);
    write_text(cfg, "backend = fake\n");
    free(cfg);
    pvm_profile p;
    pvm_profile_init(&p);
    assert_int_equal(pvm_profile_set_name(&p, "p1", &err), 0);
    strcpy(p.mac, "a4:bb:6d:00:00:01");
    strcpy(p.serial, "SERIAL1");
    strcpy(p.hw.cpu_model, "Intel(R) Core(TM) i5-8250U CPU @ 1.60GHz");
    assert_int_equal(pvm_profile_create(f->e, &p, NULL, &err), 0);
    pvm_vm_opts o = {.disk = 1024 * 1024, .memory = 64 * 1024 * 1024};
    if (pvm_vm_create(f->e, "v1", "p1", &o, &f->vm, &err) < 0)
        fail_msg("vm create: %s", err.msg);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    pvm_engine_close(f->e);
    rm_rf(f->dir);
    free(f);
    return 0;
}

static size_t count(fixture *f)
{
    pvm_snapshot *l = NULL;
    size_t n = 0;
    pvm_error err = {0};
    assert_int_equal(pvm_snapshot_list(f->e, "v1", &l, &n, NULL, &err), 0);
    free(l);
    return n;
}

static void running(fixture *f)
{
    pvm_error err = {0};
    assert_int_equal(pvm_vm_start(f->e, "v1", 0, NULL, &err), 0);
}

/* ------------------------------------------------------------------ rules */

static void test_tag_rule(void **state)
{
    (void)state;
    pvm_error err = {0};
    assert_int_equal(pvm_snapshot_tag_check("before-update_2.1", &err), 0);
    assert_int_equal(pvm_snapshot_tag_check("a", &err), 0);
    const char *bad[] = {"", "a b", "-x", ".x", "x/y", "123", "x;rm", "tag\n", "ü"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&err, 0, sizeof err);
        assert_int_equal(pvm_snapshot_tag_check(bad[i], &err), -1);
        assert_int_equal(err.code, PVM_E_INVALID);
        assert_string_equal(err.field, "tag");
    }
    char longtag[PVM_SNAP_TAG_MAX + 2];
    memset(longtag, 'a', sizeof longtag - 1);
    longtag[sizeof longtag - 1] = '\0';
    assert_int_equal(pvm_snapshot_tag_check(longtag, &err), -1);
    longtag[PVM_SNAP_TAG_MAX] = '\0';
    assert_int_equal(pvm_snapshot_tag_check(longtag, &err), 0);
}

static void test_identity_diff(void **state)
{
    (void)state;
    pvm_profile a, b;
    pvm_profile_init(&a);
    strcpy(a.serial, "S1");
    strcpy(a.mac, "a4:bb:6d:00:00:01");
    b = a;
    char *ja = pvm_snapshot_identity_json(&a), *jb = pvm_snapshot_identity_json(&b);
    char out[256];
    pvm_snapshot_diff(ja, jb, false, out, sizeof out);
    assert_string_equal(out, "");
    free(jb);
    strcpy(b.serial, "S2");
    strcpy(b.mac, "a4:bb:6d:00:00:02");
    strcpy(b.name, "renamed"); /* not identity */
    jb = pvm_snapshot_identity_json(&b);
    pvm_snapshot_diff(ja, jb, false, out, sizeof out);
    assert_non_null(strstr(out, "serialNumber"));
    assert_non_null(strstr(out, "macAddress"));
    assert_null(strstr(out, "name"));
    free(ja);
    free(jb);
}

static void test_devices_diff(void **state)
{
    (void)state;
    pvm_vm vm = {.cpus = 1, .memory_bytes = 256ULL << 20};
    char a[PVM_SNAP_DEVICES_MAX], b[PVM_SNAP_DEVICES_MAX], out[256];
    pvm_snapshot_devices(&vm, a, sizeof a);
    pvm_snapshot_diff(a, a, true, out, sizeof out);
    assert_string_equal(out, "");
    vm.memory_bytes = 512ULL << 20;
    vm.disk_bus = PVM_DISK_NVME;
    pvm_snapshot_devices(&vm, b, sizeof b);
    pvm_snapshot_diff(a, b, true, out, sizeof out);
    assert_string_equal(out, "memory, diskBus");
    /* what vm edit changes beyond those: display, adapter, firmware, TPM */
    pvm_vm w = vm;
    pvm_snapshot_devices(&w, a, sizeof a);
    w.display = PVM_DISPLAY_VNC;
    w.video = PVM_VIDEO_VGA;
    w.firmware = PVM_FIRMWARE_UEFI;
    w.tpm = true;
    pvm_snapshot_devices(&w, b, sizeof b);
    pvm_snapshot_diff(a, b, true, out, sizeof out);
    assert_string_equal(out, "display, video, firmware, tpm");
    /* a row from before these keys: only the keys it has are compared */
    pvm_snapshot_diff("cpus=1 memory=536870912", b, true, out, sizeof out);
    assert_string_equal(out, "");
    /* a key now lacks (a running VM's channel its process does not show) is not compared */
    pvm_snapshot_diff("cpus=1 agent=isa-serial qemu=stealth", "cpus=1 qemu=stock", true, out,
                      sizeof out);
    assert_string_equal(out, "qemu");
}

/* qemu-img info's table, whatever its length. */
static void test_parse_120(void **state)
{
    (void)state;
    char *json = pvm_xstrdup("{\"format\": \"qcow2\", \"snapshots\": [");
    for (int i = 0; i < 120; i++) {
        char *next = pvm_xasprintf("%s%s{\"id\": \"%d\", \"name\": \"s%03d\", \"vm-state-size\": "
                                   "%d, \"date-sec\": 1700000000, \"date-nsec\": 0, "
                                   "\"vm-clock-sec\": 2, \"vm-clock-nsec\": 5}",
                                   json, i ? ", " : "", i + 1, i, i % 2 ? 4096 : 0);
        free(json);
        json = next;
    }
    char *whole = pvm_xasprintf("%s]}", json);
    free(json);
    pvm_hv_snap *l = NULL;
    size_t n = 0;
    pvm_error err = {0};
    assert_int_equal(pvm_qemu_snapshot_parse(whole, &l, &n, &err), 0);
    assert_int_equal(n, 120);
    assert_string_equal(l[0].tag, "s000");
    assert_string_equal(l[119].tag, "s119");
    assert_int_equal(l[1].vmstate_bytes, 4096);
    assert_int_equal(l[0].vmstate_bytes, 0);
    assert_int_equal(l[5].vm_clock_ns, 2000000005ULL);
    assert_int_equal(l[5].date, 1700000000);
    free(l);
    free(whole);
    assert_int_equal(pvm_qemu_snapshot_parse("not json", &l, &n, &err), -1);
}

/* ------------------------------------------------------------------ flows */

static void test_create_list(void **state)
{
    fixture *f = *state;
    pvm_error err = {0};
    pvm_snapshot s;
    assert_int_equal(pvm_snapshot_create(f->e, "v1", "disk1", NULL, NULL, &s, NULL, &err), 0);
    assert_false(s.memory); /* stopped: disk only */
    running(f);
    assert_int_equal(pvm_snapshot_create(f->e, "v1", NULL, NULL, NULL, &s, NULL, &err), 0);
    assert_true(s.memory);
    assert_int_equal(strncmp(s.tag, "snap-", 5), 0);
    assert_int_equal(s.vmstate_bytes, 4096);
    assert_int_equal(strlen(s.fingerprint), 16);
    char first[PVM_SNAP_TAG_MAX + 1];
    strcpy(first, s.tag);
    assert_int_equal(pvm_snapshot_create(f->e, "v1", NULL, NULL, NULL, &s, NULL, &err), 0);
    assert_string_not_equal(s.tag, first); /* same second: a suffix */
    pvm_snapshot_opts disk = {.disk_only = true};
    assert_int_equal(pvm_snapshot_create(f->e, "v1", "d2", &disk, NULL, &s, NULL, &err), 0);
    assert_false(s.memory);
    assert_int_equal(pvm_snapshot_create(f->e, "v1", "d2", NULL, NULL, &s, NULL, &err), -1);
    assert_int_equal(err.code, PVM_E_EXISTS);
    assert_int_equal(count(f), 4);
    assert_int_equal(pvm_snapshot_get(f->e, "v1", "d2", &s, NULL, &err), 0);
    assert_int_equal(pvm_snapshot_get(f->e, "v1", "nope", &s, NULL, &err), -1);
    assert_int_equal(err.code, PVM_E_NOTFOUND);
}

/* The TUI's prefilled tag: what create would choose, a good tag, never one the VM has. */
static void test_tag_default(void **state)
{
    fixture *f = *state;
    pvm_error err = {0};
    char tag[PVM_SNAP_TAG_MAX + 1], again[PVM_SNAP_TAG_MAX + 1];
    assert_int_equal(pvm_snapshot_tag_default(f->e, "v1", tag, sizeof tag, &err), 0);
    assert_int_equal(strncmp(tag, "snap-", 5), 0);
    assert_int_equal(strlen(tag), strlen("snap-YYYYMMDD-HHMMSS"));
    assert_int_equal(pvm_snapshot_tag_check(tag, &err), 0);
    assert_int_equal(pvm_snapshot_create(f->e, "v1", tag, NULL, NULL, NULL, NULL, &err), 0);
    assert_int_equal(pvm_snapshot_tag_default(f->e, "v1", again, sizeof again, &err), 0);
    assert_string_not_equal(again, tag); /* taken: a suffix (or the next second) */
    assert_int_equal(strncmp(again, "snap-", 5), 0);
    assert_int_equal(pvm_snapshot_create(f->e, "v1", again, NULL, NULL, NULL, NULL, &err), 0);
    assert_int_equal(pvm_snapshot_tag_default(f->e, "nope", tag, sizeof tag, &err), -1);
    assert_int_equal(err.code, PVM_E_NOTFOUND);
}

static void test_failed_save_leaves_no_row(void **state)
{
    fixture *f = *state;
    pvm_error err = {0};
    running(f);
    assert_int_equal(pvm_snapshot_create(f->e, "v1", "good", NULL, NULL, NULL, NULL, &err), 0);
    pvm_fake_behave(f->home, "snapshot_save", "fail Error while writing VM state", &err);
    assert_int_equal(pvm_snapshot_create(f->e, "v1", "bad", NULL, NULL, NULL, NULL, &err), -1);
    assert_int_equal(err.code, PVM_E_QEMU);
    assert_non_null(strstr(err.msg, "Error while writing VM state"));
    pvm_fake_behave(f->home, "snapshot_save", NULL, &err);
    pvm_snapshot s;
    assert_int_equal(count(f), 1);
    assert_int_equal(pvm_snapshot_get(f->e, "v1", "good", &s, NULL, &err), 0);
    assert_int_equal(pvm_snapshot_restore(f->e, "v1", "good", NULL, NULL, NULL, &err), 0);
}

static void test_restore_rules(void **state)
{
    fixture *f = *state;
    pvm_error err = {0};
    assert_int_equal(pvm_snapshot_create(f->e, "v1", "disk1", NULL, NULL, NULL, NULL, &err), 0);
    running(f);
    assert_int_equal(pvm_snapshot_create(f->e, "v1", "mem1", NULL, NULL, NULL, NULL, &err), 0);
    /* disk-only into a running VM */
    assert_int_equal(pvm_snapshot_restore(f->e, "v1", "disk1", NULL, NULL, NULL, &err), -1);
    assert_int_equal(err.code, PVM_E_STATE);
    assert_non_null(strstr(err.msg, "stopped VM"));
    /* identity changed while stopped: refused naming it, --force passes */
    assert_int_equal(pvm_vm_stop(f->e, "v1", true, 5, NULL, &err), 0);
    pvm_profile p;
    assert_int_equal(pvm_profile_get(f->e, "p1", &p, &err), 0);
    strcpy(p.serial, "SERIAL2");
    assert_int_equal(pvm_profile_update(f->e, &p, NULL, &err), 0);
    assert_int_equal(pvm_snapshot_restore(f->e, "v1", "mem1", NULL, NULL, NULL, &err), -1);
    assert_int_equal(err.code, PVM_E_STATE);
    assert_non_null(strstr(err.msg, "serialNumber"));
    pvm_snapshot_opts force = {.force = true};
    assert_int_equal(pvm_snapshot_restore(f->e, "v1", "mem1", &force, NULL, NULL, &err), 0);
}

/* The identity worn by v1 (probed) and its profile's now. */
static void worn(fixture *f, pvm_profile *w, pvm_profile *now)
{
    pvm_vm vm;
    pvm_error err = {0};
    assert_int_equal(pvm_vm_get(f->e, "v1", &vm, &err), 0);
    assert_true(pvm_vm_identity(f->e, &vm, w, now, &err) >= 0);
}

/* A profile edited while the VM runs: the VM keeps its start's identity for snapshots and
 * restores; a stop hands the profile's back; a memory restore brings the snapshot's. */
static void test_identity_worn_while_running(void **state)
{
    fixture *f = *state;
    pvm_error err = {0};
    pvm_profile w, now;
    running(f);
    assert_int_equal(pvm_snapshot_create(f->e, "v1", "pre", NULL, NULL, NULL, NULL, &err), 0);
    pvm_profile p;
    assert_int_equal(pvm_profile_get(f->e, "p1", &p, &err), 0);
    strcpy(p.serial, "SERIAL2");
    strcpy(p.mac, "a4:bb:6d:00:00:02");
    assert_int_equal(pvm_profile_update(f->e, &p, NULL, &err), 0);
    worn(f, &w, &now);
    assert_string_equal(w.serial, "SERIAL1");
    assert_string_equal(w.mac, "a4:bb:6d:00:00:01");
    assert_string_equal(now.serial, "SERIAL2");
    char edited[256];
    pvm_profile_identity_diff(&w, &now, edited, sizeof edited);
    assert_string_equal(edited, "macAddress, serialNumber");
    /* the running guest still wears pre's identity: restoring it is no identity change */
    if (pvm_snapshot_restore(f->e, "v1", "pre", NULL, NULL, NULL, &err) < 0)
        fail_msg("restore pre into the running VM: %s", err.msg);
    /* a snapshot taken now remembers the identity the guest wears, not the profile's */
    pvm_snapshot post, pre;
    assert_int_equal(pvm_snapshot_create(f->e, "v1", "post", NULL, NULL, &post, NULL, &err), 0);
    assert_int_equal(pvm_snapshot_get(f->e, "v1", "pre", &pre, NULL, &err), 0);
    assert_string_equal(post.fingerprint, pre.fingerprint);
    assert_non_null(strstr(post.identity, "SERIAL1"));
    assert_null(strstr(post.identity, "SERIAL2"));
    /* stopped: it wears nothing but the profile; the old snapshots now change the identity */
    assert_int_equal(pvm_vm_stop(f->e, "v1", true, 5, NULL, &err), 0);
    worn(f, &w, &now);
    assert_string_equal(w.serial, "SERIAL2");
    assert_int_equal(pvm_snapshot_restore(f->e, "v1", "post", NULL, NULL, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "serialNumber"));
    /* a forced memory restore boots with the profile, then loads post: post's identity */
    pvm_snapshot_opts force = {.force = true};
    assert_int_equal(pvm_snapshot_restore(f->e, "v1", "post", &force, NULL, NULL, &err), 0);
    worn(f, &w, &now);
    assert_string_equal(w.serial, "SERIAL1");
    assert_string_equal(now.serial, "SERIAL2");
    /* a fresh start wears the profile */
    assert_int_equal(pvm_vm_stop(f->e, "v1", true, 5, NULL, &err), 0);
    running(f);
    worn(f, &w, &now);
    assert_string_equal(w.serial, "SERIAL2");
    assert_string_equal(w.mac, "a4:bb:6d:00:00:02");
}

/* A running VM started before the record existed (an older privarion-vm), or a record
 * of another profile or of no JSON: the profile's identity, never a failure. */
static void test_identity_record_missing(void **state)
{
    fixture *f = *state;
    pvm_error err = {0};
    pvm_profile w, now;
    running(f);
    pvm_vm_files files;
    assert_int_equal(pvm_vm_files_init(f->home, f->vm.id, &files, &err), 0);
    char *path = pvm_xasprintf("%s/identity", files.dir);
    char *good = NULL; /* the start's record: SERIAL1, while the profile says SERIAL2 */
    size_t len = 0;
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    assert_true(getdelim(&good, &len, '\0', fp) > 0);
    fclose(fp);
    pvm_profile p;
    assert_int_equal(pvm_profile_get(f->e, "p1", &p, &err), 0);
    strcpy(p.serial, "SERIAL2");
    assert_int_equal(pvm_profile_update(f->e, &p, NULL, &err), 0);
    const char *bad[] = {NULL, "not json", "{\"profileId\":\"other\",\"identity\":{}}",
                         "{\"profileId\":1}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        unlink(path);
        if (bad[i])
            write_text(path, bad[i]);
        pvm_vm vm;
        assert_int_equal(pvm_vm_get(f->e, "v1", &vm, &err), 0);
        assert_int_equal(pvm_vm_identity(f->e, &vm, &w, &now, &err), 0);
        assert_string_equal(w.serial, "SERIAL2");
    }
    write_text(path, good);
    worn(f, &w, &now);
    assert_string_equal(w.serial, "SERIAL1");
    free(good);
    free(path);
}

static char *read_text(const char *path)
{
    char *text = NULL;
    size_t len = 0;
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    assert_true(getdelim(&text, &len, '\0', fp) > 0);
    fclose(fp);
    return text;
}

/* The record with the text `from` replaced by `to` (which must be found). */
static char *record_edit(const char *good, const char *from, const char *to)
{
    const char *at = strstr(good, from);
    assert_non_null(at);
    return pvm_xasprintf("%.*s%s%s", (int)(at - good), good, to, at + strlen(from));
}

/* A record left by an earlier run (no run named, or another one), or a damaged one (a value
 * its field refuses, a field missing): the profile's whole identity, never a mix. */
static void test_identity_record_stale(void **state)
{
    fixture *f = *state;
    pvm_error err = {0};
    pvm_profile w, now;
    running(f);
    pvm_vm_files files;
    assert_int_equal(pvm_vm_files_init(f->home, f->vm.id, &files, &err), 0);
    char *path = pvm_xasprintf("%s/identity", files.dir);
    char *good = read_text(path); /* SERIAL1 and ...:01, while the profile gets SERIAL2, :02 */
    assert_non_null(strstr(good, "\"qemuPid\":0")); /* the fake runs no process */
    pvm_profile p;
    assert_int_equal(pvm_profile_get(f->e, "p1", &p, &err), 0);
    strcpy(p.serial, "SERIAL2");
    strcpy(p.mac, "a4:bb:6d:00:00:02");
    assert_int_equal(pvm_profile_update(f->e, &p, NULL, &err), 0);
    size_t n;
    const pvm_field *fields = pvm_profile_fields(&n);
    const pvm_field *serial = NULL;
    for (size_t i = 0; i < n; i++)
        if (!strcmp(fields[i].key, "serialNumber"))
            serial = &fields[i];
    assert_non_null(serial);
    pvm_profile scratch = p;
    assert_int_equal(pvm_profile_set(&scratch, serial, "bad\001", &err), -1); /* refused */
    char *bad[] = {
        record_edit(good, ",\"qemuPid\":0", ""),               /* an older build's record */
        record_edit(good, "\"qemuPid\":0", "\"qemuPid\":4242"), /* another run's */
        record_edit(good, "\"serialNumber\":\"SERIAL1\"", "\"serialNumber\":\"bad\\u0001\""),
        record_edit(good, "\"serialNumber\":\"SERIAL1\",", ""), /* a field missing */
        record_edit(good, "\"hideHypervisor\":", "\"hideHypervisor\":\"x\",\"y\":"),
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_text(path, bad[i]);
        worn(f, &w, &now);
        if (strcmp(w.serial, "SERIAL2") || strcmp(w.mac, "a4:bb:6d:00:00:02"))
            fail_msg("record %zu (%s) gave serial %s, MAC %s", i, bad[i], w.serial, w.mac);
        free(bad[i]);
    }
    write_text(path, good);
    worn(f, &w, &now);
    assert_string_equal(w.serial, "SERIAL1");
    assert_string_equal(w.mac, "a4:bb:6d:00:00:01");
    free(good);
    free(path);
}

/* A record names its QEMU run by pid and start time: this process stands in for QEMU. */
static void test_identity_record_names_process(void **state)
{
    fixture *f = *state;
    pvm_error err = {0};
    pvm_vm_files files;
    assert_int_equal(pvm_vm_files_init(f->home, f->vm.id, &files, &err), 0);
    pvm_profile p, w;
    assert_int_equal(pvm_profile_get(f->e, "p1", &p, &err), 0);
    pvm_profile then = p;
    strcpy(then.serial, "SERIALRUN");
    assert_int_equal(pvm_vm_identity_record(&files, &then, (int)getpid(), &err), 0);
    pvm_vm vm = f->vm;
    vm.state = PVM_VM_RUNNING;
    vm.pid = (int)getpid();
    assert_int_equal(pvm_vm_identity_worn(f->e, &vm, &p, &w), 1);
    assert_string_equal(w.serial, "SERIALRUN");
    vm.pid = (int)getppid(); /* another process: another run */
    assert_int_equal(pvm_vm_identity_worn(f->e, &vm, &p, &w), 0);
    assert_string_equal(w.serial, p.serial);
    /* the same pid, started at another time (pid reuse) */
    vm.pid = (int)getpid();
    unsigned long long ticks;
    assert_int_equal(pvm_proc_start_ticks(vm.pid, &ticks), 0);
    char *path = pvm_xasprintf("%s/identity", files.dir);
    char *good = read_text(path);
    char *from = pvm_xasprintf("\"qemuStart\":%llu", ticks);
    char *to = pvm_xasprintf("\"qemuStart\":%llu", ticks + 1);
    char *reused = record_edit(good, from, to);
    write_text(path, reused);
    assert_int_equal(pvm_vm_identity_worn(f->e, &vm, &p, &w), 0);
    assert_string_equal(w.serial, p.serial);
    /* a start's first record, before QEMU runs, names no run */
    assert_int_equal(pvm_vm_identity_record(&files, &then, -1, &err), 0);
    assert_int_equal(pvm_vm_identity_worn(f->e, &vm, &p, &w), 0);
    vm.pid = 0;
    assert_int_equal(pvm_vm_identity_worn(f->e, &vm, &p, &w), 0);
    free(reused);
    free(to);
    free(from);
    free(good);
    free(path);
}

/* A forced memory restore across a disk-serial edit: the guest's RAM holds the snapshot's
 * identity, but QEMU answers the disk serial from the running command line (checked on the
 * test guest: /sys/block/vda/serial shows the new one), so the record keeps the run's. */
static void test_restore_keeps_run_disk_serial(void **state)
{
    fixture *f = *state;
    pvm_error err = {0};
    pvm_profile p, w, now;
    running(f);
    assert_int_equal(pvm_snapshot_create(f->e, "v1", "s", NULL, NULL, NULL, NULL, &err), 0);
    assert_int_equal(pvm_profile_get(f->e, "p1", &p, &err), 0);
    char old_disk[sizeof p.disk_serial];
    strcpy(old_disk, p.disk_serial);
    strcpy(p.serial, "SERIAL2");
    strcpy(p.disk_serial, "DISK2NEW");
    assert_string_not_equal(old_disk, "DISK2NEW");
    assert_int_equal(pvm_profile_update(f->e, &p, NULL, &err), 0);
    assert_int_equal(pvm_vm_stop(f->e, "v1", true, 5, NULL, &err), 0);
    running(f); /* this run's command line: SERIAL2, DISK2NEW */
    pvm_snapshot_opts force = {.force = true};
    if (pvm_snapshot_restore(f->e, "v1", "s", &force, NULL, NULL, &err) < 0)
        fail_msg("forced restore: %s", err.msg);
    worn(f, &w, &now);
    assert_string_equal(w.serial, "SERIAL1");       /* SMBIOS: in the guest's RAM */
    assert_string_equal(w.disk_serial, "DISK2NEW"); /* answered live by this QEMU */
}

/* Twins: what running VMs show (their start's identity) against what a start would show. */
static void test_twins_follow_worn_identity(void **state)
{
    fixture *f = *state;
    pvm_error err = {0};
    pvm_vm_opts o = {.disk = 1024 * 1024, .memory = 64 * 1024 * 1024};
    assert_int_equal(pvm_vm_create(f->e, "v2", "p1", &o, NULL, &err), 0);
    running(f);
    pvm_vm_twin t;
    assert_int_equal(pvm_vm_running_twin(f->e, "v2", &t, &err), 0);
    assert_string_equal(t.name, "v1");
    assert_true(t.same_profile);
    assert_non_null(strstr(t.shared, "MAC"));
    assert_non_null(strstr(t.shared, "serial number"));
    /* p1 edited while v1 runs: v2 would show the new identity, v1 still the old one */
    pvm_profile p;
    assert_int_equal(pvm_profile_get(f->e, "p1", &p, &err), 0);
    strcpy(p.serial, "SERIAL2");
    strcpy(p.mac, "a4:bb:6d:00:00:02");
    strcpy(p.machine_id, "6f1e0c1a-1b2c-4d3e-8f40-0123456789ab");
    assert_int_equal(pvm_profile_update(f->e, &p, NULL, &err), 0);
    assert_int_equal(pvm_vm_running_twin(f->e, "v2", &t, &err), 0);
    assert_string_equal(t.name, "");
    /* another profile with v1's MAC of its start: a twin by what both show */
    pvm_profile q;
    pvm_profile_init(&q);
    assert_int_equal(pvm_profile_set_name(&q, "q1", &err), 0);
    strcpy(q.mac, "a4:bb:6d:00:00:01");
    strcpy(q.serial, "OTHER");
    strcpy(q.hw.cpu_model, "Intel(R) Core(TM) i5-8250U CPU @ 1.60GHz");
    assert_int_equal(pvm_profile_create(f->e, &q, NULL, &err), 0);
    if (pvm_vm_create(f->e, "v3", "q1", &o, NULL, &err) < 0)
        fail_msg("vm create v3: %s", err.msg);
    assert_int_equal(pvm_vm_running_twin(f->e, "v3", &t, &err), 0);
    assert_string_equal(t.name, "v1");
    assert_false(t.same_profile);
    assert_string_equal(t.shared, "MAC");
    /* both under user-mode NAT (the default): no shared LAN is claimed */
    assert_int_equal(t.net, PVM_NET_USER);
    assert_int_equal(t.twin_net, PVM_NET_USER);
    char text[600];
    pvm_vm_twin_text("v3", &t, text, sizeof text);
    assert_string_equal(text, "VM 'v3' would show the same MAC as the running VM 'v1' to the "
                        "sites and services both reach (each is on its own user-mode NAT "
                        "network: no LAN sees both)");
    /* a VM without a network: its stored mode reaches the twin and the words */
    pvm_vm_opts none = o;
    none.net = PVM_NET_NONE;
    if (pvm_vm_create(f->e, "v4", "q1", &none, NULL, &err) < 0)
        fail_msg("vm create v4: %s", err.msg);
    assert_int_equal(pvm_vm_running_twin(f->e, "v4", &t, &err), 0);
    assert_string_equal(t.name, ""); /* no NIC, no MAC shown: the MAC alone makes no twin */
    /* the same with a serial in common too: the serial is named, the MAC is not */
    strcpy(q.serial, "SERIAL1"); /* the serial v1 started with, which it still wears */
    assert_int_equal(pvm_profile_update(f->e, &q, NULL, &err), 0);
    assert_int_equal(pvm_vm_running_twin(f->e, "v4", &t, &err), 0);
    assert_string_equal(t.name, "v1");
    assert_string_equal(t.shared, "serial number");
    assert_int_equal(t.net, PVM_NET_NONE);
    assert_int_equal(t.twin_net, PVM_NET_USER);
    pvm_vm_twin_text("v4", &t, text, sizeof text);
    assert_string_equal(text, "VM 'v4' would show the same serial number as the running VM "
                        "'v1', though no network joins them (VM 'v4' has none)");
}

/* The twin warning's words follow both VMs' network modes: one LAN only on one bridge. */
static void test_twin_text_follows_networks(void **state)
{
    (void)state;
    pvm_vm_twin t = {.name = "old", .same_profile = true, .shared = "UUID, MAC"};
    char text[600];
    const char *lead = "VM 'new' wears the same profile as the running VM 'old': both would "
                       "show the same UUID, MAC";
    struct {
        pvm_net_mode net, twin_net;
        const char *bridge, *twin_bridge, *where;
    } cases[] = {
        {PVM_NET_USER, PVM_NET_USER, "", "", " to the sites and services both reach (each is "
         "on its own user-mode NAT network: no LAN sees both)"},
        {PVM_NET_USER, PVM_NET_BRIDGE, "", "br0", " to the sites and services both reach (VM "
         "'new' is behind user-mode NAT: no LAN sees both)"},
        {PVM_NET_BRIDGE, PVM_NET_USER, "br0", "", " to the sites and services both reach (VM "
         "'old' is behind user-mode NAT: no LAN sees both)"},
        {PVM_NET_BRIDGE, PVM_NET_BRIDGE, "br0", "br0", " on one LAN (bridge br0)"},
        {PVM_NET_BRIDGE, PVM_NET_BRIDGE, "br0", "br1", " on bridges br0 and br1 (one LAN if "
         "they meet)"},
        {PVM_NET_NONE, PVM_NET_USER, "", "", ", though no network joins them (VM 'new' has "
         "none)"},
        {PVM_NET_BRIDGE, PVM_NET_NONE, "br0", "", ", though no network joins them (VM 'old' "
         "has none)"},
        {PVM_NET_NONE, PVM_NET_NONE, "", "", ", though neither has a network (only what is "
         "carried out of them shows it)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        t.net = cases[i].net;
        t.twin_net = cases[i].twin_net;
        strcpy(t.bridge, cases[i].bridge);
        strcpy(t.twin_bridge, cases[i].twin_bridge);
        pvm_vm_twin_text("new", &t, text, sizeof text);
        char want[600];
        snprintf(want, sizeof want, "%s%s", lead, cases[i].where);
        assert_string_equal(text, want);
        if (cases[i].net == PVM_NET_USER || cases[i].twin_net == PVM_NET_USER ||
            cases[i].net == PVM_NET_NONE || cases[i].twin_net == PVM_NET_NONE)
            assert_null(strstr(text, "one LAN")); /* no shared LAN claimed without one bridge */
    }
}

/* The longest twin warning (64-byte names, every shared item, a where naming a VM) fits
 * PVM_TWIN_TEXT_MAX whole, and with "; " and a start's own note (< 400 bytes) the note
 * of a TUI start (PVM_START_NOTE_MAX): the TUI once cut it mid-word at 400 bytes. */
static void test_twin_text_longest_fits(void **state)
{
    (void)state;
    char name[PVM_NAME_MAX + 1], other[PVM_NAME_MAX + 1];
    memset(name, 'n', PVM_NAME_MAX);
    name[PVM_NAME_MAX] = '\0';
    memset(other, 'o', PVM_NAME_MAX);
    other[PVM_NAME_MAX] = '\0';
    pvm_vm_twin t = {.same_profile = true, .net = PVM_NET_BRIDGE, .twin_net = PVM_NET_USER};
    strcpy(t.name, other);
    memset(t.shared, 's', sizeof t.shared - 1); /* longer than any list of words */
    strcpy(t.bridge, "br0");
    for (int same = 0; same < 2; same++) {
        t.same_profile = same;
        char text[PVM_TWIN_TEXT_MAX + 1];
        memset(text, 0, sizeof text);
        pvm_vm_twin_text(name, &t, text, sizeof text);
        size_t n = strlen(text);
        assert_true(n + 1 < PVM_TWIN_TEXT_MAX); /* not cut: room was left over */
        const char *tail = "(VM '" "oooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooo"
                           "' is behind user-mode NAT: no LAN sees both)";
        assert_true(n > strlen(tail));
        assert_string_equal(text + n - strlen(tail), tail);
        assert_true(n + 2 + 399 < PVM_START_NOTE_MAX);
    }
}

static void test_restore_into_stopped(void **state)
{
    fixture *f = *state;
    pvm_error err = {0};
    running(f);
    assert_int_equal(pvm_snapshot_create(f->e, "v1", "mem1", NULL, NULL, NULL, NULL, &err), 0);
    assert_int_equal(pvm_vm_stop(f->e, "v1", true, 5, NULL, &err), 0);
    pvm_vm vm;
    assert_int_equal(pvm_vm_get(f->e, "v1", &vm, &err), 0);
    assert_int_equal(vm.state, PVM_VM_STOPPED);
    assert_int_equal(pvm_snapshot_restore(f->e, "v1", "mem1", NULL, NULL, NULL, &err), 0);
    assert_int_equal(pvm_vm_get(f->e, "v1", &vm, &err), 0);
    assert_int_equal(vm.state, PVM_VM_RUNNING); /* started paused, loaded, resumed */
    /* a load that fails leaves no paused VM behind */
    assert_int_equal(pvm_vm_stop(f->e, "v1", true, 5, NULL, &err), 0);
    pvm_fake_behave(f->home, "snapshot_load", "fail cannot load", &err);
    assert_int_equal(pvm_snapshot_restore(f->e, "v1", "mem1", NULL, NULL, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "cannot load"));
    assert_int_equal(pvm_vm_get(f->e, "v1", &vm, &err), 0);
    assert_int_equal(vm.state, PVM_VM_STOPPED);
}

static void test_reconcile(void **state)
{
    fixture *f = *state;
    pvm_error err = {0};
    assert_int_equal(pvm_snapshot_create(f->e, "v1", "a1", NULL, NULL, NULL, NULL, &err), 0);
    assert_int_equal(pvm_snapshot_create(f->e, "v1", "a2", NULL, NULL, NULL, NULL, &err), 0);
    assert_int_equal(pvm_fake_snapshot_edit(f->home, f->vm.id, "a1", false, &err), 0);
    assert_int_equal(pvm_fake_snapshot_edit(f->home, f->vm.id, "outside", true, &err), 0);
    pvm_snapshot *l = NULL;
    size_t n = 0;
    pvm_snapshot_notes notes = {0};
    assert_int_equal(pvm_snapshot_list(f->e, "v1", &l, &n, &notes, &err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(notes.n, 2);
    assert_non_null(strstr(notes.line[0], "'a1' is no longer in the disk image"));
    assert_non_null(strstr(notes.line[1], "'outside' was found"));
    bool adopted = false;
    for (size_t i = 0; i < n; i++)
        if (strcmp(l[i].tag, "outside") == 0)
            adopted = l[i].adopted && l[i].memory;
    assert_true(adopted);
    free(l);
    /* a second list has nothing more to say */
    memset(&notes, 0, sizeof notes);
    assert_int_equal(pvm_snapshot_list(f->e, "v1", &l, &n, &notes, &err), 0);
    assert_int_equal(notes.n, 0);
    free(l);
    /* an adopted snapshot's identity is unknown: restore needs force */
    running(f);
    assert_int_equal(pvm_snapshot_restore(f->e, "v1", "outside", NULL, NULL, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "unknown"));
}

/* pvm_snapshot_rows: the store's rows as they are (the TUI's first frame), no
 * reconciliation; the list that follows reconciles, and the rows then agree. */
static void test_rows_unreconciled(void **state)
{
    fixture *f = *state;
    pvm_error err = {0};
    assert_int_equal(pvm_snapshot_create(f->e, "v1", "a1", NULL, NULL, NULL, NULL, &err), 0);
    assert_int_equal(pvm_snapshot_create(f->e, "v1", "a2", NULL, NULL, NULL, NULL, &err), 0);
    assert_int_equal(pvm_fake_snapshot_edit(f->home, f->vm.id, "a1", false, &err), 0);
    assert_int_equal(pvm_fake_snapshot_edit(f->home, f->vm.id, "outside", true, &err), 0);
    pvm_snapshot *l = NULL;
    size_t n = 0;
    assert_int_equal(pvm_snapshot_rows(f->e, "v1", &l, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_string_equal(l[0].tag, "a1"); /* still there: nothing was checked */
    assert_string_equal(l[1].tag, "a2");
    free(l);
    pvm_snapshot_notes notes = {0};
    assert_int_equal(pvm_snapshot_list(f->e, "v1", &l, &n, &notes, &err), 0);
    assert_int_equal(notes.n, 2);
    free(l);
    assert_int_equal(pvm_snapshot_rows(f->e, "v1", &l, &n, &err), 0);
    assert_int_equal(n, 2);
    bool a1 = false, outside = false;
    for (size_t i = 0; i < n; i++) {
        a1 |= strcmp(l[i].tag, "a1") == 0;
        outside |= strcmp(l[i].tag, "outside") == 0;
    }
    assert_false(a1);
    assert_true(outside);
    free(l);
    assert_int_equal(pvm_snapshot_rows(f->e, "no-such-vm", &l, &n, &err), -1);
    assert_int_equal(err.code, PVM_E_NOTFOUND);
}

/* pvm_snapshot_briefs (the TUI's Snapshots pane): the rows of pvm_snapshot_rows, in
 * their order, with their tag, time, memory and adopted flags. */
static void test_briefs_match_rows(void **state)
{
    fixture *f = *state;
    pvm_error err = {0};
    assert_int_equal(pvm_snapshot_create(f->e, "v1", "d1", NULL, NULL, NULL, NULL, &err), 0);
    running(f);
    assert_int_equal(pvm_snapshot_create(f->e, "v1", "m1", NULL, NULL, NULL, NULL, &err), 0);
    assert_int_equal(pvm_fake_snapshot_edit(f->home, f->vm.id, "outside", true, &err), 0);
    pvm_snapshot *l = NULL;
    size_t n = 0, nb = 0;
    pvm_snapshot_notes notes = {0};
    assert_int_equal(pvm_snapshot_list(f->e, "v1", &l, &n, &notes, &err), 0); /* adopts */
    free(l);
    pvm_snapshot_brief *b = NULL;
    assert_int_equal(pvm_snapshot_rows(f->e, "v1", &l, &n, &err), 0);
    assert_int_equal(pvm_snapshot_briefs(f->e, "v1", &b, &nb, &err), 0);
    assert_int_equal(n, 3);
    assert_int_equal(nb, n);
    bool memory = false, disk = false, adopted = false;
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(b[i].tag, l[i].tag);
        assert_int_equal(b[i].created_at, l[i].created_at);
        assert_int_equal(b[i].memory, l[i].memory);
        assert_int_equal(b[i].adopted, l[i].adopted);
        memory |= b[i].memory && !b[i].adopted;
        disk |= !b[i].memory;
        adopted |= b[i].adopted;
    }
    assert_true(memory && disk && adopted);
    free(l);
    free(b);
    assert_int_equal(pvm_snapshot_briefs(f->e, "no-such-vm", &b, &nb, &err), -1);
    assert_int_equal(err.code, PVM_E_NOTFOUND);
}

static void test_busy(void **state)
{
    fixture *f = *state;
    pvm_error err = {0};
    pvm_vm_files files;
    int fd = -1;
    assert_int_equal(pvm_vm_files_init(f->home, f->vm.id, &files, &err), 0);
    assert_int_equal(pvm_vm_lock(&files, "v1", &fd, &err), 0); /* another session */
    assert_int_equal(pvm_snapshot_create(f->e, "v1", "x1", NULL, NULL, NULL, NULL, &err), -1);
    assert_int_equal(err.code, PVM_E_BUSY);
    assert_non_null(strstr(err.msg, "busy"));
    pvm_snapshot *l = NULL;
    size_t n = 0;
    pvm_snapshot_notes notes = {0};
    assert_int_equal(pvm_snapshot_list(f->e, "v1", &l, &n, &notes, &err), 0); /* still lists */
    assert_int_equal(notes.n, 1);
    free(l);
    pvm_vm_unlock(fd);
    assert_int_equal(pvm_snapshot_create(f->e, "v1", "x1", NULL, NULL, NULL, NULL, &err), 0);
}

/* QEMU's device set (engine/qemu/argv.c): every key a memory state depends on. */
static void test_qemu_devices(void **state)
{
    (void)state;
    pvm_profile p;
    pvm_profile_init(&p);
    strcpy(p.hw.manufacturer, "Dell Inc.");
    strcpy(p.hw.product, "Latitude 7520");
    strcpy(p.hw.cpu_model, "11th Gen Intel(R) Core(TM) i7-1185G7 @ 3.00GHz");
    strcpy(p.hw.cpu_cores, "4");
    strcpy(p.hw.cpu_threads, "2");
    p.hide_hypervisor = true;
    pvm_vm vm = {.cpus = 8, .memory_bytes = 256ULL << 20, .disk_bus = PVM_DISK_SATA,
                 .nic = PVM_NIC_E1000E, .net = PVM_NET_USER};
    char d[PVM_SNAP_DEVICES_MAX];
    pvm_qemu_devices(&p, &vm, false, PVM_AGENT_CHANNEL_AUTO, d, sizeof d);
    assert_non_null(strstr(d, "cpus=8 memory=268435456 diskBus=sata nic=e1000e"));
    assert_non_null(strstr(d, " topology=1x4x2 cpuModel=Skylake-Client-v4 nicRom=none "
                              "agent=isa-serial qemu=stock"));
    assert_null(strstr(d, "pciSubsys"));
    /* e1000e's PCIe serial number comes from the MAC: it is part of the memory state */
    strcpy(p.mac, "a4:bb:6d:00:00:01");
    pvm_qemu_devices(&p, &vm, false, PVM_AGENT_CHANNEL_AUTO, d, sizeof d);
    assert_non_null(strstr(d, "nicRom=none e1000eMac=a4:bb:6d:00:00:01 agent=isa-serial"));
    vm.nic = PVM_NIC_VIRTIO;
    pvm_qemu_devices(&p, &vm, false, PVM_AGENT_CHANNEL_AUTO, d, sizeof d);
    assert_null(strstr(d, "e1000eMac"));
    vm.nic = PVM_NIC_E1000E;
    p.mac[0] = '\0';
    /* the stealth build: its ids too (Dell's PCI vendor), NVMe's with an NVMe disk */
    pvm_qemu_devices(&p, &vm, true, PVM_AGENT_CHANNEL_AUTO, d, sizeof d);
    assert_non_null(strstr(d, " qemu=stealth pciSubsys=1028:"));
    assert_null(strstr(d, "nvmeIds"));
    vm.disk_bus = PVM_DISK_NVME;
    pvm_qemu_devices(&p, &vm, true, PVM_AGENT_CHANNEL_AUTO, d, sizeof d);
    assert_non_null(strstr(d, " nvmeIds="));
    /* virtio NIC keeps QEMU's ROM; the virtio agent channel when asked or shown */
    vm.nic = PVM_NIC_VIRTIO;
    pvm_qemu_devices(&p, &vm, false, PVM_AGENT_CHANNEL_VIRTIO, d, sizeof d);
    assert_non_null(strstr(d, "nicRom=default agent=virtio-serial"));
    p.hide_hypervisor = false;
    pvm_qemu_devices(&p, &vm, false, PVM_AGENT_CHANNEL_AUTO, d, sizeof d);
    assert_non_null(strstr(d, "agent=virtio-serial"));
    pvm_qemu_devices(&p, &vm, false, PVM_AGENT_CHANNEL_ISA, d, sizeof d);
    assert_non_null(strstr(d, "agent=isa-serial"));
    /* an AMD brand: another CPU model */
    strcpy(p.hw.cpu_model, "AMD Ryzen 7 PRO 4750U with Radeon Graphics");
    pvm_qemu_devices(&p, &vm, false, PVM_AGENT_CHANNEL_AUTO, d, sizeof d);
    assert_non_null(strstr(d, "cpuModel=EPYC-Rome-v2"));
}

static void set_config(fixture *f, const char *text)
{
    char *cfg = pvm_xasprintf("%s/config", f->home);
    write_text(cfg, text);
    free(cfg);
}

/* The agent channel (config) changes between snapshot and restore: a running VM keeps the
 * device set it was started with (restores pass); stopped, a start would give the other
 * channel, so its memory state cannot load (not even forced) and a disk-only snapshot
 * needs --force; the refusal names the key with both values and, for the memory state, the
 * config value that brings it back. */
static void test_restore_device_change(void **state)
{
    fixture *f = *state;
    pvm_error err = {0};
    pvm_snapshot s;
    set_config(f, "backend = fake\nagent_channel = virtio\n");
    assert_int_equal(pvm_snapshot_create(f->e, "v1", "disk1", NULL, NULL, &s, NULL, &err), 0);
    assert_non_null(strstr(s.devices, "agent=virtio-serial"));
    assert_non_null(strstr(s.devices, "qemu=stock"));
    running(f);
    assert_int_equal(pvm_snapshot_create(f->e, "v1", "mem1", NULL, NULL, &s, NULL, &err), 0);
    assert_non_null(strstr(s.devices, "agent=virtio-serial"));
    set_config(f, "backend = fake\nagent_channel = isa-serial\n");
    /* the running VM still has virtio-serial (recorded at its start) */
    assert_int_equal(pvm_snapshot_create(f->e, "v1", "mem2", NULL, NULL, &s, NULL, &err), 0);
    assert_non_null(strstr(s.devices, "agent=virtio-serial"));
    assert_int_equal(pvm_snapshot_restore(f->e, "v1", "mem1", NULL, NULL, NULL, &err), 0);
    assert_int_equal(pvm_vm_stop(f->e, "v1", true, 5, NULL, &err), 0);
    /* stopped: a start now would use isa-serial */
    pvm_snapshot_opts force = {.force = true};
    memset(&err, 0, sizeof err);
    assert_int_equal(pvm_snapshot_restore(f->e, "v1", "mem1", &force, NULL, NULL, &err), -1);
    assert_int_equal(err.code, PVM_E_STATE);
    assert_non_null(strstr(err.msg, "cannot load into the devices a start would give now"));
    assert_non_null(strstr(err.msg, "not even with --force"));
    /* the remedy: the config value of then */
    assert_non_null(strstr(err.msg, "agent: virtio-serial then, isa-serial now (set "
                                    "agent_channel = virtio in the config)"));
    pvm_vm vm;
    assert_int_equal(pvm_vm_get(f->e, "v1", &vm, &err), 0);
    assert_int_equal(vm.state, PVM_VM_STOPPED); /* refused before anything started */
    memset(&err, 0, sizeof err);
    assert_int_equal(pvm_snapshot_restore(f->e, "v1", "disk1", NULL, NULL, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "other devices (agent: virtio-serial then, isa-serial now)"));
    assert_non_null(strstr(err.msg, "--force restores it anyway"));
    assert_int_equal(pvm_snapshot_restore(f->e, "v1", "disk1", &force, NULL, NULL, &err), 0);
    /* back to virtio: the memory snapshot loads again */
    set_config(f, "backend = fake\nagent_channel = virtio\n");
    assert_int_equal(pvm_snapshot_restore(f->e, "v1", "mem1", NULL, NULL, NULL, &err), 0);
}

/* A row from before the device keys grew (cpus .. cdrom only) still restores; a key it
 * has that changed is still refused. */
static void test_restore_old_row(void **state)
{
    fixture *f = *state;
    pvm_error err = {0};
    pvm_snapshot now;
    running(f);
    assert_int_equal(pvm_snapshot_create(f->e, "v1", "new1", NULL, NULL, &now, NULL, &err), 0);
    assert_int_equal(pvm_fake_snapshot_edit(f->home, f->vm.id, "old1", true, &err), 0);
    pvm_snapshot old = now;
    pvm_uuid_v4(old.id);
    strcpy(old.tag, "old1");
    snprintf(old.devices, sizeof old.devices, "cpus=%d memory=%llu diskBus=virtio nic=virtio "
             "net=user cdrom=no", f->vm.cpus, (unsigned long long)f->vm.memory_bytes);
    assert_int_equal(pvm_db_snapshot_insert(f->e->store, &old, &err), 0);
    assert_int_equal(pvm_snapshot_restore(f->e, "v1", "old1", NULL, NULL, NULL, &err), 0);
    snprintf(old.devices, sizeof old.devices, "cpus=%d memory=1 diskBus=virtio", f->vm.cpus);
    pvm_uuid_v4(old.id);
    strcpy(old.tag, "old2");
    assert_int_equal(pvm_fake_snapshot_edit(f->home, f->vm.id, "old2", true, &err), 0);
    assert_int_equal(pvm_db_snapshot_insert(f->e->store, &old, &err), 0);
    assert_int_equal(pvm_snapshot_restore(f->e, "v1", "old2", NULL, NULL, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "memory: 1 then, 67108864 now"));
}

static void test_delete_and_vm_delete(void **state)
{
    fixture *f = *state;
    pvm_error err = {0};
    assert_int_equal(pvm_snapshot_create(f->e, "v1", "a1", NULL, NULL, NULL, NULL, &err), 0);
    assert_int_equal(pvm_snapshot_create(f->e, "v1", "a2", NULL, NULL, NULL, NULL, &err), 0);
    assert_int_equal(pvm_snapshot_delete(f->e, "v1", "a1", NULL, NULL, &err), 0);
    assert_int_equal(count(f), 1);
    assert_int_equal(pvm_snapshot_delete(f->e, "v1", "a1", NULL, NULL, &err), -1);
    assert_int_equal(err.code, PVM_E_NOTFOUND);
    assert_int_equal(pvm_vm_delete(f->e, "v1", &err), 0);
    pvm_snapshot *l = NULL;
    size_t n = 9;
    assert_int_equal(pvm_db_snapshot_list(f->e->store, f->vm.id, &l, &n, &err), 0);
    assert_int_equal(n, 0);
    free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tag_rule),
        cmocka_unit_test(test_identity_diff),
        cmocka_unit_test(test_devices_diff),
        cmocka_unit_test(test_parse_120),
        cmocka_unit_test(test_twin_text_follows_networks),
        cmocka_unit_test(test_twin_text_longest_fits),
        cmocka_unit_test(test_qemu_devices),
        cmocka_unit_test_setup_teardown(test_restore_device_change, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restore_old_row, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tag_default, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_save_leaves_no_row, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restore_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restore_into_stopped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_identity_worn_while_running, setup, teardown),
        cmocka_unit_test_setup_teardown(test_identity_record_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_identity_record_stale, setup, teardown),
        cmocka_unit_test_setup_teardown(test_identity_record_names_process, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restore_keeps_run_disk_serial, setup, teardown),
        cmocka_unit_test_setup_teardown(test_twins_follow_worn_identity, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reconcile, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rows_unreconciled, setup, teardown),
        cmocka_unit_test_setup_teardown(test_briefs_match_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_busy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_and_vm_delete, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
