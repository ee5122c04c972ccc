#!/usr/bin/env python3
"""stats-check.py — decide's statistical test: generates 100,000 records per population,
runs decide, and checks every observed proportion against the value the SPEC A4 formulas
give, within a 4-sigma binomial bound (exact when the probability is 0 or 1).

Prints one line per check: "ok DESC" or "not ok DESC". The expected values are computed
here from the configuration numbers, independently of decide's code:
  share = 1 - Upstream_Handled/100; X = X_percent/100/share
  factor = clip01(Weekly_Cycle_Open_Rate[today] / density) (density 1 without Signals)
  Open, OpenAgain, Click, ClickAgain *= factor, clipped; OOB, FBL not scaled
  mixed stream, draws in order: P(oob) = OOB; P(fbl) = (1-OOB)*FBL;
  P(open) = (1-OOB)*(1-FBL)*Open*[day gate]; inside open: OpenAgain|Open, Click|Open,
  ClickAgain|Click (nested in click); P(unsubscribe) = (1-OOB)*(1-FBL)*Unsubscribe_percent/100;
  P(ooto) = (1-OOB)*(1-FBL)*OOTO_percent/100, independent of the open branch.
"""
import json
import math
import os
import subprocess
import sys

ROOT = os.environ["ROOT"]
BIN = os.environ["BS_BIN"]
TMP = os.environ["T"]
N = 100000


def clip(x):
    return max(0.0, min(1.0, x))


def model(pcts, upstream, w, density):
    share = 1 - upstream / 100
    p = {k: v / 100 / share for k, v in pcts.items()}
    factor = clip(w / density)
    for k in ("open", "open_again", "click", "click_again"):
        p[k] = clip(p[k] * factor)
    p["oa_o"] = p["open_again"] / p["open"]
    p["c_o"] = p["click"] / p["open"]
    p["ca_c"] = p["click_again"] / p["click"]
    return p, factor


def check(desc, k, n, p):
    if p in (0.0, 1.0) or n == 0:
        good = k == round(n * p)
        bound = 0
    else:
        bound = 4 * math.sqrt(n * p * (1 - p))
        good = abs(k - n * p) <= bound
    print("%s %s: %d/%d, expected p=%.6g (n*p=%.1f, 4 sigma=%.1f)"
          % ("ok" if good else "not ok", desc, k, n, p, n * p, bound))


def run(cfg, now, rcpt, prefix):
    """Plans of N records; each population has its own ids, hence independent draws."""
    inp = os.path.join(TMP, "in.ndjson")
    with open(inp, "w") as f:
        subprocess.run([sys.executable, os.path.join(ROOT, "tests/decide/gen-records.py"),
                        str(N), rcpt, "--unsub", "--id-prefix", prefix], stdout=f, check=True)
    with open(inp) as f:
        out = subprocess.run([os.path.join(BIN, "decide"), "-c", cfg, "--seed", "20261124",
                              "--now", now], stdin=f, capture_output=True, check=True,
                             env=dict(os.environ, TZ="UTC"), cwd=ROOT).stdout
    plans = []
    for line in out.decode().splitlines():
        r = json.loads(line)
        if r["kind"] == "message":
            plans.append((r["envelope"]["rcpt"], r["plan"]))
    return plans


def mixed(desc, plans, p, gate_frac=1.0):
    n = len(plans)
    acts = [set(pl["actions"]) for _, pl in plans]
    exclusive = all(not (a & {"oob", "fbl"}) or len(a) == 1 for a in acts)
    print("%s %s: oob and fbl come alone" % ("ok" if exclusive else "not ok", desc))
    rest = (1 - p["oob"]) * (1 - p["fbl"])
    popen = rest * p["open"] * gate_frac
    c = lambda name: sum(1 for a in acts if name in a)
    check(desc + ": OOB", c("oob"), n, p["oob"])
    check(desc + ": FBL", c("fbl"), n, (1 - p["oob"]) * p["fbl"])
    check(desc + ": Open", c("open"), n, popen)
    check(desc + ": OpenAgain", c("open_again"), n, popen * p["oa_o"])
    check(desc + ": Click", c("click"), n, popen * p["c_o"])
    check(desc + ": ClickAgain", c("click_again"), n, popen * p["c_o"] * p["ca_c"])
    check(desc + ": accept (no oob, fbl or open)",
          sum(1 for a in acts if not a & {"oob", "fbl", "open"}), n, rest - popen)
    check(desc + ": unsubscribe", c("unsubscribe"), n, rest * p["unsub"])
    check(desc + ": ooto", c("ooto"), n, rest * p.get("ooto", 0.0))
    no_oob_ooto = all(not ("ooto" in a and a & {"oob", "fbl"}) for a in acts)
    print("%s %s: no ooto with oob or fbl" % ("ok" if no_oob_ooto else "not ok", desc))
    opened = [a for a in acts if "open" in a]
    clicked = [a for a in acts if "click" in a]
    check(desc + ": OpenAgain among opened", sum(1 for a in opened if "open_again" in a),
          len(opened), p["oa_o"])
    check(desc + ": Click among opened", sum(1 for a in opened if "click" in a), len(opened),
          p["c_o"])
    if p.get("ooto"):
        check(desc + ": ooto among opened (independent)", sum(1 for a in opened if "ooto" in a),
              len(opened), p["ooto"])
        check(desc + ": ooto among accepted (independent)",
              sum(1 for a in acts if "ooto" in a and not a & {"open"}),
              sum(1 for a in acts if not a & {"oob", "fbl", "open"}), p["ooto"])
    check(desc + ": ClickAgain among clicked", sum(1 for a in clicked if "click_again" in a),
          len(clicked), p["ca_c"])
    nested = all("open" in a for a in acts if a & {"open_again", "click"}) and \
        all("click" in a for a in acts if "click_again" in a)
    print("%s %s: open_again/click only with open, click_again only with click"
          % ("ok" if nested else "not ok", desc))


