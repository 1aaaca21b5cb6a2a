/* test_store_vms.c - the vms table on a real SQLite file: insert, get by name
 * and id, sorted list, delete, the foreign key to profiles (unknown profile
 * refused, a used profile cannot be deleted) and the per-profile VM count. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../db/internal.h"
#include "fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PROFILE_A "a0a0a0a0-0000-4000-8000-000000000001"
#define PROFILE_B "b0b0b0b0-0000-4000-8000-000000000002"

static void add_profile(pvm_store *s, const char *id, const char *name)
{
    pvm_profile p;
    pvm_error err = {0};
    memset(&p, 0, sizeof p);
    pvm_strlcpy(p.id, id, sizeof p.id);
    pvm_strlcpy(p.name, name, sizeof p.name);
    p.hide_hypervisor = true;
    if (pvm_db_profile_insert(s, &p, &err) < 0)
        fail_msg("profile insert: %s", err.msg);
}

/* A store in a fresh folder holding the two profiles the VMs point at. */
static int setup(void **state)
{
    if (fixture_setup_store(state) < 0)
        return -1;
    fixture *fx = *state;
    add_profile(fx->s, PROFILE_A, "profile a");
    add_profile(fx->s, PROFILE_B, "profile b");
    return 0;
}

static void make_vm(pvm_vm *vm, const char *id, const char *name, const char *profile_id)
{
    memset(vm, 0, sizeof *vm);
    pvm_strlcpy(vm->id, id, sizeof vm->id);
    pvm_strlcpy(vm->name, name, sizeof vm->name);
    pvm_strlcpy(vm->profile_id, profile_id, sizeof vm->profile_id);
    vm->cpus = 4;
    vm->memory_bytes = 8ULL << 30;
    vm->disk_bytes = (uint64_t)INT64_MAX; /* the largest the store holds */
    vm->disk_bus = PVM_DISK_SATA;
    vm->nic = PVM_NIC_E1000E;
    vm->net = PVM_NET_NONE;
    pvm_strlcpy(vm->iso, "/tmp/it's, \"an\" iso;--.iso", sizeof vm->iso);
    pvm_strlcpy(vm->kernel, "/boot/vmlinuz,if=none", sizeof vm->kernel);
    pvm_strlcpy(vm->initrd, "", sizeof vm->initrd);
    pvm_strlcpy(vm->append, "console=ttyS0 quiet '); DROP TABLE vms;--", sizeof vm->append);
    vm->created_at = 1712345678;
    vm->display = PVM_DISPLAY_VNC;
    vm->video = PVM_VIDEO_VIRTIO;
    vm->firmware = PVM_FIRMWARE_UEFI_SECURE;
    vm->tpm = true;
    pvm_strlcpy(vm->forwards, "tcp:127.0.0.1:2222:22 udp:0.0.0.0:53:53", sizeof vm->forwards);
    pvm_strlcpy(vm->bridge, "br0", sizeof vm->bridge);
}

static void assert_vm_equal(const pvm_vm *a, const pvm_vm *b)
{
    assert_string_equal(a->id, b->id);
    assert_string_equal(a->name, b->name);
    assert_string_equal(a->profile_id, b->profile_id);
    assert_int_equal(a->cpus, b->cpus);
    assert_true(a->memory_bytes == b->memory_bytes);
    assert_true(a->disk_bytes == b->disk_bytes);
    assert_int_equal(a->disk_bus, b->disk_bus);
    assert_int_equal(a->nic, b->nic);
    assert_int_equal(a->net, b->net);
    assert_string_equal(a->iso, b->iso);
    assert_string_equal(a->kernel, b->kernel);
    assert_string_equal(a->initrd, b->initrd);
    assert_string_equal(a->append, b->append);
    assert_int_equal(a->created_at, b->created_at);
    assert_int_equal(a->display, b->display);
    assert_int_equal(a->video, b->video);
    assert_int_equal(a->firmware, b->firmware);
    assert_int_equal(a->tpm, b->tpm);
    assert_string_equal(a->forwards, b->forwards);
    assert_string_equal(a->bridge, b->bridge);
}

static void insert_ok(pvm_store *s, const pvm_vm *vm)
{
    pvm_error err = {0};
    if (pvm_db_vm_insert(s, vm, &err) < 0)
        fail_msg("vm insert '%s': %s", vm->name, err.msg);
}

