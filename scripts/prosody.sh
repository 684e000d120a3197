#!/usr/bin/env bash
# A private Prosody 0.12 for xmppkit's integration tests: loopback only, no TLS, no s2s.
#
#   bash scripts/prosody.sh install              install Prosody with apt-get if it is missing
#   bash scripts/prosody.sh up                   start it (idempotent) and create the test accounts
#   bash scripts/prosody.sh down                 stop the instance recorded in our pid file
#   bash scripts/prosody.sh restart              down, then up
#   bash scripts/prosody.sh status               0: running, 1: process alive but not answering, 3: stopped
#   bash scripts/prosody.sh register USER PASS   create an account on the test domain (or reset its password)
#   bash scripts/prosody.sh env [--json]         print `export` lines (or one JSON object) describing the instance
#   bash scripts/prosody.sh log                  print the end of the log
#
# Environment:
#   XMPPKIT_PROSODY_DIR        state directory (default <repo>/.prosody, git-ignored)
#   XMPPKIT_PROSODY_C2S_PORT   client port (default 15222)
#   XMPPKIT_PROSODY_HTTP_PORT  HTTP port for WebSocket and BOSH (default 15280)
#   XMPPKIT_PROSODY_LOG_LEVEL  debug | info | warn | error (default info)
#   XMPPKIT_PROSODY_TIMEOUT    seconds `up` waits for the server (default 20)
#   XMPPKIT_PROSODY_TCP_BACKLOG  listen backlog of its ports (default: Prosody's own, 128; the benchmark
#                              raises it so that 1000 clients connecting at once are not dropped)
#
# Nothing but the process in our own pid file is ever signalled.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=lib.sh
. "$REPO_ROOT/scripts/lib.sh"
TEMPLATE="$REPO_ROOT/scripts/prosody.cfg.lua.in"

STATE_DIR="${XMPPKIT_PROSODY_DIR:-$REPO_ROOT/.prosody}"
C2S_PORT="${XMPPKIT_PROSODY_C2S_PORT:-15222}"
HTTP_PORT="${XMPPKIT_PROSODY_HTTP_PORT:-15280}"
LOG_LEVEL="${XMPPKIT_PROSODY_LOG_LEVEL:-info}"
START_TIMEOUT="${XMPPKIT_PROSODY_TIMEOUT:-20}"
TCP_BACKLOG="${XMPPKIT_PROSODY_TCP_BACKLOG:-}"
STOP_TIMEOUT=10
HOST=127.0.0.1
DOMAIN=localhost

# user:password, kept in step with test/setup/prosody.ts.
ACCOUNTS=(
  alice:alice-secret
  bob:bob-secret
  carol:carol-secret
  bot:bot-secret
  user1:password1
  user2:password2
  user3:password3
  user4:password4
)

APT_PACKAGES=(prosody lua-event lua-dbi-sqlite3)

WS_URL="ws://$HOST:$HTTP_PORT/xmpp-websocket"
WS_HTTP_URL="http://$HOST:$HTTP_PORT/xmpp-websocket"
BOSH_URL="http://$HOST:$HTTP_PORT/http-bind"

log() { printf 'prosody.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//' >&2
  exit 2
}

check_settings() {
  local p
  for p in "$C2S_PORT" "$HTTP_PORT"; do
    [[ "$p" =~ ^[0-9]+$ ]] && ((p > 0 && p < 65536)) || die "invalid port '$p'"
  done
  [[ "$C2S_PORT" != "$HTTP_PORT" ]] || die "XMPPKIT_PROSODY_C2S_PORT and XMPPKIT_PROSODY_HTTP_PORT must differ"
  [[ "$START_TIMEOUT" =~ ^[0-9]+$ ]] || die "invalid XMPPKIT_PROSODY_TIMEOUT '$START_TIMEOUT'"
  [[ -z "$TCP_BACKLOG" || "$TCP_BACKLOG" =~ ^[1-9][0-9]*$ ]] || die "invalid XMPPKIT_PROSODY_TCP_BACKLOG '$TCP_BACKLOG'"
  case "$LOG_LEVEL" in debug | info | warn | error) ;; *) die "invalid XMPPKIT_PROSODY_LOG_LEVEL '$LOG_LEVEL'" ;; esac
}

