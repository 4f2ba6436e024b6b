#!/usr/bin/env bash
# Coverage-guided fuzzing of the parsers (cargo-fuzz, libFuzzer) on the stable toolchain.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# Runs each target (default: every target in scripts/fuzz/Cargo.toml) for SECONDS (default 10)
# and fails on the first crash; the crashing input is left in scripts/fuzz/artifacts/TARGET/.
# No sanitizer (`-s none`): the address sanitizer needs a nightly toolchain; the parsers are
# safe Rust, so a crash is a panic, an overflow or a failed invariant.
#
# Installs cargo-fuzz if it is missing. The instrumented build is kept in
# ~/.cache/salon-voice/fuzz-target unless FUZZ_TARGET_DIR says otherwise. Each target reads its
# committed seeds (scripts/fuzz/corpus/TARGET/) and grows its own corpus in
# scripts/fuzz/generated/TARGET/ (git-ignored). Extra libFuzzer flags go in FUZZ_FLAGS.
#
# A new target: `cargo fuzz add --fuzz-dir scripts/fuzz NAME` (or a [[bin]] in
# scripts/fuzz/Cargo.toml and fuzz_targets/NAME.rs), a few seeds in corpus/NAME/.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-10}
shift || true
fuzz_dir=scripts/fuzz
target_dir=${FUZZ_TARGET_DIR:-$HOME/.cache/salon-voice/fuzz-target}

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "==> installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi

# The fuzz project resolves from the workspace's Cargo.lock, so the crates it shares with the
# tests are the versions the tests use; only what the fuzzer adds (libfuzzer-sys and its build
# dependencies) is resolved here. Its lock is made anew each run and not committed.
cp Cargo.lock "$fuzz_dir/Cargo.lock"
cargo fetch --quiet --manifest-path "$fuzz_dir/Cargo.toml"

if [ $# -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(cargo fuzz list --fuzz-dir "$fuzz_dir")
fi

# One instrumented build of every target (release, debug assertions and overflow checks on).
opts=(-s none --fuzz-dir "$fuzz_dir" --target-dir "$target_dir")
echo "==> fuzz: building ${targets[*]}"
cargo fuzz build "${opts[@]}"

for t in "${targets[@]}"; do
  echo "==> fuzz: $t for ${seconds}s"
  mkdir -p "$fuzz_dir/generated/$t" "$fuzz_dir/corpus/$t"
  log="$fuzz_dir/generated/$t.log"
  # The first corpus directory receives new inputs; the seeds are read only.
  # shellcheck disable=SC2086
  if ! cargo fuzz run "${opts[@]}" "$t" "$fuzz_dir/generated/$t" "$fuzz_dir/corpus/$t" -- \
    -max_total_time="$seconds" -print_final_stats=1 ${FUZZ_FLAGS:-} >"$log" 2>&1; then
    grep -m1 -A3 'panicked at' "$log" >&2 || true
    tail -n 25 "$log" >&2
    echo "fuzz: $t crashed; the input is in $fuzz_dir/artifacts/$t/, the log in $log" >&2
    echo "reproduce: cargo fuzz run ${opts[*]} $t $fuzz_dir/artifacts/$t/<file>" >&2
    exit 1
  fi
  grep -E '^(Done |stat::number_of_executed_units|stat::peak_rss_mb)' "$log" | sed 's/^/    /'
done
