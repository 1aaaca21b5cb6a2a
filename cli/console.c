/* console.c - the serial console loop behind console.h: stdin to the VM's
 * console socket and back, the terminal in raw mode, Ctrl-] to leave. Called
 * by `vm console` (cmd_vm.c) and the TUI's console key (tui/actions.c). */
#include "console.h"
#include "cli.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

/* Copies stdin -> socket (until Ctrl-] on a terminal) and socket -> stdout.
 * Returns -1 when the terminal went away (read error or hang-up on stdin). */
static int pvm_console_loop(int sock, bool tty, volatile sig_atomic_t *stop)
{
    struct pollfd fds[2] = {{.fd = 0, .events = POLLIN}, {.fd = sock, .events = POLLIN}};
    char buf[4096];
    int64_t drain_until = 0;
    while (!*stop) {
        int r = poll(fds, 2, 200);
        if (r < 0 && errno != EINTR)
            break;
        if (drain_until && pvm_now() > drain_until)
            break;
        if (r <= 0)
            continue;
        if (fds[1].revents) {
            ssize_t n = read(sock, buf, sizeof buf);
            if (n <= 0 || pvm_out_write_all(1, buf, (size_t)n) < 0)
                break;
        }
        if (fds[0].revents) {
            ssize_t n = read(0, buf, sizeof buf);
            if (n < 0 && tty && errno != EINTR && errno != EAGAIN)
                return -1;
            if (n <= 0 && tty)
                return -1; /* a terminal that reads nothing has hung up */
            if (n <= 0) { /* input ended: show what arrives for a moment, then leave */
                fds[0].fd = -1;
                drain_until = pvm_now() + 2;
                continue;
            }
            char *esc = tty ? memchr(buf, PVM_CONSOLE_ESCAPE, (size_t)n) : NULL;
            if (pvm_out_write_all(sock, buf, esc ? (size_t)(esc - buf) : (size_t)n) < 0 || esc)
                break;
        }
    }
    return 0;
}

int pvm_console_attach(int sock, const char *vm, volatile sig_atomic_t *stop)
{
    bool tty = isatty(0);
    struct termios saved, raw;
    if (tty && tcgetattr(0, &saved) == 0) {
        raw = saved;
        cfmakeraw(&raw);
        tcsetattr(0, TCSANOW, &raw);
    } else {
        tty = false;
    }
    signal(SIGPIPE, SIG_IGN);
    fprintf(stderr, "Connected to the console of VM '%s'. Escape key: Ctrl-] (leaves the "
                    "console; the VM keeps running).%s", vm, tty ? "\r\n" : "\n");
    int rc = pvm_console_loop(sock, tty, stop);
    if (tty)
        tcsetattr(0, TCSANOW, &saved);
    fprintf(stderr, "\nConsole closed.\n");
    return rc;
}
