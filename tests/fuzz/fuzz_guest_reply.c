/* fuzz_guest_reply.c - libFuzzer entry for what a guest (or QEMU) sends us: the
 * bounded line reader, the JSON object parser and the base64 decoder behind the
 * QMP and guest-agent clients. Run with `make fuzz`.
 * Checks: no crash or sanitizer report, every read ends (data, EOF or error),
 * and whatever base64 decodes survives an encode + decode round trip. */
#include "../../engine/pvm.h"
#include "../../engine/qemu/qmp.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Feeds data through a socketpair into the reader until it reports EOF or an error. */
static void pvm_fuzz_stream(const uint8_t *data, size_t size)
{
    int sv[2];
    if (size > 60000 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
        return;
    if (write(sv[1], data, size) != (ssize_t)size) {
        close(sv[0]);
        close(sv[1]);
        return;
    }
    close(sv[1]);
    pvm_rpc r;
    pvm_rpc_init_fd(&r, sv[0], "guest agent");
    r.line_max = 4096;
    pvm_error err = {0};
    for (int i = 0; i < 1000; i++) {
        cJSON *obj = NULL;
        int rc = (i == 0 && size && data[0] == 0xff)
                     ? pvm_rpc_skip_to_byte(&r, 0xff, pvm_rpc_deadline(1000), &err)
                     : pvm_rpc_read_json(&r, &obj, pvm_rpc_deadline(1000), &err);
        cJSON_Delete(obj);
        if (rc <= 0)
            break;
    }
    pvm_rpc_close(&r);
}

static void pvm_fuzz_base64(const uint8_t *data, size_t size)
{
    unsigned char *out = NULL;
    size_t n = 0;
    pvm_error err = {0};
    if (pvm_base64_decode((const char *)data, size, &out, &n, &err) != 0)
        return;
    char *again = pvm_base64_encode(out, n);
    unsigned char *back = NULL;
    size_t m = 0;
    if (pvm_base64_decode(again, strlen(again), &back, &m, &err) != 0 || m != n ||
        (n && memcmp(back, out, n) != 0))
        abort();
    free(back);
    free(again);
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pvm_fuzz_stream(data, size);
    pvm_fuzz_base64(data, size);
    return 0;
}
