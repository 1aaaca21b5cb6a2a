# lib.sh - shared helpers for the integration tests that boot the test guest
# through the real ./privarion-vm: a throw-away home, counted assertions, the
# guest's report lines, and a trap that never leaves a QEMU behind.
# Sourced by tests/integration/test_vm_*. shellcheck shell=bash

set -u
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 1
PVM_BIN=${PVM_BIN:-$PWD/privarion-vm}
BOOT_LIMIT=${PVM_GUEST_BOOT_LIMIT:-300} # seconds before a boot counts as hung (not a timing check)
T_PASS=0
T_FAIL=0

die() { echo "FAIL: $*"; exit 1; }
[ -x "$PVM_BIN" ] || die "$PVM_BIN is missing (run make first)"
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)"
command -v qemu-img >/dev/null || die "qemu-img is not installed (apt-get install qemu-utils)"
command -v python3 >/dev/null || die "python3 is needed to read JSON output"

# Short: the runtime folder is keyed by VM id, but keep everything we own in one place.
T_DIR=$(mktemp -d /tmp/pvm-it.XXXXXX) || exit 1
export PRIVARION_VM_HOME=$T_DIR/home
export PRIVARION_VM_ACCEL=tcg # KVM guests hang on these machines (QEMU-NOTES.md)
mkdir -p "$PRIVARION_VM_HOME"
T_OUT=$T_DIR/stdout
T_ERR=$T_DIR/stderr
RC=0
OUT=
ERR=

# Every QEMU whose command line names our home: ours, ended by pid.
our_qemu_pids() {
    local f pid
    for f in /proc/[0-9]*/cmdline; do
        pid=${f#/proc/}
        pid=${pid%/cmdline}
        { tr '\0' '\n' <"$f"; } 2>/dev/null | grep -qF "$PRIVARION_VM_HOME/" && echo "$pid"
    done
    return 0
}

cleanup() {
    local p
    for p in $(our_qemu_pids); do
        kill -9 "$p" 2>/dev/null
    done
    if [ "$T_FAIL" -gt 0 ] || [ "${PVM_KEEP:-0}" = 1 ]; then
        echo "test home kept in $T_DIR"
    else
        rm -rf "$T_DIR"
    fi
    return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# pvm ARGS...: runs the program on the test home; sets RC, OUT, ERR.
pvm() {
    "$PVM_BIN" --home "$PRIVARION_VM_HOME" "$@" >"$T_OUT" 2>"$T_ERR" </dev/null
    RC=$?
    OUT=$(cat "$T_OUT")
    ERR=$(cat "$T_ERR")
}

pass() { T_PASS=$((T_PASS + 1)); }
fail() { T_FAIL=$((T_FAIL + 1)); echo "FAIL: $*"; }

# ok DESCRIPTION: the last pvm call succeeded.
ok() {
    if [ "$RC" -eq 0 ]; then pass; else fail "$1 (exit $RC): $ERR"; fi
}
# rc_is N DESCRIPTION
rc_is() {
    if [ "$RC" -eq "$1" ]; then pass; else fail "$2: exit $RC, expected $1; stderr: $ERR"; fi
}
# eq ACTUAL EXPECTED DESCRIPTION: byte for byte.
eq() {
    if [ "$1" == "$2" ]; then pass; else fail "$3: got [$1], expected [$2]"; fi
}
# has TEXT NEEDLE DESCRIPTION
has() {
    case $1 in
    *"$2"*) pass ;;
    *) fail "$3: [$2] not in [$1]" ;;
    esac
}

# json_field NAME KEY: a field of `vm show NAME --json` ("" for null).
json_field() {
    "$PVM_BIN" --home "$PRIVARION_VM_HOME" vm show "$1" --json 2>/dev/null |
        python3 -c 'import json,sys; v=json.load(sys.stdin).get(sys.argv[1]); print("" if v is None else v)' "$2"
}

vm_state() { json_field "$1" state; }
vm_pid() { json_field "$1" pid; }

# guest_dir: the cached test guest (vmlinuz, initramfs.gz).
guest_dir() {
    local g
    g=$(tests/guest/build --print-dir) || die "tests/guest/build failed"
    [ -s "$g/vmlinuz" ] && [ -s "$g/initramfs.gz" ] || die "$g has no vmlinuz/initramfs.gz"
    echo "$g"
}

# config KEY=VALUE...: writes the home's config file (caps for several guests at once).
config() {
    local kv
    : >"$PRIVARION_VM_HOME/config"
    for kv in "$@"; do
        echo "${kv%%=*} = ${kv#*=}" >>"$PRIVARION_VM_HOME/config"
    done
}

