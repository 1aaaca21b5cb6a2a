/* profile.c - the hardware profile: defaults, validators and checked setters
 * (the field table itself is engine/base/fields.c).
 * Called by the JSON code, the command line and the TUI forms. */
#include "pvm.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

int pvm_profile_vcpus(const pvm_profile *p)
{
    unsigned long cores = pvm_profile_num(p->hw.cpu_cores, 0);
    unsigned long threads = pvm_profile_num(p->hw.cpu_threads, 1);
    if (!cores)
        return 0;
    unsigned long n = cores * (threads ? threads : 1);
    return n > 255 ? 255 : (int)n;
}

int pvm_profile_vcpus_note(const pvm_profile *p, int cpus, char *out, size_t size)
{
    int want = pvm_profile_vcpus(p);
    if (size)
        out[0] = '\0';
    if (!want || cpus == want)
        return 0;
    unsigned long threads = pvm_profile_num(p->hw.cpu_threads, 1);
    bool even = threads > 1 && cpus % (int)threads == 0;
    snprintf(out, size,
             "%d vCPU%s contradict%s profile '%s': its CPU (%s) has %s cores x %lu threads = "
             "%d; the guest will see %d core%s with %lu thread%s each (use --cpus %d to match)",
             cpus, cpus == 1 ? "" : "s", cpus == 1 ? "s" : "", p->name,
             p->hw.cpu_model[0] ? p->hw.cpu_model : "no brand", p->hw.cpu_cores, threads, want,
             even ? cpus / (int)threads : cpus, (even ? cpus / (int)threads : cpus) == 1 ? "" : "s",
             even ? threads : 1ul, even && threads > 1 ? "s" : "", want);
    return 1;
}

void pvm_profile_init(pvm_profile *p)
{
    memset(p, 0, sizeof *p);
    p->hide_hypervisor = true;
}

/* ------------------------------------------------------------ validators */

/* Timestamps stay exact through JSON (whose numbers are doubles): 2^53 - 1. */
#define PVM_TIME_MAX 9007199254740991LL
#define PVM_SHOW_MAX 40 /* longest value echoed back in an error message */

/* Fills buf with ` (got "VALUE")` when the value is printable and short,
 * else with an empty string, so hostile bytes never reach the terminal. */
static const char *pvm_shown(const char *s, char *buf, size_t size)
{
    size_t n = strnlen(s, PVM_SHOW_MAX + 1);
    buf[0] = '\0';
    if (n == 0 || n > PVM_SHOW_MAX)
        return buf;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
            return buf;
    snprintf(buf, size, " (got \"%s\")", s);
    return buf;
}

/* Finds the first byte that is not printable ASCII; returns its index or -1. */
static long pvm_first_unprintable(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c > 0x7e)
            return (long)i;
    }
    return -1;
}

/* Error for the unprintable byte at index i (reported 1-based). */
static int pvm_unprintable_error(const char *what, const char *s, long i, pvm_error *err)
{
    unsigned char c = (unsigned char)s[i];
    const char *kind = c >= 0x80 ? "a non-ASCII byte" : "a control character";
    return pvm_error_set_field(err, PVM_E_INVALID, what,
                               "%s: must be printable ASCII; contains %s at byte %ld", what, kind,
                               i + 1);
}

/* Printable ASCII and at most max bytes: the rule every identity string shares. */
int pvm_validate_text(const char *what, const char *s, size_t max, pvm_error *err)
{
    if (!s)
        return pvm_error_set_field(err, PVM_E_INVALID, what, "%s: missing value", what);
    size_t n = strlen(s);
    if (n > max)
        return pvm_error_set_field(err, PVM_E_INVALID, what,
                                   "%s: must be at most %zu bytes (got %zu)", what, max, n);
    long bad = pvm_first_unprintable(s, n);
    if (bad >= 0)
        return pvm_unprintable_error(what, s, bad, err);
    return 0;
}

static bool pvm_name_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == ' ' || c == '.' || c == '_' || c == '-';
}

static bool pvm_matches_hex_pattern(const char *s, const char *pattern);

/* Names become folder names later, so "." and ".." are refused too; and as
 * commands take NAME|ID, a name may not have the shape of an id. */
