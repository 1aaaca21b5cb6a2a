/* agent.c - work inside a running guest through the QEMU guest agent: the agent session
 * (the VM's agent lock + one connection), guest commands, and streamed, checksummed
 * copies in both directions. Called by install.c, audit.c and the front ends. The one
 * engine file past hv.h by design: the agent exists only with the QEMU backend, so it
 * speaks qemu-ga itself (qemu/qmp.h) and asks qemu/qemu.h which channel QEMU gave it. */
#include "internal.h"
#include "proc.h"
#include "qemu/qemu.h"
#include "qemu/qmp.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <nettle/sha2.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define AGENT_CONNECT_MS 10000
#define AGENT_CHUNK (1024u * 1024u)     /* most raw bytes per guest-file-write/read */
#define AGENT_CHUNK_MIN (4u * 1024u)    /* fewest: an ISA serial channel under load */
#define AGENT_CHUNK_FIRST (4u * 1024u)  /* the first call's: safe on ISA serial, ~1.5 KB/s */
#define AGENT_CALL_AIM_MS 1000          /* chunks are sized for about one second per call */
#define AGENT_STATUS_MS 10000           /* one guest-exec-status call */
#define AGENT_POLL_MS 20
#define AGENT_TOOL_MS 120000            /* sha256sum, mv, rm in the guest */
#define AGENT_KILL_MS 5000              /* ending a process tree, all calls together */

struct pvm_agent {
    pvm_qga *g;
    int lock;
    bool windows;
    size_t chunk; /* raw bytes of the next file call: agent_chunk_timed adapts it */
    char os_id[64];
    char vm_name[PVM_NAME_MAX + 1];
};

static const char pvm_agent_howto[] =
    "is qemu-guest-agent installed and running in the guest? (Debian/Ubuntu: apt install "
    "qemu-guest-agent; Fedora/RHEL: dnf install qemu-guest-agent; Alpine: apk add "
    "qemu-guest-agent; Windows: the virtio-win guest tools)";

/* Why the agent behind sock may not have answered: when it answered earlier in this
 * QEMU run (agent.seen newer than the socket QEMU made at start), it is busy or
 * restarting, and installing it is the wrong advice. Writes into buf. */
static void agent_silence_advice(const char *sock, char *buf, size_t size)
{
    time_t seen;
    struct tm tm;
    char when[32] = "earlier";
    if (!pvm_qga_seen_this_run(sock, &seen)) {
        pvm_strlcpy(buf, pvm_agent_howto, size);
        return;
    }
    if (localtime_r(&seen, &tm))
        strftime(when, sizeof when, "at %H:%M:%S", &tm);
    snprintf(buf, size, "it answered %s in this run, so it is installed: the guest may be "
             "busy or the VM paused (try again), or qemu-guest-agent stopped in the guest "
             "(start it again there)", when);
}

int pvm_agent_open(pvm_engine *e, const char *name_or_id, int wait_ms, pvm_agent **out,
                   pvm_error *err)
{
    *out = NULL;
    pvm_vm vm;
    char sock[PVM_PATH_MAX];
    if (pvm_vm_get(e, name_or_id, &vm, err) < 0)
        return -1;
    if (vm.state != PVM_VM_RUNNING)
        return pvm_error_set(err, PVM_E_STATE, "VM '%s' is not running (%s): start it first",
                             vm.name, pvm_vm_state_name(vm.state));
    if (pvm_vm_path(e, &vm, PVM_VM_PATH_QGA_SOCK, sock, sizeof sock, err) < 0)
        return -1;
    struct stat st;
    if (stat(sock, &st) < 0 || !S_ISSOCK(st.st_mode))
        return pvm_error_set(err, PVM_E_STATE, "VM '%s': the guest agent channel %s is absent "
                             "(the VM was started without one)", vm.name, sock);
    pvm_agent *a = pvm_xcalloc(1, sizeof *a);
    a->lock = -1;
    /* virtio-serial takes 1 MiB calls from the first; an ISA serial port starts small */
    a->chunk = pvm_qemu_live_agent_channel(vm.pid) == PVM_AGENT_CHANNEL_VIRTIO ? AGENT_CHUNK
                                                                             : AGENT_CHUNK_FIRST;
    pvm_strlcpy(a->vm_name, vm.name, sizeof a->vm_name);
    if (pvm_qga_lock(sock, wait_ms, &a->lock, err) < 0) {
        free(a);
        return -1;
    }
    pvm_error cerr = { 0 };
    if (pvm_qga_connect(sock, AGENT_CONNECT_MS, &a->g, &cerr) < 0) {
        pvm_agent_close(a);
        char advice[sizeof pvm_agent_howto + 64];
        agent_silence_advice(sock, advice, sizeof advice);
        return pvm_error_set(err, PVM_E_QEMU, "VM '%s': the guest agent does not answer (%s); %s",
                             vm.name, cerr.msg, advice);
    }
    pvm_qga_mark_seen(sock);
    pvm_error oerr;
    if (pvm_qga_osinfo(a->g, a->os_id, sizeof a->os_id, &a->windows, &oerr) < 0) {
        a->os_id[0] = '\0'; /* an agent without guest-get-osinfo: a POSIX guest is assumed */
        a->windows = false;
    }
    *out = a;
    return 0;
}

pvm_agent *pvm_agent_attach(pvm_qga *g, bool windows)
{
    pvm_agent *a = pvm_xcalloc(1, sizeof *a);
    a->g = g;
    a->lock = -1;
    a->chunk = AGENT_CHUNK_FIRST;
    a->windows = windows;
    return a;
}

void pvm_agent_close(pvm_agent *a)
{
    if (!a)
        return;
    pvm_qga_close(a->g);
    pvm_qga_unlock(a->lock);
    free(a);
}

bool pvm_agent_windows(const pvm_agent *a) { return a->windows; }
const char *pvm_agent_os_id(const pvm_agent *a) { return a->os_id; }

void pvm_exec_result_free(pvm_exec_result *r)
{
    if (!r)
        return;
    free(r->out);
    free(r->err);
    memset(r, 0, sizeof *r);
}

/* ------------------------------------------------------------------ exec */

static int64_t agent_deadline(int timeout_ms)
{
    return timeout_ms < 0 ? INT64_MAX : pvm_proc_now_ms() + timeout_ms;
}

