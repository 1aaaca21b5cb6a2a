/* base64.c - RFC 4648 base64 (standard alphabet) for the guest agent's buf-b64,
 * input-data and out-data fields, over Nettle's coder (nettle/base64.h). Called by
 * qga.c; decode sees guest-controlled text. */
#include "qmp.h"

#include <nettle/base64.h>
#include <stdlib.h>
#include <string.h>

size_t pvm_base64_len(size_t len)
{
    return BASE64_ENCODE_RAW_LENGTH(len);
}

size_t pvm_base64_encode_into(const void *data, size_t len, char *out)
{
    base64_encode_raw(out, len, data);
    return pvm_base64_len(len);
}

char *pvm_base64_encode(const void *data, size_t len)
{
    char *out = pvm_xmalloc(pvm_base64_len(len) + 1);
    out[pvm_base64_encode_into(data, len, out)] = '\0';
    return out;
}

static int b64_invalid(unsigned char **out, pvm_error *err, const char *why)
{
    free(*out);
    *out = NULL;
    return pvm_error_set(err, PVM_E_QEMU, "base64: %s", why);
}

int pvm_base64_decode(const char *text, size_t textlen, unsigned char **out, size_t *outlen,
                      pvm_error *err)
{
    /* Nettle skips white space and refuses characters outside the alphabet, a third
     * padding character, data after padding and non-zero bits left in the last group. */
    *out = pvm_xmalloc(BASE64_DECODE_LENGTH(textlen) + 1);
    *outlen = 0;
    if (memchr(text, '\0', textlen))
        return b64_invalid(out, err, "a NUL in the text");
    struct base64_decode_ctx ctx;
    base64_decode_init(&ctx);
    size_t n = 0;
    if (!base64_decode_update(&ctx, &n, *out, textlen, text))
        return b64_invalid(out, err, "invalid character or padding");
    if (!base64_decode_final(&ctx))
        return b64_invalid(out, err, "truncated input (a group of 4 is incomplete)");
    (*out)[n] = '\0';
    *outlen = n;
    return 0;
}
