/* dialog.c - the small modal windows: a yes/no confirmation, a one-line text
 * prompt, the searchable preset picker, and the line editor (tui_edit) that
 * the prompt and the forms (form.c) share. Opened by actions.c and form.c. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CTRL(c) ((c) & 0x1f)

/* ------------------------------------------------------------ line editor */

void tui_edit_set(tui_edit *e, const char *s)
{
    e->len = pvm_strlcpy(e->buf, s ? s : "", sizeof e->buf);
    if (e->len >= sizeof e->buf)
        e->len = sizeof e->buf - 1;
    e->cur = e->len;
    e->scroll = 0;
}

bool tui_edit_key(tui_edit *e, int ch)
{
    switch (ch) {
    case KEY_LEFT:
        if (e->cur)
            e->cur--;
        return true;
    case KEY_RIGHT:
        if (e->cur < e->len)
            e->cur++;
        return true;
    case KEY_HOME:
    case CTRL('a'):
        e->cur = 0;
        return true;
    case KEY_END:
    case CTRL('e'):
        e->cur = e->len;
        return true;
    case KEY_BACKSPACE:
    case 127:
    case CTRL('h'):
        if (!e->cur)
            return true;
        memmove(e->buf + e->cur - 1, e->buf + e->cur, e->len - e->cur + 1);
        e->cur--;
        e->len--;
        return true;
    case KEY_DC:
    case CTRL('d'):
        if (e->cur < e->len) {
            memmove(e->buf + e->cur, e->buf + e->cur + 1, e->len - e->cur);
            e->len--;
        }
        return true;
    case CTRL('u'):
        tui_edit_set(e, "");
        return true;
    case CTRL('k'):
        e->buf[e->cur] = '\0';
        e->len = e->cur;
        return true;
    default:
        if (ch < 0x20 || ch > 0x7e || e->len + 1 >= sizeof e->buf)
            return false;
        memmove(e->buf + e->cur + 1, e->buf + e->cur, e->len - e->cur + 1);
        e->buf[e->cur++] = (char)ch;
        e->len++;
        return true;
    }
}

void tui_edit_draw(tui_edit *e, int y, int x, int w, int attr, bool focus, int *cy, int *cx)
{
    if (w < 2)
        return;
    if ((int)e->cur < e->scroll)
        e->scroll = (int)e->cur;
    if ((int)e->cur >= e->scroll + w)
        e->scroll = (int)e->cur - w + 1;
    tui_draw_fill(y, x, w, attr);
    tui_draw_text(y, x, w, attr, e->buf + e->scroll);
    if (focus && cy && cx) {
        *cy = y;
        *cx = x + (int)e->cur - e->scroll;
    }
}

/* ------------------------------------------------------------ confirmation */

typedef struct tui_confirm_modal {
    tui_modal m;
    char title[64];
    char question[512];
    char arg[PVM_PATH_MAX];
    void (*on_yes)(tui_app *app, const char *arg);
} tui_confirm_modal;

static void tui_confirm_draw(tui_modal *m, tui_app *app)
{
    tui_confirm_modal *c = (tui_confirm_modal *)m;
    /* one line when it fits, else wrapped over up to 4 rows (the dialog grows) */
    int w = (int)strlen(c->question) + 6;
    w = w < 40 ? 40 : w > 90 ? 90 : w;
    w = w > COLS - 2 ? COLS - 2 : w;
    size_t starts[4], lens[4];
    size_t n = tui_wrap(c->question, w - 4, starts, lens, 4);
    n = n > 4 ? 4 : n < 1 ? 1 : n;
    tui_rect r = tui_draw_dialog(app, 5 + (int)n, w, c->title);
    if (!r.h)
        return;
    for (size_t i = 0; i < n && c->question[0]; i++) {
        char line[sizeof c->question];
        snprintf(line, sizeof line, "%.*s", (int)lens[i], c->question + starts[i]);
        tui_draw_text(r.y + 2 + (int)i, r.x + 2, r.w - 4, tui_theme_attr(TUI_EL_TEXT), line);
    }
    const char *hints[] = {"y", "yes", "n/Esc", "no"};
    tui_draw_hints(r.y + r.h - 2, r.x + 2, r.w - 4, hints, 2);
}

