/* cmd_qemu.c - `privarion-vm qemu build|show`: the stealth QEMU (Debian's QEMU source plus
 * patches/qemu-7.2) through engine/qemu/build.c and build_state.c; a progress line on a
 * terminal, Ctrl-C cancels the build through the engine's cancel descriptor. Called by
 * main.c. */
#include "cli.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const pvm_opt pvm_qemu_build_opts[] = {
    {"force", 0, false, NULL, "build again even when this version and patch set are cached"},
    {"json", 0, false, NULL, "print the result as JSON"},
};

static const pvm_opt pvm_qemu_show_opts[] = {
    {"json", 0, false, NULL, "print JSON instead of text"},
};

static void pvm_qemu_help(void)
{
    printf("usage: " PVM_PROG " qemu build [--force] [--json]\n"
           "       " PVM_PROG " qemu show [--json]\n\n"
           "The stealth QEMU: Debian's source package of the installed QEMU with this\n"
           "project's patch series (patches/qemu-7.2: ACPI creator and revisions, no WAET,\n"
           "fw_cfg's ACPI id, PCI subsystem ids, NVMe and CD-ROM strings as run-time\n"
           "properties), built for x86_64 with TCG, KVM, user networking and VNC only.\n"
           "'build' fetches the source with apt-get on a private deb-src list (the system's\n"
           "apt setup is not changed), applies the patches, configures and compiles it\n"
           "(minutes on two cores) into /var/cache/privarion-vm/qemu-stealth/KEY (root) or\n"
           "$XDG_CACHE_HOME/privarion-vm/qemu-stealth/KEY, KEY being the QEMU version and\n"
           "a hash of the configure line and patch set; a cached build is reused. It\n"
           "needs the build's packages (make stealth-qemu as root installs them;\n"
           "otherwise the error names them). Ctrl-C (SIGINT, SIGTERM, SIGHUP) cancels it\n"
           "in any step (apt-get, dpkg-source, patch, configure, ninja), ending what the\n"
           "step started, and then ends by the signal (exit status 130 for Ctrl-C); a\n"
           "cancelled or failed build leaves no half-made build behind (a failure keeps\n"
           "its log); --force replaces the build only once the new one is whole.\n"
           "A new build removes the builds of this patch set made for another QEMU\n"
           "version (stale after an upgrade; not one another process is building) and\n"
           "names each ('Removed:'); builds of other patch sets (other checkouts or\n"
           "installs sharing the cache) stay.\n"
           "'show' says whether it is built for the installed QEMU and lists the cache's\n"
           "builds ('Cached:': current; stale, removed by the next build; or another\n"
           "patch set's, kept).\n"
           "VMs of profiles that hide the hypervisor run it when it is built (config key\n"
           "qemu_stealth = auto|on|off).\n"
           "\nOptions of build:\n");
    pvm_args_print_help(stdout, pvm_qemu_build_opts, 2);
    printf("\nOptions of show:\n");
    pvm_args_print_help(stdout, pvm_qemu_show_opts, 1);
}

/* ------------------------------------------------------------- output */

