/* test_proc.c - unit tests of proc.c's waiting and child processes: the one wait helper
 * (done, timeout, cancel through a pipe, progress reports, a watched descriptor); children
 * started from a thread that blocks signals and leaks descriptors (sleep, and a real QEMU
 * through pvm_vm_start) come out clean; output into a bounded growing buffer; waits that
 * reap only their own child; pidfd signalling that checks identity; tail clamping.
 * Run by tests/run (plain and ASan+UBSan). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../engine/vm_internal.h"
#include "rm_rf.h"

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

/* A watched descriptor wakes the wait at once: each check consumes one byte and
 * writes the next, three wake-ups in all, each far sooner than the hour-long interval. */
typedef struct relay {
    int rfd, wfd, seen;
} relay;

static bool relay_done(void *ctx)
{
    relay *r = ctx;
    char b;
    if (read(r->rfd, &b, 1) == 1)
        r->seen++;
    if (r->seen == 3)
        return true;
    assert_int_equal(write(r->wfd, "x", 1), 1);
    return false;
}

static void test_wait_watch_fd(void **state)
{
    (void)state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    relay r = {.rfd = p[0], .wfd = p[1]};
    pvm_error err = {0};
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    alarm(WATCHDOG_S);
    int rc = pvm_wait_until_fd(p[0], relay_done, &r, -1, LONG_INTERVAL_MS, NULL, "x", &err);
    alarm(0);
    assert_int_equal(rc, 1);
    assert_int_equal(r.seen, 3);
    close(p[0]);
    close(p[1]);
}

/* ---------------------------------------------------------------- children */

/* What a hostile caller's thread looks like: SIGTERM and SIGINT blocked, SIGHUP and
 * SIGPIPE ignored process-wide, and descriptors open without O_CLOEXEC. */
typedef struct dirty {
    void (*body)(struct dirty *d); /* runs on the thread: no cmocka asserts there */
    void *arg;
    int pid, rc;                   /* what the body started, and its result */
    pvm_error err;
    int leak_fd;          /* a file opened without O_CLOEXEC */
    int leak_pipe[2];     /* a pipe made without O_CLOEXEC */
    char leak_path[128];  /* the file's path, to recognise it in /proc/PID/fd */
    unsigned long long thread_blk; /* the thread's own SigBlk, read before the body runs */
} dirty;

static unsigned long long status_mask(const char *status_path, const char *key)
{
    FILE *fp = fopen(status_path, "re");
    if (!fp)
        fail_msg("cannot read %s", status_path);
    char line[256];
    unsigned long long v = ~0ULL;
    size_t klen = strlen(key);
    while (fgets(line, sizeof line, fp))
        if (!strncmp(line, key, klen) && line[klen] == ':')
            v = strtoull(line + klen + 1, NULL, 16);
    fclose(fp);
    if (v == ~0ULL)
        fail_msg("%s: no %s line", status_path, key);
    return v;
}

static unsigned long long pid_mask(int pid, const char *key)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    return status_mask(path, key);
}

#define SIGBIT(s) (1ULL << ((s) - 1))

static void *dirty_thread(void *arg)
{
    dirty *d = arg;
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    pthread_sigmask(SIG_BLOCK, &block, NULL);
    d->thread_blk = status_mask("/proc/thread-self/status", "SigBlk");
    d->body(d);
    return NULL;
}

/* Runs d->body on a thread with a blocked mask, with SIGHUP/SIGPIPE ignored and two
 * descriptors that a child would inherit if nothing closed them; then check(d) on this
 * thread while those descriptors are still open. */
