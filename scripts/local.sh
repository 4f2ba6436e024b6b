#!/usr/bin/env bash
# Starts the local stack: the functions on the embedded store with the demo salon seeded and,
# when OPENAI_API_KEY is set, the relay beside them. Configuration comes from .env (created
# from .env.example on the first run) or the environment.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/salon-voice/target}"
if [ ! -f .env ]; then
  cp .env.example .env
  echo "==> created .env from .env.example; edit it for a real phone (tunnel URLs, Twilio token, OpenAI key)"
fi
set -a
# shellcheck disable=SC1091
. ./.env
set +a
cargo build --quiet --locked -p salon-functions --bin local -p salon-relay --bin relay
if [ -n "${OPENAI_API_KEY:-}" ]; then
  PORT="${RELAY_PORT:-8081}" "$CARGO_TARGET_DIR/debug/relay" &
  relay=$!
  trap 'kill $relay 2>/dev/null || true' EXIT
  echo "==> relay on port ${RELAY_PORT:-8081} (audio ${AUDIO_MODE:-pcm24})"
else
  echo "==> OPENAI_API_KEY is not set: starting the functions only"
fi
"$CARGO_TARGET_DIR/debug/local"
