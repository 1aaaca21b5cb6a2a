/* test_profile.c - unit tests of engine/profile.c (field table, validators,
 * checked setters, pvm_profile_validate) and engine/names.c (enum names, sizes).
 * Run by `make unit` (plain and ASan+UBSan). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "../../engine/pvm.h"

/* ---------------------------------------------------------------- helpers */

static void assert_invalid(int rc, const pvm_error *err, const char *prefix, const char *needle)
{
    if (rc != -1 || err->code != PVM_E_INVALID || strncmp(err->msg, prefix, strlen(prefix)) != 0 ||
        (needle && !strstr(err->msg, needle))) {
        print_error("expected -1/invalid \"%s...%s...\", got rc=%d code=%d msg=\"%s\"\n", prefix,
                    needle ? needle : "", rc, err->code, err->msg);
        fail();
    }
}

static const pvm_field *field(const char *key)
{
    const pvm_field *f = pvm_profile_field_by_key(key);
    if (!f) {
        print_error("no field %s\n", key);
        fail();
    }
    return f;
}

/* Sets and returns 0, or fails the test with the message. */
static void set_ok(pvm_profile *p, const char *key, const char *value)
{
    pvm_error err = {0};
    int rc = pvm_profile_set(p, field(key), value, &err);
    if (rc != 0) {
        print_error("set %s=\"%s\" failed: %s\n", key, value, err.msg);
        fail();
    }
}

static void set_bad(const char *key, const char *value, const char *needle)
{
    pvm_profile p;
    pvm_error err = {0};
    pvm_profile_init(&p);
    char prefix[64]; /* errors open with the field's JSON path, err->field is its key */
    snprintf(prefix, sizeof prefix, "%s%s: ", field(key)->in_hw_model ? "hardwareModel." : "",
             key);
    assert_invalid(pvm_profile_set(&p, field(key), value, &err), &err, prefix, needle);
    assert_string_equal(err.field, key);
}

static void fill_profile(pvm_profile *p)
{
    pvm_error err = {0};
    size_t n;
    const pvm_field *f = pvm_profile_fields(&n);
    pvm_profile_init(p);
    assert_int_equal(pvm_profile_set_name(p, "Full one", &err), 0);
    for (size_t i = 0; i < n; i++) {
        const char *v = "Value, \"quoted\" = x";
        if (f[i].kind == PVM_FK_DATE)
            v = "03/15/2021";
        else if (f[i].kind == PVM_FK_UUID)
            v = "0F8FAD5B-D9CB-469F-A165-70867728950E";
        else if (f[i].kind == PVM_FK_MAC)
            v = "3C:22:FB:12:34:56";
        else if (f[i].kind == PVM_FK_DISK_SERIAL)
            v = "WD-WX12A3456789";
        else if (f[i].kind == PVM_FK_CHASSIS)
            v = "notebook";
        else if (f[i].kind == PVM_FK_UINT || f[i].kind == PVM_FK_HEX)
            v = "1";
        assert_int_equal(pvm_profile_set(p, &f[i], v, &err), 0);
    }
}

static char *repeat(char c, size_t n, char *buf)
{
    memset(buf, c, n);
    buf[n] = '\0';
    return buf;
}

/* ------------------------------------------------------------ field table */

static void test_field_table_names(void **state)
{
    (void)state;
    static const char *const rows[][3] = {
        {"manufacturer", "manufacturer", "manufacturer"},
        {"product", "product", "product"},
        {"version", "version", "version"},
        {"family", "family", "family"},
        {"sku", "sku", "sku"},
        {"boardManufacturer", "board-manufacturer", "board_manufacturer"},
        {"boardProduct", "board-product", "board_product"},
        {"boardVersion", "board-version", "board_version"},
        {"boardSerial", "board-serial", "board_serial"},
        {"chassisManufacturer", "chassis-manufacturer", "chassis_manufacturer"},
        {"chassisSerial", "chassis-serial", "chassis_serial"},
        {"chassisAsset", "chassis-asset", "chassis_asset"},
        {"biosVendor", "bios-vendor", "bios_vendor"},
        {"biosVersion", "bios-version", "bios_version"},
        {"biosDate", "bios-date", "bios_date"},
        {"cpuModel", "cpu-model", "cpu_model"},
        {"cpuManufacturer", "cpu-manufacturer", "cpu_manufacturer"},
        {"memoryManufacturer", "memory-manufacturer", "memory_manufacturer"},
        {"chassisType", "chassis-type", "chassis_type"},
        {"cpuCores", "cpu-cores", "cpu_cores"},
        {"cpuThreads", "cpu-threads", "cpu_threads"},
        {"cpuFamily", "cpu-family", "cpu_family"},
        {"cpuModelNumber", "cpu-model-number", "cpu_model_number"},
        {"cpuStepping", "cpu-stepping", "cpu_stepping"},
        {"cpuMicrocode", "cpu-microcode", "cpu_microcode"},
        {"machineIdentifier", "uuid", "machine_id"},
        {"macAddress", "mac", "mac"},
        {"serialNumber", "serial", "serial"},
        {"diskSerial", "disk-serial", "disk_serial"},
    };
    size_t n;
    const pvm_field *f = pvm_profile_fields(&n);
    assert_int_equal(n, sizeof rows / sizeof rows[0]);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(f[i].key, rows[i][0]);
        assert_string_equal(f[i].flag, rows[i][1]);
        assert_string_equal(f[i].column, rows[i][2]);
        assert_int_equal(f[i].in_hw_model, i < 25);
        assert_ptr_equal(pvm_profile_field_by_key(rows[i][0]), &f[i]);
    }
}

