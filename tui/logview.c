/* logview.c - the serial log viewer (l on a VM): the console output of the
 * VM's current or last boot, scrollable, following new lines while the view
 * is at the bottom. Reads the file the engine names; opened by actions.c. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define TUI_LOG_MAX (4u << 20) /* keep at most the last 4 MiB */

typedef struct tui_logview {
    tui_modal m;
    char vm[PVM_NAME_MAX + 1];
    char path[PVM_PATH_MAX];
    char *text;       /* what was read, cleaned: printable ASCII and '\n' */
    size_t len;
    off_t offset;     /* bytes of the file consumed */
    char **lines;     /* pointers into text */
    size_t nlines, cap;
    int top;
    bool follow;
    bool in_escape;   /* inside an ANSI escape sequence across reads */
    char anchor[64];  /* while following: stop at the first line starting with it */
} tui_logview;

/* Appends raw bytes, dropping '\r', ANSI escape sequences and other control bytes. */
static void tui_log_append(tui_logview *v, const char *buf, size_t n)
{
    v->text = pvm_xrealloc(v->text, v->len + n + 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)buf[i];
        if (v->in_escape) {
            if ((c >= '@' && c <= '~' && c != '[') || c == '\n')
                v->in_escape = false;
            continue;
        }
        if (c == 0x1b) {
            v->in_escape = true;
            continue;
        }
        if (c == '\t')
            c = ' ';
        if (c == '\n' || (c >= 0x20 && c < 0x7f))
            v->text[v->len++] = (char)c;
    }
    v->text[v->len] = '\0';
}

static void tui_log_split(tui_logview *v)
{
    v->nlines = 0;
    char *p = v->text;
    while (p && *p) {
        if (v->nlines == v->cap) {
            v->cap = v->cap ? v->cap * 2 : 256;
            v->lines = pvm_xrealloc(v->lines, v->cap * sizeof *v->lines);
        }
        v->lines[v->nlines++] = p;
        char *nl = strchr(p, '\n');
        if (!nl)
            break;
        p = nl + 1;
    }
}

static int tui_log_height(void)
{
    return LINES - 4;
}

/* Reads what the file gained; starts over when it shrank (a new boot). */
static bool tui_log_read(tui_logview *v)
{
    struct stat st;
    if (stat(v->path, &st) < 0 || st.st_size == v->offset)
        return false;
    if (st.st_size < v->offset) {
        v->len = 0;
        v->offset = 0;
    }
    FILE *f = fopen(v->path, "re");
    if (!f)
        return false;
    if (st.st_size - v->offset > (off_t)TUI_LOG_MAX)
        v->offset = st.st_size - (off_t)TUI_LOG_MAX;
    fseeko(f, v->offset, SEEK_SET);
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        tui_log_append(v, buf, n);
        v->offset += (off_t)n;
    }
    fclose(f);
    if (v->len > TUI_LOG_MAX) { /* drop the oldest half */
        size_t cut = v->len - TUI_LOG_MAX / 2;
        memmove(v->text, v->text + cut, v->len - cut + 1);
        v->len -= cut;
    }
    tui_log_split(v);
    return true;
}

static int tui_log_max_top(const tui_logview *v)
{
    int m = (int)v->nlines - tui_log_height();
    return m < 0 ? 0 : m;
}

