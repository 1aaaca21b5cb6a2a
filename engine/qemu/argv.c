/* qemu_argv.c - the pure QEMU command-line builder: profile + VM + host paths
 * -> argv, plus the argv vector and option-value escaping. No I/O here.
 * Called by vm_ops.c (start), vm.c (create's dry run) and the unit tests. */
#include "qemu.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The CPU model and its QOM type (for -global, which takes a value verbatim). */
#define PVM_CPU_MODEL "qemu64"
#define PVM_CPU_TYPE "qemu64-x86_64-cpu"
#define PVM_BRAND_MAX 48
#define PVM_BRIDGE_HELPER "/usr/lib/qemu/qemu-bridge-helper" /* CPUID leaves 0x80000002..4 hold 48 bytes */

/* ------------------------------------------------------------------ argv */

void pvm_argv_init(pvm_argv *a)
{
    a->n = 0;
    a->cap = 16;
    a->v = pvm_xcalloc(a->cap, sizeof *a->v);
}

void pvm_argv_add(pvm_argv *a, const char *s)
{
    if (a->n + 2 > a->cap) {
        a->cap *= 2;
        a->v = pvm_xrealloc(a->v, a->cap * sizeof *a->v);
    }
    a->v[a->n++] = pvm_xstrdup(s);
    a->v[a->n] = NULL;
}

void pvm_argv_free(pvm_argv *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->v[i]);
    free(a->v);
    a->v = NULL;
    a->n = a->cap = 0;
}

static void pvm_argv_clear(pvm_argv *a)
{
    pvm_argv_free(a);
    pvm_argv_init(a);
}

static void pvm_argv_add2(pvm_argv *a, const char *opt, const char *val)
{
    pvm_argv_add(a, opt);
    pvm_argv_add(a, val);
}

char *pvm_qemu_escape(const char *value)
{
    size_t n = 0;
    for (const char *s = value; *s; s++)
        n += *s == ',' ? 2 : 1;
    char *out = pvm_xmalloc(n + 1), *d = out;
    for (const char *s = value; *s; s++) {
        *d++ = *s;
        if (*s == ',')
            *d++ = ',';
    }
    *d = '\0';
    return out;
}

const char *pvm_accel_name(pvm_accel a)
{
    return a == PVM_ACCEL_KVM ? "kvm" : "tcg";
}

/* ------------------------------------------------ option strings, escaped */

/* An option value under construction: "key=value,key=value". Fixed parts are
 * appended raw; every variable value goes through pvm_opt_kv (escaped). */
typedef struct pvm_opt {
    char *s;
    size_t len, cap;
} pvm_opt;

static void pvm_opt_raw(pvm_opt *o, const char *s)
{
    size_t n = strlen(s);
    if (o->len + n + 1 > o->cap) {
        o->cap = (o->len + n + 1) * 2;
        o->s = pvm_xrealloc(o->s, o->cap);
    }
    memcpy(o->s + o->len, s, n + 1);
    o->len += n;
}

static void pvm_opt_start(pvm_opt *o, const char *first)
{
    o->s = NULL;
    o->len = o->cap = 0;
    pvm_opt_raw(o, first);
}

/* Appends ",key=<escaped value>" (no leading comma when the option is empty). */
static void pvm_opt_kv(pvm_opt *o, const char *key, const char *value)
{
    char *esc = pvm_qemu_escape(value);
    if (o->len)
        pvm_opt_raw(o, ",");
    pvm_opt_raw(o, key);
    pvm_opt_raw(o, "=");
    pvm_opt_raw(o, esc);
    free(esc);
}

/* Appends value escaped, with no key (an option's implied first value: "unix:PATH"). */
static void pvm_opt_esc(pvm_opt *o, const char *value)
{
    char *esc = pvm_qemu_escape(value);
    pvm_opt_raw(o, esc);
    free(esc);
}

static void pvm_opt_kv_nonempty(pvm_opt *o, const char *key, const char *value)
{
    if (value && *value)
        pvm_opt_kv(o, key, value);
}

/* Adds "opt <option string>" to argv and releases the option. */
static void pvm_opt_emit(pvm_argv *a, const char *opt, pvm_opt *o)
{
    pvm_argv_add2(a, opt, o->s);
    free(o->s);
    o->s = NULL;
}

/* --------------------------------------------------------------- checks */

static int pvm_check_text(const char *what, const char *s, pvm_error *err)
{
    for (const unsigned char *c = (const unsigned char *)s; *c; c++)
        if (*c < 0x20 || *c > 0x7e)
            return pvm_error_set_field(err, PVM_E_INVALID, what,
                                       "%s: must be printable ASCII (byte 0x%02x found)", what, *c);
    return 0;
}

