/* sampler.c - live resource monitoring (see sampler.h): one thread per watched VM reads
 * /proc (CPU, resident memory), the disk image's allocation and the backend's figures
 * (engine/qemu/sample.c) every interval into history rings. Called by cmd_stats.c and the TUI.
 *
 * One thread per VM, not one poll loop: the QMP and agent clients are synchronous calls with
 * deadlines, so a thread per VM is what keeps one VM's slow agent from delaying another VM's
 * reading; the threads sleep between readings and touch shared state only under s->mu. */
#include "sampler.h"

#include "qemu/qemu.h"
#include "qemu/sample.h"
#include "ring.h"
#include "vm_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SAMPLER_CALL_MS_MAX 1000 /* longest wait for one QMP or agent call */
#define SAMPLER_OPEN_MS 1000     /* first QMP connect of a series */
#define SAMPLER_DISK_MS 1000     /* the image's allocation is looked at this often */

typedef struct series series;

struct pvm_sampler {
    pthread_mutex_t mu;
    pthread_cond_t cond;     /* wakes the threads: stop or interval change */
    int interval_ms;
    size_t history;
    int notify[2];           /* self-pipe: [0] for the consumer, [1] written per event */
    series **v;
    size_t n, cap;
};

/* What a series' thread reads from /proc, kept open between readings. */
typedef struct series_proc {
    int stat_fd, statm_fd;
    int nvcpu;                       /* vCPU threads with an open schedstat, 0 when none */
    int vcpu_fd[PVM_USAGE_VCPUS];
    uint64_t vcpu_ns[PVM_USAGE_VCPUS];
    uint64_t ticks;                  /* utime + stime of the whole process */
    bool ticks_ok;                   /* ticks is the base of the next process figure */
    int64_t mono_ns;
} series_proc;

struct series {
    pvm_sampler *s;
    char id[PVM_UUID_LEN + 1];
    char name[PVM_NAME_MAX + 1];
    char qmp_sock[PVM_PATH_MAX], qga_sock[PVM_PATH_MAX], disk[PVM_PATH_MAX];
    int pid, vcpus;
    uint64_t memory;
    pthread_t thread;
    bool has_thread;
    /* under s->mu: */
    bool stop, ended;
    char end_reason[160];
    uint64_t samples;
    pvm_usage last;
    pvm_ring ring[PVM_FIG_COUNT];
};

/* The agent's last fresh interface counters, the base of the network rates. */
typedef struct net_base {
    bool known;
    uint64_t rx, tx;
    int64_t ms;       /* when the agent gave them (pvm_proc_now_ms) */
} net_base;

/* ------------------------------------------------------------- helpers */

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static double wall_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double clamp01(double v)
{
    return v < 0 ? 0 : v > 1 ? 1 : v;
}

static void sampler_notify(pvm_sampler *s)
{
    char b = 1;
    ssize_t rc = write(s->notify[1], &b, 1); /* a full pipe already says "look" */
    (void)rc;
}

/* Reads a /proc file again from its start through an open descriptor; bytes, or -1. */
static ssize_t proc_reread(int fd, char *buf, size_t size)
{
    ssize_t n = pread(fd, buf, size - 1, 0);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    return n;
}

/* The next space-separated decimal field at *p (advanced past it); false when there is none.
 * A hand parser: these files are read every interval, and sscanf was a visible share of the
 * sampler's own CPU time. */
static bool proc_field_u64(const char **p, uint64_t *out)
{
    const char *s = *p;
    while (*s == ' ')
        s++;
    if (*s < '0' || *s > '9')
        return false;
    uint64_t v = 0;
    for (; *s >= '0' && *s <= '9'; s++)
        v = v * 10 + (uint64_t)(*s - '0');
    *out = v;
    *p = s;
    return true;
}

/* Skips n space-separated fields at *p; false when the line is shorter. */
static bool proc_skip_fields(const char **p, int n)
{
    const char *s = *p;
    for (int i = 0; i < n; i++) {
        while (*s == ' ')
            s++;
        if (!*s || *s == '\n')
            return false;
        while (*s && *s != ' ' && *s != '\n')
            s++;
    }
    *p = s;
    return true;
}

