"""Benchmark `annual_stats` on 1,000,000 consultation records in SQLite (a script, not a test).

    .venv/bin/python scripts/bench_stats.py                 # records spread over 2022-2024, stats for 2023
    .venv/bin/python scripts/bench_stats.py --one-year      # all records in 2023: the worst case

The records are generated inside SQLite by a recursive CTE (seconds, not minutes of Python), in the format
SQLAlchemy itself writes (DateTime as 'YYYY-MM-DD HH:MM:SS.ffffff'), in time order as a real log grows.
Target: stats under 2 s.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

from hotline.codes import CATEGORIES, SERVICE_OUTCOMES
from hotline.stats import annual_stats
from hotline.store.db import make_engine
from hotline.store.models import Base

STREETS = ("城中街道", "公园街道", "中南街道", "河东街道", "沿江街道", "潭中街道", "静兰街道")


def _case(expr: str, values: list[str]) -> str:
    whens = " ".join(f"WHEN {i} THEN '{v}'" for i, v in enumerate(values))
    return f"CASE {expr} % {len(values)} {whens} END"


def generate(engine_url: str, rows: int, first_year: int, years: int) -> None:
    services = list(SERVICE_OUTCOMES)
    outcome = "CASE s " + " ".join(
        f"WHEN {i} THEN {_case('x', list(SERVICE_OUTCOMES[svc]))}" for i, svc in enumerate(services)
    ) + " END"
    seconds = years * 365 * 86400
    sql = f"""
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rows}),
        r AS (SELECT i, abs(random()) % {len(services)} AS s, abs(random()) AS x FROM n)
        INSERT INTO consultations (occurred_at, service, channel, category, migrant_worker, persons, street,
                                   outcome, source_id, purged)
        SELECT strftime('%Y-%m-%d %H:%M:%S', '{first_year}-01-01', '+' || (x % {seconds}) || ' seconds') || '.000000',
               {_case('s', services)}, 'import', {_case('(x / 7)', list(CATEGORIES))},
               (x / 11) % 3 = 0, 1 + (x / 13) % 4, {_case('(x / 17)', list(STREETS))},
               {outcome}, 'bench:' || i, 0
        FROM r
        ORDER BY 1  -- a log grows in time order, so rows of one year sit together as they do in production
    """
    engine = make_engine(engine_url)
    Base.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(text(sql))
        conn.execute(text("ANALYZE"))
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--one-year", action="store_true", help="put every record in 2023")
    parser.add_argument("--db", type=Path, help="SQLite file to (re)use; default a temporary one")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or Path(tmp) / "bench_stats.db"
        url = f"sqlite:///{db}"
        if not db.exists() or db.stat().st_size < 4096:
            began = time.perf_counter()
            generate(url, args.rows, 2023 if args.one_year else 2022, 1 if args.one_year else 3)
            print(f"generated {args.rows:,} records in {time.perf_counter() - began:.1f} s")
        engine = make_engine(url)
        with Session(engine) as session:
            for attempt in ("cold", "warm"):
                began, cpu_began = time.perf_counter(), time.process_time()
                stats = annual_stats(session=session, year=2023)
                # CPU time beside wall time: on a shared machine the wall time includes waiting for a core.
                print(f"annual_stats(2023) {attempt}: {time.perf_counter() - began:.2f} s wall, "
                      f"{time.process_time() - cpu_began:.2f} s CPU over {stats['records_total']:,} records of 2023")
        engine.dispose()


if __name__ == "__main__":
    main()
