/* qga.c - the guest agent (qemu-ga) client: resynchronisation with
 * guest-sync-delimited, commands, guest-exec with output capture, file copy-in
 * and interface counters. Everything read here is guest-controlled. Engine only. */
#include "qmp.h"
#include "qemu.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define QGA_CALL_MS 30000            /* one file-write or file-open/close call */
#define QGA_NET_MS 5000
#define QGA_STATUS_MS 10000          /* one guest-exec-status call */
#define QGA_CHUNK (3u * 64u * 1024u) /* raw bytes per guest-file-write */
#define QGA_POLL_MS 50               /* between two guest-exec-status calls */

struct pvm_qga {
    pvm_rpc rpc;
    unsigned next_id;
    bool need_sync; /* a reply may still be on its way: resync before the next command */
    unsigned sync_gen; /* resyncs so far: a read sent ahead before the last one is gone */
};

/* An integral number in [min, max] under key, without undefined double casts. */
static bool qga_get_int(const cJSON *obj, const char *key, double min, double max, int64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < min ||
        v->valuedouble > max || v->valuedouble != floor(v->valuedouble))
        return false;
    *out = (int64_t)v->valuedouble;
    return true;
}

/* The JSON text of a sync line: what follows the last 0xFF delimiter, if any. */
static const char *qga_after_delim(const char *line, size_t *n)
{
    const char *p = memrchr(line, 0xFF, *n);
    if (!p)
        return line;
    *n -= (size_t)(p + 1 - line);
    return p + 1;
}

/* Reads lines until {"return": id}; stale replies and junk are dropped. */
static int qga_await_sync(pvm_qga *g, int64_t id, int64_t deadline, pvm_error *err)
{
    for (;;) {
        char *line = NULL;
        size_t n = 0;
        int rc = pvm_rpc_read_line(&g->rpc, &line, &n, deadline, err);
        if (rc < 0)
            return -1;
        if (rc == 0)
            return pvm_error_set(err, PVM_E_QEMU,
                                 "guest agent: no answer to guest-sync-delimited before the timeout");
        const char *text = qga_after_delim(line, &n);
        cJSON *msg = NULL;
        int64_t got = 0;
        pvm_error ignored;
        bool match = pvm_rpc_parse_line(&g->rpc, text, n, &msg, &ignored) == 0 &&
                     qga_get_int(msg, "return", 0, 2147483647.0, &got) && got == id;
        cJSON_Delete(msg);
        free(line);
        if (match)
            return 0;
    }
}

static int qga_sync(pvm_qga *g, int64_t deadline, pvm_error *err)
{
    int64_t id = (int64_t)pvm_random_below(2147483646u) + 1;
    cJSON *req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "execute", "guest-sync-delimited");
    cJSON *args = cJSON_AddObjectToObject(req, "arguments");
    cJSON_AddNumberToObject(args, "id", (double)id);
    /* A raw 0xFF first: qemu-ga's JSON lexer resets on it and drops what a previous
     * client left half-sent (an ISA serial port keeps it across connections; without
     * the reset every later request parses as garbage). The agent answers the byte
     * with an error reply, which qga_await_sync drops (qga/qapi-schema.json,
     * guest-sync-delimited). */
    static const unsigned char reset = 0xFF;
    int rc = pvm_rpc_send(&g->rpc, &reset, 1, deadline, err);
    if (rc == 0)
        rc = pvm_rpc_send_json(&g->rpc, req, deadline, err);
    cJSON_Delete(req);
    if (rc < 0)
        return -1;
    rc = pvm_rpc_skip_to_byte(&g->rpc, 0xFF, deadline, err);
    if (rc == 0)
        return pvm_error_set(err, PVM_E_QEMU, "guest agent: no answer to guest-sync-delimited "
                             "before the timeout (is qemu-ga running in the guest?)");
    if (rc < 0 || qga_await_sync(g, id, deadline, err) < 0)
        return -1;
    g->need_sync = false;
    g->sync_gen++;
    return 0;
}

/* The file name beside the agent socket sock, into buf (size bytes): "<dir of sock>/name";
 * false when it does not fit. */
static bool qga_beside(const char *sock, const char *name, char *buf, size_t size)
{
    const char *slash = strrchr(sock, '/');
    int n = slash ? snprintf(buf, size, "%.*s/%s", (int)(slash - sock), sock, name)
                  : snprintf(buf, size, "%s", name);
    return n > 0 && (size_t)n < size;
}

static bool qga_seen_path(const char *sock, char *buf, size_t size)
{
    return qga_beside(sock, PVM_QGA_SEEN_NAME, buf, size);
}

void pvm_qga_mark_seen(const char *sock)
{
    char path[PATH_MAX];
    if (!qga_seen_path(sock, path, sizeof path))
        return;
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd >= 0) {
        futimens(fd, NULL);
        close(fd);
    }
}

