#!/usr/bin/env bash
# Builds seed corpora and runs every fuzz target (or the ones named) for
# SECONDS_PER_TARGET seconds each (default 600), two at a time.
#
#   scripts/fuzz.sh                    # all five targets, 10 minutes each
#   SECONDS_PER_TARGET=60 scripts/fuzz.sh smtp_session
#   EXTRA_SEEDS=/path/to/eml/dir scripts/fuzz.sh engine
#
# Needs `cargo install cargo-fuzz --locked`. Runs with `-s none` on stable
# (coverage guidance, no sanitizer). Crashes land in fuzz/artifacts/<target>/;
# copy each into fuzz/regressions/<target>/ once fixed, where
# tests/fuzz_regressions.rs replays it. Logs: fuzz/logs/<target>.log.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET=${SECONDS_PER_TARGET:-600}
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(engine policy_load smtp_session milter_frame html_scan)
C=fuzz/corpus
mkdir -p "$C"/{engine,policy_load,smtp_session,milter_frame,html_scan} fuzz/logs

seed_copy() { # dir target
    [ -d "$1" ] || return 0
    find "$1" -type f \( -name '*.eml' -o -name '*.yaml' -o -name '*.txt' \) -size -256k |
        while read -r f; do cp "$f" "$C/$2/$(cksum <"$f" | cut -d' ' -f1)"; done
}

# engine: real messages.
seed_copy tests/corpus engine
seed_copy tests/golden engine
seed_copy tests/e2e engine
[ -z "${EXTRA_SEEDS:-}" ] || seed_copy "$EXTRA_SEEDS" engine
# policy_load: every policy in the tree.
seed_copy policies policy_load
seed_copy tests/policies policy_load
seed_copy examples policy_load
# smtp_session: a flag byte (TLS, AUTH, AUTH required) and a dialogue.
dialogue='EHLO c.example\r\nMAIL FROM:<a@b.example> SIZE=100 BODY=8BITMIME\r\nRCPT TO:<c@d.example>\r\nDATA\r\nSubject: x\r\n\r\n..dot\r\n.\r\nRSET\r\nHELO x\r\nVRFY x\r\nNOOP\r\nQUIT\r\n'
printf "\x00$dialogue" >"$C/smtp_session/plain"
printf '\x03EHLO c\r\nSTARTTLS\r\nEHLO c\r\nAUTH PLAIN AGFsaWNlAHNlY3JldA==\r\nMAIL FROM:<a@b>\r\n' >"$C/smtp_session/auth-plain"
printf '\x07EHLO c\r\nSTARTTLS\r\nEHLO c\r\nAUTH LOGIN\r\nYWxpY2U=\r\nc2VjcmV0\r\nMAIL FROM:<>\r\nRCPT TO:<x@y>\r\nDATA\r\na\n.\r\nb\r\n.\r\n' >"$C/smtp_session/auth-login"
printf '\x01MAIL FROM:<a@b>\r\nEHLO x\r\nMAIL FROM:<a@b> SMTPUTF8\r\nMAIL FROM:<a@b>\r\nRCPT TO:<b@c>\r\nRCPT TO:<b@c>\r\nRCPT TO:<b@c>\r\nRCPT TO:<b@c>\r\nDATA\r\n.\r\n' >"$C/smtp_session/order"
# milter_frame: a read-size byte, then packets (length, command, data).
pkt() { printf "\\x00\\x00\\x00\\x$(printf %02x "$(printf "$1" | wc -c)")"; printf "$1"; }
{
    printf '\x05'
    pkt 'O\x00\x00\x00\x06\x00\x00\x01\xff\x00\x1f\xff\xff'
    pkt 'DMi\x00Q1\x00'
    pkt 'M<a@b.example>\x00SIZE=10\x00'
    pkt 'R<c@d.example>\x00'
    pkt 'LSubject\x00 hi\x00'
    pkt 'N'
    pkt 'Bline\r\n'
    pkt 'E'
    pkt 'Q'
} >"$C/milter_frame/session"

# html_scan: the decoded HTML parts of the test messages.
python3 - "$C/html_scan" tests/golden tests/corpus <<'PY'
import email, email.policy, hashlib, pathlib, sys
out = pathlib.Path(sys.argv[1])
for root in sys.argv[2:]:
    for path in pathlib.Path(root).rglob("*.eml"):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for part in message.walk():
            if part.get_content_type() == "text/html":
                try:
                    html = part.get_content().encode()
                except (LookupError, ValueError):
                    continue
                (out / hashlib.sha1(html).hexdigest()).write_bytes(html)
PY

# Crashes already found are seeds too: they sit next to interesting code.
for t in "${TARGETS[@]}"; do
    [ -d "fuzz/regressions/$t" ] && cp fuzz/regressions/"$t"/* "$C/$t/" 2>/dev/null || true
done

cd fuzz
cargo +stable fuzz build -s none
run() {
    cargo +stable fuzz run -s none "$1" "corpus/$1" -- -max_total_time="$SECONDS_PER_TARGET" \
        -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 >"logs/$1.log" 2>&1 || true
    grep -E 'stat::number_of_executed_units|stat::peak_rss_mb|Done [0-9]+ runs|==ERROR|panicked|SUMMARY' \
        "logs/$1.log" | sed "s/^/$1: /"
}
for ((i = 0; i < ${#TARGETS[@]}; i += 2)); do
    run "${TARGETS[i]}" &
    [ $((i + 1)) -lt ${#TARGETS[@]} ] && run "${TARGETS[i + 1]}" &
    wait
done
