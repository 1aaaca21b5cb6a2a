/* error.c - pvm_error: a code plus a human message naming the field and rule.
 * Set where a failure is understood; printed only by the front ends. */
#include "base/base.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int pvm_error_set(pvm_error *err, pvm_errcode code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->code = code;
        err->field[0] = '\0';
    }
    return -1;
}

int pvm_error_set_field(pvm_error *err, pvm_errcode code, const char *field, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->code = code;
        snprintf(err->field, sizeof err->field, "%s", field ? field : "");
    }
    return -1;
}

int pvm_error_exit_status(const pvm_error *err)
{
    switch (err ? err->code : PVM_E_NONE) {
    case PVM_E_NONE:
        return 0;
    case PVM_E_INVALID:
    case PVM_E_USAGE:
    case PVM_E_NOTFOUND:
    case PVM_E_EXISTS:
    case PVM_E_LIMIT:
        return 2;
    default:
        return 1;
    }
}

void pvm_error_prefix_index(pvm_error *err, size_t i, bool element)
{
    if (!err)
        return;
    char tmp[sizeof err->msg];
    snprintf(tmp, sizeof tmp, element ? "[%zu]: %s" : "[%zu].%s", i, err->msg);
    memcpy(err->msg, tmp, sizeof err->msg);
}

void pvm_error_prefix(pvm_error *err, const char *prefix)
{
    if (!err)
        return;
    size_t h = strnlen(prefix, sizeof err->msg - 1);
    size_t m = strnlen(err->msg, sizeof err->msg - 1);
    if (h + m >= sizeof err->msg)
        m = sizeof err->msg - 1 - h;
    memmove(err->msg + h, err->msg, m);
    memcpy(err->msg, prefix, h);
    err->msg[h + m] = '\0';
}