bool pvm_qga_seen_this_run(const char *sock, time_t *when)
{
    char path[PATH_MAX];
    struct stat seen, st;
    if (!qga_seen_path(sock, path, sizeof path) || stat(path, &seen) < 0 || stat(sock, &st) < 0)
        return false;
    if (seen.st_mtim.tv_sec < st.st_mtim.tv_sec || /* in ns: a previous run's within the second */
        (seen.st_mtim.tv_sec == st.st_mtim.tv_sec && seen.st_mtim.tv_nsec < st.st_mtim.tv_nsec))
        return false;
    *when = seen.st_mtime;
    return true;
}

int pvm_qga_connect(const char *sock_path, int timeout_ms, pvm_qga **out, pvm_error *err)
{
    *out = NULL;
    int64_t deadline = pvm_rpc_deadline(timeout_ms);
    pvm_qga *g = pvm_xcalloc(1, sizeof *g);
    if (pvm_rpc_connect(&g->rpc, sock_path, "guest agent", timeout_ms, err) < 0) {
        free(g);
        return -1;
    }
    if (qga_sync(g, deadline, err) < 0) {
        pvm_qga_close(g);
        return -1;
    }
    *out = g;
    return 0;
}

/* Called with each reply line qga_await_line reads, before it is parsed. */
typedef void (*qga_line_hook)(pvm_qga *g, const char *line, size_t len, void *ctx);

static bool qga_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
            return false;
    return true;
}

/* Reads until the reply to request id: one with that id or with none (replies to other
 * ids are stale and dropped). hook (may be NULL) sees each line first. */
static int qga_await_line(pvm_qga *g, unsigned id, const char *cmd, cJSON **ret,
                          int64_t deadline, qga_line_hook hook, void *ctx, pvm_error *err)
{
    for (;;) {
        char *line = NULL;
        size_t n = 0;
        int rc = pvm_rpc_read_line(&g->rpc, &line, &n, deadline, err);
        if (rc == 0)
            return pvm_error_set(err, PVM_E_QEMU, "guest agent %s: no reply before the timeout", cmd);
        if (rc < 0)
            return -1;
        if (qga_blank(line, n)) {
            free(line);
            continue;
        }
        if (hook)
            hook(g, line, n, ctx);
        cJSON *msg = NULL;
        rc = pvm_rpc_parse_line(&g->rpc, line, n, &msg, err);
        free(line);
        if (rc < 0)
            return -1;
        const cJSON *mid = cJSON_GetObjectItemCaseSensitive(msg, "id");
        if (!mid || (cJSON_IsNumber(mid) && mid->valuedouble == (double)id)) {
            g->need_sync = false;
            return pvm_rpc_take_reply(&g->rpc, msg, cmd, ret, err);
        }
        cJSON_Delete(msg);
    }
}

static int qga_await(pvm_qga *g, unsigned id, const char *cmd, cJSON **ret, int64_t deadline,
                     pvm_error *err)
{
    return qga_await_line(g, id, cmd, ret, deadline, NULL, NULL, err);
}

/* Sends cmd (args consumed) with a new id (*id), resynchronising first after a failed or
 * unread call; the reply is left for qga_await. */
static int qga_send(pvm_qga *g, const char *cmd, cJSON *args, int64_t deadline, unsigned *id,
                    pvm_error *err)
{
    if (g->need_sync && qga_sync(g, deadline, err) < 0) {
        cJSON_Delete(args);
        return -1;
    }
    *id = ++g->next_id;
    if (pvm_rpc_send_command(&g->rpc, cmd, args, *id, deadline, err) < 0)
        return -1;
    /* Until the reply is read, anything may be in flight. */
    g->need_sync = true;
    return 0;
}

static int qga_execute_until(pvm_qga *g, const char *cmd, cJSON *args, cJSON **ret,
                             int64_t deadline, pvm_error *err)
{
    if (ret)
        *ret = NULL;
    unsigned id = 0;
    if (qga_send(g, cmd, args, deadline, &id, err) < 0)
        return -1;
    return qga_await(g, id, cmd, ret, deadline, err);
}

int pvm_qga_execute(pvm_qga *g, const char *cmd, cJSON *args, cJSON **ret, int timeout_ms,
                    pvm_error *err)
{
    if (!g || !cmd) {
        cJSON_Delete(args);
        return pvm_error_set(err, PVM_E_STATE, "guest agent: not connected");
    }
    return qga_execute_until(g, cmd, args, ret, pvm_rpc_deadline(timeout_ms), err);
}

int pvm_qga_ping(pvm_qga *g, int timeout_ms, pvm_error *err)
{
    return pvm_qga_execute(g, "guest-ping", NULL, NULL, timeout_ms, err);
}

/* ------------------------------------------------------------ guest-exec */