static int vm_count(pvm_store *s, const char *profile_id)
{
    pvm_error err = {0};
    int n = -1;
    if (pvm_db_profile_vm_count(s, profile_id, &n, &err) < 0)
        fail_msg("vm_count: %s", err.msg);
    return n;
}

static void test_vm_round_trip(void **state)
{
    fixture *fx = *state;
    pvm_error err = {0};
    static pvm_vm vm, got;
    make_vm(&vm, "c1c1c1c1-0000-4000-8000-000000000001", "web, \"front\" 'end'", PROFILE_A);
    insert_ok(fx->s, &vm);

    memset(&got, 0x5a, sizeof got);
    assert_int_equal(pvm_db_vm_get(fx->s, vm.name, &got, &err), 0);
    assert_vm_equal(&vm, &got);
    assert_int_equal(got.state, PVM_VM_STOPPED);
    assert_int_equal(got.pid, 0);
    assert_string_equal(got.state_reason, "");
    assert_int_equal(pvm_db_vm_get(fx->s, vm.id, &got, &err), 0);
    assert_vm_equal(&vm, &got);

    /* Survives closing and reopening the store. */
    pvm_store_close(fx->s);
    fx->s = NULL;
    assert_int_equal(pvm_store_open(fx->db, &fx->s, &err), 0);
    assert_int_equal(pvm_db_vm_get(fx->s, vm.id, &got, &err), 0);
    assert_vm_equal(&vm, &got);

    assert_int_equal(pvm_db_vm_get(fx->s, "no such vm", &got, &err), -1);
    assert_int_equal(err.code, PVM_E_NOTFOUND);
    assert_string_equal(err.msg, "VM 'no such vm' not found");

    /* vm edit's update rewrites every column; an unknown id is NOTFOUND */
    vm.firmware = PVM_FIRMWARE_BIOS;
    vm.tpm = false;
    vm.forwards[0] = '\0';
    vm.cpus = 2;
    assert_int_equal(pvm_db_vm_update(fx->s, &vm, &err), 0);
    assert_int_equal(pvm_db_vm_get(fx->s, vm.id, &got, &err), 0);
    assert_vm_equal(&vm, &got);
    pvm_vm ghost = vm;
    pvm_strlcpy(ghost.id, "c1c1c1c1-0000-4000-8000-0000000000ff", sizeof ghost.id);
    assert_int_equal(pvm_db_vm_update(fx->s, &ghost, &err), -1);
    assert_int_equal(err.code, PVM_E_NOTFOUND);

    assert_int_equal(pvm_db_vm_delete(fx->s, vm.id, &err), 0);
    assert_int_equal(pvm_db_vm_get(fx->s, vm.id, &got, &err), -1);
    assert_int_equal(err.code, PVM_E_NOTFOUND);
    assert_int_equal(pvm_db_vm_delete(fx->s, vm.id, &err), -1);
    assert_int_equal(err.code, PVM_E_NOTFOUND);
}

static void test_vm_list_sorted(void **state)
{
    fixture *fx = *state;
    pvm_error err = {0};
    pvm_vm *list = NULL;
    size_t count = 99;
    assert_int_equal(pvm_db_vm_list(fx->s, &list, &count, &err), 0);
    assert_int_equal(count, 0);
    free(list);

    static const char *names[] = {"win11", "Alpine", "debian", "Zorin"};
    static const char *sorted[] = {"Alpine", "debian", "win11", "Zorin"};
    static pvm_vm vms[4];
    for (int i = 0; i < 4; i++) {
        char id[40];
        snprintf(id, sizeof id, "d1d1d1d1-0000-4000-8000-%012d", i);
        make_vm(&vms[i], id, names[i], i % 2 ? PROFILE_B : PROFILE_A);
        vms[i].cpus = i + 1;
        vms[i].disk_bus = (pvm_disk_bus)(i % 3);
        vms[i].nic = (pvm_nic_model)(i % 2);
        vms[i].net = (pvm_net_mode)((i + 1) % 2);
        insert_ok(fx->s, &vms[i]);
    }
    assert_int_equal(pvm_db_vm_list(fx->s, &list, &count, &err), 0);
    assert_int_equal(count, 4);
    for (int i = 0; i < 4; i++) {
        assert_string_equal(list[i].name, sorted[i]);
        for (int j = 0; j < 4; j++)
            if (strcmp(vms[j].name, sorted[i]) == 0)
                assert_vm_equal(&vms[j], &list[i]);
    }
    free(list);
}