static tui_modal_result tui_confirm_key(tui_modal *m, tui_app *app, int ch)
{
    tui_confirm_modal *c = (tui_confirm_modal *)m;
    if (ch == 'y' || ch == 'Y') {
        void (*fn)(tui_app *, const char *) = c->on_yes;
        char arg[sizeof c->arg];
        pvm_strlcpy(arg, c->arg, sizeof arg);
        tui_modal_open(app, NULL); /* frees c */
        fn(app, arg);
        return TUI_MODAL_KEEP;
    }
    if (ch == 'n' || ch == 'N' || ch == 27 || ch == 'q')
        return TUI_MODAL_CLOSE;
    return TUI_MODAL_KEEP;
}

static void tui_free_plain(tui_modal *m)
{
    free(m);
}

void tui_confirm(tui_app *app, const char *title, const char *question,
                 void (*on_yes)(tui_app *app, const char *arg), const char *arg)
{
    tui_confirm_modal *c = pvm_xcalloc(1, sizeof *c);
    c->m = (tui_modal){tui_confirm_draw, tui_confirm_key, NULL, tui_free_plain, false};
    pvm_strlcpy(c->title, title, sizeof c->title);
    pvm_strlcpy(c->question, question, sizeof c->question);
    pvm_strlcpy(c->arg, arg ? arg : "", sizeof c->arg);
    c->on_yes = on_yes;
    tui_modal_open(app, &c->m);
}

/* ------------------------------------------------------------ text prompt */

typedef struct tui_prompt_modal {
    tui_modal m;
    char title[64];
    char label[256];
    char arg[PVM_PATH_MAX];
    tui_edit edit;
    int (*check)(const char *text, pvm_error *err); /* NULL: any text */
    char error[256];                                /* check's last complaint, "" none */
    void (*on_done)(tui_app *app, const char *text, const char *arg);
} tui_prompt_modal;

static void tui_prompt_draw(tui_modal *m, tui_app *app)
{
    tui_prompt_modal *p = (tui_prompt_modal *)m;
    /* the check's error wrapped under the text: the dialog grows by its extra rows */
    int w = COLS - 2 < 72 ? COLS - 2 : 72;
    size_t starts[3], lens[3];
    size_t ne = p->error[0] ? tui_wrap(p->error, w - 4, starts, lens, 3) : 0;
    ne = ne > 3 ? 3 : ne;
    tui_rect r = tui_draw_dialog(app, 7 + (ne > 1 ? (int)ne - 1 : 0), 72, p->title);
    if (!r.h)
        return;
    int cy = -1, cx = -1;
    tui_draw_text(r.y + 2, r.x + 2, r.w - 4, tui_theme_attr(TUI_EL_TEXT), p->label);
    tui_edit_draw(&p->edit, r.y + 3, r.x + 2, r.w - 4, tui_theme_attr(TUI_EL_INPUT), true, &cy,
                  &cx);
    for (size_t i = 0; i < ne; i++) {
        char line[sizeof p->error];
        snprintf(line, sizeof line, "%.*s", (int)lens[i], p->error + starts[i]);
        tui_draw_text(r.y + 4 + (int)i, r.x + 2, r.w - 4, tui_theme_attr(TUI_EL_ERROR), line);
    }
    const char *hints[] = {"Enter", "ok", "Esc", "cancel", "Ctrl-U", "clear"};
    tui_draw_hints(r.y + r.h - 2, r.x + 2, r.w - 4, hints, 3);
    if (cy >= 0)
        move(cy, cx);
}

