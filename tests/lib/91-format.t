#!/usr/bin/env bash
# Style: every C file of the project (src/, tests/unit/, fuzz/) is formatted as .clang-format
# says, as `make format-check` checks it (`make format` rewrites them).
. "$(dirname "$0")/../lib.sh"
command -v clang-format >/dev/null || { fail "clang-format installed"; done_testing; exit 1; }
out=$(make -s -C "$ROOT" format-check 2>&1)
rc=$?
ok $rc "make format-check: every C file as .clang-format says"
[ $rc = 0 ] || printf '%s\n' "$out" | grep -E 'warning|error' | head -n 20 | sed 's/^/# /'
# The check can fail: a file with a wrongly indented line is reported.
printf 'int f(void)\n{\n        return 0;\n}\n' > "$T/bad.c"
cp "$ROOT/.clang-format" "$T/"
clang-format --dry-run --Werror "$T/bad.c" > /dev/null 2>&1
[ $? != 0 ]; ok $? "clang-format --Werror reports a badly formatted file"
done_testing