/* utime + stime of /proc/PID/stat in clock ticks; -1 when the process is gone (or a zombie). */
static int proc_stat_ticks(int fd, uint64_t *ticks)
{
    char buf[1024];
    if (fd < 0 || proc_reread(fd, buf, sizeof buf) < 0)
        return -1;
    const char *p = strrchr(buf, ')'); /* the command name may hold spaces and ')' */
    if (!p || p[1] != ' ')
        return -1;
    char state = p[2];
    p += 3;
    uint64_t ut = 0, st = 0; /* fields 14 and 15; state is field 3 */
    if (!proc_skip_fields(&p, 10) || !proc_field_u64(&p, &ut) || !proc_field_u64(&p, &st))
        return -1;
    if (state == 'Z' || state == 'X' || state == 'x')
        return -1;
    *ticks = ut + st;
    return 0;
}

/* Resident bytes from /proc/PID/statm (second field, pages). */
static int proc_statm_rss(int fd, uint64_t *bytes)
{
    char buf[256];
    uint64_t size = 0, res = 0;
    const char *p = buf;
    if (fd < 0 || proc_reread(fd, buf, sizeof buf) < 0 || !proc_field_u64(&p, &size) ||
        !proc_field_u64(&p, &res))
        return -1;
    *bytes = res * (uint64_t)sysconf(_SC_PAGESIZE);
    return 0;
}

/* Time a thread has run, in ns, from /proc/PID/task/TID/schedstat. */
static int proc_schedstat_ns(int fd, uint64_t *ns)
{
    char buf[128];
    const char *p = buf;
    if (fd < 0 || proc_reread(fd, buf, sizeof buf) < 0 || !proc_field_u64(&p, ns))
        return -1;
    return 0;
}

static int proc_open(int pid, const char *what)
{
    char path[128];
    snprintf(path, sizeof path, "/proc/%d/%s", pid, what);
    return open(path, O_RDONLY | O_CLOEXEC);
}

static void proc_close_vcpus(series_proc *p)
{
    for (int i = 0; i < p->nvcpu; i++)
        close(p->vcpu_fd[i]);
    p->nvcpu = 0;
}

/* Opens the vCPU threads' schedstat files once QMP named them; all or none. */
static void proc_open_vcpus(series_proc *p, int pid, const pvm_hv_reading *hv)
{
    if (p->nvcpu || hv->nvcpu_tids <= 0)
        return;
    int n = hv->nvcpu_tids < PVM_USAGE_VCPUS ? hv->nvcpu_tids : PVM_USAGE_VCPUS;
    for (int i = 0; i < n; i++) {
        char what[64];
        snprintf(what, sizeof what, "task/%d/schedstat", hv->vcpu_tids[i]);
        p->vcpu_fd[i] = proc_open(pid, what);
        p->nvcpu = i + 1;
        if (p->vcpu_fd[i] < 0 || proc_schedstat_ns(p->vcpu_fd[i], &p->vcpu_ns[i]) < 0) {
            p->nvcpu = i;
            if (p->vcpu_fd[i] >= 0)
                close(p->vcpu_fd[i]);
            proc_close_vcpus(p);
            return;
        }
    }
}

/* -------------------------------------------------------- one reading */

typedef struct series_run {
    series *se;
    series_proc proc;
    pvm_hv_sample *hv;
    pvm_usage prev;  /* the previous reading (rates); known == 0 before the first */
    net_base net;    /* the base of the network rates */
    int64_t hv_ns;   /* when the previous hypervisor reading completed (monotonic ns) */
    int64_t tick_ns; /* when the previous reading began: the cadence counts from here */
    int64_t disk_next_ns; /* when the image's allocation is looked at next */
    bool disk_known;
    uint64_t disk_bytes;
} series_run;


/* CPU figures from the vCPU threads (when known) else the whole process, whose /proc stat is
 * read only then; -1 when the process is gone (a vCPU thread that cannot be read falls back
 * to the process, which then tells). */
