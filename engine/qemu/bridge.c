/* qemu/bridge.c - whether --net bridge=BR can work here: QEMU's setuid qemu-bridge-helper
 * makes the tap, and only for bridges /etc/qemu/bridge.conf allows ("allow BR" or
 * "allow all"). Checked before a start so the user gets the fix, not QEMU's exit.
 * Called by backend.c and doctor.c. */
#include "qemu/qemu.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PVM_BRIDGE_CONF "/etc/qemu/bridge.conf"

const char *pvm_qemu_bridge_helper(void)
{
    return "/usr/lib/qemu/qemu-bridge-helper";
}

/* 1 when bridge.conf has "allow BR" or "allow all" (no include files followed). */
static int pvm_bridge_allowed(const char *br)
{
    FILE *fp = fopen(PVM_BRIDGE_CONF, "re");
    if (!fp)
        return 0;
    char line[256], word[16], name[64];
    int ok = 0;
    while (!ok && fgets(line, sizeof line, fp))
        if (sscanf(line, " %15s %63s", word, name) == 2 && !strcmp(word, "allow") &&
            (!strcmp(name, br) || !strcmp(name, "all")))
            ok = 1;
    fclose(fp);
    return ok;
}

int pvm_qemu_bridge_check(const char *br, pvm_error *err)
{
    struct stat st;
    const char *helper = pvm_qemu_bridge_helper();
    if (stat(helper, &st) < 0)
        return pvm_error_set_field(err, PVM_E_NOTFOUND, "net", "net: bridge=%s needs %s "
                                   "(apt-get install qemu-system-common)", br, helper);
    if (geteuid() != 0 && (!(st.st_mode & S_ISUID) || st.st_uid != 0))
        return pvm_error_set_field(err, PVM_E_STATE, "net", "net: bridge=%s: %s is not setuid "
                                   "root, so it cannot make a tap for you; as root: chmod u+s "
                                   "%s (or use --net user)", br, helper, helper);
    if (!pvm_bridge_allowed(br))
        return pvm_error_set_field(err, PVM_E_STATE, "net", "net: bridge=%s is not allowed by "
                                   PVM_BRIDGE_CONF "; as root: mkdir -p /etc/qemu && echo "
                                   "'allow %s' >> " PVM_BRIDGE_CONF " (or use --net user)",
                                   br, br);
    return 0;
}
