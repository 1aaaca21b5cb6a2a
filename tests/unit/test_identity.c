/* test_identity.c - unit tests of engine/identity.c: each vendor serial
 * format's shape, disk serials, MACs and UUIDs, and uniqueness over 10,000
 * draws of each. Run by tests/run (plain and ASan+UBSan builds). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../engine/pvm.h"
#include "serial_shape.h"

#define DRAWS 10000
#define SLOT 48 /* bytes per stored draw (a UUID takes 37) */

static const pvm_serial_format all_formats[] = {
    PVM_SERIAL_APPLE, PVM_SERIAL_DELL,  PVM_SERIAL_LENOVO, PVM_SERIAL_HP,
    PVM_SERIAL_MICROSOFT, PVM_SERIAL_ASUS, PVM_SERIAL_GENERIC,
};
#define NFORMATS (sizeof all_formats / sizeof all_formats[0])

/* ------------------------------------------------------------ shape checks */

static bool hex_lower(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static bool mac_shape_ok(const char *m)
{
    if (strlen(m) != PVM_MAC_LEN)
        return false;
    for (int i = 0; i < PVM_MAC_LEN; i++) {
        if (i % 3 == 2) {
            if (m[i] != ':')
                return false;
        } else if (!hex_lower(m[i])) {
            return false;
        }
    }
    return true;
}

static unsigned first_octet(const char *m)
{
    return (unsigned)strtoul((char[]){m[0], m[1], 0}, NULL, 16);
}

static bool uuid_v4_shape_ok(const char *u)
{
    if (strlen(u) != PVM_UUID_LEN)
        return false;
    for (int i = 0; i < PVM_UUID_LEN; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? u[i] != '-' : !hex_lower(u[i]))
            return false;
    }
    return u[14] == '4' && strchr("89ab", u[19]) != NULL;
}

static bool disk_serial_shape_ok(const char *s)
{
    return strlen(s) == 14 && s[0] == 'S' && all_in(s + 1, 1, DIGITS) &&
           all_in(s + 2, 2, UPPER) && strncmp(s + 4, "NX0", 3) == 0 &&
           all_in(s + 7, 1, UPPER) && all_in(s + 8, 6, DIGITS);
}

/* ------------------------------------------------------------- uniqueness */

static int cmp_slot(const void *a, const void *b)
{
    return strcmp(a, b);
}

static size_t count_duplicates(char *slots, size_t n)
{
    size_t dups = 0;
    qsort(slots, n, SLOT, cmp_slot);
    for (size_t i = 1; i < n; i++)
        if (strcmp(slots + (i - 1) * SLOT, slots + i * SLOT) == 0)
            dups++;
    return dups;
}

/* How many duplicates a uniform generator over `space` values may show in
 * DRAWS draws. Where the birthday expectation is negligible (< 1/1000) none
 * is allowed; formats whose real-world space is small (a 24-bit MAC tail,
 * Lenovo's 6 characters) may repeat by chance, so a margin far above the
 * expectation is allowed: a broken (constant, short-cycled) generator still
 * fails by thousands. */
static size_t allowed_duplicates(double space)
{
    double expected = (double)DRAWS * (DRAWS - 1) / 2.0 / space;
    if (expected < 1e-3)
        return 0;
    return (size_t)(4.0 + 4.0 * expected);
}

static double serial_space(pvm_serial_format fmt)
{
    switch (fmt) {
    case PVM_SERIAL_APPLE: return 6.0e13;   /* 34^9 */
    case PVM_SERIAL_DELL: return 2.7e10;    /* 31^7 */
    case PVM_SERIAL_LENOVO: return 2.1e9;   /* 36^6 */
    case PVM_SERIAL_HP: return 1.0e10;      /* 6 sites * 1000 * 36^4 */
    case PVM_SERIAL_MICROSOFT: return 1e12; /* 10^12 */
    case PVM_SERIAL_ASUS: return 1e20;      /* 26 * 36^14 */
    case PVM_SERIAL_GENERIC: return 3.6e15; /* 36^10 */
    }
    return 1;
}

/* ------------------------------------------------------------------ tests */

static void test_serial_shapes(void **state)
{
    (void)state;
    char s[PVM_TEXT_MAX + 1];
    for (size_t f = 0; f < NFORMATS; f++) {
        for (int i = 0; i < 2000; i++) {
            pvm_identity_serial(all_formats[f], s, sizeof s);
            if (!serial_shape_ok(all_formats[f], s))
                fail_msg("format %d gave a serial of the wrong shape: \"%s\"",
                         (int)all_formats[f], s);
        }
    }
}