static tui_modal_result tui_prompt_key(tui_modal *m, tui_app *app, int ch)
{
    tui_prompt_modal *p = (tui_prompt_modal *)m;
    if (ch == 27)
        return TUI_MODAL_CLOSE;
    if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
        char text[sizeof p->edit.buf], arg[sizeof p->arg];
        void (*fn)(tui_app *, const char *, const char *) = p->on_done;
        pvm_error err = {0};
        app->dirty |= TUI_DIRTY_MODAL;
        if (p->check && p->check(p->edit.buf, &err) < 0) { /* stays open, the error under it */
            pvm_strlcpy(p->error, err.msg, sizeof p->error);
            return TUI_MODAL_KEEP;
        }
        pvm_strlcpy(text, p->edit.buf, sizeof text);
        pvm_strlcpy(arg, p->arg, sizeof arg);
        tui_modal_open(app, NULL);
        fn(app, text, arg);
        return TUI_MODAL_KEEP;
    }
    size_t len = p->edit.len;
    if (tui_edit_key(&p->edit, ch) && p->edit.len != len)
        p->error[0] = '\0'; /* the text changed: the complaint was about the old one */
    app->dirty |= TUI_DIRTY_MODAL;
    return TUI_MODAL_KEEP;
}

void tui_prompt(tui_app *app, const char *title, const char *label, const char *initial,
                void (*on_done)(tui_app *app, const char *text, const char *arg), const char *arg)
{
    tui_prompt_checked(app, title, label, initial, NULL, on_done, arg);
}

void tui_prompt_checked(tui_app *app, const char *title, const char *label,
                        const char *initial, int (*check)(const char *text, pvm_error *err),
                        void (*on_done)(tui_app *app, const char *text, const char *arg),
                        const char *arg)
{
    tui_prompt_modal *p = pvm_xcalloc(1, sizeof *p);
    p->check = check;
    p->m = (tui_modal){tui_prompt_draw, tui_prompt_key, NULL, tui_free_plain, true};
    pvm_strlcpy(p->title, title, sizeof p->title);
    pvm_strlcpy(p->label, label, sizeof p->label);
    pvm_strlcpy(p->arg, arg ? arg : "", sizeof p->arg);
    tui_edit_set(&p->edit, initial);
    p->on_done = on_done;
    tui_modal_open(app, &p->m);
}

/* ------------------------------------------------------------ preset picker */

typedef struct tui_picker {
    tui_modal m;
    tui_edit search;
    const pvm_preset *presets;
    size_t npresets;
    long *rows;   /* -1: "random identity, no preset"; else a preset index */
    size_t n;
    int sel, top;
    int keyw;     /* the longest preset key: the descriptions line up after it */
    void (*on_pick)(tui_app *app, const pvm_preset *preset);
} tui_picker;

static bool tui_preset_matches(const pvm_preset *p, const char *q)
{
    return !q[0] || strcasestr(p->key, q) || strcasestr(p->description, q) ||
           strcasestr(p->hw.manufacturer, q) || strcasestr(p->hw.product, q);
}

static void tui_picker_filter(tui_picker *k)
{
    k->n = 0;
    if (!k->search.buf[0] || strcasestr("random identity", k->search.buf))
        k->rows[k->n++] = -1;
    for (size_t i = 0; i < k->npresets; i++)
        if (tui_preset_matches(&k->presets[i], k->search.buf))
            k->rows[k->n++] = (long)i;
    if (k->sel >= (int)k->n)
        k->sel = (int)k->n - 1;
    if (k->sel < 0)
        k->sel = 0;
}

