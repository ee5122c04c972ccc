#!/usr/bin/env bash
# pipelines/sink.sh — run the live sink and supervise its stages.
#
#   sink.sh -c FILE [-d RUNDIR] [-b BINDIR]
#
#   listen ──records──▶ RUNDIR/listen.fifo ──────────────────────────────────────────┐
#     │ spool                                                                        ▼
#   ingest -f --spool ─▶ decide ─▶ [schedule] ─▶ act-http ─▶ act-smtp ─▶ report --input listen.fifo
#                                      ▲                                         │
#                                      └──────── acks FIFO (action ids logged) ◀─┘
#
# schedule runs when the configuration has a [Timing] section (issue 17): it holds the
# delayed actions in its SQLite store ([Timing] Store) and emits them when due; report
# names every action it logged on the acks FIFO ([Timing] Acks, default STORE.acks).
# The store survives every restart: schedule re-emits what was claimed and not logged,
# report logs each action once (see schedule(1)).
#
# Every arrow is a FIFO in RUNDIR with exactly one writer. A stage that dies is
# restarted: listen alone, or the processing chain (ingest … report) as a whole, since
# records in flight die with it; ingest then re-emits the files it had claimed and not
# yet settled, so no spooled message is lost. A message that crashes ingest (or keeps it
# reading past [Ingest] Max_Message_Time) is quarantined by ingest after
# [Ingest] Quarantine_After (2) such restarts, so one message costs at most that many.
# More than MAX_RESTARTS restarts within a minute make the sink exit 75 for an outer
# supervisor (systemd) to handle.
# SIGTERM/SIGINT: listen finishes its transactions, ingest stops claiming, the rest of
# the chain drains what is in flight, report saves its state; then exit 0.
# SIGHUP, or a change of the configuration file (checked every 2 s): the file is checked
# (a bad one is refused with a warning and everything keeps running), then listen and the
# chain are restarted gracefully with it (decide alone would reload in place; the other
# stages read their configuration at start). Spooled files wait for the new chain.
# No stage is started with a file that has not passed these checks: a file edited again
# while the stages stop for a reload is checked again before they start, and a stage that
# exits while the file on disk is a refused one is not restarted with it; in both cases
# the stage waits for a good file (listen alone waiting: mail is refused; the chain alone
# waiting: mail is accepted and spooled, and processed once the chain starts).
# At start, a file a stage rejects is an error (exit 78), as one bs-config rejects is.
# Unknown sections and keys (typos) are reported here, once, by `bs-config --check`, not
# by every stage: at start they are warnings and the sink starts; a reload is refused
# while the file has any (the running stages keep the file they have).
set -euo pipefail

usage() { echo "usage: sink.sh -c FILE [-d RUNDIR] [-b BINDIR]" >&2; exit 64; }
conf="" rundir="" bindir=$(cd "$(dirname "$0")/.." && pwd)/bin
while getopts c:d:b:h opt; do
    case $opt in
        c) conf=$OPTARG ;;
        d) rundir=$OPTARG ;;
        b) bindir=$OPTARG ;;
        *) usage ;;
    esac
done
[ -n "$conf" ] || usage
[ -r "$conf" ] || { echo "sink.sh: error: cannot read $conf" >&2; exit 66; }
rc=0; "$bindir/bs-config" -c "$conf" --check || rc=$?
case $rc in 0 | 1) ;; *) exit 78 ;; esac

spool=$("$bindir/bs-config" -c "$conf" --default Listen Spool)
records=$("$bindir/bs-config" -c "$conf" Listen Records "")
[ -n "$rundir" ] || rundir=$(dirname "$spool")
mkdir -p "$rundir" "$spool"
[ -n "$records" ] || records=$rundir/listen.fifo
drain_timeout=${BS_DRAIN_TIMEOUT:-30}
max_restarts=${BS_MAX_RESTARTS:-5}

log() { printf '%s sink.sh: %s\n' "$(date -u +%FT%TZ)" "$*" >&2; }
conf_id() { stat -L -c '%d:%i:%s:%Y' "$conf" 2>/dev/null || echo none; }

