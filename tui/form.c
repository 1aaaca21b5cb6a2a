/* form.c - the forms: a generic form (text and choice fields, each checked when
 * the cursor leaves it by the engine's own validators, host files included, the error - or a
 * warning, such as a VM mark's - shown under the field in the engine's words, wrapped; a save
 * checks them all again, marks every bad one and puts the cursor on the first) and its uses: the profile editor (every
 * field), the new-VM form, the vm edit form and the install form. Opened by actions.c; resizes keep typed text. */
#include "internal.h"

#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { TUI_FF_TEXT = 0, TUI_FF_CHOICE } tui_ff_kind;

typedef struct tui_ffield {
    char label[32];
    char key[32];                  /* the err->field this field answers to (engine's key) */
    tui_ff_kind kind;
    tui_edit edit;                 /* text fields */
    const char *const *choices;    /* choice fields */
    size_t nchoices, choice;
    const pvm_field *pf;           /* a profile identity field, or NULL */
    bool path;                     /* a host path: Tab completes it first */
    char *initial;                 /* the text the form opened with (owned) */
    char error[sizeof(((pvm_error *)0)->msg)];
    char warning[512];             /* a value that passes but warns (a VM mark), or "" */
} tui_ffield;

typedef struct tui_form tui_form;
struct tui_form {
    tui_modal m;
    char title[96];
    tui_ffield *f;
    size_t n;
    int cur, top;
    char error[sizeof(((pvm_error *)0)->msg)]; /* an error no field owns */
    bool refused;                  /* a save found fields to fix: the form counts them */
    /* Checks one field alone: 0, or -1 with err (shown under the field). */
    int (*check)(tui_form *form, tui_ffield *ff, pvm_error *err);
    /* Saves: 0 closes the form; -1 with err (placed by err->field). */
    int (*submit)(tui_form *form, tui_app *app, pvm_error *err);
    pvm_profile profile;           /* the profile being edited */
    char **names;                  /* the new-VM form's profile names (owned) */
    size_t nnames;
    pvm_vm vm;                     /* the VM being edited, or the install form's VM */
    int vw;                        /* the value column's width as last drawn (wrapping) */
};

static tui_ffield *tui_form_add(tui_form *form, const char *label, const char *key,
                                const char *value)
{
    form->f = pvm_xrealloc(form->f, (form->n + 1) * sizeof *form->f);
    tui_ffield *ff = &form->f[form->n++];
    memset(ff, 0, sizeof *ff);
    pvm_strlcpy(ff->label, label, sizeof ff->label);
    pvm_strlcpy(ff->key, key, sizeof ff->key);
    tui_edit_set(&ff->edit, value);
    ff->initial = pvm_xstrdup(value ? value : "");
    return ff;
}

static tui_ffield *tui_form_add_choice(tui_form *form, const char *label, const char *key,
                                       const char *const *choices, size_t n, size_t choice)
{
    tui_ffield *ff = tui_form_add(form, label, key, "");
    ff->kind = TUI_FF_CHOICE;
    ff->choices = choices;
    ff->nchoices = n;
    ff->choice = choice < n ? choice : 0;
    return ff;
}

static const char *tui_ff_value(const tui_ffield *ff)
{
    if (ff->kind == TUI_FF_CHOICE)
        return ff->nchoices ? ff->choices[ff->choice] : "";
    return ff->edit.buf;
}

static tui_ffield *tui_form_find(tui_form *form, const char *key)
{
    for (size_t i = 0; key && key[0] && i < form->n; i++)
        if (strcmp(form->f[i].key, key) == 0)
            return &form->f[i];
    return NULL;
}

/* Puts err next to its field (err->field, else the field the check ran on), else under the form. */
static void tui_form_place(tui_form *form, tui_ffield *fallback, const pvm_error *err)
{
    tui_ffield *ff = tui_form_find(form, err->field);
    if (!ff)
        ff = fallback;
    if (ff)
        pvm_strlcpy(ff->error, err->msg, sizeof ff->error);
    else
        pvm_strlcpy(form->error, err->msg, sizeof form->error);
}

static void tui_form_check(tui_form *form, tui_ffield *ff)
{
    pvm_error err = {0};
    ff->error[0] = '\0';
    ff->warning[0] = '\0';
    if (form->check && form->check(form, ff, &err) < 0)
        tui_form_place(form, ff, &err);
}

/* After a refused save, the fields still to fix, counted and named as they are now
 * ("not saved: 2 fields to fix (ISO, kernel)") into out; false when none is left. */
static bool tui_form_summary(const tui_form *form, char *out, size_t size)
{
    size_t bad = 0;
    char labels[160] = "";
    for (size_t i = 0; form->refused && i < form->n; i++) {
        if (!form->f[i].error[0])
            continue;
        size_t len = strlen(labels);
        snprintf(labels + len, sizeof labels - len, "%s%s", bad ? ", " : "", form->f[i].label);
        bad++;
    }
    if (bad)
        snprintf(out, size, "not saved: %zu field%s to fix (%s)", bad, bad == 1 ? "" : "s",
                 labels);
    return bad > 0;
}

