/* jsonrpc.c - the line-framed JSON transport and command envelope shared by the QMP
 * (qmp.c) and guest agent (qga.c) clients: non-blocking unix socket, poll() deadlines,
 * a bounded input buffer, and defensive parsing of what a possibly hostile peer sends. */
#include "qmp.h"
#include "qemu.h"
#include "base/base.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define RPC_CHUNK (64u * 1024u)
/* A line may hold at most this many JSON values: bounds cJSON's memory. */
#define RPC_VALUES_MAX 1000000u

int64_t pvm_rpc_deadline(int timeout_ms)
{
    if (timeout_ms < 0)
        return INT64_MAX;
    return pvm_proc_now_ms() + timeout_ms;
}

/* Milliseconds left before deadline for poll(): -1 when there is no deadline. */
static int rpc_remaining(int64_t deadline)
{
    if (deadline == INT64_MAX)
        return -1;
    int64_t left = deadline - pvm_proc_now_ms();
    if (left <= 0)
        return 0;
    return left > INT_MAX ? INT_MAX : (int)left;
}

static int rpc_fail(pvm_rpc *r, pvm_error *err, const char *what, int e)
{
    r->broken = true;
    return pvm_error_set(err, PVM_E_QEMU, "%s: %s: %s", r->peer, what, strerror(e));
}

void pvm_rpc_init_fd(pvm_rpc *r, int fd, const char *peer)
{
    memset(r, 0, sizeof *r);
    r->fd = fd;
    r->peer = peer;
    r->line_max = PVM_RPC_LINE_MAX;
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

void pvm_rpc_close(pvm_rpc *r)
{
    if (r->fd >= 0)
        close(r->fd);
    r->fd = -1;
    free(r->buf);
    r->buf = NULL;
    r->off = r->len = r->cap = r->scan = 0;
}

/* Waits for a non-blocking connect in progress to finish. */
static int rpc_connect_wait(int fd, int64_t deadline, int *e)
{
    struct pollfd p = { .fd = fd, .events = POLLOUT };
    int n;
    do
        n = poll(&p, 1, rpc_remaining(deadline));
    while (n < 0 && errno == EINTR);
    if (n == 0) {
        *e = ETIMEDOUT;
        return -1;
    }
    socklen_t len = sizeof *e;
    if (n < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, e, &len) < 0) {
        *e = errno;
        return -1;
    }
    return *e ? -1 : 0;
}

/* One connect(2) try: done unless the listener's backlog is full (EAGAIN). */
typedef struct rpc_connect_try {
    int fd, rc, e;
    const struct sockaddr_un *sa;
} rpc_connect_try;

static bool rpc_connect_once(void *ctx)
{
    rpc_connect_try *t = ctx;
    for (;;) {
        if (connect(t->fd, (const struct sockaddr *)t->sa, sizeof *t->sa) == 0) {
            t->rc = 0;
            return true;
        }
        t->e = errno;
        if (t->e != EINTR)
            return t->e != EAGAIN;
    }
}

/* connect(2) with retries while the listener's backlog is full. */
static int rpc_connect_fd(int fd, const struct sockaddr_un *sa, int64_t deadline, int *e)
{
    rpc_connect_try t = { .fd = fd, .rc = -1, .sa = sa };
    if (pvm_wait_until(rpc_connect_once, &t, rpc_remaining(deadline), 10, NULL, NULL, NULL) == 0) {
        *e = ETIMEDOUT;
        return -1;
    }
    if (t.rc == 0)
        return 0;
    *e = t.e;
    return *e == EINPROGRESS ? rpc_connect_wait(fd, deadline, e) : -1;
}

int pvm_rpc_connect(pvm_rpc *r, const char *path, const char *peer, int timeout_ms, pvm_error *err)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    memset(r, 0, sizeof *r);
    r->fd = -1;
    r->peer = peer;
    r->line_max = PVM_RPC_LINE_MAX;
    if (strlen(path) >= sizeof sa.sun_path)
        return pvm_error_set(err, PVM_E_INVALID, "%s socket path: must be at most %zu bytes: %s",
                             peer, sizeof sa.sun_path - 1, path);
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return pvm_error_set(err, PVM_E_IO, "%s: socket: %s", peer, strerror(errno));
    int e = 0;
    if (rpc_connect_fd(fd, &sa, pvm_rpc_deadline(timeout_ms), &e) < 0) {
        close(fd);
        return pvm_error_set(err, PVM_E_QEMU, "%s: cannot connect to %s: %s", peer, path,
                             e == ETIMEDOUT ? "timed out" : strerror(e));
    }
    r->fd = fd;
    return 0;
}

