#!/usr/bin/env python3
"""consistency.py — one truth for options and settings (issue 22), as TAP lines.

    consistency.py BINDIR

The table of settings (`bs-config --list`, i.e. src/global/params.c) is the truth; this
script compares with it everything else that names a setting or an option:

  programs   every program (src/*/main.c) answers --help (exit 0, usage on stdout) and
             --version (exit 0, "PROG (Bouncy Sink) VERSION"); every option its --help
             names is described in its manual page.
  man pages  in a CONFIGURATION section (or an .SS [Section] of any page), every key a
             .TP tag names is in the table under the section it is listed in, and the
             default the page gives — in the tag (`.BR Key " (X)"`) or as "(default X)" in
             the paragraph — is the table's.
  mentions   every `[Section] Key` written in README.md, docs/*.md, man/*, the shipped
             configurations and the --help texts is in the table; in README.md and
             docs/*.md a "`Key` (X)" default is the table's.
  configs    etc/bouncy-sink.ini and etc/bouncy-sink.production.ini pass
             `bs-config --check` without a warning; the production file's paths are
             absolute and it has none of the demo's settings.
  citations  the manual pages and README.md cite only files the repository holds (a
             path under src/, tests/, data/, etc/, docs/, ... exists) and no SPEC
             section (no such document is in the repository).

A new setting passes when it is in params.c and bouncy-sink.ini(5) (tests/bs-config/04)
and every page that describes it gives the table's default.
"""
import glob
import os
import re
import subprocess
import sys

BIN = sys.argv[1]
n = 0
failed = 0


def tap(good, desc, diag=()):
    global n, failed
    n += 1
    if not good:
        failed += 1
    print(("ok" if good else "not ok") + " %d - %s" % (n, desc))
    for d in diag:
        print("# " + d)


def run(args, stdin=""):
    p = subprocess.run(args, input=stdin, capture_output=True, text=True, errors="replace")
    return p.returncode, p.stdout, p.stderr


# --- the table -----------------------------------------------------------------------
rc, out, _ = run([os.path.join(BIN, "bs-config"), "--list"])
table = {}  # (section lower, key lower) -> (section, key, default)
by_key = {}  # key lower -> [(section, key, default)]
for line in out.splitlines():
    sec, key, default, _doc = line.split("\t", 3)
    table[(sec.lower(), key.lower())] = (sec, key, default)
    by_key.setdefault(key.lower(), []).append((sec, key, default))
sections = {s.lower() for s, _ in table}
free_sections = {"rp_mx_domain_allowlist"}  # keys are MX host names
sections |= free_sections
tap(rc == 0 and len(table) > 50, "bs-config --list gives the table (%d settings)" % len(table))


def norm(v):
    v = v.replace("\\-", "-").replace("\\(em", "").replace('"', "").strip().rstrip(".")
    return re.sub(r"\s+", "", v).lower()


def same_default(got, want):
    """got: what a page says; want: the table's default ('' when none or computed)."""
    g = norm(got)
    if want == "":
        return g.startswith("none") or g.startswith("unset") or g.startswith("notset")
    w = norm(want)
    if g == w:
        return True
    try:
        return float(g) == float(w)
    except ValueError:
        pass
    # "300 each", "1000, at least 100": the first word is the value.
    first = norm(re.split(r"[\s,;:]", got.strip())[0])
    return first == w


# --- programs: --help, --version, options in the manual -------------------------------
tools = sorted(os.path.basename(os.path.dirname(p)) for p in glob.glob("src/*/main.c"))
help_texts = {}
for t in tools:
    exe = os.path.join(BIN, t)
    rc, out, err = run([exe, "--help"])
    help_texts[t] = out
    tap(rc == 0 and "usage:" in out, "%s --help: usage on stdout, exit 0" % t, [err.strip()[:200]] if rc else [])
    tap("--version" in out, "%s --help describes --version" % t)
    rc, out, err = run([exe, "--version"])
    tap(rc == 0 and re.match(r"^%s \(Bouncy Sink\) [0-9]" % re.escape(t), out) is not None,
        "%s --version: '%s'" % (t, out.strip()))
    page = open("man/%s.1" % t, encoding="utf-8").read().replace("\\-", "-")
    page = re.sub(r"\\f[BIRP]", "", page)
    opts = sorted(set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*|-[a-zA-Z])(?![\w-])", help_texts[t])))
    missing = [o for o in opts if not re.search(r"(?<![\w-])%s(?![\w-])" % re.escape(o), page)]
    tap(not missing, "%s(1) describes every option of --help (%d)" % (t, len(opts)),
        ["not in man/%s.1: %s" % (t, " ".join(missing))] if missing else [])

