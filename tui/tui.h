/* tui.h - the entry point of the full-screen interface, called by cli/main.c
 * when privarion-vm runs without a command. No curses in this header: the
 * rest of tui/ shares tui/internal.h. */
#ifndef PVM_TUI_H
#define PVM_TUI_H

#include <stdbool.h>

typedef struct pvm_tui_opts {
    const char *home_flag; /* --home DIR, or NULL */
    const char *theme;     /* --theme NAME, or NULL */
    bool ascii;            /* --ascii: ASCII lines and sparklines whatever the locale */
    bool trace;            /* PRIVARION_VM_TRACE: the start-up steps, printed to stderr
                            * as "trace: MS STEP" lines once the screen is left */
    double t0_ms;          /* CLOCK_MONOTONIC ms at main()'s start: the traces' zero */
} pvm_tui_opts;

/* Runs the TUI until the user quits or the terminal goes away; returns the
 * process exit status: 0, 2 without a terminal (message on stderr), 1 when the
 * store cannot be opened. VMs keep running after it returns. */
int pvm_tui_run(const pvm_tui_opts *opts);

#endif
