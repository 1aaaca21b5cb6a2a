/* qmp.h - clients for QEMU's two JSON line protocols: the QMP monitor (qmp.c)
 * and the guest agent (qga.c), over a shared bounded line reader (jsonrpc.c).
 * Called only from engine/ (vm.c, snapshots, installs, the sampler). */
#ifndef PVM_QMP_H
#define PVM_QMP_H

#include <time.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "pvm.h"

/* ------------------------------------------------------------------- QMP */

typedef struct pvm_qmp pvm_qmp;
/* Connects to a QMP unix socket, reads the greeting, negotiates qmp_capabilities. */
int pvm_qmp_connect(const char *sock_path, int timeout_ms, pvm_qmp **out, pvm_error *err);
/* Sends {"execute": cmd, "arguments": args} (args is consumed, may be NULL); waits for the
 * matching reply, setting events aside. *ret (may be NULL) receives the "return" value,
 * caller frees with cJSON_Delete. A QMP "error" -> PVM_E_QEMU with its desc. */
int pvm_qmp_execute(pvm_qmp *q, const char *cmd, cJSON *args, cJSON **ret, int timeout_ms, pvm_error *err);
/* Next queued or arriving event (caller frees), waiting at most timeout_ms; 0 and *ev NULL on timeout. */
int pvm_qmp_next_event(pvm_qmp *q, cJSON **ev, int timeout_ms, pvm_error *err);
/* query-status -> "running", "paused", "shutdown", ... into buf. */
int pvm_qmp_status(pvm_qmp *q, char *buf, size_t size, pvm_error *err);
/* Starts a job command (snapshot-save/load/delete ...) with job-id, waits until it concludes
 * (polling query-jobs or JOB_STATUS_CHANGE events), reports the job's error, dismisses it. */
int pvm_qmp_run_job(pvm_qmp *q, const char *cmd, cJSON *args, const char *job_id, int timeout_ms, pvm_error *err);
/* The same, reporting the job's progress (step "QEMU <cmd> running", fraction from
 * current-/total-progress) to progress (may be NULL); a cancel (progress->cancel_fd) sends
 * job-cancel once and waits for the conclusion: a job that failed after it is
 * PVM_E_CANCELLED, one that finished anyway succeeds. */
int pvm_qmp_run_job_progress(pvm_qmp *q, const char *cmd, cJSON *args, const char *job_id,
                             int timeout_ms, const pvm_progress *progress, pvm_error *err);
void pvm_qmp_close(pvm_qmp *q);

/* ----------------------------------------------------------- guest agent */

typedef struct pvm_qga pvm_qga;
/* Connects to the guest-agent socket and resynchronises with guest-sync-delimited (random id),
 * discarding stale replies; times out cleanly when no agent answers. */
int pvm_qga_connect(const char *sock_path, int timeout_ms, pvm_qga **out, pvm_error *err);
/* Notes that the agent behind socket path sock answered now: agent.seen beside it (mode
 * 0600, its mtime the time). Best effort, never fails. */
void pvm_qga_mark_seen(const char *sock);
/* True, with *when (seconds since the epoch), when the agent behind sock answered since
 * QEMU made sock (this QEMU run): a later silence is then not a missing agent. */
bool pvm_qga_seen_this_run(const char *sock, time_t *when);
int pvm_qga_execute(pvm_qga *g, const char *cmd, cJSON *args, cJSON **ret, int timeout_ms, pvm_error *err);
int pvm_qga_ping(pvm_qga *g, int timeout_ms, pvm_error *err);
/* guest-exec with capture-output, polls guest-exec-status until exited or timeout;
 * *out and *errout malloc'd decoded output (may be NULL), *exitcode the status. argv NULL-terminated, may be NULL.
 * A process killed by signal N reports 128 + N. timeout_ms bounds the polling; one status call
 * may add up to 10 s on a stalled agent. Still running at the timeout -> PVM_E_QEMU "still running". */
int pvm_qga_exec(pvm_qga *g, const char *path, const char *const *argv, int timeout_ms, int *exitcode, char **out, char **errout, pvm_error *err);
/* guest-file-open(w)/write(base64 chunks of 192 KiB)/close; each call may take 30 s.
 * On a failed write the guest file is still closed (best effort). */