/* Before a save: every field checked as if left, so all the bad ones are marked at once
 * (not only the first the save would meet) and the first of them gets the cursor.
 * Returns how many there are (0: the save may run). */
static size_t tui_form_check_all(tui_form *form)
{
    size_t bad = 0;
    int first = -1;
    for (size_t i = 0; i < form->n; i++)
        tui_form_check(form, &form->f[i]);
    for (size_t i = 0; i < form->n; i++) { /* after all: a check may place on another field */
        if (form->f[i].error[0]) {
            first = first < 0 ? (int)i : first;
            bad++;
        }
    }
    form->refused = bad > 0;
    if (bad)
        form->cur = first;
    return bad;
}

/* ------------------------------------------------------------ drawing */

#define TUI_FORM_ERROR_ROWS 4 /* an error wraps over at most this many rows */

/* Rows text needs wrapped at w columns, at most TUI_FORM_ERROR_ROWS. */
static int tui_form_wrap_rows(const char *text, int w)
{
    size_t starts[TUI_FORM_ERROR_ROWS], lens[TUI_FORM_ERROR_ROWS];
    size_t n = text[0] ? tui_wrap(text, w > 8 ? w : 8, starts, lens, TUI_FORM_ERROR_ROWS) : 0;
    return n > TUI_FORM_ERROR_ROWS ? TUI_FORM_ERROR_ROWS : (int)n;
}

/* Draws text wrapped at w columns from row y; returns the rows used. */
static int tui_form_wrap_draw(int y, int x, int w, int attr, const char *text)
{
    size_t starts[TUI_FORM_ERROR_ROWS], lens[TUI_FORM_ERROR_ROWS];
    size_t n = tui_wrap(text, w > 8 ? w : 8, starts, lens, TUI_FORM_ERROR_ROWS);
    n = n > TUI_FORM_ERROR_ROWS ? TUI_FORM_ERROR_ROWS : n;
    for (size_t i = 0; i < n; i++) {
        char line[sizeof(((pvm_error *)0)->msg)];
        snprintf(line, sizeof line, "%.*s", (int)lens[i], text + starts[i]);
        tui_draw_text(y + (int)i, x, w, attr, line);
    }
    return (int)n;
}

/* What shows under a field: its error, else its warning ("" none). */
static const char *tui_ff_note(const tui_ffield *ff)
{
    return ff->error[0] ? ff->error : ff->warning;
}

static int tui_ff_rows(const tui_form *form, const tui_ffield *ff)
{
    return 1 + tui_form_wrap_rows(tui_ff_note(ff), form->vw);
}

/* The longest label (every label whole), at most a third of the dialog. */
static int tui_form_label_width(const tui_form *form, int dialog_w)
{
    int lw = 8;
    for (size_t i = 0; i < form->n; i++) {
        int l = (int)strlen(form->f[i].label);
        lw = l > lw ? l : lw;
    }
    return lw > dialog_w / 3 ? dialog_w / 3 : lw;
}

