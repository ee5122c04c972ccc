#!/usr/bin/env bash
# bench/e2e-tmpfs.sh — bench/e2e.sh with the spool on tmpfs (/dev/shm) and Fsync = no,
# 20,000 messages in the smtp-source phase: the whole sink without the cost of file
# creation and fsync on the spool's disk (which on a journal-less ext4 is most of listen's
# CPU). Prints `bench: e2e (tmpfs, no fsync): ...` lines.
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BS_E2E_DIR=${BS_E2E_DIR:-/dev/shm} BS_E2E_FSYNC=no BS_E2E_SOURCE_N=${BS_E2E_SOURCE_N:-20000} \
    BS_E2E_TAG="tmpfs, no fsync" exec bash "$ROOT/bench/e2e.sh" "$@"