static int usage_cpu(series *se, series_proc *p, int64_t now_ns, pvm_usage *u)
{
    double elapsed = (double)(now_ns - p->mono_ns) / 1e9;
    if (p->nvcpu) {
        double sum = 0;
        int i;
        for (i = 0; i < p->nvcpu; i++) {
            uint64_t ns = 0;
            if (proc_schedstat_ns(p->vcpu_fd[i], &ns) < 0)
                break;
            double d = ns >= p->vcpu_ns[i] ? (double)(ns - p->vcpu_ns[i]) / 1e9 : 0;
            p->vcpu_ns[i] = ns;
            u->vcpu_usage[i] = elapsed > 0 ? clamp01(d / elapsed) : 0;
            sum += d;
        }
        if (i == p->nvcpu) {
            p->ticks_ok = false; /* the process figure's base is stale from now on */
            if (elapsed > 0) {
                u->nvcpus = p->nvcpu;
                u->cpu_usage = clamp01(sum / (elapsed * p->nvcpu));
                u->known |= PVM_U_CPU | PVM_U_VCPUS;
            }
            return 0;
        }
        proc_close_vcpus(p); /* a thread vanished: back to the process figure */
    }
    uint64_t ticks = 0;
    if (proc_stat_ticks(p->stat_fd, &ticks) < 0)
        return -1;
    if (p->ticks_ok && elapsed > 0 && ticks >= p->ticks) {
        double d = (double)(ticks - p->ticks) / (double)sysconf(_SC_CLK_TCK);
        u->cpu_usage = clamp01(d / (elapsed * (se->vcpus > 0 ? se->vcpus : 1)));
        u->known |= PVM_U_CPU;
    }
    p->ticks = ticks;
    p->ticks_ok = true;
    return 0;
}

/* The network rates: from the agent's fresh answers only (it is asked at most once a
 * PVM_HV_AGENT_PERIOD_MS), carried unchanged through the readings between them. */
static void usage_net_rate(const pvm_hv_reading *hv, const pvm_usage *prev, net_base *b,
                           pvm_usage *u)
{
    if (!hv->net_fresh) {
        if (prev->known & PVM_U_NET_RATE) {
            u->network_in_rate = prev->network_in_rate;
            u->network_out_rate = prev->network_out_rate;
            u->known |= PVM_U_NET_RATE;
        }
        return;
    }
    double elapsed = (double)(hv->net_ms - b->ms) / 1e3;
    if (b->known && elapsed > 0 && hv->rx_bytes >= b->rx && hv->tx_bytes >= b->tx) {
        u->network_in_rate = (double)(hv->rx_bytes - b->rx) / elapsed;
        u->network_out_rate = (double)(hv->tx_bytes - b->tx) / elapsed;
        u->known |= PVM_U_NET_RATE;
    }
    *b = (net_base){true, hv->rx_bytes, hv->tx_bytes, hv->net_ms};
}

static void usage_hv(const pvm_hv_reading *hv, const pvm_usage *prev, double elapsed, net_base *nb,
                     pvm_usage *u)
{
    if (hv->block_known) {
        u->disk_read_bytes = hv->rd_bytes;
        u->disk_write_bytes = hv->wr_bytes;
        u->disk_read_ops = hv->rd_ops;
        u->disk_write_ops = hv->wr_ops;
        u->known |= PVM_U_DISK_IO;
        if ((prev->known & PVM_U_DISK_IO) && elapsed > 0 && hv->rd_bytes >= prev->disk_read_bytes &&
            hv->wr_bytes >= prev->disk_write_bytes) {
            u->disk_read_rate = (double)(hv->rd_bytes - prev->disk_read_bytes) / elapsed;
            u->disk_write_rate = (double)(hv->wr_bytes - prev->disk_write_bytes) / elapsed;
            u->known |= PVM_U_DISK_RATE;
        }
    }
    if (hv->net_known) {
        u->network_bytes_in = hv->rx_bytes;
        u->network_bytes_out = hv->tx_bytes;
        u->known |= PVM_U_NET;
        if (hv->net_packets_known) {
            u->network_packets_in = hv->rx_packets;
            u->network_packets_out = hv->tx_packets;
            u->known |= PVM_U_NET_PACKETS;
        }
        usage_net_rate(hv, prev, nb, u);
    } else {
        *nb = (net_base){0};
    }
    if (hv->balloon_known) {
        u->guest_memory_total = hv->balloon_bytes;
        u->known |= PVM_U_GUEST_MEMORY;
    }
}

/* The image's allocated bytes: its stat is taken at most once every SAMPLER_DISK_MS (the
 * allocation grows slowly), the figure carried between. */
