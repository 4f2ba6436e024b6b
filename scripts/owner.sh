#!/usr/bin/env bash
# The owner's view in a terminal: the day's book, recent calls with their outcome, unread
# messages. From the local stack's store by default, or from the deployed table:
#
#   scripts/owner.sh                                   # the local store (./data)
#   scripts/owner.sh --date 2026-12-15                 # another day's book
#   scripts/owner.sh --days 7                          # the phone's figures over 7 days (30 by default)
#   scripts/owner.sh --store dynamodb --table NAME     # the deployed table (AWS credentials)
#
# Options: --business ID (default salon-demo), --data-dir DIR, --endpoint-url URL.
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo run --quiet --locked -p salon-functions --bin owner -- "$@"