# --- man pages: keys and defaults where settings are described -------------------------
for path in sorted(glob.glob("man/*.[157]")):
    if path.endswith("bouncy-sink.ini.5"):
        continue  # tests/bs-config/04-table.t holds it equal to the table
    lines = open(path, encoding="utf-8").read().splitlines()
    in_conf = False
    section = None
    unknown, wrong = [], []
    i = 0
    while i < len(lines):
        ln = lines[i]
        if ln.startswith(".SH"):
            in_conf = "CONFIGURATION" in ln
            section = None
        m = re.match(r"^\.SS\s+\[([A-Za-z_]+)\]", ln)
        if m:
            section = m.group(1).lower()
        if section and section not in free_sections and ln.startswith(".TP") and i + 1 < len(lines):
            tag = lines[i + 1]
            body = []
            j = i + 2
            while j < len(lines) and not re.match(r"^\.(TP|SS|SH)", lines[j]):
                body.append(lines[j])
                j += 1
            if re.match(r"^\.(B|BR|BI|IR|I)\s", tag):
                words = re.findall(r"(?<![\w\\-])([A-Z][A-Za-z0-9]*_[A-Za-z0-9_]*|[A-Z][a-z]+[A-Z]?[A-Za-z]*)(?![\w])", tag)
                keys = [w for w in words if (section, w.lower()) in table]
                cand = [w for w in re.findall(r'(?:^\.(?:B|BR)\s+|"\s*)([A-Z][A-Za-z0-9_]+)(?=\s|"|$)', tag)]
                for w in cand:
                    if (section, w.lower()) not in table and "_" in w:
                        unknown.append("%s:%d: [%s] %s" % (path, i + 2, section, w))
                for key, val in re.findall(r'([A-Z][A-Za-z0-9_]+)\s+"\s*\(([^)]*)\)', tag):
                    k = (section, key.lower())
                    if k in table and not same_default(val, table[k][2]):
                        wrong.append("%s:%d: [%s] %s: page says (%s), table says (%s)"
                                     % (path, i + 2, section, key, val, table[k][2] or "none"))
                if len(keys) >= 1:
                    for m2 in re.finditer(r"\(default:?\s+([^);]+)[);]", " ".join(body)):
                        val = m2.group(1)
                        for key in keys:
                            k = (section, key.lower())
                            want = table[k][2]
                            if want == "" or val.strip().startswith(("the ", "a ", "an ", "in ", "standard", "random", "number", "gethostname", "none", "unset")):
                                continue
                            if not same_default(val, want):
                                wrong.append("%s:%d: [%s] %s: page says (default %s), table says (%s)"
                                             % (path, i + 2, section, key, val, want))
        i += 1
    tap(not unknown, "%s: every key it describes is in the table" % path, unknown)
    tap(not wrong, "%s: the defaults it gives are the table's" % path, wrong)

# --- `[Section] Key` mentions everywhere ------------------------------------------------
mention = re.compile(r"\[([A-Za-z_]+)\][\s\"`*]*(?:\\f[BI])?([A-Z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)+|[A-Z][a-z]+(?:[A-Z][a-z]+)*)\b")
files = ["README.md"] + sorted(glob.glob("docs/*.md")) + sorted(glob.glob("man/*.[157]")) + \
    ["etc/bouncy-sink.ini", "etc/bouncy-sink.production.ini"]
texts = {f: open(f, encoding="utf-8").read() for f in files if os.path.exists(f)}
for t, h in help_texts.items():
    texts["%s --help" % t] = h
for name, text in texts.items():
    bad = []
    for m in mention.finditer(text.replace("\\-", "-")):
        sec, key = m.group(1).lower(), m.group(2)
        if sec not in sections or sec in free_sections:
            continue
        line_text = text[text.rfind("\n", 0, m.start()) + 1: text.find("\n", m.end())]
        if key == "Key" or "unknown key" in line_text:
            continue  # a placeholder, or the example of a typo bs-config --check reports
        if (sec, key.lower()) not in table:
            line = text[: m.start()].count("\n") + 1
            bad.append("%s:%d: [%s] %s is not in the table" % (name, line, m.group(1), key))
    tap(not bad, "%s: every [Section] Key it names is a setting" % name, bad)

