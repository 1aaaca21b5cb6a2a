/* cmd_agent.c - the commands that work inside a running guest through the guest agent:
 * `vm exec`, `vm copy` (rows in cmd_vm.c's table), `install` and `install --list` (a row
 * in main.c's table). The progress bar on a terminal and Ctrl-C cancel live here. */
#include "cli.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define AGENT_STDIN_MAX (8u * 1024u * 1024u) /* standard input passed to `vm exec` */

/* ------------------------------------------------- progress and cancel */


typedef struct agent_ui {
    bool tty;
    bool drawn;
    pvm_cli *cli;
} agent_ui;

/* "\r[#####.....]  45%  step" on stderr when it is a terminal. */
static void agent_report(void *ctx, const char *step, double fraction)
{
    agent_ui *ui = ctx;
    pvm_cli_trace(ui->cli, step);
    if (!ui->tty)
        return;
    char bar[31];
    int fill = fraction < 0 ? 0 : (int)(fraction * 30 + 0.5);
    for (int i = 0; i < 30; i++)
        bar[i] = i < fill ? '#' : fraction < 0 ? '?' : '.';
    bar[30] = '\0';
    if (fraction >= 0)
        fprintf(stderr, "\r[%s] %3d%%  %-40.40s", bar, (int)(fraction * 100 + 0.5), step);
    else
        fprintf(stderr, "\r[%s]       %-40.40s", bar, step);
    ui->drawn = true;
}

static void agent_ui_end(agent_ui *ui)
{
    if (ui->drawn)
        fputc('\n', stderr);
    ui->drawn = false;
}

/* SIGINT, SIGTERM and SIGHUP cancel the operation (its partial file is removed). */
static pvm_progress agent_progress(agent_ui *ui, pvm_cli *cli)
{
    ui->tty = isatty(2) == 1;
    ui->cli = cli;
    ui->drawn = false;
    /* no bar and no tracer: no report, which also spares a copy out the two agent round
     * trips that size its bar */
    return (pvm_progress){pvm_cli_cancel_fd(), ui->tty || cli->tracing ? agent_report : NULL, ui};
}

/* --timeout SECONDS into ms; -1 (none) when not given. */
static int agent_timeout(const pvm_args *a, int *ms, pvm_error *err)
{
    const char *v = pvm_args_value(a, "timeout");
    int s = 0;
    *ms = -1;
    if (v && pvm_int_parse("timeout", v, 1, 86400, &s, err) < 0)
        return -1;
    if (v)
        *ms = s * 1000;
    return 0;
}

/* ------------------------------------------------------------- vm exec */

const pvm_opt pvm_cli_exec_opts[] = {
    {"timeout", 0, true, "SECONDS", "kill the command and fail after this long (default: none)"},
    {"stdin", 'i', false, NULL, "pass this standard input to the command (read to its end, up to "
     "8 MiB); without -i the command's standard input is empty"},
};
const size_t pvm_cli_exec_nopts = sizeof pvm_cli_exec_opts / sizeof pvm_cli_exec_opts[0];

/* Standard input read to its end, up to 8 MiB (only with -i/--stdin: never read
 * unasked, so `ssh host privarion-vm vm exec ...`, cron and `while read` loops neither
 * block nor lose their input). */
static int agent_read_stdin(char **buf, size_t *len, pvm_error *err)
{
    *buf = NULL;
    *len = 0;
    size_t cap = 64 * 1024;
    *buf = pvm_xmalloc(cap);
    for (;;) {
        if (*len == cap) {
            if (cap > AGENT_STDIN_MAX) {
                free(*buf);
                *buf = NULL;
                return pvm_error_set_field(err, PVM_E_INVALID, "stdin", "stdin: standard input "
                                           "holds more than %u bytes (use 'vm copy' for files)",
                                           AGENT_STDIN_MAX);
            }
            cap = cap * 2 > AGENT_STDIN_MAX ? AGENT_STDIN_MAX + 1 : cap * 2; /* +1: sees more */
            *buf = pvm_xrealloc(*buf, cap);
        }
        ssize_t n = read(0, *buf + *len, cap - *len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            free(*buf);
            *buf = NULL;
            return pvm_error_set_field(err, PVM_E_IO, "stdin", "stdin: reading standard input: "
                                       "%s", strerror(errno));
        }
        if (n == 0)
            break;
        *len += (size_t)n;
    }
    return 0;
}

