/* test_profile_json.c - unit tests of engine/profile_json.c: export shape,
 * exact round trips, and hostile import files (each must change nothing).
 * Run by `make unit` (plain and ASan+UBSan). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../engine/pvm.h"

/* ---------------------------------------------------------------- helpers */

static void set(pvm_profile *p, const char *key, const char *value)
{
    pvm_error err = {0};
    if (pvm_profile_set(p, pvm_profile_field_by_key(key), value, &err) != 0) {
        print_error("set %s: %s\n", key, err.msg);
        fail();
    }
}

/* Every field filled with the awkward characters real products and hostile
 * users produce: commas, quotes, backslashes, '=', a leading '-'. */
static void fill_profile(pvm_profile *p)
{
    pvm_error err = {0};
    size_t n;
    const pvm_field *f = pvm_profile_fields(&n);
    pvm_profile_init(p);
    assert_int_equal(pvm_profile_set_name(p, "Work laptop_1.0-x", &err), 0);
    for (size_t i = 0; i < n; i++) {
        char v[80];
        snprintf(v, sizeof v, "-%s,\"q\"=\\b/ '%zu'", f[i].flag, i);
        if (f[i].kind == PVM_FK_DATE)
            snprintf(v, sizeof v, "02/29/2024");
        else if (f[i].kind == PVM_FK_UUID)
            snprintf(v, sizeof v, "0F8FAD5B-D9CB-469F-A165-70867728950E");
        else if (f[i].kind == PVM_FK_MAC)
            snprintf(v, sizeof v, "3C:22:FB:12:34:56");
        else if (f[i].kind == PVM_FK_DISK_SERIAL)
            snprintf(v, sizeof v, "-d,\"\\=%zu", i);
        else if (f[i].kind == PVM_FK_CHASSIS)
            snprintf(v, sizeof v, "notebook");
        else if (f[i].kind == PVM_FK_UINT || f[i].kind == PVM_FK_HEX)
            snprintf(v, sizeof v, "%lu", f[i].min + 1);
        set(p, f[i].key, v);
    }
    strcpy(p->id, "7d444840-9dc0-11d1-b245-5ffdce74fad2");
    strcpy(p->preset, "dell-latitude-7420");
    p->hide_hypervisor = false;
    p->created_at = 1700000000;
    p->updated_at = 9007199254740991LL; /* 2^53 - 1, the largest exact one */
}

static void assert_msg(const pvm_error *err, const char *prefix, const char *needle)
{
    if (err->code != PVM_E_INVALID || strncmp(err->msg, prefix, strlen(prefix)) != 0 ||
        (needle && !strstr(err->msg, needle))) {
        print_error("expected invalid \"%s...%s...\", got code=%d \"%s\"\n", prefix,
                    needle ? needle : "", err->code, err->msg);
        fail();
    }
}

/* Imports text into a filled profile; it must fail and leave it untouched. */
static void import_bad(const char *text, const char *prefix, const char *needle)
{
    pvm_profile p, before;
    pvm_error err = {0};
    fill_profile(&p);
    memcpy(&before, &p, sizeof p);
    int rc = pvm_profile_from_json(text, &p, &err);
    if (rc != -1) {
        print_error("import accepted: %s\n", text ? text : "(null)");
        fail();
    }
    assert_msg(&err, prefix, needle);
    assert_memory_equal(&before, &p, sizeof p);
}

static void import_ok(const char *text, pvm_profile *p)
{
    pvm_error err = {0};
    pvm_profile_init(p);
    if (pvm_profile_from_json(text, p, &err) != 0) {
        print_error("import failed: %s\n  text: %s\n", err.msg, text);
        fail();
    }
}

/* -------------------------------------------------------------- round trip */

