/* build.c - builds the stealth QEMU: Debian's source of the installed QEMU plus the
 * project's patch series (patches/qemu-7.2), fetched, patched, configured and compiled
 * (each step cancellable) into a cache folder outside the clone keyed by the source
 * version and the series' hash (build_state.c knows what is built). Called by
 * cli/cmd_qemu.c (`qemu build`). */
#include "qemu/build.h"
#include "vm_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PVM_QB_FETCH_MS (10 * 60 * 1000) /* apt-get update/source, dpkg-source, patch */
#define PVM_QB_CONFIGURE_MS (15 * 60 * 1000)

/* The configure line of QEMU-NOTES.md: the x86_64 system emulator with TCG, KVM and
 * user networking, VNC (the engine's display: -vnc unix:...) and the TPM (--tpm's
 * tpm-crb/tpm-tis with swtpm: Windows 11 VMs run this binary too); no docs, tools, guest
 * agent, user-mode emulation or debug info. Part of the key: a change rebuilds. */
const char *const pvm_qb_configure[] = {
    "--target-list=x86_64-softmmu", "--without-default-features", "--enable-tcg",
    "--enable-kvm", "--enable-slirp", "--enable-vnc", "--enable-tpm", "--disable-docs",
    "--disable-tools",
    "--disable-guest-agent", "--disable-user", "--disable-debug-info", "--disable-werror",
};
const size_t pvm_qb_nconfigure = sizeof pvm_qb_configure / sizeof pvm_qb_configure[0];

/* What the build needs on the host: a program, or a pkg-config module, and the Debian
 * package that brings it (the build-dependencies of this configure line). */
typedef struct pvm_qb_need {
    const char *prog;   /* in PATH, or NULL */
    const char *module; /* pkg-config module, or NULL */
    const char *deb;
} pvm_qb_need;

static const pvm_qb_need pvm_qb_needs[] = {
    { "apt-get", NULL, "apt" },          { "dpkg-source", NULL, "dpkg-dev" },
    { "patch", NULL, "patch" },          { "env", NULL, "coreutils" },
    { "cc", NULL, "gcc" },               { "python3", NULL, "python3" },
    { "ninja", NULL, "ninja-build" },    { "meson", NULL, "meson" },
    { "pkg-config", NULL, "pkg-config" }, { NULL, "glib-2.0", "libglib2.0-dev" },
    { NULL, "pixman-1", "libpixman-1-dev" }, { NULL, "slirp", "libslirp-dev" },
    { NULL, "zlib", "zlib1g-dev" },
};

#define PVM_QB_DEBS "apt dpkg-dev patch gcc python3 python3-venv ninja-build meson " \
                    "pkg-config libglib2.0-dev libpixman-1-dev libslirp-dev zlib1g-dev"

static bool pvm_qb_in_path(const char *prog)
{
    const char *path = getenv("PATH");
    char *copy = pvm_xstrdup(path && *path ? path : "/usr/bin:/bin");
    bool found = false;
    char *save = NULL;
    for (char *d = strtok_r(copy, ":", &save); d && !found; d = strtok_r(NULL, ":", &save)) {
        char *full = pvm_xasprintf("%s/%s", d, prog);
        found = access(full, X_OK) == 0;
        free(full);
    }
    free(copy);
    return found;
}

/* ------------------------------------------------------------- build */

/* The first thing the build needs and the host lacks, named with its package. */
static int pvm_qb_check_needs(pvm_error *err)
{
    for (size_t i = 0; i < sizeof pvm_qb_needs / sizeof pvm_qb_needs[0]; i++) {
        const pvm_qb_need *q = &pvm_qb_needs[i];
        bool ok;
        if (q->prog) {
            ok = pvm_qb_in_path(q->prog);
        } else {
            char *argv[] = { "pkg-config", "--exists", (char *)q->module, NULL };
            char *out = NULL;
            int status = 1;
            ok = pvm_proc_run(argv, 10000, &out, &status, NULL) == 0 && status == 0;
            free(out);
        }
        if (!ok)
            return pvm_error_set(err, PVM_E_NOTFOUND,
                                 "qemu build: missing %s %s (Debian package %s); install the "
                                 "build's packages as root: apt-get install %s (or run "
                                 "`make stealth-qemu` as root, which installs them)",
                                 q->prog ? "program" : "development files of",
                                 q->prog ? q->prog : q->module, q->deb, PVM_QB_DEBS);
    }
    return 0;
}

