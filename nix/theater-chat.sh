# shellcheck shell=bash
# `nix run`: serve the chat actor from a Theater 0.2.1 server until Ctrl-C.
#
# The flake wraps this file with writeShellApplication, which puts theater,
# theater-server, curl, coreutils, grep and sed on PATH and sets CHAT_PACKAGE to the
# actor package in the Nix store. Outside Nix: CHAT_PACKAGE=target/package bash nix/theater-chat.sh
#
# Environment:
#   THEATER_HOME            server state (default: $XDG_STATE_HOME/theater-chat,
#                           i.e. ~/.local/state/theater-chat)
#   THEATER_SERVER_ADDRESS  server to use or start (default 127.0.0.1:9000)
#   CHAT_PORT               port for the chat page instead of the package's init.json one
#   OPENAI_API_KEY, OPENAI_BASE_URL
#                           read by the actor from the theater-server's environment: they
#                           pass through when this command starts the server
set -euo pipefail

say() { printf 'theater-chat: %s\n' "$*" >&2; }

package="${CHAT_PACKAGE:?CHAT_PACKAGE must name the actor package directory}"
manifest="$package/actor.portable.toml"
[ -f "$manifest" ] || {
  say "no actor manifest at $manifest"
  exit 1
}

export THEATER_HOME="${THEATER_HOME:-${XDG_STATE_HOME:-$HOME/.local/state}/theater-chat}"
export THEATER_SERVER_ADDRESS="${THEATER_SERVER_ADDRESS:-127.0.0.1:9000}"
mkdir -p "$THEATER_HOME"
server_log="$THEATER_HOME/theater-server.log"

# The chat page's address: init.json's host and port, or CHAT_PORT.
init_json="$package/assets/init.json"
json_field() { sed -n "s/.*\"$1\"[[:space:]]*:[[:space:]]*\"\{0,1\}\([^\",}]*\).*/\1/p" "$init_json" | head -n 1; }
host="$(json_field host)"
port="${CHAT_PORT:-$(json_field port)}"
host="${host:-127.0.0.1}"
port="${port:-8084}"
case "$port" in
  '' | *[!0-9]*)
    say "CHAT_PORT must be a port number, not '$port'"
    exit 2
    ;;
esac
url="http://$host:$port/"

server_pid=""
actor_id=""

cleanup() {
  trap - EXIT INT TERM
  if [ -n "$actor_id" ]; then
    say "stopping actor $actor_id"
    theater stop "$actor_id" >/dev/null 2>&1 || say "could not stop actor $actor_id (is the server gone?)"
  fi
  if [ -n "$server_pid" ]; then
    say "stopping the theater-server started here (pid $server_pid)"
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# `theater list` connects to its --address (default 127.0.0.1:9000) and ignores
# THEATER_SERVER_ADDRESS; `theater stop` is the other way round, so both are given. It
# waits forever on something that is not a theater-server, hence the timeout.
server_answers() { timeout 5 theater list --address "$THEATER_SERVER_ADDRESS" >/dev/null 2>&1; }

show_server_log() {
  [ -f "$server_log" ] || return 0
  # The server's own error line, if any, else the end of the log (without backtraces).
  if grep -q '^Error: ' "$server_log"; then
    say "$server_log says:"
    grep '^Error: ' "$server_log" | tail -n 3 >&2
  else
    say "last lines of $server_log:"
    tail -n 15 "$server_log" >&2
  fi
}

if server_answers; then
  say "using the theater-server already running at $THEATER_SERVER_ADDRESS"
  say "(the actor sees that server's environment for provider keys, not this shell's)"
else
  say "starting theater-server at $THEATER_SERVER_ADDRESS"
  say "  THEATER_HOME=$THEATER_HOME, log: $server_log"
  # Job control puts the server in its own process group, so Ctrl-C reaches only this
  # script, which then stops the actor before the server.
  set -m
  theater-server --log-stdout --address "$THEATER_SERVER_ADDRESS" >>"$server_log" 2>&1 &
  server_pid=$!
  set +m
  for _ in $(seq 1 60); do
    server_answers && break
    if ! kill -0 "$server_pid" 2>/dev/null; then
      server_pid=""
      say "theater-server exited at start (is $THEATER_SERVER_ADDRESS in use by something else?)"
      show_server_log
      exit 1
    fi
    sleep 0.5
  done
  if ! server_answers; then
    say "theater-server did not answer at $THEATER_SERVER_ADDRESS within 30 s"
    show_server_log
    exit 1
  fi
fi

if curl -s -o /dev/null --max-time 2 "$url" 2>/dev/null; then
  say "something already answers at $url (another chat actor?)."
  say "Stop it (theater list / theater stop ID) or pick another port: CHAT_PORT=8090 nix run"
  exit 1
fi

start_args=(start "$manifest" --id-only --address "$THEATER_SERVER_ADDRESS")
if [ -n "${CHAT_PORT:-}" ]; then
  start_args+=(--initial-state "{\"port\": $port}")
fi
start_err="$THEATER_HOME/theater-start.err"
if ! started="$(theater "${start_args[@]}" 2>"$start_err")"; then
  say "theater start failed:"
  cat "$start_err" >&2
  show_server_log
  exit 1
fi
actor_id="$(printf '%s\n' "$started" | tail -n 1 | tr -d '[:space:]')"
if [ -z "$actor_id" ]; then
  say "theater start printed no actor id:"
  cat "$start_err" >&2
  exit 1
fi
say "actor $actor_id started from $manifest"

# The actor serves the page itself; wait until it answers (a failing init shows here).
for _ in $(seq 1 30); do
  curl -fsS -o /dev/null --max-time 1 "$url" 2>/dev/null && break
  sleep 0.5
done
if ! curl -fsS -o /dev/null --max-time 3 "$url" 2>/dev/null; then
  say "the chat page does not answer at $url: the actor's init probably failed."
  # Theater 0.2.1 reports a failing init only in the server log (colored).
  grep -F "$actor_id" "$server_log" 2>/dev/null | grep -i 'failed' | sed 's/\x1b\[[0-9;]*m//g' | tail -n 2 >&2 || true
  say "full log: $server_log"
  exit 1
fi

printf 'Chat: %s\n' "$url"
say "Ctrl-C stops the actor$([ -n "$server_pid" ] && printf ' and the server')."

while :; do
  sleep 5 &
  wait $! || true
  if [ -n "$server_pid" ] && ! kill -0 "$server_pid" 2>/dev/null; then
    server_pid=""
    actor_id=""
    say "theater-server stopped unexpectedly"
    show_server_log
    exit 1
  fi
done
