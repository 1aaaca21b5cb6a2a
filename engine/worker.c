/* worker.c - the engine thread behind worker.h: a job queue guarded by one mutex,
 * a cancel pipe per worker (its read end is the running job's cancel_fd) and a
 * self-pipe that wakes the owner when events wait. The TUI (tui/tui.c) owns it. */
#include "worker.h"
#include "base/base.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct pvm_job {
    unsigned id;
    pvm_job_kind kind;
    char target[PVM_NAME_MAX + 1];
    pvm_job_fn fn;
    void *arg;
    void (*free_arg)(void *);
    struct pvm_job *next;
} pvm_job;

typedef struct pvm_event_node {
    pvm_worker_event ev;
    struct pvm_event_node *next;
} pvm_event_node;

struct pvm_worker {
    pvm_engine *engine;          /* opened and used by the thread only, at its first job;
                                  * NULL until then or while that fails */
    char *home_flag;             /* for the thread's pvm_engine_open */
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    pvm_job *queue, *queue_tail; /* waiting jobs */
    unsigned running;            /* the id of the job the thread runs, 0 when idle */
    unsigned next_id;
    bool quit;
    bool finished;               /* the thread has left its loop (set under mu) */
    pvm_event_node *events, *events_tail;
    int wake[2];                 /* self-pipe: the thread writes, the owner polls [0] */
    int cancel[2];               /* [0] is the running job's cancel_fd */
};

const char *pvm_job_kind_name(pvm_job_kind kind)
{
    static const char *const names[] = {"start", "stop", "force stop", "delete", "job", "resume"};
    return (unsigned)kind < sizeof names / sizeof names[0] ? names[kind] : "job";
}

static void pvm_drain(int fd)
{
    char buf[64];
    while (read(fd, buf, sizeof buf) > 0)
        ;
}

static void pvm_poke(int fd)
{
    char c = 1;
    ssize_t n = write(fd, &c, 1); /* a full pipe already wakes the owner */
    (void)n;
}

/* Appends an event (mu held); a progress report replaces the job's waiting one. */
static void pvm_event_push_locked(pvm_worker *w, const pvm_worker_event *ev)
{
    if (!ev->done && w->events_tail && !w->events_tail->ev.done &&
        w->events_tail->ev.job == ev->job) {
        w->events_tail->ev = *ev;
        return;
    }
    pvm_event_node *n = pvm_xcalloc(1, sizeof *n);
    n->ev = *ev;
    if (w->events_tail)
        w->events_tail->next = n;
    else
        w->events = n;
    w->events_tail = n;
    pvm_poke(w->wake[1]);
}

static void pvm_event_fill(pvm_worker_event *ev, const pvm_job *j)
{
    memset(ev, 0, sizeof *ev);
    ev->job = j->id;
    ev->kind = j->kind;
    pvm_strlcpy(ev->target, j->target, sizeof ev->target);
    ev->fraction = -1;
}

static void pvm_job_free(pvm_job *j)
{
    if (j && j->free_arg)
        j->free_arg(j->arg);
    free(j);
}

typedef struct pvm_report_ctx {
    pvm_worker *w;
    const pvm_job *job;
    char *note; /* the done event's note, written on the worker thread before it is queued */
    size_t note_size;
} pvm_report_ctx;

static void pvm_worker_report(void *ctx, const char *step, double fraction)
{
    pvm_report_ctx *c = ctx;
    pvm_worker_event ev;
    pvm_event_fill(&ev, c->job);
    pvm_strlcpy(ev.step, step ? step : "", sizeof ev.step);
    ev.fraction = fraction;
    pthread_mutex_lock(&c->w->mu);
    pvm_event_push_locked(c->w, &ev);
    pthread_mutex_unlock(&c->w->mu);
}

void pvm_worker_note(const pvm_progress *progress, const char *text)
{
    if (!progress || progress->report != pvm_worker_report || !text)
        return;
    const pvm_report_ctx *c = progress->ctx;
    pvm_strlcpy(c->note, text, c->note_size);
}

