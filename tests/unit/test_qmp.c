/* test_qmp.c - unit tests of engine/qmp.c and engine/jsonrpc.c: against a REAL
 * QEMU (-machine none, a qcow2 node for snapshot jobs) and against fake peers
 * (silent listeners, scripted garbage, overlong lines). Run by tests/run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proc.h"
#include "../../engine/hv.h"
#include "../../engine/qemu/ctx.h"
#include "../../engine/qemu/qmp.h"
#include "../../engine/vm_internal.h" /* pvm_proc_alive, _wait_gone, _sleep_ms */
#include "fixture.h"
#include "unix_peer.h"

/* ------------------------------------------------------------ helpers */

/* Runs argv through the engine's own child runner (proc.h), output discarded:
 * the exit status, or -1 when it could not run or took over a minute. */
static int run_wait(char *const argv[])
{
    char *out = NULL;
    int st = -1;
    int rc = pvm_proc_run(argv, 60000, &out, &st, NULL);
    free(out);
    return rc < 0 ? -1 : st;
}

/* --------------------------------------------------------- real QEMU */

typedef struct qemu_fixture {
    char dir[64];
    char sock[128];
    pid_t pid;
    pvm_qmp *q; /* the test's connection, closed by qemu_test_teardown */
} qemu_fixture;

static qemu_fixture *g_qemu; /* for the atexit safety net */

static void qemu_kill(void)
{
    if (g_qemu && g_qemu->pid > 0 && pvm_proc_alive(g_qemu->pid)) {
        kill(g_qemu->pid, SIGKILL);
        pvm_proc_wait_gone(g_qemu->pid, 5000, NULL, NULL, NULL);
    }
}

static pid_t read_pidfile(const char *path)
{
    FILE *f = fopen(path, "r");
    int pid = 0;
    if (!f)
        return 0;
    if (fscanf(f, "%d", &pid) != 1)
        pid = 0;
    fclose(f);
    return pid;
}

static int qemu_start(qemu_fixture *f)
{
    char disk[128], pidfile[128], qmparg[160], filenode[200];
    snprintf(disk, sizeof disk, "%s/d.qcow2", f->dir);
    snprintf(pidfile, sizeof pidfile, "%s/qemu.pid", f->dir);
    snprintf(f->sock, sizeof f->sock, "%s/qmp.sock", f->dir);
    snprintf(qmparg, sizeof qmparg, "unix:%s,server=on,wait=off", f->sock);
    snprintf(filenode, sizeof filenode, "driver=file,filename=%s,node-name=f0", disk);
    char *img[] = { "qemu-img", "create", "-q", "-f", "qcow2", disk, "16M", NULL };
    if (run_wait(img) != 0) {
        fprintf(stderr, "test_qmp: qemu-img create failed (is qemu-utils installed?)\n");
        return -1;
    }
    char *argv[] = { "qemu-system-x86_64", "-machine", "none", "-nodefaults", "-display", "none",
                     "-accel", "tcg", "-blockdev", filenode,
                     "-blockdev", "driver=qcow2,file=f0,node-name=disk0",
                     "-qmp", qmparg, "-daemonize", "-pidfile", pidfile, NULL };
    if (run_wait(argv) != 0) {
        fprintf(stderr, "test_qmp: qemu-system-x86_64 did not start (is qemu-system-x86 installed?)\n");
        return -1;
    }
    f->pid = read_pidfile(pidfile);
    return f->pid > 0 ? 0 : -1;
}

static int qemu_setup(void **state)
{
    qemu_fixture *f = pvm_xcalloc(1, sizeof *f);
    if (fixture_mkdtemp(f->dir, sizeof f->dir, "qmp") < 0) {
        free(f);
        return -1;
    }
    g_qemu = f;
    *state = f;
    return qemu_start(f);
}

static int qemu_teardown(void **state)
{
    qemu_fixture *f = *state;
    qemu_kill();
    rm_rf(f->dir);
    g_qemu = NULL;
    free(f);
    return 0;
}

static pvm_qmp *qemu_connect(qemu_fixture *f)
{
    pvm_qmp *q = NULL;
    pvm_error err = { 0 };
    int rc = pvm_qmp_connect(f->sock, 5000, &q, &err);
    if (rc != 0)
        fprintf(stderr, "connect: %s\n", err.msg);
    assert_int_equal(rc, 0);
    assert_non_null(q);
    f->q = q;
    return q;
}

