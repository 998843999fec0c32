"""What one conversation costs each process, for the capacity arithmetic of docs/DEPLOY.md.

    .venv/bin/python scripts/bench_capacity.py --conversations 10

Starts a private stack on free loopback ports (one Rasa process, the action server; tests/stack.py), plays whole
wage claims through the web app's door one after another (tests/walk.py), and reads from /proc the CPU seconds
(user + system) each process spent and its resident memory. CPU seconds, unlike wall time, barely depend on what
else the machine is doing, so the figure holds on a busy machine too. Prints a Markdown table.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from proc_stats import cpu_s, rss_mb  # noqa: E402  (scripts/, beside this file)

from tests.stack import Cluster, running_cluster  # noqa: E402


async def play(cluster: Cluster, n: int) -> int:
    from bot import held_turns
    from bot.rasa_client import rasa_sender
    from hotline.settings import get_settings
    from tests.walk import OPENING, Walk

    os.environ.update({"RASA_URLS": ",".join(cluster.stack.rasa_urls), "HOTLINE_RASA_TOKEN": cluster.rasa_token,
                       "HOTLINE_ACTIONS_URL": cluster.stack.actions_url, "HOTLINE_RASA_TIMEOUT": "120"})
    get_settings.cache_clear()
    held_turns.reset_memory()
    turns = 0
    for i in range(n):
        w = Walk(cluster.stack, f"capacity-{i}", rasa_sender(f"capacity-{i}", "web"))
        await w.say(OPENING)
        await w.to_the_end()
        turns += 1 + len(w.asked)
    return turns


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        url = f"sqlite:///{tmp / 'capacity.db'}"
        os.environ.setdefault("HOTLINE_VAR_DIR", str(tmp / "var"))
        env = {**os.environ, "HOTLINE_DATABASE_URL": url}
        hotline = str(ROOT / ".venv" / "bin" / "hotline")
        subprocess.run([hotline, "db", "upgrade"], env=env, check=True, capture_output=True)
        subprocess.run([hotline, "directory", "import", str(ROOT / "data" / "directory_sample.csv")], env=env,
                       check=True, capture_output=True)
        os.environ["HOTLINE_DATABASE_URL"] = url
        with running_cluster(tmp, url, rasa_processes=1) as cluster:
            assert cluster.actions is not None and cluster.rasa[0] is not None
            procs = {"Rasa": cluster.rasa[0].pid, "action server": cluster.actions.pid}
            loaded = {name: rss_mb(pid) for name, pid in procs.items()}
            before = {name: cpu_s(pid) for name, pid in procs.items()}
            me_before = os.times()
            turns = asyncio.run(play(cluster, args.conversations))
            me_after = os.times()
            spent = {name: cpu_s(pid) - before[name] for name, pid in procs.items()}
            spent["door (web app's client side)"] = (me_after.user + me_after.system) - (me_before.user + me_before.system)
            after = {name: rss_mb(pid) for name, pid in procs.items()}
    n = args.conversations
    print(f"{n} wage claims played one after another, {turns} turns ({turns / n:.1f} per conversation)\n")
    print("| process | CPU s per conversation | CPU ms per turn | RSS loaded / after, MB |")
    print("|---|---|---|---|")
    for name, s in spent.items():
        rss = f"{loaded[name]:.0f} / {after[name]:.0f}" if name in loaded else "–"
        print(f"| {name} | {s / n:.3f} | {1000 * s / turns:.1f} | {rss} |")
    total = sum(spent.values())
    print(f"| all | {total / n:.3f} | {1000 * total / turns:.1f} | |")
    print(f"\nOne core serves about {3600 / (total / n):,.0f} such conversations an hour "
          f"({turns / total:.1f} turns a second) at full load.")


if __name__ == "__main__":
    main()
