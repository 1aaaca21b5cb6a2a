/* profile_json.c - hardware profiles to and from JSON in the seed's shape (id, name,
 * hardwareModel{...}, machineIdentifier, ...); import refuses unknown keys, wrong types and
 * any non-printable byte. Called by the CLI (show --json, export, import). */
#include "base/base.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PVM_JSON_MAX_DEPTH 8              /* a profile list needs 3 */
#define PVM_JSON_MAX_PROFILES 4096        /* per array: bounds the memory a file can ask */
#define PVM_JSON_MAX_INT 9007199254740991.0 /* 2^53 - 1: exact in a double */
#define PVM_KEY_SHOW_MAX 40

/* ------------------------------------------------------------------ export */

/* Adds a char array that may, in a broken struct, lack its NUL. */
static void pvm_json_add_str(cJSON *o, const char *key, const char *s, size_t size)
{
    char buf[128];
    size_t n = strnlen(s, size < sizeof buf ? size : sizeof buf - 1);
    memcpy(buf, s, n);
    buf[n] = '\0';
    cJSON_AddStringToObject(o, key, buf);
}

/* cJSON prints numbers through a double with 15 digits, which rounds large
 * integers; an integer's own decimal text is exact for every int64. */
static void pvm_json_add_int(cJSON *o, const char *key, int64_t v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", (long long)v);
    cJSON_AddRawToObject(o, key, buf);
}

static cJSON *pvm_profile_to_cjson(const pvm_profile *p)
{
    size_t nfields;
    const pvm_field *fields = pvm_profile_fields(&nfields);
    cJSON *o = cJSON_CreateObject();
    if (p->id[0])
        pvm_json_add_str(o, "id", p->id, sizeof p->id);
    pvm_json_add_str(o, "name", p->name, sizeof p->name);
    cJSON *hw = cJSON_AddObjectToObject(o, "hardwareModel");
    for (size_t i = 0; i < nfields; i++)
        if (fields[i].in_hw_model)
            pvm_json_add_str(hw, fields[i].key, pvm_profile_field_cptr(p, &fields[i]),
                             fields[i].size);
    for (size_t i = 0; i < nfields; i++)
        if (!fields[i].in_hw_model)
            pvm_json_add_str(o, fields[i].key, pvm_profile_field_cptr(p, &fields[i]),
                             fields[i].size);
    cJSON_AddBoolToObject(o, "hideHypervisor", p->hide_hypervisor);
    pvm_json_add_str(o, "preset", p->preset, sizeof p->preset);
    pvm_json_add_int(o, "createdAt", p->created_at);
    pvm_json_add_int(o, "updatedAt", p->updated_at);
    return o;
}

/* Prints and frees the tree; the string is malloc'd (free()). */
static char *pvm_json_print(cJSON *root)
{
    char *s = cJSON_Print(root);
    cJSON_Delete(root);
    if (!s) {
        fprintf(stderr, "privarion-vm: out of memory printing JSON\n");
        abort();
    }
    return s;
}

char *pvm_profile_to_json(const pvm_profile *p)
{
    pvm_json_init();
    return pvm_json_print(pvm_profile_to_cjson(p));
}

char *pvm_profile_list_to_json(const pvm_profile *p, size_t count)
{
    pvm_json_init();
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < count; i++)
        cJSON_AddItemToArray(arr, pvm_profile_to_cjson(&p[i]));
    return pvm_json_print(arr);
}

/* ------------------------------------------------------------------ pre-scan
 * cJSON decodes "\u0000" into an early NUL and passes control characters and
 * UTF-8 through, so before parsing we walk every string of the raw text and
 * refuse any character that is not printable ASCII, naming the key it is under. */

typedef struct pvm_scan {
    const char *s;
    size_t i;
    int depth;
    char kind[PVM_JSON_MAX_DEPTH];       /* 'o' object, 'a' array */
    bool expect_key[PVM_JSON_MAX_DEPTH]; /* object: next string is a key */
    bool list;                           /* top level is an array */
    bool many;                           /* ... of two or more elements (errors say [i].) */
    long index;                          /* element of the top-level array */
    char key[PVM_KEY_SHOW_MAX + 1];      /* most recent key, or "" if unshowable */
} pvm_scan;

static bool pvm_scan_in_key(const pvm_scan *sc)
{
    return sc->depth > 0 && sc->kind[sc->depth - 1] == 'o' && sc->expect_key[sc->depth - 1];
}

