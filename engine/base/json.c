/* json.c - the engine's one door to cJSON: the never-NULL allocators installed
 * as cJSON's hooks once per process, and parsing that reports where an error
 * is from the call's own end pointer. Used by profile_json.c, vm.c, jsonrpc.c;
 * pvm_json_init also by pvm_engine_open and the front ends at start-up. */
#include "base/base.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdlib.h>

static pthread_once_t pvm_json_once = PTHREAD_ONCE_INIT;
/* cJSON records each parse's outcome in a process-global (read by
 * cJSON_GetErrorPtr, which we never call); parsing one at a time keeps two
 * threads from writing it together. */
static pthread_mutex_t pvm_json_parse_lock = PTHREAD_MUTEX_INITIALIZER;

static void pvm_json_install(void)
{
    cJSON_Hooks hooks = {.malloc_fn = pvm_xmalloc, .free_fn = free};
    cJSON_InitHooks(&hooks);
}

void pvm_json_init(void)
{
    pthread_once(&pvm_json_once, pvm_json_install);
}

/* Offset of the first byte of s[0..n) that is not JSON whitespace, or n. */
static size_t pvm_json_skip_blank(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n'))
        i++;
    return i;
}

cJSON *pvm_json_parse_bytes(const char *text, size_t len, bool whole, size_t *error_at)
{
    const char *end = NULL;
    pvm_json_init();
    pthread_mutex_lock(&pvm_json_parse_lock);
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    pthread_mutex_unlock(&pvm_json_parse_lock);
    size_t at = end && end >= text && end <= text + len ? (size_t)(end - text) : 0;
    if (root && whole) {
        at += pvm_json_skip_blank(text + at, len - at);
        if (at < len) { /* a second value or garbage after the first: at points there */
            cJSON_Delete(root);
            root = NULL;
        }
    }
    if (error_at)
        *error_at = root ? 0 : at;
    return root;
}