static void tui_form_draw(tui_modal *m, tui_app *app)
{
    tui_form *form = (tui_form *)m;
    /* the value column's width for this screen (the dialog is at most 100 wide) */
    int dw = COLS < 100 ? COLS : 100;
    form->vw = dw - 4 - tui_form_label_width(form, dw) - 1;
    char summary[256];
    const char *bottom = form->error; /* under the fields: an error no field owns, else
                                       * after a refused save what is left to fix */
    if (!bottom[0] && tui_form_summary(form, summary, sizeof summary))
        bottom = summary;
    int erows = tui_form_wrap_rows(bottom, dw - 4);
    int need = 4 + (erows ? erows + 1 : 0);
    for (size_t i = 0; i < form->n; i++)
        need += tui_ff_rows(form, &form->f[i]);
    tui_rect r = tui_draw_dialog(app, need, 100, form->title);
    if (!r.h)
        return;
    int body = r.h - 3 - (erows ? erows + 1 : 0);
    /* scroll so the current field and its error fit */
    if (form->cur < form->top)
        form->top = form->cur;
    for (;;) {
        int rows = 0;
        for (int i = form->top; i <= form->cur; i++)
            rows += tui_ff_rows(form, &form->f[i]);
        if (rows <= body || form->top >= form->cur)
            break;
        form->top++;
    }
    int lw = tui_form_label_width(form, r.w), x = r.x + 2, vw = r.w - 4 - lw - 1, y = r.y + 1;
    int cy = -1, cx = -1;
    for (int i = form->top; i < (int)form->n && y + tui_ff_rows(form, &form->f[i]) <= r.y + 1 + body;
         i++) {
        tui_ffield *ff = &form->f[i];
        bool focus = i == form->cur;
        tui_draw_text(y, x, lw, tui_theme_attr(focus ? TUI_EL_TITLE_FOCUS : TUI_EL_DIM), ff->label);
        int a = tui_theme_attr(ff->error[0] ? TUI_EL_INPUT_ERROR : TUI_EL_INPUT);
        if (ff->kind == TUI_FF_CHOICE) {
            char buf[96];
            snprintf(buf, sizeof buf, "< %s >", tui_ff_value(ff));
            tui_draw_fill(y, x + lw + 1, vw, tui_theme_attr(TUI_EL_TEXT));
            tui_draw_text(y, x + lw + 1, vw, focus ? tui_theme_attr(TUI_EL_SELECTED) : a, buf);
        } else {
            tui_edit_draw(&ff->edit, y, x + lw + 1, vw, a, focus, &cy, &cx);
        }
        y++;
        if (tui_ff_note(ff)[0]) /* an error, or a warning the value still saves with */
            y += tui_form_wrap_draw(y, x + lw + 1, vw, tui_theme_attr(TUI_EL_ERROR),
                                    tui_ff_note(ff));
    }
    if (erows)
        tui_form_wrap_draw(r.y + r.h - 2 - erows, x, r.w - 4, tui_theme_attr(TUI_EL_ERROR),
                           bottom);
    /* Left/Right only choose on a choice field; on a text field they move the cursor */
    bool choice = form->cur < (int)form->n && form->f[form->cur].kind == TUI_FF_CHOICE;
    const char *hints[] = {"Up/Down/Tab", "field", "Enter", "save", "Esc", "cancel",
                           "Left/Right", "choose"};
    tui_draw_hints(r.y + r.h - 2, x, r.w - 4, hints, choice ? 4 : 3);
    if (cy >= 0) {
        move(cy, cx);
        form->m.cursor = true;
    } else {
        form->m.cursor = false;
    }
}

/* ------------------------------------------------------------ keys */

static void tui_form_goto(tui_form *form, int to)
{
    if (to < 0 || to >= (int)form->n || to == form->cur)
        return;
    tui_form_check(form, &form->f[form->cur]);
    form->cur = to;
}

/* Completes the path in e as a shell does: the one match whole (a folder with '/'), or
 * the longest prefix several matches share. True when the text grew. */
static bool tui_form_complete(tui_edit *e)
{
    char pattern[PVM_PATH_MAX + 2];
    glob_t g;
    snprintf(pattern, sizeof pattern, "%s*", e->buf);
    if (!e->buf[0] || glob(pattern, GLOB_MARK | GLOB_NOESCAPE, NULL, &g) != 0)
        return false;
    size_t common = strlen(g.gl_pathv[0]);
    for (size_t i = 1; i < g.gl_pathc; i++) {
        size_t k = 0;
        while (k < common && g.gl_pathv[i][k] == g.gl_pathv[0][k])
            k++;
        common = k;
    }
    bool grew = common > e->len && common < sizeof e->buf;
    if (grew) {
        char text[PVM_PATH_MAX];
        snprintf(text, sizeof text, "%.*s", (int)common, g.gl_pathv[0]);
        tui_edit_set(e, text);
    }
    globfree(&g);
    return grew;
}

static tui_modal_result tui_form_key(tui_modal *m, tui_app *app, int ch)
{
    tui_form *form = (tui_form *)m;
    tui_ffield *ff = &form->f[form->cur];
    app->dirty |= TUI_DIRTY_MODAL;
    switch (ch) {
    case 27:
        tui_message(app, TUI_EL_TEXT, "%s: cancelled, nothing changed", form->title);
        return TUI_MODAL_CLOSE;
    case KEY_UP:
    case KEY_BTAB:
        tui_form_goto(form, form->cur - 1);
        return TUI_MODAL_KEEP;
    case '\t':
        if (ff->kind == TUI_FF_TEXT && ff->path && tui_form_complete(&ff->edit))
            return TUI_MODAL_KEEP; /* the path grew; another Tab moves on */
        tui_form_goto(form, form->cur + 1);
        return TUI_MODAL_KEEP;
    case KEY_DOWN:
        tui_form_goto(form, form->cur + 1);
        return TUI_MODAL_KEEP;
    case KEY_PPAGE:
        tui_form_goto(form, form->cur > 8 ? form->cur - 8 : 0);
        return TUI_MODAL_KEEP;
    case KEY_NPAGE:
        tui_form_goto(form, form->cur + 8 < (int)form->n ? form->cur + 8 : (int)form->n - 1);
        return TUI_MODAL_KEEP;
    case '\n':
    case '\r':
    case KEY_ENTER: {
        form->error[0] = '\0';
        if (tui_form_check_all(form))
            return TUI_MODAL_KEEP;
        pvm_error err = {0};
        if (form->submit(form, app, &err) == 0)
            return TUI_MODAL_CLOSE;
        tui_form_place(form, NULL, &err);
        tui_ffield *bad = tui_form_find(form, err.field);
        if (bad)
            form->cur = (int)(bad - form->f);
        return TUI_MODAL_KEEP;
    }
    default:
        break;
    }
    if (ff->kind == TUI_FF_CHOICE) {
        if (ch == KEY_LEFT && ff->nchoices)
            ff->choice = (ff->choice + ff->nchoices - 1) % ff->nchoices;
        else if ((ch == KEY_RIGHT || ch == ' ') && ff->nchoices)
            ff->choice = (ff->choice + 1) % ff->nchoices;
        tui_form_check(form, ff);
    } else if (tui_edit_key(&ff->edit, ch) && ff->error[0]) {
        tui_form_check(form, ff); /* an error clears as soon as the value is good */
    }
    return TUI_MODAL_KEEP;
}

