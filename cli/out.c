/* out.c - everything the command line prints: one-line errors on stderr with
 * their exit status, aligned text tables, labelled fields and JSON (through
 * cJSON or the engine's to_json output only). Called by the cli/cmd_*.c files. */
#include "cli.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The length of the valid UTF-8 sequence of a printable character at p (2-4 bytes:
 * no overlong form, surrogate, C1 control or bidirectional override), 0 otherwise. */
static size_t pvm_out_utf8(const unsigned char *p)
{
    size_t n = p[0] >= 0xf0 && p[0] <= 0xf4 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc2 ? 2 : 0;
    if (!n || p[0] >= 0xf5)
        return 0;
    unsigned long c = p[0] & (n == 2 ? 0x1f : n == 3 ? 0x0f : 0x07);
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        c = (c << 6) | (p[i] & 0x3f);
    }
    if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10ffff)) ||
        (c >= 0xd800 && c <= 0xdfff) || c < 0xa0 || (c >= 0x202a && c <= 0x202e) ||
        (c >= 0x2066 && c <= 0x2069) || c == 0x2028 || c == 0x2029)
        return 0;
    return n;
}

/* Writes s with control bytes and bytes that are not printable UTF-8 escaped, so an
 * error is one line and a guest's text in another language reads as itself. */
static void pvm_out_escaped(FILE *fp, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        size_t u = *p >= 0x80 ? pvm_out_utf8(p) : 0;
        if (u) {
            fwrite(p, 1, u, fp);
            p += u - 1;
        } else if (*p == '\n')
            fputs("\\n", fp);
        else if (*p == '\t')
            fputs("\\t", fp);
        else if (*p < 0x20 || *p >= 0x7f)
            fprintf(fp, "\\x%02x", *p);
        else
            fputc(*p, fp);
    }
}

int pvm_out_error(const pvm_error *err)
{
    const char *msg = err && err->msg[0] ? err->msg : "unknown error";
    fputs(PVM_PROG ": ", stderr);
    pvm_out_escaped(stderr, msg);
    fputc('\n', stderr);
    int sig = pvm_cli_cancel_signal(); /* the work stopped because a signal cancelled it */
    if (sig && err && err->code == PVM_E_CANCELLED)
        return 128 + sig;
    int status = pvm_error_exit_status(err);
    return status ? status : 1;
}

int pvm_out_usage(pvm_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    err->code = PVM_E_USAGE;
    return pvm_out_error(err);
}

/* One stderr line "privarion-vm: KIND: MESSAGE", the message escaped. */
static void pvm_out_vline(const char *kind, const char *fmt, va_list ap)
{
    char buf[512];
    vsnprintf(buf, sizeof buf, fmt, ap);
    fprintf(stderr, PVM_PROG ": %s: ", kind);
    pvm_out_escaped(stderr, buf);
    fputc('\n', stderr);
}

void pvm_out_note(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pvm_out_vline("note", fmt, ap);
    va_end(ap);
}

void pvm_out_warning(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pvm_out_vline("warning", fmt, ap);
    va_end(ap);
}

/* ---------------------------------------------------------------- tables */

struct pvm_table {
    size_t ncols;
    size_t nrows; /* including the header row */
    size_t cap;
    char **cells; /* nrows * ncols copies */
};

static void pvm_table_push(pvm_table *t, const char *const *cells)
{
    if (t->nrows == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 8;
        t->cells = pvm_xrealloc(t->cells, t->cap * t->ncols * sizeof *t->cells);
    }
    for (size_t c = 0; c < t->ncols; c++) {
        const char *v = cells[c] && cells[c][0] ? cells[c] : "-";
        t->cells[t->nrows * t->ncols + c] = pvm_xstrdup(v);
    }
    t->nrows++;
}

pvm_table *pvm_table_new(size_t ncols, const char *const *headers)
{
    pvm_table *t = pvm_xcalloc(1, sizeof *t);
    t->ncols = ncols;
    pvm_table_push(t, headers);
    return t;
}

void pvm_table_add(pvm_table *t, const char *const *cells)
{
    pvm_table_push(t, cells);
}

void pvm_table_print(const pvm_table *t, FILE *fp)
{
    size_t *w = pvm_xcalloc(t->ncols, sizeof *w);
    for (size_t r = 0; r < t->nrows; r++)
        for (size_t c = 0; c < t->ncols; c++) {
            size_t n = strlen(t->cells[r * t->ncols + c]);
            if (n > w[c])
                w[c] = n;
        }
    for (size_t r = 0; r < t->nrows; r++) {
        for (size_t c = 0; c < t->ncols; c++) {
            const char *v = t->cells[r * t->ncols + c];
            if (c + 1 < t->ncols)
                fprintf(fp, "%-*s  ", (int)w[c], v);
            else
                fprintf(fp, "%s\n", v);
        }
    }
    free(w);
}

void pvm_table_free(pvm_table *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    free(t);
}

/* ---------------------------------------------------------- fields, time */

void pvm_out_field(FILE *fp, int indent, int width, const char *label, const char *value)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s:", label);
    fprintf(fp, "%*s%-*s %s\n", indent, "", width + 1, buf,
            value && value[0] ? value : "-");
}

/* One identity row: value escaped (pvm_escape_ctl), "-" for none. */
static void pvm_out_id_row(FILE *fp, const char *label, const char *value)
{
    char buf[4 * 256];
    pvm_out_field(fp, 2, PVM_OUT_ID_WIDTH, label,
                  value ? pvm_escape_ctl(value, buf, sizeof buf) : NULL);
}

/* The profile fields of one group (in_hw_model == hw), in pvm_profile_fields' order. */
static void pvm_out_id_group(FILE *fp, bool hw, pvm_out_id_value *get, void *ctx)
{
    size_t nf;
    const pvm_field *fields = pvm_profile_fields(&nf);
    for (size_t i = 0; i < nf; i++)
        if (fields[i].in_hw_model == hw)
            pvm_out_id_row(fp, fields[i].label, get(ctx, &fields[i]));
}

void pvm_out_identity(FILE *fp, const char *id_heading, const char *hw_heading, bool hide_row,
                      pvm_out_id_value *get, void *ctx)
{
    fprintf(fp, "\n%s\n", id_heading);
    pvm_out_id_group(fp, false, get, ctx);
    if (hide_row)
        pvm_out_id_row(fp, "Hide hypervisor", get(ctx, NULL));
    fprintf(fp, "\n%s\n", hw_heading);
    pvm_out_id_group(fp, true, get, ctx);
}

const char *pvm_out_time(int64_t t, char *buf, size_t size)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (t <= 0 || !gmtime_r(&tt, &tm) || !strftime(buf, size, "%Y-%m-%d %H:%M:%S UTC", &tm))
        snprintf(buf, size, "-");
    return buf;
}

/* ------------------------------------------------------------------ JSON */

int pvm_out_json(FILE *fp, const struct cJSON *item, pvm_error *err)
{
    char *text = cJSON_Print(item);
    if (!text)
        return pvm_error_set(err, PVM_E_IO, "could not format JSON output");
    fputs(text, fp);
    fputc('\n', fp);
    cJSON_free(text);
    return 0;
}

void pvm_out_json_text(FILE *fp, const char *text)
{
    size_t n = strlen(text);
    fputs(text, fp);
    if (n == 0 || text[n - 1] != '\n')
        fputc('\n', fp);
}

int pvm_out_write_all(int fd, const void *buf, size_t n)
{
    return pvm_write_all(fd, buf, n);
}
