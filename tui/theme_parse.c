/* theme_parse.c - theme files without curses: colour and style words, reading a
 * NAME.theme file through the shared key=value reader, the theme search path and the
 * 256 -> 16 -> 8 -> none colour fallback. Called by tui/theme.c and the unit tests. */
#include "theme_parse.h"
#include "base/kvfile.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const pvm_color_words[16] = {
    "black",       "red",       "green",       "yellow",       "blue",       "magenta",
    "cyan",        "white",     "brightblack", "brightred",    "brightgreen", "brightyellow",
    "brightblue",  "brightmagenta", "brightcyan", "brightwhite",
};

static const struct {
    const char *word;
    unsigned bit;
} pvm_attr_words[] = {
    {"bold", PVM_ATTR_BOLD},
    {"underline", PVM_ATTR_UNDERLINE},
    {"reverse", PVM_ATTR_REVERSE},
    {"dim", PVM_ATTR_DIM},
    {"none", 0},
};

/* ------------------------------------------------------------- words */

/* word as printable text for a message: other bytes become '?', at most 40 shown. */
static const char *pvm_theme_quote(const char *word, char *buf, size_t size)
{
    size_t i = 0;
    for (; word[i] && i + 4 < size && i < 40; i++) {
        unsigned char c = (unsigned char)word[i];
        buf[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    if (word[i] && i + 4 < size) {
        memcpy(buf + i, "...", 3);
        i += 3;
    }
    buf[i] = '\0';
    return buf;
}

int pvm_color_parse(const char *word, short *out)
{
    if (strcmp(word, "default") == 0) {
        *out = PVM_COLOR_DEFAULT;
        return 0;
    }
    if (strcmp(word, "grey") == 0 || strcmp(word, "gray") == 0) {
        *out = 8;
        return 0;
    }
    for (short i = 0; i < 16; i++) {
        if (strcmp(word, pvm_color_words[i]) == 0) {
            *out = i;
            return 0;
        }
    }
    if (strncmp(word, "color", 5) != 0)
        return -1;
    const char *d = word + 5;
    size_t len = strlen(d);
    if (len < 1 || len > 3 || strspn(d, "0123456789") != len || (len > 1 && d[0] == '0'))
        return -1;
    int v = atoi(d);
    if (v > 255)
        return -1;
    *out = (short)v;
    return 0;
}

const char *pvm_color_name(short color, char *buf, size_t size)
{
    if (color < 0)
        snprintf(buf, size, "default");
    else if (color < 16)
        snprintf(buf, size, "%s", pvm_color_words[color]);
    else
        snprintf(buf, size, "color%d", color);
    return buf;
}

static bool pvm_attr_parse(const char *word, unsigned *bits)
{
    for (size_t i = 0; i < sizeof pvm_attr_words / sizeof pvm_attr_words[0]; i++) {
        if (strcmp(word, pvm_attr_words[i].word) == 0) {
            *bits |= pvm_attr_words[i].bit;
            return true;
        }
    }
    return false;
}

/* One word of a style; *after_on says the last word was "on". */
static int pvm_style_word(const char *word, pvm_style *st, bool *have_fg, bool *have_bg,
                          bool *after_on, pvm_error *err)
{
    char q[64];
    short c;
    if (*after_on) {
        if (pvm_color_parse(word, &c) < 0)
            return pvm_error_set(err, PVM_E_INVALID,
                                 "'%s' after 'on' is not a colour (a colour name, colorNNN "
                                 "0-255 or default)", pvm_theme_quote(word, q, sizeof q));
        st->bg = c;
        *have_bg = true;
        *after_on = false;
        return 0;
    }
    if (strcmp(word, "on") == 0) {
        if (*have_bg)
            return pvm_error_set(err, PVM_E_INVALID, "the background is given twice ('on')");
        *after_on = true;
        return 0;
    }
    if (pvm_attr_parse(word, &st->attrs))
        return 0;
    if (pvm_color_parse(word, &c) == 0) {
        if (*have_fg || *have_bg)
            return pvm_error_set(err, PVM_E_INVALID, "'%s': one foreground colour, then "
                                 "'on BACKGROUND'", pvm_theme_quote(word, q, sizeof q));
        st->fg = c;
        *have_fg = true;
        return 0;
    }
    return pvm_error_set(err, PVM_E_INVALID,
                         "'%s' is not a colour (black, red, green, yellow, blue, magenta, cyan, "
                         "white, bright..., colorNNN, default) or an attribute (bold, underline, "
                         "reverse, dim, none)", pvm_theme_quote(word, q, sizeof q));
}

int pvm_style_parse(const char *text, pvm_style *out, pvm_error *err)
{
    pvm_style st = {PVM_COLOR_DEFAULT, PVM_COLOR_DEFAULT, 0};
    bool have_fg = false, have_bg = false, after_on = false;
    char *copy = pvm_xstrdup(text), *save = NULL;
    int rc = 0;
    for (char *w = strtok_r(copy, " \t", &save); w && rc == 0; w = strtok_r(NULL, " \t", &save))
        rc = pvm_style_word(w, &st, &have_fg, &have_bg, &after_on, err);
    free(copy);
    if (rc == 0 && after_on)
        rc = pvm_error_set(err, PVM_E_INVALID, "'on' must be followed by a background colour");
    if (rc == 0)
        *out = st;
    return rc;
}

/* ------------------------------------------------------------- files */

typedef struct pvm_theme_read {
    const char *const *names;
    size_t n;
    pvm_style *styles; /* a working copy, copied out on success */
} pvm_theme_read;

/* The reader puts "PATH:LINE: " in front of what this says. */
static int pvm_theme_pair(void *ctx, const char *path, int line, const char *key,
                          const char *value, pvm_error *err)
{
    (void)path;
    (void)line;
    pvm_theme_read *r = ctx;
    char q[64];
    for (size_t i = 0; i < r->n; i++) {
        if (strcmp(key, r->names[i]) != 0)
            continue;
        pvm_error e = {0};
        if (pvm_style_parse(value, &r->styles[i], &e) < 0)
            return pvm_error_set_field(err, PVM_E_INVALID, "theme", "%s: %s", r->names[i], e.msg);
        return 0;
    }
    return pvm_error_set_field(err, PVM_E_INVALID, "theme",
                               "'%s' is not a screen element (see THEMES in the manual)",
                               pvm_theme_quote(key, q, sizeof q));
}

int pvm_theme_file_read(const char *path, const char *const *names, size_t n,
                        pvm_style *styles, pvm_error *err)
{
    pvm_theme_read r = {names, n, pvm_xcalloc(n ? n : 1, sizeof *styles)};
    memcpy(r.styles, styles, n * sizeof *styles);
    int rc = pvm_kvfile_read(path, pvm_theme_pair, &r, err);
    if (rc == 0)
        memcpy(styles, r.styles, n * sizeof *styles);
    free(r.styles);
    return rc;
}

/* ------------------------------------------------------------- search path */

size_t pvm_theme_dirs(char dirs[][PVM_PATH_MAX], size_t max)
{
    size_t n = 0;
    const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
    char exe[PVM_PATH_MAX];
    if (n < max && xdg && xdg[0] == '/')
        snprintf(dirs[n++], PVM_PATH_MAX, "%.900s/privarion-vm/themes", xdg);
    else if (n < max && home && home[0] == '/')
        snprintf(dirs[n++], PVM_PATH_MAX, "%.900s/.config/privarion-vm/themes", home);
    if (n < max && pvm_exe_dir(exe, sizeof exe) == 0) {
        snprintf(dirs[n], PVM_PATH_MAX, "%.1000s/themes", exe);
        if (access(dirs[n], F_OK) == 0)
            n++;
    }
    if (n < max)
        snprintf(dirs[n++], PVM_PATH_MAX, "%.1000s/themes", pvm_share_dir());
    return n;
}

int pvm_theme_find(const char *name, char *out, size_t size, pvm_error *err)
{
    if (pvm_theme_name_check(name, err) < 0)
        return -1;
    char dirs[3][PVM_PATH_MAX], tried[3 * 256] = "";
    size_t n = pvm_theme_dirs(dirs, 3);
    for (size_t i = 0; i < n; i++) {
        int len = snprintf(out, size, "%s/%s.theme", dirs[i], name);
        if (len > 0 && (size_t)len < size && access(out, R_OK) == 0)
            return 0;
        size_t used = strlen(tried);
        snprintf(tried + used, sizeof tried - used, "%s%.200s", i ? ", " : "", dirs[i]);
    }
    out[0] = '\0';
    return pvm_error_set_field(err, PVM_E_NOTFOUND, "theme", "theme: no theme '%s' in %s", name,
                               tried);
}

static int pvm_theme_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Adds the NAME of every valid NAME.theme in dir to the list. */
static void pvm_theme_scan(const char *dir, char ***names, size_t *n, size_t *cap)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        if (len <= 6 || strcmp(de->d_name + len - 6, ".theme") != 0)
            continue;
        char *name = pvm_xasprintf("%.*s", (int)(len - 6), de->d_name);
        if (*n == *cap) {
            *cap = *cap ? *cap * 2 : 8;
            *names = pvm_xrealloc(*names, *cap * sizeof **names);
        }
        if (pvm_theme_name_check(name, NULL) == 0)
            (*names)[(*n)++] = name;
        else
            free(name);
    }
    closedir(d);
}

