/* smbios.c - builds the raw SMBIOS type 0 (BIOS information) structure that
 * QEMU is given with `-smbios file=`, so the "virtual machine" bit stays clear
 * (QEMU's own type 0 sets it). Called by vm_ops.c before start. */
#include "qemu.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define T0_LEN 0x18          /* formatted area, SMBIOS 2.4+ layout */
#define T0_HANDLE 0x0000
#define T0_SEGMENT 0xE800    /* BIOS starting address segment */
#define T0_ROM_SIZE 0x0F     /* 64K * (n + 1) = 1 MB */

/* Characteristics (SMBIOS 3.x, 7.1.1): PCI (7), PnP (9), BIOS upgradeable (11),
 * shadowing allowed (12), boot from CD (15), selectable boot (16), EDD (19),
 * int 5h print screen (26), int 9h 8042 keyboard (27), int 14h serial (28),
 * int 17h printer (29), int 10h CGA/mono video (30). */
#define T0_CHARACTERISTICS 0x000000007C099A80ull
/* Extension byte 1: ACPI (0), USB legacy (1). */
#define T0_EXT1 0x03
/* Extension byte 2: BIOS Boot Specification (0), targeted content distribution (2).
 * Bit 4, "system is a virtual machine", is deliberately clear. */
#define T0_EXT2 0x05

static unsigned long pvm_digits_at(const char **s)
{
    unsigned long v = 0;
    for (; **s >= '0' && **s <= '9'; (*s)++)
        v = v > 100000 ? v : v * 10 + (unsigned long)(**s - '0');
    return v;
}

/* Release major.minor: the first "N.M" in the version (Lenovo "N2HET70W (1.53 )"
 * -> 1.53), else the first number with minor 0 ("A12" -> 12.0); 0xFF 0xFF when
 * there is none or a number does not fit a byte (the spec's "not supported"). */
static void pvm_bios_release(const char *version, unsigned char *major, unsigned char *minor)
{
    *major = *minor = 0xFF;
    const char *first = NULL;
    for (const char *s = version; *s; s++) {
        if (*s < '0' || *s > '9' || (s > version && s[-1] >= '0' && s[-1] <= '9'))
            continue;
        const char *t = s;
        unsigned long maj = pvm_digits_at(&t), min = 0;
        if (*t == '.' && t[1] >= '0' && t[1] <= '9') {
            t++;
            min = pvm_digits_at(&t);
        } else {
            if (!first)
                first = s;
            continue;
        }
        if (maj <= 0xFE && min <= 0xFE) {
            *major = (unsigned char)maj;
            *minor = (unsigned char)min;
        }
        return;
    }
    if (first) {
        unsigned long maj = pvm_digits_at(&first);
        if (maj <= 0xFE) {
            *major = (unsigned char)maj;
            *minor = 0;
        }
    }
}

/* Appends a string to the string area; returns its 1-based index, 0 for "". */
static unsigned char pvm_t0_string(unsigned char *buf, size_t *pos, unsigned char *next,
                                   const char *s)
{
    if (!*s)
        return 0;
    size_t n = strlen(s) + 1;
    memcpy(buf + *pos, s, n);
    *pos += n;
    return (*next)++;
}

static int pvm_t0_check(const char *what, const char *s, pvm_error *err)
{
    if (strlen(s) > PVM_TEXT_MAX)
        return pvm_error_set_field(err, PVM_E_INVALID, what, "%s: at most %d bytes", what,
                                   PVM_TEXT_MAX);
    for (const unsigned char *c = (const unsigned char *)s; *c; c++)
        if (*c < 0x20 || *c > 0x7e)
            return pvm_error_set_field(err, PVM_E_INVALID, what, "%s: must be printable ASCII",
                                       what);
    return 0;
}

int pvm_smbios_type0(const pvm_hw_model *hw, unsigned char *buf, size_t cap, size_t *len,
                     pvm_error *err)
{
    if (pvm_t0_check("biosVendor", hw->bios_vendor, err) ||
        pvm_t0_check("biosVersion", hw->bios_version, err) ||
        pvm_t0_check("biosDate", hw->bios_date, err))
        return -1;
    size_t need = T0_LEN + strlen(hw->bios_vendor) + strlen(hw->bios_version) +
                  strlen(hw->bios_date) + 3 + 2;
    if (cap < need)
        return pvm_error_set(err, PVM_E_INVALID, "smbios type 0: buffer of %zu bytes, %zu needed",
                             cap, need);
    memset(buf, 0, T0_LEN);
    buf[0] = 0;                      /* type */
    buf[1] = T0_LEN;                 /* length of the formatted area */
    buf[2] = T0_HANDLE & 0xFF;
    buf[3] = T0_HANDLE >> 8;
    buf[6] = T0_SEGMENT & 0xFF;
    buf[7] = T0_SEGMENT >> 8;
    buf[9] = T0_ROM_SIZE;
    for (int i = 0; i < 8; i++)
        buf[10 + i] = (unsigned char)(T0_CHARACTERISTICS >> (8 * i));
    buf[18] = T0_EXT1;
    buf[19] = T0_EXT2;
    pvm_bios_release(hw->bios_version, &buf[20], &buf[21]);
    buf[22] = 0xFF;                  /* embedded controller: none */
    buf[23] = 0xFF;

    size_t pos = T0_LEN;
    unsigned char next = 1;
    buf[4] = pvm_t0_string(buf, &pos, &next, hw->bios_vendor);
    buf[5] = pvm_t0_string(buf, &pos, &next, hw->bios_version);
    buf[8] = pvm_t0_string(buf, &pos, &next, hw->bios_date);
    if (next == 1)                   /* no strings: the area is two NULs */
        buf[pos++] = 0;
    buf[pos++] = 0;
    *len = pos;
    return 0;
}

static int pvm_write_all(int fd, const unsigned char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int pvm_smbios_type0_write(const pvm_hw_model *hw, const char *path, pvm_error *err)
{
    unsigned char buf[T0_LEN + 3 * (PVM_TEXT_MAX + 1) + 2];
    size_t len;
    if (pvm_smbios_type0(hw, buf, sizeof buf, &len, err))
        return -1;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return pvm_error_set(err, PVM_E_IO, "%s: %s", path, strerror(errno));
    if (fchmod(fd, 0600) || pvm_write_all(fd, buf, len)) {
        int e = errno;
        close(fd);
        return pvm_error_set(err, PVM_E_IO, "%s: %s", path, strerror(e));
    }
    if (close(fd))
        return pvm_error_set(err, PVM_E_IO, "%s: %s", path, strerror(errno));
    return 0;
}
