#!/usr/bin/env bash
# bench/stages.sh — CPU per message of every stage on the mixed DKIM-signed stream, next to
# the same-run references (`openssl speed rsa2048` verify; `wrk` on the same tracking server;
# bench/http-floor.c, the least libcurl does for act-http's GETs).
#
# gen-corpus writes BENCH_STAGES_MESSAGES (default 4000) signed messages of the mixed stream
# (tracked URLs, quoted-printable/base64 HTML) whose links point at bin/track-server on
# loopback; Postfix's smtp-sink takes the ARF/DSN reports. The stages run one after the
# other over files (ingest -j 1 | decide | act-http | act-smtp | report --once, as
# pipelines/replay.sh chains them), so that each one's CPU time (user + system, from
# `time`) is its own. SPF is off and the DKIM keys come from a file (no DNS). Printed per
# stage: CPU µs per message, bytes per record on its output, and instructions per message
# under callgrind over the first BENCH_STAGES_CALLGRIND (default 300) messages minus a
# run over none — repeatable on a busy machine, unlike CPU time (0 skips it).
# Prints `bench: stages: ...` lines. Environment: BS_BIN (default bin/).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BS_BIN=${BS_BIN:-$ROOT/bin}
N=${BENCH_STAGES_MESSAGES:-4000}
CG=${BENCH_STAGES_CALLGRIND:-300}
say() { echo "bench: stages: $*"; }
T=$(mktemp -d "${TMPDIR:-/tmp}/bs-bench-stages.XXXXXX")
pids=()
cleanup() {
    local p
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
    rm -rf "$T"
}
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
    local _
    for _ in $(seq 1 200); do (exec 3<> "/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done
    return 1
}

tport=$(port) sport=$(port)
"$BS_BIN/track-server" -l "127.0.0.1:$tport" > /dev/null 2>&1 & pids+=($!)
user=(); [ "$(id -u)" = 0 ] && user=(-u root)
"$(command -v smtp-sink || echo /usr/sbin/smtp-sink)" "${user[@]}" "127.0.0.1:$sport" 256 & pids+=($!)
{ wait_port "$tport" && wait_port "$sport"; } || { say "error: track-server or smtp-sink did not start" >&2; exit 1; }

"$BS_BIN/gen-corpus" -n "$N" --seed 21 --date 2026-11-20T10:00:00Z -o "$T/corpus" \
    --key "$T/dkim.key" --tracking-base "http://127.0.0.1:$tport" > /dev/null 2>&1 ||
    { say "error: gen-corpus failed" >&2; exit 1; }
