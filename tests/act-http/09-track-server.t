#!/usr/bin/env bash
# track-server: routes, Server header, counts at /_stats, request log, options, errors.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
TSB=$BS_BIN/track-server
c() { curl -s --noproxy '*' "$@"; }

start_ts TS 127.0.0.1:0 --log "$T/log" --status /gone=404 --status /oops=503 \
    --redirect /out=http://landing.test/x --landing /welcome || exit 1
like "$TS" '^127\.0\.0\.1:[0-9]+$' "prints the address with the port it picked"
is "$(c -o /dev/null -w '%{http_code} %header{server}' "http://$TS/f/a")" "302 msys-http" "probe path: Server: msys-http (a click: 302 to the landing URL)"
is "$(c -o /dev/null -w '%{http_code} %{content_type} %{size_download}' "http://$TS/q/abc")" "200 image/gif 43" "pixel: 1x1 GIF"
is "$(c -o /dev/null -w '%{redirect_url}' "http://$TS/f/click/1")" "http://$TS/welcome" "click redirects to the landing URL"
is "$(c -o /dev/null -w '%{http_code} %{num_redirects}' -L "http://$TS/redirect/3")" "200 3" "/redirect/3: a chain of 3 redirects"
is "$(c -o /dev/null -w '%{http_code}' "http://$TS/gone/x")" 404 "--status prefix answers its code"
is "$(c -o /dev/null -w '%{http_code}' "http://$TS/oops")" 503 "second --status rule"
is "$(c -o /dev/null -w '%{http_code} %{redirect_url}' "http://$TS/out/1")" "302 http://landing.test/x" "--redirect rule"
is "$(c -o /dev/null -w '%{size_download}' "http://$TS/big/12345")" 12345 "/big/N: N bytes"
is "$(c -A 'UA-Post/1' -d 'List-Unsubscribe=One-Click' "http://$TS/unsub/1")" "ok" "POST accepted"
is "$(c -o /dev/null -w '%{http_code}' "http://$TS/anything")" 200 "other paths: 200"
s=$(stats "$TS")
is "$(printf '%s' "$s" | jq -c '[.requests, .methods.POST, .paths["/redirect/0"], .statuses["404"], .user_agents["UA-Post/1"]]')" '[13,1,1,1,1]' "/_stats counts requests, methods, paths, statuses, user agents"
is "$(printf '%s' "$s" | jq '.connections >= 1')" true "/_stats counts connections"
line=$(grep -P '^POST\t' "$T/log")
is "$line" "$(printf 'POST\t/unsub/1\tUA-Post/1\t*/*\t-\tapplication/x-www-form-urlencoded\tList-Unsubscribe=One-Click')" "log: method, URI, UA, Accept, Accept-Language, Content-Type, body"
is "$(grep -c . "$T/log")" 13 "one log line per request (not /_stats)"

# Keep-alive: several requests over one connection.
before=$(stats "$TS" | jq .connections)
c -o /dev/null -o /dev/null -o /dev/null "http://$TS/q/1" "http://$TS/q/2" "http://$TS/q/3"
is "$(( $(stats "$TS" | jq .connections) - before ))" 1 "keep-alive: 3 requests, 1 connection"

# Another Server header; configuration file.
start_ts NG 127.0.0.1:0 --server nginx || exit 1
is "$(c -o /dev/null -w '%header{server}' "http://$NG/f/a")" nginx "--server sets the Server header"
printf '[Track_Server]\nAddress = 127.0.0.1:0\nServer = from-config\nLanding = /cfg\n' > "$T/ts.ini"
out=$(mktemp "$T/cfg.XXXXXX")
bg "$TSB" -c "$T/ts.ini" > "$out"
wait_for test -s "$out"
CF=$(head -n 1 "$out")
is "$(c -o /dev/null -w '%header{server} %{redirect_url}' "http://$CF/f/x")" "from-config http://$CF/cfg" "[Track_Server] Address, Server and Landing from -c"

# Errors.
"$TSB" --status nope < /dev/null > /dev/null 2>&1
is "$?" 64 "bad --status: exit 64"
"$TSB" -l nonsense < /dev/null > /dev/null 2>&1
is "$?" 64 "bad -l: exit 64"
"$TSB" -l "$TS" < /dev/null > /dev/null 2>&1
is "$?" 69 "address in use: exit 69"
printf '[Track_Server]\nDelay_Ms = soon\n' > "$T/bad.ini"
"$TSB" -c "$T/bad.ini" < /dev/null > /dev/null 2> "$T/err"
is "$?" 78 "bad config: exit 78"
like "$(cat "$T/err")" 'bad.ini:2: \[Track_Server\] Delay_Ms' "bad config names file and line"
done_testing
