/* numbers.c - the whole-number, memory and disk size rules shared by every way a
 * value enters (command line, config file, TUI forms, the engine's own checks).
 * Called by cli/cmd_vm.c, engine/config.c, engine/vm.c and tui/. */
#include "pvm.h"

#include <stdio.h>
#include <string.h>

int pvm_int_parse(const char *what, const char *s, int min, int max, int *out, pvm_error *err)
{
    long long v = 0;
    const char *p = s;
    if (!s || !*s)
        return pvm_error_set_field(err, PVM_E_INVALID, what, "%s: must not be empty", what);
    for (; *p >= '0' && *p <= '9' && v <= max; p++)
        v = v * 10 + (*p - '0');
    if (*p && !(*p >= '0' && *p <= '9'))
        return pvm_error_set_field(err, PVM_E_INVALID, what, "%s: must be a whole number from "
                                   "%d to %d written in digits only (no sign or blanks), not "
                                   "'%.40s'", what, min, max, s);
    if (*p || v < min || v > max)
        return pvm_error_set_field(err, PVM_E_INVALID, what, "%s: must be a whole number from "
                                   "%d to %d, not %.40s", what, min, max, s);
    *out = (int)v;
    return 0;
}

int pvm_memory_check(const char *what, uint64_t bytes, pvm_error *err)
{
    char buf[32];
    if (bytes < PVM_MEMORY_MIN)
        return pvm_error_set_field(err, PVM_E_INVALID, what, "%s: must be at least 32M, not %s",
                                   what, pvm_size_format(bytes, buf, sizeof buf));
    if (bytes % (1024 * 1024))
        return pvm_error_set_field(err, PVM_E_INVALID, what, "%s: must be a whole number of "
                                   "MiB, not %s", what, pvm_size_format(bytes, buf, sizeof buf));
    return 0;
}

int pvm_disk_check(const char *what, uint64_t bytes, pvm_error *err)
{
    char buf[32];
    if (bytes < PVM_DISK_MIN)
        return pvm_error_set_field(err, PVM_E_INVALID, what, "%s: must be at least 1M, not %s",
                                   what, pvm_size_format(bytes, buf, sizeof buf));
    return 0;
}

/* pvm_size_parse, and a bare number refused: "4096" is 4096 MiB to a QEMU
 * user and 4096 bytes to qemu-img, so the unit must be written. */
static int pvm_size_with_unit(const char *what, const char *s, uint64_t *out, pvm_error *err)
{
    uint64_t v;
    if (pvm_size_parse(what, s, &v, err) < 0) {
        if (err)
            pvm_strlcpy(err->field, what, sizeof err->field);
        return -1;
    }
    size_t n = strlen(s);
    if (s[n - 1] >= '0' && s[n - 1] <= '9')
        return pvm_error_set_field(err, PVM_E_INVALID, what, "%s: %.30s has no unit: %.30sM? "
                                   "(write K, M, G or T, powers of 1024; B for bytes)", what,
                                   s, s);
    *out = v;
    return 0;
}

int pvm_memory_parse(const char *what, const char *s, uint64_t *out, pvm_error *err)
{
    uint64_t v;
    if (pvm_size_with_unit(what, s, &v, err) < 0 || pvm_memory_check(what, v, err) < 0)
        return -1;
    *out = v;
    return 0;
}

int pvm_disk_parse(const char *what, const char *s, uint64_t *out, pvm_error *err)
{
    uint64_t v;
    if (pvm_size_with_unit(what, s, &v, err) < 0 || pvm_disk_check(what, v, err) < 0)
        return -1;
    *out = v;
    return 0;
}