/* Closes the test's connection even when an assertion left the test early:
 * QEMU serves one monitor client at a time. */
static int qemu_test_teardown(void **state)
{
    qemu_fixture *f = *state;
    pvm_qmp_close(f->q);
    f->q = NULL;
    return 0;
}

static void test_real_status(void **state)
{
    pvm_qmp *q = qemu_connect(*state);
    char st[32] = "";
    pvm_error err = { 0 };
    assert_int_equal(pvm_qmp_status(q, st, sizeof st, &err), 0);
    assert_string_equal(st, "running");
}

static void test_real_version(void **state)
{
    pvm_qmp *q = qemu_connect(*state);
    cJSON *ret = NULL;
    pvm_error err = { 0 };
    assert_int_equal(pvm_qmp_execute(q, "query-version", NULL, &ret, 5000, &err), 0);
    const cJSON *qv = cJSON_GetObjectItemCaseSensitive(ret, "qemu");
    const cJSON *major = cJSON_GetObjectItemCaseSensitive(qv, "major");
    assert_true(cJSON_IsNumber(major));
    assert_true(major->valueint >= 6); /* snapshot-save jobs need 6.0 */
    assert_true(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(ret, "package")));
    cJSON_Delete(ret);
}

static void test_real_unknown_command(void **state)
{
    pvm_qmp *q = qemu_connect(*state);
    pvm_error err = { 0 };
    cJSON *ret = (cJSON *)1;
    assert_int_equal(pvm_qmp_execute(q, "no-such-command", NULL, &ret, 5000, &err), -1);
    assert_int_equal(err.code, PVM_E_QEMU);
    assert_null(ret);
    assert_non_null(strstr(err.msg, "The command no-such-command has not been found"));
    /* The connection stays usable after a QMP error. */
    char st[32];
    assert_int_equal(pvm_qmp_status(q, st, sizeof st, &err), 0);
}

static void test_real_bad_argument(void **state)
{
    pvm_qmp *q = qemu_connect(*state);
    pvm_error err = { 0 };
    cJSON *args = cJSON_CreateObject();
    cJSON_AddNumberToObject(args, "bogus", 1);
    assert_int_equal(pvm_qmp_execute(q, "query-status", args, NULL, 5000, &err), -1);
    assert_int_equal(err.code, PVM_E_QEMU);
    assert_non_null(strstr(err.msg, "bogus"));
}

/* QEMU serves one monitor client at a time: a second one gets no greeting. */
static void test_real_second_client_times_out(void **state)
{
    qemu_fixture *f = *state;
    assert_non_null(qemu_connect(f));
    pvm_qmp *q2 = NULL;
    pvm_error err = { 0 };
    assert_int_equal(pvm_qmp_connect(f->sock, 300, &q2, &err), -1);
    assert_null(q2);
    assert_int_equal(err.code, PVM_E_QEMU);
    assert_non_null(strstr(err.msg, "no greeting"));
}

/* hv op hold of the QEMU backend: its exchanges share one COMMAND connection while on
 * (another client meanwhile waits unanswered: QEMU serves one), a failed exchange drops
 * it, off closes it, and without hold each exchange has its own, closed after it. */
static pvm_qemu_ctx g_home;

static int held_teardown(void **state)
{
    pvm_hv_qemu.hold(&g_home, false); /* an assertion that left early leaves none open */
    return qemu_test_teardown(state);
}

static void test_real_held_connection(void **state)
{
    qemu_fixture *f = *state;
    pvm_error err = { 0 };
    pvm_qmp *a = NULL, *b = NULL, *other = NULL;
    char st[32];
    pvm_hv_qemu.hold(&g_home, true);
    assert_int_equal(pvm_qemu_cmd_connect(&g_home, f->sock, 5000, &a, &err), 0);
    assert_int_equal(pvm_qmp_status(a, st, sizeof st, &err), 0);
    pvm_qemu_cmd_done(&g_home, a, true);
    assert_int_equal(pvm_qemu_cmd_connect(&g_home, f->sock, 5000, &b, &err), 0);
    assert_ptr_equal(a, b); /* the same connection, still open and answering */
    assert_int_equal(pvm_qmp_status(b, st, sizeof st, &err), 0);
    assert_int_equal(pvm_qmp_connect(f->sock, 300, &other, &err), -1);
    assert_non_null(strstr(err.msg, "no greeting"));
    pvm_qemu_cmd_done(&g_home, b, false); /* a failed exchange: closed, not kept */
    assert_null(g_home.held);
    assert_int_equal(pvm_qemu_cmd_connect(&g_home, f->sock, 5000, &a, &err), 0);
    assert_ptr_equal(g_home.held, a); /* a new one, held again */
    pvm_qemu_cmd_done(&g_home, a, true);
    pvm_hv_qemu.hold(&g_home, false);
    assert_null(g_home.held);
    assert_int_equal(pvm_qemu_cmd_connect(&g_home, f->sock, 5000, &a, &err), 0);
    assert_null(g_home.held); /* hold off: not kept */
    assert_int_equal(pvm_qmp_status(a, st, sizeof st, &err), 0);
    pvm_qemu_cmd_done(&g_home, a, true);
    assert_non_null(qemu_connect(f)); /* nothing left open: a new client is served */
}

