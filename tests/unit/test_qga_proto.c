/* test_qga_proto.c - unit tests of engine/qga.c and engine/base64.c: the guest
 * agent protocol against a scripted fake agent on a unix socket (a thread), and
 * hostile replies from it (the agent side is guest-controlled). Run by tests/run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "../../engine/qemu/qmp.h"
#include "../../engine/internal.h"
#include "unix_peer.h"

/* ------------------------------------------------------------- base64 */

static void test_base64_vectors(void **state)
{
    (void)state;
    /* RFC 4648 section 10 */
    static const char *plain[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
    static const char *enc[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
    for (size_t i = 0; i < 7; i++) {
        char *e = pvm_base64_encode(plain[i], strlen(plain[i]));
        assert_string_equal(e, enc[i]);
        free(e);
        unsigned char *d = NULL;
        size_t n = 99;
        pvm_error err = { 0 };
        assert_int_equal(pvm_base64_decode(enc[i], strlen(enc[i]), &d, &n, &err), 0);
        assert_int_equal(n, strlen(plain[i]));
        assert_memory_equal(d, plain[i], n);
        assert_int_equal(d[n], '\0');
        free(d);
    }
    char *e = pvm_base64_encode("\xff\xfe\xfd\x00\x3e\x3f", 6);
    assert_string_equal(e, "//79AD4/");
    free(e);
}

static void expect_decode(const char *text, const char *want)
{
    unsigned char *d = NULL;
    size_t n = 0;
    pvm_error err = { 0 };
    assert_int_equal(pvm_base64_decode(text, strlen(text), &d, &n, &err), 0);
    assert_int_equal(n, strlen(want));
    assert_memory_equal(d, want, n);
    free(d);
}

static void expect_decode_fails(const char *text, size_t len)
{
    unsigned char *d = (unsigned char *)1;
    size_t n = 0;
    pvm_error err = { 0 };
    assert_int_equal(pvm_base64_decode(text, len, &d, &n, &err), -1);
    assert_int_equal(err.code, PVM_E_QEMU);
    assert_null(d);
    assert_non_null(strstr(err.msg, "base64"));
}

static void test_base64_decode_forms(void **state)
{
    (void)state;
    expect_decode_fails("Zg", 2);          /* unpadded: qemu-ga always pads */
    expect_decode_fails("Zm8", 3);
    expect_decode_fails("Zh==", 4);        /* bits left over in the last group */
    expect_decode("Zm9v\r\nYmFy\n", "foobar"); /* line breaks ignored */
    expect_decode(" Zm9v YmE= ", "fooba");
    expect_decode_fails("Zm9v!", 5);
    expect_decode_fails("Z", 1);           /* a lone 6-bit group */
    expect_decode_fails("Zm9vY", 5);
    expect_decode_fails("Zg=", 3);         /* wrong padding */
    expect_decode_fails("Zg===", 5);
    expect_decode_fails("====", 4);
    expect_decode_fails("Zg==Zg==", 8);    /* data after padding */
    expect_decode_fails("Zm9v\0YmFy", 9);  /* NUL is not base64 */
    expect_decode_fails("Zm9-", 4);        /* URL alphabet is not accepted */
}

static void test_base64_roundtrip(void **state)
{
    (void)state;
    unsigned char data[1024];
    for (size_t i = 0; i < 256; i++)
        data[i] = (unsigned char)i;
    pvm_random_bytes(data + 256, sizeof data - 256);
    for (size_t len = 0; len <= sizeof data; len += (len < 64 ? 1 : 37)) {
        char *e = pvm_base64_encode(data, len);
        assert_int_equal(strlen(e), (len + 2) / 3 * 4);
        unsigned char *d = NULL;
        size_t n = 0;
        pvm_error err = { 0 };
        assert_int_equal(pvm_base64_decode(e, strlen(e), &d, &n, &err), 0);
        assert_int_equal(n, len);
        if (len)
            assert_memory_equal(d, data, len);
        free(d);
        free(e);
    }
}

/* ---------------------------------------------------------- fake agent */

#define FAKE_PID 4242
#define FAKE_HANDLE 1000

typedef struct agent {
    char dir[64];
    char path[128];
    int lfd, fd;
    pthread_t th;
    bool running;
    /* behaviour */
    bool accept_only;          /* accept, read, never answer */
    const char *stale_first_sync; /* raw bytes sent before the delimiter of the first sync */
    const char *stale_resync;  /* raw bytes sent before the delimiter of later syncs */
    bool echo_id;              /* replies carry the request's id ... */
    bool stale_id_first;       /* ... each preceded by a reply with a wrong id */
    bool ignore_first_ping;
    int running_polls;         /* guest-exec-status says exited:false this many times */
    const char *override_cmd;  /* send override_reply (raw) instead of the normal reply */
    const char *override_reply;
    size_t big_reply;          /* instead: this many bytes of 'x' and no newline */
    bool hangup;               /* close the connection after the override reply */
    size_t write_max;          /* guest-file-write accepts at most this many bytes (0: all) */
    const char *leftover;      /* bytes a previous client left half-sent, read before ours */
    const unsigned char *read_src; /* guest-file-read serves these bytes (else "hello") */
    size_t read_len, read_pos;
    /* what it saw */
    bool pipelined;            /* a request was waiting before the last one was answered */
    int syncs, pings, exec_polls, writes, reads, resets;
    char exec_path[64];
    char exec_args[256];
    bool capture_output;
    char file_path[128];
    char file_mode[8];
    unsigned char *file;
    size_t file_len, max_chunk;
    bool file_closed;
} agent;

/* The test's own base64 decoder, independent of engine/base64.c. */
static size_t agent_b64_decode(const char *s, unsigned char *out)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = 0;
    unsigned bits = 0, nb = 0;
    for (; *s && *s != '='; s++) {
        const char *p = strchr(abc, *s);
        if (!p)
            return (size_t)-1;
        bits = bits << 6 | (unsigned)(p - abc);
        nb += 6;
        if (nb >= 8) {
            nb -= 8;
            out[n++] = (unsigned char)(bits >> nb);
        }
    }
    return n;
}

static bool agent_send(agent *a, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(a->fd, p, n, MSG_NOSIGNAL);
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

static bool agent_send_str(agent *a, const char *s)
{
    return agent_send(a, s, strlen(s));
}

static bool agent_send_big(agent *a, size_t n)
{
    char chunk[65536];
    memset(chunk, 'x', sizeof chunk);
    while (n) {
        size_t c = n < sizeof chunk ? n : sizeof chunk;
        if (!agent_send(a, chunk, c))
            return false;
        n -= c;
    }
    return true;
}

/* msg as QEMU's JSON writer prints a reply: ", " and ": " between items (qemu-ga's
 * {"return": ..., "id": 7}), malloc'd. */
static char *agent_qemu_text(const cJSON *msg)
{
    char *flat = cJSON_PrintUnformatted(msg);
    size_t n = strlen(flat);
    char *out = pvm_xmalloc(2 * n + 1), *o = out;
    bool in_str = false;
    for (size_t i = 0; i < n; i++) {
        char c = flat[i];
        *o++ = c;
        if (in_str && c == '\\' && i + 1 < n)
            *o++ = flat[++i];
        else if (c == '"')
            in_str = !in_str;
        else if (!in_str && (c == ',' || c == ':'))
            *o++ = ' ';
    }
    *o = '\0';
    free(flat);
    return out;
}

/* Sends {"return": ret} (consumed), with the request's id when echoing. */
static bool agent_reply(agent *a, const cJSON *req, cJSON *ret)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(req, "id");
    bool ok = true;
    if (a->echo_id && a->stale_id_first && cJSON_IsNumber(id))
        ok = agent_send_str(a, "{\"return\": {\"stale\": true}, \"id\": 424242}\n");
    cJSON *msg = cJSON_CreateObject();
    cJSON_AddItemToObject(msg, "return", ret);
    if (a->echo_id && id)
        cJSON_AddItemToObject(msg, "id", cJSON_Duplicate(id, 1));
    char *text = agent_qemu_text(msg);
    cJSON_Delete(msg);
    ok = ok && agent_send_str(a, text) && agent_send_str(a, "\n");
    free(text);
    return ok;
}

static bool agent_error(agent *a, const char *desc)
{
    cJSON *msg = cJSON_CreateObject();
    cJSON *e = cJSON_AddObjectToObject(msg, "error");
    cJSON_AddStringToObject(e, "class", "GenericError");
    cJSON_AddStringToObject(e, "desc", desc);
    char *text = cJSON_PrintUnformatted(msg);
    cJSON_Delete(msg);
    bool ok = agent_send_str(a, text) && agent_send_str(a, "\n");
    free(text);
    return ok;
}

static const cJSON *arg(const cJSON *req, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(req, "arguments"), key);
}

