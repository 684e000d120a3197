#!/usr/bin/env bash
# A private ejabberd 23.01 for xmppkit's integration tests: loopback only, no TLS, no s2s.
#
#   bash scripts/ejabberd.sh install              install ejabberd with apt-get if it is missing
#   bash scripts/ejabberd.sh up                   start it (idempotent) and create the test accounts
#   bash scripts/ejabberd.sh down                 stop the node recorded in our pid file
#   bash scripts/ejabberd.sh restart              down, then up
#   bash scripts/ejabberd.sh status               0: running, 1: process alive but not answering, 3: stopped
#   bash scripts/ejabberd.sh register USER PASS   create an account on the test domain (or reset its password)
#   bash scripts/ejabberd.sh ctl COMMAND [ARGS]   run an ejabberdctl command against our node (e.g. `ctl connected_users`)
#   bash scripts/ejabberd.sh version              print the version the running node reports
#   bash scripts/ejabberd.sh env [--json]         print `export` lines (or one JSON object) describing the instance
#   bash scripts/ejabberd.sh log                  print the end of the log
#
# How it runs: Debian's /usr/sbin/ejabberdctl insists on running as user `ejabberd` (it `su`s when
# started as root, and refuses other users) and defaults to /etc/ejabberd, /var/lib/ejabberd and the
# shared ~ejabberd/.erlang.cookie. So this script starts the same Erlang release the way ejabberdctl
# does (`erl -sname NODE -mnesia dir SPOOL -s ejabberd` with EJABBERD_CONFIG_PATH, EJABBERD_LOG_PATH,
# EJABBERD_PID_PATH, ERL_LIBS from ejabberdctl), as the current user, with everything in the state dir:
#   ejabberd.yml (generated), database/NODE (Mnesia), logs/, ejabberd.pid, home/.erlang.cookie (random).
# Erlang distribution needs no epmd: the node listens for its control connections on 127.0.0.1:DIST_PORT
# (`-start_epmd false -erl_epmd_port`, as ejabberdctl does with ERL_DIST_PORT), and control commands run
# in a short-lived hidden node with the same cookie (`-s ejabberd_ctl`, i.e. what `ejabberdctl` runs).
# The system service (ejabberd@localhost, ports 5222/5280/5269) is never touched.
#
# Environment:
#   XMPPKIT_EJABBERD_DIR        state directory (default <repo>/.ejabberd, git-ignored)
#   XMPPKIT_EJABBERD_C2S_PORT   client port (default 15322)
#   XMPPKIT_EJABBERD_HTTP_PORT  HTTP port for WebSocket and BOSH (default 15380)
#   XMPPKIT_EJABBERD_DIST_PORT  Erlang distribution port on 127.0.0.1 (default 15390)
#   XMPPKIT_EJABBERD_NODE       Erlang node name (default xmppkit-ejabberd@localhost)
#   XMPPKIT_EJABBERD_LOG_LEVEL  none | critical | error | warning | notice | info | debug (default info)
#   XMPPKIT_EJABBERD_TIMEOUT    seconds `up` waits for the server (default 30)
#
# Nothing but the process in our own pid file is ever signalled.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=lib.sh
. "$REPO_ROOT/scripts/lib.sh"

STATE_DIR="${XMPPKIT_EJABBERD_DIR:-$REPO_ROOT/.ejabberd}"
C2S_PORT="${XMPPKIT_EJABBERD_C2S_PORT:-15322}"
HTTP_PORT="${XMPPKIT_EJABBERD_HTTP_PORT:-15380}"
DIST_PORT="${XMPPKIT_EJABBERD_DIST_PORT:-15390}"
NODE="${XMPPKIT_EJABBERD_NODE:-xmppkit-ejabberd@localhost}"
LOG_LEVEL="${XMPPKIT_EJABBERD_LOG_LEVEL:-info}"
START_TIMEOUT="${XMPPKIT_EJABBERD_TIMEOUT:-30}"
STOP_TIMEOUT=15
HOST=127.0.0.1
DOMAIN=localhost
# Seconds a dropped session stays resumable (mod_stream_mgmt resume_timeout, also its max_resume_timeout).
RESUME_TIMEOUT=300
# Unacknowledged stanzas ejabberd keeps per session (mod_stream_mgmt max_ack_queue; 5000 is its default).
MAX_ACK_QUEUE=5000
# Listener accept backlog (ejabberd's default of 5 is too small for tests that open many connections at once).
BACKLOG=1024