static void usage_disk(const series *se, series_run *r, int64_t now_ns, pvm_usage *u)
{
    struct stat st;
    if (now_ns >= r->disk_next_ns) {
        r->disk_next_ns = now_ns + (int64_t)SAMPLER_DISK_MS * 1000000;
        r->disk_known = se->disk[0] && stat(se->disk, &st) == 0;
        r->disk_bytes = r->disk_known ? (uint64_t)st.st_blocks * 512u : 0;
    }
    if (r->disk_known) {
        u->disk_usage = r->disk_bytes;
        u->known |= PVM_U_DISK;
    }
}

static void series_push(series *se, const pvm_usage *u)
{
    const double v[PVM_FIG_COUNT] = {
        [PVM_FIG_CPU] = (u->known & PVM_U_CPU) ? u->cpu_usage : PVM_UNKNOWN,
        [PVM_FIG_MEMORY] = (u->known & PVM_U_MEMORY) ? (double)u->memory_usage : PVM_UNKNOWN,
        [PVM_FIG_DISK] = (u->known & PVM_U_DISK) ? (double)u->disk_usage : PVM_UNKNOWN,
        [PVM_FIG_DISK_READ] = (u->known & PVM_U_DISK_RATE) ? u->disk_read_rate : PVM_UNKNOWN,
        [PVM_FIG_DISK_WRITE] = (u->known & PVM_U_DISK_RATE) ? u->disk_write_rate : PVM_UNKNOWN,
        [PVM_FIG_NET_IN] = (u->known & PVM_U_NET_RATE) ? u->network_in_rate : PVM_UNKNOWN,
        [PVM_FIG_NET_OUT] = (u->known & PVM_U_NET_RATE) ? u->network_out_rate : PVM_UNKNOWN,
    };
    pthread_mutex_lock(&se->s->mu);
    for (int f = 0; f < PVM_FIG_COUNT; f++)
        pvm_ring_push(&se->ring[f], v[f]);
    se->last = *u;
    se->samples++;
    pthread_mutex_unlock(&se->s->mu);
    sampler_notify(se->s);
}

static void series_end(series *se, const char *why)
{
    pthread_mutex_lock(&se->s->mu);
    se->ended = true;
    snprintf(se->end_reason, sizeof se->end_reason, "%s", why);
    pthread_mutex_unlock(&se->s->mu);
    sampler_notify(se->s);
}

/* -------------------------------------------------------- the thread */


static int sampler_call_ms(pvm_sampler *s)
{
    pthread_mutex_lock(&s->mu);
    int ms = s->interval_ms;
    pthread_mutex_unlock(&s->mu);
    return ms < SAMPLER_CALL_MS_MAX ? ms : SAMPLER_CALL_MS_MAX;
}

static void run_hv(series_run *r, int call_ms, pvm_hv_reading *hv)
{
    memset(hv, 0, sizeof *hv);
    series *se = r->se;
    if (!r->hv && pvm_hv_sample_open(se->qmp_sock, se->qga_sock, call_ms, &r->hv, NULL) < 0)
        r->hv = NULL;
    if (r->hv && pvm_hv_sample_read(r->hv, call_ms, hv) < 0) {
        pvm_hv_sample_close(r->hv); /* reopened at the next reading */
        r->hv = NULL;
    }
    proc_open_vcpus(&r->proc, se->pid, hv);
}

/* One reading: 0, or -1 when the process is gone. The slow calls (monitor, agent) come
 * first and /proc last, so the reading's instant is just before it is published: what
 * waits on the guest agent never adds to the delay from reading to consumer. */
static int run_reading(series_run *r)
{
    series *se = r->se;
    pvm_usage u;
    memset(&u, 0, sizeof u);
    r->tick_ns = mono_ns();
    pvm_hv_reading hv;
    run_hv(r, sampler_call_ms(se->s), &hv); /* a QEMU that is gone fails these at once */
    int64_t hv_ns = mono_ns();
    usage_hv(&hv, &r->prev, (double)(hv_ns - r->hv_ns) / 1e9, &r->net, &u);
    r->hv_ns = hv_ns;
    int64_t now = mono_ns();
    u.timestamp = wall_seconds();
    u.mono_ms = now / 1000000;
    if (usage_cpu(se, &r->proc, now, &u) < 0)
        return -1;
    r->proc.mono_ns = now;
    if (proc_statm_rss(r->proc.statm_fd, &u.memory_usage) == 0)
        u.known |= PVM_U_MEMORY;
    usage_disk(se, r, now, &u);
    r->prev = u;
    series_push(se, &u);
    return 0;
}

