/* doctor.c - `privarion-vm doctor` in the engine: what this host offers (QEMU and its
 * version, qemu-img, the acceleration verdict, cores, memory, caps, data folder, the
 * pieces of UEFI, TPM, display and bridge) and
 * each problem with its fix naming its source. Called by cli/cmd_doctor.c via pvm.h. */
#include "qemu/qemu.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

static void pvm_doctor_problem_add(pvm_doctor *d, const char *what, const char *fix)
{
    if (d->nproblems >= PVM_DOCTOR_MAX_PROBLEMS)
        return;
    pvm_doctor_problem *p = &d->problems[d->nproblems++];
    pvm_strlcpy(p->what, what, sizeof p->what);
    pvm_strlcpy(p->fix, fix, sizeof p->fix);
}

static bool pvm_doctor_in_path(const char *prog)
{
    if (strchr(prog, '/'))
        return access(prog, X_OK) == 0;
    const char *path = getenv("PATH");
    char *copy = pvm_xstrdup(path && *path ? path : "/usr/bin:/bin");
    bool found = false;
    char *save = NULL;
    for (char *dir = strtok_r(copy, ":", &save); dir && !found; dir = strtok_r(NULL, ":", &save)) {
        char *full = pvm_xasprintf("%s/%s", dir, prog);
        found = access(full, X_OK) == 0;
        free(full);
    }
    free(copy);
    return found;
}

/* Free space under this on the data folder's file system is a problem: the
 * store, logs and sparse disks all grow there. */
#define PVM_DOCTOR_FREE_MIN (1ULL << 30)

static void pvm_doctor_space(pvm_doctor *d)
{
    struct statvfs v;
    if (statvfs(d->home, &v) < 0)
        return;
    uint64_t free_bytes = (uint64_t)v.f_bavail * v.f_frsize;
    if (free_bytes >= PVM_DOCTOR_FREE_MIN)
        return;
    char what[256], have[32];
    snprintf(what, sizeof what, "only %s free on the file system of %.120s (under 1G): writes "
             "fail with \"no space left on device\", guests pause on I/O errors",
             pvm_size_format(free_bytes, have, sizeof have), d->home);
    pvm_doctor_problem_add(d, what, "free space there (delete unused VMs, images or other "
                                    "files), or move the data folder (--home DIR)");
}

/* The folder exists (pvm_home_resolve makes it); can we write in it? */
static void pvm_doctor_home(pvm_doctor *d)
{
    char *probe = pvm_xasprintf("%s/.doctor-probe.%d", d->home, (int)getpid());
    int fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    d->home_writable = fd >= 0;
    pvm_doctor_space(d);
    if (fd >= 0) {
        close(fd);
        unlink(probe);
    } else if (errno == ENOSPC) {
        /* said by pvm_doctor_space */
    } else {
        char what[300];
        snprintf(what, sizeof what, "data folder %.200s is not writable", d->home);
        pvm_doctor_problem_add(d, what, "fix its owner/permissions (chown, chmod u+rwx), or "
                                        "use --home DIR / PRIVARION_VM_HOME");
    }
    free(probe);
}

/* Where to set accel = tcg: the environment variable when it is set (it wins). */
static void pvm_doctor_tcg_fix(const pvm_doctor *d, const char *why, char *fix, size_t size)
{
    const char *env = getenv("PRIVARION_VM_ACCEL");
    if (env && *env)
        snprintf(fix, size, "set PRIVARION_VM_ACCEL=tcg (it is set to '%.20s' and overrides the "
                            "config file)%s", env, why);
    else
        snprintf(fix, size, "set accel = tcg in %.157s%s", d->config, why);
}

/* The config file, then PRIVARION_VM_ACCEL: each problem names its own source. */
static void pvm_doctor_config(pvm_doctor *d, pvm_config *cfg)
{
    pvm_error err = {0};
    if (pvm_config_load_file(d->home, cfg, &err) < 0) {
        pvm_config_defaults(cfg);
        char fix[256];
        if (err.code == PVM_E_IO) /* StrictModes or unreadable: the message has the fix */
            snprintf(fix, sizeof fix, "see the problem's own fix (the file is %.180s)",
                     d->config);
        else
            snprintf(fix, sizeof fix, "edit %.157s at that line (or delete the file to "
                                      "get the defaults back)", d->config);
        pvm_doctor_problem_add(d, err.msg, fix);
    }
    const char *env = getenv("PRIVARION_VM_ACCEL");
    if (!env || !*env)
        return;
    pvm_strlcpy(cfg->accel, env, sizeof cfg->accel);
    if (pvm_accel_word_ok(env))
        return;
    char what[256];
    snprintf(what, sizeof what, "PRIVARION_VM_ACCEL='%.40s' must be auto, kvm or tcg (it "
                                "overrides accel in the config file)", env);
    pvm_doctor_problem_add(d, what, "set PRIVARION_VM_ACCEL to auto, kvm or tcg, or unset it "
                                    "(unset PRIVARION_VM_ACCEL) to use the config file's accel");
}

