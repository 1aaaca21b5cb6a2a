/* proc.h - the proc module (engine/proc.c): the engine's monotonic clock, its one
 * bounded wait with cancel and progress, and child processes (start, run, wait, signal).
 * Included by the engine's own sources (vm*.c, lock.c, the qemu/ files) through
 * vm_internal.h or qemu/qemu.h; never by cli/ or tui/. */
#ifndef PVM_PROC_H
#define PVM_PROC_H

#include "pvm.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Milliseconds of CLOCK_MONOTONIC: the one clock of every deadline in the engine. */
int64_t pvm_proc_now_ms(void);
/* True once progress->cancel_fd (> 0; 0 or a NULL progress: none) is readable or hung
 * up: the caller was asked to stop. Never blocks. */
bool pvm_progress_cancelled(const pvm_progress *progress);
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
/* The same, also woken as soon as watch_fd (>= 0; e.g. a pidfd, a pipe) becomes
 * readable, so done() runs then rather than at the end of the interval; watch_fd < 0:
 * none. The helper only polls watch_fd; done() must consume what made it readable (read
 * the pipe) or return true, else the wait spins until the time runs out. */
int pvm_wait_until_fd(int watch_fd, bool (*done)(void *ctx), void *ctx, int timeout_ms,
                      int interval_ms, const pvm_progress *progress, const char *step,
                      pvm_error *err);

/* --------------------------------------------------------------- children */

/* How often a wait re-checks a process it also watches through a pidfd (a safety net:
 * the pidfd wakes the wait at once), and how often without one (kernels before 5.3). */
#define PVM_PIDFD_CHECK_MS 1000
#define PVM_PID_POLL_MS 20
/* util-linux's setpriv, used to give a child a parent-death signal (PVM_SPAWN_PDEATHSIG). */
#define PVM_SETPRIV "/usr/bin/setpriv"

/* Flags of pvm_proc_start. */
#define PVM_SPAWN_SETSID 1    /* a new session (no controlling terminal): QEMU outlives us */
#define PVM_SPAWN_PGROUP 2    /* a new process group (pgid = pid), to kill it whole */
#define PVM_SPAWN_PDEATHSIG 4 /* SIGKILL when the spawning thread dies (through setpriv) */

/* Starts argv (argv[0] looked up in PATH, no shell) the one way the engine starts any
 * child: posix_spawn with an empty signal mask and every catchable signal at its default
 * action (whatever the calling thread blocks or ignores), stdin from /dev/null, stdout
 * and stderr onto out_fd (borrowed, not closed), every other descriptor closed (close-on-
 * exec or not). *child is the pid; the caller reaps it (pvm_proc_wait_child).
 * -1 PVM_E_IO "cannot run ARGV0: <reason>" when the program cannot be executed or the
 * system lacks resources. */
int pvm_proc_start(char *const *argv, int out_fd, int flags, pid_t *child, pvm_error *err);

/* Runs argv as pvm_proc_start does and waits at most timeout_ms (< 0: no limit).
 * *out: everything it printed (stdout and stderr interleaved), NUL-terminated,
 * malloc'd (free()), also when the status is not 0; NULL on -1. *status is the exit
 * code, or 128+signal; a program that cannot be executed gives status 127 and
 * "cannot run ARGV0: <reason>" as output, as a shell would. -1 PVM_E_IO (the child
 * killed and reaped) when the time runs out ("... did not finish within N s"), the
 * output passes PVM_PROC_OUTPUT_MAX bytes ("... printed more than 4 MiB"), or the
 * system cannot start it. */
#define PVM_PROC_OUTPUT_MAX (4u << 20)
int pvm_proc_run(char *const *argv, int timeout_ms, char **out, int *status, pvm_error *err);
/* Starts argv in a new session, stdout and stderr appended to log_path (0600); returns the
 * child's pid in *child. -1: log_path cannot be opened, or pvm_proc_start's errors. */
int pvm_proc_spawn(char *const *argv, const char *log_path, pid_t *child, pvm_error *err);

/* Waits up to timeout_ms (< 0: no limit) for our child to exit and reaps it (waitpid on
 * that pid only: other children's statuses are left alone; woken by its pidfd).
 * 1: exited, *status = exit code or 128+signal (255 when it is not our child);
 * 0: still running at the timeout; -1: cancelled through progress (PVM_E_CANCELLED).
 * step names the wait in progress reports and the cancel message; may be NULL. */
int pvm_proc_wait_child(pid_t child, int timeout_ms, const pvm_progress *progress,
                        const char *step, int *status, pvm_error *err);
/* Waits up to timeout_ms for any process (not only our child) to end: through a pidfd,
 * so a pid reused meanwhile is not mistaken for it; without pidfds until the pid is
 * gone or a zombie. 1: gone; 0: still there at the timeout; -1: cancelled. */
int pvm_proc_wait_gone(int pid, int timeout_ms, const pvm_progress *progress, const char *step,
                       pvm_error *err);
/* Sends sig to pid only when it is still the process whose command line contains needle
 * (e.g. the VM's id in QEMU's argv): the pidfd is opened first, the command line checked
 * after, and the signal sent through the pidfd, so a pid reused by another process is
 * never signalled. 1: sent; 0: gone, a zombie, or not that process (errno ESRCH);
 * -1: other failure (errno, e.g. EPERM). */
int pvm_proc_signal_checked(int pid, const char *needle, int sig);

#endif
