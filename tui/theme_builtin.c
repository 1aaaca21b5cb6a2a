/* theme_builtin.c - a stand-in for tui/theme.c: one built-in theme made of
 * bold/reverse/underline attributes and, when the terminal has colours and
 * NO_COLOR is unset, the 8 basic colours. tui-extras' theme.c replaces it. */
#include "theme.h"

#include <curses.h>
#include <stdlib.h>
#include <string.h>

static const char *const tui_element_names[TUI_EL_COUNT] = {
    "header",        "title",         "title_focus",   "border",         "border_focus",
    "selected",      "text",          "dim",           "state_running",  "state_stopped",
    "state_crashed", "error",         "ok",            "key_hint",       "input",
    "input_error",
};

static int tui_attrs[TUI_EL_COUNT];

const char *tui_theme_element_name(tui_element el)
{
    return (unsigned)el < TUI_EL_COUNT ? tui_element_names[el] : NULL;
}

static void tui_theme_mono(void)
{
    tui_attrs[TUI_EL_HEADER] = A_REVERSE;
    tui_attrs[TUI_EL_TITLE] = A_NORMAL;
    tui_attrs[TUI_EL_TITLE_FOCUS] = A_BOLD | A_REVERSE;
    tui_attrs[TUI_EL_BORDER] = A_NORMAL;
    tui_attrs[TUI_EL_BORDER_FOCUS] = A_BOLD;
    tui_attrs[TUI_EL_SELECTED] = A_REVERSE;
    tui_attrs[TUI_EL_TEXT] = A_NORMAL;
    tui_attrs[TUI_EL_DIM] = A_DIM;
    tui_attrs[TUI_EL_STATE_RUNNING] = A_BOLD;
    tui_attrs[TUI_EL_STATE_STOPPED] = A_NORMAL;
    tui_attrs[TUI_EL_STATE_CRASHED] = A_BOLD | A_UNDERLINE;
    tui_attrs[TUI_EL_ERROR] = A_BOLD;
    tui_attrs[TUI_EL_OK] = A_NORMAL;
    tui_attrs[TUI_EL_KEY_HINT] = A_BOLD;
    tui_attrs[TUI_EL_INPUT] = A_UNDERLINE;
    tui_attrs[TUI_EL_INPUT_ERROR] = A_UNDERLINE | A_BOLD;
}

static void tui_theme_colours(void)
{
    static const struct { tui_element el; short fg; int extra; } map[] = {
        {TUI_EL_HEADER, COLOR_CYAN, A_REVERSE},     {TUI_EL_TITLE_FOCUS, COLOR_CYAN, A_BOLD | A_REVERSE},
        {TUI_EL_BORDER_FOCUS, COLOR_CYAN, A_BOLD},  {TUI_EL_STATE_RUNNING, COLOR_GREEN, A_BOLD},
        {TUI_EL_STATE_CRASHED, COLOR_RED, A_BOLD},  {TUI_EL_ERROR, COLOR_RED, A_BOLD},
        {TUI_EL_OK, COLOR_GREEN, 0},                {TUI_EL_KEY_HINT, COLOR_YELLOW, A_BOLD},
        {TUI_EL_INPUT_ERROR, COLOR_RED, A_UNDERLINE | A_BOLD},
    };
    if (start_color() == ERR)
        return;
    use_default_colors();
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        short pair = (short)(i + 1);
        if (init_pair(pair, map[i].fg, -1) == ERR)
            continue;
        tui_attrs[map[i].el] = (int)COLOR_PAIR(pair) | map[i].extra;
    }
}

int tui_theme_init(const char *name, pvm_error *err)
{
    tui_theme_mono();
    const char *nc = getenv("NO_COLOR");
    if (has_colors() && !(nc && nc[0]))
        tui_theme_colours();
    if (name && name[0] && strcmp(name, "default") != 0)
        return pvm_error_set(err, PVM_E_NOTFOUND, "theme '%s': no such theme (built-in: default)",
                             name);
    return 0;
}

int tui_theme_attr(tui_element el)
{
    return (unsigned)el < TUI_EL_COUNT ? tui_attrs[el] : (int)A_NORMAL;
}

int tui_theme_cycle(pvm_error *err)
{
    (void)err;
    return 0;
}

const char *tui_theme_name(void)
{
    return "default";
}

void tui_theme_free(void)
{
}
