#!/usr/bin/env bash
# Fetches the rasa-webchat widget from the npm registry and keeps its browser bundle.
# usage: scripts/fetch_webchat.sh VERSION TARGET.js
set -euo pipefail
version=$1 target=$2
if ! command -v npm >/dev/null 2>&1; then
  echo "error: npm is needed to fetch the web chat widget (Debian/Ubuntu: sudo apt-get install npm)" >&2
  exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The published bundle is self-contained; its npm dependencies are only for building it.
(cd "$work" && npm pack --silent "rasa-webchat@$version" >/dev/null)
tar -xzf "$work/rasa-webchat-$version.tgz" -C "$work" package/lib/index.js package/LICENSE
mkdir -p "$(dirname "$target")"
cp "$work/package/LICENSE" "$(dirname "$target")/rasa-webchat-LICENSE"
cp "$work/package/lib/index.js" "$target.partial"
mv "$target.partial" "$target"
echo "web chat widget: rasa-webchat $version"