# console NAME: the VM's serial log with carriage returns removed.
console() {
    "$PVM_BIN" --home "$PRIVARION_VM_HOME" vm log "$1" 2>/dev/null | tr -d '\r'
}

# wait_report NAME: waits (bounded) until the guest printed PVM-END; 0 when it did.
wait_report() {
    local i
    for ((i = 0; i < BOOT_LIMIT * 2; i++)); do
        console "$1" | grep -q '^PVM-END' && return 0
        [ "$(vm_state "$1")" = running ] || break
        # a guest kernel whose CPU has been stuck for over a minute before its report has
        # hung: say so now rather than after the whole limit (the kernel prints it even
        # with "quiet"; a shorter lockup on a loaded host may still recover)
        console "$1" | grep -qE 'soft lockup - CPU#[0-9]+ stuck for ([6-9][0-9]|[0-9]{3,})s' && break
        sleep 0.5
    done
    fail "$1: no PVM-END on the console (state $(vm_state "$1")); console tail:"
    console "$1" | tail -n 15 | sed 's/^/    | /'
    return 1
}

# report NAME KEY: the value of "PVM KEY=..." in the guest's report.
report() {
    console "$1" | sed -n "s/^PVM $2=//p" | head -n 1
}
# report_has NAME KEY: the key was reported at all (an empty value counts).
report_has() {
    console "$1" | grep -q "^PVM $2="
}

# finish: prints the count; the exit status says whether anything failed.
finish() {
    echo "$T_PASS passed, $T_FAIL failed"
    [ "$T_FAIL" -eq 0 ] && [ "$T_PASS" -gt 0 ]
}

# qga_sock NAME: the VM's guest-agent socket (runtime folder: this home's token
# from HOME/home-id, then 12 hex digits of the id).
qga_sock() {
    local id token
    id=$(json_field "$1" id)
    id=${id//-/}
    token=$(cut -d' ' -f1 "$PRIVARION_VM_HOME/home-id")
    echo "/tmp/pvm-$(id -u)/$token-${id:0:12}/qga.sock"
}

# guest_sh NAME COMMAND: runs COMMAND with /bin/sh inside the guest through the guest agent
# (guest-exec), prints its stdout; the exit status is the command's (100+ for agent trouble).
guest_sh() {
    python3 - "$(qga_sock "$1")" "$2" <<'PY'
import base64, json, random, socket, sys, time

def send(s, msg):
    s.sendall(json.dumps(msg).encode() + b"\n")

def reply(f):
    while True:
        line = f.readline()
        if not line:
            sys.exit(101)
        r = json.loads(line.lstrip(b"\xff"))
        if "error" in r:
            print("agent error: %s" % r["error"], file=sys.stderr)
            sys.exit(102)
        if "return" in r:
            return r["return"]

s = socket.socket(socket.AF_UNIX)
s.settimeout(60)
try:
    s.connect(sys.argv[1])
except OSError as e:
    print("guest agent %s: %s" % (sys.argv[1], e), file=sys.stderr)
    sys.exit(100)
f = s.makefile("rb")
sync = random.randint(1, 2**31)
s.sendall(b"\xff")  # resets the agent's parser; it answers that byte with an error
send(s, {"execute": "guest-sync-delimited", "arguments": {"id": sync}})
while True:  # skip that error and stale replies until our id comes back
    line = f.readline()
    if not line:
        sys.exit(101)
    if json.loads(line.lstrip(b"\xff") or b"{}").get("return") == sync:
        break
send(s, {"execute": "guest-exec",
         "arguments": {"path": "/bin/sh", "arg": ["-c", sys.argv[2]], "capture-output": True}})
pid = reply(f)["pid"]
for _ in range(600):
    send(s, {"execute": "guest-exec-status", "arguments": {"pid": pid}})
    st = reply(f)
    if st.get("exited"):
        sys.stdout.write(base64.b64decode(st.get("out-data", "")).decode(errors="replace"))
        sys.exit(st.get("exitcode", 103))
    time.sleep(0.1)
sys.exit(104)
PY
}

# ata_ids NAME: "serial|firmware|model" of each ATA/ATAPI device the guest's libata found,
# decoded from the IDENTIFY data in /sys/class/ata_device/*/id (words 10-19, 23-26, 27-46).
ata_ids() {
    guest_sh "$1" 'for d in /sys/class/ata_device/*; do tr "\n" " " <"$d/id"; echo; done' |
        python3 -c '
import sys
def text(words):
    return bytes.fromhex("".join(words)).decode("ascii", "replace").strip()
for line in sys.stdin:
    w = line.split()
    if len(w) >= 47 and any(x != "0000" for x in w[10:47]):
        print("%s|%s|%s" % (text(w[10:20]), text(w[23:27]), text(w[27:47])))'
}
