# Helpers shared by scripts/prosody.sh and scripts/ejabberd.sh (sourced, not run).
# They read the caller's HOST, HTTP_PORT, WS_HTTP_URL, STOP_TIMEOUT and PID_FILE, and its log().

# tcp_open PORT: true when HOST:PORT accepts a TCP connection
tcp_open() {
  timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$HOST" "$1" 2>/dev/null
}

# ws_answers: true when the WebSocket endpoint answers plain HTTP with 200
ws_answers() {
  if command -v node >/dev/null 2>&1; then
    node -e '
      const url = process.argv[1];
      fetch(url, { signal: AbortSignal.timeout(3000) })
        .then((res) => process.exit(res.status === 200 ? 0 : 1), () => process.exit(1));
    ' "$WS_HTTP_URL" 2>/dev/null
  elif command -v curl >/dev/null 2>&1; then
    curl -fsS -o /dev/null --max-time 3 "$WS_HTTP_URL" 2>/dev/null
  else
    timeout 3 bash -c '
      exec 3<>"/dev/tcp/$0/$1" || exit 1
      printf "GET /xmpp-websocket HTTP/1.0\r\nHost: %s:%s\r\n\r\n" "$0" "$1" >&3
      IFS= read -r status <&3 && [[ "$status" == HTTP/1.?" 200"* ]]
    ' "$HOST" "$HTTP_PORT" 2>/dev/null
  fi
}

# alive PID: true when PID runs and is not a zombie
alive() {
  kill -0 "$1" 2>/dev/null || return 1
  local state
  state="$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null || true)"
  [[ "$state" != Z ]]
}

# stop_pid PID: SIGTERM, wait up to STOP_TIMEOUT seconds, then SIGKILL; removes PID_FILE
stop_pid() {
  local pid="$1" waited=0
  kill -TERM "$pid" 2>/dev/null || true
  while alive "$pid"; do
    if ((waited >= STOP_TIMEOUT * 10)); then
      log "pid $pid still alive after ${STOP_TIMEOUT}s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.2
      break
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  rm -f "$PID_FILE"
}

# json_escape STRING: a JSON string literal
json_escape() {
  local s="$1"
  s="${s//\\/\\\\}"
  s="${s//\"/\\\"}"
  printf '"%s"' "$s"
}
