#!/usr/bin/env bash
# End-to-end check of DKIM re-signing through `courtesy serve`, with
# Postfix's smtp-sink as the upstream and swaks as the client.
#
# Key pairs are made with `courtesy dkim keygen`: one plays the firm's mail
# server (selector mx), which signs the test auto-reply before it reaches
# courtesy (`courtesy dkim sign`); the other is courtesy's own (selector
# courtesy), RSA and then Ed25519. What smtp-sink stores is verified with
# `courtesy dkim verify` against the zone lines keygen wrote; no name server
# is asked. Checks: with on_signed: resign the delivered message is
# rewritten and carries exactly one signature, courtesy's, which passes;
# with on_signed: skip it arrives unchanged and the firm's signature passes.
#
# Needs: postfix (for smtp-sink), swaks, python3.
# Uses target/debug/courtesy unless COURTESY_BIN is set.
set -euo pipefail

# shellcheck source=scripts/lib/e2e.sh
source "$(dirname "$0")/lib/e2e.sh"
e2e_init e2e-dkim smtp-sink swaks python3

DOMAIN=hoekstra-advies.nl
KEYS="$WORK/keys"
"$BIN" dkim keygen --domain "$DOMAIN" --selector mx --out-dir "$KEYS" >/dev/null 2>&1
"$BIN" dkim keygen --domain "$DOMAIN" --selector courtesy-rsa --out-dir "$KEYS" >/dev/null 2>&1
"$BIN" dkim keygen --domain "$DOMAIN" --selector courtesy-ed --algorithm ed25519 \
    --out-dir "$KEYS" >/dev/null 2>&1

printf '%s\r\n' \
    "From: Maarten Hoekstra <maarten@$DOMAIN>" \
    "To: Klaas Klant <klant@customer.example>" \
    "Subject: Afwezig: uw vraag" \
    "Date: Mon, 23 Nov 2026 09:14:00 +0100" \
    "Message-ID: <e2e-dkim@$DOMAIN>" \
    "Auto-Submitted: auto-replied" \
    "MIME-Version: 1.0" \
    "Content-Type: text/plain; charset=utf-8" \
    "" \
    "Ik ben afwezig tot maandag. Uw mail wordt niet doorgestuurd." >"$WORK/auto-reply.eml"
"$BIN" dkim sign --key "$KEYS/$DOMAIN.mx.key" --domain "$DOMAIN" --selector mx \
    "$WORK/auto-reply.eml" >"$WORK/signed.eml"
if ! "$BIN" dkim verify --records "$KEYS/$DOMAIN.mx.txt" "$WORK/signed.eml" >"$WORK/verify.out"; then
    echo "FAIL the test message does not verify before courtesy"; cat "$WORK/verify.out"; exit 1
fi

SINK_PORT=$(free_port)
mkdir -p "$WORK/sink"
chmod 755 "$WORK" "$KEYS"
chmod 777 "$WORK/sink"
SINK_USER=$( [ "$(id -u)" = 0 ] && echo "-u nobody" || echo "")
# shellcheck disable=SC2086
smtp-sink $SINK_USER -d "$WORK/sink/m." "127.0.0.1:$SINK_PORT" 64 &
PIDS+=($!)
wait_port "$SINK_PORT"

fail=0
# Sends signed.eml through a relay with the given selector and on_signed;
# leaves the delivered message, with smtp-sink's own lines removed, in
# $WORK/delivered.eml.
run_case() {
    local selector=$1 on_signed=$2 port
    port=$(free_port)
    cat >"$WORK/courtesy.yaml" <<YAML
instance: e2e-dkim
policy: $ROOT/policies/example.yaml
smtp:
  listen: ["127.0.0.1:$port"]
  upstream:
    url: smtp://127.0.0.1:$SINK_PORT
    starttls: off
dkim:
  domains:
    $DOMAIN:
      selector: $selector
      key: $KEYS/$DOMAIN.$selector.key
      on_signed: $on_signed
YAML
    "$BIN" serve --config "$WORK/courtesy.yaml" 2>"$WORK/courtesy.log" &
    local pid=$!
    PIDS+=($pid)
    wait_port "$port"
    local before after
    before=$(ls "$WORK/sink" | wc -l)
    swaks --silent 2 --server "127.0.0.1:$port" --from "maarten@$DOMAIN" --to klant@customer.example \
        --data "@$WORK/signed.eml" >"$WORK/swaks.out" 2>&1 || { cat "$WORK/swaks.out"; return 1; }
    after=$(ls "$WORK/sink" | wc -l)
    [ "$after" -eq $((before + 1)) ] || { echo "nothing arrived"; return 1; }
    kill -TERM "$pid"
    wait "$pid" || { echo "courtesy did not exit cleanly"; return 1; }
    # smtp-sink stores LF line ends, prefixes X-* envelope lines and a
    # Received header and appends a blank line: back to the bytes on the wire.
    PYTHONPATH="$ROOT/scripts/lib" python3 - "$WORK/sink/$(ls -t "$WORK/sink" | head -1)" "$WORK/delivered.eml" <<'PY'
import sys
from sink import message_lines
lines = message_lines(sys.argv[1])
while lines and lines[-1] == b"":
    lines.pop()
open(sys.argv[2], "wb").write(b"\r\n".join(lines) + b"\r\n")
PY
}

for selector in courtesy-rsa courtesy-ed; do
    if ! run_case "$selector" resign; then
        echo "FAIL resign ($selector): relay run failed"; fail=1; continue
    fi
    if resigned_and_verified "$WORK/delivered.eml" "$selector" e2e-dkim; then
        echo "ok   resign ($selector): rewritten, one signature, $(cat "$WORK/verify.out")"
    else
        echo "FAIL resign ($selector):"; cat "$WORK/verify.out"; cat "$WORK/delivered.eml"; fail=1
    fi
done

if ! run_case courtesy-rsa skip; then
    echo "FAIL skip: relay run failed"; fail=1
elif "$BIN" dkim verify --records "$KEYS/$DOMAIN.mx.txt" "$WORK/delivered.eml" >"$WORK/verify.out" \
    && cmp -s "$WORK/delivered.eml" "$WORK/signed.eml"; then
    echo "ok   skip: arrived unchanged, $(cat "$WORK/verify.out")"
else
    echo "FAIL skip:"; cat "$WORK/verify.out"; diff "$WORK/signed.eml" "$WORK/delivered.eml" || true; fail=1
fi

if [ "$fail" -ne 0 ]; then
    echo "--- courtesy log"; tail -n 40 "$WORK/courtesy.log"
    exit 1
fi
echo "e2e dkim: all checks passed"
