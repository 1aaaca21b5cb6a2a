/* unix_peer.h - a listening unix socket for the fake QMP and guest-agent peers
 * of test_qmp.c and test_qga_proto.c (header only: each test is its own binary). */
#ifndef PVM_TEST_UNIX_PEER_H
#define PVM_TEST_UNIX_PEER_H

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "../../engine/pvm.h"

/* Binds and listens on path; -1 on any failure. */
static int listen_unix(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    pvm_strlcpy(sa.sun_path, path, sizeof sa.sun_path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 4) < 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

#endif