/* The name to put in front of an error about the current string. */
static void pvm_scan_label(const pvm_scan *sc, bool is_key, char *buf, size_t size)
{
    char prefix[32] = "";
    if (sc->many && sc->depth >= 2)
        snprintf(prefix, sizeof prefix, "[%ld].", sc->index);
    if (is_key)
        snprintf(buf, size, "%san object key", prefix);
    else if (sc->depth > 0 && sc->kind[sc->depth - 1] == 'a')
        snprintf(buf, size, "%san array element", prefix);
    else if (sc->key[0]) {
        /* inside the profile's nested object: the path the file uses */
        const pvm_field *f = pvm_profile_field_by_key(sc->key);
        bool nested = sc->depth >= (sc->list ? 3 : 2) && f && f->in_hw_model;
        snprintf(buf, size, "%s%s%s", prefix, nested ? "hardwareModel." : "", sc->key);
    }
    else
        snprintf(buf, size, "%sa value", prefix);
}

/* The field key an error about the current string concerns ("" for a key
 * itself or an array element): the key the label names. */
static const char *pvm_scan_field(const pvm_scan *sc, bool is_key)
{
    bool in_array = sc->depth > 0 && sc->kind[sc->depth - 1] == 'a';
    return is_key || in_array ? "" : sc->key;
}

static int pvm_scan_bad_char(const pvm_scan *sc, bool is_key, unsigned code, size_t at,
                             pvm_error *err)
{
    char label[96];
    const char *field = pvm_scan_field(sc, is_key);
    pvm_scan_label(sc, is_key, label, sizeof label);
    if (code == 0)
        return pvm_error_set_field(err, PVM_E_INVALID, field, "%s: contains a NUL byte at byte %zu",
                                   label, at + 1);
    return pvm_error_set_field(
        err, PVM_E_INVALID, field, "%s: must be printable ASCII; contains %s at byte %zu", label,
        code >= 0x80 ? "a non-ASCII character" : "a control character", at + 1);
}

static int pvm_hex4(const char *s, unsigned *out)
{
    unsigned v = 0;
    for (int k = 0; k < 4; k++) {
        char c = s[k];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            d = (unsigned)(c - 'A' + 10);
        else
            return -1;
        v = v * 16 + d;
    }
    *out = v;
    return 0;
}

/* Decodes one escape at s (just after the backslash) into *code; returns its
 * length, or -1 when it is not a JSON escape. */
static int pvm_scan_escape(const char *s, unsigned *code)
{
    static const char simple[] = "\"\\/bfnrt";
    static const unsigned values[] = {'"', '\\', '/', '\b', '\f', '\n', '\r', '\t'};
    const char *hit = *s ? strchr(simple, *s) : NULL;
    if (hit) {
        *code = values[hit - simple];
        return 1;
    }
    if (*s == 'u' && pvm_hex4(s + 1, code) == 0)
        return 5;
    return -1;
}

/* Walks the string starting at sc->i (a quote); leaves sc->i after it. */
static int pvm_scan_string(pvm_scan *sc, pvm_error *err)
{
    bool is_key = pvm_scan_in_key(sc), showable = true;
    size_t start = ++sc->i, at = 0;
    for (;; at++) {
        unsigned char c = (unsigned char)sc->s[sc->i];
        unsigned code = c;
        if (c == '\0')
            return 0; /* unterminated: cJSON reports it */
        if (c == '"')
            break;
        if (c == '\\') {
            int len = pvm_scan_escape(sc->s + sc->i + 1, &code);
            if (len < 0) {
                char label[96];
                pvm_scan_label(sc, is_key, label, sizeof label);
                return pvm_error_set_field(err, PVM_E_INVALID, pvm_scan_field(sc, is_key),
                                           "%s: invalid escape at byte %zu", label, at + 1);
            }
            sc->i += (size_t)len;
            showable = false;
        }
        if (code < 0x20 || code >= 0x7f)
            return pvm_scan_bad_char(sc, is_key, code, at, err);
        sc->i++;
    }
    size_t n = sc->i - start;
    sc->i++;
    if (is_key) {
        showable = showable && n <= PVM_KEY_SHOW_MAX;
        memcpy(sc->key, sc->s + start, showable ? n : 0);
        sc->key[showable ? n : 0] = '\0';
    }
    return 0;
}

static int pvm_scan_open(pvm_scan *sc, char c, pvm_error *err)
{
    if (sc->depth == PVM_JSON_MAX_DEPTH)
        return pvm_error_set(err, PVM_E_INVALID,
                             "JSON is nested deeper than %d levels; a profile needs 2",
                             PVM_JSON_MAX_DEPTH);
    sc->kind[sc->depth] = c == '{' ? 'o' : 'a';
    sc->expect_key[sc->depth] = c == '{';
    sc->depth++;
    return 0;
}