/* Sleeps until `from` + the current interval; false when told to stop. */
static bool run_wait(series *se, int64_t from_ns)
{
    pvm_sampler *s = se->s;
    bool go = true;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        if (se->stop) {
            go = false;
            break;
        }
        int64_t until = from_ns + (int64_t)s->interval_ms * 1000000;
        if (mono_ns() >= until)
            break;
        struct timespec ts = {(time_t)(until / 1000000000), (long)(until % 1000000000)};
        pthread_cond_timedwait(&s->cond, &s->mu, &ts);
    }
    pthread_mutex_unlock(&s->mu);
    return go;
}

/* The baseline the first reading is measured against; -1 when the process is gone. */
static int run_start(series_run *r)
{
    series *se = r->se;
    r->proc.stat_fd = proc_open(se->pid, "stat");
    r->proc.statm_fd = proc_open(se->pid, "statm");
    r->proc.mono_ns = r->tick_ns = mono_ns();
    if (proc_stat_ticks(r->proc.stat_fd, &r->proc.ticks) < 0)
        return -1;
    pvm_hv_reading hv;
    if (pvm_hv_sample_open(se->qmp_sock, se->qga_sock, SAMPLER_OPEN_MS, &r->hv, NULL) < 0)
        r->hv = NULL;
    run_hv(r, sampler_call_ms(se->s), &hv);
    r->hv_ns = mono_ns();
    /* the baseline of the rates: what the hypervisor said before the first reading */
    usage_hv(&hv, &(pvm_usage){0}, 0, &r->net, &r->prev);
    r->proc.mono_ns = mono_ns();
    r->proc.ticks_ok = proc_stat_ticks(r->proc.stat_fd, &r->proc.ticks) == 0;
    return 0;
}

static void run_stop(series_run *r)
{
    pvm_hv_sample_close(r->hv);
    proc_close_vcpus(&r->proc);
    if (r->proc.stat_fd >= 0)
        close(r->proc.stat_fd);
    if (r->proc.statm_fd >= 0)
        close(r->proc.statm_fd);
}

static void *series_main(void *arg)
{
    series_run r;
    memset(&r, 0, sizeof r);
    r.se = arg;
    char why[160];
    snprintf(why, sizeof why, "QEMU process %d ended", r.se->pid);
    bool gone = run_start(&r) < 0;
    while (!gone) {
        if (!run_wait(r.se, r.tick_ns))
            break;
        gone = run_reading(&r) < 0;
    }
    run_stop(&r);
    if (gone)
        series_end(r.se, why);
    return NULL;
}

/* ---------------------------------------------------------- the sampler */

int pvm_sample_interval_check(int interval_ms, pvm_error *err)
{
    if (interval_ms < PVM_SAMPLE_INTERVAL_MIN || interval_ms > PVM_SAMPLE_INTERVAL_MAX)
        return pvm_error_set_field(err, PVM_E_INVALID, "interval",
                                   "interval: must be from %d to %d milliseconds (got %d)",
                                   PVM_SAMPLE_INTERVAL_MIN, PVM_SAMPLE_INTERVAL_MAX, interval_ms);
    return 0;
}

int pvm_sampler_new(int interval_ms, size_t history, pvm_sampler **out, pvm_error *err)
{
    *out = NULL;
    if (pvm_sample_interval_check(interval_ms, err) < 0)
        return -1;
    pvm_sampler *s = pvm_xcalloc(1, sizeof *s);
    if (pipe2(s->notify, O_NONBLOCK | O_CLOEXEC) < 0) {
        free(s);
        return pvm_error_set(err, PVM_E_IO, "sampler: cannot make its pipe: %s", strerror(errno));
    }
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cond, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&s->mu, NULL);
    s->interval_ms = interval_ms;
    s->history = history ? history : PVM_SAMPLE_HISTORY_DEFAULT;
    *out = s;
    return 0;
}

