#!/usr/bin/env bash
# act-http: the tracking-endpoint check — probe positive, negative, cached (one probe per
# base URL for many records), allowlisted hosts skip the probe, non-http URLs skipped.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
AH=$BS_BIN/act-http

start_ts YES 127.0.0.1:0 || exit 1                   # Server: msys-http
start_ts NO 127.0.0.1:0 --server nginx/1.22 || exit 1 # not a tracking endpoint
start_ts ALLOW 127.0.0.2:0 --server nginx/1.22 || exit 1
allow_host=${ALLOW%:*}
conf "$T/c.ini" "[Sink]" "Tracking_Domains_Allowlist = example.test, $allow_host" \
    "[Http]" "Allow_Private_Addresses = yes"

: > "$T/in"
for i in $(seq 1 20); do
    msg "m$i" '["open","click"]' \
        "[\"http://$YES/q/$i\",\"http://$NO/q/$i\",\"http://$ALLOW/q/$i\",\"ftp://$YES/q/$i\",\"cid:x\"]" \
        "[\"http://$YES/f/c$i\",\"http://$NO/f/c$i\"]" >> "$T/in"
done
out=$("$AH" -c "$T/c.ini" < "$T/in")
is "$?" 0 "exit 0"
is "$(printf '%s\n' "$out" | grep -c .)" 20 "20 records out"
r=$(rec "$out" m7)
is "$(printf '%s' "$r" | jq -c '[.http.open[].url]')" "[\"http://$YES/q/7\",\"http://$ALLOW/q/7\"]" "open: the msys-http base and the allowlisted host are fetched"
is "$(printf '%s' "$r" | jq -c '[.http.click[].url]')" "[\"http://$YES/f/c7\"]" "click: only the tracking endpoint"
is "$(printf '%s' "$r" | jq -c '.http.not_tracking')" '{"open":3,"click":1}' "not_tracking counts the others (negative probe, ftp, cid)"
is "$(printf '%s' "$r" | jq -c '.http.errors')" "[\"!Tracking domain http://$NO blocked\"]" "blocked base logged once with !"
is "$(hits "$YES" /f/a)" 1 "positive probe made once for 20 records (cached)"
is "$(hits "$NO" /f/a)" 1 "negative probe made once for 20 records (cached)"
is "$(hits "$YES" /q/7)" 1 "tracked pixel fetched"
is "$(hits "$NO" /q/7)" 0 "nothing fetched from the non-tracking server"
is "$(stats "$NO" | jq .requests)" 1 "the non-tracking server saw only the probe"
is "$(hits "$ALLOW" /f/a)" 0 "allowlisted host is not probed"
is "$(hits "$ALLOW" /q/7)" 1 "allowlisted host is fetched even without msys-http"
is "$(stats "$YES" | jq .requests)" 41 "tracking server: 1 probe + 20 opens + 20 clicks"

# (Expiry of cache entries is checked in tests/unit/act-http/urls_test.c.)

msg p1 '["open"]' "[\"http://$YES/q/a\"]" '[]' > "$T/in1"
out=$("$AH" -c "$T/c.ini" < "$T/in1")
is "$(printf '%s' "$out" | jq -c '.http.open[0].status')" 200 "a fresh process probes again (cache is per process)"
done_testing
