#!/usr/bin/env bash
# Checks the relay's image without building it (these machines have no Docker engine and cannot
# pull base images): hadolint on infra/Dockerfile, where any finding fails the run, and the root
# .dockerignore evaluated with Docker's matching rules (the Docker SDK's implementation of them)
# against a tree of the repository's own files plus the ones that must never enter the build
# context: secrets, the local store and build output stay out; the workspace's manifests and
# sources, all that the build needs, go in.
#
# The tools live in their own virtual environment, pinned by scripts/requirements/hadolint.txt and
# rebuilt only when that file changes.
#
# Usage: scripts/lint-dockerfile.sh
set -euo pipefail
cd "$(dirname "$0")/.."

req="scripts/requirements/hadolint.txt"
venv="${SALON_VENVS:-$HOME/.cache/salon-voice/venvs}/hadolint"

# --- the virtual environment, reused while the pinned requirements are unchanged ----------
if [ -x "$venv/bin/hadolint" ] && cmp -s "$req" "$venv/.requirements" \
  && "$venv/bin/python" -c 'import docker.utils.build' 2>/dev/null; then
  :
else
  echo "==> installing hadolint and the Docker SDK into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req"
  # Written last: an interrupted install leaves no stamp and is redone next time.
  cp "$req" "$venv/.requirements"
fi

echo "==> hadolint infra/Dockerfile"
"$venv/bin/hadolint" --failure-threshold info infra/Dockerfile

echo "==> .dockerignore (what enters the build context)"
# The tree: every file git tracks, plus the files that must stay out, all empty (matching goes by
# path alone, so no real .env or store is ever read or copied).
tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
git ls-files -z | (cd "$tree" && xargs -0 -r sh -c 'for f; do mkdir -p "$(dirname "$f")" && : >"$f"; done' sh)
"$venv/bin/python" - "$tree" <<'PY'
import glob
import os
import sys
import tomllib

from docker.utils.build import exclude_paths

tree = sys.argv[1]

# What must never be sent to a builder: tokens, clients' data, build output, the repository.
secret = [
    ".env",  # scripts/local.sh makes it: real tokens
    ".env.local",
    ".env.production",
    "relay/.env",  # inside a directory the allow-list lets in
    "relay/src/.env",
    "functions/api/src/.env.local",
    "data/salon.redb",  # the local store (DATA_DIR, default data/): clients' names and numbers
    "data/calls/backup.db",
    "relay/src/salon.redb",
    "functions/store/src/local.db",
    "relay/src/agent.wav",  # a call's audio (DEMO_WAV)
    "target/release/relay",
    "relay/target/debug/relay",
    ".aws-sam/build/template.yaml",
    ".git/config",
    ".git/HEAD",
    "samconfig.toml",
]
# Files the image does not need: a change to them must not reach the build (nor its cache).
unneeded = ["README.md", "template.yaml", "scripts/local.sh", ".env.example", "infra/fly.toml"]

# What the build needs: the root manifest and lock file, and for every workspace member its
# manifest and every tracked file under its src/ (plus the relay's bench, which its manifest
# names). The members are read from the root Cargo.toml, so a new one must be let in too.
with open("Cargo.toml", "rb") as f:
    members = tomllib.load(f)["workspace"]["members"]
needed = {"Cargo.toml", "Cargo.lock"}
for pattern in members:
    for member in sorted(glob.glob(pattern)):
        needed.add(f"{member}/Cargo.toml")
        for d in ("src", "benches") if member == "relay" else ("src",):
            for root, _, files in os.walk(os.path.join(tree, member, d)):
                needed.update(os.path.relpath(os.path.join(root, name), tree) for name in files)

# Then the files that must stay out are added to the tree.
for path in secret:
    full = os.path.join(tree, path)
    os.makedirs(os.path.dirname(full) or tree, exist_ok=True)
    open(full, "w").close()

# .dockerignore's lines as Docker reads them (the SDK's own reading: comments and blanks dropped).
with open(".dockerignore", encoding="utf-8") as f:
    patterns = [line.strip() for line in f.read().splitlines()]
patterns = [p for p in patterns if p and not p.startswith("#")]
# Only the files: directories are listed too, and a directory's name is no content.
context = {
    p for p in exclude_paths(tree, patterns, dockerfile="infra/Dockerfile")
    if os.path.isfile(os.path.join(tree, p))
}

problems = []
problems += [f"{p} would enter the build context" for p in secret + unneeded if p in context]
problems += [f"{p} is needed by the build but left out" for p in sorted(needed - context)]
if os.path.exists("infra/Dockerfile.dockerignore"):
    problems.append("infra/Dockerfile.dockerignore exists: BuildKit would read it instead of .dockerignore")
for problem in problems:
    print(f".dockerignore: {problem}", file=sys.stderr)
if problems:
    sys.exit(1)
print(
    f".dockerignore: {len(context)} files in the context ({len(needed)} needed by the build), "
    f"{len(secret)} secret or data files and {len(unneeded)} unneeded ones kept out"
)
PY

echo "==> Dockerfile OK"
