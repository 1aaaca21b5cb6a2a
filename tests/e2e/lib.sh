# lib.sh - shared helpers for the end-to-end tests of ./privarion-vm.
# Sourced by tests/e2e/test_*: a throw-away home, a runner that captures stdout,
# stderr and the exit status, counted assertions, and state.db fingerprints.
# shellcheck shell=bash

set -u
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 1
# PVM_BIN may name another build (e.g. one under ASan); ./privarion-vm by default.
PVM_BIN=${PVM_BIN:-$PWD/privarion-vm}
if [ ! -x "$PVM_BIN" ]; then
    echo "FAIL: $PVM_BIN is missing (run make first)"
    exit 1
fi
if ! command -v python3 >/dev/null; then
    echo "FAIL: python3 is needed to check JSON output"
    exit 1
fi

T_PASS=0
T_FAIL=0
T_DIR=$(mktemp -d "${TMPDIR:-/tmp}/pvm-e2e.XXXXXX") || exit 1
trap 'rm -rf "$T_DIR"' EXIT
T_OUT=$T_DIR/stdout
T_ERR=$T_DIR/stderr
# The home every test uses: given both by --home and by the environment.
export PRIVARION_VM_HOME=$T_DIR/home
export XDG_DATA_HOME=$T_DIR/xdg
export PRIVARION_VM_ACCEL=tcg
RC=0
OUT=
ERR=

# pvm ARGS... : runs the program on the test home; sets RC, OUT, ERR
# (stdout and stderr are also kept byte for byte in $T_OUT and $T_ERR).
pvm() {
    "$PVM_BIN" --home "$PRIVARION_VM_HOME" "$@" >"$T_OUT" 2>"$T_ERR" </dev/null
    RC=$?
    OUT=$(cat "$T_OUT")
    ERR=$(cat "$T_ERR")
}

# pvm_stdin FILE ARGS... : as pvm, with FILE on standard input.
pvm_stdin() {
    local in=$1
    shift
    "$PVM_BIN" --home "$PRIVARION_VM_HOME" "$@" >"$T_OUT" 2>"$T_ERR" <"$in"
    RC=$?
    OUT=$(cat "$T_OUT")
    ERR=$(cat "$T_ERR")
}

# pvm_raw ARGS... : runs the program with no --home (environment decides).
pvm_raw() {
    "$PVM_BIN" "$@" >"$T_OUT" 2>"$T_ERR" </dev/null
    RC=$?
    OUT=$(cat "$T_OUT")
    ERR=$(cat "$T_ERR")
}

pass() { T_PASS=$((T_PASS + 1)); }
fail() { # what [detail]
    T_FAIL=$((T_FAIL + 1))
    echo "FAIL: $1"
    if [ -n "${2:-}" ]; then printf '%s\n' "$2" | sed 's/^/      /'; fi
}

# The last command's output, shown when an assertion about it fails.
last_run() { printf 'exit %s\nstdout: %s\nstderr: %s' "$RC" "${OUT:0:600}" "${ERR:0:600}"; }

expect_rc() { # status what
    if [ "$RC" -eq "$1" ]; then pass; else fail "$2: expected exit $1, got $RC" "$(last_run)"; fi
}

expect_eq() { # actual expected what
    if [ "$1" == "$2" ]; then pass; else fail "$3" "expected: [$2]
actual:   [$1]"; fi
}

expect_ne() { # actual unexpected what
    if [ "$1" != "$2" ]; then pass; else fail "$3" "both are: [$1]"; fi
}

expect_out_has() { # text what
    if [[ "$OUT" == *"$1"* ]]; then pass; else fail "$2: stdout lacks [$1]" "$(last_run)"; fi
}

expect_err_has() { # text what
    if [[ "$ERR" == *"$1"* ]]; then pass; else fail "$2: stderr lacks [$1]" "$(last_run)"; fi
}

expect_err_empty() { # what
    if [ ! -s "$T_ERR" ]; then pass; else fail "$1: stderr not empty" "$(last_run)"; fi
}

expect_out_empty() { # what
    if [ ! -s "$T_OUT" ]; then pass; else fail "$1: stdout not empty" "$(last_run)"; fi
}

# stderr is exactly one line "privarion-vm: ...".
expect_err_one_line() { # what
    local lines
    lines=$(wc -l <"$T_ERR")
    if [ "$lines" -eq 1 ] && [[ "$ERR" == "privarion-vm: "* ]]; then
        pass
    else
        fail "$1: stderr is not one 'privarion-vm: ...' line ($lines lines)" "$(last_run)"
    fi
}

