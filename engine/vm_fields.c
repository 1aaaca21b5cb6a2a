/* vm_fields.c - one check-and-set function per VM setting (vCPUs, memory, disk size, NIC,
 * ISO ...), so vm create (vm.c) and vm edit (vm_edit.c) apply the same rules whatever the
 * front end. Each fills err naming the field (pvm_error_set_field) and leaves vm unchanged
 * on error. Declared in vm_internal.h. */
#include "internal.h"
#include "vm_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int pvm_vm_field_cpus(pvm_vm *vm, int cpus, pvm_error *err)
{
    if (cpus < 1 || cpus > 255)
        return pvm_error_set_field(err, PVM_E_INVALID, "cpus", "cpus: must be a whole number "
                                   "from 1 to 255, not %d", cpus);
    vm->cpus = cpus;
    return 0;
}

int pvm_vm_field_memory(pvm_vm *vm, uint64_t bytes, pvm_error *err)
{
    if (pvm_memory_check("memory", bytes, err) < 0)
        return -1;
    vm->memory_bytes = bytes;
    return 0;
}

int pvm_vm_field_disk(pvm_vm *vm, uint64_t bytes, pvm_error *err)
{
    if (pvm_disk_check("disk", bytes, err) < 0)
        return -1;
    vm->disk_bytes = bytes;
    return 0;
}

int pvm_vm_field_nic(pvm_vm *vm, pvm_nic_model nic, pvm_error *err)
{
    if ((int)nic < PVM_NIC_VIRTIO || nic > PVM_NIC_E1000E)
        return pvm_error_set_field(err, PVM_E_INVALID, "nic", "nic: must be virtio or e1000e");
    vm->nic = nic;
    return 0;
}

int pvm_vm_input_file(const char *what, const char *in, char *out, size_t size,
                      pvm_error *err)
{
    out[0] = '\0';
    if (!in || !*in)
        return 0;
    char *real = realpath(in, NULL);
    if (!real)
        return pvm_error_set_field(err, PVM_E_NOTFOUND, what, "%s: %s: %s", what, in,
                                   strerror(errno));
    struct stat st;
    int rc = 0;
    if (stat(real, &st) < 0 || !S_ISREG(st.st_mode))
        rc = pvm_error_set_field(err, PVM_E_INVALID, what, "%s: %s: must be a regular file", what,
                                 in);
    else if (access(real, R_OK) < 0)
        rc = pvm_error_set_field(err, PVM_E_INVALID, what, "%s: %s: not readable: %s", what, in,
                                 strerror(errno));
    else if (pvm_strlcpy(out, real, size) >= size)
        rc = pvm_error_set_field(err, PVM_E_INVALID, what, "%s: path longer than %zu bytes", what,
                                 size - 1);
    free(real);
    return rc;
}

/* Reads size bytes at offset of path into buf; returns the count read (short at the end). */
static ssize_t pvm_read_at(const char *path, off_t offset, void *buf, size_t size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = pread(fd, buf, size, offset);
    close(fd);
    return n;
}

#define PVM_VRS_OFFSET 32768 /* ECMA-119 8.1 / ECMA-167 2/8.3: sector 16 of 2048 bytes */
#define PVM_VRS_COUNT 8      /* volume descriptors looked at (UDF bridges put CD001 first) */

/* An ISO 9660 or UDF image: the volume recognition sequence from byte 32768 holds 2048-byte
 * descriptors whose identifier is bytes 1-5: "CD001" first (ECMA-119 8.1; hybrid UDF bridge
 * images too), or "BEA01" then "NSR02"/"NSR03" (ECMA-167 2/9.2, UDF 2.60 2.1.7). */
static bool pvm_iso_signature(const char *path)
{
    unsigned char vrs[PVM_VRS_COUNT * 2048];
    ssize_t n = pvm_read_at(path, PVM_VRS_OFFSET, vrs, sizeof vrs);
    if (n < 2048)
        return false;
    if (memcmp(vrs + 1, "CD001", 5) == 0)
        return true;
    bool bea = false;
    for (ssize_t at = 0; at + 2048 <= n; at += 2048) {
        const unsigned char *id = vrs + at + 1;
        if (memcmp(id, "BEA01", 5) == 0)
            bea = true;
        else if (bea && (memcmp(id, "NSR02", 5) == 0 || memcmp(id, "NSR03", 5) == 0))
            return true;
        else if (memcmp(id, "TEA01", 5) == 0)
            return false;
    }
    return false;
}

