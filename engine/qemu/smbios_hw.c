/* smbios_hw.c - the raw SMBIOS type 3 (chassis), 4 (processor) and 17 (memory device)
 * structures QEMU is given one per `-smbios file=` (QEMU's own carry "QEMU", chassis
 * type 1 and no topology), the guest CPU topology they agree with, and their files.
 * Called by backend.c before start, argv.c (file names) and the unit tests.
 * Layouts: DSP0134 (SMBIOS 3.x) 7.4 (type 3, 2.7 layout), 7.5 (type 4, 3.0 layout),
 * 7.18 (type 17, 2.8 layout). Handles follow QEMU 7.2's own numbering so the
 * structures QEMU still builds (type 2's chassis handle 0x300, type 16 at 0x1000)
 * point at ours. */
#include "qemu.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define T3_LEN 0x16
#define T4_LEN 0x30
#define T17_LEN 0x28
#define T3_HANDLE 0x0300
#define T4_HANDLE 0x0400   /* + socket */
#define T16_HANDLE 0x1000  /* QEMU's physical memory array */
#define T17_HANDLE 0x1100  /* + DIMM */
#define DIMM_MAX_MB (16u * 1024) /* QEMU splits memory into 16 GiB devices (type 16 count) */

/* ----------------------------------------------------------- topology */

void pvm_cpu_topology(const pvm_hw_model *hw, int vcpus, pvm_cpu_topo *t)
{
    int threads = (int)pvm_profile_num(hw->cpu_threads, 1);
    if (threads < 1 || vcpus % threads)
        threads = 1;
    t->sockets = 1;
    t->threads = threads;
    t->cores = vcpus / threads;
}

int pvm_smbios_dimm_count(uint64_t memory_bytes)
{
    uint64_t mb = memory_bytes >> 20;
    return (int)((mb + DIMM_MAX_MB - 1) / DIMM_MAX_MB);
}

/* ---------------------------------------------------- structure builder */

typedef struct pvm_sm {
    unsigned char *buf;
    size_t cap, pos, formatted;
    unsigned char next; /* next string index */
    pvm_error *err;
    int failed;
} pvm_sm;

static int pvm_sm_start(pvm_sm *s, unsigned char *buf, size_t cap, unsigned type, size_t len,
                        unsigned handle, pvm_error *err)
{
    *s = (pvm_sm){.buf = buf, .cap = cap, .pos = len, .formatted = len, .next = 1, .err = err};
    if (cap < len + 2)
        return s->failed = pvm_error_set(err, PVM_E_INVALID, "smbios type %u: buffer too small",
                                         type);
    memset(buf, 0, len);
    buf[0] = (unsigned char)type;
    buf[1] = (unsigned char)len;
    buf[2] = handle & 0xFF;
    buf[3] = (unsigned char)(handle >> 8);
    return 0;
}

static void pvm_sm_word(pvm_sm *s, size_t off, unsigned v)
{
    s->buf[off] = v & 0xFF;
    s->buf[off + 1] = (unsigned char)((v >> 8) & 0xFF);
}

static void pvm_sm_dword(pvm_sm *s, size_t off, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        s->buf[off + (size_t)i] = (unsigned char)(v >> (8 * i));
}

/* Stores string s at the byte off of the formatted area as its index (0 for ""). */
static void pvm_sm_str(pvm_sm *s, size_t off, const char *what, const char *str)
{
    if (s->failed || !*str)
        return;
    size_t n = strlen(str);
    if (n > PVM_TEXT_MAX || pvm_validate_text(what, str, PVM_TEXT_MAX, s->err) < 0) {
        s->failed = pvm_error_set_field(s->err, PVM_E_INVALID, what,
                                        "%s: must be printable ASCII, at most %d bytes", what,
                                        PVM_TEXT_MAX);
        return;
    }
    if (s->pos + n + 2 > s->cap) {
        s->failed = pvm_error_set(s->err, PVM_E_INVALID, "smbios: buffer too small");
        return;
    }
    memcpy(s->buf + s->pos, str, n + 1);
    s->pos += n + 1;
    s->buf[off] = s->next++;
}

