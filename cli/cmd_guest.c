/* cmd_guest.c - `privarion-vm guest build|show`: the small starter guest (kernel +
 * initramfs in HOME/guest) through engine/guest.c; step lines on a terminal, Ctrl-C
 * cancels the build through the engine's cancel descriptor. Called by main.c. */
#include "cli.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const pvm_opt pvm_guest_build_opts[] = {
    {"force", 0, false, NULL, "build again even when this version is cached"},
    {"json", 0, false, NULL, "print the result as JSON"},
};

static const pvm_opt pvm_guest_show_opts[] = {
    {"json", 0, false, NULL, "print JSON instead of text"},
};

static void pvm_guest_help(void)
{
    printf("usage: " PVM_PROG " guest build [--force] [--json]\n"
           "       " PVM_PROG " guest show [--json]\n\n"
           "The starter guest: a Debian kernel and a small busybox initramfs with the QEMU\n"
           "guest agent, made from this system's Debian package archive. Its console shows\n"
           "the hardware identity the guest sees. 'build' runs the guest builder (about a\n"
           "minute the first time; quick once its cache holds this version) and keeps the\n"
           "result in HOME/guest (vmlinuz, initramfs.gz; the builder's output in\n"
           "HOME/guest/build.log). Run as root it installs the Debian packages it needs;\n"
           "otherwise it names them. 'show' prints where the files are and whether they\n"
           "are built. Boot it with:\n"
           "  " PVM_PROG " vm create NAME --profile P --kernel HOME/guest/vmlinuz \\\n"
           "      --initrd HOME/guest/initramfs.gz --disk 64M\n"
           "\nOptions of build:\n");
    pvm_args_print_help(stdout, pvm_guest_build_opts, 2);
    printf("\nOptions of show:\n");
    pvm_args_print_help(stdout, pvm_guest_show_opts, 1);
}

/* ------------------------------------------------------------- output */

static int pvm_guest_json(const pvm_guest *g, pvm_error *err)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddBoolToObject(j, "built", g->built);
    cJSON_AddStringToObject(j, "dir", g->dir);
    cJSON_AddStringToObject(j, "kernel", g->kernel);
    cJSON_AddStringToObject(j, "initrd", g->initrd);
    cJSON_AddStringToObject(j, "kernelVersion", g->kernel_version);
    cJSON_AddStringToObject(j, "log", g->log);
    cJSON_AddStringToObject(j, "builder", g->builder);
    cJSON_AddStringToObject(j, "source", g->source);
    int rc = pvm_out_json(stdout, j, err);
    cJSON_Delete(j);
    return rc;
}

static void pvm_guest_text(const pvm_guest *g)
{
    const int w = 8;
    pvm_out_field(stdout, 0, w, "Built", g->built ? "yes" : "no (run: " PVM_PROG " guest build)");
    pvm_out_field(stdout, 0, w, "Kernel", g->kernel);
    pvm_out_field(stdout, 0, w, "Initrd", g->initrd);
    pvm_out_field(stdout, 0, w, "Version", g->kernel_version);
    pvm_out_field(stdout, 0, w, "Log", g->log);
    pvm_out_field(stdout, 0, w, "Builder", g->builder[0] ? g->builder : "(not found)");
    pvm_out_field(stdout, 0, w, "Source", g->source);
}

/* ------------------------------------------------------------- progress */

typedef struct pvm_guest_ui {
    bool tty;
    struct timespec start;
} pvm_guest_ui;

static void pvm_guest_report(void *ctx, const char *step, double fraction)
{
    (void)fraction;
    pvm_guest_ui *ui = ctx;
    if (!ui->tty)
        return;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    fprintf(stderr, "[%4lds] %s\n", (long)(now.tv_sec - ui->start.tv_sec), step);
}


/* ------------------------------------------------------------- commands */

static int pvm_guest_build_cmd(pvm_cli *cli, const pvm_args *a)
{
    pvm_error err = {0};
    pvm_engine *e = pvm_cli_engine(cli, &err);
    if (!e)
        return pvm_out_error(&err);
    pvm_guest_ui ui = {.tty = isatty(2) == 1};
    clock_gettime(CLOCK_MONOTONIC, &ui.start);
    /* SIGINT, SIGTERM, SIGHUP cancel the build (the builder runs in its own session, so
     * the terminal's Ctrl-C does not reach it) */
    int cancel = pvm_cli_cancel_fd();
    if (cancel < 0)
        return pvm_out_error(&(pvm_error){PVM_E_IO, "guest build: cannot make a pipe", ""});
    pvm_progress progress = {cancel, pvm_guest_report, &ui};
    pvm_guest g;
    if (pvm_guest_build(e, pvm_args_given(a, "force"), &progress, &g, &err) < 0)
        return pvm_out_error(&err);
    if (pvm_args_given(a, "json"))
        return pvm_guest_json(&g, &err) < 0 ? pvm_out_error(&err) : 0;
    pvm_guest_text(&g);
    return 0;
}

static int pvm_guest_show_cmd(pvm_cli *cli, const pvm_args *a)
{
    pvm_error err = {0};
    pvm_engine *e = pvm_cli_engine(cli, &err);
    pvm_guest g;
    if (!e || pvm_guest_info(e, &g, &err) < 0)
        return pvm_out_error(&err);
    if (pvm_args_given(a, "json"))
        return pvm_guest_json(&g, &err) < 0 ? pvm_out_error(&err) : 0;
    pvm_guest_text(&g);
    return 0;
}

int pvm_cli_guest(pvm_cli *cli, int argc, char **argv)
{
    pvm_error err = {0};
    if (argc < 2)
        return pvm_out_usage(&err, "guest: which one? build or show (see '" PVM_PROG
                                   " guest --help')");
    const char *sub = argv[1];
    if (!strcmp(sub, "-h") || !strcmp(sub, "--help") || !strcmp(sub, "help")) {
        pvm_guest_help();
        return 0;
    }
    bool build = !strcmp(sub, "build");
    if (!build && strcmp(sub, "show") != 0)
        return pvm_out_usage(&err, "guest: unknown subcommand '%s' (build or show)", sub);
    const pvm_opt *opts = build ? pvm_guest_build_opts : pvm_guest_show_opts;
    size_t nopts = build ? 2 : 1;
    pvm_args a;
    int status;
    if (pvm_args_parse(&a, opts, nopts, argc - 2, argv + 2, build ? "guest build" : "guest show",
                       &err) < 0)
        status = pvm_out_error(&err);
    else if (a.help)
        status = (pvm_guest_help(), 0);
    else if (a.npos)
        status = pvm_out_usage(&err, "guest %s: unexpected argument '%s'", sub, a.pos[0]);
    else
        status = build ? pvm_guest_build_cmd(cli, &a) : pvm_guest_show_cmd(cli, &a);
    pvm_args_free(&a);
    return status;
}
