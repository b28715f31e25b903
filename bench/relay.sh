#!/usr/bin/env bash
# Relay benchmark on loopback with Postfix's own load tools.
#
# smtp-source sends through each target to one smtp-sink; all targets are
# measured in the same run, interleaved, so their ratios are comparable:
#   direct    smtp-source -> smtp-sink                      (the floor)
#   socat     -> socat TCP forwarder (nodelay) -> sink      (a pure byte pump)
#   postfix   -> private Postfix relay -> sink              (store and forward)
#   courtesy  -> courtesy serve (release build) -> sink     (before-queue relay)
#   milter    -> private Postfix with `courtesy milter` in smtpd_milters -> sink
#                (only when `courtesy milter` starts; reported as pending otherwise)
#   nullmilter -> private Postfix with examples/null_milter.rs in smtpd_milters:
#                the same protocol as courtesy's, no work; what any milter costs
#                (build it first: cargo build --release --example null_milter)
# Then added latency at one session (bench/smtpclient.py) and courtesy's
# resident memory with 1,000 idle connections and with 50 sessions sending
# 10 MB messages.
#
# Usage: bench/relay.sh            (full run, ~15-25 min on two cores)
#        QUICK=1 bench/relay.sh    (harness check, ~2 min)
# Environment (defaults in brackets):
#   REPS [3]  SESSIONS ["1 10 50"]  TARGETS ["direct socat postfix courtesy milter nullmilter"]
#   CASES ["2048 5120+mix 102400 102400+mix"]  (size in bytes; +mix = 10% auto-replies)
#   N_SMALL [6000] N_LARGE [1500]  messages per run (Postfix runs use a fifth)
#   LAT_COUNT [2000]  RUN_TIMEOUT [180] s per run  TIME_LIMIT [3000] s overall
#   MEMORY [1]  COURTESY_BIN [target/release/courtesy]  OUT [target/bench-relay]
# Needs: postfix (smtp-source, smtp-sink, a private instance: run as root),
#        socat, python3. Everything listens on 127.0.0.1 only.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${COURTESY_BIN:-$ROOT/target/release/courtesy}
OUT=${OUT:-$ROOT/target/bench-relay}
QUICK=${QUICK:-0}
if [ "$QUICK" = 1 ]; then
    REPS=${REPS:-1}; N_SMALL=${N_SMALL:-600}; N_LARGE=${N_LARGE:-200}; LAT_COUNT=${LAT_COUNT:-200}
    SESSIONS=${SESSIONS:-"1 10"}; CASES=${CASES:-"2048 102400+mix"}
fi
REPS=${REPS:-3}
SESSIONS=${SESSIONS:-"1 10 50"}
CASES=${CASES:-"2048 5120+mix 102400 102400+mix"}
TARGETS=${TARGETS:-"direct socat postfix courtesy milter nullmilter"}
NULL_MILTER_BIN=${NULL_MILTER_BIN:-$ROOT/target/release/examples/null_milter}
N_SMALL=${N_SMALL:-6000}
N_LARGE=${N_LARGE:-1500}
LAT_COUNT=${LAT_COUNT:-2000}
RUN_TIMEOUT=${RUN_TIMEOUT:-180}
TIME_LIMIT=${TIME_LIMIT:-3000}
MEMORY=${MEMORY:-1}
SENDER=maarten@hoekstra-advies.nl
RCPT=piet@voorbeeld.nl
AUTOREPLY=$ROOT/bench/messages/autoreply-outlook.eml

for tool in smtp-source smtp-sink socat python3 postfix timeout setsid; do
    command -v "$tool" >/dev/null || { echo "relay.sh: $tool not found" >&2; exit 2; }
done
[ -x "$BIN" ] || { echo "relay.sh: $BIN missing; run cargo build --release" >&2; exit 2; }

mkdir -p "$OUT"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/courtesy-bench.XXXXXX")
chmod 755 "$WORK"
LOG=$OUT/run.log
: >"$LOG"
GROUPS_STARTED=()
POSTFIX_DIRS=()

# --- process control: every helper is its own process group, stopped by id ---

