/* qemu/tpm.c - the VM's TPM 2.0 (--tpm): one swtpm per VM (Debian's swtpm package), started
 * before QEMU with its state in the VM's folder (tpm/) and its control socket in the runtime
 * folder; --terminate makes it end when QEMU closes the socket, and the runtime cleanup ends
 * a leftover one. Called by backend.c. */
#include "qemu/qemu.h"
#include "vm_internal.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PVM_SWTPM "swtpm"
#define PVM_SWTPM_START_MS 10000

/* swtpm splits its option values on commas with no escape: such a path is refused. */
static int pvm_tpm_path_ok(const char *path, pvm_error *err)
{
    if (strchr(path, ','))
        return pvm_error_set_field(err, PVM_E_INVALID, "tpm", "tpm: swtpm cannot take a path "
                                   "with a comma (%s); use a data folder without one", path);
    return 0;
}

int pvm_qemu_tpm_start(const char *state_dir, const char *sock, const char *pidfile,
                       const char *log, pvm_error *err)
{
    if (pvm_tpm_path_ok(state_dir, err) < 0 || pvm_tpm_path_ok(sock, err) < 0 ||
        pvm_tpm_path_ok(pidfile, err) < 0 || pvm_tpm_path_ok(log, err) < 0)
        return -1;
    if (mkdir(state_dir, 0700) < 0 && errno != EEXIST)
        return pvm_error_set(err, PVM_E_IO, "%s: cannot create: %s", state_dir, strerror(errno));
    char *state = pvm_xasprintf("dir=%s,mode=0600", state_dir);
    char *ctrl = pvm_xasprintf("type=unixio,path=%s,mode=0600", sock);
    char *pid = pvm_xasprintf("file=%s", pidfile);
    char *lg = pvm_xasprintf("file=%s", log);
    char *argv[] = {PVM_SWTPM, "socket", "--tpm2", "--tpmstate", state, "--ctrl", ctrl,
                    "--pid", pid, "--log", lg, "--daemon", "--terminate", NULL};
    pid_t child;
    int status = 0, rc = pvm_proc_spawn(argv, log, &child, err);
    if (rc == 0) {
        int w = pvm_proc_wait_child(child, PVM_SWTPM_START_MS, NULL, NULL, &status, err);
        if (w != 1) {
            kill(child, SIGKILL);
            pvm_proc_wait_child(child, 5000, NULL, NULL, &status, NULL);
            rc = pvm_error_set_field(err, PVM_E_QEMU, "tpm", "tpm: swtpm did not start within "
                                     "%d s", PVM_SWTPM_START_MS / 1000);
        } else if (status == 127) {
            rc = pvm_error_set_field(err, PVM_E_NOTFOUND, "tpm", "tpm: swtpm is not installed "
                                     "(apt-get install swtpm swtpm-tools)");
        } else if (status != 0) {
            char tail[300];
            pvm_proc_tail(log, 2, tail, sizeof tail);
            rc = pvm_error_set_field(err, PVM_E_QEMU, "tpm", "tpm: swtpm exited with status "
                                     "%d: %s", status, tail);
        }
    }
    free(state);
    free(ctrl);
    free(pid);
    free(lg);
    return rc;
}

void pvm_qemu_tpm_stop(const char *pidfile, const char *run_dir)
{
    int pid = pvm_proc_pid_read(pidfile);
    if (pid > 0 && pvm_proc_alive(pid) && pvm_proc_signal_checked(pid, run_dir, SIGTERM) == 1)
        pvm_proc_wait_gone(pid, 3000, NULL, NULL, NULL);
    unlink(pidfile);
}
