/* audit.c - `vm audit`: what a running Linux guest sees of its hardware identity, read
 * through the guest agent (agent.c: guest-file-open/read, `ls` for folder listings), next
 * to the VM's profile, with the marks of profile/marks.c. Called by the front ends. */
#include "internal.h"

#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define AUDIT_FILE_MAX (64u * 1024u)
#define AUDIT_DMI_MAX (256u * 1024u)
#define AUDIT_LIST_MAX 256

/* A dmi/id file and the profile field it shows (key of the field table; NULL: read only). */
static const struct { const char *file, *field; } audit_dmi[] = {
    {"sys_vendor", "manufacturer"},       {"product_name", "product"},
    {"product_version", "version"},       {"product_family", "family"},
    {"product_sku", "sku"},               {"product_serial", "serialNumber"},
    {"product_uuid", "machineIdentifier"}, {"board_vendor", "boardManufacturer"},
    {"board_name", "boardProduct"},       {"board_version", "boardVersion"},
    {"board_serial", "boardSerial"},      {"board_asset_tag", NULL},
    {"chassis_vendor", "chassisManufacturer"}, {"chassis_type", NULL},
    {"chassis_version", NULL},            {"chassis_serial", "chassisSerial"},
    {"chassis_asset_tag", "chassisAssetTag"}, {"bios_vendor", "biosVendor"},
    {"bios_version", "biosVersion"},      {"bios_date", "biosDate"},
    {"bios_release", NULL},
};

typedef struct audit_run {
    pvm_agent *a;
    const pvm_profile *p; /* the profile as stored now: the PROFILE column */
    const pvm_profile *w; /* what the VM wears: the identity it started with (vm_identity.c) */
    pvm_audit *out;
    size_t cap;
} audit_run;

static void audit_trim(char *s)
{
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    size_t i = 0;
    while (s[i] && isspace((unsigned char)s[i]))
        i++;
    memmove(s, s + i, strlen(s + i) + 1);
    for (char *c = s; *c; c++) /* the guest's bytes are printed: keep them printable */
        if (!isprint((unsigned char)*c))
            *c = '?';
}

/* Adds one reading; mark_key names the marks that apply ("pciVendor", "acpiId" ...). */
static void audit_add(audit_run *r, const char *what, const char *guest, const char *expected,
                      bool nocase, const char *mark_key)
{
    if (r->out->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 64;
        r->out->items = pvm_xrealloc(r->out->items, r->cap * sizeof *r->out->items);
    }
    pvm_audit_item *it = &r->out->items[r->out->n++];
    memset(it, 0, sizeof *it);
    pvm_strlcpy(it->what, what, sizeof it->what);
    pvm_strlcpy(it->guest, guest, sizeof it->guest);
    audit_trim(it->guest);
    it->nocase = nocase;
    if (expected && expected[0]) {
        pvm_strlcpy(it->expected, expected, sizeof it->expected);
        it->mismatch = nocase ? strcasecmp(it->guest, expected) != 0 : strcmp(it->guest, expected) != 0;
    }
    it->mark = mark_key ? pvm_mark_find(mark_key, it->guest) : NULL;
    r->out->mismatches += it->mismatch;
    r->out->marks += it->mark != NULL;
}

/* Adds a reading of an identity value: expected is the profile's value now, started the
 * one the running VM started with; when they differ (the profile was edited since the start)
 * the item keeps both, and a guest showing started is the edit waiting for the next start. */
static void audit_add_id(audit_run *r, const char *what, const char *guest, const char *started,
                         const char *expected, bool nocase, const char *mark_key)
{
    audit_add(r, what, guest, expected, nocase, mark_key);
    pvm_audit_item *it = &r->out->items[r->out->n - 1];
    if (!started || !expected || !strcmp(started, expected))
        return;
    pvm_strlcpy(it->started, started, sizeof it->started);
    it->edited = true;
    bool wears = nocase ? strcasecmp(it->guest, started) == 0 : strcmp(it->guest, started) == 0;
    r->out->edited += it->mismatch && wears;
}

/* A small file's bytes (*n of them, NUL-ended; owned by the caller): an empty string when
 * it cannot be read (absent files are normal in sysfs). */
