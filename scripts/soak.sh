#!/usr/bin/env bash
# The long no-loss soak: 20,000 messages (or $1) through the real
# `courtesy serve` (release build) with a faulty upstream, two SIGTERM
# restarts and one SIGKILL. Prints the accounting line; fails on any lost,
# altered or unexplained duplicate message. Seed with COURTESY_SOAK_SEED.
set -euo pipefail
cd "$(dirname "$0")/.."
export COURTESY_SOAK_MESSAGES=${1:-20000}
# PROFILE=debug reuses the test build of `cargo test` (slower, no extra compile).
profile=(--release)
[ "${PROFILE:-release}" = release ] || profile=()
cargo test --locked "${profile[@]}" --test soak -- --nocapture 2>&1 |
    grep -E 'soak:|test result|panicked'
