#!/usr/bin/env bash
# tests/ingest/memcap.sh KB PROGRAM [ARG...] — runs PROGRAM with its memory capped at KB
# kilobytes, so that an allocation past the cap ends it (a real crash, for the tests of the
# poison-message rule): an address-space limit (ulimit -v) for a normal build; for an ASan
# build, whose shadow memory needs terabytes of address space, ASan's own cap
# (hard_rss_limit_mb: the process aborts when its RSS passes it).
set -eu
kb=$1; shift
if grep -q __asan_init "$1" 2>/dev/null; then
    export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}hard_rss_limit_mb=$((kb / 1024))"
else
    ulimit -v "$kb"
fi
exec "$@"
