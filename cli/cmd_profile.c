/* cmd_profile.c - `privarion-vm profile create|list|show|edit|delete|export|
 * import|presets`: the hardware profile commands over the engine API.
 * Called by main.c through pvm_cli_profile; parses with args.c, prints with out.c. */
#include "cli.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PVM_MAX_OPTS 64

/* ------------------------------------------------------- option tables */

static const pvm_opt pvm_json_opts[] = {
    {"json", 0, false, NULL, "print JSON instead of a table"},
};

static const pvm_opt pvm_export_opts[] = {
    {"output", 'o', true, "FILE", "write to FILE (created 0600) instead of standard output"},
    {"force", 0, false, NULL, "overwrite FILE when it exists"},
};

static const pvm_opt pvm_import_opts[] = {
    {"allow-duplicate", 0, false, NULL,
     "accept a serial, UUID or MAC that another profile already uses"},
    {"name", 0, true, "NEW", "store under a new name and a new id (single profile only)"},
};

static const pvm_opt pvm_edit_extra_opts[] = {
    {"preset", 0, true, "KEY", "fill the hardware model from a preset ('profile presets')"},
    {"random", 0, false, NULL,
     "generate serials, UUID, MAC and disk serial in the preset vendor's formats"},
    {"hide-hypervisor", 0, false, NULL, "hide the hypervisor from the guest (the default)"},
    {"show-hypervisor", 0, false, NULL, "let the guest see the hypervisor CPUID bit"},
    {"allow-duplicate", 0, false, NULL,
     "accept a serial, UUID or MAC that another profile already uses"},
    {"name", 0, true, "NEW", "rename the profile"},
};

/* The create/edit option table: one flag per identity field from the engine's
 * field table, then the extras; built once into static storage. */
typedef struct pvm_field_opts {
    pvm_opt opts[PVM_MAX_OPTS];
    char help[PVM_MAX_OPTS][48]; /* "hardwareModel.KEY" */
    size_t n;
} pvm_field_opts;

static const char *pvm_kind_metavar(pvm_field_kind k)
{
    switch (k) {
    case PVM_FK_DATE:
        return "MM/DD/YYYY";
    case PVM_FK_UUID:
        return "UUID";
    case PVM_FK_MAC:
        return "MAC";
    case PVM_FK_DISK_SERIAL:
        return "SERIAL";
    case PVM_FK_UINT:
        return "N";
    case PVM_FK_HEX:
        return "0xHEX";
    case PVM_FK_CHASSIS:
        return "TYPE";
    case PVM_FK_TEXT:
    default:
        return "TEXT";
    }
}

static void pvm_field_opts_build(pvm_field_opts *t, bool edit)
{
    size_t nf;
    const pvm_field *fields = pvm_profile_fields(&nf);
    for (size_t i = 0; i < nf && t->n < PVM_MAX_OPTS; i++) {
        snprintf(t->help[t->n], sizeof t->help[t->n], "%s%s",
                 fields[i].in_hw_model ? "hardwareModel." : "", fields[i].key);
        t->opts[t->n] = (pvm_opt){fields[i].flag, 0, true, pvm_kind_metavar(fields[i].kind),
                                  t->help[t->n]};
        t->n++;
    }
    size_t ne = sizeof pvm_edit_extra_opts / sizeof pvm_edit_extra_opts[0];
    for (size_t i = 0; i < ne && t->n < PVM_MAX_OPTS; i++)
        if (edit || strcmp(pvm_edit_extra_opts[i].name, "name") != 0)
            t->opts[t->n++] = pvm_edit_extra_opts[i];
}

static const pvm_opt *pvm_create_opts(size_t *n)
{
    static pvm_field_opts t;
    if (!t.n)
        pvm_field_opts_build(&t, false);
    *n = t.n;
    return t.opts;
}

static const pvm_opt *pvm_edit_opts(size_t *n)
{
    static pvm_field_opts t;
    if (!t.n)
        pvm_field_opts_build(&t, true);
    *n = t.n;
    return t.opts;
}