static cJSON *snapshot_args(const char *tag)
{
    cJSON *args = cJSON_CreateObject();
    cJSON_AddStringToObject(args, "tag", tag);
    cJSON_AddStringToObject(args, "vmstate", "disk0");
    cJSON *devs = cJSON_AddArrayToObject(args, "devices");
    cJSON_AddItemToArray(devs, cJSON_CreateString("disk0"));
    return args;
}

static int count_jobs(pvm_qmp *q)
{
    cJSON *jobs = NULL;
    pvm_error err = { 0 };
    assert_int_equal(pvm_qmp_execute(q, "query-jobs", NULL, &jobs, 5000, &err), 0);
    int n = cJSON_GetArraySize(jobs);
    cJSON_Delete(jobs);
    return n;
}

/* Drains queued events; true when one named `name` was among them. */
static bool saw_event(pvm_qmp *q, const char *name)
{
    bool seen = false;
    cJSON *ev = NULL;
    pvm_error err = { 0 };
    while (pvm_qmp_next_event(q, &ev, 0, &err) == 0 && ev) {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(ev, "event");
        if (cJSON_IsString(n) && strcmp(n->valuestring, name) == 0)
            seen = true;
        cJSON_Delete(ev);
    }
    return seen;
}

static void test_real_snapshot_jobs(void **state)
{
    pvm_qmp *q = qemu_connect(*state);
    pvm_error err = { 0 };
    int rc = pvm_qmp_run_job(q, "snapshot-save", snapshot_args("t1"), "save1", 30000, &err);
    if (rc)
        fprintf(stderr, "snapshot-save: %s\n", err.msg);
    assert_int_equal(rc, 0);
    assert_int_equal(count_jobs(q), 0); /* concluded and dismissed */
    /* The VM was stopped and resumed around the save: the events were kept. */
    assert_true(saw_event(q, "STOP"));

    assert_int_equal(pvm_qmp_run_job(q, "snapshot-load", snapshot_args("nosuch"), "load1", 30000, &err), -1);
    assert_int_equal(err.code, PVM_E_QEMU);
    assert_non_null(strstr(err.msg, "does not exist"));
    assert_non_null(strstr(err.msg, "load1"));
    assert_int_equal(count_jobs(q), 0);

    assert_int_equal(pvm_qmp_run_job(q, "snapshot-load", snapshot_args("t1"), "load2", 30000, &err), 0);
    cJSON *del = cJSON_CreateObject();
    cJSON_AddStringToObject(del, "tag", "t1");
    cJSON *devs = cJSON_AddArrayToObject(del, "devices");
    cJSON_AddItemToArray(devs, cJSON_CreateString("disk0"));
    assert_int_equal(pvm_qmp_run_job(q, "snapshot-delete", del, "del1", 30000, &err), 0);
    /* Loading it now fails: the snapshot is really gone. */
    assert_int_equal(pvm_qmp_run_job(q, "snapshot-load", snapshot_args("t1"), "load3", 30000, &err), -1);
    assert_int_equal(err.code, PVM_E_QEMU);
    assert_non_null(strstr(err.msg, "does not exist"));
    assert_int_equal(count_jobs(q), 0);
}

static void test_real_job_start_error(void **state)
{
    pvm_qmp *q = qemu_connect(*state);
    pvm_error err = { 0 };
    cJSON *args = snapshot_args("t2");
    cJSON_ReplaceItemInObject(args, "vmstate", cJSON_CreateString("nonode"));
    assert_int_equal(pvm_qmp_run_job(q, "snapshot-save", args, "save2", 30000, &err), -1);
    assert_int_equal(err.code, PVM_E_QEMU);
    assert_non_null(strstr(err.msg, "nonode"));
    assert_int_equal(count_jobs(q), 0);
}

