# tests/act-http/common.sh — helpers for the act-http script tests (sourced after lib.sh).
# shellcheck shell=bash

# start_ts VAR ADDR [track-server options...]: starts track-server on ADDR (port 0: any),
# sets VAR to "host:port" it listens on.
start_ts() {
    local var=$1 addr=$2 out
    shift 2
    out=$(mktemp "$T/ts.XXXXXX")
    bg "$BS_BIN/track-server" -l "$addr" "$@" > "$out"
    if ! wait_for test -s "$out"; then
        echo "# track-server did not start" >&2
        return 1
    fi
    printf -v "$var" '%s' "$(head -n 1 "$out")"
}

# stats ADDR: the server's /_stats JSON.
stats() { curl -s --noproxy '*' "http://$1/_stats"; }
# hits ADDR PATH: requests counted for PATH.
hits() { stats "$1" | jq -r --arg p "$2" '.paths[$p] // 0'; }

# msg ID ACTIONS_JSON OPEN_URLS_JSON CLICK_URLS_JSON [EXTRA_JSON]: one message record.
msg() {
    jq -cn --arg id "$1" --argjson a "$2" --argjson o "$3" --argjson c "$4" \
        --argjson x "${5:-{\}}" \
        '{v:1,kind:"message",id:$id,ts:"2026-11-24T20:05:10.387Z",
          urls:{open:$o,click:$c},
          plan:{stream:"openclick",actions:$a,user_agent:"BS-Test-Agent/1.0 (mail client)"}} * $x'
}

# conf FILE LINES...: writes a config file.
conf() { local f=$1; shift; printf '%s\n' "$@" > "$f"; }

# rec OUTPUT ID: the record with that id from NDJSON output.
rec() { printf '%s\n' "$1" | jq -c --arg id "$2" 'select(.id == $id)'; }