# user:password, kept in step with test/setup/ejabberd.ts.
ACCOUNTS=(
  alice:alice-secret
  bob:bob-secret
  carol:carol-secret
)

APT_PACKAGES=(ejabberd)
EJABBERDCTL=/usr/sbin/ejabberdctl

WS_URL="ws://$HOST:$HTTP_PORT/xmpp-websocket"
WS_HTTP_URL="http://$HOST:$HTTP_PORT/xmpp-websocket"
BOSH_URL="http://$HOST:$HTTP_PORT/http-bind"

log() { printf 'ejabberd.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//' >&2
  exit 2
}

check_settings() {
  local p
  for p in "$C2S_PORT" "$HTTP_PORT" "$DIST_PORT"; do
    [[ "$p" =~ ^[0-9]+$ ]] && ((p > 0 && p < 65536)) || die "invalid port '$p'"
  done
  [[ "$C2S_PORT" != "$HTTP_PORT" && "$C2S_PORT" != "$DIST_PORT" && "$HTTP_PORT" != "$DIST_PORT" ]] ||
    die "XMPPKIT_EJABBERD_C2S_PORT, XMPPKIT_EJABBERD_HTTP_PORT and XMPPKIT_EJABBERD_DIST_PORT must differ"
  [[ "$START_TIMEOUT" =~ ^[0-9]+$ ]] || die "invalid XMPPKIT_EJABBERD_TIMEOUT '$START_TIMEOUT'"
  [[ "$NODE" =~ ^[A-Za-z0-9_-]+@localhost$ ]] || die "invalid XMPPKIT_EJABBERD_NODE '$NODE' (want NAME@localhost)"
  case "$LOG_LEVEL" in none | critical | error | warning | notice | info | debug) ;; *) die "invalid XMPPKIT_EJABBERD_LOG_LEVEL '$LOG_LEVEL'" ;; esac
}

# Paths inside the state directory (absolute, so the generated config does not depend on the cwd).
set_paths() {
  STATE_DIR="$(realpath -m -- "$STATE_DIR")"
  CONFIG="$STATE_DIR/ejabberd.yml"
  # Mnesia's schema is bound to the node name: one database directory per node name.
  SPOOL_DIR="$STATE_DIR/database/${NODE%@*}"
  LOGS_DIR="$STATE_DIR/logs"
  LOG_FILE="$LOGS_DIR/ejabberd.log"
  HOME_DIR="$STATE_DIR/home" # HOME of our Erlang processes: holds the private .erlang.cookie
  MODULES_DIR="$STATE_DIR/modules"
  PID_FILE="$STATE_DIR/ejabberd.pid"
  OUT_FILE="$STATE_DIR/ejabberd.out" # the VM's own stdout/stderr (startup errors before logging starts)
  LOCK_FILE="$STATE_DIR/.lock"
}

# ---------------------------------------------------------------------------------------------
# install

# Erlang and the ejabberd release as Debian's ejabberdctl would use them.
find_release() {
  ERL_BIN="" ERL_LIBS_DIR=""
  if [[ -r "$EJABBERDCTL" ]]; then
    ERL_BIN="$(sed -n 's/^ERL="\(.*\)"$/\1/p' "$EJABBERDCTL" | head -n 1)"
    ERL_LIBS_DIR="$(sed -n "s/^ERL_LIBS='\\(.*\\)'\$/\\1/p" "$EJABBERDCTL" | head -n 1)"
  fi
  [[ -n "$ERL_BIN" && -x "$ERL_BIN" ]] || ERL_BIN="$(command -v erl 2>/dev/null || true)"
  if [[ -z "$ERL_LIBS_DIR" ]] || ! compgen -G "$ERL_LIBS_DIR/ejabberd-*/ebin/ejabberd.app" >/dev/null; then
    local app
    app="$(compgen -G '/usr/lib/*/ejabberd-*/ebin/ejabberd.app' | head -n 1 || true)"
    [[ -n "$app" ]] || app="$(compgen -G '/usr/lib/erlang/lib/ejabberd-*/ebin/ejabberd.app' | head -n 1 || true)"
    ERL_LIBS_DIR="${app:+$(dirname "$(dirname "$(dirname "$app")")")}"
  fi
  [[ -n "$ERL_BIN" && -x "$ERL_BIN" && -n "$ERL_LIBS_DIR" ]]
}