cleanup() {
    trap - EXIT INT TERM
    for dir in "${POSTFIX_DIRS[@]}"; do postfix_stop "$dir"; done
    for pgid in "${GROUPS_STARTED[@]}"; do kill -TERM -- "-$pgid" 2>/dev/null || true; done
    sleep 0.2
    for pgid in "${GROUPS_STARTED[@]}"; do kill -KILL -- "-$pgid" 2>/dev/null || true; done
    if [ -n "${WATCHDOG:-}" ]; then
        pkill -TERM -P "$WATCHDOG" 2>/dev/null || true
        kill "$WATCHDOG" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'echo "relay.sh: interrupted" >&2; exit 130' INT TERM

# Starts "$@" in a new session (so its own process group); sets STARTED_PID.
start_group() {
    local out=$1
    shift
    setsid "$@" >"$out" 2>&1 </dev/null &
    STARTED_PID=$!
    GROUPS_STARTED+=("$STARTED_PID")
}

stop_group() {
    kill -TERM -- "-$1" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
    kill -KILL -- "-$1" 2>/dev/null || true
}

# The whole run is bounded: the watchdog interrupts the script.
# Its sleep is stopped by parent id in cleanup, so no orphan outlives the run.
( trap 'exit 0' TERM; sleep "$TIME_LIMIT" & wait $!; echo "relay.sh: time limit ${TIME_LIMIT}s reached" >&2; kill -TERM $$ ) &
WATCHDOG=$!

log() { echo "$*" | tee -a "$LOG" >&2; }

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_port() {
    for _ in $(seq 100); do
        if python3 -c "import socket; socket.create_connection(('127.0.0.1', $1), 0.2).close()" 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    return 1
}

now() { echo "$EPOCHREALTIME"; }

# --- the sink: one smtp-sink for every target, counting delivered messages ---

SINK_PORT=$(free_port)
SINK_OUT=$WORK/sink.out
start_group "$SINK_OUT" smtp-sink -u nobody -c "127.0.0.1:$SINK_PORT" 1024
wait_port "$SINK_PORT" || { echo "relay.sh: smtp-sink did not start" >&2; exit 1; }

sink_count() {
    local n
    n=$(tail -c 256 "$SINK_OUT" | tr '\r' '\n' | grep -o 'mesg=[0-9]*' | tail -1 | cut -d= -f2)
    echo "${n:-0}"
}

wait_sink() {
    local want=$1 deadline=$((SECONDS + RUN_TIMEOUT))
    while [ "$(sink_count)" -lt "$want" ]; do
        [ $SECONDS -lt $deadline ] || return 1
        sleep 0.005
    done
}

# --- targets ---

declare -A PORT
PORT[direct]=$SINK_PORT

start_socat() {
    PORT[socat]=$(free_port)
    start_group "$WORK/socat.log" socat \
        "TCP-LISTEN:${PORT[socat]},bind=127.0.0.1,reuseaddr,fork,backlog=1024,nodelay" \
        "TCP:127.0.0.1:$SINK_PORT,nodelay"
    wait_port "${PORT[socat]}"
}

write_courtesy_config() {
    local port=$1 file=$2
    cat >"$file" <<YAML
instance: bench
policy: $ROOT/policies/example.yaml
smtp:
  listen: ["127.0.0.1:$port"]
  upstream:
    url: smtp://127.0.0.1:$SINK_PORT
    starttls: off
  limits:
    max_connections: 2000
    max_message_size: 52428800
YAML
}

COURTESY_PID=
start_courtesy() {
    PORT[courtesy]=$(free_port)
    write_courtesy_config "${PORT[courtesy]}" "$WORK/courtesy.yaml"
    start_group "$WORK/courtesy.log" "$BIN" serve --config "$WORK/courtesy.yaml"
    COURTESY_PID=$STARTED_PID
    wait_port "${PORT[courtesy]}" || { cat "$WORK/courtesy.log" >&2; exit 1; }
}

# A private Postfix instance (own config, queue, log; 127.0.0.1 only).
# $1 name, $2 listen port, $3 extra main.cf lines.
postfix_start() {
    local name=$1 port=$2 extra=${3:-} dir=$WORK/postfix-$1
    mkdir -p "$dir/etc" "$dir/queue" "$dir/data"
    chown postfix "$dir/data"
    cat >"$dir/etc/main.cf" <<CF
compatibility_level = 3.6
queue_directory = $dir/queue
data_directory = $dir/data
mail_owner = postfix
setgid_group = postdrop
myhostname = bench-$name.localdomain
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost = [127.0.0.1]:$SINK_PORT
smtpd_relay_restrictions = permit_mynetworks, reject
local_transport = error:local delivery is disabled
alias_maps =
alias_database =
biff = no
maillog_file = $dir/maillog
maillog_file_prefixes = $dir
smtp_host_lookup = native
smtp_tls_security_level = none
smtpd_tls_security_level = none
$extra
CF
    cat >"$dir/etc/master.cf" <<CF
127.0.0.1:$port inet n - n - - smtpd
pickup     unix  n - n 60 1 pickup
cleanup    unix  n - n -  0 cleanup
qmgr       unix  n - n 300 1 qmgr
rewrite    unix  - - n -  - trivial-rewrite
bounce     unix  - - n -  0 bounce
defer      unix  - - n -  0 bounce
trace      unix  - - n -  0 bounce
verify     unix  - - n -  1 verify
flush      unix  n - n 1000? 0 flush
proxymap   unix  - - n -  - proxymap
proxywrite unix  - - n -  1 proxymap
smtp       unix  - - n -  - smtp
relay      unix  - - n -  - smtp
showq      unix  n - n -  - showq
error      unix  - - n -  - error
retry      unix  - - n -  - error
discard    unix  - - n -  - discard
anvil      unix  - - n -  1 anvil
scache     unix  - - n -  1 scache
postlog    unix-dgram n - n - 1 postlogd
CF
    POSTFIX_DIRS+=("$dir")
    postfix -c "$dir/etc" start >>"$LOG" 2>&1
    wait_port "$port"
}

postfix_stop() {
    local dir=$1 pid
    postfix -c "$dir/etc" stop >>"$LOG" 2>&1 || true
    pid=$(tr -d ' ' <"$dir/queue/pid/master.pid" 2>/dev/null || true)
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        sleep 1
        kill -TERM "$pid" 2>/dev/null || true
    fi
}

MILTER_STATE="not requested"
start_milter_variant() {
    local mport
    mport=$(free_port)
    write_courtesy_config "$(free_port)" "$WORK/milter.yaml"
    printf 'milter:\n  listen: inet:127.0.0.1:%s\n' "$mport" >>"$WORK/milter.yaml"
    start_group "$WORK/milter.log" "$BIN" milter --config "$WORK/milter.yaml"
    if ! wait_port "$mport"; then
        MILTER_STATE="pending: \`courtesy milter\` did not start ($(tail -1 "$WORK/milter.log"))"
        return 1
    fi
    PORT[milter]=$(free_port)
    postfix_start milter "${PORT[milter]}" "smtpd_milters = inet:127.0.0.1:$mport
milter_default_action = tempfail
milter_protocol = 6"
    MILTER_STATE="measured"
}

start_null_milter_variant() {
    local mport
    [ -x "$NULL_MILTER_BIN" ] || { log "nullmilter: $NULL_MILTER_BIN not built, skipped"; return 1; }
    mport=$(free_port)
    start_group "$WORK/nullmilter.log" "$NULL_MILTER_BIN" "127.0.0.1:$mport"
    wait_port "$mport" || { log "nullmilter: did not start"; return 1; }
    PORT[nullmilter]=$(free_port)
    postfix_start nullmilter "${PORT[nullmilter]}" "smtpd_milters = inet:127.0.0.1:$mport
milter_default_action = tempfail
milter_protocol = 6"
}

ACTIVE=()
for t in $TARGETS; do
    case $t in
        direct) ACTIVE+=(direct) ;;
        socat) start_socat && ACTIVE+=(socat) ;;
        courtesy) start_courtesy && ACTIVE+=(courtesy) ;;
        postfix) PORT[postfix]=$(free_port); postfix_start plain "${PORT[postfix]}" && ACTIVE+=(postfix) ;;
        milter) start_milter_variant && ACTIVE+=(milter) || log "milter: $MILTER_STATE" ;;
        nullmilter) start_null_milter_variant && ACTIVE+=(nullmilter) ;;
        *) echo "relay.sh: unknown target $t" >&2; exit 2 ;;
    esac
