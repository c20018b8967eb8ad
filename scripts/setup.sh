#!/usr/bin/env bash
# scripts/setup.sh — install everything Haoyuan's build and tests need on a fresh
# Debian 12 machine (root, Rust via rustup, Node 20 + npm, python3 already present).
#
# Idempotent and fast on a machine that already has everything: every step checks
# first and prints one line saying whether it did something or skipped.
#
#   - the wasm32-unknown-unknown Rust target;
#   - wasm-bindgen-cli at exactly the version of `wasm-bindgen` in Cargo.lock;
#   - geckodriver (cargo install; drives Firefox ESR in tests/e2e/firefox.test.mjs);
#   - Debian packages chromium, firefox-esr and a CJK font (fonts-wqy-microhei);
#   - the npm dependencies (npm ci) when node_modules is missing or stale;
#   - the Python package aiosmtpd (the real SMTP server of tests/smtp/smtpd.py).
#
# Works from any working directory. Sourcing it (`. scripts/setup.sh`) only defines
# the functions, which is how its parsing and skip logic are tested in isolation.
set -euo pipefail

# geckodriver release known to build with this toolchain (installed --locked so its
# own Cargo.lock, not whatever is newest on crates.io, decides its dependencies).
GECKODRIVER_VERSION="${GECKODRIVER_VERSION:-0.37.1}"
# The fonts after the first three are test inputs of the font decoder (typefaces it has
# never seen: tests/fontdecode.rs); nothing of them is bundled.
APT_PACKAGES=(chromium firefox-esr fonts-wqy-microhei fonts-dejavu-extra fonts-liberation fonts-liberation2 fonts-noto-core fonts-freefont-ttf fonts-urw-base35 fonts-crosextra-carlito fonts-crosextra-caladea)

say() { printf 'setup: %s\n' "$*"; }

# lock_version NAME [LOCKFILE] — print the version of package NAME recorded in a
# Cargo.lock (the first [[package]] entry whose name is exactly NAME). Fails if absent.
lock_version() {
    local name="$1" lock="${2:-Cargo.lock}"
    awk -v want="$name" '
        /^\[\[package\]\]/ { inpkg = 1; name = ""; next }
        inpkg && /^name = / { gsub(/^name = "|"$/, ""); name = $0; next }
        inpkg && /^version = / && name == want {
            gsub(/^version = "|"$/, ""); print; found = 1; exit
        }
        END { exit found ? 0 : 1 }
    ' "$lock"
}

# installed_wasm_bindgen_version — version of the wasm-bindgen CLI on PATH, or nothing.
installed_wasm_bindgen_version() {
    command -v wasm-bindgen >/dev/null 2>&1 || return 0
    wasm-bindgen --version 2>/dev/null | awk '{ print $2; exit }'
}

# apt_missing PKG... — print the packages of the list that dpkg does not have installed.
apt_missing() {
    local pkg
    for pkg in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
            printf '%s\n' "$pkg"
        fi
    done
}

# npm_needs_ci [DIR] — succeed when DIR (default .) needs `npm ci`: a package-lock.json
# exists and node_modules is missing or older than it.
npm_needs_ci() {
    local dir="${1:-.}"
    [[ -f "$dir/package-lock.json" ]] || return 1
    [[ -f "$dir/node_modules/.package-lock.json" ]] || return 0
    [[ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]]
}

step_wasm_target() {
    if rustup target list --installed | grep -qx 'wasm32-unknown-unknown'; then
        say "rust target wasm32-unknown-unknown: present, skipped"
    else
        say "rust target wasm32-unknown-unknown: adding"
        rustup target add wasm32-unknown-unknown
    fi
}

step_wasm_bindgen() {
    local want have
    want="$(lock_version wasm-bindgen Cargo.lock)" || {
        echo "setup: no wasm-bindgen entry in Cargo.lock; run 'cargo generate-lockfile' first" >&2
        return 1
    }
    have="$(installed_wasm_bindgen_version)"
    if [[ "$have" == "$want" ]]; then
        say "wasm-bindgen-cli $want: present, skipped"
    else
        say "wasm-bindgen-cli $want: installing (found '${have:-none}')"
        cargo install wasm-bindgen-cli --version "$want" --force
    fi
}

step_geckodriver() {
    if command -v geckodriver >/dev/null 2>&1; then
        say "geckodriver: present ($(geckodriver --version 2>/dev/null | head -n1)), skipped"
    else
        say "geckodriver $GECKODRIVER_VERSION: installing (cargo install, takes a few minutes)"
        cargo install geckodriver --version "$GECKODRIVER_VERSION" --locked
    fi
}

step_apt() {
    local missing
    missing="$(apt_missing "${APT_PACKAGES[@]}")"
    if [[ -z "$missing" ]]; then
        say "apt ${APT_PACKAGES[*]}: present, skipped"
    else
        # shellcheck disable=SC2086  # one package per word
        say "apt: installing $(echo $missing)"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -q
        # shellcheck disable=SC2086
        apt-get install -y -q $missing
    fi
}

step_npm() {
    if [[ ! -f package.json ]]; then
        say "npm ci: no package.json, skipped"
    elif npm_needs_ci .; then
        say "npm ci: installing node_modules"
        npm ci --no-audit --no-fund
    else
        say "npm ci: node_modules up to date, skipped"
    fi
}

step_aiosmtpd() {
    if python3 -c 'import aiosmtpd' >/dev/null 2>&1; then
        say "python aiosmtpd: present, skipped"
    else
        say "python aiosmtpd: installing (pip)"
        # A Debian system python refuses plain pip installs (PEP 668); ours is a
        # private test dependency, so fall back to --break-system-packages there.
        python3 -m pip install --quiet aiosmtpd 2>/dev/null \
            || python3 -m pip install --quiet --break-system-packages aiosmtpd
    fi
}

main() {
    cd "$(dirname "${BASH_SOURCE[0]}")/.."
    # rustup's and cargo install's binaries, also when the caller's PATH lacks them.
    export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
    step_wasm_target
    step_wasm_bindgen
    step_geckodriver
    step_apt
    step_npm
    step_aiosmtpd
    say "done"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    main "$@"
fi