static void tui_form_free(tui_modal *m)
{
    tui_form *form = (tui_form *)m;
    for (size_t i = 0; i < form->n; i++)
        free(form->f[i].initial);
    free(form->f);
    for (size_t i = 0; i < form->nnames; i++)
        free(form->names[i]);
    free(form->names);
    free(form);
}

static tui_form *tui_form_new(const char *title)
{
    tui_form *form = pvm_xcalloc(1, sizeof *form);
    form->m = (tui_modal){tui_form_draw, tui_form_key, NULL, tui_form_free, true};
    pvm_strlcpy(form->title, title, sizeof form->title);
    return form;
}

/* ------------------------------------------------------------ profile editor */

static const char *const tui_hide_choices[] = {"hidden", "visible"};

static int tui_profile_check(tui_form *form, tui_ffield *ff, pvm_error *err)
{
    pvm_profile tmp = form->profile;
    if (ff->pf) { /* the engine's check, then the CLI's warning words for a VM mark */
        if (pvm_profile_set(&tmp, ff->pf, ff->edit.buf, err) < 0)
            return -1;
        char text[sizeof ff->warning - 16];
        if (pvm_profile_field_mark_text(&tmp, ff->pf->key, text, sizeof text) && text[0])
            snprintf(ff->warning, sizeof ff->warning, "warning: %s", text);
        return 0;
    }
    if (strcmp(ff->key, "name") == 0 && strcmp(ff->edit.buf, form->profile.name) != 0)
        return pvm_profile_set_name(&tmp, ff->edit.buf, err); /* a kept name stays valid */
    return 0;
}

/* Every field through the engine's checked setters, then one update. */
static int tui_profile_submit(tui_form *form, tui_app *app, pvm_error *err)
{
    pvm_profile p = form->profile;
    for (size_t i = 0; i < form->n; i++) {
        tui_ffield *ff = &form->f[i];
        int rc = 0;
        if (ff->pf)
            rc = pvm_profile_set(&p, ff->pf, ff->edit.buf, err);
        else if (strcmp(ff->key, "name") == 0 && strcmp(ff->edit.buf, p.name) != 0)
            rc = pvm_profile_set_name(&p, ff->edit.buf, err);
        else if (strcmp(ff->key, "hideHypervisor") == 0)
            p.hide_hypervisor = ff->choice == 0;
        if (rc < 0) {
            if (!err->field[0])
                pvm_strlcpy(err->field, ff->key, sizeof err->field);
            return -1;
        }
    }
    if (pvm_profile_update(app->engine, &p, NULL, err) < 0)
        return -1;
    char names[256], mark[512], warn[600] = "";
    pvm_error ignored = {0};
    int running = pvm_profile_running_vms(app->engine, p.id, names, sizeof names, &ignored);
    size_t marks = pvm_profile_field_mark_text(&p, NULL, mark, sizeof mark);
    if (marks) /* the warning the command line prints, in its words */
        snprintf(warn, sizeof warn, "; warning: %s%s", mark,
                 marks > 1 ? " (and more: the form shows each under its field)" : "");
    else if (pvm_profile_serial_note(&form->profile, &p, mark, sizeof mark)) {
        snprintf(warn, sizeof warn, "; warning: %s", mark);
        marks = 1;
    }
    if (running > 0)
        tui_message(app, TUI_EL_ERROR, "profile '%s' saved; VM%s %s run%s with it: the change "
                    "applies at %s next start%s", p.name, running == 1 ? "" : "s", names,
                    running == 1 ? "s" : "", running == 1 ? "its" : "their", warn);
    else
        tui_message(app, marks ? TUI_EL_ERROR : TUI_EL_OK, "profile '%s' saved%s", p.name, warn);
    tui_reload(app);
    return 0;
}

