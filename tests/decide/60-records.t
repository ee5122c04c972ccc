#!/usr/bin/env bash
# decide and the record stream: invalid lines become "invalid" records (reported on
# stderr, never dropped), other kinds pass through byte for byte, the fast scanner and the
# jansson path agree, and seeded plans are reproducible and depend only on seed and id.
. "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
CFG=tests/decide/stats.ini
GEN=tests/decide/gen-records.py
dec() { TZ=UTC "$BS_BIN/decide" -c $CFG --now 2026-11-23T12:00:00Z "$@"; }

cat >"$T/in" <<'EOF2'
{"v":1,"kind":"inband","id":"i1","ts":"2026-11-24T20:05:10.001Z","reply":{"code":550}}
garbage
{"v":2,"kind":"message","id":"x2","ts":"2026-11-24T20:05:10.001Z"}
{"v":1,"kind":"message","ts":"2026-11-24T20:05:10.001Z"}
{"v":1,"kind":"message","id":"d1","id":"d2"}
{"v":1,"kind":"message","id":"d3","headers":{"to":"a@b","to":"c@d"}}
[1,2]
{"v":1,"kind":"message","id":"ok1","envelope":{"rcpt":"x@oob.bouncy-sink.test"},"dkim":{"result":"pass"},"spf":{"result":"pass"}}
EOF2
out=$(dec --seed 1 <"$T/in" 2>"$T/err"); rc=$?
is "$rc" 0 "exit 0 with bad lines in the input"
is "$(printf '%s\n' "$out" | wc -l)" 9 "one output record per input line (plus params)"
is "$(printf '%s\n' "$out" | sed -n 2p)" "$(sed -n 1p "$T/in")" "other kinds pass through byte for byte"
like "$(printf '%s\n' "$out" | sed -n 3p)" '^\{"v":1,"kind":"invalid","id":"invalid-[0-9a-f]{16}-2","ts":"2026-11-23T12:00:00.000Z","error":"stdin:2: not JSON: .*","source":\{"name":"stdin","line":2\},"text":"garbage"\}$' \
    "not JSON: invalid record"
like "$(printf '%s\n' "$out" | sed -n 4p)" '"kind":"invalid",.*"error":"stdin:3: unsupported schema version 2' "v 2: invalid record"
like "$(printf '%s\n' "$out" | sed -n 5p)" '"kind":"invalid",.*"error":"stdin:4: missing \\"id\\""' "no id: invalid record"
like "$(printf '%s\n' "$out" | sed -n 6p)" '"kind":"invalid",.*"error":"stdin:5: not JSON: duplicate object key' "duplicate key: invalid record"
like "$(printf '%s\n' "$out" | sed -n 7p)" '"kind":"invalid",.*"error":"stdin:6: not JSON: duplicate object key' "nested duplicate key: invalid record"
like "$(printf '%s\n' "$out" | sed -n 8p)" '"kind":"invalid",.*"error":"stdin:7: not a JSON object' "array: invalid record"
like "$(printf '%s\n' "$out" | sed -n 9p)" '"id":"ok1",.*"plan":\{"stream":"oob","actions":\["oob"\]' "processing goes on after bad lines"
is "$(grep -c '^decide: error: malformed record (stdin:[2-7]): ' "$T/err")" 6 "each bad line reported on stderr with its line"

# Reproducibility with the real (non-degenerate) model.
python3 $GEN 2000 'u{i}@bouncy-sink.test' --unsub >"$T/gen"
a=$(dec --seed 42 <"$T/gen" 2>/dev/null)
b=$(dec --seed 42 <"$T/gen" 2>/dev/null)
is "$(echo "$a" | md5sum)" "$(echo "$b" | md5sum)" "same seed: byte-identical output"
c=$(tac "$T/gen" | dec --seed 42 2>/dev/null | tail -n +2 | sort)
is "$(echo "$c" | md5sum)" "$(echo "$a" | tail -n +2 | sort | md5sum)" \
    "reversed input: every message gets the same plan (plans depend on seed and id)"