static void pvm_scan_punct(pvm_scan *sc, char c)
{
    if (sc->depth == 0)
        return;
    char kind = sc->kind[sc->depth - 1];
    if (c == '}' || c == ']')
        sc->depth--;
    else if (c == ':' && kind == 'o')
        sc->expect_key[sc->depth - 1] = false;
    else if (c == ',' && kind == 'o')
        sc->expect_key[sc->depth - 1] = true;
    else if (c == ',' && kind == 'a' && sc->depth == 1)
        sc->index++;
}

static const char *pvm_skip_ws(const char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    return s;
}

/* Whether a top-level array has a second element: a ',' at depth 1 outside strings. */
static bool pvm_json_top_many(const char *s)
{
    int depth = 0;
    for (bool in_str = false; *s; s++) {
        if (in_str) {
            if (*s == '\\' && s[1])
                s++;
            else if (*s == '"')
                in_str = false;
        } else if (*s == '"') {
            in_str = true;
        } else if (*s == '[' || *s == '{') {
            depth++;
        } else if (*s == ']' || *s == '}') {
            depth--;
        } else if (*s == ',' && depth == 1) {
            return true;
        }
    }
    return false;
}

/* text starts (after white space) with '{', or with '[' when list is allowed. */
static int pvm_json_prescan(const char *text, bool list, pvm_error *err)
{
    bool array = list && *pvm_skip_ws(text) == '[';
    pvm_scan sc = {.s = text, .list = array, .many = array && pvm_json_top_many(text)};
    while (text[sc.i]) {
        char c = text[sc.i];
        if (c == '"') {
            if (pvm_scan_string(&sc, err) < 0)
                return -1;
            continue;
        }
        if ((c == '{' || c == '[') && pvm_scan_open(&sc, c, err) < 0)
            return -1;
        if (c == '}' || c == ']' || c == ':' || c == ',')
            pvm_scan_punct(&sc, c);
        sc.i++;
    }
    return 0;
}

/* ------------------------------------------------------------------ parse */


