/* installer.c - which installer `install` runs for a file, by its type and the guest's
 * OS: one table, no I/O (unit tested in tests/unit/test_installer.c). Called by install.c.
 * The guest path always travels as its own argument (absolute, so never an option);
 * --run's {} (written unquoted) becomes "$1" of `sh -c` (cmd.exe gets the quoted path on
 * Windows). */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* One row: a file name suffix, the OS it applies to, and the installer's argv where
 * "{}" is the guest path and "{dir}" the --to folder of an archive. */
typedef struct installer_row {
    const char *suffix;
    int os; /* 0 POSIX guests, 1 Windows */
    const char *kind;
    const char *argv[8];
} installer_row;

static const installer_row installer_table[] = {
    {".deb", 0, "deb", {"dpkg", "-i", "{}"}},
    {".rpm", 0, "rpm", {"rpm", "-i", "{}"}},
    {".apk", 0, "apk", {"apk", "add", "--allow-untrusted", "{}"}},
    {".pkg", 0, "pkg", {"installer", "-pkg", "{}", "-target", "/"}},
    {".sh", 0, "sh", {"sh", "{}"}},
    {".tar.gz", 0, "tar", {"sh", "-c", "mkdir -p -- \"$1\" && tar -xzf \"$2\" -C \"$1\"", "sh",
                           "{dir}", "{}"}},
    {".tgz", 0, "tar", {"sh", "-c", "mkdir -p -- \"$1\" && tar -xzf \"$2\" -C \"$1\"", "sh",
                        "{dir}", "{}"}},
    {".msi", 1, "msi", {"msiexec", "/i", "{}", "/qn"}},
    {".exe", 1, "exe", {"{}"}},
    {".ps1", 1, "ps1", {"powershell.exe", "-NoProfile", "-ExecutionPolicy", "Bypass", "-File", "{}"}},
    {".bat", 1, "bat", {"cmd.exe", "/c", "{}"}},
    {".cmd", 1, "bat", {"cmd.exe", "/c", "{}"}},
};

/* Anything else on a POSIX guest: copied and made executable. */
static const installer_row installer_other_posix = {"", 0, "file", {"chmod", "755", "{}"}};
static const installer_row installer_other_windows = {"", 1, "file", {NULL}};

static bool installer_ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n > m && strcasecmp(s + n - m, suffix) == 0;
}

static const installer_row *installer_find(const char *name, bool windows)
{
    for (size_t i = 0; i < sizeof installer_table / sizeof installer_table[0]; i++)
        if (installer_table[i].os == (windows ? 1 : 0) &&
            installer_ends_with(name, installer_table[i].suffix))
            return &installer_table[i];
    return windows ? &installer_other_windows : &installer_other_posix;
}

static void plan_add(pvm_install_plan *p, const char *s)
{
    if (p->argc < PVM_PLAN_ARGS)
        p->argv[p->argc++] = pvm_xstrdup(s);
    p->argv[p->argc] = NULL;
}

/* --run's rule: {} stands unquoted; quoted ('{}' or "{}") it would be spliced into a
 * quoted string (sh: '{}' stays a literal, "{}" ends the quotes and splits the path at
 * spaces), so it is refused. Backslash escapes the next character outside single quotes
 * on POSIX guests (cmd.exe has no such escape). Returns the number of {}, -1 refused. */
static int plan_run_scan(const char *run, bool windows, pvm_error *err)
{
    char quote = 0;
    int count = 0;
    for (const char *s = run; *s; s++) {
        if (!windows && *s == '\\' && quote != '\'' && s[1]) {
            s++;
        } else if (quote ? *s == quote : (*s == '"' || (!windows && *s == '\''))) {
            quote = quote ? 0 : *s;
        } else if (s[0] == '{' && s[1] == '}') {
            if (quote)
                return pvm_error_set_field(err, PVM_E_INVALID, "run", "run: {} stands for the "
                                           "guest path, passed as one argument: write it "
                                           "unquoted ({} not '{}' or \"{}\")");
            count++;
            s++;
        }
    }
    return count;
}

/* TEXT with every {} replaced by with (count of them known). */
static char *plan_run_text(const char *run, int count, const char *with)
{
    size_t cap = strlen(run) + (size_t)count * strlen(with) + 1, n = 0;
    char *text = pvm_xmalloc(cap);
    for (const char *s = run; *s;) {
        if (s[0] == '{' && s[1] == '}') {
            memcpy(text + n, with, strlen(with));
            n += strlen(with);
            s += 2;
        } else {
            text[n++] = *s++;
        }
    }
    text[n] = '\0';
    return text;
}

