/* util.c - allocation wrappers that never return NULL, bounded string copy,
 * randomness from getrandom(2), UUID v4 text and the clock. Used everywhere. */
#include "pvm.h"
#include "base/base.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

static void pvm_oom(size_t n)
{
    fprintf(stderr, "privarion-vm: out of memory (%zu bytes)\n", n);
    abort();
}

void *pvm_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        pvm_oom(n);
    return p;
}

void *pvm_xcalloc(size_t count, size_t n)
{
    void *p = calloc(count ? count : 1, n ? n : 1);
    if (!p)
        pvm_oom(count * n);
    return p;
}

void *pvm_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        pvm_oom(n);
    return q;
}

char *pvm_xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = pvm_xmalloc(n);
    memcpy(d, s, n);
    return d;
}

char *pvm_xasprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        pvm_oom(0);
    char *s = pvm_xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

size_t pvm_strlcpy(char *dst, const char *src, size_t size)
{
    size_t n = strlen(src);
    if (size) {
        size_t c = n < size - 1 ? n : size - 1;
        memcpy(dst, src, c);
        dst[c] = '\0';
    }
    return n;
}

/* Bytes in the UTF-8 sequence led by s[0] when whole and valid (1 for ASCII), else 0. */
static size_t pvm_utf8_len(const unsigned char *s)
{
    size_t n = s[0] < 0x80 ? 1 : s[0] >= 0xc2 && s[0] <= 0xdf ? 2 : s[0] >= 0xe0 && s[0] <= 0xef ? 3
             : s[0] >= 0xf0 && s[0] <= 0xf4                   ? 4
                                                              : 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    return n;
}

char *pvm_escape_ctl(const char *in, char *out, size_t size)
{
    size_t o = 0;
    const unsigned char *s = (const unsigned char *)(in ? in : "");
    while (*s) {
        char esc[8];
        size_t n = pvm_utf8_len(s), w;
        const char *src = esc;
        if (n == 2 && s[0] == 0xc2 && s[1] < 0xa0) /* C1 */
            w = (size_t)snprintf(esc, sizeof esc, "\\u%04x", s[1]);
        else if (n == 0 || (n == 1 && (*s < 0x20 || *s == 0x7f)))
            n = 1, w = (size_t)snprintf(esc, sizeof esc, "\\x%02x", *s);
        else if (*s == '\\')
            w = (size_t)snprintf(esc, sizeof esc, "\\\\");
        else
            src = (const char *)s, w = n;
        if (o + w + 1 > size)
            break;
        memcpy(out + o, src, w);
        o += w;
        s += n;
    }
    if (size)
        out[o] = '\0';
    return out;
}

char *pvm_shell_word(const char *in, char *out, size_t size)
{
    static const char plain[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                "0123456789_./:=@%+,-";
    const char *s = in ? in : "";
    if (!size)
        return out;
    if (*s && strspn(s, plain) == strlen(s)) {
        pvm_strlcpy(out, s, size);
        return out;
    }
    size_t o = 0;
    if (size < 3) {
        out[0] = '\0';
        return out;
    }
    out[o++] = '\'';
    for (; *s; s++) {
        const char *piece = *s == '\'' ? "'\\''" : s;
        size_t w = *s == '\'' ? 4 : 1;
        if (o + w + 2 > size)
            break;
        memcpy(out + o, piece, w);
        o += w;
    }
    out[o++] = '\'';
    out[o] = '\0';
    return out;
}

void pvm_random_bytes(void *buf, size_t n)
{
    unsigned char *p = buf;
    while (n) {
        ssize_t r = getrandom(p, n, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "privarion-vm: getrandom failed: %s\n", strerror(errno));
            abort();
        }
        p += r;
        n -= (size_t)r;
    }
}