# Paths inside the state directory (absolute, so the generated config does not depend on the cwd).
set_paths() {
  STATE_DIR="$(realpath -m -- "$STATE_DIR")"
  CONFIG="$STATE_DIR/prosody.cfg.lua"
  DATA_DIR="$STATE_DIR/data"
  CERTS_DIR="$STATE_DIR/certs"
  PID_FILE="$STATE_DIR/prosody.pid"
  LOG_FILE="$STATE_DIR/prosody.log"
  OUT_FILE="$STATE_DIR/prosody.out" # Prosody's own stdout/stderr (startup errors before logging starts)
  LOCK_FILE="$STATE_DIR/.lock"
}

# ---------------------------------------------------------------------------------------------
# install

have_prosody() { command -v prosody >/dev/null 2>&1 && command -v prosodyctl >/dev/null 2>&1; }

cmd_install() {
  if have_prosody; then
    return 0
  fi
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    log "Prosody is not installed; installing ${APT_PACKAGES[*]} with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    apt-get install -y --no-install-recommends "${APT_PACKAGES[@]}"
    have_prosody || die "apt-get finished but prosody/prosodyctl are still not on PATH"
    return 0
  fi
  cat >&2 <<EOF
prosody.sh: Prosody (prosody and prosodyctl) is not installed, and this script installs it only
when it runs as root on a machine with apt-get. Install it yourself, e.g. on Debian/Ubuntu:

    sudo apt-get update
    sudo apt-get install --no-install-recommends ${APT_PACKAGES[*]}

(Prosody 0.12 is what the tests are written against.) Only the binaries are needed: the system
service is never used and may stay stopped.
EOF
  exit 1
}

# ---------------------------------------------------------------------------------------------
# config

lua_escape() {
  local s="$1"
  s="${s//\\/\\\\}"
  s="${s//\"/\\\"}"
  printf '%s' "$s"
}

write_config() {
  [[ -f "$TEMPLATE" ]] || die "template $TEMPLATE not found"
  local run_as_root=false
  [[ "$(id -u)" == 0 ]] && run_as_root=true
  mkdir -p "$DATA_DIR" "$CERTS_DIR"
  chmod 700 "$DATA_DIR" 2>/dev/null || true

  local cfg
  cfg="$(<"$TEMPLATE")"
  cfg="${cfg//@RUN_AS_ROOT@/$run_as_root}"
  cfg="${cfg//@DATA_DIR@/$(lua_escape "$DATA_DIR")}"
  cfg="${cfg//@CERTS_DIR@/$(lua_escape "$CERTS_DIR")}"
  cfg="${cfg//@PID_FILE@/$(lua_escape "$PID_FILE")}"
  cfg="${cfg//@LOG_FILE@/$(lua_escape "$LOG_FILE")}"
  cfg="${cfg//@LOG_LEVEL@/$LOG_LEVEL}"
  cfg="${cfg//@C2S_PORT@/$C2S_PORT}"
  cfg="${cfg//@HTTP_PORT@/$HTTP_PORT}"
  cfg="${cfg//@DOMAIN@/$DOMAIN}"
  if [[ "$cfg" =~ @[A-Z_]+@ ]]; then
    die "unfilled placeholder ${BASH_REMATCH[0]} in $TEMPLATE"
  fi
  if [[ -n "$TCP_BACKLOG" ]]; then
    # A global option: it goes before the VirtualHost section. Read when the ports are opened (restart).
    local marker=$'\nVirtualHost "'
    [[ "$cfg" == *"$marker"* ]] || die "no VirtualHost line in $TEMPLATE"
    cfg="${cfg/"$marker"/$'\n'"network_settings = { tcp_backlog = $TCP_BACKLOG }"$'\n'"$marker"}"
  fi
  # Write atomically: a running instance may re-read the config (SIGHUP).
  printf '%s\n' "$cfg" >"$CONFIG.tmp"
  mv -f "$CONFIG.tmp" "$CONFIG"
}

