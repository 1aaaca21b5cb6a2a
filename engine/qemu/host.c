/* host.c - facts about the host: online cores, memory, the QEMU version, and
 * the acceleration decision (a bounded KVM test boot whose verdict is kept in
 * HOME/accel-probe). Called by config.c, vm_ops.c (start) and doctor.c. */
#include "qemu.h"

#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <glob.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PVM_PROBE_TIMEOUT_MS 8000
#define PVM_VERSION_TIMEOUT_MS 5000
#define PVM_PROBE_BANNER "Linux version"

int pvm_host_cores(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : (int)n;
}

/* ------------------------------------------------------------ CPU share */

int pvm_host_share(int ncores, char *list, size_t size)
{
    cpu_set_t allowed;
    int have = 0, want = ncores < 1 ? 1 : ncores;
    CPU_ZERO(&allowed);
    if (sched_getaffinity(0, sizeof allowed, &allowed) < 0)
        return 0;
    size_t len = 0;
    if (size)
        list[0] = '\0';
    /* the last `want` allowed CPUs: the first ones are where the host's own work lands */
    int picked[CPU_SETSIZE];
    for (int cpu = CPU_SETSIZE - 1; cpu >= 0 && have < want; cpu--)
        if (CPU_ISSET(cpu, &allowed))
            picked[have++] = cpu;
    for (int i = have - 1; i >= 0 && size; i--) {
        int n = snprintf(list + len, size - len, "%s%d", len ? "," : "", picked[i]);
        if (n < 0 || (size_t)n >= size - len)
            break;
        len += (size_t)n;
    }
    return have;
}

static int pvm_host_parse_list(const char *list, cpu_set_t *set)
{
    CPU_ZERO(set);
    int count = 0;
    for (const char *s = list; *s;) {
        char *end;
        long cpu = strtol(s, &end, 10);
        if (end == s || cpu < 0 || cpu >= CPU_SETSIZE)
            return -1;
        CPU_SET((int)cpu, set);
        count++;
        s = *end == ',' ? end + 1 : end;
        if (*end && *end != ',')
            return -1;
    }
    return count ? 0 : -1;
}

int pvm_host_pin(int pid, int ncores, char *list, size_t size, pvm_error *err)
{
    char cpus[1024];
    cpu_set_t set;
    if (pvm_host_share(ncores, cpus, sizeof cpus) < 1 || pvm_host_parse_list(cpus, &set) < 0)
        return pvm_error_set(err, PVM_E_IO, "cannot read this process's CPU affinity: %s",
                             strerror(errno));
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", pid);
    DIR *d = opendir(path);
    if (!d)
        return pvm_error_set(err, PVM_E_IO, "%s: %s", path, strerror(errno));
    int rc = 0, pinned = 0;
    for (struct dirent *de; (de = readdir(d));) {
        char *end;
        long tid = strtol(de->d_name, &end, 10);
        if (end == de->d_name || *end)
            continue;
        if (sched_setaffinity((pid_t)tid, sizeof set, &set) == 0)
            pinned++;
        else if (errno != ESRCH) /* a thread that just ended is fine */
            rc = pvm_error_set(err, PVM_E_IO, "QEMU %d thread %ld: cannot set its CPU "
                               "affinity: %s", pid, tid, strerror(errno));
    }
    closedir(d);
    if (!rc && !pinned)
        rc = pvm_error_set(err, PVM_E_IO, "QEMU %d: no thread to set the CPU affinity of", pid);
    if (!rc && list)
        pvm_strlcpy(list, cpus, size);
    return rc;
}

uint64_t pvm_host_memory(void)
{
    struct sysinfo si;
    if (sysinfo(&si) == 0)
        return (uint64_t)si.totalram * si.mem_unit;
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
    return pages > 0 && size > 0 ? (uint64_t)pages * (uint64_t)size : 0;
}

/* ------------------------------------------------ bounded child process */

/* What a bounded run saw. */
typedef struct pvm_run {
    char out[8192];   /* first bytes of stdout+stderr, NUL-terminated */
    size_t len;
    int found;        /* the marker appeared */
    int exited;       /* the child ended by itself before we stopped it */
    int timed_out;
    int64_t elapsed_ms;
} pvm_run;

