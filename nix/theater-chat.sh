# shellcheck shell=bash
# The runner: serves the chat actor package from a Theater 0.2.1 server and keeps it fit
# to be left running for months. `nix run` is this file (the flake wraps it with
# writeShellApplication, which puts theater, theater-server, curl, coreutils, grep, sed
# and procps on PATH and sets CHAT_PACKAGE); `scripts/run` builds the package and runs
# this same file. Outside both: CHAT_PACKAGE=target/package bash nix/theater-chat.sh
#
# Usage: theater-chat.sh [serve|stop|status|rotate]
#   serve (default)  start theater-server unless one answers, start the actor, print the
#                    URL, then watch memory and health until Ctrl-C / SIGTERM, which stop
#                    what it started
#   stop             stop a running `serve` (of the same THEATER_HOME)
#   status           what runs: server, memory, uptime, actor, page health, last rotation, log
#   rotate           ask a running `serve` to restart the actor: at once, or when the
#                    replies being written are done (at most CHAT_ROTATE_WAIT_SECONDS)
#
# Environment:
#   THEATER_HOME            server state and chats (default: $XDG_STATE_HOME/theater-chat,
#                           i.e. ~/.local/state/theater-chat)
#   THEATER_SERVER_ADDRESS  server to use or start (default 127.0.0.1:9000)
#   CHAT_PORT               port for the chat page instead of the package's init.json one
#   CHAT_HOST               address to serve the page on instead of init.json's (default
#                           127.0.0.1); 0.0.0.0 serves every address of the machine, and
#                           off loopback the actor needs CHAT_ACCESS_TOKEN (16+ characters)
#   CHAT_MEMORY_LIMIT_MIB   theater-server memory (RSS) limit, default 512
#   CHAT_ROTATE_AT_MIB      RSS at which the actor is restarted at a quiet moment (no reply
#                           being written) to free the runtime's event records; default
#                           half the limit. Past the limit it is restarted anyway, and if
#                           that does not bring RSS under the limit, the server is.
#   CHAT_ROTATE_WAIT_SECONDS  how long an asked-for rotation waits for the replies being
#                           written, default 300; then it goes ahead and they are lost
#   CHAT_CHECK_SECONDS      how often memory is checked, default 10
#   CHAT_UNANSWERED_SECONDS an actor whose page does not answer this long is restarted,
#                           default 60. A server that dies is started again (3 times in
#                           10 minutes at most: then the runner stops and says why)
#   CHAT_LOG                `full` keeps Theater's own per-call log (request bodies
#                           included) for debugging; by default only the actor's lines and
#                           errors are kept, in $THEATER_HOME/chat.log
#   CHAT_LOG_MAX_KIB        chat.log (and theater-server.log with CHAT_LOG=full) is moved
#                           to chat.log.1 (theater-server.log.1) past this size, default 1024
#   CHAT_MODELS             a TOML file of models and prices to add or change, in the
#                           format of assets/models.toml; read at every actor start (a
#                           mistake stops the start with its line number)
#   ANTHROPIC_API_KEY, GEMINI_API_KEY, OPENROUTER_API_KEY, OPENAI_API_KEY and their
#   *_BASE_URL              read by the actor from the theater-server's environment: they
#                           pass through when this command starts the server
set -euo pipefail

say() { printf 'theater-chat: %s\n' "$*" >&2; }

export THEATER_HOME="${THEATER_HOME:-${XDG_STATE_HOME:-$HOME/.local/state}/theater-chat}"
export THEATER_SERVER_ADDRESS="${THEATER_SERVER_ADDRESS:-127.0.0.1:9000}"
run_dir="$THEATER_HOME/run"
log_file="$THEATER_HOME/chat.log"
server_log="$THEATER_HOME/theater-server.log"
limit_mib="${CHAT_MEMORY_LIMIT_MIB:-512}"
rotate_mib="${CHAT_ROTATE_AT_MIB:-$((limit_mib / 2))}"
check_s="${CHAT_CHECK_SECONDS:-10}"
log_max_kib="${CHAT_LOG_MAX_KIB:-1024}"
rotate_wait_s="${CHAT_ROTATE_WAIT_SECONDS:-300}"
unanswered_s="${CHAT_UNANSWERED_SECONDS:-60}"
for n in "$limit_mib" "$rotate_mib" "$check_s" "$log_max_kib" "$rotate_wait_s" "$unanswered_s"; do
  case "$n" in '' | *[!0-9]*) say "CHAT_* limits must be whole numbers, not '$n'"; exit 2 ;; esac
done