done
log "targets: ${ACTIVE[*]} (sink 127.0.0.1:$SINK_PORT)"

# --- throughput ---

# One run: N messages of SIZE through TARGET with S sessions; prints msg/s.
# With mix, a second smtp-source sends 10% of the messages as the Outlook
# out-of-office on 10% of the sessions (at least one more).
run_once() {
    local target=$1 size=$2 mix=$3 sessions=$4 n=$5 port=${PORT[$1]}
    local start t0 t1 n_ar=0 s_ar p1 p2=
    start=$(sink_count)
    if [ "$mix" = 1 ]; then
        n_ar=$((n / 10))
        s_ar=$(( sessions / 10 > 0 ? sessions / 10 : 1 ))
    fi
    t0=$(now)
    timeout "$RUN_TIMEOUT" smtp-source -d -s "$sessions" -m $((n - n_ar)) -l "$size" \
        -f "$SENDER" -t "$RCPT" "127.0.0.1:$port" >>"$LOG" 2>&1 &
    p1=$!
    if [ "$n_ar" -gt 0 ]; then
        timeout "$RUN_TIMEOUT" smtp-source -d -s "$s_ar" -m "$n_ar" -F "$AUTOREPLY" \
            -f "$SENDER" -t piet@bakkerij-degroot.nl "127.0.0.1:$port" >>"$LOG" 2>&1 &
        p2=$!
    fi
    local ok=1
    wait "$p1" || ok=0
    [ -z "$p2" ] || wait "$p2" || ok=0
    wait_sink $((start + n)) || ok=0
    t1=$(now)
    if [ $ok = 0 ]; then
        log "FAILED: $target size=$size mix=$mix sessions=$sessions (sink got $(( $(sink_count) - start ))/$n)"
        echo "nan"
        return
    fi
    awk -v n="$n" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f\n", n / (b - a) }'
}