int pvm_qga_file_write(pvm_qga *g, const char *guest_path, const void *data, size_t len, pvm_error *err);
/* Streaming file access for engine/agent.c (each call bounded by 30 s):
 * file_open: guest-file-open PATH in mode ("r", "w", ...) -> *handle.
 * file_put: guest-file-write of len bytes in one or more calls (the agent may take fewer).
 * file_get: guest-file-read of at most max bytes -> *buf (malloc'd, NUL after *n), *eof;
 *   a reply whose count exceeds max, whose buf-b64 does not hold count bytes, or of
 *   another shape is PVM_E_QEMU.
 * file_close: guest-file-close.
 * Overlapped calls (a copy's host work runs while the guest works, and the agent never
 * holds two requests: qemu-ga 7.2 on virtio-serial was seen to lose a reply when a second
 * request arrived before it answered the first):
 * put_new: a guest-file-write of data[0..len) encoded into its request line, with its id;
 *   data is borrowed until put_free. put_send: sends it (30 s). put_take: waits for its
 *   reply (30 s), and when the guest took fewer bytes, writes the rest as file_put does.
 * get_ahead: file_get, except that when *ahead names a read of this handle already sent
 *   on this connection (since its last resync), its reply is taken instead of sending one
 *   (one of another handle is dropped first); and when this reply is in, names its id at
 *   its end, holds count = what was asked and eof false, the next read of max bytes is sent
 *   at once, before this one is decoded, and *ahead names it (else id 0). The guest then
 *   reads on while the host decodes, one request at a time.
 * ahead_drop: waits (30 s) for the reply to a read left ahead and drops it, so the next
 *   call does not reach the agent while that read is unanswered; a caller that stops
 *   reading early (error, cancel) calls it. *ahead is empty after. */
int pvm_qga_file_open(pvm_qga *g, const char *guest_path, const char *mode, int64_t *handle,
                      pvm_error *err);
int pvm_qga_file_put(pvm_qga *g, int64_t handle, const void *data, size_t len, pvm_error *err);
int pvm_qga_file_get(pvm_qga *g, int64_t handle, size_t max, unsigned char **buf, size_t *n,
                     bool *eof, pvm_error *err);
typedef struct pvm_qga_put pvm_qga_put;
pvm_qga_put *pvm_qga_put_new(pvm_qga *g, int64_t handle, const void *data, size_t len);
int pvm_qga_put_send(pvm_qga *g, pvm_qga_put *p, pvm_error *err);
int pvm_qga_put_take(pvm_qga *g, pvm_qga_put *p, pvm_error *err);
void pvm_qga_put_free(pvm_qga_put *p);
typedef struct pvm_qga_ahead {
    unsigned id;    /* a guest-file-read sent early; 0: none */
    size_t max;     /* the bytes it asked for */
    int64_t handle; /* of this file */
    unsigned gen;   /* the connection's resync count when it was sent */
    unsigned sent;  /* reads sent ahead through this struct, for counting */
} pvm_qga_ahead;
void pvm_qga_ahead_drop(pvm_qga *g, pvm_qga_ahead *ahead);
int pvm_qga_file_get_ahead(pvm_qga *g, int64_t handle, size_t max, pvm_qga_ahead *ahead,
                           unsigned char **buf, size_t *n, bool *eof, pvm_error *err);
int pvm_qga_file_close(pvm_qga *g, int64_t handle, pvm_error *err);
/* guest-exec with capture-output (and input-data when input_len > 0) -> *pid; then one
 * guest-exec-status call: 1 exited (*exitcode, *out, *errout filled as pvm_qga_exec does,
 * *out_len and *err_len their byte counts: guest output may hold NULs; lengths may be NULL),
 * 0 still running, -1 error. */
int pvm_qga_exec_start(pvm_qga *g, const char *path, const char *const *argv, const void *input,
                       size_t input_len, int64_t *pid, int timeout_ms, pvm_error *err);
int pvm_qga_exec_status(pvm_qga *g, int64_t pid, int timeout_ms, int *exitcode, char **out,
                        size_t *out_len, char **errout, size_t *err_len, pvm_error *err);
/* guest-get-osinfo: its "id" (e.g. "debian", "mswindows"; "" when absent) and whether the
 * guest runs Windows. */
int pvm_qga_osinfo(pvm_qga *g, char *id, size_t id_size, bool *windows, pvm_error *err);
/* The VM's agent lock, a flock on "agent.lock" beside qga_sock (the agent serves one client):
 * every user of the channel holds it while connected. Waits up to wait_ms (0: one try);
 * past it PVM_E_BUSY naming the holder's pid. *fd is given back with pvm_qga_unlock. */
int pvm_qga_lock(const char *qga_sock, int wait_ms, int *fd, pvm_error *err);
void pvm_qga_unlock(int fd);
/* guest-network-get-interfaces summed rx/tx bytes of non-loopback interfaces.
 * No interface with statistics -> PVM_E_QEMU (unknown is never reported as 0). */
int pvm_qga_net_bytes(pvm_qga *g, uint64_t *rx, uint64_t *tx, pvm_error *err);
/* The same counters with packets, within timeout_ms (the sampler's bounded call). Packet
 * counts are summed when every counted interface has rx-packets/tx-packets, else
 * packets_known is false. */
typedef struct pvm_qga_net {
    uint64_t rx_bytes, tx_bytes, rx_packets, tx_packets;
    bool packets_known;
} pvm_qga_net;
int pvm_qga_net_stats(pvm_qga *g, int timeout_ms, pvm_qga_net *out, pvm_error *err);
void pvm_qga_close(pvm_qga *g);

