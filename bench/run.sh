#!/usr/bin/env bash
# bench/run.sh [NAME...] — run the benchmarks (bench/<name>.sh), each against a reference
# measured in the same run on the same machine, and collect their `bench:` lines in
# bench/results.txt. Speed is measured here, never asserted in the test suite.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export ROOT=$root BS_BIN=${BS_BIN:-$root/bin}
cd "$root" || exit 1
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
    for f in bench/*.sh; do
        n=$(basename "$f" .sh)
        [ "$n" = run ] || names+=("$n")
    done
fi
out=bench/results.txt
{ echo "# make bench, $(date -u +%FT%TZ), $(nproc) cores, $(uname -r)"; } > "$out"
status=0
for n in "${names[@]}"; do
    echo "== bench/$n.sh" >&2
    if ! bash "bench/$n.sh" 2>&1 | tee -a "$out.log" | grep '^bench:' | tee -a "$out"; then
        echo "bench/$n.sh failed" | tee -a "$out" >&2
        status=1
    fi
done
echo "results in $out" >&2
exit $status
