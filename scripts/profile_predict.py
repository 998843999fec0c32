"""What one dialogue prediction costs, mid-form, per model: `POST /conversations/{id}/predict` (issue 13).

    .venv/bin/python scripts/profile_predict.py models/speed/with_ted.tar.gz models/speed/no_ted.tar.gz

Starts each model alone (hotline_rasa.serve, no action server: /predict only predicts), puts a wage claim three
answers into its form on a conversation (`PUT /conversations/{id}/tracker/events`) and times `--n` predictions.
Core-only models (`rasa train core`) are fine: no text is parsed.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import bench_load  # noqa: E402


def mid_form_events() -> list[dict]:
    t = time.time() - 60
    events: list[dict] = [{"event": "action", "name": "action_session_start", "timestamp": t},
                          {"event": "session_started", "timestamp": t},
                          {"event": "action", "name": "action_listen", "timestamp": t}]
    events += [{"event": "user", "text": "/wage_arrears", "timestamp": t + 1,
                "parse_data": {"intent": {"name": "wage_arrears", "confidence": 1.0}, "entities": []}},
               {"event": "action", "name": "utter_wage_intro", "timestamp": t + 1},
               {"event": "action", "name": "wage_claim_form", "timestamp": t + 1},
               {"event": "active_loop", "name": "wage_claim_form", "timestamp": t + 1}]
    for i, (slot, value, nxt) in enumerate([("employer", "包工头老李", "amount"), ("amount", 35000, "people_count"),
                                            ("people_count", 12, "months_owed")]):
        events += [{"event": "slot", "name": "requested_slot", "value": slot, "timestamp": t + 2 + i},
                   {"event": "action", "name": "action_listen", "timestamp": t + 2 + i},
                   {"event": "user", "text": str(value), "timestamp": t + 2.5 + i,
                    "parse_data": {"intent": {"name": "inform", "confidence": 1.0}, "entities": []}},
                   {"event": "action", "name": "wage_claim_form", "timestamp": t + 2.6 + i},
                   {"event": "slot", "name": slot, "value": value, "timestamp": t + 2.6 + i},
                   {"event": "slot", "name": "requested_slot", "value": nxt, "timestamp": t + 2.6 + i}]
    events += [{"event": "action", "name": "action_listen", "timestamp": t + 9},
               {"event": "user", "text": "半年", "timestamp": t + 10,
                "parse_data": {"intent": {"name": "inform", "confidence": 1.0}, "entities": []}}]
    return events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+")
    parser.add_argument("--n", type=int, default=30)
    args = parser.parse_args()
    stacks = []
    try:
        for spec in args.models:
            tmp = Path(tempfile.mkdtemp(prefix="profile_predict_"))
            stack = bench_load.Stack(Path(spec).name, bench_load.latest_model(spec), tmp, 1)
            stack.db_url = f"sqlite:///{tmp / 'unused.db'}"
            stack.actions_url = "http://127.0.0.1:9/webhook"  # never called: /predict runs no action
            stack.rasa_urls = [f"http://127.0.0.1:{bench_load.free_port()}"]
            t0 = time.monotonic()
            stack.rasa_procs.append(stack.spawn("rasa0", [
                str(bench_load.RASA_BIN / "python"), "-m", "hotline_rasa.serve", "--enable-api",
                "-p", stack.rasa_urls[0].rsplit(":", 1)[1], "-m", str(stack.model),
                "--endpoints", str(ROOT / "endpoints.yml"), "--credentials", str(ROOT / "credentials.yml")]))
            stacks.append((stack, t0))
        for stack, t0 in stacks:
            stack._wait(f"{stack.rasa_urls[0]}/status?token={stack.token}", time.monotonic() + 600)
            stack.warm_start_s.append(time.monotonic() - t0)
        print("| model | warm start s | /predict mid-form p50 ms | min ms | predicted |")
        print("|---|---|---|---|---|")
        for stack, _ in stacks:
            base, params = stack.rasa_urls[0], {"token": stack.token}
            with httpx.Client(timeout=60, trust_env=False) as client:
                cid = "probe:mid-form"
                client.put(f"{base}/conversations/{cid}/tracker/events", params=params,
                           json=mid_form_events()).raise_for_status()
                times, best = [], ""
                for _ in range(args.n):
                    t = time.perf_counter()
                    r = client.post(f"{base}/conversations/{cid}/predict", params=params)
                    times.append((time.perf_counter() - t) * 1000)
                    r.raise_for_status()
                    best = max(r.json()["scores"], key=lambda s: s["score"])["action"]
            print(f"| {stack.model.relative_to(ROOT)} | {stack.warm_start_s[0]:.1f} | {statistics.median(times):.1f} | "
                  f"{min(times):.1f} | {best} |", flush=True)
    finally:
        for stack, _ in stacks:
            stack.stop()
            shutil.rmtree(stack.tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