static void test_field_table_storage(void **state)
{
    (void)state;
    pvm_profile p;
    assert_ptr_equal(pvm_profile_field_ptr(&p, field("manufacturer")), p.hw.manufacturer);
    assert_ptr_equal(pvm_profile_field_ptr(&p, field("boardSerial")), p.hw.board_serial);
    assert_ptr_equal(pvm_profile_field_ptr(&p, field("biosDate")), p.hw.bios_date);
    assert_ptr_equal(pvm_profile_field_ptr(&p, field("memoryManufacturer")),
                     p.hw.memory_manufacturer);
    assert_ptr_equal(pvm_profile_field_ptr(&p, field("machineIdentifier")), p.machine_id);
    assert_ptr_equal(pvm_profile_field_ptr(&p, field("macAddress")), p.mac);
    assert_ptr_equal(pvm_profile_field_ptr(&p, field("serialNumber")), p.serial);
    assert_ptr_equal(pvm_profile_field_cptr(&p, field("diskSerial")), p.disk_serial);
    assert_int_equal(field("diskSerial")->size, sizeof p.disk_serial);
    assert_int_equal(field("macAddress")->size, sizeof p.mac);
    assert_int_equal(field("machineIdentifier")->size, sizeof p.machine_id);
    assert_int_equal(field("cpuModel")->size, sizeof p.hw.cpu_model);
    assert_int_equal(field("biosDate")->kind, PVM_FK_DATE);
    assert_int_equal(field("diskSerial")->kind, PVM_FK_DISK_SERIAL);
}

static void test_field_lookup_forms(void **state)
{
    (void)state;
    assert_ptr_equal(pvm_profile_field_by_key("hardwareModel.biosDate"), field("biosDate"));
    assert_null(pvm_profile_field_by_key("hardwareModel.macAddress"));
    assert_null(pvm_profile_field_by_key("bios_date"));
    assert_null(pvm_profile_field_by_key("BiosDate"));
    assert_null(pvm_profile_field_by_key(""));
    assert_null(pvm_profile_field_by_key(NULL));
}

static void test_init_defaults(void **state)
{
    (void)state;
    pvm_profile p, zero;
    memset(&p, 0xAB, sizeof p);
    pvm_profile_init(&p);
    assert_true(p.hide_hypervisor);
    p.hide_hypervisor = false;
    memset(&zero, 0, sizeof zero);
    assert_memory_equal(&p, &zero, sizeof p);
}

/* ------------------------------------------------------------------- text */

static void test_text_kept_byte_for_byte(void **state)
{
    (void)state;
    static const char *const good[] = {
        "MacBookPro18,3",
        "He said \"hi\" and 'bye'",
        "a=b,c=d,,e",
        "'; DROP TABLE profiles; --",
        "Robert'); DELETE FROM vms WHERE 1=1; --",
        "$(rm -rf /) `id` | & ; < > * ? ~ # !",
        "-device virtio-net,netdev=evil",
        "--help",
        " spaced  out ",
        "back\\slash",
        "",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        pvm_profile p;
        pvm_profile_init(&p);
        set_ok(&p, "product", good[i]);
        assert_string_equal(p.hw.product, good[i]);
        set_ok(&p, "serialNumber", good[i]);
        assert_string_equal(p.serial, good[i]);
    }
}

