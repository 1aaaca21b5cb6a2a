/* test_tcp_peer.c - unit tests of engine/base/tcp_peer.c (pvm_tcp_peer_uid) against real
 * loopback connections made here, over IPv4 and IPv6: the uid of the connecting socket
 * is ours, and another user's (a child that drops to nobody, when run as root) is his. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../engine/pvm.h"

/* A listener on the loopback address of family af, port chosen by the kernel. */
static int listen_loopback(int af, struct sockaddr_storage *at)
{
    memset(at, 0, sizeof *at);
    socklen_t len;
    if (af == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)at;
        in->sin_family = AF_INET;
        in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        len = sizeof *in;
    } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)at;
        in6->sin6_family = AF_INET6;
        in6->sin6_addr = in6addr_loopback;
        len = sizeof *in6;
    }
    int s = socket(af, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(s >= 0);
    assert_int_equal(bind(s, (struct sockaddr *)at, len), 0);
    assert_int_equal(listen(s, 4), 0);
    len = sizeof *at;
    assert_int_equal(getsockname(s, (struct sockaddr *)at, &len), 0);
    return s;
}

static int connect_to(const struct sockaddr_storage *at)
{
    int c = socket(at->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    socklen_t len = at->ss_family == AF_INET ? sizeof(struct sockaddr_in)
                                              : sizeof(struct sockaddr_in6);
    if (c >= 0 && connect(c, (const struct sockaddr *)at, len) < 0) {
        close(c);
        c = -1;
    }
    return c;
}

/* Accepts one connection on lsn; *uid gets its peer's owner; returns pvm_tcp_peer_uid's. */
static int accept_uid(int lsn, uid_t *uid, pvm_error *err)
{
    struct sockaddr_storage peer, ours;
    socklen_t plen = sizeof peer, olen = sizeof ours;
    int a = accept4(lsn, (struct sockaddr *)&peer, &plen, SOCK_CLOEXEC);
    assert_true(a >= 0);
    assert_int_equal(getsockname(a, (struct sockaddr *)&ours, &olen), 0);
    int rc = pvm_tcp_peer_uid((struct sockaddr *)&peer, (struct sockaddr *)&ours, uid, err);
    close(a);
    return rc;
}

static void check_own(int af)
{
    struct sockaddr_storage at;
    int lsn = listen_loopback(af, &at);
    int c = connect_to(&at);
    assert_true(c >= 0);
    uid_t uid = (uid_t)-1;
    pvm_error err = {0};
    assert_int_equal(accept_uid(lsn, &uid, &err), 0);
    assert_int_equal(uid, getuid());
    close(c);
    close(lsn);
}

static void test_own_ipv4(void **state)
{
    (void)state;
    check_own(AF_INET);
}

static void test_own_ipv6(void **state)
{
    (void)state;
    check_own(AF_INET6);
}

/* A pair no socket has: not found, with the table named. */
static void test_unknown_pair(void **state)
{
    (void)state;
    struct sockaddr_storage at;
    int lsn = listen_loopback(AF_INET, &at);
    struct sockaddr_in nobody = {.sin_family = AF_INET, .sin_port = htons(1)};
    nobody.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    uid_t uid;
    pvm_error err = {0};
    assert_int_equal(pvm_tcp_peer_uid((struct sockaddr *)&nobody, (struct sockaddr *)&at, &uid,
                                      &err), -1);
    assert_int_equal(err.code, PVM_E_NOTFOUND);
    assert_non_null(strstr(err.msg, "/proc/net/tcp"));
    struct sockaddr_un_like { sa_family_t f; char p[14]; } unix_like = {AF_UNIX, ""};
    assert_int_equal(pvm_tcp_peer_uid((struct sockaddr *)&unix_like, (struct sockaddr *)&at,
                                      &uid, &err), -1);
    assert_int_equal(err.code, PVM_E_INVALID);
    close(lsn);
}

/* Another user's connection carries his uid (needs root to become nobody). */
static void test_other_user(void **state)
{
    (void)state;
    if (geteuid() != 0)
        skip();
    const uid_t nobody = 65534;
    struct sockaddr_storage at;
    int lsn = listen_loopback(AF_INET, &at);
    int go[2];
    assert_int_equal(pipe(go), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) { /* connect as nobody, hold the connection until the parent is done */
        char b;
        int c = (setgid(nobody) == 0 && setuid(nobody) == 0) ? connect_to(&at) : -1;
        if (c >= 0 && read(go[0], &b, 1) >= 0)
            _exit(0);
        _exit(1);
    }
    uid_t uid = 0;
    pvm_error err = {0};
    int rc = accept_uid(lsn, &uid, &err);
    assert_int_equal(write(go[1], "x", 1), 1);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_int_equal(rc, 0);
    assert_int_equal(uid, nobody);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(go[0]);
    close(go[1]);
    close(lsn);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_own_ipv4),
        cmocka_unit_test(test_own_ipv6),
        cmocka_unit_test(test_unknown_pair),
        cmocka_unit_test(test_other_user),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
