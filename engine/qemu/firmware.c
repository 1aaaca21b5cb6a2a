/* qemu/firmware.c - the VM's firmware for the QEMU backend: SeaBIOS (QEMU's own), or OVMF
 * from Debian's ovmf package (code read-only, a per-VM copy of the variables store in the
 * VM's folder: efivars.fd, deleted with it); uefi-secure takes the Secure Boot build and
 * the variables with Microsoft's keys enrolled. Called by backend.c and doctor.c. */
#include "qemu/qemu.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PVM_OVMF_DIR "/usr/share/OVMF"

int pvm_qemu_firmware_files(pvm_firmware fw, const char **code, const char **vars)
{
    switch (fw) {
    case PVM_FIRMWARE_UEFI:
        *code = PVM_OVMF_DIR "/OVMF_CODE_4M.fd";
        *vars = PVM_OVMF_DIR "/OVMF_VARS_4M.fd";
        return 0;
    case PVM_FIRMWARE_UEFI_SECURE:
        *code = PVM_OVMF_DIR "/OVMF_CODE_4M.secboot.fd";
        *vars = PVM_OVMF_DIR "/OVMF_VARS_4M.ms.fd";
        return 0;
    default:
        *code = *vars = NULL;
        return -1;
    }
}

static int pvm_firmware_missing(const char *path, pvm_error *err)
{
    return pvm_error_set_field(err, PVM_E_NOTFOUND, "firmware", "firmware: %s: %s (UEFI needs "
                               "Debian's OVMF: apt-get install ovmf)", path, strerror(errno));
}

/* Copies src to dst (a new file, 0600). */
static int pvm_firmware_copy(const char *src, const char *dst, pvm_error *err)
{
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return pvm_firmware_missing(src, err);
    char *data = NULL;
    size_t len = 0;
    int got = pvm_read_all(in, 16u << 20, &data, &len);
    close(in);
    if (got != 0)
        return pvm_error_set(err, PVM_E_IO, "%s: cannot read it", src);
    char *tmp = pvm_xasprintf("%s.new", dst);
    int out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    int rc = 0;
    if (out < 0 || pvm_write_all(out, data, len) < 0 || fsync(out) < 0)
        rc = pvm_error_set(err, PVM_E_IO, "%s: cannot write: %s", tmp, strerror(errno));
    if (out >= 0)
        close(out);
    if (rc == 0 && rename(tmp, dst) < 0)
        rc = pvm_error_set(err, PVM_E_IO, "%s: %s", dst, strerror(errno));
    if (rc < 0)
        unlink(tmp);
    free(tmp);
    free(data);
    return rc;
}

int pvm_qemu_firmware_prepare(const char *vars_path, pvm_firmware fw, pvm_error *err)
{
    const char *code, *vars;
    if (pvm_qemu_firmware_files(fw, &code, &vars) < 0) {
        unlink(vars_path); /* SeaBIOS keeps no variables */
        return 0;
    }
    if (access(code, R_OK) < 0)
        return pvm_firmware_missing(code, err);
    return pvm_firmware_copy(vars, vars_path, err);
}

int pvm_qemu_firmware_check(const char *vars_path, pvm_firmware fw, pvm_error *err)
{
    const char *code, *vars;
    if (pvm_qemu_firmware_files(fw, &code, &vars) < 0)
        return 0;
    if (access(code, R_OK) < 0)
        return pvm_firmware_missing(code, err);
    struct stat st;
    if (lstat(vars_path, &st) < 0 || !S_ISREG(st.st_mode))
        return pvm_error_set_field(err, PVM_E_STATE, "firmware", "firmware: the VM's UEFI "
                                   "variables %s are missing; 'vm edit NAME --firmware %s "
                                   "--force' makes a fresh store", vars_path,
                                   pvm_firmware_name(fw));
    return 0;
}