static void tui_log_draw(tui_modal *m, tui_app *app)
{
    tui_logview *v = (tui_logview *)m;
    tui_rect r = {1, 0, LINES - 2, COLS};
    char title[PVM_NAME_MAX + 64];
    snprintf(title, sizeof title, "Serial log of %s%s", v->vm, v->follow ? " (following)" : "");
    tui_draw_clear(r);
    tui_draw_box(app, r, title, true);
    int h = tui_log_height();
    if (v->follow)
        v->top = tui_log_max_top(v);
    int t = tui_theme_attr(TUI_EL_TEXT);
    for (int i = 0; i < h && (size_t)(v->top + i) < v->nlines; i++) {
        const char *line = v->lines[v->top + i];
        const char *nl = strchr(line, '\n');
        int len = nl ? (int)(nl - line) : (int)strlen(line);
        int w = r.w - 4 < len ? r.w - 4 : len;
        tui_draw_text(r.y + 1 + i, r.x + 2, w, t, line);
    }
    if (!v->nlines)
        tui_draw_text(r.y + 1, r.x + 2, r.w - 4, tui_theme_attr(TUI_EL_DIM),
                      "no console output yet (a booting guest needs a few seconds; a guest prints "
                      "here only with a serial console, e.g. console=ttyS0)");
    const char *hints[] = {"Up/Down", "scroll", "PgUp/PgDn", "page", "g/G", "top/bottom (G follows)",
                           "q/Esc", "close"};
    tui_draw_hints(r.y + r.h - 1, r.x + 2, r.w - 4, hints, 4);
}

static tui_modal_result tui_log_key(tui_modal *m, tui_app *app, int ch)
{
    tui_logview *v = (tui_logview *)m;
    int h = tui_log_height(), top = v->top, max = tui_log_max_top(v);
    switch (ch) {
    case 'q':
    case 27:
    case 'l':
        return TUI_MODAL_CLOSE;
    case KEY_UP:
    case 'k':
        top--;
        break;
    case KEY_DOWN:
    case 'j':
        top++;
        break;
    case KEY_PPAGE:
        top -= h;
        break;
    case KEY_NPAGE:
    case ' ':
        top += h;
        break;
    case KEY_HOME:
    case 'g':
        top = 0;
        break;
    case KEY_END:
    case 'G':
        top = max;
        break;
    default:
        return TUI_MODAL_KEEP;
    }
    v->top = top < 0 ? 0 : top > max ? max : top;
    v->follow = v->top >= max;
    app->dirty |= TUI_DIRTY_MODAL;
    return TUI_MODAL_KEEP;
}

/* The anchor line, once it is there, goes to the top and the view stays put. */
static void tui_log_find_anchor(tui_logview *v)
{
    if (!v->anchor[0] || !v->follow)
        return;
    size_t alen = strlen(v->anchor);
    for (size_t i = 0; i < v->nlines; i++) {
        if (strncmp(v->lines[i], v->anchor, alen) == 0) {
            v->top = (int)i;
            v->follow = false;
            v->anchor[0] = '\0';
            return;
        }
    }
}

static void tui_log_tick(tui_modal *m, tui_app *app)
{
    tui_logview *v = (tui_logview *)m;
    if (tui_log_read(v)) {
        tui_log_find_anchor(v);
        app->dirty |= TUI_DIRTY_MODAL;
    }
}

static void tui_log_free(tui_modal *m)
{
    tui_logview *v = (tui_logview *)m;
    free(v->text);
    free(v->lines);
    free(v);
}

void tui_log_open(tui_app *app, const pvm_vm *vm)
{
    tui_log_open_at(app, vm, NULL);
}

void tui_log_open_at(tui_app *app, const pvm_vm *vm, const char *anchor)
{
    pvm_error err = {0};
    tui_logview *v = pvm_xcalloc(1, sizeof *v);
    if (pvm_vm_path(app->engine, vm, PVM_VM_PATH_SERIAL_LOG, v->path, sizeof v->path, &err) < 0) {
        free(v);
        tui_message_error(app, &err);
        return;
    }
    v->m = (tui_modal){tui_log_draw, tui_log_key, tui_log_tick, tui_log_free, false};
    pvm_strlcpy(v->vm, vm->name, sizeof v->vm);
    v->follow = true;
    pvm_strlcpy(v->anchor, anchor ? anchor : "", sizeof v->anchor);
    tui_log_append(v, "", 0);
    tui_log_read(v);
    tui_log_find_anchor(v);
    tui_modal_open(app, &v->m);
}
