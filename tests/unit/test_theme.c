/* test_theme.c - unit tests of the theme files (tui/theme_parse.c, tui/theme.c without
 * curses): colour and style words, hostile theme files (long lines, unknown elements,
 * bad colours, binary bytes, duplicate keys, empty, BOM+CRLF), the shipped themes, the
 * search path, and the 256 -> 16 -> 8 -> none fallback. Run by tests/run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../tui/theme.h"
#include "rm_rf.h"

#define D PVM_COLOR_DEFAULT

typedef struct fixture {
    char dir[64];
    char path[128]; /* dir/t.theme: the file each test writes */
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/pvm-test-theme-XXXXXX");
    if (!f || !mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof f->path, "%s/t.theme", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    rm_rf(f->dir);
    free(f);
    return 0;
}

static void write_bytes(const char *path, const void *data, size_t n)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, n, fp), n);
    assert_int_equal(fclose(fp), 0);
}

static void write_text(const char *path, const char *text)
{
    write_bytes(path, text, strlen(text));
}

/* Reads path over the built-in styles; returns the result, styles in out. */
static int read_theme(const char *path, pvm_style out[TUI_EL_COUNT], pvm_error *err)
{
    const char *names[TUI_EL_COUNT];
    for (int i = 0; i < TUI_EL_COUNT; i++)
        names[i] = tui_theme_element_name((tui_element)i);
    tui_theme_builtin(out);
    return pvm_theme_file_read(path, names, TUI_EL_COUNT, out, err);
}

