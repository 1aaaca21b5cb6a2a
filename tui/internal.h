/* internal.h - what the files of tui/ share: the application state (one per
 * run, touched only by the UI thread), the modal-window interface (forms,
 * dialogs, the log viewer, help) and the drawing helpers of draw.c. */
#ifndef PVM_TUI_INTERNAL_H
#define PVM_TUI_INTERNAL_H

#include "pvm.h"
#include "worker.h"
#include "sampler.h"
#include "sparkline.h"
#include "layout.h"
#include "cells.h"
#include "theme.h"
#include "keymap.h"

#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1 /* the wide-character calls: Unicode line drawing in UTF-8 */
#endif
#include <curses.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct tui_app tui_app;
typedef struct tui_work tui_work;   /* vmwork.c: an install or audit in flight */
typedef struct tui_thumb tui_thumb; /* thumb.c: the screen thumbnail */

/* ------------------------------------------------------------ modals
 * A window over the panes that takes every key while it is open: a form, a
 * confirmation, a text prompt, the preset picker, the log viewer, help. Its
 * state (typed text, cursor) lives in the struct, so a resize only redraws it. */
typedef enum { TUI_MODAL_KEEP = 0, TUI_MODAL_CLOSE } tui_modal_result;

typedef struct tui_modal tui_modal;
struct tui_modal {
    /* Draws itself for the current screen size (called whenever it is dirty). */
    void (*draw)(tui_modal *m, tui_app *app);
    /* Handles one key; may replace itself with tui_modal_open (then returns KEEP). */
    tui_modal_result (*key)(tui_modal *m, tui_app *app, int ch);
    /* Called about once a second and after worker events; may set app->dirty. NULL ok. */
    void (*tick)(tui_modal *m, tui_app *app);
    void (*free)(tui_modal *m);
    bool cursor; /* shows the terminal cursor (text input) */
};

/* Replaces the open modal (freeing it) with m; NULL closes it. */
void tui_modal_open(tui_app *app, tui_modal *m);

/* ------------------------------------------------------------ app state */

enum {
    TUI_DIRTY_HEADER = 1u << 0,
    TUI_DIRTY_LISTS = 1u << 1,
    TUI_DIRTY_DETAILS = 1u << 2,
    TUI_DIRTY_HINTS = 1u << 3,
    TUI_DIRTY_MESSAGE = 1u << 4,
    TUI_DIRTY_MODAL = 1u << 5,
    TUI_DIRTY_LIVE = 1u << 6, /* a new reading: the sparklines, CPU cells and host load only */
    TUI_DIRTY_ALL = 0xffu, /* also clears the screen first */
};

#define TUI_FILTER_MAX 64

typedef struct tui_list {
    size_t *rows;   /* indexes into the data array that pass the filter */
    size_t n;
    int sel;        /* index into rows, -1 when empty */
    int top;        /* first row shown */
    char filter[TUI_FILTER_MAX + 1];
} tui_list;

struct tui_app {
    const char *home_flag;
    pvm_engine *engine;     /* the UI thread's own handle: reads and quick writes */
    pvm_worker *worker;     /* long operations */
    tui_layout layout;
    tui_pane focus;
    unsigned dirty;
    bool ascii_lines;       /* no UTF-8 locale: + - | instead of line drawing */
    volatile sig_atomic_t *stop; /* set by SIGHUP, SIGTERM, SIGINT */
    bool quit;

