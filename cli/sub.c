/* sub.c - the one runner of commands made of subcommands ("profile", "vm"):
 * finds the row of the subcommand table, parses its options, prints its help,
 * checks its positional arguments, runs it and prints its error (naming the
 * flag of the field it concerns). Called by cli/cmd_profile.c and cli/cmd_vm.c. */
#include "cli.h"

#include <string.h>

static const pvm_opt *pvm_sub_opts(const pvm_sub *s, size_t *n)
{
    if (s->opts_fn)
        return s->opts_fn(n);
    *n = s->nopts;
    return s->opts;
}

void pvm_sub_help_default(const pvm_sub_group *g, const pvm_sub *s)
{
    size_t n;
    const pvm_opt *opts = pvm_sub_opts(s, &n);
    printf("usage: " PVM_PROG " %s %s %s\n\n%c%s.\n", g->name, s->name, s->usage,
           s->summary[0] - ('a' - 'A'), s->summary + 1);
    if (s->details)
        printf("\n%s\n", s->details);
    printf("\nOptions:\n");
    pvm_args_print_help(stdout, opts, n);
}

/* The positional count against the row's bounds: 0, or the usage status. */
static int pvm_sub_check_pos(const pvm_sub_group *g, const pvm_sub *s, const pvm_args *a)
{
    pvm_error err = {0};
    if (a->npos < s->min_pos)
        return pvm_out_usage(&err, "%s %s: missing %s (see '" PVM_PROG " %s %s --help')",
                             g->name, s->name, s->pos_what, g->name, s->name);
    if (a->npos > s->max_pos)
        return pvm_out_usage(&err, "%s %s: unexpected argument '%s' (see '" PVM_PROG
                             " %s %s --help')", g->name, s->name, a->pos[s->max_pos], g->name,
                             s->name);
    return 0;
}

static int pvm_sub_run(pvm_cli *cli, const pvm_sub_group *g, const pvm_sub *s, int argc,
                       char **argv)
{
    pvm_error err = {0};
    pvm_args a;
    char cmd[64];
    size_t nopts;
    const pvm_opt *opts = pvm_sub_opts(s, &nopts);
    snprintf(cmd, sizeof cmd, "%s %s", g->name, s->name);
    if (pvm_args_parse(&a, opts, nopts, argc - 1, argv + 1, cmd, &err) < 0) {
        pvm_args_free(&a);
        return pvm_out_error(&err);
    }
    int status = 0;
    if (a.help) {
        if (s->help)
            s->help(g, s);
        else
            pvm_sub_help_default(g, s);
    } else if ((status = pvm_sub_check_pos(g, s, &a)) == 0 && s->run(cli, &a, &err) < 0) {
        pvm_args_flag_error(&err, opts, nopts);
        status = pvm_out_error(&err);
    }
    pvm_args_free(&a);
    return status;
}

int pvm_sub_dispatch(pvm_cli *cli, const pvm_sub_group *g, int argc, char **argv)
{
    pvm_error err = {0};
    if (argc < 2)
        return pvm_out_usage(&err, "%s: missing subcommand (see '" PVM_PROG " %s --help')",
                             g->name, g->name);
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "help") == 0) {
        g->help(g);
        return 0;
    }
    for (size_t i = 0; i < g->nsubs; i++)
        if (strcmp(argv[1], g->subs[i].name) == 0)
            return pvm_sub_run(cli, g, &g->subs[i], argc - 1, argv + 1);
    return pvm_out_usage(&err, "%s: unknown subcommand '%s' (see '" PVM_PROG " %s --help')",
                         g->name, argv[1], g->name);
}