static void test_text_hostile(void **state)
{
    (void)state;
    set_bad("product", "line\nbreak", "control character at byte 5");
    set_bad("product", "tab\there", "control character");
    set_bad("product", "\r", "control character at byte 1");
    set_bad("product", "del\x7f", "control character");
    set_bad("product", "\x1b[31mred", "control character");
    set_bad("product", "caf\xc3\xa9", "non-ASCII byte at byte 4");
    set_bad("serialNumber", "\xff", "non-ASCII");
    set_bad("cpuModel", "Intel\xe2\x84\xa2", "non-ASCII");
    /* hostile bytes are described, never echoed */
    pvm_profile p;
    pvm_error err = {0};
    pvm_profile_init(&p);
    assert_int_equal(pvm_profile_set(&p, field("product"), "x\x1b]0;pwned\x07", &err), -1);
    assert_null(strchr(err.msg, '\x1b'));
    assert_null(strstr(err.msg, "pwned"));
}

static void test_text_lengths(void **state)
{
    (void)state;
    char buf[200];
    pvm_profile p;
    pvm_profile_init(&p);
    set_ok(&p, "manufacturer", repeat('M', 64, buf));
    assert_int_equal(strlen(p.hw.manufacturer), 64);
    set_bad("manufacturer", repeat('M', 65, buf), "at most 64 bytes");
    set_bad("serialNumber", repeat('S', 150, buf), "at most 64 bytes");
    set_ok(&p, "diskSerial", repeat('D', 20, buf));
    assert_string_equal(p.disk_serial, buf);
    set_bad("diskSerial", repeat('D', 21, buf), "at most 20 bytes");
    /* direct validator */
    pvm_error err = {0};
    assert_int_equal(pvm_validate_text("x", repeat('a', 10, buf), 10, &err), 0);
    assert_invalid(pvm_validate_text("x", repeat('a', 11, buf), 10, &err), &err, "x: ",
                   "at most 10");
    assert_invalid(pvm_validate_text("x", NULL, 10, &err), &err, "x: ", NULL);
}

static void test_text_echoes_short_printable_value(void **state)
{
    (void)state;
    pvm_error err = {0};
    assert_int_equal(pvm_validate_mac("macAddress", "zz:zz", &err), -1);
    assert_non_null(strstr(err.msg, "\"zz:zz\""));
    char buf[100];
    assert_int_equal(pvm_validate_mac("macAddress", repeat('a', 60, buf), &err), -1);
    assert_null(strstr(err.msg, buf)); /* long: described, not echoed */
}

/* ------------------------------------------------------------------- uuid */

