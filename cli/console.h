/* console.h - attaching this terminal to a VM's serial console socket: raw
 * mode, copying both ways until the escape key (Ctrl-]), restoring the terminal.
 * Shared by `vm console` (cli/cmd_vm.c) and the TUI's c key (tui/actions.c). */
#ifndef PVM_CONSOLE_H
#define PVM_CONSOLE_H

#include <signal.h>
#include <stdbool.h>

#define PVM_CONSOLE_ESCAPE 0x1d /* Ctrl-] */

/* Runs the console on sock (a connected stream socket from pvm_vm_console_open,
 * which the caller gives back with pvm_vm_console_close) until Ctrl-] on a terminal, the end of input, the VM closing the
 * socket, or *stop turning non-zero (the caller's signal handlers set it).
 * Prints the banner naming vm and the escape key on stderr. The caller has left
 * curses, if it used it. Returns 0, or -1 when the terminal went away. */
int pvm_console_attach(int sock, const char *vm, volatile sig_atomic_t *stop);

#endif