typedef struct pvm_qb {
    const pvm_progress *progress;
    pvm_qemu_stealth *s;
    char work[PVM_PATH_MAX];   /* cache_dir/KEY.work: everything temporary */
    char src[PVM_PATH_MAX];    /* work/qemu: the unpacked, patched source */
    char log[PVM_PATH_MAX];    /* cache_dir/KEY.log: the build's whole output */
    char series[PVM_PATH_MAX];
} pvm_qb;

static void pvm_qb_step(const pvm_qb *b, const char *step, double fraction)
{
    if (b->progress && b->progress->report)
        b->progress->report(b->progress->ctx, step, fraction);
}

static int pvm_qb_mkdirs(const char *path, pvm_error *err)
{
    char buf[PVM_PATH_MAX];
    pvm_strlcpy(buf, path, sizeof buf);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return pvm_error_set(err, PVM_E_IO, "qemu build: %s: %s", buf, strerror(errno));
        *p = '/';
    }
    if (mkdir(buf, 0755) != 0 && errno != EEXIST)
        return pvm_error_set(err, PVM_E_IO, "qemu build: %s: %s", buf, strerror(errno));
    return 0;
}

/* The private apt configuration: a deb-src list for this release, its own lists, cache
 * and an empty sources.list.d, so the system's apt setup is read for nothing and
 * changed in nothing. Fills opts (the -o arguments, malloc'd strings) and returns
 * their count. */
static int pvm_qb_apt_setup(pvm_qb *b, char *opts[12], pvm_error *err)
{
    char codename[64] = "";
    FILE *f = fopen("/etc/os-release", "re");
    if (f) {
        char line[256];
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "VERSION_CODENAME=%63[a-z]", codename) == 1)
                break;
        fclose(f);
    }
    if (!codename[0])
        return pvm_error_set(err, PVM_E_NOTFOUND, "qemu build: /etc/os-release names no "
                             "Debian release (VERSION_CODENAME); this build needs Debian");
    char *list = pvm_xasprintf("%s/apt/sources.list", b->work);
    char *parts = pvm_xasprintf("%s/apt/sources.list.d", b->work);
    char *state = pvm_xasprintf("%s/apt/state", b->work);
    char *lists = pvm_xasprintf("%s/apt/state/lists/partial", b->work);
    char *cache = pvm_xasprintf("%s/apt/cache/archives/partial", b->work);
    int rc = pvm_qb_mkdirs(parts, err) || pvm_qb_mkdirs(lists, err) ||
             pvm_qb_mkdirs(cache, err) ? -1 : 0;
    if (rc == 0) {
        char *text = pvm_xasprintf(
            "deb-src http://deb.debian.org/debian %s main\n"
            "deb-src http://deb.debian.org/debian %s-updates main\n"
            "deb-src http://deb.debian.org/debian-security %s-security main\n",
            codename, codename, codename);
        rc = pvm_qb_write(list, text, err);
        free(text);
    }
    int n = 0;
    opts[n++] = pvm_xasprintf("Dir::Etc::SourceList=%s", list);
    opts[n++] = pvm_xasprintf("Dir::Etc::SourceParts=%s", parts);
    opts[n++] = pvm_xasprintf("Dir::State=%s/apt/state", b->work);
    opts[n++] = pvm_xstrdup("Dir::State::status=/var/lib/dpkg/status");
    opts[n++] = pvm_xasprintf("Dir::Cache=%s/apt/cache", b->work);
    opts[n++] = pvm_xstrdup("APT::Sandbox::User=root");
    free(list);
    free(parts);
    free(state);
    free(lists);
    free(cache);
    return rc < 0 ? -1 : n;
}

static int pvm_qb_logged(pvm_qb *b, char *const *argv, int timeout_ms, const char *step,
                         pvm_error *err);

/* apt-get [-o OPT]... ARGS..., run in dir (env -C: posix_spawn has no working folder),
 * its output in the build log, a cancel ending it and what it started. */
