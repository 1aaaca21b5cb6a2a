/* keymap.c - the TUI's key table (see keymap.h). Adding a key here puts it in
 * the help screen; the keymap unit test then asks for it in the man page. */
#include "keymap.h"

#include <curses.h>
#include <stdio.h>
#include <string.h>

#define CTRL(c) ((c) & 0x1f)

static const tui_binding tui_bindings[] = {
    {TUI_ACT_NEXT_PANE, {{'\t', "Tab"}}, TUI_IN_ALL, "pane", "move to the next pane"},
    {TUI_ACT_PREV_PANE, {{KEY_BTAB, "Shift-Tab"}}, TUI_IN_ALL, "", "move to the previous pane"},
    {TUI_ACT_UP, {{KEY_UP, "Up"}, {'k', "k"}}, TUI_IN_ALL, "", "select the row above"},
    {TUI_ACT_DOWN, {{KEY_DOWN, "Down"}, {'j', "j"}}, TUI_IN_ALL, "", "select the row below"},
    {TUI_ACT_PAGE_UP, {{KEY_PPAGE, "PgUp"}}, TUI_IN_ALL, "", "move a page up"},
    {TUI_ACT_PAGE_DOWN, {{KEY_NPAGE, "PgDn"}}, TUI_IN_ALL, "", "move a page down"},
    {TUI_ACT_HOME, {{KEY_HOME, "Home"}, {'g', "g"}}, TUI_IN_ALL, "", "select the first row"},
    {TUI_ACT_END, {{KEY_END, "End"}, {'G', "G"}}, TUI_IN_ALL, "", "select the last row"},
    {TUI_ACT_OPEN, {{'\n', "Enter"}, {'\r', NULL}}, TUI_IN_PROFILES | TUI_IN_VMS, "open",
     "open the selection: edit a profile, view a VM's serial log"},
    {TUI_ACT_NEW, {{'n', "n"}}, TUI_IN_PROFILES | TUI_IN_VMS, "new",
     "new profile (preset picker or random) or new VM (form)"},
    {TUI_ACT_EDIT, {{'e', "e"}}, TUI_IN_PROFILES | TUI_IN_VMS, "edit",
     "edit every field of the profile, or a stopped VM's settings (vm edit)"},
    {TUI_ACT_DELETE, {{'d', "d"}, {KEY_DC, "Delete"}}, TUI_IN_ALL, "delete",
     "delete the profile, VM or snapshot (asks first)"},
    {TUI_ACT_START, {{'s', "s"}}, TUI_IN_VMS, "start", "start the VM (a paused one: resume it)"},
    {TUI_ACT_STOP, {{'S', "S"}}, TUI_IN_VMS, "stop", "stop the VM (ACPI power button)"},
    {TUI_ACT_FORCE_STOP, {{'x', "x"}}, TUI_IN_VMS, "force",
     "force the VM off (QEMU ends at once; asks first)"},
    {TUI_ACT_LOG, {{'l', "l"}}, TUI_IN_VMS, "log",
     "view the VM's serial log (scrolls, follows new lines)"},
    {TUI_ACT_CONSOLE, {{'c', "c"}}, TUI_IN_VMS, "console",
     "attach the serial console (Ctrl-] returns); while an operation runs: cancel it"},
    {TUI_ACT_INSTALL, {{'i', "i"}}, TUI_IN_VMS, "install",
     "install a host file into the running VM (copy, then its installer; Esc cancels)"},
    {TUI_ACT_AUDIT, {{'A', "A"}}, TUI_IN_VMS, "audit",
     "audit the identity from inside the running guest (vm audit)"},
    {TUI_ACT_DISPLAY, {{'D', "D"}}, TUI_IN_VMS, "display",
     "how to see the VM's screen from your machine (vm display)"},
    {TUI_ACT_SNAP_TAKE, {{'p', "p"}}, TUI_IN_VMS | TUI_IN_SNAPSHOTS, "snapshot",
     "take a snapshot of the VM (asks for its tag; with its memory state when it runs)"},
    {TUI_ACT_SNAP_RESTORE, {{'r', "r"}}, TUI_IN_SNAPSHOTS, "restore",
     "restore the VM to the selected snapshot (asks first)"},
    {TUI_ACT_CANCEL, {{27, "Esc"}}, TUI_IN_ALL, "",
     "cancel the running operation where that is safe"},
    {TUI_ACT_EXPORT, {{'o', "o"}}, TUI_IN_PROFILES, "export",
     "export the profile to a JSON file (asks for the path)"},
    {TUI_ACT_IMPORT, {{'i', "i"}}, TUI_IN_PROFILES, "import",
     "import profiles from a JSON file (asks for the path)"},
    {TUI_ACT_FILTER, {{'/', "/"}}, TUI_IN_ALL, "filter", "filter the focused list by name"},
    {TUI_ACT_HELP, {{'?', "?"}, {KEY_F(1), "F1"}}, TUI_IN_ALL, "help", "show every key"},
    {TUI_ACT_THEME, {{'T', "T"}}, TUI_IN_ALL, "", "switch to the next colour theme"},
    {TUI_ACT_SLOWER, {{'+', "+"}}, TUI_IN_ALL, "",
     "live usage: a reading less often (up to 5 s; a longer window)"},
    {TUI_ACT_FASTER, {{'-', "-"}}, TUI_IN_ALL, "",
     "live usage: a reading more often (down to 100 ms)"},
    {TUI_ACT_REDRAW, {{CTRL('l'), "Ctrl-L"}}, TUI_IN_ALL, "", "redraw the screen"},
    {TUI_ACT_QUIT, {{'q', "q"}, {KEY_F(10), "F10"}}, TUI_IN_ALL, "quit",
     "quit (asks while an operation runs); VMs keep running"},
};