# ---------------------------------------------------------------------------------------------
# probes

# True if something accepts TCP connections on 127.0.0.1:$1.
# True if $WS_HTTP_URL answers a plain GET with 200 (Prosody's "It works!" page for WebSocket).
# The pid in our pid file, if that process is alive and is a Prosody started with our config.
# (Checking the command line guards against a stale pid file whose pid was reused.)
our_pid() {
  [[ -f "$PID_FILE" ]] || return 1
  local pid
  pid="$(tr -dc '0-9' <"$PID_FILE" 2>/dev/null || true)"
  [[ -n "$pid" ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  if [[ -r "/proc/$pid/cmdline" ]]; then
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$CONFIG" || return 1
  fi
  printf '%s\n' "$pid"
}

server_ready() { ws_answers && tcp_open "$C2S_PORT"; }

show_log_tail() {
  local f
  for f in "$OUT_FILE" "$LOG_FILE"; do
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
    if ! flock -w 60 9; then
      die "could not lock $LOCK_FILE within 60 s (another prosody.sh running?)"
    fi
  fi
}

# ---------------------------------------------------------------------------------------------
# accounts

prosodyctl_q() {
  # prosodyctl prints a lua-unbound notice on every run; show its output only when it fails.
  local out
  if ! out="$(prosodyctl --config "$CONFIG" "$@" 2>&1 </dev/null)"; then
    printf '%s\n' "$out" >&2
    return 1
  fi
}

register_account() {
  local user="$1" pass="$2"
  prosodyctl_q register "$user" "$DOMAIN" "$pass" || die "prosodyctl register $user $DOMAIN failed"
}

register_accounts() {
  local entry
  for entry in "${ACCOUNTS[@]}"; do
    register_account "${entry%%:*}" "${entry#*:}"
  done
}

# ---------------------------------------------------------------------------------------------
# commands

cmd_up() {
  cmd_install
  take_lock
  write_config

  local pid
  if pid="$(our_pid)"; then
    if server_ready; then
      log "already running (pid $pid), ws $WS_URL, c2s $HOST:$C2S_PORT"
      register_accounts
      return 0
    fi
    log "pid $pid is alive but does not answer on $HOST:$HTTP_PORT / $HOST:$C2S_PORT; restarting it"
    stop_pid "$pid"
  fi

  local port
  for port in "$HTTP_PORT" "$C2S_PORT"; do
    if tcp_open "$port"; then
      die "port $HOST:$port is already in use by another process (not our Prosody in $STATE_DIR);" \
        "stop it or choose other ports with XMPPKIT_PROSODY_C2S_PORT / XMPPKIT_PROSODY_HTTP_PORT"
    fi
  done

  # Accounts are plain files: register before starting, so they exist the moment the port answers.
  register_accounts

  [[ -f "$LOG_FILE" ]] && mv -f "$LOG_FILE" "$LOG_FILE.1"
  rm -f "$PID_FILE"
  : >"$OUT_FILE"

  # -F: stay in the foreground (mod_posix would otherwise daemonize and change pid). setsid puts it
  # in its own session, so it outlives this shell and no terminal signal reaches it. The subshell is
  # not a process-group leader, so setsid execs in place and $! is Prosody's own pid.
  (
    cd "$STATE_DIR"
    exec 9>&- # the lock must not outlive this script
    exec setsid prosody --config "$CONFIG" -F </dev/null >>"$OUT_FILE" 2>&1
  ) &
  pid=$!
  printf '%s\n' "$pid" >"$PID_FILE" # Prosody rewrites it with the same pid once mod_posix loads.
  disown "$pid" 2>/dev/null || true

  local deadline=$((SECONDS + START_TIMEOUT))
  until server_ready; do
    if ! alive "$pid"; then
      log "Prosody (pid $pid) exited during startup"
      rm -f "$PID_FILE"
      show_log_tail
      exit 1
    fi
    if ((SECONDS >= deadline)); then
      log "Prosody (pid $pid) did not answer on $WS_HTTP_URL and $HOST:$C2S_PORT within ${START_TIMEOUT}s"
      show_log_tail
      stop_pid "$pid"
      exit 1
    fi
    sleep 0.2
  done
  log "started (pid $pid), ws $WS_URL, c2s $HOST:$C2S_PORT, domain $DOMAIN, log $LOG_FILE"
}

# Alive and not a zombie (a container's PID 1 may be slow to reap, or never reap, orphans).
cmd_down() {
  take_lock
  local pid
  if pid="$(our_pid)"; then
    stop_pid "$pid"
    log "stopped (pid $pid)"
  else
    rm -f "$PID_FILE"
    log "not running"
  fi
}

cmd_status() {
  local pid
  if pid="$(our_pid)"; then
    if server_ready; then
      echo "running: pid $pid, ws $WS_URL, bosh $BOSH_URL, c2s $HOST:$C2S_PORT, domain $DOMAIN"
      echo "config $CONFIG, log $LOG_FILE"
      return 0
    fi
    echo "pid $pid is alive but not answering on $WS_HTTP_URL / $HOST:$C2S_PORT (see $LOG_FILE)"
    return 1
  fi
  echo "stopped (state dir $STATE_DIR)"
  return 3
}

cmd_register() {
  [[ $# -eq 2 && -n "$1" && -n "$2" ]] || die "usage: prosody.sh register USER PASS"
  cmd_install
  write_config
  register_account "$1" "$2"
  log "registered $1@$DOMAIN"
}

cmd_env() {
  local accounts="" entry
  if [[ "${1:-}" == --json ]]; then
    # Read by test/setup/prosody.ts.
    for entry in "${ACCOUNTS[@]}"; do
      accounts+="${accounts:+, }$(json_escape "${entry%%:*}"): $(json_escape "${entry#*:}")"
    done
    printf '{"dir": %s, "config": %s, "domain": %s, "host": %s, "c2sPort": %s, "httpPort": %s, ' \
      "$(json_escape "$STATE_DIR")" "$(json_escape "$CONFIG")" "$(json_escape "$DOMAIN")" \
      "$(json_escape "$HOST")" "$C2S_PORT" "$HTTP_PORT"
    printf '"service": %s, "bosh": %s, "accounts": {%s}}\n' \
      "$(json_escape "$WS_URL")" "$(json_escape "$BOSH_URL")" "$accounts"
    return 0
  fi
  [[ $# -eq 0 ]] || die "usage: prosody.sh env [--json]"
  for entry in "${ACCOUNTS[@]}"; do accounts+="${accounts:+ }$entry"; done
  printf 'export %s=%q\n' \
    XMPPKIT_PROSODY_DIR "$STATE_DIR" \
    XMPPKIT_PROSODY_CONFIG "$CONFIG" \
    XMPPKIT_PROSODY_DOMAIN "$DOMAIN" \
    XMPPKIT_PROSODY_HOST "$HOST" \
    XMPPKIT_PROSODY_C2S_PORT "$C2S_PORT" \
    XMPPKIT_PROSODY_HTTP_PORT "$HTTP_PORT" \
    XMPPKIT_PROSODY_WS "$WS_URL" \
    XMPPKIT_PROSODY_BOSH "$BOSH_URL" \
    XMPPKIT_PROSODY_ACCOUNTS "$accounts"
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
    env) set_paths && cmd_env "$@" ;;
    log | logs) set_paths && cmd_log ;;
    -h | --help | help) usage ;;
    *) usage ;;
  esac
}

main "$@"