# Resident memory of a process, in MiB (0 when it is gone).
rss_mib() {
  local kib
  kib="$(ps -o rss= -p "$1" 2>/dev/null | tr -d ' ')" || kib=""
  echo $(( ${kib:-0} / 1024 ))
}

state() { cat "$run_dir/$1" 2>/dev/null || true; }

# The number of replies being written, from /api/health's answer on stdin.
generations_of_health() { sed -n 's/.*"generations":\([0-9]*\).*/\1/p'; }

# The pid of the running `serve` of this THEATER_HOME; exits 3 when there is none.
running_runner() {
  local pid
  pid="$(state runner.pid)"
  if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then
    say "not running (THEATER_HOME=$THEATER_HOME)"
    exit 3
  fi
  printf '%s\n' "$pid"
}

case "${1:-serve}" in
  stop)
    pid="$(state runner.pid)"
    if [ -n "$pid" ] && kill "$pid" 2>/dev/null; then
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
      say "stopped (runner pid $pid)"
    else
      say "nothing to stop for THEATER_HOME=$THEATER_HOME"
    fi
    exit 0
    ;;
  status)
    running_runner >/dev/null
    server="$(state server.pid)"
    printf 'url:           %s\n' "$(state url)"
    printf 'actor:         %s (started %s)\n' "$(state actor.id)" "$(state actor.started)"
    if health="$(curl -fsS --max-time 3 "$(state url)api/health" 2>/dev/null)"; then
      printf 'page:          answers; replies being written: %s\n' \
        "$(printf '%s' "$health" | generations_of_health)"
    else
      printf 'page:          does not answer (restarted after %s s without an answer)\n' "$unanswered_s"
    fi
    if [ -n "$server" ]; then
      printf 'theater-server: pid %s, %s MiB resident (limit %s MiB, rotation at %s MiB), up since %s\n' \
        "$server" "$(rss_mib "$server")" "$limit_mib" "$rotate_mib" "$(state server.started)"
    else
      printf 'theater-server: not started here (reused %s); its memory is not managed\n' "$THEATER_SERVER_ADDRESS"
    fi
    printf 'rotations:     %s (last: %s)\n' "$(state rotations)" "$(state last-rotation)"
    printf 'log:           %s (%s bytes)\n' "$log_file" "$(wc -c <"$log_file" 2>/dev/null | tr -d ' ' || echo 0)"
    exit 0
    ;;
  rotate)
    running_runner >/dev/null
    # The time it was asked: a rotation waits at most rotate_wait_s for replies.
    [ -f "$run_dir/rotate-now" ] || date +%s >"$run_dir/rotate-now"
    say "asked for a rotation: within ${check_s} s, once no reply is being written (waits at most ${rotate_wait_s} s)"
    exit 0
    ;;
  serve) ;;
  *) say "usage: theater-chat.sh [serve|stop|status|rotate]"; exit 2 ;;
esac

# What to run: CHAT_MANIFEST (`theater run MANIFEST`), or the package CHAT_PACKAGE.
package="${CHAT_PACKAGE:-}"
manifest="${CHAT_MANIFEST:-${package:+$package/actor.portable.toml}}"
[ -n "$manifest" ] || {
  say "set CHAT_PACKAGE to the actor package directory (or CHAT_MANIFEST to its manifest)"
  exit 2
}
[ -f "$manifest" ] || {
  say "no actor manifest at $manifest"
  exit 1
}
mkdir -p "$THEATER_HOME" "$run_dir"

# The chat page's address: the init state's host and port, or CHAT_PORT.
init_json="$(sed -n 's/^init_state[[:space:]]*=[[:space:]]*"\(.*\)"[[:space:]]*$/\1/p' "$manifest" | head -n 1)"
json_field() { [ ! -f "$init_json" ] || sed -n "s/.*\"$1\"[[:space:]]*:[[:space:]]*\"\{0,1\}\([^\",}]*\).*/\1/p" "$init_json" | head -n 1; }
host="${CHAT_HOST:-$(json_field host)}"
port="${CHAT_PORT:-$(json_field port)}"
host="${host:-127.0.0.1}"
port="${port:-8084}"
case "$port" in
  '' | *[!0-9]*)
    say "CHAT_PORT must be a port number, not '$port'"
    exit 2
    ;;
esac
case "$host" in
  '' | *[!0-9A-Za-z.:-]*)
    say "CHAT_HOST must be an address or a host name (such as 0.0.0.0), not '$host'"
    exit 2
    ;;
