#!/usr/bin/env bash
# Checks template.yaml offline: cfn-lint, `sam validate --lint`, and the SAM transform followed
# by a dependency-cycle check (neither linter looks for cycles through SAM resources, and
# CloudFormation only finds them at deploy time). Any finding fails the run.
#
# The tools live in their own virtual environment, pinned by scripts/requirements/sam.txt and
# rebuilt only when that file changes. Nothing here talks to AWS: the commands get a fixed
# region, dummy credentials, no profile, and no instance-metadata look-ups.
#
# Usage: scripts/lint-template.sh [TEMPLATE]   (default: template.yaml at the repository root)
set -euo pipefail
cd "$(dirname "$0")/.."

template="${1:-template.yaml}"
req="scripts/requirements/sam.txt"
venv="${SALON_VENVS:-$HOME/.cache/salon-voice/venvs}/sam"

# --- the virtual environment, reused while the pinned requirements are unchanged ----------
if [ -x "$venv/bin/sam" ] && [ -x "$venv/bin/cfn-lint" ] && cmp -s "$req" "$venv/.requirements"; then
  :
else
  echo "==> installing SAM CLI and cfn-lint into $venv (a few minutes the first time)"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req"
  # Written last: an interrupted install leaves no stamp and is redone next time.
  cp "$req" "$venv/.requirements"
fi

# --- an offline environment for the tools --------------------------------------------------
# A SAM CLI home of our own: telemetry off, and the weekly "newer version?" look-up marked as
# done far in the future, so sam neither phones home nor touches the user's ~/.aws-sam. (The
# time must be written as a float: sam ignores an integer there and checks again.)
sam_home="$venv/sam-home"
mkdir -p "$sam_home"
printf '{"telemetryEnabled": false, "lastVersionCheck": 4102444800.0}\n' >"$sam_home/metadata.json"

offline=(
  env -u AWS_PROFILE -u AWS_DEFAULT_PROFILE -u AWS_SESSION_TOKEN -u AWS_SECURITY_TOKEN
  AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-eu-central-1}"
  AWS_REGION="${AWS_DEFAULT_REGION:-eu-central-1}"
  AWS_ACCESS_KEY_ID=lint-offline
  AWS_SECRET_ACCESS_KEY=lint-offline
  AWS_CONFIG_FILE=/dev/null
  AWS_SHARED_CREDENTIALS_FILE=/dev/null
  AWS_EC2_METADATA_DISABLED=true
  SAM_CLI_TELEMETRY=0
  __SAM_CLI_APP_DIR="$sam_home"
)

echo "==> cfn-lint $template"
"${offline[@]}" "$venv/bin/cfn-lint" --non-zero-exit-code informational -- "$template"

echo "==> sam validate --lint"
"${offline[@]}" "$venv/bin/sam" validate --lint --template-file "$template"

echo "==> SAM transform and dependency cycles"
# The SAM transform as `sam validate` runs it, then cfn-lint's cycle rule (E3004) on the
# plain CloudFormation that comes out. The managed-policy loader refuses to run: the template
# must not need IAM to be expanded.
"${offline[@]}" "$venv/bin/python" - "$template" <<'PY'
import sys

from cfnlint.api import ManualArgs, lint
from samcli.commands.validate.lib.exceptions import InvalidSamDocumentException
from samcli.lib.translate.sam_template_validator import SamTemplateValidator
from samcli.yamlhelper import yaml_parse


class OfflinePolicyLoader:
    def load(self):
        raise SystemExit("the SAM transform wants IAM's list of managed policies: use policy ARNs or inline statements")


path = sys.argv[1]
with open(path, encoding="utf-8") as f:
    sam = yaml_parse(f.read())
try:
    translated = SamTemplateValidator(sam, OfflinePolicyLoader()).get_translated_template_if_valid()
except InvalidSamDocumentException as e:
    sys.exit(f"{path}: the SAM transform refuses it: {e}")
cycles = [m for m in lint(translated, config=ManualArgs()) if m.rule.id == "E3004"]
for m in cycles:
    print(f"{path}: after the SAM transform: {m.message}", file=sys.stderr)
if cycles:
    sys.exit(1)
print(f"{path}: transforms cleanly, no dependency cycles")
PY

echo "==> template OK"