cmd_install() {
  if find_release; then
    return 0
  fi
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    log "ejabberd is not installed; installing ${APT_PACKAGES[*]} with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    # The package's postinst may try to start the system service (ejabberd@localhost on 5222/5280);
    # that one is not ours and is left alone: our ports, node name and cookie differ.
    apt-get install -y --no-install-recommends "${APT_PACKAGES[@]}"
    find_release || die "apt-get finished but erl / the ejabberd release are still not found"
    return 0
  fi
  cat >&2 <<EOF
ejabberd.sh: ejabberd (Debian package 'ejabberd': the Erlang release and /usr/bin/erl) is not
installed, and this script installs it only when it runs as root on a machine with apt-get.
Install it yourself, e.g. on Debian/Ubuntu:

    sudo apt-get update
    sudo apt-get install --no-install-recommends ${APT_PACKAGES[*]}

(ejabberd 23.01 is what the tests are written against.) Only the release is needed: the system
service is never used and may stay stopped.
EOF
  exit 1
}

# ---------------------------------------------------------------------------------------------
# config

yaml_quote() {
  local s="$1"
  s="${s//\\/\\\\}"
  s="${s//\"/\\\"}"
  printf '"%s"' "$s"
}

write_config() {
  mkdir -p "$SPOOL_DIR" "$LOGS_DIR" "$HOME_DIR" "$MODULES_DIR"
  chmod 700 "$STATE_DIR/database" "$HOME_DIR" 2>/dev/null || true

  # A random cookie of our own: only processes that can read this file can talk to the node.
  local cookie="$HOME_DIR/.erlang.cookie"
  if [[ ! -s "$cookie" ]]; then
    (
      umask 077
      od -An -tx1 -N24 /dev/urandom | tr -d ' \n' >"$cookie.tmp"
      mv -f "$cookie.tmp" "$cookie"
    )
  fi
  chmod 400 "$cookie"

  cat >"$CONFIG.tmp" <<EOF
# Generated by scripts/ejabberd.sh; edits are overwritten by every \`up\`.
hosts:
  - $(yaml_quote "$DOMAIN")
loglevel: $LOG_LEVEL
hide_sensitive_log_data: false
# No TLS anywhere, no ACME, no server-to-server.
certfiles: []
acme:
  auto: false
s2s_access: none
auth_method: internal
auth_password_format: scram
default_db: mnesia
listen:
  -
    port: $C2S_PORT
    ip: $(yaml_quote "$HOST")
    module: ejabberd_c2s
    starttls: false
    starttls_required: false
    shaper: none
    max_stanza_size: 1048576
    backlog: $BACKLOG
  -
    port: $HTTP_PORT
    ip: $(yaml_quote "$HOST")
    module: ejabberd_http
    tls: false
    backlog: $BACKLOG
    request_handlers:
      /xmpp-websocket: ejabberd_http_ws
      /http-bind: mod_bosh
modules:
  mod_stream_mgmt:
    resume_timeout: $RESUME_TIMEOUT
    max_resume_timeout: $RESUME_TIMEOUT
    max_ack_queue: $MAX_ACK_QUEUE
  mod_ping: {}
  mod_roster: {}
  mod_disco: {}
  mod_bosh: {}
  mod_admin_extra: {}
EOF
  mv -f "$CONFIG.tmp" "$CONFIG"
}

# ---------------------------------------------------------------------------------------------
# Erlang

# Environment shared by the server and the control nodes (the variables /usr/sbin/ejabberdctl exports).
ERL_ENV=()
set_erl_env() {
  ERL_ENV=(
    HOME="$HOME_DIR"
    ERL_LIBS="$ERL_LIBS_DIR"
    EJABBERD_CONFIG_PATH="$CONFIG"
    EJABBERD_LOG_PATH="$LOG_FILE"
    EJABBERD_PID_PATH="$PID_FILE"
    CONTRIB_MODULES_PATH="$MODULES_DIR"
    CONTRIB_MODULES_CONF_DIR="$MODULES_DIR/conf"
    ERL_CRASH_DUMP="$LOGS_DIR/erl_crash.dump"
    ERL_CRASH_DUMP_BYTES=0
    ERL_MAX_PORTS=32000
    ERL_MAX_ETS_TABLES=1400
  )
}
erl_env() {
  set_erl_env
  env "${ERL_ENV[@]}" "$@"
}

# Distribution without epmd, on loopback only.
DIST_ARGS=()
set_dist_args() {
  DIST_ARGS=(-start_epmd false -erl_epmd_port "$DIST_PORT")
}

