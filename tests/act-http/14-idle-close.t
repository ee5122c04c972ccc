#!/usr/bin/env bash
# act-http (issue 21): a kept-alive connection's socket stays in the epoll set between
# transfers (no epoll_ctl per fetch), and leaves it when the server closes the idle
# connection, with a FIN or a reset: the next fetch reconnects, and the closed socket does
# not wake the loop again and again (counted with strace: a loop spinning on it for the
# second between the records would call epoll_wait tens of thousands of times).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
command -v strace > /dev/null || { fail "strace installed"; done_testing; exit 1; }
HERE=$ROOT/tests/act-http

for mode in fin rst; do
    mkdir "$T/$mode"
    flag=(); [ "$mode" = rst ] && flag=(--rst)
    bg python3 "$HERE/idleserver.py" --dir "$T/$mode" --idle 0.3 "${flag[@]}" > "$T/$mode/addr"
    wait_for test -s "$T/$mode/addr" || fail "$mode: idleserver started"
    B=http://$(head -n 1 "$T/$mode/addr")
    conf "$T/c.ini" "[Sink]" "Tracking_Domains_Allowlist = 127.0.0.1" "[Http]" \
        "Allow_Private_Addresses = yes" "Max_In_Flight = 2"
    # Two records a second apart: the server closes both idle connections in between.
    out=$({
        msg a '["open"]' "[\"$B/q/1\",\"$B/q/2\"]" '[]'
        sleep 1
        msg b '["open"]' "[\"$B/q/3\",\"$B/q/4\"]" '[]'
    } | strace -f -qq -e trace=epoll_wait,epoll_ctl -o "$T/$mode/trace" \
        "$BS_BIN/act-http" -c "$T/c.ini")
    is "$(printf '%s\n' "$out" | jq -rs '[.[] | .http.open[].status] | join(" ")')" \
        "200 200 200 200" "$mode: every fetch answered, after the idle connections closed too"
    s=$(cat "$T/$mode/stats")
    ok "$(jq -e '.closed_idle >= 2 and .connections >= 3 and .requests == 4' <<< "$s" > /dev/null; echo $?)" \
        "$mode: the server closed idle connections and act-http connected again ($s)"
    dels=$(grep -c 'EPOLL_CTL_DEL, [1-9][0-9]*, NULL) = 0' "$T/$mode/trace")
    ok "$([ "$dels" -ge 1 ]; echo $?)" "$mode: a closed idle socket left the epoll set ($dels)"
    waits=$(grep -c 'epoll_wait(' "$T/$mode/trace")
    ok "$([ "$waits" -lt 500 ]; echo $?)" "$mode: the loop did not spin on it ($waits epoll_wait calls)"
done

# Ten fetches one after the other on one connection (Max_In_Flight = 1): its socket enters
# the epoll set at most once, and never leaves it while the connection is kept.
start_ts TS 127.0.0.1:0 || fail "track-server started"
conf "$T/one.ini" "[Sink]" "Tracking_Domains_Allowlist = 127.0.0.1" "[Http]" \
    "Allow_Private_Addresses = yes" "Max_In_Flight = 1"
urls=$(for i in 1 2 3 4 5 6 7 8 9 10; do printf '"http://%s/q/%d"\n' "$TS" "$i"; done | jq -cs .)
msg r '["open"]' "$urls" '[]' > "$T/one.in"
out=$(strace -f -qq -e trace=epoll_ctl -o "$T/one.trace" "$BS_BIN/act-http" -c "$T/one.ini" < "$T/one.in")
is "$(printf '%s\n' "$out" | jq -r '[.http.open[].status] | unique | join(" ")')" 200 "ten fetches answered"
is "$(hits "$TS" /q/10)" 1 "the last one reached the server"
adds=$(grep -c 'EPOLL_CTL_ADD, [0-9]*, .*) = 0' "$T/one.trace")
ok "$([ "$adds" -le 1 ]; echo $?)" "the connection's socket added to the epoll set at most once ($adds)"
is "$(grep -c 'EPOLL_CTL_DEL' "$T/one.trace")" 0 "and never taken out"
done_testing
