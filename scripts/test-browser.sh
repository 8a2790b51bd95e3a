#!/usr/bin/env bash
# Browser tests: the Storybook stories run in Debian's Chromium, driven by playwright-core.
# Installs chromium with apt when it is missing (never downloads a browser any other way),
# builds Storybook offline, then runs vitest with vitest.browser.config.ts.
# Screenshots: test-results/browser/*.png.
#   SKIP_STORYBOOK_BUILD=1  reuse an existing storybook-static/
#   CHROMIUM_PATH=/path     use another Chromium binary
set -euo pipefail
cd "$(dirname "$0")/.."

CHROMIUM_PATH="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ ! -x "$CHROMIUM_PATH" ]; then
  echo "test-browser: installing chromium with apt" >&2
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq chromium >/dev/null
fi
export CHROMIUM_PATH

if [ "${SKIP_STORYBOOK_BUILD:-}" != "1" ]; then
  npx storybook build --quiet --output-dir storybook-static
fi

exec npx vitest run --config vitest.browser.config.ts "$@"