    /* the Profiles pane: id, name, manufacturer and product of each (a list of thousands
     * stays small); the whole identity of the selected one is read when it is wanted */
    pvm_profile_brief *profiles;
    size_t nprofiles;
    pvm_profile profile;  /* tui_profile_full's copy, of profile.id; "" when none */
    /* the VMs pane, the header and the change watch: each VM's brief row (name, profile,
     * size, state); the selected one is read whole when it is shown or acted on */
    pvm_vm_brief *vms;
    size_t nvms;
    pvm_vm vm;            /* tui_selected_vm's copy, of vm.id; "" when none */
    char vm_failed[PVM_UUID_LEN + 1]; /* the VM whose whole read failed last (said once) */
    pvm_host_info host;
    tui_list lists[TUI_PANE_COUNT];
    /* the Snapshots pane: the selected VM's snapshots (list_pane.c loads them) */
    pvm_snapshot_brief *snaps; /* tag, time, memory: all the pane shows */
    size_t nsnaps;
    bool snaps_loaded;
    char snaps_vm[PVM_UUID_LEN + 1]; /* whose they are */
    /* their check against the disk image (pvm_snapshot_list, which reconciles) runs on
     * the engine thread after the frame is drawn: the job queued or running (0: none),
     * its result box, and the VM last checked since the last reload */
    unsigned snaps_check_job;
    struct tui_snaps_check *snaps_check;
    char snaps_checked_vm[PVM_UUID_LEN + 1];

    /* the message line */
    char message[PVM_START_NOTE_MAX + 128]; /* "VM 'NAME' started; warning: " + note */
    tui_element message_el;
    unsigned message_seq;   /* counts tui_message calls: did an action say something? */
    int message_rows;       /* rows the message line has (long messages wrap) */
    /* the operation the worker runs, 0 when idle */
    unsigned job;
    pvm_job_kind job_kind;
    char job_target[PVM_NAME_MAX + 1];
    char job_step[160];
    char job_done[200];  /* a custom job's message on success ("" : "VM 'x' done") */
    char job_state[16];  /* a custom job's word in its VM's state column ("" : "busy");
                          * "saving" and "restoring" (a snapshot) also freeze its figures */
    char job_verb[32];   /* a custom job's name in progress messages ("install"), "" : "job" */

    /* the change watch */
    int64_t data_version;
    int64_t last_watch_ms;
    char uptime_shown[32];  /* the selected VM's uptime as last drawn */

    /* the first-run starter (starter.c) while its job runs */
    unsigned starter_job;
    char starter_vm[PVM_NAME_MAX + 1];

    tui_modal *modal;

    /* live usage (monitor.c): the sampler's owner is the engine thread (worker jobs) */
    pvm_sampler *sampler;
    pvm_spark_style spark_style;  /* braille in UTF-8, ASCII with --ascii or without UTF-8 */
    unsigned monitor_job;         /* the watch job queued or running, 0 when none */
    bool monitor_resync;          /* the running VMs changed while that job was queued */
    uint64_t monitor_sig;         /* the running VMs (ids and pids) the last job was given */
    tui_rect live;                /* the details pane's sparkline rows as last drawn, h 0: none */
    char live_vm[PVM_UUID_LEN + 1]; /* whose */
    unsigned modal_seq;     /* counts tui_modal_open calls */

    tui_work *work;         /* vmwork.c: the install or audit the worker runs, NULL none */
    tui_thumb *thumb;       /* thumb.c: the selected VM's screen, NULL until one is shown */
    bool no_colour;         /* NO_COLOR or a terminal without colours */

    /* PRIVARION_VM_TRACE: the UI thread's steps (and its engine's), kept until the
     * screen is left, then printed to stderr; NULL text when not tracing */
    struct pvm_progress tracer;
    bool framed;            /* the first frame has been written */
    double trace_t0_ms;
    char *trace_text;
    size_t trace_len;
};

/* tui.c */
int64_t tui_now_ms(void);
/* With PRIVARION_VM_TRACE, keeps "trace: MS STEP" (ms since main) for stderr once the
 * screen is left; nothing otherwise. */
