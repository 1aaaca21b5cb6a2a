/* screen.c - a running VM's screen for the front ends: its VNC socket (vm display), its
 * pixels (the TUI's thumbnail), a PNG of it (vm screenshot) and keys pressed on it
 * (vm sendkey), through the backend's screendump and send_keys. Called through pvm.h. */
#include "hv.h"
#include "internal.h"
#include "vm_internal.h"

#include <stdlib.h>
#include <string.h>

#define PVM_KEYS_MAX_CHORDS 64
#define PVM_KEYS_MAX_PER_CHORD 16
#define PVM_KEY_NAME_MAX 24

/* The VM, running, with a display; and its backend. */
static int pvm_screen_vm(pvm_engine *e, const char *name_or_id, pvm_vm *vm,
                         const pvm_hv_ops **hv, void **ctx, pvm_error *err)
{
    if (pvm_vm_get(e, name_or_id, vm, err) < 0 || pvm_engine_hv_load(e, hv, ctx, err) < 0)
        return -1;
    if (vm->display == PVM_DISPLAY_NONE)
        return pvm_error_set_field(err, PVM_E_STATE, "display", "VM '%s' has no display "
                                   "(--display none; its console is the serial line): "
                                   "give it one with 'vm edit %s --display vnc' while it "
                                   "is stopped", vm->name, vm->name);
    if (vm->state != PVM_VM_RUNNING && vm->state != PVM_VM_PAUSED)
        return pvm_error_set(err, PVM_E_STATE, "VM '%s' is %s: its screen is there only "
                             "while it runs (vm start %s)", vm->name,
                             pvm_vm_state_name(vm->state), vm->name);
    return 0;
}

int pvm_vm_display_socket(pvm_engine *e, const char *name_or_id, char *out, size_t size,
                          pvm_error *err)
{
    pvm_vm vm;
    const pvm_hv_ops *hv;
    void *ctx;
    if (pvm_screen_vm(e, name_or_id, &vm, &hv, &ctx, err) < 0)
        return -1;
    return pvm_vm_path(e, &vm, PVM_VM_PATH_VNC_SOCK, out, size, err);
}

int pvm_vm_screen(pvm_engine *e, const char *name_or_id, pvm_image *out, pvm_error *err)
{
    pvm_vm vm;
    const pvm_hv_ops *hv;
    void *ctx;
    memset(out, 0, sizeof *out);
    if (pvm_screen_vm(e, name_or_id, &vm, &hv, &ctx, err) < 0)
        return -1;
    if (!hv->screendump)
        return pvm_error_set(err, PVM_E_STATE, "VM '%s': the %s backend has no screen",
                             vm.name, hv->name);
    return hv->screendump(ctx, &vm, out, err);
}

int pvm_vm_screenshot(pvm_engine *e, const char *name_or_id, const char *png_path,
                      pvm_error *err)
{
    pvm_image img;
    if (!png_path || !*png_path)
        return pvm_error_set_field(err, PVM_E_USAGE, "file", "file: a PNG file name is needed");
    if (pvm_vm_screen(e, name_or_id, &img, err) < 0)
        return -1;
    int rc = pvm_image_write_png(&img, png_path, err);
    pvm_image_free(&img);
    return rc;
}

/* One chord "ctrl-alt-delete": names of [a-z0-9_], joined by single '-'. */
static int pvm_chord_check(const char *chord, size_t len, pvm_error *err)
{
    size_t keys = 1, name = 0;
    for (size_t i = 0; i < len; i++) {
        char c = chord[i];
        if (c == '-') {
            if (name == 0 || i + 1 == len)
                return pvm_error_set_field(err, PVM_E_INVALID, "keys", "keys: '%.*s': an "
                                           "empty key name (chords are key-key, e.g. "
                                           "ctrl-alt-delete)", (int)len, chord);
            keys++;
            name = 0;
        } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_') {
            if (++name > PVM_KEY_NAME_MAX)
                return pvm_error_set_field(err, PVM_E_INVALID, "keys", "keys: '%.*s': a key "
                                           "name is longer than %d", (int)len, chord,
                                           PVM_KEY_NAME_MAX);
        } else {
            return pvm_error_set_field(err, PVM_E_INVALID, "keys", "keys: '%.*s': key names "
                                       "are lower-case QEMU key codes of a-z, 0-9 and '_' "
                                       "(e.g. ret, esc, f2, ctrl-alt-delete)", (int)len, chord);
        }
    }
    if (keys > PVM_KEYS_MAX_PER_CHORD)
        return pvm_error_set_field(err, PVM_E_INVALID, "keys", "keys: '%.*s': at most %d keys "
                                   "at once", (int)len, chord, PVM_KEYS_MAX_PER_CHORD);
    return 0;
}

/* Splits keys at blanks into chords (pointers into *buf, which the caller frees). */
static int pvm_keys_split(const char *keys, char **buf, const char **chords, size_t *n,
                          pvm_error *err)
{
    *n = 0;
    *buf = pvm_xstrdup(keys ? keys : "");
    char *save = NULL;
    for (char *c = strtok_r(*buf, " \t", &save); c; c = strtok_r(NULL, " \t", &save)) {
        if (*n == PVM_KEYS_MAX_CHORDS)
            return pvm_error_set_field(err, PVM_E_INVALID, "keys", "keys: at most %d chords "
                                       "per call", PVM_KEYS_MAX_CHORDS);
        if (pvm_chord_check(c, strlen(c), err) < 0)
            return -1;
        chords[(*n)++] = c;
    }
    if (*n == 0)
        return pvm_error_set_field(err, PVM_E_INVALID, "keys", "keys: none given (e.g. ret, "
                                   "or ctrl-alt-delete)");
    return 0;
}

int pvm_vm_sendkeys(pvm_engine *e, const char *name_or_id, const char *keys, pvm_error *err)
{
    const char *chords[PVM_KEYS_MAX_CHORDS];
    size_t n;
    char *buf = NULL;
    pvm_vm vm;
    const pvm_hv_ops *hv;
    void *ctx;
    int rc = -1;
    if (pvm_keys_split(keys, &buf, chords, &n, err) == 0 &&
        pvm_screen_vm(e, name_or_id, &vm, &hv, &ctx, err) == 0) {
        if (!hv->send_keys)
            pvm_error_set(err, PVM_E_STATE, "VM '%s': the %s backend has no keyboard",
                          vm.name, hv->name);
        else
            rc = hv->send_keys(ctx, &vm, chords, n, err);
    }
    free(buf);
    return rc;
}
