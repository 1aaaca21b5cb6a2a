/* vm_fields.c - one check-and-set function per VM setting (vCPUs, memory, disk size, NIC,
 * ISO ...), so vm create (vm.c) and vm edit (vm_edit.c) apply the same rules whatever the
 * front end. Each fills err naming the field (pvm_error_set_field) and leaves vm unchanged
 * on error. Declared in vm_internal.h. */
#include "internal.h"
#include "vm_internal.h"

#include <errno.h>
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
    if (vm->net == PVM_NET_NONE && nic != PVM_NIC_VIRTIO)
        return pvm_error_set_field(err, PVM_E_INVALID, "nic", "nic: --net none gives the VM "
                                   "no network card; drop --nic, or choose --net user");
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

int pvm_vm_field_iso(pvm_vm *vm, const char *path, pvm_error *err)
{
    char real[PVM_PATH_MAX];
    if (path && (!strcmp(path, "none") || !*path)) { /* detach */
        vm->iso[0] = '\0';
        return 0;
    }
    if (pvm_vm_input_file("iso", path, real, sizeof real, err) < 0)
        return -1;
    pvm_strlcpy(vm->iso, real, sizeof vm->iso);
    return 0;
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
    if ((int)video < PVM_VIDEO_RAMFB || video > PVM_VIDEO_VIRTIO)
        return pvm_error_set_field(err, PVM_E_INVALID, "video",
                                   "video: must be ramfb, vga or virtio");
    vm->video = video;
    return 0;
}

int pvm_vm_fields_agree(const pvm_vm *vm, bool video_given, pvm_error *err)
{
    if (video_given && vm->display == PVM_DISPLAY_NONE)
        return pvm_error_set_field(err, PVM_E_INVALID, "video", "video: the VM has no display "
                                   "(--display none), so no adapter; add --display vnc");
    return 0;
}
