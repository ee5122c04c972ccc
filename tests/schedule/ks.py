#!/usr/bin/env python3
"""ks.py — the Kolmogorov-Smirnov check of tests/schedule/01-distribution.t.

  ks.py LOG          the sink's log (all of it: with its rotated files before it, as
                     tests/lib.sh's log_cat gives it): one "Action NAME ID/NAME +DELAYs due
                     ISO" line per action; log times are read in the local time zone ($TZ)
  ks.py --plans FILE decide's output (NDJSON records with plan.delays), for checking the
                     check itself (false alarms, power) without the live sink

Prints one "# TYPE n=... KS D=... p=..." line per action type and the wall-clock lateness
(log only), and exits 1 when a type's p is below ALPHA, a type has fewer than 100 samples,
or an action was performed before it was due.

The delays are the [Timing] section of 01-distribution.t (the CDFs below, written from the
configuration, independently of the sink's code). An action that follows another (open_again
and click after open, click_again after click) is compared by its own draw: its delay minus
the one it follows, for the same message. A draw above its cap is the cap: an atom of mass
P(X >= cap), which the statistic handles as the tie it is (all samples at the cap at once).

ALPHA = 1e-5 per type, six types: a false alarm in fewer than 1 run in 10,000 (p is the
asymptotic Kolmogorov distribution, which is conservative with an atom).
"""
import datetime
import json
import math
import sys
import time

ALPHA = 1e-5
H = 3600.0
Phi = lambda z: 0.5 * (1 + math.erf(z / math.sqrt(2)))
# (CDF below the cap, cap or None)
DIST = {
    "open": (lambda x: Phi(math.log(x / 1800) / 0.8), 3 * H),
    "open_again": (lambda x: 1 - math.exp(-x / 1200), 2 * H),
    "click": (lambda x: Phi(math.log(x / 300) / 1.0), H),
    "click_again": (lambda x: 1 - math.exp(-x / 600), None),
    "oob": (lambda x: 1 - math.exp(-x / 900), 2 * H),
    "fbl": (lambda x: Phi(math.log(x / H) / 0.5), 4 * H),
}
AFTER = {"open_again": "open", "click": "open", "click_again": "click"}
# Delays are logged to the millisecond, so a draw that follows another is known to +-1 ms.
TOL = 1e-3


def ks_p(d, n):
    """P(D >= d) for n samples: asymptotic Kolmogorov distribution, Stephens' correction."""
    lam = (math.sqrt(n) + 0.12 + 0.11 / math.sqrt(n)) * d
    if lam < 0.2:
        return 1.0
    return min(1.0, max(0.0, 2 * sum((-1) ** (k - 1) * math.exp(-2 * k * k * lam * lam)
                                     for k in range(1, 101))))


def ks_d(xs, cdf, cap):
    """sup |ECDF - F| over sorted samples known to +-TOL; ties (the cap) count at once."""
    if cap is not None:
        xs = [cap if x >= cap - 2 * TOL else x for x in xs]  # a capped draw, less another
    xs = sorted(xs)
    n = len(xs)

    def F(x):
        if x <= 0:
            return 0.0
        return 1.0 if cap is not None and x >= cap else cdf(x)

    d, i = 0.0, 0
    while i < n:
        j = i
        while j < n and xs[j] == xs[i]:
            j += 1
        x = xs[i]
        below = F(x - TOL) if not (cap is not None and x == cap) else F(cap - TOL / 2)
        d = max(d, abs(below - i / n), abs(F(x + TOL) - j / n))
        i = j
    return d


def check(samples):
    """samples: {type: [draws]}. Prints a line per type; returns the number of failures."""
    bad = 0
    for a, (cdf, cap) in DIST.items():
        xs = samples.get(a, [])
        n = len(xs)
        if n < 100:
            print("# %s: only %d samples" % (a, n))
            bad += 1
            continue
        d = ks_d(xs, cdf, cap)
        p = ks_p(d, n)
        print("# %-11s n=%5d KS D=%.4f p=%.2g%s" % (a, n, d, p, "  < %g" % ALPHA if p < ALPHA else ""))
        if p < ALPHA:
            bad += 1
    return bad


def own_draws(delay):
    """{(msg, type): delay from delivery} -> {type: [own draws]}, or None if one lacks its base."""
    samples = {}
    for (mid, a), d in delay.items():
        base = delay.get((mid, AFTER[a])) if a in AFTER else 0.0
        if base is None:
            print("# %s/%s without its %s" % (mid, a, AFTER[a]))
            return None
        samples.setdefault(a, []).append(d - base)
    return samples


def from_log(path):
    def t_log(line):  # log times are local: in the TZ the sink ran with (ours)
        d = datetime.datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f")
        return time.mktime(d.timetuple()) + d.microsecond / 1e6

    def t_iso(s):
        d = datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ")
        return d.replace(tzinfo=datetime.timezone.utc).timestamp()

    delay, late = {}, []
    for line in open(path, encoding="utf-8", errors="replace"):
        p = line.rstrip("\n").split(",", 7)
        if len(p) < 8 or not p[7].startswith("Action "):
            continue
        name, aid, d, _, due = p[7].split(",")[0].split(" ")[1:6]
        delay[tuple(aid.split("/"))] = float(d[1:-1])
        late.append(t_log(line) - t_iso(due))
    return delay, late


def from_plans(path):
    delay = {}
    for line in open(path, encoding="utf-8"):
        r = json.loads(line)
        for a, d in ((r.get("plan") or {}).get("delays") or {}).items():
            if a in DIST:
                delay[(r["id"], a)] = d
    return delay


def main(argv):
    if argv[1:2] == ["--plans"]:
        delay, late = from_plans(argv[2]), []
    else:
        delay, late = from_log(argv[1])
    samples = own_draws(delay)
    if samples is None:
        return 1
    bad = check(samples)
    if late:
        # Wall-clock lateness: never before the due time (the log line is written after the
        # action, which may take a while on a loaded machine: only shown).
        late.sort()
        n = len(late)
        print("# lateness: min %.3fs median %.3fs p99 %.3fs max %.3fs"
              % (late[0], late[n // 2], late[int(n * 0.99)], late[-1]))
        if late[0] < -0.002:
            print("# an action was performed before it was due")
            bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
