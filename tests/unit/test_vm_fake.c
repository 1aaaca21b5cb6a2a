/* test_vm_fake.c - unit tests of the VM engine without QEMU: proc.c (private
 * runtime folder, pid files, liveness, cmdline guard, spawn, tails), lock.c
 * (busy lock), and the engine's VM logic (vm.c, vm_ops.c) over the fake backend
 * (fake/backend.c, config `backend = fake`): state from the backend and the intent
 * marker (running, crashed with a reason, guest power-off, acknowledged by stop),
 * create/delete cleanup with a failing disk, refusals that change nothing, the caps
 * against the running total, cancel and timeout of start and stop, the backend key, a VM
 * paused on a full disk (its reason and fix) and vm resume.
 * Run by tests/run (plain and ASan+UBSan). */
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

#include "../../engine/fake/fake.h"
#include "../../engine/hv.h"
#include "../../engine/internal.h"
#include "../../engine/vm_internal.h"
#include "fixture.h"

/* The config that picks the fake backend, with extra lines. */
static void use_fake(fixture *f, const char *extra)
{
    char *cfg = pvm_xasprintf("%s/config", f->home);
    char *text = pvm_xasprintf("backend = fake\n%s", extra);
    fixture_write_text(cfg, text);
    free(text);
    free(cfg);
}

static int setup(void **state)
{
    if (fixture_setup_vms(state) < 0)
        return -1;
    use_fake(*state, "");
    return 0;
}

/* --------------------------------------------------------------- proc.c */

