/* main.c - entry point of privarion-vm: global options (--home, --theme,
 * --help, --version), then dispatch to a command through the table below.
 * No command opens the full-screen interface (tui/tui.c). */
#include "cli.h"
#include "../tui/tui.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>

static const char *pvm_theme_flag; /* --theme NAME, for the TUI */
static bool pvm_ascii_flag;        /* --ascii, for the TUI */

typedef struct pvm_cli_command {
    const char *name;
    int (*run)(pvm_cli *cli, int argc, char **argv);
    const char *summary;
} pvm_cli_command;

/* One row per command; vm and doctor get theirs with cli/cmd_vm.c and
 * cli/cmd_doctor.c. */
static const pvm_cli_command pvm_commands[] = {
    {"profile", pvm_cli_profile, "hardware profiles: create, list, show, edit, delete, export, "
                                 "import; presets"},
    {"vm", pvm_cli_vm, "create, list, show, edit, start, stop, resume, delete VMs; their log, "
                       "console, display, screenshot, sendkey; exec, copy, audit in the guest"},
    {"guest", pvm_cli_guest, "build the small starter guest (kernel + initramfs); show it"},
    {"snapshot", pvm_cli_snapshot, "snapshots with memory state: create, list, show, restore, "
                                   "delete"},
    {"install", pvm_cli_install, "copy a file or package into a running VM and install it; "
                                 "--list shows what was installed"},
    {"stats", pvm_cli_stats, "live CPU, memory, disk and network usage of running VMs"},
    {"qemu", pvm_cli_qemu, "build the stealth QEMU (Debian's source + patches/); show it"},
    {"doctor", pvm_cli_doctor, "check QEMU, acceleration, caps and the data folder"},
};

static const size_t pvm_ncommands = sizeof pvm_commands / sizeof pvm_commands[0];

static double pvm_cli_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000 + ts.tv_nsec / 1e6;
}

void pvm_cli_trace(pvm_cli *cli, const char *step)
{
    if (cli->tracing)
        fprintf(stderr, "trace: %8.2f ms  %s\n", pvm_cli_now_ms() - cli->t0_ms, step);
}

static void pvm_cli_trace_report(void *ctx, const char *step, double fraction)
{
    (void)fraction;
    pvm_cli_trace(ctx, step);
}

const pvm_progress *pvm_cli_progress(pvm_cli *cli)
{
    return cli->tracing ? &cli->trace : NULL;
}

pvm_engine *pvm_cli_engine(pvm_cli *cli, pvm_error *err)
{
    if (!cli->engine) {
        pvm_cli_trace(cli, "opening the engine");
        if (pvm_engine_open(&cli->engine, cli->home_flag, err) < 0) {
            cli->engine = NULL;
            return NULL;
        }
        pvm_cli_trace(cli, "engine open");
        if (cli->tracing)
            pvm_engine_set_trace(cli->engine, &cli->trace);
    }
    return cli->engine;
}

static void pvm_cli_close(pvm_cli *cli)
{
    if (cli->engine)
        pvm_engine_close(cli->engine);
    cli->engine = NULL;
}

static void pvm_usage(FILE *fp)
{
    fprintf(fp,
            "usage: " PVM_PROG " [--home DIR] [--theme NAME] [--ascii]   (the full-screen interface)\n"
            "       " PVM_PROG " [--home DIR] COMMAND [ARGS...]\n"
            "       " PVM_PROG " --help | --version\n"
            "\n"
            "Manage QEMU virtual machines that wear a reusable hardware identity.\n"
            "Without a command it opens the full-screen interface (needs a terminal;\n"
            "? there lists every key).\n"
            "\n"
            "Commands:\n");
    for (size_t i = 0; i < pvm_ncommands; i++)
        fprintf(fp, "  %-10s %s\n", pvm_commands[i].name, pvm_commands[i].summary);
    fprintf(fp,
            "\n"
            "Global options (before the command):\n"
            "  --home DIR    keep state.db and the VM folders in DIR (overrides\n"
            "                $PRIVARION_VM_HOME and $XDG_DATA_HOME/privarion-vm)\n"
            "  --theme NAME  colour theme of the full-screen interface\n"
            "  --ascii       ASCII lines and sparklines in the full-screen interface\n"
            "                (the default without a UTF-8 locale)\n"
            "  -h, --help    show this help and exit\n"
            "  --version     print the version and exit\n"
            "\n"
            "Run '" PVM_PROG " COMMAND --help' for the options of a command.\n");
}