esac
# The address this script itself asks (a wildcard bind answers on loopback too).
case "$host" in
  0.0.0.0 | ::) url="http://127.0.0.1:$port/" ;;
  *:*) url="http://[$host]:$port/" ;;
  *) url="http://$host:$port/" ;;
esac

# CHAT_MODELS as a JSON string for the init state's "catalog" (sed: GNU's, as in the
# flake's runtime inputs and on Debian).
models_json=""
if [ -n "${CHAT_MODELS:-}" ]; then
  if [ ! -r "$CHAT_MODELS" ] || [ -d "$CHAT_MODELS" ]; then
    say "CHAT_MODELS: cannot read the file '$CHAT_MODELS'"
    exit 2
  fi
  models_json="\"$(tr -d '\000-\010\013\014\016-\037' <"$CHAT_MODELS" \
    | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/\t/\\t/g' -e 's/\r$//' \
    | sed -e ':a' -e 'N' -e '$!ba' -e 's/\n/\\n/g')\""
fi

note() { # a line for the terminal and for chat.log
  say "$*"
  printf '%s runner: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >>"$log_file"
}

server_pid=""
actor_id=""

cleanup() {
  trap - EXIT INT TERM
  if [ -n "$actor_id" ]; then
    note "stopping actor $actor_id"
    theater stop "$actor_id" >/dev/null 2>&1 || say "could not stop actor $actor_id (is the server gone?)"
  fi
  if [ -n "$server_pid" ]; then
    note "stopping the theater-server started here (pid $server_pid)"
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -f "$run_dir/runner.pid" "$run_dir/server.pid" "$run_dir/actor.id"
}

existing="$(state runner.pid)"
if [ -n "$existing" ] && kill -0 "$existing" 2>/dev/null; then
  say "already running for THEATER_HOME=$THEATER_HOME (pid $existing): $(state url)"
  say "(theater-chat.sh status shows it; theater-chat.sh stop stops it)"
  exit 1
fi
echo $$ >"$run_dir/runner.pid"
echo "$url" >"$run_dir/url"
echo 0 >"$run_dir/rotations"
echo "never" >"$run_dir/last-rotation"
# A rotation asked of an earlier runner is moot: this one starts a fresh actor.
rm -f "$run_dir/rotate-now"
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# `theater list` connects to its --address (default 127.0.0.1:9000) and ignores
# THEATER_SERVER_ADDRESS; `theater stop` is the other way round, so both are given. It
# waits forever on something that is not a theater-server, hence the timeout.
server_answers() { timeout 5 theater list --address "$THEATER_SERVER_ADDRESS" >/dev/null 2>&1; }
page_answers() { curl -fsS -o /dev/null --max-time "${1:-1}" "$url" 2>/dev/null; }

# init_failure ID: why actor ID's init failed, as it logged it (nothing if it did not).
# Only this actor's line: the log may hold an earlier start's. A reused server with this
# THEATER_HOME logs to its own file.
init_failure() {
  (grep -h -F "[$1] [chat] chat: init failed: " "$log_file" "$server_log" \
    "$THEATER_HOME/logs/theater/theater_server.log" 2>/dev/null || true) |
    tail -n 1 | sed 's/.*chat: init failed: //'
}

show_server_log() {
  local log=$log_file
  [ "${CHAT_LOG:-}" = full ] && log=$server_log
  [ -f "$log" ] || return 0
  if grep -q '^Error: ' "$log"; then
    say "$log says:"
    grep '^Error: ' "$log" | tail -n 3 >&2
  else
    say "last lines of $log:"
    tail -n 15 "$log" >&2
  fi
}

# Appends lines to FILE (cut at WIDTH characters; 0: whole), moving it to FILE.1 once it
# passes CHAT_LOG_MAX_KIB: a log never grows without bound, whatever runs for how long.
append_rotating() {
  local file=$1 width=$2 line n=0
  while IFS= read -r line; do
    if [ "$width" -gt 0 ]; then line="${line:0:$width}"; fi
    printf '%s\n' "$line" >>"$file"
    n=$((n + 1))
    if [ $((n % 50)) -eq 0 ] && [ "$(wc -c <"$file")" -gt $((log_max_kib * 1024)) ]; then
      mv -f "$file" "$file.1"
    fi
  done
}

# Theater 0.2.1 logs every call's parameters (request bodies: the user's messages) at
# its default level, and its filter cannot be changed. Keep the actor's own lines
# ([ACTOR]: start, errors, recoveries, generations), server errors, and nothing else.
filter_log() {
  sed -u -e 's/\x1b\[[0-9;]*m//g' -e 's/^[[:space:]]*//' \
    | grep --line-buffered -E '\[ACTOR\]|^[0-9T:.Z-]+ +ERROR |^Error' \
    | append_rotating "$log_file" 400
}