static cJSON *qga_exec_args(const char *path, const char *const *argv)
{
    cJSON *args = cJSON_CreateObject();
    cJSON_AddStringToObject(args, "path", path);
    if (argv) {
        cJSON *arr = cJSON_AddArrayToObject(args, "arg");
        for (size_t i = 0; argv[i]; i++)
            cJSON_AddItemToArray(arr, cJSON_CreateString(argv[i]));
    }
    cJSON_AddBoolToObject(args, "capture-output", 1);
    return args;
}

/* Decodes the base64 field key of st into *out (NULL when absent), its byte count (NULs
 * included; a NUL follows them) into *len. */
static int qga_decode_field(const cJSON *st, const char *key, char **out, size_t *len,
                            pvm_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(st, key);
    *out = NULL;
    *len = 0;
    if (!v)
        return 0;
    if (!cJSON_IsString(v))
        return pvm_error_set(err, PVM_E_QEMU, "guest agent guest-exec-status: %s is not a string", key);
    unsigned char *buf = NULL;
    size_t n = 0;
    pvm_error derr = { 0 };
    if (pvm_base64_decode(v->valuestring, strlen(v->valuestring), &buf, &n, &derr) < 0)
        return pvm_error_set(err, PVM_E_QEMU, "guest agent guest-exec-status: %s: %s", key, derr.msg);
    *out = (char *)buf;
    *len = n;
    return 0;
}

/* Reads an exited status: exit code (128 + signal when killed) and outputs with their
 * byte counts (out_len, err_len may be NULL). */
static int qga_exec_result(const cJSON *st, int *exitcode, char **out, size_t *out_len,
                           char **errout, size_t *err_len, pvm_error *err)
{
    int64_t code = 0, sig = 0;
    bool has_code = qga_get_int(st, "exitcode", -2147483648.0, 2147483647.0, &code);
    if (!has_code && qga_get_int(st, "signal", 0, 1024, &sig))
        code = 128 + sig;
    else if (!has_code)
        return pvm_error_set(err, PVM_E_QEMU, "guest agent guest-exec-status: exited without exitcode or signal");
    char *o = NULL, *e = NULL;
    size_t on = 0, en = 0;
    if (qga_decode_field(st, "out-data", &o, &on, err) < 0)
        return -1;
    if (qga_decode_field(st, "err-data", &e, &en, err) < 0) {
        free(o);
        return -1;
    }
    if (out_len)
        *out_len = out ? on : 0;
    if (err_len)
        *err_len = errout ? en : 0;
    if (exitcode)
        *exitcode = (int)code;
    if (out)
        *out = o;
    else
        free(o);
    if (errout)
        *errout = e;
    else
        free(e);
    return 0;
}

/* Polls guest-exec-status: 1 exited (results filled), 0 still running, -1 error. */
static int qga_exec_poll(pvm_qga *g, int64_t pid, int64_t call_deadline, int *exitcode, char **out,
                         size_t *out_len, char **errout, size_t *err_len, pvm_error *err)
{
    cJSON *args = cJSON_CreateObject();
    cJSON_AddNumberToObject(args, "pid", (double)pid);
    cJSON *st = NULL;
    if (qga_execute_until(g, "guest-exec-status", args, &st, call_deadline, err) < 0)
        return -1;
    const cJSON *exited = cJSON_GetObjectItemCaseSensitive(st, "exited");
    int rc = 0;
    if (!cJSON_IsBool(exited))
        rc = pvm_error_set(err, PVM_E_QEMU, "guest agent guest-exec-status: \"exited\" is not a boolean");
    else if (cJSON_IsTrue(exited))
        rc = qga_exec_result(st, exitcode, out, out_len, errout, err_len, err) < 0 ? -1 : 1;
    cJSON_Delete(st);
    return rc;
}

/* One guest-exec-status call for pvm_wait_until. Each call gets its own time: the
 * overall deadline only ends the polling, so a process still running is reported as
 * such, not as a missing reply. */
typedef struct qga_exec_wait {
    pvm_qga *g;
    int64_t pid;
    int *exitcode;
    char **out, **errout;
    pvm_error *err;
    int rc; /* qga_exec_poll's: 1 exited, 0 running, -1 error */
} qga_exec_wait;

static bool qga_exec_done(void *ctx)
{
    qga_exec_wait *w = ctx;
    w->rc = qga_exec_poll(w->g, w->pid, pvm_rpc_deadline(QGA_STATUS_MS), w->exitcode, w->out,
                          NULL, w->errout, NULL, w->err);
    return w->rc != 0;
}