static void test_uuid(void **state)
{
    (void)state;
    pvm_profile p;
    pvm_profile_init(&p);
    set_ok(&p, "machineIdentifier", "0F8FAD5B-D9CB-469F-A165-70867728950E");
    assert_string_equal(p.machine_id, "0f8fad5b-d9cb-469f-a165-70867728950e");
    set_bad("machineIdentifier", "00000000-0000-0000-0000-000000000000", "all zeros or all ones");
    set_bad("machineIdentifier", "FFFFFFFF-ffff-FFFF-ffff-FFFFFFFFFFFF", "all zeros or all ones");
    set_ok(&p, "machineIdentifier", "00000000-0000-0000-0000-000000000001");
    set_ok(&p, "machineIdentifier", "");
    assert_string_equal(p.machine_id, "");
    const char *bad[] = {
        "0f8fad5b-d9cb-469f-a165-70867728950",    /* 35 */
        "0f8fad5b-d9cb-469f-a165-70867728950ee",  /* 37 */
        "0f8fad5b-d9cb-469f-a165-70867728950g",   /* non-hex */
        "0f8fad5bd9cb469fa16570867728950e",       /* no dashes */
        "0f8fad5b-d9cb-469fa165-70867728950e-",   /* dash moved */
        "0f8fad5bd-9cb-469f-a165-70867728950e",   /* dash moved */
        "{0f8fad5b-d9cb-469f-a165-70867728950e}", /* braces */
        " 0f8fad5b-d9cb-469f-a165-70867728950e",
        "not-a-uuid",
        "-",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        set_bad("machineIdentifier", bad[i], "must be a UUID");
    set_bad("machineIdentifier", "0f8fad5b-d9cb-469f-a165-70867728950\n", "control character");
    pvm_error err = {0};
    char buf[300];
    assert_invalid(pvm_validate_uuid("id", repeat('a', 250, buf), &err), &err, "id: ",
                   "must be a UUID");
}

/* -------------------------------------------------------------------- mac */

static void test_mac(void **state)
{
    (void)state;
    pvm_profile p;
    pvm_profile_init(&p);
    set_ok(&p, "macAddress", "02:00:00:00:00:01");
    assert_string_equal(p.mac, "02:00:00:00:00:01");
    set_ok(&p, "macAddress", "3C:22:FB:AB:CD:EF"); /* Apple OUI, upper case in */
    assert_string_equal(p.mac, "3c:22:fb:ab:cd:ef");
    set_ok(&p, "macAddress", "fe:ff:ff:ff:ff:ff"); /* locally administered, unicast */
    set_ok(&p, "macAddress", "");
    assert_string_equal(p.mac, "");
    set_bad("macAddress", "01:00:5e:00:00:01", "unicast");
    set_bad("macAddress", "ff:ff:ff:ff:ff:ff", "unicast");
    set_bad("macAddress", "03:00:00:00:00:00", "unicast");
    set_bad("macAddress", "00:00:00:00:00:00", "all zero");
    set_bad("macAddress", "02-00-00-00-00-01", "six hex octets");
    set_bad("macAddress", "02:00:00:00:00", "six hex octets");
    set_bad("macAddress", "02:00:00:00:00:01:02", "six hex octets");
    set_bad("macAddress", "0200.0000.0001", "six hex octets");
    set_bad("macAddress", "2:0:0:0:0:1", "six hex octets");
    set_bad("macAddress", "02:00:00:00:00:0g", "six hex octets");
    set_bad("macAddress", "02:00:00:00:00:01 ", "six hex octets");
    set_bad("macAddress", "02:00:00:00:00:0\xc3", "non-ASCII");
}

/* ------------------------------------------------------------------- date */

static void test_date(void **state)
{
    (void)state;
    pvm_profile p;
    pvm_profile_init(&p);
    static const char *const good[] = {"02/29/2024", "02/29/2000", "12/31/2099", "01/01/1980",
                                       "04/30/2021", "03/15/2021", ""};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        set_ok(&p, "biosDate", good[i]);
        assert_string_equal(p.hw.bios_date, good[i]);
    }
    set_bad("biosDate", "02/29/2023", "real calendar date");
    set_bad("biosDate", "02/29/1900", "between 1980 and 2099");
    set_bad("biosDate", "13/01/2020", "real calendar date");
    set_bad("biosDate", "00/10/2020", "real calendar date");
    set_bad("biosDate", "04/31/2020", "real calendar date");
    set_bad("biosDate", "01/00/2020", "real calendar date");
    set_bad("biosDate", "01/01/1979", "between 1980 and 2099");
    set_bad("biosDate", "01/01/2100", "between 1980 and 2099");
    set_bad("biosDate", "1/1/2020", "must be MM/DD/YYYY");
    set_bad("biosDate", "2020-01-01", "must be MM/DD/YYYY");
    set_bad("biosDate", "01/01/20200", "must be MM/DD/YYYY");
    set_bad("biosDate", "01/01/20", "must be MM/DD/YYYY");
    set_bad("biosDate", "0a/01/2020", "must be MM/DD/YYYY");
    set_bad("biosDate", "01-01-2020", "must be MM/DD/YYYY");
    set_bad("biosDate", "01/01/2020\n", "control character");
}

/* ------------------------------------------------------------------- name */

