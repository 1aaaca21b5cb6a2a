/* identity.c - random hardware identities in each vendor's real formats: system, board,
 * chassis and disk serials, MACs, system UUIDs, drawn only through util.c's randomness.
 * Called by the CLI (--random) and engine.c (pvm_profile_randomize_unique). */
#include "pvm.h"

#include <stdio.h>
#include <string.h>

#define DIGITS "0123456789"
#define UPPER "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
#define ALNUM DIGITS UPPER
/* Apple serials leave out I and O (they read as 1 and 0). */
#define APPLE_ALNUM DIGITS "ABCDEFGHJKLMNPQRSTUVWXYZ"
/* Dell service tags: digits and consonants, never a vowel. */
#define DELL_ALNUM DIGITS "BCDFGHJKLMNPQRSTVWXYZ"

/* Appends n characters drawn uniformly from alphabet at *pos. */
static void put_random(char *buf, size_t *pos, size_t n, const char *alphabet)
{
    uint32_t len = (uint32_t)strlen(alphabet);
    for (size_t i = 0; i < n; i++)
        buf[(*pos)++] = alphabet[pvm_random_below(len)];
}

static void put_text(char *buf, size_t *pos, const char *s)
{
    size_t n = strlen(s);
    memcpy(buf + *pos, s, n);
    *pos += n;
}

static const char *pick(const char *const *list, size_t n)
{
    return list[pvm_random_below((uint32_t)n)];
}

#define PICK(list) pick(list, sizeof list / sizeof list[0])

/* Builds the serial into a scratch buffer; the caller copies it out. */
static size_t serial_build(pvm_serial_format fmt, char *b)
{
    static const char *const hp_sites[] = {"5CG", "5CD", "CND", "MXL", "CZC", "8CG"};
    size_t n = 0;

    switch (fmt) {
    case PVM_SERIAL_APPLE: /* C02 + 9, e.g. C02ZK1ABMD6T */
        put_text(b, &n, "C02");
        put_random(b, &n, 9, APPLE_ALNUM);
        break;
    case PVM_SERIAL_DELL: /* service tag, e.g. 7H2Q1D3 */
        put_random(b, &n, 7, DELL_ALNUM);
        break;
    case PVM_SERIAL_LENOVO: /* e.g. PF2ABCDE */
        put_text(b, &n, "PF");
        put_random(b, &n, 6, ALNUM);
        break;
    case PVM_SERIAL_HP: /* site, year digit, week, 4 alnum: 5CG1234XYZ */
        put_text(b, &n, PICK(hp_sites));
        put_random(b, &n, 3, DIGITS);
        put_random(b, &n, 4, ALNUM);
        break;
    case PVM_SERIAL_MICROSOFT: /* 12 digits, e.g. 012345601253 */
        put_random(b, &n, 12, DIGITS);
        break;
    case PVM_SERIAL_ASUS: /* e.g. M7NRCX01D123456 */
        put_random(b, &n, 1, UPPER);
        put_random(b, &n, 14, ALNUM);
        break;
    case PVM_SERIAL_GENERIC:
    default:
        put_random(b, &n, 10, ALNUM);
        break;
    }
    b[n] = '\0';
    return n;
}

void pvm_identity_serial(pvm_serial_format fmt, char *out, size_t size)
{
    char b[32];
    serial_build(fmt, b);
    pvm_strlcpy(out, b, size);
}

/* Samsung NVMe style: S + 3 model code + NX0 + plant letter + 6 digits,
 * e.g. S4EWNX0R123456 (14 characters, within the 20-byte virtio limit). */
void pvm_identity_disk_serial(char *out, size_t size)
{
    char b[32];
    size_t n = 0;
    put_text(b, &n, "S");
    put_random(b, &n, 1, DIGITS);
    put_random(b, &n, 2, UPPER);
    put_text(b, &n, "NX0");
    put_random(b, &n, 1, UPPER);
    put_random(b, &n, 6, DIGITS);
    b[n] = '\0';
    pvm_strlcpy(out, b, size);
}

