/* proc.c - processes and files around a running VM: the clock and the one wait
 * helper (cancel, progress), the private runtime folder, pid files, liveness checks
 * that survive pid reuse, the one way a child starts (posix_spawn: clean signals, no
 * inherited descriptors) and is waited for and signalled (pidfd), log tails.
 * Called by vm*.c, lock.c and the qemu/ backend. */
#include "vm_internal.h"
#include "base/base.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int64_t pvm_proc_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void pvm_proc_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* ------------------------------------------------------------- waiting */

/* What one poll() between two checks saw. */
typedef enum { PVM_WAIT_IDLE, PVM_WAIT_WATCH, PVM_WAIT_CANCEL, PVM_WAIT_BADFD } pvm_wait_event;

/* Sleeps up to ms, woken early by the cancel descriptor or watch_fd. */
static pvm_wait_event pvm_wait_poll(int cancel_fd, int watch_fd, int ms)
{
    struct pollfd pfd[2];
    nfds_t n = 0;
    int ci = -1, wi = -1;
    if (cancel_fd > 0) {
        ci = (int)n;
        pfd[n++] = (struct pollfd){.fd = cancel_fd, .events = POLLIN};
    }
    if (watch_fd >= 0) {
        wi = (int)n;
        pfd[n++] = (struct pollfd){.fd = watch_fd, .events = POLLIN};
    }
    int r = poll(n ? pfd : NULL, n, ms);
    if (r <= 0)
        return PVM_WAIT_IDLE; /* time passed, or EINTR: the caller checks the clock */
    if (ci >= 0 && (pfd[ci].revents & POLLNVAL))
        return PVM_WAIT_BADFD;
    if (ci >= 0 && (pfd[ci].revents & (POLLIN | POLLHUP | POLLERR)))
        return PVM_WAIT_CANCEL;
    if (wi >= 0 && pfd[wi].revents)
        return PVM_WAIT_WATCH;
    return PVM_WAIT_IDLE;
}

static void pvm_wait_report(const pvm_progress *progress, const char *step, int64_t start,
                            int timeout_ms, int64_t *next)
{
    int64_t now = pvm_proc_now_ms();
    if (!progress || !progress->report || now < *next)
        return;
    double fraction = -1;
    if (timeout_ms > 0)
        fraction = (double)(now - start) / timeout_ms;
    else if (timeout_ms == 0)
        fraction = 1;
    progress->report(progress->ctx, step ? step : "waiting", fraction > 1 ? 1 : fraction);
    *next = now + PVM_WAIT_REPORT_MS;
}

bool pvm_progress_cancelled(const pvm_progress *progress)
{
    if (!progress || progress->cancel_fd <= 0)
        return false;
    struct pollfd p = { .fd = progress->cancel_fd, .events = POLLIN };
    return poll(&p, 1, 0) > 0;
}

int pvm_wait_until_fd(int watch_fd, bool (*done)(void *ctx), void *ctx, int timeout_ms,
                      int interval_ms, const pvm_progress *progress, const char *step,
                      pvm_error *err)
{
    int64_t start = pvm_proc_now_ms(), next_report = start;
    int64_t end = timeout_ms < 0 ? INT64_MAX : start + timeout_ms;
    int cancel_fd = progress ? progress->cancel_fd : -1;
    if (interval_ms < 1)
        interval_ms = 1;
    for (;;) {
        pvm_wait_report(progress, step, start, timeout_ms, &next_report);
        if (done(ctx))
            return 1;
        int64_t now = pvm_proc_now_ms();
        if (now >= end)
            return 0;
        int ms = end - now < interval_ms ? (int)(end - now) : interval_ms;
        switch (pvm_wait_poll(cancel_fd, watch_fd, ms)) {
        case PVM_WAIT_CANCEL:
            return pvm_error_set(err, PVM_E_CANCELLED, "%s: cancelled", step ? step : "wait");
        case PVM_WAIT_BADFD:
            return pvm_error_set(err, PVM_E_INVALID, "%s: the cancel descriptor %d is not open",
                                 step ? step : "wait", cancel_fd);
        case PVM_WAIT_WATCH: /* checked at the top of the loop, at once */
        case PVM_WAIT_IDLE:
            break;
        }
    }
}