/* A start, its note led by the twin warning vm start gives (pvm_vm_running_twin). */
static int pvm_job_start(pvm_engine *e, const char *vm, const pvm_progress *p, char *note,
                         size_t note_size, pvm_error *err)
{
    pvm_vm_twin t;
    pvm_error ignored = {0};
    char twin[PVM_TWIN_TEXT_MAX] = "", started[PVM_START_NOTE_MAX];
    if (pvm_vm_running_twin(e, vm, &t, &ignored) == 0 && t.name[0])
        pvm_vm_twin_text(vm, &t, twin, sizeof twin);
    int rc = pvm_vm_start_noted(e, vm, 0, p, started, sizeof started, err);
    char both[PVM_TWIN_TEXT_MAX + PVM_START_NOTE_MAX + 2];
    snprintf(both, sizeof both, "%s%s%s", twin, twin[0] && started[0] ? "; " : "", started);
    pvm_strlcpy(note, both, note_size);
    return rc;
}

static int pvm_job_run(pvm_worker *w, const pvm_job *j, const pvm_progress *p, char *note,
                       size_t note_size, pvm_error *err)
{
    /* opened at the first job, not when the thread starts: a front end's first frame,
     * drawn meanwhile, does not share the CPU with a second store open; an open that
     * failed ends the job with its error and is tried again at the next */
    if (!w->engine && pvm_engine_open(&w->engine, w->home_flag, err) < 0) {
        w->engine = NULL;
        return -1;
    }
    switch (j->kind) {
    case PVM_JOB_START:
        return pvm_job_start(w->engine, j->target, p, note, note_size, err);
    case PVM_JOB_STOP:
        return pvm_vm_stop(w->engine, j->target, false, 0, p, err);
    case PVM_JOB_FORCE_STOP:
        return pvm_vm_stop(w->engine, j->target, true, 0, p, err);
    case PVM_JOB_DELETE:
        return pvm_vm_delete(w->engine, j->target, err);
    case PVM_JOB_CUSTOM:
        return j->fn(w->engine, j->arg, p, err);
    case PVM_JOB_RESUME:
        return pvm_vm_resume(w->engine, j->target, err);
    }
    return pvm_error_set(err, PVM_E_USAGE, "worker: unknown job kind %d", (int)j->kind);
}

/* Takes the next job (mu held): waits while idle; NULL when told to quit. A
 * cancel left over from the previous job is drained before the new one starts. */
static pvm_job *pvm_job_take_locked(pvm_worker *w)
{
    while (!w->quit && !w->queue)
        pthread_cond_wait(&w->cond, &w->mu);
    if (w->quit)
        return NULL;
    pvm_job *j = w->queue;
    w->queue = j->next;
    if (!w->queue)
        w->queue_tail = NULL;
    j->next = NULL;
    pvm_drain(w->cancel[0]);
    w->running = j->id;
    return j;
}

static void *pvm_worker_main(void *arg)
{
    pvm_worker *w = arg;
    pthread_mutex_lock(&w->mu);
    pvm_job *j;
    while ((j = pvm_job_take_locked(w))) {
        pthread_mutex_unlock(&w->mu);
        pvm_worker_event ev;
        pvm_event_fill(&ev, j);
        pvm_report_ctx ctx = {w, j, ev.note, sizeof ev.note};
        pvm_progress p = {.cancel_fd = w->cancel[0], .report = pvm_worker_report, .ctx = &ctx};
        ev.done = true;
        ev.rc = pvm_job_run(w, j, &p, ev.note, sizeof ev.note, &ev.err) < 0 ? -1 : 0;
        if (ev.rc < 0 && ev.err.code == PVM_E_NONE)
            pvm_error_set(&ev.err, PVM_E_IO, "%s %s failed", pvm_job_kind_name(j->kind), j->target);
        pvm_job_free(j); /* free_arg runs without the lock, before the owner hears "done" */
        pthread_mutex_lock(&w->mu);
        w->running = 0;
        pvm_event_push_locked(w, &ev);
    }
    w->finished = true;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

static int pvm_pipe(int fds[2], pvm_error *err)
{
    if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0)
        return pvm_error_set(err, PVM_E_IO, "worker: pipe: %s", strerror(errno));
    return 0;
}

