/* test_mt_worker.c - unit tests of engine/worker.c, the engine thread: jobs run in
 * order on their own thread, progress and results arrive through the self-pipe,
 * cancelling a running or queued job, freeing a busy worker, and real engine jobs
 * on a temporary home. Built plain, under ASan+UBSan and under ThreadSanitizer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../engine/worker.h"
#include "rm_rf.h"

typedef struct fixture {
    char dir[64];
    pvm_worker *w;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    strcpy(f->dir, "/tmp/pvm-test-worker-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    pvm_error err = {0};
    if (pvm_worker_new(f->dir, &f->w, &err) < 0) {
        fprintf(stderr, "pvm_worker_new: %s\n", err.msg);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    pvm_worker_free(f->w);
    rm_rf(f->dir);
    free(f);
    return 0;
}

/* Waits (at most 10 s) for the next event, as the TUI does: poll the fd, then drain. */
static bool next_event(pvm_worker *w, pvm_worker_event *ev)
{
    for (int i = 0; i < 1000; i++) {
        if (pvm_worker_next(w, ev))
            return true;
        struct pollfd p = {.fd = pvm_worker_fd(w), .events = POLLIN};
        poll(&p, 1, 10);
    }
    return false;
}

/* Waits for job's done event, skipping other events; counts the progress reports seen. */
static bool wait_done(pvm_worker *w, unsigned job, pvm_worker_event *ev, int *progress)
{
    while (next_event(w, ev)) {
        if (ev->job == job && ev->done)
            return true;
        if (progress && !ev->done)
            (*progress)++;
    }
    return false;
}

static atomic_int order_seen[8];
static atomic_int order_n;
static atomic_int freed;

static int job_record(pvm_engine *e, void *arg, const pvm_progress *p, pvm_error *err)
{
    (void)e;
    int v = (int)(intptr_t)arg;
    order_seen[atomic_fetch_add(&order_n, 1)] = v;
    p->report(p->ctx, "working", 0.5);
    if (v == 3)
        return pvm_error_set_field(err, PVM_E_INVALID, "memory", "memory: job %d failed", v);
    return 0;
}

static void count_free(void *arg)
{
    (void)arg;
    atomic_fetch_add(&freed, 1);
}

static void test_jobs_run_in_order_with_results(void **state)
{
    fixture *f = *state;
    pvm_error err = {0};
    unsigned ids[4];
    atomic_store(&order_n, 0);
    atomic_store(&freed, 0);
    for (int i = 0; i < 4; i++)
        assert_int_equal(pvm_worker_submit_fn(f->w, "rec", job_record, (void *)(intptr_t)i,
                                              count_free, &ids[i], &err), 0);
    for (int i = 1; i < 4; i++)
        assert_true(ids[i] > ids[i - 1]);
    for (int i = 0; i < 4; i++) {
        pvm_worker_event ev;
        assert_true(wait_done(f->w, ids[i], &ev, NULL));
        assert_int_equal(ev.kind, PVM_JOB_CUSTOM);
        assert_string_equal(ev.target, "rec");
        if (i == 3) {
            assert_int_equal(ev.rc, -1);
            assert_int_equal(ev.err.code, PVM_E_INVALID);
            assert_string_equal(ev.err.field, "memory");
            assert_string_equal(ev.err.msg, "memory: job 3 failed");
        } else {
            assert_int_equal(ev.rc, 0);
        }
    }
    assert_int_equal(atomic_load(&order_n), 4);
    for (int i = 0; i < 4; i++)
        assert_int_equal(order_seen[i], i);
    assert_int_equal(atomic_load(&freed), 4);
    assert_int_equal(pvm_worker_pending(f->w), 0);
    assert_int_equal(pvm_worker_running(f->w), 0);
}

/* Reports progress until cancel_fd turns readable (at most 20 s). */
static atomic_int cancelled_seen;
static atomic_int block_started;

static atomic_int block_reports; /* how many reports job_block has made */

static int job_block(pvm_engine *e, void *arg, const pvm_progress *p, pvm_error *err)
{
    (void)e;
    (void)arg;
    atomic_store(&block_started, 1);
    for (int i = 0; i < 2000; i++) {
        p->report(p->ctx, "waiting", (double)i / 2000);
        atomic_fetch_add(&block_reports, 1);
        struct pollfd pf = {.fd = p->cancel_fd, .events = POLLIN};
        if (poll(&pf, 1, 10) > 0) {
            atomic_fetch_add(&cancelled_seen, 1);
            return pvm_error_set(err, PVM_E_CANCELLED, "cancelled");
        }
    }
    return 0;
}

static void wait_started(void)
{
    for (int i = 0; i < 1000 && !atomic_load(&block_started); i++)
        usleep(10000);
    assert_true(atomic_load(&block_started));
}

