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

/* ------------------------------------------------ types 3, 4, 17 (smbios_hw.c) */

static void hw_profile(pvm_profile *p)
{
    pvm_profile_init(p);
    strcpy(p->name, "t");
    strcpy(p->hw.chassis_manufacturer, "Dell Inc.");
    strcpy(p->hw.chassis_serial, "7ABC123");
    strcpy(p->hw.chassis_type, "notebook");
    strcpy(p->hw.cpu_manufacturer, "Intel(R) Corporation");
    strcpy(p->hw.cpu_model, "11th Gen Intel(R) Core(TM) i7-1185G7 @ 3.00GHz");
    strcpy(p->hw.cpu_cores, "4");
    strcpy(p->hw.cpu_threads, "2");
    strcpy(p->hw.cpu_family, "6");
    strcpy(p->hw.cpu_model_number, "140");
    strcpy(p->hw.cpu_stepping, "1");
    strcpy(p->hw.memory_manufacturer, "Samsung");
    strcpy(p->machine_id, "4c4c4544-0042-3510-8052-b7c04f4a3233");
}

static unsigned word_at(const unsigned char *b, size_t off)
{
    return (unsigned)b[off] | (unsigned)b[off + 1] << 8;
}

static uint32_t dword_at(const unsigned char *b, size_t off)
{
    return (uint32_t)word_at(b, off) | (uint32_t)word_at(b, off + 2) << 16;
}

static void test_type3_bytes(void **state)
{
    (void)state;
    pvm_profile p;
    hw_profile(&p);
    unsigned char b[BUF];
    size_t len;
    pvm_error err = {0};
    memset(b, 0xAA, sizeof b);
    assert_int_equal(pvm_smbios_type3(&p, b, sizeof b, &len, &err), 0);
    static const unsigned char head[0x16] = {
        0x03, 0x16, 0x00, 0x03,   /* type 3, length 22, handle 0x0300 (type 2 points here) */
        0x01, 0x0A, 0x00, 0x02,   /* manufacturer #1, notebook, no version, serial #2 */
        0x00, 0x03, 0x03, 0x03,   /* no asset; boot-up, power, thermal: safe */
        0x03, 0, 0, 0, 0, 0x00,   /* security none, OEM 0, height 0 */
        0x01, 0x00, 0x00, 0x00,   /* one power cord, no elements, no SKU */
    };
    assert_memory_equal(b, head, sizeof head);
    const char strings[] = "Dell Inc.\0" "7ABC123\0";
    assert_int_equal(len, 0x16 + sizeof strings);
    assert_memory_equal(b + 0x16, strings, sizeof strings);
    assert_int_equal(b[len], 0xAA);

    /* every chassis name gives its code; none set: desktop (3), never QEMU's 1 */
    size_t n;
    const pvm_chassis_type *t = pvm_chassis_types(&n);
    for (size_t i = 0; i < n; i++) {
        strcpy(p.hw.chassis_type, t[i].name);
        assert_int_equal(pvm_smbios_type3(&p, b, sizeof b, &len, &err), 0);
        assert_int_equal(b[5], t[i].code);
        assert_true(t[i].code != 1 && t[i].code != 2);
    }
    assert_int_equal(pvm_chassis_code("mini-pc"), 0x23);
    assert_int_equal(pvm_chassis_code("tablet"), 0x1E);
    assert_int_equal(pvm_chassis_code("all-in-one"), 0x0D);
    p.hw.chassis_type[0] = '\0';
    assert_int_equal(pvm_smbios_type3(&p, b, sizeof b, &len, &err), 0);
    assert_int_equal(b[5], 0x03);
    strcpy(p.hw.chassis_type, "other");
    assert_int_equal(pvm_smbios_type3(&p, b, sizeof b, &len, &err), -1);
    assert_string_equal(err.field, "chassisType");
}