static void run_dirty(dirty *d, void (*check)(dirty *d))
{
    snprintf(d->leak_path, sizeof d->leak_path, "/tmp/pvm-test-leak-%d", (int)getpid());
    d->leak_fd = open(d->leak_path, O_RDWR | O_CREAT, 0600); /* no O_CLOEXEC, on purpose */
    assert_true(d->leak_fd > 2);
    unlink(d->leak_path); /* open but gone: nothing left behind should the test fail */
    strcat(d->leak_path, " (deleted)"); /* how /proc/PID/fd names it now */
    assert_int_equal(pipe(d->leak_pipe), 0);                 /* no O_CLOEXEC either */
    struct sigaction ign = {.sa_handler = SIG_IGN}, old_hup, old_pipe;
    sigaction(SIGHUP, &ign, &old_hup);
    sigaction(SIGPIPE, &ign, &old_pipe);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, dirty_thread, d), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    if (d->rc < 0)
        fail_msg("on the thread: %s", d->err.msg);
    check(d);
    sigaction(SIGHUP, &old_hup, NULL);
    sigaction(SIGPIPE, &old_pipe, NULL);
    close(d->leak_fd);
    close(d->leak_pipe[0]);
    close(d->leak_pipe[1]);
    /* the precondition held: the thread really blocked them */
    assert_true(d->thread_blk & SIGBIT(SIGTERM));
    assert_true(d->thread_blk & SIGBIT(SIGINT));
}

/* Descriptor numbers of pid, and whether any of them is the leaked file or pipe. */
static int pid_fds(int pid, const dirty *d, int *fds, int max, bool *leaked)
{
    char dir[64], link[330], target[256], pipe_name[64];
    struct stat st;
    assert_int_equal(fstat(d->leak_pipe[0], &st), 0);
    snprintf(pipe_name, sizeof pipe_name, "pipe:[%llu]", (unsigned long long)st.st_ino);
    snprintf(dir, sizeof dir, "/proc/%d/fd", pid);
    DIR *dp = opendir(dir);
    if (!dp)
        fail_msg("cannot list %s", dir);
    int n = 0;
    *leaked = false;
    for (struct dirent *de; (de = readdir(dp));) {
        if (de->d_name[0] == '.')
            continue;
        snprintf(link, sizeof link, "%s/%s", dir, de->d_name);
        ssize_t len = readlink(link, target, sizeof target - 1);
        target[len > 0 ? len : 0] = '\0';
        if (!strcmp(target, d->leak_path) || !strcmp(target, pipe_name))
            *leaked = true;

        if (n < max)
            fds[n] = atoi(de->d_name);
        n++;
    }
    closedir(dp);
    return n;
}