static void test_real_event_timeout(void **state)
{
    pvm_qmp *q = qemu_connect(*state);
    cJSON *ev = (cJSON *)1;
    pvm_error err = { 0 };
    assert_int_equal(pvm_qmp_next_event(q, &ev, 100, &err), 0);
    assert_null(ev);
}

/* Last in the group: quit ends QEMU, and the client then fails cleanly. */
static void test_real_quit(void **state)
{
    qemu_fixture *f = *state;
    pvm_qmp *q = qemu_connect(f);
    pvm_error err = { 0 };
    assert_int_equal(pvm_qmp_execute(q, "quit", NULL, NULL, 5000, &err), 0);
    assert_int_equal(pvm_proc_wait_gone(f->pid, 10000, NULL, NULL, NULL), 1);
    char st[32];
    assert_int_equal(pvm_qmp_status(q, st, sizeof st, &err), -1);
    assert_int_equal(err.code, PVM_E_QEMU);
}

/* --------------------------------------------------------- fake peers */

enum { S_SEND, S_RECV, S_SEND_BIG, S_CLOSE };

typedef struct step {
    int op;
    const char *text; /* S_SEND */
    size_t n;         /* S_SEND_BIG: bytes of 'a' with no newline; S_SEND: 0 = strlen */
} step;

typedef struct fake {
    char dir[64];
    char path[128];
    int lfd;
    pthread_t th;
    bool running;
    const step *steps;
} fake;

#define HANDSHAKE                                                                    \
    { S_SEND, "{\"QMP\": {\"version\": {}, \"capabilities\": []}}\r\n", 0 },         \
    { S_RECV, NULL, 0 }, { S_SEND, "{\"return\": {}, \"id\": 1}\r\n", 0 }
#define END { -1, NULL, 0 }

static bool fake_send(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

static bool fake_send_big(int fd, size_t n)
{
    char *chunk = pvm_xmalloc(1 << 16);
    memset(chunk, 'a', 1 << 16);
    bool ok = true;
    while (ok && n) {
        size_t c = n < (1u << 16) ? n : (1u << 16);
        ok = fake_send(fd, chunk, c);
        n -= c;
    }
    free(chunk);
    return ok;
}

/* Reads up to and including a newline; false on EOF, error or 10 s of silence. */
static bool fake_recv_line(int fd)
{
    char c;
    for (;;) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        if (poll(&p, 1, 10000) <= 0 || read(fd, &c, 1) != 1)
            return false;
        if (c == '\n')
            return true;
    }
}

static void *fake_main(void *arg)
{
    fake *f = arg;
    struct pollfd p = { .fd = f->lfd, .events = POLLIN };
    if (poll(&p, 1, 10000) <= 0)
        return NULL;
    int fd = accept(f->lfd, NULL, NULL);
    if (fd < 0)
        return NULL;
    bool ok = true;
    for (const step *s = f->steps; ok && s->op >= 0; s++) {
        if (s->op == S_SEND)
            ok = fake_send(fd, s->text, s->n ? s->n : strlen(s->text));
        else if (s->op == S_RECV)
            ok = fake_recv_line(fd);
        else if (s->op == S_SEND_BIG)
            ok = fake_send_big(fd, s->n);
        else
            ok = false;
    }
    while (ok && fake_recv_line(fd)) /* keep the line open until the client leaves */
        ;
    close(fd);
    return NULL;
}

static void fake_start(fake *f, const step *steps)
{
    memset(f, 0, sizeof *f);
    assert_int_equal(fixture_mkdtemp(f->dir, sizeof f->dir, "qmp-fake"), 0);
    snprintf(f->path, sizeof f->path, "%s/s", f->dir);
    f->lfd = listen_unix(f->path);
    assert_true(f->lfd >= 0);
    f->steps = steps;
    if (steps) {
        assert_int_equal(pthread_create(&f->th, NULL, fake_main, f), 0);
        f->running = true;
    }
}

static void fake_stop(fake *f)
{
    if (f->running)
        pthread_join(f->th, NULL);
    close(f->lfd);
    rm_rf(f->dir);
}

static pvm_qmp *fake_connect(fake *f)
{
    pvm_qmp *q = NULL;
    pvm_error err = { 0 };
    assert_int_equal(pvm_qmp_connect(f->path, 5000, &q, &err), 0);
    return q;
}

