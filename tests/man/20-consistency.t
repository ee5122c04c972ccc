#!/usr/bin/env bash
# Issue 22: one truth for options and settings. tests/man/consistency.py compares the table
# of settings (src/global/params.c, through `bs-config --list`) with every program's
# --help and --version, the manual pages, README.md, docs/ and both shipped configurations,
# and checks that the pages cite only what the repository holds (its docstring lists every
# rule). A new setting passes when it is in the table and in bouncy-sink.ini(5)
# (tests/bs-config/04-table.t) and every page that describes it gives the table's default.
. "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
python3 tests/man/consistency.py "$BS_BIN"
