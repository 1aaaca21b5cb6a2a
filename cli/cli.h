/* cli.h - shared declarations of the scriptable command line (cli/).
 * main.c dispatches to the pvm_cli_<command> functions below; every command
 * parses its options with args.c and prints through out.c. */
#ifndef PVM_CLI_H
#define PVM_CLI_H

#include "../engine/pvm.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#ifndef PVM_VERSION
#define PVM_VERSION "0.1.0"
#endif

#define PVM_PROG "privarion-vm"

/* ------------------------------------------------------------ the session */

/* One run of the program: global options and the lazily opened engine. */
typedef struct pvm_cli {
    const char *home_flag; /* --home DIR, or NULL */
    pvm_engine *engine;    /* opened on first pvm_cli_engine() call */
    /* PRIVARION_VM_TRACE=1: every step the engine reports goes to stderr with the
     * milliseconds since main() began (bench/run reads them). */
    bool tracing;
    double t0_ms;
    pvm_progress trace;
} pvm_cli;

/* The progress to hand to long operations: the tracer, or NULL when not tracing. */
const pvm_progress *pvm_cli_progress(pvm_cli *cli);
/* With tracing on, prints "trace: <ms> <step>" to stderr. */
void pvm_cli_trace(pvm_cli *cli, const char *step);

/* Opens the engine on first use (so commands that fail validation never
 * touch the store); returns NULL and fills err on failure. */
pvm_engine *pvm_cli_engine(pvm_cli *cli, pvm_error *err);

/* Command functions: argv[0] is the command name ("profile"), the rest are
 * its arguments. They return the process exit status (0, 1 or 2). */
int pvm_cli_profile(pvm_cli *cli, int argc, char **argv);
/* cli/cmd_vm.c, cli/cmd_doctor.c; each command has one row in main.c's table. */
int pvm_cli_vm(pvm_cli *cli, int argc, char **argv);
int pvm_cli_doctor(pvm_cli *cli, int argc, char **argv);
/* cli/cmd_guest.c: guest build, guest show. */
int pvm_cli_guest(pvm_cli *cli, int argc, char **argv);
/* cli/cmd_qemu.c: qemu build, qemu show (the stealth QEMU). */
int pvm_cli_qemu(pvm_cli *cli, int argc, char **argv);
/* cli/cmd_stats.c */
int pvm_cli_stats(pvm_cli *cli, int argc, char **argv);
/* cli/cmd_agent.c: install, install --list. */
int pvm_cli_install(pvm_cli *cli, int argc, char **argv);
/* cli/cmd_snapshot.c: snapshot create, list, show, restore, delete. */
int pvm_cli_snapshot(pvm_cli *cli, int argc, char **argv);

/* ------------------------------------------------------ options (args.c)
 * Long options `--flag VALUE` and `--flag=VALUE`, boolean flags, an optional
 * one-letter alias (`-o FILE`), positional arguments, and `--` to end options.
 * A value is taken literally even when it starts with '-' (identity strings
 * may), except that a separate value spelled like one of the command's own
 * long options (`--serial --random`) is refused as a forgotten value; the
 * `--flag=VALUE` form takes anything. `-h`/`--help` stops parsing and sets help. A flag given twice is a
 * usage error (so a typo cannot silently override an earlier value). */

typedef struct pvm_opt {
    const char *name;    /* without the leading "--" */
    char alias;          /* one-letter alias ('o' for -o), or 0 */
    bool takes_value;
    const char *metavar; /* e.g. "FILE"; shown in help */
    const char *help;    /* one line */
} pvm_opt;

typedef struct pvm_args {
    const pvm_opt *opts;
    size_t nopts;
    const char **values; /* per option: its value, or NULL when not given */
    bool *given;         /* per option: seen on the command line */
    char **pos;          /* positional arguments (pointers into argv) */
    size_t npos;
    bool help;           /* -h or --help was given */
} pvm_args;

/* Parses argv[0..argc) (argv[0] is the first argument, not the command).
 * `cmd` names the command for messages, e.g. "profile create". On a usage
 * error returns -1 with err->code PVM_E_USAGE. Free with pvm_args_free. */
int pvm_args_parse(pvm_args *a, const pvm_opt *opts, size_t nopts, int argc,
                   char **argv, const char *cmd, pvm_error *err);
