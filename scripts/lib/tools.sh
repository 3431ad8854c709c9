# shellcheck shell=bash
# Sourced by scripts/run and scripts/test: installs what the project needs, once.
# Everything goes under one user-local root, never into the repo or ~/.cargo/bin.

TOOLS_ROOT="${THEATER_CHAT_TOOLS:-${XDG_DATA_HOME:-$HOME/.local/share}/theater-chat/tools}"
export PATH="$TOOLS_ROOT/bin:$HOME/.cargo/bin:$PATH"

say() { printf '==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# ensure_crate CRATE VERSION BINARY MINUTES
ensure_crate() {
  local crate=$1 version=$2 binary=$3 minutes=$4
  if [ -x "$TOOLS_ROOT/bin/$binary" ] && "$TOOLS_ROOT/bin/$binary" --version 2>/dev/null | grep -q "$version"; then
    return 0
  fi
  say "installing $crate $version into $TOOLS_ROOT (compiles from source: about $minutes minutes on 2 cores, once)"
  # A shared target dir lets theater-cli and theater-server-cli reuse each other's build.
  cargo install --locked --root "$TOOLS_ROOT" --target-dir "$TOOLS_ROOT/build" "$crate@$version"
}

ensure_rust() {
  command -v cargo >/dev/null || die "cargo not found: install Rust with rustup first (https://rustup.rs)"
  command -v rustup >/dev/null || die "rustup not found: the wasm32 targets are added with rustup"
  # rust-toolchain.toml pins the toolchain; these add its targets if they are missing.
  rustup target add wasm32-unknown-unknown wasm32-wasip1 >/dev/null
  rustup component add rustfmt clippy >/dev/null
}

ensure_build_tools() {
  ensure_rust
  ensure_crate cargo-component 0.21.1 cargo-component 5
}

ensure_theater() {
  ensure_crate theater-server-cli 0.2.1 theater-server 20
  ensure_crate theater-cli 0.2.1 theater 20
}