/* ------------------------------------------------------------- helpers */

static int pvm_find_preset(const char *key, const pvm_preset **out, pvm_error *err)
{
    *out = pvm_preset_find(key);
    if (!*out)
        return pvm_error_set_field(
            err, PVM_E_NOTFOUND, "preset",
            "preset: unknown preset '%s' (see '" PVM_PROG " profile presets')", key);
    return 0;
}

/* ------------------------------------------------- create / edit changes */

/* What create and edit were asked to change, checked before the store opens. */
typedef struct pvm_change {
    const pvm_preset *preset;
    bool random;
    bool set_hide, hide;
    const char *new_name;
    pvm_profile_opts opts;
    size_t nfields; /* field flags given */
} pvm_change;

/* Checks every given value on a scratch profile, so errors come before the
 * store is opened and nothing is half-applied. */
static int pvm_change_check(const pvm_args *a, pvm_change *c, pvm_error *err)
{
    size_t nf;
    const pvm_field *fields = pvm_profile_fields(&nf);
    pvm_profile scratch;
    pvm_profile_init(&scratch);
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < nf; i++) {
        const char *v = pvm_args_value(a, fields[i].flag);
        if (!v)
            continue;
        c->nfields++;
        if (pvm_profile_set(&scratch, &fields[i], v, err) < 0)
            return -1;
    }
    if (pvm_args_given(a, "hide-hypervisor") && pvm_args_given(a, "show-hypervisor"))
        return pvm_error_set_field(err, PVM_E_USAGE, "hideHypervisor",
                                   "--hide-hypervisor and --show-hypervisor exclude each other");
    c->set_hide = pvm_args_given(a, "hide-hypervisor") || pvm_args_given(a, "show-hypervisor");
    c->hide = pvm_args_given(a, "hide-hypervisor");
    c->random = pvm_args_given(a, "random");
    c->opts.allow_duplicate = pvm_args_given(a, "allow-duplicate");
    c->new_name = pvm_args_value(a, "name");
    if (c->new_name && pvm_profile_set_name(&scratch, c->new_name, err) < 0)
        return -1;
    const char *pk = pvm_args_value(a, "preset");
    return pk ? pvm_find_preset(pk, &c->preset, err) : 0;
}

static bool pvm_change_empty(const pvm_change *c)
{
    return !c->preset && !c->random && !c->set_hide && !c->new_name && c->nfields == 0;
}

/* Preset model, then random identity, then the explicit flags. */
static int pvm_change_apply(pvm_engine *e, const pvm_args *a, const pvm_change *c,
                            pvm_profile *p, pvm_error *err)
{
    if (c->preset)
        pvm_preset_apply(c->preset, p); /* keeps board/chassis serials, asset tag */
    if (c->random) {
        const pvm_preset *vendor = c->preset ? c->preset : pvm_preset_find(p->preset);
        if (pvm_profile_randomize_unique(e, p, vendor, err) < 0)
            return -1;
    }
    size_t nf;
    const pvm_field *fields = pvm_profile_fields(&nf);
    for (size_t i = 0; i < nf; i++) {
        const char *v = pvm_args_value(a, fields[i].flag);
        if (v && pvm_profile_set(p, &fields[i], v, err) < 0)
            return -1;
    }
    if (c->set_hide)
        p->hide_hypervisor = c->hide;
    if (c->new_name && pvm_profile_set_name(p, c->new_name, err) < 0)
        return -1;
    return 0;
}

/* -------------------------------------------------------------- create */

static void pvm_legend(void)
{
    printf("\nTEXT is printable ASCII, at most 64 bytes (commas, quotes and spaces are kept\n"
           "byte for byte; an empty value clears the field). SERIAL is at most 20 bytes.\n"
           "MAC is six hex octets with colons, unicast; UUID is the RFC 4122 text form.\n"
           "Applied in this order: --preset, then --random, then the field flags.\n");
}

