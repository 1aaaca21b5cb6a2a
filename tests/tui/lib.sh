# lib.sh - drives the real ./privarion-vm in a real terminal: a private tmux server per
# test (tmux -L pvm-PID -f /dev/null), keys in, screen text out, bounded polls that fail
# loudly with the screen. Sourced by tests/tui/test_*; builds on tests/e2e/lib.sh (the
# throw-away home, pvm, expect_*, finish).
# shellcheck shell=bash

# shellcheck source=../e2e/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib.sh"

if ! command -v tmux >/dev/null; then
    echo "FAIL: tmux is needed for the TUI tests (make deps installs it)"
    exit 1
fi

TUI_RUNS=0
TUI_SERVER=pvm-$$-0 # one server per tui_run: a new one never races the old one's exit
TUI_TARGET=pvm:0.0
TUI_STATUS=    # exit status of the program in the pane, once it has ended
TUI_STATUS_FILE=/dev/null
export XDG_CONFIG_HOME=$T_DIR/config
export PRIVARION_VM_ACCEL=tcg
mkdir -p "$XDG_CONFIG_HOME" "$PRIVARION_VM_HOME"
# The first-run starter (a dialog on a start with an empty store) is declined up front
# unless the test is about it (TUI_OFFER_STARTER=1 before sourcing this file).
[ "${TUI_OFFER_STARTER:-0}" = 1 ] || : >"$PRIVARION_VM_HOME/starter-declined"

tui_tmux() { tmux -L "$TUI_SERVER" -f /dev/null "$@"; }

# Every VM of the test home is ended (a test never leaves QEMU running), then the
# tmux servers, then the folder. A test with more to end (a server it started) defines
# tui_cleanup_extra, which runs first.
tui_cleanup() {
    local ids
    if declare -F tui_cleanup_extra >/dev/null; then tui_cleanup_extra; fi
    ids=$("$PVM_BIN" --home "$PRIVARION_VM_HOME" vm list --json 2>/dev/null |
        python3 -c 'import json,sys
for v in json.load(sys.stdin):
    if v.get("state") in ("running", "paused"): print(v["id"])' 2>/dev/null)
    for id in $ids; do
        "$PVM_BIN" --home "$PRIVARION_VM_HOME" vm stop --force "$id" >/dev/null 2>&1
    done
    local i
    for ((i = 0; i <= TUI_RUNS; i++)); do
        tmux -L "pvm-$$-$i" -f /dev/null kill-server 2>/dev/null
    done
    rm -rf "$T_DIR"
}
trap tui_cleanup EXIT

# tui_run [-x COLS] [-y ROWS] [-t TERM] [-l LANG] [-e VAR=VALUE]... -- COMMAND [ARGS...]
# Starts COMMAND in a fresh tmux window of COLSxROWS (default 120x40) with TERM (default
# xterm-256color) and LANG (default C.UTF-8; LC_ALL is cleared). The pane stays after the
# program ends so its last screen and exit status can be read.
tui_run() {
    local cols=120 rows=40 term=xterm-256color lang=C.UTF-8
    local -a envs=()
    while [ $# -gt 0 ]; do
        case $1 in
        -x) cols=$2; shift 2 ;;
        -y) rows=$2; shift 2 ;;
        -t) term=$2; shift 2 ;;
        -l) lang=$2; shift 2 ;;
        -e) envs+=("$2"); shift 2 ;;
        --) shift; break ;;
        *) break ;;
        esac
    done
    # The program runs under a shell that starts it only once tmux is set up (a FIFO
    # says go: nothing it prints can be lost to the pane being set up), writes its exit
    # status to a file (tmux does not always report it) and keeps the pane for 3 s before
    # ending: tmux can drop the last output of a pane whose process exits at once, and
    # 0.3 s was not enough on a loaded machine (test_themes lost a usage error). Nothing
    # waits for the pane to die; the status file says when the program ended.
    TUI_RUNS=$((TUI_RUNS + 1))
    TUI_STATUS_FILE=$T_DIR/status.$TUI_RUNS
    local go=$T_DIR/go.$TUI_RUNS cmd
    mkfifo "$go" || { fail "mkfifo $go failed"; return 1; }
    # (trap : INT: a Ctrl-C sent to the pane ends the program, by the signal as it should,
    # and not this shell, which a SIGINT death of its child would otherwise also end)
    cmd=$(printf '%q ' bash -c 'trap : INT; read -r _ <"$1"; "${@:3}"; s=$?; echo $s >"$2"; sleep 3; exit $s' \
        tui-run "$go" "$TUI_STATUS_FILE" env -u LC_ALL "TERM=$term" "LANG=$lang" \
        "PRIVARION_VM_HOME=$PRIVARION_VM_HOME" "XDG_CONFIG_HOME=$XDG_CONFIG_HOME" \
        "PRIVARION_VM_ACCEL=$PRIVARION_VM_ACCEL" ${envs[@]+"${envs[@]}"} "$@")
    TUI_STATUS=
    tui_tmux kill-server 2>/dev/null
    TUI_SERVER=pvm-$$-$TUI_RUNS
    # Options first, in the same command list: the pane never changes size after it starts.
    tui_tmux start-server \; set-option -g remain-on-exit on \; set-option -g status off \; \
        new-session -d -s pvm -x "$cols" -y "$rows" "$cmd" || {
        fail "tmux new-session failed"
        return 1
    }
    # Bounded: a pane whose shell never opens the FIFO fails here, not forever.
    timeout 10 bash -c 'echo go >"$1"' _ "$go" || { fail "the pane's shell did not start"; return 1; }
}