static int cmp_int(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

static void spawn_sleep_body(dirty *d)
{
    char *argv[] = {"sleep", "30", NULL};
    pid_t pid = 0;
    d->rc = pvm_proc_spawn(argv, d->arg, &pid, &d->err);
    d->pid = pid;
}

static void spawn_sleep_check(dirty *d)
{
    char *log = d->arg;
    pid_t pid = d->pid;
    pvm_error err = {0};
    /* posix_spawn returns once sleep runs: what /proc shows is the child's own state */
    assert_int_equal(pid_mask(pid, "SigBlk"), 0);
    assert_int_equal(pid_mask(pid, "SigIgn"), 0);
    int fds[16];
    bool leaked;
    /* sleep's dynamic loader briefly holds libc open as fd 3: allow it a moment */
    int n = pid_fds(pid, d, fds, 16, &leaked);
    for (int i = 0; i < 500 && n != 3 && !leaked; i++) {
        usleep(10000);
        n = pid_fds(pid, d, fds, 16, &leaked);
    }
    assert_false(leaked);
    assert_int_equal(n, 3);
    qsort(fds, 3, sizeof fds[0], cmp_int);
    assert_int_equal(fds[0], 0);
    assert_int_equal(fds[1], 1);
    assert_int_equal(fds[2], 2);
    assert_int_equal(getsid(pid), pid); /* its own session */
    char link[64], target[256];
    snprintf(link, sizeof link, "/proc/%d/fd/0", (int)pid);
    ssize_t len = readlink(link, target, sizeof target - 1);
    assert_true(len > 0);
    target[len] = '\0';
    assert_string_equal(target, "/dev/null");
    snprintf(link, sizeof link, "/proc/%d/fd/2", (int)pid);
    len = readlink(link, target, sizeof target - 1);
    assert_true(len > 0);
    target[len] = '\0';
    assert_string_equal(target, log);
    kill(pid, SIGTERM); /* a clean mask: SIGTERM ends it */
    int status = -1;
    assert_int_equal(pvm_proc_wait_child(pid, 10000, NULL, NULL, &status, &err), 1);
    assert_int_equal(status, 128 + SIGTERM);
}

static void test_spawn_clean_from_blocking_thread(void **state)
{
    (void)state;
    char log[] = "/tmp/pvm-test-spawn-XXXXXX";
    int fd = mkstemp(log);
    assert_true(fd >= 0);
    close(fd);
    dirty d = {.body = spawn_sleep_body, .arg = log};
    run_dirty(&d, spawn_sleep_check);
    unlink(log);
}

static void test_run_output_grows_and_is_bounded(void **state)
{
    (void)state;
    pvm_error err = {0};
    char *out = NULL;
    int status = -1;
    /* 200 KiB: far past any fixed buffer, all of it kept */
    char *big[] = {"sh", "-c", "head -c 204800 /dev/zero | tr '\\0' x; echo end", NULL};
    assert_int_equal(pvm_proc_run(big, 30000, &out, &status, &err), 0);
    assert_int_equal(status, 0);
    assert_int_equal(strlen(out), 204800 + 4);
    assert_string_equal(out + 204800, "end\n");
    free(out);
    /* past the bound: a clear error, the child stopped, nothing returned */
    char *huge[] = {"sh", "-c", "exec head -c 5000000 /dev/zero | tr '\\0' x", NULL};
    out = (char *)1;
    assert_int_equal(pvm_proc_run(huge, 30000, &out, &status, &err), -1);
    assert_null(out);
    assert_int_equal(err.code, PVM_E_IO);
    assert_string_equal(err.msg, "sh printed more than 4 MiB; it was stopped");
}

/* Waiting for one child leaves another child's status to its owner. */
static void test_wait_child_leaves_other_children(void **state)
{
    (void)state;
    pvm_error err = {0};
    int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    char *a_argv[] = {"sh", "-c", "exit 3", NULL};
    char *b_argv[] = {"sh", "-c", "read x; exit 5", NULL}; /* stdin is /dev/null: ends at once */
    char *c_argv[] = {"sleep", "30", NULL};
    pid_t a, b, c;
    assert_int_equal(pvm_proc_start(a_argv, devnull, 0, &a, &err), 0);
    assert_int_equal(pvm_proc_start(b_argv, devnull, 0, &b, &err), 0);
    assert_int_equal(pvm_proc_start(c_argv, devnull, 0, &c, &err), 0);
    int status = -1;
    assert_int_equal(pvm_proc_wait_child(b, 10000, NULL, NULL, &status, &err), 1);
    assert_int_equal(status, 5);
    /* a ended too (wait_gone sees it through its pidfd) but was not reaped */
    assert_int_equal(pvm_proc_wait_gone(a, 10000, NULL, NULL, &err), 1);
    assert_int_equal(pvm_proc_wait_child(c, 50, NULL, NULL, &status, &err), 0); /* still runs */
    int ws = 0;
    assert_int_equal(waitpid(a, &ws, WNOHANG), a); /* its status is still there for us */
    assert_true(WIFEXITED(ws));
    assert_int_equal(WEXITSTATUS(ws), 3);
    kill(c, SIGKILL);
    assert_int_equal(pvm_proc_wait_child(c, 10000, NULL, NULL, &status, &err), 1);
    assert_int_equal(status, 128 + SIGKILL);
    close(devnull);
}

static void test_wait_child_cancel(void **state)
{
    (void)state;
    pvm_error err = {0};
    int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    char *argv[] = {"sleep", "30", NULL};
    pid_t pid;
    assert_int_equal(pvm_proc_start(argv, devnull, 0, &pid, &err), 0);
    int p[2];
    assert_int_equal(pipe(p), 0);
    assert_int_equal(write(p[1], "c", 1), 1);
    pvm_progress prog = {.cancel_fd = p[0]};
    int status = -1;
    assert_int_equal(pvm_proc_wait_child(pid, -1, &prog, "waiting for QEMU", &status, &err), -1);
    assert_int_equal(err.code, PVM_E_CANCELLED);
    assert_int_equal(status, -1);
    assert_int_equal(pvm_proc_wait_gone(pid, -1, &prog, "stop", &err), -1);
    assert_int_equal(err.code, PVM_E_CANCELLED);
    kill(pid, SIGKILL);
    assert_int_equal(pvm_proc_wait_child(pid, 10000, NULL, NULL, &status, &err), 1);
    close(p[0]);
    close(p[1]);
    close(devnull);
}

/* Signals go only to the process the caller means: its command line must hold the needle. */
static void test_signal_checked(void **state)
{
    (void)state;
    pvm_error err = {0};
    int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    char *argv[] = {"sleep", "31.5", NULL};
    pid_t pid;
    assert_int_equal(pvm_proc_start(argv, devnull, 0, &pid, &err), 0);
    assert_int_equal(pvm_proc_signal_checked(pid, "some-other-vm-id", SIGTERM), 0);
    assert_int_equal(errno, ESRCH);
    int status = -1;
    assert_int_equal(pvm_proc_wait_child(pid, 100, NULL, NULL, &status, &err), 0); /* untouched */
    assert_int_equal(pvm_proc_signal_checked(pid, "31.5", SIGTERM), 1);
    assert_int_equal(pvm_proc_wait_child(pid, 10000, NULL, NULL, &status, &err), 1);
    assert_int_equal(status, 128 + SIGTERM);
    /* reaped: the number names nothing now (or someone else), never signalled */
    assert_int_equal(pvm_proc_signal_checked(pid, "31.5", SIGTERM), 0);
    assert_int_equal(pvm_proc_signal_checked(0, "x", SIGTERM), 0);
    assert_int_equal(pvm_proc_signal_checked(-1, "x", SIGTERM), 0);
    close(devnull);
}

static void test_tail_line_counts(void **state)
{
    (void)state;
    char path[] = "/tmp/pvm-test-tail-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char text[] = "one\n\ntwo\nthree\n";
    assert_int_equal(write(fd, text, sizeof text - 1), (ssize_t)(sizeof text - 1));
    close(fd);
    char out[64];
    const int counts[] = {0, -1, -100, INT_MIN};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        memset(out, 'z', sizeof out);
        pvm_proc_tail(path, counts[i], out, sizeof out);
        assert_string_equal(out, ""); /* no lines asked: none given, nothing overrun */
    }
    pvm_proc_tail(path, 2, out, sizeof out);
    assert_string_equal(out, "two; three");
    pvm_proc_tail(path, INT_MAX, out, sizeof out);
    assert_string_equal(out, "one; two; three");
    unlink(path);
}