static void pvm_create_help(const pvm_sub_group *g, const pvm_sub *s)
{
    size_t n;
    const pvm_opt *opts = pvm_create_opts(&n);
    (void)g;
    (void)s;
    printf("usage: " PVM_PROG " profile create NAME [--preset KEY] [--random] [FIELD FLAGS]\n"
           "\nMake a hardware profile. NAME is 1-64 of A-Z a-z 0-9 space . _ -, starting with a\n"
           "letter or digit (no trailing space, not in the form of a UUID). Every field is\n"
           "optional: with no preset, --random or field flags the profile starts empty.\n"
           "--random without --preset also takes a random preset's model.\n"
           "\nOptions:\n");
    pvm_args_print_help(stdout, opts, n);
    pvm_legend();
}

/* One warning per known virtualization mark the stored profile carries. */
static void pvm_marks_warn(const pvm_profile *p)
{
    pvm_profile_mark m[32];
    size_t n = pvm_profile_marks(p, m, sizeof m / sizeof m[0]);
    for (size_t i = 0; i < n; i++) {
        char text[512];
        pvm_profile_mark_text(p, &m[i], text, sizeof text);
        pvm_out_warning("%s", text);
    }
}

static int pvm_create_run(pvm_cli *cli, const pvm_args *a, pvm_error *err)
{
    pvm_change c;
    pvm_profile p;
    pvm_engine *e = NULL;
    pvm_profile_init(&p);
    if (pvm_profile_set_name(&p, a->pos[0], err) < 0 || pvm_change_check(a, &c, err) < 0 ||
        !(e = pvm_cli_engine(cli, err)) || pvm_change_apply(e, a, &c, &p, err) < 0 ||
        pvm_profile_create(e, &p, &c.opts, err) < 0)
        return -1;
    if (pvm_change_empty(&c))
        pvm_out_note("profile '%s' has an empty model and identity; set them with "
                     "'profile edit' (--preset, --random or field flags)", p.name);
    else if (!p.serial[0] && !p.machine_id[0] && !p.mac[0])
        pvm_out_note("profile '%s' has no serial, UUID or MAC; 'profile edit --random' "
                     "draws them", p.name);
    printf("created profile '%s' (id %s)\n", p.name, p.id);
    pvm_marks_warn(&p);
    return 0;
}

/* ---------------------------------------------------------------- edit */

static void pvm_edit_help(const pvm_sub_group *g, const pvm_sub *s)
{
    size_t n;
    const pvm_opt *opts = pvm_edit_opts(&n);
    (void)g;
    (void)s;
    printf("usage: " PVM_PROG " profile edit NAME|ID [--name NEW] [--preset KEY] [--random]"
           " [FIELD FLAGS]\n"
           "\nChange a profile. --preset re-applies a model (identity serials are kept),\n"
           "--random regenerates the identity. A rejected edit changes nothing.\n"
           "\nOptions:\n");
    pvm_args_print_help(stdout, opts, n);
    pvm_legend();
}

static int pvm_edit_run(pvm_cli *cli, const pvm_args *a, pvm_error *err)
{
    pvm_change c;
    pvm_profile p;
    pvm_engine *e = NULL;
    if (pvm_change_check(a, &c, err) < 0)
        return -1;
    if (pvm_change_empty(&c))
        return pvm_error_set(err, PVM_E_USAGE, "profile edit: nothing to change (give field "
                             "flags, --preset, --random, --name or --hide/--show-hypervisor)");
    pvm_profile before;
    if (!(e = pvm_cli_engine(cli, err)) || pvm_profile_get(e, a->pos[0], &p, err) < 0)
        return -1;
    before = p;
    if (pvm_change_apply(e, a, &c, &p, err) < 0 || pvm_profile_update(e, &p, &c.opts, err) < 0)
        return -1;
    printf("updated profile '%s' (id %s)\n", p.name, p.id);
    pvm_marks_warn(&p);
    char serials[600];
    if (pvm_profile_serial_note(&before, &p, serials, sizeof serials))
        pvm_out_warning("%s", serials);
    char names[512];
    pvm_error ignored = {0};
    int running = pvm_profile_running_vms(e, p.id, names, sizeof names, &ignored);
    if (running > 0)
        pvm_out_warning("VM%s %s wear%s profile '%s' and run%s now: the change applies at %s next "
                        "start (the guest sees the old identity until then)",
                        running == 1 ? "" : "s", names, running == 1 ? "s" : "", p.name,
                        running == 1 ? "s" : "", running == 1 ? "its" : "their");
    return 0;
}