# tui_start [tui_run options] [--] [ARGS...]: the program itself, with ARGS (none: the TUI).
tui_start() {
    local -a opts=()
    while [ $# -gt 0 ]; do
        case $1 in
        -x | -y | -t | -l | -e) opts+=("$1" "$2"); shift 2 ;;
        --) shift; break ;;
        *) break ;;
        esac
    done
    tui_run ${opts[@]+"${opts[@]}"} -- "$PVM_BIN" "$@"
}

# tui_send KEY...: tmux key names (Enter, Tab, BTab, Escape, C-l, F1, Up, ...) or words.
tui_send() { tui_tmux send-keys -t "$TUI_TARGET" "$@"; }
# tui_type TEXT: TEXT as literal characters.
tui_type() { tui_tmux send-keys -t "$TUI_TARGET" -l "$1"; }

# The screen as text, one line per row.
tui_screen() { tui_tmux capture-pane -p -t "$TUI_TARGET"; }

tui_fail_screen() { # what
    fail "$1" "$(tui_screen 2>&1 | sed 's/^/|/')"
}

# tui_wait_for TEXT [TIMEOUT_S=10]: polls the screen every 0.1 s until it shows TEXT (a
# fixed string); counts a pass, or a failure printing the screen. Returns 0 or 1.
tui_wait_for() {
    local text=$1 limit=$(( ${2:-10} * 10 )) i
    for ((i = 0; i <= limit; i++)); do
        if tui_screen 2>/dev/null | grep -qF -- "$text"; then
            pass
            return 0
        fi
        sleep 0.1
    done
    tui_fail_screen "waited ${2:-10} s for [$text] on the screen"
    return 1
}

# tui_wait_match REGEX [TIMEOUT_S=10]: the same for an extended regular expression
# matched within one screen line (e.g. 'box +running' for a list row).
tui_wait_match() {
    local re=$1 limit=$(( ${2:-10} * 10 )) i
    for ((i = 0; i <= limit; i++)); do
        if tui_screen 2>/dev/null | grep -qE -- "$re"; then
            pass
            return 0
        fi
        sleep 0.1
    done
    tui_fail_screen "waited ${2:-10} s for a line matching /$re/ on the screen"
    return 1
}

# tui_wait_gone TEXT [TIMEOUT_S=10]: the same, until TEXT is no longer on the screen.
tui_wait_gone() {
    local text=$1 limit=$(( ${2:-10} * 10 )) i
    for ((i = 0; i <= limit; i++)); do
        if ! tui_screen 2>/dev/null | grep -qF -- "$text"; then
            pass
            return 0
        fi
        sleep 0.1
    done
    tui_fail_screen "waited ${2:-10} s for [$text] to leave the screen"
    return 1
}

# tui_wait_exit [TIMEOUT_S=10]: until the program in the pane has ended; sets TUI_STATUS
# to its exit status. Counts a pass, or a failure with the screen.
tui_wait_exit() {
    local limit=$(( ${1:-10} * 10 )) i
    for ((i = 0; i <= limit; i++)); do
        if [ -s "$TUI_STATUS_FILE" ]; then
            TUI_STATUS=$(cat "$TUI_STATUS_FILE")
            pass
            return 0
        fi
        sleep 0.1
    done
    tui_fail_screen "the program did not end within ${1:-10} s"
    return 1
}

# The pid of the program running in the pane (the child of the pane's shell; `env` has
# exec'd it), empty when it has ended.
tui_pid() {
    local shell_pid
    shell_pid=$(tui_tmux display-message -p -t "$TUI_TARGET" '#{pane_pid}' 2>/dev/null) || return 0
    [ -n "$shell_pid" ] && pgrep -P "$shell_pid" | head -n 1
}

# tui_resize COLS ROWS: the terminal changes size (the program gets SIGWINCH).
tui_resize() { tui_tmux resize-window -t pvm -x "$1" -y "$2"; }

# tui_stop: ends the tmux server and whatever runs in it.
tui_stop() { tui_tmux kill-server 2>/dev/null; return 0; }

# expect_screen_has TEXT what / expect_screen_lacks TEXT what: one look, no waiting.
expect_screen_has() {
    if tui_screen | grep -qF -- "$1"; then pass; else tui_fail_screen "$2: screen lacks [$1]"; fi
}
expect_screen_lacks() {
    if ! tui_screen | grep -qF -- "$1"; then pass; else tui_fail_screen "$2: screen shows [$1]"; fi
}