/* A custom job's pvm_worker_note reaches its done event (a warning beside "done"); a job
 * that sets none leaves the note empty; a progress that is not the worker's is ignored. */
static int job_note(pvm_engine *e, void *arg, const pvm_progress *p, pvm_error *err)
{
    (void)e;
    (void)err;
    if (arg) {
        pvm_progress other = {.cancel_fd = -1};
        pvm_worker_note(&other, "not mine");
        pvm_worker_note(p, arg);
    }
    return 0;
}

static void test_custom_job_note(void **state)
{
    fixture *f = *state;
    pvm_error err = {0};
    unsigned with, without;
    assert_int_equal(pvm_worker_submit_fn(f->w, "n1", job_note, "started on stock QEMU", NULL,
                                          &with, &err), 0);
    assert_int_equal(pvm_worker_submit_fn(f->w, "n2", job_note, NULL, NULL, &without, &err), 0);
    pvm_worker_event ev;
    assert_true(wait_done(f->w, with, &ev, NULL));
    assert_int_equal(ev.rc, 0);
    assert_string_equal(ev.note, "started on stock QEMU");
    assert_true(wait_done(f->w, without, &ev, NULL));
    assert_int_equal(ev.rc, 0);
    assert_string_equal(ev.note, "");
}

static void test_cancel_running_and_queued(void **state)
{
    fixture *f = *state;
    pvm_error err = {0};
    unsigned run, queued, after;
    atomic_store(&cancelled_seen, 0);
    atomic_store(&block_started, 0);
    atomic_store(&freed, 0);
    atomic_store(&order_n, 0);
    assert_int_equal(pvm_worker_submit_fn(f->w, "block", job_block, NULL, NULL, &run, &err), 0);
    assert_int_equal(pvm_worker_submit_fn(f->w, "q", job_record, (void *)(intptr_t)7, count_free,
                                          &queued, &err), 0);
    assert_int_equal(pvm_worker_submit_fn(f->w, "after", job_record, (void *)(intptr_t)1, NULL,
                                          &after, &err), 0);
    wait_started();
    assert_int_equal(pvm_worker_running(f->w), run);
    assert_int_equal(pvm_worker_pending(f->w), 3);
    /* the queued one is dropped at once, with a done event saying so */
    assert_int_equal(pvm_worker_cancel(f->w, queued), 0);
    assert_int_equal(atomic_load(&freed), 1);
    assert_int_equal(pvm_worker_cancel(f->w, 9999), -1);
    pvm_worker_event ev;
    int progress = 0;
    assert_true(wait_done(f->w, queued, &ev, &progress));
    assert_int_equal(ev.err.code, PVM_E_CANCELLED);
    assert_int_equal(pvm_worker_cancel(f->w, run), 0);
    assert_true(wait_done(f->w, run, &ev, &progress));
    assert_int_equal(ev.rc, -1);
    assert_int_equal(ev.err.code, PVM_E_CANCELLED);
    assert_int_equal(atomic_load(&cancelled_seen), 1);
    assert_true(progress >= 1);
    /* the cancel does not leak into the next job */
    assert_true(wait_done(f->w, after, &ev, NULL));
    assert_int_equal(ev.rc, 0);
    assert_int_equal(atomic_load(&order_n), 1);
    assert_int_equal(order_seen[0], 1);
}

static void test_progress_is_merged(void **state)
{
    fixture *f = *state;
    pvm_error err = {0};
    unsigned run;
    atomic_store(&block_started, 0);
    assert_int_equal(pvm_worker_submit_fn(f->w, "block", job_block, NULL, NULL, &run, &err), 0);
    atomic_store(&block_reports, 0);
    wait_started();
    /* 30 reports pile up without the owner reading (a bounded poll on the job's own count) */
    for (int i = 0; i < 3000 && atomic_load(&block_reports) < 30; i++)
        usleep(10000);
    assert_true(atomic_load(&block_reports) >= 30);
    pvm_worker_event ev;
    assert_true(next_event(f->w, &ev));
    assert_false(ev.done);
    assert_string_equal(ev.step, "waiting");
    assert_true(ev.fraction > 0 && ev.fraction < 1);
    /* what waited was one merged report, not thirty */
    int waiting = 0;
    while (pvm_worker_next(f->w, &ev))
        waiting++;
    assert_true(waiting <= 2);
    pvm_worker_cancel(f->w, run);
    assert_true(wait_done(f->w, run, &ev, NULL));
}