int pvm_qga_exec(pvm_qga *g, const char *path, const char *const *argv, int timeout_ms,
                 int *exitcode, char **out, char **errout, pvm_error *err)
{
    if (out)
        *out = NULL;
    if (errout)
        *errout = NULL;
    int64_t deadline = pvm_rpc_deadline(timeout_ms);
    if (!g)
        return pvm_error_set(err, PVM_E_STATE, "guest agent: not connected");
    cJSON *ret = NULL;
    if (qga_execute_until(g, "guest-exec", qga_exec_args(path, argv), &ret, deadline, err) < 0)
        return -1;
    int64_t pid = 0;
    bool ok = qga_get_int(ret, "pid", 2, 2147483647.0, &pid); /* never 0 or init */
    cJSON_Delete(ret);
    if (!ok)
        return pvm_error_set(err, PVM_E_QEMU, "guest agent guest-exec %s: reply has no valid \"pid\"", path);
    qga_exec_wait w = { .g = g, .pid = pid, .exitcode = exitcode, .out = out, .errout = errout,
                        .err = err };
    int64_t left = deadline - pvm_rpc_deadline(0);
    int limit = deadline == INT64_MAX ? -1 : left <= 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
    if (pvm_wait_until(qga_exec_done, &w, limit, QGA_POLL_MS, NULL, NULL, err) == 1)
        return w.rc < 0 ? -1 : 0;
    return pvm_error_set(err, PVM_E_QEMU, "guest agent guest-exec %s: pid %lld still running "
                         "after %d ms", path, (long long)pid, timeout_ms);
}

/* ------------------------------------------------------------- file copy */

static int qga_file_call(pvm_qga *g, const char *cmd, cJSON *args, cJSON **ret, pvm_error *err)
{
    return qga_execute_until(g, cmd, args, ret, pvm_rpc_deadline(QGA_CALL_MS), err);
}

static int qga_file_open(pvm_qga *g, const char *guest_path, const char *mode, int64_t *handle,
                         pvm_error *err)
{
    cJSON *args = cJSON_CreateObject();
    cJSON_AddStringToObject(args, "path", guest_path);
    cJSON_AddStringToObject(args, "mode", mode);
    cJSON *ret = NULL;
    if (qga_file_call(g, "guest-file-open", args, &ret, err) < 0)
        return -1;
    /* The reply is the bare handle number. */
    bool ok = cJSON_IsNumber(ret) && isfinite(ret->valuedouble) && ret->valuedouble >= 0 &&
              ret->valuedouble <= 9007199254740992.0 && ret->valuedouble == floor(ret->valuedouble);
    if (ok)
        *handle = (int64_t)ret->valuedouble;
    cJSON_Delete(ret);
    if (!ok)
        return pvm_error_set(err, PVM_E_QEMU, "guest agent guest-file-open %s: reply is not a handle", guest_path);
    return 0;
}

/* The arguments of a guest-file-write of n bytes: buf-b64 goes in as a raw JSON string
 * (the base64 alphabet needs no escaping), which spares cJSON escaping megabytes of it. */
static cJSON *qga_write_args(int64_t handle, const unsigned char *p, size_t n)
{
    char *quoted = pvm_xmalloc(pvm_base64_len(n) + 3);
    size_t len = pvm_base64_encode_into(p, n, quoted + 1);
    quoted[0] = quoted[len + 1] = '"';
    quoted[len + 2] = '\0';
    cJSON *args = cJSON_CreateObject();
    cJSON_AddNumberToObject(args, "handle", (double)handle);
    cJSON_AddRawToObject(args, "buf-b64", quoted);
    free(quoted);
    return args;
}

/* Checks a guest-file-write reply for n bytes: *count the bytes taken (1..n). */
static int qga_write_reply(cJSON *ret, size_t n, size_t *count, pvm_error *err)
{
    int64_t c = 0;
    bool ok = qga_get_int(ret, "count", 1, (double)n, &c);
    cJSON_Delete(ret);
    if (!ok)
        return pvm_error_set(err, PVM_E_QEMU, "guest agent guest-file-write: bad \"count\" in reply");
    *count = (size_t)c;
    return 0;
}

/* Writes one chunk; *count receives the bytes the guest accepted (1..n). */
static int qga_file_chunk(pvm_qga *g, int64_t handle, const unsigned char *p, size_t n,
                          size_t *count, pvm_error *err)
{
    cJSON *ret = NULL;
    if (qga_file_call(g, "guest-file-write", qga_write_args(handle, p, n), &ret, err) < 0)
        return -1;
    return qga_write_reply(ret, n, count, err);
}

static int qga_file_close(pvm_qga *g, int64_t handle, pvm_error *err)
{
    cJSON *args = cJSON_CreateObject();
    cJSON_AddNumberToObject(args, "handle", (double)handle);
    return qga_file_call(g, "guest-file-close", args, NULL, err);
}

int pvm_qga_file_write(pvm_qga *g, const char *guest_path, const void *data, size_t len,
                       pvm_error *err)
{
    if (!g)
        return pvm_error_set(err, PVM_E_STATE, "guest agent: not connected");
    int64_t handle = 0;
    if (qga_file_open(g, guest_path, "w", &handle, err) < 0)
        return -1;
    const unsigned char *p = data;
    size_t off = 0;
    while (off < len) {
        size_t n = len - off < QGA_CHUNK ? len - off : QGA_CHUNK, count = 0;
        if (qga_file_chunk(g, handle, p + off, n, &count, err) < 0) {
            pvm_error ignored;
            qga_file_close(g, handle, &ignored);
            return -1;
        }
        off += count;
    }
    return qga_file_close(g, handle, err);
}