static unsigned char *audit_read_bytes(audit_run *r, const char *path, size_t *n)
{
    unsigned char *buf = NULL;
    pvm_error ignored;
    *n = 0;
    if (pvm_agent_read_file(r->a, path, AUDIT_FILE_MAX, &buf, n, &ignored) < 0)
        return (unsigned char *)pvm_xstrdup("");
    return buf;
}

/* A small file's text, "" when it cannot be read. */
static char *audit_read(audit_run *r, const char *path)
{
    size_t n;
    return (char *)audit_read_bytes(r, path, &n);
}

/* The unit serial number of a SCSI/SATA disk (sd): VPD page 0x80 as Linux exposes it in
 * device/vpd_pg80 (SPC-4 7.8.15: byte 1 the page code 0x80, bytes 2-3 the length, then
 * the serial in ASCII, space-padded); "" when absent or malformed. Owned by the caller. */
static char *audit_vpd_serial(audit_run *r, const char *path)
{
    size_t n;
    unsigned char *buf = audit_read_bytes(r, path, &n);
    size_t len = n >= 4 ? ((size_t)buf[2] << 8 | buf[3]) : 0;
    char *out;
    if (n < 4 || buf[1] != 0x80 || len > n - 4) {
        out = pvm_xstrdup("");
    } else {
        out = pvm_xcalloc(1, len + 1);
        for (size_t i = 0; i < len; i++) /* printable ASCII only: a guest sends this */
            out[i] = buf[4 + i] >= 0x20 && buf[4 + i] < 0x7f ? (char)buf[4 + i] : '?';
    }
    free(buf);
    return out;
}

/* The names in a guest folder (ls -1), at most AUDIT_LIST_MAX; *n of them. */
static char **audit_list(audit_run *r, const char *dir, size_t *n, pvm_error *err)
{
    const char *argv[] = {"ls", "-1", "--", dir, NULL};
    pvm_exec_result x;
    *n = 0;
    if (pvm_agent_exec(r->a, argv, NULL, 0, 60000, NULL, &x, err) < 0)
        return NULL;
    char **names = pvm_xcalloc(AUDIT_LIST_MAX + 1, sizeof *names);
    for (char *save = NULL, *t = strtok_r(x.out, "\n", &save); t && *n < AUDIT_LIST_MAX;
         t = strtok_r(NULL, "\n", &save))
        if (t[0] && !strchr(t, '/') && strcmp(t, ".") && strcmp(t, ".."))
            names[(*n)++] = pvm_xstrdup(t);
    pvm_exec_result_free(&x);
    return names;
}