int pvm_worker_new(const char *home_flag, pvm_worker **out, pvm_error *err)
{
    pvm_worker *w = pvm_xcalloc(1, sizeof *w);
    w->wake[0] = w->wake[1] = w->cancel[0] = w->cancel[1] = -1;
    w->next_id = 1;
    w->home_flag = home_flag ? pvm_xstrdup(home_flag) : NULL;
    if (pvm_pipe(w->wake, err) < 0 || pvm_pipe(w->cancel, err) < 0)
        goto fail;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cond, NULL);
    int rc = pthread_create(&w->thread, NULL, pvm_worker_main, w);
    if (rc != 0) {
        pvm_error_set(err, PVM_E_IO, "worker: cannot start the engine thread: %s", strerror(rc));
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->cond);
        goto fail;
    }
    *out = w;
    return 0;
fail:
    for (int i = 0; i < 2; i++) {
        if (w->wake[i] >= 0)
            close(w->wake[i]);
        if (w->cancel[i] >= 0)
            close(w->cancel[i]);
    }
    free(w->home_flag);
    free(w);
    return -1;
}

/* Tells the thread to quit (mu held): the running job is cancelled, queued ones
 * are unlinked and returned for the caller to free outside the lock. */
static pvm_job *pvm_worker_quit_locked(pvm_worker *w)
{
    w->quit = true;
    if (w->running)
        pvm_poke(w->cancel[1]);
    pvm_job *q = w->queue;
    w->queue = w->queue_tail = NULL;
    pthread_cond_broadcast(&w->cond);
    return q;
}

static void pvm_jobs_free(pvm_job *q)
{
    while (q) {
        pvm_job *next = q->next;
        pvm_job_free(q);
        q = next;
    }
}

/* After the thread ended: frees everything. */
static void pvm_worker_release(pvm_worker *w)
{
    pthread_join(w->thread, NULL);
    for (pvm_event_node *n = w->events, *next; n; n = next) {
        next = n->next;
        free(n);
    }
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cond);
    close(w->wake[0]);
    close(w->wake[1]);
    close(w->cancel[0]);
    close(w->cancel[1]);
    if (w->engine)
        pvm_engine_close(w->engine);
    free(w->home_flag);
    free(w);
}

void pvm_worker_free(pvm_worker *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    pvm_job *q = pvm_worker_quit_locked(w);
    pthread_mutex_unlock(&w->mu);
    pvm_jobs_free(q);
    pvm_worker_release(w);
}

bool pvm_worker_stop(pvm_worker *w, int timeout_ms)
{
    if (!w)
        return true;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&w->mu);
    pvm_job *q = pvm_worker_quit_locked(w);
    int rc = 0;
    while (!w->finished && rc == 0)
        rc = pthread_cond_timedwait(&w->cond, &w->mu, &until);
    bool done = w->finished;
    pthread_mutex_unlock(&w->mu);
    pvm_jobs_free(q);
    if (done)
        pvm_worker_release(w);
    return done;
}

int pvm_worker_fd(const pvm_worker *w)
{
    return w->wake[0];
}

static unsigned pvm_job_queue(pvm_worker *w, pvm_job *j)
{
    pthread_mutex_lock(&w->mu);
    j->id = w->next_id++;
    if (w->queue_tail)
        w->queue_tail->next = j;
    else
        w->queue = j;
    w->queue_tail = j;
    pthread_cond_signal(&w->cond);
    unsigned id = j->id;
    pthread_mutex_unlock(&w->mu);
    return id;
}

