/* qmp.c - the QMP monitor client: greeting and capability negotiation, commands
 * matched to replies by id while asynchronous events are queued, and job commands
 * (snapshot-save/load/delete) run to conclusion. Called by engine/ only. */
#include "qmp.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QMP_EVENTS_MAX 1024 /* oldest events are dropped beyond this */
#define QMP_JOB_POLL_MS 100  /* longest wait between two query-jobs */

struct pvm_qmp {
    pvm_rpc rpc;
    cJSON **events; /* FIFO of events read while waiting for replies */
    size_t nev;
    unsigned next_id;
};

static void qmp_queue_event(pvm_qmp *q, cJSON *ev)
{
    if (!q->events)
        q->events = pvm_xcalloc(QMP_EVENTS_MAX, sizeof *q->events);
    if (q->nev == QMP_EVENTS_MAX) {
        cJSON_Delete(q->events[0]);
        memmove(q->events, q->events + 1, (QMP_EVENTS_MAX - 1) * sizeof *q->events);
        q->nev--;
    }
    q->events[q->nev++] = ev;
}

static cJSON *qmp_pop_event(pvm_qmp *q)
{
    if (!q->nev)
        return NULL;
    cJSON *ev = q->events[0];
    memmove(q->events, q->events + 1, (q->nev - 1) * sizeof *q->events);
    q->nev--;
    return ev;
}

static bool qmp_is_event(const cJSON *msg)
{
    return cJSON_IsString(cJSON_GetObjectItemCaseSensitive(msg, "event"));
}

/* Reads the next message that is not an event (events are queued):
 * 1 with *msg, 0 at the deadline, -1 on error. */
static int qmp_read_message(pvm_qmp *q, cJSON **msg, int64_t deadline, pvm_error *err)
{
    for (;;) {
        int rc = pvm_rpc_read_json(&q->rpc, msg, deadline, err);
        if (rc <= 0)
            return rc;
        if (!qmp_is_event(*msg))
            return 1;
        qmp_queue_event(q, *msg);
        *msg = NULL;
    }
}

/* Waits for the reply carrying id; replies to earlier, timed-out requests are dropped. */
static int qmp_await(pvm_qmp *q, unsigned id, const char *cmd, cJSON **ret, int64_t deadline,
                     pvm_error *err)
{
    for (;;) {
        cJSON *msg = NULL;
        int rc = qmp_read_message(q, &msg, deadline, err);
        if (rc < 0)
            return -1;
        if (rc == 0)
            return pvm_error_set(err, PVM_E_QEMU, "QMP %s: no reply before the timeout", cmd);
        const cJSON *mid = cJSON_GetObjectItemCaseSensitive(msg, "id");
        if (cJSON_IsNumber(mid) && mid->valuedouble == (double)id)
            return pvm_rpc_take_reply(&q->rpc, msg, cmd, ret, err);
        cJSON_Delete(msg);
    }
}

static int qmp_execute_until(pvm_qmp *q, const char *cmd, cJSON *args, cJSON **ret,
                             int64_t deadline, pvm_error *err)
{
    if (ret)
        *ret = NULL;
    unsigned id = ++q->next_id;
    if (pvm_rpc_send_command(&q->rpc, cmd, args, id, deadline, err) < 0)
        return -1;
    return qmp_await(q, id, cmd, ret, deadline, err);
}

int pvm_qmp_execute(pvm_qmp *q, const char *cmd, cJSON *args, cJSON **ret, int timeout_ms,
                    pvm_error *err)
{
    if (!q || !cmd) {
        cJSON_Delete(args);
        return pvm_error_set(err, PVM_E_STATE, "QMP: not connected");
    }
    return qmp_execute_until(q, cmd, args, ret, pvm_rpc_deadline(timeout_ms), err);
}

static int qmp_greeting(pvm_qmp *q, const char *path, int64_t deadline, pvm_error *err)
{
    cJSON *msg = NULL;
    int rc = pvm_rpc_read_json(&q->rpc, &msg, deadline, err);
    if (rc == 0)
        return pvm_error_set(err, PVM_E_QEMU, "QMP: no greeting from %s before the timeout", path);
    if (rc < 0)
        return -1;
    bool ok = cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(msg, "QMP"));
    cJSON_Delete(msg);
    if (!ok)
        return pvm_error_set(err, PVM_E_QEMU, "QMP: %s did not greet with a \"QMP\" object", path);
    return 0;
}