static int pvm_qemu_json(const pvm_qemu_stealth *s, bool cached,
                         const pvm_qemu_cached *cached_builds, size_t ncached, pvm_error *err)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddBoolToObject(j, "built", s->built);
    cJSON_AddBoolToObject(j, "cached", cached);
    cJSON_AddStringToObject(j, "binary", s->binary);
    cJSON_AddStringToObject(j, "key", s->key);
    cJSON_AddStringToObject(j, "sourceVersion", s->source_version);
    cJSON_AddStringToObject(j, "patchHash", s->patch_hash);
    cJSON_AddNumberToObject(j, "patches", s->npatches);
    cJSON_AddStringToObject(j, "patchDir", s->series_dir);
    cJSON_AddNumberToObject(j, "buildSeconds", s->build_seconds);
    cJSON_AddStringToObject(j, "builtAt", s->built_at);
    cJSON_AddStringToObject(j, "otherKey", s->other_key);
    cJSON *removed = cJSON_AddArrayToObject(j, "removed");
    for (int i = 0; i < s->nremoved; i++) {
        cJSON *r = cJSON_CreateObject();
        cJSON_AddStringToObject(r, "key", s->removed[i].key);
        cJSON_AddNumberToObject(r, "bytes", (double)s->removed[i].bytes);
        cJSON_AddItemToArray(removed, r);
    }
    cJSON *list = cJSON_AddArrayToObject(j, "builds");
    for (size_t i = 0; i < ncached; i++) {
        cJSON *c = cJSON_CreateObject();
        cJSON_AddStringToObject(c, "key", cached_builds[i].key);
        cJSON_AddNumberToObject(c, "bytes", (double)cached_builds[i].bytes);
        cJSON_AddBoolToObject(c, "current", cached_builds[i].current);
        cJSON_AddBoolToObject(c, "stale", cached_builds[i].stale);
        cJSON_AddBoolToObject(c, "finished", cached_builds[i].stamped);
        cJSON_AddStringToObject(c, "builtAt", cached_builds[i].built_at);
        cJSON_AddItemToArray(list, c);
    }
    int rc = pvm_out_json(stdout, j, err);
    cJSON_Delete(j);
    return rc;
}

static void pvm_qemu_text(const pvm_qemu_stealth *s, const pvm_qemu_cached *c, size_t n)
{
    const int w = 9;
    char buf[200];
    if (s->built)
        snprintf(buf, sizeof buf, "yes, %s (in %d s)", s->built_at, s->build_seconds);
    else
        snprintf(buf, sizeof buf, "no (run: " PVM_PROG " qemu build)");
    pvm_out_field(stdout, 0, w, "Built", buf);
    pvm_out_field(stdout, 0, w, "Binary", s->binary);
    pvm_out_field(stdout, 0, w, "QEMU", s->source_version);
    snprintf(buf, sizeof buf, "%d, sha256 %.16s... (%.120s)", s->npatches, s->patch_hash,
             s->series_dir);
    pvm_out_field(stdout, 0, w, "Patches", buf);
    if (!s->built && s->other_key[0])
        pvm_out_field(stdout, 0, w, "Stale", s->other_key);
    char size[32];
    for (int i = 0; i < s->nremoved; i++) {
        snprintf(buf, sizeof buf, "%.120s (%s)", s->removed[i].key,
                 pvm_size_format(s->removed[i].bytes, size, sizeof size));
        pvm_out_field(stdout, 0, w, "Removed", buf);
    }
    for (size_t i = 0; i < n; i++) {
        snprintf(buf, sizeof buf, "%.120s (%s, %s%s%s)", c[i].key,
                 c[i].current  ? "current"
                 : !c[i].stamped ? "unfinished"
                 : c[i].stale  ? "stale: removed by the next build"
                               : "another patch set: kept",
                 pvm_size_format(c[i].bytes, size, sizeof size),
                 c[i].built_at[0] ? ", built " : "", c[i].built_at);
        pvm_out_field(stdout, 0, w, "Cached", buf);
    }
    if (!n)
        pvm_out_field(stdout, 0, w, "Cached", "nothing");
}

/* Prints s and the cache's builds as text or JSON; 0, or the error's exit status. */
static int pvm_qemu_print(const pvm_args *a, const pvm_qemu_stealth *s, bool cached)
{
    pvm_error err = {0};
    pvm_qemu_cached *list = NULL;
    size_t n = 0;
    if (pvm_qemu_stealth_cached(s, &list, &n, &err) < 0)
        return pvm_out_error(&err);
    int status = 0;
    if (pvm_args_given(a, "json"))
        status = pvm_qemu_json(s, cached, list, n, &err) < 0 ? pvm_out_error(&err) : 0;
    else
        pvm_qemu_text(s, list, n);
    free(list);
    return status;
}

