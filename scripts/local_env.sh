# shellcheck shell=bash
# The local profile's environment, sourced from the project root by scripts/run.sh and the Makefile's Rasa lines:
# the secrets of the closed doors (generated once into var/ by hotline.settings, so the web app, Rasa and the action
# server agree) and everything endpoints.yml reads. What the environment already sets wins: production sets it all
# (docs/DEPLOY.md).
mkdir -p var
if [ -z "${HOTLINE_RASA_TOKEN:-}" ] || [ -z "${HOTLINE_ACTIONS_TOKEN:-}" ]; then
  eval "$(.venv/bin/python -c 'from hotline.settings import get_settings as g; s = g()
print(f"export HOTLINE_RASA_TOKEN={s.rasa_token} HOTLINE_ACTIONS_TOKEN={s.actions_token}")')"
fi
export HOTLINE_ACTIONS_URL="${HOTLINE_ACTIONS_URL:-http://127.0.0.1:5055/webhook}"
export HOTLINE_TRACKER_STORE_URL="${HOTLINE_TRACKER_STORE_URL:-sqlite:///$PWD/var/rasa_tracker.db}"
export HOTLINE_LOCK_STORE="${HOTLINE_LOCK_STORE:-in_memory}"
export HOTLINE_REDIS_HOST="${HOTLINE_REDIS_HOST:-127.0.0.1}"
export HOTLINE_REDIS_PORT="${HOTLINE_REDIS_PORT:-6379}"
export HOTLINE_REDIS_DB="${HOTLINE_REDIS_DB:-1}"
export HOTLINE_REDIS_PASSWORD="${HOTLINE_REDIS_PASSWORD:-}"