void tui_profile_form_open(tui_app *app, const pvm_profile *p)
{
    char title[96];
    snprintf(title, sizeof title, "Edit profile %s", p->name);
    tui_form *form = tui_form_new(title);
    form->profile = *p;
    form->check = tui_profile_check;
    form->submit = tui_profile_submit;
    tui_form_add(form, "name", "name", p->name);
    size_t n;
    const pvm_field *f = pvm_profile_fields(&n);
    for (size_t i = 0; i < n; i++)
        tui_form_add(form, f[i].flag, f[i].key, pvm_profile_field_cptr(p, &f[i]))->pf = &f[i];
    tui_form_add_choice(form, "hypervisor", "hideHypervisor", tui_hide_choices, 2,
                        p->hide_hypervisor ? 0 : 1);
    char names[256];
    pvm_error ignored = {0};
    int running = pvm_profile_running_vms(app->engine, p->id, names, sizeof names, &ignored);
    if (running > 0) /* said before the user types, and again on save */
        snprintf(form->error, sizeof form->error, "VM%s %s run%s with this profile: a change "
                 "applies at %s next start", running == 1 ? "" : "s", names,
                 running == 1 ? "s" : "", running == 1 ? "its" : "their");
    tui_modal_open(app, &form->m);
}

/* ------------------------------------------------------------ new VM */

static const char *const tui_bus_choices[] = {"virtio", "nvme", "sata"};
static const char *const tui_nic_choices[] = {"virtio", "e1000e"};
static const char *const tui_net_choices[] = {"user", "none"};
static const char *const tui_mode_choices[] = {"copy", "overlay"};
static const char *const tui_display_choices[] = {"auto", "none", "vnc"}; /* auto: vnc with an ISO */
static const char *const tui_display_edit_choices[] = {"none", "vnc"};
static const char *const tui_video_choices[] = {"ramfb", "cirrus", "vga", "virtio"};
/* the new form's: "auto" leaves it to the engine (pvm_video_default: per firmware) */
static const char *const tui_video_new_choices[] = {"auto", "ramfb", "cirrus", "vga", "virtio"};
static const char *const tui_firmware_choices[] = {"bios", "uefi", "uefi-secure"};
static const char *const tui_tpm_choices[] = {"off", "on"};

static const char *tui_vm_text(tui_form *form, const char *key)
{
    tui_ffield *ff = tui_form_find(form, key);
    return ff ? tui_ff_value(ff) : "";
}

/* The same rules as the command line's --cpus, --memory and --disk (base/numbers.c). */
static int tui_vm_cpus(const char *s, int *out, pvm_error *err)
{
    return pvm_int_parse("cpus", s, 1, 255, out, err);
}

/* Runs a parse and, when it fails, names the form field it concerns. */
static int tui_named(int rc, const char *key, pvm_error *err)
{
    if (rc < 0 && !err->field[0])
        pvm_strlcpy(err->field, key, sizeof err->field);
    return rc;
}

/* One field of the new-VM or vm edit form, by the engine's own rule for it (host files:
 * pvm_vm_file_check, what vm create and vm edit run). The edit form judges only what
 * was changed, as its save does (an ISO stored before and gone since is the save's to
 * report only if it is touched). */
static int tui_vm_check(tui_form *form, tui_ffield *ff, pvm_error *err)
{
    uint64_t sz;
    int cpus;
    const char *v = ff->edit.buf;
    if (ff->kind != TUI_FF_TEXT || (form->vm.id[0] && strcmp(v, ff->initial) == 0))
        return 0;
    if (ff->path)
        return pvm_vm_file_check(ff->key, v, err);
    if (strcmp(ff->key, "name") == 0)
        return pvm_validate_name("name", v, err);
    if (strcmp(ff->key, "cpus") == 0)
        return tui_vm_cpus(v, &cpus, err);
    if (strcmp(ff->key, "memory") == 0 && v[0])
        return pvm_memory_parse("memory", v, &sz, err);
    if (strcmp(ff->key, "disk") == 0 && v[0])
        return pvm_disk_parse("disk", v, &sz, err);
    if (strcmp(ff->key, "forward") == 0 && v[0] && strcmp(v, "none") != 0) {
        char canon[PVM_FORWARDS_MAX];
        return pvm_forwards_parse(v, canon, sizeof canon, err);
    }
    return 0;
}