static void tui_picker_draw(tui_modal *m, tui_app *app)
{
    tui_picker *k = (tui_picker *)m;
    tui_rect r = tui_draw_dialog(app, LINES - 4, 96, "New profile: pick a preset");
    if (!r.h)
        return;
    int cy = -1, cx = -1;
    tui_draw_text(r.y + 1, r.x + 2, 8, tui_theme_attr(TUI_EL_DIM), "search:");
    tui_edit_draw(&k->search, r.y + 1, r.x + 10, r.w - 12, tui_theme_attr(TUI_EL_INPUT), true,
                  &cy, &cx);
    int h = r.h - 4;
    k->top = tui_layout_scroll(k->top, k->sel, (int)k->n, h);
    for (int i = 0; i < h && (size_t)(k->top + i) < k->n; i++) {
        int idx = k->top + i;
        long p = k->rows[idx];
        char line[256];
        if (p < 0)
            snprintf(line, sizeof line, "%-*s  %s", k->keyw, "(random)",
                     "random model (a preset's) and random identity");
        else
            snprintf(line, sizeof line, "%-*s  %s", k->keyw, k->presets[p].key,
                     k->presets[p].description);
        int a = tui_theme_attr(idx == k->sel ? TUI_EL_SELECTED : TUI_EL_TEXT);
        tui_draw_fill(r.y + 2 + i, r.x + 1, r.w - 2, a);
        tui_draw_text(r.y + 2 + i, r.x + 2, r.w - 4, a, line);
    }
    if (!k->n)
        tui_draw_text(r.y + 2, r.x + 2, r.w - 4, tui_theme_attr(TUI_EL_DIM), "no preset matches");
    const char *hints[] = {"type", "search", "Up/Down", "select", "Enter", "pick", "Esc", "cancel"};
    tui_draw_hints(r.y + r.h - 2, r.x + 2, r.w - 4, hints, 4);
    if (cy >= 0)
        move(cy, cx);
}

static tui_modal_result tui_picker_key(tui_modal *m, tui_app *app, int ch)
{
    tui_picker *k = (tui_picker *)m;
    app->dirty |= TUI_DIRTY_MODAL;
    switch (ch) {
    case 27:
        return TUI_MODAL_CLOSE;
    case KEY_UP:
        k->sel = k->sel > 0 ? k->sel - 1 : 0;
        return TUI_MODAL_KEEP;
    case KEY_DOWN:
        k->sel = k->sel + 1 < (int)k->n ? k->sel + 1 : k->sel;
        return TUI_MODAL_KEEP;
    case KEY_PPAGE:
        k->sel = k->sel > 10 ? k->sel - 10 : 0;
        return TUI_MODAL_KEEP;
    case KEY_NPAGE:
        k->sel = k->sel + 10 < (int)k->n ? k->sel + 10 : (int)k->n - 1;
        return TUI_MODAL_KEEP;
    case '\n':
    case '\r':
    case KEY_ENTER: {
        if (!k->n)
            return TUI_MODAL_KEEP;
        long p = k->rows[k->sel];
        const pvm_preset *preset = p < 0 ? NULL : &k->presets[p];
        void (*fn)(tui_app *, const pvm_preset *) = k->on_pick;
        tui_modal_open(app, NULL);
        fn(app, preset);
        return TUI_MODAL_KEEP;
    }
    default:
        if (tui_edit_key(&k->search, ch))
            tui_picker_filter(k);
        return TUI_MODAL_KEEP;
    }
}

static void tui_picker_free(tui_modal *m)
{
    tui_picker *k = (tui_picker *)m;
    free(k->rows);
    free(k);
}

void tui_preset_picker(tui_app *app, void (*on_pick)(tui_app *app, const pvm_preset *preset))
{
    tui_picker *k = pvm_xcalloc(1, sizeof *k);
    k->m = (tui_modal){tui_picker_draw, tui_picker_key, NULL, tui_picker_free, true};
    k->presets = pvm_presets(&k->npresets);
    k->rows = pvm_xcalloc(k->npresets + 1, sizeof *k->rows);
    k->keyw = 8;
    for (size_t i = 0; i < k->npresets; i++)
        if ((int)strlen(k->presets[i].key) > k->keyw)
            k->keyw = (int)strlen(k->presets[i].key);
    k->on_pick = on_pick;
    tui_edit_set(&k->search, "");
    tui_picker_filter(k);
    tui_modal_open(app, &k->m);
}
