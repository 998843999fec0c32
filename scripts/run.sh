#!/usr/bin/env bash
# Start the whole assistant locally: Rasa (5005), the action server (5055), the web app (8000) and, when
# TELEGRAM_BOT_TOKEN is set, the Telegram bridge. Ctrl-C (or any of them dying) stops every process it started.
set -uo pipefail
cd "$(dirname "$0")/.."
export RASA_TELEMETRY_ENABLED=false SQLALCHEMY_SILENCE_UBER_WARNING=1 TF_CPP_MIN_LOG_LEVEL=2
mkdir -p var
started=$(date +%s.%N)

.venv/bin/hotline db upgrade >/dev/null || exit 1
.venv/bin/hotline directory import data/directory_sample.csv || exit 1

pids=()
start() {  # start NAME CMD...: each service in its own process group so Ctrl-C reaches its children too
  local name=$1; shift
  setsid "$@" >"var/$name.log" 2>&1 &
  pids+=($!)
  echo "  started $name (pid $!, log var/$name.log)"
}
stop() {
  trap - INT TERM EXIT HUP
  # Kill first, talk after: with `make run | tee`, Ctrl-C closes our stdout before we get here.
  for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null; done
  sleep 1
  for pid in "${pids[@]}"; do kill -KILL -- "-$pid" 2>/dev/null; done
  wait 2>/dev/null
  echo "all stopped." 2>/dev/null
}
trap '' PIPE
trap stop INT TERM EXIT HUP

start actions .venv/bin/python -m rasa_sdk --actions actions -p 5055
start rasa .venv-rasa/bin/rasa run --enable-api --cors "http://localhost:8000" -p 5005 \
  -m models/current.tar.gz --endpoints endpoints.yml --credentials credentials.yml
start web .venv/bin/uvicorn bot.app:app --host 0.0.0.0 --port 8000
if [ -n "${TELEGRAM_BOT_TOKEN:-}" ]; then start telegram .venv/bin/python -m bot.telegram_bridge; fi

wait_for() {  # wait_for NAME URL
  for _ in $(seq 1 240); do
    curl -fsS -o /dev/null "$2" 2>/dev/null && return 0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null || { echo "a service died; see var/*.log"; exit 1; }; done
    sleep 0.5
  done
  echo "$1 did not answer at $2; see var/$1.log"; exit 1
}
wait_for actions http://localhost:5055/health
wait_for rasa http://localhost:5005/status
wait_for web http://localhost:8000/healthz
ready=$(python3 -c "import time; print(f'{time.time() - $started:.1f}')")
cat <<MSG

The 12348 assistant is up (ready in ${ready} s):
  web chat          http://localhost:8000/
  operator console  http://localhost:8000/console   (create a login: .venv/bin/hotline operators add NAME)
  Rasa HTTP API     http://localhost:5005   (REST channel: POST /webhooks/rest/webhook)
  action server     http://localhost:5055/webhook
Press Ctrl-C to stop everything.
MSG
while :; do
  for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null || { echo "a service stopped; see var/*.log"; exit 1; }; done
  sleep 2
done