/* ---------------------------------------------------------------- list */

static void pvm_list_help(const pvm_sub_group *g, const pvm_sub *s)
{
    (void)g;
    (void)s;
    printf("usage: " PVM_PROG " profile list [--json]\n"
           "\nList the profiles: NAME, MANUFACTURER, PRODUCT, SERIAL, MAC, UUID.\n"
           "--json prints an array of full profiles (the shape 'export' writes).\n"
           "\nOptions:\n");
    pvm_args_print_help(stdout, pvm_json_opts, 1);
}

static void pvm_list_json(const pvm_profile *list, size_t n)
{
    char *text = pvm_profile_list_to_json(list, n);
    pvm_out_json_text(stdout, text);
    free(text);
}

static void pvm_list_table(const pvm_profile *list, size_t n)
{
    static const char *const head[] = {"NAME", "MANUFACTURER", "PRODUCT", "SERIAL", "MAC",
                                       "UUID"};
    if (n == 0) {
        printf("no profiles (make one with '" PVM_PROG
               " profile create NAME --preset KEY --random')\n");
        return;
    }
    pvm_table *t = pvm_table_new(6, head);
    for (size_t i = 0; i < n; i++) {
        const pvm_profile *p = &list[i];
        const char *row[] = {p->name,   p->hw.manufacturer, p->hw.product,
                             p->serial, p->mac,             p->machine_id};
        pvm_table_add(t, row);
    }
    pvm_table_print(t, stdout);
    pvm_table_free(t);
}

static int pvm_profile_list_run(pvm_cli *cli, const pvm_args *a, pvm_error *err)
{
    pvm_profile *list = NULL;
    size_t n = 0;
    pvm_engine *e = pvm_cli_engine(cli, err);
    if (!e || pvm_profile_list(e, &list, &n, err) < 0)
        return -1;
    if (pvm_args_given(a, "json"))
        pvm_list_json(list, n);
    else
        pvm_list_table(list, n);
    free(list);
    return 0;
}

/* ---------------------------------------------------------------- show */

static void pvm_show_help(const pvm_sub_group *g, const pvm_sub *s)
{
    (void)g;
    (void)s;
    printf("usage: " PVM_PROG " profile show NAME|ID [--json]\n"
           "\nShow every field of a profile. --json prints exactly what 'export' prints.\n"
           "\nOptions:\n");
    pvm_args_print_help(stdout, pvm_json_opts, 1);
}

static const char *pvm_show_value(void *ctx, const pvm_field *f)
{
    const pvm_profile *p = ctx;
    return f ? pvm_profile_field_cptr(p, f) : p->hide_hypervisor ? "yes" : "no";
}

static void pvm_show_human(const pvm_profile *p)
{
    const int w = PVM_OUT_ID_WIDTH;
    char t1[64], t2[64];
    pvm_out_field(stdout, 0, w + 2, "Name", p->name);
    pvm_out_field(stdout, 0, w + 2, "ID", p->id);
    pvm_out_field(stdout, 0, w + 2, "Preset", p->preset);
    pvm_out_field(stdout, 0, w + 2, "Hide hypervisor", p->hide_hypervisor ? "yes" : "no");
    pvm_out_field(stdout, 0, w + 2, "Created", pvm_out_time(p->created_at, t1, sizeof t1));
    pvm_out_field(stdout, 0, w + 2, "Updated", pvm_out_time(p->updated_at, t2, sizeof t2));
    pvm_out_identity(stdout, "Identity", "Hardware model", false, pvm_show_value, (void *)p);
}

