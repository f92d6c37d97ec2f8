#!/usr/bin/env bash
# Runs a build command with the current commit written into Sources/gridcast/BuildCommit.swift, so that
# `gridcast --version` names it, and puts the file back afterwards (also when the command fails):
#   scripts/with-commit.sh swift build -c release
# Needs only git and the checkout, no network. Outside a git checkout the commit stays unknown.
set -euo pipefail
cd "$(dirname "$0")/.."
file=Sources/gridcast/BuildCommit.swift
commit=$(git describe --always --dirty --abbrev=12 2>/dev/null || true)
if [ -z "$commit" ]; then
    exec "$@"
fi
saved=$(mktemp)
cp "$file" "$saved"
trap 'cp "$saved" "$file"; rm -f "$saved"' EXIT
cat >"$file" <<SWIFT
/// The commit this binary was built from; \`scripts/with-commit.sh\` fills it in for a release build and puts this
/// file back afterwards, so the repository always holds \`nil\`.
let buildCommit: String? = "$commit"
SWIFT
"$@"
