#!/usr/bin/env bash
# Starts the local stack: the functions on the embedded store with the demo salon seeded.
# Configuration comes from .env (created from .env.example on the first run) or the environment.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f .env ]; then
  cp .env.example .env
  echo "==> created .env from .env.example; edit it for a real phone (tunnel URL, Twilio token)"
fi
exec cargo run --locked -p salon-functions --bin local