static int pvm_sm_end(pvm_sm *s, size_t *len)
{
    if (s->failed)
        return -1;
    if (s->next == 1) /* no strings: the area is two NULs */
        s->buf[s->pos++] = 0;
    s->buf[s->pos++] = 0;
    *len = s->pos;
    return 0;
}

/* --------------------------------------------------------------- type 3 */

int pvm_smbios_type3(const pvm_profile *p, unsigned char *buf, size_t cap, size_t *len,
                     pvm_error *err)
{
    const pvm_hw_model *hw = &p->hw;
    unsigned code = pvm_chassis_code(hw->chassis_type);
    if (hw->chassis_type[0] && !code)
        return pvm_error_set_field(err, PVM_E_INVALID, "chassisType",
                                   "chassisType: unknown type '%.20s'", hw->chassis_type);
    pvm_sm s;
    if (pvm_sm_start(&s, buf, cap, 3, T3_LEN, T3_HANDLE, err))
        return -1;
    pvm_sm_str(&s, 0x04, "chassisManufacturer", hw->chassis_manufacturer);
    buf[0x05] = (unsigned char)(code ? code : 0x03); /* not set: desktop, never "other" */
    pvm_sm_str(&s, 0x07, "chassisSerial", hw->chassis_serial);
    pvm_sm_str(&s, 0x08, "chassisAsset", hw->chassis_asset);
    buf[0x09] = 0x03; /* boot-up state: safe */
    buf[0x0A] = 0x03; /* power supply state: safe */
    buf[0x0B] = 0x03; /* thermal state: safe */
    buf[0x0C] = 0x03; /* security status: none */
    buf[0x12] = 0x01; /* one power cord; no contained elements, SKU at 0x15 unset */
    return pvm_sm_end(&s, len);
}

/* --------------------------------------------------------------- type 4 */

static bool pvm_has(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0)
            return true;
    return false;
}

static bool pvm_is_amd(const pvm_hw_model *hw)
{
    return pvm_has(hw->cpu_manufacturer, "amd") || pvm_has(hw->cpu_model, "amd") ||
           pvm_has(hw->cpu_manufacturer, "advanced micro");
}

/* Processor family (7.5.2) from the brand: Core i3/i5/i7/i9, Ryzen (the Zen family),
 * else "other". */
static unsigned pvm_t4_family(const pvm_hw_model *hw)
{
    static const struct { const char *word; unsigned code; } tab[] = {
        {"i3-", 0xCE}, {"i5-", 0xCD}, {"i7-", 0xC6}, {"i9-", 0xCF},
        {"ryzen", 0x6B}, {"xeon", 0xB3}, {"pentium", 0x0B}, {"celeron", 0x0F},
    };
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        if (pvm_has(hw->cpu_model, tab[i].word))
            return tab[i].code;
    return 0x01;
}

/* CPUID leaf 1 EAX from family/model/stepping (Intel SDM vol. 2A, CPUID "version
 * information"); 0 when the profile does not say. */
uint32_t pvm_cpu_signature(const pvm_hw_model *hw)
{
    unsigned long fam = pvm_profile_num(hw->cpu_family, 0);
    unsigned long model = pvm_profile_num(hw->cpu_model_number, 0);
    unsigned long step = pvm_profile_num(hw->cpu_stepping, 0);
    if (!fam)
        return 0;
    unsigned long base = fam >= 15 ? 15 : fam, ext = fam >= 15 ? fam - 15 : 0;
    return (uint32_t)((step & 0xF) | (model & 0xF) << 4 | base << 8 | ((model >> 4) & 0xF) << 16 |
                      (ext & 0xFF) << 20);
}