static void test_fake_silent_listener(void **state)
{
    (void)state;
    fake f;
    fake_start(&f, NULL); /* listens, never accepts, never writes */
    pvm_qmp *q = (pvm_qmp *)1;
    pvm_error err = { 0 };
    assert_int_equal(pvm_qmp_connect(f.path, 300, &q, &err), -1);
    assert_null(q);
    assert_int_equal(err.code, PVM_E_QEMU);
    assert_non_null(strstr(err.msg, "no greeting"));
    assert_non_null(strstr(err.msg, f.path));
    fake_stop(&f);
}

static void test_fake_missing_socket(void **state)
{
    (void)state;
    pvm_qmp *q = NULL;
    pvm_error err = { 0 };
    assert_int_equal(pvm_qmp_connect("/tmp/pvm-no-such-dir/qmp.sock", 300, &q, &err), -1);
    assert_int_equal(err.code, PVM_E_QEMU);
    assert_non_null(strstr(err.msg, "cannot connect"));
    char longpath[200];
    memset(longpath, 'x', sizeof longpath - 1);
    longpath[0] = '/';
    longpath[sizeof longpath - 1] = '\0';
    assert_int_equal(pvm_qmp_connect(longpath, 300, &q, &err), -1);
    assert_int_equal(err.code, PVM_E_INVALID);
}

static void test_fake_bad_greeting(void **state)
{
    (void)state;
    static const step steps[] = { { S_SEND, "{\"hello\": 1}\n", 0 }, END };
    fake f;
    fake_start(&f, steps);
    pvm_qmp *q = NULL;
    pvm_error err = { 0 };
    assert_int_equal(pvm_qmp_connect(f.path, 2000, &q, &err), -1);
    assert_int_equal(err.code, PVM_E_QEMU);
    assert_non_null(strstr(err.msg, "greet"));
    fake_stop(&f);
}

/* One request answered by `reply`; the execute must fail with PVM_E_QEMU containing want. */
static void expect_reply_fails(const char *reply, size_t n, const char *want)
{
    const step steps[] = { HANDSHAKE, { S_RECV, NULL, 0 }, { S_SEND, reply, n }, END };
    fake f;
    fake_start(&f, steps);
    pvm_qmp *q = fake_connect(&f);
    pvm_error err = { 0 };
    cJSON *ret = NULL;
    assert_int_equal(pvm_qmp_execute(q, "query-status", NULL, &ret, 3000, &err), -1);
    assert_null(ret);
    assert_int_equal(err.code, PVM_E_QEMU);
    if (!strstr(err.msg, want))
        fail_msg("error \"%s\" lacks \"%s\"", err.msg, want);
    pvm_qmp_close(q);
    fake_stop(&f);
}

static void test_fake_garbage(void **state)
{
    (void)state;
    expect_reply_fails("this is not json\n", 0, "malformed");
    expect_reply_fails("{\"return\": {}, \"id\": 2\n", 0, "malformed");
    expect_reply_fails("{\"return\": {}, \"id\": 2} trailing\n", 0, "malformed");
    expect_reply_fails("[1, 2, 3]\n", 0, "not a JSON object");
    static const char with_nul[] = "{\"return\": {}\0, \"id\": 2}\n";
    expect_reply_fails(with_nul, sizeof with_nul - 1, "malformed");
    expect_reply_fails("{\"id\": 2}\n", 0, "neither");
    expect_reply_fails("{\"id\": 2, \"error\": 5}\n", 0, "without a description");
    expect_reply_fails("{\"id\": 2, \"error\": {\"desc\": \"boom\"}}\n", 0, "boom");
}

static void test_fake_closed_mid_reply(void **state)
{
    (void)state;
    static const step steps[] = { HANDSHAKE, { S_RECV, NULL, 0 },
                                  { S_SEND, "{\"return\": {\"sta", 0 }, { S_CLOSE, NULL, 0 }, END };
    fake f;
    fake_start(&f, steps);
    pvm_qmp *q = fake_connect(&f);
    pvm_error err = { 0 };
    assert_int_equal(pvm_qmp_execute(q, "query-status", NULL, NULL, 3000, &err), -1);
    assert_int_equal(err.code, PVM_E_QEMU);
    assert_non_null(strstr(err.msg, "closed"));
    /* Later calls fail fast and do not raise SIGPIPE. */
    assert_int_equal(pvm_qmp_execute(q, "query-status", NULL, NULL, 3000, &err), -1);
    assert_int_equal(err.code, PVM_E_QEMU);
    pvm_qmp_close(q);
    fake_stop(&f);
}