static void series_join(series *se)
{
    pvm_sampler *s = se->s;
    pthread_mutex_lock(&s->mu);
    se->stop = true;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->mu);
    if (se->has_thread)
        pthread_join(se->thread, NULL);
    se->has_thread = false;
}

static void series_free(series *se)
{
    series_join(se);
    for (int f = 0; f < PVM_FIG_COUNT; f++)
        pvm_ring_free(&se->ring[f]);
    free(se);
}

void pvm_sampler_free(pvm_sampler *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        series_free(s->v[i]);
    free(s->v);
    close(s->notify[0]);
    close(s->notify[1]);
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

int pvm_sampler_set_interval(pvm_sampler *s, int interval_ms, pvm_error *err)
{
    if (pvm_sample_interval_check(interval_ms, err) < 0)
        return -1;
    pthread_mutex_lock(&s->mu);
    s->interval_ms = interval_ms;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->mu);
    return 0;
}

int pvm_sampler_interval(pvm_sampler *s)
{
    pthread_mutex_lock(&s->mu);
    int ms = s->interval_ms;
    pthread_mutex_unlock(&s->mu);
    return ms;
}

/* The series of a VM name or id (the list only changes on the owner's thread). */
static series *sampler_find(pvm_sampler *s, const char *name_or_id, size_t *at)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i]->name, name_or_id) == 0 || strcmp(s->v[i]->id, name_or_id) == 0) {
            if (at)
                *at = i;
            return s->v[i];
        }
    return NULL;
}

static void sampler_forget(pvm_sampler *s, size_t at)
{
    series *se = s->v[at];
    pthread_mutex_lock(&s->mu);
    memmove(s->v + at, s->v + at + 1, (s->n - at - 1) * sizeof *s->v);
    s->n--;
    pthread_mutex_unlock(&s->mu);
    series_free(se);
}

static series *series_new(pvm_sampler *s, const pvm_sample_target *t)
{
    series *se = pvm_xcalloc(1, sizeof *se);
    se->s = s;
    pvm_strlcpy(se->id, t->id ? t->id : "", sizeof se->id);
    pvm_strlcpy(se->name, t->name ? t->name : "", sizeof se->name);
    pvm_strlcpy(se->qmp_sock, t->qmp_sock ? t->qmp_sock : "", sizeof se->qmp_sock);
    pvm_strlcpy(se->qga_sock, t->qga_sock ? t->qga_sock : "", sizeof se->qga_sock);
    pvm_strlcpy(se->disk, t->disk ? t->disk : "", sizeof se->disk);
    se->pid = t->pid;
    se->vcpus = t->vcpus > 0 ? t->vcpus : 1;
    se->memory = t->memory;
    for (int f = 0; f < PVM_FIG_COUNT; f++)
        pvm_ring_init(&se->ring[f], s->history);
    return se;
}

int pvm_sampler_watch_target(pvm_sampler *s, const pvm_sample_target *t, pvm_error *err)
{
    if (!t->name || !t->name[0] || t->pid <= 0)
        return pvm_error_set(err, PVM_E_INVALID, "sampler: a target needs a name and a pid");
    size_t at = 0;
    series *old = sampler_find(s, t->name, &at);
    if (old) {
        pthread_mutex_lock(&s->mu);
        bool ended = old->ended;
        pthread_mutex_unlock(&s->mu);
        if (!ended && old->pid == t->pid)
            return 0;
        sampler_forget(s, at); /* a new run of the VM: a new series */
    }
    series *se = series_new(s, t);
    int rc = pthread_create(&se->thread, NULL, series_main, se);
    if (rc != 0) {
        series_free(se);
        return pvm_error_set(err, PVM_E_IO, "sampler: cannot start a thread: %s", strerror(rc));
    }
    se->has_thread = true;
    pthread_mutex_lock(&s->mu);
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 8;
        s->v = pvm_xrealloc(s->v, s->cap * sizeof *s->v);
    }
    s->v[s->n++] = se;
    pthread_mutex_unlock(&s->mu);
    return 0;
}

/* A VM started with two monitors has a long-lived OWNER one, qmp-owner.sock beside qmp.sock:
 * the sampler holds that and leaves qmp.sock to short commands (probe, stop). A VM started
 * with one monitor only has qmp.sock, which the sampler then holds. */
