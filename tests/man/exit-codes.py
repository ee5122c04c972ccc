#!/usr/bin/env python3
"""exit-codes.py TOOL [MANPAGE] — the exit codes a program's sources can exit with, and
those its manual's EXIT STATUS section lists, one line each:
    sources: 0 64 71 ...
    manual:  0 64 71 ...
    header:  0 64 71 ...
Sources: every EX_* name in src/TOOL/*.c (comments removed), plus those of the src/lib and
src/global functions it calls, followed through the calls between them (e.g. xmalloc ->
bs_fatal(EX_OSERR)), plus literal codes that main() returns or exits with; 0 always.
Manual: the numbers 0, 1 and 64-78 in the EXIT STATUS section of man/TOOL.1 (or MANPAGE).
Header: the same numbers in the DIAGNOSTICS section of the comment src/TOOL/main.c opens
with (its manual summary)."""
import glob, os, re, sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
tool = sys.argv[1]
page = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "man", tool + ".1")

sysexits = {}
for line in open("/usr/include/sysexits.h"):
    m = re.match(r"#define\s+(EX_[A-Z_]+)\s+(\d+)", line)
    if m:
        sysexits[m.group(1)] = int(m.group(2))

def strip_comments(text):
    """Comments, strings and character constants out (no EX_ or calls in them), in one
    left-to-right pass so that a quote inside one of them is not taken for another."""
    return re.sub(r'/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'',
                  lambda m: " " if m.group(0)[0] == "/" else m.group(0)[0] * 2, text, flags=re.S)

def ex_codes(text):
    return {sysexits[n] for n in re.findall(r"\b(EX_[A-Z_]+)\b", text) if n in sysexits}

def calls(text):
    return set(re.findall(r"\b([A-Za-z_]\w*)\s*\(", text))

# Functions of the shared floors: name -> (codes in its body, names it calls).
funcs = {}
for path in glob.glob(os.path.join(ROOT, "src/lib/*.c")) + glob.glob(os.path.join(ROOT, "src/global/*.c")):
    text = strip_comments(open(path).read())
    for m in re.finditer(r"^[A-Za-z][^\n;]*?\b([A-Za-z_]\w*)\s*\([^;{]*\)\s*\n\{\n(.*?)^\}", text, re.S | re.M):
        funcs[m.group(1)] = (ex_codes(m.group(2)), calls(m.group(2)))

def closure(names):
    seen, codes, todo = set(), set(), list(names)
    while todo:
        n = todo.pop()
        if n in seen or n not in funcs:
            continue
        seen.add(n)
        codes |= funcs[n][0]
        todo.extend(funcs[n][1])
    return codes

src = {0}
for path in glob.glob(os.path.join(ROOT, "src", tool, "*.c")):
    text = strip_comments(open(path).read())
    src |= ex_codes(text) | closure(calls(text))
    if path.endswith("/main.c"):
        m = re.search(r"^int main\(.*?\n\{\n(.*?)^\}", text, re.S | re.M)
        if m:
            body = m.group(1)
            src |= {int(n) for n in re.findall(r"(?:\breturn|\bexit\(|\bstatus =)\s*(\d+)\b", body)}

def codes_in(section):
    return {int(n) for n in re.findall(r"(?<![\w.\\-])(\d+)(?![\w.])", section)
            if int(n) in (0, 1) or 64 <= int(n) <= 78}

man = set()
m = re.search(r"^\.SH EXIT STATUS\n(.*?)(?=^\.SH |\Z)", open(page).read(), re.S | re.M)
if m:
    man = codes_in(m.group(1))
head = set()
main_c = open(os.path.join(ROOT, "src", tool, "main.c")).read()
m = re.match(r"/\*.*?\*/", main_c, re.S)
m = m and re.search(r"^ \* DIAGNOSTICS\n(.*?)(?=^ \* [A-Z][A-Z ]+\n|\*/)", m.group(0), re.S | re.M)
if m:
    head = codes_in(m.group(1))

print("sources: " + " ".join(str(c) for c in sorted(src)))
print("manual:  " + " ".join(str(c) for c in sorted(man)))
print("header:  " + " ".join(str(c) for c in sorted(head)))