static int pvm_qb_apt(pvm_qb *b, char *opts[], int nopts, const char *dir, const char *what,
                      const char *const *args, pvm_error *err)
{
    char *argv[48];
    int n = 0;
    argv[n++] = "env";
    argv[n++] = "-C";
    argv[n++] = (char *)dir;
    argv[n++] = "apt-get";
    argv[n++] = "-q";
    for (int i = 0; i < nopts; i++) {
        argv[n++] = "-o";
        argv[n++] = opts[i];
    }
    for (int i = 0; args[i] && n < 47; i++)
        argv[n++] = (char *)args[i];
    argv[n] = NULL;
    return pvm_qb_logged(b, argv, PVM_QB_FETCH_MS, what, err);
}

/* Fetches the source package of the installed version into work/ and unpacks it
 * (dpkg-source applies Debian's own patches) into src. */
static int pvm_qb_fetch(pvm_qb *b, pvm_error *err)
{
    char *opts[12];
    int nopts = pvm_qb_apt_setup(b, opts, err);
    if (nopts < 0)
        return -1;
    const char *update[] = { "update", NULL };
    int rc = pvm_qb_apt(b, opts, nopts, b->work, "apt-get update (private deb-src list)",
                        update, err);
    char *want = pvm_xasprintf("qemu=%s", b->s->source_version);
    if (rc == 0) {
        const char *source[] = { "source", "--download-only", want, NULL };
        rc = pvm_qb_apt(b, opts, nopts, b->work, "apt-get source qemu (about 24 MB)", source,
                        err);
    }
    free(want);
    for (int i = 0; i < nopts; i++)
        free(opts[i]);
    if (rc < 0)
        return -1;
    const char *v = strchr(b->s->source_version, ':');
    v = v ? v + 1 : b->s->source_version;
    char *dsc = pvm_xasprintf("%s/qemu_%s.dsc", b->work, v);
    char *argv[] = { "dpkg-source", "--no-check", "-x", dsc, b->src, NULL };
    rc = pvm_qb_logged(b, argv, PVM_QB_FETCH_MS, "dpkg-source -x (Debian's patches)", err);
    free(dsc);
    return rc;
}

static int pvm_qb_patch(pvm_qb *b, pvm_error *err)
{
    char **names = NULL;
    int n = 0;
    if (pvm_qb_series(b->series, &names, &n, err) < 0)
        return -1;
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        char step[160];
        snprintf(step, sizeof step, "patch %d/%d: %.120s", i + 1, n, names[i]);
        pvm_qb_step(b, step, (double)i / n);
        char *file = pvm_xasprintf("%s/%s", b->series, names[i]);
        char *argv[] = { "patch", "-p1", "--forward", "--batch", "-d", b->src, "-i", file,
                         NULL };
        rc = pvm_qb_logged(b, argv, 60000, step, err);
        free(file);
    }
    pvm_qb_names_free(names, n);
    return rc;
}

typedef struct pvm_qb_wait {
    pid_t child;
    int status;
    bool done;
    const pvm_qb *b;
    const char *step;
    int64_t last_report;
} pvm_qb_wait;