/* --run on a POSIX guest: sh -c TEXT sh PATH with every {} in TEXT turned into "$1". */
static void plan_run_posix(pvm_install_plan *p, const char *run, int count)
{
    char *text = plan_run_text(run, count, "\"$1\"");
    plan_add(p, "sh");
    plan_add(p, "-c");
    plan_add(p, text);
    plan_add(p, "sh");
    plan_add(p, p->guest_path);
    free(text);
}

/* --run on Windows: cmd.exe /c TEXT with {} as the quoted path (checked to hold no '"',
 * '%' or other cmd.exe syntax by pvm_agent_guest_path_check / the name check). */
static void plan_run_windows(pvm_install_plan *p, const char *run, int count)
{
    size_t qn = strlen(p->guest_path) + 3;
    char *quoted = pvm_xmalloc(qn);
    snprintf(quoted, qn, "\"%s\"", p->guest_path);
    char *text = plan_run_text(run, count, quoted);
    plan_add(p, "cmd.exe");
    plan_add(p, "/c");
    plan_add(p, text);
    free(text);
    free(quoted);
}

static int plan_paths(const char *name, bool windows, bool archive, const char *to,
                      pvm_install_plan *p, pvm_error *err)
{
    const char *tmpdir = windows ? "C:\\Windows\\Temp\\" : "/tmp/";
    if (archive) {
        const char *dir = to ? to : "/opt";
        if (pvm_agent_guest_path_check(dir, windows, "to", err) < 0)
            return -1;
        pvm_strlcpy(p->dest, dir, sizeof p->dest);
        snprintf(p->guest_path, sizeof p->guest_path, "%s%s", tmpdir, name);
        return 0;
    }
    if (to) {
        if (pvm_agent_guest_path_check(to, windows, "to", err) < 0)
            return -1;
        size_t n = strlen(to);
        bool folder = n > 0 && (to[n - 1] == '/' || (windows && to[n - 1] == '\\'));
        /* --to DIR/ names a folder: the file keeps its name inside it, and the installer,
         * {} and the cleanup of a failed install all get that file, never the folder */
        int w = snprintf(p->guest_path, sizeof p->guest_path, "%s%s", to, folder ? name : "");
        if (w < 0 || (size_t)w >= sizeof p->guest_path)
            return pvm_error_set_field(err, PVM_E_INVALID, "to", "to: %s%s is longer than %zu "
                                       "bytes", to, name, sizeof p->guest_path - 1);
    } else {
        snprintf(p->guest_path, sizeof p->guest_path, "%s%s", tmpdir, name);
    }
    return 0;
}

int pvm_install_plan_make(const char *file_name, bool windows, const char *to, const char *run,
                          pvm_install_plan *plan, pvm_error *err)
{
    memset(plan, 0, sizeof *plan);
    if (pvm_agent_guest_name_check(file_name, windows, "FILE", err) < 0)
        return -1;
    const installer_row *row = installer_find(file_name, windows);
    bool archive = strcmp(row->kind, "tar") == 0 && !run;
    if (plan_paths(file_name, windows, archive, to, plan, err) < 0)
        return -1;
    if (run) {
        if (!run[0])
            return pvm_error_set_field(err, PVM_E_INVALID, "run", "run: must not be empty");
        int count = plan_run_scan(run, windows, err);
        if (count < 0)
            return -1;
        plan->kind = "run";
        if (windows)
            plan_run_windows(plan, run, count);
        else
            plan_run_posix(plan, run, count);
        return 0;
    }
    plan->kind = row->kind;
    for (size_t i = 0; i < 8 && row->argv[i]; i++) {
        const char *a = row->argv[i];
        plan_add(plan, strcmp(a, "{}") == 0 ? plan->guest_path
                       : strcmp(a, "{dir}") == 0 ? plan->dest : a);
    }
    return 0;
}

void pvm_install_plan_free(pvm_install_plan *plan)
{
    for (int i = 0; i < plan->argc; i++)
        free(plan->argv[i]);
    plan->argc = 0;
    plan->argv[0] = NULL;
}
