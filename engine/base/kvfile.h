/* kvfile.h - the one reader of "key = value" text files (the config file, the
 * TUI's theme files). Declares pvm_kvfile_read; kvfile.c implements it.
 * Callers: engine/config.c, tui/theme.c. */
#ifndef PVM_KVFILE_H
#define PVM_KVFILE_H

#include "pvm.h"

#define PVM_KVFILE_LINE_MAX 1024         /* longest line, in bytes, without its line end */
#define PVM_KVFILE_SIZE_MAX (1024 * 1024) /* largest file, in bytes */

/* Called once per "key = value" line, in file order. key is [A-Za-z0-9_.-]+,
 * value is the text after the first '=' with blanks around it removed (may be
 * ""); both point into the reader's buffer and live until the callback
 * returns. path and line say where the pair is. Returns 0, or -1 with err
 * filled: the reader then puts "PATH:LINE: " in front of err->msg (keeping
 * err->code and err->field) and stops. */
typedef int (*pvm_kvfile_pair_fn)(void *ctx, const char *path, int line, const char *key,
                                  const char *value, pvm_error *err);

/* Reads path as UTF-8 text: an optional UTF-8 byte-order mark, LF or CRLF line
 * ends, blank lines and lines whose first non-blank is '#' skipped (a '#'
 * inside a value is part of the value). Refused, each as "PATH:LINE: ..."
 * with PVM_E_INVALID: a line longer than PVM_KVFILE_LINE_MAX bytes, a control
 * byte other than tab (NUL, ESC ...) or bytes that are not UTF-8 ("binary"),
 * a line without '=', an empty or malformed key, and a key given twice
 * (naming both lines). A file over PVM_KVFILE_SIZE_MAX is refused as a whole.
 * A missing file is PVM_E_NOTFOUND, an unreadable one PVM_E_IO, both naming the
 * path and errno's text. The whole file is checked before on_pair is called
 * for its first pair, so a syntax error anywhere takes effect before any value.
 * Returns 0 or -1. */
int pvm_kvfile_read(const char *path, pvm_kvfile_pair_fn on_pair, void *ctx, pvm_error *err);

#endif
