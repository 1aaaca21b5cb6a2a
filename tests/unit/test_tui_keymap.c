/* test_tui_keymap.c - unit tests of tui/keymap.c: the one key table is sound (no
 * key bound twice where it acts, every row documented) and man/privarion-vm.1's
 * Keys section lists exactly the same keys, in the same words. Run by tests/run
 * from the top of the tree (PVM_MAN_PAGE may name the page). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../tui/keymap.h"

static void test_table_is_sound(void **state)
{
    (void)state;
    size_t n;
    const tui_binding *b = tui_keymap(&n);
    assert_true(n >= 20);
    for (size_t i = 0; i < n; i++) {
        assert_non_null(b[i].help);
        assert_true(strlen(b[i].help) > 5);
        assert_non_null(b[i].keys[0].name);
        assert_true(b[i].where != 0);
        /* the help screen's pane column is never empty and fits its 15 columns */
        assert_true(strlen(tui_keymap_where(b[i].where)) > 0);
        assert_true(strlen(tui_keymap_where(b[i].where)) <= 15);
        assert_ptr_equal(tui_keymap_find(b[i].action), &b[i]);
        for (size_t j = i + 1; j < n; j++) {
            assert_int_not_equal(b[i].action, b[j].action);
            if (!(b[i].where & b[j].where))
                continue;
            for (size_t k = 0; k < 4 && (b[i].keys[k].name || b[i].keys[k].code); k++)
                for (size_t m = 0; m < 4 && (b[j].keys[m].name || b[j].keys[m].code); m++)
                    assert_int_not_equal(b[i].keys[k].code, b[j].keys[m].code);
        }
    }
}

static void test_lookup(void **state)
{
    (void)state;
    assert_int_equal(tui_keymap_lookup('S', 1), TUI_ACT_STOP);
    assert_int_equal(tui_keymap_lookup('S', 0), TUI_ACT_NONE); /* VMs only */
    assert_int_equal(tui_keymap_lookup('e', 0), TUI_ACT_EDIT);
    assert_int_equal(tui_keymap_lookup('\r', 0), TUI_ACT_OPEN);
    assert_int_equal(tui_keymap_lookup(KEY_ENTER, 1), TUI_ACT_OPEN);
    assert_int_equal(tui_keymap_lookup(KEY_F(10), 2), TUI_ACT_QUIT);
    assert_int_equal(tui_keymap_lookup('\t', 2), TUI_ACT_NEXT_PANE);
    assert_int_equal(tui_keymap_lookup('Z', 1), TUI_ACT_NONE);
    assert_int_equal(tui_keymap_lookup('i', 0), TUI_ACT_IMPORT); /* one key, two panes */
    assert_int_equal(tui_keymap_lookup('i', 1), TUI_ACT_INSTALL);
    assert_int_equal(tui_keymap_lookup('i', 2), TUI_ACT_NONE);
    assert_int_equal(tui_keymap_lookup('e', 1), TUI_ACT_EDIT);
    assert_string_equal(tui_keymap_where(tui_keymap_find(TUI_ACT_SNAP_TAKE)->where),
                        "VMs, Snapshots");
    assert_string_equal(tui_keymap_where(tui_keymap_find(TUI_ACT_SNAP_RESTORE)->where),
                        "Snapshots");
    assert_string_equal(tui_keymap_where(tui_keymap_find(TUI_ACT_QUIT)->where), "any pane");
    assert_string_equal(tui_keymap_where(tui_keymap_find(TUI_ACT_STOP)->where), "VMs");
    char buf[64];
    assert_string_equal(tui_keymap_names(tui_keymap_find(TUI_ACT_UP), buf, sizeof buf), "Up, k");
    assert_string_equal(tui_keymap_names(tui_keymap_find(TUI_ACT_OPEN), buf, sizeof buf), "Enter");
    char tiny[4];
    tui_keymap_names(tui_keymap_find(TUI_ACT_UP), tiny, sizeof tiny); /* never overruns */
    assert_true(strlen(tiny) < sizeof tiny);
}

/* The ".B NAMES" line after each .TP in the Keys section, roff escapes undone. */
static size_t man_keys(char names[64][64])
{
    const char *path = getenv("PVM_MAN_PAGE") ? getenv("PVM_MAN_PAGE") : "man/privarion-vm.1";
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("cannot open %s (run from the top of the tree)", path);
    char line[512];
    bool in_section = false, in_keys = false, after_tp = false;
    size_t n = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        if (strncmp(line, ".SH ", 4) == 0) {
            in_section = strcmp(line, ".SH FULL-SCREEN INTERFACE") == 0;
            in_keys = false;
        } else if (strncmp(line, ".SS ", 4) == 0) {
            in_keys = in_section && strcmp(line, ".SS Keys") == 0;
        } else if (in_keys && strcmp(line, ".TP") == 0) {
            after_tp = true;
        } else if (in_keys && after_tp) {
            after_tp = false;
            assert_true(strncmp(line, ".B ", 3) == 0);
            assert_true(n < 64);
            size_t o = 0;
            for (const char *p = line + 3; *p && o < 63; p++) {
                if (p[0] == '\\' && p[1] == '-')
                    p++;
                names[n][o++] = *p;
            }
            names[n++][o] = '\0';
        }
    }
    fclose(f);
    return n;
}

static void test_man_page_lists_the_same_keys(void **state)
{
    (void)state;
    char names[64][64];
    size_t nman = man_keys(names);
    size_t n;
    const tui_binding *b = tui_keymap(&n);
    char buf[64];
    for (size_t i = 0; i < n; i++) {
        tui_keymap_names(&b[i], buf, sizeof buf);
        bool found = false;
        for (size_t k = 0; k < nman && !found; k++)
            found = strcmp(names[k], buf) == 0;
        if (!found)
            fail_msg("man page: the Keys section has no \".B %s\" (%s)", buf, b[i].help);
    }
    for (size_t k = 0; k < nman; k++) {
        bool found = false;
        for (size_t i = 0; i < n && !found; i++)
            found = strcmp(names[k], tui_keymap_names(&b[i], buf, sizeof buf)) == 0;
        if (!found)
            fail_msg("man page lists key \"%s\", which the key table does not have", names[k]);
    }
    assert_int_equal(nman, n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_is_sound),
        cmocka_unit_test(test_lookup),
        cmocka_unit_test(test_man_page_lists_the_same_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
