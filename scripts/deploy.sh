#!/usr/bin/env bash
# Builds both Lambda binaries for arm64 with cargo-lambda and deploys template.yaml with SAM,
# then prints the URLs to paste into Twilio's console and the relay's configuration.
#
# Usage: scripts/deploy.sh [--guided] [--config-env NAME] [-- EXTRA SAM DEPLOY ARGS...]
#
#   --guided          ask for every parameter again (also what happens the first time, when
#                     samconfig.toml has no deploy section for the config environment yet)
#   --config-env NAME samconfig.toml environment (default: "default"; e.g. "staging")
#
# Order: the tools, then the AWS credentials (the account they reach is printed), then the
# template lint, then the build (minutes), then the deploy. A missing tool or credential fails
# in seconds, before any build or question.
#
# The first (guided) run asks for the region, the stack name (default salon-voice, or
# salon-voice-NAME for --config-env NAME, so staging never lands on production), the
# parameters and the secrets, and saves everything except the secrets to samconfig.toml.
# Later runs are not guided: they reuse the saved answers, and CloudFormation keeps every
# parameter not named, secrets included. To change one secret (or any one parameter), name
# only that one; the others keep their values:
#   scripts/deploy.sh -- --parameter-overrides RelaySecret=NEW-VALUE
# (then give the relay the same value). Avoid --guided after the first run: it asks for every
# secret again.
#
# Needs: AWS credentials for the target account (AWS_PROFILE or the usual environment), Rust
# (rustup: the aarch64-unknown-linux-gnu target is added if missing) and python3. The pinned
# SAM CLI, cargo-lambda and Zig are installed into private virtual environments on first use.
set -euo pipefail
cd "$(dirname "$0")/.."

guided=false
config_env=default
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --guided) guided=true ;;
    --config-env)
      [ $# -ge 2 ] || { echo "deploy.sh: --config-env needs a name" >&2; exit 2; }
      config_env=$2
      shift
      ;;
    --) shift; extra=("$@"); break ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "deploy.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done

venv="${SALON_VENVS:-$HOME/.cache/salon-voice/venvs}/sam"
sam="$venv/bin/sam"
export SAM_CLI_TELEMETRY="${SAM_CLI_TELEMETRY:-0}"

# --- tools ----------------------------------------------------------------------------------
# cargo-lambda (with Zig, so no arm64 C toolchain is needed): the one on PATH, else the
# version pinned by scripts/requirements/cargo-lambda.txt in its own virtual environment.
if ! cargo lambda --version >/dev/null 2>&1; then
  cl_venv="${SALON_VENVS:-$HOME/.cache/salon-voice/venvs}/cargo-lambda"
  cl_req=scripts/requirements/cargo-lambda.txt
  if ! { [ -x "$cl_venv/bin/cargo-lambda" ] && cmp -s "$cl_req" "$cl_venv/.requirements"; }; then
    echo "==> installing cargo-lambda and Zig into $cl_venv (first run only)"
    rm -rf "$cl_venv"
    python3 -m venv "$cl_venv"
    "$cl_venv/bin/pip" install --quiet --disable-pip-version-check -r "$cl_req"
    cp "$cl_req" "$cl_venv/.requirements"
  fi
  export PATH="$cl_venv/bin:$PATH"
fi
echo "==> $(cargo lambda --version)"
if command -v rustup >/dev/null 2>&1 &&
  ! rustup target list --installed | grep -qx aarch64-unknown-linux-gnu; then
  echo "==> adding the Rust target aarch64-unknown-linux-gnu (the functions run on Graviton)"
  rustup target add aarch64-unknown-linux-gnu
fi

# The pinned SAM CLI, installed on first use (scripts/lint-template.sh owns its environment;
# the lint itself runs after the credential check).
if [ ! -x "$sam" ] || ! "$venv/bin/python" -c "import boto3" 2>/dev/null; then
  echo "==> installing the pinned SAM CLI (first run only)"
  scripts/lint-template.sh >/dev/null
fi

# samconfig_get KEY: KEY for `sam deploy` in this config environment, from samconfig.toml
# (the deploy section first, then the global one); empty when absent.
samconfig_get() {
  [ -f samconfig.toml ] || return 0
  "$venv/bin/python" - "$config_env" "$1" <<'PY'
import sys
import tomlkit  # a SAM CLI dependency: there on every Python SAM supports
with open("samconfig.toml", encoding="utf-8") as f:
    env = tomlkit.load(f).get(sys.argv[1], {})
for section in ("deploy", "global"):
    value = env.get(section, {}).get("parameters", {}).get(sys.argv[2])
    if value:
        print(value)
        break
PY
}

