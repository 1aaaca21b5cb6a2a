/* fuzz_profile_json.c - libFuzzer entry for the profile JSON importer, run by `make fuzz`.
 * Checks: no crash or sanitizer report; anything accepted is valid and survives
 * export + import byte for byte; a refused input leaves *out alone. */
#include "../../engine/pvm.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void pvm_fuzz_round_trip(const pvm_profile *p)
{
    pvm_error err = {0};
    pvm_profile q;
    if (pvm_profile_validate(p, &err) != 0)
        abort();
    char *text = pvm_profile_to_json(p);
    pvm_profile_init(&q);
    if (pvm_profile_from_json(text, &q, &err) != 0 || memcmp(p, &q, sizeof q) != 0)
        abort();
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';

    pvm_error err = {0};
    pvm_profile p, sentinel;
    pvm_profile_init(&p);
    memcpy(&sentinel, &p, sizeof p);
    if (pvm_profile_from_json(text, &p, &err) == 0)
        pvm_fuzz_round_trip(&p);
    else if (memcmp(&p, &sentinel, sizeof p) != 0 || err.code != PVM_E_INVALID)
        abort();

    pvm_profile *list = NULL;
    size_t count = 0;
    if (pvm_profile_list_from_json(text, &list, &count, &err) == 0) {
        for (size_t i = 0; i < count; i++)
            pvm_fuzz_round_trip(&list[i]);
        free(list);
    } else if (list != NULL || count != 0) {
        abort();
    }
    free(text);
    return 0;
}