static void assert_printable(const char *msg)
{
    for (const char *p = msg; *p; p++)
        assert_true((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f);
}

/* The file failed with a message "path:line: ..." containing `text`, and the
 * styles were left as the built-in ones. */
static void expect_bad(fixture *f, int line, const char *text)
{
    pvm_style st[TUI_EL_COUNT], builtin[TUI_EL_COUNT];
    pvm_error err = {0};
    tui_theme_builtin(builtin);
    assert_int_equal(read_theme(f->path, st, &err), -1);
    char want[192];
    snprintf(want, sizeof want, "%s:%d: ", f->path, line);
    if (strncmp(err.msg, want, strlen(want)) != 0 || !strstr(err.msg, text))
        fail_msg("message [%s] lacks [%s] or [%s]", err.msg, want, text);
    assert_printable(err.msg);
    assert_memory_equal(st, builtin, sizeof st);
}

/* ------------------------------------------------------------- words */

static void test_color_words(void **state)
{
    (void)state;
    short c = 99;
    assert_int_equal(pvm_color_parse("default", &c), 0);
    assert_int_equal(c, D);
    assert_int_equal(pvm_color_parse("black", &c), 0);
    assert_int_equal(c, 0);
    assert_int_equal(pvm_color_parse("white", &c), 0);
    assert_int_equal(c, 7);
    assert_int_equal(pvm_color_parse("brightred", &c), 0);
    assert_int_equal(c, 9);
    assert_int_equal(pvm_color_parse("grey", &c), 0);
    assert_int_equal(c, 8);
    assert_int_equal(pvm_color_parse("color0", &c), 0);
    assert_int_equal(c, 0);
    assert_int_equal(pvm_color_parse("color255", &c), 0);
    assert_int_equal(c, 255);
    const char *bad[] = {"color256", "color007", "color-1", "color", "color1x", "Red",
                         "colour12", "", "color9999", "bright", "on"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        c = 42;
        if (pvm_color_parse(bad[i], &c) != -1)
            fail_msg("'%s' was taken as a colour", bad[i]);
        assert_int_equal(c, 42);
    }
    char buf[16];
    assert_string_equal(pvm_color_name(208, buf, sizeof buf), "color208");
    assert_string_equal(pvm_color_name(12, buf, sizeof buf), "brightblue");
    assert_string_equal(pvm_color_name(D, buf, sizeof buf), "default");
}

static void test_style_words(void **state)
{
    (void)state;
    pvm_style st;
    pvm_error err = {0};
    assert_int_equal(pvm_style_parse("bold red on default", &st, &err), 0);
    assert_int_equal(st.fg, 1);
    assert_int_equal(st.bg, D);
    assert_int_equal(st.attrs, PVM_ATTR_BOLD);
    assert_int_equal(pvm_style_parse("on blue", &st, &err), 0);
    assert_int_equal(st.fg, D);
    assert_int_equal(st.bg, 4);
    assert_int_equal(pvm_style_parse("  color208\ton color17 underline dim  ", &st, &err), 0);
    assert_int_equal(st.fg, 208);
    assert_int_equal(st.bg, 17);
    assert_int_equal(st.attrs, PVM_ATTR_UNDERLINE | PVM_ATTR_DIM);
    assert_int_equal(pvm_style_parse("", &st, &err), 0);
    assert_int_equal(st.fg, D);
    assert_int_equal(st.attrs, 0);
    assert_int_equal(pvm_style_parse("reverse none", &st, &err), 0);
    assert_int_equal(st.attrs, PVM_ATTR_REVERSE);

    const struct { const char *text, *msg; } bad[] = {
        {"red green", "'green': one foreground colour"},
        {"on", "'on' must be followed"},
        {"red on", "'on' must be followed"},
        {"on red on blue", "background is given twice"},
        {"on bold", "'bold' after 'on' is not a colour"},
        {"blink", "'blink' is not a colour"},
        {"color300", "'color300' is not a colour"},
        {"on red yellow", "one foreground colour"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        pvm_style keep = {3, 4, 5}, out = keep;
        memset(&err, 0, sizeof err);
        assert_int_equal(pvm_style_parse(bad[i].text, &out, &err), -1);
        if (!strstr(err.msg, bad[i].msg))
            fail_msg("'%s': message [%s] lacks [%s]", bad[i].text, err.msg, bad[i].msg);
        assert_memory_equal(&out, &keep, sizeof keep);
    }
}

/* ------------------------------------------------------------- files */

static void test_good_file(void **state)
{
    fixture *f = *state;
    write_text(f->path, "# a comment\n\nheader = bold white on color19\n  error=red  \n");
    pvm_style st[TUI_EL_COUNT], builtin[TUI_EL_COUNT];
    pvm_error err = {0};
    tui_theme_builtin(builtin);
    assert_int_equal(read_theme(f->path, st, &err), 0);
    assert_int_equal(st[TUI_EL_HEADER].fg, 7);
    assert_int_equal(st[TUI_EL_HEADER].bg, 19);
    assert_int_equal(st[TUI_EL_HEADER].attrs, PVM_ATTR_BOLD);
    assert_int_equal(st[TUI_EL_ERROR].fg, 1);
    assert_int_equal(st[TUI_EL_ERROR].attrs, 0);
    /* An element the file does not name keeps the built-in look. */
    assert_memory_equal(&st[TUI_EL_SELECTED], &builtin[TUI_EL_SELECTED], sizeof st[0]);
}

static void test_bom_crlf(void **state)
{
    fixture *f = *state;
    write_text(f->path, "\xEF\xBB\xBF# made on Windows\r\nheader = red on blue\r\nok = green\r\n");
    pvm_style st[TUI_EL_COUNT];
    pvm_error err = {0};
    assert_int_equal(read_theme(f->path, st, &err), 0);
    assert_int_equal(st[TUI_EL_HEADER].fg, 1);
    assert_int_equal(st[TUI_EL_HEADER].bg, 4);
    assert_int_equal(st[TUI_EL_OK].fg, 2);
    /* A BOM right before a key. */
    write_text(f->path, "\xEF\xBB\xBFheader = red\r\n");
    assert_int_equal(read_theme(f->path, st, &err), 0);
    assert_int_equal(st[TUI_EL_HEADER].fg, 1);
}

static void test_empty_file(void **state)
{
    fixture *f = *state;
    write_text(f->path, "");
    pvm_style st[TUI_EL_COUNT], builtin[TUI_EL_COUNT];
    pvm_error err = {0};
    tui_theme_builtin(builtin);
    assert_int_equal(read_theme(f->path, st, &err), 0);
    assert_memory_equal(st, builtin, sizeof st);
}

static void test_unknown_element(void **state)
{
    fixture *f = *state;
    write_text(f->path, "header = red\n# ok\nsparkle = blue\n");
    expect_bad(f, 3, "'sparkle' is not a screen element");
}

static void test_bad_colour(void **state)
{
    fixture *f = *state;
    write_text(f->path, "header = red\nerror = bold color999\n");
    expect_bad(f, 2, "error: 'color999' is not a colour");
    write_text(f->path, "ok = purple\n");
    expect_bad(f, 1, "'purple' is not a colour");
    write_text(f->path, "ok = red on\n");
    expect_bad(f, 1, "'on' must be followed by a background colour");
}

static void test_duplicate_key(void **state)
{
    fixture *f = *state;
    write_text(f->path, "header = red\nok = green\nheader = blue\n");
    expect_bad(f, 3, "line 1");
}

static void test_long_line(void **state)
{
    fixture *f = *state;
    size_t n = 100000;
    char *text = malloc(n + 32);
    assert_non_null(text);
    strcpy(text, "ok = green\nheader = ");
    size_t at = strlen(text);
    for (size_t i = 0; i < n; i++)
        text[at + i] = i % 4 == 3 ? ' ' : 'r';
    strcpy(text + at + n, "\n");
    write_text(f->path, text);
    free(text);
    expect_bad(f, 2, "long");
    /* A long value of valid words still has to fit the line limit. */
}

static void test_long_word_within_limit(void **state)
{
    fixture *f = *state;
    char text[1100];
    int n = snprintf(text, sizeof text, "header = ");
    memset(text + n, 'x', 900);
    strcpy(text + n + 900, "\n");
    write_text(f->path, text);
    expect_bad(f, 1, "xxxxxxxxxx..."); /* quoted, cut at 40 bytes */
}

static void test_binary_bytes(void **state)
{
    fixture *f = *state;
    static const unsigned char nul[] = "header = red\nok = gr\0een\n";
    write_bytes(f->path, nul, sizeof nul - 1);
    expect_bad(f, 2, "NUL");
    static const unsigned char esc[] = "ok = green\nheader = \x1b[31mred\n";
    write_bytes(f->path, esc, sizeof esc - 1);
    expect_bad(f, 2, "control byte 0x1b");
    static const unsigned char key[] = "\xff\xfe\x01\x7f = red\n";
    write_bytes(f->path, key, sizeof key - 1);
    expect_bad(f, 1, "");
    /* Text that is UTF-8 but not ASCII is quoted with '?' for each other byte. */
    write_text(f->path, "header = r\xc3\xb8" "d\n");
    expect_bad(f, 1, "header: 'r??d' is not a colour");
    /* Random bytes: any outcome but a crash, and a message that is printable. */
    unsigned char junk[4096];
    for (int round = 0; round < 50; round++) {
        pvm_random_bytes(junk, sizeof junk);
        write_bytes(f->path, junk, sizeof junk);
        pvm_style st[TUI_EL_COUNT];
        pvm_error err = {0};
        if (read_theme(f->path, st, &err) < 0)
            assert_printable(err.msg);
    }
}

static void test_not_a_file(void **state)
{
    fixture *f = *state;
    pvm_style st[TUI_EL_COUNT];
    pvm_error err = {0};
    assert_int_equal(read_theme("/nonexistent/x.theme", st, &err), -1);
    assert_non_null(strstr(err.msg, "/nonexistent/x.theme"));
    assert_int_equal(read_theme(f->dir, st, &err), -1); /* a folder */
}

/* ------------------------------------------------------------- shipped themes */

static void test_shipped_themes(void **state)
{
    (void)state;
    glob_t g;
    assert_int_equal(glob("themes/*.theme", 0, NULL, &g), 0);
    assert_true(g.gl_pathc >= 4);
    bool have_default = false, have_light = false, have_mono = false;
    for (size_t i = 0; i < g.gl_pathc; i++) {
        pvm_style st[TUI_EL_COUNT];
        pvm_error err = {0};
        if (read_theme(g.gl_pathv[i], st, &err) < 0)
            fail_msg("%s: %s", g.gl_pathv[i], err.msg);
        /* Every shipped theme names every element (none relies on inheritance). */
        FILE *fp = fopen(g.gl_pathv[i], "r");
        char line[256];
        int named = 0;
        while (fp && fgets(line, sizeof line, fp))
            named += line[0] != '#' && strchr(line, '=') != NULL;
        if (fp)
            fclose(fp);
        if (named != TUI_EL_COUNT)
            fail_msg("%s names %d elements, not all %d", g.gl_pathv[i], named, TUI_EL_COUNT);
        have_default |= strcmp(g.gl_pathv[i], "themes/default.theme") == 0;
        have_light |= strcmp(g.gl_pathv[i], "themes/light.theme") == 0;
        if (strcmp(g.gl_pathv[i], "themes/monochrome.theme") == 0) {
            have_mono = true;
            for (int e = 0; e < TUI_EL_COUNT; e++) {
                assert_int_equal(st[e].fg, D);
                assert_int_equal(st[e].bg, D);
            }
        }
    }
    globfree(&g);
    assert_true(have_default && have_light && have_mono);
}

/* themes/default.theme and the built-in default are the same theme. */
static void test_default_matches_builtin(void **state)
{
    (void)state;
    const char *names[TUI_EL_COUNT];
    pvm_style st[TUI_EL_COUNT], builtin[TUI_EL_COUNT];
    pvm_error err = {0};
    for (int i = 0; i < TUI_EL_COUNT; i++) {
        names[i] = tui_theme_element_name((tui_element)i);
        st[i] = (pvm_style){99, 99, 99};
    }
    assert_int_equal(pvm_theme_file_read("themes/default.theme", names, TUI_EL_COUNT, st, &err),
                     0);
    tui_theme_builtin(builtin);
    for (int i = 0; i < TUI_EL_COUNT; i++)
        if (memcmp(&st[i], &builtin[i], sizeof st[i]) != 0)
            fail_msg("%s differs: file %d/%d/%u, built-in %d/%d/%u", names[i], st[i].fg,
                     st[i].bg, st[i].attrs, builtin[i].fg, builtin[i].bg, builtin[i].attrs);
}

/* ------------------------------------------------------------- search path */

static void test_search_path(void **state)
{
    fixture *f = *state;
    char dir[256], path[PVM_PATH_MAX];
    snprintf(dir, sizeof dir, "%s/privarion-vm", f->dir);
    mkdir(dir, 0700);
    snprintf(dir, sizeof dir, "%s/privarion-vm/themes", f->dir);
    mkdir(dir, 0700);
    setenv("XDG_CONFIG_HOME", f->dir, 1);

    snprintf(path, sizeof path, "%s/mine.theme", dir);
    write_text(path, "header = color100\n");
    snprintf(path, sizeof path, "%s/.hidden.theme", dir);
    write_text(path, "header = red\n");
    snprintf(path, sizeof path, "%s/broken.theme", dir);
    write_text(path, "header = red\nheader = blue\n");

    char found[PVM_PATH_MAX];
    pvm_error err = {0};
    assert_int_equal(pvm_theme_find("mine", found, sizeof found, &err), 0);
    snprintf(path, sizeof path, "%s/mine.theme", dir);
    assert_string_equal(found, path);
    pvm_style st[TUI_EL_COUNT];
    assert_int_equal(tui_theme_load("mine", st, &err), 0);
    assert_int_equal(st[TUI_EL_HEADER].fg, 100);

    /* A bad theme: the error names the file and the line. */
    assert_int_equal(tui_theme_load("broken", st, &err), -1);
    snprintf(path, sizeof path, "%s/broken.theme:2: ", dir);
    assert_non_null(strstr(err.msg, path));

    /* Unknown and ill-formed names. */
    assert_int_equal(pvm_theme_find("nosuch", found, sizeof found, &err), -1);
    assert_int_equal(err.code, PVM_E_NOTFOUND);
    assert_non_null(strstr(err.msg, dir));
    const char *bad[] = {"../x", "a/b", ".hidden", "", "x y"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(pvm_theme_find(bad[i], found, sizeof found, &err), -1);
        assert_int_equal(err.code, PVM_E_INVALID);
        assert_string_equal(err.field, "theme");
    }

    /* "default" exists even with no file for it; a user default.theme overrides. */
    assert_int_equal(tui_theme_load("default", st, &err), 0);
    snprintf(path, sizeof path, "%s/default.theme", dir);
    write_text(path, "text = white on black\n");
    assert_int_equal(tui_theme_load("default", st, &err), 0);
    assert_int_equal(st[TUI_EL_TEXT].bg, 0);

    char **names;
    size_t n = pvm_theme_names(&names);
    bool mine = false, hidden = false, def = false;
    for (size_t i = 0; i < n; i++) {
        mine |= strcmp(names[i], "mine") == 0;
        hidden |= strcmp(names[i], ".hidden") == 0;
        def |= strcmp(names[i], "default") == 0;
        if (i)
            assert_true(strcmp(names[i - 1], names[i]) < 0); /* sorted, each once */
    }
    pvm_theme_names_free(names, n);
    assert_true(mine && def && !hidden);
    unsetenv("XDG_CONFIG_HOME");
}

/* ------------------------------------------------------------- fallback */

static void test_fallback(void **state)
{
    (void)state;
    const struct { short color; int ncolors; short want; bool bright; } t[] = {
        {196, 256, 196, false}, {196, 16, 9, false},  {196, 8, 1, true},   {196, 0, D, false},
        {21, 16, 4, false},     {231, 16, 15, false}, {231, 8, 7, true},   {232, 16, 0, false},
        {244, 16, 8, false},    {244, 8, 0, true},    {11, 8, 3, true},    {3, 8, 3, false},
        {3, 16, 3, false},      {12, 256, 12, false}, {D, 256, D, false},  {D, 8, D, false},
        {5, 2, D, false},       {5, 7, D, false},     {16, 88, 0, false},  {28, 16, 2, false},
        {160, 16, 1, false},    {153, 16, 7, false},  {255, 256, 255, false},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        bool bright = !t[i].bright;
        short got = pvm_color_fallback(t[i].color, t[i].ncolors, &bright);
        if (got != t[i].want || bright != t[i].bright)
            fail_msg("colour %d on %d colours: got %d%s, want %d%s", t[i].color, t[i].ncolors,
                     got, bright ? " bright" : "", t[i].want, t[i].bright ? " bright" : "");
    }
    /* Every colour on every kind of terminal lands inside what that terminal has. */
    const int counts[] = {0, 8, 16, 88, 256};
    for (size_t k = 0; k < sizeof counts / sizeof counts[0]; k++) {
        for (short c = -1; c < 256; c++) {
            short got = pvm_color_fallback(c, counts[k], NULL);
            assert_true(got >= D);
            assert_true(counts[k] < 8 ? got == D : got < (counts[k] >= 256 ? 256 : counts[k] >= 16 ? 16 : 8));
        }
    }
}

static void test_no_color(void **state)
{
    (void)state;
    unsetenv("NO_COLOR");
    assert_true(pvm_color_wanted());
    setenv("NO_COLOR", "", 1);
    assert_true(pvm_color_wanted()); /* set but empty: no-color.org says ignore it */
    setenv("NO_COLOR", "1", 1);
    assert_false(pvm_color_wanted());
    unsetenv("NO_COLOR");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_color_words),
        cmocka_unit_test(test_style_words),
        cmocka_unit_test_setup_teardown(test_good_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bom_crlf, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_element, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_colour, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_word_within_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_binary_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_a_file, setup, teardown),
        cmocka_unit_test(test_shipped_themes),
        cmocka_unit_test(test_default_matches_builtin),
        cmocka_unit_test_setup_teardown(test_search_path, setup, teardown),
        cmocka_unit_test(test_fallback),
        cmocka_unit_test(test_no_color),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