void pvm_args_free(pvm_args *a);
/* Value of the option named `name` (NULL when not given). */
const char *pvm_args_value(const pvm_args *a, const char *name);
bool pvm_args_given(const pvm_args *a, const char *name);
/* Prints "  --name METAVAR   help" lines, aligned, one per option. */
void pvm_args_print_help(FILE *fp, const pvm_opt *opts, size_t nopts);
/* The flag (without "--", written into buf) among opts that sets the field or
 * option key `field` (pvm_error.field): a profile field's flag from the field
 * table ("macAddress" -> "mac"), else the key spelled as a flag ("diskBus" ->
 * "disk-bus"). NULL when this command has no such flag. */
const char *pvm_args_flag_of(const pvm_opt *opts, size_t nopts, const char *field, char *buf,
                             size_t size);
/* Names the flag in an error about an option that is spelled otherwise:
 * "macAddress: rule" becomes "macAddress (--mac): rule". Decided by err->field;
 * a message that does not open with "KEY:" (an import's "[1].KEY:") is kept. */
void pvm_args_flag_error(pvm_error *err, const pvm_opt *opts, size_t nopts);

/* ------------------------------------------------- subcommands (sub.c)
 * A command made of subcommands ("profile", "vm") is a table of pvm_sub rows
 * and one call of pvm_sub_dispatch, which finds the row, parses its options,
 * prints its help, checks its positional arguments, runs it and prints its
 * error (with pvm_args_flag_error). */

struct pvm_sub_group;

typedef struct pvm_sub {
    const char *name;
    const char *usage;   /* after "COMMAND NAME " in help, e.g. "NAME [--json]" */
    const char *summary; /* one line, lower case, no full stop */
    const char *details; /* more help text for the default help, or NULL */
    const pvm_opt *opts; /* the option table (may be NULL with nopts 0) ... */
    size_t nopts;
    const pvm_opt *(*opts_fn)(size_t *n); /* ... or one built at run time (static storage) */
    size_t min_pos, max_pos;              /* positional arguments taken */
    const char *pos_what;                 /* named when one is missing: "NAME", "FILE|-" */
    /* Runs with the parsed arguments: 0, or -1 with err filled (printed by the runner). */
    int (*run)(pvm_cli *cli, const pvm_args *a, pvm_error *err);
    /* Prints --help; NULL for pvm_sub_help_default. */
    void (*help)(const struct pvm_sub_group *g, const struct pvm_sub *s);
} pvm_sub;

typedef struct pvm_sub_group {
    const char *name; /* "profile", "vm" */
    const pvm_sub *subs;
    size_t nsubs;
    void (*help)(const struct pvm_sub_group *g); /* `COMMAND --help` */
} pvm_sub_group;

/* Subcommands that live in their own files: options table and run function of a row in
 * cmd_vm.c's table (cmd_vm_edit.c, cmd_display.c). */
const pvm_opt *pvm_vm_edit_options(size_t *n);
int pvm_vm_edit_run(pvm_cli *cli, const pvm_args *a, pvm_error *err);
/* cmd_vm.c: after vm create / vm edit --forward, a warning (stderr) naming each forward
 * whose host address is not loopback (pvm_forwards_exposed). */
void pvm_cli_forwards_warn(const pvm_vm *vm);
/* cmd_display.c: vm display, vm screenshot, vm sendkey. */
const pvm_opt *pvm_vm_display_options(size_t *n);
int pvm_vm_display_run(pvm_cli *cli, const pvm_args *a, pvm_error *err);
int pvm_vm_screenshot_run(pvm_cli *cli, const pvm_args *a, pvm_error *err);
int pvm_vm_sendkey_run(pvm_cli *cli, const pvm_args *a, pvm_error *err);

/* argv[0] is the command ("vm"), argv[1] the subcommand. Returns the exit status. */
int pvm_sub_dispatch(pvm_cli *cli, const pvm_sub_group *g, int argc, char **argv);
/* "usage: privarion-vm COMMAND NAME USAGE", the summary, details and options. */
void pvm_sub_help_default(const pvm_sub_group *g, const pvm_sub *s);

/* cli/cmd_agent.c: the rows of `vm exec` and `vm copy` (guest agent), run and options. */
struct pvm_args;
int pvm_cli_vm_exec(pvm_cli *cli, const pvm_args *a, pvm_error *err);
int pvm_cli_vm_copy(pvm_cli *cli, const pvm_args *a, pvm_error *err);
int pvm_cli_vm_audit(pvm_cli *cli, const pvm_args *a, pvm_error *err);
extern const pvm_opt pvm_cli_exec_opts[], pvm_cli_copy_opts[], pvm_cli_audit_opts[];
extern const size_t pvm_cli_exec_nopts, pvm_cli_copy_nopts, pvm_cli_audit_nopts;

