#!/usr/bin/env bash
# Issue 17: 10,000 messages through the live sink with a [Timing] section and a high
# Time_Scale. Every action a message line schedules is performed and logged exactly once, at
# its due time, and the delays per action type follow the configured distributions (a
# Kolmogorov-Smirnov test per type, computed here in Python: open, open_again, click,
# click_again, oob, fbl; log-normal and exponential, with caps).
if [ -z "${BS_IN_NETNS:-}" ]; then
    exec unshare -n -m env BS_IN_NETNS=1 bash "$0" "$@"
fi
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/timed-sink.sh"
ip link set lo up
echo "nameserver 127.0.0.1" > "$T/resolv.conf"
mount --bind "$T/resolv.conf" /etc/resolv.conf

# 10,000 messages (about 3 CPU-minutes of the whole sink); under the ASan suite 2,000, where
# the sanitizers check the same paths and the statistics have been checked by the plain run.
case $BS_BIN in */asan/*) N=${SCHEDULE_MESSAGES:-2000} ;; *) N=${SCHEDULE_MESSAGES:-10000} ;; esac
# Model time: an hour a wall second. Wall delays stay under ~10 s.
timed_sink_config "$N" "openclick=60,oob=20,fbl=20" "Time_Scale = 3600
Open = lognormal 30m 0.8 3h
Open_Again = exponential 20m 2h
Click = lognormal 5m 1 1h
Click_Again = exponential 10m
OOB = exponential 15m 2h
FBL = lognormal 1h 0.5 4h"
timed_sink_start
ok $? "timed sink, tracking server and report receiver listening"

python3 "$ROOT/tools/smtp-send.py" -s "127.0.0.1:$SP" -c 8 --json "$T/eml" > "$T/sent.json" 2>"$T/send.err"
accepted=$(python3 -c "import json; print(json.load(open('$T/sent.json'))['accepted'])")
is "$accepted" "$N" "every message accepted"

msg_lines() { grep ',consume-mail,[A-Z]*,[^,]*\.msg,' "$LOG" 2>/dev/null | grep -vc ',Action '; }
for _ in $(seq 1 1200); do [ "$(msg_lines)" -ge "$N" ] && break; sleep 0.1; done
is "$(msg_lines)" "$N" "a line per message"
# Then every scheduled action, once it is due (the longest draw is 4 h model = 4 s wall).
all_done() { [ "$(scheduled_ids | wc -l)" -gt 0 ] && [ "$(action_ids | wc -l)" -ge "$(scheduled_ids | wc -l)" ]; }
for _ in $(seq 1 300); do all_done && break; sleep 0.2; done
sleep 1
scheduled_ids | sort > "$T/scheduled"
action_ids | sort > "$T/done"
diag "$(wc -l < "$T/scheduled") actions scheduled, $(wc -l < "$T/done") performed"
[ "$(wc -l < "$T/scheduled")" -gt "$N" ]; ok $? "more actions scheduled than messages"
is "$(uniq -d "$T/done" | wc -l)" 0 "no action logged twice"
is "$(comm -3 "$T/scheduled" "$T/done" | wc -l)" 0 "every scheduled action logged, none other"
is "$(ls -A "$T/run/spool/claimed" | wc -l)" 0 "every spool file settled"

# Opens and clicks reached the tracking server once each.
opens=$(grep -c ',Action open ' "$LOG"); clicks=$(grep -c ',Action click ' "$LOG")
hits_q=$(awk -F'\t' '$1=="GET" && $2 ~ /^\/q\//' "$T/track.log" | wc -l)
[ "$hits_q" -ge "$opens" ]; ok $? "tracking server pixel hits ($hits_q) >= open actions ($opens)"
[ "$clicks" -gt 0 ]; ok $? "clicks performed ($clicks)"

curl -fsS "http://127.0.0.1:$WP/json" > "$T/json"
python3 - "$T/json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
s = j.get("schedule")
assert s is not None, "no schedule in /json"
assert s["pending_total"] == 0, s
assert s["next_due"] is None, s
assert set(s["pending"]) >= {"open", "click", "oob", "fbl"}, s
PY
ok $? "/json: schedule with nothing pending and no next due time"
curl -fsS "http://127.0.0.1:$WP/metrics" > "$T/metrics"
like "$(cat "$T/metrics")" 'bouncy_sink_schedule_pending\{action="open"\} 0' "/metrics: pending by type"
like "$(cat "$T/metrics")" 'bouncy_sink_actions_done_total [1-9]' "/metrics: actions done counted"

# Distributions and due times, from the log (TZ=UTC: log times are local).
python3 - "$LOG" <<'PY'
import math, re, sys, datetime
def t_log(l):
    d = datetime.datetime.strptime(l[:23], "%Y-%m-%d %H:%M:%S,%f")
    return d.replace(tzinfo=datetime.timezone.utc).timestamp()
def t_iso(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc).timestamp()
delay = {}     # (msg, action) -> model seconds from delivery
late = []
for l in open(sys.argv[1], encoding="utf-8", errors="replace"):
    p = l.rstrip("\n").split(",", 7)
    if len(p) < 8 or not p[7].startswith("Action "):
        continue
    name, aid, d, _, due = p[7].split(",")[0].split(" ")[1:6]
    delay[tuple(aid.split("/"))] = float(d[1:-1])
    late.append(t_log(l) - t_iso(due))
after = {"open_again": "open", "click": "open", "click_again": "click"}
samples = {}
for (mid, a), d in delay.items():
    base = delay.get((mid, after[a]), None) if a in after else 0.0
    if base is None:
        print("# %s/%s without its %s" % (mid, a, after[a])); sys.exit(1)
    samples.setdefault(a, []).append(d - base)

Phi = lambda z: 0.5 * (1 + math.erf(z / math.sqrt(2)))
H = 3600.0
cdf = {  # the test's [Timing], capped: a draw above the cap is the cap
    "open": lambda x: 1.0 if x >= 3 * H else Phi(math.log(x / 1800) / 0.8),
    "open_again": lambda x: 1.0 if x >= 2 * H else 1 - math.exp(-x / 1200),
    "click": lambda x: 1.0 if x >= H else Phi(math.log(x / 300) / 1.0),
    "click_again": lambda x: 1 - math.exp(-x / 600),
    "oob": lambda x: 1.0 if x >= 2 * H else 1 - math.exp(-x / 900),
    "fbl": lambda x: 1.0 if x >= 4 * H else Phi(math.log(x / H) / 0.5),
}
def ks_p(d, n):  # asymptotic Kolmogorov distribution, with Stephens' correction
    lam = (math.sqrt(n) + 0.12 + 0.11 / math.sqrt(n)) * d
    return min(1.0, max(0.0, 2 * sum((-1) ** (k - 1) * math.exp(-2 * k * k * lam * lam) for k in range(1, 101))))
bad = 0
for a, F in cdf.items():
    xs = sorted(x for x in samples.get(a, []))
    n = len(xs)
    if n < 100:
        print("# %s: only %d samples" % (a, n)); bad += 1; continue
    # the delays are logged to the millisecond: compare at the rounded values
    D = max(max(abs(F(x + 5e-4) - (i + 1) / n), abs(F(max(x - 5e-4, 1e-9)) - i / n)) for i, x in enumerate(xs))
    p = ks_p(D, n)
    print("# %-11s n=%5d KS D=%.4f p=%.3f" % (a, n, D, p))
    if p < 0.001:
        bad += 1
# Wall-clock lateness: never before the due time (the log line is written after the
# action, which may take a while on a loaded machine: only shown).
late.sort()
n = len(late)
print("# lateness: min %.3fs median %.3fs p99 %.3fs max %.3fs" % (late[0], late[n // 2], late[int(n * 0.99)], late[-1]))
if late[0] < -0.002:
    print("# an action was performed before it was due")
    bad += 1
sys.exit(1 if bad else 0)
PY
ok $? "delays per action type follow the configured distributions (KS p >= 0.001), none performed early"

kill -TERM "$SINK_PID"; wait "$SINK_PID"
ok $? "sink stops cleanly"
done_testing
