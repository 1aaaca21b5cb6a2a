/* cmd_stats.c - `privarion-vm stats [VM...|--all] [--interval MS] [--count N]
 * [--json|--openmetrics]`: live usage of running VMs from the engine's sampler, as a
 * refreshing table, plain lines, JSON lines or one Prometheus text snapshot. Called by main.c. */
#include "cli.h"
#include "../engine/sampler.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define STATS_COUNT_MAX 100000000
#define STATS_REDRAW_MS 100 /* a refreshing table is redrawn at most this often */

typedef enum { STATS_TABLE = 0, STATS_LINES, STATS_JSON, STATS_OPENMETRICS } stats_mode;

static const pvm_opt pvm_stats_opts[] = {
    {"all", 0, false, NULL, "every running VM (the default when no VM is named)"},
    {"interval", 0, true, "MS", "milliseconds between readings, 100 to 5000 (default 500)"},
    {"count", 0, true, "N", "stop after N readings of each VM (default: until Ctrl-C)"},
    {"json", 0, false, NULL, "one JSON object per reading and line"},
    {"openmetrics", 0, false, NULL, "one Prometheus text-format snapshot, then exit"},
};
#define STATS_NOPTS (sizeof pvm_stats_opts / sizeof pvm_stats_opts[0])

static volatile sig_atomic_t stats_stop;

static void stats_on_signal(int sig)
{
    (void)sig;
    stats_stop = 1;
}

static void pvm_stats_help(void)
{
    printf("usage: " PVM_PROG " stats [VM...|--all] [--interval MS] [--count N] [--json|--openmetrics]\n\n"
           "Live CPU, memory, disk and network usage of running VMs, read every interval:\n"
           "CPU is QEMU's CPU time over elapsed time times vCPUs (0..1, shown as %%), memory is the\n"
           "QEMU process's resident memory, disk the bytes the image takes on the host plus the\n"
           "guest's reads and writes (QMP query-blockstats), network the guest's interface\n"
           "counters through the guest agent. A figure that cannot be read is unknown: '-' in\n"
           "the table, null in JSON, left out of OpenMetrics; never 0.\n\n"
           "On a terminal the table refreshes in place; otherwise one line per reading. --json\n"
           "prints one object per reading: timestamp (Unix seconds), vm, cpuUsage, memoryUsage,\n"
           "diskUsage, diskReadBytes, diskWriteBytes, networkBytesIn, networkBytesOut (totals)\n"
           "and more; a VM whose QEMU ends gets one last object with its state and reason.\n"
           "--openmetrics waits for one reading of every running VM and prints privarion_vm_*\n"
           "metrics for node_exporter's textfile collector.\n"
           "\nOptions:\n");
    pvm_args_print_help(stdout, pvm_stats_opts, STATS_NOPTS);
}

/* ----------------------------------------------------------- options */

typedef struct stats_req {
    int interval_ms;
    long count;         /* 0: unbounded */
    stats_mode mode;
} stats_req;