/* A job's progress reaches the listener; a cancel sends job-cancel and a job that then
 * fails is PVM_E_CANCELLED. */
typedef struct job_seen {
    double last;
    int reports;
} job_seen;

static void job_report(void *ctx, const char *step, double fraction)
{
    job_seen *s = ctx;
    if (strstr(step, "snapshot-save")) {
        s->last = fraction;
        s->reports++;
    }
}

static void test_fake_job_progress(void **state)
{
    (void)state;
    static const step steps[] = {
        HANDSHAKE, { S_RECV, NULL, 0 }, { S_SEND, "{\"return\": {}, \"id\": 2}\r\n", 0 },
        { S_RECV, NULL, 0 },
        { S_SEND, "{\"return\": [{\"id\": \"j\", \"status\": \"running\", "
                  "\"current-progress\": 1, \"total-progress\": 4}], \"id\": 3}\r\n", 0 },
        { S_RECV, NULL, 0 },
        { S_SEND, "{\"return\": [{\"id\": \"j\", \"status\": \"concluded\"}], \"id\": 4}\r\n", 0 },
        { S_RECV, NULL, 0 }, { S_SEND, "{\"return\": {}, \"id\": 5}\r\n", 0 }, END };
    fake f;
    fake_start(&f, steps);
    pvm_qmp *q = fake_connect(&f);
    pvm_error err = { 0 };
    job_seen seen = { -1, 0 };
    pvm_progress p = { -1, job_report, &seen };
    assert_int_equal(pvm_qmp_run_job_progress(q, "snapshot-save", NULL, "j", 5000, &p, &err), 0);
    assert_int_equal(seen.reports, 1);
    assert_true(seen.last > 0.24 && seen.last < 0.26);
    pvm_qmp_close(q);
    fake_stop(&f);
}

static void test_fake_job_cancel(void **state)
{
    (void)state;
    static const step steps[] = {
        HANDSHAKE, { S_RECV, NULL, 0 }, { S_SEND, "{\"return\": {}, \"id\": 2}\r\n", 0 },
        { S_RECV, NULL, 0 },
        { S_SEND, "{\"return\": [{\"id\": \"j\", \"status\": \"running\"}], \"id\": 3}\r\n", 0 },
        { S_RECV, NULL, 0 }, { S_SEND, "{\"return\": {}, \"id\": 4}\r\n", 0 }, /* job-cancel */
        { S_RECV, NULL, 0 },
        { S_SEND, "{\"return\": [{\"id\": \"j\", \"status\": \"concluded\", "
                  "\"error\": \"job cancelled\"}], \"id\": 5}\r\n", 0 },
        { S_RECV, NULL, 0 }, { S_SEND, "{\"return\": {}, \"id\": 6}\r\n", 0 }, END };
    fake f;
    fake_start(&f, steps);
    pvm_qmp *q = fake_connect(&f);
    pvm_error err = { 0 };
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    assert_int_equal(write(fds[1], "x", 1), 1);
    pvm_progress p = { fds[0], NULL, NULL };
    assert_int_equal(pvm_qmp_run_job_progress(q, "snapshot-save", NULL, "j", 5000, &p, &err), -1);
    assert_int_equal(err.code, PVM_E_CANCELLED);
    close(fds[0]);
    close(fds[1]);
    pvm_qmp_close(q);
    fake_stop(&f);
}

/* The peer is gone before we send: send must fail with an error, not SIGPIPE. */
static void test_fake_send_to_closed_peer(void **state)
{
    (void)state;
    static const step steps[] = { HANDSHAKE, { S_CLOSE, NULL, 0 }, END };
    fake f;
    fake_start(&f, steps);
    pvm_qmp *q = fake_connect(&f);
    pthread_join(f.th, NULL); /* the peer has closed its end */
    f.running = false;
    pvm_error err = { 0 };
    for (int i = 0; i < 3; i++) {
        assert_int_equal(pvm_qmp_execute(q, "query-status", NULL, NULL, 1000, &err), -1);
        assert_int_equal(err.code, PVM_E_QEMU);
    }
    pvm_qmp_close(q);
    fake_stop(&f);
}

