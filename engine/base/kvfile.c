/* kvfile.c - reads "key = value" text files for the whole program: BOM, CRLF,
 * comments, size and byte checks, duplicate keys, "FILE:LINE: " in every error.
 * Called by engine/config.c and tui/theme.c through base/kvfile.h. */
#include "base/kvfile.h"
#include "base/base.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct pvm_kv_line {
    int line;
    char *key;
    char *value;
} pvm_kv_line;

/* The whole file, NUL-terminated, into *out (caller frees); *len its size. */
static int pvm_kv_slurp(const char *path, char **out, size_t *len, pvm_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return pvm_error_set(err, errno == ENOENT ? PVM_E_NOTFOUND : PVM_E_IO, "%s: %s", path,
                             strerror(errno));
    size_t cap = 4096, n = 0;
    char *buf = pvm_xmalloc(cap + 1);
    for (;;) {
        if (n == cap) {
            if (cap > PVM_KVFILE_SIZE_MAX)
                break;
            cap *= 2;
            buf = pvm_xrealloc(buf, cap + 1);
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            close(fd);
            free(buf);
            return pvm_error_set(err, PVM_E_IO, "%s: cannot read: %s", path, strerror(e));
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    if (n > PVM_KVFILE_SIZE_MAX) {
        free(buf);
        return pvm_error_set(err, PVM_E_INVALID, "%s: larger than %d KiB; this is not a "
                             "settings file", path, PVM_KVFILE_SIZE_MAX / 1024);
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}

/* Length of the UTF-8 sequence at s (1..4), or 0 when it is not well formed
 * (stray continuation, overlong form, surrogate, above U+10FFFF, cut short). */
static size_t pvm_kv_utf8_len(const unsigned char *s, size_t left)
{
    unsigned c = s[0];
    size_t n = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3
             : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    if (n == 0 || n > left)
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f) ||
        (c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] > 0x8f))
        return 0;
    return n;
}

/* A text line: no control bytes but tab, UTF-8 only. */
static int pvm_kv_check_bytes(const char *path, int line, const char *s, size_t n,
                              pvm_error *err)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        if ((u[i] < 0x20 && u[i] != '\t') || u[i] == 0x7f)
            return pvm_error_set(err, PVM_E_INVALID, "%s:%d: control byte 0x%02x at column "
                                 "%zu; this file must be plain text", path, line, u[i], i + 1);
        size_t k = pvm_kv_utf8_len(u + i, n - i);
        if (!k)
            return pvm_error_set(err, PVM_E_INVALID, "%s:%d: byte 0x%02x at column %zu is not "
                                 "UTF-8; this file must be plain text (save it as UTF-8)",
                                 path, line, u[i], i + 1);
        i += k;
    }
    return 0;
}

static char *pvm_kv_trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    return s;
}

static bool pvm_kv_key_ok(const char *k)
{
    if (!*k)
        return false;
    for (; *k; k++)
        if (!((*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') || (*k >= '0' && *k <= '9') ||
              *k == '_' || *k == '-' || *k == '.'))
            return false;
    return true;
}

/* One line (line end already cut): a pair into *kv, or kv->key NULL for a
 * blank line or comment. */
static int pvm_kv_parse_line(const char *path, int line, char *s, size_t n, pvm_kv_line *kv,
                             pvm_error *err)
{
    kv->line = line;
    kv->key = kv->value = NULL;
    if (n > PVM_KVFILE_LINE_MAX)
        return pvm_error_set(err, PVM_E_INVALID, "%s:%d: line is longer than %d bytes", path,
                             line, PVM_KVFILE_LINE_MAX);
    if (pvm_kv_check_bytes(path, line, s, n, err) < 0)
        return -1;
    char *t = pvm_kv_trim(s);
    if (!*t || *t == '#')
        return 0;
    char *eq = strchr(t, '=');
    if (!eq)
        return pvm_error_set(err, PVM_E_INVALID, "%s:%d: expected \"key = value\", got \"%.60s\"",
                             path, line, t);
    *eq = '\0';
    kv->key = pvm_kv_trim(t);
    kv->value = pvm_kv_trim(eq + 1);
    if (!*kv->key)
        return pvm_error_set(err, PVM_E_INVALID, "%s:%d: missing key before '='", path, line);
    if (!pvm_kv_key_ok(kv->key))
        return pvm_error_set(err, PVM_E_INVALID, "%s:%d: key \"%.40s\" may hold only letters, "
                             "digits, '_', '-' and '.'", path, line, kv->key);
    return 0;
}

static int pvm_kv_duplicate(const char *path, const pvm_kv_line *v, size_t n, pvm_error *err)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(v[i].key, v[n].key))
            return pvm_error_set(err, PVM_E_INVALID, "%s:%d: %s is given twice (also on line "
                                 "%d); keep one", path, v[n].line, v[n].key, v[i].line);
    return 0;
}

/* Splits buf into lines and collects the pairs into *out (caller frees). */
static int pvm_kv_split(const char *path, char *buf, size_t len, pvm_kv_line **out,
                        size_t *count, pvm_error *err)
{
    pvm_kv_line *v = NULL;
    size_t n = 0, cap = 0;
    char *s = buf, *end = buf + len;
    if (len >= 3 && !memcmp(s, "\xef\xbb\xbf", 3)) /* a byte-order mark, as Notepad writes */
        s += 3;
    for (int line = 1; s < end; line++) {
        char *nl = memchr(s, '\n', (size_t)(end - s));
        char *stop = nl ? nl : end;
        if (stop > s && stop[-1] == '\r')
            stop--;
        *stop = '\0';
        pvm_kv_line kv;
        if (pvm_kv_parse_line(path, line, s, (size_t)(stop - s), &kv, err) < 0)
            goto fail;
        s = nl ? nl + 1 : end;
        if (!kv.key)
            continue;
        if (n == cap)
            v = pvm_xrealloc(v, (cap = cap ? cap * 2 : 16) * sizeof *v);
        v[n] = kv;
        if (pvm_kv_duplicate(path, v, n, err) < 0)
            goto fail;
        n++;
    }
    *out = v;
    *count = n;
    return 0;
fail:
    free(v);
    return -1;
}

/* Puts "PATH:LINE: " in front of the callback's message. */
static void pvm_kv_prefix(pvm_error *err, const char *path, int line)
{
    char head[PVM_PATH_MAX + 16];
    snprintf(head, sizeof head, "%s:%d: ", path, line);
    pvm_error_prefix(err, head);
}

int pvm_kvfile_read(const char *path, pvm_kvfile_pair_fn on_pair, void *ctx, pvm_error *err)
{
    char *buf = NULL;
    size_t len = 0, n = 0;
    pvm_kv_line *v = NULL;
    if (pvm_kv_slurp(path, &buf, &len, err) < 0)
        return -1;
    if (memchr(buf, '\0', len)) {
        size_t at = (size_t)((char *)memchr(buf, '\0', len) - buf);
        int line = 1;
        for (size_t i = 0; i < at; i++)
            line += buf[i] == '\n';
        free(buf);
        return pvm_error_set(err, PVM_E_INVALID, "%s:%d: NUL byte; this file must be plain "
                             "text", path, line);
    }
    if (pvm_kv_split(path, buf, len, &v, &n, err) < 0) {
        free(buf);
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        rc = on_pair(ctx, path, v[i].line, v[i].key, v[i].value, err) < 0 ? -1 : 0;
        if (rc)
            pvm_kv_prefix(err, path, v[i].line);
    }
    free(v);
    free(buf);
    return rc;
}
