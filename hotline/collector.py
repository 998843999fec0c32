"""The garbage collector of the long-running processes (the web app, the action server; Rasa's own is in
rasa_runtime/hotline_rasa/speedups.py, frozen_model_objects, with the same thresholds).

Once a process has started, what starting it made (~250,000-310,000 objects: the modules, the flow spec, the law
data) lives as long as the process: it is moved out of the collector's sight (gc.freeze), so a full collection does
not walk it again (85 ms in the web app with every turn waiting, issue 28). The thresholds are then raised: with the
startup objects frozen, CPython's default (700, 10, 10) still ran full collections of 15-65 ms in the middle of a
crowd (1-3 per Rasa process in an 11 s load, gen0 pauses of 13-19 ms in the web app; scripts/bench_load.py with a
gc.callbacks probe); at (10,000, 20, 100) none ran during the load and a Rasa process spent 28 ms in young
collections over its life instead of 122. Objects freed by reference counting, nearly all of a turn's, are not
affected; only reference cycles wait a little longer.
"""
from __future__ import annotations

import gc

THRESHOLDS = (10_000, 20, 100)

_settled = False


def settle() -> None:
    """Freeze what exists now and raise the thresholds, once per process (a second app in a test's process freezes
    nothing more)."""
    global _settled
    if _settled:
        return
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
    _settled = True