static void test_round_trip_full(void **state)
{
    (void)state;
    pvm_profile p, q;
    fill_profile(&p);
    char *text = pvm_profile_to_json(&p);
    import_ok(text, &q);
    assert_memory_equal(&p, &q, sizeof p);
    assert_string_equal(q.hw.product, "-product,\"q\"=\\b/ '1'");
    assert_string_equal(q.machine_id, "0f8fad5b-d9cb-469f-a165-70867728950e");
    assert_string_equal(q.mac, "3c:22:fb:12:34:56");
    char *again = pvm_profile_to_json(&q);
    assert_string_equal(text, again);
    free(text);
    free(again);
}

static void test_round_trip_minimal(void **state)
{
    (void)state;
    pvm_profile p, q;
    pvm_error err = {0};
    pvm_profile_init(&p);
    assert_int_equal(pvm_profile_set_name(&p, "m", &err), 0);
    char *text = pvm_profile_to_json(&p);
    assert_null(strstr(text, "\"id\"")); /* no id yet: the importer generates one */
    import_ok(text, &q);
    assert_memory_equal(&p, &q, sizeof p);
    free(text);
}

static void test_export_shape(void **state)
{
    (void)state;
    static const char *const top[] = {
        "id", "name", "hardwareModel", "machineIdentifier", "macAddress", "serialNumber",
        "diskSerial", "hideHypervisor", "preset", "createdAt", "updatedAt",
    };
    static const char *const hw[] = {
        "manufacturer", "product", "version", "family", "sku", "boardManufacturer",
        "boardProduct", "boardVersion", "boardSerial", "chassisManufacturer", "chassisSerial",
        "chassisAsset", "biosVendor", "biosVersion", "biosDate", "cpuModel", "cpuManufacturer",
        "memoryManufacturer", "chassisType", "cpuCores", "cpuThreads", "cpuFamily",
        "cpuModelNumber", "cpuStepping", "cpuMicrocode",
    };
    pvm_profile p;
    fill_profile(&p);
    char *text = pvm_profile_to_json(&p);
    cJSON *root = cJSON_Parse(text);
    assert_non_null(root);
    size_t i = 0;
    for (cJSON *c = root->child; c; c = c->next, i++) {
        assert_true(i < sizeof top / sizeof top[0]);
        assert_string_equal(c->string, top[i]);
    }
    assert_int_equal(i, sizeof top / sizeof top[0]);
    cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "hardwareModel");
    i = 0;
    for (cJSON *c = model->child; c; c = c->next, i++) {
        assert_true(i < sizeof hw / sizeof hw[0]);
        assert_string_equal(c->string, hw[i]);
        assert_true(cJSON_IsString(c));
    }
    assert_int_equal(i, sizeof hw / sizeof hw[0]);
    assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(root, "hideHypervisor")));
    assert_true(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(root, "createdAt")));
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(root, "preset")->valuestring,
                        "dell-latitude-7420");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(root, "macAddress")->valuestring,
                        "3c:22:fb:12:34:56");
    cJSON_Delete(root);
    free(text);
}

static void test_import_defaults_and_case(void **state)
{
    (void)state;
    pvm_profile p;
    import_ok("  {\"name\": \"x\", \"macAddress\": \"AA:BB:CC:DD:EE:FF\",\n"
              "   \"id\": \"7D444840-9DC0-11D1-B245-5FFDCE74FAD2\"}  \n",
              &p);
    assert_string_equal(p.name, "x");
    assert_true(p.hide_hypervisor); /* absent: default on */
    assert_string_equal(p.mac, "aa:bb:cc:dd:ee:ff");
    assert_string_equal(p.id, "7d444840-9dc0-11d1-b245-5ffdce74fad2");
    assert_string_equal(p.hw.product, "");
    assert_int_equal(p.created_at, 0);
    import_ok("{\"name\":\"y\",\"hideHypervisor\":false,\"hardwareModel\":{},"
              "\"createdAt\":5,\"updatedAt\":6}",
              &p);
    assert_false(p.hide_hypervisor);
    assert_int_equal(p.created_at, 5);
    assert_int_equal(p.updated_at, 6);
    /* legal escapes of printable characters decode normally */
    import_ok("{\"name\":\"z\",\"serialNumber\":\"a\\\"b\\\\c\\/d\\u0041\"}", &p);
    assert_string_equal(p.serial, "a\"b\\c/dA");
}