static void test_private_dir(void **state)
{
    fixture *f = *state;
    pvm_error err = {0};
    char *d = pvm_xasprintf("%s/rt", f->dir);
    assert_int_equal(pvm_proc_private_dir(d, &err), 0);
    struct stat st;
    assert_int_equal(lstat(d, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    chmod(d, 0755); /* a loose mode is tightened */
    assert_int_equal(pvm_proc_private_dir(d, &err), 0);
    assert_int_equal(lstat(d, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    char *link = pvm_xasprintf("%s/rtlink", f->dir);
    assert_int_equal(symlink(d, link), 0);
    assert_int_equal(pvm_proc_private_dir(link, &err), -1);
    assert_non_null(strstr(err.msg, "not a symlink"));
    free(link);
    free(d);
}

static void test_pid_files_and_liveness(void **state)
{
    fixture *f = *state;
    pvm_error err = {0};
    char *p = pvm_xasprintf("%s/pid", f->dir);
    assert_int_equal(pvm_proc_pid_read(p), 0); /* missing */
    assert_int_equal(pvm_proc_pid_write(p, 4242, &err), 0);
    assert_int_equal(pvm_proc_pid_read(p), 4242);
    fixture_write_text(p, "garbage\n");
    assert_int_equal(pvm_proc_pid_read(p), 0);
    fixture_write_text(p, "-5\n");
    assert_int_equal(pvm_proc_pid_read(p), 0);
    free(p);

    assert_true(pvm_proc_alive(getpid()));
    assert_false(pvm_proc_alive(0));
    pid_t z = fork();
    if (z == 0)
        _exit(0);
    usleep(100000); /* a zombie until reaped: not alive */
    assert_int_equal(pvm_proc_wait_gone(z, 5000, NULL, NULL, &err), 1);
    waitpid(z, NULL, 0);
    assert_false(pvm_proc_alive(z));

    f->fake = fixture_fake_qemu("pvm-tag-1234");
    assert_true(pvm_proc_alive(f->fake));
    assert_true(pvm_proc_cmdline_has(f->fake, "tag-1234"));
    assert_false(pvm_proc_cmdline_has(f->fake, "tag-9999"));
}

static void test_run_and_spawn(void **state)
{
    fixture *f = *state;
    pvm_error err = {0};
    char *out = NULL;
    int status = -1;
    char *ok[] = {"sh", "-c", "echo hello; echo oops >&2; exit 3", NULL};
    assert_int_equal(pvm_proc_run(ok, -1, &out, &status, &err), 0);
    assert_int_equal(status, 3);
    assert_string_equal(out, "hello\noops\n");
    free(out);
    char *missing[] = {"/nonexistent/prog", NULL};
    assert_int_equal(pvm_proc_run(missing, 5000, &out, &status, &err), 0);
    assert_int_equal(status, 127);
    assert_string_equal(out, "cannot run /nonexistent/prog: No such file or directory\n");
    free(out);
    /* a child that outlives its time is killed and reported, never waited for forever */
    char *hang[] = {"sh", "-c", "echo started; exec sleep 60", NULL};
    assert_int_equal(pvm_proc_run(hang, 300, &out, &status, &err), -1);
    assert_null(out);
    assert_int_equal(err.code, PVM_E_IO);
    assert_non_null(strstr(err.msg, "did not finish within"));

    char *log = pvm_xasprintf("%s/spawn.log", f->dir);
    char *sp[] = {"sh", "-c", "echo first; echo 'second line' >&2; exit 7", NULL};
    pid_t child;
    assert_int_equal(pvm_proc_spawn(sp, log, &child, &err), 0);
    assert_int_equal(pvm_proc_wait_child(child, 5000, NULL, NULL, &status, &err), 1);
    assert_int_equal(status, 7);
    char tail[128];
    pvm_proc_last_line(log, tail, sizeof tail);
    assert_string_equal(tail, "second line");
    pvm_proc_tail(log, 2, tail, sizeof tail);
    assert_string_equal(tail, "first; second line");
    free(log);
}

/* A VM folder goes whole, sub-folders too; a symlink goes, its target stays. */
static void test_remove_tree(void **state)
{
    fixture *f = *state;
    pvm_error err = {0};
    char *keep = pvm_xasprintf("%s/keep", f->dir);
    char *tree = pvm_xasprintf("%s/tree", f->dir);
    char *cmd = pvm_xasprintf("mkdir -p '%s/a/b' '%s' && touch '%s/x' '%s/a/b/y' '%s/k' && "
                              "ln -s '%s' '%s/link'", tree, keep, tree, tree, keep, keep, tree);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(pvm_proc_remove_tree(tree, &err), 0);
    struct stat st;
    assert_int_equal(lstat(tree, &st), -1);
    char *k = pvm_xasprintf("%s/k", keep);
    assert_int_equal(stat(k, &st), 0);
    assert_int_equal(pvm_proc_remove_tree(tree, &err), 0); /* already gone: fine */
    free(k);
    free(cmd);
    free(tree);
    free(keep);
}

static void test_lock_busy(void **state)
{
    fixture *f = *state;
    pvm_vm_files vf;
    pvm_error err = {0};
    assert_int_equal(pvm_vm_files_init(f->home, "../../../../etc/x-ef01-4234-8567-89ab", &vf, &err),
                     -1); /* ids become folder names: only UUIDs */
    assert_non_null(strstr(err.msg, "VM id"));
    assert_int_equal(pvm_vm_files_init(f->home, "0123abcd-ef01-4234-8567-89abcdef0123", &vf, &err), 0);
    char *vms = pvm_xasprintf("%s/vms", f->home);
    assert_int_equal(mkdir(vms, 0700), 0);
    assert_int_equal(mkdir(vf.dir, 0700), 0);
    free(vms);
    int a = -1, b = -1;
    assert_false(pvm_vm_lock_busy(&vf));
    assert_int_equal(pvm_vm_lock(&vf, "vm1", &a, &err), 0);
    assert_true(pvm_vm_lock_busy(&vf));
    assert_int_equal(pvm_vm_lock(&vf, "vm1", &b, &err), -1);
    assert_int_equal(err.code, PVM_E_BUSY);
    assert_non_null(strstr(err.msg, "VM 'vm1' is busy"));
    assert_true(fcntl(a, F_GETFD) & FD_CLOEXEC); /* QEMU never inherits the lock */
    pvm_vm_unlock(a);
    assert_false(pvm_vm_lock_busy(&vf));
    assert_int_equal(pvm_vm_lock(&vf, "vm1", &b, &err), 0);
    pvm_vm_unlock(b);
}

/* --------------------------------------------------------------- vm.c */

static void test_state_probe(void **state)
{
    fixture *f = *state;
    pvm_vm vm, got;
    pvm_vm_files vf;
    pvm_error err = {0};
    fixture_create_vm(f, "v1", &vm);
    assert_int_equal(pvm_vm_files_init(f->home, vm.id, &vf, &err), 0);
    assert_int_equal(pvm_vm_get(f->e, "v1", &got, &err), 0);
    assert_int_equal(got.state, PVM_VM_STOPPED);

    /* started: running, the intent marker set, an event recorded */
    assert_int_equal(pvm_vm_start(f->e, "v1", 0, NULL, &err), 0);
    assert_int_equal(pvm_vm_get(f->e, "v1", &got, &err), 0);
    assert_int_equal(got.state, PVM_VM_RUNNING);
    assert_int_equal(pvm_vm_intent(&vf), 0); /* the fake runs no process: pid 0 */
    assert_int_equal(pvm_vm_start(f->e, "v1", 0, NULL, &err), -1);
    assert_int_equal(err.code, PVM_E_STATE);
    assert_non_null(strstr(err.msg, "already running"));
    assert_int_equal(pvm_vm_delete(f->e, "v1", &err), -1); /* refused while running */
    assert_int_equal(err.code, PVM_E_STATE);
    assert_int_equal(pvm_fake_set_state(f->home, vm.id, "paused", NULL, &err), 0);
    assert_int_equal(pvm_vm_get(f->e, "v1", &got, &err), 0);
    assert_int_equal(got.state, PVM_VM_PAUSED);
    /* ACPI needs a running guest */
    assert_int_equal(pvm_vm_stop(f->e, "v1", false, 5, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "paused"));

    /* it ends without a stop: crashed, with the backend's reason */
    assert_int_equal(
        pvm_fake_set_state(f->home, vm.id, "crashed", "terminating on signal 9", &err), 0);
    assert_int_equal(pvm_vm_get(f->e, "v1", &got, &err), 0);
    assert_int_equal(got.state, PVM_VM_CRASHED);
    assert_int_equal(got.pid, 0);
    assert_string_equal(got.state_reason, "terminating on signal 9");

    /* a clean end the engine did not ask for: stopped, with why */
    assert_int_equal(pvm_fake_set_state(f->home, vm.id, "off", NULL, &err), 0);
    assert_int_equal(pvm_vm_get(f->e, "v1", &got, &err), 0);
    assert_int_equal(got.state, PVM_VM_STOPPED);
    assert_non_null(strstr(got.state_reason, "powered itself off"));

    /* stop acknowledges it; then the VM is plainly stopped */
    assert_int_equal(pvm_vm_stop(f->e, "v1", false, 5, NULL, &err), 0);
    assert_int_equal(pvm_vm_intent(&vf), -1);
    assert_int_equal(pvm_vm_get(f->e, "v1", &got, &err), 0);
    assert_int_equal(got.state, PVM_VM_STOPPED);
    assert_string_equal(got.state_reason, "");
    assert_int_equal(pvm_vm_stop(f->e, "v1", false, 5, NULL, &err), 0); /* idempotent */
    assert_int_equal(pvm_vm_get(f->e, "v1", &got, &err), 0);
    assert_int_equal(got.state, PVM_VM_STOPPED);

    /* a marker left by a start in another session that still holds the lock is no crash */
    int held = -1;
    assert_int_equal(pvm_proc_pid_write(vf.marker, 0, &err), 0);
    assert_int_equal(pvm_vm_lock(&vf, "v1", &held, &err), 0);
    assert_int_equal(pvm_vm_get(f->e, "v1", &got, &err), 0);
    assert_int_equal(got.state, PVM_VM_STOPPED);
    assert_non_null(strstr(got.state_reason, "another privarion-vm session"));
    pvm_vm_unlock(held);
    assert_int_equal(pvm_vm_get(f->e, "v1", &got, &err), 0);
    assert_int_equal(got.state, PVM_VM_CRASHED); /* nobody holds it: that start died */
    assert_int_equal(pvm_vm_stop(f->e, "v1", false, 5, NULL, &err), 0);

    /* started and stopped again, then deleted with its folder */
    assert_int_equal(pvm_vm_start(f->e, "v1", 5, NULL, &err), 0); /* the fake agent answers */
    assert_int_equal(pvm_vm_stop(f->e, "v1", false, 5, NULL, &err), 0);
    assert_int_equal(pvm_vm_get(f->e, "v1", &got, &err), 0);
    assert_int_equal(got.state, PVM_VM_STOPPED);
    assert_string_equal(got.state_reason, "");
    assert_int_equal(pvm_vm_delete(f->e, "v1", &err), 0);
    struct stat st;
    assert_int_equal(stat(vf.dir, &st), -1);
}

/* A VM its hypervisor paused on a full disk shows why and the fix (the folder to free,
 * vm resume NAME); vm resume continues it; resuming a VM that is not paused is a
 * state error that changes nothing; a backend's refusal reaches the caller. */
static void test_paused_on_io_error_and_resume(void **state)
{
    fixture *f = *state;
    pvm_vm vm, got;
    pvm_vm_files vf;
    pvm_error err = {0};
    fixture_create_vm(f, "v1", &vm);
    assert_int_equal(pvm_vm_files_init(f->home, vm.id, &vf, &err), 0);
    assert_int_equal(pvm_vm_resume(f->e, "v1", &err), -1); /* stopped */
    assert_int_equal(err.code, PVM_E_STATE);
    assert_non_null(strstr(err.msg, "VM 'v1' is stopped, not paused"));
    assert_int_equal(pvm_vm_start(f->e, "v1", 0, NULL, &err), 0);
    assert_int_equal(pvm_vm_resume(f->e, "v1", &err), -1); /* running */
    assert_int_equal(err.code, PVM_E_STATE);
    assert_non_null(strstr(err.msg, "is running, not paused"));

    assert_int_equal(pvm_fake_set_state(f->home, vm.id, "io-error", "nospace", &err), 0);
    assert_int_equal(pvm_vm_get(f->e, "v1", &got, &err), 0);
    assert_int_equal(got.state, PVM_VM_PAUSED);
    char *want = pvm_xasprintf("paused: I/O error on disk (no space left on device); free "
                               "space under %s then run: privarion-vm vm resume v1", vf.dir);
    assert_string_equal(got.state_reason, want);
    free(want);
    /* without the device's io-status the cause is a guess, and says so */
    assert_int_equal(pvm_fake_set_state(f->home, vm.id, "io-error", "", &err), 0);
    assert_int_equal(pvm_vm_get(f->e, "v1", &got, &err), 0);
    assert_non_null(strstr(got.state_reason, "(no space left on device?)"));
    /* a plain QMP stop is paused too, with its own words */
    assert_int_equal(pvm_fake_set_state(f->home, vm.id, "paused", NULL, &err), 0);
    assert_int_equal(pvm_vm_get(f->e, "v1", &got, &err), 0);
    assert_int_equal(got.state, PVM_VM_PAUSED);
    assert_non_null(strstr(got.state_reason, "vm resume v1"));

    assert_int_equal(pvm_fake_set_state(f->home, vm.id, "io-error", "nospace", &err), 0);
    assert_int_equal(pvm_fake_behave(f->home, "resume", "fail still full", &err), 0);
    assert_int_equal(pvm_vm_resume(f->e, "v1", &err), -1);
    assert_string_equal(err.msg, "fake resume: still full");
    assert_int_equal(pvm_vm_get(f->e, "v1", &got, &err), 0);
    assert_int_equal(got.state, PVM_VM_PAUSED); /* a refused resume leaves it paused */
    assert_int_equal(pvm_fake_behave(f->home, "resume", NULL, &err), 0);
    assert_int_equal(pvm_vm_resume(f->e, "v1", &err), 0);
    assert_int_equal(pvm_vm_get(f->e, "v1", &got, &err), 0);
    assert_int_equal(got.state, PVM_VM_RUNNING);
    assert_string_equal(got.state_reason, "");
    assert_int_equal(pvm_vm_resume(f->e, "v1", &err), -1); /* once is enough */
    assert_int_equal(err.code, PVM_E_STATE);
    assert_int_equal(pvm_vm_stop(f->e, "v1", true, 5, NULL, &err), 0);
}

/* pvm_vm_list_brief (the TUI's VMs pane): pvm_vm_list's rows in its order (by name, any
 * case) with their id, name, profile, size and probed state; pvm_vm_get_brief reads the
 * whole VM by id and keeps the brief's state; a VM deleted since is not found. */
static void test_list_brief_and_get_brief(void **state)
{
    fixture *f = *state;
    pvm_error err = {0};
    fixture_make_profile(f->e, "p1");
    const char *names[] = {"bravo", "Alpha", "charlie"};
    for (size_t i = 0; i < 3; i++) {
        pvm_vm_opts o = {.disk = 1024 * 1024, .memory = (64 + 32 * i) * 1024 * 1024,
                         .cpus = (int)i + 1};
        assert_int_equal(pvm_vm_create(f->e, names[i], "p1", &o, NULL, &err), 0);
    }
    assert_int_equal(pvm_vm_start(f->e, "bravo", 0, NULL, &err), 0);
    pvm_vm got;
    assert_int_equal(pvm_vm_get(f->e, "charlie", &got, &err), 0);
    assert_int_equal(pvm_vm_start(f->e, "charlie", 0, NULL, &err), 0);
    assert_int_equal(pvm_fake_set_state(f->home, got.id, "crashed", "terminating on signal 9",
                                        &err), 0);

    pvm_vm *all = NULL;
    pvm_vm_brief *brief = NULL;
    size_t n = 0, nb = 0;
    assert_int_equal(pvm_vm_list(f->e, &all, &n, &err), 0);
    assert_int_equal(pvm_vm_list_brief(f->e, &brief, &nb, &err), 0);
    assert_int_equal(n, 3);
    assert_int_equal(nb, n);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(brief[i].id, all[i].id);
        assert_string_equal(brief[i].name, all[i].name);
        assert_string_equal(brief[i].profile_id, all[i].profile_id);
        assert_int_equal(brief[i].cpus, all[i].cpus);
        assert_int_equal(brief[i].memory_bytes, all[i].memory_bytes);
        assert_int_equal(brief[i].state, all[i].state);
        assert_int_equal(brief[i].pid, all[i].pid);
        assert_string_equal(brief[i].state_reason, all[i].state_reason);
        pvm_vm whole;
        assert_int_equal(pvm_vm_get_brief(f->e, &brief[i], &whole, &err), 0);
        assert_memory_equal(&whole, &all[i], sizeof whole);
    }
    assert_string_equal(brief[0].name, "Alpha");
    assert_int_equal(brief[1].state, PVM_VM_RUNNING);
    assert_int_equal(brief[2].state, PVM_VM_CRASHED);
    assert_string_equal(brief[2].state_reason, "terminating on signal 9");
    assert_false(pvm_vm_brief_alive(&brief[0])); /* pid 0: the fake runs no process */

    /* the whole VM keeps the brief's state, not a new probe's */
    assert_int_equal(pvm_fake_set_state(f->home, brief[1].id, "paused", NULL, &err), 0);
    pvm_vm whole;
    assert_int_equal(pvm_vm_get_brief(f->e, &brief[1], &whole, &err), 0);
    assert_int_equal(whole.state, PVM_VM_RUNNING);
    assert_int_equal(whole.cpus, 1);

    /* deleted since the list was read */
    assert_int_equal(pvm_vm_delete(f->e, "Alpha", &err), 0);
    memset(&whole, 0x5a, sizeof whole);
    assert_int_equal(pvm_vm_get_brief(f->e, &brief[0], &whole, &err), -1);
    assert_int_equal(err.code, PVM_E_NOTFOUND);
    assert_non_null(strstr(err.msg, "'Alpha'"));
    assert_int_equal((unsigned char)whole.name[0], 0x5a); /* untouched */
    free(all);
    free(brief);
}

static void test_create_failure_leaves_nothing(void **state)
{
    fixture *f = *state;
    pvm_error err = {0};
    pvm_vm_opts o = {.disk = 1024 * 1024};
    fixture_make_profile(f->e, "p1");
    assert_int_equal(pvm_fake_behave(f->home, "disk_create", "fail no space left", &err), 0);
    assert_int_equal(pvm_vm_create(f->e, "v1", "p1", &o, NULL, &err), -1);
    assert_int_equal(pvm_fake_behave(f->home, "disk_create", NULL, &err), 0);
    assert_int_equal(err.code, PVM_E_QEMU);
    assert_non_null(strstr(err.msg, "no space left"));
    pvm_vm *list = NULL;
    size_t n = 99;
    assert_int_equal(pvm_vm_list(f->e, &list, &n, &err), 0);
    assert_int_equal(n, 0);
    free(list);
    char *vms = pvm_xasprintf("%s/vms", f->home);
    char *cmd = pvm_xasprintf("test -z \"$(ls -A '%s')\"", vms);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    free(vms);

    /* names never become paths */
    assert_int_equal(pvm_vm_create(f->e, "../x", "p1", &o, NULL, &err), -1);
    assert_int_equal(err.code, PVM_E_INVALID);
    assert_int_equal(pvm_vm_create(f->e, "v1", "nope", &o, NULL, &err), -1);
    assert_int_equal(err.code, PVM_E_NOTFOUND);

    /* the disk the backend made is the VM's, private */
    pvm_vm vm;
    pvm_vm_files vf;
    struct stat st;
    assert_int_equal(pvm_vm_create(f->e, "v1", "p1", &o, &vm, &err), 0);
    assert_int_equal(pvm_vm_files_init(f->home, vm.id, &vf, &err), 0);
    assert_int_equal(stat(vf.disk, &st), 0);
    assert_int_equal(st.st_size, 1024 * 1024);
    assert_int_equal(st.st_mode & 0777, 0600);
}

static void assert_no_vm_left(fixture *f)
{
    pvm_error err = {0};
    pvm_vm *list = NULL;
    size_t n = 99;
    assert_int_equal(pvm_vm_list(f->e, &list, &n, &err), 0);
    assert_int_equal(n, 0);
    free(list);
    char *cmd = pvm_xasprintf("test ! -e '%s/vms' || test -z \"$(ls -A '%s/vms')\"", f->home,
                              f->home);
    assert_int_equal(system(cmd), 0);
    free(cmd);
}

/* What start would refuse is refused at create, before anything is made. */
static void test_create_refuses_what_start_would(void **state)
{
    fixture *f = *state;
    pvm_error err = {0};
    pvm_vm_opts o = {.disk = 1024 * 1024, .memory = 64 * 1024 * 1024};
    fixture_make_profile_mac(f->e, "nomac", NULL);
    assert_int_equal(pvm_vm_create(f->e, "v1", "nomac", &o, NULL, &err), -1);
    assert_int_equal(err.code, PVM_E_INVALID);
    assert_non_null(strstr(err.msg, "macAddress"));
    assert_non_null(strstr(err.msg, "profile edit nomac --mac"));
    assert_no_vm_left(f);

    fixture_make_profile(f->e, "noserial");
    o.disk_bus = PVM_DISK_NVME;
    assert_int_equal(pvm_vm_create(f->e, "v1", "noserial", &o, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "diskSerial"));
    o.disk_bus = PVM_DISK_SATA;
    assert_int_equal(pvm_vm_create(f->e, "v1", "noserial", &o, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "QM00001"));
    assert_no_vm_left(f);

    /* Without a NIC there is no MAC to leak. */
    o.disk_bus = PVM_DISK_VIRTIO;
    o.net = PVM_NET_NONE;
    pvm_vm vm;
    assert_int_equal(pvm_vm_create(f->e, "v1", "nomac", &o, &vm, &err), 0);
    assert_int_equal(vm.net, PVM_NET_NONE);
}

/* A start refused for the profile changes nothing: the crashed state and the last
 * boot's logs stay for the user to read. */
static void test_refused_start_keeps_state(void **state)
{
    fixture *f = *state;
    pvm_vm vm, got;
    pvm_vm_files vf;
    pvm_error err = {0};
    fixture_create_vm(f, "v1", &vm);
    assert_int_equal(pvm_vm_files_init(f->home, vm.id, &vf, &err), 0);
    assert_int_equal(pvm_vm_start(f->e, "v1", 0, NULL, &err), 0);
    fixture_write_text(vf.serial_log, "last boot's console\n");
    assert_int_equal(
        pvm_fake_set_state(f->home, vm.id, "crashed", "terminating on signal 9", &err), 0);
    assert_int_equal(pvm_vm_get(f->e, "v1", &got, &err), 0);
    assert_int_equal(got.state, PVM_VM_CRASHED);

    pvm_profile p;
    assert_int_equal(pvm_profile_get(f->e, "p1", &p, &err), 0);
    p.mac[0] = '\0';
    assert_int_equal(pvm_profile_update(f->e, &p, NULL, &err), 0);
    assert_int_equal(pvm_vm_start(f->e, "v1", 0, NULL, &err), -1);
    assert_int_equal(err.code, PVM_E_INVALID);
    assert_non_null(strstr(err.msg, "macAddress"));

    assert_int_equal(pvm_vm_get(f->e, "v1", &got, &err), 0);
    assert_int_equal(got.state, PVM_VM_CRASHED);
    assert_string_equal(got.state_reason, "terminating on signal 9");
    char *cmd = pvm_xasprintf("grep -q \"last boot's console\" '%s'", vf.serial_log);
    assert_int_equal(system(cmd), 0);
    free(cmd);

    /* a backend that fails to start leaves no intent behind: stopped, not crashed */
    strcpy(p.mac, "a4:bb:6d:00:00:01");
    assert_int_equal(pvm_profile_update(f->e, &p, NULL, &err), 0);
    assert_int_equal(pvm_vm_stop(f->e, "v1", false, 5, NULL, &err), 0);
    assert_int_equal(pvm_fake_behave(f->home, "start", "fail no QEMU", &err), 0);
    assert_int_equal(pvm_vm_start(f->e, "v1", 0, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "no QEMU"));
    assert_int_equal(pvm_vm_get(f->e, "v1", &got, &err), 0);
    assert_int_equal(got.state, PVM_VM_STOPPED);
    assert_int_equal(pvm_vm_intent(&vf), -1);
}

/* A new VM's default vCPU count follows the profile's cores x threads, read as the
 * validator reads them ("010" is ten), and at most PVM_VCPUS_DEFAULT_MAX. */
static void test_default_vcpus_follow_profile_capped(void **state)
{
    fixture *f = *state;
    pvm_error err = {0};
    use_fake(f, "max_cpus = 1\nmax_memory = 1G\n");
    pvm_profile p;
    pvm_profile_init(&p);
    assert_int_equal(pvm_profile_set_name(&p, "big", &err), 0);
    strcpy(p.hw.cpu_model, "AMD EPYC 7763 64-Core Processor");
    assert_int_equal(pvm_profile_set(&p, pvm_profile_field_by_key("cpuCores"), "128", &err), 0);
    assert_int_equal(pvm_profile_set(&p, pvm_profile_field_by_key("cpuThreads"), "2", &err), 0);
    strcpy(p.mac, "a4:bb:6d:00:00:09");
    assert_int_equal(pvm_profile_create(f->e, &p, NULL, &err), 0);
    pvm_vm_opts o = {.disk = 1024 * 1024, .memory = 256ull << 20};
    pvm_vm vm;
    if (pvm_vm_create(f->e, "wide", "big", &o, &vm, &err) < 0)
        fail_msg("%s", err.msg);
    assert_int_equal(vm.cpus, PVM_VCPUS_DEFAULT_MAX);
    o.cpus = 100; /* asked for: not capped */
    assert_int_equal(pvm_vm_create(f->e, "wider", "big", &o, &vm, &err), 0);
    assert_int_equal(vm.cpus, 100);
    strcpy(p.hw.cpu_cores, "010"); /* a row not written by pvm_profile_set: decimal */
    strcpy(p.hw.cpu_threads, "1");
    assert_int_equal(pvm_profile_vcpus(&p), 10);
    strcpy(p.hw.cpu_cores, "0x4");
    assert_int_equal(pvm_profile_vcpus(&p), 4);
    strcpy(p.hw.cpu_cores, "0x");
    assert_int_equal(pvm_profile_vcpus(&p), 0);
}

/* A start over the memory cap is refused with the right figures: the VM alone over the
 * one-VM cap, and the running VMs together over the same cap. vCPUs are never refused
 * (max_cpus caps host cores by affinity): a 4-vCPU VM starts under max_cpus = 1. */
static void test_start_caps_figures(void **state)
{
    fixture *f = *state;
    pvm_error err = {0};
    pvm_vm run, big;
    use_fake(f, "max_cpus = 1\nmax_memory = 1G\n");
    fixture_make_profile(f->e, "p1");
    pvm_vm_opts o = {.disk = 1024 * 1024, .memory = 256ull << 20, .cpus = 4};
    assert_int_equal(pvm_vm_create(f->e, "run", "p1", &o, &run, &err), 0);
    assert_int_equal(run.cpus, 4);
    o.memory = 768ull << 20;
    o.cpus = 0;
    assert_int_equal(pvm_vm_create(f->e, "big", "p1", &o, &big, &err), 0);

    /* the caps were lowered after create: big alone is over them */
    use_fake(f, "max_cpus = 1\nmax_memory = 512M\n");
    assert_int_equal(pvm_vm_start(f->e, "big", 0, NULL, &err), -1);
    assert_int_equal(err.code, PVM_E_LIMIT);
    assert_string_equal(err.msg, "cannot start VM 'big' (768M): over the cap of 512M that one "
                                 "VM may use (max_memory in the config file)");

    /* big fits alone, but not beside the running VM */
    use_fake(f, "max_cpus = 1\nmax_memory = 768M\n");
    assert_int_equal(pvm_vm_start(f->e, "run", 0, NULL, &err), 0);
    assert_int_equal(pvm_vm_start(f->e, "big", 0, NULL, &err), -1);
    assert_int_equal(err.code, PVM_E_LIMIT);
    assert_string_equal(err.msg, "cannot start VM 'big' (768M): 1 running VM already uses 256M; "
                                 "together 1G are over the cap of 768M that all running VMs "
                                 "may use (max_memory in the config file)");
    pvm_vm got;
    assert_int_equal(pvm_vm_get(f->e, "big", &got, &err), 0);
    assert_int_equal(got.state, PVM_VM_STOPPED);

    /* once the other stops, big starts */
    assert_int_equal(pvm_vm_stop(f->e, "run", false, 5, NULL, &err), 0);
    assert_int_equal(pvm_vm_start(f->e, "big", 0, NULL, &err), 0);
    assert_int_equal(pvm_vm_get(f->e, "big", &got, &err), 0);
    assert_int_equal(got.state, PVM_VM_RUNNING);
}

typedef struct reports {
    int n;
    char last[64];
} reports;

static void on_report(void *ctx, const char *step, double fraction)
{
    reports *r = ctx;
    (void)fraction;
    r->n++;
    snprintf(r->last, sizeof r->last, "%s", step);
}

/* Cancel: during a start the new VM is ended and nothing stays; during a stop the
 * VM is left as it is. A guest that ignores the power button times out. */
static void test_cancel_and_timeout(void **state)
{
    fixture *f = *state;
    pvm_vm vm, got;
    pvm_vm_files vf;
    pvm_error err = {0};
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    assert_int_equal(write(fds[1], "x", 1), 1); /* cancelled from the first check on */
    reports r = {0, ""};
    pvm_progress cancel = {.cancel_fd = fds[0], .report = on_report, .ctx = &r};
    fixture_create_vm(f, "v1", &vm);
    assert_int_equal(pvm_vm_files_init(f->home, vm.id, &vf, &err), 0);

    assert_int_equal(pvm_fake_behave(f->home, "start", "hang", &err), 0);
    assert_int_equal(pvm_vm_start(f->e, "v1", 0, &cancel, &err), -1);
    assert_int_equal(err.code, PVM_E_CANCELLED);
    assert_true(r.n > 0); /* the steps were reported */
    assert_int_equal(pvm_vm_get(f->e, "v1", &got, &err), 0);
    assert_int_equal(got.state, PVM_VM_STOPPED);
    assert_string_equal(got.state_reason, "");
    assert_int_equal(pvm_vm_intent(&vf), -1);
    assert_int_equal(pvm_fake_behave(f->home, "start", NULL, &err), 0);

    assert_int_equal(pvm_vm_start(f->e, "v1", 0, &cancel, &err), 0); /* nothing to wait for */
    assert_int_equal(pvm_fake_behave(f->home, "shutdown", "hang", &err), 0);
    assert_int_equal(pvm_vm_stop(f->e, "v1", false, 60, &cancel, &err), -1);
    assert_int_equal(err.code, PVM_E_CANCELLED);
    assert_string_equal(r.last, "waiting for the guest to power off");
    assert_int_equal(pvm_vm_get(f->e, "v1", &got, &err), 0);
    assert_int_equal(got.state, PVM_VM_RUNNING);
    assert_int_equal(pvm_vm_intent(&vf), 0);

    assert_int_equal(pvm_vm_stop(f->e, "v1", false, 1, NULL, &err), -1);
    assert_int_equal(err.code, PVM_E_STATE);
    assert_non_null(strstr(err.msg, "did not power off within 1 s; use --force"));
    assert_int_equal(pvm_vm_get(f->e, "v1", &got, &err), 0);
    assert_int_equal(got.state, PVM_VM_RUNNING);
    assert_int_equal(pvm_vm_stop(f->e, "v1", true, 1, NULL, &err), 0);
    assert_int_equal(pvm_vm_get(f->e, "v1", &got, &err), 0);
    assert_int_equal(got.state, PVM_VM_STOPPED);
    close(fds[0]);
    close(fds[1]);
}

/* The backend key: named and checked like every other key; the fake only by name. */
static void test_backend_key(void **state)
{
    fixture *f = *state;
    pvm_error err = {0};
    const pvm_hv_ops *hv = NULL;
    void *ctx = NULL;
    assert_int_equal(pvm_engine_hv_load(f->e, &hv, &ctx, &err), 0);
    assert_string_equal(hv->name, "fake");

    char *cfg = pvm_xasprintf("%s/config", f->home);
    fixture_write_text(cfg, "backend = vmware\n");
    assert_int_equal(pvm_engine_hv_load(f->e, &hv, &ctx, &err), -1);
    assert_int_equal(err.code, PVM_E_INVALID);
    assert_non_null(strstr(err.msg, "backend: must be qemu or fake"));
    assert_non_null(strstr(err.msg, "config:1: backend"));
    pvm_vm vm;
    fixture_make_profile(f->e, "p1");
    pvm_vm_opts o = {.disk = 1024 * 1024, .memory = 64 * 1024 * 1024};
    assert_int_equal(pvm_vm_create(f->e, "v1", "p1", &o, &vm, &err), -1);
    assert_no_vm_left(f);

    unlink(cfg); /* the default config names QEMU */
    pvm_config c;
    assert_int_equal(pvm_config_load(f->home, &c, &err), 0);
    assert_string_equal(c.backend, "qemu");
    assert_int_equal(pvm_engine_hv_load(f->e, &hv, &ctx, &err), 0);
    assert_string_equal(hv->name, "qemu");
    char *grep = pvm_xasprintf("grep -qx 'backend = qemu' '%s'", cfg);
    assert_int_equal(system(grep), 0);
    free(grep);
    free(cfg);
}

/* vm edit: a failed disk resize rolls the whole edit back; a running VM is refused. */
static void test_edit_all_or_nothing(void **state)
{
    fixture *f = *state;
    pvm_error err = {0};
    pvm_vm vm, got;
    pvm_vm_opts o = {.disk = 1024 * 1024, .memory = 64 * 1024 * 1024};
    fixture_make_profile(f->e, "p1");
    assert_int_equal(pvm_vm_create(f->e, "v1", "p1", &o, &vm, &err), 0);
    pvm_vm_changes c = {.memory = 128 * 1024 * 1024, .disk = 2 * 1024 * 1024};
    assert_int_equal(pvm_fake_behave(f->home, "disk_resize", "fail no space left", &err), 0);
    assert_int_equal(pvm_vm_edit(f->e, "v1", &c, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "no space left"));
    assert_int_equal(pvm_vm_get(f->e, "v1", &got, &err), 0);
    assert_int_equal(got.memory_bytes, 64 * 1024 * 1024);
    assert_int_equal(got.disk_bytes, 1024 * 1024);
    assert_int_equal(pvm_fake_behave(f->home, "disk_resize", NULL, &err), 0);
    assert_int_equal(pvm_vm_edit(f->e, "v1", &c, &got, &err), 0);
    assert_int_equal(got.disk_bytes, 2 * 1024 * 1024);
    pvm_vm_files vf;
    struct stat st;
    assert_int_equal(pvm_vm_files_init(f->home, vm.id, &vf, &err), 0);
    assert_int_equal(stat(vf.disk, &st), 0);
    assert_int_equal(st.st_size, 2 * 1024 * 1024);
    c.disk = 1024 * 1024; /* shrink */
    assert_int_equal(pvm_vm_edit(f->e, "v1", &c, NULL, &err), -1);
    assert_string_equal(err.field, "disk");
    pvm_vm_changes cpus = {.cpus = 1};
    assert_int_equal(pvm_vm_start(f->e, "v1", 0, NULL, &err), 0);
    assert_int_equal(pvm_vm_edit(f->e, "v1", &cpus, NULL, &err), -1);
    assert_int_equal(err.code, PVM_E_STATE);
    assert_int_equal(pvm_vm_stop(f->e, "v1", true, 5, NULL, &err), 0);
    assert_int_equal(pvm_vm_edit(f->e, "v1", &cpus, NULL, &err), 0);
}

/* The adapter a display gets by default follows the firmware (pvm_video_default): cirrus
 * under bios (the fake backend has only bios; uefi's ramfb and vm edit --firmware are
 * checked by tests/e2e/test_vm_display on the QEMU backend); a chosen one stays. */
static void test_default_video_per_firmware(void **state)
{
    fixture *f = *state;
    pvm_error err = {0};
    pvm_vm vm;
    pvm_vm_opts o = {.disk = 1024 * 1024, .memory = 64 * 1024 * 1024,
                     .display_set = true, .display = PVM_DISPLAY_VNC};
    assert_int_equal(pvm_video_default(PVM_FIRMWARE_BIOS), PVM_VIDEO_CIRRUS);
    assert_int_equal(pvm_video_default(PVM_FIRMWARE_UEFI), PVM_VIDEO_RAMFB);
    assert_int_equal(pvm_video_default(PVM_FIRMWARE_UEFI_SECURE), PVM_VIDEO_RAMFB);
    fixture_make_profile(f->e, "p1");
    assert_int_equal(pvm_vm_create(f->e, "b", "p1", &o, &vm, &err), 0);
    assert_int_equal(vm.video, PVM_VIDEO_CIRRUS);
    o.video_set = true;
    o.video = PVM_VIDEO_RAMFB;
    assert_int_equal(pvm_vm_create(f->e, "r", "p1", &o, &vm, &err), 0);
    assert_int_equal(vm.video, PVM_VIDEO_RAMFB);
    pvm_vm got;
    assert_int_equal(pvm_vm_get(f->e, "b", &got, &err), 0);
    assert_int_equal(got.video, PVM_VIDEO_CIRRUS); /* stored, read back */
    pvm_vm_changes vga = {.video_set = true, .video = PVM_VIDEO_VGA};
    assert_int_equal(pvm_vm_edit(f->e, "b", &vga, &vm, &err), 0);
    assert_int_equal(vm.video, PVM_VIDEO_VGA);
    assert_string_equal(pvm_video_name(PVM_VIDEO_CIRRUS), "cirrus");
    pvm_video v;
    assert_int_equal(pvm_video_parse("cirrus", &v, &err), 0);
    assert_int_equal(v, PVM_VIDEO_CIRRUS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_private_dir, setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_pid_files_and_liveness, setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_run_and_spawn, setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_remove_tree, setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_lock_busy, setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_state_probe, setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_paused_on_io_error_and_resume, setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(test_list_brief_and_get_brief, setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_create_failure_leaves_nothing, setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_create_refuses_what_start_would, setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_refused_start_keeps_state, setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_default_vcpus_follow_profile_capped, setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(test_start_caps_figures, setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_cancel_and_timeout, setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_backend_key, setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_edit_all_or_nothing, setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_default_video_per_firmware, setup, fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