static void test_type4_bytes(void **state)
{
    (void)state;
    pvm_profile p;
    hw_profile(&p);
    pvm_cpu_topo t;
    pvm_cpu_topology(&p.hw, 8, &t);
    assert_int_equal(t.sockets, 1);
    assert_int_equal(t.cores, 4);
    assert_int_equal(t.threads, 2);
    unsigned char b[BUF];
    size_t len;
    pvm_error err = {0};
    assert_int_equal(pvm_smbios_type4(&p, &t, 0, b, sizeof b, &len, &err), 0);
    assert_int_equal(b[0], 4);
    assert_int_equal(b[1], 0x30);          /* SMBIOS 3.0 layout */
    assert_int_equal(word_at(b, 2), 0x0400);
    assert_int_equal(b[5], 0x03);          /* central processor */
    assert_int_equal(b[6], 0xC6);          /* Core i7 */
    assert_int_equal(dword_at(b, 8), 0x000806C1); /* family 6, model 0x8C, stepping 1 */
    assert_int_equal(dword_at(b, 12), 0xBFEBFBFF);
    assert_int_equal(word_at(b, 0x12), 100);
    assert_int_equal(word_at(b, 0x14), 3000); /* "@ 3.00GHz" */
    assert_int_equal(word_at(b, 0x16), 3000);
    assert_int_equal(b[0x18], 0x41);
    assert_int_equal(word_at(b, 0x1A), 0xFFFF);
    assert_int_equal(b[0x23], 4);          /* cores, enabled, threads */
    assert_int_equal(b[0x24], 4);
    assert_int_equal(b[0x25], 8);
    assert_int_equal(word_at(b, 0x26), 0x04 | 0x08 | 0x10 | 0x20 | 0x80);
    assert_int_equal(word_at(b, 0x28), 0xC6);
    assert_int_equal(word_at(b, 0x2A), 4);
    assert_int_equal(word_at(b, 0x2E), 8);
    const char strings[] = "CPU 1\0" "Intel(R) Corporation\0"
                           "11th Gen Intel(R) Core(TM) i7-1185G7 @ 3.00GHz\0";
    assert_int_equal(b[4], 1);
    assert_int_equal(b[7], 2);
    assert_int_equal(b[0x10], 3);
    assert_int_equal(len, 0x30 + sizeof strings);
    assert_memory_equal(b + 0x30, strings, sizeof strings);

    /* a count the threads do not divide: one thread per core; single core: no flags */
    pvm_cpu_topology(&p.hw, 3, &t);
    assert_int_equal(t.cores, 3);
    assert_int_equal(t.threads, 1);
    pvm_cpu_topology(&p.hw, 1, &t);
    assert_int_equal(pvm_smbios_type4(&p, &t, 0, b, sizeof b, &len, &err), 0);
    assert_int_equal(word_at(b, 0x26), 0x04 | 0x20 | 0x80);

    /* AMD Zen 2 (family 23 = 0xF + 8): extended family; the Zen processor family */
    strcpy(p.hw.cpu_manufacturer, "Advanced Micro Devices, Inc.");
    strcpy(p.hw.cpu_model, "AMD Ryzen 7 PRO 4750U with Radeon Graphics");
    strcpy(p.hw.cpu_family, "23");
    strcpy(p.hw.cpu_model_number, "96");
    assert_int_equal(pvm_cpu_signature(&p.hw), 0x00860F01);
    assert_int_equal(pvm_smbios_type4(&p, &t, 0, b, sizeof b, &len, &err), 0);
    assert_int_equal(b[6], 0x6B);
    assert_int_equal(dword_at(b, 12), 0x178BFBFF);
    assert_int_equal(word_at(b, 0x14), 0); /* no "@": unknown */
    strcpy(p.hw.cpu_model, "Intel(R) Core(TM) i9-9880H CPU @ 2.30GHz");
    assert_int_equal(pvm_smbios_type4(&p, &t, 0, b, sizeof b, &len, &err), 0);
    assert_int_equal(b[6], 0xCF);          /* Core i9 */
    strcpy(p.hw.cpu_model, "bad\x01");
    assert_int_equal(pvm_smbios_type4(&p, &t, 0, b, sizeof b, &len, &err), -1);
    assert_string_equal(err.field, "cpuModel");
}