static bool agent_sync(agent *a, const cJSON *req)
{
    const char *stale = a->syncs++ == 0 ? a->stale_first_sync : a->stale_resync;
    if (stale && !agent_send_str(a, stale))
        return false;
    const cJSON *id = arg(req, "id");
    cJSON *msg = cJSON_CreateObject();
    cJSON_AddItemToObject(msg, "return", cJSON_Duplicate(id, 1));
    char *text = cJSON_PrintUnformatted(msg);
    cJSON_Delete(msg);
    bool ok = agent_send_str(a, "\xff") && agent_send_str(a, text) && agent_send_str(a, "\n");
    free(text);
    return ok;
}

static bool agent_exec(agent *a, const cJSON *req)
{
    const cJSON *path = arg(req, "path"), *args = arg(req, "arg"), *v;
    pvm_strlcpy(a->exec_path, cJSON_IsString(path) ? path->valuestring : "?", sizeof a->exec_path);
    a->capture_output = cJSON_IsTrue(arg(req, "capture-output"));
    a->exec_args[0] = '\0';
    cJSON_ArrayForEach(v, args) {
        if (a->exec_args[0])
            strncat(a->exec_args, "|", sizeof a->exec_args - strlen(a->exec_args) - 1);
        strncat(a->exec_args, cJSON_IsString(v) ? v->valuestring : "?",
                sizeof a->exec_args - strlen(a->exec_args) - 1);
    }
    cJSON *ret = cJSON_CreateObject();
    cJSON_AddNumberToObject(ret, "pid", FAKE_PID);
    return agent_reply(a, req, ret);
}

static bool agent_exec_status(agent *a, const cJSON *req)
{
    const cJSON *pid = arg(req, "pid");
    if (!cJSON_IsNumber(pid) || pid->valueint != FAKE_PID)
        return agent_error(a, "Invalid parameter 'pid'");
    cJSON *ret = cJSON_CreateObject();
    if (++a->exec_polls <= a->running_polls) {
        cJSON_AddFalseToObject(ret, "exited");
        return agent_reply(a, req, ret);
    }
    cJSON_AddTrueToObject(ret, "exited");
    cJSON_AddNumberToObject(ret, "exitcode", 3);
    cJSON_AddStringToObject(ret, "out-data", "aGVsbG8K"); /* "hello\n" */
    cJSON_AddStringToObject(ret, "err-data", "b29wcw==");  /* "oops" */
    return agent_reply(a, req, ret);
}

static bool agent_file_write(agent *a, const cJSON *req)
{
    const cJSON *h = arg(req, "handle"), *b = arg(req, "buf-b64");
    if (!cJSON_IsNumber(h) || h->valueint != FAKE_HANDLE || !cJSON_IsString(b))
        return agent_error(a, "bad handle or buffer");
    unsigned char *chunk = pvm_xmalloc(strlen(b->valuestring) + 1);
    size_t n = agent_b64_decode(b->valuestring, chunk);
    if (n == (size_t)-1) {
        free(chunk);
        return agent_error(a, "bad base64");
    }
    if (a->write_max && n > a->write_max)
        n = a->write_max;
    a->file = pvm_xrealloc(a->file, a->file_len + n);
    memcpy(a->file + a->file_len, chunk, n);
    a->file_len += n;
    free(chunk);
    a->writes++;
    if (n > a->max_chunk)
        a->max_chunk = n;
    cJSON *ret = cJSON_CreateObject();
    cJSON_AddNumberToObject(ret, "count", (double)n);
    cJSON_AddFalseToObject(ret, "eof");
    return agent_reply(a, req, ret);
}

static bool agent_file_open(agent *a, const cJSON *req)
{
    const cJSON *p = arg(req, "path"), *m = arg(req, "mode");
    pvm_strlcpy(a->file_path, cJSON_IsString(p) ? p->valuestring : "?", sizeof a->file_path);
    pvm_strlcpy(a->file_mode, cJSON_IsString(m) ? m->valuestring : "?", sizeof a->file_mode);
    return agent_reply(a, req, cJSON_CreateNumber(FAKE_HANDLE));
}

static const char net_json[] =
    "[{\"name\": \"lo\", \"hardware-address\": \"00:00:00:00:00:00\","
    "  \"statistics\": {\"rx-bytes\": 1000, \"tx-bytes\": 1000}},"
    " {\"name\": \"eth0\", \"statistics\": {\"rx-bytes\": 100, \"tx-bytes\": 200, \"rx-packets\": 3}},"
    " {\"name\": \"eth1\", \"statistics\": {\"rx-bytes\": 5, \"tx-bytes\": 7}},"
    " {\"name\": \"eth2\"}]";

static bool agent_dispatch(agent *a, const cJSON *req)
{
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(req, "execute");
    const char *cmd = cJSON_IsString(c) ? c->valuestring : "";
    if (strcmp(cmd, "guest-sync-delimited") == 0)
        return agent_sync(a, req);
    if (a->override_cmd && strcmp(cmd, a->override_cmd) == 0) {
        bool ok = a->big_reply ? agent_send_big(a, a->big_reply) : agent_send_str(a, a->override_reply);
        return ok && !a->hangup;
    }
    if (strcmp(cmd, "guest-ping") == 0)
        return (a->pings++ == 0 && a->ignore_first_ping) || agent_reply(a, req, cJSON_CreateObject());
    if (strcmp(cmd, "guest-info") == 0) {
        cJSON *ret = cJSON_CreateObject();
        cJSON_AddStringToObject(ret, "version", "7.2.0");
        return agent_reply(a, req, ret);
    }
    if (strcmp(cmd, "guest-exec") == 0)
        return agent_exec(a, req);
    if (strcmp(cmd, "guest-exec-status") == 0)
        return agent_exec_status(a, req);
    if (strcmp(cmd, "guest-file-open") == 0)
        return agent_file_open(a, req);
    if (strcmp(cmd, "guest-file-write") == 0)
        return agent_file_write(a, req);
    if (strcmp(cmd, "guest-file-read") == 0 && a->read_src) { /* as fread + feof would */
        const cJSON *count = arg(req, "count");
        size_t want = cJSON_IsNumber(count) ? (size_t)count->valuedouble : 0;
        size_t n = a->read_len - a->read_pos < want ? a->read_len - a->read_pos : want;
        char *b64 = pvm_base64_encode(a->read_src + a->read_pos, n);
        a->read_pos += n;
        a->reads++;
        cJSON *ret = cJSON_CreateObject();
        cJSON_AddNumberToObject(ret, "count", (double)n);
        cJSON_AddStringToObject(ret, "buf-b64", b64);
        cJSON_AddBoolToObject(ret, "eof", n < want);
        free(b64);
        return agent_reply(a, req, ret);
    }
    if (strcmp(cmd, "guest-file-read") == 0) { /* "hello" in one piece, then eof */
        cJSON *ret = cJSON_CreateObject();
        bool first = a->reads++ == 0;
        cJSON_AddNumberToObject(ret, "count", first ? 5 : 0);
        cJSON_AddStringToObject(ret, "buf-b64", first ? "aGVsbG8=" : "");
        cJSON_AddBoolToObject(ret, "eof", !first);
        return agent_reply(a, req, ret);
    }
    if (strcmp(cmd, "guest-file-close") == 0) {
        a->file_closed = true;
        return agent_reply(a, req, cJSON_CreateObject());
    }
    if (strcmp(cmd, "guest-network-get-interfaces") == 0)
        return agent_reply(a, req, cJSON_Parse(net_json));
    return agent_error(a, "The command has not been found");
}