start_server() {
  note "starting theater-server at $THEATER_SERVER_ADDRESS (THEATER_HOME=$THEATER_HOME, log: $log_file)"
  local file_log="$THEATER_HOME/logs/theater/theater_server.log"
  mkdir -p "$(dirname "$file_log")"
  # Job control puts the server in its own process group, so Ctrl-C reaches only this
  # script, which then stops the actor before the server.
  set -m
  # The server also writes the full log to this file, unconditionally and without a
  # bound for its life: send it nowhere (stdout has the same lines).
  ln -sfn /dev/null "$file_log"
  if [ "${CHAT_LOG:-}" = full ]; then
    MALLOC_ARENA_MAX=2 theater-server --log-stdout --address "$THEATER_SERVER_ADDRESS" > >(append_rotating "$server_log" 0) 2>&1 &
  else
    # MALLOC_ARENA_MAX: with glibc's default arenas the memory freed by an actor
    # restart is not given back; with 2 it is (measured, see docs/architecture.md).
    MALLOC_ARENA_MAX=2 theater-server --log-stdout --address "$THEATER_SERVER_ADDRESS" > >(filter_log) 2>&1 &
  fi
  server_pid=$!
  set +m
  echo "$server_pid" >"$run_dir/server.pid"
  date -u +%Y-%m-%dT%H:%M:%SZ >"$run_dir/server.started"
  for _ in $(seq 1 60); do
    server_answers && return 0
    if ! kill -0 "$server_pid" 2>/dev/null; then
      server_pid=""
      say "theater-server exited at start (is $THEATER_SERVER_ADDRESS in use by something else?)"
      show_server_log
      exit 1
    fi
    sleep 0.5
  done
  say "theater-server did not answer at $THEATER_SERVER_ADDRESS within 30 s"
  show_server_log
  exit 1
}

start_actor() {
  local start_args=(start "$manifest" --id-only --address "$THEATER_SERVER_ADDRESS") started
  local fields=()
  [ -z "${CHAT_PORT:-}" ] || fields+=("\"port\": $port")
  [ -z "${CHAT_HOST:-}" ] || fields+=("\"host\": \"$host\"")
  [ -z "$models_json" ] || fields+=("\"catalog\": $models_json")
  if [ "${#fields[@]}" -gt 0 ]; then
    local joined
    joined="$(printf '%s, ' "${fields[@]}")"
    start_args+=(--initial-state "{${joined%, }}")
  fi
  local start_err="$THEATER_HOME/theater-start.err"
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
  echo "$actor_id" >"$run_dir/actor.id"
  date -u +%Y-%m-%dT%H:%M:%SZ >"$run_dir/actor.started"
  # The actor serves the page itself; wait until it answers, or has logged why its init
  # failed (Theater 0.2.1 says "Actor started" even then, and keeps the failed actor,
  # paused, for good: say why and remove it).
  local why=""
  for _ in $(seq 1 60); do
    page_answers && return 0
    why="$(init_failure "$actor_id")"
    [ -z "$why" ] || break
    sleep 0.25
  done
  if [ -n "$why" ] || ! page_answers 3; then
    [ -n "$why" ] || why="$(init_failure "$actor_id")"
    say "the chat actor did not start: ${why:-it does not answer at $url (see $log_file)}"
    theater stop "$actor_id" >/dev/null 2>&1 || true
    actor_id=""
    exit 1
  fi
}

# How many replies the actor is writing now (0 when it does not answer).
replies_in_flight() {
  local busy
  busy="$(curl -fsS --max-time 2 "${url}api/health" 2>/dev/null | generations_of_health)" || busy=""
  echo "${busy:-0}"
}

# A fresh actor frees the runtime's records of the old one's calls. Stores are
# crash-safe and pages reconnect by themselves, so nothing acknowledged is lost; a reply
# being written would be, which is why rotations wait for a quiet moment.
rotate_actor() {
  local before=$1 after count
  theater stop "$actor_id" >/dev/null 2>&1 || true
  actor_id=""
  start_actor
  sleep 1
  after="$(rss_mib "${server_pid:-0}")"
  count=$(( $(state rotations) + 1 ))
  echo "$count" >"$run_dir/rotations"
  echo "$(date -u +%Y-%m-%dT%H:%M:%SZ), $before MiB -> $after MiB" >"$run_dir/last-rotation"
  note "rotated the chat actor at $before MiB (now $after MiB; rotation $count)"
  if [ -n "$server_pid" ] && [ "$after" -ge "$limit_mib" ]; then
    note "theater-server still uses $after MiB (limit $limit_mib MiB): restarting it"
    theater stop "$actor_id" >/dev/null 2>&1 || true
    actor_id=""
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
    start_server
    start_actor
  fi
}

