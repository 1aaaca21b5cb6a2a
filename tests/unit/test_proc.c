/* test_proc.c - unit tests of proc.c's waiting and child processes: the one wait helper
 * (done, timeout, cancel through a pipe, progress reports, a watched descriptor).
 * Run by tests/run (plain and ASan+UBSan). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../engine/vm_internal.h"

/* A wait far longer than any test may take: a helper that slept through its
 * interval instead of watching the cancel descriptor would hit the watchdog. */
#define LONG_INTERVAL_MS (3600 * 1000)
/* The watchdog: SIGALRM's default action ends the test binary, a loud failure. */
#define WATCHDOG_S 60

/* ------------------------------------------------------------ wait helper */

typedef struct counter {
    int calls;
    int true_at;   /* done() says true on this call (0: never) */
    int poke_fd;   /* >= 0: done() writes a byte here on its first call */
    bool poke_close; /* close poke_fd instead of writing */
} counter;

static bool count_done(void *ctx)
{
    counter *c = ctx;
    c->calls++;
    if (c->calls == 1 && c->poke_fd >= 0) {
        if (c->poke_close) {
            close(c->poke_fd);
        } else {
            ssize_t n = write(c->poke_fd, "x", 1);
            assert_int_equal(n, 1);
        }
    }
    return c->true_at && c->calls >= c->true_at;
}

static void test_wait_done(void **state)
{
    (void)state;
    counter c = {.true_at = 3, .poke_fd = -1};
    pvm_error err = {0};
    assert_int_equal(pvm_wait_until(count_done, &c, 10000, 1, NULL, "x", &err), 1);
    assert_int_equal(c.calls, 3);
    assert_int_equal(err.code, PVM_E_NONE);
}

static void test_wait_timeout(void **state)
{
    (void)state;
    counter c = {.poke_fd = -1};
    pvm_error err = {0};
    assert_int_equal(pvm_wait_until(count_done, &c, 30, 5, NULL, "x", &err), 0);
    assert_true(c.calls >= 2); /* once at the start, once at least at the deadline */
    assert_int_equal(err.code, PVM_E_NONE); /* the caller words the timeout */
    /* timeout 0: one check, no wait */
    counter z = {.poke_fd = -1};
    assert_int_equal(pvm_wait_until(count_done, &z, 0, LONG_INTERVAL_MS, NULL, "x", &err), 0);
    assert_int_equal(z.calls, 1);
}

/* The cancel pipe becomes readable after the first check; the interval is an hour and
 * there is no time limit, so only a poll on the pipe can end the wait. */
static void test_wait_cancel_pipe(void **state)
{
    (void)state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    counter c = {.poke_fd = p[1]};
    pvm_progress prog = {.cancel_fd = p[0]};
    pvm_error err = {0};
    alarm(WATCHDOG_S);
    int rc = pvm_wait_until(count_done, &c, -1, LONG_INTERVAL_MS, &prog, "waiting for QMP", &err);
    alarm(0);
    assert_int_equal(rc, -1);
    assert_int_equal(err.code, PVM_E_CANCELLED);
    assert_string_equal(err.msg, "waiting for QMP: cancelled");
    assert_int_equal(c.calls, 1); /* never asked again after the cancel */
    char b;
    assert_int_equal(read(p[0], &b, 1), 1); /* the helper only polled: the byte is still there */
    close(p[0]);
    close(p[1]);
}

/* The write end closed (a UI that went away) cancels too. */
static void test_wait_cancel_hangup(void **state)
{
    (void)state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    counter c = {.poke_fd = p[1], .poke_close = true};
    pvm_progress prog = {.cancel_fd = p[0]};
    pvm_error err = {0};
    alarm(WATCHDOG_S);
    int rc = pvm_wait_until(count_done, &c, -1, LONG_INTERVAL_MS, &prog, "stop", &err);
    alarm(0);
    assert_int_equal(rc, -1);
    assert_int_equal(err.code, PVM_E_CANCELLED);
    close(p[0]);
}

static void test_wait_bad_cancel_fd(void **state)
{
    (void)state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    close(p[0]);
    close(p[1]);
    counter c = {.poke_fd = -1};
    pvm_progress prog = {.cancel_fd = p[0]};
    pvm_error err = {0};
    assert_int_equal(pvm_wait_until(count_done, &c, 5000, 10, &prog, "x", &err), -1);
    assert_int_equal(err.code, PVM_E_INVALID);
    assert_non_null(strstr(err.msg, "cancel descriptor"));
}

typedef struct reports {
    int n;
    double first, last;
    bool decreasing, out_of_range;
    char step[64];
} reports;

static void record(void *ctx, const char *step, double fraction)
{
    reports *r = ctx;
    if (r->n == 0)
        r->first = fraction;
    else if (fraction < r->last)
        r->decreasing = true;
    if (fraction < 0 || fraction > 1)
        r->out_of_range = true;
    r->last = fraction;
    snprintf(r->step, sizeof r->step, "%s", step);
    r->n++;
}

static void test_wait_progress(void **state)
{
    (void)state;
    reports r = {0};
    pvm_progress prog = {.cancel_fd = -1, .report = record, .ctx = &r};
    counter c = {.poke_fd = -1};
    pvm_error err = {0};
    assert_int_equal(pvm_wait_until(count_done, &c, 3 * PVM_WAIT_REPORT_MS, 10, &prog,
                                    "waiting for the guest agent", &err), 0);
    assert_true(r.n >= 2); /* at the start and as time passed */
    assert_true(r.first >= 0 && r.first < 1);
    assert_false(r.decreasing);
    assert_false(r.out_of_range);
    assert_string_equal(r.step, "waiting for the guest agent");
    assert_true(r.n <= c.calls); /* throttled: never more often than the checks */

    /* no limit: the fraction is unknown (< 0); a NULL step reads "waiting" */
    reports u = {0};
    pvm_progress up = {.report = record, .ctx = &u};
    counter d = {.true_at = 2, .poke_fd = -1};
    assert_int_equal(pvm_wait_until(count_done, &d, -1, 1, &up, NULL, &err), 1);
    assert_true(u.n >= 1);
    assert_true(u.first < 0);
    assert_string_equal(u.step, "waiting");
}

/* A watched descriptor wakes the wait at once: the first check makes it readable,
 * the second check (on that wake-up, not an hour later) is done. */
static void test_wait_watch_fd(void **state)
{
    (void)state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    counter c = {.true_at = 2, .poke_fd = p[1]};
    pvm_error err = {0};
    alarm(WATCHDOG_S);
    int rc = pvm_wait_until_fd(p[0], count_done, &c, -1, LONG_INTERVAL_MS, NULL, "x", &err);
    alarm(0);
    assert_int_equal(rc, 1);
    assert_int_equal(c.calls, 2);
    /* readable but never done: no busy loop, the time limit ends it */
    counter n = {.poke_fd = -1};
    assert_int_equal(pvm_wait_until_fd(p[0], count_done, &n, 50, 20, NULL, "x", &err), 0);
    assert_true(n.calls < 20);
    close(p[0]);
    close(p[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wait_done),
        cmocka_unit_test(test_wait_timeout),
        cmocka_unit_test(test_wait_cancel_pipe),
        cmocka_unit_test(test_wait_cancel_hangup),
        cmocka_unit_test(test_wait_bad_cancel_fd),
        cmocka_unit_test(test_wait_progress),
        cmocka_unit_test(test_wait_watch_fd),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