static void test_vm_duplicates(void **state)
{
    fixture *fx = *state;
    pvm_error err = {0};
    static pvm_vm vm, dup, got;
    make_vm(&vm, "e1e1e1e1-0000-4000-8000-000000000001", "builder", PROFILE_A);
    insert_ok(fx->s, &vm);
    make_vm(&dup, "e1e1e1e1-0000-4000-8000-000000000002", "builder", PROFILE_B);
    dup.cpus = 1;
    assert_int_equal(pvm_db_vm_insert(fx->s, &dup, &err), -1);
    assert_int_equal(err.code, PVM_E_EXISTS);
    assert_string_equal(err.msg, "name: a VM named 'builder' already exists");
    assert_string_equal(err.field, "name");
    assert_int_equal(pvm_db_vm_get(fx->s, "builder", &got, &err), 0);
    assert_vm_equal(&vm, &got);

    make_vm(&dup, vm.id, "other name", PROFILE_A);
    assert_int_equal(pvm_db_vm_insert(fx->s, &dup, &err), -1);
    assert_int_equal(err.code, PVM_E_EXISTS);
    assert_string_equal(err.field, "id");
    assert_non_null(strstr(err.msg, "id: a VM with id 'e1e1e1e1-0000-4000-8000-000000000001'"));
}

static void test_vm_unknown_profile_refused(void **state)
{
    fixture *fx = *state;
    pvm_error err = {0};
    static pvm_vm vm, got;
    make_vm(&vm, "f1f1f1f1-0000-4000-8000-000000000001", "orphan",
            "deadbeef-0000-4000-8000-000000000000");
    assert_int_equal(pvm_db_vm_insert(fx->s, &vm, &err), -1);
    assert_int_equal(err.code, PVM_E_NOTFOUND);
    assert_non_null(strstr(err.msg, "profile 'deadbeef-0000-4000-8000-000000000000' not found"));
    assert_string_equal(err.field, "profile");
    assert_int_equal(pvm_db_vm_get(fx->s, "orphan", &got, &err), -1);
    assert_int_equal(err.code, PVM_E_NOTFOUND);
}

static void test_vm_too_large_refused(void **state)
{
    fixture *fx = *state;
    pvm_error err = {0};
    static pvm_vm vm;
    make_vm(&vm, "f2f2f2f2-0000-4000-8000-000000000001", "huge", PROFILE_A);
    vm.memory_bytes = UINT64_MAX;
    assert_int_equal(pvm_db_vm_insert(fx->s, &vm, &err), -1);
    assert_int_equal(err.code, PVM_E_INVALID);
    assert_non_null(strstr(err.msg, "memory_bytes"));
}