d=$(dec --seed 43 <"$T/gen" 2>/dev/null)
[ "$(echo "$a" | tail -n +2 | md5sum)" != "$(echo "$d" | tail -n +2 | md5sum)" ]
ok $? "another seed: other plans"
printf '[Sink]\nUser_Agents_File = %s/data/reference/user-agents.csv\nOOB_percent = 2\nFBL_percent = 1\nOpen_percent = 30\nOpen_Again_percent = 10\nClick_percent = 12\nClick_Again_percent = 4\nWeekly_Cycle_Open_Rate = 1,0.5,1,1,1,1,1\n[Decide]\nUnsubscribe_percent = 20\nOOTO_percent = 25\nSeed = 42\n' "$ROOT" >"$T/seeded.ini"
e=$(TZ=UTC "$BS_BIN/decide" -c "$T/seeded.ini" --now 2026-11-23T12:00:00Z <"$T/gen" 2>/dev/null)
is "$(echo "$e" | tail -n +2 | md5sum)" "$(echo "$a" | tail -n +2 | md5sum)" "[Decide] Seed = 42 is the same as --seed 42"
like "$(echo "$e" | head -n 1)" '"seeded":true,"seed":"42"' "params show the seed"
f=$(TZ=UTC "$BS_BIN/decide" -c "$T/seeded.ini" --seed 43 --now 2026-11-23T12:00:00Z <"$T/gen" 2>/dev/null)
is "$(echo "$f" | tail -n +2 | md5sum)" "$(echo "$d" | tail -n +2 | md5sum)" "--seed overrides [Decide] Seed"
u1=$(dec <"$T/gen" 2>/dev/null | tail -n +2 | md5sum)
u2=$(dec <"$T/gen" 2>/dev/null | tail -n +2 | md5sum)
[ "$u1" != "$u2" ]
ok $? "no seed: each run draws afresh"

# Escapes in the fields decide reads (decoded by the fast scanner), and the jansson path
# (taken e.g. for a number with an exponent) plan like the plain fast path.
head -n 200 "$T/gen" | sed 's/@bouncy-sink/\\u0040bouncy-sink/g; s/"kind":"message"/"kind":"m\\u0065ssage"/; s/"id":"m/"id":"\\u006d/' >"$T/esc"
head -n 200 "$T/gen" | sed 's/"size":5120/"size":5.12e3/' >"$T/slow"
grep -q 'u0040' "$T/esc" && grep -q '5.12e3' "$T/slow"
ok $? "escaped and exponent variants made"
p1=$(head -n 200 "$T/gen" | dec --seed 9 2>/dev/null | tail -n +2 | grep -o '"plan":.*')
p2=$(dec --seed 9 <"$T/esc" 2>/dev/null | tail -n +2 | grep -o '"plan":.*')
p3=$(dec --seed 9 <"$T/slow" 2>/dev/null | tail -n +2 | grep -o '"plan":.*')
is "$(echo "$p2" | md5sum)" "$(echo "$p1" | md5sum)" "escaped recipient, kind and id: same plans"
is "$(echo "$p3" | md5sum)" "$(echo "$p1" | md5sum)" "jansson path: same plans as the fast path"
is "$(echo "$p3" | wc -l)" 200 "jansson path: all planned"
like "$(dec --seed 9 <"$T/slow" 2>/dev/null | sed -n 2p)" '^\{"v":1,"kind":"message","id":"m00000000",.*"size":5120.0,' \
    "jansson path: the record re-serialised"

# A reader that goes away: write error, exit 74.
python3 $GEN 20000 'u{i}@bouncy-sink.test' --pad 500 2>/dev/null | dec --seed 1 2>"$T/err" | head -n 1 >/dev/null
is "${PIPESTATUS[1]}" 74 "closed output: exit 74"
like "$(cat "$T/err")" 'decide: fatal: write error \(stdout\): Broken pipe' "closed output: message"
done_testing