/* ----------------------------------------------------------- hostile files */

static void test_hostile_not_json(void **state)
{
    (void)state;
    import_bad(NULL, "empty input", NULL);
    import_bad("", "empty input", NULL);
    import_bad(" \n\t ", "empty input", NULL);
    import_bad("not json at all", "not valid JSON", "line 1, column 1");
    import_bad("{\"name\": \"x\",\n  oops}", "not valid JSON", "line 2");
    import_bad("{\"name\": \"x\"", "not valid JSON", NULL);
    import_bad("{\"name\": \"x\"} trailing", "not valid JSON", NULL);
    import_bad("{\"name\": \"x\"}{}", "not valid JSON", NULL);
    import_bad("{\"name\": \"unterminated}", "not valid JSON", NULL);
    import_bad("\xef\xbb\xbf\xef\xbb\xbf{\"name\":\"bom\"}", "not valid JSON", NULL);
    import_bad("{\"name\":\"x\"}\xef\xbb\xbf", "not valid JSON", NULL);
    pvm_profile p;
    import_ok("\xef\xbb\xbf{\"name\":\"bom\"}", &p); /* one leading BOM is tolerated */
    assert_string_equal(p.name, "bom");
}

static void test_hostile_top_level(void **state)
{
    (void)state;
    import_bad("[{\"name\":\"x\"}]", "top level must be a JSON object", NULL);
    import_bad("\"name\"", "top level must be a JSON object", NULL);
    import_bad("42", "top level must be a JSON object", NULL);
    import_bad("null", "top level must be a JSON object", NULL);
    import_bad("true", "top level must be a JSON object", NULL);
}

static void test_hostile_keys(void **state)
{
    (void)state;
    import_bad("{\"name\":\"x\",\"color\":\"red\"}", "color: unknown key", NULL);
    import_bad("{\"name\":\"x\",\"Name\":\"y\"}", "Name: unknown key", NULL);
    import_bad("{\"name\":\"x\",\"product\":\"p\"}", "product: unknown key", "hardwareModel");
    import_bad("{\"name\":\"x\",\"hardwareModel.product\":\"p\"}", "hardwareModel.product: unknown",
               NULL);
    import_bad("{\"name\":\"x\",\"hardwareModel\":{\"colour\":\"p\"}}",
               "hardwareModel.colour: unknown key", NULL);
    import_bad("{\"name\":\"x\",\"name\":\"y\"}", "name: appears more than once", NULL);
    import_bad("{\"name\":\"x\",\"hardwareModel\":{\"sku\":\"a\",\"sku\":\"b\"}}",
               "hardwareModel.sku: appears more than once", NULL);
    import_bad("{\"name\":\"x\",\"hardwareModel\":{},\"hardwareModel\":{}}",
               "hardwareModel: appears more than once", NULL);
    import_bad("{\"serialNumber\":\"x\"}", "name: is required", NULL);
    import_bad("{}", "name: is required", NULL);
    /* a NUL inside a key would let cJSON see "name" */
    import_bad("{\"name\\u0000evil\":\"x\"}", "an object key: contains a NUL byte", NULL);
    import_bad("{\"name\":\"x\",\"k\\u00e9y\":1}", "an object key", "non-ASCII");
}

