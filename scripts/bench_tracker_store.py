"""CPU per save and per read of the tracker store Rasa is served with (endpoints.yml's KeptRowsSQLTrackerStore), on a
file SQLite database, the way a wage claim grows its tracker: 7 events a turn, 16 turns, each turn read then saved.

    .venv-rasa/bin/python scripts/bench_tracker_store.py [--conversations 200]

Run it on two checkouts (or with HOTLINE_RASA_SPEEDUPS=0 for Rasa's own store) to compare. CPU time, not wall time:
the host's other work and the disk's waits are left out (issue 28).
"""
from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import warnings

warnings.filterwarnings("ignore")

from rasa.shared.core import events as ev  # noqa: E402
from rasa.shared.core.domain import Domain  # noqa: E402

from hotline_rasa import speedups  # noqa: E402
from hotline_rasa.settings import RuntimeSettings  # noqa: E402
from hotline_rasa.tracker_store import KeptRowsSQLTrackerStore  # noqa: E402


def turn_events(turn: int) -> list[ev.Event]:
    """One form turn's events, as Rasa adds them: the answer, its slot set twice, the next question."""
    return [ev.UserUttered("三万五", {"name": "inform", "confidence": 0.91},
                           [{"entity": "amount", "value": 35000, "start": 0, "end": 3}]),
            ev.SlotSet("amount", 35000.0), ev.ActionExecuted("wage_claim_form"), ev.SlotSet("amount", 35000.0),
            ev.SlotSet("requested_slot", f"slot_{turn}"),
            ev.BotUttered("请问", {"buttons": [{"title": "就我自己", "payload": "/inform"}]}),
            ev.ActionExecuted("action_listen")]


async def measure(store: KeptRowsSQLTrackerStore, conversations: int, turns: int) -> tuple[float, float]:
    """Mean CPU ms of a read (`get_or_create_tracker`) and of a save, over every turn of every conversation."""
    read = save = 0.0
    for c in range(conversations):
        sender = f"web:bench{c}"
        for turn in range(turns):
            t0 = time.process_time()
            tracker = await store.get_or_create_tracker(sender, append_action_listen=False)
            t1 = time.process_time()
            for event in turn_events(turn):
                tracker.update(event)
            t2 = time.process_time()
            await store.save(tracker)
            t3 = time.process_time()
            read += t1 - t0
            save += t3 - t2
    n = conversations * turns
    return 1000 * read / n, 1000 * save / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=200)
    parser.add_argument("--turns", type=int, default=16)
    args = parser.parse_args()
    if RuntimeSettings.from_env().speedups:
        speedups.apply()
    store = KeptRowsSQLTrackerStore(Domain.load("domain"), dialect="sqlite", db=f"{tempfile.mkdtemp()}/tracker.db")
    read, save = asyncio.run(measure(store, args.conversations, args.turns))
    print(f"{args.conversations} conversations x {args.turns} turns ({7 * args.turns} events at the end), "
          f"keeps rows: {store.keeps_rows}: read {read:.3f} ms CPU, save {save:.3f} ms CPU")


if __name__ == "__main__":
    main()