/* Streaming pieces for engine/agent.c: one handle, many chunks. */

int pvm_qga_file_open(pvm_qga *g, const char *guest_path, const char *mode, int64_t *handle,
                      pvm_error *err)
{
    if (!g)
        return pvm_error_set(err, PVM_E_STATE, "guest agent: not connected");
    return qga_file_open(g, guest_path, mode, handle, err);
}

int pvm_qga_file_put(pvm_qga *g, int64_t handle, const void *data, size_t len, pvm_error *err)
{
    const unsigned char *p = data;
    size_t off = 0;
    while (off < len) {
        size_t count = 0;
        if (qga_file_chunk(g, handle, p + off, len - off, &count, err) < 0)
            return -1;
        off += count;
    }
    return 0;
}

static cJSON *qga_read_args(int64_t handle, size_t max)
{
    cJSON *args = cJSON_CreateObject();
    cJSON_AddNumberToObject(args, "handle", (double)handle);
    cJSON_AddNumberToObject(args, "count", (double)max);
    return args;
}

/* Checks a guest-file-read reply: {"count": n <= max, "buf-b64": base64 of n bytes, "eof": bool}. */
static int qga_read_reply(const cJSON *ret, size_t max, unsigned char **buf, size_t *n, bool *eof,
                          pvm_error *err)
{
    int64_t count = 0;
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(ret, "buf-b64");
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(ret, "eof");
    if (!cJSON_IsObject(ret) || !qga_get_int(ret, "count", 0, (double)max, &count) ||
        !cJSON_IsString(b) || !cJSON_IsBool(e))
        return pvm_error_set(err, PVM_E_QEMU, "guest agent guest-file-read: reply is not "
                             "{count <= %zu, buf-b64, eof}", max);
    size_t blen = strlen(b->valuestring);
    if (blen > (max / 3 + 1) * 4 + 8)
        return pvm_error_set(err, PVM_E_QEMU, "guest agent guest-file-read: buf-b64 longer than "
                             "the %zu bytes asked for", max);
    pvm_error derr = { 0 };
    if (pvm_base64_decode(b->valuestring, blen, buf, n, &derr) < 0)
        return pvm_error_set(err, PVM_E_QEMU, "guest agent guest-file-read: buf-b64: %s", derr.msg);
    if (*n != (size_t)count) {
        size_t got = *n;
        free(*buf);
        *buf = NULL;
        *n = 0;
        return pvm_error_set(err, PVM_E_QEMU, "guest agent guest-file-read: count %lld but %zu "
                             "bytes in buf-b64", (long long)count, got);
    }
    *eof = cJSON_IsTrue(e);
    return 0;
}

int pvm_qga_file_get(pvm_qga *g, int64_t handle, size_t max, unsigned char **buf, size_t *n,
                     bool *eof, pvm_error *err)
{
    *buf = NULL;
    *n = 0;
    cJSON *ret = NULL;
    if (qga_file_call(g, "guest-file-read", qga_read_args(handle, max), &ret, err) < 0)
        return -1;
    int rc = qga_read_reply(ret, max, buf, n, eof, err);
    cJSON_Delete(ret);
    return rc;
}

struct pvm_qga_put {
    char *line; /* the request, newline included */
    size_t line_len;
    unsigned id;
    int64_t handle;
    const unsigned char *data; /* borrowed: the rest is written from it after a short count */
    size_t len;
};

pvm_qga_put *pvm_qga_put_new(pvm_qga *g, int64_t handle, const void *data, size_t len)
{
    pvm_qga_put *p = pvm_xcalloc(1, sizeof *p);
    p->id = ++g->next_id; /* unique among the requests not yet answered (a short count's
                           * rest goes out with later ids first; matching is exact) */
    p->handle = handle;
    p->data = data;
    p->len = len;
    p->line = pvm_rpc_command_line("guest-file-write", qga_write_args(handle, data, len), p->id,
                                   &p->line_len);
    return p;
}

void pvm_qga_put_free(pvm_qga_put *p)
{
    if (!p)
        return;
    free(p->line);
    free(p);
}

int pvm_qga_put_send(pvm_qga *g, pvm_qga_put *p, pvm_error *err)
{
    if (!g)
        return pvm_error_set(err, PVM_E_STATE, "guest agent: not connected");
    if (!p->line)
        return pvm_error_set(err, PVM_E_QEMU, "guest agent guest-file-write: cannot serialise "
                             "the request");
    int64_t deadline = pvm_rpc_deadline(QGA_CALL_MS);
    if (g->need_sync && qga_sync(g, deadline, err) < 0)
        return -1;
    if (pvm_rpc_send(&g->rpc, p->line, p->line_len, deadline, err) < 0)
        return -1;
    g->need_sync = true; /* until the reply is read */
    return 0;
}