static void test_hostile_types(void **state)
{
    (void)state;
    import_bad("{\"name\":5}", "name: must be a string", NULL);
    import_bad("{\"name\":null}", "name: must be a string", NULL);
    import_bad("{\"name\":\"x\",\"hideHypervisor\":\"yes\"}", "hideHypervisor: must be true or false",
               NULL);
    import_bad("{\"name\":\"x\",\"hideHypervisor\":1}", "hideHypervisor: must be true or false",
               NULL);
    import_bad("{\"name\":\"x\",\"hardwareModel\":[]}", "hardwareModel: must be an object", NULL);
    import_bad("{\"name\":\"x\",\"hardwareModel\":\"Dell\"}", "hardwareModel: must be an object",
               NULL);
    import_bad("{\"name\":\"x\",\"serialNumber\":null}", "serialNumber: must be a string", NULL);
    import_bad("{\"name\":\"x\",\"hardwareModel\":{\"product\":42}}", "hardwareModel.product: must be a string",
               NULL);
    import_bad("{\"name\":\"x\",\"createdAt\":\"1\"}", "createdAt: must be a non-negative", NULL);
    import_bad("{\"name\":\"x\",\"createdAt\":-1}", "createdAt: must be a non-negative", NULL);
    import_bad("{\"name\":\"x\",\"updatedAt\":1.5}", "updatedAt: must be a non-negative", NULL);
    import_bad("{\"name\":\"x\",\"updatedAt\":1e300}", "updatedAt: must be a non-negative", NULL);
    import_bad("{\"name\":\"x\",\"updatedAt\":9007199254740992}", "updatedAt: must be a non-n",
               NULL);
    import_bad("{\"name\":\"x\",\"preset\":true}", "preset: must be a string", NULL);
    import_bad("{\"name\":\"x\",\"id\":\"\"}", "id: must be a UUID", NULL);
    import_bad("{\"name\":\"x\",\"id\":\"../../etc\"}", "id: must be a UUID", NULL);
    import_bad("{\"name\":\"x\",\"id\":7}", "id: must be a string", NULL);
}

static void test_hostile_strings(void **state)
{
    (void)state;
    import_bad("{\"name\":\"x\",\"serialNumber\":\"AB\\u0000CD\"}", "serialNumber: contains a NUL byte",
               NULL);
    import_bad("{\"name\":\"x\\u0000y\"}", "name: contains a NUL byte", NULL);
    import_bad("{\"name\":\"x\",\"hardwareModel\":{\"product\":\"\\u0000\"}}",
               "hardwareModel.product: contains a NUL byte", NULL);
    import_bad("{\"name\":\"x\",\"serialNumber\":\"caf\\u00e9\"}", "serialNumber: ",
               "non-ASCII character at byte 4");
    import_bad("{\"name\":\"x\",\"serialNumber\":\"caf\xc3\xa9\"}", "serialNumber: ", "non-ASCII");
    import_bad("{\"name\":\"x\",\"serialNumber\":\"\\ud83d\\ude00\"}", "serialNumber: ",
               "non-ASCII");
    import_bad("{\"name\":\"x\",\"serialNumber\":\"a\\nb\"}", "serialNumber: ", "control character");
    import_bad("{\"name\":\"x\",\"serialNumber\":\"a\\tb\"}", "serialNumber: ", "control character");
    import_bad("{\"name\":\"x\",\"serialNumber\":\"a\tb\"}", "serialNumber: ", "control character");
    import_bad("{\"name\":\"x\",\"serialNumber\":\"\\u001b[2J\"}", "serialNumber: ", "control");
    import_bad("{\"name\":\"x\",\"serialNumber\":\"\\u007f\"}", "serialNumber: ", "control");
    import_bad("{\"name\":\"x\",\"serialNumber\":\"\\x41\"}", "serialNumber: ", "invalid escape");
    import_bad("{\"name\":\"x\",\"serialNumber\":\"\\u00zz\"}", "serialNumber: ", "invalid escape");
    import_bad("{\"name\":\"a/b\"}", "name: ", "'/'");
    import_bad("{\"name\":\"..\"}", "name: ", NULL);
}