/* The one NAME|ID argument of show, delete and export, looked up. */
static int pvm_named_profile(pvm_cli *cli, const pvm_args *a, pvm_profile *p, pvm_error *err)
{
    pvm_engine *e = pvm_cli_engine(cli, err);
    return e ? pvm_profile_get(e, a->pos[0], p, err) : -1;
}

static int pvm_profile_show_run(pvm_cli *cli, const pvm_args *a, pvm_error *err)
{
    pvm_profile p;
    if (pvm_named_profile(cli, a, &p, err) < 0)
        return -1;
    if (pvm_args_given(a, "json")) {
        char *text = pvm_profile_to_json(&p);
        pvm_out_json_text(stdout, text);
        free(text);
    } else {
        pvm_show_human(&p);
    }
    return 0;
}

/* -------------------------------------------------------------- delete */

static void pvm_delete_help(const pvm_sub_group *g, const pvm_sub *s)
{
    (void)g;
    (void)s;
    printf("usage: " PVM_PROG " profile delete NAME|ID\n"
           "\nDelete a profile. Refused while a VM uses it.\n\nOptions:\n");
    pvm_args_print_help(stdout, NULL, 0);
}

static int pvm_profile_delete_run(pvm_cli *cli, const pvm_args *a, pvm_error *err)
{
    pvm_profile p;
    if (pvm_named_profile(cli, a, &p, err) < 0 || pvm_profile_delete(cli->engine, p.id, err) < 0)
        return -1;
    printf("deleted profile '%s' (id %s)\n", p.name, p.id);
    return 0;
}

/* -------------------------------------------------------------- export */

static void pvm_export_help(const pvm_sub_group *g, const pvm_sub *s)
{
    (void)g;
    (void)s;
    printf("usage: " PVM_PROG " profile export NAME|ID [-o FILE] [--force]\n"
           "\nPrint a profile as JSON (the shape 'import' reads), to standard output or\n"
           "to FILE. FILE is created with mode 0600 and never overwritten without --force.\n"
           "\nOptions:\n");
    pvm_args_print_help(stdout, pvm_export_opts, 2);
}

/* Writes text into a new 0600 file; refuses to replace one that exists. */
static int pvm_write_new(const char *path, const char *text, pvm_error *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 && errno == EEXIST)
        return pvm_error_set(err, PVM_E_EXISTS, "%s: already exists (use --force to overwrite)",
                             path);
    if (fd < 0)
        return pvm_error_set(err, PVM_E_IO, "%s: %s", path, strerror(errno));
    int rc = pvm_out_write_all(fd, text, strlen(text));
    int saved = errno;
    if (close(fd) < 0 && rc == 0) {
        rc = -1;
        saved = errno;
    }
    if (rc < 0) {
        unlink(path);
        return pvm_error_set(err, PVM_E_IO, "%s: %s", path, strerror(saved));
    }
    return 0;
}

/* --force: writes a fresh 0600 file beside path, then renames it over path. */
static int pvm_write_replace(const char *path, const char *text, pvm_error *err)
{
    char *copy = pvm_xstrdup(path);
    char *tmp = pvm_xasprintf("%s/.%s.XXXXXX", dirname(copy), "privarion-export");
    int fd = mkstemp(tmp), rc = -1;
    if (fd < 0) {
        pvm_error_set(err, PVM_E_IO, "%s: %s", path, strerror(errno));
    } else {
        int w = pvm_out_write_all(fd, text, strlen(text));
        int c = close(fd);
        if (w < 0 || c < 0 || rename(tmp, path) < 0) {
            pvm_error_set(err, PVM_E_IO, "%s: %s", path, strerror(errno));
            unlink(tmp);
        } else {
            rc = 0;
        }
    }
    free(tmp);
    free(copy);
    return rc;
}

