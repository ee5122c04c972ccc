#!/usr/bin/env bash
# act-http: the address guard refuses loopback, private, link-local, unspecified,
# multicast, broadcast and CGNAT addresses in the open-socket callback (no packet sent),
# also after a redirect and for a name resolving to 127.0.0.1; allowed when configured.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
AH=$BS_BIN/act-http

# Non-loopback targets: run in a network namespace with no interface up when possible,
# so that even a broken guard could not send a packet anywhere.
isolated() {
    if unshare -n true 2>/dev/null; then unshare -n "$@"; else "$@"; fi
}

declare -A want=(
    [127.0.0.1]='127.0.0.1 is a loopback address'
    [127.3.4.5]='127.3.4.5 is a loopback address'
    [::1]='::1 is a loopback address'
    [10.1.2.3]='10.1.2.3 is a private address'
    [172.16.5.4]='172.16.5.4 is a private address'
    [172.31.255.1]='172.31.255.1 is a private address'
    [192.168.1.1]='192.168.1.1 is a private address'
    [169.254.169.254]='169.254.169.254 is a link-local address'
    [fe80::1]='fe80::1 is a link-local address'
    [0.0.0.0]='0.0.0.0 is an unspecified address'
    [::]=':: is an unspecified address'
    [224.0.0.1]='224.0.0.1 is a multicast address'
    [ff02::1]='ff02::1 is a multicast address'
    [255.255.255.255]='255.255.255.255 is a broadcast address'
    [100.64.0.1]='100.64.0.1 is a shared (CGNAT) address'
    [fd00::1]='fd00::1 is a private (unique local) address'
    [::ffff:127.0.0.1]='::ffff:127.0.0.1 is a loopback address'
    [::ffff:169.254.169.254]='::ffff:169.254.169.254 is a link-local address'
)
hosts=("${!want[@]}")
# One allowlisted host per continuation line (the INI reader limits line length).
conf "$T/c.ini" "[Sink]" "Open_Click_Timeout = 2" "Tracking_Domains_Allowlist = localhost" \
    "${hosts[@]/#/    }"
: > "$T/in"
for h in "${hosts[@]}"; do
    case $h in *:*) u="http://[$h]:8080/q/x" ;; *) u="http://$h:8080/q/x" ;; esac
    msg "g-$h" '["open"]' "[\"$u\"]" '[]' >> "$T/in"
done
out=$(isolated "$AH" -c "$T/c.ini" < "$T/in")
is "$?" 0 "exit 0"
is "$(printf '%s\n' "$out" | grep -c .)" "${#hosts[@]}" "one record per target"
for h in "${hosts[@]}"; do
    r=$(rec "$out" "g-$h")
    is "$(printf '%s' "$r" | jq -r '.http.open[0].error')" "Fetch refused: ${want[$h]}" "refused: $h"
    is "$(printf '%s' "$r" | jq -r '.http.open[0].error_code')" policy_refused "error_code policy_refused: $h"
done
r=$(rec "$out" "g-10.1.2.3")
is "$(printf '%s' "$r" | jq -c '.http.errors')" '["!Fetch refused: 10.1.2.3 is a private address"]' "refusal logged with !"

