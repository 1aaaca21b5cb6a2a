/* keymap.h - the one table of the TUI's keys: tui.c looks keys up in it, help.c
 * lists it, and tests/unit/test_tui_keymap.c checks man/privarion-vm.1 lists the
 * same keys. No curses in this header (key codes are plain ints). */
#ifndef PVM_TUI_KEYMAP_H
#define PVM_TUI_KEYMAP_H

#include <stddef.h>

typedef enum {
    TUI_ACT_NONE = 0,
    TUI_ACT_NEXT_PANE,
    TUI_ACT_PREV_PANE,
    TUI_ACT_UP,
    TUI_ACT_DOWN,
    TUI_ACT_PAGE_UP,
    TUI_ACT_PAGE_DOWN,
    TUI_ACT_HOME,
    TUI_ACT_END,
    TUI_ACT_OPEN,
    TUI_ACT_NEW,
    TUI_ACT_EDIT,
    TUI_ACT_DELETE,
    TUI_ACT_START,
    TUI_ACT_STOP,
    TUI_ACT_FORCE_STOP,
    TUI_ACT_LOG,
    TUI_ACT_CONSOLE,
    TUI_ACT_CANCEL,
    TUI_ACT_SNAP_TAKE,
    TUI_ACT_SNAP_RESTORE,
    TUI_ACT_EXPORT,
    TUI_ACT_IMPORT,
    TUI_ACT_FILTER,
    TUI_ACT_HELP,
    TUI_ACT_THEME,
    TUI_ACT_REDRAW,
    TUI_ACT_QUIT,
    TUI_ACT_SLOWER, /* + : a longer live-usage interval */
    TUI_ACT_FASTER, /* - : a shorter one */
    TUI_ACT_INSTALL, /* i on a VM: install a host file (vmwork.c) */
    TUI_ACT_AUDIT,   /* A: vm audit */
    TUI_ACT_DISPLAY, /* D: vm display's instructions */
    TUI_ACT_COUNT
} tui_action;

/* Where a key acts: a bit per list pane, or everywhere. */
enum {
    TUI_IN_PROFILES = 1u << 0,
    TUI_IN_VMS = 1u << 1,
    TUI_IN_SNAPSHOTS = 1u << 2,
    TUI_IN_ALL = 7u,
};

typedef struct tui_key {
    int code;           /* what getch() returns */
    const char *name;   /* as the help screen and the man page spell it */
} tui_key;

typedef struct tui_binding {
    tui_action action;
    tui_key keys[4];    /* the keys that do it; name NULL ends the list */
    unsigned where;     /* TUI_IN_* */
    const char *hint;   /* the word on the hint line, "" when not shown there */
    const char *help;   /* one line for the help screen and the man page */
} tui_binding;

/* The table, in the order help lists it. */
const tui_binding *tui_keymap(size_t *count);
/* The action of key code in pane (0 profiles, 1 VMs, 2 snapshots); TUI_ACT_NONE when none. */
tui_action tui_keymap_lookup(int code, int pane);
/* The binding's key names joined by ", " (e.g. "Up, k") into buf. */
const char *tui_keymap_names(const tui_binding *b, char *buf, size_t size);
/* Where a binding acts (its where bits), as the help screen's pane column says it:
 * "VMs", "VMs, Snapshots", ... "any pane" for every pane; at most 15 characters. */
const char *tui_keymap_where(unsigned where);
/* The binding of an action, NULL when none. */
const tui_binding *tui_keymap_find(tui_action act);

#endif