/* Keeps the head of the output for messages and scans a window for the marker. */
static void pvm_run_take(pvm_run *r, char *win, size_t *wlen, size_t wcap, const char *buf,
                         size_t n, const char *marker)
{
    size_t room = sizeof r->out - 1 - r->len;
    size_t c = n < room ? n : room;
    memcpy(r->out + r->len, buf, c);
    r->len += c;
    r->out[r->len] = '\0';
    if (!marker)
        return;
    for (size_t i = 0; i < n; i++) {
        if (*wlen + 1 >= wcap) { /* keep the tail that could start the marker */
            size_t keep = strlen(marker);
            memmove(win, win + *wlen - keep, keep);
            *wlen = keep;
        }
        win[(*wlen)++] = buf[i] ? buf[i] : ' ';
        win[*wlen] = '\0';
    }
    if (strstr(win, marker))
        r->found = 1;
}

/* A bounded run in progress: the pipe, the run's record, the marker window. */
typedef struct pvm_run_ctx {
    int fd;
    pvm_run *r;
    const char *marker;
    char win[1024];
    size_t wlen;
} pvm_run_ctx;

/* Reads what the pipe holds; true once the marker was seen or the output ended. */
static bool pvm_run_step(void *ctx)
{
    pvm_run_ctx *c = ctx;
    char buf[4096];
    for (;;) {
        ssize_t n = read(c->fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return false;
        if (n <= 0) {
            c->r->exited = 1;
            return true;
        }
        pvm_run_take(c->r, c->win, &c->wlen, sizeof c->win, buf, (size_t)n, c->marker);
        if (c->r->found)
            return true;
    }
}

/* Runs argv for at most timeout_ms (or until marker is seen), then kills its
 * whole process group and reaps it: nothing is ever left behind. A program that
 * cannot be started counts as one that exited at once saying why. */
static int pvm_run_bounded(char *const argv[], int timeout_ms, const char *marker, int flags,
                           pvm_run *r, pvm_error *err)
{
    memset(r, 0, sizeof *r);
    int p[2];
    if (pipe2(p, O_CLOEXEC))
        return pvm_error_set(err, PVM_E_IO, "pipe: %s", strerror(errno));
    int64_t t0 = pvm_proc_now_ms();
    pid_t pid;
    pvm_error start = {0};
    int rc = pvm_proc_start(argv, p[1], PVM_SPAWN_PGROUP | flags, &pid, &start);
    close(p[1]);
    if (rc < 0) {
        close(p[0]);
        pvm_strlcpy(r->out, start.msg, sizeof r->out);
        r->exited = 1;
        return 0;
    }
    fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK);
    pvm_run_ctx c = {.fd = p[0], .r = r, .marker = marker};
    if (pvm_wait_until_fd(p[0], pvm_run_step, &c, timeout_ms, PVM_PIDFD_CHECK_MS, NULL, NULL,
                          err) == 0)
        r->timed_out = 1;
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
    close(p[0]);
    r->elapsed_ms = pvm_proc_now_ms() - t0;
    return 0;
}

/* --------------------------------------------------------- QEMU version */

int pvm_qemu_version(const char *qemu, char *out, size_t size, pvm_error *err)
{
    char *argv[] = { (char *)qemu, "--version", NULL };
    pvm_run r;
    if (pvm_run_bounded(argv, PVM_VERSION_TIMEOUT_MS, NULL, 0, &r, err))
        return -1;
    const char *v = strstr(r.out, "version ");
    if (!v || !r.exited) {
        char *nl = strchr(r.out, '\n');
        if (nl)
            *nl = '\0';
        return pvm_error_set(err, PVM_E_QEMU, "%s --version: %s", qemu,
                             r.timed_out ? "no answer" : r.out[0] ? r.out : "no version printed");
    }
    v += strlen("version ");
    size_t n = strspn(v, "0123456789.");
    if (n == 0)
        return pvm_error_set(err, PVM_E_QEMU, "%s --version: no version number", qemu);
    if (n >= size)
        n = size - 1;
    memcpy(out, v, n);
    out[n] = '\0';
    return 0;
}

/* ------------------------------------------------------------ KVM probe */

static const char *pvm_kvm_access(void)
{
    if (access("/dev/kvm", R_OK | W_OK) == 0)
        return "rw";
    return errno == ENOENT ? "absent" : "denied";
}