static int pvm_check_profile_text(const pvm_profile *p, pvm_error *err)
{
    size_t count;
    const pvm_field *f = pvm_profile_fields(&count);
    for (size_t i = 0; i < count; i++)
        if (pvm_check_text(f[i].key, pvm_profile_field_cptr(p, &f[i]), err))
            return -1;
    /* Number and chassis fields reach -cpu, which has no escape: their own rule again. */
    pvm_profile scratch;
    for (size_t i = 0; i < count; i++)
        if ((f[i].kind == PVM_FK_UINT || f[i].kind == PVM_FK_HEX ||
             f[i].kind == PVM_FK_CHASSIS) &&
            pvm_profile_set(&scratch, &f[i], pvm_profile_field_cptr(p, &f[i]), err) < 0)
            return -1;
    if (strlen(p->hw.cpu_model) > PVM_BRAND_MAX)
        return pvm_error_set_field(
            err, PVM_E_INVALID, "cpuModel",
            "cpuModel: the CPU brand string holds at most %d bytes (%zu given)", PVM_BRAND_MAX,
            strlen(p->hw.cpu_model));
    if (strlen(p->disk_serial) > PVM_DISK_SERIAL_MAX)
        return pvm_error_set_field(err, PVM_E_INVALID, "diskSerial", "diskSerial: at most %d bytes",
                                   PVM_DISK_SERIAL_MAX);
    return 0;
}

static int pvm_check_path(const char *what, const char *path, size_t max, pvm_error *err)
{
    if (!path || !*path)
        return pvm_error_set(err, PVM_E_INVALID, "%s: path is missing", what);
    /* Absolute only: a relative "nbd:host:port" or "json:{...}" would make
     * QEMU open a network or structured block device instead of a file. */
    if (path[0] != '/')
        return pvm_error_set(err, PVM_E_INVALID, "%s: must be an absolute path: %s", what, path);
    if (max && strlen(path) > max)
        return pvm_error_set(err, PVM_E_INVALID,
                             "%s: socket path is %zu bytes, unix sockets take at most %zu: %s",
                             what, strlen(path), max, path);
    return 0;
}

static int pvm_check_paths(const pvm_qemu_paths *paths, pvm_error *err)
{
    if (!paths->qemu || !*paths->qemu)
        return pvm_error_set(err, PVM_E_INVALID, "qemu: the QEMU binary is missing");
    if (pvm_check_path("disk", paths->disk, 0, err) ||
        pvm_check_path("qmp socket", paths->qmp_sock, PVM_SOCK_PATH_MAX, err) ||
        pvm_check_path("qmp owner socket", paths->qmp_owner_sock, PVM_SOCK_PATH_MAX, err) ||
        pvm_check_path("guest agent socket", paths->qga_sock, PVM_SOCK_PATH_MAX, err) ||
        pvm_check_path("serial socket", paths->serial_sock, PVM_SOCK_PATH_MAX, err) ||
        pvm_check_path("serial log", paths->serial_log, 0, err) ||
        pvm_check_path("pid file", paths->pidfile, 0, err) ||
        pvm_check_path("smbios type 0 file", paths->smbios_type0, 0, err) ||
        pvm_check_path("smbios folder", paths->smbios_dir, PVM_PATH_MAX - 32, err))
        return -1;
    if (paths->vnc_sock && pvm_check_path("vnc socket", paths->vnc_sock, PVM_SOCK_PATH_MAX, err))
        return -1;
    return 0;
}

static int pvm_check_vm(const pvm_vm *vm, pvm_error *err)
{
    if (vm->cpus < 1)
        return pvm_error_set_field(err, PVM_E_INVALID, "cpus",
                                   "cpus: must be at least 1 (%d given)", vm->cpus);
    if (vm->memory_bytes < (1u << 20) || vm->memory_bytes % (1u << 20))
        return pvm_error_set_field(
            err, PVM_E_INVALID, "memory",
            "memory: must be a whole number of MiB, at least 1M (%llu bytes given)",
            (unsigned long long)vm->memory_bytes);
    if (pvm_check_text("name", vm->name, err))
        return -1;
    if (!vm->name[0])
        return pvm_error_set_field(err, PVM_E_INVALID, "name", "name: must not be empty");
    if ((vm->iso[0] && pvm_check_path("iso", vm->iso, 0, err)) ||
        (vm->kernel[0] && pvm_check_path("kernel", vm->kernel, 0, err)) ||
        (vm->initrd[0] && pvm_check_path("initrd", vm->initrd, 0, err)))
        return -1;
    if ((vm->initrd[0] || vm->append[0]) && !vm->kernel[0])
        return pvm_error_set(err, PVM_E_INVALID, "initrd/append: need a kernel");
    return 0;
}

