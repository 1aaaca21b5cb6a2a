/* stealth.c - the stealth QEMU's part of the command line: the run-time properties that
 * patches/qemu-7.2 adds, filled from the profile through a table of real vendors (ACPI
 * creator and revisions, fw_cfg's ACPI id, PCI subsystem ids, NVMe and CD-ROM strings).
 * Pure, no I/O. Called by argv.c (pvm_qemu_build_argv) when the VM runs the stealth build. */
#include "qemu.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* What a vendor's own machines show below SMBIOS. Creator ids and revisions are the ones
 * their firmware's ACPI tables carry (iASL "INTL", AMI "AMI ", Phoenix "PTEC", Apple
 * "Loki", Microsoft "MSFT"); PCI vendor ids are the PCI-SIG assignments. */
typedef struct pvm_stealth_vendor {
    const char *match;       /* lower-case word of the manufacturer */
    const char *creator;     /* ACPI Creator ID, 4 bytes */
    unsigned creator_rev;    /* ACPI Creator Revision */
    unsigned oem_rev;        /* ACPI OEM Revision (a BIOS build number) */
    unsigned pci_vendor;     /* subsystem vendor of the board's own PCI functions */
} pvm_stealth_vendor;

static const pvm_stealth_vendor pvm_stealth_vendors[] = {
    { "dell", "INTL", 0x20160527, 0x01072009, 0x1028 },
    { "lenovo", "PTEC", 0x00000002, 0x00001260, 0x17aa },
    { "hewlett", "INTL", 0x20200717, 0x00000001, 0x103c },
    { "hp", "INTL", 0x20200717, 0x00000001, 0x103c },
    { "asus", "AMI ", 0x01000013, 0x01072009, 0x1043 },
    { "apple", "Loki", 0x0000005f, 0x00000001, 0x106b },
    /* Surface: Intel's subsystem on the chipset (1414 is also Hyper-V's, a VM mark) */
    { "microsoft", "MSFT", 0x05000000, 0x00000001, 0x8086 },
    { "micro-star", "AMI ", 0x00010013, 0x01072009, 0x1462 },
    { "msi", "AMI ", 0x00010013, 0x01072009, 0x1462 },
    { "gigabyte", "AMI ", 0x00010013, 0x01072009, 0x1458 },
    { "acer", "ACER", 0x00040000, 0x00000001, 0x1025 },
    { "intel", "INTL", 0x20190509, 0x00000002, 0x8086 },
    { "samsung", "AMI ", 0x00010013, 0x01072009, 0x144d },
    { "toshiba", "INTL", 0x20160422, 0x00000001, 0x1179 },
    { "dynabook", "INTL", 0x20160422, 0x00000001, 0x1179 },
    { "fujitsu", "INTL", 0x20180105, 0x00000001, 0x1734 },
    { "sony", "PTL ", 0x00000001, 0x00000001, 0x104d },
};

/* Boards whose maker is unknown: AMI's Aptio defaults, as white-box boards ship them. */
static const pvm_stealth_vendor pvm_stealth_generic = { "", "AMI ", 0x00010013, 0x01072009,
                                                        0x1849 /* ASRock */ };

/* A real NVMe drive: PCI ids, Identify strings and the OUI of its maker. */
typedef struct pvm_stealth_nvme {
    unsigned vendor, device, subsys;
    const char *model, *firmware;
    unsigned oui;
} pvm_stealth_nvme;

static const pvm_stealth_nvme pvm_stealth_nvmes[] = {
    { 0x144d, 0xa80a, 0xa801, "SAMSUNG MZVL2512HCJQ-00B00", "GXA7801Q", 0x002538 },
    { 0x1c5c, 0x174a, 0x1741, "SK hynix PC711 HFS512GDE9X073N", "HPS0", 0xace42e },
    { 0x15b7, 0x5008, 0x5008, "WDC PC SN530 SDBPNPZ-512G-1006", "21106000", 0x001b44 },
    { 0x1e0f, 0x0001, 0x0001, "KXG60ZNV512G KIOXIA", "10604107", 0x8ce38e },
    { 0x8086, 0xf1a8, 0x390d, "INTEL SSDPEKNW512G8", "004C", 0x5cd2e4 },
};