static void audit_list_free(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

static void audit_dmi_id(audit_run *r)
{
    for (size_t i = 0; i < sizeof audit_dmi / sizeof audit_dmi[0]; i++) {
        char path[96], what[64];
        snprintf(path, sizeof path, "/sys/class/dmi/id/%s", audit_dmi[i].file);
        snprintf(what, sizeof what, "dmi %s", audit_dmi[i].file);
        char *v = audit_read(r, path);
        const pvm_field *f = audit_dmi[i].field ? pvm_profile_field_by_key(audit_dmi[i].field) : NULL;
        const char *want = f ? pvm_profile_field_cptr(r->p, f) : NULL;
        const char *started = f ? pvm_profile_field_cptr(r->w, f) : NULL;
        audit_add_id(r, what, v, started, want,
                     f && !strcmp(audit_dmi[i].field, "machineIdentifier"),
                     audit_dmi[i].field ? audit_dmi[i].field : "product");
        free(v);
    }
}

/* The raw SMBIOS table: every string checked for marks, and type 0's "system is a virtual
 * machine" bit (BIOS characteristics extension byte 2, bit 4; SMBIOS 3.x, section 7.1.2.2). */
static void audit_dmi_raw(audit_run *r)
{
    unsigned char *t = NULL;
    size_t n = 0;
    pvm_error ignored;
    if (pvm_agent_read_file(r->a, "/sys/firmware/dmi/tables/DMI", AUDIT_DMI_MAX, &t, &n, &ignored) < 0)
        return;
    bool vm_bit = false;
    int marked = 0;
    for (size_t off = 0; off + 4 <= n;) {
        size_t len = t[off + 1];
        if (len < 4 || off + len > n)
            break;
        if (t[off] == 0 && len >= 0x14 && (t[off + 0x13] & 0x10))
            vm_bit = true;
        size_t s = off + len;
        while (s + 1 < n && !(t[s] == 0 && t[s + 1] == 0)) { /* the string set */
            if (t[s] == 0) {
                s++;
                continue;
            }
            const char *str = (const char *)t + s;
            size_t sl = strnlen(str, n - s);
            if (s + sl >= n)
                break;
            if (marked < 16 && pvm_mark_find("product", str)) {
                char what[48];
                snprintf(what, sizeof what, "smbios type %u string", t[off]);
                audit_add(r, what, str, NULL, false, "product");
                marked++;
            }
            s += sl;
        }
        if (t[off] == 127)
            break; /* end-of-table */
        off = s + 2;
    }
    free(t);
    audit_add(r, "smbios type 0 virtual-machine bit", vm_bit ? "set" : "clear", NULL, false, NULL);
    if (vm_bit) {
        r->out->items[r->out->n - 1].mark = "the SMBIOS type 0 \"system is a virtual machine\" bit";
        r->out->marks++;
    }
}

static void audit_nics(audit_run *r, const pvm_vm *vm, pvm_error *err)
{
    size_t n = 0;
    char **names = audit_list(r, "/sys/class/net", &n, err);
    bool seen = false;
    for (size_t i = 0; names && i < n; i++) {
        if (!strcmp(names[i], "lo"))
            continue;
        char path[PVM_PATH_MAX], what[96];
        snprintf(path, sizeof path, "/sys/class/net/%s/address", names[i]);
        snprintf(what, sizeof what, "nic %s mac", names[i]);
        char *v = audit_read(r, path);
        audit_trim(v);
        seen = seen || strcasecmp(v, r->w->mac) == 0;
        audit_add(r, what, v, NULL, false, "macAddress");
        free(v);
    }
    audit_list_free(names, n);
    if (vm->net != PVM_NET_NONE && r->p->mac[0])
        audit_add_id(r, "nic with the profile's mac", seen ? r->w->mac : "none", r->w->mac,
                     r->p->mac, true, NULL);
}

static void audit_disks(audit_run *r, pvm_error *err)
{
    size_t n = 0;
    char **names = audit_list(r, "/sys/block", &n, err);
    bool seen = false;
    for (size_t i = 0; names && i < n; i++) {
        if (!strncmp(names[i], "loop", 4) || !strncmp(names[i], "ram", 3))
            continue;
        char path[PVM_PATH_MAX], what[96];
        snprintf(path, sizeof path, "/sys/block/%s/serial", names[i]);
        char *v = audit_read(r, path);
        if (!v[0]) {
            free(v);
            snprintf(path, sizeof path, "/sys/block/%s/device/serial", names[i]);
            v = audit_read(r, path);
        }
        if (!v[0]) {
            free(v);
            snprintf(path, sizeof path, "/sys/block/%s/device/vpd_pg80", names[i]);
            v = audit_vpd_serial(r, path);
        }
        audit_trim(v);
        seen = seen || strcmp(v, r->w->disk_serial) == 0;
        snprintf(what, sizeof what, "disk %s serial", names[i]);
        audit_add(r, what, v, NULL, false, "diskSerial");
        free(v);
        snprintf(path, sizeof path, "/sys/block/%s/device/model", names[i]);
        v = audit_read(r, path);
        snprintf(what, sizeof what, "disk %s model", names[i]);
        audit_add(r, what, v, NULL, false, "diskModel");
        free(v);
        snprintf(path, sizeof path, "/sys/block/%s/device/vendor", names[i]);
        v = audit_read(r, path); /* SCSI INQUIRY vendor: sd and sr devices */
        audit_trim(v);
        if (v[0]) {
            snprintf(what, sizeof what, "disk %s vendor", names[i]);
            audit_add(r, what, v, NULL, false, "diskModel");
        }
        free(v);
    }
    audit_list_free(names, n);
    if (r->p->disk_serial[0])
        audit_add_id(r, "disk with the profile's serial", seen ? r->w->disk_serial : "none",
                     r->w->disk_serial, r->p->disk_serial, false, NULL);
}

/* "key : value" of the first line with that key in /proc/cpuinfo, into out. */
static void audit_cpuinfo_value(const char *info, const char *key, char *out, size_t size)
{
    out[0] = '\0';
    size_t kn = strlen(key);
    for (const char *l = info; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        if (strncmp(l, key, kn) != 0)
            continue;
        const char *c = strchr(l, ':');
        const char *e = strchr(l, '\n');
        if (!c || (e && c > e))
            continue;
        c++;
        size_t len = e ? (size_t)(e - c) : strlen(c);
        snprintf(out, size, "%.*s", (int)len, c);
        audit_trim(out);
        return;
    }
}

/* Marks an item the last audit_add made, unless it already carries one. */
static void audit_mark_last(audit_run *r, const char *mark)
{
    pvm_audit_item *it = &r->out->items[r->out->n - 1];
    if (it->mark)
        return;
    it->mark = mark;
    r->out->marks++;
}

/* The chassis type QEMU gives (1, "Other"; 2 "Unknown") is a mark; the profile's expected. */
static void audit_chassis(audit_run *r)
{
    char *v = audit_read(r, "/sys/class/dmi/id/chassis_type");
    audit_trim(v);
    char want[16] = "", started[16] = "";
    unsigned code = pvm_chassis_code(r->p->hw.chassis_type);
    unsigned then = pvm_chassis_code(r->w->hw.chassis_type);
    if (code)
        snprintf(want, sizeof want, "%u", code);
    if (then)
        snprintf(started, sizeof started, "%u", then);
    audit_add_id(r, "dmi chassis_type (number)", v, started, want, false, NULL);
    if (!strcmp(v, "1") || !strcmp(v, "2"))
        audit_mark_last(r, "chassis type 1/2 (Other/Unknown), QEMU's default");
    free(v);
}

/* Threads and cores the guest counts against the profile's CPU (a brand with 8 threads
 * showing 2 is a mark), and its family/model/stepping/microcode. */
static void audit_cpu_topology(audit_run *r, const char *info)
{
    char v[64], want[32], started[32];
    int threads = pvm_profile_vcpus(r->p), then = pvm_profile_vcpus(r->w);
    audit_cpuinfo_value(info, "siblings", v, sizeof v);
    snprintf(want, sizeof want, "%d", threads);
    snprintf(started, sizeof started, "%d", then);
    audit_add_id(r, "cpu threads (siblings)", v, then ? started : NULL, threads ? want : NULL,
                 false, NULL);
    if (then && strcmp(v, started) != 0) /* the brand the VM started with: the mark */
        audit_mark_last(r, "a thread count other than the brand's");
    audit_cpuinfo_value(info, "cpu cores", v, sizeof v);
    audit_add_id(r, "cpu cores", v, r->w->hw.cpu_cores, r->p->hw.cpu_cores, false, NULL);
    static const struct { const char *key, *what; size_t off; } ids[] = {
        {"cpu family", "cpu family", offsetof(pvm_hw_model, cpu_family)},
        {"model\t", "cpu model number", offsetof(pvm_hw_model, cpu_model_number)},
        {"stepping", "cpu stepping", offsetof(pvm_hw_model, cpu_stepping)},
        {"microcode", "cpu microcode", offsetof(pvm_hw_model, cpu_microcode)},
    };
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        audit_cpuinfo_value(info, ids[i].key, v, sizeof v);
        audit_add_id(r, ids[i].what, v, (const char *)&r->w->hw + ids[i].off,
                     (const char *)&r->p->hw + ids[i].off, true, NULL);
    }
}

