#!/usr/bin/env bash
# bench/act-http.sh — fetches per second of act-http against track-server on loopback
# (keep-alive), next to wrk against the same server in the same run (the reference);
# the client CPU per request of act-http, of the least a libcurl program does for the same
# GETs (bench/http-floor.c: the floor under act-http while libcurl is its HTTP client) and
# of wrk, with instructions per fetch of act-http and the floor under callgrind; then the
# RSS of act-http at the start and the end of a longer run.
#
# Environment: BS_BIN (default bin/), BENCH_RECORDS (default 20000; 6 fetches each),
# BENCH_RSS_RECORDS (default 170000, about 1,000,000 fetches), BENCH_WRK_SECONDS (default 5),
# BENCH_CG_RECORDS (default 500; 0 skips callgrind).
# The machine is shared: the rate is the better of two runs, for wrk and act-http alike, and
# so is the CPU per request. Builds only bench/http-floor.c (cc, libcurl's pkg-config);
# takes about two minutes on the reference machine.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BS_BIN=${BS_BIN:-$ROOT/bin}
records=${BENCH_RECORDS:-20000}
rss_records=${BENCH_RSS_RECORDS:-170000}
wrk_s=${BENCH_WRK_SECONDS:-5}
per=6 # 4 pixels + 2 links per record
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bs-bench-http.XXXXXX")
ts_pid=
cleanup() {
    [ -n "$ts_pid" ] && kill "$ts_pid" 2>/dev/null && wait "$ts_pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

"$BS_BIN/track-server" -l 127.0.0.1:0 > "$tmp/addr" &
ts_pid=$!
for _ in $(seq 1 100); do [ -s "$tmp/addr" ] && break; sleep 0.05; done
addr=$(head -n 1 "$tmp/addr")
[ -n "$addr" ] || { echo "bench: act-http: track-server did not start" >&2; exit 1; }

printf '%s\n' "[Sink]" "Tracking_Domains_Allowlist = 127.0.0.1" "Open_Click_Timeout = 10" \
    "[Http]" "Allow_Private_Addresses = yes" "Max_In_Flight = 64" > "$tmp/c.ini"

# gen N: N message records, each opening 4 pixels and clicking 2 links. The paths repeat
# across records so that the server's per-path bookkeeping costs what it costs for wrk.
gen() {
    awk -v n="$1" -v b="http://$addr" 'BEGIN {
        for (i = 1; i <= n; i++)
            printf "{\"v\":1,\"kind\":\"message\",\"id\":\"b%d\",\"ts\":\"2026-11-24T20:05:10.387Z\"," \
                   "\"urls\":{\"open\":[\"%s/q/1\",\"%s/q/2\",\"%s/q/3\",\"%s/q/4\"]," \
                   "\"click\":[\"%s/f/1\",\"%s/f/2\"]},\"plan\":{\"stream\":\"openclick\"," \
                   "\"actions\":[\"open\",\"click\"],\"user_agent\":\"Mozilla/5.0 (bench)\"}}\n",
                   i, b, b, b, b, b, b
    }'
}

# Reference: wrk with 2 threads and 64 keep-alive connections.
# Each run also leaves the CPU seconds (user + system) it used in $tmp/cpu.
TIMEFORMAT='%U %S'
cpu_of() { { time "$@" 2>&3; } 3>&2 2> "$tmp/cpu.raw"; awk '{printf "%.2f", $1 + $2}' "$tmp/cpu.raw" > "$tmp/cpu"; }
wrk_once() {
    cpu_of wrk -t2 -c64 -d"${wrk_s}s" "http://$addr/q/bench" > "$tmp/wrk.out"
    awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$tmp/wrk.out"
    awk '/requests in/ {print $1}' "$tmp/wrk.out" > "$tmp/wrk.n"
}
# act-http over the records; prints fetches per second.
ah_once() {
    local start end
    start=$(date +%s.%N)
    cpu_of "$BS_BIN/act-http" -c "$tmp/c.ini" < "$tmp/in" > "$tmp/out"
    end=$(date +%s.%N)
    awk -v f="$fetches" -v s="$start" -v e="$end" 'BEGIN {printf "%.0f", f / (e - s)}'
}
ratio2() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}'; }
max() { if [ "$1" -ge "$2" ]; then echo "$1"; else echo "$2"; fi; }

# The floor: the same keep-alive GETs from a minimal libcurl multi program.
floor=
read -ra curl_cflags <<< "$(pkg-config --cflags libcurl)"
read -ra curl_libs <<< "$(pkg-config --libs libcurl)"
if cc -std=gnu11 -D_GNU_SOURCE -O2 "${curl_cflags[@]}" "$ROOT/bench/http-floor.c" \
    -o "$tmp/http-floor" "${curl_libs[@]}" 2> "$tmp/cc.err"; then
    floor=$tmp/http-floor
else
    echo "bench: act-http: bench/http-floor.c did not build: $(head -c 300 "$tmp/cc.err")" >&2
fi
floor_once() { cpu_of "$floor" "http://$addr" "$fetches" 64 > /dev/null; }
# min A B: the smaller of two CPU times
min() { awk -v a="$1" -v b="$2" 'BEGIN {print (a < b ? a : b)}'; }