/* Milliseconds left before deadline (>= 0), or -1 for none. */
static int agent_left(int64_t deadline)
{
    if (deadline == INT64_MAX)
        return -1;
    int64_t left = deadline - pvm_proc_now_ms();
    return left <= 0 ? 0 : left > 0x7fffffff ? 0x7fffffff : (int)left;
}


typedef struct agent_exec_wait {
    pvm_agent *a;
    int64_t pid;
    int64_t deadline; /* of the whole wait */
    bool tight;       /* each status call bounded by the time left too (at least 100 ms) */
    pvm_exec_result *r;
    pvm_error *err;
    int rc;
} agent_exec_wait;

static bool agent_exec_done(void *ctx)
{
    agent_exec_wait *w = ctx;
    char *o = NULL, *e = NULL;
    size_t on = 0, en = 0;
    int left = agent_left(w->deadline);
    int call_ms = !w->tight || left < 0 || left > AGENT_STATUS_MS ? AGENT_STATUS_MS
                  : left < 100                                    ? 100
                                                                  : left;
    w->rc = pvm_qga_exec_status(w->a->g, w->pid, call_ms, &w->r->status, &o, &on, &e, &en,
                                w->err);
    if (w->rc == 1) { /* the bytes as the guest wrote them, NULs included (a NUL follows) */
        w->r->out = o ? o : pvm_xstrdup("");
        w->r->err = e ? e : pvm_xstrdup("");
        w->r->out_len = o ? on : 0;
        w->r->err_len = e ? en : 0;
    }
    return w->rc != 0;
}

/* POSIX guests: stops $1 and, depth first, every process under it (a shell's children:
 * an installer run under sh -c), then kills them (/proc/PID/task/TID/children, Linux 3.5+;
 * without it only $1 goes). Stopping first keeps a process from forking while the tree is
 * walked. */
static const char agent_kill_tree_script[] =
    "k() { kill -STOP \"$1\" 2>/dev/null; "
    "for c in $(cat /proc/\"$1\"/task/*/children 2>/dev/null); do k \"$c\"; done; "
    "kill -9 \"$1\" 2>/dev/null; }; k \"$1\"";

/* Polls guest-exec-status until pid exits or timeout_ms (< 0: no limit) passes (tight: no
 * status call outliving it either, else each may take AGENT_STATUS_MS): 1 exited (*r filled), 0 still running at the limit, -1 the wait
 * ended (a cancel; err), -2 a status call failed (err; the agent cannot be asked more). */
static int agent_exec_wait_for(pvm_agent *a, int64_t pid, int timeout_ms, bool tight,
                               const pvm_progress *progress, pvm_exec_result *r, pvm_error *err)
{
    agent_exec_wait w = { .a = a, .pid = pid, .deadline = agent_deadline(timeout_ms),
                          .tight = tight, .r = r, .err = err };
    int rc = pvm_wait_until(agent_exec_done, &w, timeout_ms < 0 ? -1 : timeout_ms, AGENT_POLL_MS,
                            progress, "running in the guest", err);
    if (rc == 1)
        return w.rc == 1 ? 1 : -2; /* done() ended the wait: exited, or the status call failed */
    return rc;
}

/* Best effort, within AGENT_KILL_MS in all: ends a guest process that outlived its time or
 * was cancelled, with the processes it started (taskkill /T on Windows,
 * agent_kill_tree_script elsewhere; a guest that cannot run sh gets kill -9 of the one
 * process). */
static void agent_kill(pvm_agent *a, int64_t pid)
{
    if (pid < 2)
        return; /* never 0 (our own group in the guest) or init */
    int64_t deadline = agent_deadline(AGENT_KILL_MS);
    char num[24];
    snprintf(num, sizeof num, "%lld", (long long)pid);
    const char *tree[] = { "sh", "-c", agent_kill_tree_script, "sh", num, NULL };
    const char *posix[] = { "kill", "-9", num, NULL };
    const char *win[] = { "taskkill", "/F", "/T", "/PID", num, NULL };
    const char *const *argv = a->windows ? win : tree;
    int64_t kpid = 0;
    pvm_error kerr = { 0 };
    if (pvm_qga_exec_start(a->g, argv[0], argv + 1, NULL, 0, &kpid, agent_left(deadline),
                           &kerr) < 0) {
        /* only a guest that could not start sh (GLib's spawn error) gets the plain kill: a
         * silent or broken channel would only spend the time again */
        if (a->windows || !strstr(kerr.msg, "Failed to execute child process") ||
            pvm_qga_exec_start(a->g, posix[0], posix + 1, NULL, 0, &kpid, agent_left(deadline),
                               &kerr) < 0)
            return;
    }
    pvm_exec_result r = { 0 };
    if (agent_left(deadline) > 0)
        agent_exec_wait_for(a, kpid, agent_left(deadline), true, NULL, &r, &kerr);
    pvm_exec_result_free(&r);
}

/* Waits for the guest process pid (started by argv0) as pvm_agent_exec does. */
static int agent_exec_finish(pvm_agent *a, const char *argv0, int64_t pid, int timeout_ms,
                             const pvm_progress *progress, pvm_exec_result *r, pvm_error *err)
{
    int rc = agent_exec_wait_for(a, pid, timeout_ms, false, progress, r, err);
    if (rc == 1)
        return 0;
    if (rc == -2)
        return -1;
    agent_kill(a, pid);
    pvm_exec_result_free(r);
    if (rc == 0)
        return pvm_error_set(err, PVM_E_STATE, "'%s' in the guest: still running after %d s "
                             "(timeout; the process was killed)", argv0, timeout_ms / 1000);
    return -1;
}

int pvm_agent_exec(pvm_agent *a, const char *const *argv, const void *input, size_t input_len,
                   int timeout_ms, const pvm_progress *progress, pvm_exec_result *r,
                   pvm_error *err)
{
    memset(r, 0, sizeof *r);
    if (!argv || !argv[0] || !argv[0][0])
        return pvm_error_set_field(err, PVM_E_INVALID, "command", "command: must not be empty");
    int64_t pid = 0;
    if (pvm_qga_exec_start(a->g, argv[0], argv + 1, input, input_len, &pid, AGENT_STATUS_MS,
                           err) < 0)
        return -1;
    return agent_exec_finish(a, argv[0], pid, timeout_ms, progress, r, err);
}

