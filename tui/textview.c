/* textview.c - a scrollable read-only text window over the panes: lines each with
 * its theme element (an audit's mismatches in the error colour), Up/Down/PgUp/PgDn
 * and Left/Right to scroll, q/Esc/Enter to close. vmwork.c opens it with an
 * install's result, an audit's table and vm display's instructions. */
#include "internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct tui_textview {
    tui_modal m;
    char title[96];
    tui_text *text;
    int top, left;
} tui_textview;

tui_text *tui_text_new(void)
{
    return pvm_xcalloc(1, sizeof(tui_text));
}

void tui_text_free(tui_text *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++)
        free(t->lines[i]);
    free(t->lines);
    free(t->els);
    free(t);
}

void tui_text_add(tui_text *t, tui_element el, const char *fmt, ...)
{
    va_list ap, again;
    va_start(ap, fmt);
    va_copy(again, ap);
    int len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = pvm_xmalloc(len > 0 ? (size_t)len + 1 : 1);
    s[0] = '\0';
    if (len > 0)
        vsnprintf(s, (size_t)len + 1, fmt, again);
    va_end(again);
    /* a line per '\n' of the text: a guest's output keeps its lines */
    for (char *p = s, *nl;; p = nl + 1) {
        nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        t->lines = pvm_xrealloc(t->lines, (t->n + 1) * sizeof *t->lines);
        t->els = pvm_xrealloc(t->els, (t->n + 1) * sizeof *t->els);
        t->lines[t->n] = pvm_xstrdup(p);
        t->els[t->n++] = el;
        if (!nl)
            break;
    }
    free(s);
}


static void tui_textview_draw(tui_modal *m, tui_app *app)
{
    tui_textview *v = (tui_textview *)m;
    int widest = 0;
    for (size_t i = 0; i < v->text->n; i++) {
        int w = tui_text_width(v->text->lines[i]);
        widest = w > widest ? w : widest;
    }
    tui_rect r = tui_draw_dialog(app, (int)v->text->n + 4, widest + 6 > 60 ? widest + 6 : 60,
                                 v->title);
    if (!r.h)
        return;
    int rows = r.h - 3, max = (int)v->text->n - rows;
    v->top = v->top > max ? (max > 0 ? max : 0) : v->top;
    int maxl = widest - (r.w - 4);
    v->left = v->left > maxl ? (maxl > 0 ? maxl : 0) : v->left;
    for (int i = 0; i < rows && (size_t)(v->top + i) < v->text->n; i++) {
        size_t k = (size_t)(v->top + i);
        tui_draw_text(r.y + 1 + i, r.x + 2, r.w - 4, tui_theme_attr(v->text->els[k]),
                      tui_skip_cols(v->text->lines[k], v->left));
    }
    char where[48];
    snprintf(where, sizeof where, "%d-%d of %zu", v->text->n ? v->top + 1 : 0,
             v->top + rows < (int)v->text->n ? v->top + rows : (int)v->text->n, v->text->n);
    /* Left/Right only when a line is wider than the window (then the position goes in
     * the hints, else at the right) */
    const char *wide[] = {"Up/Down/PgUp/PgDn", "scroll", "Left/Right", "scroll sideways",
                          "q/Esc", "close", where, ""};
    const char *narrow[] = {"Up/Down/PgUp/PgDn", "scroll", "q/Esc", "close"};
    if (maxl > 0)
        tui_draw_hints(r.y + r.h - 2, r.x + 2, r.w - 4, wide, 4);
    else
        tui_draw_hints(r.y + r.h - 2, r.x + 2, r.w - 4, narrow, 2);
    if (maxl <= 0)
        tui_draw_text(r.y + r.h - 2, r.x + r.w - 2 - (int)strlen(where), (int)strlen(where),
                      tui_theme_attr(TUI_EL_DIM), where);
}

static tui_modal_result tui_textview_key(tui_modal *m, tui_app *app, int ch)
{
    tui_textview *v = (tui_textview *)m;
    int page = LINES > 8 ? LINES - 8 : 1;
    app->dirty |= TUI_DIRTY_MODAL;
    switch (ch) {
    case KEY_UP:
    case 'k':
        v->top = v->top > 0 ? v->top - 1 : 0;
        break;
    case KEY_DOWN:
    case 'j':
        v->top++;
        break;
    case KEY_PPAGE:
        v->top = v->top > page ? v->top - page : 0;
        break;
    case KEY_NPAGE:
    case ' ':
        v->top += page;
        break;
    case KEY_HOME:
    case 'g':
        v->top = 0;
        break;
    case KEY_END:
    case 'G':
        v->top = (int)v->text->n;
        break;
    case KEY_LEFT:
        v->left = v->left > 8 ? v->left - 8 : 0;
        break;
    case KEY_RIGHT:
        v->left += 8;
        break;
    case 'q':
    case 27:
    case '\n':
    case '\r':
    case KEY_ENTER:
        return TUI_MODAL_CLOSE;
    default:
        break;
    }
    return TUI_MODAL_KEEP;
}

static void tui_textview_free(tui_modal *m)
{
    tui_textview *v = (tui_textview *)m;
    tui_text_free(v->text);
    free(v);
}

void tui_text_open(tui_app *app, const char *title, tui_text *t)
{
    tui_textview *v = pvm_xcalloc(1, sizeof *v);
    v->m = (tui_modal){tui_textview_draw, tui_textview_key, NULL, tui_textview_free, false};
    pvm_strlcpy(v->title, title, sizeof v->title);
    v->text = t;
    tui_modal_open(app, &v->m);
}