/* Values QEMU would otherwise invent, each a mark of QEMU the guest can read. */
static int pvm_check_identity(const pvm_profile *p, const pvm_vm *vm, pvm_error *err)
{
    char qn[PVM_NAME_MAX * 4 + 3];
    pvm_shell_word(p->name, qn, sizeof qn);
    if (vm->net != PVM_NET_NONE && !p->mac[0])
        return pvm_error_set_field(
            err, PVM_E_INVALID, "macAddress",
            "macAddress: empty in profile '%s', so QEMU would give the guest a "
            "52:54:00 address (QEMU's own prefix, a VM mark); set one with "
            "privarion-vm profile edit %s --mac XX:XX:XX:XX:XX:XX (or --random), or use "
            "--net none",
            p->name, qn);
    if (!p->hw.cpu_model[0])
        return pvm_error_set_field(
            err, PVM_E_INVALID, "cpuModel",
            "cpuModel: empty in profile '%s', so the guest would read QEMU's "
            "own CPU brand \"QEMU Virtual CPU version 2.5+\"; set one with "
            "privarion-vm profile edit %s --cpu-model STR (or --preset KEY)",
            p->name, qn);
    if (vm->disk_bus == PVM_DISK_NVME && !p->disk_serial[0])
        return pvm_error_set_field(
            err, PVM_E_INVALID, "diskSerial",
            "diskSerial: the nvme disk bus needs a disk serial (QEMU requires "
            "one); set one with privarion-vm profile edit %s --disk-serial S (or --random)",
            qn);
    if (vm->disk_bus == PVM_DISK_SATA && !p->disk_serial[0])
        return pvm_error_set_field(
            err, PVM_E_INVALID, "diskSerial",
            "diskSerial: empty in profile '%s', so QEMU would give the sata disk "
            "its own serial QM00001 (a VM mark); set one with privarion-vm profile edit %s "
            "--disk-serial S (or --random)",
            p->name, qn);
    return 0;
}

/* ------------------------------------------------------- ACPI OEM fields */

typedef struct pvm_oem {
    const char *match; /* lower-case substring of the manufacturer */
    const char *id;    /* 6 bytes */
    const char *table; /* 8 bytes */
} pvm_oem;

static const pvm_oem pvm_oems[] = {
    { "dell", "DELL  ", "CBX3    " },
    { "lenovo", "LENOVO", "TP-R0D  " },
    { "hewlett", "HPQOEM", "SLIC-MPC" },
    { "hp", "HPQOEM", "SLIC-MPC" },
    { "apple", "APPLE ", "Apple00 " },
    { "microsoft", "MSFT  ", "MSFT    " },
    { "asus", "_ASUS_", "Notebook" },
};

static int pvm_contains_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0)
            return 1;
    return 0;
}

/* Upper-cased letters and digits of s, at most width of them, space padded.
 * Returns how many came from s. */
static size_t pvm_oem_letters(const char *s, char *out, size_t width)
{
    size_t k = 0;
    for (; *s && k < width; s++)
        if (isalnum((unsigned char)*s))
            out[k++] = (char)toupper((unsigned char)*s);
    size_t got = k;
    while (k < width)
        out[k++] = ' ';
    out[k] = '\0';
    return got;
}

/* Fills id (7 bytes) and table (9 bytes) from the manufacturer: a known
 * vendor's own values, else its letters, else AMI's generic "ALASKA". */
static void pvm_oem_ids(const char *manufacturer, char id[7], char table[9])
{
    for (size_t i = 0; i < sizeof pvm_oems / sizeof pvm_oems[0]; i++) {
        const char *m = pvm_oems[i].match;
        int hit = strlen(m) > 2 ? pvm_contains_ci(manufacturer, m)
                                : strncasecmp(manufacturer, m, strlen(m)) == 0;
        if (hit) {
            memcpy(id, pvm_oems[i].id, 7);
            memcpy(table, pvm_oems[i].table, 9);
            return;
        }
    }
    if (pvm_oem_letters(manufacturer, id, 6) == 0) {
        memcpy(id, "ALASKA", 7);
        memcpy(table, "A M I   ", 9);
        return;
    }
    pvm_oem_letters(manufacturer, table, 8);
}

/* ------------------------------------------------------------- sections */

static void pvm_add_machine(pvm_argv *a, const pvm_profile *p, const pvm_vm *vm,
                            pvm_accel accel)
{
    char id[7], table[9];
    pvm_oem_ids(p->hw.manufacturer, id, table);
    pvm_opt o;
    pvm_opt_start(&o, "q35");
    pvm_opt_raw(&o, ",accel=");
    pvm_opt_raw(&o, pvm_accel_name(accel));
    if (vm->firmware == PVM_FIRMWARE_UEFI_SECURE) /* Secure Boot's variables live in SMM */
        pvm_opt_raw(&o, ",smm=on");
    pvm_opt_kv(&o, "x-oem-id", id);
    pvm_opt_kv(&o, "x-oem-table-id", table);
    pvm_opt_emit(a, "-machine", &o);
}

/* The CPUID vendor matching the brand, so an Intel brand is not "AuthenticAMD". */
static const char *pvm_cpu_vendor(const pvm_hw_model *hw)
{
    const char *src[] = { hw->cpu_manufacturer, hw->cpu_model };
    for (size_t i = 0; i < 2; i++) {
        if (pvm_contains_ci(src[i], "intel"))
            return "GenuineIntel";
        if (pvm_contains_ci(src[i], "amd") || pvm_contains_ci(src[i], "advanced micro"))
            return "AuthenticAMD";
    }
    return NULL;
}

/* A named QEMU CPU model close to the brand's vendor (its feature flags), and the flags
 * TCG cannot give (QEMU 7.2 warns about each and drops it; turned off here so the guest
 * and the log agree). No vendor: qemu64, as before. */
typedef struct pvm_cpu_choice {
    const char *model; /* -cpu NAME */
    const char *type;  /* its QOM type, for -global */
    const char *tcg_off;
} pvm_cpu_choice;