/* Reads one request line into a growing buffer; false on EOF or 10 s of silence. */
static bool agent_read_line(agent *a, char **buf, size_t *cap)
{
    size_t n = 0;
    if (a->leftover) { /* once: what the last connection left in the line buffer */
        n = strlen(a->leftover);
        *cap = n + 4096;
        *buf = pvm_xrealloc(*buf, *cap);
        memcpy(*buf, a->leftover, n);
        a->leftover = NULL;
    }
    for (;;) {
        struct pollfd p = { .fd = a->fd, .events = POLLIN };
        char c;
        if (poll(&p, 1, 10000) <= 0 || read(a->fd, &c, 1) != 1)
            return false;
        if (n + 1 >= *cap) {
            *cap = *cap ? *cap * 2 : 4096;
            *buf = pvm_xrealloc(*buf, *cap);
        }
        if ((unsigned char)c == 0xFF) { /* qemu-ga's lexer: reset, answer with an error */
            n = 0;
            a->resets++;
            if (!agent_error(a, "JSON parse error, invalid byte"))
                return false;
            continue;
        }
        if (c == '\n') {
            (*buf)[n] = '\0';
            return true;
        }
        (*buf)[n++] = c;
    }
}

static void *agent_main(void *arg)
{
    agent *a = arg;
    struct pollfd p = { .fd = a->lfd, .events = POLLIN };
    if (poll(&p, 1, 10000) <= 0 || (a->fd = accept(a->lfd, NULL, NULL)) < 0)
        return NULL;
    char *buf = NULL;
    size_t cap = 0;
    bool ok = true;
    while (ok && agent_read_line(a, &buf, &cap)) {
        if (a->accept_only)
            continue;
        cJSON *req = cJSON_Parse(buf);
        struct pollfd more = { .fd = a->fd, .events = POLLIN };
        if (poll(&more, 1, 0) > 0) /* the client did not wait for this one's answer */
            a->pipelined = true;
        ok = agent_dispatch(a, req);
        cJSON_Delete(req);
    }
    free(buf);
    close(a->fd);
    return NULL;
}

static agent *g_agent;  /* the running fake, stopped by the per-test teardown */
static pvm_qga *g_qga;  /* the test's client, closed by the per-test teardown */

static int agent_setup(void **state)
{
    agent *a = pvm_xcalloc(1, sizeof *a);
    pvm_strlcpy(a->dir, "/tmp/pvmqga.XXXXXX", sizeof a->dir);
    if (!mkdtemp(a->dir)) {
        free(a);
        return -1;
    }
    snprintf(a->path, sizeof a->path, "%s/qga.sock", a->dir);
    a->lfd = listen_unix(a->path);
    a->fd = -1;
    g_agent = a;
    *state = a;
    return a->lfd < 0 ? -1 : 0;
}

static void agent_start(agent *a)
{
    assert_int_equal(pthread_create(&a->th, NULL, agent_main, a), 0);
    a->running = true;
}

static int agent_teardown(void **state)
{
    agent *a = *state;
    pvm_qga_close(g_qga); /* the agent thread then sees EOF and ends */
    g_qga = NULL;
    if (a->running)
        pthread_join(a->th, NULL);
    close(a->lfd);
    unlink(a->path);
    rmdir(a->dir);
    free(a->file);
    free(a);
    g_agent = NULL;
    return 0;
}

static pvm_qga *connect_ok(agent *a)
{
    pvm_error err = { 0 };
    int rc = pvm_qga_connect(a->path, 5000, &g_qga, &err);
    if (rc)
        fail_msg("connect: %s", err.msg);
    return g_qga;
}

/* ---------------------------------------------------------- agent tests */

static void test_sync_discards_stale(void **state)
{
    agent *a = *state;
    /* Old replies, junk, an old delimited reply and a partial line precede ours. */
    a->stale_first_sync = "{\"return\": {}}\n"
                          "not json at all\n"
                          "\xff{\"return\": 1234}\n"
                          "{\"return\": 99}\n"
                          "\x01\x02 binary junk";
    agent_start(a);
    pvm_qga *g = connect_ok(a);
    pvm_error err = { 0 };
    assert_int_equal(pvm_qga_ping(g, 2000, &err), 0);
    assert_int_equal(a->syncs, 1);
    cJSON *ret = NULL;
    assert_int_equal(pvm_qga_execute(g, "guest-info", NULL, &ret, 2000, &err), 0);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(ret, "version")->valuestring, "7.2.0");
    cJSON_Delete(ret);
}

/* An ISA serial port keeps what an earlier client half-sent: the 0xFF sent before the
 * sync resets the agent's parser, else every request would parse as garbage. */
static void test_sync_resets_half_sent_request(void **state)
{
    agent *a = *state;
    a->leftover = "{\"execute\": \"guest-sync-del";
    agent_start(a);
    pvm_qga *g = connect_ok(a);
    pvm_error err = { 0 };
    assert_int_equal(a->resets, 1);
    assert_int_equal(a->syncs, 1);
    assert_int_equal(pvm_qga_ping(g, 2000, &err), 0);
    assert_int_equal(a->pings, 1);
}

