"""The consultation log's durable outbox: the database goes away, consultations are logged, it comes back, and
every consultation is in the log exactly once (hotline/outbox.py, actions/consultation_log.py)."""
from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from rasa_sdk import Tracker
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from actions.consultation_log import record_consultation
from hotline import outbox
from hotline.cli import main as cli
from hotline.store import db
from hotline.store.models import Base, Consultation
from tests.stack import free_port

A, B = "web:" + "a" * 64, "telegram:" + "b" * 64


def tracker(sender: str, *, count: int = 0, category: str | None = None, started: float = 1_700_000_000.0) -> Tracker:
    slots = {"consultation_count": float(count) if count else None, "consultation_category": category}
    return Tracker(sender, slots, {}, [{"event": "session_started", "timestamp": started}], False, None, {}, "")


def rows(url: str) -> list[Consultation]:
    engine = create_engine(url)
    try:
        with Session(engine) as s:
            return list(s.scalars(select(Consultation).order_by(Consultation.source_id)))
    finally:
        engine.dispose()


@pytest.fixture
def db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A SQLite database with every table, which HOTLINE_DATABASE_URL points at (made unavailable below)."""
    url = f"sqlite:///{tmp_path / 'log.db'}"
    eng = create_engine(url)
    Base.metadata.create_all(eng)
    eng.dispose()
    monkeypatch.setenv("HOTLINE_DATABASE_URL", url)
    from hotline.settings import get_settings

    get_settings.cache_clear()
    db.get_engine.cache_clear()
    return url


@pytest.fixture
def box(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> outbox.Outbox:
    path = tmp_path / "var" / "outbox.db"
    monkeypatch.setenv("HOTLINE_OUTBOX_PATH", str(path))
    monkeypatch.setenv("HOTLINE_OUTBOX_RETRY_S", "3600")  # the tests flush themselves; the thread only waits
    return outbox.Outbox(path)


@contextmanager
def sqlite_away(url: str) -> Iterator[None]:
    """The SQLite database unavailable: its file moved away and a directory in its place (root ignores chmod)."""
    path = Path(url.removeprefix("sqlite:///"))
    db.get_engine.cache_clear()
    aside = path.with_suffix(".away")
    path.rename(aside)
    path.mkdir()
    try:
        yield
    finally:
        path.rmdir()
        aside.rename(path)
        db.get_engine.cache_clear()


def log_three(senders: list[str]) -> list[list[Any]]:
    """A wage claim, its refinement by a later referral (same matter), and a second citizen's legal-aid question."""
    return [
        record_consultation(tracker(senders[0]), category="wage_arrears", outcome="answered", migrant_worker=True,
                            persons=3, amount=20000, street="中南街道", phone="139-7721-2345"),
        record_consultation(tracker(senders[0], count=1, category="wage_arrears"), category="wage_arrears",
                            outcome="referred", persons=5, referral="劳动监察"),
        record_consultation(tracker(senders[1]), category="labor_dispute", outcome="answered"),
    ]


def check_exactly_once(url: str) -> None:
    got = rows(url)
    assert len(got) == 2, [r.source_id for r in got]
    assert len({r.source_id for r in got}) == 2
    wage = next(r for r in got if r.category == "wage_arrears")
    assert (wage.outcome, wage.persons, wage.referral, int(wage.amount)) == ("referred", 5, "劳动监察", 20000)
    assert wage.phone == "13977212345" and wage.migrant_worker and wage.street == "中南街道"


def test_sqlite_down_then_back_every_consultation_once(db_url: str, box: outbox.Outbox) -> None:
    with sqlite_away(db_url):
        events = log_three([A, B])
        assert all(events), "the conversation goes on: the slots that remember the log are still set"
        assert box.depth() == 3
    assert rows(db_url) == []
    # The next consultation, once the database is back, writes what waited first, in order.
    record_consultation(tracker("web:" + "c" * 64), category="family_dispute", outcome="answered")
    assert box.depth() == 0
    got = rows(db_url)
    assert sorted(r.category for r in got) == ["family_dispute", "labor_dispute", "wage_arrears"]
    wage = next(r for r in got if r.category == "wage_arrears")
    assert (wage.outcome, wage.persons, wage.referral) == ("referred", 5, "劳动监察")


def test_flush_replayed_after_a_crash_adds_nothing(db_url: str, box: outbox.Outbox) -> None:
    """Written but not yet removed (a crash between the two): the replay changes nothing."""
    with sqlite_away(db_url):
        log_three([A, B])
    entries = [p.entry for p in box.items()]
    result = box.flush()
    assert (result.written, result.remaining, result.error) == (3, 0, None)
    for entry in entries:  # the same entries again, as after a crash before the delete
        outbox.write_consultation(entry)
    check_exactly_once(db_url)