static void test_type17_bytes_and_count(void **state)
{
    (void)state;
    pvm_profile p;
    hw_profile(&p);
    unsigned char b[BUF];
    size_t len;
    pvm_error err = {0};
    assert_int_equal(pvm_smbios_dimm_count(256ull << 20), 1);
    assert_int_equal(pvm_smbios_dimm_count(16ull << 30), 1);
    assert_int_equal(pvm_smbios_dimm_count(20ull << 30), 2);
    assert_int_equal(pvm_smbios_dimm_count(48ull << 30), 3);
    assert_int_equal(pvm_smbios_type17(&p, 256ull << 20, 0, b, sizeof b, &len, &err), 0);
    assert_int_equal(b[0], 17);
    assert_int_equal(b[1], 0x28);           /* SMBIOS 2.8 layout */
    assert_int_equal(word_at(b, 2), 0x1100);
    assert_int_equal(word_at(b, 4), 0x1000); /* QEMU's type 16 */
    assert_int_equal(word_at(b, 6), 0xFFFE);
    assert_int_equal(word_at(b, 8), 64);
    assert_int_equal(word_at(b, 0x0C), 256);  /* MB */
    assert_int_equal(b[0x0E], 0x0D);          /* SODIMM: a notebook */
    assert_int_equal(b[0x12], 0x1A);          /* DDR4 */
    assert_int_equal(word_at(b, 0x15), 3200);
    assert_int_equal(word_at(b, 0x22), 1200);
    const char *str = (const char *)b + 0x28; /* locator, bank, maker, serial, part */
    assert_string_equal(str, "ChannelA-DIMM0");
    str += strlen(str) + 1;
    assert_string_equal(str, "BANK 0");
    str += strlen(str) + 1;
    assert_string_equal(str, "Samsung");
    str += strlen(str) + 1;
    assert_int_equal(strlen(str), 8);
    char serial[9];
    strcpy(serial, str);
    str += strlen(str) + 1;
    assert_string_equal(str, "M471A5244CB0-CWE");
    /* the same serial on every boot; another slot, another serial */
    assert_int_equal(pvm_smbios_type17(&p, 256ull << 20, 0, b, sizeof b, &len, &err), 0);
    assert_memory_equal(b + 0x28 + 15 + 7 + 8, serial, 8);

    /* 20G: 16G + 4G, as QEMU's own split (its type 16 counts 2) */
    assert_int_equal(pvm_smbios_type17(&p, 20ull << 30, 0, b, sizeof b, &len, &err), 0);
    assert_int_equal(word_at(b, 0x0C), 16384);
    assert_int_equal(pvm_smbios_type17(&p, 20ull << 30, 1, b, sizeof b, &len, &err), 0);
    assert_int_equal(word_at(b, 2), 0x1101);
    assert_int_equal(word_at(b, 0x0C), 4096);
    assert_string_equal((const char *)b + 0x28, "ChannelB-DIMM0");
    assert_int_equal(pvm_smbios_type17(&p, 20ull << 30, 2, b, sizeof b, &len, &err), -1);
    strcpy(p.hw.chassis_type, "desktop");
    assert_int_equal(pvm_smbios_type17(&p, 20ull << 30, 1, b, sizeof b, &len, &err), 0);
    assert_int_equal(b[0x0E], 0x09); /* DIMM */
    /* a desktop's unbuffered DIMM gets a DIMM's part number, not a laptop SO-DIMM's */
    str = (const char *)b + 0x28;
    for (int k = 0; k < 4; k++)
        str += strlen(str) + 1;
    assert_string_equal(str, "M378A5244CB0-CWE");
}

static void test_tables_written_per_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/pvm-smbios-XXXXXX";
    assert_non_null(mkdtemp(dir));
    pvm_profile p;
    hw_profile(&p);
    pvm_vm vm;
    memset(&vm, 0, sizeof vm);
    vm.cpus = 8;
    vm.memory_bytes = 20ull << 30;
    pvm_error err = {0};
    assert_int_equal(pvm_smbios_tables_write(&p, &vm, dir, &err), 0);
    const int types[][2] = {{3, 0}, {4, 0}, {17, 0}, {17, 1}};
    for (size_t i = 0; i < 4; i++) {
        char path[256];
        assert_int_equal(pvm_smbios_table_path(dir, types[i][0], types[i][1], path, sizeof path), 0);
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        unsigned char first;
        assert_int_equal(fread(&first, 1, 1, f), 1);
        fclose(f);
        assert_int_equal(first, types[i][0]); /* one structure per file, its own type */
        unlink(path);
    }
    char path[256];
    assert_int_equal(pvm_smbios_table_path(dir, 17, 2, path, sizeof path), 0);
    assert_int_equal(access(path, F_OK), -1); /* no third device for 20G */
    assert_int_equal(pvm_smbios_table_path(dir, 3, 0, path, 8), -1);
    rmdir(dir);
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
        cmocka_unit_test(test_type3_bytes),
        cmocka_unit_test(test_type4_bytes),
        cmocka_unit_test(test_type17_bytes_and_count),
        cmocka_unit_test(test_tables_written_per_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