/* Runs a helper tool in the guest (sha256sum, mv, rm) and wants status 0. */
static int agent_tool(pvm_agent *a, const char *const *argv, char **out, pvm_error *err)
{
    pvm_exec_result r;
    if (pvm_agent_exec(a, argv, NULL, 0, AGENT_TOOL_MS, NULL, &r, err) < 0)
        return -1;
    if (r.status != 0) {
        size_t n = r.err_len;
        while (n && (r.err[n - 1] == '\n' || r.err[n - 1] == '\r'))
            r.err[--n] = '\0';
        pvm_error_set(err, PVM_E_STATE, "'%s' in the guest exited with %d: %.300s", argv[0],
                      r.status, r.err_len ? r.err : r.out);
        pvm_exec_result_free(&r);
        return -1;
    }
    if (out)
        *out = r.out, r.out = NULL;
    pvm_exec_result_free(&r);
    return 0;
}

static void agent_remove(pvm_agent *a, const char *path)
{
    pvm_error ignored;
    if (a->windows) {
        const char *argv[] = { "cmd.exe", "/c", "del", "/f", "/q", path, NULL };
        agent_tool(a, argv, NULL, &ignored);
    } else {
        const char *argv[] = { "rm", "-f", "--", path, NULL };
        agent_tool(a, argv, NULL, &ignored);
    }
}

static int agent_rename(pvm_agent *a, const char *from, const char *to, pvm_error *err)
{
    if (a->windows) {
        const char *argv[] = { "cmd.exe", "/c", "move", "/y", from, to, NULL };
        return agent_tool(a, argv, NULL, err);
    }
    const char *argv[] = { "mv", "-f", "--", from, to, NULL };
    return agent_tool(a, argv, NULL, err);
}

/* ------------------------------------------------------------------ copy */

/* Characters a Windows guest path or name may not hold: cmd.exe (which del, move, .bat
 * and --run go through) reads & | < > ^ " % as syntax; control bytes have no place. */
static bool agent_windows_char_bad(unsigned char c)
{
    return c < 0x20 || c == 0x7f || strchr("\"&%^|<>", c) != NULL;
}

/* A ".." component between separators ('\\' or '/') of a Windows path. */
static bool agent_windows_dotdot(const char *p)
{
    for (const char *s = p; *s; s++)
        if (s[0] == '.' && s[1] == '.' && (s == p || s[-1] == '\\' || s[-1] == '/') &&
            (!s[2] || s[2] == '\\' || s[2] == '/'))
            return true;
    return false;
}

static bool agent_path_ok(const char *p, bool windows)
{
    if (!p || !p[0] || strlen(p) >= 1024)
        return false;
    if (windows)
        return (((p[0] | 0x20) >= 'a' && (p[0] | 0x20) <= 'z' && p[1] == ':' &&
                 (p[2] == '\\' || p[2] == '/')) || p[0] == '\\');
    return p[0] == '/';
}

int pvm_agent_guest_path_check(const char *p, bool windows, const char *what, pvm_error *err)
{
    if (!agent_path_ok(p, windows))
        return pvm_error_set_field(err, PVM_E_INVALID, what, "%s: the guest path must be "
                                   "absolute (%s) and shorter than 1024 bytes, not '%s'", what,
                                   windows ? "C:\\..." : "/...", p ? p : "");
    if (!windows)
        return 0;
    for (const char *s = p; *s; s++)
        if (agent_windows_char_bad((unsigned char)*s) || (*s == ':' && s != p + 1))
            return pvm_error_set_field(err, PVM_E_INVALID, what, "%s: a Windows guest path may "
                                       "not hold \" & %% ^ | < >, ':' past the drive or control "
                                       "characters, not '%s'", what, p);
    if (agent_windows_dotdot(p))
        return pvm_error_set_field(err, PVM_E_INVALID, what, "%s: a Windows guest path may not "
                                   "hold a '..' component, not '%s'", what, p);
    return 0;
}

int pvm_agent_guest_name_check(const char *name, bool windows, const char *what, pvm_error *err)
{
    if (!name || !name[0] || strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
        strchr(name, '/') || strlen(name) > 255)
        return pvm_error_set_field(err, PVM_E_INVALID, what, "%s: '%s' is not a file name "
                                   "(1-255 bytes, no '/', not . or ..)", what, name ? name : "");
    if (!windows)
        return 0;
    for (const char *s = name; *s; s++)
        if (agent_windows_char_bad((unsigned char)*s) || *s == '\\' || *s == ':')
            return pvm_error_set_field(err, PVM_E_INVALID, what, "%s: a file name for a Windows "
                                       "guest may not hold \\ : \" & %% ^ | < > or control "
                                       "characters, not '%s'", what, name);
    return 0;
}

/* "<dir>/.pvm-<8 hex>.part" beside guest_path. */
static void agent_temp_name(const char *guest_path, bool windows, char *out, size_t size)
{
    const char *sep = strrchr(guest_path, '/');
    if (windows) {
        const char *bs = strrchr(guest_path, '\\');
        if (!sep || (bs && bs > sep))
            sep = bs;
    }
    size_t dir = sep ? (size_t)(sep - guest_path) + 1 : 0;
    snprintf(out, size, "%.*s.pvm-%08x.part", (int)dir, guest_path, pvm_random_below(0xffffffffu));
}

