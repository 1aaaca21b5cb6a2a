/* cli/cancel.c - the command line's one cancel pipe: SIGINT, SIGTERM and SIGHUP write a
 * byte the engine's long waits poll (pvm_progress.cancel_fd) and are remembered, so a
 * cancelled command exits 128+signal (out.c). Used by the commands that run long work:
 * guest build, qemu build, snapshot, install, vm exec and vm copy. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

static int pvm_cancel_pipe[2] = {-1, -1};
static volatile sig_atomic_t pvm_cancel_sig; /* the first cancelling signal, 0 for none */

static void pvm_cancel_on_signal(int sig)
{
    int saved = errno;
    if (!pvm_cancel_sig)
        pvm_cancel_sig = sig;
    if (write(pvm_cancel_pipe[1], "x", 1) < 0) {
        /* nothing more a signal handler can do */
    }
    errno = saved;
}

int pvm_cli_cancel_fd(void)
{
    if (pvm_cancel_pipe[0] >= 0)
        return pvm_cancel_pipe[0];
    if (pipe2(pvm_cancel_pipe, O_CLOEXEC) < 0)
        return -1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = pvm_cancel_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    return pvm_cancel_pipe[0];
}

int pvm_cli_cancel_signal(void)
{
    return pvm_cancel_sig;
}
