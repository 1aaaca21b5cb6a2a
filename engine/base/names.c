/* names.c - text names of the engine's enums (disk bus, NIC model, network
 * mode, VM state, serial format) and the size parser/formatter ("512M", "50G").
 * Called by the command line, the TUI, the store and the QEMU argv builder. */
#include "pvm.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *const pvm_disk_bus_names[] = {"virtio", "nvme", "sata"};
static const char *const pvm_nic_model_names[] = {"virtio", "e1000e"};
static const char *const pvm_net_mode_names[] = {"user", "none", "bridge"};
static const char *const pvm_vm_state_names[] = {"stopped", "running", "paused", "crashed"};
static const char *const pvm_serial_format_names[] = {"apple",     "dell", "lenovo", "hp",
                                                      "microsoft", "asus", "generic"};

#define PVM_COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *pvm_name_of(const char *const *names, size_t n, int v)
{
    return v >= 0 && (size_t)v < n ? names[v] : "unknown";
}

const char *pvm_disk_bus_name(pvm_disk_bus b)
{
    return pvm_name_of(pvm_disk_bus_names, PVM_COUNT(pvm_disk_bus_names), (int)b);
}

const char *pvm_nic_model_name(pvm_nic_model m)
{
    return pvm_name_of(pvm_nic_model_names, PVM_COUNT(pvm_nic_model_names), (int)m);
}

const char *pvm_vm_nic_name(const pvm_vm *vm)
{
    return vm->net == PVM_NET_NONE ? "none" : pvm_nic_model_name(vm->nic);
}

const char *pvm_net_mode_name(pvm_net_mode m)
{
    return pvm_name_of(pvm_net_mode_names, PVM_COUNT(pvm_net_mode_names), (int)m);
}

const char *pvm_vm_state_name(pvm_vm_state s)
{
    return pvm_name_of(pvm_vm_state_names, PVM_COUNT(pvm_vm_state_names), (int)s);
}

const char *pvm_serial_format_name(pvm_serial_format f)
{
    return pvm_name_of(pvm_serial_format_names, PVM_COUNT(pvm_serial_format_names), (int)f);
}

/* Case-insensitive lookup; the error lists every accepted name. */
static int pvm_name_parse(const char *what, const char *const *names, size_t n, const char *s,
                          int *out, pvm_error *err)
{
    for (size_t i = 0; s && i < n; i++) {
        if (strcasecmp(s, names[i]) == 0) {
            *out = (int)i;
            return 0;
        }
    }
    char list[128] = "";
    for (size_t i = 0; i < n; i++) {
        strcat(list, names[i]);
        if (i + 1 < n)
            strcat(list, i + 2 < n ? ", " : " or ");
    }
    return pvm_error_set_field(err, PVM_E_INVALID, what, "%s: must be %s", what, list);
}

int pvm_disk_bus_parse(const char *s, pvm_disk_bus *out, pvm_error *err)
{
    int v;
    if (pvm_name_parse("diskBus", pvm_disk_bus_names, PVM_COUNT(pvm_disk_bus_names), s, &v,
                       err) < 0)
        return -1;
    *out = (pvm_disk_bus)v;
    return 0;
}

int pvm_nic_model_parse(const char *s, pvm_nic_model *out, pvm_error *err)
{
    int v;
    if (pvm_name_parse("nic", pvm_nic_model_names, PVM_COUNT(pvm_nic_model_names), s, &v,
                       err) < 0)
        return -1;
    *out = (pvm_nic_model)v;
    return 0;
}

int pvm_net_mode_parse(const char *s, pvm_net_mode *out, const char **bridge, pvm_error *err)
{
    int v;
    if (bridge)
        *bridge = NULL;
    if (s && bridge && strncmp(s, "bridge=", 7) == 0) {
        *out = PVM_NET_BRIDGE;
        *bridge = s + 7; /* its name's rules are checked where the VM is made or edited */
        return 0;
    }
    if (pvm_name_parse("net", pvm_net_mode_names, PVM_COUNT(pvm_net_mode_names), s, &v,
                       err) < 0)
        return -1;
    if (v == PVM_NET_BRIDGE) /* the word alone: the bridge's name is part of the value */
        return pvm_error_set_field(err, PVM_E_INVALID, "net", "net: bridge needs the host "
                                   "bridge's name: bridge=BR (e.g. bridge=br0)");
    *out = (pvm_net_mode)v;
    return 0;
}

/* ------------------------------------------------------------------ sizes */

static const char pvm_units[] = "KMGT";

/* Shift for a unit letter (K=10 ... T=40), 0 for none, -1 if not a unit. */
static int pvm_unit_shift(char c)
{
    const char *u = c ? strchr(pvm_units, c >= 'a' && c <= 'z' ? c - 32 : c) : NULL;
    return u ? 10 * (int)(u - pvm_units + 1) : -1;
}