int pvm_qmp_connect(const char *sock_path, int timeout_ms, pvm_qmp **out, pvm_error *err)
{
    *out = NULL;
    int64_t deadline = pvm_rpc_deadline(timeout_ms);
    pvm_qmp *q = pvm_xcalloc(1, sizeof *q);
    if (pvm_rpc_connect(&q->rpc, sock_path, "QMP", timeout_ms, err) < 0) {
        free(q);
        return -1;
    }
    if (qmp_greeting(q, sock_path, deadline, err) < 0 ||
        qmp_execute_until(q, "qmp_capabilities", NULL, NULL, deadline, err) < 0) {
        pvm_qmp_close(q);
        return -1;
    }
    *out = q;
    return 0;
}

int pvm_qmp_next_event(pvm_qmp *q, cJSON **ev, int timeout_ms, pvm_error *err)
{
    *ev = qmp_pop_event(q);
    if (*ev)
        return 0;
    int64_t deadline = pvm_rpc_deadline(timeout_ms);
    for (;;) {
        cJSON *msg = NULL;
        int rc = pvm_rpc_read_json(&q->rpc, &msg, deadline, err);
        if (rc <= 0)
            return rc;
        if (qmp_is_event(msg)) {
            *ev = msg;
            return 0;
        }
        cJSON_Delete(msg); /* a late reply nobody waits for */
    }
}

int pvm_qmp_status(pvm_qmp *q, char *buf, size_t size, pvm_error *err)
{
    cJSON *ret = NULL;
    if (pvm_qmp_execute(q, "query-status", NULL, &ret, 5000, err) < 0)
        return -1;
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(ret, "status");
    int rc = 0;
    if (cJSON_IsString(st))
        pvm_strlcpy(buf, st->valuestring, size);
    else
        rc = pvm_error_set(err, PVM_E_QEMU, "QMP query-status: reply has no \"status\" string");
    cJSON_Delete(ret);
    return rc;
}

/* The query-jobs entry for job_id, or NULL. */
static const cJSON *qmp_find_job(const cJSON *jobs, const char *job_id)
{
    const cJSON *job;
    cJSON_ArrayForEach(job, jobs) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(job, "id");
        if (cJSON_IsString(id) && strcmp(id->valuestring, job_id) == 0)
            return job;
    }
    return NULL;
}

/* The job's progress (current-progress / total-progress of query-jobs) to the listener. */
static void qmp_job_report(const cJSON *job, const char *cmd, const pvm_progress *progress)
{
    if (!progress || !progress->report)
        return;
    const cJSON *cur = cJSON_GetObjectItemCaseSensitive(job, "current-progress");
    const cJSON *tot = cJSON_GetObjectItemCaseSensitive(job, "total-progress");
    double f = -1;
    if (cJSON_IsNumber(cur) && cJSON_IsNumber(tot) && tot->valuedouble > 0)
        f = cur->valuedouble / tot->valuedouble;
    char step[96];
    snprintf(step, sizeof step, "QEMU %s running", cmd);
    progress->report(progress->ctx, step, f);
}

/* Polls query-jobs once: 1 concluded (job error text, if any, in errbuf), 0 still going, -1 error. */
static int qmp_job_poll(pvm_qmp *q, const char *cmd, const char *job_id, char *errbuf, size_t size,
                        const pvm_progress *progress, int64_t deadline, pvm_error *err)
{
    cJSON *jobs = NULL;
    if (qmp_execute_until(q, "query-jobs", NULL, &jobs, deadline, err) < 0)
        return -1;
    const cJSON *job = qmp_find_job(jobs, job_id);
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(job, "status");
    int rc = 0;
    errbuf[0] = '\0';
    if (!job || !cJSON_IsString(status)) {
        rc = pvm_error_set(err, PVM_E_QEMU, "QMP %s: job %s vanished from query-jobs", cmd, job_id);
    } else if (strcmp(status->valuestring, "concluded") == 0) {
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(job, "error");
        if (cJSON_IsString(e))
            pvm_strlcpy(errbuf, e->valuestring, size);
        rc = 1;
    } else {
        qmp_job_report(job, cmd, progress);
    }
    cJSON_Delete(jobs);
    return rc;
}

/* True once the caller's cancel descriptor is readable or hung up. */
static bool qmp_cancel_asked(const pvm_progress *progress)
{
    if (!progress || progress->cancel_fd <= 0)
        return false;
    struct pollfd p = {.fd = progress->cancel_fd, .events = POLLIN};
    return poll(&p, 1, 0) > 0;
}

static bool qmp_is_job_event(const cJSON *ev, const char *job_id)
{
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(ev, "event");
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(ev, "data");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(data, "id");
    return cJSON_IsString(name) && strcmp(name->valuestring, "JOB_STATUS_CHANGE") == 0 &&
           cJSON_IsString(id) && strcmp(id->valuestring, job_id) == 0;
}

