/* build.h - what the stealth QEMU's two files share (build.c: the build itself;
 * build_state.c: the cache folder, status, cached builds, pruning, the pick). Included by
 * those two only; the API is in pvm.h and qemu.h. */
#ifndef PVM_QEMU_BUILD_H
#define PVM_QEMU_BUILD_H

#include "qemu/qemu.h"

#include <stddef.h>

#define PVM_QB_PKG "qemu-system-x86"   /* the binary package whose source we build */
#define PVM_QB_SERIES_DIR "patches/qemu-7.2"
#define PVM_QB_BINARY "qemu-system-x86_64"
#define PVM_QB_STAMP "stamp"

/* The configure line (build.c), part of the key; n of them. */
extern const char *const pvm_qb_configure[];
extern const size_t pvm_qb_nconfigure;

/* Writes text to path through a temporary file and a rename (mode 0644). */
int pvm_qb_write(const char *path, const char *text, pvm_error *err);
/* Runs argv (no shell) for at most timeout_ms; 0 with *out (malloc'd, may be NULL: not
 * wanted; trimmed of its last newline) when it exits 0, else -1 with err naming what and
 * its output's end. */
int pvm_qb_run(char *const *argv, int timeout_ms, const char *what, char **out,
               pvm_error *err);
/* rm -rf --one-file-system path. */
int pvm_qb_rm_rf(const char *path, pvm_error *err);
/* The series file's patch names in dir, in order (*names malloc'd: pvm_qb_names_free). */
int pvm_qb_series(const char *dir, char ***names, int *count, pvm_error *err);
void pvm_qb_names_free(char **names, int n);
/* After a new build of s->key: removes every other key's build, log, lock and work
 * folder (not a key whose lock another process holds), naming them in s->removed. */
void pvm_qb_prune(pvm_qemu_stealth *s);

#endif
