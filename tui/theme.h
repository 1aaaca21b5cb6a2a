/* theme.h - the colours of the TUI: named screen elements mapped to curses
 * attributes. tui/theme.c (the themes/ files, 256 -> 16 -> 8 -> none,
 * NO_COLOR) implements it; every tui/ file draws through tui_theme_attr(). */
#ifndef PVM_TUI_THEME_H
#define PVM_TUI_THEME_H

#include "pvm.h"

/* Every element the screen draws; a theme file names them by the strings
 * tui_theme_element_name() returns ("header", "title_focus", ...). */
typedef enum {
    TUI_EL_HEADER = 0,    /* the top line: host and caps */
    TUI_EL_TITLE,         /* a pane's title */
    TUI_EL_TITLE_FOCUS,   /* the focused pane's title */
    TUI_EL_BORDER,
    TUI_EL_BORDER_FOCUS,
    TUI_EL_SELECTED,      /* the selected row of a list */
    TUI_EL_TEXT,          /* ordinary text, also the background */
    TUI_EL_DIM,           /* labels, "no snapshots", secondary text */
    TUI_EL_STATE_RUNNING,
    TUI_EL_STATE_STOPPED,
    TUI_EL_STATE_CRASHED,
    TUI_EL_ERROR,         /* message line errors, a form field's error */
    TUI_EL_OK,            /* message line success */
    TUI_EL_KEY_HINT,      /* the key letters in the hint line */
    TUI_EL_INPUT,         /* a form's text field */
    TUI_EL_INPUT_ERROR,   /* a form field that holds a bad value */
    TUI_EL_COUNT
} tui_element;

/* "header", "title", ..., "input_error"; NULL past TUI_EL_COUNT. */
const char *tui_theme_element_name(tui_element el);

/* Loads theme `name` after initscr(): the caller passes --theme's value, else the
 * config's (pvm_engine_theme); NULL or "" is "default". Starts colours when the
 * terminal has them and NO_COLOR is unset. A bad theme fills err (file and line)
 * and leaves the default theme in use, so the caller shows err as a message and
 * carries on; returns 0 or -1. */
int tui_theme_init(const char *name, pvm_error *err);

/* The curses attribute (colour pair | A_BOLD ...) for el; fits attr_t. */
int tui_theme_attr(tui_element el);

/* Switches to the next available theme (the T key); err as tui_theme_init. */
int tui_theme_cycle(pvm_error *err);

/* The name of the theme in use ("default", "mono", ...). Static storage. */
const char *tui_theme_name(void);

/* Frees what the theme holds; after endwin(). */
void tui_theme_free(void);

/* Without curses (tests, the T key's loader): the built-in default theme's styles,
 * and theme `name` found on the search path and read over them (a missing
 * "default" is the built-in one; errors as tui_theme_init, out then undefined). */
#include "theme_parse.h"
void tui_theme_builtin(pvm_style out[TUI_EL_COUNT]);
int tui_theme_load(const char *name, pvm_style out[TUI_EL_COUNT], pvm_error *err);

#endif