const tui_binding *tui_keymap(size_t *count)
{
    *count = sizeof tui_bindings / sizeof tui_bindings[0];
    return tui_bindings;
}

tui_action tui_keymap_lookup(int code, int pane)
{
    unsigned bit = (pane >= 0 && pane < 3) ? 1u << pane : TUI_IN_ALL;
    size_t n;
    const tui_binding *b = tui_keymap(&n);
    for (size_t i = 0; i < n; i++) {
        if (!(b[i].where & bit))
            continue; /* the same key may act elsewhere (i: import, install) */
        for (size_t k = 0; k < 4 && (b[i].keys[k].name || b[i].keys[k].code); k++)
            if (b[i].keys[k].code == code)
                return b[i].action;
    }
    if (code == KEY_ENTER)
        return tui_keymap_lookup('\n', pane);
    return TUI_ACT_NONE;
}

const char *tui_keymap_names(const tui_binding *b, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t k = 0; k < 4 && (b->keys[k].name || b->keys[k].code); k++) {
        if (!b->keys[k].name)
            continue;
        int n = snprintf(buf + used, size - used, "%s%s", used ? ", " : "", b->keys[k].name);
        if (n < 0 || (size_t)n >= size - used)
            break;
        used += (size_t)n;
    }
    return buf;
}

const char *tui_keymap_where(unsigned where)
{
    switch (where & TUI_IN_ALL) {
    case TUI_IN_PROFILES:
        return "Profiles";
    case TUI_IN_VMS:
        return "VMs";
    case TUI_IN_SNAPSHOTS:
        return "Snapshots";
    case TUI_IN_PROFILES | TUI_IN_VMS:
        return "Profiles, VMs";
    case TUI_IN_VMS | TUI_IN_SNAPSHOTS:
        return "VMs, Snapshots";
    case TUI_IN_PROFILES | TUI_IN_SNAPSHOTS:
        return "Profiles, Snaps";
    default:
        return "any pane";
    }
}

const tui_binding *tui_keymap_find(tui_action act)
{
    size_t n;
    const tui_binding *b = tui_keymap(&n);
    for (size_t i = 0; i < n; i++)
        if (b[i].action == act)
            return &b[i];
    return NULL;
}
