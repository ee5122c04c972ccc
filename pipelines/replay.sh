#!/usr/bin/env bash
# pipelines/replay.sh — replay captured messages through the sink's stages.
#
#   replay.sh -c FILE [--dry-run] [--log FILE] [PATH...]
#
# PATH: .msg files, directories of them, or `-`/nothing for an mbox or single message on
# standard input. The files are read, never claimed or deleted. The stages are the live
# sink's: ingest | decide | act-http | act-smtp | report --once, and the /json summary is
# printed at the end. --dry-run makes no network request: no HTTP, no SMTP and no DNS
# lookup of MX hosts (act-smtp records dry_run with "the MX is not looked up"; MX_Override
# still routes); ingest still verifies DKIM and SPF, which asks DNS unless [Verify]
# DKIM_Key_File is set and SPF is off. The log lines go to [Sink] Logfile, or to --log FILE.
# When another process holds that log open (the live sink's report, as far as /proc shows
# this user), the replay is refused (exit 75) unless --log gives it its own. A progress
# line goes to stderr when it is a terminal.
# With a [Timing] section, schedule runs between decide and act-http on a store of its own
# (a temporary directory, removed at the end) and the replay lasts until the last action
# is due: set [Timing] Time_Scale to replay a week in minutes.
set -euo pipefail
usage() { echo "usage: replay.sh -c FILE [--dry-run] [--log FILE] [PATH...]" >&2; exit 64; }
bindir=${BS_BIN:-$(cd "$(dirname "$0")/.." && pwd)/bin}
conf="" dry=() log=()
while [ $# -gt 0 ]; do
    case $1 in
        -c) [ $# -ge 2 ] || usage; conf=$2; shift 2 ;;
        --dry-run) dry=(--dry-run); shift ;;
        --log) { [ $# -ge 2 ] && [ -n "$2" ]; } || usage; log=(--log "$2"); shift 2 ;;
        -h|--help) usage ;;
        --) shift; break ;;
        -?*) usage ;;
        *) break ;;
    esac
done
[ -n "$conf" ] || usage
# Typos in the file are reported here, once (the stages do not warn about names).
rc=0; "$bindir/bs-config" -c "$conf" --check || rc=$?
case $rc in 0 | 1) ;; *) exit 78 ;; esac
# The live sink's report writes the configured log: a second writer would interleave with
# it and rotate under it.
held_open() { # held_open FILE: some process has FILE open
    local fd
    for fd in /proc/[0-9]*/fd/*; do
        [ "$(readlink "$fd" 2>/dev/null)" != "$1" ] || return 0
    done
    return 1
}
if [ ${#log[@]} -eq 0 ]; then
    logfile=$(realpath -m "$("$bindir/bs-config" -c "$conf" --default Sink Logfile)")
    if held_open "$logfile"; then
        echo "replay.sh: error: $logfile is open in another process (a sink running with $conf?); give the replay its own log: --log FILE" >&2
        exit 75
    fi
fi
[ $# -gt 0 ] || set -- -
progress=()
if [ -t 2 ]; then
    total=0
    for p in "$@"; do
        if [ -d "$p" ]; then total=$((total + $(find "$p" -maxdepth 1 -name '*.msg' | wc -l)))
        elif [ -f "$p" ]; then total=$((total + 1)); fi
    done
    progress=(--progress "$total")
fi
schedule=(cat)
if grep -qi '^[[:space:]]*\[Timing\]' "$conf"; then
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    schedule=("$bindir/schedule" -c "$conf" --store "$tmp/schedule.sqlite" --acks none --drain)
fi
# ingest and report with glibc's larger per-thread cache of freed blocks, as
# pipelines/sink.sh runs them
tunables=${GLIBC_TUNABLES:-glibc.malloc.tcache_count=128}
GLIBC_TUNABLES=$tunables "$bindir/ingest" -c "$conf" "$@" \
  | "$bindir/decide" -c "$conf" \
  | "${schedule[@]}" \
  | "$bindir/act-http" -c "$conf" "${dry[@]}" \
  | "$bindir/act-smtp" -c "$conf" "${dry[@]}" \
  | GLIBC_TUNABLES=$tunables "$bindir/report" -c "$conf" --once "${log[@]}" "${progress[@]}"
