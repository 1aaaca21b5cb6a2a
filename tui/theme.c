/* theme.c - the TUI's colours (tui/theme.h): loads a theme file over the built-in
 * default, turns each element's style into a curses attribute for what the terminal
 * offers (256 -> 16 -> 8 -> none, NO_COLOR), and cycles themes (T). UI thread only. */
#include "theme.h"
#include "theme_parse.h"

#include <curses.h>
#include <stdlib.h>
#include <string.h>

#define D PVM_COLOR_DEFAULT

static const char *const tui_element_names[TUI_EL_COUNT] = {
    "header",        "title",         "title_focus",   "border",         "border_focus",
    "selected",      "text",          "dim",           "state_running",  "state_stopped",
    "state_crashed", "error",         "ok",            "key_hint",       "input",
    "input_error",
};

/* The built-in default theme: what themes/default.theme says (a unit test checks that
 * they agree), used when that file is missing and whenever a theme file is bad. */
static const pvm_style tui_builtin[TUI_EL_COUNT] = {
    [TUI_EL_HEADER] = {0, 6, 0},                 /* black on cyan */
    [TUI_EL_TITLE] = {D, D, PVM_ATTR_BOLD},
    [TUI_EL_TITLE_FOCUS] = {0, 6, PVM_ATTR_BOLD}, /* bold black on cyan */
    [TUI_EL_BORDER] = {8, D, 0},                 /* brightblack */
    [TUI_EL_BORDER_FOCUS] = {6, D, PVM_ATTR_BOLD},
    [TUI_EL_SELECTED] = {0, 6, 0},
    [TUI_EL_TEXT] = {D, D, 0},
    [TUI_EL_DIM] = {8, D, 0},
    [TUI_EL_STATE_RUNNING] = {2, D, PVM_ATTR_BOLD},
    [TUI_EL_STATE_STOPPED] = {D, D, 0},
    [TUI_EL_STATE_CRASHED] = {1, D, PVM_ATTR_BOLD},
    [TUI_EL_ERROR] = {1, D, PVM_ATTR_BOLD},
    [TUI_EL_OK] = {2, D, 0},
    [TUI_EL_KEY_HINT] = {3, D, PVM_ATTR_BOLD},
    [TUI_EL_INPUT] = {D, D, PVM_ATTR_UNDERLINE},
    [TUI_EL_INPUT_ERROR] = {1, D, PVM_ATTR_UNDERLINE | PVM_ATTR_BOLD},
};

static struct {
    char name[65];               /* the theme in use */
    size_t cycle;                /* position among the names for T */
    pvm_style styles[TUI_EL_COUNT];
    int attrs[TUI_EL_COUNT];
    int ncolors;                 /* what the terminal offers: COLORS, or 0 */
    bool default_colors;         /* use_default_colors() worked: -1 is allowed */
    bool started;
} tui_theme;

const char *tui_theme_element_name(tui_element el)
{
    return (unsigned)el < TUI_EL_COUNT ? tui_element_names[el] : NULL;
}

void tui_theme_builtin(pvm_style out[TUI_EL_COUNT])
{
    memcpy(out, tui_builtin, sizeof tui_builtin);
}

int tui_theme_load(const char *name, pvm_style out[TUI_EL_COUNT], pvm_error *err)
{
    char path[PVM_PATH_MAX];
    tui_theme_builtin(out);
    pvm_error e = {0};
    if (pvm_theme_find(name, path, sizeof path, &e) < 0) {
        if (e.code == PVM_E_NOTFOUND && strcmp(name, "default") == 0)
            return 0; /* no default.theme installed: the built-in one is the same */
        *err = e;
        return -1;
    }
    return pvm_theme_file_read(path, tui_element_names, TUI_EL_COUNT, out, err);
}

/* ------------------------------------------------------------- curses */

