#!/usr/bin/env bash
# Lint: every shell file of the project (pipelines, tools, benchmarks, the test
# harness and the tests) is clean, as `make shellcheck` checks it.
. "$(dirname "$0")/../lib.sh"
command -v shellcheck >/dev/null || { fail "shellcheck installed"; done_testing; exit 1; }
out=$(make -s -C "$ROOT" shellcheck 2>&1)
rc=$?
ok $rc "make shellcheck: no warning, no error"
[ $rc = 0 ] || printf '%s\n' "$out" | grep -E '^In |SC[0-9]+' | head -n 20 | sed 's/^/# /'
done_testing