static void audit_cpu(audit_run *r)
{
    char *info = audit_read(r, "/proc/cpuinfo");
    char brand[160], flags[4096];
    audit_cpuinfo_value(info, "model name", brand, sizeof brand);
    audit_cpuinfo_value(info, "flags", flags, sizeof flags);
    audit_cpu_topology(r, info);
    free(info);
    audit_add_id(r, "cpu brand", brand, r->w->hw.cpu_model, r->p->hw.cpu_model, false,
                 "cpuModel");
    bool hv = false;
    for (char *save = NULL, *t = strtok_r(flags, " ", &save); t; t = strtok_r(NULL, " ", &save))
        hv = hv || !strcmp(t, "hypervisor");
    audit_add(r, "cpu hypervisor flag", hv ? "set" : "clear", NULL, false, NULL);
    if (hv) {
        r->out->items[r->out->n - 1].mark = "the CPUID hypervisor flag";
        r->out->marks++;
    }
}

/* QEMU's words anywhere in an ACPI table's bytes (the fw_cfg device FWCF/QEMU0002, the
 * WAET table, Bochs' ids): one reading per table, marked when any is there. */
static void audit_acpi_words(audit_run *r, const char *table, const unsigned char *t,
                             size_t len)
{
    static const char *const words[] = {"QEMU", "BOCHS", "BXPC", "FWCF", "WAET"};
    char found[64] = "";
    for (size_t w = 0; w < sizeof words / sizeof words[0]; w++)
        if (memmem(t, len, words[w], strlen(words[w]))) {
            size_t n = strlen(found);
            snprintf(found + n, sizeof found - n, "%s%s", n ? " " : "", words[w]);
        }
    char what[96];
    snprintf(what, sizeof what, "acpi %s bytes", table);
    audit_add(r, what, found[0] ? found : "no QEMU words", NULL, false, NULL);
    if (found[0]) {
        r->out->items[r->out->n - 1].mark = "QEMU's words in an ACPI table (QEMU, BOCHS, BXPC, "
                                            "FWCF, WAET)";
        r->out->marks++;
    }
}