/* Display, video, firmware and TPM from the form (the new form and the edit form). */
static int tui_vm_screen_opts(tui_form *form, bool *display_set, pvm_display *display,
                              bool *video_set, pvm_video *video, pvm_firmware *fw, bool *tpm,
                              pvm_error *err)
{
    const char *d = tui_vm_text(form, "display");
    *display_set = strcmp(d, "auto") != 0;
    if (*display_set && tui_named(pvm_display_parse(d, display, err), "display", err) < 0)
        return -1;
    const char *v = tui_vm_text(form, "video");
    *video_set = strcmp(v, "auto") != 0;
    if ((*video_set && tui_named(pvm_video_parse(v, video, err), "video", err) < 0) ||
        tui_named(pvm_firmware_parse(tui_vm_text(form, "firmware"), fw, err), "firmware",
                  err) < 0)
        return -1;
    *tpm = strcmp(tui_vm_text(form, "tpm"), "on") == 0;
    return 0;
}


/* Options from the form; each failure names its field. */
static int tui_vm_opts(tui_form *form, pvm_vm_opts *o, pvm_error *err)
{
    memset(o, 0, sizeof *o);
    const char *mem = tui_vm_text(form, "memory"), *disk = tui_vm_text(form, "disk");
    if (tui_vm_cpus(tui_vm_text(form, "cpus"), &o->cpus, err) < 0 ||
        (mem[0] && tui_named(pvm_memory_parse("memory", mem, &o->memory, err), "memory", err) < 0) ||
        (disk[0] && tui_named(pvm_disk_parse("disk", disk, &o->disk, err), "disk", err) < 0) ||
        tui_named(pvm_disk_bus_parse(tui_vm_text(form, "diskBus"), &o->disk_bus, err), "diskBus",
                  err) < 0 ||
        tui_named(pvm_nic_model_parse(tui_vm_text(form, "nic"), &o->nic, err), "nic", err) < 0 ||
        tui_named(pvm_net_mode_parse(tui_vm_text(form, "net"), &o->net, &o->bridge, err), "net", err) < 0)
        return -1;
    o->iso = tui_vm_text(form, "iso");
    o->image = tui_vm_text(form, "image");
    o->image_mode = strcmp(tui_vm_text(form, "imageMode"), "overlay") == 0 ? PVM_IMAGE_OVERLAY
                                                                             : PVM_IMAGE_COPY;
    o->kernel = tui_vm_text(form, "kernel");
    o->initrd = tui_vm_text(form, "initrd");
    const char *append = tui_vm_text(form, "append");
    o->append = append[0] ? append : NULL;
    const char *fwd = tui_vm_text(form, "forward");
    o->forwards = fwd[0] ? fwd : NULL;
    return tui_vm_screen_opts(form, &o->display_set, &o->display, &o->video_set, &o->video,
                              &o->firmware, &o->tpm, err);
}

/* "created" on the message line, or with the notes the command line prints as warnings
 * after vm create: vCPUs that contradict the profile's CPU (the 64-vCPU default cap among
 * them), a QEMU display adapter on a profile that hides the hypervisor. */
static void tui_vm_created_message(tui_app *app, const pvm_vm *vm)
{
    pvm_profile p;
    pvm_error ignored = {0};
    char cpus[512], video[512];
    bool have = pvm_profile_get(app->engine, vm->profile_id, &p, &ignored) == 0;
    bool nc = have && pvm_profile_vcpus_note(&p, vm->cpus, cpus, sizeof cpus);
    bool nv = have && pvm_video_mark_note(&p, vm->display, vm->video, video, sizeof video);
    if (!nc && !nv)
        tui_message(app, TUI_EL_OK, "VM '%s' created; s starts it", vm->name);
    else
        tui_message(app, TUI_EL_ERROR, "VM '%s' created; s starts it; warning: %s%s%s", vm->name,
                    nc ? cpus : "", nc && nv ? "; " : "", nv ? video : "");
}

static int tui_vm_submit(tui_form *form, tui_app *app, pvm_error *err)
{
    pvm_vm_opts o;
    const char *name = tui_vm_text(form, "name");
    if (pvm_validate_name("name", name, err) < 0) {
        pvm_strlcpy(err->field, "name", sizeof err->field);
        return -1;
    }
    if (tui_vm_opts(form, &o, err) < 0)
        return -1;
    tui_ffield *prof = tui_form_find(form, "profile");
    if (!prof || !prof->nchoices)
        return pvm_error_set_field(err, PVM_E_INVALID, "profile",
                                   "profile: make a profile first (Profiles pane, n)");
    pvm_vm vm;
    tui_message(app, TUI_EL_TEXT, "creating VM '%s' ...", name);
    if (pvm_vm_create(app->engine, name, tui_ff_value(prof), &o, &vm, err) < 0)
        return -1;
    tui_vm_created_message(app, &vm);
    tui_reload(app);
    /* select the new VM */
    for (size_t i = 0; i < app->lists[TUI_PANE_VMS].n; i++)
        if (strcmp(app->vms[app->lists[TUI_PANE_VMS].rows[i]].id, vm.id) == 0)
            app->lists[TUI_PANE_VMS].sel = (int)i;
    app->focus = TUI_PANE_VMS;
    app->dirty |= TUI_DIRTY_ALL;
    return 0;
}