static void pvm_doctor_qemu(pvm_doctor *d, const pvm_config *cfg)
{
    pvm_error err = {0};
    pvm_strlcpy(d->qemu, cfg->qemu, sizeof d->qemu);
    if (pvm_qemu_version(cfg->qemu, d->qemu_version, sizeof d->qemu_version, &err) < 0) {
        d->qemu_version[0] = '\0';
        char what[300];
        snprintf(what, sizeof what, "QEMU (%.100s) cannot run: %.170s", cfg->qemu, err.msg);
        pvm_doctor_problem_add(d, what, "apt-get install qemu-system-x86 (or set 'qemu' in the "
                                        "config file)");
    }
    d->qemu_img = pvm_doctor_in_path("qemu-img");
    if (!d->qemu_img)
        pvm_doctor_problem_add(d, "qemu-img is missing (needed to make disks)",
                               "apt-get install qemu-utils");
}

static void pvm_doctor_accel(pvm_doctor *d, const pvm_config *cfg)
{
    pvm_error err = {0};
    pvm_accel accel;
    pvm_strlcpy(d->accel_setting, cfg->accel, sizeof d->accel_setting);
    char fix[256];
    if (!pvm_accel_word_ok(cfg->accel)) { /* a bad PRIVARION_VM_ACCEL, said above */
        pvm_strlcpy(d->accel_reason, "unknown: PRIVARION_VM_ACCEL is not auto, kvm or tcg",
                    sizeof d->accel_reason);
        return;
    }
    if (!d->qemu_version[0]) {
        pvm_strlcpy(d->accel_reason, "unknown: QEMU cannot run", sizeof d->accel_reason);
        return;
    }
    if (pvm_accel_resolve(d->home, cfg, &accel, d->accel_reason, sizeof d->accel_reason,
                          &err) < 0) {
        pvm_strlcpy(d->accel_reason, err.msg, sizeof d->accel_reason);
        pvm_doctor_tcg_fix(d, "", fix, sizeof fix);
        pvm_doctor_problem_add(d, err.msg, fix);
        return;
    }
    pvm_strlcpy(d->accel, pvm_accel_name(accel), sizeof d->accel);
    if (accel != PVM_ACCEL_TCG || strcmp(cfg->accel, "tcg") == 0)
        return;
    if (access("/dev/kvm", R_OK | W_OK) != 0)
        pvm_doctor_problem_add(d, "/dev/kvm is not usable: guests run under TCG (slow)",
                               "load kvm_intel/kvm_amd, enable virtualization in the firmware, "
                               "and add yourself to group kvm (usermod -aG kvm $USER)");
    else {
        pvm_doctor_tcg_fix(d, " to skip the probe", fix, sizeof fix);
        char both[256];
        snprintf(both, sizeof both, "check the host's virtualization (nested KVM, firmware); "
                                    "%.170s", fix);
        pvm_doctor_problem_add(d, "/dev/kvm opens but KVM cannot run guests here: guests run "
                                  "under TCG (slow)", both);
    }
}

/* The stealth QEMU (qemu/build_state.c): built for the installed QEMU and this patch set? A
 * problem when qemu_stealth = on and it is not, or when an older build no longer matches
 * (its VMs silently fell back to stock QEMU under auto). */