/* -------------------------------------------------------- output (out.c) */

/* cancel.c: the read end (fd 3 or above) of the pipe SIGINT, SIGTERM and SIGHUP write to
 * (created and the handlers installed on the first call; the same fd after), for
 * pvm_progress.cancel_fd; -1 when no pipe can be made (the work then runs without
 * cancel). After the first signal the three get their default action back, so a second
 * one ends the process at once. */
int pvm_cli_cancel_fd(void);
/* cancel.c: the signal that cancelled the command (SIGINT, SIGTERM or SIGHUP; the first
 * one caught), 0 when none was. pvm_out_error returns 128 + it for a PVM_E_CANCELLED
 * error. */
int pvm_cli_cancel_signal(void);
/* cancel.c: called by main last, after the cleanup: when status is 128 + the caught
 * signal (the command was cancelled), ends the process by that signal, as a shell
 * expects of a command Ctrl-C stopped (bash then stops a script's loop too; $? is 130,
 * 143 or 129); returns status otherwise (and if the signal did not end it). */
int pvm_cli_cancel_exit(int status);

/* Prints "privarion-vm: <message>" on stderr and returns the exit status
 * that belongs to err->code (2 usage/validation/not-found/exists, else 1), or
 * 128 + the signal when err is PVM_E_CANCELLED and a signal caught by cancel.c cancelled
 * the work (another failure after a signal keeps its own status). */
int pvm_out_error(const pvm_error *err);
/* Formats a usage error into err, prints it and returns 2. */
int pvm_out_usage(pvm_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Prints a one-line note on stderr ("privarion-vm: note: ..."). */
void pvm_out_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints a one-line warning on stderr ("privarion-vm: warning: ..."). */
void pvm_out_warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* An aligned text table: columns padded to the widest cell, two spaces
 * apart, no trailing blanks. Empty cells print as "-". */
typedef struct pvm_table pvm_table;
pvm_table *pvm_table_new(size_t ncols, const char *const *headers);
/* Adds a row of ncols strings (copied). */
void pvm_table_add(pvm_table *t, const char *const *cells);
void pvm_table_print(const pvm_table *t, FILE *fp);
void pvm_table_free(pvm_table *t);

/* Prints a labelled line "  Label:   value" with labels padded to width. */
void pvm_out_field(FILE *fp, int indent, int width, const char *label, const char *value);
/* The label column of an identity's fields: the longest label, "CPU threads per core:". */
#define PVM_OUT_ID_WIDTH 21
/* One value for pvm_out_identity: the text of profile field f (of pvm_profile_fields), or
 * with f NULL of the "Hide hypervisor" row; NULL or "" prints as "-". */
typedef const char *pvm_out_id_value(void *ctx, const pvm_field *f);
/* An identity as `profile show` and `snapshot show` print it: "\n" id_heading, the identity
 * fields (then "Hide hypervisor" when hide_row), "\n" hw_heading, the hardware model's
 * fields; labels indented 2 in a column PVM_OUT_ID_WIDTH wide. Every value goes through
 * pvm_escape_ctl: a snapshot's record is read back from disk, not validated. */
void pvm_out_identity(FILE *fp, const char *id_heading, const char *hw_heading, bool hide_row,
                      pvm_out_id_value *get, void *ctx);

/* JSON printing: only cJSON or the engine's own to_json output. The item is
 * printed formatted, followed by a newline; returns 0, or -1 with err set. */
struct cJSON;
int pvm_out_json(FILE *fp, const struct cJSON *item, pvm_error *err);
/* Prints an engine-made JSON text followed by a newline. */
void pvm_out_json_text(FILE *fp, const char *text);
/* Writes all n bytes of buf to fd, retrying on EINTR: 0, or -1 when the
 * other side is gone or write failed (errno from write). */
int pvm_out_write_all(int fd, const void *buf, size_t n);
/* Formats a Unix time as "YYYY-MM-DD HH:MM:SS UTC" into buf. */
const char *pvm_out_time(int64_t t, char *buf, size_t size);

#endif
