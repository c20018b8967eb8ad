#!/usr/bin/env bash
# scripts/build.sh — builds everything the browsers load, in one command:
#   dist/chrome/  dist/firefox/          unpacked extensions (load these)
#   dist/haoyuan-chrome.zip  dist/haoyuan-firefox.zip
#   target/debug/haoyuan-host            the native host (HAOYUAN_HOST_PROFILE=release for a
#                                        release build; HAOYUAN_BUILD_HOST=0 skips it)
#   target/debug/haoyuan-sandbox         the simulated platforms the demo and tests use
#
# Steps: cargo build the core for wasm32 (profile wasm-release) → wasm-bindgen --target web
# (the exact version pinned in Cargo.lock) → wasm-opt -Oz (npm binaryen) → per browser:
# the sources, the browser's platform shim, the wasm package and the rendered manifest →
# zip. Expects `npm ci` to have been run (scripts/setup.sh does it).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

die() { echo "build.sh: $*" >&2; exit 1; }
step() { echo "==> $*"; }

# ---- tools -------------------------------------------------------------------------------
[ -x node_modules/.bin/wasm-opt ] || die "node_modules is missing (no node_modules/.bin/wasm-opt): run \`npm ci\` (or scripts/setup.sh) first"
command -v node >/dev/null || die "node is not installed"
command -v python3 >/dev/null || die "python3 is needed to write the zip files"
command -v wasm-bindgen >/dev/null || die "wasm-bindgen is not installed: run scripts/setup.sh (cargo install wasm-bindgen-cli --version <Cargo.lock's>)"

pinned="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)"
[ -n "$pinned" ] || die "wasm-bindgen is not in Cargo.lock"
installed="$(wasm-bindgen --version | awk '{ print $2 }')"
[ "$installed" = "$pinned" ] || die "wasm-bindgen-cli is $installed but Cargo.lock pins wasm-bindgen $pinned; install the same version: cargo install wasm-bindgen-cli --version $pinned (or run scripts/setup.sh)"

# ---- wasm core -----------------------------------------------------------------------------
step "cargo build haoyuan-core (wasm32, wasm-release)"
cargo build -p haoyuan-core --target wasm32-unknown-unknown --profile wasm-release
wasm="target/wasm32-unknown-unknown/wasm-release/haoyuan_core.wasm"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
step "wasm-bindgen $installed --target web"
wasm-bindgen --target web --no-typescript --out-dir "$tmp/pkg" "$wasm"
step "wasm-opt -Oz"
# --converge: repeat -Oz until it stops shrinking. The producers/target_features sections
# are for tools. (Not --low-memory-unused: Rust's stack lives below 1 MiB and grows toward
# address 0, so "low memory is never used" is not guaranteed.)
node_modules/.bin/wasm-opt -Oz --converge --strip-producers --strip-target-features \
  "$tmp/pkg/haoyuan_core_bg.wasm" -o "$tmp/pkg/haoyuan_core_bg.opt.wasm"
mv "$tmp/pkg/haoyuan_core_bg.opt.wasm" "$tmp/pkg/haoyuan_core_bg.wasm"

# ---- extensions ----------------------------------------------------------------------------
mkdir -p dist
for browser in chrome firefox; do
  step "dist/$browser"
  out="dist/$browser"
  rm -rf "$out"
  mkdir -p "$out/pkg"
  cp -R extension/src/. "$out/"
  cp "extension/platform/$browser/platform.js" "$out/platform.js"
  cp "$tmp/pkg/haoyuan_core.js" "$tmp/pkg/haoyuan_core_bg.wasm" "$out/pkg/"
  node extension/tools/render-manifest.mjs "$browser" "$out/manifest.json"
  python3 - "$out" "dist/haoyuan-$browser.zip" <<'PY'
import os, sys, zipfile
src, dst = sys.argv[1], sys.argv[2]
tmp = dst + ".part"
with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
    for dirpath, dirnames, filenames in os.walk(src):
        dirnames.sort()
        for name in sorted(filenames):
            path = os.path.join(dirpath, name)
            info = zipfile.ZipInfo(os.path.relpath(path, src), date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            with open(path, "rb") as f:
                z.writestr(info, f.read())
os.replace(tmp, dst)
PY
done

# ---- native host ---------------------------------------------------------------------------
if [ "${HAOYUAN_BUILD_HOST:-1}" = 0 ]; then
  step "haoyuan-host skipped (HAOYUAN_BUILD_HOST=0)"
elif [ "${HAOYUAN_HOST_PROFILE:-debug}" = release ]; then
  step "cargo build haoyuan-host haoyuan-sandbox (release)"
  cargo build -p haoyuan-host -p haoyuan-sandbox --release
else
  step "cargo build haoyuan-host haoyuan-sandbox"
  cargo build -p haoyuan-host -p haoyuan-sandbox
fi

wasm_size=$(wc -c < dist/chrome/pkg/haoyuan_core_bg.wasm)
js_size=$(wc -c < dist/chrome/pkg/haoyuan_core.js)
gz_size=$(cat dist/chrome/pkg/haoyuan_core_bg.wasm dist/chrome/pkg/haoyuan_core.js | gzip -9 | wc -c)
echo "built: dist/chrome dist/firefox dist/haoyuan-chrome.zip dist/haoyuan-firefox.zip"
echo "wasm ${wasm_size} B, JS glue ${js_size} B, both gzipped ${gz_size} B"