fifo() { [ -p "$1" ] || { rm -f "$1"; mkfifo "$1"; }; }
fifo "$records"
for f in ingest decide http smtp; do fifo "$rundir/$f.fifo"; done
timing=0 acks_opt=()
if grep -qi '^[[:space:]]*\[Timing\]' "$conf"; then
    timing=1
    fifo "$rundir/plan.fifo"
    store=$("$bindir/bs-config" -c "$conf" --default Timing Store)
    acks=$("$bindir/bs-config" -c "$conf" Timing Acks "$store.acks")
    acks_opt=(--acks "$acks")
fi

# conf_seen: the file last looked at (a change of it is a reload); conf_good: the last
# file that passed the checks (check_stages at start, else those of await_good_conf).
listen_pid="" chain_pids=() restarts=() stopping=0 reload=0 ticker=""
conf_seen=$(conf_id) conf_good=""

start_listen() {
    "$bindir/listen" -c "$conf" --records "$records" &
    listen_pid=$!
    log "listen started (pid $listen_pid)"
}

start_chain() {
    # Downstream first, so every FIFO finds its reader. report and ingest (below) run with
    # glibc's per-thread cache of freed blocks holding 128 of a size instead of 7: they
    # build and free a jansson tree, or GMime's and libxml2's objects, per message (report
    # -9 %, ingest -4 % instructions per message, docs/benchmarks.md). A GLIBC_TUNABLES of
    # the caller wins.
    GLIBC_TUNABLES=${GLIBC_TUNABLES:-glibc.malloc.tcache_count=128} \
        "$bindir/report" -c "$conf" --until-eof --input "$records" "${acks_opt[@]}" < "$rundir/smtp.fifo" &
    chain_pids=($!)
    "$bindir/act-smtp" -c "$conf" < "$rundir/http.fifo" > "$rundir/smtp.fifo" &
    chain_pids+=($!)
    "$bindir/act-http" -c "$conf" < "$rundir/decide.fifo" > "$rundir/http.fifo" &
    chain_pids+=($!)
    if [ "$timing" = 1 ]; then
        "$bindir/schedule" -c "$conf" "${acks_opt[@]}" < "$rundir/plan.fifo" > "$rundir/decide.fifo" &
        chain_pids+=($!)
        "$bindir/decide" -c "$conf" < "$rundir/ingest.fifo" > "$rundir/plan.fifo" &
    else
        "$bindir/decide" -c "$conf" < "$rundir/ingest.fifo" > "$rundir/decide.fifo" &
    fi
    chain_pids+=($!)
    # the larger per-thread cache of freed blocks, as report (above)
    GLIBC_TUNABLES=${GLIBC_TUNABLES:-glibc.malloc.tcache_count=128} \
        "$bindir/ingest" -c "$conf" -f --spool "$spool" > "$rundir/ingest.fifo" &
    chain_pids+=($!)
    log "chain started (report act-smtp act-http$([ "$timing" = 0 ] || echo ' schedule') decide ingest: ${chain_pids[*]})"
}

alive() { kill -0 "$1" 2>/dev/null; }

