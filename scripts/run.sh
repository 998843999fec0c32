#!/usr/bin/env bash
# Start the whole assistant locally: HOTLINE_RASA_PROCESSES Rasa processes (default 2: 5005, 5006, ...) sharing one
# tracker store (var/rasa_tracker.db), the action server (5055, ACTION_SERVER_SANIC_WORKERS worker processes), the
# web app (8000) and, when TELEGRAM_BOT_TOKEN is set, the Telegram bridge. Rasa and the action server listen on
# 127.0.0.1 only and want their secrets (scripts/local_env.sh). The web app sends each conversation to one Rasa
# process and fails over to the next when it is down (bot/rasa_client.py). A process that dies is restarted while
# the others keep serving; Ctrl-C stops every process it started. Other ports: HOTLINE_RASA_BASE_PORT,
# HOTLINE_ACTIONS_PORT, HOTLINE_WEB_PORT.
set -uo pipefail
cd "$(dirname "$0")/.."
export RASA_TELEMETRY_ENABLED=false SQLALCHEMY_SILENCE_UBER_WARNING=1 TF_CPP_MIN_LOG_LEVEL=2
mkdir -p var
started=$(date +%s.%N)

.venv/bin/hotline db upgrade >/dev/null || exit 1
.venv/bin/hotline directory import "${HOTLINE_ROSTER:-data/directory_sample.csv}" || exit 1

RASA_PROCESSES=${HOTLINE_RASA_PROCESSES:-2}
RASA_BASE_PORT=${HOTLINE_RASA_BASE_PORT:-5005}
ACTIONS_PORT=${HOTLINE_ACTIONS_PORT:-5055}
WEB_PORT=${HOTLINE_WEB_PORT:-8000}
export HOTLINE_ACTIONS_URL=${HOTLINE_ACTIONS_URL:-http://127.0.0.1:$ACTIONS_PORT/webhook}
# shellcheck source=scripts/local_env.sh
source scripts/local_env.sh || exit 1
export ACTION_SERVER_SANIC_WORKERS=${ACTION_SERVER_SANIC_WORKERS:-1}
urls=()
for ((i = 0; i < RASA_PROCESSES; i++)); do urls+=("http://127.0.0.1:$((RASA_BASE_PORT + i))"); done
RASA_URLS=$(IFS=,; echo "${urls[*]}")
export RASA_URLS RASA_URL=${urls[0]}

declare -A CMD PID BORN FAST_DEATHS
names=()
launch() {  # launch NAME: (re)start a service in its own process group so stopping it reaches its children too
  local name=$1 mode=${2:->}
  # exec: the background subshell becomes the service, so its pid is the process group that stop() kills.
  if [ "$mode" = ">" ]; then eval "exec setsid ${CMD[$name]}" >"var/$name.log" 2>&1 &
  else eval "exec setsid ${CMD[$name]}" >>"var/$name.log" 2>&1 &
  fi
  PID[$name]=$!
  BORN[$name]=$(date +%s)
}
service() {  # service NAME CMD...
  local name=$1; shift
  CMD[$name]=$(printf '%q ' "$@")
  names+=("$name")
  FAST_DEATHS[$name]=0
  launch "$name"
  echo "  started $name (pid ${PID[$name]}, log var/$name.log)"
}
stop() {
  trap - INT TERM EXIT HUP
  # Kill first, talk after: with `make run | tee`, Ctrl-C closes our stdout before we get here.
  for name in "${names[@]}"; do kill -TERM -- "-${PID[$name]}" 2>/dev/null; done
  sleep 1
  for name in "${names[@]}"; do kill -KILL -- "-${PID[$name]}" 2>/dev/null; done
  wait 2>/dev/null
  echo "all stopped." 2>/dev/null
}
trap '' PIPE
trap stop EXIT
trap 'exit 130' INT TERM HUP  # exit runs stop (the EXIT trap) once; the supervisor loop must not go on

service actions .venv/bin/python -m actions.server -p "$ACTIONS_PORT"
for ((i = 0; i < RASA_PROCESSES; i++)); do
  service "rasa$i" .venv-rasa/bin/python scripts/rasa_serve.py --enable-api -i 127.0.0.1 -p $((RASA_BASE_PORT + i)) \
    -m models/current.tar.gz --endpoints endpoints.yml --credentials credentials.yml
done
service web .venv/bin/uvicorn bot.app:app --host "${HOTLINE_WEB_HOST:-0.0.0.0}" --port "$WEB_PORT"
if [ -n "${TELEGRAM_BOT_TOKEN:-}" ]; then service telegram .venv/bin/python -m bot.telegram_bridge; fi

wait_for() {  # wait_for NAME URL: while starting, any death is a configuration error: stop everything
  for _ in $(seq 1 480); do
    curl -fsS -o /dev/null "$2" 2>/dev/null && return 0
    for name in "${names[@]}"; do
      kill -0 "${PID[$name]}" 2>/dev/null || { echo "$name died while starting; see var/$name.log"; exit 1; }
    done
    sleep 0.5
  done
  echo "$1 did not answer at $2; see var/$1.log"; exit 1
}
wait_for actions "http://127.0.0.1:$ACTIONS_PORT/health"
for ((i = 0; i < RASA_PROCESSES; i++)); do wait_for "rasa$i" "${urls[$i]}/"; done
wait_for web "http://localhost:$WEB_PORT/healthz"
ready=$(python3 -c "import time; print(f'{time.time() - $started:.1f}')")
cat <<MSG

The 12348 assistant is up (ready in ${ready} s):
  web chat          http://localhost:$WEB_PORT/
  operator console  http://localhost:$WEB_PORT/console   (create a login: .venv/bin/hotline operators add NAME)
  Rasa HTTP API     ${RASA_URLS//,/ }   (127.0.0.1 only; every API call wants ?token=, from HOTLINE_RASA_TOKEN
                    or var/rasa_token; the REST channel POST /webhooks/rest/webhook does not. They share one tracker
                    store, so any of them shows any conversation: GET /conversations/ID/tracker?token=...)
  action server     http://127.0.0.1:$ACTIONS_PORT/webhook   (only Rasa: header X-Hotline-Actions-Token)
A process that dies is restarted (var/supervisor.log). Press Ctrl-C to stop everything.
MSG

# Supervision: restart what dies; a service that keeps dying within a minute of its start is a crash loop: give up.
while :; do
  for name in "${names[@]}"; do
    kill -0 "${PID[$name]}" 2>/dev/null && continue
    wait "${PID[$name]}" 2>/dev/null; status=$?
    now=$(date +%s)
    if (( now - BORN[$name] < 60 )); then FAST_DEATHS[$name]=$((FAST_DEATHS[$name] + 1)); else FAST_DEATHS[$name]=0; fi
    if (( FAST_DEATHS[$name] >= 5 )); then
      echo "$(date -u +%FT%TZ) $name died 5 times within a minute of starting; stopping. See var/$name.log" \
        | tee -a var/supervisor.log
      exit 1
    fi
    # The whole group goes, so no orphaned worker keeps the port.
    kill -KILL -- "-${PID[$name]}" 2>/dev/null
    launch "$name" ">>"
    echo "$(date -u +%FT%TZ) $name exited ($status); restarted as pid ${PID[$name]}" | tee -a var/supervisor.log
  done
  sleep 2
done