int pvm_wait_until(bool (*done)(void *ctx), void *ctx, int timeout_ms, int interval_ms,
                   const pvm_progress *progress, const char *step, pvm_error *err)
{
    return pvm_wait_until_fd(-1, done, ctx, timeout_ms, interval_ms, progress, step, err);
}

/* --------------------------------------------------- files and processes */

int pvm_proc_private_dir(const char *path, pvm_error *err)
{
    if (mkdir(path, 0700) < 0 && errno != EEXIST)
        return pvm_error_set(err, PVM_E_IO, "runtime folder %s: cannot create: %s", path,
                             strerror(errno));
    struct stat st;
    if (lstat(path, &st) < 0)
        return pvm_error_set(err, PVM_E_IO, "runtime folder %s: %s", path, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return pvm_error_set(err, PVM_E_IO,
                             "runtime folder %s: must be a directory, not a symlink or file",
                             path);
    if (st.st_uid != geteuid())
        return pvm_error_set(err, PVM_E_IO, "runtime folder %s: must be owned by uid %u, not %u",
                             path, (unsigned)geteuid(), (unsigned)st.st_uid);
    if ((st.st_mode & 077) && chmod(path, 0700) < 0)
        return pvm_error_set(err, PVM_E_IO, "runtime folder %s: cannot make it 0700: %s", path,
                             strerror(errno));
    return 0;
}

void pvm_proc_runtime_base(char *out, size_t size)
{
    snprintf(out, size, "/tmp/pvm-%u", (unsigned)geteuid());
}

int pvm_proc_pid_read(const char *path)
{
    FILE *fp = fopen(path, "re");
    if (!fp)
        return 0;
    char buf[32] = "";
    if (!fgets(buf, sizeof buf, fp))
        buf[0] = '\0';
    fclose(fp);
    char *end;
    long v = strtol(buf, &end, 10);
    if (end == buf || v <= 0 || v > 0x3fffffff)
        return 0;
    return (int)v;
}

int pvm_proc_pid_write(const char *path, int pid, pvm_error *err)
{
    char *tmp = pvm_xasprintf("%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        pvm_error_set(err, PVM_E_IO, "%s: cannot write: %s", tmp, strerror(errno));
        free(tmp);
        return -1;
    }
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%d\n", pid);
    int ok = write(fd, buf, (size_t)n) == n;
    ok = (close(fd) == 0) && ok;
    if (!ok || rename(tmp, path) < 0) {
        pvm_error_set(err, PVM_E_IO, "%s: cannot write: %s", path, strerror(errno));
        unlink(tmp);
        free(tmp);
        return -1;
    }
    free(tmp);
    return 0;
}

long pvm_proc_read(int pid, const char *name, char *buf, size_t size)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/%s", pid, name);
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, size - 1, f);
    fclose(f);
    buf[n] = '\0';
    return (long)n;
}

/* Field 22 of /proc/PID/stat: the start time in clock ticks after boot. The
 * command name (field 2) may hold spaces and parentheses: parse after the last ')'. */
int pvm_proc_start_ticks(int pid, unsigned long long *ticks)
{
    char buf[1024];
    if (pvm_proc_read(pid, "stat", buf, sizeof buf) < 0)
        return -1;
    char *p = strrchr(buf, ')');
    if (!p)
        return -1;
    /* after ") " come fields 3.. : skip 19 of them to reach field 22 */
    p++;
    for (int field = 2; field < 21 && p; field++)
        p = strchr(p + 1, ' ');
    return p && sscanf(p, " %llu", ticks) == 1 ? 0 : -1;
}

bool pvm_proc_alive(int pid)
{
    if (pid <= 0)
        return false;
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *fp = fopen(path, "re");
    if (!fp)
        return false;
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    const char *rp = strrchr(buf, ')'); /* the command name may hold spaces */
    if (!rp || rp[1] != ' ')
        return false;
    return rp[2] != 'Z' && rp[2] != 'X' && rp[2] != 'x';
}