void tui_vm_form_open(tui_app *app)
{
    tui_form *form = tui_form_new("New VM");
    form->check = tui_vm_check;
    form->submit = tui_vm_submit;
    form->names = pvm_xcalloc(app->nprofiles + 1, sizeof *form->names);
    form->nnames = app->nprofiles;
    size_t sel = 0;
    const pvm_profile_brief *cur = tui_selected_brief(app);
    for (size_t i = 0; i < app->nprofiles; i++) {
        form->names[i] = pvm_xstrdup(app->profiles[i].name); /* a reload frees app's copy */
        if (cur && strcmp(cur->id, app->profiles[i].id) == 0)
            sel = i;
    }
    tui_form_add(form, "name", "name", "");
    tui_form_add_choice(form, "profile", "profile", (const char *const *)form->names,
                        app->nprofiles, sel);
    tui_form_add(form, "vCPUs", "cpus", "1");
    tui_form_add(form, "memory", "memory", "1G");
    tui_form_add(form, "disk size", "disk", "50G");
    tui_form_add_choice(form, "disk bus", "diskBus", tui_bus_choices, 3, 0);
    tui_form_add_choice(form, "NIC", "nic", tui_nic_choices, 2, 0);
    tui_form_add_choice(form, "network", "net", tui_net_choices, 2, 0);
    tui_form_add(form, "ISO", "iso", "")->path = true;
    tui_form_add(form, "image", "image", "")->path = true;
    tui_form_add_choice(form, "image mode", "imageMode", tui_mode_choices, 2, 0);
    tui_form_add(form, "kernel", "kernel", "")->path = true;
    tui_form_add(form, "initrd", "initrd", "")->path = true;
    tui_form_add(form, "append", "append", "");
    tui_form_add_choice(form, "display", "display", tui_display_choices, 3, 0);
    tui_form_add_choice(form, "video", "video", tui_video_new_choices, 5, 0);
    tui_form_add_choice(form, "firmware", "firmware", tui_firmware_choices, 3, 0);
    tui_form_add_choice(form, "TPM", "tpm", tui_tpm_choices, 2, 0);
    tui_form_add(form, "forwards", "forward", "");
    tui_modal_open(app, &form->m);
}

/* ------------------------------------------------------------ vm edit */

static size_t tui_choice_of(const char *const *choices, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(choices[i], name) == 0)
            return i;
    return 0;
}

/* The field's text differs from what the form opened with: only changed fields
 * become changes, so a value shown rounded ("1.5G") is
 * never written back. */
static bool tui_edit_changed(tui_form *form, const char *key, const char *was)
{
    return strcmp(tui_vm_text(form, key), was) != 0;
}

static int tui_vm_edit_submit(tui_form *form, tui_app *app, pvm_error *err)
{
    const pvm_vm *old = &form->vm;
    pvm_vm_changes c;
    memset(&c, 0, sizeof c);
    char mem[32], disk[32], cpus[16];
    snprintf(cpus, sizeof cpus, "%d", old->cpus);
    pvm_size_format(old->memory_bytes, mem, sizeof mem);
    pvm_size_format(old->disk_bytes, disk, sizeof disk);
    if ((tui_edit_changed(form, "cpus", cpus) &&
         tui_named(tui_vm_cpus(tui_vm_text(form, "cpus"), &c.cpus, err), "cpus", err) < 0) ||
        (tui_edit_changed(form, "memory", mem) &&
         tui_named(pvm_memory_parse("memory", tui_vm_text(form, "memory"), &c.memory, err),
                   "memory", err) < 0) ||
        (tui_edit_changed(form, "disk", disk) &&
         tui_named(pvm_disk_parse("disk", tui_vm_text(form, "disk"), &c.disk, err), "disk",
                   err) < 0))
        return -1;
    if (tui_edit_changed(form, "nic", pvm_nic_model_name(old->nic))) {
        if (tui_named(pvm_nic_model_parse(tui_vm_text(form, "nic"), &c.nic, err), "nic", err) < 0)
            return -1;
        c.nic_set = true;
    }
    if (tui_edit_changed(form, "iso", old->iso)) {
        const char *iso = tui_vm_text(form, "iso");
        c.iso = iso[0] ? iso : "none";
    }
    if (tui_edit_changed(form, "profile", tui_form_find(form, "profile")->edit.buf))
        c.profile = tui_vm_text(form, "profile");
    bool dset, vset, tpm;
    pvm_display d;
    pvm_video v;
    pvm_firmware fw;
    if (tui_vm_screen_opts(form, &dset, &d, &vset, &v, &fw, &tpm, err) < 0)
        return -1;
    c.display_set = d != old->display;
    c.display = d;
    c.video_set = v != old->video;
    c.video = v;
    c.firmware_set = fw != old->firmware;
    c.firmware = fw;
    c.tpm_set = tpm != old->tpm;
    c.tpm = tpm;
    if (tui_edit_changed(form, "forward", old->forwards)) {
        const char *fwd = tui_vm_text(form, "forward");
        c.forwards = fwd[0] ? fwd : "none";
    }
    pvm_vm after;
    if (pvm_vm_edit(app->engine, old->id, &c, &after, err) < 0)
        return -1;
    char m[32], dk[32];
    tui_message(app, TUI_EL_OK, "VM '%s' edited: %d vCPU, %s memory, %s disk, display %s%s",
                after.name, after.cpus, pvm_size_format(after.memory_bytes, m, sizeof m),
                pvm_size_format(after.disk_bytes, dk, sizeof dk), pvm_display_name(after.display),
                strcmp(after.profile_id, old->profile_id) != 0
                    ? "; it wears another identity now (the guest sees a new machine)" : "");
    tui_reload(app);
    return 0;
}