static void test_hostile_values(void **state)
{
    (void)state;
    char text[400];
    char v[70];
    memset(v, 'P', 65);
    v[65] = '\0';
    snprintf(text, sizeof text, "{\"name\":\"x\",\"hardwareModel\":{\"product\":\"%s\"}}", v);
    import_bad(text, "hardwareModel.product: must be at most 64 bytes", NULL);
    v[64] = '\0';
    pvm_profile p;
    snprintf(text, sizeof text, "{\"name\":\"x\",\"hardwareModel\":{\"product\":\"%s\"}}", v);
    import_ok(text, &p);
    assert_string_equal(p.hw.product, v);
    import_bad("{\"name\":\"x\",\"diskSerial\":\"123456789012345678901\"}",
               "diskSerial: must be at most 20 bytes", NULL);
    import_bad("{\"name\":\"x\",\"macAddress\":\"01:00:5e:00:00:01\"}", "macAddress: ", "unicast");
    import_bad("{\"name\":\"x\",\"hardwareModel\":{\"macAddress\":\"01:00:5e:00:00:01\"}}",
               "hardwareModel.macAddress: unknown key", NULL);
    import_bad("{\"name\":\"x\",\"hardwareModel\":{\"biosDate\":\"02/29/2023\"}}",
               "hardwareModel.biosDate: ",
               "calendar");
    import_bad("{\"name\":\"x\",\"machineIdentifier\":\"1234\"}", "machineIdentifier: ", "UUID");
    /* SQL and shell text is legal and kept as is */
    import_ok("{\"name\":\"x\",\"serialNumber\":\"'; DROP TABLE profiles; --\","
              "\"diskSerial\":\"$(reboot)`id`\"}",
              &p);
    assert_string_equal(p.serial, "'; DROP TABLE profiles; --");
    assert_string_equal(p.disk_serial, "$(reboot)`id`");
}

/* An array of more profiles than one file may hold is refused whole. */
static void test_hostile_array_count(void **state)
{
    (void)state;
    size_t n = 4097, each = strlen("{},");
    char *text = malloc(n * each + 3);
    size_t at = 0;
    text[at++] = '[';
    for (size_t i = 0; i < n; i++, at += each)
        memcpy(text + at, "{},", each);
    text[at - 1] = ']';
    text[at] = '\0';
    pvm_profile *out = (pvm_profile *)&n; /* must stay untouched */
    size_t count = 7;
    pvm_error err = {0};
    assert_int_equal(pvm_profile_list_from_json(text, &out, &count, &err), -1);
    assert_int_equal(err.code, PVM_E_LIMIT);
    assert_non_null(strstr(err.msg, "at most 4096"));
    assert_ptr_equal(out, (pvm_profile *)&n);
    assert_int_equal(count, 7);
    free(text);
}

static void test_hostile_size_and_depth(void **state)
{
    (void)state;
    size_t big = 1024 * 1024 + 10;
    char *text = malloc(big + 1);
    memset(text, ' ', big);
    memcpy(text, "{\"name\":\"x\"}", 12);
    text[big] = '\0';
    import_bad(text, "input is larger than 1 MiB", NULL);
    free(text);

    char deep[400] = "{\"name\":\"x\",\"hardwareModel\":";
    for (int i = 0; i < 20; i++)
        strcat(deep, "{\"a\":");
    strcat(deep, "1");
    for (int i = 0; i < 21; i++)
        strcat(deep, "}");
    import_bad(deep, "JSON is nested deeper than", NULL);

    text = malloc(200001);
    memset(text, '[', 200000);
    text[200000] = '\0';
    pvm_profile *out = (pvm_profile *)&big;
    size_t count = 77;
    pvm_error err = {0};
    assert_int_equal(pvm_profile_list_from_json(text, &out, &count, &err), -1);
    assert_msg(&err, "JSON is nested deeper than", NULL);
    assert_ptr_equal(out, (pvm_profile *)&big);
    assert_int_equal(count, 77);
    free(text);
}

/* ---------------------------------------------------------------- lists */

