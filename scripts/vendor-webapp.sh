#!/usr/bin/env bash
# Vendor the Mini App's one JavaScript dependency, @fluent/bundle (Fluent in the browser), from
# the npm registry into payments/miniapp/static/vendor/fluent-bundle/. The files are committed:
# the Mini App has no build step and loads nothing from a CDN. Re-run after changing VERSION
# (and INTEGRITY, from `npm view @fluent/bundle@<version> dist.integrity`).
set -euo pipefail

VERSION="0.19.1"
INTEGRITY="sha512-SWJLZrPamDPsJlFFOW1nkgN0j0rbPbmSdmK0XAoXlyqKieLtMVl4vzng3aR5pwKoUx0scug8+YY2oct3fdfy9A=="
REGISTRY="${NPM_REGISTRY:-https://registry.npmjs.org}"
TARBALL="$REGISTRY/@fluent/bundle/-/bundle-$VERSION.tgz"

root="$(cd "$(dirname "$0")/.." && pwd)"
target="$root/payments/miniapp/static/vendor/fluent-bundle"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

curl -fsSL "$TARBALL" -o "$work/bundle.tgz"
actual="sha512-$(openssl dgst -sha512 -binary "$work/bundle.tgz" | base64 -w0)"
if [[ "$actual" != "$INTEGRITY" ]]; then
    echo "vendor-webapp: $TARBALL does not match the pinned integrity" >&2
    echo "  expected $INTEGRITY" >&2
    echo "  got      $actual" >&2
    exit 1
fi
tar -xzf "$work/bundle.tgz" -C "$work"

# Keep the license (the npm package names Apache-2.0 but ships no LICENSE file).
license=""
if [[ -f "$target/LICENSE" ]]; then
    license="$(cat "$target/LICENSE")"
elif [[ -f /usr/share/common-licenses/Apache-2.0 ]]; then
    license="$(cat /usr/share/common-licenses/Apache-2.0)"
fi
rm -rf "$target"
mkdir -p "$target"
cp "$work"/package/esm/*.js "$target/"
cp "$work/package/package.json" "$work/package/README.md" "$target/"
if [[ -n "$license" ]]; then
    printf '%s\n' "$license" > "$target/LICENSE"
else
    echo "vendor-webapp: no Apache-2.0 text found; add $target/LICENSE by hand" >&2
fi
cat > "$target/VENDORED.md" <<NOTE
# @fluent/bundle $VERSION (vendored)

Copied by \`scripts/vendor-webapp.sh\` from the npm registry:
$TARBALL
($INTEGRITY). Only the ES modules (\`esm/*.js\`) are kept. Copyright Mozilla and the Fluent
contributors, licensed under the Apache License 2.0 (see LICENSE); https://projectfluent.org,
https://github.com/projectfluent/fluent.js. Not modified.
NOTE
echo "vendored @fluent/bundle $VERSION into ${target#"$root"/}"