uint32_t pvm_random_below(uint32_t bound)
{
    if (bound < 2)
        return 0;
    uint32_t limit = UINT32_MAX - UINT32_MAX % bound, v;
    do
        pvm_random_bytes(&v, sizeof v);
    while (v >= limit);
    return v % bound;
}

void pvm_uuid_v4(char out[37])
{
    unsigned char b[16];
    pvm_random_bytes(b, sizeof b);
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10],
             b[11], b[12], b[13], b[14], b[15]);
}

int64_t pvm_now(void)
{
    return (int64_t)time(NULL);
}

/* One line of in[0..n): trimmed of blanks, control bytes as spaces, into a
 * fresh string (caller frees). */
static char *pvm_text_line(const char *s, size_t n)
{
    while (n && (*s == ' ' || *s == '\t' || *s == '\r'))
        s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        n--;
    char *l = pvm_xmalloc(n + 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        l[i] = (char)(c < 0x20 || c == 0x7f ? ' ' : c);
    }
    l[n] = '\0';
    return l;
}

char *pvm_text_lines(const char *in, bool keep_last, char *out, size_t size)
{
    size_t n = 0, cap = 0;
    char **v = NULL;
    for (const char *s = in ? in : ""; *s;) {
        const char *nl = strchr(s, '\n');
        size_t len = nl ? (size_t)(nl - s) : strlen(s);
        char *l = pvm_text_line(s, len);
        s += len + (nl ? 1 : 0);
        if (!*l) {
            free(l);
            continue;
        }
        if (n == cap)
            v = pvm_xrealloc(v, (cap = cap ? cap * 2 : 8) * sizeof *v);
        v[n++] = l;
    }
    /* The most whole lines that fit, counted from the first or the last. */
    size_t first = 0, count = 0, used = 0;
    for (size_t k = 0; k < n; k++) {
        size_t i = keep_last ? n - 1 - k : k;
        size_t add = strlen(v[i]) + (count ? 2 : 0);
        if (used + add + 1 > size)
            break;
        used += add;
        count++;
        first = keep_last ? i : 0;
    }
    out[0] = '\0';
    if (count == 0 && n > 0 && size > 4) { /* one line longer than all the room */
        const char *l = v[keep_last ? n - 1 : 0];
        snprintf(out, size, "%.*s...", (int)(size - 4), l);
    }
    for (size_t i = first; i < first + count; i++) {
        size_t at = strlen(out);
        snprintf(out + at, size - at, "%s%s", i > first ? "; " : "", v[i]);
    }
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
    return out;
}

mode_t pvm_umask(void)
{
    FILE *f = fopen("/proc/self/status", "re");
    char line[256];
    mode_t um = 022;
    while (f && fgets(line, sizeof line, f)) {
        unsigned v;
        if (sscanf(line, "Umask: %o", &v) == 1) {
            um = (mode_t)(v & 0777);
            break;
        }
    }
    if (f)
        fclose(f);
    return um;
}

int pvm_write_file_atomic(const char *path, const char *text)
{
    char *tmp = pvm_xasprintf("%s.XXXXXX", path);
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        free(tmp);
        return -1;
    }
    int rc = fchmod(fd, 0644 & ~pvm_umask()) == 0 && pvm_write_all(fd, text, strlen(text)) == 0 ? 0 : -1;
    if (close(fd) != 0)
        rc = -1;
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -1;
    if (rc < 0) {
        int saved = errno;
        unlink(tmp);
        errno = saved;
    }
    free(tmp);
    return rc;
}

int pvm_write_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int pvm_read_all(int fd, size_t max, char **out, size_t *len)
{
    size_t cap = 4096, n = 0;
    char *buf = pvm_xmalloc(cap + 1);
    for (;;) {
        if (n == cap) {
            if (cap > max) {
                free(buf);
                return 1;
            }
            cap *= 2;
            buf = pvm_xrealloc(buf, cap + 1);
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            free(buf);
            errno = e;
            return -1;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    if (n > max) {
        free(buf);
        return 1;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}
