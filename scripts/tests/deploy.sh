#!/usr/bin/env bash
# Drives scripts/deploy.sh as an operator would, on a copy of the repository's deploy files,
# with stand-ins only for what cannot run here: `sam` itself (it would build for minutes and
# reach AWS) and cargo-lambda. The credential check is real: boto3 from the pinned SAM CLI's
# environment, against moto's STS on loopback or against no credentials at all.
#
# Checks: no credentials fail in seconds, before the build and before any question; a guided
# staging deploy defaults to its own stack name; a later deploy that changes one secret is not
# guided and names only that parameter; the closing summary prints what to paste where.
#
# Usage: scripts/tests/deploy.sh   (part of scripts/test.sh; needs the SAM and moto venvs)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
venvs="${SALON_VENVS:-$HOME/.cache/salon-voice/venvs}"
real_sam_venv="$venvs/sam"
moto_python="${MOTO_PYTHON:-$venvs/moto/bin/python}"

work=$(mktemp -d)
moto_pid=""
cleanup() {
  [ -z "$moto_pid" ] || kill "$moto_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "deploy.sh test: $*" >&2
  exit 1
}

# --- a copy of what deploy.sh reads (never the developer's own samconfig.toml) --------------
repo="$work/repo"
mkdir -p "$repo/scripts/requirements"
cp "$root/scripts/deploy.sh" "$root/scripts/lint-template.sh" "$repo/scripts/"
cp "$root/scripts/requirements/sam.txt" "$repo/scripts/requirements/"
cp "$root/template.yaml" "$repo/"

# --- the SAM environment: the real Python and cfn-lint, a `sam` that records its calls -------
fake_venv="$work/venvs/sam"
mkdir -p "$fake_venv/bin"
for tool in python cfn-lint; do
  printf '#!/bin/sh\nexec "%s" "$@"\n' "$real_sam_venv/bin/$tool" >"$fake_venv/bin/$tool"
done
cat >"$fake_venv/bin/sam" <<'SAM'
#!/bin/sh
# Records each call; `deploy` saves its settings as the real one does; outputs are canned.
echo "$*" >>"$SAM_LOG"
case "$1" in
  deploy)
    env=default stack=""
    while [ $# -gt 0 ]; do
      case "$1" in
        --config-env) env=$2 ;;
        --stack-name) stack=$2 ;;
      esac
      shift
    done
    if [ -n "$stack" ]; then
      printf 'version = 0.1\n[%s.deploy.parameters]\nstack_name = "%s"\nregion = "eu-central-1"\n' \
        "$env" "$stack" >samconfig.toml
    fi
    ;;
  list)
    cat <<'JSON'
[{"OutputKey": "VoiceWebhookUrl", "OutputValue": "https://api.example/api/twilio/voice"},
 {"OutputKey": "StatusCallbackUrl", "OutputValue": "https://api.example/api/twilio/status"},
 {"OutputKey": "FunctionsUrl", "OutputValue": "https://api.example"},
 {"OutputKey": "TableName", "OutputValue": "salon-table"}]
JSON
    ;;
esac
SAM
chmod +x "$fake_venv/bin/"*
cp "$repo/scripts/requirements/sam.txt" "$fake_venv/.requirements"

# --- cargo-lambda and rustup, as installed ----------------------------------------------------
bin="$work/bin"
mkdir -p "$bin"
cat >"$bin/cargo" <<'CARGO'
#!/bin/sh
[ "$1 $2" = "lambda --version" ] && { echo "cargo-lambda 1.9.2"; exit 0; }
echo "cargo $*" >>"$SAM_LOG"
exit 1
CARGO
cat >"$bin/rustup" <<'RUSTUP'
#!/bin/sh
echo aarch64-unknown-linux-gnu
RUSTUP
chmod +x "$bin/"*

export SAM_LOG="$work/sam.log"
: >"$SAM_LOG"
run_deploy() {
  env -u AWS_PROFILE -u AWS_DEFAULT_PROFILE -u AWS_SESSION_TOKEN -u AWS_REGION \
    -u AWS_DEFAULT_REGION -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY \
    AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
    AWS_EC2_METADATA_DISABLED=true SALON_VENVS="$work/venvs" PATH="$bin:$PATH" \
    "$@" </dev/null
}

# 1. No credentials: a clear message in seconds, nothing built or asked.
started=$SECONDS
if run_deploy "$repo/scripts/deploy.sh" >"$work/out1" 2>&1; then
  fail "deployed without credentials: $(cat "$work/out1")"
fi
grep -q "no usable AWS credentials" "$work/out1" || fail "no credential message: $(cat "$work/out1")"
grep -q "Nothing was built or deployed" "$work/out1" || fail "$(cat "$work/out1")"
[ ! -s "$SAM_LOG" ] || fail "sam ran before the credential check: $(cat "$SAM_LOG")"
[ $((SECONDS - started)) -lt 60 ] || fail "the credential check took $((SECONDS - started)) s"
echo "ok: no credentials, refused before the build ($((SECONDS - started)) s)"

# 2. Credentials (moto's STS): a guided staging deploy builds, then defaults to its own stack.
coproc MOTO { exec "$moto_python" "$root/scripts/moto_serial.py" 2>/dev/null; }
moto_pid=$MOTO_PID
read -r port <&"${MOTO[0]}"
creds=(AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
  AWS_ENDPOINT_URL_STS="http://127.0.0.1:$port")
run_deploy env "${creds[@]}" "$repo/scripts/deploy.sh" --config-env staging --guided \
  >"$work/out2" 2>&1 || fail "guided deploy failed: $(cat "$work/out2")"
grep -q "deploying to account 123456789012" "$work/out2" || fail "$(cat "$work/out2")"
grep -q "^build " "$SAM_LOG" || fail "no sam build: $(cat "$SAM_LOG")"
grep -q -- "^deploy --guided --config-env staging --stack-name salon-voice-staging" "$SAM_LOG" ||
  fail "staging's guided deploy did not default to its own stack: $(cat "$SAM_LOG")"
grep -q "FUNCTIONS_URL=https://api.example" "$work/out2" || fail "no summary: $(cat "$work/out2")"
echo "ok: guided staging deploy defaults to stack salon-voice-staging"

# 3. Changing one secret later: not guided, only that parameter named, the rest kept.
: >"$SAM_LOG"
run_deploy env "${creds[@]}" "$repo/scripts/deploy.sh" --config-env staging -- \
  --parameter-overrides RelaySecret=new-secret-0123456789abcdef0123456789 \
  >"$work/out3" 2>&1 || fail "second deploy failed: $(cat "$work/out3")"
deploy_line=$(grep "^deploy " "$SAM_LOG") || fail "no deploy: $(cat "$SAM_LOG")"
case "$deploy_line" in
  *--guided*) fail "asked for every secret again: $deploy_line" ;;
  *"--config-env staging"*"--parameter-overrides RelaySecret="*) ;;
  *) fail "unexpected deploy: $deploy_line" ;;
esac
echo "ok: one secret changed without a guided run"
echo "deploy.sh: all three checks passed"
