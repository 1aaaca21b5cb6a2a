/* test_preset.c - unit tests of engine/preset.c: the catalog's size and
 * vendor spread, every preset validating once applied and randomized, keys,
 * lookup, serial formats and OUIs. Run by tests/run (plain and ASan+UBSan). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../engine/pvm.h"
#include "serial_shape.h"


/* Which serial format each manufacturer's machines must use. */
static void expect_vendor_format(const pvm_preset *pr)
{
    const char *m = pr->hw.manufacturer;
    pvm_serial_format f = pr->serial_format;
    if (strcmp(m, "Dell Inc.") == 0)
        assert_int_equal(f, PVM_SERIAL_DELL);
    else if (strcmp(m, "LENOVO") == 0)
        assert_int_equal(f, PVM_SERIAL_LENOVO);
    else if (strcmp(m, "HP") == 0)
        assert_int_equal(f, PVM_SERIAL_HP);
    else if (strcmp(m, "Microsoft Corporation") == 0)
        assert_int_equal(f, PVM_SERIAL_MICROSOFT);
    else if (strcmp(m, "ASUSTeK COMPUTER INC.") == 0)
        assert_int_equal(f, PVM_SERIAL_ASUS);
    else if (strcmp(m, "Apple Inc.") == 0)
        /* Intel Macs: C02...; Apple silicon: 10-character random serials */
        assert_true(f == PVM_SERIAL_APPLE || f == PVM_SERIAL_GENERIC);
    else
        fail_msg("%s: manufacturer \"%s\" has no expected serial format", pr->key, m);
}

static void test_catalog_size_and_vendors(void **state)
{
    (void)state;
    size_t n = 0;
    const pvm_preset *all = pvm_presets(&n);
    assert_non_null(all);
    assert_true(n >= 14);

    const char *seen[64];
    size_t nseen = 0;
    for (size_t i = 0; i < n; i++) {
        bool dup = false;
        for (size_t k = 0; k < nseen; k++)
            dup = dup || strcmp(seen[k], all[i].hw.manufacturer) == 0;
        if (!dup && nseen < 64)
            seen[nseen++] = all[i].hw.manufacturer;
    }
    if (nseen < 6)
        fail_msg("only %zu distinct manufacturers", nseen);
}

static void test_keys_unique_and_findable(void **state)
{
    (void)state;
    size_t n = 0;
    const pvm_preset *all = pvm_presets(&n);
    for (size_t i = 0; i < n; i++) {
        const char *k = all[i].key;
        assert_non_null(k);
        assert_true(strlen(k) > 0 && strlen(k) <= PVM_NAME_MAX);
        assert_true(all_in(k, strlen(k), "abcdefghijklmnopqrstuvwxyz0123456789-"));
        assert_non_null(all[i].description);
        assert_true(all[i].description[0] != '\0');
        for (size_t j = i + 1; j < n; j++)
            if (strcmp(k, all[j].key) == 0)
                fail_msg("key %s appears twice", k);
        assert_ptr_equal(pvm_preset_find(k), &all[i]);
    }
}

static void test_find_unknown(void **state)
{
    (void)state;
    assert_null(pvm_preset_find("no-such-machine"));
    assert_null(pvm_preset_find(""));
    assert_null(pvm_preset_find(NULL));
    assert_null(pvm_preset_find("DELL-LATITUDE-7520")); /* keys are exact */
    assert_non_null(pvm_preset_find("lenovo-thinkpad-x1c9"));
    assert_non_null(pvm_preset_find("apple-macbookpro15-1"));
}

static void test_every_string_validates(void **state)
{
    (void)state;
    size_t n = 0, nfields = 0;
    const pvm_preset *all = pvm_presets(&n);
    const pvm_field *fields = pvm_profile_fields(&nfields);
    assert_true(nfields > 0);
    for (size_t i = 0; i < n; i++) {
        pvm_profile p;
        pvm_error err = {0};
        pvm_profile_init(&p);
        p.hw = all[i].hw;
        for (size_t f = 0; f < nfields; f++) {
            const char *v = pvm_profile_field_cptr(&p, &fields[f]);
            if (pvm_validate_text(fields[f].key, v, PVM_TEXT_MAX, &err) < 0)
                fail_msg("%s: %s", all[i].key, err.msg);
        }
        if (pvm_validate_date("biosDate", all[i].hw.bios_date, &err) < 0)
            fail_msg("%s: %s", all[i].key, err.msg);
        /* a real machine names itself: these are never blank */
        assert_true(all[i].hw.manufacturer[0] && all[i].hw.product[0]);
        assert_true(all[i].hw.bios_vendor[0] && all[i].hw.bios_version[0]);
        assert_true(all[i].hw.bios_date[0] && all[i].hw.cpu_model[0]);
        assert_true(all[i].hw.cpu_manufacturer[0] && all[i].hw.memory_manufacturer[0]);
        /* the per-unit fields are left for randomize */
        assert_string_equal(all[i].hw.board_serial, "");
        assert_string_equal(all[i].hw.chassis_serial, "");
    }
}