# Median and min-max of the numbers on stdin: "median [min-max]".
summary() {
    sort -g | awk '{ v[NR] = $1 } END {
        if (NR == 0) { print "-"; exit }
        m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        printf "%.0f [%.0f-%.0f]\n", m, v[1], v[NR] }'
}
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

RESULTS=$OUT/throughput.tsv
printf 'case\tsessions\trep\ttarget\tmsgs\tmsg_per_s\n' >"$RESULTS"
REPORT=$OUT/report.md
{
    echo "# Relay benchmark $(date -u +%Y-%m-%dT%H:%MZ)"
    echo
    echo "Machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), kernel $(uname -r), Postfix $(postconf -d -h mail_version 2>/dev/null)."
    echo "Load average at start: $(cut -d' ' -f1-3 /proc/loadavg). Targets: ${ACTIVE[*]}. Milter: $MILTER_STATE."
    echo
    echo "## Throughput (msg/s, median of $REPS [min-max]; ratio = target / direct, per repetition, median)"
    echo
    printf '| case | sessions |'
    for t in "${ACTIVE[@]}"; do printf ' %s |' "$t"; done
    [[ " ${ACTIVE[*]} " == *" courtesy "* && " ${ACTIVE[*]} " == *" socat "* ]] && printf ' courtesy / socat |'
    [[ " ${ACTIVE[*]} " == *" milter "* ]] && printf ' milter / postfix |'
    [[ " ${ACTIVE[*]} " == *" nullmilter "* ]] && printf ' null milter / postfix |'
    [[ " ${ACTIVE[*]} " == *" milter "* && " ${ACTIVE[*]} " == *" nullmilter "* ]] && printf ' milter / null milter |'
    echo
    printf '|---|---|'
    for _ in "${ACTIVE[@]}"; do printf -- '---|'; done
    [[ " ${ACTIVE[*]} " == *" courtesy "* && " ${ACTIVE[*]} " == *" socat "* ]] && printf -- '---|'
    [[ " ${ACTIVE[*]} " == *" milter "* ]] && printf -- '---|'
    [[ " ${ACTIVE[*]} " == *" nullmilter "* ]] && printf -- '---|'
    [[ " ${ACTIVE[*]} " == *" milter "* && " ${ACTIVE[*]} " == *" nullmilter "* ]] && printf -- '---|'
    echo
} >"$REPORT"