bool pvm_proc_cmdline_has(int pid, const char *needle)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/cmdline", pid);
    FILE *fp = fopen(path, "re");
    if (!fp)
        return false;
    size_t cap = 8192, len = 0;
    char *buf = pvm_xmalloc(cap + 1);
    size_t n;
    while ((n = fread(buf + len, 1, cap - len, fp)) > 0) {
        len += n;
        if (len == cap) {
            cap *= 2;
            buf = pvm_xrealloc(buf, cap + 1);
        }
    }
    fclose(fp);
    buf[len] = '\0';
    bool found = false;
    for (size_t i = 0; i < len && !found; i += strlen(buf + i) + 1)
        found = strstr(buf + i, needle) != NULL;
    free(buf);
    return found;
}

/* ------------------------------------------------------------- children */

static int pvm_pidfd_open(pid_t pid)
{
#ifdef SYS_pidfd_open
    return (int)syscall(SYS_pidfd_open, pid, 0); /* always close-on-exec */
#else
    (void)pid;
    errno = ENOSYS;
    return -1;
#endif
}

static int pvm_pidfd_signal(int pidfd, int sig)
{
#ifdef SYS_pidfd_send_signal
    return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
#else
    (void)pidfd;
    (void)sig;
    errno = ENOSYS;
    return -1;
#endif
}

/* True when the process behind pidfd has ended (pidfds poll readable then). */
static bool pvm_pidfd_exited(int pidfd)
{
    struct pollfd p = {.fd = pidfd, .events = POLLIN};
    return poll(&p, 1, 0) > 0;
}

typedef struct pvm_gone_wait {
    int pid, pidfd;
} pvm_gone_wait;

static bool pvm_proc_gone(void *ctx)
{
    const pvm_gone_wait *w = ctx;
    if (w->pidfd >= 0)
        return pvm_pidfd_exited(w->pidfd); /* immune to a reused pid */
    return !pvm_proc_alive(w->pid);
}

int pvm_proc_wait_gone(int pid, int timeout_ms, const pvm_progress *progress, const char *step,
                       pvm_error *err)
{
    if (pid <= 0)
        return 1;
    pvm_gone_wait w = {.pid = pid, .pidfd = pvm_pidfd_open(pid)};
    if (w.pidfd < 0 && errno == ESRCH)
        return 1;
    int rc = pvm_wait_until_fd(w.pidfd, pvm_proc_gone, &w, timeout_ms,
                               w.pidfd >= 0 ? PVM_PIDFD_CHECK_MS : PVM_PID_POLL_MS, progress,
                               step, err);
    if (w.pidfd >= 0)
        close(w.pidfd);
    return rc;
}

int pvm_proc_signal_checked(int pid, const char *needle, int sig)
{
    if (pid <= 0) {
        errno = ESRCH;
        return 0;
    }
    /* The pidfd is taken first: from here on it names this process, whatever
     * later takes the number. The identity check comes after, so a process that
     * ends in between is never confused with its successor: the pidfd send fails. */
    int pidfd = pvm_pidfd_open(pid);
    if (pidfd < 0 && errno != ENOSYS)
        return errno == ESRCH ? 0 : -1;
    int rc = 0, e = ESRCH;
    if (pvm_proc_alive(pid) && pvm_proc_cmdline_has(pid, needle)) {
        int sent = pidfd >= 0 ? pvm_pidfd_signal(pidfd, sig) : kill(pid, sig);
        e = errno;
        rc = sent == 0 ? 1 : e == ESRCH ? 0 : -1;
    }
    if (pidfd >= 0)
        close(pidfd);
    errno = rc == 1 ? 0 : e;
    return rc;
}

static int pvm_proc_status_of(int ws)
{
    if (WIFEXITED(ws))
        return WEXITSTATUS(ws);
    if (WIFSIGNALED(ws))
        return 128 + WTERMSIG(ws);
    return 255;
}

/* Whether posix_spawn's error says the program itself could not be executed (a
 * shell's exit status 127), rather than that the system lacked resources. */
static bool pvm_proc_exec_error(int e)
{
    return e == ENOENT || e == EACCES || e == ENOEXEC || e == ENOTDIR || e == ELOOP ||
           e == ENAMETOOLONG || e == EPERM || e == ETXTBSY || e == EISDIR;
}