static void test_fake_overlong_line(void **state)
{
    (void)state;
    static const step steps[] = { HANDSHAKE, { S_RECV, NULL, 0 },
                                  { S_SEND_BIG, NULL, PVM_RPC_LINE_MAX + (1u << 20) }, END };
    fake f;
    fake_start(&f, steps);
    pvm_qmp *q = fake_connect(&f);
    pvm_error err = { 0 };
    assert_int_equal(pvm_qmp_execute(q, "query-status", NULL, NULL, 20000, &err), -1);
    assert_int_equal(err.code, PVM_E_QEMU);
    assert_non_null(strstr(err.msg, "longer than"));
    pvm_qmp_close(q); /* the writer then fails with EPIPE and ends */
    fake_stop(&f);
}

static void test_fake_too_many_values(void **state)
{
    (void)state;
    size_t n = 3u * 1024u * 1024u;
    char *line = pvm_xmalloc(n + 3);
    line[0] = '[';
    for (size_t i = 1; i + 3 <= n; i += 3)
        memcpy(line + i, "[],", 3);
    memcpy(line + n - 2, "[]]\n", 4); /* ends "...,[]]\n" */
    line[n + 2] = '\0';
    expect_reply_fails(line, n + 2, "JSON values");
    free(line);
}

/* Events and a stale reply arrive before ours: events are queued, the stale reply dropped. */
static void test_fake_events_and_stale(void **state)
{
    (void)state;
    static const step steps[] = {
        HANDSHAKE, { S_RECV, NULL, 0 },
        { S_SEND, "{\"event\": \"STOP\", \"timestamp\": {}}\n\n", 0 },
        { S_SEND, "{\"return\": {\"status\": \"stale\"}, \"id\": 99}\n", 0 },
        { S_SEND, "{\"event\": \"RESUME\"}\n{\"return\": {\"status\": \"paused\"}, \"id\": 2}\n", 0 },
        END };
    fake f;
    fake_start(&f, steps);
    pvm_qmp *q = fake_connect(&f);
    char st[16];
    pvm_error err = { 0 };
    assert_int_equal(pvm_qmp_status(q, st, sizeof st, &err), 0);
    assert_string_equal(st, "paused");
    cJSON *ev = NULL;
    assert_int_equal(pvm_qmp_next_event(q, &ev, 0, &err), 0);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(ev, "event")->valuestring, "STOP");
    cJSON_Delete(ev);
    assert_int_equal(pvm_qmp_next_event(q, &ev, 0, &err), 0);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(ev, "event")->valuestring, "RESUME");
    cJSON_Delete(ev);
    assert_int_equal(pvm_qmp_next_event(q, &ev, 50, &err), 0);
    assert_null(ev);
    pvm_qmp_close(q);
    fake_stop(&f);
}

/* A reply that comes after its command timed out must not answer the next command. */
static void test_fake_late_reply(void **state)
{
    (void)state;
    static const step steps[] = {
        HANDSHAKE, { S_RECV, NULL, 0 }, /* request 2: no answer yet */
        { S_RECV, NULL, 0 },            /* request 3 */
        { S_SEND, "{\"return\": {\"status\": \"late\"}, \"id\": 2}\n", 0 },
        { S_SEND, "{\"return\": {\"status\": \"running\"}, \"id\": 3}\n", 0 }, END };
    fake f;
    fake_start(&f, steps);
    pvm_qmp *q = fake_connect(&f);
    pvm_error err = { 0 };
    assert_int_equal(pvm_qmp_execute(q, "query-status", NULL, NULL, 200, &err), -1);
    assert_int_equal(err.code, PVM_E_QEMU);
    assert_non_null(strstr(err.msg, "no reply"));
    char st[16];
    assert_int_equal(pvm_qmp_status(q, st, sizeof st, &err), 0);
    assert_string_equal(st, "running");
    pvm_qmp_close(q);
    fake_stop(&f);
}

/* ------------------------------------------------- line reader directly */

