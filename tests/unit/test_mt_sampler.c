/* test_mt_sampler.c - unit tests of engine/sampler.c's threads on real processes (no QEMU):
 * a busy and a sleeping child stand in for QEMU, a scratch file for the disk. Checks the
 * figures /proc gives, that figures without a monitor or agent stay unknown (never 0), the
 * notify pipe, interval validation, and that a killed process ends its series. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../engine/ring.h"
#include "../../engine/sampler.h"

static pid_t spawn(bool busy)
{
    pid_t pid = fork();
    if (pid == 0) {
        if (busy)
            for (volatile unsigned long i = 0;; i++)
                ;
        for (;;)
            pause();
    }
    assert_true(pid > 0);
    return pid;
}

static void reap(pid_t pid)
{
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

/* Polls the notify descriptor until the series has `want` readings or ended (bounded). */
static void wait_series(pvm_sampler *s, const char *name, uint64_t want, bool ended,
                        pvm_series_info *info)
{
    for (int i = 0; i < 200; i++) { /* 200 x up to 100 ms: a hang, not a timing check */
        struct pollfd p = {pvm_sampler_notify_fd(s), POLLIN, 0};
        poll(&p, 1, 100);
        pvm_sampler_drain(s);
        assert_int_equal(pvm_sampler_get(s, name, info, NULL), 0);
        if (ended ? info->ended : info->samples >= want)
            return;
    }
    fail_msg("series %s: %s never came", name, ended ? "the end" : "enough readings");
}

static void test_interval_rules(void **state)
{
    (void)state;
    pvm_sampler *s = NULL;
    pvm_error err = {0};
    assert_int_equal(pvm_sampler_new(99, 0, &s, &err), -1);
    assert_null(s);
    assert_string_equal(err.field, "interval");
    assert_non_null(strstr(err.msg, "100 to 5000"));
    assert_int_equal(pvm_sampler_new(100, 0, &s, &err), 0);
    assert_int_equal(pvm_sampler_set_interval(s, 5001, &err), -1);
    assert_int_equal(err.code, PVM_E_INVALID);
    assert_int_equal(pvm_sampler_interval(s), 100);
    assert_int_equal(pvm_sampler_set_interval(s, 5000, &err), 0);
    assert_int_equal(pvm_sampler_interval(s), 5000);
    pvm_sampler_free(s);
}