gen "$records" > "$tmp/in"
fetches=$((records * per))
w1=$(wrk_once)
wrk_us1=$(awk -v c="$(cat "$tmp/cpu")" -v n="$(cat "$tmp/wrk.n")" 'BEGIN {printf "%.3f", c / n * 1e6}')
r1=$(ah_once)
ah_cpu=$(cat "$tmp/cpu")
fl_cpu=
if [ -n "$floor" ]; then floor_once; fl_cpu=$(cat "$tmp/cpu"); fi
w2=$(wrk_once)
wrk_us2=$(awk -v c="$(cat "$tmp/cpu")" -v n="$(cat "$tmp/wrk.n")" 'BEGIN {printf "%.3f", c / n * 1e6}')
r2=$(ah_once)
ah_cpu=$(min "$ah_cpu" "$(cat "$tmp/cpu")")
if [ -n "$floor" ]; then floor_once; fl_cpu=$(min "$fl_cpu" "$(cat "$tmp/cpu")"); fi
wrk_rate=$(max "$w1" "$w2")
rate=$(max "$r1" "$r2")
out_n=$(grep -c . "$tmp/out")
ok_n=$(grep -o '"status":200' "$tmp/out" | wc -l)
ratio=$(awk -v a="$rate" -v w="$wrk_rate" 'BEGIN {printf "%.2f", a / w}')
echo "bench: act-http: fetches/s ($records records x $per URLs, keep-alive, loopback, best of 2: $r1, $r2): $rate (wrk -t2 -c64 -d${wrk_s}s, best of 2: $wrk_rate, ratio $ratio)"
echo "bench: act-http: records out: $out_n (of $records), fetches with status 200: $ok_n (of $fetches)"
# The machine is shared: requests per CPU-second of the client depend less on the load
# (each the better of two runs).
eff_ah=$(awk -v f="$fetches" -v c="$ah_cpu" 'BEGIN {printf "%.0f", f / (c > 0 ? c : 0.01)}')
wrk_us=$(min "$wrk_us1" "$wrk_us2")
eff_wrk=$(awk -v u="$wrk_us" 'BEGIN {printf "%.0f", 1e6 / (u > 0 ? u : 0.01)}')
echo "bench: act-http: fetches per CPU-second of the client: $eff_ah (wrk: $eff_wrk, ratio $(awk -v a="$eff_ah" -v w="$eff_wrk" 'BEGIN {printf "%.2f", a / w}'))"
# Client CPU per request, each the better of two runs (user + system).
ah_us=$(awk -v c="$ah_cpu" -v n="$fetches" 'BEGIN {printf "%.1f", c / n * 1e6}')
if [ -n "$floor" ]; then
    fl_us=$(awk -v c="$fl_cpu" -v n="$fetches" 'BEGIN {printf "%.1f", c / n * 1e6}')
    echo "bench: act-http: client CPU µs per request, best of 2: act-http $ah_us, libcurl floor (bench/http-floor.c, same GETs) $fl_us, wrk $(printf '%.1f' "$wrk_us");" \
        "act-http/wrk $(ratio2 "$ah_us" "$wrk_us") (goal ≤ 2), floor/wrk $(ratio2 "$fl_us" "$wrk_us"), act-http/floor $(ratio2 "$ah_us" "$fl_us")"
fi
# Instructions per fetch under callgrind (repeatable on a busy machine): a run over
# BENCH_CG_RECORDS records minus one over a tenth of them, for act-http and the floor alike.
cg=${BENCH_CG_RECORDS:-500}
if [ "$cg" -gt 0 ] && command -v valgrind > /dev/null; then
    ir() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 > /dev/null | awk '/Collected :/ {print $NF}'; }
    small=$((cg / 10))
    gen "$cg" > "$tmp/cg.in"
    gen "$small" > "$tmp/cg.small"
    ah_ir=$(( ($(ir "$BS_BIN/act-http" -c "$tmp/c.ini" < "$tmp/cg.in") - $(ir "$BS_BIN/act-http" -c "$tmp/c.ini" < "$tmp/cg.small")) / ((cg - small) * per) ))
    line="act-http $ah_ir"
    if [ -n "$floor" ]; then
        fl_ir=$(( ($(ir "$floor" "http://$addr" $((cg * per)) 64) - $(ir "$floor" "http://$addr" $((small * per)) 64)) / ((cg - small) * per) ))
        line="$line, libcurl floor $fl_ir (act-http/floor $(ratio2 "$ah_ir" "$fl_ir"))"
    fi
    echo "bench: act-http: instructions per fetch (callgrind, $cg records minus $small): $line"
fi

# RSS over a longer run (at most BENCH_RSS_SECONDS, default 60).
rss_s=${BENCH_RSS_SECONDS:-60}
gen "$rss_records" > "$tmp/in2"
timeout "$rss_s" "$BS_BIN/act-http" -c "$tmp/c.ini" < "$tmp/in2" > "$tmp/out2" &
ah=$!
sleep 1
ah_pid=$(pgrep -P "$ah" -x act-http || echo "$ah")
rss_start=$(ps -o rss= -p "$ah_pid" | tr -d ' ')
rss_max=$rss_start rss_end=$rss_start
while kill -0 "$ah_pid" 2>/dev/null; do
    r=$(ps -o rss= -p "$ah_pid" | tr -d ' ') || break
    [ -n "$r" ] || break
    rss_end=$r
    [ "$r" -gt "$rss_max" ] && rss_max=$r
    sleep 1
done
wait "$ah" || true
done_fetches=$(( $(grep -c . "$tmp/out2") * per ))
echo "bench: act-http: RSS over $done_fetches fetches: end ${rss_end} KiB, max ${rss_max} KiB (start, after 1 s: ${rss_start} KiB, ratio $(awk -v a="$rss_end" -v b="$rss_start" 'BEGIN {printf "%.2f", a / b}'))"