/* Reads "aa:bb:cc" (case-insensitive) into three octets. */
static int oui_parse(const char *oui, unsigned char o[3])
{
    unsigned int v[3];
    char tail;
    if (!oui || strlen(oui) != 8 ||
        sscanf(oui, "%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &tail) != 3)
        return -1;
    for (int i = 0; i < 3; i++)
        o[i] = (unsigned char)v[i];
    return 0;
}

/* oui NULL (or malformed): a locally administered unicast address, first
 * octet with bit 1 set and bit 0 clear, never all zero. */
void pvm_identity_mac(const char *oui, char out[PVM_MAC_LEN + 1])
{
    unsigned char m[6];
    pvm_random_bytes(m, sizeof m);
    if (oui_parse(oui, m) != 0)
        m[0] = (unsigned char)((m[0] & 0xfc) | 0x02);
    snprintf(out, PVM_MAC_LEN + 1, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1],
             m[2], m[3], m[4], m[5]);
}

/* Board (type 2) serial in the vendor's style, derived from the system serial
 * where the vendor does so (Dell embeds the service tag). */
static void board_serial(pvm_serial_format fmt, const char *serial, char *out, size_t size)
{
    char b[48];
    size_t n = 0;

    switch (fmt) {
    case PVM_SERIAL_APPLE: /* logic board serial: C02 + 14 */
        put_text(b, &n, "C02");
        put_random(b, &n, 14, APPLE_ALNUM);
        break;
    case PVM_SERIAL_DELL: /* /<service tag>/CN<PPID>/ */
        put_text(b, &n, "/");
        put_text(b, &n, serial);
        put_text(b, &n, "/CN");
        put_random(b, &n, 4, ALNUM);
        put_random(b, &n, 4, DIGITS);
        put_random(b, &n, 4, ALNUM);
        put_text(b, &n, "/");
        break;
    case PVM_SERIAL_LENOVO: /* e.g. L1HF0B201Z7 */
        put_text(b, &n, "L1HF");
        put_random(b, &n, 7, ALNUM);
        break;
    case PVM_SERIAL_HP: /* 14 alnum, e.g. PVLKD018JDP0AW */
        put_random(b, &n, 3, UPPER);
        put_random(b, &n, 11, ALNUM);
        break;
    case PVM_SERIAL_MICROSOFT: /* 12 digits, like the system serial */
        put_random(b, &n, 12, DIGITS);
        break;
    case PVM_SERIAL_ASUS: /* 17, e.g. M7NRCX01D12345678 */
        put_random(b, &n, 1, UPPER);
        put_random(b, &n, 16, ALNUM);
        break;
    case PVM_SERIAL_GENERIC:
    default:
        put_random(b, &n, 12, ALNUM);
        break;
    }
    b[n] = '\0';
    pvm_strlcpy(out, b, size);
}

static size_t oui_count(const pvm_preset *preset)
{
    size_t n = 0;
    while (n < sizeof preset->ouis / sizeof preset->ouis[0] && preset->ouis[n])
        n++;
    return n;
}

void pvm_identity_randomize(pvm_profile *p, const pvm_preset *preset)
{
    pvm_serial_format fmt = preset ? preset->serial_format : PVM_SERIAL_GENERIC;
    const char *oui = NULL;
    size_t nouis = preset ? oui_count(preset) : 0;

    if (nouis)
        oui = preset->ouis[pvm_random_below((uint32_t)nouis)];
    pvm_identity_serial(fmt, p->serial, sizeof p->serial);
    board_serial(fmt, p->serial, p->hw.board_serial, sizeof p->hw.board_serial);
    /* Every vendor here repeats the system serial as the chassis serial. */
    pvm_strlcpy(p->hw.chassis_serial, p->serial, sizeof p->hw.chassis_serial);
    pvm_uuid_v4(p->machine_id);
    pvm_identity_mac(oui, p->mac);
    pvm_identity_disk_serial(p->disk_serial, sizeof p->disk_serial);
}