/* Sends all of data before the deadline; never raises SIGPIPE. */
int pvm_rpc_send(pvm_rpc *r, const void *data, size_t len, int64_t deadline, pvm_error *err)
{
    const char *p = data;
    if (r->broken || r->fd < 0)
        return pvm_error_set(err, PVM_E_QEMU, "%s: connection unusable after an earlier error", r->peer);
    while (len) {
        ssize_t n = send(r->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
            return rpc_fail(r, err, "send", errno);
        struct pollfd pf = { .fd = r->fd, .events = POLLOUT };
        int rc = poll(&pf, 1, rpc_remaining(deadline));
        if (rc == 0) {
            /* A partial request would corrupt the stream for later calls. */
            r->broken = true;
            return pvm_error_set(err, PVM_E_QEMU, "%s: send timed out (peer not reading)", r->peer);
        }
        if (rc < 0 && errno != EINTR)
            return rpc_fail(r, err, "poll", errno);
    }
    return 0;
}

/* The text of obj and a newline (malloc'd, *len bytes, NUL after); NULL if cJSON fails. */
static char *rpc_json_line(const cJSON *obj, size_t *len)
{
    char *text = cJSON_PrintUnformatted(obj);
    if (!text)
        return NULL;
    size_t n = strlen(text);
    char *line = pvm_xmalloc(n + 2);
    memcpy(line, text, n);
    line[n] = '\n';
    line[n + 1] = '\0';
    cJSON_free(text);
    *len = n + 1;
    return line;
}

int pvm_rpc_send_json(pvm_rpc *r, const cJSON *obj, int64_t deadline, pvm_error *err)
{
    size_t n = 0;
    char *line = rpc_json_line(obj, &n);
    if (!line)
        return pvm_error_set(err, PVM_E_QEMU, "%s: cannot serialise request", r->peer);
    int rc = pvm_rpc_send(r, line, n, deadline, err);
    free(line);
    return rc;
}

char *pvm_rpc_command_line(const char *cmd, cJSON *args, unsigned id, size_t *len)
{
    cJSON *req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "execute", cmd);
    if (args)
        cJSON_AddItemToObject(req, "arguments", args);
    cJSON_AddNumberToObject(req, "id", id);
    char *line = rpc_json_line(req, len);
    cJSON_Delete(req);
    return line;
}

int pvm_rpc_send_command(pvm_rpc *r, const char *cmd, cJSON *args, unsigned id, int64_t deadline,
                         pvm_error *err)
{
    size_t n = 0;
    char *line = pvm_rpc_command_line(cmd, args, id, &n);
    if (!line)
        return pvm_error_set(err, PVM_E_QEMU, "%s: cannot serialise request %s", r->peer, cmd);
    int rc = pvm_rpc_send(r, line, n, deadline, err);
    free(line);
    return rc;
}

static const char *rpc_error_desc(const cJSON *reply)
{
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(reply, "error");
    const cJSON *desc = cJSON_GetObjectItemCaseSensitive(e, "desc");
    return cJSON_IsString(desc) ? desc->valuestring : "error without a description";
}

int pvm_rpc_take_reply(const pvm_rpc *r, cJSON *reply, const char *cmd, cJSON **ret,
                       pvm_error *err)
{
    int rc = 0;
    if (cJSON_GetObjectItemCaseSensitive(reply, "error"))
        rc = pvm_error_set(err, PVM_E_QEMU, "%s %s: %s", r->peer, cmd, rpc_error_desc(reply));
    else if (!cJSON_HasObjectItem(reply, "return"))
        rc = pvm_error_set(err, PVM_E_QEMU, "%s %s: reply has neither \"return\" nor \"error\"",
                           r->peer, cmd);
    else if (ret)
        *ret = cJSON_DetachItemFromObjectCaseSensitive(reply, "return");
    cJSON_Delete(reply);
    return rc;
}

/* Makes room for at least one chunk after len, moving unread bytes to the front. */
static void rpc_make_room(pvm_rpc *r)
{
    if (r->off) {
        memmove(r->buf, r->buf + r->off, r->len - r->off);
        r->len -= r->off;
        r->off = 0;
    }
    if (r->cap - r->len < RPC_CHUNK) {
        /* Doubling keeps a long line linear; the cap keeps it bounded. */
        size_t want = r->cap * 2, limit = r->line_max + 2 * RPC_CHUNK;
        if (want > limit)
            want = limit;
        if (want < r->len + RPC_CHUNK)
            want = r->len + RPC_CHUNK;
        r->cap = want;
        r->buf = pvm_xrealloc(r->buf, r->cap);
    }
}

/* Called when everything read was consumed: gives back a buffer a long line grew. */
static void rpc_drained(pvm_rpc *r)
{
    r->off = r->len = r->scan = 0;
    if (r->cap > 4 * RPC_CHUNK) {
        free(r->buf);
        r->buf = NULL;
        r->cap = 0;
    }
}

/* Reads what is available: 1 got bytes, 0 deadline, -1 EOF or error. */
static int rpc_fill(pvm_rpc *r, int64_t deadline, pvm_error *err)
{
    for (;;) {
        struct pollfd pf = { .fd = r->fd, .events = POLLIN };
        int rc = poll(&pf, 1, rpc_remaining(deadline));
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc < 0)
            return rpc_fail(r, err, "poll", errno);
        if (rc == 0)
            return 0;
        rpc_make_room(r);
        ssize_t n = recv(r->fd, r->buf + r->len, r->cap - r->len, MSG_DONTWAIT);
        if (n > 0) {
            r->len += (size_t)n;
            return 1;
        }
        if (n == 0) {
            r->broken = true;
            return pvm_error_set(err, PVM_E_QEMU, "%s: connection closed by the peer", r->peer);
        }
        if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)
            return rpc_fail(r, err, "recv", errno);
    }
}