/* fw_cfg as the guest's drivers see it: an ACPI device QEMU0002 (udev loads qemu_fw_cfg
 * for it) and the folder that driver makes. */
static void audit_fw_cfg(audit_run *r, pvm_error *err)
{
    size_t n = 0;
    char **names = audit_list(r, "/sys/bus/acpi/devices", &n, err);
    int qemu = 0;
    for (size_t i = 0; names && i < n; i++)
        qemu += !strncmp(names[i], "QEMU", 4);
    audit_list_free(names, n);
    audit_add(r, "acpi devices with a QEMU id", qemu ? "QEMU0002" : "none", NULL, false, NULL);
    if (qemu) {
        r->out->items[r->out->n - 1].mark = "an ACPI device with QEMU's hardware id";
        r->out->marks++;
    }
    char *v = audit_read(r, "/sys/firmware/qemu_fw_cfg/rev");
    audit_trim(v);
    audit_add(r, "/sys/firmware/qemu_fw_cfg", v[0] ? "present" : "absent", NULL, false, NULL);
    if (v[0]) {
        r->out->items[r->out->n - 1].mark = "the qemu_fw_cfg driver's sysfs folder";
        r->out->marks++;
    }
    free(v);
}

/* The NVMe controller's Identify strings (model, firmware, subsystem NQN). */
static void audit_nvme(audit_run *r)
{
    static const char *const files[] = {"model", "firmware_rev", "subsysnqn"};
    for (size_t f = 0; f < 3; f++) {
        char path[96], what[64];
        snprintf(path, sizeof path, "/sys/class/nvme/nvme0/%s", files[f]);
        char *v = audit_read(r, path);
        audit_trim(v);
        if (v[0]) {
            snprintf(what, sizeof what, "nvme0 %s", files[f]);
            audit_add(r, what, v, NULL, false, "diskModel");
        }
        free(v);
    }
}

/* Each ACPI table's OEM id (bytes 10-15), OEM table id (16-23) and creator id (28-31). */
static void audit_acpi(audit_run *r, pvm_error *err)
{
    size_t n = 0;
    char **names = audit_list(r, "/sys/firmware/acpi/tables", &n, err);
    for (size_t i = 0; names && i < n; i++) {
        char path[PVM_PATH_MAX], what[96], ids[40];
        snprintf(path, sizeof path, "/sys/firmware/acpi/tables/%s", names[i]);
        unsigned char *t = NULL;
        size_t len = 0;
        pvm_error ignored;
        if (pvm_agent_read_file(r->a, path, AUDIT_DMI_MAX, &t, &len, &ignored) < 0 || len < 36) {
            free(t);
            continue; /* a folder (dynamic/, data/) or an unreadable table */
        }
        snprintf(ids, sizeof ids, "%.6s %.8s %.4s", t + 10, t + 16, t + 28);
        for (char *c = ids; *c; c++)
            if (!isprint((unsigned char)*c))
                *c = ' ';
        audit_acpi_words(r, names[i], t, len);
        free(t);
        snprintf(what, sizeof what, "acpi %s oem/table/creator", names[i]);
        audit_add(r, what, ids, NULL, false, "acpiId");
    }
    audit_list_free(names, n);
}

/* A display adapter (PCI class 03) or any function with a known display id: a row
 * "pci SLOT display" holding "vvvv:dddd", marked when it is QEMU's (Bochs VGA 1234:1111,
 * QXL 1b36:0100, virtio-gpu 1af4:1050) or another hypervisor's. */
