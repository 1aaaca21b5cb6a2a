/* base.h - the base layer's private declarations (engine/base/): what the
 * engine and db/ share below the engine proper. The public part of the base
 * (errors, allocation, enum names, the field table) is declared in pvm.h. */
#ifndef PVM_BASE_H
#define PVM_BASE_H

#include "pvm.h"

/* Puts "[i]." (or "[i]: " for a message about the element itself) in front
 * of err's message: how errors about the i-th profile of a batch read.
 * Used by profile_json.c and engine.c for batches. */
void pvm_error_prefix_index(pvm_error *err, size_t i, bool element);
/* Puts prefix in front of err's message (cut at the end when too long); code
 * and field stay. Used by kvfile.c ("FILE:LINE: ") and profile_json.c. */
void pvm_error_prefix(pvm_error *err, const char *prefix);

#endif