static int pvm_validate_name_chars(const char *what, const char *name, pvm_error *err)
{
    char shown[PVM_SHOW_MAX + 16];
    if (!name || !name[0])
        return pvm_error_set_field(err, PVM_E_INVALID, what, "%s: must not be empty", what);
    size_t n = strlen(name);
    if (n > PVM_NAME_MAX)
        return pvm_error_set_field(err, PVM_E_INVALID, what,
                                   "%s: must be at most %d characters (got %zu)", what,
                                   PVM_NAME_MAX, n);
    for (size_t i = 0; i < n; i++) {
        if (pvm_name_char(name[i]))
            continue;
        unsigned char c = (unsigned char)name[i];
        if (c >= 0x20 && c <= 0x7e)
            return pvm_error_set_field(err, PVM_E_INVALID, what,
                                       "%s: may only contain letters, digits, space, '.', '_' and "
                                       "'-'; found '%c' at byte %zu",
                                       what, c, i + 1);
        return pvm_error_set_field(err, PVM_E_INVALID, what,
                                   "%s: may only contain letters, digits, space, '.', '_' and '-'; "
                                   "found %s at byte %zu",
                                   what, c >= 0x80 ? "a non-ASCII byte" : "a control character",
                                   i + 1);
    }
    if (name[0] == ' ' || name[n - 1] == ' ')
        return pvm_error_set_field(err, PVM_E_INVALID, what,
                                   "%s: must not begin or end with a space%s", what,
                                   pvm_shown(name, shown, sizeof shown));
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return pvm_error_set_field(err, PVM_E_INVALID, what, "%s: must not be \".\" or \"..\"",
                                   what);
    if (pvm_matches_hex_pattern(name, "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"))
        return pvm_error_set_field(
            err, PVM_E_INVALID, what,
            "%s: must not have the form of a UUID (ids are given the same way)", what);
    return 0;
}

/* A new name also starts with a letter or digit: "-x" would read as an option on the
 * command line, ".x" as a hidden file. */
int pvm_validate_name(const char *what, const char *name, pvm_error *err)
{
    char shown[PVM_SHOW_MAX + 16];
    if (pvm_validate_name_chars(what, name, err) < 0)
        return -1;
    char c = name[0];
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
        return pvm_error_set_field(err, PVM_E_INVALID, what,
                                   "%s: must start with a letter or digit%s", what,
                                   pvm_shown(name, shown, sizeof shown));
    return 0;
}

static bool pvm_is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int pvm_hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return c - 'A' + 10;
}

/* Checks s against a pattern where 'x' is a hex digit and any other char is literal. */
static bool pvm_matches_hex_pattern(const char *s, const char *pattern)
{
    size_t n = strlen(pattern);
    if (strnlen(s, n + 1) != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (pattern[i] == 'x' ? !pvm_is_hex(s[i]) : s[i] != pattern[i])
            return false;
    }
    return true;
}

/* Empty, or a non-printable or garbled value: shared preamble of the format checks.
 * Returns 1 for "empty, accepted", -1 for an error, 0 to go on checking. */
static int pvm_format_preamble(const char *what, const char *s, pvm_error *err)
{
    if (!s)
        return pvm_error_set_field(err, PVM_E_INVALID, what, "%s: missing value", what);
    if (!s[0])
        return 1;
    size_t n = strnlen(s, PVM_TEXT_MAX + 1);
    long bad = pvm_first_unprintable(s, n);
    if (bad >= 0)
        return pvm_unprintable_error(what, s, bad, err);
    return 0;
}

int pvm_validate_uuid(const char *what, const char *s, pvm_error *err)
{
    char shown[PVM_SHOW_MAX + 16];
    int r = pvm_format_preamble(what, s, err);
    if (r)
        return r > 0 ? 0 : -1;
    if (!pvm_matches_hex_pattern(s, "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"))
        return pvm_error_set_field(err, PVM_E_INVALID, what,
                                   "%s: must be a UUID of 32 hex digits in the form "
                                   "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx%s",
                                   what, pvm_shown(s, shown, sizeof shown));
    if (strspn(s, "0-") == strlen(s) || strspn(s, "fF-") == strlen(s))
        return pvm_error_set_field(err, PVM_E_INVALID, what,
                                   "%s: must not be all zeros or all ones (SMBIOS reads those as "
                                   "\"not set\" and \"not present\")",
                                   what);
    return 0;
}

int pvm_validate_mac(const char *what, const char *s, pvm_error *err)
{
    char shown[PVM_SHOW_MAX + 16];
    int r = pvm_format_preamble(what, s, err);
    if (r)
        return r > 0 ? 0 : -1;
    if (!pvm_matches_hex_pattern(s, "xx:xx:xx:xx:xx:xx"))
        return pvm_error_set_field(err, PVM_E_INVALID, what,
                                   "%s: must be six hex octets separated by colons, e.g. "
                                   "02:00:00:00:00:01%s",
                                   what, pvm_shown(s, shown, sizeof shown));
    if (pvm_hex_value(s[1]) & 1)
        return pvm_error_set_field(err, PVM_E_INVALID, what,
                                   "%s: must be a unicast address; the first octet must be even%s",
                                   what, pvm_shown(s, shown, sizeof shown));
    if (strcmp(s, "00:00:00:00:00:00") == 0)
        return pvm_error_set_field(err, PVM_E_INVALID, what, "%s: must not be all zero", what);
    return 0;
}