int pvm_vm_field_iso(pvm_vm *vm, const char *path, pvm_error *err)
{
    char real[PVM_PATH_MAX];
    if (path && (!strcmp(path, "none") || !*path)) { /* detach */
        vm->iso[0] = '\0';
        return 0;
    }
    if (pvm_vm_input_file("iso", path, real, sizeof real, err) < 0)
        return -1;
    if (real[0] && !pvm_iso_signature(real))
        return pvm_error_set_field(err, PVM_E_INVALID, "iso", "iso: %s: not an ISO 9660 or UDF "
                                   "image (no CD001, or BEA01 then NSR02/NSR03, volume "
                                   "descriptor from byte 32769; ECMA-119, ECMA-167)", path);
    pvm_strlcpy(vm->iso, real, sizeof vm->iso);
    return 0;
}

/* A kernel QEMU's -kernel boots on x86: a Linux bzImage ("HdrS" at 0x202, the x86 boot
 * protocol, Documentation/arch/x86/boot.rst) or an ELF file (multiboot, PVH). */
static bool pvm_kernel_signature(const char *path)
{
    unsigned char head[0x206];
    ssize_t n = pvm_read_at(path, 0, head, sizeof head);
    if (n >= 4 && memcmp(head, "\x7f" "ELF", 4) == 0)
        return true;
    return n == (ssize_t)sizeof head && memcmp(head + 0x202, "HdrS", 4) == 0;
}

int pvm_vm_field_kernel(pvm_vm *vm, const char *path, pvm_error *err)
{
    char real[PVM_PATH_MAX];
    if (pvm_vm_input_file("kernel", path, real, sizeof real, err) < 0)
        return -1;
    if (real[0] && !pvm_kernel_signature(real))
        return pvm_error_set_field(err, PVM_E_INVALID, "kernel", "kernel: %s: not a kernel QEMU "
                                   "can boot (a Linux bzImage, with \"HdrS\" at byte 0x202, or "
                                   "an ELF file)", path);
    pvm_strlcpy(vm->kernel, real, sizeof vm->kernel);
    return 0;
}

int pvm_vm_file_check(const char *field, const char *path, pvm_error *err)
{
    pvm_vm *scratch = pvm_xcalloc(1, sizeof *scratch); /* the setters' target, dropped */
    char real[PVM_PATH_MAX];
    int rc;
    if (strcmp(field, "iso") == 0)
        rc = pvm_vm_field_iso(scratch, path, err);
    else if (strcmp(field, "kernel") == 0)
        rc = pvm_vm_field_kernel(scratch, path, err);
    else if (strcmp(field, "initrd") == 0 || strcmp(field, "image") == 0)
        rc = pvm_vm_input_file(field, path, real, sizeof real, err);
    else
        rc = pvm_error_set_field(err, PVM_E_INVALID, field, "%s: not a file setting", field);
    free(scratch);
    return rc;
}

int pvm_vm_field_profile(pvm_engine *e, pvm_vm *vm, const char *name_or_id, pvm_profile *p,
                         pvm_error *err)
{
    if (!name_or_id || !*name_or_id)
        return pvm_error_set_field(err, PVM_E_USAGE, "profile",
                                   "profile: required (--profile NAME)");
    if (pvm_profile_get(e, name_or_id, p, err) < 0) {
        if (err && err->code == PVM_E_NOTFOUND) /* the --profile given names none */
            pvm_strlcpy(err->field, "profile", sizeof err->field);
        return -1;
    }
    if (pvm_profile_marks_check(p, e->allow_vm_marks, err) < 0)
        return -1;
    pvm_strlcpy(vm->profile_id, p->id, sizeof vm->profile_id);
    return 0;
}

int pvm_vm_field_display(pvm_vm *vm, pvm_display display, pvm_error *err)
{
    if ((int)display < PVM_DISPLAY_NONE || display > PVM_DISPLAY_VNC)
        return pvm_error_set_field(err, PVM_E_INVALID, "display", "display: must be none or vnc");
    vm->display = display;
    return 0;
}