int pvm_worker_submit(pvm_worker *w, pvm_job_kind kind, const char *vm, unsigned *job,
                      pvm_error *err)
{
    if (kind == PVM_JOB_CUSTOM || (unsigned)kind > PVM_JOB_RESUME)
        return pvm_error_set(err, PVM_E_USAGE, "worker: job kind %d needs pvm_worker_submit_fn",
                             (int)kind);
    if (!vm || !vm[0] || strlen(vm) > PVM_NAME_MAX)
        return pvm_error_set_field(err, PVM_E_INVALID, "name", "VM name: must be 1 to %d bytes",
                                   PVM_NAME_MAX);
    pvm_job *j = pvm_xcalloc(1, sizeof *j);
    j->kind = kind;
    pvm_strlcpy(j->target, vm, sizeof j->target);
    unsigned id = pvm_job_queue(w, j);
    if (job)
        *job = id;
    return 0;
}

int pvm_worker_submit_fn(pvm_worker *w, const char *label, pvm_job_fn fn, void *arg,
                         void (*free_arg)(void *), unsigned *job, pvm_error *err)
{
    if (!fn)
        return pvm_error_set(err, PVM_E_USAGE, "worker: a custom job needs a function");
    pvm_job *j = pvm_xcalloc(1, sizeof *j);
    j->kind = PVM_JOB_CUSTOM;
    pvm_strlcpy(j->target, label ? label : "", sizeof j->target);
    j->fn = fn;
    j->arg = arg;
    j->free_arg = free_arg;
    unsigned id = pvm_job_queue(w, j);
    if (job)
        *job = id;
    return 0;
}

/* Unlinks job `id` from the queue (mu held); NULL when it is not queued. */
static pvm_job *pvm_job_unlink_locked(pvm_worker *w, unsigned id)
{
    pvm_job *prev = NULL;
    for (pvm_job *j = w->queue; j; prev = j, j = j->next) {
        if (j->id != id)
            continue;
        if (prev)
            prev->next = j->next;
        else
            w->queue = j->next;
        if (w->queue_tail == j)
            w->queue_tail = prev;
        j->next = NULL;
        return j;
    }
    return NULL;
}

int pvm_worker_cancel(pvm_worker *w, unsigned job)
{
    pthread_mutex_lock(&w->mu);
    if (job && w->running == job) {
        pvm_poke(w->cancel[1]);
        pthread_mutex_unlock(&w->mu);
        return 0;
    }
    pvm_job *j = pvm_job_unlink_locked(w, job);
    if (j) {
        pvm_worker_event ev;
        pvm_event_fill(&ev, j);
        ev.done = true;
        ev.rc = -1;
        pvm_error_set(&ev.err, PVM_E_CANCELLED, "%s %s: cancelled before it started",
                      pvm_job_kind_name(j->kind), j->target);
        pvm_event_push_locked(w, &ev);
    }
    pthread_mutex_unlock(&w->mu);
    pvm_job_free(j);
    return j ? 0 : -1;
}

size_t pvm_worker_pending(pvm_worker *w)
{
    size_t n = 0;
    pthread_mutex_lock(&w->mu);
    for (pvm_job *j = w->queue; j; j = j->next)
        n++;
    n += w->running != 0;
    pthread_mutex_unlock(&w->mu);
    return n;
}

unsigned pvm_worker_running(pvm_worker *w)
{
    pthread_mutex_lock(&w->mu);
    unsigned id = w->running;
    pthread_mutex_unlock(&w->mu);
    return id;
}

bool pvm_worker_next(pvm_worker *w, pvm_worker_event *ev)
{
    pthread_mutex_lock(&w->mu);
    pvm_drain(w->wake[0]);
    pvm_event_node *n = w->events;
    if (n) {
        w->events = n->next;
        if (!w->events)
            w->events_tail = NULL;
        *ev = n->ev;
    }
    pthread_mutex_unlock(&w->mu);
    free(n);
    return n != NULL;
}
