/* share.c - where the program's shipped files (themes, the guest builder) are: the
 * checkout the running binary sits in, else the installed share folder PVM_SHARE_DIR.
 * Called by engine/guest.c and tui/theme_parse.c. */
#include "pvm.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#ifndef PVM_SHARE_DIR
#define PVM_SHARE_DIR "/usr/local/share/privarion-vm"
#endif

const char *pvm_share_dir(void)
{
    return PVM_SHARE_DIR;
}

int pvm_exe_dir(char *out, size_t size)
{
    char buf[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    char *slash = strrchr(buf, '/');
    if (!slash)
        return -1;
    *slash = '\0';
    if (strlen(buf) + 1 > size)
        return -1;
    pvm_strlcpy(out, buf[0] ? buf : "/", size);
    return 0;
}

int pvm_share_find(const char *checkout_rel, const char *share_rel, char *out, size_t size)
{
    char dir[PVM_PATH_MAX];
    if (pvm_exe_dir(dir, sizeof dir) == 0) {
        int n = snprintf(out, size, "%s/%s", dir, checkout_rel);
        if (n > 0 && (size_t)n < size && access(out, F_OK) == 0)
            return 0;
    }
    int n = snprintf(out, size, "%s/%s", PVM_SHARE_DIR, share_rel);
    if (n > 0 && (size_t)n < size && access(out, F_OK) == 0)
        return 0;
    out[0] = '\0';
    return -1;
}

int pvm_theme_name_check(const char *name, pvm_error *err)
{
    size_t len = strlen(name);
    if (len == 0 || len > 64 || name[0] == '.' ||
        strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != len)
        return pvm_error_set_field(err, PVM_E_INVALID, "theme",
                                   "theme: a theme name is 1 to 64 letters, digits, '_', '.' "
                                   "or '-', not starting with '.'");
    return 0;
}