int pvm_vm_field_video(pvm_vm *vm, pvm_video video, pvm_error *err)
{
    if ((int)video < PVM_VIDEO_RAMFB || video > PVM_VIDEO_LAST)
        return pvm_error_set_field(err, PVM_E_INVALID, "video",
                                   "video: must be ramfb, cirrus, vga or virtio");
    vm->video = video;
    return 0;
}

int pvm_vm_fields_agree(const pvm_vm *vm, bool video_given, pvm_error *err)
{
    if (vm->net == PVM_NET_NONE && vm->nic != PVM_NIC_VIRTIO)
        return pvm_error_set_field(err, PVM_E_INVALID, "nic", "nic: --net none gives the VM "
                                   "no network card, so no %s model; keep --net user (or "
                                   "bridge=BR), or set --nic virtio with --net none",
                                   pvm_nic_model_name(vm->nic));
    if (vm->forwards[0] && vm->net != PVM_NET_USER)
        return pvm_error_set_field(err, PVM_E_INVALID, "forward", "forward: port forwards need "
                                   "user networking (--net user); a bridged or unplugged VM "
                                   "has none");
    if (video_given && vm->display == PVM_DISPLAY_NONE)
        return pvm_error_set_field(err, PVM_E_INVALID, "video", "video: the VM has no display "
                                   "(--display none), so no adapter; add --display vnc");
    return 0;
}

int pvm_vm_field_firmware(pvm_vm *vm, pvm_firmware fw, pvm_error *err)
{
    if ((int)fw < PVM_FIRMWARE_BIOS || fw > PVM_FIRMWARE_UEFI_SECURE)
        return pvm_error_set_field(err, PVM_E_INVALID, "firmware",
                                   "firmware: must be bios, uefi or uefi-secure");
    vm->firmware = fw;
    return 0;
}

/* ------------------------------------------------------------- networking */

#define PVM_FORWARDS_COUNT 16

/* One "[tcp|udp:][ADDR:]HOSTPORT:GUESTPORT" into "proto:addr:host:guest" in out; *key
 * gets proto and host port (one forward per host port). */
static int pvm_forward_one(const char *item, char *out, size_t size, int *key, pvm_error *err)
{
    char buf[128], *parts[5];
    size_t n = 0;
    if (pvm_strlcpy(buf, item, sizeof buf) >= sizeof buf)
        return pvm_error_set_field(err, PVM_E_INVALID, "forward", "forward: '%.40s...': too "
                                   "long", item);
    for (char *s = buf, *c; n < 5; s = c + 1) {
        parts[n++] = s;
        if (!(c = strchr(s, ':')))
            break;
        *c = '\0';
    }
    const char *proto = "tcp", *addr = "127.0.0.1";
    size_t i = 0;
    if (n > 2 && (!strcmp(parts[0], "tcp") || !strcmp(parts[0], "udp")))
        proto = parts[i++];
    if (n - i == 3)
        addr = parts[i++];
    int host, guest;
    struct in_addr ia;
    pvm_error e2 = {0};
    if (n - i != 2 || inet_pton(AF_INET, addr, &ia) != 1 ||
        pvm_int_parse("forward", parts[i], 1, 65535, &host, &e2) < 0 ||
        pvm_int_parse("forward", parts[i + 1], 1, 65535, &guest, &e2) < 0)
        return pvm_error_set_field(err, PVM_E_INVALID, "forward", "forward: '%s': must be "
                                   "[tcp|udp:][ADDR:]HOSTPORT:GUESTPORT with ports 1-65535 and "
                                   "an IPv4 ADDR (default 127.0.0.1), e.g. 2222:22", item);
    snprintf(out, size, "%s:%s:%d:%d", proto, addr, host, guest);
    *key = (proto[0] == 'u' ? 65536 : 0) + host;
    return 0;
}

