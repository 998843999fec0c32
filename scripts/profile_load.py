"""What Rasa's warm start (model load) spends its time on (issue 13): imports, unpacking, each graph component.

    .venv-rasa/bin/python scripts/profile_load.py --model models/current.tar.gz --label load_before

Times `import rasa` and `import tensorflow` apart, then cProfiles `Agent.load` and writes the top of the profile
(cumulative) and the load time of each graph component (`load` of every node in the model's graph) to
reports/profile_<label>.md.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import logging
import os
import pstats
import sys
import time
from pathlib import Path

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "current.tar.gz")
    parser.add_argument("--label", default="load")
    parser.add_argument("--top", type=int, default=35)
    args = parser.parse_args()
    logging.disable(logging.WARNING)

    t0 = time.perf_counter()
    import rasa.core.agent  # noqa: F401  (what `rasa run` imports before it loads anything)
    t_rasa = time.perf_counter() - t0
    t0 = time.perf_counter()
    import tensorflow  # noqa: F401
    t_tf = time.perf_counter() - t0

    from rasa.core.agent import Agent
    from rasa.engine.graph import GraphNode

    node_times: dict[str, float] = {}
    original = GraphNode.__init__

    def timed_init(self, node_name, *a, **kw):  # type: ignore[no-untyped-def]
        t = time.perf_counter()
        original(self, node_name, *a, **kw)  # GraphNode.__init__ loads (or creates) the component
        node_times[node_name] = time.perf_counter() - t

    GraphNode.__init__ = timed_init  # type: ignore[method-assign]
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    Agent.load(str(args.model))
    prof.disable()
    t_load = time.perf_counter() - t0
    GraphNode.__init__ = original  # type: ignore[method-assign]

    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(args.top)
    lines = [f"# Model load profile `{args.label}`", "",
             f"`{' '.join(sys.argv)}` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}", "",
             (f"- `import rasa.core.agent`: {t_rasa:.1f} s; then `import tensorflow`: {t_tf:.1f} s (0 when rasa "
              "already imported it)"),
             f"- `Agent.load({args.model.name})`: {t_load:.1f} s", "",
             "| graph node | load s |", "|---|---|"]
    lines += [f"| {n} | {s:.2f} |" for n, s in sorted(node_times.items(), key=lambda kv: -kv[1]) if s >= 0.05]
    lines += ["", "cProfile of `Agent.load`, by cumulative time:", "", "```", buf.getvalue().strip()[:12000], "```", ""]
    out = ROOT / "reports" / f"profile_{args.label}.md"
    out.write_text("\n".join(lines))
    print("\n".join(lines[:40]))


if __name__ == "__main__":
    main()
