/* cli/cancel.c - the command line's one cancel pipe: SIGINT, SIGTERM and SIGHUP write a
 * byte the engine's long waits poll (pvm_progress.cancel_fd) and are remembered, so a
 * cancelled command ends by that signal once cleaned up (main.c). Used by the commands
 * that run long work: guest build, qemu build, snapshot, install, vm exec and vm copy. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int pvm_cancel_pipe[2] = {-1, -1};
static volatile sig_atomic_t pvm_cancel_sig; /* the first cancelling signal, 0 for none */
static const int pvm_cancel_sigs[] = {SIGINT, SIGTERM, SIGHUP};

/* The first signal is remembered and written to the pipe; the default action comes back
 * for all three, so a second Ctrl-C during the cleanup ends the process at once. */
static void pvm_cancel_on_signal(int sig)
{
    int saved = errno;
    if (!pvm_cancel_sig)
        pvm_cancel_sig = sig;
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    for (size_t i = 0; i < sizeof pvm_cancel_sigs / sizeof pvm_cancel_sigs[0]; i++)
        sigaction(pvm_cancel_sigs[i], &dfl, NULL); /* async-signal-safe */
    if (write(pvm_cancel_pipe[1], "x", 1) < 0) {
        /* full (a byte is already there) or gone: nothing more a handler can do */
    }
    errno = saved;
}

/* fd moved to 3 or above (closed, and -1, when it cannot be): the engine reads a cancel
 * fd of 0 as "no cancel", and stdin is closed when a daemon or `<&-` starts us. */
static int pvm_cancel_above_stdio(int fd)
{
    if (fd > 2)
        return fd;
    int moved = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    close(fd);
    return moved;
}

int pvm_cli_cancel_fd(void)
{
    if (pvm_cancel_pipe[0] >= 0)
        return pvm_cancel_pipe[0];
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return -1;
    p[0] = pvm_cancel_above_stdio(p[0]);
    p[1] = pvm_cancel_above_stdio(p[1]);
    if (p[0] < 0 || p[1] < 0 || fcntl(p[1], F_SETFL, O_NONBLOCK) < 0) {
        if (p[0] >= 0)
            close(p[0]);
        if (p[1] >= 0)
            close(p[1]);
        return -1;
    }
    pvm_cancel_pipe[0] = p[0];
    pvm_cancel_pipe[1] = p[1];
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = pvm_cancel_on_signal;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof pvm_cancel_sigs / sizeof pvm_cancel_sigs[0]; i++)
        sigaddset(&sa.sa_mask, pvm_cancel_sigs[i]);
    for (size_t i = 0; i < sizeof pvm_cancel_sigs / sizeof pvm_cancel_sigs[0]; i++)
        sigaction(pvm_cancel_sigs[i], &sa, NULL);
    return pvm_cancel_pipe[0];
}

int pvm_cli_cancel_signal(void)
{
    return pvm_cancel_sig;
}

int pvm_cli_cancel_exit(int status)
{
    int sig = pvm_cancel_sig;
    if (!sig || status != 128 + sig)
        return status;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    signal(sig, SIG_DFL);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    raise(sig);
    return status; /* not reached: the signal ends the process */
}