int pvm_accel_probe_key(const char *qemu, char *out, size_t size, pvm_error *err)
{
    char ver[64];
    struct utsname u;
    if (pvm_qemu_version(qemu, ver, sizeof ver, err))
        return -1;
    if (uname(&u))
        return pvm_error_set(err, PVM_E_IO, "uname: %s", strerror(errno));
    snprintf(out, size, "qemu %s; kernel %s %s; /dev/kvm %s", ver, u.release, u.version,
             pvm_kvm_access());
    for (char *c = out; *c; c++)
        if (*c == '\n' || *c == '\r')
            *c = ' ';
    return 0;
}

/* First line of s (at most 160 bytes) into buf. */
static void pvm_first_line(const char *s, char *buf, size_t size)
{
    while (*s == '\n' || *s == '\r')
        s++;
    size_t n = strcspn(s, "\r\n");
    if (n > 160)
        n = 160;
    if (n >= size)
        n = size - 1;
    memcpy(buf, s, n);
    buf[n] = '\0';
}

int pvm_accel_probe(const char *qemu, const char *kernel, int timeout_ms, pvm_accel *out,
                    char *reason, size_t reason_size, pvm_error *err)
{
    char *argv[] = { (char *)qemu, "-accel", "kvm", "-machine", "q35", "-m", "256",
                     "-no-user-config", "-nodefaults", "-display", "none", "-monitor", "none",
                     "-serial", "stdio", "-no-reboot", "-kernel", (char *)kernel,
                     "-append", "console=ttyS0 earlyprintk=ttyS0 panic=-1", NULL };
    pvm_run r;
    if (pvm_run_bounded(argv, timeout_ms, PVM_PROBE_BANNER, PVM_SPAWN_PDEATHSIG, &r, err))
        return -1;
    char line[200];
    *out = r.found ? PVM_ACCEL_KVM : PVM_ACCEL_TCG;
    if (r.found) {
        snprintf(reason, reason_size, "kvm: a test boot under KVM reached the kernel in %.1f s",
                 (double)r.elapsed_ms / 1000);
    } else if (r.timed_out) {
        snprintf(reason, reason_size,
                 "tcg: a test boot under KVM printed nothing in %.1f s (KVM guests hang here)",
                 (double)timeout_ms / 1000);
    } else {
        pvm_first_line(r.out, line, sizeof line);
        snprintf(reason, reason_size, "tcg: QEMU failed under KVM: %s",
                 line[0] ? line : "it exited without output");
    }
    return 0;
}

/* Where tests/guest/build keeps the test guest: $PRIVARION_VM_GUEST_CACHE, else
 * /var/cache/privarion-vm/guest for root, else ~/.cache/privarion-vm/guest. */
static char *pvm_guest_cache_dir(void)
{
    const char *env = getenv("PRIVARION_VM_GUEST_CACHE");
    if (env && *env)
        return pvm_xstrdup(env);
    if (geteuid() == 0)
        return pvm_xstrdup("/var/cache/privarion-vm/guest");
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (xdg && *xdg)
        return pvm_xasprintf("%s/privarion-vm/guest", xdg);
    return home && *home ? pvm_xasprintf("%s/.cache/privarion-vm/guest", home) : NULL;
}

/* A kernel to boot: the host's own, else the test guest's. */
static int pvm_probe_kernel(char *out, size_t size)
{
    struct utsname u;
    if (uname(&u) == 0) {
        snprintf(out, size, "/boot/vmlinuz-%s", u.release);
        if (access(out, R_OK) == 0)
            return 0;
    }
    char *cache = pvm_guest_cache_dir();
    char *pat[3] = { pvm_xstrdup("/boot/vmlinuz-*"), NULL, NULL };
    if (cache) {
        pat[1] = pvm_xasprintf("%s/vmlinuz*", cache);
        pat[2] = pvm_xasprintf("%s/*/vmlinuz*", cache);
    }
    int rc = -1;
    for (int i = 0; i < 3 && rc && pat[i]; i++) {
        glob_t g;
        if (glob(pat[i], 0, NULL, &g) == 0) {
            for (size_t k = 0; k < g.gl_pathc && rc; k++)
                if (access(g.gl_pathv[k], R_OK) == 0 && strlen(g.gl_pathv[k]) < size) {
                    pvm_strlcpy(out, g.gl_pathv[k], size);
                    rc = 0;
                }
            globfree(&g);
        }
    }
    for (int i = 0; i < 3; i++)
        free(pat[i]);
    free(cache);
    return rc;
}