/* After the number: "", "B", or a unit followed by "", "B" or "iB". */
static int pvm_size_suffix(const char *s, int *shift)
{
    *shift = 0;
    if (!*s)
        return 0;
    if ((s[0] == 'B' || s[0] == 'b') && !s[1])
        return 0;
    *shift = pvm_unit_shift(s[0]);
    if (*shift < 0)
        return -1;
    s++;
    if (!*s || (strcasecmp(s, "B") == 0) || (strcasecmp(s, "iB") == 0))
        return 0;
    return -1;
}

static int pvm_size_syntax_error(const char *what, pvm_error *err)
{
    return pvm_error_set_field(err, PVM_E_INVALID, what,
                               "%s: must be a whole number of bytes with an optional K, M, G or T "
                               "suffix, e.g. 512M, 50G, 1T",
                               what);
}

int pvm_size_parse(const char *what, const char *s, uint64_t *out, pvm_error *err)
{
    if (!s || !*s)
        return pvm_error_set_field(err, PVM_E_INVALID, what, "%s: must not be empty", what);
    if (*s == '-')
        return pvm_error_set_field(err, PVM_E_INVALID, what, "%s: must not be negative", what);
    if (*s < '0' || *s > '9')
        return pvm_size_syntax_error(what, err);
    uint64_t v = 0;
    bool overflow = false;
    for (; *s >= '0' && *s <= '9'; s++) {
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            overflow = true;
        else
            v = v * 10 + d;
    }
    if (*s == '.' || *s == ',')
        return pvm_error_set_field(err, PVM_E_INVALID, what,
                                   "%s: must be a whole number; use a smaller unit (e.g. 1536M "
                                   "for 1.5G)",
                                   what);
    int shift;
    if (pvm_size_suffix(s, &shift) < 0)
        return pvm_size_syntax_error(what, err);
    if (overflow || (shift && v > (UINT64_MAX >> shift)))
        return pvm_error_set_field(err, PVM_E_INVALID, what, "%s: too large", what);
    *out = v << shift;
    return 0;
}

/* Largest unit not above the value; exact values print whole ("50G"), others
 * with one rounded decimal ("1.5G"). Below 1K: bytes ("512B"). */
const char *pvm_size_format(uint64_t bytes, char *buf, size_t size)
{
    int shift = 40;
    while (shift > 0 && bytes < ((uint64_t)1 << shift))
        shift -= 10;
    if (shift == 0) {
        snprintf(buf, size, "%lluB", (unsigned long long)bytes);
        return buf;
    }
    uint64_t unit = (uint64_t)1 << shift;
    uint64_t whole = bytes >> shift, rem = bytes & (unit - 1);
    char u = pvm_units[shift / 10 - 1];
    if (rem == 0) {
        snprintf(buf, size, "%llu%c", (unsigned long long)whole, u);
        return buf;
    }
    uint64_t tenth = (rem * 10 + unit / 2) >> shift;
    if (tenth == 10) {
        whole++;
        tenth = 0;
    }
    if (whole == 1024 && shift < 40) { /* e.g. 1023.96M shows as 1.0G */
        whole = 1;
        u = pvm_units[shift / 10];
    }
    snprintf(buf, size, "%llu.%llu%c", (unsigned long long)whole, (unsigned long long)tenth, u);
    return buf;
}

/* ----------------------------------------- display, video adapter, firmware (issue 12) */

static const char *const pvm_display_names[] = {"none", "vnc"};
static const char *const pvm_video_names[] = {"ramfb", "vga", "virtio", "cirrus"};
static const char *const pvm_firmware_names[] = {"bios", "uefi", "uefi-secure"};

const char *pvm_display_name(pvm_display d)
{
    return pvm_name_of(pvm_display_names, PVM_COUNT(pvm_display_names), (int)d);
}

const char *pvm_video_name(pvm_video v)
{
    return pvm_name_of(pvm_video_names, PVM_COUNT(pvm_video_names), (int)v);
}

const char *pvm_firmware_name(pvm_firmware f)
{
    return pvm_name_of(pvm_firmware_names, PVM_COUNT(pvm_firmware_names), (int)f);
}

int pvm_display_parse(const char *s, pvm_display *out, pvm_error *err)
{
    int v;
    if (pvm_name_parse("display", pvm_display_names, PVM_COUNT(pvm_display_names), s, &v,
                       err) < 0)
        return -1;
    *out = (pvm_display)v;
    return 0;
}

pvm_video pvm_video_default(pvm_firmware fw)
{
    return fw == PVM_FIRMWARE_BIOS ? PVM_VIDEO_CIRRUS : PVM_VIDEO_RAMFB;
}

int pvm_video_parse(const char *s, pvm_video *out, pvm_error *err)
{
    int v;
    if (pvm_name_parse("video", pvm_video_names, PVM_COUNT(pvm_video_names), s, &v, err) < 0)
        return -1;
    *out = (pvm_video)v;
    return 0;
}

int pvm_firmware_parse(const char *s, pvm_firmware *out, pvm_error *err)
{
    int v;
    if (pvm_name_parse("firmware", pvm_firmware_names, PVM_COUNT(pvm_firmware_names), s, &v,
                       err) < 0)
        return -1;
    *out = (pvm_firmware)v;
    return 0;
}
