#!/usr/bin/env bash
# Runs every check and test from a fresh clone: installs what the tests need (a Python virtual
# environment per purpose), then formatting, lints, the whole workspace's tests and a short run of
# every fuzz target (scripts/fuzz.sh). The tests start the servers they use (moto on loopback)
# themselves.
set -euo pipefail
cd "$(dirname "$0")/.."

# One build shared between runs on a reused machine.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/salon-voice/target}"
venvs="${SALON_VENVS:-$HOME/.cache/salon-voice/venvs}"

# ensure_venv NAME MODULE: a virtual environment with scripts/requirements/NAME.txt installed,
# reused while the requirements file is unchanged.
ensure_venv() {
  local name=$1 module=$2 dir="$venvs/$1" req="scripts/requirements/$1.txt"
  local stamp="$dir/.requirements"
  if [ -x "$dir/bin/python" ] && cmp -s "$req" "$stamp" && "$dir/bin/python" -c "import $module" 2>/dev/null; then
    return
  fi
  echo "==> installing $name into $dir"
  rm -rf "$dir"
  python3 -m venv "$dir"
  "$dir/bin/pip" install --quiet -r "$req"
  cp "$req" "$stamp"
}

ensure_venv moto moto
export MOTO_PYTHON="$venvs/moto/bin/python"
ensure_venv oracles twilio
export ORACLE_PYTHON="$venvs/oracles/bin/python"

# The console's browser tests: Debian's Chromium with its WebDriver, and axe-core from npm
# (checks the pages' accessibility in the browser), pinned and kept between runs.
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  echo "==> installing chromium and chromium-driver (Debian's packages)"
  as_root=()
  [ "$(id -u)" -eq 0 ] || as_root=(sudo)
  "${as_root[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -q chromium chromium-driver >/dev/null
fi
axe_version=4.14.1
axe_dir="$HOME/.cache/salon-voice/npm/axe-core-$axe_version"
if [ ! -f "$axe_dir/node_modules/axe-core/axe.min.js" ]; then
  echo "==> installing axe-core $axe_version into $axe_dir"
  mkdir -p "$axe_dir"
  npm install --prefix "$axe_dir" --no-save --no-audit --no-fund "axe-core@$axe_version" >/dev/null
fi
export AXE_CORE_JS="$axe_dir/node_modules/axe-core/axe.min.js"

echo "==> template.yaml (cfn-lint, sam validate --lint)"
scripts/lint-template.sh
echo "==> scripts/deploy.sh (credentials first, stack names, one-secret changes)"
scripts/tests/deploy.sh

echo "==> infra/Dockerfile (hadolint, what .dockerignore lets into the build context)"
scripts/lint-dockerfile.sh

echo "==> cargo fmt"
cargo fmt --all -- --check
cargo fmt --manifest-path scripts/fuzz/Cargo.toml -- --check
echo "==> cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "==> tests"
# nextest runs each test in its own process (a panic or a stuck server stays in its test) and
# ends with one summary line; doc tests are none yet.
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --locked --no-fail-fast
else
  cargo test --workspace --all-targets --locked --no-fail-fast
fi

echo "==> fuzz (${FUZZ_SECONDS:-10}s per target)"
# A short coverage-guided run of every fuzz target (its own instrumented build, kept in
# ~/.cache/salon-voice/fuzz-target); `scripts/fuzz.sh 600 TARGET` for a long one.
scripts/fuzz.sh "${FUZZ_SECONDS:-10}"