/* Waits until a status change of job_id arrives or `until`; other events stay queued. */
static int qmp_wait_job_event(pvm_qmp *q, const char *job_id, int64_t until, pvm_error *err)
{
    for (size_t i = 0; i < q->nev; i++) { /* one that came in with a reply: no wait */
        if (qmp_is_job_event(q->events[i], job_id)) {
            cJSON_Delete(q->events[i]);
            memmove(q->events + i, q->events + i + 1, (q->nev - i - 1) * sizeof *q->events);
            q->nev--;
            return 1;
        }
    }
    for (;;) {
        cJSON *msg = NULL;
        int rc = pvm_rpc_read_json(&q->rpc, &msg, until, err);
        if (rc <= 0)
            return rc;
        if (qmp_is_job_event(msg, job_id)) {
            cJSON_Delete(msg);
            return 1;
        }
        if (qmp_is_event(msg))
            qmp_queue_event(q, msg);
        else
            cJSON_Delete(msg);
    }
}

static int qmp_job_finish(pvm_qmp *q, const char *cmd, const char *job_id, const char *job_err,
                          int64_t deadline, pvm_error *err)
{
    cJSON *args = cJSON_CreateObject();
    cJSON_AddStringToObject(args, "id", job_id);
    pvm_error derr = { 0 };
    int drc = qmp_execute_until(q, "job-dismiss", args, NULL, deadline, &derr);
    if (job_err[0])
        return pvm_error_set(err, PVM_E_QEMU, "QMP %s (job %s): %s", cmd, job_id, job_err);
    if (drc < 0)
        return pvm_error_set(err, derr.code, "%s", derr.msg);
    return 0;
}

static int qmp_job_timeout(pvm_qmp *q, const char *cmd, const char *job_id, pvm_error *err)
{
    cJSON *args = cJSON_CreateObject();
    cJSON_AddStringToObject(args, "id", job_id);
    pvm_error ignored = { 0 };
    qmp_execute_until(q, "job-cancel", args, NULL, pvm_rpc_deadline(2000), &ignored);
    return pvm_error_set(err, PVM_E_QEMU, "QMP %s: job %s did not conclude before the timeout",
                         cmd, job_id);
}

int pvm_qmp_run_job(pvm_qmp *q, const char *cmd, cJSON *args, const char *job_id, int timeout_ms,
                    pvm_error *err)
{
    return pvm_qmp_run_job_progress(q, cmd, args, job_id, timeout_ms, NULL, err);
}

/* A cancel asks QEMU once (job-cancel) and waits on for the conclusion: a job that
 * cannot stop any more still finishes, and its result stands. */
static void qmp_job_cancel(pvm_qmp *q, const char *job_id, int64_t deadline)
{
    cJSON *args = cJSON_CreateObject();
    cJSON_AddStringToObject(args, "id", job_id);
    pvm_error ignored = { 0 };
    qmp_execute_until(q, "job-cancel", args, NULL, deadline, &ignored);
}

int pvm_qmp_run_job_progress(pvm_qmp *q, const char *cmd, cJSON *args, const char *job_id,
                             int timeout_ms, const pvm_progress *progress, pvm_error *err)
{
    if (!q || !cmd || !job_id) {
        cJSON_Delete(args);
        return pvm_error_set(err, PVM_E_STATE, "QMP: not connected");
    }
    if (!args)
        args = cJSON_CreateObject();
    if (!cJSON_HasObjectItem(args, "job-id"))
        cJSON_AddStringToObject(args, "job-id", job_id);
    int64_t deadline = pvm_rpc_deadline(timeout_ms);
    if (qmp_execute_until(q, cmd, args, NULL, deadline, err) < 0)
        return -1;
    char job_err[sizeof err->msg];
    bool cancelled = false;
    for (;;) {
        int rc = qmp_job_poll(q, cmd, job_id, job_err, sizeof job_err, progress, deadline, err);
        if (rc < 0)
            return -1;
        if (rc == 1) {
            rc = qmp_job_finish(q, cmd, job_id, job_err, deadline, err);
            if (rc < 0 && cancelled)
                return pvm_error_set(err, PVM_E_CANCELLED, "QMP %s: cancelled (%.300s)", cmd,
                                     job_err);
            return rc;
        }
        if (!cancelled && qmp_cancel_asked(progress)) {
            cancelled = true;
            qmp_job_cancel(q, job_id, deadline);
        }
        int64_t until = pvm_rpc_deadline(QMP_JOB_POLL_MS);
        if (until > deadline)
            until = deadline;
        if (qmp_wait_job_event(q, job_id, until, err) < 0)
            return -1;
        if (pvm_rpc_deadline(0) >= deadline)
            return qmp_job_timeout(q, cmd, job_id, err);
    }
}

void pvm_qmp_close(pvm_qmp *q)
{
    if (!q)
        return;
    pvm_rpc_close(&q->rpc);
    while (q->nev)
        cJSON_Delete(q->events[--q->nev]);
    free(q->events);
    free(q);
}
