/* serial_shape.h - the vendor serial-number shapes documented beside
 * pvm_serial_format in engine/pvm.h, as test predicates. Included by
 * tests/unit/test_identity.c and tests/unit/test_preset.c only. */
#ifndef PVM_TEST_SERIAL_SHAPE_H
#define PVM_TEST_SERIAL_SHAPE_H

#include <stdbool.h>
#include <string.h>

#include "../../engine/pvm.h"

#define DIGITS "0123456789"
#define UPPER "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
#define ALNUM DIGITS UPPER

/* True when the first n bytes of s are all in alphabet (and none is NUL). */
static inline bool all_in(const char *s, size_t n, const char *alphabet)
{
    for (size_t i = 0; i < n; i++)
        if (!s[i] || !strchr(alphabet, s[i]))
            return false;
    return true;
}

/* True when s has the shape of format fmt. Dell service tags and Apple
 * serials leave out the letters their vendors never use. */
static inline bool serial_shape_ok(pvm_serial_format fmt, const char *s)
{
    size_t n = strlen(s);
    switch (fmt) {
    case PVM_SERIAL_APPLE:
        return n == 12 && strncmp(s, "C02", 3) == 0 &&
               all_in(s + 3, 9, DIGITS "ABCDEFGHJKLMNPQRSTUVWXYZ");
    case PVM_SERIAL_DELL:
        return n == 7 && all_in(s, 7, DIGITS "BCDFGHJKLMNPQRSTVWXYZ");
    case PVM_SERIAL_LENOVO:
        return n == 8 && strncmp(s, "PF", 2) == 0 && all_in(s + 2, 6, ALNUM);
    case PVM_SERIAL_HP:
        return n == 10 && all_in(s, 3, ALNUM) && all_in(s + 3, 3, DIGITS) &&
               all_in(s + 6, 4, ALNUM);
    case PVM_SERIAL_MICROSOFT:
        return n == 12 && all_in(s, 12, DIGITS);
    case PVM_SERIAL_ASUS:
        return n == 15 && all_in(s, 1, UPPER) && all_in(s, 15, ALNUM);
    case PVM_SERIAL_GENERIC:
        return n == 10 && all_in(s, 10, ALNUM);
    }
    return false;
}

/* True when s has the shape of format fmt's board (SMBIOS type 2) serial;
 * serial is the system serial Dell's board serial embeds. */
static inline bool board_shape_ok(pvm_serial_format fmt, const char *s, const char *serial)
{
    size_t n = strlen(s), k = strlen(serial);
    switch (fmt) {
    case PVM_SERIAL_APPLE:
        return n == 17 && strncmp(s, "C02", 3) == 0 &&
               all_in(s + 3, 14, DIGITS "ABCDEFGHJKLMNPQRSTUVWXYZ");
    case PVM_SERIAL_DELL:
        return n == k + 17 && s[0] == '/' && strncmp(s + 1, serial, k) == 0 &&
               strncmp(s + 1 + k, "/CN", 3) == 0 && all_in(s + k + 4, 4, ALNUM) &&
               all_in(s + k + 8, 4, DIGITS) && all_in(s + k + 12, 4, ALNUM) && s[n - 1] == '/';
    case PVM_SERIAL_LENOVO:
        return n == 11 && strncmp(s, "L1HF", 4) == 0 && all_in(s + 4, 7, ALNUM);
    case PVM_SERIAL_HP:
        return n == 14 && all_in(s, 3, UPPER) && all_in(s + 3, 11, ALNUM);
    case PVM_SERIAL_MICROSOFT:
        return n == 12 && all_in(s, 12, DIGITS);
    case PVM_SERIAL_ASUS:
        return n == 17 && all_in(s, 1, UPPER) && all_in(s, 17, ALNUM);
    case PVM_SERIAL_GENERIC:
        return n == 12 && all_in(s, 12, ALNUM);
    }
    return false;
}

#endif