static int pvm_proc_attr(posix_spawnattr_t *a, int flags)
{
    sigset_t none, all;
    sigemptyset(&none);
    /* Every signal, glibc's two internal ones (32, 33) included: sigfillset leaves
     * them out, and glibc's posix_spawn then sets them to SIG_IGN in the child, which
     * keeps them ignored in the program it runs. (SIGKILL and SIGSTOP are skipped.) */
    memset(&all, 0xff, sizeof all);
    short f = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
    if (flags & PVM_SPAWN_SETSID)
        f |= POSIX_SPAWN_SETSID;
    else if (flags & PVM_SPAWN_PGROUP)
        f |= POSIX_SPAWN_SETPGROUP;
    int rc = posix_spawnattr_init(a);
    if (rc)
        return rc;
    if ((rc = posix_spawnattr_setsigmask(a, &none)) ||
        (rc = posix_spawnattr_setsigdefault(a, &all)) || (rc = posix_spawnattr_setpgroup(a, 0)) ||
        (rc = posix_spawnattr_setflags(a, f)))
        posix_spawnattr_destroy(a);
    return rc;
}

static int pvm_proc_actions(posix_spawn_file_actions_t *fa, int out_fd)
{
    int rc = posix_spawn_file_actions_init(fa);
    if (rc)
        return rc;
    if ((rc = posix_spawn_file_actions_addopen(fa, 0, "/dev/null", O_RDONLY, 0)) ||
        (rc = posix_spawn_file_actions_adddup2(fa, out_fd, 1)) ||
        (rc = posix_spawn_file_actions_adddup2(fa, out_fd, 2)) ||
        (rc = posix_spawn_file_actions_addclosefrom_np(fa, 3)))
        posix_spawn_file_actions_destroy(fa);
    return rc;
}

/* argv behind `setpriv --pdeathsig KILL --` (util-linux): posix_spawn cannot set
 * PR_SET_PDEATHSIG itself. Without setpriv, argv as it is. */
static void pvm_proc_pdeathsig_argv(char *const *argv, pvm_argv *out)
{
    if (access(PVM_SETPRIV, X_OK) == 0) {
        const char *pre[] = {PVM_SETPRIV, "--pdeathsig", "KILL", "--"};
        for (size_t i = 0; i < sizeof pre / sizeof pre[0]; i++)
            pvm_argv_add(out, pre[i]);
    }
    for (size_t i = 0; argv[i]; i++)
        pvm_argv_add(out, argv[i]);
}

/* posix_spawnp of argv as pvm_proc_start describes; returns 0 or an errno value. */
static int pvm_proc_start_errno(char *const *argv, int out_fd, int flags, pid_t *child)
{
    int low = -1; /* stdout/stderr of a caller whose 0-2 are closed: move it above 2 first */
    if (out_fd <= 2 && (low = out_fd, out_fd = fcntl(low, F_DUPFD_CLOEXEC, 3)) < 0)
        return errno;
    pvm_argv wrapped;
    pvm_argv_init(&wrapped);
    if (flags & PVM_SPAWN_PDEATHSIG) {
        pvm_proc_pdeathsig_argv(argv, &wrapped);
        argv = wrapped.v;
    }
    posix_spawnattr_t attr;
    posix_spawn_file_actions_t fa;
    int rc = pvm_proc_attr(&attr, flags);
    if (rc == 0 && (rc = pvm_proc_actions(&fa, out_fd)) != 0)
        posix_spawnattr_destroy(&attr);
    if (rc == 0) {
        rc = posix_spawnp(child, argv[0], &fa, &attr, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&attr);
    }
    pvm_argv_free(&wrapped);
    if (low >= 0)
        close(out_fd);
    return rc;
}

int pvm_proc_start(char *const *argv, int out_fd, int flags, pid_t *child, pvm_error *err)
{
    int rc = pvm_proc_start_errno(argv, out_fd, flags, child);
    if (rc)
        return pvm_error_set(err, PVM_E_IO, "cannot run %s: %s", argv[0], strerror(rc));
    return 0;
}

typedef struct pvm_child_wait {
    pid_t pid;
    int status;
} pvm_child_wait;