static void sampler_owner_monitor(char *qmp, size_t size)
{
    char *slash = strrchr(qmp, '/');
    if (!slash)
        return;
    char owner[PVM_PATH_MAX];
    int n = snprintf(owner, sizeof owner, "%.*s/qmp-owner.sock", (int)(slash - qmp), qmp);
    if (n > 0 && (size_t)n < size && access(owner, F_OK) == 0)
        pvm_strlcpy(qmp, owner, size);
}

/* Whether the running QEMU pid carries the guest agent on an ISA serial port (argv.c's
 * "isa-serial,chardev=qga0": profiles that hide the hypervisor). Such a VM is never asked
 * by the sampler: until the guest's qemu-ga opens that port, whatever is sent there reaches
 * whoever reads it, and UEFI firmware (OVMF) and GRUB read COM2 as a console, so periodic
 * agent calls arrive as typed keys and break a boot menu or an installer. */
bool pvm_sampler_agent_on_isa_serial(int pid)
{
    return pvm_qemu_live_agent_channel(pid) == PVM_AGENT_CHANNEL_ISA;
}

static int sampler_watch_vm(pvm_sampler *s, pvm_engine *e, const pvm_vm *vm, pvm_error *err)
{
    if (vm->state != PVM_VM_RUNNING && vm->state != PVM_VM_PAUSED)
        return pvm_error_set(err, PVM_E_STATE, "VM '%s' is not running (state: %s)", vm->name,
                             pvm_vm_state_name(vm->state));
    char qmp[PVM_PATH_MAX], qga[PVM_PATH_MAX], disk[PVM_PATH_MAX];
    if (pvm_vm_path(e, vm, PVM_VM_PATH_QMP_SOCK, qmp, sizeof qmp, err) < 0 ||
        pvm_vm_path(e, vm, PVM_VM_PATH_QGA_SOCK, qga, sizeof qga, err) < 0 ||
        pvm_vm_path(e, vm, PVM_VM_PATH_DISK, disk, sizeof disk, err) < 0)
        return -1;
    sampler_owner_monitor(qmp, sizeof qmp);
    if (pvm_sampler_agent_on_isa_serial(vm->pid))
        qga[0] = '\0'; /* no agent readings (network rates): see pvm_sampler_agent_on_isa_serial */
    pvm_sample_target t = {
        .id = vm->id, .name = vm->name, .pid = vm->pid, .vcpus = vm->cpus,
        .memory = vm->memory_bytes, .qmp_sock = qmp, .qga_sock = qga, .disk = disk,
    };
    return pvm_sampler_watch_target(s, &t, err);
}

int pvm_sampler_watch(pvm_sampler *s, pvm_engine *e, const char *name_or_id, pvm_error *err)
{
    pvm_vm vm;
    if (pvm_vm_get(e, name_or_id, &vm, err) < 0)
        return -1;
    return sampler_watch_vm(s, e, &vm, err);
}

int pvm_sampler_watch_running(pvm_sampler *s, pvm_engine *e, size_t *added, pvm_error *err)
{
    pvm_vm *all = NULL;
    size_t n = 0, fresh = 0;
    if (pvm_vm_list(e, &all, &n, err) < 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (all[i].state != PVM_VM_RUNNING && all[i].state != PVM_VM_PAUSED)
            continue;
        pvm_series_info info;
        bool live = pvm_sampler_get(s, all[i].name, &info, NULL) == 0 && !info.ended &&
                    info.pid == all[i].pid;
        if (live)
            continue;
        rc = sampler_watch_vm(s, e, &all[i], err);
        fresh += rc == 0;
    }
    free(all);
    if (added)
        *added = fresh;
    return rc;
}

void pvm_sampler_unwatch(pvm_sampler *s, const char *name_or_id)
{
    size_t at = 0;
    if (sampler_find(s, name_or_id, &at))
        sampler_forget(s, at);
}

int pvm_sampler_notify_fd(const pvm_sampler *s)
{
    return s->notify[0];
}

void pvm_sampler_drain(pvm_sampler *s)
{
    char buf[256];
    while (read(s->notify[0], buf, sizeof buf) > 0)
        ;
}

