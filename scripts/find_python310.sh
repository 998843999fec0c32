#!/usr/bin/env bash
# Print the path of a working Python 3.10 (Rasa 3.6 needs < 3.11), or explain how to get one.
set -euo pipefail
candidates=("${PYTHON310:-}" python3.10)
if command -v pyenv >/dev/null 2>&1; then
  for v in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.10(\.|$)' || true); do
    candidates+=("$(pyenv root)/versions/$v/bin/python3.10")
  done
fi
candidates+=(/usr/bin/python3.10 /usr/local/bin/python3.10 "$HOME"/.pyenv/versions/3.10*/bin/python3.10)
for c in "${candidates[@]}"; do
  [ -n "$c" ] || continue
  if out=$("$c" -c 'import sys, venv; assert sys.version_info[:2] == (3, 10); print(sys.executable)' 2>/dev/null); then
    echo "$out"; exit 0
  fi
done
cat >&2 <<'MSG'
No Python 3.10 found (Rasa 3.6 needs Python < 3.11). Install one, then run make again:
  pyenv install 3.10.13          # with pyenv
  apt-get install python3.10 python3.10-venv   # Debian/Ubuntu with 3.10 packages (deadsnakes PPA on Ubuntu)
  uv python install 3.10         # with uv
or point PYTHON310 at it: make run PYTHON310=/path/to/python3.10
MSG
exit 1
