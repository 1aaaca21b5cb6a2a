/* img.c - the disk images of the QEMU backend through qemu-img (an argv, never a shell):
 * create (plain or as an overlay), info (--output=json, read with cJSON), convert, resize.
 * Called by vm.c (vm create). */
#include "qemu.h"
#include "base/base.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *pvm_img_program(void)
{
    return "qemu-img"; /* from PATH, as QEMU is */
}

static int pvm_img_info_failed(const char *path, const char *out, pvm_error *err);

/* Runs qemu-img with argv; a failure carries (the start of) its output. */
static int pvm_img_run(char *const *argv, int timeout_ms, const char *what, pvm_error *err)
{
    char *out;
    int status = 0, rc = 0;
    if (pvm_proc_run(argv, timeout_ms, &out, &status, err) < 0)
        return -1;
    if (status != 0) {
        char said[320]; /* whole lines, joined with "; " */
        pvm_text_lines(out, false, said, sizeof said);
        if (status == 127)
            rc = pvm_error_set(err, PVM_E_QEMU, "%s: %s (install it: apt-get install "
                               "qemu-utils)", what, said);
        else
            rc = pvm_error_set(err, PVM_E_QEMU, "%s: qemu-img failed (status %d): %s", what,
                               status, said);
    }
    free(out);
    return rc;
}

int pvm_img_create(const char *path, uint64_t size, const char *backing, const char *backing_fmt,
                   const char *what, pvm_error *err)
{
    char bytes[32];
    snprintf(bytes, sizeof bytes, "%llu", (unsigned long long)size);
    if (backing) {
        char *argv[] = {(char *)pvm_img_program(), "create", "-q", "-f", "qcow2", "-b",
                        (char *)backing, "-F", (char *)backing_fmt, (char *)path, bytes, NULL};
        return pvm_img_run(argv, PVM_IMG_TIMEOUT_MS, what, err);
    }
    char *argv[] = {(char *)pvm_img_program(), "create", "-q", "-f", "qcow2", (char *)path, bytes,
                    NULL};
    return pvm_img_run(argv, PVM_IMG_TIMEOUT_MS, what, err);
}

int pvm_img_snapshot(const char *path, char op, const char *tag, const char *what,
                     pvm_error *err)
{
    char flag[3] = {'-', op, '\0'};
    if (op != 'c' && op != 'a' && op != 'd')
        return pvm_error_set(err, PVM_E_INVALID, "%s: unknown snapshot operation '%c'", what, op);
    char *argv[] = {(char *)pvm_img_program(), "snapshot", flag, (char *)tag, "--", (char *)path,
                    NULL};
    return pvm_img_run(argv, PVM_IMG_TIMEOUT_MS, what, err);
}

int pvm_img_info_json(const char *path, char **json, pvm_error *err)
{
    int status = 0;
    char *argv[] = {(char *)pvm_img_program(), "info", "--output=json", "-U", "--", (char *)path,
                    NULL};
    if (pvm_proc_run(argv, PVM_IMG_TIMEOUT_MS, json, &status, err) < 0)
        return -1;
    if (status == 0)
        return 0;
    int rc = pvm_img_info_failed(path, *json, err);
    free(*json);
    *json = NULL;
    return rc;
}

int pvm_img_convert(const char *src, const char *src_fmt, const char *dst, const char *what,
                    pvm_error *err)
{
    char *argv[] = {(char *)pvm_img_program(), "convert", "-q", "-f", (char *)src_fmt, "-O",
                    "qcow2", (char *)src, (char *)dst, NULL};
    return pvm_img_run(argv, -1, what, err); /* as long as the image needs */
}

int pvm_img_resize(const char *path, uint64_t size, const char *what, pvm_error *err)
{
    char bytes[32];
    snprintf(bytes, sizeof bytes, "%llu", (unsigned long long)size);
    char *argv[] = {(char *)pvm_img_program(), "resize", "-q", "--shrink", "-f", "qcow2",
                    (char *)path, bytes, NULL};
    return pvm_img_run(argv, PVM_IMG_TIMEOUT_MS, what, err);
}

/* Format and virtual size from qemu-img info's JSON (docs/tools/qemu-img.rst, "info";
 * the ImageInfo type of qapi/block-core.json). */
static int pvm_img_info_parse(const char *path, const char *json, char fmt[32], uint64_t *vsize,
                              pvm_error *err)
{
    cJSON *j = pvm_json_parse_bytes(json, strlen(json), true, NULL);
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(j, "format");
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "virtual-size");
    int rc = 0;
    if (!cJSON_IsString(f) || !cJSON_IsNumber(v) || v->valuedouble < 0)
        rc = pvm_error_set_field(err, PVM_E_INVALID, "image",
                                 "image: %s: qemu-img info gave no format/size", path);
    else if (pvm_strlcpy(fmt, f->valuestring, 32) >= 32)
        rc = pvm_error_set_field(err, PVM_E_INVALID, "image", "image: %s: unexpected format name",
                                 path);
    else
        *vsize = (uint64_t)v->valuedouble;
    cJSON_Delete(j);
    return rc;
}

/* qemu-img's whole lines; the path once, where qemu-img names it. */
static int pvm_img_info_failed(const char *path, const char *out, pvm_error *err)
{
    char said[sizeof err->msg - 40];
    const char *text = strncmp(out, "qemu-img: ", 10) == 0 ? out + 10 : out;
    bool named = strstr(text, path) != NULL;
    size_t room = named ? sizeof said : sizeof said - strlen(path) % (sizeof said - 64);
    pvm_text_lines(text, false, said, room);
    if (named)
        return pvm_error_set(err, PVM_E_INVALID, "image: qemu-img cannot read it: %s", said);
    return pvm_error_set(err, PVM_E_INVALID, "image: %s: qemu-img cannot read it: %s", path,
                         said);
}

int pvm_img_info(const char *path, char fmt[32], uint64_t *vsize, pvm_error *err)
{
    char *out;
    int status = 0;
    char *argv[] = {(char *)pvm_img_program(), "info", "--output=json", "-U", "--", (char *)path,
                    NULL};
    if (pvm_proc_run(argv, PVM_IMG_TIMEOUT_MS, &out, &status, err) < 0)
        return -1;
    int rc;
    if (status != 0)
        rc = pvm_img_info_failed(path, out, err);
    else
        rc = pvm_img_info_parse(path, out, fmt, vsize, err);
    free(out);
    return rc;
}