static int pvm_export_to(const char *path, bool force, const char *text, pvm_error *err)
{
    if (!path || strcmp(path, "-") == 0) {
        fputs(text, stdout);
        return 0;
    }
    if (!path[0])
        return pvm_error_set_field(err, PVM_E_USAGE, "output", "--output: must not be empty");
    return force ? pvm_write_replace(path, text, err) : pvm_write_new(path, text, err);
}

static int pvm_profile_export_run(pvm_cli *cli, const pvm_args *a, pvm_error *err)
{
    pvm_profile p;
    if (pvm_named_profile(cli, a, &p, err) < 0)
        return -1;
    char *json = pvm_profile_to_json(&p);
    size_t n = strlen(json);
    char *text = pvm_xasprintf("%s%s", json, n && json[n - 1] == '\n' ? "" : "\n");
    free(json);
    int rc = pvm_export_to(pvm_args_value(a, "output"), pvm_args_given(a, "force"), text, err);
    free(text);
    return rc;
}

/* -------------------------------------------------------------- import */

static void pvm_import_help(const pvm_sub_group *g, const pvm_sub *s)
{
    (void)g;
    (void)s;
    printf("usage: " PVM_PROG " profile import FILE|- [--allow-duplicate] [--name NEW]\n"
           "\nStore the profiles of a JSON file (one object or an array; '-' reads standard\n"
           "input), keeping their ids and timestamps (a profile without an id gets a\n"
           "new one). All or nothing: the profiles are validated and stored in one\n"
           "transaction, each checked for name, id and identity clashes with the store\n"
           "and with those before it in the file; nothing is stored when any check fails.\n"
           "\nOptions:\n");
    pvm_args_print_help(stdout, pvm_import_opts, 2);
}

static int pvm_read_fd(int fd, const char *what, char **out, pvm_error *err)
{
    char *buf;
    size_t n;
    int rc = pvm_read_all(fd, PVM_JSON_MAX_BYTES, &buf, &n);
    if (rc < 0)
        return pvm_error_set(err, PVM_E_IO, "%s: %s", what, strerror(errno));
    if (rc > 0) /* the engine's one limit, and its words */
        return pvm_error_set(err, PVM_E_INVALID, "%s: input is larger than %d MiB, the "
                             "most a profile file may hold", what, PVM_JSON_MAX_BYTES >> 20);
    if (memchr(buf, '\0', n)) {
        free(buf);
        return pvm_error_set(err, PVM_E_INVALID, "%s: contains a NUL byte", what);
    }
    *out = buf;
    return 0;
}

static int pvm_read_input(const char *path, char **out, pvm_error *err)
{
    if (strcmp(path, "-") == 0)
        return pvm_read_fd(STDIN_FILENO, "standard input", out, err);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return pvm_error_set(err, errno == ENOENT ? PVM_E_NOTFOUND : PVM_E_IO, "%s: %s", path,
                             strerror(errno));
    int rc = pvm_read_fd(fd, path, out, err);
    close(fd);
    return rc;
}

/* Turns "msg" into "prefix: msg". */
static void pvm_error_prefix(pvm_error *err, const char *prefix)
{
    char *s = pvm_xasprintf("%s: %s", prefix, err->msg);
    pvm_strlcpy(err->msg, s, sizeof err->msg);
    free(s);
}

/* --name NEW: a copy under a new name, id and timestamps. */
static int pvm_import_rename(pvm_profile *in, size_t n, const char *name, pvm_error *err)
{
    if (n != 1)
        return pvm_error_set_field(err, PVM_E_USAGE, "name",
                                   "--name: only for a file holding "
                                   "one profile (this one holds %zu)",
                                   n);
    if (pvm_profile_set_name(in, name, err) < 0)
        return -1;
    in->id[0] = '\0'; /* the engine gives it a new id and timestamps */
    in->created_at = in->updated_at = 0;
    return 0;
}