static void agent_hex(const unsigned char *md, char out[65])
{
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static void agent_report(const pvm_progress *p, const char *step, uint64_t done, uint64_t total)
{
    if (p && p->report)
        p->report(p->ctx, step, total ? (double)done / (double)total : done ? -1.0 : 1.0);
}

/* A copy's progress, its step saying how far, how fast and (with a total) about how long
 * is left once a second has passed since t0_ms: "copying into the guest: 1.2M of 4M, 5.1K/s,
 * about 9 min left" (pvm_size_format's units; a copy over an ISA serial port can take
 * minutes). */
static void agent_copy_report(const pvm_progress *p, const char *step, uint64_t done,
                              uint64_t total, int64_t t0_ms)
{
    int64_t ms = pvm_proc_now_ms() - t0_ms;
    if (!p || !p->report || ms < 1000 || done == 0) {
        agent_report(p, step, done, total);
        return;
    }
    char d[32], t[32], rate[32], text[200];
    double per_s = (double)done * 1000.0 / (double)ms;
    pvm_size_format(done, d, sizeof d);
    pvm_size_format((uint64_t)per_s, rate, sizeof rate);
    int n = snprintf(text, sizeof text, "%s: %s%s%s, %s/s", step, d, total ? " of " : "",
                     total ? pvm_size_format(total, t, sizeof t) : "", rate);
    if (total > done && per_s > 0 && n > 0 && (size_t)n < sizeof text) {
        double left = (double)(total - done) / per_s;
        if (left >= 90)
            snprintf(text + n, sizeof text - (size_t)n, ", about %.0f min left", left / 60);
        else
            snprintf(text + n, sizeof text - (size_t)n, ", about %.0f s left", left);
    }
    agent_report(p, text, done, total);
}

/* The guest's own SHA-256 of path into hex: sha256sum (POSIX); 1 found, 0 the guest has no
 * tool (the caller reads the file back), -1 error. */
static int agent_guest_sum(pvm_agent *a, const char *path, char hex[65], pvm_error *err)
{
    if (a->windows)
        return 0;
    const char *argv[] = { "sha256sum", path, NULL };
    char *out = NULL;
    pvm_error terr = { 0 };
    if (agent_tool(a, argv, &out, &terr) < 0) {
        if (strstr(terr.msg, "No such file") && strstr(terr.msg, "sha256sum") &&
            !strstr(terr.msg, path))
            return 0;
        *err = terr;
        return -1;
    }
    size_t n = 0;
    while (n < 64 && out[n] && strchr("0123456789abcdef", out[n]))
        n++;
    int rc = n == 64 ? 1 : pvm_error_set(err, PVM_E_QEMU, "sha256sum in the guest: "
                                          "unexpected output");
    if (rc == 1) {
        memcpy(hex, out, 64);
        hex[64] = '\0';
    }
    free(out);
    return rc;
}

/* Sizes the next file call from the last one (bytes in ms): a virtio-serial channel moves
 * 1 MiB in milliseconds, an ISA serial port (config agent_channel) tens of KB per second
 * under TCG, so one fixed chunk is either slow on the first or over the transport's
 * per-call timeout on the second. Doubles below a quarter of the aim, halves above twice
 * it, within AGENT_CHUNK_MIN..AGENT_CHUNK. */
static void agent_chunk_timed(pvm_agent *a, size_t bytes, int64_t ms)
{
    if (bytes < a->chunk)
        return; /* a short last call says nothing about the channel */
    if (ms < AGENT_CALL_AIM_MS / 4 && a->chunk < AGENT_CHUNK)
        a->chunk *= 2;
    else if (ms > 2 * AGENT_CALL_AIM_MS && a->chunk > AGENT_CHUNK_MIN)
        a->chunk /= 2;
}

/* Reads path back through the agent and hashes it (guests without sha256sum). */
static int agent_readback_sum(pvm_agent *a, const char *path, int64_t deadline, char hex[65],
                              pvm_error *err)
{
    int64_t h = 0;
    if (pvm_qga_file_open(a->g, path, a->windows ? "rb" : "r", &h, err) < 0)
        return -1;
    struct sha256_ctx md;
    sha256_init(&md);
    int rc = 0;
    for (bool eof = false; !eof && rc == 0;) {
        unsigned char *buf = NULL;
        size_t n = 0;
        int64_t t0 = pvm_proc_now_ms();
        if (pvm_qga_file_get(a->g, h, a->chunk, &buf, &n, &eof, err) < 0) {
            rc = -1;
        } else if (agent_left(deadline) == 0) {
            rc = pvm_error_set(err, PVM_E_STATE, "reading %s back: timeout", path);
        } else {
            agent_chunk_timed(a, n, pvm_proc_now_ms() - t0);
            sha256_update(&md, n, buf);
        }
        if (n == 0)
            eof = true;
        free(buf);
    }
    unsigned char d[SHA256_DIGEST_SIZE];
    sha256_digest(&md, sizeof d, d);
    pvm_error ignored;
    pvm_qga_file_close(a->g, h, &ignored);
    if (rc == 0)
        agent_hex(d, hex);
    return rc;
}

/* POSIX guests: one guest command hashes tmp with the guest's sha256sum, gives it the
 * host file's permissions ($4, octal: qemu-ga creates files 0666) and renames it when the
 * sum is want (saves a round trip per copy); 127 (no sha256sum or no sh) falls back to
 * agent_verify + agent_rename, as on Windows (the file then keeps qemu-ga's mode). */
static const char agent_check_script[] =
    "[ -d \"$2\" ] && { echo \"$2 is a folder (end the path with / to copy into it)\" >&2; "
    "exit 4; }; s=$(sha256sum < \"$1\") || exit 127; s=${s%% *}; "
    "[ \"$s\" = \"$3\" ] || { echo \"$s\"; exit 3; }; chmod \"$4\" \"$1\" || exit 5; "
    "exec mv -f -- \"$1\" \"$2\"";

static int agent_verify(pvm_agent *a, const char *path, const char *want, int64_t deadline,
                        pvm_error *err);
static int agent_rename(pvm_agent *a, const char *from, const char *to, pvm_error *err);

static int agent_check_rename(pvm_agent *a, const char *tmp, const char *dest, const char *want,
                              mode_t mode, int64_t deadline, pvm_error *err)
{
    if (!a->windows) {
        char octal[8];
        snprintf(octal, sizeof octal, "%o", (unsigned)(mode & 0755));
        const char *argv[] = { "sh", "-c", agent_check_script, "sh", tmp, dest, want, octal,
                               NULL };
        pvm_exec_result x;
        if (pvm_agent_exec(a, argv, NULL, 0, AGENT_TOOL_MS, NULL, &x, err) < 0)
            return -1;
        int st = x.status;
        char got[65] = "";
        pvm_strlcpy(got, x.out ? x.out : "", sizeof got);
        char why[300];
        pvm_strlcpy(why, x.err ? x.err : "", sizeof why);
        pvm_exec_result_free(&x);
        if (st == 0)
            return 0;
        if (st == 3)
            return pvm_error_set(err, PVM_E_QEMU, "checksum mismatch: the guest has SHA-256 %s, "
                                 "the host sent %s", got, want);
        if (st != 127) {
            why[strcspn(why, "\n")] = '\0';
            return pvm_error_set(err, PVM_E_STATE, "renaming into %s in the guest failed "
                                 "(status %d): %s", dest, st, why);
        }
    }
    if (agent_verify(a, tmp, want, deadline, err) < 0)
        return -1;
    return agent_rename(a, tmp, dest, err);
}

static int agent_verify(pvm_agent *a, const char *path, const char *want, int64_t deadline,
                        pvm_error *err)
{
    char got[65];
    int rc = agent_guest_sum(a, path, got, err);
    if (rc == 0)
        rc = agent_readback_sum(a, path, deadline, got, err) < 0 ? -1 : 1;
    if (rc < 0)
        return -1;
    if (strcmp(got, want) != 0)
        return pvm_error_set(err, PVM_E_QEMU, "checksum mismatch: the guest has SHA-256 %s, "
                             "the host sent %s", got, want);
    return 0;
}

/* Checks cancel and the deadline after a chunk: 0 go on, -1 with err. */
static int agent_chunk_checks(const pvm_progress *p, int64_t deadline, const char *what,
                              uint64_t bytes, pvm_error *err)
{
    if (pvm_progress_cancelled(p))
        return pvm_error_set(err, PVM_E_CANCELLED, "%s: cancelled", what);
    if (agent_left(deadline) == 0)
        return pvm_error_set(err, PVM_E_STATE, "%s: timeout after %llu bytes", what,
                             (unsigned long long)bytes);
    return 0;
}

/* Reads the next chunk of fd (a->chunk bytes at most) into buf, hashing it: its size, 0
 * at the end, -1 with err. */
static ssize_t agent_read_chunk(pvm_agent *a, int fd, unsigned char *buf, struct sha256_ctx *md,
                                pvm_error *err)
{
    for (;;) {
        ssize_t n = read(fd, buf, a->chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return pvm_error_set(err, PVM_E_IO, "reading the host file: %s", strerror(errno));
        sha256_update(md, (size_t)n, buf);
        return n;
    }
}

/* Streams fd into the open guest handle h, hashing; checks cancel and time per chunk.
 * While the guest decodes and writes one chunk, the host reads, hashes and encodes the
 * next (two buffers), so the guest waits only for the send. */
static int agent_stream_in(pvm_agent *a, int fd, int64_t h, uint64_t total, int64_t deadline,
                           const pvm_progress *p, pvm_copy_result *r, pvm_error *err)
{
    unsigned char *buf[2] = { pvm_xmalloc(AGENT_CHUNK), pvm_xmalloc(AGENT_CHUNK) };
    int64_t t0_copy = pvm_proc_now_ms();
    struct sha256_ctx md;
    sha256_init(&md);
    int rc = 0, cur = 0;
    ssize_t n = agent_read_chunk(a, fd, buf[cur], &md, err);
    pvm_qga_put *put = n > 0 ? pvm_qga_put_new(a->g, h, buf[cur], (size_t)n) : NULL;
    rc = n < 0 ? -1 : 0;
    while (rc == 0 && put) {
        int64_t t0 = pvm_proc_now_ms();
        if (pvm_qga_put_send(a->g, put, err) < 0) {
            rc = -1;
            break;
        }
        /* read at the chunk size of now: a change from this call's timing shows one chunk
         * later, which the halving threshold (2 s against a 30 s call limit) allows */
        ssize_t next = agent_read_chunk(a, fd, buf[!cur], &md, err);
        pvm_qga_put *after = next > 0 ? pvm_qga_put_new(a->g, h, buf[!cur], (size_t)next) : NULL;
        pvm_error terr = { 0 };
        rc = pvm_qga_put_take(a->g, put, &terr) < 0 || next < 0 ? -1 : 0;
        if (rc < 0 && next >= 0)
            *err = terr; /* else the host read's error, the first to happen, stands */
        pvm_qga_put_free(put);
        put = after;
        cur = !cur;
        if (rc < 0)
            break;
        agent_chunk_timed(a, (size_t)n, pvm_proc_now_ms() - t0);
        r->bytes += (uint64_t)n;
        n = next;
        agent_copy_report(p, "copying into the guest", r->bytes, total, t0_copy);
        rc = agent_chunk_checks(p, deadline, "copy into the guest", r->bytes, err);
    }
    pvm_qga_put_free(put);
    unsigned char d[SHA256_DIGEST_SIZE];
    sha256_digest(&md, sizeof d, d);
    agent_hex(d, r->sha256);
    free(buf[0]);
    free(buf[1]);
    return rc;
}

static int agent_open_host(const char *host_path, int *fd, uint64_t *size, pvm_error *err)
{
    *fd = open(host_path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (*fd < 0 || fstat(*fd, &st) < 0) {
        int e = errno;
        if (*fd >= 0)
            close(*fd);
        return pvm_error_set_field(err, PVM_E_INVALID, "FILE", "FILE: cannot open '%s': %s",
                                   host_path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(*fd);
        return pvm_error_set_field(err, PVM_E_INVALID, "FILE", "FILE: '%s' is not a regular file",
                                   host_path);
    }
    *size = (uint64_t)st.st_size;
    return 0;
}

/* The guest could not open the temporary file beside guest_path: err says why in the
 * user's terms, naming the guest folder (missing) or the path asked for, never the
 * temporary name the user did not choose. Returns -1. */
static int agent_open_error(const char *guest_path, pvm_error *err)
{
    char dir[1100], why[sizeof err->msg];
    pvm_strlcpy(dir, guest_path, sizeof dir);
    char *slash = strrchr(dir, '/'), *back = strrchr(dir, '\\');
    slash = back > slash ? back : slash;
    if (slash)
        slash[slash == dir ? 1 : 0] = '\0';
    /* qga's reason ends in the OS's text, e.g. "... (No such file or directory)" */
    const char *reason = strrchr(err->msg, '(');
    snprintf(why, sizeof why, "%s", reason ? reason : err->msg);
    if (strstr(err->msg, "No such file") || strstr(err->msg, "cannot find the path"))
        return pvm_error_set_field(err, PVM_E_NOTFOUND, "GUEST_PATH", "GUEST_PATH: the guest "
                                   "has no folder '%s' (for '%s'); make it first, e.g. vm exec "
                                   "VM -- mkdir -p '%s'", dir, guest_path, dir);
    return pvm_error_set_field(err, err->code ? err->code : PVM_E_QEMU, "GUEST_PATH",
                               "GUEST_PATH: the guest cannot write '%s' %s", guest_path, why);
}

int pvm_agent_set_aside(pvm_agent *a, const char *path, char *keep, size_t size,
                        pvm_error *err)
{
    keep[0] = '\0';
    int64_t h = 0;
    pvm_error oerr = { 0 };
    if (pvm_qga_file_open(a->g, path, a->windows ? "rb" : "r", &h, &oerr) < 0)
        return 0; /* nothing there to keep */
    pvm_qga_file_close(a->g, h, &oerr);
    agent_temp_name(path, a->windows, keep, size);
    if (agent_rename(a, path, keep, err) < 0) {
        keep[0] = '\0';
        return -1;
    }
    return 1;
}

void pvm_agent_put_back(pvm_agent *a, const char *keep, const char *path)
{
    pvm_error ignored = { 0 };
    if (keep[0])
        agent_rename(a, keep, path, &ignored);
}

void pvm_agent_remove(pvm_agent *a, const char *path)
{
    agent_remove(a, path);
}

bool pvm_agent_guest_is_dir(pvm_agent *a, const char *path)
{
    if (a->windows || !path || path[0] != '/')
        return false;
    int64_t h = 0;
    pvm_error err = { 0 };
    if (pvm_qga_file_open(a->g, path, "r", &h, &err) < 0)
        return false; /* absent, or not readable: not known to be a folder */
    unsigned char *piece = NULL;
    size_t got = 0;
    bool eof = false;
    bool dir = pvm_qga_file_get(a->g, h, 1, &piece, &got, &eof, &err) < 0 &&
               strstr(err.msg, "Is a directory"); /* POSIX opens a folder; reading it fails */
    free(piece);
    pvm_qga_file_close(a->g, h, &err);
    return dir;
}

int pvm_agent_copy_in(pvm_agent *a, const char *host_path, const char *guest_path,
                      int timeout_ms, const pvm_progress *progress, pvm_copy_result *r,
                      pvm_error *err)
{
    memset(r, 0, sizeof *r);
    int64_t t0 = pvm_proc_now_ms(), deadline = agent_deadline(timeout_ms);
    char into[1100], slashed[1100];
    size_t gl = guest_path ? strlen(guest_path) : 0;
    if (gl && guest_path[gl - 1] != '/' && pvm_agent_guest_is_dir(a, guest_path)) {
        snprintf(slashed, sizeof slashed, "%s/", guest_path); /* an existing folder: into it */
        guest_path = slashed;
        gl++;
    }
    if (gl && (guest_path[gl - 1] == '/' || (a->windows && guest_path[gl - 1] == '\\'))) {
        const char *b = strrchr(host_path, '/'); /* a folder: the host file's name inside it */
        snprintf(into, sizeof into, "%s%s", guest_path, b ? b + 1 : host_path);
        guest_path = into;
    }
    if (pvm_agent_guest_path_check(guest_path, a->windows, "GUEST_PATH", err) < 0)
        return -1;
    int fd = -1;
    uint64_t total = 0;
    if (agent_open_host(host_path, &fd, &total, err) < 0)
        return -1;
    struct stat hst;
    mode_t mode = fstat(fd, &hst) == 0 ? hst.st_mode & 07777 : 0644; /* the guest's copy: */
    /* the host file's permissions less write for group and others (a 0600 stays 0600) */
    char tmp[1100];
    agent_temp_name(guest_path, a->windows, tmp, sizeof tmp);
    int64_t h = 0;
    if (pvm_qga_file_open(a->g, tmp, a->windows ? "wb" : "w", &h, err) < 0) {
        close(fd);
        return agent_open_error(guest_path, err);
    }
    agent_report(progress, "copying into the guest", 0, total);
    int rc = agent_stream_in(a, fd, h, total, deadline, progress, r, err);
    close(fd);
    pvm_error cerr = { 0 };
    if (pvm_qga_file_close(a->g, h, &cerr) < 0 && rc == 0) {
        *err = cerr;
        rc = -1;
    }
    if (rc == 0) {
        agent_report(progress, "checking the SHA-256 in the guest", r->bytes, total);
        rc = agent_check_rename(a, tmp, guest_path, r->sha256, mode, deadline, err);
    }
    if (rc < 0) {
        agent_remove(a, tmp);
        return -1;
    }
    r->seconds = (double)(pvm_proc_now_ms() - t0) / 1000.0;
    r->checked = true; /* agent_check_rename compared the guest's sum (or a read back) */
    return 0;
}

/* ------------------------------------------------------------- copy out */

/* The host file to write: host_path, or host_path/<base name of guest_path> for a folder. */
static int agent_out_path(const char *host_path, const char *guest_path, char *out, size_t size,
                          pvm_error *err)
{
    struct stat st;
    if (stat(host_path, &st) == 0 && S_ISDIR(st.st_mode)) {
        const char *b = guest_path + strlen(guest_path);
        while (b > guest_path && b[-1] != '/' && b[-1] != '\\')
            b--;
        if (!*b || strcmp(b, ".") == 0 || strcmp(b, "..") == 0)
            return pvm_error_set_field(err, PVM_E_INVALID, "GUEST_PATH", "GUEST_PATH: '%s' names "
                                       "no file", guest_path);
        int n = snprintf(out, size, "%s/%s", host_path, b);
        if (n < 0 || (size_t)n >= size)
            return pvm_error_set(err, PVM_E_INVALID, "HOST_PATH: too long");
        return 0;
    }
    size_t len = strlen(host_path);
    if (len && host_path[len - 1] == '/') /* a folder meant, before any byte moves */
        return pvm_error_set_field(err, PVM_E_INVALID, "HOST_PATH", "HOST_PATH: there is no "
                                   "folder '%s' on the host (make it first: mkdir -p)",
                                   host_path);
    if (pvm_strlcpy(out, host_path, size) >= size)
        return pvm_error_set(err, PVM_E_INVALID, "HOST_PATH: too long");
    return 0;
}

/* A new private temporary file beside path, with path's permission bits when it exists
 * (replacing a 0600 file must not widen it; *existed then true), else 0666 less the umask. */
static int agent_host_temp(const char *path, char *tmp, size_t size, int *fd, bool *existed,
                           pvm_error *err)
{
    char copy[PVM_PATH_MAX], base[PVM_PATH_MAX];
    pvm_strlcpy(copy, path, sizeof copy);
    pvm_strlcpy(base, path, sizeof base);
    int n = snprintf(tmp, size, "%s/.%s.pvm-XXXXXX", dirname(copy), basename(base));
    if (n < 0 || (size_t)n >= size)
        return pvm_error_set(err, PVM_E_INVALID, "HOST_PATH: too long");
    *fd = mkostemp(tmp, O_CLOEXEC);
    if (*fd < 0)
        return pvm_error_set_field(err, PVM_E_IO, "HOST_PATH", "HOST_PATH: cannot create a file "
                                   "beside '%s': %s", path, strerror(errno));
    struct stat st;
    *existed = stat(path, &st) == 0 && S_ISREG(st.st_mode);
    mode_t mode = *existed ? st.st_mode & 07777 : 0666 & ~pvm_umask();
    if (fchmod(*fd, mode) < 0) {
        int e = errno;
        close(*fd);
        unlink(tmp);
        return pvm_error_set_field(err, PVM_E_IO, "HOST_PATH", "HOST_PATH: cannot set the mode "
                                   "of '%s': %s", tmp, strerror(e));
    }
    return 0;
}

static int agent_write_all(int fd, const unsigned char *p, size_t n, pvm_error *err)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return pvm_error_set(err, PVM_E_IO, "writing the host file: %s", strerror(errno));
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* The guest file's size by seeking to its end (then back), 0 when unknown. */
static uint64_t agent_guest_size(pvm_agent *a, int64_t h)
{
    uint64_t size = 0;
    for (int i = 0; i < 2; i++) {
        cJSON *args = cJSON_CreateObject();
        cJSON_AddNumberToObject(args, "handle", (double)h);
        cJSON_AddNumberToObject(args, "offset", 0);
        cJSON_AddStringToObject(args, "whence", i == 0 ? "end" : "set");
        cJSON *ret = NULL;
        pvm_error ignored;
        if (pvm_qga_execute(a->g, "guest-file-seek", args, &ret, 10000, &ignored) < 0)
            return 0;
        const cJSON *pos = cJSON_GetObjectItemCaseSensitive(ret, "position");
        if (i == 0 && cJSON_IsNumber(pos) && pos->valuedouble >= 0 &&
            pos->valuedouble < 9007199254740992.0)
            size = (uint64_t)pos->valuedouble;
        cJSON_Delete(ret);
    }
    return size;
}

/* Streams the open guest handle h into fd, hashing; checks cancel and time per chunk. The
 * next read goes out as soon as a whole piece is in (pvm_qga_file_get_ahead), so the guest
 * reads on while the host decodes, hashes and writes. */
static int agent_stream_out(pvm_agent *a, int64_t h, int fd, int64_t deadline,
                            const pvm_progress *p, pvm_copy_result *r, pvm_error *err)
{
    /* the size only feeds a progress bar: two agent round trips saved without one */
    uint64_t total = p && p->report ? agent_guest_size(a, h) : 0;
    pvm_qga_ahead ahead = { 0 };
    int64_t t0_copy = pvm_proc_now_ms();
    struct sha256_ctx md;
    sha256_init(&md);
    int rc = 0;
    agent_report(p, "copying out of the guest", 0, total);
    for (bool eof = false; !eof && rc == 0;) {
        unsigned char *buf = NULL;
        size_t n = 0;
        int64_t t0 = pvm_proc_now_ms();
        if (pvm_qga_file_get_ahead(a->g, h, a->chunk, &ahead, &buf, &n, &eof, err) < 0) {
            rc = -1;
            break;
        }
        agent_chunk_timed(a, n, pvm_proc_now_ms() - t0);
        sha256_update(&md, n, buf);
        rc = agent_write_all(fd, buf, n, err);
        free(buf);
        r->bytes += n;
        if (n == 0)
            eof = true;
        agent_copy_report(p, "copying out of the guest", r->bytes, total, t0_copy);
        if (rc == 0)
            rc = agent_chunk_checks(p, deadline, "copy out of the guest", r->bytes, err);
    }
    /* stopped early (an error, a cancel, the deadline) with a read ahead: its reply comes
     * first, so the close never reaches the agent while it is unanswered (the end of the
     * file itself never leaves one: a read goes ahead only after a whole piece) */
    pvm_qga_ahead_drop(a->g, &ahead);
    unsigned char d[SHA256_DIGEST_SIZE];
    sha256_digest(&md, sizeof d, d);
    agent_hex(d, r->sha256);
    return rc;
}

/* POSIX guests, after a copy out: the guest's SHA-256 of $1 on the first line, then its
 * permission bits in octal when the guest has stat (busybox and coreutils both do; -L: a
 * symlink's target's, as the file read through it). */
static const char agent_sum_mode_script[] =
    "sha256sum < \"$1\" || exit; stat -L -c %a -- \"$1\" 2>/dev/null || :";

/* A new host file (open as fd) gets the guest file's permission bits less the umask, as
 * cp(1) gives a new file its source's: a 0600 sample stays private. out: agent_sum_mode_
 * script's output (guest-controlled: only 1-4 octal digits on the second line count;
 * setuid, setgid and sticky are dropped); anything else keeps the file's mode. 0, or -1
 * with errno from fchmod. */
static int agent_take_guest_mode(int fd, const char *out)
{
    const char *nl = out ? strchr(out, '\n') : NULL;
    if (!nl)
        return 0;
    const char *p = nl + 1;
    size_t n = strspn(p, "01234567");
    if (n == 0 || n > 4 || (p[n] != '\n' && p[n] != '\0'))
        return 0;
    mode_t mode = (mode_t)strtoul(p, NULL, 8) & 0777;
    return fchmod(fd, mode & ~pvm_umask());
}

int pvm_agent_copy_out(pvm_agent *a, const char *guest_path, const char *host_path,
                       int timeout_ms, const pvm_progress *progress, pvm_copy_result *r,
                       pvm_error *err)
{
    memset(r, 0, sizeof *r);
    int64_t t0 = pvm_proc_now_ms(), deadline = agent_deadline(timeout_ms);
    char path[PVM_PATH_MAX], tmp[PVM_PATH_MAX + 32];
    int fd = -1;
    int64_t h = 0;
    if (pvm_agent_guest_path_check(guest_path, a->windows, "GUEST_PATH", err) < 0 ||
        agent_out_path(host_path, guest_path, path, sizeof path, err) < 0)
        return -1;
    if (pvm_qga_file_open(a->g, guest_path, a->windows ? "rb" : "r", &h, err) < 0)
        return -1;
    bool existed = false;
    if (agent_host_temp(path, tmp, sizeof tmp, &fd, &existed, err) < 0) {
        pvm_error ignored;
        pvm_qga_file_close(a->g, h, &ignored);
        return -1;
    }
    int rc = agent_stream_out(a, h, fd, deadline, progress, r, err);
    if (rc < 0 && r->bytes == 0 && strstr(err->msg, "Is a directory"))
        /* a guest opens a folder for reading; its first read fails (EISDIR) */
    {
        char qn[PVM_NAME_MAX * 4 + 3], qp[PVM_PATH_MAX * 4 + 3];
        pvm_error_set_field(err, PVM_E_INVALID, "GUEST_PATH",
                            "GUEST_PATH: '%s' is a folder in the guest; vm copy copies one file "
                            "(pack the folder first, e.g. privarion-vm vm exec %s -- tar -C %s "
                            "-czf /tmp/folder.tgz ., then copy /tmp/folder.tgz)", guest_path,
                            pvm_shell_word(a->vm_name, qn, sizeof qn),
                            pvm_shell_word(guest_path, qp, sizeof qp));
    }
    pvm_error cerr;
    pvm_qga_file_close(a->g, h, &cerr);
    /* Then the guest hashes what it has (after the read: under TCG the guest's one vCPU
     * would otherwise share its time between sha256sum and the agent's reads). */
    int64_t sum_pid = -1;
    /* an existing host file keeps its mode: sha256sum alone, no shell and no stat (two
     * guest processes fewer); a new one also asks for the guest file's mode. guest_path
     * is absolute (checked), so it cannot read as an option. */
    const char *sum_only[] = { "sha256sum", guest_path, NULL };
    const char *sum_mode[] = { "sh", "-c", agent_sum_mode_script, "sh", guest_path, NULL };
    const char *const *sum_argv = existed ? sum_only : sum_mode;
    pvm_error serr = { 0 };
    if (rc == 0 && !a->windows &&
        pvm_qga_exec_start(a->g, sum_argv[0], sum_argv + 1, NULL, 0, &sum_pid, AGENT_STATUS_MS,
                           &serr) < 0)
        sum_pid = -1; /* no sha256sum in the guest: the read itself is the check */
    if (rc == 0 && fsync(fd) < 0)
        rc = pvm_error_set(err, PVM_E_IO, "writing '%s': %s", path, strerror(errno));
    if (sum_pid >= 0) {
        agent_report(progress, "checking the SHA-256 in the guest", r->bytes, r->bytes);
        pvm_exec_result x;
        pvm_error xerr = { 0 };
        int xr = agent_exec_finish(a, "sha256sum", sum_pid, AGENT_TOOL_MS, NULL, &x, &xerr);
        if (rc == 0 && xr < 0) {
            *err = xerr;
            rc = -1;
        } else if (xr == 0 && x.status == 127) {
            sum_pid = -1; /* no sha256sum in the guest: the read itself is the check */
        } else if (rc == 0 && (x.status != 0 || x.out_len < 64 ||
                               strncmp(x.out, r->sha256, 64) != 0)) {
            rc = pvm_error_set(err, PVM_E_QEMU, "checksum mismatch: the guest has SHA-256 %.64s, "
                               "the host received %s", x.status == 0 ? x.out : "(none)", r->sha256);
        } else if (rc == 0 && !existed && agent_take_guest_mode(fd, x.out) < 0) {
            rc = pvm_error_set(err, PVM_E_IO, "setting the mode of '%s': %s", tmp,
                               strerror(errno));
        }
        if (xr == 0)
            pvm_exec_result_free(&x);
    }
    close(fd);
    if (rc == 0 && rename(tmp, path) < 0)
        rc = pvm_error_set(err, PVM_E_IO, "renaming into '%s': %s", path, strerror(errno));
    if (rc < 0) {
        unlink(tmp);
        return -1;
    }
    r->seconds = (double)(pvm_proc_now_ms() - t0) / 1000.0;
    r->checked = sum_pid >= 0; /* the guest's sha256sum agreed; else only the read was hashed */
    return 0;
}

int pvm_agent_read_file(pvm_agent *a, const char *guest_path, size_t max, unsigned char **buf,
                        size_t *len, pvm_error *err)
{
    *buf = NULL;
    *len = 0;
    int64_t h = 0;
    if (pvm_qga_file_open(a->g, guest_path, a->windows ? "rb" : "r", &h, err) < 0)
        return -1;
    unsigned char *all = pvm_xmalloc(max + 1);
    size_t n = 0;
    int rc = 0;
    for (bool eof = false; !eof;) {
        unsigned char *piece = NULL;
        size_t got = 0;
        if (pvm_qga_file_get(a->g, h, max - n + 1, &piece, &got, &eof, err) < 0) {
            rc = -1;
            break;
        }
        memcpy(all + n, piece, got);
        n += got;
        free(piece);
        if (n > max) {
            rc = pvm_error_set(err, PVM_E_QEMU, "%s: larger than %zu bytes", guest_path, max);
            break;
        }
        if (got == 0)
            eof = true;
    }
    pvm_error ignored;
    pvm_qga_file_close(a->g, h, &ignored);
    if (rc < 0) {
        free(all);
        return -1;
    }
    all[n] = '\0';
    *buf = all;
    *len = n;
    return 0;
}