static void test_name(void **state)
{
    (void)state;
    char buf[100];
    pvm_profile p;
    pvm_error err = {0};
    pvm_profile_init(&p);
    static const char *const good[] = {"a", "Work laptop", "dell-7420_v2.1", "x...", "9..x",
                                       "0-hidden", "A B C",
                                       "9b772ae9-039f-430f-a643-482d111d0ca0x"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        assert_int_equal(pvm_profile_set_name(&p, good[i], &err), 0);
        assert_string_equal(p.name, good[i]);
    }
    assert_int_equal(pvm_profile_set_name(&p, repeat('n', 64, buf), &err), 0);
    assert_string_equal(p.name, buf);

    struct {
        const char *v, *needle;
    } bad[] = {
        {"", "must not be empty"},
        {" lead", "space"},
        {"trail ", "space"},
        {" ", "space"},
        {"a/b", "found '/' at byte 2"},
        {"../etc", "found '/'"},
        {".", "\".\" or \"..\""},
        {"..", "\".\" or \"..\""},
        {"...", "must start with a letter or digit"},
        {"a,b", "may only contain letters, digits, space, '.', '_' and '-'"},
        {"tab\tname", "control character"},
        {"new\nline", "control character"},
        {"caf\xc3\xa9", "non-ASCII"},
        {"x;rm -rf", "found ';'"},
        {"quote\"", "found '\"'"},
        {"9b772ae9-039f-430f-a643-482d111d0ca0", "form of a UUID"},
        {"9B772AE9-039F-430F-A643-482D111D0CA0", "form of a UUID"},
        {"-x", "must start with a letter or digit (got \"-x\")"},
        {"--help", "must start with a letter or digit"},
        {".hidden", "must start with a letter or digit"},
        {"_x", "must start with a letter or digit"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        pvm_profile before;
        memcpy(&before, &p, sizeof p);
        assert_invalid(pvm_profile_set_name(&p, bad[i].v, &err), &err, "name: ", bad[i].needle);
        assert_memory_equal(&before, &p, sizeof p);
    }
    assert_invalid(pvm_profile_set_name(&p, repeat('n', 65, buf), &err), &err, "name: ",
                   "at most 64");
    assert_invalid(pvm_validate_name("vm name", NULL, &err), &err, "vm name: ", "empty");
    /* a name stored before the first-character rule still validates when kept */
    pvm_profile_init(&p);
    strcpy(p.name, "-old");
    assert_invalid(pvm_profile_validate(&p, &err), &err, "name: ", "letter or digit");
    assert_int_equal(pvm_profile_validate_stored(&p, &err), 0);
    strcpy(p.name, "-a/b"); /* the other rules still hold */
    assert_invalid(pvm_profile_validate_stored(&p, &err), &err, "name: ", "found '/'");
}

/* -------------------------------------------------------- set and validate */

static void test_set_unchanged_on_error(void **state)
{
    (void)state;
    char buf[100];
    pvm_profile p, before;
    pvm_error err = {0};
    fill_profile(&p);
    memcpy(&before, &p, sizeof p);
    struct {
        const char *key, *value;
    } bad[] = {
        {"product", "a\nb"},
        {"product", repeat('x', 65, buf)},
        {"diskSerial", "123456789012345678901"},
        {"biosDate", "02/30/2021"},
        {"machineIdentifier", "xyz"},
        {"macAddress", "01:00:00:00:00:01"},
        {"serialNumber", "\xc3\xa9"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(pvm_profile_set(&p, field(bad[i].key), bad[i].value, &err), -1);
        assert_memory_equal(&before, &p, sizeof p);
    }
    assert_int_equal(pvm_profile_set(&p, NULL, "x", &err), -1);
    assert_memory_equal(&before, &p, sizeof p);
}

static void test_set_clears_old_tail(void **state)
{
    (void)state;
    pvm_profile p, q;
    pvm_profile_init(&p);
    pvm_profile_init(&q);
    set_ok(&p, "product", "A much longer product name");
    set_ok(&p, "product", "Short");
    set_ok(&q, "product", "Short");
    assert_memory_equal(&p, &q, sizeof p); /* no stale bytes after the NUL */
}

static void test_validate_full_and_empty(void **state)
{
    (void)state;
    pvm_profile p;
    pvm_error err = {0};
    fill_profile(&p);
    assert_int_equal(pvm_profile_validate(&p, &err), 0);
    pvm_profile_init(&p);
    assert_invalid(pvm_profile_validate(&p, &err), &err, "name: ", "empty");
    assert_int_equal(pvm_profile_set_name(&p, "only a name", &err), 0);
    assert_int_equal(pvm_profile_validate(&p, &err), 0);
}

static void test_validate_first_error_wins(void **state)
{
    (void)state;
    pvm_profile p;
    pvm_error err = {0};
    fill_profile(&p);
    strcpy(p.mac, "01:00:00:00:00:00");
    strcpy(p.hw.bios_date, "99/99/2020");
    strcpy(p.serial, "bad\ttab");
    assert_invalid(pvm_profile_validate(&p, &err), &err, "hardwareModel.biosDate: ", NULL);
    strcpy(p.hw.bios_date, "");
    assert_invalid(pvm_profile_validate(&p, &err), &err, "macAddress: ", "unicast");
    strcpy(p.mac, "");
    assert_invalid(pvm_profile_validate(&p, &err), &err, "serialNumber: ", "control");
    strcpy(p.name, "a/b");
    assert_invalid(pvm_profile_validate(&p, &err), &err, "name: ", NULL);
}

static void test_validate_raw_struct(void **state)
{
    (void)state;
    pvm_profile p;
    pvm_error err = {0};
    fill_profile(&p);
    memset(p.hw.sku, 'k', sizeof p.hw.sku); /* no NUL at all */
    assert_invalid(pvm_profile_validate(&p, &err), &err, "hardwareModel.sku: ", "at most 64");
    assert_string_equal(err.field, "sku");
    fill_profile(&p);
    memset(p.disk_serial, 'd', sizeof p.disk_serial);
    assert_invalid(pvm_profile_validate(&p, &err), &err, "diskSerial: ", "at most 20");
    fill_profile(&p);
    strcpy(p.id, "not-a-uuid");
    assert_invalid(pvm_profile_validate(&p, &err), &err, "id: ", "UUID");
    fill_profile(&p);
    p.created_at = -5;
    assert_invalid(pvm_profile_validate(&p, &err), &err, "createdAt: ", NULL);
    fill_profile(&p);
    p.updated_at = 9007199254740992LL; /* 2^53: would not survive JSON */
    assert_invalid(pvm_profile_validate(&p, &err), &err, "updatedAt: ", NULL);
    p.updated_at = 9007199254740991LL;
    assert_int_equal(pvm_profile_validate(&p, &err), 0);
    fill_profile(&p);
    strcpy(p.preset, "bad\npreset");
    assert_invalid(pvm_profile_validate(&p, &err), &err, "preset: ", NULL);
    fill_profile(&p);
    strcpy(p.machine_id, "0F8FAD5B-D9CB-469F-A165-70867728950E"); /* either case is valid */
    assert_int_equal(pvm_profile_validate(&p, &err), 0);
}

static void test_embedded_nul_via_json(void **state)
{
    (void)state;
    pvm_profile p, before;
    pvm_error err = {0};
    fill_profile(&p);
    memcpy(&before, &p, sizeof p);
    assert_int_equal(pvm_profile_from_json("{\"name\":\"x\",\"serialNumber\":\"AB\\u0000CD\"}", &p,
                                           &err),
                     -1);
    assert_invalid(-1, &err, "serialNumber: ", "NUL");
    assert_memory_equal(&before, &p, sizeof p);
}

/* ------------------------------------------------------------------ names */

static void test_enum_names(void **state)
{
    (void)state;
    pvm_error err = {0};
    pvm_disk_bus bus = PVM_DISK_VIRTIO;
    pvm_nic_model nic = PVM_NIC_VIRTIO;
    pvm_net_mode net = PVM_NET_USER;
    assert_string_equal(pvm_disk_bus_name(PVM_DISK_NVME), "nvme");
    assert_string_equal(pvm_disk_bus_name(PVM_DISK_SATA), "sata");
    assert_string_equal(pvm_nic_model_name(PVM_NIC_E1000E), "e1000e");
    assert_string_equal(pvm_net_mode_name(PVM_NET_NONE), "none");
    assert_string_equal(pvm_vm_state_name(PVM_VM_CRASHED), "crashed");
    assert_string_equal(pvm_vm_state_name(PVM_VM_PAUSED), "paused");
    assert_string_equal(pvm_vm_state_name((pvm_vm_state)99), "unknown");
    assert_int_equal(pvm_disk_bus_parse("SATA", &bus, &err), 0);
    assert_int_equal(bus, PVM_DISK_SATA);
    assert_int_equal(pvm_nic_model_parse("e1000e", &nic, &err), 0);
    assert_int_equal(nic, PVM_NIC_E1000E);
    assert_int_equal(pvm_net_mode_parse("none", &net, NULL, &err), 0);
    assert_int_equal(net, PVM_NET_NONE);
    const char *br = "x";
    assert_int_equal(pvm_net_mode_parse("bridge=br0", &net, &br, &err), 0);
    assert_int_equal(net, PVM_NET_BRIDGE);
    assert_string_equal(br, "br0");
    assert_int_equal(pvm_net_mode_parse("user", &net, &br, &err), 0);
    assert_null(br);
    assert_int_equal(pvm_net_mode_parse("bridge=br0", &net, NULL, &err), -1);
    assert_invalid(pvm_disk_bus_parse("ide", &bus, &err), &err, "diskBus: ",
                   "virtio, nvme or sata");
    assert_int_equal(bus, PVM_DISK_SATA);
    assert_invalid(pvm_nic_model_parse("", &nic, &err), &err, "nic: ", "virtio or e1000e");
    assert_invalid(pvm_net_mode_parse(NULL, &net, NULL, &err), &err, "net: ", "user, none or bridge");
}

static void test_size_parse(void **state)
{
    (void)state;
    struct {
        const char *s;
        uint64_t v;
    } good[] = {
        {"1024", 1024},
        {"0", 0},
        {"512M", 512ULL << 20},
        {"50G", 50ULL << 30},
        {"1T", 1ULL << 40},
        {"1k", 1024},
        {"2KiB", 2048},
        {"3MB", 3ULL << 20},
        {"1gib", 1ULL << 30},
        {"100B", 100},
        {"16777215T", 16777215ULL << 40},
        {"18446744073709551615", UINT64_MAX},
    };
    pvm_error err = {0};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        uint64_t v = 7;
        if (pvm_size_parse("memory", good[i].s, &v, &err) != 0) {
            print_error("%s: %s\n", good[i].s, err.msg);
            fail();
        }
        assert_int_equal(v, good[i].v);
    }
    struct {
        const char *s, *needle;
    } bad[] = {
        {"", "empty"},
        {"-1", "negative"},
        {"-1G", "negative"},
        {"1.5G", "whole number"},
        {"abc", "e.g. 512M"},
        {"12X", "e.g. 512M"},
        {"G", "e.g. 512M"},
        {"1GG", "e.g. 512M"},
        {"1iB", "e.g. 512M"},
        {" 1G", "e.g. 512M"},
        {"1G ", "e.g. 512M"},
        {"+1G", "e.g. 512M"},
        {"1e9", "e.g. 512M"},
        {"0x10", "e.g. 512M"},
        {"18446744073709551616", "too large"},
        {"16777216T", "too large"},
        {"99999999999999999999999G", "too large"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint64_t v = 7;
        assert_invalid(pvm_size_parse("disk size", bad[i].s, &v, &err), &err, "disk size: ",
                       bad[i].needle);
        assert_int_equal(v, 7);
    }
    uint64_t v = 7;
    assert_invalid(pvm_size_parse("memory", NULL, &v, &err), &err, "memory: ", "empty");
}

/* numbers.c: one strict grammar for every way a number enters (issue 7). */
static void test_numbers(void **state)
{
    (void)state;
    pvm_error err = {0};
    int n = 7;
    assert_int_equal(pvm_int_parse("cpus", "4", 1, 255, &n, &err), 0);
    assert_int_equal(n, 4);
    static const char *const bad_ints[] = {" 1", "+1", "1 ", "-1", "0x2", "", "0", "256",
                                           "99999999999999999999", "1.0"};
    for (size_t i = 0; i < sizeof bad_ints / sizeof bad_ints[0]; i++) {
        n = 7;
        assert_invalid(pvm_int_parse("cpus", bad_ints[i], 1, 255, &n, &err), &err, "cpus: ",
                       "");
        assert_string_equal(err.field, "cpus");
        assert_int_equal(n, 7);
    }
    uint64_t v = 7;
    assert_int_equal(pvm_memory_parse("memory", "4G", &v, &err), 0);
    assert_int_equal(v, 4ULL << 30);
    assert_int_equal(pvm_memory_parse("memory", "33554432B", &v, &err), 0); /* B: bytes */
    assert_int_equal(v, 32ULL << 20);
    v = 7;
    assert_invalid(pvm_memory_parse("memory", "4096", &v, &err), &err, "memory: 4096 has no unit",
                   "4096M?");
    assert_invalid(pvm_memory_parse("memory", " 4G", &v, &err), &err, "memory: ", "e.g. 512M");
    assert_invalid(pvm_memory_parse("memory", "16M", &v, &err), &err, "memory: ", "at least 32M");
    assert_invalid(pvm_memory_parse("memory", "33000K", &v, &err), &err, "memory: ",
                   "whole number of MiB");
    assert_invalid(pvm_disk_parse("disk", "20", &v, &err), &err, "disk: 20 has no unit", "20M?");
    assert_invalid(pvm_disk_parse("disk", "512K", &v, &err), &err, "disk: ", "at least 1M");
    assert_int_equal(v, 7);
    assert_int_equal(pvm_disk_parse("disk", "1M", &v, &err), 0);
    assert_int_equal(v, 1ULL << 20);
}

static void test_size_format(void **state)
{
    (void)state;
    char buf[32];
    assert_string_equal(pvm_size_format(0, buf, sizeof buf), "0B");
    assert_string_equal(pvm_size_format(512, buf, sizeof buf), "512B");
    assert_string_equal(pvm_size_format(1024, buf, sizeof buf), "1K");
    assert_string_equal(pvm_size_format(512ULL << 20, buf, sizeof buf), "512M");
    assert_string_equal(pvm_size_format(50ULL << 30, buf, sizeof buf), "50G");
    assert_string_equal(pvm_size_format(1536ULL << 20, buf, sizeof buf), "1.5G");
    assert_string_equal(pvm_size_format(1ULL << 40, buf, sizeof buf), "1T");
    assert_string_equal(pvm_size_format((1ULL << 30) - 1, buf, sizeof buf), "1.0G");
    assert_string_equal(pvm_size_format(1500, buf, sizeof buf), "1.5K");
    assert_string_equal(pvm_size_format(UINT64_MAX, buf, sizeof buf), "16777216.0T");
    /* exact sizes parse back to themselves */
    uint64_t exact[] = {0, 1, 1023, 4096, 256ULL << 20, 20ULL << 30, 3ULL << 40};
    pvm_error err = {0};
    for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++) {
        uint64_t v;
        assert_int_equal(pvm_size_parse("x", pvm_size_format(exact[i], buf, sizeof buf), &v, &err),
                         0);
        assert_int_equal(v, exact[i]);
    }
}

/* Every validator and option parser names the key it concerns in err->field,
 * so a front end can place the error without reading the message. */
static void assert_field(int rc, pvm_error *err, const char *key)
{
    if (rc != -1 || strcmp(err->field, key) != 0) {
        print_error("expected -1 with field \"%s\", got rc=%d field=\"%s\" msg=\"%s\"\n", key,
                    rc, err->field, err->msg);
        fail();
    }
    memset(err, 0, sizeof *err);
}

static void test_errors_carry_field(void **state)
{
    (void)state;
    pvm_error err = {0};
    pvm_profile p;
    uint64_t size;
    pvm_disk_bus bus;
    pvm_nic_model nic;
    pvm_net_mode net;
    assert_field(pvm_validate_name("name", "a/b", &err), &err, "name");
    assert_field(pvm_validate_text("product", "a\tb", 64, &err), &err, "product");
    assert_field(pvm_validate_uuid("machineIdentifier", "nope", &err), &err, "machineIdentifier");
    assert_field(pvm_validate_mac("macAddress", "01:00:00:00:00:00", &err), &err, "macAddress");
    assert_field(pvm_validate_date("biosDate", "13/01/2020", &err), &err, "biosDate");
    pvm_profile_init(&p);
    assert_field(pvm_profile_set(&p, field("biosDate"), "2021-03-15", &err), &err, "biosDate");
    assert_field(pvm_profile_set(&p, field("diskSerial"), "123456789012345678901", &err), &err,
                 "diskSerial");
    assert_field(pvm_profile_set_name(&p, "", &err), &err, "name");
    fill_profile(&p);
    p.created_at = -1;
    assert_field(pvm_profile_validate(&p, &err), &err, "createdAt");
    strcpy(p.serial, "bad\ttab");
    assert_field(pvm_profile_validate(&p, &err), &err, "serialNumber");
    assert_field(pvm_size_parse("memory", "1.5G", &size, &err), &err, "memory");
    assert_field(pvm_size_parse("disk", "", &size, &err), &err, "disk");
    assert_field(pvm_disk_bus_parse("floppy", &bus, &err), &err, "diskBus");
    assert_field(pvm_nic_model_parse("rtl8139", &nic, &err), &err, "nic");
    assert_field(pvm_net_mode_parse("bridge", &net, NULL, &err), &err, "net");
    /* the message still opens with the key; a later plain error clears the field */
    assert_int_equal(pvm_disk_bus_parse("floppy", &bus, &err), -1);
    assert_string_equal(err.msg, "diskBus: must be virtio, nvme or sata");
    pvm_error_set(&err, PVM_E_IO, "disk full");
    assert_string_equal(err.field, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_field_table_names),
        cmocka_unit_test(test_field_table_storage),
        cmocka_unit_test(test_field_lookup_forms),
        cmocka_unit_test(test_init_defaults),
        cmocka_unit_test(test_text_kept_byte_for_byte),
        cmocka_unit_test(test_text_hostile),
        cmocka_unit_test(test_text_lengths),
        cmocka_unit_test(test_text_echoes_short_printable_value),
        cmocka_unit_test(test_uuid),
        cmocka_unit_test(test_mac),
        cmocka_unit_test(test_date),
        cmocka_unit_test(test_name),
        cmocka_unit_test(test_set_unchanged_on_error),
        cmocka_unit_test(test_set_clears_old_tail),
        cmocka_unit_test(test_validate_full_and_empty),
        cmocka_unit_test(test_validate_first_error_wins),
        cmocka_unit_test(test_validate_raw_struct),
        cmocka_unit_test(test_embedded_nul_via_json),
        cmocka_unit_test(test_enum_names),
        cmocka_unit_test(test_size_parse),
        cmocka_unit_test(test_size_format),
        cmocka_unit_test(test_errors_carry_field),
        cmocka_unit_test(test_numbers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
