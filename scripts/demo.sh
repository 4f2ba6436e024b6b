#!/usr/bin/env bash
# The offline demo call: the functions (embedded store, demo salon), the relay and the
# Realtime double start on loopback, the caller simulator books a haircut (scenario 1), and the
# timeline and the booked appointment are printed. No internet, no accounts.
#   AUDIO_MODE=pcmu scripts/demo.sh      # the μ-law passthrough mode
#   DEMO_WAV=agent.wav scripts/demo.sh   # also write what the caller heard
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/salon-voice/target}"
exec cargo run --quiet --locked -p salon-caller-sim --bin demo