# Stop the chain: ingest first (TERM), then wait for the others to drain on EOF.
stop_chain() {
    local deadline=$((SECONDS + drain_timeout)) p
    [ ${#chain_pids[@]} -gt 0 ] || return 0
    kill -TERM "${chain_pids[-1]}" 2>/dev/null || true # ingest, started last
    for p in "${chain_pids[@]}"; do
        while alive "$p" && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
        if alive "$p"; then log "stage $p did not drain in ${drain_timeout}s: killing it"; kill -KILL "$p" 2>/dev/null || true; fi
        wait "$p" 2>/dev/null || true
    done
    chain_pids=()
}

note_restart() {
    local now=$SECONDS keep=() t
    for t in "${restarts[@]}"; do [ $((now - t)) -lt 60 ] && keep+=("$t"); done
    keep+=("$now")
    restarts=("${keep[@]}")
    if [ ${#restarts[@]} -gt "$max_restarts" ]; then
        log "more than $max_restarts restarts in a minute: giving up"
        stop_all
        exit 75
    fi
}

# listen finishes its open transactions (up to 10 s) and exits.
stop_listen() {
    if [ -n "$listen_pid" ] && alive "$listen_pid"; then
        kill -TERM "$listen_pid" 2>/dev/null || true
        wait "$listen_pid" 2>/dev/null || true
    fi
}

stop_all() {
    stopping=1
    [ -z "$ticker" ] || kill "$ticker" 2>/dev/null || true
    stop_listen
    stop_chain
}

# check_stages: the stages that can read an empty input accept the file (exit 78 and a
# FILE:LINE diagnostic otherwise: what bs-config --check does not judge, such as a
# [Verify] DKIM_Key_File that cannot be read). check_conf: bs-config --check without
# warnings (no unknown section or key, no bad value), then check_stages, so a bad edit or
# a typo does not reach the sink.
check_stages() {
    local t out
    for t in ingest decide act-http act-smtp; do
        out=$("$bindir/$t" -c "$conf" 2>&1 < /dev/null > /dev/null) || { printf '%s\n' "$out" >&2; return 1; }
    done
}
check_conf() { "$bindir/bs-config" -c "$conf" --check && check_stages; }

# Graceful restart of every stage with the configuration file as it is now.
reload_all() {
    reload=0
    conf_seen=$(conf_id)
    if ! check_conf; then
        log "configuration not reloaded: $conf has errors or warnings (the stages keep the old one)"
        return 0
    fi
    conf_good=$conf_seen
    log "reloading $conf: restarting listen and the chain"
    stop_listen
    await_good_conf check_conf listen
    local listen_conf=$conf_good
    start_listen
    stop_chain
    await_good_conf check_conf "the chain"
    start_chain
    if [ "$conf_good" != "$listen_conf" ]; then # a good edit while the chain drained
        stop_listen
        start_listen
    fi
    conf_seen=$conf_good
    log "reloaded $conf"
}

# await_good_conf CHECK WHAT: return once the file on disk has passed CHECK (check_conf
# in a reload, check_stages when a stage that exited is restarted, as at start), before
# WHAT (listen or the chain) starts. The file may have been edited while listen finished
# its transactions or the chain drained (up to tens of seconds), or a reload may have
# refused it before a stage exited. A bad file is waited out (checked again whenever it
# changes) instead of being started with, which would only make the stages exit 78 until
# the sink gave up (exit 75). A new good file found after a stage exited becomes the
# file of all the stages by the reload the main loop then makes (conf_seen is not it).
await_good_conf() {
    local id bad="" said=""
    while id=$(conf_id); [ "$id" != "$conf_good" ]; do
        if [ "$id" != "$bad" ] && "$1"; then
            conf_good=$id
            break
        fi
        bad=$id
        [ -n "$said" ] || log "$conf has errors or warnings (above): $2 waits for a good file"
        said=1
        sleep 1
    done
}

on_term() {
    log "stopping: draining in-flight records"
    stop_all
    log "stopped"
    exit 0
}
trap on_term TERM INT
trap 'reload=1' HUP

check_stages || { log "not starting: a stage rejects $conf (above)"; exit 78; }
conf_good=$conf_seen
start_chain
start_listen
while :; do
    # A ticker child wakes `wait -n` every 2 s to look at the configuration file.
    if [ -z "$ticker" ] || ! alive "$ticker"; then
        [ -z "$ticker" ] || wait "$ticker" 2>/dev/null || true
        sleep 2 &
        ticker=$!
    fi
    wait -n || true
    [ "$stopping" = 0 ] || break
    [ "$(conf_id)" = "$conf_seen" ] || reload=1
    if [ "$reload" = 1 ]; then
        reload_all
        continue
    fi
    if ! alive "$listen_pid"; then
        wait "$listen_pid" 2>/dev/null && rc=0 || rc=$?
        log "listen exited ($rc): restarting it"
        note_restart
        await_good_conf check_stages listen
        start_listen
    fi
    for p in "${chain_pids[@]}"; do
        if ! alive "$p"; then
            log "a chain stage (pid $p) exited: draining and restarting the chain"
            stop_chain
            note_restart
            await_good_conf check_stages "the chain"
            start_chain
            break
        fi
    done
done
