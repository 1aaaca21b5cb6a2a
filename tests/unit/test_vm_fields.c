/* test_vm_fields.c - unit tests of the file checks in engine/vm_fields.c that vm create,
 * vm edit and the TUI's forms share: --iso takes only an ISO 9660 or UDF image (its volume
 * descriptor at byte 32769, ECMA-119 / ECMA-167), --kernel only a bzImage or ELF file;
 * pvm_vm_file_check, the forms' one-field check, applies the same rule per field.
 * Run by tests/run (plain and ASan+UBSan). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../engine/internal.h"
#include "../../engine/vm_internal.h"
#include "fixture.h"

typedef struct piece {
    long at;
    const char *bytes;
} piece;

/* Writes dir/name: size zero bytes with the pieces written over them; returns its path. */
static const char *file_with(const char *dir, const char *name, long size, const piece *pieces,
                             size_t n)
{
    static char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, size), 0);
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(pieces[i].bytes);
        assert_int_equal(pwrite(fd, pieces[i].bytes, len, pieces[i].at), (ssize_t)len);
    }
    close(fd);
    return path;
}

static int iso_ok(const char *path)
{
    pvm_vm vm;
    pvm_error err = {0};
    memset(&vm, 0, sizeof vm);
    int rc = pvm_vm_field_iso(&vm, path, &err);
    if (rc == 0) {
        assert_string_not_equal(vm.iso, "");
        return 0;
    }
    assert_string_equal(err.field, "iso");
    assert_string_equal(vm.iso, ""); /* unchanged on error */
    return -1;
}

#define VRS(k) (32768L + (k) * 2048L + 1) /* descriptor k's identifier */

static void test_iso_signatures(void **state)
{
    fixture *f = *state;
    piece cd[] = {{VRS(0), "CD001"}};
    assert_int_equal(iso_ok(file_with(f->dir, "cd.iso", 40960, cd, 1)), 0);
    piece bridge[] = {{VRS(0), "CD001"}, {VRS(1), "BEA01"}, {VRS(2), "NSR02"}};
    assert_int_equal(iso_ok(file_with(f->dir, "bridge.iso", 65536, bridge, 3)), 0);
    piece udf[] = {{VRS(0), "BEA01"}, {VRS(1), "NSR03"}, {VRS(2), "TEA01"}};
    assert_int_equal(iso_ok(file_with(f->dir, "udf.iso", 65536, udf, 3)), 0);
}

static void test_iso_refused(void **state)
{
    fixture *f = *state;
    assert_int_equal(iso_ok(file_with(f->dir, "zeros.iso", 65536, NULL, 0)), -1);
    assert_int_equal(iso_ok(file_with(f->dir, "empty.iso", 0, NULL, 0)), -1);
    piece text[] = {{0, "root:x:0:0:root:/root:/bin/sh\n"}};
    assert_int_equal(iso_ok(file_with(f->dir, "passwd", 31, text, 1)), -1);
    piece shifted[] = {{VRS(0) - 1, "CD001"}}; /* one byte early: not the identifier */
    assert_int_equal(iso_ok(file_with(f->dir, "shifted.iso", 65536, shifted, 1)), -1);
    piece short_vrs[] = {{VRS(0), "CD0"}}; /* the file ends inside the descriptor */
    assert_int_equal(iso_ok(file_with(f->dir, "short.iso", VRS(0) + 3, short_vrs, 1)), -1);
    piece bea_only[] = {{VRS(0), "BEA01"}, {VRS(1), "TEA01"}, {VRS(2), "NSR03"}};
    assert_int_equal(iso_ok(file_with(f->dir, "bea.iso", 65536, bea_only, 3)), -1);
    piece nsr_only[] = {{VRS(0), "NSR03"}}; /* no BEA01 before it */
    assert_int_equal(iso_ok(file_with(f->dir, "nsr.iso", 65536, nsr_only, 1)), -1);
    pvm_vm vm;
    pvm_error err = {0};
    memset(&vm, 0, sizeof vm);
    assert_int_equal(pvm_vm_field_iso(&vm, file_with(f->dir, "z.iso", 65536, NULL, 0), &err), -1);
    assert_non_null(strstr(err.msg, "iso: "));
    assert_non_null(strstr(err.msg, "not an ISO 9660 or UDF image"));
    assert_int_equal(err.code, PVM_E_INVALID);
}