/* ------------------------------------------- shared plumbing (jsonrpc.c)
 * Used by qmp.c and qga.c, and by their unit tests; not for other callers. */

#define PVM_RPC_LINE_MAX (16u * 1024u * 1024u) /* longest accepted JSON line */

/* A non-blocking stream socket with a bounded input buffer. */
typedef struct pvm_rpc {
    int fd;
    char *buf;        /* buf[off..len) holds bytes read but not yet consumed */
    size_t off, len, cap;
    size_t scan;      /* bytes after off already known to hold no newline */
    size_t line_max;  /* a line longer than this is a protocol error */
    bool broken;      /* the stream lost its framing: every later call fails */
    const char *peer; /* "QMP" or "guest agent", for messages */
} pvm_rpc;

/* Connects a non-blocking unix stream socket to path within timeout_ms. */
int pvm_rpc_connect(pvm_rpc *r, const char *path, const char *peer, int timeout_ms, pvm_error *err);
/* Wraps an already connected fd (made non-blocking); r owns it afterwards. */
void pvm_rpc_init_fd(pvm_rpc *r, int fd, const char *peer);
void pvm_rpc_close(pvm_rpc *r);
/* Monotonic deadline now + timeout_ms (timeout_ms < 0 means no deadline). */
int64_t pvm_rpc_deadline(int timeout_ms);
/* Sends len raw bytes of data before deadline: 0, or -1 with err (the channel is then
 * broken). Most callers want pvm_rpc_send_json. */
int pvm_rpc_send(pvm_rpc *r, const void *data, size_t len, int64_t deadline, pvm_error *err);
/* Serialises obj compactly and sends it followed by a newline. */
int pvm_rpc_send_json(pvm_rpc *r, const cJSON *obj, int64_t deadline, pvm_error *err);
/* Reads one line (without its newline or CR, NUL-terminated, malloc'd into *line; *len
 * its length, which may differ from strlen when the peer sent NUL bytes; len may be NULL).
 * Returns 1 with a line, 0 on deadline (*line NULL), -1 on error, EOF or an overlong line. */
int pvm_rpc_read_line(pvm_rpc *r, char **line, size_t *len, int64_t deadline, pvm_error *err);
/* Parses n bytes as one JSON object (whitespace around allowed): 0, or -1 with PVM_E_QEMU. */
int pvm_rpc_parse_line(pvm_rpc *r, const char *line, size_t n, cJSON **obj, pvm_error *err);
/* Reads one line and parses it as a JSON object: 1 with *obj, 0 on deadline, -1 on error
 * (malformed JSON or a non-object is PVM_E_QEMU). Blank lines are skipped. */
int pvm_rpc_read_json(pvm_rpc *r, cJSON **obj, int64_t deadline, pvm_error *err);
/* Discards input up to and including the first byte equal to delim: 1 found, 0 deadline, -1 error. */
int pvm_rpc_skip_to_byte(pvm_rpc *r, unsigned char delim, int64_t deadline, pvm_error *err);
/* The line {"execute": cmd, "arguments": args, "id": id} and its newline, malloc'd (*len
 * bytes, NUL after; NULL only if cJSON cannot print it); args (may be NULL) is consumed. */
char *pvm_rpc_command_line(const char *cmd, cJSON *args, unsigned id, size_t *len);
/* Sends that line; args (may be NULL) is consumed. */
int pvm_rpc_send_command(pvm_rpc *r, const char *cmd, cJSON *args, unsigned id, int64_t deadline,
                         pvm_error *err);
/* Turns a reply into *ret (its detached "return"; ret may be NULL) or the error
 * "<peer> <cmd>: <desc>", the same for QMP and the guest agent. Consumes reply. */
int pvm_rpc_take_reply(const pvm_rpc *r, cJSON *reply, const char *cmd, cJSON **ret,
                       pvm_error *err);

/* Base64 (RFC 4648 section 4, standard alphabet, padded), through Nettle.
 * encode: a malloc'd NUL-terminated string (4 * ceil(len / 3) characters).
 * len: the text's length for len bytes, 4 * ceil(len / 3).
 * encode_into: the same text, no NUL, into out (room for pvm_base64_len(len)); its length.
 * decode: padded input only (white space is skipped, by Nettle; qemu-ga emits none);
 * a malloc'd buffer with a NUL after the *outlen bytes, or -1 with PVM_E_QEMU ("base64: ...")
 * on a character outside the alphabet, a NUL, bad padding, data after padding, a group of
 * 4 left incomplete or non-zero bits in the last group (*out NULL then). */
char *pvm_base64_encode(const void *data, size_t len);
size_t pvm_base64_len(size_t len);
size_t pvm_base64_encode_into(const void *data, size_t len, char *out);
int pvm_base64_decode(const char *text, size_t textlen, unsigned char **out, size_t *outlen, pvm_error *err);

#endif