/* MHz of the brand's "@ 2.30GHz"; 0 (unknown) when it has none. */
static unsigned pvm_brand_mhz(const char *brand)
{
    const char *at = strchr(brand, '@');
    if (!at)
        return 0;
    char *end;
    double ghz = strtod(at + 1, &end);
    if (end == at + 1 || strncasecmp(end, "GHz", 3) != 0 || ghz <= 0 || ghz > 10)
        return 0;
    return (unsigned)(ghz * 1000 + 0.5);
}

int pvm_smbios_type4(const pvm_profile *p, const pvm_cpu_topo *t, int socket, unsigned char *buf,
                     size_t cap, size_t *len, pvm_error *err)
{
    const pvm_hw_model *hw = &p->hw;
    pvm_sm s;
    if (pvm_sm_start(&s, buf, cap, 4, T4_LEN, T4_HANDLE + (unsigned)socket, err))
        return -1;
    char socket_name[16];
    snprintf(socket_name, sizeof socket_name, "CPU %d", socket + 1);
    pvm_sm_str(&s, 0x04, "socket", socket_name);
    buf[0x05] = 0x03; /* central processor */
    unsigned fam = pvm_t4_family(hw);
    buf[0x06] = (unsigned char)fam;
    pvm_sm_str(&s, 0x07, "cpuManufacturer", hw->cpu_manufacturer);
    pvm_sm_dword(&s, 0x08, pvm_cpu_signature(hw));
    pvm_sm_dword(&s, 0x0C, pvm_is_amd(hw) ? 0x178BFBFFu : 0xBFEBFBFFu); /* CPUID 1 EDX */
    pvm_sm_str(&s, 0x10, "cpuModel", hw->cpu_model);
    buf[0x11] = 0x80 | 10; /* 1.0 V */
    unsigned mhz = pvm_brand_mhz(hw->cpu_model);
    pvm_sm_word(&s, 0x12, 100); /* external clock, MHz */
    pvm_sm_word(&s, 0x14, mhz);
    pvm_sm_word(&s, 0x16, mhz);
    buf[0x18] = 0x41; /* socket populated, CPU enabled */
    buf[0x19] = 0x01; /* upgrade: other (soldered) */
    pvm_sm_word(&s, 0x1A, 0xFFFF); /* no L1/L2/L3 cache structures */
    pvm_sm_word(&s, 0x1C, 0xFFFF);
    pvm_sm_word(&s, 0x1E, 0xFFFF);
    unsigned cores = (unsigned)t->cores, threads = (unsigned)(t->cores * t->threads);
    buf[0x23] = (unsigned char)(cores > 255 ? 0xFF : cores);
    buf[0x24] = buf[0x23];
    buf[0x25] = (unsigned char)(threads > 255 ? 0xFF : threads);
    /* 64-bit (2), multi-core (3), hardware threads (4), execute protection (5),
     * power/performance control (7); no enhanced virtualization: the guest has no VMX. */
    unsigned ch = 0x04 | 0x20 | 0x80 | (cores > 1 ? 0x08 : 0) | (t->threads > 1 ? 0x10 : 0);
    pvm_sm_word(&s, 0x26, ch);
    pvm_sm_word(&s, 0x28, fam);
    pvm_sm_word(&s, 0x2A, cores);
    pvm_sm_word(&s, 0x2C, cores);
    pvm_sm_word(&s, 0x2E, threads);
    return pvm_sm_end(&s, len);
}

/* -------------------------------------------------------------- type 17 */

/* A module part number of that maker near that size (GiB), a desktop DIMM's (unbuffered,
 * form factor 0x09) or a laptop SO-DIMM's (0x0D); "" for an unknown maker. */