/* A real laptop/desktop optical drive's INQUIRY vendor and product. */
static const struct { const char *vendor, *product; } pvm_stealth_cdroms[] = {
    { "HL-DT-ST", "DVDRAM GU90N" },
    { "TSSTcorp", "CDDVDW SU-208GB" },
    { "PLDS", "DVD+-RW DU-8A6SH" },
    { "MATSHITA", "DVD-RAM UJ8G6" },
};

#define PVM_N(a) (sizeof(a) / sizeof((a)[0]))

/* FNV-1a: a stable pick per profile (the same profile always gets the same parts). */
static unsigned pvm_stealth_hash(const char *a, const char *b)
{
    unsigned h = 2166136261u;
    for (const char *s = a; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    h = (h ^ 0xff) * 16777619u;
    for (const char *s = b; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static int pvm_stealth_has_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0)
            return 1;
    return 0;
}

static const pvm_stealth_vendor *pvm_stealth_vendor_of(const char *manufacturer)
{
    for (size_t i = 0; i < PVM_N(pvm_stealth_vendors); i++) {
        const char *m = pvm_stealth_vendors[i].match;
        /* two-letter names ("hp") only as the whole first word */
        int hit = strlen(m) > 3 ? pvm_stealth_has_ci(manufacturer, m)
                                : strncasecmp(manufacturer, m, strlen(m)) == 0 &&
                                      !((manufacturer[strlen(m)] | 0x20) >= 'a' &&
                                        (manufacturer[strlen(m)] | 0x20) <= 'z');
        if (hit)
            return &pvm_stealth_vendors[i];
    }
    return &pvm_stealth_generic;
}

static void pvm_stealth_global(pvm_argv *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void pvm_stealth_global(pvm_argv *a, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    pvm_argv_add(a, "-global");
    pvm_argv_add(a, buf);
}

/* -global DRIVER_PROP=VALUE with the value escaped like every other option value
 * (pvm_qemu_escape): the NQN carries the profile's disk serial. */
static void pvm_stealth_global_str(pvm_argv *a, const char *driver_prop, const char *value)
{
    char *esc = pvm_qemu_escape(value);
    pvm_stealth_global(a, "%s=%s", driver_prop, esc);
    free(esc);
}

/* The NVMe Qualified Name a drive reports: NVMe 1.4 7.9's form for controllers without a
 * name of their own, "nqn.2014.08.org.nvmexpress:" + vendor and subsystem vendor (hex) +
 * the serial (20 bytes) + the model (40 bytes), space padded. */
static void pvm_stealth_nqn(const pvm_stealth_nvme *d, const char *serial, char *out,
                            size_t size)
{
    snprintf(out, size, "nqn.2014.08.org.nvmexpress:%04x%04x%-20.20s%-40.40s", d->vendor,
             d->vendor, serial, d->model);
}

/* The board functions' subsystem id, stable per product. */
static unsigned pvm_stealth_board(unsigned h)
{
    return 0x0700 + (h % 0x0500);
}

static const pvm_stealth_nvme *pvm_stealth_nvme_of(unsigned h)
{
    return &pvm_stealth_nvmes[(h >> 8) % PVM_N(pvm_stealth_nvmes)];
}

void pvm_qemu_stealth_ids(const pvm_profile *p, const pvm_vm *vm, char *out, size_t size)
{
    const pvm_stealth_vendor *v = pvm_stealth_vendor_of(p->hw.manufacturer);
    unsigned h = pvm_stealth_hash(p->hw.manufacturer, p->hw.product);
    int n = snprintf(out, size, "pciSubsys=%04x:%04x", v->pci_vendor, pvm_stealth_board(h));
    if (vm->disk_bus == PVM_DISK_NVME && n > 0 && (size_t)n < size) {
        const pvm_stealth_nvme *d = pvm_stealth_nvme_of(h);
        snprintf(out + n, size - (size_t)n, " nvmeIds=%04x:%04x:%04x", d->vendor, d->device,
                 d->subsys);
    }
}

void pvm_qemu_stealth_argv(pvm_argv *a, const pvm_profile *p, const pvm_vm *vm)
{
    static const char *const dirs[] = PVM_STEALTH_DATA_DIRS;
    for (size_t i = 0; i < PVM_N(dirs); i++) {
        pvm_argv_add(a, "-L");
        pvm_argv_add(a, dirs[i]);
    }
    const pvm_stealth_vendor *v = pvm_stealth_vendor_of(p->hw.manufacturer);
    unsigned h = pvm_stealth_hash(p->hw.manufacturer, p->hw.product);
    /* ACPI: a firmware vendor's creator, no WAET, fw_cfg as a motherboard-resources
     * device (PNP0C02) the guest binds no driver to. A second -machine merges into the
     * first. */
    char m[256];
    snprintf(m, sizeof m, "x-pvm-acpi-creator-id=%s,x-pvm-acpi-creator-rev=%u,"
             "x-pvm-acpi-oem-rev=%u,x-pvm-waet=off,x-pvm-fwcfg-name=RMSC,"
             "x-pvm-fwcfg-hid=PNP0C02", v->creator, v->creator_rev, v->oem_rev);
    pvm_argv_add(a, "-machine");
    pvm_argv_add(a, m);
    /* PCI: the board's own functions (the Q35 chipset's host bridge, LPC, AHCI and SMBus,
     * 1af4:1100 "QEMU Virtual Machine" in stock QEMU, and the onboard NIC) show the board
     * maker's subsystem; the subsystem id is the board's, stable per product. Device ids
     * stay (firmware depends on ICH9's). virtio devices keep theirs: a transitional
     * virtio device's subsystem id is its virtio type, which the guest's driver reads. */
    static const char *const board_fns[] = { "mch", "ICH9-LPC", "ich9-ahci", "ICH9-SMB",
                                             "e1000e" };
    unsigned board = pvm_stealth_board(h);
    for (size_t i = 0; i < PVM_N(board_fns); i++) {
        pvm_stealth_global(a, "%s.x-pvm-subsys-vendor-id=0x%04x", board_fns[i], v->pci_vendor);
        pvm_stealth_global(a, "%s.x-pvm-subsys-id=0x%04x", board_fns[i], board);
    }
    /* The onboard display: a Cirrus adapter wears the board's subsystem like the chipset
     * (Linux's cirrus DRM driver, which binds only QEMU's 1af4:1100, then leaves it to the
     * firmware framebuffer's driver). */
    if (vm->display == PVM_DISPLAY_VNC && vm->video == PVM_VIDEO_CIRRUS) {
        pvm_stealth_global(a, "cirrus-vga.x-pvm-subsys-vendor-id=0x%04x", v->pci_vendor);
        pvm_stealth_global(a, "cirrus-vga.x-pvm-subsys-id=0x%04x", board);
    }
    if (vm->disk_bus == PVM_DISK_NVME) {
        const pvm_stealth_nvme *d = pvm_stealth_nvme_of(h);
        char nqn[160];
        pvm_stealth_nqn(d, p->disk_serial, nqn, sizeof nqn);
        pvm_stealth_global(a, "nvme.x-pvm-vendor-id=0x%04x", d->vendor);
        pvm_stealth_global(a, "nvme.x-pvm-device-id=0x%04x", d->device);
        pvm_stealth_global(a, "nvme.x-pvm-subsys-vendor-id=0x%04x", d->vendor);
        pvm_stealth_global(a, "nvme.x-pvm-subsys-id=0x%04x", d->subsys);
        pvm_stealth_global_str(a, "nvme.x-pvm-model", d->model);
        pvm_stealth_global_str(a, "nvme.x-pvm-firmware", d->firmware);
        pvm_stealth_global_str(a, "nvme.x-pvm-subnqn", nqn);
        pvm_stealth_global(a, "nvme.x-pvm-ieee-oui=0x%06x", d->oui);
    }
    if (!vm->iso[0]) /* no ide-cd: a -global for it would be reported unused */
        return;
    size_t c = (h >> 16) % PVM_N(pvm_stealth_cdroms);
    pvm_stealth_global_str(a, "ide-cd.x-pvm-inquiry-vendor", pvm_stealth_cdroms[c].vendor);
    pvm_stealth_global_str(a, "ide-cd.x-pvm-inquiry-product", pvm_stealth_cdroms[c].product);
}