int pvm_cli_vm_exec(pvm_cli *cli, const pvm_args *a, pvm_error *err)
{
    if (a->npos < 2)
        return pvm_error_set(err, PVM_E_USAGE, "vm exec: missing the command (usage: vm exec VM "
                             "[-i] [--timeout S] -- CMD [ARGS...])");
    int ms;
    char *in = NULL;
    size_t in_len = 0;
    pvm_engine *e;
    pvm_agent *ag = NULL;
    if (agent_timeout(a, &ms, err) < 0 ||
        (pvm_args_given(a, "stdin") && agent_read_stdin(&in, &in_len, err) < 0) ||
        !(e = pvm_cli_engine(cli, err)) ||
        pvm_agent_open(e, a->pos[0], PVM_AGENT_WAIT_MS, &ag, err) < 0) {
        free(in);
        return -1;
    }
    agent_ui ui;
    pvm_progress p = agent_progress(&ui, cli);
    p.report = NULL; /* no bar: the command's own output is what the user reads */
    pvm_exec_result r;
    int rc = pvm_agent_exec(ag, (const char *const *)a->pos + 1, in, in_len, ms, &p, &r, err);
    pvm_agent_close(ag);
    free(in);
    if (rc < 0)
        return -1;
    fflush(stdout);
    pvm_out_write_all(1, r.out, r.out_len);
    pvm_out_write_all(2, r.err, r.err_len);
    int status = r.status;
    pvm_exec_result_free(&r);
    fflush(stdout);
    pvm_engine_close(cli->engine); /* the guest's status becomes ours: leave as main() would */
    cli->engine = NULL;
    exit(status > 255 ? 255 : status < 0 ? 1 : status);
}

/* ------------------------------------------------------------- vm copy */

const pvm_opt pvm_cli_copy_opts[] = {
    {"timeout", 0, true, "SECONDS", "fail (and remove the partial file) after this long"},
};
const size_t pvm_cli_copy_nopts = sizeof pvm_cli_copy_opts / sizeof pvm_cli_copy_opts[0];

/* "VM:PATH" when the text before the first ':' names a VM (VM names hold no ':' or '/');
 * then *path points after the colon and vm gets the name. */
static bool agent_vm_spec(pvm_engine *e, const char *arg, char *vm, size_t size, const char **path)
{
    const char *colon = strchr(arg, ':');
    if (!colon || colon == arg || (size_t)(colon - arg) >= size || memchr(arg, '/', (size_t)(colon - arg)))
        return false;
    memcpy(vm, arg, (size_t)(colon - arg));
    vm[colon - arg] = '\0';
    pvm_vm v;
    pvm_error ignored;
    if (pvm_vm_find(e, vm, &v, &ignored) < 0) /* the store's record: pvm_agent_open reads the state */
        return false;
    *path = colon + 1;
    return true;
}

