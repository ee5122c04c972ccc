# common.sh — helpers shared by the act-smtp script tests (sourced after tests/lib.sh).
# shellcheck shell=bash
HERE=$ROOT/tests/act-smtp
mkrec() { python3 "$HERE/mkrec.py" "$@"; }

# start_smtpd DIR [ARGS...]: scripted SMTP server on a free port; sets SMTP_PORT.
start_smtpd() {
    local dir=$1; shift
    mkdir -p "$dir"
    SMTP_PORT=$(free_port)
    bg python3 "$HERE/smtpd.py" --port "$SMTP_PORT" --dir "$dir" "$@"
    wait_for test -e "$dir/ready" || fail "test SMTP server started"
    rm -f "$dir/ready"
}

# write_conf FILE PORT [EXTRA-INI-LINES for [Smtp]]
write_conf() {
    local f=$1 port=$2; shift 2
    {
        echo "[Smtp]"
        echo "Relay = 127.0.0.1:$port"
        echo "MX_Override = sender.test=smtp.sparkpostmail.com, other.test=mx.other.test,"
        echo "  tenant.test=acme.e.sparkpost.com, nomx.test="
        echo "Timeout = 5"
        echo "Retry_Max_Seconds = 5"
        printf '%s\n' "$@"
        echo "[Listen]"
        echo "Hostname = sink.example"
        echo "InBand_Replies_File = $REF/inband-replies.dat"
        echo "[RP_MX_domain_allowlist]"
        echo "smtp.sparkpostmail.com = fbl@sparkpostmail.com"
    } > "$f"
}

# check_report arf|dsn EML RECORD [ENVELOPE]: one TAP line per check.py line.
check_report() {
    local line
    while IFS= read -r line; do
        case "$line" in
            PASS\ *) pass "$1: ${line#PASS }" ;;
            *) fail "$1: ${line#FAIL }" ;;
        esac
    done < <(python3 "$HERE/check.py" "$@" 2>&1)
}

# jq-free JSON field access: jget FILE LINE_NO PATH (dotted)
jget() {
    python3 - "$@" <<'PY'
import json, sys
f, n, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rec = json.loads(open(f).read().splitlines()[n - 1])
for k in path.split("."):
    rec = rec.get(k) if isinstance(rec, dict) else None
print("" if rec is None else (rec if isinstance(rec, str) else json.dumps(rec)))
PY
}