static const pvm_cpu_choice pvm_cpu_intel = {
    "Skylake-Client-v4", "Skylake-Client-v4-x86_64-cpu",
    ",-pcid,-x2apic,-tsc-deadline,-invpcid,-rdseed,-spec-ctrl,-3dnowprefetch,-xsavec,-xsaves",
};
static const pvm_cpu_choice pvm_cpu_amd = {
    "EPYC-Rome-v2", "EPYC-Rome-v2-x86_64-cpu",
    ",-rdseed,-sha-ni,-rdpid,-fxsr-opt,-misalignsse,-3dnowprefetch,-osvw,-topoext,"
    "-perfctr-core,-clzero,-xsaveerptr,-wbnoinvd,-ibpb,-ibrs,-amd-stibp,-amd-ssbd,-nrip-save,"
    "-xsavec,-xsaves",
};
static const pvm_cpu_choice pvm_cpu_generic = { PVM_CPU_MODEL, PVM_CPU_TYPE, "" };

static const pvm_cpu_choice *pvm_cpu_pick(const pvm_hw_model *hw)
{
    const char *vendor = pvm_cpu_vendor(hw);
    if (!vendor)
        return &pvm_cpu_generic;
    return !strcmp(vendor, "GenuineIntel") ? &pvm_cpu_intel : &pvm_cpu_amd;
}

/* ",family=N,model=N,stepping=N,ucode-rev=N" for the fields the profile sets. */
static void pvm_add_cpu_ids(pvm_opt *o, const pvm_hw_model *hw)
{
    pvm_opt_kv_nonempty(o, "family", hw->cpu_family);
    pvm_opt_kv_nonempty(o, "model", hw->cpu_model_number);
    pvm_opt_kv_nonempty(o, "stepping", hw->cpu_stepping);
    if (hw->cpu_microcode[0]) {
        /* QEMU's ucode-rev is MSR 0x8B's whole value: Intel keeps the revision in the
         * high half (IA32_BIOS_SIGN_ID), AMD in the low one (PATCH_LEVEL). */
        const char *vendor = pvm_cpu_vendor(hw);
        bool amd = vendor && !strcmp(vendor, "AuthenticAMD");
        char v[32];
        snprintf(v, sizeof v, amd ? "0x%lx" : "0x%lx00000000",
                 pvm_profile_num(hw->cpu_microcode, 0));
        pvm_opt_kv(o, "ucode-rev", v);
    }
}

static void pvm_add_cpu(pvm_argv *a, const pvm_profile *p, const pvm_vm *vm, pvm_accel accel)
{
    const pvm_cpu_choice *c = pvm_cpu_pick(&p->hw);
    pvm_opt o;
    pvm_opt_start(&o, c->model);
    if (accel == PVM_ACCEL_TCG)
        pvm_opt_raw(&o, c->tcg_off);
    if (p->hide_hypervisor) {
        pvm_opt_raw(&o, ",-hypervisor");
        pvm_opt_raw(&o, accel == PVM_ACCEL_KVM ? ",kvm=off" : ",tcg-cpuid=off");
    }
    const char *vendor = pvm_cpu_vendor(&p->hw);
    if (vendor)
        pvm_opt_kv(&o, "vendor", vendor);
    /* qemu64 carries AMD's SVM flag; no Intel CPU has it. */
    if (vendor && !strcmp(vendor, "GenuineIntel"))
        pvm_opt_raw(&o, ",-svm");
    pvm_add_cpu_ids(&o, &p->hw);
    pvm_opt_emit(a, "-cpu", &o);
    /* -cpu splits its features on every comma with no escape, so the brand
     * (never empty: pvm_check_identity) goes through -global, whose value QEMU
     * takes verbatim (not escaped). */
    char *g = pvm_xasprintf("%s.model-id=%s", c->type, p->hw.cpu_model);
    pvm_argv_add2(a, "-global", g);
    free(g);
    pvm_cpu_topo t;
    pvm_cpu_topology(&p->hw, vm->cpus, &t);
    char num[96];
    snprintf(num, sizeof num, "%d,sockets=%d,cores=%d,threads=%d", vm->cpus, t.sockets, t.cores,
             t.threads);
    pvm_argv_add2(a, "-smp", num);
    snprintf(num, sizeof num, "%llu", (unsigned long long)(vm->memory_bytes >> 20));
    pvm_argv_add2(a, "-m", num);
}

/* One -smbios type=N option. Fields QEMU would otherwise fill with "QEMU" or
 * the machine type are always given (empty = no string); others only when set. */
typedef struct pvm_smbios_kv {
    const char *key;
    const char *value;
    int always;
} pvm_smbios_kv;

static void pvm_add_smbios_type(pvm_argv *a, const char *type, const pvm_smbios_kv *kv, size_t n)
{
    pvm_opt o;
    pvm_opt_start(&o, type);
    for (size_t i = 0; i < n; i++) {
        if (kv[i].always)
            pvm_opt_kv(&o, kv[i].key, kv[i].value);
        else
            pvm_opt_kv_nonempty(&o, kv[i].key, kv[i].value);
    }
    pvm_opt_emit(a, "-smbios", &o);
}

