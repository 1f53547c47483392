#!/usr/bin/env bash
# The main job: starts the local AWS emulator, creates the table from infra/template.yaml and
# serves every HTTP route of autolearn on 127.0.0.1; then the demo simulator (demo/) drives a
# synthetic property-management CRM through the HTTP API week by week, runs the real weekly
# batch after each week and reviews its proposals, printing a week-by-week table and writing the
# emails and dashboards under target/demo/. Ctrl-C stops it all.
#   scripts/demo.sh          the full demo (4 weeks × 250 messages), then serve until Ctrl-C
#   scripts/demo.sh --check  a small run to completion; exits non-zero unless the loop closed
#                            (used by `make demo-ci`, part of `make test`)
#   scripts/demo.sh [--check] [-- demo options]  e.g. -- --seed 3 --weeks 6 (autolearn-demo --help)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
check_only=false
if [[ "${1:-}" == "--check" ]]; then
  check_only=true
  shift
fi
[[ "${1:-}" == "--" ]] && shift

cargo build --quiet --bins
bin_dir="${CARGO_TARGET_DIR:-$root/target}/debug"
export AUTOLEARN_BIN="$bin_dir/autolearn" DEMO_BIN="$bin_dir/autolearn-demo" CHECK_ONLY="$check_only"
# Local-only credentials of the local runner (never used in AWS).
export DEMO_WEBHOOK_SECRET="${WEBHOOK_SECRET:-autolearn-local-webhook-secret}"
export DEMO_ADMIN_TOKEN="${LOCAL_ADMIN_TOKEN:-autolearn-local-admin}"
export DEMO_SENDER="${SENDER_EMAIL:-autolearn@example.com}"
export DEMO_OUT="$root/target/demo"
mkdir -p "$DEMO_OUT"
rm -f "$DEMO_OUT"/week-*-email.html "$DEMO_OUT"/week-*-email.txt "$DEMO_OUT"/week-*-dashboard.json \
  "$DEMO_OUT"/summary.json "$DEMO_OUT"/dashboard.html

exec scripts/with-moto.sh bash -c '
  set -euo pipefail
  out="$(mktemp)"
  serve_pid=""
  cleanup() {
    if [[ -n "$serve_pid" ]]; then
      kill "$serve_pid" 2>/dev/null || true
      wait "$serve_pid" 2>/dev/null || true
    fi
    rm -f "$out"
  }
  trap cleanup EXIT
  trap "exit 130" INT TERM
  # The simulation replays weeks of history: the 30-day date window of the webhooks is widened.
  "$AUTOLEARN_BIN" --table autolearn --webhook-secret "$DEMO_WEBHOOK_SECRET" \
    --admin-token "$DEMO_ADMIN_TOKEN" --sender "$DEMO_SENDER" \
    --max-date-age-days 3650 \
    serve --port 0 --create-resources >"$out" &
  serve_pid=$!
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

  demo_args=(--url "$url" --admin-token "$DEMO_ADMIN_TOKEN" --webhook-secret "$DEMO_WEBHOOK_SECRET"
    --sender "$DEMO_SENDER" --autolearn-bin "$AUTOLEARN_BIN" --table autolearn --out "$DEMO_OUT" "$@")
  if [[ "$CHECK_ONLY" == true ]]; then
    "$DEMO_BIN" "${demo_args[@]}" --ci
    exit $?
  fi
  "$DEMO_BIN" "${demo_args[@]}"
  curl -fsS -H "Authorization: Bearer $DEMO_ADMIN_TOKEN" "$url/admin/ai/learning?days=90" \
    -o "$DEMO_OUT/dashboard.html" || true
  echo
  echo "The learning dashboard: $url/admin/ai/learning?days=90"
  echo "  (open it in a browser: it signs you in as the local admin through the local OpenID"
  echo "   Connect issuer the runner serves at $url/local-oidc, then shows the page;"
  echo "   scripts use the header Authorization: Bearer $DEMO_ADMIN_TOKEN, e.g."
  echo "   curl -H \"Authorization: Bearer $DEMO_ADMIN_TOKEN\" \"$url/v1/learning/dashboard?days=90\""
  echo "   and $DEMO_OUT/dashboard.html is a snapshot of the page)"
  echo "autolearn keeps serving; press Ctrl-C to stop."
  wait "$serve_pid"
' demo "$@"