int pvm_cli_vm_copy(pvm_cli *cli, const pvm_args *a, pvm_error *err)
{
    int ms;
    pvm_engine *e;
    if (agent_timeout(a, &ms, err) < 0 || !(e = pvm_cli_engine(cli, err)))
        return -1;
    char vm_src[PVM_NAME_MAX + 1], vm_dst[PVM_NAME_MAX + 1];
    const char *gsrc = NULL, *gdst = NULL;
    bool from = agent_vm_spec(e, a->pos[0], vm_src, sizeof vm_src, &gsrc);
    bool to = agent_vm_spec(e, a->pos[1], vm_dst, sizeof vm_dst, &gdst);
    for (int i = 0; !from && !to && i < 2; i++) { /* NAME:PATH whose NAME is no VM */
        const char *arg = a->pos[i], *colon = strchr(arg, ':');
        if (colon && colon > arg && (size_t)(colon - arg) <= PVM_NAME_MAX &&
            !memchr(arg, '/', (size_t)(colon - arg)))
            return pvm_error_set(err, PVM_E_NOTFOUND, "vm copy: no VM named '%.*s' ('vm list' "
                                 "shows them; a host file with ':' in its name is written "
                                 "./%s)", (int)(colon - arg), arg, arg);
    }
    if (from == to)
        return pvm_error_set(err, PVM_E_USAGE, "vm copy: exactly one side must be VM:GUEST_PATH "
                             "(an existing VM's name, a colon, an absolute guest path); %s",
                             from ? "both are" : "neither is");
    pvm_agent *ag = NULL;
    if (pvm_agent_open(e, from ? vm_src : vm_dst, PVM_AGENT_WAIT_MS, &ag, err) < 0)
        return -1;
    agent_ui ui;
    pvm_progress p = agent_progress(&ui, cli);
    pvm_copy_result r;
    int rc = from ? pvm_agent_copy_out(ag, gsrc, a->pos[1], ms, &p, &r, err)
                  : pvm_agent_copy_in(ag, a->pos[0], gdst, ms, &p, &r, err);
    pvm_agent_close(ag);
    agent_ui_end(&ui);
    if (rc < 0)
        return -1;
    double rate = r.seconds > 0 ? (double)r.bytes / r.seconds : 0.0; /* bytes per second */
    bool slow = rate < 1e6; /* an ISA serial channel moves KB/s: "0.0 MB/s" says nothing */
    printf("Copied %llu bytes %s VM '%s' in %.1f s (%.1f %s), SHA-256 %s %s\n",
           (unsigned long long)r.bytes, from ? "out of" : "into", from ? vm_src : vm_dst, r.seconds,
           slow ? rate / 1e3 : rate / 1e6, slow ? "KB/s" : "MB/s", r.sha256,
           r.checked ? "checked in the guest"
                     : "(not checked in the guest: it has no sha256sum; only the transfer was "
                       "hashed)");
    return 0;
}

/* ------------------------------------------------------------- install */

static const pvm_opt install_opts[] = {
    {"to", 0, true, "GUEST_PATH", "where the file goes (default /tmp/NAME; an existing "
     "folder or DIR/: inside it; archives: the folder they are extracted into, default /opt)"},
    {"run", 0, true, "CMD", "run CMD (sh -c; cmd.exe /c on Windows) instead of the type's "
     "installer; {} is the guest path, passed as one argument: write it unquoted"},
    {"timeout", 0, true, "SECONDS", "the whole install (default 1800)"},
    {"list", 0, false, NULL, "list what was installed into VM"},
    {"json", 0, false, NULL, "with --list: print JSON"},
};
#define INSTALL_NOPTS (sizeof install_opts / sizeof install_opts[0])

static void install_help(void)
{
    printf("usage: " PVM_PROG " install VM FILE [--to GUEST_PATH] [--run CMD] [--timeout S]\n"
           "       " PVM_PROG " install --list VM [--json]\n\n"
           "Copy FILE into the running VM through the QEMU guest agent (streamed, to a\n"
           "temporary name, SHA-256 checked in the guest, then renamed) and run its installer,\n"
           "chosen by type and the guest's OS: .deb dpkg -i, .rpm rpm -i, .apk apk add\n"
           "--allow-untrusted, .pkg installer -pkg, .sh sh, .tar.gz/.tgz extracted into --to;\n"
           "on Windows .msi msiexec /i /qn, .exe run, .ps1 powershell -File, .bat/.cmd cmd /c;\n"
           "anything else is copied and made executable. The file's path is always passed as\n"
           "an absolute path of its own, never as an option. A failed install removes the\n"
           "file and records nothing; a complete one is kept in the store (--list).\n"
           "Ctrl-C cancels (the partial file is removed, nothing is recorded; exit 130,\n"
           "SIGTERM 143).\n\nOptions:\n");
    pvm_args_print_help(stdout, install_opts, INSTALL_NOPTS);
}

