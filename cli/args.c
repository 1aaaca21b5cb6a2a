/* args.c - the option parser shared by every command of the command line.
 * Called by the cli/cmd_*.c files with a table of pvm_opt; see cli.h for the
 * rules (values taken literally, `--` ends options, repeats are errors). */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

static const pvm_opt *pvm_args_find_long(const pvm_args *a, const char *name,
                                         size_t len, size_t *idx)
{
    for (size_t i = 0; i < a->nopts; i++) {
        if (strlen(a->opts[i].name) == len && strncmp(a->opts[i].name, name, len) == 0) {
            *idx = i;
            return &a->opts[i];
        }
    }
    return NULL;
}

static const pvm_opt *pvm_args_find_alias(const pvm_args *a, char c, size_t *idx)
{
    for (size_t i = 0; i < a->nopts; i++) {
        if (a->opts[i].alias && a->opts[i].alias == c) {
            *idx = i;
            return &a->opts[i];
        }
    }
    return NULL;
}

static int pvm_args_unknown(const char *arg, size_t len, const char *cmd, pvm_error *err)
{
    return pvm_error_set(err, PVM_E_USAGE, "unknown option '%.*s' (see '%s %s --help')",
                         (int)len, arg, PVM_PROG, cmd);
}

/* True when arg is spelled like one of this command's long options ("--json",
 * "--mac=..."): as the separate value of another option it is far more likely a
 * forgotten value than a literal one. */
static bool pvm_args_is_own_option(const pvm_args *a, const char *arg)
{
    size_t idx;
    if (strncmp(arg, "--", 2) != 0)
        return false;
    if (strcmp(arg, "--help") == 0)
        return true;
    const char *eq = strchr(arg + 2, '=');
    size_t len = eq ? (size_t)(eq - (arg + 2)) : strlen(arg + 2);
    return pvm_args_find_long(a, arg + 2, len, &idx) != NULL;
}

/* Handles one option argument at argv[*i]; advances *i past a separate value. */
static int pvm_args_option(pvm_args *a, int argc, char **argv, int *i,
                           const char *cmd, pvm_error *err)
{
    const char *arg = argv[*i];
    const char *eq = NULL;
    const pvm_opt *o;
    size_t idx = 0;

    if (arg[1] == '-') {
        eq = strchr(arg + 2, '=');
        size_t len = eq ? (size_t)(eq - (arg + 2)) : strlen(arg + 2);
        o = pvm_args_find_long(a, arg + 2, len, &idx);
        if (!o)
            return pvm_args_unknown(arg, len + 2, cmd, err);
    } else {
        o = arg[2] == '\0' ? pvm_args_find_alias(a, arg[1], &idx) : NULL;
        if (!o)
            return pvm_args_unknown(arg, strlen(arg), cmd, err);
    }
    if (a->given[idx])
        return pvm_error_set(err, PVM_E_USAGE, "option '--%s' given more than once", o->name);
    a->given[idx] = true;
    if (!o->takes_value) {
        if (eq)
            return pvm_error_set(err, PVM_E_USAGE, "option '--%s' takes no value", o->name);
        return 0;
    }
    if (eq) {
        a->values[idx] = eq + 1;
    } else if (*i + 1 < argc && pvm_args_is_own_option(a, argv[*i + 1])) {
        return pvm_error_set(err, PVM_E_USAGE,
                             "option '--%s' needs a value, but '%s' is an option of this "
                             "command (write --%s=%s to mean it as the value)",
                             o->name, argv[*i + 1], o->name, argv[*i + 1]);
    } else if (*i + 1 < argc) {
        a->values[idx] = argv[++*i];
    } else {
        return pvm_error_set(err, PVM_E_USAGE, "option '--%s' needs a value (%s)", o->name,
                             o->metavar ? o->metavar : "VALUE");
    }
    return 0;
}

int pvm_args_parse(pvm_args *a, const pvm_opt *opts, size_t nopts, int argc,
                   char **argv, const char *cmd, pvm_error *err)
{
    memset(a, 0, sizeof *a);
    a->opts = opts;
    a->nopts = nopts;
    a->values = pvm_xcalloc(nopts ? nopts : 1, sizeof *a->values);
    a->given = pvm_xcalloc(nopts ? nopts : 1, sizeof *a->given);
    a->pos = pvm_xcalloc((size_t)argc + 1, sizeof *a->pos);
    bool only_pos = false;

    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (!only_pos && strcmp(arg, "--") == 0) {
            only_pos = true;
        } else if (!only_pos && arg[0] == '-' && arg[1] != '\0') {
            if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
                a->help = true;
                return 0;
            }
            if (pvm_args_option(a, argc, argv, &i, cmd, err) < 0)
                return -1;
        } else {
            a->pos[a->npos++] = argv[i];
        }
    }
    return 0;
}

