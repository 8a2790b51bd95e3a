#!/usr/bin/env bash
# The React tests on React 18 (the main run is React 19): a throwaway copy of the project whose
# react, react-dom and scheduler are React 18's, taken from the npm registry with `npm pack`.
# The copy's node_modules are hard links of ours, so nothing here changes this checkout.
set -euo pipefail
cd "$(dirname "$0")/.."
REACT18=${REACT18:-18.3.1}
SCHEDULER18=${SCHEDULER18:-0.23.2}
work=$(mktemp -d "${TMPDIR:-/tmp}/upload-lifecycle-react18.XXXXXX")
trap 'rm -rf "$work"' EXIT

git ls-files -z | xargs -0 cp --parents -t "$work"
cp -al node_modules "$work/node_modules"
rm -rf "$work/node_modules/.vite" "$work/node_modules/.vitest"
mkdir -p "$work/packs"
(cd "$work/packs" && npm pack --silent "react@$REACT18" "react-dom@$REACT18" "scheduler@$SCHEDULER18" >/dev/null)
for pkg in react react-dom scheduler; do
  rm -rf "$work/node_modules/$pkg"
  mkdir -p "$work/node_modules/$pkg"
  tar -xzf "$work"/packs/"$pkg"-[0-9]*.tgz -C "$work/node_modules/$pkg" --strip-components=1
done

cd "$work"
node -e "
const v = [require('react').version, require('react-dom').version];
if (!v.every((x) => x.startsWith('18.'))) { console.error('expected React 18, got', v); process.exit(1); }
console.log('React ' + v[0] + ', react-dom ' + v[1]);
"
EXPECT_REACT_MAJOR=18 npx vitest run test/react --reporter=default
