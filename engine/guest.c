/* guest.c - the small starter guest: runs the guest builder (tests/guest/build in a
 * checkout, SHARE/guest/build installed) and keeps its kernel and initramfs in
 * HOME/guest/. Called by cli/cmd_guest.c and, on the engine thread, by the TUI's
 * first-run starter (tui/starter.c). */
#include "proc.h"        /* pvm_wait_until */
#include "vm_internal.h" /* the spawning helpers of proc.c */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define PVM_GUEST_BUILD_LIMIT_MS (30 * 60 * 1000) /* downloads on a slow mirror included */
#define PVM_GUEST_TICK_MS 100

/* ------------------------------------------------------------- paths */

static int pvm_guest_paths(pvm_engine *e, pvm_guest *g, pvm_error *err)
{
    memset(g, 0, sizeof *g);
    const char *home = pvm_engine_home(e);
    int n = snprintf(g->dir, sizeof g->dir, "%s/guest", home);
    if (n < 0 || (size_t)n + 32 > sizeof g->dir)
        return pvm_error_set(err, PVM_E_INVALID, "guest folder: %s is too long a path", home);
    snprintf(g->kernel, sizeof g->kernel, "%.990s/vmlinuz", g->dir);
    snprintf(g->initrd, sizeof g->initrd, "%.990s/initramfs.gz", g->dir);
    snprintf(g->log, sizeof g->log, "%.990s/build.log", g->dir);
    pvm_share_find("tests/guest/build", "guest/build", g->builder, sizeof g->builder);
    return 0;
}

