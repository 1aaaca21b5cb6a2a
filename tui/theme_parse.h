/* theme_parse.h - the curses-free half of the themes: colour and style words, theme
 * files (themes/NAME.theme), the search path and the colour fallback decision.
 * Used by tui/theme.c (which applies a theme with curses) and by tests/unit/test_theme.c. */
#ifndef PVM_THEME_PARSE_H
#define PVM_THEME_PARSE_H

#include "pvm.h"

#include <stdbool.h>
#include <stddef.h>

#define PVM_COLOR_DEFAULT (-1) /* the terminal's own foreground or background */

/* Attribute bits of a style (theme.c maps them to A_BOLD ...). */
enum {
    PVM_ATTR_BOLD = 1u << 0,
    PVM_ATTR_UNDERLINE = 1u << 1,
    PVM_ATTR_REVERSE = 1u << 2,
    PVM_ATTR_DIM = 1u << 3,
};

/* How one screen element looks: fg and bg are PVM_COLOR_DEFAULT or a colour
 * number 0..255 (0-7 the ANSI colours, 8-15 their bright forms, 16-255 xterm's
 * 256-colour palette); attrs is a set of PVM_ATTR_* bits. */
typedef struct pvm_style {
    short fg, bg;
    unsigned attrs;
} pvm_style;

/* One colour word: black red green yellow blue magenta cyan white (0-7),
 * brightblack ... brightwhite (8-15, "grey"/"gray" = brightblack), colorNNN
 * (0..255, no leading zeros beyond one digit), default. Case-sensitive.
 * Returns 0 and *out, or -1. */
int pvm_color_parse(const char *word, short *out);
/* The canonical word of a colour ("red", "color208", "default") into buf. */
const char *pvm_color_name(short color, char *buf, size_t size);

/* A style: words separated by blanks, "[ATTR...] [FG] [on BG] [ATTR...]" where ATTR
 * is bold, underline, reverse, dim or none (no attribute). An empty text or "none"
 * is default on default with no attribute. Errors name the word and the rule;
 * *out is written only on success. */
int pvm_style_parse(const char *text, pvm_style *out, pvm_error *err);

/* Reads a theme file with the shared key=value reader: each key is a screen element
 * name from names[0..n), each value a style. styles[0..n) must hold the starting
 * look (the built-in default theme): an element the file does not name keeps it.
 * Errors read "PATH:LINE: ..." (unknown element, bad style, and everything the
 * key=value reader refuses: long lines, NUL bytes, keys given twice); on error
 * styles[] is unchanged. */
int pvm_theme_file_read(const char *path, const char *const *names, size_t n,
                        pvm_style *styles, pvm_error *err);

/* The theme folders in search order, each "<dir>/themes"-like path written into
 * dirs[i] (at most max): $XDG_CONFIG_HOME/privarion-vm/themes (else
 * $HOME/.config/privarion-vm/themes), the checkout's themes/ when the binary runs
 * from a checkout, PVM_SHARE_DIR/themes. Returns how many were written. */
size_t pvm_theme_dirs(char dirs[][PVM_PATH_MAX], size_t max);
/* The file of theme `name`: the first dirs[i]/NAME.theme that exists. Errors:
 * a bad name (PVM_E_INVALID), no such theme (PVM_E_NOTFOUND, naming the folders). */
int pvm_theme_find(const char *name, char *out, size_t size, pvm_error *err);
/* Every theme name found in the folders (NAME.theme files with a valid NAME),
 * sorted, each once; *names is a malloc'd array of malloc'd strings, freed with
 * pvm_theme_names_free. "default" is always among them. */
size_t pvm_theme_names(char ***names);
void pvm_theme_names_free(char **names, size_t n);

/* The colour to use for `color` (PVM_COLOR_DEFAULT or 0..255) on a terminal that
 * offers ncolors colours (curses' COLORS; 0 when colour is off or unavailable):
 * 256 or more: as asked; 16..255: colours above 15 become the nearest of the 16 by
 * xterm's palette; 8..15: also 8-15 become 0-7 with *bright set (the caller may
 * show it as bold); below 8: PVM_COLOR_DEFAULT (no colour). PVM_COLOR_DEFAULT
 * stays default. bright may be NULL. Pure. */
short pvm_color_fallback(short color, int ncolors, bool *bright);

/* Whether colour is wanted at all: false when NO_COLOR is set to a non-empty
 * value (https://no-color.org), else true. */
bool pvm_color_wanted(void);

#endif