/* ------------------------------------------------------ verdict cache */

/* Reads HOME/accel-probe; 0 when it holds a verdict for this key. */
static int pvm_cache_read(const char *path, const char *key, pvm_accel *out, char *reason,
                          size_t reason_size)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    char line[1024], rsn[600] = "";
    int key_ok = 0, verdict = -1;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        if (!strncmp(line, "key = ", 6))
            key_ok = strcmp(line + 6, key) == 0;
        else if (!strcmp(line, "verdict = kvm"))
            verdict = PVM_ACCEL_KVM;
        else if (!strcmp(line, "verdict = tcg"))
            verdict = PVM_ACCEL_TCG;
        else if (!strncmp(line, "reason = ", 9))
            pvm_strlcpy(rsn, line + 9, sizeof rsn);
    }
    fclose(f);
    if (!key_ok || verdict < 0)
        return -1;
    *out = (pvm_accel)verdict;
    snprintf(reason, reason_size, "%s (remembered in %s)", rsn[0] ? rsn : pvm_accel_name(*out),
             path);
    return 0;
}

static void pvm_cache_write(const char *path, const char *key, pvm_accel v, const char *reason)
{
    /* A temporary file of its own in the same folder (two threads of one process may
     * probe at once: a pid-based name would be shared), 0600 as mkstemp makes it, then
     * renamed over the old verdict. */
    char *tmp = pvm_xasprintf("%s.XXXXXX", path);
    int fd = mkostemp(tmp, O_CLOEXEC);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f && fd >= 0)
        close(fd);
    if (f) {
        fprintf(f, "# privarion-vm: result of the KVM test boot for accel = auto.\n"
                   "# Probed again when QEMU, the kernel or /dev/kvm access change; delete to redo.\n"
                   "key = %s\nverdict = %s\nreason = %s\n",
                key, pvm_accel_name(v), reason);
        if (fclose(f) == 0 && rename(tmp, path) == 0) {
            free(tmp);
            return;
        }
    }
    if (fd >= 0)
        unlink(tmp);
    free(tmp);
}

static int pvm_accel_auto(const char *home, const pvm_config *cfg, pvm_accel *out, char *reason,
                          size_t reason_size, pvm_error *err)
{
    char key[600], kernel[PVM_PATH_MAX];
    if (pvm_accel_probe_key(cfg->qemu, key, sizeof key, err))
        return -1;
    char *path = pvm_xasprintf("%s/accel-probe", home);
    int rc = 0;
    if (pvm_cache_read(path, key, out, reason, reason_size) == 0) {
        /* remembered */
    } else if (pvm_probe_kernel(kernel, sizeof kernel)) {
        *out = PVM_ACCEL_TCG;
        snprintf(reason, reason_size, "tcg: no kernel to probe KVM with (no /boot/vmlinuz-*, "
                                      "no test guest built by tests/guest/build)");
    } else if ((rc = pvm_accel_probe(cfg->qemu, kernel, PVM_PROBE_TIMEOUT_MS, out, reason,
                                     reason_size, err)) == 0) {
        pvm_cache_write(path, key, *out, reason);
    }
    free(path);
    return rc;
}

int pvm_accel_resolve(const char *home, const pvm_config *cfg, pvm_accel *out, char *reason,
                      size_t reason_size, pvm_error *err)
{
    if (!strcmp(cfg->accel, "tcg") || !strcmp(cfg->accel, "kvm")) {
        *out = !strcmp(cfg->accel, "kvm") ? PVM_ACCEL_KVM : PVM_ACCEL_TCG;
        const char *env = getenv("PRIVARION_VM_ACCEL");
        snprintf(reason, reason_size, "%s: chosen by %s", cfg->accel,
                 env && !strcmp(env, cfg->accel) ? "PRIVARION_VM_ACCEL"
                                                 : "accel in the config file");
        return 0;
    }
    if (strcmp(cfg->accel, "auto"))
        return pvm_error_set(err, PVM_E_INVALID, "accel: must be auto, kvm or tcg");
    return pvm_accel_auto(home, cfg, out, reason, reason_size, err);
}
