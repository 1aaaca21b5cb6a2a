/* marks.c - the one table of known virtualization marks (MAC prefixes, CPU brands,
 * firmware/board/product strings, disk serials and models hypervisors use) and the
 * checks over a profile. Called by the CLI and the TUI's profile form (the same warning
 * words when a profile is stored: pvm_profile_mark_text),
 * vm.c and vm_ops.c (refusal at create/start), and later the in-guest audit. */
#include "pvm.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

typedef enum {
    PVM_MK_MAC,    /* macAddress: the first three bytes */
    PVM_MK_PREFIX, /* the value starts with the pattern (case-insensitive) */
    PVM_MK_WORD,   /* the pattern appears as whole words (case-insensitive) */
} pvm_mark_match;

/* Which fields a row applies to. */
typedef enum {
    PVM_MF_MAC,   /* macAddress */
    PVM_MF_CPU,   /* cpuModel */
    PVM_MF_DISK,  /* diskSerial, and the audit's diskModel */
    PVM_MF_TEXT,  /* every identity text: SMBIOS strings, serials, CPU brand, disk */
    PVM_MF_PCI,   /* the audit's pciVendor: a PCI vendor id as sysfs prints it ("0x1af4") */
    PVM_MF_ACPI,  /* the audit's acpiId: an ACPI table's OEM, OEM table or creator id */
    PVM_MF_PCI_ID, /* the audit's pciId: a PCI function's "vvvv:dddd" (vendor:device, hex) */
} pvm_mark_fields;

typedef struct pvm_mark_row {
    pvm_mark_fields fields;
    pvm_mark_match match;
    const char *pattern;
    const char *description;
} pvm_mark_row;

