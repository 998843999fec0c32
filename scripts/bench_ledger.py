"""Benchmark `hotline ledger import`: time and peak memory for a generated ledger (a script, not a test).

    .venv/bin/python scripts/bench_ledger.py                      # 10,000 and 100,000 rows on SQLite
    .venv/bin/python scripts/bench_ledger.py --url postgresql+psycopg://hotline:hotline@127.0.0.1/bench

Each size runs in a fresh child process so its peak RSS (ru_maxrss) is its own; a flat memory profile shows as
nearly the same peak for 10x the rows. Target: 100,000 rows in under 10 s.
"""
from __future__ import annotations

import argparse
import csv
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from hotline.codes import CATEGORIES, SERVICE_OUTCOMES, SERVICES

COLUMNS = ("id", "date", "service", "category", "migrant_worker", "persons",
           "street", "community", "outcome", "amount", "summary")
STREETS = ("城中街道", "公园街道", "中南街道", "河东街道", "沿江街道", "潭中街道", "静兰街道")


def generate(path: Path, rows: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    services = list(SERVICES)
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f, lineterminator="\r\n")
        writer.writerow(COLUMNS)
        start = date(2022, 1, 1)
        for i in range(rows):
            service = rng.choice(services)
            labels = rng.random() < 0.5
            writer.writerow([
                f"B{i:07d}", (start + timedelta(days=rng.randrange(1096))).isoformat(),
                SERVICES[service] if labels else service,
                rng.choice(list(CATEGORIES.values()) if labels else list(CATEGORIES)),
                rng.choice(("是", "否") if labels else ("1", "0")),
                rng.choice(("", "1", "2", "5")), rng.choice(STREETS), "",
                rng.choice(SERVICE_OUTCOMES[service]), rng.choice(("", "3500", "12000.50")), "咨询追讨拖欠工资",
            ])


def child(url: str, path: Path) -> None:
    """Import once into `url` (tables created if missing) and print timings as JSON."""
    from sqlalchemy.orm import Session

    from hotline.ledger import import_ledger
    from hotline.store.db import make_engine
    from hotline.store.models import Base

    engine = make_engine(url)
    Base.metadata.create_all(engine)
    began, cpu_began = time.perf_counter(), time.process_time()
    with Session(engine) as session:
        result = import_ledger(session=session, path=path)
        session.commit()
    seconds, cpu = time.perf_counter() - began, time.process_time() - cpu_began
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"rows": result.read, "new": result.new, "seconds": round(seconds, 2), "cpu": round(cpu, 2),
                      "peak_rss_mb": round(peak_mb, 1)}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--url", help="database URL (default: a fresh SQLite file per size)")
    parser.add_argument("--child", nargs=2, metavar=("URL", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]))
        return
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.rows:
            ledger = Path(tmp) / f"ledger_{n}.csv"
            generate(ledger, n)
            url = args.url or f"sqlite:///{tmp}/bench_{n}.db"
            out = subprocess.run([sys.executable, __file__, "--child", url, str(ledger)],
                                 check=True, capture_output=True, text=True).stdout
            figures = json.loads(out)
            # CPU seconds are shown beside wall time: on a shared machine the wall time includes waiting.
            print(f"{n:>8,} rows: {figures['seconds']:>6.2f} s wall, {figures['cpu']:.2f} s CPU, "
                  f"peak RSS {figures['peak_rss_mb']:.1f} MB ({figures['new']:,} new)")


if __name__ == "__main__":
    main()