int pvm_forwards_parse(const char *spec, char *out, size_t size, pvm_error *err)
{
    char canon[PVM_FORWARDS_COUNT][64];
    int keys[PVM_FORWARDS_COUNT];
    size_t n = 0, used = 0;
    out[0] = '\0';
    if (!spec || !*spec || !strcmp(spec, "none"))
        return 0;
    for (const char *seg = spec;;) { /* "2222:22," or ",": an empty entry is a typo */
        const char *end = strchr(seg, ',');
        size_t len = end ? (size_t)(end - seg) : strlen(seg);
        if (strspn(seg, " ") >= len)
            return pvm_error_set_field(err, PVM_E_INVALID, "forward", "forward: an empty entry "
                                       "in '%s' (entries are separated by one comma, e.g. "
                                       "2222:22,tcp:8080:80)", spec);
        if (!end)
            break;
        seg = end + 1;
    }
    char *copy = pvm_xstrdup(spec), *save = NULL;
    int rc = 0;
    for (char *it = strtok_r(copy, ", ", &save); it && rc == 0; it = strtok_r(NULL, ", ", &save)) {
        if (n == PVM_FORWARDS_COUNT) {
            rc = pvm_error_set_field(err, PVM_E_INVALID, "forward", "forward: at most %d",
                                     PVM_FORWARDS_COUNT);
            break;
        }
        rc = pvm_forward_one(it, canon[n], sizeof canon[n], &keys[n], err);
        for (size_t k = 0; k < n && rc == 0; k++)
            if (keys[k] == keys[n])
                rc = pvm_error_set_field(err, PVM_E_INVALID, "forward", "forward: %s host port "
                                         "%d is forwarded twice", keys[n] > 65535 ? "udp" : "tcp",
                                         keys[n] & 0xffff);
        n++;
    }
    free(copy);
    if (rc < 0)
        return -1;
    for (size_t k = 0; k < n; k++) {
        int w = snprintf(out + used, size - used, "%s%s", k ? " " : "", canon[k]);
        if (w < 0 || (size_t)w >= size - used)
            return pvm_error_set_field(err, PVM_E_INVALID, "forward", "forward: too many");
        used += (size_t)w;
    }
    return 0;
}

int pvm_forwards_exposed(const char *canon, char *out, size_t size)
{
    int n = 0;
    size_t used = 0;
    if (size)
        out[0] = '\0';
    for (const char *p = canon; p && *p; p += strcspn(p, " "), p += strspn(p, " ")) {
        size_t len = strcspn(p, " ");
        const char *addr = memchr(p, ':', len); /* proto:addr:host:guest */
        if (!addr || strncmp(addr + 1, "127.", 4) == 0)
            continue;
        n++;
        int w = snprintf(out + used, size - used, "%s%.*s", used ? ", " : "", (int)len, p);
        if (w > 0 && (size_t)w < size - used)
            used += (size_t)w;
    }
    return n;
}

static bool pvm_bridge_name_ok(const char *s)
{
    size_t n = strlen(s);
    return n >= 1 && n <= PVM_BRIDGE_MAX && strspn(s, "abcdefghijklmnopqrstuvwxyz"
                                                      "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n &&
           s[0] != '-' && s[0] != '.';
}

int pvm_vm_field_net(pvm_vm *vm, pvm_net_mode net, const char *bridge, pvm_error *err)
{
    if ((int)net < PVM_NET_USER || net > PVM_NET_BRIDGE)
        return pvm_error_set_field(err, PVM_E_INVALID, "net", "net: must be user, none or "
                                   "bridge=BR");
    if (net == PVM_NET_BRIDGE && (!bridge || !pvm_bridge_name_ok(bridge)))
        return pvm_error_set_field(err, PVM_E_INVALID, "net", "net: bridge=BR needs a bridge "
                                   "name of 1-%d letters, digits, '_', '.' or '-' (e.g. "
                                   "bridge=br0)", PVM_BRIDGE_MAX);
    vm->net = net;
    pvm_strlcpy(vm->bridge, net == PVM_NET_BRIDGE ? bridge : "", sizeof vm->bridge);
    return 0;
}

int pvm_vm_field_forwards(pvm_vm *vm, const char *spec, pvm_error *err)
{
    char out[PVM_FORWARDS_MAX];
    if (pvm_forwards_parse(spec, out, sizeof out, err) < 0)
        return -1;
    pvm_strlcpy(vm->forwards, out, sizeof vm->forwards);
    return 0;
}