static void pvm_doctor_stealth(pvm_doctor *d, const pvm_config *cfg)
{
    pvm_strlcpy(d->qemu_stealth, cfg->qemu_stealth, sizeof d->qemu_stealth);
    pvm_qemu_stealth s;
    pvm_error err = {0};
    const char *fix = "privarion-vm qemu build (as root, make stealth-qemu also installs the "
                      "build's packages)";
    if (pvm_qemu_stealth_status(&s, &err) < 0) {
        snprintf(d->stealth_note, sizeof d->stealth_note, "unknown: %.300s", err.msg);
        if (!strcmp(cfg->qemu_stealth, "on"))
            pvm_doctor_problem_add(d, err.msg, "see the message (qemu_stealth = on needs it)");
        return;
    }
    d->stealth_built = s.built;
    if (s.built) {
        snprintf(d->stealth_note, sizeof d->stealth_note, "built for %.60s, %d patches "
                 "(%.12s): %.250s", s.source_version, s.npatches, s.patch_hash, s.binary);
        return;
    }
    snprintf(d->stealth_note, sizeof d->stealth_note, "not built for %.60s with this patch set"
             "%s%.100s%s; VMs hiding the hypervisor run stock QEMU (ACPI, PCI, NVMe and "
             "CD-ROM marks stay)", s.source_version, s.other_key[0] ? " (a stale build: " : "",
             s.other_key, s.other_key[0] ? ")" : "");
    if (!strcmp(cfg->qemu_stealth, "on"))
        pvm_doctor_problem_add(d, "qemu_stealth = on but the stealth QEMU is not built for the "
                               "installed QEMU: VMs that hide the hypervisor cannot start", fix);
    else if (strcmp(cfg->qemu_stealth, "off") && s.other_key[0])
        pvm_doctor_problem_add(d, "the stealth QEMU was built for another QEMU version or patch "
                               "set: VMs that hide the hypervisor run stock QEMU now", fix);
}

/* The pieces of real guests (issue 12): OVMF (--firmware uefi*), swtpm (--tpm), SeaBIOS's
 * Cirrus VGA BIOS (bios's default screen) and ramfb one (--video ramfb under bios), the
 * bridge helper (--net bridge=BR): each listed present or not in d->pieces, and one problem
 * naming what each missing one disables, with the one apt-get line. */
static void pvm_doctor_real_guests(pvm_doctor *d)
{
    static const struct { const char *path; bool prog; const char *pkg, *what; } need[] = {
        {"/usr/share/OVMF/OVMF_CODE_4M.fd", false, "ovmf", "--firmware uefi"},
        {"/usr/share/OVMF/OVMF_VARS_4M.ms.fd", false, "ovmf", "--firmware uefi-secure"},
        {"swtpm", true, "swtpm swtpm-tools", "--tpm"},
        {"/usr/share/seabios/vgabios-cirrus.bin", false, "seabios", "the default screen under bios"},
        {"/usr/share/seabios/vgabios-ramfb.bin", false, "seabios", "the ramfb screen under bios"},
        {"/usr/lib/qemu/qemu-bridge-helper", false, "qemu-system-common", "--net bridge"},
    };
    char what[256] = "", pkgs[160] = "";
    for (size_t i = 0; i < sizeof need / sizeof need[0]; i++) {
        bool ok = need[i].prog ? pvm_doctor_in_path(need[i].path) : access(need[i].path, R_OK) == 0;
        if (d->npieces < sizeof d->pieces / sizeof d->pieces[0]) {
            pvm_strlcpy(d->pieces[d->npieces].what, need[i].what, sizeof d->pieces[0].what);
            pvm_strlcpy(d->pieces[d->npieces].path, need[i].path, sizeof d->pieces[0].path);
            d->pieces[d->npieces++].present = ok;
        }
        if (ok)
            continue;
        size_t n = strlen(what);
        snprintf(what + n, sizeof what - n, "%s%s (%s)", n ? ", " : "missing: ", need[i].path,
                 need[i].what);
        if (!strstr(pkgs, need[i].pkg)) {
            n = strlen(pkgs);
            snprintf(pkgs + n, sizeof pkgs - n, " %s", need[i].pkg);
        }
    }
    if (!what[0])
        return;
    char fix[256];
    snprintf(fix, sizeof fix, "as root: apt-get install%s", pkgs);
    pvm_doctor_problem_add(d, what, fix);
}

int pvm_doctor_run(const char *home_flag, pvm_doctor *out, pvm_error *err)
{
    memset(out, 0, sizeof *out);
    if (pvm_home_resolve(home_flag, out->home, sizeof out->home, err) < 0)
        return -1;
    char *config = pvm_config_path(out->home);
    pvm_strlcpy(out->config, config, sizeof out->config);
    free(config);
    pvm_config cfg;
    pvm_doctor_home(out);
    pvm_doctor_config(out, &cfg);
    out->host_cores = pvm_host_cores();
    out->host_memory = pvm_host_memory();
    out->max_cpus = cfg.max_cpus;
    pvm_host_share(cfg.max_cpus, out->cpu_share, sizeof out->cpu_share);
    out->max_memory = cfg.max_memory;
    pvm_doctor_qemu(out, &cfg);
    pvm_doctor_accel(out, &cfg);
    pvm_doctor_real_guests(out);
    pvm_doctor_stealth(out, &cfg);
    return 0;
}
