#!/usr/bin/env bash
# Debian's Chromium for the browser tests (never a browser download).
#   bash scripts/chromium.sh install   install the `chromium` package with apt-get when missing (as root)
#   bash scripts/chromium.sh path      print the executable
set -euo pipefail
bin="${XMPPKIT_CHROMIUM:-/usr/bin/chromium}"
case "${1:-path}" in
  install)
    if [[ -x "$bin" ]]; then echo "chromium: $("$bin" --version 2>/dev/null || echo present)"; exit 0; fi
    if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
      echo "chromium: $("$bin" --version)"
    else
      echo "Chromium is needed for the browser tests: install Debian's 'chromium' package (apt-get install chromium)," >&2
      echo "or point XMPPKIT_CHROMIUM at a Chromium executable." >&2
      exit 1
    fi
    ;;
  path) echo "$bin" ;;
  *) echo "usage: $0 install|path" >&2; exit 2 ;;
esac