static void test_rpc_lines_split_and_crlf(void **state)
{
    (void)state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    pvm_rpc r;
    pvm_rpc_init_fd(&r, sv[0], "test");
    const char *parts[] = { "{\"a\"", ": 1}\r", "\n{\"b\": 2}\n\n  \n{\"c\"", ": 3}\n" };
    for (size_t i = 0; i < 4; i++)
        assert_true(send(sv[1], parts[i], strlen(parts[i]), MSG_NOSIGNAL) > 0);
    pvm_error err = { 0 };
    const char *keys[] = { "a", "b", "c" };
    for (int i = 0; i < 3; i++) {
        cJSON *o = NULL;
        assert_int_equal(pvm_rpc_read_json(&r, &o, pvm_rpc_deadline(2000), &err), 1);
        assert_int_equal(cJSON_GetObjectItemCaseSensitive(o, keys[i])->valueint, i + 1);
        cJSON_Delete(o);
    }
    cJSON *o = (cJSON *)1;
    assert_int_equal(pvm_rpc_read_json(&r, &o, pvm_rpc_deadline(50), &err), 0);
    assert_null(o);
    /* A small line cap applies to a line split over several reads. */
    r.line_max = 8;
    assert_true(send(sv[1], "{\"x\": 12", 8, MSG_NOSIGNAL) == 8);
    assert_true(send(sv[1], "3}\n", 3, MSG_NOSIGNAL) == 3);
    assert_int_equal(pvm_rpc_read_json(&r, &o, pvm_rpc_deadline(2000), &err), -1);
    assert_non_null(strstr(err.msg, "longer than 8"));
    pvm_rpc_close(&r);
    close(sv[1]);
}

static void test_rpc_skip_to_byte(void **state)
{
    (void)state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    pvm_rpc r;
    pvm_rpc_init_fd(&r, sv[0], "test");
    const char msg[] = "junk\n{\"old\": 1}\n\xff{\"new\": 2}\n";
    assert_true(send(sv[1], msg, sizeof msg - 1, MSG_NOSIGNAL) > 0);
    pvm_error err = { 0 };
    assert_int_equal(pvm_rpc_skip_to_byte(&r, 0xFF, pvm_rpc_deadline(2000), &err), 1);
    cJSON *o = NULL;
    assert_int_equal(pvm_rpc_read_json(&r, &o, pvm_rpc_deadline(2000), &err), 1);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(o, "new")->valueint, 2);
    cJSON_Delete(o);
    assert_int_equal(pvm_rpc_skip_to_byte(&r, 0xFF, pvm_rpc_deadline(50), &err), 0);
    close(sv[1]);
    assert_int_equal(pvm_rpc_skip_to_byte(&r, 0xFF, pvm_rpc_deadline(2000), &err), -1);
    assert_non_null(strstr(err.msg, "closed"));
    pvm_rpc_close(&r);
}

int main(void)
{
    atexit(qemu_kill);
    const struct CMUnitTest real[] = {
        cmocka_unit_test_teardown(test_real_status, qemu_test_teardown),
        cmocka_unit_test_teardown(test_real_version, qemu_test_teardown),
        cmocka_unit_test_teardown(test_real_unknown_command, qemu_test_teardown),
        cmocka_unit_test_teardown(test_real_bad_argument, qemu_test_teardown),
        cmocka_unit_test_teardown(test_real_second_client_times_out, qemu_test_teardown),
        cmocka_unit_test_teardown(test_real_held_connection, held_teardown),
        cmocka_unit_test_teardown(test_real_snapshot_jobs, qemu_test_teardown),
        cmocka_unit_test_teardown(test_real_job_start_error, qemu_test_teardown),
        cmocka_unit_test_teardown(test_real_event_timeout, qemu_test_teardown),
        cmocka_unit_test_teardown(test_real_quit, qemu_test_teardown),
    };
    const struct CMUnitTest fakes[] = {
        cmocka_unit_test(test_fake_silent_listener),
        cmocka_unit_test(test_fake_missing_socket),
        cmocka_unit_test(test_fake_bad_greeting),
        cmocka_unit_test(test_fake_garbage),
        cmocka_unit_test(test_fake_closed_mid_reply),
        cmocka_unit_test(test_fake_job_progress),
        cmocka_unit_test(test_fake_job_cancel),
        cmocka_unit_test(test_fake_send_to_closed_peer),
        cmocka_unit_test(test_fake_overlong_line),
        cmocka_unit_test(test_fake_too_many_values),
        cmocka_unit_test(test_fake_events_and_stale),
        cmocka_unit_test(test_fake_late_reply),
        cmocka_unit_test(test_rpc_lines_split_and_crlf),
        cmocka_unit_test(test_rpc_skip_to_byte),
    };
    int failed = cmocka_run_group_tests_name("qmp-real-qemu", real, qemu_setup, qemu_teardown);
    failed += cmocka_run_group_tests_name("qmp-fake-peers", fakes, NULL, NULL);
    return failed ? 1 : 0;
}
