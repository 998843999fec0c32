#!/usr/bin/env bash
# Start the whole assistant locally: HOTLINE_RASA_PROCESSES Rasa processes (default 2: 5005, 5006, ...) sharing one
# tracker store (var/rasa_tracker.db), HOTLINE_ACTIONS_PROCESSES action servers (default 2: 5055, 5056; Rasa fails
# over between them, rasa_runtime/hotline_rasa/resilience.py), the web app (8000) and, when TELEGRAM_BOT_TOKEN is set,
# the Telegram bridge. Rasa and the action servers listen on 127.0.0.1 only and want their secrets
# (scripts/local_env.sh). The web app sends each conversation to one Rasa process and fails over to the next when it
# is down (bot/rasa_client.py). scripts/supervise.py restarts what dies and backs off alone a service that keeps dying
# while the others keep serving (state in var/supervisor.json, shown on /healthz and /metrics); Ctrl-C stops every
# process it started. Other ports: HOTLINE_RASA_BASE_PORT, HOTLINE_ACTIONS_PORT, HOTLINE_WEB_PORT; other places:
# HOTLINE_VAR_DIR (logs, state, secrets).
set -uo pipefail
cd "$(dirname "$0")/.."
export RASA_TELEMETRY_ENABLED=false SQLALCHEMY_SILENCE_UBER_WARNING=1 TF_CPP_MIN_LOG_LEVEL=2
VAR=${HOTLINE_VAR_DIR:-var}
mkdir -p "$VAR"
started=$(date +%s.%N)

.venv/bin/hotline db upgrade >/dev/null || exit 1
.venv/bin/hotline directory import "${HOTLINE_ROSTER:-data/directory_sample.csv}" || exit 1

RASA_PROCESSES=${HOTLINE_RASA_PROCESSES:-2}
RASA_BASE_PORT=${HOTLINE_RASA_BASE_PORT:-5005}
ACTIONS_PROCESSES=${HOTLINE_ACTIONS_PROCESSES:-2}
ACTIONS_PORT=${HOTLINE_ACTIONS_PORT:-5055}
WEB_PORT=${HOTLINE_WEB_PORT:-8000}
actions_urls=()
for ((i = 0; i < ACTIONS_PROCESSES; i++)); do actions_urls+=("http://127.0.0.1:$((ACTIONS_PORT + i))/webhook"); done
export HOTLINE_ACTIONS_URL=${HOTLINE_ACTIONS_URL:-${actions_urls[0]}}
HOTLINE_ACTIONS_URLS=$(IFS=,; echo "${actions_urls[*]}")
export HOTLINE_ACTIONS_URLS
# shellcheck source=scripts/local_env.sh
source scripts/local_env.sh || exit 1
export ACTION_SERVER_SANIC_WORKERS=${ACTION_SERVER_SANIC_WORKERS:-1}
urls=()
for ((i = 0; i < RASA_PROCESSES; i++)); do urls+=("http://127.0.0.1:$((RASA_BASE_PORT + i))"); done
RASA_URLS=$(IFS=,; echo "${urls[*]}")
export RASA_URLS RASA_URL=${urls[0]}

units=()
unit() {  # unit NAME HEALTH_URL CMD...: one supervised service
  local name=$1 health=$2; shift 2
  units+=(--unit "$name" "$health" "$(printf '%q ' "$@")")
}
for ((i = 0; i < ACTIONS_PROCESSES; i++)); do
  unit "actions$i" "http://127.0.0.1:$((ACTIONS_PORT + i))/health" \
    .venv/bin/python -m actions.server -p $((ACTIONS_PORT + i))
done
for ((i = 0; i < RASA_PROCESSES; i++)); do
  unit "rasa$i" "${urls[$i]}/" .venv-rasa/bin/python -m hotline_rasa.serve --enable-api -i 127.0.0.1 \
    -p $((RASA_BASE_PORT + i)) -m models/current.tar.gz --endpoints endpoints.yml --credentials credentials.yml
done
unit web "http://127.0.0.1:$WEB_PORT/healthz" \
  .venv/bin/uvicorn bot.app:app --host "${HOTLINE_WEB_HOST:-0.0.0.0}" --port "$WEB_PORT"
if [ -n "${TELEGRAM_BOT_TOKEN:-}" ]; then unit telegram - .venv/bin/python -m bot.telegram_bridge; fi

export HOTLINE_SUPERVISOR_STATE="$VAR/supervisor.json"
rm -f "$HOTLINE_SUPERVISOR_STATE"
.venv/bin/python scripts/supervise.py --state "$HOTLINE_SUPERVISOR_STATE" --log "$VAR/supervisor.log" "${units[@]}" &
supervisor=$!
trap '' PIPE
trap 'kill -TERM $supervisor 2>/dev/null; wait $supervisor 2>/dev/null; echo "all stopped." 2>/dev/null' EXIT
trap 'exit 130' INT TERM HUP

# Ready when every unit answers its health check (the supervisor says so in its state file).
all_ready='import json, sys; units = json.load(open(sys.argv[1]))["units"]; sys.exit(not all(u["ready"] for u in units.values()))'
until .venv/bin/python -c "$all_ready" "$HOTLINE_SUPERVISOR_STATE" 2>/dev/null; do
  kill -0 $supervisor 2>/dev/null || { wait $supervisor; exit 1; }
  sleep 0.5
done
ready=$(python3 -c "import time; print(f'{time.time() - $started:.1f}')")
cat <<MSG

The 12348 assistant is up (ready in ${ready} s):
  web chat          http://localhost:$WEB_PORT/
  operator console  http://localhost:$WEB_PORT/console   (create a login: .venv/bin/hotline operators add NAME)
  Rasa HTTP API     ${RASA_URLS//,/ }   (127.0.0.1 only; every API call wants ?token=, from HOTLINE_RASA_TOKEN
                    or var/rasa_token; the REST channel POST /webhooks/rest/webhook does not. They share one tracker
                    store, so any of them shows any conversation: GET /conversations/ID/tracker?token=...)
  action servers    ${HOTLINE_ACTIONS_URLS//,/ }   (only Rasa: header X-Hotline-Actions-Token)
A process that dies is restarted; one that keeps dying is backed off alone ($VAR/supervisor.log, /healthz).
Press Ctrl-C to stop everything.
MSG
wait $supervisor