def test_occurred_at_is_when_it_happened_not_when_written(db_url: str, box: outbox.Outbox) -> None:
    entry = outbox.consultation_entry(source_id="bot:x:1:1", refine=False, fields={
        "service": "online", "channel": "web", "category": "other", "outcome": "answered"})
    entry["occurred_at"] = "2026-11-30T23:30:00+00:00"
    with sqlite_away(db_url):
        assert outbox.deliver(entry) is False
    assert box.flush().written == 1
    assert rows(db_url)[0].occurred_at.isoformat() == "2026-11-30T23:30:00"


def test_invalid_entry_is_set_aside_not_lost_and_does_not_block(db_url: str,
                                                                box: outbox.Outbox) -> None:
    bad = outbox.consultation_entry(source_id="bot:bad:1:1", refine=False, fields={
        "service": "online", "channel": "web", "category": "telepathy", "outcome": "answered"})
    good = outbox.consultation_entry(source_id="bot:good:1:1", refine=False, fields={
        "service": "online", "channel": "web", "category": "other", "outcome": "answered"})
    box.put(bad)
    box.put(good)
    result = box.flush()
    assert (result.written, result.remaining, result.dead) == (1, 0, 1)
    assert [p.source_id for p in box.items(dead=True)] == ["bot:bad:1:1"]
    assert [r.source_id for r in rows(db_url)] == ["bot:good:1:1"]


def test_cli_outbox_status_and_flush(db_url: str, box: outbox.Outbox) -> None:
    runner = CliRunner()
    with sqlite_away(db_url):
        log_three([A, B])
        down = runner.invoke(cli, ["outbox", "flush"])
        assert down.exit_code == 1 and "3 consultations still waiting" in down.output, down.output
    status = runner.invoke(cli, ["outbox", "status"])
    assert status.exit_code == 0 and "3 consultations waiting" in status.output, status.output
    done = runner.invoke(cli, ["outbox", "flush"])
    assert done.exit_code == 0 and "Wrote 3 consultations; 0 waiting." in done.output, done.output
    check_exactly_once(db_url)


# --- a real PostgreSQL server, stopped and started again -----------------------------------------------------

PG_BIN = sorted(Path("/usr/lib/postgresql").glob("*/bin"))


@contextmanager
def private_postgres(tmp: Path) -> Iterator[tuple[str, Any]]:
    """A PostgreSQL server of our own on a free loopback port; yields (url, pg_ctl(action))."""
    if not PG_BIN:
        pytest.skip("PostgreSQL is not installed")
    bindir = PG_BIN[-1]
    # Not under pytest's tmp_path: its parents are private to root, and the server runs as another user.
    top = Path(tempfile.mkdtemp(prefix="hotline-pg-"))
    top.chmod(0o755)
    data = top / "pg"
    data.mkdir()
    run_as: list[str] = []
    if os.geteuid() == 0:  # initdb refuses root: run the server as the postgres user
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("no postgres user to run a server as")
        shutil.chown(data, "postgres")
        run_as = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    subprocess.run([*run_as, str(bindir / "initdb"), "-D", str(data), "-U", "hotline", "--auth=trust", "-E", "UTF8"],
                   check=True, capture_output=True)

    def pg_ctl(action: str) -> None:
        opts = f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run([*run_as, str(bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(data / "log"),
                        "-w", "-m", "fast", action], check=True, capture_output=True)

    pg_ctl("start")
    try:
        yield f"postgresql+psycopg://hotline@127.0.0.1:{port}/postgres", pg_ctl
    finally:
        subprocess.run([*run_as, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(top, ignore_errors=True)


@pytest.mark.postgres
def test_postgres_stopped_and_restarted_every_consultation_once(tmp_path: Path, box: outbox.Outbox,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    with private_postgres(tmp_path) as (url, pg_ctl):
        eng = create_engine(url)
        Base.metadata.create_all(eng)
        eng.dispose()
        monkeypatch.setenv("HOTLINE_DATABASE_URL", url)
        from hotline.settings import get_settings

        get_settings.cache_clear()
        db.get_engine.cache_clear()
        pg_ctl("stop")
        events = log_three([A, B])
        assert all(events)
        assert box.depth() == 3
        pg_ctl("start")
        result = box.flush()
        assert (result.written, result.remaining) == (3, 0)
        assert box.flush().written == 0  # a second flush (the background thread, another worker) adds nothing
        check_exactly_once(url)
        db.get_engine.cache_clear()


def test_background_thread_writes_once_the_database_is_back(db_url: str, box: outbox.Outbox,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """No further consultation and no operator needed: the process that queued them retries by itself."""
    import time

    monkeypatch.setenv("HOTLINE_OUTBOX_RETRY_S", "0.1")
    with sqlite_away(db_url):
        log_three([A, B])
        assert box.depth() == 3
    deadline = time.monotonic() + 30  # a bound on waiting for the thread, not a speed requirement
    while box.depth() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert box.depth() == 0
    check_exactly_once(db_url)