static void test_serial_examples(void **state)
{
    (void)state;
    /* The shape checks themselves accept the documented examples and
     * reject near misses, so a broken checker cannot pass the test above. */
    assert_true(serial_shape_ok(PVM_SERIAL_APPLE, "C02ZK1ABMD6T"));
    assert_false(serial_shape_ok(PVM_SERIAL_APPLE, "C02ZK1ABMD6O"));
    assert_true(serial_shape_ok(PVM_SERIAL_DELL, "7H2Q1D3"));
    assert_false(serial_shape_ok(PVM_SERIAL_DELL, "7H2Q1DA"));
    assert_true(serial_shape_ok(PVM_SERIAL_LENOVO, "PF24KS2B"));
    assert_false(serial_shape_ok(PVM_SERIAL_LENOVO, "PC24KS2B"));
    assert_true(serial_shape_ok(PVM_SERIAL_HP, "5CD1234XYZ"));
    assert_false(serial_shape_ok(PVM_SERIAL_HP, "5CD12A4XYZ"));
    assert_true(serial_shape_ok(PVM_SERIAL_MICROSOFT, "012345601253"));
    assert_false(serial_shape_ok(PVM_SERIAL_MICROSOFT, "01234560125"));
    assert_true(serial_shape_ok(PVM_SERIAL_ASUS, "M7NRCX01D123456"));
    assert_false(serial_shape_ok(PVM_SERIAL_ASUS, "17NRCX01D123456"));
    assert_true(disk_serial_shape_ok("S4EWNX0R123456"));
    assert_false(disk_serial_shape_ok("S4EWNX0R12345"));
}

static void test_serial_unique(void **state)
{
    (void)state;
    char *slots = calloc(DRAWS, SLOT);
    assert_non_null(slots);
    for (size_t f = 0; f < NFORMATS; f++) {
        for (size_t i = 0; i < DRAWS; i++)
            pvm_identity_serial(all_formats[f], slots + i * SLOT, SLOT);
        size_t dups = count_duplicates(slots, DRAWS);
        size_t allowed = allowed_duplicates(serial_space(all_formats[f]));
        if (dups > allowed)
            fail_msg("format %d: %zu duplicates in %d draws (allowed %zu)",
                     (int)all_formats[f], dups, DRAWS, allowed);
    }
    free(slots);
}

static void test_serial_truncates_to_size(void **state)
{
    (void)state;
    char s[5];
    memset(s, 'x', sizeof s);
    pvm_identity_serial(PVM_SERIAL_APPLE, s, sizeof s);
    assert_int_equal(strlen(s), 4);
    assert_memory_equal(s, "C02", 3);
}

static void test_disk_serial(void **state)
{
    (void)state;
    char *slots = calloc(DRAWS, SLOT);
    assert_non_null(slots);
    for (size_t i = 0; i < DRAWS; i++) {
        char *s = slots + i * SLOT;
        pvm_identity_disk_serial(s, PVM_DISK_SERIAL_MAX + 1);
        assert_true(strlen(s) <= PVM_DISK_SERIAL_MAX);
        if (!disk_serial_shape_ok(s))
            fail_msg("disk serial of the wrong shape: \"%s\"", s);
    }
    assert_int_equal(count_duplicates(slots, DRAWS), 0);
    free(slots);
}

static void test_uuid_unique(void **state)
{
    (void)state;
    char *slots = calloc(DRAWS, SLOT);
    assert_non_null(slots);
    for (size_t i = 0; i < DRAWS; i++) {
        pvm_uuid_v4(slots + i * SLOT);
        if (!uuid_v4_shape_ok(slots + i * SLOT))
            fail_msg("not a v4 UUID: \"%s\"", slots + i * SLOT);
    }
    assert_int_equal(count_duplicates(slots, DRAWS), 0);
    free(slots);
}

static void test_mac_with_oui(void **state)
{
    (void)state;
    char *slots = calloc(DRAWS, SLOT);
    assert_non_null(slots);
    for (size_t i = 0; i < DRAWS; i++) {
        char *m = slots + i * SLOT;
        pvm_identity_mac("8c:16:45", m);
        if (!mac_shape_ok(m) || strncmp(m, "8c:16:45:", 9) != 0)
            fail_msg("MAC without the OUI or malformed: \"%s\"", m);
        assert_int_equal(first_octet(m) & 1, 0);
    }
    /* 24 random bits: a few chance repeats are expected (~3 in 10,000). */
    size_t dups = count_duplicates(slots, DRAWS);
    size_t allowed = allowed_duplicates(16777216.0);
    if (dups > allowed)
        fail_msg("%zu duplicate MACs under one OUI (allowed %zu)", dups, allowed);
    free(slots);
}

static void test_mac_oui_upper_case(void **state)
{
    (void)state;
    char m[PVM_MAC_LEN + 1];
    pvm_identity_mac("A4:83:E7", m);
    assert_true(mac_shape_ok(m));
    assert_memory_equal(m, "a4:83:e7:", 9);
}