static void audit_pci_display(audit_run *r, const char *slot, const char *vendor,
                              const char *device)
{
    char path[PVM_PATH_MAX], what[96], id[16];
    snprintf(path, sizeof path, "/sys/bus/pci/devices/%s/class", slot);
    char *class = audit_read(r, path);
    audit_trim(class);
    const char *v = strncmp(vendor, "0x", 2) ? vendor : vendor + 2;
    const char *d = strncmp(device, "0x", 2) ? device : device + 2;
    snprintf(id, sizeof id, "%.4s:%.4s", v, d);
    if (!strncmp(class, "0x03", 4) || pvm_mark_find("pciId", id)) {
        snprintf(what, sizeof what, "pci %s display", slot);
        audit_add(r, what, id, NULL, false, "pciId");
    }
    free(class);
}

static void audit_pci(audit_run *r, pvm_error *err)
{
    size_t n = 0;
    char **names = audit_list(r, "/sys/bus/pci/devices", &n, err);
    static const char *const files[] = {"vendor", "subsystem_vendor", "device",
                                        "subsystem_device"};
    for (size_t i = 0; names && i < n; i++) {
        char *ids[4];
        for (size_t f = 0; f < 4; f++) {
            char path[PVM_PATH_MAX], what[96];
            snprintf(path, sizeof path, "/sys/bus/pci/devices/%s/%s", names[i], files[f]);
            snprintf(what, sizeof what, "pci %s %s", names[i], files[f]);
            ids[f] = audit_read(r, path);
            audit_add(r, what, ids[f], NULL, false, f < 2 ? "pciVendor" : NULL);
            audit_trim(ids[f]);
        }
        audit_pci_display(r, names[i], ids[0], ids[2]);
        for (size_t f = 0; f < 4; f++)
            free(ids[f]);
    }
    audit_list_free(names, n);
}

int pvm_vm_audit(pvm_engine *e, const char *name_or_id, pvm_audit *out, pvm_error *err)
{
    memset(out, 0, sizeof *out);
    pvm_vm vm;
    pvm_profile p, w;
    pvm_agent *a = NULL;
    if (pvm_vm_get(e, name_or_id, &vm, err) < 0 || pvm_vm_identity(e, &vm, &w, &p, err) < 0 ||
        pvm_agent_open(e, vm.id, PVM_AGENT_WAIT_MS, &a, err) < 0)
        return -1;
    pvm_profile_identity_diff(&w, &p, out->edited_fields, sizeof out->edited_fields);
    if (pvm_agent_windows(a)) {
        pvm_agent_close(a);
        return pvm_error_set(err, PVM_E_STATE, "vm audit: reads Linux's /sys and /proc; the "
                             "guest of '%s' runs Windows (not supported yet)", vm.name);
    }
    audit_run r = {.a = a, .p = &p, .w = &w, .out = out};
    pvm_error lerr = {0};
    audit_dmi_id(&r);
    audit_dmi_raw(&r);
    audit_chassis(&r);
    audit_nics(&r, &vm, &lerr);
    audit_disks(&r, &lerr);
    audit_cpu(&r);
    audit_acpi(&r, &lerr);
    audit_fw_cfg(&r, &lerr);
    audit_pci(&r, &lerr);
    audit_nvme(&r);
    pvm_agent_close(a);
    if (lerr.code) {
        pvm_audit_free(out);
        *err = lerr;
        return -1;
    }
    return 0;
}

void pvm_audit_verdict(const pvm_audit_item *it, char *out, size_t size)
{
    bool waits = it->mismatch && it->edited &&
                 (it->nocase ? strcasecmp(it->guest, it->started)
                             : strcmp(it->guest, it->started)) == 0;
    snprintf(out, size, "%s%s%s%s", it->mismatch ? "MISMATCH" : "",
             waits ? ": profile edited since the VM started, which wears its start's value "
                     "until it restarts" : "",
             it->mismatch && it->mark ? "; " : "", it->mark ? it->mark : "");
    if (!it->mismatch && !it->mark)
        snprintf(out, size, "%s", it->expected[0] ? "ok" : "");
}

void pvm_audit_free(pvm_audit *a)
{
    free(a->items);
    memset(a, 0, sizeof *a);
}
