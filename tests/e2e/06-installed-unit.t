#!/usr/bin/env bash
# Issue 22: from `make install-systemd` to a sink that starts. In a private network and
# mount namespace, /etc and /var are overlays whose writes land in $T (the machine's own
# are untouched): `make install-systemd PREFIX=$T/prefix` runs as on a real host (it
# creates the bouncy-sink user, the unit, /etc/bouncy-sink/bouncy-sink.ini from
# etc/bouncy-sink.production.ini, /var/lib and /var/log/bouncy-sink). Then the unit's
# ExecStart runs as the unit's User from its WorkingDirectory with its Environment, on the
# installed production configuration edited only for loopback ports; the DKIM key of a
# signed message is published by dnsmasq (the production file has no key file). Every
# stage must stay up and the message must be logged, verified, in
# /var/log/bouncy-sink/consume-mail.log. `systemd-analyze verify` checks the unit (it
# needs no systemd as PID 1).
# shellcheck source=tests/netns.sh
. "$(dirname "$0")/../netns.sh"
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
ip link set lo up; ok $? "loopback up in the private namespace"
chmod 755 "$T" # the unit's user reads the installed tree under it
mkdir -p "$T/ov/etc-up" "$T/ov/etc-work" "$T/ov/var-up" "$T/ov/var-work"
mount -t overlay overlay -o "lowerdir=/etc,upperdir=$T/ov/etc-up,workdir=$T/ov/etc-work" /etc &&
    mount -t overlay overlay -o "lowerdir=/var,upperdir=$T/ov/var-up,workdir=$T/ov/var-work" /var
ok $? "/etc and /var are private overlays"

make -s -C "$ROOT" install-systemd PREFIX="$T/prefix" > "$T/make.out" 2>&1
ok $? "make install-systemd PREFIX=$T/prefix" || cat "$T/make.out" >&2
unit=/etc/systemd/system/bouncy-sink.service
conf=/etc/bouncy-sink/bouncy-sink.ini
[ -f "$unit" ]; ok $? "the unit is installed"
cmp -s "$conf" "$ROOT/etc/bouncy-sink.production.ini"; ok $? "the production configuration is installed as $conf"
id bouncy-sink > /dev/null 2>&1; ok $? "the bouncy-sink system user exists"
is "$(stat -c %U /var/lib/bouncy-sink):$(stat -c %U /var/log/bouncy-sink)" bouncy-sink:bouncy-sink \
    "state and log directories belong to it"
"$T/prefix/bin/bs-config" -c "$conf" --check; ok $? "bs-config --check passes on the installed configuration"
out=$(MANPATH=$T/prefix/share/man: systemd-analyze verify "$unit" 2>&1)
ok $? "systemd-analyze verify $unit" || diag "$out"

# What systemd would run, from the unit.
key() { sed -n "s/^$1=//p" "$unit"; }
user=$(key User) group=$(key Group) wd=$(key WorkingDirectory) exec_start=$(key ExecStart)
env_path=$(key Environment | sed -n 's/^PATH=//p')
is "$wd" /var/lib/bouncy-sink "WorkingDirectory"
like "$exec_start" "^$T/prefix/share/bouncy-sink/pipelines/sink.sh -c $conf " "ExecStart runs the installed sink.sh"

# Loopback ports: the only edit.
smtp=$(free_port) web=$(free_port)
sed -i -e "s/^Address = 0.0.0.0:25$/Address = 127.0.0.1:$smtp/" \
    -e "s/^Address = 127.0.0.1:8888$/Address = 127.0.0.1:$web/" "$conf"
is "$(diff "$ROOT/etc/bouncy-sink.production.ini" "$conf" | grep -c '^>')" 2 "two lines edited (the ports)"

# DNS: the signing key of the test message, from dnsmasq on 127.0.0.1:53.
"$BS_BIN/gen-corpus" -n 1 -f eml -o "$T/eml" --domain sender.test --selector inst --seed 5 \
    --streams accept=1 --sink-domain sink.example.com --key "$T/dkim.key" \
    --key-file "$T/keys.txt" --dnsmasq "$T/dkim.dnsmasq" > /dev/null 2>&1
ok $? "a DKIM-signed message for the sink domain"
printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' > /etc/resolv.conf
{ cat "$T/dkim.dnsmasq"; echo "local=/test/"; echo "address=/ready.test/192.0.2.53"; } > "$T/dnsmasq.conf"
bg /usr/sbin/dnsmasq --conf-file="$T/dnsmasq.conf" --no-resolv --no-hosts --port 53 \
    --listen-address 127.0.0.1 --bind-interfaces --keep-in-foreground --pid-file= \
    --log-facility="$T/dnsmasq.log" --user=root
wait_port 53; ok $? "dnsmasq answers"

# The unit's ExecStart, as its user, from its working directory, with its PATH.
read -r -a argv <<< "$exec_start"
(cd "$wd" && exec setpriv --reuid="$user" --regid="$group" --init-groups \
    env -i PATH="$env_path" HOME="$wd" "${argv[@]}") > "$T/sink.out" 2> "$T/sink.err" &
sink_pid=$!
_bg_pids+=("$sink_pid")
wait_port "$smtp" 20; ok $? "listen answers on the edited port" || cat "$T/sink.err" >&2
wait_port "$web" 20; ok $? "report answers on the edited port"

msg=$(ls "$T"/eml/*.eml)
python3 "$ROOT/tools/smtp-send.py" -s "127.0.0.1:$smtp" "$msg" > "$T/send.out" 2>&1
ok $? "the signed message is sent"
log=/var/log/bouncy-sink/consume-mail.log
logged() { grep -q '@accept\.sink\.example\.com' "$log" 2>/dev/null; }
wait_until 30 logged; ok $? "a line is logged in $log"
line=$(grep '@accept\.sink\.example\.com' "$log" | head -n 1)
like "$line" ',INFO,[^,]+,[^,]*@accept\.sink\.example\.com,[^,]*@sender\.test>?,Accept$' \
    "… the accepted message, DKIM verified from DNS (no !DKIM fail)"
is "$(stat -c %U "$log")" bouncy-sink "the log belongs to the unit's user"

sleep 3
for s in listen ingest decide act-http act-smtp report; do
    pgrep -u bouncy-sink -x "$s" > /dev/null; ok $? "$s is up, as bouncy-sink"
done
unlike "$(cat "$T/sink.err")" 'exited|giving up|error' "sink.sh restarted nothing and reported no error"
curl -fsS "http://127.0.0.1:$web/json" | jq -e '.total_messages >= 1' > /dev/null
ok $? "/json counts the message"

kill -TERM "$sink_pid"
wait "$sink_pid"; is $? 0 "SIGTERM stops the sink cleanly (exit 0)"
done_testing
