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

/* kvfile.c: reads "key = value" lines from path (UTF-8 BOM and CRLF accepted, '#'
 * comments and blank lines skipped, keys and values trimmed) and calls on_pair for each,
 * in file order, with the 1-based line number. A line over 1024 bytes, a NUL byte, a
 * line without '=', an empty key or a key given twice (naming both lines) is an error
 * "path:line: ..."; so is whatever on_pair returns -1 for (it fills err itself). A
 * missing file is PVM_E_NOTFOUND. Returns 0 or -1. */
typedef int (*pvm_kvfile_pair_fn)(void *ctx, const char *path, int line, const char *key,
                                  const char *value, pvm_error *err);
int pvm_kvfile_read(const char *path, pvm_kvfile_pair_fn on_pair, void *ctx, pvm_error *err);

#endif