static int rpc_overlong(pvm_rpc *r, pvm_error *err)
{
    r->broken = true;
    return pvm_error_set(err, PVM_E_QEMU, "%s: reply line longer than %zu bytes", r->peer, r->line_max);
}

static int rpc_check_usable(pvm_rpc *r, pvm_error *err)
{
    if (r->broken || r->fd < 0)
        return pvm_error_set(err, PVM_E_QEMU, "%s: connection unusable after an earlier error", r->peer);
    return 0;
}

int pvm_rpc_read_line(pvm_rpc *r, char **line, size_t *len, int64_t deadline, pvm_error *err)
{
    *line = NULL;
    if (len)
        *len = 0;
    if (rpc_check_usable(r, err) < 0)
        return -1;
    for (;;) {
        size_t avail = r->len - r->off;
        char *start = avail ? r->buf + r->off : r->buf;
        char *nl = avail > r->scan ? memchr(start + r->scan, '\n', avail - r->scan) : NULL;
        if (nl) {
            size_t n = (size_t)(nl - start);
            if (n > r->line_max)
                return rpc_overlong(r, err);
            r->off += n + 1;
            r->scan = 0;
            if (n && start[n - 1] == '\r')
                n--;
            *line = pvm_xmalloc(n + 1);
            memcpy(*line, start, n);
            (*line)[n] = '\0';
            if (r->off == r->len)
                rpc_drained(r);
            if (len)
                *len = n;
            return 1;
        }
        r->scan = avail;
        if (avail > r->line_max)
            return rpc_overlong(r, err);
        int rc = rpc_fill(r, deadline, err);
        if (rc <= 0)
            return rc;
    }
}

int pvm_rpc_skip_to_byte(pvm_rpc *r, unsigned char delim, int64_t deadline, pvm_error *err)
{
    if (rpc_check_usable(r, err) < 0)
        return -1;
    for (;;) {
        char *start = r->len > r->off ? r->buf + r->off : r->buf;
        char *hit = r->len > r->off ? memchr(start, delim, r->len - r->off) : NULL;
        if (hit) {
            r->off += (size_t)(hit - start) + 1;
            r->scan = 0;
            return 1;
        }
        rpc_drained(r);
        int rc = rpc_fill(r, deadline, err);
        if (rc <= 0)
            return rc;
    }
}

/* Counts the JSON values a line could create ('[', '{', ',' outside strings). */
static size_t rpc_count_values(const char *s, size_t n)
{
    size_t count = 1;
    bool in_str = false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = false;
        } else if (c == '"') {
            in_str = true;
        } else if (c == '[' || c == '{' || c == ',') {
            count++;
        }
    }
    return count;
}

static bool rpc_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
            return false;
    return true;
}

/* Parses one line into a JSON object, or fails with PVM_E_QEMU. */
static int rpc_parse_object(pvm_rpc *r, const char *line, size_t n, cJSON **obj, pvm_error *err)
{
    if (rpc_count_values(line, n) > RPC_VALUES_MAX)
        return pvm_error_set(err, PVM_E_QEMU, "%s: reply holds more than %u JSON values",
                             r->peer, RPC_VALUES_MAX);
    /* cJSON would read a NUL byte as whitespace: refuse it outright. */
    const char *nul = memchr(line, '\0', n);
    size_t at = nul ? (size_t)(nul - line) : 0;
    cJSON *v = nul ? NULL : pvm_json_parse_bytes(line, n, true, &at);
    if (!v)
        return pvm_error_set(err, PVM_E_QEMU, "%s: malformed JSON reply (%zu bytes; at byte %zu)",
                             r->peer, n, at + 1);
    if (!cJSON_IsObject(v)) {
        cJSON_Delete(v);
        return pvm_error_set(err, PVM_E_QEMU, "%s: reply is not a JSON object", r->peer);
    }
    *obj = v;
    return 0;
}

int pvm_rpc_parse_line(pvm_rpc *r, const char *line, size_t n, cJSON **obj, pvm_error *err)
{
    *obj = NULL;
    return rpc_parse_object(r, line, n, obj, err);
}

int pvm_rpc_read_json(pvm_rpc *r, cJSON **obj, int64_t deadline, pvm_error *err)
{
    *obj = NULL;
    for (;;) {
        char *line = NULL;
        size_t n = 0;
        int rc = pvm_rpc_read_line(r, &line, &n, deadline, err);
        if (rc <= 0)
            return rc;
        if (rpc_blank(line, n)) {
            free(line);
            continue;
        }
        rc = rpc_parse_object(r, line, n, obj, err);
        free(line);
        return rc < 0 ? -1 : 1;
    }
}
