/* error.c - pvm_error: a code plus a human message naming the field and rule.
 * Set where a failure is understood; printed only by the front ends. */
#include "pvm.h"

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
    }
    return -1;
}

void pvm_error_clear(pvm_error *err)
{
    if (err) {
        err->code = PVM_E_NONE;
        err->msg[0] = '\0';
    }
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

const char *pvm_errcode_name(pvm_errcode code)
{
    static const char *names[] = {
        [PVM_E_NONE] = "ok",           [PVM_E_INVALID] = "invalid",
        [PVM_E_USAGE] = "usage",       [PVM_E_NOTFOUND] = "not-found",
        [PVM_E_EXISTS] = "exists",     [PVM_E_LIMIT] = "limit",
        [PVM_E_STATE] = "state",       [PVM_E_SCHEMA] = "schema",
        [PVM_E_STORE] = "store",       [PVM_E_IO] = "io",
        [PVM_E_BUSY] = "busy",         [PVM_E_QEMU] = "qemu",
    };
    if ((size_t)code < sizeof names / sizeof names[0] && names[code])
        return names[code];
    return "unknown";
}