static int stats_parse(const pvm_args *a, stats_req *r, pvm_error *err)
{
    r->interval_ms = PVM_SAMPLE_INTERVAL_DEFAULT;
    r->count = 0;
    const char *iv = pvm_args_value(a, "interval"), *cv = pvm_args_value(a, "count");
    char *end;
    if (iv) {
        errno = 0;
        long v = strtol(iv, &end, 10);
        if (!*iv || *end || errno || v < PVM_SAMPLE_INTERVAL_MIN || v > PVM_SAMPLE_INTERVAL_MAX)
            return pvm_error_set_field(err, PVM_E_USAGE, "interval",
                                       "--interval: must be a whole number of milliseconds from "
                                       "%d to %d, not '%s'", PVM_SAMPLE_INTERVAL_MIN,
                                       PVM_SAMPLE_INTERVAL_MAX, iv);
        r->interval_ms = (int)v;
    }
    if (cv) {
        errno = 0;
        long v = strtol(cv, &end, 10);
        if (!*cv || *end || errno || v < 1 || v > STATS_COUNT_MAX)
            return pvm_error_set_field(err, PVM_E_USAGE, "count",
                                       "--count: must be a whole number from 1 to %d, not '%s'",
                                       STATS_COUNT_MAX, cv);
        r->count = v;
    }
    bool json = pvm_args_given(a, "json"), om = pvm_args_given(a, "openmetrics");
    if (json && om)
        return pvm_error_set(err, PVM_E_USAGE, "--json and --openmetrics: give one or the other");
    if (om && cv)
        return pvm_error_set(err, PVM_E_USAGE, "--count: --openmetrics prints one snapshot; "
                             "leave --count out");
    if (pvm_args_given(a, "all") && a->npos)
        return pvm_error_set(err, PVM_E_USAGE, "--all: name VMs or give --all, not both");
    r->mode = json ? STATS_JSON : om ? STATS_OPENMETRICS : isatty(STDOUT_FILENO) ? STATS_TABLE
                                                                                : STATS_LINES;
    return 0;
}

/* ------------------------------------------------------------ formats */

static const char *fmt_bytes(const pvm_usage *u, unsigned bit, uint64_t v, char *buf, size_t n)
{
    if (!(u->known & bit))
        return "-";
    return pvm_size_format(v, buf, n);
}

static const char *fmt_rate(const pvm_usage *u, double v, unsigned bit, char *buf, size_t n)
{
    char b[32];
    if (!(u->known & bit))
        return "-";
    snprintf(buf, n, "%s/s", pvm_size_format((uint64_t)llround(v), b, sizeof b));
    return buf;
}

static const char *fmt_cpu(const pvm_usage *u, char *buf, size_t n)
{
    if (!(u->known & PVM_U_CPU))
        return "-";
    snprintf(buf, n, "%.1f%%", u->cpu_usage * 100);
    return buf;
}

static const char *fmt_time(double t, char *buf, size_t n)
{
    time_t s = (time_t)t;
    struct tm tm;
    gmtime_r(&s, &tm);
    size_t k = strftime(buf, n, "%H:%M:%S", &tm);
    snprintf(buf + k, n - k, ".%03d", (int)((t - (double)s) * 1000) % 1000);
    return buf;
}

static const char *const stats_headers[] = {"VM", "CPU", "MEMORY", "DISK", "READ", "WRITE",
                                            "NET-IN", "NET-OUT"};

/* The cells of one reading (after the VM name): cells[0..7) into bufs. */
static void stats_cells(const pvm_usage *u, char bufs[7][32], const char *cells[7])
{
    cells[0] = fmt_cpu(u, bufs[0], 32);
    cells[1] = fmt_bytes(u, PVM_U_MEMORY, u->memory_usage, bufs[1], 32);
    cells[2] = fmt_bytes(u, PVM_U_DISK, u->disk_usage, bufs[2], 32);
    cells[3] = fmt_rate(u, u->disk_read_rate, PVM_U_DISK_RATE, bufs[3], 32);
    cells[4] = fmt_rate(u, u->disk_write_rate, PVM_U_DISK_RATE, bufs[4], 32);
    cells[5] = fmt_rate(u, u->network_in_rate, PVM_U_NET_RATE, bufs[5], 32);
    cells[6] = fmt_rate(u, u->network_out_rate, PVM_U_NET_RATE, bufs[6], 32);
}

static void json_num(cJSON *j, const char *key, bool known, double v)
{
    if (known)
        cJSON_AddNumberToObject(j, key, v);
    else
        cJSON_AddNullToObject(j, key);
}