/* The store refused a single profile's name: say how to import a copy. */
static void pvm_import_hint(pvm_error *err, size_t n)
{
    if (n != 1 || err->code != PVM_E_EXISTS || strcmp(err->field, "name") != 0)
        return;
    size_t len = strlen(err->msg);
    snprintf(err->msg + len, sizeof err->msg - len, " (use --name NEW to import a copy)");
}

static void pvm_import_print(const pvm_profile *in, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        printf("imported profile '%s' (id %s)\n", in[i].name, in[i].id);
        pvm_marks_warn(&in[i]);
    }
}

static int pvm_import_run(pvm_cli *cli, const pvm_args *a, pvm_error *err)
{
    pvm_profile_opts opts = {.allow_duplicate = pvm_args_given(a, "allow-duplicate")};
    const char *new_name = pvm_args_value(a, "name");
    pvm_profile scratch, *in = NULL;
    pvm_profile_init(&scratch);
    size_t n = 0;
    char *text = NULL;
    pvm_engine *e = NULL;
    const char *what = strcmp(a->pos[0], "-") ? a->pos[0] : "standard input";
    int rc = -1;
    if ((new_name && pvm_profile_set_name(&scratch, new_name, err) < 0) ||
        pvm_read_input(a->pos[0], &text, err) < 0)
        goto done;
    if (pvm_profile_list_from_json(text, &in, &n, err) < 0) {
        pvm_error_prefix(err, what);
        goto done;
    }
    if (n == 0) {
        pvm_error_set(err, PVM_E_INVALID, "%s: holds no profiles", what);
        goto done;
    }
    if ((new_name && pvm_import_rename(in, n, new_name, err) < 0) ||
        !(e = pvm_cli_engine(cli, err)))
        goto done;
    if (pvm_profile_import_many(e, in, n, &opts, err) < 0) {
        pvm_import_hint(err, n);
        goto done;
    }
    pvm_import_print(in, n);
    rc = 0;
done:
    free(in);
    free(text);
    return rc;
}

/* ------------------------------------------------------------- presets */

static void pvm_presets_help(const pvm_sub_group *g, const pvm_sub *s)
{
    (void)g;
    (void)s;
    printf("usage: " PVM_PROG " profile presets [--json]\n"
           "\nList the built-in machine models: KEY, MANUFACTURER, PRODUCT, DESCRIPTION.\n"
           "\nOptions:\n");
    pvm_args_print_help(stdout, pvm_json_opts, 1);
}

static cJSON *pvm_preset_json(const pvm_preset *ps)
{
    cJSON *o = cJSON_CreateObject(), *hw = cJSON_CreateObject(), *ouis = cJSON_CreateArray();
    pvm_profile p;
    size_t nf;
    const pvm_field *fields = pvm_profile_fields(&nf);
    pvm_profile_init(&p);
    p.hw = ps->hw;
    for (size_t i = 0; i < nf; i++)
        if (fields[i].in_hw_model)
            cJSON_AddStringToObject(hw, fields[i].key, pvm_profile_field_cptr(&p, &fields[i]));
    for (size_t i = 0; i < 4 && ps->ouis[i]; i++)
        cJSON_AddItemToArray(ouis, cJSON_CreateString(ps->ouis[i]));
    cJSON_AddStringToObject(o, "key", ps->key);
    cJSON_AddStringToObject(o, "description", ps->description ? ps->description : "");
    cJSON_AddItemToObject(o, "hardwareModel", hw);
    cJSON_AddStringToObject(o, "serialFormat", pvm_serial_format_name(ps->serial_format));
    cJSON_AddStringToObject(o, "diskModel", ps->disk_model ? ps->disk_model : "");
    cJSON_AddItemToObject(o, "ouis", ouis);
    return o;
}