/* ------------------------------------------------------------- progress */

typedef struct pvm_qemu_ui {
    bool tty;
    struct timespec start;
    char last[160];
} pvm_qemu_ui;

/* One line per step; ninja's fraction rewrites the compile line in place. */
static void pvm_qemu_report(void *ctx, const char *step, double fraction)
{
    pvm_qemu_ui *ui = ctx;
    if (!ui->tty)
        return;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long s = (long)(now.tv_sec - ui->start.tv_sec);
    bool same = !strcmp(ui->last, step);
    if (same && fraction < 0)
        return;
    if (same)
        fprintf(stderr, "\r[%4lds] %s %3.0f%%", s, step, fraction * 100);
    else
        fprintf(stderr, "%s[%4lds] %s", ui->last[0] ? "\n" : "", s, step);
    snprintf(ui->last, sizeof ui->last, "%s", step);
}

/* ------------------------------------------------------------- commands */

static int pvm_qemu_build_cmd(const pvm_args *a)
{
    pvm_error err = {0};
    pvm_qemu_ui ui = {.tty = isatty(2) == 1};
    clock_gettime(CLOCK_MONOTONIC, &ui.start);
    int cancel = pvm_cli_cancel_fd(); /* SIGINT, SIGTERM, SIGHUP cancel the build */
    if (cancel < 0)
        return pvm_out_error(&(pvm_error){PVM_E_IO, "qemu build: cannot make a pipe", ""});
    pvm_progress progress = {cancel, pvm_qemu_report, &ui};
    pvm_qemu_stealth s;
    bool cached = false;
    int rc = pvm_qemu_stealth_build(&progress, pvm_args_given(a, "force"), &s, &cached, &err);
    if (ui.tty && ui.last[0])
        fputc('\n', stderr);
    if (rc < 0)
        return pvm_out_error(&err);
    if (cached && !pvm_args_given(a, "json"))
        printf("cached: the stealth QEMU for %s with this patch set is already built\n",
               s.source_version);
    return pvm_qemu_print(a, &s, cached);
}

static int pvm_qemu_show_cmd(const pvm_args *a)
{
    pvm_error err = {0};
    pvm_qemu_stealth s;
    if (pvm_qemu_stealth_status(&s, &err) < 0)
        return pvm_out_error(&err);
    return pvm_qemu_print(a, &s, false);
}

int pvm_cli_qemu(pvm_cli *cli, int argc, char **argv)
{
    (void)cli;
    pvm_error err = {0};
    if (argc < 2)
        return pvm_out_usage(&err, "qemu: which one? build or show (see '" PVM_PROG
                                   " qemu --help')");
    const char *sub = argv[1];
    if (!strcmp(sub, "-h") || !strcmp(sub, "--help") || !strcmp(sub, "help")) {
        pvm_qemu_help();
        return 0;
    }
    bool build = !strcmp(sub, "build");
    if (!build && strcmp(sub, "show") != 0)
        return pvm_out_usage(&err, "qemu: unknown subcommand '%s' (build or show)", sub);
    const pvm_opt *opts = build ? pvm_qemu_build_opts : pvm_qemu_show_opts;
    size_t nopts = build ? 2 : 1;
    pvm_args a;
    int status;
    if (pvm_args_parse(&a, opts, nopts, argc - 2, argv + 2, build ? "qemu build" : "qemu show",
                       &err) < 0)
        status = pvm_out_error(&err);
    else if (a.help)
        status = (pvm_qemu_help(), 0);
    else if (a.npos)
        status = pvm_out_usage(&err, "qemu %s: unexpected argument '%s'", sub, a.pos[0]);
    else
        status = build ? pvm_qemu_build_cmd(&a) : pvm_qemu_show_cmd(&a);
    pvm_args_free(&a);
    return status;
}