for name in ["README.md"] + sorted(glob.glob("docs/*.md")):
    if not os.path.exists(name):
        continue
    text = open(name, encoding="utf-8").read()
    bad = []
    for m in re.finditer(r"`(?:\[([A-Za-z_]+)\] )?([A-Z][A-Za-z0-9_]+)` \(([0-9][0-9.]*[KMG]?|yes|no|on|off)\)", text):
        sec, key, val = m.group(1), m.group(2), m.group(3)
        rows = [table[(sec.lower(), key.lower())]] if sec and (sec.lower(), key.lower()) in table \
            else by_key.get(key.lower(), [])
        if len(rows) != 1:
            continue
        if not same_default(val, rows[0][2]):
            line = text[: m.start()].count("\n") + 1
            bad.append("%s:%d: %s (%s), table says (%s)" % (name, line, key, val, rows[0][2] or "none"))
    tap(not bad, "%s: the defaults it gives are the table's" % name, bad)

# --- the shipped configurations --------------------------------------------------------
for conf in ["etc/bouncy-sink.ini", "etc/bouncy-sink.production.ini"]:
    rc, out, err = run([os.path.join(BIN, "bs-config"), "-c", conf, "--check"])
    tap(rc == 0 and err == "", "bs-config --check passes on %s without a warning" % conf, err.splitlines())
prod = {}
sec = None
for ln in open("etc/bouncy-sink.production.ini", encoding="utf-8"):
    ln = ln.strip()
    m = re.match(r"^\[([^\]]+)\]", ln)
    if m:
        sec = m.group(1)
        continue
    if ln and not ln.startswith(("#", ";")) and "=" in ln:
        k, v = (x.strip() for x in ln.split("=", 1))
        prod[(sec.lower(), k.lower())] = v
paths = ["Logfile", "Done_Msg_File_Dest", "Spool", "Records", "TLS_Certificate", "TLS_Key",
         "InBand_Replies_File", "User_Agents_File", "Clock_Offset_File", "Quarantine_Dir",
         "DKIM_Key_File", "CA_File", "State_File"]
rel = ["[%s] %s = %s" % (s, k, v) for (s, k), v in prod.items() if k in [p.lower() for p in paths] and not v.startswith("/")]
tap(not rel, "production configuration: every path is absolute", rel)
demo = [("verify", "dkim_key_file"), ("smtp", "relay"), ("smtp", "mx_override"), ("http", "allowed_networks")]
found = ["[%s] %s" % k for k in demo if k in prod]
if prod.get(("http", "allow_private_addresses"), "no").lower() in ("yes", "on", "true", "1"):
    found.append("[Http] Allow_Private_Addresses = yes")
tap(not found, "production configuration: no demo key file, relay, private-address or loopback-network setting", found)
logfile = prod.get(("sink", "logfile"), "")
tap(logfile.startswith("/var/log/bouncy-sink/"), "production configuration: the log under /var/log/bouncy-sink/ (%s)" % logfile)

# --- citations --------------------------------------------------------------------------
cite = re.compile(r"(?<![\w./-])((?:src|tests|data|etc|docs|pipelines|tools|bench|fuzz|man)/[A-Za-z0-9_./-]*[A-Za-z0-9_/])")
for name in sorted(glob.glob("man/*.[157]")) + ["README.md"] + sorted(glob.glob("docs/*.md")):
    text = open(name, encoding="utf-8").read().replace("\\-", "-").replace("\\&", "")
    text = re.sub(r"\\f[BIRP]", "", text)
    bad = []
    for m in cite.finditer(text):
        p = m.group(1).rstrip("/.")
        if any(c in p for c in "*<>{}$") or re.search(r"/(NN|N)[-_]", p) or "<" in text[m.end():m.end() + 1]:
            continue
        # Runtime paths of the sink, not repository files.
        if p.startswith(("run/", "etc/bouncy-sink/", "data/reference/consume-mail.ini")) and not os.path.exists(p):
            if not p.startswith("data/"):
                continue
        if p.endswith(("/DIR", "/PATH", "/FILE", "/TOOL", "/AREA", "/NAME")) or "/<" in p:
            continue
        if not os.path.exists(p) and not glob.glob(p + "*") and \
                subprocess.run(["git", "check-ignore", "-q", p]).returncode != 0:
            bad.append("%s:%d: %s" % (name, text[: m.start()].count("\n") + 1, p))
    spec = [("%s:%d: %s" % (name, text[: m.start()].count("\n") + 1, m.group(0))) for m in re.finditer(r"\bSPEC\s+[A-Z][0-9]", text)]
    tap(not bad and not spec, "%s cites only what the repository holds" % name, bad + spec)

print("1..%d" % n)
sys.exit(1 if failed else 0)
