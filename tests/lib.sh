# tests/lib.sh — TAP helpers and fixtures for script tests. Source it:  . "$ROOT/tests/lib.sh"
# Every helper prints `ok N - desc` or `not ok N - desc`; finish with `done_testing`.
# shellcheck shell=bash
set -u
ROOT=${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
BS_BIN=${BS_BIN:-$ROOT/bin}
# shellcheck disable=SC2034 # used by the tests that source this file
REF=$ROOT/data/reference
_tap_n=0
_tap_failed=0

# A private scratch directory, removed at exit; processes started with bg are killed.
T=$(mktemp -d "${TMPDIR:-/tmp}/bs-test.XXXXXX")
_bg_pids=()
_cleanup() {
    local p
    for p in "${_bg_pids[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${_bg_pids[@]}"; do wait "$p" 2>/dev/null; done
    [ -n "${KEEP_TMP:-}" ] || rm -rf "$T"
}
trap _cleanup EXIT

ok() { # ok CONDITION_EXIT_STATUS DESC  — use as: ok $? "desc"  or  cmd; ok $? desc
    _tap_n=$((_tap_n + 1))
    if [ "$1" = 0 ]; then echo "ok $_tap_n - $2"; else echo "not ok $_tap_n - $2"; _tap_failed=$((_tap_failed + 1)); fi
}
pass() { ok 0 "$1"; }
fail() { ok 1 "$1"; }
is() { # is GOT EXPECTED DESC
    if [ "$1" = "$2" ]; then ok 0 "$3"; else ok 1 "$3"; diag "got:      '$1'"; diag "expected: '$2'"; fi
}
like() { # like GOT ERE DESC
    if printf '%s' "$1" | grep -qE -- "$2"; then ok 0 "$3"; else ok 1 "$3"; diag "got: '$(printf '%s' "$1" | head -c 2000)'"; diag "expected to match: $2"; fi
}
unlike() {
    if printf '%s' "$1" | grep -qE -- "$2"; then ok 1 "$3"; diag "got: '$(printf '%s' "$1" | head -c 2000)'"; diag "expected not to match: $2"; else ok 0 "$3"; fi
}
diag() { echo "# $*"; }
done_testing() { echo "1..$_tap_n"; [ "$_tap_failed" = 0 ]; }

# free_port: prints a TCP port on 127.0.0.1 that is free right now.
free_port() {
    python3 - <<'PY'
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()
PY
}
# bg CMD...: start a background process, killed at exit. Sets BG_PID.
bg() { "$@" & BG_PID=$!; _bg_pids+=("$BG_PID"); }
# wait_port PORT [SECONDS]: wait until something listens on 127.0.0.1:PORT.
wait_port() {
    local _
    for _ in $(seq 1 $(( ${2:-10} * 20 ))); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}
# wait_for CMD...: retry a command for up to 10 s.
wait_for() { wait_until 10 "$@"; }
# wait_until SECONDS CMD...: retry a command for up to SECONDS.
wait_until() {
    local _ n=$(( $1 * 20 ))
    shift
    for _ in $(seq 1 "$n"); do "$@" && return 0; sleep 0.05; done
    return 1
}
# netns_resolver: inside a test's private network namespace (unshare -n -m), loopback up
# and /etc/resolv.conf naming 127.0.0.1 (a bind mount private to the namespace), where the
# test's dnsmasq, if any, answers. Non-zero when either step fails.
netns_resolver() {
    ip link set lo up || return 1
    echo "nameserver 127.0.0.1" > "$T/resolv.conf"
    mount --bind "$T/resolv.conf" /etc/resolv.conf
}

# log_cat LOGFILE: the sink's log across its daily rotation: the rotated files
# LOGFILE.YYYY-MM-DD, oldest first, then LOGFILE. report rotates at local midnight, so a
# test that counts lines while the sink runs reads them all (a run across midnight found
# part of its lines in the day's file only, and waited for lines already written).
log_cat() {
    local f
    for f in "$1".[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]; do
        [ -f "$f" ] && cat -- "$f"
    done
    [ ! -f "$1" ] || cat -- "$1"
}