static const char *pvm_dimm_part(const char *maker, unsigned gib, bool dimm)
{
    static const struct { const char *maker; const char *part[2][4]; } tab[] = {
        /* 4, 8, 16, 32 GiB DDR4-3200: SO-DIMMs, then unbuffered DIMMs */
        {"samsung", {{"M471A5244CB0-CWE", "M471A1K43DB1-CWE", "M471A2K43EB1-CWE",
                      "M471A4G43AB1-CWE"},
                     {"M378A5244CB0-CWE", "M378A1K43DB2-CWE", "M378A2K43EB1-CWE",
                      "M378A4G43AB2-CWE"}}},
        {"hynix", {{"HMA851S6DJR6N-XN", "HMA81GS6DJR8N-XN", "HMAA2GS6CJR8N-XN",
                    "HMAA4GS6AJR8N-XN"},
                   {"HMA851U6DJR6N-XN", "HMA81GU6DJR8N-XN", "HMAA2GU6CJR8N-XN",
                    "HMAA4GU6AJR8N-XN"}}},
        {"micron", {{"4ATF51264HZ-3G2J1", "8ATF1G64HZ-3G2J1", "16ATF2G64HZ-3G2J1",
                     "32ATF4G64HZ-3G2B2"},
                    {"4ATF51264AZ-3G2J1", "8ATF1G64AZ-3G2J1", "16ATF2G64AZ-3G2J1",
                     "32ATF4G64AZ-3G2B2"}}},
        {"kingston", {{"KF432S20IB/4", "KF432S20IB/8", "KF432S20IB/16", "KF432S20IB/32"},
                      {"KF432C16BB/4", "KF432C16BB/8", "KF432C16BB/16", "KF432C16BB/32"}}},
    };
    unsigned i = gib <= 4 ? 0 : gib <= 8 ? 1 : gib <= 16 ? 2 : 3;
    for (size_t k = 0; k < sizeof tab / sizeof tab[0]; k++)
        if (pvm_has(maker, tab[k].maker))
            return tab[k].part[dimm][i];
    return "";
}

/* 8 hex digits, the same for this profile and slot on every boot (FNV-1a of the
 * machine id, serial and slot). */
static void pvm_dimm_serial(const pvm_profile *p, int index, char out[9])
{
    uint32_t h = 2166136261u;
    const char *src[] = {p->machine_id, p->serial};
    for (size_t k = 0; k < 2; k++)
        for (const char *c = src[k]; *c; c++)
            h = (h ^ (unsigned char)*c) * 16777619u;
    h = (h ^ (uint32_t)index) * 16777619u;
    snprintf(out, 9, "%08X", h);
}

static bool pvm_chassis_desktop(const char *type)
{
    return !*type || !strcmp(type, "desktop") || !strcmp(type, "low-profile-desktop") ||
           !strcmp(type, "mini-tower") || !strcmp(type, "tower");
}

