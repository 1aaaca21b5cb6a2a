/* config.c - HOME/config: accel, the vCPU and memory caps (never above the host's
 * own cores and memory), the QEMU binary, the backend and the TUI's theme, as
 * "key = value" lines written with defaults on first use; the caps check. Called by
 * vm.c, vm_ops.c, doctor.c, hv.c, and the TUI (pvm_engine_theme). */
#include "hv.h"
#include "qemu/qemu.h"
#include "base/kvfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PVM_MIB (1024ull * 1024)

void pvm_config_defaults(pvm_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    pvm_strlcpy(cfg->accel, "auto", sizeof cfg->accel);
    int cores = pvm_host_cores() / 2;
    cfg->max_cpus = cores < 1 ? 1 : cores;
    /* Half the RAM, in whole MiB so the written file reads back the same. */
    cfg->max_memory = pvm_host_memory() / 2 / PVM_MIB * PVM_MIB;
    if (cfg->max_memory < PVM_MEMORY_MIN)
        cfg->max_memory = PVM_MEMORY_MIN;
    pvm_strlcpy(cfg->qemu, "qemu-system-x86_64", sizeof cfg->qemu);
    pvm_strlcpy(cfg->backend, "qemu", sizeof cfg->backend);
    pvm_strlcpy(cfg->theme, "default", sizeof cfg->theme);
    pvm_strlcpy(cfg->qemu_stealth, "auto", sizeof cfg->qemu_stealth);
    pvm_strlcpy(cfg->agent_channel, "auto", sizeof cfg->agent_channel);
}

/* ------------------------------------------------------------- sizes */

/* The largest exact unit: "12G", "12052M", "1536K" or plain bytes. */
static void pvm_cfg_size_text(uint64_t v, char *buf, size_t size)
{
    static const char units[] = "TGMK";
    for (int i = 0; i < 4; i++) {
        uint64_t unit = 1ull << (10 * (4 - i));
        if (v && v % unit == 0) {
            snprintf(buf, size, "%llu%c", (unsigned long long)(v / unit), units[i]);
            return;
        }
    }
    snprintf(buf, size, "%llu", (unsigned long long)v);
}

/* ------------------------------------------------------------- parsing */

bool pvm_accel_word_ok(const char *s)
{
    return !strcmp(s, "auto") || !strcmp(s, "kvm") || !strcmp(s, "tcg");
}

/* Each value by the rules its command-line twin follows (numbers.c), then the
 * host's own limits. Errors name the key; kvfile.c puts "FILE:LINE: " in front. */
static int pvm_cfg_max_cpus(pvm_config *cfg, const char *val, pvm_error *err)
{
    int v;
    if (pvm_int_parse("max_cpus", val, 1, 4096, &v, err) < 0)
        return -1;
    if (v > pvm_host_cores())
        return pvm_error_set_field(err, PVM_E_INVALID, "max_cpus", "max_cpus: %d is more than "
                                   "this host's %d online cores (at most %d)", v,
                                   pvm_host_cores(), pvm_host_cores());
    cfg->max_cpus = v;
    return 0;
}

static int pvm_cfg_max_memory(pvm_config *cfg, const char *val, pvm_error *err)
{
    uint64_t v, host = pvm_host_memory();
    if (pvm_memory_parse("max_memory", val, &v, err) < 0)
        return -1;
    if (v > host) {
        char want[32], have[32];
        return pvm_error_set_field(err, PVM_E_INVALID, "max_memory", "max_memory: %s is more "
                                   "than this host's %s of memory",
                                   pvm_size_format(v, want, sizeof want),
                                   pvm_size_format(host, have, sizeof have));
    }
    cfg->max_memory = v;
    return 0;
}