static void pvm_line_col(const char *text, const char *at, int *line, int *col)
{
    *line = 1;
    *col = 1;
    for (const char *s = text; s < at && *s; s++) {
        if (*s == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

/* Size, emptiness, top-level type, string contents, then cJSON itself. */
static cJSON *pvm_json_parse(const char *text, bool list, pvm_error *err)
{
    if (!text)
        return pvm_error_set(err, PVM_E_INVALID, "empty input: expected a JSON object"), NULL;
    if (strnlen(text, PVM_JSON_MAX_BYTES + 1) > PVM_JSON_MAX_BYTES)
        return pvm_error_set(err, PVM_E_INVALID, "input is larger than %d MiB, the most a profile file may hold",
                             PVM_JSON_MAX_BYTES >> 20), NULL;
    if (strncmp(text, "\xef\xbb\xbf", 3) == 0) /* a UTF-8 byte order mark, as editors write */
        text += 3;
    const char *first = pvm_skip_ws(text);
    const char *want = list ? "a JSON object or array" : "a JSON object";
    if (!*first)
        return pvm_error_set(err, PVM_E_INVALID, "empty input: expected %s", want), NULL;
    bool wanted = *first == '{' || (list && *first == '[');
    if (*first == '[' && !list)
        return pvm_error_set(err, PVM_E_INVALID, "top level must be %s, not an array", want),
               NULL;
    if (!wanted && !strchr("\"-0123456789tfn", *first))
        return pvm_error_set(err, PVM_E_INVALID, "not valid JSON at line 1, column %d",
                             (int)(first - text) + 1),
               NULL;
    if (wanted && pvm_json_prescan(text, list, err) < 0)
        return NULL;
    size_t at = 0;
    cJSON *root = pvm_json_parse_bytes(text, strlen(text), true, &at);
    if (!root) {
        int line, col;
        pvm_line_col(text, text + at, &line, &col);
        pvm_error_set(err, PVM_E_INVALID, "not valid JSON at line %d, column %d", line, col);
    } else if (!wanted) {
        cJSON_Delete(root);
        root = NULL;
        pvm_error_set(err, PVM_E_INVALID, "top level must be %s", want);
    }
    return root;
}

/* A key for an error message: itself when short (the pre-scan made it printable). */
static const char *pvm_key_shown(const char *key)
{
    return strlen(key) <= PVM_KEY_SHOW_MAX ? key : "(a long key)";
}

static int pvm_json_string(const cJSON *item, const char *key, const char **out, pvm_error *err)
{
    if (!cJSON_IsString(item) || !item->valuestring)
        return pvm_error_set_field(err, PVM_E_INVALID, key, "%s: must be a string", key);
    *out = item->valuestring;
    return 0;
}

static int pvm_json_set_field(pvm_profile *p, const pvm_field *f, const cJSON *item,
                              bool *seen, pvm_error *err)
{
    size_t nfields;
    const pvm_field *fields = pvm_profile_fields(&nfields);
    const char *v = NULL;
    size_t idx = (size_t)(f - fields);
    const char *in = f->in_hw_model ? "hardwareModel." : "";
    char path[64];
    snprintf(path, sizeof path, "%s%s", in, f->key);
    if (seen[idx])
        return pvm_error_set_field(err, PVM_E_INVALID, f->key, "%s: appears more than once",
                                   path);
    seen[idx] = true;
    char num[32]; /* number fields also take a JSON number: 8, not only "8" */
    bool numeric = f->kind == PVM_FK_UINT || f->kind == PVM_FK_HEX;
    if (numeric && cJSON_IsNumber(item) && item->valuedouble >= 0 &&
        item->valuedouble <= 4294967295.0 && item->valuedouble == (double)(long long)item->valuedouble) {
        snprintf(num, sizeof num, "%lld", (long long)item->valuedouble);
        v = num;
    } else if (pvm_json_string(item, path, &v, err) < 0) {
        return -1;
    }
    return pvm_profile_set(p, f, v, err); /* its errors open with f->path, as the file's */
}

static int pvm_json_hw_model(pvm_profile *p, const cJSON *hw, bool *seen, pvm_error *err)
{
    if (!cJSON_IsObject(hw))
        return pvm_error_set_field(err, PVM_E_INVALID, "hardwareModel",
                                   "hardwareModel: must be an object");
    for (const cJSON *c = hw->child; c; c = c->next) {
        const pvm_field *f = pvm_profile_field_by_key(c->string);
        if (!f || !f->in_hw_model)
            return pvm_error_set(err, PVM_E_INVALID, "hardwareModel.%s: unknown key%s",
                                 pvm_key_shown(c->string),
                                 f ? " (it belongs at the top level)" : "");
        if (pvm_json_set_field(p, f, c, seen, err) < 0)
            return -1;
    }
    return 0;
}

static int pvm_json_time(const cJSON *item, const char *key, int64_t *out, pvm_error *err)
{
    double d = cJSON_IsNumber(item) ? item->valuedouble : -1;
    if (!(d >= 0 && d <= PVM_JSON_MAX_INT && d == (double)(int64_t)d))
        return pvm_error_set_field(err, PVM_E_INVALID, key,
                                   "%s: must be a non-negative whole number of seconds", key);
    *out = (int64_t)d;
    return 0;
}

static int pvm_json_id(pvm_profile *p, const cJSON *item, pvm_error *err)
{
    const char *v = NULL;
    if (pvm_json_string(item, "id", &v, err) < 0)
        return -1;
    if (!v[0])
        return pvm_error_set_field(err, PVM_E_INVALID, "id", "id: must be a UUID when present");
    if (pvm_validate_uuid("id", v, err) < 0)
        return -1;
    for (size_t i = 0; v[i]; i++)
        p->id[i] = v[i] >= 'A' && v[i] <= 'Z' ? (char)(v[i] + 32) : v[i];
    return 0;
}

static int pvm_json_preset(pvm_profile *p, const cJSON *item, pvm_error *err)
{
    const char *v = NULL;
    if (pvm_json_string(item, "preset", &v, err) < 0 ||
        pvm_validate_text("preset", v, PVM_NAME_MAX, err) < 0)
        return -1;
    memcpy(p->preset, v, strlen(v) + 1);
    return 0;
}

static const char *const pvm_json_extra_keys[] = {
    "id", "name", "hardwareModel", "hideHypervisor", "preset", "createdAt", "updatedAt",
};
#define PVM_JSON_NEXTRA (sizeof pvm_json_extra_keys / sizeof pvm_json_extra_keys[0])

/* One key that is not in the field table; idx indexes pvm_json_extra_keys. */
static int pvm_json_extra(pvm_profile *p, size_t idx, const cJSON *c, bool *seen,
                          pvm_error *err)
{
    const char *v = NULL;
    switch (idx) {
    case 0:
        return pvm_json_id(p, c, err);
    case 1:
        if (pvm_json_string(c, "name", &v, err) < 0)
            return -1;
        return pvm_profile_set_name(p, v, err);
    case 2:
        return pvm_json_hw_model(p, c, seen, err);
    case 3:
        if (!cJSON_IsBool(c))
            return pvm_error_set_field(err, PVM_E_INVALID, "hideHypervisor",
                                       "hideHypervisor: must be true or false");
        p->hide_hypervisor = cJSON_IsTrue(c);
        return 0;
    case 4:
        return pvm_json_preset(p, c, err);
    case 5:
        return pvm_json_time(c, "createdAt", &p->created_at, err);
    default:
        return pvm_json_time(c, "updatedAt", &p->updated_at, err);
    }
}

static int pvm_json_top_key(pvm_profile *p, const cJSON *c, bool *seen, bool *seen_extra,
                            pvm_error *err)
{
    for (size_t i = 0; i < PVM_JSON_NEXTRA; i++) {
        if (strcmp(c->string, pvm_json_extra_keys[i]) != 0)
            continue;
        if (seen_extra[i])
            return pvm_error_set_field(err, PVM_E_INVALID, pvm_json_extra_keys[i],
                                       "%s: appears more than once", pvm_json_extra_keys[i]);
        seen_extra[i] = true;
        return pvm_json_extra(p, i, c, seen, err);
    }
    const pvm_field *f = pvm_profile_field_by_key(c->string);
    if (!f || f->in_hw_model || strchr(c->string, '.'))
        return pvm_error_set(err, PVM_E_INVALID, "%s: unknown key%s", pvm_key_shown(c->string),
                             f ? " (it belongs inside hardwareModel)" : "");
    return pvm_json_set_field(p, f, c, seen, err);
}

/* Builds a profile from one JSON object; *out is written only on success. */
static int pvm_profile_from_cjson(const cJSON *obj, pvm_profile *out, pvm_error *err)
{
    bool seen[64] = {false}, seen_extra[PVM_JSON_NEXTRA] = {false};
    pvm_profile p;
    if (!cJSON_IsObject(obj))
        return pvm_error_set(err, PVM_E_INVALID, "must be a JSON object");
    pvm_profile_init(&p);
    for (const cJSON *c = obj->child; c; c = c->next)
        if (pvm_json_top_key(&p, c, seen, seen_extra, err) < 0)
            return -1;
    if (!seen_extra[1])
        return pvm_error_set_field(err, PVM_E_INVALID, "name", "name: is required");
    if (pvm_profile_validate(&p, err) < 0)
        return -1;
    *out = p;
    return 0;
}

int pvm_profile_from_json(const char *text, pvm_profile *out, pvm_error *err)
{
    cJSON *root = pvm_json_parse(text, false, err);
    if (!root)
        return -1;
    int rc = pvm_profile_from_cjson(root, out, err);
    cJSON_Delete(root);
    return rc;
}

static int pvm_profile_array_from_cjson(const cJSON *arr, pvm_profile **out, size_t *count,
                                        pvm_error *err)
{
    size_t n = (size_t)cJSON_GetArraySize(arr), i = 0;
    if (n > PVM_JSON_MAX_PROFILES)
        return pvm_error_set(err, PVM_E_LIMIT, "array holds %zu profiles; at most %d per file",
                             n, PVM_JSON_MAX_PROFILES);
    pvm_profile *v = pvm_xcalloc(n ? n : 1, sizeof *v);
    for (const cJSON *c = arr->child; c; c = c->next, i++) {
        if (pvm_profile_from_cjson(c, &v[i], err) < 0) {
            if (n > 1) /* as pvm_profile_import_many: an index only in a batch */
                pvm_error_prefix_index(err, i, !cJSON_IsObject(c));
            free(v);
            return -1;
        }
    }
    *out = v;
    *count = n;
    return 0;
}

int pvm_profile_list_from_json(const char *text, pvm_profile **out, size_t *count,
                               pvm_error *err)
{
    cJSON *root = pvm_json_parse(text, true, err);
    if (!root)
        return -1;
    int rc;
    if (cJSON_IsArray(root)) {
        rc = pvm_profile_array_from_cjson(root, out, count, err);
    } else {
        pvm_profile one;
        rc = pvm_profile_from_cjson(root, &one, err);
        if (rc == 0) {
            *out = pvm_xmalloc(sizeof one);
            **out = one;
            *count = 1;
        }
    }
    cJSON_Delete(root);
    return rc;
}
