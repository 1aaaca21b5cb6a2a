/* install.c - `install`: a host file into a running VM through the guest agent (agent.c),
 * its installer chosen by installer.c, and the record of a complete, successful install
 * in the store (db/installs.c). Called by cli/cmd_agent.c and the TUI's engine thread. */
#include "internal.h"
#include "proc.h"
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INSTALL_DEFAULT_MS (30 * 60 * 1000)

/* argv as one shell-quoted line for the record and the "Ran:" line (display only: the
 * installer itself runs from argv through guest-exec, never through this text). */
static void install_command_text(const pvm_install_plan *p, char *out, size_t size)
{
    out[0] = '\0';
    for (int i = 0; i < p->argc; i++) {
        if (i)
            strncat(out, " ", size - strlen(out) - 1);
        char word[PVM_PATH_MAX * 2];
        strncat(out, pvm_shell_word(p->argv[i], word, sizeof word), size - strlen(out) - 1);
    }
}

/* The last size-1 bytes of out and err ("stdout ... stderr ...") for the record. */
static void install_output_tail(const pvm_exec_result *r, char *out, size_t size)
{
    size_t half = size / 2;
    const char *o = r->out ? r->out : "", *e = r->err ? r->err : "";
    size_t on = strlen(o), en = strlen(e);
    const char *ot = on > half - 1 ? o + on - (half - 1) : o;
    const char *et = en > half - 1 ? e + en - (half - 1) : e;
    snprintf(out, size, "%s%s", ot, et);
}

static const char *install_base(const char *path)
{
    const char *b = strrchr(path, '/');
    return b ? b + 1 : path;
}

static int install_left(int64_t deadline)
{
    int64_t left = deadline - pvm_proc_now_ms();
    return left < 1 ? 1 : (int)left;
}

/* Runs the plan's installer; 0 only when it exits 0 (r filled either way). */
static int install_run(pvm_agent *a, const pvm_install_plan *plan, int64_t deadline,
                       const pvm_progress *progress, pvm_exec_result *r, pvm_error *err)
{
    if (progress && progress->report)
        progress->report(progress->ctx, "running the installer", -1.0);
    if (pvm_agent_exec(a, (const char *const *)plan->argv, NULL, 0, install_left(deadline),
                       progress, r, err) < 0)
        return -1;
    if (r->status != 0) {
        const char *why = r->err_len ? r->err : r->out;
        size_t n = strlen(why);
        while (n && why[n - 1] == '\n')
            n--;
        return pvm_error_set(err, PVM_E_STATE, "the installer '%s' exited with status %d%s%.*s",
                             plan->argv[0], r->status, n ? ": " : "", n > 1000 ? 1000 : (int)n,
                             n > 1000 ? why + n - 1000 : why);
    }
    return 0;
}

static int install_record(pvm_engine *e, const char *vm_name, const char *file,
                          const pvm_install_plan *plan, const pvm_copy_result *c,
                          const pvm_exec_result *r, pvm_install *rec, pvm_error *err)
{
    pvm_vm vm;
    if (pvm_db_vm_get(e->store, vm_name, &vm, err) < 0)
        return -1;
    memset(rec, 0, sizeof *rec);
    pvm_uuid_v4(rec->id);
    pvm_strlcpy(rec->vm_id, vm.id, sizeof rec->vm_id);
    pvm_strlcpy(rec->file, install_base(file), sizeof rec->file);
    pvm_strlcpy(rec->guest_path, plan->kind && strcmp(plan->kind, "tar") == 0 ? plan->dest
                                                                               : plan->guest_path,
                sizeof rec->guest_path);
    rec->bytes = c->bytes;
    pvm_strlcpy(rec->sha256, c->sha256, sizeof rec->sha256);
    install_command_text(plan, rec->command, sizeof rec->command);
    rec->status = r ? r->status : 0;
    if (r)
        install_output_tail(r, rec->output, sizeof rec->output);
    rec->at = pvm_now();
    char detail[1400];
    snprintf(detail, sizeof detail, "%s -> %s (%llu bytes)", rec->file, rec->guest_path,
             (unsigned long long)rec->bytes);
    if (pvm_store_begin(e->store, err) < 0) /* row and event together, or neither */
        return -1;
    int rc = pvm_db_install_insert(e->store, rec, err);
    if (rc == 0)
        rc = pvm_db_event_add(e->store, vm.id, "install", detail, err);
    return pvm_store_end(e->store, rc, err);
}

/* Before the VM is reached: the plan must be valid for one of the guest OSes (the agent
 * says which later), so `--to rel` is a to: error (exit 2) even on a stopped VM. The error
 * given is the one of the OS the text looks meant for (C:\\ or \\\\ -> Windows). */
