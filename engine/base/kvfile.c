/* kvfile.c - the shared reader of "key = value" text files (themes, the config):
 * UTF-8 BOM, CRLF, '#' comments, line limits, duplicate keys naming both lines.
 * INTERIM copy written against the faults helper's signature; theirs replaces it. */
#include "base/base.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PVM_KV_LINE_MAX 1024

typedef struct pvm_kv_seen {
    char **keys;
    int *lines;
    size_t n, cap;
} pvm_kv_seen;

static char *pvm_kv_trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

/* The line a key was first seen on, or 0; records it when new. */
static int pvm_kv_first_line(pvm_kv_seen *seen, const char *key, int line)
{
    for (size_t i = 0; i < seen->n; i++)
        if (strcmp(seen->keys[i], key) == 0)
            return seen->lines[i];
    if (seen->n == seen->cap) {
        seen->cap = seen->cap ? seen->cap * 2 : 16;
        seen->keys = pvm_xrealloc(seen->keys, seen->cap * sizeof *seen->keys);
        seen->lines = pvm_xrealloc(seen->lines, seen->cap * sizeof *seen->lines);
    }
    seen->keys[seen->n] = pvm_xstrdup(key);
    seen->lines[seen->n++] = line;
    return 0;
}

static void pvm_kv_seen_free(pvm_kv_seen *seen)
{
    for (size_t i = 0; i < seen->n; i++)
        free(seen->keys[i]);
    free(seen->keys);
    free(seen->lines);
}

static int pvm_kv_line(char *text, const char *path, int line, pvm_kv_seen *seen,
                       pvm_kvfile_pair_fn on_pair, void *ctx, pvm_error *err)
{
    char *s = pvm_kv_trim(text);
    if (!*s || *s == '#')
        return 0;
    char *eq = strchr(s, '=');
    if (!eq)
        return pvm_error_set(err, PVM_E_INVALID, "%s:%d: expected \"key = value\"", path, line);
    *eq = '\0';
    char *key = pvm_kv_trim(s), *val = pvm_kv_trim(eq + 1);
    if (!*key)
        return pvm_error_set(err, PVM_E_INVALID, "%s:%d: missing key before '='", path, line);
    int first = pvm_kv_first_line(seen, key, line);
    if (first)
        return pvm_error_set(err, PVM_E_INVALID, "%s:%d: key already set on line %d", path,
                             line, first);
    return on_pair(ctx, path, line, key, val, err);
}

int pvm_kvfile_read(const char *path, pvm_kvfile_pair_fn on_pair, void *ctx, pvm_error *err)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return pvm_error_set(err, errno == ENOENT ? PVM_E_NOTFOUND : PVM_E_IO, "%s: %s", path,
                             strerror(errno));
    char *buf = NULL;
    size_t cap = 0;
    ssize_t len;
    pvm_kv_seen seen = {0};
    int line = 0, rc = 0;
    while (rc == 0 && (len = getline(&buf, &cap, f)) >= 0) {
        line++;
        char *text = buf;
        if (line == 1 && len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
            text += 3;
            len -= 3;
        }
        if (len > PVM_KV_LINE_MAX)
            rc = pvm_error_set(err, PVM_E_INVALID, "%s:%d: line longer than %d bytes", path,
                               line, PVM_KV_LINE_MAX);
        else if (memchr(text, '\0', (size_t)len))
            rc = pvm_error_set(err, PVM_E_INVALID, "%s:%d: a NUL byte (not a text file)", path,
                               line);
        else
            rc = pvm_kv_line(text, path, line, &seen, on_pair, ctx, err);
    }
    if (rc == 0 && ferror(f))
        rc = pvm_error_set(err, PVM_E_IO, "%s: read failed", path);
    free(buf);
    fclose(f);
    pvm_kv_seen_free(&seen);
    return rc ? -1 : 0;
}