int pvm_smbios_type17(const pvm_profile *p, uint64_t memory_bytes, int index, unsigned char *buf,
                      size_t cap, size_t *len, pvm_error *err)
{
    const pvm_hw_model *hw = &p->hw;
    int count = pvm_smbios_dimm_count(memory_bytes);
    if (index < 0 || index >= count)
        return pvm_error_set(err, PVM_E_INVALID, "smbios type 17: no memory device %d", index);
    uint64_t mb = memory_bytes >> 20;
    uint32_t size = index < count - 1 ? DIMM_MAX_MB : (uint32_t)((mb - 1) % DIMM_MAX_MB + 1);
    pvm_sm s;
    if (pvm_sm_start(&s, buf, cap, 17, T17_LEN, T17_HANDLE + (unsigned)index, err))
        return -1;
    pvm_sm_word(&s, 0x04, T16_HANDLE);
    pvm_sm_word(&s, 0x06, 0xFFFE); /* no memory error information */
    pvm_sm_word(&s, 0x08, 64);     /* total width, bits */
    pvm_sm_word(&s, 0x0A, 64);     /* data width */
    if (size < 0x7FFF) {
        pvm_sm_word(&s, 0x0C, size); /* MB, granularity bit 15 clear */
    } else {
        pvm_sm_word(&s, 0x0C, 0x7FFF); /* see extended size */
        pvm_sm_dword(&s, 0x1C, size);
    }
    bool dimm = pvm_chassis_desktop(hw->chassis_type);
    buf[0x0E] = dimm ? 0x09 : 0x0D; /* DIMM : SODIMM */
    char locator[24], bank[16], serial[9];
    snprintf(locator, sizeof locator, "Channel%c-DIMM0", 'A' + index % 26);
    snprintf(bank, sizeof bank, "BANK %d", index * 2);
    pvm_sm_str(&s, 0x10, "locator", locator);
    pvm_sm_str(&s, 0x11, "bank", bank);
    buf[0x12] = 0x1A;              /* DDR4 */
    pvm_sm_word(&s, 0x13, 0x0080); /* synchronous */
    unsigned long model = pvm_profile_num(hw->cpu_model_number, 0);
    unsigned speed = pvm_is_amd(hw) || model >= 140 ? 3200 : 2667; /* MT/s */
    pvm_sm_word(&s, 0x15, speed);
    pvm_sm_str(&s, 0x17, "memoryManufacturer", hw->memory_manufacturer);
    pvm_dimm_serial(p, index, serial);
    pvm_sm_str(&s, 0x18, "serial", serial);
    pvm_sm_str(&s, 0x1A, "part", pvm_dimm_part(hw->memory_manufacturer, (size + 1023) / 1024, dimm));
    buf[0x1B] = 0x01;              /* rank 1 */
    pvm_sm_word(&s, 0x20, speed);  /* configured speed */
    pvm_sm_word(&s, 0x22, 1200);   /* min, max, configured voltage, mV */
    pvm_sm_word(&s, 0x24, 1200);
    pvm_sm_word(&s, 0x26, 1200);
    return pvm_sm_end(&s, len);
}

/* ---------------------------------------------------------------- files */

int pvm_smbios_table_path(const char *dir, int type, int index, char *out, size_t size)
{
    int n = type == 3 ? snprintf(out, size, "%s/smbios-type3.bin", dir)
                      : snprintf(out, size, "%s/smbios-type%d-%d.bin", dir, type, index);
    return n < 0 || (size_t)n >= size ? -1 : 0;
}

static int pvm_smbios_file(const char *dir, int type, int index, const unsigned char *buf,
                           size_t len, pvm_error *err)
{
    char path[PVM_PATH_MAX];
    if (pvm_smbios_table_path(dir, type, index, path, sizeof path) < 0)
        return pvm_error_set(err, PVM_E_IO, "%s: smbios table path too long", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return pvm_error_set(err, PVM_E_IO, "%s: %s", path, strerror(errno));
    int rc = fchmod(fd, 0600) || pvm_write_all(fd, buf, len) ? -1 : 0;
    int e = errno;
    if (close(fd) && !rc) {
        rc = -1;
        e = errno;
    }
    return rc ? pvm_error_set(err, PVM_E_IO, "%s: %s", path, strerror(e)) : 0;
}

int pvm_smbios_tables_write(const pvm_profile *p, const pvm_vm *vm, const char *dir,
                            pvm_error *err)
{
    unsigned char buf[512];
    size_t len;
    pvm_cpu_topo t;
    pvm_cpu_topology(&p->hw, vm->cpus, &t);
    if (pvm_smbios_type3(p, buf, sizeof buf, &len, err) < 0 ||
        pvm_smbios_file(dir, 3, 0, buf, len, err) < 0)
        return -1;
    for (int i = 0; i < t.sockets; i++)
        if (pvm_smbios_type4(p, &t, i, buf, sizeof buf, &len, err) < 0 ||
            pvm_smbios_file(dir, 4, i, buf, len, err) < 0)
            return -1;
    int dimms = pvm_smbios_dimm_count(vm->memory_bytes);
    for (int i = 0; i < dimms; i++)
        if (pvm_smbios_type17(p, vm->memory_bytes, i, buf, sizeof buf, &len, err) < 0 ||
            pvm_smbios_file(dir, 17, i, buf, len, err) < 0)
            return -1;
    return 0;
}