PCTS = {"oob": 2, "fbl": 1, "open": 30, "open_again": 10, "click": 12, "click_again": 4}
cfg = os.path.join(ROOT, "tests/decide/stats.ini")
sig = os.path.join(ROOT, "tests/decide/stats-signals.ini")
MON, TUE = "2026-11-23T12:00:00Z", "2026-11-24T12:00:00Z"

p, f = model(PCTS, 50, 1.0, 1.0)
p["unsub"] = 0.2
p["ooto"] = 0.25
mixed("mixed Monday (factor %g)" % f, run(cfg, MON, "u{i}@bouncy-sink.test", "mon"), p)

p, f = model(PCTS, 50, 0.5, 1.0)
p["unsub"] = 0.2
p["ooto"] = 0.25
mixed("mixed Tuesday (factor %g)" % f, run(cfg, TUE, "u{i}@bouncy-sink.test", "tue"), p)

# Signals population on Tuesday: factor = clip01(0.5 / 0.8); digits 8 and 9 never open.
p, f = model(PCTS, 50, 0.5, 0.8)
p["unsub"] = 0.2
plans = run(sig, TUE, "test+u{i}@bouncy-sink.test", "sig")
allowed = [x for x in plans if x[0][x[0].index("@") - 1] not in "89"]
never = [x for x in plans if x[0][x[0].index("@") - 1] in "89"]
flags = all(pl.get("signals", {}).get("allowed") == (r[r.index("@") - 1] not in "89")
            for r, pl in plans)
print("%s signals Tuesday: every record has signals.digit/allowed per Digit<d>_days"
      % ("ok" if flags else "not ok"))
mixed("signals Tuesday, whole population (factor %g)" % f, plans, p, gate_frac=0.8)
mixed("signals Tuesday, digits 0-7", allowed, p)
check("signals Tuesday, digits 8-9: Open", sum(1 for _, pl in never if "open" in pl["actions"]),
      len(never), 0.0)
mixed("non-signals traffic under the Signals config, Tuesday (factor %g)" % f,
      run(sig, TUE, "u{i}@bouncy-sink.test", "nonsig"), p)

# openclick: the open branch always (Monday, factor 1).
p, f = model(PCTS, 50, 1.0, 1.0)
plans = run(cfg, MON, "u{i}@openclick.bouncy-sink.test", "oc")
acts = [set(pl["actions"]) for _, pl in plans]
n = len(acts)
check("openclick: Open", sum(1 for a in acts if "open" in a), n, 1.0)
check("openclick: OpenAgain", sum(1 for a in acts if "open_again" in a), n, p["oa_o"])
check("openclick: Click", sum(1 for a in acts if "click" in a), n, p["c_o"])
check("openclick: ClickAgain", sum(1 for a in acts if "click_again" in a), n,
      p["c_o"] * p["ca_c"])
check("openclick: OOB", sum(1 for a in acts if "oob" in a), n, 0.0)
check("openclick: FBL", sum(1 for a in acts if "fbl" in a), n, 0.0)
check("openclick: accept", sum(1 for a in acts if not a), n, 0.0)
for stream, action in (("accept", None), ("oob", "oob"), ("fbl", "fbl"), ("unsub", "unsubscribe"),
                       ("ooto", "ooto")):
    plans = run(cfg, MON, "u{i}@%s.bouncy-sink.test" % stream, stream)
    want = [action] if action else []
    k = sum(1 for _, pl in plans if pl["actions"] == want and pl["stream"] == stream)
    check("%s stream: every plan is %s" % (stream, want), k, len(plans), 1.0)
