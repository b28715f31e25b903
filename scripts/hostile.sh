#!/usr/bin/env bash
# Hostile clients against a real `courtesy serve` (release build) on
# 127.0.0.1 writing to an outbox directory: 10,000 connections at once,
# a 1 GiB DATA stream and slow clients. Prints the replies counted and
# courtesy's memory (VmRSS now, VmHWM peak) after each scenario.
#
#   scripts/hostile.sh                # 10000 connections, 1024 MiB, 50 slow clients
#   CONNECTIONS=2000 DATA_MIB=64 SLOW=20 scripts/hostile.sh
set -euo pipefail
cd "$(dirname "$0")/.."
CONNECTIONS=${CONNECTIONS:-10000}
DATA_MIB=${DATA_MIB:-1024}
SLOW=${SLOW:-50}
MAX_CONNECTIONS=${MAX_CONNECTIONS:-100}
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
# PROFILE=debug reuses the debug build (no release compile; slower DATA).
if [ "${PROFILE:-release}" = release ]; then dir=release; flag=(--release); else dir=debug; flag=(); fi
cargo build --locked "${flag[@]}" --bin courtesy --example hostile 2>&1 | tail -1
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
port=$((20000 + RANDOM % 20000))
cat >"$work/courtesy.yaml" <<YAML
policy_poll: 0s
shutdown_grace: 5s
smtp:
  listen: ["127.0.0.1:$port"]
  upstream: { url: "dir:$work/outbox" }
  limits:
    max_connections: $MAX_CONNECTIONS
    max_message_size: 10485760
    command_timeout: 30s
YAML
COURTESY_LOG=error target/$dir/courtesy serve --config "$work/courtesy.yaml" 2>"$work/log" &
pid=$!
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
mem() { grep -E 'VmRSS|VmHWM' /proc/$pid/status | tr -s ' \n' ' '; echo; }
echo "somaxconn $(cat /proc/sys/net/core/somaxconn), max_connections $MAX_CONNECTIONS"
echo "idle: $(mem)"
target/$dir/examples/hostile "127.0.0.1:$port" connections "$CONNECTIONS"
echo "after connections: $(mem)"
target/$dir/examples/hostile "127.0.0.1:$port" bigdata "$DATA_MIB"
echo "after bigdata: $(mem)"
target/$dir/examples/hostile "127.0.0.1:$port" slowloris "$SLOW"
echo "after slowloris: $(mem)"
kill -TERM "$pid"; wait "$pid" && echo "SIGTERM: clean exit"