static void pvm_add_smbios_file(pvm_argv *a, const char *dir, int type, int index)
{
    char path[PVM_PATH_MAX];
    pvm_opt o;
    pvm_opt_start(&o, "");
    pvm_smbios_table_path(dir, type, index, path, sizeof path); /* fits: pvm_check_paths */
    pvm_opt_kv(&o, "file", path);
    pvm_opt_emit(a, "-smbios", &o);
}

static void pvm_add_smbios(pvm_argv *a, const pvm_profile *p, const pvm_vm *vm,
                           const pvm_qemu_paths *paths)
{
    const pvm_hw_model *hw = &p->hw;
    pvm_opt o;
    pvm_opt_start(&o, "");
    pvm_opt_kv(&o, "file", paths->smbios_type0);
    pvm_opt_emit(a, "-smbios", &o);

    const pvm_smbios_kv t1[] = {
        { "manufacturer", hw->manufacturer, 1 }, { "product", hw->product, 1 },
        { "version", hw->version, 1 },           { "serial", p->serial, 0 },
        { "sku", hw->sku, 0 },                   { "family", hw->family, 0 },
    };
    const pvm_smbios_kv t2[] = {
        { "manufacturer", hw->board_manufacturer, 1 }, { "product", hw->board_product, 1 },
        { "version", hw->board_version, 1 },           { "serial", hw->board_serial, 0 },
    };
    pvm_add_smbios_type(a, "type=1", t1, sizeof t1 / sizeof t1[0]);
    pvm_add_smbios_type(a, "type=2", t2, sizeof t2 / sizeof t2[0]);
    /* Chassis, processors and memory devices as raw structures, one per file (QEMU
     * registers only the first structure of a file): smbios_hw.c. */
    pvm_cpu_topo t;
    pvm_cpu_topology(hw, vm->cpus, &t);
    pvm_add_smbios_file(a, paths->smbios_dir, 3, 0);
    for (int i = 0; i < t.sockets; i++)
        pvm_add_smbios_file(a, paths->smbios_dir, 4, i);
    int dimms = pvm_smbios_dimm_count(vm->memory_bytes);
    for (int i = 0; i < dimms; i++)
        pvm_add_smbios_file(a, paths->smbios_dir, 17, i);
}

static void pvm_add_disk(pvm_argv *a, const pvm_profile *p, const pvm_vm *vm,
                         const pvm_qemu_paths *paths)
{
    pvm_opt o;
    pvm_opt_start(&o, "");
    pvm_opt_kv(&o, "file", paths->disk);
    pvm_opt_raw(&o, ",if=none,id=" PVM_QEMU_DRIVE_ID ",node-name=" PVM_QEMU_DISK_NODE
                    ",format=qcow2,cache=writeback,discard=unmap");
    pvm_opt_emit(a, "-drive", &o);

    static const char *dev[] = {
        [PVM_DISK_VIRTIO] = "virtio-blk-pci",
        [PVM_DISK_NVME] = "nvme,use-intel-id=on",
        /* AHCI is built into q35 as buses ide.0 .. ide.5; the model and
         * firmware revision replace "QEMU HARDDISK" and "2.5+". */
        [PVM_DISK_SATA] = "ide-hd,bus=ide.0,model=SATA SSD,ver=SBFM61.3",
    };
    pvm_opt_start(&o, dev[vm->disk_bus]);
    pvm_opt_raw(&o, ",drive=" PVM_QEMU_DRIVE_ID);
    /* Index 0 stays free for -kernel (QEMU gives its linuxboot ROM index 0). */
    pvm_opt_raw(&o, vm->iso[0] ? ",bootindex=2" : ",bootindex=1");
    pvm_opt_kv_nonempty(&o, "serial", p->disk_serial);
    pvm_opt_emit(a, "-device", &o);
}

static void pvm_add_cdrom(pvm_argv *a, const pvm_vm *vm)
{
    if (!vm->iso[0])
        return;
    pvm_opt o;
    pvm_opt_start(&o, "");
    pvm_opt_kv(&o, "file", vm->iso);
    pvm_opt_raw(&o, ",if=none,id=cd0,media=cdrom,readonly=on,format=raw");
    pvm_opt_emit(a, "-drive", &o);
    /* Without a serial QEMU would give the drive its own "QM00003". */
    char serial[13];
    size_t k = 0;
    for (const char *c = vm->id; *c && k < 12; c++)
        if (isxdigit((unsigned char)*c))
            serial[k++] = (char)toupper((unsigned char)*c);
    serial[k] = '\0';
    pvm_opt_start(&o, "ide-cd,bus=ide.1,drive=cd0,bootindex=1,model=DVD-RW Drive,ver=1.00");
    pvm_opt_kv(&o, "serial", k ? serial : "0");
    pvm_opt_emit(a, "-device", &o);
}

static void pvm_add_kernel(pvm_argv *a, const pvm_vm *vm)
{
    /* -kernel, -initrd and -append are taken whole (no option parsing),
     * and each value is its own argv element, so they are not escaped. */
    if (!vm->kernel[0])
        return;
    pvm_argv_add2(a, "-kernel", vm->kernel);
    if (vm->initrd[0])
        pvm_argv_add2(a, "-initrd", vm->initrd);
    if (vm->append[0])
        pvm_argv_add2(a, "-append", vm->append);
}