cat > "$T/sink.ini" <<INI
[Sink]
Logfile = $T/consume-mail.log
Tracking_Domains_Allowlist = 127.0.0.1:$tport
User_Agents_File = $ROOT/data/reference/user-agents.csv
[RP_MX_domain_allowlist]
mx.sender.test = fbl@sender.test
[Listen]
Hostname = bouncy-sink.test
InBand_Replies_File = $ROOT/data/reference/inband-replies.dat
[Verify]
SPF = off
DKIM_Key_File = $T/corpus/dkim-keys.txt
[Http]
Allow_Private_Addresses = yes
Allowed_Networks = 127.0.0.0/8
[Smtp]
Relay = 127.0.0.1:$sport
MX_Override = sender.test=mx.sender.test
[Decide]
Seed = 21
[Report]
State_File = $T/report-state.json
INI
bytes=$(( $(du -sb "$T/corpus" | cut -f1) / N ))
cat "$T/corpus"/*.msg > /dev/null # warm the page cache

# ingest and report run as pipelines/sink.sh runs them, with glibc's larger per-thread
# malloc cache.
tunables=${GLIBC_TUNABLES:-glibc.malloc.tcache_count=128}

# stage NAME IN OUT CMD...: runs CMD with IN on standard input (none for ingest), OUT as
# standard output; leaves the CPU seconds (user + system) in $T/NAME.cpu.
stage() {
    local name=$1 in=$2 out=$3 TIMEFORMAT='%U %S'
    shift 3
    { time "$@" < "$in" > "$out" 2> "$T/$name.err"; } 2> "$T/$name.time" ||
        { say "error: $name failed: $(head -c 300 "$T/$name.err")" >&2; exit 1; }
    awk '{ printf "%.3f", $1 + $2 }' "$T/$name.time" > "$T/$name.cpu"
}
run_all() { # run_all SUFFIX: the five stages over the corpus
    stage ingest /dev/null "$T/1.ndjson" env "GLIBC_TUNABLES=$tunables" \
        "$BS_BIN/ingest" -c "$T/sink.ini" -j 1 "$T/corpus"
    stage decide "$T/1.ndjson" "$T/2.ndjson" "$BS_BIN/decide" -c "$T/sink.ini" --now 2026-11-20T10:00:00Z
    stage act-http "$T/2.ndjson" "$T/3.ndjson" "$BS_BIN/act-http" -c "$T/sink.ini"
    stage act-smtp "$T/3.ndjson" "$T/4.ndjson" "$BS_BIN/act-smtp" -c "$T/sink.ini"
    stage report "$T/4.ndjson" "$T/5.json" env "GLIBC_TUNABLES=$tunables" "$BS_BIN/report" -c "$T/sink.ini" --once
}
stages=(ingest decide act-http act-smtp report)
# The better of two runs per stage (the machine is shared).
run_all
for s in "${stages[@]}"; do cp "$T/$s.cpu" "$T/$s.best"; done
run_all
for s in "${stages[@]}"; do
    a=$(cat "$T/$s.best") b=$(cat "$T/$s.cpu")
    awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", (a < b ? a : b) }' > "$T/$s.best"
done
recs=$(grep -c . "$T/4.ndjson")
[ "$recs" -ge "$N" ] || say "warning: $recs records out of act-smtp for $N messages" >&2
fetches=$(grep -o '"status":[0-9]*' "$T/3.ndjson" | wc -l || true)
sent=$(grep -o '"status":"sent"' "$T/4.ndjson" | wc -l || true)

total=0
for s in "${stages[@]}"; do
    us=$(awk -v c="$(cat "$T/$s.best")" -v n="$N" 'BEGIN { printf "%.1f", c / n * 1e6 }')
    total=$(awk -v t="$total" -v u="$us" 'BEGIN { printf "%.1f", t + u }')
    case $s in
        ingest) out=1.ndjson ;; decide) out=2.ndjson ;; act-http) out=3.ndjson ;;
        act-smtp) out=4.ndjson ;; report) out="" ;;
    esac
    if [ -n "$out" ]; then
        b=$(( $(wc -c < "$T/$out") / N ))
        say "$s: $us µs CPU per message (best of 2), $b bytes per record out"
    else
        say "$s: $us µs CPU per message (best of 2)"
    fi
done
say "all stages: $total µs CPU per message ($N DKIM-signed messages of $bytes bytes, mixed stream;" \
    "$fetches HTTP fetches, $sent reports sent; goal: 150, ratio $(awk -v t="$total" 'BEGIN { printf "%.2f", t / 150 }'))"

# References in the same run: one RSA-2048 verify (openssl speed, one core) and one
# keep-alive request of wrk to the same track-server, as CPU µs of the client.
rsa=$(openssl speed -seconds 3 rsa2048 2>/dev/null | awk '/^rsa 2048 bits/ { print $NF }')
TIMEFORMAT='%U %S'
{ time wrk -t1 -c16 -d3s "http://127.0.0.1:$tport/q/bench" > "$T/wrk.out" 2>&1; } 2> "$T/wrk.time"
wrk_n=$(awk '/requests in/ { print $1 }' "$T/wrk.out")
wrk_us=$(awk -v n="$wrk_n" '{ printf "%.1f", ($1 + $2) / n * 1e6 }' "$T/wrk.time")
http_us=$(awk -v c="$(cat "$T/act-http.best")" -v n="$fetches" 'BEGIN { printf "%.1f", (n ? c / n * 1e6 : 0) }')
say "reference: openssl rsa2048 verify: $(awk -v r="$rsa" 'BEGIN { printf "%.1f", 1e6 / r }') µs (ingest/verify ratio" \
    "$(awk -v r="$rsa" -v c="$(cat "$T/ingest.best")" -v n="$N" 'BEGIN { printf "%.1f", c / n * r }'))"
say "reference: wrk keep-alive request: $wrk_us µs client CPU; act-http: $http_us µs per fetch (ratio" \
    "$(awk -v a="$http_us" -v w="$wrk_us" 'BEGIN { printf "%.2f", (w > 0 ? a / w : 0) }'); goal ≤ 2)"
# The floor under act-http while libcurl is its HTTP client: the same GETs (the URLs
# act-http fetched, in turn) from bench/http-floor.c, a minimal libcurl multi program
# (best of 2).
read -ra curl_cflags <<< "$(pkg-config --cflags libcurl)"
read -ra curl_libs <<< "$(pkg-config --libs libcurl)"
if [ "$fetches" -gt 0 ] && command -v jq > /dev/null &&
    cc -std=gnu11 -D_GNU_SOURCE -O2 "${curl_cflags[@]}" "$ROOT/bench/http-floor.c" \
        -o "$T/http-floor" "${curl_libs[@]}" 2> "$T/cc.err"; then
    jq -r '.http // {} | (.open // [], .open_again // [], .click // [], .click_again // []) | .[] |
        select(.status) | .url' "$T/3.ndjson" > "$T/urls"
    # one of the stream's user agents (they are 100-odd bytes, which libcurl copies and formats)
    ua=$(jq -r 'select(.plan.user_agent) | .plan.user_agent' "$T/2.ndjson" | sed -n 1p) # not head: pipefail
    fl=
    for _ in 1 2; do
        { time "$T/http-floor" "@$T/urls" "$fetches" 64 "$ua" > /dev/null; } 2> "$T/floor.time"
        c=$(awk '{ printf "%.3f", $1 + $2 }' "$T/floor.time")
        fl=$(awk -v a="${fl:-$c}" -v b="$c" 'BEGIN { print (a < b ? a : b) }')
    done
    fl_us=$(awk -v c="$fl" -v n="$fetches" 'BEGIN { printf "%.1f", c / n * 1e6 }')
    say "reference: libcurl floor (bench/http-floor.c, the same $fetches GETs): $fl_us µs per fetch" \
        "(floor/wrk $(awk -v a="$fl_us" -v w="$wrk_us" 'BEGIN { printf "%.2f", (w > 0 ? a / w : 0) }')," \
        "act-http/floor $(awk -v a="$http_us" -v f="$fl_us" 'BEGIN { printf "%.2f", (f > 0 ? a / f : 0) }'))"
    # What the two floors alone cost a message of this stream: one RSA-2048 verify and the
    # libcurl floor times the fetches per message, before any parsing, JSON or pipe.
    say "reference: floors per message: RSA verify + libcurl floor × $(awk -v f="$fetches" -v n="$N" \
        'BEGIN { printf "%.2f", f / n }') fetches = $(awk -v r="$rsa" -v fl="$fl_us" -v f="$fetches" -v n="$N" \
        'BEGIN { printf "%.1f", 1e6 / r + fl * f / n }') µs (goal for all stages: 150)"
fi

# Instructions per message of each stage under callgrind (load-independent): the first
# CG messages minus none.
if [ "$CG" -gt 0 ] && command -v valgrind > /dev/null; then
    mkdir "$T/cg" "$T/none"
    mapfile -t msgs < <(find "$T/corpus" -name '*.msg' | sort)
    cp -t "$T/cg" "${msgs[@]:0:$CG}"
    ir() { # ir NAME IN CMD...: instructions of CMD with IN on standard input
        local in=$2
        shift 2
        valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" < "$in" 2>&1 > "$T/cg.out" |
            awk '/Collected :/ { print $NF }'
    }
    cg_stages() { # cg_STAGES DIR: instructions per stage over DIR's messages, "name count" lines
        local d=$1
        "$BS_BIN/ingest" -c "$T/sink.ini" -j 1 "$d" > "$d.1" 2>/dev/null
        "$BS_BIN/decide" -c "$T/sink.ini" --now 2026-11-20T10:00:00Z < "$d.1" > "$d.2" 2>/dev/null
        "$BS_BIN/act-http" -c "$T/sink.ini" < "$d.2" > "$d.3" 2>/dev/null
        "$BS_BIN/act-smtp" -c "$T/sink.ini" < "$d.3" > "$d.4" 2>/dev/null
        echo "ingest $(GLIBC_TUNABLES=$tunables ir ingest /dev/null "$BS_BIN/ingest" -c "$T/sink.ini" -j 1 "$d")"
        echo "decide $(ir decide "$d.1" "$BS_BIN/decide" -c "$T/sink.ini" --now 2026-11-20T10:00:00Z)"
        echo "act-http $(ir act-http "$d.2" "$BS_BIN/act-http" -c "$T/sink.ini")"
        echo "act-smtp $(ir act-smtp "$d.3" "$BS_BIN/act-smtp" -c "$T/sink.ini")"
        echo "report $(GLIBC_TUNABLES=$tunables ir report "$d.4" "$BS_BIN/report" -c "$T/sink.ini" --once)"
    }
    cg_stages "$T/cg" > "$T/cg.all"
    cg_stages "$T/none" > "$T/cg.none"
    awk -v n="$CG" 'NR == FNR { z[$1] = $2; next }
        { per = ($2 - z[$1]) / n; t += per; printf "bench: stages: %s: %.0f instructions per message (callgrind, %d messages)\n", $1, per, n }
        END { printf "bench: stages: all stages: %.0f instructions per message (callgrind)\n", t }' \
        "$T/cg.none" "$T/cg.all"
fi
say "load average after the runs: $(cut -d' ' -f1-3 /proc/loadavg) (other processes share the CPUs)"
