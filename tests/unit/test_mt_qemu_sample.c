/* test_mt_qemu_sample.c - engine/qemu/sample.c and the sampler against a REAL QEMU that runs
 * no guest code (-S, two vCPUs, a virtio disk): vCPU thread ids from query-cpus-fast,
 * query-blockstats, no balloon, no agent (network unknown, never 0), the monitor kept open,
 * and a killed QEMU ending both the session and the sampler's series. Also under TSan. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proc.h"
#include "../../engine/qemu/sample.h"
#include "../../engine/ring.h"
#include "../../engine/sampler.h"
#include "../../engine/vm_internal.h" /* pvm_proc_alive, pvm_proc_wait_gone */
#include "rm_rf.h"

typedef struct fixture {
    char dir[64], disk[128], qmp[128], qga[128];
    int pid;
} fixture;

/* Runs argv through the engine's own child runner (proc.h), output discarded:
 * the exit status, or -1 when it could not run or took over a minute. */
static int run_quiet(char *const argv[])
{
    char *out = NULL;
    int st = -1;
    int rc = pvm_proc_run(argv, 60000, &out, &st, NULL);
    free(out);
    return rc < 0 ? -1 : st;
}

static int setup(void **state)
{
    fixture *f = pvm_xcalloc(1, sizeof *f);
    pvm_strlcpy(f->dir, "/tmp/pvmsample.XXXXXX", sizeof f->dir);
    if (!mkdtemp(f->dir))
        return -1;
    *state = f;
    char pidfile[128], qmparg[160], drive[200];
    snprintf(f->disk, sizeof f->disk, "%s/d.qcow2", f->dir);
    snprintf(f->qmp, sizeof f->qmp, "%s/qmp.sock", f->dir);
    snprintf(f->qga, sizeof f->qga, "%s/qga.sock", f->dir); /* nobody listens: no agent */
    snprintf(pidfile, sizeof pidfile, "%s/qemu.pid", f->dir);
    snprintf(qmparg, sizeof qmparg, "unix:%s,server=on,wait=off", f->qmp);
    snprintf(drive, sizeof drive, "if=none,id=drive0,format=qcow2,file=%s", f->disk);
    char *img[] = {"qemu-img", "create", "-q", "-f", "qcow2", f->disk, "16M", NULL};
    char *argv[] = {"qemu-system-x86_64", "-machine", "q35", "-S", "-nodefaults", "-display",
                    "none", "-accel", "tcg", "-smp", "2", "-m", "64", "-drive", drive,
                    "-device", "virtio-blk-pci,drive=drive0", "-qmp", qmparg, "-daemonize",
                    "-pidfile", pidfile, NULL};
    if (run_quiet(img) != 0 || run_quiet(argv) != 0) {
        fprintf(stderr, "test_mt_qemu_sample: qemu-img or qemu-system-x86_64 failed\n");
        return -1;
    }
    FILE *fp = fopen(pidfile, "r");
    if (!fp || fscanf(fp, "%d", &f->pid) != 1)
        f->pid = 0;
    if (fp)
        fclose(fp);
    return f->pid > 0 ? 0 : -1;
}

static int teardown(void **state)
{
    fixture *f = *state;
    if (f->pid > 0 && pvm_proc_alive(f->pid)) {
        kill(f->pid, SIGKILL);
        pvm_proc_wait_gone(f->pid, 5000, NULL, NULL, NULL);
    }
    rm_rf(f->dir);
    free(f);
    return 0;
}

