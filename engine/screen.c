/* screen.c - a running VM's screen for the front ends: its VNC socket (vm display), its
 * pixels (the TUI's thumbnail), a PNG of it (vm screenshot) and keys pressed on it
 * (vm sendkey), through the backend's screendump and send_keys, and the text that says
 * how to reach the screen. Called through pvm.h. */
#include "hv.h"
#include "internal.h"
#include "vm_internal.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PVM_KEYS_MAX_CHORDS 64
#define PVM_KEYS_MAX_PER_CHORD 16
#define PVM_KEY_NAME_MAX 24

/* The VM, running, with a display; and its backend. */
static int pvm_screen_vm(pvm_engine *e, const char *name_or_id, pvm_vm *vm,
                         const pvm_hv_ops **hv, void **ctx, pvm_error *err)
{
    if (pvm_vm_get(e, name_or_id, vm, err) < 0 || pvm_engine_hv_load(e, hv, ctx, err) < 0)
        return -1;
    char qn[PVM_NAME_MAX * 4 + 3];
    pvm_shell_word(vm->name, qn, sizeof qn);
    if (vm->display == PVM_DISPLAY_NONE)
        return pvm_error_set_field(err, PVM_E_STATE, "display", "VM '%s' has no display "
                                   "(--display none; its console is the serial line): "
                                   "give it one while it is stopped: privarion-vm vm edit %s "
                                   "--display vnc", vm->name, qn);
    if (vm->state != PVM_VM_RUNNING && vm->state != PVM_VM_PAUSED)
        return pvm_error_set(err, PVM_E_STATE, "VM '%s' is %s: its screen is there only "
                             "while it runs (vm start %s)", vm->name,
                             pvm_vm_state_name(vm->state), qn);
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

/* QEMU 7.2's QKeyCode names (qapi/ui.json), the names send-key takes: a name outside
 * them is refused here, naming it, before the VM is reached. */
static const char *const pvm_qkeycodes[] = {
    "unmapped", "shift", "shift_r", "alt", "alt_r", "ctrl", "ctrl_r", "menu", "esc", "1", "2",
    "3", "4", "5", "6", "7", "8", "9", "0", "minus", "equal", "backspace", "tab", "q", "w",
    "e", "r", "t", "y", "u", "i", "o", "p", "bracket_left", "bracket_right", "ret", "a", "s",
    "d", "f", "g", "h", "j", "k", "l", "semicolon", "apostrophe", "grave_accent", "backslash",
    "z", "x", "c", "v", "b", "n", "m", "comma", "dot", "slash", "asterisk", "spc",
    "caps_lock", "f1", "f2", "f3", "f4", "f5", "f6", "f7", "f8", "f9", "f10", "num_lock",
    "scroll_lock", "kp_divide", "kp_multiply", "kp_subtract", "kp_add", "kp_enter",
    "kp_decimal", "sysrq", "kp_0", "kp_1", "kp_2", "kp_3", "kp_4", "kp_5", "kp_6", "kp_7",
    "kp_8", "kp_9", "less", "f11", "f12", "print", "home", "pgup", "pgdn", "end", "left",
    "up", "down", "right", "insert", "delete", "stop", "again", "props", "undo", "front",
    "copy", "open", "paste", "find", "cut", "lf", "help", "meta_l", "meta_r", "compose",
    "pause", "ro", "hiragana", "henkan", "yen", "muhenkan", "katakanahiragana", "kp_comma",
    "kp_equals", "power", "sleep", "wake", "audionext", "audioprev", "audiostop", "audioplay",
    "audiomute", "volumeup", "volumedown", "mediaselect", "mail", "calculator", "computer",
    "ac_home", "ac_back", "ac_forward", "ac_refresh", "ac_bookmarks", "lang1", "lang2", "f13",
    "f14", "f15", "f16", "f17", "f18", "f19", "f20", "f21", "f22", "f23", "f24",
};

static bool pvm_qkeycode_known(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof pvm_qkeycodes / sizeof pvm_qkeycodes[0]; i++)
        if (strlen(pvm_qkeycodes[i]) == len && memcmp(pvm_qkeycodes[i], name, len) == 0)
            return true;
    return false;
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
    for (size_t i = 0; i < len;) {
        size_t n = strcspn(chord + i, "-");
        n = i + n > len ? len - i : n;
        if (!pvm_qkeycode_known(chord + i, n))
            return pvm_error_set_field(err, PVM_E_INVALID, "keys", "keys: '%.*s' is not a key "
                                       "name QEMU knows (e.g. a, 1, ret, esc, tab, spc, f2, "
                                       "ctrl, alt, shift, delete, up, kp_enter)", (int)n,
                                       chord + i);
        i += n + 1;
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

/* " --home DIR" for a shell (DIR one shell word), "" without a home flag. */
static void pvm_home_arg(const char *home_flag, char *out, size_t size)
{
    char word[PVM_PATH_MAX * 4 + 3];
    out[0] = '\0';
    if (home_flag && *home_flag)
        snprintf(out, size, " --home %s", pvm_shell_word(home_flag, word, sizeof word));
}

void pvm_display_howto_text(const char *vm, const char *sock, const char *home_flag, char *out,
                            size_t size)
{
    char home[PVM_PATH_MAX * 4 + 16], qvm[PVM_NAME_MAX * 4 + 3];
    pvm_home_arg(home_flag, home, sizeof home);
    char host[256] = "HOST";
    struct passwd *pw = getpwuid(getuid());
    if (gethostname(host, sizeof host) < 0)
        pvm_strlcpy(host, "HOST", sizeof host);
    host[sizeof host - 1] = '\0';
    snprintf(out, size,
             "VM '%s' shows its screen over VNC on a unix socket only you can open:\n"
             "  %s\n\n"
             "From your own machine, forward a local port to it over SSH and point a VNC\n"
             "viewer at that port:\n"
             "  ssh -N -L 5901:%s %s@%s\n"
             "  vncviewer localhost:5901\n\n"
             "On this machine, forward a loopback port yourself:\n"
             "  privarion-vm%s vm display %s --port 5901\n",
             vm, sock, sock, pw ? pw->pw_name : "USER", host, home,
             pvm_shell_word(vm, qvm, sizeof qvm));
}
