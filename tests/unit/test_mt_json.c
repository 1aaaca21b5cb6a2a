/* test_mt_json.c - engine/base/json.c from several threads: cJSON's hooks are
 * installed once, and each parse reports its own error position (never the
 * process-global one another thread writes). Also the positions the QMP and
 * guest-agent transport (jsonrpc.c) reports. Run plain, under ASan+UBSan, and
 * under ThreadSanitizer by the test_mt_* rule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <pthread.h>
#include <string.h>

#include "base/base.h"
#include "qemu/qmp.h"

#define ROUNDS 2000

typedef struct parse_case {
    const char *text;
    bool whole;
    size_t want_at; /* where the error is, 0-based */
    int failures;   /* rounds that reported another position */
} parse_case;

static void *parse_loop(void *arg)
{
    parse_case *c = arg;
    for (int i = 0; i < ROUNDS; i++) {
        size_t at = 12345;
        pvm_json_init();
        cJSON *v = pvm_json_parse_bytes(c->text, strlen(c->text), c->whole, &at);
        if (v || at != c->want_at)
            c->failures++;
        cJSON_Delete(v);
    }
    return NULL;
}

static void test_positions_single_thread(void **state)
{
    (void)state;
    size_t at = 99;
    cJSON *v = pvm_json_parse_bytes("{\"a\": 1}", 8, true, &at);
    assert_non_null(v);
    assert_int_equal(at, 0);
    cJSON_Delete(v);
    assert_null(pvm_json_parse_bytes("{\"a\": x}", 8, true, &at));
    assert_int_equal(at, 6); /* the x */
    assert_null(pvm_json_parse_bytes("[1, 2]  !", 9, true, &at));
    assert_int_equal(at, 8); /* the text after the value */
    v = pvm_json_parse_bytes("[1, 2]  !", 9, false, &at); /* a prefix is enough */
    assert_non_null(v);
    cJSON_Delete(v);
    /* only len bytes are read: the closing brace past it does not count */
    assert_null(pvm_json_parse_bytes("{\"a\": 1}", 7, true, &at));
}

/* Two threads parse different bad texts at once; with cJSON's global error
 * pointer one would read the other's position. */
static void test_positions_two_threads(void **state)
{
    (void)state;
    parse_case a = {"{\"key\": nope}", true, 8, 0};
    parse_case b = {"[1, 2, 3, 4, 5, 6, 7, 8,, 9]", true, 24, 0};
    pthread_t ta, tb;
    assert_int_equal(pthread_create(&ta, NULL, parse_loop, &a), 0);
    assert_int_equal(pthread_create(&tb, NULL, parse_loop, &b), 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    assert_int_equal(a.failures, 0);
    assert_int_equal(b.failures, 0);
}

static void test_rpc_reply_position(void **state)
{
    (void)state;
    pvm_rpc r = {.fd = -1, .peer = "QMP"};
    cJSON *obj = NULL;
    pvm_error err = {0};
    const char *line = "{\"return\": {}, \"id\": ?}";
    assert_int_equal(pvm_rpc_parse_line(&r, line, strlen(line), &obj, &err), -1);
    assert_null(obj);
    assert_int_equal(err.code, PVM_E_QEMU);
    assert_string_equal(err.msg, "QMP: malformed JSON reply (23 bytes; at byte 22)");
    const char nul[] = "{\"a\":\0}";
    assert_int_equal(pvm_rpc_parse_line(&r, nul, sizeof nul - 1, &obj, &err), -1);
    assert_string_equal(err.msg, "QMP: malformed JSON reply (7 bytes; at byte 6)");
    line = "{\"return\": 1}";
    assert_int_equal(pvm_rpc_parse_line(&r, line, strlen(line), &obj, &err), 0);
    assert_non_null(cJSON_GetObjectItemCaseSensitive(obj, "return"));
    cJSON_Delete(obj);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_positions_single_thread),
        cmocka_unit_test(test_positions_two_threads),
        cmocka_unit_test(test_rpc_reply_position),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