/* The last "[N/M]" ninja printed in the log: the fraction done, or -1. */
static double pvm_qb_ninja_fraction(const char *log)
{
    int fd = open(log, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    char buf[4096];
    off_t end = lseek(fd, 0, SEEK_END);
    off_t from = end > (off_t)sizeof buf - 1 ? end - (off_t)sizeof buf + 1 : 0;
    ssize_t got = pread(fd, buf, sizeof buf - 1, from);
    close(fd);
    if (got <= 0)
        return -1;
    buf[got] = '\0';
    double f = -1;
    for (char *p = buf; (p = strchr(p, '[')); p++) {
        unsigned a, m;
        if (sscanf(p, "[%u/%u]", &a, &m) == 2 && m > 0 && a <= m)
            f = (double)a / m;
    }
    return f;
}

static bool pvm_qb_child_done(void *ctx)
{
    pvm_qb_wait *w = ctx;
    int st;
    pid_t r = waitpid(w->child, &st, WNOHANG);
    if (r == w->child) {
        w->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        w->done = true;
        return true;
    }
    int64_t now = pvm_proc_now_ms();
    if (now - w->last_report >= 1000) {
        w->last_report = now;
        pvm_qb_step(w->b, w->step, pvm_qb_ninja_fraction(w->b->log));
    }
    return false;
}

/* Runs argv with its output appended to the build log, reporting ninja's progress;
 * a cancel kills it. */
static int pvm_qb_logged(pvm_qb *b, char *const *argv, int timeout_ms, const char *step,
                         pvm_error *err)
{
    int fd = open(b->log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return pvm_error_set(err, PVM_E_IO, "qemu build: %s: %s", b->log, strerror(errno));
    pid_t child;
    int rc = pvm_proc_start(argv, fd, PVM_SPAWN_PGROUP, &child, err);
    close(fd);
    if (rc < 0)
        return -1;
    pvm_qb_wait w = { .child = child, .b = b, .step = step };
    pvm_progress cancel_only = { .cancel_fd = b->progress ? b->progress->cancel_fd : -1 };
    pvm_qb_step(b, step, -1);
    rc = pvm_wait_until(pvm_qb_child_done, &w, timeout_ms, 250, &cancel_only, step, err);
    if (rc != 1) {
        kill(-child, SIGKILL);
        waitpid(child, NULL, 0);
        if (rc == 0)
            pvm_error_set(err, PVM_E_IO, "qemu build: %s did not finish within %d min (log: "
                          "%s)", step, timeout_ms / 60000, b->log);
        return -1;
    }
    if (w.status != 0) {
        char tail[400];
        pvm_proc_tail(b->log, 4, tail, sizeof tail);
        return pvm_error_set(err, PVM_E_IO, "qemu build: %s failed (status %d; whole log: "
                             "%s): %s", step, w.status, b->log, tail);
    }
    return 0;
}

static int pvm_qb_compile(pvm_qb *b, pvm_error *err)
{
    char *bdir = pvm_xasprintf("%s/build", b->src);
    char *argv[32];
    int n = 0;
    argv[n++] = "env";
    argv[n++] = "-C";
    argv[n++] = bdir;
    argv[n++] = "../configure";
    for (size_t i = 0; i < pvm_qb_nconfigure; i++)
        argv[n++] = (char *)pvm_qb_configure[i];
    argv[n] = NULL;
    int rc = pvm_qb_mkdirs(bdir, err);
    if (rc == 0)
        rc = pvm_qb_logged(b, argv, PVM_QB_CONFIGURE_MS, "configure", err);
    if (rc == 0) {
        char jobs[16];
        snprintf(jobs, sizeof jobs, "-j%d", pvm_host_cores());
        char *ninja[] = { "ninja", "-C", bdir, jobs, PVM_QB_BINARY, NULL };
        rc = pvm_qb_logged(b, ninja, -1, "compiling (ninja)", err);
    }
    free(bdir);
    return rc;
}

/* Puts dir (a finished build) in place as cache_dir/KEY: one rename, or, when KEY/ is
 * there already (--force), an atomic exchange (renameat2, Linux 3.15) and the old one
 * removed, so KEY/ always holds a whole build. */
static int pvm_qb_swap_in(const char *dir, const char *key_dir, pvm_error *err)
{
    if (rename(dir, key_dir) == 0)
        return 0;
    if (errno != EEXIST && errno != ENOTEMPTY)
        return pvm_error_set(err, PVM_E_IO, "qemu build: %s: %s", key_dir, strerror(errno));
    if (renameat2(AT_FDCWD, dir, AT_FDCWD, key_dir, RENAME_EXCHANGE) != 0)
        return pvm_error_set(err, PVM_E_IO, "qemu build: cannot replace %s: %s", key_dir,
                             strerror(errno));
    (void)pvm_qb_rm_rf(dir, NULL); /* now the old build; a leftover goes with the work */
    return 0;
}

/* Copies the binary into work/out/ with its stamp, then moves that folder to
 * cache_dir/KEY (pvm_qb_swap_in): an earlier build of KEY stays whole until then. */
static int pvm_qb_install(pvm_qb *b, int seconds, pvm_error *err)
{
    pvm_qemu_stealth *s = b->s;
    char *key_dir = pvm_xasprintf("%s/%s", s->cache_dir, s->key);
    char *dir = pvm_xasprintf("%s/out", b->work);
    char *from = pvm_xasprintf("%s/build/%s", b->src, PVM_QB_BINARY);
    char *to = pvm_xasprintf("%s/%s", dir, PVM_QB_BINARY);
    char *argv[] = { "cp", "-f", from, to, NULL };
    char built_at[sizeof s->built_at];
    int rc = pvm_qb_mkdirs(dir, err);
    if (rc == 0)
        rc = pvm_qb_run(argv, 60000, "copying the binary", NULL, err);
    if (rc == 0 && chmod(to, 0755) != 0)
        rc = pvm_error_set(err, PVM_E_IO, "qemu build: %s: %s", to, strerror(errno));
    if (rc == 0) {
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(built_at, sizeof built_at, "%Y-%m-%dT%H:%M:%SZ", &tm);
        char *text = pvm_xasprintf("key %s\nsource_version %s\npatch_hash %s\npatches %d\n"
                                   "build_seconds %d\nbuilt_at %s\n", s->key,
                                   s->source_version, s->patch_hash, s->npatches, seconds,
                                   built_at);
        char *stamp = pvm_xasprintf("%s/%s", dir, PVM_QB_STAMP);
        rc = pvm_qb_write(stamp, text, err);
        free(stamp);
        free(text);
    }
    if (rc == 0)
        rc = pvm_qb_swap_in(dir, key_dir, err);
    if (rc == 0) {
        pvm_strlcpy(s->built_at, built_at, sizeof s->built_at);
        s->build_seconds = seconds;
    }
    free(key_dir);
    free(dir);
    free(from);
    free(to);
    return rc;
}

/* After a failure or a cancel: no work folder stays (a failure keeps its log, which the
 * error names; a cancel's is removed too). KEY/ is never touched: the build goes there
 * only whole (pvm_qb_install), so a failed --force keeps the build it was to replace. */
static void pvm_qb_abandon(pvm_qb *b, const pvm_error *err)
{
    (void)pvm_qb_rm_rf(b->work, NULL);
    if (err && err->code == PVM_E_CANCELLED)
        unlink(b->log);
}

static int pvm_qb_run_all(pvm_qb *b, pvm_error *err)
{
    int64_t t0 = pvm_proc_now_ms();
    unlink(b->log);
    if (pvm_qb_rm_rf(b->work, err) < 0 || pvm_qb_mkdirs(b->work, err) < 0 ||
        pvm_qb_fetch(b, err) < 0 || pvm_qb_patch(b, err) < 0 || pvm_qb_compile(b, err) < 0 ||
        pvm_qb_install(b, (int)((pvm_proc_now_ms() - t0 + 500) / 1000), err) < 0) {
        pvm_qb_abandon(b, err);
        return -1;
    }
    b->s->built = true;
    pvm_qb_step(b, "removing the work folder", 1);
    (void)pvm_qb_rm_rf(b->work, NULL); /* a leftover is removed by the next build */
    return 0;
}

int pvm_qemu_stealth_build(const pvm_progress *progress, bool force, pvm_qemu_stealth *s,
                           bool *cached, pvm_error *err)
{
    *cached = false;
    if (pvm_qemu_stealth_status(s, err) < 0)
        return -1;
    if (s->built && !force) {
        *cached = true;
        return 0;
    }
    if (pvm_qb_check_needs(err) < 0 || pvm_qb_mkdirs(s->cache_dir, err) < 0)
        return -1;
    /* one build of a key at a time (make test and a user, two test runs) */
    char *lock = pvm_xasprintf("%s/%s.lock", s->cache_dir, s->key);
    int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    free(lock);
    if (fd < 0)
        return pvm_error_set(err, PVM_E_IO, "qemu build: cannot lock in %s: %s",
                             s->cache_dir, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (progress && progress->report)
            progress->report(progress->ctx, "waiting for another build of this key", -1);
        flock(fd, LOCK_EX);
    }
    int rc = 0;
    pvm_qemu_stealth again;
    if (!force && pvm_qemu_stealth_status(&again, NULL) == 0 && again.built) {
        *s = again; /* the other build finished it */
        *cached = true;
    } else {
        pvm_qb b = { .progress = progress, .s = s };
        /* pvm_qemu_stealth_status checked binary's length, longer than these */
        if (snprintf(b.work, sizeof b.work, "%s/%s.work", s->cache_dir, s->key) < 0 ||
            snprintf(b.src, sizeof b.src, "%s/qemu", b.work) < 0 ||
            snprintf(b.log, sizeof b.log, "%s/%s.log", s->cache_dir, s->key) < 0)
            rc = -1;
        pvm_strlcpy(b.series, s->series_dir, sizeof b.series);
        if (rc == 0)
            rc = pvm_qb_run_all(&b, err);
        if (rc == 0) {
            pvm_qb_step(&b, "removing older builds from the cache", 1);
            pvm_qb_prune(s);
        }
    }
    close(fd);
    return rc;
}