static int tui_theme_curses_attrs(unsigned bits)
{
    int a = A_NORMAL;
    if (bits & PVM_ATTR_BOLD)
        a |= A_BOLD;
    if (bits & PVM_ATTR_UNDERLINE)
        a |= A_UNDERLINE;
    if (bits & PVM_ATTR_REVERSE)
        a |= A_REVERSE;
    if (bits & PVM_ATTR_DIM)
        a |= A_DIM;
    return a;
}

/* Starts colour once, when the terminal has it and NO_COLOR is unset. */
static void tui_theme_start_colour(void)
{
    if (tui_theme.started)
        return;
    tui_theme.started = true;
    tui_theme.ncolors = 0;
    if (!pvm_color_wanted() || !has_colors() || start_color() == ERR)
        return;
    tui_theme.default_colors = use_default_colors() != ERR;
    tui_theme.ncolors = COLORS;
}

/* A colour for init_pair: the fallback for this terminal; "default" becomes white or
 * black when the terminal cannot keep its own colours. */
static short tui_theme_pair_colour(short c, bool fg, bool *bright)
{
    short v = pvm_color_fallback(c, tui_theme.ncolors, bright);
    if (v < 0 && !tui_theme.default_colors)
        v = fg ? COLOR_WHITE : COLOR_BLACK;
    return v;
}

/* The attribute of element i: colour pair i+1 when colours are on; without colour an
 * element whose background differs from the text's is shown reversed instead. */
static int tui_theme_resolve(size_t i)
{
    pvm_style st = tui_theme.styles[i];
    const pvm_style *text = &tui_theme.styles[TUI_EL_TEXT];
    int attr = tui_theme_curses_attrs(st.attrs);
    if (st.fg == D)
        st.fg = text->fg; /* the text's colours are the whole screen's background */
    if (st.bg == D)
        st.bg = text->bg;
    if (tui_theme.ncolors < 8) {
        if (st.bg != text->bg && !(st.attrs & PVM_ATTR_REVERSE))
            attr |= A_REVERSE;
        return attr;
    }
    if (st.fg == D && st.bg == D)
        return attr;
    bool bright = false, unused;
    short fg = tui_theme_pair_colour(st.fg, true, &bright);
    short bg = tui_theme_pair_colour(st.bg, false, &unused);
    if ((int)i + 1 >= COLOR_PAIRS || init_pair((short)(i + 1), fg, bg) == ERR)
        return attr;
    return attr | (int)COLOR_PAIR((int)i + 1) | (bright ? A_BOLD : 0);
}

static void tui_theme_apply(void)
{
    tui_theme_start_colour();
    for (size_t i = 0; i < TUI_EL_COUNT; i++)
        tui_theme.attrs[i] = tui_theme_resolve(i);
}

/* Puts theme `name` in use, or the built-in default when it cannot be loaded. */
static int tui_theme_use(const char *name, pvm_error *err)
{
    int rc = tui_theme_load(name, tui_theme.styles, err);
    if (rc < 0) {
        tui_theme_builtin(tui_theme.styles);
        name = "default";
    }
    pvm_strlcpy(tui_theme.name, name, sizeof tui_theme.name);
    tui_theme_apply();
    return rc;
}

int tui_theme_init(const char *name, pvm_error *err)
{
    if (!name || !name[0])
        name = "default";
    char **names;
    size_t n = pvm_theme_names(&names);
    tui_theme.cycle = 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            tui_theme.cycle = i;
    pvm_theme_names_free(names, n);
    return tui_theme_use(name, err);
}

int tui_theme_attr(tui_element el)
{
    return (unsigned)el < TUI_EL_COUNT ? tui_theme.attrs[el] : (int)A_NORMAL;
}

int tui_theme_cycle(pvm_error *err)
{
    char **names;
    size_t n = pvm_theme_names(&names);
    tui_theme.cycle = (tui_theme.cycle + 1) % n;
    int rc = tui_theme_use(names[tui_theme.cycle], err);
    pvm_theme_names_free(names, n);
    return rc;
}

const char *tui_theme_name(void)
{
    return tui_theme.name[0] ? tui_theme.name : "default";
}

void tui_theme_free(void)
{
    memset(&tui_theme, 0, sizeof tui_theme);
}