static int install_list_json(const pvm_install *v, size_t n, pvm_error *err)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "id", v[i].id);
        cJSON_AddStringToObject(o, "file", v[i].file);
        cJSON_AddStringToObject(o, "guestPath", v[i].guest_path);
        cJSON_AddNumberToObject(o, "bytes", (double)v[i].bytes);
        cJSON_AddStringToObject(o, "sha256", v[i].sha256);
        cJSON_AddStringToObject(o, "command", v[i].command);
        cJSON_AddNumberToObject(o, "status", v[i].status);
        cJSON_AddStringToObject(o, "output", v[i].output);
        cJSON_AddNumberToObject(o, "at", (double)v[i].at);
        cJSON_AddItemToArray(arr, o);
    }
    int rc = pvm_out_json(stdout, arr, err);
    cJSON_Delete(arr);
    return rc;
}

static int install_list(pvm_cli *cli, const pvm_args *a, pvm_error *err)
{
    pvm_engine *e;
    pvm_install *v = NULL;
    size_t n = 0;
    if (!(e = pvm_cli_engine(cli, err)) || pvm_install_list(e, a->pos[0], &v, &n, err) < 0)
        return -1;
    int rc = 0;
    if (pvm_args_given(a, "json")) {
        rc = install_list_json(v, n, err);
    } else {
        const char *h[] = {"WHEN", "FILE", "GUEST PATH", "BYTES", "SHA-256", "COMMAND", "STATUS"};
        pvm_table *t = pvm_table_new(7, h);
        for (size_t i = 0; i < n; i++) {
            char when[40], bytes[24], st[12], sum[17];
            snprintf(bytes, sizeof bytes, "%llu", (unsigned long long)v[i].bytes);
            snprintf(st, sizeof st, "%d", v[i].status);
            pvm_strlcpy(sum, v[i].sha256, sizeof sum);
            const char *row[] = {pvm_out_time(v[i].at, when, sizeof when), v[i].file,
                                 v[i].guest_path, bytes, sum, v[i].command, st};
            pvm_table_add(t, row);
        }
        pvm_table_print(t, stdout);
        pvm_table_free(t);
    }
    free(v);
    return rc;
}

static int install_run(pvm_cli *cli, const pvm_args *a, pvm_error *err)
{
    int ms;
    pvm_engine *e;
    if (agent_timeout(a, &ms, err) < 0 || !(e = pvm_cli_engine(cli, err)))
        return -1;
    pvm_install_opts o = {pvm_args_value(a, "to"), pvm_args_value(a, "run"), ms};
    agent_ui ui;
    pvm_progress p = agent_progress(&ui, cli);
    pvm_install rec;
    pvm_exec_result r = {0};
    int rc = pvm_app_install(e, a->pos[0], a->pos[1], &o, &p, &rec, &r, err);
    agent_ui_end(&ui);
    fflush(stdout);
    if (r.out)
        pvm_out_write_all(1, r.out, r.out_len);
    if (r.err) /* whole, also on failure: the error line then names only its last line */
        pvm_out_write_all(2, r.err, r.err_len);
    pvm_exec_result_free(&r);
    if (rc < 0)
        return -1;
    printf("Installed %s into VM '%s' at %s (%llu bytes, SHA-256 %s checked in the guest)\n",
           rec.file, a->pos[0], rec.guest_path, (unsigned long long)rec.bytes, rec.sha256);
    if (rec.command[0])
        printf("Ran: %s (exit status %d)\n", rec.command, rec.status);
    return 0;
}

int pvm_cli_install(pvm_cli *cli, int argc, char **argv)
{
    pvm_error err = {0};
    pvm_args a;
    if (pvm_args_parse(&a, install_opts, INSTALL_NOPTS, argc - 1, argv + 1, "install",
                       &err) < 0) {
        pvm_args_free(&a);
        return pvm_out_error(&err);
    }
    int status = 0;
    bool list = pvm_args_given(&a, "list");
    size_t want = list ? 1 : 2;
    if (a.help)
        install_help();
    else if (a.npos != want)
        status = pvm_out_usage(&err, "install: %s (see '" PVM_PROG " install --help')",
                               list ? "--list takes one VM" : "needs VM and FILE");
    else if (!list && pvm_args_given(&a, "json"))
        status = pvm_out_usage(&err, "install: --json goes with --list");
    else if (list && (pvm_args_given(&a, "to") || pvm_args_given(&a, "run")))
        status = pvm_out_usage(&err, "install: --list takes no --to or --run");
    else if ((list ? install_list(cli, &a, &err) : install_run(cli, &a, &err)) < 0) {
        pvm_args_flag_error(&err, install_opts, INSTALL_NOPTS);
        status = pvm_out_error(&err);
    }
    pvm_args_free(&a);
    return status;
}