static int pvm_digits(const char *s, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

static int pvm_days_in_month(int month, int year)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : days[month - 1];
}

int pvm_validate_date(const char *what, const char *s, pvm_error *err)
{
    char shown[PVM_SHOW_MAX + 16];
    int r = pvm_format_preamble(what, s, err);
    if (r)
        return r > 0 ? 0 : -1;
    bool shape = strnlen(s, 11) == 10 && s[2] == '/' && s[5] == '/';
    for (size_t i = 0; shape && i < 10; i++)
        if (i != 2 && i != 5 && (s[i] < '0' || s[i] > '9'))
            shape = false;
    if (!shape)
        return pvm_error_set_field(err, PVM_E_INVALID, what,
                                   "%s: must be MM/DD/YYYY, e.g. 03/15/2021%s", what,
                                   pvm_shown(s, shown, sizeof shown));
    int month = pvm_digits(s, 2), day = pvm_digits(s + 3, 2), year = pvm_digits(s + 6, 4);
    if (year < 1980 || year > 2099)
        return pvm_error_set_field(err, PVM_E_INVALID, what,
                                   "%s: year must be between 1980 and 2099%s", what,
                                   pvm_shown(s, shown, sizeof shown));
    if (month < 1 || month > 12 || day < 1 || day > pvm_days_in_month(month, year))
        return pvm_error_set_field(err, PVM_E_INVALID, what, "%s: must be a real calendar date%s",
                                   what, pvm_shown(s, shown, sizeof shown));
    return 0;
}

/* ------------------------------------------------------ numbers, chassis */

/* Decimal, or 0x-hex, digits only (no sign, no spaces), in [min, max]; empty accepted.
 * On success *v holds the value. */
static int pvm_validate_uint(const pvm_field *f, const char *s, unsigned long *v, pvm_error *err)
{
    char shown[PVM_SHOW_MAX + 16];
    int r = pvm_format_preamble(f->path, s, err);
    if (r)
        return r > 0 ? 0 : -1;
    bool hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
    const char *d = hex ? s + 2 : s;
    size_t n = strlen(d);
    bool ok = n > 0 && n <= 10;
    for (size_t i = 0; ok && i < n; i++)
        ok = hex ? pvm_is_hex(d[i]) : (d[i] >= '0' && d[i] <= '9');
    unsigned long long x = 0;
    for (size_t i = 0; ok && i < n; i++)
        x = x * (hex ? 16 : 10) + (unsigned long long)pvm_hex_value(d[i]);
    if (!ok || x < f->min || x > f->max)
        return pvm_error_set_field(err, PVM_E_INVALID, f->key,
                                   "%s: must be a whole number from %lu to %lu (decimal or "
                                   "0x-hex)%s",
                                   f->path, f->min, f->max, pvm_shown(s, shown, sizeof shown));
    *v = (unsigned long)x;
    return 0;
}

static int pvm_validate_chassis(const char *what, const char *s, pvm_error *err)
{
    char shown[PVM_SHOW_MAX + 16];
    int r = pvm_format_preamble(what, s, err);
    if (r)
        return r > 0 ? 0 : -1;
    if (pvm_chassis_code(s))
        return 0;
    char names[400] = "";
    size_t n, len = 0;
    const pvm_chassis_type *t = pvm_chassis_types(&n);
    for (size_t i = 0; i < n && len < sizeof names; i++)
        len += (size_t)snprintf(names + len, sizeof names - len, "%s%s", i ? ", " : "",
                                t[i].name);
    return pvm_error_set_field(err, PVM_E_INVALID, what, "%s: must be one of %s%s", what, names,
                               pvm_shown(s, shown, sizeof shown));
}

/* ------------------------------------------------------ setters, validate */

static int pvm_field_rules(const pvm_field *f, const char *value, pvm_error *err)
{
    switch (f->kind) {
    case PVM_FK_DATE:
        return pvm_validate_date(f->path, value, err);
    case PVM_FK_UUID:
        return pvm_validate_uuid(f->path, value, err);
    case PVM_FK_MAC:
        return pvm_validate_mac(f->path, value, err);
    case PVM_FK_DISK_SERIAL:
        return pvm_validate_text(f->path, value, PVM_DISK_SERIAL_MAX, err);
    case PVM_FK_UINT:
    case PVM_FK_HEX: {
        unsigned long v;
        return pvm_validate_uint(f, value, &v, err);
    }
    case PVM_FK_CHASSIS:
        return pvm_validate_chassis(f->path, value, err);
    case PVM_FK_TEXT:
    default:
        return pvm_validate_text(f->path, value, f->size - 1, err);
    }
}

/* The message opens with the field's path ("hardwareModel.product: ...", as JSON import
 * and --help name it); err->field is its key, where the front ends place it. */