static void test_list_round_trip(void **state)
{
    (void)state;
    pvm_profile in[3], *out = NULL;
    size_t count = 0;
    pvm_error err = {0};
    fill_profile(&in[0]);
    pvm_profile_init(&in[1]);
    assert_int_equal(pvm_profile_set_name(&in[1], "second", &err), 0);
    fill_profile(&in[2]);
    assert_int_equal(pvm_profile_set_name(&in[2], "third", &err), 0);
    set(&in[2], "serialNumber", "C02XYZ,\"1\"");
    char *text = pvm_profile_list_to_json(in, 3);
    assert_int_equal(text[0], '[');
    assert_int_equal(pvm_profile_list_from_json(text, &out, &count, &err), 0);
    assert_int_equal(count, 3);
    assert_memory_equal(in, out, sizeof in);
    free(out);
    free(text);

    text = pvm_profile_list_to_json(NULL, 0);
    assert_int_equal(pvm_profile_list_from_json(text, &out, &count, &err), 0);
    assert_int_equal(count, 0);
    free(out);
    free(text);

    text = pvm_profile_to_json(&in[0]); /* a single object is a list of one */
    assert_int_equal(pvm_profile_list_from_json(text, &out, &count, &err), 0);
    assert_int_equal(count, 1);
    assert_memory_equal(&in[0], out, sizeof in[0]);
    free(out);
    free(text);
}

static void list_bad(const char *text, const char *prefix, const char *needle)
{
    pvm_profile sentinel, *out = &sentinel;
    size_t count = 42;
    pvm_error err = {0};
    assert_int_equal(pvm_profile_list_from_json(text, &out, &count, &err), -1);
    assert_msg(&err, prefix, needle);
    assert_ptr_equal(out, &sentinel);
    assert_int_equal(count, 42);
}

static void test_list_hostile(void **state)
{
    (void)state;
    list_bad("[{\"name\":\"a\"},{\"name\":\"b\",\"macAddress\":\"00:00:00:00:00:00\"}]",
             "[1].macAddress: ", "all zero");
    list_bad("[{\"name\":\"a\"},{\"name\":\"b\",\"serialNumber\":\"x\\u0000\"}]",
             "[1].serialNumber: contains a NUL byte", NULL);
    list_bad("[{\"name\":\"a\"},{\"name\":\"b\",\"hardwareModel\":{\"sku\":\"\\u00e9\"}}]",
             "[1].hardwareModel.sku: ", "non-ASCII");
    list_bad("[{\"name\":\"a\",\"extra\":1},{\"name\":\"b\"}]", "[0].extra: unknown key", NULL);
    list_bad("[{\"name\":\"a\"},{\"name\":\"b\"},{}]", "[2].name: is required", NULL);
    /* one profile, in an array or not: no index, the nested path kept (issue 7) */
    list_bad("[{\"name\":\"a\",\"hardwareModel\":{\"product\":5}}]",
             "hardwareModel.product: must be a string", NULL);
    list_bad("{\"name\":\"a\",\"hardwareModel\":{\"product\":\"a\",\"product\":\"b\"}}",
             "hardwareModel.product: appears more than once", NULL);
    list_bad("[{\"name\":\"a\"},3]", "[1]: must be a JSON object", NULL);
    list_bad("[{\"name\":\"a\"},[]]", "[1]: must be a JSON object", NULL);
    list_bad("[{\"name\":\"a\"},]", "not valid JSON", NULL);
    list_bad("{\"name\":\"a\",\"hideHypervisor\":0}", "hideHypervisor: must be true or false", NULL);
    list_bad("", "empty input", NULL);
    list_bad("\"x\"", "top level must be a JSON object or array", NULL);
}

/* An import's error keeps "[i]." in its message; err->field is the bare key. */
static void field_of(const char *text, const char *prefix, const char *key)
{
    pvm_profile *out = NULL;
    size_t count = 0;
    pvm_error err = {0};
    assert_int_equal(pvm_profile_list_from_json(text, &out, &count, &err), -1);
    assert_msg(&err, prefix, NULL);
    assert_string_equal(err.field, key);
    assert_null(out);
}

