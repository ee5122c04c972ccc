#!/usr/bin/env bash
# make install: programs, manual pages, pipelines and data land under DESTDIR/PREFIX and work.
. "$(dirname "$0")/../lib.sh"
make -s -C "$ROOT" install DESTDIR="$T/root" PREFIX=/usr/local > "$T/make.out" 2>&1
ok $? "make install succeeds"
for t in listen ingest decide act-http act-smtp report gen-corpus track-server bs-config; do
    [ -x "$T/root/usr/local/bin/$t" ] && [ -f "$T/root/usr/local/share/man/man1/$t.1" ]
    ok $? "$t and its manual page installed"
done
for m in man5/bouncy-sink.ini.5 man5/bouncy-sink-records.5 man7/bouncy-sink.7; do
    [ -f "$T/root/usr/local/share/man/$m" ]; ok $? "$m installed"
done
[ -x "$T/root/usr/local/share/bouncy-sink/pipelines/sink.sh" ]; ok $? "pipelines installed"
is "$("$T/root/usr/local/bin/bs-config" -c "$T/root/usr/local/share/bouncy-sink/data/bouncy-sink.ini" Listen Address)" \
   "127.0.0.1:2525" "installed program reads the installed configuration"
[ "$(wc -l < "$T/root/usr/local/share/bouncy-sink/data/inband-replies.dat")" = 587 ]; ok $? "reply table installed"
done_testing
