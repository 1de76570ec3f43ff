#!/usr/bin/env bash
# Rebuild the vendored GOV.UK Frontend under static/vendor/govuk-frontend from the pinned npm
# packages in frontend/package.json. Run this after changing the pin; commit the result.
# Node and npm are needed here only, never to run or test the portal.
set -euo pipefail
cd "$(dirname "$0")/../frontend"
npm install --no-audit --no-fund --silent
out=../static/vendor/govuk-frontend
rm -rf "$out"
mkdir -p "$out/assets"
npx sass --style=compressed --no-source-map --load-path=node_modules --quiet-deps \
  --silence-deprecation=import portal.scss "$out/govuk-frontend.min.css"
cp node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js "$out/"
cp -r node_modules/govuk-frontend/dist/govuk/assets/images "$out/assets/"
cp node_modules/govuk-frontend/dist/govuk/assets/manifest.json "$out/assets/"
echo "govuk-frontend $(node -p "require('govuk-frontend/package.json').version")" > "$out/VERSION"
echo "Built $out"
# axe-core, for the accessibility tests only (never served).
axe=../tests/vendor/axe-core
mkdir -p "$axe"
cp node_modules/axe-core/axe.min.js node_modules/axe-core/LICENSE "$axe/"
echo "axe-core $(node -p "require('axe-core/package.json').version")" > "$axe/VERSION"