/* Each canonical forward "proto:addr:host:guest" (pvm_forwards_parse) as QEMU's
 * hostfwd=proto:addr:host-:guest (any guest address: the DHCP one). */
static void pvm_add_forwards(pvm_opt *o, const char *forwards)
{
    char *copy = pvm_xstrdup(forwards), *save = NULL;
    for (char *f = strtok_r(copy, " ", &save); f; f = strtok_r(NULL, " ", &save)) {
        char *guest = strrchr(f, ':');
        if (!guest)
            continue;
        *guest++ = '\0';
        char *v = pvm_xasprintf("%s-:%s", f, guest);
        pvm_opt_kv(o, "hostfwd", v);
        free(v);
    }
    free(copy);
}

static void pvm_add_net(pvm_argv *a, const pvm_profile *p, const pvm_vm *vm)
{
    if (vm->net == PVM_NET_NONE) {
        pvm_argv_add2(a, "-nic", "none");
        return;
    }
    pvm_opt o;
    if (vm->net == PVM_NET_BRIDGE) {
        /* a tap on the host bridge, made by QEMU's setuid helper (its bridge.conf decides) */
        pvm_opt_start(&o, "bridge,id=net0");
        pvm_opt_kv(&o, "br", vm->bridge);
        pvm_opt_raw(&o, ",helper=" PVM_BRIDGE_HELPER);
    } else {
        pvm_opt_start(&o, "user,id=net0");
        pvm_add_forwards(&o, vm->forwards);
    }
    pvm_opt_emit(a, "-netdev", &o);
    /* e1000e: an Intel Gigabit CT Desktop Adapter's subsystem id, not QEMU's 0000. */
    /* e1000e without its iPXE option ROM: no iPXE strings in the guest's memory. */
    pvm_opt_start(&o, vm->nic == PVM_NIC_E1000E ? "e1000e,subsys=0xa01f,romfile="
                                                : "virtio-net-pci");
    pvm_opt_raw(&o, ",netdev=net0");
    pvm_opt_kv_nonempty(&o, "mac", p->mac);
    pvm_opt_emit(a, "-device", &o);
}

/* "-chardev socket,id=ID,path=P,server=on,wait=off[,logfile=L,logappend=on]" */
static void pvm_add_socket(pvm_argv *a, const char *id, const char *path, const char *log)
{
    pvm_opt o;
    pvm_opt_start(&o, "socket,id=");
    pvm_opt_raw(&o, id);
    pvm_opt_kv(&o, "path", path);
    pvm_opt_raw(&o, ",server=on,wait=off");
    if (log) {
        pvm_opt_kv(&o, "logfile", log);
        pvm_opt_raw(&o, ",logappend=on");
    }
    pvm_opt_emit(a, "-chardev", &o);
}

/* "-chardev socket,id=ID,path=P": a client of a socket someone else serves. */
static void pvm_add_socket_client(pvm_argv *a, const char *id, const char *path)
{
    pvm_opt o;
    pvm_opt_start(&o, "socket,id=");
    pvm_opt_raw(&o, id);
    pvm_opt_kv(&o, "path", path);
    pvm_opt_emit(a, "-chardev", &o);
}

int pvm_qemu_agent_channel(const char *word)
{
    if (word && !strcmp(word, "virtio"))
        return PVM_AGENT_CHANNEL_VIRTIO;
    if (word && !strcmp(word, "isa-serial"))
        return PVM_AGENT_CHANNEL_ISA;
    return PVM_AGENT_CHANNEL_AUTO;
}

/* The agent on an ISA serial port: asked for, or auto with the hypervisor hidden. */
static bool pvm_agent_isa(const pvm_profile *p, int agent_channel)
{
    return agent_channel == PVM_AGENT_CHANNEL_ISA ||
           (agent_channel == PVM_AGENT_CHANNEL_AUTO && p->hide_hypervisor);
}

static void pvm_add_channels(pvm_argv *a, const pvm_profile *p, const pvm_qemu_paths *paths)
{
    /* Two monitors: QEMU serves one client per monitor, so a long-lived owner
     * (sampler, events) never blocks the short commands (hv.h, pvm_hv_monitor). */
    pvm_add_socket(a, "qmp0", paths->qmp_sock, NULL);
    pvm_argv_add2(a, "-mon", "chardev=qmp0,mode=control");
    pvm_add_socket(a, "qmp-owner", paths->qmp_owner_sock, NULL);
    pvm_argv_add2(a, "-mon", "chardev=qmp-owner,mode=control");
    pvm_add_socket(a, "qga0", paths->qga_sock, NULL);
    if (pvm_agent_isa(p, paths->agent_channel)) {
        /* the agent on the second ISA serial port (the guest's ttyS1): no virtio device,
         * no Red Hat PCI id; the guest runs qemu-ga -m isa-serial -p /dev/ttyS1 */
        pvm_argv_add2(a, "-device", PVM_QGA_ISA_DEVICE ",index=1");
    } else {
        pvm_argv_add2(a, "-device", "virtio-serial-pci,id=vser0");
        pvm_argv_add2(a, "-device", "virtserialport,bus=vser0.0," PVM_QGA_VIRTIO_PORT);
    }
    pvm_add_socket(a, "ser0", paths->serial_sock, paths->serial_log);
    pvm_argv_add2(a, "-serial", "chardev:ser0");
}

