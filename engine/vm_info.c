/* vm_info.c - cheap facts a front end shows and polls: the host and its caps,
 * the store's change counter, a VM's uptime and whether its QEMU still runs, its
 * snapshots' brief rows. Called by the TUI's header, details pane, Snapshots pane and
 * once-a-second change watch. */
#include "internal.h"
#include "vm_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int pvm_host_info_get(pvm_engine *e, pvm_host_info *out, pvm_error *err)
{
    pvm_config cfg;
    if (pvm_config_load(e->home, &cfg, err) < 0)
        return -1;
    memset(out, 0, sizeof *out);
    out->cores = pvm_host_cores();
    out->memory = pvm_host_memory();
    out->max_cpus = cfg.max_cpus;
    out->max_memory = cfg.max_memory;
    return 0;
}

int pvm_engine_data_version(pvm_engine *e, int64_t *out, pvm_error *err)
{
    return pvm_store_data_version(e->store, out, err);
}

bool pvm_vm_pid_alive(const pvm_vm *vm)
{
    return vm->pid > 0 && pvm_proc_alive(vm->pid);
}

bool pvm_vm_brief_alive(const pvm_vm_brief *b)
{
    return b->pid > 0 && pvm_proc_alive(b->pid);
}

int pvm_vm_qemu_binary(const pvm_vm *vm, char *out, size_t size, bool *stealth)
{
    out[0] = '\0';
    *stealth = false;
    if (!pvm_vm_pid_alive(vm) || size < 2)
        return -1;
    char link[64];
    snprintf(link, sizeof link, "/proc/%d/exe", vm->pid);
    ssize_t n = readlink(link, out, size - 1);
    if (n <= 0) {
        out[0] = '\0';
        return -1;
    }
    out[n] = '\0';
    char cache[PVM_PATH_MAX];
    size_t len;
    if (pvm_qemu_stealth_cache_dir(cache, sizeof cache, NULL) == 0 &&
        (len = strlen(cache)) < (size_t)n && !strncmp(out, cache, len) && out[len] == '/')
        *stealth = true;
    return 0;
}

int64_t pvm_vm_uptime(const pvm_vm *vm)
{
    unsigned long long start;
    double up;
    long hz = sysconf(_SC_CLK_TCK);
    if (!pvm_vm_pid_alive(vm) || hz <= 0 || pvm_proc_start_ticks(vm->pid, &start) < 0)
        return -1;
    FILE *f = fopen("/proc/uptime", "re");
    if (!f)
        return -1;
    int ok = fscanf(f, "%lf", &up) == 1;
    fclose(f);
    if (!ok)
        return -1;
    double s = up - (double)start / (double)hz;
    return s < 0 ? 0 : (int64_t)s;
}

int pvm_vm_accel(const pvm_vm *vm, char *out, size_t size)
{
    char buf[8192];
    out[0] = '\0';
    long got = pvm_vm_pid_alive(vm) ? pvm_proc_read(vm->pid, "cmdline", buf, sizeof buf) : -1;
    if (got < 0)
        return -1;
    size_t n = (size_t)got;
    /* arguments are NUL-separated: look at each for the -machine value's accel= */
    for (size_t i = 0; i < n; i += strlen(buf + i) + 1) {
        const char *a = strstr(buf + i, ",accel=");
        if (!a)
            continue;
        a += 7;
        size_t len = strcspn(a, ",");
        if (len == 0 || len >= size)
            return -1;
        memcpy(out, a, len);
        out[len] = '\0';
        return 0;
    }
    return -1;
}

int pvm_snapshot_briefs(pvm_engine *e, const char *vm, pvm_snapshot_brief **out,
                        size_t *count, pvm_error *err)
{
    pvm_vm *row = pvm_xcalloc(1, sizeof *row);
    int rc = pvm_vm_row(e, vm, row, err);
    if (rc == 0)
        rc = pvm_db_snapshot_briefs(e->store, row->id, out, count, err);
    free(row);
    return rc;
}