/* ------------------------------------------------- a real QEMU, through the engine */

typedef struct engine_run {
    char dir[64], home[128];
    pvm_engine *e;
    pvm_vm vm;
} engine_run;

static void make_vm(engine_run *r)
{
    pvm_error err = {0};
    snprintf(r->dir, sizeof r->dir, "/tmp/pvm-test-proc-XXXXXX");
    assert_non_null(mkdtemp(r->dir));
    snprintf(r->home, sizeof r->home, "%s/home", r->dir);
    setenv("PRIVARION_VM_ACCEL", "tcg", 1); /* KVM guests hang on these machines */
    if (pvm_engine_open(&r->e, r->home, &err) < 0)
        fail_msg("engine open: %s", err.msg);
    const pvm_preset *preset = pvm_preset_find("dell-latitude-7520");
    assert_non_null(preset);
    pvm_profile p;
    pvm_profile_init(&p);
    assert_int_equal(pvm_profile_set_name(&p, "clean", &err), 0);
    pvm_preset_apply(preset, &p);
    pvm_identity_randomize(&p, preset);
    if (pvm_profile_create(r->e, &p, NULL, &err) < 0)
        fail_msg("profile create: %s", err.msg);
    pvm_vm_opts o = {.memory = 128ULL << 20, .disk = 64ULL << 20, .net = PVM_NET_NONE};
    if (pvm_vm_create(r->e, "clean", "clean", &o, &r->vm, &err) < 0)
        fail_msg("vm create: %s", err.msg);
}