/* OVMF: code read-only (unit 0), the VM's own variables store (unit 1); Secure Boot's
 * build also needs its flash protected from code outside SMM. SeaBIOS needs nothing. */
static void pvm_add_firmware(pvm_argv *a, const pvm_vm *vm, const pvm_qemu_paths *paths)
{
    if (vm->firmware == PVM_FIRMWARE_BIOS)
        return;
    if (vm->firmware == PVM_FIRMWARE_UEFI_SECURE)
        pvm_argv_add2(a, "-global", "driver=cfi.pflash01,property=secure,value=on");
    pvm_opt o;
    pvm_opt_start(&o, "if=pflash,format=raw,unit=0,readonly=on");
    pvm_opt_kv(&o, "file", paths->ovmf_code);
    pvm_opt_emit(a, "-drive", &o);
    pvm_opt_start(&o, "if=pflash,format=raw,unit=1");
    pvm_opt_kv(&o, "file", paths->ovmf_vars);
    pvm_opt_emit(a, "-drive", &o);
}

/* A TPM 2.0 on the CRB interface (q35's; Windows 11 takes it) backed by the VM's swtpm. */
static void pvm_add_tpm(pvm_argv *a, const pvm_vm *vm, const pvm_qemu_paths *paths)
{
    if (!vm->tpm)
        return;
    pvm_add_socket_client(a, "chrtpm", paths->tpm_sock);
    pvm_argv_add2(a, "-tpmdev", "emulator,id=tpm0,chardev=chrtpm");
    pvm_argv_add2(a, "-device", "tpm-crb,tpmdev=tpm0");
}

/* The adapter the guest sees (see pvm_video in pvm.h for each one's PCI ids) and the VNC
 * server, on a unix socket in the private runtime folder only (never a TCP port). */
static void pvm_add_display(pvm_argv *a, const pvm_vm *vm, const pvm_qemu_paths *paths)
{
    if (vm->display != PVM_DISPLAY_VNC)
        return;
    static const char *dev[] = {
        [PVM_VIDEO_RAMFB] = "ramfb", [PVM_VIDEO_VGA] = "VGA", [PVM_VIDEO_VIRTIO] = "virtio-vga",
        [PVM_VIDEO_CIRRUS] = "cirrus-vga",
    };
    pvm_argv_add2(a, "-device", dev[vm->video]);
    pvm_opt o;
    pvm_opt_start(&o, "unix:");
    pvm_opt_esc(&o, paths->vnc_sock);
    pvm_opt_emit(a, "-vnc", &o);
}

static void pvm_add_process(pvm_argv *a, const pvm_vm *vm, const pvm_qemu_paths *paths)
{
    pvm_opt o;
    pvm_opt_start(&o, "");
    pvm_opt_kv(&o, "guest", vm->name);
    pvm_opt_emit(a, "-name", &o);
    pvm_argv_add(a, "-no-user-config");
    pvm_argv_add(a, "-nodefaults");
    pvm_argv_add2(a, "-display", "none");
    pvm_argv_add2(a, "-pidfile", paths->pidfile);
    pvm_argv_add(a, "-daemonize");
    if (paths->qemu_log && *paths->qemu_log) {
        pvm_argv_add2(a, "-D", paths->qemu_log);
        /* QEMU's own record of why it ends ("... reason=N"), so a guest's console
         * text never decides between a clean power-off and a crash. */
        pvm_argv_add2(a, "-trace", "enable=qemu_system_shutdown_request");
    }
}