static int pvm_cfg_pair(void *ctx, const char *path, int line, const char *key,
                        const char *val, pvm_error *err)
{
    pvm_config *cfg = ctx;
    (void)path;
    (void)line;
    if (!strcmp(key, "accel")) {
        if (!pvm_accel_word_ok(val))
            return pvm_error_set_field(err, PVM_E_INVALID, key, "accel: must be auto, kvm or tcg");
        pvm_strlcpy(cfg->accel, val, sizeof cfg->accel);
    } else if (!strcmp(key, "max_cpus")) {
        return pvm_cfg_max_cpus(cfg, val, err);
    } else if (!strcmp(key, "max_memory")) {
        return pvm_cfg_max_memory(cfg, val, err);
    } else if (!strcmp(key, "qemu")) {
        if (!*val || strlen(val) >= sizeof cfg->qemu)
            return pvm_error_set_field(err, PVM_E_INVALID, key, "qemu: must be a program name "
                                       "or path of 1 to 255 bytes");
        pvm_strlcpy(cfg->qemu, val, sizeof cfg->qemu);
    } else if (!strcmp(key, "backend")) {
        if (!pvm_hv_word_ok(val))
            return pvm_error_set_field(err, PVM_E_INVALID, key, "backend: must be qemu or fake");
        pvm_strlcpy(cfg->backend, val, sizeof cfg->backend);
    } else if (!strcmp(key, "theme")) {
        if (pvm_theme_name_check(val, err) < 0)
            return -1;
        pvm_strlcpy(cfg->theme, val, sizeof cfg->theme);
    } else if (!strcmp(key, "qemu_stealth")) {
        if (strcmp(val, "auto") && strcmp(val, "on") && strcmp(val, "off"))
            return pvm_error_set_field(err, PVM_E_INVALID, key, "qemu_stealth: must be auto, "
                                       "on or off");
        pvm_strlcpy(cfg->qemu_stealth, val, sizeof cfg->qemu_stealth);
    } else if (!strcmp(key, "agent_channel")) {
        if (strcmp(val, "auto") && strcmp(val, "virtio") && strcmp(val, "isa-serial"))
            return pvm_error_set_field(err, PVM_E_INVALID, key, "agent_channel: must be auto, "
                                       "virtio or isa-serial");
        pvm_strlcpy(cfg->agent_channel, val, sizeof cfg->agent_channel);
    } else {
        return pvm_error_set(err, PVM_E_INVALID, "%.40s: unknown key (known: accel, max_cpus, "
                             "max_memory, qemu, backend, theme, qemu_stealth, agent_channel)",
                             key);
    }
    return 0;
}

/* ------------------------------------------------------------- writing */

static int pvm_cfg_write(const char *path, const pvm_config *cfg, pvm_error *err)
{
    char mem[32];
    pvm_cfg_size_text(cfg->max_memory, mem, sizeof mem);
    char *text = pvm_xasprintf(
        "# privarion-vm configuration. Lines are \"key = value\"; '#' starts a comment.\n"
        "# Delete this file to get the defaults back (they follow the host).\n"
        "\n"
        "# Acceleration: auto, kvm or tcg. auto runs a short test boot under KVM once\n"
        "# (remembered in accel-probe) and falls back to tcg when guests cannot run.\n"
        "# The environment variable PRIVARION_VM_ACCEL overrides this.\n"
        "accel = %s\n"
        "\n"
        "# Most host cores the running VMs together may use. Every VM's QEMU runs on\n"
        "# these cores only (CPU affinity), so a VM may show more vCPUs than this\n"
        "# (the topology of its profile's CPU): they then share the cores.\n"
        "# Default: half the host's %d online cores, at least 1; at most all of them.\n"
        "max_cpus = %d\n"
        "\n"
        "# Most memory one VM, and all running VMs together, may use.\n"
        "# Sizes take K, M, G, T (powers of 1024). Default: half the host's memory;\n"
        "# at most all of it.\n"
        "max_memory = %s\n"
        "\n"
        "# The QEMU binary (a name looked up in PATH, or a path).\n"
        "qemu = %s\n"
        "\n"
        "# The hypervisor backend: qemu. (fake runs no VMs: it exists for the unit\n"
        "# tests and is used only when this line names it.)\n"
        "backend = %s\n"
        "\n"
        "# The full-screen interface's colours: a themes/NAME.theme file (default, light,\n"
        "# monochrome, solarized-dark, high-contrast, or your own in\n"
        "# $XDG_CONFIG_HOME/privarion-vm/themes). --theme NAME overrides it; T cycles them.\n"
        "theme = %s\n"
        "\n"
        "# The stealth QEMU (`privarion-vm qemu build`: Debian's QEMU source plus this\n"
        "# project's patches, which also hide ACPI, PCI, NVMe and CD-ROM marks): auto runs\n"
        "# it for profiles that hide the hypervisor when it is built for the installed\n"
        "# QEMU; on requires it for them; off never runs it.\n"
        "qemu_stealth = %s\n"
        "\n"
        "# The guest agent's channel (install, exec, copy, audit): auto puts it on the second\n"
        "# ISA serial port (the guest's ttyS1; no virtio device left) for profiles that hide\n"
        "# the hypervisor and on virtio-serial otherwise; virtio or isa-serial for every VM.\n"
        "# ISA serial is far slower for copies (tens of KB/s under TCG; README).\n"
        "agent_channel = %s\n",
        cfg->accel, pvm_host_cores(), cfg->max_cpus, mem, cfg->qemu, cfg->backend, cfg->theme,
        cfg->qemu_stealth, cfg->agent_channel);
    /* A temporary file of its own (mkostemp, 0600): two threads or sessions writing
     * the default at once each rename a whole file. */
    char *tmp = pvm_xasprintf("%s.XXXXXX", path);
    int rc = -1;
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd >= 0) {
        size_t n = strlen(text);
        ssize_t w = write(fd, text, n);
        int bad = (w < 0 || (size_t)w != n);
        bad |= close(fd) != 0;
        if (!bad && rename(tmp, path) == 0)
            rc = 0;
    }
    if (rc)
        pvm_error_set(err, PVM_E_IO, "%s: cannot write the default config: %s", path,
                      strerror(errno ? errno : EIO));
    unlink(tmp);
    free(tmp);
    free(text);
    return rc;
}

