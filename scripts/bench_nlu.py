"""NLU speed and memory: parse latency of the trained model in process, its size, and its load time.

    .venv-rasa/bin/python scripts/bench_nlu.py --model models/current.tar.gz   (part of make bench)

Goal (issue 2): parse p50 ≤ 10 ms on this machine; the whole model trains in ≤ 3 min (reports/train_time.txt).
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import os
import resource
import statistics
import time
from pathlib import Path

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parent.parent


async def bench(model: Path, texts: list[str], rounds: int) -> dict:
    from rasa.core.agent import Agent

    t0 = time.perf_counter()
    agent = Agent.load(str(model))
    load_s = time.perf_counter() - t0
    for text in texts[:20]:  # warm-up: first calls compile regexes and fill caches
        await agent.parse_message(text)
    times = []
    for _ in range(rounds):
        for text in texts:
            t = time.perf_counter()
            await agent.parse_message(text)
            times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return {"load_s": load_s, "n": len(times), "p50": statistics.median(times),
            "p95": times[int(0.95 * (len(times) - 1))], "max": times[-1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "current.tar.gz")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    from rasa.shared.nlu.training_data.loading import load_data
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)
    texts = [m.get("text") for p in sorted((ROOT / "tests" / "nlu").glob("*.yml"))
             for m in load_data(str(p)).intent_examples]
    r = asyncio.run(bench(args.model, texts, args.rounds))
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    train = (ROOT / "reports" / "train_time.txt")
    print(f"model {args.model.name}: {args.model.stat().st_size / 1e6:.1f} MB on disk, loads in {r['load_s']:.1f} s")
    print(f"parse ({r['n']} messages of tests/nlu, in process): p50 {r['p50']:.2f} ms, p95 {r['p95']:.2f} ms, "
          f"max {r['max']:.1f} ms (goal p50 <= 10 ms)")
    print(f"peak RSS of the process with the model loaded: {rss_mb:.0f} MB")
    if train.exists():
        print(f"last full training (make train): {train.read_text().strip()} (goal <= 180 s)")


if __name__ == "__main__":
    main()