/* agent.seen beside the socket: absent, then newer than the socket after a mark. */
static void test_seen_this_run(void **state)
{
    agent *a = *state;
    time_t when = 0;
    assert_false(pvm_qga_seen_this_run(a->path, &when));
    pvm_qga_mark_seen(a->path);
    assert_true(pvm_qga_seen_this_run(a->path, &when));
    assert_true(when >= time(NULL) - 5);
    char seen[160];
    snprintf(seen, sizeof seen, "%s/agent.seen", a->dir);
    struct stat st;
    assert_int_equal(stat(seen, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    /* A socket made after the mark (a new QEMU run): the old answer does not count. */
    struct timespec old[2] = {{.tv_sec = 1000000000}, {.tv_sec = 1000000000}};
    assert_int_equal(utimensat(AT_FDCWD, seen, old, 0), 0);
    assert_false(pvm_qga_seen_this_run(a->path, &when));
    unlink(seen);
}

/* agent.seen from the previous run made within the same second as the new socket: compared
 * in nanoseconds, earlier than the socket does not count, later does. */
static void test_seen_same_second(void **state)
{
    agent *a = *state;
    time_t when = 0;
    pvm_qga_mark_seen(a->path);
    char seen[160];
    snprintf(seen, sizeof seen, "%s/agent.seen", a->dir);
    struct timespec sock_t[2] = {{.tv_sec = 1500000000, .tv_nsec = 500000000},
                                 {.tv_sec = 1500000000, .tv_nsec = 500000000}};
    struct timespec before[2] = {{.tv_sec = 1500000000, .tv_nsec = 100000000},
                                 {.tv_sec = 1500000000, .tv_nsec = 100000000}};
    struct timespec after[2] = {{.tv_sec = 1500000000, .tv_nsec = 900000000},
                                {.tv_sec = 1500000000, .tv_nsec = 900000000}};
    assert_int_equal(utimensat(AT_FDCWD, a->path, sock_t, 0), 0);
    assert_int_equal(utimensat(AT_FDCWD, seen, before, 0), 0);
    assert_false(pvm_qga_seen_this_run(a->path, &when));
    assert_int_equal(utimensat(AT_FDCWD, seen, after, 0), 0);
    assert_true(pvm_qga_seen_this_run(a->path, &when));
    assert_int_equal(when, 1500000000);
    unlink(seen);
}

static void test_no_agent_listener(void **state)
{
    agent *a = *state; /* listening, never accepting */
    pvm_qga *g = (pvm_qga *)1;
    pvm_error err = { 0 };
    assert_int_equal(pvm_qga_connect(a->path, 300, &g, &err), -1);
    assert_null(g);
    assert_int_equal(err.code, PVM_E_QEMU);
    assert_non_null(strstr(err.msg, "guest-sync-delimited"));
}

static void test_agent_silent(void **state)
{
    agent *a = *state;
    a->accept_only = true; /* like QEMU's chardev with no qemu-ga in the guest */
    agent_start(a);
    pvm_qga *g = (pvm_qga *)1;
    pvm_error err = { 0 };
    assert_int_equal(pvm_qga_connect(a->path, 300, &g, &err), -1);
    assert_null(g);
    assert_int_equal(err.code, PVM_E_QEMU);
    assert_non_null(strstr(err.msg, "is qemu-ga running"));
}

static void test_missing_socket(void **state)
{
    (void)state;
    pvm_qga *g = NULL;
    pvm_error err = { 0 };
    assert_int_equal(pvm_qga_connect("/tmp/pvm-no-such-dir/qga.sock", 300, &g, &err), -1);
    assert_int_equal(err.code, PVM_E_QEMU);
    assert_non_null(strstr(err.msg, "cannot connect"));
}

/* A reply that arrives after its command timed out is dropped by a resync. */
static void test_resync_after_timeout(void **state)
{
    agent *a = *state;
    a->ignore_first_ping = true;
    a->stale_resync = "{\"return\": {\"late\": true}}\n";
    agent_start(a);
    pvm_qga *g = connect_ok(a);
    pvm_error err = { 0 };
    assert_int_equal(pvm_qga_ping(g, 200, &err), -1);
    assert_int_equal(err.code, PVM_E_QEMU);
    assert_non_null(strstr(err.msg, "no reply"));
    cJSON *ret = NULL;
    assert_int_equal(pvm_qga_execute(g, "guest-info", NULL, &ret, 2000, &err), 0);
    assert_non_null(cJSON_GetObjectItemCaseSensitive(ret, "version"));
    cJSON_Delete(ret);
    assert_int_equal(a->syncs, 2);
}

static void test_reply_ids(void **state)
{
    agent *a = *state;
    a->echo_id = true;
    a->stale_id_first = true;
    agent_start(a);
    pvm_qga *g = connect_ok(a);
    pvm_error err = { 0 };
    cJSON *ret = NULL;
    assert_int_equal(pvm_qga_execute(g, "guest-info", NULL, &ret, 2000, &err), 0);
    assert_non_null(cJSON_GetObjectItemCaseSensitive(ret, "version"));
    assert_null(cJSON_GetObjectItemCaseSensitive(ret, "stale"));
    cJSON_Delete(ret);
}

static void test_agent_error_reply(void **state)
{
    agent *a = *state;
    agent_start(a);
    pvm_qga *g = connect_ok(a);
    pvm_error err = { 0 };
    assert_int_equal(pvm_qga_execute(g, "guest-nothing", NULL, NULL, 2000, &err), -1);
    assert_int_equal(err.code, PVM_E_QEMU);
    assert_non_null(strstr(err.msg, "has not been found"));
    assert_int_equal(pvm_qga_ping(g, 2000, &err), 0);
}

static void test_exec_polls_and_decodes(void **state)
{
    agent *a = *state;
    a->running_polls = 3;
    agent_start(a);
    pvm_qga *g = connect_ok(a);
    const char *argv[] = { "-c", "echo hello", NULL };
    int code = -1;
    char *out = NULL, *errout = NULL;
    pvm_error err = { 0 };
    assert_int_equal(pvm_qga_exec(g, "/bin/sh", argv, 5000, &code, &out, &errout, &err), 0);
    assert_int_equal(code, 3);
    assert_string_equal(out, "hello\n");
    assert_string_equal(errout, "oops");
    assert_string_equal(a->exec_path, "/bin/sh");
    assert_string_equal(a->exec_args, "-c|echo hello");
    assert_true(a->capture_output);
    assert_int_equal(a->exec_polls, 4);
    free(out);
    free(errout);
}

static void test_exec_signal_no_output(void **state)
{
    agent *a = *state;
    a->override_cmd = "guest-exec-status";
    a->override_reply = "{\"return\": {\"exited\": true, \"signal\": 9}}\n";
    agent_start(a);
    pvm_qga *g = connect_ok(a);
    int code = 0;
    char *out = (char *)1, *errout = (char *)1;
    pvm_error err = { 0 };
    assert_int_equal(pvm_qga_exec(g, "/bin/true", NULL, 5000, &code, &out, &errout, &err), 0);
    assert_int_equal(code, 128 + 9);
    assert_null(out);
    assert_null(errout);
    assert_string_equal(a->exec_args, "");
}

/* Guest output is bytes: a NUL inside it must not cut it (out-data "a\0b\n", err-data "\0x"). */
static void test_exec_status_keeps_nul_bytes(void **state)
{
    agent *a = *state;
    a->override_cmd = "guest-exec-status";
    a->override_reply = "{\"return\": {\"exited\": true, \"exitcode\": 0, "
                        "\"out-data\": \"YQBiCg==\", \"err-data\": \"AHg=\"}}\n";
    agent_start(a);
    pvm_qga *g = connect_ok(a);
    int64_t pid = 0;
    pvm_error err = { 0 };
    assert_int_equal(pvm_qga_exec_start(g, "/bin/printf", NULL, NULL, 0, &pid, 5000, &err), 0);
    int code = -1;
    char *out = NULL, *errout = NULL;
    size_t on = 99, en = 99;
    assert_int_equal(pvm_qga_exec_status(g, pid, 5000, &code, &out, &on, &errout, &en, &err), 1);
    assert_int_equal(code, 0);
    assert_int_equal(on, 4);
    assert_memory_equal(out, "a\0b\n", 4);
    assert_int_equal(en, 2);
    assert_memory_equal(errout, "\0x", 2);
    free(out);
    free(errout);
}

static void test_exec_timeout(void **state)
{
    agent *a = *state;
    a->running_polls = 1000000;
    agent_start(a);
    pvm_qga *g = connect_ok(a);
    int code = 0;
    pvm_error err = { 0 };
    assert_int_equal(pvm_qga_exec(g, "/bin/sleep", NULL, 300, &code, NULL, NULL, &err), -1);
    assert_int_equal(err.code, PVM_E_QEMU);
    assert_non_null(strstr(err.msg, "still running"));
    assert_true(a->exec_polls >= 1);
}

static void test_file_write_chunks(void **state)
{
    agent *a = *state;
    agent_start(a);
    pvm_qga *g = connect_ok(a);
    size_t len = 700 * 1024 + 17;
    unsigned char *data = pvm_xmalloc(len);
    pvm_random_bytes(data, len);
    pvm_error err = { 0 };
    assert_int_equal(pvm_qga_file_write(g, "/tmp/payload.bin", data, len, &err), 0);
    assert_string_equal(a->file_path, "/tmp/payload.bin");
    assert_string_equal(a->file_mode, "w");
    assert_true(a->file_closed);
    assert_int_equal(a->file_len, len);
    assert_memory_equal(a->file, data, len);
    assert_true(a->writes >= 2);              /* it was chunked ... */
    assert_true(a->max_chunk <= 256 * 1024); /* ... into bounded pieces */
    free(data);
}

static void test_file_write_partial_counts(void **state)
{
    agent *a = *state;
    a->write_max = 1000; /* the guest accepts at most 1000 bytes per call */
    agent_start(a);
    pvm_qga *g = connect_ok(a);
    unsigned char data[10007];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (unsigned char)(i * 7 + 3);
    pvm_error err = { 0 };
    assert_int_equal(pvm_qga_file_write(g, "/x", data, sizeof data, &err), 0);
    assert_int_equal(a->file_len, sizeof data);
    assert_memory_equal(a->file, data, sizeof data);
    assert_int_equal(a->writes, 11);
}

/* Overlapped writes: the next chunk is encoded while the guest works, but never sent before
 * the last one is answered (qemu-ga was seen to lose a reply then); a short count is made
 * up before the next chunk goes. */
static void test_put_overlapped(void **state)
{
    agent *a = *state;
    a->echo_id = true;
    a->write_max = 3000;
    agent_start(a);
    pvm_qga *g = connect_ok(a);
    unsigned char data[3 * 4096 + 5];
    pvm_random_bytes(data, sizeof data);
    pvm_error err = { 0 };
    int64_t h = 0;
    assert_int_equal(pvm_qga_file_open(g, "/x", "w", &h, &err), 0);
    pvm_qga_put *cur = pvm_qga_put_new(g, h, data, 4096);
    for (size_t off = 4096; cur; off += 4096) {
        if (pvm_qga_put_send(g, cur, &err) < 0)
            fail_msg("send: %s", err.msg);
        size_t n = off < sizeof data ? (sizeof data - off < 4096 ? sizeof data - off : 4096) : 0;
        pvm_qga_put *next = n ? pvm_qga_put_new(g, h, data + off, n) : NULL;
        if (pvm_qga_put_take(g, cur, &err) < 0)
            fail_msg("take: %s", err.msg);
        pvm_qga_put_free(cur);
        cur = next;
    }
    assert_int_equal(pvm_qga_file_close(g, h, &err), 0);
    assert_int_equal(a->file_len, sizeof data);
    assert_memory_equal(a->file, data, sizeof data);
    assert_int_equal(a->writes, 7); /* 4096 = 3000 + 1096, three times, then 5 */
    assert_false(a->pipelined);
}

/* Reads ahead: whole pieces of a file that echoes ids bring the next read out before the
 * last is decoded, never while one is unanswered; the data arrives whole and in order. An
 * agent without ids is read one call at a time. A read left ahead does not disturb the next
 * command. */
static void read_ahead_case(agent *a, bool echo, size_t len, size_t max, unsigned want_ahead)
{
    a->echo_id = echo;
    unsigned char *src = pvm_xmalloc(len + 1);
    pvm_random_bytes(src, len);
    a->read_src = src;
    a->read_len = len;
    agent_start(a);
    pvm_qga *g = connect_ok(a);
    pvm_error err = { 0 };
    int64_t h = 0;
    assert_int_equal(pvm_qga_file_open(g, "/x", "r", &h, &err), 0);
    unsigned char *got = pvm_xmalloc(len + 1);
    size_t total = 0;
    pvm_qga_ahead ahead = { 0 };
    for (bool eof = false; !eof;) {
        unsigned char *buf = NULL;
        size_t n = 0;
        if (pvm_qga_file_get_ahead(g, h, max, &ahead, &buf, &n, &eof, &err) < 0)
            fail_msg("read: %s", err.msg);
        assert_true(total + n <= len);
        memcpy(got + total, buf, n);
        total += n;
        free(buf);
        if (n == 0)
            eof = true;
    }
    assert_int_equal(total, len);
    assert_memory_equal(got, src, len);
    assert_int_equal(ahead.sent, want_ahead); /* each whole piece brought the next early */
    assert_int_equal(ahead.id, 0);            /* and the end of the file left none ahead */
    assert_int_equal(pvm_qga_ping(g, 5000, &err), 0);
    assert_int_equal(pvm_qga_file_close(g, h, &err), 0);
    assert_false(a->pipelined);
    free(got);
    free(src);
}

static void test_read_ahead(void **state)
{
    read_ahead_case(*state, true, 5 * 4096 + 100, 4096, 5);
}

static void test_read_ahead_whole_pieces(void **state)
{
    /* the file ends on a piece: the 4th whole piece brings a 5th read (count 0, eof) */
    read_ahead_case(*state, true, 4 * 4096, 4096, 4);
}

static void test_read_ahead_short_tail(void **state)
{
    /* a last piece a few bytes short (its line as long as a whole one's base64) is not
     * whole: nothing is read past the end */
    read_ahead_case(*state, true, 2 * 4096 + 4090, 4096, 2);
}

static void test_read_ahead_no_ids(void **state)
{
    read_ahead_case(*state, false, 3 * 4096 + 1, 4096, 0); /* one call at a time */
}

/* A copy out cancelled with a read ahead: that read's reply is taken before the close (no
 * resync while it is unanswered), the partial host file is removed and the guest file is
 * closed. */
static void test_copy_out_cancel_with_read_ahead(void **state)
{
    agent *a = *state;
    a->echo_id = true;
    size_t len = 64 * 1024;
    unsigned char *src = pvm_xmalloc(len);
    pvm_random_bytes(src, len);
    a->read_src = src;
    a->read_len = len;
    agent_start(a);
    pvm_qga *g = connect_ok(a);
    g_qga = NULL;
    pvm_agent *ag = pvm_agent_attach(g, false);
    int cancel[2];
    assert_int_equal(pipe(cancel), 0);
    assert_int_equal(write(cancel[1], "x", 1), 1); /* cancelled from the first chunk on */
    pvm_progress p = { .cancel_fd = cancel[0] };
    char dir[] = "/tmp/pvmcopy.XXXXXX", host[64];
    assert_non_null(mkdtemp(dir));
    snprintf(host, sizeof host, "%s/out.bin", dir);
    pvm_copy_result r;
    pvm_error err = { 0 };
    assert_int_equal(pvm_agent_copy_out(ag, "/x.bin", host, 20000, &p, &r, &err), -1);
    assert_int_equal(err.code, PVM_E_CANCELLED);
    assert_int_equal(a->reads, 2);   /* the first piece and the one read ahead */
    assert_int_equal(a->syncs, 1);   /* no resync while that read was unanswered */
    assert_true(a->file_closed);
    assert_false(a->pipelined);
    assert_int_equal(rmdir(dir), 0); /* the partial host file went */
    pvm_agent_close(ag);
    close(cancel[0]);
    close(cancel[1]);
    free(src);
}

/* The engine's own copy in (agent_stream_in): many chunks, short counts made up, the next
 * chunk encoded while the guest works but never sent before the last is answered. */
static void test_copy_in_overlapped(void **state)
{
    agent *a = *state;
    a->echo_id = true;
    a->write_max = 3000;
    a->override_cmd = "guest-exec-status"; /* the check-and-rename script succeeds */
    a->override_reply = "{\"return\": {\"exited\": true, \"exitcode\": 0}}\n";
    agent_start(a);
    pvm_qga *g = connect_ok(a);
    g_qga = NULL;
    pvm_agent *ag = pvm_agent_attach(g, false);
    char path[] = "/tmp/pvmcopyin.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    size_t len = 40 * 1024 + 7;
    unsigned char *data = pvm_xmalloc(len);
    pvm_random_bytes(data, len);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);
    pvm_copy_result r;
    pvm_error err = { 0 };
    if (pvm_agent_copy_in(ag, path, "/tmp/in.bin", 20000, NULL, &r, &err) != 0)
        fail_msg("copy in: %s", err.msg);
    assert_int_equal(r.bytes, len);
    assert_int_equal(a->file_len, len);
    assert_memory_equal(a->file, data, len);
    assert_true(a->writes > (int)(len / 4096)); /* more calls than chunks: short counts */
    assert_true(a->file_closed);
    assert_false(a->pipelined);
    pvm_agent_close(ag);
    unlink(path);
    free(data);
}

static void test_file_write_empty(void **state)
{
    agent *a = *state;
    agent_start(a);
    pvm_qga *g = connect_ok(a);
    pvm_error err = { 0 };
    assert_int_equal(pvm_qga_file_write(g, "/empty", NULL, 0, &err), 0);
    assert_true(a->file_closed);
    assert_int_equal(a->writes, 0);
}

static void test_net_bytes(void **state)
{
    agent *a = *state;
    agent_start(a);
    pvm_qga *g = connect_ok(a);
    uint64_t rx = 0, tx = 0;
    pvm_error err = { 0 };
    assert_int_equal(pvm_qga_net_bytes(g, &rx, &tx, &err), 0);
    assert_int_equal(rx, 105); /* eth0 + eth1; lo and eth2 (no statistics) left out */
    assert_int_equal(tx, 207);
}

/* Packets are summed only when every counted interface has them. */
static void test_net_stats(void **state)
{
    agent *a = *state;
    agent_start(a);
    pvm_qga *g = connect_ok(a);
    pvm_qga_net n;
    pvm_error err = { 0 };
    assert_int_equal(pvm_qga_net_stats(g, 3000, &n, &err), 0);
    assert_int_equal(n.rx_bytes, 105);
    assert_int_equal(n.tx_bytes, 207);
    assert_false(n.packets_known); /* eth0 lacks tx-packets, eth1 has none */
}

static void test_net_stats_packets(void **state)
{
    agent *a = *state;
    a->override_cmd = "guest-network-get-interfaces";
    a->override_reply =
        "{\"return\": [{\"name\": \"eth0\", \"statistics\": {\"rx-bytes\": 10, \"tx-bytes\": 20,"
        " \"rx-packets\": 1, \"tx-packets\": 2}}, {\"name\": \"eth1\", \"statistics\":"
        " {\"rx-bytes\": 1, \"tx-bytes\": 2, \"rx-packets\": 30, \"tx-packets\": 40}}]}\n";
    agent_start(a);
    pvm_qga *g = connect_ok(a);
    pvm_qga_net n;
    pvm_error err = { 0 };
    assert_int_equal(pvm_qga_net_stats(g, 3000, &n, &err), 0);
    assert_true(n.packets_known);
    assert_int_equal(n.rx_bytes, 11);
    assert_int_equal(n.tx_bytes, 22);
    assert_int_equal(n.rx_packets, 31);
    assert_int_equal(n.tx_packets, 42);
}

/* ------------------------------------------------------ hostile replies */

typedef int (*call_fn)(pvm_qga *g, pvm_error *err);

static int call_exec(pvm_qga *g, pvm_error *err)
{
    int code = 0;
    char *out = NULL, *errout = NULL;
    int rc = pvm_qga_exec(g, "/bin/true", NULL, 3000, &code, &out, &errout, err);
    assert_null(out);
    assert_null(errout);
    return rc;
}

static int call_write(pvm_qga *g, pvm_error *err)
{
    return pvm_qga_file_write(g, "/f", "abcdef", 6, err);
}

static int call_net(pvm_qga *g, pvm_error *err)
{
    uint64_t rx = 0, tx = 0;
    int rc = pvm_qga_net_bytes(g, &rx, &tx, err);
    assert_int_equal(rx, 0);
    assert_int_equal(tx, 0);
    return rc;
}

/* Opens a file for reading and reads at most 16 bytes. */
static int call_read(pvm_qga *g, pvm_error *err)
{
    int64_t h = 0;
    unsigned char *buf = (unsigned char *)1;
    size_t n = 99;
    bool eof = false;
    if (pvm_qga_file_open(g, "/etc/x", "r", &h, err) < 0)
        return -1;
    int rc = pvm_qga_file_get(g, h, 16, &buf, &n, &eof, err);
    if (rc < 0) {
        assert_null(buf);
        assert_int_equal(n, 0);
    } else {
        free(buf);
    }
    return rc;
}

static int call_osinfo(pvm_qga *g, pvm_error *err)
{
    char id[16];
    bool win = true;
    return pvm_qga_osinfo(g, id, sizeof id, &win, err);
}

static int call_ping(pvm_qga *g, pvm_error *err)
{
    return pvm_qga_ping(g, 3000, err);
}

/* The agent answers cmd with reply; the call must fail with PVM_E_QEMU mentioning want. */
static void expect_hostile(agent *a, const char *cmd, const char *reply, call_fn call, const char *want)
{
    a->override_cmd = cmd;
    a->override_reply = reply;
    agent_start(a);
    pvm_qga *g = connect_ok(a);
    pvm_error err = { 0 };
    assert_int_equal(call(g, &err), -1);
    assert_int_equal(err.code, PVM_E_QEMU);
    if (!strstr(err.msg, want))
        fail_msg("error \"%s\" lacks \"%s\"", err.msg, want);
}

#define HOSTILE(name, cmd, reply, call, want)                 \
    static void name(void **state)                            \
    {                                                         \
        expect_hostile(*state, cmd, reply, call, want);       \
    }

HOSTILE(test_hostile_not_json, "guest-exec-status", "<html>oops</html>\n", call_exec, "malformed")
HOSTILE(test_hostile_array, "guest-ping", "[1, 2]\n", call_ping, "not a JSON object")
HOSTILE(test_hostile_no_return, "guest-ping", "{\"status\": 1}\n", call_ping, "neither")
HOSTILE(test_hostile_exited_type, "guest-exec-status", "{\"return\": {\"exited\": \"yes\"}}\n",
        call_exec, "not a boolean")
HOSTILE(test_hostile_out_type, "guest-exec-status",
        "{\"return\": {\"exited\": true, \"exitcode\": 0, \"out-data\": 5}}\n", call_exec, "not a string")
HOSTILE(test_hostile_out_b64, "guest-exec-status",
        "{\"return\": {\"exited\": true, \"exitcode\": 0, \"out-data\": \"aGVs!G8K\"}}\n", call_exec, "base64")
HOSTILE(test_hostile_err_b64, "guest-exec-status",
        "{\"return\": {\"exited\": true, \"exitcode\": 0, \"out-data\": \"aGVsbG8K\", \"err-data\": \"@@\"}}\n",
        call_exec, "err-data")
HOSTILE(test_hostile_exitcode, "guest-exec-status",
        "{\"return\": {\"exited\": true, \"exitcode\": 1e300}}\n", call_exec, "exitcode")
HOSTILE(test_hostile_pid, "guest-exec", "{\"return\": {\"pid\": \"abc\"}}\n", call_exec, "pid")
HOSTILE(test_hostile_pid_frac, "guest-exec", "{\"return\": {\"pid\": 1.5}}\n", call_exec, "pid")
HOSTILE(test_hostile_handle, "guest-file-open", "{\"return\": \"h\"}\n", call_write, "not a handle")
HOSTILE(test_hostile_handle_neg, "guest-file-open", "{\"return\": -1}\n", call_write, "not a handle")
HOSTILE(test_hostile_count_zero, "guest-file-write", "{\"return\": {\"count\": 0}}\n", call_write, "count")
HOSTILE(test_hostile_count_big, "guest-file-write", "{\"return\": {\"count\": 7}}\n", call_write, "count")
HOSTILE(test_hostile_net_type, "guest-network-get-interfaces", "{\"return\": {\"lo\": 1}}\n",
        call_net, "not an array")
HOSTILE(test_hostile_net_negative, "guest-network-get-interfaces",
        "{\"return\": [{\"name\": \"eth0\", \"statistics\": {\"rx-bytes\": -5, \"tx-bytes\": 1}}]}\n",
        call_net, "non-negative")
HOSTILE(test_hostile_net_huge, "guest-network-get-interfaces",
        "{\"return\": [{\"name\": \"eth0\", \"statistics\": {\"rx-bytes\": 1e30, \"tx-bytes\": 1}}]}\n",
        call_net, "non-negative")
HOSTILE(test_hostile_net_none, "guest-network-get-interfaces",
        "{\"return\": [{\"name\": \"lo\", \"statistics\": {\"rx-bytes\": 5, \"tx-bytes\": 1}}, 7, \"x\"]}\n",
        call_net, "no non-loopback")

HOSTILE(test_hostile_read_shape, "guest-file-read", "{\"return\": [1, 2]}\n", call_read, "reply is not")
HOSTILE(test_hostile_read_no_eof, "guest-file-read",
        "{\"return\": {\"count\": 5, \"buf-b64\": \"aGVsbG8=\"}}\n", call_read, "reply is not")
HOSTILE(test_hostile_read_count_over, "guest-file-read",
        "{\"return\": {\"count\": 99999, \"buf-b64\": \"aGVsbG8=\", \"eof\": false}}\n", call_read,
        "count <= 16")
HOSTILE(test_hostile_read_count_lies, "guest-file-read",
        "{\"return\": {\"count\": 3, \"buf-b64\": \"aGVsbG8=\", \"eof\": false}}\n", call_read,
        "count 3 but 5 bytes")
HOSTILE(test_hostile_read_oversized, "guest-file-read",
        "{\"return\": {\"count\": 16, \"buf-b64\": \"aGVsbG8aGVsbG8aGVsbG8aGVsbG8aGVsbG8aGVsbG8aGVsbG8=\", "
        "\"eof\": false}}\n", call_read, "longer than")
HOSTILE(test_hostile_read_b64, "guest-file-read",
        "{\"return\": {\"count\": 5, \"buf-b64\": \"aGVs!G8=\", \"eof\": false}}\n", call_read, "base64")
HOSTILE(test_hostile_osinfo, "guest-get-osinfo", "{\"return\": \"linux\"}\n", call_osinfo, "not an object")

/* A read streams until eof; replies for other ids (out of order, stale) are dropped. */
static void test_file_read_out_of_order(void **state)
{
    agent *a = *state;
    a->echo_id = true;
    a->stale_id_first = true;
    agent_start(a);
    pvm_qga *g = connect_ok(a);
    pvm_error err = { 0 };
    int64_t h = 0;
    assert_int_equal(pvm_qga_file_open(g, "/etc/hostname", "r", &h, &err), 0);
    assert_string_equal(a->file_mode, "r");
    unsigned char *buf = NULL;
    size_t n = 0;
    bool eof = true;
    assert_int_equal(pvm_qga_file_get(g, h, 1024, &buf, &n, &eof, &err), 0);
    assert_int_equal(n, 5);
    assert_memory_equal(buf, "hello", 5);
    assert_false(eof);
    free(buf);
    assert_int_equal(pvm_qga_file_get(g, h, 1024, &buf, &n, &eof, &err), 0);
    assert_int_equal(n, 0);
    assert_true(eof);
    free(buf);
    assert_int_equal(pvm_qga_file_close(g, h, &err), 0);
    assert_true(a->file_closed);
}

/* ------------------------------------------------- agent.c copy out */

#define HELLO_SHA "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"

/* Copies the fake's "hello" out through agent.c into host (a file in a new folder). */
static int copy_out_hello(agent *a, bool windows, const char *host, pvm_copy_result *r,
                          pvm_error *err)
{
    agent_start(a);
    pvm_qga *g = connect_ok(a);
    g_qga = NULL; /* the agent session owns it now */
    pvm_agent *ag = pvm_agent_attach(g, windows);
    int rc = pvm_agent_copy_out(ag, windows ? "C:\\x.txt" : "/x.txt", host, 20000, NULL, r, err);
    pvm_agent_close(ag);
    return rc;
}

static void read_host(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, size - 1, f);
    buf[n] = '\0';
    fclose(f);
}