ratio_of() {
    # Median over repetitions of num/den for one case and session count.
    awk -F'\t' -v c="$1" -v s="$2" -v num="$3" -v den="$4" '
        $1 == c && $2 == s && $4 == num { a[$3] = $6 }
        $1 == c && $2 == s && $4 == den { b[$3] = $6 }
        END { for (r in a) if ((r in b) && b[r] > 0 && a[r] != "nan") print a[r] / b[r] }' "$RESULTS" |
        median
}

for case in $CASES; do
    size=${case%+mix}
    mix=0; [ "$size" != "$case" ] && mix=1
    n=$N_SMALL; [ "$size" -gt 20000 ] && n=$N_LARGE
    for sessions in $SESSIONS; do
        # A warm-up run per target, not recorded.
        for t in "${ACTIVE[@]}"; do run_once "$t" "$size" "$mix" "$sessions" 100 >/dev/null; done
        for rep in $(seq "$REPS"); do
            # Rotate the order so no target always runs right after another.
            order=("${ACTIVE[@]:$(( (rep - 1) % ${#ACTIVE[@]} ))}" "${ACTIVE[@]:0:$(( (rep - 1) % ${#ACTIVE[@]} ))}")
            for t in "${order[@]}"; do
                count=$n
                # Store-and-forward Postfix is ~30x slower here: fewer messages keep runs short.
                case $t in postfix | milter | nullmilter) count=$((n / 5)) ;; esac
                rate=$(run_once "$t" "$size" "$mix" "$sessions" "$count")
                printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$case" "$sessions" "$rep" "$t" "$count" "$rate" >>"$RESULTS"
                log "$case s=$sessions rep=$rep $t: $rate msg/s"
            done
        done
        {
            label=$size; [ "$mix" = 1 ] && label="$size + 10% OoO"
            printf '| %s | %s%s |' "$label" "$sessions" "$([ "$mix" = 1 ] && echo " (+$(( sessions / 10 > 0 ? sessions / 10 : 1 )))")"
            for t in "${ACTIVE[@]}"; do
                cell=$(awk -F'\t' -v c="$case" -v s="$sessions" -v t="$t" '$1 == c && $2 == s && $4 == t && $6 != "nan" { print $6 }' "$RESULTS" | summary)
                [ "$t" != direct ] && cell="$cell ($(ratio_of "$case" "$sessions" "$t" direct | xargs printf '%.2f'))"
                printf ' %s |' "$cell"
            done
            [[ " ${ACTIVE[*]} " == *" courtesy "* && " ${ACTIVE[*]} " == *" socat "* ]] &&
                printf ' %.2f |' "$(ratio_of "$case" "$sessions" courtesy socat)"
            [[ " ${ACTIVE[*]} " == *" milter "* ]] &&
                printf ' %.2f |' "$(ratio_of "$case" "$sessions" milter postfix)"
            [[ " ${ACTIVE[*]} " == *" nullmilter "* ]] &&
                printf ' %.2f |' "$(ratio_of "$case" "$sessions" nullmilter postfix)"
            [[ " ${ACTIVE[*]} " == *" milter "* && " ${ACTIVE[*]} " == *" nullmilter "* ]] &&
                printf ' %.2f |' "$(ratio_of "$case" "$sessions" milter nullmilter)"
            echo
        } >>"$REPORT"
    done
done

# --- latency at one session ---

