# Sourced by the scripts that run Python tools outside `make test` (eval-real, bench-edit-distance).
# pinned_venv DIR REQUIREMENTS: makes the venv DIR with the pinned REQUIREMENTS file installed,
# reinstalling only when that file changes (its hash is kept in DIR/.requirements.sha256).
pinned_venv() {
  local venv="$1" requirements="$2"
  local stamp="$venv/.requirements.sha256" want
  want="$(sha256sum "$requirements" | cut -d' ' -f1)"
  if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
    echo "$want" > "$stamp"
  fi
}
