/* proc.c - processes and files around a running VM: the private runtime
 * folder, pid files, liveness checks that survive pid reuse, spawning QEMU
 * and qemu-img with an argv (never a shell), log tails. Called by vm*.c. */
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
#include <sys/stat.h>
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
        case PVM_WAIT_WATCH:
            if (done(ctx))
                return 1;
            watch_fd = -1; /* readable but not done: from now on the interval alone */
            break;
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

bool pvm_proc_wait_gone(int pid, int timeout_ms)
{
    int64_t end = pvm_proc_now_ms() + timeout_ms;
    while (pvm_proc_alive(pid)) {
        if (pvm_proc_now_ms() >= end)
            return false;
        pvm_proc_sleep_ms(50);
    }
    return true;
}

static int pvm_proc_status_of(int ws)
{
    if (WIFEXITED(ws))
        return WEXITSTATUS(ws);
    if (WIFSIGNALED(ws))
        return 128 + WTERMSIG(ws);
    return 255;
}

void pvm_proc_exec_child(char *const *argv, int outfd)
{
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) {
        dup2(devnull, 0);
        if (devnull > 2)
            close(devnull);
    }
    dup2(outfd, 1);
    dup2(outfd, 2);
    if (outfd > 2)
        close(outfd);
    signal(SIGPIPE, SIG_DFL);
    execvp(argv[0], argv);
    dprintf(2, "cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

/* Reads the child's output into out (the rest drained) until EOF or the deadline
 * (end_ms < 0: none). Returns false when the deadline passed first. */
static bool pvm_proc_collect(int fd, int64_t end_ms, char *out, size_t out_size)
{
    size_t len = 0;
    char sink[512];
    bool done = false;
    while (!done) {
        int wait = end_ms < 0 ? -1 : (int)(end_ms - pvm_proc_now_ms());
        if (end_ms >= 0 && wait <= 0)
            break;
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int pr = poll(&pfd, 1, wait);
        if (pr < 0 && errno != EINTR)
            break; /* cannot watch the pipe: stop reading, reap the child */
        if (pr <= 0)
            continue; /* EINTR, or the deadline: checked at the top */
        char *dst = len + 1 < out_size ? out + len : sink;
        size_t room = len + 1 < out_size ? out_size - 1 - len : sizeof sink;
        ssize_t n = read(fd, dst, room);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            done = true;
        else if (dst != sink)
            len += (size_t)n;
    }
    if (out_size)
        out[len < out_size ? len : out_size - 1] = '\0';
    return done;
}

int pvm_proc_run(char *const *argv, int timeout_ms, char *out, size_t out_size, int *status,
                 pvm_error *err)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return pvm_error_set(err, PVM_E_IO, "%s: cannot make a pipe: %s", argv[0], strerror(errno));
    pid_t pid = fork();
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        return pvm_error_set(err, PVM_E_IO, "%s: cannot fork: %s", argv[0], strerror(errno));
    }
    if (pid == 0) {
        close(p[0]);
        pvm_proc_exec_child(argv, p[1]);
    }
    close(p[1]);
    int64_t end = timeout_ms < 0 ? -1 : pvm_proc_now_ms() + timeout_ms;
    bool finished = pvm_proc_collect(p[0], end, out, out_size);
    close(p[0]);
    if (!finished)
        kill(pid, SIGKILL);
    int ws = 0;
    while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
        ;
    if (!finished)
        return pvm_error_set(err, PVM_E_IO, "%s did not finish within %d s; it was stopped",
                             argv[0], timeout_ms / 1000);
    *status = pvm_proc_status_of(ws);
    return 0;
}

int pvm_proc_spawn(char *const *argv, const char *log_path, pid_t *child, pvm_error *err)
{
    int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0)
        return pvm_error_set(err, PVM_E_IO, "%s: cannot open: %s", log_path, strerror(errno));
    pid_t pid = fork();
    if (pid < 0) {
        close(fd);
        return pvm_error_set(err, PVM_E_IO, "%s: cannot fork: %s", argv[0], strerror(errno));
    }
    if (pid == 0) {
        setsid(); /* no controlling terminal: QEMU survives the SSH session */
        pvm_proc_exec_child(argv, fd);
    }
    close(fd);
    *child = pid;
    return 0;
}

int pvm_proc_wait_child(pid_t child, int timeout_ms, int *status)
{
    int64_t end = pvm_proc_now_ms() + timeout_ms;
    for (;;) {
        int ws = 0;
        pid_t r = waitpid(child, &ws, WNOHANG);
        if (r == child) {
            *status = pvm_proc_status_of(ws);
            return 1;
        }
        if (r < 0 && errno != EINTR) {
            *status = 255;
            return 1;
        }
        if (pvm_proc_now_ms() >= end)
            return 0;
        pvm_proc_sleep_ms(20);
    }
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
    out[0] = '\0';
    char *buf = pvm_proc_read_end(path, 4096);
    if (!buf)
        return;
    if (lines < 1)
        lines = 1;
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
