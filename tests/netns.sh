# tests/netns.sh — sourced first by a test that runs in a private network and mount namespace
# (loopback only, port 25 free, its own resolv.conf): re-executes the test under
# `unshare -n -m`, or fails it (one `not ok`) where no namespace can be made (needs root or
# user namespaces). Source it before tests/lib.sh, whose scratch directory belongs to the
# re-executed test.
# shellcheck shell=bash
if [ -z "${BS_IN_NETNS:-}" ]; then
    if ! unshare -n -m true 2>/dev/null; then
        echo "not ok 1 - cannot make a network namespace (unshare -n -m): this test needs it"
        echo "1..1"
        exit 1
    fi
    BS_IN_NETNS=1 exec unshare -n -m -- bash "$0" "$@"
fi