int pvm_qga_put_take(pvm_qga *g, pvm_qga_put *p, pvm_error *err)
{
    cJSON *ret = NULL;
    size_t count = 0;
    if (qga_await(g, p->id, "guest-file-write", &ret, pvm_rpc_deadline(QGA_CALL_MS), err) < 0 ||
        qga_write_reply(ret, p->len, &count, err) < 0)
        return -1;
    return count < p->len ? pvm_qga_file_put(g, p->handle, p->data + count, p->len - count, err)
                          : 0;
}

/* Skips JSON white space back from end (exclusive) to start; the new end. */
static size_t qga_back_space(const char *s, size_t start, size_t end)
{
    while (end > start && (s[end - 1] == ' ' || s[end - 1] == '\t' || s[end - 1] == '\r'))
        end--;
    return end;
}

/* True when the line ends in "id" : id } (any JSON spacing): the reply names that request,
 * so the agent echoes ids. Only decides whether to read ahead; the parse decides the rest. */
static bool qga_line_names_id(const char *line, size_t n, unsigned id)
{
    char digits[16];
    int d = snprintf(digits, sizeof digits, "%u", id);
    n = qga_back_space(line, 0, n);
    if (n == 0 || line[n - 1] != '}')
        return false;
    n = qga_back_space(line, 0, n - 1);
    if (d <= 0 || (size_t)d > n || memcmp(line + n - (size_t)d, digits, (size_t)d) != 0)
        return false;
    n = qga_back_space(line, 0, n - (size_t)d);
    if (n == 0 || line[n - 1] != ':')
        return false;
    n = qga_back_space(line, 0, n - 1);
    return n >= 4 && memcmp(line + n - 4, "\"id\"", 4) == 0 &&
           (n == 4 || !strchr("0123456789", line[n - 5]));
}

/* True when the line holds "key" : text (any JSON spacing) followed by ',' or '}'. Base64
 * holds no '"', so a "key" inside buf-b64's text cannot match. */
static bool qga_line_has(const char *line, size_t n, const char *key, const char *text)
{
    char quoted[32];
    int k = snprintf(quoted, sizeof quoted, "\"%s\"", key);
    const char *p = k > 0 ? memmem(line, n, quoted, (size_t)k) : NULL;
    if (!p)
        return false;
    const char *end = line + n;
    p += k;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    if (p >= end || *p++ != ':')
        return false;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    size_t t = strlen(text);
    if ((size_t)(end - p) <= t || memcmp(p, text, t) != 0)
        return false;
    p += t;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    return p < end && (*p == ',' || *p == '}');
}

/* What the read-ahead hook needs: the read being taken and where the next one goes. */
typedef struct qga_ahead_ctx {
    unsigned id;
    size_t asked, max;
    int64_t handle, deadline;
    pvm_qga_ahead *ahead;
} qga_ahead_ctx;

/* The reply to c->id is in: when it is a whole piece (count = what was asked, not at the
 * end), the next read goes out now, before this one is decoded. The guest has answered,
 * so the agent still holds one request at a time. */
static void qga_read_on(pvm_qga *g, const char *line, size_t len, void *ctx)
{
    qga_ahead_ctx *c = ctx;
    char count[24];
    snprintf(count, sizeof count, "%zu", c->asked);
    if (c->ahead->id || !qga_line_names_id(line, len, c->id) ||
        !qga_line_has(line, len, "count", count) || !qga_line_has(line, len, "eof", "false"))
        return;
    pvm_error ignored = { 0 };
    g->need_sync = false; /* the reply being read is the last one outstanding */
    unsigned next = 0;
    if (qga_send(g, "guest-file-read", qga_read_args(c->handle, c->max), c->deadline, &next,
                 &ignored) == 0)
        *c->ahead = (pvm_qga_ahead){ .id = next, .max = c->max, .handle = c->handle,
                                     .gen = g->sync_gen, .sent = c->ahead->sent + 1 };
    /* a failed send: the next call sends it again and meets the error */
}

/* Whether ahead names a read whose reply is still to come on this connection. */
static bool qga_ahead_live(const pvm_qga *g, const pvm_qga_ahead *ahead)
{
    return ahead->id && ahead->gen == g->sync_gen;
}

void pvm_qga_ahead_drop(pvm_qga *g, pvm_qga_ahead *ahead)
{
    if (g && qga_ahead_live(g, ahead)) {
        pvm_error ignored = { 0 };
        qga_await(g, ahead->id, "guest-file-read", NULL, pvm_rpc_deadline(QGA_CALL_MS),
                  &ignored); /* a failure leaves need_sync set: the next call resyncs */
    }
    ahead->id = 0;
}