static const pvm_mark_row pvm_marks[] = {
    {PVM_MF_MAC, PVM_MK_MAC, "52:54:00", "QEMU/KVM's MAC prefix 52:54:00"},
    {PVM_MF_MAC, PVM_MK_MAC, "00:50:56", "VMware's MAC prefix 00:50:56"},
    {PVM_MF_MAC, PVM_MK_MAC, "00:0c:29", "VMware's MAC prefix 00:0c:29"},
    {PVM_MF_MAC, PVM_MK_MAC, "00:05:69", "VMware's MAC prefix 00:05:69"},
    {PVM_MF_MAC, PVM_MK_MAC, "00:1c:14", "VMware's MAC prefix 00:1c:14"},
    {PVM_MF_MAC, PVM_MK_MAC, "08:00:27", "VirtualBox's MAC prefix 08:00:27"},
    {PVM_MF_MAC, PVM_MK_MAC, "0a:00:27", "VirtualBox's host-only MAC prefix 0a:00:27"},
    {PVM_MF_MAC, PVM_MK_MAC, "00:16:3e", "Xen's MAC prefix 00:16:3e"},
    {PVM_MF_MAC, PVM_MK_MAC, "00:15:5d", "Hyper-V's MAC prefix 00:15:5d"},
    {PVM_MF_MAC, PVM_MK_MAC, "00:1c:42", "Parallels' MAC prefix 00:1c:42"},
    {PVM_MF_CPU, PVM_MK_WORD, "QEMU Virtual CPU", "QEMU's own CPU brand"},
    {PVM_MF_CPU, PVM_MK_WORD, "Common KVM processor", "QEMU's KVM CPU brand"},
    {PVM_MF_CPU, PVM_MK_WORD, "Common 32-bit KVM processor", "QEMU's 32-bit KVM CPU brand"},
    {PVM_MF_CPU, PVM_MK_WORD, "Virtual CPU", "a virtual CPU's brand"},
    {PVM_MF_DISK, PVM_MK_PREFIX, "QM000", "QEMU's own IDE/SATA disk serial (QM000nn)"},
    {PVM_MF_DISK, PVM_MK_WORD, "QEMU HARDDISK", "QEMU's disk model"},
    {PVM_MF_DISK, PVM_MK_WORD, "QEMU DVD-ROM", "QEMU's CD-ROM model"},
    {PVM_MF_DISK, PVM_MK_WORD, "VBOX HARDDISK", "VirtualBox's disk model"},
    {PVM_MF_DISK, PVM_MK_WORD, "VMware Virtual", "VMware's disk model"},
    {PVM_MF_TEXT, PVM_MK_WORD, "QEMU", "QEMU's name"},
    {PVM_MF_TEXT, PVM_MK_WORD, "Bochs", "Bochs, QEMU's BIOS vendor"},
    {PVM_MF_TEXT, PVM_MK_WORD, "SeaBIOS", "SeaBIOS, QEMU's firmware"},
    {PVM_MF_TEXT, PVM_MK_WORD, "innotek", "innotek, VirtualBox's maker"},
    {PVM_MF_TEXT, PVM_MK_WORD, "VirtualBox", "VirtualBox's name"},
    {PVM_MF_TEXT, PVM_MK_WORD, "VBOX", "VirtualBox's short name"},
    {PVM_MF_TEXT, PVM_MK_WORD, "VMware", "VMware's name"},
    {PVM_MF_TEXT, PVM_MK_WORD, "Xen", "Xen's name"},
    {PVM_MF_TEXT, PVM_MK_WORD, "HVM domU", "Xen's product name"},
    {PVM_MF_TEXT, PVM_MK_WORD, "Virtual Machine", "a virtual machine's product name"},
    {PVM_MF_TEXT, PVM_MK_WORD, "KVM", "KVM's name"},
    {PVM_MF_TEXT, PVM_MK_WORD, "Parallels", "Parallels' name"},
    {PVM_MF_TEXT, PVM_MK_WORD, "BHYVE", "bhyve's name"},
    {PVM_MF_TEXT, PVM_MK_WORD, "Hyper-V", "Hyper-V's name"},
    {PVM_MF_TEXT, PVM_MK_WORD, "OVMF", "OVMF, QEMU's UEFI firmware"},
    {PVM_MF_TEXT, PVM_MK_WORD, "TCG", "QEMU's TCG accelerator"},
    {PVM_MF_PCI, PVM_MK_PREFIX, "0x1af4", "Red Hat's PCI vendor id 1af4 (virtio, QEMU)"},
    {PVM_MF_PCI, PVM_MK_PREFIX, "0x1b36", "Red Hat's PCI vendor id 1b36 (QEMU devices)"},
    {PVM_MF_PCI, PVM_MK_PREFIX, "0x15ad", "VMware's PCI vendor id 15ad"},
    {PVM_MF_PCI, PVM_MK_PREFIX, "0x80ee", "VirtualBox's PCI vendor id 80ee"},
    {PVM_MF_PCI, PVM_MK_PREFIX, "0x5853", "Xen's PCI vendor id 5853"},
    {PVM_MF_PCI, PVM_MK_PREFIX, "0x1414", "Hyper-V's PCI vendor id 1414"},
    {PVM_MF_PCI, PVM_MK_PREFIX, "0x1234", "QEMU's PCI vendor id 1234 (Bochs display, edu)"},
    {PVM_MF_PCI_ID, PVM_MK_PREFIX, "1234:1111", "the Bochs/QEMU standard VGA (PCI 1234:1111)"},
    {PVM_MF_PCI_ID, PVM_MK_PREFIX, "1013:00b8",
     "the Cirrus GD5446 (PCI 1013:00b8), QEMU's old default VGA, on no real machine of a "
     "modern profile's era (use --firmware uefi for ramfb, or --display none)"},
    {PVM_MF_PCI_ID, PVM_MK_PREFIX, "1b36:0100", "QEMU's QXL display (PCI 1b36:0100)"},
    {PVM_MF_PCI_ID, PVM_MK_PREFIX, "1af4:1050", "virtio-gpu, QEMU's display (PCI 1af4:1050)"},
    {PVM_MF_PCI_ID, PVM_MK_PREFIX, "15ad:0405", "VMware's SVGA II display (PCI 15ad:0405)"},
    {PVM_MF_PCI_ID, PVM_MK_PREFIX, "80ee:beef", "VirtualBox's display (PCI 80ee:beef)"},
    {PVM_MF_ACPI, PVM_MK_WORD, "BXPC", "BXPC, QEMU's ACPI id"},
    {PVM_MF_ACPI, PVM_MK_WORD, "BOCHS", "BOCHS, QEMU's ACPI OEM id"},
    {PVM_MF_ACPI, PVM_MK_WORD, "VBOX", "VirtualBox's ACPI id"},
    {PVM_MF_ACPI, PVM_MK_WORD, "VMWARE", "VMware's ACPI id"},
    {PVM_MF_ACPI, PVM_MK_WORD, "Xen", "Xen's ACPI id"},
};

static bool pvm_mark_alnum(char c)
{
    return isalnum((unsigned char)c);
}

/* pattern occurs in value at word boundaries, ignoring case. */
static bool pvm_mark_word(const char *value, const char *pattern)
{
    size_t n = strlen(pattern);
    for (const char *s = value; *s; s++) {
        if (strncasecmp(s, pattern, n) != 0)
            continue;
        bool start = s == value || !pvm_mark_alnum(s[-1]);
        bool end = !pvm_mark_alnum(s[n]);
        if (start && end)
            return true;
    }
    return false;
}