static void test_free_while_busy_cancels_and_joins(void **state)
{
    (void)state;
    char dir[] = "/tmp/pvm-test-worker2-XXXXXX";
    assert_non_null(mkdtemp(dir));
    pvm_worker *w;
    pvm_error err = {0};
    assert_int_equal(pvm_worker_new(dir, &w, &err), 0);
    atomic_store(&block_started, 0);
    atomic_store(&cancelled_seen, 0);
    atomic_store(&freed, 0);
    assert_int_equal(pvm_worker_submit_fn(w, "block", job_block, NULL, NULL, NULL, &err), 0);
    assert_int_equal(pvm_worker_submit_fn(w, "q", job_record, NULL, count_free, NULL, &err), 0);
    wait_started();
    pvm_worker_free(w); /* returns only after the thread ended */
    assert_int_equal(atomic_load(&cancelled_seen), 1);
    assert_int_equal(atomic_load(&freed), 1); /* the queued job's arg was freed, not run */
    rm_rf(dir);
}

/* A job that ignores its cancel descriptor: stop gives up after the bound. */
static atomic_int stubborn_release;

static int job_stubborn(pvm_engine *e, void *arg, const pvm_progress *p, pvm_error *err)
{
    (void)e;
    (void)arg;
    (void)p;
    (void)err;
    atomic_store(&block_started, 1);
    for (int i = 0; i < 3000 && !atomic_load(&stubborn_release); i++)
        usleep(1000);
    return 0;
}

static void test_stop_is_bounded(void **state)
{
    (void)state;
    char dir[] = "/tmp/pvm-test-worker3-XXXXXX";
    assert_non_null(mkdtemp(dir));
    pvm_worker *w;
    pvm_error err = {0};
    /* an idle worker stops at once */
    assert_int_equal(pvm_worker_new(dir, &w, &err), 0);
    assert_true(pvm_worker_stop(w, 1000));
    /* a cancellable job is cancelled and the worker freed */
    assert_int_equal(pvm_worker_new(dir, &w, &err), 0);
    atomic_store(&block_started, 0);
    assert_int_equal(pvm_worker_submit_fn(w, "block", job_block, NULL, NULL, NULL, &err), 0);
    wait_started();
    assert_true(pvm_worker_stop(w, 5000));
    /* a stubborn job: stop returns false after its bound; the job then ends on its own */
    assert_int_equal(pvm_worker_new(dir, &w, &err), 0);
    atomic_store(&block_started, 0);
    atomic_store(&stubborn_release, 0);
    assert_int_equal(pvm_worker_submit_fn(w, "stubborn", job_stubborn, NULL, NULL, NULL, &err), 0);
    wait_started();
    assert_false(pvm_worker_stop(w, 50));
    atomic_store(&stubborn_release, 1);
    /* stop again (quit is already set) waits for the finish and frees it */
    assert_true(pvm_worker_stop(w, 10000));
    rm_rf(dir);
}

static void test_engine_jobs_report_engine_errors(void **state)
{
    fixture *f = *state;
    pvm_error err = {0};
    unsigned a, b;
    assert_int_equal(pvm_worker_submit(f->w, PVM_JOB_DELETE, "nosuchvm", &a, &err), 0);
    assert_int_equal(pvm_worker_submit(f->w, PVM_JOB_START, "nosuchvm", &b, &err), 0);
    pvm_worker_event ev;
    assert_true(wait_done(f->w, a, &ev, NULL));
    assert_int_equal(ev.kind, PVM_JOB_DELETE);
    assert_string_equal(ev.target, "nosuchvm");
    assert_int_equal(ev.rc, -1);
    assert_int_equal(ev.err.code, PVM_E_NOTFOUND);
    assert_non_null(strstr(ev.err.msg, "nosuchvm"));
    assert_true(wait_done(f->w, b, &ev, NULL));
    assert_int_equal(ev.err.code, PVM_E_NOTFOUND);
    /* the TUI's s on a paused VM: a resume job runs pvm_vm_resume */
    assert_int_equal(pvm_worker_submit(f->w, PVM_JOB_RESUME, "nosuchvm", &a, &err), 0);
    assert_true(wait_done(f->w, a, &ev, NULL));
    assert_int_equal(ev.kind, PVM_JOB_RESUME);
    assert_int_equal(ev.err.code, PVM_E_NOTFOUND);
    assert_string_equal(pvm_job_kind_name(PVM_JOB_RESUME), "resume");
    /* bad submissions are refused on the caller's thread */
    assert_int_equal(pvm_worker_submit(f->w, PVM_JOB_STOP, "", NULL, &err), -1);
    assert_int_equal(err.code, PVM_E_INVALID);
    assert_int_equal(pvm_worker_submit(f->w, PVM_JOB_CUSTOM, "x", NULL, &err), -1);
    assert_int_equal(pvm_worker_submit_fn(f->w, "x", NULL, NULL, NULL, NULL, &err), -1);
    assert_string_equal(pvm_job_kind_name(PVM_JOB_FORCE_STOP), "force stop");
}