/* Reaps exactly this child when it has ended: never waitpid(-1), so the
 * statuses of the caller's other children stay theirs. */
static bool pvm_proc_reaped(void *ctx)
{
    pvm_child_wait *w = ctx;
    int ws = 0;
    pid_t r = waitpid(w->pid, &ws, WNOHANG);
    if (r == w->pid) {
        w->status = pvm_proc_status_of(ws);
        return true;
    }
    if (r < 0 && errno != EINTR) { /* not ours (ECHILD): nothing to wait for */
        w->status = 255;
        return true;
    }
    return false;
}

int pvm_proc_wait_child(pid_t child, int timeout_ms, const pvm_progress *progress,
                        const char *step, int *status, pvm_error *err)
{
    pvm_child_wait w = {.pid = child, .status = 255};
    int pidfd = pvm_pidfd_open(child); /* readable once the child has ended */
    int rc = pvm_wait_until_fd(pidfd, pvm_proc_reaped, &w, timeout_ms,
                               pidfd >= 0 ? PVM_PIDFD_CHECK_MS : PVM_PID_POLL_MS, progress, step,
                               err);
    if (pidfd >= 0)
        close(pidfd);
    if (rc == 1)
        *status = w.status;
    return rc;
}

/* Ends a child that is being given up on and reaps it (SIGKILL cannot be refused). */
static void pvm_proc_kill_reap(pid_t pid)
{
    kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
}

/* What a child printed so far: a growing buffer, bounded by PVM_PROC_OUTPUT_MAX. */
typedef struct pvm_collect {
    int fd;
    char *buf;
    size_t len, cap;
    bool eof, too_big;
    int error;
} pvm_collect;

/* Reads what the pipe holds now; true at end of output, past the bound, or on error. */
static bool pvm_collect_step(void *ctx)
{
    pvm_collect *c = ctx;
    for (;;) {
        if (c->cap - c->len < 2) {
            c->cap *= 2;
            c->buf = pvm_xrealloc(c->buf, c->cap);
        }
        ssize_t n = read(c->fd, c->buf + c->len, c->cap - c->len - 1);
        if (n > 0) {
            c->len += (size_t)n;
            c->buf[c->len] = '\0';
            if (c->len > PVM_PROC_OUTPUT_MAX) {
                c->too_big = true;
                return true;
            }
        } else if (n == 0) {
            c->eof = true;
            return true;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return false;
        } else if (errno != EINTR) {
            c->error = errno;
            return true;
        }
    }
}

/* The end of a bounded run: output read to EOF, then the exit within what is left of
 * the time. Returns 0 with *status, or -1 (the child killed and reaped). */
static int pvm_proc_run_finish(char *const *argv, pid_t pid, int timeout_ms, int64_t end,
                               const pvm_collect *c, int *status, pvm_error *err)
{
    int left = end == INT64_MAX ? -1 : (int)(end > pvm_proc_now_ms() ? end - pvm_proc_now_ms() : 0);
    if (c->eof && pvm_proc_wait_child(pid, left, NULL, NULL, status, err) == 1)
        return 0;
    pvm_proc_kill_reap(pid);
    if (c->too_big)
        return pvm_error_set(err, PVM_E_IO, "%s printed more than %u MiB; it was stopped",
                             argv[0], PVM_PROC_OUTPUT_MAX >> 20);
    if (c->error)
        return pvm_error_set(err, PVM_E_IO, "%s: cannot read its output: %s", argv[0],
                             strerror(c->error));
    return pvm_error_set(err, PVM_E_IO, "%s did not finish within %d s; it was stopped", argv[0],
                         (timeout_ms + 999) / 1000);
}

