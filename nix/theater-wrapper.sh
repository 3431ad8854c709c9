#!/usr/bin/env bash
# THEATER_CHAT_WRAPPER: `theater` as the original instructions use it. Theater 0.2.1's
# CLI has no `run` command; this wrapper adds it and hands every other command and flag,
# unchanged, to the real CLI.
#
#   theater run MANIFEST   start a theater-server (THEATER_HOME) unless one answers,
#                          start the actor, print its URL, keep memory and logs bounded,
#                          and stop what it started on Ctrl-C: the runner that `nix run`
#                          and `scripts/run` use (theater-chat, next to this file).
#
# The real CLI is $THEATER_CLI, or the next `theater` on PATH that is not a copy of
# this wrapper.
set -euo pipefail

self="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")"
runner="${THEATER_CHAT_RUNNER:-$(dirname "$self")/theater-chat}"

real_cli() {
  if [ -n "${THEATER_CLI:-}" ]; then
    printf '%s\n' "$THEATER_CLI"
    return 0
  fi
  local dir candidate
  local IFS=:
  for dir in $PATH; do
    candidate="$dir/theater"
    if [ ! -x "$candidate" ] || [ -d "$candidate" ]; then
      continue
    fi
    # Skip this file and any other copy of the wrapper.
    grep -q -F "THEATER_CHAT_WRAPPER" "$candidate" 2>/dev/null && continue
    printf '%s\n' "$candidate"
    return 0
  done
  echo "theater: Theater 0.2.1's CLI is not on PATH (set THEATER_CLI to its path)" >&2
  return 1
}

case "${1:-}" in
  run)
    shift
    if [ $# -lt 1 ] || [ "$1" = -h ] || [ "$1" = --help ]; then
      echo "usage: theater run MANIFEST   (see theater --help)" >&2
      [ $# -ge 1 ] && exit 0
      exit 2
    fi
    manifest="$1"
    [ -f "$manifest" ] || { echo "theater run: no manifest at $manifest" >&2; exit 1; }
    # The runner calls `theater` itself: make sure that is the real CLI or this wrapper.
    CHAT_MANIFEST="$(cd "$(dirname "$manifest")" && pwd)/$(basename "$manifest")" \
      PATH="$(dirname "$self"):$PATH" exec bash "$runner" serve
    ;;
  -h | --help | help | "")
    cat <<'HELP'
This `theater` is the chat actor's wrapper around Theater 0.2.1's CLI. Ours is one
command; everything else below is the real CLI's own help.

  theater run MANIFEST   start a theater-server (THEATER_HOME, default
                         ~/.local/state/theater-chat) unless one answers at
                         THEATER_SERVER_ADDRESS (default 127.0.0.1:9000), start the
                         actor, print its URL, keep memory and the log bounded
                         (CHAT_MEMORY_LIMIT_MIB, CHAT_LOG=full, ...: see the README),
                         and stop what it started on Ctrl-C.

HELP
    real="$(real_cli)" || exit 1
    exec "$real" --help
    ;;
  *)
    real="$(real_cli)" || exit 1
    exec "$real" "$@"
    ;;
esac
