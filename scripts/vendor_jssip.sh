#!/usr/bin/env bash
# Fetch the pinned JsSIP release from the npm registry, check the tarball against the
# registry's sha512 integrity (and against the integrity pinned here), then write its
# browser build, licence and version to web/static/vendor/jssip/.
#
# Usage: scripts/vendor_jssip.sh
# To update: set JSSIP_VERSION and JSSIP_INTEGRITY (`npm view jssip@<v> dist.integrity`),
# run the script, run tests/e2e/test_web_phone.py, commit web/static/vendor/jssip/.
# 3.12.0 is pinned because it is the newest release whose npm package ships the prebuilt
# browser bundle (dist/jssip.min.js); 3.13.x ship only CommonJS and would need a bundler.
set -euo pipefail

JSSIP_VERSION="3.12.0"
JSSIP_INTEGRITY="sha512-WTmSQBUlrbMotV6hRqOvkJ/3HgyKUTzDz3QSnp7kzdAssSgmxL0MeIWX7lZtsOJkaWpeV3NI7JN9GMwsfsCoow=="

root="$(cd "$(dirname "$0")/.." && pwd)"
target="$root/web/static/vendor/jssip"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

registry_integrity="$(npm view "jssip@$JSSIP_VERSION" dist.integrity)"
if [ "$registry_integrity" != "$JSSIP_INTEGRITY" ]; then
	echo "the registry's integrity $registry_integrity differs from the pinned one" >&2
	exit 1
fi

(cd "$work" && npm pack --silent "jssip@$JSSIP_VERSION" >/dev/null)
tarball="$work/jssip-$JSSIP_VERSION.tgz"
actual="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
if [ "$actual" != "$JSSIP_INTEGRITY" ]; then
	echo "the tarball's integrity $actual differs from the pinned $JSSIP_INTEGRITY" >&2
	exit 1
fi

tar -xzf "$tarball" -C "$work"
mkdir -p "$target"
cp "$work/package/dist/jssip.min.js" "$target/jssip.min.js"
cp "$work/package/LICENSE" "$target/LICENSE"
printf 'jssip@%s from https://registry.npmjs.org/jssip/-/jssip-%s.tgz\n%s\n' \
	"$JSSIP_VERSION" "$JSSIP_VERSION" "$JSSIP_INTEGRITY" >"$target/VERSION"
echo "vendored jssip $JSSIP_VERSION into $target"