static void test_session(void **state)
{
    fixture *f = *state;
    pvm_hv_sample *h = NULL;
    pvm_error err = {0};
    assert_int_equal(pvm_hv_sample_open(f->qmp, f->qga, 5000, &h, &err), 0);
    pvm_hv_reading r;
    for (int i = 0; i < 3; i++) { /* the same connection serves every reading */
        assert_int_equal(pvm_hv_sample_read(h, 2000, &r), 0);
        assert_int_equal(r.nvcpu_tids, 2);
        for (int k = 0; k < 2; k++) {
            char task[64];
            snprintf(task, sizeof task, "/proc/%d/task/%d", f->pid, r.vcpu_tids[k]);
            assert_int_equal(access(task, F_OK), 0); /* a real thread of that QEMU */
        }
        assert_true(r.block_known);
        assert_int_equal(r.wr_bytes, 0); /* -S: the guest never ran */
        assert_false(r.balloon_known);   /* no balloon device */
        assert_false(r.net_known);       /* no agent: unknown, not 0 */
    }
    /* the monitor is held: a second client gets no greeting (QEMU serves one at a time) */
    pvm_hv_sample *other = NULL;
    assert_int_equal(pvm_hv_sample_open(f->qmp, NULL, 300, &other, &err), -1);
    /* QEMU killed: readings fail and the session says the monitor is gone */
    kill(f->pid, SIGKILL);
    assert_true(pvm_proc_wait_gone(f->pid, 5000, NULL, NULL, NULL) == 1);
    int rc = 0;
    for (int i = 0; i < 100 && rc == 0; i++) { /* reconnects are tried 1 s apart */
        rc = pvm_hv_sample_read(h, 200, &r);
        assert_false(r.block_known);
        usleep(100000);
    }
    assert_int_equal(rc, -1);
    pvm_hv_sample_close(h);
}

static void test_sampler_on_qemu(void **state)
{
    fixture *f = *state;
    pvm_sampler *s = NULL;
    pvm_error err = {0};
    assert_int_equal(pvm_sampler_new(100, 0, &s, &err), 0);
    pvm_sample_target t = {.id = "0000", .name = "q", .pid = f->pid, .vcpus = 2,
                           .qmp_sock = f->qmp, .qga_sock = f->qga, .disk = f->disk};
    assert_int_equal(pvm_sampler_watch_target(s, &t, &err), 0);
    pvm_series_info info;
    for (int i = 0; i < 200; i++) { /* bounded: a hang, not a timing check */
        struct pollfd p = {pvm_sampler_notify_fd(s), POLLIN, 0};
        poll(&p, 1, 100);
        pvm_sampler_drain(s);
        assert_int_equal(pvm_sampler_get(s, "q", &info, &err), 0);
        if (info.samples >= 3 && (info.last.known & PVM_U_VCPUS))
            break;
    }
    unsigned k = info.last.known;
    assert_true(k & PVM_U_CPU);
    assert_true(k & PVM_U_VCPUS);
    assert_int_equal(info.last.nvcpus, 2);
    assert_true(info.last.cpu_usage >= 0 && info.last.cpu_usage <= 1);
    assert_true(k & PVM_U_MEMORY);
    assert_true(k & PVM_U_DISK);
    assert_true(k & PVM_U_DISK_IO);
    assert_true(k & PVM_U_DISK_RATE);
    assert_true(info.last.disk_write_rate == 0.0); /* known and really 0: -S */
    assert_false(k & (PVM_U_NET | PVM_U_NET_RATE | PVM_U_GUEST_MEMORY));
    double v[3];
    pvm_sampler_history(s, "q", PVM_FIG_DISK_WRITE, v, 3);
    assert_true(pvm_known(v[2]) && v[2] == 0.0);
    pvm_sampler_history(s, "q", PVM_FIG_NET_OUT, v, 3);
    assert_false(pvm_known(v[2]));
    kill(f->pid, SIGKILL);
    for (int i = 0; i < 200 && !info.ended; i++) {
        struct pollfd p = {pvm_sampler_notify_fd(s), POLLIN, 0};
        poll(&p, 1, 100);
        pvm_sampler_drain(s);
        assert_int_equal(pvm_sampler_get(s, "q", &info, &err), 0);
    }
    assert_true(info.ended);
    pvm_sampler_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_session, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sampler_on_qemu, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
