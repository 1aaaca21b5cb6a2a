/* sampler.h - live resource monitoring of running VMs (engine/sampler.c): the seed's
 * VMResourceUsage as pvm_usage, a history ring per VM and figure, and the host summary.
 * Public API for cli/cmd_stats.c and the TUI's engine thread; no curses, no printing. */
#ifndef PVM_SAMPLER_H
#define PVM_SAMPLER_H

#include "pvm.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PVM_SAMPLE_INTERVAL_MIN 100   /* ms */
#define PVM_SAMPLE_INTERVAL_MAX 5000  /* ms */
#define PVM_SAMPLE_INTERVAL_DEFAULT 500
#define PVM_SAMPLE_HISTORY_DEFAULT 1200 /* slots: 10 minutes at 500 ms */
#define PVM_USAGE_VCPUS 64              /* per-vCPU figures kept for at most this many */

/* Which figures of a pvm_usage are known (bits of pvm_usage.known). A figure whose bit is
 * clear could not be read and is unknown; its value is 0 but must never be shown as 0. */
enum {
    PVM_U_CPU = 1u << 0,          /* cpu_usage */
    PVM_U_VCPUS = 1u << 1,        /* vcpu_usage[0..nvcpus) from QEMU's vCPU threads */
    PVM_U_MEMORY = 1u << 2,       /* memory_usage (QEMU's resident memory) */
    PVM_U_GUEST_MEMORY = 1u << 3, /* guest_memory_total (balloon) */
    PVM_U_DISK = 1u << 4,         /* disk_usage */
    PVM_U_DISK_IO = 1u << 5,      /* disk_read/write_bytes/ops */
    PVM_U_DISK_RATE = 1u << 6,    /* disk_read_rate, disk_write_rate */
    PVM_U_NET = 1u << 7,          /* network_bytes_in/out */
    PVM_U_NET_PACKETS = 1u << 8,  /* network_packets_in/out */
    PVM_U_NET_RATE = 1u << 9,     /* network_in_rate, network_out_rate */
};

/* One reading of one VM (the seed's VMResourceUsage plus detail). Counters are totals since
 * QEMU started (disk) or since the guest's interfaces came up (network). */
typedef struct pvm_usage {
    double timestamp;        /* Unix seconds, fractional: when the reading was taken */
    int64_t mono_ms;         /* the same instant on the engine's monotonic clock */
    unsigned known;          /* PVM_U_* bits */
    double cpu_usage;        /* 0..1: CPU time over elapsed time times vCPUs */
    int nvcpus;              /* entries of vcpu_usage */
    double vcpu_usage[PVM_USAGE_VCPUS]; /* 0..1 each, from /proc/PID/task/TID */
    uint64_t memory_usage;   /* bytes: QEMU process resident set (host side) */
    uint64_t guest_memory_total; /* bytes: the guest's RAM as the balloon reports it (guest figure) */
    uint64_t disk_usage;     /* bytes allocated on the host by the VM's disk image */
    uint64_t disk_read_bytes, disk_write_bytes, disk_read_ops, disk_write_ops; /* query-blockstats */
    double disk_read_rate, disk_write_rate;     /* bytes/s since the previous reading */
    uint64_t network_bytes_in, network_bytes_out; /* guest agent: interface statistics */
    uint64_t network_packets_in, network_packets_out;
    double network_in_rate, network_out_rate;   /* bytes/s since the previous reading */
} pvm_usage;

/* The figures kept as history (one ring each); rates are bytes per second. */
typedef enum {
    PVM_FIG_CPU = 0,    /* 0..1 */
    PVM_FIG_MEMORY,     /* bytes */
    PVM_FIG_DISK,       /* bytes allocated */
    PVM_FIG_DISK_READ,  /* bytes/s */
    PVM_FIG_DISK_WRITE, /* bytes/s */
    PVM_FIG_NET_IN,     /* bytes/s */
    PVM_FIG_NET_OUT,    /* bytes/s */
    PVM_FIG_COUNT
} pvm_figure;

/* Threads: pvm_sampler_new/free, watch* and unwatch are called from one thread (the owner:
 * the CLI's main thread, the TUI's engine thread, e.g. through a worker job); set_interval,
 * interval, list, get, history, notify_fd and drain are safe from any thread (the UI's). */
typedef struct pvm_sampler pvm_sampler;

/* Checks an interval: a whole number of milliseconds from 100 to 5000, else PVM_E_INVALID
 * with field "interval". */
int pvm_sample_interval_check(int interval_ms, pvm_error *err);

/* A sampler taking one reading of every watched VM each interval_ms, keeping `history`
 * readings per figure (0: PVM_SAMPLE_HISTORY_DEFAULT). Each watched VM has its own thread,
 * so one VM's slow monitor or agent never delays another's reading; every QMP and agent
 * call is bounded by the interval (at most 1 s). Free with pvm_sampler_free (joins them). */