size_t pvm_theme_names(char ***names)
{
    char dirs[3][PVM_PATH_MAX];
    size_t ndirs = pvm_theme_dirs(dirs, 3), n = 0, cap = 8;
    char **list = pvm_xcalloc(cap, sizeof *list);
    list[n++] = pvm_xstrdup("default");
    for (size_t i = 0; i < ndirs; i++)
        pvm_theme_scan(dirs[i], &list, &n, &cap);
    qsort(list, n, sizeof *list, pvm_theme_cmp);
    size_t out = 0;
    for (size_t i = 0; i < n; i++) {
        if (out && strcmp(list[out - 1], list[i]) == 0)
            free(list[i]);
        else
            list[out++] = list[i];
    }
    *names = list;
    return out;
}

void pvm_theme_names_free(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* ------------------------------------------------------------- colour fallback */

/* xterm's default RGB of colour c (0..255). */
static void pvm_xterm_rgb(int c, int rgb[3])
{
    static const int base[16][3] = {
        {0, 0, 0},       {205, 0, 0},     {0, 205, 0},     {205, 205, 0},
        {0, 0, 238},     {205, 0, 205},   {0, 205, 205},   {229, 229, 229},
        {127, 127, 127}, {255, 0, 0},     {0, 255, 0},     {255, 255, 0},
        {92, 92, 255},   {255, 0, 255},   {0, 255, 255},   {255, 255, 255},
    };
    static const int level[6] = {0, 95, 135, 175, 215, 255};
    if (c < 16) {
        memcpy(rgb, base[c], sizeof base[c]);
    } else if (c < 232) {
        c -= 16;
        rgb[0] = level[c / 36];
        rgb[1] = level[c / 6 % 6];
        rgb[2] = level[c % 6];
    } else {
        rgb[0] = rgb[1] = rgb[2] = 8 + 10 * (c - 232);
    }
}

/* The nearest of the 16 basic colours to colour c by squared RGB distance. */
static short pvm_color_nearest16(int c)
{
    int want[3], have[3];
    pvm_xterm_rgb(c, want);
    long best = -1;
    short pick = 0;
    for (short i = 0; i < 16; i++) {
        pvm_xterm_rgb(i, have);
        long d = 0;
        for (int k = 0; k < 3; k++)
            d += (long)(want[k] - have[k]) * (want[k] - have[k]);
        if (best < 0 || d < best) {
            best = d;
            pick = i;
        }
    }
    return pick;
}

short pvm_color_fallback(short color, int ncolors, bool *bright)
{
    if (bright)
        *bright = false;
    if (color < 0 || color > 255 || ncolors < 8)
        return PVM_COLOR_DEFAULT;
    if (ncolors >= 256)
        return color;
    short c = color < 16 ? color : pvm_color_nearest16(color);
    if (ncolors >= 16)
        return c;
    if (c >= 8) {
        if (bright)
            *bright = true;
        c -= 8;
    }
    return c;
}

bool pvm_color_wanted(void)
{
    const char *v = getenv("NO_COLOR");
    return !(v && v[0]);
}