/* ------------------------------------------------------------- vm audit */

const pvm_opt pvm_cli_audit_opts[] = {
    {"json", 0, false, NULL, "print JSON: {mismatches, marks, mismatchesEditedSinceStart, "
     "editedSinceStart, items: [{what, guest, profile, started (edited only), mismatch, "
     "mark}]}"},
};
const size_t pvm_cli_audit_nopts = sizeof pvm_cli_audit_opts / sizeof pvm_cli_audit_opts[0];

static int audit_json(const pvm_audit *au, pvm_error *err)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "mismatches", au->mismatches);
    cJSON_AddNumberToObject(o, "marks", au->marks);
    cJSON_AddNumberToObject(o, "mismatchesEditedSinceStart", au->edited);
    cJSON_AddStringToObject(o, "editedSinceStart", au->edited_fields);
    cJSON *arr = cJSON_AddArrayToObject(o, "items");
    for (size_t i = 0; i < au->n; i++) {
        const pvm_audit_item *it = &au->items[i];
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "what", it->what);
        cJSON_AddStringToObject(j, "guest", it->guest);
        if (it->expected[0])
            cJSON_AddStringToObject(j, "profile", it->expected);
        else
            cJSON_AddNullToObject(j, "profile");
        if (it->edited) /* the profile changed since the start: what the VM started with */
            cJSON_AddStringToObject(j, "started", it->started);
        cJSON_AddBoolToObject(j, "mismatch", it->mismatch);
        if (it->mark)
            cJSON_AddStringToObject(j, "mark", it->mark);
        else
            cJSON_AddNullToObject(j, "mark");
        cJSON_AddItemToArray(arr, j);
    }
    int rc = pvm_out_json(stdout, o, err);
    cJSON_Delete(o);
    return rc;
}

int pvm_cli_vm_audit(pvm_cli *cli, const pvm_args *a, pvm_error *err)
{
    pvm_engine *e;
    pvm_audit au;
    if (!(e = pvm_cli_engine(cli, err)) || pvm_vm_audit(e, a->pos[0], &au, err) < 0)
        return -1;
    int rc = 0;
    if (pvm_args_given(a, "json")) {
        rc = audit_json(&au, err);
    } else {
        const char *h[] = {"WHAT", "GUEST SEES", "PROFILE", "VERDICT"};
        pvm_table *t = pvm_table_new(4, h);
        for (size_t i = 0; i < au.n; i++) {
            const pvm_audit_item *it = &au.items[i];
            char verdict[300];
            pvm_audit_verdict(it, verdict, sizeof verdict);
            char what[4 * sizeof it->what], guest[4 * sizeof it->guest];
            const char *row[] = {pvm_escape_ctl(it->what, what, sizeof what),
                                 pvm_escape_ctl(it->guest, guest, sizeof guest), it->expected,
                                 verdict}; /* what and guest come from the guest */
            pvm_table_add(t, row);
        }
        pvm_table_print(t, stdout);
        pvm_table_free(t);
    }
    if (rc == 0 && au.edited_fields[0])
        pvm_out_warning("the profile of VM '%s' was edited since it started (%s): the VM wears "
                        "the identity of its start until it restarts", a->pos[0],
                        au.edited_fields);
    char edited[96] = "";
    if (au.edited)
        snprintf(edited, sizeof edited, " (%d of them the profile's edits since the start)",
                 au.edited);
    if (rc == 0 && (au.mismatches || au.marks))
        rc = pvm_error_set(err, PVM_E_STATE, "vm audit: %d mismatch%s with the profile%s and %d "
                           "virtualization mark%s seen inside the guest", au.mismatches,
                           au.mismatches == 1 ? "" : "es", edited, au.marks,
                           au.marks == 1 ? "" : "s");
    else if (rc == 0)
        fprintf(stderr, PVM_PROG ": vm audit: the guest sees the profile and no mark\n");
    pvm_audit_free(&au);
    return rc;
}
