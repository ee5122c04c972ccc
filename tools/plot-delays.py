#!/usr/bin/env python3
"""plot-delays.py — docs/schedule-delays.html: the delays decide draws with the default
[Timing] distributions (schedule(1)), as cumulative curves over a log time axis, one per
action type, from decide's own output. Screenshot it for the README with
  chromium --headless --no-sandbox --disable-gpu --window-size=760,420 \
      --screenshot=docs/schedule-delays.png docs/schedule-delays.html

  bin/decide -c FILE --seed 1 < records | tools/plot-delays.py > docs/schedule-delays.html
"""
import json
import math
import sys

delays = {}
for line in sys.stdin:
    r = json.loads(line)
    for a, d in (r.get("plan") or {}).get("delays", {}).items():
        delays.setdefault(a, []).append(d)
W, H, L, R, T, B = 760, 420, 60, 150, 30, 50
lo, hi = math.log10(10), math.log10(30 * 86400)
x = lambda s: L + (math.log10(max(s, 10)) - lo) / (hi - lo) * (W - L - R)
y = lambda f: T + (1 - f) * (H - T - B)
colors = {"open": "#1f77b4", "open_again": "#aec7e8", "click": "#ff7f0e", "click_again": "#ffbb78",
          "unsubscribe": "#9467bd", "oob": "#d62728", "fbl": "#2ca02c", "ooto": "#8c564b"}
out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">' % (W, H),
       '<rect width="100%" height="100%" fill="white"/>',
       '<text x="%d" y="18" font-size="14">Delays drawn by decide with the default [Timing] (cumulative share of actions)</text>' % L]
for s, label in [(60, "1 min"), (600, "10 min"), (3600, "1 h"), (6 * 3600, "6 h"), (86400, "1 d"), (7 * 86400, "1 w"), (30 * 86400, "30 d")]:
    out.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ddd"/>' % (x(s), T, x(s), H - B))
    out.append('<text x="%.1f" y="%d" text-anchor="middle">%s</text>' % (x(s), H - B + 16, label))
for f in (0, 0.25, 0.5, 0.75, 1):
    out.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/>' % (L, y(f), W - R, y(f)))
    out.append('<text x="%d" y="%.1f" text-anchor="end">%d%%</text>' % (L - 6, y(f) + 4, f * 100))
out.append('<text x="%d" y="%d" text-anchor="middle">time after delivery (log scale)</text>' % ((L + W - R) // 2, H - 12))
i = 0
for a in colors:
    v = sorted(delays.get(a, []))
    if not v:
        continue
    n = len(v)
    step = max(1, n // 400)
    pts = " ".join("%.1f,%.1f" % (x(v[k]), y((k + 1) / n)) for k in range(0, n, step))
    out.append('<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>' % (colors[a], pts))
    out.append('<rect x="%d" y="%d" width="14" height="3" fill="%s"/>' % (W - R + 12, T + 10 + i * 20, colors[a]))
    out.append('<text x="%d" y="%d">%s (%d)</text>' % (W - R + 30, T + 15 + i * 20, a, n))
    i += 1
out.append("</svg>")
print("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><style>body{margin:0;overflow:hidden}</style></head><body>%s</body></html>" % "".join(out))
