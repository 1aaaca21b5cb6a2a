/* test_qemu_backend.c - unit tests of the QEMU backend's own logic (qemu/backend.c)
 * without QEMU: the runtime folder's paths, and the live state it reads with a stand-in
 * process (running, crashed with QEMU's last words, pid reuse, QEMU's own shutdown
 * record in qemu.log, an interrupted start). Run by tests/run (plain and ASan+UBSan). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../engine/hv.h"
#include "../../engine/internal.h"
#include "../../engine/vm_internal.h"
#include "fixture.h"

/* The runtime folder is short, private to the backend and named by the home's token
 * and 12 hex digits of the id: two homes (or a copy) never share one. */
static void test_run_paths(void **state)
{
    fixture *f = *state;
    pvm_qemu_run r;
    pvm_error err = {0};
    char token[16];
    assert_int_equal(pvm_qemu_run_init(f->home, "../../../../etc/x-ef01-4234-8567-89ab", &r,
                                       &err), -1);
    assert_non_null(strstr(err.msg, "VM id"));
    assert_int_equal(pvm_qemu_run_init(f->home, "0123abcd-ef01-4234-8567-89abcdef0123", &r,
                                       &err), 0);
    assert_int_equal(pvm_home_token(f->home, token, sizeof token, &err), 0);
    assert_int_equal(strlen(token), 12);
    char *want = pvm_xasprintf("/%s-0123abcdef01", token);
    assert_non_null(strstr(r.dir, want));
    free(want);
    assert_true(strlen(r.serial_sock) <= PVM_SOCK_PATH_MAX);
    assert_true(strlen(r.owner_sock) <= PVM_SOCK_PATH_MAX);
    /* two monitors, two sockets */
    assert_string_not_equal(r.qmp_sock, r.owner_sock);
    assert_non_null(strstr(r.owner_sock, r.dir));
}

/* The token is remembered per thread, but a home-id rewritten by another process (a
 * home made again at the same path) is read again, not taken from memory. */