static int install_precheck(const char *file, const pvm_install_opts *o, pvm_error *err)
{
    const char *to = o ? o->to : NULL, *run = o ? o->run : NULL;
    pvm_install_plan plan;
    pvm_error posix = { 0 }, win = { 0 };
    if (pvm_install_plan_make(install_base(file), false, to, run, &plan, &posix) == 0) {
        pvm_install_plan_free(&plan);
        return 0;
    }
    if (pvm_install_plan_make(install_base(file), true, to, run, &plan, &win) == 0) {
        pvm_install_plan_free(&plan);
        return 0;
    }
    bool looks_windows = to && (to[0] == '\\' || (to[0] && to[1] == ':'));
    if (err)
        *err = looks_windows ? win : posix;
    return -1;
}

int pvm_install_check(const char *file, const pvm_install_opts *o, pvm_error *err)
{
    struct stat st;
    if (!file || !file[0])
        return pvm_error_set_field(err, PVM_E_INVALID, "FILE", "FILE: name a host file to "
                                   "install");
    if (stat(file, &st) < 0)
        return pvm_error_set_field(err, PVM_E_NOTFOUND, "FILE", "FILE: %s: %s", file,
                                   strerror(errno));
    if (!S_ISREG(st.st_mode))
        return pvm_error_set_field(err, PVM_E_INVALID, "FILE", "FILE: %s: not a regular file",
                                   file);
    if (access(file, R_OK) < 0)
        return pvm_error_set_field(err, PVM_E_IO, "FILE", "FILE: %s: %s", file, strerror(errno));
    return install_precheck(file, o, err);
}

int pvm_app_install(pvm_engine *e, const char *vm, const char *file, const pvm_install_opts *o,
                    const pvm_progress *progress, pvm_install *out, pvm_exec_result *r,
                    pvm_error *err)
{
    pvm_exec_result local = { 0 };
    pvm_exec_result *res = r ? r : &local;
    memset(res, 0, sizeof *res);
    int timeout = o && o->timeout_ms > 0 ? o->timeout_ms : INSTALL_DEFAULT_MS;
    int64_t deadline = pvm_proc_now_ms() + timeout;
    pvm_agent *a = NULL;
    if (install_precheck(file, o, err) < 0 || pvm_agent_open(e, vm, PVM_AGENT_WAIT_MS, &a, err) < 0)
        return -1;
    pvm_install_plan plan;
    const char *to = o ? o->to : NULL;
    char to_dir[PVM_PATH_MAX + 2];
    size_t tl = to ? strlen(to) : 0;
    int prc = pvm_install_plan_make(install_base(file), pvm_agent_windows(a), to,
                                    o ? o->run : NULL, &plan, err);
    if (prc == 0 && !plan.dest[0] && tl && tl < PVM_PATH_MAX && to[tl - 1] != '/' &&
        pvm_agent_guest_is_dir(a, to)) { /* --to an existing folder (not an archive's): into it */
        snprintf(to_dir, sizeof to_dir, "%s/", to);
        prc = pvm_install_plan_make(install_base(file), pvm_agent_windows(a), to_dir,
                                    o ? o->run : NULL, &plan, err);
    }
    if (prc < 0) {
        pvm_agent_close(a);
        return -1;
    }
    /* a file already at the path (a live config, an earlier download) is kept aside and
     * comes back when the install fails or its file was only staged (an archive) */
    char keep[PVM_PATH_MAX + 32];
    int aside = pvm_agent_set_aside(a, plan.guest_path, keep, sizeof keep, err);
    pvm_copy_result c;
    int rc = aside < 0 ? -1 : pvm_agent_copy_in(a, file, plan.guest_path, install_left(deadline),
                                                 progress, &c, err);
    bool copied = rc == 0;
    if (rc == 0 && plan.argc > 0)
        rc = install_run(a, &plan, deadline, progress, res, err);
    pvm_install rec;
    if (rc == 0)
        rc = install_record(e, vm, file, &plan, &c, plan.argc ? res : NULL, &rec, err);
    if (rc < 0 && copied)
        pvm_agent_remove(a, plan.guest_path); /* a failed install leaves no file behind */
    bool staged = plan.kind && strcmp(plan.kind, "tar") == 0;
    if (rc == 0 && staged)
        pvm_agent_remove(a, plan.guest_path); /* the archive, once extracted */
    if (aside == 1 && (rc < 0 || staged))
        pvm_agent_put_back(a, keep, plan.guest_path);
    else if (aside == 1)
        pvm_agent_remove(a, keep); /* replaced by the install, as asked */
    pvm_agent_close(a);
    pvm_install_plan_free(&plan);
    if (rc == 0 && out)
        *out = rec;
    if (!r)
        pvm_exec_result_free(&local);
    return rc;
}

int pvm_install_list(pvm_engine *e, const char *vm, pvm_install **out, size_t *count,
                     pvm_error *err)
{
    pvm_vm v;
    if (pvm_db_vm_get(e->store, vm, &v, err) < 0)
        return -1;
    return pvm_db_install_list(e->store, v.id, out, count, err);
}
