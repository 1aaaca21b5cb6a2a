/* test_smbios.c - unit tests of engine/smbios.c: the exact bytes of the raw
 * SMBIOS type 0 structure (header, string indexes, characteristics with the
 * virtual-machine bit clear, string area) and its file. Run by tests/run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../engine/qemu/qemu.h"

#define BUF 512

static void set_bios(pvm_hw_model *hw, const char *vendor, const char *version, const char *date)
{
    memset(hw, 0, sizeof *hw);
    strcpy(hw->bios_vendor, vendor);
    strcpy(hw->bios_version, version);
    strcpy(hw->bios_date, date);
}

static size_t build(const pvm_hw_model *hw, unsigned char *buf)
{
    size_t len = 0;
    pvm_error err = { 0 };
    memset(buf, 0xAA, BUF);
    assert_int_equal(pvm_smbios_type0(hw, buf, BUF, &len, &err), 0);
    return len;
}

static void test_full_structure_bytes(void **state)
{
    (void)state;
    pvm_hw_model hw;
    set_bios(&hw, "Dell Inc.", "1.15.0", "03/14/2023");
    unsigned char b[BUF];
    size_t len = build(&hw, b);
    static const unsigned char want_head[0x18] = {
        0x00, 0x18, 0x00, 0x00,             /* type 0, length, handle 0 */
        0x01, 0x02, 0x00, 0xE8,             /* vendor #1, version #2, segment 0xE800 */
        0x03, 0x0F,                         /* date #3, ROM 1 MB */
        0x80, 0x9A, 0x09, 0x7C, 0x00, 0x00, 0x00, 0x00, /* characteristics */
        0x03, 0x05,                         /* ext 1: ACPI, USB legacy; ext 2: BBS, TCD */
        0x01, 0x0F,                         /* release 1.15 */
        0xFF, 0xFF,                         /* no embedded controller */
    };
    assert_memory_equal(b, want_head, sizeof want_head);
    const char strings[] = "Dell Inc.\0" "1.15.0\0" "03/14/2023\0";
    assert_int_equal(len, 0x18 + sizeof strings); /* sizeof counts the final extra NUL */
    assert_memory_equal(b + 0x18, strings, sizeof strings);
    assert_int_equal(b[len - 1], 0);
    assert_int_equal(b[len - 2], 0);
    assert_int_equal(b[len], 0xAA); /* nothing written past len */
}

static void test_vm_bit_clear(void **state)
{
    (void)state;
    pvm_hw_model hw;
    set_bios(&hw, "LENOVO", "N2HET70W (1.53 )", "01/01/2024");
    unsigned char b[BUF];
    build(&hw, b);
    assert_int_equal(b[19] & 0x10, 0);  /* extension byte 2, bit 4 = virtual machine */
    assert_int_equal(b[10] & 0x08, 0);  /* "characteristics not supported" is not claimed */
    assert_true(b[10] & 0x80);          /* PCI supported */
    assert_int_equal(b[20], 1);         /* release 1.53 from "(1.53 )" */
    assert_int_equal(b[21], 53);
}

static void test_empty_strings_get_index_zero(void **state)
{
    (void)state;
    pvm_hw_model hw;
    set_bios(&hw, "", "2.1", "");
    unsigned char b[BUF];
    size_t len = build(&hw, b);
    assert_int_equal(b[4], 0);
    assert_int_equal(b[5], 1);
    assert_int_equal(b[8], 0);
    assert_int_equal(len, 0x18 + 4 + 1);
    assert_memory_equal(b + 0x18, "2.1\0\0", 5);
    assert_int_equal(b[20], 2);
    assert_int_equal(b[21], 1);
}

static void test_no_strings_double_nul(void **state)
{
    (void)state;
    pvm_hw_model hw;
    set_bios(&hw, "", "", "");
    unsigned char b[BUF];
    size_t len = build(&hw, b);
    assert_int_equal(len, 0x18 + 2);
    assert_int_equal(b[4], 0);
    assert_int_equal(b[5], 0);
    assert_int_equal(b[8], 0);
    assert_int_equal(b[0x18], 0);
    assert_int_equal(b[0x19], 0);
    assert_int_equal(b[20], 0xFF); /* no version, no release */
    assert_int_equal(b[21], 0xFF);
}