static void series_info(const series *se, pvm_series_info *out)
{
    memset(out, 0, sizeof *out);
    pvm_strlcpy(out->id, se->id, sizeof out->id);
    pvm_strlcpy(out->name, se->name, sizeof out->name);
    out->pid = se->pid;
    out->vcpus = se->vcpus;
    out->memory = se->memory;
    out->ended = se->ended;
    pvm_strlcpy(out->end_reason, se->end_reason, sizeof out->end_reason);
    out->samples = se->samples;
    out->last = se->last;
}

size_t pvm_sampler_list(pvm_sampler *s, pvm_series_info **out)
{
    pthread_mutex_lock(&s->mu);
    size_t n = s->n;
    *out = pvm_xcalloc(n ? n : 1, sizeof **out);
    for (size_t i = 0; i < n; i++)
        series_info(s->v[i], &(*out)[i]);
    pthread_mutex_unlock(&s->mu);
    return n;
}

int pvm_sampler_get(pvm_sampler *s, const char *name_or_id, pvm_series_info *out, pvm_error *err)
{
    pthread_mutex_lock(&s->mu);
    series *se = sampler_find(s, name_or_id, NULL);
    if (se)
        series_info(se, out);
    pthread_mutex_unlock(&s->mu);
    if (!se)
        return pvm_error_set(err, PVM_E_NOTFOUND, "VM '%s' is not being sampled", name_or_id);
    return 0;
}

size_t pvm_sampler_history(pvm_sampler *s, const char *name_or_id, pvm_figure fig, double *out,
                           size_t n)
{
    if ((int)fig < 0 || fig >= PVM_FIG_COUNT) {
        for (size_t i = 0; i < n; i++)
            out[i] = PVM_UNKNOWN;
        return 0;
    }
    pthread_mutex_lock(&s->mu);
    series *se = sampler_find(s, name_or_id, NULL);
    size_t got = 0;
    if (se)
        got = pvm_ring_tail(&se->ring[fig], out, n);
    else
        for (size_t i = 0; i < n; i++)
            out[i] = PVM_UNKNOWN;
    pthread_mutex_unlock(&s->mu);
    return got;
}

/* ------------------------------------------------------------ host summary */

/* MemAvailable of /proc/meminfo in bytes; 0 when unreadable. */
static uint64_t host_mem_available(void)
{
    FILE *fp = fopen("/proc/meminfo", "re");
    char line[256];
    uint64_t avail = 0;
    while (fp && fgets(line, sizeof line, fp)) {
        unsigned long long kb = 0;
        if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1)
            avail = (uint64_t)kb * 1024u;
    }
    if (fp)
        fclose(fp);
    return avail;
}

static void host_held_from_sampler(pvm_sampler *s, pvm_host_usage *out)
{
    pvm_series_info *all = NULL;
    size_t n = pvm_sampler_list(s, &all);
    for (size_t i = 0; i < n; i++) {
        if (all[i].ended)
            continue;
        out->vms_running++;
        out->vcpus_held += all[i].vcpus;
        out->memory_held += all[i].memory;
        if (all[i].samples && (all[i].last.known & PVM_U_MEMORY))
            out->rss_held += all[i].last.memory_usage;
    }
    free(all);
}

static int host_held_from_store(pvm_engine *e, pvm_host_usage *out, pvm_error *err)
{
    pvm_vm *all = NULL;
    size_t n = 0;
    if (pvm_vm_list(e, &all, &n, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (all[i].state != PVM_VM_RUNNING && all[i].state != PVM_VM_PAUSED)
            continue;
        out->vms_running++;
        out->vcpus_held += all[i].cpus;
        out->memory_held += all[i].memory_bytes;
    }
    free(all);
    return 0;
}

int pvm_host_usage_read(pvm_engine *e, pvm_sampler *s, pvm_host_usage *out, pvm_error *err)
{
    memset(out, 0, sizeof *out);
    pvm_host_info info;
    if (pvm_host_info_get(e, &info, err) < 0)
        return -1;
    out->cores = info.cores;
    out->memory_total = info.memory;
    out->max_cpus = info.max_cpus;
    out->max_memory = info.max_memory;
    out->memory_available = host_mem_available();
    if (getloadavg(out->load, 3) < 3)
        out->load[0] = out->load[1] = out->load[2] = -1;
    if (s) {
        host_held_from_sampler(s, out);
        return 0;
    }
    return host_held_from_store(e, out, err);
}
