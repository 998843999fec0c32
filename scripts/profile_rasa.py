"""Where a turn spends its time: py-spy on the running stack while citizens talk to it (issues 13 and 28).

    /tmp/speed-tools/bin/pip install py-spy==0.4.3    # a scratch venv; py-spy is a binary, not a project package
    .venv/bin/python scripts/profile_rasa.py --targets rasa,web,actions --processes 2 --conversations 100 \
        --concurrency 32                              # the load of make bench; one run samples all three

Starts the same private stack as scripts/bench_load.py (free loopback ports), plays whole conversations through
the web app while py-spy samples each target process at once (the first Rasa process, the web app, the action
server), and writes the top of each profile — inclusive and self shares of the samples, by function, with the
CPU per turn of every part of the stack — to reports/profile_<target>_<label>.md (label `turn` by default). The raw
collapsed stacks go to var/profile_<target>_<label>.txt for a flame graph (`flamegraph.pl` or speedscope.app).
"""
from __future__ import annotations

import argparse
import asyncio
import collections
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import bench_load  # noqa: E402


def top(raw: Path, n: int, skip_idle: bool = True) -> tuple[int, list[tuple[str, int]], list[tuple[str, int]]]:
    """Inclusive and self sample counts per function from py-spy's collapsed stacks."""
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = [f.split(" (")[0] + " (" + f.split(" (")[1].split(":")[0].split("site-packages/")[-1] + ")"
                  if " (" in f else f for f in stack.split(";")]
        leaf = frames[-1]
        # Waiting, not working: the event loop's select (uvicorn's loop shows as asyncio's `run`) and idle
        # thread-pool workers blocked on their queue.
        if skip_idle and any(k in leaf for k in ("select (selectors", "epoll", "_run_once (asyncio", "poll (",
                                                 "run (asyncio/runners.py)", "_worker (concurrent/futures/thread.py)")):
            continue
        c = int(count)
        total += c
        own[leaf] += c
        for f in set(frames):
            inclusive[f] += c
    return total, inclusive.most_common(n), own.most_common(n)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label", default="turn")
    parser.add_argument("--model", default="models/current.tar.gz")
    parser.add_argument("--conversations", type=int, default=24)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--rate", type=int, default=100, help="py-spy samples per second")
    parser.add_argument("--targets", default="rasa",
                        help="comma list of the processes to sample at once: rasa (the first Rasa process), web, "
                             "actions")
    parser.add_argument("--processes", type=int, default=1, help="Rasa processes of the stack")
    parser.add_argument("--slot-source", default="words", choices=bench_load.SLOT_SOURCES)
    parser.add_argument("--py-spy", default="/tmp/speed-tools/bin/py-spy")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--gil", action="store_true",
                        help="only samples of a thread holding the GIL: Python CPU, without threads waiting on it")
    parser.add_argument("--rasa-env", action="append", default=[],
                        help="KEY=VALUE for the Rasa process, e.g. HOTLINE_RASA_SPEEDUPS=0 or PYTHONPATH=/tmp/js417")
    args = parser.parse_args()

    targets = args.targets.split(",")
    tmp = Path(tempfile.mkdtemp(prefix="profile_rasa_"))
    stack = bench_load.Stack("profile", bench_load.latest_model(args.model), tmp, args.processes,
                             rasa_env=dict(kv.split("=", 1) for kv in args.rasa_env))
    raws = {t: ROOT / "var" / f"profile_{t}_{args.label}.txt" for t in targets}
    (ROOT / "var").mkdir(exist_ok=True)
    try:
        stack.start(300)
        asyncio.run(bench_load.run_load(stack, 4, 4, 1, args.slot_source, 25, 120))  # warm-up
        pids = {"rasa": stack.rasa_procs[0].pid, "actions": stack.procs[0].pid, "web": stack.procs[-1].pid}
        spies = [subprocess.Popen([args.py_spy, "record", "--format", "raw", "-r", str(args.rate), "--nonblocking",
                                   *(["--gil"] if args.gil else []), "-p", str(pids[t]), "-o", str(raws[t])],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for t in targets]
        time.sleep(1)
        load = asyncio.run(bench_load.run_load(stack, args.conversations, args.concurrency, 12348, args.slot_source,
                                               25, 600))
        for spy in spies:
            spy.send_signal(2)  # SIGINT: py-spy writes its file and exits
        for spy in spies:
            spy.wait(timeout=60)
    finally:
        stack.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    turns = len(load.latencies_ms)
    cpu = ", ".join(f"{k} {v}" for k, v in load.cpu_ms_per_turn.items())
    for target in targets:
        total, incl, own = top(raws[target], args.top)
        who = {"rasa": "Rasa server (the first of its processes)", "actions": "action server",
               "web": "web app"}[target]
        lines = [f"# Profile: the {who} under load, by function", "",
                 (f"`{' '.join(sys.argv)}`, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: py-spy at "
                  f"{args.rate} Hz on the {who} while {args.conversations} conversations ({turns} turns, "
                  f"{args.concurrency} at once, {args.processes} Rasa process(es), citizens reading "
                  f"{args.slot_source}) went through the web app; {load.wall_s:.1f} s, "
                  f"{turns / load.wall_s:.1f} turns/s, p50 {bench_load.pct(load.latencies_ms, .5):.0f} ms, "
                  f"p95 {bench_load.pct(load.latencies_ms, .95):.0f} ms (py-spy sampling {len(targets)} processes "
                  f"costs CPU too: compare shares, not wall figures). {total} busy samples (idle threads and "
                  f"event-loop waits left out). CPU per turn by process tree, ms: {cpu}."), "",
                 "## Inclusive (the function and everything it called)", "", "| share | samples | function |",
                 "|---|---|---|"]
        lines += [f"| {100 * c / total:.1f}% | {c} | `{f}` |" for f, c in incl]
        lines += ["", "## Self (the leaf itself)", "", "| share | samples | function |", "|---|---|---|"]
        lines += [f"| {100 * c / total:.1f}% | {c} | `{f}` |" for f, c in own[:25]]
        out = ROOT / "reports" / f"profile_{target}_{args.label}.md"
        out.write_text("\n".join(lines) + "\n")
        print("\n".join(lines[:12 + 30]))


if __name__ == "__main__":
    main()
