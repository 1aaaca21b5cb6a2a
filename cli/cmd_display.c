/* cmd_display.c - `privarion-vm vm display|screenshot|sendkey`: how to reach a VM's VNC
 * socket (the ssh -L line and viewer command), a loopback TCP forwarder to it (--port)
 * that admits only connections of its own user (pvm_tcp_peer_uid),
 * a PNG of the screen and keys pressed on it, through the engine's screen API (pvm.h).
 * Called through cmd_vm.c's table. */
#include "cli.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define PVM_N(a) (sizeof(a) / sizeof((a)[0]))
#define PVM_FWD_PAIRS 8 /* viewers served at once by --port */

/* --------------------------------------------------------------- vm display */

static const pvm_opt pvm_display_opts[] = {
    {"port", 0, true, "N", "forward 127.0.0.1:N to the VM's VNC socket until Ctrl-C (for a "
                           "viewer on this machine, or an 'ssh -L' to that port); other "
                           "users' connections are dropped"},
};

const pvm_opt *pvm_vm_display_options(size_t *n)
{
    *n = PVM_N(pvm_display_opts);
    return pvm_display_opts;
}

static void pvm_display_howto(const char *vm, const char *sock, const char *home_flag)
{
    char text[4096];
    pvm_display_howto_text(vm, sock, home_flag, text, sizeof text);
    fputs(text, stdout);
}

static int pvm_fwd_listen(int port, pvm_error *err)
{
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return pvm_error_set(err, PVM_E_IO, "port: socket: %s", strerror(errno));
    int one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(s, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(s, 4) < 0) {
        int e = errno;
        close(s);
        return pvm_error_set_field(err, e == EADDRINUSE ? PVM_E_EXISTS : PVM_E_IO, "port",
                                   "port: 127.0.0.1:%d: %s", port, strerror(e));
    }
    return s;
}

static int pvm_fwd_connect(const char *sock)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    pvm_strlcpy(sa.sun_path, sock, sizeof sa.sun_path);
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s >= 0 && connect(s, (struct sockaddr *)&sa, sizeof sa) < 0) {
        close(s);
        s = -1;
    }
    return s;
}

/* Copies what one side has to the other; false when either side is done. */
static bool pvm_fwd_pump(int from, int to)
{
    char buf[65536];
    ssize_t n = read(from, buf, sizeof buf);
    return n > 0 && pvm_out_write_all(to, buf, (size_t)n) == 0;
}

static volatile sig_atomic_t pvm_fwd_stop;

static void pvm_fwd_signal(int sig)
{
    (void)sig;
    pvm_fwd_stop = 1;
}

/* Whether the connection c comes from a socket of our own user: VNC has no password
 * here, so another local user's connection to the loopback port is dropped. */
static bool pvm_fwd_ours(int c, const struct sockaddr_storage *peer)
{
    struct sockaddr_storage ours;
    socklen_t len = sizeof ours;
    uid_t uid;
    pvm_error e = {0};
    if (getsockname(c, (struct sockaddr *)&ours, &len) < 0 ||
        pvm_tcp_peer_uid((const struct sockaddr *)peer, (const struct sockaddr *)&ours, &uid,
                         &e) < 0) {
        pvm_out_warning("refused a connection whose user is unknown: %s",
                        e.msg[0] ? e.msg : strerror(errno));
        return false;
    }
    if (uid != getuid()) {
        pvm_out_warning("refused a connection from uid %u: only uid %u may see this screen",
                        (unsigned)uid, (unsigned)getuid());
        return false;
    }
    return true;
}

/* pairs[i] = {tcp client, unix socket} or {-1, -1}. */
static void pvm_fwd_accept(int lsn, const char *sock, int pairs[][2])
{
    struct sockaddr_storage peer;
    socklen_t len = sizeof peer;
    int c = accept4(lsn, (struct sockaddr *)&peer, &len, SOCK_CLOEXEC);
    if (c < 0)
        return;
    if (!pvm_fwd_ours(c, &peer)) {
        close(c);
        return;
    }
    for (int i = 0; i < PVM_FWD_PAIRS; i++) {
        if (pairs[i][0] >= 0)
            continue;
        int u = pvm_fwd_connect(sock);
        if (u < 0)
            break;
        pairs[i][0] = c;
        pairs[i][1] = u;
        return;
    }
    close(c); /* full, or the VM's socket is gone */
}