int pvm_qga_file_get_ahead(pvm_qga *g, int64_t handle, size_t max, pvm_qga_ahead *ahead,
                           unsigned char **buf, size_t *n, bool *eof, pvm_error *err)
{
    *buf = NULL;
    *n = 0;
    if (!g)
        return pvm_error_set(err, PVM_E_STATE, "guest agent: not connected");
    if (ahead->id && (ahead->handle != handle || !qga_ahead_live(g, ahead)))
        pvm_qga_ahead_drop(g, ahead); /* another file's, or dropped by a resync */
    qga_ahead_ctx c = { .id = ahead->id, .asked = ahead->max, .max = max, .handle = handle,
                        .deadline = pvm_rpc_deadline(QGA_CALL_MS), .ahead = ahead };
    ahead->id = 0;
    if (!c.id) {
        c.asked = max;
        if (qga_send(g, "guest-file-read", qga_read_args(handle, max), c.deadline, &c.id,
                     err) < 0)
            return -1;
    }
    cJSON *ret = NULL;
    int rc = qga_await_line(g, c.id, "guest-file-read", &ret, c.deadline, qga_read_on, &c, err);
    if (ahead->id)
        g->need_sync = true; /* the read sent ahead is outstanding */
    if (rc < 0)
        return -1;
    rc = qga_read_reply(ret, c.asked, buf, n, eof, err);
    cJSON_Delete(ret);
    return rc;
}

int pvm_qga_file_close(pvm_qga *g, int64_t handle, pvm_error *err)
{
    return qga_file_close(g, handle, err);
}

int pvm_qga_exec_start(pvm_qga *g, const char *path, const char *const *argv, const void *input,
                       size_t input_len, int64_t *pid, int timeout_ms, pvm_error *err)
{
    if (!g)
        return pvm_error_set(err, PVM_E_STATE, "guest agent: not connected");
    cJSON *args = qga_exec_args(path, argv);
    if (input && input_len) {
        char *b64 = pvm_base64_encode(input, input_len);
        cJSON_AddStringToObject(args, "input-data", b64);
        free(b64);
    }
    cJSON *ret = NULL;
    if (qga_execute_until(g, "guest-exec", args, &ret, pvm_rpc_deadline(timeout_ms), err) < 0)
        return -1;
    bool ok = qga_get_int(ret, "pid", 2, 2147483647.0, pid); /* never 0 or init */
    cJSON_Delete(ret);
    if (!ok)
        return pvm_error_set(err, PVM_E_QEMU, "guest agent guest-exec %s: reply has no valid \"pid\"", path);
    return 0;
}

int pvm_qga_exec_status(pvm_qga *g, int64_t pid, int timeout_ms, int *exitcode, char **out,
                        size_t *out_len, char **errout, size_t *err_len, pvm_error *err)
{
    if (out)
        *out = NULL;
    if (errout)
        *errout = NULL;
    if (out_len)
        *out_len = 0;
    if (err_len)
        *err_len = 0;
    return qga_exec_poll(g, pid, pvm_rpc_deadline(timeout_ms), exitcode, out, out_len, errout,
                         err_len, err);
}

int pvm_qga_osinfo(pvm_qga *g, char *id, size_t id_size, bool *windows, pvm_error *err)
{
    cJSON *ret = NULL;
    if (pvm_qga_execute(g, "guest-get-osinfo", NULL, &ret, QGA_NET_MS, err) < 0)
        return -1;
    if (!cJSON_IsObject(ret)) {
        cJSON_Delete(ret);
        return pvm_error_set(err, PVM_E_QEMU, "guest agent guest-get-osinfo: reply is not an object");
    }
    const cJSON *i = cJSON_GetObjectItemCaseSensitive(ret, "id");
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(ret, "kernel-release");
    const cJSON *kn = cJSON_GetObjectItemCaseSensitive(ret, "kernel-version");
    pvm_strlcpy(id, cJSON_IsString(i) ? i->valuestring : "", id_size);
    *windows = (cJSON_IsString(i) && strcmp(i->valuestring, "mswindows") == 0) ||
               (cJSON_IsString(kn) && strstr(kn->valuestring, "Windows")) ||
               (cJSON_IsString(k) && strstr(k->valuestring, "Windows"));
    cJSON_Delete(ret);
    return 0;
}

/* --------------------------------------------------------- the agent lock */

/* The lock file beside the socket: "<dir of sock>/agent.lock". */
static int qga_lock_path(const char *sock, char *out, size_t size)
{
    return qga_beside(sock, PVM_QGA_LOCK_NAME, out, size) ? 0 : -1;
}

static void qga_lock_note_pid(int fd)
{
    char buf[24];
    int n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) == 0 && pwrite(fd, buf, (size_t)n, 0) != n)
        return;
}

/* The pid holding the flock on fd's file: /proc/locks first (any process, e.g. flock(1)),
 * else the pid the last holder wrote into it; 0 when unknown. */