static void test_apply_randomize_validate(void **state)
{
    (void)state;
    size_t n = 0;
    const pvm_preset *all = pvm_presets(&n);
    for (size_t i = 0; i < n; i++) {
        pvm_profile p;
        pvm_error err = {0};
        pvm_profile_init(&p);
        assert_int_equal(pvm_profile_set_name(&p, "from preset", &err), 0);
        pvm_preset_apply(&all[i], &p);
        assert_string_equal(p.preset, all[i].key);
        assert_string_equal(p.hw.product, all[i].hw.product);
        assert_string_equal(p.hw.cpu_model, all[i].hw.cpu_model);
        pvm_identity_randomize(&p, &all[i]);
        if (pvm_profile_validate(&p, &err) < 0)
            fail_msg("%s: %s", all[i].key, err.msg);
        assert_true(p.serial[0] && p.machine_id[0] && p.mac[0] && p.disk_serial[0]);
    }
}

static void test_apply_keeps_unit_serials(void **state)
{
    (void)state;
    pvm_profile p;
    pvm_profile_init(&p);
    strcpy(p.hw.board_serial, "BOARD1");
    strcpy(p.hw.chassis_serial, "CHASSIS1");
    strcpy(p.hw.chassis_asset, "ASSET-7");
    strcpy(p.hw.manufacturer, "Old Maker");
    pvm_preset_apply(pvm_preset_find("dell-latitude-7520"), &p);
    assert_string_equal(p.hw.manufacturer, "Dell Inc.");
    assert_string_equal(p.hw.board_serial, "BOARD1");
    assert_string_equal(p.hw.chassis_serial, "CHASSIS1");
    assert_string_equal(p.hw.chassis_asset, "ASSET-7");
}

static void test_serial_formats(void **state)
{
    (void)state;
    size_t n = 0;
    const pvm_preset *all = pvm_presets(&n);
    for (size_t i = 0; i < n; i++) {
        expect_vendor_format(&all[i]);
        for (int k = 0; k < 200; k++) {
            pvm_profile p;
            pvm_profile_init(&p);
            pvm_identity_randomize(&p, &all[i]);
            if (!serial_shape_ok(all[i].serial_format, p.serial))
                fail_msg("%s: serial \"%s\" is not in the vendor's format", all[i].key,
                         p.serial);
        }
    }
}