static int pvm_presets_print(bool json, pvm_error *err)
{
    static const char *const head[] = {"KEY", "MANUFACTURER", "PRODUCT", "DESCRIPTION"};
    size_t n;
    const pvm_preset *ps = pvm_presets(&n);
    if (json) {
        cJSON *arr = cJSON_CreateArray();
        for (size_t i = 0; i < n; i++)
            cJSON_AddItemToArray(arr, pvm_preset_json(&ps[i]));
        int rc = pvm_out_json(stdout, arr, err);
        cJSON_Delete(arr);
        return rc;
    }
    pvm_table *t = pvm_table_new(4, head);
    for (size_t i = 0; i < n; i++) {
        const char *row[] = {ps[i].key, ps[i].hw.manufacturer, ps[i].hw.product,
                             ps[i].description};
        pvm_table_add(t, row);
    }
    pvm_table_print(t, stdout);
    pvm_table_free(t);
    return 0;
}

static int pvm_profile_presets_run(pvm_cli *cli, const pvm_args *a, pvm_error *err)
{
    (void)cli;
    return pvm_presets_print(pvm_args_given(a, "json"), err);
}

/* ------------------------------------------------------------ dispatch */

#define PVM_NOPTS(t) (sizeof(t) / sizeof((t)[0]))

static const pvm_sub pvm_profile_subs[] = {
    {"create", "NAME [--preset KEY] [--random] [FIELD FLAGS]", "make a profile", NULL, NULL, 0,
     pvm_create_opts, 1, 1, "NAME", pvm_create_run, pvm_create_help},
    {"list", "[--json]", "list the profiles", NULL, pvm_json_opts, PVM_NOPTS(pvm_json_opts),
     NULL, 0, 0, "", pvm_profile_list_run, pvm_list_help},
    {"show", "NAME|ID [--json]", "show every field of a profile", NULL, pvm_json_opts,
     PVM_NOPTS(pvm_json_opts), NULL, 1, 1, "NAME|ID", pvm_profile_show_run, pvm_show_help},
    {"edit", "NAME|ID [--name NEW] [FIELD FLAGS]", "change a profile", NULL, NULL, 0,
     pvm_edit_opts, 1, 1, "NAME|ID", pvm_edit_run, pvm_edit_help},
    {"delete", "NAME|ID", "delete an unused profile", NULL, NULL, 0, NULL, 1, 1, "NAME|ID",
     pvm_profile_delete_run, pvm_delete_help},
    {"export", "NAME|ID [-o FILE] [--force]", "print a profile as JSON", NULL, pvm_export_opts,
     PVM_NOPTS(pvm_export_opts), NULL, 1, 1, "NAME|ID", pvm_profile_export_run,
     pvm_export_help},
    {"import", "FILE|- [--allow-duplicate] [--name NEW]", "store profiles from JSON", NULL,
     pvm_import_opts, PVM_NOPTS(pvm_import_opts), NULL, 1, 1, "FILE|-", pvm_import_run,
     pvm_import_help},
    {"presets", "[--json]", "list the built-in models", NULL, pvm_json_opts,
     PVM_NOPTS(pvm_json_opts), NULL, 0, 0, "", pvm_profile_presets_run, pvm_presets_help},
};

static void pvm_profile_help(const pvm_sub_group *g)
{
    printf("usage: " PVM_PROG " profile SUBCOMMAND [ARGS...]\n\n"
           "Hardware profiles: the reusable identities (SMBIOS strings, system UUID, MAC,\n"
           "serials) that VMs wear.\n\nSubcommands:\n");
    for (size_t i = 0; i < g->nsubs; i++) {
        char synopsis[128];
        snprintf(synopsis, sizeof synopsis, "%s %s", g->subs[i].name, g->subs[i].usage);
        printf("  %-52s %s\n", synopsis, g->subs[i].summary);
    }
    printf("\nRun '" PVM_PROG " profile SUBCOMMAND --help' for every flag.\n");
}

static const pvm_sub_group pvm_profile_group = {"profile", pvm_profile_subs,
                                                PVM_NOPTS(pvm_profile_subs), pvm_profile_help};

int pvm_cli_profile(pvm_cli *cli, int argc, char **argv)
{
    return pvm_sub_dispatch(cli, &pvm_profile_group, argc, argv);
}
