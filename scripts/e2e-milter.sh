#!/usr/bin/env bash
# End-to-end check of `courtesy milter` inside a real Postfix.
#
# Starts a private Postfix instance (its own config, queue and data
# directories under a temporary directory, listening on loopback only)
# with deploy/postfix/milter/main.cf and master.cf appended unchanged, a
# `courtesy milter` on a free port, and smtp-sink as the relayhost dumping
# what arrives. Then:
#   - an Outlook auto-reply over SMTP (swaks)            -> arrives rewritten
#   - a Sieve vacation reply through Postfix's sendmail  -> arrives rewritten
#   - an ordinary reply over SMTP                        -> arrives unchanged
#   - an auto-reply DKIM-signed by the firm's key (mx)   -> arrives rewritten
#     with exactly one signature, courtesy's, which `courtesy dkim verify`
#     passes against the keygen records (Postfix applied the header edits)
# "Rewritten" means: X-Courtesy is present and the body equals the golden
# expectation's body. Finally SIGTERM must stop the milter cleanly.
#
# Needs root (a private Postfix instance), postfix, swaks, python3.
#   echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
#   apt-get install -y postfix swaks
# Uses target/debug/courtesy unless COURTESY_BIN is set. Stops everything it
# starts; every wait is bounded.
set -euo pipefail

# shellcheck source=scripts/lib/e2e.sh
source "$(dirname "$0")/lib/e2e.sh"
e2e_init e2e-milter postfix postconf smtp-sink swaks python3 timeout
GOLDEN=$ROOT/tests/golden
SNIPPETS=$ROOT/deploy/postfix/milter
SENDMAIL=$(postconf -h sendmail_path 2>/dev/null || echo /usr/sbin/sendmail)
if [ "$(id -u)" != 0 ]; then
    echo "e2e-milter: a private Postfix instance needs root"; exit 2
fi

# Postfix daemons run as the postfix user and read the configuration.
chmod 755 "$WORK"
PF=$WORK/postfix
POSTFIX_STARTED=0
e2e_stop_extra() {
    if [ "$POSTFIX_STARTED" = 1 ]; then
        timeout 30 postfix -c "$PF/etc" stop >/dev/null 2>&1 || timeout 10 postfix -c "$PF/etc" abort >/dev/null 2>&1 || true
    fi
}

SINK_PORT=$(free_port)
SMTPD_PORT=$(free_port)
MILTER_PORT=$(free_port)

# The relayhost: smtp-sink writes one file per message.
mkdir -p "$WORK/sink"
chown nobody "$WORK/sink"
smtp-sink -u nobody -d "$WORK/sink/m." "127.0.0.1:$SINK_PORT" 64 &
PIDS+=($!)
wait_port "$SINK_PORT"

# DKIM keys: mx plays the firm's signing server, courtesy re-signs.
KEYS=$WORK/keys
DOMAIN=hoekstra-advies.nl
for selector in mx courtesy; do
    "$BIN" dkim keygen --domain "$DOMAIN" --selector "$selector" --out-dir "$KEYS" >/dev/null 2>&1
done
printf '%s\r\n' \
    "From: Maarten Hoekstra <maarten@$DOMAIN>" \
    "To: Klaas Klant <klant@customer.example>" \
    "Subject: Afwezig: ondertekend bericht" \
    "Date: Mon, 23 Nov 2026 09:14:00 +0100" \
    "Message-ID: <e2e-milter-dkim@$DOMAIN>" \
    "Auto-Submitted: auto-replied" \
    "MIME-Version: 1.0" \
    "Content-Type: text/plain; charset=utf-8" \
    "" \
    "Ik ben afwezig tot maandag. Uw mail wordt niet doorgestuurd." >"$WORK/dkim.eml"
"$BIN" dkim sign --key "$KEYS/$DOMAIN.mx.key" --domain "$DOMAIN" --selector mx \
    "$WORK/dkim.eml" >"$WORK/dkim-signed.eml"

# The milter, with the same kind of configuration file as the relay.
cat >"$WORK/courtesy.yaml" <<YAML
instance: e2e-milter
policy: $ROOT/policies/example.yaml
audit:
  dir: $WORK/audit
milter:
  listen: inet:127.0.0.1:$MILTER_PORT
dkim:
  domains:
    $DOMAIN:
      selector: courtesy
      key: $KEYS/$DOMAIN.courtesy.key
      on_signed: resign
