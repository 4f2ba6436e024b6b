#!/usr/bin/env bash
# Builds both functions for arm64 as scripts/deploy.sh does (`sam build`: cargo-lambda with
# Zig, release, one `bootstrap` per function), checks that each bootstrap is an aarch64 ELF,
# then runs the Lambda runtime test (functions/api/tests/lambda) on those bootstraps under
# qemu-user: the artefacts SAM would upload start, and answer API Gateway events, inside the
# Lambda runtime protocol.
#
# Installs what it needs: the Rust target aarch64-unknown-linux-gnu; Debian's
# qemu-user-static and the arm64 C library (apt-get, as root or through sudo); cargo-lambda and
# Zig from PyPI, pinned by scripts/requirements/cargo-lambda.txt, and moto for the test, each in
# its own virtual environment; the pinned SAM CLI (through scripts/lint-template.sh, which also
# lints the template). A cold run builds for several minutes.
#
# Usage: scripts/lambda-arm64.sh
set -euo pipefail
cd "$(dirname "$0")/.."

started=$SECONDS
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/salon-voice/target}"
venvs="${SALON_VENVS:-$HOME/.cache/salon-voice/venvs}"
build_dir=.aws-sam/build
# Where Debian's arm64 cross C library lives: qemu-user finds the bootstraps' dynamic loader
# and libc under it.
arm64_root=/usr/aarch64-linux-gnu
# provided.al2023's C library. Debian's is newer, so a bootstrap needing more would run here
# and fail to load in Lambda: its symbol versions are checked instead.
lambda_glibc=2.34

need() {
  command -v "$1" >/dev/null 2>&1 || { echo "lambda-arm64.sh: $1 is required: $2" >&2; exit 1; }
}
need python3 "the SAM CLI, cargo-lambda and moto install into virtual environments"
need cargo "a Rust toolchain"
need rustup "to add the Rust target aarch64-unknown-linux-gnu"

# ensure_venv NAME MODULE_OR_COMMAND: a virtual environment with
# scripts/requirements/NAME.txt installed, reused while that file is unchanged.
ensure_venv() {
  local name=$1 check=$2 dir="$venvs/$1" req="scripts/requirements/$1.txt"
  if [ -x "$dir/bin/python" ] && cmp -s "$req" "$dir/.requirements" && [ -e "$dir/bin/$check" ]; then
    return
  fi
  echo "==> installing $name into $dir"
  rm -rf "$dir"
  python3 -m venv "$dir"
  "$dir/bin/pip" install --quiet --disable-pip-version-check -r "$req"
  # Written last: an interrupted install leaves no stamp and is redone next time.
  cp "$req" "$dir/.requirements"
}

# --- tools ------------------------------------------------------------------------------------
if ! rustup target list --installed | grep -qx aarch64-unknown-linux-gnu; then
  echo "==> adding the Rust target aarch64-unknown-linux-gnu (the functions run on Graviton)"
  rustup target add aarch64-unknown-linux-gnu
fi

packages=()
command -v qemu-aarch64-static >/dev/null 2>&1 || packages+=(qemu-user-static)
[ -e "$arm64_root/lib/ld-linux-aarch64.so.1" ] || packages+=(libc6-arm64-cross)
command -v file >/dev/null 2>&1 || packages+=(file)
command -v readelf >/dev/null 2>&1 || packages+=(binutils)
if [ ${#packages[@]} -gt 0 ]; then
  echo "==> apt-get install ${packages[*]}"
  sudo=()
  [ "$(id -u)" = 0 ] || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null
fi

ensure_venv cargo-lambda cargo-lambda
# cargo-lambda finds Zig as `python3 -m ziglang` in its own environment.
export PATH="$venvs/cargo-lambda/bin:$PATH"
ensure_venv moto moto_server
export MOTO_PYTHON="$venvs/moto/bin/python"
echo "==> $(cargo lambda --version), zig $(python3 -m ziglang version), $(qemu-aarch64-static --version | head -1)"

# Installs the pinned SAM CLI on first use; the template must pass the offline lint first.
scripts/lint-template.sh

# --- build ------------------------------------------------------------------------------------
echo "==> sam build (cargo lambda build --release --arm64, one binary per function)"
build_started=$SECONDS
rm -rf "$build_dir"
# The SAM CLI home lint-template.sh prepared: telemetry off, no version check.
env SAM_CLI_TELEMETRY=0 __SAM_CLI_APP_DIR="$venvs/sam/sam-home" \
  AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-eu-central-1}" \
  "$venvs/sam/bin/sam" build --template-file template.yaml --build-in-source
echo "==> built in $((SECONDS - build_started)) s"

# --- the artefacts ------------------------------------------------------------------------------
for id in TwilioWebhooks RelayApi Console SmsSender; do
  bootstrap="$build_dir/$id/bootstrap"
  [ -x "$bootstrap" ] || { echo "lambda-arm64.sh: sam build left no $bootstrap" >&2; exit 1; }
  kind=$(file -b "$bootstrap")
  case "$kind" in
    *"ELF 64-bit"*"ARM aarch64"*) ;;
    *) echo "lambda-arm64.sh: $bootstrap is not an aarch64 ELF: $kind" >&2; exit 1 ;;
  esac
  glibc=$(readelf -W --version-info "$bootstrap" | grep -o 'GLIBC_[0-9.]*' | cut -d_ -f2 | sort -uV | tail -1)
  if [ "$(printf '%s\n' "$glibc" "$lambda_glibc" | sort -V | tail -1)" != "$lambda_glibc" ]; then
    echo "lambda-arm64.sh: $bootstrap needs glibc $glibc; provided.al2023 has $lambda_glibc" >&2
    exit 1
  fi
  printf '==> %-36s %6s KiB, needs glibc %s  %s\n' "$bootstrap" \
    "$(($(stat -c %s "$bootstrap") / 1024))" "$glibc" "$kind"
done

# --- the Lambda runtime test on them ------------------------------------------------------------
echo "==> the Lambda runtime test on the arm64 bootstraps (qemu-aarch64-static)"
export LAMBDA_BOOTSTRAP_DIR="$PWD/$build_dir" LAMBDA_RUNNER=qemu-aarch64-static QEMU_LD_PREFIX="$arm64_root"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run -p salon-functions --test lambda --locked --no-fail-fast
else
  cargo test -p salon-functions --test lambda --locked --no-fail-fast
fi
echo "==> done in $((SECONDS - started)) s"