# Run Erlang code in a short-lived hidden node connected to ours; NODE is bound to our node's name.
# Prints what the code prints; the exit status is what the code passes to halt/1.
erl_eval() {
  local code="$1" name
  name="xmppkit-ctl-$$-$RANDOM@localhost"
  set_dist_args
  (cd "$STATE_DIR" && erl_env "$ERL_BIN" -sname "$name" -hidden -noinput -dist_listen false "${DIST_ARGS[@]}" \
    -eval "NODE = '$NODE', case net_kernel:connect_node(NODE) of true -> ok; _ -> io:format(\"cannot reach node ~s on 127.0.0.1:$DIST_PORT~n\", [NODE]), halt(3) end, $code" </dev/null)
}

# `ejabberdctl COMMAND ARGS...` against our node: the same code path (`-s ejabberd_ctl -extra NODE ...`).
ejabberdctl_cmd() {
  local name
  name="xmppkit-ctl-$$-$RANDOM@localhost"
  set_dist_args
  (cd "$STATE_DIR" && erl_env "$ERL_BIN" -sname "$name" -hidden -noinput -dist_listen false "${DIST_ARGS[@]}" \
    -s ejabberd_ctl -extra "$NODE" "$@" </dev/null)
}

erl_string() { # a shell string -> an Erlang string literal
  local s="$1"
  s="${s//\\/\\\\}"
  s="${s//\"/\\\"}"
  printf '"%s"' "$s"
}

# ---------------------------------------------------------------------------------------------
# probes

# True if something accepts TCP connections on 127.0.0.1:$1.
# True if $WS_HTTP_URL answers a plain GET with 200 (ejabberd_http_ws's informative page).
# The pid in our pid file, if that process is alive and is an Erlang VM running our node with our
# database. (Checking the command line guards against a stale pid file whose pid was reused.)
our_pid() {
  [[ -f "$PID_FILE" ]] || return 1
  local pid cmdline
  pid="$(tr -dc '0-9' <"$PID_FILE" 2>/dev/null || true)"
  [[ -n "$pid" ]] || return 1
  alive "$pid" || return 1
  if [[ -r "/proc/$pid/cmdline" ]]; then
    cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline")"
    [[ "$cmdline" == *"-sname $NODE "* && "$cmdline" == *"$SPOOL_DIR"* ]] || return 1
  fi
  printf '%s\n' "$pid"
}

server_ready() { tcp_open "$C2S_PORT" && ws_answers; }

show_log_tail() {
  local f
  for f in "$OUT_FILE" "$LOG_FILE" "$LOGS_DIR/error.log"; do
    if [[ -s "$f" ]]; then
      printf -- '----- last lines of %s -----\n' "$f" >&2
      tail -n 40 "$f" >&2
    fi
  done
  printf -- '-----\n' >&2
}

# ---------------------------------------------------------------------------------------------
# lock (so that two concurrent `up`s, e.g. two test runs, do not both start a server)

take_lock() {
  mkdir -p "$STATE_DIR"
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$LOCK_FILE"
    if ! flock -w 90 9; then
      die "could not lock $LOCK_FILE within 90 s (another ejabberd.sh running?)"
    fi
  fi
}

# ---------------------------------------------------------------------------------------------
# accounts