static void test_mac_locally_administered(void **state)
{
    (void)state;
    char *slots = calloc(DRAWS, SLOT);
    assert_non_null(slots);
    for (size_t i = 0; i < DRAWS; i++) {
        char *m = slots + i * SLOT;
        pvm_identity_mac(NULL, m);
        if (!mac_shape_ok(m))
            fail_msg("malformed MAC \"%s\"", m);
        unsigned o = first_octet(m);
        assert_int_equal(o & 1, 0); /* unicast */
        assert_int_equal(o & 2, 2); /* locally administered */
        assert_int_equal(pvm_validate_mac("macAddress", m, NULL), 0);
    }
    assert_int_equal(count_duplicates(slots, DRAWS), 0);
    free(slots);
}

static void test_randomize_with_preset(void **state)
{
    (void)state;
    size_t n = 0;
    const pvm_preset *all = pvm_presets(&n);
    assert_true(n > 0);
    for (size_t i = 0; i < n; i++) {
        pvm_profile p;
        memset(&p, 0, sizeof p);
        pvm_identity_randomize(&p, &all[i]);
        assert_true(serial_shape_ok(all[i].serial_format, p.serial));
        assert_string_equal(p.hw.chassis_serial, p.serial);
        assert_true(board_shape_ok(all[i].serial_format, p.hw.board_serial, p.serial));
        assert_true(uuid_v4_shape_ok(p.machine_id));
        assert_true(disk_serial_shape_ok(p.disk_serial));
        assert_true(mac_shape_ok(p.mac));
        bool from_preset = false;
        for (size_t k = 0; k < 4 && all[i].ouis[k]; k++)
            if (strncmp(p.mac, all[i].ouis[k], 8) == 0)
                from_preset = true;
        if (!from_preset)
            fail_msg("%s: MAC %s uses none of the preset's OUIs", all[i].key, p.mac);
        if (all[i].serial_format == PVM_SERIAL_DELL) {
            /* Dell's board serial embeds the service tag: /TAG/CN.../ */
            char want[PVM_TEXT_MAX + 8];
            snprintf(want, sizeof want, "/%s/CN", p.serial);
            assert_memory_equal(p.hw.board_serial, want, strlen(want));
            assert_int_equal(strlen(p.hw.board_serial), 24);
        }
    }
}

static void test_randomize_without_preset(void **state)
{
    (void)state;
    pvm_profile p;
    memset(&p, 0, sizeof p);
    pvm_identity_randomize(&p, NULL);
    assert_true(serial_shape_ok(PVM_SERIAL_GENERIC, p.serial));
    assert_true(uuid_v4_shape_ok(p.machine_id));
    assert_true(mac_shape_ok(p.mac));
    assert_int_equal(first_octet(p.mac) & 3, 2);
    assert_true(disk_serial_shape_ok(p.disk_serial));
}

static void test_randomize_changes_identity(void **state)
{
    (void)state;
    pvm_profile a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    const pvm_preset *pr = pvm_preset_find("lenovo-thinkpad-x1c9");
    assert_non_null(pr);
    pvm_identity_randomize(&a, pr);
    pvm_identity_randomize(&b, pr);
    assert_string_not_equal(a.machine_id, b.machine_id);
    assert_string_not_equal(a.disk_serial, b.disk_serial);
    assert_string_not_equal(a.hw.board_serial, b.hw.board_serial);
}

/* Every format's system and board serials, from the one per-vendor table. */
static void test_board_serial_shapes(void **state)
{
    (void)state;
    for (int f = PVM_SERIAL_APPLE; f <= PVM_SERIAL_GENERIC; f++) {
        pvm_preset vendor;
        memset(&vendor, 0, sizeof vendor);
        vendor.serial_format = (pvm_serial_format)f;
        for (int i = 0; i < 200; i++) {
            pvm_profile p;
            memset(&p, 0, sizeof p);
            pvm_identity_randomize(&p, &vendor);
            if (!serial_shape_ok(vendor.serial_format, p.serial) ||
                !board_shape_ok(vendor.serial_format, p.hw.board_serial, p.serial))
                fail_msg("%s: serial \"%s\", board \"%s\"", pvm_serial_format_name(f), p.serial,
                         p.hw.board_serial);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_serial_shapes),
        cmocka_unit_test(test_serial_examples),
        cmocka_unit_test(test_serial_unique),
        cmocka_unit_test(test_serial_truncates_to_size),
        cmocka_unit_test(test_disk_serial),
        cmocka_unit_test(test_uuid_unique),
        cmocka_unit_test(test_mac_with_oui),
        cmocka_unit_test(test_mac_oui_upper_case),
        cmocka_unit_test(test_mac_locally_administered),
        cmocka_unit_test(test_randomize_with_preset),
        cmocka_unit_test(test_board_serial_shapes),
        cmocka_unit_test(test_randomize_without_preset),
        cmocka_unit_test(test_randomize_changes_identity),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