int pvm_sampler_new(int interval_ms, size_t history, pvm_sampler **out, pvm_error *err);
void pvm_sampler_free(pvm_sampler *s);
/* Changes the interval at run time (the TUI's + and -); takes effect at the next reading. */
int pvm_sampler_set_interval(pvm_sampler *s, int interval_ms, pvm_error *err);
int pvm_sampler_interval(pvm_sampler *s);

/* Starts watching a running (or paused) VM: PVM_E_NOTFOUND for an unknown one, PVM_E_STATE
 * when it is not running. Watching a VM already watched is a no-op; a VM whose series ended
 * starts a new series. Call from the thread owning e; the sampler keeps no reference to e. */
int pvm_sampler_watch(pvm_sampler *s, pvm_engine *e, const char *name_or_id, pvm_error *err);
/* Watches every running VM not yet watched (pvm_vm_list). *added (may be NULL) counts them. */
int pvm_sampler_watch_running(pvm_sampler *s, pvm_engine *e, size_t *added, pvm_error *err);

/* What a series watches, for callers that know the process themselves (tests, backends).
 * Strings are copied; qmp_sock, qga_sock and disk may be NULL or "" (those figures are then
 * unknown). */
typedef struct pvm_sample_target {
    const char *id, *name;
    int pid;          /* the QEMU process */
    int vcpus;        /* configured vCPUs (> 0) */
    uint64_t memory;  /* configured RAM, bytes (for the host summary) */
    const char *qmp_sock, *qga_sock, *disk;
} pvm_sample_target;
int pvm_sampler_watch_target(pvm_sampler *s, const pvm_sample_target *t, pvm_error *err);
/* Stops watching and forgets the series (joins its thread); unknown names are ignored. */
void pvm_sampler_unwatch(pvm_sampler *s, const char *name_or_id);

/* A descriptor that turns readable after each new reading and each ended series (a
 * self-pipe: poll it beside others); pvm_sampler_drain empties it. Owned by the sampler. */
int pvm_sampler_notify_fd(const pvm_sampler *s);
void pvm_sampler_drain(pvm_sampler *s);

/* One watched VM as seen now. */
typedef struct pvm_series_info {
    char id[PVM_UUID_LEN + 1];
    char name[PVM_NAME_MAX + 1];
    int pid, vcpus;
    uint64_t memory;        /* configured RAM, bytes */
    bool ended;             /* QEMU is gone (or the VM stopped): no more readings */
    char end_reason[160];   /* why, when ended */
    uint64_t samples;       /* readings taken in this series */
    pvm_usage last;         /* the newest reading, when samples > 0 */
} pvm_series_info;

/* Every series, in watch order, into a malloc'd array (free()); returns the count. */
size_t pvm_sampler_list(pvm_sampler *s, pvm_series_info **out);
/* One series by VM name or id: 0, or -1 with PVM_E_NOTFOUND. */
int pvm_sampler_get(pvm_sampler *s, const char *name_or_id, pvm_series_info *out, pvm_error *err);
/* Copies the newest n values of one figure into out[0..n), oldest first, unknown values as
 * NaN (ring.h's PVM_UNKNOWN), padded in front with NaN when the history is shorter. Returns
 * the real values copied (0 for an unknown name). */
size_t pvm_sampler_history(pvm_sampler *s, const char *name_or_id, pvm_figure fig, double *out,
                           size_t n);

/* ------------------------------------------------------------ host summary */

typedef struct pvm_host_usage {
    int cores;                  /* online CPUs (pvm_host_info_get) */
    uint64_t memory_total;      /* bytes of RAM (pvm_host_info_get) */
    uint64_t memory_available;  /* bytes, /proc/meminfo MemAvailable; 0 unknown */
    double load[3];             /* 1, 5 and 15 minute load averages */
    int vms_running;            /* running VMs (watched, not ended, when from a sampler) */
    int vcpus_held;             /* their configured vCPUs */
    uint64_t memory_held;       /* their configured RAM, bytes */
    uint64_t rss_held;          /* their QEMU processes' resident memory, bytes (0 unknown) */
    int max_cpus;               /* the caps from HOME/config (pvm_host_info_get) */
    uint64_t max_memory;
} pvm_host_usage;

/* Reads the host's figures and caps; what VMs hold comes from s's live series when s is
 * given (no QMP traffic), else from pvm_vm_list. */
int pvm_host_usage_read(pvm_engine *e, pvm_sampler *s, pvm_host_usage *out, pvm_error *err);

/* Whether the process pid runs with the guest agent on an ISA serial port (an argument
 * "isa-serial,chardev=qga0" in /proc/PID/cmdline, as argv.c writes it); false when not, or
 * when the process is gone. The sampler never asks such a VM's agent (see sampler.c). */
bool pvm_sampler_agent_on_isa_serial(int pid);

#endif