YAML
"$BIN" milter --config "$WORK/courtesy.yaml" 2>"$WORK/courtesy.log" &
MILTER_PID=$!
PIDS+=($MILTER_PID)
wait_port "$MILTER_PORT"

# The private Postfix instance.
mkdir -p "$PF/etc" "$PF/queue" "$PF/data"
chown postfix "$PF/data"
cat >"$PF/etc/main.cf" <<CF
compatibility_level = 3.6
queue_directory = $PF/queue
data_directory = $PF/data
mail_owner = postfix
setgid_group = postdrop
myhostname = e2e.courtesy.test
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
relayhost = [127.0.0.1]:$SINK_PORT
smtp_tls_security_level = none
smtputf8_enable = no
alias_maps =
alias_database =
local_recipient_maps =
maillog_file_prefixes = $WORK
maillog_file = $WORK/postfix.log
CF
cat "$SNIPPETS/main.cf" >>"$PF/etc/main.cf"
postconf -c "$PF/etc" -e "courtesy_milter = inet:127.0.0.1:$MILTER_PORT"
cat >"$PF/etc/master.cf" <<'CF'
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
CF
sed "s/^127\.0\.0\.1:10587 /127.0.0.1:$SMTPD_PORT /" "$SNIPPETS/master.cf" >>"$PF/etc/master.cf"
grep -q "^127.0.0.1:$SMTPD_PORT " "$PF/etc/master.cf" || { echo "e2e-milter: master.cf snippet has no listener line"; exit 1; }
timeout 60 postfix -c "$PF/etc" start >"$WORK/postfix-start.log" 2>&1 || {
    echo "FAIL: postfix did not start"; cat "$WORK/postfix-start.log"; cat "$WORK/postfix.log" 2>/dev/null; exit 1
}
POSTFIX_STARTED=1
wait_port "$SMTPD_PORT"

sink_count() { find "$WORK/sink" -type f | wc -l; }
wait_arrivals() {
    for _ in $(seq 1 300); do
        [ "$(sink_count)" -ge "$1" ] && return 0
        sleep 0.2
    done
    echo "FAIL: $(sink_count) of $1 messages arrived within 60 s"
    return 1
}

fail=0
timeout 60 swaks --silent 2 --server "127.0.0.1:$SMTPD_PORT" --from maarten@hoekstra-advies.nl \
    --to piet@bakkerij-degroot.nl \
    --data "@$GOLDEN/outlook-oof-nl-windows1252.eml" >"$WORK/swaks1.out" 2>&1 ||
    { echo "FAIL: swaks (auto-reply)"; cat "$WORK/swaks1.out"; fail=1; }
timeout 60 swaks --silent 2 --server "127.0.0.1:$SMTPD_PORT" --from maarten@hoekstra-advies.nl \
    --to piet@voorbeeld.nl --data "@$GOLDEN/passthrough-human-reply.eml" >"$WORK/swaks2.out" 2>&1 ||
    { echo "FAIL: swaks (ordinary reply)"; cat "$WORK/swaks2.out"; fail=1; }
# The way a Sieve vacation reply leaves: the sendmail command, null sender.
timeout 60 "$SENDMAIL" -C "$PF/etc" -f "<>" karin.bos@example.nl <"$GOLDEN/sieve-parttime-nl.eml" ||
    { echo "FAIL: sendmail"; fail=1; }

timeout 60 swaks --silent 2 --server "127.0.0.1:$SMTPD_PORT" --from "maarten@$DOMAIN" \
    --to klant@customer.example --data "@$WORK/dkim-signed.eml" >"$WORK/swaks3.out" 2>&1 ||
    { echo "FAIL: swaks (DKIM-signed auto-reply)"; cat "$WORK/swaks3.out"; fail=1; }

wait_arrivals 4 || fail=1

# The signed auto-reply: smtp-sink's envelope lines off, CRLF back, then
# verified offline; Postfix's own Received header is not signed and stays.
python3 - "$WORK/sink" "$WORK/dkim-delivered.eml" <<'PY' || fail=1
import os, sys
for name in os.listdir(sys.argv[1]):
    raw = open(os.path.join(sys.argv[1], name), "rb").read()
    if b"Subject: Afwezig: ondertekend bericht" not in raw:
        continue
    envelope = (b"X-Client-Addr:", b"X-Client-Proto:", b"X-Helo-Args:", b"X-Mail-Args:", b"X-Rcpt-Args:")
    lines = [l for l in raw.split(b"\n") if not l.startswith(envelope)]
    while lines and lines[-1] == b"":
        lines.pop()
    open(sys.argv[2], "wb").write(b"\r\n".join(lines) + b"\r\n")
    sys.exit(0)
