#!/usr/bin/env bash
# End-to-end check of `courtesy serve` with real third-party SMTP tools:
# Postfix's smtp-sink plays the upstream (dumping every message to a file),
# smtp-source and swaks play clients. Sends every tests/e2e/*.eml (and
# tests/golden/*.eml when present) through the relay, checks each arrived
# byte-identical or rewritten (X-Courtesy), then a burst from smtp-source.
#
# Needs: postfix (for smtp-sink, smtp-source), swaks, python3.
#   echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
#   apt-get install -y postfix swaks
# Uses target/debug/courtesy unless COURTESY_BIN is set.
set -euo pipefail

BURST=${BURST:-200}
# shellcheck source=scripts/lib/e2e.sh
source "$(dirname "$0")/lib/e2e.sh"
e2e_init e2e-relay smtp-sink smtp-source swaks python3

SINK_PORT=$(free_port)
RELAY_PORT=$(free_port)
ADMIN_PORT=$(free_port)
mkdir -p "$WORK/sink"
chmod 777 "$WORK" "$WORK/sink"
SINK_USER=$( [ "$(id -u)" = 0 ] && echo "-u nobody" || echo "")
# shellcheck disable=SC2086
smtp-sink $SINK_USER -d "$WORK/sink/m." "127.0.0.1:$SINK_PORT" 256 &
PIDS+=($!)
wait_port "$SINK_PORT"

POLICY_LINE=""
[ -f "$ROOT/policies/example.yaml" ] && POLICY_LINE="policy: $ROOT/policies/example.yaml"
cat > "$WORK/courtesy.yaml" <<YAML
instance: e2e
$POLICY_LINE
admin: 127.0.0.1:$ADMIN_PORT
smtp:
  listen: ["127.0.0.1:$RELAY_PORT"]
  upstream:
    url: smtp://127.0.0.1:$SINK_PORT
    starttls: off
YAML
"$BIN" serve --config "$WORK/courtesy.yaml" 2>"$WORK/courtesy.log" &
RELAY_PID=$!
PIDS+=($RELAY_PID)
wait_port "$RELAY_PORT"

fail=0
sent=0
shopt -s nullglob
for eml in "$ROOT"/tests/e2e/*.eml "$ROOT"/tests/golden/*.eml; do
    case "$eml" in *.expected.eml|*.actual.eml) continue ;; esac
    before=$(ls "$WORK/sink" | wc -l)
    if ! swaks --silent 2 --server "127.0.0.1:$RELAY_PORT" --from ann@firm.example \
        --to bob@customer.example --data "@$eml" >"$WORK/swaks.out" 2>&1; then
        echo "FAIL $(basename "$eml"): swaks failed"; cat "$WORK/swaks.out"; fail=1; continue
    fi
    sent=$((sent + 1))
    after=$(ls "$WORK/sink" | wc -l)
    if [ "$after" -ne $((before + 1)) ]; then
        echo "FAIL $(basename "$eml"): nothing arrived"; fail=1; continue
    fi
    dump=$(ls -t "$WORK/sink" | head -1)
    # smtp-sink stores LF line ends, prefixes its own X-* envelope lines and
    # a Received header, and appends a blank line; strip exactly those, then
    # compare with what was sent.
    PYTHONPATH="$ROOT/scripts/lib" python3 - "$eml" "$WORK/sink/$dump" <<'PY' || fail=1
import sys
from sink import message_lines
sent = open(sys.argv[1], "rb").read()
got = b"\n".join(message_lines(sys.argv[2]))
# swaks ends DATA with its own CRLF after the file and smtp-sink adds a
# blank line, so trailing empty lines are not compared here (the Rust
# tests check the relay's byte identity exactly).
norm = lambda b: b.replace(b"\r\n", b"\n").rstrip(b"\n")
name = sys.argv[1].rsplit("/", 1)[-1]
if norm(got) == norm(sent):
    print(f"ok   {name}: byte-identical")
elif b"X-Courtesy:" in got:
    print(f"ok   {name}: rewritten")
else:
    print(f"FAIL {name}: arrived changed without a trace header")
    sys.exit(1)
PY
done
[ "$sent" -gt 0 ] || { echo "FAIL: no messages found in tests/"; fail=1; }

before=$(ls "$WORK/sink" | wc -l)
start=$(date +%s.%N)
smtp-source -s 4 -m "$BURST" -l 4096 -f ann@firm.example -t bob@customer.example "127.0.0.1:$RELAY_PORT"
end=$(date +%s.%N)
after=$(ls "$WORK/sink" | wc -l)
arrived=$((after - before))
rate=$(python3 -c "print(f'{$BURST / ($end - $start):.0f}')")
if [ "$arrived" -eq "$BURST" ]; then
    echo "ok   smtp-source: $arrived/$BURST messages arrived ($rate msg/s, 4 sessions, debug build unless COURTESY_BIN)"
else
    echo "FAIL smtp-source: $arrived/$BURST messages arrived"; fail=1
fi

if python3 -c "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:$ADMIN_PORT/healthz').read().decode().strip())" | grep -q ok; then
    echo "ok   /healthz"
else
    echo "FAIL /healthz"; fail=1
fi
python3 -c "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:$ADMIN_PORT/metrics').read().decode())" \
    | grep -E '^courtesy_(messages|upstream_replies)_total' || true

kill -TERM "$RELAY_PID"
if ! wait "$RELAY_PID"; then echo "FAIL: courtesy did not exit cleanly on SIGTERM"; fail=1; fi
if [ "$fail" -ne 0 ]; then
    echo "--- courtesy log"; tail -n 40 "$WORK/courtesy.log"
    exit 1
fi
echo "e2e relay: all checks passed"