{
    echo
    echo "## Latency at 1 session, ms (smtpclient.py: $LAT_COUNT transactions after 100 warm-up, median of $REPS runs; added = target - direct per run)"
    echo
    echo "| message | target | p50 | p99 | added p50 | added p99 |"
    echo "|---|---|---|---|---|---|"
} >>"$REPORT"
LAT=$OUT/latency.tsv
printf 'size\trep\ttarget\tp50\tp99\n' >"$LAT"
for size in 2048 102400; do
    for rep in $(seq "$REPS"); do
        for t in "${ACTIVE[@]}"; do
            count=$LAT_COUNT
            case $t in postfix | milter | nullmilter) count=$((LAT_COUNT / 4)) ;; esac
            if json=$(timeout "$RUN_TIMEOUT" python3 "$ROOT/bench/smtpclient.py" latency "127.0.0.1:${PORT[$t]}" \
                --size "$size" --count "$count" 2>>"$LOG"); then
                p50=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["p50_ms"])' "$json")
                p99=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["p99_ms"])' "$json")
            else
                p50=nan; p99=nan
            fi
            printf '%s\t%s\t%s\t%s\t%s\n' "$size" "$rep" "$t" "$p50" "$p99" >>"$LAT"
            log "latency $size rep=$rep $t: p50 $p50 ms, p99 $p99 ms"
        done
    done
    for t in "${ACTIVE[@]}"; do
        read -r p50 p99 a50 a99 < <(awk -F'\t' -v s="$size" -v t="$t" '
            $1 == s && $3 == "direct" { d50[$2] = $4; d99[$2] = $5 }
            $1 == s && $3 == t { m50[$2] = $4; m99[$2] = $5 }
            END { for (r in m50) print m50[r], m99[r], m50[r] - d50[r], m99[r] - d99[r] }' "$LAT" |
            sort -k3 -g | awk '{ a[NR] = $0 } END { print a[int((NR + 1) / 2)] }')
        printf '| %s | %s | %.3f | %.3f | %+.3f | %+.3f |\n' "$size" "$t" "$p50" "$p99" "$a50" "$a99" >>"$REPORT"
    done
done

# --- courtesy's memory ---

rss() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

if [ "$MEMORY" = 1 ] && [ -n "$COURTESY_PID" ]; then
    # A fresh process, so VmHWM belongs to this measurement alone.
    stop_group "$COURTESY_PID"
    start_courtesy
    sleep 0.5
    base=$(rss "$COURTESY_PID" VmRSS)
    start_group "$WORK/idle.out" python3 "$ROOT/bench/smtpclient.py" idle "127.0.0.1:${PORT[courtesy]}" \
        --count 1000 --hold 120
    idle_pid=$STARTED_PID
    for _ in $(seq 600); do grep -q '^open' "$WORK/idle.out" 2>/dev/null && break; sleep 0.1; done
    sleep 1
    idle_rss=$(rss "$COURTESY_PID" VmRSS)
    idle_state=$(head -1 "$WORK/idle.out")
    stop_group "$idle_pid"
    stop_group "$COURTESY_PID"
    start_courtesy
    sleep 0.5
    base2=$(rss "$COURTESY_PID" VmRSS)
    peak=0
    timeout "$RUN_TIMEOUT" smtp-source -d -s 50 -m 100 -l 10485760 -f "$SENDER" -t "$RCPT" \
        "127.0.0.1:${PORT[courtesy]}" >>"$LOG" 2>&1 &
    src=$!
    while kill -0 "$src" 2>/dev/null; do
        r=$(rss "$COURTESY_PID" VmRSS); [ "${r:-0}" -gt "$peak" ] && peak=$r
        sleep 0.05
    done
    wait "$src" && big_state=ok || big_state="smtp-source failed"
    hwm=$(rss "$COURTESY_PID" VmHWM)
    {
        echo
        echo "## courtesy resident memory (KiB, /proc/PID/status)"
        echo
        echo "| situation | VmRSS | VmHWM | note |"
        echo "|---|---|---|---|"
        echo "| started, no connection | $base | | |"
        echo "| 1,000 idle connections (greeting read, held open) | $idle_rss | | $idle_state |"
        echo "| 50 sessions x 2 messages of 10 MiB each (sampled every 50 ms) | $peak (highest sample) | $hwm | started at $base2; $big_state |"
        awk -v h="$hwm" -v b="$base2" 'BEGIN { printf "\nPer in-flight message: (VmHWM - start) / 50 = %.1f MiB for a 10 MiB message (%.2fx its size).\n", (h - b) / 50 / 1024, (h - b) / 50 / 10240 }'
    } >>"$REPORT"
fi

echo >>"$REPORT"
echo "Load average at end: $(cut -d' ' -f1-3 /proc/loadavg)." >>"$REPORT"
cat "$REPORT"
