#!/usr/bin/env bash
# Writes the demo salon into the deployed stack's DynamoDB table, answering on the given
# Twilio number.
#
# Usage: scripts/seed.sh +40XXXXXXXXX [--stack-name NAME] [--region REGION]
#                        [--config-env NAME] [-- EXTRA SEED ARGS...]
#
# The stack name and region default to what scripts/deploy.sh saved in samconfig.toml
# (config environment "default" unless --config-env says otherwise), then to deploy.sh's own
# default (salon-voice, or salon-voice-NAME for --config-env NAME) and the AWS environment's
# region. The table name comes from the stack's TableName output.
# Credentials: the usual AWS environment (AWS_PROFILE, ...), allowed to describe the stack and
# to write to the table.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

number=""
stack=""
region=""
config_env=default
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --stack-name | --region | --config-env)
      [ $# -ge 2 ] || { echo "seed.sh: $1 needs a value" >&2; exit 2; }
      case "$1" in
        --stack-name) stack=$2 ;;
        --region) region=$2 ;;
        --config-env) config_env=$2 ;;
      esac
      shift
      ;;
    --) shift; extra=("$@"); break ;;
    -h | --help) usage; exit 0 ;;
    -*) echo "seed.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
    *)
      [ -z "$number" ] || { echo "seed.sh: one phone number only" >&2; exit 2; }
      number=$1
      ;;
  esac
  shift
done

if [ -z "$number" ]; then
  usage >&2
  exit 2
fi
# E.164 as Twilio sends it in `To`: +40 then the 9 national digits, no spaces.
if ! [[ "$number" =~ ^\+40[0-9]{9}$ ]]; then
  echo "seed.sh: '$number' is not a Romanian number in E.164 form (+40 and 9 digits, e.g. +40312345678)" >&2
  exit 2
fi

sam_venv="${SALON_VENVS:-$HOME/.cache/salon-voice/venvs}/sam"

# samconfig_get KEY: KEY of `sam deploy` in this config environment (deploy section, then the
# global one); empty when samconfig.toml or the key is absent, or no TOML reader is at hand
# (the SAM CLI's environment has one; so does any python3 from 3.11 on).
samconfig_get() {
  [ -f samconfig.toml ] || return 0
  local python=python3
  [ ! -x "$sam_venv/bin/python" ] || python="$sam_venv/bin/python"
  "$python" - "$config_env" "$1" <<'PY'
import sys
try:
    import tomllib as toml
except ImportError:
    try:
        import tomlkit as toml
    except ImportError:
        sys.exit(0)
with open("samconfig.toml", "rb") as f:
    env = toml.loads(f.read().decode("utf-8")).get(sys.argv[1], {})
for section in ("deploy", "global"):
    value = env.get(section, {}).get("parameters", {}).get(sys.argv[2])
    if value:
        print(value)
        break
PY
}

stack=${stack:-$(samconfig_get stack_name)}
# The same default as scripts/deploy.sh: each config environment its own stack.
if [ -z "$stack" ]; then
  stack=salon-voice
  [ "$config_env" = default ] || stack="salon-voice-$config_env"
fi
region=${region:-$(samconfig_get region)}
if [ -n "$region" ]; then
  # The seed binary and the AWS CLI both read the region from the standard environment.
  export AWS_REGION="$region" AWS_DEFAULT_REGION="$region"
fi

# --- the table name, from the stack's outputs -----------------------------------------------
sam="$sam_venv/bin/sam"
if command -v aws >/dev/null 2>&1; then
  table=$(aws cloudformation describe-stacks --stack-name "$stack" \
    --query "Stacks[0].Outputs[?OutputKey=='TableName'].OutputValue" --output text)
elif [ -x "$sam" ]; then
  # No AWS CLI: the SAM CLI that scripts/deploy.sh installed can list the outputs too.
  table=$(SAM_CLI_TELEMETRY="${SAM_CLI_TELEMETRY:-0}" "$sam" list stack-outputs \
    --stack-name "$stack" --output json |
    python3 -c 'import json, sys; print(next(o["OutputValue"] for o in json.load(sys.stdin) if o["OutputKey"] == "TableName"))')
else
  echo "seed.sh: need the AWS CLI (aws) or the SAM CLI that scripts/deploy.sh installs, to read the stack's outputs" >&2
  exit 1
fi
if [ -z "$table" ] || [ "$table" = None ]; then
  echo "seed.sh: stack $stack has no TableName output (deployed with this repository's template.yaml?)" >&2
  exit 1
fi

echo "==> seeding the demo salon into $table (stack $stack${region:+, $region}) for $number"
cargo run --locked --quiet -p salon-functions --bin seed -- \
  --store dynamodb --table "$table" --number "$number" ${extra[@]+"${extra[@]}"}
echo "==> done: calls to $number now reach the demo salon"
