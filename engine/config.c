/* config.c - HOME/config: accel, the vCPU and memory caps (never above the host's
 * own cores and memory) and the QEMU binary, as "key = value" lines written with
 * defaults on first use; the caps check. Called by vm.c, vm_ops.c and doctor.c. */
#include "hv.h"
#include "qemu/qemu.h"

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
    if (cfg->max_memory < PVM_MIB)
        cfg->max_memory = PVM_MIB;
    pvm_strlcpy(cfg->qemu, "qemu-system-x86_64", sizeof cfg->qemu);
    pvm_strlcpy(cfg->backend, "qemu", sizeof cfg->backend);
}

/* ------------------------------------------------------------- sizes */

/* A size above 0 in the command line's grammar (pvm_size_parse: "12G", "512M"). */
static int pvm_cfg_size(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    if (pvm_size_parse("max_memory", s, &v, NULL) < 0 || v == 0)
        return -1;
    *out = v;
    return 0;
}

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

static char *pvm_trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

static int pvm_cfg_bad(const char *path, int line, const char *key, const char *rule,
                       pvm_error *err)
{
    return pvm_error_set(err, PVM_E_INVALID, "%s line %d: %s: %s", path, line, key, rule);
}

static int pvm_cfg_set(pvm_config *cfg, const char *path, int line, const char *key,
                       const char *val, pvm_error *err)
{
    if (!strcmp(key, "accel")) {
        if (!pvm_accel_word_ok(val))
            return pvm_cfg_bad(path, line, key, "must be auto, kvm or tcg", err);
        pvm_strlcpy(cfg->accel, val, sizeof cfg->accel);
    } else if (!strcmp(key, "max_cpus")) {
        char *end;
        errno = 0;
        long v = strtol(val, &end, 10);
        if (errno || end == val || *end || v < 1 || v > 4096)
            return pvm_cfg_bad(path, line, key, "must be a whole number from 1 to 4096", err);
        if (v > pvm_host_cores())
            return pvm_error_set(err, PVM_E_INVALID, "%s line %d: %s: %ld is more than this "
                                 "host's %d online cores (at most %d)", path, line, key, v,
                                 pvm_host_cores(), pvm_host_cores());
        cfg->max_cpus = (int)v;
    } else if (!strcmp(key, "max_memory")) {
        if (pvm_cfg_size(val, &cfg->max_memory))
            return pvm_cfg_bad(path, line, key,
                               "must be a size above 0 such as 8G, 512M (K, M, G, T = powers of 1024)",
                               err);
        uint64_t host = pvm_host_memory();
        if (cfg->max_memory > host) {
            char want[32], have[32];
            return pvm_error_set(err, PVM_E_INVALID, "%s line %d: %s: %s is more than this "
                                 "host's %s of memory", path, line, key,
                                 pvm_size_format(cfg->max_memory, want, sizeof want),
                                 pvm_size_format(host, have, sizeof have));
        }
    } else if (!strcmp(key, "qemu")) {
        if (!*val || strlen(val) >= sizeof cfg->qemu)
            return pvm_cfg_bad(path, line, key, "must be a program name or path of 1 to 255 bytes",
                               err);
        pvm_strlcpy(cfg->qemu, val, sizeof cfg->qemu);
    } else if (!strcmp(key, "backend")) {
        if (!pvm_hv_word_ok(val))
            return pvm_cfg_bad(path, line, key, "must be qemu or fake", err);
        pvm_strlcpy(cfg->backend, val, sizeof cfg->backend);
    } else {
        return pvm_cfg_bad(path, line, key,
                           "unknown key (known: accel, max_cpus, max_memory, qemu, backend)",
                           err);
    }
    return 0;
}

static int pvm_cfg_line(pvm_config *cfg, const char *path, int line, char *text, pvm_error *err)
{
    char *s = pvm_trim(text);
    if (!*s || *s == '#')
        return 0;
    char *eq = strchr(s, '=');
    if (!eq)
        return pvm_error_set(err, PVM_E_INVALID, "%s line %d: expected \"key = value\", got \"%.60s\"",
                             path, line, s);
    *eq = '\0';
    char *key = pvm_trim(s);
    char *val = pvm_trim(eq + 1);
    if (!*key)
        return pvm_error_set(err, PVM_E_INVALID, "%s line %d: missing key before '='", path, line);
    return pvm_cfg_set(cfg, path, line, key, val, err);
}

static int pvm_cfg_parse(FILE *f, const char *path, pvm_config *cfg, pvm_error *err)
{
    char buf[1024];
    int line = 0;
    while (fgets(buf, sizeof buf, f)) {
        line++;
        if (!strchr(buf, '\n') && !feof(f))
            return pvm_error_set(err, PVM_E_INVALID, "%s line %d: line too long", path, line);
        if (pvm_cfg_line(cfg, path, line, buf, err))
            return -1;
    }
    if (ferror(f))
        return pvm_error_set(err, PVM_E_IO, "%s: read failed", path);
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
        "# Most vCPUs one VM, and all running VMs together, may use.\n"
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
        "backend = %s\n",
        cfg->accel, pvm_host_cores(), cfg->max_cpus, mem, cfg->qemu, cfg->backend);
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
    FILE *f = fopen(path, "re");
    if (f) {
        rc = pvm_cfg_parse(f, path, &c, err);
        fclose(f);
    } else if (errno == ENOENT) {
        rc = pvm_cfg_write(path, &c, err);
    } else {
        rc = pvm_error_set(err, PVM_E_IO, "%s: %s", path, strerror(errno));
    }
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

int pvm_caps_check(const pvm_config *cfg, const char *what, int cpus, uint64_t memory,
                   pvm_error *err)
{
    char a[32], b[32];
    if (cpus > cfg->max_cpus)
        return pvm_error_set(err, PVM_E_LIMIT,
                             "%s: cpus %d is over the cap of %d (max_cpus in the config)", what,
                             cpus, cfg->max_cpus);
    if (memory > cfg->max_memory) {
        pvm_cfg_size_text(memory, a, sizeof a);
        pvm_cfg_size_text(cfg->max_memory, b, sizeof b);
        return pvm_error_set(err, PVM_E_LIMIT,
                             "%s: memory %s is over the cap of %s (max_memory in the config)",
                             what, a, b);
    }
    return 0;
}
