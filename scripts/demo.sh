#!/usr/bin/env bash
# The main job: starts the local AWS emulator, creates the table from infra/template.yaml and
# serves every HTTP route of autolearn on 127.0.0.1, printing the URL. Ctrl-C stops it all.
#   scripts/demo.sh          run until Ctrl-C
#   scripts/demo.sh --check  exit once the health route answered (used by `make test`)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
check_only=false
[[ "${1:-}" == "--check" ]] && check_only=true

cargo build --quiet --bin autolearn
export AUTOLEARN_BIN="${CARGO_TARGET_DIR:-$root/target}/debug/autolearn"
exec scripts/with-moto.sh bash -c '
  set -euo pipefail
  out="$(mktemp)"
  "$AUTOLEARN_BIN" --table autolearn serve --port 0 --create-resources >"$out" &
  serve_pid=$!
  trap "kill $serve_pid 2>/dev/null || true; rm -f $out" EXIT
  url=""
  for _ in $(seq 1 100); do
    url="$(sed -n "s/^autolearn serving on //p" "$out")"
    [[ -n "$url" ]] && break
    kill -0 "$serve_pid" 2>/dev/null || { echo "autolearn serve exited early" >&2; exit 1; }
    sleep 0.1
  done
  [[ -n "$url" ]] || { echo "autolearn serve printed no URL" >&2; exit 1; }
  health="$(curl -fsS "$url/health")"
  echo "autolearn is serving on $url (AWS emulator on $AWS_ENDPOINT_URL)"
  echo "GET $url/health -> $health"
  if [[ "'"$check_only"'" == true ]]; then
    exit 0
  fi
  echo "Press Ctrl-C to stop."
  wait "$serve_pid"
'