void tui_vm_edit_form_open(tui_app *app, const pvm_vm *vm)
{
    char title[96], buf[32];
    snprintf(title, sizeof title, "Edit VM %s", vm->name);
    tui_form *form = tui_form_new(title);
    form->vm = *vm;
    form->check = tui_vm_check;
    form->submit = tui_vm_edit_submit;
    form->names = pvm_xcalloc(app->nprofiles + 1, sizeof *form->names);
    form->nnames = app->nprofiles;
    size_t sel = 0;
    for (size_t i = 0; i < app->nprofiles; i++) {
        form->names[i] = pvm_xstrdup(app->profiles[i].name);
        if (strcmp(vm->profile_id, app->profiles[i].id) == 0)
            sel = i;
    }
    tui_ffield *prof = tui_form_add_choice(form, "profile", "profile",
                                           (const char *const *)form->names, app->nprofiles, sel);
    /* the profile it wears now, to tell a change (the edit buffer is unused by choices) */
    tui_edit_set(&prof->edit, app->nprofiles ? form->names[sel] : "");
    snprintf(buf, sizeof buf, "%d", vm->cpus);
    tui_form_add(form, "vCPUs", "cpus", buf);
    tui_form_add(form, "memory", "memory", pvm_size_format(vm->memory_bytes, buf, sizeof buf));
    tui_form_add(form, "disk size", "disk", pvm_size_format(vm->disk_bytes, buf, sizeof buf));
    tui_form_add_choice(form, "NIC", "nic", tui_nic_choices, 2,
                        tui_choice_of(tui_nic_choices, 2, pvm_nic_model_name(vm->nic)));
    tui_form_add(form, "ISO", "iso", vm->iso)->path = true;
    tui_form_add_choice(form, "display", "display", tui_display_edit_choices, 2,
                        vm->display == PVM_DISPLAY_VNC ? 1 : 0);
    tui_form_add_choice(form, "video", "video", tui_video_choices, 4,
                        tui_choice_of(tui_video_choices, 4, pvm_video_name(vm->video)));
    tui_form_add_choice(form, "firmware", "firmware", tui_firmware_choices, 3,
                        tui_choice_of(tui_firmware_choices, 3, pvm_firmware_name(vm->firmware)));
    tui_form_add_choice(form, "TPM", "tpm", tui_tpm_choices, 2, vm->tpm ? 1 : 0);
    tui_form_add(form, "forwards", "forward", vm->forwards);
    tui_modal_open(app, &form->m);
}

/* ------------------------------------------------------------ install */

static int tui_install_check(tui_form *form, tui_ffield *ff, pvm_error *err)
{
    const char *file = tui_vm_text(form, "FILE"), *to = tui_vm_text(form, "to"),
               *run = tui_vm_text(form, "run");
    if (strcmp(ff->key, "FILE") != 0 && !file[0])
        return 0; /* --to and --run are judged once there is a file */
    pvm_install_opts o = {to[0] ? to : NULL, run[0] ? run : NULL, 0};
    return pvm_install_check(file, &o, err);
}

static int tui_install_form_submit(tui_form *form, tui_app *app, pvm_error *err)
{
    return tui_install_submit(app, form->vm.name, tui_vm_text(form, "FILE"),
                              tui_vm_text(form, "to"), tui_vm_text(form, "run"), err);
}

void tui_install_form_open(tui_app *app, const pvm_vm *vm)
{
    char title[96];
    snprintf(title, sizeof title, "Install a host file into %s", vm->name);
    tui_form *form = tui_form_new(title);
    form->vm = *vm;
    form->check = tui_install_check;
    form->submit = tui_install_form_submit;
    tui_form_add(form, "host file", "FILE", "")->path = true;
    tui_form_add(form, "--to", "to", "");
    tui_form_add(form, "--run", "run", "");
    tui_modal_open(app, &form->m);
}