static void test_home_token_fresh(void **state)
{
    fixture *f = *state;
    pvm_error err = {0};
    char token[16], again[16];
    assert_int_equal(pvm_home_token(f->home, token, sizeof token, &err), 0);
    assert_int_equal(pvm_home_token(f->home, again, sizeof again, &err), 0);
    assert_string_equal(token, again);
    struct stat st;
    assert_int_equal(stat(f->home, &st), 0);
    char *path = pvm_xasprintf("%s/home-id", f->home), *tmp = pvm_xasprintf("%s.new", path);
    FILE *fp = fopen(tmp, "w");
    assert_non_null(fp);
    fprintf(fp, "%s %llu %llu\n", strcmp(token, "abcdefabcdef") ? "abcdefabcdef" : "012345012345",
            (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
    fclose(fp);
    assert_int_equal(rename(tmp, path), 0);
    assert_int_equal(pvm_home_token(f->home, again, sizeof again, &err), 0);
    assert_string_not_equal(token, again);
    assert_string_equal(again, strcmp(token, "abcdefabcdef") ? "abcdefabcdef" : "012345012345");
    free(path);
    free(tmp);
}

/* With no config line the backend is QEMU: the fake is never a default. */
static void test_default_backend(void **state)
{
    fixture *f = *state;
    const pvm_hv_ops *hv = NULL;
    void *ctx = NULL;
    pvm_error err = {0};
    assert_int_equal(pvm_engine_hv_load(f->e, &hv, &ctx, &err), 0);
    assert_string_equal(hv->name, "qemu");
    assert_ptr_equal(hv, &pvm_hv_qemu);
}

static void test_state_probe(void **state)
{
    fixture *f = *state;
    pvm_vm vm, got;
    pvm_vm_files vf;
    pvm_qemu_run run;
    pvm_error err = {0};
    fixture_create_vm(f, "v1", &vm);
    assert_int_equal(pvm_vm_files_init(f->home, vm.id, &vf, &err), 0);
    assert_int_equal(pvm_qemu_run_init(f->home, vm.id, &run, &err), 0);
    assert_int_equal(pvm_vm_get(f->e, "v1", &got, &err), 0);
    assert_int_equal(got.state, PVM_VM_STOPPED);

    /* a live process naming only the id (another home's QEMU, as a copied home's marker
     * would point at) is not this VM's: the copy shows stopped and says why */
    char base[64];
    pvm_proc_runtime_base(base, sizeof base);
    assert_int_equal(pvm_proc_private_dir(base, &err), 0);
    assert_int_equal(pvm_proc_private_dir(run.dir, &err), 0);
    pid_t other = fixture_fake_qemu(vm.id);
    assert_int_equal(pvm_proc_pid_write(run.pidfile, other, &err), 0);
    assert_int_equal(pvm_proc_pid_write(vf.marker, other, &err), 0);
    assert_int_equal(pvm_vm_get(f->e, "v1", &got, &err), 0);
    assert_int_equal(got.pid, 0);
    assert_int_equal(got.state, PVM_VM_STOPPED);
    assert_non_null(strstr(got.state_reason, "this data folder is a copy"));
    kill(other, SIGKILL);
    waitpid(other, NULL, 0);

    /* a live process that names the VM's runtime folder: running, even when QMP is silent */
    f->fake = fixture_fake_qemu(run.dir);
    assert_int_equal(pvm_proc_pid_write(run.pidfile, f->fake, &err), 0);
    assert_int_equal(pvm_proc_pid_write(vf.marker, f->fake, &err), 0);
    assert_int_equal(pvm_vm_get(f->e, "v1", &got, &err), 0);
    assert_int_equal(got.state, PVM_VM_RUNNING);
    assert_int_equal(got.pid, f->fake);
    assert_non_null(strstr(got.state_reason, "QMP did not answer"));
    assert_int_equal(pvm_vm_delete(f->e, "v1", &err), -1); /* refused while running */
    assert_int_equal(err.code, PVM_E_STATE);

    /* it dies without a clean stop: crashed, with the pid and QEMU's last words */
    kill(f->fake, SIGKILL);
    waitpid(f->fake, NULL, 0);
    int dead = f->fake;
    f->fake = 0;
    fixture_write_text(vf.qemu_log,
               "qemu-system-x86_64: warning: something\nqemu: terminating on signal 9\n");
    assert_int_equal(pvm_vm_get(f->e, "v1", &got, &err), 0);
    assert_int_equal(got.state, PVM_VM_CRASHED);
    assert_int_equal(got.pid, 0);
    char want[128];
    snprintf(want, sizeof want, "QEMU process %d is gone without a clean stop", dead);
    assert_non_null(strstr(got.state_reason, want));
    assert_non_null(strstr(got.state_reason, "terminating on signal 9"));

    /* pid reuse: the pid file names a live process that is not this VM's QEMU */
    assert_int_equal(pvm_proc_pid_write(run.pidfile, getpid(), &err), 0);
    assert_int_equal(pvm_vm_get(f->e, "v1", &got, &err), 0);
    assert_int_equal(got.state, PVM_VM_CRASHED);

    /* QEMU gone under another kernel boot id: the host restarted, not a crash */
    char *bootid = pvm_xasprintf("%s/boot-id", vf.dir);
    fixture_write_text(bootid, "00000000-0000-0000-0000-000000000000\n");
    assert_int_equal(pvm_vm_get(f->e, "v1", &got, &err), 0);
    assert_int_equal(got.state, PVM_VM_STOPPED);
    assert_non_null(strstr(got.state_reason, "host restarted"));
    assert_int_equal(unlink(bootid), 0);
    free(bootid);

    /* the guest's console text decides nothing: a guest printing the kernel's
     * power-off line before its QEMU is killed is still a crash */
    fixture_write_text(vf.serial_log, "PVM-END\n[   15.3] reboot: Power down\n");
    assert_int_equal(pvm_vm_get(f->e, "v1", &got, &err), 0);
    assert_int_equal(got.state, PVM_VM_CRASHED);

    /* QEMU's own record, from the shutdown trace event in qemu.log, does */
    fixture_write_text(vf.qemu_log, "qemu_system_shutdown_request reason=8\n");
    assert_int_equal(pvm_vm_get(f->e, "v1", &got, &err), 0);
    assert_int_equal(got.state, PVM_VM_CRASHED); /* guest-panic is no clean stop */
    fixture_write_text(vf.qemu_log, "qemu_system_shutdown_request reason=6\n");
    assert_int_equal(pvm_vm_get(f->e, "v1", &got, &err), 0);
    assert_int_equal(got.state, PVM_VM_STOPPED);
    assert_non_null(strstr(got.state_reason, "powered itself off"));

    /* stop acknowledges it: marker and the backend's runtime folder go */
    assert_int_equal(pvm_vm_stop(f->e, "v1", false, 5, NULL, &err), 0);
    assert_int_equal(pvm_vm_get(f->e, "v1", &got, &err), 0);
    assert_int_equal(got.state, PVM_VM_STOPPED);
    assert_string_equal(got.state_reason, "");
    struct stat st;
    assert_int_equal(stat(run.dir, &st), -1);
    assert_int_equal(pvm_vm_delete(f->e, "v1", &err), 0);
    assert_int_equal(stat(vf.dir, &st), -1);
}

/* An intent marker without any QEMU or socket: a start that never got to run QEMU.
 * A reason taken from qemu.log carries no terminal escapes. */
static void test_interrupted_start_and_clean_reason(void **state)
{
    fixture *f = *state;
    pvm_vm vm, got;
    pvm_vm_files vf;
    pvm_error err = {0};
    fixture_create_vm(f, "v1", &vm);
    assert_int_equal(pvm_vm_files_init(f->home, vm.id, &vf, &err), 0);
    assert_int_equal(pvm_proc_pid_write(vf.marker, 0, &err), 0);
    assert_int_equal(pvm_vm_get(f->e, "v1", &got, &err), 0);
    assert_int_equal(got.state, PVM_VM_CRASHED);
    assert_non_null(strstr(got.state_reason, "a start was interrupted before QEMU ran"));

    fixture_write_text(vf.qemu_log, "qemu: \033]0;title\007terminating on signal 9\r\n");
    assert_int_equal(pvm_proc_pid_write(vf.marker, 999999, &err), 0);
    assert_int_equal(pvm_vm_get(f->e, "v1", &got, &err), 0);
    assert_int_equal(got.state, PVM_VM_CRASHED);
    assert_non_null(strstr(got.state_reason, "QEMU process 999999"));
    assert_non_null(strstr(got.state_reason, "terminating on signal 9"));
    for (const char *c = got.state_reason; *c; c++) /* no terminal escapes in a reason */
        assert_true((unsigned char)*c >= 0x20 && *c != 0x7f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_run_paths, fixture_setup_vms, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_home_token_fresh, fixture_setup_vms, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_default_backend, fixture_setup_vms, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_state_probe, fixture_setup_vms, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_interrupted_start_and_clean_reason, fixture_setup_vms, fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
