/* tcp_peer.c - who is on the other end of a loopback TCP connection: the uid owning the
 * peer's socket, from the kernel's /proc/net/tcp and /proc/net/tcp6 tables (proc(5)).
 * Called by cli/cmd_display.c (vm display --port admits only its own user). */
#include "pvm.h"
#include "base/base.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An address as the tables print it: 32-bit words of the address in memory order, each
 * as %08X of the native value (8 hex for IPv4, 32 for IPv6), then ':' and the port as
 * %04X; into its bytes (memory order, comparable with in_addr/in6_addr) and the port. */
static bool pvm_proc_addr(const char *s, size_t len, unsigned char *bytes, size_t nbytes,
                          unsigned *port)
{
    if (len != nbytes * 2 + 5 || s[nbytes * 2] != ':')
        return false;
    for (size_t w = 0; w < nbytes / 4; w++) {
        char hex[9];
        memcpy(hex, s + w * 8, 8);
        hex[8] = '\0';
        char *end;
        uint32_t v = (uint32_t)strtoul(hex, &end, 16);
        if (*end)
            return false;
        memcpy(bytes + w * 4, &v, 4);
    }
    char hex[5];
    memcpy(hex, s + nbytes * 2 + 1, 4);
    hex[4] = '\0';
    char *end;
    *port = (unsigned)strtoul(hex, &end, 16);
    return *end == '\0';
}

/* The bytes and port of an AF_INET / AF_INET6 address; false for another family. */
static bool pvm_sock_addr(const struct sockaddr *sa, unsigned char *bytes, size_t *nbytes,
                          unsigned *port)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        memcpy(bytes, &in->sin_addr, 4);
        *nbytes = 4;
        *port = ntohs(in->sin_port);
        return true;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        memcpy(bytes, &in6->sin6_addr, 16);
        *nbytes = 16;
        *port = ntohs(in6->sin6_port);
        return true;
    }
    return false;
}

/* Whether the table's field (len bytes at s) is the address bytes/port. */
static bool pvm_field_is(const char *s, size_t len, const unsigned char *bytes, size_t n,
                         unsigned port)
{
    unsigned char got[16];
    unsigned got_port;
    return pvm_proc_addr(s, len, got, n, &got_port) && got_port == port &&
           memcmp(got, bytes, n) == 0;
}

/* Scans one table for "local=peer rem=ours"; 1 found (*uid), 0 not, -1 unreadable. */
static int pvm_tcp_table_scan(const char *path, const unsigned char *pb, unsigned pp,
                              const unsigned char *ob, unsigned op, size_t n, uid_t *uid)
{
    FILE *fp = fopen(path, "re");
    if (!fp)
        return errno == ENOENT ? 0 : -1; /* no IPv6 in this kernel: no tcp6 */
    char *line = NULL;
    size_t cap = 0;
    int found = 0;
    while (!found && getline(&line, &cap, fp) > 0) {
        char local[64], rem[64], st[8];
        unsigned long u;
        /* "sl local_address rem_address st tx:rx tr:when retrnsmt uid ..." */
        if (sscanf(line, " %*[0-9]: %63s %63s %7s %*s %*s %*s %lu", local, rem, st, &u) != 4)
            continue; /* the header */
        if (strcmp(st, "0A") == 0) /* a listening socket is nobody's connection */
            continue;
        if (pvm_field_is(local, strlen(local), pb, n, pp) &&
            pvm_field_is(rem, strlen(rem), ob, n, op)) {
            *uid = (uid_t)u;
            found = 1;
        }
    }
    free(line);
    fclose(fp);
    return found;
}

int pvm_tcp_peer_uid(const struct sockaddr *peer, const struct sockaddr *ours, uid_t *uid,
                     pvm_error *err)
{
    unsigned char pb[16], ob[16];
    size_t pn, on;
    unsigned pp, op;
    if (!pvm_sock_addr(peer, pb, &pn, &pp) || !pvm_sock_addr(ours, ob, &on, &op) || pn != on)
        return pvm_error_set(err, PVM_E_INVALID, "peer: not a TCP/IP address pair");
    const char *table = pn == 4 ? "/proc/net/tcp" : "/proc/net/tcp6";
    int r = pvm_tcp_table_scan(table, pb, pp, ob, op, pn, uid);
    if (r < 0)
        return pvm_error_set(err, PVM_E_IO, "%s: %s", table, strerror(errno));
    if (r == 0)
        return pvm_error_set(err, PVM_E_NOTFOUND, "peer: no socket of this host is the other "
                             "end of the connection (%s has no row for it)", table);
    return 0;
}