static void test_index_order_skips_empty_vendor(void **state)
{
    (void)state;
    pvm_hw_model hw;
    set_bios(&hw, "", "A12", "05/06/2021");
    unsigned char b[BUF];
    size_t len = build(&hw, b);
    assert_int_equal(b[4], 0);
    assert_int_equal(b[5], 1);
    assert_int_equal(b[8], 2);
    const char strings[] = "A12\0" "05/06/2021\0";
    assert_int_equal(len, 0x18 + sizeof strings);
    assert_memory_equal(b + 0x18, strings, sizeof strings);
    assert_int_equal(b[20], 12); /* "A12": major 12, no minor */
    assert_int_equal(b[21], 0);
}

static void test_64_byte_strings(void **state)
{
    (void)state;
    pvm_hw_model hw;
    char s64[65];
    memset(s64, 'V', 64);
    s64[64] = '\0';
    set_bios(&hw, s64, s64, s64);
    unsigned char b[BUF];
    size_t len = build(&hw, b);
    assert_int_equal(len, 0x18 + 3 * 65 + 1);
    for (int i = 0; i < 3; i++) {
        assert_memory_equal(b + 0x18 + 65 * i, s64, 64);
        assert_int_equal(b[0x18 + 65 * i + 64], 0);
    }
    assert_int_equal(b[len - 1], 0);
    assert_int_equal(b[20], 0xFF); /* no digits */
}

static void test_big_release_numbers_are_unknown(void **state)
{
    (void)state;
    pvm_hw_model hw;
    set_bios(&hw, "Apple Inc.", "2069.0.0.0.0", "");
    unsigned char b[BUF];
    build(&hw, b);
    assert_int_equal(b[20], 0xFF);
    assert_int_equal(b[21], 0xFF);
}

static void test_refuses_small_buffer_and_bad_text(void **state)
{
    (void)state;
    pvm_hw_model hw;
    set_bios(&hw, "Dell Inc.", "1.0", "");
    unsigned char b[BUF];
    size_t len = 0;
    pvm_error err = { 0 };
    assert_int_equal(pvm_smbios_type0(&hw, b, 0x18 + 4, &len, &err), -1);
    assert_int_equal(err.code, PVM_E_INVALID);
    hw.bios_vendor[3] = '\n';
    assert_int_equal(pvm_smbios_type0(&hw, b, BUF, &len, &err), -1);
    assert_non_null(strstr(err.msg, "biosVendor"));
}

static void test_write_file_0600_same_bytes(void **state)
{
    (void)state;
    pvm_hw_model hw;
    set_bios(&hw, "HP", "S70 Ver. 01.02.00", "11/02/2022");
    unsigned char want[BUF], got[BUF];
    size_t len = build(&hw, want);
    assert_int_equal(want[20], 1); /* "S70 Ver. 01.02.00" -> 1.2 */
    assert_int_equal(want[21], 2);
    char dir[] = "/tmp/test_smbios.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/type0.bin", dir);
    pvm_error err = { 0 };
    assert_int_equal(pvm_smbios_type0_write(&hw, path, &err), 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal((size_t)st.st_size, len);
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(read(fd, got, sizeof got), (ssize_t)len);
    close(fd);
    assert_memory_equal(got, want, len);
    unlink(path);
    rmdir(dir);
    snprintf(path, sizeof path, "%s/missing/type0.bin", dir);
    assert_int_equal(pvm_smbios_type0_write(&hw, path, &err), -1);
    assert_int_equal(err.code, PVM_E_IO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_structure_bytes),
        cmocka_unit_test(test_vm_bit_clear),
        cmocka_unit_test(test_empty_strings_get_index_zero),
        cmocka_unit_test(test_no_strings_double_nul),
        cmocka_unit_test(test_index_order_skips_empty_vendor),
        cmocka_unit_test(test_64_byte_strings),
        cmocka_unit_test(test_big_release_numbers_are_unknown),
        cmocka_unit_test(test_refuses_small_buffer_and_bad_text),
        cmocka_unit_test(test_write_file_0600_same_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
