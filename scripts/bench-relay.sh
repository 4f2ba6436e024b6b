#!/usr/bin/env bash
# The relay's load figures (BENCHMARKS.md): the relay and the null relay (the floor), in both
# audio modes, at several numbers of concurrent calls, each run a real-time window of simulated
# Twilio calls against the in-process Realtime double (relay/load). The relay is pinned to CPU 0
# and the harness to CPU 1 when there are two, as the figures in BENCHMARKS.md were taken.
#
#   scripts/bench-relay.sh                  # N = 1 10 50 100, 20 s windows
#   CALLS="50" SECONDS_PER_RUN=30 scripts/bench-relay.sh
#   scripts/bench-relay.sh --max            # the largest N held: 100, 200, ... until a run fails
#
# Each run's JSON report goes to target/bench-relay/; a table is printed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/salon-voice/target}"
cargo build --release --locked -p salon-relay -p salon-relay-load --quiet
bin="$CARGO_TARGET_DIR/release"
out="${OUT_DIR:-target/bench-relay}"
mkdir -p "$out"
window="${SECONDS_PER_RUN:-20}"

pin=()
relay_pin=()
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
  pin=(taskset -c 1)
  relay_pin=(--pin-relay 0)
fi

# run TARGET MODE N: one run; prints its line, keeps its JSON.
run() {
  local target=$1 mode=$2 n=$3 flag=()
  [ "$target" = null ] && flag=(--null)
  # A 1,000-call run needs about 6,000 descriptors in the harness.
  ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
  "${pin[@]}" "$bin/relay-load" "${flag[@]}" "${relay_pin[@]}" --mode "$mode" --calls "$n" \
    --seconds "$window" --ramp "$(( n / 50 + 2 ))" --warmup 3 --json "$out/$target-$mode-$n.json"
}

if [ "${1:-}" = "--max" ]; then
  # Held: every call, nothing lost, p99 added latency at most 5 ms each way, and a harness
  # whose frame clocks kept time (late p99 under 5 ms), so a saturated harness is not
  # mistaken for a slow relay.
  for n in ${CALLS:-100 200 300 400 500 600 800 1000}; do
    run relay "${MODE:-pcmu}" "$n" || break
    python3 - "$out/relay-${MODE:-pcmu}-$n.json" <<'PY' || break
import json, sys
r = json.load(open(sys.argv[1]))
why = []
if r["calls_held"] < r["calls"]: why.append(f'{r["calls"] - r["calls_held"]} calls failed')
if r["frames_lost_in"] or r["frames_lost_out"]: why.append("frames lost")
if max(r["inbound"]["p99_ms"], r["outbound"]["p99_ms"]) > 5: why.append("p99 over 5 ms")
if r["harness_lateness"]["p99_ms"] > 5: why.append("the harness fell behind")
if why:
    print(f'{r["calls"]} calls not held: {", ".join(why)}')
    sys.exit(1)
PY
  done
  exit 0
fi

for n in ${CALLS:-1 10 50 100}; do
  for mode in pcmu pcm24; do
    for target in relay null; do
      run "$target" "$mode" "$n"
    done
  done
done

python3 - "$out" ${CALLS:-1 10 50 100} <<'PY'
import json, os, sys
out, ns = sys.argv[1], sys.argv[2:]
print("| N | mode | relay CPU ms/call-s | null relay | × floor | relay KiB/call | in p50/p99 ms | out p50/p99 ms |")
print("|---|---|---|---|---|---|---|---|")
for n in ns:
    for mode in ("pcmu", "pcm24"):
        r = json.load(open(os.path.join(out, f"relay-{mode}-{n}.json")))
        f = json.load(open(os.path.join(out, f"null-{mode}-{n}.json")))
        ratio = r["relay_cpu_ms_per_call_s"] / f["relay_cpu_ms_per_call_s"]
        print(f'| {n} | {mode} | {r["relay_cpu_ms_per_call_s"]:.2f} | {f["relay_cpu_ms_per_call_s"]:.2f} | {ratio:.2} '
              f'| {r["relay_kib_per_call"]:.0f} | {r["inbound"]["p50_ms"]:.2f}/{r["inbound"]["p99_ms"]:.2f} '
              f'| {r["outbound"]["p50_ms"]:.2f}/{r["outbound"]["p99_ms"]:.2f} |')
PY