static void test_errors_carry_field(void **state)
{
    (void)state;
    field_of("[{\"name\":\"a\"},{\"name\":\"b\",\"macAddress\":\"00:00:00:00:00:00\"}]",
             "[1].macAddress: ", "macAddress");
    field_of("[{\"name\":\"a\"},{\"name\":\"b\",\"serialNumber\":\"x\\u0000\"}]",
             "[1].serialNumber: ", "serialNumber");
    field_of("[{\"name\":\"a\"},{\"name\":\"b\",\"hardwareModel\":{\"sku\":\"\\u00e9\"}}]",
             "[1].hardwareModel.sku: ", "sku");
    field_of("[{\"name\":\"a\"},{\"name\":\"b\"},{}]", "[2].name: ", "name");
    /* a bad character found before parsing: the path, and [i]. only in an array of two+ */
    field_of("{\"name\":\"a\",\"hardwareModel\":{\"product\":\"X\\u0001\"}}",
             "hardwareModel.product: must be printable ASCII", "product");
    field_of("[{\"name\":\"a\",\"hardwareModel\":{\"product\":\"X\\u0001\"}}]",
             "hardwareModel.product: must be printable ASCII", "product");
    field_of("[{\"name\":\"a\",\"serialNumber\":\"X\\u0001\"}]", "serialNumber: ",
             "serialNumber");
    field_of("[{\"name\":\"a,[\\\"\"},{\"name\":\"b\",\"hardwareModel\":{\"sku\":\"\\u0001\"}}]",
             "[1].hardwareModel.sku: ", "sku");
    /* a rule broken after parsing: the same path */
    field_of("{\"name\":\"a\",\"hardwareModel\":{\"product\":\"X\",\"cpuCores\":0}}",
             "hardwareModel.cpuCores: must be a whole number", "cpuCores");
    field_of("{\"name\":\"a\",\"hardwareModel\":{\"biosDate\":\"2021-01-01\"}}", "hardwareModel.biosDate: ",
             "biosDate");
    field_of("{\"name\":\"a\",\"hideHypervisor\":0}", "hideHypervisor: ", "hideHypervisor");
    field_of("{\"name\":\"a\",\"createdAt\":-1}", "createdAt: ", "createdAt");
    field_of("{\"name\":\"a\",\"product\":3}", "product: ", ""); /* unknown at the top */
    field_of("{\"name\":\"a\",", "not valid JSON", "");
}

/* Error positions come from each parse's own end pointer: line and column of
 * the byte where the text stops being JSON. */
static void test_error_position(void **state)
{
    (void)state;
    import_bad("{\"a\": tru}", "not valid JSON at line 1, column 7", NULL);
    import_bad("{\"name\": \"x\"} trailing", "not valid JSON at line 1, column 15", NULL);
    import_bad("{\"name\": \"x\"}\n\n   {}", "not valid JSON at line 3, column 4", NULL);
    import_bad("{\n  \"name\": \"x\",\n  \"product\": @\n}", "not valid JSON at line 3, column 14",
               NULL);
    pvm_profile *out = NULL;
    size_t n = 0;
    pvm_error err = {0};
    assert_int_equal(pvm_profile_list_from_json("[{\"name\":\"a\"},\n {\"name\": -}]", &out, &n,
                                                &err),
                     -1);
    assert_string_equal(err.msg, "not valid JSON at line 2, column 11");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_full),
        cmocka_unit_test(test_round_trip_minimal),
        cmocka_unit_test(test_export_shape),
        cmocka_unit_test(test_import_defaults_and_case),
        cmocka_unit_test(test_hostile_not_json),
        cmocka_unit_test(test_hostile_top_level),
        cmocka_unit_test(test_hostile_keys),
        cmocka_unit_test(test_hostile_types),
        cmocka_unit_test(test_hostile_strings),
        cmocka_unit_test(test_hostile_values),
        cmocka_unit_test(test_hostile_size_and_depth),
        cmocka_unit_test(test_hostile_array_count),
        cmocka_unit_test(test_list_round_trip),
        cmocka_unit_test(test_list_hostile),
        cmocka_unit_test(test_errors_carry_field),
        cmocka_unit_test(test_error_position),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