void tui_trace(tui_app *app, const char *step);
/* Sets the message line (printf format); el is TUI_EL_ERROR, TUI_EL_OK, TUI_EL_TEXT ... */
void tui_message(tui_app *app, tui_element el, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void tui_message_error(tui_app *app, const pvm_error *err);
/* Recomputes the layout for the terminal's size, the focus and the message's rows. */
void tui_relayout(tui_app *app);
/* Reloads profiles and VMs from the engine, keeping each list's selection. */
void tui_reload(tui_app *app);
/* True while a snapshot of vm is saved or loaded: QEMU 7.2 answers no QMP then (and the
 * guest is stopped), so its live figures are not shown as if current. */
bool tui_vm_frozen(const tui_app *app, const char *vm_name);
/* The selected profile's row / VM, NULL when none. */
const pvm_profile_brief *tui_selected_brief(const tui_app *app);
const pvm_vm_brief *tui_selected_vm_brief(const tui_app *app);
/* The selected VM whole (its settings from the store, its state from the brief row), read
 * when the selection changed since the last call or a reload (one primary-key read); NULL
 * when none is selected or it cannot be read (deleted since the last reload, or the
 * message line says why, once). Valid until the next reload. */
const pvm_vm *tui_selected_vm(tui_app *app);
const pvm_profile_brief *tui_profile_by_id(const tui_app *app, const char *id);
/* The selected profile's whole identity, read from the store when the selection changed
 * since the last call or a reload (one indexed query); NULL when none is selected or it
 * cannot be read (gone since the last reload: the next reload shows that). Valid until
 * the next call or reload. */
const pvm_profile *tui_selected_profile(tui_app *app);
/* The same for the profile with this id (a VM's): one profile is kept, the last asked for. */
const pvm_profile *tui_profile_full(tui_app *app, const char *id);
/* Queues a worker job on a VM and shows it on the message line. */
void tui_submit(tui_app *app, pvm_job_kind kind, const char *vm);
/* Queues a custom engine-thread job (worker.h's pvm_worker_submit_fn) named
 * label; arg goes to the worker, which calls free_arg on it. -1 with err when
 * another job runs or the submit fails (then free_arg(arg) has run). */
int tui_submit_fn(tui_app *app, const char *label, pvm_job_fn fn, void *arg,
                  void (*free_arg)(void *), pvm_error *err);
/* Leaves curses for a moment (console), then restores the screen. */
void tui_suspend(tui_app *app);
void tui_resume(tui_app *app);

/* draw.c: every helper clips to the screen. */
void tui_draw_box(const tui_app *app, tui_rect r, const char *title, bool focus);
/* Text at (y, x), at most w columns, non-printable bytes shown as '?'. */
void tui_draw_text(int y, int x, int w, int attr, const char *s);
/* Fills w columns with blanks in attr. */
void tui_draw_fill(int y, int x, int w, int attr);
void tui_draw_clear(tui_rect r);
/* A centered box of h x w (clipped to the screen), cleared, with a blank cell around it
 * over the panes (no pane border runs beside its own); returns its rect. */
tui_rect tui_draw_dialog(const tui_app *app, int h, int w, const char *title);
/* A key-hint line: "Key label  Key label" with keys in the key_hint colour. */
void tui_draw_hints(int y, int x, int w, const char *const *pairs, size_t npairs);

/* list_pane.c */
/* Rebuilds the filtered rows; keep[pane] is the data index to keep selected
 * (-1 or keep NULL: keep the row position). */
void tui_lists_rebuild(tui_app *app, const long *keep);
void tui_list_draw(tui_app *app, tui_pane pane);
void tui_tabs_draw(tui_app *app);
/* Moves the focused list's selection by delta rows (clamped). */
void tui_list_move(tui_app *app, int delta);
void tui_list_home_end(tui_app *app, bool end);
/* Selects the row-th row shown in pane (0 = the top one); out of range: nothing. */
void tui_list_select_row(tui_app *app, tui_pane pane, int row);
/* The pane whose tab (narrow layout) covers column x, -1 when none. */
int tui_tab_at(const tui_app *app, int x);
/* The data index of the selected row of pane, -1 when none. */
long tui_list_selected(const tui_app *app, tui_pane pane);
/* Loads the selected VM's snapshots when they are not those shown (or were invalidated,
 * snaps_loaded false): the store's rows as they are (pvm_snapshot_briefs, no qemu-img or
 * QMP on the UI thread); tui_snaps_check then has them reconciled. */
void tui_snaps_sync(tui_app *app);
/* After a frame: queues the reconciliation (pvm_snapshot_list) of the shown VM's
 * snapshots on the engine thread when they were not checked since the last reload; one
 * at a time, so scrolling through VMs queues only the one finally selected. */
void tui_snaps_check(tui_app *app);
/* True when ev is that check's (its notes go to the message line, changed rows are read
 * again); nothing else to do for it. */
bool tui_snaps_check_event(tui_app *app, const pvm_worker_event *ev);
/* After the worker stopped: frees a check's box left behind. */
void tui_snaps_check_free(tui_app *app);
/* The selected snapshot, NULL when none. */
const pvm_snapshot_brief *tui_selected_snapshot(tui_app *app);
/* Opens the filter prompt of the focused list. */
void tui_filter_open(tui_app *app);

/* details.c */
void tui_details_draw(tui_app *app);
/* The word for the operation the worker runs on the VM of that name ("starting", "saving",
 * "restoring", "busy"...), shown for its state by the VMs list and the details; NULL when
 * none runs. */
const char *tui_vm_busy_word(const tui_app *app, const char *vm_name);
/* The selected VM's uptime text ("3m", "1h 05m"), "" when not running. */
void tui_uptime_text(const pvm_vm *vm, char *out, size_t size);
void tui_header_draw(tui_app *app);

/* Redraws only the sparkline rows of the details pane (after a new reading). */
void tui_details_live_draw(tui_app *app);

/* monitor.c: live usage. The sampler watches every running VM; its watch calls run as
 * worker jobs on the engine thread, its readings wake the loop through its self-pipe. */
/* After a reload: queues a watch job when the set of running VMs changed; nothing before
 * the first frame is out (tui_loop calls it then). */
void tui_monitor_sync(tui_app *app);
/* The sampler's descriptor for poll, -1 when there is none yet. */
int tui_monitor_fd(const tui_app *app);
/* The descriptor turned readable: drains it and marks the live parts dirty. */
void tui_monitor_readings(tui_app *app);
/* True when ev is the monitor's own job (handled here, nothing for the message line). */
bool tui_monitor_event(tui_app *app, const pvm_worker_event *ev);
/* + (dir 1: a longer interval) and - (dir -1: a shorter one), shown on the message line. */
void tui_monitor_step(tui_app *app, int dir);
/* After the worker stopped: joins the sampler's threads. */
void tui_monitor_free(tui_app *app);
/* The newest reading of the VM with this id run by QEMU pid; false when it is not sampled
 * (yet) or its series ended. */
bool tui_monitor_last(const tui_app *app, const char *vm_id, int pid, pvm_usage *out);
/* "1m 40s": the time n readings at the current interval span. */
void tui_monitor_window(const tui_app *app, size_t n, char *out, size_t size);

/* dialog.c: a one-line text editor for prompts and forms. */
typedef struct tui_edit {
    char buf[PVM_PATH_MAX];
    size_t len, cur; /* bytes, cursor position */
    int scroll;      /* first byte shown */
} tui_edit;
void tui_edit_set(tui_edit *e, const char *s);
/* Edits with ch (printable ASCII, arrows, Home/End, Backspace, Delete, Ctrl-U/K/A/E);
 * false when the key is not an editing key. */
bool tui_edit_key(tui_edit *e, int ch);
/* Draws w columns at (y, x); with focus, cy and cx get the cursor's cell. */
void tui_edit_draw(tui_edit *e, int y, int x, int w, int attr, bool focus, int *cy, int *cx);

/* Asks a yes/no question; on yes calls on_yes(app, arg) (arg is copied text). */
void tui_confirm(tui_app *app, const char *title, const char *question,
                 void (*on_yes)(tui_app *app, const char *arg), const char *arg);
/* Asks for one line of text (prefilled with initial); on Enter calls on_done. */
void tui_prompt(tui_app *app, const char *title, const char *label, const char *initial,
                void (*on_done)(tui_app *app, const char *text, const char *arg),
                const char *arg);
/* The same, but Enter first runs check (the engine's check of that value, e.g.
 * pvm_snapshot_tag_check): when it fails its error shows under the text, in its own
 * words, and the prompt stays open; Esc cancels. */
void tui_prompt_checked(tui_app *app, const char *title, const char *label,
                        const char *initial, int (*check)(const char *text, pvm_error *err),
                        void (*on_done)(tui_app *app, const char *text, const char *arg),
                        const char *arg);
/* The searchable preset picker: on Enter calls on_pick with the preset (NULL: random). */
void tui_preset_picker(tui_app *app, void (*on_pick)(tui_app *app, const pvm_preset *preset));
/* The serial log viewer of a VM: scrolls, follows new lines. */
void tui_log_open(tui_app *app, const pvm_vm *vm);
/* The same, but once a line starting with anchor appears the view stops
 * following and shows it at the top (the starter's identity report). */
void tui_log_open_at(tui_app *app, const pvm_vm *vm, const char *anchor);

/* form.c */
void tui_profile_form_open(tui_app *app, const pvm_profile *p);
void tui_vm_form_open(tui_app *app);

/* starter.c */
/* On a first start (no profiles, no VMs, not declined before) offers the starter. */
void tui_starter_offer(tui_app *app);
/* Handles the starter job's end event; false when ev is another job's. */
bool tui_starter_done(tui_app *app, const pvm_worker_event *ev);

/* mouse.c */
/* Turns the mouse on where the terminal has one (no-op on vt100 and the like). */
void tui_mouse_start(void);
/* Handles a KEY_MOUSE: a click focuses a pane and selects a row, the wheel
 * scrolls the list under the pointer; in a modal the wheel is Up/Down. */
void tui_mouse_event(tui_app *app);

/* help.c */
void tui_help_open(tui_app *app);

/* textview.c: a scrollable read-only text window; each line has its element. */
typedef struct tui_text {
    char **lines;
    tui_element *els;
    size_t n;
} tui_text;
tui_text *tui_text_new(void);
/* Adds text (printf format); each '\n' in it starts a line. */
void tui_text_add(tui_text *t, tui_element el, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void tui_text_free(tui_text *t);
/* Opens the window on t, which it owns from now on. */
void tui_text_open(tui_app *app, const char *title, tui_text *t);

/* vmwork.c: i (install), A (audit), D (display) on the VMs pane. */
void tui_work_key(tui_app *app, tui_action act);
/* The install form's submit: checks (pvm_install_check) and queues the install;
 * -1 with err naming the field ("FILE", "to", "run"). */
int tui_install_submit(tui_app *app, const char *vm, const char *file, const char *to,
                       const char *run, pvm_error *err);
/* A done event of the install or audit job: shows its result; false for another job. */
bool tui_work_done(tui_app *app, const pvm_worker_event *ev);
/* Frees the job's state; at exit only once the worker has stopped. */
void tui_work_free(tui_app *app);

/* form.c: the install form (FILE, --to, --run) of a running VM; the vm edit form. */
void tui_install_form_open(tui_app *app, const pvm_vm *vm);
void tui_vm_edit_form_open(tui_app *app, const pvm_vm *vm);

/* thumb.c: the live thumbnail of a running VM's screen in the details pane. */
/* Draws it in r (the details pane's free rows) for vm, asking the engine thread for a
 * new screen when the shown one is older than the refresh interval. */
void tui_thumb_draw(tui_app *app, const pvm_vm *vm, tui_rect r);
/* Once a second: a new screen is due for the VM shown (only while it is shown). */
void tui_thumb_tick(tui_app *app);
/* True when ev is the thumbnail's own job (a new screen arrived: redraws it). */
bool tui_thumb_event(tui_app *app, const pvm_worker_event *ev);
/* Frees it; only once the worker has stopped (a queued screen job holds its request). */
void tui_thumb_free(tui_app *app);

/* actions.c: what the keys do on the main screen */
void tui_do_action(tui_app *app, tui_action act);

#endif