/* A guest without sha256sum (Windows): the copy succeeds but says it was not checked;
 * an existing 0600 target keeps 0600 (the temp file must not widen it). */
static void test_copy_out_unchecked_keeps_mode(void **state)
{
    agent *a = *state;
    char dir[] = "/tmp/pvmcopy.XXXXXX", host[64], buf[16];
    assert_non_null(mkdtemp(dir));
    snprintf(host, sizeof host, "%s/out.txt", dir);
    int fd = open(host, O_WRONLY | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "old secret", 10), 10);
    close(fd);
    assert_int_equal(chmod(host, 0600), 0);
    pvm_copy_result r;
    pvm_error err = { 0 };
    if (copy_out_hello(a, true, host, &r, &err) != 0)
        fail_msg("copy out: %s", err.msg);
    assert_false(r.checked);
    assert_string_equal(r.sha256, HELLO_SHA);
    read_host(host, buf, sizeof buf);
    assert_string_equal(buf, "hello");
    struct stat st;
    assert_int_equal(stat(host, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    unlink(host);
    rmdir(dir);
}

/* Copies "hello" out to a new host file under umask 022, the guest's sha256sum (and stat
 * -c %a) answering with out_b64 (base64 of their output): checked, whole, of mode want. */
static void copy_out_mode_case(agent *a, const char *out_b64, mode_t want)
{
    static char reply[512];
    snprintf(reply, sizeof reply, "{\"return\": {\"exited\": true, \"exitcode\": 0, "
             "\"out-data\": \"%s\"}}\n", out_b64);
    a->override_cmd = "guest-exec-status";
    a->override_reply = reply;
    char dir[] = "/tmp/pvmcopy.XXXXXX", host[64], buf[16];
    assert_non_null(mkdtemp(dir));
    snprintf(host, sizeof host, "%s/new.txt", dir);
    mode_t um = umask(022);
    pvm_copy_result r;
    pvm_error err = { 0 };
    int rc = copy_out_hello(a, false, host, &r, &err);
    umask(um);
    if (rc != 0)
        fail_msg("copy out: %s", err.msg);
    assert_true(r.checked);
    read_host(host, buf, sizeof buf);
    assert_string_equal(buf, "hello");
    struct stat st;
    assert_int_equal(stat(host, &st), 0);
    assert_int_equal(st.st_mode & 07777, want);
    unlink(host);
    rmdir(dir);
}

/* The guest's sha256sum agrees: checked; without a mode line, 0666 less the umask. */
static void test_copy_out_checked_new_file(void **state)
{
    agent *a = *state;
    /* HELLO_SHA "  /x.txt\n" */
    copy_out_mode_case(a, "MmNmMjRkYmE1ZmIwYTMwZTI2ZTgzYjJhYzViOWUyOWUxYjE2MWU1YzFmYTc0MjVlNzMw"
                          "NDMzNjI5MzhiOTgyNCAgL3gudHh0Cg==", 0644);
    assert_string_equal(a->exec_path, "sh");
    assert_non_null(strstr(a->exec_args, "sha256sum"));
}

/* Over an existing host file (which keeps its mode) the guest runs sha256sum alone, no
 * shell and no stat: checked, whole, the file's 0640 kept. */
static void test_copy_out_existing_sum_only(void **state)
{
    agent *a = *state;
    a->override_cmd = "guest-exec-status";
    a->override_reply = "{\"return\": {\"exited\": true, \"exitcode\": 0, \"out-data\": "
                        "\"MmNmMjRkYmE1ZmIwYTMwZTI2ZTgzYjJhYzViOWUyOWUxYjE2MWU1YzFmYTc0MjVlNzMw"
                        "NDMzNjI5MzhiOTgyNCAgL3gudHh0Cg==\"}}\n"; /* HELLO_SHA "  /x.txt\n" */
    char dir[] = "/tmp/pvmcopy.XXXXXX", host[64], buf[16];
    assert_non_null(mkdtemp(dir));
    snprintf(host, sizeof host, "%s/old.txt", dir);
    int fd = open(host, O_WRONLY | O_CREAT | O_EXCL, 0640);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(chmod(host, 0640), 0);
    pvm_copy_result r;
    pvm_error err = { 0 };
    if (copy_out_hello(a, false, host, &r, &err) != 0)
        fail_msg("copy out: %s", err.msg);
    assert_true(r.checked);
    assert_string_equal(a->exec_path, "sha256sum");
    assert_string_equal(a->exec_args, "/x.txt");
    read_host(host, buf, sizeof buf);
    assert_string_equal(buf, "hello");
    struct stat st;
    assert_int_equal(stat(host, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0640);
    unlink(host);
    rmdir(dir);
}

/* The guest said its mode: its bits less the umask, setuid/setgid/sticky dropped; a
 * malformed mode line is ignored. */
static void test_copy_out_new_file_takes_guest_mode(void **state)
{
    copy_out_mode_case(*state, "MmNmMjRkYmE1ZmIwYTMwZTI2ZTgzYjJhYzViOWUyOWUxYjE2MWU1YzFmYTc0MjVlNzMwNDMzNjI5MzhiOTgyNCAgLQo2MDAK", 0600);
}

static void test_copy_out_guest_mode_masked(void **state)
{
    copy_out_mode_case(*state, "MmNmMjRkYmE1ZmIwYTMwZTI2ZTgzYjJhYzViOWUyOWUxYjE2MWU1YzFmYTc0MjVlNzMwNDMzNjI5MzhiOTgyNCAgLQo0Nzc3Cg==", 0755);
}

static void test_copy_out_guest_mode_malformed(void **state)
{
    copy_out_mode_case(*state, "MmNmMjRkYmE1ZmIwYTMwZTI2ZTgzYjJhYzViOWUyOWUxYjE2MWU1YzFmYTc0MjVlNzMwNDMzNjI5MzhiOTgyNCAgLQo2MGEwCg==", 0644);
}

/* The agent lock: a second holder waits, then gets PVM_E_BUSY naming the first one's pid. */
static void test_agent_lock_busy(void **state)
{
    (void)state;
    char dir[] = "/tmp/pvm-qgalock-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char sock[64], lock[64];
    snprintf(sock, sizeof sock, "%s/qga.sock", dir);
    snprintf(lock, sizeof lock, "%s/agent.lock", dir);
    int fd1 = -1, fd2 = -1;
    pvm_error err = { 0 };
    assert_int_equal(pvm_qga_lock(sock, 0, &fd1, &err), 0);
    assert_int_equal(pvm_qga_lock(sock, 100, &fd2, &err), -1);
    assert_int_equal(fd2, -1);
    assert_int_equal(err.code, PVM_E_BUSY);
    char want[32];
    snprintf(want, sizeof want, "pid %ld", (long)getpid());
    if (!strstr(err.msg, want))
        fail_msg("\"%s\" lacks \"%s\"", err.msg, want);
    pvm_qga_unlock(fd1);
    assert_int_equal(pvm_qga_lock(sock, 0, &fd2, &err), 0); /* given up: free again */
    pvm_qga_unlock(fd2);
    unlink(lock);
    rmdir(dir);
}

/* A write whose count is wrong still closes the guest file. */
static void test_hostile_count_closes_file(void **state)
{
    agent *a = *state;
    expect_hostile(a, "guest-file-write", "{\"return\": {\"count\": -3}}\n", call_write, "count");
    pvm_qga_close(g_qga); /* let the agent finish before reading what it saw */
    g_qga = NULL;
    pthread_join(a->th, NULL);
    a->running = false;
    assert_true(a->file_closed);
}

static void test_hostile_huge_line(void **state)
{
    agent *a = *state;
    a->override_cmd = "guest-exec-status";
    a->big_reply = PVM_RPC_LINE_MAX + (2u << 20);
    agent_start(a);
    pvm_qga *g = connect_ok(a);
    int code = 0;
    pvm_error err = { 0 };
    assert_int_equal(pvm_qga_exec(g, "/bin/true", NULL, 20000, &code, NULL, NULL, &err), -1);
    assert_int_equal(err.code, PVM_E_QEMU);
    assert_non_null(strstr(err.msg, "longer than"));
    /* The stream lost its framing: the client refuses further use. */
    assert_int_equal(pvm_qga_ping(g, 1000, &err), -1);
    assert_int_equal(err.code, PVM_E_QEMU);
}

static void test_hostile_agent_hangs_up(void **state)
{
    agent *a = *state;
    a->override_cmd = "guest-ping";
    a->override_reply = "{\"return\": {"; /* half a reply, then the agent closes */
    a->hangup = true;
    agent_start(a);
    pvm_qga *g = connect_ok(a);
    pvm_error err = { 0 };
    assert_int_equal(pvm_qga_ping(g, 3000, &err), -1);
    assert_int_equal(err.code, PVM_E_QEMU);
    assert_non_null(strstr(err.msg, "closed"));
    /* Later calls fail at once, without SIGPIPE. */
    assert_int_equal(pvm_qga_ping(g, 3000, &err), -1);
    assert_int_equal(err.code, PVM_E_QEMU);
}

/* Nesting deeper than cJSON's limit is refused, not a stack overflow. */
static void test_hostile_deep(void **state)
{
    enum { depth = 5000 };
    static char reply[2 * depth + 16]; /* outlives the test: the agent thread may still send */
    memcpy(reply, "{\"return\": ", 11);
    memset(reply + 11, '[', depth);
    memset(reply + 11 + depth, ']', depth);
    memcpy(reply + 11 + 2 * depth, "}\n", 3);
    expect_hostile(*state, "guest-ping", reply, call_ping, "malformed");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, agent_setup, agent_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base64_vectors),
        cmocka_unit_test(test_base64_decode_forms),
        cmocka_unit_test(test_base64_roundtrip),
        T(test_sync_discards_stale),
        T(test_sync_resets_half_sent_request),
        T(test_seen_this_run),
        T(test_seen_same_second),
        T(test_no_agent_listener),
        T(test_agent_silent),
        cmocka_unit_test(test_missing_socket),
        T(test_resync_after_timeout),
        T(test_reply_ids),
        T(test_agent_error_reply),
        T(test_exec_polls_and_decodes),
        T(test_exec_signal_no_output),
        T(test_exec_timeout),
        T(test_exec_status_keeps_nul_bytes),
        T(test_copy_out_unchecked_keeps_mode),
        T(test_copy_out_checked_new_file),
        T(test_copy_out_new_file_takes_guest_mode),
        T(test_copy_out_guest_mode_masked),
        T(test_copy_out_guest_mode_malformed),
        T(test_file_write_chunks),
        T(test_file_write_partial_counts),
        T(test_put_overlapped),
        T(test_read_ahead),
        T(test_read_ahead_whole_pieces),
        T(test_read_ahead_short_tail),
        T(test_read_ahead_no_ids),
        T(test_copy_out_cancel_with_read_ahead),
        T(test_copy_in_overlapped),
        T(test_copy_out_existing_sum_only),
        T(test_file_write_empty),
        T(test_net_bytes),
        T(test_net_stats),
        T(test_net_stats_packets),
        T(test_hostile_not_json),
        T(test_hostile_array),
        T(test_hostile_no_return),
        T(test_hostile_exited_type),
        T(test_hostile_out_type),
        T(test_hostile_out_b64),
        T(test_hostile_err_b64),
        T(test_hostile_exitcode),
        T(test_hostile_pid),
        T(test_hostile_pid_frac),
        T(test_hostile_handle),
        T(test_hostile_handle_neg),
        T(test_hostile_count_zero),
        T(test_hostile_count_big),
        T(test_hostile_net_type),
        T(test_hostile_net_negative),
        T(test_hostile_net_huge),
        T(test_hostile_net_none),
        T(test_hostile_deep),
        T(test_hostile_read_shape),
        T(test_hostile_read_no_eof),
        T(test_hostile_read_count_over),
        T(test_hostile_read_count_lies),
        T(test_hostile_read_oversized),
        T(test_hostile_read_b64),
        T(test_hostile_osinfo),
        T(test_file_read_out_of_order),
        cmocka_unit_test(test_agent_lock_busy),
        T(test_hostile_count_closes_file),
        T(test_hostile_huge_line),
        T(test_hostile_agent_hangs_up),
    };
    return cmocka_run_group_tests_name("qga-protocol", tests, NULL, NULL) ? 1 : 0;
}