int pvm_qemu_build_argv(const pvm_profile *p, const pvm_vm *vm, const pvm_qemu_paths *paths,
                        pvm_accel accel, pvm_argv *out, pvm_error *err)
{
    pvm_argv_clear(out);
    if (pvm_check_paths(paths, err) || pvm_check_vm(vm, err) || pvm_check_profile_text(p, err) ||
        pvm_check_identity(p, vm, err))
        return -1;
    if ((int)vm->display < PVM_DISPLAY_NONE || vm->display > PVM_DISPLAY_VNC ||
        (int)vm->video < PVM_VIDEO_RAMFB || vm->video > PVM_VIDEO_LAST)
        return pvm_error_set_field(err, PVM_E_INVALID, "display", "display: unknown display "
                                   "or video adapter");
    if (vm->display == PVM_DISPLAY_VNC && !paths->vnc_sock)
        return pvm_error_set(err, PVM_E_INVALID, "vnc socket: path is missing");
    char fw_canon[PVM_FORWARDS_MAX];
    if (pvm_forwards_parse(vm->forwards, fw_canon, sizeof fw_canon, err) < 0)
        return -1;
    if (strcmp(fw_canon, vm->forwards) != 0 || (vm->forwards[0] && vm->net != PVM_NET_USER))
        return pvm_error_set_field(err, PVM_E_INVALID, "forward", "forward: not canonical, or "
                                   "without user networking");
    if (vm->net == PVM_NET_BRIDGE && (!vm->bridge[0] || strcspn(vm->bridge, ",= ") !=
                                      strlen(vm->bridge)))
        return pvm_error_set_field(err, PVM_E_INVALID, "net", "net: bad bridge name");
    if ((int)vm->firmware < PVM_FIRMWARE_BIOS || vm->firmware > PVM_FIRMWARE_UEFI_SECURE)
        return pvm_error_set_field(err, PVM_E_INVALID, "firmware", "firmware: unknown");
    if (vm->firmware != PVM_FIRMWARE_BIOS &&
        (pvm_check_path("firmware code", paths->ovmf_code, 0, err) ||
         pvm_check_path("firmware variables", paths->ovmf_vars, 0, err)))
        return -1;
    if (vm->tpm && pvm_check_path("tpm socket", paths->tpm_sock, PVM_SOCK_PATH_MAX, err))
        return -1;
    pvm_argv_add(out, paths->qemu);
    pvm_add_process(out, vm, paths);
    pvm_add_machine(out, p, vm, accel);
    pvm_add_firmware(out, vm, paths);
    pvm_add_cpu(out, p, vm, accel);
    if (p->machine_id[0])
        pvm_argv_add2(out, "-uuid", p->machine_id);
    pvm_add_smbios(out, p, vm, paths);
    pvm_add_disk(out, p, vm, paths);
    pvm_add_cdrom(out, vm);
    pvm_add_kernel(out, vm);
    pvm_add_net(out, p, vm);
    pvm_add_channels(out, p, paths);
    pvm_add_display(out, vm, paths);
    pvm_add_tpm(out, vm, paths);
    if (paths->stealth) /* the patched build's properties (stealth.c) */
        pvm_qemu_stealth_argv(out, p, vm);
    return 0;
}

void pvm_qemu_devices(const pvm_profile *p, const pvm_vm *vm, int stealth, int agent_channel,
                      char *out, size_t size)
{
    pvm_snapshot_devices(vm, out, size);
    pvm_cpu_topo t;
    pvm_cpu_topology(&p->hw, vm->cpus > 0 ? vm->cpus : 1, &t);
    /* e1000e runs without its option ROM (romfile=); virtio-net-pci with QEMU's default */
    const char *rom = vm->net == PVM_NET_NONE      ? "none"
                      : vm->nic == PVM_NIC_E1000E ? "none"
                                                  : "default";
    size_t len = strlen(out);
    snprintf(out + len, size - len, " topology=%dx%dx%d cpuModel=%s nicRom=%s", t.sockets,
             t.cores, t.threads, pvm_cpu_pick(&p->hw)->model, rom);
    len = strlen(out);
    if (vm->net != PVM_NET_NONE && vm->nic == PVM_NIC_E1000E && p->mac[0])
        /* QEMU's e1000e derives its PCIe serial-number capability (config 0x144) from the
         * MAC: a memory state taken with another MAC does not load (-EINVAL) */
        snprintf(out + len, size - len, " e1000eMac=%s", p->mac);
    len = strlen(out);
    if (agent_channel != PVM_AGENT_CHANNEL_UNKNOWN)
        snprintf(out + len, size - len, " agent=%s",
                 pvm_agent_isa(p, agent_channel) ? "isa-serial" : "virtio-serial");
    len = strlen(out);
    if (stealth >= 0)
        snprintf(out + len, size - len, " qemu=%s", stealth ? "stealth" : "stock");
    if (stealth > 0) {
        char ids[96];
        pvm_qemu_stealth_ids(p, vm, ids, sizeof ids);
        len = strlen(out);
        snprintf(out + len, size - len, " %s", ids);
    }
}

int pvm_qemu_argv_check(const pvm_profile *p, const pvm_vm *vm, pvm_error *err)
{
    /* Placeholder paths that pass every path rule: only p and vm are judged. */
    const pvm_qemu_paths paths = {
        .qemu = "qemu", .disk = "/d", .qmp_sock = "/q", .qmp_owner_sock = "/o", .qga_sock = "/g",
        .serial_sock = "/s",
        .serial_log = "/l", .pidfile = "/p", .smbios_type0 = "/t", .smbios_dir = "/b", .vnc_sock = "/v",
        .ovmf_code = "/c", .ovmf_vars = "/e", .tpm_sock = "/m",
    };
    unsigned char t[512];
    size_t len;
    pvm_cpu_topo topo;
    pvm_cpu_topology(&p->hw, vm->cpus > 0 ? vm->cpus : 1, &topo);
    if (pvm_smbios_type0(&p->hw, t, sizeof t, &len, err) < 0 ||
        pvm_smbios_type3(p, t, sizeof t, &len, err) < 0 ||
        pvm_smbios_type4(p, &topo, 0, t, sizeof t, &len, err) < 0 ||
        (vm->memory_bytes >= (1u << 20) &&
         pvm_smbios_type17(p, vm->memory_bytes, 0, t, sizeof t, &len, err) < 0))
        return -1;
    pvm_argv a;
    pvm_argv_init(&a);
    int rc = pvm_qemu_build_argv(p, vm, &paths, PVM_ACCEL_TCG, &a, err);
    pvm_argv_free(&a);
    return rc;
}
