/* proc.h - the proc module (engine/proc.c): the engine's monotonic clock and its one
 * bounded wait with cancel and progress. Included by the engine's own sources (vm*.c,
 * lock.c, the qemu/ files) through vm_internal.h or qemu/qemu.h; never by cli/ or tui/. */
#ifndef PVM_PROC_H
#define PVM_PROC_H

#include "pvm.h"

#include <stdbool.h>
#include <stdint.h>

/* Milliseconds of CLOCK_MONOTONIC: the one clock of every deadline in the engine. */
int64_t pvm_proc_now_ms(void);
/* Sleeps ms milliseconds (EINTR resumed). Not cancellable: long waits use pvm_wait_until. */
void pvm_proc_sleep_ms(int ms);

/* The one sleep-and-poll loop of the engine. Calls done(ctx) first and then once per
 * interval_ms (ms, >= 1; smaller values count as 1) until it returns true or timeout_ms
 * (ms; < 0: no limit) has passed. Between calls it poll()s progress->cancel_fd instead of
 * sleeping, so a cancel is seen at once, not at the end of the interval.
 * progress may be NULL; with progress->report set it is called on the caller's thread
 * with step (borrowed, may be NULL: then "waiting") and the fraction of timeout_ms used,
 * 0..1 (< 0 when there is no limit): once before the first check, then at most every
 * PVM_WAIT_REPORT_MS.
 * Returns 1 when done() said true, 0 when the time ran out (err untouched: the caller
 * knows what did not happen), -1 with PVM_E_CANCELLED ("<step>: cancelled") when
 * cancel_fd became readable or hung up, -1 with PVM_E_INVALID when cancel_fd is not an
 * open descriptor. done() is never called after the cancel was seen. */
#define PVM_WAIT_REPORT_MS 200
int pvm_wait_until(bool (*done)(void *ctx), void *ctx, int timeout_ms, int interval_ms,
                   const pvm_progress *progress, const char *step, pvm_error *err);
/* The same, also woken as soon as watch_fd (>= 0; e.g. a pidfd, a socket) becomes
 * readable, so done() is called then rather than at the next interval. watch_fd is
 * only polled, never read or closed; once done() says false right after watch_fd was
 * readable, the rest of the wait ignores watch_fd (no busy loop on a level-triggered fd). */
int pvm_wait_until_fd(int watch_fd, bool (*done)(void *ctx), void *ctx, int timeout_ms,
                      int interval_ms, const pvm_progress *progress, const char *step,
                      pvm_error *err);

#endif
