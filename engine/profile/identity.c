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

/* ------------------------------------------------------- serial formats
 * Each vendor's system and board serial is a short list of parts: literal
 * text, n characters drawn from an alphabet, one of a list, or the system
 * serial itself (Dell's board serial embeds the service tag). */

typedef enum { PART_END, PART_TEXT, PART_RANDOM, PART_PICK, PART_SERIAL } part_kind;

typedef struct serial_part {
    part_kind kind;
    unsigned n;               /* PART_RANDOM: how many characters */
    const char *s;            /* PART_TEXT: the text; PART_RANDOM: the alphabet */
    const char *const *list;  /* PART_PICK: NULL-terminated choices */
} serial_part;

#define PARTS_MAX 8
#define TEXT(t) {PART_TEXT, 0, t, NULL}
#define RAND(n, alphabet) {PART_RANDOM, n, alphabet, NULL}
#define ONE_OF(l) {PART_PICK, 0, NULL, l}
#define SYSTEM_SERIAL {PART_SERIAL, 0, NULL, NULL}

typedef struct vendor_format {
    pvm_serial_format fmt;
    serial_part system[PARTS_MAX]; /* SMBIOS type 1 (and 3: chassis repeats it) */
    serial_part board[PARTS_MAX];  /* SMBIOS type 2 */
} vendor_format;

static const char *const hp_sites[] = {"5CG", "5CD", "CND", "MXL", "CZC", "8CG", NULL};

/* One row per vendor; the examples are real-looking shapes. The last row
 * (generic) also serves any format without a row of its own. */
static const vendor_format vendor_formats[] = {
    {PVM_SERIAL_APPLE, /* C02ZK1ABMD6T; logic board C02 + 14 */
     {TEXT("C02"), RAND(9, APPLE_ALNUM)},
     {TEXT("C02"), RAND(14, APPLE_ALNUM)}},
    {PVM_SERIAL_DELL, /* service tag 7H2Q1D3; board /<tag>/CN<PPID>/ */
     {RAND(7, DELL_ALNUM)},
     {TEXT("/"), SYSTEM_SERIAL, TEXT("/CN"), RAND(4, ALNUM), RAND(4, DIGITS), RAND(4, ALNUM),
      TEXT("/")}},
    {PVM_SERIAL_LENOVO, /* PF2ABCDE; board L1HF0B201Z7 */
     {TEXT("PF"), RAND(6, ALNUM)},
     {TEXT("L1HF"), RAND(7, ALNUM)}},
    {PVM_SERIAL_HP, /* site, year digit, week, 4 alnum: 5CG1234XYZ; board PVLKD018JDP0AW */
     {ONE_OF(hp_sites), RAND(3, DIGITS), RAND(4, ALNUM)},
     {RAND(3, UPPER), RAND(11, ALNUM)}},
    {PVM_SERIAL_MICROSOFT, /* 012345601253; the board alike */
     {RAND(12, DIGITS)},
     {RAND(12, DIGITS)}},
    {PVM_SERIAL_ASUS, /* M7NRCX01D123456; board M7NRCX01D12345678 */
     {RAND(1, UPPER), RAND(14, ALNUM)},
     {RAND(1, UPPER), RAND(16, ALNUM)}},
    {PVM_SERIAL_GENERIC, {RAND(10, ALNUM)}, {RAND(12, ALNUM)}},
};

/* Samsung NVMe style: S + 3 model code + NX0 + plant letter + 6 digits,
 * e.g. S4EWNX0R123456 (14 characters, within the 20-byte virtio limit). */
static const serial_part disk_format[PARTS_MAX] = {
    TEXT("S"), RAND(1, DIGITS), RAND(2, UPPER), TEXT("NX0"), RAND(1, UPPER), RAND(6, DIGITS),
};

#define NFORMATS (sizeof vendor_formats / sizeof vendor_formats[0])

static const vendor_format *vendor_format_of(pvm_serial_format fmt)
{
    for (size_t i = 0; i < NFORMATS; i++)
        if (vendor_formats[i].fmt == fmt)
            return &vendor_formats[i];
    return &vendor_formats[NFORMATS - 1];
}

static size_t list_length(const char *const *list)
{
    size_t n = 0;
    while (list[n])
        n++;
    return n;
}

/* Appends s to out[*pos..size-1), never past the end. */
static void put_text(char *out, size_t size, size_t *pos, const char *s)
{
    for (; *s && *pos + 1 < size; s++)
        out[(*pos)++] = *s;
}

static void put_random(char *out, size_t size, size_t *pos, unsigned n, const char *alphabet)
{
    uint32_t len = (uint32_t)strlen(alphabet);
    for (unsigned i = 0; i < n && *pos + 1 < size; i++)
        out[(*pos)++] = alphabet[pvm_random_below(len)];
}

/* Writes the parts into out[size] (truncated to fit, always terminated);
 * serial is what PART_SERIAL stands for. */
static void format_build(const serial_part *parts, const char *serial, char *out, size_t size)
{
    size_t pos = 0;
    if (!size)
        return;
    for (size_t i = 0; i < PARTS_MAX && parts[i].kind != PART_END; i++) {
        const serial_part *p = &parts[i];
        if (p->kind == PART_TEXT)
            put_text(out, size, &pos, p->s);
        else if (p->kind == PART_RANDOM)
            put_random(out, size, &pos, p->n, p->s);
        else if (p->kind == PART_PICK)
            put_text(out, size, &pos, p->list[pvm_random_below((uint32_t)list_length(p->list))]);
        else
            put_text(out, size, &pos, serial ? serial : "");
    }
    out[pos] = '\0';
}

void pvm_identity_serial(pvm_serial_format fmt, char *out, size_t size)
{
    format_build(vendor_format_of(fmt)->system, NULL, out, size);
}

void pvm_identity_disk_serial(char *out, size_t size)
{
    format_build(disk_format, NULL, out, size);
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
    format_build(vendor_format_of(fmt)->board, p->serial, p->hw.board_serial,
                 sizeof p->hw.board_serial);
    /* Every vendor here repeats the system serial as the chassis serial. */
    pvm_strlcpy(p->hw.chassis_serial, p->serial, sizeof p->hw.chassis_serial);
    pvm_uuid_v4(p->machine_id);
    pvm_identity_mac(oui, p->mac);
    pvm_identity_disk_serial(p->disk_serial, sizeof p->disk_serial);
}