expect_file_same() { # file1 file2 what
    if cmp -s "$1" "$2"; then pass; else fail "$3: $1 and $2 differ" "$(diff "$1" "$2" | head -20)"; fi
}

# JSON checks: python3 evaluates EXPR with `d` bound to the parsed stdout.
# json_eval EXPR -> prints the result; json_true EXPR what -> asserts it.
json_eval() {
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' \
        "$T_OUT" "$1" 2>&1
}

json_true() { # expr what
    local r
    r=$(json_eval "$1")
    if [ "$r" == "True" ]; then pass; else fail "$2: JSON check [$1] gave [$r]" "$(last_run)"; fi
}

# json_checks SCRIPT ARGS... : python3 runs SCRIPT with `d` bound to the parsed
# stdout and `check(ok, what)` to call once per assertion (many checks, one start).
json_checks() {
    local script=$1 line
    shift
    while IFS= read -r line; do
        case $line in
            "ok "*) pass ;;
            *) fail "${line#FAIL }" "$(last_run)" ;;
        esac
    done < <(python3 -c '
import json, re, sys
def check(ok, what):
    print(("ok " if ok else "FAIL ") + what)
try:
    d = json.load(open(sys.argv[1]))
except Exception as e:
    check(False, "stdout is not JSON: %s" % e); sys.exit(0)
args = sys.argv[3:]
exec(sys.argv[2])
' "$T_OUT" "$script" "$@" 2>&1)
}

expect_json() { # what : stdout parses as JSON
    if python3 -m json.tool "$T_OUT" >/dev/null 2>&1; then pass; else fail "$1: stdout is not JSON" "$(last_run)"; fi
}

# ------------------------------------------------------------ store state

# Fingerprint of the store: state.db and, when present, its write-ahead log.
# db_exec SQL: runs SQL on the home's state.db through Python's sqlite3 (to make a row no
# command would write, e.g. a name stored before today's rules); 1 on failure.
db_exec() {
    python3 -c 'import sqlite3, sys
c = sqlite3.connect(sys.argv[1]); n = c.execute(sys.argv[2]).rowcount; c.commit()
sys.exit(0 if n > 0 else 1)' "$PRIVARION_VM_HOME/state.db" "$1"
}

state_print() {
    local f
    for f in "$PRIVARION_VM_HOME/state.db" "$PRIVARION_VM_HOME/state.db-wal"; do
        if [ -e "$f" ]; then sha256sum <"$f" | cut -c1-64; else echo "absent"; fi
    done
}

STATE_BEFORE=
state_save() { STATE_BEFORE=$(state_print); }

expect_state_same() { # what
    local now
    now=$(state_print)
    if [ "$now" == "$STATE_BEFORE" ]; then pass; else fail "$1: state.db changed" "before: $STATE_BEFORE
after:  $now"; fi
}

# The opposite, to show the fingerprint does see a change.
expect_state_changed() { # what
    if [ "$(state_print)" != "$STATE_BEFORE" ]; then pass; else fail "$1: state.db did not change"; fi
}

# expect_rejected WHAT TEXT ARGS... : the command exits 2 with one stderr line
# containing TEXT (the field or flag it names) and leaves state.db byte-identical.
expect_rejected() {
    local what=$1 text=$2
    shift 2
    state_save
    pvm "$@"
    expect_rc 2 "$what"
    expect_err_one_line "$what"
    expect_err_has "$text" "$what"
    expect_state_same "$what"
}

# Same, with FILE on standard input.
expect_rejected_stdin() { # what text file args...
    local what=$1 text=$2 in=$3
    shift 3
    state_save
    pvm_stdin "$in" "$@"
    expect_rc 2 "$what"
    expect_err_one_line "$what"
    expect_err_has "$text" "$what"
    expect_state_same "$what"
}

# Prints the summary; exits non-zero when anything failed or nothing was checked.
finish() {
    local total=$((T_PASS + T_FAIL))
    echo "$(basename "$0"): $total assertions, $T_FAIL failed"
    if [ "$total" -eq 0 ]; then
        echo "FAIL: no assertions ran"
        exit 1
    fi
    [ "$T_FAIL" -eq 0 ] || exit 1
    exit 0
}