# Registers each USER:PASS with ejabberdctl's `register` (ejabberd_ctl:process/1, in one control node
# for all of them); an existing account gets its password reset (`change_password`, mod_admin_extra).
# Output is shown only when something fails.
register_accounts() {
  local entries="" entry user pass out
  for entry in "$@"; do
    user="${entry%%:*}"
    pass="${entry#*:}"
    entries+="${entries:+, }{$(erl_string "$user"), $(erl_string "$pass")}"
  done
  # ejabberd_ctl:process/1 prints the command's output and returns its status (0 ok, 1 e.g. conflict).
  local code="
    Domain = \"$DOMAIN\",
    Results = [begin
        R = case rpc:call(NODE, ejabberd_ctl, process, [[\"register\", U, Domain, P]]) of
          0 -> registered;
          _ -> case rpc:call(NODE, ejabberd_ctl, process, [[\"change_password\", U, Domain, P]]) of
                 0 -> password_reset;
                 Other -> {failed, Other}
               end
        end,
        io:format(\"~s@~s: ~p~n\", [U, Domain, R]),
        R
      end || {U, P} <- [$entries]],
    halt(case lists:all(fun(R) -> R =:= registered orelse R =:= password_reset end, Results) of true -> 0; false -> 1 end)."
  if ! out="$(erl_eval "$code" 2>&1)"; then
    printf '%s\n' "$out" >&2
    return 1
  fi
}

# ---------------------------------------------------------------------------------------------
# commands

start_node() {
  [[ -f "$LOG_FILE" ]] && mv -f "$LOG_FILE" "$LOGS_DIR/previous-ejabberd.log"
  [[ -f "$LOGS_DIR/error.log" ]] && mv -f "$LOGS_DIR/error.log" "$LOGS_DIR/previous-error.log"
  rm -f "$PID_FILE"
  : >"$OUT_FILE"
  set_dist_args
  set_erl_env

  # The command line of `ejabberdctl foreground-quiet`, minus the su and the system paths:
  #   erl -sname NODE +K true +P 250000 -mnesia dir "SPOOL" -s ejabberd -noinput -ejabberd quiet true
  # plus distribution on 127.0.0.1:DIST_PORT without epmd. setsid puts it in its own session, so it
  # outlives this shell and no terminal signal reaches it. The subshell is not a process-group leader,
  # so setsid execs in place, and erl/erlexec exec too: $! is the pid of beam.smp itself.
  (
    cd "$STATE_DIR"
    exec 9>&- # the lock must not outlive this script
    exec setsid env "${ERL_ENV[@]}" "$ERL_BIN" -sname "$NODE" "${DIST_ARGS[@]}" -kernel inet_dist_use_interface '{127,0,0,1}' \
      +K true +P 250000 -noinput \
      -mnesia dir "\"$SPOOL_DIR\"" -s ejabberd -ejabberd quiet true \
      </dev/null >>"$OUT_FILE" 2>&1
  ) &
  STARTED_PID=$!
  printf '%s\n' "$STARTED_PID" >"$PID_FILE" # ejabberd rewrites it with the same pid once it runs
  disown "$STARTED_PID" 2>/dev/null || true
}

cmd_up() {
  cmd_install
  take_lock
  write_config

  local pid
  if pid="$(our_pid)"; then
    if server_ready; then
      log "already running (pid $pid, node $NODE), ws $WS_URL, c2s $HOST:$C2S_PORT"
      register_accounts "${ACCOUNTS[@]}" || die "could not register the test accounts"
      return 0
    fi
    log "pid $pid is alive but does not answer on $HOST:$HTTP_PORT / $HOST:$C2S_PORT; restarting it"
    stop_pid "$pid"
  fi

  local port
  for port in "$HTTP_PORT" "$C2S_PORT" "$DIST_PORT"; do
    if tcp_open "$port"; then
      die "port $HOST:$port is already in use by another process (not our ejabberd in $STATE_DIR);" \
        "stop it or choose other ports with XMPPKIT_EJABBERD_C2S_PORT / _HTTP_PORT / _DIST_PORT"
    fi
  done

  local t0=$SECONDS
  start_node
  pid=$STARTED_PID

  local deadline=$((SECONDS + START_TIMEOUT))
  until server_ready; do
    if ! alive "$pid"; then
      log "ejabberd (pid $pid) exited during startup"
      rm -f "$PID_FILE"
      show_log_tail
      exit 1
    fi
    if ((SECONDS >= deadline)); then
      log "ejabberd (pid $pid) did not answer on $WS_HTTP_URL and $HOST:$C2S_PORT within ${START_TIMEOUT}s"
      show_log_tail
      stop_pid "$pid"
      exit 1
    fi
    sleep 0.2
  done
  # Accounts live in Mnesia (persistent, in our database dir): they need the running node.
  if ! register_accounts "${ACCOUNTS[@]}"; then
    show_log_tail
    stop_pid "$pid"
    die "could not register the test accounts"
  fi
  log "started (pid $pid, node $NODE) in $((SECONDS - t0))s, ws $WS_URL, c2s $HOST:$C2S_PORT, domain $DOMAIN, log $LOG_FILE"
}

# Alive and not a zombie (a container's PID 1 may be slow to reap, or never reap, orphans).
# SIGTERM makes the Erlang VM run init:stop(): ejabberd closes its listeners and Mnesia cleanly.
cmd_down() {
  take_lock
  local pid
  if pid="$(our_pid)"; then
    stop_pid "$pid"
    log "stopped (pid $pid, node $NODE)"
  else
    rm -f "$PID_FILE"
    log "not running"
  fi
}

cmd_status() {
  local pid
  if pid="$(our_pid)"; then
    if server_ready; then
      echo "running: pid $pid, node $NODE, ws $WS_URL, bosh $BOSH_URL, c2s $HOST:$C2S_PORT, domain $DOMAIN"
      echo "config $CONFIG, log $LOG_FILE"
      return 0
    fi
    echo "pid $pid is alive but not answering on $WS_HTTP_URL / $HOST:$C2S_PORT (see $LOG_FILE)"
    return 1
  fi
  echo "stopped (state dir $STATE_DIR)"
  return 3
}

require_running() {
  our_pid >/dev/null || die "our ejabberd is not running (bash scripts/ejabberd.sh up)"
}

cmd_register() {
  [[ $# -eq 2 && -n "$1" && -n "$2" && "$1" != *:* ]] || die "usage: ejabberd.sh register USER PASS"
  find_release || cmd_install
  require_running
  register_accounts "$1:$2" || die "could not register $1@$DOMAIN"
  log "registered $1@$DOMAIN"
}

cmd_ctl() {
  [[ $# -gt 0 ]] || die "usage: ejabberd.sh ctl COMMAND [ARGS...] (ejabberdctl commands, e.g. connected_users)"
  find_release || cmd_install
  require_running
  ejabberdctl_cmd "$@"
}

cmd_version() {
  find_release || cmd_install
  require_running
  erl_eval 'io:format("~s~n", [rpc:call(NODE, ejabberd_option, version, [])]), halt(0).'
}

cmd_env() {
  local accounts="" entry
  if [[ "${1:-}" == --json ]]; then
    # Read by test/setup/ejabberd.ts.
    for entry in "${ACCOUNTS[@]}"; do
      accounts+="${accounts:+, }$(json_escape "${entry%%:*}"): $(json_escape "${entry#*:}")"
    done
    printf '{"dir": %s, "config": %s, "node": %s, "domain": %s, "host": %s, "c2sPort": %s, "httpPort": %s, "distPort": %s, ' \
      "$(json_escape "$STATE_DIR")" "$(json_escape "$CONFIG")" "$(json_escape "$NODE")" "$(json_escape "$DOMAIN")" \
      "$(json_escape "$HOST")" "$C2S_PORT" "$HTTP_PORT" "$DIST_PORT"
    printf '"service": %s, "bosh": %s, "log": %s, "resumeTimeout": %s, "accounts": {%s}}\n' \
      "$(json_escape "$WS_URL")" "$(json_escape "$BOSH_URL")" "$(json_escape "$LOG_FILE")" "$RESUME_TIMEOUT" "$accounts"
    return 0
  fi
  [[ $# -eq 0 ]] || die "usage: ejabberd.sh env [--json]"
  for entry in "${ACCOUNTS[@]}"; do accounts+="${accounts:+ }$entry"; done
  printf 'export %s=%q\n' \
    XMPPKIT_EJABBERD_DIR "$STATE_DIR" \
    XMPPKIT_EJABBERD_CONFIG "$CONFIG" \
    XMPPKIT_EJABBERD_NODE "$NODE" \
    XMPPKIT_EJABBERD_DOMAIN "$DOMAIN" \
    XMPPKIT_EJABBERD_HOST "$HOST" \
    XMPPKIT_EJABBERD_C2S_PORT "$C2S_PORT" \
    XMPPKIT_EJABBERD_HTTP_PORT "$HTTP_PORT" \
    XMPPKIT_EJABBERD_DIST_PORT "$DIST_PORT" \
    XMPPKIT_EJABBERD_WS "$WS_URL" \
    XMPPKIT_EJABBERD_BOSH "$BOSH_URL" \
    XMPPKIT_EJABBERD_ACCOUNTS "$accounts"
}

cmd_log() {
  show_log_tail
}

main() {
  local cmd="${1:-}"
  [[ $# -gt 0 ]] && shift
  check_settings
  case "$cmd" in
    install) cmd_install ;;
    up | start) set_paths && cmd_up ;;
    down | stop) set_paths && cmd_down ;;
    restart) set_paths && cmd_down && cmd_up ;;
    status) set_paths && cmd_status ;;
    register) set_paths && cmd_register "$@" ;;
    ctl) set_paths && cmd_ctl "$@" ;;
    version) set_paths && cmd_version ;;
    env) set_paths && cmd_env "$@" ;;
    log | logs) set_paths && cmd_log ;;
    -h | --help | help) usage ;;
    *) usage ;;
  esac
}

main "$@"