print("FAIL dkim: the signed auto-reply did not arrive")
sys.exit(1)
PY
if [ -f "$WORK/dkim-delivered.eml" ]; then
    if resigned_and_verified "$WORK/dkim-delivered.eml" courtesy e2e-milter; then
        echo "ok   dkim: rewritten through Postfix, $(cat "$WORK/verify.out")"
    else
        echo "FAIL dkim:"; cat "$WORK/verify.out"; cat "$WORK/dkim-delivered.eml"; fail=1
    fi
fi

# Match each arrival to what was sent by its Subject, then check it.
python3 - "$WORK/sink" "$GOLDEN" <<'PY' || fail=1
import email.parser, os, sys
sink, golden = sys.argv[1], sys.argv[2]

def split(raw):
    raw = raw.replace(b"\r\n", b"\n")
    head, _, body = raw.partition(b"\n\n")
    return head, body.rstrip(b"\n")

def subject(raw):
    msg = email.parser.BytesHeaderParser().parsebytes(raw)
    return str(msg.get("Subject", "")).replace("\n", "").replace("\r", "")

def strip_transit(raw):
    # smtp-sink prefixes X-Client-*/X-Helo/X-Mail/X-Rcpt envelope lines; Postfix
    # prepends Received and, for local submission, adds nothing else here.
    lines = raw.replace(b"\r\n", b"\n").split(b"\n")
    out, skipping = [], False
    for line in lines:
        if line.startswith((b"X-Client-Addr:", b"X-Client-Proto:", b"X-Helo-Args:", b"X-Mail-Args:", b"X-Rcpt-Args:")):
            continue
        if line.startswith(b"Received:"):
            skipping = True
            continue
        if skipping and line[:1] in (b" ", b"\t"):
            continue
        skipping = False
        out.append(line)
    return b"\n".join(out)

arrived = {}
for name in os.listdir(sink):
    raw = strip_transit(open(os.path.join(sink, name), "rb").read())
    arrived[subject(raw)] = raw

ok = True
for case, how in [("outlook-oof-nl-windows1252", "rewritten"),
                  ("sieve-parttime-nl", "rewritten"),
                  ("passthrough-human-reply", "unchanged")]:
    sent = open(os.path.join(golden, case + ".eml"), "rb").read()
    got = arrived.get(subject(sent))
    if got is None:
        print(f"FAIL {case}: did not arrive (subjects: {list(arrived)})"); ok = False; continue
    head, body = split(got)
    if how == "rewritten":
        expected = open(os.path.join(golden, case + ".expected.eml"), "rb").read()
        if b"\nX-Courtesy: rewritten by e2e-milter;" not in b"\n" + head:
            print(f"FAIL {case}: no X-Courtesy header"); ok = False
        elif body != split(expected)[1]:
            print(f"FAIL {case}: body differs from {case}.expected.eml"); ok = False
        else:
            print(f"ok   {case}: rewritten, body equals the golden expectation")
    else:
        if b"X-Courtesy" in head:
            print(f"FAIL {case}: carries X-Courtesy"); ok = False
        elif split(got) != split(sent):
            print(f"FAIL {case}: arrived changed"); ok = False
        else:
            print(f"ok   {case}: arrived unchanged")
sys.exit(0 if ok else 1)
PY

if ! grep -q '"kind":"message"' "$WORK"/audit/* 2>/dev/null; then
    echo "FAIL: no audit record written"; fail=1
else
    echo "ok   audit: $(grep -c '"kind":"message"' "$WORK"/audit/* | awk -F: '{s+=$NF} END {print s}') message records"
fi

kill -TERM "$MILTER_PID"
if timeout 30 tail --pid="$MILTER_PID" -f /dev/null && wait "$MILTER_PID"; then
    echo "ok   SIGTERM: courtesy milter exited cleanly"
else
    echo "FAIL: courtesy milter did not exit cleanly on SIGTERM"; fail=1
fi
if [ "$fail" -ne 0 ]; then
    echo "--- courtesy log"; tail -n 40 "$WORK/courtesy.log"
    echo "--- postfix log"; tail -n 40 "$WORK/postfix.log" 2>/dev/null || true
    exit 1
fi
echo "e2e milter: all checks passed"
