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

/* Joins the non-empty lines of in (a child's output, a log's end), trimmed and
 * with control bytes as spaces, with "; " into out: whole lines only, as many
 * as fit in size, counted from the first lines or (keep_last) the last ones.
 * A single line longer than all the room is cut and ends "...". Returns out.
 * How QEMU's and qemu-img's words reach an error message. */
char *pvm_text_lines(const char *in, bool keep_last, char *out, size_t size);

/* json.c: parses text[0..len) with cJSON (hooks installed first). whole: the
 * value must fill the text but for trailing whitespace. On failure returns
 * NULL and, when error_at is given, the byte offset where cJSON stopped, taken
 * from this call's own end pointer (never from cJSON's global error pointer,
 * which another thread may be writing). Free with cJSON_Delete. */
struct cJSON;
struct cJSON *pvm_json_parse_bytes(const char *text, size_t len, bool whole, size_t *error_at);

#endif
