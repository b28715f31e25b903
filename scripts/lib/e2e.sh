# Shared by the end-to-end scripts (sourced, not run): the binary under
# test, a scratch directory, processes stopped on exit, and free ports.
#
#   e2e_init NAME TOOL...   checks the tools, sets ROOT, BIN and WORK, and
#                           stops everything in PIDS (and whatever the
#                           script's own e2e_stop_extra does) on exit
#   free_port               prints a free loopback port
#   wait_port PORT          waits up to 10 s for a listener on PORT

e2e_init() {
    E2E_NAME=$1
    shift
    ROOT=$(cd "$(dirname "${BASH_SOURCE[1]}")/.." && pwd)
    BIN=${COURTESY_BIN:-$ROOT/target/debug/courtesy}
    for tool in "$@"; do
        command -v "$tool" >/dev/null || { echo "$E2E_NAME: $tool not found (see the header of ${BASH_SOURCE[1]})"; exit 2; }
    done
    [ -x "$BIN" ] || (cd "$ROOT" && cargo build --quiet)
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/courtesy-$E2E_NAME.XXXXXX")
    PIDS=()
    trap e2e_cleanup EXIT INT TERM
}

e2e_cleanup() {
    if declare -F e2e_stop_extra >/dev/null; then e2e_stop_extra; fi
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_port() {
    for _ in $(seq 1 100); do
        if python3 -c "import socket; socket.create_connection(('127.0.0.1', $1), 0.2)" 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    echo "$E2E_NAME: nothing listens on port $1"; exit 1
}

# Whether FILE, delivered after a rewrite by instance INSTANCE, carries
# exactly one DKIM signature and it passes for DOMAIN with SELECTOR, checked
# by `courtesy dkim verify` against the key records in KEYS. The verifier's
# output is left in $WORK/verify.out for the caller to print.
resigned_and_verified() {
    local file=$1 selector=$2 instance=$3
    "$BIN" dkim verify --records "$KEYS/$DOMAIN.mx.txt" --records "$KEYS/$DOMAIN.$selector.txt" \
        "$file" >"$WORK/verify.out" \
        && [ "$(wc -l <"$WORK/verify.out")" -eq 1 ] \
        && grep -q "^pass d=$DOMAIN s=$selector$" "$WORK/verify.out" \
        && grep -q "^X-Courtesy: rewritten by $instance" "$file"
}