static void start_body(dirty *d)
{
    engine_run *r = d->arg;
    d->rc = pvm_vm_start(r->e, "clean", 0, NULL, &d->err);
}

static void start_check(dirty *d)
{
    engine_run *r = d->arg;
    pvm_error err = {0};
    assert_int_equal(pvm_vm_get(r->e, "clean", &r->vm, &err), 0);
    assert_int_equal(r->vm.state, PVM_VM_RUNNING);
    int pid = r->vm.pid;
    assert_true(pid > 0);
    /* QEMU blocks a few signals of its own (SIGIO, SIGALRM, SIGBUS, SIG_IPI), ignores
     * some and opens its own descriptors; nothing of the caller's may remain. */
    unsigned long long blk = pid_mask(pid, "SigBlk"), ign = pid_mask(pid, "SigIgn");
    /* its own: SIGPIPE, and SIGTSTP, SIGTTIN, SIGTTOU as a daemon */
    unsigned long long own = SIGBIT(SIGPIPE) | SIGBIT(SIGTSTP) | SIGBIT(SIGTTIN) | SIGBIT(SIGTTOU);
    if (ign & ~own)
        fail_msg("QEMU %d ignores signals it did not ignore itself (SigIgn %llx)", pid, ign);
    const int from_caller[] = {SIGTERM, SIGINT, SIGHUP};
    for (size_t i = 0; i < 3; i++) {
        if (blk & SIGBIT(from_caller[i]))
            fail_msg("QEMU %d inherited blocked signal %d (SigBlk %llx)", pid, from_caller[i], blk);
        if (ign & SIGBIT(from_caller[i]))
            fail_msg("QEMU %d inherited ignored signal %d (SigIgn %llx)", pid, from_caller[i], ign);
    }
    int fds[256];
    bool leaked;
    pid_fds(pid, d, fds, 256, &leaked);
    assert_false(leaked);
    /* and it acts on SIGTERM: sent through the pidfd with the VM's id as identity */
    assert_int_equal(pvm_proc_signal_checked(pid, "not-this-vm", SIGTERM), 0);
    assert_true(pvm_proc_alive(pid));
    assert_int_equal(pvm_proc_signal_checked(pid, r->vm.id, SIGTERM), 1);
    assert_int_equal(pvm_proc_wait_gone(pid, 30000, NULL, NULL, &err), 1);
}

static void test_qemu_started_clean_from_blocking_thread(void **state)
{
    engine_run *r = *state;
    make_vm(r);
    dirty d = {.body = start_body, .arg = r};
    run_dirty(&d, start_check);
    pvm_error err = {0};
    pvm_vm got;
    assert_int_equal(pvm_vm_get(r->e, "clean", &got, &err), 0);
    assert_int_not_equal(got.state, PVM_VM_RUNNING);
    assert_int_equal(pvm_vm_stop(r->e, "clean", true, 10, NULL, &err), 0); /* acknowledges it */
}

static int engine_setup(void **state)
{
    *state = pvm_xcalloc(1, sizeof(engine_run));
    return 0;
}

/* Whatever failed, no QEMU of the test outlives it. */
static int engine_teardown(void **state)
{
    engine_run *r = *state;
    if (r->e) {
        pvm_error err = {0};
        if (pvm_vm_stop(r->e, "clean", true, 10, NULL, &err) < 0)
            fprintf(stderr, "cleanup: vm stop --force: %s\n", err.msg);
        pvm_engine_close(r->e);
    }
    if (r->dir[0])
        rm_rf(r->dir);
    free(r);
    return 0;
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
        cmocka_unit_test(test_spawn_clean_from_blocking_thread),
        cmocka_unit_test(test_run_output_grows_and_is_bounded),
        cmocka_unit_test(test_wait_child_leaves_other_children),
        cmocka_unit_test(test_wait_child_cancel),
        cmocka_unit_test(test_signal_checked),
        cmocka_unit_test(test_tail_line_counts),
        cmocka_unit_test_setup_teardown(test_qemu_started_clean_from_blocking_thread,
                                        engine_setup, engine_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