static cJSON *stats_json(const char *vm, const pvm_usage *u)
{
    cJSON *j = cJSON_CreateObject();
    unsigned k = u->known;
    cJSON_AddNumberToObject(j, "timestamp", u->timestamp);
    cJSON_AddStringToObject(j, "vm", vm);
    json_num(j, "cpuUsage", k & PVM_U_CPU, u->cpu_usage);
    json_num(j, "memoryUsage", k & PVM_U_MEMORY, (double)u->memory_usage);
    json_num(j, "diskUsage", k & PVM_U_DISK, (double)u->disk_usage);
    json_num(j, "diskReadBytes", k & PVM_U_DISK_IO, (double)u->disk_read_bytes);
    json_num(j, "diskWriteBytes", k & PVM_U_DISK_IO, (double)u->disk_write_bytes);
    json_num(j, "diskReadOps", k & PVM_U_DISK_IO, (double)u->disk_read_ops);
    json_num(j, "diskWriteOps", k & PVM_U_DISK_IO, (double)u->disk_write_ops);
    json_num(j, "networkBytesIn", k & PVM_U_NET, (double)u->network_bytes_in);
    json_num(j, "networkBytesOut", k & PVM_U_NET, (double)u->network_bytes_out);
    json_num(j, "networkPacketsIn", k & PVM_U_NET_PACKETS, (double)u->network_packets_in);
    json_num(j, "networkPacketsOut", k & PVM_U_NET_PACKETS, (double)u->network_packets_out);
    json_num(j, "guestMemoryTotal", k & PVM_U_GUEST_MEMORY, (double)u->guest_memory_total);
    cJSON *v = cJSON_AddArrayToObject(j, "vcpuUsage");
    for (int i = 0; (k & PVM_U_VCPUS) && i < u->nvcpus; i++)
        cJSON_AddItemToArray(v, cJSON_CreateNumber(u->vcpu_usage[i]));
    return j;
}

static void print_json_line(cJSON *j)
{
    char *text = cJSON_PrintUnformatted(j);
    printf("%s\n", text);
    free(text);
    cJSON_Delete(j);
    fflush(stdout);
}

/* ------------------------------------------------------------ the loop */

typedef struct stats_run {
    pvm_cli *cli;
    pvm_sampler *s;
    stats_req req;
    size_t n;
    pvm_series_info *info;  /* the newest view of every series */
    uint64_t *printed;      /* readings printed per series */
    bool *end_told;         /* the end of the series was printed */
    int64_t last_draw_ms;
    bool header_done;
} stats_run;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The state the engine reads for a VM whose series ended (crashed, stopped ...). */
static void stats_end_state(stats_run *r, const pvm_series_info *si, pvm_vm *vm)
{
    pvm_error err = {0};
    pvm_engine *e = pvm_cli_engine(r->cli, &err);
    if (!e || pvm_vm_get(e, si->id, vm, &err) < 0) {
        memset(vm, 0, sizeof *vm);
        vm->state = PVM_VM_CRASHED;
        pvm_strlcpy(vm->state_reason, si->end_reason, sizeof vm->state_reason);
    }
}