/* "aa:bb:cc", lower-case hex, a universally administered unicast prefix. */
static void expect_oui(const char *key, const char *oui)
{
    unsigned v[3];
    char tail;
    if (strlen(oui) != 8 || sscanf(oui, "%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &tail) != 3 ||
        oui[2] != ':' || oui[5] != ':')
        fail_msg("%s: OUI \"%s\" does not parse", key, oui);
    if (!all_in(oui, 2, "0123456789abcdef"))
        fail_msg("%s: OUI \"%s\" is not lower case", key, oui);
    if (v[0] & 1)
        fail_msg("%s: OUI \"%s\" is multicast", key, oui);
    if (v[0] & 2)
        fail_msg("%s: OUI \"%s\" is locally administered, not a vendor's", key, oui);
}

/* Every format has its own name; out-of-range values read "unknown". */
static void test_serial_format_names(void **state)
{
    (void)state;
    static const char *const want[] = {"apple", "dell", "lenovo", "hp",
                                       "microsoft", "asus", "generic"};
    for (int f = PVM_SERIAL_APPLE; f <= PVM_SERIAL_GENERIC; f++)
        assert_string_equal(pvm_serial_format_name((pvm_serial_format)f), want[f]);
    assert_string_equal(pvm_serial_format_name((pvm_serial_format)99), "unknown");
}

static void test_ouis(void **state)
{
    (void)state;
    size_t n = 0;
    const pvm_preset *all = pvm_presets(&n);
    for (size_t i = 0; i < n; i++) {
        size_t count = 0;
        for (size_t k = 0; k < 4 && all[i].ouis[k]; k++, count++)
            expect_oui(all[i].key, all[i].ouis[k]);
        if (count < 2)
            fail_msg("%s: fewer than two OUIs", all[i].key);
        for (int d = 0; d < 100; d++) {
            char mac[PVM_MAC_LEN + 1];
            pvm_profile p;
            pvm_profile_init(&p);
            pvm_identity_randomize(&p, &all[i]);
            memcpy(mac, p.mac, sizeof mac);
            bool ok = false;
            for (size_t k = 0; k < count; k++)
                ok = ok || strncmp(mac, all[i].ouis[k], 8) == 0;
            if (!ok)
                fail_msg("%s: MAC %s is from none of its OUIs", all[i].key, mac);
            assert_int_equal(pvm_validate_mac("macAddress", mac, NULL), 0);
        }
    }
}

/* marks.c: no preset (randomized) carries a virtualization mark; the table
 * answers by field key, as the in-guest audit will ask it. */
static void test_marks(void **state)
{
    (void)state;
    size_t n;
    const pvm_preset *ps = pvm_presets(&n);
    for (size_t i = 0; i < n; i++) {
        pvm_profile p;
        pvm_profile_mark m[8];
        pvm_profile_init(&p);
        pvm_preset_apply(&ps[i], &p);
        pvm_identity_randomize(&p, &ps[i]);
        size_t k = pvm_profile_marks(&p, m, 8);
        if (k) {
            print_error("preset %s: %s \"%s\" is %s\n", ps[i].key, m[0].field, m[0].value,
                        m[0].description);
            fail();
        }
    }
    assert_non_null(pvm_mark_find("macAddress", "52:54:00:12:34:56"));
    assert_non_null(pvm_mark_find("macAddress", "0A:00:27:00:00:01"));
    assert_null(pvm_mark_find("macAddress", "52:54:01:12:34:56"));
    assert_null(pvm_mark_find("manufacturer", "52:54:00:12:34:56"));
    /* the audit's display ids (vendor:device) and QEMU's vendor 1234 */
    assert_string_equal(pvm_mark_find("pciId", "1234:1111"),
                        "the Bochs/QEMU standard VGA (PCI 1234:1111)");
    assert_non_null(pvm_mark_find("pciId", "1b36:0100"));
    assert_non_null(pvm_mark_find("pciId", "1af4:1050"));
    assert_null(pvm_mark_find("pciId", "8086:9a49")); /* Intel Iris Xe: a real adapter */
    assert_null(pvm_mark_find("pciVendor", "1234:1111")); /* ids only under pciId */
    assert_null(pvm_mark_find("pciId", "0x1af4"));
    assert_non_null(pvm_mark_find("pciVendor", "0x1234"));
    assert_null(pvm_mark_find("product", "1234:1111"));
    assert_non_null(pvm_mark_find("diskModel", "QEMU HARDDISK"));
    assert_non_null(pvm_mark_find("diskModel", "QEMU DVD-ROM"));
    assert_non_null(pvm_mark_find("diskSerial", "QM00003"));
    assert_null(pvm_mark_find("serialNumber", "QM00003"));
    assert_non_null(pvm_mark_find("cpuModel", "Intel Xeon Virtual CPU"));
    assert_non_null(pvm_mark_find("biosVersion", "rel-1.16.0-0-gd239552ce722-prebuilt.qemu.org"));
    assert_non_null(pvm_mark_find("product", "Standard PC (i440FX + PIIX, 1996) KVM"));
    assert_null(pvm_mark_find("product", "Xenon"));
    assert_null(pvm_mark_find("product", ""));
    assert_string_equal(pvm_mark_find("manufacturer", "innotek GmbH"),
                        "innotek, VirtualBox's maker");
    pvm_profile p;
    pvm_profile_init(&p);
    pvm_strlcpy(p.name, "x", sizeof p.name);
    pvm_strlcpy(p.mac, "00:50:56:01:02:03", sizeof p.mac);
    pvm_error err = {0};
    assert_int_equal(pvm_profile_marks_check(&p, false, &err), -1);
    assert_string_equal(err.field, "macAddress");
    assert_int_equal(pvm_profile_marks_check(&p, true, &err), 0);
    p.hide_hypervisor = false;
    assert_int_equal(pvm_profile_marks_check(&p, false, &err), 0);
}

static void test_real_strings(void **state)
{
    (void)state;
    const pvm_preset *mac = pvm_preset_find("apple-macbookpro15-1");
    assert_non_null(mac);
    assert_string_equal(mac->hw.manufacturer, "Apple Inc.");
    assert_string_equal(mac->hw.product, "MacBookPro15,1"); /* comma kept */

    const pvm_preset *x1 = pvm_preset_find("lenovo-thinkpad-x1c9");
    assert_non_null(x1);
    assert_string_equal(x1->hw.manufacturer, "LENOVO");
    assert_string_equal(x1->hw.product, "20XW0026US");
    assert_string_equal(x1->hw.version, "ThinkPad X1 Carbon Gen 9");
    assert_int_equal(strncmp(x1->hw.sku, "LENOVO_MT_20XW", 14), 0);

    const pvm_preset *dell = pvm_preset_find("dell-latitude-7520");
    assert_non_null(dell);
    assert_string_equal(dell->hw.manufacturer, "Dell Inc.");
    assert_string_equal(dell->hw.product, "Latitude 7520");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_catalog_size_and_vendors),
        cmocka_unit_test(test_keys_unique_and_findable),
        cmocka_unit_test(test_find_unknown),
        cmocka_unit_test(test_every_string_validates),
        cmocka_unit_test(test_apply_randomize_validate),
        cmocka_unit_test(test_apply_keeps_unit_serials),
        cmocka_unit_test(test_serial_formats),
        cmocka_unit_test(test_serial_format_names),
        cmocka_unit_test(test_ouis),
        cmocka_unit_test(test_real_strings),
        cmocka_unit_test(test_marks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
