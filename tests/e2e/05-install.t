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
is "$("$T/root/usr/local/bin/bs-config" -c "$T/root/usr/local/share/bouncy-sink/etc/bouncy-sink.ini" Listen Address)" \
   "127.0.0.1:2525" "installed program reads the installed configuration"
[ -f "$T/root/usr/local/share/bouncy-sink/etc/bouncy-sink.production.ini" ]; ok $? "production configuration installed"
# The installed programs find the installed data (PREFIX/share/bouncy-sink/data next to
# their bin/, wherever DESTDIR put it), not the repository's.
is "$("$T/root/usr/local/bin/bs-config" -c "$T/root/usr/local/share/bouncy-sink/etc/bouncy-sink.production.ini" --default Listen InBand_Replies_File)" \
   "$T/root/usr/local/share/bouncy-sink/data/inband-replies.dat" "installed program: the installed data directory"
"$T/root/usr/local/bin/decide" -c "$T/root/usr/local/share/bouncy-sink/etc/bouncy-sink.production.ini" < /dev/null > "$T/params" 2>/dev/null
ok $? "installed decide loads the production configuration"
like "$(head -n 1 "$T/params")" "\"User_Agents_File\":\"$T/root/usr/local/share/bouncy-sink/data/user-agents.csv\"" \
   "… with the installed user agents"
[ "$(wc -l < "$T/root/usr/local/share/bouncy-sink/data/inband-replies.dat")" = 587 ]; ok $? "reply table installed"
make -s -C "$ROOT" uninstall DESTDIR="$T/root" PREFIX=/usr/local > "$T/make.out" 2>&1
ok $? "make uninstall succeeds"
left=$(find "$T/root" -type f | wc -l)
is "$left" 0 "make uninstall removes every installed file"
done_testing