if server_answers; then
  say "using the theater-server already running at $THEATER_SERVER_ADDRESS"
  say "(the actor sees that server's environment for provider keys, not this shell's;"
  say " its memory and log are that server's business)"
else
  start_server
fi

if page_answers 2; then
  say "something already answers at $url (another chat actor?)."
  say "Stop it (theater list / theater stop ID) or pick another port: CHAT_PORT=8090 nix run"
  exit 1
fi

start_actor
note "actor $actor_id started from $manifest"
printf 'Chat: %s\n' "$url"
case "$host" in
  0.0.0.0 | ::) say "also on this machine's other addresses, port $port (other devices: with the access token)" ;;
esac
say "Ctrl-C stops the actor$([ -n "$server_pid" ] && printf ' and the server')."

server_restarts=()   # when the server was last started again after it died
unanswered_since=""  # since when the page has not answered
last_health=0        # when it was last asked
rotation_waits=""    # set once the asked rotation has said that it waits
while :; do
  sleep "$check_s" &
  wait $! || true
  if [ -n "$server_pid" ] && ! kill -0 "$server_pid" 2>/dev/null; then
    # Crashed or killed (out of memory, say): the store is crash-safe, so start it and
    # the actor again, unless it keeps dying, which a restart will not mend.
    server_pid=""
    actor_id=""
    now="$(date +%s)"
    recent=0
    for t in ${server_restarts[@]+"${server_restarts[@]}"}; do
      [ $(( now - t )) -ge 600 ] || recent=$(( recent + 1 ))
    done
    if [ "$recent" -ge 3 ]; then
      note "theater-server stopped unexpectedly, the fourth time in 10 minutes: giving up"
      show_server_log
      exit 1
    fi
    server_restarts+=("$now")
    note "theater-server stopped unexpectedly: starting it again (restart $(( recent + 1 )) of at most 3 in 10 minutes)"
    show_server_log
    start_server
    start_actor
    note "actor $actor_id started from $manifest"
    unanswered_since=""
    continue
  fi
  # An actor that no longer answers (stopped from outside, or failed) is restarted. The
  # runtime records every request for the actor's life, so ask its smallest route, and
  # only a few times per CHAT_UNANSWERED_SECONDS.
  if [ $(( $(date +%s) - last_health )) -lt $(( unanswered_s / 3 )) ]; then
    :
  elif last_health="$(date +%s)" && curl -fsS -o /dev/null --max-time 3 "${url}api/health" 2>/dev/null; then
    unanswered_since=""
  elif [ -z "$unanswered_since" ]; then
    unanswered_since="$(date +%s)"
  elif [ $(( $(date +%s) - unanswered_since )) -ge "$unanswered_s" ]; then
    note "the page has not answered for $(( $(date +%s) - unanswered_since )) s: restarting the actor"
    unanswered_since=""
    rotate_actor "$(rss_mib "${server_pid:-0}")"
    continue
  fi
  if [ -f "$run_dir/rotate-now" ]; then
    # Asked for: at a quiet moment too, so a reply being written is not lost, unless it
    # has waited too long (a provider that never answers must not block it for good).
    asked="$(state rotate-now)"
    case "$asked" in '' | *[!0-9]*) asked=0 ;; esac
    busy="$(replies_in_flight)"
    if [ "$busy" = 0 ] || [ $(( $(date +%s) - asked )) -ge "$rotate_wait_s" ]; then
      rm -f "$run_dir/rotate-now"
      rotation_waits=""
      [ "$busy" = 0 ] || note "rotating after ${rotate_wait_s} s although replies are still being written ($busy)"
      rotate_actor "$(rss_mib "${server_pid:-0}")"
    elif [ -z "$rotation_waits" ]; then
      rotation_waits=1
      note "rotation waits for the replies being written ($busy)"
    fi
    continue
  fi
  [ -n "$server_pid" ] || continue
  rss="$(rss_mib "$server_pid")"
  [ "$rss" -ge "$rotate_mib" ] || continue
  # A quiet moment: no reply is being written (past the limit, rotate regardless).
  if [ "$(replies_in_flight)" = 0 ] || [ "$rss" -ge "$limit_mib" ]; then
    rotate_actor "$rss"
  fi
done