/* The owner thread reads the store with its own handle while the worker writes:
 * data_version on the owner's handle moves when the worker's handle commits. */
static int job_make_profile(pvm_engine *e, void *arg, const pvm_progress *p, pvm_error *err)
{
    (void)arg;
    (void)p;
    pvm_profile prof;
    pvm_profile_init(&prof);
    if (pvm_profile_set_name(&prof, "fromworker", err) < 0)
        return -1;
    return pvm_profile_create(e, &prof, NULL, err);
}

static void test_data_version_sees_worker_commits(void **state)
{
    fixture *f = *state;
    pvm_engine *e;
    pvm_error err = {0};
    assert_int_equal(pvm_engine_open(&e, f->dir, &err), 0);
    int64_t v0, v1;
    assert_int_equal(pvm_engine_data_version(e, &v0, &err), 0);
    unsigned id;
    assert_int_equal(pvm_worker_submit_fn(f->w, "mk", job_make_profile, NULL, NULL, &id, &err), 0);
    pvm_worker_event ev;
    assert_true(wait_done(f->w, id, &ev, NULL));
    assert_int_equal(ev.rc, 0);
    assert_int_equal(pvm_engine_data_version(e, &v1, &err), 0);
    assert_true(v1 != v0);
    pvm_profile got;
    assert_int_equal(pvm_profile_get(e, "fromworker", &got, &err), 0);
    pvm_engine_close(e);
}

/* A second engine handle in the same process (the worker's) must not drop the
 * first handle's locks on state.db: with them gone another process may checkpoint
 * and delete the WAL that the first handle still writes to (seen as the CLI not
 * finding a VM the TUI had just made). A child process asks for a write lock. */
static void test_second_handle_keeps_first_handles_locks(void **state)
{
    fixture *f = *state;
    pvm_engine *e, *e2;
    pvm_error err = {0};
    assert_int_equal(pvm_engine_open(&e, f->dir, &err), 0);
    pvm_profile p;
    pvm_profile_init(&p);
    assert_int_equal(pvm_profile_set_name(&p, "one", &err), 0);
    assert_int_equal(pvm_profile_create(e, &p, NULL, &err), 0);
    assert_int_equal(pvm_engine_open(&e2, f->dir, &err), 0); /* reads the header again */
    char *db = pvm_xasprintf("%s/state.db", f->dir);
    pid_t child = fork();
    if (child == 0) {
        int fd = open(db, O_RDWR);
        struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
        _exit(fd >= 0 && fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK ? 0 : 1);
    }
    int status = -1;
    assert_true(child > 0);
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0); /* the first handle's lock is still seen */
    free(db);
    pvm_engine_close(e2);
    pvm_engine_close(e);
}

/* The engine opens on the worker's thread: a home that cannot be opened turns
 * every job into that error instead of failing pvm_worker_new. */
static void test_open_failure_reaches_every_job(void **state)
{
    fixture *f = *state;
    char *file = pvm_xasprintf("%s/not-a-folder", f->dir);
    FILE *fp = fopen(file, "w");
    assert_non_null(fp);
    fclose(fp);
    pvm_worker *w;
    pvm_error err = {0};
    assert_int_equal(pvm_worker_new(file, &w, &err), 0);
    unsigned a, b;
    assert_int_equal(pvm_worker_submit(w, PVM_JOB_START, "box", &a, &err), 0);
    assert_int_equal(pvm_worker_submit_fn(w, "x", job_record, NULL, NULL, &b, &err), 0);
    pvm_worker_event ev;
    assert_true(wait_done(w, a, &ev, NULL));
    assert_int_equal(ev.rc, -1);
    assert_int_not_equal(ev.err.code, PVM_E_NONE);
    assert_non_null(strstr(ev.err.msg, "not-a-folder"));
    assert_true(wait_done(w, b, &ev, NULL));
    assert_int_equal(ev.rc, -1);
    pvm_worker_free(w);
    free(file);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_jobs_run_in_order_with_results, setup, teardown),
        cmocka_unit_test_setup_teardown(test_custom_job_note, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_running_and_queued, setup, teardown),
        cmocka_unit_test_setup_teardown(test_progress_is_merged, setup, teardown),
        cmocka_unit_test(test_free_while_busy_cancels_and_joins),
        cmocka_unit_test(test_stop_is_bounded),
        cmocka_unit_test_setup_teardown(test_open_failure_reaches_every_job, setup, teardown),
        cmocka_unit_test_setup_teardown(test_engine_jobs_report_engine_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_data_version_sees_worker_commits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_second_handle_keeps_first_handles_locks, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