static int pvm_field_check(const pvm_field *f, const char *value, pvm_error *err)
{
    if (pvm_field_rules(f, value, err) == 0)
        return 0;
    if (err)
        pvm_strlcpy(err->field, f->key, sizeof err->field);
    return -1;
}

int pvm_profile_set(pvm_profile *p, const pvm_field *f, const char *value, pvm_error *err)
{
    if (!f)
        return pvm_error_set(err, PVM_E_INVALID, "unknown profile field");
    if (pvm_field_check(f, value, err) < 0)
        return -1;
    size_t n = strlen(value);
    if (n >= f->size) /* cannot happen after the checks; never truncate */
        return pvm_error_set_field(err, PVM_E_INVALID, f->key, "%s: must be at most %zu bytes",
                                   f->path, f->size - 1);
    char *dst = pvm_profile_field_ptr(p, f);
    if ((f->kind == PVM_FK_UINT || f->kind == PVM_FK_HEX) && value[0]) {
        unsigned long v = 0; /* stored canonical: decimal, or lower-case 0x-hex */
        pvm_validate_uint(f, value, &v, NULL);
        memset(dst, 0, f->size);
        snprintf(dst, f->size, f->kind == PVM_FK_HEX ? "0x%lx" : "%lu", v);
        return 0;
    }
    bool lower = f->kind == PVM_FK_UUID || f->kind == PVM_FK_MAC;
    for (size_t i = 0; i < n; i++)
        dst[i] = lower && value[i] >= 'A' && value[i] <= 'Z' ? (char)(value[i] + 32) : value[i];
    memset(dst + n, 0, f->size - n);
    return 0;
}

int pvm_profile_set_name(pvm_profile *p, const char *name, pvm_error *err)
{
    if (pvm_validate_name("name", name, err) < 0)
        return -1;
    memset(p->name, 0, sizeof p->name);
    memcpy(p->name, name, strlen(name));
    return 0;
}

/* A char array read from memory may lack its NUL; check before any strlen. */
static int pvm_terminated(const char *what, const char *s, size_t size, pvm_error *err)
{
    if (strnlen(s, size) == size)
        return pvm_error_set_field(err, PVM_E_INVALID, what, "%s: must be at most %zu bytes", what,
                                   size - 1);
    return 0;
}

static int pvm_validate_extras(const pvm_profile *p, pvm_error *err)
{
    if (pvm_terminated("id", p->id, sizeof p->id, err) < 0 ||
        pvm_validate_uuid("id", p->id, err) < 0)
        return -1;
    if (pvm_terminated("preset", p->preset, sizeof p->preset, err) < 0 ||
        pvm_validate_text("preset", p->preset, PVM_NAME_MAX, err) < 0)
        return -1;
    if (p->created_at < 0 || p->created_at > PVM_TIME_MAX)
        return pvm_error_set_field(err, PVM_E_INVALID, "createdAt",
                                   "createdAt: must be between 0 and %lld",
                                   (long long)PVM_TIME_MAX);
    if (p->updated_at < 0 || p->updated_at > PVM_TIME_MAX)
        return pvm_error_set_field(err, PVM_E_INVALID, "updatedAt",
                                   "updatedAt: must be between 0 and %lld",
                                   (long long)PVM_TIME_MAX);
    return 0;
}

/* Every field, first error wins: name, then the table in order, then id,
 * preset and the timestamps. An empty id is accepted (not yet stored). stored_name: the
 * name is one already in the store, kept by an edit (only the rules names had when it was
 * stored apply: it may start with '-', '.' or '_'). */
static int pvm_profile_check(const pvm_profile *p, bool stored_name, pvm_error *err)
{
    if (pvm_terminated("name", p->name, sizeof p->name, err) < 0 ||
        (stored_name ? pvm_validate_name_chars("name", p->name, err)
                     : pvm_validate_name("name", p->name, err)) < 0)
        return -1;
    size_t nfields;
    const pvm_field *fields = pvm_profile_fields(&nfields);
    for (size_t i = 0; i < nfields; i++) {
        const pvm_field *f = &fields[i];
        const char *v = pvm_profile_field_cptr(p, f);
        if (pvm_terminated(f->path, v, f->size, err) < 0) {
            if (err)
                pvm_strlcpy(err->field, f->key, sizeof err->field);
            return -1;
        }
        if (pvm_field_check(f, v, err) < 0)
            return -1;
    }
    return pvm_validate_extras(p, err);
}

int pvm_profile_validate(const pvm_profile *p, pvm_error *err)
{
    return pvm_profile_check(p, false, err);
}

int pvm_profile_validate_stored(const pvm_profile *p, pvm_error *err)
{
    return pvm_profile_check(p, true, err);
}