# --- credentials: checked before the build and before any question --------------------------
# The SAM CLI's environment carries boto3, so the AWS CLI is not needed for this. The region:
# samconfig.toml's for this environment, else the AWS environment's; STS answers in any
# region, so a first run with none set is checked against us-east-1.
check_region=$(samconfig_get region)
check_region=${check_region:-${AWS_REGION:-${AWS_DEFAULT_REGION:-}}}
# who_am_i REGION: the account and identity the credentials reach, or why none.
who_am_i() {
  "$venv/bin/python" - "$1" <<'PY'
import sys

import boto3

session = boto3.session.Session()
region = sys.argv[1] or session.region_name or "us-east-1"
try:
    who = session.client("sts", region_name=region).get_caller_identity()
except Exception as e:  # whatever it is, nothing is deployed: say why in one line
    sys.exit(f"{type(e).__name__}: {e}")
print(f"account {who['Account']} as {who['Arn']}")
PY
}
if ! account=$(who_am_i "$check_region" 2>&1); then
  cat >&2 <<EOF
deploy.sh: no usable AWS credentials (sts get-caller-identity failed):
  $account
Set AWS_PROFILE (after \`aws configure sso\` or \`aws configure\`), or AWS_ACCESS_KEY_ID and
AWS_SECRET_ACCESS_KEY, then run this again. Nothing was built or deployed.
EOF
  exit 1
fi
echo "==> deploying to $account"

# Refuses to deploy a template that fails the same offline checks CI runs.
scripts/lint-template.sh

# --- build ----------------------------------------------------------------------------------
# cargo-lambda builds each function's binary from the workspace root into the workspace's
# target directory (CARGO_TARGET_DIR if set), so the second function reuses the first one's
# dependencies; SAM copies each `bootstrap` into .aws-sam/build/.
echo "==> sam build (cargo lambda build --release --arm64, one binary per function)"
"$sam" build --template-file template.yaml --build-in-source

# --- deploy ---------------------------------------------------------------------------------
saved_stack=$(samconfig_get stack_name)
if [ "$guided" = false ] && [ -z "$saved_stack" ]; then
  echo "==> no saved deploy settings for config environment '$config_env': deploying guided"
  guided=true
fi
if [ "$guided" = true ]; then
  cat <<'EOF'
==> sam deploy --guided
    Secrets: TwilioAuthToken is in Twilio's console (Account > API keys & tokens);
    generate RelaySecret and StreamTokenSecret with `openssl rand -hex 32` and give the relay
    the same two values. Answer "y" to IAM role creation (each function gets its own role).
EOF
  # Each config environment has its own default stack name: accepting the default for
  # "staging" must not deploy over production's "salon-voice".
  default_stack=salon-voice
  [ "$config_env" = default ] || default_stack="salon-voice-$config_env"
  "$sam" deploy --guided --config-env "$config_env" --stack-name "${saved_stack:-$default_stack}" \
    ${extra[@]+"${extra[@]}"}
else
  echo "==> sam deploy (settings from samconfig.toml, environment '$config_env')"
  "$sam" deploy --config-env "$config_env" --no-fail-on-empty-changeset ${extra[@]+"${extra[@]}"}
fi

# --- what to paste where ----------------------------------------------------------------------
stack=$(samconfig_get stack_name)
region=$(samconfig_get region)
[ -n "$stack" ] || { echo "deploy.sh: no stack_name in samconfig.toml; cannot list outputs" >&2; exit 1; }
region_args=()
[ -z "$region" ] || region_args=(--region "$region")

echo "==> stack outputs ($stack${region:+, $region})"
"$sam" list stack-outputs --stack-name "$stack" ${region_args[@]+"${region_args[@]}"} --output json |
  "$venv/bin/python" -c '
import json, sys
out = {o["OutputKey"]: o["OutputValue"] for o in json.load(sys.stdin)}
print(f"""
Twilio console > Phone Numbers > Manage > Active numbers > (the salon number) > Voice:
  A call comes in       Webhook  {out["VoiceWebhookUrl"]}  HTTP POST
  Call status changes            {out["StatusCallbackUrl"]}  HTTP POST
  (Paste them exactly: Twilio signs the URL it calls, and the functions check that signature.)

Relay configuration:
  FUNCTIONS_URL={out["FunctionsUrl"]}
  RELAY_SECRET, STREAM_TOKEN_SECRET, TWILIO_AUTH_TOKEN: the values given to this stack
  RELAY_PUBLIC_URL: the same wss:// URL given to this stack

DynamoDB table: {out["TableName"]}
  Demo data: scripts/seed.sh +40XXXXXXXXX  (the Twilio number the salon answers on)

Owner console: {out.get("ConsoleUrl", "(in the stack outputs once deployed)")}
  First account: OWNER_PASSWORD=... scripts/seed.sh +40XXXXXXXXX -- --owner you@example.com
""")'