int pvm_proc_run(char *const *argv, int timeout_ms, char **out, int *status, pvm_error *err)
{
    *out = NULL;
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return pvm_error_set(err, PVM_E_IO, "%s: cannot make a pipe: %s", argv[0], strerror(errno));
    int64_t end = timeout_ms < 0 ? INT64_MAX : pvm_proc_now_ms() + timeout_ms;
    pid_t pid;
    int e = pvm_proc_start_errno(argv, p[1], 0, &pid);
    close(p[1]);
    if (e) {
        close(p[0]);
        if (!pvm_proc_exec_error(e))
            return pvm_error_set(err, PVM_E_IO, "cannot run %s: %s", argv[0], strerror(e));
        *out = pvm_xasprintf("cannot run %s: %s\n", argv[0], strerror(e));
        *status = 127; /* as a shell says it */
        return 0;
    }
    fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK);
    pvm_collect c = {.fd = p[0], .buf = pvm_xmalloc(4096), .cap = 4096};
    c.buf[0] = '\0';
    int w = pvm_wait_until_fd(p[0], pvm_collect_step, &c, timeout_ms, PVM_PIDFD_CHECK_MS, NULL,
                              NULL, err);
    close(p[0]);
    if (w != 1)
        c.eof = false;
    if (pvm_proc_run_finish(argv, pid, timeout_ms, end, &c, status, err) < 0) {
        free(c.buf);
        return -1;
    }
    *out = c.buf;
    return 0;
}

int pvm_proc_spawn(char *const *argv, const char *log_path, pid_t *child, pvm_error *err)
{
    int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0)
        return pvm_error_set(err, PVM_E_IO, "%s: cannot open: %s", log_path, strerror(errno));
    /* a new session: no controlling terminal, so QEMU survives the SSH session */
    int rc = pvm_proc_start(argv, fd, PVM_SPAWN_SETSID, child, err);
    close(fd);
    return rc;
}

/* Reads at most the last `max` bytes of a file into a malloc'd string. */
char *pvm_proc_read_end(const char *path, size_t max)
{
    FILE *fp = fopen(path, "re");
    if (!fp)
        return NULL;
    if (fseek(fp, 0, SEEK_END) == 0) {
        long size = ftell(fp);
        if (size > (long)max)
            fseek(fp, size - (long)max, SEEK_SET);
        else
            rewind(fp);
    }
    char *buf = pvm_xmalloc(max + 1);
    size_t n = fread(buf, 1, max, fp);
    fclose(fp);
    buf[n] = '\0';
    for (size_t i = 0; i < n; i++) { /* printable text: no terminal escapes reach a reason */
        unsigned char c = (unsigned char)buf[i];
        if ((c < 0x20 && c != '\n') || c == 0x7f)
            buf[i] = ' ';
    }
    return buf;
}

void pvm_proc_tail(const char *path, int lines, char *out, size_t size)
{
    if (size == 0)
        return;
    out[0] = '\0';
    if (lines < 1) /* nothing asked for (the window below needs at least one slot) */
        return;
    char *buf = pvm_proc_read_end(path, 4096);
    if (!buf)
        return;
    /* Start at the last `lines` non-empty lines, then keep whole lines only. */
    char *start = buf;
    int seen = 0;
    for (char *p = buf + strlen(buf); p > buf; p--) {
        if (p[-1] != '\n' || !p[0] || p[0] == '\n')
            continue;
        if (++seen == lines) {
            start = p;
            break;
        }
    }
    pvm_text_lines(start, true, out, size);
    free(buf);
}

void pvm_proc_last_line(const char *path, char *out, size_t size)
{
    pvm_proc_tail(path, 1, out, size);
}

int pvm_proc_remove_tree(const char *dir, pvm_error *err)
{
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT)
            return 0;
        return pvm_error_set(err, PVM_E_IO, "%s: cannot open: %s", dir, strerror(errno));
    }
    struct dirent *de;
    int rc = 0;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (unlinkat(dirfd(d), de->d_name, 0) == 0 || errno == ENOENT)
            continue;
        if (errno == EISDIR) { /* a real folder (a symlink is unlinked, never followed) */
            char *sub = pvm_xasprintf("%s/%s", dir, de->d_name);
            rc = pvm_proc_remove_tree(sub, err);
            free(sub);
            if (rc == 0)
                continue;
            break;
        }
        rc = pvm_error_set(err, PVM_E_IO, "%s/%s: cannot remove: %s", dir, de->d_name,
                           strerror(errno));
        break;
    }
    closedir(d);
    if (rc == 0 && rmdir(dir) < 0 && errno != ENOENT)
        rc = pvm_error_set(err, PVM_E_IO, "%s: cannot remove: %s", dir, strerror(errno));
    return rc;
}