static void test_figures_and_unknowns(void **state)
{
    (void)state;
    char disk[] = "/tmp/test_sampler.XXXXXX";
    int fd = mkstemp(disk);
    assert_true(fd >= 0);
    static char block[1 << 16];
    memset(block, 'x', sizeof block);
    assert_int_equal(write(fd, block, sizeof block), (ssize_t)sizeof block);
    fsync(fd);
    close(fd);
    struct stat st;
    assert_int_equal(stat(disk, &st), 0);

    pid_t busy = spawn(true), idle = spawn(false);
    pvm_sampler *s = NULL;
    pvm_error err = {0};
    assert_int_equal(pvm_sampler_new(100, 50, &s, &err), 0);
    pvm_sample_target tb = {.id = "id-busy", .name = "busy", .pid = busy, .vcpus = 1, .disk = disk};
    pvm_sample_target ti = {.id = "id-idle", .name = "idle", .pid = idle, .vcpus = 1};
    assert_int_equal(pvm_sampler_watch_target(s, &tb, &err), 0);
    assert_int_equal(pvm_sampler_watch_target(s, &ti, &err), 0);
    assert_int_equal(pvm_sampler_watch_target(s, &tb, &err), 0); /* again: a no-op */

    pvm_series_info b, i;
    wait_series(s, "busy", 5, false, &b);
    wait_series(s, "idle", 5, false, &i);
    assert_int_equal(b.pid, busy);
    assert_false(b.ended);
    /* CPU: known, within 0..1; the sleeping process used none at all */
    assert_true(b.last.known & PVM_U_CPU);
    assert_true(b.last.cpu_usage >= 0 && b.last.cpu_usage <= 1);
    assert_true(i.last.known & PVM_U_CPU);
    assert_true(i.last.cpu_usage == 0.0);
    double cpu[50];
    size_t got = pvm_sampler_history(s, "busy", PVM_FIG_CPU, cpu, 50);
    assert_true(got >= 5);
    double most = 0;
    for (size_t k = 50 - got; k < 50; k++)
        most = cpu[k] > most ? cpu[k] : most;
    assert_true(most > 0); /* the busy loop was seen running */
    /* memory: the process's resident set, known */
    assert_true(b.last.known & PVM_U_MEMORY);
    assert_true(b.last.memory_usage > 0);
    /* disk: the file's allocated bytes; the idle target has no disk: unknown */
    assert_true(b.last.known & PVM_U_DISK);
    assert_int_equal(b.last.disk_usage, (uint64_t)st.st_blocks * 512u);
    assert_false(i.last.known & PVM_U_DISK);
    /* no monitor, no agent: block I/O and network unknown, and their history is NaN, not 0 */
    assert_false(b.last.known & (PVM_U_DISK_IO | PVM_U_NET | PVM_U_NET_RATE | PVM_U_DISK_RATE));
    double net[4];
    assert_true(pvm_sampler_history(s, "busy", PVM_FIG_NET_IN, net, 4) == 4);
    for (int k = 0; k < 4; k++)
        assert_false(pvm_known(net[k]));
    /* timestamps are Unix seconds and move forward */
    assert_true(b.last.timestamp > 1.7e9);

    /* a killed process ends its series; the other one carries on */
    kill(busy, SIGKILL);
    wait_series(s, "busy", 0, true, &b);
    assert_non_null(strstr(b.end_reason, "ended"));
    uint64_t n = b.samples;
    waitpid(busy, NULL, 0);
    wait_series(s, "idle", i.samples + 2, false, &i);
    assert_false(i.ended);
    assert_int_equal(pvm_sampler_get(s, "busy", &b, NULL), 0);
    assert_int_equal(b.samples, n); /* no readings after the end */

    pvm_sampler_unwatch(s, "idle");
    assert_int_equal(pvm_sampler_get(s, "idle", &i, &err), -1);
    assert_int_equal(err.code, PVM_E_NOTFOUND);
    pvm_series_info *all = NULL;
    assert_int_equal(pvm_sampler_list(s, &all), 1);
    assert_string_equal(all[0].name, "busy");
    free(all);
    pvm_sampler_free(s);
    reap(idle);
    unlink(disk);
}

/* The ISA serial agent channel is read from the process's own argv (sh -c keeps its extra
 * arguments as $0.. in /proc/PID/cmdline). */
static pid_t spawn_sleeper(const char *extra)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", "sleep 5", "-device", extra, (char *)NULL);
        _exit(127);
    }
    usleep(100 * 1000); /* the exec has happened when cmdline shows sh's arguments */
    return pid;
}

static void test_agent_on_isa_serial(void **state)
{
    (void)state;
    pid_t isa = spawn_sleeper("isa-serial,chardev=qga0,index=1");
    pid_t virtio = spawn_sleeper("virtserialport,chardev=qga0,name=org.qemu.guest_agent.0");
    for (int i = 0; i < 50 && !pvm_sampler_agent_on_isa_serial(isa); i++)
        usleep(20 * 1000);
    assert_true(pvm_sampler_agent_on_isa_serial(isa));
    assert_false(pvm_sampler_agent_on_isa_serial(virtio));
    kill(isa, SIGKILL);
    kill(virtio, SIGKILL);
    waitpid(isa, NULL, 0);
    waitpid(virtio, NULL, 0);
    assert_false(pvm_sampler_agent_on_isa_serial(isa)); /* gone */
}

static void test_bad_target(void **state)
{
    (void)state;
    pvm_sampler *s = NULL;
    pvm_error err = {0};
    assert_int_equal(pvm_sampler_new(500, 0, &s, &err), 0);
    pvm_sample_target t = {.name = "x", .pid = 0};
    assert_int_equal(pvm_sampler_watch_target(s, &t, &err), -1);
    assert_int_equal(err.code, PVM_E_INVALID);
    double v[3];
    assert_int_equal(pvm_sampler_history(s, "nobody", PVM_FIG_CPU, v, 3), 0);
    assert_false(pvm_known(v[0]));
    pvm_sampler_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_interval_rules),
        cmocka_unit_test(test_figures_and_unknowns),
        cmocka_unit_test(test_bad_target),
        cmocka_unit_test(test_agent_on_isa_serial),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