static void stats_tell_end(stats_run *r, size_t i)
{
    pvm_vm vm;
    const pvm_series_info *si = &r->info[i];
    stats_end_state(r, si, &vm);
    const char *reason = vm.state_reason[0] ? vm.state_reason : si->end_reason;
    if (r->req.mode == STATS_JSON) {
        cJSON *j = cJSON_CreateObject();
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        cJSON_AddNumberToObject(j, "timestamp", (double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
        cJSON_AddStringToObject(j, "vm", si->name);
        cJSON_AddStringToObject(j, "state", pvm_vm_state_name(vm.state));
        cJSON_AddStringToObject(j, "reason", reason);
        print_json_line(j);
    } else if (r->req.mode == STATS_LINES) {
        printf("%s: %s: %s\n", si->name, pvm_vm_state_name(vm.state), reason);
        fflush(stdout);
    } else {
        pvm_out_note("%s: %s: %s", si->name, pvm_vm_state_name(vm.state), reason);
    }
    r->end_told[i] = true;
}

static void stats_line(stats_run *r, const pvm_series_info *si)
{
    char bufs[7][32], tb[32];
    const char *cells[7];
    if (!r->header_done) {
        printf("%-12s %-16s %7s %8s %8s %10s %10s %10s %10s\n", "TIME", "VM", "CPU", "MEMORY",
               "DISK", "READ", "WRITE", "NET-IN", "NET-OUT");
        r->header_done = true;
    }
    stats_cells(&si->last, bufs, cells);
    printf("%-12s %-16s %7s %8s %8s %10s %10s %10s %10s\n", fmt_time(si->last.timestamp, tb, sizeof tb),
           si->name, cells[0], cells[1], cells[2], cells[3], cells[4], cells[5], cells[6]);
    fflush(stdout);
}

static const char *plural(int n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

/* Two lines above the table: the host, then what the running VMs hold of the caps. */
static void stats_draw_host(stats_run *r)
{
    pvm_host_usage h;
    pvm_error err = {0};
    char avail[32], total[32], held[32], cap[32];
    pvm_engine *e = pvm_cli_engine(r->cli, &err);
    if (!e || pvm_host_usage_read(e, r->s, &h, &err) < 0) {
        printf("host: %s\n", err.msg);
        return;
    }
    printf("host: %d %s, load %.2f %.2f %.2f, memory %s available of %s\n", h.cores,
           plural(h.cores, "core", "cores"), h.load[0], h.load[1], h.load[2],
           h.memory_available ? pvm_size_format(h.memory_available, avail, sizeof avail) : "?",
           pvm_size_format(h.memory_total, total, sizeof total));
    printf("running: %d %s holding %d %s and %s (caps: %d %s, %s); every %d ms, '-' is "
           "unknown, Ctrl-C quits\n\n", h.vms_running, plural(h.vms_running, "VM", "VMs"),
           h.vcpus_held, plural(h.vcpus_held, "vCPU", "vCPUs"),
           pvm_size_format(h.memory_held, held, sizeof held), h.max_cpus,
           plural(h.max_cpus, "host core", "host cores"), pvm_size_format(h.max_memory, cap, sizeof cap),
           pvm_sampler_interval(r->s));
}

static void stats_draw_table(stats_run *r)
{
    printf("\033[H\033[2J");
    stats_draw_host(r);
    pvm_table *t = pvm_table_new(8, stats_headers);
    for (size_t i = 0; i < r->n; i++) {
        char bufs[7][32];
        const char *cells[8] = {r->info[i].name};
        if (r->info[i].ended) {
            for (int c = 1; c < 8; c++)
                cells[c] = c == 1 ? "ended" : "";
        } else {
            stats_cells(&r->info[i].last, bufs, cells + 1);
        }
        pvm_table_add(t, cells);
    }
    pvm_table_print(t, stdout);
    pvm_table_free(t);
    fflush(stdout);
    r->last_draw_ms = now_ms();
}

/* Prints what is new since the last call; true when every series is done. */
static bool stats_step(stats_run *r)
{
    free(r->info);
    r->n = pvm_sampler_list(r->s, &r->info);
    bool done = true, fresh = false;
    for (size_t i = 0; i < r->n; i++) {
        pvm_series_info *si = &r->info[i];
        uint64_t have = si->samples;
        if (r->req.count && have > (uint64_t)r->req.count)
            have = (uint64_t)r->req.count;
        if (have > r->printed[i]) {
            fresh = true;
            if (r->req.mode == STATS_JSON)
                print_json_line(stats_json(si->name, &si->last));
            else if (r->req.mode == STATS_LINES)
                stats_line(r, si);
            r->printed[i] = have;
        }
        if (si->ended && !r->end_told[i])
            stats_tell_end(r, i);
        bool finished = si->ended || (r->req.count && r->printed[i] >= (uint64_t)r->req.count);
        done = done && finished;
    }
    if (r->req.mode == STATS_TABLE && fresh && now_ms() - r->last_draw_ms >= STATS_REDRAW_MS)
        stats_draw_table(r);
    return done;
}

static void stats_loop(stats_run *r)
{
    int fd = pvm_sampler_notify_fd(r->s);
    while (!stats_stop) {
        struct pollfd p = {fd, POLLIN, 0};
        poll(&p, 1, r->req.interval_ms);
        pvm_sampler_drain(r->s);
        if (stats_step(r))
            break;
    }
    if (r->req.mode == STATS_TABLE && r->n)
        stats_draw_table(r);
}

/* ------------------------------------------------------- openmetrics */

typedef struct om_metric {
    const char *name, *type, *help;
    unsigned bit;
    double (*get)(const pvm_usage *u);
} om_metric;

static double om_cpu(const pvm_usage *u) { return u->cpu_usage; }
static double om_mem(const pvm_usage *u) { return (double)u->memory_usage; }
static double om_disk(const pvm_usage *u) { return (double)u->disk_usage; }
static double om_rd(const pvm_usage *u) { return (double)u->disk_read_bytes; }
static double om_wr(const pvm_usage *u) { return (double)u->disk_write_bytes; }
static double om_rdo(const pvm_usage *u) { return (double)u->disk_read_ops; }
static double om_wro(const pvm_usage *u) { return (double)u->disk_write_ops; }
static double om_rx(const pvm_usage *u) { return (double)u->network_bytes_in; }
static double om_tx(const pvm_usage *u) { return (double)u->network_bytes_out; }

static const om_metric om_metrics[] = {
    {"privarion_vm_cpu_usage_ratio", "gauge", "QEMU CPU time over elapsed time times vCPUs (0..1)", PVM_U_CPU, om_cpu},
    {"privarion_vm_memory_resident_bytes", "gauge", "Resident memory of the VM's QEMU process", PVM_U_MEMORY, om_mem},
    {"privarion_vm_disk_allocated_bytes", "gauge", "Bytes the VM's disk image takes on the host", PVM_U_DISK, om_disk},
    {"privarion_vm_disk_read_bytes_total", "counter", "Bytes the guest read from its disks (QMP query-blockstats)", PVM_U_DISK_IO, om_rd},
    {"privarion_vm_disk_written_bytes_total", "counter", "Bytes the guest wrote to its disks (QMP query-blockstats)", PVM_U_DISK_IO, om_wr},
    {"privarion_vm_disk_reads_total", "counter", "Read operations of the guest's disks", PVM_U_DISK_IO, om_rdo},
    {"privarion_vm_disk_writes_total", "counter", "Write operations of the guest's disks", PVM_U_DISK_IO, om_wro},
    {"privarion_vm_network_receive_bytes_total", "counter", "Bytes received by the guest's interfaces (guest agent)", PVM_U_NET, om_rx},
    {"privarion_vm_network_transmit_bytes_total", "counter", "Bytes sent by the guest's interfaces (guest agent)", PVM_U_NET, om_tx},
};

/* A label value with \, " and newline escaped (Prometheus text format). */
static void om_label(const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            printf("\\%c", *s);
        else if (*s == '\n')
            printf("\\n");
        else
            putchar(*s);
    }
}

static void om_print(stats_run *r)
{
    for (size_t m = 0; m < sizeof om_metrics / sizeof om_metrics[0]; m++) {
        const om_metric *om = &om_metrics[m];
        printf("# HELP %s %s\n# TYPE %s %s\n", om->name, om->help, om->name, om->type);
        for (size_t i = 0; i < r->n; i++) {
            const pvm_series_info *si = &r->info[i];
            if (si->ended || !si->samples || !(si->last.known & om->bit))
                continue; /* unknown: no sample rather than a false 0 */
            printf("%s{vm=\"", om->name);
            om_label(si->name);
            printf("\"} %.17g\n", om->get(&si->last)); /* no timestamp: the textfile collector refuses them */
        }
    }
    pvm_host_usage h;
    pvm_error err = {0};
    pvm_engine *e = pvm_cli_engine(r->cli, &err);
    if (e && pvm_host_usage_read(e, r->s, &h, &err) == 0) {
        printf("# HELP privarion_vm_running Running VMs\n# TYPE privarion_vm_running gauge\n"
               "privarion_vm_running %d\n", h.vms_running);
        printf("# HELP privarion_vm_vcpus_held vCPUs of the running VMs\n"
               "# TYPE privarion_vm_vcpus_held gauge\nprivarion_vm_vcpus_held %d\n", h.vcpus_held);
        printf("# HELP privarion_vm_max_vcpus The host cores all VMs share (config max_cpus)\n"
               "# TYPE privarion_vm_max_vcpus gauge\nprivarion_vm_max_vcpus %d\n", h.max_cpus);
        printf("# HELP privarion_vm_max_memory_bytes The cap on memory (config max_memory)\n"
               "# TYPE privarion_vm_max_memory_bytes gauge\nprivarion_vm_max_memory_bytes %llu\n",
               (unsigned long long)h.max_memory);
    }
    printf("# EOF\n");
}

/* Waits (bounded) until every series has a reading or ended, then prints once. */
static void stats_openmetrics(stats_run *r)
{
    int64_t until = now_ms() + 4 * r->req.interval_ms + 3000;
    int fd = pvm_sampler_notify_fd(r->s);
    for (;;) {
        free(r->info);
        r->n = pvm_sampler_list(r->s, &r->info);
        bool all = true;
        for (size_t i = 0; i < r->n; i++)
            all = all && (r->info[i].samples || r->info[i].ended);
        if (all || stats_stop || now_ms() >= until)
            break;
        struct pollfd p = {fd, POLLIN, 0};
        poll(&p, 1, 100);
        pvm_sampler_drain(r->s);
    }
    om_print(r);
}

/* ------------------------------------------------------------ command */

static int stats_watch(pvm_cli *cli, pvm_sampler *s, const pvm_args *a, pvm_error *err)
{
    pvm_engine *e = pvm_cli_engine(cli, err);
    if (!e)
        return -1;
    for (size_t i = 0; i < a->npos; i++)
        if (pvm_sampler_watch(s, e, a->pos[i], err) < 0)
            return -1;
    if (!a->npos)
        return pvm_sampler_watch_running(s, e, NULL, err);
    return 0;
}

static void stats_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = stats_on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

int pvm_cli_stats(pvm_cli *cli, int argc, char **argv)
{
    pvm_args a;
    pvm_error err = {0};
    if (pvm_args_parse(&a, pvm_stats_opts, STATS_NOPTS, argc - 1, argv + 1, "stats", &err) < 0)
        return pvm_out_error(&err);
    if (a.help) {
        pvm_stats_help();
        pvm_args_free(&a);
        return 0;
    }
    stats_run r = {.cli = cli};
    int status = 0;
    if (stats_parse(&a, &r.req, &err) < 0 ||
        pvm_sampler_new(r.req.interval_ms, 0, &r.s, &err) < 0 || stats_watch(cli, r.s, &a, &err) < 0) {
        status = pvm_out_error(&err);
        goto out;
    }
    stats_signals();
    r.n = pvm_sampler_list(r.s, &r.info);
    r.printed = pvm_xcalloc(r.n ? r.n : 1, sizeof *r.printed);
    r.end_told = pvm_xcalloc(r.n ? r.n : 1, sizeof *r.end_told);
    if (r.req.mode == STATS_OPENMETRICS)
        stats_openmetrics(&r);
    else if (!r.n)
        pvm_out_note("no VM is running");
    else
        stats_loop(&r);
out:
    pvm_sampler_free(r.s);
    free(r.info);
    free(r.printed);
    free(r.end_told);
    pvm_args_free(&a);
    return status;
}