static const pvm_cli_command *pvm_command_find(const char *name)
{
    for (size_t i = 0; i < pvm_ncommands; i++)
        if (strcmp(pvm_commands[i].name, name) == 0)
            return &pvm_commands[i];
    return NULL;
}

/* Parses the global options; returns the index of the command, argc when
 * there is none, or -1 after handling --help/--version/errors (*status set). */
static int pvm_global_options(pvm_cli *cli, int argc, char **argv, int *status)
{
    pvm_error err = {0};
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            pvm_usage(stdout);
            *status = 0;
            return -1;
        } else if (strcmp(a, "--version") == 0) {
            printf(PVM_PROG " %s\n", PVM_VERSION);
            *status = 0;
            return -1;
        } else if (cli->home_flag && strncmp(a, "--home", 6) == 0 &&
                   (a[6] == '\0' || a[6] == '=')) {
            *status = pvm_out_usage(&err, "option '--home' given more than once");
            return -1;
        } else if (strcmp(a, "--ascii") == 0) {
            pvm_ascii_flag = true;
            continue;
        } else if (strncmp(a, "--theme", 7) == 0 && (a[7] == '\0' || a[7] == '=')) {
            if (pvm_theme_flag) {
                *status = pvm_out_usage(&err, "option '--theme' given more than once");
                return -1;
            }
            if (a[7] == '=')
                pvm_theme_flag = a + 8;
            else if (i + 1 < argc)
                pvm_theme_flag = argv[++i];
            else {
                *status = pvm_out_usage(&err, "option '--theme' needs a value (NAME)");
                return -1;
            }
            if (pvm_theme_name_check(pvm_theme_flag, &err) < 0) { /* as the config's theme */
                err.code = PVM_E_USAGE;
                *status = pvm_out_error(&err);
                return -1;
            }
            continue;
        } else if (strncmp(a, "--home=", 7) == 0) {
            cli->home_flag = a + 7;
        } else if (strcmp(a, "--home") == 0) {
            if (i + 1 >= argc) {
                *status = pvm_out_usage(&err, "option '--home' needs a value (DIR)");
                return -1;
            }
            cli->home_flag = argv[++i];
        } else {
            *status = pvm_out_usage(&err, "unknown option '%s' (see '" PVM_PROG " --help')", a);
            return -1;
        }
        if (cli->home_flag[0] == '\0') {
            *status = pvm_out_usage(&err, "--home: must not be empty");
            return -1;
        }
    }
    return i;
}

int main(int argc, char **argv)
{
    pvm_cli cli = {0};
    int status = 0;
    const char *trace = getenv("PRIVARION_VM_TRACE");
    cli.t0_ms = pvm_cli_now_ms();
    cli.tracing = trace && *trace && strcmp(trace, "0") != 0;
    cli.trace = (pvm_progress){.cancel_fd = -1, .report = pvm_cli_trace_report, .ctx = &cli};
    pvm_json_init(); /* before any cJSON value is built (presets --json needs no engine) */
    int i = pvm_global_options(&cli, argc, argv, &status);
    if (i < 0)
        return status;
    if (i >= argc) {
        pvm_tui_opts o = {.home_flag = cli.home_flag, .theme = pvm_theme_flag,
                          .ascii = pvm_ascii_flag, .trace = cli.tracing, .t0_ms = cli.t0_ms};
        return pvm_tui_run(&o);
    }
    if (strcmp(argv[i], "help") == 0 && i + 1 == argc) {
        pvm_usage(stdout);
        return 0;
    }
    const pvm_cli_command *cmd = pvm_command_find(argv[i]);
    if (!cmd) {
        pvm_error err = {0};
        return pvm_out_usage(&err, "unknown command '%s' (see '" PVM_PROG " --help')", argv[i]);
    }
    status = cmd->run(&cli, argc - i, argv + i);
    pvm_cli_close(&cli);
    pvm_cli_trace(&cli, "engine closed");
    fflush(stdout);
    if (ferror(stdout)) {
        fprintf(stderr, PVM_PROG ": could not write to standard output\n");
        return 1;
    }
    return pvm_cli_cancel_exit(status); /* a cancelled command ends by its signal */
}