static void test_iso_detach(void **state)
{
    (void)state;
    pvm_vm vm;
    pvm_error err = {0};
    memset(&vm, 0, sizeof vm);
    strcpy(vm.iso, "/x.iso");
    assert_int_equal(pvm_vm_field_iso(&vm, "none", &err), 0);
    assert_string_equal(vm.iso, "");
}

static int kernel_ok(const char *path)
{
    pvm_vm vm;
    pvm_error err = {0};
    memset(&vm, 0, sizeof vm);
    int rc = pvm_vm_field_kernel(&vm, path, &err);
    if (rc < 0) {
        assert_string_equal(err.field, "kernel");
        assert_string_equal(vm.kernel, "");
    }
    return rc;
}

static void test_kernel_signatures(void **state)
{
    fixture *f = *state;
    piece bz[] = {{0x202, "HdrS"}};
    assert_int_equal(kernel_ok(file_with(f->dir, "bzImage", 4096, bz, 1)), 0);
    piece elf[] = {{0, "\x7f" "ELF"}};
    assert_int_equal(kernel_ok(file_with(f->dir, "vmlinux", 4096, elf, 1)), 0);
    assert_int_equal(kernel_ok(file_with(f->dir, "zeros", 4096, NULL, 0)), -1);
    piece cut[] = {{0x202, "Hdr"}}; /* the file ends inside the magic */
    assert_int_equal(kernel_ok(file_with(f->dir, "cut", 0x205, cut, 1)), -1);
    assert_int_equal(kernel_ok(NULL), 0); /* no kernel: nothing to check */
}

/* The one-field check a form runs as a field is left: the same rule per field as the
 * setters above, the error naming the field it was asked about. */
static void test_file_check(void **state)
{
    fixture *f = *state;
    piece cd[] = {{VRS(0), "CD001"}};
    piece bz[] = {{0x202, "HdrS"}};
    char iso[PATH_MAX], kernel[PATH_MAX], missing[PATH_MAX];
    snprintf(iso, sizeof iso, "%s", file_with(f->dir, "cd.iso", 40960, cd, 1));
    snprintf(kernel, sizeof kernel, "%s", file_with(f->dir, "bzImage", 4096, bz, 1));
    snprintf(missing, sizeof missing, "%s/missing", f->dir);
    pvm_error err = {0};
    assert_int_equal(pvm_vm_file_check("iso", iso, &err), 0);
    assert_int_equal(pvm_vm_file_check("iso", "", &err), 0);
    assert_int_equal(pvm_vm_file_check("iso", "none", &err), 0);
    assert_int_equal(pvm_vm_file_check("kernel", kernel, &err), 0);
    assert_int_equal(pvm_vm_file_check("initrd", iso, &err), 0); /* any readable file */
    assert_int_equal(pvm_vm_file_check("image", kernel, &err), 0);
    const struct { const char *field, *path, *says; } bad[] = {
        {"iso", kernel, "not an ISO 9660 or UDF image"},
        {"kernel", iso, "not a kernel QEMU can boot"},
        {"initrd", missing, "No such file or directory"},
        {"image", f->dir, "must be a regular file"},
        {"append", iso, "not a file setting"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        pvm_error e = {0};
        assert_int_equal(pvm_vm_file_check(bad[i].field, bad[i].path, &e), -1);
        assert_string_equal(e.field, bad[i].field);
        assert_non_null(strstr(e.msg, bad[i].says));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_iso_signatures, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_iso_refused, fixture_setup, fixture_teardown),
        cmocka_unit_test(test_iso_detach),
        cmocka_unit_test_setup_teardown(test_kernel_signatures, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_file_check, fixture_setup, fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