static void test_vm_bad_stored_enum_refused(void **state)
{
    fixture *fx = *state;
    pvm_error err = {0};
    static pvm_vm vm, got;
    make_vm(&vm, "f3f3f3f3-0000-4000-8000-000000000001", "tampered", PROFILE_A);
    insert_ok(fx->s, &vm);
    assert_int_equal(sqlite3_exec(fx->s->db, "UPDATE vms SET disk_bus = 7", NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(pvm_db_vm_get(fx->s, "tampered", &got, &err), -1);
    assert_int_equal(err.code, PVM_E_SCHEMA);
    assert_non_null(strstr(err.msg, "disk_bus"));
}

static void test_profile_in_use(void **state)
{
    fixture *fx = *state;
    pvm_error err = {0};
    static pvm_vm one, two;
    pvm_profile got;
    assert_int_equal(vm_count(fx->s, PROFILE_A), 0);
    make_vm(&one, "a1a1a1a1-0000-4000-8000-000000000001", "one", PROFILE_A);
    make_vm(&two, "a1a1a1a1-0000-4000-8000-000000000002", "two", PROFILE_A);
    insert_ok(fx->s, &one);
    assert_int_equal(vm_count(fx->s, PROFILE_A), 1);
    insert_ok(fx->s, &two);
    assert_int_equal(vm_count(fx->s, PROFILE_A), 2);
    assert_int_equal(vm_count(fx->s, PROFILE_B), 0);
    assert_int_equal(vm_count(fx->s, "no-such-profile"), 0);

    assert_int_equal(pvm_db_profile_delete(fx->s, PROFILE_A, &err), -1);
    assert_int_equal(err.code, PVM_E_STATE);
    assert_non_null(strstr(err.msg, PROFILE_A));
    assert_non_null(strstr(err.msg, "is used by a VM; delete that VM first"));
    assert_int_equal(pvm_db_profile_get(fx->s, PROFILE_A, &got, &err), 0);

    assert_int_equal(pvm_db_vm_delete(fx->s, one.id, &err), 0);
    assert_int_equal(vm_count(fx->s, PROFILE_A), 1);
    assert_int_equal(pvm_db_profile_delete(fx->s, PROFILE_A, &err), -1);
    assert_int_equal(err.code, PVM_E_STATE);
    assert_int_equal(pvm_db_vm_delete(fx->s, two.id, &err), 0);
    assert_int_equal(vm_count(fx->s, PROFILE_A), 0);
    assert_int_equal(pvm_db_profile_delete(fx->s, PROFILE_A, &err), 0);
    assert_int_equal(pvm_db_profile_get(fx->s, PROFILE_A, &got, &err), -1);
    assert_int_equal(err.code, PVM_E_NOTFOUND);
    assert_int_equal(pvm_db_profile_delete(fx->s, PROFILE_B, &err), 0);
}

/* installs (db/installs.c): round trip in order, per VM, gone with their VM. */
static void test_installs(void **state)
{
    fixture *fx = *state;
    pvm_error err = {0};
    static pvm_vm vm, other;
    make_vm(&vm, "d1d1d1d1-0000-4000-8000-000000000001", "inst", PROFILE_A);
    make_vm(&other, "d1d1d1d1-0000-4000-8000-000000000002", "other", PROFILE_A);
    insert_ok(fx->s, &vm);
    insert_ok(fx->s, &other);
    static pvm_install a, b;
    memset(&a, 0, sizeof a);
    pvm_strlcpy(a.id, "e1e1e1e1-0000-4000-8000-000000000001", sizeof a.id);
    pvm_strlcpy(a.vm_id, vm.id, sizeof a.vm_id);
    pvm_strlcpy(a.file, "-x it's \"a\"\nb.sh", sizeof a.file);
    pvm_strlcpy(a.guest_path, "/tmp/-x it's \"a\"\nb.sh", sizeof a.guest_path);
    a.bytes = 5000000000ull;
    pvm_strlcpy(a.sha256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", sizeof a.sha256);
    pvm_strlcpy(a.command, "sh /tmp/x", sizeof a.command);
    pvm_strlcpy(a.output, "done\n", sizeof a.output);
    a.at = 100;
    b = a;
    pvm_strlcpy(b.id, "e1e1e1e1-0000-4000-8000-000000000002", sizeof b.id);
    b.at = 200;
    assert_int_equal(pvm_db_install_insert(fx->s, &b, &err), 0);
    assert_int_equal(pvm_db_install_insert(fx->s, &a, &err), 0);
    pvm_install *v = NULL;
    size_t n = 0;
    assert_int_equal(pvm_db_install_list(fx->s, vm.id, &v, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_memory_equal(&v[0], &a, sizeof a); /* oldest first, every field kept */
    assert_memory_equal(&v[1], &b, sizeof b);
    free(v);
    assert_int_equal(pvm_db_install_list(fx->s, other.id, &v, &n, &err), 0);
    assert_int_equal(n, 0);
    free(v);
    assert_int_equal(pvm_db_vm_delete(fx->s, vm.id, &err), 0);
    assert_int_equal(pvm_db_install_list(fx->s, vm.id, &v, &n, &err), 0);
    assert_int_equal(n, 0); /* gone with the VM */
    free(v);
}

static void test_vm_rollback(void **state)
{
    fixture *fx = *state;
    pvm_error err = {0};
    static pvm_vm vm, got;
    make_vm(&vm, "b2b2b2b2-0000-4000-8000-000000000001", "short lived", PROFILE_B);
    assert_int_equal(pvm_store_begin(fx->s, &err), 0);
    insert_ok(fx->s, &vm);
    assert_int_equal(vm_count(fx->s, PROFILE_B), 1);
    pvm_store_rollback(fx->s);
    assert_int_equal(vm_count(fx->s, PROFILE_B), 0);
    assert_int_equal(pvm_db_vm_get(fx->s, "short lived", &got, &err), -1);
    assert_int_equal(err.code, PVM_E_NOTFOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_vm_round_trip, setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_vm_list_sorted, setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_vm_duplicates, setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_vm_unknown_profile_refused, setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_vm_too_large_refused, setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_vm_bad_stored_enum_refused, setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_profile_in_use, setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_vm_rollback, setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_installs, setup, fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