static bool pvm_mark_applies(const pvm_mark_row *r, const char *key)
{
    bool mac = !strcmp(key, "macAddress");
    bool cpu = !strcmp(key, "cpuModel");
    bool disk = !strcmp(key, "diskSerial") || !strcmp(key, "diskModel");
    bool pci = !strcmp(key, "pciVendor") || !strcmp(key, "pciId");
    switch (r->fields) {
    case PVM_MF_PCI:
        return !strcmp(key, "pciVendor");
    case PVM_MF_PCI_ID:
        return !strcmp(key, "pciId");
    case PVM_MF_ACPI:
        return !strcmp(key, "acpiId");
    case PVM_MF_MAC:
        return mac;
    case PVM_MF_CPU:
        return cpu;
    case PVM_MF_DISK:
        return disk;
    case PVM_MF_TEXT:
        return !mac && !pci && strcmp(key, "machineIdentifier") != 0 && strcmp(key, "biosDate") != 0;
    }
    return false;
}

static bool pvm_mark_matches(const pvm_mark_row *r, const char *value)
{
    switch (r->match) {
    case PVM_MK_MAC:
        return strlen(value) >= 8 && strncasecmp(value, r->pattern, 8) == 0;
    case PVM_MK_PREFIX:
        return strncasecmp(value, r->pattern, strlen(r->pattern)) == 0;
    case PVM_MK_WORD:
        return pvm_mark_word(value, r->pattern);
    }
    return false;
}

const char *pvm_mark_find(const char *field_key, const char *value)
{
    if (!field_key || !value || !*value)
        return NULL;
    for (size_t i = 0; i < sizeof pvm_marks / sizeof pvm_marks[0]; i++)
        if (pvm_mark_applies(&pvm_marks[i], field_key) && pvm_mark_matches(&pvm_marks[i], value))
            return pvm_marks[i].description;
    return NULL;
}

size_t pvm_profile_marks(const pvm_profile *p, pvm_profile_mark *out, size_t max)
{
    size_t nfields, n = 0;
    const pvm_field *fields = pvm_profile_fields(&nfields);
    for (size_t i = 0; i < nfields && n < max; i++) {
        const char *v = pvm_profile_field_cptr(p, &fields[i]);
        const char *d = pvm_mark_find(fields[i].key, v);
        if (!d)
            continue;
        out[n].field = fields[i].key;
        out[n].path = fields[i].path;
        out[n].flag = fields[i].flag;
        out[n].description = d;
        pvm_strlcpy(out[n].value, v, sizeof out[n].value);
        n++;
    }
    return n;
}

void pvm_profile_mark_text(const pvm_profile *p, const pvm_profile_mark *m, char *out,
                           size_t size)
{
    snprintf(out, size, "%s (--%s): \"%s\" is %s, a virtualization mark the guest can read "
             "(profile '%s'%s)", m->path, m->flag, m->value, m->description, p->name,
             p->hide_hypervisor ? "; vm start refuses it unless --allow-vm-marks" : "");
}

size_t pvm_profile_field_mark_text(const pvm_profile *p, const char *field_key, char *out,
                                   size_t size)
{
    pvm_profile_mark m[32];
    size_t n = pvm_profile_marks(p, m, sizeof m / sizeof m[0]);
    if (size)
        out[0] = '\0';
    for (size_t i = 0; i < n; i++)
        if (!field_key || !strcmp(m[i].field, field_key)) {
            pvm_profile_mark_text(p, &m[i], out, size);
            break;
        }
    return n;
}

int pvm_profile_marks_check(const pvm_profile *p, bool allow, pvm_error *err)
{
    pvm_profile_mark m;
    char qn[PVM_NAME_MAX * 4 + 3];
    if (allow || !p->hide_hypervisor || pvm_profile_marks(p, &m, 1) == 0)
        return 0;
    return pvm_error_set_field(err, PVM_E_INVALID, m.field,
                               "%s: \"%s\" is %s, a virtualization mark the guest can read, in "
                               "profile '%s', which hides the hypervisor; change it with "
                               "privarion-vm profile edit %s --%s VALUE (or --random), or pass "
                               "--allow-vm-marks", m.path, m.value, m.description, p->name,
                               pvm_shell_word(p->name, qn, sizeof qn), m.flag);
}

int pvm_video_mark_note(const pvm_profile *p, pvm_display d, pvm_video v, char *out, size_t size)
{
    if (size)
        out[0] = '\0';
    if (!p || !p->hide_hypervisor || d == PVM_DISPLAY_NONE ||
        (v != PVM_VIDEO_VGA && v != PVM_VIDEO_VIRTIO))
        return 0;
    const char *id = v == PVM_VIDEO_VGA ? "1234:1111" : "1af4:1050";
    snprintf(out, size,
             "video %s: %s is %s, a virtualization mark the guest can read, in profile '%s', "
             "which hides the hypervisor; vm audit marks it (use --video ramfb under UEFI, "
             "or --display none)", pvm_video_name(v), id, pvm_mark_find("pciId", id),
             p->name);
    return 1;
}