static long qga_lock_holder(int fd)
{
    struct stat st;
    FILE *f = fstat(fd, &st) == 0 ? fopen("/proc/locks", "re") : NULL;
    char line[256];
    while (f && fgets(line, sizeof line, f)) {
        long pid = 0;
        unsigned long long ino = 0;
        char kind[16];
        if (sscanf(line, "%*[^:]: %15s %*s %*s %ld %*x:%*x:%llu", kind, &pid, &ino) == 3 &&
            strcmp(kind, "FLOCK") == 0 && ino == (unsigned long long)st.st_ino && pid > 0) {
            fclose(f);
            return pid;
        }
    }
    if (f)
        fclose(f);
    char buf[24] = { 0 };
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    return n > 0 ? strtol(buf, NULL, 10) : 0;
}

int pvm_qga_lock(const char *qga_sock, int wait_ms, int *fd_out, pvm_error *err)
{
    char path[PATH_MAX];
    *fd_out = -1;
    if (qga_lock_path(qga_sock, path, sizeof path) < 0)
        return pvm_error_set(err, PVM_E_INVALID, "guest agent: the lock path is too long");
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return pvm_error_set(err, PVM_E_IO, "guest agent: cannot open %s: %s", path, strerror(errno));
    int64_t deadline = pvm_rpc_deadline(wait_ms < 0 ? 0 : wait_ms);
    for (;;) {
        if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
            qga_lock_note_pid(fd);
            *fd_out = fd;
            return 0;
        }
        if (errno != EWOULDBLOCK && errno != EINTR) {
            pvm_error_set(err, PVM_E_IO, "guest agent: cannot lock %s: %s", path, strerror(errno));
            break;
        }
        if (pvm_rpc_deadline(0) >= deadline) {
            long pid = qga_lock_holder(fd);
            pvm_error_set(err, PVM_E_BUSY, "guest agent busy: its channel is held by pid %ld "
                          "(another install, copy, exec or audit on this VM) for more than %d ms",
                          pid, wait_ms);
            break;
        }
        usleep(20000);
    }
    close(fd);
    return -1;
}

void pvm_qga_unlock(int fd)
{
    if (fd >= 0)
        close(fd); /* closing the only descriptor drops the flock */
}

/* ---------------------------------------------------------------- network */

/* Adds one interface's counters: 1 added, 0 skipped (loopback, no statistics), -1 bad data.
 * Packet counts are optional: one interface without them makes them unknown. */
static int qga_add_iface(const cJSON *iface, pvm_qga_net *n)
{
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(iface, "name");
    if (!cJSON_IsString(name) || strcmp(name->valuestring, "lo") == 0)
        return 0;
    const cJSON *stats = cJSON_GetObjectItemCaseSensitive(iface, "statistics");
    if (!stats)
        return 0;
    const double max = 9007199254740992.0;
    int64_t r = 0, t = 0, rp = 0, tp = 0;
    if (!qga_get_int(stats, "rx-bytes", 0, max, &r) || !qga_get_int(stats, "tx-bytes", 0, max, &t))
        return -1;
    n->rx_bytes += (uint64_t)r;
    n->tx_bytes += (uint64_t)t;
    if (qga_get_int(stats, "rx-packets", 0, max, &rp) && qga_get_int(stats, "tx-packets", 0, max, &tp)) {
        n->rx_packets += (uint64_t)rp;
        n->tx_packets += (uint64_t)tp;
    } else {
        n->packets_known = false;
    }
    return 1;
}

int pvm_qga_net_stats(pvm_qga *g, int timeout_ms, pvm_qga_net *out, pvm_error *err)
{
    cJSON *ret = NULL;
    if (pvm_qga_execute(g, "guest-network-get-interfaces", NULL, &ret, timeout_ms, err) < 0)
        return -1;
    pvm_qga_net n = {.packets_known = true};
    int found = 0, rc = 0;
    const cJSON *iface;
    if (!cJSON_IsArray(ret))
        rc = pvm_error_set(err, PVM_E_QEMU, "guest agent guest-network-get-interfaces: reply is not an array");
    cJSON *list = rc ? NULL : ret;
    cJSON_ArrayForEach(iface, list) {
        int a = qga_add_iface(iface, &n);
        if (a < 0) {
            rc = pvm_error_set(err, PVM_E_QEMU, "guest agent guest-network-get-interfaces: "
                               "rx-bytes/tx-bytes must be non-negative integers");
            break;
        }
        found += a;
    }
    cJSON_Delete(ret);
    if (rc)
        return -1;
    if (!found)
        return pvm_error_set(err, PVM_E_QEMU, "guest agent: no non-loopback interface reports statistics");
    *out = n;
    return 0;
}

int pvm_qga_net_bytes(pvm_qga *g, uint64_t *rx, uint64_t *tx, pvm_error *err)
{
    pvm_qga_net n;
    if (pvm_qga_net_stats(g, QGA_NET_MS, &n, err) < 0)
        return -1;
    *rx = n.rx_bytes;
    *tx = n.tx_bytes;
    return 0;
}

void pvm_qga_close(pvm_qga *g)
{
    if (!g)
        return;
    pvm_rpc_close(&g->rpc);
    free(g);
}