void pvm_args_free(pvm_args *a)
{
    free(a->values);
    free(a->given);
    free(a->pos);
    memset(a, 0, sizeof *a);
}

static long pvm_args_index(const pvm_args *a, const char *name)
{
    for (size_t i = 0; i < a->nopts; i++)
        if (strcmp(a->opts[i].name, name) == 0)
            return (long)i;
    return -1;
}

const char *pvm_args_value(const pvm_args *a, const char *name)
{
    long i = pvm_args_index(a, name);
    return i < 0 ? NULL : a->values[i];
}

bool pvm_args_given(const pvm_args *a, const char *name)
{
    long i = pvm_args_index(a, name);
    return i >= 0 && a->given[i];
}

/* "-o, --output FILE" or "    --json" into buf. */
static void pvm_args_spec(const pvm_opt *o, char *buf, size_t size)
{
    char alias[8] = "    ";
    if (o->alias)
        snprintf(alias, sizeof alias, "-%c, ", o->alias);
    snprintf(buf, size, "%s--%s%s%s", alias, o->name, o->takes_value ? " " : "",
             o->takes_value ? (o->metavar ? o->metavar : "VALUE") : "");
}

void pvm_args_print_help(FILE *fp, const pvm_opt *opts, size_t nopts)
{
    char buf[128];
    int width = (int)strlen("-h, --help");
    for (size_t i = 0; i < nopts; i++) {
        pvm_args_spec(&opts[i], buf, sizeof buf);
        if ((int)strlen(buf) > width)
            width = (int)strlen(buf);
    }
    for (size_t i = 0; i < nopts; i++) {
        pvm_args_spec(&opts[i], buf, sizeof buf);
        fprintf(fp, "  %-*s  %s\n", width, buf, opts[i].help ? opts[i].help : "");
    }
    fprintf(fp, "  %-*s  %s\n", width, "-h, --help", "show this help and exit");
}

/* ------------------------------------------------ errors about an option */

static bool pvm_opts_have(const pvm_opt *opts, size_t nopts, const char *name)
{
    for (size_t i = 0; i < nopts; i++)
        if (strcmp(opts[i].name, name) == 0)
            return true;
    return false;
}

/* "diskBus" -> "disk-bus": how an option key is spelled as a flag. */
static void pvm_key_to_flag(const char *key, char *buf, size_t size)
{
    size_t n = 0;
    for (; *key && n + 2 < size; key++) {
        if (*key >= 'A' && *key <= 'Z') {
            buf[n++] = '-';
            buf[n++] = (char)(*key + ('a' - 'A'));
        } else {
            buf[n++] = *key;
        }
    }
    buf[n] = '\0';
}

const char *pvm_args_flag_of(const pvm_opt *opts, size_t nopts, const char *field, char *buf,
                             size_t size)
{
    if (!field || !field[0])
        return NULL;
    const pvm_field *f = pvm_profile_field_by_key(field);
    if (f && pvm_opts_have(opts, nopts, f->flag))
        return pvm_strlcpy(buf, f->flag, size) < size ? buf : NULL;
    pvm_key_to_flag(field, buf, size);
    return pvm_opts_have(opts, nopts, buf) ? buf : NULL;
}

void pvm_args_flag_error(pvm_error *err, const pvm_opt *opts, size_t nopts)
{
    char flag[64];
    if (!err || !pvm_args_flag_of(opts, nopts, err->field, flag, sizeof flag))
        return;
    /* a profile field's message opens with its path (hardwareModel.product), others with
     * the key; "cpus (--cpus)" would say nothing more than "cpus" */
    const pvm_field *f = pvm_profile_field_by_key(err->field);
    const char *name = f ? f->path : err->field;
    if (strcmp(flag, name) == 0)
        return;
    size_t kl = strlen(name);
    if (strncmp(err->msg, name, kl) != 0 || err->msg[kl] != ':')
        return; /* the message does not open with its name (e.g. "[1].key: ...") */
    char *s = pvm_xasprintf("%s (--%s):%s", name, flag, err->msg + kl + 1);
    pvm_strlcpy(err->msg, s, sizeof err->msg);
    free(s);
}