/* The first line of dir/name into out ("" when missing). */
static void pvm_guest_read_line(const char *dir, const char *name, char *out, size_t size)
{
    char path[PVM_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    out[0] = '\0';
    FILE *fp = fopen(path, "re");
    if (!fp)
        return;
    if (fgets(out, (int)size, fp))
        out[strcspn(out, "\r\n")] = '\0';
    else
        out[0] = '\0';
    fclose(fp);
}

static bool pvm_guest_file_ok(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0;
}

int pvm_guest_info(pvm_engine *e, pvm_guest *out, pvm_error *err)
{
    pvm_guest g;
    if (pvm_guest_paths(e, &g, err) < 0)
        return -1;
    g.built = pvm_guest_file_ok(g.kernel) && pvm_guest_file_ok(g.initrd);
    if (g.built) {
        pvm_guest_read_line(g.dir, "kernel-version", g.kernel_version, sizeof g.kernel_version);
        pvm_guest_read_line(g.dir, "source", g.source, sizeof g.source);
    }
    *out = g;
    return 0;
}

/* ------------------------------------------------------------- progress */

/* Follows the build log: each new "guest: STEP" line is reported as a step. */
typedef struct pvm_guest_follow {
    int fd;          /* the log, read from where we stopped */
    char part[512];  /* an unfinished line */
    size_t len;
    const pvm_progress *progress;
} pvm_guest_follow;

static void pvm_guest_line(pvm_guest_follow *f, const char *line)
{
    if (strncmp(line, "guest: ", 7) != 0 || !f->progress || !f->progress->report)
        return;
    char step[256];
    size_t n = 0;
    for (const char *p = line + 7; *p && n + 1 < sizeof step; p++) /* printable only */
        step[n++] = (unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f ? *p : '?';
    step[n] = '\0';
    f->progress->report(f->progress->ctx, step, -1);
}

static void pvm_guest_follow_read(pvm_guest_follow *f)
{
    char buf[4096];
    ssize_t n;
    while ((n = read(f->fd, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < n; i++) {
            if (buf[i] == '\n') {
                f->part[f->len] = '\0';
                pvm_guest_line(f, f->part);
                f->len = 0;
            } else if (f->len + 1 < sizeof f->part) {
                f->part[f->len++] = buf[i];
            }
        }
    }
}

/* ------------------------------------------------------------- the builder */

/* Ends the builder's whole process group (it runs in its own session): TERM, up to 5 s
 * for the builder to clean up and end, then KILL for whatever of the group is left. */
static void pvm_guest_kill(pid_t pid)
{
    int status;
    kill(-pid, SIGTERM);
    bool ended = pvm_proc_wait_child(pid, 5000, NULL, NULL, &status, NULL) == 1;
    kill(-pid, SIGKILL);
    if (!ended)
        pvm_proc_wait_child(pid, 5000, NULL, NULL, &status, NULL);
}

/* What the wait for the builder watches: its pid and its log. */
typedef struct pvm_guest_wait {
    pid_t pid;
    int status;
    pvm_guest_follow *follow;
} pvm_guest_wait;

/* pvm_wait_until's check: new log lines reported, true once the builder has ended. */
static bool pvm_guest_done(void *ctx)
{
    pvm_guest_wait *w = ctx;
    if (w->follow->fd >= 0)
        pvm_guest_follow_read(w->follow);
    return pvm_proc_wait_child(w->pid, 0, NULL, NULL, &w->status, NULL) == 1;
}

/* Runs the builder until it ends, reporting its steps; *status is its exit status. */
static int pvm_guest_run(const pvm_guest *g, bool force, const pvm_progress *progress,
                         int *status, pvm_error *err)
{
    int trunc = open(g->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (trunc < 0)
        return pvm_error_set(err, PVM_E_IO, "%s: cannot create: %s", g->log, strerror(errno));
    close(trunc);
    char *argv[] = {(char *)g->builder, force ? "--force" : NULL, NULL};
    pid_t pid;
    if (pvm_proc_spawn(argv, g->log, &pid, err) < 0)
        return -1;
    pvm_guest_follow f = {.fd = open(g->log, O_RDONLY | O_CLOEXEC), .progress = progress};
    pvm_guest_wait w = {.pid = pid, .follow = &f};
    /* Steps come from the log; the wait itself only watches the cancel descriptor. */
    pvm_progress cancel_only = {progress ? progress->cancel_fd : 0, NULL, NULL};
    int r = pvm_wait_until(pvm_guest_done, &w, PVM_GUEST_BUILD_LIMIT_MS, PVM_GUEST_TICK_MS,
                           &cancel_only, "guest build", err);
    if (r <= 0)
        pvm_guest_kill(pid);
    if (r == 0)
        pvm_error_set(err, PVM_E_IO, "guest build: no result after %d minutes; it was stopped "
                      "(log: %s)", PVM_GUEST_BUILD_LIMIT_MS / 60000, g->log);
    if (f.fd >= 0) {
        pvm_guest_follow_read(&f);
        close(f.fd);
    }
    *status = w.status;
    return r == 1 ? 0 : -1;
}

/* ------------------------------------------------------------- copying */

static int pvm_guest_copy(const char *from, const char *to, pvm_error *err)
{
    char tmp[PVM_PATH_MAX + 16];
    snprintf(tmp, sizeof tmp, "%s.tmp", to);
    int in = open(from, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return pvm_error_set(err, PVM_E_IO, "%s: cannot open: %s", from, strerror(errno));
    int out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0) {
        close(in);
        return pvm_error_set(err, PVM_E_IO, "%s: cannot create: %s", tmp, strerror(errno));
    }
    char buf[65536];
    ssize_t n;
    int bad = 0;
    while ((n = read(in, buf, sizeof buf)) > 0 && !bad)
        bad = pvm_write_all(out, buf, (size_t)n) < 0;
    bad |= n < 0;
    bad |= close(out) != 0;
    close(in);
    if (bad || rename(tmp, to) < 0) {
        int e = errno;
        unlink(tmp);
        return pvm_error_set(err, PVM_E_IO, "%s: cannot write: %s", to, strerror(e ? e : EIO));
    }
    return 0;
}

static int pvm_guest_write_line(const char *dir, const char *name, const char *text,
                                pvm_error *err)
{
    char path[PVM_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *fp = fopen(path, "we");
    if (!fp)
        return pvm_error_set(err, PVM_E_IO, "%s: cannot write: %s", path, strerror(errno));
    fprintf(fp, "%s\n", text);
    if (fclose(fp) != 0)
        return pvm_error_set(err, PVM_E_IO, "%s: cannot write", path);
    return 0;
}

/* Copies the builder's result folder `from` into HOME/guest (unless it is already
 * the copy there), kernel-version and source included. */
static int pvm_guest_install(pvm_guest *g, const char *from, bool force, pvm_error *err)
{
    char k[PVM_PATH_MAX + 16], i[PVM_PATH_MAX + 16], kv[64];
    snprintf(k, sizeof k, "%s/vmlinuz", from);
    snprintf(i, sizeof i, "%s/initramfs.gz", from);
    if (from[0] != '/' || !pvm_guest_file_ok(k) || !pvm_guest_file_ok(i))
        return pvm_error_set(err, PVM_E_IO, "guest build: the builder named no folder with "
                             "vmlinuz and initramfs.gz (log: %s)", g->log);
    pvm_guest_read_line(g->dir, "source", g->source, sizeof g->source);
    bool same = !force && strcmp(g->source, from) == 0 && pvm_guest_file_ok(g->kernel) &&
                pvm_guest_file_ok(g->initrd);
    if (!same && (pvm_guest_copy(k, g->kernel, err) < 0 || pvm_guest_copy(i, g->initrd, err) < 0))
        return -1;
    pvm_guest_read_line(from, "kernel-version", kv, sizeof kv);
    if (!same && (pvm_guest_write_line(g->dir, "kernel-version", kv, err) < 0 ||
                  pvm_guest_write_line(g->dir, "source", from, err) < 0))
        return -1;
    pvm_strlcpy(g->kernel_version, kv, sizeof g->kernel_version);
    pvm_strlcpy(g->source, from, sizeof g->source);
    g->built = true;
    return 0;
}

/* One build per home at a time (the TUI's starter and the CLI may both ask):
 * HOME/guest/lock, flock'd; a second build is PVM_E_BUSY. Returns the lock's fd. */
static int pvm_guest_lock(const pvm_guest *g, pvm_error *err)
{
    char path[PVM_PATH_MAX + 8];
    snprintf(path, sizeof path, "%s/lock", g->dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return pvm_error_set(err, PVM_E_IO, "%s: cannot open: %s", path, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        close(fd);
        return pvm_error_set(err, PVM_E_BUSY, "guest build: another guest build for this data "
                             "folder is running (%s)", path);
    }
    return fd;
}

static int pvm_guest_build_locked(pvm_guest *g, bool force, const pvm_progress *progress,
                                  pvm_error *err)
{
    if (progress && progress->report)
        progress->report(progress->ctx, "running the guest builder", -1);
    int status = 0;
    if (pvm_guest_run(g, force, progress, &status, err) < 0)
        return -1;
    if (status != 0) {
        char tail[400];
        pvm_proc_tail(g->log, 3, tail, sizeof tail);
        return pvm_error_set(err, PVM_E_IO, "guest build failed (exit status %d): %s (log: %s)",
                             status, tail[0] ? tail : "no output", g->log);
    }
    char last[PVM_PATH_MAX];
    pvm_proc_last_line(g->log, last, sizeof last);
    if (pvm_guest_install(g, last, force, err) < 0)
        return -1;
    if (progress && progress->report)
        progress->report(progress->ctx, "guest ready", 1);
    return 0;
}

int pvm_guest_build(pvm_engine *e, bool force, const pvm_progress *progress, pvm_guest *out,
                    pvm_error *err)
{
    pvm_guest g;
    if (pvm_guest_paths(e, &g, err) < 0)
        return -1;
    if (!g.builder[0])
        return pvm_error_set(err, PVM_E_NOTFOUND, "guest build: the guest builder is neither "
                             "beside the program (tests/guest/build) nor in %s/guest/build "
                             "(make install puts it there)", pvm_share_dir());
    if (mkdir(g.dir, 0700) < 0 && errno != EEXIST)
        return pvm_error_set(err, PVM_E_IO, "%s: cannot create: %s", g.dir, strerror(errno));
    int lock = pvm_guest_lock(&g, err);
    if (lock < 0)
        return -1;
    int rc = pvm_guest_build_locked(&g, force, progress, err);
    close(lock);
    if (rc == 0)
        *out = g;
    return rc;
}