static int pvm_cfg_env(pvm_config *cfg, pvm_error *err)
{
    const char *env = getenv("PRIVARION_VM_ACCEL");
    if (!env || !*env)
        return 0;
    if (!pvm_accel_word_ok(env))
        return pvm_error_set(err, PVM_E_INVALID,
                             "PRIVARION_VM_ACCEL: must be auto, kvm or tcg (got \"%.20s\")", env);
    pvm_strlcpy(cfg->accel, env, sizeof cfg->accel);
    return 0;
}

char *pvm_config_path(const char *home)
{
    return pvm_xasprintf("%s/config", home);
}

int pvm_config_load_file(const char *home, pvm_config *cfg, pvm_error *err)
{
    pvm_config c;
    pvm_config_defaults(&c);
    if (mkdir(home, 0700) != 0 && errno != EEXIST)
        return pvm_error_set(err, PVM_E_IO, "%s: %s", home, strerror(errno));
    char *path = pvm_config_path(home);
    int rc = 0;
    pvm_error e = {0};
    struct stat st;
    if (stat(path, &st) == 0 && pvm_path_check_private("config", path, err) < 0) {
        free(path);
        return -1;
    }
    rc = pvm_kvfile_read(path, pvm_cfg_pair, &c, &e);
    if (rc && e.code == PVM_E_NOTFOUND)
        rc = pvm_cfg_write(path, &c, err);
    else if (rc && err)
        *err = e;
    free(path);
    if (rc)
        return -1;
    *cfg = c;
    return 0;
}

int pvm_config_load(const char *home, pvm_config *cfg, pvm_error *err)
{
    pvm_config c;
    if (pvm_config_load_file(home, &c, err) < 0 || pvm_cfg_env(&c, err) < 0)
        return -1;
    *cfg = c;
    return 0;
}

/* ------------------------------------------------------------- caps */

int pvm_caps_check(const pvm_config *cfg, const char *what, uint64_t memory, pvm_error *err)
{
    char a[32], b[32];
    if (memory > cfg->max_memory) {
        pvm_cfg_size_text(memory, a, sizeof a);
        pvm_cfg_size_text(cfg->max_memory, b, sizeof b);
        return pvm_error_set_field(err, PVM_E_LIMIT, what,
                                   "%s: %s is over the cap of %s (max_memory in the config)",
                                   what, a, b);
    }
    return 0;
}

int pvm_engine_theme(pvm_engine *e, char *out, size_t size, pvm_error *err)
{
    pvm_config cfg;
    if (pvm_config_load_file(pvm_engine_home(e), &cfg, err) < 0)
        return -1;
    pvm_strlcpy(out, cfg.theme, size);
    return 0;
}
