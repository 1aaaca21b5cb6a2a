/* base64.c - RFC 4648 base64 (standard alphabet) for the guest agent's
 * buf-b64 / out-data fields. Called by qga.c; decode sees guest-controlled text. */
#include "qmp.h"

#include <stdlib.h>
#include <string.h>

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *pvm_base64_encode(const void *data, size_t len)
{
    const unsigned char *in = data;
    char *out = pvm_xmalloc((len + 2) / 3 * 4 + 1);
    size_t o = 0, i = 0;
    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = b64_alphabet[v >> 18 & 63];
        out[o++] = b64_alphabet[v >> 12 & 63];
        out[o++] = b64_alphabet[v >> 6 & 63];
        out[o++] = b64_alphabet[v & 63];
    }
    if (i < len) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)in[i + 1] << 8;
        out[o++] = b64_alphabet[v >> 18 & 63];
        out[o++] = b64_alphabet[v >> 12 & 63];
        out[o++] = i + 1 < len ? b64_alphabet[v >> 6 & 63] : '=';
        out[o++] = '=';
    }
    out[o] = '\0';
    return out;
}

/* Value of one alphabet character, -1 for anything else. */
static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

static int b64_invalid(unsigned char **out, pvm_error *err, const char *why, size_t at)
{
    free(*out);
    *out = NULL;
    return pvm_error_set(err, PVM_E_QEMU, "base64: %s at offset %zu", why, at);
}

int pvm_base64_decode(const char *text, size_t textlen, unsigned char **out, size_t *outlen,
                      pvm_error *err)
{
    *out = pvm_xmalloc(textlen / 4 * 3 + 3 + 1);
    *outlen = 0;
    uint32_t acc = 0;
    size_t nbits_chars = 0, o = 0, pad = 0;
    for (size_t i = 0; i < textlen; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
            continue;
        if (c == '=') {
            pad++;
            continue;
        }
        int v = b64_value(c);
        if (v < 0)
            return b64_invalid(out, err, "invalid character", i);
        if (pad)
            return b64_invalid(out, err, "data after padding", i);
        acc = acc << 6 | (uint32_t)v;
        if (++nbits_chars == 4) {
            (*out)[o++] = (unsigned char)(acc >> 16);
            (*out)[o++] = (unsigned char)(acc >> 8);
            (*out)[o++] = (unsigned char)acc;
            acc = 0;
            nbits_chars = 0;
        }
    }
    /* nbits_chars left over: 0 (needs no padding), 2 (one byte), 3 (two bytes). */
    if (nbits_chars == 1)
        return b64_invalid(out, err, "truncated input", textlen);
    if (pad && (nbits_chars == 0 || pad != 4 - nbits_chars))
        return b64_invalid(out, err, "wrong padding", textlen);
    if (nbits_chars == 2) {
        (*out)[o++] = (unsigned char)(acc >> 4);
    } else if (nbits_chars == 3) {
        (*out)[o++] = (unsigned char)(acc >> 10);
        (*out)[o++] = (unsigned char)(acc >> 2);
    }
    (*out)[o] = '\0';
    *outlen = o;
    return 0;
}
