#!/usr/bin/env bash
# Installs Debian's headless-capable Chromium (`/usr/bin/chromium`), which the dashboard's browser
# test drives with --dump-dom. Idempotent: does nothing when chromium is already installed.
# Needs root (CI runs as root) or sudo; non-interactive.
set -euo pipefail
if [[ -x /usr/bin/chromium ]]; then
  exit 0
fi
if [[ "$(id -u)" -eq 0 ]]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  echo "install-chromium.sh: need root or sudo to apt-get install chromium" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
/usr/bin/chromium --version
