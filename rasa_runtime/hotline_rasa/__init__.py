"""The assistant's Rasa runtime, installed into `.venv-rasa` only (it imports Rasa 3.6):

- `serve.py`  — `python -m hotline_rasa.serve`: `rasa run` with the API token from the environment (`make run`,
  tests/stack.py, deploy/Dockerfile.rasa);
- `train.py`  — `python -m hotline_rasa.train`: `rasa train` reading each training file once (`make train`);
- `tracker_store.py` — `KeptRowsSQLTrackerStore`, the SQL tracker store named in endpoints.yml;
- `resilience.py` — a turn applied once, custom actions retried across action servers (issue 27; always on);
- `speedups.py` — the patches of Rasa internals `serve` and `train` apply, each listing what it touches;
- `versions.py` — the Rasa versions the speed-ups were checked against; any other is refused;
- `settings.py` — the environment variables the runtime reads.
"""