static void pvm_fwd_loop(int lsn, const char *sock)
{
    int pairs[PVM_FWD_PAIRS][2];
    for (int i = 0; i < PVM_FWD_PAIRS; i++)
        pairs[i][0] = pairs[i][1] = -1;
    struct stat st;
    while (!pvm_fwd_stop && stat(sock, &st) == 0) {
        struct pollfd p[1 + 2 * PVM_FWD_PAIRS] = {{.fd = lsn, .events = POLLIN}};
        for (int i = 0; i < PVM_FWD_PAIRS; i++)
            for (int k = 0; k < 2; k++)
                p[1 + 2 * i + k] = (struct pollfd){.fd = pairs[i][k], .events = POLLIN};
        if (poll(p, PVM_N(p), 1000) <= 0)
            continue;
        if (p[0].revents & POLLIN)
            pvm_fwd_accept(lsn, sock, pairs);
        for (int i = 0; i < PVM_FWD_PAIRS; i++) {
            bool ok = true;
            for (int k = 0; k < 2 && ok; k++)
                if (p[1 + 2 * i + k].revents)
                    ok = pvm_fwd_pump(pairs[i][k], pairs[i][1 - k]);
            if (!ok) {
                close(pairs[i][0]);
                close(pairs[i][1]);
                pairs[i][0] = pairs[i][1] = -1;
            }
        }
    }
    for (int i = 0; i < PVM_FWD_PAIRS; i++)
        for (int k = 0; k < 2; k++)
            if (pairs[i][k] >= 0)
                close(pairs[i][k]);
}

int pvm_vm_display_run(pvm_cli *cli, const pvm_args *a, pvm_error *err)
{
    int port = 0;
    const char *v = pvm_args_value(a, "port");
    char sock[PVM_PATH_MAX];
    pvm_engine *e;
    if ((v && pvm_int_parse("port", v, 1, 65535, &port, err) < 0) ||
        !(e = pvm_cli_engine(cli, err)) ||
        pvm_vm_display_socket(e, a->pos[0], sock, sizeof sock, err) < 0)
        return -1;
    if (!port) {
        pvm_display_howto(a->pos[0], sock, cli->home_flag);
        return 0;
    }
    int lsn = pvm_fwd_listen(port, err);
    if (lsn < 0)
        return -1;
    struct sigaction sa = {.sa_handler = pvm_fwd_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    printf("Forwarding 127.0.0.1:%d to the screen of VM '%s' (vncviewer localhost:%d); Ctrl-C "
           "ends it\n", port, a->pos[0], port);
    fflush(stdout);
    pvm_fwd_loop(lsn, sock);
    close(lsn);
    if (!pvm_fwd_stop)
        printf("VM '%s' stopped: its screen is gone\n", a->pos[0]);
    return 0;
}

/* ------------------------------------------------------- screenshot, sendkey */

int pvm_vm_screenshot_run(pvm_cli *cli, const pvm_args *a, pvm_error *err)
{
    pvm_engine *e;
    pvm_image img;
    if (!(e = pvm_cli_engine(cli, err)) || pvm_vm_screen(e, a->pos[0], &img, err) < 0)
        return -1;
    int rc = pvm_image_write_png(&img, a->pos[1], err);
    if (rc == 0)
        printf("Wrote %s (%dx%d)%s\n", a->pos[1], img.width, img.height,
               pvm_image_blank(&img) ? "; the screen is blank (one colour)" : "");
    pvm_image_free(&img);
    return rc;
}

int pvm_vm_sendkey_run(pvm_cli *cli, const pvm_args *a, pvm_error *err)
{
    size_t len = 1;
    for (size_t i = 1; i < a->npos; i++)
        len += strlen(a->pos[i]) + 1;
    char *keys = pvm_xcalloc(1, len);
    for (size_t i = 1; i < a->npos; i++) {
        strcat(keys, a->pos[i]);
        strcat(keys, " ");
    }
    pvm_engine *e = pvm_cli_engine(cli, err);
    int rc = e ? pvm_vm_sendkeys(e, a->pos[0], keys, err) : -1;
    free(keys);
    return rc;
}