# Loopback with a real server listening: no request reaches it.
start_ts LO 127.0.0.1:0 --log "$T/lo.log" || exit 1
port=${LO##*:}
{
    msg lo1 '["open"]' "[\"http://127.0.0.1:$port/q/direct\"]" '[]'
    msg lo2 '["open"]' "[\"http://localhost:$port/q/byname\"]" '[]'
    msg lo3 '["click"]' '[]' "[\"http://127.0.0.1:$port/f/notallowlisted\"]"
} > "$T/lo.in"
conf "$T/lo.ini" "[Sink]" "Tracking_Domains_Allowlist = localhost, 127.0.0.1:$port"
out=$("$AH" -c "$T/lo.ini" < "$T/lo.in")
like "$(rec "$out" lo1 | jq -r '.http.open[0].error')" '^Fetch refused: 127\.0\.0\.1 is a loopback address$' "127.0.0.1 refused"
like "$(rec "$out" lo2 | jq -r '.http.open[0].error')" '^Fetch refused: (127\.0\.0\.1|::1) is a loopback address$' "a name resolving to loopback (localhost) refused"
conf "$T/lo2.ini" "[Sink]" "Tracking_Domains_Allowlist = localhost"
out=$("$AH" -c "$T/lo2.ini" < "$T/lo.in")
is "$(rec "$out" lo3 | jq -c '.http.errors')" "[\"!Tracking domain http://127.0.0.1:$port blocked\",\"!Fetch refused: 127.0.0.1 is a loopback address\"]" "the tracking probe is guarded too"
is "$(stats "$LO" | jq .requests)" 0 "the loopback server received no request"

# Via a redirect: a server on an allowed address (127.0.0.2, an exception) redirects to
# 127.0.0.1; the second hop is refused.
start_ts HOP 127.0.0.2:0 --redirect "/go=http://127.0.0.1:$port/q/after-redirect" || exit 1
conf "$T/hop.ini" "[Sink]" "Tracking_Domains_Allowlist = 127.0.0.1" \
    "[Http]" "Private_Address_Exceptions = 127.0.0.2/32"
msg hop '["click"]' '[]' "[\"http://$HOP/go/1\",\"http://$HOP/f/ok\"]" > "$T/hop.in"
out=$("$AH" -c "$T/hop.ini" < "$T/hop.in")
is "$(printf '%s' "$out" | jq -r '.http.click[0].error')" 'Fetch refused: 127.0.0.1 is a loopback address' "redirect to 127.0.0.1 refused"
is "$(printf '%s' "$out" | jq -r '.http.click[1].status')" 200 "the exception address itself is allowed (probe and fetch)"
is "$(hits "$HOP" /go/1)" 1 "the first hop was fetched"
is "$(stats "$LO" | jq .requests)" 0 "the redirect target received no request"

# Allowed when configured.
conf "$T/allow.ini" "[Sink]" "Tracking_Domains_Allowlist = localhost" "[Http]" "Allow_Private_Addresses = yes"
out=$("$AH" -c "$T/allow.ini" < "$T/lo.in")
is "$(rec "$out" lo1 | jq -r '.http.open[0].status')" 200 "Allow_Private_Addresses = yes: 127.0.0.1 fetched"
is "$(rec "$out" lo2 | jq -r '.http.open[0].status')" 200 "Allow_Private_Addresses = yes: localhost fetched"
is "$(rec "$out" lo3 | jq -r '.http.click[0].status')" 200 "Allow_Private_Addresses = yes: probe and click"
out=$("$AH" -c "$T/allow.ini" < "$T/hop.in")
is "$(printf '%s' "$out" | jq -r '.http.click[0].status')" 200 "Allow_Private_Addresses = yes: redirect to 127.0.0.1 followed"
is "$(hits "$LO" /q/after-redirect)" 1 "and reached the loopback server"

# Allowed_Networks: a hard limit (for tests and closed set-ups): everything outside is
# refused, public addresses included (192.0.2.1 is TEST-NET-1; refused before any packet).
conf "$T/only.ini" "[Sink]" "Tracking_Domains_Allowlist = 127.0.0.1, 127.0.0.2, 192.0.2.1" \
    "[Http]" "Allow_Private_Addresses = yes" "Allowed_Networks = 127.0.0.2/32"
hop_port=${HOP##*:}
{
    msg on1 '["open"]' "[\"http://127.0.0.2:$hop_port/q/inside\"]" '[]'
    msg on2 '["open"]' "[\"http://127.0.0.1:$port/q/outside\"]" '[]'
} > "$T/only.in"
out=$("$AH" -c "$T/only.ini" < "$T/only.in")
out=$out$'\n'$(msg on3 '["open"]' '["http://192.0.2.1:8080/q/public"]' '[]' | isolated "$AH" -c "$T/only.ini")
is "$(rec "$out" on1 | jq -r '.http.open[0].status')" 200 "Allowed_Networks: an address inside is fetched"
is "$(rec "$out" on2 | jq -r '.http.open[0].error')" 'Fetch refused: 127.0.0.1 is outside [Http] Allowed_Networks' "Allowed_Networks: loopback outside it refused"
is "$(rec "$out" on3 | jq -r '.http.open[0].error')" 'Fetch refused: 192.0.2.1 is outside [Http] Allowed_Networks' "Allowed_Networks: a public address refused"
conf "$T/badonly.ini" "[Http]" "Allowed_Networks = everywhere"
"$AH" -c "$T/badonly.ini" < /dev/null > /dev/null 2>&1
is "$?" 78 "Allowed_Networks: a bad range is a configuration error"
done_testing
